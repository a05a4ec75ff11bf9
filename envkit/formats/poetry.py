"""poetry's ``pyproject.toml``: poetry 1 ``[tool.poetry]`` and poetry 2 ``[project]``, read and written.

What poetry-core 2 reads, and so what envkit reads::

    [project]                       name, requires-python, dependencies (PEP 508),
                                    optional-dependencies (extras), dynamic
    [tool.poetry]                   name (poetry 1)
    [tool.poetry.dependencies]      python, then NAME = CONSTRAINT | TABLE | [TABLE, ...]
    [tool.poetry.dev-dependencies]  the legacy ``dev`` group
    [tool.poetry.group.G]           optional, include-groups, dependencies = {NAME = ...}
    [tool.poetry.extras]            EXTRA = [NAME, ...] (poetry 1 optional dependencies)
    [[tool.poetry.source]]          name, url, priority (primary | supplemental | explicit;
                                    legacy ``default = true`` / ``secondary = true``)
    [dependency-groups]             PEP 735 groups, enriched by [tool.poetry.group.G]

    TABLE := { version | git [branch | tag | rev] [subdirectory] [develop] | path [develop]
               | file | url [subdirectory],
               python, platform, markers, extras, optional, allow-prereleases, source }

A CONSTRAINT is poetry's (``^1.2``, ``~1.2``, ``1.2.*``, ``>=1,<2``, ``a || b``), read into
PEP 440 by :mod:`._poetry_constraints`. ``python`` and ``platform`` become
``python_version``/``sys_platform`` markers joined to ``markers`` with ``and``; a list of
tables is one :class:`~envkit.model.Dependency` per table. ``git`` becomes
``git+URL@REF#subdirectory=DIR`` (``branch``, ``tag`` and ``rev`` are all a ref to git);
``path`` is a local path, ``develop`` makes it (or a git checkout) editable.

How poetry 2 combines the two tables, and so how envkit does: when ``[project]`` lists
dependencies, those are the dependencies; an entry of ``[tool.poetry.dependencies]`` with
the same name only enriches them (its ``source``, ``develop``, ``path``/``git``, a
narrower version, ``allow-prereleases``) and one with no match is ignored (a warning).
Without ``[project]`` dependencies, ``[tool.poetry.dependencies]`` is the list (poetry 1).

Decisions where poetry has no model counterpart:

- An optional dependency that an extra names is read into group ``extra:EXTRA``, once per
  extra (poetry 1 ``optional = true`` + ``[tool.poetry.extras]``, and
  ``[project.optional-dependencies]``); written back to the same places. An optional
  dependency no extra names is never installed: skipped with a warning.
- ``allow-prereleases = true`` / ``false`` is pip's ``--all-releases NAME`` /
  ``--only-final NAME`` (:attr:`~envkit.model.PipOptions.all_releases`, ``only_final``).
- Sources: the first ``primary`` source replaces PyPI (kind ``index``) unless a source named
  ``PyPI`` keeps it; other primary sources are extra indexes; ``supplemental`` and
  ``explicit`` are extra indexes with that priority; a single-page (``.html``) source is
  find-links. Writing reverses this, adding ``{name = "PyPI", priority = "primary"}`` when
  extra indexes must sit beside PyPI.
- A union (``||``) with no exact PEP 440 form is widened to one range, with a warning.
- Writing a git ref, envkit uses ``rev`` (poetry resolves a tag or branch given as ``rev``);
  writing a local path in poetry 2 style, ``[project]`` names it and
  ``[tool.poetry.dependencies]`` gives its ``path`` (PEP 508 has no relative paths).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Optional, Union
from urllib.parse import urlsplit, urlunsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import canonicalize_name

from ..errors import EnvkitError, ParseError
from ..model import VAR_RE, Dependency, Diagnostic, Environment, Origin, PipOptions, Source
from . import _poetry_constraints as pc
from . import _toml_text as tt
from ._base import Loss, Opener, Rendered
from ._pep508 import from_pep508
from ._toml import loads_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.9/3.10 only
    import tomli as tomllib

__all__ = ["FILENAMES", "NAME", "detect", "dumps", "loads"]

NAME = "poetry"
FILENAMES = ("pyproject.toml",)

#: The group prefix for optional dependencies that an extra names.
EXTRA_PREFIX = "extra:"
#: The name a new ``[project]`` gets when the environment has none.
DEFAULT_NAME = "environment"

_POETRY_HEADER_RE = re.compile(r"^\s*\[\[?\s*tool\s*\.\s*poetry\s*[.\]]", re.MULTILINE)
_SCP_RE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>(?!//).*)$")
_KNOWN_KEYS = frozenset(
    {
        "version",
        "python",
        "platform",
        "markers",
        "extras",
        "optional",
        "allow-prereleases",
        "allows-prereleases",
        "source",
        "git",
        "branch",
        "tag",
        "rev",
        "subdirectory",
        "path",
        "develop",
        "file",
        "url",
    }
)

# ---------------------------------------------------------------------------------------
# Detection


def detect(path: str | None, text: str) -> bool:
    """True for a ``pyproject.toml`` (by name; ``*pyproject.toml`` too) holding a
    ``[tool.poetry]`` table; without a path, the table alone.

    A malformed file whose text has a ``[tool.poetry...]`` header is claimed too, so that
    reading it reports the syntax error.
    """
    if path is not None and not path.replace("\\", "/").lower().endswith("pyproject.toml"):
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return _POETRY_HEADER_RE.search(text) is not None
    tool = data.get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("poetry"), dict)


# ---------------------------------------------------------------------------------------
# Reading


def loads(text: str, path: str = "pyproject.toml", *, opener: Opener | None = None) -> Environment:
    """Read poetry's ``pyproject.toml`` ``text`` (its name ``path``) into an :class:`Environment`."""
    del opener  # a pyproject.toml includes nothing
    data = loads_toml(text, path)
    return _Reader(text, path).read(data)


@dataclass(frozen=True)
class _Entry:
    """One poetry dependency table (or constraint string) as read, with what only poetry says."""

    dep: Dependency
    optional: bool = False
    develop: Optional[bool] = None
    prereleases: Optional[bool] = None


@dataclass
class _Reader:
    text: str
    path: str
    notes: list[Diagnostic] = field(default_factory=list)
    all_releases: list[str] = field(default_factory=list)
    only_final: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()
        self._joined_text: tuple[str, list[int]] | None = None

    # -- locating things in the text, for origins and carets ---------------------------
    def header_line(self, table: str) -> int | None:
        """0-based index of the ``[table]`` (or ``[[table]]``) header, if written so."""
        wanted = _split_dotted(table)
        for i, line in enumerate(self.lines):
            match = re.match(r"^\s*\[\[?(.*?)\]\]?\s*(#.*)?$", line)
            if match and _split_dotted(match.group(1)) == wanted:
                return i
        return None

    def section_end(self, start: int) -> int:
        for i in range(start + 1, len(self.lines)):
            if re.match(r"^\s*\[", self.lines[i]) and not re.match(r"^\s*\[\s*[\"'{\d]", self.lines[i]):
                return i
        return len(self.lines)

    def key_origin(self, table: str, key: str, *, nth: int = 0) -> Origin:
        """Where ``key`` is assigned in ``[table]`` (or its ``[table.key]`` header); with
        ``nth`` > 0, the ``nth`` inline table after it (an item of a constraints list)."""
        start = self.header_line(table)
        pattern = re.compile(r"^\s*(\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"'|" + re.escape(key) + r")\s*=")
        if start is not None:
            for i in range(start + 1, self.section_end(start)):
                match = pattern.match(self.lines[i])
                if match:
                    if nth:
                        return self._nth_table(i, nth)
                    return Origin(self.path, i + 1, match.start(1) + 1, self.lines[i])
            return Origin(self.path, start + 1, 1, self.lines[start])
        own = self.header_line(f"{table}.{key}")
        if own is not None:
            return Origin(self.path, own + 1, 1, self.lines[own])
        return self.nowhere()

    def _nth_table(self, line: int, nth: int) -> Origin:
        seen = 0
        for i in range(line, min(line + 200, len(self.lines))):
            for match in re.finditer(r"\{", self.lines[i]):
                if seen == nth - 1:
                    return Origin(self.path, i + 1, match.start() + 1, self.lines[i])
                seen += 1
        return Origin(self.path, line + 1, 1, self.lines[line])

    def string_origin(self, value: str, after: int | None) -> Origin:
        """Where the string literal ``value`` is written, at or after line ``after``: the
        first line holding ``"value"`` or ``'value'`` (the double-quoted one first on a line)."""
        start = after or 0
        if "\n" in value or start >= len(self.lines):
            return self.nowhere()  # a line holds no line break
        joined, starts = self._joined()
        at = joined.find('"' + value + '"', starts[start])
        line = bisect_right(starts, at) - 1 if at >= 0 else len(self.lines)
        # a single-quoted one wins on an earlier line only
        single = joined.find("'" + value + "'", starts[start], starts[line] if at >= 0 else len(joined))
        if single >= 0:
            at, line = single, bisect_right(starts, single) - 1
        if at < 0:
            return self.nowhere()
        return Origin(self.path, line + 1, at - starts[line] + 2, self.lines[line])

    def _joined(self) -> tuple[str, list[int]]:
        """The lines joined by ``\\n`` and where each starts, to search the whole text at once."""
        if self._joined_text is None:
            starts, at = [], 0
            for line in self.lines:
                starts.append(at)
                at += len(line) + 1
            self._joined_text = ("\n".join(self.lines), starts)
        return self._joined_text

    def nowhere(self) -> Origin:
        return Origin(self.path, 1, 1, self.lines[0] if self.lines else "")

    def error(self, message: str, where: Origin, width: int = 1) -> ParseError:
        return ParseError(message, path=self.path, line=where.line, column=where.column, text=where.text, width=width)

    def value_error(
        self, message: str, where: Origin, value: str, offset: int = 0, width: int | None = None
    ) -> ParseError:
        """An error inside the string ``value`` written on the line of ``where``."""
        at = where.text.find(value, where.column - 1) if value else -1
        column = at + 1 + offset if at >= 0 else where.column
        return ParseError(
            message,
            path=self.path,
            line=where.line,
            column=column,
            text=where.text,
            width=width if width is not None else max(len(value), 1),
        )

    def note(self, message: str, where: Origin | None = None) -> None:
        self.notes.append(Diagnostic(message, where))

    # -- the whole file ---------------------------------------------------------------
    def read(self, data: dict[str, Any]) -> Environment:
        project = self.table(data, "project")
        tool = self.table(data, "tool")
        poetry = self.table(tool, "poetry", "tool.poetry")
        requirements = self.main(project, poetry) + self.groups(data, poetry)
        name = project.get("name") or poetry.get("name")
        return Environment(
            requirements=tuple(requirements),
            python=self.python(project, poetry),
            sources=self.sources(poetry),
            options=PipOptions(
                all_releases=tuple(sorted(set(self.all_releases))), only_final=tuple(sorted(set(self.only_final)))
            ),
            name=name if isinstance(name, str) else None,
            format=NAME,
            notes=tuple(self.notes),
        )

    def table(self, parent: Mapping[str, Any], key: str, dotted: str | None = None) -> dict[str, Any]:
        value = parent.get(key, {})
        if not isinstance(value, dict):
            where = self.key_origin(dotted.rpartition(".")[0], key) if dotted and "." in dotted else self.nowhere()
            raise self.error(f"[{dotted or key}] must be a table, not {_kind(value)}", where)
        return value

    # -- python ----------------------------------------------------------------------
    def python(self, project: Mapping[str, Any], poetry: Mapping[str, Any]) -> SpecifierSet | None:
        result: SpecifierSet | None = None
        requires = project.get("requires-python")
        if requires is not None:
            where = self.key_origin("project", "requires-python")
            if not isinstance(requires, str):
                raise self.error(f"requires-python must be a string, not {_kind(requires)}", where)
            result = self.specifier(requires, where, "requires-python")
        deps = poetry.get("dependencies")
        if isinstance(deps, dict) and "python" in deps:
            where = self.key_origin("tool.poetry.dependencies", "python")
            value = deps["python"]
            if not isinstance(value, str):
                raise self.error(f"python must be a version constraint string, not {_kind(value)}", where)
            spec = self.specifier(value, where, "python")
            result = spec if result is None else _intersect(result, spec)
        return result if result else None

    def specifier(self, text: str, where: Origin, subject: str) -> SpecifierSet:
        """A poetry constraint ``text`` (written at ``where``) as a SpecifierSet."""
        try:
            translation = pc.to_pep440(text)
        except pc.ConstraintError as exc:
            raise self.value_error(
                f"invalid version constraint for {subject!r}: {exc.message}", where, text, exc.offset, exc.width
            ) from None
        if not translation.exact:
            shown = translation.specifier or "any version"
            self.note(f"{subject}: {text!r} has no exact PEP 440 form; read as {shown!r}", where)
        return SpecifierSet(translation.specifier)

    # -- main dependencies --------------------------------------------------------------
    def main(self, project: Mapping[str, Any], poetry: Mapping[str, Any]) -> list[Dependency]:
        strings = self.string_list(project, "dependencies", "project")
        optional = self.table(project, "optional-dependencies", "project.optional-dependencies")
        dynamic = project.get("dynamic", [])
        entries = self.poetry_table(
            self.table(poetry, "dependencies", "tool.poetry.dependencies"), None, "tool.poetry.dependencies"
        )
        extras = self.poetry_extras(poetry)
        header = self.header_line("project")
        base = [self.pep508(s, header, None) for s in strings]
        extra_header = self.header_line("project.optional-dependencies")
        for extra, items in optional.items():
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                where = self.key_origin("project.optional-dependencies", extra)
                raise self.error(f"optional-dependencies.{extra} must be a list of strings", where)
            base += [self.pep508(s, extra_header or header, EXTRA_PREFIX + extra) for s in items]
        if not base:
            return self.legacy(entries, extras)
        if isinstance(dynamic, list) and ("dependencies" in dynamic or "optional-dependencies" in dynamic):
            if not strings:
                base += [e.dep for e in entries if not e.optional]
            elif not optional:
                base += self.legacy([e for e in entries if e.optional], extras)
        return self.enrich(base, entries, "[project] dependencies")

    def legacy(self, entries: list[_Entry], extras: Mapping[str, list[str]]) -> list[Dependency]:
        """poetry 1: the entries are the list; optional ones go to the extras naming them."""
        result: list[Dependency] = []
        for entry in entries:
            if not entry.optional:
                result.append(entry.dep)
                continue
            named = [extra for extra, names in extras.items() if entry.dep.key in names]
            if not named:
                self.note(
                    f"{entry.dep.name}: optional, but no extra names it; poetry never installs it", entry.dep.origin
                )
            result += [entry.dep.with_changes(group=EXTRA_PREFIX + extra) for extra in named]
        return result

    def poetry_extras(self, poetry: Mapping[str, Any]) -> dict[str, list[str]]:
        extras = self.table(poetry, "extras", "tool.poetry.extras")
        result: dict[str, list[str]] = {}
        for extra, names in extras.items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise self.error(
                    f"extras.{extra} must be a list of names", self.key_origin("tool.poetry.extras", extra)
                )
            result[extra] = [canonicalize_name(re.split(r"[\s\[(<>=!~;]", n.strip(), maxsplit=1)[0]) for n in names]
        return result

    def enrich(self, base: list[Dependency], entries: list[_Entry], what: str) -> list[Dependency]:
        by_name: dict[str | None, list[_Entry]] = {}
        for entry in entries:
            by_name.setdefault(entry.dep.key, []).append(entry)
        known = {d.key for d in base}
        for key, group in by_name.items():
            if key not in known:
                dep = group[0].dep
                self.note(f"{dep.name}: not in {what}; poetry 2 ignores this entry", dep.origin)
        result: list[Dependency] = []
        for dep in base:
            result += _combine(dep, by_name.get(dep.key, []))
        return result

    def string_list(self, table: Mapping[str, Any], key: str, dotted: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{dotted}.{key} must be a list of PEP 508 strings", self.key_origin(dotted, key))
        return value

    def pep508(self, text: str, after: int | None, group: str | None) -> Dependency:
        where = self.string_origin(text, after)
        dep = from_pep508(text, path=self.path, line=where.line, column=where.column, line_text=where.text, group=group)
        comment = _comment(where.text) if text in where.text else None
        return dep.with_changes(comment=comment) if comment else dep

    # -- groups -----------------------------------------------------------------------
    def groups(self, data: Mapping[str, Any], poetry: Mapping[str, Any]) -> list[Dependency]:
        pep735 = self.table(data, "dependency-groups", "dependency-groups")
        groups = self.table(poetry, "group", "tool.poetry.group")
        by_key = {canonicalize_name(g): g for g in groups}
        result: dict[str, list[Dependency]] = {}
        includes: dict[str, list[str]] = {}
        for name, items in pep735.items():
            where = self.key_origin("dependency-groups", name)
            if not isinstance(items, list):
                raise self.error(f"dependency-groups.{name} must be a list", where)
            base: list[Dependency] = []
            for item in items:
                if isinstance(item, str):
                    base.append(self.pep508(item, where.line - 1, name))
                elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                    includes.setdefault(name, []).append(item["include-group"])
                else:
                    raise self.error(f"dependency-groups.{name}: expected a PEP 508 string or an include-group", where)
            poetry_name = by_key.get(canonicalize_name(name))
            entries = self.group_entries(groups, poetry_name) if poetry_name else []
            result[name] = (
                self.enrich(base, entries, f"[dependency-groups] {name}") if base else [e.dep for e in entries]
            )
        for name in groups:
            if any(canonicalize_name(name) == canonicalize_name(g) for g in pep735):
                continue
            result[name] = [e.dep for e in self.group_entries(groups, name)]
        legacy = poetry.get("dev-dependencies")
        if legacy is not None:
            table = self.table(poetry, "dev-dependencies", "tool.poetry.dev-dependencies")
            result.setdefault("dev", []).extend(
                e.dep for e in self.poetry_table(table, "dev", "tool.poetry.dev-dependencies")
            )
        for name, config in groups.items():
            if isinstance(config, dict) and isinstance(config.get("include-groups"), list):
                includes.setdefault(name, []).extend(str(g) for g in config["include-groups"])
        for name, included in includes.items():
            for other in included:
                found = next((g for g in result if canonicalize_name(g) == canonicalize_name(other)), None)
                if found is None:
                    raise self.error(f"group {name!r} includes group {other!r}, which is not defined", self.nowhere())
                result[name] = result[name] + [d.with_changes(group=name) for d in result[found]]
        return [d for deps in result.values() for d in deps]

    def group_entries(self, groups: Mapping[str, Any], name: str) -> list[_Entry]:
        config = groups[name]
        dotted = f"tool.poetry.group.{_quote_key(name)}"
        if not isinstance(config, dict):
            raise self.error(f"[{dotted}] must be a table, not {_kind(config)}", self.nowhere())
        table = self.table(config, "dependencies", f"{dotted}.dependencies")
        return self.poetry_table(table, name, f"{dotted}.dependencies")

    # -- poetry dependency tables -------------------------------------------------------
    def poetry_table(self, table: Mapping[str, Any], group: str | None, dotted: str) -> list[_Entry]:
        result: list[_Entry] = []
        for name, value in table.items():
            if name.lower() == "python":
                if group is not None:
                    self.note(f"python in [{dotted}] is ignored by poetry", self.key_origin(dotted, name))
                continue
            result += self.entries(name, value, group, dotted)
        return result

    def entries(self, name: str, value: Any, group: str | None, dotted: str) -> list[_Entry]:
        """One ``NAME = ...`` of a poetry dependency table: one entry per constraint."""
        where = self.key_origin(dotted, name)
        if isinstance(value, list):
            if not value:
                raise self.error(f"{name}: a list of constraints must not be empty", where)
            return [
                self.entry(name, item, group, self.key_origin(dotted, name, nth=i + 1), listed=True)
                for i, item in enumerate(value)
            ]
        return [self.entry(name, value, group, where, listed=False)]

    def entry(self, name: str, raw: Any, group: str | None, where: Origin, *, listed: bool) -> _Entry:
        if not isinstance(raw, (str, dict)):
            raise self.error(
                f"{name}: expected a version constraint, a table or a list of tables, not {_kind(raw)}", where
            )
        value: dict[str, Any] = {"version": raw} if isinstance(raw, str) else raw
        spelled = f"{_quote_key(name)} = {_inline(raw)}"
        code = _code(where.text).strip()
        if not listed and code:
            try:
                if tomllib.loads(code) == {name: raw}:
                    spelled = code  # the user's own line
            except tomllib.TOMLDecodeError:
                pass
        for key in value:
            if key not in _KNOWN_KEYS:
                self.note(f"{name}: unknown key {key!r} ignored", where)
        get = _Getter(self, name, value, where)
        marker = self.marker(name, get, where)
        extras = frozenset(get.texts("extras"))
        url = path = None
        editable = False
        specifier = SpecifierSet()
        develop = get.flag("develop")
        if "git" in value:
            ref = get.text("rev") or get.text("tag") or get.text("branch")
            url = _git_url(get.text("git") or "", ref, get.text("subdirectory"))
            editable = bool(develop)
        elif "path" in value or "file" in value:
            path = get.text("path") or get.text("file")
            sub = get.text("subdirectory")
            if sub:
                path = f"{path.rstrip('/')}/{sub}" if path else sub
            editable = bool(develop)
        elif "url" in value:
            url = get.text("url")
            sub = get.text("subdirectory")
            if url and sub:
                url += ("&" if "#" in url else "#") + f"subdirectory={sub}"
        else:
            version = get.text("version")
            if version is not None:
                specifier = self.specifier(version, where, name)
        prereleases = get.flag("allow-prereleases")
        if prereleases is None:
            prereleases = get.flag("allows-prereleases")
        if prereleases is True:
            self.all_releases.append(canonicalize_name(name))
        elif prereleases is False:
            self.only_final.append(canonicalize_name(name))
        dep = Dependency(
            name,
            specifier,
            extras,
            marker,
            url=url,
            path=path,
            editable=editable,
            group=group,
            index=get.text("source"),
            text=spelled,
            comment=_comment(where.text),
            origin=where,
        )
        return _Entry(dep, bool(get.flag("optional")), develop, prereleases)

    def marker(self, name: str, get: _Getter, where: Origin) -> Marker | None:
        parts: list[str] = []
        markers = get.text("markers")
        if markers:
            parts.append(markers)
        for key, convert in (("python", pc.python_marker), ("platform", pc.platform_marker)):
            text = get.text(key)
            if text is None:
                continue
            try:
                parts.append(convert(text))
            except pc.ConstraintError as exc:
                raise self.value_error(
                    f"{name}: invalid {key} constraint: {exc.message}", where, text, exc.offset, exc.width
                ) from None
        try:
            return pc.and_markers(*parts)
        except InvalidMarker as exc:
            shown = markers or ""
            raise self.value_error(f"{name}: invalid markers: {str(exc).splitlines()[0]}", where, shown) from None

    # -- sources ------------------------------------------------------------------------
    def sources(self, poetry: Mapping[str, Any]) -> tuple[Source, ...]:
        raw = poetry.get("source", [])
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            raise self.error(
                "[[tool.poetry.source]] must be an array of tables", self.key_origin("tool.poetry", "source")
            )
        keeps_pypi = any(str(s.get("name", "")).lower() == "pypi" and "url" not in s for s in raw)
        result: list[Source] = []
        replaced = keeps_pypi
        for i, item in enumerate(raw):
            where = self.nth_source(i)
            name, url = item.get("name"), item.get("url")
            if not isinstance(name, str):
                raise self.error("a [[tool.poetry.source]] needs a name", where)
            priority = item.get("priority")
            if priority is None:
                priority = "default" if item.get("default") else "secondary" if item.get("secondary") else "primary"
            if not isinstance(priority, str):
                raise self.error(f"source {name!r}: priority must be a string", where)
            if name.lower() == "pypi" and url is None:
                if priority != "primary":
                    self.note(
                        f"source {name!r}: PyPI as {priority} has no pip equivalent; read as a plain index", where
                    )
                continue
            if not isinstance(url, str):
                raise self.error(f"source {name!r} needs a url", where)
            if re.search(r"\.html?$", urlsplit(url).path):
                kind: Any = "find-links"
                kept = priority if priority not in ("primary", "default") else None
            elif priority in ("primary", "default") and not replaced:
                kind, kept, replaced = "index", None, True
            else:
                kind, kept = "extra-index", (None if priority in ("primary", "default") else priority)
            result.append(Source.from_url(kind, url, name=name, priority=kept, origin=where))
        return tuple(result)

    def nth_source(self, index: int) -> Origin:
        seen = 0
        for i, line in enumerate(self.lines):
            match = re.match(r"^\s*\[\[(.*?)\]\]", line)
            if match and _split_dotted(match.group(1)) == ["tool", "poetry", "source"]:
                if seen == index:
                    return Origin(self.path, i + 1, 1, line)
                seen += 1
        return self.key_origin("tool.poetry", "source")


@dataclass(frozen=True)
class _Getter:
    """Typed access to one dependency table, with errors at the dependency's line."""

    reader: _Reader
    name: str
    value: Mapping[str, Any]
    where: Origin

    def _fail(self, key: str, expected: str) -> ParseError:
        got = _kind(self.value[key])
        return self.reader.error(f"{self.name}: {key} must be {expected}, not {got}", self.where)

    def text(self, key: str) -> str | None:
        value = self.value.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.value.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.value.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings")
        return value


def _combine(dep: Dependency, entries: list[_Entry]) -> list[Dependency]:
    """``dep`` (from ``[project]``) enriched by the poetry entries of the same name, as
    poetry-core's ``dependencies_for_locking`` does: one result per entry whose markers
    meet ``dep``'s (same markers, or none); the constraint narrowed, ``source``,
    ``develop``, and a path or git location taken from the entry."""
    if not entries:
        return [dep]
    own = str(dep.marker) if dep.marker is not None else None
    same = [e for e in entries if e.dep.marker is not None and str(e.dep.marker) == own]
    chosen = same or [e for e in entries if e.dep.marker is None] or entries
    result = []
    for entry in chosen:
        extra = entry.dep
        marker = (
            dep.marker if extra.marker is None or str(extra.marker) == own else pc.and_markers(dep.marker, extra.marker)
        )
        url, path, editable = dep.url, dep.path, dep.editable
        if url is None and path is None and (extra.url or extra.path):
            url, path, editable = extra.url, extra.path, extra.editable
        elif entry.develop is not None and (path is not None or dep.is_vcs):
            editable = entry.develop
        direct = url is not None or path is not None
        result.append(
            replace(
                dep,
                specifier=SpecifierSet() if direct else _intersect(dep.specifier, extra.specifier),
                marker=marker,
                url=url,
                path=path,
                editable=editable,
                index=extra.index or dep.index,
            )
        )
    return result


def _intersect(a: SpecifierSet, b: SpecifierSet) -> SpecifierSet:
    """``a`` and ``b`` together; a bound of one made redundant by a tighter bound of the
    other with the same operator is left out (``>=2.6`` and ``>=2.16`` is ``>=2.16``)."""
    from packaging.version import Version

    def tighter(spec: Specifier, other: Specifier) -> bool:
        if spec.operator != other.operator or spec.operator not in (">=", ">", "<=", "<"):
            return False
        mine, theirs = Version(spec.version), Version(other.version)
        return theirs > mine if spec.operator in (">=", ">") else theirs < mine

    left = [s for s in a if not any(tighter(s, o) for o in b)]
    right = [s for s in b if str(s) not in {str(x) for x in a} and not any(tighter(s, o) for o in a)]
    return SpecifierSet(",".join(str(s) for s in left + right))


def _split_dotted(key: str) -> list[str]:
    return [p.strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.\s]+", key)]


def _quote_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def _kind(value: Any) -> str:
    return {
        dict: "a table",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _code(line: str) -> str:
    """``line`` without its TOML comment (a ``#`` outside strings)."""
    if "#" not in line:
        return line
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
        i += 1
    return line


def _comment(line: str) -> str | None:
    code = _code(line)
    rest = line[len(code) :].lstrip("#").strip()
    return rest or None


def _inline(value: Any) -> str:
    """``value`` as a TOML inline value (for a dependency's ``text``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_quote_key(k)} = {_inline(v)}" for k, v in value.items()) + "}"
    return str(value)


def _git_url(git: str, ref: str | None, subdirectory: str | None) -> str:
    """poetry's ``git``/ref/``subdirectory`` as pip's ``git+URL@REF#subdirectory=DIR``."""
    url = git
    scp = _SCP_RE.match(url)
    if scp and "://" not in url:
        url = f"ssh://{scp.group('user')}@{scp.group('host')}/{scp.group('path')}"
    if not url.startswith("git+"):
        url = "git+" + url
    if ref:
        url += "@" + ref
    if subdirectory:
        url += "#subdirectory=" + subdirectory
    return url


def _split_git(url: str) -> tuple[str, str | None, str | None] | None:
    """``git+URL@REF#subdirectory=DIR`` as (URL, REF, DIR); ``None`` for another URL."""
    if not url.lower().startswith("git+"):
        return None
    base, _, fragment = url[4:].partition("#")
    subdirectory = next((v for k, _, v in (p.partition("=") for p in fragment.split("&")) if k == "subdirectory"), None)
    parts = urlsplit(base)
    path, ref = parts.path, None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")), ref or None, subdirectory


# ---------------------------------------------------------------------------------------
# Writing

#: A poetry dependency value: a constraint string or an (inline) table.
_Value = Union[str, dict[str, Any]]


@dataclass
class _Item:
    """One thing to write: a PEP 508 string or a poetry value, with its comment."""

    value: _Value
    comment: Optional[str] = None


@dataclass
class _Plan:
    """Where each part of the environment goes, before touching any TOML."""

    style: str
    python: Optional[SpecifierSet]
    project: list[tuple[str, _Item]] = field(default_factory=list)  # (key, PEP 508 string)
    optional: dict[str, list[tuple[str, _Item]]] = field(default_factory=dict)
    tables: dict[Optional[str], dict[str, list[_Item]]] = field(default_factory=dict)
    extras: dict[str, list[str]] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    #: The main dependencies by normalized name, to recognise an existing file's entries.
    main_deps: dict[Optional[str], list[Dependency]] = field(default_factory=dict)


def dumps(env: Environment, existing: str | None = None, *, style: str | None = None) -> Rendered:
    """Write ``env`` as poetry's ``pyproject.toml``; merge into ``existing`` when given.

    ``style`` ``"2"`` writes PEP 621 ``[project]`` (PEP 508 dependencies and
    ``requires-python``) with ``[tool.poetry.dependencies]`` only for what PEP 508 cannot
    say (``source``, ``develop``, relative paths, ``allow-prereleases``); ``"1"`` writes
    everything into ``[tool.poetry.dependencies]`` with caret/tilde constraints. Groups go
    to ``[tool.poetry.group.G.dependencies]``, sources to ``[[tool.poetry.source]]``. The
    default is ``"2"`` for a new file and the existing file's own style when merging.

    Merging changes only what poetry owns here (``[project]`` dependencies,
    optional-dependencies and requires-python, the ``[tool.poetry]`` dependency, group,
    extras and source tables); an entry that already says what the environment says is
    kept byte for byte, and every other byte of ``existing`` stays as it was.
    """
    if style not in (None, "1", "2"):
        raise EnvkitError(f"unknown poetry style {style!r} (choose '1' or '2')")
    layout = _template_layout() if existing is None else None
    if layout is not None:  # a new file, written as text
        losses: list[Loss] = []
        plan = _plan(env, style or "2", losses)
        text = _new_text(plan, env, layout)
        if text is not None:
            return Rendered(text, tuple(losses))
    return _dumps_tomlkit(env, existing, style)


def _dumps_tomlkit(env: Environment, existing: str | None, style: str | None) -> Rendered:
    """:func:`dumps` through a tomlkit document: merging into ``existing`` (or the template)."""
    import tomlkit

    from ._templates import template

    if existing is not None:
        data = loads_toml(existing, "pyproject.toml")
        doc = tomlkit.parse(existing)
        chosen = style or _style_of(data)
    else:
        data = {}
        chosen = style or "2"
        doc = tomlkit.parse(template("pyproject-poetry.toml"))
        if chosen == "1":
            # poetry 1 keeps the name in [tool.poetry] and builds with poetry-core 1
            del doc["project"]
            doc["build-system"]["requires"] = ["poetry-core>=1.0.0"]
            if env.name:
                poetry_table = doc["tool"]["poetry"]
                mode = poetry_table["package-mode"]
                del poetry_table["package-mode"]
                poetry_table["name"] = env.name
                poetry_table["package-mode"] = mode
    losses: list[Loss] = []
    plan = _plan(env, chosen, losses)
    _Writer(doc, data, existing or "", plan, env).apply()
    return Rendered(tomlkit.dumps(doc), tuple(losses))


# -- a new file as text -----------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """The template's parts, when it is as shipped: ``[project]`` (name, requires-python,
    dependencies), ``[tool.poetry]`` (package-mode) and ``[build-system]``."""

    package_mode: Any
    build_system: dict[str, Any]


@cache
def _template_layout() -> _Layout | None:
    """The template as :class:`_Layout` when :func:`_new_text` writes it byte for byte as
    it is; ``None`` for any other template (a new file then goes through tomlkit)."""
    from ._templates import template

    text = template("pyproject-poetry.toml")
    try:
        data = loads_toml(text, "pyproject.toml")
    except ParseError:
        return None
    project, tool, build = data.get("project"), data.get("tool"), data.get("build-system")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if (
        list(data) != ["project", "tool", "build-system"]
        or not isinstance(project, dict)
        or list(project) != ["name", "requires-python", "dependencies"]
        or project["dependencies"] != []
        or not isinstance(project["name"], str)
        or not isinstance(project["requires-python"], str)
        or not isinstance(tool, dict)
        or list(tool) != ["poetry"]
        or not isinstance(poetry, dict)
        or list(poetry) != ["package-mode"]
        or not isinstance(build, dict)
        or any(isinstance(v, dict) for v in build.values())
    ):
        return None
    layout = _Layout(poetry["package-mode"], build)
    written = (
        f"[project]\nname = {tt.basic(project['name'])}\nrequires-python = {tt.basic(project['requires-python'])}\n"
        "dependencies = []\n\n" + _poetry_header(layout, None) + "\n" + _build_system(layout, "2")
    )
    return layout if written == text else None


def _poetry_header(layout: _Layout, name: str | None) -> str:
    return (
        "[tool.poetry]\n"
        + (f"name = {tt.basic(name)}\n" if name else "")
        + (f"package-mode = {tt.value(layout.package_mode)}\n")
    )


def _build_system(layout: _Layout, style: str) -> str:
    build = dict(layout.build_system)
    if style == "1":
        build["requires"] = ["poetry-core>=1.0.0"]  # poetry 1 builds with poetry-core 1
    return "[build-system]\n" + "".join(f"{tt.key(k)} = {tt.value(v)}\n" for k, v in build.items())


def _new_text(plan: _Plan, env: Environment, layout: _Layout) -> str | None:
    """A new ``pyproject.toml`` as text, byte for byte what :class:`_Writer` makes of the
    template with tomlkit; ``None`` when a comment holds a line break (tomlkit refuses it)."""
    items = [i for _, i in plan.project] + [i for e in plan.optional.values() for _, i in e]
    items += [i for table in plan.tables.values() for its in table.values() for i in its]
    if any(i.comment and ("\n" in i.comment or "\r" in i.comment) for i in items):
        return None
    out = ""
    if plan.style == "2":
        out += f"[project]\nname = {tt.basic(env.name or DEFAULT_NAME)}\n"
        if plan.python is not None:
            out += f"requires-python = {tt.basic(pc.ordered(plan.python))}\n"
        wanted = [item for _, item in plan.project]
        if len(wanted) == 1 and not wanted[0].comment:
            out += f"dependencies = [{_text_string(str(wanted[0].value))}]\n"
        else:
            out += f"dependencies = {_text_array(wanted)}\n"
        out += "\n"
        if plan.optional:
            # tomlkit's layout, kept: the sub-table takes [project]'s blank line
            out += "[project.optional-dependencies]\n"
            out += "".join(
                f"{tt.key(extra)} = {_text_array([i for _, i in its])}\n" for extra, its in plan.optional.items()
            )
    out += _poetry_header(layout, env.name if plan.style == "1" else None) + "\n"
    python: str | None = None
    if plan.python is not None and plan.style == "1":
        python = pc.from_pep440(plan.python)
    entries = plan.tables.get(None, {})
    if entries or python is not None:
        out += "[tool.poetry.dependencies]\n"
        if python is not None:
            out += f"python = {tt.basic(python)}\n"
        out += _text_entries(entries) + "\n"
    for group, table in plan.tables.items():
        if group is not None:
            out += f"[tool.poetry.group.{tt.key(group)}.dependencies]\n" + _text_entries(table) + "\n"
    if plan.style == "1" and plan.extras:
        out += "[tool.poetry.extras]\n"
        out += "".join(f"{tt.key(extra)} = {tt.value(names)}\n" for extra, names in plan.extras.items()) + "\n"
    if plan.sources:
        tables = [
            "[[tool.poetry.source]]\n" + "".join(f"{tt.key(k)} = {tt.value(v)}\n" for k, v in source.items())
            for source in plan.sources
        ]
        out += "\n".join(tables) + "\n"
    return out + _build_system(layout, plan.style)


def _text_string(text: str) -> str:
    """:func:`_string` as text."""
    return tt.literal_or_basic(text) if "\n" not in text else tt.basic(text)


def _text_array(items: list[_Item]) -> str:
    """PEP 508 strings one per line, as :meth:`_Writer.string_array` adds them."""
    if not items:
        return "[]"
    return tt.array_lines([(_text_string(str(i.value)), i.comment) for i in items])


def _text_value(value: _Value | list[_Value]) -> str:
    """:func:`_toml_value` as text."""
    if isinstance(value, list):
        return tt.array_lines([(_text_value(v), None) for v in value])
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{tt.key(k)} = {_text_string(v) if isinstance(v, str) else tt.value(v)}" for k, v in value.items()
            )
            + "}"
        )
    return _text_string(value)


def _text_entries(entries: dict[str, list[_Item]]) -> str:
    """The lines :meth:`_Writer.fill` puts in a new dependency table."""
    out = ""
    wanted = {canonicalize_name(k): k for k in entries}
    for name in wanted.values():
        items = entries[name]
        value: Any = items[0].value if len(items) == 1 else [i.value for i in items]
        comment = next((i.comment for i in items if i.comment), None)
        note = ""
        if comment:
            note = " " + (comment if comment.strip().startswith("#") else "# " + comment)
        out += f"{tt.key(name)} = {_text_value(value)}{note}\n"
    return out


def _style_of(data: Mapping[str, Any]) -> str:
    """``"1"`` for a poetry 1 file (packages in ``[tool.poetry.dependencies]`` and none in
    ``[project]``, or no ``[project]`` at all), else ``"2"``."""
    project = data.get("project", {})
    poetry = data.get("tool", {}).get("poetry", {})
    deps = poetry.get("dependencies", {}) if isinstance(poetry, dict) else {}
    packages = [k for k in deps if k.lower() != "python"] if isinstance(deps, dict) else []
    declared = isinstance(project, dict) and (project.get("dependencies") or project.get("optional-dependencies"))
    if declared:
        return "2"
    if packages or "project" not in data:
        return "1" if isinstance(poetry, dict) and poetry else "2"
    return "2"


# -- planning ---------------------------------------------------------------------------


def _plan(env: Environment, style: str, losses: list[Loss]) -> _Plan:
    plan = _Plan(style, env.python)
    pre = {canonicalize_name(n) for n in env.options.all_releases if n != ":all:"}
    final = {canonicalize_name(n) for n in env.options.only_final if n != ":all:"}
    _option_losses(env, losses)
    kept: list[Dependency] = []
    for requirement in env.requirements:
        if requirement.constraint:
            losses.append(Loss("lost", str(requirement), "poetry has no constraints files (-c)", requirement.origin))
            continue
        named = _named(requirement, losses)
        if named is not None and _writable(named, losses):
            kept.append(named)
    deps = _merge_duplicates(kept, losses)
    counts: dict[tuple[Optional[str], Optional[str]], int] = {}
    for dep in deps:
        slot = (_slot(dep.group), dep.key)
        counts[slot] = counts.get(slot, 0) + 1
    for dep in deps:
        prereleases = True if dep.key in pre else False if dep.key in final else None
        group = dep.group
        key = dep.name or ""
        repeated = counts[(_slot(group), dep.key)] > 1
        if group is None:
            plan.main_deps.setdefault(dep.key, []).append(dep)
        if style == "2" and (group is None or group.startswith(EXTRA_PREFIX)):
            string, as_written = _project_text(dep)
            if dep.path is None and not as_written:  # the user's own spelling reads back as dep
                _check(dep, from_pep508(string, path="-", group=dep.group), losses, ignore=("index", "editable"))
            target = plan.project if group is None else plan.optional.setdefault(group[len(EXTRA_PREFIX) :], [])
            target.append((key, _Item(string, dep.comment)))
            enrichment = _enrichment(dep, prereleases, repeated)
            if enrichment:
                plan.tables.setdefault(None, {}).setdefault(key, []).append(_Item(enrichment))
            continue
        optional = False
        if group is not None and group.startswith(EXTRA_PREFIX):
            extra = group[len(EXTRA_PREFIX) :]
            names = plan.extras.setdefault(extra, [])
            if key not in names:
                names.append(key)
            group, optional = None, True
            # poetry 1 extras only name dependencies: one entry stands for every use
            stands = next((d for d in deps if d.key == dep.key and d.group is None), None) or next(
                d for d in deps if d.key == dep.key and d.group and d.group.startswith(EXTRA_PREFIX)
            )
            if stands is not dep:
                if stands.group is None:
                    why = f"also a main dependency: extra {extra!r} names it, poetry installs it always"
                elif stands.with_changes(group=None) != dep.with_changes(group=None):
                    why = f"poetry 1 extras name a dependency once: written as {stands.pep508()}"
                else:
                    continue
                losses.append(Loss("transformed", str(dep), why, dep.origin))
                continue
            optional = stands.group is not None
        value = _poetry_value(dep, style, optional=optional, prereleases=prereleases)
        _check(dep, _Reader("", "-").entries(key, value, dep.group, "-")[0].dep, losses)
        items = plan.tables.setdefault(group, {}).setdefault(key, [])
        items.append(_Item(value, dep.comment))
    plan.sources = _sources(env, losses)
    return plan


def _check(dep: Dependency, written: Dependency, losses: list[Loss], ignore: tuple[str, ...] = ()) -> None:
    """A "transformed" loss when what is written reads back other than ``dep`` (beyond
    what is reported elsewhere: hashes, options, ``===``)."""
    wanted = dep.with_changes(specifier=_specifier(dep), hashes=(), config_settings=(), global_options=(), channel=None)
    if wanted.editable and wanted.url and not wanted.is_vcs:
        wanted = wanted.with_changes(editable=False)
    for name in ignore:
        written = written.with_changes(**{name: getattr(wanted, name)})
    if written != wanted:
        losses.append(Loss("transformed", str(dep), f"written as {written.pep508()}", dep.origin))


def _slot(group: str | None) -> str | None:
    return None if group is None or group.startswith(EXTRA_PREFIX) else group


def _option_losses(env: Environment, losses: list[Loss]) -> None:
    opts = env.options
    why = {
        "no_index": "poetry has no --no-index; it always uses its sources (PyPI unless a primary source replaces it)",
        "pre": "poetry has no project-wide --pre; only allow-prereleases per dependency",
        "prefer_binary": "poetry has no --prefer-binary",
        "require_hashes": "poetry checks hashes only from poetry.lock, which `poetry lock` writes",
        "no_require_hashes": "poetry has no --no-require-hashes",
    }
    for name, reason in why.items():
        if getattr(opts, name):
            losses.append(Loss("lost", f"--{name.replace('_', '-')}", reason))
    for host in opts.trusted_hosts:
        losses.append(
            Loss(
                "lost",
                f"--trusted-host {host}",
                "poetry takes certificates per source: `poetry config certificates.NAME.cert false`",
            )
        )
    for flag, values in (("--no-binary", opts.no_binary), ("--only-binary", opts.only_binary)):
        for value in values:
            losses.append(
                Loss(
                    "lost",
                    f"{flag} {value}",
                    "poetry sets this with `poetry config installer.no-binary`, not in pyproject.toml",
                )
            )
    for flag, values in (("--all-releases", opts.all_releases), ("--only-final", opts.only_final)):
        for value in values:
            if value == ":all:":
                losses.append(Loss("lost", f"{flag} :all:", "poetry allows pre-releases only per dependency"))
            elif not any(d.key == canonicalize_name(value) for d in env.requirements):
                losses.append(
                    Loss("lost", f"{flag} {value}", "poetry sets allow-prereleases only on a declared dependency")
                )
    for feature in opts.use_features:
        losses.append(Loss("lost", f"--use-feature {feature}", "pip features have no poetry equivalent"))
    for spec in env.conda:
        losses.append(Loss("lost", spec, "a conda-only package has no poetry equivalent"))
    for channel in env.channels:
        losses.append(Loss("lost", f"channel {channel}", "poetry installs from Python package indexes only"))
    for key, _ in env.variables:
        losses.append(Loss("lost", f"variable {key}", "poetry's pyproject.toml cannot set environment variables"))


def _writable(dep: Dependency, losses: list[Loss]) -> bool:
    """False (with the loss) for what poetry cannot hold at all; losses for the parts of
    the rest that it cannot hold."""
    subject = str(dep)
    if dep.url and re.match(r"(?i)(hg|svn|bzr)\+", dep.url):
        losses.append(Loss("lost", subject, "poetry installs from git only, not hg, svn or bzr", dep.origin))
        return False
    if dep.hashes:
        losses.append(
            Loss("lost", subject, "poetry keeps hashes only in poetry.lock, which `poetry lock` writes", dep.origin)
        )
    if dep.config_settings:
        losses.append(
            Loss(
                "lost",
                subject,
                "poetry sets build config settings with `poetry config installer.build-config-settings`",
                dep.origin,
            )
        )
    if dep.global_options:
        losses.append(Loss("lost", subject, "poetry has no --global-option", dep.origin))
    if dep.channel:
        losses.append(Loss("lost", subject, f"conda channel {dep.channel!r} has no poetry equivalent", dep.origin))
    if pc.has_arbitrary(dep.specifier):
        dropped = pc.unversioned_arbitrary(dep.specifier)
        if len(dropped) < sum(1 for s in dep.specifier if s.operator == "==="):
            losses.append(Loss("transformed", subject, "poetry cannot read '===': written as '=='", dep.origin))
        for spec in dropped:
            losses.append(
                Loss(
                    "lost", subject, f"poetry cannot read '===' and {spec[3:]!r} is not a version: dropped", dep.origin
                )
            )
    if dep.editable and dep.url and not dep.is_vcs:
        losses.append(Loss("lost", subject, "poetry cannot install a URL archive in editable mode", dep.origin))
    if dep.url and VAR_RE.search(dep.url):
        losses.append(
            Loss(
                "transformed",
                subject,
                "poetry does not expand ${VAR} in URLs; the reference is written as it is",
                dep.origin,
            )
        )
    return True


_ARCHIVE_RE = re.compile(r"(?i)^(?P<name>.+?)-(?P<version>\d[^-]*)\.(?:tar\.gz|tar\.bz2|tar\.xz|tgz|tar|zip)$")


def _named(dep: Dependency, losses: list[Loss]) -> Dependency | None:
    """``dep`` with a name: poetry needs one where pip takes it from the build. A name read
    off the location (wheel or sdist file name, directory, repository) is a transformation;
    without one the requirement is lost."""
    if dep.name:
        return dep
    location = dep.url or dep.path or ""
    if dep.url:
        base, _, _ = location.partition("#")
        base = base.rsplit("@", 1)[0] if dep.is_vcs and "@" in urlsplit(base).path else base
        tail = urlsplit(base).path.rstrip("/").rsplit("/", 1)[-1]
    else:
        tail = location.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    name: str | None = None
    if tail.lower().endswith(".whl"):
        from packaging.utils import InvalidWheelFilename, parse_wheel_filename

        try:
            name = str(parse_wheel_filename(tail)[0])
        except InvalidWheelFilename:
            name = None
    elif _ARCHIVE_RE.match(tail):
        name = canonicalize_name(_ARCHIVE_RE.match(tail).group("name"))  # type: ignore[union-attr]
    elif tail.endswith(".git"):
        name = canonicalize_name(tail[:-4])
    elif tail and "." not in tail.lstrip(".") and (dep.path is not None or dep.is_vcs):
        name = canonicalize_name(tail)
    if not name or not re.fullmatch(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?", name):
        losses.append(Loss("lost", str(dep), "poetry needs the name of every dependency", dep.origin))
        return None
    losses.append(
        Loss(
            "transformed",
            str(dep),
            f"poetry needs a name: named {name!r} after its location (pip reads the name from the build)",
            dep.origin,
        )
    )
    return dep.with_changes(name=name)


def _merge_duplicates(deps: list[Dependency], losses: list[Loss]) -> list[Dependency]:
    """Requirements of one name, group and marker, both plain versions, become one with
    both specifiers: pip intersects them; poetry would read two dependencies."""
    result: list[Dependency] = []
    seen: dict[tuple[str | None, str | None, str], int] = {}
    for dep in deps:
        slot = (dep.key, dep.group, str(dep.marker))
        twin = seen.get(slot) if not (dep.url or dep.path) else None
        if twin is None:
            if not (dep.url or dep.path):
                seen[slot] = len(result)
            result.append(dep)
            continue
        first = result[twin]
        if first.origin is not None or first.text:
            losses.append(
                Loss("transformed", str(first), f"merged with a later {dep.name} requirement ({dep})", first.origin)
            )
        result[twin] = first.with_changes(
            specifier=_intersect(first.specifier, dep.specifier),
            extras=first.extras | dep.extras,
            index=first.index or dep.index,
            editable=first.editable or dep.editable,
        )
        losses.append(
            Loss(
                "transformed",
                str(dep),
                f"merged into one {dep.name} dependency with the earlier requirement",
                dep.origin,
            )
        )
    return result


def _specifier(dep: Dependency) -> SpecifierSet:
    return pc.without_arbitrary(dep.specifier) if pc.has_arbitrary(dep.specifier) else dep.specifier


def _project_text(dep: Dependency) -> tuple[str, bool]:
    """``dep`` as a ``[project]`` PEP 508 string; a local path is named only (its place
    goes to ``[tool.poetry.dependencies]``). The user's own spelling when it says the same
    -- then also ``True``: it was read back and says all of ``dep`` that ``[project]``
    holds (nothing beyond what is reported elsewhere is lost)."""
    if dep.text and dep.url is None and dep.path is None and "===" not in dep.text:
        try:
            again = from_pep508(dep.text, path="-")
        except ParseError:
            again = None
        plain = (dep.group, dep.index, dep.editable, dep.hashes) == (None, None, False, ())
        if again is not None and again == (
            dep if plain else dep.with_changes(group=None, index=None, editable=False, hashes=())
        ):
            return dep.text, True
    extras = "[" + ",".join(sorted(dep.extras)) + "]" if dep.extras else ""
    marker = f"; {dep.marker}" if dep.marker is not None else ""
    if dep.url:
        head = f"{dep.name}{extras} @ {dep.url}" + (" " if marker else "")
    elif dep.path:
        head = f"{dep.name}{extras}"
    else:
        head = f"{dep.name}{extras}{pc.ordered(_specifier(dep))}"
    return head + marker, False


def _enrichment(dep: Dependency, prereleases: bool | None, repeated: bool) -> dict[str, Any] | None:
    """What ``[tool.poetry.dependencies]`` must add to ``dep``'s ``[project]`` string."""
    table: dict[str, Any] = {}
    if dep.path is not None and dep.url is None:
        table["path"] = dep.path
        if dep.extras:
            table["extras"] = sorted(dep.extras)
    if dep.editable and (dep.path is not None or dep.is_vcs):
        table["develop"] = True
    if dep.index:
        table["source"] = dep.index
    if prereleases is not None:
        table["allow-prereleases"] = prereleases
    if not table:
        return None
    if repeated and dep.marker is not None:
        table["markers"] = str(dep.marker)
    return table


def _poetry_value(dep: Dependency, style: str, *, optional: bool = False, prereleases: bool | None = None) -> _Value:
    """``dep`` as a poetry dependency value: a constraint string when that says it all."""
    table: dict[str, Any] = {}
    git = _split_git(dep.url) if dep.url else None
    if git is not None:
        table["git"] = git[0]
        if git[1]:
            table["rev"] = git[1]
        if git[2]:
            table["subdirectory"] = git[2]
    elif dep.url:
        table["url"] = dep.url
    elif dep.path is not None:
        table["path"] = dep.path
    else:
        spec = _specifier(dep)
        table["version"] = pc.from_pep440(spec) if style == "1" else (pc.ordered(spec) or "*")
    if dep.extras:
        table["extras"] = sorted(dep.extras)
    if dep.marker is not None:
        table["markers"] = str(dep.marker)
    if optional:
        table["optional"] = True
    if dep.index:
        table["source"] = dep.index
    if prereleases is not None:
        table["allow-prereleases"] = prereleases
    if dep.editable and (dep.path is not None or git is not None):
        table["develop"] = True
    if list(table) == ["version"]:
        return str(table["version"])
    return table


def _source_name(source: Source, taken: set[str]) -> str:
    host = urlsplit(source.url).hostname or "source"
    base = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-") or "source"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _poetry_priority(source: Source) -> tuple[str, str | None]:
    """poetry's priority for ``source``, and how it changed (``None`` when it did not)."""
    given = source.priority
    if source.kind == "index":
        if given in (None, "primary", "default"):
            return "primary", None
        return "primary", f"a source that replaces PyPI is 'primary' in poetry: written as 'primary', not {given!r}"
    if given in (None, "primary"):
        return "primary", None
    if given in ("supplemental", "explicit"):
        return given, None
    if given == "default":
        return "primary", "poetry 2 has no 'default' priority: written as 'primary'"
    if given == "secondary":
        return "supplemental", "poetry 2 has no 'secondary' priority: written as 'supplemental'"
    return "supplemental", f"priority {given!r} has no poetry equivalent: written as 'supplemental'"


def _index_first(sources: tuple[Source, ...]) -> list[Source]:
    """``sources`` in order, the index moved before the first primary extra index (poetry
    reads the first primary source as the one that replaces PyPI)."""
    result = [s for s in sources if s.kind != "index"]
    index = next((s for s in sources if s.kind == "index"), None)
    if index is None:
        return result
    first = next(
        (i for i, s in enumerate(result) if s.kind == "extra-index" and _poetry_priority(s)[0] == "primary"),
        len(result),
    )
    at = min(first, sources.index(index))
    result.insert(at, index)
    return result


def _sources(env: Environment, losses: list[Loss]) -> list[dict[str, Any]]:
    """``[[tool.poetry.source]]`` tables: the index first, PyPI kept when needed."""
    result: list[dict[str, Any]] = []
    taken = {s.name for s in env.sources if s.name}
    has_index = any(s.kind == "index" for s in env.sources)
    ordered = _index_first(env.sources)
    needs_pypi = False
    for source in ordered:
        subject = f"source {source.name or source.redacted_url()}"
        if source.kind == "find-links" and not re.search(r"\.html?$", urlsplit(source.url).path):
            losses.append(
                Loss(
                    "lost",
                    f"--find-links {source.redacted_url()}",
                    "poetry reads no find-links directories or pages other than a single .html page",
                    source.origin,
                )
            )
            continue
        name = source.name
        if not name:
            name = _source_name(source, taken)
            taken.add(name)
            losses.append(Loss("transformed", subject, f"poetry needs a source name: named {name!r}", source.origin))
        priority, change = _poetry_priority(source)
        if change:
            losses.append(Loss("transformed", subject, change, source.origin))
        if priority == "primary" and source.kind != "index" and not has_index:
            needs_pypi = True
        if source.has_credentials:
            env_name = re.sub(r"[-]", "_", name.upper())
            losses.append(
                Loss(
                    "transformed",
                    f"source {name} {source.redacted_url()}",
                    "poetry reads source credentials from the environment: set "
                    f"POETRY_HTTP_BASIC_{env_name}_USERNAME and POETRY_HTTP_BASIC_{env_name}_PASSWORD "
                    "(the URL is written without them)",
                    source.origin,
                )
            )
        if not source.verify_ssl:
            losses.append(
                Loss(
                    "lost",
                    subject,
                    f"poetry turns off TLS verification only with `poetry config certificates.{name}.cert false`",
                    source.origin,
                )
            )
        result.append({"name": name, "url": source.url, "priority": priority})
    if needs_pypi:
        result.insert(0, {"name": "PyPI", "priority": "primary"})
    return result


# -- applying the plan to the TOML document ----------------------------------------------


class _Writer:
    """Applies a :class:`_Plan` to a tomlkit document, keeping what already says the same."""

    def __init__(self, doc: Any, data: Mapping[str, Any], existing: str, plan: _Plan, env: Environment) -> None:
        self.doc = doc
        self.data = data
        self.old = _Reader(existing, "pyproject.toml")
        self.plan = plan
        self.env = env
        self.is_new = not existing
        poetry = data.get("tool", {}).get("poetry", {})
        self.old_poetry: Mapping[str, Any] = poetry if isinstance(poetry, dict) else {}
        project = data.get("project", {})
        self.old_project: Mapping[str, Any] = project if isinstance(project, dict) else {}

    def apply(self) -> None:
        if self.plan.style == "2":
            self.adopt_existing_main()
            self.project()
        else:
            self.drop_project_dependencies()
        self.main_table()
        self.groups()
        self.extras()
        self.sources()

    # -- helpers ------------------------------------------------------------------------
    def poetry(self) -> Any:
        import tomlkit

        if "tool" not in self.doc:
            self.doc["tool"] = tomlkit.table(is_super_table=True)
        tool = self.doc["tool"]
        if "poetry" not in tool:
            tool["poetry"] = tomlkit.table()
        return tool["poetry"]

    def existing_poetry(self) -> Any:
        tool = self.doc.get("tool")
        return tool.get("poetry") if tool is not None else None

    def adopt_existing_main(self) -> None:
        """Per name: when the file's own ``[project]`` strings and ``[tool.poetry]`` entries
        already combine into the environment's dependencies, plan exactly those."""
        strings = self.old_project.get("dependencies")
        table = self.old_poetry.get("dependencies")
        if not isinstance(strings, list) or not isinstance(table, dict):
            return
        plan = self.plan
        for key, deps in plan.main_deps.items():
            mine = [s for s in strings if isinstance(s, str) and _pep508_key(s) == key]
            written = next((k for k in table if canonicalize_name(k) == key), None)
            if not mine or written is None:
                continue
            try:
                base = [self.old.pep508(s, None, None) for s in mine]
                entries = self.old.entries(written, table[written], None, "tool.poetry.dependencies")
            except EnvkitError:
                continue
            main = plan.tables.setdefault(None, {})
            combined = [d for dep in base for d in _combine(dep, entries)]
            if not _same_multiset(combined, deps):
                # the planned strings with the file's own entry may still say it
                planned = [from_pep508(str(i.value), path="-") for k, i in plan.project if canonicalize_name(k) == key]
                if any(d.path is not None for d in deps) or not _same_multiset(
                    [d for dep in planned for d in _combine(dep, entries)], deps
                ):
                    continue
                for name in [n for n in main if canonicalize_name(n) == key]:
                    del main[name]
                main[written] = [_Item(table[written])]
                continue
            at = next(i for i, (k, _) in enumerate(plan.project) if canonicalize_name(k) == key)
            plan.project = [p for p in plan.project if canonicalize_name(p[0]) != key]
            plan.project[at:at] = [(written, _Item(s)) for s in mine]
            for name in [n for n in main if canonicalize_name(n) == key]:
                del main[name]
            main[written] = [_Item(table[written])]

    # -- [project] -------------------------------------------------------------------------
    def project(self) -> None:
        import tomlkit

        plan = self.plan
        if "project" not in self.doc:
            project = tomlkit.table()
            project["name"] = self.env.name or self.old_poetry.get("name") or DEFAULT_NAME
            self.doc.add("project", project)
        project = self.doc["project"]
        if self.is_new:
            project["name"] = self.env.name or DEFAULT_NAME
        old_python = self.old_project.get("requires-python")
        if plan.python is None:
            if "requires-python" in project:
                del project["requires-python"]
        elif not (isinstance(old_python, str) and _same_spec(old_python, plan.python)):
            project["requires-python"] = pc.ordered(plan.python)
        if plan.project or "dependencies" in project:
            self.string_array(project, "dependencies", [item for _, item in plan.project])
        if plan.optional:
            if "optional-dependencies" not in project:
                project["optional-dependencies"] = tomlkit.table()
            table = project["optional-dependencies"]
            for extra in list(table):
                if extra not in plan.optional:
                    del table[extra]
            for extra, items in plan.optional.items():
                self.string_array(table, extra, [item for _, item in items])
        elif "optional-dependencies" in project:
            del project["optional-dependencies"]

    def string_array(self, table: Any, key: str, wanted: list[_Item]) -> None:
        """Make ``table[key]`` hold the PEP 508 strings ``wanted``: an existing string that
        says the same stays as written, one whose requirement changed is replaced in place,
        the rest are removed; new ones are added at the end."""
        import tomlkit

        if key not in table:
            array = tomlkit.array()
            for item in wanted:
                array.add_line(_string(str(item.value)), comment=item.comment or "", indent="    ")
            if wanted:
                array.add_line(indent="")
            table[key] = array
            return
        array = table[key]
        current = [str(v) for v in array]
        free = list(range(len(wanted)))
        paired: set[int] = set()
        for i, text in enumerate(current):
            j = next((j for j in free if _same_pep508(text, str(wanted[j].value))), None)
            if j is not None:
                paired.add(i)
                free.remove(j)
        for i, text in enumerate(current):
            if i in paired:
                continue
            j = next((j for j in free if _pep508_key(text) == _pep508_key(str(wanted[j].value))), None)
            if j is not None:
                array[i] = _string(str(wanted[j].value))
                paired.add(i)
                free.remove(j)
        for i in reversed(range(len(current))):
            if i not in paired:
                del array[i]
        multiline = "\n" in array.as_string() or (not len(array) and len(free) > 1)
        for j in free:
            item = wanted[j]
            if multiline or item.comment:
                array.add_line(_string(str(item.value)), comment=item.comment or "", indent="    ")
            else:
                array.append(_string(str(item.value)))
        if (
            free
            and (multiline or any(wanted[j].comment for j in free))
            and not array.as_string().rstrip("]").endswith("\n")
        ):
            array.add_line(indent="")

    def drop_project_dependencies(self) -> None:
        """Style 1: ``[project]`` dependencies would hide ``[tool.poetry.dependencies]``."""
        project = self.doc.get("project")
        if project is None:
            return
        for key in ("dependencies", "optional-dependencies"):
            if key in project:
                del project[key]
        if self.plan.python is not None and "requires-python" in project:
            project["requires-python"] = pc.ordered(self.plan.python)

    # -- [tool.poetry.dependencies] and groups -----------------------------------------------
    def main_table(self) -> None:
        plan = self.plan
        entries = plan.tables.get(None, {})
        old_table = self.old_poetry.get("dependencies")
        old_python = old_table.get("python") if isinstance(old_table, dict) else None
        python: str | None = None
        if plan.python is not None and (plan.style == "1" or old_python is not None):
            python = pc.from_pep440(plan.python) if plan.style == "1" else pc.ordered(plan.python)
        poetry = self.existing_poetry()
        if not entries and python is None:
            if poetry is not None and "dependencies" in poetry:
                del poetry["dependencies"]
            return
        created = poetry is None or "dependencies" not in poetry
        table = self.table(self.poetry(), "dependencies")
        if python is None:
            for key in [k for k in table if k.lower() == "python"]:
                del table[key]
        elif not (isinstance(old_python, str) and _same_poetry_spec(old_python, python)):
            table["python"] = python
        self.fill(table, entries, None, "tool.poetry.dependencies", created)

    def table(self, parent: Any, key: str) -> Any:
        import tomlkit

        if key not in parent:
            parent[key] = tomlkit.table()
        return parent[key]

    def fill(self, table: Any, entries: dict[str, list[_Item]], group: str | None, dotted: str, created: bool) -> None:
        """Make the poetry dependency ``table`` hold ``entries``, keeping equal entries."""
        import tomlkit

        present = {canonicalize_name(k): k for k in table if k.lower() != "python"}
        wanted = {canonicalize_name(k): k for k in entries}
        for key, written in present.items():
            if key not in wanted:
                del table[written]
        for key, name in wanted.items():
            items = entries[name]
            value: Any = items[0].value if len(items) == 1 else [i.value for i in items]
            if key in present:
                old = self.old_poetry_value(dotted, present[key])
                if old is not None and _same_entry(name, old, value, group):
                    continue
                name = present[key]
            table[name] = _toml_value(value)
            comment = next((i.comment for i in items if i.comment), None)
            if comment:
                table[name].comment(comment)
        if created:
            table.add(tomlkit.nl())

    def old_poetry_value(self, dotted: str, key: str) -> Any:
        node: Any = self.data
        for part in _split_dotted(dotted):
            node = node.get(part) if isinstance(node, dict) else None
        return node.get(key) if isinstance(node, dict) else None

    def groups(self) -> None:
        import tomlkit

        groups = {g: t for g, t in self.plan.tables.items() if g is not None}
        old_groups = self.old_poetry.get("group", {})
        legacy = "dev-dependencies" in self.old_poetry and not (isinstance(old_groups, dict) and "dev" in old_groups)
        poetry = self.existing_poetry()
        if poetry is not None and "group" in poetry:
            for name in list(poetry["group"]):
                if name not in groups:
                    del poetry["group"][name]
            if not list(poetry["group"]):
                del poetry["group"]
        if poetry is not None and "dev-dependencies" in poetry and not (legacy and "dev" in groups):
            del poetry["dev-dependencies"]
        for name, entries in groups.items():
            if name == "dev" and legacy:
                self.fill(self.poetry()["dev-dependencies"], entries, name, "tool.poetry.dev-dependencies", False)
                continue
            root = self.poetry()
            if "group" not in root:
                root["group"] = tomlkit.table(is_super_table=True)
            created = name not in root["group"]
            if created:
                root["group"][name] = tomlkit.table(is_super_table=True)
            group = root["group"][name]
            created = created or "dependencies" not in group
            table = self.table(group, "dependencies")
            self.fill(table, entries, name, f"tool.poetry.group.{_quote_key(name)}.dependencies", created)

    def extras(self) -> None:
        import tomlkit

        plan = self.plan
        poetry = self.existing_poetry()
        if plan.style == "2":
            return  # poetry 2 ignores [tool.poetry.extras] beside [project] dependencies
        if not plan.extras:
            if poetry is not None and "extras" in poetry:
                del poetry["extras"]
            return
        old = self.old_poetry.get("extras")
        if isinstance(old, dict) and _extras_key(old) == _extras_key(plan.extras):
            return
        table = tomlkit.table()
        for extra, names in plan.extras.items():
            table[extra] = names
        table.add(tomlkit.nl())
        self.poetry()["extras"] = table

    def sources(self) -> None:
        import tomlkit

        wanted = self.plan.sources
        poetry = self.existing_poetry()
        old = self.old_poetry.get("source")
        if old is not None and _read_sources(old) == _read_sources(wanted):
            return
        if not wanted:
            if poetry is not None and "source" in poetry:
                del poetry["source"]
            return
        aot = tomlkit.aot()
        for source in wanted:
            table = tomlkit.table()
            for key, value in source.items():
                table[key] = value
            aot.append(table)
        aot[-1].add(tomlkit.nl())
        self.poetry()["source"] = aot


def _same_multiset(a: list[Dependency], b: list[Dependency]) -> bool:
    """``a`` and ``b`` hold equal dependencies, in any order."""
    rest = list(b)
    for dep in a:
        match = next((i for i, other in enumerate(rest) if other == dep), None)
        if match is None:
            return False
        del rest[match]
    return not rest


def _read_sources(raw: Any) -> tuple[Source, ...] | None:
    try:
        return _Reader("", "-").sources({"source": raw})
    except EnvkitError:
        return None


def _extras_key(extras: Mapping[str, Any]) -> dict[str, list[str]]:
    return {k: sorted(canonicalize_name(str(n)) for n in v) for k, v in extras.items() if isinstance(v, list)}


def _same_entry(name: str, old: Any, new: Any, group: str | None) -> bool:
    """True when two poetry values of ``name`` read the same."""
    reader = _Reader("", "-")
    try:
        a = reader.entries(name, old, group, "-")
        b = reader.entries(name, new, group, "-")
    except EnvkitError:
        return False
    return [(e.dep, e.optional, e.develop, e.prereleases) for e in a] == [
        (e.dep, e.optional, e.develop, e.prereleases) for e in b
    ]


def _toml_value(value: Any) -> Any:
    """A poetry value as tomlkit items: inline tables, literal strings where they read better."""
    import tomlkit

    if isinstance(value, list):
        array = tomlkit.array()
        for item in value:
            array.add_line(_toml_value(item), indent="    ")
        array.add_line(indent="")
        return array
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for key, item in value.items():
            table[key] = _string(item) if isinstance(item, str) else item
        return table
    return _string(value)


def _string(text: str) -> Any:
    import tomlkit

    if '"' in text and "'" not in text and "\n" not in text:
        return tomlkit.string(text, literal=True)
    return tomlkit.string(text)


def _pep508_key(text: str) -> str | None:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return canonicalize_name(match.group(1)) if match else None


def _same_pep508(a: str, b: str) -> bool:
    try:
        return from_pep508(a, path="-") == from_pep508(b, path="-")
    except ParseError:
        return a == b


def _same_spec(poetry_or_pep440: str, spec: SpecifierSet) -> bool:
    try:
        return SpecifierSet(pc.to_pep440(poetry_or_pep440).specifier) == spec
    except pc.ConstraintError:
        return False


def _same_poetry_spec(a: str, b: str) -> bool:
    try:
        return SpecifierSet(pc.to_pep440(a).specifier) == SpecifierSet(pc.to_pep440(b).specifier)
    except pc.ConstraintError:
        return False
