"""Shared fixtures: isolation from this machine's pip configuration, and shared/ paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: ``../shared`` beside the checkout (examples and the real-world corpus).
SHARED = Path(__file__).resolve().parents[2] / "shared"
EXAMPLES = SHARED / "examples"
CORPUS = SHARED / "corpus"

# Tests must not see the machine's pip configuration (find-links, constraints, indexes):
# pip loads no configuration file at all when PIP_CONFIG_FILE is os.devnull.
for _name in [n for n in os.environ if n.startswith(("PIP_", "UV_", "PIPENV_", "POETRY_"))]:
    del os.environ[_name]
os.environ["PIP_CONFIG_FILE"] = os.devnull
os.environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"


@pytest.fixture
def examples() -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/examples is not beside this checkout")
    return EXAMPLES


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside this checkout")
    return CORPUS


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The local package index (tests/pkgindex.py) served on 127.0.0.1 for the session."""
    from .pkgindex import IndexServer, build_index

    root = build_index(tmp_path_factory.mktemp("index"))
    with IndexServer(root) as server:
        yield server
