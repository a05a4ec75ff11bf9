"""The skeletons new files start from: ``templates/`` at the top of the repository,
shipped in the wheel as ``envkit/templates/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["template"]


def _folders() -> list[Path]:
    here = Path(__file__).resolve().parent.parent
    return [here / "templates", here.parent / "templates"]


@cache
def template(name: str) -> str:
    """The text of template ``name`` (e.g. ``"Pipfile"``); ``KeyError`` when missing."""
    for folder in _folders():
        candidate = folder / name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise KeyError(name)
