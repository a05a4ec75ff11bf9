"""No input, however broken, makes the requirements reader raise anything but EnvkitError, or hang.

Two hypothesis fuzzers feed the reader random bytes and random near-valid lines built from
the grammar's own fragments (names, operators, versions, markers, options, URLs, quotes,
backslashes, ``#``, tabs, ``${VAR}``). Explicit cases then check that pathological inputs
(a 10 MB line, 100,000 continuation lines, 50,000 blanks, include cycles and a diamond of
includes that would expand 2**25 times) finish, each with its outcome asserted. Those run
in a forked child with a generous time limit, so a regression to a hang fails the test
instead of stalling the suite; nothing here asserts a speed.
"""

from __future__ import annotations

import codecs
import contextlib
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envkit
from envkit.errors import EnvkitError
from envkit.formats.requirements import loads, loads_bytes

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------
# The fuzzers


def _opener(target: str) -> bytes:
    """Serves ``inner.txt`` (which includes a missing file when asked), refuses URLs."""
    if target.startswith(("http:", "https:")):
        raise EnvkitError("remote includes are not fetched")
    if target.endswith("inner.txt"):
        return b"bar==1 --hash=sha256:ab\n-c missing.txt\n" if "deep" in target else b"bar==1\n"
    raise FileNotFoundError(2, "No such file or directory", target)


def _read(call: Callable[[], object]) -> None:
    with contextlib.suppress(EnvkitError):
        call()


FRAGMENTS = (
    # names, versions, operators
    "foo", "Foo_Bar", "a.b", "python", "x1", "==", ">=", "<=", "~=", "!=", "===", "<", ">", "=", "1", "1.0",
    "1.0.*", "2!1.0rc1.post2.dev3+local", ",", "*",
    # markers and extras
    ";", "; ", "[", "]", "(", ")", "[x,y]", "extra", "python_version", "os_name", "sys_platform", " and ", " or ",
    " in ", " not in ", '"3.9"', "'nt'",
    # options
    "-e ", "-r ", "-c ", "--hash", "--hash=sha256:ab", "--hash=md5:x", "-i ", "--index-url", "--extra-index-url ",
    "--no-index", "-f ", "--pre", "--no-binary ", ":all:", ":none:", "--only-binary=", "--use-feature ",
    "fast-deps", "-C ", "--config-settings=", "k=v", "--global-option", "--trusted-host ", "--requirement=",
    "--constraint ", "--editable=", "--", "-", "---", "inner.txt", "deep/inner.txt", "missing.txt",
    # URLs and paths
    "https://", "http://", "file:", "file:///", "git+", "git+https://", "hg+", "svn+", "bzr+", "ftp://",
    "example.com", "/", "./", "../", ".", "#egg=", "egg=", "&subdirectory=", "#sha256=", "@", " @ ", "@v1",
    "user:pass@", ".whl", "-1.0-py3-none-any.whl", ".tar.gz", ".zip", "%20", ":", "::",
    # quoting, escapes, comments, blanks, variables, odd characters
    '"', "'", "\\", "\\\n", "#", " #", "\t", " ", "  ", "${VAR}", "${", "}", "$", "?", "=",
    "\x00", "\x0c", "\x85", "\u2028", "\ufeff", "é", "𝔣",
    "# requires-python:", "# -*- coding: latin-1 -*-", "# coding: nope",
)  # fmt: skip

lines = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)
texts = st.lists(lines, max_size=6).flatmap(
    lambda parts: st.sampled_from(["\n", "\r\n", "\r", " \\\n"]).map(lambda sep: sep.join(parts))
)
environs = st.one_of(st.none(), st.just({"VAR": "x y"}), st.just({"VAR": ""}))


@FUZZ
@given(text=texts, environ=environs, constraint=st.booleans())
def test_near_valid_text_raises_only_envkit_errors(text: str, environ: dict[str, str] | None, constraint: bool) -> None:
    _read(lambda: loads(text, "req.txt", opener=_opener, environ=environ, constraint=constraint))


_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be", "latin-1", "cp1252")


@FUZZ
@given(text=texts, encoding=st.sampled_from(_ENCODINGS))
def test_near_valid_bytes_raise_only_envkit_errors(text: str, encoding: str) -> None:
    data = text.encode(encoding, "replace")
    _read(lambda: loads_bytes(data, "req.txt", opener=_opener))


_PREFIXES = (
    b"",
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF32_LE,
    b"# -*- coding: latin-1 -*-\n",
    b"# coding: utf-16\n",
    b"#coding=nope\n",
    b"\n# vim: set fileencoding=cp1252 :\n",
)


@FUZZ
@given(prefix=st.sampled_from(_PREFIXES), data=st.binary(max_size=400))
def test_random_bytes_raise_only_envkit_errors(prefix: bytes, data: bytes) -> None:
    _read(lambda: loads_bytes(prefix + data, "req.txt", opener=_opener))


@pytest.mark.parametrize("text", ["https://[x/y.zip", "http://[x]/y.zip", "https://[::1/foo-1.0-py3-none-any.whl"])
def test_bracketed_host_is_a_parse_error(text: str) -> None:
    with pytest.raises(EnvkitError):
        loads(text, "req.txt")


# ---------------------------------------------------------------------------------------
# Pathological inputs: each must finish, with the outcome asserted

#: Far above what any case needs; only a hang (or a quadratic blow-up) reaches it.
LIMIT = 120.0


def _child(conn: Connection, call: Callable[[], str]) -> None:
    try:
        conn.send(("ok", call()))
    except EnvkitError as exc:
        conn.send((type(exc).__name__, str(exc)))
    except BaseException as exc:  # reported to the parent, which fails the test
        conn.send(("escaped", f"{type(exc).__name__}: {exc}"))


def _bounded(call: Callable[[], str], limit: float = LIMIT) -> tuple[str, str]:
    """``("ok", call())`` or ``(error type, message)``; ``("timeout", "")`` after ``limit`` s."""
    if "fork" not in multiprocessing.get_all_start_methods():  # no cheap child here: run inline
        try:
            return ("ok", call())
        except EnvkitError as exc:
            return (type(exc).__name__, str(exc))
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, call), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limit):
            return ("timeout", "")
        kind, message = receiver.recv()
        return (str(kind), str(message))
    finally:
        process.kill()
        process.join()
        receiver.close()


def _summary(text: str) -> Callable[[], str]:
    def read() -> str:
        env = loads(text, "req.txt")
        return ", ".join(f"{d.key} {d.specifier} {len(d.hashes)} hashes" for d in env.requirements)

    return read


TEN_MB = 10 * 1024 * 1024

PATHOLOGICAL = [
    pytest.param("a" * TEN_MB, ("ok", "a" * TEN_MB + "  0 hashes"), id="10MB-name"),
    pytest.param(" " * TEN_MB + "foo==1", ("ok", "foo ==1 0 hashes"), id="10MB-blanks-then-text"),
    pytest.param("foo==1 #" + "#" * TEN_MB, ("ok", "foo ==1 0 hashes"), id="10MB-comment"),
    pytest.param("foo --hash=sha256:" + "a" * TEN_MB, ("ok", "foo  1 hashes"), id="10MB-hash"),
    pytest.param(
        "foo==" + "1" * TEN_MB + ">",
        (
            "ParseError",
            "req.txt:1:4: invalid requirement: invalid version specifier '==" + "1" * 35 + "...'\n"
            "    foo==" + "1" * 67 + "...\n       " + "^" * 69,
        ),
        id="10MB-line-with-an-error",
    ),
    pytest.param(" " * 50_000 + "foo==1", ("ok", "foo ==1 0 hashes"), id="50k-blanks-then-text"),
    pytest.param("foo" + " " * 50_000 + "==1", ("ok", "foo ==1 0 hashes"), id="50k-blanks-inside"),
    pytest.param(
        " " * 50_000 + "foo=1",
        (
            "ParseError",
            "req.txt:1:50004: invalid requirement: invalid version specifier '=1'\n"
            "    ..." + " " * 33 + "foo=1\n    " + " " * 39 + "^^\n"
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="50k-blanks-then-an-error",
    ),
    pytest.param(
        "foo==1 \\\n" + "".join(f"    --hash=sha256:{i:064x} \\\n" for i in range(100_000)) + "    --hash=sha256:ff",
        ("ok", "foo ==1 100001 hashes"),
        id="100k-continuation-lines",
    ),
    pytest.param(
        "foo \\\n" * 100_000 + "==1",
        (
            "ParseError",
            "req.txt:2:1: invalid requirement: Expected semicolon (after name with no version specifier)"
            " or end\n    foo \\\n    ^",
        ),
        id="100k-continuation-lines-of-junk",
    ),
    pytest.param(
        "foo \\\n" + "--hash=sha256:ab \\\n" * 100_000 + "--bogus",
        ("ParseError", "req.txt:100002:1: no such option: --bogus\n    --bogus\n    ^^^^^^^"),
        id="100k-continuation-lines-then-an-error",
    ),
]


@pytest.mark.parametrize(("text", "outcome"), PATHOLOGICAL)
def test_pathological_input_finishes(text: str, outcome: tuple[str, str]) -> None:
    assert _bounded(_summary(text)) == outcome


def _load(path: Path) -> Callable[[], str]:
    def read() -> str:
        return f"{len(envkit.load(path).requirements)} requirements"

    return read


def test_include_cycle_finishes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("foo\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("bar\n-c a.txt\n")
    kind, message = _bounded(_load(tmp_path / "a.txt"))
    assert (kind, message.splitlines()[0]) == (
        "ParseError",
        f"{tmp_path}/b.txt:2:4: include cycle: 'a.txt' is already being read",
    )


def test_include_diamond_finishes(tmp_path: Path) -> None:
    """25 files, each including the next one twice: 2**25 reads if followed naively."""
    for i in range(1, 26):
        (tmp_path / f"f{i}.txt").write_text(f"-r f{i + 1}.txt\n-r f{i + 1}.txt\n")
    (tmp_path / "f26.txt").write_text("leaf==1\n")
    assert _bounded(_load(tmp_path / "f1.txt")) == (
        "ParseError",
        f"{tmp_path}/f25.txt:2:4: more than 1000 included files; stopping here\n    -r f26.txt\n       ^",
    )


def test_include_wide_finishes(tmp_path: Path) -> None:
    """One file including the same leaf 900 times: allowed (under the 1,000-file limit)."""
    (tmp_path / "leaf.txt").write_text("leaf==1\n")
    (tmp_path / "top.txt").write_text("-r leaf.txt\n" * 900)
    assert _bounded(_load(tmp_path / "top.txt")) == ("ok", "900 requirements")


def test_long_word_with_an_error_finishes() -> None:
    kind, _ = _bounded(_summary("x" * 200_000 + "=1"), limit=2)
    assert kind == "ParseError"


def test_many_brackets_finish() -> None:
    kind, _ = _bounded(_summary("foo" + "[" * 200_000), limit=2)
    assert kind == "ParseError"
