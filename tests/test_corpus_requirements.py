"""Every real requirements file in ``../shared/corpus/requirements`` reads, and reads as pip does.

The corpus (``SOURCES.tsv`` lists each file with its repository, its path there, the copy
inside ``trees/`` when it takes part in ``-r``/``-c`` includes, and what pip 26.3 made of
it) is read at test time, never copied into the repository. Each file is staged in a
temporary folder (its whole tree when it has one, so includes resolve) and read with the
current directory set there, because pip resolves local paths against the current
directory.

Two tests per file:

- ``test_reads``: :func:`envkit.load` reads it with no error and no warning, and finds as
  many requirements as pip 26.3 did (``SOURCES.tsv``); the one file that edits local
  project folders that are not in the corpus must fail with a clear error instead.
- ``test_agrees_with_pip``: pip's own parser (``tests/pip_oracle.py``) and envkit see the
  same names, specifiers, extras, markers, URLs, editables, constraints, hashes and
  options; the local project folders pip insists on are created first.

A disagreement found here is not hidden: list the file in :data:`KNOWN_DISAGREEMENTS`
with the differing requirement and both views, so the test is a strict xfail that turns
red once the reader is fixed.
"""

from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import envkit
from tests.conftest import CORPUS
from tests.pip_oracle import envkit_view, pip_view


@dataclass(frozen=True)
class Entry:
    """One row of ``SOURCES.tsv``."""

    file: str  #: the flat name in corpus/requirements/
    tree: str | None  #: ``trees/<owner>__<repo>/<path>`` when the file takes part in includes
    count: int | None  #: requirements pip 26.3 found; None when pip rejected the file


def _entries() -> dict[str, Entry]:
    sources = CORPUS / "requirements" / "SOURCES.tsv"
    if not sources.is_file():
        return {}
    entries = {}
    with sources.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            found = re.fullmatch(r"ok \((\d+) requirements\)", row["pip26.3_parse"])
            entries[row["file"]] = Entry(
                row["file"], row["include_tree_copy"] or None, int(found.group(1)) if found else None
            )
    return entries


ENTRIES = _entries()

CERTBOT_RTD = "certbot__certbot__certbot-dns-google_readthedocs.org.requirements.txt"

#: Files that edit local project folders which are not in the corpus (pip needs them to
#: exist, relative to the current directory): file -> the folders, created for the
#: comparison with pip, each holding a minimal pyproject.toml.
LOCAL_PROJECTS: dict[str, tuple[str, ...]] = {
    CERTBOT_RTD: ("acme", "certbot", "certbot-dns-google"),
}

#: What reading such a file without its folders must say (pip: "acme is not a valid
#: editable requirement. It should either be a path to a local project or a VCS URL").
MISSING_FOLDER_ERRORS: dict[str, str] = {
    CERTBOT_RTD: (
        "certbot-dns-google/readthedocs.org.requirements.txt:13:4: acme is not a valid editable requirement:"
        " it should be a path to a local project or a VCS URL (beginning with bzr+, git+, hg+ or svn+)\n"
        "    -e acme\n"
        "       ^^^^\n"
        "  hint: there is no folder 'acme' in the current directory"
        " (pip looks for an editable's folder there, not beside the requirements file)"
    ),
}

#: file -> why envkit and pip disagree on it (the differing requirement and both views).
#: Each becomes a strict xfail: the suite stays green and goes red once it is fixed.
KNOWN_DISAGREEMENTS: dict[str, str] = {}

#: file -> why envkit does not yet raise the error that reading it must give.
KNOWN_MISSING_ERRORS: dict[str, str] = {}


def _params(xfails: dict[str, str]) -> list[Any]:
    """One param per corpus file; without the corpus, one that the ``corpus`` fixture skips."""
    if not ENTRIES:
        return [pytest.param("", id="no-corpus")]
    return [
        pytest.param(
            name, id=name, marks=[pytest.mark.xfail(strict=True, reason=xfails[name])] if name in xfails else []
        )
        for name in sorted(ENTRIES)
    ]


def _stage(corpus: Path, entry: Entry, tmp_path: Path) -> tuple[Path, str]:
    """Copy ``entry`` (with its whole include tree) under ``tmp_path``: (folder to run in, path from there)."""
    requirements = corpus / "requirements"
    root = tmp_path / "repo"
    if entry.tree is None:
        root.mkdir()
        shutil.copyfile(requirements / entry.file, root / entry.file)
        return root, entry.file
    _trees, repo, rel = entry.tree.split("/", 2)
    shutil.copytree(requirements / "trees" / repo, root)
    return root, rel


def _make_projects(root: Path, folders: tuple[str, ...]) -> None:
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "pyproject.toml").write_text(
            f'[project]\nname = "{folder}"\nversion = "0"\n', encoding="utf-8"
        )


def _explain(ours: dict[str, Any], pips: dict[str, Any]) -> str:
    """The differences between two views, one per line, naming the requirement."""
    lines = []
    for key in sorted(set(ours["options"]) | set(pips["options"])):
        if ours["options"].get(key) != pips["options"].get(key):
            lines.append(f"option {key}: envkit {ours['options'].get(key)!r} / pip {pips['options'].get(key)!r}")
    a, b = ours["requirements"], pips["requirements"]
    if len(a) != len(b):
        lines.append(f"envkit reads {len(a)} requirements, pip {len(b)}")
    for i, (mine, theirs) in enumerate(zip(a, b), 1):
        if mine != theirs:
            lines.append(f"requirement #{i}:\n  envkit {mine}\n  pip    {theirs}")
    return "\n".join(lines)


def test_the_corpus_is_complete(corpus: Path) -> None:
    on_disk = sorted(p.name for p in (corpus / "requirements").iterdir() if p.is_file() and p.name != "SOURCES.tsv")
    assert sorted(ENTRIES) == on_disk
    assert len(on_disk) == 78
    for entry in ENTRIES.values():
        if entry.tree is not None:
            # the tree copy is the same file; it is read from the tree so its includes resolve
            tree_copy = corpus / "requirements" / entry.tree
            assert tree_copy.read_bytes() == (corpus / "requirements" / entry.file).read_bytes()
    assert [e.file for e in ENTRIES.values() if e.count is None] == [CERTBOT_RTD]


@pytest.mark.parametrize("name", _params(KNOWN_MISSING_ERRORS))
def test_reads(name: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = ENTRIES[name]
    root, rel = _stage(corpus, entry, tmp_path)
    monkeypatch.chdir(root)
    if name in MISSING_FOLDER_ERRORS:
        with pytest.raises(envkit.EnvkitError) as caught:
            envkit.load(rel)
        assert str(caught.value) == MISSING_FOLDER_ERRORS[name]
        return
    env = envkit.load(rel)
    assert len(env.requirements) == entry.count
    assert [str(note) for note in env.notes] == []
    assert env.python is None


@pytest.mark.parametrize("name", _params(KNOWN_DISAGREEMENTS))
def test_agrees_with_pip(name: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, rel = _stage(corpus, ENTRIES[name], tmp_path)
    _make_projects(root, LOCAL_PROJECTS.get(name, ()))
    monkeypatch.chdir(root)
    ours = envkit_view(envkit.load(rel))
    pips = pip_view(rel)
    assert ours == pips, _explain(ours, pips)
