"""``diff`` and ``envkit diff``: snapshots, declarations and references compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import envkit.snapshot as snapmod
from envkit.errors import EnvkitError
from envkit.snapshot import Snapshot, canonical, diff, version_change

from .test_snapshot import make_uv_venv, make_wheel, raw_probe, snapshot, uv_install


def dist(name: str, version: str, direct_url: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "installer": "pip",
        "requested": True,
        "direct_url": direct_url,
        "editable_link": None,
    }


def git_url(commit: str) -> dict[str, Any]:
    return {"url": "https://github.com/org/gitpkg.git", "vcs_info": {"vcs": "git", "commit_id": commit}}


def wheel_url(digest: str) -> dict[str, Any]:
    return {"url": "https://files.example/w-2.0-py3-none-any.whl", "archive_info": {"hashes": {"sha256": digest}}}


def make(dists: list[dict[str, Any]], version: str = "3.11.7", machine: str = "x86_64", conda: Any = ()) -> Snapshot:
    raw = raw_probe(distributions=dists, conda=[dict(c) for c in conda])
    raw["python"] = {**raw["python"], "version": version, "abi": "cp" + "".join(version.split(".")[:2])}
    raw["platform"] = {**raw["platform"], "machine": machine}
    return Snapshot.from_dict(canonical(raw))


BEFORE = [
    dist("alpha", "1.0.0"),
    dist("beta", "2.1.0"),
    dist("delta", "1.2.3"),
    dist("epsilon", "1.0"),
    dist("gitpkg", "0.5.0", git_url("a" * 40)),
    dist("editme", "0.1.0", {"url": "file:///src/editme", "dir_info": {"editable": True}}),
    dist("w", "2.0", wheel_url("ab" * 32)),
    dist("gone", "1.0"),
    dist("pip", "24.0"),
]
AFTER = [
    dist("alpha", "2.0.0"),
    dist("beta", "2.0.9"),
    dist("delta", "1.2.4"),
    dist("epsilon", "1.0.post1"),
    dist("gitpkg", "0.5.0", git_url("b" * 40)),
    dist("editme", "0.1.0"),
    dist("w", "2.0", wheel_url("cd" * 32)),
    dist("newpkg", "0.1"),
    dist("pip", "25.0"),
]
CONDA_BEFORE = [{"name": "libzlib", "version": "1.3.1", "build": "h1_0", "channel": "conda-forge"}]
CONDA_AFTER = [
    {"name": "libzlib", "version": "1.3.1", "build": "h2_0", "channel": "conda-forge"},
    {"name": "mkl", "version": "2023.1.0", "build": "h3_1", "channel": "conda-forge"},
]

VERSION_CHANGES = [
    ("1.0.0", "2.0.0", ("major", "upgrade")),
    ("2.1.0", "2.0.9", ("minor", "downgrade")),
    ("1.2.3", "1.2.4", ("patch", "upgrade")),
    ("1.0", "1.0.post1", ("other", "upgrade")),
    ("1.0rc1", "1.0", ("other", "upgrade")),
    ("1.0", "1!0.5", ("other", "upgrade")),
    ("1.2", "1.2.0", (None, None)),
    ("1.2.3.4", "1.2.3.5", ("other", "upgrade")),
    ("3", "2", ("major", "downgrade")),
    ("weird-version", "other-thing", ("other", None)),
    ("same-weird", "same-weird", (None, None)),
]


@pytest.mark.parametrize(("a", "b", "expected"), VERSION_CHANGES)
def test_version_change_size_and_direction(a: str, b: str, expected: tuple[str | None, str | None]) -> None:
    assert version_change(a, b) == expected


def _cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    from envkit import cli as cli_module

    return cli_module.cli


def test_diff_table_and_json_of_two_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = make(BEFORE, conda=CONDA_BEFORE)
    b = make(AFTER, version="3.12.1", machine="aarch64", conda=CONDA_AFTER)
    snapmod.write(a, tmp_path / "a")
    snapmod.write(b, tmp_path / "b")
    with monkeypatch.context():
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(_cli(monkeypatch), ["diff", "a", "b"])
        as_json = CliRunner().invoke(_cli(monkeypatch), ["diff", "a/snapshot.json", "b", "--json"])
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"A  a  cpython 3.11.7 (cp311), Linux x86_64, 8 packages, fingerprint {a.fingerprint[:12]}\n"
        f"B  b  cpython 3.12.1 (cp312), Linux aarch64, 8 packages, fingerprint {b.fingerprint[:12]}\n"
        "\n"
        "python    cpython 3.11.7 (cp311) → cpython 3.12.1 (cp312)\n"
        "platform  Linux x86_64 → Linux aarch64\n"
        "\n"
        "change   package          A           B              what\n"
        "-------  ---------------  ----------  -------------  ----------------------------------------------\n"
        "changed  alpha            1.0.0       2.0.0          major upgrade\n"
        "changed  beta             2.1.0       2.0.9          minor downgrade\n"
        "changed  delta            1.2.3       1.2.4          patch upgrade\n"
        "changed  editme           0.1.0       0.1.0          editable → index\n"
        "changed  epsilon          1.0         1.0.post1      other upgrade\n"
        "changed  gitpkg           0.5.0       0.5.0          git commit moved aaaaaaaaaaaa → bbbbbbbbbbbb\n"
        "removed  gone             1.0\n"
        "added    newpkg                       0.1\n"
        "changed  w                2.0         2.0            archive hash sha256=abababab → sha256=cdcdcdcd\n"
        "changed  libzlib (conda)  1.3.1=h1_0  1.3.1=h2_0\n"
        "added    mkl (conda)                  2023.1.0=h3_1\n"
        "\n"
        "2 added, 1 removed, 8 changed; python and platform changed.\n"
    )
    assert as_json.exit_code == 1
    data = json.loads(as_json.output)
    expected = diff(a, b).to_dict()
    assert data == {
        **expected,
        "a": {**expected["a"], "label": "a/snapshot.json"},
        "b": {**expected["b"], "label": "b"},
    }
    assert data["a"] == {
        "label": "a/snapshot.json",
        "kind": "snapshot",
        "fingerprint": a.fingerprint,
        "python": {"implementation": "cpython", "version": "3.11.7", "abi": "cp311"},
        "platform": {"system": "Linux", "machine": "x86_64"},
        "packages": 8,
        "unpinned": [],
    }
    assert data["packages"][0] == {
        "name": "alpha",
        "change": "changed",
        "a": snapmod._package_dict(a.package("alpha")),  # type: ignore[arg-type]
        "b": snapmod._package_dict(b.package("alpha")),  # type: ignore[arg-type]
        "version_change": "major",
        "direction": "upgrade",
        "provenance": None,
    }
    assert [
        (c["name"], c["change"], c["version_change"], c["direction"], c["provenance"]) for c in data["packages"]
    ] == [
        ("alpha", "changed", "major", "upgrade", None),
        ("beta", "changed", "minor", "downgrade", None),
        ("delta", "changed", "patch", "upgrade", None),
        ("editme", "changed", None, None, "editable → index"),
        ("epsilon", "changed", "other", "upgrade", None),
        ("gitpkg", "changed", None, None, "git commit moved aaaaaaaaaaaa → bbbbbbbbbbbb"),
        ("gone", "removed", None, None, None),
        ("newpkg", "added", None, None, None),
        ("w", "changed", None, None, "archive hash sha256=abababab → sha256=cdcdcdcd"),
    ]
    assert data["conda"] == [
        {
            "name": "libzlib",
            "change": "changed",
            "a": {"version": "1.3.1", "build": "h1_0", "channel": "conda-forge"},
            "b": {"version": "1.3.1", "build": "h2_0", "channel": "conda-forge"},
        },
        {
            "name": "mkl",
            "change": "added",
            "a": None,
            "b": {"version": "2023.1.0", "build": "h3_1", "channel": "conda-forge"},
        },
    ]
    assert (data["python"], data["platform"], data["same"]) == (
        {
            "a": {"implementation": "cpython", "version": "3.11.7", "abi": "cp311"},
            "b": {"implementation": "cpython", "version": "3.12.1", "abi": "cp312"},
        },
        {"a": {"system": "Linux", "machine": "x86_64"}, "b": {"system": "Linux", "machine": "aarch64"}},
        False,
    )


def test_pip_alone_makes_no_difference() -> None:
    a = make([dist("alpha", "1.0.0"), dist("pip", "24.0")])
    b = make([dist("alpha", "1.0.0"), dist("pip", "25.1")])
    result = diff(a, b)
    assert (result.same, a.fingerprint == b.fingerprint) == (True, True)


def test_same_snapshots_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = make(BEFORE)
    snapmod.write(a, tmp_path / "a")
    result = CliRunner().invoke(_cli(monkeypatch), ["diff", str(tmp_path / "a"), str(tmp_path / "a" / "snapshot.json")])
    assert (result.exit_code, result.output) == (
        0,
        f"A  {tmp_path / 'a'}                {_side(a)}\n"
        f"B  {tmp_path / 'a' / 'snapshot.json'}  {_side(a)}\n"
        "\n"
        "A and B are the same environment.\n",
    )


def _side(s: Snapshot) -> str:
    return f"cpython 3.11.7 (cp311), Linux x86_64, {len(s.packages) - 1} packages, fingerprint {s.fingerprint[:12]}"


def test_snapshot_against_requirements_with_pins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = make([dist("alpha", "1.0.0"), dist("beta", "2.1.0"), dist("gitpkg", "0.5.0", git_url("a" * 40))])
    snapmod.write(a, tmp_path / "a")
    (tmp_path / "req.txt").write_text(
        "alpha==1.0.0\nBeta==2.2\ngamma>=0.1\ngitpkg @ git+https://github.com/org/gitpkg.git@" + "b" * 40 + "\n"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(_cli(monkeypatch), ["diff", "a", "req.txt"])
    assert (result.exit_code, result.output) == (
        1,
        f"A  a        cpython 3.11.7 (cp311), Linux x86_64, 3 packages, fingerprint {a.fingerprint[:12]}\n"
        "B  req.txt  declaration, 3 pinned packages\n"
        "\n"
        "python and platform not compared: B is a declaration\n"
        "not compared (no exact pin): gamma>=0.1\n"
        "\n"
        "change   package  A      B    what\n"
        "-------  -------  -----  ---  --------------------------------------------\n"
        "changed  beta     2.1.0  2.2  minor upgrade\n"
        "changed  gitpkg   0.5.0  ?    git commit moved aaaaaaaaaaaa → bbbbbbbbbbbb\n"
        "\n"
        "0 added, 0 removed, 2 changed.\n",
    )


def test_snapshot_against_its_own_requirements(tmp_path: Path) -> None:
    a = make(BEFORE)
    snapmod.write(a, tmp_path)
    result = diff(tmp_path, tmp_path / "requirements.txt")
    # the editable cannot be pinned, so the requirements file leaves it out (as a comment)
    assert [(c.name, c.change) for c in result.packages] == [("editme", "removed")]


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("diff")
    wheels = root / "wheels"
    make_wheel(wheels, "alpha", "1.0.0", requires=["beta"])
    make_wheel(wheels, "alpha", "2.0.0", requires=["beta"])
    make_wheel(wheels, "beta", "2.1.0")
    make_wheel(wheels, "gamma", "0.3.0")
    a, b = make_uv_venv(root / "a"), make_uv_venv(root / "b")
    uv_install(a, "--find-links", wheels, "alpha==1.0.0")
    uv_install(b, "--find-links", wheels, "alpha==2.0.0", "gamma")
    return root, a, b


def test_diff_of_two_real_environments(envs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root, a, b = envs
    snapmod.write(snapshot(python=str(a)), root / "snap-a")
    snapmod.write(snapshot(python=str(b)), root / "snap-b")
    monkeypatch.chdir(root)
    cli = _cli(monkeypatch)
    result = CliRunner().invoke(cli, ["diff", "snap-a", "snap-b"])
    sa, sb = snapmod.load_snapshot(root / "snap-a"), snapmod.load_snapshot(root / "snap-b")
    assert (result.exit_code, result.output.splitlines()[3:]) == (
        1,
        [
            "change   package  A      B      what",
            "-------  -------  -----  -----  -------------",
            "changed  alpha    1.0.0  2.0.0  major upgrade",
            "added    gamma           0.3.0",
            "",
            "1 added, 0 removed, 1 changed.",
        ],
    )
    assert result.output.splitlines()[:2] == [
        f"A  snap-a  {sa.python.describe()}, {sa.platform.describe()}, 2 packages, fingerprint {sa.fingerprint[:12]}",
        f"B  snap-b  {sb.python.describe()}, {sb.platform.describe()}, 3 packages, fingerprint {sb.fingerprint[:12]}",
    ]
    same = CliRunner().invoke(cli, ["diff", "snap-a", str(root / "snap-a" / "snapshot.json"), "--json"])
    assert (same.exit_code, json.loads(same.output)["same"]) == (0, True)
    (root / "pins.txt").write_text("alpha==1.0.0\nbeta==2.1.0\n")
    assert CliRunner().invoke(cli, ["diff", "pins.txt", "snap-a"]).exit_code == 0


def test_diff_bad_input_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = _cli(monkeypatch)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["diff", "missing.txt", "other.txt"])
    assert (result.exit_code, result.output) == (2, "envkit: error: missing.txt: no such file\n")
    (tmp_path / "broken.json").write_text('{"schema": "envkit.snapshot/1", "fingerprint": 1}')
    result = CliRunner().invoke(cli, ["diff", "broken.json", "broken.json"])
    assert (result.exit_code, result.output) == (
        2,
        "envkit: error: broken.json: invalid snapshot: fingerprint: expected a string, got a number\n",
    )
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["diff", "empty", "broken.json"])
    assert (result.exit_code, result.output) == (2, "envkit: error: empty: a folder without snapshot.json\n")


_REFERENCED = make([dist("alpha", "1.0.0")])


def resolve_for_test(reference: str) -> Snapshot:
    return _REFERENCED


def test_references_go_through_registered_resolvers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(snapmod.RESOLVERS, "test:/", resolve_for_test)
    monkeypatch.setitem(snapmod.RESOLVERS, "lazy:/", "tests.test_diff:resolve_for_test")
    result = diff("test:/one", "lazy:/two")
    assert (result.same, result.a.label, result.b.label) == (True, "test:/one", "lazy:/two")
    snapmod.register_resolver("other:/", resolve_for_test)
    try:
        assert diff("other:/x", _REFERENCED).same
    finally:
        del snapmod.RESOLVERS["other:/"]


def test_a_reference_whose_resolver_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(snapmod.RESOLVERS, "runs:/", "envkit_no_such_module.tracking:snapshot_from_run")
    with pytest.raises(EnvkitError) as info:
        diff("runs:/0123abc", _REFERENCED)
    assert str(info.value) == (
        "runs:/0123abc: reading runs:/ references needs envkit_no_such_module.tracking, which cannot be imported "
        "(No module named 'envkit_no_such_module'); for MLflow runs install envkit with its mlflow extra: "
        "pip install 'envkit[mlflow]'"
    )
    monkeypatch.setitem(snapmod.RESOLVERS, "runs:/", lambda ref: "not a snapshot")
    with pytest.raises(EnvkitError) as info:
        diff("runs:/0123abc", _REFERENCED)
    assert str(info.value) == "runs:/0123abc: the runs:/ resolver returned str, not a Snapshot"


def test_runs_prefix_is_registered_for_the_mlflow_support() -> None:
    assert snapmod.RESOLVERS["runs:/"] == "envkit.tracking.mlflow:snapshot_from_run"
