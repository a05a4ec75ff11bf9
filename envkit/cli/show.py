"""``envkit show FILE``: what a declaration means, as a table or as JSON."""

from __future__ import annotations

import os

import click

from .. import load
from ..model import Dependency, Environment
from ..schema import environment_to_dict
from ._output import echo_json, table


@click.command(
    epilog="""\b
Examples:
  envkit show requirements.txt
  envkit show requirements-dev.txt --json | jq '.requirements[].name'
  envkit show requirements.txt --env    expand ${VAR} from the environment, as pip does
"""
)
@click.argument("file", type=click.Path(path_type=str))
@click.option("--from", "fmt", metavar="FORMAT", help="The file's format, when its name does not tell (requirements).")
@click.option("--json", "as_json", is_flag=True, help="Print the canonical model as JSON (schema in the README).")
@click.option("--show-secrets", is_flag=True, help="Show credentials in URLs instead of ***.")
@click.option("--env", "expand_env", is_flag=True, help="Expand ${VAR} references from the environment, as pip would.")
def show(file: str, fmt: str | None, as_json: bool, show_secrets: bool, expand_env: bool) -> None:
    """Read FILE (includes followed) and show every requirement, source and option.

    Warnings (what pip would silently ignore, a `python==3.9` line...) go to stderr.
    """
    env = load(file, fmt, environ=dict(os.environ) if expand_env else None)
    if as_json:
        echo_json(environment_to_dict(env, show_secrets=show_secrets, path=file))
    else:
        click.echo(render(env, file, show_secrets))
    for note in env.notes:
        click.echo(str(note), err=True)


def _where(dep: Dependency) -> str:
    if dep.origin is None:
        return ""
    return f"{os.path.basename(dep.origin.path)}:{dep.origin.line}"


def _source(dep: Dependency, show_secrets: bool) -> str:
    from ..model import redact_url

    parts = []
    if dep.editable:
        parts.append("editable")
    if dep.url:
        parts.append(dep.url if show_secrets else redact_url(dep.url))
    if dep.path:
        parts.append(dep.path)
    return " ".join(parts)


def _notes(dep: Dependency) -> str:
    parts = []
    if dep.constraint:
        parts.append("constraint")
    if dep.hashes:
        parts.append(f"{len(dep.hashes)} hash{'es' if len(dep.hashes) > 1 else ''}")
    parts.extend(f"-C {k}={v}" for k, v in dep.config_settings)
    parts.extend(f"--global-option {o}" for o in dep.global_options)
    return ", ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def render(env: Environment, path: str, show_secrets: bool = False) -> str:
    data = environment_to_dict(env, show_secrets=show_secrets, path=path)
    deps = env.requirements
    n_con = sum(d.constraint for d in deps)
    n_req = len(deps) - n_con
    head = [f"{path}  ({env.format}, {_count(n_req, 'requirement')}, {_count(n_con, 'constraint')})"]
    if env.python is not None:
        head.append(f"{'python:':<15}{env.python}")
    for source in data["sources"]:
        head.append(f"{source['kind'] + ':':<15}{source['url']}")
    opts = {k: v for k, v in data["options"].items() if v and k not in ("index_url", "extra_index_urls", "find_links")}
    for key, value in opts.items():
        shown = "yes" if value is True else ", ".join(value)
        head.append(f"{key.replace('_', '-') + ':':<15}{shown}")
    rows = [
        [
            str(i),
            d.key or "(from build)",
            str(d.specifier),
            ",".join(sorted(d.extras)),
            str(d.marker) if d.marker is not None else "",
            _source(d, show_secrets),
            _notes(d),
            _where(d),
        ]
        for i, d in enumerate(deps, 1)
    ]
    headers = ["#", "name", "version", "extras", "marker", "from", "notes", "line"]
    used = [i for i in range(len(headers)) if i < 2 or any(r[i] for r in rows)]
    shown_table = (
        table([headers[i] for i in used], [[r[i] for i in used] for r in rows]) if rows else "(no requirements)"
    )
    return "\n".join([*head, "", shown_table])
