"""PEP 508 strings <-> :class:`~envkit.model.Dependency`, shared by the TOML formats.

``[project] dependencies``, PEP 735 groups, ``constraint-dependencies`` and the like are
lists of PEP 508 strings. A malformed one is a :class:`~envkit.errors.ParseError` pointing
into the string (the caller gives where the string sits in its file).
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier

from ..errors import ParseError
from ..model import Dependency, Origin

__all__ = ["from_pep508", "syntax_error", "to_pep508"]


def syntax_error(exc: Exception, text: str) -> tuple[str, int, int]:
    """(message, offset, width) of packaging's ``InvalidRequirement``/``InvalidMarker``
    for ``text``: where its parser stopped (the ``span`` of the syntax error behind it),
    or the whole text when it does not say.

    packaging's parser backs off when an extra name or a specifier's version is malformed,
    and then blames what comes before (``foo>=>1``: "Expected semicolon (after name with no
    version specifier)"; ``foo[-x]``: "Expected matching RIGHT_BRACKET"). For a requirement,
    the extras and the specifiers are checked one by one first, and the first bad one is named.
    """
    if isinstance(exc, InvalidRequirement):
        named = _bad_part(text)
        if named is not None:
            return named
    cause = exc.__cause__
    span = getattr(cause, "span", None)
    message = getattr(cause, "message", None) or str(exc).splitlines()[0]
    if span:
        return message, span[0], max(span[1] - span[0], 1)
    return message, 0, len(text)


_HEAD_RE = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?P<extras>\[[^\]]*\]?)?\s*")
_SPACED_RE = re.compile(r"\s+(?=[<>=!~])")
_EXTRA_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?")  # packaging's IDENTIFIER


def _valid_specifier(text: str) -> bool:
    try:
        Specifier(text)
    except InvalidSpecifier:
        return False
    return True


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bad_part(text: str) -> tuple[str, int, int] | None:
    """The first malformed extra name or version specifier of the requirement ``text``,
    as (message, offset, width); None when each of them is well formed on its own."""
    head = _HEAD_RE.match(text)
    if head is None:
        return None
    extras = head.group("extras")
    if extras:
        at = head.start("extras") + 1
        for item in extras[1:].removesuffix("]").split(","):
            name = item.strip()
            if name and not _EXTRA_RE.fullmatch(name):
                return f"invalid extra name {_short(name)!r}", at + len(item) - len(item.lstrip()), len(name)
            at += len(item) + 1
    at = head.end()
    rest = text[at:].split(";", 1)[0]
    if not rest or rest[0] not in "<>=!~(":
        return None
    if rest[0] == "(":
        at, rest = at + 1, rest[1:].split(")", 1)[0]
    for item in rest.split(","):
        spec = item.strip()
        if spec:
            try:
                Specifier(spec)
            except InvalidSpecifier:
                if len(_SPACED_RE.split(spec)) > 1:
                    return None  # '>=1 <2': packaging's "Expected comma" says it best
                first = re.split(r"[\s)]", spec, maxsplit=1)[0]
                if first != spec and _valid_specifier(first):
                    return None  # '==1.0 and ...': a good specifier, then stray text; packaging points at it
                message = f"invalid version specifier {_short(spec)!r}"
                if spec.startswith("~=") and "." not in spec:
                    message += ": ~= needs a version of two parts or more, as in '~=1.0'"
                return message, at + len(item) - len(item.lstrip()), len(spec)
        at += len(item) + 1
    return None


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
