"""``envkit show`` on every requirements file under ``../shared/examples``, in-process.

The table is read back by its columns (the rule line under the header gives each span)
and compared row by row; a cell the table cut to fit (ending in ``…``) must be a prefix
of the expected text. ``--json`` is compared whole for the kitchen sink and for the
course notes' list with its ``python==3.9`` line. Each example is also read by pip's own
parser (``tests/pip_oracle.py``), which must see the same requirements.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner, Result

import envkit
from envkit.cli import cli
from tests.pip_oracle import envkit_view, pip_view


class Row(NamedTuple):
    """One requirement as the table shows it (empty string: an empty cell)."""

    name: str
    version: str = ""
    extras: str = ""
    marker: str = ""
    source: str = ""  # the "from" column
    notes: str = ""
    line: str = ""


class Table(NamedTuple):
    title: str
    head: list[tuple[str, str]]  # "key: value" lines above the table
    rows: list[Row]


KITCHEN_HEAD = [
    ("index", "https://pypi.org/simple"),
    ("extra-index", "https://download.pytorch.org/whl/cpu"),
    ("extra-index", "https://${PRIVATE_INDEX_USER}:${PRIVATE_INDEX_TOKEN}@pypi.example.com/simple"),
    ("find-links", "./wheels"),
    ("trusted-hosts", "pypi.example.com"),
]

BASE_ROWS = [
    Row("mlflow", ">=2.14", line="base.txt:1"),
    Row("pyyaml", ">=6", line="base.txt:2"),
]

CONSTRAINT_ROWS = [
    Row("urllib3", "<3", notes="constraint", line="constraints.txt:1"),
    Row("protobuf", "<6,>=4.25", notes="constraint", line="constraints.txt:2"),
]

KITCHEN_ROWS = [
    *BASE_ROWS,
    *CONSTRAINT_ROWS,
    Row("numpy", "<3,>=1.26", marker='python_version >= "3.10"', line="requirements.txt:11"),
    Row("numpy", "<1.27", marker='python_version < "3.10"', line="requirements.txt:12"),
    Row("pandas", "~=2.2", extras="excel,performance", line="requirements.txt:13"),
    Row("scikit-learn", "==1.5.2", notes="2 hashes", line="requirements.txt:14"),
    Row("torch", "==2.4.1+cpu", marker='platform_system == "Linux"', line="requirements.txt:17"),
    Row("uvicorn", ">=0.30", extras="standard", line="requirements.txt:18"),
    Row("pywin32", ">=306", marker='sys_platform == "win32"', line="requirements.txt:19"),
    Row(
        "requests",
        extras="socks",
        source="https://files.example.com/packages/requests-2.32.3-py3-none-any.whl",
        line="requirements.txt:20",
    ),
    Row(
        "feature-store",
        source="editable git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store",
        line="requirements.txt:21",
    ),
    Row(
        "metrics",
        source="git+https://github.com/example/metrics.git@3f2a1c9#egg=metrics&subdirectory=python",
        line="requirements.txt:22",
    ),
    Row("(from build)", source="editable ./libs/preprocessing", line="requirements.txt:23"),
    Row("(from build)", source="./vendor/legacy_tool-0.9.tar.gz", line="requirements.txt:24"),
    Row("tokenizers", ">=0.19", notes="-C --build-option=--release", line="requirements.txt:25"),
    Row(
        "xgboost",
        ">=2.0",
        marker='(python_version >= "3.9" and platform_machine == "x86_64") or sys_platform == "darwin"',
        line="requirements.txt:26",
    ),
]

COURSE = ["mlflow", "jupyter", "scikit-learn", "pandas", "seaborn", "hyperopt", "xgboost"]
AS_TYPED = ["mlflow", "jupyter", "sckit-learn", "panadas", "seaborn", "hyperopt", "xgboost"]

PYTHON_WARNING = (
    "{path}:1:1: warning: 'python==3.9' names the Python interpreter, not a package (pip cannot install it);"
    " it is read as the Python version constraint"
)

#: example file -> (requirements, constraints, head lines, rows, stderr)
SHOWN: dict[str, tuple[int, int, list[tuple[str, str]], list[Row], str]] = {
    "kitchen-sink/requirements.txt": (16, 2, KITCHEN_HEAD, KITCHEN_ROWS, ""),
    "kitchen-sink/requirements-dev.txt": (
        20,
        2,
        KITCHEN_HEAD,
        [
            *KITCHEN_ROWS,
            Row("pytest", ">=8", line="requirements-dev.txt:2"),
            Row("pytest-cov", line="requirements-dev.txt:3"),
            Row("ruff", "==0.6.9", line="requirements-dev.txt:4"),
            Row("mypy", marker='implementation_name == "cpython"', line="requirements-dev.txt:5"),
        ],
        "",
    ),
    "kitchen-sink/base.txt": (2, 0, [], BASE_ROWS, ""),
    # read on its own, a constraints file is a list of requirements: only -c makes them constraints
    "kitchen-sink/constraints.txt": (
        2,
        0,
        [],
        [r._replace(notes="") for r in CONSTRAINT_ROWS],
        "",
    ),
    "mlops-zoomcamp/requirements.txt": (
        7,
        0,
        [],
        [Row(n, line=f"requirements.txt:{i}") for i, n in enumerate(COURSE, 1)],
        "",
    ),
    "mlops-zoomcamp/requirements-as-typed.txt": (
        7,
        0,
        [("python", "==3.9")],
        [Row(n, line=f"requirements-as-typed.txt:{i}") for i, n in enumerate(AS_TYPED, 2)],
        PYTHON_WARNING + "\n",
    ),
}


def _show(*args: str) -> Result:
    return CliRunner().invoke(cli, ["show", *args], catch_exceptions=False)


def _parse_table(output: str) -> Table:
    """Read ``envkit show``'s text back: title, ``key: value`` lines, rows by column span."""
    lines = output.rstrip("\n").split("\n")
    title = lines[0]
    blank = lines.index("")
    head = []
    for line in lines[1:blank]:
        key, _, value = line.partition(":")
        head.append((key, value.strip()))
    header, rule, *body = lines[blank + 1 :]
    spans = [m.span() for m in re.finditer(r"-+", rule)]
    names = [header[a:b].strip() for a, b in spans]
    assert names[:2] == ["#", "name"]
    fields = ["source" if n == "from" else n for n in names[2:]]  # "from" is a keyword
    assert set(fields) <= set(Row._fields), names
    rows = []
    for number, text in enumerate(body, 1):
        cells = [text[a:b].strip() for a, b in spans[:-1]] + [text[spans[-1][0] :].strip()]
        assert cells[0] == str(number)
        rows.append(Row(cells[1], **dict(zip(fields, cells[2:]))))
    return Table(title, head, rows)


def _fits(shown: str, expected: str) -> bool:
    """``shown`` is ``expected``, or ``expected`` cut to fit the column and ended with ``…``."""
    if shown == expected:
        return True
    return shown.endswith("…") and len(shown) > 1 and expected.startswith(shown[:-1])


def test_every_example_is_listed(examples: Path) -> None:
    found = sorted(str(p.relative_to(examples)) for p in examples.rglob("*.txt"))
    assert found == sorted(SHOWN)


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_show_table(name: str, examples: Path) -> None:
    n_req, n_con, head, rows, stderr = SHOWN[name]
    path = str(examples / name)
    result = _show(path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == stderr.format(path=path)
    shown = _parse_table(result.stdout)
    assert shown.title == f"{path}  (requirements, {n_req} requirements, {n_con} constraints)"
    assert shown.head == head
    assert len(shown.rows) == len(rows)
    for got, want in zip(shown.rows, rows):
        assert all(_fits(g, w) for g, w in zip(got, want)), f"shown {got}\nwanted {want}"


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_agrees_with_pip(name: str, examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the table shows is what pip reads (the local project folder pip insists on is made first)."""
    root = tmp_path / "examples"
    shutil.copytree(examples, root)
    (root / "kitchen-sink" / "libs" / "preprocessing").mkdir(parents=True)
    (root / "kitchen-sink" / "libs" / "preprocessing" / "pyproject.toml").write_text(
        '[project]\nname = "preprocessing"\nversion = "0"\n', encoding="utf-8"
    )
    folder, file = name.split("/")
    monkeypatch.chdir(root / folder)
    ours = envkit_view(envkit.load(file))
    pips = pip_view(file)
    # pip takes a 'python==3.9' line for a package called python; envkit reads it as the interpreter
    if name == "mlops-zoomcamp/requirements-as-typed.txt":
        assert pips["requirements"][0]["name"] == "python"
        del pips["requirements"][0]
    assert ours == pips


def test_show_separates_keys_from_values(examples: Path) -> None:
    result = _show(str(examples / "kitchen-sink" / "requirements.txt"))
    head = result.stdout.split("\n\n")[0].split("\n")[1:]
    assert all(re.fullmatch(r"[a-z-]+: +\S.*", line) for line in head), head


def _req(text: str, name: str | None, where: str, line: int, **fields: Any) -> dict[str, Any]:
    """One requirement of ``--json``: every field, defaults for those not given."""
    return {
        "name": name,
        "specifier": "",
        "extras": [],
        "marker": None,
        "url": None,
        "path": None,
        "editable": False,
        "constraint": False,
        "hashes": {},
        "options": {},
        "group": None,
        "index": None,
        "channel": None,
        "text": text,
        "comment": None,
        **fields,
        "origin": {"path": where, "line": line},
    }


def _options(**fields: Any) -> dict[str, Any]:
    return {
        "index_url": None,
        "extra_index_urls": [],
        "find_links": [],
        "no_index": False,
        "pre": False,
        "prefer_binary": False,
        "require_hashes": False,
        "no_require_hashes": False,
        "trusted_hosts": [],
        "no_binary": [],
        "only_binary": [],
        "all_releases": [],
        "only_final": [],
        "use_features": [],
        **fields,
    }


def _source(kind: str, url: str, has_credentials: bool = False) -> dict[str, Any]:
    return {
        "kind": kind,
        "url": url,
        "name": None,
        "priority": None,
        "verify_ssl": True,
        "has_credentials": has_credentials,
    }


def _document(path: str, requirements: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "format": "requirements",
        "path": path,
        "name": None,
        "python": None,
        "sources": [],
        "options": _options(),
        "requirements": requirements,
        "conda": [],
        "channels": [],
        "variables": {},
        "warnings": [],
        **fields,
    }


PRIVATE = "https://${PRIVATE_INDEX_USER}:${PRIVATE_INDEX_TOKEN}@pypi.example.com/simple"
TORCH_CPU = "https://download.pytorch.org/whl/cpu"


def kitchen_sink_json(folder: str) -> dict[str, Any]:
    """What ``envkit show --json`` must print for ``{folder}/requirements.txt``."""
    base, cons, main = (f"{folder}/{n}" for n in ("base.txt", "constraints.txt", "requirements.txt"))
    zeros = "0" * 63
    return _document(
        main,
        [
            _req("mlflow>=2.14", "mlflow", base, 1, specifier=">=2.14"),
            _req("pyyaml>=6", "pyyaml", base, 2, specifier=">=6"),
            _req("urllib3<3", "urllib3", cons, 1, specifier="<3", constraint=True),
            _req("protobuf>=4.25,<6", "protobuf", cons, 2, specifier="<6,>=4.25", constraint=True),
            _req(
                'numpy>=1.26,<3 ; python_version >= "3.10"',
                "numpy",
                main,
                11,
                specifier="<3,>=1.26",
                marker='python_version >= "3.10"',
            ),
            _req(
                'numpy<1.27 ; python_version < "3.10"',
                "numpy",
                main,
                12,
                specifier="<1.27",
                marker='python_version < "3.10"',
            ),
            _req(
                "pandas[performance,excel]~=2.2", "pandas", main, 13, specifier="~=2.2", extras=["excel", "performance"]
            ),
            _req(
                "scikit-learn==1.5.2",
                "scikit-learn",
                main,
                14,
                specifier="==1.5.2",
                hashes={"sha256": [zeros + "1", zeros + "2"]},
            ),
            _req(
                'torch==2.4.1+cpu ; platform_system == "Linux"',
                "torch",
                main,
                17,
                specifier="==2.4.1+cpu",
                marker='platform_system == "Linux"',
            ),
            _req(
                "uvicorn[standard] >= 0.30",
                "uvicorn",
                main,
                18,
                specifier=">=0.30",
                extras=["standard"],
                comment="the server",
            ),
            _req(
                'pywin32>=306 ; sys_platform == "win32"',
                "pywin32",
                main,
                19,
                specifier=">=306",
                marker='sys_platform == "win32"',
            ),
            _req(
                "requests[socks] @ https://files.example.com/packages/requests-2.32.3-py3-none-any.whl",
                "requests",
                main,
                20,
                extras=["socks"],
                url="https://files.example.com/packages/requests-2.32.3-py3-none-any.whl",
            ),
            _req(
                "git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store",
                "feature-store",
                main,
                21,
                url="git+https://github.com/example/feature-store.git@v0.4.1#egg=feature-store",
                editable=True,
            ),
            _req(
                "git+https://github.com/example/metrics.git@3f2a1c9#egg=metrics&subdirectory=python",
                "metrics",
                main,
                22,
                url="git+https://github.com/example/metrics.git@3f2a1c9#egg=metrics&subdirectory=python",
            ),
            _req("./libs/preprocessing", None, main, 23, path="./libs/preprocessing", editable=True),
            _req("./vendor/legacy_tool-0.9.tar.gz", None, main, 24, path="./vendor/legacy_tool-0.9.tar.gz"),
            _req(
                "tokenizers>=0.19",
                "tokenizers",
                main,
                25,
                specifier=">=0.19",
                options={"config_settings": {"--build-option": "--release"}},
            ),
            _req(
                'xgboost>=2.0; (python_version >= "3.9" and platform_machine == "x86_64") or sys_platform == "darwin"',
                "xgboost",
                main,
                26,
                specifier=">=2.0",
                marker='(python_version >= "3.9" and platform_machine == "x86_64") or sys_platform == "darwin"',
            ),
        ],
        sources=[
            _source("index", "https://pypi.org/simple"),
            _source("extra-index", TORCH_CPU),
            _source("extra-index", PRIVATE, has_credentials=True),
            _source("find-links", "./wheels"),
        ],
        options=_options(
            index_url="https://pypi.org/simple",
            extra_index_urls=[TORCH_CPU, PRIVATE],
            find_links=["./wheels"],
            trusted_hosts=["pypi.example.com"],
        ),
    )


def test_show_json_kitchen_sink(examples: Path) -> None:
    folder = str(examples / "kitchen-sink")
    result = _show("--json", f"{folder}/requirements.txt")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == kitchen_sink_json(folder)


def test_show_json_python_line(examples: Path) -> None:
    path = str(examples / "mlops-zoomcamp" / "requirements-as-typed.txt")
    result = _show("--json", path)
    assert result.exit_code == 0, result.stderr
    warning = PYTHON_WARNING.format(path=path)
    assert result.stderr == warning + "\n"
    assert json.loads(result.stdout) == _document(
        path,
        [_req(name, name, path, line) for line, name in enumerate(AS_TYPED, 2)],
        python="==3.9",
        warnings=[warning],
    )
