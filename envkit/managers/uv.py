"""uv: ``uv lock`` / ``uv sync`` for a uv project (a pyproject.toml)."""

from __future__ import annotations

import time
from pathlib import Path

from packaging.utils import canonicalize_name

from ._markers import marker_environment, matches
from .base import Created, Manager, Pin, Resolution, run_tool, tool_path

__all__ = ["UvManager", "parse_uv_lock"]


def parse_uv_lock(
    text: str, python: str | None = None, platform: str | None = None, project: str | None = None
) -> dict[str, Pin]:
    """Pins from ``uv.lock`` for one Python and platform (the project itself left out).

    uv locks universally: a package may appear in several versions for different
    markers; the one whose ``resolution-markers`` hold for the target wins.
    """
    from ..formats._toml import loads_toml

    data = loads_toml(text, "uv.lock")
    env = marker_environment(python, platform)
    pins: dict[str, Pin] = {}
    for package in data.get("package", []):
        source = package.get("source", {})
        if "virtual" in source or ("editable" in source and source["editable"] == "."):
            continue
        name = canonicalize_name(package["name"])
        if project and name == canonicalize_name(project):
            continue
        markers = package.get("resolution-markers")
        if markers and not any(matches(m, env) for m in markers):
            continue
        url = source.get("git") or source.get("url") or source.get("path") or source.get("directory")
        hashes = tuple(w["hash"] for w in package.get("wheels", []) if "hash" in w)
        pins[name] = Pin(name, str(package.get("version", "")), url, hashes)
    return pins


class UvManager(Manager):
    name = "uv"
    format = "uv"
    filename = "pyproject.toml"

    @classmethod
    def unavailable(cls) -> str | None:
        return None if tool_path("uv") else "uv is not on PATH: `pip install uv` (or see https://docs.astral.sh/uv/)"

    def _uv(self) -> str:
        self.require()
        return tool_path("uv") or "uv"

    def create(self, project: Path, *, python: str | None = None) -> Created:
        cmd = [self._uv(), "sync", "--all-groups"]
        if python:
            cmd += ["--python", python]
        run_tool(
            cmd,
            cwd=project,
            progress=self.progress,
            what="uv sync: creating .venv and installing",
            env={"UV_PROJECT_ENVIRONMENT": ".venv"},
        )
        venv = project / ".venv"
        return Created(
            self.name, venv, venv / "bin" / "python", f"source {venv / 'bin' / 'activate'}   (or: uv run ...)"
        )

    def resolve(self, project: Path, *, python: str | None = None, platform: str | None = None) -> Resolution:
        start = time.perf_counter()
        cmd = [self._uv(), "lock"]
        if python:
            cmd += ["--python", python]
        run_tool(cmd, cwd=project, progress=self.progress, what="uv lock")
        lock = project / "uv.lock"
        from ..formats._toml import loads_toml

        name = (
            loads_toml((project / self.filename).read_text(encoding="utf-8"), self.filename)
            .get("project", {})
            .get("name")
        )
        pins = parse_uv_lock(lock.read_text(encoding="utf-8"), python, platform, name)
        return Resolution(self.name, pins, python, platform, time.perf_counter() - start, lock)
