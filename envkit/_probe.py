"""Describe the environment of the interpreter this runs in: the capture script.

Self-contained on purpose: standard library only, Python 3.8+, nothing of envkit imported,
so it runs in any interpreter, and imported in-process it describes the running one::

    python -I envkit/_probe.py [--project DIR] [--envkit-version V]   envkit.snapshot/1 JSON
    python -I envkit/_probe.py --raw                                  the raw capture

:func:`capture` gathers raw facts (URLs as found, credentials included). :func:`to_schema`
turns them into the ``envkit.snapshot/1`` data that :mod:`envkit.snapshot` documents and
validates: names normalized, lists sorted, every URL passed through :func:`redact`,
declaration files hashed, and the :func:`fingerprint` computed. Both live here so that the
probed interpreter redacts before anything leaves it, and so that ``envkit snapshot
--json`` can run without importing anything heavy (:func:`cli_json`).

Raw capture (``"probe": 1``)::

    python        implementation, implementation_version, version, interpreter_tag, abi,
                  executable, prefix, base_prefix
    platform      system, release, machine, libc ([name, version] or null), tags
    manager       name (conda, uv, poetry, pipenv, virtualenv, venv, system), version, evidence
    distributions name (as written in the metadata folder), version, installer, requested,
                  direct_url (PEP 610 JSON as found; {"error": ...} when unreadable),
                  editable_link (legacy .egg-link target, or null)
    conda         name, version, build, channel (from <prefix>/conda-meta/*.json)
    pip           index_url, extra_index_urls, find_links, no_index, trusted_hosts,
                  config_files (what pip would read, in pip's order)

Speed: distributions are found by listing each ``sys.path`` folder once; each metadata
folder is then read by opening its small files directly (a failed open means absent),
which costs a fraction of listing every folder or of ``importlib.metadata`` (a finder and
an e-mail parse per distribution). Name and version come from the folder name
(``name-version.dist-info``: the wheel spec escapes both so neither holds a ``-``);
METADATA is read only when the folder name cannot tell (legacy names, escaped versions,
``.egg-info``). conda records are named ``name-version-build.json``; only the head of
each is read, for its channel. ``typing`` and ``dataclasses`` are never imported.

Platform tags are computed without ``packaging``: the interpreter's platform from
``sysconfig.get_platform()`` (``linux-x86_64``, ``macosx-11.0-arm64``, ``win-amd64``),
and on Linux the C library from ``os.confstr("CS_GNU_LIBC_VERSION")``. The list is short,
most specific first, in ``packaging.tags`` order: ``linux_<arch>`` (a wheel built on this
machine) then, on glibc, ``manylinux_<major>_<minor>_<arch>`` (the newest manylinux tag
this machine accepts; every older one fits too); on musl only ``linux_<arch>`` (its
version needs running the loader); on macOS ``macosx_<os version>_<arch>`` then the
interpreter's deployment target; elsewhere the platform with ``-`` and ``.`` as ``_``.
"""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than this module
if TYPE_CHECKING:  # pragma: no cover - typing only, never imported at run time
    from collections.abc import Iterator, Mapping
    from typing import Any, Optional

__all__ = ["capture", "cli_json", "dumps", "fingerprint", "main", "redact", "to_schema"]

PROBE_VERSION = 1

#: How much of a conda record is read to find its channel (the rest lists every file).
_CONDA_HEAD = 16384

_SEPARATORS = re.compile(r"[-_.]+")

#: Values pip reads as true for flag options (``no-index = yes``).
_TRUE = ("1", "true", "yes", "on", "y", "t")


def capture(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """The running interpreter's environment as plain JSON-ready data (see the module doc)."""
    env = os.environ if environ is None else environ
    system, release, machine = _uname()
    libc = _libc(system)
    return {
        "probe": PROBE_VERSION,
        "python": _python(),
        "platform": {
            "system": system,
            "release": release,
            "machine": machine,
            "libc": list(libc) if libc else None,
            "tags": _platform_tags(system, machine, libc),
        },
        "manager": _manager(sys.prefix, sys.base_prefix, env),
        "distributions": _distributions(_search_path()),
        "conda": _conda(sys.prefix),
        "pip": _pip(env),
    }


def main(argv: Optional[list[str]] = None) -> int:
    """The script: print this interpreter's snapshot data (or ``--raw`` capture) as JSON.

    ASCII only, so no locale can break the pipe. Exit status 2 on bad arguments.
    """
    import json

    args = sys.argv[1:] if argv is None else list(argv)
    raw, project, version = False, None, ""
    while args:
        arg = args.pop(0)
        if arg == "--raw":
            raw = True
        elif arg in ("--project", "--envkit-version") and args:
            project, version = (args.pop(0), version) if arg == "--project" else (project, args.pop(0))
        else:
            sys.stderr.write(f"_probe.py: unknown argument {arg!r}\n")
            return 2
    try:
        data = capture() if raw else to_schema(capture(), project, version)
    except OSError as exc:
        sys.stderr.write(f"cannot read {exc.filename or project}: {exc.strerror or exc}\n")
        return 1
    sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")
    return 0


def cli_json(args: list[str], envkit_version: str) -> Optional[int]:
    """``envkit snapshot --json [--project DIR]`` for this interpreter, without click.

    Prints what the full command prints and returns the exit status, or returns ``None``
    (having printed nothing) when ``args`` ask for anything else (``--python``, ``-o``,
    ``--help``...), for the full command line to handle.
    """
    project, as_json, rest = ".", False, list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--json":
            as_json = True
        elif arg == "--project" and rest:
            project = rest.pop(0)
        elif arg.startswith("--project="):
            project = arg.partition("=")[2]
        else:
            return None
    if not as_json or not os.path.isdir(project):
        return None
    try:
        data = to_schema(capture(), project, envkit_version)
    except OSError:
        return None  # let the full command say what went wrong
    sys.stdout.write(dumps(data))
    return 0


def dumps(data: Mapping[str, Any]) -> str:
    """Snapshot data as readable JSON, one top-level key and one list item per line.

    ``json.dumps(indent=...)`` falls back to the pure-Python encoder and costs more than
    the whole capture; each line here goes through the C encoder.
    """
    import json

    lines = []
    for key, value in data.items():
        head = f"  {json.dumps(key)}: "
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {json.dumps(item, ensure_ascii=False)}" for item in value)
            lines.append(f"{head}[\n{items}\n  ]")
        elif isinstance(value, dict) and value:
            items = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items())
            lines.append(f"{head}{{\n{items}\n  }}")
        else:
            lines.append(head + json.dumps(value, ensure_ascii=False))
    return "{\n" + ",\n".join(lines) + "\n}\n"


# -- python and platform --------------------------------------------------------------------


def _python() -> dict[str, Any]:
    impl = sys.implementation.name
    iv = sys.implementation.version
    impl_version = f"{iv.major}.{iv.minor}.{iv.micro}"
    if iv.releaselevel != "final":
        impl_version += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(iv.releaselevel, iv.releaselevel)
        impl_version += str(iv.serial)
    nodot = f"{sys.version_info[0]}{sys.version_info[1]}"
    short = {"cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy", "graalpy": "gp"}.get(impl, impl)
    return {
        "implementation": impl,
        "implementation_version": impl_version,
        "version": sys.version.split()[0],
        "interpreter_tag": short + nodot,
        "abi": _abi(impl, nodot),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
    }


def _abi(impl: str, nodot: str) -> str:
    """The ABI tag as wheels name it: ``cp311``, ``cp313t`` (free-threaded), ``pypy39_pp73``."""
    if impl == "cpython":
        flags = getattr(sys, "abiflags", None)
        if flags is None:  # Windows before 3.14 has no sys.abiflags
            import sysconfig

            flags = ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "") + (
                "d" if hasattr(sys, "gettotalrefcount") else ""
            )
        return f"cp{nodot}{flags}"
    import sysconfig

    soabi = sysconfig.get_config_var("SOABI")
    if soabi:
        return "_".join(soabi.split("-")[:2]).replace(".", "_")
    return "none"


def _uname() -> tuple[str, str, str]:
    if hasattr(os, "uname"):
        u = os.uname()
        return u.sysname, u.release, u.machine
    import platform

    return platform.system(), platform.release(), platform.machine()


def _libc(system: str) -> Optional[tuple[str, str]]:
    """``("glibc", "2.36")``, ``("musl", "")``, or ``None`` off Linux."""
    if system != "Linux":
        return None
    try:
        parts = (os.confstr("CS_GNU_LIBC_VERSION") or "").split()
    except (AttributeError, ValueError, OSError):
        parts = []
    if len(parts) == 2:
        return parts[0], parts[1]
    try:
        if any(name.startswith("ld-musl-") for name in os.listdir("/lib")):
            return "musl", ""
    except OSError:
        pass
    import platform

    name, version = platform.libc_ver()
    return (name, version) if name else None


def _platform_tags(system: str, machine: str, libc: Optional[tuple[str, str]]) -> list[str]:
    import sysconfig

    plat = sysconfig.get_platform()
    generic = plat.replace("-", "_").replace(".", "_").replace(" ", "_")
    if system == "Linux":
        arch = generic[len("linux_") :] if generic.startswith("linux_") else machine
        if sys.maxsize <= 2**32:  # a 32-bit interpreter on a 64-bit kernel
            arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
        tags = [f"linux_{arch}"]
        if libc and libc[0] == "glibc":
            major, _, minor = libc[1].partition(".")
            if major.isdigit() and minor.split(".")[0].isdigit():
                tags.append(f"manylinux_{major}_{minor.split('.')[0]}_{arch}")
        return tags
    if system == "Darwin":
        import platform

        arch = machine
        mac = platform.mac_ver()[0].split(".")
        tags = []
        if mac[0].isdigit():
            mac_major = int(mac[0])
            mac_minor = int(mac[1]) if mac_major == 10 and len(mac) > 1 and mac[1].isdigit() else 0
            tags.append(f"macosx_{mac_major}_{mac_minor}_{arch}")
        parts = plat.split("-")  # macosx-11.0-arm64: the interpreter's deployment target
        if len(parts) == 3:
            floor = f"macosx_{parts[1].replace('.', '_')}_{arch}"
            if floor not in tags:
                tags.append(floor)
        return tags or [generic]
    return [generic]


# -- which tool made the environment --------------------------------------------------------


def _read_cfg(path: str) -> dict[str, str]:
    """``key = value`` lines of a ``pyvenv.cfg`` (keys lower-cased); empty when absent."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return {}
    cfg = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            cfg[key.strip().lower()] = value.strip()
    return cfg


def _manager(prefix: str, base_prefix: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """Which tool made the environment, and the evidence, judged in this order.

    conda (``conda-meta/`` in the prefix); uv (``uv = x`` in ``pyvenv.cfg``); poetry (its
    virtualenvs folder ``<name>-<hash8>-py<X.Y>``, its default prompt ``<name>-py<X.Y>``, or
    an in-project ``.venv`` beside ``poetry.lock``); pipenv (its virtualenvs folder
    ``<name>-<hash8>``, an in-project ``.venv`` beside ``Pipfile``, or ``PIPENV_ACTIVE``
    with ``VIRTUAL_ENV`` naming this prefix); virtualenv (``virtualenv = x``); venv (a
    ``pyvenv.cfg`` otherwise); system (no virtual environment at all).
    """

    def found(name: str, evidence: str, version: Optional[str] = None) -> dict[str, Any]:
        return {"name": name, "version": version, "evidence": evidence}

    if os.path.isdir(os.path.join(prefix, "conda-meta")):
        return found("conda", "conda-meta/ in the prefix")
    cfg = _read_cfg(os.path.join(prefix, "pyvenv.cfg"))
    if not cfg:
        if os.path.realpath(prefix) == os.path.realpath(base_prefix):
            return found("system", "no pyvenv.cfg and sys.prefix is sys.base_prefix")
        return found("virtualenv", "sys.prefix differs from sys.base_prefix without pyvenv.cfg (legacy virtualenv)")
    if "uv" in cfg:
        return found("uv", f"pyvenv.cfg: uv = {cfg['uv']}", cfg["uv"] or None)
    folder = os.path.basename(os.path.normpath(prefix))
    parent_dir = os.path.dirname(os.path.normpath(prefix))
    parent = os.path.basename(parent_dir)
    prompt = cfg.get("prompt", "").strip("'\"")
    active = environ.get("VIRTUAL_ENV", "")
    here = bool(active) and os.path.normcase(os.path.normpath(active)) == os.path.normcase(os.path.normpath(prefix))
    if parent == "virtualenvs" and re.fullmatch(r".+-[A-Za-z0-9_-]{8}-py\d+\.\d+", folder):
        return found("poetry", f"poetry's virtualenvs folder name {folder}")
    if re.fullmatch(r".+-py\d+\.\d+", prompt):
        return found("poetry", f"pyvenv.cfg: prompt = {prompt} (poetry's default prompt)")
    beside = (
        os.path.isfile(os.path.join(parent_dir, "poetry.lock")),
        os.path.isfile(os.path.join(parent_dir, "Pipfile")),
    )
    if folder == ".venv" and beside == (True, False):
        return found("poetry", "in-project .venv beside poetry.lock")
    if parent == "virtualenvs" and re.fullmatch(r".+-[A-Za-z0-9_-]{8}", folder):
        return found("pipenv", f"pipenv's virtualenvs folder name {folder}")
    if folder == ".venv" and beside[1]:
        return found("pipenv", "in-project .venv beside Pipfile")
    if here and environ.get("PIPENV_ACTIVE") == "1":
        return found("pipenv", "PIPENV_ACTIVE=1 and VIRTUAL_ENV is this prefix")
    if here and environ.get("POETRY_ACTIVE") == "1":
        return found("poetry", "POETRY_ACTIVE=1 and VIRTUAL_ENV is this prefix")
    if "virtualenv" in cfg:
        return found("virtualenv", f"pyvenv.cfg: virtualenv = {cfg['virtualenv']}", cfg["virtualenv"] or None)
    return found("venv", "pyvenv.cfg without another tool's key: python -m venv")


# -- installed distributions ----------------------------------------------------------------


def _search_path() -> list[str]:
    """``sys.path`` folders in order, without duplicates, the current folder or the script's.

    ``''`` and the current directory are where the user happens to stand, not part of the
    environment (``python -I`` leaves them out too), so in-process and subprocess captures
    see the same folders.
    """
    try:
        cwd = os.path.normcase(os.getcwd())
    except OSError:
        cwd = ""
    seen = set()
    entries = []
    for entry in sys.path:
        if not entry:
            continue
        key = os.path.normcase(os.path.abspath(entry))
        if key in seen or (key == cwd and not key.endswith(("site-packages", "dist-packages"))):
            continue
        seen.add(key)
        entries.append(entry)
    return entries


def _read_text(path: str, limit: int = -1) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return None


def _read_small(path: str, limit: int = 1 << 20) -> Optional[str]:
    """The start of a small file through bare ``os.open``/``os.read`` (no buffered text
    layer: this runs for every distribution), or ``None`` when there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        size = 0
        while size < limit:
            chunk = os.read(fd, min(65536, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def _headers(path: str) -> dict[str, str]:
    """``Name`` and ``Version`` from a METADATA / PKG-INFO file (its header block only)."""
    out: dict[str, str] = {}
    text = _read_small(path, 8192)
    for attempt in (0, 1):
        for line in (text or "").splitlines():
            if not line.strip():
                break
            key, sep, value = line.partition(":")
            if sep and key in ("Name", "Version") and key not in out:
                out[key] = value.strip()
        if len(out) == 2 or attempt or text is None or len(text) < 8192:
            break
        text = _read_small(path)
    return out


def _distribution(folder: str, name: str, version: Optional[str], is_dir: bool) -> dict[str, Any]:
    """One metadata folder (or legacy ``.egg-info`` file) as plain data.

    Each small file is opened directly (a failed open means absent): listing every
    metadata folder costs several times more on common filesystems.
    """
    if version is None or not name:
        meta = folder + os.sep + ("METADATA" if folder.endswith(".dist-info") else "PKG-INFO")
        headers = _headers(meta if is_dir else folder)
        name = headers.get("Name") or name
        version = headers.get("Version") or version
    installer = requested = direct_url = None
    if is_dir:
        installer = (_read_small(folder + os.sep + "INSTALLER", 256) or "").strip() or None
        requested = os.path.exists(folder + os.sep + "REQUESTED")
        text = _read_small(folder + os.sep + "direct_url.json")
        if text is not None:
            import json

            try:
                direct_url = json.loads(text)
            except ValueError as exc:
                direct_url = {"error": f"direct_url.json is not valid JSON: {exc}"}
    return {
        "name": name,
        "version": version,
        "installer": installer,
        "requested": bool(requested),
        "direct_url": direct_url,
        "editable_link": None,
    }


def _split_stem(stem: str) -> tuple[Optional[str], Optional[str]]:
    """``(name, version)`` from ``name-version``; ``None`` where the folder name cannot tell."""
    parts = stem.split("-")
    if len(parts) == 2 and parts[0] and parts[1] and "_" not in parts[1]:
        return parts[0], parts[1]
    if len(parts) >= 2 and parts[0]:  # name-version-pyX.Y.egg-info and other legacy forms
        return parts[0], None
    return (stem or None), None


def _normalize(name: str) -> str:
    return _SEPARATORS.sub("-", name).lower()


def _iter_entry(entry: str) -> Iterator[tuple[str, str, bool]]:
    """``(kind, name, is_dir)`` of each metadata folder or egg-link in one ``sys.path`` folder."""
    try:
        scan = os.scandir(entry)
    except OSError:  # missing, a zip file, unreadable
        return
    with scan:
        for item in scan:
            name = item.name
            if name.endswith(".dist-info"):
                yield "dist-info", name, True
            elif name.endswith(".egg-info"):
                try:
                    is_dir = item.is_dir()
                except OSError:
                    continue
                yield "egg-info", name, is_dir
            elif name.endswith(".egg-link"):
                yield "egg-link", name, False


def _distributions(entries: list[str]) -> list[dict[str, Any]]:
    """Every distribution on the path, the first of each normalized name winning (as imports do)."""
    found: dict[str, dict[str, Any]] = {}
    links: dict[str, str] = {}
    for entry in entries:
        for kind, name, is_dir in _iter_entry(entry):
            if kind == "egg-link":
                link = (_read_small(os.path.join(entry, name), 4096) or "").splitlines()
                if link and link[0].strip():
                    links.setdefault(_normalize(name[: -len(".egg-link")]), link[0].strip())
                continue
            stem = name[: -len(".dist-info")] if kind == "dist-info" else name[: -len(".egg-info")]
            dist_name, version = _split_stem(stem)
            if dist_name is not None and _normalize(dist_name) in found:
                continue
            dist = _distribution(entry + os.sep + name, dist_name or "", version, is_dir)
            if not dist["name"]:
                continue
            found.setdefault(_normalize(dist["name"]), dist)
    for key, target in links.items():
        if key in found and found[key]["direct_url"] is None:
            found[key]["editable_link"] = target
    return list(found.values())


# -- conda ----------------------------------------------------------------------------------


def _conda(prefix: str) -> list[dict[str, Any]]:
    """conda packages of ``prefix`` from ``conda-meta/<name>-<version>-<build>.json``."""
    folder = os.path.join(prefix, "conda-meta")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    channel_re = re.compile(r'"channel"\s*:\s*"((?:[^"\\]|\\.)*)"')
    packages = []
    for file in names:
        if not file.endswith(".json"):
            continue
        parts = file[: -len(".json")].rsplit("-", 2)
        if len(parts) != 3:
            continue
        head = _read_text(os.path.join(folder, file), _CONDA_HEAD) or ""
        match = channel_re.search(head)
        if match is None and len(head) >= _CONDA_HEAD:
            match = channel_re.search(_read_text(os.path.join(folder, file)) or "")
        packages.append(
            {"name": parts[0], "version": parts[1], "build": parts[2], "channel": match.group(1) if match else None}
        )
    return packages


# -- pip configuration ----------------------------------------------------------------------


def _pip_files(environ: Mapping[str, str]) -> list[str]:
    """The configuration files pip would load, in pip's override order (later wins)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:  # pip loads no file at all then
        return []
    home = os.path.expanduser("~")
    name = "pip.ini" if sys.platform == "win32" else "pip.conf"
    files: list[str] = []
    if sys.platform == "win32":
        files.append(os.path.join(environ.get("ALLUSERSPROFILE", r"C:\ProgramData"), "pip", name))
    elif sys.platform == "darwin":
        files.append(os.path.join("/Library/Application Support/pip", name))
    else:
        xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files.extend(os.path.join(d, "pip", name) for d in xdg_dirs.split(os.pathsep) if d)
        files.append(os.path.join("/etc", name))
    if not (env_file and os.path.exists(env_file)):
        files.append(os.path.join(home, "pip" if sys.platform == "win32" else ".pip", name))
        if sys.platform == "win32":
            files.append(os.path.join(environ.get("APPDATA", home), "pip", name))
        elif sys.platform == "darwin" and os.path.isdir(os.path.join(home, "Library/Application Support/pip")):
            files.append(os.path.join(home, "Library/Application Support/pip", name))
        else:
            files.append(os.path.join(environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "pip", name))
    files.append(os.path.join(sys.prefix, name))
    if env_file:
        files.append(env_file)
    return [f for f in files if os.path.isfile(f)]


def _pip(environ: Mapping[str, str]) -> dict[str, Any]:
    """The index settings pip's ``install`` would use: files (``[global]``, then ``[install]``),
    then ``PIP_*`` variables, each level replacing the one before, as pip merges them."""
    files = _pip_files(environ)
    merged: dict[tuple[str, str], str] = {}
    read: list[str] = []
    if files:
        import configparser

        for path in files:
            parser = configparser.RawConfigParser()
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError, OSError):
                continue
            read.append(path)
            for section in parser.sections():
                for option, setting in parser.items(section):
                    merged[(section, option.lower().replace("_", "-").lstrip("-"))] = setting

    def value(key: str) -> Optional[str]:
        env_value = environ.get("PIP_" + key.upper().replace("-", "_"))
        if env_value is not None:
            return env_value
        for section in ("install", "global"):
            if (section, key) in merged:
                return merged[(section, key)]
        return None

    def many(key: str) -> list[str]:
        return (value(key) or "").split()

    no_index = (value("no-index") or "").strip().lower() in _TRUE
    index_url = (value("index-url") or "").strip() or None
    return {
        "index_url": index_url,
        "extra_index_urls": many("extra-index-url"),
        "find_links": many("find-links"),
        "no_index": no_index,
        "trusted_hosts": many("trusted-host"),
        "config_files": read,
    }


# -- the envkit.snapshot/1 schema: redaction, fingerprint, declarations -----------------------

SCHEMA = "envkit.snapshot/1"

#: Distributions recorded but left out of the fingerprint, the pins and the diff: installers.
TOOLING = ("pip",)

#: Declaration files hashed when found at the top of the project folder.
DECLARATION_RE = re.compile(
    r"requirements[^/]*\.txt|environment\.ya?ml|Pipfile(?:\.lock)?|pyproject\.toml|poetry\.lock|uv\.lock"
    r"|pylock(?:\.[^.]+)?\.toml"
)

NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
#: What may stand in a version, a build, a commit or an installer name: no whitespace,
#: quotes, ``#``, ``;`` or ``,``, so it can be written into a requirements file safely.
TOKEN_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9.+!_*:/@=-]*")

_SECRET_PARAM_RE = re.compile(r"(?i)token|secret|passw|pwd|auth|key|sig|credential|session")
_CONDA_TOKEN_RE = re.compile(r"/t/[^/]+/")
_VAR_ONLY_RE = re.compile(r"(?:\$\{[A-Z0-9_]+\})+")
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_SUBDIR_RE = re.compile(r"/(?:noarch|(?:linux|osx|win|emscripten|wasi|zos)-[a-z0-9_]+)$")


def redact(url: str) -> str:
    """``url`` with credentials and token-like values shown as ``***``.

    The rule of ``envkit.model.redact_url`` (a test keeps the two in step): a password
    beside a user name is hidden and the user kept (``__token__``, ``oauth2``); a lone user
    part is hidden (it is often a token itself); ``${VAR}`` references are names and kept.
    Extended: any query or fragment parameter whose name contains ``token``, ``secret``,
    ``passw``, ``pwd``, ``auth``, ``key``, ``sig``, ``credential`` or ``session`` is hidden;
    so is anaconda.org's ``/t/<token>/`` path segment; a lone user in an ``ssh`` URL
    (``git@``) is a login name, not a credential, and is kept.
    """
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, sep, password = userinfo.partition(":")
        if sep:
            netloc = f"{user}:{password if _is_reference(password) else '***'}@{host}"
        elif not (_is_reference(user) or "ssh" in parts.scheme.lower()):
            netloc = f"***@{host}"
    path = _CONDA_TOKEN_RE.sub("/t/***/", parts.path)
    return urlunsplit((parts.scheme, netloc, path, _redact_params(parts.query), _redact_params(parts.fragment)))


def _is_reference(part: str) -> bool:
    return not part or _VAR_ONLY_RE.fullmatch(part) is not None


def _redact_params(text: str) -> str:
    if "=" not in text:
        return text
    out = []
    for item in text.split("&"):
        key, sep, value = item.partition("=")
        out.append(f"{key}=***" if sep and value and _SECRET_PARAM_RE.search(key) else item)
    return "&".join(out)


def redact_text(text: str) -> str:
    """Free text (an error message) with every URL in it redacted."""
    return _URL_IN_TEXT_RE.sub(lambda m: redact(m.group(0)), text)


def essentials(provenance: Mapping[str, Any]) -> list[str]:
    """What of a provenance takes part in the fingerprint and the diff."""
    kind = provenance["kind"]
    if kind == "vcs":
        return ["vcs", provenance["vcs"] or "", provenance["commit_id"] or provenance["url"] or ""]
    if kind == "archive":
        return ["archive", provenance["hash"] or provenance["url"] or ""]
    if kind == "directory":
        return ["editable" if provenance["editable"] else "directory"]
    return [kind]


def fingerprint(data: Mapping[str, Any]) -> str:
    """sha256 of what makes two environments the same, from ``envkit.snapshot/1`` data.

    The canonical JSON (sorted keys, no spaces) of: python implementation, version and
    ABI; platform system and machine; the sorted packages as [name, version, *essentials]
    (:data:`TOOLING` left out); the sorted conda packages as [name, version, build].
    """
    import hashlib
    import json

    py, plat = data["python"], data["platform"]
    doc = {
        "recipe": 1,
        "python": [py["implementation"], py["version"], py["abi"]],
        "platform": [plat["system"], plat["machine"]],
        "packages": sorted(
            [p["name"], p["version"], *essentials(p["provenance"])]
            for p in data["packages"]
            if p["name"] not in TOOLING
        ),
        "conda": sorted([c["name"], c["version"], c["build"]] for c in data["conda"]),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _file_url(path: str) -> str:
    from urllib.parse import quote

    return "file://" + quote(os.path.abspath(path).replace(os.sep, "/"))


def _provenance(raw: Any, editable_link: Any, name: str, warnings: list[str]) -> dict[str, Any]:
    """One distribution's provenance from its parsed PEP 610 record, URL redacted."""
    out: dict[str, Any] = {
        "kind": "index",
        "url": None,
        "vcs": None,
        "commit_id": None,
        "requested_revision": None,
        "editable": False,
        "hash": None,
        "subdirectory": None,
    }

    def text(holder: Mapping[str, Any], key: str) -> Optional[str]:
        value = holder.get(key)
        return value if isinstance(value, str) and TOKEN_RE.fullmatch(value) else None

    if raw is None:
        if isinstance(editable_link, str) and editable_link:
            out.update(kind="directory", url=_file_url(editable_link), editable=True)
        return out
    url = raw.get("url") if isinstance(raw, dict) else None
    if not isinstance(url, str) or not url or any(ch.isspace() for ch in url) or "error" in raw:
        why = raw.get("error") if isinstance(raw, dict) and isinstance(raw.get("error"), str) else "no url"
        warnings.append(f"{name}: direct_url.json is unreadable ({why}); provenance unknown")
        out["kind"] = "unknown"
        return out
    out["url"] = redact(url)
    out["subdirectory"] = text(raw, "subdirectory")
    vcs, archive, folder = raw.get("vcs_info"), raw.get("archive_info"), raw.get("dir_info")
    if isinstance(vcs, dict) and text(vcs, "vcs"):
        out.update(
            kind="vcs",
            vcs=text(vcs, "vcs"),
            commit_id=text(vcs, "commit_id"),
            requested_revision=text(vcs, "requested_revision"),
        )
    elif isinstance(archive, dict):
        out["kind"] = "archive"
        hashes = archive.get("hashes")
        if isinstance(hashes, dict) and hashes:
            algo = "sha256" if "sha256" in hashes else sorted(hashes)[0]
            digest = hashes[algo]
            if isinstance(digest, str) and TOKEN_RE.fullmatch(f"{algo}={digest}"):
                out["hash"] = f"{algo}={digest}"
        elif text(archive, "hash") and "=" in archive["hash"]:
            out["hash"] = archive["hash"]
    elif isinstance(folder, dict):
        out.update(kind="directory", editable=folder.get("editable") is True)
    else:
        warnings.append(f"{name}: direct_url.json names no vcs_info, archive_info or dir_info; provenance unknown")
        out.update(kind="unknown", url=None, subdirectory=None)
    return out


def _channel(channel: Any) -> Optional[str]:
    """A conda channel as a name when it is anaconda's (``conda-forge``), else its redacted URL."""
    if not isinstance(channel, str) or not channel or any(ch.isspace() for ch in channel):
        return None
    text = _SUBDIR_RE.sub("", redact(channel).rstrip("/"))
    for prefix in ("https://conda.anaconda.org/", "http://conda.anaconda.org/", "https://repo.anaconda.com/"):
        if text.startswith(prefix) and "/t/" not in text:
            return text[len(prefix) :]
    return text


def declarations(project: Optional[str]) -> list[dict[str, str]]:
    """sha256 of each declaration file at the top of ``project`` (:data:`DECLARATION_RE`).

    Raises ``OSError`` when the folder cannot be listed or a file cannot be read.
    """
    if project is None:
        return []
    import hashlib

    out = []
    for name in sorted(os.listdir(project)):
        if not DECLARATION_RE.fullmatch(name):
            continue
        path = os.path.join(project, name)
        if os.path.isdir(path):
            continue
        with open(path, "rb") as handle:
            out.append({"path": name, "sha256": hashlib.sha256(handle.read()).hexdigest()})
    return out


def to_schema(raw: Mapping[str, Any], project: Optional[str] = None, envkit_version: str = "") -> dict[str, Any]:
    """A raw :func:`capture` as ``envkit.snapshot/1`` data: redacted, sorted, fingerprinted.

    A distribution whose name or version could not be written into a requirements file
    safely is left out and named in ``warnings``.
    """
    import time

    warnings: list[str] = []
    py, plat, man, pip = raw["python"], raw["platform"], raw["manager"], raw["pip"]
    packages: dict[str, dict[str, Any]] = {}
    for dist in raw["distributions"]:
        name = _normalize(str(dist["name"]))
        version = str(dist["version"] or "")
        if not NAME_RE.fullmatch(name) or not TOKEN_RE.fullmatch(version):
            warnings.append(f"left out {dist['name']!r} {version!r}: not a name and version pip can pin")
            continue
        installer = dist.get("installer")
        packages.setdefault(
            name,
            {
                "name": name,
                "version": version,
                "installer": installer if isinstance(installer, str) and TOKEN_RE.fullmatch(installer) else None,
                "requested": dist.get("requested") is True,
                "provenance": _provenance(dist.get("direct_url"), dist.get("editable_link"), name, warnings),
            },
        )
    conda = sorted(
        (
            {"name": c["name"], "version": c["version"], "build": c["build"], "channel": _channel(c.get("channel"))}
            for c in raw["conda"]
            if all(TOKEN_RE.fullmatch(str(c[k])) for k in ("name", "version", "build"))
        ),
        key=lambda c: (c["name"], c["version"], c["build"]),
    )
    libc = plat.get("libc")
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "fingerprint": "",
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "envkit_version": envkit_version,
        "python": {
            key: py[key]
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
        },
        "platform": {
            "system": plat["system"],
            "release": plat["release"],
            "machine": plat["machine"],
            "libc": {"name": libc[0], "version": libc[1]} if libc else None,
            "tags": list(plat["tags"]),
        },
        "manager": {"name": man["name"], "version": man["version"], "evidence": man["evidence"]},
        "packages": [packages[k] for k in sorted(packages)],
        "conda": conda,
        "indexes": {
            "index_url": redact(pip["index_url"]) if pip["index_url"] else None,
            "extra_index_urls": [redact(u) for u in pip["extra_index_urls"]],
            "find_links": [redact(u) for u in pip["find_links"]],
            "no_index": pip["no_index"] is True,
            "trusted_hosts": list(pip["trusted_hosts"]),
            "config_files": list(pip["config_files"]),
        },
        "declarations": declarations(project),
        "warnings": warnings,
    }
    data["fingerprint"] = fingerprint(data)
    return data


if __name__ == "__main__":
    sys.exit(main())
