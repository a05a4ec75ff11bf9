"""The formats envkit reads and writes, one module each, listed in one registry.

Adding a format is one module (``NAME``, ``FILENAMES``, ``detect``, ``loads``,
``dumps``) and one line in :data:`REGISTRY`. Modules are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import cast

from ..errors import EnvkitError
from ._base import Format, Loss, Opener, Rendered

__all__ = ["REGISTRY", "Format", "Loss", "Opener", "Rendered", "get"]

#: Format name -> module that implements it.
REGISTRY: dict[str, str] = {
    "requirements": "envkit.formats.requirements",
}


def get(name: str) -> Format:
    """The format module called ``name``; an :class:`EnvkitError` names the known ones."""
    try:
        module = REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise EnvkitError(f"unknown format {name!r} (known: {known})") from None
    return cast(Format, importlib.import_module(module))
