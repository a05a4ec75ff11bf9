"""The canonical model every format reads into and writes from.

Frozen value objects, no I/O. Equality is semantic: names and extras compare in their
PEP 503 normalized form, version specifiers as sets, markers by their canonical string,
hashes regardless of order; where a requirement came from, its comment and its original
spelling never take part. Printing keeps the user's spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any, Literal, Optional
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

__all__ = [
    "Dependency",
    "Diagnostic",
    "Environment",
    "Origin",
    "PipOptions",
    "Source",
    "SourceKind",
    "mask_secrets",
    "redact_url",
]

SourceKind = Literal["index", "extra-index", "find-links"]

#: pip's only form of variable reference in a requirements file.
VAR_RE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")

_TOKEN_QUERY_RE = re.compile(
    r"(?i)([?&](?:token|access_token|auth|key|apikey|api_key|password|secret|sig|signature)=)[^&#]*"
)


@dataclass(frozen=True)
class Origin:
    """Where a piece of the model was read: file, 1-based line and column, the line's text."""

    path: str
    line: int
    column: int = 1
    text: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    """A warning found while reading: not fatal, but the user should know."""

    message: str
    origin: Optional[Origin] = None

    def __str__(self) -> str:
        where = f"{self.origin.path}:{self.origin.line}:{self.origin.column}: " if self.origin else ""
        return f"{where}warning: {self.message}"


def _keep(part: str) -> bool:
    """True when ``part`` is empty or nothing but ``${VAR}`` references (names, not secrets)."""
    return not part or re.fullmatch(r"(?:\$\{[A-Z0-9_]+\})+", part) is not None


def redact_url(url: str) -> str:
    """``url`` with literal credentials and token query values replaced by ``***``.

    ``${VAR}`` references are kept: they are names, not secrets. A user name beside a
    password is kept (``__token__``, ``oauth2``); a lone user part is often a token itself.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, sep, password = userinfo.partition(":")
        if sep:
            netloc = f"{user}:{password if _keep(password) else '***'}@{host}"
        else:
            netloc = f"{user if _keep(user) else '***'}@{host}"
    query = _TOKEN_QUERY_RE.sub(r"\1***", "?" + parts.query)[1:] if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# The look-behind makes a match start only where a scheme can start: without it the
# pattern retries at every letter of a long word (quadratic).
_URL_IN_TEXT_RE = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def mask_secrets(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``*``, one per character.

    Unlike :func:`redact_url` the length of the text does not change, so a caret drawn
    under it still points at the right column.
    """

    def mask(match: re.Match[str]) -> str:
        url = match.group(0)
        shown = redact_url(url)
        if shown == url:
            return url
        out = list(url)
        # Walk both strings: every run that redact_url turned into '***' is masked in place.
        i = j = 0
        while i < len(url) and j < len(shown):
            if url[i] == shown[j]:
                i += 1
                j += 1
                continue
            if shown.startswith("***", j):
                j += 3
                end = shown[j] if j < len(shown) else None
                while i < len(url) and (end is None or url[i] != end):
                    out[i] = "*"
                    i += 1
                continue
            i += 1
            j += 1
        return "".join(out)

    if "://" not in text:
        return text
    return _URL_IN_TEXT_RE.sub(mask, text)


@dataclass(frozen=True)
class Source:
    """A package location: an index, an extra index or a find-links place.

    ``url`` never holds credentials; ``username`` and ``password`` hold them apart, as
    written (a literal, or a ``${VAR}`` reference that is never expanded here).
    """

    kind: SourceKind
    url: str
    username: Optional[str] = None
    password: Optional[str] = None
    name: Optional[str] = None
    #: How a tool may use it beyond pip's two kinds: poetry's ``primary``/``supplemental``/
    #: ``explicit``, uv's ``explicit``/``default``. ``None`` when the format has no such word.
    priority: Optional[str] = None
    verify_ssl: bool = True
    origin: Optional[Origin] = field(default=None, compare=False)

    @classmethod
    def from_url(
        cls,
        kind: SourceKind,
        url: str,
        *,
        name: str | None = None,
        priority: str | None = None,
        verify_ssl: bool = True,
        origin: Origin | None = None,
    ) -> Source:
        """Split ``url`` into a credential-free URL and its user and password."""
        username = password = None
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is not None and parts.scheme and "@" in parts.netloc:
            userinfo, host = parts.netloc.rsplit("@", 1)
            user, sep, pw = userinfo.partition(":")
            username = unquote(user) if user else None
            password = unquote(pw) if sep else None
            url = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        return cls(kind, url, username, password, name, priority, verify_ssl, origin)

    @property
    def has_credentials(self) -> bool:
        return self.username is not None or self.password is not None

    def full_url(self) -> str:
        """The URL with its credentials put back, as the user wrote them."""
        if not self.has_credentials:
            return self.url
        parts = urlsplit(self.url)
        user = _quote_userinfo(self.username or "")
        userinfo = user if self.password is None else f"{user}:{_quote_userinfo(self.password)}"
        return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))

    def redacted_url(self) -> str:
        """The URL with literal credentials shown as ``***`` and references kept."""
        return redact_url(self.full_url())


def _quote_userinfo(part: str) -> str:
    # Keep ${VAR} references readable; percent-encode anything that would break the URL.
    return "".join(
        chunk if VAR_RE.fullmatch(chunk) else quote(chunk, safe="!$&'()*+,;=-._~")
        for chunk in re.split(r"(\$\{[A-Z0-9_]+\})", part)
    )


@dataclass(frozen=True)
class PipOptions:
    """pip's file-wide options other than the package locations (those are sources)."""

    no_index: bool = False
    pre: bool = False
    prefer_binary: bool = False
    require_hashes: bool = False
    no_require_hashes: bool = False
    trusted_hosts: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    only_binary: tuple[str, ...] = ()
    all_releases: tuple[str, ...] = ()
    only_final: tuple[str, ...] = ()
    use_features: tuple[str, ...] = ()

    def is_default(self) -> bool:
        return self == PipOptions()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


def _canonical_specifier(spec: SpecifierSet) -> str:
    from packaging.utils import canonicalize_version

    return ",".join(
        sorted(f"{s.operator}{s.version if '*' in s.version else canonicalize_version(s.version)}" for s in spec)
    )


def _hash_key(hashes: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    # Sorted, not a set: the key's repr must be the same for equal values (sort_key).
    return tuple(sorted({(algo.lower(), digest.lower()) for algo, digest in hashes}))


@dataclass(frozen=True, eq=False)
class Dependency:
    """One requirement (or constraint) line, named or not.

    ``name`` is the project name as written (``None`` when only a build can tell, as for
    an sdist path or a VCS URL without ``#egg=``). ``url`` is a direct URL (archive, VCS
    or ``file:``) exactly as written, ``${VAR}`` references included; ``path`` a local path
    as written. ``text`` is the requirement as the user spelled it.
    """

    name: Optional[str]
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    extras: frozenset[str] = frozenset()
    marker: Optional[Marker] = None
    url: Optional[str] = None
    path: Optional[str] = None
    editable: bool = False
    constraint: bool = False
    hashes: tuple[tuple[str, str], ...] = ()
    config_settings: tuple[tuple[str, str], ...] = ()
    global_options: tuple[str, ...] = ()
    #: The dependency group it belongs to (``dev`` for Pipfile ``[dev-packages]``, poetry
    #: groups, PEP 735 groups); ``None`` for the main list.
    group: Optional[str] = None
    #: The name of the :class:`Source` it must come from (Pipfile ``index``, poetry
    #: ``source``, uv ``index``); ``None`` when any configured index may serve it.
    index: Optional[str] = None
    #: The conda channel it must come from (``pytorch::pytorch``); conda formats only.
    channel: Optional[str] = None
    text: str = field(default="", compare=False)
    comment: Optional[str] = field(default=None, compare=False)
    origin: Optional[Origin] = field(default=None, compare=False)
    #: ``"pip"`` for an entry of a conda file's ``pip:`` section, which a conda file
    #: written from it keeps there; not part of equality (conda formats only).
    installer: Optional[str] = field(default=None, compare=False)

    # -- identity -------------------------------------------------------------------
    @cached_property
    def key(self) -> Optional[str]:
        """The PEP 503 normalized name, or ``None`` for an unnamed requirement."""
        return canonicalize_name(self.name) if self.name else None

    def _eq_key(self) -> tuple[Any, ...]:
        return (
            self.key,
            self.specifier,
            tuple(sorted({canonicalize_name(e) for e in self.extras})),
            str(self.marker) if self.marker is not None else None,
            self.url,
            self.path,
            self.editable,
            self.constraint,
            _hash_key(self.hashes),
            self.config_settings,
            self.global_options,
            self.group,
            self.index,
            self.channel,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dependency):
            return NotImplemented
        return self._eq_key() == other._eq_key()

    def __hash__(self) -> int:
        return hash(self._eq_key())

    def sort_key(self) -> str:
        """A string equal for equal dependencies (the specifier in a canonical spelling)."""
        key = list(self._eq_key())
        key[1] = _canonical_specifier(self.specifier)
        return repr(tuple(key))

    # -- views ------------------------------------------------------------------------
    @property
    def location(self) -> Optional[str]:
        """Where the distribution comes from when it is not an index: the URL or path."""
        return self.url or self.path

    @property
    def is_vcs(self) -> bool:
        return bool(self.url) and bool(re.match(r"(?i)(git|hg|svn|bzr)\+", self.url or ""))

    def hashes_by_algorithm(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for algo, digest in self.hashes:
            result.setdefault(algo, []).append(digest)
        return result

    def requirement(self) -> Optional[Requirement]:
        """The PEP 508 requirement this dependency stands for, ``None`` when unnamed."""
        if not self.name:
            return None
        return Requirement(self.pep508())

    def pep508(self) -> str:
        """A PEP 508 string: ``name[extras] spec`` or ``name[extras] @ url``, plus marker."""
        if not self.name:
            raise ValueError("an unnamed requirement has no PEP 508 form")
        out = self.name
        if self.extras:
            out += "[" + ",".join(sorted(self.extras)) + "]"
        if self.url:
            out += f" @ {self.url}"
            if self.marker is not None:
                out += " "
        elif self.specifier:
            out += str(self.specifier)
        if self.marker is not None:
            out += f"; {self.marker}"
        return out

    def with_changes(self, **changes: Any) -> Dependency:
        return replace(self, **changes)

    def __str__(self) -> str:
        return self.text or (self.pep508() if self.name else (self.location or ""))


@dataclass(frozen=True, eq=False)
class Environment:
    """A declared environment: interpreter, package sources, options and dependencies.

    ``requirements`` keeps file order with includes expanded in place; constraints
    (``-c``) are in it too, flagged. ``conda`` holds conda-only specs (``cudatoolkit=11.8``)
    that no Python installer can carry; ``channels`` and ``variables`` are conda's too.
    Requirement order does not take part in equality.
    """

    requirements: tuple[Dependency, ...] = ()
    python: Optional[SpecifierSet] = None
    sources: tuple[Source, ...] = ()
    options: PipOptions = field(default_factory=PipOptions)
    conda: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    name: Optional[str] = None
    format: str = "requirements"
    notes: tuple[Diagnostic, ...] = field(default=(), compare=False)

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        return tuple(d for d in self.requirements if not d.constraint)

    @property
    def constraints(self) -> tuple[Dependency, ...]:
        return tuple(d for d in self.requirements if d.constraint)

    def index_source(self) -> Optional[Source]:
        """The source that replaces PyPI, if any."""
        return next((s for s in self.sources if s.kind == "index"), None)

    def source_named(self, name: str) -> Optional[Source]:
        return next((s for s in self.sources if s.name == name), None)

    @property
    def groups(self) -> tuple[str, ...]:
        """Group names in first-seen order (the main list, ``None``, excluded)."""
        return tuple(dict.fromkeys(d.group for d in self.requirements if d.group is not None))

    def _eq_key(self) -> tuple[Any, ...]:
        return (
            sorted(d.sort_key() for d in self.requirements),
            self.python,
            self.sources,
            self.options,
            tuple(sorted(self.conda)),
            self.channels,
            tuple(sorted(self.variables)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Environment):
            return NotImplemented
        return self._eq_key() == other._eq_key()

    def __hash__(self) -> int:
        return hash(repr(self._eq_key()))

    def with_changes(self, **changes: Any) -> Environment:
        return replace(self, **changes)
