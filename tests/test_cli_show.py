"""``envkit show`` as a user runs it: once end to end as a real process, the rest in-process.

Covers the JSON of the kitchen-sink example through ``python -m envkit``, ``--version``
and the help texts, credentials (``***`` unless ``--show-secrets``, in the table and in
JSON), ``--env`` expansion of ``${VAR}``, and the errors that exit 2 with ``envkit: error:``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import envkit
from envkit.cli import cli
from tests.test_examples_show import kitchen_sink_json

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m envkit ARGS`` in a real process (the environment is conftest's: no pip config)."""
    return subprocess.run(
        [sys.executable, "-m", "envkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="envkit", catch_exceptions=False)


# -- end to end --------------------------------------------------------------------------


def test_show_json_end_to_end(examples: Path) -> None:
    folder = os.path.relpath(examples / "kitchen-sink", ROOT)  # ../shared/examples/kitchen-sink
    done = _run("show", "--json", f"{folder}/requirements.txt")
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == kitchen_sink_json(folder)


def test_bad_line_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\n-e foo:bar\n", encoding="utf-8")
    done = _run("show", "requirements.txt", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "envkit: error: requirements.txt:2:4: foo:bar is not a valid editable requirement: it should be a path"
        " to a local project or a VCS URL (beginning with bzr+, git+, hg+ or svn+)\n"
        "    -e foo:bar\n"
        "       ^^^^^^^\n"
    )


# -- version and help --------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    result = _invoke(flag)
    assert (result.exit_code, result.stdout) == (0, f"envkit {envkit.__version__}\n")


def _examples(help_text: str) -> list[str]:
    """The lines of the help's ``Examples:`` block."""
    lines = [line.strip() for line in help_text.splitlines()]
    block = lines[lines.index("Examples:") + 1 :]
    return block[: block.index("")] if "" in block else block


def test_help_has_examples() -> None:
    result = _invoke("--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: envkit [OPTIONS] COMMAND [ARGS]...\n")
    examples = _examples(result.stdout)
    assert examples
    assert all(line.startswith("envkit ") for line in examples), examples
    assert any(line.startswith("envkit show ") for line in examples), examples
    commands = [line.split(None, 1) for line in result.stdout.splitlines() if line.startswith("  ")]
    assert ["show", "Read a declaration and show what it means."] in commands


def test_show_help_has_examples() -> None:
    result = _invoke("show", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: envkit show [OPTIONS] FILE\n")
    assert _examples(result.stdout) == [
        "envkit show requirements.txt",
        "envkit show requirements-dev.txt --json | jq '.requirements[].name'",
        "envkit show requirements.txt --env    expand ${VAR} from the environment, as pip does",
    ]
    options = [line.split()[0].rstrip(",") for line in result.stdout.splitlines() if line.startswith("  -")]
    assert options == ["--from", "--json", "--show-secrets", "--env", "-h"]


# -- credentials -------------------------------------------------------------------------

SECRET_FILE = "--extra-index-url https://user:s3cr3t@host/simple\npkg @ https://tok3n@host/pkg.whl\n"


@pytest.fixture
def secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text(SECRET_FILE, encoding="utf-8")
    return "requirements.txt"


@pytest.mark.parametrize(
    ("flags", "index", "wheel"),
    [
        ((), "https://user:***@host/simple", "https://***@host/pkg.whl"),
        (("--show-secrets",), "https://user:s3cr3t@host/simple", "https://tok3n@host/pkg.whl"),
    ],
)
def test_table_credentials(secret_file: str, flags: tuple[str, ...], index: str, wheel: str) -> None:
    result = _invoke("show", *flags, secret_file)
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert f"extra-index:   {index}" in lines
    [row] = [line for line in lines if line.startswith("1 ")]
    assert row.split() == ["1", "pkg", wheel, "requirements.txt:2"]
    if not flags:
        assert "s3cr3t" not in result.stdout
        assert "tok3n" not in result.stdout


@pytest.mark.parametrize(
    ("flags", "index", "wheel"),
    [
        ((), "https://user:***@host/simple", "https://***@host/pkg.whl"),
        (("--show-secrets",), "https://user:s3cr3t@host/simple", "https://tok3n@host/pkg.whl"),
    ],
)
def test_json_credentials(secret_file: str, flags: tuple[str, ...], index: str, wheel: str) -> None:
    result = _invoke("show", "--json", *flags, secret_file)
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert data["sources"] == [
        {
            "kind": "extra-index",
            "url": index,
            "name": None,
            "priority": None,
            "verify_ssl": True,
            "has_credentials": True,
        }
    ]
    assert data["options"]["extra_index_urls"] == [index]
    assert data["options"]["index_url"] is None
    [req] = data["requirements"]
    assert (req["name"], req["url"], req["text"]) == ("pkg", wheel, f"pkg @ {wheel}")
    if not flags:
        assert "s3cr3t" not in result.stdout
        assert "tok3n" not in result.stdout


#: Every place pip takes a URL, each with a credential: none may show it.
SECRET_PLACES = [
    "--index-url https://user:s3cr3t@host/simple",
    "-i https://user:s3cr3t@host/simple",
    "--extra-index-url=https://s3cr3t@host/simple",
    "--find-links https://user:s3cr3t@host/links/",
    "-f https://user:s3cr3t@host/links/",
    "git+https://s3cr3t@github.com/org/repo.git#egg=repo",
    "-e git+https://user:s3cr3t@github.com/org/repo.git@v1#egg=repo",
    'pkg @ https://user:s3cr3t@host/pkg-1.0.tar.gz ; python_version > "3"',
    "pkg @ HTTPS://user:s3cr3t@host/pkg.whl",
    "https://user:s3cr3t@host/pkg-1.0-py3-none-any.whl",
    "pkg @ git+ssh://user:s3cr3t@host/org/pkg.git@main",
]


@pytest.mark.parametrize("line", SECRET_PLACES)
@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_secret_never_shown(line: str, as_json: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text(f"{line}\nplain==1\n", encoding="utf-8")
    result = _invoke("show", *(["--json"] if as_json else []), "requirements.txt")
    assert result.exit_code == 0, result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr
    assert "***" in result.stdout
    shown = _invoke("show", "--show-secrets", *(["--json"] if as_json else []), "requirements.txt")
    assert "s3cr3t" in shown.stdout


def test_secret_never_shown_in_comment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("pkg==1  # mirror: https://user:s3cr3t@host/simple\n", encoding="utf-8")
    result = _invoke("show", "--json", "requirements.txt")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["requirements"][0]["comment"] == "mirror: https://user:***@host/simple"


@pytest.mark.parametrize(
    "line",
    [
        "-r https://user:s3cr3t@host/more.txt",
        'pkg @ https://user:s3cr3t@host/pkg.whl ; no_such_marker == "1"',
    ],
)
def test_secret_never_in_errors(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text(f"{line}\n", encoding="utf-8")
    result = _invoke("show", "requirements.txt")
    assert result.exit_code == 2
    assert result.stderr.startswith("envkit: error: requirements.txt:1:")
    assert "s3cr3t" not in result.stderr


# -- ${VAR} ------------------------------------------------------------------------------

VAR_FILE = "--extra-index-url https://${IDX_USER}:${IDX_TOKEN}@host/simple\npkg @ https://host/${PKG_DIR}/pkg-1.0-py3-none-any.whl\n"


@pytest.mark.parametrize(
    ("flags", "index", "wheel"),
    [
        ((), "https://${IDX_USER}:${IDX_TOKEN}@host/simple", "https://host/${PKG_DIR}/pkg-1.0-py3-none-any.whl"),
        (("--env",), "https://alice:***@host/simple", "https://host/dl/pkg-1.0-py3-none-any.whl"),
        (("--env", "--show-secrets"), "https://alice:s3cr3t@host/simple", "https://host/dl/pkg-1.0-py3-none-any.whl"),
    ],
)
def test_env_expansion(
    flags: tuple[str, ...], index: str, wheel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IDX_USER", "alice")
    monkeypatch.setenv("IDX_TOKEN", "s3cr3t")
    monkeypatch.setenv("PKG_DIR", "dl")
    Path("requirements.txt").write_text(VAR_FILE, encoding="utf-8")
    result = _invoke("show", "--json", *flags, "requirements.txt")
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert data["options"]["extra_index_urls"] == [index]
    assert [r["url"] for r in data["requirements"]] == [wheel]


def test_env_unset_variable_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IDX_USER", "alice")
    monkeypatch.delenv("IDX_TOKEN", raising=False)
    monkeypatch.setenv("PKG_DIR", "dl")
    Path("requirements.txt").write_text(VAR_FILE, encoding="utf-8")
    result = _invoke("show", "--json", "--env", "requirements.txt")
    assert result.exit_code == 0
    warning = (
        "requirements.txt:1:39: warning: environment variable IDX_TOKEN is not set; '${IDX_TOKEN}' is kept as written"
    )
    assert result.stderr == warning + "\n"
    data = json.loads(result.stdout)
    assert data["options"]["extra_index_urls"] == ["https://alice:${IDX_TOKEN}@host/simple"]
    assert data["warnings"] == [warning]


# -- errors: exit 2, "envkit: error:", no traceback ---------------------------------------


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke("show", "nope.txt")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", "envkit: error: nope.txt: no such file\n")


def test_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("reqs").mkdir()
    result = _invoke("show", "reqs")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", "envkit: error: reqs: is a folder, not a file\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "numpy\n--no-such-option\n",
            "requirements.txt:2:1: no such option: --no-such-option\n"
            "    --no-such-option\n"
            "    ^^^^^^^^^^^^^^^^\n"
            "  hint: did you mean --global-option?",
        ),
        (
            "requests==2.0 --hash=md4:abc\n",
            "requirements.txt:1:15: Allowed hash algorithms for --hash are sha256, sha384, sha512.\n"
            "    requests==2.0 --hash=md4:abc\n"
            "                  ^^^^^^^^^^^^^^",
        ),
        (
            "-r missing.txt\n",
            "requirements.txt:1:4: cannot read included file 'missing.txt': no such file\n"
            "    -r missing.txt\n"
            "       ^^^^^^^^^^^",
        ),
    ],
)
def test_bad_line(text: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text(text, encoding="utf-8")
    result = _invoke("show", "requirements.txt")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"envkit: error: {message}\n")
