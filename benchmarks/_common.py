"""Shared helpers for the benchmarks: timing whole processes, isolated from pip config."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this machine's pip/uv configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PIPENV_", "POETRY_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def run_times(
    cmd: Sequence[str], runs: int, cwd: Path | None = None, env: dict[str, str] | None = None, setup=None
) -> list[float]:  # type: ignore[no-untyped-def]
    """Wall-clock seconds of ``runs`` runs of ``cmd`` (``setup()`` before each, untimed)."""
    times = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        proc = subprocess.run(list(cmd), cwd=cwd, env=env or clean_env(), capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr[-2000:]}")
    return times


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def machine() -> str:
    import platform

    return f"{platform.node() or 'machine'}: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"
