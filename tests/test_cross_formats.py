"""Every format into every other: nothing changes without a reported loss.

For each example and each corpus requirements file, convert to each target, read the
written text back with the target's own reader, and compare with the source model: every
difference must be explained by a loss the writer reported (the static verdict is never
"different"). Requirements files also go there and back again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import envkit
from envkit import formats
from envkit.convert import convert
from envkit.verify import compare_static
from tests.conftest import EXAMPLES
from tests.test_corpus_requirements import CERTBOT_RTD, ENTRIES, LOCAL_PROJECTS, _make_projects, _stage

TARGETS = ("venv", "conda", "pipenv", "poetry", "uv", "pylock")
SEED_TARGETS = ("conda", "pipenv", "poetry")

EXAMPLE_FILES = (
    sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*") if p.is_file() and p.name != "README.md")
    if EXAMPLES.is_dir()
    else []
)

CORPUS_REQUIREMENTS = sorted(ENTRIES)


def _read_back(target: str, text: str, files: dict[str, str], folder: Path) -> envkit.Environment:
    name = formats.get(convert_format(target)).FILENAMES[0]
    path = folder / name
    path.write_text(text, encoding="utf-8")
    for companion, body in files.items():
        (folder / companion).write_text(body, encoding="utf-8")
    return envkit.load(path, convert_format(target))


def convert_format(target: str) -> str:
    from envkit.convert import format_for_target

    return format_for_target(target)


def _explain(report) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(f"{d.subject}: {d.field}: {d.source} -> {d.target}" for d in report.differences if not d.explained)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_every_example_converts_to_every_target(
    example: str, target: str, examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(examples, tmp_path / "examples")
    monkeypatch.chdir(tmp_path / "examples" / Path(example).parent)
    source = envkit.load(Path(example).name)
    conversion = convert(source, target)
    out = tmp_path / "out"
    out.mkdir()
    written = _read_back(target, conversion.rendered.text, dict(conversion.rendered.files), out)
    report = compare_static(target, source, written, conversion.losses)
    assert report.verdict != "different", _explain(report)


@pytest.mark.parametrize("target", SEED_TARGETS)
@pytest.mark.parametrize("name", CORPUS_REQUIREMENTS)
def test_corpus_requirements_there_and_back(
    name: str, target: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, rel = _stage(corpus, ENTRIES[name], tmp_path)
    if name == CERTBOT_RTD:
        _make_projects(root, LOCAL_PROJECTS[name])
    monkeypatch.chdir(root)
    source = envkit.load(rel)
    there = convert(source, target)
    folder = tmp_path / "there"
    folder.mkdir()
    middle = _read_back(target, there.rendered.text, dict(there.rendered.files), folder)
    report = compare_static(target, source, middle, there.losses)
    assert report.verdict != "different", _explain(report)
    back = convert(middle, "venv")
    again = tmp_path / "back"
    again.mkdir()
    final = _read_back("venv", back.rendered.text, dict(back.rendered.files), again)
    round_trip = compare_static("venv", middle, final, back.losses)
    assert round_trip.verdict != "different", _explain(round_trip)
