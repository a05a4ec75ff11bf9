"""Real environments: bootstrap one, lock to pylock.toml, verify several are equivalent.

envkit never resolves by itself: the managers in :mod:`envkit.managers` run the real
tools. This module prepares each tool's project folder (converting the source with the
formats), runs them (concurrently where it helps), and hands the results to
:mod:`envkit.verify` for comparison.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from .convert import Conversion, convert, write_file
from .errors import EnvkitError
from .managers import Created, Manager, Progress, Resolution
from .managers import get as get_manager
from .managers.base import ManagerError
from .model import Environment, redact_url
from .verify import InstallReport, ResolveReport, StaticReport, compare_installs, compare_resolutions, compare_static

__all__ = ["BootstrapResult", "LockResult", "VerifyResult", "bootstrap", "lock", "verify"]

Depth = Literal["static", "resolve", "install"]
T = TypeVar("T")

#: The managers ``verify`` uses when none are named (those that can run here).
DEFAULT_MANAGERS = ("venv", "pipenv", "poetry", "conda")


def _silent(message: str) -> None:
    del message


def _load(src: str | os.PathLike[str]) -> Environment:
    from . import load

    return load(src)


# ---------------------------------------------------------------------------------------
# Misspelled names


def _index_names(env: Environment) -> list[str]:
    """Project names the source's own index lists, when it is small enough to ask."""
    index = env.index_source()
    if index is None or "pypi.org" in index.url or not index.url.startswith(("http://", "https://", "file:")):
        return []
    import re
    import urllib.request

    try:
        with urllib.request.urlopen(index.full_url(), timeout=5) as response:
            page = response.read(2_000_000).decode("utf-8", "replace")
    except (OSError, ValueError):
        return []
    return re.findall(r">([A-Za-z0-9][A-Za-z0-9._-]*)</a>", page)


def explain_failure(exc: ManagerError, env: Environment) -> EnvkitError:
    """``exc`` with a plain sentence and suggestions for names the resolver could not find."""
    from .managers._names import not_found_names, suggest

    missing = not_found_names(str(exc))
    if not missing:
        return exc
    known = _index_names(env)
    lines = []
    for name in missing:
        close = suggest(name, known)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        lines.append(f"no project named {name!r} was found on the package index.{hint}")
    return EnvkitError("\n".join(lines) + f"\n\n(the resolver said:)\n{exc}")


# ---------------------------------------------------------------------------------------
# Project folders


def make_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) if missing; an :class:`EnvkitError` when it cannot be one."""
    if folder.exists() and not folder.is_dir():
        raise EnvkitError(f"{folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvkitError(f"{folder}: cannot make the folder: {exc.strerror or exc}") from None


def prepare(
    manager: type[Manager],
    source: Environment,
    folder: Path,
    existing: Path | None = None,
    source_dir: Path | None = None,
) -> Conversion | None:
    """Put ``manager``'s file into ``folder``: ``existing`` as it is, or ``source`` converted
    (its relative paths, relative to ``source_dir``, moved to ``folder``).

    ``existing`` is copied byte for byte unless it cannot work from another folder: when
    it includes other files (``-r``/``-c``, conda's ``pip: [-r ...]``) or names relative
    paths. Then it is read and written again, merged into its own text, with its includes
    flattened and its paths moved (:mod:`envkit.relocate`).
    """
    make_folder(folder)
    target = folder / manager.filename
    if existing is not None:
        if existing.resolve() == target.resolve():
            return None
        from . import load
        from .relocate import relocate

        env = load(existing, manager.format)
        included = any(d.origin is not None and Path(d.origin.path) != existing for d in env.requirements)
        _, moves = relocate(env, str(existing.parent), str(folder))  # the manager runs in ``folder``
        if not included and not moves:
            shutil.copyfile(existing, target)
            return None
        text = existing.read_text(encoding="utf-8")
        conversion = _convert_for(manager, env, {}, existing.parent, folder, text)
    else:
        options = {"package_mode": False} if manager.name == "poetry" else {}
        conversion = _convert_for(manager, source, options, source_dir, folder)
    target.write_text(conversion.rendered.text, encoding="utf-8")
    for name, text in conversion.rendered.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return conversion


def _convert_for(
    manager: type[Manager],
    source: Environment,
    options: dict[str, Any],
    source_dir: Path | None = None,
    target_dir: Path | None = None,
    existing: str | None = None,
) -> Conversion:
    target = {"requirements": "venv", "pipfile": "pipenv"}.get(manager.format, manager.format)
    # the manager runs its tools in the project folder: every relative path is read from there
    where: dict[str, Any] = {"source_dir": source_dir, "target_dir": target_dir}
    try:
        return convert(source, target, existing=existing, options=options, **where)
    except EnvkitError as exc:
        if "takes no option" in str(exc) and options:
            return convert(source, target, existing=existing, **where)
        raise


def _parallel(jobs: Sequence[Callable[[], T]], workers: int | None = None) -> list[T | BaseException]:
    limit = workers or max(2, min(len(jobs), os.cpu_count() or 2))
    results: list[T | BaseException] = []
    with ThreadPoolExecutor(max_workers=limit) as pool:
        futures = [pool.submit(job) for job in jobs]
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as exc:  # collected and reported per manager
                results.append(exc)
    return results


# ---------------------------------------------------------------------------------------
# bootstrap


@dataclass(frozen=True)
class BootstrapResult:
    manager: str
    project: Path
    file: Path
    file_action: str
    created: Created
    conversion: Conversion | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "manager": self.manager,
            "project": str(self.project),
            "file": str(self.file),
            "file_action": self.file_action,
            "environment": str(self.created.path),
            "python": str(self.created.python),
            "activate": self.created.activate,
        }


def bootstrap(
    src: str | os.PathLike[str],
    manager: str,
    *,
    path: str | os.PathLike[str] | None = None,
    python: str | None = None,
    installer: str | None = None,
    force: bool = False,
    progress: Progress = _silent,
) -> BootstrapResult:
    """Create ``manager``'s environment for the project declared by ``src``.

    The manager's file is written into the project folder (``path``, default ``src``'s
    folder) from ``src`` unless it is there already (or ``src`` is that file).
    """
    cls = get_manager(manager)
    reason = cls.unavailable()
    if reason:
        raise EnvkitError(f"{manager} is not available here: {reason}")
    src_path = Path(src)
    source = _load(src_path)
    given = Path(path) if path is not None else src_path.parent
    # absolute: the managers run their tools inside the project with paths into it
    project = given.absolute()
    make_folder(project)
    target = project / cls.filename
    shown = given / cls.filename  # as the user named it, for messages
    conversion = None
    if target.exists() and (target.resolve() == src_path.resolve() or not force):
        action = "used as it is"
        if target.resolve() != src_path.resolve():
            from . import load

            existing_env = load(target, cls.format)
            if existing_env != source:
                progress(f"{shown} exists and differs from {src_path}; using it as it is (--force regenerates it)")
    else:
        options = {"package_mode": False} if manager == "poetry" else {}
        conversion = _convert_for(cls, source, options, src_path.parent, project)
        write = write_file(target, conversion.rendered.text, force=True)
        for name, text in conversion.rendered.files.items():
            write_file(project / name, text, force=True)
        action = write.action
        progress(f"{shown}: {action} from {src_path}")
    kwargs: dict[str, Any] = {"progress": progress}
    if manager == "venv":
        kwargs["installer"] = installer
    instance = cls(**kwargs)
    try:
        created = instance.create(project, python=python)
    except ManagerError as exc:
        raise explain_failure(exc, source) from None
    return BootstrapResult(manager, project, target, action, created, conversion)


# ---------------------------------------------------------------------------------------
# lock


@dataclass(frozen=True)
class LockResult:
    tool: str
    text: str
    packages: int
    redacted: int

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "packages": self.packages, "redacted_urls": self.redacted}


def _strip_credentials(text: str) -> tuple[str, int]:
    """Remove literal credentials from every URL in a pylock text; keep ${VAR} references."""
    import re

    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        url = match.group(0)
        shown = redact_url(url)
        if shown == url:
            return url
        count += 1
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url)
        host = parts.netloc.rsplit("@", 1)[-1]
        clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        return redact_url(clean)

    return re.sub(r"[a-z][a-z0-9+.-]*://[^\s\"']+", fix, text), count


def _exact_python(spec: Any) -> str | None:
    """``3.9`` for ``==3.9`` or ``==3.9.*``: the one Python a constraint names, if it names one."""
    items = list(spec)
    if len(items) == 1 and items[0].operator == "==":
        return str(items[0].version).removesuffix(".*")
    return None


def _pylock_from_pip_report(report: str, python: str | None) -> str:
    """A PEP 751 lock from ``pip install --dry-run --report`` JSON (what pip resolved)."""
    import json
    import posixpath
    from urllib.parse import unquote, urlsplit

    import tomlkit

    data = json.loads(report)
    doc = tomlkit.document()
    doc["lock-version"] = "1.0"
    doc["created-by"] = "pip"
    if python:
        doc["requires-python"] = f">={python}"
    packages = tomlkit.aot()
    for item in sorted(data.get("install", []), key=lambda i: str(i.get("metadata", {}).get("name", "")).lower()):
        meta = item.get("metadata", {})
        info = item.get("download_info", {})
        url = str(info.get("url", ""))
        package = tomlkit.table()
        package["name"] = meta.get("name")
        package["version"] = meta.get("version")
        if "vcs_info" in info:
            vcs = info["vcs_info"]
            package["vcs"] = {"type": vcs.get("vcs", "git"), "url": url, "commit-id": vcs.get("commit_id", "")}
        elif "dir_info" in info:
            package["directory"] = {
                "path": unquote(urlsplit(url).path),
                "editable": bool(info["dir_info"].get("editable")),
            }
        else:
            hashes = dict(info.get("archive_info", {}).get("hashes", {}))
            filename = unquote(posixpath.basename(urlsplit(url).path))
            entry = {"name": filename, "url": url, "hashes": hashes}
            if filename.endswith(".whl"):
                package["wheels"] = [entry]
            else:
                package["sdist"] = entry
        packages.append(package)
    doc["packages"] = packages
    return tomlkit.dumps(doc)


def lock(
    src: str | os.PathLike[str],
    *,
    python: str | None = None,
    platform: str | None = None,
    installer: str | None = None,
    output: str | os.PathLike[str] | None = None,
    progress: Progress = _silent,
) -> LockResult:
    """Resolve ``src`` with uv (else pip) into a PEP 751 ``pylock.toml`` text, its local
    paths relative to the folder of ``output`` (where it will be written; default: the
    current folder), as PEP 751 reads them."""
    from .managers.base import run_tool, tool_path
    from .managers.venv import resolve_command

    src_path = Path(src)
    source = _load(src_path)
    use_uv = installer != "pip" and tool_path("uv") is not None
    if installer == "uv" and not use_uv:
        raise EnvkitError("uv is not available: `pip install uv`, or use --installer pip")
    temp: Path | None = None
    if python is None and source.python is not None:
        python = _exact_python(source.python)
    python_line = any("names the Python interpreter" in note.message for note in source.notes)
    if source.format == "requirements" and not python_line:
        req_file = src_path
    else:
        conversion = convert(source, "venv")
        fd, name = tempfile.mkstemp(prefix=".envkit-lock-", suffix=".txt", dir=src_path.parent)
        os.close(fd)
        temp = Path(name)
        temp.write_text(conversion.rendered.text, encoding="utf-8")
        req_file = temp
    try:
        tool = "uv" if use_uv else "pip"
        cmd = resolve_command(tool, req_file.absolute(), python, platform)  # run in the source's folder
        try:
            proc = run_tool(cmd, cwd=src_path.parent, progress=progress, what=f"resolving {src_path.name} with {tool}")
        except ManagerError as exc:
            raise explain_failure(exc, source) from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    lock_text = proc.stdout if tool == "uv" else _pylock_from_pip_report(proc.stdout, python)
    text, redacted = _strip_credentials(lock_text)
    if redacted:
        progress(f"removed credentials from {redacted} URL(s); give them to the installer through keyring or netrc")
    from .relocate import relocate_pylock

    # the resolver ran in the source's folder: its relative paths are relative to that
    text, moved = relocate_pylock(text, str(src_path.parent), str(Path(output).parent if output else Path(".")))
    if moved:
        progress(f"{moved} local path(s) written relative to the lock file's folder")
    from .managers.venv import parse_pylock_pins

    return LockResult(tool, text, len(parse_pylock_pins(text)), redacted)


# ---------------------------------------------------------------------------------------
# verify


@dataclass(frozen=True)
class VerifyResult:
    depth: Depth
    static: tuple[StaticReport, ...] = ()
    resolve: ResolveReport | None = None
    install: InstallReport | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def equivalent(self) -> bool:
        if self.failed:
            return False
        if any(r.verdict == "different" for r in self.static):
            return False
        if self.resolve is not None and not self.resolve.equivalent:
            return False
        return not (self.install is not None and not self.install.equivalent)

    def to_dict(self) -> dict[str, Any]:
        return {
            "depth": self.depth,
            "equivalent": self.equivalent,
            "static": [r.to_dict() for r in self.static],
            "resolve": self.resolve.to_dict() if self.resolve else None,
            "install": self.install.to_dict() if self.install else None,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def _against_by_format(against: Sequence[str | os.PathLike[str]]) -> dict[str, Path]:
    from . import detect_format
    from ._io import read_bytes

    found: dict[str, Path] = {}
    for item in against:
        p = Path(item)
        fmt = detect_format(str(p), read_bytes(p)[:4096].decode("utf-8", "replace"))
        found[fmt] = p
    return found


def verify(
    src: str | os.PathLike[str],
    *,
    against: Sequence[str | os.PathLike[str]] = (),
    depth: Depth = "static",
    managers: Sequence[str] | None = None,
    python: str | None = None,
    platform: str | None = None,
    workdir: str | os.PathLike[str] | None = None,
    progress: Progress = _silent,
) -> VerifyResult:
    """Are ``src`` and the files of ``against`` (or each manager's file generated from
    ``src``) equivalent, at ``depth``?"""
    from . import load

    source = _load(src)
    files = _against_by_format(against)
    static = []
    for fmt, path in files.items():
        other = load(path, fmt)
        from .relocate import relocate

        here, _ = relocate(source, str(Path(src).parent), str(path.parent))  # its paths, as that file names them
        static.append(compare_static(str(path), here, other, ()))
    if not files:
        from .generate import DEFAULT_TARGETS

        for target in DEFAULT_TARGETS:
            conversion = convert(source, target)
            from . import formats

            written = formats.get(conversion.format).loads(conversion.rendered.text, f"<{target}>")
            static.append(compare_static(target, source, written, conversion.losses))
    if depth == "static":
        return VerifyResult(depth, tuple(static))

    names = list(managers or DEFAULT_MANAGERS)
    skipped: dict[str, str] = {}
    usable: list[type[Manager]] = []
    for name in names:
        cls = get_manager(name)
        reason = cls.unavailable()
        if reason:
            if managers:
                raise EnvkitError(f"{name} is not available here: {reason}")
            skipped[name] = reason
        else:
            usable.append(cls)
    base = Path(workdir).absolute() if workdir is not None else Path(tempfile.mkdtemp(prefix="envkit-verify-"))
    for cls in usable:
        prepare(cls, source, base / cls.name, files.get(cls.format), Path(src).parent)

    def resolve_job(cls: type[Manager]) -> Callable[[], Resolution]:
        def job() -> Resolution:
            progress(f"[{cls.name}] resolving")
            return cls(progress=lambda m: progress(f"[{cls.name}] {m}")).resolve(
                base / cls.name, python=python, platform=platform
            )

        return job

    failed: dict[str, str] = {}
    if depth == "resolve":
        outcomes = _parallel([resolve_job(cls) for cls in usable])
        pins: dict[str, dict[str, str]] = {}
        for cls, outcome in zip(usable, outcomes):
            if isinstance(outcome, ManagerError):
                failed[cls.name] = str(explain_failure(outcome, source))
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                pins[cls.name] = outcome.versions()
        return VerifyResult(depth, tuple(static), resolve=compare_resolutions(pins), skipped=skipped, failed=failed)

    def install_job(cls: type[Manager]) -> Callable[[], tuple[Created, dict[str, str], str, dict[str, str]]]:
        def job() -> tuple[Created, dict[str, str], str, dict[str, str]]:
            instance = cls(progress=lambda m: progress(f"[{cls.name}] {m}"))
            created = instance.create(base / cls.name, python=python)
            return (created, *_installed(created))

        return job

    outcomes2 = _parallel([install_job(cls) for cls in usable])
    installed: dict[str, dict[str, str]] = {}
    consistency: dict[str, str] = {}
    marker_envs: dict[str, dict[str, str]] = {}
    for cls, outcome2 in zip(usable, outcomes2):
        if isinstance(outcome2, ManagerError):
            failed[cls.name] = str(explain_failure(outcome2, source))
        elif isinstance(outcome2, BaseException):
            raise outcome2
        else:
            _, versions, problems, marker_env = outcome2
            installed[cls.name] = versions
            consistency[cls.name] = problems
            marker_envs[cls.name] = marker_env
    report = compare_installs(source, installed, marker_envs, consistency)
    return VerifyResult(depth, tuple(static), install=report, skipped=skipped, failed=failed)


_PROBE = """
import json, sys, platform, os
from importlib import metadata
seen = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        seen.setdefault(name.lower().replace("_", "-").replace(".", "-"), dist.version)
env = {
    "python_version": "%d.%d" % sys.version_info[:2],
    "python_full_version": platform.python_version(),
    "sys_platform": sys.platform,
    "platform_system": platform.system(),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "implementation_name": sys.implementation.name,
    "platform_python_implementation": platform.python_implementation(),
}
print(json.dumps({"installed": seen, "env": env}))
"""


def _installed(created: Created) -> tuple[dict[str, str], str, dict[str, str]]:
    """(name -> version, `pip check` complaints or "", marker environment) of an env."""
    import json
    import re
    import subprocess

    from packaging.utils import canonicalize_name

    proc = subprocess.run([str(created.python), "-I", "-c", _PROBE], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ManagerError(f"cannot inspect {created.path}: {proc.stderr.strip()[-500:]}")
    data = json.loads(proc.stdout)
    versions = {str(canonicalize_name(k)): v for k, v in data["installed"].items()}
    check = subprocess.run([str(created.python), "-m", "pip", "check"], capture_output=True, text=True, check=False)
    complaint = ""
    if check.returncode != 0 and "No module named pip" not in check.stderr:
        complaint = re.sub(r"\s+", " ", check.stdout.strip())
    return versions, complaint, data["env"]
