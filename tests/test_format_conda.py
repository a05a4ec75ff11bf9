"""conda's environment.yml: the name table, reading, writing in both modes, merging.

Golden files live in ``tests/data/conda/``; run with ``ENVKIT_UPDATE_GOLDEN=1`` to rewrite
them after a deliberate change (then read the diff). Every conda spec envkit writes is
checked with py-rattler's strict MatchSpec parser; the ``pip:`` lines with pip's own parser.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from ruamel.yaml import YAML

from envkit.errors import EnvkitError, ParseError
from envkit.formats import conda, requirements
from envkit.formats._base import Loss, Opener
from envkit.formats._toml import loads_toml
from envkit.model import Dependency, Environment, Origin, PipOptions, Source
from tests.strategies import REQUIREMENTS_FEATURES, environments

rattler = pytest.importorskip("rattler")

DATA = Path(__file__).parent / "data" / "conda"
UPDATE = os.environ.get("ENVKIT_UPDATE_GOLDEN") == "1"
TABLE_FILE = Path(conda.__file__).resolve().parent.parent / "data" / "conda_names.toml"


def golden(name: str, text: str) -> None:
    """Assert ``text`` equals the golden file ``name`` (or rewrite it when updating)."""
    path = DATA / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def yaml_data(text: str) -> Any:
    return YAML(typ="safe").load(text)


def conda_items(text: str) -> list[str]:
    deps = (yaml_data(text) or {}).get("dependencies") or []
    return [item for item in deps if isinstance(item, str)]


def pip_items(text: str) -> list[str]:
    deps = (yaml_data(text) or {}).get("dependencies") or []
    return [line for item in deps if isinstance(item, dict) for line in item.get("pip") or []]


def strict_specs(text: str, existing: str | None = None) -> None:
    """py-rattler's strict parser accepts every conda spec envkit wrote into ``text``.

    Items kept verbatim from ``existing`` are the user's, not ours, and are not checked.
    """
    theirs = set(conda_items(existing)) if existing else set()
    for spec in conda_items(text):
        if spec not in theirs:
            rattler.MatchSpec(spec, strict=True)


def opener_for(files: dict[str, str]) -> Opener:
    def opener(path: str) -> bytes:
        try:
            return files[posixpath.normpath(path)].encode()
        except KeyError:
            raise FileNotFoundError(2, "No such file or directory", path) from None

    return opener


def file_opener(path: str) -> bytes:
    return Path(path).read_bytes()


def loss_lines(losses: tuple[Loss, ...]) -> list[str]:
    return [str(loss) for loss in losses]


def summary(dep: Dependency) -> str:
    """A dependency in one line: name, specifier, channel, location, flags."""
    out = f"{dep.name}{dep.specifier}"
    if dep.channel:
        out = f"{dep.channel}::{out}"
    if dep.location:
        out += f" @ {dep.location}"
    if dep.editable:
        out += " (editable)"
    return out


def reqs(text: str) -> Environment:
    return requirements.loads(text, "requirements.txt")


# ---------------------------------------------------------------------------------------
# detect


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("environment.yml", "", True),
        ("proj/environment.yaml", "", True),
        ("conda.yaml", "", True),
        ("ENVIRONMENT.YML", "", True),
        ("env/dev.yml", "name: dev\ndependencies:\n  - numpy\n", True),
        ("env/dev.yml", "name: dev\nsteps:\n  - run: x\n", False),  # some other YAML
        ("requirements.txt", "dependencies:\n", False),
        ("pyproject.toml", "[project]\ndependencies = []\n", False),
        (None, "channels: [conda-forge]\ndependencies: [numpy]\n", True),
        (None, "numpy>=1\n", False),
    ],
)
def test_detect(path: str | None, text: str, expected: bool) -> None:
    assert conda.detect(path, text) is expected


def test_detect_claims_only_the_conda_files_of_the_corpus(corpus: Path) -> None:
    claimed = sorted(
        p.name
        for p in (corpus / "other-formats").iterdir()
        if p.is_file() and conda.detect(p.name.rsplit("__", 1)[-1], p.read_text(encoding="utf-8"))
    )
    assert claimed == sorted(case[0] for case in CORPUS)


# ---------------------------------------------------------------------------------------
# The name table


def test_name_table_has_150_checked_entries() -> None:
    data = loads_toml(TABLE_FILE.read_text(encoding="utf-8"), str(TABLE_FILE))
    entries = data["pypi"]
    assert len(entries) >= 150
    unchecked = {k: v["source"] for k, v in entries.items() if not v["source"].endswith("-feedstock")}
    assert unchecked == {"fsspec": "conda-forge/pytorch-cpu-feedstock (run requirement)"}
    assert all(v["source"].startswith("conda-forge/") for v in entries.values())
    assert all(set(v) <= {"conda", "source", "aliases", "note"} for v in entries.values())


@pytest.mark.parametrize(
    ("pypi", "conda_name"),
    [
        ("torch", "pytorch"),
        ("tables", "pytables"),
        ("msgpack", "msgpack-python"),
        ("graphviz", "python-graphviz"),
        ("Pillow", "pillow"),
        ("scikit_learn", "scikit-learn"),
        ("jupyter-client", "jupyter_client"),
        ("typing_extensions", "typing_extensions"),
        ("redis", "redis-py"),
        ("tzdata", "python-tzdata"),
        ("numpy", "numpy"),
        ("mlflow", "mlflow"),
        ("hyperopt", "hyperopt"),
        ("xgboost", "xgboost"),
        ("seaborn", "seaborn"),
        ("sckit-learn", None),
        ("opencv-python", None),
    ],
)
def test_name_table_to_conda(pypi: str, conda_name: str | None) -> None:
    assert conda.load_name_table().conda_name(pypi) == conda_name


@pytest.mark.parametrize(
    ("conda_name", "pypi", "conda_only"),
    [
        ("pytorch", "torch", False),
        ("PyTorch", "torch", False),
        ("py-xgboost", "xgboost", False),
        ("matplotlib-base", "matplotlib", False),
        ("python-graphviz", "graphviz", False),
        ("graphviz", None, True),
        ("pip", None, True),
        ("cudatoolkit", None, True),
        ("pytorch-cuda", None, True),
        ("mkl", None, True),
        ("r-ggplot2", None, True),
        ("libgcc-ng", None, True),
        ("cuda-nvcc", None, True),
        ("_openmp_mutex", None, True),
        ("gxx_linux-64", None, True),
        ("fortran-compiler", None, True),
        ("librosa", "librosa", False),  # a table entry beats the lib- rule
        ("fvcore", None, False),  # unknown: presumed to be the PyPI project
    ],
)
def test_name_table_from_conda(conda_name: str, pypi: str | None, conda_only: bool) -> None:
    table = conda.load_name_table()
    assert (table.pypi_name(conda_name), table.is_conda_only(conda_name)) == (pypi, conda_only)


def test_name_table_extended_by_a_user_file() -> None:
    table = conda.load_name_table(
        '[pypi]\nninja = { conda = "ninja" }\nmy-lib = { conda = "my_lib", aliases = ["my-lib-core"] }\n'
        '[conda-only]\nnames = ["fvcore"]\nprefixes = ["corp-"]\n'
    )
    assert table.conda_name("my_lib") == "my_lib"
    assert table.pypi_name("my-lib-core") == "my-lib"
    assert table.pypi_name("ninja") == "ninja" and not table.is_conda_only("ninja")
    assert table.is_conda_only("fvcore") and table.is_conda_only("corp-tools")
    assert table.conda_name("torch") == "pytorch"  # the built-in entries stay
    env = conda.loads("dependencies:\n  - ninja=1.11\n  - fvcore\n", names=table)
    assert ([summary(d) for d in env.requirements], env.conda) == (["ninja==1.11.*"], ("fvcore",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[pypi]\nfoo = 1\n",
            "names.toml:2:1: [pypi] foo: expected a table with a string 'conda' (the conda-forge name)\n"
            "    foo = 1\n"
            "    ^^^",
        ),
        (
            '[pypi]\nfoo = { conda = "foo", aliases = "x" }\n',
            "names.toml:2:1: [pypi] foo: 'aliases' must be a list of strings\n"
            '    foo = { conda = "foo", aliases = "x" }\n'
            "    ^^^",
        ),
        (
            '[conda-only]\nnames = "cuda"\n',
            'names.toml:2:1: [conda-only] names must be a list of strings\n    names = "cuda"\n    ^^^^^',
        ),
        ("pypi = 3\n", "names.toml:1:1: 'pypi' must be a table\n    pypi = 3\n    ^^^^"),
        (
            "[pypi\n",
            "names.toml:1:6: invalid TOML: Expected ']' at the end of a table declaration\n    [pypi\n         ^",
        ),
    ],
)
def test_name_table_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        conda.load_name_table(text, "names.toml")
    assert str(info.value) == message


# ---------------------------------------------------------------------------------------
# Reading


def test_example_reads(examples: Path) -> None:
    path = str(examples / "conda" / "environment.yml")
    env = conda.loads(Path(path).read_text(encoding="utf-8"), path, opener=file_opener)
    assert (env.name, env.format, env.python, env.channels, env.variables, env.conda) == (
        "churn-model",
        "conda",
        SpecifierSet("==3.11.*"),
        ("conda-forge", "pytorch"),
        (("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"),),
        ("cudatoolkit=11.8",),  # the bare 'pip' is implied by the pip: list
    )
    assert [summary(d) for d in env.requirements] == [
        "numpy>=1.26",
        "pandas==2.2.*",
        "scikit-learn!=1.6,<=1.6,>=1.4",
        "pytorch::torch==2.4.*",
        "mlflow==2.16.2",
        "hyperopt",
        "None @ ./src (editable)",
    ]
    assert env.sources == (Source("extra-index", "https://download.pytorch.org/whl/cpu"),)
    assert [(d.origin.line, d.origin.column) for d in env.requirements if d.origin] == [
        (7, 5),
        (8, 5),
        (9, 5),
        (10, 5),
        (15, 9),
        (16, 9),
        (17, 12),
    ]
    assert env.notes == ()


CORPUS = [
    (
        "CompVis__stable-diffusion__environment.yaml",
        "ldm",
        "==3.8.5.*",
        ("pip=20.3", "cudatoolkit=11.3"),
        ["torch==1.11.0.*", "torchvision==0.12.0.*", "numpy==1.19.2.*", "albumentations==0.4.3"],
        22,
    ),
    (
        "NVlabs__stylegan3__environment.yml",
        "stylegan3",
        ">=3.8",
        ("cudatoolkit=11.1", "ninja=1.10.2"),
        ["numpy>=1.20", "click>=8.0", "pillow==8.3.1.*", "scipy==1.7.1.*"],
        14,
    ),
    (
        "ageron__handson-ml2__environment.yml",
        "tf2",
        "==3.8.*",
        ("graphviz", "opencv=4.5"),
        ["box2d-py", "ftfy==6.0.*", "ipython==7.28.*", "ipywidgets==7.6.*"],
        41,
    ),
    (
        "facebookresearch__dinov2__conda.yaml",
        "dinov2",
        "==3.9.*",
        ("pytorch::pytorch-cuda=11.7.0",),
        ["pytorch::torch==2.0.0.*", "pytorch::torchvision==0.15.0.*", "omegaconf", "torchmetrics==0.10.3.*"],
        9,
    ),
    ("lllyasviel__Fooocus__environment.yaml", "fooocus", "==3.10.*", ("pip=23.0",), ["packaging"], 1),
    (
        "pytorch__serve__examples_speech2text_wav2vec2_environment.yml",
        "wav2vec2env",
        ">=3.10",
        (),
        ["transformers", "torch", "torchaudio", "torch-workflow-archiver"],
        6,
    ),
]


@pytest.mark.parametrize(("name", "env_name", "python", "conda_only", "first", "count"), CORPUS)
def test_corpus_files_read(
    corpus: Path, name: str, env_name: str, python: str, conda_only: tuple[str, ...], first: list[str], count: int
) -> None:
    path = corpus / "other-formats" / name
    env = conda.loads(path.read_text(encoding="utf-8"), str(path))
    assert (env.name, str(env.python), env.conda) == (env_name, python, conda_only)
    assert [summary(d) for d in env.requirements[:4]] == first
    assert len(env.requirements) == count
    assert env.notes == ()


def test_every_corpus_conda_file_is_read(corpus: Path) -> None:
    names = sorted(p.name for p in (corpus / "other-formats").iterdir() if p.suffix in (".yml", ".yaml"))
    assert names == sorted(case[0] for case in CORPUS)


def test_corpus_comments_and_pip_section(corpus: Path) -> None:
    path = corpus / "other-formats" / "ageron__handson-ml2__environment.yml"
    env = conda.loads(path.read_text(encoding="utf-8"), str(path))
    by_name = {d.name: d for d in env.requirements}
    assert by_name["numpy"].comment == "Powerful n-dimensional arrays and numerical computing tools"
    assert by_name["xgboost"].text == "py-xgboost=1.4"
    assert (summary(by_name["gym"]), sorted(by_name["gym"].extras)) == ("gym~=0.21.0", ["accept-rom-license", "atari"])
    assert by_name["gym"].comment == "used only in chapter 18"
    assert by_name["typing-extensions"].origin == Origin(str(path), 54, 5, "  - typing-extensions=3.7")


READS = [
    # (environment.yml, requirements, conda-only, python, notes)
    ("dependencies:\n  - python\n", [], (), None, []),
    ("dependencies:\n  - python=3.11\n  - python<3.12\n", [], (), "!=3.12,<=3.12,==3.11.*", []),
    ("dependencies:\n  - numpy 1.26.4\n  - numpy==1.26.4\n", ["numpy==1.26.4", "numpy==1.26.4"], (), None, []),
    ("dependencies:\n  - numpy>1.2,<2dev0\n", ["numpy!=1.2,<2,>=1.2"], (), None, []),
    ("dependencies:\n  - conda-forge::numpy\n", ["conda-forge::numpy"], (), None, []),
    ("dependencies:\n  - 'numpy >=1.0 , <2'\n", ["numpy!=2,<=2,>=1.0"], (), None, []),
    ("dependencies:\n  - libgcc-ng>=12\n  - r-base=4.3\n", [], ("libgcc-ng>=12", "r-base=4.3"), None, []),
    (
        "dependencies:\n  - pytorch=2.0.0=py3.9_cuda11.7_cudnn8.5.0_0\n",
        [],
        ("pytorch=2.0.0=py3.9_cuda11.7_cudnn8.5.0_0",),
        None,
        [
            "environment.yml:2:5: warning: 'pytorch=2.0.0=py3.9_cuda11.7_cudnn8.5.0_0' is kept as a conda-only"
            " package: the build string 'py3.9_cuda11.7_cudnn8.5.0_0' has no pip form"
        ],
    ),
    (
        "dependencies:\n  - numpy 1.2|1.4\n",
        [],
        ("numpy 1.2|1.4",),
        None,
        [
            "environment.yml:2:5: warning: 'numpy 1.2|1.4' is kept as a conda-only package: '1.2|1.4' uses"
            " conda's '|' (or), which PEP 440 cannot express"
        ],
    ),
    (
        "dependencies:\n  - python=3.11=*_cpython\n",
        [],
        ("python=3.11=*_cpython",),
        None,
        [
            "environment.yml:2:5: warning: 'python=3.11=*_cpython' is kept as a conda-only package: the build"
            " string '*_cpython' has no pip form"
        ],
    ),
    (
        "prefix: /opt/envs/x\nplatforms: [linux-64]\ndependencies: [numpy]\n",
        ["numpy"],
        (),
        None,
        [
            "environment.yml:1:1: warning: 'prefix' names a directory on one machine; envkit ignores it",
            "environment.yml:2:1: warning: unknown key 'platforms' is ignored (conda reads name, channels,"
            " dependencies, variables, prefix)",
        ],
    ),
    (
        "dependencies:\n  - pip:\n    - python==3.9\n",
        [],
        (),
        "==3.9",
        [
            "environment.yml:3:7: warning: 'python==3.9' names the Python interpreter, not a package (pip cannot"
            " install it); it is read as the Python version constraint"
        ],
    ),
    ("", [], (), None, []),
    ("dependencies:\n", [], (), None, []),
    ("dependencies:\n  - pip:\n", [], (), None, []),
]


@pytest.mark.parametrize(("text", "deps", "conda_only", "python", "notes"), READS)
def test_reads(text: str, deps: list[str], conda_only: tuple[str, ...], python: str | None, notes: list[str]) -> None:
    env = conda.loads(text)
    assert [summary(d) for d in env.requirements] == deps
    assert env.conda == conda_only
    assert (str(env.python) if env.python is not None else None) == python
    assert [str(n) for n in env.notes] == notes


def test_variables_channels_and_name() -> None:
    env = conda.loads("name: 42\nchannels:\n  - conda-forge\n  - nodefaults\nvariables:\n  N: 3\n  URI: x:y\n")
    assert (env.name, env.channels, env.variables) == (
        "42",
        ("conda-forge", "nodefaults"),
        (("N", "3"), ("URI", "x:y")),
    )


def test_pip_section_is_a_requirements_file() -> None:
    text = (
        "dependencies:\n"
        "  - pip:\n"
        "    - --index-url https://${USER}:${TOKEN}@pypi.example.com/simple\n"
        "    - --find-links ./wheels\n"
        "    - --pre\n"
        "    - -r requirements/base.txt\n"
        "    - -c constraints.txt\n"
        "    - 'foo[bar]>=1 ; python_version < \"3.12\"  # why'\n"
        "    - -e git+https://github.com/org/repo.git@v1#egg=repo\n"
        "    - ./dist/pkg-1.0-py3-none-any.whl --hash=sha256:abc\n"
    )
    files = {
        "proj/requirements/base.txt": "numpy==1.26.4\n",
        "proj/constraints.txt": "urllib3<3\n",
    }
    env = conda.loads(text, "proj/environment.yml", opener=opener_for(files))
    assert [summary(d) for d in env.requirements] == [
        "numpy==1.26.4",
        "urllib3<3",
        "foo>=1",
        "repo @ git+https://github.com/org/repo.git@v1#egg=repo (editable)",
        "pkg==1.0 @ ./dist/pkg-1.0-py3-none-any.whl",
    ]
    assert [d.constraint for d in env.requirements] == [False, True, False, False, False]
    assert [d.origin.path if d.origin else None for d in env.requirements] == [
        "proj/requirements/base.txt",
        "proj/constraints.txt",
        "proj/environment.yml",
        "proj/environment.yml",
        "proj/environment.yml",
    ]
    foo = env.requirements[2]
    assert (foo.comment, str(foo.marker), foo.origin) == (
        "why",
        'python_version < "3.12"',
        Origin("proj/environment.yml", 8, 8, "    - 'foo[bar]>=1 ; python_version < \"3.12\"  # why'"),
    )
    assert env.sources == (
        Source("index", "https://pypi.example.com/simple", "${USER}", "${TOKEN}"),
        Source("find-links", "./wheels"),
    )
    assert env.options == PipOptions(pre=True)
    assert env.requirements[4].hashes == (("sha256", "abc"),)


ERRORS = [
    (
        "name: [unclosed\n",
        "environment.yml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'\n    \n    ^",
    ),
    (
        "- numpy\n",
        "environment.yml:1:1: expected a mapping with 'name', 'channels' and 'dependencies'\n    - numpy\n    ^",
    ),
    (
        "dependencies: numpy\n",
        "environment.yml:1:15: 'dependencies' must be a list\n    dependencies: numpy\n                  ^",
    ),
    (
        "channels: conda-forge\n",
        "environment.yml:1:11: 'channels' must be a list of channel names\n    channels: conda-forge\n              ^",
    ),
    ("channels:\n  - [a]\n", "environment.yml:2:5: expected a channel name\n      - [a]\n        ^"),
    ("name: [x]\n", "environment.yml:1:7: 'name' must be a string\n    name: [x]\n          ^"),
    (
        "variables: [a]\n",
        "environment.yml:1:12: 'variables' must be a mapping of names to values\n    variables: [a]\n               ^",
    ),
    ("variables:\n  A: [1]\n", "environment.yml:2:3: variable 'A' must have a string value\n      A: [1]\n      ^"),
    (
        "dependencies:\n  - 3\n",
        "environment.yml:2:5: expected a package spec (a string) or 'pip:' with a list\n      - 3\n        ^",
    ),
    (
        "dependencies:\n  - numpy\n  - num$py>=1\n",
        "environment.yml:3:8: invalid package spec 'num$py>=1': invalid package name 'num$py'\n      - num$py>=1\n           ^",
    ),
    (
        "dependencies:\n  - numpy>=\n",
        "environment.yml:2:10: invalid package spec 'numpy>=': '>=' has no version after the operator\n"
        "      - numpy>=\n"
        "             ^^",
    ),
    (
        "dependencies:\n  - npm:\n    - left-pad\n",
        "environment.yml:2:5: unknown installer 'npm': conda reads only 'pip:' inside dependencies\n"
        "      - npm:\n        ^^^",
    ),
    (
        "dependencies:\n  - pip: numpy\n",
        "environment.yml:2:10: 'pip:' must be a list of requirement lines\n      - pip: numpy\n             ^",
    ),
    (
        "dependencies:\n  - pip:\n    - [a]\n",
        "environment.yml:3:7: expected a requirement line (a string) under 'pip:'\n        - [a]\n          ^",
    ),
    (
        "dependencies:\n  - pip:\n    - numpy\n    - pandas>=>2\n",
        "environment.yml:4:13: invalid requirement: invalid version specifier '>=>2'\n"
        "        - pandas>=>2\n"
        "                ^^^^",
    ),
    (
        'dependencies:\n  - pip:\n      - "--no-such-option"\n',
        "environment.yml:3:10: no such option: --no-such-option\n"
        '          - "--no-such-option"\n'
        "             ^^^^^^^^^^^^^^^^\n"
        "  hint: did you mean --global-option?",
    ),
    (
        "dependencies:\n  - pip:\n    - -r missing.txt\n",
        "environment.yml:3:10: cannot read included file 'missing.txt': this reader was given no file opener\n"
        "        - -r missing.txt\n"
        "             ^^^^^^^^^^^",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        conda.loads(text)
    assert str(info.value) == message


def test_include_errors_name_the_resolved_file() -> None:
    with pytest.raises(ParseError) as info:
        conda.loads("dependencies:\n  - pip:\n    - -r sub/reqs.txt\n", "proj/environment.yml", opener=opener_for({}))
    assert str(info.value) == (
        "proj/environment.yml:3:10: cannot read included file 'sub/reqs.txt' (proj/sub/reqs.txt): No such file or directory\n"
        "        - -r sub/reqs.txt\n"
        "             ^^^^^^^^^^^^"
    )


def test_errors_inside_included_files_point_there() -> None:
    files = {"proj/base.txt": "numpy\nfoo==\n"}
    with pytest.raises(ParseError) as info:
        conda.loads("dependencies:\n  - pip:\n    - -r base.txt\n", "proj/environment.yml", opener=opener_for(files))
    assert str(info.value).startswith("proj/base.txt:2:4: invalid requirement")


# ---------------------------------------------------------------------------------------
# Writing new files (golden files; each is read back and checked by rattler)


def example_env(examples: Path) -> Environment:
    path = examples / "conda" / "environment.yml"
    return conda.loads(path.read_text(encoding="utf-8"), str(path), opener=file_opener)


def kitchen_env(examples: Path) -> Environment:
    path = examples / "kitchen-sink" / "requirements.txt"
    return requirements.loads(path.read_text(encoding="utf-8"), str(path), opener=file_opener)


def relative(losses: tuple[Loss, ...], examples: Path) -> str:
    return "".join(line.replace(str(examples), "$EXAMPLES") + "\n" for line in loss_lines(losses))


@pytest.mark.parametrize("mode", conda.MODES)
def test_golden_example(examples: Path, mode: str) -> None:
    env = example_env(examples)
    rendered = conda.dumps(env, mode=mode)
    golden(f"example.{mode}.yml", rendered.text)
    golden(f"example.{mode}.losses", relative(rendered.losses, examples))
    strict_specs(rendered.text)
    back = conda.loads(rendered.text, str(examples / "conda" / "environment.yml"), opener=file_opener)
    if mode == "native":
        assert back == env
    else:  # only the channel of pytorch::pytorch is lost
        assert back == env.with_changes(requirements=tuple(d.with_changes(channel=None) for d in env.requirements))


@pytest.mark.parametrize("mode", conda.MODES)
def test_golden_kitchen_sink(examples: Path, mode: str) -> None:
    env = kitchen_env(examples)
    rendered = conda.dumps(env, mode=mode)
    golden(f"kitchen-sink.{mode}.yml", rendered.text)
    golden(f"kitchen-sink.{mode}.losses", relative(rendered.losses, examples))
    assert dict(rendered.files) == {"constraints.txt": "urllib3<3\nprotobuf<6,>=4.25\n"}
    strict_specs(rendered.text)
    files = {"proj/" + name: text for name, text in rendered.files.items()}
    back = conda.loads(rendered.text, "proj/environment.yml", opener=opener_for(files))
    assert back == env.with_changes(channels=("conda-forge",))  # conda needs a channel


def test_golden_mlops_zoomcamp(examples: Path) -> None:
    path = examples / "mlops-zoomcamp" / "requirements-as-typed.txt"
    env = requirements.loads(path.read_text(encoding="utf-8"), str(path))
    rendered = conda.dumps(env)
    golden("mlops-zoomcamp.native.yml", rendered.text)
    assert rendered.losses == ()
    strict_specs(rendered.text)
    assert conda.loads(rendered.text) == env.with_changes(channels=("conda-forge",))


@pytest.mark.parametrize("mode", conda.MODES)
def test_pip_reads_the_pip_section(examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """pip's own parser reads the pip: lines as envkit does (conda hands them to pip as a file)."""
    from tests.pip_oracle import envkit_view, pip_view

    rendered = conda.dumps(kitchen_env(examples), mode=mode)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "libs" / "preprocessing").mkdir(parents=True)
    (tmp_path / "libs" / "preprocessing" / "pyproject.toml").write_text("[project]\nname = 'preprocessing'\n")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "legacy_tool-0.9.tar.gz").write_bytes(b"")
    for name, text in rendered.files.items():
        (tmp_path / name).write_text(text)
    lines = pip_items(rendered.text)
    (tmp_path / "requirements.txt").write_text("\n".join(lines) + "\n")
    ours = requirements.loads("\n".join(lines), "requirements.txt", opener=file_opener)
    assert pip_view("requirements.txt") == envkit_view(ours)
    assert len(ours.requirements) == (16 if mode == "native" else 18)  # native: mlflow, pyyaml from conda


# ---------------------------------------------------------------------------------------
# Losses: whatever the file cannot say is reported


def test_unknown_mode() -> None:
    with pytest.raises(EnvkitError) as info:
        conda.dumps(Environment(), mode="mamba")
    assert str(info.value) == "unknown conda mode 'mamba' (choose from native, pip)"


LOSSES = [
    (
        Environment(requirements=(Dependency("requests", group="dev", text="requests"),)),
        "native",
        ["transformed: requests: group 'dev' flattened into the main list"],
    ),
    (
        Environment(
            requirements=(Dependency("torch", SpecifierSet("==2.4.*"), index="pytorch", text="torch==2.4.*"),),
            sources=(Source("extra-index", "https://download.pytorch.org/whl/cpu", name="pytorch"),),
            format="pipfile",
        ),
        "native",
        [
            "transformed: torch==2.4.*: pip cannot tie one requirement to index 'pytorch'; the index serves every"
            " package under pip:",
            "transformed: source pytorch: a requirements file cannot name a source; its URL is kept",
        ],
    ),
    (
        Environment(requirements=(Dependency("torch", SpecifierSet("==2.4.*"), channel="pytorch", text="x"),)),
        "pip",
        ["lost: x: pip cannot install from conda channel 'pytorch'; under pip:"],
    ),
    (
        Environment(python=SpecifierSet(">3.8")),
        "native",
        [
            "lost: python >3.8: no exact conda form (pip's '>3.8' excludes the post-releases of 3.8; conda's '>'"
            " admits them); 'python' is written"
        ],
    ),
    (
        Environment(requirements=(Dependency(None, path="./src", editable=True, marker=None, text="-e ./src"),)),
        "native",
        [],
    ),
    (
        Environment(
            requirements=(Dependency("numpy", text="numpy"), Dependency("foo", text="foo")),
            options=PipOptions(pre=True),
        ),
        "native",
        ["transformed: --pre: applies only to the packages under pip:; 1 package(s) are installed from conda channels"],
    ),
]


@pytest.mark.parametrize(("env", "mode", "expected"), LOSSES)
def test_losses(env: Environment, mode: str, expected: list[str]) -> None:
    rendered = conda.dumps(env, mode=mode)
    assert loss_lines(rendered.losses) == expected
    strict_specs(rendered.text)


# ---------------------------------------------------------------------------------------
# Merging into existing files: only the items that change are rewritten


REAL_FILES = [f"corpus:{case[0]}" for case in CORPUS] + ["examples:conda/environment.yml"]


@pytest.mark.parametrize("which", REAL_FILES)
def test_merge_of_a_file_into_itself_changes_nothing(which: str, corpus: Path, examples: Path) -> None:
    kind, name = which.split(":")
    path = (corpus / "other-formats" / name) if kind == "corpus" else (examples / name)
    text = path.read_text(encoding="utf-8")
    env = conda.loads(text, str(path), opener=file_opener)
    rendered = conda.dumps(env, existing=text)
    assert (rendered.text, rendered.losses) == (text, ())


def test_merge_keeps_every_untouched_byte(examples: Path) -> None:
    text = (examples / "conda" / "environment.yml").read_text(encoding="utf-8")
    env = example_env(examples)
    deps: list[Dependency] = []
    for dep in env.requirements:
        if dep.name == "hyperopt":
            continue
        if dep.name == "mlflow":
            dep = dep.with_changes(specifier=SpecifierSet("==2.17.0"), comment="bumped")
        if dep.name == "numpy":
            dep = dep.with_changes(specifier=SpecifierSet(">=1.26,<2"))
        deps.append(dep)
    deps.insert(3, Dependency("lightgbm", SpecifierSet(">=4"), text="lightgbm>=4", comment="new"))
    deps.append(Dependency("requests", extras=frozenset({"socks"}), text="requests[socks]"))
    changed = env.with_changes(
        requirements=tuple(deps), channels=(*env.channels, "nvidia"), conda=(*env.conda, "cudnn")
    )
    rendered = conda.dumps(changed, existing=text)
    assert rendered.text == (
        "name: churn-model\n"
        "channels:\n"
        "  - conda-forge\n"
        "  - pytorch\n"
        "  - nvidia\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - numpy>=1.26,<2dev0\n"
        "  - pandas=2.2.*\n"
        "  - scikit-learn>=1.4,<1.6\n"
        "  - pytorch::pytorch=2.4\n"
        "  - cudatoolkit=11.8   # conda-only: no PyPI equivalent\n"
        "  - lightgbm>=4  # new\n"
        "  - cudnn\n"
        "  - pip\n"
        "  - pip:\n"
        "      - --extra-index-url https://download.pytorch.org/whl/cpu\n"
        "      - mlflow==2.17.0  # bumped\n"
        "      - -e ./src\n"
        "      - requests[socks]\n"
        "variables:\n"
        "  MLFLOW_TRACKING_URI: sqlite:///mlflow.db\n"
    )
    assert rendered.losses == ()
    strict_specs(rendered.text, text)
    assert conda.loads(rendered.text, str(examples / "conda" / "environment.yml"), opener=file_opener) == changed


def test_merge_from_requirements_in_both_modes(examples: Path) -> None:
    text = (examples / "conda" / "environment.yml").read_text(encoding="utf-8")
    env = reqs(
        "# requires-python: ==3.11.*\nnumpy>=1.26\npandas==2.2.*\nscikit-learn>=1.4,<1.7\ntorch==2.4.*\n-e ./src\n"
    )
    native = conda.dumps(env, existing=text)
    assert native.text == (
        "name: churn-model\n"
        "channels:\n"
        "  - conda-forge\n"
        "  - pytorch\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - numpy>=1.26\n"
        "  - pandas=2.2.*\n"
        "  - scikit-learn>=1.4,<1.7dev0\n"
        "  - pytorch 2.4.*\n"
        "  - pip\n"
        "  - pip:\n"
        "      - -e ./src\n"
        "variables:\n"
        "  MLFLOW_TRACKING_URI: sqlite:///mlflow.db\n"
    )
    assert native.losses == ()
    strict_specs(native.text, text)
    as_pip = conda.dumps(env, existing=text, mode="pip")
    assert as_pip.text == (
        "name: churn-model\n"
        "channels:\n"
        "  - conda-forge\n"
        "  - pytorch\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - pip\n"
        "  - pip:\n"
        "      - -e ./src\n"
        "      - numpy>=1.26\n"
        "      - pandas==2.2.*\n"
        "      - scikit-learn<1.7,>=1.4\n"
        "      - torch==2.4.*\n"
        "variables:\n"
        "  MLFLOW_TRACKING_URI: sqlite:///mlflow.db\n"
    )


MERGES = [
    # (existing, environment to write, expected text)
    (  # in place: the comment stays, quotes go, the alias stays; python was missing
        '# my env\nname: x\ndependencies:\n  - numpy>=1.20  # arrays\n  - "pandas"\n  - py-xgboost=1.4\n',
        reqs("numpy>=1.26\npandas>=2\nxgboost==1.5.*\n"),
        "# my env\nname: x\ndependencies:\n  - numpy>=1.26  # arrays\n  - pandas>=2\n  - py-xgboost 1.5.*\n"
        "  - python\n",
    ),
    (  # flow lists become block lists; requests stays under pip: where the file had it
        "name: x\nchannels: [defaults]  # ours\ndependencies: [numpy, pip, {pip: [requests]}]\nvariables: {A: b}\n",
        reqs("numpy\nrequests\nrich\n").with_changes(channels=("conda-forge",)),
        "name: x\nchannels:\n  - defaults\n  - conda-forge\ndependencies:\n  - python\n  - numpy\n  - rich\n  - pip\n"
        "  - pip:\n      - requests\nvariables: {A: b}\n",
    ),
    (  # an empty list is filled under its key; prefix stays
        "name: x\ndependencies:  # filled by envkit\nprefix: /opt/x\n",
        reqs("numpy\nfoo\n"),
        "name: x\ndependencies:  # filled by envkit\n  - python\n  - numpy\n  - pip\n  - pip:\n      - foo\n"
        "prefix: /opt/x\n",
    ),
    (
        "dependencies: null  # none yet\n",
        reqs("numpy\n"),
        "dependencies:  # none yet\n  - python\n  - numpy\n",
    ),
    (  # the pip: list we emptied is pruned, with the pip it needed
        "channels:\n- conda-forge\ndependencies:\n- python=3.10\n- pip\n- pip:\n  - requests\n  - rich\n- numpy\n",
        reqs("# requires-python: ==3.10.*\nnumpy\n"),
        "channels:\n- conda-forge\ndependencies:\n- python=3.10\n- numpy\n",
    ),
    (  # new option lines go first in pip:, at its indentation
        "channels:\n  - conda-forge\ndependencies:\n  - python\n  - pip\n  - pip:\n    - mlflow==2.16\n",
        reqs("mlflow==2.17\n--extra-index-url https://example.com/simple\n").with_changes(format="conda"),
        "channels:\n  - conda-forge\ndependencies:\n  - python\n  - pip\n  - pip:\n"
        "    - --extra-index-url https://example.com/simple\n    - mlflow==2.17\n",
    ),
    (  # a file without variables gains ours
        "dependencies:\n  - numpy\n",
        reqs("numpy\n").with_changes(variables=(("A", "1"), ("URI", "sqlite:///x.db"))),
        'dependencies:\n  - numpy\n  - python\nvariables:\n  A: "1"\n  URI: sqlite:///x.db\n',
    ),
    (  # no final newline: kept when nothing follows our edit, added when something does
        "dependencies:\n  - python\n  - numpy",
        reqs("numpy\n"),
        "dependencies:\n  - python\n  - numpy",
    ),
    (
        "dependencies:\n  - python\n  - numpy",
        reqs("numpy\nscipy\n"),
        "dependencies:\n  - python\n  - numpy\n  - scipy\n",
    ),
    (  # Windows line ends stay Windows line ends
        "dependencies:\r\n  - numpy  # n\r\n",
        reqs("numpy>=2\nscipy\n"),
        "dependencies:\r\n  - numpy>=2  # n\r\n  - python\r\n  - scipy\r\n",
    ),
    (  # a whole-line YAML comment between items stays where it is
        "dependencies:\n  - numpy\n  # plotting\n  - matplotlib\n",
        reqs("numpy\nmatplotlib>=3.8\n"),
        "dependencies:\n  - numpy\n  # plotting\n  - matplotlib>=3.8\n  - python\n",
    ),
]


@pytest.mark.parametrize(("existing", "env", "expected"), MERGES)
def test_merges(existing: str, env: Environment, expected: str) -> None:
    rendered = conda.dumps(env, existing=existing)
    assert rendered.text == expected
    assert rendered.losses == ()
    strict_specs(rendered.text, existing)
    # the file keeps its channels (gaining ours) and its variables
    before = conda.loads(existing)
    channels = before.channels + tuple(c for c in env.channels if c not in before.channels)
    assert conda.loads(rendered.text) == env.with_changes(
        channels=channels, variables=before.variables or env.variables
    )


def test_merge_keeps_include_lines() -> None:
    text = "dependencies:\n  - python\n  - pip\n  - pip:\n    - -r requirements.txt\n    - -c constraints.txt\n    - rich\n"
    files = {"requirements.txt": "numpy\nfoo\n", "constraints.txt": "urllib3<3\n"}
    env = conda.loads(text, opener=opener_for(files))
    assert [summary(d) for d in env.requirements] == ["numpy", "foo", "urllib3<3", "rich"]
    rendered = conda.dumps(env, existing=text)
    assert (rendered.text, rendered.losses, dict(rendered.files)) == (text, (), {"constraints.txt": "urllib3<3\n"})
    strict_specs(rendered.text)
    # an include nothing is read through any more is dropped; its requirements are written out
    fewer = env.with_changes(
        requirements=tuple(d for d in env.requirements if d.origin and d.origin.path == "environment.yml")
    )
    assert conda.dumps(fewer, existing=text).text == "dependencies:\n  - python\n  - pip\n  - pip:\n    - rich\n"


def test_merge_reports_variables_it_keeps() -> None:
    rendered = conda.dumps(
        reqs("numpy\n").with_changes(variables=(("A", "2"),)), existing="dependencies: [numpy]\nvariables:\n  A: 1\n"
    )
    assert rendered.text == "dependencies:\n  - python\n  - numpy\nvariables:\n  A: 1\n"
    assert loss_lines(rendered.losses) == ["lost: variable A=2: the existing file's variables are kept as they are"]
    strict_specs(rendered.text)


def test_merge_rejects_a_broken_file() -> None:
    with pytest.raises(ParseError) as info:
        conda.dumps(Environment(), existing="dependencies: [numpy\n")
    assert str(info.value) == (
        "environment.yml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'\n    \n    ^"
    )


def test_new_file_channels_name_and_variables() -> None:
    env = reqs("numpy\n").with_changes(name="my env", channels=("pytorch", "nvidia"), variables=(("K", "v"),))
    rendered = conda.dumps(env)
    assert rendered.text == (
        "# A conda environment, written by envkit.\n"
        "# Create it with:  conda env create --file environment.yml\n"
        "name: my env\n"
        "channels:\n"
        "  - pytorch\n"
        "  - nvidia\n"
        "dependencies:\n"
        "  - python\n"
        "  - numpy\n"
        "variables:\n"
        "  K: v\n"
    )
    strict_specs(rendered.text)
    assert conda.loads(rendered.text) == env


# ---------------------------------------------------------------------------------------
# Hypothesis: whatever environment.yml carries comes back equal, in both modes

_CONDA_FEATURES = (REQUIREMENTS_FEATURES - {"python"}) | {"conda"}
_NATIVE_NAMES = ["numpy", "torch", "pandas", "scikit-learn", "tables", "msgpack", "graphviz", "xgboost"]
_EXACT_SPECS = ["", ">=1.2", "==1.26.4", "==2.2.*", ">=1.4,<1.6", "~=2.2", "!=1.5.*,>=1", "<=3", "<2"]
_INEXACT_SPECS = [">1.0", "==2.4.1+cpu", ">=2.0rc1", "===1.0"]
_PYTHONS = [None, "==3.11.*", ">=3.9", ">=3.9,<3.13", "==3.10.12", "~=3.10"]


@st.composite
def carried_environments(draw: st.DrawFn, *, channels: bool) -> Environment:
    """Environments environment.yml carries: the requirements-file features, conda-only
    specs and channels, plus packages that conda can install (some with a channel)."""
    env = draw(environments(_CONDA_FEATURES, max_requirements=4))
    extra = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(_NATIVE_NAMES))
        spec = draw(st.sampled_from(_EXACT_SPECS + _INEXACT_SPECS))
        channel = draw(st.sampled_from([None, "pytorch"])) if channels and spec in _EXACT_SPECS else None
        extra.append(Dependency(name, SpecifierSet(spec), channel=channel, text=f"{name}{spec}"))
    requirements_ = list(env.requirements)
    for dep in extra:
        requirements_.insert(draw(st.integers(0, len(requirements_))), dep)
    python = draw(st.sampled_from(_PYTHONS))
    return env.with_changes(
        requirements=tuple(requirements_),
        python=SpecifierSet(python) if python is not None else None,
        format="conda",
    )


def _round_trip(env: Environment, mode: str) -> None:
    rendered = conda.dumps(env, mode=mode)
    assume(not rendered.losses)  # what requirements files cannot say either (a marker on -e ./path)
    strict_specs(rendered.text)
    files = {"proj/" + name: text for name, text in rendered.files.items()}
    back = conda.loads(rendered.text, "proj/environment.yml", opener=opener_for(files))
    assert back == env.with_changes(channels=env.channels or ("conda-forge",))
    assert conda.dumps(back, existing=rendered.text, mode=mode).text == rendered.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(carried_environments(channels=True))
def test_round_trip_native(env: Environment) -> None:
    _round_trip(env, "native")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(carried_environments(channels=False))
def test_round_trip_pip(env: Environment) -> None:
    _round_trip(env, "pip")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(carried_environments(channels=True), carried_environments(channels=True), st.sampled_from(conda.MODES))
def test_merge_says_what_the_environment_says(env: Environment, other: Environment, mode: str) -> None:
    """Written into another environment's file, an environment reads back as itself (with
    that file's channels and variables kept)."""
    existing = conda.dumps(other, mode=mode).text
    rendered = conda.dumps(env, existing=existing, mode=mode)
    assume(not rendered.losses)
    strict_specs(rendered.text, existing)
    files = {"proj/" + name: text for name, text in rendered.files.items()}
    back = conda.loads(rendered.text, "proj/environment.yml", opener=opener_for(files))
    kept = other.channels or ("conda-forge",)
    channels = kept + tuple(c for c in env.channels if c not in kept)
    assert back == env.with_changes(channels=channels, variables=other.variables or env.variables)


def test_values_yaml_would_misread_are_quoted() -> None:
    env = reqs(
        'foo ; platform_release == "5.4: x"\n'
        "bar @ https://example.com/bar-1.0.tar.gz#sha256=abc\n"
        "--extra-index-url https://${USER}:${TOKEN}@example.com/simple\n"
        "baz  # yes: a comment with #hash\n"
    ).with_changes(variables=(("FLAG", "true"), ("EMPTY", "")), name="no")
    rendered = conda.dumps(env, mode="pip")
    assert rendered.text == (
        "# A conda environment, written by envkit.\n"
        "# Create it with:  conda env create --file environment.yml\n"
        'name: "no"\n'
        "channels:\n"
        "  - conda-forge\n"
        "dependencies:\n"
        "  - python\n"
        "  - pip\n"
        "  - pip:\n"
        "      - --extra-index-url https://${USER}:${TOKEN}@example.com/simple\n"
        '      - "foo ; platform_release == \\"5.4: x\\""\n'
        "      - bar @ https://example.com/bar-1.0.tar.gz#sha256=abc\n"
        "      - baz  # yes: a comment with #hash\n"
        "variables:\n"
        '  FLAG: "true"\n'
        '  EMPTY: ""\n'
    )
    strict_specs(rendered.text)
    back = conda.loads(rendered.text)
    assert back == env.with_changes(channels=("conda-forge",))
    assert (back.name, [d.comment for d in back.requirements]) == ("no", [None, None, "yes: a comment with #hash"])


_YAML_PIECES = [
    "name: x\n", "channels:\n", "dependencies:\n", "variables:\n", "prefix: /x\n", "  - ", "- ", "pip:\n",
    "    - ", "numpy", ">=1", "=1.2", "pytorch::", "[", "]", "{", "}", ":", " ", "\n", "#", "'", '"',
    "-e ./x\n", "--pre\n", "*", "&a ", "*a", "<<: *a\n", "  K: ", "1", "null", "!!str ", "\t", "|", ">",
    "python", "pip", "---\n", "...\n", "?", ",",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_YAML_PIECES), max_size=25).map("".join))
def test_any_text_reads_or_fails_cleanly_and_merges_into_valid_yaml(text: str) -> None:
    try:
        env = conda.loads(text)
    except EnvkitError:
        return
    try:
        rendered = conda.dumps(env, existing=text)
    except EnvkitError as exc:  # only a file that is one flow mapping is refused
        assert "flow-style mapping" in str(exc)
        return
    conda.loads(rendered.text, opener=opener_for({}))  # what we wrote is a readable environment.yml


@pytest.mark.parametrize("bullet", ["x", "+", "*", "\u2022"])
def test_a_list_line_without_its_dash_is_refused(bullet: str) -> None:
    # what ruamel.yaml (and conda) say; the fast reader must not read it as a list item
    text = f"name: x\ndependencies:\n  - numpy\n  {bullet} scipy\n  - pandas\n"
    with pytest.raises(ParseError) as info:
        conda.loads(text, "environment.yml")
    assert str(info.value).splitlines()[0].startswith("environment.yml:")
    assert "invalid YAML" in str(info.value)


def test_pip_entries_stay_under_pip_when_written_again() -> None:
    # six is on conda-forge, but the file installs it with pip: a conda file written from
    # this one keeps it there (numpy stays a conda package)
    text = "name: x\ndependencies:\n  - python=3.11\n  - numpy=1.26\n  - pip\n  - pip:\n    - six==1.16.0\n"
    env = conda.loads(text, "environment.yml")
    assert [d.installer for d in env.requirements] == [None, "pip"]
    written = conda.dumps(env).text
    assert written.endswith(
        "dependencies:\n  - python 3.11.*\n  - numpy 1.26.*\n  - pip\n  - pip:\n      - six==1.16.0\n"
    )
    # from a requirements file, six is a conda package
    assert "  - six==1.16.0\n" in conda.dumps(requirements.loads("six==1.16.0\n", "r.txt")).text
