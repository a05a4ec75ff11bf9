"""The conda manager for real: py-rattler solves and installs from a local conda channel
(tests/condachannel.py), the prefix's own pip installs the ``pip:`` part from the local
package index (tests/pkgindex.py); an external conda, mamba or micromamba when one is on
PATH."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from envkit.environments import bootstrap, verify
from envkit.errors import EnvkitError, ParseError
from envkit.managers import get
from envkit.managers.base import ManagerError, tool_path
from envkit.managers.conda import (
    ENGINES,
    CondaFile,
    CondaManager,
    channel_urls,
    conda_subdir,
    explain_engine_failure,
    parse_dry_run,
    python_pins,
    read_environment_yml,
    redacted,
)

from .condachannel import PY_MINOR, PY_VERSION, build_channel, embedded_pip_wheel, repodata
from .pkgindex import GRAPH

PIP_VERSION = embedded_pip_wheel().name.split("-")[1]

#: What the environment of ``_ENV`` holds: name -> (version, INSTALLER).
INSTALLED = {
    "joblib": ("1.4.2", "conda"),
    "numpy": ("2.1.0", "conda"),
    "pip": (PIP_VERSION, "conda"),
    "scikit-learn": ("1.5.2", "conda"),
    "scipy": ("1.14.1", "conda"),
    "threadpoolctl": ("3.5.0", "conda"),
    "pandas": ("2.2.3", "pip"),
    "python-dateutil": ("2.9.0", "pip"),
    "pytz": ("2024.2", "pip"),
    "six": ("1.16.0", "pip"),
    "tzdata": ("2024.2", "pip"),
}

#: The same pins the venv manager resolves for ``scikit-learn`` and ``pandas``.
SKLEARN_PANDAS = {name: version for name, (version, _) in INSTALLED.items() if name != "pip"}

_ENV = """\
name: demo
channels:
  - {channel}
  - nodefaults
dependencies:
  - python={python}
  - numpy>=1.26
  - scikit-learn
  - pip
  - pip:
    - --index-url {index}
    - pandas
"""

_PROBE = """
import json
from importlib import metadata
import numpy, scikit_learn, pandas
print(json.dumps({
    d.metadata["Name"]: [d.version, (d.read_text("INSTALLER") or "").strip()]
    for d in metadata.distributions()
}))
"""


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The local channel, built once; rattler's package cache kept in a temporary folder."""
    root = build_channel(tmp_path_factory.mktemp("conda-channel"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RATTLER_CACHE_DIR", str(tmp_path_factory.mktemp("rattler-cache")))
        patch.delenv("ENVKIT_CONDA_ENGINE", raising=False)
        yield root


def _project(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "environment.yml").write_text(text, encoding="utf-8")
    return folder


def _env_text(channel: Path, index: str) -> str:
    return _ENV.format(channel=channel.as_uri(), python=PY_MINOR, index=index)


def _installed(python: Path) -> dict[str, tuple[str, str]]:
    out = subprocess.run([str(python), "-I", "-c", _PROBE], capture_output=True, text=True, check=True)
    return {name: (version, installer) for name, (version, installer) in json.loads(out.stdout).items()}


@pytest.fixture(scope="module")
def built(channel: Path, package_index, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The environment of ``_ENV`` created once with py-rattler: (project, Created, progress)."""
    project = _project(tmp_path_factory.mktemp("conda-project"), _env_text(channel, package_index.simple_url))
    messages: list[str] = []
    created = CondaManager(progress=messages.append, engine="rattler").create(project)
    return project, created, messages


# ---------------------------------------------------------------------------------------
# The channel


def test_channel_holds_the_graph_pip_and_python(channel: Path) -> None:
    noarch = repodata(channel, "noarch")
    expected = {f"{d.name}-{d.version}-pyh_0.conda" for d in GRAPH} | {f"pip-{PIP_VERSION}-pyh_0.conda"}
    assert set(noarch) == expected
    native = repodata(channel, conda_subdir())
    assert set(native) == {f"python-{PY_VERSION}-0_envkit_test.conda"}


@pytest.mark.parametrize(
    ("filename", "depends"),
    [
        ("six-1.16.0-pyh_0.conda", ["python"]),
        (
            "scikit-learn-1.5.2-pyh_0.conda",
            ["python", "numpy >=1.19.5", "scipy >=1.6.0", "joblib >=1.2.0", "threadpoolctl >=3.1.0"],
        ),
        (
            "seaborn-0.13.2-pyh_0.conda",
            ["python", "numpy !=1.24.0,>=1.20", "pandas >=1.2", "matplotlib !=3.6.1,>=3.4"],
        ),
        # a marker that does not hold here is dropped; extras are not carried
        ("pytest-8.3.3-pyh_0.conda", ["python", "packaging"]),
        (
            "pandas-2.2.3-pyh_0.conda",
            ["python", "numpy >=1.26.0", "python-dateutil >=2.8.2", "pytz >=2020.1", "tzdata >=2022.7"],
        ),
        ("future-only-1.0.0-pyh_0.conda", ["python >=3.99"]),
    ],
)
def test_channel_translates_requires_dist(channel: Path, filename: str, depends: list[str]) -> None:
    packages = repodata(channel, "noarch")
    assert packages[filename]["depends"] == depends
    assert packages[filename]["noarch"] == "python"


# ---------------------------------------------------------------------------------------
# create with py-rattler


def test_create_builds_the_prefix_for_real(built) -> None:  # type: ignore[no-untyped-def]
    project, created, messages = built
    prefix = project / ".conda-env"
    assert created.path == prefix.resolve()
    assert created.python == prefix.resolve() / "bin" / "python"
    # every conda package linked into the prefix's site-packages, the pip: part installed there by pip
    assert _installed(created.python) == INSTALLED
    site = prefix / "lib" / f"python{PY_MINOR}" / "site-packages"
    assert sorted(p.name for p in site.iterdir() if p.suffix != ".dist-info" and p.name != "__pycache__") == [
        "README.txt",
        "joblib",
        "numpy",
        "pandas",
        "pip",
        "python_dateutil",
        "pytz",
        "scikit_learn",
        "scipy",
        "six",
        "threadpoolctl",
        "tzdata",
    ]
    assert sorted(p.name for p in (prefix / "conda-meta").glob("*.json")) == sorted(
        [f"python-{PY_VERSION}-0_envkit_test.json", f"pip-{PIP_VERSION}-pyh_0.json"]
        + [f"{n}-{v}-pyh_0.json" for n, (v, i) in INSTALLED.items() if i == "conda" and n != "pip"]
    )
    assert messages == [
        f"solving environment.yml and installing into {created.path} with py-rattler",
        "installed 7 conda packages",
        "installing the pip: part with the environment's own pip",
    ]
    assert not [p.name for p in project.iterdir() if p.name.startswith(".envkit-")]


def test_create_says_how_to_activate(built) -> None:  # type: ignore[no-untyped-def]
    _, created, _ = built
    script = created.path / "etc" / "envkit" / "activate.sh"
    assert created.activate == f"source {script}"
    assert created.notes == (
        f"built with py-rattler: `conda activate {created.path}` (or `micromamba activate {created.path}`) "
        "works too once conda is installed",
    )
    out = subprocess.run(
        ["sh", "-c", f'. "{script}" && command -v python && echo "$CONDA_PREFIX"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines() == [str(created.python), str(created.path)]


def test_inspect_reads_conda_meta(built) -> None:  # type: ignore[no-untyped-def]
    _, created, _ = built
    snap = CondaManager(engine="rattler").inspect(created)
    conda = {(c.name, c.version, c.build) for c in snap.conda}
    assert conda == {("python", PY_VERSION, "0_envkit_test"), ("pip", PIP_VERSION, "pyh_0")} | {
        (n, v, "pyh_0") for n, (v, i) in INSTALLED.items() if i == "conda" and n != "pip"
    }
    assert {p.name: (p.version, p.installer) for p in snap.packages} == INSTALLED


def test_create_keeps_the_variables_for_activation(channel: Path, tmp_path: Path) -> None:
    text = f"channels: [{channel.as_uri()}]\ndependencies: [python, six]\nvariables:\n  MY_VAR: a b\n  LEVEL: 3\n"
    created = CondaManager(engine="rattler").create(_project(tmp_path, text))
    state = json.loads((created.path / "conda-meta" / "state").read_text(encoding="utf-8"))
    assert state == {"env_vars": {"MY_VAR": "a b", "LEVEL": "3"}}
    out = subprocess.run(
        [
            "bash",
            "-c",
            f'{created.activate} && echo "$MY_VAR|$LEVEL" && python -c "import six; print(six.__version__)"',
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines() == ["a b|3", "1.16.0"]


# ---------------------------------------------------------------------------------------
# resolve with py-rattler


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_resolve_pins_conda_and_pip_parts(built, installer: str) -> None:  # type: ignore[no-untyped-def]
    project, _, _ = built
    messages: list[str] = []
    resolution = CondaManager(messages.append, engine="rattler", installer=installer).resolve(project)
    assert resolution.versions() == SKLEARN_PANDAS
    assert messages == [
        f"solving environment.yml with py-rattler for {conda_subdir()}",
        f"resolving the pip: part with {installer}",
    ]
    numpy = resolution.pins["numpy"]
    assert numpy.url is not None and numpy.url.endswith("/noarch/numpy-2.1.0-pyh_0.conda")
    assert numpy.hashes[0].startswith("sha256:")


@pytest.mark.parametrize(
    ("dependencies", "pip", "python", "expected"),
    [
        # an upper bound on the conda side, honoured by the pip part through constraints
        (
            ["python", "numpy<2", "pip"],
            ["pandas==2.2.3"],
            None,
            {
                "numpy": "1.26.4",
                **{k: SKLEARN_PANDAS[k] for k in ("pandas", "python-dateutil", "pytz", "six", "tzdata")},
            },
        ),
        # what `conda env export` writes: name=version=build
        (["python", "numpy=1.26.4=pyh_0", "joblib=1.4.2=pyh_0"], [], None, {"numpy": "1.26.4", "joblib": "1.4.2"}),
        # conda's fuzzy "=1.4" is 1.4.*; a channel given in the spec
        (
            ["python", "{channel}::scikit-learn=1.4"],
            [],
            None,
            {k: SKLEARN_PANDAS[k] for k in ("joblib", "numpy", "scipy", "threadpoolctl")} | {"scikit-learn": "1.4.2"},
        ),
        # python itself and pip are not pinned; the python argument is added to the specs
        (["python", "pip", "six"], [], PY_MINOR, {"six": "1.16.0"}),
        # no pip: part and no python
        ([], [], None, {}),
    ],
)
def test_resolve_table(
    channel: Path,
    package_index,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    dependencies: list[str],
    pip: list[str],
    python: str | None,
    expected: dict[str, str],
) -> None:
    lines = [f"  - {d.format(channel=channel.as_uri())}" for d in dependencies]
    if pip:
        lines += ["  - pip:", f"    - --index-url {package_index.simple_url}", *(f"    - {p}" for p in pip)]
    text = f"channels: [{channel.as_uri()}]\ndependencies:\n" + "\n".join(lines) + "\n"
    project = _project(tmp_path, text if dependencies else f"channels: [{channel.as_uri()}]\n")
    assert CondaManager(engine="rattler").resolve(project, python=python, platform="linux").versions() == expected


@pytest.mark.parametrize(
    ("dependency", "message"),
    [
        ("sckit-learn", f"Package 'sckit-learn' not found in the channels ({conda_subdir()} and noarch)"),
        ("python=3.99", f"no version of 'python' matches 'python 3.99.*' (the channels have {PY_VERSION})"),
    ],
)
def test_solve_failure_says_so_plainly(channel: Path, tmp_path: Path, dependency: str, message: str) -> None:
    project = _project(tmp_path, f"channels: [{channel.as_uri()}]\ndependencies: [{dependency}]\n")
    for action in (CondaManager(engine="rattler").resolve, CondaManager(engine="rattler").create):
        with pytest.raises(ManagerError) as info:
            action(project)
        assert str(info.value) == (
            f"conda could not solve the environment (py-rattler; channels: {channel.as_uri()}):\n{message}"
        )
    assert not (project / ".conda-env").exists()


def test_resolve_for_another_platform_uses_its_subdir(channel: Path, tmp_path: Path) -> None:
    # the stand-in python exists for this machine's subdir only
    other = "osx-arm64" if conda_subdir() != "osx-arm64" else "linux-64"
    project = _project(tmp_path, f"channels: [{channel.as_uri()}]\ndependencies: [six]\n")
    with pytest.raises(ManagerError) as info:
        CondaManager(engine="rattler").resolve(project, platform=other)
    assert str(info.value) == (
        f"conda could not solve the environment (py-rattler; channels: {channel.as_uri()}):\n"
        f"Package 'python' not found in the channels ({other} and noarch)\n"
        "Cannot solve the request because of: six * cannot be installed because there are no viable options:\n"
        "└─ six 1.16.0 would require\n"
        "   └─ python *, for which no candidates were found."
    )


def test_pip_line_that_would_replace_a_conda_package_is_a_conflict(
    channel: Path,
    package_index,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    text = (
        f"channels: [{channel.as_uri()}]\ndependencies:\n  - python\n  - numpy=2.1\n  - pip\n"
        f"  - pip:\n    - --index-url {package_index.simple_url}\n    - numpy<2\n"
    )
    with pytest.raises(ManagerError) as info:
        CondaManager(engine="rattler", installer="uv").resolve(_project(tmp_path, text))
    assert str(info.value) == (
        "resolving the pip: part of environment.yml with uv failed; the conda packages were held at the versions "
        "conda solved:\n"
        "error: No solution found when resolving dependencies\n"
        "  cause: Because you require numpy<2 and numpy==2.1.0, we can conclude that your requirements are "
        "unsatisfiable."
    )


# ---------------------------------------------------------------------------------------
# bootstrap, end to end


def test_bootstrap_conda_over_the_existing_prefix(built, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # the environment.yml of ``built`` again: rattler finds everything linked, pip everything installed
    project, created, _ = built
    monkeypatch.setenv("ENVKIT_CONDA_ENGINE", "rattler")
    messages: list[str] = []
    result = bootstrap(project / "environment.yml", "conda", progress=messages.append)
    assert (result.file_action, result.created) == ("used as it is", created)
    assert messages == [
        f"solving environment.yml and installing into {created.path} with py-rattler",
        "installed 7 conda packages",
        "installing the pip: part with the environment's own pip",
    ]
    assert _installed(result.created.python) == INSTALLED


def test_bootstrap_conda_suggests_the_name_meant(
    channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVKIT_CONDA_ENGINE", "rattler")
    project = _project(tmp_path, f"channels: [{channel.as_uri()}]\ndependencies:\n  - python\n  - sckit-learn\n")
    with pytest.raises(EnvkitError) as info:
        bootstrap(project / "environment.yml", "conda")
    assert str(info.value) == (
        "no project named 'sckit-learn' was found on the package index. "
        "Did you mean scikit-learn or sklearn or scikit-learn-extra?\n\n"
        "(the resolver said:)\n"
        f"conda could not solve the environment (py-rattler; channels: {channel.as_uri()}):\n"
        f"Package 'sckit-learn' not found in the channels ({conda_subdir()} and noarch)"
    )


def test_verify_install_conda_and_venv_equivalent(
    channel: Path,
    package_index,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVKIT_CONDA_ENGINE", "rattler")
    project = _project(tmp_path / "project", _env_text(channel, package_index.simple_url))
    result = verify(project / "environment.yml", depth="install", managers=["venv", "conda"], workdir=tmp_path / "w")
    assert (result.equivalent, result.failed, result.skipped) == (True, {}, {})
    assert result.install is not None
    assert result.install.to_dict()["installed"]["conda"] == {n: v for n, (v, _) in INSTALLED.items()}


# ---------------------------------------------------------------------------------------
# An external conda, mamba or micromamba


def test_external_engine_creates_and_resolves(
    channel: Path,
    package_index,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = next((tool for tool in ENGINES if tool_path(tool)), None)
    if engine is None:
        pytest.skip("no conda, mamba or micromamba on PATH; the py-rattler engine is tested above")
    monkeypatch.setenv("CONDA_PKGS_DIRS", str(tmp_path / "pkgs"))
    project = _project(tmp_path / "project", _env_text(channel, package_index.simple_url))
    assert CondaManager.unavailable() is None
    manager = CondaManager(engine=engine)
    created = manager.create(project)
    verb = "micromamba activate" if engine == "micromamba" else "conda activate"
    assert created.activate == f"{verb} {created.path}"
    assert _installed(created.python) == INSTALLED
    assert manager.resolve(project).versions() == SKLEARN_PANDAS


# ---------------------------------------------------------------------------------------
# The file, channels, platforms, availability


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: x\nchannels: [conda-forge, nodefaults]\ndependencies:\n  - python=3.11\n  - conda-forge::numpy >=1\n"
            "  - pip:\n    - --index-url https://example.org/simple\n    - pandas\n  - pip:\n    - six\n"
            "variables:\n  B: 1\n  A: 2\n",
            ("conda-forge", "nodefaults"),
        ),
    ],
)
def test_read_environment_yml(tmp_path: Path, text: str, expected: tuple[str, ...]) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(text, encoding="utf-8")
    assert read_environment_yml(path) == CondaFile(
        path,
        expected,
        ("python=3.11", "conda-forge::numpy >=1"),
        ("--index-url https://example.org/simple", "pandas", "six"),
        (("B", "1"), ("A", "2")),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "dependencies: [a, {conda: [b]}]\n",
            "{path}: expected a package spec or 'pip:' with a list in 'dependencies', got {{'conda': ['b']}}",
        ),
        ("dependencies: numpy\n", "{path}: 'dependencies' must be a list"),
        ("channels: conda-forge\n", "{path}: 'channels' must be a list of strings"),
        ("- numpy\n", "{path}: expected a mapping with 'channels' and 'dependencies'"),
        ("dependencies:\n  - pip: [a, [b]]\n", "{path}: 'pip' must be a list of strings"),
        ("variables: [A]\n", "{path}: 'variables' must be a mapping of names to values"),
        ("variables: {A-B: 1}\n", "{path}: variable name 'A-B' is not a valid environment variable name"),
        (
            "dependencies: [numpy\n",
            "{path}:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'\n    \n    ^",
        ),
    ],
)
def test_read_environment_yml_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EnvkitError) as info:
        read_environment_yml(path)
    assert str(info.value) == message.format(path=path)
    assert isinstance(info.value, ParseError) == ("YAML" in message)


@pytest.mark.parametrize(
    ("channel", "urls"),
    [
        ("conda-forge", ("https://conda.anaconda.org/conda-forge",)),
        ("conda-forge/label/dev", ("https://conda.anaconda.org/conda-forge/label/dev",)),
        ("defaults", ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")),
        ("nodefaults", ()),
        ("https://example.org/channel/", ("https://example.org/channel",)),
        ("file:///srv/channel", ("file:///srv/channel",)),
        ("/srv/channel", ("file:///srv/channel",)),
        ("./local", ("file:///project/local",)),
        ("../shared/ch", ("file:///shared/ch",)),
    ],
)
def test_channel_urls(channel: str, urls: tuple[str, ...]) -> None:
    assert channel_urls(channel, Path("/project")) == urls


@pytest.mark.parametrize(
    ("platform", "subdir"),
    [
        ("linux-aarch64", "linux-aarch64"),
        ("osx-arm64", "osx-arm64"),
        ("x86_64-unknown-linux-gnu", "linux-64"),
        ("aarch64-apple-darwin", "osx-arm64"),
        ("x86_64-pc-windows-msvc", "win-64"),
        ("macos_arm64", "osx-arm64"),
    ],
)
def test_conda_subdir(platform: str, subdir: str) -> None:
    assert conda_subdir(platform) == subdir


def test_conda_subdir_rejects_unknown_platforms() -> None:
    with pytest.raises(EnvkitError) as info:
        conda_subdir("plan9")
    assert str(info.value) == "unknown platform 'plan9' (a conda subdir such as linux-64, or linux, macos, windows)"


def test_pins_leave_out_python_pip_and_conda_only_packages() -> None:
    records = {
        "python": {"version": "3.11.7", "depends": ["pip"]},
        "pip": {"version": "24.0", "depends": ["python >=3.8"], "noarch": "python"},
        "openssl": {"version": "3.3.2", "depends": ["ca-certificates"]},
        "libzlib": {"version": "1.3.1", "depends": None},
        "tzdata": {"version": "2024a", "depends": None},
        "pytorch": {"version": "2.4.1", "depends": ["python >=3.11,<3.12.0a0", "python_abi 3.11.* *_cp311"]},
        "six": {"version": "1.16.0", "depends": ["python"], "noarch": "python"},
        "attrs": {"version": "24.2.0", "depends": None},
    }
    assert {name: pin.version for name, pin in python_pins(records).items()} == {
        "attrs": "24.2.0",
        "six": "1.16.0",
        "torch": "2.4.1",
    }


def test_parse_dry_run_takes_dependencies_from_fetch_actions() -> None:
    text = json.dumps(
        {
            "actions": {
                "FETCH": [{"name": "six", "depends": ["python"], "url": "https://x/six.conda", "sha256": "ab"}],
                "LINK": [
                    {"name": "six", "version": "1.16.0", "build_string": "pyhd8ed1ab_0"},
                    {"name": "numpy", "version": "2.1.0", "build_string": "py311h"},
                ],
            }
        }
    )
    assert parse_dry_run(text) == {
        "six": {
            "name": "six",
            "version": "1.16.0",
            "build": "pyhd8ed1ab_0",
            "url": "https://x/six.conda",
            "sha256": "ab",
            "noarch": None,
            "depends": ["python"],
        },
        "numpy": {
            "name": "numpy",
            "version": "2.1.0",
            "build": "py311h",
            "url": None,
            "sha256": None,
            "noarch": None,
            "depends": None,
        },
    }


def test_available_through_py_rattler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert get("conda") is CondaManager
    assert CondaManager.unavailable() is None
    assert CondaManager().engine == "rattler"
    monkeypatch.setenv("ENVKIT_CONDA_ENGINE", "micromamba")
    assert CondaManager.unavailable() == "ENVKIT_CONDA_ENGINE=micromamba but micromamba is not on PATH"
    monkeypatch.setenv("ENVKIT_CONDA_ENGINE", "pixi")
    with pytest.raises(EnvkitError) as info:
        CondaManager()
    assert str(info.value) == "unknown conda engine 'pixi' (choose from conda, mamba, micromamba, rattler)"


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (
            "0.25.0",
            "neither conda, mamba nor micromamba is on PATH and py-rattler 0.25.0 is too old: envkit needs 0.28 or"
            " newer (on Python 3.10 or newer) (or install micromamba or Miniforge)",
        ),
        ("0.28.0", None),
        ("1.0.2", None),
    ],
)
def test_an_old_py_rattler_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, found: str, expected: str) -> None:
    # the newest py-rattler for Python 3.9 is 0.25, without the API the engine uses
    import importlib.metadata

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("ENVKIT_CONDA_ENGINE", raising=False)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: found if name == "py-rattler" else "0")
    assert CondaManager.unavailable() == expected


def test_python_argument_must_be_a_version(channel: Path, tmp_path: Path) -> None:
    project = _project(tmp_path, f"channels: [{channel.as_uri()}]\ndependencies: [six]\n")
    with pytest.raises(EnvkitError) as info:
        CondaManager(engine="rattler").resolve(project, python="/usr/bin/python3")
    assert str(info.value) == "conda takes a Python version such as 3.11 for --python, not '/usr/bin/python3'"


_CONDA_NOT_FOUND = json.dumps(
    {
        "error": "PackagesNotFoundError: The following packages are not available from current channels:\n\n"
        "  - sckit-learn\n\nCurrent channels:\n\n  - https://conda.anaconda.org/t/tk-123/private/linux-64\n",
        "exception_name": "PackagesNotFoundError",
        "packages": ["sckit-learn"],
    }
)
_LIBMAMBA_NOT_FOUND = (
    "error    libmamba Could not solve for environment specs\n"
    "    The following package could not be installed\n"
    "    └─ sckit-learn =* * does not exist (perhaps a typo or a missing channel).\n"
    "critical libmamba Could not solve for environment specs\n"
)


@pytest.mark.parametrize(
    ("engine", "stdout", "stderr", "expected"),
    [
        (
            "conda",
            _CONDA_NOT_FOUND,
            "",
            "conda could not solve the environment:\n"
            "Package 'sckit-learn' not found in the channels\n"
            "(conda said:)\n"
            "PackagesNotFoundError: The following packages are not available from current channels:\n\n"
            "  - sckit-learn\n\nCurrent channels:\n\n  - https://conda.anaconda.org/t/***/private/linux-64",
        ),
        (
            "micromamba",
            "",
            _LIBMAMBA_NOT_FOUND,
            "micromamba could not solve the environment:\n"
            "Package 'sckit-learn' not found in the channels\n"
            "(micromamba said:)\n" + _LIBMAMBA_NOT_FOUND.rstrip(),
        ),
        (
            "mamba",
            "",
            "error: nothing to see\n",
            "mamba could not solve the environment:\n(mamba said:)\nerror: nothing to see",
        ),
    ],
)
def test_explain_engine_failure(engine: str, stdout: str, stderr: str, expected: str) -> None:
    assert explain_engine_failure(engine, stdout, stderr) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from https://user:secret@example.org/ch, ok", "from https://user:***@example.org/ch, ok"),
        (
            "https://conda.anaconda.org/t/abc-123/corp/noarch/x.conda",
            "https://conda.anaconda.org/t/***/corp/noarch/x.conda",
        ),
        ("file:///srv/channel", "file:///srv/channel"),
    ],
)
def test_redacted(text: str, expected: str) -> None:
    assert redacted(text) == expected
