"""poetry constraints <-> PEP 440, checked against poetry-core's own parser.

Each row of :data:`TO_PEP440` is a poetry constraint and the PEP 440 specifier envkit
reads it as. Two checks keep the table honest: poetry-core parses both sides to the same
constraint, and packaging's reading of the PEP 440 side admits exactly the versions that
poetry-core admits, over a grid of releases, pre-releases, post-releases and dev releases.
"""

from __future__ import annotations

from typing import Optional

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from poetry.core.constraints.version import Version as PoetryVersion
from poetry.core.constraints.version import parse_constraint
from poetry.core.factory import Factory

from envkit.formats import _poetry_constraints as pc

# (poetry constraint, PEP 440 specifier envkit reads it as)
TO_PEP440 = [
    # caret: up to the next release that may break
    ("^1.2.3", ">=1.2.3,<2.0.0"),
    ("^1.2", ">=1.2,<2.0"),
    ("^1", ">=1,<2"),
    ("^0.2.3", ">=0.2.3,<0.3.0"),
    ("^0.2", ">=0.2,<0.3"),
    ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("^0.0", ">=0.0,<0.1"),
    ("^0", ">=0,<1"),
    ("^0.0.0", ">=0.0.0,<0.0.1"),
    ("^1.2.3.4", ">=1.2.3.4,<2.0.0.0"),
    ("^3.10", ">=3.10,<4.0"),
    ("^ 2.0", ">=2.0,<3.0"),
    ("^1!2.0", ">=1!2.0,<1!3.0"),
    # caret on pre-, post- and dev-releases: the bound comes from the release alone
    ("^1.0a1", ">=1.0a1,<2.0"),
    ("^2.0.0rc1", ">=2.0.0rc1,<3.0.0"),
    ("^0.24.0.post1", ">=0.24.0.post1,<0.25.0"),
    ("^2.1.0.post1", ">=2.1.0.post1,<3.0.0"),
    ("^1.0.dev3", ">=1.0.dev3,<2.0"),
    ("^0.36b0", ">=0.36b0,<0.37"),
    # tilde: up to the next minor (the next major for ~X)
    ("~1.2.3", ">=1.2.3,<1.3.0"),
    ("~1.2", ">=1.2,<1.3"),
    ("~1", ">=1,<2"),
    ("~0", ">=0,<1"),
    ("~1.2.3.4", ">=1.2.3.4,<1.3.0.0"),
    ("~2.2rc1", ">=2.2rc1,<2.3"),
    # PEP 440 compatible release, kept as it is
    ("~=1.2", "~=1.2"),
    ("~=1.2.3", "~=1.2.3"),
    ("~=1", ">=1,<2"),
    # wildcards and any version
    ("*", ""),
    ("x", ""),
    ("*.*", ""),
    ("1.2.*", "==1.2.*"),
    ("1.*", "==1.*"),
    ("==1.2.*", "==1.2.*"),
    ("!=1.2.*", "!=1.2.*"),
    ("==1.2.3.4.*", "==1.2.3.4.*"),
    (">=1.2.*", ">=1.2"),
    # bare versions mean ==
    ("1.0", "==1.0"),
    ("3.3.3", "==3.3.3"),
    ("v1.2", "==1.2"),
    ("=1.0", "==1.0"),
    ("1.2.3rc1", "==1.2.3rc1"),
    ("2.4.1+cpu", "==2.4.1+cpu"),
    ("1!2.0", "==1!2.0"),
    # comparisons, alone and in lists (comma or space separated, spaces after operators)
    ("==1.0", "==1.0"),
    ("!=1.0", "!=1.0"),
    (">1.0", ">1.0"),
    ("<=2", "<=2"),
    (">=1,<2", ">=1,<2"),
    (">= 0.12, < 1.0", ">=0.12,<1.0"),
    ("> 2, < 3", ">2,<3"),
    (">1.0 <2", ">1.0,<2"),
    (">=4.0.0, <5.0", ">=4.0.0,<5.0"),
    (">=1.0,<2.0,!=1.5", ">=1.0,<2.0,!=1.5"),
    ("^2.0 ,<2.5", ">=2.0,<3.0,<2.5"),
    (">=1.0,", ">=1.0"),
    ("<2.0.0.dev0", "<2.0.0.dev0"),
    (">=2020.1", ">=2020.1"),
]


@pytest.mark.parametrize(("poetry", "pep440"), TO_PEP440)
def test_to_pep440(poetry: str, pep440: str) -> None:
    assert pc.to_pep440(poetry) == pc.Translation(pep440, exact=True)


@pytest.mark.parametrize(("poetry", "pep440"), TO_PEP440)
def test_poetry_core_agrees(poetry: str, pep440: str) -> None:
    assert parse_constraint(pep440 or "*") == parse_constraint(poetry)


#: Versions to probe both readings with: releases, pre-, post- and dev-releases around
#: every bound the table uses.
GRID = sorted(
    {
        f"{base}{suffix}"
        for base in [
            "0",
            "0.0.2",
            "0.0.3",
            "0.0.4",
            "0.1",
            "0.2.3",
            "0.2.9",
            "0.3.0",
            "0.12",
            "0.24.0",
            "0.25.0",
            "0.36",
            "0.37",
            "0.99",
            "1",
            "1.0",
            "1.1",
            "1.2",
            "1.2.2",
            "1.2.3",
            "1.2.3.4",
            "1.2.9",
            "1.3",
            "1.5",
            "1.9.9",
            "2",
            "2.0.0",
            "2.1.0",
            "2.2",
            "2.3",
            "2.4.1",
            "2.5",
            "2.9",
            "3.0",
            "3.3.3",
            "3.10",
            "3.11",
            "4.0",
            "5.0",
            "2020.1",
            "2024.5",
        ]
        for suffix in ["", "a1", "rc1", ".post1", ".dev0", ".dev3"]
    }
    | {"1!2.0", "1!2.5", "1!3.0", "2.4.1+cpu"},
    key=Version,
)


#: Where poetry-core itself departs from PEP 440: ``!=1.5`` alone admits ``1.5.post1`` (as
#: PEP 440 says), but intersected with a range poetry-core turns it into ``<1.5 || >1.5``,
#: and ``>1.5`` excludes the post-releases of 1.5.
POETRY_QUIRKS = {">=1.0,<2.0,!=1.5": ["1.5.post1"]}


@pytest.mark.parametrize(("poetry", "pep440"), TO_PEP440)
def test_same_versions_as_poetry(poetry: str, pep440: str) -> None:
    """packaging's reading of the PEP 440 side admits exactly what poetry admits."""
    ours = SpecifierSet(pep440)
    theirs = parse_constraint(poetry)
    differ = [v for v in GRID if ours.contains(v, prereleases=True) != theirs.allows(PoetryVersion.parse(v))]
    assert differ == POETRY_QUIRKS.get(poetry, [])


# Unions: exact when the ranges touch (up to pre-releases of the bound where they meet);
# otherwise widened to one range and flagged.
UNIONS = [
    ("^1.2 || ^2.0", pc.Translation(">=1.2,<3.0", exact=True)),
    ("^1.0 | ^2.0 | ^3.0", pc.Translation(">=1.0,<4.0", exact=True)),
    (">=1,<2 || >=1.5,<3", pc.Translation(">=1,<3", exact=True)),
    ("<1 || >=1", pc.Translation("", exact=True)),
    ("~2.7 || ^3.6", pc.Translation(">=2.7,<4.0", exact=False)),
    ("1.0 || 2.0", pc.Translation(">=1.0,<=2.0", exact=False)),
    (">=1 || <0.5", pc.Translation("", exact=False)),
    ("1.2.* || 1.4.*", pc.Translation("", exact=False)),
    ("* || 1.0", pc.Translation("", exact=True)),
]


@pytest.mark.parametrize(("poetry", "expected"), UNIONS)
def test_unions(poetry: str, expected: pc.Translation) -> None:
    assert pc.to_pep440(poetry) == expected


@pytest.mark.parametrize(("poetry", "expected"), [u for u in UNIONS if u[1].exact])
def test_exact_unions_admit_the_same_final_releases(poetry: str, expected: pc.Translation) -> None:
    ours = SpecifierSet(expected.specifier)
    theirs = parse_constraint(poetry)
    finals = [v for v in GRID if not Version(v).is_prerelease]
    assert [v for v in finals if ours.contains(v) != theirs.allows(PoetryVersion.parse(v))] == []


@pytest.mark.parametrize(("poetry", "expected"), [u for u in UNIONS if not u[1].exact])
def test_widened_unions_hold_every_version_poetry_allows(poetry: str, expected: pc.Translation) -> None:
    ours = SpecifierSet(expected.specifier)
    theirs = parse_constraint(poetry)
    assert [v for v in GRID if theirs.allows(PoetryVersion.parse(v)) and not ours.contains(v, prereleases=True)] == []


ERRORS = [
    ("", "could not parse version constraint ''", 0, 1),
    ("^1.x", "could not parse version constraint '^1.x'", 0, 4),
    (">=", "could not parse version constraint '>='", 0, 2),
    ("1.0 ||", "could not parse version constraint ''", 6, 1),
    (">=1.0, foo", "could not parse version constraint 'foo'", 7, 3),
    ("===1.0", "could not parse version constraint '===1.0'", 0, 6),
    ("^1.0+local", "'^1.0+local' has no PEP 440 form ('>=1.0+local,<2.0' is not valid)", 0, 10),
]


@pytest.mark.parametrize(("text", "message", "offset", "width"), ERRORS)
def test_errors(text: str, message: str, offset: int, width: int) -> None:
    with pytest.raises(pc.ConstraintError) as info:
        pc.to_pep440(text)
    assert (info.value.message, info.value.offset, info.value.width) == (message, offset, width)


@pytest.mark.parametrize("text", [t for t, *_ in ERRORS if t != "^1.0+local"])
def test_poetry_core_rejects_the_errors_too(text: str) -> None:
    with pytest.raises(ValueError):
        parse_constraint(text)


# PEP 440 -> poetry's own words (style 1): caret and tilde where they say exactly the same.
FROM_PEP440 = [
    ("", "*"),
    (">=1.2.3,<2.0.0", "^1.2.3"),
    (">=1.2,<2", "^1.2"),
    ("<2.0,>=1.2", "^1.2"),
    (">=0.2.3,<0.3.0", "^0.2.3"),
    (">=0.0.3,<0.0.4", "^0.0.3"),
    (">=1.2.3,<1.3.0", "~1.2.3"),
    (">=1.2,<1.3", "~1.2"),
    (">=1.0a1,<2.0", "^1.0a1"),
    (">=1!2.0,<1!3.0", "^1!2.0"),
    ("==2.4.1", "2.4.1"),
    ("==2.4.1+cpu", "2.4.1+cpu"),
    ("==1.2.*", "==1.2.*"),
    ("!=1.5", "!=1.5"),
    ("~=2.2", "~=2.2"),
    (">=1.2,<1.9", ">=1.2,<1.9"),
    ("<3,>=1,!=1.5", ">=1,<3,!=1.5"),
    (">2.0", ">2.0"),
]


@pytest.mark.parametrize(("pep440", "poetry"), FROM_PEP440)
def test_from_pep440(pep440: str, poetry: str) -> None:
    assert pc.from_pep440(pep440) == poetry
    assert SpecifierSet(pc.to_pep440(poetry).specifier) == SpecifierSet(pep440)
    assert parse_constraint(poetry) == parse_constraint(pep440 or "*")


def test_from_pep440_replaces_arbitrary_equality_first() -> None:
    spec = SpecifierSet("===1.0,>0.5")
    assert pc.has_arbitrary(spec)
    assert pc.without_arbitrary(spec) == SpecifierSet("==1.0,>0.5")
    assert pc.unversioned_arbitrary(spec) == []
    odd = SpecifierSet("===foobar,>0.5")
    assert (pc.without_arbitrary(odd), pc.unversioned_arbitrary(odd)) == (SpecifierSet(">0.5"), ["===foobar"])
    assert not pc.has_arbitrary(SpecifierSet(">=1"))


# ``python = "..."`` on a dependency -> a marker; compared with poetry-core's own marker by
# evaluating both for many interpreters (the strings differ where poetry simplifies).
PYTHON_MARKERS = [
    (">=3.10", 'python_version >= "3.10"'),
    ("<3.13", 'python_version < "3.13"'),
    ("^3.8", 'python_version >= "3.8" and python_version < "4.0"'),
    ("~3.8", 'python_version >= "3.8" and python_version < "3.9"'),
    ("3.8", 'python_version == "3.8"'),
    ("3.8.1", 'python_full_version == "3.8.1"'),
    (">=3.8.1", 'python_full_version >= "3.8.1"'),
    (">3.6", 'python_full_version > "3.6.0"'),
    ("<=3.10", 'python_full_version <= "3.10.0"'),
    ("!=3.9", 'python_full_version != "3.9.0"'),
    (">=3.9,<3.13", 'python_version >= "3.9" and python_version < "3.13"'),
    ("3.*", 'python_version == "3.*"'),
    ("~=3.8", 'python_version >= "3.8" and python_version < "4.0"'),
    (
        "~2.7 || ^3.6",
        '(python_version >= "2.7" and python_version < "2.8") or (python_version >= "3.6" and python_version < "4.0")',
    ),
    ("*", ""),
]

INTERPRETERS = [
    "2.7.18",
    "3.6.0",
    "3.6.1",
    "3.7.9",
    "3.8.0",
    "3.8.1",
    "3.9.0",
    "3.9.1",
    "3.10.0",
    "3.10.1",
    "3.12.5",
    "3.13.0",
    "4.0.0",
]


def _python_env(full: str) -> dict[str, str]:
    return {"python_version": ".".join(full.split(".")[:2]), "python_full_version": full}


@pytest.mark.parametrize(("python", "marker"), PYTHON_MARKERS)
def test_python_marker(python: str, marker: str) -> None:
    assert pc.python_marker(python) == marker
    theirs = Factory.create_dependency("x", {"version": "*", "python": python}).marker
    for full in INTERPRETERS:
        ours = Marker(marker).evaluate(_python_env(full)) if marker else True
        assert ours == theirs.validate(_python_env(full)), full


PLATFORM_MARKERS = [
    ("linux", 'sys_platform == "linux"'),
    ("!=win32", 'sys_platform != "win32"'),
    ("darwin || linux", 'sys_platform == "darwin" or sys_platform == "linux"'),
    ("linux,!=darwin", 'sys_platform == "linux" and sys_platform != "darwin"'),
    ("*", ""),
]


@pytest.mark.parametrize(("platform", "marker"), PLATFORM_MARKERS)
def test_platform_marker(platform: str, marker: str) -> None:
    assert pc.platform_marker(platform) == marker
    theirs = Factory.create_dependency("x", {"version": "*", "platform": platform}).marker
    for value in ["linux", "darwin", "win32", "cygwin"]:
        ours = Marker(marker).evaluate({"sys_platform": value}) if marker else True
        assert ours == theirs.validate({"sys_platform": value}), value


AND_MARKERS: list[tuple[list[Optional[str]], Optional[str]]] = [
    ([], None),
    ([None, ""], None),
    (['os_name == "nt"'], 'os_name == "nt"'),
    (
        ['os_name == "nt" or os_name == "posix"', 'python_version >= "3.10"'],
        '(os_name == "nt" or os_name == "posix") and python_version >= "3.10"',
    ),
]


@pytest.mark.parametrize(("parts", "expected"), AND_MARKERS)
def test_and_markers(parts: list[Optional[str]], expected: Optional[str]) -> None:
    result = pc.and_markers(*parts)
    assert (str(result) if result is not None else None) == expected
