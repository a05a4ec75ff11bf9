"""Experiment tracking: the resolved environment of every tracked run.

- :mod:`envkit.tracking.mlflow` (exposed as ``envkit.mlflow``): ``log_environment``,
  ``snapshot_from_run`` (``runs:/<id>`` references), ``restore`` and ``run_command``. It is
  the only module of envkit that imports mlflow, and only inside its functions.
- :mod:`envkit.tracking.plugin`: the ``mlflow.run_context_provider`` entry point that tags
  every ``mlflow.start_run()`` with the environment's fingerprint and then logs the full
  snapshot as the run's ``environment/`` artifacts.

Importing this package costs nothing: it imports neither mlflow nor the snapshot code.
"""

from __future__ import annotations

__all__: list[str] = []
