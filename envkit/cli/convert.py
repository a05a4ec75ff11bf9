"""``envkit convert SRC --to FORMAT``: one declaration into another manager's file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import load
from ..convert import TARGETS, convert, write_file
from ..errors import EnvkitError
from ._options import target_options, target_options_for
from ._output import echo_json
from ._report import loss_table


@click.command(
    epilog="""\b
Examples:
  envkit convert requirements.txt --to conda              print an environment.yml
  envkit convert requirements.txt --to poetry -o pyproject.toml
  envkit convert Pipfile --to venv -o requirements.txt --dry-run
  envkit convert environment.yml --to pipenv --strict     exit 1 if anything is lost
"""
)
@click.argument("src", type=click.Path(dir_okay=False, path_type=str))
@click.option("--to", "target", required=True, type=click.Choice(sorted(TARGETS)), help="The target manager or format.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (merging into an existing file) instead of printing.",
)
@click.option("--from", "fmt", metavar="FORMAT", help="The source's format, when its name does not tell.")
@click.option("--strict", is_flag=True, help="Exit 1, writing nothing, when anything would be lost.")
@click.option("--dry-run", is_flag=True, help="Print the diff the write would make; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite an existing file that differs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report (and the text when not writing) as JSON.")
@target_options
def convert_cmd(
    src: str,
    target: str,
    output: Path | None,
    fmt: str | None,
    strict: bool,
    dry_run: bool,
    force: bool,
    as_json: bool,
    conda_mode: str,
    poetry_style: str,
) -> None:
    """Convert SRC to another manager's file and report, line by line, anything the
    target cannot carry (lost) or carries in another form (transformed).

    Without -o the converted text goes to stdout and the report to stderr. With -o an
    existing file is merged into: only the keys envkit owns change.
    """
    env = load(src, fmt)
    existing = output.read_text(encoding="utf-8") if output is not None and output.is_file() else None
    conversion = convert(
        env,
        target,
        existing=existing,
        options=target_options_for(target, conda_mode, poetry_style),
        source_dir=Path(src).parent,
        target_dir=output.parent if output is not None else None,  # printed: where it goes is unknown
    )
    lost = bool(conversion.lost)
    if as_json:
        data = conversion.to_dict()
        if output is None:
            data["text"] = conversion.rendered.text
            data["companions"] = dict(conversion.rendered.files)
    if strict and lost:
        if as_json:
            echo_json(data)
        else:
            click.echo(loss_table([(target, conversion)]), err=True)
            click.echo(f"envkit: {len(conversion.lost)} item(s) would be lost; nothing written (--strict)", err=True)
        sys.exit(1)
    if output is None:
        if as_json:
            echo_json(data)
        else:
            click.echo(conversion.rendered.text, nl=False)
            for name, text in conversion.rendered.files.items():
                click.echo(f"# --- companion file {name} ---\n{text}", nl=False)
            click.echo(loss_table([(target, conversion)]), err=True)
        return
    results = [write_file(output, conversion.rendered.text, force=force, dry_run=dry_run)]
    results += [
        write_file(output.parent / name, text, force=force, dry_run=dry_run)
        for name, text in conversion.rendered.files.items()
    ]
    if as_json:
        data["writes"] = [{"path": str(r.path), "action": r.action} for r in results]
        echo_json(data)
    else:
        click.echo(loss_table([(target, conversion)]), err=True)
    for result in results:
        if dry_run and result.diff:
            click.echo(result.diff, nl=False)
        if not as_json:
            click.echo(f"{result.path}: {result.action}", err=True)
    refused = [r for r in results if r.action == "refused"]
    if refused:
        names = ", ".join(str(r.path) for r in refused)
        raise EnvkitError(f"{names} exists and differs; --dry-run shows the diff, --force overwrites it")
