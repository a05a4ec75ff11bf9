"""venv/pip: a virtual environment made with virtualenv, installed with uv or pip."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..errors import EnvkitError
from .base import Created, Manager, ManagerError, Pin, Progress, Resolution, run_tool, tool_path

__all__ = ["VenvManager", "parse_pip_report", "parse_pylock_pins", "pip_platform", "resolve_command"]


def _bin(venv: Path, name: str) -> Path:
    return (
        venv / ("Scripts" if sys.platform == "win32" else "bin") / (name + (".exe" if sys.platform == "win32" else ""))
    )


def parse_pylock_pins(text: str) -> dict[str, Pin]:
    """Pins from a PEP 751 lock (as ``uv pip compile --format pylock.toml`` writes it)."""
    from ..formats._toml import loads_toml

    data = loads_toml(text, "pylock.toml")
    pins: dict[str, Pin] = {}
    for package in data.get("packages", []):
        url = None
        hashes: list[str] = []
        for wheel in package.get("wheels", []):
            url = url or wheel.get("url")
            hashes += [f"{a}:{d}" for a, d in wheel.get("hashes", {}).items()]
        for key in ("sdist", "archive"):
            if key in package:
                url = url or package[key].get("url")
                hashes += [f"{a}:{d}" for a, d in package[key].get("hashes", {}).items()]
        if "vcs" in package:
            vcs = package["vcs"]
            url = f"{vcs.get('type', 'git')}+{vcs.get('url')}@{vcs.get('commit-id')}"
        if "directory" in package:
            url = package["directory"].get("path")
        from packaging.utils import canonicalize_name

        name = canonicalize_name(package["name"])
        pins[name] = Pin(name, str(package.get("version", "")), url, tuple(hashes), package.get("marker"))
    return pins


def parse_pip_report(text: str) -> dict[str, Pin]:
    """Pins from ``pip install --dry-run --report -`` JSON."""
    from packaging.utils import canonicalize_name

    report = json.loads(text)
    pins: dict[str, Pin] = {}
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        name = canonicalize_name(meta.get("name", ""))
        info = item.get("download_info", {})
        hashes = tuple(f"{a}:{d}" for a, d in info.get("archive_info", {}).get("hashes", {}).items())
        pins[name] = Pin(name, meta.get("version", ""), info.get("url"), hashes)
    return pins


def pip_platform(platform: str) -> str:
    """pip's ``--platform`` wants a wheel platform tag: one for linux, macos or windows."""
    import platform as host

    machine = "aarch64" if "aarch64" in platform or "arm64" in platform else host.machine() or "x86_64"
    if "linux" in platform:
        return f"manylinux2014_{machine}"
    if "mac" in platform or "darwin" in platform:
        return f"macosx_11_0_{'arm64' if machine == 'aarch64' else 'x86_64'}"
    if "win" in platform:
        return "win_amd64"
    return platform


def active_python() -> str:
    """The interpreter of the active virtual environment (``VIRTUAL_ENV``), else this one."""
    import os

    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        candidate = Path(venv) / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
        if candidate.exists():
            return str(candidate)
    return sys.executable


def resolve_command(installer: str, requirements: Path, python: str | None, platform: str | None) -> list[str]:
    """The resolver's command line: ``uv pip compile`` printing a PEP 751 lock, or pip's
    ``install --dry-run --report -`` (binary wheels only when resolving for another target).

    Without ``python``, uv resolves for the active virtual environment's interpreter
    (``VIRTUAL_ENV``: what uv's own discovery tries first), else for the one running
    envkit, and is told so (``--python``) rather than left to search PATH (a tenth of a
    second through pyenv's shims); pip resolves for the interpreter running envkit, whose
    pip it is."""
    if installer == "uv":
        cmd = [
            tool_path("uv") or "uv",
            "pip",
            "compile",
            str(requirements),
            "--format",
            "pylock.toml",
            "--quiet",
            "--no-header",
        ]
        cmd += ["--python-version", python] if python else ["--python", active_python()]
        if platform:
            cmd += ["--python-platform", platform]
        return cmd
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--report",
        "-",
        "-r",
        str(requirements),
    ]
    if python or platform:
        cmd += ["--only-binary", ":all:"]
    if python:
        cmd += ["--python-version", python]
    if platform:
        cmd += ["--platform", pip_platform(platform)]
    return cmd


class VenvManager(Manager):
    """A plain virtual environment from ``requirements.txt``.

    Created with virtualenv's public API; packages installed with uv when it is available
    (much faster), else with the environment's own pip. ``installer`` chooses.
    """

    name = "venv"
    format = "requirements"
    filename = "requirements.txt"

    def __init__(self, progress: Progress | None = None, installer: str | None = None) -> None:
        super().__init__(progress)
        if installer not in (None, "uv", "pip"):
            raise EnvkitError(f"unknown installer {installer!r} (choose uv or pip)")
        self.installer = installer or ("uv" if tool_path("uv") else "pip")
        if self.installer == "uv" and not tool_path("uv"):
            raise EnvkitError("uv is not available: install it with `pip install uv`, or use --installer pip")

    @classmethod
    def unavailable(cls) -> str | None:
        try:
            import virtualenv  # noqa: F401
        except ImportError:
            return "virtualenv is missing: `pip install virtualenv`"
        return None

    def create(self, project: Path, *, python: str | None = None) -> Created:
        from virtualenv import cli_run

        venv = project / ".venv"
        self.progress(f"creating {venv} with virtualenv")
        args = [str(venv), "--quiet", "--no-periodic-update"]
        if python:
            args += ["--python", python]
        else:
            args += ["--python", sys.executable]
        try:
            cli_run(args, setup_logging=False)
        except (RuntimeError, SystemExit, OSError) as exc:
            raise ManagerError(f"virtualenv could not create {venv}: {exc}") from None
        interpreter = _bin(venv, "python")
        requirements = project / self.filename
        if self.installer == "uv":
            cmd = [tool_path("uv") or "uv", "pip", "install", "--python", str(interpreter), "-r", str(requirements)]
        else:
            cmd = [str(interpreter), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)]
        run_tool(cmd, cwd=project, progress=self.progress, what=f"installing {requirements.name} with {self.installer}")
        activate = f"source {venv / 'bin' / 'activate'}" if sys.platform != "win32" else f"{venv}\\Scripts\\activate"
        return Created(self.name, venv, interpreter, activate)

    def resolve(self, project: Path, *, python: str | None = None, platform: str | None = None) -> Resolution:
        requirements = project / self.filename
        start = time.perf_counter()
        cmd = resolve_command(self.installer, requirements, python, platform)
        what = "resolving with uv pip compile" if self.installer == "uv" else "resolving with pip's resolver"
        proc = run_tool(cmd, cwd=project, progress=self.progress, what=what)
        pins = parse_pylock_pins(proc.stdout) if self.installer == "uv" else parse_pip_report(proc.stdout)
        return Resolution(self.name, pins, python, platform, time.perf_counter() - start)
