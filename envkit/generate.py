"""The main job: from one requirements file, every manager's file, checked.

:func:`generate` reads a source declaration (and optionally a dev file layered on it),
renders it for each target manager into a folder (merging into files that exist),
writes safely, reads each written file back and compares it with the source (static
verification), and records what it did in ``envkit.toml`` so that :func:`check` can tell
later whether the generated files are still in step with their source.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .convert import Conversion, WriteResult, convert, format_for_target, write_file
from .errors import EnvkitError
from .model import Dependency, Environment
from .verify import StaticReport, compare_static

__all__ = ["DEFAULT_TARGETS", "MANIFEST", "GenerateResult", "TargetResult", "check", "generate", "plan"]

#: The four seed managers.
DEFAULT_TARGETS = ("venv", "conda", "pipenv", "poetry")
#: What ``generate`` records for ``check``.
MANIFEST = "envkit.toml"


@dataclass(frozen=True)
class TargetResult:
    target: str
    path: Path
    conversion: Conversion
    write: WriteResult | None
    static: StaticReport | None
    companions: tuple[WriteResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "format": self.conversion.format,
            "path": str(self.path),
            "action": self.write.action if self.write else "source",
            "static": self.static.to_dict() if self.static else None,
            "report": self.conversion.to_dict(),
        }


@dataclass(frozen=True)
class GenerateResult:
    source: Path
    targets: tuple[TargetResult, ...]

    @property
    def refused(self) -> tuple[WriteResult, ...]:
        writes = [t.write for t in self.targets if t.write] + [c for t in self.targets for c in t.companions]
        return tuple(w for w in writes if w.action == "refused")

    @property
    def equivalent(self) -> bool:
        return all(t.static is None or t.static.verdict != "different" for t in self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "equivalent": self.equivalent,
            "targets": [t.to_dict() for t in self.targets],
        }


def layered(main: Environment, dev: Environment, group: str = "dev") -> Environment:
    """``main`` plus the requirements ``dev`` adds on top of it, in group ``group``.

    A dev file usually starts with ``-r requirements.txt``; what it includes from the main
    file stays in the main list, the rest becomes the group.
    """
    seen = {(d.origin.path, d.origin.line) for d in main.requirements if d.origin is not None}
    added: list[Dependency] = [
        d.with_changes(group=group)
        for d in dev.requirements
        if d.origin is None or (d.origin.path, d.origin.line) not in seen
    ]
    sources = main.sources + tuple(s for s in dev.sources if s not in main.sources)
    return main.with_changes(
        requirements=main.requirements + tuple(added),
        sources=sources,
        python=main.python or dev.python,
        notes=main.notes + dev.notes,
    )


def _read_existing(path: Path) -> str | None:
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return None


def plan(
    source: Environment,
    targets: Sequence[str],
    out_dir: Path,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    source_dir: Path | None = None,
) -> list[tuple[str, Path, Conversion]]:
    """Render every target in memory: (target, path, conversion), nothing written.
    ``source_dir`` is the folder the source's relative paths are relative to (they are
    moved to ``out_dir`` in file-relative targets)."""
    from . import formats

    paths: dict[Path, str] = {}
    result = []
    for target in targets:
        name = format_for_target(target)
        path = out_dir / formats.get(name).FILENAMES[0]
        if path in paths:
            raise EnvkitError(
                f"{paths[path]} and {target} both write {path.name}; generate them into different folders (--dir)"
            )
        paths[path] = target
        conversion = convert(
            source,
            target,
            existing=_read_existing(path),
            options=(options or {}).get(target),
            source_dir=source_dir,
            target_dir=out_dir,
        )
        result.append((target, path, conversion))
    return result


def _reread(conversion: Conversion, path: Path) -> Environment:
    from . import formats
    from ._io import local_opener

    companions = {str(path.parent / name): text for name, text in conversion.rendered.files.items()}

    def opener(target: str) -> bytes:
        if target in companions:
            return companions[target].encode("utf-8")
        return local_opener(target)

    module = formats.get(conversion.format)
    return module.loads(conversion.rendered.text, str(path), opener=opener)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def generate(
    src: str | os.PathLike[str],
    *,
    dev: str | os.PathLike[str] | None = None,
    targets: Sequence[str] = DEFAULT_TARGETS,
    out_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    dry_run: bool = False,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> GenerateResult:
    """Generate every target's file from ``src`` into ``out_dir`` (default: beside ``src``)."""
    from . import load

    src_path = Path(src)
    source = load(src_path)
    if dev is not None:
        source = layered(source, _dev_env(Path(dev), src_path))
    folder = Path(out_dir) if out_dir is not None else src_path.parent
    if source.name is None:
        # conda and poetry want a name: the project folder's, as tools default to
        source = source.with_changes(name=_project_name(folder))
    results = []
    for target, path, conversion in plan(source, targets, folder, options, src_path.parent):
        if _same_file(path, src_path) and conversion.format == source.format:
            results.append(TargetResult(target, path, conversion, None, None))
            continue
        write = write_file(path, conversion.rendered.text, force=force, dry_run=dry_run)
        companions = tuple(
            write_file(path.parent / name, text, force=force, dry_run=dry_run)
            for name, text in conversion.rendered.files.items()
        )
        static = compare_static(target, conversion.source or source, _reread(conversion, path), conversion.losses)
        results.append(TargetResult(target, path, conversion, write, static, companions))
    result = GenerateResult(src_path, tuple(results))
    if not dry_run and not result.refused:
        _write_manifest(folder, src_path, dev, targets, options)
    return result


def _dev_env(dev: Path, src: Path) -> Environment:
    """The dev file's environment, its relative paths moved from its folder to ``src``'s
    (the layered environment's paths are all relative to the source's folder)."""
    from . import load
    from .relocate import relocate

    env, _ = relocate(load(dev), str(dev.parent), str(src.parent))
    return env


def _project_name(folder: Path) -> str | None:
    import re

    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._")
    return name or None


def _relative(path: str | os.PathLike[str], folder: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix()


def _write_manifest(
    folder: Path,
    src: Path,
    dev: str | os.PathLike[str] | None,
    targets: Sequence[str],
    options: Mapping[str, Mapping[str, Any]] | None,
) -> None:
    from ._io import atomic_write

    written_dev = _relative(dev, folder) if dev is not None else None
    atomic_write(folder / MANIFEST, _manifest_text(_relative(src, folder), written_dev, targets, options))


def _manifest_text(
    src: str, dev: str | None, targets: Sequence[str], options: Mapping[str, Mapping[str, Any]] | None
) -> str:
    """The manifest's TOML, as text (as tomlkit writes it); through tomlkit when an option
    is other than a string, a boolean or an integer."""
    from .formats import _toml_text as tt

    opts = {target: dict(o) for target, o in (options or {}).items() if o}
    if not all(isinstance(v, (str, bool, int)) for o in opts.values() for v in o.values()):
        return _manifest_tomlkit(src, dev, targets, opts)
    text = f"# {_MANIFEST_NOTE}\nsource = {tt.basic(src)}\n"
    if dev is not None:
        text += f"dev = {tt.basic(dev)}\n"
    text += f"targets = {tt.value(list(targets))}\n"
    for target, opt in opts.items():
        text += f"\n[options.{tt.key(target)}]\n" + "".join(f"{tt.key(k)} = {tt.value(v)}\n" for k, v in opt.items())
    return text


_MANIFEST_NOTE = "Written by `envkit generate`; `envkit check` reads it to find stale files."


def _manifest_tomlkit(src: str, dev: str | None, targets: Sequence[str], opts: Mapping[str, Any]) -> str:
    import tomlkit

    doc = tomlkit.document()
    doc.add(tomlkit.comment(_MANIFEST_NOTE))
    doc["source"] = src
    if dev is not None:
        doc["dev"] = dev
    doc["targets"] = list(targets)
    if opts:
        table = tomlkit.table()
        for target, opt in opts.items():
            table[target] = opt
        doc["options"] = table
    return tomlkit.dumps(doc)


@dataclass(frozen=True)
class Staleness:
    path: Path
    reason: str
    diff: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "reason": self.reason, "diff": self.diff}


def check(folder: str | os.PathLike[str] = ".") -> tuple[Staleness, ...]:
    """Files generated in ``folder`` that no longer match what their source would give."""
    from . import load
    from ._io import read_bytes
    from .convert import unified_diff
    from .formats._toml import loads_toml

    base = Path(folder)
    manifest_path = base / MANIFEST
    if not manifest_path.is_file():
        raise EnvkitError(f"{manifest_path}: no such file; run `envkit generate` first")
    manifest = loads_toml(read_bytes(manifest_path).decode("utf-8"), str(manifest_path))
    src = Path(os.path.normpath(base / str(manifest.get("source", ""))))
    source = load(src)
    if manifest.get("dev"):
        source = layered(source, _dev_env(base / str(manifest["dev"]), src))
    if source.name is None:
        source = source.with_changes(name=_project_name(base))
    targets = [str(t) for t in manifest.get("targets", DEFAULT_TARGETS)]
    options = {str(k): dict(v) for k, v in dict(manifest.get("options", {})).items()}
    stale: list[Staleness] = []
    for _target, path, conversion in plan(source, targets, base, options, src.parent):
        if _same_file(path, src) and conversion.format == source.format:
            continue
        wanted = {path: conversion.rendered.text}
        wanted.update({path.parent / n: t for n, t in conversion.rendered.files.items()})
        for file, text in wanted.items():
            current = _read_existing(file)
            if current is None:
                stale.append(Staleness(file, "missing", ""))
            elif current != text:
                stale.append(Staleness(file, f"out of date with {src}", unified_diff(file, current, text)))
    return tuple(stale)
