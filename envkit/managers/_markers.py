"""Evaluating lock-file markers for the Python and platform a resolution targets."""

from __future__ import annotations

import platform as _platform
import sys

from packaging.markers import InvalidMarker, Marker

__all__ = ["marker_environment", "matches"]

_PLATFORMS = {
    "linux": ("linux", "Linux", "posix"),
    "macos": ("darwin", "Darwin", "posix"),
    "windows": ("win32", "Windows", "nt"),
}


def marker_environment(python: str | None = None, platform: str | None = None) -> dict[str, str]:
    """PEP 508 marker variables for ``python`` ("3.11") on ``platform`` (linux/macos/windows
    or a target triple); the running interpreter's values for what is not given."""
    env = {
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "python_full_version": _platform.python_version(),
        "sys_platform": sys.platform,
        "platform_system": _platform.system(),
        "os_name": "nt" if sys.platform == "win32" else "posix",
        "platform_machine": _platform.machine(),
        "implementation_name": sys.implementation.name,
        "platform_python_implementation": _platform.python_implementation(),
    }
    if python:
        parts = python.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python if len(parts) >= 3 else f"{python}.0"
    if platform:
        key = next(
            (k for k in _PLATFORMS if k in platform.lower() or (k == "macos" and "darwin" in platform.lower())), None
        )
        if key:
            env["sys_platform"], env["platform_system"], env["os_name"] = _PLATFORMS[key]
        if "aarch64" in platform or "arm64" in platform:
            env["platform_machine"] = "aarch64" if key == "linux" else "arm64"
        elif "x86_64" in platform:
            env["platform_machine"] = "x86_64"
    return env


def matches(marker: str | None, env: dict[str, str], extras: tuple[str, ...] = ("",)) -> bool:
    """True when ``marker`` (or no marker) holds in ``env`` for one of ``extras``."""
    if not marker:
        return True
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return True
    return any(parsed.evaluate({**env, "extra": extra}) for extra in extras)
