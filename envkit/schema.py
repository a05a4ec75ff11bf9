"""The JSON form of the model: the interface other tools rely on.

``envkit show FILE --json`` prints :func:`environment_to_dict`. Schema version 1:

- top level: ``schema_version``, ``format``, ``path``, ``python`` (a PEP 440 specifier
  string or null), ``sources`` (``kind``, ``url``, ``name``, ``priority``, ``verify_ssl``,
  ``has_credentials``),
  ``options`` (pip's file-wide options), ``requirements`` (file order, includes expanded
  in place), ``conda`` (conda-only specs), ``channels`` and ``variables`` (conda),
  ``warnings`` (strings).
- each requirement: ``name`` (PEP 503 normalized, or null when only a build can tell),
  ``specifier`` (``str(SpecifierSet)``), ``extras`` (sorted, normalized), ``marker``
  (``str(Marker)`` or null), ``url``, ``path``, ``editable``, ``constraint``, ``hashes``
  (``{algorithm: [digest, ...]}``), ``options`` (per-requirement: ``config_settings``,
  ``global_options``; empty when none), ``group``, ``index`` (a source name), ``channel``
  (conda), ``text`` (as written), ``comment``, ``origin`` (``{path, line}``).

Credentials in URLs are shown as ``***`` unless ``show_secrets``; ``${VAR}`` references
are names, not secrets, and are always shown.
"""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from .model import Dependency, Environment, Source, redact_url

__all__ = ["SCHEMA_VERSION", "dependency_to_dict", "environment_to_dict"]

SCHEMA_VERSION = 1


def _url(url: str | None, show_secrets: bool) -> str | None:
    if url is None or show_secrets:
        return url
    return redact_url(url)


def dependency_to_dict(dep: Dependency, *, show_secrets: bool = False) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if dep.config_settings:
        settings: dict[str, Any] = {}
        for key, value in dep.config_settings:
            if key in settings:
                previous = settings[key]
                settings[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                settings[key] = value
        options["config_settings"] = settings
    if dep.global_options:
        options["global_options"] = list(dep.global_options)
    text = dep.text if show_secrets else _redact_text(dep.text)
    return {
        "name": dep.key,
        "specifier": str(dep.specifier),
        "extras": sorted(canonicalize_name(e) for e in dep.extras),
        "marker": str(dep.marker) if dep.marker is not None else None,
        "url": _url(dep.url, show_secrets),
        "path": dep.path,
        "editable": dep.editable,
        "constraint": dep.constraint,
        "hashes": dep.hashes_by_algorithm(),
        "options": options,
        "group": dep.group,
        "index": dep.index,
        "channel": dep.channel,
        "text": text,
        "comment": dep.comment if show_secrets or dep.comment is None else _redact_text(dep.comment),
        "origin": {"path": dep.origin.path, "line": dep.origin.line} if dep.origin else None,
    }


def _redact_text(text: str) -> str:
    return " ".join(redact_url(word) if "://" in word else word for word in text.split(" "))


def source_to_dict(source: Source, *, show_secrets: bool = False) -> dict[str, Any]:
    return {
        "kind": source.kind,
        "url": source.full_url() if show_secrets else source.redacted_url(),
        "name": source.name,
        "priority": source.priority,
        "verify_ssl": source.verify_ssl,
        "has_credentials": source.has_credentials,
    }


def environment_to_dict(env: Environment, *, show_secrets: bool = False, path: str | None = None) -> dict[str, Any]:
    def urls(kind: str) -> list[str]:
        return [source_to_dict(s, show_secrets=show_secrets)["url"] for s in env.sources if s.kind == kind]

    index = urls("index")
    options: dict[str, Any] = {
        "index_url": index[0] if index else None,
        "extra_index_urls": urls("extra-index"),
        "find_links": urls("find-links"),
        **env.options.to_dict(),
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "format": env.format,
        "path": path,
        "name": env.name,
        "python": str(env.python) if env.python is not None else None,
        "sources": [source_to_dict(s, show_secrets=show_secrets) for s in env.sources],
        "options": options,
        "requirements": [dependency_to_dict(d, show_secrets=show_secrets) for d in env.requirements],
        "conda": list(env.conda),
        "channels": list(env.channels),
        "variables": dict(env.variables),
        "warnings": [str(n) for n in env.notes],
    }
