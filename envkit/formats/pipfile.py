"""Pipenv's ``Pipfile``: read and written.

Grammar (TOML), as pipenv and its parser plette read it::

    [[source]]        url (required), name, verify_ssl (default true). The first source
                      is the index; the others serve only the packages that name them.
    [packages]        the main list                         -> Dependency.group None
    [dev-packages]    the development list                  -> group "dev"
    [CATEGORY]        any other table (pipenv categories)   -> group "CATEGORY"
    [requires]        python_version = "3.11"               -> python ==3.11.*
                      python_full_version = "3.11.4"        -> python ==3.11.4
    [pipenv]          allow_prereleases = true              -> PipOptions.pre
    [scripts], [pipfile], [build-system]: not ours; kept byte for byte when merging.

    entry   := NAME = VERSION                 "*", "==1.0", ">=2.14", "1.0" (means ==1.0)
             | NAME = { KEY = VALUE, ... }    (or the same keys under [CATEGORY.NAME])
    KEY     := version | extras | markers | index | editable | no_binary | pip_args
             | hashes | git | hg | svn | bzr (with ref, subdirectory) | path | file
             | os_name | sys_platform | platform_machine | ... (a PEP 508 variable whose
               value is the rest of a comparison: sys_platform = "== 'win32'")

How the model is read (pipenv's own translation to pip is the reference):

- The first source is a :class:`Source` of kind ``index``, the others ``extra-index``,
  with their names. The first source is dropped when it is PyPI itself
  (``https://pypi.org/simple``, verified, no credentials): that is pipenv's default and
  the model's "no index"; an ``index`` naming it is dropped too (an unnamed package comes
  from the first source anyway). ``verify_ssl = false`` gives ``Source.verify_ssl``
  False and puts the source's ``host[:port]`` into ``PipOptions.trusted_hosts``, the
  ``--trusted-host`` pipenv passes to pip for it. Credentials stay as written
  (``${VAR}`` references are expanded by pipenv at run time, never here).
- A VCS entry becomes the URL pipenv hands to pip: ``git+URL@REF#subdirectory=SUB``,
  and for an editable one the legacy form pip needs, ``git+URL@REF#egg=NAME&...``.
  The entry's key is the project name.
- ``path`` and ``file`` are read alike, as pipenv does: a value with a URL scheme is a
  direct URL (pipenv hands pip ``NAME @ URL``), anything else a local path (``file =
  "."`` is a path; pipenv hands pip the bare path, so a wheel's file name gives its
  version, as in a requirements file).
- ``no_binary = true`` puts the package into ``PipOptions.no_binary``;
  ``pip_args = ["--config-settings", "K=V"]`` gives its config settings; ``hashes``
  (accepted by plette, passed by pipenv to pip as ``--hash``) are read as they are.

Writing carries all of the above. The model's index (or, without one, pipenv's default
PyPI source) is written first; a source without a name takes the name an existing Pipfile
gives its URL, else one made from its host (``download.pytorch.org`` ->
``download-pytorch-org``), reported as transformed. A trusted host becomes
``verify_ssl = false`` on the sources of that host. An unnamed requirement is keyed by
its wheel, ``#egg=``, repository or folder name, reported as transformed. Every entry is
read back as written and any difference reported, so nothing changes silently.
It reports what a Pipfile cannot hold: constraints
(pipenv has no ``-c``), hashes (pipenv records them in Pipfile.lock when it locks),
find-links, ``--no-index``, ``--only-binary``, ``--prefer-binary``, ``--require-hashes``,
pip's release controls and features, ``--global-option``, a Python constraint that is
not one version, conda-only packages, channels and variables, source priorities.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, NoReturn, Optional, Union
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..errors import EnvkitError, ParseError
from ..model import Dependency, Diagnostic, Environment, Origin, PipOptions, Source
from . import _toml_text
from ._base import Loss, Opener, Rendered
from ._templates import template
from ._toml import loads_toml

__all__ = ["FILENAMES", "NAME", "detect", "dumps", "loads"]

NAME = "pipfile"
FILENAMES = ("Pipfile",)

#: Top-level tables that are not package categories (plette's and pipenv's lists).
RESERVED = frozenset({"source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv", "build-system"})
VCS_KEYS = ("git", "hg", "svn", "bzr")
#: PEP 508 variables pipenv accepts as entry keys and folds into the marker.
MARKER_KEYS = (
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
)
#: Every key plette accepts in an entry (anything else fails ``pipenv lock``).
PACKAGE_KEYS = frozenset(
    {
        *VCS_KEYS,
        *MARKER_KEYS,
        "ref",
        "subdirectory",
        "name",
        "version",
        "extras",
        "editable",
        "markers",
        "os_markers",
        "hashes",
        "index",
        "no_binary",
        "pip_args",
        "skip_resolver",
        "path",
        "file",
    }
)
PYPI_URLS = frozenset({"https://pypi.org/simple", "https://pypi.python.org/simple"})
DEFAULT_SOURCE: dict[str, Any] = {"url": "https://pypi.org/simple", "verify_ssl": True, "name": "pypi"}

_COMPARE_OP = re.compile(r"^(<=?|>=?|={2,3}|[~!]=)\s*")
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_HEADER = re.compile(
    r"^\s*\[(?!\[)\s*(?:packages|dev-packages)\s*\]\s*(?:#.*)?$|^\s*\[\[\s*source\s*\]\]", re.MULTILINE
)

KeyPath = tuple[Union[str, int], ...]


# ---------------------------------------------------------------------------------------
# Public API


def detect(path: str | None, text: str) -> bool:
    """True for a file named ``Pipfile`` (or ``*_Pipfile``/``*.Pipfile``), or TOML with a
    ``[packages]``, ``[dev-packages]`` or ``[[source]]`` table (no other format has them)."""
    if path is not None:
        base = posixpath.basename(path.replace("\\", "/"))
        if base == "Pipfile" or base.endswith(("_Pipfile", ".Pipfile", "-Pipfile")):
            return True
        if base.lower().endswith((".lock", ".json", ".txt", ".yml", ".yaml")):
            return False
    return _HEADER.search(text) is not None


def loads(text: str, path: str = "Pipfile", *, opener: Opener | None = None) -> Environment:
    """Read Pipfile ``text`` (its name ``path``) into an :class:`Environment`.

    A malformed file, or one plette would reject (an unknown entry key, a value of the
    wrong type, an ``index`` naming no source), raises :class:`ParseError`.
    """
    del opener  # a Pipfile includes nothing
    data = loads_toml(text, path)
    where = TomlSpots(text)
    ctx = Context(path, where)
    ctx.read_sources(data.get("source", []), ("source",))
    requirements: list[Dependency] = []
    for category, table in data.items():
        if category in RESERVED and category not in ("packages", "dev-packages"):
            continue
        if not isinstance(table, dict):
            ctx.fail(f"expected a table of packages for {category!r}", (category,))
        group = category_group(category)
        for key, value in table.items():
            requirements.append(ctx.read_entry(key, value, group, (category, key)))
    python = ctx.read_requires(data.get("requires", {}), ("requires",))
    pre = _read_pipenv_settings(ctx, data.get("pipenv", {}))
    return Environment(
        requirements=tuple(requirements),
        python=python,
        sources=tuple(ctx.sources),
        options=ctx.options(pre=pre),
        format=NAME,
        notes=tuple(ctx.notes),
    )


def category_group(category: str, *, lock: bool = False) -> Optional[str]:
    """The model group of a Pipfile category, or (``lock``) of a Pipfile.lock section."""
    main, dev = ("default", "develop") if lock else ("packages", "dev-packages")
    return None if category == main else "dev" if category == dev else category


def group_category(group: Optional[str]) -> str:
    """The Pipfile category of a model group."""
    return {None: "packages", "dev": "dev-packages"}.get(group, group or "packages")


def _read_pipenv_settings(ctx: Context, settings: Any) -> bool:
    if not isinstance(settings, dict):
        ctx.fail("expected a table for [pipenv]", ("pipenv",))
    pre = settings.get("allow_prereleases", False)
    if not isinstance(pre, bool):
        ctx.fail("allow_prereleases must be true or false", ("pipenv", "allow_prereleases"))
    for key in settings:
        if key != "allow_prereleases":
            ctx.warn(f"[pipenv] {key} is pipenv's own setting; it is not part of envkit's model", ("pipenv", key))
    return pre


# ---------------------------------------------------------------------------------------
# Where things are: key paths -> line, column and text, for messages and origins


@dataclass(frozen=True)
class Spot:
    line: int
    column: int
    text: str
    width: int = 1


class Spots:
    """What a reader needs to place a message: :class:`TomlSpots` or the JSON one."""

    def spot(self, path: KeyPath, value: bool = True) -> Spot:
        """Where ``path`` is written (its value when ``value``); here: nowhere known."""
        del path, value
        return Spot(1, 1, "")

    def comment(self, path: KeyPath) -> Optional[str]:
        return None

    def entry_text(self, path: KeyPath) -> str:
        return ""


class TomlSpots(Spots):
    """Finds where a key path (``("packages", "torch", "index")``) is written in TOML text.

    Best effort, by lines: table headers (``[a.b]``, ``[[a]]`` counted per array) and
    ``key =`` lines; a key inside an inline table is found on its entry's line.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*(?P<key>[^\]#]*?)\s*\]\]?\s*(?:#.*)?$")
    _PART = r"(?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+)"
    _KEY = re.compile(r"^\s*(?P<key>" + _PART + r"(?:\s*\.\s*" + _PART + r")*)\s*=[ \t]*")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.spots: dict[KeyPath, tuple[int, int, int]] = {}  # path -> (line, key column, value column)
        counts: dict[KeyPath, int] = {}
        prefix: KeyPath = ()
        for number, line in enumerate(self.lines, 1):
            header = self._HEADER.match(line)
            if header:
                parts: KeyPath = tuple(_key_parts(header.group("key")))
                column = header.start("key") + 1
                if header.group(1) == "[[":
                    index = counts.get(parts, 0)
                    counts[parts] = index + 1
                    prefix = (*parts, index)
                else:
                    prefix = parts
                self.spots.setdefault(prefix, (number, column, column))
                continue
            key = self._KEY.match(line)
            if key:
                parts = tuple(_key_parts(key.group("key")))
                for cut in range(1, len(parts) + 1):  # a dotted key also places its parents
                    self.spots.setdefault((*prefix, *parts[:cut]), (number, key.start("key") + 1, key.end() + 1))

    def _line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def spot(self, path: KeyPath, value: bool = True) -> Spot:
        """The key at ``path`` (its value when ``value``); its nearest written parent else."""
        for cut in range(len(path), 0, -1):
            found = self.spots.get(path[:cut])
            if found is None:
                continue
            number, key_col, value_col = found
            text = self._line(number)
            if cut < len(path) and isinstance(path[cut], str):
                inner = re.search(r"(?<![\w\"'-])[\"']?" + re.escape(str(path[cut])) + r"[\"']?\s*=\s*", text[key_col:])
                if inner:
                    key_col = key_col + inner.start() + 1
                    value_col = key_col + inner.end() - inner.start()
            column = value_col if value else key_col
            return Spot(number, column, text, _token_width(text, column - 1))
        return Spot(1, 1, self._line(1), 1)

    def comment(self, path: KeyPath) -> Optional[str]:
        """The comment at the end of the line where ``path`` is written, if any."""
        found = self.spots.get(path)
        if found is None:
            return None
        text = self._line(found[0])
        at = _comment_start(text)
        return text[at + 1 :].strip() or None if at is not None else None

    def entry_text(self, path: KeyPath) -> str:
        """The line where ``path`` is written, without its comment."""
        found = self.spots.get(path)
        if found is None:
            return ""
        text = self._line(found[0])
        at = _comment_start(text)
        return (text if at is None else text[:at]).strip()


def _key_parts(key: str) -> list[str]:
    parts = re.findall(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^.\s]+", key)
    return [p[1:-1] if p[:1] in ("'", '"') else p for p in parts]


def _comment_start(text: str) -> Optional[int]:
    """Where a TOML comment starts on a line: the first ``#`` outside a string."""
    if "#" not in text:
        return None
    quote: Optional[str] = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is None:
            if ch == "#":
                return i
            if ch in ("'", '"'):
                quote = ch
        elif ch == "\\" and quote == '"':
            i += 1
        elif ch == quote:
            quote = None
        i += 1
    return None


def _token_width(text: str, start: int) -> int:
    """The width of the value starting at ``start``: a quoted string, or up to a separator."""
    if start >= len(text):
        return 1
    if text[start] in ("'", '"'):
        end = text.find(text[start], start + 1)
        return end - start + 1 if end > start else len(text) - start
    match = re.match(r"[^\s,}\]#]+", text[start:])
    return len(match.group(0)) if match else 1


# ---------------------------------------------------------------------------------------
# Reading (shared with Pipfile.lock)


@dataclass
class Context:
    """The state of one read: where things are, the sources seen, warnings, options."""

    path: str
    where: Spots
    #: Pipfile entries accept only plette's keys; a lock is machine-written, so lenient.
    strict: bool = True
    sources: list[Source] = field(default_factory=list)
    names: dict[str, Optional[str]] = field(default_factory=dict)  # written name/URL -> model name
    trusted: list[str] = field(default_factory=list)
    no_binary: set[str] = field(default_factory=set)
    notes: list[Diagnostic] = field(default_factory=list)

    # -- messages ---------------------------------------------------------------------
    def fail(self, message: str, path: KeyPath, *, value: bool = True, hint: str | None = None) -> NoReturn:
        spot = self.where.spot(path, value)
        raise ParseError(
            message, path=self.path, line=spot.line, column=spot.column, text=spot.text, width=spot.width, hint=hint
        )

    def origin(self, path: KeyPath, value: bool = False) -> Origin:
        spot = self.where.spot(path, value)
        return Origin(self.path, spot.line, spot.column, spot.text)

    def warn(self, message: str, path: KeyPath) -> None:
        self.notes.append(Diagnostic(message, self.origin(path)))

    def _string(self, value: Any, path: KeyPath, what: str) -> str:
        if not isinstance(value, str):
            self.fail(f"{what} must be a string", path)
        return value

    # -- [[source]] -------------------------------------------------------------------
    def read_sources(self, raw: Any, path: KeyPath) -> None:
        """Read a list of ``{url, name, verify_ssl}`` tables (``[[source]]``, ``_meta.sources``)."""
        if not isinstance(raw, list):
            self.fail("expected an array of tables: [[source]]", path, value=False)
        for i, item in enumerate(raw):
            here = (*path, i)
            if not isinstance(item, dict):
                self.fail("expected a table with url, name and verify_ssl", here, value=False)
            if "url" not in item:
                self.fail("a source needs a url", here, value=False)
            url = self._string(item["url"], (*here, "url"), "url")
            name = self._string(item["name"], (*here, "name"), "name") if "name" in item else None
            verify = item.get("verify_ssl", True)
            if not isinstance(verify, bool):
                self.fail("verify_ssl must be true or false", (*here, "verify_ssl"))
            if name is not None and name in self.names:
                self.fail(f"a second source named {name!r}", (*here, "name"), hint="source names must be unique")
            source = Source.from_url(
                "index" if i == 0 else "extra-index", url, name=name, verify_ssl=verify, origin=self.origin(here)
            )
            dropped = i == 0 and is_default_source(source)
            if name is not None:
                self.names[name] = None if dropped else name
            self.names.setdefault(url, None if dropped else name)
            if dropped:
                continue
            self.sources.append(source)
            host = trusted_host(source)
            if host is not None and host not in self.trusted:
                self.trusted.append(host)

    def index(self, value: Any, path: KeyPath) -> Optional[str]:
        """The model source name an entry's ``index`` refers to (``None``: the default)."""
        text = self._string(value, path, "index")
        if text in self.names:
            return self.names[text]
        known = ", ".join(repr(n) for n in self.names if not _URL_SCHEME.match(n))
        hint = f"the sources are {known}" if known else f"add a [[source]] named {text!r}"
        if self.strict:
            self.fail(f"index {text!r} names no [[source]]", path, hint=hint)
        self.warn(f"index {text!r} names no source ({hint}); the package is read without it", path)
        return None

    def options(self, *, pre: bool = False) -> PipOptions:
        return PipOptions(pre=pre, trusted_hosts=tuple(self.trusted), no_binary=tuple(sorted(self.no_binary)))

    # -- [requires] -------------------------------------------------------------------
    def read_requires(self, raw: Any, path: KeyPath) -> Optional[SpecifierSet]:
        """``python_version = "3.11"`` -> ``==3.11.*``; ``python_full_version = "3.11.4"`` -> ``==3.11.4``."""
        if not isinstance(raw, dict):
            self.fail("expected a table for [requires]", path, value=False)
        result: Optional[SpecifierSet] = None
        for key, value in raw.items():
            here = (*path, key)
            if key == "python_version":
                text = self._string(value, here, key).strip()
                if not re.fullmatch(r"\d+(\.\d+)*", text):
                    self.fail(f"python_version must be a version like '3.11', not {text!r}", here)
                spec = SpecifierSet(f"=={text}.*")
            elif key == "python_full_version":
                text = self._string(value, here, key).strip()
                try:
                    Version(text)
                except InvalidVersion:
                    self.fail(f"python_full_version must be a version like '3.11.4', not {text!r}", here)
                spec = SpecifierSet(f"=={text}")
            else:
                self.warn(f"[requires] {key} is not a Python constraint envkit knows; ignored", here)
                continue
            result = spec if result is None else result & spec
        return result

    # -- entries ----------------------------------------------------------------------
    def read_entry(self, key: str, value: Any, group: Optional[str], path: KeyPath) -> Dependency:
        """One package entry: a version string or a table of keys (see the module grammar)."""
        origin = self.origin(path)
        text = self.where.entry_text(path)
        comment = self.where.comment(path)
        _check_name(self, key, path)
        if isinstance(value, str):
            spec = self.specifier(value, path)
            return Dependency(key, spec, group=group, text=text, comment=comment, origin=origin)
        if not isinstance(value, dict):
            self.fail(f"the entry for {key!r} must be a version string or a table", path)
        if self.strict:
            unknown = sorted(set(value) - PACKAGE_KEYS)
            if unknown:
                self.fail(
                    f"unknown key {unknown[0]!r} in the entry for {key!r}",
                    (*path, unknown[0]),
                    value=False,
                    hint="pipenv accepts version, extras, markers, index, editable, git/hg/svn/bzr with ref and "
                    "subdirectory, path, file, no_binary, pip_args, hashes and PEP 508 marker variables",
                )
        extras = self._extras(value.get("extras", []), (*path, "extras"))
        marker = self._marker(value, path)
        editable = value.get("editable", False)
        if not isinstance(editable, bool):
            self.fail("editable must be true or false", (*path, "editable"))
        index = self.index(value["index"], (*path, "index")) if "index" in value else None
        hashes = self._hashes(value.get("hashes", []), (*path, "hashes"))
        settings, global_options = self._pip_args(value.get("pip_args", []), (*path, "pip_args"))
        no_binary = value.get("no_binary", False)
        if not isinstance(no_binary, bool):
            self.fail("no_binary must be true or false", (*path, "no_binary"))
        if no_binary:
            self.no_binary.add(canonicalize_name(key))
        if value.get("skip_resolver") is True:
            self.warn(f"pipenv does not resolve {key!r} (skip_resolver); envkit reads it as a plain requirement", path)
        spec = SpecifierSet()
        url = location = None
        vcs = [k for k in VCS_KEYS if k in value]
        places = [k for k in ("path", "file") if k in value]
        if len(vcs) + len(places) > 1:
            if self.strict:
                self.fail(
                    f"the entry for {key!r} names more than one place ({', '.join(vcs + places)})",
                    (*path, (vcs + places)[1]),
                    value=False,
                )
            places = places[:1]
        if vcs:
            url = self._vcs_url(key, value, vcs[0], editable, path)
        elif places:
            where = self._string(value[places[0]], (*path, places[0]), places[0])
            if _URL_SCHEME.match(where):
                url = where
                editable = editable and not where.lower().startswith(("http:", "https:", "ftp:"))
            else:
                location = where
            if location is not None:  # pip reads a bare wheel path's version from its name
                spec = _wheel_specifier(key, location)
        if vcs or places:
            version = value.get("version", "*")
            if self.strict and isinstance(version, str) and version.strip() not in ("", "*"):
                self.warn(f"pipenv ignores the version of {key!r}: it comes from a URL or a path", (*path, "version"))
        else:
            spec = self.specifier(
                self._string(value.get("version", "*"), (*path, "version"), "version"), (*path, "version")
            )
            if editable:
                self.warn(
                    f"pipenv installs {key!r} from an index; editable needs a path or a VCS URL", (*path, "editable")
                )
                editable = False
        return Dependency(
            key,
            spec,
            extras,
            marker,
            url=url,
            path=location,
            editable=editable,
            hashes=hashes,
            config_settings=settings,
            global_options=global_options,
            group=group,
            index=index,
            text=text,
            comment=comment,
            origin=origin,
        )

    def specifier(self, text: str, path: KeyPath) -> SpecifierSet:
        """A pipenv version: ``*`` or empty for any, a bare version for ``==``, else PEP 440."""
        body = text.strip().lstrip("(").rstrip(")").strip()
        if body in ("", "*"):
            return SpecifierSet()
        if not _COMPARE_OP.match(body):
            body = "==" + body
        try:
            return SpecifierSet(body)
        except InvalidSpecifier:
            self.fail(f"invalid version specifier {text!r}", path)

    def _extras(self, raw: Any, path: KeyPath) -> frozenset[str]:
        if not isinstance(raw, list) or not all(isinstance(e, str) for e in raw):
            self.fail("extras must be a list of strings", path)
        try:
            return frozenset(Requirement("placeholder[" + ",".join(raw) + "]").extras) if raw else frozenset()
        except InvalidRequirement:
            self.fail(f"invalid extras {raw!r}", path)

    def _marker(self, table: Mapping[str, Any], path: KeyPath) -> Optional[Marker]:
        """``markers`` (and legacy ``os_markers``) and the marker-variable keys, joined by ``and``."""
        parts: list[str] = []
        parsed: Optional[Marker] = None
        for key in ("markers", "os_markers", *MARKER_KEYS):
            if key not in table:
                continue
            value = self._string(table[key], (*path, key), key).strip()
            if not value:
                continue
            part = value if key in ("markers", "os_markers") else f"{key} {value}"
            try:
                parsed = Marker(part)
            except InvalidMarker as exc:
                reason = str(exc).splitlines()[0]
                hint = (
                    None
                    if key in ("markers", "os_markers")
                    else f"{key}'s value is the rest of a comparison, like \"== 'value'\""
                )
                self.fail(f"invalid marker {part!r}: {reason}", (*path, key), hint=hint)
            parts.append(part)
        if not parts:
            return None
        return Marker(" and ".join(f"({p})" for p in parts)) if len(parts) > 1 else parsed

    def _hashes(self, raw: Any, path: KeyPath) -> tuple[tuple[str, str], ...]:
        if not isinstance(raw, list):
            self.fail("hashes must be a list of 'algorithm:digest' strings", path)
        result = []
        for i, item in enumerate(raw):
            algo, sep, digest = item.partition(":") if isinstance(item, str) else ("", "", "")
            if not sep or not algo or not digest:
                self.fail(f"a hash must be 'algorithm:digest', not {item!r}", (*path, i))
            result.append((algo, digest))
        return tuple(result)

    def _pip_args(self, raw: Any, path: KeyPath) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """``pip_args``: ``--config-settings K=V`` (or ``=K=V``, ``-C``) and ``--global-option``."""
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
            self.fail("pip_args must be a list of strings", path)
        settings: list[tuple[str, str]] = []
        global_options: list[str] = []
        args = iter(raw)
        for arg in args:
            name, eq, attached = arg.partition("=")
            if name in ("--config-settings", "-C", "--global-option"):
                value = attached if eq else next(args, None)
                if value is None:
                    self.fail(f"pip_args: {name} needs a value", path)
            elif arg.startswith("-C") and len(arg) > 2:
                name, value = "-C", arg[2:]
            else:
                self.warn(f"pip_args {arg!r} has no place in envkit's model; ignored", path)
                continue
            assert value is not None
            if name == "--global-option":
                global_options.append(value)
                continue
            key, sep, val = value.partition("=")
            if not sep:
                self.fail(f"pip_args: --config-settings takes KEY=VALUE, not {value!r}", path)
            settings.append((key, val))
        return tuple(settings), tuple(global_options)

    def _vcs_url(self, key: str, table: Mapping[str, Any], vcs: str, editable: bool, path: KeyPath) -> str:
        """The URL pipenv hands to pip for a VCS entry (see the module docstring)."""
        raw = self._string(table[vcs], (*path, vcs), vcs).strip()
        ref = self._string(table["ref"], (*path, "ref"), "ref").strip() if table.get("ref") else ""
        sub = (
            self._string(table["subdirectory"], (*path, "subdirectory"), "subdirectory")
            if "subdirectory" in table
            else ""
        )
        return vcs_url(vcs, raw, ref, sub, key if editable else None)


def vcs_url(vcs: str, raw: str, ref: str, subdirectory: str, egg: Optional[str]) -> str:
    """``VCS+URL@REF#egg=EGG&subdirectory=SUB`` from a Pipfile's pieces.

    ``raw`` may carry the ``VCS+`` prefix and a fragment of its own (whose ``egg`` is
    replaced and whose ``subdirectory`` yields to ``subdirectory``).
    """
    base, _, fragment = raw.partition("#")
    params = [p for p in fragment.split("&") if p and not p.startswith(("egg=", "subdirectory="))]
    old_sub = next((p[len("subdirectory=") :] for p in fragment.split("&") if p.startswith("subdirectory=")), "")
    subdirectory = subdirectory or old_sub
    if not base.lower().startswith(f"{vcs}+"):
        base = f"{vcs}+{base}"
    url = base + (f"@{ref}" if ref else "")
    front = [f"egg={egg}"] if egg else []
    back = [f"subdirectory={subdirectory}"] if subdirectory else []
    fragments = front + params + back
    return url + ("#" + "&".join(fragments) if fragments else "")


def split_vcs_url(url: str) -> tuple[str, str, str, dict[str, str], list[str]]:
    """``(vcs, base URL, ref, {egg, subdirectory}, other fragment parts)`` of a VCS URL."""
    vcs, _, rest = url.partition("+")
    base, _, fragment = rest.partition("#")
    parts = urlsplit(base)
    ref = ""
    if "@" in parts.path:
        path, ref = parts.path.rsplit("@", 1)
        base = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    known: dict[str, str] = {}
    others: list[str] = []
    for piece in fragment.split("&") if fragment else []:
        name, eq, value = piece.partition("=")
        if eq and name in ("egg", "subdirectory") and name not in known:
            known[name] = value
        else:
            others.append(piece)
    return vcs.lower(), base, ref, known, others


def _check_name(ctx: Context, key: str, path: KeyPath) -> None:
    if not _is_project_name(key):
        ctx.fail(f"{key!r} is not a valid project name", path, value=False)


@lru_cache(maxsize=4096)
def _is_project_name(key: str) -> bool:
    """True when ``key`` is a project name as PEP 508 spells one, and nothing more."""
    try:
        return Requirement(key).name == key
    except InvalidRequirement:
        return False


def _wheel_specifier(key: str, where: str) -> SpecifierSet:
    """``==VERSION`` when the local path ``where`` is a wheel of project ``key``; empty otherwise."""
    filename = posixpath.basename(where.replace("\\", "/"))
    if not filename.lower().endswith(".whl"):
        return SpecifierSet()
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return SpecifierSet()
    return SpecifierSet(f"=={version}") if name == canonicalize_name(key) else SpecifierSet()


def is_default_source(source: Source) -> bool:
    """True for PyPI itself, verified, without credentials: pipenv's default source."""
    return source.url.rstrip("/").lower() in PYPI_URLS and source.verify_ssl and not source.has_credentials


def trusted_host(source: Source) -> Optional[str]:
    """The ``host[:port]`` pipenv passes to pip as ``--trusted-host`` for an unverified source."""
    if source.verify_ssl:
        return None
    parts = urlsplit(source.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc


# ---------------------------------------------------------------------------------------
# Writing


@dataclass
class _Plan:
    """What the written file must say, worked out before any text is touched."""

    sources: list[dict[str, Any]]
    categories: dict[str, list[tuple[str, Any, Dependency]]]
    python: dict[str, str]
    pre: bool
    losses: list[Loss]


def dumps(env: Environment, existing: str | None = None) -> Rendered:
    """Write ``env`` as a Pipfile; with ``existing``, merge into it.

    Merging changes only what this format owns: the ``[[source]]`` list, the package
    categories, ``[requires]``'s Python keys and ``[pipenv] allow_prereleases``. An entry
    that already says what the model says is left byte for byte; a changed one keeps its
    style (a string, an inline table, a ``[packages.NAME]`` table). Custom categories we
    empty are removed; ``[packages]`` and ``[dev-packages]`` stay, as pipenv keeps them.
    """
    layout = _template_layout() if existing is None else None
    if layout is not None:  # a new file, written as text
        plan = _plan(env, layout[0])
        return Rendered(_new_text(plan, layout[1]), tuple(plan.losses))
    import tomlkit

    text = template("Pipfile") if existing is None else existing
    loads(text, "Pipfile")  # a malformed existing file is the user's error, with a caret
    raw = loads_toml(text, "Pipfile")
    plan = _plan(env, raw.get("source", []))
    if not raw.get("source") and plan.sources != [_default_like(raw.get("source", []))]:
        text = _sources_text(plan.sources) + ("" if text.startswith("\n") else "\n") + text
    try:
        doc = tomlkit.parse(text)
    except Exception as exc:  # tomlkit is stricter than tomllib in a few corners
        raise EnvkitError(f"cannot edit this Pipfile: {exc}") from None
    _merge_sources(doc, plan.sources)
    context = _reader_for(plan.sources)
    for category in [*(c for c in doc if c not in RESERVED or c in ("packages", "dev-packages"))]:
        if category not in plan.categories:
            _merge_category(doc, category, [], context)
    for category, entries in plan.categories.items():
        _merge_category(doc, category, entries, context)
    _merge_requires(doc, plan.python)
    _merge_pre(doc, plan.pre)
    out = tomlkit.dumps(doc)
    if out.endswith("\n\n") and not text.endswith("\n\n"):
        out = out.rstrip("\n") + "\n"  # a table we removed at the end leaves its blank line
    return Rendered(out, tuple(plan.losses))


def _new_text(plan: _Plan, layout: tuple[str, ...]) -> str:
    """A new Pipfile as text: the template's tables (``layout``) with the plan filled in,
    byte for byte what merging the plan into the template with tomlkit gives: tables one
    blank line apart, the sources first, then the template's categories, the other
    categories, ``[requires]`` and ``[pipenv]``."""
    blocks = [_source_text(table) for table in plan.sources]
    order = list(plan.categories)
    for category in layout:
        entries = plan.categories.get(category, [])
        block = f"[{toml_key(category)}]\n" + "".join(entry_line(k, v, d.comment) + "\n" for k, v, d in entries)
        if entries and category == layout[-1] and any(c not in layout for c in order[: order.index(category)]):
            # tomlkit's quirk, kept: a category appended after the template's last table
            # before that table is filled leaves it a second blank line
            block += "\n"
        blocks.append(block)
    for category, entries in plan.categories.items():
        if category not in layout:
            lines = "".join(entry_line(k, v, d.comment) + "\n" for k, v, d in entries)
            blocks.append(f"[{toml_key(category)}]\n" + lines)
    if plan.python:
        blocks.append("[requires]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in plan.python.items()))
    if plan.pre:
        blocks.append("[pipenv]\nallow_prereleases = true\n")
    return "\n".join(blocks)


def _source_text(table: Mapping[str, Any]) -> str:
    return "[[source]]\n" + "".join(f"{k} = {toml_value(table[k])}\n" for k in ("url", "verify_ssl", "name"))


@cache
def _template_layout() -> Optional[tuple[Any, tuple[str, ...]]]:
    """``(its sources, its category names)`` when ``templates/Pipfile`` is one default
    ``[[source]]`` and empty categories, written as :func:`_new_text` writes them (as
    shipped); ``None`` for any other template, which is then merged into with tomlkit."""
    text = template("Pipfile")
    try:
        data = loads_toml(text, "Pipfile")
    except ParseError:
        return None
    sources = data.get("source")
    layout = tuple(k for k in data if k != "source")
    if (
        not isinstance(sources, list)
        or len(sources) != 1
        or not isinstance(sources[0], dict)
        or list(sources[0]) != ["url", "verify_ssl", "name"]
        or _default_like(sources) != sources[0]
        or any(data[k] != {} or (k in RESERVED and k not in ("packages", "dev-packages")) for k in layout)
        or next(iter(data)) != "source"
    ):
        return None
    if text != "\n".join([_source_text(sources[0])] + [f"[{toml_key(k)}]\n" for k in layout]):
        return None
    return sources, layout


def _default_like(existing_sources: Any) -> dict[str, Any]:
    first = existing_sources[0] if isinstance(existing_sources, list) and existing_sources else None
    if isinstance(first, dict) and _source_is_default(first):
        return {"url": first["url"], "verify_ssl": first.get("verify_ssl", True), "name": first.get("name", "pypi")}
    return dict(DEFAULT_SOURCE)


def _source_is_default(table: Mapping[str, Any]) -> bool:
    url = table.get("url")
    verify = table.get("verify_ssl", True)
    if not isinstance(url, str) or not isinstance(verify, bool):
        return False
    return is_default_source(Source.from_url("index", url, verify_ssl=verify))


def _sources_text(sources: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(_source_text(table) for table in sources)


# -- the plan ---------------------------------------------------------------------------


def _plan(env: Environment, existing_sources: Any) -> _Plan:
    losses: list[Loss] = []
    sources = _plan_sources(env, existing_sources, losses)
    named = {s["name"] for s in sources}
    context = _reader_for(sources)
    categories: dict[str, list[tuple[str, Any, Dependency]]] = {}
    keys_taken: dict[str, set[str]] = {}
    no_binary = {n for n in env.options.no_binary if n != ":all:"}
    used_no_binary: set[str] = set()
    for dep in env.requirements:
        if dep.constraint:
            losses.append(
                Loss("lost", str(dep), "pipenv has no constraints (pip's -c); a Pipfile cannot say it", dep.origin)
            )
            continue
        category = group_category(dep.group)
        if (
            dep.group is not None
            and dep.group != "dev"
            and (category in RESERVED or category in ("default", "develop"))
        ):
            losses.append(Loss("lost", str(dep), f"group {dep.group!r} is a reserved Pipfile table name", dep.origin))
            continue
        taken = keys_taken.setdefault(category, set())
        written = _entry(dep, named, no_binary, taken, losses)
        if written is None:
            continue
        key, value, expected = written
        if canonicalize_name(key) in no_binary:
            used_no_binary.add(canonicalize_name(key))
        taken.add(canonicalize_name(key))
        _check_reread(context, key, value, expected, category, losses)
        categories.setdefault(category, []).append((key, value, expected))
    for name in env.options.no_binary:
        if name not in used_no_binary:
            losses.append(
                Loss(
                    "lost",
                    f"--no-binary {name}",
                    "pipenv marks packages it lists with no_binary = true; "
                    + ("it has no ':all:'" if name == ":all:" else f"{name!r} is not listed"),
                )
            )
    _plan_options(env, losses)
    _plan_conda(env, losses)
    return _Plan(sources, categories, _plan_python(env.python, losses), env.options.pre, losses)


def _plan_sources(env: Environment, existing_sources: Any, losses: list[Loss]) -> list[dict[str, Any]]:
    """The ``[[source]]`` tables: the index (or pipenv's default) first, then extra indexes."""
    existing_names: dict[str, str] = {}
    if isinstance(existing_sources, list):
        for table in existing_sources:
            if isinstance(table, dict) and isinstance(table.get("url"), str) and isinstance(table.get("name"), str):
                existing_names.setdefault(table["url"], table["name"])
    taken = {s.name for s in env.sources if s.name}
    trusted = list(env.options.trusted_hosts)
    used_hosts: set[str] = set()
    result: list[dict[str, Any]] = []
    index = env.index_source()
    if index is None:
        default = _default_like(existing_sources)
        if default["name"] in taken:
            default["name"] = _unique("pypi-default", taken)
        taken.add(default["name"])
        result.append(default)
    chosen = [s for s in env.sources if s is index or s.kind == "extra-index"]
    for source in env.sources:
        if source.kind == "find-links":
            losses.append(
                Loss(
                    "lost",
                    f"--find-links {source.redacted_url()}",
                    "pipenv has no find-links; only [[source]] indexes",
                    source.origin,
                )
            )
    for source in chosen:
        name = source.name or existing_names.get(source.full_url()) or _unique(_host_name(source.url), taken)
        taken.add(name)
        subject = f"source {source.redacted_url()}"
        if source.name is None:
            losses.append(Loss("transformed", subject, f"a Pipfile source needs a name; named {name!r}", source.origin))
        if source.priority is not None:
            losses.append(
                Loss(
                    "lost",
                    f"source {name} (priority {source.priority})",
                    "pipenv has no source priority: its first source serves every package, the others only "
                    "the packages that name them with index = ...",
                    source.origin,
                )
            )
        host = urlsplit(source.url).netloc
        verify = source.verify_ssl
        if host in trusted:
            used_hosts.add(host)
            if verify:
                verify = False
                losses.append(
                    Loss(
                        "transformed",
                        f"--trusted-host {host}",
                        f"written as verify_ssl = false on source {name!r}",
                        source.origin,
                    )
                )
        if source.kind == "extra-index" and not any(d.index == source.name and source.name for d in env.requirements):
            losses.append(
                Loss(
                    "transformed",
                    subject,
                    "pipenv looks up a package on a secondary source only when the package names it with "
                    f"index = {name!r}; pip searched it for every package",
                    source.origin,
                )
            )
        result.append({"url": source.full_url(), "verify_ssl": verify, "name": name})
    for host in trusted:
        if host not in used_hosts:
            losses.append(
                Loss(
                    "lost",
                    f"--trusted-host {host}",
                    "a Pipfile trusts a host only through verify_ssl = false on a [[source]] of that host",
                )
            )
    _check_sources(env, chosen, losses)
    return result


def _check_sources(env: Environment, chosen: list[Source], losses: list[Loss]) -> None:
    """Report what pipenv reads back otherwise than the model has it (see :func:`loads`)."""
    for source in chosen:
        subject = f"source {source.redacted_url()}"
        if is_default_source(source):
            reason = "PyPI is pipenv's default first source; it reads back as no index (pip's default)"
            losses.append(Loss("transformed", subject, reason, source.origin))
        host = trusted_host(source)
        if host is not None and host not in env.options.trusted_hosts:
            reason = f"pipenv passes --trusted-host {host} to pip for a source with verify_ssl = false"
            losses.append(Loss("transformed", subject, reason, source.origin))


def _host_name(url: str) -> str:
    """A source name from a URL's host: ``download.pytorch.org`` -> ``download-pytorch-org``."""
    host = urlsplit(url).netloc.rsplit("@", 1)[-1].lower()
    name = re.sub(r"[^a-z0-9]+", "-", host).strip("-")
    return name or "index"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def _reader_for(sources: Sequence[Mapping[str, Any]]) -> Context:
    """A reading context that knows the sources the written file will have."""
    context = Context("Pipfile", Spots())
    context.read_sources(list(sources), ("source",))
    return context


def _plan_python(python: Optional[SpecifierSet], losses: list[Loss]) -> dict[str, str]:
    """``[requires]``: ``==3.11.*`` -> python_version, ``==3.11.4`` -> python_full_version
    (both when both are given, as pipenv writes them); anything else is lost."""
    if python is None:
        return {}
    result: dict[str, str] = {}
    for spec in dict.fromkeys(sorted(python, key=str)):  # packaging dedupes a set only lazily
        version = spec.version
        if spec.operator != "==":
            break
        if version.endswith(".*") and re.fullmatch(r"\d+(\.\d+)*", version[:-2]):
            key, value = "python_version", version[:-2]
        elif "*" not in version and "+" not in version:
            key, value = "python_full_version", version
        else:
            break
        if key in result:
            break
        result[key] = value
    else:
        return dict(sorted(result.items(), key=lambda item: item[0] != "python_version"))
    losses.append(
        Loss(
            "lost",
            f"python {python}",
            "a Pipfile [requires] takes one Python version (python_version = '3.11' or "
            "python_full_version = '3.11.4'), not a range",
        )
    )
    return {}


def _plan_options(env: Environment, losses: list[Loss]) -> None:
    opts = env.options
    flags = (
        ("--no-index", opts.no_index, "pipenv always uses its [[source]] indexes"),
        ("--prefer-binary", opts.prefer_binary, "a Pipfile has no such setting"),
        (
            "--require-hashes",
            opts.require_hashes,
            "pipenv checks the hashes it records in Pipfile.lock; a Pipfile has no switch",
        ),
        ("--no-require-hashes", opts.no_require_hashes, "a Pipfile has no such setting"),
    )
    for flag, on, why in flags:
        if on:
            losses.append(Loss("lost", flag, why))
    for flag, values in (
        ("--only-binary", opts.only_binary),
        ("--all-releases", opts.all_releases),
        ("--only-final", opts.only_final),
        ("--use-feature", opts.use_features),
    ):
        for value in values:
            losses.append(Loss("lost", f"{flag} {value}", "a Pipfile has no such setting"))


def _plan_conda(env: Environment, losses: list[Loss]) -> None:
    for spec in env.conda:
        losses.append(Loss("lost", spec, "a conda-only package has no Pipfile equivalent"))
    for channel in env.channels:
        losses.append(Loss("lost", f"channel {channel}", "a Pipfile has no conda channels"))
    for name, value in env.variables:
        losses.append(Loss("lost", f"variable {name}={value}", "a Pipfile has no environment variables"))


# -- one entry --------------------------------------------------------------------------


def _entry(
    dep: Dependency, sources: set[str], no_binary: set[str], taken: set[str], losses: list[Loss]
) -> Optional[tuple[str, Any, Dependency]]:
    """``(key, value, what it reads back as)`` for ``dep``; ``None`` when it cannot be written."""
    subject = str(dep)
    key = dep.name or _guess_name(dep)
    if dep.name is None:
        guess, n = key, 2
        while canonicalize_name(key) in taken:
            key, n = f"{guess}-{n}", n + 1
        losses.append(
            Loss(
                "transformed",
                subject,
                f"a Pipfile entry needs a name; written as {key!r} (pip takes the real name from the build)",
                dep.origin,
            )
        )
    if canonicalize_name(key) in taken:
        losses.append(
            Loss(
                "lost",
                subject,
                f"a Pipfile category holds one entry per package and {key!r} is already written",
                dep.origin,
            )
        )
        return None
    table: dict[str, Any] = {}
    expected = dep
    if (dep.name, dep.hashes, dep.global_options, dep.channel, dep.constraint) != (key, (), (), None, False):
        expected = dep.with_changes(name=key, hashes=(), global_options=(), channel=None, constraint=False)
    if dep.url and dep.is_vcs:
        vcs, base, ref, known, _ = split_vcs_url(dep.url)
        table[vcs] = base
        if ref:
            table["ref"] = ref
        if "subdirectory" in known:
            table["subdirectory"] = known["subdirectory"]
    elif dep.url:
        table["file"] = dep.url
    elif dep.path:
        table["path"] = dep.path
    else:
        table["version"] = str(dep.specifier) or "*"
    if dep.extras:
        table["extras"] = sorted(dep.extras)
    if dep.marker is not None:
        table["markers"] = _marker_text(dep.marker)
    if dep.index is not None:
        if dep.index in sources:
            table["index"] = dep.index
        else:
            expected = expected.with_changes(index=None)
            losses.append(Loss("lost", subject, f"index {dep.index!r} names no source of this Pipfile", dep.origin))
    if dep.editable:
        table["editable"] = True
    if canonicalize_name(key) in no_binary:
        table["no_binary"] = True
    if dep.config_settings:
        table["pip_args"] = [arg for k, v in dep.config_settings for arg in ("--config-settings", f"{k}={v}")]
    if dep.hashes:
        losses.append(
            Loss(
                "lost",
                subject,
                "pipenv records hashes in Pipfile.lock when it locks; a Pipfile does not declare them",
                dep.origin,
            )
        )
    for option in dep.global_options:
        losses.append(
            Loss("lost", f"{subject} --global-option {option}", "pip 25.3 and newer reject --global-option", dep.origin)
        )
    if dep.channel is not None:
        losses.append(Loss("lost", subject, f"a Pipfile cannot pin the conda channel {dep.channel!r}", dep.origin))
    if list(table) == ["version"]:
        return key, table["version"], expected
    return key, table, expected


def _check_reread(
    context: Context, key: str, value: Any, expected: Dependency, category: str, losses: list[Loss]
) -> None:
    """Report a ``transformed`` loss when ``value`` reads back as something else."""
    group = category_group(category)
    try:
        back = context.read_entry(key, value, group, (category, key))
    except EnvkitError as exc:  # pragma: no cover - a writer bug, surfaced as a loss
        losses.append(Loss("lost", str(expected), f"cannot be written in a Pipfile: {exc}", expected.origin))
        return
    if back != expected:
        losses.append(
            Loss(
                "transformed",
                str(expected),
                f"a Pipfile spells it differently; it reads back as {describe(back)}",
                expected.origin,
            )
        )


def describe(dep: Dependency) -> str:
    """A one-line PEP 508-like text of ``dep``, for messages."""
    if dep.name and (dep.url or not dep.path):
        text = dep.pep508()
    else:
        text = f"{dep.name or ''}{'[' + ','.join(sorted(dep.extras)) + ']' if dep.extras else ''} from {dep.path}"
        if dep.marker is not None:
            text += f"; {dep.marker}"
    return ("-e " if dep.editable else "") + text


def _marker_text(marker: Marker) -> str:
    """A marker with single quotes, as pipenv writes them (readable inside a TOML string)."""
    text = str(marker)
    return text.replace('"', "'") if "'" not in text else text


def _guess_name(dep: Dependency) -> str:
    """A key for an unnamed requirement: from a wheel, an ``#egg=``, a repository or a folder."""
    where = dep.url or dep.path or ""
    if dep.url and dep.is_vcs:
        _, base, _, known, _ = split_vcs_url(dep.url)
        if known.get("egg"):
            return known["egg"].split("[")[0]
        stem = posixpath.basename(urlsplit(base).path.rstrip("/"))
        stem = stem[:-4] if stem.endswith(".git") else stem
    else:
        path = urlsplit(where).path if _URL_SCHEME.match(where) else where.replace("\\", "/")
        stem = unquote(posixpath.basename(path.rstrip("/")))
        if stem.lower().endswith(".whl"):
            try:
                return str(parse_wheel_filename(stem)[0])
            except InvalidWheelFilename:
                pass
        stem = re.sub(r"(\.tar\.(gz|bz2|xz)|\.zip|\.tgz|\.tar)$", "", stem, flags=re.IGNORECASE)
        stem = re.sub(r"-\d.*$", "", stem)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")
    return stem or "local-project"


# -- merging into the document ----------------------------------------------------------


def _merge_sources(doc: Any, sources: list[dict[str, Any]]) -> None:
    import tomlkit

    current = doc.get("source")
    if current is None:
        return  # none written and none wanted (pipenv's default), or prepended as text
    plain = [_source_plain(t) for t in current]
    if plain == sources:
        return
    for i, want in enumerate(sources):
        if i < len(current):
            table = current[i]
            for key in ("url", "verify_ssl", "name"):
                if key == "verify_ssl" and "verify_ssl" not in table and want[key] is True:
                    continue
                if table.get(key) != want[key]:
                    table[key] = want[key]
        else:
            table = tomlkit.table()
            for key in ("url", "verify_ssl", "name"):
                table[key] = want[key]
            table.add(tomlkit.nl())
            current.append(table)
    while len(current) > len(sources):
        del current[len(current) - 1]


def _source_plain(table: Mapping[str, Any]) -> dict[str, Any]:
    return {"url": table.get("url"), "verify_ssl": table.get("verify_ssl", True), "name": table.get("name")}


def _merge_category(doc: Any, category: str, entries: list[tuple[str, Any, Dependency]], context: Context) -> None:
    from tomlkit.items import Whitespace

    wanted = {canonicalize_name(key): (key, value, dep) for key, value, dep in entries}
    table = doc.get(category)
    if table is None:
        if entries:
            doc[category] = _parsed_table(category, entries, "")
        return
    had_entries = len(table) > 0
    group = category_group(category)
    for key in list(table.keys()):
        found = wanted.pop(canonicalize_name(key), None)
        if found is None:
            del table[key]
            continue
        _, value, dep = found
        if _same(context, key, table[key], value, group, category):
            continue
        _replace(table, key, value, dep)
    new = [(key, value, dep) for key, value, dep in entries if canonicalize_name(key) in wanted]
    body = table.value.body
    if new and all(isinstance(item, Whitespace) for _, item in body):
        # An empty table (the usual [dev-packages]): one parse, not one append per entry.
        replacement = _parsed_table(category, new, "".join(item.as_string() for _, item in body))
        for part in ("indent", "comment_ws", "comment", "trail"):  # the header's own comment
            setattr(replacement.trivia, part, getattr(table.trivia, part))
        doc[category] = replacement
        return
    for key, value, dep in new:
        table[key] = _item(key, value, dep.comment)
    if had_entries and len(table) == 0 and category not in ("packages", "dev-packages"):
        del doc[category]


def _parsed_table(category: str, entries: list[tuple[str, Any, Dependency]], tail: str) -> Any:
    """A tomlkit table ``[category]`` holding ``entries``, followed by ``tail`` whitespace."""
    import tomlkit

    lines = "".join(entry_line(key, value, dep.comment) + "\n" for key, value, dep in entries)
    return tomlkit.parse(f"[{toml_key(category)}]\n{lines}{tail}")[category]


def entry_line(key: str, value: Any, comment: Optional[str]) -> str:
    """One ``key = value`` line, with a trailing comment when given."""
    text = f"{toml_key(key)} = {toml_value(value)}"
    if comment:
        text += "  # " + " ".join(comment.split())
    return text


toml_key = _toml_text.key
toml_value = _toml_text.value


def _same(context: Context, key: str, item: Any, value: Any, group: Optional[str], category: str) -> bool:
    """True when the written ``item`` already reads as ``value`` does (in the new file)."""
    plain = item.unwrap() if hasattr(item, "unwrap") else item
    try:
        have = context.read_entry(key, plain, group, (category, key))
        want = context.read_entry(key, value, group, (category, key))
    except EnvkitError:
        return False
    return have == want and bool(_get(plain, "no_binary")) == bool(_get(value, "no_binary"))


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _replace(table: Any, key: str, value: Any, dep: Dependency) -> None:
    """Put ``value`` under ``key``, keeping the existing entry's style where it can."""
    import tomlkit
    from tomlkit.items import InlineTable, Table

    current = table[key]
    want = value if isinstance(value, dict) else {"version": value}
    if isinstance(current, Table) or (isinstance(current, InlineTable) and set(current.keys()) <= set(want)):
        for k in list(current.keys()):
            if k not in want:
                del current[k]
        for k, v in want.items():
            if current.get(k) != v:
                current[k] = v
        return
    if isinstance(current, InlineTable):  # removing keys from an inline table leaves odd spacing: rebuild
        table[key] = _item(key, want, None)
        return
    if isinstance(value, dict):
        table[key] = _item(key, value, dep.comment)
    else:
        table[key] = tomlkit.string(value)


def _item(key: str, value: Any, comment: Optional[str]) -> Any:
    """The tomlkit item for one entry, written as :func:`entry_line` writes it."""
    import tomlkit

    return tomlkit.parse(entry_line(key, value, comment) + "\n")[key]


def _merge_requires(doc: Any, python: dict[str, str]) -> None:
    import tomlkit

    table = doc.get("requires")
    keys = ("python_version", "python_full_version")
    if table is None:
        if not python:
            return
        table = tomlkit.table()
        doc["requires"] = table
    had = len(table) > 0
    for key in keys:
        if key in table and key not in python:
            del table[key]
    for key, value in python.items():
        if table.get(key) != value:
            table[key] = value
    if had and len(table) == 0:
        del doc["requires"]


def _merge_pre(doc: Any, pre: bool) -> None:
    import tomlkit

    table = doc.get("pipenv")
    if table is None:
        if not pre:
            return
        table = tomlkit.table()
        doc["pipenv"] = table
    if pre and table.get("allow_prereleases") is not True:
        table["allow_prereleases"] = True
    elif not pre and table.get("allow_prereleases") is True:
        del table["allow_prereleases"]
        if len(table) == 0:
            del doc["pipenv"]
