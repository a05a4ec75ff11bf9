"""poetry: ``poetry lock`` / ``poetry install`` with the environment inside the project."""

from __future__ import annotations

import time
from pathlib import Path

from packaging.utils import canonicalize_name

from ._markers import marker_environment, matches
from .base import Created, Manager, Pin, Resolution, run_tool, tool_path

__all__ = ["PoetryManager", "parse_poetry_lock"]

ENV: dict[str, str | None] = {
    # an activated virtual environment would otherwise receive the packages
    "VIRTUAL_ENV": None,
    "POETRY_VIRTUALENVS_IN_PROJECT": "true",
    "POETRY_NO_INTERACTION": "1",
    "POETRY_VIRTUALENVS_PREFER_ACTIVE_PYTHON": "false",
}


def parse_poetry_lock(text: str, python: str | None = None, platform: str | None = None) -> dict[str, Pin]:
    from ..formats._toml import loads_toml

    data = loads_toml(text, "poetry.lock")
    env = marker_environment(python, platform)
    pins: dict[str, Pin] = {}
    for package in data.get("package", []):
        markers = package.get("markers")
        if isinstance(markers, dict):  # poetry 2: per group
            if not any(matches(m, env) for m in markers.values()):
                continue
        elif isinstance(markers, str) and not matches(markers, env):
            continue
        name = canonicalize_name(package["name"])
        source = package.get("source", {})
        url = source.get("url") if source.get("type") in ("git", "url", "file", "directory") else None
        hashes = tuple(f.get("hash", "") for f in package.get("files", []))
        pins[name] = Pin(name, str(package.get("version", "")), url, hashes)
    return pins


class PoetryManager(Manager):
    name = "poetry"
    format = "poetry"
    filename = "pyproject.toml"

    @classmethod
    def unavailable(cls) -> str | None:
        return None if tool_path("poetry") else "poetry is not on PATH: `pipx install poetry` or `pip install poetry`"

    def _poetry(self) -> str:
        self.require()
        return tool_path("poetry") or "poetry"

    def _use_python(self, project: Path, python: str | None) -> None:
        import sys

        run_tool(
            [self._poetry(), "env", "use", python or sys.executable],
            cwd=project,
            env=ENV,
            progress=self.progress,
            what="poetry env use",
        )

    def create(self, project: Path, *, python: str | None = None) -> Created:
        self._use_python(project, python)
        run_tool(
            [self._poetry(), "install", "--no-root", "--all-groups"],
            cwd=project,
            env=ENV,
            progress=self.progress,
            what="poetry install: installing into .venv",
        )
        venv = project / ".venv"
        return Created(
            self.name, venv, venv / "bin" / "python", f"source {venv / 'bin' / 'activate'}   (or: poetry run ...)"
        )

    def resolve(self, project: Path, *, python: str | None = None, platform: str | None = None) -> Resolution:
        start = time.perf_counter()
        run_tool([self._poetry(), "lock"], cwd=project, env=ENV, progress=self.progress, what="poetry lock")
        lock = project / "poetry.lock"
        pins = parse_poetry_lock(lock.read_text(encoding="utf-8"), python, platform)
        return Resolution(self.name, pins, python, platform, time.perf_counter() - start, lock)
