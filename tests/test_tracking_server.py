"""envkit.mlflow against a team server: a real ``mlflow server`` on 127.0.0.1 (sqlite backend,
proxied artifacts), started once for this module (tests/mlflow_server.py).

The concurrency test runs 50 processes at once, each logging a run with its environment:
half through ``envkit.mlflow.log_environment()``, half through the plugin alone (a plain
``mlflow.start_run()``). Each process works in its own project folder, so each snapshot is
its own (the hash of its requirements.txt); the server must keep every one of them, on
the right run.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("mlflow")

import mlflow
from mlflow import MlflowClient

from envkit import cli as cli_module
from envkit.snapshot import render, snapshot
from envkit.tracking.mlflow import ARTIFACT_FILES, log_environment, snapshot_from_run

from .mlflow_server import MlflowServer, log_run_worker, mlflow_environ

PROCESSES = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with MlflowServer(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def remote(server: MlflowServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MlflowServer:
    """This process pointed at the server (plugin off), in a project folder of its own."""
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in mlflow_environ(server.url).items():
        if name.startswith(("MLFLOW_", "DO_NOT_TRACK")):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENVKIT_MLFLOW_DISABLE", "1")
    monkeypatch.chdir(tmp_path)
    return server


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, entry in {"run": ("envkit.cli.run", "run_cmd", ""), "runs": ("envkit.cli.runs", "runs_cmd", "")}.items():
        monkeypatch.setitem(cli_module.COMMANDS, name, entry)
    return CliRunner()


def _experiment(name: str) -> str:
    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found else client.create_experiment(name)


def test_log_environment_and_read_it_back_over_http(remote: MlflowServer, tmp_path: Path) -> None:
    with mlflow.start_run(experiment_id=_experiment("http")) as run:
        snap = log_environment()
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")  # proxied by the server
    assert snapshot_from_run(f"runs:/{run.info.run_id}") == snap
    found = mlflow.search_runs(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"tags.`envkit.fingerprint` = '{snap.fingerprint}'",
        output_format="list",
    )
    assert [r.info.run_id for r in found] == [run.info.run_id]
    stored = remote.root / "artifacts" / run.info.experiment_id / run.info.run_id / "artifacts" / "environment"
    assert {p.name: p.read_text() for p in stored.iterdir()} == render(snap)


JOIN_SCRIPT = "import mlflow\nwith mlflow.start_run():\n    mlflow.log_metric('loss', 0.5)\n"


def test_envkit_run_against_the_server(remote: MlflowServer, cli: CliRunner) -> None:
    result = cli.invoke(
        cli_module.cli, ["run", "--experiment", "cli", "--run-name", "remote", "--", sys.executable, "-c", JOIN_SCRIPT]
    )
    assert result.exit_code == 0, result.output
    experiment = MlflowClient().get_experiment_by_name("cli")
    assert experiment is not None
    (run,) = MlflowClient().search_runs([experiment.experiment_id])
    assert (run.info.run_name, run.info.status, run.data.metrics) == ("remote", "FINISHED", {"loss": 0.5})
    assert run.data.tags["envkit.fingerprint"] == snapshot().fingerprint
    assert result.stderr.splitlines()[-1] == f"envkit: see it at {remote.url}/#/experiments/{experiment.experiment_id}"
    result = cli.invoke(cli_module.cli, ["runs", "diff", run.info.run_id, f"runs:/{run.info.run_id}", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["same"] is True


def test_fifty_processes_log_their_environments_at_once(remote: MlflowServer, tmp_path: Path) -> None:
    experiment_id = _experiment("concurrency")
    jobs = []
    for index in range(PROCESSES):
        project = tmp_path / f"p{index}"
        project.mkdir()
        (project / "requirements.txt").write_text(f"worker-{index}==1.0\n")
        jobs.append((index, remote.url, str(project), "explicit" if index % 2 else "plugin"))
    # forkserver: each worker is a fresh fork of a process that has imported mlflow once,
    # sharing no HTTP connection with this one (a plain fork would)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["mlflow", "envkit.snapshot", "envkit.tracking.mlflow", "tests.mlflow_server"])
    start = time.monotonic()
    with context.Pool(processes=PROCESSES, maxtasksperchild=1) as pool:
        try:
            results = pool.map(log_run_worker, jobs, chunksize=1)
        except Exception as exc:  # say what the server saw, too
            raise AssertionError(f"a worker failed: {exc}\nthe server's log ends with:\n{remote.tail()}") from exc
    seconds = time.monotonic() - start
    print(f"{PROCESSES} processes in {seconds:.1f} s")

    client = MlflowClient()
    runs = {r.info.run_id: r for r in client.search_runs([experiment_id], max_results=1000)}
    assert sorted(runs) == sorted(r["run_id"] for r in results)
    assert len(runs) == PROCESSES
    for result in results:
        run = runs[result["run_id"]]
        index = result["index"]
        assert run.data.params == {"worker": str(index)}
        assert run.info.run_name == f"worker-{index}"
        assert run.data.tags["envkit.fingerprint"] == result["fingerprint"]
        assert run.data.tags["envkit.artifacts"] == "environment"
        assert ("envkit.capture_id" in run.data.tags) is (result["how"] == "plugin")
        # what the server stored (its artifacts folder), read directly: 50 downloads take long
        stored = remote.root / "artifacts" / experiment_id / run.info.run_id / "artifacts" / "environment"
        assert sorted(p.name for p in stored.iterdir()) == sorted(ARTIFACT_FILES)
        text = (stored / "snapshot.json").read_text(encoding="utf-8")
        assert hashlib.sha256(text.encode()).hexdigest() == result["snapshot_sha256"]
        declared = hashlib.sha256(f"worker-{index}==1.0\n".encode()).hexdigest()
        assert json.loads(text)["declarations"] == [{"path": "requirements.txt", "sha256": declared}]
        assert result["declarations"] == [("requirements.txt", declared)]
