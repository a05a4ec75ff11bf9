"""Snapshots of resolved environments: capture, fingerprint, redact, render and diff.

:func:`snapshot` captures the running interpreter in-process, or any other interpreter by
running :mod:`envkit._probe` there (it needs nothing of envkit installed). The result is a
frozen :class:`Snapshot` whose JSON form (:meth:`Snapshot.to_dict`) is the versioned schema
``envkit.snapshot/1``::

    schema          "envkit.snapshot/1"
    fingerprint     sha256 hex of what makes two environments the same (below)
    captured_at     UTC time, "YYYY-MM-DDTHH:MM:SSZ"
    envkit_version  the envkit that captured it
    python          implementation ("cpython"), implementation_version, version ("3.11.7"),
                    interpreter_tag ("cp311"), abi ("cp311", "cp313t"), executable, prefix,
                    base_prefix
    platform        system ("Linux"), release, machine ("x86_64"), libc ({name, version} or
                    null), tags (most specific first: ["linux_x86_64", "manylinux_2_36_x86_64"])
    manager         name (conda, uv, poetry, pipenv, virtualenv, venv, system), version (the
                    tool's, or null), evidence (why envkit thinks so)
    packages        sorted by name; each: name (PEP 503 normalized), version, installer (from
                    INSTALLER, or null), requested (REQUESTED present), provenance
    provenance      kind: "index" (no PEP 610 record: an index or a system package manager),
                    "vcs", "archive", "directory" or "unknown" (an unreadable record); url,
                    vcs, commit_id, requested_revision, editable, hash ("sha256=<hex>"),
                    subdirectory (null where they do not apply)
    conda           sorted by name; each: name, version, build, channel
    indexes         what the environment's pip is configured with: index_url (null: pip's
                    default), extra_index_urls, find_links, no_index, trusted_hosts,
                    config_files (the files read)
    declarations    declaration files found in the project folder: path, sha256
    warnings        what the capture could not record faithfully

**Fingerprint**: sha256 of the canonical JSON of the python implementation, version and
ABI; the platform system and machine; the sorted set of packages as (name, version,
provenance essentials: "index", the VCS and commit, the archive hash (or URL when it has
none), "editable" or "directory"); and the conda packages as (name, version, build). Not
paths, times, installers, channels, order, or ``pip`` itself (the installer, as
``pip freeze`` leaves it out: an environment made by ``uv venv`` has none).

**Secrets**: every URL (index settings, PEP 610 URLs, conda channels) goes through
:func:`redact` (``envkit.model.redact_url``'s rule, extended: see :func:`envkit._probe.redact`)
in the probed interpreter itself, before anything leaves it; untrusted input
(:meth:`Snapshot.from_dict`) is redacted again. The schema data, the redaction and the
fingerprint are computed by :mod:`envkit._probe` (standard library only), so that
``envkit snapshot --json`` needs neither ``dataclasses`` nor ``packaging``
(:func:`envkit._probe.cli_json`); this module adds the validated objects, the rendered
files and the diff.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import _probe
from .errors import EnvkitError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from typing import Any, Literal, Optional, Union

    ProvenanceKind = Literal["index", "vcs", "archive", "directory", "unknown"]
    SnapshotLike = Union["Snapshot", str, "os.PathLike[str]"]
    Resolver = Callable[[str], "Snapshot"]

__all__ = [
    "DECLARATION_RE",
    "DIFF_SCHEMA",
    "RESOLVERS",
    "SCHEMA",
    "TOOLING",
    "CondaChange",
    "CondaPackage",
    "Declaration",
    "Indexes",
    "Manager",
    "Package",
    "PackageChange",
    "Platform",
    "Provenance",
    "Python",
    "Side",
    "Snapshot",
    "SnapshotDiff",
    "canonical",
    "capture",
    "diff",
    "fingerprint",
    "load_snapshot",
    "redact",
    "register_resolver",
    "render",
    "resolve",
    "side",
    "snapshot",
    "version_change",
    "write",
]

SCHEMA = _probe.SCHEMA
DIFF_SCHEMA = "envkit.diff/1"

#: Distributions recorded but left out of the fingerprint, the pins and the diff: installers.
TOOLING = frozenset(_probe.TOOLING)

#: Declaration files hashed when found at the top of the project folder.
DECLARATION_RE = _probe.DECLARATION_RE

_KINDS = ("index", "vcs", "archive", "directory", "unknown")
_NAME_RE = _probe.NAME_RE
_TOKEN_RE = _probe.TOKEN_RE

#: What a conda package's name, version and build may be (conda's own character rules), so
#: that each stays one field of the spec it is written into: a name with ``::`` would name a
#: channel, a ``=`` or a space would start another field.
CONDA_FIELD_RES = {
    "name": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*"),
    "version": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!]*"),
    "build": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+]*"),
}
_HEX_RE = re.compile(r"[0-9a-f]{64}")
_TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_BAD_TEXT_RE = re.compile(r"[\x00-\x1f\x7f]")

redact = _probe.redact
fingerprint = _probe.fingerprint


# -- the value objects ----------------------------------------------------------------------


@dataclass(frozen=True)
class Python:
    implementation: str
    implementation_version: str
    version: str
    interpreter_tag: str
    abi: str
    executable: str
    prefix: str
    base_prefix: str

    def describe(self) -> str:
        return f"{self.implementation} {self.version} ({self.abi})"


@dataclass(frozen=True)
class Platform:
    system: str
    release: str
    machine: str
    libc: Optional[tuple[str, str]]
    tags: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.system} {self.machine}"


@dataclass(frozen=True)
class Manager:
    name: str
    version: Optional[str]
    evidence: str

    def describe(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass(frozen=True)
class Provenance:
    """Where a distribution came from (PEP 610 ``direct_url.json``), URL redacted."""

    kind: ProvenanceKind = "index"
    url: Optional[str] = None
    vcs: Optional[str] = None
    commit_id: Optional[str] = None
    requested_revision: Optional[str] = None
    editable: bool = False
    hash: Optional[str] = None
    subdirectory: Optional[str] = None

    def essentials(self) -> tuple[str, ...]:
        """What of the provenance takes part in the fingerprint and the diff."""
        return tuple(_probe.essentials(self.__dict__))

    def short_hash(self) -> str:
        """``sha256=1a2b3c4d``: the archive hash, cut for people to read."""
        algo, _, digest = (self.hash or "").partition("=")
        return f"{algo}={digest[:8]}" if digest else ""

    def describe(self) -> str:
        """A short phrase: ``index``, ``git 1a2b3c4d5e6f``, ``editable``, ``archive sha256=1a2b3c4d``."""
        if self.kind == "vcs":
            ref = (self.commit_id or "")[:12] or self.requested_revision or self.url or "?"
            return f"{self.vcs or 'vcs'} {ref}"
        if self.kind == "archive":
            return f"archive {self.short_hash()}" if self.hash else f"archive {self.url}"
        if self.kind == "directory":
            return "editable" if self.editable else "local folder"
        return self.kind


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    installer: Optional[str] = None
    requested: bool = False
    provenance: Provenance = field(default_factory=Provenance)

    def essentials(self) -> tuple[str, ...]:
        return (self.name, self.version, *self.provenance.essentials())


@dataclass(frozen=True)
class CondaPackage:
    name: str
    version: str
    build: str
    channel: Optional[str] = None

    def essentials(self) -> tuple[str, ...]:
        return (self.name, self.version, self.build)


@dataclass(frozen=True)
class Indexes:
    """The package locations the environment's pip is configured with (URLs redacted)."""

    index_url: Optional[str] = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    trusted_hosts: tuple[str, ...] = ()
    config_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Declaration:
    path: str
    sha256: str


@dataclass(frozen=True)
class Snapshot:
    """A resolved environment, as captured. Build one with :func:`snapshot` or :meth:`from_dict`."""

    fingerprint: str
    captured_at: str
    envkit_version: str
    python: Python
    platform: Platform
    manager: Manager
    packages: tuple[Package, ...]
    conda: tuple[CondaPackage, ...] = ()
    indexes: Indexes = field(default_factory=Indexes)
    declarations: tuple[Declaration, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def schema(self) -> str:
        return SCHEMA

    def package(self, name: str) -> Optional[Package]:
        key = _normalize(name)
        return next((p for p in self.packages if p.name == key), None)

    def tags(self) -> dict[str, str]:
        """The tags a tracking server files the run under (``envkit.fingerprint`` and so on)."""
        return {
            "envkit.fingerprint": self.fingerprint,
            "envkit.python": f"{self.python.implementation} {self.python.version}",
            "envkit.manager": self.manager.name,
            "envkit.packages": str(len(self.packages)),
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``envkit.snapshot/1`` JSON form (see the module doc)."""
        return {
            "schema": SCHEMA,
            "fingerprint": self.fingerprint,
            "captured_at": self.captured_at,
            "envkit_version": self.envkit_version,
            "python": {
                "implementation": self.python.implementation,
                "implementation_version": self.python.implementation_version,
                "version": self.python.version,
                "interpreter_tag": self.python.interpreter_tag,
                "abi": self.python.abi,
                "executable": self.python.executable,
                "prefix": self.python.prefix,
                "base_prefix": self.python.base_prefix,
            },
            "platform": {
                "system": self.platform.system,
                "release": self.platform.release,
                "machine": self.platform.machine,
                "libc": (
                    {"name": self.platform.libc[0], "version": self.platform.libc[1]} if self.platform.libc else None
                ),
                "tags": list(self.platform.tags),
            },
            "manager": {"name": self.manager.name, "version": self.manager.version, "evidence": self.manager.evidence},
            "packages": [_package_dict(p) for p in self.packages],
            "conda": [
                {"name": c.name, "version": c.version, "build": c.build, "channel": c.channel} for c in self.conda
            ],
            "indexes": {
                "index_url": self.indexes.index_url,
                "extra_index_urls": list(self.indexes.extra_index_urls),
                "find_links": list(self.indexes.find_links),
                "no_index": self.indexes.no_index,
                "trusted_hosts": list(self.indexes.trusted_hosts),
                "config_files": list(self.indexes.config_files),
            },
            "declarations": [{"path": d.path, "sha256": d.sha256} for d in self.declarations],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Any, origin: str = "snapshot") -> Snapshot:
        """Validate untrusted ``envkit.snapshot/1`` data; :class:`EnvkitError` says what is wrong.

        URLs are redacted again, names and versions must be safe to write into a
        requirements file, and the recorded fingerprint must match the contents.
        """
        return _Reader(origin).snapshot(data)


def _package_dict(p: Package) -> dict[str, Any]:
    v = p.provenance
    return {
        "name": p.name,
        "version": p.version,
        "installer": p.installer,
        "requested": p.requested,
        "provenance": {
            "kind": v.kind,
            "url": v.url,
            "vcs": v.vcs,
            "commit_id": v.commit_id,
            "requested_revision": v.requested_revision,
            "editable": v.editable,
            "hash": v.hash,
            "subdirectory": v.subdirectory,
        },
    }


# -- capture --------------------------------------------------------------------------------


def _normalize(name: str) -> str:
    return _probe._normalize(name)


def canonical(raw: Mapping[str, Any], project: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Raw probe data (:func:`envkit._probe.capture`) as ``envkit.snapshot/1`` data."""
    from .__about__ import __version__

    folder = os.fspath(project) if project is not None else None
    try:
        return _probe.to_schema(raw, folder, __version__)
    except OSError as exc:
        raise EnvkitError(f"{exc.filename or folder}: cannot read: {exc.strerror or exc}") from None


def _run_probe(python: str, project: str | None) -> dict[str, Any]:
    """Run the probe in ``python`` (``-I``: no user site, no current folder) and read its JSON."""
    import subprocess

    from .__about__ import __version__

    # Loaded as a module rather than run as a script, so the interpreter keeps its bytecode
    # (a script is compiled afresh on every run); -I keeps the user's site and the current
    # folder out of sys.path.
    loader = (
        "import importlib.util as u, sys; s = u.spec_from_file_location('envkit_probe', sys.argv[1]); "
        "m = u.module_from_spec(s); s.loader.exec_module(m); sys.exit(m.main(sys.argv[2:]))"
    )
    cmd = [python, "-I", "-c", loader, _probe.__file__, "--envkit-version", __version__]
    if project is not None:
        cmd += ["--project", os.path.abspath(project)]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=False)
    except FileNotFoundError:
        raise EnvkitError(f"{python}: no such interpreter") from None
    except PermissionError:
        raise EnvkitError(f"{python}: not an executable interpreter") from None
    except OSError as exc:
        raise EnvkitError(f"{python}: cannot run: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise EnvkitError(f"{python}: the environment probe did not finish in 300 seconds") from None
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        if "SyntaxError" in stderr or "Unknown option: -I" in stderr:
            raise EnvkitError(f"{python}: envkit's probe needs Python 3.8 or newer")
        last = _probe.redact_text(stderr.strip().splitlines()[-1]) if stderr.strip() else "no message"
        raise EnvkitError(f"{python}: the environment probe failed (exit status {done.returncode}): {last}")
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise EnvkitError(f"{python}: the environment probe printed something that is not JSON") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise EnvkitError(f"{python}: the environment probe answered in a form this envkit does not know")
    return data


def capture(python: str | None = None, project: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """:func:`snapshot` as ``envkit.snapshot/1`` data (redacted, fingerprinted), without
    building the objects: in-process when ``python`` is ``None``, else in that interpreter."""
    if python is None:
        data = canonical(_probe.capture(), project)
    else:
        data = _run_probe(python, os.fspath(project) if project is not None else None)
    if "logging" in sys.modules:  # nobody can listen to a logger before logging is imported
        import logging

        logging.getLogger("envkit.snapshot").debug(
            "captured %s: %d packages, indexes %s, fingerprint %s",
            data["python"]["executable"],
            len(data["packages"]),
            [data["indexes"]["index_url"], *data["indexes"]["extra_index_urls"]],
            data["fingerprint"],
        )
    return data


def snapshot(python: str | None = None, project: str | os.PathLike[str] | None = None) -> Snapshot:
    """The environment of ``python`` (default: this interpreter, captured in-process).

    ``project`` is a folder whose declaration files are hashed into the snapshot.
    Raises :class:`EnvkitError` when the interpreter cannot be run or probed.
    """
    return Snapshot.from_dict(capture(python, project), origin=python or "this interpreter")


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read a ``snapshot.json`` (or a folder holding one), validating it as untrusted input."""
    name = os.fspath(path)
    if os.path.isdir(name):
        name = os.path.join(name, "snapshot.json")
    data = _read_json(name)
    return Snapshot.from_dict(data, origin=name)


def _read_json(name: str) -> Any:
    from ._io import read_bytes

    raw = read_bytes(name)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise EnvkitError(f"{name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise EnvkitError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


# -- validation of untrusted data -----------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Reader:
    """Validates ``envkit.snapshot/1`` data field by field, naming the path of a bad value."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str) -> EnvkitError:
        return EnvkitError(f"{self.origin}: invalid snapshot: {where}: {message}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_kind(value)}")
        return value

    def items(self, data: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key)
        if not isinstance(value, list):
            raise self.fail(f"{where}{key}", f"expected a list, got {_kind(value)}")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
        value = data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            expected = "a string or null" if optional else "a string"
            raise self.fail(f"{where}{key}", f"expected {expected}, got {_kind(value)}")
        if _BAD_TEXT_RE.search(value):
            raise self.fail(f"{where}{key}", "control characters are not allowed")
        return value

    def token(self, data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
        value = self.text(data, key, where, optional=optional)
        if value is not None and not _TOKEN_RE.fullmatch(value):
            raise self.fail(f"{where}{key}", f"{value!r} is not a version, build or revision")
        return value

    def url(self, data: Mapping[str, Any], key: str, where: str, *, optional: bool = True) -> Any:
        value = self.text(data, key, where, optional=optional)
        if value is not None and (not value or any(ch.isspace() for ch in value)):
            raise self.fail(f"{where}{key}", "a URL cannot be empty or hold spaces")
        return redact(value) if value is not None else None

    def flag(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key)
        if not isinstance(value, bool):
            raise self.fail(f"{where}{key}", f"expected true or false, got {_kind(value)}")
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str, *, urls: bool = False) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(self.items(data, key, where)):
            holder, at = {"item": item}, f"{where}{key}[{i}]."
            out.append(self.url(holder, "item", at, optional=False) if urls else self.text(holder, "item", at))
        return tuple(out)

    def snapshot(self, data: Any) -> Snapshot:
        top = self.obj(data, "top level")
        schema = top.get("schema")
        if schema != SCHEMA:
            raise self.fail("schema", f"expected {SCHEMA!r}, got {schema!r}")
        recorded = self.text(top, "fingerprint", "")
        if not _HEX_RE.fullmatch(recorded):
            raise self.fail("fingerprint", "expected 64 lower-case hex digits")
        captured = self.text(top, "captured_at", "")
        if not _TIME_RE.fullmatch(captured):
            raise self.fail("captured_at", f"expected YYYY-MM-DDTHH:MM:SSZ, got {captured!r}")
        py = self.obj(top.get("python"), "python")
        plat = self.obj(top.get("platform"), "platform")
        man = self.obj(top.get("manager"), "manager")
        libc = plat.get("libc")
        if libc is not None:
            libc = self.obj(libc, "platform.libc")
            libc = (self.text(libc, "name", "platform.libc."), self.text(libc, "version", "platform.libc."))
        packages = tuple(self.package(item, f"packages[{i}]") for i, item in enumerate(self.items(top, "packages", "")))
        names = [p.name for p in packages]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise self.fail("packages", f"{dup!r} is listed twice")
        conda = tuple(self.conda(item, f"conda[{i}]") for i, item in enumerate(self.items(top, "conda", "")))
        idx = self.obj(top.get("indexes"), "indexes")
        decls = []
        for i, item in enumerate(self.items(top, "declarations", "")):
            d = self.obj(item, f"declarations[{i}]")
            path = self.text(d, "path", f"declarations[{i}].")
            digest = self.text(d, "sha256", f"declarations[{i}].")
            if not _HEX_RE.fullmatch(digest):
                raise self.fail(f"declarations[{i}].sha256", "expected 64 lower-case hex digits")
            decls.append(Declaration(path, digest))
        snap = Snapshot(
            fingerprint=recorded,
            captured_at=captured,
            envkit_version=self.text(top, "envkit_version", ""),
            python=Python(
                *(
                    self.text(py, key, "python.")
                    for key in (
                        "implementation",
                        "implementation_version",
                        "version",
                        "interpreter_tag",
                        "abi",
                        "executable",
                        "prefix",
                        "base_prefix",
                    )
                )
            ),
            platform=Platform(
                system=self.text(plat, "system", "platform."),
                release=self.text(plat, "release", "platform."),
                machine=self.text(plat, "machine", "platform."),
                libc=libc,
                tags=self.strings(plat, "tags", "platform."),
            ),
            manager=Manager(
                name=self.text(man, "name", "manager."),
                version=self.text(man, "version", "manager.", optional=True),
                evidence=self.text(man, "evidence", "manager."),
            ),
            packages=tuple(sorted(packages, key=lambda p: p.name)),
            conda=tuple(sorted(conda, key=lambda c: (c.name, c.version, c.build))),
            indexes=Indexes(
                index_url=self.url(idx, "index_url", "indexes."),
                extra_index_urls=self.strings(idx, "extra_index_urls", "indexes.", urls=True),
                find_links=self.strings(idx, "find_links", "indexes.", urls=True),
                no_index=self.flag(idx, "no_index", "indexes."),
                trusted_hosts=self.strings(idx, "trusted_hosts", "indexes."),
                config_files=self.strings(idx, "config_files", "indexes."),
            ),
            declarations=tuple(sorted(decls, key=lambda d: d.path)),
            warnings=self.strings(top, "warnings", ""),
        )
        computed = fingerprint(snap.to_dict())
        if computed != recorded:
            raise self.fail(
                "fingerprint",
                f"recorded {recorded[:12]}… but the contents give {computed[:12]}…; the file was edited or damaged",
            )
        return snap

    def package(self, value: Any, where: str) -> Package:
        p = self.obj(value, where)
        name = self.text(p, "name", f"{where}.")
        if not _NAME_RE.fullmatch(name):
            raise self.fail(f"{where}.name", f"{name!r} is not a normalized (PEP 503) project name")
        installer = p.get("installer")
        return Package(
            name=name,
            version=self.token(p, "version", f"{where}."),
            installer=self.text(p, "installer", f"{where}.", optional=True) if installer is not None else None,
            requested=self.flag(p, "requested", f"{where}."),
            provenance=self.provenance(p.get("provenance"), f"{where}.provenance"),
        )

    def provenance(self, value: Any, where: str) -> Provenance:
        v = self.obj(value, where)
        kind = v.get("kind")
        if kind not in _KINDS:
            raise self.fail(f"{where}.kind", f"expected one of {', '.join(_KINDS)}, got {kind!r}")
        w = f"{where}."
        vcs = self.token(v, "vcs", w, optional=True)
        if kind == "vcs" and vcs is None:
            raise self.fail(f"{where}.vcs", "a vcs provenance names its version control system")
        return Provenance(
            kind=kind,
            url=self.url(v, "url", w, optional=kind in ("index", "unknown")),
            vcs=vcs,
            commit_id=self.token(v, "commit_id", w, optional=True),
            requested_revision=self.token(v, "requested_revision", w, optional=True),
            editable=self.flag(v, "editable", w),
            hash=self.token(v, "hash", w, optional=True),
            subdirectory=self.token(v, "subdirectory", w, optional=True),
        )

    def conda(self, value: Any, where: str) -> CondaPackage:
        c = self.obj(value, where)
        w = f"{where}."
        fields = {}
        for key, pattern in CONDA_FIELD_RES.items():
            text = self.text(c, key, w)
            if not pattern.fullmatch(text):
                raise self.fail(f"{w}{key}", f"{text!r} is not a conda package {key}")
            fields[key] = text
        return CondaPackage(**fields, channel=self.url(c, "channel", w))


# -- rendering ------------------------------------------------------------------------------


def _numeric_python(snap: Snapshot) -> str:
    match = re.match(r"\d+\.\d+(?:\.\d+)?", snap.python.version)
    return match.group(0) if match else snap.python.version


def _strip_redacted_credentials(url: str) -> tuple[str, bool]:
    """``url`` without a userinfo part that holds ``***`` (pip then asks keyring or .netrc)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" in parts.netloc and "***" in parts.netloc.rsplit("@", 1)[0]:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), True
    return url, False


def _pin(p: Package) -> tuple[Optional[str], str]:
    """``(requirement line or None, comment)`` pinning one package for pip."""
    v = p.provenance
    if v.kind == "vcs" and v.url:
        url, stripped = _strip_redacted_credentials(v.url)
        ref = v.commit_id or v.requested_revision
        line = f"{p.name} @ {v.vcs}+{url}" + (f"@{ref}" if ref else "")
        if v.subdirectory:
            line += f"#subdirectory={v.subdirectory}"
        return line, "credentials removed; pip asks keyring or .netrc" if stripped else ""
    if v.kind == "archive" and v.url and not v.url.startswith("file:"):
        url, stripped = _strip_redacted_credentials(v.url)
        if v.hash and "#" not in url:
            url += f"#{v.hash}"
        return f"{p.name} @ {url}", "credentials removed; pip asks keyring or .netrc" if stripped else ""
    if v.kind == "directory":
        how = "installed editable from" if v.editable else "installed from the local folder"
        return None, f"{p.name}=={p.version}: {how} {v.url}, which other machines do not have"
    if v.kind == "archive":
        return None, f"{p.name}=={p.version}: installed from the local file {v.url}, which other machines do not have"
    if v.kind == "unknown":
        return f"{p.name}=={p.version}", "its direct_url.json was unreadable: the source may differ"
    return f"{p.name}=={p.version}", ""


def _requirements(snap: Snapshot) -> str:
    lines = [
        f"# Pinned by envkit {snap.envkit_version} from the environment {snap.fingerprint[:12]}",
        f"# {snap.python.describe()} on {snap.platform.describe()}, captured {snap.captured_at}.",
    ]
    idx = snap.indexes
    if idx.index_url or idx.extra_index_urls or idx.find_links:
        lines.append("# The environment's pip was configured with (add them to your pip configuration if needed):")
        lines.extend(f"#   --index-url {_strip_redacted_credentials(u)[0]}" for u in filter(None, [idx.index_url]))
        lines.extend(f"#   --extra-index-url {_strip_redacted_credentials(u)[0]}" for u in idx.extra_index_urls)
        lines.extend(f"#   --find-links {_strip_redacted_credentials(u)[0]}" for u in idx.find_links)
    for p in snap.packages:
        if p.name in TOOLING:
            continue
        line, note = _pin(p)
        if line is None:
            lines.append(f"# {note}")
        else:
            lines.append(f"{line}  # {note}" if note else line)
    return "\n".join(lines) + "\n"


def _pip_lines(snap: Snapshot, *, skip_conda_installed: bool) -> list[str]:
    out = []
    for p in snap.packages:
        if p.name in TOOLING or (skip_conda_installed and p.installer == "conda"):
            continue
        line, _ = _pin(p)
        if line is not None:
            out.append(line)
    return out


_YAML_SPECIAL = re.compile(
    r"(?i)(?:~|null|true|false|yes|no|on|off|y|n|[-+]?(?:\d[\d_]*)?\.?\d[\d_]*(?:e[-+]?\d+)?|[-+]?\.inf|\.nan"
    r"|0x[0-9a-f_]+|0o?[0-7_]+|\d{4}-\d\d?-\d\d?.*|[-+]?\d[\d_]*(?::[0-5]?\d)+(?:\.\d*)?)"
)


def _yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when PyYAML would write it plain, else single-quoted."""
    plain = (
        text
        and text == text.strip()
        and text[0] not in "!&*{}[],#|>'\"%@`?:"
        and not text.startswith("- ")
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and text.isascii()
        and text.isprintable()
        and not _YAML_SPECIAL.fullmatch(text)
    )
    return text if plain else "'" + text.replace("'", "''") + "'"


def _build_dependencies(snap: Snapshot) -> list[str]:
    out = []
    for name in ("pip", "setuptools", "wheel"):
        p = snap.package(name)
        out.append(f"{name}=={p.version}" if p else name)
    return out


def _python_env(snap: Snapshot) -> str:
    lines = [f"python: {_yaml_scalar(_numeric_python(snap))}", "build_dependencies:"]
    lines.extend(f"- {_yaml_scalar(d)}" for d in _build_dependencies(snap))
    lines.extend(["dependencies:", "- -r requirements.txt"])
    return "\n".join(lines) + "\n"


def conda_parts(snap: Snapshot) -> tuple[list[str], list[str]]:
    """The channels of ``conda.yaml`` (the conda packages' own, else conda-forge) and its
    ``pip:`` lines (every package conda did not install, pinned)."""
    channels = list(dict.fromkeys(c.channel for c in snap.conda if c.channel)) or ["conda-forge"]
    return channels, _pip_lines(snap, skip_conda_installed=bool(snap.conda))


def _conda_yaml(snap: Snapshot) -> str:
    channels, pip_lines = conda_parts(snap)
    deps = [f"python={_numeric_python(snap)}"]
    deps.extend(f"{c.name}={c.version}={c.build}" for c in snap.conda if c.name not in ("python", "pip"))
    pip = snap.package("pip")
    deps.append(f"pip<={pip.version}" if pip else "pip")
    lines = ["channels:"]
    lines.extend(f"- {_yaml_scalar(c)}" for c in channels)
    lines.append("dependencies:")
    lines.extend(f"- {_yaml_scalar(d)}" for d in deps)
    if pip_lines:
        lines.append("- pip:")
        lines.extend(f"  - {_yaml_scalar(d)}" for d in pip_lines)
    else:
        lines.append("- pip: []")
    lines.append("name: mlflow-env")
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _local_path(url: str) -> Optional[str]:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return unquote(parts.path) if parts.scheme == "file" else None


def _pylock(snap: Snapshot) -> str:
    """A PEP 751 lock of the snapshot (written here: envkit has no pylock format module yet).

    Direct packages are complete (``[packages.vcs]``, ``[packages.directory]``,
    ``[packages.archive]``). Packages from an index carry name, version and index only:
    an installed environment keeps neither the wheel's URL nor its hash, which PEP 751's
    ``[[packages.wheels]]`` requires, so those entries need a locker to complete them.
    """
    idx = snap.indexes.index_url or "https://pypi.org/simple"
    index, _ = _strip_redacted_credentials(idx)
    py = _numeric_python(snap)
    lines = [
        f"# Locked by envkit {snap.envkit_version} from the environment {snap.fingerprint[:12]}",
        f"# {snap.python.describe()} on {snap.platform.describe()}, captured {snap.captured_at}.",
        "# Packages from an index have no [[packages.wheels]]: an installed environment keeps no",
        "# wheel URL or hash. Complete them with a locker (pip lock -r requirements.txt).",
        'lock-version = "1.0"',
        f"requires-python = {_toml_string('==' + py)}",
        'created-by = "envkit"',
    ]
    for p in snap.packages:
        if p.name in TOOLING:
            continue
        v = p.provenance
        lines.extend(["", "[[packages]]", f"name = {_toml_string(p.name)}"])
        if v.kind not in ("vcs", "directory"):  # PEP 751: no version for a source tree
            lines.append(f"version = {_toml_string(p.version)}")
        if v.kind == "vcs" and v.url:
            url, _ = _strip_redacted_credentials(v.url)
            lines.extend(["", "[packages.vcs]", f"type = {_toml_string(v.vcs or 'git')}", f"url = {_toml_string(url)}"])
            if v.requested_revision:
                lines.append(f"requested-revision = {_toml_string(v.requested_revision)}")
            lines.append(f"commit-id = {_toml_string(v.commit_id or '')}")
        elif v.kind == "directory" and v.url:
            lines.extend(["", "[packages.directory]", f"path = {_toml_string(_local_path(v.url) or v.url)}"])
            lines.append(f"editable = {'true' if v.editable else 'false'}")
        elif v.kind == "archive" and v.url:
            where = _local_path(v.url)
            url, _ = _strip_redacted_credentials(v.url)
            lines.extend(["", "[packages.archive]"])
            lines.append(f"path = {_toml_string(where)}" if where else f"url = {_toml_string(url)}")
            if v.hash:
                algo, _, digest = v.hash.partition("=")
                lines.append(f"hashes = {{{algo} = {_toml_string(digest)}}}")
        else:
            lines.append(f"index = {_toml_string(index)}")
        if v.subdirectory and v.kind != "index":
            lines.append(f"subdirectory = {_toml_string(v.subdirectory)}")
    return "\n".join(lines) + "\n"


def render(snap: Snapshot) -> dict[str, str]:
    """The files that record ``snap``: file name -> text.

    ``snapshot.json`` (the schema), a pinned ``requirements.txt`` (``name==version``; VCS
    pinned to its commit; editables and local paths as comments saying why), MLflow's
    ``conda.yaml`` and ``python_env.yaml`` in the shape MLflow writes for logged models,
    and ``pylock.toml`` (PEP 751; see :func:`_pylock` for its limit).
    """
    return {
        "snapshot.json": _probe.dumps(snap.to_dict()),
        "requirements.txt": _requirements(snap),
        "conda.yaml": _conda_yaml(snap),
        "python_env.yaml": _python_env(snap),
        "pylock.toml": _pylock(snap),
    }


def write(snap: Snapshot, directory: str | os.PathLike[str]) -> list[Path]:
    """Write :func:`render`'s files into ``directory`` (created if needed), each atomically."""
    from pathlib import Path

    from ._io import atomic_write

    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise EnvkitError(f"{folder}: exists and is not a folder")
    written = []
    for name, text in render(snap).items():
        try:
            atomic_write(folder / name, text)
        except OSError as exc:
            raise EnvkitError(f"{folder / name}: cannot write: {exc.strerror or exc}") from None
        written.append(folder / name)
    return written


# -- references (runs:/...) -----------------------------------------------------------------

#: Prefix -> resolver: a callable taking the whole reference and returning a
#: :class:`Snapshot`, or ``"module:function"`` imported on first use. The MLflow support
#: provides ``runs:/<run_id>``; :func:`register_resolver` adds others.
RESOLVERS: dict[str, Union[str, Resolver]] = {"runs:/": "envkit.tracking.mlflow:snapshot_from_run"}


def register_resolver(prefix: str, resolver: Union[str, Resolver]) -> None:
    """Make :func:`diff` (and ``envkit diff``) accept references starting with ``prefix``."""
    RESOLVERS[prefix] = resolver


def _resolver_for(reference: str) -> Optional[tuple[str, Union[str, Resolver]]]:
    for prefix in sorted(RESOLVERS, key=len, reverse=True):
        if reference.startswith(prefix):
            return prefix, RESOLVERS[prefix]
    return None


def resolve(reference: str) -> Snapshot:
    """The snapshot a reference such as ``runs:/<run_id>`` names, through :data:`RESOLVERS`."""
    found = _resolver_for(reference)
    if found is None:
        raise EnvkitError(f"{reference}: no resolver for this kind of reference (known: {', '.join(RESOLVERS)})")
    prefix, resolver = found
    if isinstance(resolver, str):
        import importlib

        module_name, _, attr = resolver.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise EnvkitError(
                f"{reference}: reading {prefix} references needs {module_name}, which cannot be imported ({exc}); "
                "for MLflow runs install envkit with its mlflow extra: pip install 'envkit[mlflow]'"
            ) from None
        resolver = getattr(module, attr)
    result = resolver(reference)
    if not isinstance(result, Snapshot):
        raise EnvkitError(f"{reference}: the {prefix} resolver returned {type(result).__name__}, not a Snapshot")
    return result


# -- diff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a diff: a snapshot, or a declaration read as a set of pinned packages."""

    label: str
    kind: Literal["snapshot", "declaration"]
    packages: tuple[Package, ...]
    conda: tuple[CondaPackage, ...] = ()
    python: Optional[Python] = None
    platform: Optional[Platform] = None
    fingerprint: Optional[str] = None
    #: Declared packages without an exact pin (name -> specifier), not compared by version.
    unpinned: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, snap: Snapshot, label: str) -> Side:
        return cls(label, "snapshot", snap.packages, snap.conda, snap.python, snap.platform, snap.fingerprint)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "fingerprint": self.fingerprint,
            "python": _python_dict(self.python),
            "platform": _platform_dict(self.platform),
            "packages": len([p for p in self.packages if p.name not in TOOLING]),
            "unpinned": [{"name": n, "specifier": s} for n, s in self.unpinned],
        }


def _python_dict(py: Optional[Python]) -> Optional[dict[str, str]]:
    return None if py is None else {"implementation": py.implementation, "version": py.version, "abi": py.abi}


def _platform_dict(plat: Optional[Platform]) -> Optional[dict[str, str]]:
    return None if plat is None else {"system": plat.system, "machine": plat.machine}


@dataclass(frozen=True)
class PackageChange:
    """A package present on one side only, or on both sides with different essentials."""

    name: str
    change: Literal["added", "removed", "changed"]
    a: Optional[Package] = None
    b: Optional[Package] = None
    #: ``major``, ``minor``, ``patch`` or ``other`` (pre/post/dev/local, epoch, unparsable);
    #: ``None`` when the versions are equal or a side is missing.
    version_change: Optional[str] = None
    #: ``upgrade`` or ``downgrade``; ``None`` when not comparable.
    direction: Optional[str] = None
    #: A phrase when the provenance differs (``git commit moved 1a2b3c4 → 5d6e7f8``).
    provenance: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "change": self.change,
            "a": _package_dict(self.a) if self.a else None,
            "b": _package_dict(self.b) if self.b else None,
            "version_change": self.version_change,
            "direction": self.direction,
            "provenance": self.provenance,
        }


@dataclass(frozen=True)
class CondaChange:
    name: str
    change: Literal["added", "removed", "changed"]
    a: Optional[CondaPackage] = None
    b: Optional[CondaPackage] = None

    def to_dict(self) -> dict[str, Any]:
        def one(c: Optional[CondaPackage]) -> Optional[dict[str, Any]]:
            return None if c is None else {"version": c.version, "build": c.build, "channel": c.channel}

        return {"name": self.name, "change": self.change, "a": one(self.a), "b": one(self.b)}


@dataclass(frozen=True)
class SnapshotDiff:
    """What differs between two environments, in the terms of the fingerprint."""

    a: Side
    b: Side
    python: Optional[tuple[Python, Python]] = None
    platform: Optional[tuple[Platform, Platform]] = None
    packages: tuple[PackageChange, ...] = ()
    conda: tuple[CondaChange, ...] = ()

    @property
    def same(self) -> bool:
        return not (self.python or self.platform or self.packages or self.conda)

    def count(self, change: str) -> int:
        return sum(c.change == change for c in self.packages) + sum(c.change == change for c in self.conda)

    def to_dict(self) -> dict[str, Any]:
        """The ``envkit.diff/1`` JSON form (``envkit diff --json``)::

        schema     "envkit.diff/1"
        same       true when nothing below differs (for two snapshots: equal fingerprints)
        a, b       label, kind ("snapshot" or "declaration"), fingerprint, python
                   ({implementation, version, abi} or null), platform ({system, machine}
                   or null), packages (count, pip left out), unpinned ([{name, specifier}]:
                   declared without an exact pin, not compared)
        python     {a, b} when both sides know it and it differs, else null
        platform   {a, b} likewise
        packages   sorted by name: name, change ("added", "removed", "changed"), a, b (the
                   package as in a snapshot, or null), version_change ("major", "minor",
                   "patch", "other" or null), direction ("upgrade", "downgrade" or null),
                   provenance (a phrase when the provenance differs, else null)
        conda      name, change, a, b ({version, build, channel} or null)
        """
        return {
            "schema": DIFF_SCHEMA,
            "same": self.same,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "python": None
            if self.python is None
            else {"a": _python_dict(self.python[0]), "b": _python_dict(self.python[1])},
            "platform": None
            if self.platform is None
            else {"a": _platform_dict(self.platform[0]), "b": _platform_dict(self.platform[1])},
            "packages": [c.to_dict() for c in self.packages],
            "conda": [c.to_dict() for c in self.conda],
        }


def version_change(a: str, b: str) -> tuple[Optional[str], Optional[str]]:
    """``(size, direction)`` of a move from version ``a`` to ``b`` (PEP 440)."""
    from packaging.version import InvalidVersion, Version

    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return ("other", None) if a != b else (None, None)
    if va == vb:
        return None, None
    direction = "upgrade" if vb > va else "downgrade"
    if va.epoch != vb.epoch:
        return "other", direction
    ra, rb = (*va.release, 0, 0, 0), (*vb.release, 0, 0, 0)
    for size, i in (("major", 0), ("minor", 1), ("patch", 2)):
        if ra[i] != rb[i]:
            return size, direction
    return "other", direction


def _provenance_change(a: Provenance, b: Provenance) -> Optional[str]:
    if a.essentials() == b.essentials():
        return None
    if a.kind == b.kind == "vcs" and a.vcs == b.vcs:
        return f"{a.vcs} commit moved {(a.commit_id or '?')[:12]} → {(b.commit_id or '?')[:12]}"
    if a.kind == b.kind == "archive":
        if a.hash and b.hash:
            return f"archive hash {a.short_hash()} → {b.short_hash()}"
        return f"archive {a.hash or a.url} → {b.hash or b.url}"
    return f"{a.describe()} → {b.describe()}"


def _differs(x: Package, y: Package) -> bool:
    """Whether two packages differ; a version a declaration does not state (a direct URL
    without a pin) is not compared."""
    if x.version and y.version:
        return x.essentials() != y.essentials()
    return x.provenance.essentials() != y.provenance.essentials()


def _compare(a: Side, b: Side) -> SnapshotDiff:
    pa = {p.name: p for p in a.packages if p.name not in TOOLING}
    pb = {p.name: p for p in b.packages if p.name not in TOOLING}
    unpinned = {n for n, _ in a.unpinned} | {n for n, _ in b.unpinned}
    changes = []
    for name in sorted(pa.keys() | pb.keys()):
        if name in unpinned and (name in pa) != (name in pb):
            continue  # declared without a pin on one side: no version to compare
        x, y = pa.get(name), pb.get(name)
        if x is None:
            changes.append(PackageChange(name, "added", b=y))
        elif y is None:
            changes.append(PackageChange(name, "removed", a=x))
        elif _differs(x, y):
            size, direction = version_change(x.version, y.version) if x.version and y.version else (None, None)
            changes.append(
                PackageChange(name, "changed", x, y, size, direction, _provenance_change(x.provenance, y.provenance))
            )
    ca = {c.name: c for c in a.conda}
    cb = {c.name: c for c in b.conda}
    conda_changes = []
    for name in sorted(ca.keys() | cb.keys()):
        x2, y2 = ca.get(name), cb.get(name)
        if x2 is None:
            conda_changes.append(CondaChange(name, "added", b=y2))
        elif y2 is None:
            conda_changes.append(CondaChange(name, "removed", a=x2))
        elif x2.essentials() != y2.essentials():
            conda_changes.append(CondaChange(name, "changed", x2, y2))
    python = None
    if a.python and b.python:
        ka = (a.python.implementation, a.python.version, a.python.abi)
        kb = (b.python.implementation, b.python.version, b.python.abi)
        python = (a.python, b.python) if ka != kb else None
    platform = None
    if a.platform and b.platform and a.platform.describe() != b.platform.describe():
        platform = (a.platform, b.platform)
    return SnapshotDiff(a, b, python, platform, tuple(changes), tuple(conda_changes))


def _vcs_provenance(url: str) -> Provenance:
    """``git+https://host/repo@rev#subdirectory=x`` as a provenance (``rev`` taken as the commit)."""
    from urllib.parse import urlsplit, urlunsplit

    vcs, _, rest = url.partition("+")
    parts = urlsplit(rest)
    path, rev = parts.path, None
    if "@" in path:
        path, _, rev = path.rpartition("@")
    sub = re.search(r"(?:^|&)subdirectory=([^&]+)", parts.fragment)
    return Provenance(
        kind="vcs",
        url=redact(urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))),
        vcs=vcs.lower(),
        commit_id=rev,
        subdirectory=sub.group(1) if sub else None,
    )


def _side_from_declaration(path: str) -> Side:
    """A declaration read by :func:`envkit.load` as the set of packages it pins exactly."""
    from . import load

    env = load(path)
    packages: dict[str, Package] = {}
    unpinned: list[tuple[str, str]] = []
    for dep in env.dependencies:
        if not dep.key:
            continue
        pins = [s.version for s in dep.specifier if s.operator in ("==", "===") and "*" not in s.version]
        version = pins[0] if len(pins) == 1 and len(dep.specifier) == 1 else None
        url = dep.url or ""
        if dep.editable:
            prov = Provenance(kind="directory", url=redact(url) if url else dep.path, editable=True)
        elif dep.is_vcs:
            prov = _vcs_provenance(url)
        elif url or dep.path:
            location = url or dep.path or ""
            local = location.startswith("file:") or not re.match(r"[a-z][a-z0-9+.-]*://", location)
            is_archive = bool(re.search(r"\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar\.xz|tar)(?:#|$)", location))
            fragment = re.search(r"#(sha256|sha384|sha512|md5)=([0-9a-fA-F]+)", location)
            if is_archive:
                prov = Provenance(
                    kind="archive",
                    url=redact(location.split("#")[0]),
                    hash=f"{fragment.group(1)}={fragment.group(2).lower()}" if fragment else None,
                )
            else:
                prov = Provenance(kind="directory", url=redact(location) if not local else location)
        else:
            prov = Provenance()
        if version is None and prov.kind == "index":
            unpinned.append((dep.key, str(dep.specifier)))
            continue
        packages.setdefault(dep.key, Package(dep.key, version or "", provenance=prov))
    return Side(path, "declaration", tuple(packages[k] for k in sorted(packages)), unpinned=tuple(sorted(unpinned)))


def _looks_like_snapshot(path: str) -> Optional[Any]:
    if os.path.isdir(path):
        inner = os.path.join(path, "snapshot.json")
        if os.path.isfile(inner):
            return _read_json(inner)
        raise EnvkitError(f"{path}: a folder without snapshot.json")
    if not path.endswith(".json") or os.path.basename(path) == "Pipfile.lock":
        return None
    data = _read_json(path)
    if isinstance(data, dict) and str(data.get("schema", "")).startswith("envkit.snapshot/"):
        return data
    return None


def side(value: SnapshotLike, label: Optional[str] = None) -> Side:
    """A diff side from a :class:`Snapshot`, a snapshot file or folder, a reference such as
    ``runs:/<id>`` (see :data:`RESOLVERS`), or any declaration :func:`envkit.load` reads."""
    if isinstance(value, Snapshot):
        return Side.of(value, label or "snapshot")
    name = os.fspath(value)
    if _resolver_for(name) is not None:
        return Side.of(resolve(name), label or name)
    data = _looks_like_snapshot(name)
    if data is not None:
        origin = os.path.join(name, "snapshot.json") if os.path.isdir(name) else name
        return Side.of(Snapshot.from_dict(data, origin=origin), label or name)
    return _side_from_declaration(name)


def diff(a: SnapshotLike, b: SnapshotLike) -> SnapshotDiff:
    """What changed from environment ``a`` to environment ``b`` (see :func:`side` for inputs)."""
    return _compare(side(a), side(b))
