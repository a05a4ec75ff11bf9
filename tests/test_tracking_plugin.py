"""The envkit MLflow plugin, in a separate process whose interpreter has envkit installed with
its ``mlflow.run_context_provider`` entry point (this project's venv, ``sys.executable``).

One plain script (no envkit import) starts runs every way a user does: a ``with`` block, a
run in another thread, a run left open for MLflow to end at exit, a run with the plugin
switched off, and a logged model (for which MLflow also asks providers for tags). Then
this process reads the runs back with ``MlflowClient``.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest.importorskip("mlflow")

from mlflow import MlflowClient

from envkit.snapshot import Declaration, Snapshot, render, snapshot
from envkit.tracking.plugin import EnvkitRunContextProvider

from .mlflow_server import mlflow_environ, new_store

Scripted = tuple[str, dict[str, str], float, Path, str]

SECRET = "pa55-PLUGINSECRET"

SCRIPT = """
import json, logging, os, sys, threading, time
import mlflow

logging.basicConfig(level=logging.DEBUG)  # every log line, envkit's among them, goes to stderr

mlflow.set_tracking_uri(sys.argv[1])
out = {}
with mlflow.start_run() as run:
    mlflow.log_param("a", 1)
out["with"] = run.info.run_id


def in_thread():
    with mlflow.start_run() as other:
        mlflow.log_param("b", 2)
    out["thread"] = other.info.run_id


worker = threading.Thread(target=in_thread)
worker.start()
worker.join()

os.environ["ENVKIT_MLFLOW_DISABLE"] = "1"
with mlflow.start_run() as off:
    pass
out["disabled"] = off.info.run_id
del os.environ["ENVKIT_MLFLOW_DISABLE"]

mlflow.create_external_model(name="model")  # no run will ever carry this capture id

run = mlflow.start_run()  # left open: MLflow ends it at exit, after the plugin has uploaded
mlflow.log_param("c", 3)
out["open"] = run.info.run_id
print(json.dumps(out), flush=True)
print(time.time(), flush=True)
"""


@pytest.fixture(scope="module")
def script_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str], float, Path, str]:
    """Run SCRIPT once in a project folder, with a password in PIP_INDEX_URL; returns
    (tracking URI, run ids, seconds from its last line to its exit, the project folder,
    everything it printed)."""
    root = tmp_path_factory.mktemp("plugin")
    uri = new_store(root / "store")
    project = root / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("scikit-learn==1.5.2\n")
    (project / "script.py").write_text(SCRIPT)
    env = mlflow_environ(uri)
    env.pop("ENVKIT_MLFLOW_DISABLE", None)
    env["PIP_INDEX_URL"] = f"https://alice:{SECRET}@private.example/simple"
    done = subprocess.run(
        [sys.executable, "script.py", uri], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    ended = time.time()
    assert done.returncode == 0, done.stderr
    ids_line, time_line = done.stdout.splitlines()[-2:]
    return uri, json.loads(ids_line), ended - float(time_line), project, done.stdout + done.stderr


def test_the_entry_point_names_the_provider() -> None:
    (entry,) = [e for e in entry_points(group="mlflow.run_context_provider") if e.name == "envkit"]
    assert entry.load() is EnvkitRunContextProvider


def test_in_context_unless_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = EnvkitRunContextProvider()
    for value, expected in (("", True), ("0", True), ("1", False), ("true", False), ("YES", False), ("on", False)):
        monkeypatch.setenv("ENVKIT_MLFLOW_DISABLE", value)
        assert provider.in_context() is expected


@pytest.mark.parametrize("which", ["with", "thread", "open"])
def test_a_plain_start_run_gets_the_tags_and_then_the_artifacts(
    script_run: Scripted, which: str, tmp_path: Path
) -> None:
    uri, ids, _, project, _ = script_run
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(ids[which])
    tags = {k: v for k, v in run.data.tags.items() if k.startswith("envkit.")}
    # the script ran in this interpreter's environment, in the project folder
    here = snapshot(project=project)
    assert re.fullmatch(r"[0-9a-f]{32}", tags.pop("envkit.capture_id"))
    assert tags == {**here.tags(), "envkit.artifacts": "environment"}
    files = {}
    for info in client.list_artifacts(run.info.run_id, "environment"):
        files[Path(info.path).name] = Path(
            client.download_artifacts(run.info.run_id, info.path, str(tmp_path))
        ).read_text()
    logged = Snapshot.from_dict(json.loads(files["snapshot.json"]))
    assert files == render(logged)
    assert logged.fingerprint == here.fingerprint
    assert logged.declarations == (
        Declaration("requirements.txt", hashlib.sha256(b"scikit-learn==1.5.2\n").hexdigest()),
    )
    assert run.info.status == "FINISHED"


def test_each_run_has_its_own_capture(script_run: Scripted) -> None:
    uri, ids, _, _, _ = script_run
    client = MlflowClient(tracking_uri=uri)
    captures = [client.get_run(ids[w]).data.tags["envkit.capture_id"] for w in ("with", "thread", "open")]
    assert len(set(captures)) == 3


def test_disabled_runs_get_nothing(script_run: Scripted) -> None:
    uri, ids, _, _, _ = script_run
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(ids["disabled"])
    assert [k for k in run.data.tags if k.startswith("envkit.")] == []
    assert client.list_artifacts(run.info.run_id) == []


def test_a_capture_no_run_carries_does_not_hold_up_the_exit(
    script_run: Scripted,
) -> None:
    """The logged model's capture id is on no run: at exit the thread searches once more and
    drops it, instead of waiting ENVKIT_MLFLOW_WAIT (60 s) for it."""
    _, _, exit_seconds, _, _ = script_run
    assert exit_seconds < 30


def test_no_secret_in_the_runs_or_the_log(script_run: Scripted, tmp_path: Path) -> None:
    uri, ids, _, _, printed = script_run
    client = MlflowClient(tracking_uri=uri)
    assert "envkit.tracking" in printed  # the plugin's own log lines are in what was printed
    seen = [printed]
    for run_id in ids.values():
        run = client.get_run(run_id)
        seen.append(json.dumps([run.data.tags, run.data.params]))
        for info in client.list_artifacts(run_id, "environment"):
            seen.append(Path(client.download_artifacts(run_id, info.path, str(tmp_path / run_id))).read_text())
    assert len(seen) == 1 + 4 + 3 * 5
    logged = Snapshot.from_dict(json.loads(seen[-1]))  # the open run's snapshot.json (listed last)
    assert logged.indexes.index_url == "https://alice:***@private.example/simple"
    assert [i for i, text in enumerate(seen) if SECRET in text] == []
