"""pip's requirements-file grammar: the case table, the writer's round trip, and pip itself.

Every case of :mod:`tests.grammar_cases` is checked three ways:

- ``test_grammar``: envkit's reader gives the whole expected result (pure: includes come
  from an in-memory opener);
- ``test_round_trip``: what envkit writes reads back to the same model;
- ``test_pip_agrees`` / ``test_pip_differs``: pip 26's own reader, run on the same files
  in a temporary folder, agrees with envkit (or, for a case marked as divergent, really
  does behave differently, so the mark cannot go stale).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import envkit
from envkit.errors import EnvkitError, ParseError
from envkit.formats import requirements
from envkit.formats._lines import logical_lines, split_words
from envkit.model import Environment

from .grammar_cases import CASES, MAIN, Case
from .pip_oracle import envkit_view, pip_view

ARCHIVES = requirements.ARCHIVE_EXTENSIONS
SAME = [c for c in CASES if c.pip is None]
DIFFERENT = [c for c in CASES if c.pip is not None]


def _data(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text


def _opener(case: Case) -> Any:
    files = {path: _data(text) for path, text in case.files.items()}

    def opener(target: str) -> bytes:
        if target not in files:
            raise EnvkitError("no such file")
        return files[target]

    return opener


def _read(case: Case) -> Environment:
    return requirements.loads_bytes(_data(case.text), MAIN, opener=_opener(case), environ=case.environ)


def describe(env: Environment) -> dict[str, Any]:
    """Everything the table asserts, in the shape :meth:`Case.expected` builds."""
    return {
        "requirements": [
            {
                "name": d.name,
                "specifier": str(d.specifier),
                "extras": sorted(d.extras),
                "marker": None if d.marker is None else str(d.marker),
                "url": d.url,
                "path": d.path,
                "editable": d.editable,
                "constraint": d.constraint,
                "hashes": list(d.hashes),
                "config_settings": list(d.config_settings),
                "global_options": list(d.global_options),
                "at": f"{d.origin.path}:{d.origin.line}" if d.origin else None,
            }
            for d in env.requirements
        ],
        "python": None if env.python is None else str(env.python),
        "sources": [(s.kind, s.url, s.username, s.password) for s in env.sources],
        "options": env.options,
        "warnings": [str(n) for n in env.notes],
    }


def _ids(cases: list[Case] | tuple[Case, ...]) -> list[str]:
    return [c.id for c in cases]


def test_table_size_and_ids() -> None:
    assert len(CASES) >= 170
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_grammar(case: Case) -> None:
    assert describe(_read(case)) == case.expected()


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_round_trip(case: Case) -> None:
    env = _read(case)
    rendered = requirements.dumps(env)
    files = {name: text.encode() for name, text in rendered.files.items()}
    again = requirements.loads(rendered.text, MAIN, opener=files.__getitem__)
    assert again == env
    assert [d.sort_key() for d in again.requirements] == [d.sort_key() for d in env.requirements]
    assert requirements.dumps(again).text == rendered.text


# ---------------------------------------------------------------------------------------
# pip's own reader on the same files


_VAR_RE = re.compile(rb"\$\{([A-Z0-9_]+)\}")


def _materialize(case: Case, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write the case's files under ``root``, make the folders pip needs, set the environment."""
    root.mkdir()
    for name, text in {MAIN: case.text, **case.files}.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_data(text))
    folders = list(case.dirs)
    for dep in case.reqs:
        path = dep["path"]
        if path is not None and not path.lower().endswith(ARCHIVES):
            folders.append(path)
    for folder in folders:
        project = root / folder
        project.mkdir(parents=True, exist_ok=True)
        if folder not in case.dirs:
            (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    texts = [_data(t) for t in (case.text, *case.files.values())]
    for name in {m.decode() for t in texts for m in _VAR_RE.findall(t)}:
        monkeypatch.delenv(name, raising=False)
    for name, value in (case.environ or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(root)


def _envkit_load(case: Case) -> Environment:
    return envkit.load(MAIN, environ=case.environ)


@pytest.mark.parametrize("case", SAME, ids=_ids(SAME))
def test_pip_agrees(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _materialize(case, tmp_path / "project", monkeypatch)
    assert pip_view(MAIN) == envkit_view(_envkit_load(case))


@pytest.mark.parametrize("case", DIFFERENT, ids=_ids(DIFFERENT))
def test_pip_differs(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert case.pip is not None
    _materialize(case, tmp_path / "project", monkeypatch)
    ours = envkit_view(_envkit_load(case))
    if case.pip.rejects is not None:
        with pytest.raises(Exception) as info:
            pip_view(MAIN)
        assert case.pip.rejects in str(info.value)
        return
    theirs = pip_view(MAIN)
    assert theirs != ours
    extra = [r for r in theirs["requirements"] if r["name"] in case.pip.pip_only]
    assert extra, f"pip no longer yields {case.pip.pip_only}"
    theirs["requirements"] = [r for r in theirs["requirements"] if r["name"] not in case.pip.pip_only]
    assert theirs == ours


# ---------------------------------------------------------------------------------------
# Positions in continued lines


CONTINUED_ERRORS = [
    (
        "foo \\\n    >=1.0 \\\n    --hash=md5:abc\n",
        "requirements.txt:3:5: Allowed hash algorithms for --hash are sha256, sha384, sha512.\n"
        "        --hash=md5:abc\n"
        "        ^^^^^^^^^^^^^^",
    ),
    (
        "foo==1.0 \\\n  --hash=sha256:a \\\n  --bogus\n",
        "requirements.txt:3:3: no such option: --bogus\n      --bogus\n      ^^^^^^^",
    ),
    (
        'foo \\\n  ;python_version<<"3"\n',
        "requirements.txt:2:19: invalid marker: Expected a marker variable or quoted string\n"
        '      ;python_version<<"3"\n'
        "                      ^",
    ),
    (
        "foo\\\n>=\\\n>1\n",
        "requirements.txt:2:1: invalid requirement: invalid version specifier '>=>1'\n    >=\\\n    ^^^",
    ),
]


@pytest.mark.parametrize("text, message", CONTINUED_ERRORS)
def test_continued_line_error_positions(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        requirements.loads(text)
    assert str(info.value) == message


# ---------------------------------------------------------------------------------------
# What pip checks while it parses, on any line, and local folders when asked

#: (file text, envkit's whole message, whether pip rejects the file too). Read with a
#: folder check that knows only the folder 'pkg'.
PARSE_TIME_ERRORS = [
    (
        '-e ""\n',
        'requirements.txt:1:4: --editable needs a non-empty value\n    -e ""\n       ^^',
        True,
    ),
    (
        "--trusted-host=\n",
        "requirements.txt:1:16: --trusted-host needs a non-empty value\n    --trusted-host=\n                   ^",
        True,
    ),
    (
        '--extra-index-url ""\n',
        'requirements.txt:1:19: --extra-index-url needs a non-empty value\n    --extra-index-url ""\n                      ^^',
        False,
    ),
    (
        "--no-binary=\n",
        "requirements.txt:1:13: --no-binary needs a non-empty value\n    --no-binary=\n                ^",
        False,
    ),
    (
        "--pre \\ # c\n",
        "requirements.txt:1:7: this backslash escapes nothing\n    --pre \\ # c\n          ^\n"
        "  hint: remove it, or write '\\\\' for a backslash",
        True,
    ),
    (
        "-e ./pkg --hash=md5:x\n",
        "requirements.txt:1:10: Allowed hash algorithms for --hash are sha256, sha384, sha512.\n"
        "    -e ./pkg --hash=md5:x\n"
        "             ^^^^^^^^^^^^",
        True,
    ),
    (
        "-r other.txt --hash=sha1:x\n",
        "requirements.txt:1:14: Allowed hash algorithms for --hash are sha256, sha384, sha512.\n"
        "    -r other.txt --hash=sha1:x\n"
        "                 ^^^^^^^^^^^^^",
        True,
    ),
    (
        "--config-settings foo\n",
        "requirements.txt:1:1: Arguments to --config-settings must be of the form KEY=VAL\n"
        "    --config-settings foo\n"
        "    ^^^^^^^^^^^^^^^^^^^^^",
        True,
    ),
    (
        "foo --use-feature nope\n",
        "requirements.txt:1:19: invalid choice for --use-feature: 'nope' (choose from 'fast-deps',"
        " 'inprocess-build-deps', 'venv-isolation', 'truststore', 'no-binary-enable-wheel-cache', 'build-constraint')\n"
        "    foo --use-feature nope\n"
        "                      ^^^^",
        True,
    ),
    (
        "-e acme\n",
        "requirements.txt:1:4: acme is not a valid editable requirement: it should be a path to a local project"
        " or a VCS URL (beginning with bzr+, git+, hg+ or svn+)\n"
        "    -e acme\n"
        "       ^^^^\n"
        "  hint: there is no folder 'acme' in the current directory"
        " (pip looks for an editable's folder there, not beside the requirements file)",
        True,
    ),
    (
        "./pkg -e ./acme[dev]\n./other\n",
        "requirements.txt:2:1: ./other looks like a path, but it is not a folder: a local requirement must be"
        " a project folder or an archive\n"
        "    ./other\n"
        "    ^^^^^^^\n"
        "  hint: there is no folder './other' in the current directory"
        " (pip looks for a local project there, not beside the requirements file)",
        True,
    ),
]


def _only_pkg(path: str) -> bool:
    return os.path.normpath(path) == "pkg"


@pytest.mark.parametrize("text, message, pip_rejects", PARSE_TIME_ERRORS)
def test_parse_time_errors(text: str, message: str, pip_rejects: bool) -> None:
    with pytest.raises(ParseError) as info:
        requirements.loads(text, opener=lambda target: b"bar\n", folder_exists=_only_pkg)
    assert str(info.value) == message


@pytest.mark.parametrize("text, message, pip_rejects", PARSE_TIME_ERRORS)
def test_parse_time_errors_pip(
    text: str, message: str, pip_rejects: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip rejects the same files (or, where envkit is stricter, reads them)."""
    (tmp_path / MAIN).write_text(text)
    (tmp_path / "other.txt").write_text("bar\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[project]\nname = "pkg"\nversion = "0"\n')
    monkeypatch.chdir(tmp_path)
    if pip_rejects:
        with pytest.raises(Exception):  # noqa: B017 - pip raises several types
            pip_view(MAIN)
    else:
        pip_view(MAIN)


@pytest.mark.parametrize(
    "text",
    [
        "-e ./pkg\n",
        "-e pkg[dev]\n",
        "./pkg\n",
        "pkg/\n",
        "./dist/missing-1.0.tar.gz\n",
        "-e git+https://h.example.com/r.git#egg=r\n",
    ],
)
def test_folder_check_accepts(text: str) -> None:
    env = requirements.loads(text, folder_exists=_only_pkg)
    assert len(env.requirements) == 1


@pytest.mark.parametrize("environ", [{"HOST": "a-much-longer-host.example.com"}, {"HOST": "h"}, {}])
def test_error_positions_after_expansion(environ: dict[str, str]) -> None:
    text = "foo==1 \\\n  --index-url https://${HOST}/simple --bogus\n"
    with pytest.raises(ParseError) as info:
        requirements.loads(text, environ=environ)
    assert str(info.value) == (
        "requirements.txt:2:38: no such option: --bogus\n"
        "      --index-url https://${HOST}/simple --bogus\n"
        "                                         ^^^^^^^"
    )


def test_logical_line_locates_every_piece() -> None:
    text = "foo \\\n  [bar] \\\n# c\nbaz\n"
    lines = list(logical_lines(text, MAIN))
    assert [(ln.text, ln.line, ln.comment) for ln in lines] == [("foo   [bar]", 1, "c"), ("baz", 4, None)]
    first = lines[0]
    assert [first.locate(i)[:2] for i in (0, 2, 4, 6, 10)] == [(1, 1), (1, 3), (2, 1), (2, 3), (2, 7)]


def _words(text: str) -> Iterator[str]:
    line = next(iter(logical_lines(text, MAIN)))
    return (t.value for t in split_words(line, 0))


@pytest.mark.parametrize(
    "text, words",
    [
        ("a b\tc", ["a", "b", "c"]),
        ("'a b' \"c d\"", ["a b", "c d"]),
        ('a"b c"d', ["ab cd"]),
        (r"a\ b", ["a b"]),
        (r'"a\"b"', ['a"b']),
        (r'"a\\b"', ["a\\b"]),
        (r'"a\$b"', ["a\\$b"]),
        (r"'a\b'", ["a\\b"]),
        ("a\u00a0b", ["a\u00a0b"]),
    ],
)
def test_split_words_like_shlex(text: str, words: list[str]) -> None:
    import shlex

    assert list(_words(text)) == words == shlex.split(text)
