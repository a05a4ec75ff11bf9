"""``envkit verify SRC``: are the environments equivalent — statically, resolved, installed?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..environments import Depth, verify
from ..managers import MANAGERS
from ..verify import InstallReport, ResolveReport
from ._output import echo_json, table
from ._progress import progress_printer
from ._report import differences_table, verdict_line


@click.command(
    epilog="""\b
Examples:
  envkit verify requirements.txt                                  static: every generated file means the same
  envkit verify requirements.txt --against Pipfile --against environment.yml
  envkit verify requirements.txt --depth resolve --managers venv,pipenv,poetry
  envkit verify requirements.txt --depth install --python 3.11
"""
)
@click.argument("src", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--against",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="A file to compare with SRC (repeatable). Default: each manager's file generated from SRC.",
)
@click.option("--depth", type=click.Choice(["static", "resolve", "install"]), default="static", show_default=True)
@click.option("--managers", help=f"Comma-separated managers for resolve/install ({', '.join(MANAGERS)}).")
@click.option("--python", help="Target Python version (3.11).")
@click.option("--platform", help="Target platform for resolve (linux, macos, windows).")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the managers' projects go (default: a temporary folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_cmd(
    src: str,
    against: tuple[str, ...],
    depth: str,
    managers: str | None,
    python: str | None,
    platform: str | None,
    workdir: Path | None,
    as_json: bool,
) -> None:
    """Exit 0 when equivalent, 1 when not, 2 on bad input. Every difference is explained:
    which package, which versions per manager, which manager added or dropped it."""
    names = [m.strip() for m in managers.split(",")] if managers else None
    chosen: Depth = "static" if depth == "static" else "resolve" if depth == "resolve" else "install"
    result = verify(
        src,
        against=against,
        depth=chosen,
        managers=names,
        python=python,
        platform=platform,
        workdir=workdir,
        progress=progress_printer(as_json),
    )
    if as_json:
        echo_json(result.to_dict())
    else:
        rows = [[r.target, verdict_line(r)] for r in result.static]
        click.echo(table(["static: file", "verdict"], rows))
        for r in result.static:
            if r.differences:
                click.echo(f"\n{r.target}:")
                click.echo(differences_table(r))
        reports: list[tuple[str, ResolveReport | InstallReport]] = []
        if result.resolve is not None:
            reports.append(("resolve", result.resolve))
        if result.install is not None:
            reports.append(("install", result.install))
        for label, report in reports:
            sets = report.sets
            packages = sorted({p for pins in sets.values() for p in pins})
            click.echo(f"\n{label}: {len(packages)} packages across {', '.join(report.managers)}")
            if report.differences:
                rows = [
                    [d.package, *[d.versions.get(m) or "-" for m in report.managers], d.explanation]
                    for d in report.differences
                ]
                click.echo(table(["package", *report.managers, "explanation"], rows, max_width=70))
            else:
                verb = "pinned" if label == "resolve" else "installed"
                click.echo(f"  every manager {verb} the same versions")
        if result.install is not None:
            for problem in result.install.problems:
                click.echo(f"  {problem.manager}: {problem.requirement}: {problem.problem}")
            for manager, complaint in result.install.consistency.items():
                if complaint:
                    click.echo(f"  {manager}: pip check: {complaint}")
        for manager, reason in result.skipped.items():
            click.echo(f"skipped {manager}: {reason}")
        for manager, reason in result.failed.items():
            click.echo(f"\n{manager} FAILED:\n{reason}")
        click.echo(f"\n{'EQUIVALENT' if result.equivalent else 'NOT EQUIVALENT'}")
    sys.exit(0 if result.equivalent else 1)
