"""pip's requirements-file preprocessing, with positions kept for every character.

The pipeline is pip's own, as generators over lines:

1. ``decode``: a BOM wins, then a PEP 263 ``coding`` comment in the first two lines,
   then UTF-8. Undecodable bytes are an error naming their line and column.
2. ``logical_lines``: split like ``str.splitlines``; a line ending in ``\\`` joins the next
   (the joined line keeps its first line number) unless it is a comment line; a comment
   starts at the line start or after whitespace, so ``#egg=`` and ``#sha256=`` inside URLs
   survive; blank results are dropped.

Each :class:`LogicalLine` maps an offset in its joined text back to the physical line
and column, so an error anywhere in a continued line points at the right place.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import ParseError

__all__ = ["LogicalLine", "Token", "comment_start", "decode", "logical_lines", "split_words"]

_PEP263_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")

# Order matters: the UTF-16 LE BOM is a prefix of the UTF-32 LE BOM.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)


def decode(data: bytes, path: str) -> str:
    """Decode a requirements file as pip does, or raise a :class:`ParseError`."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_with(data[len(bom) :], encoding, path, skipped=len(bom))
    for number, line in enumerate(data.split(b"\n")[:2], start=1):
        if line[:1] == b"#":
            match = _PEP263_RE.search(line)
            if match is not None:
                encoding = match.group(1).decode("ascii")
                try:
                    codecs.lookup(encoding)
                except LookupError:
                    text = line.decode("ascii", "replace")
                    raise ParseError(
                        f"unknown encoding {encoding!r} in the coding declaration",
                        path=path,
                        line=number,
                        column=match.start(1) + 1,
                        text=text,
                        width=len(encoding),
                    ) from None
                return _decode_with(data, encoding, path)
    return _decode_with(data, "utf-8", path, hint=True)


def _decode_with(data: bytes, encoding: str, path: str, skipped: int = 0, hint: bool = False) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line_no = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        line_end = data.find(b"\n", exc.start)
        raw_line = data[line_start : None if line_end < 0 else line_end].rstrip(b"\r")
        shown = raw_line.decode(encoding, "replace")
        column = len(data[line_start : exc.start].decode(encoding, "replace")) + 1
        bad = data[exc.start : exc.end].hex(" ")
        raise ParseError(
            f"cannot decode byte(s) {bad} as {encoding}",
            path=path,
            line=line_no,
            column=column,
            text=shown,
            hint="declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'" if hint else None,
        ) from None


def comment_start(text: str) -> int | None:
    """Where pip's comment pattern ``(^|\\s+)#.*$`` starts in ``text``, or ``None``.

    A ``#`` starts a comment at the line start or after whitespace; the comment takes the
    whitespace before it. Written as a scan, not that regular expression, which backtracks
    quadratically on long runs of blanks.
    """
    hit = text.find("#")
    while hit >= 0:
        if hit == 0 or text[hit - 1].isspace():
            start = hit
            while start > 0 and text[start - 1].isspace():
                start -= 1
            return start
        hit = text.find("#", hit + 1)
    return None


@dataclass(frozen=True)
class _Piece:
    offset: int  # where this piece starts in the logical text
    line: int  # physical line number, 1-based
    column: int  # column of the piece's first character in the physical line, 1-based
    physical: str  # the whole physical line


@dataclass(frozen=True)
class LogicalLine:
    """One line as pip sees it after joining continuations and removing the comment."""

    text: str
    pieces: tuple[_Piece, ...]
    comment: str | None
    path: str
    lead: int = 0  # offset of ``text`` in the joined physical text (leading blanks)

    @property
    def line(self) -> int:
        return self.pieces[0].line

    def locate(self, offset: int) -> tuple[int, int, str]:
        """Physical (line, column, line text) of ``offset`` in :attr:`text`."""
        offset += self.lead
        piece = self.pieces[0]
        for candidate in self.pieces:
            if candidate.offset <= offset:
                piece = candidate
            else:
                break
        return piece.line, piece.column + (offset - piece.offset), piece.physical

    def substitute(self, replacements: list[tuple[int, int, str]]) -> LogicalLine:
        """This line with each ``text[start:end]`` replaced (in order, not overlapping).

        Text kept maps back as before; a replacement maps to where the replaced text began.
        """
        bounds = sorted({p.offset - self.lead for p in self.pieces} - {0})
        pieces: list[_Piece] = []
        chunks: list[str] = []
        size = 0

        def place(start: int, text: str) -> None:
            nonlocal size
            line, column, physical = self.locate(start)
            pieces.append(_Piece(size, line, column, physical))
            chunks.append(text)
            size += len(text)

        def keep(start: int, end: int) -> None:
            cuts = [start, *(b for b in bounds if start < b < end), end]
            for a, b in zip(cuts, cuts[1:]):
                place(a, self.text[a:b])

        position = 0
        for start, end, new in replacements:
            keep(position, start)
            place(start, new)
            position = end
        keep(position, len(self.text))
        return LogicalLine("".join(chunks), tuple(pieces), self.comment, self.path)

    def error(self, message: str, offset: int, width: int = 1, hint: str | None = None) -> ParseError:
        """A :class:`ParseError` pointing at ``offset`` (in :attr:`text`)."""
        line, column, physical = self.locate(offset)
        width = max(1, min(width, len(physical) - column + 1))
        return ParseError(message, path=self.path, line=line, column=column, text=physical, width=width, hint=hint)


def logical_lines(text: str, path: str) -> Iterator[LogicalLine]:
    """Yield pip's logical lines of ``text``: continuations joined, comments removed."""
    pending: list[tuple[int, str, int, str]] = []  # (line, piece text, column, physical)

    def finish(parts: list[tuple[int, str, int, str]]) -> LogicalLine | None:
        chunks = []
        pieces = []
        offset = 0
        for line_no, piece, column, physical in parts:
            pieces.append(_Piece(offset, line_no, column, physical))
            chunks.append(piece)
            offset += len(piece)
        joined = "".join(chunks)
        comment = None
        cut = comment_start(joined)
        if cut is not None:
            comment = joined[cut:].strip()[1:].strip()
            joined = joined[:cut]
        stripped = joined.strip()
        if not stripped:
            return None
        lead = len(joined) - len(joined.lstrip())
        return LogicalLine(stripped, tuple(pieces), comment or None, path, lead)

    for number, physical in enumerate(text.splitlines(), start=1):
        is_comment = physical.lstrip()[:1] == "#"
        if not physical.endswith("\\") or is_comment:
            piece, column = physical, 1
            if is_comment:
                piece, column = " " + physical, 0
            if pending:
                pending.append((number, piece, column, physical))
                result = finish(pending)
                pending = []
            else:
                result = finish([(number, piece, column, physical)])
            if result is not None:
                yield result
        else:
            body = physical.strip("\\")
            lead = len(physical) - len(physical.lstrip("\\"))
            pending.append((number, body, lead + 1, physical))
    if pending:
        result = finish(pending)
        if result is not None:
            yield result


@dataclass(frozen=True)
class Token:
    """A shell-like word of an option string: its value and its span in the line."""

    value: str
    start: int
    end: int


#: What ``shlex.split`` (POSIX mode) treats as blanks; a line holds no line breaks.
_BLANKS_RE = re.compile(r"[ \t\r\n]*")
#: A run of characters with no special meaning to ``shlex``.
_PLAIN_RE = re.compile(r"[^ \t\r\n'\"\\]+")
#: The body of a double-quoted string: ``\"`` and ``\\`` are its only escapes.
_DOUBLE_RE = re.compile(r'[^"\\]*(?:\\[\s\S][^"\\]*)*')
_DOUBLE_ESCAPE_RE = re.compile(r'\\(["\\])')


def split_words(line: LogicalLine, start: int) -> list[Token]:
    """Split ``line.text[start:]`` into words exactly as ``shlex.split`` does (POSIX mode).

    Blanks are space and tab; single quotes keep everything; in double quotes a backslash
    escapes only ``"`` and ``\\``; outside quotes it escapes any character. Adjacent pieces
    join into one word. Spans stay attached for error messages. Linear in the text.
    """
    text = line.text
    tokens: list[Token] = []
    n = len(text)
    i = _BLANKS_RE.match(text, start).end()  # type: ignore[union-attr]
    while i < n:
        begin = i
        value: list[str] = []
        while i < n and text[i] not in " \t\r\n":
            ch = text[i]
            if ch == "'":
                close = text.find("'", i + 1)
                if close < 0:
                    raise line.error("this quote is never closed", i, hint="close it, or escape it with '\\'")
                value.append(text[i + 1 : close])
                i = close + 1
            elif ch == '"':
                body = _DOUBLE_RE.match(text, i + 1)
                assert body is not None
                if body.end() >= n or text[body.end()] != '"':
                    raise line.error("this quote is never closed", i, hint="close it, or escape it with '\\'")
                value.append(_DOUBLE_ESCAPE_RE.sub(r"\1", body.group()))
                i = body.end() + 1
            elif ch == "\\":
                if i + 1 >= n:
                    raise line.error(
                        "this backslash escapes nothing", i, hint="remove it, or write '\\\\' for a backslash"
                    )
                value.append(text[i + 1])
                i += 2
            else:
                plain = _PLAIN_RE.match(text, i)
                assert plain is not None
                value.append(plain.group())
                i = plain.end()
        tokens.append(Token("".join(value), begin, min(i, n)))
        i = _BLANKS_RE.match(text, i).end()  # type: ignore[union-attr]
    return tokens
