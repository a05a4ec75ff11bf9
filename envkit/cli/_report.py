"""Rendering conversion reports and static verdicts as tables (shared by commands)."""

from __future__ import annotations

import os

from ..convert import Conversion
from ..verify import StaticReport
from ._output import table

__all__ = ["loss_table", "verdict_line"]

_VERDICTS = {
    "equivalent": "equivalent",
    "equivalent-with-losses": "equivalent except reported losses",
    "different": "NOT equivalent",
}


def loss_table(conversions: list[tuple[str, Conversion]]) -> str:
    """Every transformed or lost row of every conversion, with its source line."""
    rows = []
    for target, conv in conversions:
        for row in conv.rows:
            if row.status == "carried":
                continue
            where = f"{os.path.basename(row.origin.path)}:{row.origin.line}" if row.origin else ""
            rows.append([target, where, row.status, row.subject, row.reason])
    if not rows:
        return "Every requirement and option was carried exactly."
    return table(["target", "line", "status", "what", "why / how"], rows, max_width=70)


def verdict_line(report: StaticReport | None) -> str:
    if report is None:
        return "source"
    return _VERDICTS[report.verdict]


def differences_table(report: StaticReport) -> str:
    rows = [
        [d.subject, d.field, d.source, d.target, "reported" if d.explained else "NOT REPORTED"]
        for d in report.differences
    ]
    return table(["what", "field", "source", "target", "loss"], rows)
