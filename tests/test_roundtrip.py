"""The requirements writer and reader round trip: ``loads(dumps(env)) == env``.

The property runs over every model :func:`tests.strategies.environments` draws within
what a requirements file can carry (``REQUIREMENTS_FEATURES``). Companion files the writer
names (the ``-c`` constraints file) are served to the reader from ``Rendered.files``.
Because the strategy only draws what the format can carry, the writer must report no
``lost`` item for any of it. A table of hand-written models anchors the same property on
one example of each kind, and the strategy itself is checked to honour its features.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from envkit.formats._base import Rendered
from envkit.formats.requirements import dumps, loads
from envkit.model import Dependency, Environment, PipOptions, Source
from tests.strategies import ALL_FEATURES, REQUIREMENTS_FEATURES, environments

PATH = "requirements.txt"


def _opener(files: Mapping[str, str]) -> Callable[[str], bytes]:
    def read(target: str) -> bytes:
        if target not in files:
            raise FileNotFoundError(2, "not written by dumps", target)
        return files[target].encode("utf-8")

    return read


def _read_back(env: Environment) -> tuple[Rendered, Environment]:
    rendered = dumps(env)
    return rendered, loads(rendered.text, PATH, opener=_opener(rendered.files))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments(REQUIREMENTS_FEATURES))
def test_round_trip(env: Environment) -> None:
    rendered, back = _read_back(env)
    assert [loss for loss in rendered.losses if loss.kind == "lost"] == []
    assert back == env


def _dep(name: str | None, spec: str = "", **fields: object) -> Dependency:
    return Dependency(name, SpecifierSet(spec), **fields)  # type: ignore[arg-type]


EXAMPLES = [
    pytest.param(
        Environment(
            requirements=(
                _dep(
                    "Requests",
                    ">=2.31,<3",
                    extras=frozenset({"socks", "Security"}),
                    marker=Marker('python_version >= "3.8" and (os_name == "nt" or sys_platform != "darwin")'),
                    hashes=(("sha256", "ab" * 32), ("sha512", "CD" * 64)),
                ),
            )
        ),
        id="named-specifier-extras-marker-hashes",
    ),
    pytest.param(
        Environment(requirements=(_dep("torch", "==2.1.0+cu118"), _dep("legacy", "===1.0-custom"))),
        id="local-version-and-arbitrary-equality",
    ),
    pytest.param(
        Environment(
            requirements=(
                _dep(None, url="https://example.com/pkg-1.0.tar.gz#sha256=" + "0" * 64),
                _dep("pkg", url="https://example.com/archive.zip#egg=pkg"),
                _dep("other", extras=frozenset({"x"}), url="https://files.example.org/other-2.0.tar.gz"),
                _dep("wheel-name", "==1.0", url="https://example.com/wheel_name-1.0-py3-none-any.whl"),
            )
        ),
        id="direct-urls",
    ),
    pytest.param(
        Environment(
            requirements=(
                _dep("mylib", url="git+https://github.com/org/mylib.git@v1.2#egg=mylib&subdirectory=python"),
                _dep("tool", url="git+ssh://git@github.com/org/tool.git@main", marker=Marker('os_name == "posix"')),
                _dep("hgpkg", url="hg+https://hg.example.com/repo#egg=hgpkg"),
            )
        ),
        id="vcs-urls",
    ),
    pytest.param(
        Environment(
            requirements=(
                _dep(None, path="./libs/core", extras=frozenset({"dev"}), marker=Marker('sys_platform == "linux"')),
                _dep(None, path="../sibling"),
                _dep("foo", "==1.0", path="dist/foo-1.0-py3-none-any.whl"),
                _dep(None, path="dist/pkg-1.0.tar.gz", hashes=(("sha256", "ef" * 32),)),
            )
        ),
        id="local-paths",
    ),
    pytest.param(
        Environment(
            requirements=(
                _dep(None, path=".", editable=True, config_settings=(("editable_mode", "compat"),)),
                _dep(None, path="./plugins/a", editable=True, extras=frozenset({"test"})),
                _dep("mylib", url="git+https://github.com/org/mylib.git#egg=mylib", editable=True),
                _dep(
                    "named",
                    url="git+https://github.com/org/named.git@v2",
                    editable=True,
                    extras=frozenset({"x"}),
                    marker=Marker('python_version < "3.12"'),
                ),
            )
        ),
        id="editables",
    ),
    pytest.param(
        Environment(
            requirements=(
                _dep("numpy", config_settings=(("--build-option", "--cpu-baseline=sse4"), ("setup-args", "-Db=c d"))),
                _dep("old", global_options=("--no-user-cfg",)),
            )
        ),
        id="config-settings-and-global-options",
    ),
    pytest.param(
        Environment(
            requirements=(
                _dep("django"),
                _dep("django", "<5", constraint=True),
                _dep("urllib3", "<2", marker=Marker('python_version < "3.10"'), constraint=True),
            )
        ),
        id="constraints",
    ),
    pytest.param(
        Environment(
            sources=(
                Source("index", "https://pypi.internal/simple", "${PIP_USER}", "${PIP_TOKEN}"),
                Source("extra-index", "https://download.pytorch.org/whl/cu118"),
                Source("extra-index", "https://gitlab.internal/api/simple", "__token__", "p@ss:w/rd 'q' #1"),
                Source("find-links", "./wheels"),
            ),
            requirements=(_dep("torch"),),
        ),
        id="sources-with-credentials",
    ),
    pytest.param(
        Environment(
            options=PipOptions(
                no_index=True,
                pre=True,
                prefer_binary=True,
                require_hashes=True,
                trusted_hosts=("pypi.internal", "127.0.0.1:8080"),
                no_binary=(":all:",),
                only_binary=("numpy", "scipy"),
                only_final=("django",),
                use_features=("truststore", "fast-deps"),
            ),
            sources=(Source("find-links", "/opt/wheels"),),
        ),
        id="pip-options",
    ),
    pytest.param(Environment(python=SpecifierSet(">=3.9,<3.13"), requirements=(_dep("attrs"),)), id="python"),
    pytest.param(Environment(), id="empty"),
]


@pytest.mark.parametrize("env", EXAMPLES)
def test_round_trip_example(env: Environment) -> None:
    rendered, back = _read_back(env)
    assert [loss for loss in rendered.losses if loss.kind == "lost"] == []
    assert back == env


def test_environment_equality_is_semantic_for_specifiers() -> None:
    spelled, normal = _dep("a", ">=1.0"), _dep("a", ">=1")
    assert spelled == normal
    assert Environment(requirements=(spelled,)) == Environment(requirements=(normal,))


@pytest.mark.parametrize("text", ["./pkg[Dev]", "-e ./pkg[Dev]", "git+https://x/y#egg=pkg[Dev]"])
def test_extras_keep_their_spelling(text: str) -> None:
    (dep,) = loads(text, PATH).requirements
    assert set(dep.extras) == {"Dev"}
    assert dumps(Environment(requirements=(dep,))).text.rstrip("\n").endswith("[Dev]")


# ---------------------------------------------------------------------------------------
# The strategy honours its features (other formats rely on it)


def test_unknown_feature_is_refused() -> None:
    @given(environments(frozenset({"hashs"})))
    def draw(env: Environment) -> None:
        pass

    with pytest.raises(ValueError, match="unknown features: \\['hashs'\\]"):
        draw()


@settings(max_examples=60, deadline=None)
@given(environments(frozenset()))
def test_no_features_draws_plain_named_requirements(env: Environment) -> None:
    assert (env.python, env.sources, env.options, env.conda, env.channels) == (None, (), PipOptions(), (), ())
    for dep in env.requirements:
        assert dep.name and not dep.specifier and not dep.extras and dep.marker is None
        assert (dep.url, dep.path, dep.editable, dep.constraint, dep.hashes) == (None, None, False, False, ())
        assert (dep.config_settings, dep.global_options, dep.group, dep.index) == ((), (), None, None)


FEATURE_WITNESSES: dict[str, Callable[[Environment], bool]] = {
    "specifiers": lambda e: any(d.specifier and not d.url and not d.path for d in e.requirements),
    "extras": lambda e: any(d.extras for d in e.requirements),
    "markers": lambda e: any(d.marker is not None for d in e.requirements),
    "urls": lambda e: any((d.url or "").startswith(("http", "file")) for d in e.requirements),
    "vcs": lambda e: any(d.is_vcs for d in e.requirements),
    "paths": lambda e: any(d.path for d in e.requirements),
    "editables": lambda e: any(d.editable for d in e.requirements),
    "hashes": lambda e: any(d.hashes for d in e.requirements),
    "config": lambda e: any(d.config_settings for d in e.requirements),
    "global": lambda e: any(d.global_options for d in e.requirements),
    "constraints": lambda e: any(d.constraint for d in e.requirements),
    "sources": lambda e: bool(e.sources),
    "credentials": lambda e: any(s.has_credentials for s in e.sources),
    "source-names": lambda e: any(s.name for s in e.sources),
    "pip-options": lambda e: not e.options.is_default(),
    "python": lambda e: e.python is not None,
    "groups": lambda e: any(d.group for d in e.requirements),
    "dep-index": lambda e: any(d.index for d in e.requirements),
    "conda": lambda e: bool(e.conda or e.channels),
    "comments": lambda e: any(d.comment for d in e.requirements),
}


def test_every_feature_has_a_witness() -> None:
    assert set(FEATURE_WITNESSES) == ALL_FEATURES


def test_every_feature_is_drawn() -> None:
    drawn: set[str] = set()

    @settings(max_examples=150, database=None, deadline=None, phases=[Phase.generate])
    @given(environments(ALL_FEATURES))
    def probe(env: Environment) -> None:
        drawn.update(feature for feature, witness in FEATURE_WITNESSES.items() if witness(env))

    probe()
    assert sorted(ALL_FEATURES - drawn) == []


@pytest.mark.parametrize("feature", sorted(FEATURE_WITNESSES))
def test_feature_is_not_drawn_when_off(feature: str) -> None:
    witness = FEATURE_WITNESSES[feature]

    @settings(max_examples=10, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(environments(ALL_FEATURES - {feature}))
    def never(env: Environment) -> None:
        assert not witness(env)

    never()
