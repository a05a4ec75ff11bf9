"""``envkit check [DIR]``: are the generated files still in step with their source?"""

from __future__ import annotations

import sys

import click

from ..generate import check
from ._output import echo_json


@click.command(
    epilog="""\b
Examples:
  envkit check                 the current folder (reads envkit.toml written by generate)
  envkit check env/ --diff     show what regenerating would change
"""
)
@click.argument("folder", default=".", type=click.Path(file_okay=False, exists=True, path_type=str))
@click.option("--diff", "show_diff", is_flag=True, help="Show the diff for each stale file.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check_cmd(folder: str, show_diff: bool, as_json: bool) -> None:
    """Exit 1 when files written by `envkit generate` in FOLDER are out of date with
    their source (regenerating would change them), 0 when all are in step."""
    stale = check(folder)
    if as_json:
        echo_json({"folder": folder, "in_sync": not stale, "stale": [s.to_dict() for s in stale]})
    elif not stale:
        click.echo("All generated files are in step with their source.")
    else:
        for item in stale:
            click.echo(f"{item.path}: {item.reason}")
            if show_diff and item.diff:
                click.echo(item.diff, nl=False)
        click.echo("Run `envkit generate` again (with --force) to bring them up to date.")
    if stale:
        sys.exit(1)
