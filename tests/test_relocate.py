"""Relative paths moved with the file that holds them (envkit/relocate.py), and what
``generate --dir`` and ``convert -o`` into another folder write because of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import envkit
from envkit.cli import cli
from envkit.convert import convert
from envkit.environments import verify
from envkit.generate import generate
from envkit.relocate import relocated_path


@pytest.mark.parametrize(
    ("path", "source", "target", "expected"),
    [
        (".", "proj", "proj/envs", ".."),
        ("./pkg", "proj", "proj/envs", "../pkg"),
        ("pkg/sub", "proj", "proj/envs", "../pkg/sub"),
        ("../lib", "proj", "proj/envs", "../../lib"),
        ("envs/pkg", "proj", "proj/envs", "./pkg"),
        ("./envs", "proj", "proj/envs", "."),
        ("./pkg", "proj/envs", "proj", "./envs/pkg"),
        ("./dist/a-1.0-py3-none-any.whl", "proj", "other", "../proj/dist/a-1.0-py3-none-any.whl"),
        # the same place: the user's spelling is kept
        ("./pkg", "proj", "proj", "./pkg"),
        ("pkg/../pkg", "proj", "proj", "pkg/../pkg"),
        # not relative paths: as written
        ("/abs/pkg", "proj", "proj/envs", "/abs/pkg"),
        ("~/pkg", "proj", "proj/envs", "~/pkg"),
        ("https://example.com/wheels/", "proj", "proj/envs", "https://example.com/wheels/"),
        ("${HOME}/pkg", "proj", "proj/envs", "${HOME}/pkg"),
        ("./${SUB}/pkg", "proj", "proj/envs", "./${SUB}/pkg"),
        ("\\\\server\\share\\pkg", "proj", "proj/envs", "\\\\server\\share\\pkg"),
        # file: URLs without a host: the path moves, the fragment stays
        ("file:./pkg#egg=pkg", "proj", "proj/envs", "file:../pkg#egg=pkg"),
        ("file:.", "proj", "proj/envs", "file:.."),
        ("file://host/share/pkg", "proj", "proj/envs", "file://host/share/pkg"),
        ("file:///abs/pkg", "proj", "proj/envs", "file:///abs/pkg"),
    ],
)
def test_relocated_path(tmp_path: Path, path: str, source: str, target: str, expected: str) -> None:
    assert relocated_path(path, str(tmp_path / source), str(tmp_path / target)) == expected


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """proj/requirements.txt: the project itself editable, a sibling library, a
    find-links folder named by an included file beside which it lives."""
    proj = tmp_path / "proj"
    (proj / "reqs" / "wheels").mkdir(parents=True)
    (proj / "setup.py").write_text("from setuptools import setup\nsetup(name='proj')\n")
    (proj / "requirements.txt").write_text("-e .\n../lib\n-r reqs/base.txt\n")
    (proj / "reqs" / "base.txt").write_text("--find-links ./wheels\nsix==1.16.0\n")
    return proj


def test_generate_into_another_folder_moves_the_paths(project: Path) -> None:
    result = generate(project / "requirements.txt", out_dir=project / "envs")
    envs = project / "envs"
    # every file names the same places from envs/ (pip too runs in the file's folder)
    assert (envs / "requirements.txt").read_text() == "--find-links ../reqs/wheels\n-e ..\n../../lib\nsix==1.16.0\n"
    pipfile = (envs / "Pipfile").read_text()
    assert 'local-project = {path = "..", editable = true}' in pipfile
    assert 'lib = {path = "../../lib"}' in pipfile
    conda = (envs / "environment.yml").read_text()
    assert "  - pip:\n      - --find-links ../reqs/wheels\n      - -e ..\n      - ../../lib\n" in conda
    # the files read back are what was meant; each move is one row, as the user wrote it
    assert {(t.target, t.static.verdict) for t in result.targets} == {
        ("venv", "equivalent"),
        ("conda", "equivalent"),
        ("pipenv", "equivalent-with-losses"),  # '.' named local-project: reported
        ("poetry", "equivalent-with-losses"),  # poetry names no path: reported
    }
    rows = {(t.target, row.subject): (row.status, row.reason) for t in result.targets for row in t.conversion.rows}
    moved = "written relative to the new file's folder"
    assert rows[("venv", ".")] == ("transformed", f"{moved}: ..")
    assert rows[("venv", "../lib")] == ("transformed", f"{moved}: ../../lib")
    assert rows[("venv", "--find-links ./wheels")] == ("transformed", f"{moved}: ../reqs/wheels")
    assert rows[("conda", "--find-links ./wheels")] == (
        "transformed",
        f"{moved}: ../reqs/wheels; applies only to the packages under pip:; 1 package(s) are installed from conda"
        " channels",
    )
    # what a target loses is not also reported as moved
    assert rows[("pipenv", "--find-links ./wheels")] == ("lost", "pipenv has no find-links; only [[source]] indexes")
    assert rows[("poetry", ".")] == ("lost", "poetry needs the name of every dependency")
    assert ("pipenv", "--find-links ../reqs/wheels") not in rows
    # and check, which renders the same way, finds nothing stale
    from envkit.generate import check

    assert check(envs) == ()


def test_the_same_folder_changes_nothing_but_find_links_of_includes(project: Path) -> None:
    env = envkit.load(project / "requirements.txt")
    conversion = convert(env, "pipenv", source_dir=project, target_dir=project)
    assert 'local-project = {path = ".", editable = true}' in conversion.rendered.text
    assert 'lib = {path = "../lib"}' in conversion.rendered.text
    flat = convert(env, "venv", source_dir=project, target_dir=project)
    assert flat.rendered.text == "--find-links ./reqs/wheels\n-e .\n../lib\nsix==1.16.0\n"


def test_relative_file_urls_move_too(tmp_path: Path) -> None:
    env = envkit.loads("-e file:.#egg=proj\nfile:./edpkg\n--find-links file:./wheels\n", path="r.txt")
    text = convert(env, "venv", source_dir=tmp_path, target_dir=tmp_path / "out").rendered.text
    assert text == "--find-links file:../wheels\n-e file:..#egg=proj\nfile:../edpkg\n"


def test_verify_against_a_file_in_another_folder(project: Path) -> None:
    generate(project / "requirements.txt", out_dir=project / "envs")
    result = verify(project / "requirements.txt", against=[project / "envs" / "environment.yml"])
    assert [r.verdict for r in result.static] == ["equivalent"]


def test_convert_to_stdout_moves_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # where printed text goes is not known: the paths stay as the source has them
    monkeypatch.chdir(project.parent)
    result = CliRunner().invoke(cli, ["convert", "proj/requirements.txt", "--to", "pipenv", "--json"])
    assert result.exit_code == 0, result.output
    text = json.loads(result.stdout)["text"]
    assert 'local-project = {path = ".", editable = true}' in text
    assert 'lib = {path = "../lib"}' in text


def test_a_dev_file_in_another_folder_keeps_its_paths(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "dev").mkdir(parents=True)
    (proj / "requirements.txt").write_text("six==1.16.0\n")
    (proj / "dev" / "dev.txt").write_text("-e ../tools\n")  # proj/tools, from the dev file's folder
    generate(proj / "requirements.txt", dev=proj / "dev" / "dev.txt", out_dir=proj / "envs")
    pipfile = (proj / "envs" / "Pipfile").read_text()
    assert '[dev-packages]\ntools = {path = "../tools", editable = true}\n' in pipfile
    from envkit.generate import check

    assert check(proj / "envs") == ()
