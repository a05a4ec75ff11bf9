"""envkit: turn one Python environment declaration into every other one, and prove it.

The library API. Every function raises :class:`EnvkitError` (and nothing else) for bad
input; the CLI is a thin layer over these functions.

>>> import envkit
>>> env = envkit.load("requirements.txt")          # doctest: +SKIP
>>> [d.name for d in env.dependencies]               # doctest: +SKIP
"""

from __future__ import annotations

import os

from .__about__ import __version__

TYPE_CHECKING = False  # not typing's: ``envkit snapshot --json`` starts without importing typing
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .errors import EnvkitError, ParseError
    from .model import Dependency, Diagnostic, Environment, Origin, PipOptions, Source

#: Names imported on first use (PEP 562), so that ``import envkit`` stays cheap.
_LAZY = {
    "EnvkitError": "envkit.errors",
    "ParseError": "envkit.errors",
    "Dependency": "envkit.model",
    "Diagnostic": "envkit.model",
    "Environment": "envkit.model",
    "Origin": "envkit.model",
    "PipOptions": "envkit.model",
    "Source": "envkit.model",
}


def __getattr__(name: str) -> Any:
    if name == "mlflow":  # envkit.mlflow.log_environment(): the tracking module itself
        import importlib

        return importlib.import_module("envkit.tracking.mlflow")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'envkit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Dependency",
    "Diagnostic",
    "Environment",
    "EnvkitError",
    "Origin",
    "ParseError",
    "PipOptions",
    "Source",
    "__version__",
    "detect_format",
    "dumps",
    "load",
    "loads",
    "to_dict",
]


def detect_format(path: str, text: str) -> str:
    """The format of the file ``path`` holding ``text``, judged on positive evidence only.

    Raises :class:`EnvkitError` when no format claims the file, or more than one does.
    """
    from . import formats
    from .errors import EnvkitError

    present = set(formats.available())
    claims = [name for name in formats.candidates(path) if name in present and formats.get(name).detect(path, text)]
    if len(claims) == 1:
        return claims[0]
    if not claims:
        known = ", ".join(sorted(formats.REGISTRY))
        raise EnvkitError(f"{path}: cannot tell the format of this file; name it with --from ({known})")
    raise EnvkitError(f"{path}: this file could be {' or '.join(claims)}; choose one with --from")


def load(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Environment:
    """Read the declaration at ``path`` (format detected unless given) with its includes."""
    from . import formats
    from ._io import local_opener, read_bytes

    name = os.fspath(path)
    data = read_bytes(name)
    if format is None:
        format = detect_format(name, data[:4096].decode("utf-8", "replace"))
    if format == "requirements":
        from .formats import requirements

        return requirements.loads_bytes(data, name, opener=local_opener, environ=environ, folder_exists=_folder_exists)
    from .formats._lines import decode

    return formats.get(format).loads(decode(data, name), name, opener=local_opener)


def _folder_exists(path: str) -> bool:
    """pip decides whether a bare word (``-e acme``) is a project folder by looking in the
    current directory; so does :func:`load`. A path that looks like one (``./pkg``) is taken
    as the user wrote it, existing or not: the reader never refuses a path for being absent."""
    if "/" in path or "\\" in path or path.startswith("."):
        return True
    return os.path.isdir(path)


def loads(text: str, format: str = "requirements", path: str | None = None) -> Environment:
    """Read declaration ``text`` in ``format``; includes are not followed."""
    from . import formats

    fmt = formats.get(format)
    return fmt.loads(text, path or fmt.FILENAMES[0])


def dumps(env: Environment, format: str = "requirements", existing: str | None = None) -> Any:
    """Write ``env`` in ``format``; returns a :class:`~envkit.formats.Rendered`."""
    from . import formats

    return formats.get(format).dumps(env, existing)


def to_dict(env: Environment, *, show_secrets: bool = False) -> dict[str, Any]:
    """The stable JSON form of ``env`` (see ``envkit show --json`` in the README)."""
    from .schema import environment_to_dict

    return environment_to_dict(env, show_secrets=show_secrets)
