"""Small rendering helpers shared by the commands: plain tables and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["echo_json", "table"]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 44) -> str:
    """A plain-text table with a header rule; cells longer than ``max_width`` are cut."""

    def cut(cell: str) -> str:
        cell = cell.replace("\n", " ")
        return cell if len(cell) <= max_width else cell[: max_width - 1] + "…"

    body = [[cut(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in body)
    return "\n".join(lines)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
