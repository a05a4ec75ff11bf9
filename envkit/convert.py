"""Converting a declaration into another manager's file, with a line-by-line loss report.

:func:`convert` renders an :class:`~envkit.model.Environment` in a target format (merging
into the target's existing text when given) and reports, for every requirement, whether
it was carried, transformed (how) or lost (why), with the line it came from; options,
sources and conda-only packages that a target cannot carry are listed as well.
:func:`write_file` writes the result safely: atomically, never over a differing file
without ``force``, or only as a unified diff with ``dry_run``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Optional

from .errors import EnvkitError
from .formats import Loss, Rendered
from .model import Dependency, Environment, Origin

__all__ = [
    "TARGETS",
    "Conversion",
    "ReportRow",
    "WriteResult",
    "convert",
    "format_for_target",
    "write_file",
]

#: Manager or format name -> format name. The four seed managers come first.
TARGETS: dict[str, str] = {
    "venv": "requirements",
    "conda": "conda",
    "pipenv": "pipfile",
    "poetry": "poetry",
    "uv": "uv",
    "pylock": "pylock",
    # aliases
    "pip": "requirements",
    "requirements": "requirements",
    "pipfile": "pipfile",
}

Status = Literal["carried", "transformed", "lost"]


def format_for_target(target: str) -> str:
    """The format name a ``--to`` value names; :class:`EnvkitError` for an unknown one."""
    try:
        return TARGETS[target]
    except KeyError:
        known = ", ".join(t for t in TARGETS if t not in ("pip", "requirements", "pipfile"))
        raise EnvkitError(f"unknown target {target!r} (choose from {known})") from None


@dataclass(frozen=True)
class ReportRow:
    """One line of a conversion report."""

    status: Status
    subject: str
    reason: str
    origin: Origin | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "subject": self.subject,
            "reason": self.reason,
            "origin": {"path": self.origin.path, "line": self.origin.line} if self.origin else None,
        }


@dataclass(frozen=True)
class Conversion:
    """The rendered target and the report of what it carried."""

    target: str
    format: str
    rendered: Rendered
    rows: tuple[ReportRow, ...]
    #: What was rendered: the source, its relative paths moved to the target's folder
    #: (:mod:`envkit.relocate`); compare what is read back with this.
    source: Optional[Environment] = None

    @property
    def losses(self) -> tuple[Loss, ...]:
        return self.rendered.losses

    @property
    def lost(self) -> tuple[ReportRow, ...]:
        return tuple(r for r in self.rows if r.status == "lost")

    @property
    def transformed(self) -> tuple[ReportRow, ...]:
        return tuple(r for r in self.rows if r.status == "transformed")

    def counts(self) -> dict[str, int]:
        result = {"carried": 0, "transformed": 0, "lost": 0}
        for row in self.rows:
            result[row.status] += 1
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "format": self.format,
            "counts": self.counts(),
            "rows": [r.to_dict() for r in self.rows],
            "files": sorted(self.rendered.files),
        }


def _loss_matches(loss: Loss, dep: Dependency) -> bool:
    if loss.origin is not None and dep.origin is not None:
        return (loss.origin.path, loss.origin.line) == (dep.origin.path, dep.origin.line)
    return loss.subject == str(dep)


def report(env: Environment, losses: tuple[Loss, ...]) -> tuple[ReportRow, ...]:
    """Rows for every requirement (carried unless a loss names it), then the other losses."""
    rows: list[ReportRow] = []
    used: set[int] = set()
    for dep in env.requirements:
        mine = [(i, loss) for i, loss in enumerate(losses) if i not in used and _loss_matches(loss, dep)]
        if not mine:
            rows.append(ReportRow("carried", str(dep), "", dep.origin))
            continue
        for i, _ in mine:
            used.add(i)
        worst: Status = "lost" if any(loss.kind == "lost" for _, loss in mine) else "transformed"
        rows.append(ReportRow(worst, str(dep), "; ".join(loss.reason for _, loss in mine), dep.origin))
    for i, loss in enumerate(losses):
        if i not in used:
            rows.append(ReportRow(loss.kind, loss.subject, loss.reason, loss.origin))
    return tuple(rows)


def convert(
    env: Environment,
    target: str,
    *,
    existing: str | None = None,
    options: Mapping[str, Any] | None = None,
    source_dir: str | os.PathLike[str] | None = None,
    target_dir: str | os.PathLike[str] | None = None,
) -> Conversion:
    """Render ``env`` for ``target`` (a manager or format name) and report what it carried.

    ``existing`` is the target file's current text, merged into rather than replaced.
    ``options`` are the target format's own keyword arguments (``mode`` for conda,
    ``style`` for poetry); unknown ones are an error. With ``source_dir`` (the folder the
    source's relative paths are relative to) and ``target_dir`` (the written file's),
    relative paths are rewritten to name the same places from the written file's folder
    (:func:`envkit.relocate.relocate`), each reported as transformed.
    """
    from . import formats
    from .relocate import relocate

    name = format_for_target(target)
    if name not in formats.WRITABLE:
        raise EnvkitError(f"{name} files are written by their own tool; envkit reads them but does not write them")
    module = formats.get(name)
    rendered_env: Environment = env
    moved: tuple[Loss, ...] = ()
    if source_dir is not None and target_dir is not None:
        rendered_env, moved = relocate(env, os.fspath(source_dir), os.fspath(target_dir))
    try:
        rendered = module.dumps(rendered_env, existing, **dict(options or {}))
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise EnvkitError(f"the {name} format takes no option {exc}") from None
        raise
    if moved:
        renamed = {
            f"--find-links {after.url}": f"--find-links {before.url}"
            for before, after in zip(env.sources, rendered_env.sources)
            if after.url != before.url
        }
        rendered = replace(rendered, losses=_with_moves(moved, rendered.losses, renamed))
    return Conversion(target, name, rendered, report(env, rendered.losses), rendered_env)


def _with_moves(moved: tuple[Loss, ...], losses: tuple[Loss, ...], renamed: Mapping[str, str]) -> tuple[Loss, ...]:
    """The path moves and the target's losses, one row each thing: the target's rows about
    a moved find-links folder name it as the user wrote it (``renamed``: new -> old
    subject) and take the move's reason, or drop it when they report it lost; a move of a
    requirement the target lost is left out (the rest join in :func:`report`)."""
    others = [replace(loss, subject=renamed.get(loss.subject, loss.subject)) for loss in losses]
    lost_at = {(loss.origin.path, loss.origin.line) for loss in others if loss.kind == "lost" and loss.origin}
    kept: list[Loss] = []
    for move in moved:
        if move.subject.startswith("--"):
            same = next((i for i, loss in enumerate(others) if loss.subject == move.subject), None)
            if same is None:
                kept.append(move)
            elif others[same].kind == "transformed":
                others[same] = replace(others[same], reason=f"{move.reason}; {others[same].reason}")
        elif move.origin is None or (move.origin.path, move.origin.line) not in lost_at:
            kept.append(move)
    return (*kept, *others)


@dataclass(frozen=True)
class WriteResult:
    """What :func:`write_file` did to one file."""

    path: Path
    action: Literal["created", "updated", "unchanged", "would-create", "would-update", "refused"]
    diff: str = ""
    notes: tuple[str, ...] = field(default=())


def unified_diff(path: Path, old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{path} (current)",
            tofile=f"{path} (envkit)",
        )
    )


def write_file(path: Path, text: str, *, force: bool = False, dry_run: bool = False) -> WriteResult:
    """Write ``text`` to ``path`` atomically.

    An existing file whose text differs is left alone unless ``force`` (the result says
    ``refused`` and carries the diff). ``dry_run`` writes nothing and returns the diff.
    """
    from ._io import atomic_write

    current: str | None = None
    if path.exists():
        if path.is_dir():
            raise EnvkitError(f"{path}: is a folder; cannot write a file there")
        current = path.read_text(encoding="utf-8")
        if current == text:
            return WriteResult(path, "unchanged")
    diff = unified_diff(path, current or "", text)
    if dry_run:
        return WriteResult(path, "would-create" if current is None else "would-update", diff)
    if current is not None and not force:
        return WriteResult(path, "refused", diff)
    atomic_write(path, text)
    return WriteResult(path, "created" if current is None else "updated", diff)
