"""``envkit bootstrap``: a project environment with the manager of your choice."""

from __future__ import annotations

from pathlib import Path

import click

from ..environments import bootstrap
from ..managers import MANAGERS
from ._output import echo_json
from ._progress import progress_printer


def _default_source() -> str:
    for name in ("requirements.txt", "environment.yml", "Pipfile", "pyproject.toml"):
        if Path(name).is_file():
            return name
    raise click.UsageError("no SRC given and none of requirements.txt, environment.yml, Pipfile, pyproject.toml here")


@click.command(
    epilog="""\b
Examples:
  envkit bootstrap requirements.txt --manager venv
  envkit bootstrap requirements.txt --manager poetry --path ./service --python 3.11
  envkit bootstrap environment.yml --manager pipenv
"""
)
@click.argument("src", required=False, type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--manager", "-m", required=True, type=click.Choice(list(MANAGERS)), help="Which manager builds the environment."
)
@click.option(
    "--path", type=click.Path(file_okay=False, path_type=Path), help="The project folder (default: SRC's folder)."
)
@click.option("--python", help="The Python to use: a version (3.11) or an interpreter path.")
@click.option(
    "--installer", type=click.Choice(["uv", "pip"]), help="venv only: install with uv (default when available) or pip."
)
@click.option("--force", is_flag=True, help="Regenerate the manager's file even if the project has one.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def bootstrap_cmd(
    src: str | None,
    manager: str,
    path: Path | None,
    python: str | None,
    installer: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Write the manager's file for SRC if the project has none (through the formats), create
    the environment with the real tool, and print how to activate it."""
    result = bootstrap(
        src or _default_source(),
        manager,
        path=path,
        python=python,
        installer=installer,
        force=force,
        progress=progress_printer(as_json),
    )
    if as_json:
        echo_json(result.to_dict())
        return
    created = result.created
    activate = created.activate.replace(str(created.path), _shown(created.path))
    click.echo(f"{manager} environment ready: {_shown(created.path)}")
    click.echo(f"  file:     {_shown(result.file)} ({result.file_action})")
    click.echo(f"  python:   {_shown(created.python)}")
    click.echo(f"  activate: {activate}")


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (as the user typed it)."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
