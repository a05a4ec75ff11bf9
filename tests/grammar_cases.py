"""pip's requirements-file grammar as a table: each case a file and its whole parse, by hand.

Written from pip's documentation of the format
(https://pip.pypa.io/en/stable/reference/requirements-file-format/) and from what pip 26's
own reader does (``pip/_internal/req/req_file.py`` and ``constructors.py``).

A case is the text of ``requirements.txt`` (``str``, written as UTF-8 without newline
translation, or ``bytes``), any included files (``files``: path relative to the main
file -> text), and the expected result: every requirement with every field that matters
(:func:`R`), the sources, the file-wide options (the non-default :class:`PipOptions`
fields), the Python constraint and the warnings, all in full.

``pip`` is ``None`` when pip's own reader must agree with envkit's (the differential test
checks it), or a :class:`PipDiffers` saying why not and how pip's behaviour shows it, so
that the mark cannot go stale.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from envkit.model import PipOptions

MAIN = "requirements.txt"

# Digests: pip checks the algorithm, not the digest's length; these look like the real thing.
H1 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
H2 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
H3 = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"
H384 = "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
H512 = (
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)

Text = Union[str, bytes]


@dataclass(frozen=True)
class PipDiffers:
    """Why pip's own reader does not agree with envkit's on this case, and how that shows.

    ``rejects``: pip raises, and this text is part of its message. ``pip_only``: pip
    accepts the file and yields requirements with these (normalized) names that envkit
    reads as something else; with them removed the two readers agree.
    """

    reason: str
    rejects: Optional[str] = None
    pip_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    id: str
    text: Text
    reqs: tuple[dict[str, Any], ...] = ()
    files: dict[str, Text] = field(default_factory=dict)
    sources: tuple[tuple[str, str, Optional[str], Optional[str]], ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    python: Optional[str] = None
    warnings: tuple[str, ...] = ()
    #: Expand ``${VAR}`` with these (``None``: references are kept, and unset for pip).
    environ: Optional[dict[str, str]] = None
    #: Extra local folders pip needs to exist (project folders of paths are made anyway).
    dirs: tuple[str, ...] = ()
    pip: Optional[PipDiffers] = None

    def expected(self) -> dict[str, Any]:
        return {
            "requirements": list(self.reqs),
            "python": None if self.python is None else str(SpecifierSet(self.python)),
            "sources": list(self.sources),
            "options": PipOptions(**self.options),
            "warnings": list(self.warnings),
        }


def R(
    name: str | None,
    specifier: str = "",
    *,
    extras: tuple[str, ...] = (),
    marker: str | None = None,
    url: str | None = None,
    path: str | None = None,
    editable: bool = False,
    constraint: bool = False,
    hashes: tuple[tuple[str, str], ...] = (),
    config_settings: tuple[tuple[str, str], ...] = (),
    global_options: tuple[str, ...] = (),
    at: str = f"{MAIN}:1",
) -> dict[str, Any]:
    """One expected requirement, every field spelled out (``at`` is ``file:line``)."""
    return {
        "name": name,
        "specifier": str(SpecifierSet(specifier)),
        "extras": sorted(extras),
        "marker": None if marker is None else str(Marker(marker)),
        "url": url,
        "path": path,
        "editable": editable,
        "constraint": constraint,
        "hashes": list(hashes),
        "config_settings": list(config_settings),
        "global_options": list(global_options),
        "at": at,
    }


def L(line: int, file: str = MAIN) -> str:
    return f"{file}:{line}"


def W(where: str, message: str) -> str:
    """An expected warning: ``where`` is ``line:col`` in the main file or ``file:line:col``."""
    if where.count(":") == 1:
        where = f"{MAIN}:{where}"
    return f"{where}: warning: {message}"


def S(kind: str, url: str, username: str | None = None, password: str | None = None) -> tuple[str, str, Any, Any]:
    return (kind, url, username, password)


def PYTHON_WARNING(text: str) -> str:
    return (
        f"{text!r} names the Python interpreter, not a package (pip cannot install it); "
        "it is read as the Python version constraint"
    )


PYPI_ONLY = PipDiffers(
    "a 'python' line is the interpreter for envkit; pip reads it as a package named python",
    pip_only=("python",),
)

C: list[Case] = []


def case(id: str, text: Text, *reqs: dict[str, Any], **kwargs: Any) -> None:
    C.append(Case(id, text, tuple(reqs), **kwargs))


# ---------------------------------------------------------------------------------------
# Names and version specifiers (PEP 508 / PEP 440)

case("name", "pytest\n", R("pytest"))
case(
    "doc-plain-names",
    "pytest\npytest-cov\nbeautifulsoup4\n",
    R("pytest"),
    R("pytest-cov", at=L(2)),
    R("beautifulsoup4", at=L(3)),
)
case("name-case-kept", "Django\n", R("Django"))
case("name-dots-underscores", "zope.interface\nFoo_Bar\n", R("zope.interface"), R("Foo_Bar", at=L(2)))
case("name-single-char-and-digits", "x\n3to2\n", R("x"), R("3to2", at=L(2)))
case("spec-equal-spaced", "docopt == 0.6.1\n", R("docopt", "==0.6.1"))
case(
    "doc-extras-specs-marker",
    'requests [security] >= 2.8.1, == 2.8.* ; python_version < "2.7"\n',
    R("requests", "==2.8.*,>=2.8.1", extras=("security",), marker='python_version < "2.7"'),
)
case("spec-range", "foo>=1.0,<2.0\n", R("foo", ">=1.0,<2.0"))
case("spec-compatible", "foo~=1.4.2\n", R("foo", "~=1.4.2"))
case("spec-not-equal", "foo!=1.5\n", R("foo", "!=1.5"))
case("spec-le-lt-gt", "foo<=2\nbar<3\nbaz>1\n", R("foo", "<=2"), R("bar", "<3", at=L(2)), R("baz", ">1", at=L(3)))
case("spec-arbitrary-equality", "foo===1.0-weird.build\n", R("foo", "===1.0-weird.build"))
case("spec-arbitrary-equality-local", "foo===2.1.0+cu118\n", R("foo", "===2.1.0+cu118"))
case("spec-local-version", "torch==2.1.0+cu118\n", R("torch", "==2.1.0+cu118"))
case("spec-local-version-wildcard-free", "foo==1.0+ubuntu.1\n", R("foo", "==1.0+ubuntu.1"))
case("spec-wildcard", "foo==1.*\nbar!=2.1.*\n", R("foo", "==1.*"), R("bar", "!=2.1.*", at=L(2)))
case("spec-epoch", "foo==2!1.0\n", R("foo", "==2!1.0"))
case(
    "spec-pre-post-dev",
    "foo==1.0rc1\nbar>=2.0.dev3\nbaz==1.0.post2\n",
    R("foo", "==1.0rc1"),
    R("bar", ">=2.0.dev3", at=L(2)),
    R("baz", "==1.0.post2", at=L(3)),
)
case("spec-parenthesized", "foo (>=1.0, <2)\n", R("foo", ">=1.0,<2"))
case("spec-many-clauses", "foo>=1,!=1.3.*,<2\n", R("foo", ">=1,!=1.3.*,<2"))
case("spec-whitespace-around", "  foo  >=  1.0  \n", R("foo", ">=1.0"))
case("extras-one", "foo[bar]\n", R("foo", extras=("bar",)))
case("extras-spaced", "foo[ bar , baz ]>=1\n", R("foo", ">=1", extras=("bar", "baz")))
case("extras-case-kept", "Foo[Sec_Ext]\n", R("Foo", extras=("Sec_Ext",)))
case("extras-empty", "foo[]\n", R("foo"))
case("extras-with-spec-no-spaces", "foo[a,b]==1.0\n", R("foo", "==1.0", extras=("a", "b")))

# ---------------------------------------------------------------------------------------
# Environment markers

case("marker-python-version", 'foo ; python_version >= "3.8"\n', R("foo", marker='python_version >= "3.8"'))
case("marker-no-spaces", 'foo;python_version<"3.8"\n', R("foo", marker='python_version < "3.8"'))
case("marker-space-before-only", 'foo ;python_version<"3.8"\n', R("foo", marker='python_version < "3.8"'))
case("marker-sys-platform", 'pywin32 ; sys_platform == "win32"\n', R("pywin32", marker='sys_platform == "win32"'))
case(
    "marker-platform-machine-or",
    'foo ; platform_machine == "x86_64" or platform_machine == "aarch64"\n',
    R("foo", marker='platform_machine == "x86_64" or platform_machine == "aarch64"'),
)
case("marker-single-quotes", "foo ; os_name == 'nt'\n", R("foo", marker='os_name == "nt"'))
case(
    "marker-platform-system",
    'foo ; platform_system != "Windows"\n',
    R("foo", marker='platform_system != "Windows"'),
)
case(
    "marker-implementation",
    'foo ; implementation_name == "cpython" and platform_python_implementation == "CPython"\n',
    R("foo", marker='implementation_name == "cpython" and platform_python_implementation == "CPython"'),
)
case(
    "marker-full-version",
    'foo ; python_full_version >= "3.9.1"\n',
    R("foo", marker='python_full_version >= "3.9.1"'),
)
case("marker-in", 'foo ; "linux" in sys_platform\n', R("foo", marker='"linux" in sys_platform'))
case(
    "marker-not-in",
    'foo ; python_version not in "2.7, 3.4"\n',
    R("foo", marker='python_version not in "2.7, 3.4"'),
)
case("marker-reversed", "foo ; '3.8' <= python_version\n", R("foo", marker='"3.8" <= python_version'))
case(
    "marker-parens",
    'foo ; (python_version < "3.9" or os_name == "nt") and platform_machine != "arm64"\n',
    R("foo", marker='(python_version < "3.9" or os_name == "nt") and platform_machine != "arm64"'),
)
case("marker-extra", 'foo ; extra == "test"\n', R("foo", marker='extra == "test"'))
case(
    "marker-platform-release-version",
    'foo ; platform_release >= "5.0" and platform_version != "#1 SMP"\n',
    R("foo", marker='platform_release >= "5.0" and platform_version != "#1 SMP"'),
)
case(
    "marker-implementation-version",
    'foo ; implementation_version >= "3.9"\n',
    R("foo", marker='implementation_version >= "3.9"'),
)
case("marker-compatible-op", 'foo ; python_version ~= "3.8"\n', R("foo", marker='python_version ~= "3.8"'))
case(
    "marker-with-spec-and-extras",
    'foo[bar]>=1 ; python_version >= "3.8"\n',
    R("foo", ">=1", extras=("bar",), marker='python_version >= "3.8"'),
)
case("marker-empty-after-semicolon", "foo ;\n", R("foo"))
case(
    "marker-then-comment",
    'foo ; sys_platform == "linux"  # only on linux\n',
    R("foo", marker='sys_platform == "linux"'),
)

# ---------------------------------------------------------------------------------------
# Comments, blank lines

case("empty-file", "")
case("comment-line", "# a comment\n")
case("comment-only-file", "# one\n\n   # two\n\t# three\n")
case("comment-indented", "   # indented\nfoo\n", R("foo", at=L(2)))
case("comment-trailing", "foo==1.0 # pinned\n", R("foo", "==1.0"))
case("comment-trailing-tab", "foo==1.0\t# pinned\n", R("foo", "==1.0"))
case(
    "comment-sha256-fragment-survives",
    f"foo @ https://h.example.com/foo-1.0.tar.gz#sha256={H1}\n",
    R("foo", url=f"https://h.example.com/foo-1.0.tar.gz#sha256={H1}"),
)
case(
    "comment-egg-fragment-survives",
    "https://h.example.com/foo.zip#egg=foo\n",
    R("foo", url="https://h.example.com/foo.zip#egg=foo"),
)
case(
    "comment-after-url-fragment",
    "https://h.example.com/foo.zip#egg=foo # vendored\n",
    R("foo", url="https://h.example.com/foo.zip#egg=foo"),
)
case("blank-lines", "\n\nfoo\n\n\nbar\n\n", R("foo", at=L(3)), R("bar", at=L(6)))
case("whitespace-only-lines", "   \n\t\nfoo\n", R("foo", at=L(3)))
case("comment-after-option", "--pre # allow pre-releases\n", options={"pre": True})
case(
    "comment-hash-in-option-value",
    "--find-links https://h.example.com/links#frag\n",
    sources=(S("find-links", "https://h.example.com/links#frag"),),
)

# ---------------------------------------------------------------------------------------
# Backslash continuations

case("cont-specifier", "foo \\\n>=1.0\n", R("foo", ">=1.0"))
case("cont-no-space", "foo\\\n[bar]\\\n>=1\nbaz\n", R("foo", ">=1", extras=("bar",)), R("baz", at=L(4)))
case(
    "cont-keeps-first-line-number",
    "a\nfoo \\\n  >=1 \\\n  ,<2\nbar\n",
    R("a"),
    R("foo", ">=1,<2", at=L(2)),
    R("bar", at=L(5)),
)
case("cont-into-comment-line", "foo \\\n# comment\nbar\n", R("foo"), R("bar", at=L(3)))
case("cont-into-indented-comment-line", "foo \\\n    # comment\nbar\n", R("foo"), R("bar", at=L(3)))
case("cont-trailing-at-eof", "foo \\", R("foo"))
case("cont-trailing-at-eof-newline", "foo>=1 \\\n", R("foo", ">=1"))
case("cont-then-blank-line", "foo \\\n\nbar\n", R("foo"), R("bar", at=L(3)))
case("cont-comment-line-not-continued", "# note \\\nfoo\n", R("foo", at=L(2)))
case("cont-swallowed-by-comment", "foo # note \\\nbar\nbaz\n", R("foo"), R("baz", at=L(3)))
case(
    "cont-option-value",
    "--index-url \\\n    https://h.example.com/simple\n",
    sources=(S("index", "https://h.example.com/simple"),),
)
case(
    "cont-marker",
    'foo ; python_version >= "3.8" \\\n    and os_name == "posix"\n',
    R("foo", marker='python_version >= "3.8" and os_name == "posix"'),
)
case("cont-crlf", "foo \\\r\n>=1\r\nbar\r\n", R("foo", ">=1"), R("bar", at=L(3)))
case("cont-backslash-only-line", "foo \\\n\\\n>=1\n", R("foo", ">=1"))
case(
    "cont-hashes-pip-compile",
    f"""\
#
# This file is autogenerated by pip-compile with Python 3.11
#
certifi==2024.2.2 \\
    --hash=sha256:{H1} \\
    --hash=sha256:{H2}
    # via requests
idna==3.6 \\
    --hash=sha256:{H3}
    # via requests
requests==2.31.0 \\
    --hash=sha256:{H2}
    # via -r requirements.in
""",
    R("certifi", "==2024.2.2", hashes=(("sha256", H1), ("sha256", H2)), at=L(4)),
    R("idna", "==3.6", hashes=(("sha256", H3),), at=L(8)),
    R("requests", "==2.31.0", hashes=(("sha256", H2),), at=L(11)),
)
case(
    "cont-hash-then-comment-line",
    f"foo==1 \\\n    --hash=sha256:{H1} \\\n    # via bar\nbaz\n",
    R("foo", "==1", hashes=(("sha256", H1),)),
    R("baz", at=L(4)),
)

# ---------------------------------------------------------------------------------------
# Line endings and encodings

case("crlf", b"foo\r\nbar==1\r\n", R("foo"), R("bar", "==1", at=L(2)))
case("cr-only", b"foo\rbar\r", R("foo"), R("bar", at=L(2)))
case("mixed-line-endings", b"foo\r\nbar\nbaz\r", R("foo"), R("bar", at=L(2)), R("baz", at=L(3)))
case("form-feed-separates-lines", b"foo\x0cbar\n", R("foo"), R("bar", at=L(2)))
case("no-final-newline", b"foo\nbar", R("foo"), R("bar", at=L(2)))
case("bom-utf8", codecs.BOM_UTF8 + b"foo==1\n", R("foo", "==1"))
case(
    "bom-utf16-le",
    codecs.BOM_UTF16_LE + "foo==1\r\nbar ; os_name == 'nt'\r\n".encode("utf-16-le"),
    R("foo", "==1"),
    R("bar", marker='os_name == "nt"', at=L(2)),
)
case(
    "bom-utf16-be",
    codecs.BOM_UTF16_BE + "foo==1\n# caf\u00e9\nbar\n".encode("utf-16-be"),
    R("foo", "==1"),
    R("bar", at=L(3)),
)
case("bom-utf32-le", codecs.BOM_UTF32_LE + "foo>=2\n".encode("utf-32-le"), R("foo", ">=2"))
case("bom-utf32-be", codecs.BOM_UTF32_BE + "foo>=2\nbar\n".encode("utf-32-be"), R("foo", ">=2"), R("bar", at=L(2)))
case(
    "bom-utf8-beats-coding-line",
    codecs.BOM_UTF8 + "# -*- coding: latin-1 -*-\nfoo ; platform_release == 'caf\u00e9'\n".encode(),
    R("foo", marker="platform_release == 'caf\u00e9'", at=L(2)),
)
case(
    "pep263-latin1",
    b"# -*- coding: latin-1 -*-\nfoo ; platform_release == 'caf\xe9'\n",
    R("foo", marker="platform_release == 'caf\u00e9'", at=L(2)),
)
case(
    "pep263-second-line",
    b"# generated\n# coding=latin-1\n# caf\xe9\nfoo\n",
    R("foo", at=L(4)),
)
case(
    "pep263-vim-fileencoding",
    b"# vim: set fileencoding=latin-1 :\nbar  # caf\xe9\n",
    R("bar", at=L(2)),
)
case(
    "pep263-third-line-ignored",
    "# a\n# b\n# coding: latin-1\n# caf\u00e9 in UTF-8\nfoo\n".encode(),
    R("foo", at=L(5)),
)
case(
    "utf8-non-ascii",
    "# d\u00e9pendances\nfoo ; platform_release == 'caf\u00e9'\n".encode(),
    R("foo", marker="platform_release == 'caf\u00e9'", at=L(2)),
)

# ---------------------------------------------------------------------------------------
# Includes: -r/--requirement and -c/--constraint

case(
    "include-r-in-place",
    "foo\n-r other.txt\nbaz\n",
    R("foo"),
    R("bar", at=L(1, "other.txt")),
    R("baz", at=L(3)),
    files={"other.txt": "bar\n"},
)
case(
    "include-requirement-long",
    "--requirement other.txt\n",
    R("bar", at=L(1, "other.txt")),
    files={"other.txt": "bar\n"},
)
case(
    "include-requirement-equals",
    "--requirement=other.txt\n",
    R("bar", at=L(1, "other.txt")),
    files={"other.txt": "bar\n"},
)
case("include-r-attached", "-rother.txt\n", R("bar", at=L(1, "other.txt")), files={"other.txt": "bar\n"})
case(
    "include-requirement-abbreviated",
    "--requirem other.txt\n",
    R("bar", at=L(1, "other.txt")),
    files={"other.txt": "bar\n"},
)
case(
    "include-nested-relative-to-includer",
    "-r sub/a.txt\n",
    R("b", at=L(1, "sub/b.txt")),
    R("a", at=L(2, "sub/a.txt")),
    files={"sub/a.txt": "-r b.txt\na\n", "sub/b.txt": "b\n"},
)
case(
    "include-parent-folder",
    "-r sub/a.txt\n",
    R("common", at=L(1, "common.txt")),
    files={"sub/a.txt": "-r ../common.txt\n", "common.txt": "common\n"},
)
case(
    "include-outside-folder",
    "-r ../shared.txt\n",
    R("shared", at=L(1, "../shared.txt")),
    files={"../shared.txt": "shared\n"},
)
case(
    "include-constraint",
    "-c constraints.txt\nfoo\n",
    R("foo", "<2", constraint=True, at=L(1, "constraints.txt")),
    R("bar", "==1.0", constraint=True, at=L(2, "constraints.txt")),
    R("foo", at=L(2)),
    files={"constraints.txt": "foo<2\nbar==1.0\n"},
)
case(
    "include-constraint-long-equals",
    "--constraint=c.txt\n",
    R("foo", "<2", constraint=True, at=L(1, "c.txt")),
    files={"c.txt": "foo<2\n"},
)
case(
    "include-constraint-attached",
    "-cc.txt\n",
    R("foo", "<2", constraint=True, at=L(1, "c.txt")),
    files={"c.txt": "foo<2\n"},
)
case(
    "include-constraint-markers",
    "-c c.txt\n",
    R("foo", "<2", marker='python_version < "3.8"', constraint=True, at=L(1, "c.txt")),
    R("foo", "<3", marker='python_version >= "3.8"', constraint=True, at=L(2, "c.txt")),
    files={"c.txt": 'foo<2 ; python_version < "3.8"\nfoo<3 ; python_version >= "3.8"\n'},
)
case(
    "include-r-inside-c-gives-requirements",
    "-c c.txt\n",
    R("foo", "<2", constraint=True, at=L(1, "c.txt")),
    R("bar", at=L(1, "r2.txt")),
    files={"c.txt": "foo<2\n-r r2.txt\n", "r2.txt": "bar\n"},
)
case(
    "include-c-inside-r",
    "-r r2.txt\n",
    R("bar", "<2", constraint=True, at=L(1, "c.txt")),
    R("bar", at=L(2, "r2.txt")),
    files={"r2.txt": "-c c.txt\nbar\n", "c.txt": "bar<2\n"},
)
case(
    "include-c-inside-c",
    "-c c.txt\n",
    R("bar", "<3", constraint=True, at=L(1, "c2.txt")),
    R("foo", "<2", constraint=True, at=L(2, "c.txt")),
    files={"c.txt": "-c c2.txt\nfoo<2\n", "c2.txt": "bar<3\n"},
)
case(
    "include-options-apply-to-whole-install",
    "-r other.txt\nfoo\n",
    R("foo", at=L(2)),
    files={"other.txt": "--index-url https://h.example.com/simple\n--pre\n"},
    sources=(S("index", "https://h.example.com/simple"),),
    options={"pre": True},
)
case(
    "include-twice-is-not-a-cycle",
    "-r a.txt\n-r a.txt\n",
    R("x", at=L(1, "a.txt")),
    R("x", at=L(1, "a.txt")),
    files={"a.txt": "x\n"},
)
case(
    "include-diamond",
    "-r a.txt\n-r b.txt\n",
    R("c", at=L(1, "common.txt")),
    R("a", at=L(2, "a.txt")),
    R("c", at=L(1, "common.txt")),
    R("b", at=L(2, "b.txt")),
    files={"a.txt": "-r common.txt\na\n", "b.txt": "-r common.txt\nb\n", "common.txt": "c\n"},
)
case(
    "include-trailing-comment",
    "-r other.txt  # shared pins\n",
    R("bar", at=L(1, "other.txt")),
    files={"other.txt": "bar\n"},
)
case(
    "include-quoted-name-with-space",
    "-r 'my reqs.txt'\n",
    R("bar", at=L(1, "my reqs.txt")),
    files={"my reqs.txt": "bar\n"},
)
case(
    "include-continued-line-inside",
    "-r other.txt\n",
    R("bar", ">=1", at=L(2, "other.txt")),
    files={"other.txt": "# base\nbar \\\n  >=1\n"},
)
case(
    "include-bom-crlf",
    "-r other.txt\n",
    R("bar", at=L(1, "other.txt")),
    R("baz", at=L(2, "other.txt")),
    files={"other.txt": codecs.BOM_UTF8 + b"bar\r\nbaz\r\n"},
)
case(
    "include-utf16-file",
    "-c c.txt\n",
    R("bar", "<2", constraint=True, at=L(1, "c.txt")),
    files={"c.txt": codecs.BOM_UTF16_LE + "bar<2\n".encode("utf-16-le")},
)
case(
    "doc-example",
    """\
# This is a comment, to show how #-prefixed lines are ignored.
# It is possible to specify requirements as plain names.
pytest
pytest-cov
beautifulsoup4

# The syntax supported here is the same as that of requirement specifiers.
docopt == 0.6.1
requests [security] >= 2.8.1, == 2.8.* ; python_version < "2.7"
urllib3 @ https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip

# It is possible to refer to other requirement files or constraints files.
-r other-requirements.txt
-c constraints.txt

# It is possible to refer to specific local distribution paths.
./downloads/numpy-1.9.2-cp34-none-win32.whl

# It is possible to refer to URLs.
http://wxpython.org/Phoenix/snapshot-builds/wxPython_Phoenix-3.0.3.dev1820+49a8884-cp34-none-win_amd64.whl
""",
    R("pytest", at=L(3)),
    R("pytest-cov", at=L(4)),
    R("beautifulsoup4", at=L(5)),
    R("docopt", "==0.6.1", at=L(8)),
    R("requests", "==2.8.*,>=2.8.1", extras=("security",), marker='python_version < "2.7"', at=L(9)),
    R("urllib3", url="https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip", at=L(10)),
    R("six", at=L(1, "other-requirements.txt")),
    R("six", "<2", constraint=True, at=L(1, "constraints.txt")),
    R("numpy", "==1.9.2", path="./downloads/numpy-1.9.2-cp34-none-win32.whl", at=L(17)),
    R(
        "wxpython-phoenix",
        "==3.0.3.dev1820+49a8884",
        url="http://wxpython.org/Phoenix/snapshot-builds/wxPython_Phoenix-3.0.3.dev1820+49a8884-cp34-none-win_amd64.whl",
        at=L(20),
    ),
    files={"other-requirements.txt": "six\n", "constraints.txt": "six<2\n"},
)

# ---------------------------------------------------------------------------------------
# Editables: -e/--editable with a local path or a VCS URL

case("editable-path", "-e ./pkg\n", R(None, path="./pkg", editable=True))
case("editable-dot", "-e .\n", R(None, path=".", editable=True))
case("editable-long", "--editable ./pkg\n", R(None, path="./pkg", editable=True))
case("editable-long-equals", "--editable=./pkg\n", R(None, path="./pkg", editable=True))
case("editable-attached", "-e./pkg\n", R(None, path="./pkg", editable=True))
case("editable-abbreviated", "--ed ./pkg\n", R(None, path="./pkg", editable=True))
case("editable-path-extras", "-e ./pkg[dev,test]\n", R(None, extras=("dev", "test"), path="./pkg", editable=True))
case("editable-bare-folder-name", "-e pkg\n", R(None, path="pkg", editable=True))
case("editable-trailing-slash", "-e libs/core/\n", R(None, path="libs/core/", editable=True))
case("editable-parent-folder", "-e ../sibling\n", R(None, path="../sibling", editable=True))
case("editable-path-comment", "-e ./pkg  # local checkout\n", R(None, path="./pkg", editable=True))
case(
    "editable-git-https",
    "-e git+https://github.com/pypa/sampleproject.git#egg=sampleproject\n",
    R("sampleproject", url="git+https://github.com/pypa/sampleproject.git#egg=sampleproject", editable=True),
)
case(
    "editable-git-ref",
    "-e git+https://github.com/pypa/pip.git@24.0#egg=pip\n",
    R("pip", url="git+https://github.com/pypa/pip.git@24.0#egg=pip", editable=True),
)
case(
    "editable-git-subdirectory",
    "-e git+https://github.com/org/mono.git@main#egg=core&subdirectory=libs/core\n",
    R("core", url="git+https://github.com/org/mono.git@main#egg=core&subdirectory=libs/core", editable=True),
)
case(
    "editable-git-ssh",
    "-e git+ssh://git@github.com/org/repo.git@v1#egg=repo\n",
    R("repo", url="git+ssh://git@github.com/org/repo.git@v1#egg=repo", editable=True),
)
case(
    "editable-git-git",
    "-e git+git://github.com/org/repo.git#egg=repo\n",
    R("repo", url="git+git://github.com/org/repo.git#egg=repo", editable=True),
)
case(
    "editable-git-prefix-normalised",
    "-e git://github.com/org/repo.git#egg=repo\n",
    R("repo", url="git+git://github.com/org/repo.git#egg=repo", editable=True),
)
case(
    "editable-svn-prefix-normalised",
    "-e svn://svn.example.com/repo/trunk#egg=repo\n",
    R("repo", url="svn+svn://svn.example.com/repo/trunk#egg=repo", editable=True),
)
case(
    "editable-git-file",
    "-e git+file:///srv/repos/repo#egg=repo\n",
    R("repo", url="git+file:///srv/repos/repo#egg=repo", editable=True),
)
case(
    "editable-hg",
    "-e hg+https://hg.example.com/repo@tip#egg=repo\n",
    R("repo", url="hg+https://hg.example.com/repo@tip#egg=repo", editable=True),
)
case(
    "editable-svn",
    "-e svn+https://svn.example.com/repo/trunk@1234#egg=repo\n",
    R("repo", url="svn+https://svn.example.com/repo/trunk@1234#egg=repo", editable=True),
)
case(
    "editable-bzr",
    "-e bzr+https://bzr.example.com/repo@42#egg=repo\n",
    R("repo", url="bzr+https://bzr.example.com/repo@42#egg=repo", editable=True),
)
case("editable-bzr-lp", "-e bzr+lp:repo#egg=repo\n", R("repo", url="bzr+lp:repo#egg=repo", editable=True))
case(
    "editable-egg-name-as-written",
    "-e git+https://h.example.com/r.git#egg=Foo_Bar\n",
    R("Foo_Bar", url="git+https://h.example.com/r.git#egg=Foo_Bar", editable=True),
)
case(
    "editable-pep508-quoted",
    '-e "foo @ git+https://github.com/org/foo.git@v1"\n',
    R("foo", url="git+https://github.com/org/foo.git@v1", editable=True),
)
case(
    "editable-pep508-extras-marker",
    "-e 'foo[bar] @ git+https://github.com/org/foo.git ; python_version >= \"3.8\"'\n",
    R(
        "foo",
        extras=("bar",),
        marker='python_version >= "3.8"',
        url="git+https://github.com/org/foo.git",
        editable=True,
    ),
)
case(
    "editable-config-settings",
    "-e ./pkg --config-settings editable_mode=compat\n",
    R(None, path="./pkg", editable=True, config_settings=(("editable_mode", "compat"),)),
)
case(
    "editable-config-settings-short",
    "-e ./pkg -C editable_mode=strict -C build-dir=b\n",
    R(None, path="./pkg", editable=True, config_settings=(("editable_mode", "strict"), ("build-dir", "b"))),
)
case(
    "editable-hash-ignored",
    f"-e ./pkg --hash=sha256:{H1}\n",
    R(None, path="./pkg", editable=True),
    warnings=(W("1:10", "pip ignores --hash on an editable line"),),
)
case(
    "editable-marker-ignored",
    '-e ./pkg ; python_version > "3"\n',
    R(None, path="./pkg", editable=True),
    warnings=(
        W(
            "1:10",
            "pip ignores ';' after the options of a line (an editable's marker needs the form '-e name @ URL ; marker')",
        ),
        W("1:12", "pip ignores 'python_version' after the options of a line"),
        W("1:27", "pip ignores '>' after the options of a line"),
        W("1:29", "pip ignores '3' after the options of a line"),
    ),
)
case(
    "editable-two-on-a-line",
    "-e ./a -e ./b\n",
    R(None, path="./a", editable=True),
    warnings=(W("1:8", "pip reads only the first -e of a line; this one is ignored"),),
    dirs=("b",),
)
case(
    "editable-flag-after-requirement",
    "./pkg -e ./other\n",
    R(None, path="./pkg", editable=True),
    warnings=(W("1:7", "pip reads this line as '-e ./pkg'; the value of --editable is ignored"),),
)
case(
    "editable-index-url-ignored",
    "-e ./pkg --index-url https://h.example.com/simple\n",
    R(None, path="./pkg", editable=True),
    warnings=(W("1:10", "pip ignores --index-url on an editable line"),),
)

# ---------------------------------------------------------------------------------------
# PEP 508 direct references: name[extras] @ url ; marker

case(
    "pep508-doc-url",
    "urllib3 @ https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip\n",
    R("urllib3", url="https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip"),
)
case(
    "pep508-extras-marker",
    'foo[bar] @ https://h.example.com/foo-1.0.zip ; python_version >= "3.8"\n',
    R("foo", extras=("bar",), marker='python_version >= "3.8"', url="https://h.example.com/foo-1.0.zip"),
)
case(
    "pep508-git-ref",
    "foo @ git+https://github.com/org/foo.git@v1.0\n",
    R("foo", url="git+https://github.com/org/foo.git@v1.0"),
)
case(
    "pep508-git-ssh-subdirectory",
    "foo @ git+ssh://git@github.com/org/mono.git@abc123#subdirectory=foo\n",
    R("foo", url="git+ssh://git@github.com/org/mono.git@abc123#subdirectory=foo"),
)
case(
    "pep508-file-url",
    "foo @ file:///srv/dist/foo-1.0.tar.gz\n",
    R("foo", url="file:///srv/dist/foo-1.0.tar.gz"),
)
case("pep508-no-spaces", "foo@https://h.example.com/foo.zip\n", R("foo", url="https://h.example.com/foo.zip"))
case(
    "pep508-wheel-url-keeps-no-version",
    "foo @ https://h.example.com/foo-1.0-py3-none-any.whl\n",
    R("foo", url="https://h.example.com/foo-1.0-py3-none-any.whl"),
)
case(
    "pep508-hash-option",
    f"foo @ https://h.example.com/foo-1.0.tar.gz --hash=sha256:{H1}\n",
    R("foo", url="https://h.example.com/foo-1.0.tar.gz", hashes=(("sha256", H1),)),
)
case(
    "pep508-var-reference-kept",
    "foo @ https://${GH_TOKEN}@github.com/org/foo/archive/v1.zip\n",
    R("foo", url="https://${GH_TOKEN}@github.com/org/foo/archive/v1.zip"),
)
case(
    "pep508-other-vcs",
    "foo @ hg+https://hg.example.com/foo@tip\n"
    "bar @ svn+https://svn.example.com/bar/trunk@12\n"
    "baz @ bzr+https://bzr.example.com/baz@3\n",
    R("foo", url="hg+https://hg.example.com/foo@tip"),
    R("bar", url="svn+https://svn.example.com/bar/trunk@12", at=L(2)),
    R("baz", url="bzr+https://bzr.example.com/baz@3", at=L(3)),
)
case(
    "pep508-marker-no-space-after-semicolon",
    'foo @ https://h.example.com/foo.zip ;python_version>"3"\n',
    R("foo", url="https://h.example.com/foo.zip", marker='python_version > "3"'),
)

# ---------------------------------------------------------------------------------------
# Bare URLs (archives, wheels, VCS)

case(
    "url-sdist-unnamed",
    "https://h.example.com/pkgs/foo-1.0.tar.gz\n",
    R(None, url="https://h.example.com/pkgs/foo-1.0.tar.gz"),
)
case(
    "url-wheel-named-by-file-name",
    "https://h.example.com/pkgs/foo-1.0-py3-none-any.whl\n",
    R("foo", "==1.0", url="https://h.example.com/pkgs/foo-1.0-py3-none-any.whl"),
)
case(
    "url-wheel-build-tag-and-local",
    "https://h.example.com/torch-2.1.0%2Bcu118-1-cp311-cp311-linux_x86_64.whl\n",
    R("torch", "==2.1.0+cu118", url="https://h.example.com/torch-2.1.0%2Bcu118-1-cp311-cp311-linux_x86_64.whl"),
)
case(
    "url-egg-subdirectory",
    "https://h.example.com/mono.zip#egg=foo&subdirectory=libs/foo\n",
    R("foo", url="https://h.example.com/mono.zip#egg=foo&subdirectory=libs/foo"),
)
case(
    "url-git-egg",
    "git+https://github.com/org/foo.git#egg=foo\n",
    R("foo", url="git+https://github.com/org/foo.git#egg=foo"),
)
case(
    "url-git-unnamed",
    "git+https://github.com/org/foo.git@v1.0\n",
    R(None, url="git+https://github.com/org/foo.git@v1.0"),
)
case(
    "url-git-ref-egg-subdirectory",
    "git+https://github.com/org/mono.git@main#egg=core&subdirectory=src/core\n",
    R("core", url="git+https://github.com/org/mono.git@main#egg=core&subdirectory=src/core"),
)
case(
    "url-git-ssh",
    "git+ssh://git@github.com/org/foo.git#egg=foo\n",
    R("foo", url="git+ssh://git@github.com/org/foo.git#egg=foo"),
)
case("url-hg", "hg+https://hg.example.com/foo@tip#egg=foo\n", R("foo", url="hg+https://hg.example.com/foo@tip#egg=foo"))
case(
    "url-svn",
    "svn+https://svn.example.com/foo/trunk@1234#egg=foo\n",
    R("foo", url="svn+https://svn.example.com/foo/trunk@1234#egg=foo"),
)
case(
    "url-bzr",
    "bzr+https://bzr.example.com/foo@42#egg=foo\n",
    R("foo", url="bzr+https://bzr.example.com/foo@42#egg=foo"),
)
case("url-file-sdist", "file:///srv/dist/foo-1.0.tar.gz\n", R(None, url="file:///srv/dist/foo-1.0.tar.gz"))
case(
    "url-file-wheel",
    "file:///srv/dist/foo-1.0-py3-none-any.whl\n",
    R("foo", "==1.0", url="file:///srv/dist/foo-1.0-py3-none-any.whl"),
)
case(
    "url-marker",
    'https://h.example.com/foo-1.0-py3-none-any.whl ; python_version >= "3.8"\n',
    R("foo", "==1.0", marker='python_version >= "3.8"', url="https://h.example.com/foo-1.0-py3-none-any.whl"),
)
case(
    "url-semicolon-without-space-stays-in-url",
    'https://h.example.com/foo.zip;python_version<"3"\n',
    R(None, url='https://h.example.com/foo.zip;python_version<"3"'),
)
case("url-ftp", "ftp://ftp.example.com/pub/foo-1.0.tar.gz\n", R(None, url="ftp://ftp.example.com/pub/foo-1.0.tar.gz"))
case(
    "url-uppercase-scheme",
    "HTTPS://h.example.com/foo-1.0.tar.gz\n",
    R(None, url="HTTPS://h.example.com/foo-1.0.tar.gz"),
)
case(
    "url-hash",
    f"https://h.example.com/foo-1.0.tar.gz --hash=sha256:{H1}\n",
    R(None, url="https://h.example.com/foo-1.0.tar.gz", hashes=(("sha256", H1),)),
)
case(
    "url-var-credentials-kept",
    "https://${PRIVATE_USER}:${PRIVATE_TOKEN}@h.example.com/foo-1.0.tar.gz\n",
    R(None, url="https://${PRIVATE_USER}:${PRIVATE_TOKEN}@h.example.com/foo-1.0.tar.gz"),
)

# ---------------------------------------------------------------------------------------
# Local paths (archives, folders, wheels)

case(
    "path-wheel-doc",
    "./downloads/numpy-1.9.2-cp34-none-win32.whl\n",
    R("numpy", "==1.9.2", path="./downloads/numpy-1.9.2-cp34-none-win32.whl"),
)
case("path-sdist", "./dist/foo-1.0.tar.gz\n", R(None, path="./dist/foo-1.0.tar.gz"))
case("path-archive-without-slash", "foo-1.0.tar.gz\n", R(None, path="foo-1.0.tar.gz"))
case("path-wheel-without-slash", "foo-1.0-py3-none-any.whl\n", R("foo", "==1.0", path="foo-1.0-py3-none-any.whl"))
case("path-folder", "./pkg\n", R(None, path="./pkg"))
case("path-folder-dot", ".\n", R(None, path="."))
case("path-folder-extras", "./pkg[dev]\n", R(None, extras=("dev",), path="./pkg"))
case(
    "path-folder-extras-marker",
    './pkg[dev] ; python_version >= "3.8"\n',
    R(None, extras=("dev",), marker='python_version >= "3.8"', path="./pkg"),
)
case("path-nested-trailing-slash", "libs/core/\n", R(None, path="libs/core/"))
case("path-parent-folder", "../sibling\n", R(None, path="../sibling"))
case("path-with-space", "./my pkg\n", R(None, path="./my pkg"))
case("path-zip", "./dist/foo-1.0.zip\n", R(None, path="./dist/foo-1.0.zip"))
case(
    "path-every-archive-extension",
    "a-1.tar.bz2\nb-1.tbz\nc-1.tgz\nd-1.tar.xz\ne-1.txz\nf-1.tlz\ng-1.tar.lz\nh-1.tar.lzma\ni-1.tar\n",
    *(
        R(None, path=p, at=L(n))
        for n, p in enumerate(
            [
                "a-1.tar.bz2",
                "b-1.tbz",
                "c-1.tgz",
                "d-1.tar.xz",
                "e-1.txz",
                "f-1.tlz",
                "g-1.tar.lz",
                "h-1.tar.lzma",
                "i-1.tar",
            ],
            start=1,
        )
    ),
)
case(
    "path-wheel-hash",
    f"./dist/foo-1.0-py3-none-any.whl --hash=sha256:{H1}\n",
    R("foo", "==1.0", path="./dist/foo-1.0-py3-none-any.whl", hashes=(("sha256", H1),)),
)
case(
    "path-wheel-marker",
    './dist/foo-1.0-py3-none-any.whl ; sys_platform == "linux"\n',
    R("foo", "==1.0", marker='sys_platform == "linux"', path="./dist/foo-1.0-py3-none-any.whl"),
)
case(
    "path-archive-uppercase-extension",
    "./dist/Foo-1.0.ZIP\n",
    R(None, path="./dist/Foo-1.0.ZIP"),
)

# ---------------------------------------------------------------------------------------
# Per-requirement options: --hash

case("hash-equals", f"foo==1.0 --hash=sha256:{H1}\n", R("foo", "==1.0", hashes=(("sha256", H1),)))
case("hash-space", f"foo==1.0 --hash sha256:{H1}\n", R("foo", "==1.0", hashes=(("sha256", H1),)))
case(
    "hash-many",
    f"foo==1.0 --hash=sha256:{H1} --hash=sha256:{H2} --hash=sha256:{H3}\n",
    R("foo", "==1.0", hashes=(("sha256", H1), ("sha256", H2), ("sha256", H3))),
)
case(
    "hash-sha384-sha512",
    f"foo==1.0 --hash=sha384:{H384} --hash=sha512:{H512}\n",
    R("foo", "==1.0", hashes=(("sha384", H384), ("sha512", H512))),
)
case(
    "hash-duplicate-kept",
    f"foo==1 --hash=sha256:{H1} --hash=sha256:{H1}\n",
    R("foo", "==1", hashes=(("sha256", H1), ("sha256", H1))),
)
case("hash-abbreviated", f"foo==1 --has=sha256:{H1}\n", R("foo", "==1", hashes=(("sha256", H1),)))
case(
    "hash-with-marker",
    f'foo==1 ; python_version >= "3.8" --hash=sha256:{H1}\n',
    R("foo", "==1", marker='python_version >= "3.8"', hashes=(("sha256", H1),)),
)
case(
    "hash-on-option-line-ignored",
    f"--hash=sha256:{H1}\nfoo\n",
    R("foo", at=L(2)),
    warnings=(W("1:1", "--hash has no requirement on this line and is ignored"),),
)
case(
    "hash-require-hashes",
    f"--require-hashes\nfoo==1 --hash=sha256:{H1}\n",
    R("foo", "==1", hashes=(("sha256", H1),), at=L(2)),
    options={"require_hashes": True},
)
case(
    "hash-tab-separated",
    f"foo==1.0\t--hash=sha256:{H1}\n",
    R("foo", "==1.0", hashes=(("sha256", H1),)),
    pip=PipDiffers(
        "pip splits options on single spaces only; a tab before --hash breaks its reading",
        rejects="Invalid requirement",
    ),
)
case(
    "hash-tab-continuation",
    f"foo==1.0 \\\n\t--hash=sha256:{H1} \\\n\t--hash=sha256:{H2}\n",
    R("foo", "==1.0", hashes=(("sha256", H1), ("sha256", H2))),
    pip=PipDiffers(
        "pip splits options on single spaces only; tab-indented hash lines break its reading",
        rejects="Invalid requirement",
    ),
)

# ---------------------------------------------------------------------------------------
# Per-requirement options: --config-settings / -C, --global-option

case(
    "config-long-equals",
    "foo --config-settings=setup-args=-Dblas=openblas\n",
    R("foo", config_settings=(("setup-args", "-Dblas=openblas"),)),
)
case("config-long-space", "foo --config-settings key=val\n", R("foo", config_settings=(("key", "val"),)))
case("config-short", "foo -C key=val\n", R("foo", config_settings=(("key", "val"),)))
case("config-short-attached", "foo -Ckey=val\n", R("foo", config_settings=(("key", "val"),)))
case("config-repeated-key", "foo -C k=a -C k=b\n", R("foo", config_settings=(("k", "a"), ("k", "b"))))
case("config-quoted-value", "foo -C 'k=a b'\n", R("foo", config_settings=(("k", "a b"),)))
case("config-empty-value", "foo -C k=\n", R("foo", config_settings=(("k", ""),)))
case("config-abbreviated", "foo --config k=v\n", R("foo", config_settings=(("k", "v"),)))
case(
    "config-with-hash",
    f"foo==1 --hash=sha256:{H1} -C k=v\n",
    R("foo", "==1", hashes=(("sha256", H1),), config_settings=(("k", "v"),)),
)
case(
    "config-on-option-line-ignored",
    "--config-settings k=v\n",
    warnings=(W("1:1", "--config-settings has no requirement on this line and is ignored"),),
)
case(
    "global-option-legacy",
    "foo --global-option=--no-user-cfg\n",
    R("foo", global_options=("--no-user-cfg",)),
    warnings=(W("1:5", "pip 25.3 and newer reject --global-option; use --config-settings"),),
    pip=PipDiffers(
        "pip 25.3 removed --global-option; envkit still reads it, with a warning",
        rejects="no such option: --global-option",
    ),
)
case(
    "egg-extras-legacy",
    "git+https://github.com/org/foo.git#egg=foo[bar]\n",
    R("foo", extras=("bar",), url="git+https://github.com/org/foo.git#egg=foo[bar]"),
    warnings=(W("1:40", "pip 25 and newer reject extras in '#egg=foo[bar]'; write 'foo[bar] @ URL'"),),
    pip=PipDiffers("pip 25 rejects extras in #egg=; envkit reads them, with a warning", rejects="invalid-egg-fragment"),
)

# ---------------------------------------------------------------------------------------
# File-wide options: indexes

IDX = "https://h.example.com/simple"
case("index-url-short", f"-i {IDX}\n", sources=(S("index", IDX),))
case("index-url-long", f"--index-url {IDX}\n", sources=(S("index", IDX),))
case("index-url-equals", f"--index-url={IDX}\n", sources=(S("index", IDX),))
case("index-url-pypi-url-alias", f"--pypi-url {IDX}\n", sources=(S("index", IDX),))
case("index-url-attached", f"-i{IDX}\n", sources=(S("index", IDX),))
case("index-url-abbreviated", f"--index {IDX}\n", sources=(S("index", IDX),))
case("index-url-abbreviated-equals", f"--ind={IDX}\n", sources=(S("index", IDX),))
case("index-url-double-quoted", f'--index-url "{IDX}"\n', sources=(S("index", IDX),))
case(
    "index-url-credentials",
    "--index-url https://user:s3cret@h.example.com/simple\n",
    sources=(S("index", IDX, "user", "s3cret"),),
)
case(
    "index-url-var-credentials",
    "--index-url https://${PYPI_USER}:${PYPI_TOKEN}@h.example.com/simple\n",
    sources=(S("index", IDX, "${PYPI_USER}", "${PYPI_TOKEN}"),),
)
case(
    "index-url-var-token-only",
    "--index-url https://${PYPI_TOKEN}@h.example.com/simple\n",
    sources=(S("index", IDX, "${PYPI_TOKEN}"),),
)
case(
    "index-url-var-host",
    "--index-url https://${INDEX_HOST}/simple\n",
    sources=(S("index", "https://${INDEX_HOST}/simple"),),
)
case(
    "extra-index-url-twice",
    "--extra-index-url https://a.example.com/simple\n--extra-index-url https://b.example.com/simple\n",
    sources=(S("extra-index", "https://a.example.com/simple"), S("extra-index", "https://b.example.com/simple")),
)
case(
    "extra-index-url-abbreviated",
    "--extra https://a.example.com/simple\n",
    sources=(S("extra-index", "https://a.example.com/simple"),),
)
case(
    "index-and-extra-one-line",
    f"--index-url {IDX} --extra-index-url https://b.example.com/simple\n",
    sources=(S("index", IDX), S("extra-index", "https://b.example.com/simple")),
)
case(
    "extra-then-index-one-line",
    f"--extra-index-url https://b.example.com/simple --index-url {IDX}\n",
    sources=(S("index", IDX), S("extra-index", "https://b.example.com/simple")),
)
case(
    "index-then-extras-lines",
    f"--index-url {IDX}\n--extra-index-url https://b.example.com/simple\n",
    sources=(S("index", IDX), S("extra-index", "https://b.example.com/simple")),
)
case(
    "index-url-after-extra-forgets-it",
    f"--extra-index-url https://b.example.com/simple\n--index-url {IDX}\n",
    sources=(S("index", IDX),),
    warnings=(W("2:1", "pip forgets the extra index URLs given before --index-url"),),
)
case(
    "index-url-twice-last-wins",
    "--index-url https://a.example.com/simple\n--index-url https://b.example.com/simple\n",
    sources=(S("index", "https://b.example.com/simple"),),
)
case(
    "index-url-twice-one-line-last-wins",
    "-i https://a.example.com/simple -i https://b.example.com/simple\n",
    sources=(S("index", "https://b.example.com/simple"),),
    warnings=(W("1:1", "pip reads only the last --index-url of a line; this one is ignored"),),
)
case(
    "index-url-empty-last-on-line-wins",
    "-i https://a.example.com/simple --pre --index-url=\n",
    options={"pre": True},
    warnings=(
        W("1:1", "pip reads only the last --index-url of a line; this one is ignored"),
        W("1:39", "pip ignores an empty --index-url"),
    ),
)
case("no-index", "--no-index\n", options={"no_index": True})
case(
    "no-index-find-links",
    "--no-index\n--find-links https://h.example.com/wheels\n",
    sources=(S("find-links", "https://h.example.com/wheels"),),
    options={"no_index": True},
)
case(
    "index-url-after-no-index-ignored",
    f"--no-index\n--index-url {IDX}\n",
    options={"no_index": True},
    warnings=(W("2:1", "pip ignores --index-url after --no-index"),),
)
case(
    "extra-index-url-after-no-index-ignored",
    "--no-index\n--extra-index-url https://b.example.com/simple\n",
    options={"no_index": True},
    warnings=(W("2:1", "pip ignores --extra-index-url after --no-index"),),
)
case(
    "no-index-drops-earlier-indexes",
    f"--index-url {IDX}\n--extra-index-url https://b.example.com/simple\n--no-index\n",
    options={"no_index": True},
)

# ---------------------------------------------------------------------------------------
# File-wide options: find-links, trusted hosts, flags

case(
    "find-links-short", "-f https://h.example.com/wheels\n", sources=(S("find-links", "https://h.example.com/wheels"),)
)
case(
    "find-links-equals",
    "--find-links=https://h.example.com/wheels\n",
    sources=(S("find-links", "https://h.example.com/wheels"),),
)
case(
    "find-links-attached",
    "-fhttps://h.example.com/wheels\n",
    sources=(S("find-links", "https://h.example.com/wheels"),),
)
case(
    "find-links-abbreviated",
    "--find https://h.example.com/wheels\n",
    sources=(S("find-links", "https://h.example.com/wheels"),),
)
case("find-links-missing-folder", "-f ./wheels\n", sources=(S("find-links", "./wheels"),))
case("find-links-existing-folder", "-f ./wheels\n", sources=(S("find-links", "./wheels"),), dirs=("wheels",))
case(
    "find-links-two-lines",
    "-f https://a.example.com/wheels\n-f https://b.example.com/wheels\n",
    sources=(S("find-links", "https://a.example.com/wheels"), S("find-links", "https://b.example.com/wheels")),
)
case(
    "find-links-two-on-one-line",
    "-f https://a.example.com/wheels -f https://b.example.com/wheels\n",
    sources=(S("find-links", "https://a.example.com/wheels"),),
    warnings=(W("1:33", "pip reads only the first --find-links of a line; this one is ignored"),),
)
case("find-links-escaped-space", "--find-links ./my\\ wheels\n", sources=(S("find-links", "./my wheels"),))
case(
    "find-links-var",
    "--find-links https://${WHEELHOUSE_HOST}/wheels\n",
    sources=(S("find-links", "https://${WHEELHOUSE_HOST}/wheels"),),
)
case("trusted-host", "--trusted-host h.example.com\n", options={"trusted_hosts": ("h.example.com",)})
case("trusted-host-port", "--trusted-host h.example.com:8080\n", options={"trusted_hosts": ("h.example.com:8080",)})
case("trusted-host-single-quoted", "--trusted-host 'h.example.com'\n", options={"trusted_hosts": ("h.example.com",)})
case(
    "trusted-host-two-on-one-line",
    "--trusted-host a.example.com --trusted-host b.example.com\n",
    options={"trusted_hosts": ("a.example.com", "b.example.com")},
)
case("pre", "--pre\n", options={"pre": True})
case("prefer-binary", "--prefer-binary\n", options={"prefer_binary": True})
case("prefer-binary-abbreviated", "--pref\n", options={"prefer_binary": True})
case("require-hashes", "--require-hashes\n", options={"require_hashes": True})
case("no-require-hashes", "--no-require-hashes\n", options={"no_require_hashes": True})
case(
    "flags-one-line",
    "--pre --prefer-binary --no-index --trusted-host h.example.com\n",
    options={"pre": True, "prefer_binary": True, "no_index": True, "trusted_hosts": ("h.example.com",)},
)
case("use-feature", "--use-feature fast-deps\n", options={"use_features": ("fast-deps",)})
case(
    "use-feature-repeated",
    "--use-feature=truststore\n--use-feature truststore\n--use-feature=inprocess-build-deps\n",
    options={"use_features": ("truststore", "inprocess-build-deps")},
)
case(
    "abbreviations",
    "--no-b foo\n--only-b bar\n--trust h.example.com\n--use venv-isolation\n--all-r baz\n--only-f qux\n",
    options={
        "no_binary": ("foo",),
        "only_binary": ("bar",),
        "trusted_hosts": ("h.example.com",),
        "use_features": ("venv-isolation",),
        "all_releases": ("baz",),
        "only_final": ("qux",),
    },
)

# ---------------------------------------------------------------------------------------
# File-wide options: --no-binary / --only-binary, --all-releases / --only-final

case("no-binary-all", "--no-binary :all:\n", options={"no_binary": (":all:",)})
case("no-binary-names-normalized", "--no-binary foo,Bar_Baz\n", options={"no_binary": ("bar-baz", "foo")})
case("only-binary-all", "--only-binary=:all:\n", options={"only_binary": (":all:",)})
case("only-binary-none-clears", "--only-binary foo\n--only-binary :none:\n")
case("binary-names-exclude-each-other", "--no-binary foo\n--only-binary foo\n", options={"only_binary": ("foo",)})
case("binary-all-clears-other", "--only-binary foo\n--no-binary :all:\n", options={"no_binary": (":all:",)})
case(
    "binary-names-after-all",
    "--no-binary :all:\n--only-binary foo\n",
    options={"no_binary": (":all:",), "only_binary": ("foo",)},
)
case(
    "binary-all-none-names-in-one-value",
    "--only-binary bar\n--no-binary :all:,:none:,foo\n",
    options={"no_binary": ("foo",)},
)
case("binary-none-then-names", "--no-binary :none:,foo\n", options={"no_binary": ("foo",)})
case("all-releases-all", "--all-releases :all:\n", options={"all_releases": (":all:",)})
case("only-final-names", "--only-final foo,bar\n", options={"only_final": ("bar", "foo")})
case("release-names-exclude-each-other", "--all-releases foo\n--only-final foo\n", options={"only_final": ("foo",)})
case(
    "pre-with-only-final-name",
    "--pre\n--only-final foo\n",
    options={"pre": True, "only_final": ("foo",)},
)
case(
    "pre-cancelled-by-only-final-all",
    "--pre\n--only-final :all:\n",
    options={"only_final": (":all:",)},
    warnings=(W("2:1", "--only-final :all: cancels the --pre given before it"),),
)
case(
    "pre-cancelled-by-all-releases-none",
    "--pre\n--all-releases :none:\n",
    warnings=(W("2:1", "--all-releases :none: cancels the --pre given before it"),),
)
case(
    "no-binary-on-requirement-line-applies",
    "foo --no-binary foo\n",
    R("foo"),
    options={"no_binary": ("foo",)},
    warnings=(W("1:5", "pip applies --no-binary on a requirement line to the whole install"),),
)
case(
    "only-binary-on-editable-line-applies",
    "-e ./pkg --only-binary :all:\n",
    R(None, path="./pkg", editable=True),
    options={"only_binary": (":all:",)},
    warnings=(W("1:10", "pip applies --only-binary on an editable line to the whole install"),),
)
case(
    "only-final-on-requirement-line-applies",
    "foo --only-final foo\n",
    R("foo"),
    options={"only_final": ("foo",)},
    warnings=(W("1:5", "pip applies --only-final on a requirement line to the whole install"),),
)

# ---------------------------------------------------------------------------------------
# What pip silently ignores (envkit follows, and warns)

case(
    "pre-on-requirement-line-ignored",
    "foo --pre\n",
    R("foo"),
    warnings=(W("1:5", "pip ignores --pre on a requirement line"),),
)
case(
    "index-url-on-requirement-line-ignored",
    f"foo==1 --index-url {IDX}\n",
    R("foo", "==1"),
    warnings=(W("1:8", "pip ignores --index-url on a requirement line"),),
)
case(
    "trusted-host-on-requirement-line-ignored",
    "foo --trusted-host h.example.com\n",
    R("foo"),
    warnings=(W("1:5", "pip ignores --trusted-host on a requirement line"),),
)
case(
    "use-feature-on-requirement-line-applies",
    "foo --use-feature fast-deps\n",
    R("foo"),
    options={"use_features": ("fast-deps",)},
    warnings=(W("1:5", "pip applies --use-feature on a requirement line to the whole install"),),
)
case(
    "include-on-requirement-line-ignored",
    "foo -r other.txt\n",
    R("foo"),
    files={"other.txt": "bar\n"},
    warnings=(W("1:5", "pip ignores --requirement on a requirement line"),),
)
case(
    "second-include-ignored",
    "-r a.txt -r b.txt\n",
    R("a", at=L(1, "a.txt")),
    files={"a.txt": "a\n", "b.txt": "b\n"},
    warnings=(W("1:10", "pip reads only one include per line; --requirement b.txt is ignored"),),
)
case(
    "requirement-include-wins-over-constraint",
    "-c c.txt -r r.txt\n",
    R("r", at=L(1, "r.txt")),
    files={"c.txt": "c<1\n", "r.txt": "r\n"},
    warnings=(W("1:1", "pip reads only one include per line; --constraint c.txt is ignored"),),
)
case(
    "words-after-options-ignored",
    "--pre foo bar\n",
    options={"pre": True},
    warnings=(
        W("1:7", "pip ignores 'foo' after the options of a line"),
        W("1:11", "pip ignores 'bar' after the options of a line"),
    ),
)
case(
    "options-after-words-still-read",
    f"--index-url {IDX} foo --pre\n",
    sources=(S("index", IDX),),
    options={"pre": True},
    warnings=(W("1:42", "pip ignores 'foo' after the options of a line"),),
)
case(
    "double-dash-ends-options",
    "--pre -- --prefer-binary\n",
    options={"pre": True},
    warnings=(W("1:10", "pip ignores '--prefer-binary' after the options of a line"),),
)

# ---------------------------------------------------------------------------------------
# The interpreter: 'python' lines and the '# requires-python:' pragma

case(
    "python-equal",
    "python==3.9\nfoo\n",
    R("foo", at=L(2)),
    python="==3.9",
    warnings=(W("1:1", PYTHON_WARNING("python==3.9")),),
    pip=PYPI_ONLY,
)
case(
    "python-greater-equal",
    "python>=3.10\n",
    python=">=3.10",
    warnings=(W("1:1", PYTHON_WARNING("python>=3.10")),),
    pip=PYPI_ONLY,
)
case(
    "python-range-capitalised",
    "Python >= 3.8, < 3.12\n",
    python=">=3.8,<3.12",
    warnings=(W("1:1", PYTHON_WARNING("Python >= 3.8, < 3.12")),),
    pip=PYPI_ONLY,
)
case("requires-python-pragma", "# requires-python: >=3.9\nfoo\n", R("foo", at=L(2)), python=">=3.9")
case(
    "requires-python-pragma-and-python-line",
    "# requires-python: >=3.8\npython<3.12\n",
    python=">=3.8,<3.12",
    warnings=(W("2:1", PYTHON_WARNING("python<3.12")),),
    pip=PYPI_ONLY,
)

# ---------------------------------------------------------------------------------------
# ${VAR} references: kept unless the caller asks for expansion

case(
    "var-expanded-when-asked",
    "--index-url https://__token__:${PRIVATE_TOKEN}@h.example.com/simple\n",
    sources=(S("index", IDX, "__token__", "s3cret"),),
    environ={"PRIVATE_TOKEN": "s3cret"},
)
case(
    "var-expanded-in-requirement",
    "foo @ https://${ARTIFACT_HOST}/foo-1.0.zip\n",
    R("foo", url="https://files.example.com/foo-1.0.zip"),
    environ={"ARTIFACT_HOST": "files.example.com"},
)
case(
    "var-unset-kept-with-warning",
    "--index-url https://${MISSING_TOKEN}@h.example.com/simple\n",
    sources=(S("index", IDX, "${MISSING_TOKEN}"),),
    environ={},
    warnings=(W("1:21", "environment variable MISSING_TOKEN is not set; '${MISSING_TOKEN}' is kept as written"),),
)
case(
    "var-lowercase-is-not-a-reference",
    "foo @ https://h.example.com/${lower}/foo.zip\n",
    R("foo", url="https://h.example.com/${lower}/foo.zip"),
    environ={"lower": "x"},
)
case(
    "var-without-braces-is-not-a-reference",
    "--find-links https://h.example.com/$WHEELS\n",
    sources=(S("find-links", "https://h.example.com/$WHEELS"),),
    environ={"WHEELS": "x"},
)

# ---------------------------------------------------------------------------------------
# More combinations

case(
    "include-line-ignores-other-options",
    "-r other.txt --pre --index-url https://h.example.com/simple\n",
    R("bar", at=L(1, "other.txt")),
    files={"other.txt": "bar\n"},
    warnings=(
        W("1:14", "pip ignores --pre on an include line"),
        W("1:20", "pip ignores --index-url on an include line"),
    ),
)
case(
    "include-line-applies-binary-options",
    "-r other.txt --no-binary :all: --use-feature fast-deps\n",
    R("bar", at=L(1, "other.txt")),
    files={"other.txt": "bar\n"},
    options={"no_binary": (":all:",), "use_features": ("fast-deps",)},
)
case("no-index-and-index-one-line", f"--index-url {IDX} --no-index\n", options={"no_index": True})
case(
    "extra-index-in-include-after-index",
    f"--index-url {IDX}\n-r other.txt\n",
    files={"other.txt": "--extra-index-url https://b.example.com/simple\n"},
    sources=(S("index", IDX), S("extra-index", "https://b.example.com/simple")),
)
case(
    "include-constraint-hashes-and-url",
    "-c c.txt\n",
    R("foo", "==1", hashes=(("sha256", H1),), constraint=True, at=L(1, "c.txt")),
    R("bar", url="https://h.example.com/bar-1.0.zip", constraint=True, at=L(2, "c.txt")),
    files={"c.txt": f"foo==1 --hash=sha256:{H1}\nbar @ https://h.example.com/bar-1.0.zip\n"},
)
case(
    "find-links-relative-to-included-file",
    "-r sub/r.txt\n",
    R("foo", at=L(2, "sub/r.txt")),
    files={"sub/r.txt": "-f wheels\nfoo\n"},
    sources=(S("find-links", "wheels"),),
    dirs=("sub/wheels",),
)
case("pep508-relative-path-url", "foo @ ./vendor/foo\n", R("foo", url="./vendor/foo"))
case(
    "pep508-file-relative-parent",
    "foo @ file:../dist/foo-1.0.tar.gz\n",
    R("foo", url="file:../dist/foo-1.0.tar.gz"),
)
case("url-file-relative-parent", "file:../dist/foo-1.0.tar.gz\n", R(None, url="file:../dist/foo-1.0.tar.gz"))
case(
    "url-port-and-query",
    "https://h.example.com:8443/dl?file=foo-1.0.tar.gz\n",
    R(None, url="https://h.example.com:8443/dl?file=foo-1.0.tar.gz"),
)
case("editable-dot-extras", "-e .[dev]\n", R(None, extras=("dev",), path=".", editable=True))
case(
    "path-wheel-extras",
    "./dist/foo-1.0-py3-none-any.whl[bar]\n",
    R("foo", "==1.0", extras=("bar",), path="./dist/foo-1.0-py3-none-any.whl"),
)
case("unicode-line-separator", "foo\u2028bar\n", R("foo"), R("bar", at=L(2)))
case(
    "index-url-percent-encoded-credentials",
    "--index-url https://me%40corp:p%40ss@h.example.com/simple\n",
    sources=(S("index", IDX, "me@corp", "p@ss"),),
)
case(
    "index-url-empty-ignored",
    "--index-url=\n",
    warnings=(W("1:1", "pip ignores an empty --index-url"),),
)
case(
    "trusted-host-duplicate",
    "--trusted-host a.example.com\n--trusted-host a.example.com\n",
    options={"trusted_hosts": ("a.example.com",)},
)
case(
    "requirement-line-options-mixed",
    f"foo==1 --hash=sha256:{H1} --pre -C k=v\n",
    R("foo", "==1", hashes=(("sha256", H1),), config_settings=(("k", "v"),)),
    warnings=(W("1:87", "pip ignores --pre on a requirement line"),),
)
case(
    "cont-between-option-and-value",
    f"foo==1 --hash \\\n    sha256:{H1}\n",
    R("foo", "==1", hashes=(("sha256", H1),)),
)

CASES: tuple[Case, ...] = tuple(C)
