"""Environment managers: one small class per tool, each able to say whether it can run
here (and if not, why and how to get it), ``create`` an environment from its file,
``resolve`` its file into pinned packages, and ``inspect`` an environment.

All subprocess work of envkit lives in this package. Managers are looked up by name in
:data:`MANAGERS`; modules are imported on first use.
"""

from __future__ import annotations

import importlib

from ..errors import EnvkitError
from .base import Created, Manager, Pin, Progress, Resolution

__all__ = ["MANAGERS", "Created", "Manager", "Pin", "Progress", "Resolution", "get"]

#: manager name -> "module:Class"
MANAGERS: dict[str, str] = {
    "venv": "envkit.managers.venv:VenvManager",
    "uv": "envkit.managers.uv:UvManager",
    "pipenv": "envkit.managers.pipenv:PipenvManager",
    "poetry": "envkit.managers.poetry:PoetryManager",
    "conda": "envkit.managers.conda:CondaManager",
}


def get(name: str) -> type[Manager]:
    """The manager class called ``name``; an :class:`EnvkitError` names the known ones."""
    try:
        module, cls = MANAGERS[name].split(":")
    except KeyError:
        raise EnvkitError(f"unknown manager {name!r} (choose from {', '.join(MANAGERS)})") from None
    manager: type[Manager] = getattr(importlib.import_module(module), cls)
    return manager
