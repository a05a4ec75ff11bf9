"""MLflow support (``envkit.mlflow``): the resolved environment of every tracked run.

The only module of envkit that imports mlflow, and only inside its functions, so
``import envkit`` stays fast and mlflow stays an optional extra (``envkit[mlflow]``).
Without mlflow every function here raises :class:`EnvkitError` saying how to get it.

What a run carries (:func:`log_environment`, the plugin, ``envkit run``):

- artifacts ``environment/snapshot.json`` (schema ``envkit.snapshot/1``), and beside it the
  files :func:`envkit.snapshot.render` makes: a pinned ``requirements.txt``, MLflow's own
  ``conda.yaml`` and ``python_env.yaml``, and ``pylock.toml``;
- tags ``envkit.fingerprint``, ``envkit.python``, ``envkit.manager``, ``envkit.packages``
  (:meth:`envkit.snapshot.Snapshot.tags`) and ``envkit.artifacts`` = ``environment`` once
  the files are logged, so that runs can be filtered and grouped by environment::

      mlflow.search_runs(filter_string="tags.`envkit.fingerprint` = '<fingerprint>'")

Secrets: the snapshot redacts every URL before anything leaves the probed interpreter;
:func:`log_snapshot` checks every file and tag once more and refuses to log one that
still holds a credential. Log lines name runs, counts and fingerprints, never URLs.

Reading runs back (``runs:/<run_id>`` references, ``envkit runs diff`` and ``restore``)
treats the artifacts as untrusted input: only the five known file names directly under
``environment/`` are fetched, one by one, after checking the listing (no absolute paths,
no ``..``, no separators, nothing larger than :data:`MAX_ARTIFACT_BYTES`); each
downloaded file must be a regular file inside the temporary folder (not a symlink);
``snapshot.json`` is validated field by field and its fingerprint recomputed
(:meth:`Snapshot.from_dict`); and the files a restore installs from are *regenerated*
from that validated snapshot, never taken from the downloaded text.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..errors import EnvkitError
from ..model import mask_secrets

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    from mlflow import MlflowClient

    from ..snapshot import Snapshot, SnapshotDiff

__all__ = [
    "ARTIFACT_FILES",
    "ARTIFACT_PATH",
    "INSTALL_HINT",
    "MAX_ARTIFACT_BYTES",
    "RestoreReport",
    "RunOutcome",
    "check_download",
    "check_listing",
    "current_snapshot",
    "download_environment",
    "find_run_by_tag",
    "log_environment",
    "log_generated",
    "log_snapshot",
    "parse_run_reference",
    "restore",
    "run_command",
    "snapshot_from_run",
    "tracking_uri",
]

#: The artifact folder of a run that holds its environment.
ARTIFACT_PATH = "environment"
#: The files envkit writes there (and the only ones it ever downloads).
ARTIFACT_FILES = ("snapshot.json", "requirements.txt", "conda.yaml", "python_env.yaml", "pylock.toml")
#: A downloaded artifact larger than this is refused (a snapshot of 5,000 packages is ~2 MiB).
MAX_ARTIFACT_BYTES = 16 * 1024 * 1024
#: How to get mlflow, in every "mlflow is missing" message.
INSTALL_HINT = "install it with `pip install 'envkit[mlflow]'`"
#: The tag set once the ``environment/`` artifacts are logged.
ARTIFACTS_TAG = "envkit.artifacts"
#: The tag ``envkit run`` records the command's exit status in.
EXIT_STATUS_TAG = "envkit.exit_status"

_RUN_ID_RE = re.compile(r"[A-Za-z0-9][\w-]{0,255}")  # MLflow's own rule for run ids
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>\\]+")
_SAFE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

_log = logging.getLogger("envkit.tracking")


# -- mlflow, lazily -------------------------------------------------------------------------


def _mlflow() -> ModuleType:
    """The mlflow module, or an :class:`EnvkitError` saying how to install it."""
    try:
        import mlflow
    except ImportError:
        raise EnvkitError(f"MLflow is not installed: {INSTALL_HINT}") from None
    return mlflow


def tracking_uri() -> str:
    """The tracking URI MLflow uses here (``MLFLOW_TRACKING_URI``, ``set_tracking_uri``, or
    MLflow's default: a sqlite ``mlflow.db`` in the working directory for MLflow 3)."""
    return str(_mlflow().get_tracking_uri())


def _client(uri: Optional[str] = None) -> MlflowClient:
    _mlflow()
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


@contextmanager
def _mlflow_errors(what: str) -> Iterator[None]:
    """Turn what MLflow (or the network under it) raises into an :class:`EnvkitError`."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except EnvkitError:
        raise
    except MlflowException as exc:
        code = getattr(exc, "error_code", "")
        text = mask_secrets(str(getattr(exc, "message", exc))).strip().splitlines()
        first = text[0] if text else type(exc).__name__
        if code == "RESOURCE_DOES_NOT_EXIST":
            raise EnvkitError(f"{what}: not found on {mask_secrets(tracking_uri())}: {first}") from None
        raise EnvkitError(f"{what}: MLflow said: {first}") from None
    except OSError as exc:  # requests' errors are OSErrors too
        raise EnvkitError(f"{what}: {mask_secrets(str(exc)) or type(exc).__name__}") from None


# -- references -----------------------------------------------------------------------------


def parse_run_reference(reference: str) -> tuple[str, str]:
    """``(run_id, artifact folder)`` of ``runs:/<run_id>[/<folder>]`` or a bare run id.

    The folder defaults to ``environment``; a trailing ``snapshot.json`` names its folder.
    Raises :class:`EnvkitError` for anything else (the id is MLflow's ``[A-Za-z0-9][\\w-]*``,
    the folder plain names without ``..``).
    """
    rest = reference[len("runs:/") :] if reference.startswith("runs:/") else reference
    run_id, _, folder = rest.strip("/").partition("/")
    if not _RUN_ID_RE.fullmatch(run_id):
        raise EnvkitError(f"{reference}: not a run id or runs:/<run_id> reference")
    parts = [p for p in folder.split("/") if p]
    if parts and parts[-1] == "snapshot.json":
        parts.pop()
    for part in parts:
        if part in (".", "..") or not _SAFE_NAME_RE.fullmatch(part):
            raise EnvkitError(f"{reference}: {part!r} is not a plain artifact folder name")
    return run_id, "/".join(parts) or ARTIFACT_PATH


# -- logging --------------------------------------------------------------------------------


def _check_no_secrets(files: Mapping[str, str], tags: Mapping[str, str]) -> None:
    """Refuse to log a file or tag in which a URL still holds a credential (each distinct
    URL is checked once: the same index URL recurs for every package of a pylock.toml)."""
    from ..snapshot import redact

    seen: set[str] = set()
    for name, text in [*files.items(), *((f"tag {k}", v) for k, v in tags.items())]:
        for url in _URL_RE.findall(text):
            if url in seen:
                continue
            seen.add(url)
            shown = redact(url)
            if shown != url:
                raise EnvkitError(
                    f"refusing to log {name}: it holds a credential in {shown}"
                    " (a bug in envkit's redaction; please report it)"
                )


def log_snapshot(snap: Snapshot, run_id: str, *, client: Optional[MlflowClient] = None) -> None:
    """Log ``snap``'s files under ``environment/`` and its tags on run ``run_id``.

    The tags (with ``envkit.artifacts``) are set after the files, so a run that has
    ``envkit.artifacts`` has the whole snapshot.
    """
    from ..snapshot import render

    files = render(snap)
    tags = snap.tags()
    _check_no_secrets(files, tags)
    client = client or _client()
    from mlflow.entities import RunTag

    with _mlflow_errors(f"run {run_id}"), tempfile.TemporaryDirectory(prefix="envkit-mlflow-") as tmp:
        for name, text in files.items():
            Path(tmp, name).write_text(text, encoding="utf-8")
        client.log_artifacts(run_id, tmp, artifact_path=ARTIFACT_PATH)
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in {**tags, ARTIFACTS_TAG: ARTIFACT_PATH}.items()])
    _log.debug("logged environment %s (%d files) to run %s", snap.fingerprint[:12], len(files), run_id)


_cache: Optional[tuple[tuple[object, ...], Snapshot]] = None
_cache_lock = threading.Lock()


def _state(project: str) -> tuple[object, ...]:
    """What the running interpreter's snapshot depends on, cheaply: the project folder and
    its declaration files (name, mtime, size), and the modification time of each folder on
    ``sys.path`` (installing, upgrading or removing a distribution changes its folder)."""
    from ..snapshot import DECLARATION_RE

    stamps: list[object] = [project]
    for entry in sys.path:
        try:
            stamps.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            continue
    try:
        with os.scandir(project) as entries:
            found = []
            for item in entries:
                if DECLARATION_RE.fullmatch(item.name):
                    info = item.stat()
                    found.append((item.name, info.st_mtime_ns, info.st_size))
        stamps.extend(sorted(found))
    except OSError:
        pass
    return tuple(stamps)


def current_snapshot(project: Optional[str | os.PathLike[str]] = None) -> Snapshot:
    """This interpreter's snapshot (declarations from ``project``, default the working
    directory), captured again only when :func:`_state` changes: a sweep of many runs in
    one process pays for one capture. Used by :func:`log_environment` and the plugin."""
    global _cache
    from ..snapshot import snapshot

    folder = os.path.abspath(project if project is not None else os.getcwd())
    key = _state(folder)
    with _cache_lock:
        if _cache is not None and _cache[0] == key:
            return _cache[1]
    snap = snapshot(None, folder)
    with _cache_lock:
        _cache = (key, snap)
    return snap


def log_environment(
    run_id: Optional[str] = None,
    *,
    python: Optional[str] = None,
    project: Optional[str | os.PathLike[str]] = None,
) -> Snapshot:
    """Capture an environment and log it to a run; returns the snapshot.

    ``run_id`` defaults to the active run (``mlflow.start_run()``); ``python`` is the
    interpreter whose environment to capture (default: this one, in-process, through
    :func:`current_snapshot`'s cache); ``project`` the folder whose declaration files are
    hashed into the snapshot (default: the working directory). See the module doc for the
    artifacts and tags.
    """
    from ..snapshot import snapshot

    mlflow = _mlflow()
    if run_id is None:
        active = mlflow.active_run()
        if active is None:
            raise EnvkitError(
                "no active MLflow run: call log_environment() inside `with mlflow.start_run():`, or pass run_id"
            )
        run_id = active.info.run_id
    elif not _RUN_ID_RE.fullmatch(run_id):
        raise EnvkitError(f"{run_id!r} is not an MLflow run id")
    if python is None:
        snap = current_snapshot(project)
    else:
        snap = snapshot(python, project if project is not None else os.getcwd())
    log_snapshot(snap, run_id)
    return snap


def find_run_by_tag(key: str, value: str, *, uri: Optional[str] = None) -> Optional[str]:
    """The id of a run (in any active experiment) whose tag ``key`` is ``value``, or None.

    ``value`` must be a plain token (letters, digits, ``.-_``): it goes into a filter string.
    """
    if not re.fullmatch(r"[\w.-]+", value) or not re.fullmatch(r"[\w.-]+", key):
        raise EnvkitError(f"cannot search runs by {key}={value!r}: only plain tokens are allowed")
    client = _client(uri)
    with _mlflow_errors(f"searching runs tagged {key}"):
        ids: list[str] = []
        token: Optional[str] = None
        while True:
            page = client.search_experiments(max_results=1000, page_token=token)
            ids.extend(e.experiment_id for e in page)
            token = page.token
            if not token:
                break
        if not ids:
            return None
        runs = client.search_runs(ids, filter_string=f"tags.`{key}` = '{value}'", max_results=1)
    return str(runs[0].info.run_id) if runs else None


# -- reading runs back (untrusted) ----------------------------------------------------------


def check_listing(entries: Iterable[tuple[str, bool, Optional[int]]], folder: str) -> dict[str, Optional[int]]:
    """Which of an artifact listing's ``(path, is_dir, size)`` entries to download.

    Every entry must be a plain name directly under ``folder`` (no absolute path, no
    ``..``, no backslash or control character); only :data:`ARTIFACT_FILES` are kept
    (other plain names and sub-folders are left alone); a kept file larger than
    :data:`MAX_ARTIFACT_BYTES` is refused. Returns name -> listed size.
    """
    keep: dict[str, Optional[int]] = {}
    for path, is_dir, size in entries:
        shown = mask_secrets(repr(path))
        if not isinstance(path, str) or path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
            raise EnvkitError(f"untrusted artifact listing: {shown} is an absolute path")
        if "\\" in path or re.search(r"[\x00-\x1f\x7f]", path):
            raise EnvkitError(f"untrusted artifact listing: {shown} holds a backslash or control character")
        parts = path.split("/")
        if ".." in parts or "." in parts:
            raise EnvkitError(f"untrusted artifact listing: {shown} escapes its folder")
        prefix = folder.split("/")
        if parts[: len(prefix)] != prefix or len(parts) != len(prefix) + 1 or not parts[-1]:
            raise EnvkitError(f"untrusted artifact listing: {shown} is not directly under {folder}/")
        name = parts[-1]
        if is_dir or name not in ARTIFACT_FILES:
            continue
        if size is not None and size > MAX_ARTIFACT_BYTES:
            raise EnvkitError(
                f"untrusted artifact: {path} is {size} bytes, more than the {MAX_ARTIFACT_BYTES} envkit accepts"
            )
        keep[name] = size
    return keep


def check_download(root: str | os.PathLike[str], local: str | os.PathLike[str]) -> Path:
    """``local`` (a file MLflow downloaded into ``root``) if it is a regular file inside
    ``root``, not a symlink, and not larger than :data:`MAX_ARTIFACT_BYTES`."""
    base = Path(os.path.realpath(root))
    path = Path(os.path.abspath(local))
    try:
        path.relative_to(Path(os.path.abspath(root)))
        Path(os.path.realpath(path)).relative_to(base)
    except ValueError:
        raise EnvkitError(f"untrusted artifact: {path.name} was written outside the download folder") from None
    try:
        info = os.lstat(path)
    except OSError:
        raise EnvkitError(f"untrusted artifact: {path.name} was not downloaded") from None
    if stat.S_ISLNK(info.st_mode):
        raise EnvkitError(f"untrusted artifact: {path.name} is a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise EnvkitError(f"untrusted artifact: {path.name} is not a regular file")
    if info.st_size > MAX_ARTIFACT_BYTES:
        raise EnvkitError(
            f"untrusted artifact: {path.name} is {info.st_size} bytes, more than the {MAX_ARTIFACT_BYTES} envkit accepts"
        )
    return path


def download_environment(
    reference: str,
    dst: str | os.PathLike[str],
    *,
    names: Sequence[str] = ARTIFACT_FILES,
) -> dict[str, Path]:
    """Download a run's ``environment/`` files (those of ``names`` it has) into ``dst``.

    ``reference`` is a run id or ``runs:/<run_id>[/<folder>]``. The listing and every file
    are checked as untrusted (:func:`check_listing`, :func:`check_download`). Returns
    name -> local path; ``snapshot.json`` is always among them (else an error).
    """
    run_id, folder = parse_run_reference(reference)
    client = _client()
    with _mlflow_errors(f"runs:/{run_id}"):
        client.get_run(run_id)
        listing = client.list_artifacts(run_id, folder)
    keep = check_listing(((f.path, f.is_dir, f.file_size) for f in listing), folder)
    if "snapshot.json" not in keep:
        raise EnvkitError(
            f"runs:/{run_id} has no {folder}/snapshot.json: log one with envkit.mlflow.log_environment(), "
            "`envkit run`, or the envkit MLflow plugin"
        )
    out: dict[str, Path] = {}
    target = Path(dst)
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name not in keep:
            continue
        with _mlflow_errors(f"runs:/{run_id}/{folder}/{name}"):
            local = client.download_artifacts(run_id, f"{folder}/{name}", str(target))
        out[name] = check_download(target, local)
    return out


def _read_snapshot(path: Path, label: str) -> Snapshot:
    from ..snapshot import Snapshot

    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise EnvkitError(f"{label}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise EnvkitError(f"{label}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise EnvkitError(f"{label}: nested too deeply to be a snapshot") from None
    return Snapshot.from_dict(data, origin=label)


def snapshot_from_run(reference: str) -> Snapshot:
    """The snapshot a run recorded: ``runs:/<run_id>`` (or a bare id), validated.

    The resolver of :data:`envkit.snapshot.RESOLVERS` for ``runs:/``, so ``envkit diff
    runs:/A runs:/B`` works.
    """
    run_id, folder = parse_run_reference(reference)
    with tempfile.TemporaryDirectory(prefix="envkit-run-") as tmp:
        files = download_environment(reference, tmp, names=("snapshot.json",))
        return _read_snapshot(files["snapshot.json"], f"runs:/{run_id}/{folder}/snapshot.json")


# -- restore --------------------------------------------------------------------------------


def _silent(message: str) -> None:
    del message


@dataclass(frozen=True)
class RestoreReport:
    """What ``envkit runs restore`` built, and how it differs from what the run recorded.

    *Matching* means equal fingerprints (python, platform, packages with their provenance,
    conda packages; never the manager, paths or installers), less :attr:`not_compared`:
    what the chosen manager brings into every environment it makes and the run could not
    have recorded (the conda packages of a conda prefix when the run's environment was not
    one; setuptools or wheel that virtualenv seeded when the run had none: :func:`_compared`).
    ``compared_fingerprint`` is the restored environment's fingerprint without
    those; :attr:`drift` is whether it differs from the recorded one.
    """

    run_id: str
    manager: str
    project: Path
    environment: Path
    python: Path
    recorded: Snapshot
    restored: Snapshot
    diff: SnapshotDiff
    #: Packages the run had that cannot be reinstalled elsewhere (local folders and files).
    not_restorable: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: What the comparison leaves out, each with the reason (see the class doc).
    not_compared: tuple[str, ...] = ()
    #: The restored fingerprint without :attr:`not_compared` (None: nothing was left out).
    compared: Optional[str] = None

    @property
    def same_fingerprint(self) -> bool:
        return self.recorded.fingerprint == self.restored.fingerprint

    @property
    def compared_fingerprint(self) -> str:
        return self.compared or self.restored.fingerprint

    @property
    def drift(self) -> bool:
        """True when the restored environment is not the recorded one (less :attr:`not_compared`)."""
        return not (self.compared_fingerprint == self.recorded.fingerprint and self.diff.same)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "envkit.restore/1",
            "run_id": self.run_id,
            "manager": self.manager,
            "project": str(self.project),
            "environment": str(self.environment),
            "python": str(self.python),
            "recorded_manager": self.recorded.manager.describe(),
            "restored_manager": self.restored.manager.describe(),
            "recorded_fingerprint": self.recorded.fingerprint,
            "restored_fingerprint": self.restored.fingerprint,
            "same_fingerprint": self.same_fingerprint,
            "not_compared": list(self.not_compared),
            "compared_fingerprint": self.compared_fingerprint,
            "drift": self.drift,
            "not_restorable": list(self.not_restorable),
            "warnings": list(self.warnings),
            "diff": self.diff.to_dict(),
        }


def _pin_lines(text: str) -> list[str]:
    """The requirement lines of a requirements text or the entries of a conda.yaml, without comments."""
    out = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _not_restorable(snap: Snapshot) -> tuple[str, ...]:
    from ..snapshot import TOOLING

    out = []
    for p in snap.packages:
        v = p.provenance
        if p.name in TOOLING:
            continue
        if v.kind == "directory" or (v.kind == "archive" and (v.url or "").startswith("file:")):
            how = "editable folder" if v.editable else "folder" if v.kind == "directory" else "file"
            out.append(f"{p.name}=={p.version} (local {how} {v.url})")
    return tuple(out)


def _default_python(snap: Snapshot) -> str:
    """This interpreter when it is the recorded Python, else the recorded ``major.minor``."""
    import platform

    if (platform.python_implementation().lower(), platform.python_version()) == (
        snap.python.implementation,
        snap.python.version,
    ):
        return sys.executable
    match = re.match(r"(\d+)\.(\d+)", snap.python.version)
    version = f"{match.group(1)}.{match.group(2)}" if match else snap.python.version
    return f"pypy{version}" if snap.python.implementation == "pypy" else version


_PYTHON_VERSION_RE = re.compile(r"(?:python|cpython|pypy)?(\d+)\.(\d+)(?:\.\d+)?")


def _python_minor(python: Optional[str], snap: Snapshot) -> Optional[str]:
    """``major.minor`` of the Python a restore builds with: the recorded one (``python``
    None), the version ``python`` names, or what the interpreter at ``python`` says
    (None when it cannot be run: the manager will say why)."""
    import subprocess

    if python is None:
        python = snap.python.version
    match = _PYTHON_VERSION_RE.fullmatch(python)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    try:
        proc = subprocess.run(
            [python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and re.fullmatch(r"\d+\.\d+", out) else None


def _index_warning(snap: Snapshot) -> Optional[str]:
    idx = snap.indexes
    used = [u for u in (idx.index_url, *idx.extra_index_urls, *idx.find_links) if u]
    if not used:
        return None
    return (
        f"the environment's pip used {', '.join(used)}; this restore uses your own pip configuration "
        "(pass --index-url to choose an index)"
    )


#: A conda channel given by name (``conda-forge``, ``bioconda``, ``conda-forge/label/dev``):
#: the engine turns it into a URL of its own; anything else in a run is a URL or a path.
_CHANNEL_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")


def _environment_yml(
    snap: Snapshot,
    *,
    reference: str,
    label: str,
    index_url: Optional[str],
    channels: Sequence[str],
    python: Optional[str],
    warnings: list[str],
) -> str:
    """The ``environment.yml`` a conda restore builds: the recorded conda packages pinned
    exactly (``name ==version build``; python and pip too), the ``pip:`` part of the
    snapshot's ``conda.yaml`` (the packages conda did not install) behind ``index_url``.

    ``snap`` was validated when read (conda fields by :data:`CONDA_FIELD_RES`, so each
    stays one field of its spec); a recorded python version that is no plain version is
    an :class:`EnvkitError` (``label`` names the snapshot).
    ``channels`` replace the recorded ones (and ``nodefaults`` is added). Otherwise the
    recorded channels that are names are kept; a recorded URL or path is a URL from the
    run, which a restore does not follow: it is left out with a warning. ``python`` (a
    version) replaces the recorded python pin; the conda manager adds it to the specs.
    """
    import io

    from ruamel.yaml import YAML

    from ..snapshot import CONDA_FIELD_RES, conda_parts

    recorded, pip_lines = conda_parts(snap)  # what the snapshot's conda.yaml holds
    if channels:
        chosen = [*channels, "nodefaults"]
    else:
        chosen = [c for c in recorded if _CHANNEL_NAME_RE.fullmatch(c)]
        dropped = [c for c in recorded if c not in chosen]
        if dropped:
            instead = "" if chosen else "; without channels the conda engine uses its default ones"
            warnings.append(
                f"the environment's conda packages came from {', '.join(dropped)}; a restore does not follow "
                f"a channel URL from a run (pass --channel to choose one){instead}"
            )
    # the conda packages' fields were checked when snapshot.json was read (CONDA_FIELD_RES)
    if not CONDA_FIELD_RES["version"].fullmatch(snap.python.version):
        raise EnvkitError(f"{label}: {snap.python.version!r} is not a python version; refusing to restore it")
    conda = {c.name: c for c in snap.conda}
    specs: list[Any] = []
    if python is None:
        py = conda.get("python")
        specs.append(f"python =={py.version} {py.build}" if py else f"python =={snap.python.version}")
    specs.extend(f"{c.name} =={c.version} {c.build}" for c in snap.conda if c.name != "python")
    if "pip" not in conda:
        pip = snap.package("pip")
        specs.append(f"pip <={pip.version}" if pip else "pip")
    if pip_lines:
        specs.append({"pip": ([f"--index-url {index_url}"] if index_url else []) + pip_lines})
    doc: dict[str, Any] = {"channels": chosen, "dependencies": specs} if chosen else {"dependencies": specs}
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(doc, buffer)
    head = (
        f"# Restored by envkit from {reference} (environment {snap.fingerprint[:12]}): the run's conda\n"
        "# packages pinned exactly (python and pip too), the packages conda did not install under pip:.\n"
    )
    return head + buffer.getvalue()


def _requirements_text(snap_text: str, *, index_url: Optional[str], python_minor: Optional[str]) -> str:
    """The snapshot's pinned requirements.txt, behind ``--index-url`` when given, with a
    ``python==X.Y.*`` line (the Python constraint for uv, pipenv and poetry) when given."""
    head = [f"--index-url {index_url}"] if index_url is not None else []
    if python_minor is not None:
        head.append(f"python=={python_minor}.*")
    return "".join(f"{line}\n" for line in head) + snap_text


#: Distributions an environment creator puts into every environment it makes besides pip
#: (which the fingerprint leaves out already): virtualenv's seed packages.
SEEDS = ("setuptools", "wheel")


def _compared(manager: str, recorded: Snapshot, restored: Snapshot) -> tuple[Snapshot, tuple[str, ...]]:
    """``restored`` less what its manager necessarily brings that ``recorded`` does not
    have, with the reasons (see :class:`RestoreReport`):

    - a conda restore of a run whose environment was not a conda prefix: the conda
      packages (python, pip and what they need: the base of every conda environment);
    - a :data:`SEEDS` distribution the run did not have and nobody requested: the
      environment creator's (virtualenv seeds setuptools for venv and pipenv).
    """
    from ..snapshot import fingerprint

    less = restored
    reasons: list[str] = []
    if manager == "conda" and restored.conda and not recorded.conda:
        names = ", ".join(f"{c.name} {c.version} ({c.build})" for c in restored.conda)
        reasons.append(
            f"conda packages {names}: a conda environment's own; "
            f"the run's {recorded.manager.name} environment had no conda packages"
        )
        less = replace(less, conda=())
    seeded = [p for p in less.packages if p.name in SEEDS and not p.requested and recorded.package(p.name) is None]
    for p in seeded:
        reasons.append(
            f"{p.name} {p.version}: put into every new environment by {manager}'s environment creator "
            f"(not requested); the run's {recorded.manager.name} environment had none"
        )
    if seeded:
        less = replace(less, packages=tuple(p for p in less.packages if p not in seeded))
    if not reasons:
        return restored, ()
    return replace(less, fingerprint=fingerprint(less.to_dict())), tuple(reasons)


#: The lock file each manager writes beside its file (a restore's --force removes a stale one).
_LOCKS = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock"}


def _made_by_restore(manager: str, project: Path, filename: str) -> list[Path]:
    """What a restore with ``manager`` makes in ``project``: the manager's file, its lock and
    the environment folder (the managers keep it in the project: ``.venv``, conda's
    ``.conda-env``)."""
    from ..managers.conda import PREFIX_DIR

    paths = [project / filename]
    if manager in _LOCKS:
        paths.append(project / _LOCKS[manager])
    paths.append(project / (PREFIX_DIR if manager == "conda" else ".venv"))
    return paths


def _check_replaceable(path: Path) -> None:
    """Refuse to let ``--force`` remove a folder that is not an environment (no
    ``pyvenv.cfg``, no ``conda-meta``: someone's files) or that runs envkit itself."""
    import sys

    if path.is_symlink() or not path.is_dir():
        return  # a file or a link: only it goes
    if not ((path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()):
        raise EnvkitError(
            f"{path} is not an environment (no pyvenv.cfg or conda-meta in it); --force replaces only an "
            "environment: move it away or choose another --path"
        )
    running = Path(sys.prefix).resolve()
    if running == path.resolve() or path.resolve() in running.parents:
        raise EnvkitError(f"{path} is the environment running envkit; restore into another --path")


def _remove(path: Path) -> None:
    """Remove a file, a symlink (not what it points to) or a folder tree."""
    import shutil

    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path)
    except OSError as exc:
        raise EnvkitError(f"{path}: cannot remove it: {exc.strerror or exc}") from None


def restore(
    reference: str,
    manager: str,
    *,
    path: str | os.PathLike[str],
    python: Optional[str] = None,
    index_url: Optional[str] = None,
    channels: Sequence[str] = (),
    force: bool = False,
    progress: Callable[[str], None] = _silent,
) -> RestoreReport:
    """Rebuild a run's environment in ``path`` with ``manager`` and report any drift.

    The run's artifacts are downloaded and checked as untrusted input (module doc); the
    manager's file is generated from the validated ``snapshot.json``, never copied from
    the run:

    - venv, uv, pipenv, poetry: its pinned ``requirements.txt``, converted to the manager's
      file by :func:`envkit.environments.bootstrap`. For uv, pipenv and poetry a
      ``python==X.Y.*`` line becomes the project's Python constraint (their resolvers
      need one: poetry refuses ``setuptools`` for a project that allows Python 2).
    - conda: ``environment.yml`` written by :func:`_environment_yml` (every recorded conda
      package pinned exactly, the rest under ``pip:``) and built as it is.

    ``index_url`` becomes the requirements' first line (``--index-url``; under ``pip:``
    for conda): the snapshot records the indexes the environment's pip used, but a
    restore never follows a URL that came from a run unless told to. ``channels`` (conda
    only) likewise. ``python`` defaults to this interpreter when it is the recorded one,
    else to the recorded ``major.minor`` (conda: the recorded python, pinned in the
    file). The new environment is then captured (:func:`envkit.snapshot.snapshot`) and
    compared with the recorded one (:class:`RestoreReport`).

    ``path`` must not hold what the restore makes (the manager's file, its lock, the
    environment folder: :func:`_made_by_restore`) unless ``force``: then, once the run's
    snapshot is validated, the old lock and environment are removed (neither would be the
    run's: managers keep extra packages and poetry refuses a stale lock) and rebuilt.
    A failure of the manager carries the restore's warnings (``note:`` lines).
    """
    from .._io import atomic_write
    from ..environments import bootstrap
    from ..managers import get as get_manager
    from ..snapshot import diff, render, snapshot

    cls = get_manager(manager)
    run_id, folder = parse_run_reference(reference)
    project = Path(path)
    if project.exists() and not project.is_dir():
        raise EnvkitError(f"{project} exists and is not a folder")
    target = project / cls.filename
    made = _made_by_restore(manager, project, cls.filename)
    existing = [p for p in made if p.exists() or p.is_symlink()]
    if existing and not force:
        what = "the run's pins" if existing[0] == target else "the run's environment"
        raise EnvkitError(
            f"{existing[0]} exists: restoring would replace it with {what}; choose another --path or pass --force"
        )
    for made_path in existing:
        _check_replaceable(made_path)
    if index_url is not None and (not _URL_RE.fullmatch(index_url) or any(c.isspace() for c in index_url)):
        raise EnvkitError(f"--index-url {mask_secrets(index_url)!r} is not a URL")
    if channels and manager != "conda":
        raise EnvkitError(f"--channel is for --manager conda; {manager} installs from a package index (--index-url)")
    for channel in channels:
        if not channel or any(c.isspace() or not c.isprintable() for c in channel):
            raise EnvkitError(f"--channel {mask_secrets(channel)!r} is not a channel name, URL or path")
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="envkit-restore-") as tmp:
        downloaded = download_environment(reference, Path(tmp) / "download")
        label = f"runs:/{run_id}/{folder}/snapshot.json"
        recorded = _read_snapshot(downloaded["snapshot.json"], label)
        progress(f"{label}: {len(recorded.packages)} packages, fingerprint {recorded.fingerprint[:12]}")
        rendered = render(recorded)
        source_name = "conda.yaml" if manager == "conda" else "requirements.txt"
        got = downloaded.get(source_name)
        if got is not None and _pin_lines(got.read_text(encoding="utf-8", errors="replace")) != _pin_lines(
            rendered[source_name]
        ):
            warnings.append(
                f"the run's {source_name} does not match its snapshot.json; the pins were taken from snapshot.json"
            )
        if index_url is None:
            warnings.extend(filter(None, [_index_warning(recorded)]))
        not_restorable = _not_restorable(recorded)
        if not_restorable:
            warnings.append(f"cannot be reinstalled from a run: {'; '.join(not_restorable)}")
        if manager == "conda":
            text = _environment_yml(
                recorded,
                reference=f"runs:/{run_id}",
                label=label,
                index_url=index_url,
                channels=channels,
                python=python,
                warnings=warnings,
            )
            source = target  # written as the manager's file: the conda format would re-plan it
        else:
            minor = None if manager == "venv" else _python_minor(python, recorded)
            text = _requirements_text(rendered["requirements.txt"], index_url=index_url, python_minor=minor)
            source = Path(tmp) / "source" / "requirements.txt"
            if python is None:
                python = _default_python(recorded)
        for stale in existing:  # --force: the old lock and environment would not be the run's
            if stale != target:
                progress(f"removing {stale} (--force)")
                _remove(stale)
        try:
            atomic_write(source, text)
        except OSError as exc:
            raise EnvkitError(f"{source}: cannot write: {exc.strerror or exc}") from None
        try:
            result = bootstrap(source, manager, path=project, python=python, force=True, progress=progress)
        except EnvkitError as exc:
            if not warnings:
                raise
            raise EnvkitError(str(exc) + "".join(f"\nnote: {w}" for w in warnings)) from None
    progress(f"capturing the new environment ({result.created.python})")
    restored = snapshot(str(result.created.python), project)
    compared, not_compared = _compared(manager, recorded, restored)
    changes = diff(recorded, compared)
    changes = replace(
        changes,
        a=replace(changes.a, label=f"runs:/{run_id}"),
        b=replace(changes.b, label=str(result.created.path)),
    )
    return RestoreReport(
        run_id=run_id,
        manager=manager,
        project=project,
        environment=Path(result.created.path),
        python=Path(result.created.python),
        recorded=recorded,
        restored=restored,
        diff=changes,
        not_restorable=not_restorable,
        warnings=tuple(warnings),
        not_compared=not_compared,
        compared=compared.fingerprint if not_compared else None,
    )


# -- envkit run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    """What ``envkit run`` did: the run, its environment, and how the command ended."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    exit_status: int
    status: str
    snapshot: Snapshot


_PYTHON_NAME_RE = re.compile(r"(?i)(?:python|pypy)[0-9.]*(?:\.exe)?")


def command_python(command: Sequence[str]) -> Optional[str]:
    """The interpreter ``command`` runs: its program when that is a Python, or the Python
    named by the program's ``#!`` line (console scripts); None when it cannot tell."""
    import shutil

    program = shutil.which(command[0]) if command else None
    if program is None:
        return None
    if _PYTHON_NAME_RE.fullmatch(os.path.basename(program)):
        return os.path.abspath(program)
    try:
        with open(program, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if words and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
        found = shutil.which(words[0]) if words else None
        words = [found] if found else []
    if words and _PYTHON_NAME_RE.fullmatch(os.path.basename(words[0])) and os.path.isfile(words[0]):
        return os.path.abspath(words[0])
    return None


def _source_name(command: Sequence[str]) -> str:
    """What ``mlflow.source.name`` shows: the script (or ``-m module``) for a Python, else the program."""
    program = os.path.basename(command[0])
    if _PYTHON_NAME_RE.fullmatch(program):
        args = list(command[1:])
        while args:
            arg = args.pop(0)
            if arg == "-c":
                return "-c"
            if arg == "-m" and args:
                return mask_secrets(f"-m {args[0]}")
            if arg in ("-W", "-X") and args:
                args.pop(0)
            elif not arg.startswith("-"):
                return mask_secrets(arg)
    return mask_secrets(program)


def _experiment_id(client: MlflowClient, name: Optional[str]) -> str:
    from mlflow.exceptions import MlflowException

    if name is None:
        if os.environ.get("MLFLOW_EXPERIMENT_ID"):
            return os.environ["MLFLOW_EXPERIMENT_ID"]
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or None
        if name is None:
            return "0"  # MLflow's "Default" experiment
    with _mlflow_errors(f"experiment {name!r}"):
        found = client.get_experiment_by_name(name)
        if found is None:
            try:
                return str(client.create_experiment(name))
            except MlflowException:  # created meanwhile by another process
                found = client.get_experiment_by_name(name)
                if found is None:
                    raise
    if found.lifecycle_stage != "active":
        raise EnvkitError(f"experiment {name!r} is deleted; restore it in MLflow or choose another name")
    return str(found.experiment_id)


def _wait(process: Any) -> int:
    """Wait for ``process``; Ctrl-C is left to it (the terminal sends it to the whole
    foreground group), SIGTERM and SIGHUP sent to envkit are passed on."""
    import signal
    import threading

    handlers: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def forward(signum: int, frame: object) -> None:
            del frame
            with suppress(OSError):
                process.send_signal(signum)

        def ignore(signum: int, frame: object) -> None:
            del signum, frame

        handlers[signal.SIGINT] = signal.signal(signal.SIGINT, ignore)
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signum = getattr(signal, name)
                handlers[signum] = signal.signal(signum, forward)
    try:
        return int(process.wait())
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def _run_status(returncode: int) -> tuple[int, str]:
    """``(exit status, MLflow run status)`` of a command's return code."""
    import signal

    if returncode < 0:
        signum = -returncode
        killed = signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL, getattr(signal, "SIGHUP", -1))
        return 128 + signum, "KILLED" if killed else "FAILED"
    if returncode == 0:
        return 0, "FINISHED"
    return returncode, "KILLED" if returncode in (130, 143) else "FAILED"


def run_command(
    command: Sequence[str],
    *,
    experiment: Optional[str] = None,
    run_name: Optional[str] = None,
    python: Optional[str] = None,
    project: Optional[str | os.PathLike[str]] = None,
    progress: Callable[[str], None] = _silent,
) -> RunOutcome:
    """Run ``command`` inside a new MLflow run that records its environment.

    Creates the run (in ``experiment``, default ``MLFLOW_EXPERIMENT_ID`` /
    ``MLFLOW_EXPERIMENT_NAME`` / MLflow's Default), logs the environment of the command's
    Python (``python``, else :func:`command_python`, else this interpreter) with
    :func:`log_snapshot`, runs the command with ``MLFLOW_RUN_ID``, ``MLFLOW_TRACKING_URI``
    and ``MLFLOW_EXPERIMENT_ID`` set (so its own ``mlflow.start_run()`` joins the run),
    then tags ``envkit.exit_status`` and ends the run FINISHED (status 0), KILLED (a signal,
    or 130/143) or FAILED.
    """
    import shutil
    import subprocess

    from ..snapshot import snapshot

    if not command:
        raise EnvkitError("no command to run: give it after `--`, as in `envkit run -- python train.py`")
    if shutil.which(command[0]) is None:
        raise EnvkitError(f"{command[0]}: command not found")
    uri = tracking_uri()
    client = _client(uri)
    interpreter = python or command_python(command)
    in_process = interpreter is None or os.path.abspath(interpreter) == os.path.abspath(sys.executable)
    snap = snapshot(None if in_process else interpreter, project if project is not None else os.getcwd())
    experiment_id = _experiment_id(client, experiment)
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    tags = {"mlflow.source.name": _source_name(command), "mlflow.source.type": "LOCAL", "mlflow.user": user}
    with _mlflow_errors(f"experiment {experiment_id}"):
        run = client.create_run(experiment_id, tags=tags, run_name=run_name)
    run_id = str(run.info.run_id)
    exit_status, status = 1, "FAILED"  # unless the command runs and ends
    try:
        log_snapshot(snap, run_id, client=client)
        progress(f"run {run_id}: environment {snap.fingerprint[:12]} logged ({len(snap.packages)} packages)")
        env = dict(os.environ)
        env.update({"MLFLOW_RUN_ID": run_id, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_ID": experiment_id})
        env.pop("MLFLOW_EXPERIMENT_NAME", None)  # the id decides; a differing name would make start_run fail
        try:
            process = subprocess.Popen(list(command), env=env)
        except OSError as exc:
            exit_status = 127
            raise EnvkitError(f"{command[0]}: cannot run: {exc.strerror or exc}") from None
        exit_status, status = _run_status(_wait(process))
    except KeyboardInterrupt:
        exit_status, status = 130, "KILLED"
        raise
    finally:
        with _mlflow_errors(f"run {run_id}"):
            client.set_tag(run_id, EXIT_STATUS_TAG, str(exit_status))
            client.set_terminated(run_id, status)
    return RunOutcome(run_id, experiment_id, uri, exit_status, status, snap)


def log_generated(
    files: Mapping[str, str | os.PathLike[str]],
    *,
    source: str | os.PathLike[str],
    experiment: str = "envkit",
    run_name: Optional[str] = None,
) -> tuple[str, str, Snapshot]:
    """Record a ``generate`` in a new MLflow run: this interpreter's environment (as
    :func:`log_environment` does, with the source's folder as the project), the source
    declaration and the generated files under ``generated/``. Returns (experiment id, run id,
    snapshot).
    """
    mlflow = _mlflow()
    with _mlflow_errors("recording the generated files in MLflow"):
        # by id, not mlflow.set_experiment(): that would change the process's active experiment
        client = _client()
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
        with mlflow.start_run(experiment_id=experiment_id, run_name=run_name or f"generate {Path(source).name}") as run:
            snap = log_environment(run.info.run_id, project=Path(source).resolve().parent)
            mlflow.log_artifact(str(source), artifact_path="source")
            for path in files.values():
                mlflow.log_artifact(str(path), artifact_path="generated")
            mlflow.set_tag("envkit.source", Path(source).name)
            return run.info.experiment_id, run.info.run_id, snap
