"""``envkit diff A B``: what differs between two environments (exit 1 when they differ)."""

from __future__ import annotations

import sys

import click

from ..snapshot import TOOLING, Package, PackageChange, Side, SnapshotDiff, diff
from ._output import echo_json, table


@click.command(
    epilog="""\b
A and B are each a snapshot (snapshot.json, or a folder holding one, as
`envkit snapshot -o DIR` writes), a declaration envkit reads (requirements.txt with
pins, Pipfile.lock, poetry.lock, pylock.toml, ...: exact pins are compared), or a
tracked run (runs:/<run_id>, with envkit's MLflow support).

\b
Examples:
  envkit diff before/ after/
  envkit diff snapshot.json requirements.txt
  envkit diff runs:/1a2b3c runs:/4d5e6f --json

Exit status: 0 the same, 1 they differ, 2 bad input.
"""
)
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON (schema envkit.diff/1).")
def diff_cmd(a: str, b: str, as_json: bool) -> None:
    """Show the packages added, removed and changed from A to B (with the size of each
    version change), Python and platform changes, and provenance changes (a VCS commit
    that moved, editable or not, index or direct URL)."""
    result = diff(a, b)
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render(result))
    if not result.same:
        sys.exit(1)


def _describe_side(side: Side) -> str:
    n = len([p for p in side.packages if p.name not in TOOLING])
    if side.kind == "declaration":
        return f"declaration, {n} pinned packages"
    parts = []
    if side.python is not None:
        parts.append(side.python.describe())
    if side.platform is not None:
        parts.append(side.platform.describe())
    parts.append(f"{n} packages")
    if side.fingerprint:
        parts.append(f"fingerprint {side.fingerprint[:12]}")
    return ", ".join(parts)


def _version(p: Package | None) -> str:
    if p is None:
        return ""
    return p.version or "?"


def _what(c: PackageChange) -> str:
    parts = []
    if c.version_change:
        parts.append(f"{c.version_change} {c.direction}" if c.direction else c.version_change)
    if c.provenance:
        parts.append(c.provenance)
    one = c.a or c.b
    if c.change != "changed" and one is not None and one.provenance.kind != "index":
        parts.append(one.provenance.describe())
    return "; ".join(parts)


def render(result: SnapshotDiff) -> str:
    """The diff as text: both sides, python and platform moves, and a table of changes."""
    a, b = result.a, result.b
    width = max(len(a.label), len(b.label))
    lines = [f"A  {a.label:<{width}}  {_describe_side(a)}", f"B  {b.label:<{width}}  {_describe_side(b)}", ""]
    if result.python:
        lines.append(f"python    {result.python[0].describe()} → {result.python[1].describe()}")
    if result.platform:
        lines.append(f"platform  {result.platform[0].describe()} → {result.platform[1].describe()}")
    declared = [name for name, side in (("A", a), ("B", b)) if side.kind == "declaration"]
    if declared:
        verb = "is a declaration" if len(declared) == 1 else "are declarations"
        lines.append(f"python and platform not compared: {' and '.join(declared)} {verb}")
    unpinned = sorted({f"{n}{s}" for n, s in (*a.unpinned, *b.unpinned)})
    if unpinned:
        lines.append(f"not compared (no exact pin): {', '.join(unpinned)}")
    if lines[-1]:
        lines.append("")
    rows = [[c.change, c.name, _version(c.a), _version(c.b), _what(c)] for c in result.packages]
    for cc in result.conda:
        rows.append(
            [
                cc.change,
                f"{cc.name} (conda)",
                f"{cc.a.version}={cc.a.build}" if cc.a else "",
                f"{cc.b.version}={cc.b.build}" if cc.b else "",
                "",
            ]
        )
    if rows:
        lines.append(table(["change", "package", "A", "B", "what"], rows, max_width=60))
        lines.append("")
    if result.same:
        lines.append("A and B are the same environment.")
    else:
        counts = [f"{result.count(k)} {k}" for k in ("added", "removed", "changed")]
        moved = [w for w, changed in (("python", result.python), ("platform", result.platform)) if changed]
        lines.append(", ".join(counts) + (f"; {' and '.join(moved)} changed" if moved else "") + ".")
    return "\n".join(lines)
