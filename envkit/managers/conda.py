"""conda: an ``environment.yml`` built into a prefix inside the project (``.conda-env``).

**The file.** The manager reads ``environment.yml`` itself, as ``conda env create`` does
(ruamel.yaml, safe): ``channels`` in order, ``dependencies`` as conda MatchSpecs (with
``channel::name``), and each ``pip:`` list as the lines of a requirements file (options
such as ``--index-url`` included). ``name`` and ``prefix`` are ignored: the environment goes
into ``<project>/.conda-env``.

**Engines.** A ``conda``, ``mamba`` or ``micromamba`` on PATH (in that order) when there is
one; otherwise py-rattler, the solver and installer behind pixi. ``ENVKIT_CONDA_ENGINE``
(or the ``engine`` argument) picks one of ``conda``, ``mamba``, ``micromamba``, ``rattler``.

- External engines get the file itself: ``<tool> env create -p PREFIX -f environment.yml``
  (``env update --prune`` over an existing prefix; ``micromamba create -y -p PREFIX -f``),
  so the tool also runs the ``pip:`` part. Resolving runs ``<tool> create --dry-run --json``
  with the file's channels (``--override-channels`` when they include ``nodefaults``) and
  specs.
- py-rattler solves the specs against the file's channels for the target subdir and
  ``noarch``, with the machine's virtual packages (``__glibc``, ``__osx``...; assumed ones
  when resolving for another platform), adding ``pip`` to ``python`` as conda does, and
  installs the records into the prefix (package cache: rattler's own, shared with pixi;
  ``RATTLER_CACHE_DIR`` moves it). The ``pip:`` lines are then written to a temporary file
  beside environment.yml and installed with the prefix's own pip
  (``<prefix>/bin/python -m pip install -r FILE``, run in the project folder, so relative
  paths mean what they mean to conda). rattler runs in a child interpreter: py-rattler
  0.28's runtime threads can crash the interpreter that used it as it exits.

**Channels** become URLs: ``conda-forge`` -> ``https://conda.anaconda.org/conda-forge``,
``defaults`` -> repo.anaconda.com's ``main`` and ``r``, a URL stays, an absolute path (or
``./``, ``../`` relative to environment.yml) becomes a ``file://`` URL, and ``nodefaults``
is dropped. Without channels, rattler uses conda-forge (conda would use its configured
defaults).

**Pins** (:meth:`CondaManager.resolve`) hold Python distributions under their PyPI names,
so that they compare with the other managers' pins. A solved conda package is pinned when

1. it is not ``python`` itself, nor ``pip`` (tooling, which no other manager pins), nor
   conda-only by the name table of :mod:`envkit.formats.conda` (CUDA, MKL, ``lib*``...);
2. it is a Python package: it depends on ``python`` or is ``noarch: python``. When the
   engine reports no dependencies (conda's dry run), rule 1 decides alone, with
   ``python_abi`` and conda-forge's ``tzdata`` (the time zone database) left out too;

and its name goes through the name table (``pytorch`` -> ``torch``). The ``pip:`` part
is resolved with ``uv pip compile`` (else pip's ``--dry-run --report``) for the solved
Python version, with the conda Python packages as ``name==version`` constraints: pip
keeps what conda installed when it satisfies the ``pip:`` lines, and a ``pip:`` line that
would replace a conda package is reported as a conflict rather than hidden.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform as _platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from packaging.utils import canonicalize_name

from ..errors import EnvkitError, ParseError
from ..model import redact_url
from .base import Created, Manager, ManagerError, Pin, Progress, Resolution, run_tool, tool_path

__all__ = [
    "ENGINES",
    "PREFIX_DIR",
    "CondaFile",
    "CondaManager",
    "channel_urls",
    "conda_subdir",
    "explain_engine_failure",
    "parse_dry_run",
    "python_pins",
    "read_environment_yml",
    "redacted",
]

#: The prefix inside the project folder.
PREFIX_DIR = ".conda-env"
#: External engines, in order of preference, and the built-in fallback.
ENGINES = ("conda", "mamba", "micromamba")
RATTLER = "rattler"
ENGINE_VARIABLE = "ENVKIT_CONDA_ENGINE"

ANACONDA = "https://conda.anaconda.org"
DEFAULTS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")

#: conda-forge packages that python pulls in and that are not Python distributions, for
#: engines whose dry run does not report dependencies (conda's LINK actions).
_NOT_PYTHON = frozenset({"python_abi", "tzdata"})
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>,)]+")
_ANACONDA_TOKEN_RE = re.compile(r"/t/[^/\s]+/")
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+){0,2}$")
_NO_CANDIDATES_RE = re.compile(r"No candidates were found for ([^\s]+)(?: ([^\n]*?))?\.?\s*$", re.M)
_NO_CANDIDATES_TREE_RE = re.compile(r"└─ ([^\s,]+) ([^,\n]*), for which no candidates were found")


def redacted(text: str) -> str:
    """``text`` with the credentials of every URL in it hidden, anaconda.org's ``/t/TOKEN/`` too."""
    return _URL_RE.sub(lambda m: _ANACONDA_TOKEN_RE.sub("/t/***/", redact_url(m.group(0))), text)


# ---------------------------------------------------------------------------------------
# environment.yml


@dataclass(frozen=True)
class CondaFile:
    """What the engines need from an environment.yml."""

    path: Path
    channels: tuple[str, ...]  # as written, nodefaults included
    specs: tuple[str, ...]  # MatchSpecs as written
    pip: tuple[str, ...]  # the pip: lines, all lists concatenated
    variables: tuple[tuple[str, str], ...] = ()  # set on activation, in file order

    @property
    def nodefaults(self) -> bool:
        return "nodefaults" in self.channels


def _yaml_error(exc: Exception, text: str, path: str) -> ParseError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    lines = text.splitlines()
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ParseError(f"invalid YAML: {problem}", path=path, line=line, column=column, text=shown)


def _strings(value: Any, what: str, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise EnvkitError(f"{path}: '{what}' must be a list of strings")
    return tuple(str(v).strip() for v in value)


def read_environment_yml(path: Path) -> CondaFile:
    """``path`` read the way ``conda env create -f`` reads it (see the module docstring)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnvkitError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise _yaml_error(exc, text, str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EnvkitError(f"{path}: expected a mapping with 'channels' and 'dependencies'")
    channels = _strings(data.get("channels"), "channels", str(path))
    specs: list[str] = []
    pip: list[str] = []
    deps = data.get("dependencies") or []
    if not isinstance(deps, list):
        raise EnvkitError(f"{path}: 'dependencies' must be a list")
    for item in deps:
        if isinstance(item, (str, int, float)):
            specs.append(str(item).strip())
        elif isinstance(item, dict) and set(item) == {"pip"}:
            pip.extend(_strings(item["pip"], "pip", str(path)))
        else:
            raise EnvkitError(f"{path}: expected a package spec or 'pip:' with a list in 'dependencies', got {item!r}")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise EnvkitError(f"{path}: 'variables' must be a mapping of names to values")
    pairs = tuple((str(k), "" if v is None else str(v)) for k, v in variables.items())
    for name, _ in pairs:
        if not _VARIABLE_RE.match(name):
            raise EnvkitError(f"{path}: variable name {name!r} is not a valid environment variable name")
    return CondaFile(path, channels, tuple(s for s in specs if s), tuple(pip), pairs)


def channel_urls(channel: str, base: Path) -> tuple[str, ...]:
    """The URLs a channel of environment.yml stands for (none for ``nodefaults``)."""
    channel = channel.strip()
    if channel == "nodefaults":
        return ()
    if channel == "defaults":
        return DEFAULTS
    if "://" in channel:
        return (channel.rstrip("/"),)
    if channel.startswith("~"):
        return (Path(channel).expanduser().as_uri(),)
    if channel.startswith(("./", "../")) or channel in (".", ".."):
        return ((base / channel).resolve().as_uri(),)
    if Path(channel).is_absolute():
        return (Path(channel).as_uri(),)
    return (f"{ANACONDA}/{channel.strip('/')}",)


def _spec_with_url(spec: str, base: Path) -> tuple[str, str | None]:
    """``spec`` with a ``channel::`` prefix turned into a URL, and that URL."""
    channel, sep, rest = spec.rpartition("::")
    if not sep:
        return spec, None
    urls = channel_urls(channel, base)
    if not urls:
        raise EnvkitError(f"{spec!r}: '{channel}' is not a channel")
    return f"{urls[0]}::{rest}", urls[0]


# ---------------------------------------------------------------------------------------
# Platforms


def conda_subdir(platform: str | None = None) -> str:
    """The conda subdir for ``platform``: a subdir (``linux-64``), ``linux``/``macos``/
    ``windows`` (this machine's architecture), a target triple, or ``None`` for this machine."""
    subdirs = ("linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64", "win-64", "win-arm64")
    if platform in subdirs:
        return platform
    text = (platform or sys.platform).lower()
    machine = _platform.machine().lower()
    if platform and any(a in text for a in ("aarch64", "arm64")):
        machine = "arm64"
    elif platform and any(a in text for a in ("x86_64", "amd64")):
        machine = "x86_64"
    arm = machine in ("arm64", "aarch64")
    if "darwin" in text or "mac" in text or "osx" in text or "apple" in text:
        return "osx-arm64" if arm else "osx-64"
    if "win" in text:
        return "win-arm64" if arm else "win-64"
    if "linux" in text:
        return "linux-aarch64" if arm else ("linux-ppc64le" if machine == "ppc64le" else "linux-64")
    raise EnvkitError(f"unknown platform {platform!r} (a conda subdir such as linux-64, or linux, macos, windows)")


_UV_PLATFORMS = {
    "linux-64": "x86_64-unknown-linux-gnu",
    "linux-aarch64": "aarch64-unknown-linux-gnu",
    "osx-64": "x86_64-apple-darwin",
    "osx-arm64": "aarch64-apple-darwin",
    "win-64": "x86_64-pc-windows-msvc",
}
_PIP_PLATFORMS = {
    "linux-64": "manylinux2014_x86_64",
    "linux-aarch64": "manylinux2014_aarch64",
    "osx-64": "macosx_11_0_x86_64",
    "osx-arm64": "macosx_11_0_arm64",
    "win-64": "win_amd64",
}

#: Virtual packages assumed for a platform that is not this machine's.
_ASSUMED_VIRTUAL = {
    "linux": (("__unix", "0", "0"), ("__linux", "5.10", "0"), ("__glibc", "2.28", "0")),
    "osx": (("__unix", "0", "0"), ("__osx", "11.0", "0")),
    "win": (("__win", "0", "0"),),
}


def _bin(prefix: Path, name: str) -> Path:
    if sys.platform == "win32":
        return prefix / (f"{name}.exe" if name == "python" else f"Scripts/{name}.exe")
    return prefix / "bin" / name


# ---------------------------------------------------------------------------------------
# py-rattler, in a child interpreter


def _rattler_worker() -> None:
    """Child side: read a request (JSON) on stdin, solve (and install), answer on stdout.

    Ends with ``os._exit`` so that rattler's runtime threads never see the interpreter
    finalize (py-rattler 0.28 can crash there).
    """
    import asyncio

    status = 0
    try:
        request = json.loads(sys.stdin.read())
        try:
            answer = asyncio.run(_rattler_run(request))
        except Exception as exc:  # every rattler failure goes back as a message
            answer = {"error": type(exc).__name__, "message": str(exc).strip()}
        sys.stdout.write(json.dumps(answer))
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


async def _rattler_run(request: dict[str, Any]) -> dict[str, Any]:
    import rattler
    from rattler.exceptions import SolverError

    subdir = request["subdir"]
    platforms = [subdir, "noarch"]
    if request["virtual_packages"] is None:
        virtual: list[Any] = list(rattler.VirtualPackage.detect())
    else:
        virtual = [
            rattler.GenericVirtualPackage(rattler.PackageName(n), rattler.Version(v), rattler.package.BuildString(b))
            for n, v, b in request["virtual_packages"]
        ]
    gateway = rattler.Gateway()
    try:
        records = await rattler.solve(
            sources=request["sources"],
            # conda's lenient reading: ``name=1.0=build`` as ``conda env export`` writes it
            specs=[rattler.MatchSpec(spec) for spec in request["specs"]],
            gateway=gateway,
            platforms=platforms,
            virtual_packages=virtual,
            add_pip_as_python_dependency=True,
        )
    except SolverError as exc:
        return {"error": "SolverError", "message": await _explain_solve(str(exc), gateway, request, platforms)}
    if request.get("prefix"):
        await rattler.install(records, target_prefix=request["prefix"], show_progress=False)
    return {
        "records": [
            {
                "name": r.name.normalized,
                "version": str(r.version),
                "build": str(r.build),
                "subdir": r.subdir,
                "channel": str(r.channel or ""),
                "url": str(r.url),
                "sha256": r.sha256.hex() if r.sha256 else None,
                "noarch": "python" if r.noarch.python else None,
                "depends": list(r.depends),
            }
            for r in records
        ]
    }


async def _explain_solve(message: str, gateway: Any, request: dict[str, Any], platforms: list[str]) -> str:
    """A plain sentence for each package rattler's solver found no candidate of, then its
    own derivation tree when the missing package was needed by another."""
    lines: list[str] = []
    missing = [(m.group(1), m.group(2) or "") for m in _NO_CANDIDATES_RE.finditer(message)]
    missing += [(m.group(1), m.group(2)) for m in _NO_CANDIDATES_TREE_RE.finditer(message)]
    for name, spec in dict.fromkeys((n, s.strip()) for n, s in missing):
        if name.startswith("__"):
            lines.append(f"this machine lacks the virtual package {name} {spec}".rstrip())
            continue
        plain = name.rpartition("::")[2]
        found = await gateway.query(request["sources"], platforms, [plain], recursive=False)
        versions = sorted({str(r.version) for per_channel in found for r in per_channel})
        if not versions:
            lines.append(f"Package '{plain}' not found in the channels ({' and '.join(platforms)})")
        else:
            lines.append(f"no version of '{plain}' matches '{name} {spec}' (the channels have {', '.join(versions)})")
    if not lines:
        return message
    if "└─" in message:
        lines.append(message.strip())
    return "\n".join(lines)


#: The oldest py-rattler whose API the engine uses (it needs Python 3.10 or newer).
RATTLER_MINIMUM = (0, 28)


def rattler_problem() -> str | None:
    """Why the py-rattler engine cannot run here (None: it can)."""
    if importlib.util.find_spec("rattler") is None:
        return "py-rattler is not installed: `pip install py-rattler`"
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("py-rattler")
    except PackageNotFoundError:
        return None  # importable without metadata (a source checkout): trust it
    numbers = tuple(int(part) for part in re.findall(r"\d+", found)[:2])
    if numbers < RATTLER_MINIMUM:
        need = ".".join(map(str, RATTLER_MINIMUM))
        return f"py-rattler {found} is too old: envkit needs {need} or newer (on Python 3.10 or newer)"
    return None


def _require_rattler() -> None:
    problem = rattler_problem()
    if problem:
        raise EnvkitError(problem)


def _run_rattler(request: dict[str, Any], what: str, progress: Progress, timeout: float = 1800) -> list[dict[str, Any]]:
    """Solve (and install when ``request['prefix']`` is set) in a child interpreter."""
    progress(what)
    import envkit

    env = dict(os.environ)
    root = str(Path(envkit.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    code = "from envkit.managers.conda import _rattler_worker; _rattler_worker()"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise ManagerError(f"py-rattler did not finish within {timeout:.0f} s") from None
    try:
        answer = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = redacted((proc.stderr or proc.stdout).strip()[-2000:])
        raise ManagerError(f"py-rattler failed (exit {proc.returncode}):\n{tail}") from None
    if "error" in answer:
        channels = ", ".join(request["sources"]) or "(none)"
        if answer["error"] == "SolverError":
            said = f"conda could not solve the environment (py-rattler; channels: {channels}):\n{answer['message']}"
        elif answer["error"] in ("GatewayError", "FetchRepoDataError"):
            said = f"conda could not read the channels (py-rattler; channels: {channels}):\n{answer['message']}"
        else:
            said = f"py-rattler failed ({answer['error']}): {answer['message']}"
        raise ManagerError(redacted(said))
    records: list[dict[str, Any]] = answer["records"]
    return records


# ---------------------------------------------------------------------------------------
# The manager


@dataclass(frozen=True)
class _Solved:
    """A solve's records (name -> fields) and the Python version it picked, if any."""

    records: Mapping[str, Mapping[str, Any]]

    @property
    def python(self) -> str | None:
        record = self.records.get("python")
        return str(record["version"]) if record else None


def _name_mapper() -> tuple[Callable[[str], str | None], Callable[[str], bool]]:
    """(conda name -> PyPI name or None, is conda-only) from the formats' name table."""
    try:
        from ..formats.conda import load_name_table
    except ImportError:  # the format is optional for the manager
        return (lambda name: None), (lambda name: False)
    table = load_name_table()
    return table.pypi_name, table.is_conda_only


def python_pins(records: Mapping[str, Mapping[str, Any]]) -> dict[str, Pin]:
    """The Python packages of a conda solve as pins under their PyPI names (see the module)."""
    pypi_name, conda_only = _name_mapper()
    pins: dict[str, Pin] = {}
    for name, record in sorted(records.items()):
        if name in ("python", "pip") or conda_only(name):
            continue
        depends = record.get("depends")
        if depends is None:
            if name in _NOT_PYTHON:
                continue
        elif record.get("noarch") != "python" and not any(str(d).split(" ")[0] == "python" for d in depends):
            continue
        pin_name = canonicalize_name(pypi_name(name) or name)
        sha = record.get("sha256")
        url = record.get("url")
        pins[pin_name] = Pin(
            pin_name, str(record["version"]), redacted(str(url)) if url else None, (f"sha256:{sha}",) if sha else ()
        )
    return pins


class CondaManager(Manager):
    """An environment.yml built with conda, mamba, micromamba or py-rattler (see the module).

    ``engine`` picks the conda engine (default: ``ENVKIT_CONDA_ENGINE``, else the first on
    PATH, else py-rattler); ``installer`` what resolves the ``pip:`` part (uv or pip).
    """

    name = "conda"
    format = "conda"
    filename = "environment.yml"

    def __init__(
        self, progress: Progress | None = None, engine: str | None = None, installer: str | None = None
    ) -> None:
        super().__init__(progress)
        if installer not in (None, "uv", "pip"):
            raise EnvkitError(f"unknown installer {installer!r} (choose uv or pip)")
        if installer == "uv" and not tool_path("uv"):
            raise EnvkitError("uv is not available: install it with `pip install uv`, or use --installer pip")
        #: What resolves the pip: part (uv when available); the prefix's pip installs it.
        self.installer = installer or ("uv" if tool_path("uv") else "pip")
        chosen = engine or os.environ.get(ENGINE_VARIABLE) or None
        if chosen is not None and chosen not in (*ENGINES, RATTLER):
            raise EnvkitError(f"unknown conda engine {chosen!r} (choose from {', '.join((*ENGINES, RATTLER))})")
        self.engine = chosen or self.default_engine()

    @staticmethod
    def default_engine() -> str:
        """The first of conda, mamba, micromamba on PATH, else ``rattler``."""
        return next((tool for tool in ENGINES if tool_path(tool)), RATTLER)

    @classmethod
    def unavailable(cls) -> str | None:
        forced = os.environ.get(ENGINE_VARIABLE)
        if forced in ENGINES and not tool_path(forced):
            return f"{ENGINE_VARIABLE}={forced} but {forced} is not on PATH"
        if forced != RATTLER and any(tool_path(tool) for tool in ENGINES):
            return None
        problem = rattler_problem()
        if problem is None:
            return None
        return f"neither conda, mamba nor micromamba is on PATH and {problem} (or install micromamba or Miniforge)"

    # -- the file -----------------------------------------------------------------------

    def _file(self, project: Path) -> CondaFile:
        path = project / self.filename
        if not path.is_file():
            raise EnvkitError(f"{path} does not exist")
        return read_environment_yml(path)

    @staticmethod
    def _python_spec(python: str | None) -> list[str]:
        if python is None:
            return []
        if not _VERSION_RE.match(python):
            raise EnvkitError(f"conda takes a Python version such as 3.11 for --python, not {python!r}")
        return [f"python={python}"]

    def _sources_and_specs(self, spec_file: CondaFile, python: str | None) -> tuple[list[str], list[str]]:
        base = spec_file.path.parent
        sources: list[str] = []
        for channel in spec_file.channels:
            sources.extend(u for u in channel_urls(channel, base) if u not in sources)
        specs: list[str] = []
        for spec in [*spec_file.specs, *self._python_spec(python)]:
            converted, url = _spec_with_url(spec, base)
            specs.append(converted)
            if url and url not in sources:
                sources.append(url)
        if not sources:
            sources.append(f"{ANACONDA}/conda-forge")
        return sources, specs

    @staticmethod
    def _virtual_packages(subdir: str) -> list[list[str]] | None:
        if subdir == conda_subdir():
            return None  # detected on this machine
        family = subdir.split("-")[0]
        packages = [list(p) for p in _ASSUMED_VIRTUAL.get(family, ())]
        arch = subdir.split("-")[1]
        packages.append(["__archspec", "1", {"64": "x86_64", "arm64": "arm64"}.get(arch, arch)])
        return packages

    # -- create -------------------------------------------------------------------------

    def create(self, project: Path, *, python: str | None = None) -> Created:
        spec_file = self._file(project)
        prefix = (project / PREFIX_DIR).resolve()
        if self.engine == RATTLER:
            return self._create_rattler(project, spec_file, prefix, python)
        return self._create_external(project, spec_file, prefix, python)

    def _create_rattler(self, project: Path, spec_file: CondaFile, prefix: Path, python: str | None) -> Created:
        _require_rattler()
        sources, specs = self._sources_and_specs(spec_file, python)
        request = {
            "sources": sources,
            "specs": specs,
            "subdir": conda_subdir(),
            "virtual_packages": None,
            "prefix": str(prefix),
        }
        records = _run_rattler(
            request, f"solving {self.filename} and installing into {prefix} with py-rattler", self.progress
        )
        self.progress(f"installed {len(records)} conda packages")
        interpreter = _bin(prefix, "python")
        if spec_file.pip:
            self._install_pip_part(project, spec_file, interpreter)
        note = (
            f"built with py-rattler: `conda activate {prefix}` (or `micromamba activate {prefix}`) works too once "
            "conda is installed"
        )
        script = self._write_activation(prefix, spec_file.variables)
        return Created(self.name, prefix, interpreter, f"source {shlex.quote(str(script))}", (note,))

    def _install_pip_part(self, project: Path, spec_file: CondaFile, interpreter: Path) -> None:
        if not interpreter.exists():
            raise ManagerError(
                f"{self.filename} has a pip: section but the environment has no Python: add python and pip "
                "to dependencies"
            )
        with _temp_file(project, ".envkit-pip-", ".txt", "\n".join(spec_file.pip) + "\n") as requirements:
            run_tool(
                [str(interpreter), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)],
                cwd=project,
                progress=self.progress,
                what="installing the pip: part with the environment's own pip",
            )

    @staticmethod
    def _write_activation(prefix: Path, variables: tuple[tuple[str, str], ...]) -> Path:
        """What ``conda env create`` leaves for activation, for a prefix built without conda.

        The file's ``variables`` go into ``conda-meta/state`` (where ``conda activate``
        reads them) and, with PATH, CONDA_PREFIX and the ``activate.d`` scripts, into a
        POSIX shell script ``etc/envkit/activate.sh``; its path is returned.
        """
        if variables:
            state = prefix / "conda-meta" / "state"
            current: dict[str, Any] = json.loads(state.read_text(encoding="utf-8")) if state.is_file() else {}
            current["env_vars"] = {**current.get("env_vars", {}), **dict(variables)}
            state.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
        script = prefix / "etc" / "envkit" / "activate.sh"
        script.parent.mkdir(parents=True, exist_ok=True)
        quoted = shlex.quote(str(prefix))
        exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables)
        script.write_text(
            "# Activates the conda environment in this prefix (`conda activate PREFIX` does the same).\n"
            f"CONDA_PREFIX={quoted}\n"
            f"CONDA_DEFAULT_ENV={quoted}\n"
            'PATH="$CONDA_PREFIX/bin:$PATH"\n'
            "export CONDA_PREFIX CONDA_DEFAULT_ENV PATH\n"
            f"{exports}"
            'for _envkit_script in "$CONDA_PREFIX"/etc/conda/activate.d/*.sh; do\n'
            '    [ -r "$_envkit_script" ] && . "$_envkit_script"\n'
            "done\n"
            "unset _envkit_script\n",
            encoding="utf-8",
        )
        return script

    def _create_external(self, project: Path, spec_file: CondaFile, prefix: Path, python: str | None) -> Created:
        tool = tool_path(self.engine)
        if tool is None:
            raise EnvkitError(f"{self.engine} is not on PATH")
        with self._file_for_engine(spec_file, python) as path:
            exists = (prefix / "conda-meta").is_dir()
            if self.engine == "micromamba":
                cmd = [tool, "create", "--yes", "-p", str(prefix), "-f", str(path)]
            elif exists:
                cmd = [tool, "env", "update", "-p", str(prefix), "-f", str(path), "--prune"]
            else:
                cmd = [tool, "env", "create", "-p", str(prefix), "-f", str(path)]
            run_tool(cmd, cwd=project, progress=self.progress, what=f"{self.engine}: creating {prefix}")
        verb = "micromamba activate" if self.engine == "micromamba" else "conda activate"
        return Created(self.name, prefix, _bin(prefix, "python"), f"{verb} {prefix}")

    @contextmanager
    def _file_for_engine(self, spec_file: CondaFile, python: str | None) -> Iterator[Path]:
        """environment.yml itself, or a copy beside it with the requested python added."""
        if python is None:
            yield spec_file.path
            return
        spec = self._python_spec(python)[0]
        text = spec_file.path.read_text(encoding="utf-8")
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        data = yaml.load(text) or {}
        data["dependencies"] = [*(data.get("dependencies") or []), spec]
        import io

        buffer = io.StringIO()
        yaml.default_flow_style = False
        yaml.dump(data, buffer)
        with _temp_file(spec_file.path.parent, ".envkit-environment-", ".yml", buffer.getvalue()) as path:
            yield path

    # -- resolve ------------------------------------------------------------------------

    def resolve(self, project: Path, *, python: str | None = None, platform: str | None = None) -> Resolution:
        start = time.perf_counter()
        spec_file = self._file(project)
        subdir = conda_subdir(platform)
        if self.engine == RATTLER:
            solved = self._solve_rattler(spec_file, python, subdir)
        else:
            solved = self._solve_external(spec_file, python, subdir)
        pins = python_pins(solved.records)
        if spec_file.pip:
            pip_pins = self._resolve_pip_part(project, spec_file, solved, pins, subdir, platform)
            pins = {**pip_pins, **pins}  # what conda installed stays: pip keeps it
        return Resolution(self.name, dict(sorted(pins.items())), python, platform, time.perf_counter() - start)

    def _solve_rattler(self, spec_file: CondaFile, python: str | None, subdir: str) -> _Solved:
        _require_rattler()
        sources, specs = self._sources_and_specs(spec_file, python)
        request = {
            "sources": sources,
            "specs": specs,
            "subdir": subdir,
            "virtual_packages": self._virtual_packages(subdir),
            "prefix": None,
        }
        records = _run_rattler(request, f"solving {self.filename} with py-rattler for {subdir}", self.progress)
        return _Solved({r["name"]: r for r in records})

    def _solve_external(self, spec_file: CondaFile, python: str | None, subdir: str) -> _Solved:
        tool = tool_path(self.engine)
        if tool is None:
            raise EnvkitError(f"{self.engine} is not on PATH")
        specs = [*spec_file.specs, *self._python_spec(python)]
        with tempfile.TemporaryDirectory(prefix="envkit-conda-dry-run-") as tmp:
            cmd = [tool, "create", "--dry-run", "--json", "--yes", "-p", str(Path(tmp) / "env")]
            if spec_file.nodefaults:
                cmd.append("--override-channels")
            for channel in spec_file.channels:
                if channel != "nodefaults":
                    cmd += ["-c", channel]
            cmd += specs
            env = dict(os.environ)
            if subdir != conda_subdir():
                env["CONDA_SUBDIR"] = subdir
            self.progress(f"{self.engine}: dry run")
            try:
                proc = subprocess.run(
                    cmd, cwd=spec_file.path.parent, env=env, capture_output=True, text=True, check=False, timeout=1800
                )
            except subprocess.TimeoutExpired:
                raise ManagerError(f"{self.engine} did not finish its dry run within 1800 s") from None
            if proc.returncode != 0:
                raise ManagerError(explain_engine_failure(self.engine, proc.stdout, proc.stderr))
        return _Solved(parse_dry_run(proc.stdout))

    def _resolve_pip_part(
        self,
        project: Path,
        spec_file: CondaFile,
        solved: _Solved,
        conda_pins: Mapping[str, Pin],
        subdir: str,
        platform: str | None,
    ) -> dict[str, Pin]:
        from .venv import parse_pip_report, parse_pylock_pins

        if solved.python is None:
            raise ManagerError(f"{self.filename} has a pip: section but the solve has no python: add python and pip")
        constraints = "".join(f"{p.name}=={p.version}\n" for p in conda_pins.values() if _is_pep440(p.version))
        requirements = "\n".join(spec_file.pip) + "\n"
        uv = tool_path("uv") if self.installer == "uv" else None
        tool = self.installer
        with ExitStack() as stack:
            req = stack.enter_context(_temp_file(project, ".envkit-pip-", ".txt", requirements))
            cons = stack.enter_context(_temp_file(project, ".envkit-conda-constraints-", ".txt", constraints))
            if uv:
                cmd = [uv, "pip", "compile", str(req), "-c", str(cons), "--format", "pylock.toml", "--quiet"]
                cmd += ["--no-header", "--python-version", solved.python]
                if platform and subdir in _UV_PLATFORMS:
                    cmd += ["--python-platform", _UV_PLATFORMS[subdir]]
            else:
                cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
                cmd += ["--report", "-", "-r", str(req), "-c", str(cons), "--only-binary", ":all:"]
                cmd += ["--python-version", solved.python]
                if platform and subdir in _PIP_PLATFORMS:
                    cmd += ["--platform", _PIP_PLATFORMS[subdir]]
            try:
                proc = run_tool(cmd, cwd=project, progress=self.progress, what=f"resolving the pip: part with {tool}")
            except ManagerError as exc:
                said = str(exc).split("\n", 1)[-1]
                raise ManagerError(
                    f"resolving the pip: part of {self.filename} with {tool} failed; the conda packages were "
                    f"held at the versions conda solved:\n{said}"
                ) from None
        return parse_pylock_pins(proc.stdout) if uv else parse_pip_report(proc.stdout)


def _is_pep440(version: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def parse_dry_run(text: str) -> dict[str, dict[str, Any]]:
    """Records (name -> fields) from ``conda/mamba/micromamba create --dry-run --json``.

    The LINK actions name what would be installed; conda's carry no dependencies, so
    those are taken from a FETCH action of the same package when there is one.
    """
    data = json.loads(text)
    actions = data.get("actions", {})
    fetched = {str(f.get("name")): f for f in actions.get("FETCH", []) or []}
    records: dict[str, dict[str, Any]] = {}
    for link in actions.get("LINK", []) or []:
        name = str(link.get("name"))
        fetch = fetched.get(name, {})
        depends = link.get("depends", fetch.get("depends"))
        noarch = link.get("noarch", fetch.get("noarch"))
        records[name] = {
            "name": name,
            "version": str(link.get("version")),
            "build": link.get("build_string") or link.get("build"),
            "url": link.get("url") or fetch.get("url"),
            "sha256": link.get("sha256") or fetch.get("sha256"),
            "noarch": "python" if noarch == "python" else None,
            "depends": depends,
        }
    return records


_MISSING_PATTERNS = (
    # libmamba (mamba, micromamba, conda's default solver): "└─ sckit-learn does not exist (perhaps a typo ...)"
    re.compile(r"([A-Za-z0-9_.\-]+)[^\n]*? does not exist \(perhaps a typo"),
    re.compile(r"nothing provides requested ([A-Za-z0-9_.\-]+)"),
)


def explain_engine_failure(engine: str, stdout: str, stderr: str) -> str:
    """An external engine's failed ``--json`` dry run in plain words.

    conda's JSON error names the packages it could not find (``packages``); libmamba's
    text says ``NAME does not exist (perhaps a typo ...)``. Each becomes "Package 'NAME'
    not found in the channels"; the engine's own message follows.
    """
    said = ""
    missing: list[str] = []
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        said = str(data.get("error") or data.get("message") or "")
        if isinstance(data.get("packages"), list):
            missing += [str(p) for p in data["packages"]]
    text = "\n".join(part for part in (said, stderr.strip(), "" if data else stdout.strip()) if part)
    for pattern in _MISSING_PATTERNS:
        missing += pattern.findall(text)
    lines = [f"Package '{name}' not found in the channels" for name in dict.fromkeys(missing)]
    tail = "\n".join(text.strip().splitlines()[-25:])
    return redacted("\n".join([f"{engine} could not solve the environment:", *lines, f"({engine} said:)", tail]))


@contextmanager
def _temp_file(folder: Path, prefix: str, suffix: str, text: str) -> Iterator[Path]:
    """A file in ``folder`` holding ``text``, removed afterwards."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        yield path
    finally:
        path.unlink(missing_ok=True)
