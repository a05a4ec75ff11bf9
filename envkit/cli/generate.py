"""``envkit generate SRC``: the main job — every manager's file from one requirements file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import EnvkitError
from ..generate import DEFAULT_TARGETS, GenerateResult, generate
from ._options import target_options, target_options_for
from ._output import echo_json, table
from ._report import differences_table, loss_table, verdict_line


def _targets(value: str) -> list[str]:
    from ..convert import format_for_target

    names = [t.strip() for t in value.split(",") if t.strip()]
    for name in names:
        format_for_target(name)
    return names


@click.command(
    epilog="""\b
Examples:
  envkit generate requirements.txt                       venv, conda, pipenv, poetry files beside it
  envkit generate requirements.txt --dev requirements-dev.txt --dir env/
  envkit generate requirements.txt --to conda,uv,pylock --dry-run
"""
)
@click.argument("src", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--dev",
    type=click.Path(dir_okay=False, path_type=str),
    help="A dev requirements file layered on SRC; its additions become the dev group.",
)
@click.option(
    "--to",
    "targets",
    default=",".join(DEFAULT_TARGETS),
    show_default=True,
    help="Comma-separated targets: venv, conda, pipenv, poetry, uv, pylock.",
)
@click.option(
    "--dir", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Where to write (default: SRC's folder)."
)
@click.option("--strict", is_flag=True, help="Exit 1 when any target loses anything.")
@click.option("--dry-run", is_flag=True, help="Show the diffs; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite existing files that differ.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--track",
    is_flag=True,
    help="Record this environment and the generated files in an MLflow run (needs envkit[mlflow]).",
)
@target_options
def generate_cmd(
    src: str,
    dev: str | None,
    targets: str,
    out_dir: Path | None,
    strict: bool,
    dry_run: bool,
    force: bool,
    as_json: bool,
    track: bool,
    conda_mode: str,
    poetry_style: str,
) -> None:
    """Generate the environment files of several managers from SRC, then read each one
    back and check it means the same as SRC (static verification).

    Existing files are merged into (only the keys envkit owns change) and never
    overwritten without --force. What a target cannot carry is reported line by line.
    """
    names = _targets(targets)
    options = {t: target_options_for(t, conda_mode, poetry_style) for t in names}
    result = generate(src, dev=dev, targets=names, out_dir=out_dir, force=force, dry_run=dry_run, options=options)
    if as_json:
        echo_json(result.to_dict())
    else:
        rows = []
        for t in result.targets:
            counts = t.conversion.counts()
            action = t.write.action if t.write else "source (left as is)"
            rows.append(
                [
                    t.target,
                    str(t.path),
                    action,
                    str(counts["carried"]),
                    str(counts["transformed"]),
                    str(counts["lost"]),
                    verdict_line(t.static),
                ]
            )
        click.echo(
            table(["target", "file", "action", "carried", "transformed", "lost", "static check"], rows, max_width=200)
        )
        click.echo()
        click.echo(loss_table([(t.target, t.conversion) for t in result.targets]))
        for t in result.targets:
            if t.static is not None and t.static.verdict == "different":
                click.echo(f"\n{t.target}: differences not explained by a reported loss:")
                click.echo(differences_table(t.static))
        if dry_run:
            for t in result.targets:
                for w in ([t.write] if t.write else []) + list(t.companions):
                    if w.diff:
                        click.echo()
                        click.echo(w.diff, nl=False)
    if track and not dry_run and not result.refused:
        _track(result, src, as_json)
    if result.refused:
        names_ = ", ".join(str(w.path) for w in result.refused)
        raise EnvkitError(f"{names_} exist(s) and differ(s); --dry-run shows the diff, --force overwrites")
    lost = any(t.conversion.lost for t in result.targets)
    if not result.equivalent or (strict and lost):
        sys.exit(1)


def _track(result: GenerateResult, src: str, quiet: bool) -> None:
    from ..tracking.mlflow import log_generated, tracking_uri

    files = {str(t.path): t.path for t in result.targets if t.write is not None}
    experiment_id, run_id, snap = log_generated(files, source=src)
    if quiet:
        return
    uri = tracking_uri()
    click.echo(f"\nRecorded this environment ({snap.fingerprint[:12]}, {len(snap.packages)} packages) and the files")
    click.echo(f"in MLflow run {run_id} (experiment 'envkit', {uri}).")
    ui = (
        "mlflow ui"
        if uri.startswith("sqlite:///mlflow.db") or uri == "sqlite:///mlflow.db"
        else f"mlflow ui --backend-store-uri {uri}"
    )
    click.echo(f"See it with:  {ui}   then open http://127.0.0.1:5000/#/experiments/{experiment_id}/runs/{run_id}")
