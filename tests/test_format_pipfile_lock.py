"""Pipfile.lock: every entry form pipenv writes, the corpus, and errors with carets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from envkit.errors import EnvkitError, ParseError
from envkit.formats import pipfile, pipfile_lock
from envkit.model import Dependency, Environment, Origin, PipOptions, Source

SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64


def lock_text(sections: dict[str, Any], *, sources: Optional[list[dict[str, Any]]] = None, requires: Any = None) -> str:
    meta = {
        "hash": {"sha256": "0" * 64},
        "pipfile-spec": 6,
        "requires": requires if requires is not None else {"python_version": "3.11"},
        "sources": sources
        if sources is not None
        else [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
    }
    return json.dumps({"_meta": meta, **sections}, indent=4, sort_keys=True) + "\n"


DETECT = [
    ("Pipfile.lock", "", True),
    ("corpus/psf__requests-html__Pipfile.lock", "", True),
    ("Pipfile", "", False),
    ("deps.json", lock_text({}), True),
    (None, lock_text({}), True),
    (None, '{"_meta": {}, "default": {}}', False),
    ("package-lock.json", '{"name": "x", "lockfileVersion": 3}', False),
]


@pytest.mark.parametrize(("path", "text", "expected"), DETECT)
def test_detect(path: Optional[str], text: str, expected: bool) -> None:
    assert pipfile_lock.detect(path, text) is expected


ENTRIES: list[tuple[dict[str, Any], Dependency]] = [
    ({"version": "==1.0"}, Dependency("pkg", SpecifierSet("==1.0"))),
    (
        {"hashes": [SHA_A, SHA_B], "version": "==1.0"},
        Dependency("pkg", SpecifierSet("==1.0"), hashes=(("sha256", "a" * 64), ("sha256", "b" * 64))),
    ),
    (
        {"markers": "python_version >= '3.8'", "version": "==2.0"},
        Dependency("pkg", SpecifierSet("==2.0"), marker=Marker('python_version >= "3.8"')),
    ),
    ({"extras": ["socks"], "version": "==2.32.3"}, Dependency("pkg", SpecifierSet("==2.32.3"), frozenset({"socks"}))),
    ({"index": "pypi", "version": "==1.0"}, Dependency("pkg", SpecifierSet("==1.0"))),  # the default source
    ({"index": "torch", "version": "==2.4.1+cpu"}, Dependency("pkg", SpecifierSet("==2.4.1+cpu"), index="torch")),
    (
        {"git": "https://github.com/org/pkg.git", "ref": "3f2a1c9d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"},
        Dependency("pkg", url="git+https://github.com/org/pkg.git@3f2a1c9d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"),
    ),
    (
        {"editable": True, "git": "https://github.com/org/pkg.git", "ref": "abc123", "subdirectory": "py"},
        Dependency("pkg", url="git+https://github.com/org/pkg.git@abc123#egg=pkg&subdirectory=py", editable=True),
    ),
    ({"editable": True, "path": "."}, Dependency("pkg", path=".", editable=True)),
    (
        {"file": "https://example.com/pkg-1.0.tar.gz", "hashes": [SHA_A]},
        Dependency("pkg", url="https://example.com/pkg-1.0.tar.gz", hashes=(("sha256", "a" * 64),)),
    ),
    (
        {"path": "./dist/pkg-1.0-py3-none-any.whl"},
        Dependency("pkg", SpecifierSet("==1.0"), path="./dist/pkg-1.0-py3-none-any.whl"),
    ),
    ({"version": "==1.0", "no_binary": True, "future_key": 1}, Dependency("pkg", SpecifierSet("==1.0"))),
]


@pytest.mark.parametrize(("entry", "expected"), ENTRIES)
def test_read_entry(entry: dict[str, Any], expected: Dependency) -> None:
    sources = [
        {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
        {"name": "torch", "url": "https://download.pytorch.org/whl/cpu", "verify_ssl": True},
    ]
    env = pipfile_lock.loads(lock_text({"default": {"pkg": entry}, "develop": {}}, sources=sources))
    assert env.requirements == (expected,)


def test_read_sections_sources_python_and_options() -> None:
    text = lock_text(
        {
            "default": {"numpy": {"version": "==2.1.0", "no_binary": True}},
            "develop": {"pytest": {"version": "==8.3.2"}, "numpy": {"version": "==2.1.0"}},
            "docs": {"sphinx": {"version": "==7.4.7"}},
        },
        sources=[
            {"name": "internal", "url": "https://${USER}:${TOKEN}@pkgs.example.com/simple", "verify_ssl": True},
            {"name": "mirror", "url": "http://mirror.local:8080/simple", "verify_ssl": False},
        ],
        requires={"python_full_version": "3.11.4"},
    )
    env = pipfile_lock.loads(text, "Pipfile.lock")
    assert env == Environment(
        requirements=(
            Dependency("numpy", SpecifierSet("==2.1.0")),
            Dependency("pytest", SpecifierSet("==8.3.2"), group="dev"),
            Dependency("numpy", SpecifierSet("==2.1.0"), group="dev"),
            Dependency("sphinx", SpecifierSet("==7.4.7"), group="docs"),
        ),
        python=SpecifierSet("==3.11.4"),
        sources=(
            Source("index", "https://pkgs.example.com/simple", "${USER}", "${TOKEN}", "internal"),
            Source("extra-index", "http://mirror.local:8080/simple", name="mirror", verify_ssl=False),
        ),
        options=PipOptions(trusted_hosts=("mirror.local:8080",), no_binary=("numpy",)),
    )
    assert env.format == "pipfile-lock"
    pytest_pin = next(d for d in env.requirements if d.name == "pytest")
    assert pytest_pin.origin == Origin("Pipfile.lock", 33, 9, '        "pytest": {')


def test_unknown_index_is_a_warning() -> None:
    text = lock_text({"default": {"torch": {"index": "pytorch", "version": "==2.4.1"}}})
    env = pipfile_lock.loads(text, "Pipfile.lock")
    assert env.requirements == (Dependency("torch", SpecifierSet("==2.4.1")),)
    assert [str(n) for n in env.notes] == [
        "Pipfile.lock:20:13: warning: index 'pytorch' names no source (the sources are 'pypi'); "
        "the package is read without it"
    ]


# -- the corpus ----------------------------------------------------------------------------

CORPUS = {
    "DataTalksClub__machine-learning-zoomcamp__05-deployment_code_Pipfile.lock": (12, 0, "==3.8.*"),
    "DataTalksClub__mlops-zoomcamp__04-deployment_web-service_Pipfile.lock": (15, 5, "==3.9.*"),
    "psf__requests-html__Pipfile.lock": (22, 69, None),
}


def test_corpus_locks_read(corpus: Path) -> None:
    seen = {}
    for path in sorted((corpus / "other-formats").glob("*Pipfile.lock")):
        text = path.read_text(encoding="utf-8")
        assert pipfile_lock.detect(str(path), text)
        env = pipfile_lock.loads(text, str(path))
        main = sum(1 for d in env.requirements if d.group is None)
        dev = sum(1 for d in env.requirements if d.group == "dev")
        seen[path.name] = (main, dev, str(env.python) if env.python else None)
        assert env.sources == () and env.notes == ()
        data = json.loads(text)
        for dep in env.requirements:
            section = "default" if dep.group is None else "develop"
            entry = data[section][dep.name]
            assert [f"{a}:{d}" for a, d in dep.hashes] == entry.get("hashes", [])
            if "version" in entry:
                assert dep.specifier == SpecifierSet(entry["version"])
    assert seen == CORPUS


def test_corpus_lock_entries(corpus: Path) -> None:
    path = corpus / "other-formats" / "psf__requests-html__Pipfile.lock"
    env = pipfile_lock.loads(path.read_text(encoding="utf-8"), str(path))
    by_name = {(d.name, d.group): d for d in env.requirements}
    beautifulsoup = by_name["beautifulsoup4", None]
    assert beautifulsoup.specifier == SpecifierSet("==4.11.2")
    assert beautifulsoup.marker == Marker("python_full_version >= '3.6.0'")
    assert len(beautifulsoup.hashes) == 2
    assert [d for d in env.requirements if d.path] == [
        Dependency("requests-html", path=".", editable=True, group="dev")
    ]


def test_lock_and_its_pipfile_agree(corpus: Path) -> None:
    """Every package the Pipfile names is pinned in the lock, in the same group, satisfying it."""
    folder = corpus / "other-formats"
    for lock_path in sorted(folder.glob("*Pipfile.lock")):
        lock = pipfile_lock.loads(lock_path.read_text(encoding="utf-8"))
        declared = pipfile.loads((folder / lock_path.name[: -len(".lock")]).read_text(encoding="utf-8"))
        assert lock.python == declared.python
        pins = {(d.key, d.group): d for d in lock.requirements}
        for dep in declared.requirements:
            if dep.path:
                continue  # pipenv locks a local project under its own name
            pin = pins[dep.key, dep.group]
            (version,) = [s.version for s in pin.specifier]
            assert dep.specifier.contains(version, prereleases=True), (dep, pin)


# -- errors ---------------------------------------------------------------------------------

ERRORS = [
    (
        '{"_meta": {}, "default": {',
        "Pipfile.lock:1:27: invalid JSON: Expecting property name enclosed in double quotes\n"
        '    {"_meta": {}, "default": {\n'
        "                              ^",
    ),
    ("[]", "Pipfile.lock:1:1: expected a JSON object with _meta, default and develop\n    []\n    ^"),
    (
        '{\n  "_meta": {"sources": []},\n  "default": {"x": {"version": "==1.0", "hashes": ["nohash"]}}\n}',
        "Pipfile.lock:3:52: a hash must be 'algorithm:digest', not 'nohash'\n"
        '      "default": {"x": {"version": "==1.0", "hashes": ["nohash"]}}\n'
        "                                                       ^^^^^^^^",
    ),
    (
        '{\n  "_meta": {"sources": []},\n  "default": {"x": {"version": ">=1,<"}}\n}',
        "Pipfile.lock:3:32: invalid version specifier '>=1,<'\n"
        '      "default": {"x": {"version": ">=1,<"}}\n'
        "                                   ^^^^^^^",
    ),
    (
        '{\n  "_meta": {"sources": [{"name": "a"}]},\n  "default": {}\n}',
        "Pipfile.lock:2:25: a source needs a url\n"
        '      "_meta": {"sources": [{"name": "a"}]},\n'
        "                            ^^^^^^^^",
    ),
    (
        '{\n  "_meta": {"requires": {"python_version": "three"}},\n  "default": {}\n}',
        "Pipfile.lock:2:44: python_version must be a version like '3.11', not 'three'\n"
        '      "_meta": {"requires": {"python_version": "three"}},\n'
        "                                               ^^^^^^^",
    ),
    (
        '{"_meta": {}, "default": []}',
        "Pipfile.lock:1:26: 'default' must be an object of locked packages\n"
        '    {"_meta": {}, "default": []}\n'
        "                             ^",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        pipfile_lock.loads(text, "Pipfile.lock")
    assert str(info.value) == message


def test_dumps_is_not_offered() -> None:
    with pytest.raises(EnvkitError) as info:
        pipfile_lock.dumps(Environment())
    assert str(info.value) == (
        "Pipfile.lock is written by pipenv lock; envkit does not write it (write a Pipfile, then run pipenv lock)"
    )
