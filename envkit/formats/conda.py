"""conda's ``environment.yml``: read, and written in two modes.

Grammar (``conda env create``'s file; YAML)::

    name: NAME                 the environment's name
    channels: [CHANNEL, ...]   searched in order (``nodefaults`` drops the defaults)
    dependencies:
      - MATCHSPEC              [channel::]name[version[build]], see :mod:`._conda_specs`
      - pip:                   a requirements file, one item per line: options (-i,
          - LINE               --extra-index-url, -f, --trusted-host...), -r/-c includes
                               (relative to environment.yml), -e, URLs, VCS, hashes
    variables: {NAME: VALUE}   set when the environment is activated
    prefix: PATH               machine-specific: ignored, with a warning

**Reading.** ``python=3.11`` is the interpreter constraint (conda's ``3.11`` means
``3.11.*``). Every other MatchSpec is classified by its conda name with the name table
(:func:`load_name_table`; the rules are in ``envkit/data/conda_names.toml``): a Python
package the table knows (``pytorch`` -> ``torch``), or a name it does not know (presumed to
be the PyPI project of the same name), becomes a :class:`~envkit.model.Dependency` with its
PyPI name, its version spec translated exactly to PEP 440 (:mod:`._conda_specs`) and
``channel`` set for ``channel::name``; a conda-only package (CUDA, MKL, compilers, C
libraries, R, ``pip``...) goes to :attr:`Environment.conda` as written. A Python package
whose spec has no exact PEP 440 form (a build string, ``|``, pre-release letters) is kept
as conda-only, with a warning saying why. A bare ``pip`` beside a non-empty ``pip:`` list
is implied by it and not recorded (it is written back with it). The ``pip:`` list is a
requirements file read by :func:`envkit.formats.requirements.loads`, ``-r``/``-c``
relative to environment.yml; its errors and origins point into environment.yml.

**Writing** (:func:`dumps`). ``mode="native"`` (the default) installs a requirement from
conda channels when conda carries it exactly: a name the table knows (or one the existing
file already lists as a conda package, or one with a channel), no URL, path, editable,
hashes, extras, marker, per-requirement options or named index, and a specifier that
translates exactly. Everything else -- and a package the existing file has under ``pip:``
-- goes under ``pip:``, after pip's options as option lines; those options then apply to
pip's part only, which is reported. ``mode="pip"`` is MLflow's choice: python and pip from
conda, every requirement under ``pip:``. Conda-only packages are written as they are in
both modes, and ``pip`` itself whenever ``pip:`` is present. Constraints go to a companion
file, ``constraints.txt`` (or the existing file's own ``-c FILE``), in :attr:`Rendered.files`,
named by a ``-c`` line. A new file starts from
``templates/environment.yml``, with the environment's channels or conda-forge.

**Merging** into an existing file changes ``dependencies`` only, plus the channels it
lacks and ``variables`` when it has none (its own are kept; a different value is
reported). ruamel.yaml's round-trip parser locates every item; an item that already says
what the environment says is left alone, one that changed is rewritten in place (its
comment and the file's indentation kept), the rest are removed or added, so the file reads
back as the environment. Every other byte -- comments, order, ``name``, unrelated keys --
stays as it was. ``-r FILE`` lines under ``pip:`` that requirements were read through are
kept.
"""

from __future__ import annotations

import json
import posixpath
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from ..errors import EnvkitError, ParseError
from ..model import Dependency, Diagnostic, Environment, Origin
from . import requirements
from ._base import Loss, Opener, Rendered
from ._conda_specs import (
    InexactSpec,
    InvalidCondaSpec,
    conda_to_pip,
    matchspec_string,
    parse_matchspec,
    pip_to_conda,
)
from ._templates import template
from ._toml import find_key_line, loads_toml

__all__ = ["FILENAMES", "MODES", "NAME", "NameTable", "detect", "dumps", "load_name_table", "loads"]

NAME = "conda"
FILENAMES = ("environment.yml", "environment.yaml", "conda.yaml", "conda.yml")
MODES = ("native", "pip")
DEFAULT_CHANNEL = "conda-forge"

_KNOWN_KEYS = ("name", "channels", "dependencies", "variables", "prefix")
_DEPENDENCIES_RE = re.compile(r"(?m)^dependencies[ \t]*:")


# ---------------------------------------------------------------------------------------
# The PyPI <-> conda-forge name table


@dataclass(frozen=True)
class NameTable:
    """PyPI <-> conda names and the conda-only rules (see ``envkit/data/conda_names.toml``)."""

    to_conda: Mapping[str, str]  # normalized PyPI name -> conda-forge name
    to_pypi: Mapping[str, str]  # conda name (lower case, aliases too) -> PyPI name
    sources: Mapping[str, str]  # normalized PyPI name -> where the entry was checked
    conda_only: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()

    def conda_name(self, pypi_name: str) -> Optional[str]:
        """The conda-forge name of PyPI project ``pypi_name``, ``None`` when unknown."""
        return self.to_conda.get(canonicalize_name(pypi_name))

    def pypi_name(self, conda_name: str) -> Optional[str]:
        """The PyPI project conda package ``conda_name`` stands for, ``None`` when unknown."""
        return self.to_pypi.get(conda_name.lower())

    def is_conda_only(self, conda_name: str) -> bool:
        """True for a conda package no Python installer can stand in for."""
        name = conda_name.lower()
        if name in self.to_pypi:
            return False
        return name in self.conda_only or name.startswith(self.prefixes) or name.endswith(self.suffixes)


@cache
def _builtin_text() -> str:
    """The package data file ``envkit/data/conda_names.toml`` (shipped in the wheel)."""
    return (Path(__file__).resolve().parent.parent / "data" / "conda_names.toml").read_text(encoding="utf-8")


@cache
def _builtin_table() -> NameTable:
    return _table_from([(_builtin_text(), "envkit/data/conda_names.toml")])


def load_name_table(extra_text: str | None = None, path: str = "conda-names.toml") -> NameTable:
    """The built-in name table, extended by ``extra_text`` (same TOML shape; its entries win).

    ``path`` names the extra text in error messages. Pure: the caller reads the file.
    """
    if extra_text is None:
        return _builtin_table()
    return _table_from([(_builtin_text(), "envkit/data/conda_names.toml"), (extra_text, path)])


def _table_from(texts: list[tuple[str, str]]) -> NameTable:
    to_conda: dict[str, str] = {}
    to_pypi: dict[str, str] = {}
    sources: dict[str, str] = {}
    conda_only: set[str] = set()
    prefixes: list[str] = []
    suffixes: list[str] = []
    for text, path in texts:
        data = loads_toml(text, path)
        for key, entry in _table(data, "pypi", text, path).items():
            aliases = entry.get("aliases", []) if isinstance(entry, dict) else None
            problem = None
            if not isinstance(entry, dict) or not isinstance(entry.get("conda"), str):
                problem = "expected a table with a string 'conda' (the conda-forge name)"
            elif not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                problem = "'aliases' must be a list of strings"
            if problem is not None:
                line, column, shown = find_key_line(text, key, "pypi")
                raise ParseError(
                    f"[pypi] {key}: {problem}", path=path, line=line, column=column, text=shown, width=len(key)
                )
            assert isinstance(entry, dict) and isinstance(aliases, list)
            pypi = canonicalize_name(key)
            to_conda[pypi] = entry["conda"]
            sources[pypi] = str(entry.get("source", path))
            for conda in (entry["conda"], *aliases):
                to_pypi[conda.lower()] = pypi
        rules = _table(data, "conda-only", text, path)
        for field_name, target in (("names", None), ("prefixes", prefixes), ("suffixes", suffixes)):
            values = rules.get(field_name, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                line, column, shown = find_key_line(text, field_name, "conda-only")
                raise ParseError(
                    f"[conda-only] {field_name} must be a list of strings",
                    path=path,
                    line=line,
                    column=column,
                    text=shown,
                    width=len(field_name),
                )
            if target is None:
                conda_only.update(v.lower() for v in values)
            else:
                target.extend(v.lower() for v in values)
    return NameTable(to_conda, to_pypi, sources, frozenset(conda_only), tuple(prefixes), tuple(suffixes))


def _table(data: dict[str, Any], key: str, text: str, path: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        line, column, shown = find_key_line(text, key)
        raise ParseError(f"'{key}' must be a table", path=path, line=line, column=column, text=shown, width=len(key))
    return value


# ---------------------------------------------------------------------------------------
# Detection


def detect(path: str | None, text: str) -> bool:
    """True for a conventional file name, or YAML with a top-level ``dependencies:`` key."""
    if path is not None:
        base = posixpath.basename(path.replace("\\", "/")).lower()
        if base in FILENAMES:
            return True
        if not base.endswith((".yml", ".yaml")):
            return False
    return _DEPENDENCIES_RE.search(text) is not None


# ---------------------------------------------------------------------------------------
# YAML with positions


def _load_yaml(text: str, path: str) -> Any:
    """ruamel.yaml's round-trip tree of ``text``; a syntax error becomes a :class:`ParseError`.

    A file in the plain block style conda files are written in (and envkit writes) is read
    by :func:`_fast_yaml` instead, into the same values at the same positions.
    """
    fast = _fast_yaml(text)
    if fast is not _UNREAD:
        return fast
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    try:
        with warnings.catch_warnings():  # e.g. a reused anchor: legal YAML, not ours to print
            warnings.simplefilter("ignore")
            return yaml.load(text)
    except (TypeError, ValueError, RecursionError) as exc:  # ruamel.yaml's own failures (a list as a key)
        raise ParseError(
            f"invalid YAML: {exc}", path=path, line=1, column=1, text=_split_lines(text + "\n")[0]
        ) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        if mark is None and hasattr(exc, "position"):  # a ReaderError: a character offset
            before = text[: exc.position]
            line = before.count("\n") + 1
            column = len(before) - before.rfind("\n")
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        lines = _split_lines(text)
        shown = lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""
        raise ParseError(f"invalid YAML: {problem}", path=path, line=line, column=column, text=shown) from None


_SCALARS = (str, int, float, bool, type(None))


def _is_map(node: Any) -> bool:
    if isinstance(node, _FastMap):
        return True
    if isinstance(node, (*_SCALARS, _FastSeq)):
        return False
    from ruamel.yaml.comments import CommentedMap

    return isinstance(node, CommentedMap)


def _is_seq(node: Any) -> bool:
    if isinstance(node, _FastSeq):
        return True
    if isinstance(node, (*_SCALARS, _FastMap)):
        return False
    from ruamel.yaml.comments import CommentedSeq

    return isinstance(node, CommentedSeq)


# -- the block style, read fast ---------------------------------------------------------
#
# ruamel.yaml takes tens of milliseconds on a few hundred lines. The files conda users
# and envkit write are a small part of YAML: top-level ``key: scalar`` lines and block
# lists of scalars (one of them ``- pip:`` with a list of its own), a ``variables``
# mapping of strings, comments. :func:`_fast_yaml` reads exactly that part into what
# ruamel.yaml gives (the same values, with ruamel's ``.lc`` positions), and gives up
# (:data:`_UNREAD`) on anything else -- flow style, anchors, tags, block scalars,
# multi-line or escaped scalars, a scalar that YAML would read as a number, a boolean,
# null or a date, tabs, odd indentation, errors -- which ruamel.yaml then reads.

_UNREAD: Any = object()
#: Characters ruamel.yaml rejects or reads as line breaks, tabs, CR, BOM: ruamel's part.
_OUTSIDE_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_KEY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?: +(.*))?$")
#: What YAML may read as other than a string (a number, a date, a boolean, null, ``<<``, ``=``),
#: more broadly than ruamel.yaml's resolver: such a scalar is left to ruamel.yaml.
_NOT_A_STRING_RE = re.compile(
    r"(?i)(?:~|null|true|false|yes|no|on|off|y|n|=|<<.*|[-+]?\.?[0-9_].*|[-+]?\.(?:inf|nan))$"
)
_PLAIN_START = set(",[]{}#&*!|>%@`")


class _Positions:
    """ruamel.yaml's ``.lc`` of a node read by :func:`_fast_yaml`: (line, column), 0-based."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[int, int]] = {}
        self.values: dict[str, tuple[int, int]] = {}
        self.items: list[tuple[int, int]] = []

    def key(self, key: str) -> tuple[int, int]:
        return self.keys[key]

    def value(self, key: str) -> tuple[int, int]:
        return self.values[key]

    def item(self, index: int) -> tuple[int, int]:
        return self.items[index]


class _BlockStyle:
    """ruamel.yaml's ``.fa`` of a node read by :func:`_fast_yaml`: always block style."""

    @staticmethod
    def flow_style() -> bool:
        return False


class _FastMap(dict):  # type: ignore[type-arg]
    fa = _BlockStyle()

    def __init__(self) -> None:
        super().__init__()
        self.lc = _Positions()


class _FastSeq(list):  # type: ignore[type-arg]
    fa = _BlockStyle()

    def __init__(self) -> None:
        super().__init__()
        self.lc = _Positions()


def _fast_scalar(text: str) -> Any:
    """The scalar at the start of ``text`` (a value, its comment after it): a string, or
    ``None`` for nothing but a comment, or :data:`_UNREAD`."""
    if not text or text[0] == "#":
        return None
    if text[0] == "'":
        end = 1
        while True:
            end = text.find("'", end)
            if end < 0:
                return _UNREAD
            if text[end + 1 : end + 2] != "'":
                break
            end += 2
        value, rest = text[1:end].replace("''", "'"), text[end + 1 :]
    elif text[0] == '"':
        end = text.find('"', 1)
        if end < 0 or "\\" in text[1:end]:
            return _UNREAD
        value, rest = text[1:end], text[end + 1 :]
    else:
        if text[0] in _PLAIN_START or (text[0] in "-?:" and text[1:2] in ("", " ")):
            return _UNREAD
        comment = re.search(r" #", text)
        value = (text[: comment.start()] if comment else text).rstrip(" ")
        if ": " in value or value.endswith(":") or _NOT_A_STRING_RE.match(value):
            return _UNREAD
        return value
    stripped = rest.lstrip(" ")
    if stripped and (stripped[0] != "#" or stripped == rest):
        return _UNREAD
    return value


def _fast_yaml(text: str) -> Any:
    """``text`` read as :func:`_load_yaml` reads it when it is in the plain block style
    (see above); :data:`_UNREAD` when it is not."""
    if _OUTSIDE_RE.search(text):
        return _UNREAD
    lines: list[tuple[int, int, str]] = []  # (line, indent, text) of each line that says something
    for number, line in enumerate(text.split("\n")):
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            continue
        if line.startswith(("---", "...", "%")):
            return _UNREAD
        lines.append((number, len(line) - len(body), line))
    if not lines:
        return _UNREAD
    root = _FastMap()
    at = 0
    while at < len(lines):
        number, indent, line = lines[at]
        match = _KEY_RE.match(line)
        if indent or match is None or match.group(1) in root or _NOT_A_STRING_RE.match(match.group(1)):
            return _UNREAD
        key, rest = match.group(1), match.group(2) or ""
        root.lc.keys[key] = (number, 0)
        value = _fast_scalar(rest)
        at += 1
        if value is _UNREAD:
            return _UNREAD
        if value is not None:
            root[key], root.lc.values[key] = value, (number, match.start(2))
            continue
        if at == len(lines) or (lines[at][1] == 0 and lines[at][2][:2] not in ("- ", "-")):
            root[key] = None
            root.lc.values[key] = (lines[at][0], 0) if at < len(lines) else (number + 1, 0)
            continue
        first, first_indent, first_line = lines[at]
        if first_line[first_indent] == "-":
            node, at = _fast_list(lines, at, first_indent, nested=True)
        else:
            node, at = _fast_mapping(lines, at, first_indent)
        if node is _UNREAD:
            return _UNREAD
        root[key], root.lc.values[key] = node, (first, first_indent)
    return root


def _fast_list(lines: list[tuple[int, int, str]], at: int, dash: int, *, nested: bool) -> tuple[Any, int]:
    """The block list whose items start at column ``dash`` from line ``at``; with ``nested``
    an item may be ``pip:`` (or another key) holding a block list."""
    seq = _FastSeq()
    while at < len(lines):
        number, indent, line = lines[at]
        if indent < dash or (indent == dash == 0 and line[0] != "-"):
            break
        if indent > dash or line[dash : dash + 2] != "- ":
            return _UNREAD, at
        body = line[dash + 1 :].lstrip(" ")
        col = len(line) - len(body)
        match = _KEY_RE.match(body) if nested else None
        at += 1
        if match is None:
            value = _fast_scalar(body)
            if value is None or value is _UNREAD:
                return _UNREAD, at
            seq.append(value)
            seq.lc.items.append((number, col))
            continue
        if match.group(2) and _fast_scalar(match.group(2)) is not None:
            return _UNREAD, at  # '- key: value'
        if at == len(lines) or lines[at][1] < col or lines[at][2][lines[at][1]] != "-":
            return _UNREAD, at  # '- pip:' without its list
        inner_dash = lines[at][1]
        inner, at = _fast_list(lines, at, inner_dash, nested=False)
        if inner is _UNREAD:
            return _UNREAD, at
        item = _FastMap()
        key = match.group(1)
        item[key] = inner
        item.lc.keys[key] = (number, col)
        item.lc.values[key] = (inner.lc.items[0][0], inner_dash)
        seq.append(item)
        seq.lc.items.append((number, col))
    return seq, at


def _fast_mapping(lines: list[tuple[int, int, str]], at: int, indent: int) -> tuple[Any, int]:
    """The block mapping of ``key: string`` lines at column ``indent`` from line ``at``."""
    node = _FastMap()
    while at < len(lines) and lines[at][1] >= indent:
        number, column, line = lines[at]
        match = _KEY_RE.match(line, column)
        if column != indent or match is None or match.group(1) in node or _NOT_A_STRING_RE.match(match.group(1)):
            return _UNREAD, at
        value = _fast_scalar(match.group(2) or "")
        if value is None or value is _UNREAD:
            return _UNREAD, at
        node[match.group(1)] = value
        node.lc.keys[match.group(1)] = (number, column)
        node.lc.values[match.group(1)] = (number, match.start(2))
        at += 1
    return node, at


def _scalar_text(value: Any) -> Optional[str]:
    """A YAML scalar as conda would see it (``str()`` of numbers), ``None`` for others."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _value_span(physical: str, col: int, value: str) -> Optional[tuple[int, int]]:
    """(start, end) columns of the scalar ``value`` written at ``col`` on ``physical``.

    ``start`` is where the characters of the value begin (after a quote). ``None`` when
    the scalar does not sit on this one line as written (escapes, folding).
    """
    if physical[col : col + len(value)] == value and value:
        return col, col + len(value)
    quote = physical[col : col + 1]
    if quote in ("'", '"'):
        end = col + 1
        while end < len(physical):
            if physical[end] == quote:
                if quote == "'" and physical[end + 1 : end + 2] == "'":
                    end += 2
                    continue
                return col + 1, end + 1
            end += 2 if quote == '"' and physical[end] == "\\" else 1
    return None


def _split_lines(text: str) -> list[str]:
    """``text`` cut at ``\n`` only (ends kept), as YAML counts lines: a form feed or a
    U+2028 inside a comment is not a line break to the parser, so not to us either."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    return [*out, lines[-1]] if lines[-1] else out


def _comment_after(physical: str, end: int) -> Optional[str]:
    match = re.match(r"[ \t]+#[ \t]?(.*?)\s*$", physical[end:])
    return match.group(1) if match else None


# ---------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class _Item:
    """One string of ``dependencies`` classified: the interpreter, a package, conda-only."""

    kind: Literal["python", "package", "conda"]
    name: str
    text: str
    python: Optional[SpecifierSet] = None
    dep: Optional[Dependency] = None
    why: Optional[str] = None  # why a Python package is kept as a conda-only spec


def _classify(text: str, table: NameTable, origin: Origin | None = None, comment: str | None = None) -> _Item:
    """Classify one MatchSpec; :class:`InvalidCondaSpec` when conda would reject it."""
    parts = parse_matchspec(text)
    spec_text = text.strip()
    extra = None
    if parts.build is not None:
        extra = f"the build string {parts.build!r} has no pip form"
    elif parts.brackets is not None:
        extra = f"the bracket options [{parts.brackets}] have no pip form"
    pypi = None
    if parts.key != "python":
        pypi = table.pypi_name(parts.key)
        if pypi is None:
            if table.is_conda_only(parts.key):
                return _Item("conda", parts.name, spec_text)
            pypi = parts.name  # presumed to be the PyPI project of the same name
    if extra is not None:
        return _Item("conda", parts.name, spec_text, why=extra)
    try:
        spec = conda_to_pip(parts.version or "")
    except InexactSpec as exc:
        return _Item("conda", parts.name, spec_text, why=str(exc))
    except InvalidCondaSpec as exc:
        start = parts.name_offset + len(parts.name)
        start += len(text[start:]) - len(text[start:].lstrip())
        raise InvalidCondaSpec(exc.message, start, len(text.split("#", 1)[0].rstrip()) - start) from None
    if pypi is None:
        return _Item("python", parts.name, spec_text, python=spec)
    dep = Dependency(pypi, spec, channel=parts.channel, text=spec_text, comment=comment, origin=origin)
    return _Item("package", parts.name, spec_text, dep=dep)


@dataclass
class _Reader:
    text: str
    path: str
    opener: Optional[Opener]
    table: NameTable
    lines: list[str] = field(default_factory=list)
    requirements: list[Dependency] = field(default_factory=list)
    conda: list[str] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)
    python: Optional[SpecifierSet] = None
    pip_env: Optional[Environment] = None
    pip_lines: int = 0

    def __post_init__(self) -> None:
        self.lines = [line.rstrip("\r\n") for line in _split_lines(self.text)]

    # -- positions ----------------------------------------------------------------------
    def _physical(self, line0: int) -> str:
        return self.lines[line0] if 0 <= line0 < len(self.lines) else ""

    def error(self, message: str, line0: int, col0: int, width: int = 1, hint: str | None = None) -> ParseError:
        physical = self._physical(line0)
        width = max(1, min(width, len(physical) - col0))
        return ParseError(
            message, path=self.path, line=line0 + 1, column=col0 + 1, text=physical, width=width, hint=hint
        )

    def origin(self, line0: int, col0: int) -> Origin:
        return Origin(self.path, line0 + 1, col0 + 1, self._physical(line0))

    # -- the document -------------------------------------------------------------------
    def read(self) -> Environment:
        data = _load_yaml(self.text, self.path)
        if data is None:
            return Environment(format=NAME)
        if not _is_map(data):
            raise self.error("expected a mapping with 'name', 'channels' and 'dependencies'", 0, 0, 1)
        name = self._name(data)
        channels = self._channels(data)
        variables = self._variables(data)
        for key in data:
            line0, col0 = data.lc.key(key)
            if key == "prefix":
                self.notes.append(
                    Diagnostic("'prefix' names a directory on one machine; envkit ignores it", self.origin(line0, col0))
                )
            elif key not in _KNOWN_KEYS:
                self.notes.append(
                    Diagnostic(
                        f"unknown key {key!r} is ignored (conda reads {', '.join(_KNOWN_KEYS)})",
                        self.origin(line0, col0),
                    )
                )
        if "dependencies" in data:
            self._dependencies(data)
        pip = self.pip_env or Environment()
        conda = self.conda
        if self.pip_lines:  # a bare 'pip' beside a pip: list is implied by it (and written with it)
            conda = [spec for spec in conda if spec.lower() != "pip"]
        python = self.python
        if pip.python is not None:
            python = pip.python if python is None else python & pip.python
        return Environment(
            requirements=tuple(self.requirements),
            python=python,
            sources=pip.sources,
            options=pip.options,
            conda=tuple(conda),
            channels=channels,
            variables=variables,
            name=name,
            format=NAME,
            notes=tuple(self.notes) + pip.notes,
        )

    def _value_position(self, data: Any, key: str) -> tuple[int, int]:
        line0, col0 = data.lc.value(key)
        key_line, key_col = data.lc.key(key)
        if line0 != key_line or col0 >= len(self._physical(line0)):
            return key_line, key_col
        return line0, col0

    def _name(self, data: Any) -> Optional[str]:
        if "name" not in data or data["name"] is None:
            return None
        name = _scalar_text(data["name"])
        if name is None:
            line0, col0 = self._value_position(data, "name")
            raise self.error("'name' must be a string", line0, col0)
        return name

    def _channels(self, data: Any) -> tuple[str, ...]:
        node = data.get("channels")
        if node is None:
            return ()
        if not _is_seq(node):
            line0, col0 = self._value_position(data, "channels")
            raise self.error("'channels' must be a list of channel names", line0, col0)
        out: list[str] = []
        for i, value in enumerate(node):
            channel = _scalar_text(value)
            if channel is None or not channel.strip():
                line0, col0 = node.lc.item(i)
                raise self.error("expected a channel name", line0, col0)
            out.append(channel.strip())
        return tuple(out)

    def _variables(self, data: Any) -> tuple[tuple[str, str], ...]:
        node = data.get("variables")
        if node is None:
            return ()
        if not _is_map(node):
            line0, col0 = self._value_position(data, "variables")
            raise self.error("'variables' must be a mapping of names to values", line0, col0)
        out: list[tuple[str, str]] = []
        for key in node:
            value = _scalar_text(node[key])
            if value is None or not isinstance(key, str):
                line0, col0 = node.lc.key(key)
                raise self.error(f"variable {key!r} must have a string value", line0, col0, len(str(key)))
            out.append((key, value))
        return tuple(out)

    def _dependencies(self, data: Any) -> None:
        node = data["dependencies"]
        if node is None:
            return
        if not _is_seq(node):
            line0, col0 = self._value_position(data, "dependencies")
            raise self.error("'dependencies' must be a list", line0, col0)
        for i, value in enumerate(node):
            line0, col0 = node.lc.item(i)
            if isinstance(value, str):
                self._spec(value, line0, col0)
            elif _is_map(value):
                self._installer(value)
            else:
                raise self.error("expected a package spec (a string) or 'pip:' with a list", line0, col0)

    def _spec(self, value: str, line0: int, col0: int) -> None:
        physical = self._physical(line0)
        span = _value_span(physical, col0, value)
        start = span[0] if span else col0
        comment = _comment_after(physical, span[1]) if span else None
        origin = self.origin(line0, start)
        try:
            item = _classify(value, self.table, origin, comment)
        except InvalidCondaSpec as exc:
            raise self.error(
                f"invalid package spec {value.strip()!r}: {exc.message}",
                line0,
                start + exc.offset if span else col0,
                exc.width,
            ) from None
        if item.kind == "python":
            if item.python:
                self.python = item.python if self.python is None else self.python & item.python
        elif item.kind == "package":
            assert item.dep is not None
            self.requirements.append(item.dep)
        else:
            self.conda.append(item.text)
            if item.why is not None:
                self.notes.append(Diagnostic(f"{item.text!r} is kept as a conda-only package: {item.why}", origin))

    def _installer(self, node: Any) -> None:
        for key in node:
            line0, col0 = node.lc.key(key)
            if key != "pip":
                raise self.error(
                    f"unknown installer {key!r}: conda reads only 'pip:' inside dependencies",
                    line0,
                    col0,
                    len(str(key)),
                )
            items = node[key]
            if items is None:
                continue
            if not _is_seq(items):
                value_line, value_col = node.lc.value(key)
                raise self.error("'pip:' must be a list of requirement lines", value_line, value_col)
            self._pip(items)

    def _pip(self, items: Any) -> None:
        texts: list[str] = []
        where: list[tuple[int, int, Optional[str]]] = []  # per synthetic line: line0, col0, comment
        for j, value in enumerate(items):
            line0, col0 = items.lc.item(j)
            text = _scalar_text(value)
            if text is None:
                raise self.error("expected a requirement line (a string) under 'pip:'", line0, col0)
            physical = self._physical(line0)
            span = _value_span(physical, col0, text)
            start = span[0] if span else col0
            comment = _comment_after(physical, span[1]) if span else None
            for k, piece in enumerate(text.split("\n")):
                texts.append(piece)
                where.append((line0, start if k == 0 else col0, comment if k == 0 else None))
        self.pip_lines += len(texts)
        synthetic = "\n".join(texts)
        try:
            env = requirements.loads(synthetic, self.path, opener=self.opener)
        except ParseError as exc:
            raise self._remap_error(exc, where) from None
        remap = self._remapper(where)
        deps = [
            d.with_changes(origin=remap(d.origin), comment=d.comment or self._comment(d.origin, where), installer="pip")
            for d in env.requirements
        ]
        self.requirements.extend(deps)
        env = env.with_changes(
            sources=tuple(s if s.origin is None else _replace_origin(s, remap(s.origin)) for s in env.sources),
            notes=tuple(Diagnostic(n.message, remap(n.origin)) for n in env.notes),
        )
        if self.pip_env is None:
            self.pip_env = env
        else:  # a second pip: list; conda concatenates them
            prev = self.pip_env
            self.pip_env = prev.with_changes(
                sources=prev.sources + env.sources,
                options=env.options if prev.options.is_default() else prev.options,
                notes=prev.notes + env.notes,
                python=env.python if prev.python is None else prev.python,
            )

    def _comment(self, origin: Origin | None, where: list[tuple[int, int, Optional[str]]]) -> Optional[str]:
        """The YAML comment of the pip: item that synthetic ``origin`` points into."""
        if origin is None or origin.path != self.path or not 0 < origin.line <= len(where):
            return None
        return where[origin.line - 1][2]

    def _remapper(self, where: list[tuple[int, int, Optional[str]]]) -> Callable[[Optional[Origin]], Optional[Origin]]:
        def remap(origin: Optional[Origin]) -> Optional[Origin]:
            if origin is None or origin.path != self.path or not 0 < origin.line <= len(where):
                return origin
            line0, col0, _ = where[origin.line - 1]
            return Origin(self.path, line0 + 1, col0 + origin.column, self._physical(line0))

        return remap

    def _remap_error(self, exc: ParseError, where: list[tuple[int, int, Optional[str]]]) -> ParseError:
        if exc.path != self.path or not 0 < exc.line <= len(where):
            return exc
        line0, col0, _ = where[exc.line - 1]
        physical = self._physical(line0)
        return ParseError(
            exc.reason,
            path=self.path,
            line=line0 + 1,
            column=col0 + exc.column,
            text=physical,
            width=max(1, min(exc.width, len(physical) - col0 - exc.column + 1)),
            hint=exc.hint,
        )


def _replace_origin(source: Any, origin: Optional[Origin]) -> Any:
    from dataclasses import replace

    return replace(source, origin=origin)


def loads(
    text: str,
    path: str = FILENAMES[0],
    *,
    opener: Opener | None = None,
    names: NameTable | None = None,
) -> Environment:
    """Read environment.yml ``text`` (its name ``path``) into an :class:`Environment`.

    ``-r``/``-c`` lines under ``pip:`` are read through ``opener``, relative to ``path``
    (conda runs pip from the file's folder). ``names`` extends the name table.
    """
    return _Reader(text, path, opener, names or load_name_table()).read()


# ---------------------------------------------------------------------------------------
# Writing: what goes where


@dataclass(frozen=True)
class _Want:
    """One list item we want written, with what identifies it when merging."""

    text: str
    key: tuple[str, str]
    comment: Optional[str] = None
    same: Optional[Callable[[str], bool]] = None  # does an existing item already say this?


@dataclass
class _Plan:
    conda: list[_Want] = field(default_factory=list)
    pip: list[_Want] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def _projection(dep: Dependency) -> Dependency:
    """What environment.yml can say about ``dep`` (no groups, no per-package index)."""
    return dep if dep.group is None and dep.index is None else dep.with_changes(group=None, index=None)


def _needs_pip(dep: Dependency) -> bool:
    """True when only pip can install ``dep``, whatever its name: a constraint, an unnamed
    or direct-URL, path, editable or hash-checked requirement, one with extras, a marker,
    per-requirement options or a named index."""
    return bool(
        dep.constraint
        or not dep.name
        or dep.url
        or dep.path
        or dep.editable
        or dep.hashes
        or dep.extras
        or dep.marker is not None
        or dep.config_settings
        or dep.global_options
        or dep.index
    )


def _plan(env: Environment, mode: str, table: NameTable, doc: _Document, losses: list[Loss]) -> _Plan:
    plan = _Plan()
    placed = doc.placement()
    conda_only_names = {_spec_name(spec) for spec in env.conda}
    if "python" not in conda_only_names:
        plan.conda.append(_python_want(env, losses))
    pip_deps: list[Dependency] = []
    native = 0
    unclaimed, includes = doc.claimed_includes([d for d in env.requirements if not d.constraint])
    free = {id(d) for d in unclaimed}
    for dep in env.requirements:
        if not dep.constraint and id(dep) not in free:
            continue  # read through one of the file's own -r lines, which is kept
        if dep.group is not None:
            losses.append(
                Loss("transformed", str(dep), f"group {dep.group!r} flattened into the main list", dep.origin)
            )
        want = _conda_want(dep, table, placed) if mode == "native" else None
        if want is not None:
            plan.conda.append(want)
            native += 1
            continue
        if dep.channel is not None:
            losses.append(
                Loss("lost", str(dep), f"pip cannot install from conda channel {dep.channel!r}; under pip:", dep.origin)
            )
        if dep.index is not None:
            losses.append(
                Loss(
                    "transformed",
                    str(dep),
                    f"pip cannot tie one requirement to index {dep.index!r}; the index serves every package under pip:",
                    dep.origin,
                )
            )
        pip_deps.append(dep)
    for spec in env.conda:
        name = _spec_name(spec)
        plan.conda.append(_Want(spec, ("conda", name), same=_same_conda(spec)))
    plan.pip = _pip_wants(env, pip_deps, includes, losses, plan.files, native, doc.constraints_file(pip_deps))
    if plan.pip and "pip" not in conda_only_names:
        plan.conda.append(_Want("pip", ("conda", "pip"), same=lambda _text: True))
    plan.channels = list(env.channels) or [DEFAULT_CHANNEL]
    return plan


def _spec_name(spec: str) -> str:
    try:
        return parse_matchspec(spec).key
    except InvalidCondaSpec:
        return spec.strip().lower()


def _same_conda(spec: str) -> Callable[[str], bool]:
    wanted = "".join(spec.split())
    return lambda text: "".join(text.split()) == wanted


def _python_want(env: Environment, losses: list[Loss]) -> _Want:
    text = "python"
    if env.python is not None:
        try:
            text = matchspec_string("python", pip_to_conda(env.python))
        except InexactSpec as exc:
            losses.append(Loss("lost", f"python {env.python}", f"no exact conda form ({exc}); 'python' is written"))
    wanted = env.python if env.python is not None else SpecifierSet()

    def same(existing: str) -> bool:
        try:
            parts = parse_matchspec(existing)
            return parts.build is None and parts.brackets is None and conda_to_pip(parts.version or "") == wanted
        except (InexactSpec, InvalidCondaSpec):
            return False

    return _Want(text, ("python", "python"), same=same)


def _conda_want(dep: Dependency, table: NameTable, placed: Mapping[str, tuple[str, str]]) -> Optional[_Want]:
    """``dep`` as a conda package, when conda carries it exactly and its source did not put
    it under ``pip:``; else ``None``."""
    if _needs_pip(dep) or dep.installer == "pip":
        return None
    assert dep.name is not None
    key = canonicalize_name(dep.name)
    where, existing_name = placed.get(key, ("", ""))
    if where == "pip":
        return None
    conda_name = existing_name or table.conda_name(key)
    if conda_name is None and dep.channel is not None:
        conda_name = dep.name
    if conda_name is None:
        return None
    try:
        version = pip_to_conda(dep.specifier)
    except InexactSpec:
        return None
    wanted = _projection(dep)

    def same(existing: str) -> bool:
        try:
            item = _classify(existing, table)
        except InvalidCondaSpec:
            return False
        return item.dep is not None and _projection(item.dep) == wanted

    text = matchspec_string(conda_name, version, dep.channel)
    return _Want(text, ("package", key), dep.comment, same)


def _pip_wants(
    env: Environment,
    deps: list[Dependency],
    includes: list[_Want],
    losses: list[Loss],
    files: dict[str, str],
    native: int,
    existing_constraints: Optional[str] = None,
) -> list[_Want]:
    out: list[_Want] = []
    options = requirements.dumps(Environment(sources=env.sources, options=env.options))
    losses.extend(options.losses)
    for line in options.text.splitlines():
        out.append(_Want(line, ("option", _canonical_option(line)), same=_same_option(line)))
        if native and env.format != NAME:
            losses.append(
                Loss(
                    "transformed",
                    line,
                    f"applies only to the packages under pip:; {native} package(s) are installed from conda channels",
                )
            )
    constraints = [d for d in deps if d.constraint]
    plain = [d for d in deps if not d.constraint]
    out.extend(includes)
    for dep in plain:
        bare = dep if dep.comment is None else dep.with_changes(comment=None)
        text = _one_line(requirements.render_requirement(bare, losses))
        out.append(_Want(text, ("requirement", _pip_key(dep)), dep.comment, _same_requirement(dep)))
    if constraints:
        name = existing_constraints or "constraints.txt"
        files[name] = "".join(requirements.render_requirement(d) + "\n" for d in constraints)
        out.append(_Want(f"-c {name}", ("constraints", name), same=lambda _text: True))
    return out


def _one_line(text: str) -> str:
    return re.sub(r"[ \t]*\\\n[ \t]*", " ", text)


def _pip_key(dep: Dependency) -> str:
    return dep.key or dep.location or str(dep)


def _canonical_option(line: str) -> str:
    try:
        env = requirements.loads(line, "pip-line.txt")
    except EnvkitError:
        return line.strip()
    rendered = requirements.dumps(Environment(sources=env.sources, options=env.options)).text
    return rendered.strip() or line.strip()


def _same_option(line: str) -> Callable[[str], bool]:
    wanted = _canonical_option(line)
    return lambda text: _canonical_option(text) == wanted


def _same_requirement(dep: Dependency) -> Callable[[str], bool]:
    wanted = _projection(dep)

    def same(text: str) -> bool:
        try:
            env = requirements.loads(text, "pip-line.txt")
        except EnvkitError:
            return False
        return len(env.requirements) == 1 and _projection(env.requirements[0]) == wanted

    return same


# ---------------------------------------------------------------------------------------
# Writing: the existing file, located


@dataclass
class _Node:
    """One item of a YAML block list: where it is and what it says."""

    start: int  # first line (0-based)
    end: int  # last line (0-based, inclusive)
    dash: int  # column of its '-'
    col: int  # column where its value starts
    value: str
    key: tuple[str, str] = ("", "")  # what it is, for merging: ("package", "numpy"), ...
    name: str = ""  # the conda name a package is written under


@dataclass
class _ListNode:
    """A top-level (or pip:) list: its key line, its items, and how it is written."""

    key_line: int
    key_col: int
    items: list[_Node] = field(default_factory=list)
    flow: bool = False
    inline: bool = False  # the key line holds a value (null, [], flow items) after the colon
    end: int = -1  # last line of the node (for rewriting flow lists)


@dataclass
class _Document:
    """An existing environment.yml, located: its lines and where each of our lists is."""

    lines: list[str]
    keys: dict[str, int]
    channels: Optional[_ListNode] = None
    dependencies: Optional[_ListNode] = None
    pip: Optional[_ListNode] = None  # the pip: list, key_line is the '- pip:' line
    pip_item: Optional[_Node] = None  # the '- pip:' item of dependencies
    variables: Optional[tuple[tuple[str, str], ...]] = None
    name_line: Optional[int] = None
    indent: int = 0  # column of the top-level keys
    end: int = -1  # where new top-level keys go: the end, or before a closing '...'
    empty: list[int] = field(default_factory=list)  # lines of an empty document's value ('null', '~')

    def top(self, lines: list[str]) -> list[str]:
        """``lines`` of a new top-level block, indented like the file's own keys."""
        return [" " * self.indent + line for line in lines]

    def placement(self) -> dict[str, tuple[str, str]]:
        """Normalized PyPI name -> ("conda" | "pip", conda name) for packages in the file."""
        out: dict[str, tuple[str, str]] = {}
        for node in self.dependencies.items if self.dependencies else []:
            if node.key[0] == "package":
                out.setdefault(node.key[1], ("conda", node.name))
        for node in self.pip.items if self.pip else []:
            if node.key[0] == "requirement":
                out.setdefault(node.key[1], ("pip", ""))
        return out

    def constraints_file(self, deps: list[Dependency]) -> Optional[str]:
        """The file's own ``-c FILE``, when every constraint in ``deps`` was read from it."""
        constraints = [d for d in deps if d.constraint]
        for node in self.pip.items if self.pip else []:
            if node.key[0] == "constraints":
                target = posixpath.normpath(node.key[1].replace("\\", "/"))
                if constraints and all(d.origin and _path_matches(d.origin.path, target) for d in constraints):
                    return node.key[1]
        return None

    def claimed_includes(self, deps: list[Dependency]) -> tuple[list[Dependency], list[_Want]]:
        """The file's ``-r FILE`` lines that some of ``deps`` were read through (kept as they
        are), and the deps left over. A dep belongs to ``-r FILE`` when its origin's path ends
        with ``FILE``: the include was expanded in place when the file was read."""
        wants: list[_Want] = []
        rest = list(deps)
        for node in self.pip.items if self.pip else []:
            if node.key[0] != "include":
                continue
            target = node.key[1]
            claimed = {id(d) for d in rest if d.origin is not None and _path_matches(d.origin.path, target)}
            if claimed:
                rest = [d for d in rest if id(d) not in claimed]
                wants.append(_Want(node.value, node.key, same=lambda _t: True))
        return rest, wants


def _path_matches(path: str, target: str) -> bool:
    path = posixpath.normpath(path.replace("\\", "/"))
    return path == target or path.endswith("/" + target)


_INCLUDE_RE = re.compile(r"^\s*(?:-r|--requirement)(?:\s*=\s*|\s+)(\S+)\s*$")
_CONSTRAINTS_RE = re.compile(r"^\s*(?:-c|--constraint)(?:\s*=\s*|\s+)(\S+)\s*$")


def _scan(text: str, table: NameTable, path: str) -> _Document:
    data = _load_yaml(text, path)
    lines = _split_lines(text)
    doc = _Document(lines, {}, end=len(lines))
    if _is_map(data) and (data.fa.flow_style() or not data):  # ruamel leaves '{}' unmarked
        if data:
            raise EnvkitError(
                f"{path}: the whole file is one flow-style mapping ({{...}}); envkit merges only into"
                " block-style YAML (one 'key:' per line)"
            )
        data = None  # '{}': an empty document, replaced like 'null'
    if data is None:  # comments only, or an explicit null that our keys replace
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped == "...":
                doc.end = i
                break
            if stripped and not stripped.startswith(("#", "---", "%")):
                doc.empty.append(i)
        return doc
    if not _is_map(data):
        raise ParseError(
            "expected a mapping with 'name', 'channels' and 'dependencies'",
            path=path,
            line=1,
            column=1,
            text=lines[0].rstrip("\r\n") if lines else "",
        )
    for key in data:
        doc.keys[str(key)] = data.lc.key(key)[0]
    if doc.keys:
        first = lines[data.lc.key(next(iter(data)))[0]]
        doc.indent = len(first) - len(first.lstrip(" "))
        last = max(doc.keys.values())
        closing = [i for i in range(last + 1, len(lines)) if lines[i].rstrip("\r\n") == "..."]
        doc.end = closing[0] if closing else len(lines)
    if "name" in data:
        doc.name_line = data.lc.key("name")[0]
    if "channels" in data:
        doc.channels = _list_node(doc, data, "channels", path)
        for node in doc.channels.items:
            node.key = ("channel", node.value)
    if "variables" in data:
        doc.variables = _Reader(text, path, None, table)._variables(data)
    if "dependencies" in data:
        doc.dependencies = _list_node(doc, data, "dependencies", path)
        seq = data["dependencies"]
        for node, value in zip(doc.dependencies.items, seq if _is_seq(seq) else []):
            if _is_map(value):
                _scan_pip(doc, value, node, path)
            else:
                _key_conda(node, table)
    return doc


def _key_conda(node: _Node, table: NameTable) -> None:
    try:
        item = _classify(node.value, table)
    except InvalidCondaSpec:
        node.key = ("raw", node.value)
        return
    if item.kind == "python":
        node.key = ("python", "python")
    elif item.kind == "package" and item.dep is not None:
        node.key = ("package", canonicalize_name(item.dep.name or ""))
        node.name = item.name
    else:
        node.key = ("conda", item.name.lower())


def _scan_pip(doc: _Document, value: Any, node: _Node, path: str) -> None:
    if "pip" not in value:
        node.key = ("raw", "")
        return
    items = value["pip"]
    key_line, key_col = value.lc.key("pip")
    pip = _ListNode(key_line, key_col)
    if _is_seq(items):
        pip.flow = bool(items.fa.flow_style())
        pip.items = _items(doc, items, path)
        node.end = max([node.end] + [n.end for n in pip.items])
    after = doc.lines[key_line].split(":", 1)[1] if ":" in doc.lines[key_line] else ""
    pip.inline = bool(after.split("#", 1)[0].strip())
    node.key = ("installer", "pip")
    doc.pip, doc.pip_item = pip, node
    for item in pip.items:
        include = _INCLUDE_RE.match(item.value)
        if include:
            item.key = ("include", posixpath.normpath(include.group(1).replace("\\", "/")))
            continue
        constraints = _CONSTRAINTS_RE.match(item.value)
        if constraints:
            item.key = ("constraints", constraints.group(1))
            continue
        try:
            env = requirements.loads(item.value, "pip-line.txt")
        except EnvkitError:  # '-c FILE' read alone, without its file
            item.key = ("option", _canonical_option(item.value))
            continue
        if len(env.requirements) == 1:
            item.key = ("requirement", _pip_key(env.requirements[0]))
        else:
            item.key = ("option", _canonical_option(item.value))


def _list_node(doc: _Document, data: Any, key: str, path: str) -> _ListNode:
    key_line, key_col = data.lc.key(key)
    value = data[key]
    node = _ListNode(key_line, key_col)
    after = doc.lines[key_line].split(":", 1)[1] if ":" in doc.lines[key_line] else ""
    node.inline = bool(after.split("#", 1)[0].strip())
    if value is None:
        return node
    if not _is_seq(value):
        raise ParseError(
            f"'{key}' must be a list",
            path=path,
            line=key_line + 1,
            column=key_col + 1,
            text=doc.lines[key_line].rstrip("\r\n"),
            width=len(key),
        )
    node.flow = bool(value.fa.flow_style())
    if node.flow:
        following = [line for name, line in doc.keys.items() if line > key_line]
        node.end = _trim_end(doc.lines, key_line, (min(following) if following else len(doc.lines)) - 1)
        node.items = [_Node(key_line, key_line, 0, 0, v if isinstance(v, str) else "") for v in value]
        return node
    node.items = _items(doc, value, path)
    return node


def _trim_end(lines: list[str], start: int, end: int) -> int:
    while end > start and (not lines[end].strip() or lines[end].lstrip().startswith("#")):
        end -= 1
    return end


def _items(doc: _Document, seq: Any, path: str) -> list[_Node]:
    nodes: list[_Node] = []
    count = len(seq)
    for i in range(count):
        line0, col0 = seq.lc.item(i)
        physical = doc.lines[line0]
        before = physical[:col0].rstrip()
        dash = len(before) - 1 if before.endswith("-") else max(col0 - 2, 0)
        value = seq[i]
        text = value if isinstance(value, str) else ""
        nodes.append(_Node(line0, line0, dash, col0, text))
    for i, node in enumerate(nodes):
        limit = nodes[i + 1].start - 1 if i + 1 < count else len(doc.lines) - 1
        end = node.start
        while end + 1 <= limit:
            nxt = doc.lines[end + 1]
            stripped = nxt.strip()
            indent = len(nxt) - len(nxt.lstrip())
            if not stripped or stripped.startswith("#") or indent <= node.dash:
                break
            end += 1
        node.end = end
    return nodes


# ---------------------------------------------------------------------------------------
# Writing: editing the text


_PLAIN_UNSAFE_START = set("?:,[]{}#&*!|>'\"%@`")
_NON_STRING_RE = re.compile(
    r"(?i)^(?:~|null|true|false|yes|no|on|off|[-+]?(?:\.inf|\.nan)|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:e[-+]?[0-9]+)?"
    r"|0x[0-9a-f_]+|0o[0-7_]+|[-+]?\.[0-9_]+(?:e[-+]?[0-9]+)?)$"
)


def _yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar for a block list: plain when that reads back the same."""
    plain = (
        value
        and value == value.strip()
        and value[0] not in _PLAIN_UNSAFE_START
        and not (value[0] == "-" and (len(value) == 1 or value[1] in " \t"))
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
        and all(ch.isprintable() and ch != "\t" for ch in value)
        and not _NON_STRING_RE.match(value)
    )
    return value if plain else json.dumps(value, ensure_ascii=False)


@dataclass
class _Edit:
    start: int  # first line replaced (0-based)
    end: int  # last line replaced, inclusive (start - 1 for a pure insertion)
    lines: list[str]


def _item_line(dash: int, gap: int, want: _Want) -> str:
    comment = f"  # {want.comment}" if want.comment else ""
    return " " * dash + "-" + " " * gap + _yaml_scalar(want.text) + comment + "\n"


def _replace_value(doc: _Document, node: _Node, want: _Want) -> _Edit:
    """Rewrite ``node``'s value in place, keeping what follows it on its line (a comment)."""
    physical = doc.lines[node.start]
    span = _value_span(physical.rstrip("\r\n"), node.col, node.value) if node.start == node.end else None
    if span is not None:
        quoted = physical[node.col : node.col + 1] in ("'", '"')
        start, end = (node.col, span[1]) if quoted else span
        rest = physical[end:]
        if want.comment and _comment_after(physical.rstrip("\r\n"), end) is None:
            rest = rest.rstrip("\r\n").rstrip() + f"  # {want.comment}\n"
        return _Edit(node.start, node.end, [physical[:start] + _yaml_scalar(want.text) + rest])
    gap = max(node.col - node.dash - 1, 1)
    return _Edit(node.start, node.end, [_item_line(node.dash, gap, want)])


def _reconcile(doc: _Document, nodes: list[_Node], wants: list[_Want], edits: list[_Edit]) -> list[_Want]:
    """Keep, rewrite or delete ``nodes`` to say ``wants``; return the wants still to insert.

    A node and a want are the same item when their keys match (the package, the option);
    a node that already says what its want says is kept byte for byte.
    """
    pending = list(wants)
    for node in nodes:
        match = next((w for w in pending if w.key == node.key), None)
        if match is None:
            edits.append(_Edit(node.start, node.end, []))
            continue
        pending.remove(match)
        if match.same is not None and match.same(node.value):
            continue
        edits.append(_replace_value(doc, node, match))
    return pending


def _newline(doc: _Document) -> str:
    return "\r\n" if doc.lines and doc.lines[0].endswith("\r\n") else "\n"


def _apply(doc: _Document, plan: _Plan, env: Environment, fresh: bool, losses: list[Loss]) -> str:
    """The text of ``doc`` edited to say ``plan``; untouched lines are kept byte for byte."""
    edits: list[_Edit] = []
    lines = list(doc.lines)
    final_newline = not lines or lines[-1].endswith("\n")
    if not final_newline:
        lines[-1] += "\n"
    appended: list[str] = []

    if fresh and env.name is not None and doc.name_line is not None:
        edits.append(_Edit(doc.name_line, doc.name_line, doc.top([f"name: {_yaml_scalar(env.name)}\n"])))

    # channels: a new file gets exactly ours (conda-forge when we have none); an existing
    # file keeps its own and gains the ones it lacks (none: conda then uses .condarc's)
    if fresh:
        channels = plan.channels
    else:
        present = [n.value for n in doc.channels.items] if doc.channels is not None else []
        channels = [c for c in env.channels if c not in present]
    wants = [_Want(c, ("channel", c)) for c in channels]
    _write_list(doc, "channels", doc.channels, wants, edits, appended, keep=not fresh)

    # dependencies, and the pip: list inside it
    deps = doc.dependencies
    if deps is None or deps.flow:
        block = ["dependencies:\n"] + [_item_line(2, 1, w) for w in plan.conda]
        block = doc.top(block + (_new_pip(2, plan.pip) if plan.pip else []))
        if deps is None:
            appended.extend(block)
        else:
            edits.append(_Edit(deps.key_line, deps.end, block))
    else:
        conda_nodes = [n for n in deps.items if n is not doc.pip_item]
        pending = _reconcile(doc, conda_nodes, plan.conda, edits)
        if deps.inline:
            edits.append(_Edit(deps.key_line, deps.key_line, [_strip_inline(lines[deps.key_line])]))
        dash, gap = _indent(deps)
        if pending:
            anchor = _conda_anchor(deps, doc)
            edits.append(_Edit(anchor + 1, anchor, [_item_line(dash, gap, w) for w in pending]))
        new_pip = _pip_block(doc, plan, edits, dash)
        if new_pip:
            last = max([deps.key_line] + [n.end for n in deps.items])
            edits.append(_Edit(last + 1, last, new_pip))

    # variables: an existing file keeps its own; a file without any gains ours
    if env.variables:
        if doc.variables is None:
            block = ["variables:\n"] + [f"  {_yaml_scalar(k)}: {_yaml_scalar(v)}\n" for k, v in env.variables]
            appended.extend(doc.top(block))
        else:
            for k, v in env.variables:
                if (k, v) not in doc.variables:
                    losses.append(
                        Loss("lost", f"variable {k}={v}", "the existing file's variables are kept as they are")
                    )

    edits.extend(_Edit(i, i, []) for i in doc.empty)
    if appended:
        edits.append(_Edit(doc.end, doc.end - 1, appended))

    # Apply bottom-up; of two insertions at one place, the one planned first ends up first.
    out = list(lines)
    for _, edit in sorted(enumerate(edits), key=lambda pair: (pair[1].start, pair[1].end, pair[0]), reverse=True):
        out[edit.start : edit.end + 1] = edit.lines
    if not final_newline and out and out[-1] == lines[-1]:
        out[-1] = out[-1][:-1]
    text = "".join(out)
    if _newline(doc) == "\r\n":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text


def _indent(node: _ListNode) -> tuple[int, int]:
    """(dash column, spaces after the dash) of a list's items, from its first item."""
    if node.items and not node.flow:
        first = node.items[0]
        return first.dash, max(first.col - first.dash - 1, 1)
    return node.key_col + 2, 1


def _conda_anchor(deps: _ListNode, doc: _Document) -> int:
    """The line after which new conda items go: after the last one (before a trailing
    ``pip``), else before ``pip:``, else at the top of the list."""
    conda = [n for n in deps.items if n is not doc.pip_item and n.key[0] != "raw"]
    if conda and conda[-1].key == ("conda", "pip") and len(conda) > 1:
        return conda[-2].end
    if conda:
        return conda[-1].end
    if doc.pip_item is not None:
        return doc.pip_item.start - 1
    return deps.key_line


def _strip_inline(line: str) -> str:
    """``key: VALUE  # comment`` -> ``key:  # comment``: a list's items follow on new lines."""
    head, _, rest = line.rstrip("\r\n").partition(":")
    match = re.search(r"[ \t]+#.*$", rest)
    return f"{head}:{match.group(0) if match else ''}\n"


def _pip_block(doc: _Document, plan: _Plan, edits: list[_Edit], dash: int) -> list[str]:
    """Edit the existing pip: list; return the lines of a new one when there was none."""
    pip, item = doc.pip, doc.pip_item
    if pip is None or item is None:
        return _new_pip(dash, plan.pip) if plan.pip else []
    if not plan.pip:  # prune the list we emptied
        edits.append(_Edit(item.start, item.end, []))
        return []
    if pip.flow:
        edits.append(_Edit(item.start, item.end, _new_pip(item.dash, plan.pip)))
        return []
    # pip's options are order-sensitive (index URLs, feature lists): kept when the file
    # already says exactly ours, in our order; otherwise replaced as a block at the top.
    old_options = [n for n in pip.items if n.key[0] == "option"]
    new_options = [w for w in plan.pip if w.key[0] == "option"]
    if [n.key for n in old_options] == [w.key for w in new_options]:
        new_options = []
    else:
        edits.extend(_Edit(n.start, n.end, []) for n in old_options)
    others = [n for n in pip.items if n.key[0] != "option"]
    pending = _reconcile(doc, others, [w for w in plan.pip if w.key[0] != "option"], edits)
    if pip.inline:
        edits.append(_Edit(pip.key_line, pip.key_line, [_strip_inline(doc.lines[pip.key_line])]))
    sub_dash, gap = _indent(pip) if pip.items else (item.col + 2, 1)
    if new_options:
        first = pip.items[0].start if pip.items else pip.key_line + 1
        edits.append(_Edit(first, first - 1, [_item_line(sub_dash, gap, w) for w in new_options]))
    if pending:
        last = max([pip.key_line] + [n.end for n in pip.items])
        edits.append(_Edit(last + 1, last, [_item_line(sub_dash, gap, w) for w in pending]))
    return []


def _new_pip(dash: int, wants: list[_Want]) -> list[str]:
    return [" " * dash + "- pip:\n"] + [_item_line(dash + 4, 1, w) for w in wants]


def _write_list(
    doc: _Document,
    key: str,
    node: Optional[_ListNode],
    wants: list[_Want],
    edits: list[_Edit],
    appended: list[str],
    *,
    keep: bool,
) -> None:
    """Make list ``key`` hold ``wants``: after what it holds when ``keep``, else instead of it."""
    if node is None:
        if not wants:
            return
        block = doc.top([f"{key}:\n"] + [_item_line(2, 1, w) for w in wants])
        before = doc.keys.get("dependencies")
        if before is not None:
            edits.append(_Edit(before, before - 1, block))
        else:
            appended.extend(block)
        return
    if node.flow:
        if keep and not wants:
            return
        if keep:
            wants = [_Want(n.value, ("", "")) for n in node.items] + wants
        block = doc.top([f"{key}:\n"] + [_item_line(2, 1, w) for w in wants])
        edits.append(_Edit(node.key_line, node.end, block))
        return
    if not keep:  # the list becomes exactly ``wants``, in their order
        edits.extend(_Edit(n.start, n.end, []) for n in node.items)
    pending = wants
    if not pending:
        return
    dash, gap = _indent(node)
    if node.inline:
        edits.append(_Edit(node.key_line, node.key_line, [_strip_inline(doc.lines[node.key_line])]))
    last = max([node.key_line] + [n.end for n in node.items])
    edits.append(_Edit(last + 1, last, [_item_line(dash, gap, w) for w in pending]))


def dumps(
    env: Environment,
    existing: str | None = None,
    *,
    mode: str = "native",
    names: NameTable | None = None,
) -> Rendered:
    """Write ``env`` as environment.yml, into ``existing`` when given (see the module doc).

    ``mode`` is ``"native"`` (conda packages where conda carries them exactly) or ``"pip"``
    (every requirement under ``pip:``). Constraints go to a companion file, named in
    :attr:`Rendered.files` and included from ``pip:`` with ``-c``.
    """
    if mode not in MODES:
        raise EnvkitError(f"unknown conda mode {mode!r} (choose from {', '.join(MODES)})")
    table = names or load_name_table()
    fresh = existing is None
    base = template("environment.yml") if existing is None else existing
    doc = _scan(base, table, FILENAMES[0])
    losses: list[Loss] = []
    plan = _plan(env, mode, table, doc, losses)
    text = _apply(doc, plan, env, fresh, losses)
    return Rendered(text, tuple(losses), dict(plan.files))
