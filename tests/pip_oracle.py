"""pip's own reading of a requirements file, normalized for comparison with envkit's.

This is the differential oracle: it runs pip's real parser (``parse_requirements`` with a
real ``PackageFinder``) and turns what pip built (``InstallRequirement`` objects and the
finder's search scope) into plain data. :func:`envkit_view` turns an envkit
:class:`~envkit.model.Environment` into the same shape. Local paths are compared as pip
sees them: ``file:`` URLs of the path taken relative to the current directory.
``--pre`` is pip's ``--all-releases :all:``, and is compared as that.
"""

from __future__ import annotations

import os
from typing import Any

from packaging.utils import canonicalize_name

from envkit.model import Dependency, Environment, Source

PYPI = "https://pypi.org/simple"


def pip_view(path: str) -> dict[str, Any]:
    """Parse ``path`` with pip; return ``{"requirements": [...], "options": {...}}``.

    Raises whatever pip raises for a file pip rejects.

    pip's ``--use-feature`` option has one list as its default for every parser it builds
    (a ``functools.partial`` with ``default=[]``): every ``--use-feature`` of every line,
    requirement lines included, lands in that list, which *is* the install's
    ``features_enabled``. Within one pip run that is pip's behaviour; across runs in one
    process it leaks, so the list is emptied first.
    """
    from pip._internal.cli import cmdoptions
    from pip._internal.commands import create_command
    from pip._internal.req.constructors import install_req_from_parsed_requirement
    from pip._internal.req.req_file import parse_requirements
    from pip._internal.utils.misc import build_netloc

    cmdoptions.use_new_feature.keywords["default"].clear()
    command = create_command("install", isolated=True)
    options, _ = command.parse_args([])
    with command.main_context():
        session = command.get_default_session(options)
        finder = command._build_package_finder(options=options, session=session)  # type: ignore[attr-defined]
        reqs = []
        for parsed in parse_requirements(path, session, finder=finder, options=options):
            ireq = install_req_from_parsed_requirement(parsed, isolated=True)
            reqs.append(_ireq_view(ireq, parsed))
    scope = finder.search_scope
    fc = finder.format_control
    rc = finder.release_control
    return {
        "requirements": reqs,
        "options": {
            "index_urls": list(scope.index_urls),
            "find_links": list(scope.find_links),
            "no_index": scope.no_index,
            "prefer_binary": finder._candidate_prefs.prefer_binary,  # type: ignore[attr-defined]
            "require_hashes": bool(options.require_hashes),
            "no_require_hashes": bool(options.no_require_hashes),
            "trusted_hosts": [build_netloc(h, p) for h, p in session.pip_trusted_origins],
            "no_binary": sorted(fc.no_binary) if fc else [],
            "only_binary": sorted(fc.only_binary) if fc else [],
            "all_releases": sorted(rc.all_releases) if rc else [],
            "only_final": sorted(rc.only_final) if rc else [],
            "features": sorted(set(options.features_enabled)),
        },
    }


def _ireq_view(ireq: Any, parsed: Any) -> dict[str, Any]:
    req = ireq.req
    link = ireq.link
    opts = parsed.options or {}
    return {
        "name": canonicalize_name(req.name) if req is not None else None,
        "specifier": str(req.specifier) if req is not None else "",
        "extras": sorted(canonicalize_name(e) for e in (ireq.extras or (req.extras if req else ()))),
        "marker": str(ireq.markers) if ireq.markers is not None else None,
        "url": link.url if link is not None else None,
        "editable": bool(ireq.editable),
        "constraint": bool(ireq.constraint),
        "hashes": {k: sorted(v) for k, v in sorted(opts.get("hashes", {}).items())},
        "config_settings": _settings(opts.get("config_settings") or {}),
    }


def _settings(settings: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, value in settings.items():
        for v in value if isinstance(value, list) else [value]:
            out.append((key, v))
    return sorted(out)


def _path_url(path: str) -> str:
    from pip._internal.utils.urls import path_to_url

    return path_to_url(os.path.normpath(os.path.abspath(path)))


def _dep_url(dep: Dependency) -> str | None:
    if dep.path is not None:
        return _path_url(dep.path)
    url = dep.url
    if url is None:
        return None
    # pip makes a relative file: URL absolute only when it is the line itself (not after
    # 'name @', not after -e).
    bare = not dep.editable and dep.text.lstrip().startswith(url)
    if bare and url.lower().startswith("file:") and "../" in url:
        from pip._internal.models.link import Link

        return _path_url(Link(url).path)
    return url


def _find_links(source: Source) -> str:
    """A find-links location as pip keeps it: joined to the file's folder when that exists."""
    url = source.full_url()
    if source.origin is not None:
        joined = os.path.join(os.path.dirname(os.path.abspath(source.origin.path)), url)
        if os.path.exists(joined):
            return joined
    return url


def envkit_view(env: Environment) -> dict[str, Any]:
    """``env`` in the shape of :func:`pip_view` (the ``python`` line is not pip's)."""
    reqs = []
    for dep in env.requirements:
        marker = None if dep.marker is None else str(dep.marker)
        reqs.append(
            {
                "name": dep.key,
                "specifier": str(dep.specifier),
                "extras": sorted(canonicalize_name(e) for e in dep.extras),
                "marker": marker,
                "url": _dep_url(dep),
                "editable": dep.editable,
                "constraint": dep.constraint,
                "hashes": {k: sorted(v) for k, v in sorted(dep.hashes_by_algorithm().items())},
                "config_settings": sorted(dep.config_settings),
            }
        )
    from pip._internal.utils.misc import build_netloc, parse_netloc

    index = [s.full_url() for s in env.sources if s.kind == "index"]
    extras = [s.full_url() for s in env.sources if s.kind == "extra-index"]
    opts = env.options
    hosts = list(dict.fromkeys(build_netloc(*parse_netloc(h)) for h in opts.trusted_hosts))  # type: ignore[arg-type]
    all_releases = set(opts.all_releases) | ({":all:"} if opts.pre else set())
    return {
        "requirements": reqs,
        "options": {
            "index_urls": [] if opts.no_index else (index or [PYPI]) + extras,
            "find_links": [_find_links(s) for s in env.sources if s.kind == "find-links"],
            "no_index": opts.no_index,
            "prefer_binary": opts.prefer_binary,
            "require_hashes": opts.require_hashes,
            "no_require_hashes": opts.no_require_hashes,
            "trusted_hosts": hosts,
            "no_binary": sorted(opts.no_binary),
            "only_binary": sorted(opts.only_binary),
            "all_releases": sorted(all_releases),
            "only_final": sorted(opts.only_final),
            "features": sorted(set(opts.use_features)),
        },
    }
