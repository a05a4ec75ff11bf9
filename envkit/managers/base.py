"""The manager interface and the results managers return."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from ..errors import EnvkitError
from ..model import redact_url

__all__ = ["Created", "Manager", "ManagerError", "Pin", "Progress", "Resolution", "run_tool", "tool_path"]

#: Receives one line of progress ("resolving with uv...").
Progress = Callable[[str], None]


def _silent(message: str) -> None:
    del message


class ManagerError(EnvkitError):
    """A tool failed: which command, and the end of what it said (secrets redacted)."""


@dataclass(frozen=True)
class Pin:
    """One resolved package: normalized name and exact version, with provenance."""

    name: str
    version: str
    url: str | None = None
    hashes: tuple[str, ...] = ()
    marker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "url": self.url, "hashes": list(self.hashes)}


@dataclass(frozen=True)
class Resolution:
    """What a manager's resolver pinned for a file, for one Python and platform."""

    manager: str
    pins: Mapping[str, Pin]
    python: str | None = None
    platform: str | None = None
    seconds: float = 0.0
    lock_file: Path | None = None

    def versions(self) -> dict[str, str]:
        return {name: pin.version for name, pin in sorted(self.pins.items())}

    def to_dict(self) -> dict[str, Any]:
        return {
            "manager": self.manager,
            "python": self.python,
            "platform": self.platform,
            "seconds": round(self.seconds, 3),
            "pins": self.versions(),
        }


@dataclass(frozen=True)
class Created:
    """An environment a manager built: where, its interpreter, how to activate it."""

    manager: str
    path: Path
    python: Path
    activate: str
    notes: tuple[str, ...] = field(default=())


def tool_path(name: str) -> str | None:
    """``name`` on PATH, or beside the running interpreter (a venv's bin/)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def _tail(text: str, lines: int = 25) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(" ".join(redact_url(w) if "://" in w else w for w in line.split(" ")) for line in kept)


def run_tool(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    progress: Progress = _silent,
    what: str = "",
    timeout: float = 1800,
) -> subprocess.CompletedProcess[str]:
    """Run a tool; on failure raise :class:`ManagerError` with the end of its output.

    ``env`` adds variables to this process's environment; a ``None`` value removes one.
    """
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    if what:
        progress(what)
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ManagerError(f"{cmd[0]}: not found") from None
    except subprocess.TimeoutExpired:
        raise ManagerError(f"{Path(cmd[0]).name} did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        shown = " ".join(Path(cmd[0]).name if i == 0 else redact_url(c) for i, c in enumerate(cmd))
        output = _tail(proc.stderr + "\n" + proc.stdout)
        raise ManagerError(f"`{shown}` failed (exit {proc.returncode}):\n{output}")
    return proc


class Manager(ABC):
    """One environment manager. Subclasses set ``name``, ``format`` and ``filename``."""

    name: ClassVar[str]
    #: The envkit format of the file this manager works from.
    format: ClassVar[str]
    #: That file's name inside a project folder.
    filename: ClassVar[str]

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress: Progress = progress or _silent

    @classmethod
    @abstractmethod
    def unavailable(cls) -> str | None:
        """``None`` when the tool can run here, else why not and how to install it."""

    def require(self) -> None:
        reason = self.unavailable()
        if reason:
            raise EnvkitError(f"{self.name} is not available: {reason}")

    @abstractmethod
    def create(self, project: Path, *, python: str | None = None) -> Created:
        """Build the environment of the project folder ``project`` (which holds ``filename``)."""

    @abstractmethod
    def resolve(self, project: Path, *, python: str | None = None, platform: str | None = None) -> Resolution:
        """Resolve the project's file into pins with the tool's own resolver."""

    def inspect(self, created: Created) -> Any:
        """A snapshot of what is installed in ``created`` (see :mod:`envkit.snapshot`)."""
        from ..snapshot import snapshot

        return snapshot(python=str(created.python))
