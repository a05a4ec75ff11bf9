"""PEP 508 strings <-> :class:`~envkit.model.Dependency`, shared by the TOML formats.

``[project] dependencies``, PEP 735 groups, ``constraint-dependencies`` and the like are
lists of PEP 508 strings. A malformed one is a :class:`~envkit.errors.ParseError` pointing
into the string (the caller gives where the string sits in its file).
"""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement

from ..errors import ParseError
from ..model import Dependency, Origin

__all__ = ["from_pep508", "syntax_error", "to_pep508"]


def syntax_error(exc: Exception, text: str) -> tuple[str, int, int]:
    """(message, offset, width) of packaging's ``InvalidRequirement``/``InvalidMarker``
    for ``text``: where its parser stopped (the ``span`` of the syntax error behind it),
    or the whole text when it does not say."""
    cause = exc.__cause__
    span = getattr(cause, "span", None)
    message = getattr(cause, "message", None) or str(exc).splitlines()[0]
    if span:
        return message, span[0], max(span[1] - span[0], 1)
    return message, 0, len(text)


def from_pep508(
    text: str,
    *,
    path: str,
    line: int = 1,
    column: int = 1,
    line_text: str | None = None,
    group: str | None = None,
    constraint: bool = False,
) -> Dependency:
    """Read one PEP 508 string. ``line``/``column`` say where the string's first
    character is in the file (1-based) and ``line_text`` is that whole line, for errors.
    """
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        message, offset, width = syntax_error(exc, text)
        shown = line_text if line_text is not None else text
        raise ParseError(
            f"invalid requirement {text!r}: {message}",
            path=path,
            line=line,
            column=column + offset,
            text=shown,
            width=width,
        ) from None
    return Dependency(
        req.name,
        req.specifier,
        frozenset(req.extras),
        req.marker,
        url=req.url,
        constraint=constraint,
        group=group,
        text=text,
        origin=Origin(path, line, column, line_text or text),
    )


def to_pep508(dep: Dependency) -> str | None:
    """The PEP 508 string for ``dep``, or ``None`` when it has no PEP 508 form (unnamed,
    or a local path, which PEP 508 can only name as an absolute ``file:`` URL)."""
    if not dep.name or (dep.path is not None and dep.url is None):
        return None
    return dep.pep508()
