"""The formats envkit reads and writes, one module each, listed in one registry.

Adding a format is one module (``NAME``, ``FILENAMES``, ``detect``, ``loads``,
``dumps``) and one line in :data:`REGISTRY`. Modules are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import cast

from ..errors import EnvkitError
from ._base import Format, Loss, Opener, Rendered

__all__ = ["REGISTRY", "WRITABLE", "Format", "Loss", "Opener", "Rendered", "available", "candidates", "get"]

#: Format name -> module that implements it.
REGISTRY: dict[str, str] = {
    "requirements": "envkit.formats.requirements",
    "conda": "envkit.formats.conda",
    "pipfile": "envkit.formats.pipfile",
    "pipfile-lock": "envkit.formats.pipfile_lock",
    "poetry": "envkit.formats.poetry",
    "poetry-lock": "envkit.formats.poetry_lock",
    "uv": "envkit.formats.uv",
    "pylock": "envkit.formats.pylock",
}

#: Formats that can be written (the rest are read-only lock files).
WRITABLE = ("requirements", "conda", "pipfile", "poetry", "uv", "pylock")


def get(name: str) -> Format:
    """The format module called ``name``; an :class:`EnvkitError` names the known ones."""
    try:
        module = REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise EnvkitError(f"unknown format {name!r} (known: {known})") from None
    try:
        return cast(Format, importlib.import_module(module))
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise EnvkitError(f"the {name} format is not available in this version of envkit") from None


def candidates(path: str) -> list[str]:
    """Formats a file of this name can be, judged by the name alone (no module imported).

    ``detect`` of each candidate then looks at the content; a name that no rule knows
    leaves every format a candidate.
    """
    import fnmatch
    import posixpath

    name = posixpath.basename(path.replace("\\", "/")).lower()
    rules = (
        ("pipfile.lock", ("pipfile-lock",)),
        ("pipfile", ("pipfile",)),
        ("poetry.lock", ("poetry-lock",)),
        ("pyproject.toml", ("poetry", "uv")),
        ("pylock.toml", ("pylock",)),
        ("pylock.*.toml", ("pylock",)),
        ("*.txt", ("requirements",)),
        ("*.in", ("requirements",)),
        ("*.yml", ("conda",)),
        ("*.yaml", ("conda",)),
    )
    for pattern, names in rules:
        if fnmatch.fnmatch(name, pattern):
            return list(names)
    return list(REGISTRY)


def available() -> list[str]:
    """Registered formats whose module is present (others are still being written)."""
    import importlib.util

    return [name for name, module in REGISTRY.items() if importlib.util.find_spec(module) is not None]
