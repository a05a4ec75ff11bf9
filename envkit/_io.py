"""Reading and writing the user's files: the only file I/O of the library layer.

Reads go through :func:`read_bytes` (clear errors, no tracebacks); includes are followed
by :func:`local_opener`, which reads local paths and ``file:`` URLs and refuses to fetch
anything remote. Writes are atomic (a temporary file in the same folder, then a rename).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import EnvkitError
from .model import redact_url

__all__ = ["atomic_write", "local_opener", "read_bytes"]

#: Files larger than this are refused before reading (a declaration is never this big).
MAX_BYTES = 64 * 1024 * 1024


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path``, or an :class:`EnvkitError` that says why not."""
    try:
        p = Path(path)
        if p.is_dir():
            raise EnvkitError(f"{path}: is a folder, not a file")
        if p.stat().st_size > MAX_BYTES:
            raise EnvkitError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; not a declaration file")
        return p.read_bytes()
    except FileNotFoundError:
        raise EnvkitError(f"{path}: no such file") from None
    except OSError as exc:
        raise EnvkitError(f"{path}: cannot read: {exc.strerror or exc}") from None


def local_opener(target: str) -> bytes:
    """Open an included file: local paths and ``file:`` URLs only.

    Remote includes are refused rather than fetched: a declaration that changes under you
    is not reproducible. Raise :class:`EnvkitError`, which the reader attaches to the line.
    """
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https", "ftp"):
        raise EnvkitError(
            f"envkit does not fetch remote includes ({redact_url(target)}); download it and include the local copy"
        )
    if scheme == "file":
        target = unquote(parts.path)
    try:
        if Path(target).stat().st_size > MAX_BYTES:
            raise EnvkitError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return Path(target).read_bytes()
    except IsADirectoryError:
        raise EnvkitError("it is a folder, not a file") from None
    except FileNotFoundError:
        raise EnvkitError("no such file") from None


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:  # what open() would have given: 0666 less the umask
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
