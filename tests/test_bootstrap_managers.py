"""`envkit bootstrap` with uv, pipenv and poetry for real, against the local package index:
the manager's file is generated from a requirements file, the tool builds the project's
environment, and what it installed is what the index serves for the request."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from envkit.environments import bootstrap

EXPECTED = {"scikit-learn": "1.4.2", "numpy": "1.26.4", "scipy": "1.14.1", "six": "1.16.0"}

PROBE = (
    "import json; from importlib import metadata; "
    "print(json.dumps({d.metadata['Name'].lower(): d.version for d in metadata.distributions()}))"
)


@pytest.mark.parametrize(
    ("manager", "file", "activate"),
    [
        ("uv", "pyproject.toml", "source {venv}/bin/activate   (or: uv run ...)"),
        ("pipenv", "Pipfile", "pipenv shell   (or: pipenv run ...)"),
        ("poetry", "pyproject.toml", "source {venv}/bin/activate   (or: poetry run ...)"),
    ],
)
def test_bootstrap_builds_the_project_environment(
    manager: str, file: str, activate: str, tmp_path: Path, package_index
) -> None:  # type: ignore[no-untyped-def]
    import json

    src = tmp_path / "requirements.txt"
    src.write_text(
        f"--index-url {package_index.simple_url}\nscikit-learn==1.4.2\nnumpy<2\nsix ; python_version >= '3'\n"
    )
    project = tmp_path / manager
    messages: list[str] = []
    result = bootstrap(src, manager, path=project, progress=messages.append)
    assert result.file == project / file
    assert result.file_action == "created"
    venv = project / ".venv"
    assert result.created.path == venv
    assert result.created.activate == activate.format(venv=venv)
    out = subprocess.run([str(result.created.python), "-c", PROBE], capture_output=True, text=True, check=True)
    installed = json.loads(out.stdout)
    assert {name: installed.get(name) for name in EXPECTED} == EXPECTED
    assert messages[0] == f"{project / file}: created from {src}"
