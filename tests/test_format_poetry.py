"""poetry's pyproject.toml: reading every value form, writing both styles, merging, and
poetry's own verdict (poetry-core loads what we write; ``poetry check`` passes).

Golden files live in ``tests/data/poetry/``; run with ``ENVKIT_UPDATE_GOLDEN=1`` to
rewrite them after a deliberate change (then read the diff).
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from poetry.core.constraints.version import parse_constraint

from envkit.errors import EnvkitError, ParseError
from envkit.formats import poetry, requirements
from envkit.formats._base import Loss
from envkit.model import Dependency, Environment, Origin, PipOptions, Source
from tests.strategies import extras, local_paths, markers, project_names, specifier_sets

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = Path(__file__).parent / "data" / "poetry"
UPDATE = os.environ.get("ENVKIT_UPDATE_GOLDEN") == "1"
POETRY = Path(sys.executable).parent / "poetry"


def golden(name: str, text: str) -> None:
    """Assert ``text`` equals the golden file ``name`` (or rewrite it when updating)."""
    path = DATA / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def only(text: str) -> Dependency:
    (dep,) = poetry.loads(text).requirements
    return dep


def view(dep: Dependency) -> tuple[Any, ...]:
    """The parts of a dependency a test states, in one comparable tuple."""
    return (
        dep.group,
        dep.pep508(),
        dep.path,
        dep.editable,
        dep.index,
    )


def loss_lines(losses: tuple[Loss, ...]) -> list[str]:
    return [str(loss) for loss in losses]


def same_env(a: Environment, b: Environment) -> bool:
    """``a == b``, with requirements matched by Dependency equality in any order.

    (``Environment.__eq__`` sorts ``repr`` keys, and the ``repr`` of two equal frozensets
    of extras may list them in different orders.)
    """
    rest = list(b.requirements)
    for dep in a.requirements:
        match = next((i for i, other in enumerate(rest) if other == dep), None)
        if match is None:
            return False
        del rest[match]
    return not rest and a.with_changes(requirements=()) == b.with_changes(requirements=())


# ---------------------------------------------------------------------------------------
# detect

DETECT = [
    ("pyproject.toml", "[tool.poetry]\nname = 'x'\n", True),
    ("project/pyproject.toml", "[tool.poetry.dependencies]\nrequests = '*'\n", True),
    ("corpus/sdispater__pendulum__pyproject.toml", "[project]\nname = 'x'\n[tool.poetry]\n", True),
    ("pyproject.toml", "[tool]\npoetry = { name = 'x' }\n", True),
    ("pyproject.toml", "[project]\nname = 'x'\ndependencies = []\n", False),
    ("pyproject.toml", "[tool.uv]\ndev-dependencies = []\n", False),
    ("pyproject.toml", "[tool.poetry-dynamic-versioning]\nenable = true\n", False),
    ("pyproject.toml", "[tool.poetry]\nname = 'broken", True),
    ("Pipfile", "[tool.poetry]\n", False),
    ("deps.toml", "[tool.poetry]\n", False),
    ("poetry.lock", "[[package]]\nname = 'x'\n", False),
    (None, "[tool.poetry]\nname = 'x'\n", True),
    (None, "[project]\nname = 'x'\n", False),
]


@pytest.mark.parametrize(("path", "text", "expected"), DETECT)
def test_detect(path: Optional[str], text: str, expected: bool) -> None:
    assert poetry.detect(path, text) is expected


# ---------------------------------------------------------------------------------------
# The bundled example, in full


def test_example_reads_in_full(examples: Path) -> None:
    path = examples / "poetry" / "pyproject.toml"
    env = poetry.loads(path.read_text(), "pyproject.toml")

    def at(line: int) -> Origin:
        return Origin("pyproject.toml", line, 1, "")

    expected = Environment(
        requirements=(
            Dependency("mlflow", SpecifierSet(">=2.14,<3.0")),
            Dependency("pandas", SpecifierSet(">=2.2,<2.3"), frozenset({"performance"})),
            Dependency("torch", SpecifierSet("==2.4.1"), index="pytorch"),
            Dependency("pywin32", SpecifierSet(">=306"), marker=Marker("sys_platform == 'win32'")),
            Dependency("feature-store", url="git+https://github.com/example/feature-store.git@v0.4.1"),
            Dependency("preprocessing", path="libs/preprocessing", editable=True),
            Dependency(
                "xgboost",
                SpecifierSet(">=2.0,<3.0"),
                marker=Marker('python_version >= "3.10" and sys_platform == "linux"'),
            ),
            Dependency("xgboost", SpecifierSet(">=1.7,<2.0"), marker=Marker('sys_platform == "darwin"')),
            Dependency("pytest", SpecifierSet(">=8.0,<9.0"), group="dev"),
            Dependency("ruff", SpecifierSet("==0.6.9"), group="dev"),
        ),
        python=SpecifierSet(">=3.10,<4.0"),
        sources=(Source("extra-index", "https://download.pytorch.org/whl/cpu", name="pytorch", priority="explicit"),),
    )
    assert env == expected
    assert (env.name, env.format, env.notes) == ("churn-model", "poetry", ())
    # file order, the user's spelling and where each came from
    assert [(str(d), d.origin.line if d.origin else None) for d in env.requirements] == [
        ('mlflow = "^2.14"', 11),
        ('pandas = {version = "~2.2", extras = ["performance"]}', 12),
        ('torch = {version = "2.4.1", source = "pytorch"}', 13),
        ('pywin32 = {version = ">=306", markers = "sys_platform == \'win32\'"}', 14),
        ('feature-store = {git = "https://github.com/example/feature-store.git", tag = "v0.4.1"}', 15),
        ('preprocessing = {path = "libs/preprocessing", develop = true}', 16),
        ('xgboost = {version = "^2.0", python = ">=3.10", platform = "linux"}', 18),
        ('xgboost = {version = "^1.7", platform = "darwin"}', 19),
        ('pytest = "^8.0"', 23),
        ('ruff = "0.6.9"', 24),
    ]
    del at


# ---------------------------------------------------------------------------------------
# The corpus: every poetry pyproject.toml reads, with the right shape

CORPUS = {
    # file: (name, python, main count, {group: count}, a few dependencies as pep508)
    "Textualize__rich__pyproject.toml": (
        "rich",
        ">=3.8.0",
        2,
        {"extra:jupyter": 1, "dev": 7},
        ["pygments<3.0.0,>=2.13.0", "ipywidgets<9,>=7.5.1", "typing-extensions<5.0,>=4.0.0"],
    ),
    "certbot__certbot__tools_pinning_current_pyproject.toml": (
        "certbot-pinner",
        "<4.0,>=3.10",
        26,
        {},
        ['cython<3.0; python_version < "3.13"', 'cython>=3.0; python_version >= "3.13"', "acme[docs,test]"],
    ),
    "huggingface__text-generation-inference__clients_python_pyproject.toml": (
        "text-generation",
        "<4.0,>=3.9",
        3,
        {"dev": 3},
        ["pydantic<3,>2", "huggingface-hub<1.0,>=0.12", "pytest<9,>=8"],
    ),
    "huggingface__text-generation-inference__server_pyproject.toml": (
        "text-generation-server",
        "<3.13,>=3.9",
        21,
        {
            "extra:accelerate": 1,
            "extra:quantize": 3,
            "extra:bnb": 1,
            "extra:peft": 1,
            "extra:torch": 1,
            "extra:outlines": 1,
            "dev": 2,
        },
        ["opentelemetry-instrumentation-grpc<0.37,>=0.36b0", "outlines<0.0.37,>=0.0.36"],
    ),
    "sdispater__pendulum__pyproject.toml": (
        "pendulum",
        ">=3.9",
        3,
        {"test": 4, "doc": 4, "lint": 1, "typing": 3, "dev": 3, "benchmark": 1, "build": 1},
        [
            'time-machine>=2.16.0; implementation_name != "pypy"',
            'cleo<3.0.0,>=2.0.1; python_version >= "3.8" and python_version < "4.0"',
        ],
    ),
    "tiangolo__full-stack-fastapi-template__backend_pyproject.toml": (
        "app",
        "<4.0,>=3.10",
        18,
        {"dev": 6},
        ["uvicorn[standard]<0.25.0,>=0.24.0.post1", "bcrypt==4.0.1", "types-passlib<2.0.0.0,>=1.7.7.20240106"],
    ),
}


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "other-formats").glob("*pyproject.toml") if poetry.detect(p.name, p.read_text()))


def test_corpus_has_every_poetry_pyproject(corpus: Path) -> None:
    assert [p.name for p in corpus_files(corpus)] == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_reads(corpus: Path, name: str) -> None:
    path = corpus / "other-formats" / name
    env = poetry.loads(path.read_text(), name)
    project, python, main, groups, some = CORPUS[name]
    counts: dict[str, int] = {}
    for dep in env.requirements:
        if dep.group is not None:
            counts[dep.group] = counts.get(dep.group, 0) + 1
    assert (env.name, str(env.python), len([d for d in env.requirements if d.group is None]), counts) == (
        project,
        python,
        main,
        groups,
    )
    written = {d.pep508() for d in env.requirements}
    assert [s for s in some if s not in written] == []
    assert all(d.origin is not None and d.origin.line > 1 for d in env.requirements)


def test_corpus_pendulum_enriches_project_dependencies(corpus: Path) -> None:
    """poetry 2: [project] lists the dependencies; [tool.poetry.dependencies] narrows one."""
    name = "sdispater__pendulum__pyproject.toml"
    env = poetry.loads((corpus / "other-formats" / name).read_text(), name)
    main = [d for d in env.requirements if d.group is None]
    assert [(d.pep508(), str(d), d.origin.line if d.origin else 0) for d in main] == [
        ("python-dateutil>=2.6", "python-dateutil>=2.6", 21),
        ("tzdata>=2020.1", "tzdata>=2020.1", 22),
        (
            'time-machine>=2.16.0; implementation_name != "pypy"',
            'time-machine>=2.6.0; implementation_name != "pypy"',
            23,
        ),
    ]
    assert env.notes == ()


# ---------------------------------------------------------------------------------------
# Reading: value forms

DEP = "[tool.poetry.dependencies]\n"

READ = [
    # constraint strings
    (DEP + 'a = "^1.2.3"', (None, "a<2.0.0,>=1.2.3", None, False, None)),
    (DEP + 'a = "*"', (None, "a", None, False, None)),
    (DEP + 'a = "1.0"', (None, "a==1.0", None, False, None)),
    (DEP + 'a = "~1.2 , !=1.2.5"', (None, "a!=1.2.5,<1.3,>=1.2", None, False, None)),
    # tables
    (DEP + 'a = {version = "^1.0", extras = ["x", "y"]}', (None, "a[x,y]<2.0,>=1.0", None, False, None)),
    (DEP + 'a = {version = "1.0", source = "internal"}', (None, "a==1.0", None, False, "internal")),
    (DEP + "a = {markers = \"os_name == 'nt'\"}", (None, 'a; os_name == "nt"', None, False, None)),
    (
        DEP + 'a = {version = ">=1", python = "^3.8"}',
        (None, 'a>=1; python_version >= "3.8" and python_version < "4.0"', None, False, None),
    ),
    (
        DEP + 'a = {version = ">=1", platform = "linux || darwin"}',
        (None, 'a>=1; sys_platform == "linux" or sys_platform == "darwin"', None, False, None),
    ),
    (
        DEP + 'a = {version = ">=1", markers = "os_name == \'nt\' or os_name == \'posix\'", python = ">=3.10"}',
        (None, 'a>=1; (os_name == "nt" or os_name == "posix") and python_version >= "3.10"', None, False, None),
    ),
    # git, with each kind of ref, subdirectory and develop
    (DEP + 'a = {git = "https://h/o/a.git"}', (None, "a @ git+https://h/o/a.git", None, False, None)),
    (
        DEP + 'a = {git = "https://h/o/a.git", branch = "main"}',
        (None, "a @ git+https://h/o/a.git@main", None, False, None),
    ),
    (DEP + 'a = {git = "https://h/o/a.git", tag = "v1"}', (None, "a @ git+https://h/o/a.git@v1", None, False, None)),
    (
        DEP + 'a = {git = "https://h/o/a.git", rev = "0123abc"}',
        (None, "a @ git+https://h/o/a.git@0123abc", None, False, None),
    ),
    (
        DEP + 'a = {git = "https://h/o/a.git", rev = "0123abc", subdirectory = "py", develop = true, extras = ["x"]}',
        (None, "a[x] @ git+https://h/o/a.git@0123abc#subdirectory=py", None, True, None),
    ),
    (DEP + 'a = {git = "git@github.com:o/a.git"}', (None, "a @ git+ssh://git@github.com/o/a.git", None, False, None)),
    # paths, files, urls
    (DEP + 'a = {path = "../a", develop = true}', (None, "a", "../a", True, None)),
    (DEP + 'a = {path = "dist/a-1.0.tar.gz"}', (None, "a", "dist/a-1.0.tar.gz", False, None)),
    (DEP + 'a = {file = "dist/a-1.0-py3-none-any.whl"}', (None, "a", "dist/a-1.0-py3-none-any.whl", False, None)),
    (DEP + 'a = {path = "mono", subdirectory = "pkgs/a"}', (None, "a", "mono/pkgs/a", False, None)),
    (DEP + 'a = {url = "https://h/a-1.0.tar.gz"}', (None, "a @ https://h/a-1.0.tar.gz", None, False, None)),
    (
        DEP + 'a = {url = "https://h/a.zip", subdirectory = "src"}',
        (None, "a @ https://h/a.zip#subdirectory=src", None, False, None),
    ),
    # the table form of a dependency
    (
        '[tool.poetry.dependencies.a]\nversion = "^2"\nmarkers = "os_name == \'nt\'"\n',
        (None, 'a<3,>=2; os_name == "nt"', None, False, None),
    ),
    # groups
    ('[tool.poetry.dev-dependencies]\na = "^1"', ("dev", "a<2,>=1", None, False, None)),
    ('[tool.poetry.group.docs.dependencies]\na = "^1"', ("docs", "a<2,>=1", None, False, None)),
    (
        '[tool.poetry.group.docs]\noptional = true\n[tool.poetry.group.docs.dependencies]\na = "^1"',
        ("docs", "a<2,>=1", None, False, None),
    ),
    ('[dependency-groups]\ntest = ["a>=1"]\n[tool.poetry]\n', ("test", "a>=1", None, False, None)),
    # poetry 2 [project]
    (
        '[project]\nname = "x"\ndependencies = ["a>=1; os_name == \'nt\'"]',
        (None, 'a>=1; os_name == "nt"', None, False, None),
    ),
    (
        '[project]\nname = "x"\noptional-dependencies = {gpu = ["a[cuda]>=1"]}',
        ("extra:gpu", "a[cuda]>=1", None, False, None),
    ),
    (
        '[project]\ndependencies = ["a>=1"]\n[tool.poetry.dependencies]\na = {version = "<2", source = "s"}',
        (None, "a<2,>=1", None, False, "s"),
    ),
    (
        '[project]\ndependencies = ["a"]\n[tool.poetry.dependencies]\na = {path = "../a", develop = true}',
        (None, "a", "../a", True, None),
    ),
    (
        '[project]\ndependencies = ["a @ git+https://h/o/a.git@v1"]\n[tool.poetry.dependencies]\na = {develop = true}',
        (None, "a @ git+https://h/o/a.git@v1", None, True, None),
    ),
    # [project] without dependencies: poetry 1 tables are the list
    (
        '[project]\nname = "x"\ndependencies = []\n[tool.poetry.dependencies]\na = "^1"',
        (None, "a<2,>=1", None, False, None),
    ),
]


@pytest.mark.parametrize(("text", "expected"), READ)
def test_read(text: str, expected: tuple[Any, ...]) -> None:
    dep = only(text)
    assert view(dep) == expected
    assert poetry.loads(text).notes == ()


def test_read_optional_dependencies_and_extras() -> None:
    text = DEP + 'a = {version = "^1", optional = true}\nb = "^2"\n[tool.poetry.extras]\nx = ["a"]\ny = ["a", "b"]\n'
    env = poetry.loads(text)
    assert [(d.group, d.pep508()) for d in env.requirements] == [
        ("extra:x", "a<2,>=1"),
        ("extra:y", "a<2,>=1"),
        (None, "b<3,>=2"),
    ]


def test_read_python_from_both_places() -> None:
    text = '[project]\nrequires-python = ">=3.9"\n[tool.poetry.dependencies]\npython = "^3.10"\n'
    assert poetry.loads(text).python == SpecifierSet(">=3.10,<4.0")
    assert poetry.loads(DEP + 'python = "*"').python is None


def test_read_prereleases_are_pip_options() -> None:
    text = DEP + 'a = {version = "^1", allow-prereleases = true}\nb = {version = "*", allows-prereleases = false}'
    env = poetry.loads(text)
    assert env.options == PipOptions(all_releases=("a",), only_final=("b",))


SOURCES = [
    # the first primary source replaces PyPI
    (
        '[[tool.poetry.source]]\nname = "a"\nurl = "https://a/simple"\n',
        (Source("index", "https://a/simple", name="a"),),
    ),
    (
        '[[tool.poetry.source]]\nname = "a"\nurl = "https://a/simple"\npriority = "primary"\n'
        '[[tool.poetry.source]]\nname = "b"\nurl = "https://b/simple"\n',
        (Source("index", "https://a/simple", name="a"), Source("extra-index", "https://b/simple", name="b")),
    ),
    # ... unless PyPI is named
    (
        '[[tool.poetry.source]]\nname = "PyPI"\npriority = "primary"\n'
        '[[tool.poetry.source]]\nname = "b"\nurl = "https://b/simple"\n',
        (Source("extra-index", "https://b/simple", name="b"),),
    ),
    (
        '[[tool.poetry.source]]\nname = "s"\nurl = "https://s/simple"\npriority = "supplemental"\n'
        '[[tool.poetry.source]]\nname = "e"\nurl = "https://e/simple"\npriority = "explicit"\n',
        (
            Source("extra-index", "https://s/simple", name="s", priority="supplemental"),
            Source("extra-index", "https://e/simple", name="e", priority="explicit"),
        ),
    ),
    # legacy default / secondary
    (
        '[[tool.poetry.source]]\nname = "d"\nurl = "https://d/simple"\ndefault = true\n'
        '[[tool.poetry.source]]\nname = "s"\nurl = "https://s/simple"\nsecondary = true\n',
        (
            Source("index", "https://d/simple", name="d"),
            Source("extra-index", "https://s/simple", name="s", priority="secondary"),
        ),
    ),
    # a single-page source is pip's find-links; credentials are kept apart from the URL
    (
        '[[tool.poetry.source]]\nname = "w"\nurl = "https://h/wheels.html"\npriority = "supplemental"\n'
        '[[tool.poetry.source]]\nname = "c"\nurl = "https://u:${T}@c/simple"\npriority = "explicit"\n',
        (
            Source("find-links", "https://h/wheels.html", name="w", priority="supplemental"),
            Source("extra-index", "https://c/simple", "u", "${T}", name="c", priority="explicit"),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), SOURCES)
def test_read_sources(text: str, expected: tuple[Source, ...]) -> None:
    assert poetry.loads(text).sources == expected


NOTES = [
    (
        DEP + 'a = "^1.0 || ^3.0"',
        "pyproject.toml:2:1: warning: a: '^1.0 || ^3.0' has no exact PEP 440 form; read as '>=1.0,<4.0'",
    ),
    (
        DEP + 'a = {version = "^1", optional = true}',
        "pyproject.toml:2:1: warning: a: optional, but no extra names it; poetry never installs it",
    ),
    (DEP + 'a = {version = "^1", foo = 1}', "pyproject.toml:2:1: warning: a: unknown key 'foo' ignored"),
    (
        '[project]\ndependencies = ["a"]\n[tool.poetry.dependencies]\nb = "^1"',
        "pyproject.toml:4:1: warning: b: not in [project] dependencies; poetry 2 ignores this entry",
    ),
    (
        '[[tool.poetry.source]]\nname = "PyPI"\npriority = "supplemental"\n',
        "pyproject.toml:1:1: warning: source 'PyPI': PyPI as supplemental has no pip equivalent; read as a plain index",
    ),
]


@pytest.mark.parametrize(("text", "note"), NOTES)
def test_notes(text: str, note: str) -> None:
    assert [str(n) for n in poetry.loads(text).notes] == [note]


ERRORS = [
    (
        DEP + 'numpy = "^1.x"',
        "pyproject.toml:2:10: invalid version constraint for 'numpy': could not parse version constraint '^1.x'\n"
        '    numpy = "^1.x"\n'
        "             ^^^^",
    ),
    (
        DEP + 'numpy = ">=1.0, foo"',
        "pyproject.toml:2:17: invalid version constraint for 'numpy': could not parse version constraint 'foo'\n"
        '    numpy = ">=1.0, foo"\n'
        "                    ^^^",
    ),
    (
        DEP + "numpy = 3",
        "pyproject.toml:2:1: numpy: expected a version constraint, a table or a list of tables, not a number\n"
        "    numpy = 3\n"
        "    ^",
    ),
    (
        DEP + 'a = {version = "1", markers = "os_name = \'nt\'"}',
        "pyproject.toml:2:32: a: invalid markers: Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in\n"
        '    a = {version = "1", markers = "os_name = \'nt\'"}\n'
        "                                   ^^^^^^^^^^^^^^",
    ),
    (
        DEP + 'a = {version = "1", python = "^3.x"}',
        "pyproject.toml:2:31: a: invalid python constraint: could not parse version constraint '^3.x'\n"
        '    a = {version = "1", python = "^3.x"}\n'
        "                                  ^^^^",
    ),
    (
        DEP + 'a = {version = "1", extras = "x"}',
        "pyproject.toml:2:1: a: extras must be a list of strings, not a string\n"
        '    a = {version = "1", extras = "x"}\n'
        "    ^",
    ),
    (
        DEP + "a = []",
        "pyproject.toml:2:1: a: a list of constraints must not be empty\n    a = []\n    ^",
    ),
    (
        '[project]\ndependencies = ["numpy>=>1"]',
        "pyproject.toml:2:23: invalid requirement 'numpy>=>1': invalid version specifier '>=>1'\n"
        '    dependencies = ["numpy>=>1"]\n'
        "                          ^^^^",
    ),
    (
        "[project]\nrequires-python = 3\n",
        "pyproject.toml:2:1: requires-python must be a string, not a number\n    requires-python = 3\n    ^",
    ),
    (
        "[tool]\npoetry = 1\n",
        "pyproject.toml:2:1: [tool.poetry] must be a table, not a number\n    poetry = 1\n    ^",
    ),
    (
        '[[tool.poetry.source]]\nurl = "https://x/simple"\n',
        "pyproject.toml:1:1: a [[tool.poetry.source]] needs a name\n    [[tool.poetry.source]]\n    ^",
    ),
    (
        "[tool.poetry]\nname = = 'x'\n",
        "pyproject.toml:2:8: invalid TOML: Invalid value\n    name = = 'x'\n           ^",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        poetry.loads(text)
    assert str(info.value) == message


# ---------------------------------------------------------------------------------------
# Writing: golden files, both styles


def kitchen_sink(examples: Path) -> Environment:
    """The kitchen-sink example read as `envkit generate --dev` would: dev lines in ``dev``."""
    folder = examples / "kitchen-sink"

    def opener(name: str) -> bytes:
        return (folder / name).read_bytes()

    env = requirements.loads(opener("requirements-dev.txt").decode(), "requirements-dev.txt", opener=opener)
    return env.with_changes(
        requirements=tuple(
            d.with_changes(group="dev") if d.origin and d.origin.path == "requirements-dev.txt" else d
            for d in env.requirements
        )
    )


KITCHEN_SINK_LOSSES = [
    "lost: --trusted-host pypi.example.com: poetry takes certificates per source: `poetry config certificates.NAME.cert false`",
    "constraints.txt:1: lost: urllib3<3: poetry has no constraints files (-c)",
    "constraints.txt:2: lost: protobuf>=4.25,<6: poetry has no constraints files (-c)",
    "requirements.txt:14: lost: scikit-learn==1.5.2: poetry keeps hashes only in poetry.lock, which `poetry lock` writes",
    "requirements.txt:23: transformed: ./libs/preprocessing: poetry needs a name: named 'preprocessing' after its location (pip reads the name from the build)",
    "requirements.txt:24: transformed: ./vendor/legacy_tool-0.9.tar.gz: poetry needs a name: named 'legacy-tool' after its location (pip reads the name from the build)",
    "requirements.txt:25: lost: tokenizers>=0.19: poetry sets build config settings with `poetry config installer.build-config-settings`",
]
KITCHEN_SINK_SOURCE_LOSSES = [
    "requirements.txt:2: transformed: source https://pypi.org/simple: poetry needs a source name: named 'pypi-org'",
    "requirements.txt:3: transformed: source https://download.pytorch.org/whl/cpu: poetry needs a source name: named 'download-pytorch-org'",
    "requirements.txt:4: transformed: source https://${PRIVATE_INDEX_USER}:${PRIVATE_INDEX_TOKEN}@pypi.example.com/simple: poetry needs a source name: named 'pypi-example-com'",
    "requirements.txt:4: transformed: source pypi-example-com https://${PRIVATE_INDEX_USER}:${PRIVATE_INDEX_TOKEN}@pypi.example.com/simple: "
    "poetry reads source credentials from the environment: set POETRY_HTTP_BASIC_PYPI_EXAMPLE_COM_USERNAME and "
    "POETRY_HTTP_BASIC_PYPI_EXAMPLE_COM_PASSWORD (the URL is written without them)",
    "requirements.txt:5: lost: --find-links ./wheels: poetry reads no find-links directories or pages other than a single .html page",
]


def test_golden_kitchen_sink_style_2(examples: Path) -> None:
    env = kitchen_sink(examples)
    rendered = poetry.dumps(env)
    golden("kitchen-sink.style2.toml", rendered.text)
    assert loss_lines(rendered.losses) == KITCHEN_SINK_LOSSES + KITCHEN_SINK_SOURCE_LOSSES


def test_golden_kitchen_sink_style_1(examples: Path) -> None:
    env = kitchen_sink(examples)
    rendered = poetry.dumps(env, style="1")
    golden("kitchen-sink.style1.toml", rendered.text)
    assert loss_lines(rendered.losses) == [
        *KITCHEN_SINK_LOSSES,
        "requirements.txt:21: transformed: git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store: "
        "written as feature-store @ git+https://github.com/example/feature-store.git@v0.4.1",
        "requirements.txt:22: transformed: git+https://github.com/example/metrics.git@3f2a1c9#egg=metrics&subdirectory=python: "
        "written as metrics @ git+https://github.com/example/metrics.git@3f2a1c9#subdirectory=python",
        *KITCHEN_SINK_SOURCE_LOSSES,
    ]


@pytest.mark.parametrize("style", ["1", "2"])
def test_golden_kitchen_sink_reads_back(examples: Path, style: str) -> None:
    """What is written reads back as the source, but for what the losses name."""
    env = kitchen_sink(examples)
    back = poetry.loads((DATA / f"kitchen-sink.style{style}.toml").read_text())
    lost = {
        "scikit-learn",
        "tokenizers",
        "urllib3",
        "protobuf",
        "preprocessing",
        "legacy-tool",
        "feature-store",
        "metrics",
    }
    mine = sorted(d.sort_key() for d in env.requirements if d.key not in lost and d.key is not None)
    theirs = sorted(d.sort_key() for d in back.requirements if d.key not in lost)
    assert mine == theirs
    assert back.python is None and back.notes == ()


@pytest.mark.parametrize("style", ["1", "2"])
def test_golden_example(examples: Path, style: str) -> None:
    env = poetry.loads((examples / "poetry" / "pyproject.toml").read_text())
    rendered = poetry.dumps(env, style=style)
    golden(f"example.style{style}.toml", rendered.text)
    assert rendered.losses == ()
    assert same_env(poetry.loads(rendered.text), env)


# ---------------------------------------------------------------------------------------
# Writing: what poetry cannot carry


def _env(*deps: Dependency, **changes: Any) -> Environment:
    return Environment(requirements=deps, **changes)


LOSSES = [
    (
        _env(Dependency("a", SpecifierSet("===1.0"), text="a===1.0")),
        ["transformed: a===1.0: poetry cannot read '===': written as '=='"],
    ),
    (
        _env(Dependency("a", SpecifierSet("===foobar,>=1"), text="a===foobar,>=1")),
        ["lost: a===foobar,>=1: poetry cannot read '===' and 'foobar' is not a version: dropped"],
    ),
    (
        _env(Dependency("a", url="hg+https://h/a", text="hg+https://h/a#egg=a")),
        ["lost: hg+https://h/a#egg=a: poetry installs from git only, not hg, svn or bzr"],
    ),
    (
        _env(Dependency("a", global_options=("-q",), text="a --global-option=-q")),
        ["lost: a --global-option=-q: poetry has no --global-option"],
    ),
    (
        _env(Dependency("a", channel="conda-forge", text="conda-forge::a")),
        ["lost: conda-forge::a: conda channel 'conda-forge' has no poetry equivalent"],
    ),
    (
        _env(Dependency("a", url="https://h/a.zip", editable=True, text="-e https://h/a.zip")),
        ["lost: -e https://h/a.zip: poetry cannot install a URL archive in editable mode"],
    ),
    (
        _env(Dependency("a", url="git+https://${TOKEN}@h/a.git", text="a @ git+https://${TOKEN}@h/a.git")),
        [
            "transformed: a @ git+https://${TOKEN}@h/a.git: poetry does not expand ${VAR} in URLs; the reference is written as it is"
        ],
    ),
    (
        _env(Dependency(None, url="https://h/x", text="https://h/x")),
        ["lost: https://h/x: poetry needs the name of every dependency"],
    ),
    (
        _env(Dependency("a", SpecifierSet(">=1"), text="a>=1"), Dependency("a", SpecifierSet("<2"), text="a<2")),
        [
            "transformed: a>=1: merged with a later a requirement (a<2)",
            "transformed: a<2: merged into one a dependency with the earlier requirement",
        ],
    ),
    (
        _env(options=PipOptions(no_index=True, pre=True)),
        [
            "lost: --no-index: poetry has no --no-index; it always uses its sources (PyPI unless a primary source replaces it)",
            "lost: --pre: poetry has no project-wide --pre; only allow-prereleases per dependency",
        ],
    ),
    (
        _env(options=PipOptions(no_binary=(":all:",), all_releases=("b",))),
        [
            "lost: --no-binary :all:: poetry sets this with `poetry config installer.no-binary`, not in pyproject.toml",
            "lost: --all-releases b: poetry sets allow-prereleases only on a declared dependency",
        ],
    ),
    (
        _env(conda=("cudatoolkit=11.8",), channels=("nvidia",)),
        [
            "lost: cudatoolkit=11.8: a conda-only package has no poetry equivalent",
            "lost: channel nvidia: poetry installs from Python package indexes only",
        ],
    ),
    (
        _env(
            sources=(
                Source("index", "https://h/simple", name="h", priority="explicit"),
                Source("extra-index", "https://e/simple", name="e", priority="secondary"),
            )
        ),
        [
            "transformed: source h: a source that replaces PyPI is 'primary' in poetry: written as 'primary', not 'explicit'",
            "transformed: source e: poetry 2 has no 'secondary' priority: written as 'supplemental'",
        ],
    ),
    (
        _env(sources=(Source("extra-index", "https://h/simple", name="h", verify_ssl=False),)),
        [
            "lost: source h: poetry turns off TLS verification only with `poetry config certificates.h.cert false`",
        ],
    ),
]


@pytest.mark.parametrize(("env", "expected"), LOSSES)
def test_losses(env: Environment, expected: list[str]) -> None:
    assert loss_lines(poetry.dumps(env).losses) == expected


def test_sources_written_keep_pypi_beside_extra_indexes() -> None:
    env = _env(sources=(Source("extra-index", "https://e/simple", name="e"),))
    text = poetry.dumps(env).text
    assert '[[tool.poetry.source]]\nname = "PyPI"\npriority = "primary"\n\n[[tool.poetry.source]]\nname = "e"' in text
    assert poetry.loads(text).sources == env.sources


def test_prereleases_written_per_dependency() -> None:
    env = _env(
        Dependency("a", SpecifierSet(">=1")),
        Dependency("b", group="dev"),
        options=PipOptions(all_releases=("a",), only_final=("b",)),
    )
    for style in ("1", "2"):
        rendered = poetry.dumps(env, style=style)
        assert rendered.losses == ()
        assert same_env(poetry.loads(rendered.text), env)


def test_unknown_style() -> None:
    with pytest.raises(EnvkitError, match="unknown poetry style '3'"):
        poetry.dumps(Environment(), style="3")


# ---------------------------------------------------------------------------------------
# Round trips within what poetry can carry


@st.composite
def poetry_dependencies(draw: st.DrawFn, name: str, source_names: list[str]) -> Dependency:
    kind = draw(st.sampled_from(["index", "index", "git", "url", "path"]))
    group = draw(st.sampled_from([None, None, "dev", "docs", "extra:gpu"]))
    marker = draw(st.one_of(st.none(), markers()))
    extra_set = draw(extras())
    if kind == "git":
        repo = draw(st.sampled_from(["a", "b-c"]))
        url = f"git+https://example.com/org/{repo}.git"
        url += draw(st.sampled_from(["", "@main", "@v1.2.0", "@0123abcd"]))
        url += draw(st.sampled_from(["", "#subdirectory=python"]))
        return Dependency(name, extras=extra_set, marker=marker, url=url, editable=draw(st.booleans()), group=group)
    if kind == "url":
        url = "https://files.example.com/" + draw(st.sampled_from(["a-1.0.tar.gz", "b/c-2.0.zip"]))
        return Dependency(name, extras=extra_set, marker=marker, url=url, group=group)
    if kind == "path":
        path = draw(local_paths())
        editable = not path.endswith(".tar.gz") and draw(st.booleans())
        return Dependency(name, extras=extra_set, marker=marker, path=path, editable=editable, group=group)
    spec = draw(specifier_sets().filter(lambda s: "===" not in str(s)))
    index = draw(st.sampled_from([None, *source_names]))
    return Dependency(name, spec, extra_set, marker, group=group, index=index)


@st.composite
def poetry_environments(draw: st.DrawFn) -> Environment:
    names = draw(st.lists(project_names(), max_size=5, unique_by=canonicalize_name))
    source_names = draw(st.lists(st.sampled_from(["corp", "torch", "mirror"]), max_size=3, unique=True))
    sources = []
    for i, source in enumerate(source_names):
        kind = "index" if i == 0 and draw(st.booleans()) else "extra-index"
        priority = None if kind == "index" else draw(st.sampled_from([None, "supplemental", "explicit"]))
        sources.append(Source(kind, f"https://{source}.example.com/simple", name=source, priority=priority))  # type: ignore[arg-type]
    deps = [draw(poetry_dependencies(n, source_names)) for n in names]
    named = [canonicalize_name(n) for n in names]
    pre = sorted(draw(st.lists(st.sampled_from(named), unique=True))) if named else []
    rest = [n for n in named if n not in pre]
    final = sorted(draw(st.lists(st.sampled_from(rest), unique=True))) if rest else []
    python = draw(st.one_of(st.none(), specifier_sets(max_size=2).filter(lambda s: "===" not in str(s) and bool(s))))
    return Environment(
        requirements=tuple(deps),
        python=python,
        sources=tuple(sources),
        options=PipOptions(all_releases=tuple(pre), only_final=tuple(final)),
        name="probe",
    )


@pytest.mark.parametrize("style", ["1", "2"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env=poetry_environments())
def test_round_trip(style: str, env: Environment) -> None:
    rendered = poetry.dumps(env, style=style)
    assert rendered.losses == ()
    back = poetry.loads(rendered.text)
    assert same_env(back, env)
    assert back.notes == ()
    # and merging the same environment into what was written changes nothing
    assert poetry.dumps(env, rendered.text).text == rendered.text


# ---------------------------------------------------------------------------------------
# Merging into existing files: every byte we do not own stays


def merge_files(corpus: Path, examples: Path) -> list[Path]:
    return [*corpus_files(corpus), examples / "poetry" / "pyproject.toml"]


def test_merge_same_environment_changes_nothing(corpus: Path, examples: Path) -> None:
    for path in merge_files(corpus, examples):
        text = path.read_text()
        rendered = poetry.dumps(poetry.loads(text), text)
        assert rendered.text == text, path.name
        assert rendered.losses == ()


def changes(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    """The line-level edits from ``before`` to ``after``: (op, old lines, new lines)."""
    a, b = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(op, a[i1:i2], b[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


def test_merge_edits_only_the_entries_that_changed(corpus: Path, examples: Path) -> None:
    """Add a main dependency, change one, drop a group dependency: only those lines move."""
    for path in merge_files(corpus, examples):
        text = path.read_text()
        env = poetry.loads(text)
        style2 = "dependencies = [" in text
        # the first plain main dependency: a string, or `name = "constraint"`
        first = next(
            d
            for d in env.requirements
            if d.group is None and not (d.marker or d.url or d.path or d.extras or d.index) and "{" not in d.text
        )
        changed = first.with_changes(specifier=SpecifierSet(">=99"))
        grouped = [d for d in env.requirements if d.group == "dev"]
        dropped = grouped[-1] if grouped else None
        requirements = [changed if d is first else d for d in env.requirements if d is not dropped]
        requirements.append(Dependency("envkit-probe", SpecifierSet(">=1")))
        rendered = poetry.dumps(env.with_changes(requirements=tuple(requirements)), text)
        removed = [line for _, old, _ in changes(text, rendered.text) for line in old]
        added = [line for _, _, new in changes(text, rendered.text) for line in new]
        assert removed == [first.origin.text if first.origin else ""] + (
            [dropped.origin.text] if dropped and dropped.origin else []
        ), path.name
        if style2:
            assert added == [f'    "{first.name}>=99",', '    "envkit-probe>=1",'], path.name
        else:
            assert sorted(added) == sorted([f'{first.name} = ">=99"', 'envkit-probe = ">=1"']), path.name
        back = poetry.loads(rendered.text)
        assert same_env(back, env.with_changes(requirements=tuple(requirements))), path.name


def test_merge_style_2_into_a_poetry_1_file(examples: Path) -> None:
    """Asked for style 2, a poetry 1 file gains [project]; everything else stays."""
    text = (examples / "poetry" / "pyproject.toml").read_text()
    env = poetry.loads(text)
    rendered = poetry.dumps(env, text, style="2")
    assert same_env(poetry.loads(rendered.text), env)
    assert rendered.text.startswith(text.split("[tool.poetry.dependencies]")[0])
    assert rendered.text.count("[build-system]") == 1 and "[project]" in rendered.text


def test_merge_removes_tables_it_emptied() -> None:
    text = (
        '[tool.poetry]\nname = "x"\n\n[tool.poetry.dependencies]\npython = "^3.10"\na = "^1"\n\n'
        '[tool.poetry.group.docs.dependencies]\nb = "^2"\n\n[[tool.poetry.source]]\nname = "s"\nurl = "https://s/simple"\n'
        'priority = "explicit"\n\n[tool.black]\nline-length = 100\n'
    )
    rendered = poetry.dumps(
        Environment(requirements=(Dependency("a", SpecifierSet(">=1,<2")),), python=SpecifierSet(">=3.10,<4.0")), text
    )
    assert (
        rendered.text
        == '[tool.poetry]\nname = "x"\n\n[tool.poetry.dependencies]\npython = "^3.10"\na = "^1"\n\n[tool.black]\nline-length = 100\n'
    )


def test_merge_keeps_comments_and_spelling() -> None:
    text = (
        "[project]\nname = 'x'\ndependencies = [\n    # runtime\n    'requests >= 2',  # http\n    \"numpy\",\n]\n\n"
        "[tool.poetry]\npackage-mode = false\n"
    )
    env = poetry.loads(text)
    added = env.with_changes(
        requirements=(*env.requirements, Dependency("pandas", SpecifierSet(">=2"), comment="frames"))
    )
    rendered = poetry.dumps(added, text)
    assert rendered.text == (
        "[project]\nname = 'x'\ndependencies = [\n    # runtime\n    'requests >= 2',  # http\n    \"numpy\",\n"
        '    "pandas>=2", # frames\n]\n\n[tool.poetry]\npackage-mode = false\n'
    )
    assert [d.comment for d in poetry.loads(rendered.text).requirements] == ["http", None, "frames"]


# ---------------------------------------------------------------------------------------
# The real tool accepts what we write


def poetry_view(root: Path) -> list[tuple[Any, ...]]:
    """What poetry-core reads from ``root/pyproject.toml``, per dependency."""
    from poetry.core.factory import Factory

    project = Factory().create_poetry(root)
    result = []
    for group in project.package.dependency_group_names(include_optional=True):
        for dep in project.package.dependency_group(group).dependencies_for_locking:
            req = Requirement(dep.to_pep_508().replace("(", "").replace(")", ""))
            result.append(
                (
                    None if group == "main" else group,
                    canonicalize_name(req.name),
                    parse_constraint(str(req.specifier) or "*"),
                    req.url,
                    dep.source_name,
                )
            )
    return sorted(result, key=repr)


def our_view(env: Environment, root: Path) -> list[tuple[Any, ...]]:
    result = []
    for dep in env.requirements:
        url = dep.url
        if dep.path is not None:
            url = (root / dep.path).resolve().as_uri()
        elif url and "#" in url:
            base, _, fragment = url.partition("#")
            kept = [p for p in fragment.split("&") if not p.startswith("egg=")]
            url = base + ("#" + "&".join(kept) if kept else "")
        result.append((dep.group, dep.key, parse_constraint(str(dep.specifier) or "*"), url, dep.index))
    return sorted(result, key=repr)


def project_root(tmp_path: Path, text: str, env: Environment) -> Path:
    for dep in env.requirements:
        if dep.path is None:
            continue
        place = tmp_path / dep.path
        if dep.path.endswith((".tar.gz", ".whl")):
            place.parent.mkdir(parents=True, exist_ok=True)
            place.write_bytes(b"")
        else:
            place.mkdir(parents=True, exist_ok=True)
            (place / "pyproject.toml").write_text(f'[project]\nname = "{dep.name}"\nversion = "1.0"\n')
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


@pytest.mark.parametrize("style", ["1", "2"])
def test_poetry_core_reads_what_we_mean(examples: Path, tmp_path: Path, style: str) -> None:
    env = poetry.loads((examples / "poetry" / "pyproject.toml").read_text())
    text = poetry.dumps(env, style=style).text
    from poetry.core.factory import Factory

    # poetry 2 reads a poetry 1 file, and says its [tool.poetry] metadata is deprecated
    deprecated = ["[tool.poetry.name] is deprecated. Use [project.name] instead."] if style == "1" else []
    assert Factory.validate(tomllib.loads(text), strict=True) == {"errors": [], "warnings": deprecated}
    root = project_root(tmp_path, text, env)
    assert poetry_view(root) == our_view(env, root)


def test_poetry_core_reads_the_kitchen_sink(examples: Path, tmp_path: Path) -> None:
    env = kitchen_sink(examples)
    text = poetry.dumps(env).text
    back = poetry.loads(text)
    root = project_root(tmp_path, text, back)
    assert poetry_view(root) == our_view(back, root)


@pytest.mark.skipif(not POETRY.exists(), reason="poetry is not installed beside this interpreter")
@pytest.mark.parametrize(("source", "style"), [("example", "1"), ("kitchen-sink", "2")])
def test_poetry_check_passes(examples: Path, tmp_path: Path, source: str, style: str) -> None:
    if source == "example":
        env = poetry.loads((examples / "poetry" / "pyproject.toml").read_text())
    else:
        env = kitchen_sink(examples).with_changes(python=SpecifierSet(">=3.10"))
    text = poetry.dumps(env, style=style).text
    project_root(tmp_path, text, poetry.loads(text))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "POETRY_"))}
    environ.update(PIP_CONFIG_FILE=os.devnull, POETRY_CACHE_DIR=str(tmp_path / ".cache"), HOME=str(tmp_path))
    result = subprocess.run(
        [str(POETRY), "check", "--no-interaction"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # poetry 2 checks a poetry 1 file, and warns that its [tool.poetry] name is deprecated
    said = (result.stdout + result.stderr).strip()
    expected = "Warning: [tool.poetry.name] is deprecated. Use [project.name] instead." if style == "1" else "All set!"
    assert (result.returncode, said) == (0, expected)
    shutil.rmtree(tmp_path / ".cache", ignore_errors=True)


def test_style_1_extras_name_each_dependency_once() -> None:
    env = _env(
        Dependency("a", SpecifierSet(">=1"), group="extra:x", text="a>=1"),
        Dependency("a", SpecifierSet(">=2"), group="extra:y", text="a>=2"),
        Dependency("b", group="extra:x", text="b"),
        Dependency("b", text="b"),
    )
    rendered = poetry.dumps(env, style="1")
    assert rendered.text == (
        "[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\n"
        'a = {version = ">=1", optional = true}\nb = "*"\n\n[tool.poetry.extras]\nx = ["a", "b"]\ny = ["a"]\n\n'
        '[build-system]\nrequires = ["poetry-core>=1.0.0"]\nbuild-backend = "poetry.core.masonry.api"\n'
    )
    assert loss_lines(rendered.losses) == [
        "transformed: a>=2: poetry 1 extras name a dependency once: written as a>=1",
        "transformed: b: also a main dependency: extra 'x' names it, poetry installs it always",
    ]
    assert [(d.group, d.pep508()) for d in poetry.loads(rendered.text).requirements] == [
        ("extra:x", "a>=1"),
        ("extra:y", "a>=1"),
        (None, "b"),
    ]
    # poetry 2 style keeps each extra's own requirement
    two = poetry.dumps(env)
    assert two.losses == ()
    assert same_env(poetry.loads(two.text), env)
