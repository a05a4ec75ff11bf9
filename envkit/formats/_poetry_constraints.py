"""Poetry version constraints <-> PEP 440 specifiers, and poetry's ``python``/``platform``
dependency keys -> PEP 508 markers.

Grammar, as poetry-core 2 parses a version constraint::

    constraint  := alternative ( ("||" | "|") alternative )*
    alternative := single ( ("," | " ") single )* [","]
    single      := "*" | "x" | "X" | "*.*" ...               any version
                 | "^" version                             caret: up to the next breaking release
                 | "~" version                             tilde: up to the next minor (major if X)
                 | "~=" version                            PEP 440 compatible release
                 | ["==" | "!="] release ".*"              wildcard
                 | [op] version ".*"?                      op: < <= > >= == = != <>; bare means ==

The PEP 440 forms are the ones poetry itself writes into wheel metadata: ``^1.2.3`` is
``>=1.2.3,<2.0.0``, ``^0.2.3`` is ``>=0.2.3,<0.3.0``, ``^0.0.3`` is ``>=0.0.3,<0.0.4``,
``~1.2`` is ``>=1.2,<1.3``, ``~1`` is ``>=1,<2``, ``1.2.*`` is ``==1.2.*``, ``1.0`` is
``==1.0``. A union (``||``) has a PEP 440 form only when its ranges touch; otherwise it
is widened to the smallest range holding every alternative and flagged as inexact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "ConstraintError",
    "Translation",
    "and_markers",
    "caret_upper",
    "from_pep440",
    "has_arbitrary",
    "ordered",
    "parse",
    "platform_marker",
    "python_marker",
    "tilde_upper",
    "to_pep440",
    "without_arbitrary",
]

#: One PEP 440 clause: (operator, version), e.g. (">=", "1.2.3") or ("==", "1.2.*").
Clause = tuple[str, str]

# A permissive PEP 440 version (validated afterwards with packaging's Version); written
# without possessive quantifiers so it compiles on Python 3.9.
_V = (
    r"v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:alpha|beta|preview|pre|rc|a|b|c)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?"
)
_ANY_RE = re.compile(r"^v?[xX*](?:\.[xX*])*$")
_CARET_RE = re.compile(rf"^\^\s*(?P<version>{_V})$", re.IGNORECASE)
_TILDE_RE = re.compile(rf"^~(?!=)\s*(?P<version>{_V})$", re.IGNORECASE)
_COMPATIBLE_RE = re.compile(rf"^~=\s*(?P<version>{_V})$", re.IGNORECASE)
_WILDCARD_RE = re.compile(r"^(?P<op>!=|==)?\s*v?(?P<version>[0-9]+(?:\.[0-9]+){0,2})(?:\.\*)+$")
_BASIC_RE = re.compile(rf"^(?P<op><>|!=|>=?|<=?|==?)?\s*(?P<version>{_V})(?P<wildcard>\.\*)?$", re.IGNORECASE)
# poetry-core's separator between the parts of one alternative: a comma or a space that
# does not follow an operator.
_AND_RE = re.compile(r"(?<!^)(?<![\^~=>< ,]) *(?<!-)[, ](?!-) *(?!,|$)")
_OR_RE = re.compile(r"\s*\|\|?\s*")
_ORDER = {"===": 0, "==": 1, "~=": 2, ">=": 3, ">": 4, "<=": 5, "<": 6, "!=": 7}


class ConstraintError(ValueError):
    """A constraint poetry would reject; ``offset``/``width`` locate it in the text."""

    def __init__(self, message: str, offset: int = 0, width: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.width = max(width, 1)


@dataclass(frozen=True)
class Translation:
    """A poetry constraint in PEP 440: ``specifier`` ("" for any version), and whether it
    means exactly what poetry means (``False`` for a union widened to one range)."""

    specifier: str
    exact: bool = True


# ---------------------------------------------------------------------------------------
# Parsing


def parse(text: str) -> tuple[tuple[Clause, ...], ...]:
    """The alternatives of ``text``, each a tuple of PEP 440 clauses (empty: any version).

    Raises :class:`ConstraintError` where poetry-core raises ``ParseConstraintError``.
    """
    if text.strip() == "*":
        return ((),)
    alternatives: list[tuple[Clause, ...]] = []
    for part, start in _split(text, _OR_RE):
        trimmed = part.rstrip(",").rstrip()
        clauses: list[Clause] = []
        for single, offset in _split(trimmed, _AND_RE):
            clauses.extend(_single(single, start + offset))
        alternatives.append(tuple(clauses))
    return tuple(alternatives)


def _split(text: str, separator: re.Pattern[str]) -> list[tuple[str, int]]:
    """``text`` split on ``separator``, each piece with its offset (leading blanks skipped)."""
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    pieces: list[tuple[str, int]] = []
    position = 0
    for match in separator.finditer(body):
        if match.start() == match.end():
            continue
        pieces.append((body[position : match.start()], lead + position))
        position = match.end()
    pieces.append((body[position:], lead + position))
    return pieces


def _version(text: str, offset: int) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise ConstraintError(f"invalid version {text!r}", offset, len(text)) from None


def _single(text: str, offset: int) -> list[Clause]:
    """One constraint ``single`` (see the module grammar) as PEP 440 clauses."""
    if _ANY_RE.match(text):
        return []
    for pattern, kind in ((_TILDE_RE, "~"), (_COMPATIBLE_RE, "~="), (_CARET_RE, "^")):
        match = pattern.match(text)
        if match:
            raw = match.group("version")
            version = _version(raw, offset + match.start("version"))
            low = str(version)
            if kind == "^":
                return [(">=", low), ("<", caret_upper(version))]
            if kind == "~":
                return [(">=", low), ("<", tilde_upper(version))]
            if len(version.release) < 2:  # ``~=1``: not PEP 440; poetry reads it as ``^1``
                return [(">=", low), ("<", _bump(version, 0))]
            return [("~=", low)]
    match = _WILDCARD_RE.match(text)
    if match:
        op = match.group("op") or "=="
        return [(op, f"{Version(match.group('version'))}.*")]
    match = _BASIC_RE.match(text)
    if match:
        op = match.group("op") or "=="
        op = {"=": "==", "<>": "!="}.get(op, op)
        version = _version(match.group("version"), offset + match.start("version"))
        if match.group("wildcard") and op in ("==", "!="):
            if version.pre or version.post is not None or version.dev is not None or version.local:
                raise ConstraintError(f"a wildcard needs a plain release: {text!r}", offset, len(text))
            return [(op, f"{version}.*")]
        # poetry ignores a wildcard after an ordering operator (``>=1.2.*`` is ``>=1.2``)
        return [(op, str(version))]
    raise ConstraintError(f"could not parse version constraint {text!r}", offset, len(text) or 1)


def _bump(version: Version, index: int) -> str:
    """The release of ``version`` with part ``index`` raised by one and the rest zeroed,
    keeping its number of parts (poetry's ``next_major``/``next_minor``/``next_patch``)."""
    release = list(version.release)
    while len(release) <= index:
        release.append(0)
    release[index] += 1
    release[index + 1 :] = [0] * (len(release) - index - 1)
    epoch = f"{version.epoch}!" if version.epoch else ""
    return epoch + ".".join(str(part) for part in release)


def caret_upper(version: Version) -> str:
    """The exclusive upper bound of ``^version``: the next release that may break it."""
    release = version.release
    if release[0] > 0 or len(release) < 2:
        return _bump(version, 0)
    if release[1] > 0 or len(release) < 3:
        return _bump(version, 1)
    return _bump(version, 2)


def tilde_upper(version: Version) -> str:
    """The exclusive upper bound of ``~version``: the next minor (the next major for ``~X``)."""
    return _bump(version, 0 if len(version.release) == 1 else 1)


# ---------------------------------------------------------------------------------------
# Poetry -> PEP 440


def to_pep440(text: str) -> Translation:
    """``text`` (a poetry constraint) as a PEP 440 specifier string.

    Raises :class:`ConstraintError` when poetry would reject ``text`` or when the result is
    not valid PEP 440 (``^1.0+local``: PEP 440 allows no local version after ``>=``).
    """
    alternatives = parse(text)
    if any(not clauses for clauses in alternatives):
        return Translation("")
    if len(alternatives) == 1:
        result = Translation(",".join(op + v for op, v in alternatives[0]))
    else:
        result = _union(alternatives)
    try:
        SpecifierSet(result.specifier)
    except InvalidSpecifier:
        raise ConstraintError(
            f"{text!r} has no PEP 440 form ({result.specifier!r} is not valid)", 0, len(text)
        ) from None
    return result


_Interval = tuple[Optional[Version], bool, Optional[Version], bool]


def _interval(clauses: tuple[Clause, ...]) -> _Interval | None:
    """(low, low inclusive, high, high inclusive) when ``clauses`` are simple bounds."""
    low: Version | None = None
    high: Version | None = None
    low_inclusive = high_inclusive = False
    for op, text in clauses:
        if text.endswith(".*") or op == "!=":
            return None
        version = Version(text)
        if op == "~=":
            upper = Version(_bump(version, len(version.release) - 2))
            pieces: list[Clause] = [(">=", text), ("<", str(upper))]
        elif op == "==":
            pieces = [(">=", text), ("<=", text)]
        else:
            pieces = [(op, text)]
        for piece_op, piece_text in pieces:
            bound = Version(piece_text)
            if piece_op in (">=", ">") and (low is None or bound > low):
                low, low_inclusive = bound, piece_op == ">="
            elif piece_op in ("<=", "<") and (high is None or bound < high):
                high, high_inclusive = bound, piece_op == "<="
    return low, low_inclusive, high, high_inclusive


def _union(alternatives: tuple[tuple[Clause, ...], ...]) -> Translation:
    """The smallest single range holding every alternative; exact when they touch."""
    intervals = [_interval(clauses) for clauses in alternatives]
    if any(interval is None for interval in intervals):
        return Translation("", exact=False)
    spans = sorted(
        (i for i in intervals if i is not None),
        key=lambda i: (i[0] is not None, i[0] or Version("0")),
    )
    exact = True
    low, low_inclusive, high, high_inclusive = spans[0]
    for next_low, next_low_inclusive, next_high, next_high_inclusive in spans[1:]:
        if (
            high is not None
            and next_low is not None
            and (next_low > high or (next_low == high and not (high_inclusive or next_low_inclusive)))
        ):
            exact = False
        if high is None or next_high is None:
            high = None
        elif next_high > high or (next_high == high and next_high_inclusive):
            high, high_inclusive = next_high, next_high_inclusive
    parts = []
    if low is not None:
        parts.append((">=" if low_inclusive else ">") + str(low))
    if high is not None:
        parts.append(("<=" if high_inclusive else "<") + str(high))
    return Translation(",".join(parts), exact)


# ---------------------------------------------------------------------------------------
# PEP 440 -> poetry


def ordered(specifier: SpecifierSet | str) -> str:
    """``specifier`` as a string with lower bounds first (``>=1.2,<2``), for people."""
    specs = sorted(SpecifierSet(str(specifier)), key=lambda s: (_ORDER.get(s.operator, 9), s.version))
    return ",".join(str(s) for s in specs)


def from_pep440(specifier: SpecifierSet | str) -> str:
    """``specifier`` in poetry's own words: ``^``/``~`` where they say exactly the same,
    a bare version for ``==V``, ``*`` for any, else the PEP 440 clauses (poetry reads them).

    ``===`` has no poetry form; callers replace it first (see :func:`has_arbitrary`).
    """
    specs = list(SpecifierSet(str(specifier)))
    if not specs:
        return "*"
    if len(specs) == 1 and specs[0].operator == "==" and not specs[0].version.endswith(".*"):
        return specs[0].version
    by_op = {s.operator: s for s in specs}
    if len(specs) == 2 and set(by_op) == {">=", "<"}:
        try:
            low = Version(by_op[">="].version)
            high = Version(by_op["<"].version)
        except InvalidVersion:  # pragma: no cover - SpecifierSet validated both
            return ordered(specifier)
        if high == Version(caret_upper(low)):
            return f"^{by_op['>='].version}"
        if high == Version(tilde_upper(low)):
            return f"~{by_op['>='].version}"
    return ordered(specifier)


def has_arbitrary(specifier: SpecifierSet) -> bool:
    """True when ``specifier`` uses ``===``, which poetry cannot read."""
    return any(s.operator == "===" for s in specifier)


def without_arbitrary(specifier: SpecifierSet) -> SpecifierSet:
    """``specifier`` with each ``===V`` read as ``==V``; an ``===V`` whose ``V`` is not a
    version (:func:`unversioned_arbitrary`) has no ``==`` form and is left out."""
    kept = []
    for s in specifier:
        if s.operator == "===":
            try:
                kept.append(str(Specifier(f"=={s.version}")))
            except InvalidSpecifier:
                continue
        else:
            kept.append(str(s))
    return SpecifierSet(",".join(kept))


def unversioned_arbitrary(specifier: SpecifierSet) -> list[str]:
    """The ``===V`` of ``specifier`` whose ``V`` is not a version (``===foobar``)."""
    found = []
    for s in specifier:
        if s.operator == "===":
            try:
                Specifier(f"=={s.version}")
            except InvalidSpecifier:
                found.append(str(s))
    return found


# ---------------------------------------------------------------------------------------
# ``python`` and ``platform`` keys -> markers


def _precision(text: str) -> int:
    return len(Version(text.removesuffix(".*")).release)


def _padded(text: str) -> str:
    version = Version(text)
    release = list(version.release) + [0] * (3 - len(version.release))
    return ".".join(str(part) for part in release)


def _python_clause(op: str, text: str) -> list[str]:
    """One clause of a ``python`` constraint as marker atoms, following poetry-core's
    ``create_nested_marker``: ``python_full_version`` where ``python_version`` (two parts)
    would compare differently."""
    if op == "~=":
        version = Version(text)
        return _python_clause(">=", text) + _python_clause("<", _bump(version, len(version.release) - 2))
    full = _precision(text) >= 3
    if op in (">", "<=", "!=") and not full and not text.endswith(".*"):
        return [f'python_full_version {op} "{_padded(text)}"']
    name = "python_full_version" if full else "python_version"
    return [f'{name} {op} "{text}"']


def python_marker(text: str) -> str:
    """A poetry ``python = "..."`` dependency key as a PEP 508 marker ("" for any)."""
    alternatives = parse(text)
    if any(not clauses for clauses in alternatives):
        return ""
    rendered = []
    for clauses in alternatives:
        atoms = [atom for op, v in clauses for atom in _python_clause(op, v)]
        joined = " and ".join(atoms)
        rendered.append(f"({joined})" if len(alternatives) > 1 and len(atoms) > 1 else joined)
    return " or ".join(rendered)


_GENERIC_RE = re.compile(r"^(?P<op>!=|==?=?)?\s*(?P<value>.+?)\s*$")


def platform_marker(text: str) -> str:
    """A poetry ``platform = "..."`` dependency key (``linux``, ``!=win32``,
    ``darwin || linux``) as a ``sys_platform`` marker ("" for any)."""
    if text.strip() == "*":
        return ""
    rendered = []
    alternatives = _OR_RE.split(text.strip())
    for alternative in alternatives:
        atoms = []
        for single in re.split(r"\s*,\s*", alternative):
            match = _GENERIC_RE.match(single)
            if not match or '"' in match.group("value"):
                raise ConstraintError(f"could not parse platform {single!r}", text.find(single), len(single))
            op = "!=" if match.group("op") == "!=" else "=="
            atoms.append(f'sys_platform {op} "{match.group("value")}"')
        joined = " and ".join(atoms)
        rendered.append(f"({joined})" if len(alternatives) > 1 and len(atoms) > 1 else joined)
    return " or ".join(rendered)


def and_markers(*markers: str | Marker | None) -> Marker | None:
    """The conjunction of ``markers`` (``None`` and "" skipped), each parenthesised when
    it holds an ``or``; ``None`` when nothing is left. Raises ``InvalidMarker``."""
    parts = [str(m) for m in markers if m is not None and str(m)]
    if not parts:
        return None
    if len(parts) == 1:
        return Marker(parts[0])
    return Marker(" and ".join(f"({p})" if " or " in p else p for p in parts))
