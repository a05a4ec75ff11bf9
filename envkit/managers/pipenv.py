"""pipenv: ``pipenv lock`` / ``pipenv install`` with the environment inside the project."""

from __future__ import annotations

import json
import time
from pathlib import Path

from packaging.utils import canonicalize_name

from ._markers import marker_environment, matches
from .base import Created, Manager, Pin, Resolution, run_tool, tool_path

__all__ = ["PipenvManager", "parse_pipfile_lock"]

#: Keep pipenv in the project, quiet, and away from any outer virtual environment.
ENV: dict[str, str | None] = {
    "VIRTUAL_ENV": None,
    "PIPENV_VENV_IN_PROJECT": "1",
    "PIPENV_YES": "1",
    "PIPENV_NOSPIN": "1",
    "PIPENV_IGNORE_VIRTUALENVS": "1",
    "PIPENV_VERBOSITY": "-1",
    "PIPENV_HIDE_EMOJIS": "1",
}


def parse_pipfile_lock(text: str, python: str | None = None, platform: str | None = None) -> dict[str, Pin]:
    data = json.loads(text)
    env = marker_environment(python, platform)
    pins: dict[str, Pin] = {}
    for section, packages in data.items():
        if section.startswith("_"):
            continue
        for raw_name, info in packages.items():
            if not matches(info.get("markers"), env):
                continue
            name = canonicalize_name(raw_name)
            version = str(info.get("version", "")).lstrip("=")
            url = info.get("git") or info.get("file") or info.get("path")
            pins[name] = Pin(name, version, url, tuple(info.get("hashes", ())), info.get("markers"))
    return pins


class PipenvManager(Manager):
    name = "pipenv"
    format = "pipfile"
    filename = "Pipfile"

    @classmethod
    def unavailable(cls) -> str | None:
        return None if tool_path("pipenv") else "pipenv is not on PATH: `pip install pipenv`"

    def _pipenv(self) -> str:
        self.require()
        return tool_path("pipenv") or "pipenv"

    def _python_args(self, python: str | None) -> list[str]:
        import sys

        return ["--python", python or sys.executable]

    def create(self, project: Path, *, python: str | None = None) -> Created:
        run_tool(
            [self._pipenv(), "install", "--dev", *self._python_args(python)],
            cwd=project,
            env=ENV,
            progress=self.progress,
            what="pipenv install: creating .venv and installing",
        )
        venv = project / ".venv"
        return Created(self.name, venv, venv / "bin" / "python", "pipenv shell   (or: pipenv run ...)")

    def resolve(self, project: Path, *, python: str | None = None, platform: str | None = None) -> Resolution:
        start = time.perf_counter()
        run_tool(
            [self._pipenv(), "lock", *self._python_args(None)],
            cwd=project,
            env=ENV,
            progress=self.progress,
            what="pipenv lock",
        )
        lock = project / "Pipfile.lock"
        pins = parse_pipfile_lock(lock.read_text(encoding="utf-8"), python, platform)
        return Resolution(self.name, pins, python, platform, time.perf_counter() - start, lock)
