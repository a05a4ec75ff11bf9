"""Plain words when a resolver cannot find a project, with the closest real names."""

from __future__ import annotations

import difflib
import re
from functools import cache
from importlib import resources

from packaging.utils import canonicalize_name

__all__ = ["not_found_names", "popular_names", "suggest"]

_PATTERNS = (
    re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)"),
    re.compile(r"Because ([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry"),
    re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry"),
    re.compile(r"Package '?([A-Za-z0-9][A-Za-z0-9._-]*)'? not found"),
    re.compile(r"Could not find a version that satisfies the requirement ([A-Za-z0-9][A-Za-z0-9._-]*)"),
    re.compile(r"Could not find a matching version of package ([A-Za-z0-9][A-Za-z0-9._-]*)"),
    re.compile(r"No package metadata was found for ([A-Za-z0-9][A-Za-z0-9._-]*)"),
)


@cache
def popular_names() -> tuple[str, ...]:
    """The most downloaded PyPI project names shipped with envkit (see the data file)."""
    text = resources.files("envkit.data").joinpath("popular_names.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


def not_found_names(output: str) -> list[str]:
    """Project names a resolver's output says it could not find."""
    found: dict[str, None] = {}
    for pattern in _PATTERNS:
        for match in pattern.finditer(output):
            found[canonicalize_name(match.group(1).rstrip("."))] = None
    return list(found)


def suggest(name: str, known: tuple[str, ...] | list[str] = (), n: int = 3) -> list[str]:
    """The closest real names to ``name``: from ``known`` (the index's own list) first."""
    wanted = canonicalize_name(name)
    pool = list(dict.fromkeys([canonicalize_name(k) for k in known] + list(popular_names())))
    pool = [p for p in pool if p != wanted]
    return difflib.get_close_matches(wanted, pool, n=n, cutoff=0.75)
