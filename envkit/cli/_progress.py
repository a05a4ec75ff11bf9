"""Progress lines on stderr for long operations (with elapsed seconds)."""

from __future__ import annotations

import time
from typing import Callable

import click

__all__ = ["progress_printer"]


def progress_printer(quiet: bool = False) -> Callable[[str], None]:
    """A progress callback printing ``[  1.2s] message`` to stderr (nothing when quiet)."""
    start = time.perf_counter()

    def show(message: str) -> None:
        if not quiet:
            click.echo(f"[{time.perf_counter() - start:6.1f}s] {message}", err=True)

    return show
