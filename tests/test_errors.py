"""Whole-message tests for malformed requirements files, the way a user sees them.

Every case asserts the complete ``str(error)``: ``path:line:col: message``, the line, the
caret line and the hint line when there is one. Cases are grouped by where the text comes
from: a string (:func:`~envkit.formats.requirements.loads`), undecoded bytes
(:func:`~envkit.formats.requirements.loads_bytes`), a constraints file, a tree of files
read by :func:`envkit.load` (includes), and the ``envkit show`` command.

Where packaging's own message blames the wrong part (it backs off past a malformed extra
name or version), envkit names the malformed part itself; those cases are asserted too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import envkit
from envkit.cli import cli
from envkit.errors import EnvkitError, ParseError
from envkit.formats.requirements import loads, loads_bytes

#: The file name every string and bytes case is read under.
PATH = "req.txt"


def _lines(*lines: str) -> str:
    return "\n".join(lines)


def _error(text: str, **kwargs: object) -> str:
    with pytest.raises(ParseError) as info:
        loads(text, PATH, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


# ---------------------------------------------------------------------------------------
# Text: specifiers, markers, extras, names, options, quotes, editables, #egg, wheels,
# continuations, tabs, long lines

TEXT_CASES = [
    pytest.param(
        "foo==1.0.*.1",
        _lines(
            "req.txt:1:4: invalid requirement: invalid version specifier '==1.0.*.1'",
            "    foo==1.0.*.1",
            "       ^^^^^^^^^",
        ),
        id="spec-wildcard-middle",
    ),
    pytest.param(
        "foo (>=1",
        _lines(
            "req.txt:1:5: invalid requirement: Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after version specifier",
            "    foo (>=1",
            "        ^^^^",
        ),
        id="spec-unclosed-paren",
    ),
    pytest.param(
        "foo!",
        _lines(
            "req.txt:1:4: invalid requirement: invalid version specifier '!'",
            "    foo!",
            "       ^",
        ),
        id="spec-bad-char",
    ),
    pytest.param(
        "foo>=1 <2",
        _lines(
            "req.txt:1:4: invalid requirement: Expected comma (within version specifier), semicolon (after version specifier) or end",
            "    foo>=1 <2",
            "       ^^^^",
        ),
        id="spec-missing-comma",
    ),
    pytest.param(
        "foo @ https://x/y.zip >=1",
        _lines(
            "req.txt:1:7: invalid requirement: Expected semicolon (after URL and whitespace) or end",
            "    foo @ https://x/y.zip >=1",
            "          ^^^^^^^^^^^^^^^^",
        ),
        id="spec-after-url",
    ),
    pytest.param(
        'foo; python_version >< "3"',
        _lines(
            "req.txt:1:22: invalid marker: Expected a marker variable or quoted string",
            '    foo; python_version >< "3"',
            "                         ^",
        ),
        id="marker-bad-op",
    ),
    pytest.param(
        "foo; python_version",
        _lines(
            "req.txt:1:20: invalid marker: Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in",
            "    foo; python_version",
            "                       ^",
        ),
        id="marker-no-op",
    ),
    pytest.param(
        'foo; bogus == "1"',
        _lines(
            "req.txt:1:6: invalid marker: Expected a marker variable or quoted string",
            '    foo; bogus == "1"',
            "         ^",
        ),
        id="marker-unknown-var",
    ),
    pytest.param(
        'foo; os_name == "a" or',
        _lines(
            "req.txt:1:23: invalid marker: Expected a marker variable or quoted string",
            '    foo; os_name == "a" or',
            "                          ^",
        ),
        id="marker-dangling-or",
    ),
    pytest.param(
        "foo; python_version < 3",
        _lines(
            "req.txt:1:23: invalid marker: Expected a marker variable or quoted string",
            "    foo; python_version < 3",
            "                          ^",
        ),
        id="marker-unquoted",
    ),
    pytest.param(
        './pkg[a]; os_name="nt"',
        _lines(
            "req.txt:1:18: invalid marker: Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in",
            '    ./pkg[a]; os_name="nt"',
            "                     ^",
        ),
        id="marker-on-path",
    ),
    pytest.param(
        'foo @ https://x/y ; extra_bogus=="x"',
        _lines(
            "req.txt:1:21: invalid marker: Expected a marker variable or quoted string",
            '    foo @ https://x/y ; extra_bogus=="x"',
            "                        ^",
        ),
        id="marker-url-bad",
    ),
    pytest.param(
        "foo; ()",
        _lines(
            "req.txt:1:7: invalid marker: Expected a marker variable or quoted string",
            "    foo; ()",
            "          ^",
        ),
        id="marker-empty-paren",
    ),
    pytest.param(
        "foo[bar",
        _lines(
            "req.txt:1:4: invalid requirement: Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras",
            "    foo[bar",
            "       ^^^^",
        ),
        id="extras-unclosed",
    ),
    pytest.param(
        "foo[bar,]",
        _lines(
            "req.txt:1:9: invalid requirement: Expected extra name after comma",
            "    foo[bar,]",
            "            ^",
        ),
        id="extras-trailing-comma",
    ),
    pytest.param(
        "./foo[-x]",
        _lines(
            "req.txt:1:6: invalid extras '[-x]'",
            "    ./foo[-x]",
            "         ^^^^",
        ),
        id="extras-on-path",
    ),
    pytest.param(
        "./foo.zip[x,,y]",
        _lines(
            "req.txt:1:10: invalid extras '[x,,y]'",
            "    ./foo.zip[x,,y]",
            "             ^^^^^^",
        ),
        id="extras-on-archive",
    ),
    pytest.param(
        "foo[bar]baz",
        _lines(
            "req.txt:1:9: invalid requirement: Expected semicolon (after name with no version specifier) or end",
            "    foo[bar]baz",
            "            ^",
        ),
        id="name-junk-after",
    ),
    pytest.param(
        "@ https://x/y",
        _lines(
            "req.txt:1:1: invalid requirement: Expected package name at the start of dependency specifier",
            "    @ https://x/y",
            "    ^",
        ),
        id="name-starts-with-at",
    ),
    pytest.param(
        "ünïcode>=1",
        _lines(
            "req.txt:1:1: invalid requirement: Expected package name at the start of dependency specifier",
            "    ünïcode>=1",
            "    ^",
        ),
        id="name-non-ascii",
    ),
    pytest.param(
        "foo bar",
        _lines(
            "req.txt:1:5: invalid requirement: Expected semicolon (after name with no version specifier) or end",
            "    foo bar",
            "        ^",
        ),
        id="name-two-words",
    ),
    pytest.param(
        "foo @",
        _lines(
            "req.txt:1:6: invalid requirement: Expected URL after @",
            "    foo @",
            "         ^",
        ),
        id="name-url-missing",
    ),
    pytest.param(
        "foo=1",
        _lines(
            "req.txt:1:4: invalid requirement: invalid version specifier '=1'",
            "    foo=1",
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="name-single-equals",
    ),
    pytest.param(
        'foo=1; python_version=="3"',
        _lines(
            "req.txt:1:4: invalid requirement: invalid version specifier '=1'",
            '    foo=1; python_version=="3"',
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="name-single-equals-marker",
    ),
    pytest.param(
        "python=3.9",
        _lines(
            "req.txt:1:7: invalid requirement: invalid version specifier '=3.9'",
            "    python=3.9",
            "          ^^^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="python-bad",
    ),
    pytest.param(
        "--bogus x",
        _lines(
            "req.txt:1:1: no such option: --bogus",
            "    --bogus x",
            "    ^^^^^^^",
        ),
        id="option-unknown-long",
    ),
    pytest.param(
        "-x foo",
        _lines(
            "req.txt:1:1: no such option: -x",
            "    -x foo",
            "    ^^",
        ),
        id="option-unknown-short",
    ),
    pytest.param(
        "---",
        _lines(
            "req.txt:1:1: no such option: ---",
            "    ---",
            "    ^^^",
        ),
        id="option-dashes",
    ),
    pytest.param(
        "--no",
        _lines(
            "req.txt:1:1: ambiguous option: --no (--no-binary, --no-index, --no-require-hashes?)",
            "    --no",
            "    ^^^^",
        ),
        id="option-ambiguous",
    ),
    pytest.param(
        "-i",
        _lines(
            "req.txt:1:1: -i option requires 1 argument",
            "    -i",
            "    ^^",
        ),
        id="option-missing-value-short",
    ),
    pytest.param(
        "--index-url",
        _lines(
            "req.txt:1:1: --index-url option requires 1 argument",
            "    --index-url",
            "    ^^^^^^^^^^^",
        ),
        id="option-missing-value-long",
    ),
    pytest.param(
        "foo --global-option",
        _lines(
            "req.txt:1:5: --global-option option requires 1 argument",
            "    foo --global-option",
            "        ^^^^^^^^^^^^^^^",
        ),
        id="option-missing-value-req",
    ),
    pytest.param(
        "-e",
        _lines(
            "req.txt:1:1: -e option requires 1 argument",
            "    -e",
            "    ^^",
        ),
        id="option-missing-value-editable",
    ),
    pytest.param(
        "-r",
        _lines(
            "req.txt:1:1: -r option requires 1 argument",
            "    -r",
            "    ^^",
        ),
        id="option-missing-value-include",
    ),
    pytest.param(
        "--pre=yes",
        _lines(
            "req.txt:1:1: --pre option does not take a value",
            "    --pre=yes",
            "    ^^^^^^^^^",
        ),
        id="flag-with-value",
    ),
    pytest.param(
        "--no-index=1",
        _lines(
            "req.txt:1:1: --no-index option does not take a value",
            "    --no-index=1",
            "    ^^^^^^^^^^^^",
        ),
        id="flag-with-value-no-index",
    ),
    pytest.param(
        "--prefer-binary=",
        _lines(
            "req.txt:1:1: --prefer-binary option does not take a value",
            "    --prefer-binary=",
            "    ^^^^^^^^^^^^^^^^",
        ),
        id="flag-with-empty-value",
    ),
    pytest.param(
        "foo --hash",
        _lines(
            "req.txt:1:5: --hash option requires 1 argument",
            "    foo --hash",
            "        ^^^^^^",
        ),
        id="hash-missing",
    ),
    pytest.param(
        "foo --hash=abc",
        _lines(
            "req.txt:1:5: Arguments to --hash must be a hash name followed by a value, like --hash=sha256:abcde...",
            "    foo --hash=abc",
            "        ^^^^^^^^^^",
        ),
        id="hash-no-algo",
    ),
    pytest.param(
        "foo --hash=md5:abc",
        _lines(
            "req.txt:1:5: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "    foo --hash=md5:abc",
            "        ^^^^^^^^^^^^^^",
        ),
        id="hash-md5",
    ),
    pytest.param(
        "foo --hash sha1:abc",
        _lines(
            "req.txt:1:5: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "    foo --hash sha1:abc",
            "        ^^^^^^^^^^^^^^^",
        ),
        id="hash-sha1-separate",
    ),
    pytest.param(
        "--hash=md5:abc",
        _lines(
            "req.txt:1:1: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "    --hash=md5:abc",
            "    ^^^^^^^^^^^^^^",
        ),
        id="hash-on-option-line",
    ),
    pytest.param(
        "foo -C key",
        _lines(
            "req.txt:1:5: Arguments to --config-settings must be of the form KEY=VAL",
            "    foo -C key",
            "        ^^^^^^",
        ),
        id="config-no-equals-short",
    ),
    pytest.param(
        "foo --config-settings=key",
        _lines(
            "req.txt:1:5: Arguments to --config-settings must be of the form KEY=VAL",
            "    foo --config-settings=key",
            "        ^^^^^^^^^^^^^^^^^^^^^",
        ),
        id="config-no-equals-long",
    ),
    pytest.param(
        "-e ./x --config-settings key",
        _lines(
            "req.txt:1:8: Arguments to --config-settings must be of the form KEY=VAL",
            "    -e ./x --config-settings key",
            "           ^^^^^^^^^^^^^^^^^^^^^",
        ),
        id="config-on-editable",
    ),
    pytest.param(
        "--use-feature nope",
        _lines(
            "req.txt:1:15: invalid choice for --use-feature: 'nope' (choose from 'fast-deps', 'inprocess-build-deps', 'venv-isolation', 'truststore', 'no-binary-enable-wheel-cache', 'build-constraint')",
            "    --use-feature nope",
            "                  ^^^^",
        ),
        id="use-feature-bad",
    ),
    pytest.param(
        "--no-binary --pre",
        _lines(
            "req.txt:1:13: --no-binary requires a value: ':all:', ':none:' or package names",
            "    --no-binary --pre",
            "                ^^^^^",
        ),
        id="no-binary-missing",
    ),
    pytest.param(
        "--only-binary=-x",
        _lines(
            "req.txt:1:15: --only-binary requires a value: ':all:', ':none:' or package names",
            "    --only-binary=-x",
            "                  ^^",
        ),
        id="only-binary-dash",
    ),
    pytest.param(
        '--requirement=""',
        _lines(
            "req.txt:1:15: --requirement needs a non-empty value",
            '    --requirement=""',
            "                  ^^",
        ),
        id="empty-include-name",
    ),
    pytest.param(
        "foo --hash='sha256:abc",
        _lines(
            "req.txt:1:12: this quote is never closed",
            "    foo --hash='sha256:abc",
            "               ^",
            "  hint: close it, or escape it with '\\'",
        ),
        id="quote-unclosed-hash",
    ),
    pytest.param(
        '-e "./x',
        _lines(
            "req.txt:1:4: this quote is never closed",
            '    -e "./x',
            "       ^",
            "  hint: close it, or escape it with '\\'",
        ),
        id="quote-unclosed-editable",
    ),
    pytest.param(
        'foo>=1 --hash=sha256:"x',
        _lines(
            "req.txt:1:22: this quote is never closed",
            '    foo>=1 --hash=sha256:"x',
            "                         ^",
            "  hint: close it, or escape it with '\\'",
        ),
        id="quote-unclosed-double-in-value",
    ),
    pytest.param(
        "-e https://example.com/foo-1.0.tar.gz",
        _lines(
            "req.txt:1:4: https://example.com/foo-1.0.tar.gz is not a valid editable requirement: it should be a path to a local project or a VCS URL (beginning with bzr+, git+, hg+ or svn+)",
            "    -e https://example.com/foo-1.0.tar.gz",
            "       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        id="editable-archive-url",
    ),
    pytest.param(
        "-e ftp://x/y",
        _lines(
            "req.txt:1:4: ftp://x/y is not a valid editable requirement: it should be a path to a local project or a VCS URL (beginning with bzr+, git+, hg+ or svn+)",
            "    -e ftp://x/y",
            "       ^^^^^^^^^",
        ),
        id="editable-ftp",
    ),
    pytest.param(
        "-e zz+https://x/y",
        _lines(
            "req.txt:1:4: zz+https://x/y is not a valid editable requirement: it should be a path to a local project or a VCS URL (beginning with bzr+, git+, hg+ or svn+)",
            "    -e zz+https://x/y",
            "       ^^^^^^^^^^^^^^",
        ),
        id="editable-unknown-vcs",
    ),
    pytest.param(
        "-e git+https://github.com/a/b.git",
        _lines(
            "req.txt:1:4: cannot tell the project name of the editable 'git+https://github.com/a/b.git'",
            "    -e git+https://github.com/a/b.git",
            "       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
            "  hint: add '#egg=NAME' to the URL, or write '-e NAME @ URL'",
        ),
        id="editable-vcs-no-egg",
    ),
    pytest.param(
        "-e git+https://github.com/a/b.git@v1.0#subdirectory=py",
        _lines(
            "req.txt:1:4: cannot tell the project name of the editable 'git+https://github.com/a/b.git@v1.0#subdirectory=py'",
            "    -e git+https://github.com/a/b.git@v1.0#subdirectory=py",
            "       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
            "  hint: add '#egg=NAME' to the URL, or write '-e NAME @ URL'",
        ),
        id="editable-vcs-no-egg-ref",
    ),
    pytest.param(
        "-e git+https://github.com/a/b.git#egg=foo!bar",
        _lines(
            "req.txt:1:39: the #egg= fragment 'foo!bar' is not a valid project name",
            "    -e git+https://github.com/a/b.git#egg=foo!bar",
            "                                          ^^^^^^^",
            "  hint: #egg= takes a project name only; use 'name[extras] @ URL' for extras",
        ),
        id="egg-bad-char",
    ),
    pytest.param(
        "https://x/y.zip#egg=-bad",
        _lines(
            "req.txt:1:21: the #egg= fragment '-bad' is not a valid project name",
            "    https://x/y.zip#egg=-bad",
            "                        ^^^^",
            "  hint: #egg= takes a project name only; use 'name[extras] @ URL' for extras",
        ),
        id="egg-dash",
    ),
    pytest.param(
        "-e hg+https://x/y#egg=",
        _lines(
            "req.txt:1:23: the #egg= fragment '' is not a valid project name",
            "    -e hg+https://x/y#egg=",
            "                          ^",
            "  hint: #egg= takes a project name only; use 'name[extras] @ URL' for extras",
        ),
        id="egg-empty",
    ),
    pytest.param(
        "https://x/y.zip#egg=foo bar",
        _lines(
            "req.txt:1:21: the #egg= fragment 'foo bar' is not a valid project name",
            "    https://x/y.zip#egg=foo bar",
            "                        ^^^^^^^",
            "  hint: #egg= takes a project name only; use 'name[extras] @ URL' for extras",
        ),
        id="egg-space",
    ),
    pytest.param(
        "git+https://x/y#egg=foo[bar",
        _lines(
            "req.txt:1:21: the #egg= fragment 'foo[bar' is not a valid project name",
            "    git+https://x/y#egg=foo[bar",
            "                        ^^^^^^^",
            "  hint: #egg= takes a project name only; use 'name[extras] @ URL' for extras",
        ),
        id="egg-unclosed-extras",
    ),
    pytest.param(
        "foo-notaversion-py3-none-any.whl",
        _lines(
            "req.txt:1:1: invalid wheel file name (invalid version): 'foo-notaversion-py3-none-any'",
            "    foo-notaversion-py3-none-any.whl",
            "    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        id="wheel-bad-version",
    ),
    pytest.param(
        "dist/sub/Foo-1.0-py3-none-any.whl; os_name==",
        _lines(
            "req.txt:1:45: invalid marker: Expected a marker variable or quoted string",
            "    dist/sub/Foo-1.0-py3-none-any.whl; os_name==",
            "                                                ^",
        ),
        id="wheel-in-dir",
    ),
    pytest.param(
        "# requires-python: >=>3\nfoo",
        _lines(
            "req.txt:1:19: invalid Python version constraint '>=>3'",
            "    # requires-python: >=>3",
            "                      ^^^^",
        ),
        id="python-pragma-bad",
    ),
    pytest.param(
        "foo \\\n  --hash=md5:abc",
        _lines(
            "req.txt:2:3: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "      --hash=md5:abc",
            "      ^^^^^^^^^^^^^^",
        ),
        id="cont-2nd-line-hash",
    ),
    pytest.param(
        "foo\\\n; bogus",
        _lines(
            "req.txt:2:3: invalid marker: Expected a marker variable or quoted string",
            "    ; bogus",
            "      ^",
        ),
        id="cont-2nd-line-marker",
    ),
    pytest.param(
        "foo\\\n[bar",
        _lines(
            "req.txt:2:1: invalid requirement: Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras",
            "    [bar",
            "    ^^^^",
        ),
        id="cont-2nd-line-extras",
    ),
    pytest.param(
        "foo\\\n  >=1 \\\n  --hash=md5:x",
        _lines(
            "req.txt:3:3: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "      --hash=md5:x",
            "      ^^^^^^^^^^^^",
        ),
        id="cont-3rd-line-hash",
    ),
    pytest.param(
        "foo\\\n  >=1 \\\n ; bad",
        _lines(
            "req.txt:3:4: invalid marker: Expected a marker variable or quoted string",
            "     ; bad",
            "       ^",
        ),
        id="cont-3rd-line-marker",
    ),
    pytest.param(
        'requests\\\n==2.0\\\n; os_name=="nt" and',
        _lines(
            "req.txt:3:20: invalid marker: Expected a marker variable or quoted string",
            '    ; os_name=="nt" and',
            "                       ^",
        ),
        id="cont-3rd-line-marker-and",
    ),
    pytest.param(
        'foo>=1, <2 ; os_name =="nt" \\\n  --hash=sha256:ab \\\n\t--hash=sha1:cd',
        _lines(
            "req.txt:3:2: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "     --hash=sha1:cd",
            "     ^^^^^^^^^^^^^^",
        ),
        id="cont-3rd-line-tab",
    ),
    pytest.param(
        "foo\\\n# c\n==1",
        _lines(
            "req.txt:3:1: invalid requirement: Expected package name at the start of dependency specifier",
            "    ==1",
            "    ^",
        ),
        id="cont-comment-between",
    ),
    pytest.param(
        "foo \\\n -C k",
        _lines(
            "req.txt:2:2: Arguments to --config-settings must be of the form KEY=VAL",
            "     -C k",
            "     ^^^^",
        ),
        id="cont-config",
    ),
    pytest.param(
        "foo --hash='sha256:\\\nabc",
        _lines(
            "req.txt:1:12: this quote is never closed",
            "    foo --hash='sha256:\\",
            "               ^",
            "  hint: close it, or escape it with '\\'",
        ),
        id="cont-quote-across",
    ),
    pytest.param(
        "foo \\\n--hash=sha256:a \\\n--hash=sha256:b \\\n--hash=sha256:c \\\n--bogus",
        _lines(
            "req.txt:5:1: no such option: --bogus",
            "    --bogus",
            "    ^^^^^^^",
        ),
        id="cont-4-lines",
    ),
    pytest.param(
        "foo \\\n\t\t--bogus",
        _lines(
            "req.txt:2:3: no such option: --bogus",
            "      --bogus",
            "      ^^^^^^^",
        ),
        id="cont-leading-tab",
    ),
    pytest.param(
        "\tfoo\t--hash=md5:x",
        _lines(
            "req.txt:1:6: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "     foo --hash=md5:x",
            "         ^^^^^^^^^^^^",
        ),
        id="tab-before-hash",
    ),
    pytest.param(
        "foo\t--hash\tmd5:x",
        _lines(
            "req.txt:1:5: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
            "    foo --hash md5:x",
            "        ^^^^^^^^^^^^",
        ),
        id="tab-after-option",
    ),
    pytest.param(
        "\tfoo=1",
        _lines(
            "req.txt:1:5: invalid requirement: invalid version specifier '=1'",
            "     foo=1",
            "        ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="tab-lead-equals",
    ),
    pytest.param(
        "--index-url\t\t",
        _lines(
            "req.txt:1:1: --index-url option requires 1 argument",
            "    --index-url  ",
            "    ^^^^^^^^^^^",
        ),
        id="tabs-option",
    ),
    pytest.param(
        "foo;\tpython_version\t>\t3",
        _lines(
            "req.txt:1:23: invalid marker: Expected a marker variable or quoted string",
            "    foo; python_version > 3",
            "                          ^",
        ),
        id="tab-marker",
    ),
    pytest.param(
        "\tfoo ; python_version >= '3' and\tbogus",
        _lines(
            "req.txt:1:34: invalid marker: Expected a marker variable or quoted string",
            "     foo ; python_version >= '3' and bogus",
            "                                     ^",
        ),
        id="tab-marker-bogus",
    ),
    pytest.param(
        "foo\r\nbar=1\r\n",
        _lines(
            "req.txt:2:4: invalid requirement: invalid version specifier '=1'",
            "    bar=1",
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="crlf-second-line",
    ),
    pytest.param(
        "\n\n# comment\n\nfoo=1",
        _lines(
            "req.txt:5:4: invalid requirement: invalid version specifier '=1'",
            "    foo=1",
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="line-number-after-blank",
    ),
    pytest.param(
        "\x00\x01\x02",
        _lines(
            "req.txt:1:1: invalid requirement: Expected package name at the start of dependency specifier",
            "    ???",
            "    ^",
        ),
        id="junk-controls",
    ),
    pytest.param(
        "a" * 300 + "=1",
        _lines(
            "req.txt:1:301: invalid requirement: invalid version specifier '=1'",
            "    ..." + "a" * 36 + "=1",
            "    " + " " * 39 + "^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="long-line-error-at-end",
    ),
    pytest.param(
        "--bogus " + "x" * 300,
        _lines(
            "req.txt:1:1: no such option: --bogus",
            "    --bogus " + "x" * 64 + "...",
            "    ^^^^^^^",
        ),
        id="long-line-error-at-start",
    ),
    pytest.param(
        "foo==1 --hash=sha256:" + "a" * 100 + " --bogus --hash=sha256:" + "b" * 100,
        _lines(
            "req.txt:1:123: no such option: --bogus",
            "    ..." + "a" * 35 + " --bogus --hash=sha256:" + "b" * 14 + "...",
            "    " + " " * 39 + "^^^^^^^",
        ),
        id="long-line-error-in-the-middle",
    ),
    pytest.param(
        'foo; python_version == "3" and ' + "x" * 200,
        _lines(
            "req.txt:1:32: invalid marker: Expected a marker variable or quoted string",
            '    foo; python_version == "3" and ' + "x" * 41 + "...",
            "    " + " " * 31 + "^",
        ),
        id="long-line-marker",
    ),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES)
def test_text_error(text: str, expected: str) -> None:
    assert _error(text) == expected


# ---------------------------------------------------------------------------------------
# Bytes: undecodable bytes, codecs, BOMs, binary junk

BYTES_CASES = [
    pytest.param(
        b"foo\nbar\xffbaz\n",
        _lines(
            "req.txt:2:4: cannot decode byte(s) ff as utf-8",
            "    bar�baz",
            "       ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="undecodable-second-line",
    ),
    pytest.param(
        b"\x00\x01\x02\xff\xfe\x80",
        _lines(
            "req.txt:1:4: cannot decode byte(s) ff as utf-8",
            "    ???���",
            "       ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="undecodable-after-controls",
    ),
    pytest.param(
        b"foo\xe9\n",
        _lines(
            "req.txt:1:4: cannot decode byte(s) e9 as utf-8",
            "    foo�",
            "       ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="undecodable-latin1",
    ),
    pytest.param(
        b"\tfoo==1 # caf\xe9\n",
        _lines(
            "req.txt:1:14: cannot decode byte(s) e9 as utf-8",
            "     foo==1 # caf�",
            "                 ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="undecodable-after-tab",
    ),
    pytest.param(
        b"foo \xe2\x82",
        _lines(
            "req.txt:1:5: cannot decode byte(s) e2 82 as utf-8",
            "    foo �",
            "        ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="undecodable-truncated",
    ),
    pytest.param(
        b"x\xc0\xafy",
        _lines(
            "req.txt:1:2: cannot decode byte(s) c0 as utf-8",
            "    x��y",
            "     ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="undecodable-overlong",
    ),
    pytest.param(
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
        _lines(
            "req.txt:1:2: cannot decode byte(s) 8b as utf-8",
            "    ?�??????",
            "     ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="binary-gzip",
    ),
    pytest.param(
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        _lines(
            "req.txt:1:3: invalid requirement: Expected semicolon (after name with no version specifier) or end",
            "    PK????????",
            "      ^",
        ),
        id="binary-zip",
    ),
    pytest.param(
        b"\x7fELF\x02\x01\x01\x00",
        _lines(
            "req.txt:1:1: invalid requirement: Expected package name at the start of dependency specifier",
            "    ?ELF????",
            "    ^",
        ),
        id="binary-elf",
    ),
    pytest.param(
        b"foo\x00bar",
        _lines(
            "req.txt:1:4: invalid requirement: Expected semicolon (after name with no version specifier) or end",
            "    foo?bar",
            "       ^",
        ),
        id="binary-nul",
    ),
    pytest.param(
        b"# -*- coding: nope -*-\nfoo\n",
        _lines(
            "req.txt:1:15: unknown encoding 'nope' in the coding declaration",
            "    # -*- coding: nope -*-",
            "                  ^^^^",
        ),
        id="codec-unknown",
    ),
    pytest.param(
        b"\n# coding=latin-99\n",
        _lines(
            "req.txt:2:10: unknown encoding 'latin-99' in the coding declaration",
            "    # coding=latin-99",
            "             ^^^^^^^^",
        ),
        id="codec-unknown-line-2",
    ),
    pytest.param(
        b"# coding: ascii\nfoo\nb\xe9r\n",
        _lines(
            "req.txt:3:2: cannot decode byte(s) e9 as ascii",
            "    b�r",
            "     ^",
        ),
        id="codec-mismatch",
    ),
    pytest.param(
        b"\xef\xbb\xbffoo=1",
        _lines(
            "req.txt:1:4: invalid requirement: invalid version specifier '=1'",
            "    foo=1",
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="bom-utf8-then-error",
    ),
    pytest.param(
        b"\xff\xfef\x00o\x00o\x00=\x001\x00",
        _lines(
            "req.txt:1:4: invalid requirement: invalid version specifier '=1'",
            "    foo=1",
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="bom-utf16-le-then-error",
    ),
    pytest.param(
        b"\xfe\xff\x00f\x00o\x00o\x00=\x001",
        _lines(
            "req.txt:1:4: invalid requirement: invalid version specifier '=1'",
            "    foo=1",
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="bom-utf16-be-then-error",
    ),
    pytest.param(
        b"\xff\xfef\x00o\x00o",
        _lines(
            "req.txt:1:3: cannot decode byte(s) 6f as utf-16",
            "    fo�",
            "      ^",
        ),
        id="utf16-truncated",
    ),
]


@pytest.mark.parametrize(("data", "expected"), BYTES_CASES)
def test_bytes_error(data: bytes, expected: str) -> None:
    with pytest.raises(ParseError) as info:
        loads_bytes(data, PATH)
    assert str(info.value) == expected


# ---------------------------------------------------------------------------------------
# Constraints files: a constraint is a name, a specifier and an optional marker

_CONSTRAINT_HINT = "  hint: a constraint is a project name, a version specifier and an optional marker"

CONSTRAINT_CASES = [
    pytest.param(
        "https://x/y.zip",
        _lines(
            "req.txt:1:1: unnamed requirements are not allowed as constraints",
            "    https://x/y.zip",
            "    ^^^^^^^^^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="unnamed-url",
    ),
    pytest.param(
        "ok==1\n./local",
        _lines(
            "req.txt:2:1: unnamed requirements are not allowed as constraints",
            "    ./local",
            "    ^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="unnamed-path",
    ),
    pytest.param(
        "-e ./foo",
        _lines(
            "req.txt:1:1: unnamed requirements are not allowed as constraints",
            "    -e ./foo",
            "    ^^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="editable-path-is-unnamed-first",
    ),
    pytest.param(
        "-e git+https://x/y#egg=foo",
        _lines(
            "req.txt:1:1: editable requirements are not allowed as constraints",
            "    -e git+https://x/y#egg=foo",
            "    ^^^^^^^^^^^^^^^^^^^^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="editable-vcs",
    ),
    pytest.param(
        "foo[bar]>=1",
        _lines(
            "req.txt:1:1: constraints cannot have extras",
            "    foo[bar]>=1",
            "    ^^^^^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="extras",
    ),
    pytest.param(
        'foo[x] ; os_name == "nt"',
        _lines(
            "req.txt:1:1: constraints cannot have extras",
            '    foo[x] ; os_name == "nt"',
            "    ^^^^^^^^^^^^^^^^^^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="extras-with-marker",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CONSTRAINT_CASES)
def test_constraint_error(text: str, expected: str) -> None:
    assert _error(text, constraint=True) == expected


# ---------------------------------------------------------------------------------------
# Includes, read from real files by envkit.load: ``{d}`` stands for the folder.

INCLUDE_CASES = [
    pytest.param(
        {"req.txt": "-r req.txt\n"},
        _lines(
            "{d}/req.txt:1:4: include cycle: 'req.txt' is already being read",
            "    -r req.txt",
            "       ^^^^^^^",
            "  hint: the chain of includes is {d}/req.txt:1 -> {d}/req.txt",
        ),
        id="cycle-self",
    ),
    pytest.param(
        {"req.txt": "foo\n--constraint=req.txt\n"},
        _lines(
            "{d}/req.txt:2:14: include cycle: 'req.txt' is already being read",
            "    --constraint=req.txt",
            "                 ^^^^^^^",
            "  hint: the chain of includes is {d}/req.txt:2 -> {d}/req.txt",
        ),
        id="cycle-self-constraint",
    ),
    pytest.param(
        {"req.txt": "-r missing.txt\n"},
        _lines(
            "{d}/req.txt:1:4: cannot read included file 'missing.txt': no such file",
            "    -r missing.txt",
            "       ^^^^^^^^^^^",
        ),
        id="missing",
    ),
    pytest.param(
        {"req.txt": "foo\n-r sub/inner.txt\n", "sub/inner.txt": "bar\n\n-c ../nothere.txt\n"},
        _lines(
            "{d}/sub/inner.txt:3:4: cannot read included file '../nothere.txt': no such file",
            "    -c ../nothere.txt",
            "       ^^^^^^^^^^^^^^",
        ),
        id="missing-nested",
    ),
    pytest.param(
        {"req.txt": "-r sub\n", "sub/x.txt": "foo\n"},
        _lines(
            "{d}/req.txt:1:4: cannot read included file 'sub': it is a folder, not a file",
            "    -r sub",
            "       ^^^",
        ),
        id="folder",
    ),
    pytest.param(
        {"req.txt": "--requirement https://example.com/r.txt\n"},
        _lines(
            "{d}/req.txt:1:15: cannot read included file 'https://example.com/r.txt': envkit does not fetch"
            " remote includes (https://example.com/r.txt); download it and include the local copy",
            "    --requirement https://example.com/r.txt",
            "                  ^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        id="remote-https",
    ),
    pytest.param(
        {"req.txt": "-c http://user:tok@example.com/c.txt\n"},
        _lines(
            "{d}/req.txt:1:4: cannot read included file 'http://user:***@example.com/c.txt': envkit does not fetch"
            " remote includes (http://user:***@example.com/c.txt); download it and include the local copy",
            "    -c http://user:***@example.com/c.txt",
            "       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        id="remote-with-credentials-redacted",
    ),
    pytest.param(
        {"req.txt": "-r inner.txt\n", "inner.txt": "x\n\nfoo=1\n"},
        _lines(
            "{d}/inner.txt:3:4: invalid requirement: invalid version specifier '=1'",
            "    foo=1",
            "       ^^",
            "  hint: = is not a valid operator. Did you mean == ?",
        ),
        id="error-inside-include",
    ),
    pytest.param(
        {"req.txt": "-r inner.txt\n", "inner.txt": b"caf\xe9\n"},
        _lines(
            "{d}/inner.txt:1:4: cannot decode byte(s) e9 as utf-8",
            "    caf\N{REPLACEMENT CHARACTER}",
            "       ^",
            "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
        ),
        id="undecodable-include",
    ),
    pytest.param(
        {"req.txt": "foo\n-c c.txt\n", "c.txt": "-e git+https://x/y#egg=foo\n"},
        _lines(
            "{d}/c.txt:1:1: editable requirements are not allowed as constraints",
            "    -e git+https://x/y#egg=foo",
            "    ^^^^^^^^^^^^^^^^^^^^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="editable-in-constraints-file",
    ),
    pytest.param(
        {"req.txt": "-c c.txt\n", "c.txt": "-c nested.txt\n", "nested.txt": "https://x/y.zip\n"},
        _lines(
            "{d}/nested.txt:1:1: unnamed requirements are not allowed as constraints",
            "    https://x/y.zip",
            "    ^^^^^^^^^^^^^^^",
            _CONSTRAINT_HINT,
        ),
        id="constraints-file-inside-constraints-file",
    ),
]


def _tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root / "req.txt"


@pytest.mark.parametrize(("files", "expected"), INCLUDE_CASES)
def test_include_error(tmp_path: Path, files: dict[str, str | bytes], expected: str) -> None:
    entry = _tree(tmp_path, files)
    with pytest.raises(ParseError) as info:
        envkit.load(entry)
    assert str(info.value) == expected.format(d=tmp_path)


def test_include_without_opener_is_an_error() -> None:
    assert _error("-r other.txt") == _lines(
        "req.txt:1:4: cannot read included file 'other.txt': this reader was given no file opener",
        "    -r other.txt",
        "       ^^^^^^^^^",
    )


def test_missing_top_level_file(tmp_path: Path) -> None:
    with pytest.raises(EnvkitError) as info:
        envkit.load(tmp_path / "nothere.txt")
    assert str(info.value) == f"{tmp_path}/nothere.txt: no such file"


# ---------------------------------------------------------------------------------------
# The command line: exit status 2, the message on stderr, no traceback

CLI_CASES = [
    pytest.param({"req.txt": "numpy\nfoo=1\n"}, id="bad-line"),
    pytest.param({"req.txt": "foo\n-r req.txt\n"}, id="cycle"),
    pytest.param({"req.txt": "-r https://example.com/r.txt\n"}, id="remote-include"),
    pytest.param({"req.txt": b"\x89PNG\n\x1a\n\x00\x00"}, id="binary"),
    pytest.param({"req.txt": "--use-feature nope\n"}, id="bad-choice"),
]


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()


@pytest.mark.parametrize("files", CLI_CASES)
def test_cli_show_reports_the_error(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    entry = _tree(tmp_path, files)
    with pytest.raises(EnvkitError) as info:
        envkit.load(entry)
    result = _runner().invoke(cli, ["show", str(entry)])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"envkit: error: {info.value}\n")
    assert "Traceback" not in result.stderr


def test_cli_show_missing_file(tmp_path: Path) -> None:
    result = _runner().invoke(cli, ["show", str(tmp_path / "nothere.txt")])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        f"envkit: error: {tmp_path}/nothere.txt: no such file\n",
    )


def test_cli_show_json_reports_the_error(tmp_path: Path) -> None:
    entry = _tree(tmp_path, {"req.txt": "foo --hash=md5:abc\n"})
    result = _runner().invoke(cli, ["show", "--json", str(entry)])
    expected = _lines(
        f"envkit: error: {entry}:1:5: Allowed hash algorithms for --hash are sha256, sha384, sha512.",
        "    foo --hash=md5:abc",
        "        ^^^^^^^^^^^^^^",
        "",
    )
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", expected)


# ---------------------------------------------------------------------------------------
# Where packaging's parser backs off and blames the wrong part, the bad part is named.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "foo>=>1",
            _lines(
                "req.txt:1:4: invalid requirement: invalid version specifier '>=>1'",
                "    foo>=>1",
                "       ^^^^",
            ),
        ),
        (
            "foo~=1",
            _lines(
                "req.txt:1:4: invalid requirement: invalid version specifier '~=1':"
                " ~= needs a version of two parts or more, as in '~=1.0'",
                "    foo~=1",
                "       ^^^",
            ),
        ),
        (
            "foo\t>=>1",
            _lines(
                "req.txt:1:5: invalid requirement: invalid version specifier '>=>1'",
                "    foo >=>1",
                "        ^^^^",
            ),
        ),
        (
            "foo==1.0.0.x",
            _lines(
                "req.txt:1:4: invalid requirement: invalid version specifier '==1.0.0.x'",
                "    foo==1.0.0.x",
                "       ^^^^^^^^^",
            ),
        ),
        (
            "foo (>=1,<<2) ; python_version > '3'",
            _lines(
                "req.txt:1:10: invalid requirement: invalid version specifier '<<2'",
                "    foo (>=1,<<2) ; python_version > '3'",
                "             ^^^",
            ),
        ),
        (
            "foo[-bad]",
            _lines(
                "req.txt:1:5: invalid requirement: invalid extra name '-bad'",
                "    foo[-bad]",
                "        ^^^^",
            ),
        ),
        (
            "foo[ok,b@d]>=1",
            _lines(
                "req.txt:1:8: invalid requirement: invalid extra name 'b@d'",
                "    foo[ok,b@d]>=1",
                "           ^^^",
            ),
        ),
    ],
)
def test_the_malformed_part_is_named(text: str, expected: str) -> None:
    assert _error(text) == expected


@pytest.mark.parametrize(
    ("text", "column", "width"),
    [
        # a good specifier, then stray text: packaging's own message, at the specifier
        ('bar==1.0 and python_version<"3"', 4, 6),
        ("foo>=1.0 @ https://x", 4, 6),
        ("foo >=1.0)", 5, 5),
        # an extra ending in '_' is valid (packaging's identifier): the fault is elsewhere
        ("foo[dev_]>=1.0 bar", 10, 6),
    ],
)
def test_packaging_keeps_the_word_when_each_part_is_good(text: str, column: int, width: int) -> None:
    first, shown, caret = _error(text).splitlines()
    assert shown == f"    {text}"
    assert first == (
        f"req.txt:1:{column}: invalid requirement: Expected comma (within version specifier), "
        "semicolon (after version specifier) or end"
    )
    assert caret == " " * (4 + column - 1) + "^" * width


def test_editable_extras_error_points_at_the_extras() -> None:
    assert _error("-e ./foo[-x]") == _lines(
        "req.txt:1:9: invalid extras '[-x]'",
        "    -e ./foo[-x]",
        "            ^^^^",
    )


@pytest.mark.parametrize(
    ("text", "column"),
    [("https://x/foo.whl", 11), ("./dist/foo-1.0.whl", 8), ("https://example.com/" + "d/" * 80 + "bad.whl", 181)],
)
def test_wheel_file_name_error_points_at_the_file_name(text: str, column: int) -> None:
    assert _error(text).startswith(f"req.txt:1:{column}: invalid wheel file name")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--trus", _lines("req.txt:1:1: --trusted-host option requires 1 argument", "    --trus", "    ^^^^^^")),
        (
            "foo --config",
            _lines("req.txt:1:5: --config-settings option requires 1 argument", "    foo --config", "        ^^^^^^^^"),
        ),
    ],
)
def test_abbreviated_option_is_named_in_full(text: str, expected: str) -> None:
    assert _error(text) == expected


def test_cycle_names_the_whole_chain(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": "foo\n-r b.txt\n", "b.txt": "\n\n-r a.txt\n"})
    with pytest.raises(ParseError) as info:
        envkit.load(tmp_path / "a.txt")
    assert str(info.value) == _lines(
        f"{tmp_path}/b.txt:3:4: include cycle: 'a.txt' is already being read",
        "    -r a.txt",
        "       ^^^^^",
        f"  hint: the chain of includes is {tmp_path}/a.txt:2 -> {tmp_path}/b.txt:3 -> {tmp_path}/a.txt",
    )


def test_decode_error_line_has_no_carriage_return() -> None:
    with pytest.raises(ParseError) as info:
        loads_bytes(b"foo\r\nb\xe4r\r\n", PATH)
    assert str(info.value) == _lines(
        "req.txt:2:2: cannot decode byte(s) e4 as utf-8",
        "    b\N{REPLACEMENT CHARACTER}r",
        "     ^",
        "  hint: declare the file's encoding in its first line, e.g. '# -*- coding: latin-1 -*-'",
    )


@pytest.mark.parametrize("text", ['-e "foo @ git+https://x/y ; bad"', '-e "foo[x @ git+https://x/y"'])
def test_editable_pep508_with_an_error_is_an_error(text: str) -> None:
    with pytest.raises(ParseError):
        loads(text, PATH)
