"""TOML written as text (envkit.formats._toml_text) and the new-file writers built on it.

A new Pipfile or pyproject.toml is written as text; merging goes through tomlkit. The two
must agree byte for byte: a new file is what merging into the template gives. Each
writer's text path is held against its tomlkit path here, on tables of cases and on
drawn environments.
"""

from __future__ import annotations

import sys

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from envkit.formats import _toml_text as tt
from envkit.formats import conda, pipfile, poetry
from envkit.formats._templates import template
from envkit.formats._toml import tomllib
from envkit.model import Dependency, Environment, PipOptions, Source

from .strategies import ALL_FEATURES, environments

# ---------------------------------------------------------------------------------------
# The emitter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", '""'),
        ("numpy>=1.0", '"numpy>=1.0"'),
        ('a "b"', '"a \\"b\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("tab\tnew\nline\r", '"tab\\tnew\\nline\\r"'),
        ("\b\f", '"\\b\\f"'),
        ("\x00\x1b\x1f\x7f", '"\\u0000\\u001b\\u001f\\u007f"'),
        ("é ü \u2028", '"é ü \u2028"'),
    ],
)
def test_basic(text: str, expected: str) -> None:
    assert tt.basic(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", '"plain"'),
        ('a; python_version < "3.9"', "'a; python_version < \"3.9\"'"),
        ('it\'s "x"', '"it\'s \\"x\\""'),
        ('tab\t"ok"', "'tab\t\"ok\"'"),
        ('line\n"x"', '"line\\n\\"x\\""'),
        ('nul\x00"x"', '"nul\\u0000\\"x\\""'),
    ],
)
def test_literal_or_basic(text: str, expected: str) -> None:
    assert tt.literal_or_basic(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("numpy", "numpy"), ("dev-packages", "dev-packages"), ("A_1", "A_1"), ("x.y", '"x.y"'), ("", '""'), ("é", '"é"')],
)
def test_key(name: str, expected: str) -> None:
    assert tt.key(name) == expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (True, "true"),
        (False, "false"),
        (3, "3"),
        ("x", '"x"'),
        ([], "[]"),
        (["a", "b"], '["a", "b"]'),
        ({"version": "*", "extras": ["x"], "editable": True}, '{version = "*", extras = ["x"], editable = true}'),
        ({"a.b": {"c": 1}}, '{"a.b" = {c = 1}}'),
    ],
)
def test_value(item: object, expected: str) -> None:
    assert tt.value(item) == expected


def test_value_refuses_what_toml_cannot_say() -> None:
    with pytest.raises(TypeError, match="no TOML form for None"):
        tt.value(None)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([('"a"', None)], '[\n    "a",\n]'),
        ([('"a"', "pinned"), ("'b'", None)], "[\n    \"a\", # pinned\n    'b',\n]"),
    ],
)
def test_array_lines(items: list[tuple[str, str | None]], expected: str) -> None:
    assert tt.array_lines(items) == expected


@pytest.mark.parametrize(("note", "expected"), [(None, ""), ("", ""), ("why", "  # why")])
def test_comment(note: str | None, expected: str) -> None:
    assert tt.comment(note) == expected


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_strings_read_back_and_match_tomlkit(text: str) -> None:
    assert tomllib.loads(f"x = {tt.basic(text)}")["x"] == text
    assert tt.basic(text) == tomlkit.string(text).as_string()
    assert tomllib.loads(f"x = {tt.literal_or_basic(text)}")["x"] == text
    assert tomllib.loads(f"{tt.key(text)} = 1") == {text: 1}
    assert tt.key(text) == tomlkit.items.SingleKey(text).as_string()


# ---------------------------------------------------------------------------------------
# New files written as text are what merging into the template with tomlkit gives


def _dep(name: str, group: str | None = None, **kw: object) -> Dependency:
    return Dependency(name, group=group, **kw)  # type: ignore[arg-type]


#: Environments that reach every branch of the text writers.
CASES = {
    "empty": Environment(),
    "one": Environment(requirements=(_dep("a"),), name="proj"),
    "dev-only": Environment(requirements=(_dep("a", "dev"),)),
    "group-before-dev": Environment(requirements=(_dep("a"), _dep("c", "docs"), _dep("b", "dev"))),
    "group-after-dev": Environment(requirements=(_dep("a"), _dep("b", "dev"), _dep("c", "docs"))),
    "quoted-groups": Environment(requirements=(_dep("a", "x.y"), _dep("b", "my group"), _dep("c", "extra:cli"))),
    "python-and-pre": Environment(
        requirements=(_dep("a", comment="pinned  for now"),),
        python=SpecifierSet("==3.11.*"),
        options=PipOptions(pre=True),
    ),
    "ranged-python": Environment(python=SpecifierSet(">=3.9,<3.13")),
    "full-python": Environment(python=SpecifierSet("==3.11.4")),
    "markers": Environment(
        requirements=(
            _dep("a", specifier=SpecifierSet(">=1,<2"), marker=Marker('python_version < "3.9"'), comment="c1"),
            _dep("b", extras=frozenset({"x", "y"}), marker=Marker("sys_platform == 'win32' and python_version > '3'")),
            _dep("b", "dev", comment="# already a comment"),
        )
    ),
    "locations": Environment(
        requirements=(
            _dep("p", path="./pkg", editable=True),
            _dep("g", url="git+https://github.com/o/r@v1#subdirectory=sub"),
            _dep("u", url="https://host/u-1.0.tar.gz"),
            _dep(None, path="dist/w-1.0-py3-none-any.whl"),  # type: ignore[arg-type]
        )
    ),
    "sources": Environment(
        sources=(
            Source.from_url("index", "https://${USER}:${TOKEN}@x.org/simple"),
            Source.from_url("extra-index", "https://y.org/simple", name="y", priority="supplemental"),
            Source.from_url("find-links", "https://z.org/links.html"),
        ),
        requirements=(_dep("a", index="y"), _dep("b", specifier=SpecifierSet("===1.0"))),
        options=PipOptions(all_releases=("a",), only_final=("b",), trusted_hosts=("y.org",)),
    ),
    "duplicates": Environment(
        requirements=(
            _dep("a", specifier=SpecifierSet(">=1"), marker=Marker("python_version < '3.9'")),
            _dep("a", specifier=SpecifierSet(">=2"), marker=Marker("python_version >= '3.9'")),
            _dep("Foo"),
            _dep("foo", "dev"),
        )
    ),
    "extras": Environment(
        requirements=(_dep("a"), _dep("b", "extra:cli"), _dep("a", "extra:cli"), _dep("c", "extra:all")),
        name="withextras",
    ),
}


def _pipfile_template() -> str:
    return template("Pipfile")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_new_pipfile_is_the_merge_into_the_template(case: str) -> None:
    env = CASES[case]
    assert pipfile.dumps(env) == pipfile.dumps(env, _pipfile_template())


@pytest.mark.parametrize("style", [None, "1", "2"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_new_pyproject_is_the_tomlkit_document(case: str, style: str | None) -> None:
    env = CASES[case]
    assert poetry.dumps(env, style=style) == poetry._dumps_tomlkit(env, None, style)


def test_the_new_pipfile_layout_of_groups() -> None:
    """Tables one blank line apart; a group drawn before [dev-packages] is filled leaves
    [dev-packages] a second blank line, as tomlkit does."""
    assert pipfile.dumps(CASES["group-before-dev"]).text == (
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[packages]\na = "*"\n\n[dev-packages]\nb = "*"\n\n\n[docs]\nc = "*"\n'
    )
    assert pipfile.dumps(CASES["group-after-dev"]).text == (
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[packages]\na = "*"\n\n[dev-packages]\nb = "*"\n\n[docs]\nc = "*"\n'
    )


def test_a_new_pyproject_with_extras() -> None:
    assert poetry.dumps(CASES["extras"]).text == (
        '[project]\nname = "withextras"\ndependencies = ["a"]\n\n'
        '[project.optional-dependencies]\ncli = [\n    "b",\n    "a",\n]\nall = [\n    "c",\n]\n'
        "[tool.poetry]\npackage-mode = false\n\n"
        '[build-system]\nrequires = ["poetry-core>=2.0.0,<3.0.0"]\nbuild-backend = "poetry.core.masonry.api"\n'
    )


def test_a_comment_with_a_line_break_is_refused_as_before() -> None:
    env = Environment(requirements=(_dep("a", comment="two\nlines"), _dep("b")))
    with pytest.raises(ValueError, match="line breaks"):
        poetry.dumps(env)


_GROUPS = st.sampled_from([None, None, "dev", "docs", "x.y", "my group", "extra:cli", "extra:all"])


def _poetry_can_write(env: Environment) -> bool:
    """poetry's writer turns ``===V`` into ``==V``, and fails where V is no PEP 440 version
    (a known bug of the writer, not of the text path)."""
    for dep in env.requirements:
        for spec in dep.specifier:
            if spec.operator == "===":
                try:
                    Version(spec.version)
                except InvalidVersion:
                    return False
    return True


@st.composite
def _grouped(draw: st.DrawFn) -> Environment:
    env = draw(environments(ALL_FEATURES).filter(_poetry_can_write))
    # packaging dedupes ``==1,==1`` only once a set is compared or printed: do it first
    requirements = tuple(
        d.with_changes(group=draw(_GROUPS), specifier=SpecifierSet(str(d.specifier))) for d in env.requirements
    )
    python = SpecifierSet(str(env.python)) if env.python is not None else None
    return env.with_changes(requirements=requirements, python=python, name=draw(st.sampled_from([None, "proj", "a b"])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_grouped())
def test_drawn_new_files_match_their_tomlkit_forms(env: Environment) -> None:
    assert pipfile.dumps(env) == pipfile.dumps(env, _pipfile_template())
    for style in ("1", "2"):
        assert poetry.dumps(env, style=style) == poetry._dumps_tomlkit(env, None, style)


def test_new_files_need_neither_tomlkit_nor_ruamel() -> None:
    """New files are plain text, and read back without the round-trip libraries."""
    import subprocess

    code = (
        "import sys\n"
        "from envkit.formats import conda, pipfile, poetry\n"
        "from envkit.model import Dependency, Environment\n"
        "env = Environment(requirements=(Dependency('numpy'), Dependency('b', group='dev')), name='x')\n"
        "for module in (conda, pipfile, poetry):\n"
        "    module.loads(module.dumps(env).text)\n"
        "poetry.dumps(env, style='1')\n"
        "print(sorted(m for m in ('tomlkit', 'ruamel.yaml') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "options",
    [
        None,
        {},
        {"conda": {"mode": "pip"}, "poetry": {"style": "1"}, "venv": {}},
        {"a b": {"x y": "z", "n": 3, "b": True}},
    ],
)
@pytest.mark.parametrize("dev", [None, 'dev "reqs".txt'])
def test_the_manifest_as_text_is_what_tomlkit_writes(
    options: dict[str, dict[str, object]] | None, dev: str | None
) -> None:
    from envkit import generate

    opts = {t: dict(o) for t, o in (options or {}).items() if o}
    text = generate._manifest_text("../requirements é.txt", dev, ["venv", "conda"], options)  # type: ignore[arg-type]
    assert text == generate._manifest_tomlkit("../requirements é.txt", dev, ["venv", "conda"], opts)
    assert tomllib.loads(text)["targets"] == ["venv", "conda"]


def test_the_manifest_with_an_option_toml_text_does_not_spell() -> None:
    from envkit import generate

    text = generate._manifest_text("r.txt", None, ["conda"], {"conda": {"ratio": 1.5}})
    assert text.endswith('targets = ["conda"]\n\n[options.conda]\nratio = 1.5\n')


@pytest.mark.parametrize("python", ["==3.11.4,==3.11.4", "==3.11.*,==3.11.*,==3.11.4"])
def test_a_repeated_python_pin_is_one_requires_entry(python: str) -> None:
    """packaging dedupes ``==3.11.4,==3.11.4`` only once the set is printed or compared; the
    Pipfile's [requires] must not depend on whether that happened first."""
    fresh = pipfile.dumps(Environment(python=SpecifierSet(python)))
    spec = SpecifierSet(python)
    str(spec)
    assert fresh == pipfile.dumps(Environment(python=spec))
    assert fresh.losses == ()


# ---------------------------------------------------------------------------------------
# Other fast paths of the readers, held against the plain way they replace


def _string_origin_by_lines(lines: list[str], value: str, after: int | None) -> tuple[int, int] | None:
    """poetry's reader finding a string literal, line by line (the reference)."""
    for i in range(after or 0, len(lines)):
        for quote in ('"', "'"):
            at = lines[i].find(quote + value + quote)
            if at >= 0:
                return i + 1, at + 2
    return None


_LINE = st.text(st.sampled_from(["a", "b", '"', "'", " ", "=", "\n"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE, max_size=8), st.text(st.sampled_from(["a", "b", " ", '"', "'"]), max_size=3), st.integers(0, 9))
def test_string_origin_finds_what_a_line_by_line_search_finds(lines: list[str], value: str, after: int) -> None:
    text = "\n".join(lines)
    reader = poetry._Reader(text, "pyproject.toml")
    expected = _string_origin_by_lines(reader.lines, value, after)
    where = reader.string_origin(value, after)
    if expected is None:
        assert (where.line, where.column) == (1, 1)
    else:
        assert (where.line, where.column) == expected
        assert where.text == reader.lines[expected[0] - 1]


def _same_tree(fast: object, slow: object, where: str = "$") -> None:
    """``fast`` (conda's block-style reader) holds what ruamel.yaml read, at its positions."""
    if isinstance(fast, conda._FastMap):
        assert type(slow).__name__ == "CommentedMap", where
        assert list(fast) == list(slow), where
        for key in fast:
            assert fast.lc.key(key) == tuple(slow.lc.key(key)), (where, key)
            if fast[key] is not None:  # ruamel places a null where the next token starts
                assert fast.lc.value(key) == tuple(slow.lc.value(key)), (where, key)
            _same_tree(fast[key], slow[key], f"{where}.{key}")
    elif isinstance(fast, conda._FastSeq):
        assert type(slow).__name__ == "CommentedSeq", where
        assert len(fast) == len(slow), where
        for i, (a, b) in enumerate(zip(fast, slow)):
            assert fast.lc.item(i) == tuple(slow.lc.item(i)), (where, i)
            _same_tree(a, b, f"{where}[{i}]")
    else:
        assert fast is None or type(fast) is str, where
        assert fast == slow and (slow is None or type(slow) is str), (where, fast, slow)


def _ruamel(text: str) -> object:
    from ruamel.yaml import YAML

    return YAML(typ="rt").load(text)


READ_FAST = {
    "written": (
        "# A conda environment\nname: env\nchannels:\n  - conda-forge\ndependencies:\n  - python\n"
        "  - numpy>=1.0  # pinned\n  - pip\n  - pip:\n      - --extra-index-url https://x/simple\n"
        '      - -e ./pkg\n      - torch ; python_version >= "3.9"\nvariables:\n  A: \'x y\'\n  B: "it\'s"\n'
    ),
    "zero-indent": "dependencies:\n- python=3.11\n-   numpy # c\n- pip:\n  - x\n- 'a b'\n",
    "nested-deeper": "dependencies:\n  - pip:\n        - x\n  - numpy\nname: env\n",
    "null-values": "name:\nchannels:  # none\ndependencies:\n  - a\nprefix:",
    "comments-between": "# top\ndependencies:\n  # numpy\n  - numpy\n\n# pip\n  - pip:\n    # inside\n    - x\n",
    "quotes": "dependencies:\n  - 'it''s'\n  - \"dq\"  # c\n  - x#y\n  - foo:bar\n  - ./local\n",
    "no-final-newline": "name: env\ndependencies:\n  - a",
}

READ_BY_RUAMEL = {
    "flow": "dependencies: [a, b]\n",
    "number": "name: 1.5\n",
    "boolean": "dependencies:\n  - true\n",
    "null word": "dependencies:\n  - ~\n",
    "date": "name: 2024-01-01\n",
    "anchor": "dependencies:\n  - &a x\n",
    "block scalar": "name: |\n  x\n",
    "continued": "dependencies:\n  - numpy\n    >=1\n",
    "escape": 'name: "a\\tb"\n',
    "tab": "name:\tx\n",
    "crlf": "name: x\r\n",
    "document": "---\nname: x\n",
    "indented root": "  name: x\n",
    "mapping item": "dependencies:\n  - foo: bar\n",
    "pip without list": "dependencies:\n  - pip:\n",
    "duplicate": "name: a\nname: b\n",
    "comments only": "# nothing\n",
    "number variable": "variables:\n  A: 1\n",
    "nested sequence": "dependencies:\n  - - a\n",
}


@pytest.mark.parametrize("case", READ_FAST, ids=str)
def test_block_style_yaml_is_read_fast_as_ruamel_reads_it(case: str) -> None:
    text = READ_FAST[case]
    fast = conda._fast_yaml(text)
    assert fast is not conda._UNREAD
    _same_tree(fast, _ruamel(text))


@pytest.mark.parametrize("case", READ_BY_RUAMEL, ids=str)
def test_other_yaml_is_left_to_ruamel(case: str) -> None:
    assert conda._fast_yaml(READ_BY_RUAMEL[case]) is conda._UNREAD


_SCALAR = st.sampled_from(
    [
        *("numpy", "numpy>=1,<2", "python=3.11", "'q x'", "'it''s'", '"dq"', "x # c", "x#y", "-e .", "./p"),
        *("a: b", "1.5", "yes", "'un", "[a]", "é"),
    ]
)


@st.composite
def _block_yaml(draw: st.DrawFn) -> str:
    lines = []
    for key in draw(st.lists(st.sampled_from(["name", "channels", "dependencies", "variables", "x"]), max_size=4)):
        kind = draw(st.sampled_from(["scalar", "list", "null"]))
        if kind == "scalar":
            lines.append(f"{key}: {draw(_SCALAR)}")
        elif kind == "null":
            lines.append(f"{key}:")
        else:
            lines.append(f"{key}:")
            dash = draw(st.integers(0, 3))
            for _ in range(draw(st.integers(0, 4))):
                if draw(st.booleans()):
                    lines.append(" " * dash + "- pip:")
                    inner = dash + draw(st.sampled_from([0, 1, 2, 4]))
                    lines += [" " * inner + "- " + draw(_SCALAR) for _ in range(draw(st.integers(0, 3)))]
                else:
                    lines.append(" " * (dash + draw(st.sampled_from([0, 0, 1]))) + "- " + draw(_SCALAR))
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", "# c", "    # c"])))
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


@settings(max_examples=300, deadline=None)
@given(_block_yaml())
def test_drawn_yaml_is_read_fast_only_as_ruamel_reads_it(text: str) -> None:
    fast = conda._fast_yaml(text)
    if fast is not conda._UNREAD:
        _same_tree(fast, _ruamel(text))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments(ALL_FEATURES), st.sampled_from(conda.MODES))
def test_written_environment_files_are_read_as_ruamel_reads_them(env: Environment, mode: str) -> None:
    text = conda.dumps(env.with_changes(variables=(("A", "x y"), ("B", "it's"))), mode=mode).text
    fast = conda._fast_yaml(text)
    if fast is not conda._UNREAD:
        _same_tree(fast, _ruamel(text))


def test_a_new_environment_file_is_read_fast() -> None:
    env = Environment(
        requirements=(_dep("numpy", specifier=SpecifierSet(">=1")), _dep("torch", marker=Marker("os_name == 'nt'")))
    )
    assert conda._fast_yaml(conda.dumps(env).text) is not conda._UNREAD
