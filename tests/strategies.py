"""Hypothesis strategies for the canonical model, shared by every format's round-trip test.

:func:`environments` draws an :class:`~envkit.model.Environment` whose every part is
valid for the model. A format that cannot carry some part passes the set of *features*
it can carry (``features=REQUIREMENTS_FEATURES``); the strategy then never draws the
rest. Each feature name is one independent kind of content:

=================  ==================================================================
``specifiers``     version specifiers on named requirements (``>=1.0,!=1.2.*``)
``extras``         ``name[extra,...]`` on requirements that may have them
``markers``        environment markers (``; python_version < "3.10"``)
``urls``           direct archive URLs (``https://host/foo-1.0.tar.gz``), named or bare
``vcs``            VCS URLs (``git+https://host/org/repo.git@v1#egg=foo``)
``paths``          local paths (``./pkg``, ``dist/foo-1.0-py3-none-any.whl``)
``editables``      ``-e`` requirements (a local path, or a named VCS URL)
``hashes``         ``--hash=sha256:...`` on non-editable requirements
``config``         per-requirement ``--config-settings KEY=VAL``
``global``         per-requirement ``--global-option`` (pip-only, deprecated)
``constraints``    constraints: a name, a specifier and an optional marker
``sources``        index, extra index and find-links sources
``credentials``    user and password on sources and URLs, literal or ``${VAR}``
``source-names``   named sources with a priority (Pipfile, poetry, uv)
``pip-options``    pip's file-wide options (:class:`~envkit.model.PipOptions`)
``python``         the interpreter constraint
``groups``         dependency groups (``dev``...)
``dep-index``      a requirement pinned to a named source
``conda``          conda-only specs, channels and variables
``comments``       a comment on a requirement (not part of equality, but it must not
                   change what the written file means)
=================  ==================================================================

The values are drawn from small realistic alphabets: free text that a file format cannot
hold by its nature (a marker string with ``" #"`` in it, which every comment-stripping
format eats) is not drawn, so a failure always means a reader or writer bug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional
from urllib.parse import quote

from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from envkit.model import Dependency, Environment, PipOptions, Source

__all__ = [
    "ALL_FEATURES",
    "REQUIREMENTS_FEATURES",
    "constraints",
    "dependencies",
    "environments",
    "extras",
    "markers",
    "pip_options",
    "project_names",
    "sources",
    "specifier_sets",
    "versions",
]

ALL_FEATURES = frozenset(
    {
        "specifiers",
        "extras",
        "markers",
        "urls",
        "vcs",
        "paths",
        "editables",
        "hashes",
        "config",
        "global",
        "constraints",
        "sources",
        "credentials",
        "source-names",
        "pip-options",
        "python",
        "groups",
        "dep-index",
        "conda",
        "comments",
    }
)

#: What pip's requirements-file format can carry.
REQUIREMENTS_FEATURES = ALL_FEATURES - {"source-names", "groups", "dep-index", "conda"}

#: Archive suffixes pip reads as a file name rather than a project name (``foo.zip``).
_ARCHIVE_SUFFIXES = (".zip", ".whl", ".tar", ".tgz", ".tbz", ".txz", ".tlz", ".tar.gz", ".tar.bz2", ".tar.xz")

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
#: Printable ASCII, the space included: the alphabet of free-text values (tokens, settings).
_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))

# ---------------------------------------------------------------------------------------
# Names, versions, specifiers, extras, markers


@st.composite
def project_names(draw: st.DrawFn) -> str:
    """A PEP 508 project name in any spelling (``Foo_Bar``, ``foo.bar``, ``x2``).

    Never ``python`` (a requirements file reads that as the interpreter) and never a
    name ending in an archive suffix (pip reads ``foo.zip`` as a file).
    """
    first = draw(st.sampled_from(_ALNUM))
    middle = draw(st.text(alphabet=_ALNUM + "._-", max_size=8))
    last = draw(st.sampled_from(_ALNUM)) if middle else ""
    name = first + middle + last
    lowered = name.lower()
    if canonicalize_name(name) == "python" or lowered.endswith(_ARCHIVE_SUFFIXES):
        name = "p" + name.replace(".", "-") + "0"
    return name


@st.composite
def versions(draw: st.DrawFn, *, local: bool = False, pre: bool = True, min_release: int = 1) -> str:
    """A PEP 440 version: epoch, release, pre, post, dev and (when ``local``) local parts."""
    release = draw(st.lists(st.integers(0, 30), min_size=min_release, max_size=4))
    text = ".".join(map(str, release))
    if draw(st.integers(0, 9)) == 0:
        text = f"{draw(st.integers(1, 3))}!{text}"
    if pre:
        if draw(st.booleans()) and draw(st.booleans()):
            text += draw(st.sampled_from(["a", "b", "rc"])) + str(draw(st.integers(0, 5)))
        if draw(st.integers(0, 5)) == 0:
            text += f".post{draw(st.integers(0, 3))}"
        if draw(st.integers(0, 5)) == 0:
            text += f".dev{draw(st.integers(0, 3))}"
    if local and draw(st.integers(0, 4)) == 0:
        text += "+" + draw(st.sampled_from(["cpu", "cu118", "local.1", "ubuntu.22"]))
    return text


@st.composite
def specifiers(draw: st.DrawFn) -> str:
    """One PEP 440 specifier clause, valid for its operator (``~=`` needs two segments...)."""
    op = draw(st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~=", "===", "==*"]))
    if op == "==*":
        op = draw(st.sampled_from(["==", "!="]))
        return f"{op}{draw(versions(pre=False))}.*"
    if op == "===":
        return "===" + draw(st.sampled_from(["1.0", "foobar", "2024.1-custom"]))
    if op == "~=":
        return "~=" + draw(versions(min_release=2))
    return op + draw(versions(local=op in ("==", "!=")))


@st.composite
def specifier_sets(draw: st.DrawFn, max_size: int = 3) -> SpecifierSet:
    """A :class:`SpecifierSet` of up to ``max_size`` clauses (possibly empty)."""
    clauses = draw(st.lists(specifiers(), max_size=max_size))
    return SpecifierSet(",".join(clauses))


def extras() -> st.SearchStrategy[frozenset[str]]:
    """A set of extra names, in any spelling."""
    return st.frozensets(project_names(), max_size=3)


_MARKER_VERSION_VARS = ("python_version", "python_full_version", "implementation_version")
_MARKER_STRING_VALUES = {
    "os_name": ("nt", "posix", "java"),
    "sys_platform": ("linux", "win32", "darwin", "cygwin"),
    "platform_machine": ("x86_64", "arm64", "aarch64", "AMD64"),
    "platform_system": ("Linux", "Windows", "Darwin"),
    "platform_python_implementation": ("CPython", "PyPy"),
    "implementation_name": ("cpython", "pypy"),
    "platform_release": ("5.15.0", "22.04"),
}


@st.composite
def _marker_atoms(draw: st.DrawFn) -> str:
    quote = draw(st.sampled_from(["'", '"']))
    if draw(st.booleans()):
        var = draw(st.sampled_from(_MARKER_VERSION_VARS))
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "~="]))
        value = draw(st.sampled_from(["3.8", "3.9", "3.10", "3.12.1", "3"]))
        if op == "~=" and "." not in value:
            value += ".0"
    else:
        var = draw(st.sampled_from(sorted(_MARKER_STRING_VALUES)))
        op = draw(st.sampled_from(["==", "!=", "in", "not in"]))
        value = draw(st.sampled_from(_MARKER_STRING_VALUES[var]))
    value = f"{quote}{value}{quote}"
    if draw(st.integers(0, 4)) == 0 and op in ("==", "!="):
        return f"{value} {op} {var}"  # the reversed form
    spaces = " " if op.endswith("in") else draw(st.sampled_from(["", " "]))
    return f"{var}{spaces}{op}{spaces}{value}"


@st.composite
def markers(draw: st.DrawFn, max_atoms: int = 3) -> Marker:
    """A :class:`Marker` of up to ``max_atoms`` comparisons joined by and/or, maybe grouped."""
    atoms = draw(st.lists(_marker_atoms(), min_size=1, max_size=max_atoms))
    text = atoms[0]
    for atom in atoms[1:]:
        joiner = draw(st.sampled_from([" and ", " or "]))
        if draw(st.booleans()):
            text = f"({text}){joiner}{atom}"
        else:
            text = f"{text}{joiner}{atom}"
    return Marker(text)


# ---------------------------------------------------------------------------------------
# URLs, paths, hashes, options

_HOSTS = ("example.com", "files.example.org", "127.0.0.1:8080", "gitlab.internal")
_VARS = ("${TOKEN}", "${PIP_PASSWORD}", "${USER}", "${CI_JOB_TOKEN}")


@st.composite
def credentials(draw: st.DrawFn) -> tuple[Optional[str], Optional[str]]:
    """A (username, password) pair: literals or ``${VAR}`` references; either may be absent."""
    literal = st.text(alphabet=_PRINTABLE, min_size=1, max_size=8)
    part = st.one_of(literal, st.sampled_from(_VARS), st.just("__token__"))
    username = draw(st.one_of(st.none(), part))
    password = draw(st.one_of(st.none(), part))
    if username is None and password is None:
        username = draw(part)
    return username, password


def _quote_part(part: str) -> str:
    """``part`` percent-encoded for a URL's user info, ``${VAR}`` references kept."""
    return "".join(
        chunk if re.fullmatch(r"\$\{[A-Z0-9_]+\}", chunk) else quote(chunk, safe="")
        for chunk in re.split(r"(\$\{[A-Z0-9_]+\})", part)
    )


def _userinfo(username: Optional[str], password: Optional[str]) -> str:
    """The ``user:password@`` of a direct URL, as a user would write it (percent-encoded)."""
    user = _quote_part(username or "")
    return f"{user}@" if password is None else f"{user}:{_quote_part(password)}@"


@st.composite
def _url_paths(draw: st.DrawFn) -> str:
    return "/".join(draw(st.lists(st.text(alphabet=_LOWER + "0123456789-_", min_size=1, max_size=6), max_size=3)))


@st.composite
def archive_urls(draw: st.DrawFn, name: str, *, wheel_version: Optional[str] = None, creds: bool = False) -> str:
    """An archive URL (sdist, zip, or a wheel of ``name`` at ``wheel_version``)."""
    host = draw(st.sampled_from(_HOSTS))
    if creds and draw(st.booleans()):
        host = _userinfo(*draw(credentials())) + host
    folder = draw(_url_paths())
    stem = re.sub(r"[-_.]+", "_", name)
    if wheel_version is not None:
        filename = f"{stem}-{wheel_version}-py3-none-any.whl"
    else:
        version = draw(versions(pre=False))
        filename = f"{stem}-{version}" + draw(st.sampled_from([".tar.gz", ".zip", ".tar.bz2"]))
    scheme = draw(st.sampled_from(["https", "http", "file"])) if not creds else "https"
    where = f"{folder}/{filename}" if folder else filename
    url = f"file:///srv/{where}" if scheme == "file" else f"{scheme}://{host}/{where}"
    if draw(st.integers(0, 3)) == 0:
        url += "#sha256=" + draw(st.text(alphabet="0123456789abcdef", min_size=8, max_size=8))
    return url


@st.composite
def vcs_urls(draw: st.DrawFn, egg: Optional[str] = None, *, creds: bool = False) -> str:
    """A VCS URL, ``git+https://host/org/repo.git@ref``, with ``#egg=`` when ``egg`` is given."""
    vcs = draw(st.sampled_from(["git", "git", "hg", "svn", "bzr"]))
    proto = draw(
        st.sampled_from(
            {"git": ["https", "ssh", "file"], "hg": ["https"], "svn": ["https", "svn"], "bzr": ["https"]}[vcs]
        )
    )
    host = draw(st.sampled_from(_HOSTS))
    if proto == "ssh":
        host = "git@" + host
    elif creds and proto == "https" and draw(st.booleans()):
        host = _userinfo(*draw(credentials())) + host
    repo = draw(st.text(alphabet=_LOWER + "-_", min_size=1, max_size=8))
    url = f"{vcs}+{proto}://{host}/org/{repo}" + (".git" if vcs == "git" else "")
    if draw(st.booleans()):
        url += "@" + draw(st.sampled_from(["main", "v1.2.0", "0123abcd", "release/2.x"]))
    fragments = []
    if egg is not None:
        fragments.append(f"egg={egg}")
    if draw(st.integers(0, 3)) == 0:
        fragments.append("subdirectory=" + draw(st.sampled_from(["python", "pkg/sub"])))
    if fragments:
        url += "#" + "&".join(fragments)
    return url


@st.composite
def local_paths(draw: st.DrawFn, *, wheel: Optional[tuple[str, str]] = None) -> str:
    """A relative local path as pip accepts it: a folder, an sdist, or a wheel file."""
    prefix = draw(st.sampled_from(["./", "../", "", "./libs/"]))
    # a path that starts with '-' is an option to pip; one that is a bare word is a name
    folder = draw(st.sampled_from(_LOWER)) + draw(st.text(alphabet=_LOWER + "0123456789-_", max_size=7))
    if wheel is not None:
        name, version = wheel
        stem = re.sub(r"[-_.]+", "_", name)
        return f"{prefix}{folder}/{stem}-{version}-py3-none-any.whl"
    kind = draw(st.sampled_from(["folder", "folder", "sdist"]))
    if kind == "sdist":
        return f"{prefix}{folder}/pkg-1.0.tar.gz"
    if not prefix:
        prefix = "./"  # a bare word is a project name, not a path
    return f"{prefix}{folder}"


_DIGESTS = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def hashes() -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """Up to three ``(algorithm, hex digest)`` pairs of pip's strong algorithms."""
    pair = st.tuples(st.sampled_from(["sha256", "sha384", "sha512"]), _DIGESTS)
    return st.lists(pair, max_size=3).map(tuple)


def config_settings() -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """Up to two ``(KEY, VAL)`` pairs; keys have no ``=``, values may have spaces and quotes."""
    key = st.text(alphabet=_ALNUM + "-_.", min_size=1, max_size=10)
    # pip strips a comment (' #...') before it splits options, so no value can hold one
    value = st.text(alphabet=_PRINTABLE, max_size=10).filter(lambda v: re.search(r"\s#", v) is None)
    return st.lists(st.tuples(key, value), max_size=2).map(tuple)


def global_options() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(["--no-user-cfg", "build_ext", "-j4", "--quiet"]), max_size=2).map(tuple)


# ---------------------------------------------------------------------------------------
# Dependencies


@st.composite
def dependencies(draw: st.DrawFn, features: Iterable[str] = REQUIREMENTS_FEATURES) -> Dependency:
    """One requirement (never a constraint) made only of the given features."""
    on = frozenset(features)
    kinds = ["index"]
    if "urls" in on:
        kinds += ["named-url", "bare-url", "wheel-url"]
    if "vcs" in on:
        kinds += ["named-vcs", "egg-vcs"]
    if "paths" in on:
        kinds += ["path", "wheel-path"]
    if "editables" in on and "paths" in on:
        kinds.append("editable-path")
    if "editables" in on and "vcs" in on:
        kinds.append("editable-vcs")
    kind = draw(st.sampled_from(kinds))
    creds = "credentials" in on
    name: Optional[str] = draw(project_names())
    spec = SpecifierSet()
    extra_set: frozenset[str] = draw(extras()) if "extras" in on else frozenset()
    marker = draw(st.one_of(st.none(), markers())) if "markers" in on else None
    url = path = None
    editable = False
    if kind == "index":
        spec = draw(specifier_sets()) if "specifiers" in on else SpecifierSet()
    elif kind == "named-url":
        url = draw(archive_urls(draw(project_names()), creds=creds))
    elif kind == "bare-url":
        name = None
        extra_set = frozenset()
        url = draw(archive_urls("pkg", creds=creds))
    elif kind == "wheel-url":  # name and version come from the file name; no extras
        extra_set = frozenset()
        version = draw(versions(local=True))
        spec = SpecifierSet(f"=={version}")
        assert name is not None
        url = draw(archive_urls(name, wheel_version=version, creds=creds))
    elif kind == "named-vcs":
        url = draw(vcs_urls(egg=draw(st.one_of(st.none(), st.just(name), project_names())), creds=creds))
    elif kind == "egg-vcs":
        extra_set = frozenset()
        url = draw(vcs_urls(egg=name, creds=creds))
    elif kind == "path":
        name = None
        path = draw(local_paths())
    elif kind == "wheel-path":
        assert name is not None
        version = draw(versions(local=True))
        spec = SpecifierSet(f"=={version}")
        path = draw(local_paths(wheel=(name, version)))
    elif kind == "editable-path":
        name, marker, editable = None, None, True
        path = draw(local_paths())
    elif kind == "editable-vcs":
        editable = True
        url = draw(vcs_urls(egg=draw(st.one_of(st.none(), st.just(name))), creds=creds))
    return Dependency(
        name,
        spec,
        extra_set,
        marker,
        url=url,
        path=path,
        editable=editable,
        hashes=draw(hashes()) if "hashes" in on and not editable else (),
        config_settings=draw(config_settings()) if "config" in on else (),
        global_options=draw(global_options()) if "global" in on and not editable else (),
        group=draw(st.sampled_from([None, None, "dev", "docs"])) if "groups" in on else None,
        comment=draw(st.one_of(st.none(), st.text(alphabet=_PRINTABLE, max_size=12))) if "comments" in on else None,
    )


@st.composite
def constraints(draw: st.DrawFn, features: Iterable[str] = REQUIREMENTS_FEATURES) -> Dependency:
    """A constraint: a project name, a specifier and an optional marker."""
    on = frozenset(features)
    marker = draw(st.one_of(st.none(), markers())) if "markers" in on else None
    spec = draw(specifier_sets()) if "specifiers" in on else SpecifierSet()
    return Dependency(draw(project_names()), spec, marker=marker, constraint=True)


# ---------------------------------------------------------------------------------------
# Sources, options, environments


@st.composite
def _source(draw: st.DrawFn, kind: str, on: frozenset[str]) -> Source:
    host = draw(st.sampled_from(_HOSTS))
    if kind == "find-links" and draw(st.booleans()):
        url = draw(st.sampled_from(["./wheels", "../dist", "/opt/wheels", "file:///srv/wheels"]))
    else:
        scheme = draw(st.sampled_from(["https", "http"]))
        url = f"{scheme}://{host}/" + draw(st.sampled_from(["simple", "simple/", "pypi/simple", "whl/cu118", ""]))
    username = password = None
    if "credentials" in on and url.startswith("http") and draw(st.booleans()):
        username, password = draw(credentials())
    name = priority = None
    if "source-names" in on:
        name = draw(st.text(alphabet=_LOWER + "-", min_size=1, max_size=8))
        priority = draw(st.sampled_from([None, "primary", "supplemental", "explicit"]))
    return Source(kind, url, username, password, name, priority)  # type: ignore[arg-type]


@st.composite
def sources(
    draw: st.DrawFn, features: Iterable[str] = REQUIREMENTS_FEATURES, *, no_index: bool = False
) -> tuple[Source, ...]:
    """Sources in an order pip gives a meaning: at most one index, before any extra index.

    With ``no_index`` only find-links places are drawn (pip drops every index then).
    """
    on = frozenset(features)
    if "sources" not in on:
        return ()
    result: list[Source] = []
    if not no_index and draw(st.booleans()):
        result.append(draw(_source("index", on)))
    kinds = ["find-links"] if no_index else ["extra-index", "find-links"]
    for kind in draw(st.lists(st.sampled_from(kinds), max_size=3)):
        result.append(draw(_source(kind, on)))
    # find-links places may come anywhere, even before the index
    if draw(st.booleans()):
        result.sort(key=lambda s: s.kind != "find-links")
    if "source-names" in on:
        seen: set[str] = set()
        unique = []
        for source in result:
            if source.name not in seen:
                seen.add(source.name or "")
                unique.append(source)
        result = unique
    return tuple(result)


_BINARY_NAMES = st.lists(
    st.sampled_from([":all:", "numpy", "pillow", "scipy", "lxml", "torch"]), max_size=3, unique=True
)


@st.composite
def _exclusive_pair(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Two value sets pip keeps disjoint, with ``:all:`` in at most one of them."""
    first = set(draw(_BINARY_NAMES))
    second = set(draw(_BINARY_NAMES)) - first
    if ":all:" in first:
        second.discard(":all:")
    return tuple(sorted(first)), tuple(sorted(second))


@st.composite
def pip_options(draw: st.DrawFn, *, no_index: Optional[bool] = None) -> PipOptions:
    """pip's file-wide options, each value set as pip keeps it (sorted, normalized, disjoint)."""
    no_binary, only_binary = draw(_exclusive_pair())
    all_releases, only_final = draw(_exclusive_pair())
    pre = draw(st.booleans())
    if pre and ":all:" in only_final:  # pip's --pre is '--all-releases :all:': a contradiction
        only_final = ()
    return PipOptions(
        no_index=draw(st.booleans()) if no_index is None else no_index,
        pre=pre,
        prefer_binary=draw(st.booleans()),
        require_hashes=draw(st.booleans()),
        no_require_hashes=draw(st.booleans()),
        trusted_hosts=tuple(
            draw(st.lists(st.sampled_from(["example.com", "127.0.0.1:8080", "pypi.internal"]), max_size=2, unique=True))
        ),
        no_binary=no_binary,
        only_binary=only_binary,
        all_releases=all_releases,
        only_final=only_final,
        use_features=tuple(
            draw(st.lists(st.sampled_from(["fast-deps", "truststore", "build-constraint"]), max_size=2, unique=True))
        ),
    )


@st.composite
def environments(
    draw: st.DrawFn, features: Iterable[str] = REQUIREMENTS_FEATURES, *, max_requirements: int = 6
) -> Environment:
    """An :class:`Environment` made only of the given features (see the module docstring)."""
    on = frozenset(features)
    unknown = on - ALL_FEATURES
    if unknown:
        raise ValueError(f"unknown features: {sorted(unknown)}")
    requirements = draw(st.lists(dependencies(on), max_size=max_requirements))
    if "constraints" in on:
        for constraint in draw(st.lists(constraints(on), max_size=3)):
            requirements.insert(draw(st.integers(0, len(requirements))), constraint)
    options = draw(pip_options()) if "pip-options" in on else PipOptions()
    source_tuple = draw(sources(on, no_index=options.no_index))
    if "dep-index" in on:
        named = [s.name for s in source_tuple if s.name]
        if named:
            requirements = [
                d.with_changes(index=draw(st.sampled_from([None, *named]))) if d.url is None and d.path is None else d
                for d in requirements
            ]
    conda: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    if "conda" in on:
        conda = tuple(
            draw(
                st.lists(
                    st.sampled_from(["cudatoolkit=11.8", "libgcc", "mkl>=2023", "ffmpeg"]), max_size=2, unique=True
                )
            )
        )
        channels = tuple(draw(st.lists(st.sampled_from(["conda-forge", "pytorch", "nvidia"]), max_size=2, unique=True)))
    return Environment(
        requirements=tuple(requirements),
        python=draw(st.one_of(st.none(), specifier_sets(max_size=2))) if "python" in on else None,
        sources=source_tuple,
        options=options,
        conda=conda,
        channels=channels,
    )
