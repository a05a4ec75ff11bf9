"""Snapshots of real environments: the probe, provenance, managers, fingerprint, schema, files.

Every environment here is real: made by virtualenv, ``python -m venv`` or ``uv venv`` in
``tmp_path``, filled by pip or uv from tiny wheels and projects built by the helpers below
(a wheel written by hand, a local git repository, a project with an in-tree PEP 517
backend, so nothing is downloaded). Each is built once per module.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import envkit.snapshot as snapmod
from envkit import _probe
from envkit.errors import EnvkitError
from envkit.snapshot import Package, Provenance, Snapshot, canonical, render, snapshot

PY = sys.executable
UV = shutil.which("uv", path=os.path.dirname(PY)) or shutil.which("uv")
GIT = shutil.which("git")

# -- helpers shared with test_diff.py and test_secrets_snapshot.py ----------------------------


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_bytes(name: str, version: str, files: dict[str, str], requires: Sequence[str] = ()) -> tuple[str, bytes]:
    """A minimal wheel: the files plus dist-info METADATA, WHEEL and RECORD. Returns (filename, bytes)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    content = dict(files)
    content[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    content[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: envkit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = [f"{path},{_record_hash(text.encode())},{len(text.encode())}" for path, text in content.items()]
    content[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in content.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return f"{dist}-{version}-py3-none-any.whl", buffer.getvalue()


def make_wheel(folder: Path, name: str, version: str, requires: Sequence[str] = ()) -> Path:
    """Write a tiny importable wheel of ``name`` into ``folder``."""
    module = name.replace("-", "_")
    filename, data = wheel_bytes(name, version, {f"{module}/__init__.py": f"VERSION = {version!r}\n"}, requires)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_bytes(data)
    return folder / filename


#: An in-tree PEP 517 backend (no build requirements, so pip and uv need no index to build).
BACKEND = """
import base64, hashlib, io, os, zipfile

NAME, VERSION = open("NAME").read().split()
MODULE = NAME.replace("-", "_")


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(directory, files):
    info = MODULE + "-" + VERSION + ".dist-info"
    files = dict(files)
    files[info + "/METADATA"] = "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (NAME, VERSION)
    files[info + "/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: test-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    lines = ["%s,%s,%d" % (p, _hash(t.encode()), len(t.encode())) for p, t in files.items()]
    files[info + "/RECORD"] = "\\n".join(lines + [info + "/RECORD,,"]) + "\\n"
    name = MODULE + "-" + VERSION + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {MODULE + "/__init__.py": open("src/" + MODULE + ".py").read()})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {"_" + MODULE + "_editable.pth": os.path.abspath("src") + "\\n"})


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError
"""


def make_project(folder: Path, name: str, version: str) -> Path:
    """A source project pip and uv can build offline (wheel or editable)."""
    module = name.replace("-", "_")
    (folder / "src").mkdir(parents=True)
    (folder / "NAME").write_text(f"{name} {version}\n")
    (folder / "backend.py").write_text(BACKEND)
    (folder / "src" / f"{module}.py").write_text(f"VERSION = {version!r}\n")
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    return folder


def git(repo: Path, *args: str) -> str:
    cmd = [GIT or "git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def make_git_project(folder: Path, name: str, version: str) -> str:
    """A git repository holding a buildable project on branch ``main``; returns the commit."""
    make_project(folder, name, version)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "first")
    return git(folder, "rev-parse", "HEAD")


def run(*cmd: str | os.PathLike[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_virtualenv(path: Path, *extra: str) -> Path:
    run(PY, "-m", "virtualenv", "-q", "--no-periodic-update", "--python", PY, *extra, path)
    return env_python(path)


def make_venv(path: Path) -> Path:
    run(PY, "-m", "venv", "--without-pip", path)
    return env_python(path)


def make_uv_venv(path: Path, python: str = PY) -> Path:
    if UV is None:
        pytest.skip("uv is not installed")
    run(UV, "venv", "-q", "--python", python, path)
    return env_python(path)


def pip_install(python: Path, *args: str | os.PathLike[str]) -> None:
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index", *args)


def uv_install(python: Path, *args: str | os.PathLike[str]) -> None:
    if UV is None:
        pytest.skip("uv is not installed")
    run(UV, "pip", "install", "-q", "--offline", "--no-index", "--python", python, *args)


def find_python(version: str) -> str | None:
    """A working interpreter of ``version`` (``3.8``) under pyenv or on PATH, or ``None``."""
    candidates = sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}"))
    candidates.append(shutil.which(f"python{version}") or "")
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


@dataclass(frozen=True)
class World:
    root: Path
    wheels: Path
    repo: Path
    commit: str
    project: Path
    pip_env: Path
    uv_env: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    if GIT is None:
        pytest.skip("git is not installed")
    root = tmp_path_factory.mktemp("snapshot")
    wheels = root / "wheels"
    make_wheel(wheels, "alpha", "1.0.0", requires=["beta"])
    make_wheel(wheels, "beta", "2.1.0")
    make_wheel(wheels, "gamma", "0.3.0")
    delta = make_wheel(root / "loose", "delta", "1.0.0")
    commit = make_git_project(root / "repo", "gitpkg", "0.5.0")
    project = make_project(root / "proj", "editme", "0.1.0")
    pip_env = root / "pip-env"
    python = make_virtualenv(pip_env, "--no-setuptools")
    pip_install(python, "--find-links", wheels, "alpha", delta, f"git+{(root / 'repo').as_uri()}@main", "-e", project)
    uv_env = root / "uv-env"
    uv_install(make_uv_venv(uv_env), "--find-links", wheels, "alpha")
    return World(root, wheels, root / "repo", commit, project, pip_env, uv_env)


# -- the probe --------------------------------------------------------------------------------


def test_probe_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(_probe.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "the probe must not import relative to envkit"
            imported.add((node.module or "").split(".")[0])
    assert imported == {
        "__future__",
        "collections",
        "configparser",
        "hashlib",
        "json",
        "os",
        "platform",
        "re",
        "sys",
        "sysconfig",
        "time",
        "typing",
        "urllib",
    }
    assert imported <= set(getattr(sys, "stdlib_module_names", imported))


def test_probe_runs_where_envkit_is_not_installed(world: World) -> None:
    python = env_python(world.pip_env)
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run([python, "-I", "-c", "import envkit"], check=True, capture_output=True)
    raw = json.loads(run(python, "-I", _probe.__file__, "--raw"))
    assert sorted(raw) == ["conda", "distributions", "manager", "pip", "platform", "probe", "python"]
    assert raw["python"]["prefix"] == str(world.pip_env)
    data = json.loads(run(python, "-I", _probe.__file__, "--envkit-version", "9.9"))
    assert (data["schema"], data["envkit_version"]) == ("envkit.snapshot/1", "9.9")
    assert Snapshot.from_dict(data).fingerprint == data["fingerprint"]


@pytest.mark.skipif(find_python("3.8") is None, reason="no Python 3.8 here")
def test_probe_runs_on_python_3_8(tmp_path: Path) -> None:
    python = make_uv_venv(tmp_path / "py38", find_python("3.8") or "")
    snap = snapshot(python=str(python))
    assert (snap.python.version[:4], snap.python.abi, snap.python.interpreter_tag) == ("3.8.", "cp38", "cp38")
    assert snap.manager.name == "uv"


# -- what is captured -------------------------------------------------------------------------


def test_packages_versions_and_provenance(world: World) -> None:
    snap = snapshot(python=str(env_python(world.pip_env)))
    delta = world.root / "loose" / "delta-1.0.0-py3-none-any.whl"
    expected = {
        "alpha": Package("alpha", "1.0.0", "pip", True, Provenance()),
        "beta": Package("beta", "2.1.0", "pip", False, Provenance()),
        "delta": Package(
            "delta",
            "1.0.0",
            "pip",
            True,
            Provenance("archive", url=delta.as_uri(), hash="sha256=" + hashlib.sha256(delta.read_bytes()).hexdigest()),
        ),
        "gitpkg": Package(
            "gitpkg",
            "0.5.0",
            "pip",
            True,
            Provenance("vcs", url=world.repo.as_uri(), vcs="git", commit_id=world.commit, requested_revision="main"),
        ),
        "editme": Package(
            "editme", "0.1.0", "pip", True, Provenance("directory", url=world.project.as_uri(), editable=True)
        ),
    }
    assert {p.name: p for p in snap.packages if p.name in expected} == expected
    assert [p.name for p in snap.packages] == ["alpha", "beta", "delta", "editme", "gitpkg", "pip"]
    assert snap.warnings == ()


def test_python_and_platform_match_packaging(world: World) -> None:
    from packaging import tags

    snap = snapshot(python=str(env_python(world.pip_env)))
    version = platform.python_version()
    nodot = f"{sys.version_info[0]}{sys.version_info[1]}"
    assert snap.python == snapmod.Python(
        implementation=sys.implementation.name,
        implementation_version=version,
        version=version,
        interpreter_tag=f"cp{nodot}",
        abi=f"cp{nodot}{sys.abiflags}",
        executable=str(env_python(world.pip_env)),
        prefix=str(world.pip_env),
        base_prefix=sys.base_prefix,
    )
    plat = list(tags.platform_tags())
    assert (snap.platform.system, snap.platform.machine) == (platform.system(), platform.machine())
    libc = platform.libc_ver()
    assert snap.platform.libc == (libc if libc[0] else None)
    assert list(snap.platform.tags) == [plat[0], *[t for t in plat if t.startswith("manylinux_")][:1]]
    assert str(next(iter(tags.sys_tags())).abi) == snap.python.abi


def _venv_in(folder: Path, *beside: str) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    for name in beside:
        (folder.parent / name).write_text("")
    make_venv(folder)
    return folder


MANAGER_CASES = [
    ("venv", lambda t: _venv_in(t / "plain"), "venv", None, "pyvenv.cfg without another tool's key: python -m venv"),
    (
        "poetry-cache",
        lambda t: _venv_in(t / "virtualenvs" / "proj-AbCd_-12-py3.11"),
        "poetry",
        None,
        "poetry's virtualenvs folder name proj-AbCd_-12-py3.11",
    ),
    (
        "poetry-in-project",
        lambda t: _venv_in(t / "p" / ".venv", "poetry.lock"),
        "poetry",
        None,
        "in-project .venv beside poetry.lock",
    ),
    (
        "pipenv-home",
        lambda t: _venv_in(t / "virtualenvs" / "proj-AbCd_-12"),
        "pipenv",
        None,
        "pipenv's virtualenvs folder name proj-AbCd_-12",
    ),
    (
        "pipenv-in-project",
        lambda t: _venv_in(t / "p" / ".venv", "Pipfile", "Pipfile.lock"),
        "pipenv",
        None,
        "in-project .venv beside Pipfile",
    ),
]


@pytest.mark.parametrize(
    ("case", "build", "name", "version", "evidence"), MANAGER_CASES, ids=[c[0] for c in MANAGER_CASES]
)
def test_manager_detection(
    tmp_path: Path, case: str, build: Any, name: str, version: str | None, evidence: str
) -> None:
    env = build(tmp_path)
    manager = snapshot(python=str(env_python(env))).manager
    assert manager == snapmod.Manager(name, version, evidence)


def test_manager_virtualenv_and_uv(world: World) -> None:
    import virtualenv

    uv_version = run(UV or "uv", "--version").split()[1]
    assert snapshot(python=str(env_python(world.pip_env))).manager == snapmod.Manager(
        "virtualenv", virtualenv.__version__, f"pyvenv.cfg: virtualenv = {virtualenv.__version__}"
    )
    assert snapshot(python=str(env_python(world.uv_env))).manager == snapmod.Manager(
        "uv", uv_version, f"pyvenv.cfg: uv = {uv_version}"
    )


def test_manager_system() -> None:
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if not base.exists():
        pytest.skip("no base interpreter at the usual place")
    assert snapshot(python=str(base)).manager == snapmod.Manager(
        "system", None, "no pyvenv.cfg and sys.prefix is sys.base_prefix"
    )


# A conda prefix as conda writes it: conda-meta/<name>-<version>-<build>.json, keys sorted,
# the channel as a URL with the platform subdir, then the (long) list of files.
CONDA_RECORDS = {
    "_libgcc_mutex-0.1-conda_forge.json": {"channel": "https://conda.anaconda.org/conda-forge/linux-64"},
    "libzlib-1.3.1-hb9d3cd8_2.json": {"channel": "https://conda.anaconda.org/conda-forge/linux-64"},
    "mkl-2023.1.0-h213fc3f_46344.json": {"channel": "https://repo.anaconda.com/pkgs/main/linux-64"},
    "private-lib-2.0-py_0.json": {"channel": "https://conda.example.com/t/tk-123abc/internal/noarch"},
}


def test_conda_packages_and_manager(tmp_path: Path) -> None:
    python = make_uv_venv(tmp_path / "env")
    meta = tmp_path / "env" / "conda-meta"
    meta.mkdir()
    for filename, fields in CONDA_RECORDS.items():
        record = {"arch": "x86_64", "build": "x", **fields, "files": [f"lib/f{i}.so" for i in range(3000)]}
        (meta / filename).write_text(json.dumps(record, sort_keys=True, indent=2))
    (meta / "history").write_text("==> 2024-01-01 00:00:00 <==\n")
    snap = snapshot(python=str(python))
    assert snap.manager == snapmod.Manager("conda", None, "conda-meta/ in the prefix")
    assert snap.conda == (
        snapmod.CondaPackage("_libgcc_mutex", "0.1", "conda_forge", "conda-forge"),
        snapmod.CondaPackage("libzlib", "1.3.1", "hb9d3cd8_2", "conda-forge"),
        snapmod.CondaPackage("mkl", "2023.1.0", "h213fc3f_46344", "pkgs/main"),
        snapmod.CondaPackage("private-lib", "2.0", "py_0", "https://conda.example.com/t/***/internal"),
    )
    assert render(snap)["conda.yaml"] == (
        "channels:\n- conda-forge\n- pkgs/main\n- https://conda.example.com/t/***/internal\n"
        "dependencies:\n"
        f"- python={platform.python_version()}\n"
        "- _libgcc_mutex=0.1=conda_forge\n- libzlib=1.3.1=hb9d3cd8_2\n- mkl=2023.1.0=h213fc3f_46344\n"
        "- private-lib=2.0=py_0\n- pip\n- pip: []\nname: mlflow-env\n"
    )


LEGACY_LAYOUT = {
    # path inside one sys.path folder -> content
    "Plain_Name-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: Plain_Name\nVersion: 1.0\n",
    "Plain_Name-1.0.dist-info/INSTALLER": "pip\n",
    "old_style-1.0_beta.dist-info/METADATA": "Metadata-Version: 2.1\nName: old-style\nVersion: 1.0-beta\n\nbody\n",
    "legacy-2.0-py3.11.egg-info/PKG-INFO": "Metadata-Version: 1.1\nName: legacy\nVersion: 2.0\n",
    "single_file-3.0-py3.11.egg-info": "Metadata-Version: 1.1\nName: single-file\nVersion: 3.0\n",
    "devproj.egg-link": "/src/devproj\n.\n",
    "devproj-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: devproj\nVersion: 0.1\n",
    "not-a-dist.txt": "",
}


def test_probe_reads_legacy_metadata_layouts(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for path, text in LEGACY_LAYOUT.items():
        (first / path).parent.mkdir(parents=True, exist_ok=True)
        (first / path).write_text(text)
    (second / "legacy-9.9.dist-info").mkdir(parents=True)  # shadowed by the first folder's
    found = {
        d["name"]: (d["version"], d["installer"], d["requested"], d["editable_link"])
        for d in _probe._distributions([str(first), str(second)])
    }
    assert found == {
        "Plain_Name": ("1.0", "pip", False, None),
        "old-style": ("1.0-beta", None, False, None),
        "legacy": ("2.0", None, False, None),
        "single-file": ("3.0", None, False, None),
        "devproj": ("0.1", None, False, "/src/devproj"),
    }


# -- fingerprint ------------------------------------------------------------------------------


def test_fingerprint_is_stable(world: World) -> None:
    python = str(env_python(world.pip_env))
    assert snapshot(python=python).fingerprint == snapshot(python=python).fingerprint
    assert snapshot().fingerprint == snapshot(python=PY).fingerprint


def test_fingerprint_ignores_paths_installers_and_managers(world: World, tmp_path: Path) -> None:
    other = make_venv(tmp_path / "elsewhere" / "env")
    run(PY, "-m", "pip", "--python", other, "install", "-q", "--no-index", "--find-links", world.wheels, "alpha")
    a, b = snapshot(python=str(env_python(world.uv_env))), snapshot(python=str(other))
    assert (a.manager.name, b.manager.name) == ("uv", "venv")
    assert (a.package("beta").installer, b.package("beta").installer) == ("uv", "pip")  # type: ignore[union-attr]
    assert a.fingerprint == b.fingerprint


def test_fingerprint_changes_with_one_more_package(world: World, tmp_path: Path) -> None:
    python = make_uv_venv(tmp_path / "env")
    uv_install(python, "--find-links", world.wheels, "alpha")
    before = snapshot(python=str(python)).fingerprint
    uv_install(python, "--find-links", world.wheels, "gamma")
    after = snapshot(python=str(python)).fingerprint
    run(UV or "uv", "pip", "uninstall", "-q", "--python", python, "gamma")
    assert before != after
    assert snapshot(python=str(python)).fingerprint == before


# -- schema -----------------------------------------------------------------------------------


def test_json_round_trip(world: World) -> None:
    data = snapmod.capture(python=str(env_python(world.pip_env)), project=world.project)
    snap = Snapshot.from_dict(json.loads(json.dumps(data)))
    assert snap.to_dict() == data
    assert Snapshot.from_dict(snap.to_dict()) == snap
    assert data["schema"] == "envkit.snapshot/1"
    assert list(data) == [
        "schema",
        "fingerprint",
        "captured_at",
        "envkit_version",
        "python",
        "platform",
        "manager",
        "packages",
        "conda",
        "indexes",
        "declarations",
        "warnings",
    ]


def raw_probe(**changes: Any) -> dict[str, Any]:
    """Probe-shaped data (what :func:`envkit._probe.capture` returns), for hand-made snapshots."""
    data: dict[str, Any] = {
        "probe": 1,
        "python": {
            "implementation": "cpython",
            "implementation_version": "3.11.7",
            "version": "3.11.7",
            "interpreter_tag": "cp311",
            "abi": "cp311",
            "executable": "/envs/demo/bin/python",
            "prefix": "/envs/demo",
            "base_prefix": "/usr",
        },
        "platform": {
            "system": "Linux",
            "release": "6.1.0",
            "machine": "x86_64",
            "libc": ["glibc", "2.36"],
            "tags": ["linux_x86_64", "manylinux_2_36_x86_64"],
        },
        "manager": {"name": "uv", "version": "0.5.1", "evidence": "pyvenv.cfg: uv = 0.5.1"},
        "distributions": [
            {
                "name": "Alpha",
                "version": "1.0.0",
                "installer": "uv",
                "requested": True,
                "direct_url": None,
                "editable_link": None,
            },
            {
                "name": "pip",
                "version": "24.0",
                "installer": "pip",
                "requested": False,
                "direct_url": None,
                "editable_link": None,
            },
            {
                "name": "gitpkg",
                "version": "0.5.0",
                "installer": "uv",
                "requested": True,
                "direct_url": {
                    "url": "https://github.com/org/gitpkg.git",
                    "vcs_info": {
                        "vcs": "git",
                        "commit_id": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
                        "requested_revision": "v0.5",
                    },
                },
                "editable_link": None,
            },
            {
                "name": "editme",
                "version": "0.1.0",
                "installer": "uv",
                "requested": True,
                "direct_url": {"url": "file:///home/me/editme", "dir_info": {"editable": True}},
                "editable_link": None,
            },
            {
                "name": "wheelie",
                "version": "2.0",
                "installer": "pip",
                "requested": True,
                "direct_url": {
                    "url": "https://files.example/wheelie-2.0-py3-none-any.whl",
                    "archive_info": {"hashes": {"sha256": "ab" * 32}},
                },
                "editable_link": None,
            },
            {
                "name": "localwheel",
                "version": "3.0",
                "installer": "pip",
                "requested": False,
                "direct_url": {
                    "url": "file:///tmp/localwheel-3.0-py3-none-any.whl",
                    "archive_info": {"hash": "sha256=" + "cd" * 32},
                },
                "editable_link": None,
            },
            {
                "name": "setuptools",
                "version": "69.0.3",
                "installer": "pip",
                "requested": False,
                "direct_url": None,
                "editable_link": None,
            },
        ],
        "conda": [],
        "pip": {
            "index_url": "https://mirror.example/simple",
            "extra_index_urls": [],
            "find_links": [],
            "no_index": False,
            "trusted_hosts": [],
            "config_files": ["/etc/pip.conf"],
        },
    }
    data.update(changes)
    return data


def demo(**changes: Any) -> Snapshot:
    """A hand-made snapshot with a fixed capture time, so rendered files are byte-stable."""
    data = canonical(raw_probe(**changes))
    data["captured_at"] = "2024-05-01T12:00:00Z"
    data["envkit_version"] = "0.1.0"
    return Snapshot.from_dict(data)


def _mutate(path: str, value: Any) -> dict[str, Any]:
    data = demo().to_dict()
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is _DELETE:
        del target[keys[-1]]
    elif isinstance(target, list):
        target[int(keys[-1])] = value
    else:
        target[keys[-1]] = value
    return data


_DELETE = object()

INVALID = [
    ("schema", "envkit.snapshot/2", "schema: expected 'envkit.snapshot/1', got 'envkit.snapshot/2'"),
    ("fingerprint", "abc", "fingerprint: expected 64 lower-case hex digits"),
    ("captured_at", "yesterday", "captured_at: expected YYYY-MM-DDTHH:MM:SSZ, got 'yesterday'"),
    ("python", [], "python: expected an object, got a list"),
    ("python.version", 3.11, "python.version: expected a string, got a number"),
    ("packages", {}, "packages: expected a list, got an object"),
    ("packages.0.name", "Alpha", "packages[0].name: 'Alpha' is not a normalized (PEP 503) project name"),
    (
        "packages.0.version",
        "1.0\n--index-url https://evil.example/simple",
        "packages[0].version: control characters are not allowed",
    ),
    ("packages.0.version", "1.0 ; evil", "packages[0].version: '1.0 ; evil' is not a version, build or revision"),
    ("packages.0.requested", "yes", "packages[0].requested: expected true or false, got a string"),
    (
        "packages.0.provenance.kind",
        "magic",
        "packages[0].provenance.kind: expected one of index, vcs, archive, directory, unknown, got 'magic'",
    ),
    ("packages.2.provenance.url", "https://x y", "packages[2].provenance.url: a URL cannot be empty or hold spaces"),
    (
        "packages.2.provenance.vcs",
        None,
        "packages[2].provenance.vcs: a vcs provenance names its version control system",
    ),
    ("packages.1.name", "alpha", "packages: 'alpha' is listed twice"),
    (
        "packages.0.version",
        "1.0.1",
        "fingerprint: recorded {fp}… but the contents give {computed}…; the file was edited or damaged",
    ),
    ("indexes.extra_index_urls", [1], "indexes.extra_index_urls[0].item: expected a string, got a number"),
    ("declarations", [{"path": "x", "sha256": "no"}], "declarations[0].sha256: expected 64 lower-case hex digits"),
    ("platform.libc", {"name": "glibc"}, "platform.libc.version: expected a string, got null"),
    ("manager.evidence", _DELETE, "manager.evidence: expected a string, got null"),
]


@pytest.mark.parametrize(("path", "value", "message"), INVALID, ids=[f"{c[0]}={c[1]!r}"[:40] for c in INVALID])
def test_from_dict_rejects_malformed_input(path: str, value: Any, message: str) -> None:
    data = _mutate(path, value)
    if "{fp}" in message:
        tampered = replace(
            demo(), packages=tuple(replace(p, version="1.0.1") if p.name == "alpha" else p for p in demo().packages)
        )
        message = message.format(fp=data["fingerprint"][:12], computed=snapmod.fingerprint(tampered.to_dict())[:12])
    with pytest.raises(EnvkitError) as info:
        Snapshot.from_dict(data, origin="run/snapshot.json")
    assert str(info.value) == f"run/snapshot.json: invalid snapshot: {message}"


def test_from_dict_rejects_non_objects() -> None:
    with pytest.raises(EnvkitError) as info:
        Snapshot.from_dict([1, 2], origin="x.json")
    assert str(info.value) == "x.json: invalid snapshot: top level: expected an object, got a list"


def test_load_snapshot_reports_bad_json(tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").write_text('{"schema": "envkit.snapshot/1",\n  "fingerprint": }\n')
    with pytest.raises(EnvkitError) as info:
        snapmod.load_snapshot(tmp_path)
    assert str(info.value) == f"{tmp_path / 'snapshot.json'}:2:18: not valid JSON: Expecting value"


def test_load_snapshot_reads_what_write_wrote(tmp_path: Path) -> None:
    snapmod.write(demo(), tmp_path / "out")
    assert snapmod.load_snapshot(tmp_path / "out") == demo()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "conda.yaml",
        "pylock.toml",
        "python_env.yaml",
        "requirements.txt",
        "snapshot.json",
    ]


# -- errors -----------------------------------------------------------------------------------


def test_snapshot_of_a_missing_interpreter(tmp_path: Path) -> None:
    with pytest.raises(EnvkitError) as info:
        snapshot(python=str(tmp_path / "nope" / "python"))
    assert str(info.value) == f"{tmp_path / 'nope' / 'python'}: no such interpreter"


@pytest.mark.skipif(find_python("2.7") is None, reason="no Python 2.7 here")
def test_snapshot_of_a_too_old_interpreter() -> None:
    old = find_python("2.7") or ""
    with pytest.raises(EnvkitError) as info:
        snapshot(python=old)
    assert str(info.value) == f"{old}: envkit's probe needs Python 3.8 or newer"


def test_snapshot_of_something_that_is_not_python(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'not json'\n")
    fake.chmod(0o755)
    with pytest.raises(EnvkitError) as info:
        snapshot(python=str(fake))
    assert str(info.value) == f"{fake}: the environment probe printed something that is not JSON"


# -- declarations -----------------------------------------------------------------------------

DECLARATION_CASES = [
    "requirements.txt",
    "requirements-dev.txt",
    "environment.yml",
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "pylock.toml",
    "pylock.gpu.toml",
]


def test_declarations_are_hashed(tmp_path: Path) -> None:
    for name in [*DECLARATION_CASES, "README.md", "setup.py", "requirements.in.bak", "notes.txt"]:
        (tmp_path / name).write_text(f"content of {name}\n")
    (tmp_path / "requirements").mkdir()
    snap = snapshot(project=tmp_path)
    assert snap.declarations == tuple(
        snapmod.Declaration(name, hashlib.sha256(f"content of {name}\n".encode()).hexdigest())
        for name in sorted(DECLARATION_CASES)
    )


# -- rendered files ---------------------------------------------------------------------------

FP = demo().fingerprint

EXPECTED_REQUIREMENTS = f"""\
# Pinned by envkit 0.1.0 from the environment {FP[:12]}
# cpython 3.11.7 (cp311) on Linux x86_64, captured 2024-05-01T12:00:00Z.
# The environment's pip was configured with (add them to your pip configuration if needed):
#   --index-url https://mirror.example/simple
alpha==1.0.0
# editme==0.1.0: installed editable from file:///home/me/editme, which other machines do not have
gitpkg @ git+https://github.com/org/gitpkg.git@1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b
# localwheel==3.0: installed from the local file file:///tmp/localwheel-3.0-py3-none-any.whl, which other machines do not have
setuptools==69.0.3
wheelie @ https://files.example/wheelie-2.0-py3-none-any.whl#sha256={"ab" * 32}
"""

EXPECTED_PYTHON_ENV = """\
python: 3.11.7
build_dependencies:
- pip==24.0
- setuptools==69.0.3
- wheel
dependencies:
- -r requirements.txt
"""

EXPECTED_CONDA = f"""\
channels:
- conda-forge
dependencies:
- python=3.11.7
- pip<=24.0
- pip:
  - alpha==1.0.0
  - gitpkg @ git+https://github.com/org/gitpkg.git@1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b
  - setuptools==69.0.3
  - wheelie @ https://files.example/wheelie-2.0-py3-none-any.whl#sha256={"ab" * 32}
name: mlflow-env
"""

EXPECTED_PYLOCK = f"""\
# Locked by envkit 0.1.0 from the environment {FP[:12]}
# cpython 3.11.7 (cp311) on Linux x86_64, captured 2024-05-01T12:00:00Z.
# Packages from an index have no [[packages.wheels]]: an installed environment keeps no
# wheel URL or hash. Complete them with a locker (pip lock -r requirements.txt).
lock-version = "1.0"
requires-python = "==3.11.7"
created-by = "envkit"

[[packages]]
name = "alpha"
version = "1.0.0"
index = "https://mirror.example/simple"

[[packages]]
name = "editme"

[packages.directory]
path = "/home/me/editme"
editable = true

[[packages]]
name = "gitpkg"

[packages.vcs]
type = "git"
url = "https://github.com/org/gitpkg.git"
requested-revision = "v0.5"
commit-id = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"

[[packages]]
name = "localwheel"
version = "3.0"

[packages.archive]
path = "/tmp/localwheel-3.0-py3-none-any.whl"
hashes = {{sha256 = "{"cd" * 32}"}}

[[packages]]
name = "setuptools"
version = "69.0.3"
index = "https://mirror.example/simple"

[[packages]]
name = "wheelie"
version = "2.0"

[packages.archive]
url = "https://files.example/wheelie-2.0-py3-none-any.whl"
hashes = {{sha256 = "{"ab" * 32}"}}
"""


def test_render_gives_every_file_whole() -> None:
    files = render(demo())
    assert list(files) == ["snapshot.json", "requirements.txt", "conda.yaml", "python_env.yaml", "pylock.toml"]
    assert json.loads(files["snapshot.json"]) == demo().to_dict()
    lines = files["snapshot.json"].splitlines()  # readable: a key, or a list item, per line
    assert (lines[:3], lines[-1]) == (["{", '  "schema": "envkit.snapshot/1",', f'  "fingerprint": "{FP}",'], "}")
    assert [line for line in lines if line.startswith('    {"name": ')] == [
        "    " + json.dumps(p) + ("," if i < len(demo().packages) - 1 else "")
        for i, p in enumerate(demo().to_dict()["packages"])
    ]
    assert files["requirements.txt"] == EXPECTED_REQUIREMENTS
    assert files["python_env.yaml"] == EXPECTED_PYTHON_ENV
    assert files["conda.yaml"] == EXPECTED_CONDA
    assert files["pylock.toml"] == EXPECTED_PYLOCK


def test_rendered_files_parse_as_their_tools_read_them() -> None:
    from ruamel.yaml import YAML

    import envkit

    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    pylock = pytest.importorskip("packaging.pylock")
    LockPackage, PylockValidationError = pylock.Package, pylock.PylockValidationError

    files = render(demo())
    pins = envkit.loads(files["requirements.txt"])
    assert [d.pep508() for d in pins.dependencies] == [
        "alpha==1.0.0",
        "gitpkg @ git+https://github.com/org/gitpkg.git@1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
        "setuptools==69.0.3",
        f"wheelie @ https://files.example/wheelie-2.0-py3-none-any.whl#sha256={'ab' * 32}",
    ]
    yaml = YAML(typ="safe", pure=True)
    assert yaml.load(files["python_env.yaml"]) == {
        "python": "3.11.7",
        "build_dependencies": ["pip==24.0", "setuptools==69.0.3", "wheel"],
        "dependencies": ["-r requirements.txt"],
    }
    conda = yaml.load(files["conda.yaml"])
    assert conda["dependencies"][-1]["pip"] == [str(d) for d in pins.dependencies]
    lock = tomllib.loads(files["pylock.toml"])
    for entry in lock["packages"]:
        if "index" in entry:  # no wheel URL or hash in an installed environment: incomplete by design
            with pytest.raises(PylockValidationError):
                LockPackage._from_dict(entry)
        else:
            assert LockPackage._from_dict(entry).name == entry["name"]


YAML_SCALARS = [
    ("3.11.7", "3.11.7"),
    ("3.10", "'3.10'"),
    ("-r requirements.txt", "-r requirements.txt"),
    ("pip<=24.0", "pip<=24.0"),
    ("name @ git+https://h/r.git@abc", "name @ git+https://h/r.git@abc"),
    ("yes", "'yes'"),
    ("null", "'null'"),
    ("a: b", "'a: b'"),
    ("it's #1", "'it''s #1'"),
    ("@scope", "'@scope'"),
    ("", "''"),
]


@pytest.mark.parametrize(("text", "expected"), YAML_SCALARS)
def test_yaml_scalars_read_back_as_strings(text: str, expected: str) -> None:
    from ruamel.yaml import YAML

    assert snapmod._yaml_scalar(text) == expected
    assert YAML(typ="safe", pure=True).load(f"key: {expected}\n") == {"key": text}


def test_rendered_requirements_rebuild_the_same_environment(world: World, tmp_path: Path) -> None:
    source = make_uv_venv(tmp_path / "source")
    uv_install(source, "--find-links", world.wheels, "alpha", f"gitpkg @ git+{world.repo.as_uri()}@main")
    snap = snapshot(python=str(source))
    (tmp_path / "requirements.txt").write_text(render(snap)["requirements.txt"])
    target = make_uv_venv(tmp_path / "target")
    uv_install(target, "--find-links", world.wheels, "-r", tmp_path / "requirements.txt")
    rebuilt = snapshot(python=str(target))
    assert rebuilt.package("gitpkg").provenance.commit_id == world.commit  # type: ignore[union-attr]
    assert rebuilt.fingerprint == snap.fingerprint


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real ``envkit`` group with this module's commands wired in (as the lead will)."""
    from envkit import cli as cli_module

    return cli_module.cli


def test_cli_snapshot_table(world: World, cli: Any) -> None:
    python = str(env_python(world.pip_env))
    result = CliRunner().invoke(cli, ["snapshot", "--python", python, "--project", str(world.project)])
    snap = snapshot(python=python, project=world.project)
    libc = f", {snap.platform.libc[0]} {snap.platform.libc[1]}" if snap.platform.libc else ""
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"python        cpython {platform.python_version()} ({snap.python.abi})  {python}\n"
        f"platform      {snap.platform.system} {snap.platform.release} {snap.platform.machine}{libc}; "
        f"tags {', '.join(snap.platform.tags)}\n"
        f"manager       virtualenv {snap.manager.version} (pyvenv.cfg: virtualenv = {snap.manager.version})\n"
        "packages      6 (3 from an index, 1 vcs, 1 archive, 1 editable)\n"
        "conda         none\n"
        "indexes       https://pypi.org/simple (pip's default)\n"
        f"declarations  pyproject.toml {snap.declarations[0].sha256[:12]}\n"
        f"fingerprint   {snap.fingerprint}\n"
    )


def test_cli_snapshot_json_and_files(world: World, cli: Any, tmp_path: Path) -> None:
    python = str(env_python(world.pip_env))
    result = CliRunner().invoke(cli, ["snapshot", "--python", python, "--json", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    snap = Snapshot.from_dict(data)
    assert snap.fingerprint == snapshot(python=python).fingerprint
    assert {p.name: p.read_text() for p in (tmp_path / "out").iterdir()} == render(snap)
    result = CliRunner().invoke(cli, ["snapshot", "--python", python, "-o", str(tmp_path / "out")])
    assert result.output.endswith(
        f"\n\nWrote snapshot.json, requirements.txt, conda.yaml, python_env.yaml, pylock.toml to {tmp_path / 'out'}/\n"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(render(snap))  # no temporary files left


def test_cli_snapshot_bad_interpreter_exits_2(cli: Any, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["snapshot", "--python", str(tmp_path / "python")])
    assert (result.exit_code, result.output) == (2, f"envkit: error: {tmp_path / 'python'}: no such interpreter\n")


def test_fast_path_prints_what_the_command_prints(
    cli: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "requirements.txt").write_text("alpha\n")
    assert _probe.cli_json(["--json", f"--project={tmp_path}"], "0.1.0") == 0
    fast = json.loads(capsys.readouterr().out)
    monkeypatch.chdir(tmp_path)
    assert _probe.cli_json(["--json"], "0.1.0") == 0
    assert json.loads(capsys.readouterr().out)["declarations"] == fast["declarations"]
    slow = json.loads(CliRunner().invoke(cli, ["snapshot", "--json", "--project", str(tmp_path)]).output)
    fast["captured_at"] = slow["captured_at"]
    fast["envkit_version"] = slow["envkit_version"]
    assert fast == slow
    for args in (
        ["--project", "."],
        ["--json", "-o", "x"],
        ["--help"],
        ["--json", "--python", PY],
        ["--json", "--project"],
    ):
        assert _probe.cli_json(args, "0.1.0") is None
    assert _probe.cli_json(["--json", "--project", str(tmp_path / "missing")], "0.1.0") is None
    assert capsys.readouterr().out == ""


def test_cli_end_to_end_in_a_subprocess(world: World, tmp_path: Path) -> None:
    script = "import sys; from envkit import cli\ncli.main(sys.argv[1:])\n"
    python = str(env_python(world.uv_env))
    out = run(PY, "-c", script, "snapshot", "--python", python, "--json", "--project", tmp_path)
    assert Snapshot.from_dict(json.loads(out)).fingerprint == snapshot(python=python).fingerprint


# -- pip configuration, read as pip merges it ---------------------------------------------------

PIP_CASES = [
    (
        "install section beats global",
        {"user": "[global]\nindex-url = https://a.example/simple\n[install]\nindex-url = https://b.example/simple\n"},
        {},
        {"index_url": "https://b.example/simple", "files": ["user"]},
    ),
    (
        "later file wins per key, site after user",
        {
            "user": "[global]\nindex-url = https://user.example/simple\nfind-links = /w1\n",
            "site": "[global]\nindex-url = https://site.example/simple\n",
        },
        {},
        {"index_url": "https://site.example/simple", "find_links": ["/w1"], "files": ["user", "site"]},
    ),
    (
        "PIP_CONFIG_FILE replaces the user file",
        {"user": "[global]\nindex-url = https://user.example/simple\n", "env": "[global]\nno-index = yes\n"},
        {"PIP_CONFIG_FILE": "env"},
        {"no_index": True, "files": ["env"]},
    ),
    (
        "variables beat files; many values split on whitespace",
        {"user": "[global]\nextra-index-url =\n    https://x.example/simple\n    https://y.example/simple\n"},
        {"PIP_EXTRA_INDEX_URL": "https://z.example/simple  https://w.example/simple", "PIP_TRUSTED_HOST": "z.example"},
        {
            "extra_index_urls": ["https://z.example/simple", "https://w.example/simple"],
            "trusted_hosts": ["z.example"],
            "files": ["user"],
        },
    ),
    (
        "os.devnull loads no file, variables still count",
        {"user": "[global]\nindex-url = https://user.example/simple\n"},
        {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": "https://var.example/simple"},
        {"index_url": "https://var.example/simple", "files": []},
    ),
    (
        "underscores and dashes in keys are one",
        {"user": "[global]\nextra_index_url = https://u.example/simple\n--find-links = /w\n"},
        {},
        {"extra_index_urls": ["https://u.example/simple"], "find_links": ["/w"], "files": ["user"]},
    ),
]


@pytest.mark.parametrize(("case", "files", "environ", "expected"), PIP_CASES, ids=[c[0] for c in PIP_CASES])
def test_pip_configuration_is_merged_as_pip_does(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    files: dict[str, str],
    environ: dict[str, str],
    expected: dict[str, Any],
) -> None:
    where = {
        "user": tmp_path / "home" / ".config" / "pip" / "pip.conf",
        "site": tmp_path / "prefix" / "pip.conf",
        "env": tmp_path / "env.conf",
    }
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))  # where pip looks for the site file
    for kind, text in files.items():
        where[kind].parent.mkdir(parents=True, exist_ok=True)
        where[kind].write_text(text)
    env = {"XDG_CONFIG_DIRS": str(tmp_path / "xdg"), **{k: str(where.get(v, v)) for k, v in environ.items()}}
    got = _probe._pip(env)
    defaults: dict[str, Any] = {
        "index_url": None,
        "extra_index_urls": [],
        "find_links": [],
        "no_index": False,
        "trusted_hosts": [],
    }
    want = {**defaults, **{k: v for k, v in expected.items() if k != "files"}}
    assert {k: got[k] for k in defaults} == want
    assert [f for f in got["config_files"] if f != "/etc/pip.conf"] == [str(where[k]) for k in expected["files"]]


def test_probe_script_arguments(tmp_path: Path) -> None:
    bad = subprocess.run([PY, "-I", _probe.__file__, "--bogus"], capture_output=True, text=True, check=False)
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "_probe.py: unknown argument '--bogus'\n")
    missing = subprocess.run(
        [PY, "-I", _probe.__file__, "--project", str(tmp_path / "nope")], capture_output=True, text=True, check=False
    )
    assert (missing.returncode, missing.stderr) == (1, f"cannot read {tmp_path / 'nope'}: No such file or directory\n")
    with pytest.raises(EnvkitError) as info:
        snapshot(python=PY, project=tmp_path / "nope")
    assert str(info.value) == (
        f"{PY}: the environment probe failed (exit status 1): cannot read {tmp_path / 'nope'}: No such file or directory"
    )
    with pytest.raises(EnvkitError) as info:
        snapshot(project=tmp_path / "nope")
    assert str(info.value) == f"{tmp_path / 'nope'}: cannot read: No such file or directory"
