"""Secrets planted in URLs, pip configuration and environment variables never leave envkit.

The environment is real (``uv venv`` plus wheels installed from ``file:`` URLs); the
secrets are planted where real ones live: a PEP 610 ``direct_url.json`` (an archive URL
with a password and a token query, a VCS URL with an OAuth token), a conda channel token,
pip's configuration file, ``PIP_*`` variables and unrelated variables. Whatever envkit
prints, writes or logs must hold none of them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import envkit.snapshot as snapmod
from envkit.errors import EnvkitError
from envkit.model import redact_url
from envkit.snapshot import redact, render, snapshot

from .test_snapshot import make_uv_venv, make_wheel, uv_install

SECRETS = {
    "archive password": "s3cr3t-ARCHIVE",
    "archive token": "abc123tok",
    "vcs token": "ghp_VCSSECRET",
    "conda token": "tk-CONDASECRET",
    "index password": "pa55w0rd-INDEX",
    "extra index token": "tok123xyz",
    "find-links token": "ACCESSXYZ",
    "env index token": "pypi-AgEIcHlwaS5vcmcSECRET",
    "unrelated variable": "ghp_ENVSECRET",
    "aws variable": "AWSSECRETKEY",
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real environment whose PEP 610 records and conda records hold credentials."""
    root = tmp_path_factory.mktemp("secrets")
    python = make_uv_venv(root / "env")
    sneaky = make_wheel(root / "wheels", "sneaky", "1.0")
    vcspkg = make_wheel(root / "wheels", "vcspkg", "2.0")
    uv_install(python, sneaky.as_uri(), vcspkg.as_uri())
    site = next((root / "env").glob("lib/python*/site-packages"))
    (site / "sneaky-1.0.dist-info" / "direct_url.json").write_text(
        json.dumps(
            {
                "url": f"https://user:{SECRETS['archive password']}@host.example/pkgs/sneaky-1.0-py3-none-any.whl"
                f"?token={SECRETS['archive token']}",
                "archive_info": {"hashes": {"sha256": "ab" * 32}},
            }
        )
    )
    (site / "vcspkg-2.0.dist-info" / "direct_url.json").write_text(
        json.dumps(
            {
                "url": f"https://oauth2:{SECRETS['vcs token']}@github.com/org/vcspkg.git",
                "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "main"},
            }
        )
    )
    meta = root / "env" / "conda-meta"
    meta.mkdir()
    (meta / "private-lib-2.0-py_0.json").write_text(
        json.dumps({"channel": f"https://conda.example.com/t/{SECRETS['conda token']}/internal/noarch", "files": []})
    )
    config = root / "pip.conf"
    config.write_text(
        "[global]\n"
        f"index-url = https://alice:{SECRETS['index password']}@private.example/simple\n"
        f"extra-index-url = https://private2.example/simple?token={SECRETS['extra index token']}\n"
        "[install]\n"
        f"find-links = https://links.example/?access_token={SECRETS['find-links token']}\n"
    )
    return root


@pytest.fixture
def secret_environ(planted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", str(planted / "pip.conf"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(planted / "no-xdg"))
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", f"https://__token__:{SECRETS['env index token']}@upload.example/simple")
    monkeypatch.setenv("GITHUB_TOKEN", SECRETS["unrelated variable"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["aws variable"])


def assert_no_secret(text: str) -> None:
    leaked = [what for what, secret in SECRETS.items() if secret in text]
    assert leaked == [], f"leaked: {leaked}"


def env_python(planted: Path) -> str:
    return str(planted / "env" / "bin" / "python")


@pytest.mark.usefixtures("secret_environ")
def test_secrets_are_redacted_where_they_were(planted: Path) -> None:
    snap = snapshot(python=env_python(planted))
    # pip reads the machine-wide files too (/etc/pip.conf); the planted file comes last and wins
    assert snap.indexes.config_files[-1] == str(planted / "pip.conf")
    assert replace(snap.indexes, config_files=()) == snapmod.Indexes(
        index_url="https://alice:***@private.example/simple",
        extra_index_urls=("https://__token__:***@upload.example/simple",),
        find_links=("https://links.example/?access_token=***",),
    )
    assert snap.package("sneaky").provenance.url == (  # type: ignore[union-attr]
        "https://user:***@host.example/pkgs/sneaky-1.0-py3-none-any.whl?token=***"
    )
    assert snap.package("vcspkg").provenance.url == "https://oauth2:***@github.com/org/vcspkg.git"  # type: ignore[union-attr]
    assert snap.conda == (
        snapmod.CondaPackage("private-lib", "2.0", "py_0", "https://conda.example.com/t/***/internal"),
    )


@pytest.mark.usefixtures("secret_environ")
def test_no_secret_in_snapshot_json_or_rendered_files(planted: Path, tmp_path: Path) -> None:
    for snap in (snapshot(python=env_python(planted)), snapshot()):
        assert_no_secret(json.dumps(snap.to_dict()))
        files = render(snap)
        for text in files.values():
            assert_no_secret(text)
        snapmod.write(snap, tmp_path / "out")
        for path in (tmp_path / "out").iterdir():
            assert_no_secret(path.read_text())
    requirements = render(snapshot(python=env_python(planted)))["requirements.txt"]
    assert "sneaky @ https://host.example/pkgs/sneaky-1.0-py3-none-any.whl?token=***#sha256=" in requirements
    assert "vcspkg @ git+https://github.com/org/vcspkg.git@" + "a" * 40 in requirements


@pytest.mark.usefixtures("secret_environ")
def test_no_secret_in_command_output(planted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from envkit import cli as cli_module

    runner = CliRunner()
    outputs = []
    for args in (
        ["snapshot", "--python", env_python(planted)],
        ["snapshot", "--python", env_python(planted), "--json", "-o", str(tmp_path / "a")],
        ["snapshot", "-o", str(tmp_path / "b")],
        ["diff", str(tmp_path / "a"), str(tmp_path / "b")],
        ["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--json"],
        ["diff", str(tmp_path / "a"), str(tmp_path / "a" / "requirements.txt")],
    ):
        result = runner.invoke(cli_module.cli, args)
        assert result.exit_code in (0, 1), result.output
        outputs.append(result.output + result.stderr)
    assert "https://alice:***@private.example/simple" in outputs[0]
    for text in outputs:
        assert_no_secret(text)
    for path in [*(tmp_path / "a").iterdir(), *(tmp_path / "b").iterdir()]:
        assert_no_secret(path.read_text())


@pytest.mark.usefixtures("secret_environ")
def test_no_secret_in_log_records(planted: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        snapshot(python=env_python(planted))
        snapshot()
    records = [r for r in caplog.records if r.name.startswith("envkit")]
    assert len(records) == 2
    assert "https://alice:***@private.example/simple" in records[0].getMessage()
    for record in caplog.records:
        assert_no_secret(record.getMessage())
    assert_no_secret(caplog.text)


def test_no_secret_in_a_probe_failure(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho 'fetching https://bob:{SECRETS['index password']}@idx.example/x' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(EnvkitError) as info:
        snapshot(python=str(fake))
    assert str(info.value) == (
        f"{fake}: the environment probe failed (exit status 3): fetching https://bob:***@idx.example/x"
    )


def test_secrets_in_an_untrusted_snapshot_are_redacted_on_reading() -> None:
    from .test_snapshot import demo

    data = demo().to_dict()
    data["indexes"]["index_url"] = f"https://carol:{SECRETS['index password']}@private.example/simple"
    loaded = snapmod.Snapshot.from_dict(data)
    assert loaded.indexes.index_url == "https://carol:***@private.example/simple"


# -- the redaction rule -----------------------------------------------------------------------

#: envkit.model.redact_url's cases: the snapshot's rule must agree with it on each.
MODEL_CASES = [
    "https://pypi.org/simple",
    "https://user:pass@host.example/simple",
    "https://token@host.example/simple",
    "https://__token__:pypi-abc@upload.example/legacy/",
    "https://${USER}:${PASSWORD}@host.example/simple",
    "https://user:${PASSWORD}@host.example/simple",
    "https://${TOKEN}@host.example/simple",
    "https://host.example/simple?token=abc&x=1",
    "https://host.example/simple?X=1&Signature=abc#frag",
    "https://host.example/a.whl?access_token=abc",
    "https://host.example/a.whl?apikey=k&api_key=k2&key=k3&password=p&secret=s&sig=g&auth=a",
    "file:///opt/wheels",
    "/opt/wheels",
    "git+https://oauth2:tok@gitlab.example/org/repo.git@v1#egg=repo",
]

#: What the snapshot's rule adds.
EXTENDED_CASES = [
    (
        "https://h.example/a.whl?private_token=t&X-Amz-Signature=s",
        "https://h.example/a.whl?private_token=***&X-Amz-Signature=***",
    ),
    ("https://h.example/a?X-Amz-Credential=c&X-Amz-Date=1", "https://h.example/a?X-Amz-Credential=***&X-Amz-Date=1"),
    ("https://h.example/a?client_secret=c&session_id=s", "https://h.example/a?client_secret=***&session_id=***"),
    ("https://h.example/a.whl#sha256=abc&token=t", "https://h.example/a.whl#sha256=abc&token=***"),
    ("https://conda.anaconda.org/t/tk-123/conda-forge", "https://conda.anaconda.org/t/***/conda-forge"),
    ("git+ssh://git@github.com/org/repo.git", "git+ssh://git@github.com/org/repo.git"),
    ("ssh://deploy:pw@host.example/repo", "ssh://deploy:***@host.example/repo"),
]


@pytest.mark.parametrize("url", MODEL_CASES)
def test_redact_agrees_with_the_model_rule(url: str) -> None:
    assert redact(url) == redact_url(url)


@pytest.mark.parametrize(("url", "expected"), EXTENDED_CASES)
def test_redact_extends_the_model_rule(url: str, expected: str) -> None:
    assert redact(url) == expected
