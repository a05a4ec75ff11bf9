"""pip's requirements-file format: the whole grammar, read and written.

Grammar, as pip 26 reads it (after the preprocessing in :mod:`._lines`)::

    line        := requirement [req-option ...] | option-line
    requirement := url [";" " " marker]            (http, https, file, ftp, VCS schemes)
                 | path ["[" extras "]"] [";" marker]   (looks like a path, or an archive)
                 | pep508                          (name[extras] spec ; marker, name @ url)
    req-option  := --hash=ALGO:DIGEST | -C/--config-settings KEY=VAL | --global-option OPT
    option-line := (-r/--requirement F | -c/--constraint F | -e/--editable X
                   | -i/--index-url URL | --extra-index-url URL | --no-index
                   | -f/--find-links X | --trusted-host H | --pre | --prefer-binary
                   | --require-hashes | --no-require-hashes | --no-binary V | --only-binary V
                   | --all-releases V | --only-final V | --use-feature F) ...

Requirement text runs up to the first whitespace-separated word that starts with ``-``;
the rest is split like a shell line (quotes, backslashes) and read like pip's option
parser (``--opt=value`` or ``--opt value``, unique prefixes of long options).

How options combine, as pip does it:

- on a requirement or ``-e`` line, only that requirement's options count, except
  ``--no-binary``/``--only-binary``/``--all-releases``/``--only-final``/``--use-feature``,
  which pip applies to the whole install wherever they are written;
- a line with an ``-e`` and requirement text edits the requirement text;
- an include line (``-r``/``-c``) reads the first ``-r`` (else the first ``-c``) and
  nothing else but those same five options;
- within an option line, the last ``--index-url`` is set before the line's extra index
  URLs are added, and ``--pre`` (pip's ``--all-releases :all:``) after its release options;
  a later ``--index-url`` forgets earlier extra index URLs, ``--no-index`` all of them.

Where pip silently ignores something (a file-wide option on a requirement line, a second
``-r`` on one line, words left after options), envkit follows pip and says so in a
warning. Where pip fails, envkit raises a :class:`~envkit.errors.ParseError` with the
line, column and a caret; pip's parse-time checks (``--hash``, ``--config-settings``,
``--use-feature`` values) apply on every line. Deliberate differences: any whitespace (a
tab too) separates a requirement from its options; ``${VAR}`` references are kept, not
expanded, unless the caller passes ``environ``; an empty value is an error for options
where pip would use it as a location; local folders are checked only when the caller
passes ``folder_exists``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, Optional
from urllib.parse import unquote, urljoin, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..errors import EnvkitError, ParseError
from ..model import VAR_RE, Dependency, Diagnostic, Environment, Origin, PipOptions, Source
from ._base import Loss, Opener, Rendered
from ._lines import LogicalLine, Token, decode, logical_lines, split_words
from ._pep508 import syntax_error

__all__ = ["FILENAMES", "NAME", "detect", "dumps", "loads", "loads_bytes"]

NAME = "requirements"
FILENAMES = ("requirements.txt", "constraints.txt")

#: Schemes pip treats as URLs (``pip._internal.vcs.is_url``).
VCS_SCHEMES = frozenset(
    f"{vc}+{proto}"
    for vc, protos in {
        "bzr": ("http", "https", "ssh", "sftp", "ftp", "lp", "file"),
        "git": ("http", "https", "ssh", "git", "file"),
        "hg": ("file", "http", "https", "ssh", "static-http"),
        "svn": ("ssh", "http", "https", "svn", "file"),
    }.items()
    for proto in protos
)
URL_SCHEMES = frozenset({"http", "https", "file", "ftp"}) | VCS_SCHEMES
ARCHIVE_EXTENSIONS = (
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
STRONG_HASHES = ("sha256", "sha384", "sha512")
FEATURES = (
    "fast-deps",
    "inprocess-build-deps",
    "venv-isolation",
    "truststore",
    "no-binary-enable-wheel-cache",
    "build-constraint",
)

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_EGG_RE = re.compile(r"[#&]egg=([^&]*)")
_PROJECT_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_MAX_FILES = 1000
_PRAGMA_RE = re.compile(r"^#[ \t]*requires-python:(?P<spec>[^\n]*)$", re.MULTILINE)

Scope = Literal["file", "req", "include", "editable"]

#: Says whether a local path, as written, names a folder (see :func:`loads`).
FolderCheck = Callable[[str], bool]

_NO_FOLDER_HINT = (
    "there is no folder {path!r} in the current directory"
    " (pip looks for {what} there, not beside the requirements file)"
)


@dataclass(frozen=True)
class _Option:
    names: tuple[str, ...]
    dest: str
    scope: Scope
    takes_value: bool = True

    @property
    def label(self) -> str:
        """The option's main spelling: its first long name (``--index-url``, not ``--pypi-url``)."""
        return next((n for n in self.names if n.startswith("--")), self.names[0])


_OPTIONS = (
    _Option(("-i", "--index-url", "--pypi-url"), "index_url", "file"),
    _Option(("--extra-index-url",), "extra_index_url", "file"),
    _Option(("--no-index",), "no_index", "file", False),
    _Option(("-c", "--constraint"), "constraint", "include"),
    _Option(("-r", "--requirement"), "requirement", "include"),
    _Option(("-e", "--editable"), "editable", "editable"),
    _Option(("-f", "--find-links"), "find_links", "file"),
    _Option(("--no-binary",), "no_binary", "file"),
    _Option(("--only-binary",), "only_binary", "file"),
    _Option(("--prefer-binary",), "prefer_binary", "file", False),
    _Option(("--require-hashes",), "require_hashes", "file", False),
    _Option(("--no-require-hashes",), "no_require_hashes", "file", False),
    _Option(("--pre",), "pre", "file", False),
    _Option(("--all-releases",), "all_releases", "file"),
    _Option(("--only-final",), "only_final", "file"),
    _Option(("--trusted-host",), "trusted_host", "file"),
    _Option(("--use-feature",), "use_feature", "file"),
    _Option(("--hash",), "hash", "req"),
    _Option(("-C", "--config-settings"), "config_settings", "req"),
    _Option(("--global-option",), "global_option", "req"),
)
_LONG = {name: opt for opt in _OPTIONS for name in opt.names if name.startswith("--")}
_SHORT = {name: opt for opt in _OPTIONS for name in opt.names if not name.startswith("--")}


@dataclass(frozen=True)
class _Given:
    """One option as given on a line: which, its value, where."""

    option: _Option
    value: Optional[str]
    token: Token  # the whole option, value included
    at: Token  # the value alone (the option itself for a flag)


# ---------------------------------------------------------------------------------------
# Public API


def detect(path: str | None, text: str) -> bool:
    """True when ``path`` ends in ``.txt`` or ``.in`` (pip-tools' input files).

    Content alone is no evidence: almost any text is a valid requirements file, and no
    other format envkit knows uses these suffixes.
    """
    if path is None:
        return False
    return path.lower().endswith((".txt", ".in"))


def loads(
    text: str,
    path: str = "requirements.txt",
    *,
    opener: Opener | None = None,
    environ: Mapping[str, str] | None = None,
    constraint: bool = False,
    folder_exists: FolderCheck | None = None,
) -> Environment:
    """Read requirements-file ``text`` (its name ``path``) into an :class:`Environment`.

    Includes (``-r``/``-c``) are read through ``opener`` and expanded in place; without
    an opener an include is an error. ``environ``, when given, expands ``${VAR}``
    references as pip does (an unset variable is left as it is, with a warning).
    ``folder_exists``, when given, is asked whether a local project path (``-e ./pkg``,
    ``./pkg``) names a folder, as written (pip looks in the current directory); a path
    that does not is an error, as in pip. Without it, paths are taken as they are.
    """
    reader = _Reader(opener, environ, folder_exists)
    reader.read_text(text, path, constraint, ())
    return reader.environment()


def loads_bytes(
    data: bytes,
    path: str = "requirements.txt",
    *,
    opener: Opener | None = None,
    environ: Mapping[str, str] | None = None,
    constraint: bool = False,
    folder_exists: FolderCheck | None = None,
) -> Environment:
    """Like :func:`loads`, from undecoded bytes (BOM, PEP 263 coding line, UTF-16...)."""
    reader = _Reader(opener, environ, folder_exists)
    reader.read_text(decode(data, path), path, constraint, ())
    return reader.environment()


# ---------------------------------------------------------------------------------------
# Reading


@dataclass
class _State:
    requirements: list[Dependency] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)
    python: Optional[SpecifierSet] = None
    no_index: bool = False
    flags: dict[str, bool] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    sets: dict[str, set[str]] = field(default_factory=dict)


class _Reader:
    def __init__(
        self, opener: Opener | None, environ: Mapping[str, str] | None, folder_exists: FolderCheck | None = None
    ) -> None:
        self.opener = opener
        self.environ = environ
        self.folder_exists = folder_exists
        self.state = _State()
        self.files_read = 0

    # -- files ------------------------------------------------------------------------
    def read_text(self, text: str, path: str, constraint: bool, stack: tuple[tuple[str, Origin | None], ...]) -> None:
        self.files_read += 1
        stack = (*stack, (path, None))
        for match in _PRAGMA_RE.finditer(text):
            self._python_pragma(match, text, path)
        for line in logical_lines(text, path):
            if self.environ is not None:
                line = self._expand(line)
            self._read_line(line, constraint, stack)

    def _expand(self, line: LogicalLine) -> LogicalLine:
        """``line`` with its set ``${VAR}`` references expanded, positions still mapped back."""
        assert self.environ is not None
        replacements: list[tuple[int, int, str]] = []
        for match in VAR_RE.finditer(line.text):
            found = self.environ.get(match.group("name"))
            if found:
                replacements.append((match.start(), match.end(), found))
            else:
                self._warn(
                    line,
                    match.start(),
                    f"environment variable {match.group('name')} is not set; '{match.group(0)}' is kept as written",
                )
        return line.substitute(replacements) if replacements else line

    def _include(self, line: LogicalLine, given: _Given, stack: tuple[tuple[str, Origin | None], ...]) -> None:
        assert given.value is not None
        nested_constraint = given.option.dest == "constraint"
        current = stack[-1][0]
        target = _join(current, given.value)
        here = self._origin(line, given.token.start)
        for seen, _ in stack:
            if seen == target:
                chain = " -> ".join(f"{o}" for _, o in stack if o is not None)
                chain = f"{chain} -> {here}" if chain else str(here)
                raise line.error(
                    f"include cycle: {given.value!r} is already being read",
                    given.at.start,
                    given.at.end - given.at.start,
                    hint=f"the chain of includes is {chain} -> {target}",
                )
        if self.files_read >= _MAX_FILES:
            raise line.error(f"more than {_MAX_FILES} included files; stopping here", given.at.start)
        if self.opener is None:
            raise line.error(
                f"cannot read included file {given.value!r}: this reader was given no file opener",
                given.at.start,
                given.at.end - given.at.start,
            )
        try:
            data = self.opener(target)
        except EnvkitError as exc:
            raise line.error(
                f"cannot read included file {given.value!r}: {exc}", given.at.start, given.at.end - given.at.start
            ) from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise line.error(
                f"cannot read included file {given.value!r} ({target}): {reason}",
                given.at.start,
                given.at.end - given.at.start,
            ) from None
        text = decode(data, target)
        parent = (*stack[:-1], (current, here))
        self.read_text(text, target, nested_constraint, parent)

    # -- lines ------------------------------------------------------------------------
    def _read_line(self, line: LogicalLine, constraint: bool, stack: tuple[tuple[str, Origin | None], ...]) -> None:
        args, option_start = _split_args(line.text)
        given, leftovers = _parse_options(line, option_start) if option_start is not None else ([], [])
        editables = [g for g in given if g.option.dest == "editable"]

        if args and editables:
            # pip: a line with an -e is editable, and its requirement text is what is edited.
            self._warn(
                line,
                editables[0].token.start,
                f"pip reads this line as '-e {args}'; the value of --editable is ignored",
            )
            whole = Token(args, 0, len(args))
            editables = [_Given(editables[0].option, args, whole, whole)]
        elif args:
            dep = self._requirement(line, args, constraint)
            self._global_effects(line, given, "a requirement line")
            self._ignore(line, given, keep=("hash", "config_settings", "global_option"), why="on a requirement line")
            self._finish_requirement(line, dep, given, leftovers, constraint, editable=False)
            return
        if editables:
            dep = self._editable(line, editables[0], constraint)
            for extra in editables[1:]:
                self._warn(line, extra.token.start, "pip reads only the first -e of a line; this one is ignored")
            self._global_effects(line, given, "an editable line")
            self._ignore(
                line,
                [g for g in given if g.option.dest != "editable"],
                keep=("config_settings",),
                why="on an editable line",
            )
            self._finish_requirement(line, dep, given, leftovers, constraint, editable=True)
            return
        for word in leftovers:
            self._warn(line, word.start, f"pip ignores {word.value!r} after the options of a line")
        self._option_line(line, given, stack)

    def _global_effects(self, line: LogicalLine, given: list[_Given], where: str) -> None:
        """Apply the options pip honours on any line, requirement lines included.

        pip parses every line with one option parser whose ``--no-binary``/``--only-binary``
        and ``--all-releases``/``--only-final`` values are the install's own (its
        ``FormatControl`` and ``ReleaseControl``), and whose ``--use-feature`` list is the
        install's list: those take effect wherever they are written.
        """
        for g in given:
            if g.option.dest in _GLOBAL:
                self._warn(line, g.token.start, f"pip applies {g.option.label} on {where} to the whole install")
                self._apply_value(line, g)

    def _finish_requirement(
        self,
        line: LogicalLine,
        dep: Dependency | None,
        given: list[_Given],
        leftovers: list[Token],
        constraint: bool,
        *,
        editable: bool,
    ) -> None:
        for word in leftovers:
            hint = (
                " (an editable's marker needs the form '-e name @ URL ; marker')"
                if editable and word.value.startswith(";")
                else ""
            )
            self._warn(line, word.start, f"pip ignores {word.value!r} after the options of a line{hint}")
        if dep is None:  # a python line: already recorded
            return
        hashes: list[tuple[str, str]] = []
        settings: list[tuple[str, str]] = []
        global_options: list[str] = []
        for g in given:
            assert g.value is not None or not g.option.takes_value
            if g.option.dest == "hash" and not editable:
                hashes.append(_hash(line, g))
            elif g.option.dest == "config_settings":
                key, _, val = (g.value or "").partition("=")  # checked by _check_value
                settings.append((key, val))
            elif g.option.dest == "global_option" and not editable:
                self._warn(line, g.token.start, "pip 25.3 and newer reject --global-option; use --config-settings")
                global_options.append(g.value or "")
        dep = dep.with_changes(
            hashes=tuple(hashes),
            config_settings=tuple(settings),
            global_options=tuple(global_options),
            comment=line.comment,
            constraint=constraint,
        )
        if constraint:
            problem = None
            if not dep.name:
                problem = "unnamed requirements are not allowed as constraints"
            elif dep.editable:
                problem = "editable requirements are not allowed as constraints"
            elif dep.extras:
                problem = "constraints cannot have extras"
            if problem:
                raise line.error(
                    problem,
                    0,
                    len(line.text),
                    hint="a constraint is a project name, a version specifier and an optional marker",
                )
        self.state.requirements.append(dep)

    def _ignore(self, line: LogicalLine, given: list[_Given], keep: tuple[str, ...], why: str) -> None:
        for g in given:
            if g.option.dest not in keep and g.option.dest != "editable" and g.option.dest not in _GLOBAL:
                self._warn(line, g.token.start, f"pip ignores {g.option.label} {why}")

    def _apply_value(self, line: LogicalLine, g: _Given) -> None:
        """Record a file-wide option that takes a value and is not a source or an include."""
        st = self.state
        dest, value = g.option.dest, g.value
        assert value is not None
        if dest not in _EXCLUSIVE:
            st.lists.setdefault(dest, []).append(value)
            return
        target = st.sets.setdefault(dest, set())
        target_cleared, other_cleared = _apply_exclusive(value, target, st.sets.setdefault(_EXCLUSIVE[dest], set()))
        releases_cleared = (dest == "all_releases" and target_cleared) or (dest == "only_final" and other_cleared)
        if st.flags.get("pre") and releases_cleared and ":all:" not in st.sets.get("all_releases", set()):
            # pip's --pre is '--all-releases :all:'; clearing that set cancels it.
            st.flags["pre"] = False
            self._warn(line, g.token.start, f"{g.option.label} {value} cancels the --pre given before it")

    def _option_line(
        self, line: LogicalLine, given: list[_Given], stack: tuple[tuple[str, Origin | None], ...]
    ) -> None:
        st = self.state
        seen_find_links = False
        includes = [g for g in given if g.option.scope == "include"]
        # pip follows the first -r of a line, else the first -c, and ignores the rest.
        chosen = next((g for g in includes if g.option.dest == "requirement"), includes[0] if includes else None)
        for g in includes:
            if g is not chosen:
                self._warn(
                    line, g.token.start, f"pip reads only one include per line; {g.option.label} {g.value} is ignored"
                )
        if chosen is not None:
            # pip reads the included file instead of this line: only the options it applies
            # while parsing take effect.
            for g in given:
                if g.option.dest in _GLOBAL:
                    self._apply_value(line, g)
                elif g.option.scope != "include":
                    self._warn(line, g.token.start, f"pip ignores {g.option.label} on an include line")
            self._include(line, chosen, stack)
            return
        # pip sets a line's --index-url before adding its extra index URLs, and its --pre
        # after every --all-releases/--only-final of the line: read in that order.
        given = sorted(given, key=lambda g: (g.option.dest != "index_url", g.option.dest == "pre"))
        last_index = [g for g in given if g.option.dest == "index_url"][-1:]
        for g in given:
            dest, value = g.option.dest, g.value
            origin = self._origin(line, g.token.start)
            if dest == "index_url" and g not in last_index:
                self._warn(line, g.token.start, "pip reads only the last --index-url of a line; this one is ignored")
                continue
            if dest == "hash" or dest == "global_option" or dest == "config_settings":
                self._warn(line, g.token.start, f"{g.option.label} has no requirement on this line and is ignored")
                continue
            if dest == "no_index":
                st.no_index = True
                st.sources = [s for s in st.sources if s.kind == "find-links"]
            elif dest == "index_url":
                assert value is not None
                if not value:
                    self._warn(line, g.token.start, "pip ignores an empty --index-url")
                    continue
                if st.no_index:
                    self._warn(line, g.token.start, "pip ignores --index-url after --no-index")
                    continue
                dropped = [s for s in st.sources if s.kind != "find-links"]
                if any(s.kind == "extra-index" for s in dropped):
                    self._warn(line, g.token.start, "pip forgets the extra index URLs given before --index-url")
                st.sources = [s for s in st.sources if s.kind == "find-links"] + [
                    Source.from_url("index", value, origin=origin)
                ]
            elif dest == "extra_index_url":
                assert value is not None
                if st.no_index:
                    self._warn(line, g.token.start, "pip ignores --extra-index-url after --no-index")
                    continue
                st.sources.append(Source.from_url("extra-index", value, origin=origin))
            elif dest == "find_links":
                assert value is not None
                if seen_find_links:
                    self._warn(
                        line, g.token.start, "pip reads only the first --find-links of a line; this one is ignored"
                    )
                    continue
                seen_find_links = True
                st.sources.append(Source.from_url("find-links", value, origin=origin))
            elif not g.option.takes_value:
                st.flags[dest] = True
            else:
                self._apply_value(line, g)

    # -- requirements -----------------------------------------------------------------
    def _requirement(self, line: LogicalLine, args: str, constraint: bool) -> Dependency | None:
        sep = "; " if _is_url(args) else ";"
        head, marker = args, None
        if sep in args:
            head, marker_text = args.split(sep, 1)
            marker = self._marker(line, marker_text, len(head) + len(sep))
        stripped = head.strip()
        start = len(head) - len(head.lstrip())
        origin = self._origin(line, start)
        if _is_url(stripped):
            try:
                _check_url(stripped)
            except ValueError as exc:
                raise line.error(f"invalid URL: {exc}", start, len(stripped)) from None
            name = self._egg(line, stripped, start)
            extras: frozenset[str] = frozenset()
            spec = SpecifierSet()
            if name and "[" in name:
                name, extras = _split_egg_extras(name)
            wheel = _wheel_name(line, _url_filename(stripped), start)
            if wheel:
                name, spec = wheel
            return Dependency(name, spec, extras, marker, url=stripped, text=args, origin=origin)
        no_extras, extras_text = _strip_extras(stripped)
        named_url = "@" in stripped and not _looks_like_path(stripped.split("@", 1)[0])
        if not named_url and (_looks_like_path(stripped) or no_extras.lower().endswith(ARCHIVE_EXTENSIONS)):
            extras = self._extras(line, extras_text, start + len(no_extras)) if extras_text else frozenset()
            wheel = _wheel_name(line, _path_filename(no_extras), start)
            name, spec = wheel if wheel else (None, SpecifierSet())
            if not no_extras.lower().endswith(ARCHIVE_EXTENSIONS) and not self._is_folder(no_extras):
                raise line.error(
                    f"{no_extras} looks like a path, but it is not a folder: a local requirement must be"
                    " a project folder or an archive",
                    start,
                    len(no_extras),
                    hint=_NO_FOLDER_HINT.format(path=no_extras, what="a local project"),
                )
            return Dependency(name, spec, extras, marker, path=no_extras, text=args, origin=origin)
        req = self._pep508(line, stripped, start)
        if canonicalize_name(req.name) == "python" and not req.url:
            self._warn(
                line,
                start,
                f"{stripped!r} names the Python interpreter, not a package (pip cannot install it); it is read as the Python version constraint",
            )
            st = self.state
            st.python = req.specifier if st.python is None else st.python & req.specifier
            return None
        return Dependency(req.name, req.specifier, frozenset(req.extras), marker, url=req.url, text=args, origin=origin)

    def _editable(self, line: LogicalLine, given: _Given, constraint: bool) -> Dependency:
        value = given.value or ""
        at = given.at.start
        origin = self._origin(line, at)
        try:
            req = Requirement(value)
        except InvalidRequirement:
            req = None
        if req is not None and req.url:
            return Dependency(
                req.name,
                req.specifier,
                frozenset(req.extras),
                req.marker,
                url=req.url,
                editable=True,
                text=value,
                origin=origin,
            )
        head, sep, tail = value.partition("@")
        if req is None and sep and _scheme(tail.strip()) is not None and not _looks_like_path(head):
            self._pep508(line, value, at)  # 'name @ URL ; marker' with a mistake: say where
        no_extras, extras_text = _strip_extras(value)
        scheme = _scheme(no_extras)
        if scheme is None or len(scheme) == 1:  # a local path (or a Windows drive letter)
            if not self._is_folder(no_extras):
                raise line.error(
                    f"{value} is not a valid editable requirement: it should be a path to a local project or a VCS URL (beginning with bzr+, git+, hg+ or svn+)",
                    at,
                    given.at.end - at,
                    hint=_NO_FOLDER_HINT.format(path=no_extras, what="an editable's folder"),
                )
            extras = self._extras(line, extras_text, at + len(value) - len(extras_text)) if extras_text else frozenset()
            return Dependency(None, extras=extras, path=no_extras, editable=True, text=value, origin=origin)
        if scheme == "file":
            extras = self._extras(line, extras_text, at + len(value) - len(extras_text)) if extras_text else frozenset()
            name = self._egg(line, no_extras, at)
            return Dependency(name, extras=extras, url=no_extras, editable=True, text=value, origin=origin)
        url = value
        for vc in ("bzr", "git", "hg", "svn"):
            if url.lower().startswith(f"{vc}:"):
                url = f"{vc}+{url}"
                break
        if _scheme(url) not in VCS_SCHEMES:
            raise line.error(
                f"{value} is not a valid editable requirement: it should be a path to a local project or a VCS URL (beginning with bzr+, git+, hg+ or svn+)",
                at,
                given.at.end - at,
            )
        name = self._egg(line, url, at)
        if not name:
            raise line.error(
                f"cannot tell the project name of the editable {value!r}",
                at,
                given.at.end - at,
                hint="add '#egg=NAME' to the URL, or write '-e NAME @ URL'",
            )
        extras = frozenset()
        if "[" in name:
            name, extras = _split_egg_extras(name)
        return Dependency(name, extras=extras, url=url, editable=True, text=value, origin=origin)

    def _pep508(self, line: LogicalLine, text: str, start: int) -> Requirement:
        try:
            return Requirement(text)
        except InvalidRequirement as exc:
            message, offset, width = syntax_error(exc, text)
            offset += start
            hint = None
            if "=" in text and not any(op in text for op in ("~=", "==", "!=", "<=", ">=", "<", ">", "===")):
                hint = "= is not a valid operator. Did you mean == ?"
            raise line.error(f"invalid requirement: {message}", offset, width, hint=hint) from None

    def _marker(self, line: LogicalLine, text: str, offset: int) -> Marker | None:
        body = text.strip()
        if not body:
            return None
        offset += len(text) - len(text.lstrip())
        try:
            return Marker(body)
        except InvalidMarker as exc:
            message, at, width = syntax_error(exc, body)
            raise line.error(f"invalid marker: {message}", offset + at, width) from None

    def _extras(self, line: LogicalLine, text: str, offset: int) -> frozenset[str]:
        try:
            # pip lowercases these extras; equality normalizes them anyway, and printing keeps the spelling
            return frozenset(Requirement("placeholder" + text).extras)
        except InvalidRequirement:
            raise line.error(f"invalid extras {text!r}", offset, len(text)) from None

    def _egg(self, line: LogicalLine, url: str, offset: int) -> str | None:
        match = _EGG_RE.search(url)
        if match is None:
            return None
        name = match.group(1)
        if _PROJECT_NAME_RE.match(name):
            return name
        base, extras = _strip_extras(name)
        if extras and _PROJECT_NAME_RE.match(base):
            self._warn(
                line,
                offset + match.start(1),
                f"pip 25 and newer reject extras in '#egg={name}'; write '{base}{extras} @ URL'",
            )
            return name
        raise line.error(
            f"the #egg= fragment {name!r} is not a valid project name",
            offset + match.start(1),
            max(len(name), 1),
            hint="#egg= takes a project name only; use 'name[extras] @ URL' for extras",
        )

    def _python_pragma(self, match: re.Match[str], text: str, path: str) -> None:
        line_no = text.count("\n", 0, match.start()) + 1
        line_start = text.rfind("\n", 0, match.start()) + 1
        spec_text = match.group("spec").strip()
        try:
            spec = SpecifierSet(spec_text)
        except InvalidSpecifier:
            line_end = text.find("\n", match.start())
            physical = text[line_start : None if line_end < 0 else line_end].rstrip("\r")
            raise ParseError(
                f"invalid Python version constraint {spec_text!r}",
                path=path,
                line=line_no,
                column=match.start("spec") - line_start + 1,
                text=physical,
                width=len(spec_text),
            ) from None
        st = self.state
        st.python = spec if st.python is None else st.python & spec

    # -- helpers ----------------------------------------------------------------------
    def _is_folder(self, path: str) -> bool:
        return self.folder_exists is None or self.folder_exists(path)

    def _origin(self, line: LogicalLine, offset: int) -> Origin:
        number, column, _ = line.locate(offset)
        return Origin(line.path, number, column, line.text)

    def _warn(self, line: LogicalLine, offset: int, message: str) -> None:
        self.state.notes.append(Diagnostic(message, self._origin(line, offset)))

    def environment(self) -> Environment:
        st = self.state
        options = PipOptions(
            no_index=st.no_index,
            pre=st.flags.get("pre", False),
            prefer_binary=st.flags.get("prefer_binary", False),
            require_hashes=st.flags.get("require_hashes", False),
            no_require_hashes=st.flags.get("no_require_hashes", False),
            trusted_hosts=tuple(dict.fromkeys(st.lists.get("trusted_host", ()))),
            no_binary=tuple(sorted(st.sets.get("no_binary", ()))),
            only_binary=tuple(sorted(st.sets.get("only_binary", ()))),
            all_releases=tuple(sorted(st.sets.get("all_releases", ()))),
            only_final=tuple(sorted(st.sets.get("only_final", ()))),
            use_features=tuple(dict.fromkeys(st.lists.get("use_feature", ()))),
        )
        return Environment(
            requirements=tuple(st.requirements),
            python=st.python,
            sources=tuple(st.sources),
            options=options,
            format=NAME,
            notes=tuple(st.notes),
        )


# ---------------------------------------------------------------------------------------
# Line-level helpers (pure functions)


def _split_args(text: str) -> tuple[str, int | None]:
    """Split a line into requirement text and the offset where options start.

    Options start at the first whitespace-separated word beginning with ``-``.
    """
    for match in re.finditer(r"\S+", text):
        if match.group(0).startswith("-"):
            return text[: match.start()].rstrip(), match.start()
    return text, None


def _parse_options(line: LogicalLine, start: int) -> tuple[list[_Given], list[Token]]:
    """Read options the way optparse does; return them and the words left over."""
    words = split_words(line, start)
    given: list[_Given] = []
    leftovers: list[Token] = []
    i = 0
    while i < len(words):
        word = words[i]
        text = word.value
        i += 1
        if text == "--":
            leftovers.extend(words[i:])
            break
        if text.startswith("--"):
            name, eq, attached = text.partition("=")
            option = _match_long(line, name, word)
            if not option.takes_value:
                if eq:
                    raise line.error(f"{option.label} option does not take a value", word.start, word.end - word.start)
                given.append(_Given(option, None, word, word))
                continue
            if eq:
                given.append(_Given(option, attached, word, Token(attached, word.start + len(name) + 1, word.end)))
            elif i < len(words):
                given.append(_Given(option, words[i].value, Token(words[i].value, word.start, words[i].end), words[i]))
                i += 1
            else:
                raise line.error(f"{option.label} option requires 1 argument", word.start, word.end - word.start)
        elif text.startswith("-") and len(text) > 1:
            short = _SHORT.get(text[:2])
            if short is None:
                raise line.error(f"no such option: {text[:2]}", word.start, 2, hint=_suggest(text))
            if len(text) > 2:
                given.append(_Given(short, text[2:], word, Token(text[2:], word.start + 2, word.end)))
            elif i < len(words):
                given.append(_Given(short, words[i].value, Token(words[i].value, word.start, words[i].end), words[i]))
                i += 1
            else:
                raise line.error(f"{text} option requires 1 argument", word.start, word.end - word.start)
        else:
            leftovers.append(word)
    for g in given:
        _check_value(line, g)
    return given, leftovers


#: Options whose empty value pip cannot use (it opens a folder, trusts no host, builds no
#: link); an empty ``--index-url`` pip ignores, and ``--hash``, ``--config-settings`` and
#: ``--use-feature`` report their own errors.
_NON_EMPTY = frozenset(
    {
        "extra_index_url",
        "find_links",
        "trusted_host",
        "requirement",
        "constraint",
        "editable",
        "no_binary",
        "only_binary",
        "all_releases",
        "only_final",
        "global_option",
    }
)


def _match_long(line: LogicalLine, name: str, word: Token) -> _Option:
    if name in _LONG:
        return _LONG[name]
    candidates = sorted(n for n in _LONG if n.startswith(name))
    if len(candidates) == 1:
        return _LONG[candidates[0]]
    width = len(name)
    if not candidates:
        raise line.error(f"no such option: {name}", word.start, width, hint=_suggest(name))
    raise line.error(f"ambiguous option: {name} ({', '.join(candidates)}?)", word.start, width)


def _suggest(name: str) -> str | None:
    import difflib

    close = difflib.get_close_matches(name.partition("=")[0], list(_LONG) + list(_SHORT), n=1)
    return f"did you mean {close[0]}?" if close else None


def _check_value(line: LogicalLine, g: _Given) -> None:
    """The checks pip's option parser makes while it reads a line, whatever the line is."""
    value = g.value or ""
    width = g.at.end - g.at.start
    if g.value == "" and g.option.dest in _NON_EMPTY:
        raise line.error(f"{g.option.label} needs a non-empty value", g.at.start, max(width, 1))
    if g.option.dest == "hash":
        _hash(line, g)
    if g.option.dest == "config_settings" and "=" not in value:
        raise line.error(
            f"Arguments to {g.option.label} must be of the form KEY=VAL", g.token.start, g.token.end - g.token.start
        )
    if g.option.dest == "use_feature" and value not in FEATURES:
        choices = ", ".join(repr(f) for f in FEATURES)
        raise line.error(f"invalid choice for --use-feature: {value!r} (choose from {choices})", g.at.start, width)
    if g.option.dest in ("no_binary", "only_binary", "all_releases", "only_final") and value.startswith("-"):
        raise line.error(f"{g.option.label} requires a value: ':all:', ':none:' or package names", g.at.start, width)


#: Options whose values exclude each other's (pip's FormatControl and ReleaseControl).
_EXCLUSIVE = {
    "no_binary": "only_binary",
    "only_binary": "no_binary",
    "all_releases": "only_final",
    "only_final": "all_releases",
}


#: Options pip honours on every line, requirement lines included (see ``_global_effects``).
_GLOBAL = frozenset({*_EXCLUSIVE, "use_feature"})


def _apply_exclusive(value: str, target: set[str], other: set[str]) -> tuple[bool, bool]:
    """pip's ``handle_mutual_excludes``: ``:all:``, ``:none:`` and comma-separated names.

    Returns whether ``target`` and whether ``other`` were emptied on the way.
    """
    target_cleared = other_cleared = False
    new = value.split(",")
    while ":all:" in new:
        target_cleared = other_cleared = True
        other.clear()
        target.clear()
        target.add(":all:")
        del new[: new.index(":all:") + 1]
        if ":none:" not in new:
            return target_cleared, other_cleared
    for name in new:
        if name == ":none:":
            target_cleared = True
            target.clear()
            continue
        name = canonicalize_name(name)
        other.discard(name)
        target.add(name)
    return target_cleared, other_cleared


def _hash(line: LogicalLine, g: _Given) -> tuple[str, str]:
    algo, sep, digest = (g.value or "").partition(":")
    width = g.token.end - g.token.start
    if not sep:
        raise line.error(
            "Arguments to --hash must be a hash name followed by a value, like --hash=sha256:abcde...",
            g.token.start,
            width,
        )
    if algo not in STRONG_HASHES:
        raise line.error(f"Allowed hash algorithms for --hash are {', '.join(STRONG_HASHES)}.", g.token.start, width)
    return algo, digest


def _scheme(text: str) -> str | None:
    match = _SCHEME_RE.match(text)
    return match.group(1).lower() if match else None


def _is_url(text: str) -> bool:
    return _scheme(text) in URL_SCHEMES


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith(".")


def _strip_extras(text: str) -> tuple[str, str]:
    """pip's ``^(.+)(\\[[^\\]]+\\])$`` split of ``path[extras]``, as a linear scan (the
    pattern backtracks quadratically on many ``[``): the last ``[`` whose bracket runs,
    with no ``]`` inside, to the final ``]``."""
    if not text.endswith("]"):
        return text, ""
    start = text.rfind("[", 0, len(text) - 1)
    if start < 1 or start == len(text) - 2 or "]" in text[start + 1 : -1]:
        return text, ""
    return text[:start].rstrip(), text[start:]


def _split_egg_extras(name: str) -> tuple[str, frozenset[str]]:
    base, extras = _strip_extras(name)
    return base, frozenset(Requirement("placeholder" + extras).extras)


def _url_filename(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed [host]: no file name to read; the installer will say more
        return ""
    return unquote(posixpath.basename(parts.path.rstrip("/")) or parts.netloc)


def _path_filename(path: str) -> str:
    return posixpath.basename(path.replace("\\", "/"))


def _wheel_name(line: LogicalLine, filename: str, offset: int) -> tuple[str, SpecifierSet] | None:
    if not filename.lower().endswith(".whl"):
        return None
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        reason = str(exc).removeprefix("Invalid wheel filename").strip()
        at = line.text.rfind(filename.rsplit("/", 1)[-1], offset)
        at = at if at >= 0 else offset
        raise line.error(f"invalid wheel file name {reason}", at, len(filename)) from None
    return str(name), SpecifierSet(f"=={version}")


def _join(base: str, target: str) -> str:
    """Resolve an include ``target`` against the file ``base`` that names it."""
    if _scheme(base) in ("http", "https", "file"):
        return urljoin(base, target)
    if _scheme(target) in ("http", "https", "file"):
        return target
    directory = posixpath.dirname(base.replace("\\", "/"))
    return posixpath.normpath(posixpath.join(directory, target.replace("\\", "/")))


# ---------------------------------------------------------------------------------------
# Writing

REQUIRES_PYTHON_PRAGMA = "# requires-python:"


def dumps(env: Environment, existing: str | None = None) -> Rendered:
    """Write ``env`` as a requirements file: options first, then requirements in order.

    Hashes go on continuation lines; ``${VAR}`` references are written as they are.
    Constraints go to a companion file named by :attr:`Rendered.files`, included with
    ``-c``. The Python constraint, which pip cannot carry, is kept in a
    ``# requires-python:`` comment that envkit reads back.
    """
    del existing  # a requirements file is regenerated whole
    losses: list[Loss] = []
    out: list[str] = []
    if env.python is not None:
        out.append(f"{REQUIRES_PYTHON_PRAGMA} {env.python}")
        losses.append(
            Loss(
                "transformed",
                f"python {env.python}",
                "pip cannot enforce the interpreter version; kept as a '# requires-python:' comment",
            )
        )
    out.extend(_option_lines(env, losses))
    constraint_file = _constraint_file_name(env.constraints)
    constraint_lines: list[str] = []
    placed = False
    for dep in env.requirements:
        if dep.group is not None:
            losses.append(
                Loss("transformed", str(dep), f"group {dep.group!r} flattened into the main list", dep.origin)
            )
        if dep.index is not None:
            losses.append(
                Loss(
                    "transformed",
                    str(dep),
                    f"pip cannot tie a package to one index ({dep.index}); every index of the file may serve it",
                    dep.origin,
                )
            )
        if dep.channel is not None:
            losses.append(Loss("lost", str(dep), f"conda channel {dep.channel!r} has no meaning to pip", dep.origin))
        text = render_requirement(dep, losses)
        if dep.constraint:
            constraint_lines.append(text)
            if not placed:
                out.append(f"-c {constraint_file}")
                placed = True
        else:
            out.append(text)
    for spec in env.conda:
        losses.append(Loss("lost", spec, "a conda-only package has no pip equivalent"))
    if env.channels:
        losses.append(Loss("lost", f"channels {', '.join(env.channels)}", "conda channels have no meaning to pip"))
    for key, value in env.variables:
        losses.append(Loss("lost", f"variable {key}={value}", "pip sets no environment variables"))
    files = {constraint_file: "\n".join(constraint_lines) + "\n"} if constraint_lines else {}
    return Rendered("\n".join(out) + "\n" if out else "", tuple(losses), files)


def _constraint_file_name(constraints: tuple[Dependency, ...]) -> str:
    names = {posixpath.basename(d.origin.path) for d in constraints if d.origin is not None}
    if len(names) == 1 and "requirement" not in (name := names.pop()):
        return name  # its own name, unless it could be taken for the main file
    return "constraints.txt"


def _option_lines(env: Environment, losses: list[Loss]) -> Iterator[str]:
    opts = env.options
    for source in env.sources:
        flag = {"index": "--index-url", "extra-index": "--extra-index-url", "find-links": "--find-links"}[source.kind]
        if source.name:
            losses.append(
                Loss(
                    "transformed",
                    f"source {source.name}",
                    "a requirements file cannot name a source; its URL is kept",
                    source.origin,
                )
            )
        yield f"{flag} {_quote(source.full_url())}"
    if opts.no_index:
        yield "--no-index"
    for host in opts.trusted_hosts:
        yield f"--trusted-host {_quote(host)}"
    for flag, on in (
        ("--pre", opts.pre),
        ("--prefer-binary", opts.prefer_binary),
        ("--require-hashes", opts.require_hashes),
        ("--no-require-hashes", opts.no_require_hashes),
    ):
        if on:
            yield flag
    # ':all:' first: it clears the names given before it.
    exclusive = (
        ("--no-binary", opts.no_binary),
        ("--only-binary", opts.only_binary),
        ("--all-releases", opts.all_releases),
        ("--only-final", opts.only_final),
    )
    for flag, values in exclusive:
        if ":all:" in values:
            yield f"{flag} :all:"
    for flag, values in exclusive:
        for value in values:
            if value != ":all:":
                yield f"{flag} {_quote(value)}"
    for feature in opts.use_features:
        yield f"--use-feature {feature}"


def _quote(value: str) -> str:
    """``value`` as one word for the option splitter (``shlex``): quoted only when it must be.

    Only blanks, quotes and backslashes mean anything to ``shlex``; ``${VAR}`` stays readable.
    """
    return value if value and not re.search(r"[\s'\"\\]", value) else shlex.quote(value)


def _comment(text: str | None) -> str:
    """A trailing comment for ``text``: one line, and not ending in ``\\`` (a continuation)."""
    text = " ".join((text or "").splitlines()).rstrip().rstrip("\\").rstrip()
    return f"  # {text}" if text else ""


def _writable(value: str) -> bool:
    """Whether an option value survives pip's line splitting and comment removal."""
    return "".join(value.splitlines()) == value and re.search(r"\s#", value) is None


def render_requirement(dep: Dependency, losses: list[Loss] | None = None) -> str:
    """One requirement (without the ``-c``) as a requirements-file line."""
    lost = losses if losses is not None else []
    marker = f" ; {dep.marker}" if dep.marker is not None else ""
    extras = "[" + ",".join(sorted(dep.extras)) + "]" if dep.extras else ""
    if dep.editable:
        if dep.url and dep.name and (marker or dep.extras or _egg_name(dep.url) != dep.key):
            head = f"-e {_quote(f'{dep.name}{extras} @ {dep.url}{marker}')}"
        elif dep.url:
            head = f"-e {_quote(dep.url)}"
        else:
            head = f"-e {_quote(f'{dep.path}{extras}')}"
            if marker:
                lost.append(
                    Loss(
                        "lost", f"{dep} ; {dep.marker}", "pip cannot put a marker on an editable local path", dep.origin
                    )
                )
    elif dep.url:
        if dep.name and (dep.extras or not _url_implies_name(dep)):
            head = f"{dep.name}{extras} @ {dep.url}{marker}"
        else:
            head = f"{dep.url}{marker}"
    elif dep.path:
        if dep.name and not _path_implies_name(dep):
            lost.append(
                Loss(
                    "transformed",
                    str(dep),
                    f"pip takes the name of a local path from its build; the name {dep.name!r} is not written",
                    dep.origin,
                )
            )
        head = f"{dep.path}{extras}{marker}"
    else:
        head = f"{dep.name}{extras}{dep.specifier}{marker}"
    options = [f"--hash={algo}:{digest}" for algo, digest in dep.hashes]
    values = [("--config-settings", f"{k}={v}") for k, v in dep.config_settings]
    values += [("--global-option", o) for o in dep.global_options]
    for flag, value in values:
        if _writable(value):
            options.append(f"{flag}={_quote(value)}")
        else:
            reason = "a requirements file cannot hold a value with a line break or a ' #' (pip reads a comment)"
            lost.append(Loss("lost", f"{flag} {value!r}", reason, dep.origin))
    comment = _comment(dep.comment)
    if len(options) > 1 or dep.hashes:
        return " \\\n    ".join([head, *options]) + comment
    if options:
        return f"{head} {options[0]}{comment}"
    return head + comment


def _egg_name(url: str) -> str | None:
    match = _EGG_RE.search(url)
    return canonicalize_name(match.group(1)) if match and _PROJECT_NAME_RE.match(match.group(1)) else None


def _url_implies_name(dep: Dependency) -> bool:
    assert dep.url is not None
    filename = _url_filename(dep.url)
    if filename.lower().endswith(".whl"):
        try:
            name, version, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return False
        return name == dep.key and dep.specifier == SpecifierSet(f"=={version}")
    return _egg_name(dep.url) == dep.key and not dep.specifier


def _path_implies_name(dep: Dependency) -> bool:
    assert dep.path is not None
    filename = _path_filename(dep.path)
    if filename.lower().endswith(".whl"):
        try:
            name, version, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return False
        return name == dep.key and dep.specifier == SpecifierSet(f"=={version}")
    return False


def _check_url(url: str) -> None:
    """Raise ``ValueError`` where Python 3.11.4+'s ``urlsplit`` does, on every Python:
    older ones do not check a bracketed host (``http://[x]/``)."""
    netloc = urlsplit(url).netloc
    if "[" in netloc and "]" in netloc:
        import ipaddress

        host = netloc.partition("[")[2].partition("]")[0]
        if host.startswith("v"):
            if not re.match(r"\Av[a-fA-F0-9]+\..+\Z", host):
                raise ValueError("IPvFuture address is invalid")
        elif isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address):
            raise ValueError("An IPv4 address cannot be in brackets")
