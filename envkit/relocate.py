"""Relative paths moved with the file that holds them.

A local path in a declaration is relative to somewhere: in a Pipfile, a pyproject.toml
(poetry, uv), a pylock.toml and an environment.yml's ``pip:`` part (conda runs pip in the
file's folder), to the folder of the file itself. In a requirements file pip reads it
against the folder pip runs in; envkit takes that to be the requirements file's own
folder, where its managers run pip (and where people run ``pip install -r
requirements.txt``). So every format is file-relative here, and when envkit writes a
file into another folder than its source's (``generate --dir``, ``convert -o
elsewhere/``, ``bootstrap --path``, the work folders of ``verify``), each relative path
is rewritten to name the same place from the new folder, and reported as transformed.

The source's paths are relative to the source file's folder, except a relative
find-links folder, which pip looks for beside the requirements file that names it first
(an included file in another folder), then in its working folder.

Only local paths are touched: path requirements, editable folders, ``file:`` URLs without
a host, find-links folders. Other URLs, absolute paths, ``~`` and paths holding a
``${VAR}`` reference stay as written.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import replace
from typing import Any

from .formats import Loss
from .model import VAR_RE, Environment, Source

__all__ = ["relocate", "relocate_pylock", "relocated_path"]

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def relocated_path(path: str, source_dir: str, target_dir: str) -> str:
    """``path`` (relative to ``source_dir``) relative to ``target_dir``, in POSIX form and
    still looking like a path (``./pkg``, not ``pkg``, which pip would read as a name).
    A ``file:`` URL without a host (``file:./pkg#egg=pkg``) has its path moved, its
    fragment kept. Absolute paths, other URLs, ``~`` and ``${VAR}`` references are
    returned as they are."""
    if path[:5].lower() == "file:" and not path[5:].startswith("//"):
        body, hash_, fragment = path[5:].partition("#")
        moved = relocated_path(body, source_dir, target_dir)
        return path if moved == body else f"file:{moved}{hash_}{fragment}"
    if (
        not path
        or VAR_RE.search(path)
        or _SCHEME_RE.match(path)
        or posixpath.isabs(path)
        or os.path.isabs(path)
        or path.startswith(("~", "\\\\"))
        or "#" in path
    ):
        return path
    place = os.path.normpath(os.path.join(os.path.abspath(source_dir), path))
    moved = os.path.relpath(place, os.path.abspath(target_dir)).replace(os.sep, "/")
    if moved == os.path.normpath(path).replace(os.sep, "/"):
        return path  # the same place spelled the same: keep the user's spelling
    if moved == "." or moved.startswith("../") or moved == "..":
        return moved
    return f"./{moved}"


def relocate(env: Environment, source_dir: str, target_dir: str) -> tuple[Environment, tuple[Loss, ...]]:
    """``env`` with its relative paths rewritten relative to ``target_dir``, and a
    ``transformed`` :class:`Loss` for each one rewritten (see the module doc)."""
    losses: list[Loss] = []
    requirements = []
    for dep in env.requirements:
        changes: dict[str, str] = {}
        for key in ("path", "url"):
            value = getattr(dep, key)
            if value is not None:
                moved = relocated_path(value, source_dir, target_dir)
                if moved != value:
                    changes[key] = moved
        if changes:
            where = changes.get("path") or changes["url"]
            losses.append(
                Loss("transformed", str(dep), f"written relative to the new file's folder: {where}", dep.origin)
            )
            dep = dep.with_changes(**changes)
        requirements.append(dep)
    sources = []
    for source in env.sources:
        if source.kind == "find-links":
            moved = relocated_path(source.url, _find_links_base(source, source_dir), target_dir)
            if moved != source.url:
                losses.append(
                    Loss(
                        "transformed",
                        f"--find-links {source.url}",
                        f"written relative to the new file's folder: {moved}",
                        source.origin,
                    )
                )
                source = replace(source, url=moved)
        sources.append(source)
    if not losses:
        return env, ()
    return env.with_changes(requirements=tuple(requirements), sources=tuple(sources)), tuple(losses)


def _find_links_base(source: Source, source_dir: str) -> str:
    """The folder pip reads a relative find-links path against: the naming file's own
    when the path exists there, else ``source_dir``."""
    if source.origin is not None and source.origin.path:
        beside = os.path.dirname(source.origin.path)
        if os.path.exists(os.path.join(beside, source.url)):
            return beside
    return source_dir


def relocate_pylock(text: str, source_dir: str, target_dir: str) -> tuple[str, int]:
    """A ``pylock.toml`` text whose local ``path`` entries (PEP 751: ``directory``,
    ``archive``, ``sdist``, ``wheels``) are relative to ``source_dir``, with them made
    relative to ``target_dir`` (the lock file's folder, as PEP 751 reads them); and how
    many were rewritten. The rest of the text is kept as it is (tomlkit)."""
    if "path" not in text or os.path.abspath(source_dir) == os.path.abspath(target_dir):
        return text, 0
    import tomlkit

    doc = tomlkit.parse(text)
    tables: list[Any] = []
    for package in doc.get("packages", []):
        tables.extend(package[key] for key in ("directory", "archive", "sdist") if key in package)
        tables.extend(package.get("wheels", []))
    moved = 0
    for table in tables:
        path = table.get("path")
        if isinstance(path, str):
            new = relocated_path(path, source_dir, target_dir)
            if new != path:
                table["path"] = new
                moved += 1
    return (tomlkit.dumps(doc), moved) if moved else (text, 0)
