"""Pipenv's ``Pipfile.lock``: read only.

Grammar (JSON), as ``pipenv lock`` writes it (pipfile-spec 6)::

    {
      "_meta": {"hash": {...}, "pipfile-spec": 6,
                "requires": {"python_version": "3.11"},          -> python ==3.11.*
                "sources": [{"name", "url", "verify_ssl"}, ...]}, -> sources
      "default": {NAME: ENTRY, ...},                              -> group None
      "develop": {NAME: ENTRY, ...},                              -> group "dev"
      CATEGORY:  {NAME: ENTRY, ...}                               -> group CATEGORY
    }
    ENTRY := {"version": "==1.0", "hashes": ["sha256:..."], "markers": "...",
              "index": "pypi", "extras": [...], "git"/"ref"/"subdirectory",
              "path"/"file", "editable": true, ...}

Entries read as Pipfile entries do (:mod:`.pipfile`): sources, markers, VCS URLs,
paths and the ``index`` names follow the same rules, so a lock and its Pipfile read into
comparable models. The lock pins every package (the Pipfile's and their dependencies),
each with the hashes pipenv checks at install. Unknown entry keys are tolerated (pipenv
adds some over time); an ``index`` naming no source is a warning, not an error.

Writing is not offered: a lock is made by resolving (``pipenv lock``), and its
``_meta.hash`` must be the hash of the Pipfile it was locked from.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Optional

from ..errors import EnvkitError, ParseError
from ..model import Dependency, Environment
from ._base import Opener, Rendered
from .pipfile import Context, KeyPath, Spot, Spots, category_group

__all__ = ["FILENAMES", "NAME", "detect", "dumps", "loads"]

NAME = "pipfile-lock"
FILENAMES = ("Pipfile.lock",)

_SPEC_KEY = re.compile(r'"pipfile-spec"\s*:')


def detect(path: str | None, text: str) -> bool:
    """True for a file named ``Pipfile.lock`` (or ``*_Pipfile.lock``), or JSON whose
    ``_meta`` has a ``pipfile-spec`` key (only pipenv writes one)."""
    if path is not None:
        base = posixpath.basename(path.replace("\\", "/"))
        if base == "Pipfile.lock" or base.endswith(("_Pipfile.lock", ".Pipfile.lock", "-Pipfile.lock")):
            return True
    head = text.lstrip()[:4096]
    return head.startswith("{") and '"_meta"' in head and _SPEC_KEY.search(head) is not None


def loads(text: str, path: str = "Pipfile.lock", *, opener: Opener | None = None) -> Environment:
    """Read Pipfile.lock ``text`` (its name ``path``) into an :class:`Environment`.

    Invalid JSON, or a part of the wrong shape, raises :class:`ParseError`.
    """
    del opener
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        shown = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        raise ParseError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno, column=exc.colno, text=shown) from None
    ctx = Context(path, JsonSpots(text), strict=False)
    if not isinstance(data, dict):
        ctx.fail("expected a JSON object with _meta, default and develop", ())
    meta = data.get("_meta", {})
    if not isinstance(meta, dict):
        ctx.fail("_meta must be an object", ("_meta",))
    ctx.read_sources(meta.get("sources", []), ("_meta", "sources"))
    python = ctx.read_requires(meta.get("requires", {}), ("_meta", "requires"))
    requirements: list[Dependency] = []
    for section, packages in data.items():
        if section == "_meta":
            continue
        if not isinstance(packages, dict):
            ctx.fail(f"{section!r} must be an object of locked packages", (section,))
        group = category_group(section, lock=True)
        for name, entry in packages.items():
            requirements.append(ctx.read_entry(name, entry, group, (section, name)))
    return Environment(
        requirements=tuple(requirements),
        python=python,
        sources=tuple(ctx.sources),
        options=ctx.options(),
        format=NAME,
        notes=tuple(ctx.notes),
    )


def dumps(env: Environment, existing: str | None = None) -> Rendered:
    """Not offered: a Pipfile.lock is the output of ``pipenv lock``."""
    del env, existing
    raise EnvkitError(
        "Pipfile.lock is written by pipenv lock; envkit does not write it (write a Pipfile, then run pipenv lock)"
    )


class JsonSpots(Spots):
    """Finds where a key path (``("default", "numpy", "version")``) is written in JSON text.

    Best effort: each key of the path is searched as ``"key":`` after the previous one.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def _offset(self, path: KeyPath) -> Optional[tuple[int, int]]:
        """(start of the last key found, start of its value)."""
        at = 0
        found: Optional[tuple[int, int]] = None
        for part in path:
            if isinstance(part, int):
                item = self._item(at, part)
                if item is None:
                    return found
                found = (item, item)
                at = item
                continue
            match = re.compile(re.escape(json.dumps(part)) + r"\s*:\s*").search(self.text, at)
            if match is None:
                return found
            found = (match.start(), match.end())
            at = match.end()
        return found

    def _item(self, at: int, index: int) -> Optional[int]:
        """Where item ``index`` of the JSON array starting at offset ``at`` starts."""
        if not self.text.startswith("[", at):
            return None
        decoder = json.JSONDecoder()
        pos = self._skip(at + 1)
        for _ in range(index):
            try:
                _, pos = decoder.raw_decode(self.text, pos)
            except json.JSONDecodeError:
                return None
            pos = self._skip(pos)
        return pos

    def _skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t\r\n,":
            pos += 1
        return pos

    def spot(self, path: KeyPath, value: bool = True) -> Spot:
        found = self._offset(path)
        offset = 0 if found is None else (found[1] if value else found[0])
        line_start = self.text.rfind("\n", 0, offset) + 1
        line_end = self.text.find("\n", offset)
        line = self.text[line_start : None if line_end < 0 else line_end]
        number = self.text.count("\n", 0, offset) + 1
        column = offset - line_start + 1
        width = _json_width(line, column - 1)
        return Spot(number, column, line, width)


def _json_width(line: str, start: int) -> int:
    if start < len(line) and line[start] == '"':
        end = start + 1
        while end < len(line) and line[end] != '"':
            end += 2 if line[end] == "\\" else 1
        return min(end, len(line) - 1) - start + 1
    match = re.match(r"[^\s,}\]]+", line[start:])
    return len(match.group(0)) if match else 1
