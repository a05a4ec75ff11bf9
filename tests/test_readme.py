"""The README's quick start and .ci/run must stay in step."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert commands[0].startswith('python -m pip install ".[mlflow]" && envkit generate examples/')
    assert commands[0].endswith("--track")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = _quick_start_commands()[1]
    assert test_command in ci.splitlines()


def test_bundled_example_exists() -> None:
    command = _quick_start_commands()[0]
    example = re.search(r"envkit generate (\S+)", command)
    assert example is not None
    assert (ROOT / example.group(1)).is_file()
