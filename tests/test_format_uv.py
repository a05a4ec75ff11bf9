"""uv's ``pyproject.toml``: detection, reading, writing, merging, and uv itself reading it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from envkit.errors import ParseError
from envkit.formats import requirements, uv
from envkit.formats._pep508 import from_pep508
from envkit.formats._toml import loads_toml
from envkit.model import Dependency, Environment, PipOptions, Source
from tests.strategies import ALL_FEATURES, environments

DATA = Path(__file__).parent / "data" / "uv"
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def dep(text: str, **changes: Any) -> Dependency:
    """A requirement as a PEP 508 string, with model fields changed (equality ignores origins)."""
    return from_pep508(text, path="x").with_changes(**changes)


def same(a: Environment, b: Environment) -> None:
    """Assert semantic equality, comparing requirements as a multiset (order is not semantic)."""
    assert Counter(a.requirements) == Counter(b.requirements)
    assert a.with_changes(requirements=()) == b.with_changes(requirements=())


def losses(rendered: Any) -> list[str]:
    return [str(loss) for loss in rendered.losses]


# ---------------------------------------------------------------------------------------
# Detection

DETECT_CASES = [
    ("pyproject.toml", '[tool.uv]\ndev-dependencies = ["pytest"]\n', True),
    ("pyproject.toml", '[[tool.uv.index]]\nname = "x"\nurl = "https://x"\n', True),
    ("pyproject.toml", '[tool.uv.sources]\nfoo = { path = "." }\n', True),
    ("pyproject.toml", '[dependency-groups]\ndev = ["pytest"]\n', True),
    ("pyproject.toml", '[project]\nname = "x"\ndependencies = ["a"]\n', True),
    ("sub/dir/pyproject.toml", '[project]\nname = "x"\n', True),
    ("pyproject.toml", '[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\npython = "^3.10"\n', False),
    ("pyproject.toml", '[project]\nname = "x"\n\n[tool.poetry]\npackage-mode = false\n', False),
    ("pyproject.toml", '[build-system]\nrequires = ["hatchling"]\n', False),
    ("pyproject.toml", "", False),
    ("Pipfile", '[packages]\nrequests = "*"\n', False),
    ("other.toml", '[tool.uv]\nprerelease = "allow"\n', False),
    ("requirements.txt", "[project]\n", False),
    (None, '[tool.uv]\nprerelease = "allow"\n', True),
    (None, '[dependency-groups]\ndev = ["pytest"]\n', True),
    (None, '[project]\nname = "x"\n', False),  # without a file name a bare [project] is no evidence
    (None, 'name = "[tool.uv]"\n', False),
]


@pytest.mark.parametrize(("path", "text", "expected"), DETECT_CASES)
def test_detect(path: str | None, text: str, expected: bool) -> None:
    assert uv.detect(path, text) is expected


# ---------------------------------------------------------------------------------------
# Reading

FULL_REQUIREMENTS = [
    dep("mlflow>=2.14", comment="tracking"),
    dep("pandas[performance]~=2.2"),
    dep("torch==2.4.1", index="pytorch"),
    dep("feature-store", url="git+https://github.com/example/feature-store.git@v0.4.1"),
    dep("metrics", url="git+https://github.com/example/metrics.git@3f2a1c9#subdirectory=python"),
    dep("preprocessing", path="libs/preprocessing", editable=True),
    dep("legacy-tool==0.9", path="vendor/legacy_tool-0.9-py3-none-any.whl"),
    dep("requests[socks] @ https://files.example.com/packages/requests-2.32.3-py3-none-any.whl"),
    dep('pywin32>=306; sys_platform == "win32"'),
    dep("tokenizers>=0.19", config_settings=(("--build-option", "--release"),)),
    dep("cupy>=13; sys_platform == 'linux'", group="extra:gpu", index="nvidia"),
    dep("cupy>=13", group="extra:gpu"),
    dep("pytest>=8", group="test"),
    dep("pytest-cov", group="test"),
    dep("ruff==0.6.9", group="lint"),
    dep("pytest>=8", group="dev"),
    dep("pytest-cov", group="dev"),
    dep("ruff==0.6.9", group="dev"),
    dep("ipython", group="dev"),
    dep("pre-commit", group="dev"),
    dep("urllib3<3", constraint=True),
]
FULL = Environment(
    requirements=tuple(FULL_REQUIREMENTS),
    python=SpecifierSet(">=3.10,<3.13"),
    sources=(
        Source("extra-index", "https://download.pytorch.org/whl/cpu", name="pytorch", priority="explicit"),
        Source("index", "https://pypi.internal.example.com/simple", name="internal"),
        Source("extra-index", "https://pypi.nvidia.com", name="nvidia"),
        Source("find-links", "./dist", name="local"),
        Source("find-links", "./wheels"),
    ),
    options=PipOptions(
        pre=True,
        trusted_hosts=("pypi.internal.example.com",),
        no_binary=("tokenizers",),
        only_binary=(":all:",),
    ),
    name="churn-service",
    format="uv",
)


def test_reads_every_part_of_the_format() -> None:
    env = uv.loads((DATA / "full.toml").read_text(encoding="utf-8"))
    same(env, FULL)
    assert env.name == "churn-service"
    assert env.format == "uv"
    assert [d.comment for d in env.requirements][:2] == ["tracking", None]
    # origins point at the string in the file, included groups at their own lines
    assert [(d.origin.line, d.origin.column) for d in env.requirements if d.origin][:3] == [(7, 6), (8, 6), (9, 6)]
    assert [d.origin.line for d in env.requirements if d.group == "dev" and d.origin] == [23, 23, 24, 25, 28]
    assert [str(n) for n in env.notes] == [
        "pyproject.toml:44:1: warning: cupy: uv takes it from its [tool.uv.sources] entries where their markers "
        "hold; envkit reads one requirement per source marker and keeps the requirement itself too",
        "pyproject.toml:30:1: warning: uv's override-dependencies replace other requirements; envkit does not carry them",
    ]


PROJECT = '[project]\nname = "x"\nversion = "1"\n'

#: (pyproject text after PROJECT, expected requirements)
READ_CASES = [
    pytest.param(
        'dependencies = ["a>=1", "B[x]; os_name == \'nt\'"]\n', [dep("a>=1"), dep("b[x]; os_name == 'nt'")], id="pep508"
    ),
    pytest.param(
        'dependencies = ["a"]\n[project.optional-dependencies]\ngpu = ["cupy"]\ncli = ["click", "rich"]\n',
        [dep("a"), dep("cupy", group="extra:gpu"), dep("click", group="extra:cli"), dep("rich", group="extra:cli")],
        id="extras-are-groups",
    ),
    pytest.param(
        '[dependency-groups]\ndocs = ["sphinx"]\nall = [{include-group = "Docs"}, "tox", {include-group = "docs"}]\n',
        [dep("sphinx", group="docs"), dep("sphinx", group="all"), dep("tox", group="all"), dep("sphinx", group="all")],
        id="include-group-by-normalized-name",
    ),
    pytest.param(
        '[tool.uv]\ndev-dependencies = ["pytest"]\n[dependency-groups]\ndev = ["ruff"]\n',
        [dep("ruff", group="dev"), dep("pytest", group="dev")],
        id="legacy-dev-dependencies",
    ),
    pytest.param(
        'dependencies = ["a", "b", "c", "d"]\n[tool.uv.sources]\n'
        'a = { git = "ssh://git@github.com/o/a.git", branch = "main" }\n'
        'b = { git = "git+https://github.com/o/b" }\n'
        'c = { url = "https://x/c-1.0.tar.gz", subdirectory = "py" }\n'
        'D = { path = "../d" }\n',
        [
            dep("a", url="git+ssh://git@github.com/o/a.git@main"),
            dep("b", url="git+https://github.com/o/b"),
            dep("c", url="https://x/c-1.0.tar.gz#subdirectory=py"),
            dep("d", path="../d"),
        ],
        id="sources",
    ),
    pytest.param(
        "dependencies = [\"t ; sys_platform == 'linux'\", \"t ; sys_platform == 'darwin'\"]\n"
        "[tool.uv.sources]\nt = [\n"
        '  { index = "gpu", marker = "sys_platform == \'linux\'" },\n'
        '  { index = "cpu", marker = "sys_platform == \'darwin\'" },\n]\n'
        '[[tool.uv.index]]\nname = "gpu"\nurl = "https://gpu"\n[[tool.uv.index]]\nname = "cpu"\nurl = "https://cpu"\n',
        [dep("t ; sys_platform == 'linux'", index="gpu"), dep("t ; sys_platform == 'darwin'", index="cpu")],
        id="source-per-marker",
    ),
    pytest.param(
        'dependencies = ["t"]\n[project.optional-dependencies]\ncpu = ["t"]\n[dependency-groups]\ndev = ["t"]\n'
        '[tool.uv.sources]\nt = [{ index = "cpu", extra = "cpu" }, { path = "t", group = "dev" }]\n'
        '[[tool.uv.index]]\nname = "cpu"\nurl = "https://cpu"\n',
        [dep("t"), dep("t", group="extra:cpu", index="cpu"), dep("t", group="dev", path="t")],
        id="source-per-extra-and-group",
    ),
    pytest.param(
        'dependencies = ["w"]\n[tool.uv.sources]\nw = { workspace = true }\n[tool.uv.workspace]\nmembers = ["w"]\n',
        [dep("w")],
        id="workspace-member",
    ),
    pytest.param(
        '[tool.uv]\nconstraint-dependencies = ["numpy<2; python_version < \'3.12\'"]\noverride-dependencies = ["x==1"]\n',
        [dep("numpy<2; python_version < '3.12'", constraint=True)],
        id="constraints-not-overrides",
    ),
]


@pytest.mark.parametrize(("text", "expected"), READ_CASES)
def test_reads(text: str, expected: list[Dependency]) -> None:
    env = uv.loads(PROJECT + text)
    assert list(env.requirements) == expected  # order: main, extras, groups, dev-dependencies, constraints


#: ([tool.uv] body, expected sources, expected options)
SETTINGS_CASES = [
    pytest.param(
        'index-url = "https://mirror/simple"\nextra-index-url = ["https://u:p@extra/simple"]\n'
        'find-links = ["./wheels"]\nno-index = true\n',
        (
            Source("index", "https://mirror/simple"),
            Source("extra-index", "https://extra/simple", "u", "p"),
            Source("find-links", "./wheels"),
        ),
        PipOptions(no_index=True),
        id="pip-style-locations",
    ),
    pytest.param(
        '[[tool.uv.index]]\nname = "a"\nurl = "https://a"\ndefault = true\nexplicit = true\n'
        '[[tool.uv.index]]\nurl = "/srv/wheels"\nformat = "flat"\n',
        (Source("index", "https://a", name="a", priority="explicit"), Source("find-links", "/srv/wheels")),
        PipOptions(),
        id="index-tables",
    ),
    pytest.param(
        'prerelease = "disallow"\nprerelease-package = { Foo_Bar = "allow" }\n'
        'no-binary = true\nno-build-package = ["lxml", "NumPy"]\nallow-insecure-host = ["h:8080"]\n',
        (),
        PipOptions(
            only_final=(":all:",),
            all_releases=("foo-bar",),
            no_binary=(":all:",),
            only_binary=("lxml", "numpy"),
            trusted_hosts=("h:8080",),
        ),
        id="options",
    ),
    pytest.param(
        'prerelease = "if-necessary-or-explicit"\nindex-strategy = "first-index"\n', (), PipOptions(), id="defaults"
    ),
]


@pytest.mark.parametrize(("body", "sources", "options"), SETTINGS_CASES)
def test_reads_settings(body: str, sources: tuple[Source, ...], options: PipOptions) -> None:
    text = "[tool.uv]\n" + body if not body.startswith("[[") else body
    env = uv.loads(text)
    assert env.sources == sources
    assert env.options == options
    assert env.notes == ()


NOTE_CASES = [
    (
        '[tool.uv]\nprerelease = "explicit"\n',
        "pyproject.toml:2:1: warning: uv's prerelease = 'explicit' is not carried (pip's default is like 'if-necessary-or-explicit')",
    ),
    (
        '[tool.uv]\nindex-strategy = "unsafe-best-match"\n',
        "pyproject.toml:2:1: warning: uv's index-strategy is not carried; envkit assumes uv's default (first-index)",
    ),
    (
        '[tool.uv]\nconfig-settings = { a = "b" }\n',
        "pyproject.toml:2:1: warning: uv's global config-settings apply to every build; envkit carries per-package settings only",
    ),
    (
        '[project]\nname = "x"\ndependencies = ["w"]\n[tool.uv.sources]\nw = { workspace = true }\n',
        "pyproject.toml:5:1: warning: w comes from the uv workspace; its location is not in this file",
    ),
]


@pytest.mark.parametrize(("text", "note"), NOTE_CASES)
def test_warns_about_what_it_cannot_carry(text: str, note: str) -> None:
    assert [str(n) for n in uv.loads(text).notes] == [note]


ERROR_CASES = [
    pytest.param(
        '[project]\nname = "x"\ndependencies = [\n    "requests>=2",\n    "numpy>=>1",\n]\n',
        "pyproject.toml:5:11: invalid requirement 'numpy>=>1': invalid version specifier '>=>1'\n"
        '        "numpy>=>1",\n'
        "              ^^^^",
        id="bad-requirement",
    ),
    pytest.param(
        '[project]\nname = "x"\ndependencies = "requests"\n',
        'pyproject.toml:3:1: [project] dependencies must be an array of strings\n    dependencies = "requests"\n    ^',
        id="not-an-array",
    ),
    pytest.param(
        '[project]\nname = "x"\nrequires-python = ">=3.10 or 3.11"\n',
        "pyproject.toml:3:20: invalid requires-python '>=3.10 or 3.11'\n"
        '    requires-python = ">=3.10 or 3.11"\n'
        "                       ^^^^^^^^^^^^^^",
        id="bad-python",
    ),
    pytest.param(
        '[dependency-groups]\ndev = [{include-group = "test"}]\n',
        "pyproject.toml:2:1: dependency group 'dev' includes unknown group 'test'\n"
        '    dev = [{include-group = "test"}]\n'
        "    ^^^",
        id="unknown-include",
    ),
    pytest.param(
        '[dependency-groups]\ndev = [{include-group = "test"}]\ntest = ["pytest", {include-group = "dev"}]\n',
        "pyproject.toml:3:1: dependency group 'dev' includes itself (dev -> test -> dev)\n"
        '    test = ["pytest", {include-group = "dev"}]\n'
        "    ^^^^",
        id="include-cycle",
    ),
    pytest.param(
        '[dependency-groups]\ndev = [{include = "test"}]\n',
        'pyproject.toml:2:1: [dependency-groups] dev: each item must be a requirement string or {include-group = "NAME"}\n'
        '    dev = [{include = "test"}]\n'
        "    ^",
        id="bad-group-item",
    ),
    pytest.param(
        '[project]\nname = "x"\ndependencies = ["torch"]\n\n[tool.uv.sources]\ntorch = { index = "pytorch" }\n',
        "pyproject.toml:6:1: [tool.uv.sources] torch references an undeclared index 'pytorch'\n"
        '    torch = { index = "pytorch" }\n'
        "    ^^^^^\n"
        "  hint: declare it in a [[tool.uv.index]] table with that name",
        id="undeclared-index",
    ),
    pytest.param(
        '[tool.uv.sources]\ntorch = { git = "https://x", path = "y" }\n',
        "pyproject.toml:2:1: [tool.uv.sources] torch: a source needs exactly one of git, url, path, index, workspace\n"
        '    torch = { git = "https://x", path = "y" }\n'
        "    ^^^^^",
        id="two-locations",
    ),
    pytest.param(
        '[tool.uv.sources]\nx = { git = "https://x", tag = "v1", branch = "main" }\n',
        "pyproject.toml:2:1: [tool.uv.sources] x: use only one of rev, tag, branch\n"
        '    x = { git = "https://x", tag = "v1", branch = "main" }\n'
        "    ^",
        id="two-refs",
    ),
    pytest.param(
        '[tool.uv.sources]\nx = { url = "https://x/x.whl", editable = true }\n',
        "pyproject.toml:2:1: [tool.uv.sources] x: 'editable' cannot be used with 'url'\n"
        '    x = { url = "https://x/x.whl", editable = true }\n'
        "    ^",
        id="editable-url",
    ),
    pytest.param(
        '[project]\nname = "x"\ndependencies = ["torch @ https://x/t.whl"]\n\n[tool.uv.sources]\ntorch = { path = "y" }\n',
        "pyproject.toml:3:18: torch has a URL in its requirement and an entry in [tool.uv.sources]; uv cannot combine them\n"
        '    dependencies = ["torch @ https://x/t.whl"]\n'
        "                     ^^^^^^^^^^^^^^^^^^^^^^^",
        id="url-and-source",
    ),
    pytest.param(
        '[tool.uv]\nprerelease = "sometimes"\n',
        "pyproject.toml:2:15: [tool.uv] prerelease must be one of disallow, allow, if-necessary, explicit, if-necessary-or-explicit\n"
        '    prerelease = "sometimes"\n'
        "                  ^^^^^^^^^",
        id="bad-prerelease",
    ),
    pytest.param(
        '[[tool.uv.index]]\nname = "a b"\nurl = "https://x"\n',
        "pyproject.toml:2:9: invalid index name 'a b': use ASCII letters, digits, '-', '_' and '.'\n"
        '    name = "a b"\n'
        "            ^",
        id="bad-index-name",
    ),
    pytest.param(
        '[[tool.uv.index]]\nname = "a"\n',
        "pyproject.toml:1:1: each [[tool.uv.index]] needs a url string\n    [[tool.uv.index]]\n    ^",
        id="index-without-url",
    ),
    pytest.param(
        '[project\nname = "x"\n',
        "pyproject.toml:1:9: invalid TOML: Expected ']' at the end of a table declaration\n    [project\n            ^",
        id="bad-toml",
    ),
    pytest.param(
        '[tool.uv]\nno-build = "yes"\n',
        'pyproject.toml:2:1: [tool.uv] no-build must be true or false\n    no-build = "yes"\n    ^',
        id="bad-flag",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERROR_CASES)
def test_errors_point_at_the_text(text: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        uv.loads(text)
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------
# Writing


def test_writes_every_part_and_reads_it_back() -> None:
    rendered = uv.dumps(uv.loads((DATA / "full.toml").read_text(encoding="utf-8")))
    assert rendered.text == (DATA / "full-written.toml").read_text(encoding="utf-8")
    assert losses(rendered) == []
    same(uv.loads(rendered.text), FULL)


def test_writes_the_kitchen_sink(examples: Path) -> None:
    folder = examples / "kitchen-sink"
    env = requirements.loads(
        (folder / "requirements.txt").read_text(encoding="utf-8"),
        "requirements.txt",
        opener=lambda p: (folder / p).read_bytes(),
    )
    rendered = uv.dumps(env)
    assert rendered.text == (DATA / "kitchen-sink.toml").read_text(encoding="utf-8")
    first_index = (
        "uv takes each package from the first index that has it (pip merges all indexes); "
        'set index-strategy = "unsafe-best-match" in [tool.uv] for pip\'s behaviour'
    )
    private = "https://${PRIVATE_INDEX_USER}:${PRIVATE_INDEX_TOKEN}@pypi.example.com/simple"
    assert losses(rendered) == [
        f"requirements.txt:3: transformed: extra-index https://download.pytorch.org/whl/cpu: {first_index}",
        f"requirements.txt:4: transformed: extra-index {private}: written without its credentials: uv reads them "
        "from UV_INDEX_PYPI_EXAMPLE_COM_SIMPLE_USERNAME and UV_INDEX_PYPI_EXAMPLE_COM_SIMPLE_PASSWORD",
        f"requirements.txt:4: transformed: extra-index {private}: {first_index}",
        "requirements.txt:14: lost: scikit-learn==1.5.2 --hash: uv records hashes in uv.lock, not in pyproject.toml",
        "requirements.txt:21: transformed: git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store: "
        "uv installs a VCS requirement as a regular (not editable) package",
        "requirements.txt:23: transformed: ./libs/preprocessing: uv needs the project name; "
        "'preprocessing' is guessed from the location",
        "requirements.txt:24: transformed: ./vendor/legacy_tool-0.9.tar.gz: uv needs the project name; "
        "'legacy-tool' is guessed from the file name",
    ]
    # everything else reads back as it was
    back = uv.loads(rendered.text)
    differ = {str(d) for d in Counter(env.requirements) - Counter(back.requirements)}
    assert differ == {
        "scikit-learn==1.5.2",
        "git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store",
        "./libs/preprocessing",
        "./vendor/legacy_tool-0.9.tar.gz",
    }
    assert back.options == env.options
    assert [s.url for s in back.sources] == [s.url for s in env.sources]


def _env(text: str, **changes: Any) -> Environment:
    return requirements.loads(text, "requirements.txt").with_changes(**changes)


#: (requirements-file text, env changes, expected text of [project] dependencies and [tool.uv...], losses)
WRITE_CASES = [
    pytest.param(
        "a>=1  # why\nb[x]==2 ; python_version < '3.10'\n",
        {},
        'dependencies = [\n    "a>=1", # why\n    "b[x]==2 ; python_version < \'3.10\'",\n]\n',
        [],
        id="pep508-with-comments",
    ),
    pytest.param(
        "--pre\n--prefer-binary\n--require-hashes\n--only-binary :all:\n--no-binary lxml\n--use-feature truststore\n",
        {},
        'dependencies = []\n\n[tool.uv]\nprerelease = "allow"\nno-binary-package = ["lxml"]\nno-build = true\n',
        [
            "lost: --prefer-binary: uv has no prefer-binary setting",
            "transformed: --require-hashes: uv checks the hashes it records in uv.lock; pyproject.toml has no switch",
            "lost: --use-feature truststore: uv has no pip feature flags",
        ],
        id="options",
    ),
    pytest.param(
        "-e ./pkg\n./dist/foo-1.0-py3-none-any.whl\nhg+https://hg.example.com/r@abc#egg=r\n",
        {},
        'dependencies = [\n    "pkg",\n    "foo",\n]\n\n[tool.uv.sources]\npkg = {path = "./pkg", editable = true}\n'
        'foo = {path = "./dist/foo-1.0-py3-none-any.whl"}\n',
        [
            "requirements.txt:1: transformed: ./pkg: uv needs the project name; 'pkg' is guessed from the location",
            "requirements.txt:3: lost: hg+https://hg.example.com/r@abc#egg=r: uv installs from Git only, not from other version control",
        ],
        id="paths-and-vcs",
    ),
    pytest.param(
        "--extra-index-url https://${USER}:${TOKEN}@private.example.com/simple\n--trusted-host private.example.com\nx\n",
        {},
        'dependencies = [\n    "x",\n]\n\n[tool.uv]\nallow-insecure-host = ["private.example.com"]\n\n'
        '[[tool.uv.index]]\nname = "private.example.com-simple"\nurl = "https://private.example.com/simple"\n',
        [
            "requirements.txt:1: transformed: extra-index https://${USER}:${TOKEN}@private.example.com/simple: written "
            "without its credentials: uv reads them from UV_INDEX_PRIVATE_EXAMPLE_COM_SIMPLE_USERNAME and "
            "UV_INDEX_PRIVATE_EXAMPLE_COM_SIMPLE_PASSWORD",
            "requirements.txt:1: transformed: extra-index https://${USER}:${TOKEN}@private.example.com/simple: uv "
            "takes each package from the first index that has it (pip merges all indexes); set index-strategy = "
            '"unsafe-best-match" in [tool.uv] for pip\'s behaviour',
        ],
        id="credentials",
    ),
    pytest.param(
        "--find-links ./wheels\n--index-url https://mirror/simple\n",
        {},
        'dependencies = []\n\n[tool.uv]\nfind-links = ["./wheels"]\n\n[[tool.uv.index]]\nurl = "https://mirror/simple"\ndefault = true\n',
        [
            "requirements.txt:1: transformed: find-links ./wheels: uv lists find-links after the indexes; "
            "the order changes nothing uv installs"
        ],
        id="find-links-order",
    ),
]


@pytest.mark.parametrize(("text", "changes", "expected", "lost"), WRITE_CASES)
def test_writes(text: str, changes: dict[str, Any], expected: str, lost: list[str]) -> None:
    rendered = uv.dumps(_env(text, **changes))
    body = rendered.text.split('version = "0.1.0"\n', 1)[1]
    assert body == expected
    assert losses(rendered) == lost


def test_writes_groups_indexes_and_pinned_packages() -> None:
    env = Environment(
        requirements=(
            dep("torch==2.4.1", index="pytorch"),
            dep("numpy"),
            dep("pytest>=8", group="dev"),
            dep("cupy", group="extra:gpu", index="nvidia"),
            dep("sphinx", group="docs"),
            dep("numpy<2", constraint=True),
        ),
        python=SpecifierSet(">=3.10"),
        sources=(
            Source("extra-index", "https://download.pytorch.org/whl/cpu", name="pytorch", priority="explicit"),
            Source("extra-index", "https://pypi.nvidia.com", name="nvidia", priority="supplemental"),
        ),
        name="svc",
    )
    rendered = uv.dumps(env)
    assert rendered.text == (
        '[project]\nname = "svc"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = [\n    "torch==2.4.1",\n    "numpy",\n]\n\n'
        '[project.optional-dependencies]\ngpu = [\n    "cupy",\n]\n\n'
        '[dependency-groups]\ndev = [\n    "pytest>=8",\n]\ndocs = [\n    "sphinx",\n]\n\n'
        '[tool.uv]\nconstraint-dependencies = [\n    "numpy<2",\n]\n\n'
        '[[tool.uv.index]]\nname = "pytorch"\nurl = "https://download.pytorch.org/whl/cpu"\nexplicit = true\n\n'
        '[[tool.uv.index]]\nname = "nvidia"\nurl = "https://pypi.nvidia.com"\n\n'
        '[tool.uv.sources]\ntorch = {index = "pytorch"}\ncupy = {index = "nvidia"}\n'
    )
    assert losses(rendered) == [
        "transformed: extra-index https://pypi.nvidia.com: uv has no 'supplemental' priority; written as an index searched in order",
        "transformed: extra-index https://pypi.nvidia.com: uv takes each package from the first index that has it "
        '(pip merges all indexes); set index-strategy = "unsafe-best-match" in [tool.uv] for pip\'s behaviour',
    ]
    back = uv.loads(rendered.text)
    assert Counter(back.requirements) == Counter(env.requirements)
    assert back.sources[1].priority is None


def test_sources_that_differ_per_requirement_get_qualifiers() -> None:
    env = Environment(
        requirements=(
            dep("torch ; sys_platform == 'linux'", index="gpu"),
            dep("torch ; sys_platform == 'darwin'", index="cpu"),
            dep("tool", group="dev", path="./tool"),
            dep("tool"),
        ),
        sources=(Source("extra-index", "https://gpu", name="gpu"), Source("extra-index", "https://cpu", name="cpu")),
        format="uv",
    )
    rendered = uv.dumps(env)
    assert rendered.text.split("[tool.uv.sources]\n", 1)[1] == (
        "torch = [\n"
        '    {index = "gpu", marker = "sys_platform == \\"linux\\""},\n'
        '    {index = "cpu", marker = "sys_platform == \\"darwin\\""},\n'
        "]\n"
        'tool = [\n    {path = "./tool", group = "dev"},\n]\n'
    )
    assert rendered.losses == ()
    assert Counter(uv.loads(rendered.text).requirements) == Counter(env.requirements)


def test_reports_what_uv_cannot_carry() -> None:
    env = Environment(
        requirements=(
            Dependency(None, url="https://x.example.com/archive.zip"),
            dep("a", global_options=("--no-user-cfg",), channel="conda-forge"),
            dep("b @ https://x/b-1.0-py3-none-any.whl").with_changes(specifier=SpecifierSet("==1.0")),
            dep("c", constraint=True, index="private"),
            dep("d", config_settings=(("k", "1"),)),
            dep("d", config_settings=(("k", "2"),), group="dev"),
            dep("e", group="My Group"),
        ),
        conda=("cudatoolkit=11.8",),
        channels=("conda-forge",),
        variables=(("CUDA_HOME", "/usr/local/cuda"),),
    )
    assert losses(uv.dumps(env)) == [
        "lost: https://x.example.com/archive.zip: uv needs the project name of every requirement",
        "x:1: lost: a --global-option: uv has no --global-option",
        "x:1: lost: a: uv cannot take a package from conda channel 'conda-forge'",
        "x:1: transformed: b @ https://x/b-1.0-py3-none-any.whl: the version is given by the wheel's file name",
        "x:1: lost: c: a uv constraint is a name, a specifier and a marker",
        "x:1: transformed: e: 'My Group' is not a valid group name; written as 'My-Group'",
        "x:1: lost: d: uv keeps one set of config-settings per package; the first is written",
        "lost: cudatoolkit=11.8: a conda-only package has no uv equivalent",
        "lost: channel conda-forge: uv installs from Python package indexes, not conda channels",
        "lost: variable CUDA_HOME=/usr/local/cuda: uv's pyproject.toml sets no environment variables",
    ]


# ---------------------------------------------------------------------------------------
# Merging into an existing file


@pytest.mark.parametrize("name", ["full.toml", "existing.toml"])
def test_merging_the_same_environment_changes_no_byte(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    rendered = uv.dumps(uv.loads(text), existing=text)
    assert rendered.text == text


def test_merge_edits_only_what_changed() -> None:
    text = (DATA / "existing.toml").read_text(encoding="utf-8")
    env = uv.loads(text)
    changed = []
    for d in env.requirements:
        if d.key == "fastapi":
            d = d.with_changes(specifier=SpecifierSet(">=0.115"))
        elif d.key == "ruff":
            d = d.with_changes(specifier=SpecifierSet("==0.7.0"))
        elif d.key == "model-store":
            continue
        changed.append(d)
    changed.insert(4, dep("pydantic>=2.7", comment="validation"))
    changed += [dep("pytest-cov", group="test"), dep("pytest-cov", group="dev")]
    new = env.with_changes(requirements=tuple(changed), python=SpecifierSet(">=3.11"))
    rendered = uv.dumps(new, existing=text)
    assert rendered.text == (DATA / "existing-merged.toml").read_text(encoding="utf-8")
    assert rendered.losses == ()
    same(uv.loads(rendered.text), new)
    # every line outside the edited ones is the user's, byte for byte
    kept = [line for line in text.splitlines(keepends=True) if line in rendered.text]
    assert len(kept) == len(text.splitlines()) - 5


def test_merge_adds_an_index_and_keeps_the_users_index_settings() -> None:
    text = (DATA / "existing.toml").read_text(encoding="utf-8")
    env = uv.loads(text)
    env = env.with_changes(
        sources=(*env.sources, Source("extra-index", "https://pypi.internal/simple", name="internal")),
        requirements=(*env.requirements, dep("secret-sauce", index="internal")),
    )
    rendered = uv.dumps(env, existing=text)
    expected = text.replace('    "model-store",\n', '    "model-store",\n    "secret-sauce",\n')
    expected = expected.replace(
        'tag = "v2.0.1" }\n', 'tag = "v2.0.1" }\nsecret-sauce = {index = "internal"}\n'
    ).replace(
        'authenticate = "never"\n',
        'authenticate = "never"\n\n[[tool.uv.index]]\nname = "internal"\nurl = "https://pypi.internal/simple"\n',
    )
    assert rendered.text == expected
    assert rendered.losses == ()
    same(uv.loads(rendered.text), env)


def test_merge_writes_the_dev_group_where_the_user_keeps_it() -> None:
    text = '[project]\nname = "x"\nversion = "1"\ndependencies = []\n\n[tool.uv]\ndev-dependencies = ["pytest"]\n'
    env = uv.loads(text)
    env = env.with_changes(requirements=(*env.requirements, dep("ruff", group="dev")))
    assert uv.dumps(env, existing=text).text == text.replace('["pytest"]', '["pytest", "ruff"]')


def test_merge_prunes_tables_it_emptied() -> None:
    text = (
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["a"]\n\n'
        '[dependency-groups]\ndev = ["pytest"]\n\n'
        '[tool.uv.sources]\na = { path = "../a" }\n\n'
        "[tool.black]\nline-length = 100\n"
    )
    rendered = uv.dumps(Environment(requirements=(dep("a"),), format="uv"), existing=text)
    assert (
        rendered.text
        == '[project]\nname = "x"\nversion = "1"\ndependencies = ["a"]\n\n[tool.black]\nline-length = 100\n'
    )


def test_merge_keeps_modes_and_tables_it_does_not_own() -> None:
    text = (
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["w"]\n\n'
        '[tool.uv]\nprerelease = "explicit"\nmanaged = true\n\n'
        '[tool.uv.sources]\nw = { workspace = true }\n\n[tool.uv.workspace]\nmembers = ["packages/*"]\n'
    )
    env = uv.loads(text)
    env = env.with_changes(requirements=(*env.requirements, dep("b")))
    assert uv.dumps(env, existing=text).text == text.replace('["w"]', '["w", "b"]')


# ---------------------------------------------------------------------------------------
# Round trips

_UV_FEATURES = {
    "specifiers",
    "extras",
    "markers",
    "vcs",
    "constraints",
    "sources",
    "source-names",
    "python",
    "groups",
    "dep-index",
}


def _priority(source: Source) -> Source:
    from dataclasses import replace

    return replace(source, priority=None) if source.priority not in (None, "explicit") else source


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments(_UV_FEATURES), st.booleans())
def test_round_trip(env: Environment, names: bool) -> None:
    keep = tuple(
        d.with_changes(index=None) if d.constraint else d
        for d in env.requirements
        if not (d.url and not d.url.startswith("git+"))
    )
    sources = tuple(_priority(s) for s in env.sources)
    if not names:
        sources = tuple(s for s in sources if s.name is None)
        keep = tuple(d.with_changes(index=None) for d in keep)
    env = env.with_changes(requirements=keep, sources=sources, format="uv")
    rendered = uv.dumps(env)
    assume(not rendered.losses)
    same(uv.loads(rendered.text), env)
    assert uv.dumps(uv.loads(rendered.text), existing=rendered.text).text == rendered.text


def _carried(env: Environment) -> Environment:
    keep = tuple(
        d.with_changes(index=None) if d.constraint else d
        for d in env.requirements
        if not (d.url and not d.url.startswith("git+"))
    )
    return env.with_changes(requirements=keep, sources=tuple(_priority(s) for s in env.sources), format="uv")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments(_UV_FEATURES).map(_carried), environments(_UV_FEATURES).map(_carried))
def test_merging_one_environment_into_the_file_of_another(old: Environment, new: Environment) -> None:
    rendered = uv.dumps(new)
    assume(not rendered.losses)
    same(uv.loads(uv.dumps(new, existing=uv.dumps(old).text).text), new)


# ---------------------------------------------------------------------------------------
# Real files


def test_corpus_pyprojects_read_and_are_not_claimed(corpus: Path) -> None:
    files = sorted((corpus / "other-formats").glob("*pyproject.toml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not uv.detect("pyproject.toml", text), path.name  # every one is a poetry file
        uv.loads(text, path.name)  # the PEP 621 part reads without error


def test_corpus_pep621_project_table(corpus: Path) -> None:
    path = corpus / "other-formats" / "sdispater__pendulum__pyproject.toml"
    env = uv.loads(path.read_text(encoding="utf-8"), "pyproject.toml")
    assert env.name == "pendulum"
    assert env.python == SpecifierSet(">=3.9")
    assert list(env.requirements) == [
        dep("python-dateutil>=2.6"),
        dep("tzdata>=2020.1"),
        dep('time-machine>=2.6.0; implementation_name != "pypy"'),
    ]


def test_poetry_example_is_not_a_uv_file(examples: Path) -> None:
    assert not uv.detect("pyproject.toml", (examples / "poetry" / "pyproject.toml").read_text(encoding="utf-8"))


def test_template_is_a_valid_project() -> None:
    from envkit.formats._templates import template

    data = loads_toml(template("pyproject-uv.toml"), "pyproject-uv.toml")
    assert set(data["project"]) == {"name", "version", "requires-python", "dependencies"}


# ---------------------------------------------------------------------------------------
# uv itself reads what we write

needs_uv = pytest.mark.skipif(UV is None, reason="uv is not installed")


def _uv(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert UV is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    env.update(
        UV_CACHE_DIR=str(project / ".uv-cache"),
        XDG_CONFIG_HOME=str(project / ".config"),
        UV_NO_PROGRESS="1",
        UV_PYTHON_DOWNLOADS="never",
    )
    return subprocess.run([UV, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


@needs_uv
def test_uv_locks_what_we_write(tmp_path: Path, package_index: Any) -> None:
    """A real resolution against the local index: groups, extras, a constraint, --pre, an explicit index."""
    from tests.pkgindex import Dist, build_index

    local = build_index(tmp_path / "local", (Dist("xgboost", "9.9.9"),))
    env = requirements.loads(
        f"--index-url {package_index.simple_url}\n--pre\n"
        "mlflow>=2.14\npandas[performance]~=2.2\nnightly-tool\nxgboost\n",
        "requirements.txt",
    )
    env = env.with_changes(
        requirements=(
            *(d.with_changes(index="local") if d.key == "xgboost" else d for d in env.requirements),
            dep("pytest>=8", group="dev"),
            dep("jupyter", group="extra:notebook"),
            dep("numpy<2", constraint=True),
        ),
        sources=(*env.sources, Source("find-links", str(local / "wheels"), name="local", priority="explicit")),
        python=SpecifierSet(">=3.9"),
        name="demo",
    )
    (tmp_path / "pyproject.toml").write_text(uv.dumps(env).text, encoding="utf-8")
    result = _uv(tmp_path, "lock")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower(), result.stderr
    lock = loads_toml((tmp_path / "uv.lock").read_text(encoding="utf-8"), "uv.lock")
    versions = {p["name"]: p["version"] for p in lock["package"]}
    assert versions["numpy"] == "1.26.4"  # the constraint
    assert versions["nightly-tool"] == "2.0.0rc1"  # --pre
    assert versions["xgboost"] == "9.9.9"  # pinned to the explicit flat index
    assert versions["pytest"] == "8.3.3"  # the dev group
    assert versions["jupyter"] == "1.1.1"  # the extra
    assert versions["numexpr"] == "2.10.1"  # pandas[performance]


@needs_uv
def test_uv_parses_the_kitchen_sink(tmp_path: Path) -> None:
    text = (DATA / "kitchen-sink.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    (tmp_path / "wheels").mkdir()
    result = _uv(tmp_path, "lock", "--offline")
    # offline, resolution must fail, but only for want of the network, never on the file
    assert result.returncode != 0
    for sign in ("Failed to parse", "TOML parse error", "unknown field", "unknown variant"):
        assert sign not in result.stderr, result.stderr
    # it got as far as fetching the Git source and finding the local project missing
    assert "Distribution not found at" in result.stderr or "github.com/example" in result.stderr, result.stderr


@settings(max_examples=50, deadline=None)
@given(environments(ALL_FEATURES))
def test_any_environment_writes_a_file_that_reads_back(env: Environment) -> None:
    """Whatever uv cannot carry is reported; the rest reads back as it was written."""
    rendered = uv.dumps(env)
    back = uv.loads(rendered.text)
    reported = {loss.subject.split(" --", 1)[0] for loss in rendered.losses}
    for d in Counter(env.requirements) - Counter(back.requirements):
        assert str(d) in reported, (str(d), rendered.text, [str(loss) for loss in rendered.losses])
