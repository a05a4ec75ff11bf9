"""PEP 751 ``pylock.toml``: detection, reading, writing, and the real tools reading what we write.

Every lock written here is validated with ``packaging.pylock`` (the reference validator
pip uses) before anything else is asserted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from envkit.errors import ParseError
from envkit.formats import pylock, requirements
from envkit.formats._base import Rendered
from envkit.formats._pep508 import from_pep508
from envkit.formats._toml import loads_toml
from envkit.formats.pylock import DistFile, LockedPackage
from envkit.model import Dependency, Environment, PipOptions, Source
from tests.strategies import ALL_FEATURES, environments, markers, project_names, versions

DATA = Path(__file__).parent / "data" / "pylock"
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
H = "0123456789abcdef" * 4  # a sha256-sized digest


def dep(text: str, **changes: Any) -> Dependency:
    return from_pep508(text, path="x").with_changes(**changes)


def write(env: Environment, existing: str | None = None, **kwargs: Any) -> Rendered:
    """``pylock.dumps`` whose output must pass packaging's validation."""
    rendered = pylock.dumps(env, existing, **kwargs)
    Pylock.from_dict(loads_toml(rendered.text, "pylock.toml"))
    return rendered


def losses(rendered: Rendered) -> list[str]:
    return [str(loss) for loss in rendered.losses]


def wheel(name: str, version: str, digest: str = H, **more: Any) -> DistFile:
    stem = canonicalize_name(name).replace("-", "_")
    return DistFile(((("sha256", digest),)), name=f"{stem}-{version}-py3-none-any.whl", **more)


# ---------------------------------------------------------------------------------------
# Detection

DETECT_CASES = [
    ("pylock.toml", "", True),
    ("locks/pylock.dev.toml", "", True),
    ("pylock.toml.bak", 'lock-version = "1.0"\ncreated-by = "x"\n', False),
    ("pylock.a.b.toml", "", False),
    ("poetry.lock", 'lock-version = "1.0"\ncreated-by = "x"\n', False),
    (None, 'lock-version = "1.0"\ncreated-by = "uv"\n[[packages]]\nname = "a"\n', True),
    (None, 'lock-version = "2.0"\n', False),
    (None, "[[packages]]\n", False),
]


@pytest.mark.parametrize(("path", "text", "expected"), DETECT_CASES)
def test_detect(path: str | None, text: str, expected: bool) -> None:
    assert pylock.detect(path, text) is expected


# ---------------------------------------------------------------------------------------
# Reading


def test_reads_the_example_of_the_specification() -> None:
    env = pylock.loads((DATA / "spec-example.toml").read_text(encoding="utf-8"))
    assert list(env.requirements) == [
        dep("attrs==25.1.0", hashes=(("sha256", "c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a"),)),
        dep("cattrs==24.1.2", hashes=(("sha256", "67c7495b760168d931a10233f979b28dc04daf853b30752246f4f8471c6d68d0"),)),
        dep(
            "numpy==2.2.3",
            hashes=(
                ("sha256", "83807d445817326b4bcdaaaf8e8e9f1753da04341eceec705c001ff342002e5d"),
                ("sha256", "3b787adbf04b0db1967798dba8da1af07e387908ed1553a0d6e74c084d1ceafe"),
            ),
        ),
    ]
    assert env.python == SpecifierSet("==3.12")
    assert env.sources == ()
    assert env.format == "pylock"
    assert [str(n) for n in env.notes] == [
        "pylock.toml:2:1: warning: the lock is valid only where one of its environments holds "
        "(sys_platform == 'win32'; sys_platform == 'linux'); envkit does not carry that"
    ]
    assert [d.origin.line for d in env.requirements if d.origin] == [6, 19, 30]


MULTI_USE = [
    dep(
        "torch==2.4.1+cpu ; sys_platform == 'linux'",
        index="download.pytorch.org-whl-cpu",
        hashes=(("sha256", "aaaa" + "0" * 59 + "1"),),
    ),
    dep(
        "scikit-learn==1.5.2",
        hashes=(("sha256", "bbbb" + "0" * 59 + "1"), ("sha256", "bbbb" + "0" * 59 + "2"), ("sha512", "cc")),
    ),
    dep("cupy==13.3.0", group="extra:gpu", hashes=(("sha256", "dddd" + "0" * 59 + "1"),)),
    dep("pytest==8.3.3 ; python_version >= '3.10'", group="dev", hashes=(("sha256", "eeee" + "0" * 59 + "1"),)),
    dep("pytest==8.3.3 ; python_version >= '3.10'", group="docs", hashes=(("sha256", "eeee" + "0" * 59 + "1"),)),
    dep(
        "feature-store",
        url="git+https://github.com/example/feature-store.git@0123456789abcdef0123456789abcdef01234567#subdirectory=python",
    ),
    dep("preprocessing", path="libs/preprocessing", editable=True, group="dev"),
    dep("legacy-tool", path="vendor/legacy_tool-0.9.tar.gz", hashes=(("sha256", "ffff" + "0" * 59 + "1"),)),
    dep(
        "requests @ https://files.example.com/packages/requests-2.32.3-py3-none-any.whl",
        specifier=SpecifierSet("==2.32.3"),  # an archive's version, when the lock gives it
        hashes=(("sha256", "7" + "0" * 62 + "1"),),
    ),
]


def test_reads_a_multi_use_lock() -> None:
    env = pylock.loads((DATA / "multi-use.toml").read_text(encoding="utf-8"))
    assert list(env.requirements) == MULTI_USE
    assert env.sources == (
        Source("extra-index", "https://download.pytorch.org/whl/cpu", name="download.pytorch.org-whl-cpu"),
    )
    assert env.python == SpecifierSet(">=3.10")
    assert env.notes == ()


#: (marker, default groups, expected (group, rest) pairs)
GROUP_CASES = [
    (None, (), [(None, None)]),
    ("os_name == 'nt'", (), [(None, "os_name == 'nt'")]),
    ("'dev' in dependency_groups", (), [("dev", None)]),
    ("'gpu' in extras and python_version < '3.13'", (), [("extra:gpu", "python_version < '3.13'")]),
    ("'default' in dependency_groups", ("default",), [(None, None)]),
    ("'a' in dependency_groups or 'b' in dependency_groups", (), [("a", None), ("b", None)]),
    (
        "os_name == 'nt' and ('a' in dependency_groups or 'b' in dependency_groups)",
        (),
        [("a", "os_name == 'nt'"), ("b", "os_name == 'nt'")],
    ),
    (
        "(os_name == 'nt' and 'a' in dependency_groups) or (sys_platform == 'linux' and 'a' in dependency_groups)",
        (),
        [("a", "(os_name == 'nt') or (sys_platform == 'linux')")],
    ),
    ("os_name == 'nt' or 'dev' in dependency_groups", (), [(None, "os_name == 'nt'"), ("dev", None)]),
    (
        "(os_name == 'nt' or os_name == 'posix') and 'dev' in dependency_groups",
        (),
        [("dev", "os_name == 'nt' or os_name == 'posix'")],
    ),
    # two groups required at once: no group of the model says that; the marker stays whole
    (
        "'a' in dependency_groups and 'b' in dependency_groups",
        (),
        [(None, "'a' in dependency_groups and 'b' in dependency_groups")],
    ),
    ("'dev' not in dependency_groups", (), [(None, "'dev' not in dependency_groups")]),
]


@pytest.mark.parametrize(("marker", "defaults", "expected"), GROUP_CASES)
def test_group_markers(
    marker: str | None, defaults: tuple[str, ...], expected: list[tuple[str | None, str | None]]
) -> None:
    got = pylock.split_groups(Marker(marker) if marker else None, defaults)
    assert [(g, str(m) if m else None) for g, m in got] == [(g, str(Marker(m)) if m else None) for g, m in expected]


HEAD = 'lock-version = "1.0"\ncreated-by = "x"\n'

ERROR_CASES = [
    pytest.param(
        'lock-version = "2.0"\ncreated-by = "x"\npackages = []\n',
        "pylock.toml:1:17: unsupported lock-version '2.0' (envkit reads 1.x)\n"
        '    lock-version = "2.0"\n'
        "                    ^^^",
        id="major-version",
    ),
    pytest.param(
        'created-by = "x"\npackages = []\n',
        "pylock.toml:1:1: the lock has no 'lock-version' (a required key)\n    created-by = \"x\"\n    ^",
        id="no-version",
    ),
    pytest.param(
        'lock-version = "1.0"\n',
        "pylock.toml:1:1: the lock has no 'created-by' (a required key)\n    lock-version = \"1.0\"\n    ^",
        id="no-creator",
    ),
    pytest.param(
        HEAD + '\n[[packages]]\nname = "Foo_Bar"\ndirectory = { path = "." }\n',
        "pylock.toml:5:9: package name 'Foo_Bar' is not normalized (write 'foo-bar')\n"
        '    name = "Foo_Bar"\n'
        "            ^^^^^^^",
        id="name-not-normalized",
    ),
    pytest.param(
        HEAD + '\n[[packages]]\nname = "a"\nversion = "1"\n',
        "pylock.toml:4:1: package a: exactly one of vcs, directory, archive, sdist, wheels must be set\n"
        "    [[packages]]\n"
        "    ^",
        id="no-source",
    ),
    pytest.param(
        HEAD
        + '\n[[packages]]\nname = "a"\ndirectory = { path = "a" }\narchive = { path = "a.zip", hashes = { sha256 = "x" } }\n',
        "pylock.toml:4:1: package a: exactly one of vcs, directory, archive, sdist, wheels must be set\n"
        "    [[packages]]\n"
        "    ^",
        id="two-sources",
    ),
    pytest.param(
        HEAD + '\n[[packages]]\nname = "a"\nmarker = "os_name == nt"\ndirectory = { path = "a" }\n',
        "pylock.toml:6:22: invalid marker: Expected a marker variable or quoted string\n"
        '    marker = "os_name == nt"\n'
        "                         ^",
        id="bad-marker",
    ),
    pytest.param(
        HEAD
        + '\n[[packages]]\nname = "a"\nversion = "1.0"\nwheels = [{ name = "b-1.0-py3-none-any.whl", url = "https://x/b", hashes = { sha256 = "x" } }]\n',
        "pylock.toml:7:1: packages[0].wheels[0]: 'b-1.0-py3-none-any.whl' does not belong to a 1.0\n"
        '    wheels = [{ name = "b-1.0-py3-none-any.whl", url = "https://x/b", hashes = { sha256 = "x" } }]\n'
        "    ^",
        id="foreign-wheel",
    ),
    pytest.param(
        HEAD + '\n[[packages]]\nname = "a"\nwheels = [{ url = "https://x/a-1.0-py3-none-any.whl", hashes = {} }]\n',
        "pylock.toml:6:1: packages[0].wheels[0]: at least one hash is needed\n"
        '    wheels = [{ url = "https://x/a-1.0-py3-none-any.whl", hashes = {} }]\n'
        "    ^",
        id="no-hash",
    ),
    pytest.param(
        HEAD + '\n[[packages]]\nname = "a"\nsdist = { name = "a-1.tar.gz", hashes = { sha256 = "x" } }\n',
        "pylock.toml:6:1: packages[0].sdist: a file needs a url or a path\n"
        '    sdist = { name = "a-1.tar.gz", hashes = { sha256 = "x" } }\n'
        "    ^",
        id="file-without-location",
    ),
    pytest.param(
        HEAD + '\n[[packages]]\nname = "a"\nvcs = { type = "git", url = "https://x/a.git" }\n',
        "pylock.toml:6:1: packages[0].vcs has no 'commit-id' (a required key)\n"
        '    vcs = { type = "git", url = "https://x/a.git" }\n'
        "    ^",
        id="vcs-without-commit",
    ),
    pytest.param(
        HEAD + '\n[[packages]]\nname = "a"\ndirectory = { path = "a", editable = "yes" }\n',
        "pylock.toml:6:1: editable in packages[0].directory must be true or false\n"
        '    directory = { path = "a", editable = "yes" }\n'
        "    ^",
        id="bad-type",
    ),
    pytest.param(
        'lock-version = "1.0"\ncreated-by = "x"\n',
        'pylock.toml:1:1: the lock has no [[packages]] (a required key)\n    lock-version = "1.0"\n    ^',
        id="no-packages",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERROR_CASES)
def test_errors_point_at_the_text(text: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        pylock.loads(text)
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------
# Writing


def test_rewrites_a_lock_from_its_own_files() -> None:
    """Written into an existing lock, the files of each package are found again."""
    for name in ("spec-example.toml", "multi-use.toml"):
        text = (DATA / name).read_text(encoding="utf-8")
        env = pylock.loads(text)
        rendered = write(env, existing=text)
        assert rendered.losses == ()
        back = pylock.loads(rendered.text)
        assert Counter(back.requirements) == Counter(env.requirements)
        assert back.sources == env.sources and back.python == env.python
        # a lock envkit wrote is a fixed point
        assert write(back, existing=rendered.text).text == rendered.text


def test_writes_the_golden_lock() -> None:
    text = (DATA / "multi-use.toml").read_text(encoding="utf-8")
    rendered = write(pylock.loads(text), existing=text)
    assert rendered.text == (DATA / "multi-use-written.toml").read_text(encoding="utf-8")


def test_writes_what_a_resolver_found() -> None:
    env = Environment(
        requirements=(
            dep("numpy==1.26.4", comment="pinned by the course"),
            dep("torch==2.4.1", index="pytorch"),
            dep("pytest==8.3.3", group="dev"),
            dep("pytest==8.3.3", group="test"),
            dep("jupyter==1.1.1 ; sys_platform != 'win32'", group="extra:notebook"),
        ),
        python=SpecifierSet(">=3.10"),
        sources=(Source("extra-index", "https://download.pytorch.org/whl/cpu", name="pytorch"),),
    )
    files = [
        LockedPackage(
            "numpy",
            "1.26.4",
            "https://pypi.org/simple",
            sdist=DistFile((("sha256", "1" * 64),), url="https://files.example/numpy-1.26.4.tar.gz"),
            wheels=(wheel("numpy", "1.26.4", "2" * 64, url="https://files.example/numpy-1.26.4-py3-none-any.whl"),),
            requires_python=">=3.9",
        ),
        LockedPackage(
            "torch", "2.4.1", wheels=(wheel("torch", "2.4.1", "3" * 64, path="wheels/torch-2.4.1-py3-none-any.whl"),)
        ),
        LockedPackage(
            "pytest",
            "8.3.3",
            "https://pypi.org/simple",
            wheels=(wheel("pytest", "8.3.3", "4" * 64, url="https://f/p.whl"),),
        ),
        LockedPackage(
            "jupyter",
            "1.1.1",
            wheels=(wheel("jupyter", "1.1.1", "5" * 64, url="https://f/jupyter-1.1.1-py3-none-any.whl"),),
        ),
    ]
    rendered = write(env, files=files)
    assert rendered.text == (
        'lock-version = "1.0"\n'
        'requires-python = ">=3.10"\n'
        'extras = ["notebook"]\n'
        'dependency-groups = ["dev", "test"]\n'
        'created-by = "envkit"\n'
        "\n"
        "[[packages]]\n"
        'name = "jupyter"\n'
        'version = "1.1.1"\n'
        'marker = \'sys_platform != "win32" and "notebook" in extras\'\n'
        "wheels = [\n"
        f'    {{ name = "jupyter-1.1.1-py3-none-any.whl", url = "https://f/jupyter-1.1.1-py3-none-any.whl", hashes = {{ sha256 = "{"5" * 64}" }} }},\n'
        "]\n"
        "\n"
        "# pinned by the course\n"
        "[[packages]]\n"
        'name = "numpy"\n'
        'version = "1.26.4"\n'
        'requires-python = ">=3.9"\n'
        'index = "https://pypi.org/simple"\n'
        f'sdist = {{ url = "https://files.example/numpy-1.26.4.tar.gz", hashes = {{ sha256 = "{"1" * 64}" }} }}\n'
        "wheels = [\n"
        f'    {{ name = "numpy-1.26.4-py3-none-any.whl", url = "https://files.example/numpy-1.26.4-py3-none-any.whl", hashes = {{ sha256 = "{"2" * 64}" }} }},\n'
        "]\n"
        "\n"
        "[[packages]]\n"
        'name = "pytest"\n'
        'version = "8.3.3"\n'
        'marker = \'"dev" in dependency_groups or "test" in dependency_groups\'\n'
        'index = "https://pypi.org/simple"\n'
        "wheels = [\n"
        f'    {{ name = "pytest-8.3.3-py3-none-any.whl", url = "https://f/p.whl", hashes = {{ sha256 = "{"4" * 64}" }} }},\n'
        "]\n"
        "\n"
        "[[packages]]\n"
        'name = "torch"\n'
        'version = "2.4.1"\n'
        'index = "https://download.pytorch.org/whl/cpu"\n'
        "wheels = [\n"
        f'    {{ name = "torch-2.4.1-py3-none-any.whl", path = "wheels/torch-2.4.1-py3-none-any.whl", hashes = {{ sha256 = "{"3" * 64}" }} }},\n'
        "]\n"
    )
    # the lock keeps the index URL, not the source's name
    assert losses(rendered) == [
        "transformed: extra-index https://download.pytorch.org/whl/cpu: pylock.toml records only each package's index URL"
    ]
    back = pylock.loads(rendered.text)
    assert back.sources == (
        Source("extra-index", "https://download.pytorch.org/whl/cpu", name="download.pytorch.org-whl-cpu"),
    )
    assert Counter(back.requirements) == Counter(
        d.with_changes(
            hashes=tuple(pair for file in f.files for pair in file.hashes),
            index="download.pytorch.org-whl-cpu" if d.index else None,
        )
        for d, f in zip(env.requirements, [files[0], files[1], files[2], files[2], files[3]])
    )


def test_hashes_choose_the_files_and_the_rest_are_reported() -> None:
    files = [
        LockedPackage(
            "a",
            "1.0",
            wheels=(wheel("a", "1.0", "1" * 64, url="https://f/1"), wheel("a", "1.0", "2" * 64, url="https://f/2")),
        )
    ]
    # the requirement's hashes pick one of the two files; a third hash names no file
    env = Environment(requirements=(dep("a==1.0", hashes=(("sha256", "2" * 64), ("sha256", "9" * 64))),))
    rendered = write(env, files=files)
    assert rendered.text.count("https://f/") == 1 and "https://f/2" in rendered.text
    assert losses(rendered) == [f"x:1: lost: a==1.0 --hash=sha256:{'9' * 64}: these hashes name no known file"]
    # without hashes of its own, a requirement takes every known file of its version
    rendered = write(Environment(requirements=(dep("a==1.0"),)), files=files)
    assert rendered.text.count("https://f/") == 2


def test_reports_what_cannot_be_locked(examples: Path) -> None:
    folder = examples / "kitchen-sink"
    env = requirements.loads(
        (folder / "requirements.txt").read_text(encoding="utf-8"),
        "requirements.txt",
        opener=lambda p: (folder / p).read_bytes(),
    )
    rendered = write(env)
    assert rendered.text == (
        'lock-version = "1.0"\nextras = []\ndependency-groups = []\ncreated-by = "envkit"\n\n'
        '[[packages]]\nname = "preprocessing"\ndirectory = { path = "./libs/preprocessing", editable = true }\n'
    )
    not_pinned = "not pinned: run `envkit lock` to resolve it"
    assert losses(rendered) == [
        f"base.txt:1: lost: mlflow>=2.14: {not_pinned}",
        f"base.txt:2: lost: pyyaml>=6: {not_pinned}",
        "constraints.txt:1: lost: urllib3<3: a lock lists what is installed; a constraint is only applied when locking",
        "constraints.txt:2: lost: protobuf>=4.25,<6: a lock lists what is installed; a constraint is only applied when locking",
        f'requirements.txt:11: lost: numpy>=1.26,<3 ; python_version >= "3.10": {not_pinned}',
        f'requirements.txt:12: lost: numpy<1.27 ; python_version < "3.10": {not_pinned}',
        f"requirements.txt:13: lost: pandas[performance,excel]~=2.2: {not_pinned}",
        "requirements.txt:14: lost: scikit-learn==1.5.2: not locked: its 2 hash(es) name no file "
        "(pylock.toml records each file's name with its hash); run `envkit lock` to resolve it",
        'requirements.txt:17: lost: torch==2.4.1+cpu ; platform_system == "Linux": not locked: no file of it is known '
        "(pylock.toml records each file's name and hash); run `envkit lock` to resolve it",
        f"requirements.txt:18: lost: uvicorn[standard] >= 0.30: {not_pinned}",
        f'requirements.txt:19: lost: pywin32>=306 ; sys_platform == "win32": {not_pinned}',
        "requirements.txt:20: lost: requests[socks] @ https://files.example.com/packages/requests-2.32.3-py3-none-any.whl: "
        "not locked: a locked archive needs its hash; run `envkit lock` to resolve it",
        "requirements.txt:21: lost: git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store: "
        "not locked: the VCS reference has 'v0.4.1', not a full commit id; run `envkit lock` to resolve it",
        "requirements.txt:22: lost: git+https://github.com/example/metrics.git@3f2a1c9#egg=metrics&subdirectory=python: "
        "not locked: the VCS reference has '3f2a1c9', not a full commit id; run `envkit lock` to resolve it",
        "requirements.txt:23: transformed: ./libs/preprocessing: the lock needs a project name; 'preprocessing' is guessed",
        "requirements.txt:24: lost: ./vendor/legacy_tool-0.9.tar.gz: not locked: a locked archive needs its hash; "
        "run `envkit lock` to resolve it",
        f"requirements.txt:25: lost: tokenizers>=0.19: {not_pinned}",
        'requirements.txt:26: lost: xgboost>=2.0; (python_version >= "3.9" and platform_machine == "x86_64") '
        f'or sys_platform == "darwin": {not_pinned}',
        "requirements.txt:2: transformed: index https://pypi.org/simple: pylock.toml records only each package's index URL",
        "requirements.txt:3: transformed: extra-index https://download.pytorch.org/whl/cpu: "
        "pylock.toml records only each package's index URL",
        "requirements.txt:4: transformed: extra-index https://${PRIVATE_INDEX_USER}:${PRIVATE_INDEX_TOKEN}@pypi.example.com/simple: "
        "pylock.toml records only each package's index URL",
        "requirements.txt:5: lost: find-links ./wheels: pylock.toml has no find-links; each package names its files",
        "lost: --trusted-host pypi.example.com: pylock.toml records no installer options",
    ]


#: (requirement, expected [[packages]] body lines after the name, losses)
DIRECT_CASES = [
    pytest.param(
        dep("a", url=f"git+https://github.com/o/a.git@{'ab' * 20}#egg=a&subdirectory=py", editable=True),
        f'vcs = {{ type = "git", url = "https://github.com/o/a.git", commit-id = "{"ab" * 20}", subdirectory = "py" }}',
        [
            "x:1: transformed: a: a locked VCS checkout is installed as a regular package",
            f"x:1: transformed: a: written as git+https://github.com/o/a.git@{'ab' * 20}#subdirectory=py",
        ],
        id="vcs",
    ),
    pytest.param(
        dep("b", url=f"https://x/b-2.0.tar.gz#sha256={'1' * 64}"),
        f'archive = {{ url = "https://x/b-2.0.tar.gz", hashes = {{ sha256 = "{"1" * 64}" }} }}',
        ["x:1: transformed: b: written as https://x/b-2.0.tar.gz"],
        id="archive-hash-in-fragment",
    ),
    pytest.param(
        Dependency(None, SpecifierSet("==3.0"), path="dist/c-3.0-py3-none-any.whl", hashes=(("sha256", "2" * 64),)),
        f'version = "3.0"\narchive = {{ path = "dist/c-3.0-py3-none-any.whl", hashes = {{ sha256 = "{"2" * 64}" }} }}',
        ["transformed: dist/c-3.0-py3-none-any.whl: the lock needs a project name; 'c' is guessed"],
        id="unnamed-wheel-path",
    ),
    pytest.param(
        dep("d[x] ; os_name == 'nt'", path="../d", config_settings=(("k", "v"),)),
        'marker = \'os_name == "nt"\'\ndirectory = { path = "../d" }',
        [
            "x:1: lost: d[x] ; os_name == 'nt': a lock lists each package once; the extras' own requirements must be locked too",
            "x:1: lost: d[x] ; os_name == 'nt' --config-settings: pylock.toml has no build settings",
        ],
        id="directory",
    ),
]


@pytest.mark.parametrize(("requirement", "body", "lost"), DIRECT_CASES)
def test_writes_direct_references(requirement: Dependency, body: str, lost: list[str]) -> None:
    rendered = write(Environment(requirements=(requirement,)))
    assert rendered.text.split("[[packages]]\n", 1)[1].split("\n", 1)[1] == body + "\n"
    assert losses(rendered) == lost


def test_reports_options_and_conda_content() -> None:
    env = Environment(
        options=PipOptions(pre=True, require_hashes=True, no_binary=(":all:",), use_features=("truststore",)),
        conda=("cudatoolkit=11.8",),
        channels=("nvidia",),
        variables=(("A", "1"),),
        requirements=(dep("x==1", constraint=True), dep("y==1", channel="conda-forge")),
    )
    files = [LockedPackage("y", "1", wheels=(wheel("y", "1", url="https://f/y-1-py3-none-any.whl"),))]
    rendered = write(env, files=[])
    assert losses(rendered)[-7:] == [
        "lost: --pre: pylock.toml records no installer options",
        "transformed: --require-hashes: a lock always records the hash of each file",
        "lost: --no-binary :all:: pylock.toml records no installer options",
        "lost: --use-feature truststore: pylock.toml records no installer options",
        "lost: cudatoolkit=11.8: a conda-only package has no pylock.toml form",
        "lost: channel nvidia: pylock.toml has no conda channels",
        "lost: variable A=1: pylock.toml sets no environment variables",
    ]
    assert "x:1: lost: y==1: a lock cannot take a package from conda channel 'conda-forge'" in losses(
        write(env, files=files)
    )


def test_conflicting_entries_are_reported() -> None:
    files = [
        LockedPackage("a", "1", wheels=(wheel("a", "1", url="https://f/a1"),)),
        LockedPackage("a", "2", wheels=(wheel("a", "2", "f" * 64, url="https://f/a2"),)),
    ]
    env = Environment(requirements=(dep("a==1"), dep("a==2", group="dev"), dep("a==1", group="docs")))
    rendered = write(env, files=files)
    assert losses(rendered) == [
        "x:1: transformed: a==1: also in group(s) 'docs': the lock installs it by default",
        "x:1: lost: a==2: conflicts with another entry for a under the same marker and group",
    ]
    assert rendered.text.count("[[packages]]") == 1


# ---------------------------------------------------------------------------------------
# Round trip: lock -> model -> lock


@st.composite
def locked(draw: st.DrawFn) -> tuple[Environment, list[LockedPackage]]:
    names = draw(st.lists(project_names(), min_size=1, max_size=5, unique_by=canonicalize_name))
    deps, files = [], []
    for i, name in enumerate(names):
        version = draw(versions(local=True))
        key = canonicalize_name(name)
        count = draw(st.integers(1, 3))
        dists = tuple(
            wheel(key, version, hashlib.sha256(f"{key}{i}{n}".encode()).hexdigest(), url=f"https://f/{key}/{n}.whl")
            for n in range(count)
        )
        files.append(
            LockedPackage(key, version, draw(st.sampled_from([None, "https://pypi.org/simple"])), wheels=dists)
        )
        group = draw(st.sampled_from([None, None, "dev", "docs", "extra:gpu"]))
        marker = draw(st.one_of(st.none(), markers()))
        hashes = tuple(pair for d in dists for pair in d.hashes)
        deps.append(Dependency(key, SpecifierSet(f"=={version}"), marker=marker, group=group, hashes=hashes))
    python = draw(st.one_of(st.none(), st.just(SpecifierSet(">=3.9"))))
    return Environment(requirements=tuple(deps), python=python, format="pylock"), files


@settings(max_examples=60, deadline=None)
@given(locked())
def test_round_trip(case: tuple[Environment, list[LockedPackage]]) -> None:
    env, files = case
    rendered = write(env, files=files)
    assert rendered.losses == ()
    back = pylock.loads(rendered.text)
    assert Counter(back.requirements) == Counter(env.requirements)
    assert back.python == env.python
    assert write(back, existing=rendered.text).text == rendered.text


# ---------------------------------------------------------------------------------------
# The real tools


def _pip(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_pip_installs_from_what_we_write(tmp_path: Path) -> None:
    """pip 26 reads our lock (``-r pylock.toml``, ``--group``) and takes exactly its files, offline."""
    from tests.pkgindex import Dist, build_wheel

    (tmp_path / "wheels").mkdir()
    built = {
        d.name: build_wheel(d, tmp_path / "wheels")
        for d in (Dist("alpha", "1.0"), Dist("beta", "2.0"), Dist("gamma", "0.5"))
    }

    def digest(name: str) -> str:
        return hashlib.sha256(built[name].read_bytes()).hexdigest()

    env = Environment(
        requirements=(
            dep("alpha==1.0"),
            dep("gamma==0.5", group="dev"),
            Dependency("beta", path="wheels/beta-2.0-py3-none-any.whl", hashes=(("sha256", digest("beta")),)),
            dep("delta==1.0 ; sys_platform == 'nonexistent'"),
        )
    )
    files = [
        LockedPackage(n, v, wheels=(DistFile((("sha256", digest(n)),), path=f"wheels/{built[n].name}"),))
        for n, v in (("alpha", "1.0"), ("gamma", "0.5"))
    ]
    files.append(
        LockedPackage(
            "delta", "1.0", wheels=(wheel("delta", "1.0", url="https://nowhere.invalid/delta-1.0-py3-none-any.whl"),)
        )
    )
    (tmp_path / "pylock.toml").write_text(write(env, files=files).text, encoding="utf-8")

    def installed(*extra: str) -> dict[str, str]:
        result = _pip(
            ["install", "--dry-run", "--no-index", "--ignore-installed", "--report", "report.json", "-q", *extra],
            tmp_path,
        )
        assert result.returncode == 0, result.stderr
        report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
        return {i["metadata"]["name"]: i["download_info"]["url"].rsplit("/", 1)[-1] for i in report["install"]}

    assert installed("-r", "pylock.toml") == {
        "alpha": "alpha-1.0-py3-none-any.whl",
        "beta": "beta-2.0-py3-none-any.whl",
    }
    assert installed("--group", "pylock.toml:dev") == {
        "alpha": "alpha-1.0-py3-none-any.whl",
        "beta": "beta-2.0-py3-none-any.whl",
        "gamma": "gamma-0.5-py3-none-any.whl",
    }


@pytest.mark.skipif(UV is None, reason="uv is not installed")
def test_reads_what_uv_exports(tmp_path: Path) -> None:
    """uv's own pylock.toml export (from a project locked offline against local wheels) reads."""
    from tests.pkgindex import Dist, build_index

    build_index(tmp_path, (Dist("alpha", "1.0", ("beta>=2",)), Dist("beta", "2.0"), Dist("gamma", "0.5")))
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.9"\ndependencies = ["alpha"]\n'
        '[dependency-groups]\ndev = ["gamma"]\n[tool.uv]\nno-index = true\nfind-links = ["./wheels"]\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    env.update(UV_CACHE_DIR=str(tmp_path / ".cache"), XDG_CONFIG_HOME=str(tmp_path / ".config"), UV_NO_PROGRESS="1")
    assert UV is not None
    for args in (
        ["lock", "--offline"],
        ["export", "--format", "pylock.toml", "--offline", "--frozen", "-o", "pylock.toml"],
    ):
        result = subprocess.run(
            [UV, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
    text = (tmp_path / "pylock.toml").read_text(encoding="utf-8")
    lock = pylock.loads(text)
    wheels = (tmp_path / "wheels").as_uri()
    assert {(d.key, str(d.specifier), d.index) for d in lock.requirements} == {
        ("alpha", "==1.0", lock.sources[0].name),
        ("beta", "==2.0", lock.sources[0].name),
        ("gamma", "==0.5", lock.sources[0].name),
    }
    assert [s.url for s in lock.sources] == [wheels]
    assert all(len(d.hashes) == 1 for d in lock.requirements)
    # and we can write it again from its own files
    rendered = write(lock, existing=text)
    assert rendered.losses == ()
    assert Counter(pylock.loads(rendered.text).requirements) == Counter(lock.requirements)


@settings(max_examples=50, deadline=None)
@given(environments(ALL_FEATURES))
def test_any_environment_writes_a_valid_lock(env: Environment) -> None:
    """What is written validates; every requirement that does not read back as it was is reported."""
    rendered = write(env)
    back = pylock.loads(rendered.text)
    reported = {loss.subject.split(" --", 1)[0] for loss in rendered.losses}
    for d in Counter(env.requirements) - Counter(back.requirements):
        assert str(d) in reported, (str(d), rendered.text, losses(rendered))
