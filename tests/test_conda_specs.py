"""pip (PEP 440) <-> conda version specifiers, checked against py-rattler's own matcher.

Every conda spec these tests produce is parsed by py-rattler's strict MatchSpec parser,
and every translation is checked for exactness: over probe versions around each bound
(releases, their neighbours, and their pre-, post- and dev-releases), rattler's match of
the conda spec must equal packaging's ``contains(v, prereleases=True)`` of the PEP 440
specifier. The probes stay in the documented domain: a pre/post/dev-release is spelled with
at least as many release components as every version the specifier names.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envkit.formats._conda_specs import (
    InexactSpec,
    InvalidCondaSpec,
    MatchSpecParts,
    conda_to_pip,
    matchspec_string,
    parse_matchspec,
    pip_to_conda,
)

rattler = pytest.importorskip("rattler")

_SUFFIXES = ("", ".dev0", "a0", "a1", "a0.dev0", "a1.dev0", "b2", "rc1", "rc1.post1", ".post1", ".post1.dev0")


def strict(spec: str) -> None:
    """py-rattler's strict parser accepts ``spec`` (a whole MatchSpec)."""
    rattler.MatchSpec(spec, strict=True)


def probes(spec: SpecifierSet) -> list[str]:
    """Versions around every bound of ``spec``, inside the comparison domain."""
    releases = [Version(s.version.removesuffix(".*")).release for s in spec] or [(1,)]
    longest = max(len(r) for r in releases)
    bases: set[tuple[int, ...]] = {(0,), (99,)}
    for rel in releases:
        n = len(rel)
        bases |= {rel, (*rel, 0), (*rel, 0, 0), (*rel, 1)}
        for i in range(n):
            bases.add(rel[: i + 1])
            for step in (-1, 1):
                if rel[i] + step >= 0:
                    bumped = (*rel[:i], rel[i] + step)
                    bases |= {bumped, bumped + rel[i + 1 :], bumped + (0,) * (n - i - 1)}
    out = {
        str(Version(".".join(map(str, base)) + suffix))
        for base in bases
        for suffix in _SUFFIXES
        if not suffix or len(base) >= longest
    }
    return sorted(out, key=Version)


def disagreements(pip: SpecifierSet, conda: str, *, strict: bool = True) -> list[str]:
    """Probe versions on which rattler and packaging disagree (empty when exact).

    ``strict=False`` reads ``conda`` as users write it (``1.2`` for ``==1.2``, ``=1.2``).
    """
    matcher = rattler.VersionSpec(conda, strict=strict) if conda else None
    return [
        v
        for v in probes(pip)
        if pip.contains(v, prereleases=True) != (matcher.matches(rattler.Version(v)) if matcher else True)
    ]


# ---------------------------------------------------------------------------------------
# pip -> conda: exact translations (written after the package name: "numpy" + spec)

PIP_TO_CONDA = [
    ("", ""),
    ("==1.26.4", "==1.26.4"),
    ("==1.26", "==1.26"),
    ("==1", "==1"),
    ("==01.2", "==1.2"),
    ("==1.*", "1.*"),
    ("==1.26.*", "1.26.*"),
    ("==2.0.*", "2.0.*"),
    ("!=1.5", "!=1.5"),
    ("!=1.5.*", "!=1.5.*"),
    (">=1.26", ">=1.26"),
    (">=0", ">=0"),
    ("<=2.1", "<=2.1"),
    ("<2", "<2dev0"),
    ("<2.0", "<2dev0"),
    ("<2.0.0", "<2dev0"),
    ("<1.27", "<1.27dev0"),
    ("<1.0.1", "<1.0.1dev0"),
    ("<0.0", "<0dev0"),
    ("~=2.2", ">=2.2,2.*"),
    ("~=1.4.2", ">=1.4.2,1.4.*"),
    ("~=0.21.0", ">=0.21.0,0.21.*"),
    (">=1.26,<2", ">=1.26,<2dev0"),
    (">=1.4,<1.6", ">=1.4,<1.6dev0"),
    (">=1.26,<2,!=1.26.1", ">=1.26,<2dev0,!=1.26.1"),
    ("==2.2.*,!=2.2.1", "2.2.*,!=2.2.1"),
    (">=1.0,<=1.5,!=1.3.*", ">=1.0,<=1.5,!=1.3.*"),
    ("~=1.4,!=1.5.0", ">=1.4,1.*,!=1.5.0"),
    ("<=2,!=2", "<=2,!=2"),
]

# pip -> conda: no exact conda form, with the reason given
PIP_INEXACT = [
    (">1.0", "pip's '>1.0' excludes the post-releases of 1.0; conda's '>' admits them"),
    ("===1.0", "'===1.0' (arbitrary equality) has no conda form"),
    ("==2.4.1+cpu", "'==2.4.1+cpu' names a local version (+cpu); conda packages carry none"),
    ("!=2.4.1+cpu", "'!=2.4.1+cpu' names a local version (+cpu); conda packages carry none"),
    ("==1!2.0", "'==1!2.0' has an epoch; envkit does not translate epochs to conda"),
    (">=2.0rc1", "'>=2.0rc1' names a pre-, post- or dev-release, which conda orders differently"),
    ("<2.0a1", "'<2.0a1' names a pre-, post- or dev-release, which conda orders differently"),
    ("==1.0.post1", "'==1.0.post1' names a pre-, post- or dev-release, which conda orders differently"),
    ("<=1.0.dev3", "'<=1.0.dev3' names a pre-, post- or dev-release, which conda orders differently"),
    (">=1,>2", "pip's '>2' excludes the post-releases of 2; conda's '>' admits them"),
]

# conda -> pip: exact translations (the version part of a MatchSpec, as conda reads it)
CONDA_TO_PIP = [
    ("", ""),
    ("*", ""),
    ("=1.2", "==1.2.*"),
    ("=3.11", "==3.11.*"),
    ("=1.11.0", "==1.11.0.*"),
    ("1.2", "==1.2"),
    ("==1.2", "==1.2"),
    ("1.2.*", "==1.2.*"),
    ("1.2*", "==1.2.*"),
    ("!=1.2", "!=1.2"),
    ("!=1.2.*", "!=1.2.*"),
    (">=1.26", ">=1.26"),
    ("<=1.26", "<=1.26"),
    (">1.0", ">=1.0,!=1.0"),
    ("<2", "<=2,!=2"),
    ("<2dev0", "<2"),
    ("<1.27dev0", "<1.27"),
    ("~=1.2", "~=1.2"),
    ("~=1.4.2", "~=1.4.2"),
    (">=1.4,<1.6", ">=1.4,<=1.6,!=1.6"),
    (">=1.0 , <2", ">=1.0,<=2,!=2"),
    ("=1.2,>=1.2.3", "~=1.2.3"),
    ("1.2.*,!=1.2.1", "==1.2.*,!=1.2.1"),
]

# conda -> pip: no exact PEP 440 form
CONDA_INEXACT = [
    ("1.2|1.3", "'1.2|1.3' uses conda's '|' (or), which PEP 440 cannot express"),
    (">=1,<2|>3", "'>=1,<2|>3' uses conda's '|' (or), which PEP 440 cannot express"),
    (
        ">=1.0a1",
        "'>=1.0a1': versions with letters (pre-, post-, dev-releases, local labels) order differently in conda",
    ),
    (
        "<2.0a0",
        "'<2.0a0': versions with letters (pre-, post-, dev-releases, local labels) order differently in conda",
    ),
    (">=1.2.*", "'>=1.2.*': conda and mamba read '>=' with '.*' differently"),
    ("==1.2.*,>=1", "'==1.2.*': conda and mamba read '==' with '.*' differently"),
    ("1.*.3", "'1.*.3': a wildcard inside a version has no PEP 440 form"),
]

CONDA_INVALID = [
    (">=", "'>=' has no version after the operator"),
    (">=1,", "'' has no version after the operator"),
    (">=$1", "'>=$1' is not a valid conda version constraint"),
    ("~=1", "'~=1': '~=' needs a version with at least two parts"),
]


@pytest.mark.parametrize(("pip", "conda"), PIP_TO_CONDA)
def test_pip_to_conda(pip: str, conda: str) -> None:
    spec = SpecifierSet(pip)
    assert pip_to_conda(spec) == conda
    strict(matchspec_string("numpy", conda))
    assert disagreements(spec, conda) == []
    assert conda_to_pip(conda) == spec  # and back


@pytest.mark.parametrize(("pip", "reason"), PIP_INEXACT)
def test_pip_to_conda_inexact(pip: str, reason: str) -> None:
    with pytest.raises(InexactSpec) as info:
        pip_to_conda(SpecifierSet(pip))
    assert str(info.value) == reason


@pytest.mark.parametrize(("conda", "pip"), CONDA_TO_PIP)
def test_conda_to_pip(conda: str, pip: str) -> None:
    spec = conda_to_pip(conda)
    assert spec == SpecifierSet(pip)
    assert disagreements(spec, "".join(conda.split()), strict=False) == []


@pytest.mark.parametrize(("conda", "reason"), CONDA_INEXACT)
def test_conda_to_pip_inexact(conda: str, reason: str) -> None:
    with pytest.raises(InexactSpec) as info:
        conda_to_pip(conda)
    assert str(info.value) == reason


@pytest.mark.parametrize(("conda", "reason"), CONDA_INVALID)
def test_conda_to_pip_invalid(conda: str, reason: str) -> None:
    with pytest.raises(InvalidCondaSpec) as info:
        conda_to_pip(conda)
    assert str(info.value) == reason


def test_the_traps_are_real() -> None:
    """The differences the translations work around, shown on rattler itself."""
    # conda's '<2' admits 2.0's pre-releases; PEP 440's does not
    assert rattler.VersionSpec("<2", strict=True).matches(rattler.Version("2.0rc1"))
    assert not SpecifierSet("<2").contains("2.0rc1", prereleases=True)
    assert not rattler.VersionSpec("<2dev0", strict=True).matches(rattler.Version("2.0rc1"))
    # conda's '>1.0' admits 1.0's post-releases; PEP 440's does not
    assert rattler.VersionSpec(">1.0", strict=True).matches(rattler.Version("1.0.post1"))
    assert not SpecifierSet(">1.0").contains("1.0.post1")
    # conda orders a dev-release after the alphas of the same version; PEP 440 before
    assert rattler.Version("1.0.dev1") > rattler.Version("1.0a1")
    assert Version("1.0.dev1") < Version("1.0a1")
    # conda attaches a pre-release tag to the last component: 1.0rc1 is not 1.0.0rc1
    assert not rattler.VersionSpec("==1.0rc1", strict=True).matches(rattler.Version("1.0.0rc1"))
    assert Version("1.0rc1") == Version("1.0.0rc1")
    # '=1.2' is '1.2.*' to conda, and the strict parser refuses '==1.*'
    assert rattler.VersionSpec("=1.2").matches(rattler.Version("1.2.7"))
    with pytest.raises(Exception, match=r"'\*' is incompatible with '==' operator"):
        rattler.MatchSpec("numpy==1.*", strict=True)


# ---------------------------------------------------------------------------------------
# Property: whatever translates is exact, and every spec written is valid for rattler


@st.composite
def release_specs(draw: st.DrawFn) -> SpecifierSet:
    clauses = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["==", "!=", ">=", "<=", "<", ">", "~=", "==*", "!=*"]))
        release = draw(st.lists(st.sampled_from([0, 0, 1, 2, 9, 10]), min_size=2 if op == "~=" else 1, max_size=4))
        text = ".".join(map(str, release))
        clauses.append(f"{op[:2]}{text}.*" if op.endswith("*") else f"{op}{text}")
    return SpecifierSet(",".join(clauses))


@settings(max_examples=150, deadline=None)
@given(release_specs())
def test_every_translation_is_exact(spec: SpecifierSet) -> None:
    try:
        conda = pip_to_conda(spec)
    except InexactSpec:
        return
    strict(matchspec_string("pkg", conda))
    assert disagreements(spec, conda) == []
    back = conda_to_pip(conda)  # the same versions, though maybe not the same clauses
    assert [v for v in probes(spec) if back.contains(v, prereleases=True) != spec.contains(v, prereleases=True)] == []


# ---------------------------------------------------------------------------------------
# MatchSpec strings

MATCHSPECS = [
    ("numpy", MatchSpecParts("numpy", "numpy")),
    ("numpy=1.2", MatchSpecParts("numpy=1.2", "numpy", version="=1.2")),
    ("numpy==1.2.*", MatchSpecParts("numpy==1.2.*", "numpy", version="1.2.*")),
    ("numpy 1.2.* py_0", MatchSpecParts("numpy 1.2.* py_0", "numpy", version="1.2.*", build="py_0")),
    ("numpy=1.2=py_0", MatchSpecParts("numpy=1.2=py_0", "numpy", version="1.2", build="py_0")),
    ("python >= 3.8", MatchSpecParts("python >= 3.8", "python", version=">=3.8")),
    ("numpy >=1.0 , <2", MatchSpecParts("numpy >=1.0 , <2", "numpy", version=">=1.0,<2")),
    (
        "pytorch::pytorch=2.4",
        MatchSpecParts("pytorch::pytorch=2.4", "pytorch", channel="pytorch", version="=2.4", name_offset=9),
    ),
    (
        "conda-forge/linux-64::numpy>=1",
        MatchSpecParts("conda-forge/linux-64::numpy>=1", "numpy", "conda-forge/linux-64", ">=1", name_offset=22),
    ),
    ('numpy[version=">=1"]', MatchSpecParts('numpy[version=">=1"]', "numpy", brackets='version=">=1"')),
    ("Box2D-py", MatchSpecParts("Box2D-py", "Box2D-py")),
]


@pytest.mark.parametrize(("text", "parts"), MATCHSPECS)
def test_parse_matchspec(text: str, parts: MatchSpecParts) -> None:
    assert parse_matchspec(text) == parts


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("", "empty package spec", 0),
        ("=1.2", "expected a package name", 0),
        ("num$py", "invalid package name 'num$py'", 3),
        ("::numpy", "empty channel before '::'", 0),
        ("numpy]", "']' without '['", 5),
    ],
)
def test_parse_matchspec_errors(text: str, message: str, offset: int) -> None:
    with pytest.raises(InvalidCondaSpec) as info:
        parse_matchspec(text)
    assert (info.value.message, info.value.offset) == (message, offset)


@pytest.mark.parametrize(
    ("name", "version", "channel", "expected"),
    [
        ("numpy", "", None, "numpy"),
        ("numpy", ">=1.26,<2dev0", None, "numpy>=1.26,<2dev0"),
        ("pandas", "2.2.*", None, "pandas 2.2.*"),
        ("pytorch", "2.4.*", "pytorch", "pytorch::pytorch 2.4.*"),
        ("python", "==3.11.4", None, "python==3.11.4"),
    ],
)
def test_matchspec_string(name: str, version: str, channel: str | None, expected: str) -> None:
    assert matchspec_string(name, version, channel) == expected
    strict(expected)
