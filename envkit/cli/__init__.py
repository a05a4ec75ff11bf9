"""The ``envkit`` command: a thin layer over the library, one module per command.

:func:`main` is the console script. ``envkit snapshot --json`` takes a fast path that
imports neither click nor the library (the probe prints the same JSON); everything else
goes through the click application in :mod:`envkit.cli._app`.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: the snapshot fast path starts without importing typing
if TYPE_CHECKING:
    from typing import Any

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``envkit`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["snapshot"]:
        from ..__about__ import __version__
        from .._probe import cli_json

        code = cli_json(args[1:], __version__)
        if code is not None:
            sys.exit(code)
    from ._app import cli as app

    try:
        app.main(args=args, prog_name="envkit", standalone_mode=True)
    except BrokenPipeError:  # ``envkit show ... | head``
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


def __getattr__(name: str) -> Any:
    if name in ("cli", "COMMANDS"):
        from . import _app

        return getattr(_app, name)
    raise AttributeError(name)
