"""MLflow for tests: fresh stores, a real ``mlflow server``, and the concurrency test's worker.

:func:`new_store` makes a fresh sqlite store in a folder. MLflow's schema migrations take
10-20 s on a loaded machine, so they run once per test session (:func:`_template`, in a
subprocess) and each store is a copy of their result, its Default experiment pointed at
the new folder's ``mlruns/0``: what MLflow itself would have written there.

:class:`MlflowServer` starts ``mlflow server --backend-store-uri sqlite:///<tmp>/mlflow.db
--artifacts-destination <tmp>/artifacts --host 127.0.0.1 --port <free port> --workers 2``
as a subprocess in its own process group, waits until ``/health`` answers, and stops the
whole group (the server starts uvicorn workers of its own). Its job runner (huey
consumers, for MLflow's GenAI jobs) is switched off: the tests use the tracking API only.

The server's sqlite store is set up for many writers at once, as a team would set up a
sqlite-backed server: the database in WAL mode (readers never block the writer), and
``MLFLOW_SQLALCHEMYSTORE_POOLCLASS=NullPool`` (a connection per request, as SQLAlchemy
1.x did for sqlite files). With SQLAlchemy 2's default pool of 5 + 10 connections per
worker, fifty clients at once on a loaded machine can wait out the pool's 30 s timeout
and get ``BAD_REQUEST: QueuePool limit of size 5 overflow 10 reached`` from
``create_run``: MLflow's own call, before envkit does anything.

:func:`log_run_worker` is the body of each process of the concurrency test; it lives here
(not in the test module) so a ``forkserver`` child can import it without pytest.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

#: How long a server may take to answer /health (a loaded 2-core machine needs ~30 s).
START_TIMEOUT = 180.0


_TEMPLATE: Path | None = None


def _template() -> Path:
    """An MLflow sqlite database with its tables made (once per process: MLflow's schema
    migrations take seconds, a copy of their result takes microseconds)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="envkit-mlflow-template-"))
        atexit.register(shutil.rmtree, folder, True)
        db = folder / "mlflow.db"
        env = mlflow_environ(f"sqlite:///{db}")
        env["ENVKIT_MLFLOW_DISABLE"] = "1"
        script = "import mlflow; mlflow.MlflowClient().search_experiments()"
        subprocess.run([sys.executable, "-c", script], env=env, cwd=folder, check=True, capture_output=True)
        _TEMPLATE = db
    return _TEMPLATE


def new_store(folder: Path, default_artifacts: str | None = None) -> str:
    """A fresh MLflow sqlite store ``folder/mlflow.db``, as MLflow would make it there
    (a copy of the template, its Default experiment's artifacts moved to
    ``default_artifacts``, else ``folder/mlruns/0``). Returns its tracking URI."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "mlflow.db"
    shutil.copyfile(_template(), db)
    with closing(sqlite3.connect(db)) as con, con:
        con.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            (default_artifacts or str(folder / "mlruns" / "0"),),
        )
    return f"sqlite:///{db}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def mlflow_environ(tracking_uri: str) -> dict[str, str]:
    """This process's environment with MLflow pointed at ``tracking_uri`` and told to be quick:
    few HTTP retries (a broken server fails a test in seconds, not minutes), no telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
        }
    )
    env.pop("MLFLOW_RUN_ID", None)
    env.pop("MLFLOW_EXPERIMENT_ID", None)
    env.pop("MLFLOW_EXPERIMENT_NAME", None)
    return env


class MlflowServer:
    """``mlflow server`` on 127.0.0.1 with a sqlite backend and proxied artifacts in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MlflowServer:
        new_store(self.root, "mlflow-artifacts:/0")
        with closing(sqlite3.connect(self.root / "mlflow.db")) as con:
            con.execute("PRAGMA journal_mode=WAL")  # kept in the file: the server's connections use it
        mlflow = Path(sys.executable).with_name("mlflow")
        cmd = [
            str(mlflow) if mlflow.exists() else sys.executable,
            *([] if mlflow.exists() else ["-m", "mlflow"]),
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.root / 'mlflow.db'}",
            "--artifacts-destination",
            str(self.root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "2",
        ]
        env = mlflow_environ(self.url)
        env.pop("MLFLOW_TRACKING_URI")
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        env["MLFLOW_SQLALCHEMYSTORE_POOLCLASS"] = "NullPool"
        env["ENVKIT_MLFLOW_DISABLE"] = "1"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )
        self.wait()
        return self

    def wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer in {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server and every process it started (its process group)."""
        if self.process is None:
            return
        pgid = self.process.pid  # start_new_session: the group is led by the server
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                # the workers may outlive the parent briefly; wait for the group to empty
                end = time.monotonic() + wait
                while time.monotonic() < end:
                    os.killpg(pgid, 0)
                    time.sleep(0.1)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                continue
        self.process = None

    def __enter__(self) -> MlflowServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the concurrency test's worker -------------------------------------------------------------


def log_run_worker(job: tuple[int, str, str, str]) -> dict[str, Any]:
    """One process of the concurrency test: a run that records its environment.

    ``job`` is ``(index, tracking URI, project folder, how)``. The project folder holds a
    requirements.txt unique to the process, so each snapshot differs (its declaration hash).
    ``how`` is ``explicit`` (``envkit.mlflow.log_environment()``, plugin off) or ``plugin``
    (a plain ``mlflow.start_run()``; the plugin's thread logs the artifacts). Returns what
    the process logged, to be compared with what the server kept.
    """
    index, uri, project, how = job
    os.chdir(project)
    os.environ.update(mlflow_environ(uri))
    if how == "explicit":
        os.environ["ENVKIT_MLFLOW_DISABLE"] = "1"
    else:
        os.environ.pop("ENVKIT_MLFLOW_DISABLE", None)
    import mlflow

    from envkit.snapshot import render
    from envkit.tracking import mlflow as tracking

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("concurrency")
    with mlflow.start_run(run_name=f"worker-{index}") as run:
        mlflow.log_param("worker", index)
        snap = tracking.log_environment() if how == "explicit" else None
    if snap is None:
        from envkit.tracking import plugin

        plugin._uploader().close()  # what atexit does: wait for the artifacts
        snap = tracking.current_snapshot()
    text = render(snap)["snapshot.json"]
    return {
        "index": index,
        "run_id": run.info.run_id,
        "how": how,
        "fingerprint": snap.fingerprint,
        "snapshot_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "declarations": [(d.path, d.sha256) for d in snap.declarations],
    }
