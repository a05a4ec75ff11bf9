"""A tiny local package index for hermetic tests with the real pip, uv, pipenv and poetry.

:func:`build_index` writes pure-Python wheels with a small dependency graph into a folder
(usable as ``--find-links``) and a PEP 503 simple index beside them; :class:`IndexServer`
serves that index on 127.0.0.1. The graph has stand-ins for the packages of the MLOps
course example (mlflow, jupyter, scikit-learn, pandas, seaborn, hyperopt, xgboost) with
their own dependencies, versions, extras, markers, a package with only a pre-release and
one that needs a newer Python than any here.
"""

from __future__ import annotations

import base64
import hashlib
import html
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Dist:
    name: str
    version: str
    requires: tuple[str, ...] = ()
    extras: dict[str, tuple[str, ...]] = field(default_factory=dict)
    requires_python: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"


#: The graph. Names of the MLOps example are stand-ins with the real names.
GRAPH: tuple[Dist, ...] = (
    Dist("numpy", "1.26.4"),
    Dist("numpy", "2.1.0"),
    Dist("scipy", "1.14.1", ("numpy>=1.23.5",)),
    Dist("joblib", "1.4.2"),
    Dist("threadpoolctl", "3.5.0"),
    Dist("scikit-learn", "1.5.2", ("numpy>=1.19.5", "scipy>=1.6.0", "joblib>=1.2.0", "threadpoolctl>=3.1.0")),
    Dist("scikit-learn", "1.4.2", ("numpy>=1.19.5", "scipy>=1.6.0", "joblib>=1.2.0", "threadpoolctl>=2.0.0")),
    Dist("python-dateutil", "2.9.0", ("six>=1.5",)),
    Dist("six", "1.16.0"),
    Dist("pytz", "2024.2"),
    Dist("tzdata", "2024.2"),
    Dist(
        "pandas",
        "2.2.3",
        ("numpy>=1.26.0", "python-dateutil>=2.8.2", "pytz>=2020.1", "tzdata>=2022.7"),
        {"performance": ("numexpr>=2.8.4",)},
    ),
    Dist("pandas", "2.1.4", ("numpy>=1.23.2", "python-dateutil>=2.8.2", "pytz>=2020.1", "tzdata>=2022.1")),
    Dist("numexpr", "2.10.1", ("numpy>=1.23.0",)),
    Dist("pyparsing", "3.1.4"),
    Dist("packaging", "24.1"),
    Dist("matplotlib", "3.9.2", ("numpy>=1.23", "packaging>=20.0", "pyparsing>=2.3.1", "python-dateutil>=2.7")),
    Dist("seaborn", "0.13.2", ("numpy>=1.20,!=1.24.0", "pandas>=1.2", "matplotlib>=3.4,!=3.6.1")),
    Dist("networkx", "3.3"),
    Dist("cloudpickle", "3.0.0"),
    Dist("tqdm", "4.66.5"),
    Dist("future", "1.0.0"),
    Dist("hyperopt", "0.2.7", ("numpy", "scipy", "six", "networkx>=2.2", "future", "tqdm", "cloudpickle")),
    Dist("xgboost", "2.1.1", ("numpy", "scipy")),
    Dist("click", "8.1.7"),
    Dist("sqlalchemy", "2.0.35"),
    Dist("flask", "3.0.3", ("click>=8.1.3",)),
    Dist(
        "mlflow",
        "2.16.2",
        (
            "click>=7.0,<9",
            "flask<4",
            "numpy<3",
            "pandas<3",
            "sqlalchemy>=1.4.0,<3",
            "packaging<25",
            "scikit-learn<2",
            "cloudpickle<4",
        ),
    ),
    Dist("traitlets", "5.14.3"),
    Dist("ipykernel", "6.29.5", ("traitlets>=5.4.0",)),
    Dist("notebook", "7.2.2", ("traitlets",)),
    Dist("jupyter", "1.1.1", ("notebook", "ipykernel")),
    Dist("colorama", "0.4.6"),
    Dist("tomli", "2.0.1"),
    Dist("pytest", "8.3.3", ("packaging", "colorama; sys_platform == 'win32'", "tomli>=1; python_version < '3.11'")),
    # a project with only a pre-release, and one that needs a newer Python than any here
    Dist("nightly-tool", "2.0.0rc1"),
    Dist("future-only", "1.0.0", requires_python=">=3.99"),
)


def _metadata(dist: Dist) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {dist.name}", f"Version: {dist.version}"]
    if dist.requires_python:
        lines.append(f"Requires-Python: {dist.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in dist.requires]
    for extra, reqs in dist.extras.items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            marker = f"({req.split(';', 1)[1].strip()}) and extra == '{extra}'" if ";" in req else f"extra == '{extra}'"
            lines.append(f"Requires-Dist: {req.split(';', 1)[0].strip()}; {marker}")
    return "\n".join(lines) + "\n\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(dist: Dist, folder: Path) -> Path:
    """Write ``dist`` as a pure-Python wheel into ``folder`` (deterministic bytes)."""
    module = canonicalize_name(dist.name).replace("-", "_")
    info = f"{dist.name.replace('-', '_')}-{dist.version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{dist.version}"\n'.encode(),
        f"{info}/METADATA": _metadata(dist).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: envkit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n",
    }
    record = [_record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target = folder / dist.filename
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, data)
    return target


def build_index(root: Path, graph: tuple[Dist, ...] = GRAPH) -> Path:
    """Wheels in ``root/wheels`` and a PEP 503 index in ``root/simple``; returns ``root``."""
    wheels = root / "wheels"
    simple = root / "simple"
    wheels.mkdir(parents=True, exist_ok=True)
    by_project: dict[str, list[Dist]] = {}
    for dist in graph:
        build_wheel(dist, wheels)
        by_project.setdefault(canonicalize_name(dist.name), []).append(dist)
    simple.mkdir(exist_ok=True)
    links = []
    for project, dists in sorted(by_project.items()):
        page = simple / project
        page.mkdir(exist_ok=True)
        anchors = []
        for dist in dists:
            data = (wheels / dist.filename).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            attrs = f' data-requires-python="{html.escape(dist.requires_python)}"' if dist.requires_python else ""
            anchors.append(f'<a href="../../wheels/{dist.filename}#sha256={digest}"{attrs}>{dist.filename}</a><br/>')
        (page / "index.html").write_text(
            "<!DOCTYPE html>\n<html><body>\n" + "\n".join(anchors) + "\n</body></html>\n", encoding="utf-8"
        )
        links.append(f'<a href="{project}/">{project}</a><br/>')
    (simple / "index.html").write_text(
        "<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n", encoding="utf-8"
    )
    return root


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class IndexServer:
    """Serves a folder built by :func:`build_index` on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, root: Path) -> None:
        handler = partial(_QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple/"

    def __enter__(self) -> IndexServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve(root: Path) -> Iterator[IndexServer]:
    with IndexServer(root) as server:
        yield server
