"""uv's ``pyproject.toml``: PEP 621 ``[project]``, PEP 735 ``[dependency-groups]`` and ``[tool.uv]``.

Reading (what each key becomes in the model)::

    [project] name                        -> Environment.name
    [project] requires-python             -> Environment.python
    [project] dependencies                -> the main list (group None)
    [project.optional-dependencies] X     -> group "extra:X"
    [dependency-groups] G                 -> group G; {include-group = "H"} expands H in place
    [tool.uv] dev-dependencies            -> group "dev" (uv merges it with [dependency-groups] dev)
    [tool.uv] constraint-dependencies     -> constraint=True
    [tool.uv.sources] NAME = {...}        -> on every requirement of NAME:
        git + rev|tag|branch, subdirectory   -> url "git+URL@REF#subdirectory=DIR"
        url (+ subdirectory)                  -> url
        path, editable                        -> path, editable (a wheel's version -> "==V")
        index = "NAME"                        -> index (must name a [[tool.uv.index]])
        workspace = true                      -> a warning: the member is not in this file
      a list of sources qualified by marker / extra / group: an entry whose marker is the
      requirement's own applies as it is; a narrower one gives "REQ and MARKER" from that
      source, and REQ itself is kept (for where no entry holds), with a warning
      a source on a requirement that already has a URL is an error, as in uv
    [[tool.uv.index]] url, name           -> Source: "index" with default = true,
        default, explicit, format            "find-links" with format = "flat",
                                              else "extra-index"; explicit -> priority "explicit"
    [tool.uv] index-url / extra-index-url / find-links
                                          -> Source "index" / "extra-index" / "find-links",
                                             after the [[tool.uv.index]] tables
    [tool.uv] no-index                    -> options.no_index
    [tool.uv] prerelease = "allow" / "disallow" -> options.pre / options.only_final = [":all:"]
    [tool.uv] prerelease-package          -> options.all_releases / only_final (per package)
    [tool.uv] allow-insecure-host         -> options.trusted_hosts
    [tool.uv] no-binary(-package)         -> options.no_binary (":all:" for true)
    [tool.uv] no-build(-package)          -> options.only_binary (":all:" for true)
    [tool.uv] config-settings-package     -> config_settings of that package's requirements

uv-only settings that change what gets installed and that the model cannot hold
(``override-dependencies``, ``exclude-dependencies``, global ``config-settings``, an
``index-strategy``, other ``prerelease`` modes, workspace members) are read as warnings.

Writing puts requirements in the standard tables as PEP 508 strings (direct URLs and Git
URLs included) and uses ``[tool.uv]`` only where the standard has no form: local paths and
editables (``[tool.uv.sources]`` path), a requirement pinned to an index, indexes,
find-links, constraints and options. A requirement without a name gets one from its wheel,
sdist or folder name (reported). Sources are per package name in uv: requirements of one
name that need different sources get marker / group / extra qualifiers, and the writer
reads its own sources back to report any requirement they would change. What uv cannot
carry is reported as a loss: hashes (uv keeps them in ``uv.lock``), ``--global-option``,
editable VCS checkouts, non-Git VCS, credentials in index URLs (uv reads them from
``UV_INDEX_<NAME>_USERNAME`` / ``_PASSWORD``), pip's merging of indexes (uv stops at the
first index that has a package), conda-only content.

When writing into an existing file, only the keys above change. A list, source entry or
setting whose meaning (as read back, sources applied) is unchanged keeps its bytes; a
changed list is edited in place (unchanged strings and comments stay, a changed
requirement is replaced where it stands, new ones go at the end, ``include-group`` items
stay while the included group is still all there); an index keeps the user's other keys
(``authenticate``...). Tables emptied by the update are removed.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..errors import ParseError
from ..model import VAR_RE, Dependency, Diagnostic, Environment, Origin, PipOptions, Source
from ._base import Loss, Opener, Rendered
from ._pep508 import from_pep508
from ._templates import template
from ._toml import find_key_line, loads_toml

__all__ = ["EXTRA_PREFIX", "FILENAMES", "NAME", "detect", "dumps", "loads"]

NAME = "uv"
FILENAMES = ("pyproject.toml",)

#: Group name prefix that stands for a ``[project.optional-dependencies]`` extra. ``:`` is
#: not allowed in a PEP 735 group name, so it cannot clash with a real group.
EXTRA_PREFIX = "extra:"

#: PEP 508 / PEP 735 / PEP 685 names (projects, groups, extras).
_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
#: uv index names: ASCII letters, digits, ``-``, ``_`` and ``.``.
_INDEX_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_HEADER_RE = re.compile(r"(?m)^\s*\[\[?\s*(?:tool\s*\.\s*uv|dependency-groups)\s*[\].]")
_PROJECT_RE = re.compile(r"(?m)^\s*\[\s*project\s*\]")
_POETRY_RE = re.compile(r"(?m)^\s*\[\[?\s*tool\s*\.\s*poetry\s*[\].]")
_DOTTED_UV_RE = re.compile(r"(?m)^\s*tool\s*\.\s*uv\s*\.")
_COMMENT_RE = re.compile(r"^\s*,?\s*#\s?(?P<text>.*?)\s*$")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar", ".tar.xz", ".txz", ".tbz")

PRERELEASE_MODES = ("disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit")

#: uv-only settings that change what is installed but have no place in the model.
_UNCARRIED_SETTINGS = {
    "override-dependencies": "uv's override-dependencies replace other requirements; envkit does not carry them",
    "exclude-dependencies": "uv's exclude-dependencies remove requirements; envkit does not carry them",
    "config-settings": "uv's global config-settings apply to every build; envkit carries per-package settings only",
    "index-strategy": "uv's index-strategy is not carried; envkit assumes uv's default (first-index)",
}


# ---------------------------------------------------------------------------------------
# Detection


def detect(path: str | None, text: str) -> bool:
    """True for a ``pyproject.toml`` with ``[tool.uv...]`` or ``[dependency-groups]`` tables,
    or with a PEP 621 ``[project]`` table and no ``[tool.poetry]`` (the generic reader).

    Without a path, only the ``[tool.uv`` and ``[dependency-groups]`` headers count.
    """
    if path is not None and posixpath.basename(path.replace("\\", "/")) != "pyproject.toml":
        return False
    if _HEADER_RE.search(text) or _DOTTED_UV_RE.search(text):
        return True
    return path is not None and bool(_PROJECT_RE.search(text)) and not _POETRY_RE.search(text)


# ---------------------------------------------------------------------------------------
# Reading


def loads(text: str, path: str = FILENAMES[0], *, opener: Opener | None = None) -> Environment:
    """Read uv's ``pyproject.toml`` ``text`` (named ``path``) into an :class:`Environment`."""
    del opener  # a pyproject.toml includes nothing
    data = loads_toml(text, path)
    return _Reader(text, path).read(data)


@dataclass(frozen=True)
class _Spot:
    """Where something is written: 1-based line and column, the line, a trailing comment."""

    line: int
    column: int
    text: str
    comment: Optional[str] = None


@dataclass(frozen=True)
class _SourceEntry:
    """One ``[tool.uv.sources]`` entry: what it changes, and where it applies."""

    changes: tuple[tuple[str, Any], ...]
    marker: Optional[Marker] = None
    extra: Optional[str] = None
    group: Optional[str] = None
    workspace: bool = False
    spot: Optional[_Spot] = field(default=None, compare=False)

    @property
    def has_location(self) -> bool:
        return any(key in ("url", "path") for key, _ in self.changes)

    def applies_to(self, group: str | None) -> bool:
        if self.extra is not None:
            return (
                group is not None and group.startswith(EXTRA_PREFIX) and _same(group[len(EXTRA_PREFIX) :], self.extra)
            )
        if self.group is not None:
            return group is not None and not group.startswith(EXTRA_PREFIX) and _same(group, self.group)
        return True


def _same(a: str, b: str) -> bool:
    return canonicalize_name(a) == canonicalize_name(b)


class _Reader:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.lines = text.splitlines()
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.notes: list[Diagnostic] = []

    # -- locating ---------------------------------------------------------------------
    def key(self, key: str, table: str | None) -> _Spot:
        line, column, shown = find_key_line(self.text, key, after_table=table)
        return _Spot(line, column, shown)

    def strings(self, values: Sequence[str], key: str, table: str | None) -> list[_Spot]:
        """Where each of ``values`` (the strings of one array, in order) is written."""
        anchor = self.key(key, table)
        pos = self.starts[anchor.line - 1] if anchor.line - 1 < len(self.starts) else 0
        spots = []
        for value in values:
            found = self._literal(value, pos)
            if found is None:
                spots.append(anchor)
                continue
            start, end = found
            pos = end
            spots.append(self._spot(start + 1, end))
        return spots

    def _literal(self, value: str, pos: int) -> tuple[int, int] | None:
        basic = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        forms = [basic] if "'" in value else [basic, f"'{value}'"]
        hits = [(i, i + len(form)) for form in forms if (i := self.text.find(form, pos)) >= 0]
        return min(hits) if hits else None

    def _spot(self, offset: int, end: int) -> _Spot:
        line = self.text.count("\n", 0, offset) + 1
        start = self.starts[line - 1]
        shown = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        rest = shown[end - start :]
        match = _COMMENT_RE.match(rest)
        return _Spot(line, offset - start + 1, shown, match.group("text") if match else None)

    def error(self, message: str, spot: _Spot, width: int = 1, hint: str | None = None) -> ParseError:
        return ParseError(
            message, path=self.path, line=spot.line, column=spot.column, text=spot.text, width=width, hint=hint
        )

    def warn(self, message: str, spot: _Spot | None) -> None:
        origin = Origin(self.path, spot.line, spot.column, spot.text) if spot else None
        self.notes.append(Diagnostic(message, origin))

    # -- typed access -----------------------------------------------------------------
    def table(self, data: Mapping[str, Any], key: str, where: str | None) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"{_label(where, key)} must be a table", self.key(key, where))
        return value

    def string(self, data: Mapping[str, Any], key: str, where: str | None) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(f"{_label(where, key)} must be a string", self.key(key, where))
        return value

    def boolean(self, data: Mapping[str, Any], key: str, where: str | None) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.error(f"{_label(where, key)} must be true or false", self.key(key, where))
        return value

    def string_list(self, data: Mapping[str, Any], key: str, where: str | None) -> list[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{_label(where, key)} must be an array of strings", self.key(key, where))
        return value

    # -- the file ---------------------------------------------------------------------
    def read(self, data: dict[str, Any]) -> Environment:
        project = self.table(data, "project", None)
        tool = self.table(data, "tool", None)
        uv = self.table(tool, "uv", "tool")
        name = self.string(project, "name", "project")
        python = self.python(project)
        sources = self.indexes(uv)
        index_names = {s.name for s in sources if s.name is not None}
        entries = self.source_entries(uv, index_names)

        requirements: list[Dependency] = []
        requirements += self.pep508_list(project, "dependencies", "project", None)
        extras = self.table(project, "optional-dependencies", "project")
        for extra in extras:
            if not _NAME_RE.match(extra):
                raise self.error(f"invalid extra name {extra!r}", self.key(extra, "project.optional-dependencies"))
            requirements += self.pep508_list(extras, extra, "project.optional-dependencies", EXTRA_PREFIX + extra)
        requirements += self.dependency_groups(self.table(data, "dependency-groups", None))
        requirements += self.pep508_list(uv, "dev-dependencies", "tool.uv", "dev")
        requirements = [applied for dep in requirements for applied in self.apply_sources(dep, entries)]
        requirements += self.pep508_list(uv, "constraint-dependencies", "tool.uv", None, constraint=True)
        requirements = self.config_settings(uv, requirements)
        options = self.options(uv)
        for key, why in _UNCARRIED_SETTINGS.items():
            if key in uv and not (key == "index-strategy" and uv[key] == "first-index"):
                self.warn(why, self.key(key, "tool.uv"))
        return Environment(
            requirements=tuple(requirements),
            python=python,
            sources=tuple(sources),
            options=options,
            name=name,
            format=NAME,
            notes=tuple(self.notes),
        )

    def python(self, project: Mapping[str, Any]) -> SpecifierSet | None:
        text = self.string(project, "requires-python", "project")
        if text is None:
            return None
        try:
            return SpecifierSet(text)
        except InvalidSpecifier:
            spot = self.strings([text], "requires-python", "project")[0]
            raise self.error(f"invalid requires-python {text!r}", spot, len(text)) from None

    def pep508_list(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str | None,
        group: str | None,
        *,
        constraint: bool = False,
    ) -> list[Dependency]:
        values = self.string_list(data, key, where)
        return [
            self.pep508(value, spot, group, constraint) for value, spot in zip(values, self.strings(values, key, where))
        ]

    def pep508(self, value: str, spot: _Spot, group: str | None, constraint: bool = False) -> Dependency:
        dep = from_pep508(
            value,
            path=self.path,
            line=spot.line,
            column=spot.column,
            line_text=spot.text,
            group=group,
            constraint=constraint,
        )
        return dep.with_changes(comment=spot.comment) if spot.comment else dep

    def dependency_groups(self, groups: Mapping[str, Any]) -> list[Dependency]:
        """PEP 735 groups in file order, each ``include-group`` expanded in place."""
        where = "dependency-groups"
        canonical: dict[str, str] = {}
        own: dict[str, list[Any]] = {}
        for name, items in groups.items():
            spot = self.key(name, where)
            if not _NAME_RE.match(name):
                raise self.error(f"invalid dependency group name {name!r}", spot, len(name))
            if canonicalize_name(name) in canonical:
                raise self.error(
                    f"dependency group {name!r} has the same normalized name as {canonical[canonicalize_name(name)]!r}",
                    spot,
                    len(name),
                )
            canonical[canonicalize_name(name)] = name
            if not isinstance(items, list):
                raise self.error(f"[dependency-groups] {name} must be an array", spot)
            strings = [item for item in items if isinstance(item, str)]
            spots = iter(self.strings(strings, name, where))
            resolved: list[Any] = []
            for item in items:
                if isinstance(item, str):
                    resolved.append((item, next(spots)))
                elif (
                    isinstance(item, dict) and set(item) == {"include-group"} and isinstance(item["include-group"], str)
                ):
                    resolved.append(item["include-group"])
                else:
                    raise self.error(
                        f'[dependency-groups] {name}: each item must be a requirement string or {{include-group = "NAME"}}',
                        spot,
                    )
            own[name] = resolved

        def expand(name: str, chain: tuple[str, ...]) -> list[Dependency]:
            result = []
            for item in own[name]:
                if isinstance(item, tuple):
                    result.append(self.pep508(item[0], item[1], chain[0]))
                    continue
                target = canonical.get(canonicalize_name(item))
                spot = self.key(name, where)
                if target is None:
                    raise self.error(f"dependency group {name!r} includes unknown group {item!r}", spot, len(name))
                if target in chain:
                    cycle = " -> ".join((*chain[chain.index(target) :], target))
                    raise self.error(f"dependency group {target!r} includes itself ({cycle})", spot, len(name))
                result += [d.with_changes(group=chain[0]) for d in expand(target, (*chain, target))]
            return result

        return [dep for name in own for dep in expand(name, (name,))]

    # -- sources ----------------------------------------------------------------------
    def indexes(self, uv: Mapping[str, Any]) -> list[Source]:
        where = "tool.uv"
        result: list[Source] = []
        entries = uv.get("index", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise self.error("[[tool.uv.index]] must be an array of tables", self.key("index", where))
        seen: set[str] = set()
        for entry in entries:
            url = entry.get("url")
            if not isinstance(url, str):
                raise self.error("each [[tool.uv.index]] needs a url string", self._header("tool.uv.index"))
            spot = self.strings([url], "url", "tool.uv.index")[0]
            name = entry.get("name")
            if name is not None and (not isinstance(name, str) or not _INDEX_NAME_RE.match(name)):
                raise self.error(
                    f"invalid index name {name!r}: use ASCII letters, digits, '-', '_' and '.'",
                    self.strings([str(name)], "name", "tool.uv.index")[0],
                )
            if name is not None:
                if name in seen:
                    raise self.error(
                        f"index name {name!r} is defined twice", self.strings([name], "name", "tool.uv.index")[0]
                    )
                seen.add(name)
            for flag in ("default", "explicit"):
                if not isinstance(entry.get(flag, False), bool):
                    raise self.error(f"[[tool.uv.index]] {flag} must be true or false", self.key(flag, "tool.uv.index"))
            fmt = entry.get("format", "simple")
            if fmt not in ("simple", "flat"):
                raise self.error(
                    f"[[tool.uv.index]] format must be 'simple' or 'flat', not {fmt!r}",
                    self.key("format", "tool.uv.index"),
                )
            kind = "find-links" if fmt == "flat" else ("index" if entry.get("default", False) else "extra-index")
            priority = "explicit" if entry.get("explicit", False) else None
            origin = Origin(self.path, spot.line, spot.column, spot.text)
            result.append(Source.from_url(kind, url, name=name, priority=priority, origin=origin))  # type: ignore[arg-type]
        legacy = [("index", u) for u in ([self.string(uv, "index-url", where)] if "index-url" in uv else [])]
        legacy += [("extra-index", u) for u in self.string_list(uv, "extra-index-url", where)]
        legacy += [("find-links", u) for u in self.string_list(uv, "find-links", where)]
        for kind, url in legacy:
            assert url is not None
            key = {"index": "index-url", "extra-index": "extra-index-url", "find-links": "find-links"}[kind]
            spot = self.strings([url], key, where)[0]
            result.append(Source.from_url(kind, url, origin=Origin(self.path, spot.line, spot.column, spot.text)))  # type: ignore[arg-type]
        return result

    def _header(self, table: str) -> _Spot:
        pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return _Spot(number, 1, line)
        return _Spot(1, 1, self.lines[0] if self.lines else "")

    def source_entries(self, uv: Mapping[str, Any], index_names: set[str]) -> dict[str, list[_SourceEntry]]:
        table = self.table(uv, "sources", "tool.uv")
        result: dict[str, list[_SourceEntry]] = {}
        for package, value in table.items():
            spot = self.key(package, "tool.uv.sources")
            items = value if isinstance(value, list) else [value]
            if not items or not all(isinstance(item, dict) for item in items):
                raise self.error(f"[tool.uv.sources] {package} must be a table or an array of tables", spot)
            result[canonicalize_name(package)] = [self.source_entry(package, item, spot, index_names) for item in items]
        return result

    def source_entry(self, package: str, item: Mapping[str, Any], spot: _Spot, index_names: set[str]) -> _SourceEntry:
        kinds = [k for k in ("git", "url", "path", "index", "workspace") if k in item]
        if len(kinds) != 1:
            raise self.error(
                f"[tool.uv.sources] {package}: a source needs exactly one of git, url, path, index, workspace",
                spot,
                len(package),
            )
        kind = kinds[0]
        allowed = {
            "git": {"git", "rev", "tag", "branch", "subdirectory", "lfs"},
            "url": {"url", "subdirectory"},
            "path": {"path", "editable", "package"},
            "index": {"index"},
            "workspace": {"workspace", "editable"},
        }[kind] | {"marker", "extra", "group"}
        for key in item:
            if key not in allowed:
                raise self.error(
                    f"[tool.uv.sources] {package}: {key!r} cannot be used with {kind!r}", spot, len(package)
                )
        for key in item:
            expected: Any = bool if key in ("editable", "package", "workspace", "lfs") else str
            if not isinstance(item[key], expected):
                what = "true or false" if expected is bool else "a string"
                raise self.error(f"[tool.uv.sources] {package}: {key} must be {what}", spot, len(package))
        if "extra" in item and "group" in item:
            raise self.error(
                f"[tool.uv.sources] {package}: a source cannot have both extra and group", spot, len(package)
            )
        changes: dict[str, Any] = {}
        if kind == "git":
            refs = [k for k in ("rev", "tag", "branch") if k in item]
            if len(refs) > 1:
                raise self.error(f"[tool.uv.sources] {package}: use only one of rev, tag, branch", spot, len(package))
            url = item["git"]
            url = url if url.startswith("git+") else "git+" + url
            if refs:
                url += "@" + item[refs[0]]
            if "subdirectory" in item:
                url += "#subdirectory=" + item["subdirectory"]
            if item.get("lfs"):
                self.warn(f"{package}: uv's Git LFS option is not carried", spot)
            changes["url"] = url
        elif kind == "url":
            changes["url"] = item["url"] + ("#subdirectory=" + item["subdirectory"] if "subdirectory" in item else "")
        elif kind == "path":
            changes["path"] = item["path"]
            changes["editable"] = item.get("editable", False)
            if item.get("package") is not None:
                self.warn(f"{package}: uv's 'package' option on a path source is not carried", spot)
        elif kind == "index":
            if item["index"] not in index_names:
                raise self.error(
                    f"[tool.uv.sources] {package} references an undeclared index {item['index']!r}",
                    spot,
                    len(package),
                    hint="declare it in a [[tool.uv.index]] table with that name",
                )
            changes["index"] = item["index"]
        else:
            self.warn(f"{package} comes from the uv workspace; its location is not in this file", spot)
        marker = None
        if "marker" in item:
            try:
                marker = Marker(item["marker"])
            except InvalidMarker as exc:
                raise self.error(
                    f"[tool.uv.sources] {package}: invalid marker: {exc}".splitlines()[0], spot, len(package)
                ) from None
        return _SourceEntry(
            tuple(changes.items()),
            marker,
            item.get("extra"),
            item.get("group"),
            workspace=kind == "workspace",
            spot=spot,
        )

    def apply_sources(self, dep: Dependency, entries: Mapping[str, list[_SourceEntry]]) -> list[Dependency]:
        found = entries.get(dep.key or "")
        if not found:
            return [dep]
        result = apply_entries(dep, found)
        if result is None:
            spot = _Spot(dep.origin.line, dep.origin.column, dep.origin.text) if dep.origin else _Spot(1, 1, "")
            raise self.error(
                f"{dep.name} has a URL in its requirement and an entry in [tool.uv.sources]; uv cannot combine them",
                spot,
                len(dep.text) or 1,
            )
        if len(result) > 1:
            self.warn(
                f"{dep.name}: uv takes it from its [tool.uv.sources] entries where their markers hold; "
                "envkit reads one requirement per source marker and keeps the requirement itself too",
                found[0].spot,
            )
        return result

    def config_settings(self, uv: Mapping[str, Any], requirements: list[Dependency]) -> list[Dependency]:
        table = self.table(uv, "config-settings-package", "tool.uv")
        settings: dict[str, tuple[tuple[str, str], ...]] = {}
        for package, values in table.items():
            spot = self.key(package, "tool.uv.config-settings-package")
            if not isinstance(values, dict):
                raise self.error(f"config-settings-package {package} must be a table", spot)
            pairs: list[tuple[str, str]] = []
            for key, value in values.items():
                for one in value if isinstance(value, list) else [value]:
                    if not isinstance(one, str):
                        raise self.error(f"config-settings-package {package}: {key} must be a string", spot)
                    pairs.append((key, one))
            settings[canonicalize_name(package)] = tuple(pairs)
        if not settings:
            return requirements
        return [
            d.with_changes(config_settings=settings[d.key]) if d.key in settings and not d.constraint else d
            for d in requirements
        ]

    def options(self, uv: Mapping[str, Any]) -> PipOptions:
        where = "tool.uv"
        prerelease = self.string(uv, "prerelease", where)
        if prerelease is not None and prerelease not in PRERELEASE_MODES:
            raise self.error(
                f"[tool.uv] prerelease must be one of {', '.join(PRERELEASE_MODES)}",
                self.strings([prerelease], "prerelease", where)[0],
                len(prerelease),
            )
        if prerelease in ("if-necessary", "explicit"):
            self.warn(
                f"uv's prerelease = {prerelease!r} is not carried (pip's default is like 'if-necessary-or-explicit')",
                self.key("prerelease", where),
            )
        per_package = self.table(uv, "prerelease-package", where)
        all_releases: list[str] = []
        only_final: list[str] = []
        for package, mode in per_package.items():
            if mode == "allow":
                all_releases.append(canonicalize_name(package))
            elif mode == "disallow":
                only_final.append(canonicalize_name(package))
            elif mode in PRERELEASE_MODES:
                self.warn(
                    f"uv's prerelease mode {mode!r} for {package} is not carried",
                    self.key(package, where + ".prerelease-package"),
                )
            else:
                raise self.error(
                    f"prerelease-package {package}: unknown mode {mode!r}",
                    self.key(package, where + ".prerelease-package"),
                )
        if prerelease == "disallow":
            only_final = [":all:"]
        no_binary: list[str] = [canonicalize_name(n) for n in self.string_list(uv, "no-binary-package", where)]
        only_binary: list[str] = [canonicalize_name(n) for n in self.string_list(uv, "no-build-package", where)]
        if self.boolean(uv, "no-binary", where):
            no_binary.append(":all:")
        if self.boolean(uv, "no-build", where):
            only_binary.append(":all:")
        return PipOptions(
            no_index=self.boolean(uv, "no-index", where),
            pre=prerelease == "allow",
            trusted_hosts=tuple(self.string_list(uv, "allow-insecure-host", where)),
            no_binary=tuple(sorted(set(no_binary))),
            only_binary=tuple(sorted(set(only_binary))),
            all_releases=tuple(sorted(set(all_releases))),
            only_final=tuple(sorted(set(only_final))),
        )


def _label(table: str | None, key: str) -> str:
    return f"[{table}] {key}" if table else key


# ---------------------------------------------------------------------------------------
# Sources applied to requirements (shared by reading and by the writer's self-check)


def _paren(marker: Marker) -> str:
    text = str(marker)
    return f"({text})" if " or " in text else text


def and_markers(a: Marker | None, b: Marker | None) -> Marker | None:
    """``a and b`` (either may be missing)."""
    if a is None:
        return b
    if b is None or str(a) == str(b):
        return a
    return Marker(f"{_paren(a)} and {_paren(b)}")


def apply_entries(dep: Dependency, entries: Sequence[_SourceEntry]) -> list[Dependency] | None:
    """``dep`` as uv reads it with the ``[tool.uv.sources]`` entries of its name.

    An entry whose marker equals the requirement's own applies as it is; otherwise an
    entry without a marker applies; otherwise each marked entry gives one requirement
    restricted to its marker, and the requirement itself is kept for everywhere else.
    ``None`` when a source location meets a URL already in the requirement.
    """
    usable = [e for e in entries if e.applies_to(dep.group)]
    if not usable:
        return [dep]
    own = str(dep.marker) if dep.marker is not None else None
    exact = [e for e in usable if e.marker is not None and str(e.marker) == own]
    plain = [e for e in usable if e.marker is None]
    chosen = exact[:1] or plain[:1]
    if chosen:
        applied = _apply(dep, chosen[0])
        return None if applied is None else [applied]
    result = []
    for entry in usable:
        applied = _apply(dep, entry)
        if applied is None:
            return None
        result.append(applied.with_changes(marker=and_markers(dep.marker, entry.marker)))
    return [*result, dep]


def _apply(dep: Dependency, entry: _SourceEntry) -> Dependency | None:
    if entry.workspace:
        return dep
    changes = dict(entry.changes)
    if dep.url is not None:
        return None  # uv cannot combine a URL requirement with a source
    if "path" in changes:
        wheel = _wheel_version(changes["path"])
        if wheel is not None and not dep.specifier and wheel[0] == dep.key:
            changes["specifier"] = SpecifierSet(f"=={wheel[1]}")
    return dep.with_changes(**changes)


def _wheel_version(location: str) -> tuple[str, str] | None:
    filename = posixpath.basename(
        unquote(urlsplit(location).path) if "://" in location else location.replace("\\", "/")
    )
    if not filename.lower().endswith(".whl"):
        return None
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    return str(name), str(version)


# ---------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True)
class _Item:
    """One string of a requirement array, with its comment, and what uv reads from it
    together with its package's source (``effective``)."""

    text: str
    comment: Optional[str]
    dep: Dependency
    effective: Optional[Dependency] = None
    #: Read back from another item's marker-qualified source; not written itself.
    hidden: bool = False


#: Where a requirement list lives: ("main", ""), ("extra", NAME), ("group", NAME), ("constraints", "").
Section = tuple[str, str]
MAIN: Section = ("main", "")
CONSTRAINTS: Section = ("constraints", "")


@dataclass
class _Plan:
    """Everything the writer owns, as plain values, before it touches the document."""

    python: Optional[SpecifierSet] = None
    lists: dict[Section, list[_Item]] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    #: Losses that hold only if the package reads back differently (sources shared by name).
    conditional: list[tuple[str, Loss]] = field(default_factory=list)

    def names(self, kind: str) -> dict[str, list[_Item]]:
        return {name: items for (k, name), items in self.lists.items() if k == kind}


#: [tool.uv] keys the writer owns (besides the requirement lists and sources).
_OWNED_SETTINGS = (
    "find-links",
    "no-index",
    "prerelease",
    "prerelease-package",
    "allow-insecure-host",
    "no-binary",
    "no-binary-package",
    "no-build",
    "no-build-package",
)
_SOURCE_SETTINGS = ("index-url", "extra-index-url", "find-links")


def dumps(env: Environment, existing: str | None = None) -> Rendered:
    """Write ``env`` as uv's ``pyproject.toml``, merged into ``existing`` when given."""
    import tomlkit

    losses: list[Loss] = []
    plan = _plan(env, losses)
    if existing is not None:
        old = loads(existing)
        doc = tomlkit.parse(existing)
        creating = False
    else:
        old = Environment()
        doc = tomlkit.parse(template("pyproject-uv.toml"))
        creating = True
    _apply_plan(doc, plan, env, old, creating)
    text = tomlkit.dumps(doc)
    if plan.conditional:
        back = _by_package(loads(text).requirements)
        wanted = _by_package(
            d.with_changes(hashes=(), global_options=(), channel=None) for d in env.requirements if not d.constraint
        )
        losses += [loss for key, loss in plan.conditional if back.get(key) != wanted.get(key)]
    return Rendered(text, tuple(losses))


def _by_package(deps: Iterable[Dependency]) -> dict[str, Counter[Dependency]]:
    result: dict[str, Counter[Dependency]] = {}
    for dep in deps:
        if not dep.constraint:
            result.setdefault(dep.key or "", Counter())[dep] += 1
    return result


def index_env_name(name: str) -> str:
    """The upper-case form uv uses in ``UV_INDEX_<NAME>_USERNAME``."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def derived_index_name(url: str, taken: Iterable[str] = ()) -> str:
    """A uv index name made from ``url``'s host and path (``download.pytorch.org-whl-cpu``)."""
    parts = urlsplit(url)
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", (parts.netloc.rsplit("@", 1)[-1] + parts.path)).strip("-.") or "index"
    used = set(taken)
    name, n = base, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    return name


def guess_name(dep: Dependency) -> str | None:
    """A project name for an unnamed requirement, from its wheel, sdist, repository or folder."""
    location = dep.url or dep.path or ""
    if dep.url:
        path = unquote(urlsplit(dep.url.split("#", 1)[0]).path)
        if dep.is_vcs:
            path = path.rsplit("@", 1)[0] if "@" in posixpath.basename(path) else path
            path = path[:-4] if path.endswith(".git") else path
    else:
        path = location.replace("\\", "/")
    filename = posixpath.basename(path.rstrip("/"))
    if filename.lower().endswith(".whl"):
        try:
            return str(parse_wheel_filename(filename)[0])
        except InvalidWheelFilename:
            return None
    if filename.lower().endswith(_ARCHIVES):
        try:
            return str(parse_sdist_filename(filename)[0])
        except InvalidSdistFilename:
            return None
    candidate = canonicalize_name(filename) if filename else ""
    return candidate if candidate and _NAME_RE.match(candidate) else None


def _is_file(dep: Dependency) -> bool:
    location = (dep.url or dep.path or "").split("#", 1)[0].lower()
    return location.endswith(_ARCHIVES)


def _plan(env: Environment, losses: list[Loss]) -> _Plan:
    plan = _Plan(python=env.python)
    index_names = _plan_indexes(env, plan, losses)
    occurrences: dict[str, list[tuple[_Item, Optional[dict[str, Any]]]]] = {}
    settings: dict[str, tuple[tuple[str, str], ...]] = {}
    placed: list[tuple[Section, _Item, Optional[dict[str, Any]]]] = []
    configs: dict[str, list[Dependency]] = {}
    for dep in env.requirements:
        written = _plan_requirement(dep, index_names, losses)
        if written is None:
            continue
        item, source = written
        key = item.dep.key
        assert key is not None
        if dep.constraint:
            if dep.group is not None:
                losses.append(
                    Loss(
                        "transformed",
                        str(dep),
                        "uv's constraints apply to the whole project, not to a group",
                        dep.origin,
                    )
                )
            placed.append((CONSTRAINTS, item, None))
            continue
        occurrences.setdefault(key, []).append((item, source))
        configs.setdefault(key, []).append(dep)
        if dep.config_settings:
            settings.setdefault(key, dep.config_settings)
        group = dep.group
        if group is None:
            section = MAIN
        elif group.startswith(EXTRA_PREFIX):
            section = ("extra", _group_name(group[len(EXTRA_PREFIX) :], dep, losses))
        else:
            section = ("group", _group_name(group, dep, losses))
        placed.append((section, item, source))
    hidden = _fold_marker_sources(placed)
    for key in occurrences:
        indices = [i for i, (section, item, _) in enumerate(placed) if section != CONSTRAINTS and item.dep.key == key]
        shown = [(placed[i][1].dep, placed[i][2]) for i in indices if i not in hidden]
        intended = [_apply_table(placed[i][1].dep, _unfolded(placed[i][2])) for i in indices]
        shared: list[Loss] = []
        value = _plan_sources(shown, intended, shared)
        plan.conditional += [(key, loss) for loss in shared]
        if value is not None:
            plan.sources[placed[indices[0]][1].dep.name or key] = value
    for key, chosen in settings.items():
        for dep in configs[key]:
            if dep.config_settings == chosen:
                continue
            if dep.config_settings:
                why = "uv keeps one set of config-settings per package; the first is written"
            else:
                why = "uv applies config-settings to a package name; those of its other requirement apply here too"
            losses.append(Loss("lost" if dep.config_settings else "transformed", str(dep), why, dep.origin))
    for key, pairs in settings.items():
        table: dict[str, Any] = {}
        for k, v in pairs:
            table[k] = [*table[k], v] if isinstance(table.get(k), list) else ([table[k], v] if k in table else v)
        plan.config[key] = table
    for index, (section, item, source) in enumerate(placed):
        effective = _apply_table(item.dep, _unfolded(source)).with_changes(
            config_settings=settings.get(item.dep.key or "", ()) if section != CONSTRAINTS else ()
        )
        plan.lists.setdefault(section, []).append(replace(item, effective=effective, hidden=index in hidden))
    _plan_options(env, plan, losses)
    for spec in env.conda:
        losses.append(Loss("lost", spec, "a conda-only package has no uv equivalent"))
    for channel in env.channels:
        losses.append(Loss("lost", f"channel {channel}", "uv installs from Python package indexes, not conda channels"))
    for name, value in env.variables:
        losses.append(Loss("lost", f"variable {name}={value}", "uv's pyproject.toml sets no environment variables"))
    return plan


def _group_name(name: str, dep: Dependency, losses: list[Loss]) -> str:
    if _NAME_RE.match(name):
        return name
    fixed = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._") or "group"
    losses.append(
        Loss("transformed", str(dep), f"{name!r} is not a valid group name; written as {fixed!r}", dep.origin)
    )
    return fixed


def _plan_indexes(env: Environment, plan: _Plan, losses: list[Loss]) -> set[str]:
    """[[tool.uv.index]] entries and find-links; returns the index names written."""
    taken = {s.name for s in env.sources if s.name}
    names: set[str] = set()
    find_links: list[str] = []
    searched = [s for s in env.sources if s.kind != "find-links" and s.priority != "explicit"]
    merged = len(searched) + (0 if env.index_source() is not None else 1) > 1
    for source in env.sources:
        subject = f"{source.kind} {source.redacted_url()}"
        name = source.name
        if source.has_credentials and name is None:
            name = derived_index_name(source.url, taken)
            taken.add(name)
        if name is not None and not _INDEX_NAME_RE.match(name):
            fixed = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "index"
            losses.append(
                Loss(
                    "transformed",
                    subject,
                    f"{name!r} is not a valid uv index name; written as {fixed!r}",
                    source.origin,
                )
            )
            name = fixed
        if source.has_credentials:
            var = index_env_name(name or "")
            losses.append(
                Loss(
                    "transformed",
                    subject,
                    f"written without its credentials: uv reads them from UV_INDEX_{var}_USERNAME and UV_INDEX_{var}_PASSWORD",
                    source.origin,
                )
            )
        if source.priority not in (None, "explicit", "default"):
            losses.append(
                Loss(
                    "transformed",
                    subject,
                    f"uv has no {source.priority!r} priority; written as an index searched in order",
                    source.origin,
                )
            )
        if not source.verify_ssl:
            host = urlsplit(source.url).netloc or source.url
            plan.settings.setdefault("allow-insecure-host", [])
            if host not in plan.settings["allow-insecure-host"]:
                plan.settings["allow-insecure-host"].append(host)
            losses.append(
                Loss("transformed", subject, f"TLS verification is turned off for host {host!r} instead", source.origin)
            )
        if VAR_RE.search(source.url):
            losses.append(
                Loss("lost", subject, "uv does not expand ${VAR} references in pyproject.toml", source.origin)
            )
        if source.kind == "find-links" and name is None and source.priority is None:
            find_links.append(source.url)
            later = env.sources[env.sources.index(source) + 1 :]
            if any(s.kind != "find-links" or s.name is not None or s.has_credentials for s in later):
                losses.append(
                    Loss(
                        "transformed",
                        subject,
                        "uv lists find-links after the indexes; the order changes nothing uv installs",
                        source.origin,
                    )
                )
            continue
        entry: dict[str, Any] = {}
        if name is not None:
            entry["name"] = name
            names.add(name)
        entry["url"] = source.url
        if source.kind == "index":
            entry["default"] = True
        if source.priority == "explicit":
            entry["explicit"] = True
        if source.kind == "find-links":
            entry["format"] = "flat"
        elif source.kind == "extra-index" and merged and source.priority != "explicit" and env.format != NAME:
            losses.append(
                Loss(
                    "transformed",
                    subject,
                    "uv takes each package from the first index that has it (pip merges all indexes); "
                    'set index-strategy = "unsafe-best-match" in [tool.uv] for pip\'s behaviour',
                    source.origin,
                )
            )
        plan.indexes.append(entry)
    if find_links:
        plan.settings["find-links"] = find_links
    return names


def _pep508_text(dep: Dependency) -> str:
    """``dep`` as a PEP 508 string, in the user's spelling when that says the same."""
    if dep.text and not dep.path and not dep.editable:
        try:
            req = Requirement(dep.text)
        except InvalidRequirement:
            req = None
        if req is not None:
            same = Dependency(req.name, req.specifier, frozenset(req.extras), req.marker, url=req.url)
            plain = Dependency(dep.name, dep.specifier, dep.extras, dep.marker, url=dep.url)
            if same == plain:
                return dep.text
    return dep.pep508()


def _plan_requirement(
    dep: Dependency, index_names: set[str], losses: list[Loss]
) -> tuple[_Item, Optional[dict[str, Any]]] | None:
    """The PEP 508 item and the ``[tool.uv.sources]`` table for one requirement."""
    subject = str(dep)
    name = dep.name
    if name is None:
        name = guess_name(dep)
        if name is None:
            losses.append(Loss("lost", subject, "uv needs the project name of every requirement", dep.origin))
            return None
        losses.append(
            Loss(
                "transformed",
                subject,
                f"uv needs the project name; {name!r} is guessed from {'the file name' if _is_file(dep) else 'the location'}",
                dep.origin,
            )
        )
    written = dep.with_changes(name=name, hashes=(), config_settings=(), global_options=(), channel=None)
    source: Optional[dict[str, Any]] = None
    if dep.hashes:
        losses.append(
            Loss("lost", f"{subject} --hash", "uv records hashes in uv.lock, not in pyproject.toml", dep.origin)
        )
    if dep.global_options:
        losses.append(Loss("lost", f"{subject} --global-option", "uv has no --global-option", dep.origin))
    if dep.channel is not None:
        losses.append(Loss("lost", subject, f"uv cannot take a package from conda channel {dep.channel!r}", dep.origin))
    if dep.constraint and (dep.url or dep.path or dep.index):
        losses.append(Loss("lost", subject, "a uv constraint is a name, a specifier and a marker", dep.origin))
        return None
    if dep.url and dep.url.lower().startswith("file:") and dep.editable and not dep.is_vcs:
        path = unquote(urlsplit(dep.url.split("#", 1)[0]).path)
        losses.append(Loss("transformed", subject, f"written as the editable path {path!r}", dep.origin))
        written = written.with_changes(url=None, path=path)
    if written.path is not None:
        source = {"path": written.path}
        if written.editable:
            source["editable"] = True
        wheel = _wheel_version(written.path)
        implied = wheel is not None and wheel[0] == written.key and written.specifier == SpecifierSet(f"=={wheel[1]}")
        if written.specifier and not implied:
            losses.append(
                Loss("lost", subject, "uv takes the version of a local path from the path itself", dep.origin)
            )
        written = written.with_changes(specifier=SpecifierSet(), path=None, editable=False)
    elif written.url is not None:
        if dep.is_vcs and not written.url.lower().startswith("git+"):
            losses.append(
                Loss("lost", subject, "uv installs from Git only, not from other version control", dep.origin)
            )
            return None
        if dep.editable:
            losses.append(
                Loss(
                    "transformed",
                    subject,
                    "uv installs a VCS requirement as a regular (not editable) package",
                    dep.origin,
                )
            )
        if VAR_RE.search(written.url):
            losses.append(Loss("lost", subject, "uv does not expand ${VAR} references in pyproject.toml", dep.origin))
        if written.specifier:
            wheel = _wheel_version(written.url)
            why = (
                "the version is given by the wheel's file name"
                if wheel is not None and written.specifier == SpecifierSet(f"=={wheel[1]}")
                else "a PEP 508 URL requirement has no version specifier"
            )
            losses.append(Loss("transformed" if "wheel" in why else "lost", subject, why, dep.origin))
        written = written.with_changes(editable=False, specifier=SpecifierSet())
    if dep.index is not None:
        if dep.url or dep.path:
            losses.append(
                Loss("lost", subject, f"uv takes a package from one place; index {dep.index!r} is dropped", dep.origin)
            )
        elif dep.index not in index_names:
            losses.append(Loss("lost", subject, f"index {dep.index!r} is not one of the sources", dep.origin))
        else:
            source = {"index": dep.index}
        written = written.with_changes(index=None)
    text = _pep508_text(written)
    return _Item(text, dep.comment, written.with_changes(text=text)), source


_FOLDED = "_folded"


def _unfolded(table: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The source a requirement had before :func:`_fold_marker_sources` moved another one onto it."""
    if table is None or _FOLDED not in table:
        return table
    return table[_FOLDED]  # type: ignore[no-any-return]


def _residual(whole: Marker, part: Marker | None) -> Marker | None:
    """``m`` such that ``part and m`` is ``whole``, when ``whole`` was written that way."""
    if part is None:
        return whole
    prefix = _paren(part) + " and "
    text = str(whole)
    if not text.startswith(prefix):
        return None
    try:
        rest = Marker(text[len(prefix) :])
    except InvalidMarker:
        return None
    combined = and_markers(part, rest)
    return rest if combined is not None and str(combined) == text else None


def _fold_marker_sources(placed: list[tuple[Section, _Item, Optional[dict[str, Any]]]]) -> set[int]:
    """Undo the reader's split of a marker-qualified source.

    uv reads ``X`` with a source qualified by marker ``m`` as two requirements: ``X and m``
    from that source, and ``X`` itself. When both are planned, ``X and m`` is not written:
    ``X`` gets the source with ``marker = m``. Returns the indices of the hidden items.
    """
    hidden: set[int] = set()
    sections: dict[str, set[Section]] = {}
    for section, item, _ in placed:
        sections.setdefault(item.dep.key or "", set()).add(section)
    for xi, (section, x, table) in enumerate(placed):
        if table is None or x.dep.marker is None or section == CONSTRAINTS or "marker" in table or xi in hidden:
            continue
        bare = x.dep.with_changes(marker=None)
        for yi, (other, y, other_table) in enumerate(placed):
            if yi == xi or yi in hidden or other != section or other_table is not None:
                continue
            if y.dep.with_changes(marker=None) != bare:
                continue
            rest = _residual(x.dep.marker, y.dep.marker)
            if rest is None:
                continue
            folded = dict(table)
            folded["marker"] = str(rest)
            if len(sections[x.dep.key or ""]) > 1 and section != MAIN:
                folded["extra" if section[0] == "extra" else "group"] = section[1]
            folded[_FOLDED] = None
            placed[yi] = (other, y, folded)
            hidden.add(xi)
            break
    return hidden


def _plan_sources(
    found: list[tuple[Dependency, Optional[dict[str, Any]]]], intended: list[Dependency], losses: list[Loss]
) -> Any:
    """The ``[tool.uv.sources]`` value for one package, qualified when its requirements differ.

    ``found`` are the requirements written, each with its source table; ``intended`` what
    uv should read from them all. What uv would read differently is reported.
    """
    found = [(dep, {k: v for k, v in t.items() if k != _FOLDED} if t else None) for dep, t in found]
    tables = [source for _, source in found]
    distinct = []
    for table in tables:
        if table not in distinct:
            distinct.append(table)
    if distinct == [None]:
        return None
    if len(distinct) == 1:
        value: Any = distinct[0]
        entries = [_entry_from_table(value)]
    else:
        value = []
        for dep, table in found:
            if table is None:
                continue
            entry = dict(table)
            if "marker" in entry:
                pass
            elif dep.marker is not None:
                entry["marker"] = str(dep.marker)
            elif dep.group is not None and dep.group.startswith(EXTRA_PREFIX):
                entry["extra"] = dep.group[len(EXTRA_PREFIX) :]
            elif dep.group is not None:
                entry["group"] = dep.group
            if entry not in value:
                value.append(entry)
        entries = [_entry_from_table(e) for e in value]
    read: Counter[Dependency] = Counter()
    for dep, _ in found:
        applied = apply_entries(dep, entries)
        if applied is None:  # uv would reject the file: write no source for this package
            for want in intended:
                if want not in [d for d, _ in found]:
                    losses.append(
                        Loss(
                            "lost",
                            str(want),
                            "uv cannot combine a URL requirement of the same package with a [tool.uv.sources] entry",
                            want.origin,
                        )
                    )
            return None
        read.update(applied)
    for dep in (Counter(intended) - read).elements():
        losses.append(
            Loss(
                "transformed",
                str(dep),
                "uv applies [tool.uv.sources] to a package name; the sources of its other requirements apply here too",
                dep.origin,
            )
        )
    return value


def _entry_from_table(table: Mapping[str, Any]) -> _SourceEntry:
    changes = {k: v for k, v in table.items() if k not in ("marker", "extra", "group")}
    if "path" in changes:
        changes.setdefault("editable", False)
    marker = Marker(table["marker"]) if "marker" in table else None
    return _SourceEntry(tuple(changes.items()), marker, table.get("extra"), table.get("group"))


def _apply_table(dep: Dependency, table: Optional[Mapping[str, Any]]) -> Dependency:
    if table is None:
        return dep
    applied = _apply(dep, _entry_from_table(table))
    return applied if applied is not None else dep


def _plan_options(env: Environment, plan: _Plan, losses: list[Loss]) -> None:
    opts = env.options
    settings = plan.settings
    if opts.no_index:
        settings["no-index"] = True
    if opts.pre or ":all:" in opts.all_releases:
        settings["prerelease"] = "allow"
    elif ":all:" in opts.only_final:
        settings["prerelease"] = "disallow"
    per_package = {name: "allow" for name in opts.all_releases if name != ":all:"}
    per_package.update({name: "disallow" for name in opts.only_final if name != ":all:"})
    if per_package:
        settings["prerelease-package"] = per_package
    for host in opts.trusted_hosts:
        settings.setdefault("allow-insecure-host", [])
        if host not in settings["allow-insecure-host"]:
            settings["allow-insecure-host"].append(host)
    if ":all:" in opts.no_binary:
        settings["no-binary"] = True
    if [n for n in opts.no_binary if n != ":all:"]:
        settings["no-binary-package"] = [n for n in opts.no_binary if n != ":all:"]
    if ":all:" in opts.only_binary:
        settings["no-build"] = True
    if [n for n in opts.only_binary if n != ":all:"]:
        settings["no-build-package"] = [n for n in opts.only_binary if n != ":all:"]
    if opts.prefer_binary:
        losses.append(Loss("lost", "--prefer-binary", "uv has no prefer-binary setting"))
    if opts.require_hashes:
        losses.append(
            Loss(
                "transformed",
                "--require-hashes",
                "uv checks the hashes it records in uv.lock; pyproject.toml has no switch",
            )
        )
    if opts.no_require_hashes:
        losses.append(Loss("lost", "--no-require-hashes", "uv has no such setting"))
    for feature in opts.use_features:
        losses.append(Loss("lost", f"--use-feature {feature}", "uv has no pip feature flags"))


# -- applying the plan to a tomlkit document ------------------------------------------


def _sections(env: Environment) -> dict[Section, Counter[Dependency]]:
    """The requirements of ``env`` per list, as uv reads them."""
    result: dict[Section, Counter[Dependency]] = {}
    for dep in env.requirements:
        if dep.constraint:
            section = CONSTRAINTS
        elif dep.group is None:
            section = MAIN
        elif dep.group.startswith(EXTRA_PREFIX):
            section = ("extra", dep.group[len(EXTRA_PREFIX) :])
        else:
            section = ("group", dep.group)
        result.setdefault(_canonical_section(section), Counter())[dep.with_changes(text="", comment=None)] += 1
    return result


def _canonical_section(section: Section) -> Section:
    return (section[0], canonicalize_name(section[1]) if section[1] else "")


def _apply_plan(doc: Any, plan: _Plan, env: Environment, old: Environment, creating: bool) -> None:
    """Change ``doc`` to say what ``plan`` says; a list, source or setting that already
    means the same (as read back) keeps its bytes."""
    import tomlkit

    new = {
        _canonical_section(section): Counter(i.effective for i in items if i.effective is not None)
        for section, items in plan.lists.items()
    }
    before = _sections(old)
    by_package_old: dict[str, Counter[tuple[Section, Dependency]]] = {}
    by_package_new: dict[str, Counter[tuple[Section, Dependency]]] = {}
    for sections, target in ((before, by_package_old), (new, by_package_new)):
        for section, deps in sections.items():
            for dep, count in deps.items():
                target.setdefault(dep.key or "", Counter())[(section, dep)] += count
    changed = {k for k in set(by_package_old) | set(by_package_new) if by_package_old.get(k) != by_package_new.get(k)}
    unchanged = (set(by_package_old) | set(by_package_new)) - changed

    def kept(section: Section) -> bool:
        section = _canonical_section(section)
        if before.get(section, Counter()) != new.get(section, Counter()):
            return False
        keys = {d.key for d in before.get(section, Counter())} | {d.key for d in new.get(section, Counter())}
        return not (keys & changed)

    project = doc.get("project")
    if project is None and (creating or plan.lists.get(MAIN) or plan.names("extra") or plan.python is not None):
        project = tomlkit.table()
        project["name"] = _project_name(env)
        project["version"] = "0.1.0"
        doc["project"] = project
    if creating and project is not None:
        project["name"] = _project_name(env)
    if project is not None:
        if plan.python is None:
            project.pop("requires-python", None)
        elif old.python != plan.python or "requires-python" not in project:
            project["requires-python"] = str(plan.python)
        if not kept(MAIN) or ("dependencies" not in project and creating):
            _set_array(project, "dependencies", plan.lists.get(MAIN, []), keep_empty=True, unchanged=unchanged)
        _set_lists(
            project,
            "optional-dependencies",
            plan.names("extra"),
            kept=lambda n: kept(("extra", n)),
            unchanged=unchanged,
        )
    groups = plan.names("group")
    existing_groups = doc.get("dependency-groups")
    group_keys = list(existing_groups) if existing_groups is not None else []
    uv_doc = doc.get("tool", {}).get("uv") if isinstance(doc.get("tool"), Mapping) else None
    legacy_dev = uv_doc is not None and "dev-dependencies" in uv_doc
    dev_in_groups = any(canonicalize_name(k) == "dev" for k in group_keys)
    dev_kept = kept(("group", "dev"))
    group_kept = _include_closure(existing_groups.unwrap() if existing_groups is not None else {}, kept)
    if legacy_dev and not dev_in_groups and not dev_kept:
        dev_items = groups.pop("dev", None) or []
        _set_lists(doc, "dependency-groups", groups, kept=group_kept, unchanged=unchanged)
        _set_array(_ensure_uv(doc), "dev-dependencies", dev_items, keep_empty=False, unchanged=unchanged)
    elif legacy_dev and dev_kept:
        _set_lists(doc, "dependency-groups", groups, kept=group_kept, untouched={"dev"}, unchanged=unchanged)
    else:
        _set_lists(doc, "dependency-groups", groups, kept=group_kept, unchanged=unchanged)
        if legacy_dev:
            del _ensure_uv(doc)["dev-dependencies"]
    uv = _ensure_uv(doc)
    if not kept(CONSTRAINTS):
        _set_array(
            uv, "constraint-dependencies", plan.lists.get(CONSTRAINTS, []), keep_empty=False, unchanged=unchanged
        )
    relocate = old.sources != env.sources or creating
    if relocate:
        for key in _SOURCE_SETTINGS:
            uv.pop(key, None)
        if "find-links" in plan.settings:
            uv["find-links"] = plan.settings["find-links"]
    for key in _OWNED_SETTINGS:
        if key == "find-links":
            continue
        wanted = plan.settings.get(key)
        current = uv.get(key)
        current_plain = current.unwrap() if hasattr(current, "unwrap") else current
        if key == "prerelease" and wanted is None and current_plain not in (None, "allow", "disallow"):
            continue  # a mode the model cannot hold stays as the user wrote it
        if wanted is None:
            uv.pop(key, None)
        elif _setting_key(key, current_plain) != _setting_key(key, wanted):
            uv[key] = _inline(wanted) if isinstance(wanted, dict) else wanted
    _set_per_package(uv, "config-settings-package", plan.config, changed, keep=lambda _: False, inline=True)
    if relocate:
        _set_indexes(uv, plan.indexes)
    _set_per_package(uv, "sources", plan.sources, changed, keep=_is_workspace)
    _prune(doc)


_INDEX_KEYS = ("name", "url", "default", "explicit", "format")


def _set_indexes(uv: Any, entries: Sequence[Mapping[str, Any]]) -> None:
    """Own ``[[tool.uv.index]]``. The user's table for the same index (same name, else the
    same URL) is updated in place, its other keys (``authenticate``...) kept; when the order
    allows, the array is edited in place too (new indexes appended)."""
    import tomlkit

    current = uv.get("index")
    tables = list(current) if isinstance(current, list) else []
    free = list(tables)
    matched: list[Any] = []
    for entry in entries:
        match = next((t for t in free if "name" in entry and t.get("name") == entry["name"]), None)
        if match is None:
            match = next((t for t in free if t.get("url") == entry["url"] and t.get("name") == entry.get("name")), None)
        if match is not None:
            free.remove(match)
        matched.append(match)
    if not entries:
        uv.pop("index", None)
        return
    kept = [m for m in matched if m is not None]
    in_order = kept == [t for t in tables if t in kept] and matched == kept + [None] * (len(matched) - len(kept))
    if not (in_order and tables):
        aot = tomlkit.aot()
        for entry, match in zip(entries, matched):
            aot.append(_update_index(match if match is not None else tomlkit.table(), entry))
        uv["index"] = aot
        return
    for i in reversed(range(len(tables))):
        if tables[i] not in kept:
            del current[i]
    for entry, match in zip(entries, matched):
        if match is not None:
            _update_index(match, entry)
    spaced = current[-1].as_string().endswith("\n\n") if len(current) else False
    for entry, match in zip(entries, matched):
        if match is None:
            table = _update_index(tomlkit.table(), entry)
            if spaced:
                table.add(tomlkit.nl())
            current.append(table)


def _update_index(table: Any, entry: Mapping[str, Any]) -> Any:
    for key in _INDEX_KEYS:
        if key in entry:
            if table.get(key) != entry[key]:
                table[key] = entry[key]
        elif key in table and not (key == "format" and table[key] == "simple"):
            del table[key]
    return table


def _setting_key(key: str, value: Any) -> Any:
    """A setting's value compared as uv means it (package names normalized, order ignored)."""
    if key in ("no-binary-package", "no-build-package") and isinstance(value, list):
        return sorted({canonicalize_name(str(v)) for v in value})
    if key == "allow-insecure-host" and isinstance(value, list):
        return sorted(set(map(str, value)))
    if key == "prerelease-package" and isinstance(value, dict):
        return sorted((canonicalize_name(k), v) for k, v in value.items())
    return value


def _include_closure(groups: Mapping[str, Any], kept: Any) -> Any:
    """A group keeps its bytes only when it and every group it includes keep their meaning."""
    canonical = {canonicalize_name(k): k for k in groups}

    def ok(name: str, seen: tuple[str, ...]) -> bool:
        if not kept(("group", name)):
            return False
        for item in groups.get(canonical.get(canonicalize_name(name), name), []):
            if isinstance(item, dict) and isinstance(item.get("include-group"), str):
                target = canonical.get(canonicalize_name(item["include-group"]))
                if target is None or target in seen or not ok(target, (*seen, target)):
                    return False
        return True

    return lambda name: ok(name, (name,))


def _is_workspace(value: Any) -> bool:
    return any(isinstance(e, dict) and e.get("workspace") for e in (value if isinstance(value, list) else [value]))


def _project_name(env: Environment) -> str:
    if env.name and _NAME_RE.match(env.name):
        return env.name
    return str(loads_toml(template("pyproject-uv.toml"), "pyproject-uv.toml")["project"]["name"])


def _ensure_uv(doc: Any) -> Any:
    import tomlkit

    if "tool" not in doc:
        doc["tool"] = tomlkit.table(is_super_table=True)
    tool = doc["tool"]
    if "uv" not in tool:
        tool["uv"] = tomlkit.table()
    return tool["uv"]


def _array(items: Sequence[_Item]) -> Any:
    import tomlkit

    array = tomlkit.array()
    items = [item for item in items if not item.hidden]
    if not items:
        return array
    for item in items:
        array.add_line(item.text, comment=item.comment)
    array.add_line(indent="")
    return array


def _set_array(
    table: Any, key: str, items: Sequence[_Item], *, keep_empty: bool, unchanged: Iterable[str] = ()
) -> None:
    if not items and not keep_empty:
        table.pop(key, None)
        return
    _edit_array(table, key, items, unchanged=unchanged)


def _text_meaning(value: Any) -> Dependency | None:
    if not isinstance(value, str):
        return None
    try:
        return from_pep508(value, path="")
    except ParseError:
        return None


def _edit_array(
    table: Any,
    key: str,
    items: Sequence[_Item],
    includes: Mapping[str, bool] | None = None,
    unchanged: Iterable[str] = (),
) -> None:
    """Make ``table[key]`` hold ``items``, editing the existing array in place.

    Strings that already say the same stay (with their comments and layout), and so do
    the strings of ``unchanged`` packages (their meaning, with their source, is the same);
    a string for the same project is replaced where it stands; the others are removed; new
    items go at the end. ``{include-group}`` items stay when ``includes`` maps their group
    (normalized) to True.
    """
    same = set(unchanged)
    items = [item for item in items if not item.hidden]
    current = table.get(key)
    if current is None or not hasattr(current, "add_line") or len(current) == 0:
        table[key] = _array(items)
        return
    values = list(current.unwrap())
    meanings = [_text_meaning(v) for v in values]
    wanted = [from_pep508(item.text, path="") for item in items]
    taken: set[int] = set()
    keep: set[int] = set()
    swap: dict[int, int] = {}
    for i, meaning in enumerate(meanings):
        j = next((j for j, w in enumerate(wanted) if j not in taken and meaning is not None and w == meaning), None)
        if j is not None:
            taken.add(j)
            keep.add(i)
    for i, meaning in enumerate(meanings):
        if i in keep or meaning is None or meaning.key not in same:
            continue
        j = next((j for j, w in enumerate(wanted) if j not in taken and w.key == meaning.key), None)
        if j is not None:
            taken.add(j)
            keep.add(i)
    for i, meaning in enumerate(meanings):
        if i in keep or meaning is None:
            continue
        j = next((j for j, w in enumerate(wanted) if j not in taken and w.key == meaning.key), None)
        if j is not None:
            taken.add(j)
            swap[i] = j
    for i in reversed(range(len(values))):
        value = values[i]
        if i in keep:
            continue
        if i in swap:
            current[i] = items[swap[i]].text
        elif isinstance(value, dict) and includes is not None:
            target = value.get("include-group")
            if not (isinstance(target, str) and includes.get(canonicalize_name(target), False)):
                del current[i]
        else:
            del current[i]
    multiline = "\n" in current.as_string()
    for j, item in enumerate(items):
        if j in taken:
            continue
        if multiline:
            _add_line(current, item)
        else:
            current.append(item.text)
    if len(current) == 0:
        table[key] = _array([])


def _add_line(array: Any, item: _Item) -> None:
    """Append ``item`` on its own line before the closing bracket of a multi-line array."""
    text = array.as_string()
    indent = "    "
    for line in text.splitlines()[1:]:
        stripped = line.lstrip()
        if stripped and stripped != "]":
            indent = line[: len(line) - len(stripped)]
            break
    array.add_line(item.text, comment=item.comment, indent=indent)


def _set_lists(
    parent: Any,
    key: str,
    lists: Mapping[str, Sequence[_Item]],
    *,
    kept: Any,
    untouched: Iterable[str] = (),
    unchanged: Iterable[str] = (),
) -> None:
    """Own ``parent[key]``: a table of requirement arrays (extras or dependency groups).

    An array whose name passes ``kept`` keeps its bytes; names in ``untouched`` are left
    alone. In a group that is rewritten, an ``{include-group}`` item stays when the
    included group's requirements are all still in it; its own strings are edited.
    """
    import tomlkit

    current = parent.get(key)
    if current is None:
        if not lists:
            return
        current = tomlkit.table()
        parent[key] = current
    skip = {canonicalize_name(n) for n in untouched}
    wanted = {canonicalize_name(n): n for n in lists}
    present = {canonicalize_name(k): k for k in current}
    for canonical, name in present.items():
        if canonical not in wanted and canonical not in skip:
            del current[name]
    for canonical, name in wanted.items():
        if canonical in skip or (canonical in present and kept(name)):
            continue
        target = present.get(canonical, name)
        items = list(lists[name])
        includes: dict[str, bool] = {}
        if canonical in present and key == "dependency-groups":
            for value in current[target].unwrap():
                included = value.get("include-group") if isinstance(value, dict) else None
                if not isinstance(included, str) or canonicalize_name(included) not in wanted:
                    continue
                rest = _without(items, lists[wanted[canonicalize_name(included)]])
                if rest is not None:
                    items = rest
                    includes[canonicalize_name(included)] = True
        _edit_array(current, target, items, includes, unchanged)


def _without(items: Sequence[_Item], part: Sequence[_Item]) -> list[_Item] | None:
    """``items`` less one of each of ``part`` (by meaning); ``None`` when ``part`` is not all there."""
    rest = [item for item in items if not item.hidden]
    for piece in (p for p in part if not p.hidden):
        meaning = from_pep508(piece.text, path="")
        index = next((i for i, item in enumerate(rest) if from_pep508(item.text, path="") == meaning), None)
        if index is None:
            return None
        del rest[index]
    return rest


def _set_per_package(
    uv: Any, key: str, values: Mapping[str, Any], changed: set[str], *, keep: Any, inline: bool = False
) -> None:
    """Own ``[tool.uv] key``, a table by package name.

    The entry of a package whose requirements read the same as before stays as it is (the
    arrays that rely on it keep their bytes too); a changed package gets the planned entry
    or loses its entry, unless ``keep`` says otherwise (a workspace member).
    """
    import tomlkit

    current = uv.get(key)
    if current is None:
        if not values:
            return
        current = tomlkit.inline_table() if inline else tomlkit.table()
        uv[key] = current
    wanted = {canonicalize_name(k): (k, v) for k, v in values.items()}
    present = {canonicalize_name(k): k for k in current}
    for canonical, name in present.items():
        if canonical in changed and canonical not in wanted and not keep(current[name].unwrap()):
            del current[name]
    for canonical, (name, value) in wanted.items():
        if canonical not in changed:
            continue
        if canonical in present and current[present[canonical]].unwrap() == value:
            continue
        current[present.get(canonical, name)] = _inline(value)


def _inline(value: Any) -> Any:
    import tomlkit

    if isinstance(value, list):
        array = tomlkit.array()
        for entry in value:
            array.add_line(_inline(entry))
        array.add_line(indent="")
        return array
    table = tomlkit.inline_table()
    for key, item in value.items():
        table[key] = _inline(item) if isinstance(item, dict) else item
    return table


def _prune(doc: Any) -> None:
    project = doc.get("project")
    if project is not None and "optional-dependencies" in project and not project["optional-dependencies"]:
        del project["optional-dependencies"]
    if "dependency-groups" in doc and not doc["dependency-groups"]:
        del doc["dependency-groups"]
    tool = doc.get("tool")
    if tool is None:
        return
    uv = tool.get("uv")
    if uv is not None:
        if "sources" in uv and not uv["sources"]:
            del uv["sources"]
        if not uv:
            del tool["uv"]
    if not tool:
        del doc["tool"]
