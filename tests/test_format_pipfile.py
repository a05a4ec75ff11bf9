"""The Pipfile format: reading every value form, writing, merging, and plette's verdict.

Golden files live in ``tests/data/pipfile/``; run with ``ENVKIT_UPDATE_GOLDEN=1`` to
rewrite them after a deliberate change (then read the diff).
"""

from __future__ import annotations

import difflib
import io
import os
from pathlib import Path
from typing import Any, Optional

import plette
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from envkit.errors import EnvkitError, ParseError
from envkit.formats import pipfile, requirements
from envkit.formats._base import Loss
from envkit.model import Dependency, Environment, Origin, PipOptions, Source
from tests.strategies import markers, project_names, specifier_sets

DATA = Path(__file__).parent / "data" / "pipfile"
UPDATE = os.environ.get("ENVKIT_UPDATE_GOLDEN") == "1"


def golden(name: str, text: str) -> None:
    """Assert ``text`` equals the golden file ``name`` (or rewrite it when updating)."""
    path = DATA / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def plette_accepts(text: str) -> None:
    """pipenv's own Pipfile parser loads and validates ``text``."""
    plette.Pipfile.load(io.StringIO(text))


def env_of(text: str) -> Environment:
    return pipfile.loads(text, "Pipfile")


def only(text: str) -> Dependency:
    (dep,) = env_of(text).requirements
    return dep


def loss_lines(losses: tuple[Loss, ...]) -> list[str]:
    return [str(loss) for loss in losses]


# ---------------------------------------------------------------------------------------
# detect

DETECT = [
    ("Pipfile", "", True),
    ("project/Pipfile", "", True),
    ("corpus/psf__requests-html__Pipfile", "", True),
    ("Pipfile.lock", '{"_meta": {}}', False),
    ("deps.toml", "[packages]\nrequests = '*'\n", True),
    ("deps.toml", "[[source]]\nurl = 'https://x/simple'\n", True),
    ("deps.toml", "[dev-packages]\n", True),
    ("pyproject.toml", "[project]\nname = 'x'\n[tool.poetry.dependencies]\n", False),
    ("pylock.toml", "lock-version = '1.0'\n[[packages]]\nname = 'x'\n", False),
    ("requirements.txt", "[packages]\n", False),
    (None, "[packages]\nrequests = '*'\n", True),
    (None, "requests>=2\n", False),
]


@pytest.mark.parametrize(("path", "text", "expected"), DETECT)
def test_detect(path: Optional[str], text: str, expected: bool) -> None:
    assert pipfile.detect(path, text) is expected


# ---------------------------------------------------------------------------------------
# reading: one entry at a time (the key is "pkg" in [packages] unless the text says else)

GIT = "https://github.com/org/pkg.git"

ENTRIES: list[tuple[str, Dependency]] = [
    ('pkg = "*"', Dependency("pkg")),
    ('pkg = ""', Dependency("pkg")),
    ('pkg = "==1.0"', Dependency("pkg", SpecifierSet("==1.0"))),
    ('pkg = "1.0"', Dependency("pkg", SpecifierSet("==1.0"))),  # pipenv adds == to a bare version
    ('pkg = ">=2.14"', Dependency("pkg", SpecifierSet(">=2.14"))),
    ('pkg = "~=2.2"', Dependency("pkg", SpecifierSet("~=2.2"))),
    ('pkg = ">=1,<2"', Dependency("pkg", SpecifierSet(">=1,<2"))),
    ('pkg = "(>=1)"', Dependency("pkg", SpecifierSet(">=1"))),  # pipenv strips the parentheses
    ('pkg = {version = "*"}', Dependency("pkg")),
    ('pkg = {version = "==1.0", extras = ["a", "B"]}', Dependency("pkg", SpecifierSet("==1.0"), frozenset({"a", "b"}))),
    ('pkg = {version = "*", markers = "os_name == \'nt\'"}', Dependency("pkg", marker=Marker('os_name == "nt"'))),
    (
        'pkg = {version = "*", sys_platform = "== \'win32\'"}',
        Dependency("pkg", marker=Marker('sys_platform == "win32"')),
    ),
    (
        'pkg = {version = "*", markers = "python_version < \'3.10\'", os_name = "!= \'nt\'", platform_machine = "== \'x86_64\'"}',
        Dependency(
            "pkg", marker=Marker('python_version < "3.10" and os_name != "nt" and platform_machine == "x86_64"')
        ),
    ),
    (
        "pkg = {markers = \"os_name == 'nt' or os_name == 'posix'\", python_version = \">= '3.9'\"}",
        Dependency("pkg", marker=Marker('(os_name == "nt" or os_name == "posix") and python_version >= "3.9"')),
    ),
    ('pkg = {version = "*", os_markers = "os_name == \'nt\'"}', Dependency("pkg", marker=Marker('os_name == "nt"'))),
    (f'pkg = {{git = "{GIT}"}}', Dependency("pkg", url=f"git+{GIT}")),
    (f'pkg = {{git = "{GIT}", ref = "v1.2"}}', Dependency("pkg", url=f"git+{GIT}@v1.2")),
    (f'pkg = {{git = "git+{GIT}", ref = "v1.2"}}', Dependency("pkg", url=f"git+{GIT}@v1.2")),
    (
        f'pkg = {{git = "{GIT}", ref = "v1.2", subdirectory = "py"}}',
        Dependency("pkg", url=f"git+{GIT}@v1.2#subdirectory=py"),
    ),
    (
        f'pkg = {{git = "{GIT}", ref = "v1.2", editable = true}}',
        Dependency("pkg", url=f"git+{GIT}@v1.2#egg=pkg", editable=True),
    ),
    (
        f'pkg = {{git = "{GIT}", subdirectory = "py", editable = true, extras = ["x"]}}',
        Dependency("pkg", extras=frozenset({"x"}), url=f"git+{GIT}#egg=pkg&subdirectory=py", editable=True),
    ),
    (
        'pkg = {git = "ssh://git@github.com/org/pkg.git", ref = "main", markers = "os_name == \'posix\'"}',
        Dependency("pkg", marker=Marker('os_name == "posix"'), url="git+ssh://git@github.com/org/pkg.git@main"),
    ),
    (
        'pkg = {hg = "https://hg.example.com/pkg", ref = "tip"}',
        Dependency("pkg", url="hg+https://hg.example.com/pkg@tip"),
    ),
    ('pkg = {path = "./libs/pkg"}', Dependency("pkg", path="./libs/pkg")),
    ('pkg = {path = "./libs/pkg", editable = true}', Dependency("pkg", path="./libs/pkg", editable=True)),
    ('pkg = {file = ".", editable = true}', Dependency("pkg", path=".", editable=True)),
    (
        'pkg = {path = "dist/pkg-1.0-py3-none-any.whl"}',
        Dependency("pkg", SpecifierSet("==1.0"), path="dist/pkg-1.0-py3-none-any.whl"),
    ),
    (
        'pkg = {file = "https://example.com/pkg-1.0.tar.gz", extras = ["x"]}',
        Dependency("pkg", extras=frozenset({"x"}), url="https://example.com/pkg-1.0.tar.gz"),
    ),
    (
        'pkg = {file = "https://example.com/pkg-1.0-py3-none-any.whl"}',
        Dependency("pkg", url="https://example.com/pkg-1.0-py3-none-any.whl"),  # pip reads "pkg @ URL"
    ),
    (
        'pkg = {file = "https://example.com/pkg.zip", editable = true}',
        Dependency("pkg", url="https://example.com/pkg.zip"),
    ),
    ('pkg = {file = "file:///srv/pkg", editable = true}', Dependency("pkg", url="file:///srv/pkg", editable=True)),
    (
        'pkg = {version = "*", pip_args = ["--config-settings", "a=1", "--config-settings=b=2", "-Cc=3"]}',
        Dependency("pkg", config_settings=(("a", "1"), ("b", "2"), ("c", "3"))),
    ),
    (
        'pkg = {version = "==1", hashes = ["sha256:aaaa", "sha512:bbbb"]}',
        Dependency("pkg", SpecifierSet("==1"), hashes=(("sha256", "aaaa"), ("sha512", "bbbb"))),
    ),
    ('"Pkg.Name" = "*"', Dependency("Pkg.Name")),
    ("[packages.pkg]\nversion = '>=4'\nextras = ['x']", Dependency("pkg", SpecifierSet(">=4"), frozenset({"x"}))),
]


@pytest.mark.parametrize(("entry", "expected"), ENTRIES)
def test_read_entry(entry: str, expected: Dependency) -> None:
    text = entry if entry.startswith("[") else f"[packages]\n{entry}\n"
    dep = only(text)
    assert dep == expected
    assert dep.name == expected.name  # the key's spelling is kept


def test_read_entry_text_comment_and_origin() -> None:
    text = '[packages]\n\ntorch = {version = "==2.4.1"}   # CPU build\n'
    dep = only(text)
    assert (dep.text, dep.comment) == ('torch = {version = "==2.4.1"}', "CPU build")
    assert dep.origin == Origin("Pipfile", 3, 1, 'torch = {version = "==2.4.1"}   # CPU build')
    assert str(dep) == 'torch = {version = "==2.4.1"}'


def test_read_categories_groups() -> None:
    text = '[packages]\na = "*"\n\n[dev-packages]\nb = "*"\n\n[docs]\nc = "*"\n\n[scripts]\nt = "pytest"\n'
    env = env_of(text)
    assert [(d.name, d.group) for d in env.requirements] == [("a", None), ("b", "dev"), ("c", "docs")]


def test_read_no_binary_and_pipenv_settings() -> None:
    text = (
        '[packages]\npsycopg2 = {version = "*", no_binary = true}\nLXML = {version = "*", no_binary = true}\n\n'
        "[pipenv]\nallow_prereleases = true\ndisable_pip_input = true\n"
    )
    env = env_of(text)
    assert env.options == PipOptions(pre=True, no_binary=("lxml", "psycopg2"))
    assert [str(n) for n in env.notes] == [
        "Pipfile:7:1: warning: [pipenv] disable_pip_input is pipenv's own setting; it is not part of envkit's model"
    ]


WARNINGS = [
    (
        '[packages]\npkg = {path = ".", version = ">=1"}\n',
        "Pipfile:2:20: warning: pipenv ignores the version of 'pkg': it comes from a URL or a path",
    ),
    (
        '[packages]\npkg = {version = "*", editable = true}\n',
        "Pipfile:2:23: warning: pipenv installs 'pkg' from an index; editable needs a path or a VCS URL",
    ),
    (
        '[packages]\npkg = {version = "*", skip_resolver = true}\n',
        "Pipfile:2:1: warning: pipenv does not resolve 'pkg' (skip_resolver); envkit reads it as a plain requirement",
    ),
    (
        '[packages]\npkg = {version = "*", pip_args = ["--no-build-isolation"]}\n',
        "Pipfile:2:23: warning: pip_args '--no-build-isolation' has no place in envkit's model; ignored",
    ),
    (
        '[requires]\npython_implementation = "pypy"\n',
        "Pipfile:2:1: warning: [requires] python_implementation is not a Python constraint envkit knows; ignored",
    ),
]


@pytest.mark.parametrize(("text", "warning"), WARNINGS)
def test_read_warnings(text: str, warning: str) -> None:
    assert [str(n) for n in env_of(text).notes] == [warning]


# -- [requires] --------------------------------------------------------------------------

REQUIRES = [
    ('python_version = "3.11"', "==3.11.*"),
    ('python_version = "3"', "==3.*"),
    ('python_full_version = "3.11.4"', "==3.11.4"),
    ('python_version = "3.11"\npython_full_version = "3.11.4"', "==3.11.*,==3.11.4"),
]


@pytest.mark.parametrize(("body", "python"), REQUIRES)
def test_read_requires(body: str, python: str) -> None:
    assert env_of(f"[requires]\n{body}\n").python == SpecifierSet(python)


# -- [[source]] --------------------------------------------------------------------------


def test_read_sources_default_dropped_and_named_index_kept() -> None:
    text = (
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[[source]]\nurl = "https://download.pytorch.org/whl/cpu"\nverify_ssl = true\nname = "pytorch"\n\n'
        '[packages]\nrequests = {version = "*", index = "pypi"}\n'
        'torch = {version = "*", index = "pytorch"}\n'
        'vision = {version = "*", index = "https://download.pytorch.org/whl/cpu"}\n'
    )
    env = env_of(text)
    assert env.sources == (Source("extra-index", "https://download.pytorch.org/whl/cpu", name="pytorch"),)
    assert [(d.name, d.index) for d in env.requirements] == [
        ("requests", None),
        ("torch", "pytorch"),
        ("vision", "pytorch"),
    ]


def test_read_sources_private_index_credentials_and_trust() -> None:
    text = (
        '[[source]]\nurl = "https://${PYPI_USER}:${PYPI_TOKEN}@pypi.internal.example/simple"\nname = "internal"\n\n'
        '[[source]]\nurl = "http://mirror.local:8080/simple/"\nverify_ssl = false\nname = "mirror"\n\n'
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n'
    )
    env = env_of(text)
    assert env.sources == (
        Source("index", "https://pypi.internal.example/simple", "${PYPI_USER}", "${PYPI_TOKEN}", "internal"),
        Source("extra-index", "http://mirror.local:8080/simple/", name="mirror", verify_ssl=False),
        Source("extra-index", "https://pypi.org/simple", name="pypi"),  # not first: a real extra index
    )
    assert env.options.trusted_hosts == ("mirror.local:8080",)
    assert env.sources[0].origin == Origin("Pipfile", 1, 3, "[[source]]")


def test_read_pypi_unverified_is_kept() -> None:
    env = env_of('[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = false\nname = "pypi"\n')
    assert env.sources == (Source("index", "https://pypi.org/simple", name="pypi", verify_ssl=False),)
    assert env.options.trusted_hosts == ("pypi.org",)


# -- the shared example, asserted whole --------------------------------------------------


def test_example_pipfile(examples: Path) -> None:
    path = examples / "pipenv" / "Pipfile"
    env = pipfile.loads(path.read_text(encoding="utf-8"), str(path))
    assert env == Environment(
        requirements=(
            Dependency("mlflow", SpecifierSet(">=2.14")),
            Dependency("pandas", SpecifierSet("~=2.2"), frozenset({"performance"})),
            Dependency("torch", SpecifierSet("==2.4.1"), index="pytorch"),
            Dependency("pywin32", marker=Marker('sys_platform == "win32"')),
            Dependency(
                "feature-store",
                url="git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store",
                editable=True,
            ),
            Dependency("preprocessing", path="./libs/preprocessing", editable=True),
            Dependency("pytest", SpecifierSet(">=8"), group="dev"),
            Dependency("ruff", SpecifierSet("==0.6.9"), group="dev"),
        ),
        python=SpecifierSet("==3.11.*"),
        sources=(Source("extra-index", "https://download.pytorch.org/whl/cpu", name="pytorch"),),
    )
    assert [d.name for d in env.requirements] == [
        "mlflow",
        "pandas",
        "torch",
        "pywin32",
        "feature-store",
        "preprocessing",
        "pytest",
        "ruff",
    ]
    assert [d.origin.line for d in env.requirements if d.origin] == [12, 13, 14, 15, 16, 17, 20, 21]
    assert env.requirements[2].text == 'torch = {version = "==2.4.1", index = "pytorch"}'
    assert (env.format, env.name, env.notes, env.options) == ("pipfile", None, (), PipOptions())


def test_example_pipfile_written_anew_is_the_same_file(examples: Path) -> None:
    text = (examples / "pipenv" / "Pipfile").read_text(encoding="utf-8")
    rendered = pipfile.dumps(env_of(text))
    assert (rendered.text, rendered.losses) == (text, ())


# -- the corpus ----------------------------------------------------------------------------

CORPUS_COUNTS = {
    "DataTalksClub__machine-learning-zoomcamp__05-deployment_code_Pipfile": (4, 0, "==3.8.*"),
    "DataTalksClub__mlops-zoomcamp__04-deployment_web-service_Pipfile": (3, 1, "==3.9.*"),
    "DataTalksClub__mlops-zoomcamp__06-best-practices_code_Pipfile": (3, 6, "==3.9.*"),
    "kennethreitz__responder__Pipfile": (11, 0, "==3.11.*"),
    "psf__requests-html__Pipfile": (8, 8, None),
}


def corpus_pipfiles(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "other-formats").iterdir() if p.name.endswith("Pipfile"))


def test_corpus_pipfiles_read(corpus: Path) -> None:
    seen = {}
    for path in corpus_pipfiles(corpus):
        text = path.read_text(encoding="utf-8")
        assert pipfile.detect(str(path), text)
        env = pipfile.loads(text, str(path))
        main = sum(1 for d in env.requirements if d.group is None)
        dev = sum(1 for d in env.requirements if d.group == "dev")
        seen[path.name] = (main, dev, str(env.python) if env.python else None)
        assert env.sources == ()  # all of them use PyPI only
        assert env.notes == ()
    assert seen == CORPUS_COUNTS


def test_corpus_path_and_file_entries(corpus: Path) -> None:
    folder = corpus / "other-formats"
    responder = pipfile.loads((folder / "kennethreitz__responder__Pipfile").read_text(encoding="utf-8"))
    assert responder.requirements[0] == Dependency("responder", path=".", editable=True)
    html = pipfile.loads((folder / "psf__requests-html__Pipfile").read_text(encoding="utf-8"))
    assert [d for d in html.requirements if d.path] == [Dependency("e1839a8", path=".", editable=True, group="dev")]


def test_corpus_pipfiles_merge_unchanged_and_rewrite_equal(corpus: Path) -> None:
    for path in corpus_pipfiles(corpus):
        text = path.read_text(encoding="utf-8")
        env = pipfile.loads(text, str(path))
        assert pipfile.dumps(env, text).text == text, path.name
        fresh = pipfile.dumps(env)
        plette_accepts(fresh.text)
        assert pipfile.loads(fresh.text) == env, path.name
        assert fresh.losses == ()


# -- errors ---------------------------------------------------------------------------------

ERRORS = [
    (
        "[packages]\nrequests = \n",
        "Pipfile:2:12: invalid TOML: Invalid value\n    requests = \n               ^",
    ),
    (
        '[packages]\nrequests = {version = "*", commit = "abc"}\n',
        "Pipfile:2:28: unknown key 'commit' in the entry for 'requests'\n"
        '    requests = {version = "*", commit = "abc"}\n'
        "                               ^^^^^^\n"
        "  hint: pipenv accepts version, extras, markers, index, editable, git/hg/svn/bzr with ref and subdirectory, "
        "path, file, no_binary, pip_args, hashes and PEP 508 marker variables",
    ),
    (
        '[packages]\nrequests = ">=2,<"\n',
        "Pipfile:2:12: invalid version specifier '>=2,<'\n    requests = \">=2,<\"\n               ^^^^^^^",
    ),
    (
        '[packages]\nrequests = {version = ">=2,<"}\n',
        "Pipfile:2:23: invalid version specifier '>=2,<'\n"
        '    requests = {version = ">=2,<"}\n'
        "                          ^^^^^^^",
    ),
    (
        '[packages]\nrequests = {version = "*", markers = "os_name = \'nt\'"}\n',
        "Pipfile:2:38: invalid marker \"os_name = 'nt'\": Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in\n"
        '    requests = {version = "*", markers = "os_name = \'nt\'"}\n'
        "                                         ^^^^^^^^^^^^^^^^",
    ),
    (
        '[packages]\nrequests = {version = "*", sys_platform = "win32"}\n',
        "Pipfile:2:43: invalid marker 'sys_platform win32': Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in\n"
        '    requests = {version = "*", sys_platform = "win32"}\n'
        "                                              ^^^^^^^\n"
        "  hint: sys_platform's value is the rest of a comparison, like \"== 'value'\"",
    ),
    (
        '[packages]\ntorch = {version = "*", index = "pytorch"}\n',
        "Pipfile:2:33: index 'pytorch' names no [[source]]\n"
        '    torch = {version = "*", index = "pytorch"}\n'
        "                                    ^^^^^^^^^\n"
        "  hint: add a [[source]] named 'pytorch'",
    ),
    (
        '[[source]]\nurl = "https://pypi.org/simple"\nname = "pypi"\n\n[packages]\ntorch = {version = "*", index = "torch"}\n',
        "Pipfile:6:33: index 'torch' names no [[source]]\n"
        '    torch = {version = "*", index = "torch"}\n'
        "                                    ^^^^^^^\n"
        "  hint: the sources are 'pypi'",
    ),
    ('[[source]]\nname = "x"\n', "Pipfile:1:3: a source needs a url\n    [[source]]\n      ^^^^^^"),
    (
        '[[source]]\nurl = "https://x/simple"\nverify_ssl = "yes"\nname = "x"\n',
        'Pipfile:3:14: verify_ssl must be true or false\n    verify_ssl = "yes"\n                 ^^^^^',
    ),
    (
        '[[source]]\nurl = "https://a/simple"\nname = "a"\n\n[[source]]\nurl = "https://b/simple"\nname = "a"\n',
        "Pipfile:7:8: a second source named 'a'\n    name = \"a\"\n           ^^^\n  hint: source names must be unique",
    ),
    ("[source]\nurl = 'x'\n", "Pipfile:1:2: expected an array of tables: [[source]]\n    [source]\n     ^^^^^^"),
    (
        '[requires]\npython_version = "3.x"\n',
        "Pipfile:2:18: python_version must be a version like '3.11', not '3.x'\n"
        '    python_version = "3.x"\n'
        "                     ^^^^^",
    ),
    (
        "[requires]\npython_version = 3.11\n",
        "Pipfile:2:18: python_version must be a string\n    python_version = 3.11\n                     ^^^^",
    ),
    (
        '[requires]\npython_full_version = "3.11.x"\n',
        "Pipfile:2:23: python_full_version must be a version like '3.11.4', not '3.11.x'\n"
        '    python_full_version = "3.11.x"\n'
        "                          ^^^^^^^^",
    ),
    (
        '[packages]\nrequests = {extras = "socks"}\n',
        'Pipfile:2:22: extras must be a list of strings\n    requests = {extras = "socks"}\n                         ^^^^^^^',
    ),
    (
        "[packages]\nrequests = 2\n",
        "Pipfile:2:12: the entry for 'requests' must be a version string or a table\n    requests = 2\n               ^",
    ),
    (
        'docs = "sphinx"\n',
        "Pipfile:1:8: expected a table of packages for 'docs'\n    docs = \"sphinx\"\n           ^^^^^^^^",
    ),
    (
        '[packages]\n"not a name" = "*"\n',
        'Pipfile:2:1: \'not a name\' is not a valid project name\n    "not a name" = "*"\n    ^^^^^^^^^^^^',
    ),
    (
        '[packages]\nx = {git = "https://h/x.git", path = "."}\n',
        "Pipfile:2:31: the entry for 'x' names more than one place (git, path)\n"
        '    x = {git = "https://h/x.git", path = "."}\n'
        "                                  ^^^^",
    ),
    (
        '[packages]\nx = {version = "*", hashes = ["abc"]}\n',
        "Pipfile:2:30: a hash must be 'algorithm:digest', not 'abc'\n"
        '    x = {version = "*", hashes = ["abc"]}\n'
        "                                 ^^^^^^",
    ),
    (
        '[pipenv]\nallow_prereleases = "yes"\n',
        'Pipfile:2:21: allow_prereleases must be true or false\n    allow_prereleases = "yes"\n                        ^^^^^',
    ),
    (
        "[packages.django]\nversion = '>=4'\nextras = 'x'\n",
        "Pipfile:3:10: extras must be a list of strings\n    extras = 'x'\n             ^^^",
    ),
    (
        '[packages]\nx = {version = "*", pip_args = ["--config-settings", "novalue"]}\n',
        "Pipfile:2:32: pip_args: --config-settings takes KEY=VALUE, not 'novalue'\n"
        '    x = {version = "*", pip_args = ["--config-settings", "novalue"]}\n'
        "                                   ^^^^^^^^^^^^^^^^^^^^",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_read_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        pipfile.loads(text, "Pipfile")
    assert str(info.value) == message


def test_existing_file_errors_surface_on_write() -> None:
    with pytest.raises(ParseError) as info:
        pipfile.dumps(Environment(), "[packages]\nx = 1\n")
    assert str(info.value).splitlines()[0] == "Pipfile:2:5: the entry for 'x' must be a version string or a table"


# ---------------------------------------------------------------------------------------
# pipenv's own translation of entries to pip lines agrees with ours

PIPENV_CASES = [
    {"version": ">=2.14"},
    "==1.0",
    "1.0",
    {"version": "~=2.2", "extras": ["performance"]},
    {"version": "*", "markers": "sys_platform == 'win32'"},
    {"version": "*", "markers": "python_version < '3.9'", "sys_platform": "== 'win32'"},
    {"git": "https://github.com/org/pkg.git", "ref": "v1", "subdirectory": "py"},
    {"git": "ssh://git@github.com/org/pkg.git", "ref": "main", "markers": "os_name == 'posix'"},
    {"file": "https://example.com/pkg-1.0-py3-none-any.whl", "extras": ["x"]},
    {"path": "./libs/pkg", "editable": True},
    {"path": "./dist/pkg-1.0-py3-none-any.whl"},
]


@pytest.mark.parametrize("entry", PIPENV_CASES, ids=[repr(c) for c in PIPENV_CASES])
def test_pipenv_translation_agrees(entry: Any) -> None:
    dependencies = pytest.importorskip("pipenv.utils.dependencies")
    line = dependencies.convert_deps_to_pip({"pkg": entry})["pkg"]
    ours = pipfile.Context("Pipfile", pipfile.Spots()).read_entry("pkg", entry, None, ("packages", "pkg"))
    pips = requirements.loads(line + "\n").requirements[0]
    if ours.path is not None and pips.name is None:
        ours = ours.with_changes(name=None)  # pip takes a folder's name from its build
    assert ours == pips, line


# ---------------------------------------------------------------------------------------
# writing: golden files

FULL = Environment(
    requirements=(
        Dependency("numpy", SpecifierSet(">=1.26"), comment="fast arrays"),
        Dependency("torch", SpecifierSet("==2.4.1"), index="internal"),
        Dependency("psycopg2", SpecifierSet(">=2.9")),
        Dependency("tokenizers", SpecifierSet(">=0.19"), config_settings=(("--build-option", "--release"),)),
        Dependency(
            "pkg", url="git+ssh://git@github.com/org/pkg.git@main#subdirectory=py", marker=Marker('os_name == "posix"')
        ),
        Dependency("feature-store", url="git+https://github.com/org/fs.git@v0.4.1#egg=feature-store", editable=True),
        Dependency("mylib", path="../mylib", editable=True, extras=frozenset({"test"})),
        Dependency("wheelpkg", url="https://example.com/wheelpkg-1.0-py3-none-any.whl"),
        Dependency("pywin32", SpecifierSet(">=306"), marker=Marker('sys_platform == "win32"')),
        Dependency("pytest", SpecifierSet(">=8"), group="dev"),
        Dependency("mirror-only", group="dev", index="mirror"),
        Dependency("sphinx", SpecifierSet("~=7.3"), extras=frozenset({"docs"}), group="docs"),
    ),
    python=SpecifierSet("==3.11.4"),
    sources=(
        Source.from_url("index", "https://${PYPI_USER}:${PYPI_TOKEN}@pypi.internal.example/simple", name="internal"),
        Source("extra-index", "http://mirror.local:8080/simple", name="mirror", verify_ssl=False),
    ),
    options=PipOptions(pre=True, no_binary=("psycopg2",), trusted_hosts=("mirror.local:8080",)),
)


def test_golden_full() -> None:
    rendered = pipfile.dumps(FULL)
    golden("full.Pipfile", rendered.text)
    assert rendered.losses == ()
    plette_accepts(rendered.text)
    assert pipfile.loads(rendered.text) == FULL


def test_golden_kitchen_sink(examples: Path) -> None:
    folder = examples / "kitchen-sink"
    source = folder / "requirements-dev.txt"
    env = requirements.loads(source.read_text(encoding="utf-8"), str(source), opener=lambda p: Path(p).read_bytes())
    rendered = pipfile.dumps(env)
    golden("kitchen-sink.Pipfile", rendered.text)
    shared = str(examples)
    golden(
        "kitchen-sink.losses", "".join(f"{line.replace(shared, '$EXAMPLES')}\n" for line in loss_lines(rendered.losses))
    )
    plette_accepts(rendered.text)
    back = pipfile.loads(rendered.text)
    # Equal once every reported change is applied: sources named, PyPI default, flattened
    # constraints dropped, hashes gone, unnamed entries named, one numpy line.
    assert [d.name for d in back.requirements] == [
        "mlflow",
        "pyyaml",
        "numpy",
        "pandas",
        "scikit-learn",
        "torch",
        "uvicorn",
        "pywin32",
        "requests",
        "feature-store",
        "metrics",
        "preprocessing",
        "legacy_tool",
        "tokenizers",
        "xgboost",
        "pytest",
        "pytest-cov",
        "ruff",
        "mypy",
    ]
    by_name = {d.key: d for d in env.requirements if d.key}
    for dep in back.requirements:
        if dep.key in ("numpy", "scikit-learn", "metrics") or dep.key not in by_name:
            continue
        assert dep == by_name[dep.key].with_changes(index=None), dep.key
    assert back.options.trusted_hosts == env.options.trusted_hosts


# ---------------------------------------------------------------------------------------
# writing: what a Pipfile cannot carry, one case at a time

LOSSES: list[tuple[Environment, list[str]]] = [
    (
        Environment(requirements=(Dependency("urllib3", SpecifierSet("<3"), constraint=True, text="urllib3<3"),)),
        ["lost: urllib3<3: pipenv has no constraints (pip's -c); a Pipfile cannot say it"],
    ),
    (
        Environment(requirements=(Dependency("x", SpecifierSet("==1"), hashes=(("sha256", "ab"),), text="x==1"),)),
        ["lost: x==1: pipenv records hashes in Pipfile.lock when it locks; a Pipfile does not declare them"],
    ),
    (
        Environment(requirements=(Dependency("x", global_options=("-j4",), text="x"),)),
        ["lost: x --global-option -j4: pip 25.3 and newer reject --global-option"],
    ),
    (
        Environment(requirements=(Dependency("pytorch", channel="pytorch", text="pytorch::pytorch"),)),
        ["lost: pytorch::pytorch: a Pipfile cannot pin the conda channel 'pytorch'"],
    ),
    (
        Environment(requirements=(Dependency("x", index="nowhere", text="x"),)),
        ["lost: x: index 'nowhere' names no source of this Pipfile"],
    ),
    (
        Environment(requirements=(Dependency(None, path="./libs/a", text="./libs/a"),)),
        [
            "transformed: ./libs/a: a Pipfile entry needs a name; written as 'a' (pip takes the real name from the build)"
        ],
    ),
    (
        Environment(
            requirements=(
                Dependency("numpy", SpecifierSet(">=1.26"), marker=Marker('python_version >= "3.10"'), text="a"),
                Dependency("numpy", SpecifierSet("<1.27"), marker=Marker('python_version < "3.10"'), text="b"),
            )
        ),
        ["lost: b: a Pipfile category holds one entry per package and 'numpy' is already written"],
    ),
    (
        Environment(
            requirements=(Dependency("m", url="git+https://h/m.git@1#egg=m", text="git+https://h/m.git@1#egg=m"),)
        ),
        [
            "transformed: git+https://h/m.git@1#egg=m: a Pipfile spells it differently; "
            "it reads back as m @ git+https://h/m.git@1"
        ],
    ),
    (
        Environment(requirements=(Dependency("x", group="scripts", text="x"),)),
        ["lost: x: group 'scripts' is a reserved Pipfile table name"],
    ),
    (
        Environment(python=SpecifierSet(">=3.9")),
        [
            "lost: python >=3.9: a Pipfile [requires] takes one Python version (python_version = '3.11' or "
            "python_full_version = '3.11.4'), not a range"
        ],
    ),
    (
        Environment(sources=(Source("find-links", "./wheels"),)),
        ["lost: --find-links ./wheels: pipenv has no find-links; only [[source]] indexes"],
    ),
    (
        Environment(sources=(Source("index", "https://pypi.org/simple"),)),
        [
            "transformed: source https://pypi.org/simple: a Pipfile source needs a name; named 'pypi'",
            "transformed: source https://pypi.org/simple: PyPI is pipenv's default first source; "
            "it reads back as no index (pip's default)",
        ],
    ),
    (
        Environment(sources=(Source("index", "https://pkgs.example.com/simple", name="main", priority="primary"),)),
        [
            "lost: source main (priority primary): pipenv has no source priority: its first source serves every "
            "package, the others only the packages that name them with index = ..."
        ],
    ),
    (
        Environment(sources=(Source("extra-index", "https://pkgs.example.com/simple"),)),
        [
            "transformed: source https://pkgs.example.com/simple: a Pipfile source needs a name; "
            "named 'pkgs-example-com'",
            "transformed: source https://pkgs.example.com/simple: pipenv looks up a package on a secondary source "
            "only when the package names it with index = 'pkgs-example-com'; pip searched it for every package",
        ],
    ),
    (
        Environment(
            sources=(Source("index", "http://pkgs.example.com/simple", name="main"),),
            options=PipOptions(trusted_hosts=("pkgs.example.com", "other.example.com")),
        ),
        [
            "transformed: --trusted-host pkgs.example.com: written as verify_ssl = false on source 'main'",
            "lost: --trusted-host other.example.com: a Pipfile trusts a host only through verify_ssl = false on a "
            "[[source]] of that host",
        ],
    ),
    (
        Environment(sources=(Source("index", "https://pkgs.example.com/simple", name="main", verify_ssl=False),)),
        [
            "transformed: source https://pkgs.example.com/simple: pipenv passes --trusted-host pkgs.example.com "
            "to pip for a source with verify_ssl = false"
        ],
    ),
    (
        Environment(
            requirements=(Dependency("lxml"),),
            options=PipOptions(
                no_index=True,
                prefer_binary=True,
                require_hashes=True,
                no_require_hashes=True,
                no_binary=(":all:", "lxml", "numpy"),
                only_binary=("scipy",),
                all_releases=("a",),
                only_final=("b",),
                use_features=("truststore",),
            ),
        ),
        [
            "lost: --no-binary :all:: pipenv marks packages it lists with no_binary = true; it has no ':all:'",
            "lost: --no-binary numpy: pipenv marks packages it lists with no_binary = true; 'numpy' is not listed",
            "lost: --no-index: pipenv always uses its [[source]] indexes",
            "lost: --prefer-binary: a Pipfile has no such setting",
            "lost: --require-hashes: pipenv checks the hashes it records in Pipfile.lock; a Pipfile has no switch",
            "lost: --no-require-hashes: a Pipfile has no such setting",
            "lost: --only-binary scipy: a Pipfile has no such setting",
            "lost: --all-releases a: a Pipfile has no such setting",
            "lost: --only-final b: a Pipfile has no such setting",
            "lost: --use-feature truststore: a Pipfile has no such setting",
        ],
    ),
    (
        Environment(conda=("cudatoolkit=11.8",), channels=("conda-forge",), variables=(("OMP_NUM_THREADS", "1"),)),
        [
            "lost: cudatoolkit=11.8: a conda-only package has no Pipfile equivalent",
            "lost: channel conda-forge: a Pipfile has no conda channels",
            "lost: variable OMP_NUM_THREADS=1: a Pipfile has no environment variables",
        ],
    ),
]


@pytest.mark.parametrize(("env", "expected"), LOSSES)
def test_losses(env: Environment, expected: list[str]) -> None:
    rendered = pipfile.dumps(env)
    assert loss_lines(rendered.losses) == expected
    plette_accepts(rendered.text)


PYTHON = [
    ("==3.11.*", '[requires]\npython_version = "3.11"\n'),
    ("==3.*", '[requires]\npython_version = "3"\n'),
    ("==3.11.4", '[requires]\npython_full_version = "3.11.4"\n'),
    ("==3.11", '[requires]\npython_full_version = "3.11"\n'),
    ("==3.11.4,==3.11.*", '[requires]\npython_version = "3.11"\npython_full_version = "3.11.4"\n'),
]


@pytest.mark.parametrize(("python", "section"), PYTHON)
def test_write_python(python: str, section: str) -> None:
    rendered = pipfile.dumps(Environment(python=SpecifierSet(python)))
    assert rendered.text.endswith("\n\n" + section)
    assert rendered.losses == ()
    assert pipfile.loads(rendered.text).python == SpecifierSet(python)


def test_write_unnamed_entries_get_stable_keys() -> None:
    env = Environment(
        requirements=(
            Dependency(None, url="git+https://github.com/org/metrics.git@v1"),
            Dependency(None, url="https://example.com/dl/tool-2.0.tar.gz"),
            Dependency(None, path="./vendor/legacy_tool-0.9.tar.gz"),
            Dependency(None, path="."),
            Dependency(None, path="../other/legacy_tool"),
        )
    )
    text = pipfile.dumps(env).text
    assert text.split("[packages]\n")[1].split("\n\n")[0].splitlines() == [
        'metrics = {git = "https://github.com/org/metrics.git", ref = "v1"}',
        'tool = {file = "https://example.com/dl/tool-2.0.tar.gz"}',
        'legacy_tool = {path = "./vendor/legacy_tool-0.9.tar.gz"}',
        'local-project = {path = "."}',
        'legacy_tool-2 = {path = "../other/legacy_tool"}',
    ]


# ---------------------------------------------------------------------------------------
# merging into an existing Pipfile


def changed_lines(old: str, new: str) -> list[str]:
    """The lines a merge removed (``-``) and added (``+``), in order."""
    diff = difflib.ndiff(old.splitlines(), new.splitlines())
    return [line for line in diff if line[:2] in ("- ", "+ ")]


def edited(env: Environment) -> Environment:
    """The churn-model service's Pipfile, after a round of dependency updates."""
    reqs = []
    for dep in env.requirements:
        if dep.key == "scikit-learn":
            dep = dep.with_changes(specifier=SpecifierSet("==1.5.2"))
        elif dep.key == "pandas":
            dep = dep.with_changes(extras=frozenset({"performance", "excel"}))
        elif dep.key == "fastapi":
            dep = dep.with_changes(specifier=SpecifierSet(">=0.111"))
        elif dep.key in ("requests", "black", "ruff"):
            continue
        reqs.append(dep)
    reqs += [
        Dependency("pyarrow", SpecifierSet(">=16"), comment="parquet I/O"),
        Dependency("churn-features", SpecifierSet("==0.3.*"), index="internal"),
        Dependency("mypy", group="dev"),
    ]
    internal = Source.from_url(
        "extra-index", "https://${CI_USER}:${CI_TOKEN}@pypi.internal.example/simple", name="internal"
    )
    return env.with_changes(requirements=tuple(reqs), python=SpecifierSet("==3.12.*"), sources=(*env.sources, internal))


def test_merge_unchanged_model_keeps_every_byte() -> None:
    text = (DATA / "existing.Pipfile").read_text(encoding="utf-8")
    rendered = pipfile.dumps(env_of(text), text)
    assert (rendered.text, rendered.losses) == (text, ())


def test_merge_changes_only_our_keys() -> None:
    text = (DATA / "existing.Pipfile").read_text(encoding="utf-8")
    env = edited(env_of(text))
    rendered = pipfile.dumps(env, text)
    golden("existing.merged.Pipfile", rendered.text)
    assert rendered.losses == ()
    assert changed_lines(text, rendered.text) == [
        "+ [[source]]",
        '+ url = "https://${CI_USER}:${CI_TOKEN}@pypi.internal.example/simple"',
        "+ verify_ssl = true",
        '+ name = "internal"',
        "+ ",
        '- "scikit-learn" = "==1.5.1"',
        '+ "scikit-learn" = "==1.5.2"',
        '- pandas = { version = "~=2.2", extras = ["performance"] }',
        '+ pandas = { version = "~=2.2", extras = ["excel", "performance"] }',
        '- requests = "*"',
        '+ pyarrow = ">=16"  # parquet I/O',
        '+ churn-features = {version = "==0.3.*", index = "internal"}',
        '- version = ">=0.110"',
        '+ version = ">=0.111"',
        '+ mypy = "*"',
        '- black = "==24.4.2"',
        "- ",
        "- [lint]",
        '- ruff = "*"',
        '- python_version = "3.11"',
        '+ python_version = "3.12"',
    ]
    plette_accepts(rendered.text)
    assert pipfile.loads(rendered.text) == env


def test_merge_changes_a_string_entry_into_a_table_and_back() -> None:
    text = '[packages]\nmlflow = ">=2.14"  # pinned by ops\nflask = {version = "*", extras = ["async"]}\n'
    env = env_of(text).with_changes(
        requirements=(
            Dependency("mlflow", SpecifierSet(">=2.14"), marker=Marker('python_version >= "3.10"')),
            Dependency("flask", SpecifierSet(">=3")),
        )
    )
    merged = pipfile.dumps(env, text).text
    assert merged == (
        '[packages]\nmlflow = {version = ">=2.14", markers = "python_version >= \'3.10\'"}  # pinned by ops\n'
        'flask = {version = ">=3"}\n'
    )
    assert pipfile.loads(merged) == env


def test_merge_source_and_settings() -> None:
    text = (
        "# company Pipfile\n"
        '[[source]]\nurl = "https://pypi.python.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[packages]\nrequests = "*"\n\n[pipenv]\nallow_prereleases = true\nsort_pipfile = true\n'
    )
    env = env_of(text)
    assert env.options.pre
    # the old PyPI URL is kept as it is: it is still pipenv's default source
    assert pipfile.dumps(env, text).text == text
    unpre = env.with_changes(options=PipOptions(), python=SpecifierSet("==3.12.*"))
    assert pipfile.dumps(unpre, text).text == (
        "# company Pipfile\n"
        '[[source]]\nurl = "https://pypi.python.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[packages]\nrequests = "*"\n\n[pipenv]\nsort_pipfile = true\n\n[requires]\npython_version = "3.12"\n'
    )
    private = env.with_changes(sources=(Source("index", "https://pkgs.example.com/simple", name="corp"),))
    assert pipfile.dumps(private, text).text == text.replace(
        'url = "https://pypi.python.org/simple"\nverify_ssl = true\nname = "pypi"',
        'url = "https://pkgs.example.com/simple"\nverify_ssl = true\nname = "corp"',
    )


def test_merge_into_a_file_without_sources() -> None:
    text = '[packages]\nrequests = "*"\n'
    env = env_of(text)
    assert pipfile.dumps(env, text).text == text  # pipenv's default source needs no table
    with_index = env.with_changes(sources=(Source("extra-index", "https://pkgs.example.com/simple", name="corp"),))
    merged = pipfile.dumps(with_index, text).text
    assert merged == (
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[[source]]\nurl = "https://pkgs.example.com/simple"\nverify_ssl = true\nname = "corp"\n\n'
        '[packages]\nrequests = "*"\n'
    )
    assert pipfile.loads(merged) == with_index


def test_merge_removes_sources_and_python() -> None:
    text = (
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[[source]]\nurl = "https://a.example.com/simple"\nverify_ssl = true\nname = "a"\n\n'
        '[packages]\nx = "*"\n\n[requires]\npython_version = "3.11"\n'
    )
    merged = pipfile.dumps(Environment(requirements=(Dependency("x"),)), text).text
    assert (
        merged
        == '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n[packages]\nx = "*"\n'
    )


# ---------------------------------------------------------------------------------------
# hypothesis: whatever a Pipfile carries comes back equal, and plette accepts the file

_HOSTS = ("pkgs.example.com", "mirror.local:8080", "10.0.0.5")


@st.composite
def carried_sources(draw: st.DrawFn) -> tuple[Source, ...]:
    names = draw(st.lists(st.sampled_from(["corp", "mirror", "torch", "gpu"]), max_size=3, unique=True))
    result = []
    for i, name in enumerate(names):
        host = _HOSTS[i]  # pip trusts a host, pipenv a source: one source per host keeps them equal
        scheme = draw(st.sampled_from(["https", "http"]))
        url = f"{scheme}://{host}/" + draw(st.sampled_from(["simple", "simple/", "whl/cpu"]))
        creds = draw(st.sampled_from([(None, None), ("${USER}", "${TOKEN}"), ("__token__", "${TOKEN}")]))
        kind = "index" if i == 0 and draw(st.booleans()) else "extra-index"
        result.append(Source(kind, url, creds[0], creds[1], name, verify_ssl=draw(st.booleans())))  # type: ignore[arg-type]
    return tuple(result)


@st.composite
def carried_dependency(draw: st.DrawFn, names: list[str]) -> Dependency:
    name = draw(project_names())
    kind = draw(st.sampled_from(["index", "index", "vcs", "path", "file"]))
    extras = draw(st.frozensets(st.sampled_from(["a", "test", "Docs_x"]), max_size=2))
    marker = draw(st.one_of(st.none(), markers()))
    group = draw(st.sampled_from([None, None, "dev", "docs"]))
    if kind == "index":
        return Dependency(
            name,
            draw(specifier_sets()),
            extras,
            marker,
            group=group,
            index=draw(st.sampled_from([None, *names])),
            config_settings=tuple(
                draw(
                    st.lists(st.tuples(st.sampled_from(["k", "--opt"]), st.sampled_from(["1", "a b", ""])), max_size=2)
                )
            ),
        )
    if kind == "vcs":
        editable = draw(st.booleans())
        ref = draw(st.sampled_from(["", "@main", "@v1.2.0", "@0123abcd"]))
        sub = draw(st.sampled_from(["", "py"]))
        url = f"git+https://github.com/org/{canonicalize_name(name)}.git{ref}"
        fragments = ([f"egg={name}"] if editable else []) + ([f"subdirectory={sub}"] if sub else [])
        if fragments:
            url += "#" + "&".join(fragments)
        return Dependency(name, extras=extras, marker=marker, url=url, editable=editable, group=group)
    if kind == "path":
        path = draw(st.sampled_from([".", "./libs/x", "../y", "vendor/z-1.0.tar.gz"]))
        return Dependency(name, extras=extras, marker=marker, path=path, editable=draw(st.booleans()), group=group)
    url = draw(st.sampled_from(["https://example.com/f/x-1.0.tar.gz", "https://${TOKEN}@example.com/x.zip"]))
    return Dependency(name, extras=extras, marker=marker, url=url, group=group)


@st.composite
def carried_environments(draw: st.DrawFn) -> Environment:
    sources = draw(carried_sources())
    names = [s.name for s in sources if s.name]
    deps: list[Dependency] = []
    seen: set[tuple[Optional[str], str]] = set()
    for dep in draw(st.lists(carried_dependency(names), max_size=6)):
        key = (dep.group, canonicalize_name(dep.name or ""))
        if key not in seen:
            seen.add(key)
            deps.append(dep)
    trusted: list[str] = []
    for source in sources:
        host = pipfile.trusted_host(source)
        if host and host not in trusted:
            trusted.append(host)
    plain = sorted({canonicalize_name(d.name or "") for d in deps if d.url is None and d.path is None})
    no_binary = tuple(sorted(draw(st.sets(st.sampled_from(plain), max_size=2)))) if plain else ()
    python = draw(st.sampled_from([None, "==3.11.*", "==3.*", "==3.12.1", "==3.10", "==3.11.*,==3.11.4"]))
    return Environment(
        requirements=tuple(deps),
        python=SpecifierSet(python) if python else None,
        sources=sources,
        options=PipOptions(pre=draw(st.booleans()), trusted_hosts=tuple(trusted), no_binary=no_binary),
    )


SECONDARY = "pipenv looks up a package on a secondary source only when the package names it"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(carried_environments())
def test_round_trip(env: Environment) -> None:
    rendered = pipfile.dumps(env)
    assert [loss for loss in rendered.losses if SECONDARY not in loss.reason] == []
    plette_accepts(rendered.text)
    back = pipfile.loads(rendered.text)
    assert back == env
    assert pipfile.dumps(back, rendered.text).text == rendered.text  # merging the same model changes nothing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(carried_environments(), carried_environments())
def test_merge_round_trip(first: Environment, second: Environment) -> None:
    """Merging any model into any written file gives a file that reads as that model."""
    existing = pipfile.dumps(first).text
    merged = pipfile.dumps(second, existing).text
    plette_accepts(merged)
    assert pipfile.loads(merged) == second


def test_dumps_rejects_nothing_silently_for_lock_style_input() -> None:
    """A model read from a lock (pins and hashes) still writes, reporting every hash."""
    env = Environment(requirements=(Dependency("six", SpecifierSet("==1.16.0"), hashes=(("sha256", "0" * 64),)),))
    rendered = pipfile.dumps(env)
    assert loss_lines(rendered.losses) == [
        "lost: six==1.16.0: pipenv records hashes in Pipfile.lock when it locks; a Pipfile does not declare them"
    ]
    with pytest.raises(EnvkitError):
        pipfile.loads("[packages\n")
