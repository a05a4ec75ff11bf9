"""``envkit runs restore``: a run's environment rebuilt elsewhere with a real manager, then checked.

Round trips against a local package index (tests/pkgindex.py's graph plus the setuptools
and pip wheels virtualenv seeds, which a venv records and uv or poetry must then install
from the index, as they would from PyPI), served on 127.0.0.1, and a local conda channel
(tests/condachannel.py, py-rattler): environments made from pins on the index (by venv,
by uv) and a conda prefix are snapshotted and logged to runs on an embedded store; each
restore rebuilds one in another folder with venv, uv, pipenv, poetry or conda
(``--index-url`` names the index and ``--channel`` the channel: a restore never follows a
URL from a run on its own) and the fingerprints match, less what the manager puts into
every environment it makes and the run did not have ("not compared"). An environment that
also holds a package installed from a local wheel file, which no other machine has, drifts
on restore and says so.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("mlflow")

from mlflow import MlflowClient

from envkit import cli as cli_module
from envkit import load
from envkit.environments import bootstrap
from envkit.managers.base import tool_path
from envkit.managers.conda import CondaManager
from envkit.snapshot import Snapshot, fingerprint, render, snapshot
from envkit.tracking.mlflow import log_environment, log_snapshot

from .condachannel import PY_MINOR, build_channel
from .mlflow_server import new_store
from .pkgindex import IndexServer, build_index
from .test_snapshot import make_wheel, uv_install


def _seeded_index(root: Path) -> Path:
    """tests/pkgindex.py's index in ``root`` plus virtualenv's embedded setuptools and pip wheels."""
    import virtualenv

    build_index(root)
    embed = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    for project in ("setuptools", "pip"):
        anchors = []
        for wheel in sorted(embed.glob(f"{project}-*-py3-none-any.whl")):
            shutil.copyfile(wheel, root / "wheels" / wheel.name)
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            anchors.append(f'<a href="../../wheels/{wheel.name}#sha256={digest}">{wheel.name}</a><br/>')
        (root / "simple" / project).mkdir()
        (root / "simple" / project / "index.html").write_text(
            "<!DOCTYPE html>\n<html><body>\n" + "\n".join(anchors) + "\n</body></html>\n", encoding="utf-8"
        )
    return root


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    with IndexServer(_seeded_index(tmp_path_factory.mktemp("index"))) as server:
        yield server


@dataclass(frozen=True)
class Recorded:
    uri: str
    clean: str  # run id: a venv of index packages only
    clean_snap: Snapshot
    local: str  # run id: the same plus a package from a local wheel file
    local_snap: Snapshot
    uv: str  # run id: the same pins in an environment uv made (no pip, no setuptools)
    uv_snap: Snapshot


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, index: IndexServer) -> Iterator[Recorded]:
    root = tmp_path_factory.mktemp("restore")
    uri = new_store(root / "store")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("ENVKIT_MLFLOW_DISABLE", "1")
        client = MlflowClient()
        runs = []
        for name, manager in (("clean", "venv"), ("local", "venv"), ("uv", "uv")):
            project = root / name
            project.mkdir()
            (project / "requirements.txt").write_text(
                f"--index-url {index.simple_url}\npython-dateutil==2.9.0\n", encoding="utf-8"
            )
            made = bootstrap(project / "requirements.txt", manager)
            if name == "local":
                uv_install(made.created.python, make_wheel(root / "wheels", "localpkg", "0.1"))
            run_id = client.create_run("0").info.run_id
            runs.append((run_id, log_environment(run_id, python=str(made.created.python), project=project)))
        yield Recorded(uri, *runs[0], *runs[1], *runs[2])


@dataclass(frozen=True)
class CondaRun:
    channel: Path
    run: str
    snap: Snapshot


@pytest.fixture(scope="module")
def conda_run(recorded: Recorded, index: IndexServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CondaRun]:
    """A prefix py-rattler built from the local channel (python, numpy, pip) with a pip: part
    from the index (python-dateutil and six), logged to a run. The py-rattler engine and a
    temporary package cache stay set for the module's conda restores."""
    pytest.importorskip("rattler")
    pytest.importorskip("conda_package_handling")
    root = tmp_path_factory.mktemp("conda")
    channel = build_channel(root / "channel")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RATTLER_CACHE_DIR", str(root / "rattler-cache"))
        mp.setenv("ENVKIT_CONDA_ENGINE", "rattler")
        project = root / "project"
        project.mkdir()
        (project / "environment.yml").write_text(
            f"channels: [{channel.as_uri()}, nodefaults]\n"
            f"dependencies:\n  - python={PY_MINOR}\n  - numpy<2\n  - pip\n"
            f"  - pip:\n    - --index-url {index.simple_url}\n    - python-dateutil==2.9.0\n",
            encoding="utf-8",
        )
        created = CondaManager(engine="rattler").create(project)
        run_id = MlflowClient().create_run("0").info.run_id
        yield CondaRun(channel, run_id, log_environment(run_id, python=str(created.python), project=project))


@pytest.fixture
def cli(recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setitem(cli_module.COMMANDS, "runs", ("envkit.cli.runs", "runs_cmd", ""))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", recorded.uri)
    monkeypatch.setenv("ENVKIT_MLFLOW_DISABLE", "1")
    return CliRunner()


def _uv_version() -> str:
    uv = tool_path("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    return subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]


def _side(label: str, snap: Snapshot, fingerprint: str | None = None) -> dict[str, Any]:
    return {
        "label": label,
        "kind": "snapshot",
        "fingerprint": fingerprint or snap.fingerprint,
        "python": {
            "implementation": snap.python.implementation,
            "version": snap.python.version,
            "abi": snap.python.abi,
        },
        "platform": {"system": snap.platform.system, "machine": snap.platform.machine},
        "packages": len([p for p in snap.packages if p.name != "pip"]),
        "unpinned": [],
    }


def _no_drift(run: str, snap: Snapshot, manager: str, target: Path, env: str, restored_manager: str) -> dict[str, Any]:
    """The whole ``--json`` report of a restore that gave back the recorded fingerprint."""
    return {
        "schema": "envkit.restore/1",
        "run_id": run,
        "manager": manager,
        "project": str(target),
        "environment": str(target / env),
        "python": str(target / env / "bin" / "python"),
        "recorded_manager": snap.manager.describe(),
        "restored_manager": restored_manager,
        "recorded_fingerprint": snap.fingerprint,
        "restored_fingerprint": snap.fingerprint,
        "same_fingerprint": True,
        "not_compared": [],
        "compared_fingerprint": snap.fingerprint,
        "drift": False,
        "not_restorable": [],
        "warnings": [],
        "diff": {
            "schema": "envkit.diff/1",
            "same": True,
            "a": _side(f"runs:/{run}", snap),
            "b": _side(str(target / env), snap),
            "python": None,
            "platform": None,
            "packages": [],
            "conda": [],
        },
    }


def _progress(stderr: str) -> list[str]:
    """The progress messages on stderr, without their ``[  1.2s]`` stamps."""
    return [line.split("] ", 1)[1] for line in stderr.splitlines() if line.startswith("[")]


def _source_of(stderr: str) -> str:
    """The temporary requirements file a restore converted (named in its progress line)."""
    line = next(m for m in _progress(stderr) if ": created from " in m)
    return line.split(": created from ", 1)[1]


def _pins(snap: Snapshot) -> list[str]:
    return [f"{p.name}=={p.version}" for p in snap.packages if p.name != "pip"]


# -- venv ---------------------------------------------------------------------------------------


def test_restore_round_trip_gives_the_same_fingerprint(
    recorded: Recorded, cli: CliRunner, tmp_path: Path, index: IndexServer
) -> None:
    target = tmp_path / "replay"
    args = ["runs", "restore", recorded.clean, "--manager", "venv", "--path", str(target), "--json"]
    result = cli.invoke(cli_module.cli, [*args, "--index-url", index.simple_url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["recorded_fingerprint"] == report["restored_fingerprint"] == recorded.clean_snap.fingerprint
    assert (report["drift"], report["same_fingerprint"], report["diff"]["same"]) == (False, True, True)
    assert report["environment"] == str(target / ".venv")
    assert report["warnings"] == report["not_restorable"] == []
    assert [p.name for p in recorded.clean_snap.packages] == ["pip", "python-dateutil", "setuptools", "six"]
    # the manager's file is the snapshot's pins, behind the index we named
    written = (target / "requirements.txt").read_text(encoding="utf-8")
    assert written.splitlines()[0] == f"--index-url {index.simple_url}"
    assert [line for line in written.splitlines()[1:] if not line.startswith("#")] == [
        line for line in render(recorded.clean_snap)["requirements.txt"].splitlines() if not line.startswith("#")
    ]

    again = cli.invoke(cli_module.cli, args)
    assert again.exit_code == 2
    assert again.stderr == (
        f"envkit: error: {target / 'requirements.txt'} exists: restoring would replace it with the run's pins;"
        " choose another --path or pass --force\n"
    )


def test_a_restore_that_drifts_says_what_and_exits_1(
    recorded: Recorded, cli: CliRunner, tmp_path: Path, index: IndexServer
) -> None:
    # the run's requirements.txt is tampered with; the restore takes the snapshot's pins instead
    info = MlflowClient().get_run(recorded.local).info
    artifact = Path(info.artifact_uri.removeprefix("file://")) / "environment" / "requirements.txt"
    artifact.write_text("evil==6.6.6\n", encoding="utf-8")
    target = tmp_path / "replay"
    args = ["runs", "restore", f"runs:/{recorded.local}", "-m", "venv", "--path", str(target)]
    result = cli.invoke(cli_module.cli, [*args, "--index-url", index.simple_url])
    assert result.exit_code == 1, result.output
    local = recorded.local_snap.package("localpkg")
    assert local is not None and local.provenance.url is not None
    assert result.stderr.splitlines()[-2:] == [
        "warning: the run's requirements.txt does not match its snapshot.json; the pins were taken from snapshot.json",
        f"warning: cannot be reinstalled from a run: localpkg==0.1 (local file {local.provenance.url})",
    ]
    out = result.stdout.splitlines()
    assert out[0] == f"venv environment restored from runs:/{recorded.local}: {target / '.venv'}"
    assert out[2] == f"  recorded:  {recorded.local_snap.fingerprint}"
    assert out[3].endswith(" (differs)")
    assert out[-1] == "0 added, 1 removed, 0 changed."
    assert any(line.split()[:2] == ["removed", "localpkg"] for line in out)
    assert "evil" not in (target / "requirements.txt").read_text(encoding="utf-8")


def test_a_uv_made_run_restored_with_venv_leaves_the_seeded_setuptools_out(
    recorded: Recorded, cli: CliRunner, tmp_path: Path, index: IndexServer
) -> None:
    # virtualenv seeds setuptools (not requested) into every venv; uv's environment had none
    target = tmp_path / "replay"
    args = ["runs", "restore", recorded.uv, "-m", "venv", "--path", str(target), "--index-url", index.simple_url]
    result = cli.invoke(cli_module.cli, args)
    assert result.exit_code == 0, result.output
    restored = snapshot(str(target / ".venv" / "bin" / "python"))
    seeded = restored.package("setuptools")
    assert seeded is not None and not seeded.requested
    assert [p.name for p in recorded.uv_snap.packages] == ["python-dateutil", "six"]
    assert result.stdout == (
        f"venv environment restored from runs:/{recorded.uv}: {target / '.venv'}\n"
        f"  python:    {target / '.venv' / 'bin' / 'python'}\n"
        f"  recorded:  {recorded.uv_snap.fingerprint}\n"
        f"  restored:  {restored.fingerprint} (differs)\n"
        f"  made by:   uv {_uv_version()} (recorded), {restored.manager.describe()} (restored)\n"
        f"  not compared: setuptools {seeded.version}: put into every new environment by venv's environment"
        " creator (not requested); the run's uv environment had none\n"
        f"  compared:  {recorded.uv_snap.fingerprint} (same)\n"
        "\n"
        "No drift: the restored environment is the recorded one, less what is not compared.\n"
    )
    assert restored.manager.name == "virtualenv"


# -- uv, pipenv, poetry --------------------------------------------------------------------------


def test_restore_with_uv_prints_the_whole_report(
    recorded: Recorded, cli: CliRunner, tmp_path: Path, index: IndexServer
) -> None:
    target = tmp_path / "replay"
    args = ["runs", "restore", recorded.clean, "-m", "uv", "--path", str(target), "--index-url", index.simple_url]
    result = cli.invoke(cli_module.cli, args)
    assert result.exit_code == 0, result.output
    snap = recorded.clean_snap
    venv = target / ".venv"
    assert result.stdout == (
        f"uv environment restored from runs:/{recorded.clean}: {venv}\n"
        f"  python:    {venv / 'bin' / 'python'}\n"
        f"  recorded:  {snap.fingerprint}\n"
        f"  restored:  {snap.fingerprint} (same)\n"
        f"  made by:   {snap.manager.describe()} (recorded), uv {_uv_version()} (restored)\n"
        "\n"
        "No drift: the restored environment is the recorded one.\n"
    )
    assert [line for line in result.stderr.splitlines() if not line.startswith("[")] == []  # no warnings
    assert _progress(result.stderr) == [
        f"runs:/{recorded.clean}/environment/snapshot.json: 4 packages, fingerprint {snap.fingerprint[:12]}",
        f"{target / 'pyproject.toml'}: created from {_source_of(result.stderr)}",
        "uv sync: creating .venv and installing",
        f"capturing the new environment ({venv / 'bin' / 'python'})",
    ]
    # the project: the snapshot's pins (setuptools, which virtualenv seeded, from the index),
    # the recorded Python's major.minor as its Python constraint, the index we named
    project = load(target / "pyproject.toml")
    assert (str(project.python), [f"{d.name}{d.specifier}" for d in project.dependencies]) == (
        f"=={PY_MINOR}.*",
        _pins(snap),
    )
    assert [s.url for s in project.sources] == [index.simple_url]
    assert (target / "uv.lock").is_file()


def test_restore_with_pipenv(recorded: Recorded, cli: CliRunner, tmp_path: Path, index: IndexServer) -> None:
    target = tmp_path / "replay"
    args = ["runs", "restore", recorded.clean, "-m", "pipenv", "--path", str(target), "--json"]
    result = cli.invoke(cli_module.cli, [*args, "--index-url", index.simple_url])
    assert result.exit_code == 0, result.output
    snap = recorded.clean_snap
    assert json.loads(result.stdout) == _no_drift(recorded.clean, snap, "pipenv", target, ".venv", "pipenv")
    project = load(target / "Pipfile")
    assert (str(project.python), [f"{d.name}{d.specifier}" for d in project.dependencies]) == (
        f"=={PY_MINOR}.*",
        _pins(snap),
    )
    # pipenv's virtualenv seeds pip (outside every fingerprint) and setuptools (the recorded version)
    restored = snapshot(str(target / ".venv" / "bin" / "python"))
    assert [(p.name, p.version) for p in restored.packages] == [(p.name, p.version) for p in snap.packages]


def test_restore_with_poetry_then_force_another_run_over_it(
    recorded: Recorded, cli: CliRunner, tmp_path: Path, index: IndexServer
) -> None:
    target = tmp_path / "replay"
    args = ["runs", "restore", "-m", "poetry", "--path", str(target), "--json", "--index-url", index.simple_url]
    first = cli.invoke(cli_module.cli, [*args, recorded.clean])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == _no_drift(
        recorded.clean, recorded.clean_snap, "poetry", target, ".venv", "poetry"
    )
    project = load(target / "pyproject.toml")
    assert (str(project.python), [f"{d.name}{d.specifier}" for d in project.dependencies]) == (
        f"=={PY_MINOR}.*",
        _pins(recorded.clean_snap),
    )

    # another run's pins into the same folder: without --force, the first thing found is named;
    # with it, poetry.lock (stale: poetry would refuse it) and .venv (which holds setuptools,
    # the uv run had none) are removed and rebuilt
    refused = cli.invoke(cli_module.cli, [*args, recorded.uv])
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"envkit: error: {target / 'pyproject.toml'} exists: restoring would replace it with the run's pins;"
        " choose another --path or pass --force\n"
    )
    second = cli.invoke(cli_module.cli, [*args, recorded.uv, "--force"])
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout) == _no_drift(recorded.uv, recorded.uv_snap, "poetry", target, ".venv", "poetry")
    assert [p.name for p in snapshot(str(target / ".venv" / "bin" / "python")).packages] == [
        "pip",
        "python-dateutil",
        "six",
    ]


# -- conda --------------------------------------------------------------------------------------


def test_conda_run_restored_with_conda(conda_run: CondaRun, cli: CliRunner, tmp_path: Path, index: IndexServer) -> None:
    target = tmp_path / "replay"
    args = ["runs", "restore", conda_run.run, "-m", "conda", "--path", str(target), "--json"]
    result = cli.invoke(
        cli_module.cli, [*args, "--channel", conda_run.channel.as_uri(), "--index-url", index.simple_url]
    )
    assert result.exit_code == 0, result.output
    snap = conda_run.snap
    prefix = target / ".conda-env"
    assert json.loads(result.stdout) == _no_drift(conda_run.run, snap, "conda", target, ".conda-env", "conda")
    conda = {c.name: c for c in snap.conda}
    assert sorted(conda) == ["numpy", "pip", "python"]
    assert [(p.name, p.installer) for p in snap.packages] == [
        ("numpy", "conda"),
        ("pip", "conda"),
        ("python-dateutil", "pip"),
        ("six", "pip"),
    ]
    # every conda package pinned exactly from the channel we named, the rest under pip:
    assert (target / "environment.yml").read_text(encoding="utf-8") == (
        f"# Restored by envkit from runs:/{conda_run.run} (environment {snap.fingerprint[:12]}): the run's conda\n"
        "# packages pinned exactly (python and pip too), the packages conda did not install under pip:.\n"
        "channels:\n"
        f"- {conda_run.channel.as_uri()}\n"
        "- nodefaults\n"
        "dependencies:\n"
        f"- python =={conda['python'].version} {conda['python'].build}\n"
        f"- numpy =={conda['numpy'].version} pyh_0\n"
        f"- pip =={conda['pip'].version} pyh_0\n"
        "- pip:\n"
        f"  - --index-url {index.simple_url}\n"
        "  - python-dateutil==2.9.0\n"
        "  - six==1.16.0\n"
    )
    assert result.stderr == ""  # --json: no progress lines, no warnings
    assert prefix.is_dir()


def test_venv_run_restored_with_conda_leaves_the_conda_packages_out(
    recorded: Recorded, conda_run: CondaRun, cli: CliRunner, tmp_path: Path, index: IndexServer
) -> None:
    target = tmp_path / "replay"
    args = ["runs", "restore", recorded.clean, "-m", "conda", "--path", str(target)]
    result = cli.invoke(
        cli_module.cli, [*args, "--channel", conda_run.channel.as_uri(), "--index-url", index.simple_url]
    )
    assert result.exit_code == 0, result.output
    snap = recorded.clean_snap
    prefix = target / ".conda-env"
    restored = snapshot(str(prefix / "bin" / "python"))
    conda = {c.name: c for c in restored.conda}
    assert sorted(conda) == ["pip", "python"]
    pip = snap.package("pip")
    assert pip is not None
    assert (target / "environment.yml").read_text(encoding="utf-8") == (
        f"# Restored by envkit from runs:/{recorded.clean} (environment {snap.fingerprint[:12]}): the run's conda\n"
        "# packages pinned exactly (python and pip too), the packages conda did not install under pip:.\n"
        "channels:\n"
        f"- {conda_run.channel.as_uri()}\n"
        "- nodefaults\n"
        "dependencies:\n"
        f"- python =={snap.python.version}\n"
        f"- pip <={pip.version}\n"
        "- pip:\n"
        f"  - --index-url {index.simple_url}\n" + "".join(f"  - {pin}\n" for pin in _pins(snap))
    )
    assert result.stdout == (
        f"conda environment restored from runs:/{recorded.clean}: {prefix}\n"
        f"  python:    {prefix / 'bin' / 'python'}\n"
        f"  recorded:  {snap.fingerprint}\n"
        f"  restored:  {restored.fingerprint} (differs)\n"
        f"  made by:   {snap.manager.describe()} (recorded), conda (restored)\n"
        f"  not compared: conda packages pip {conda['pip'].version} (pyh_0), python {conda['python'].version}"
        f" ({conda['python'].build}): a conda environment's own; the run's virtualenv environment had no conda"
        " packages\n"
        f"  compared:  {snap.fingerprint} (same)\n"
        "\n"
        "No drift: the restored environment is the recorded one, less what is not compared.\n"
    )
    assert [line for line in result.stderr.splitlines() if not line.startswith("[")] == []


def test_a_failed_restore_carries_its_warnings(
    conda_run: CondaRun, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no --channel: the recorded channel is a file:// URL from the run, so it is not followed;
    # the engine then fails, and the error says what the restore left out
    if tool_path("micromamba"):
        pytest.skip("micromamba is on PATH")
    monkeypatch.setenv("ENVKIT_CONDA_ENGINE", "micromamba")
    target = tmp_path / "replay"
    result = cli.invoke(cli_module.cli, ["runs", "restore", conda_run.run, "-m", "conda", "--path", str(target)])
    assert result.exit_code == 2
    assert [line for line in result.stderr.splitlines() if not line.startswith("[")] == [
        "envkit: error: conda is not available here: ENVKIT_CONDA_ENGINE=micromamba but micromamba is not on PATH",
        f"note: the environment's conda packages came from {conda_run.channel.as_uri()}; a restore does not"
        " follow a channel URL from a run (pass --channel to choose one); without channels the conda engine uses"
        " its default ones",
    ]


def test_a_conda_name_that_names_a_channel_is_refused(conda_run: CondaRun, cli: CliRunner, tmp_path: Path) -> None:
    # a tampered snapshot.json (its fingerprint recomputed) whose conda package name would
    # become a channel URL in the spec: refused when the snapshot is read, nothing is made
    data = conda_run.snap.to_dict()
    data["conda"][0]["name"] = "https://evil.example/ch::numpy"
    data["fingerprint"] = fingerprint(data)
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    log_snapshot(conda_run.snap, run_id)
    tampered = tmp_path / "tampered" / "snapshot.json"
    tampered.parent.mkdir()
    tampered.write_text(json.dumps(data), encoding="utf-8")
    client.log_artifact(run_id, str(tampered), "environment")  # replaces the logged one
    target = tmp_path / "replay"
    args = ["runs", "restore", run_id, "-m", "conda", "--path", str(target), "--channel", "conda-forge"]
    result = cli.invoke(cli_module.cli, args)
    assert result.exit_code == 2
    assert [line for line in result.stderr.splitlines() if not line.startswith("[")] == [
        f"envkit: error: runs:/{run_id}/environment/snapshot.json: invalid snapshot: conda[0].name:"
        " 'https://evil.example/ch::numpy' is not a conda package name"
    ]
    assert not target.exists()


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "existing", "message"),
    [
        (
            ["-m", "venv", "--channel", "conda-forge"],
            None,
            "--channel is for --manager conda; venv installs from a package index (--index-url)",
        ),
        (
            ["-m", "conda", "--channel", "conda forge"],
            None,
            "--channel 'conda forge' is not a channel name, URL or path",
        ),
        (
            ["-m", "uv"],
            ".venv",
            "{path}/.venv exists: restoring would replace it with the run's environment; choose another --path"
            " or pass --force",
        ),
        (
            ["-m", "poetry"],
            "poetry.lock",
            "{path}/poetry.lock exists: restoring would replace it with the run's environment; choose another"
            " --path or pass --force",
        ),
        (
            ["-m", "conda"],
            ".conda-env",
            "{path}/.conda-env exists: restoring would replace it with the run's environment; choose another"
            " --path or pass --force",
        ),
    ],
)
def test_restore_refuses(
    recorded: Recorded, cli: CliRunner, tmp_path: Path, args: list[str], existing: str | None, message: str
) -> None:
    if existing is not None:
        (tmp_path / existing).mkdir()
    result = cli.invoke(cli_module.cli, ["runs", "restore", recorded.clean, "--path", str(tmp_path), *args])
    assert result.exit_code == 2
    assert result.stderr == f"envkit: error: {message.format(path=tmp_path)}\n"


def test_force_replaces_only_an_environment(recorded: Recorded, cli: CliRunner, tmp_path: Path) -> None:
    notes = tmp_path / ".venv" / "MY-NOTES.txt"
    notes.parent.mkdir()
    notes.write_text("mine")
    args = ["runs", "restore", recorded.clean, "-m", "uv", "--path", str(tmp_path), "--force"]
    result = cli.invoke(cli_module.cli, args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"envkit: error: {tmp_path / '.venv'} is not an environment (no pyvenv.cfg or conda-meta in it); --force"
        " replaces only an environment: move it away or choose another --path\n"
    )
    assert notes.read_text() == "mine"


def test_force_never_replaces_the_running_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from envkit.errors import EnvkitError
    from envkit.tracking.mlflow import _check_replaceable

    env = tmp_path / ".venv"
    (env / "lib").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    _check_replaceable(env)  # an environment: may go
    monkeypatch.setattr("sys.prefix", str(env))
    with pytest.raises(EnvkitError) as info:
        _check_replaceable(env)
    assert str(info.value) == f"{env} is the environment running envkit; restore into another --path"
    assert (env / "pyvenv.cfg").is_file()
