"""``envkit runs diff`` and ``envkit runs restore``: the environments of tracked MLflow runs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..managers import MANAGERS
from ..model import mask_secrets
from ._output import echo_json
from ._progress import progress_printer


def _reference(run: str) -> str:
    return run if run.startswith("runs:/") else f"runs:/{run}"


@click.group(
    epilog="""\b
RUN is a run id or runs:/<run_id>. The tracking server is MLFLOW_TRACKING_URI's
(default: MLflow's local store, mlflow.db in this folder).
"""
)
def runs_cmd() -> None:
    """Compare and rebuild the environments recorded in MLflow runs."""


@runs_cmd.command(
    "diff",
    short_help="What differs between two runs' environments (exit 1 when they differ).",
    epilog="""\b
Examples:
  envkit runs diff 1a2b3c 4d5e6f
  envkit runs diff runs:/1a2b3c runs:/4d5e6f --json

Exit status: 0 the same environment, 1 they differ, 2 bad input.
""",
)
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON (schema envkit.diff/1).")
def diff_cmd(run_a: str, run_b: str, as_json: bool) -> None:
    """Show what differs between the environments two runs recorded (packages added,
    removed and changed, Python, platform, provenance)."""
    from ..snapshot import diff
    from .diff import render

    result = diff(_reference(run_a), _reference(run_b))
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render(result))
    if not result.same:
        sys.exit(1)


@runs_cmd.command(
    "restore",
    short_help="Rebuild a run's environment, then report any drift (exit 1).",
    epilog="""\b
The run's environment/ artifacts are untrusted input: only the known files are
fetched, paths and sizes are checked, snapshot.json is validated and its fingerprint
recomputed, and the manager's file is generated from it (never copied from the run).
The indexes the run's pip used are shown, not followed: pass --index-url to choose one
(for conda, under pip:). Likewise conda channels given as URLs: pass --channel.

\b
Matching means the same fingerprint (python, platform, packages and their provenance,
conda packages; not the manager), less what the manager puts into every environment
it makes and the run did not have (listed as "not compared"): the conda packages of a
conda restore of a non-conda run, and virtualenv's seeded setuptools or wheel.

\b
Examples:
  envkit runs restore 1a2b3c --manager venv --path ./replay
  envkit runs restore runs:/1a2b3c -m uv --path ./replay --index-url https://pypi.org/simple
  envkit runs restore 1a2b3c -m conda --path ./replay --channel conda-forge

Exit status: 0 the restored environment is the recorded one, 1 it drifted, 2 bad input.
""",
)
@click.argument("run", metavar="RUN")
@click.option("--manager", "-m", required=True, type=click.Choice(list(MANAGERS)), help="Which manager rebuilds it.")
@click.option(
    "--path",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The project folder to build the environment in.",
)
@click.option(
    "--python",
    metavar="VERSION|PATH",
    help="The Python to use (default: the recorded one): a version or an interpreter path.",
)
@click.option("--index-url", metavar="URL", help="The package index to install from (first line of the requirements).")
@click.option(
    "--channel",
    "channels",
    metavar="NAME|URL",
    multiple=True,
    help="conda only, repeatable: the channels to install from, instead of the recorded ones.",
)
@click.option(
    "--force", is_flag=True, help="Replace the manager's file, its lock and the environment in --path, if there."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (schema envkit.restore/1).")
def restore_cmd(
    run: str,
    manager: str,
    path: Path,
    python: str | None,
    index_url: str | None,
    channels: tuple[str, ...],
    force: bool,
    as_json: bool,
) -> None:
    """Rebuild the environment a run recorded, then inspect it and report any drift from
    the recording (packages added, removed or changed; fingerprint equal or not)."""
    from ..tracking.mlflow import restore
    from .diff import render

    report = restore(
        _reference(run),
        manager,
        path=path,
        python=python,
        index_url=index_url,
        channels=channels,
        force=force,
        progress=progress_printer(as_json),
    )
    if as_json:
        echo_json(report.to_dict())
    else:
        for warning in report.warnings:
            click.echo(f"warning: {mask_secrets(warning)}", err=True)
        click.echo(f"{manager} environment restored from runs:/{report.run_id}: {report.environment}")
        click.echo(f"  python:    {report.python}")
        click.echo(f"  recorded:  {report.recorded.fingerprint}")
        same = "same" if report.same_fingerprint else "differs"
        click.echo(f"  restored:  {report.restored.fingerprint} ({same})")
        made = (report.recorded.manager.describe(), report.restored.manager.describe())
        click.echo(f"  made by:   {made[0]} (recorded), {made[1]} (restored)")
        for reason in report.not_compared:
            click.echo(f"  not compared: {reason}")
        if report.not_compared:
            same = "same" if report.compared_fingerprint == report.recorded.fingerprint else "differs"
            click.echo(f"  compared:  {report.compared_fingerprint} ({same})")
        click.echo("")
        if report.drift:
            click.echo(render(report.diff))
        elif report.not_compared:
            click.echo("No drift: the restored environment is the recorded one, less what is not compared.")
        else:
            click.echo("No drift: the restored environment is the recorded one.")
    if report.drift:
        sys.exit(1)
