"""PEP 751 ``pylock.toml``: a lock file of exact distribution files, read and written.

Reading (what each key becomes in the model)::

    lock-version            must be 1.x (2.x and later are an error)
    requires-python         -> Environment.python
    environments            -> a warning: the model has no field for the platforms a lock covers
    extras, dependency-groups, default-groups
                            -> used to read package markers: '"G" in dependency_groups' makes
                               the package a member of group G (None for a default group),
                               '"X" in extras' of group "extra:X"; a package in several groups
                               becomes one requirement per group
    created-by              -> checked, not kept
    [[packages]] name       -> the requirement's name (must be PEP 503 normalized)
      version               -> "==VERSION" for a package from an index (sdist / wheels; taken
                               from a file name when missing) and for an archive
      marker                -> marker (group terms taken out as above)
      index                 -> the requirement's index: a Source ("extra-index") per index URL
                               other than PyPI's, named after the URL's host and path
      vcs                   -> url "TYPE+URL@COMMIT-ID#subdirectory=DIR" (requested-revision,
                               informational, is not kept)
      directory             -> path (joined with its subdirectory), editable
      archive               -> url or path, hashes
      sdist, wheels         -> every file's hashes on the one requirement
      requires-python, dependencies, attestation-identities, tool
                            -> not kept (the package's own metadata, informational for tools)

Writing needs what a lock needs: an exact version (``==V``) for a package from an index,
and for each file its name and hash. The model holds hashes without file names, so the
files come from ``existing`` (the lock being updated: files of the same name and version
are reused, limited to the requirement's hashes when it has any) or from the ``files``
argument (what a resolver found, for ``envkit lock``). A requirement without files cannot
be locked: it is reported as lost, as are unpinned requirements, VCS references that are
not a full commit id, archives without a hash, constraints, options and find-links. Groups
become ``'G' in dependency_groups`` markers and extras ``'X' in extras`` markers. Each
written file validates with ``packaging.pylock`` and installs with ``pip install -r``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Optional
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ..errors import ParseError
from ..model import VAR_RE, Dependency, Diagnostic, Environment, Origin, Source
from ._base import Loss, Opener, Rendered
from ._pep508 import syntax_error
from ._toml import find_key_line, loads_toml
from .uv import EXTRA_PREFIX, and_markers, guess_name

__all__ = ["FILENAMES", "NAME", "PYPI", "DistFile", "LockedPackage", "detect", "dumps", "loads", "locked_packages"]

NAME = "pylock"
FILENAMES = ("pylock.toml",)

#: PyPI's simple index: packages from it need no Source.
PYPI = "https://pypi.org/simple"
CREATED_BY = "envkit"

_FILENAME_RE = re.compile(r"^pylock\.([^.]+\.)?toml$")
_LOCK_VERSION_RE = re.compile(r"(?m)^\s*lock-version\s*=")
_CREATED_BY_RE = re.compile(r"(?m)^\s*created-by\s*=")
_PACKAGES_RE = re.compile(r"^\s*\[\[\s*packages\s*\]\]")
_COMMIT_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$", re.IGNORECASE)
_VCS_RE = re.compile(r"^(?P<type>git|hg|svn|bzr)\+(?P<rest>.+)$", re.IGNORECASE)
_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar", ".tar.xz", ".txz", ".tbz")
_PYPI_URLS = {"https://pypi.org/simple", "https://pypi.org/simple/", "https://pypi.python.org/simple"}


# ---------------------------------------------------------------------------------------
# Files and locked packages: what a lock knows beyond the model


@dataclass(frozen=True)
class DistFile:
    """One distribution file: ``[packages.sdist]`` or an item of ``[[packages.wheels]]``."""

    hashes: tuple[tuple[str, str], ...]
    name: Optional[str] = None
    url: Optional[str] = None
    path: Optional[str] = None
    size: Optional[int] = None
    upload_time: Optional[datetime] = None

    def __post_init__(self) -> None:
        if self.url is None and self.path is None:
            raise ValueError(f"distribution file {self.name!r} needs a url or a path")
        if not self.hashes:
            raise ValueError(f"distribution file {self.filename!r} needs a hash")

    @property
    def filename(self) -> str:
        if self.name:
            return self.name
        if self.path:
            return self.path.replace("\\", "/").rsplit("/", 1)[-1]
        return unquote(urlsplit(self.url or "").path.rsplit("/", 1)[-1])

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {}
        if self.name is not None:
            table["name"] = self.name
        if self.upload_time is not None:
            table["upload-time"] = self.upload_time
        if self.url is not None:
            table["url"] = self.url
        if self.path is not None:
            table["path"] = self.path
        if self.size is not None:
            table["size"] = self.size
        table["hashes"] = dict(self.hashes)
        return table


@dataclass(frozen=True)
class LockedPackage:
    """The files known for one version of a project, and the index they came from."""

    name: str
    version: str
    index: Optional[str] = None
    sdist: Optional[DistFile] = None
    wheels: tuple[DistFile, ...] = ()
    requires_python: Optional[str] = None

    @property
    def files(self) -> tuple[DistFile, ...]:
        return ((self.sdist,) if self.sdist else ()) + self.wheels


# ---------------------------------------------------------------------------------------
# Detection and reading


def detect(path: str | None, text: str) -> bool:
    """True for a file named ``pylock.toml`` or ``pylock.NAME.toml``; without a path, for
    text with both top-level ``lock-version`` and ``created-by`` keys."""
    if path is not None:
        return bool(_FILENAME_RE.match(posixpath.basename(path.replace("\\", "/"))))
    return bool(_LOCK_VERSION_RE.search(text) and _CREATED_BY_RE.search(text))


def loads(text: str, path: str = FILENAMES[0], *, opener: Opener | None = None) -> Environment:
    """Read ``pylock.toml`` ``text`` (named ``path``) into an :class:`Environment`."""
    del opener  # a lock file includes nothing
    return _Reader(text, path).read()[0]


def locked_packages(text: str, path: str = FILENAMES[0]) -> list[LockedPackage]:
    """The index packages of a lock with their files, for reuse when writing a new lock."""
    return _Reader(text, path).read()[1]


@dataclass(frozen=True)
class _Spot:
    line: int
    column: int
    text: str


class _Reader:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.lines = text.splitlines()
        self.headers = [i + 1 for i, line in enumerate(self.lines) if _PACKAGES_RE.match(line)]
        self.notes: list[Diagnostic] = []
        self.sources: dict[str, Source] = {}

    # -- locating ---------------------------------------------------------------------
    def top(self, key: str) -> _Spot:
        line, column, shown = find_key_line(self.text, key)
        return _Spot(line, column, shown)

    def in_package(self, index: int, key: str | None = None) -> _Spot:
        """The header of package ``index`` or, with ``key``, where that key is set in it."""
        if index >= len(self.headers):
            return self.top("packages")
        start = self.headers[index]
        end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines) + 1
        if key is not None:
            pattern = re.compile(r"(?:^|[{,\s])(" + re.escape(key) + r")\s*=")
            for number in range(start, end):
                match = pattern.search(self.lines[number - 1])
                if match:
                    return _Spot(number, match.start(1) + 1, self.lines[number - 1])
        return _Spot(start, 1, self.lines[start - 1])

    def value(self, spot: _Spot, value: str) -> _Spot:
        """``spot`` moved to the first character of the string ``value`` on its line."""
        for form in (f'"{value}"', f"'{value}'"):
            at = spot.text.find(form, spot.column - 1)
            if at >= 0:
                return _Spot(spot.line, at + 2, spot.text)
        return spot

    def error(self, message: str, spot: _Spot, width: int = 1) -> ParseError:
        return ParseError(message, path=self.path, line=spot.line, column=spot.column, text=spot.text, width=width)

    # -- the file ---------------------------------------------------------------------
    def read(self) -> tuple[Environment, list[LockedPackage]]:
        data = loads_toml(self.text, self.path)
        version = self.required(data, "lock-version", str, self.top("lock-version"), "the lock")
        try:
            parsed = Version(version)
        except InvalidVersion:
            parsed = None
        if parsed is None or not Version("1") <= parsed < Version("2.dev0"):
            spot = self.value(self.top("lock-version"), version)
            raise self.error(f"unsupported lock-version {version!r} (envkit reads 1.x)", spot, len(version))
        if parsed > Version("1.0"):
            self.notes.append(Diagnostic(f"lock-version {version} is newer than 1.0; unknown keys are ignored"))
        self.required(data, "created-by", str, self.top("created-by"), "the lock")
        python = None
        requires = self.optional(data, "requires-python", str, self.top("requires-python"), "the lock")
        if requires is not None:
            try:
                python = SpecifierSet(requires)
            except InvalidSpecifier:
                spot = self.value(self.top("requires-python"), requires)
                raise self.error(f"invalid requires-python {requires!r}", spot, len(requires)) from None
        environments = self.strings(data, "environments")
        for text in environments:
            self.marker(text, self.value(self.top("environments"), text))
        if environments:
            self.notes.append(
                Diagnostic(
                    "the lock is valid only where one of its environments holds ("
                    + "; ".join(environments)
                    + "); envkit does not carry that",
                    Origin(self.path, *self._origin_parts(self.top("environments"))),
                )
            )
        defaults: set[str] = {canonicalize_name(g) for g in self.strings(data, "default-groups")}
        self.strings(data, "extras")
        self.strings(data, "dependency-groups")
        packages = data.get("packages")
        if packages is None:
            raise self.error(
                "the lock has no [[packages]] (a required key)", _Spot(1, 1, self.lines[0] if self.lines else "")
            )
        if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
            raise self.error("packages must be an array of tables", self.top("packages"))
        requirements: list[Dependency] = []
        locked: list[LockedPackage] = []
        for index, package in enumerate(packages):
            deps, files = self.package(index, package, defaults)
            requirements += deps
            if files is not None:
                locked.append(files)
        env = Environment(
            requirements=tuple(requirements),
            python=python,
            sources=tuple(self.sources.values()),
            format=NAME,
            notes=tuple(self.notes),
        )
        return env, locked

    def _origin_parts(self, spot: _Spot) -> tuple[int, int, str]:
        return spot.line, spot.column, spot.text

    def required(self, data: Mapping[str, Any], key: str, kind: type, spot: _Spot, where: str) -> Any:
        if key not in data:
            raise self.error(f"{where} has no {key!r} (a required key)", spot)
        return self.optional(data, key, kind, spot, where)

    def optional(self, data: Mapping[str, Any], key: str, kind: type, spot: _Spot, where: str) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = {str: "a string", bool: "true or false", int: "an integer", dict: "a table", list: "an array"}
            raise self.error(f"{key} in {where} must be {names.get(kind, kind.__name__)}", spot)
        return value

    def strings(self, data: Mapping[str, Any], key: str) -> list[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{key} must be an array of strings", self.top(key))
        return value

    def marker(self, text: str, spot: _Spot) -> Marker:
        try:
            return Marker(text)
        except InvalidMarker as exc:
            message, offset, width = syntax_error(exc, text)
            raise self.error(
                f"invalid marker: {message}", _Spot(spot.line, spot.column + offset, spot.text), width
            ) from None

    # -- packages ---------------------------------------------------------------------
    def package(
        self, index: int, package: Mapping[str, Any], defaults: set[str]
    ) -> tuple[list[Dependency], Optional[LockedPackage]]:
        where = f"packages[{index}]"
        header = self.in_package(index)
        name = self.required(package, "name", str, header, where)
        if canonicalize_name(name) != name:
            spot = self.value(self.in_package(index, "name"), name)
            raise self.error(
                f"package name {name!r} is not normalized (write {canonicalize_name(name)!r})", spot, len(name)
            )
        version_text = self.optional(package, "version", str, self.in_package(index, "version"), where)
        version = None
        if version_text is not None:
            try:
                version = Version(version_text)
            except InvalidVersion:
                spot = self.value(self.in_package(index, "version"), version_text)
                raise self.error(f"invalid version {version_text!r} of {name}", spot, len(version_text)) from None
        marker = None
        marker_text = self.optional(package, "marker", str, self.in_package(index, "marker"), where)
        if marker_text is not None:
            marker = self.marker(marker_text, self.value(self.in_package(index, "marker"), marker_text))
        requires = self.optional(package, "requires-python", str, self.in_package(index, "requires-python"), where)
        if requires is not None:
            try:
                SpecifierSet(requires)
            except InvalidSpecifier:
                spot = self.value(self.in_package(index, "requires-python"), requires)
                raise self.error(f"invalid requires-python {requires!r} of {name}", spot, len(requires)) from None
        index_url = self.optional(package, "index", str, self.in_package(index, "index"), where)
        tables = {
            k: self.optional(package, k, dict, self.in_package(index, k), where)
            for k in ("vcs", "directory", "archive", "sdist")
        }
        wheels = self.optional(package, "wheels", list, self.in_package(index, "wheels"), where)
        files_given = bool(tables["sdist"]) or bool(wheels)
        direct = [k for k in ("vcs", "directory", "archive") if tables[k] is not None]
        if files_given and direct:
            raise self.error(f"package {name}: none of vcs, directory, archive may be set with sdist or wheels", header)
        if not files_given and len(direct) != 1:
            raise self.error(
                f"package {name}: exactly one of vcs, directory, archive, sdist, wheels must be set", header
            )

        origin = Origin(self.path, header.line, header.column, header.text)
        base = Dependency(name, origin=origin)
        locked = None
        if direct:
            base = self.direct(index, name, direct[0], tables[direct[0]] or {}, base)
            if direct[0] == "archive" and version is not None:
                base = base.with_changes(specifier=SpecifierSet(f"=={version}"))
        else:
            sdist = self.dist_file(index, "sdist", tables["sdist"], name, version) if tables["sdist"] else None
            wheel_files = []
            for number, wheel in enumerate(wheels or []):
                if not isinstance(wheel, dict):
                    raise self.error(f"wheels[{number}] of {name} must be a table", self.in_package(index, "wheels"))
                wheel_files.append(self.dist_file(index, f"wheels[{number}]", wheel, name, version))
            if version is None:
                first = (sdist,) if sdist else tuple(wheel_files)
                version = _file_version(first[0].filename)
            hashes = [pair for f in ((sdist,) if sdist else ()) + tuple(wheel_files) for pair in f.hashes]
            base = base.with_changes(
                specifier=SpecifierSet(f"=={version}"), hashes=tuple(hashes), text=f"{name}=={version}"
            )
            locked = LockedPackage(name, str(version), index_url, sdist, tuple(wheel_files), requires)
        if index_url is not None and index_url.rstrip("/") + "/" not in {u.rstrip("/") + "/" for u in _PYPI_URLS}:
            base = base.with_changes(index=self.source_for(index_url, self.in_package(index, "index")).name)
        return [base.with_changes(group=group, marker=rest) for group, rest in split_groups(marker, defaults)], locked

    def source_for(self, url: str, spot: _Spot) -> Source:
        if url not in self.sources:
            name = _index_name(url, [s.name or "" for s in self.sources.values()])
            origin = Origin(self.path, spot.line, spot.column, spot.text)
            self.sources[url] = Source.from_url("extra-index", url, name=name, origin=origin)
        return self.sources[url]

    def direct(self, index: int, name: str, kind: str, table: Mapping[str, Any], base: Dependency) -> Dependency:
        where = f"packages[{index}].{kind}"
        spot = self.in_package(index, kind)
        subdirectory = self.optional(table, "subdirectory", str, spot, where)
        if kind == "vcs":
            vcs_type = self.required(table, "type", str, spot, where)
            url = self.optional(table, "url", str, spot, where)
            path = self.optional(table, "path", str, spot, where)
            commit = self.required(table, "commit-id", str, spot, where)
            self.optional(table, "requested-revision", str, spot, where)
            if url is None and path is None:
                raise self.error(f"package {name}: vcs needs a url or a path", spot)
            if url is None:
                assert path is not None
                if not path.startswith("/"):
                    self.notes.append(
                        Diagnostic(f"{name}: a VCS checkout at the relative path {path!r} is read as that directory")
                    )
                    location = posixpath.join(path, subdirectory) if subdirectory else path
                    return base.with_changes(path=location, text=f"{name} @ {location}")
                url = "file://" + path
            full = f"{vcs_type.lower()}+{url}@{commit}" + (f"#subdirectory={subdirectory}" if subdirectory else "")
            return base.with_changes(url=full, text=f"{name} @ {full}")
        if kind == "directory":
            path = self.required(table, "path", str, spot, where)
            editable = self.optional(table, "editable", bool, spot, where) or False
            location = posixpath.join(path, subdirectory) if subdirectory else path
            return base.with_changes(path=location, editable=editable, text=f"{name} @ {location}")
        url = self.optional(table, "url", str, spot, where)
        path = self.optional(table, "path", str, spot, where)
        if url is None and path is None:
            raise self.error(f"package {name}: archive needs a url or a path", spot)
        hashes = self.hashes(table, spot, where)
        self.optional(table, "size", int, spot, where)
        if path is not None:
            if subdirectory:
                self.notes.append(
                    Diagnostic(f"{name}: the subdirectory {subdirectory!r} of a local archive is not carried")
                )
            return base.with_changes(path=path, hashes=hashes, text=f"{name} @ {path}")
        assert url is not None
        full = url + (f"#subdirectory={subdirectory}" if subdirectory else "")
        return base.with_changes(url=full, hashes=hashes, text=f"{name} @ {full}")

    def hashes(self, table: Mapping[str, Any], spot: _Spot, where: str) -> tuple[tuple[str, str], ...]:
        hashes = self.required(table, "hashes", dict, spot, where)
        if not hashes:
            raise self.error(f"{where}: at least one hash is needed", spot)
        if not all(isinstance(v, str) for v in hashes.values()):
            raise self.error(f"{where}: hash values must be strings", spot)
        return tuple((algo.lower(), digest) for algo, digest in hashes.items())

    def dist_file(
        self, index: int, where_key: str, table: Mapping[str, Any], name: str, version: Version | None
    ) -> DistFile:
        where = f"packages[{index}].{where_key}"
        spot = self.in_package(index, where_key.split("[", 1)[0])
        hashes = self.hashes(table, spot, where)
        url = self.optional(table, "url", str, spot, where)
        path = self.optional(table, "path", str, spot, where)
        if url is None and path is None:
            raise self.error(f"{where}: a file needs a url or a path", spot)
        file = DistFile(
            hashes=hashes,
            name=self.optional(table, "name", str, spot, where),
            url=url,
            path=path,
            size=self.optional(table, "size", int, spot, where),
            upload_time=self.optional(table, "upload-time", datetime, spot, where),
        )
        try:
            if where_key == "sdist":
                file_name, file_version = parse_sdist_filename(file.filename)
            else:
                file_name, file_version, _, _ = parse_wheel_filename(file.filename)
        except (InvalidSdistFilename, InvalidWheelFilename):
            kind = "an sdist" if where_key == "sdist" else "a wheel"
            raise self.error(f"{where}: {file.filename!r} is not {kind} file name", spot) from None
        if file_name != name or (version is not None and file_version != version):
            raise self.error(f"{where}: {file.filename!r} does not belong to {name} {version or ''}".rstrip(), spot)
        return file


def _file_version(filename: str) -> Version:
    if filename.lower().endswith(".whl"):
        return parse_wheel_filename(filename)[1]
    return parse_sdist_filename(filename)[1]


def _index_name(url: str, taken: Iterable[str]) -> str:
    from .uv import derived_index_name

    return derived_index_name(url, taken)


# ---------------------------------------------------------------------------------------
# Group markers


def _term_group(item: Any) -> str | None:
    """``"G" in dependency_groups`` -> ``G``; ``"X" in extras`` -> ``extra:X``; else None."""
    if not isinstance(item, tuple) or len(item) != 3:
        return None
    left, op, right = item
    if type(left).__name__ != "Value" or type(right).__name__ != "Variable" or str(op.serialize()) != "in":
        return None
    variable = str(right.serialize())
    if variable == "dependency_groups":
        return str(left.value)
    if variable == "extras":
        return EXTRA_PREFIX + str(left.value)
    return None


def _format(items: Sequence[Any]) -> str:
    parts = []
    for item in items:
        if isinstance(item, list):
            parts.append(f"({_format(item)})")
        elif isinstance(item, tuple):
            parts.append(" ".join(str(x.serialize()) for x in item))
        else:
            parts.append(str(item))
    return " ".join(parts)


def _split(items: Sequence[Any], word: str) -> list[list[Any]]:
    chunks: list[list[Any]] = [[]]
    for item in items:
        if isinstance(item, str) and item == word:
            chunks.append([])
        else:
            chunks[-1].append(item)
    return chunks


def _group_set(item: Any) -> list[str] | None:
    """The groups of ``"a" in dependency_groups or "b" in dependency_groups``; else None."""
    single = _term_group(item)
    if single is not None:
        return [single]
    if isinstance(item, list):
        alternatives = _split(item, "or")
        groups = []
        for alternative in alternatives:
            if len(alternative) != 1:
                return None
            found = _group_set(alternative[0])
            if found is None:
                return None
            groups += found
        return groups
    return None


def split_groups(marker: Marker | None, defaults: Iterable[str] = ()) -> list[tuple[str | None, Marker | None]]:
    """Read the group terms of a package marker: ``[(group, rest of the marker), ...]``.

    Each alternative of the marker (its top-level ``or``) with one group term (or an
    ``or`` of group terms) becomes one ``(group, rest)``; an alternative without one
    stays in the main list. A default group is the main list (``None``).
    """
    if marker is None:
        return [(None, None)]
    defaults = {canonicalize_name(d) for d in defaults}
    items: list[Any] = marker._markers  # private, stable since packaging 16
    result: dict[str | None, list[list[Any]]] = {}
    found = False
    for alternative in _alternatives(items):
        terms = _conjuncts(alternative)
        groups = [(i, g) for i, term in enumerate(terms) if len(term) == 1 and (g := _group_set(term[0])) is not None]
        if len(groups) != 1:
            result.setdefault(None, []).append(alternative)
            continue
        found = True
        position, names = groups[0]
        rest = [term for i, term in enumerate(terms) if i != position]
        for name in names:
            key = None if canonicalize_name(name) in defaults else name
            result.setdefault(key, []).append(_join(rest, "and"))
    if not found:
        return [(None, marker)]
    pairs: list[tuple[str | None, Marker | None]] = []
    for group, alternatives in result.items():
        if any(not alt for alt in alternatives):
            pairs.append((group, None))
            continue
        texts = [
            _format(alt[0]) if len(alt) == 1 and isinstance(alt[0], list) else _format(alt) for alt in alternatives
        ]
        text = texts[0] if len(texts) == 1 else " or ".join(f"({t})" for t in texts)
        pairs.append((group, Marker(text)))
    return pairs


def _alternatives(items: Sequence[Any]) -> list[list[Any]]:
    """The top-level ``or`` alternatives, parenthesized ones opened up."""
    result: list[list[Any]] = []
    for chunk in _split(items, "or"):
        if len(chunk) == 1 and isinstance(chunk[0], list):
            result += _alternatives(chunk[0])
        else:
            result.append(chunk)
    return result


def _conjuncts(items: Sequence[Any]) -> list[list[Any]]:
    """The ``and`` terms of one alternative."""
    return _split(items, "and")


def _join(chunks: list[list[Any]], word: str) -> list[Any]:
    joined: list[Any] = []
    for chunk in chunks:
        if joined:
            joined.append(word)
        joined.extend(chunk)
    return joined


def group_marker(group: str | None) -> Marker | None:
    """The marker term that selects ``group`` (``None`` for the main list)."""
    if group is None:
        return None
    if group.startswith(EXTRA_PREFIX):
        return Marker(f'"{group[len(EXTRA_PREFIX) :]}" in extras')
    return Marker(f'"{group}" in dependency_groups')


# ---------------------------------------------------------------------------------------
# Writing


def dumps(env: Environment, existing: str | None = None, *, files: Iterable[LockedPackage] = ()) -> Rendered:
    """Write ``env`` as ``pylock.toml``; reuse the files of ``existing`` and ``files``.

    ``files`` (a resolver's findings) take precedence over the files of ``existing``.
    ``existing`` also gives the ``environments`` and ``[tool]`` it had, kept as they were.
    """
    losses: list[Loss] = []
    known: dict[tuple[str, Version], list[LockedPackage]] = {}
    head: dict[str, Any] = {}
    if existing is not None:
        data = loads_toml(existing, "pylock.toml")
        for key in ("environments", "tool"):
            if key in data:
                head[key] = data[key]
        files = [*files, *locked_packages(existing)]
    for locked in files:
        known.setdefault((canonicalize_name(locked.name), Version(locked.version)), []).append(locked)
    packages: list[_Package] = []
    for dep in env.requirements:
        package = _package(dep, env, known, losses)
        if package is not None:
            packages.append(package)
    packages = _merge(packages, losses)
    text = _render(env, head, packages)
    _report_environment(env, loads(text).sources, losses)
    return Rendered(text, tuple(losses))


@dataclass
class _Package:
    """One ``[[packages]]`` entry being written."""

    name: str
    body: dict[str, Any]
    marker: Optional[Marker]
    groups: list[Optional[str]]
    dep: Dependency
    comment: Optional[str] = None
    extra: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> tuple[str, str, str]:
        return self.name, repr(sorted(self.body.items(), key=lambda kv: kv[0])), str(self.marker)


def _lost(losses: list[Loss], dep: Dependency, why: str) -> None:
    losses.append(Loss("lost", str(dep), why, dep.origin))


def _package(
    dep: Dependency, env: Environment, known: Mapping[tuple[str, Version], list[LockedPackage]], losses: list[Loss]
) -> _Package | None:
    if dep.constraint:
        _lost(losses, dep, "a lock lists what is installed; a constraint is only applied when locking")
        return None
    name = dep.key
    guessed = None
    if name is None:
        guessed = guess_name(dep)
        if guessed is None:
            _lost(losses, dep, "a lock entry needs the project name")
            return None
        name = canonicalize_name(guessed)
    if dep.url and dep.is_vcs:
        body = _vcs(dep, losses)
    elif dep.url or (dep.path and dep.path.split("#", 1)[0].lower().endswith(_ARCHIVES)):
        body = _archive(dep, name, losses)
    elif dep.path:
        body = {"directory": {"path": dep.path, **({"editable": True} if dep.editable else {})}}
    else:
        body = _index_package(dep, name, env, known, losses)
    if body is None:
        return None
    if ("vcs" in body or "directory" in body) and dep.specifier:
        losses.append(Loss("lost", str(dep), "a locked source tree has no version of its own", dep.origin))
    if guessed is not None:
        losses.append(
            Loss("transformed", str(dep), f"the lock needs a project name; {guessed!r} is guessed", dep.origin)
        )
    if dep.extras:
        losses.append(
            Loss(
                "lost",
                str(dep),
                "a lock lists each package once; the extras' own requirements must be locked too",
                dep.origin,
            )
        )
    if dep.config_settings:
        losses.append(Loss("lost", f"{dep} --config-settings", "pylock.toml has no build settings", dep.origin))
    if dep.global_options:
        losses.append(Loss("lost", f"{dep} --global-option", "pylock.toml has no build options", dep.origin))
    if dep.channel is not None:
        losses.append(
            Loss("lost", str(dep), f"a lock cannot take a package from conda channel {dep.channel!r}", dep.origin)
        )
    return _Package(name, body, dep.marker, [dep.group], dep, dep.comment)


def _vcs(dep: Dependency, losses: list[Loss]) -> dict[str, Any] | None:
    assert dep.url is not None
    match = _VCS_RE.match(dep.url)
    assert match is not None
    parts = urlsplit(match.group("rest"))
    fragment = dict(p.split("=", 1) for p in parts.fragment.split("&") if "=" in p)
    path = parts.path
    revision = None
    if "@" in path.rsplit("/", 1)[-1] or ("@" in path and not parts.netloc):
        path, revision = path.rsplit("@", 1)
    if revision is None or not _COMMIT_RE.match(revision):
        what = "no revision" if revision is None else f"{revision!r}, not a full commit id"
        _lost(losses, dep, f"not locked: the VCS reference has {what}; run `envkit lock` to resolve it")
        return None
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    table: dict[str, Any] = {"type": match.group("type").lower(), "url": url, "commit-id": revision}
    if fragment.get("subdirectory"):
        table["subdirectory"] = fragment["subdirectory"]
    if dep.editable:
        losses.append(
            Loss("transformed", str(dep), "a locked VCS checkout is installed as a regular package", dep.origin)
        )
    expected = f"{table['type']}+{url}@{revision}" + (
        f"#subdirectory={table['subdirectory']}" if "subdirectory" in table else ""
    )
    if expected != dep.url:
        losses.append(Loss("transformed", str(dep), f"written as {expected}", dep.origin))
    _credentials(dep, url, losses)
    return {"vcs": table}


def _archive(dep: Dependency, name: str, losses: list[Loss]) -> dict[str, Any] | None:
    location = dep.url or dep.path or ""
    base, _, fragment = location.partition("#")
    pairs = dict(p.split("=", 1) for p in fragment.split("&") if "=" in p)
    hashes = list(dep.hashes)
    for algo in ("sha256", "sha384", "sha512", "md5"):
        if algo in pairs and (algo, pairs[algo]) not in hashes:
            hashes.append((algo, pairs[algo]))
    if not hashes:
        _lost(losses, dep, "not locked: a locked archive needs its hash; run `envkit lock` to resolve it")
        return None
    table: dict[str, Any] = {"url" if dep.url else "path": base}
    by_algo: dict[str, str] = {}
    for algo, digest in hashes:
        if algo in by_algo and by_algo[algo] != digest:
            losses.append(
                Loss("lost", f"{dep} --hash={algo}:{digest}", "a file has one hash per algorithm", dep.origin)
            )
            continue
        by_algo[algo] = digest
    body: dict[str, Any] = {}
    pinned = _pinned_version(dep)
    from_file = _location_version(base, name)
    if pinned is not None and (from_file is None or Version(from_file) == pinned):
        body["version"] = str(pinned)
    elif dep.specifier:
        losses.append(Loss("lost", str(dep), "the version of a locked archive is the archive's own", dep.origin))
    table["hashes"] = by_algo
    if pairs.get("subdirectory"):
        table["subdirectory"] = pairs["subdirectory"]
    body["archive"] = table
    written = base + (f"#subdirectory={pairs['subdirectory']}" if pairs.get("subdirectory") else "")
    if written != location:
        losses.append(Loss("transformed", str(dep), f"written as {written}", dep.origin))
    if dep.editable:
        losses.append(Loss("transformed", str(dep), "an archive is installed as a regular package", dep.origin))
    if dep.url:
        _credentials(dep, base, losses)
    return body


def _location_version(location: str, name: str | None) -> str | None:
    filename = posixpath.basename(
        unquote(urlsplit(location).path) if "://" in location else location.replace("\\", "/")
    )
    try:
        if filename.lower().endswith(".whl"):
            found, version, _, _ = parse_wheel_filename(filename)
        else:
            found, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return str(version) if found == name else None


def _credentials(dep: Dependency, url: str, losses: list[Loss]) -> None:
    if VAR_RE.search(url):
        losses.append(
            Loss(
                "transformed", str(dep), "written as it is: installers do not expand ${VAR} in pylock.toml", dep.origin
            )
        )


def _pinned_version(dep: Dependency) -> Version | None:
    specs = list(dep.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or specs[0].version.endswith(".*"):
        return None
    try:
        return Version(specs[0].version)
    except InvalidVersion:
        return None


def _index_package(
    dep: Dependency,
    name: str,
    env: Environment,
    known: Mapping[tuple[str, Version], list[LockedPackage]],
    losses: list[Loss],
) -> dict[str, Any] | None:
    version = _pinned_version(dep)
    if version is None:
        _lost(losses, dep, "not pinned: run `envkit lock` to resolve it")
        return None
    source = env.source_named(dep.index) if dep.index else None
    candidates = known.get((name, version), [])
    if source is not None:
        candidates = sorted(candidates, key=lambda c: (c.index or "").rstrip("/") != source.url.rstrip("/"))
    wanted = {(a.lower(), d.lower()) for a, d in dep.hashes}
    chosen: LockedPackage | None = None
    kept: list[DistFile] = []
    for candidate in candidates:
        files = [f for f in candidate.files if not wanted or {(a, d.lower()) for a, d in f.hashes} & wanted]
        if files:
            chosen, kept = candidate, files
            break
    matched = {(a, d.lower()) for f in kept for a, d in f.hashes}
    unmatched = [f"{a}:{d}" for a, d in dep.hashes if (a.lower(), d.lower()) not in matched]
    if chosen is None:
        why = (
            f"its {len(dep.hashes)} hash(es) name no file (pylock.toml records each file's name with its hash)"
            if dep.hashes
            else "no file of it is known (pylock.toml records each file's name and hash)"
        )
        _lost(losses, dep, f"not locked: {why}; run `envkit lock` to resolve it")
        return None
    if unmatched:
        losses.append(
            Loss("lost", f"{dep} --hash={' --hash='.join(unmatched)}", "these hashes name no known file", dep.origin)
        )
    body: dict[str, Any] = {"version": str(version)}
    if chosen.requires_python:
        body["requires-python"] = chosen.requires_python
    index = source.url if source is not None else _default_index(env, chosen)
    if index is not None:
        body["index"] = index
    sdist = next((f for f in kept if chosen.sdist is not None and f == chosen.sdist), None)
    wheels = [f for f in kept if f is not sdist]
    if sdist is not None:
        body["sdist"] = sdist.to_toml()
    if wheels:
        body["wheels"] = [w.to_toml() for w in wheels]
    if source is not None and source.has_credentials:
        losses.append(Loss("transformed", str(dep), "the index URL is written without its credentials", dep.origin))
    return body


def _default_index(env: Environment, chosen: LockedPackage) -> str | None:
    """The index a file came from: as recorded, else the one index ``env`` names (never a guess)."""
    if chosen.index is not None:
        return chosen.index
    indexes = [s for s in env.sources if s.kind != "find-links"]
    if len(indexes) == 1 and indexes[0].kind == "index":
        return indexes[0].url
    return None


def _merge(packages: list[_Package], losses: list[Loss]) -> list[_Package]:
    """One entry per distinct package; an entry in several groups gets an ``or`` of them."""
    merged: dict[tuple[str, str, str], _Package] = {}
    for package in packages:
        key = package.identity()
        if key in merged:
            target = merged[key]
            for group in package.groups:
                if group not in target.groups:
                    target.groups.append(group)
            target.comment = target.comment or package.comment
        else:
            merged[key] = package
    result = []
    by_place: dict[tuple[str, str], _Package] = {}
    for package in merged.values():
        if None in package.groups and len(package.groups) > 1:
            others = ", ".join(repr(g) for g in package.groups if g is not None)
            losses.append(
                Loss(
                    "transformed",
                    str(package.dep),
                    f"also in group(s) {others}: the lock installs it by default",
                    package.dep.origin,
                )
            )
            package.groups = [None]
        place = (package.name, str(package.marker))
        clash = by_place.get(place)
        if clash is not None and (
            None in clash.groups or None in package.groups or set(clash.groups) & set(package.groups)
        ):
            losses.append(
                Loss(
                    "lost",
                    str(package.dep),
                    f"conflicts with another entry for {package.name} under the same marker and group",
                    package.dep.origin,
                )
            )
            continue
        by_place[place] = package
        result.append(package)
    return sorted(result, key=lambda p: (p.name, str(p.body.get("version", "")), str(p.marker), repr(p.groups)))


def _full_marker(package: _Package) -> Marker | None:
    groups = [g for g in package.groups if g is not None]
    if not groups:
        return package.marker
    terms = [str(group_marker(g)) for g in groups]
    term = Marker(terms[0] if len(terms) == 1 else " or ".join(terms))
    return and_markers(package.marker, term)


_FLAGS = {"trusted_hosts": "--trusted-host", "use_features": "--use-feature"}


def _report_environment(env: Environment, written: Sequence[Source], losses: list[Loss]) -> None:
    for source in env.sources:
        if source in written and not source.has_credentials:
            continue  # read back as it was: the index URL of the packages that name it
        subject = f"{source.kind} {source.redacted_url()}"
        if source.kind == "find-links":
            losses.append(
                Loss("lost", subject, "pylock.toml has no find-links; each package names its files", source.origin)
            )
        else:
            losses.append(
                Loss("transformed", subject, "pylock.toml records only each package's index URL", source.origin)
            )
    for option, value in env.options.to_dict().items():
        if value:
            flag = _FLAGS.get(option, "--" + option.replace("_", "-"))
            shown = flag if value is True else f"{flag} {' '.join(value)}"
            why = (
                "a lock always records the hash of each file"
                if option == "require_hashes"
                else "pylock.toml records no installer options"
            )
            losses.append(Loss("transformed" if option == "require_hashes" else "lost", shown, why))
    for spec in env.conda:
        losses.append(Loss("lost", spec, "a conda-only package has no pylock.toml form"))
    for channel in env.channels:
        losses.append(Loss("lost", f"channel {channel}", "pylock.toml has no conda channels"))
    for name, value in env.variables:
        losses.append(Loss("lost", f"variable {name}={value}", "pylock.toml sets no environment variables"))


# -- rendering ---------------------------------------------------------------------------


def _render(env: Environment, head: Mapping[str, Any], packages: Sequence[_Package]) -> str:
    groups = sorted({g for p in packages for g in p.groups if g is not None and not g.startswith(EXTRA_PREFIX)})
    extras = sorted(
        {g[len(EXTRA_PREFIX) :] for p in packages for g in p.groups if g is not None and g.startswith(EXTRA_PREFIX)}
    )
    out = ['lock-version = "1.0"']
    if "environments" in head:
        out.append(f"environments = {_value(head['environments'])}")
    if env.python is not None:
        out.append(f"requires-python = {_value(str(env.python))}")
    out.append(f"extras = {_value(extras)}")
    out.append(f"dependency-groups = {_value(groups)}")
    out.append(f"created-by = {_value(CREATED_BY)}")
    if not packages:
        out.append("packages = []")
    for package in packages:
        out.append("")
        if package.comment:
            out.append(f"# {package.comment}")
        out.append("[[packages]]")
        out.append(f"name = {_value(package.name)}")
        body = dict(package.body)
        if "version" in body:
            out.append(f"version = {_value(body.pop('version'))}")
        marker = _full_marker(package)
        if marker is not None:
            out.append(f"marker = {_value(str(marker))}")
        for key in ("requires-python", "index", "vcs", "directory", "archive", "sdist"):
            if key in body:
                out.append(f"{key} = {_value(body[key])}")
        if "wheels" in body:
            out.append("wheels = [")
            out += [f"    {_value(wheel)}," for wheel in body["wheels"]]
            out.append("]")
    if "tool" in head:
        out += _tables("tool", head["tool"])
    return "\n".join(out) + "\n"


def _tables(prefix: str, table: Mapping[str, Any]) -> list[str]:
    nested = [(key, value) for key, value in table.items() if isinstance(value, dict)]
    plain = [(key, value) for key, value in table.items() if not isinstance(value, dict)]
    out = ["", f"[{prefix}]"] if plain or not nested else []
    for key, value in plain:
        out.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested:
        out += _tables(f"{prefix}.{_key(key)}", value)
    return out


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _value(key)


def _value(value: Any) -> str:
    """``value`` as a TOML value: strings, booleans, numbers, dates, arrays, inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, str):
        if '"' in value and "'" not in value and all(_char(c) == c or c == '"' for c in value):
            return f"'{value}'"  # a literal string reads better than escaped quotes
        return '"' + "".join(_char(c) for c in value) + '"'
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} in TOML")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _char(c: str) -> str:
    if c in _ESCAPES:
        return _ESCAPES[c]
    if ord(c) < 0x20 or ord(c) == 0x7F:
        return f"\\u{ord(c):04x}"
    return c
