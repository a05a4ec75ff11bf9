"""The MLOps course's list, built for real by venv, pipenv, poetry and conda (py-rattler),
against the local package index and the local conda channel: `verify --depth install`
reports the four environments equivalent, and a deliberately different pair is caught."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import envkit
from envkit.convert import convert
from envkit.environments import verify

from .condachannel import build_channel


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = build_channel(tmp_path_factory.mktemp("conda-channel"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RATTLER_CACHE_DIR", str(tmp_path_factory.mktemp("rattler-cache")))
        patch.delenv("ENVKIT_CONDA_ENGINE", raising=False)
        yield root


def _sources(folder: Path, examples: Path, index: str, channel: Path, extra: str = "") -> tuple[Path, Path]:
    src = folder / "requirements.txt"
    src.write_text(f"--index-url {index}\n" + (examples / "mlops-zoomcamp" / "requirements.txt").read_text() + extra)
    conda = convert(envkit.load(src), "conda").rendered.text
    # the generated file names conda-forge, which this machine cannot reach: use the local channel
    local = conda.replace("  - conda-forge\n", f"  - {channel.as_uri()}\n  - nodefaults\n")
    assert local != conda
    env_yml = folder / "environment.yml"
    env_yml.write_text(local)
    return src, env_yml


def test_mlops_zoomcamp_four_managers_install_the_same(
    examples: Path, package_index, channel: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    src, env_yml = _sources(tmp_path, examples, package_index.simple_url, channel)
    messages: list[str] = []
    result = verify(
        src,
        against=[env_yml],
        depth="install",
        managers=["venv", "pipenv", "poetry", "conda"],
        workdir=tmp_path / "work",
        progress=messages.append,
    )
    assert result.failed == {}
    assert result.install is not None
    assert result.install.managers == ("venv", "pipenv", "poetry", "conda")
    assert result.install.differences == ()
    assert result.install.problems == ()
    assert result.install.consistency == {"venv": "", "pipenv": "", "poetry": "", "conda": ""}
    venv = result.install.installed["venv"]
    for name, version in {
        "mlflow": "2.16.2",
        "scikit-learn": "1.5.2",
        "pandas": "2.2.3",
        "xgboost": "2.1.1",
        "jupyter": "1.1.1",
    }.items():
        assert venv[name] == version
    assert result.equivalent
    assert any(m.startswith("[conda] ") for m in messages)


def test_a_loosened_pin_is_caught_when_resolved(examples: Path, package_index, channel: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The Pipfile says numpy<2 where the source says nothing: the resolved sets differ."""
    src = tmp_path / "requirements.txt"
    src.write_text(f"--index-url {package_index.simple_url}\nscikit-learn\npandas\n")
    pipfile = tmp_path / "Pipfile"
    pipfile.write_text(
        convert(envkit.load(src), "pipenv").rendered.text.replace('pandas = "*"', 'pandas = "*"\nnumpy = "<2"')
    )
    static = verify(src, against=[pipfile], depth="static")
    assert not static.equivalent
    assert [(d.subject, d.field) for r in static.static for d in r.differences] == [('numpy = "<2"', "presence")]
    resolved = verify(src, against=[pipfile], depth="resolve", managers=["venv", "pipenv"], workdir=tmp_path / "work")
    assert resolved.resolve is not None
    [difference] = resolved.resolve.differences
    assert difference.package == "numpy"
    assert difference.versions == {"venv": "2.1.0", "pipenv": "1.26.4"}
    assert difference.explanation == "versions differ: pipenv 1.26.4, venv 2.1.0"
    assert not resolved.equivalent


def test_a_dropped_marker_is_caught_statically(tmp_path: Path) -> None:
    src = tmp_path / "requirements.txt"
    src.write_text('pywin32>=306 ; sys_platform == "win32"\nsix\n')
    other = tmp_path / "other.txt"
    other.write_text("pywin32>=306\nsix\n")
    result = verify(src, against=[other])
    [report] = result.static
    assert [(d.field, d.source, d.target, d.explained) for d in report.differences] == [
        ("marker", 'sys_platform == "win32"', "-", False)
    ]
    assert not result.equivalent


def test_a_different_index_is_caught_statically(tmp_path: Path) -> None:
    src = tmp_path / "requirements.txt"
    src.write_text("--index-url https://pypi.org/simple\nsix\n")
    other = tmp_path / "other.txt"
    other.write_text("--index-url https://mirror.example.com/simple\nsix\n")
    [report] = verify(src, against=[other]).static
    assert [(d.field, d.target) for d in report.differences] == [("sources", "index https://mirror.example.com/simple")]
