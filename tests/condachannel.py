"""A tiny local conda channel for hermetic tests of the conda manager.

:func:`build_channel` writes conda packages (``.conda``, made with conda-package-handling)
into ``<root>/noarch`` and ``<root>/<subdir>`` and indexes the folder with py-rattler's
indexer, so that the real rattler solver and installer (or a conda on PATH) work from it
through a ``file://`` URL. It holds:

- a ``noarch: python`` package for every distribution of :data:`tests.pkgindex.GRAPH`, with
  the same name and version. ``depends`` is the distribution's Requires-Dist translated to
  conda specs (markers evaluated for the running interpreter, extras left out as conda has
  none) plus ``python`` (with its Requires-Python bound when it has one). The payload is
  ``site-packages/<module>/__init__.py`` and a ``<name>-<version>.dist-info`` with METADATA,
  INSTALLER (``conda``) and RECORD, so that ``importlib.metadata`` and pip see an installed
  distribution, as they do for conda-forge's packages;
- ``pip``: the pip wheel that virtualenv embeds, repackaged as ``noarch: python`` with its
  console scripts as conda entry points (as conda-forge's pip is);
- ``python``: **a stand-in for conda-forge's python**, which cannot be downloaded here. It
  ships no CPython: its payload is ``pyvenv.cfg`` (``home`` = the running interpreter's
  base ``bin`` folder), ``bin/python``, ``bin/python3`` and ``bin/python3.X`` as symlinks to
  that base interpreter and ``lib/python3.X/site-packages/README.txt``. The prefix it makes
  is therefore a venv-like prefix: its interpreter uses the prefix's own site-packages, and
  pip installs into it. Its version is the running interpreter's, which is what the
  installer needs to link ``noarch: python`` packages into ``lib/python3.X/site-packages``.

Everything else is real: the packages are real conda archives, the index is rattler's,
and the solver and installer under test are rattler's (or conda's) own.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from .pkgindex import GRAPH, Dist, _metadata, _record_line

#: A fixed build time (2024-01-01) so that the channel's bytes do not depend on the clock.
TIMESTAMP_MS = 1704067200000
PY_VERSION = "{}.{}.{}".format(*sys.version_info[:3])
PY_MINOR = "{}.{}".format(*sys.version_info[:2])


@dataclass(frozen=True)
class Package:
    """One conda package to build: index.json fields and payload (path -> bytes or symlink)."""

    name: str
    version: str
    build: str
    subdir: str
    depends: tuple[str, ...]
    files: dict[str, bytes]
    symlinks: dict[str, str]
    noarch: str | None = None
    entry_points: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}-{self.build}.conda"


def current_subdir() -> str:
    """The conda subdir of this machine (``linux-64``, ``osx-arm64``, ...)."""
    from rattler import Subdir

    return str(Subdir.current())


def conda_specs(requires: Iterable[str], requires_python: str | None = None) -> tuple[str, ...]:
    """Requires-Dist lines as conda ``depends`` specs, ``python`` first.

    A marker is evaluated for the running interpreter (a ``noarch`` package carries none);
    extras are dropped (conda has no extras); ``name`` and the specifier are joined by a
    space, conda's ``name version`` form.
    """
    env = {k: str(v) for k, v in default_environment().items()}
    out = [f"python {requires_python}" if requires_python else "python"]
    for line in requires:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
            continue
        name = canonicalize_name(req.name)
        out.append(f"{name} {req.specifier}" if req.specifier else name)
    return tuple(out)


def graph_package(dist: Dist) -> Package:
    """The ``noarch: python`` conda package of a distribution of the local PyPI index."""
    module = canonicalize_name(dist.name).replace("-", "_")
    info = f"{dist.name.replace('-', '_')}-{dist.version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{dist.version}"\n'.encode(),
        f"{info}/METADATA": _metadata(dist).encode(),
        f"{info}/INSTALLER": b"conda\n",
    }
    record = [_record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    return Package(
        canonicalize_name(dist.name),
        dist.version,
        "pyh_0",
        "noarch",
        conda_specs(dist.requires, dist.requires_python),
        {f"site-packages/{path}": data for path, data in files.items()},
        {},
        noarch="python",
    )


def _requires_python(metadata: str) -> str | None:
    return next(
        (ln.split(":", 1)[1].strip() for ln in metadata.splitlines() if ln.startswith("Requires-Python:")), None
    )


def embedded_pip_wheel() -> Path:
    """The newest pip wheel virtualenv embeds that the running interpreter can use."""
    import virtualenv

    embed = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    usable: list[tuple[Version, Path]] = []
    for wheel in embed.glob("pip-*-py3-none-any.whl"):
        with zipfile.ZipFile(wheel) as zf:
            meta = zf.read(f"pip-{wheel.name.split('-')[1]}.dist-info/METADATA").decode()
        if PY_VERSION in SpecifierSet(_requires_python(meta) or ""):
            usable.append((Version(wheel.name.split("-")[1]), wheel))
    if not usable:
        raise RuntimeError(f"virtualenv embeds no pip wheel for Python {PY_VERSION} in {embed}")
    return max(usable)[1]


def pip_package(wheel: Path) -> Package:
    """The pip wheel as a ``noarch: python`` conda package (INSTALLER ``conda``)."""
    version = wheel.name.split("-")[1]
    info = f"pip-{version}.dist-info"
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as zf:
        for item in zf.infolist():
            if not item.is_dir():
                files[item.filename] = zf.read(item)
    requires_python = _requires_python(files[f"{info}/METADATA"].decode())
    files[f"{info}/INSTALLER"] = b"conda\n"
    files[f"{info}/RECORD"] = files[f"{info}/RECORD"].rstrip(b"\n") + f"\n{info}/INSTALLER,,\n".encode()
    entry_points: list[str] = []
    section = ""
    for line in files.get(f"{info}/entry_points.txt", b"").decode().splitlines():
        if line.startswith("["):
            section = line.strip()
        elif section == "[console_scripts]" and "=" in line:
            name, target = (part.strip() for part in line.split("=", 1))
            entry_points.append(f"{name} = {target}")
    return Package(
        "pip",
        version,
        "pyh_0",
        "noarch",
        conda_specs((), requires_python),
        {f"site-packages/{path}": data for path, data in files.items()},
        {},
        noarch="python",
        entry_points=tuple(entry_points),
    )


def base_interpreter() -> Path:
    """The real interpreter behind the running one (outside any virtual environment)."""
    candidates = [
        Path(getattr(sys, "_base_executable", "") or sys.executable),
        Path(sys.base_prefix) / "bin" / f"python{PY_MINOR}",
        Path(sys.base_prefix) / "bin" / "python3",
    ]
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if real.is_file() and os.access(real, os.X_OK):
            return real
    raise RuntimeError(f"cannot find the base interpreter of {sys.executable}")


def python_package(subdir: str | None = None) -> Package:
    """The stand-in ``python`` package: a venv-like prefix around the base interpreter."""
    interpreter = base_interpreter()
    cfg = f"home = {interpreter.parent}\ninclude-system-site-packages = false\nversion = {PY_VERSION}\n"
    readme = b"This directory exists so that 3rd party packages can be installed here.\n"
    return Package(
        "python",
        PY_VERSION,
        "0_envkit_test",
        subdir or current_subdir(),
        (),
        {"pyvenv.cfg": cfg.encode(), f"lib/python{PY_MINOR}/site-packages/README.txt": readme},
        {f"bin/{name}": str(interpreter) for name in ("python", "python3", f"python{PY_MINOR}")},
    )


def _info_files(package: Package) -> dict[str, bytes]:
    index = {
        "name": package.name,
        "version": package.version,
        "build": package.build,
        "build_number": 0,
        "depends": list(package.depends),
        "license": "MIT",
        "subdir": package.subdir,
        "timestamp": TIMESTAMP_MS,
    }
    if package.noarch:
        index["noarch"] = package.noarch
    else:
        platform, _, arch = package.subdir.partition("-")
        index["platform"] = platform
        index["arch"] = {"64": "x86_64"}.get(arch, arch)
    paths = [
        {"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(), "size_in_bytes": len(d)}
        for p, d in sorted(package.files.items())
    ]
    paths += [{"_path": p, "path_type": "softlink"} for p in sorted(package.symlinks)]
    paths.sort(key=lambda entry: str(entry["_path"]))
    info = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode(),
        "info/files": "".join(f"{entry['_path']}\n" for entry in paths).encode(),
    }
    if package.noarch == "python":
        link = {"noarch": {"type": "python", "entry_points": list(package.entry_points)}, "package_metadata_version": 1}
        info["info/link.json"] = json.dumps(link, indent=2).encode()
    return info


def build_package(package: Package, channel: Path) -> Path:
    """Write ``package`` into ``channel/<subdir>/`` with conda-package-handling."""
    from conda_package_handling import api

    out_dir = channel / package.subdir
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="envkit-condapkg-") as tmp:
        staging = Path(tmp)
        for path, data in {**package.files, **_info_files(package)}.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for path, link in package.symlinks.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(link)
        members = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file() or p.is_symlink())
        # .conda (zstd), at a low level: a tenth of the time bz2 or zstd's default take for pip
        api.create(str(staging), members, str(out_dir / package.filename), compression_level=3)
    return out_dir / package.filename


#: Indexes the channel given as argv[1]. It runs in a child interpreter and leaves with
#: ``os._exit``: py-rattler 0.28's runtime threads can crash an interpreter that used them
#: while it finalizes (see envkit/managers/conda.py), and that must not be pytest's.
_INDEX = """
import asyncio, os, sys
from rattler.index import index_fs
asyncio.run(index_fs(sys.argv[1], write_zst=False, write_shards=False))
sys.stdout.flush()
os._exit(0)
"""


def index_channel(root: Path) -> None:
    """Write ``repodata.json`` for every subdir of ``root`` with rattler's indexer."""
    proc = subprocess.run([sys.executable, "-c", _INDEX, str(root)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"indexing {root} failed (exit {proc.returncode}):\n{proc.stderr}")


def build_channel(root: Path, graph: tuple[Dist, ...] = GRAPH) -> Path:
    """Build and index the channel in ``root``; returns ``root`` (use ``root.as_uri()``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "noarch").mkdir(exist_ok=True)
    packages = [graph_package(dist) for dist in graph]
    packages += [pip_package(embedded_pip_wheel()), python_package()]
    for package in packages:
        build_package(package, root)
    index_channel(root)
    return root


def repodata(root: Path, subdir: str = "noarch") -> dict[str, Any]:
    """The records of one subdir's indexed ``repodata.json``: file name -> record."""
    data = json.loads((root / subdir / "repodata.json").read_text(encoding="utf-8"))
    records: dict[str, Any] = {**data.get("packages", {}), **data.get("packages.conda", {})}
    return records
