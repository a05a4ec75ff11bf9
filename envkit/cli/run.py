"""``envkit run -- CMD ...``: run a command inside an MLflow run that records its environment."""

from __future__ import annotations

import sys

import click

from ..model import mask_secrets
from ._progress import progress_printer


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="""\b
The run gets the environment of the command's Python (the program itself when it is
a Python, else the one named by its #! line, else envkit's own; --python chooses):
artifacts environment/ (snapshot.json, requirements.txt, conda.yaml, python_env.yaml,
pylock.toml) and tags envkit.fingerprint, envkit.python, envkit.manager,
envkit.packages. CMD runs with MLFLOW_RUN_ID, MLFLOW_TRACKING_URI and
MLFLOW_EXPERIMENT_ID set, so its own mlflow.start_run() joins the run. The run ends
FINISHED, FAILED, or KILLED (a signal), with tag envkit.exit_status.

\b
Ctrl-C reaches CMD (it shares the terminal); envkit waits for it to end, records the
run as KILLED and exits 130. SIGTERM and SIGHUP sent to envkit are passed on to CMD.

\b
Examples:
  envkit run -- python train.py --epochs 3
  envkit run --experiment churn --run-name baseline -- python -m churn.train
  MLFLOW_TRACKING_URI=http://127.0.0.1:5000 envkit run -- ./train.sh

Exit status: CMD's (128 + N when a signal N ended it); 2 when the run cannot start.
""",
)
@click.option("--experiment", metavar="NAME", help="Experiment name, created if needed (default: MLflow's).")
@click.option("--run-name", metavar="NAME", help="The run's name (default: one MLflow makes up).")
@click.option("--python", "python", metavar="PATH", help="The interpreter whose environment to record.")
@click.option("--quiet", "-q", is_flag=True, help="Say nothing on stderr about the run.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD [ARGS]...")
def run_cmd(
    experiment: str | None, run_name: str | None, python: str | None, quiet: bool, command: tuple[str, ...]
) -> None:
    """Run CMD inside a new MLflow run that records its resolved environment."""
    from ..tracking.mlflow import run_command

    say = progress_printer(quiet)
    outcome = run_command(list(command), experiment=experiment, run_name=run_name, python=python, progress=say)
    if not quiet:
        uri = mask_secrets(outcome.tracking_uri)
        click.echo(
            f"envkit: run {outcome.run_id} {outcome.status} (exit status {outcome.exit_status}), "
            f"environment {outcome.snapshot.fingerprint[:12]}",
            err=True,
        )
        if uri.startswith(("http://", "https://")):
            click.echo(f"envkit: see it at {uri.rstrip('/')}/#/experiments/{outcome.experiment_id}", err=True)
        else:
            click.echo(f"envkit: see it with `mlflow ui --backend-store-uri {uri}`", err=True)
    sys.exit(outcome.exit_status)
