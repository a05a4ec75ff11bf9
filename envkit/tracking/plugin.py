"""The envkit MLflow plugin: every ``mlflow.start_run()`` records its environment, with no code change.

Installing envkit registers :class:`EnvkitRunContextProvider` under MLflow's
``mlflow.run_context_provider`` entry point. When a script calls ``mlflow.start_run()``
for a new run, MLflow asks every context provider for tags *before* it creates the run,
and gives providers no hook once the run exists. So the plugin works in two steps, on
MLflow's public API only:

1. **Tags, at once.** ``tags()`` captures the interpreter's environment in-process (about
   10–25 ms the first time; then cached until a ``sys.path`` folder or a declaration file
   in the working directory changes: ``envkit.tracking.mlflow.current_snapshot``) and returns
   ``envkit.fingerprint``, ``envkit.python``, ``envkit.manager``, ``envkit.packages`` and
   ``envkit.capture_id``: a random id, new at every call. MLflow creates the run with them,
   so the run is filterable by environment from its first moment.
2. **Artifacts, right after.** ``tags()`` also hands the snapshot and the capture id to a
   background thread (one per process). The thread looks for the run carrying that
   ``envkit.capture_id`` (``MlflowClient.search_runs`` over the active experiments, polling
   with a short back-off: the run usually exists a few milliseconds after ``tags()``
   returns), then logs the snapshot's files under ``environment/`` with
   ``MlflowClient.log_artifacts`` and sets ``envkit.artifacts`` = ``environment``.
   An ``atexit`` handler lets a short script finish: at exit the thread makes one last
   search for each pending capture, logs what it finds, and is waited for (at most
   ``ENVKIT_MLFLOW_EXIT_TIMEOUT`` seconds, default 30).

Consequences, by design:

- A run with ``envkit.artifacts`` has the whole snapshot; a run with the fingerprint tags
  but not ``envkit.artifacts`` was cut short (the process was killed) or its artifacts
  could not be written (a warning on the ``envkit.tracking`` logger says why).
- MLflow also asks providers for tags when it creates a logged model or resolves trace
  metadata; no run ever carries those capture ids, so the thread gives up on them after
  ``ENVKIT_MLFLOW_WAIT`` seconds (default 60) or at exit, having only searched.
- A run joined through ``MLFLOW_RUN_ID`` (as ``envkit run`` does) or resumed by id is not
  created, so MLflow asks no provider: whoever created it records the environment.
- Failures never break the user's run: MLflow logs an exception from ``tags()`` as a
  warning, and the thread catches and logs its own.
- ``ENVKIT_MLFLOW_DISABLE=1`` switches the plugin off (``in_context()`` is false).
- The thread's client uses the tracking URI that was current when ``tags()`` ran.

This module imports neither mlflow nor the snapshot code at import time (MLflow imports
it while it is itself being imported); the MLflow calls live in
:mod:`envkit.tracking.mlflow`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ..snapshot import Snapshot

__all__ = ["CAPTURE_TAG", "DISABLE_VARIABLE", "EnvkitRunContextProvider"]

#: The tag holding the per-call id that lets the background thread find the run.
CAPTURE_TAG = "envkit.capture_id"
#: ``ENVKIT_MLFLOW_DISABLE=1`` (or true, yes, on) switches the plugin off.
DISABLE_VARIABLE = "ENVKIT_MLFLOW_DISABLE"

_log = logging.getLogger("envkit.tracking")


def _seconds(variable: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(variable, default)))
    except ValueError:
        return default


class EnvkitRunContextProvider:
    """MLflow run context provider: fingerprint tags for each new run, and its
    ``environment/`` artifacts soon after (see the module doc).

    It has ``mlflow.tracking.context.abstract_context.RunContextProvider``'s two methods
    without subclassing it, so that this module needs no mlflow import: MLflow's registry
    only instantiates the class and calls them.
    """

    def in_context(self) -> bool:
        return os.environ.get(DISABLE_VARIABLE, "").strip().lower() not in ("1", "true", "yes", "on")

    def tags(self) -> dict[str, str]:
        import uuid

        from .mlflow import current_snapshot, tracking_uri

        snap = current_snapshot()
        capture_id = uuid.uuid4().hex
        _uploader().submit(
            _Job(capture_id, snap, tracking_uri(), time.monotonic() + _seconds("ENVKIT_MLFLOW_WAIT", 60))
        )
        return {**snap.tags(), CAPTURE_TAG: capture_id}


# -- the background thread --------------------------------------------------------------------


@dataclass
class _Job:
    capture_id: str
    snapshot: Snapshot
    uri: str
    deadline: float


class _Uploader:
    """One daemon thread: finds each capture's run and logs its artifacts; joined at exit."""

    FIRST_DELAY = 0.02
    MAX_DELAY = 1.0

    def __init__(self) -> None:
        import atexit

        self._jobs: list[_Job] = []
        self._closing = False
        self._delay = self.FIRST_DELAY
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="envkit-mlflow-artifacts", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def submit(self, job: _Job) -> None:
        with self._cond:
            self._jobs.append(job)
            self._delay = self.FIRST_DELAY
            self._cond.notify()

    def close(self) -> None:
        """Finish at exit: one last search per pending capture, then wait for the uploads."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(_seconds("ENVKIT_MLFLOW_EXIT_TIMEOUT", 30))
        if self._thread.is_alive():
            _log.warning("envkit: gave up waiting for the environment artifacts to upload")

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closing:
                    self._cond.wait()
                if not self._jobs:
                    return
                jobs, final = list(self._jobs), self._closing
            for job in jobs:
                if self._attempt(job) or final or time.monotonic() > job.deadline:
                    with self._cond:
                        self._jobs.remove(job)
            with self._cond:
                if self._jobs and not self._closing:
                    self._cond.wait(self._delay)
                    self._delay = min(self._delay * 2, self.MAX_DELAY)

    def _attempt(self, job: _Job) -> bool:
        """True when the job is done with: its run was found (and logged to, or failed)."""
        from ..errors import EnvkitError
        from .mlflow import find_run_by_tag, log_snapshot

        try:
            run_id = find_run_by_tag(CAPTURE_TAG, job.capture_id, uri=job.uri)
        except EnvkitError as exc:
            _log.debug("envkit: searching for the run of capture %s: %s", job.capture_id, exc)
            return False
        if run_id is None:
            return False
        try:
            from .mlflow import _client

            log_snapshot(job.snapshot, run_id, client=_client(job.uri))
        except Exception as exc:  # never let the thread die: say why and move on
            from ..model import mask_secrets

            _log.warning("envkit: could not log the environment of run %s: %s", run_id, mask_secrets(str(exc)))
        return True


_instance: Optional[_Uploader] = None
_instance_lock = threading.Lock()


def _uploader() -> _Uploader:
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = _Uploader()
        return _instance


def _forget_after_fork() -> None:
    """A forked child has none of its parent's threads: it starts its own when it needs one."""
    global _instance, _instance_lock
    _instance = None
    _instance_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
