"""Equivalence of declarations: compares models and returns a report; never prints.

*Static* depth (this module): a written file is read back and its model compared with the
source model, requirement by requirement. Every difference is either explained by a loss
the writer reported (then the pair is "equivalent except reported losses") or it is not
(then the writer dropped or changed something silently, and the verdict says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from packaging.specifiers import SpecifierSet

from .formats import Loss
from .model import Dependency, Environment

__all__ = ["Difference", "StaticReport", "compare_static"]

Verdict = Literal["equivalent", "equivalent-with-losses", "different"]

_EGG_FRAGMENT_RE = re.compile(r"(?:(?<=#)|&)egg=[^&]*&?")


@dataclass(frozen=True)
class Difference:
    """One way the target model differs from the source model."""

    subject: str
    field: str
    source: str
    target: str
    explained: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "field": self.field,
            "source": self.source,
            "target": self.target,
            "explained": self.explained,
        }


@dataclass(frozen=True)
class StaticReport:
    target: str
    differences: tuple[Difference, ...]

    @property
    def verdict(self) -> Verdict:
        if not self.differences:
            return "equivalent"
        if all(d.explained for d in self.differences):
            return "equivalent-with-losses"
        return "different"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "verdict": self.verdict,
            "differences": [d.to_dict() for d in self.differences],
        }


def _url(url: str | None) -> str | None:
    if url is None:
        return None
    cleaned = _EGG_FRAGMENT_RE.sub("", url)
    return cleaned.rstrip("#&")


#: The fields of :func:`_view`, in its order.
_FIELDS = ("version", "extras", "marker", "url", "path", "editable", "constraint", "hashes", "group", "index")


def _view(dep: Dependency, env: Environment) -> tuple[str, ...]:
    """The fields that decide what gets installed (:data:`_FIELDS`), as comparable strings."""
    index = env.source_named(dep.index) if dep.index else None
    return (
        _spec_key(dep.specifier),
        ",".join(sorted(dep.extras)),
        str(dep.marker) if dep.marker is not None else "",
        _url(dep.url) or "",
        (_location(dep) or "") if dep.path and not dep.url else "",
        "yes" if dep.editable else "no",
        "yes" if dep.constraint else "no",
        ",".join(sorted(f"{a}:{d}" for a, d in dep.hashes)),
        dep.group or "",
        index.url if index is not None else (dep.index or ""),
    )


def _spec_key(spec: SpecifierSet) -> str:
    """A specifier set in a canonical spelling: ``<3.0`` and ``<3`` are the same bound."""
    return ",".join(sorted(_item_key(item.operator, item.version) for item in spec))


@lru_cache(maxsize=4096)
def _item_key(operator: str, version: str) -> str:
    """One specifier canonically spelled (a source and its targets share most of them)."""
    from packaging.utils import canonicalize_version

    return operator + (version if "*" in version else canonicalize_version(version))


def _location(dep: Dependency) -> str | None:
    if dep.url:
        return _url(dep.url)
    if dep.path:
        import posixpath

        return posixpath.normpath(dep.path.replace("\\", "/"))
    return None


def _same_thing(a: Dependency, b: Dependency) -> bool:
    """Named alike, or (when either has no name) from the same place."""
    if a.key and b.key:
        return a.key == b.key
    return _location(a) is not None and _location(a) == _location(b)


def _explained(dep: Dependency, losses: tuple[Loss, ...]) -> bool:
    for loss in losses:
        if loss.origin is not None and dep.origin is not None:
            if (loss.origin.path, loss.origin.line) == (dep.origin.path, dep.origin.line):
                return True
        elif loss.subject == str(dep):
            return True
    return False


def _any_loss(losses: tuple[Loss, ...], *words: str) -> bool:
    return any(any(w in loss.subject.lower() or w in loss.reason.lower() for w in words) for loss in losses)


#: Spellings of PyPI's own index: naming it as the index is the same as naming none.
PYPI_INDEXES = frozenset({"https://pypi.org/simple", "https://pypi.python.org/simple"})


def _source_urls(env: Environment) -> list[tuple[str, str]]:
    return [
        (s.kind, s.full_url())
        for s in env.sources
        if not (s.kind == "index" and s.full_url().rstrip("/") in PYPI_INDEXES)
    ]


def compare_static(target: str, source: Environment, written: Environment, losses: tuple[Loss, ...]) -> StaticReport:
    """Compare ``written`` (a target file read back) with ``source``, given the losses."""
    diffs: list[Difference] = []
    remaining = list(written.requirements)
    unmatched: list[Dependency] = []
    # 1. exact matches first, so that a look-alike never takes another's partner
    for dep in source.requirements:
        view = _view(dep, source)
        exact = next((w for w in remaining if _same_thing(w, dep) and _view(w, written) == view), None)
        if exact is None:
            unmatched.append(dep)
        else:
            remaining.remove(exact)
    # 2. then each pairs with its closest look-alike, those without a reported loss first
    for dep in sorted(unmatched, key=lambda d: _explained(d, losses)):
        explained = _explained(dep, losses)
        same_name = [w for w in remaining if _same_thing(w, dep)]
        if not same_name:
            diffs.append(Difference(str(dep), "presence", "present", "missing", explained))
            continue
        view = _view(dep, source)
        other = min(same_name, key=lambda w: sum(a != b for a, b in zip(_view(w, written), view)))
        remaining.remove(other)
        other_view = _view(other, written)
        for key, value, theirs in zip(_FIELDS, view, other_view):
            if theirs != value:
                diffs.append(Difference(str(dep), key, value or "-", theirs or "-", explained))
    for extra in remaining:
        diffs.append(Difference(str(extra), "presence", "missing", "present", False))
    if source.python != written.python:
        diffs.append(
            Difference(
                "python",
                "python",
                str(source.python or "-"),
                str(written.python or "-"),
                _any_loss(losses, "python"),
            )
        )
    src_urls = _source_urls(source)
    out_urls = _source_urls(written)
    if sorted(src_urls) != sorted(out_urls):
        diffs.append(
            Difference(
                "sources",
                "sources",
                ", ".join(f"{k} {u}" for k, u in src_urls) or "-",
                ", ".join(f"{k} {u}" for k, u in out_urls) or "-",
                _any_loss(losses, "source", "index", "find-links", "find_links", "credential"),
            )
        )
    if source.options != written.options:
        a, b = source.options.to_dict(), written.options.to_dict()
        for key in a:
            if a[key] != b[key]:
                flag = key.replace("_", "-").removesuffix("s")  # trusted_hosts -> trusted-host
                diffs.append(Difference("options", key, str(a[key]), str(b[key]), _any_loss(losses, flag, key)))
    if sorted(source.conda) != sorted(written.conda):
        diffs.append(
            Difference(
                "conda",
                "conda",
                ", ".join(source.conda) or "-",
                ", ".join(written.conda) or "-",
                _any_loss(losses, "conda"),
            )
        )
    return StaticReport(target, tuple(diffs))


# ---------------------------------------------------------------------------------------
# Resolved depth: the pinned sets each manager's resolver produced


@dataclass(frozen=True)
class PinDifference:
    """One package on which the managers' resolutions disagree."""

    package: str
    versions: dict[str, str | None]  # manager -> version, None when it did not pin it

    @property
    def explanation(self) -> str:
        present = {m: v for m, v in self.versions.items() if v is not None}
        absent = [m for m, v in self.versions.items() if v is None]
        if absent and present:
            return f"pinned by {', '.join(sorted(present))} only; {', '.join(sorted(absent))} dropped it"
        distinct = sorted(set(present.values()))
        return (
            "versions differ: " + ", ".join(f"{m} {v}" for m, v in sorted(present.items())) if len(distinct) > 1 else ""
        )

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "versions": self.versions, "explanation": self.explanation}


@dataclass(frozen=True)
class ResolveReport:
    managers: tuple[str, ...]
    pins: dict[str, dict[str, str]]  # manager -> {package: version}
    differences: tuple[PinDifference, ...]

    @property
    def equivalent(self) -> bool:
        return not self.differences

    @property
    def sets(self) -> dict[str, dict[str, str]]:
        return self.pins

    def to_dict(self) -> dict[str, Any]:
        return {
            "depth": "resolve",
            "equivalent": self.equivalent,
            "managers": list(self.managers),
            "pins": self.pins,
            "differences": [d.to_dict() for d in self.differences],
        }


#: Installer plumbing that managers add or leave out by their own rules.
TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute", "pkg-resources", "uv"})


def compare_resolutions(pins: dict[str, dict[str, str]]) -> ResolveReport:
    """Compare ``{manager: {package: version}}``; tooling packages are left out. An empty
    version (a lock may leave out a local directory's: PEP 751) matches any version, but
    not a missing package."""
    managers = tuple(pins)
    names = sorted({n for versions in pins.values() for n in versions} - TOOLING)
    diffs = []
    for name in names:
        versions = {m: pins[m].get(name) for m in managers}
        present = {v is not None for v in versions.values()}
        known = {v for v in versions.values() if v}
        if len(present) > 1 or len(known) > 1:
            diffs.append(PinDifference(name, versions))
    return ResolveReport(managers, pins, tuple(diffs))


# ---------------------------------------------------------------------------------------
# Installed depth: what each built environment holds, checked against the spec


@dataclass(frozen=True)
class SpecProblem:
    manager: str
    requirement: str
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return {"manager": self.manager, "requirement": self.requirement, "problem": self.problem}


def check_spec(
    manager: str, spec: Environment, installed: dict[str, str], marker_env: dict[str, str]
) -> list[SpecProblem]:
    """Every requirement of ``spec`` whose marker holds must be installed in a version its
    specifier allows; a requirement whose marker does not hold must not be pulled in by it."""
    problems = []
    for dep in spec.dependencies:
        if dep.key is None:
            continue
        applies = dep.marker is None or dep.marker.evaluate({**marker_env, "extra": ""})
        if not applies:
            continue
        version = installed.get(dep.key)
        if version is None:
            problems.append(SpecProblem(manager, str(dep), "not installed"))
        elif dep.specifier and not dep.specifier.contains(version, prereleases=True):
            problems.append(
                SpecProblem(manager, str(dep), f"installed {version}, which {dep.specifier} does not allow")
            )
    return problems


@dataclass(frozen=True)
class InstallReport:
    managers: tuple[str, ...]
    installed: dict[str, dict[str, str]]
    differences: tuple[PinDifference, ...]
    problems: tuple[SpecProblem, ...]
    consistency: dict[str, str]  # manager -> "" when `pip check` is clean, else its complaint

    @property
    def equivalent(self) -> bool:
        return not self.differences and not self.problems and not any(self.consistency.values())

    @property
    def sets(self) -> dict[str, dict[str, str]]:
        return self.installed

    def to_dict(self) -> dict[str, Any]:
        return {
            "depth": "install",
            "equivalent": self.equivalent,
            "managers": list(self.managers),
            "installed": self.installed,
            "differences": [d.to_dict() for d in self.differences],
            "spec_problems": [p.to_dict() for p in self.problems],
            "consistency": self.consistency,
        }


def compare_installs(
    spec: Environment,
    installed: dict[str, dict[str, str]],
    marker_envs: dict[str, dict[str, str]],
    consistency: dict[str, str],
) -> InstallReport:
    """Compare installed sets with each other and with ``spec``."""
    base = compare_resolutions(installed)
    problems = [p for m, versions in installed.items() for p in check_spec(m, spec, versions, marker_envs[m])]
    return InstallReport(base.managers, installed, base.differences, tuple(problems), consistency)
