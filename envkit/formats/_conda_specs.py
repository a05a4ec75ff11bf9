"""Conda MatchSpecs, and pip (PEP 440) <-> conda version specifiers translated only when exact.

MatchSpec grammar, as conda's ``MatchSpec`` reads the strings of an ``environment.yml``::

    matchspec := [channel "::"] name [version-part [build]] ["[" key=value, ... "]"]
    version-part := ("=" | "==" | "!=" | ">=" | "<=" | ">" | "<" | "~=" | " ") version-spec
    version-spec := constraint ("," constraint)* ("|" ...)      spaces are ignored
    constraint := [op] version ["*" | ".*"]

``name=1.2`` means ``1.2.*`` (conda's "fuzzy" form) and ``name==1.2`` or ``name 1.2`` means
exactly 1.2; ``name=1.2=build`` pins a build string, which pip cannot express.

**What "exact" means.** A translation is exact when, for every version in the comparison
domain, conda (as py-rattler, the solver envkit uses, matches it) admits the version if and
only if ``packaging`` does (``SpecifierSet.contains(v, prereleases=True)``). The domain is
the versions Python packages are published under: canonical PEP 440 versions without epoch
or local label, whose pre-, post- and dev-releases are spelled with at least as many
release components as every version the specifier names. Publishers spell a series one
way (``2.0.0rc1`` beside ``2.0.0``); conda pads *after* a suffix, so it compares ``2rc1`` or
``1.post1`` against ``2.0.0`` or ``1.0.1`` differently from PEP 440. Pre-release *selection*
(pip skips pre-releases unless asked; conda-forge publishes them under separate labels) is
installer policy, not part of a specifier. So conda's own ``<2`` matches pip's ``<2`` only
where no pre-release of 2 exists; envkit does not rely on that and writes ``<2dev0``. The
translations below are checked against py-rattler over probe versions around every bound
in the tests.

**pip -> conda** (:func:`pip_to_conda`), per specifier; anything else stays with pip:

==============  ==================  ===================================================
PEP 440         conda               why
==============  ==================  ===================================================
``==1.2``       ``==1.2``           ``=1.2`` would mean ``1.2.*`` to conda
``==1.2.*``     ``1.2.*``           conda reads ``==1.2.*`` (in a list) as ``==1.2``
``!=1.2``       ``!=1.2``
``!=1.2.*``     ``!=1.2.*``
``>=1.2``       ``>=1.2``
``<=1.2``       ``<=1.2``
``<2``          ``<2dev0``          conda's ``<2`` admits 2.0's pre-releases; PEP 440's
                                    does not. ``dev`` sorts below every other tag in
                                    conda, so ``2dev0`` is the lowest version of 2
``~=1.4.2``     ``>=1.4.2,1.4.*``   expanded (older conda has no ``~=``)
``>1.2``        (pip)               PEP 440's excludes 1.2's post-releases; conda's not
``===x``        (pip)               no conda form
``+local``      (pip)               conda-forge builds carry no local labels
``1!2`` epoch   (pip)               epochs are rare and not worth the risk
pre/post/dev    (pip)               conda orders ``1.0.dev1`` after ``1.0a1`` and attaches
                                    suffixes to the last component (``1.0rc1`` is not
                                    ``1.0.0rc1``)
==============  ==================  ===================================================

**conda -> pip** (:func:`conda_to_pip`) is the inverse: ``=1.2``/``1.2*``/``1.2.*`` ->
``==1.2.*``; ``1.2``/``==1.2`` -> ``==1.2``; ``>1.2`` -> ``>=1.2,!=1.2`` (conda's ``>``
admits post-releases); ``<2`` -> ``<=2,!=2`` (conda's ``<`` admits 2.0's pre-releases);
``<2dev0`` -> ``<2``; ``>=1.4.2,1.4.*`` -> ``~=1.4.2``; ``~=``, ``>=``, ``<=``, ``!=`` as they
are. ``|`` (or), versions with letters, ``.*`` after ``>=``/``<=``, ``==1.2.*`` inside a
list (conda drops the ``.*`` there, mamba does not) and globs anywhere but at the end have
no exact PEP 440 form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "InexactSpec",
    "InvalidCondaSpec",
    "MatchSpecParts",
    "conda_to_pip",
    "matchspec_string",
    "parse_matchspec",
    "pip_to_conda",
]


class InexactSpec(ValueError):
    """The specifier has no exact form on the other side; the message says why."""


class InvalidCondaSpec(ValueError):
    """A malformed MatchSpec; ``offset``/``width`` mark the span in the spec string."""

    def __init__(self, message: str, offset: int = 0, width: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.width = width


_RELEASE_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")
_CONDA_VERSION_CHARS_RE = re.compile(r"^[0-9A-Za-z_.+!]+$")
_OPERATOR_RE = re.compile(r"^(==|!=|>=|<=|~=|>|<|=)?(.*)$")
_DEV_BOUND_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)*)dev0$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# conda's own split of "version [build]" (conda.models.match_spec._parse_version_plus_build).
_VERSION_BUILD_RE = re.compile(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$")
_NAME_SPLIT_RE = re.compile(r"([^ =<>!~]+)?([><!=~ ].+)?", re.DOTALL)

# Ordering of operators in the conda specs we write: lower bound first.
_RANK = {"==": 0, "===": 0, "~=": 1, ">=": 2, ">": 2, "<=": 3, "<": 3, "!=": 4}


# ---------------------------------------------------------------------------------------
# pip -> conda


def pip_to_conda(spec: SpecifierSet) -> str:
    """The conda version spec that admits exactly what ``spec`` admits (``""`` for any).

    Raises :class:`InexactSpec` naming the first specifier that has no exact conda form.
    """
    parts: list[str] = []
    for item in sorted(spec, key=lambda s: (_RANK.get(s.operator, 9), s.version)):
        for part in _one_to_conda(item):
            if part not in parts:
                parts.append(part)
    return ",".join(parts)


def _one_to_conda(item: Specifier) -> list[str]:
    op, text = item.operator, item.version
    if op == "===":
        raise InexactSpec(f"'{item}' (arbitrary equality) has no conda form")
    glob = text.endswith(".*")
    release = _plain_release(item, text[:-2] if glob else text)
    if op == "==":
        return [f"{release}.*"] if glob else [f"=={release}"]
    if op == "!=":
        return [f"!={release}.*"] if glob else [f"!={release}"]
    if op in (">=", "<="):
        return [f"{op}{release}"]
    if op == "<":
        return [f"<{_strip_zeros(release)}dev0"]
    if op == "~=":
        prefix = release.rsplit(".", 1)[0]
        return [f">={release}", f"{prefix}.*"]
    if op == ">":
        raise InexactSpec(f"pip's '{item}' excludes the post-releases of {text}; conda's '>' admits them")
    raise InexactSpec(f"operator {op!r} has no conda form")  # pragma: no cover - packaging knows no others


def _plain_release(item: Specifier, text: str) -> str:
    """The release part of ``text`` as dotted integers, or :class:`InexactSpec` saying why not."""
    try:
        version = Version(text)
    except InvalidVersion:  # pragma: no cover - packaging validated the specifier already
        raise InexactSpec(f"'{item}' has an invalid version") from None
    if version.local is not None:
        raise InexactSpec(f"'{item}' names a local version (+{version.local}); conda packages carry none")
    if version.epoch:
        raise InexactSpec(f"'{item}' has an epoch; envkit does not translate epochs to conda")
    if version.pre is not None or version.post is not None or version.dev is not None:
        raise InexactSpec(f"'{item}' names a pre-, post- or dev-release, which conda orders differently")
    return ".".join(str(n) for n in version.release)


def _strip_zeros(release: str) -> str:
    parts = release.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


# ---------------------------------------------------------------------------------------
# conda -> pip


def conda_to_pip(text: str) -> SpecifierSet:
    """The PEP 440 specifier set that admits exactly what conda version spec ``text`` admits.

    ``text`` is the version part of a MatchSpec as conda reads it (``=1.2``, ``>=1,<2``,
    ``1.2.*``; spaces ignored). Raises :class:`InexactSpec` when there is no exact form.
    """
    body = "".join(text.split())
    if body in ("", "*", "=*", "==*"):
        return SpecifierSet()
    if "|" in body or "(" in body or ")" in body:
        raise InexactSpec(f"'{text}' uses conda's '|' (or), which PEP 440 cannot express")
    constraints = body.split(",")
    out: list[str] = []
    for constraint in constraints:
        out.extend(_one_to_pip(constraint, alone=len(constraints) == 1))
    out = _fold_compatible(out)
    try:
        return SpecifierSet(",".join(out))
    except InvalidSpecifier:  # pragma: no cover - every piece is built from a plain release
        raise InexactSpec(f"'{text}' has no PEP 440 form") from None


def _fold_compatible(clauses: list[str]) -> list[str]:
    """``>=1.4.2`` with ``==1.4.*`` is ``~=1.4.2``: undo the expansion :func:`pip_to_conda` makes."""
    out = list(clauses)
    for clause in clauses:
        if clause.startswith(">=") and "." in clause:
            version = clause[2:]
            prefix = f"=={version.rsplit('.', 1)[0]}.*"
            if prefix in out and clause in out:
                out[out.index(clause)] = f"~={version}"
                out.remove(prefix)
    return out


def _one_to_pip(constraint: str, *, alone: bool) -> list[str]:
    match = _OPERATOR_RE.match(constraint)
    assert match is not None
    op, version = match.group(1) or "", match.group(2)
    if not version:
        raise InvalidCondaSpec(f"'{constraint}' has no version after the operator")
    glob = False
    if version.endswith(".*"):
        glob, version = True, version[:-2]
    elif version.endswith("*"):
        glob, version = True, version[:-1]
    if not _RELEASE_RE.match(version):
        if op == "<" and not glob and (dev := _DEV_BOUND_RE.match(version)):
            return [f"<{dev.group(1)}"]
        if "*" in version or not _CONDA_VERSION_CHARS_RE.match(version):
            if "*" in version:
                raise InexactSpec(f"'{constraint}': a wildcard inside a version has no PEP 440 form")
            raise InvalidCondaSpec(f"'{constraint}' is not a valid conda version constraint")
        raise InexactSpec(
            f"'{constraint}': versions with letters (pre-, post-, dev-releases, local labels)"
            " order differently in conda"
        )
    if glob:
        if op in ("", "="):
            return [f"=={version}.*"]
        if op == "!=":
            return [f"!={version}.*"]
        if op == "==" and alone:
            return [f"=={version}.*"]
        raise InexactSpec(f"'{constraint}': conda and mamba read '{op}' with '.*' differently")
    if op in ("", "=="):
        return [f"=={version}"]
    if op == "=":
        return [f"=={version}.*"]
    if op == ">":
        return [f">={version}", f"!={version}"]
    if op == "<":
        return [f"<={version}", f"!={version}"]
    if op == "~=":
        if "." not in version:
            raise InvalidCondaSpec(f"'{constraint}': '~=' needs a version with at least two parts")
        return [f"~={version}"]
    return [f"{op}{version}"]


# ---------------------------------------------------------------------------------------
# MatchSpec strings


@dataclass(frozen=True)
class MatchSpecParts:
    """A MatchSpec split the way conda splits it; offsets are into the original string."""

    text: str
    name: str
    channel: Optional[str] = None
    version: Optional[str] = None  # as conda reads it: "=1.2" kept as "=1.2"
    build: Optional[str] = None
    brackets: Optional[str] = None
    name_offset: int = 0

    @property
    def key(self) -> str:
        """The package name as conda compares it (lower case)."""
        return self.name.lower()


def parse_matchspec(text: str) -> MatchSpecParts:
    """Split ``text`` into channel, name, version and build as conda does.

    Raises :class:`InvalidCondaSpec` for a string conda would reject.
    """
    spec = text.split("#", 1)[0].rstrip()
    lead = len(spec) - len(spec.lstrip())
    spec = spec.strip()
    if not spec:
        raise InvalidCondaSpec("empty package spec", 0, max(len(text), 1))
    brackets = None
    if spec.endswith("]"):
        opening = spec.find("[")
        if opening < 0:
            raise InvalidCondaSpec("']' without '['", lead + len(spec) - 1)
        brackets = spec[opening + 1 : -1]
        spec = spec[:opening]
    channel = None
    offset = lead
    if "::" in spec:
        channel, spec = spec.rsplit("::", 1)
        offset += len(channel) + 2
        if not channel:
            raise InvalidCondaSpec("empty channel before '::'", lead, 2)
    split = _NAME_SPLIT_RE.match(spec)
    assert split is not None
    name, rest = split.group(1), split.group(2)
    if not name:
        raise InvalidCondaSpec("expected a package name", offset, max(len(spec), 1))
    if not _NAME_RE.match(name):
        bad = next((i for i, ch in enumerate(name) if not (ch.isalnum() or ch in "_.-")), 0)
        raise InvalidCondaSpec(f"invalid package name {name!r}", offset + bad)
    version = build = None
    rest = (rest or "").strip()
    if rest:
        version, build = _version_and_build(rest)
    return MatchSpecParts(text, name, channel, version, build, brackets, offset)


def _version_and_build(rest: str) -> tuple[Optional[str], Optional[str]]:
    """conda's ``_parse_version_plus_build`` and its ``=1.2.3`` -> ``1.2.3*`` rule."""
    match = _VERSION_BUILD_RE.search(rest)
    if match:
        version, build = match.group(1), match.group(2)
        build = build.strip() if build else None
    else:  # pragma: no cover - the pattern matches any non-empty text
        version, build = rest, None
    version = version.replace(" ", "") if version else version
    if not version or version in ("=", "=="):
        raise InvalidCondaSpec(f"'{rest}' has no version")
    if version.startswith("=="):
        if build is None:  # conda drops a leading '==': '==1.2.*' is then '1.2.*'
            version = version[2:]
    elif version.startswith("="):
        inner = version[1:]
        if not any(c in inner for c in "=,|"):
            version = inner if (build is not None or inner.endswith("*")) else "=" + inner
    return version, build


def matchspec_string(name: str, version: str = "", channel: str | None = None) -> str:
    """``[channel::]name[version]``: operators attach directly, a bare glob after a space."""
    head = f"{channel}::{name}" if channel else name
    if not version:
        return head
    return head + (version if version[0] in "<>=!~" else f" {version}")
