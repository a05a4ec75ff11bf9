"""``envkit snapshot``: capture an interpreter's resolved environment, show it or write it."""

from __future__ import annotations

import os

import click

from .._probe import dumps
from ..snapshot import Snapshot, capture, write


@click.command(
    epilog="""\b
Examples:
  envkit snapshot                                 this interpreter's environment
  envkit snapshot --python .venv/bin/python       another interpreter's (nothing to install there)
  envkit snapshot -o env-record/                  snapshot.json, requirements.txt, conda.yaml,
                                                  python_env.yaml, pylock.toml
  envkit snapshot --json | jq .fingerprint
"""
)
@click.option(
    "--python",
    "python",
    metavar="PATH",
    help="The interpreter whose environment to capture (default: the one running envkit).",
)
@click.option(
    "--project",
    default=".",
    show_default=True,
    metavar="DIR",
    type=click.Path(file_okay=False, exists=True, path_type=str),
    help="Folder whose declaration files (requirements*.txt, pyproject.toml, locks...) are hashed.",
)
@click.option(
    "-o",
    "--output",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=str),
    help="Write the snapshot and its pinned files (MLflow's names) into DIR.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the snapshot as JSON (schema envkit.snapshot/1).")
def snapshot_cmd(python: str | None, project: str, output: str | None, as_json: bool) -> None:
    """Capture the resolved environment of an interpreter: python, platform, the tool that
    made it, every installed package with its provenance, and a fingerprint that is the
    same for two environments exactly when they hold the same things.

    Credentials in URLs are never shown or written.
    """
    data = capture(python, project)
    snap = Snapshot.from_dict(data, origin=python or "this interpreter")
    written = write(snap, output) if output else []
    if as_json:
        click.echo(dumps(snap.to_dict()), nl=False)
        return
    click.echo(summary(snap))
    for warning in snap.warnings:
        click.echo(f"warning: {warning}", err=True)
    if written:
        names = ", ".join(p.name for p in written)
        click.echo(f"\nWrote {names} to {os.path.join(output or '.', '')}")


def _count(snap: Snapshot) -> str:
    kinds: dict[str, int] = {}
    for p in snap.packages:
        label = "editable" if p.provenance.editable else p.provenance.kind
        kinds[label] = kinds.get(label, 0) + 1
    order = ["index", "vcs", "archive", "directory", "editable", "unknown"]
    parts = [f"{kinds[k]} {'from an index' if k == 'index' else k}" for k in order if k in kinds]
    return f"{len(snap.packages)}" + (f" ({', '.join(parts)})" if parts else "")


def summary(snap: Snapshot) -> str:
    """The snapshot as ``key  value`` lines: what a person wants to see first."""
    plat = snap.platform
    libc = f", {plat.libc[0]} {plat.libc[1]}".rstrip() if plat.libc else ""
    idx = snap.indexes
    indexes = [idx.index_url or "https://pypi.org/simple (pip's default)"]
    if idx.no_index:
        indexes = ["none (--no-index)"]
    indexes += [f"extra {u}" for u in idx.extra_index_urls] + [f"find-links {u}" for u in idx.find_links]
    rows = [
        ("python", f"{snap.python.describe()}  {snap.python.executable}"),
        ("platform", f"{plat.system} {plat.release} {plat.machine}{libc}; tags {', '.join(plat.tags)}"),
        ("manager", f"{snap.manager.describe()} ({snap.manager.evidence})"),
        ("packages", _count(snap)),
        ("conda", f"{len(snap.conda)} packages" if snap.conda else "none"),
        ("indexes", "; ".join(indexes)),
        ("declarations", ", ".join(f"{d.path} {d.sha256[:12]}" for d in snap.declarations) or "none found"),
        ("fingerprint", snap.fingerprint),
    ]
    return "\n".join(f"{key:<14}{value}" for key, value in rows)
