"""envkit.mlflow on MLflow's embedded store (a sqlite database in ``tmp_path``, no server).

Real MLflow throughout: runs are created, logged to and read back with ``MlflowClient``.
Each test gets a fresh store (a copy of a database MLflow initialized once, see
tests/mlflow_server.py). The plugin is switched off here (``ENVKIT_MLFLOW_DISABLE=1``) so
that only what a test calls writes to its runs; tests/test_tracking_plugin.py covers it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("mlflow")

import mlflow
from mlflow import MlflowClient

from envkit import cli as cli_module
from envkit.errors import EnvkitError
from envkit.snapshot import Declaration, Package, Provenance, diff, fingerprint, render, snapshot
from envkit.tracking.mlflow import (
    ARTIFACT_FILES,
    MAX_ARTIFACT_BYTES,
    check_download,
    check_listing,
    command_python,
    log_environment,
    log_snapshot,
    parse_run_reference,
    restore,
    run_command,
    snapshot_from_run,
    tracking_uri,
)

from .mlflow_server import new_store
from .test_snapshot import make_uv_venv, make_wheel, uv_install

SECRETS = {
    "direct URL password": "s3cr3t-DIRECTPASS",
    "direct URL token": "tok-DIRECTQUERY",
    "index password": "pa55-INDEXSECRET",
}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh embedded store; the working directory is a project with a requirements.txt."""
    uri = new_store(tmp_path / "store")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("ENVKIT_MLFLOW_DISABLE", "1")
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("six==1.16.0\n")
    monkeypatch.chdir(project)
    return uri


@pytest.fixture
def cli() -> CliRunner:
    """A runner for the ``envkit`` group (``run``, ``runs`` and ``diff`` are wired in it)."""
    return CliRunner()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A uv venv with one wheel whose PEP 610 record holds a password and a token."""
    root = tmp_path_factory.mktemp("planted")
    python = make_uv_venv(root / "env")
    wheel = make_wheel(root / "wheels", "sneaky", "1.0")
    uv_install(python, wheel.as_uri())
    site = next((root / "env").glob("lib/python*/site-packages"))
    (site / "sneaky-1.0.dist-info" / "direct_url.json").write_text(
        json.dumps(
            {
                "url": f"https://user:{SECRETS['direct URL password']}@host.example/sneaky-1.0-py3-none-any.whl"
                f"?token={SECRETS['direct URL token']}",
                "archive_info": {"hashes": {"sha256": "ab" * 32}},
            }
        )
    )
    return python


def envkit_tags(run_id: str) -> dict[str, str]:
    tags = MlflowClient().get_run(run_id).data.tags
    return {k: v for k, v in tags.items() if k.startswith("envkit.")}


def artifact_texts(run_id: str, dst: Path, folder: str = "environment") -> dict[str, str]:
    client = MlflowClient()
    out = {}
    for info in client.list_artifacts(run_id, folder):
        local = client.download_artifacts(run_id, info.path, str(dst))
        out[Path(info.path).name] = Path(local).read_text(encoding="utf-8")
    return out


def artifact_dir(run_id: str) -> Path:
    """Where the embedded store keeps a run's artifacts (a local folder)."""
    uri = MlflowClient().get_run(run_id).info.artifact_uri
    return Path(uri.removeprefix("file://"))


# -- log_environment -----------------------------------------------------------------------------


def test_log_environment_logs_the_files_and_tags_the_run(store: str, tmp_path: Path) -> None:
    with mlflow.start_run() as run:
        snap = log_environment()
    run_id = run.info.run_id
    assert envkit_tags(run_id) == {**snap.tags(), "envkit.artifacts": "environment"}
    assert snap.tags()["envkit.python"] == f"cpython {'.'.join(map(str, sys.version_info[:3]))}"
    assert artifact_texts(run_id, tmp_path / "dl") == render(snap)
    assert snap.declarations == (Declaration("requirements.txt", hashlib.sha256(b"six==1.16.0\n").hexdigest()),)
    found = mlflow.search_runs(filter_string=f"tags.`envkit.fingerprint` = '{snap.fingerprint}'", output_format="list")
    assert [r.info.run_id for r in found] == [run_id]


def test_log_environment_to_a_run_by_id_and_of_another_interpreter(store: str, planted: Path, tmp_path: Path) -> None:
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.set_terminated(run_id)
    snap = log_environment(run_id, python=str(planted))
    assert snap.python.executable == str(planted)
    assert [p.name for p in snap.packages] == ["sneaky"]
    assert envkit_tags(run_id) == {
        "envkit.fingerprint": snap.fingerprint,
        "envkit.python": snap.tags()["envkit.python"],
        "envkit.manager": "uv",
        "envkit.packages": "1",
        "envkit.artifacts": "environment",
    }
    assert snapshot_from_run(f"runs:/{run_id}") == snap
    assert snapshot_from_run(run_id) == snap


def test_log_environment_without_a_run_says_what_to_do(store: str) -> None:
    with pytest.raises(EnvkitError) as info:
        log_environment()
    assert str(info.value) == (
        "no active MLflow run: call log_environment() inside `with mlflow.start_run():`, or pass run_id"
    )
    with pytest.raises(EnvkitError) as info:
        log_environment("../etc")
    assert str(info.value) == "'../etc' is not an MLflow run id"


def test_the_default_store_is_mlflow_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    """No MLFLOW_TRACKING_URI: MLflow 3's default, a sqlite mlflow.db in the working directory."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("ENVKIT_MLFLOW_DISABLE", "1")
    new_store(tmp_path)  # what MLflow would create there on first use, made faster
    monkeypatch.chdir(tmp_path)
    assert tracking_uri() == f"sqlite:///{tmp_path}/mlflow.db"
    result = cli.invoke(cli_module.cli, ["run", "--run-name", "local", "--", sys.executable, "-c", "pass"])
    assert result.exit_code == 0, result.output
    (run,) = MlflowClient().search_runs(["0"])
    assert run.info.run_name == "local"
    assert (
        result.stderr.splitlines()[-1]
        == f"envkit: see it with `mlflow ui --backend-store-uri sqlite:///{tmp_path}/mlflow.db`"
    )
    assert (tmp_path / "mlruns" / "0" / run.info.run_id / "artifacts" / "environment" / "snapshot.json").is_file()


def test_every_entry_point_without_mlflow_says_how_to_install_it(
    store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` now raises ImportError
    message = "MLflow is not installed: install it with `pip install 'envkit[mlflow]'`"
    calls = [
        lambda: log_environment(),
        lambda: snapshot_from_run("runs:/0123abc"),
        lambda: diff("runs:/0123abc", "runs:/4567def"),
        lambda: restore("runs:/0123abc", "venv", path=tmp_path / "r"),
        lambda: run_command([sys.executable, "-c", "pass"]),
        tracking_uri,
    ]
    for call in calls:
        with pytest.raises(EnvkitError) as info:
            call()
        assert str(info.value) == message


# -- references and diffs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("runs:/0a1b2c", ("0a1b2c", "environment")),
        ("0a1b2c", ("0a1b2c", "environment")),
        ("runs:/0a1b2c/", ("0a1b2c", "environment")),
        ("runs:/0a1b2c/env-2024/snapshot.json", ("0a1b2c", "env-2024")),
        ("runs:/0a1b2c/a/b", ("0a1b2c", "a/b")),
    ],
)
def test_run_references(reference: str, expected: tuple[str, str]) -> None:
    assert parse_run_reference(reference) == expected


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("runs:/", "runs:/: not a run id or runs:/<run_id> reference"),
        ("runs:/../x", "runs:/../x: not a run id or runs:/<run_id> reference"),
        ("runs:/0a1b/../../etc", "runs:/0a1b/../../etc: '..' is not a plain artifact folder name"),
        ("runs:/0a1b/we ird", "runs:/0a1b/we ird: 'we ird' is not a plain artifact folder name"),
        ("s3://bucket/x", "s3://bucket/x: not a run id or runs:/<run_id> reference"),
    ],
)
def test_bad_run_references(reference: str, message: str) -> None:
    with pytest.raises(EnvkitError) as info:
        parse_run_reference(reference)
    assert str(info.value) == message


def test_diff_of_two_runs(store: str, planted: Path, cli: CliRunner) -> None:
    with mlflow.start_run() as a:
        snap_a = log_environment()
    with mlflow.start_run() as b:
        snap_b = log_environment(python=str(planted))
    with mlflow.start_run() as c:
        log_environment()
    ra, rb, rc = (r.info.run_id for r in (a, b, c))
    expected = diff(snap_a, snap_b).to_dict()
    got = diff(f"runs:/{ra}", f"runs:/{rb}").to_dict()
    assert (got["a"]["label"], got["b"]["label"]) == (f"runs:/{ra}", f"runs:/{rb}")
    assert {k: v for k, v in got.items() if k not in "ab"} == {k: v for k, v in expected.items() if k not in "ab"}
    assert got["same"] is False

    result = cli.invoke(cli_module.cli, ["runs", "diff", ra, rb, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == got
    result = cli.invoke(cli_module.cli, ["diff", f"runs:/{ra}", f"runs:/{rb}", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == got
    result = cli.invoke(cli_module.cli, ["runs", "diff", f"runs:/{ra}", rc])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "A and B are the same environment."


# -- runs read back are untrusted ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("/etc/passwd", False, 10)], "untrusted artifact listing: '/etc/passwd' is an absolute path"),
        ([("C:/x/snapshot.json", False, 10)], "untrusted artifact listing: 'C:/x/snapshot.json' is an absolute path"),
        (
            [("environment/../snapshot.json", False, 10)],
            "untrusted artifact listing: 'environment/../snapshot.json' escapes its folder",
        ),
        (
            [("environment\\..\\x", False, 10)],
            "untrusted artifact listing: 'environment\\\\..\\\\x' holds a backslash or control character",
        ),
        (
            [("other/snapshot.json", False, 10)],
            "untrusted artifact listing: 'other/snapshot.json' is not directly under environment/",
        ),
        (
            [("environment/snapshot.json", False, MAX_ARTIFACT_BYTES + 1)],
            f"untrusted artifact: environment/snapshot.json is {MAX_ARTIFACT_BYTES + 1} bytes,"
            f" more than the {MAX_ARTIFACT_BYTES} envkit accepts",
        ),
    ],
)
def test_untrusted_listings_are_refused(entries: list[tuple[str, bool, int]], message: str) -> None:
    with pytest.raises(EnvkitError) as info:
        check_listing(entries, "environment")
    assert str(info.value) == message


def test_a_listing_keeps_only_the_known_files() -> None:
    entries = [
        ("environment/snapshot.json", False, 100),
        ("environment/requirements.txt", False, None),
        ("environment/notes.md", False, 3),
        ("environment/conda.yaml", True, None),
        ("environment/pylock.toml", False, MAX_ARTIFACT_BYTES),
    ]
    assert check_listing(entries, "environment") == {
        "snapshot.json": 100,
        "requirements.txt": None,
        "pylock.toml": MAX_ARTIFACT_BYTES,
    }


def test_downloaded_files_must_be_regular_files_inside_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "dl"
    (root / "environment").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("x")
    good = root / "environment" / "snapshot.json"
    good.write_text("{}")
    assert check_download(root, good) == good
    (root / "environment" / "link.json").symlink_to(outside)
    (root / "environment" / "inner.json").symlink_to(good)
    (root / "environment" / "sub").mkdir()
    big = root / "environment" / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(MAX_ARTIFACT_BYTES + 1)
    cases = {
        outside: "untrusted artifact: secret.txt was written outside the download folder",
        root / "environment" / "link.json": "untrusted artifact: link.json was written outside the download folder",
        root / "environment" / "inner.json": "untrusted artifact: inner.json is a symbolic link",
        root / "environment" / "sub": "untrusted artifact: sub is not a regular file",
        root / "environment" / "missing.json": "untrusted artifact: missing.json was not downloaded",
        big: f"untrusted artifact: big.json is {MAX_ARTIFACT_BYTES + 1} bytes, more than the {MAX_ARTIFACT_BYTES} envkit accepts",
    }
    for path, message in cases.items():
        with pytest.raises(EnvkitError) as info:
            check_download(root, path)
        assert str(info.value) == message


def _logged_run() -> tuple[str, Path]:
    with mlflow.start_run() as run:
        log_environment()
    return run.info.run_id, artifact_dir(run.info.run_id) / "environment" / "snapshot.json"


def test_a_tampered_snapshot_is_refused(store: str) -> None:
    run_id, path = _logged_run()
    data = json.loads(path.read_text())
    data["packages"][0]["version"] = "999"
    path.write_text(json.dumps(data))
    with pytest.raises(EnvkitError) as info:
        snapshot_from_run(run_id)
    assert str(info.value) == (
        f"runs:/{run_id}/environment/snapshot.json: invalid snapshot: fingerprint: recorded {data['fingerprint'][:12]}…"
        f" but the contents give {fingerprint(data)[:12]}…; the file was edited or damaged"
    )


def test_malformed_oversized_linked_and_missing_snapshots_are_refused(store: str, tmp_path: Path) -> None:
    run_id, path = _logged_run()
    path.write_text('{"schema": "envkit.snapshot/1",\n  nope}')
    with pytest.raises(EnvkitError) as info:
        snapshot_from_run(run_id)
    assert str(info.value) == (
        f"runs:/{run_id}/environment/snapshot.json:2:3: not valid JSON: Expecting property name enclosed in double quotes"
    )

    path.write_text(json.dumps({"schema": "envkit.snapshot/1", "fingerprint": "0" * 64}))
    with pytest.raises(EnvkitError) as info:
        snapshot_from_run(run_id)
    assert str(info.value) == (
        f"runs:/{run_id}/environment/snapshot.json: invalid snapshot: captured_at: expected a string, got null"
    )

    outside = tmp_path / "passwd"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n")
    path.unlink()
    path.symlink_to(outside)  # MLflow's local artifact store refuses to follow it
    with pytest.raises(EnvkitError) as info:
        snapshot_from_run(run_id)
    assert str(info.value) == (
        f"runs:/{run_id}/environment/snapshot.json: not found on {store}: Failed to download artifacts from path"
        " 'snapshot.json', please ensure that the path is correct."
    )
    assert outside.read_text() == "root:x:0:0:root:/root:/bin/bash\n"

    path.unlink()
    with open(path, "wb") as handle:
        handle.truncate(MAX_ARTIFACT_BYTES + 1)
    with pytest.raises(EnvkitError) as info:
        snapshot_from_run(run_id)
    assert str(info.value) == (
        f"untrusted artifact: environment/snapshot.json is {MAX_ARTIFACT_BYTES + 1} bytes,"
        f" more than the {MAX_ARTIFACT_BYTES} envkit accepts"
    )

    with mlflow.start_run() as bare:
        pass
    with pytest.raises(EnvkitError) as info:
        snapshot_from_run(bare.info.run_id)
    assert str(info.value) == (
        f"runs:/{bare.info.run_id} has no environment/snapshot.json: log one with envkit.mlflow.log_environment(), "
        "`envkit run`, or the envkit MLflow plugin"
    )

    with pytest.raises(EnvkitError) as info:
        snapshot_from_run("runs:/" + "0" * 32)
    assert str(info.value).startswith(f"runs:/{'0' * 32}: not found on {store}: Run with id={'0' * 32} not found")


# -- envkit run ----------------------------------------------------------------------------------


def test_the_python_a_command_runs(tmp_path: Path) -> None:
    scripts = {
        "console-script": f"#!{sys.executable}\nprint()\n",
        "env-script": "#!/usr/bin/env python3\nprint()\n",
        "shell-script": "#!/bin/sh\necho\n",
        "no-shebang": "echo\n",
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    python3 = shutil.which("python3")
    assert python3 is not None
    cases = {
        (sys.executable, "train.py"): os.path.abspath(sys.executable),
        (str(tmp_path / "console-script"),): sys.executable,
        (str(tmp_path / "env-script"), "--flag"): os.path.abspath(python3),
        (str(tmp_path / "shell-script"),): None,
        (str(tmp_path / "no-shebang"),): None,
        ("envkit-no-such-command",): None,
    }
    assert {cmd: command_python(cmd) for cmd in cases} == cases


JOIN_SCRIPT = """
import mlflow
with mlflow.start_run() as run:
    mlflow.log_param("lr", "0.1")
print(run.info.run_id)
"""


def test_envkit_run_records_the_environment_and_the_command_joins_the_run(
    store: str, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the plugin is on in the command: joining the run through MLFLOW_RUN_ID, it adds nothing
    monkeypatch.delenv("ENVKIT_MLFLOW_DISABLE")
    result = cli.invoke(
        cli_module.cli,
        ["run", "--experiment", "exp", "--run-name", "first", "--", sys.executable, "-c", JOIN_SCRIPT],
    )
    assert result.exit_code == 0, result.output
    client = MlflowClient()
    experiment = client.get_experiment_by_name("exp")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "first"
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.1"}
    own = snapshot(project=".")
    assert envkit_tags(run.info.run_id) == {**own.tags(), "envkit.artifacts": "environment", "envkit.exit_status": "0"}
    assert run.data.tags["mlflow.source.name"] == "-c"
    assert snapshot_from_run(run.info.run_id).fingerprint == own.fingerprint
    lines = result.stderr.splitlines()
    assert lines[-2] == f"envkit: run {run.info.run_id} FINISHED (exit status 0), environment {own.fingerprint[:12]}"


@pytest.mark.parametrize(
    ("code", "exit_status", "status"),
    [
        ("import sys; sys.exit(3)", 3, "FAILED"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", 128 + signal.SIGTERM, "KILLED"),
        ("import sys; sys.exit(130)", 130, "KILLED"),
    ],
)
def test_envkit_run_records_how_the_command_ended(
    store: str, cli: CliRunner, code: str, exit_status: int, status: str
) -> None:
    result = cli.invoke(cli_module.cli, ["run", "-q", "--", sys.executable, "-c", code])
    assert result.exit_code == exit_status
    assert result.output == ""
    (run,) = MlflowClient().search_runs(["0"])
    assert run.info.status == status
    assert run.data.tags["envkit.exit_status"] == str(exit_status)


def test_envkit_run_of_a_missing_command_starts_no_run(store: str, cli: CliRunner) -> None:
    result = cli.invoke(cli_module.cli, ["run", "--", "envkit-no-such-command"])
    assert result.exit_code == 2
    assert result.stderr == "envkit: error: envkit-no-such-command: command not found\n"
    assert MlflowClient().search_runs(["0"]) == []


def test_ctrl_c_ends_the_command_and_the_run_as_killed(store: str, tmp_path: Path) -> None:
    """End to end: envkit and the command in one process group, as in a terminal; SIGINT to the group."""
    script = "import sys, time; print('ready', flush=True); time.sleep(120)"
    envkit = "from envkit.cli.run import run_cmd; run_cmd(prog_name='envkit run')"
    process = subprocess.Popen(
        [sys.executable, "-c", envkit, "--", sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    (run,) = MlflowClient().search_runs(["0"])
    assert (run.info.status, run.data.tags["envkit.exit_status"]) == ("KILLED", "130")
    assert f"envkit: run {run.info.run_id} KILLED (exit status 130)" in stderr


# -- secrets ---------------------------------------------------------------------------------------


def test_a_credential_the_redaction_missed_is_never_logged(store: str) -> None:
    """The last check before logging fails closed: nothing reaches the run."""
    snap = snapshot()
    leak = Provenance(
        kind="archive", url="https://u:hunter2@h.example/leaky-1.0-py3-none-any.whl", hash="sha256=" + "ab" * 32
    )
    leaky = replace(snap, packages=(*snap.packages, Package("leaky", "1.0", provenance=leak)))
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    with pytest.raises(EnvkitError) as info:
        log_snapshot(leaky, run_id)
    assert str(info.value) == (
        "refusing to log snapshot.json: it holds a credential in https://u:***@h.example/leaky-1.0-py3-none-any.whl"
        " (a bug in envkit's redaction; please report it)"
    )
    assert client.list_artifacts(run_id) == []
    assert envkit_tags(run_id) == {}


def test_no_secret_reaches_tags_params_artifacts_or_logs(
    store: str,
    planted: Path,
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", f"https://alice:{SECRETS['index password']}@private.example/simple")
    caplog.set_level(logging.DEBUG)
    with mlflow.start_run():
        snap = log_environment(python=str(planted))
    result = cli.invoke(cli_module.cli, ["run", "--python", str(planted), "--", sys.executable, "-c", "pass"])
    assert result.exit_code == 0, result.output
    # the secrets were there to leak: the snapshot saw both, redacted
    assert snap.indexes.index_url == "https://alice:***@private.example/simple"
    sneaky = snap.package("sneaky")
    assert sneaky is not None
    assert sneaky.provenance.url == "https://user:***@host.example/sneaky-1.0-py3-none-any.whl?token=***"

    client = MlflowClient()
    runs = client.search_runs(["0"])
    assert len(runs) == 2
    seen = [result.output, caplog.text]
    for r in runs:
        assert r.data.tags["envkit.fingerprint"] == snap.fingerprint
        seen.append(json.dumps([r.data.tags, r.data.params]))
        seen.extend(artifact_texts(r.info.run_id, tmp_path / r.info.run_id).values())
    assert len(seen) == 2 + 2 * (1 + len(ARTIFACT_FILES))
    assert "envkit.tracking" in caplog.text  # our own debug lines were captured
    for text in seen:
        leaked = [what for what, secret in SECRETS.items() if secret in text]
        assert leaked == []
