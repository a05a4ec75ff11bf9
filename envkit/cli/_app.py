"""The click application: the command group, lazy command loading, error handling.

Every :class:`~envkit.errors.EnvkitError` becomes a message on stderr and exit status 2;
Ctrl-C exits 130. Commands are imported only when they run.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from ..__about__ import __version__
from ..errors import EnvkitError

__all__ = ["COMMANDS", "cli"]

#: command name -> (module, attribute, one-line help shown by ``envkit --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "show": ("envkit.cli.show", "show", "Read a declaration and show what it means."),
    "convert": ("envkit.cli.convert", "convert_cmd", "Convert one declaration into another manager's file."),
    "generate": ("envkit.cli.generate", "generate_cmd", "From one requirements file, every manager's file, checked."),
    "check": ("envkit.cli.check", "check_cmd", "Exit 1 when generated files are out of date with their source."),
    "verify": ("envkit.cli.verify", "verify_cmd", "Are the environments equivalent: statically, resolved, installed?"),
    "bootstrap": (
        "envkit.cli.bootstrap",
        "bootstrap_cmd",
        "Create a project environment with the manager of your choice.",
    ),
    "lock": ("envkit.cli.lock", "lock_cmd", "Resolve with uv (or pip) into a PEP 751 pylock.toml."),
    "snapshot": (
        "envkit.cli.snapshot",
        "snapshot_cmd",
        "Capture an interpreter's resolved environment, fingerprinted and redacted.",
    ),
    "diff": ("envkit.cli.diff", "diff_cmd", "Show what differs between two environments (exit 1 when they differ)."),
    "run": ("envkit.cli.run", "run_cmd", "Run a command inside an MLflow run that records its environment."),
    "runs": ("envkit.cli.runs", "runs_cmd", "Diff and restore the environments recorded in MLflow runs."),
}

EPILOG = """\b
Examples:
  envkit generate requirements.txt                 venv, conda, pipenv and poetry files, checked
  envkit convert Pipfile --to conda                one format into another, with a loss report
  envkit show requirements.txt --json              the canonical model, for tools
  envkit check                                     exit 1 when generated files are stale
  envkit verify requirements.txt --depth resolve   each manager resolves its own file
  envkit bootstrap --manager poetry                a project environment, made by poetry
  envkit run -- python train.py                    an MLflow run that records its environment
  envkit runs diff RUN_A RUN_B                     what changed between two runs' environments

Exit status: 0 success, 1 a difference or loss was found, 2 bad input or usage.
"""


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command: click.Command = getattr(module, entry[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EnvkitError as exc:
            click.echo(f"envkit: error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("envkit: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, traceback only on request
            if os.environ.get("ENVKIT_DEBUG"):
                raise
            click.echo(
                f"envkit: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in envkit. Run again with ENVKIT_DEBUG=1 for the traceback, and report it.",
                err=True,
            )
            ctx.exit(70)


@click.group(cls=_LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="envkit", message="%(prog)s %(version)s")
def cli() -> None:
    """envkit: turn one Python environment declaration into every other one, and prove
    they are the same.

    Reads requirements.txt (all of pip's grammar), environment.yml, Pipfile, poetry and
    uv pyproject.toml, and their locks; writes the files of venv/pip, conda, pipenv,
    poetry, uv and PEP 751 pylock.toml, reporting anything a target cannot carry; checks
    them equivalent by reading them back, resolving them or installing them with the
    real tools; and records the environment of every MLflow run.
    """
