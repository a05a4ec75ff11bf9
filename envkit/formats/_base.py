"""What every format module provides, and what writing returns.

A format is a module with ``NAME``, ``FILENAMES``, ``detect``, ``loads`` and ``dumps``
(typed by :class:`Format`). Formats are pure: text in, text out; no network, no
subprocess, no current directory. Anything a format needs from outside (an included file)
comes through an injected :data:`Opener`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional, Protocol

from ..model import Environment, Origin

__all__ = ["Format", "Loss", "Opener", "Rendered"]

#: Reads an included file: given the path or URL as resolved against the including file,
#: returns its bytes, or raises ``OSError`` (or ``EnvkitError`` with its own message).
Opener = Callable[[str], bytes]

LossKind = Literal["lost", "transformed"]


@dataclass(frozen=True)
class Loss:
    """One thing a target could not carry as it was: what, why, and where it came from."""

    kind: LossKind
    subject: str
    reason: str
    origin: Optional[Origin] = None

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        return f"{where}{self.kind}: {self.subject}: {self.reason}"


@dataclass(frozen=True)
class Rendered:
    """A written file: its text, what it could not carry, and companion files it needs.

    ``files`` maps a file name relative to the written file to its text (for example the
    constraints file a requirements file refers to with ``-c``).
    """

    text: str
    losses: tuple[Loss, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)


class Format(Protocol):
    NAME: str
    FILENAMES: tuple[str, ...]

    def detect(self, path: str | None, text: str) -> bool: ...

    def loads(self, text: str, path: str = ..., *, opener: Opener | None = None) -> Environment: ...

    def dumps(self, env: Environment, existing: str | None = None) -> Rendered: ...
