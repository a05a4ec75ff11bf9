"""`envkit generate`, `convert` and `check` end to end through the CLI (CliRunner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from envkit.cli import cli

ROOT = Path(__file__).resolve().parents[1]
MLOPS = ROOT / "examples" / "mlops" / "requirements.txt"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_generate_writes_the_four_seed_files_and_they_check_equivalent(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = invoke("generate", str(MLOPS), "--dir", str(out))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["target", "file", "action", "carried", "transformed", "lost", "static", "check"]
    for target, name in (
        ("venv", "requirements.txt"),
        ("conda", "environment.yml"),
        ("pipenv", "Pipfile"),
        ("poetry", "pyproject.toml"),
    ):
        row = next(line for line in lines if line.startswith(target + " "))
        assert row.split() == [target, str(out / name), "created", "7", "0", "0", "equivalent"]
    assert "Every requirement and option was carried exactly." in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "Pipfile",
        "environment.yml",
        "envkit.toml",
        "pyproject.toml",
        "requirements.txt",
    ]
    assert (out / "environment.yml").read_text().splitlines()[2] == "name: demo"
    assert 'xgboost = ">=2.0"' in (out / "Pipfile").read_text()
    manifest = (out / "envkit.toml").read_text()
    assert 'targets = ["venv", "conda", "pipenv", "poetry"]' in manifest


def test_check_in_sync_then_stale_then_regenerated(tmp_path: Path) -> None:
    src = tmp_path / "requirements.txt"
    shutil.copy(MLOPS, src)
    assert invoke("generate", str(src)).exit_code == 0
    ok = invoke("check", str(tmp_path))
    assert (ok.exit_code, ok.output) == (0, "All generated files are in step with their source.\n")
    src.write_text(src.read_text() + "numpy>=1.26\n")
    stale = invoke("check", str(tmp_path), "--diff")
    assert stale.exit_code == 1
    assert f"{tmp_path / 'Pipfile'}: out of date with {src}" in stale.output
    assert '+numpy = ">=1.26"' in stale.output
    refused = CliRunner().invoke(cli, ["generate", str(src)])
    assert refused.exit_code == 2
    assert "exist(s) and differ(s); --dry-run shows the diff, --force overwrites" in refused.output
    dry = invoke("generate", str(src), "--dry-run")
    assert dry.exit_code == 0
    assert "+  - numpy>=1.26" in dry.output
    assert "numpy" not in (tmp_path / "environment.yml").read_text()
    forced = invoke("generate", str(src), "--force")
    assert forced.exit_code == 0
    assert "numpy>=1.26" in (tmp_path / "environment.yml").read_text()
    assert invoke("check", str(tmp_path)).exit_code == 0


def test_generate_leaves_the_source_alone_and_merges_into_existing_files(tmp_path: Path) -> None:
    src = tmp_path / "requirements.txt"
    shutil.copy(MLOPS, src)
    original = src.read_bytes()
    user_pyproject = "# my service\n[tool.black]\nline-length = 99\n\n[tool.poetry]\npackage-mode = false\n"
    (tmp_path / "pyproject.toml").write_text(user_pyproject)
    result = invoke("generate", str(src), "--to", "venv,poetry", "--force")
    assert result.exit_code == 0, result.output
    assert src.read_bytes() == original
    merged = (tmp_path / "pyproject.toml").read_text()
    assert merged.startswith("# my service\n[tool.black]\nline-length = 99\n")
    assert 'scikit-learn = ">=1.4"' in merged  # the file is poetry-1 style: merged in its own style


def test_generate_dev_file_becomes_the_dev_group(tmp_path: Path, examples: Path) -> None:
    shutil.copytree(examples / "kitchen-sink", tmp_path / "ks")
    ks = tmp_path / "ks"
    result = invoke(
        "generate",
        str(ks / "requirements.txt"),
        "--dev",
        str(ks / "requirements-dev.txt"),
        "--to",
        "pipenv,uv",
        "--dir",
        str(tmp_path / "out"),
        "--json",
    )
    data = json.loads(result.output)
    assert data["equivalent"] is True
    pipfile = (tmp_path / "out" / "Pipfile").read_text()
    dev = pipfile.split("[dev-packages]", 1)[1]
    assert 'pytest = ">=8"' in dev and 'ruff = "==0.6.9"' in dev
    assert "mlflow" not in dev


def test_generate_poetry_and_uv_in_one_folder_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["generate", str(MLOPS), "--to", "poetry,uv", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        "envkit: error: poetry and uv both write pyproject.toml; generate them into different folders (--dir)\n"
    )


def test_convert_prints_the_file_and_the_loss_table(examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(examples / "kitchen-sink")
    result = CliRunner().invoke(cli, ["convert", "requirements.txt", "--to", "poetry"])
    assert result.exit_code == 0
    assert result.stdout.startswith("[project]\n")
    assert "requirements.txt:14  lost         scikit-learn==1.5.2" in result.stderr
    assert "poetry has no constraints files (-c)" in result.stderr


def test_convert_strict_fails_and_writes_nothing(
    examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(examples / "kitchen-sink")
    out = tmp_path / "Pipfile"
    result = CliRunner().invoke(cli, ["convert", "requirements.txt", "--to", "pipenv", "-o", str(out), "--strict"])
    assert result.exit_code == 1
    assert "item(s) would be lost; nothing written (--strict)" in result.stderr
    assert not out.exists()


def test_convert_never_overwrites_without_force(tmp_path: Path) -> None:
    out = tmp_path / "requirements.txt"
    out.write_text("flask\n")
    refused = CliRunner().invoke(cli, ["convert", str(MLOPS), "--to", "venv", "-o", str(out)])
    assert refused.exit_code == 2
    assert refused.stderr.endswith(
        f"envkit: error: {out} exists and differs; --dry-run shows the diff, --force overwrites it\n"
    )
    assert out.read_text() == "flask\n"
    dry = CliRunner().invoke(cli, ["convert", str(MLOPS), "--to", "venv", "-o", str(out), "--dry-run"])
    assert dry.exit_code == 0
    assert "-flask\n" in dry.stdout and "+mlflow>=2.14\n" in dry.stdout
    forced = CliRunner().invoke(cli, ["convert", str(MLOPS), "--to", "venv", "-o", str(out), "--force"])
    assert forced.exit_code == 0
    assert out.read_text() == MLOPS.read_text().split("\n", 1)[1]


def test_convert_conda_pip_mode(tmp_path: Path) -> None:
    result = invoke("convert", str(MLOPS), "--to", "conda", "--conda-mode", "pip")
    assert result.exit_code == 0
    assert "  - pip:\n" in result.stdout
    assert "      - mlflow>=2.14\n" in result.stdout


def test_generate_track_records_the_run_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    result = invoke("generate", str(MLOPS), "--dir", "demo", "--track")
    assert result.exit_code == 0, result.output
    run_id = result.output.split("in MLflow run ", 1)[1].split()[0]
    assert f"See it with:  mlflow ui --backend-store-uri {uri}" in result.output
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    assert run.data.tags["envkit.source"] == "requirements.txt"
    assert len(run.data.tags["envkit.fingerprint"]) == 64
    generated = sorted(a.path for a in client.list_artifacts(run_id, "generated"))
    assert generated == [
        "generated/Pipfile",
        "generated/environment.yml",
        "generated/pyproject.toml",
        "generated/requirements.txt",
    ]
    assert [a.path for a in client.list_artifacts(run_id, "source")] == ["source/requirements.txt"]
    assert "environment/snapshot.json" in [a.path for a in client.list_artifacts(run_id, "environment")]
