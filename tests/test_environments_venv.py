"""Real environments with venv (uv and pip installers) and `envkit lock`, against the
local package index served on 127.0.0.1 (tests/pkgindex.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import envkit
from envkit.environments import bootstrap, lock, verify
from envkit.errors import EnvkitError
from envkit.managers import get
from envkit.managers.base import tool_path
from envkit.managers.venv import parse_pylock_pins, resolve_command

SKLEARN_PANDAS = {
    "joblib": "1.4.2",
    "numpy": "2.1.0",
    "pandas": "2.2.3",
    "python-dateutil": "2.9.0",
    "pytz": "2024.2",
    "scikit-learn": "1.5.2",
    "scipy": "1.14.1",
    "six": "1.16.0",
    "threadpoolctl": "3.5.0",
    "tzdata": "2024.2",
}


def _project(tmp_path: Path, index: str, body: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text(f"--index-url {index}\n{body}", encoding="utf-8")
    return project


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_venv_resolve_pins_the_graph(tmp_path: Path, package_index, installer: str) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, "scikit-learn\npandas\n")
    resolution = get("venv")(installer=installer).resolve(project, python="3.11", platform="linux")
    assert resolution.versions() == SKLEARN_PANDAS


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a marker that does not hold drops the requirement
        ("numpy<2 ; python_version < '3'\nsix\n", {"six": "1.16.0"}),
        # an upper bound picks the older release
        ("numpy<2\n", {"numpy": "1.26.4"}),
        # extras pull in their dependencies
        (
            "pandas[performance]==2.2.3\n",
            {
                **{k: SKLEARN_PANDAS[k] for k in ("numpy", "pandas", "python-dateutil", "pytz", "six", "tzdata")},
                "numexpr": "2.10.1",
            },
        ),
        # a pre-release only with --pre
        ("--pre\nnightly-tool\n", {"nightly-tool": "2.0.0rc1"}),
    ],
)
def test_venv_resolve_honours_markers_bounds_extras_and_pre(
    tmp_path: Path, package_index, body: str, expected: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, body)
    assert get("venv")(installer="uv").resolve(project, python="3.11", platform="linux").versions() == expected


def test_bootstrap_venv_installs_and_says_how_to_activate(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, "scikit-learn==1.4.2\n")
    messages: list[str] = []
    result = bootstrap(project / "requirements.txt", "venv", progress=messages.append)
    assert result.file_action == "used as it is"
    assert result.created.activate == f"source {project / '.venv' / 'bin' / 'activate'}"
    out = subprocess.run(
        [
            str(result.created.python),
            "-c",
            "import scikit_learn, numpy; print(scikit_learn.__version__, numpy.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["1.4.2", "2.1.0"]
    assert messages[0] == f"creating {project / '.venv'} with virtualenv"


def test_bootstrap_into_a_new_folder_writes_the_file_first(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, "six\n")
    target = tmp_path / "elsewhere"
    result = bootstrap(project / "requirements.txt", "venv", path=target, installer="pip")
    assert result.file_action == "created"
    assert (target / "requirements.txt").read_text(encoding="utf-8") == f"--index-url {package_index.simple_url}\nsix\n"
    assert (target / ".venv" / "lib").is_dir()


def test_misspelled_names_get_the_closest_real_names(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, "mlflow\nsckit-learn\n")
    with pytest.raises(EnvkitError) as info:
        lock(project / "requirements.txt")
    first = str(info.value).splitlines()[0]
    assert first.startswith("no project named 'sckit-learn' was found on the package index. Did you mean scikit-learn")


def test_misspelled_names_with_pip(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, "panadas\n")
    with pytest.raises(EnvkitError) as info:
        lock(project / "requirements.txt", installer="pip")
    assert (
        str(info.value)
        .splitlines()[0]
        .startswith("no project named 'panadas' was found on the package index. Did you mean pandas")
    )


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_lock_writes_pylock_with_hashes(tmp_path: Path, package_index, installer: str) -> None:  # type: ignore[no-untyped-def]
    from packaging.pylock import Pylock

    from envkit.formats._toml import loads_toml

    project = _project(tmp_path, package_index.simple_url, "scikit-learn\npandas\n")
    result = lock(project / "requirements.txt", python="3.11", platform="linux", installer=installer)
    assert result.tool == installer
    pins = parse_pylock_pins(result.text)
    assert {n: p.version for n, p in pins.items()} == SKLEARN_PANDAS
    assert all(p.hashes and p.hashes[0].startswith("sha256:") for p in pins.values())
    Pylock.from_dict(loads_toml(result.text, "pylock.toml"))  # valid PEP 751


def test_lock_removes_credentials_from_urls(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    secret_index = package_index.simple_url.replace("http://", "http://alice:s3cr3t@")
    project = _project(tmp_path, secret_index, "six\n")
    for installer in ("uv", "pip"):
        result = lock(project / "requirements.txt", installer=installer)
        assert "s3cr3t" not in result.text
        assert "alice" not in result.text
        assert 'name = "six"' in result.text


def test_verify_resolve_uv_and_pip_agree(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    """The venv resolution is the same whichever installer resolves it."""
    project = _project(tmp_path, package_index.simple_url, "scikit-learn\npandas\n")
    via_uv = get("venv")(installer="uv").resolve(project, python="3.11", platform="linux")
    via_pip = get("venv")(installer="pip").resolve(project, python="3.11", platform="linux")
    assert via_uv.versions() == via_pip.versions()


def test_lock_cli_end_to_end(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, "six\n")
    out = project / "pylock.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "envkit", "lock", str(project / "requirements.txt"), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{out}: created, 1 packages locked with uv\n"
    assert 'name = "six"' in out.read_text(encoding="utf-8")
    again = subprocess.run(
        [sys.executable, "-m", "envkit", "lock", str(project / "requirements.txt"), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0
    assert again.stdout == f"{out}: unchanged, 1 packages locked with uv\n"


def test_verify_with_an_unavailable_named_manager_is_bad_usage(
    tmp_path: Path, package_index, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from envkit.managers.pipenv import PipenvManager

    monkeypatch.setattr(
        PipenvManager, "unavailable", classmethod(lambda cls: "pipenv is not on PATH: `pip install pipenv`")
    )
    project = _project(tmp_path, package_index.simple_url, "six\n")
    with pytest.raises(EnvkitError) as info:
        verify(project / "requirements.txt", depth="resolve", managers=["pipenv"])
    assert str(info.value) == "pipenv is not available here: pipenv is not on PATH: `pip install pipenv`"


def test_model_of_the_bootstrapped_file_is_the_source(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, package_index.simple_url, "six ; python_version >= '3'\n")
    result = bootstrap(project / "requirements.txt", "venv", path=tmp_path / "copy")
    assert envkit.load(result.file) == envkit.load(project / "requirements.txt")


def test_lock_reads_a_python_line_as_the_target_python(tmp_path: Path, package_index) -> None:  # type: ignore[no-untyped-def]
    """pip cannot install `python==3.9`; envkit resolves for Python 3.9 instead."""
    project = _project(tmp_path, package_index.simple_url, "python==3.9\nsix\n")
    result = lock(project / "requirements.txt")
    assert 'name = "six"' in result.text
    assert 'name = "python"' not in result.text
    assert 'requires-python = ">=3.9"' in result.text


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("afile", "{d}/afile exists and is not a folder"),
        ("afile/sub", "{d}/afile/sub: cannot make the folder: Not a directory"),
    ],
)
def test_bootstrap_into_a_file_is_a_clear_error(tmp_path: Path, where: str, message: str) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "requirements.txt").write_text("six\n")
    with pytest.raises(EnvkitError) as info:
        bootstrap(tmp_path / "requirements.txt", "venv", path=tmp_path / where)
    assert str(info.value) == message.format(d=tmp_path)
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.parametrize(
    ("python", "platform", "target"),
    [
        (None, None, ["--python", sys.executable]),
        ("3.10", None, ["--python-version", "3.10"]),
        ("3.12", "linux", ["--python-version", "3.12", "--python-platform", "linux"]),
    ],
)
def test_uv_resolves_for_envkits_interpreter_unless_told(
    python: str | None, platform: str | None, target: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # no active virtual environment: uv is told this interpreter, not left to discover one
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    uv = tool_path("uv") or "uv"
    assert resolve_command("uv", Path("r.txt"), python, platform) == [
        uv,
        *("pip", "compile", "r.txt", "--format", "pylock.toml", "--quiet", "--no-header"),
        *target,
    ]


def test_bootstrap_with_a_relative_path(tmp_path: Path, package_index, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # the tools run inside the project: a relative --path must not be read twice relative
    project = _project(tmp_path, package_index.simple_url, "six==1.16.0\n")
    monkeypatch.chdir(project)
    made = bootstrap("requirements.txt", "venv", path="envs")
    assert made.project == project / "envs"
    assert made.created.python == project / "envs" / ".venv" / "bin" / "python"
    assert subprocess.run([str(made.created.python), "-c", "import six"], check=False).returncode == 0


def test_lock_writes_local_paths_relative_to_the_lock_file(
    tmp_path: Path,
    package_index,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from .test_snapshot import make_project

    project = _project(tmp_path, package_index.simple_url, "./localpkg\n")
    make_project(project / "localpkg", "localpkg", "0.1")
    (project / "out").mkdir()
    monkeypatch.chdir(project / "out")
    result = lock("../requirements.txt", output="pylock.toml", installer="uv")
    assert 'name = "localpkg"\ndirectory = { path = "../localpkg" }' in result.text
    beside = lock(project / "requirements.txt", output=project / "pylock.toml", installer="uv")
    assert 'directory = { path = "localpkg" }' in beside.text


def test_verify_resolves_local_paths_and_includes_from_the_work_folders(
    tmp_path: Path,
    package_index,  # type: ignore[no-untyped-def]
) -> None:
    # each manager resolves in a folder of its own: the source's relative path and the
    # --against file's include must still name the project's files
    from .test_snapshot import make_project

    project = _project(tmp_path, package_index.simple_url, "./localpkg\nsix==1.16.0\n")
    make_project(project / "localpkg", "localpkg", "0.1")
    (project / "base.txt").write_text(f"--index-url {package_index.simple_url}\nsix==1.16.0\n")
    (project / "all.txt").write_text("-r base.txt\n./localpkg\n")
    result = verify(
        project / "requirements.txt",
        against=[project / "all.txt"],
        depth="resolve",
        managers=["venv", "uv"],
        workdir=tmp_path / "work",
    )
    assert result.resolve is not None
    assert result.resolve.pins == {
        "venv": {"localpkg": "", "six": "1.16.0"},  # uv's pylock leaves out a directory's version
        "uv": {"localpkg": "0.1", "six": "1.16.0"},
    }
    assert result.equivalent
    assert (tmp_path / "work" / "venv" / "requirements.txt").read_text().splitlines()[-2:] == [
        "six==1.16.0",
        "../../project/localpkg",
    ]


def test_bootstrap_cli_shows_paths_as_typed(tmp_path: Path, package_index, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from envkit.cli import cli

    project = _project(tmp_path, package_index.simple_url, "six==1.16.0\n")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["bootstrap", "requirements.txt", "--manager", "venv", "--path", "envs"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "venv environment ready: envs/.venv\n"
        "  file:     envs/requirements.txt (created)\n"
        "  python:   envs/.venv/bin/python\n"
        "  activate: source envs/.venv/bin/activate\n"
    )
    assert result.stderr.splitlines()[0].endswith("] envs/requirements.txt: created from requirements.txt")


def test_uv_resolves_for_the_active_virtual_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from envkit.managers.venv import active_python

    venv = tmp_path / "project-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    assert active_python() == str(venv / "bin" / "python")
    assert resolve_command("uv", Path("r.txt"), None, None)[-2:] == ["--python", str(venv / "bin" / "python")]
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "gone"))
    assert active_python() == sys.executable
