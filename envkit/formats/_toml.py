"""Reading TOML with errors that point at the text, shared by the TOML formats.

Read with ``tomllib`` (``tomli`` before Python 3.11): fast, plain data. Edit with
``tomlkit`` only when writing into an existing file, so every byte we do not own stays.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from ..errors import ParseError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.9/3.10 only
    import tomli as tomllib

__all__ = ["find_key_line", "loads_toml"]

_AT_RE = re.compile(r"\(at line (\d+), column (\d+)\)")


def loads_toml(text: str, path: str) -> dict[str, Any]:
    """Parse ``text``; a syntax error becomes a :class:`ParseError` with a caret."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _AT_RE.search(message)
        lines = text.splitlines()
        if match:
            line, column = int(match.group(1)), int(match.group(2))
        elif "(at end of document)" in message:
            line = max(len(lines), 1)
            column = len(lines[-1]) + 1 if lines else 1
        else:
            line, column = 1, 1
        reason = _AT_RE.sub("", message).replace("(at end of document)", "").strip() or "invalid TOML"
        shown = lines[line - 1] if 0 < line <= len(lines) else ""
        raise ParseError(f"invalid TOML: {reason}", path=path, line=line, column=column, text=shown) from None


def find_key_line(text: str, key: str, after_table: str | None = None) -> tuple[int, int, str]:
    """Best effort: (line, column, line text) where ``key`` is assigned, for messages.

    Looks for ``key =`` (bare or quoted), after the header ``[after_table]`` when given.
    Returns (1, 1, first line) when it cannot tell.
    """
    lines = text.splitlines()
    start = 0
    if after_table is not None:
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(after_table) + r"\s*\]\]?\s*(#.*)?$")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i + 1
                break
    pattern = re.compile(r"^\s*(\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"'|" + re.escape(key) + r")\s*=")
    for i in range(start, len(lines)):
        match = pattern.match(lines[i])
        if match:
            return i + 1, match.start(1) + 1, lines[i]
    return 1, 1, lines[0] if lines else ""
