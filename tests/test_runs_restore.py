"""``envkit runs restore``: a run's environment rebuilt elsewhere with a real manager, then checked.

Round trip against the local package index (tests/pkgindex.py, served on 127.0.0.1):
an environment made by ``envkit.environments.bootstrap`` from pins on that index is
snapshotted and logged to a run on an embedded store; the restore rebuilds it in another
folder (``--index-url`` names the index: the snapshot records the indexes pip used but a
restore never follows them on its own) and the fingerprints match. A second environment
also holds a package installed from a local wheel file, which no other machine has: its
restore drifts, and says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("mlflow")

from mlflow import MlflowClient

from envkit import cli as cli_module
from envkit.environments import bootstrap
from envkit.snapshot import Snapshot, render
from envkit.tracking.mlflow import log_environment

from .mlflow_server import new_store
from .test_snapshot import make_wheel, uv_install


@dataclass(frozen=True)
class Recorded:
    uri: str
    clean: str  # run id: an environment of index packages only
    clean_snap: Snapshot
    local: str  # run id: the same plus a package from a local wheel file
    local_snap: Snapshot


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, package_index) -> Iterator[Recorded]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("restore")
    uri = new_store(root / "store")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("ENVKIT_MLFLOW_DISABLE", "1")
        client = MlflowClient()
        runs = []
        for name in ("clean", "local"):
            project = root / name
            project.mkdir()
            (project / "requirements.txt").write_text(
                f"--index-url {package_index.simple_url}\npython-dateutil==2.9.0\n", encoding="utf-8"
            )
            made = bootstrap(project / "requirements.txt", "venv")
            if name == "local":
                uv_install(made.created.python, make_wheel(root / "wheels", "localpkg", "0.1"))
            run_id = client.create_run("0").info.run_id
            runs.append((run_id, log_environment(run_id, python=str(made.created.python), project=project)))
        yield Recorded(uri, runs[0][0], runs[0][1], runs[1][0], runs[1][1])


@pytest.fixture
def cli(recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setitem(cli_module.COMMANDS, "runs", ("envkit.cli.runs", "runs_cmd", ""))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", recorded.uri)
    monkeypatch.setenv("ENVKIT_MLFLOW_DISABLE", "1")
    return CliRunner()


def test_restore_round_trip_gives_the_same_fingerprint(
    recorded: Recorded, cli: CliRunner, tmp_path: Path, package_index
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "replay"
    args = ["runs", "restore", recorded.clean, "--manager", "venv", "--path", str(target), "--json"]
    result = cli.invoke(cli_module.cli, [*args, "--index-url", package_index.simple_url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["recorded_fingerprint"] == report["restored_fingerprint"] == recorded.clean_snap.fingerprint
    assert (report["drift"], report["same_fingerprint"], report["diff"]["same"]) == (False, True, True)
    assert report["environment"] == str(target / ".venv")
    assert report["warnings"] == report["not_restorable"] == []
    assert [p.name for p in recorded.clean_snap.packages] == ["pip", "python-dateutil", "setuptools", "six"]
    # the manager's file is the snapshot's pins, behind the index we named
    written = (target / "requirements.txt").read_text(encoding="utf-8")
    assert written.splitlines()[0] == f"--index-url {package_index.simple_url}"
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
    recorded: Recorded, cli: CliRunner, tmp_path: Path, package_index
) -> None:  # type: ignore[no-untyped-def]
    # the run's requirements.txt is tampered with; the restore takes the snapshot's pins instead
    info = MlflowClient().get_run(recorded.local).info
    artifact = Path(info.artifact_uri.removeprefix("file://")) / "environment" / "requirements.txt"
    artifact.write_text("evil==6.6.6\n", encoding="utf-8")
    target = tmp_path / "replay"
    args = ["runs", "restore", f"runs:/{recorded.local}", "-m", "venv", "--path", str(target)]
    result = cli.invoke(cli_module.cli, [*args, "--index-url", package_index.simple_url])
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
