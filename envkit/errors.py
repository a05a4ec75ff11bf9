"""The one error type envkit raises, and the caret rendering shared by every message.

Every failure a user can cause is an :class:`EnvkitError`. Errors that point at text
(:class:`ParseError`) carry the file, the 1-based line and column, and the line itself,
and render the way ``packaging`` does: a message, the line, and a caret under the span::

    requirements.txt:3:7: expected a version after '>=' (got '>')
        numpy>=>1
              ^
"""

from __future__ import annotations

__all__ = ["EnvkitError", "IncludeError", "ParseError", "caret_lines"]

#: How much of a very long line is shown around the column of an error.
_WINDOW = 72


class EnvkitError(Exception):
    """Root of every error envkit raises on purpose. The CLI exits 2 on it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _printable(text: str) -> str:
    """``text`` with each control character shown as one ``?`` so columns stay aligned."""
    return "".join(" " if ch == "\t" else ("?" if ch.isprintable() is False else ch) for ch in text)


def caret_lines(text: str, column: int, width: int = 1) -> str:
    """Two lines: ``text`` (windowed if long) and a caret under ``column`` (1-based).

    ``width`` carets mark the span; tabs and other control characters are shown as one
    character each so the caret stays under the right place.
    """
    col = max(column - 1, 0)
    width = max(width, 1)
    start = 0
    prefix = suffix = ""
    if len(text) > _WINDOW * 2:
        start = max(0, col - _WINDOW // 2)
        end = min(len(text), start + _WINDOW)
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(text) else ""
        text = text[start:end]
        width = min(width, end - col)
    shown = prefix + _printable(text) + suffix
    caret = " " * (len(prefix) + col - start) + "^" * max(width, 1)
    return f"    {shown}\n    {caret}"


class ParseError(EnvkitError):
    """A malformed piece of text: names ``path:line:col`` and draws a caret under it."""

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int,
        column: int,
        text: str,
        width: int = 1,
        hint: str | None = None,
    ) -> None:
        from .model import mask_secrets

        message = mask_secrets(message)
        text = mask_secrets(text)
        hint = mask_secrets(hint) if hint else hint
        self.reason = message
        self.path = path
        self.line = line
        self.column = column
        self.text = text
        self.width = width
        self.hint = hint
        rendered = f"{path}:{line}:{column}: {message}\n{caret_lines(text, column, width)}"
        if hint:
            rendered += f"\n  hint: {hint}"
        super().__init__(rendered)


class IncludeError(EnvkitError):
    """An include (``-r``/``-c``) that cannot be followed: missing, cyclic or remote."""
