"""TOML written as text: the few forms our writers put in a new file, spelled as tomlkit
spells them, without building a tomlkit document.

A new ``Pipfile`` or ``pyproject.toml`` is a handful of tables of ``key = value`` lines;
building it as text is many times faster than building a tomlkit document (and does not
import tomlkit at all). Merging into an existing file still goes through tomlkit, so that
every byte we do not own stays. The spellings here are tomlkit's, byte for byte, so a new
file reads the same whichever way it was made (``tests/test_toml_text.py`` holds the two
side by side).

Grammar of what is written (TOML 1.0)::

    basic string   '"' (char | escape)* '"'   escape: \\b \\t \\n \\f \\r \\" \\\\ or \\uXXXX for
                                              the other controls (U+0000-U+001F, U+007F)
    literal string "'" char* "'"              no "'", no control character but tab
    key            bare (A-Z a-z 0-9 _ -, at least one) | basic string
    value          string | true | false | integer | array | inline table
    array          '[' value (', ' value)* ']'
    inline table   '{' key ' = ' value (', ' key ' = ' value)* '}'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Optional

__all__ = ["array_lines", "basic", "comment", "key", "literal_or_basic", "value"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
_COMPACT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_LITERAL_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f']")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return _COMPACT.get(char) or f"\\u{ord(char):04x}"


def basic(text: str) -> str:
    """``text`` as a TOML basic string (``"..."``), escaped as tomlkit escapes it."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def literal_or_basic(text: str) -> str:
    """A literal string (``'...'``) when ``text`` holds a double quote and can be one (it
    reads better than escapes: ``'a; python_version < "3.9"'``), else a basic string."""
    if '"' in text and not _LITERAL_FORBIDDEN.search(text):
        return "'" + text + "'"
    return basic(text)


def key(name: str) -> str:
    """A key: bare when it can be, else a basic string."""
    return name if _BARE_KEY.fullmatch(name) else basic(name)


def value(item: Any, string: Any = basic) -> str:
    """An inline TOML value: strings (through ``string``), booleans, integers, lists and
    tables (as inline tables), the way tomlkit writes them on one line."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return str(string(item))
    if isinstance(item, int):
        return str(item)
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(value(v, string) for v in item) + "]"
    if isinstance(item, Mapping):
        return "{" + ", ".join(f"{key(k)} = {value(v, string)}" for k, v in item.items()) + "}"
    raise TypeError(f"no TOML form for {item!r}")


def comment(text: Optional[str]) -> str:
    """A trailing comment for a value line (``"  # text"``), empty for none."""
    return f"  # {text}" if text else ""


def array_lines(items: Sequence[tuple[str, Optional[str]]], indent: str = "    ") -> str:
    """A multi-line array of already-written values, each on its own line with its comment
    (``[``, then ``    VALUE, # comment`` lines, then ``]``), as tomlkit's ``add_line`` makes it."""
    lines = "".join(f"\n{indent}{text}," + (f" # {note}" if note else "") for text, note in items)
    return "[" + lines + "\n]"
