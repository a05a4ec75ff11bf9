"""Options shared by commands that write targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["target_options", "target_options_for"]


def target_options(func: F) -> F:
    func = click.option(
        "--conda-mode",
        type=click.Choice(["native", "pip"]),
        default="native",
        show_default=True,
        help="conda: install from conda channels what translates exactly (native), or everything with pip (pip).",
    )(func)
    return click.option(
        "--poetry-style",
        type=click.Choice(["1", "2"]),
        default="2",
        show_default=True,
        help="poetry: 2 writes [project] (PEP 621); 1 writes [tool.poetry.dependencies].",
    )(func)


def target_options_for(target: str, conda_mode: str, poetry_style: str) -> dict[str, Any]:
    """The format keyword arguments for ``target`` (only non-default ones)."""
    if target == "conda" and conda_mode != "native":
        return {"mode": conda_mode}
    if target == "poetry" and poetry_style != "2":
        return {"style": poetry_style}
    return {}
