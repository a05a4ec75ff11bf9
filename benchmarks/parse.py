"""How fast envkit reads a requirements file, against pip's own reader, and how fast it starts.

Run from the repository root with the project's interpreter::

    .venv/bin/python benchmarks/parse.py              # the figures
    .venv/bin/python benchmarks/parse.py --profile    # and where the time goes

It writes, in a temporary folder, a 10,000-line requirements file that uses most of pip's
grammar (pins, ranges, exclusions, extras, markers, hashes on continuation lines, comment
lines and inline comments, PEP 508 URLs, bare wheel URLs, VCS URLs, editables of VCS URLs
and of local project folders it creates, per-requirement ``--config-settings``, file-wide
options and a ``-c`` constraints file), then:

1. times :func:`envkit.load` against pip's ``parse_requirements`` on the same file in the
   same process (each several times, after a warm-up; best and median), and against
   ``parse_requirements`` plus ``install_req_from_parsed_requirement`` (pip's reader leaves
   requirement strings unparsed; this second figure adds the PEP 508 parsing that envkit's
   model includes);
2. times whole processes (median of ``--runs``, wall clock and CPU): ``python -c pass``
   (the interpreter's own start), ``envkit --version`` and ``envkit show`` on a small file,
   with the bytecode cache written (under a temporary ``PYTHONPYCACHEPREFIX``), as it is
   for an installed envkit.

Targets (issue 2): envkit's reader at least 3x faster than pip's ``parse_requirements``;
``envkit show`` on a small file under 150 ms, whole process. A benchmark, not a test: it
always exits 0 and says which target it missed.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Nothing may see this machine's pip configuration (find-links, constraints, indexes).
for _name in [n for n in os.environ if n.startswith("PIP_")]:
    del os.environ[_name]
os.environ["PIP_CONFIG_FILE"] = os.devnull
os.environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

READER_TARGET = 3.0  # envkit at least this many times faster than pip's reader
START_TARGET_MS = 150.0  # envkit show on a small file, whole process

HEADER = [
    "# A generated requirements file: most of pip's grammar, 10,000 lines.",
    "--index-url https://pypi.org/simple",
    "--extra-index-url https://download.pytorch.org/whl/cpu",
    "--extra-index-url https://${BENCH_USER}:${BENCH_TOKEN}@pypi.example.com/simple",
    "--find-links ./wheels",
    "--trusted-host pypi.example.com",
    "--prefer-binary",
    "--only-binary numpy",
    "-c constraints.txt",
    "",
]

CONSTRAINTS = "\n".join(f"constrained-{i}<{i + 2}" for i in range(10)) + "\n"

SMALL = """\
# a small file, as people write them
--extra-index-url https://download.pytorch.org/whl/cpu
mlflow>=2.14
scikit-learn==1.5.2
pandas[performance]~=2.2
torch==2.4.1+cpu ; platform_system == "Linux"
uvicorn[standard] >= 0.30  # the server
"""

#: How many local project folders the editables cycle through.
LOCAL_PROJECTS = 25


def _digest(i: int, salt: str) -> str:
    return hashlib.sha256(f"{salt}{i}".encode()).hexdigest()


def _chunks() -> Iterator[list[str]]:
    """Physical lines, one requirement (or comment, or blank) at a time, cycling through features."""
    i = 0
    while True:
        i += 1
        yield [f"pin-{i}==1.{i % 10}.{i % 7}"]
        yield [f"range_{i}>=1.0,<2.{i % 5}"]
        yield [f"Extras.{i}[security,socks]~=2.{i % 9}"]
        yield [f'marker{i}>=1.0 ; python_version >= "3.8" and sys_platform != "win32"']
        yield [
            f"hashed-{i}==3.{i % 4} \\",
            f"    --hash=sha256:{_digest(i, 'a')} \\",
            f"    --hash=sha256:{_digest(i, 'b')}",
        ]
        yield [f"# section {i}: what follows is pinned for a reason"]
        yield [f"inline-{i}==3.0  # pinned until upstream fixes #{i}"]
        yield [f"url-{i} @ https://files.example.com/packages/url_{i}-1.0-py3-none-any.whl"]
        yield [f"git+https://github.com/example/vcs-{i}.git@v1.{i % 10}#egg=vcs-{i}"]
        yield [f"-e git+https://github.com/example/edit-{i}.git@main#egg=edit-{i}"]
        yield [f"-e ./local/proj{i % LOCAL_PROJECTS}"]
        yield [""]
        yield [f"settings-{i}>=1 --config-settings=--build-option=--fast"]
        yield [f"https://files.example.com/wheels/wheel_{i}-2.{i % 3}-py3-none-any.whl"]
        yield [f"exclude-{i}!=1.5,>=1.0"]
        yield [f'complex-{i}[extra]>=1 ; (python_version < "3.12" and platform_machine == "x86_64") or os_name == "nt"']


def generate(folder: Path, lines: int) -> Path:
    """Write the big file (exactly ``lines`` lines), its constraints and local projects; return its path."""
    for k in range(LOCAL_PROJECTS):
        project = folder / "local" / f"proj{k}"
        project.mkdir(parents=True)
        (project / "pyproject.toml").write_text(f'[project]\nname = "proj{k}"\nversion = "0"\n', encoding="utf-8")
    (folder / "constraints.txt").write_text(CONSTRAINTS, encoding="utf-8")
    out = list(HEADER)
    for chunk in _chunks():
        if len(out) + len(chunk) > lines:
            break
        out.extend(chunk)
    out.extend(["# padding"] * (lines - len(out)))
    path = folder / "requirements.txt"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


# -- the readers -------------------------------------------------------------------------


def envkit_reader(path: str) -> Callable[[], int]:
    import envkit

    def run() -> int:
        return len(envkit.load(path).requirements)

    return run


def pip_reader(path: str, *, build: bool) -> Callable[[], int]:
    """pip's ``parse_requirements`` (with ``build``: and each result turned into an InstallRequirement).

    A fresh finder per run (pip's reader mutates it), made before the clock starts.
    """
    from pip._internal.commands import create_command
    from pip._internal.req.constructors import install_req_from_parsed_requirement
    from pip._internal.req.req_file import parse_requirements

    command = create_command("install", isolated=True)
    options, _ = command.parse_args([])
    context = ExitStack()  # left open: the session lives as long as the benchmark
    context.enter_context(command.main_context())
    session = command.get_default_session(options)  # type: ignore[attr-defined]

    def run() -> int:
        finder = command._build_package_finder(options=options, session=session)  # type: ignore[attr-defined]
        parsed = parse_requirements(path, session, finder=finder, options=options)
        if build:
            return len([install_req_from_parsed_requirement(p, isolated=True) for p in parsed])
        return len(list(parsed))

    return run


def _timed(readers: dict[str, Callable[[], int]], repeats: int) -> dict[str, tuple[list[float], int]]:
    """Each reader's run times and requirement count; the readers take turns, so a burst of load
    from elsewhere on the machine falls on all of them alike."""
    counts = {name: run() for name, run in readers.items()}  # warm-up: imports, caches
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(repeats):
        for name, run in readers.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: (times[name], counts[name]) for name in readers}


class Timing(NamedTuple):
    """Whole-process figures: wall-clock and CPU (user + system) seconds, one per run."""

    wall: list[float]
    cpu: list[float]


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process(argv: list[str], runs: int, cwd: Path, env: dict[str, str]) -> Timing:
    for _ in range(2):  # warm the file cache and write the bytecode cache
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
    timing = Timing([], [])
    for _ in range(runs):
        cpu = _child_cpu()
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
        timing.wall.append(time.perf_counter() - start)
        timing.cpu.append(_child_cpu() - cpu)
    return timing


def _process_env(folder: Path) -> dict[str, str]:
    """The environment of the timed processes: bytecode cached (as in an installed envkit) under ``folder``.

    An installed envkit has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE=1
    compiles every envkit module from source at each start (on 2 CPUs: ``envkit show`` took
    258 ms that way, 118 ms with the cache).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def _envkit_command() -> list[str]:
    """The ``envkit`` console script beside this interpreter, else ``python -m envkit``."""
    script = Path(sys.executable).with_name("envkit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "envkit"]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


# -- where the time goes -----------------------------------------------------------------


def profile_reader(path: str, top: int) -> None:
    import cProfile
    import pstats

    run = envkit_reader(path)
    run()
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    print(f"\n== cProfile of envkit.load on the big file (top {top} by own time)")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def profile_start(small: Path, top: int) -> None:
    argv = [sys.executable, "-X", "importtime", "-m", "envkit", "show", str(small)]
    env = _process_env(small.parent)
    subprocess.run(argv, env=env, capture_output=True, check=True)  # write the bytecode cache first
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    rows: list[tuple[int, int, str]] = []  # (cumulative us, own us, module)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own_us, cumulative_us, module = line.split(":", 1)[1].split("|")
        rows.append((int(cumulative_us), int(own_us), module.strip()))
    print(f"\n== imports of `envkit show small.txt` (-X importtime, top {top} by cumulative time)")
    print(f"{'cumulative':>12} {'own':>9}  module")
    for cumulative, own, name in sorted(rows, reverse=True)[:top]:
        print(f"{cumulative / 1000:9.1f} ms {own / 1000:6.1f} ms  {name}")


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000, help="lines in the generated file (10,000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed reads of each reader (7)")
    parser.add_argument("--runs", type=int, default=20, help="whole-process runs of each command (20)")
    parser.add_argument("--profile", action="store_true", help="also show where envkit's time goes")
    args = parser.parse_args(argv)

    import pip

    import envkit

    with tempfile.TemporaryDirectory(prefix="envkit-bench-") as tmp:
        folder = Path(tmp)
        big = generate(folder, args.lines)
        small = folder / "small.txt"
        small.write_text(SMALL, encoding="utf-8")
        os.chdir(folder)  # pip reads editables' local paths from the current folder

        print(f"machine: {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}")
        print(f"versions: envkit {envkit.__version__}, pip {pip.__version__}")

        readers: dict[str, Callable[[], int]] = {
            "envkit.load": envkit_reader(big.name),
            "pip parse_requirements": pip_reader(big.name, build=False),
            "pip parse_requirements + InstallRequirement": pip_reader(big.name, build=True),
        }
        results = _timed(readers, args.repeats)
        counts = {count for _, count in results.values()}
        print(f"file: {args.lines} lines, {results['envkit.load'][1]} requirements (constraints included)")
        if len(counts) != 1:
            print(f"WARNING: the readers disagree on the number of requirements: {counts}")

        title = f"reader, {args.repeats} runs after a warm-up"
        print(f"\n{title:<47}{'best':>11} {'median':>11}   envkit is")
        ours = results["envkit.load"][0]
        for name, (times, _) in results.items():
            line = f"  {name:<45}{_ms(min(times))} {_ms(statistics.median(times))}"
            if name != "envkit.load":
                best = min(times) / min(ours)
                median = statistics.median(times) / statistics.median(ours)
                line += f"   {best:4.1f}x faster (best), {median:4.1f}x (median)"
            print(line)

        command = _envkit_command()
        shown = " ".join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command))
        env = _process_env(folder)
        processes = {
            "python -c pass": _process([sys.executable, "-c", "pass"], args.runs, folder, env),
            f"{shown} --version": _process([*command, "--version"], args.runs, folder, env),
            f"{shown} show small.txt": _process([*command, "show", small.name], args.runs, folder, env),
        }
        print(f"\n{f'whole process, median of {args.runs} runs':<47}{'wall':>11} {'cpu':>11}")
        for name, timing in processes.items():
            print(f"  {name:<45}{_ms(statistics.median(timing.wall))} {_ms(statistics.median(timing.cpu))}")
        show = processes[f"{shown} show small.txt"].wall

        ratio = min(results["pip parse_requirements"][0]) / min(ours)  # best of each: the least disturbed
        start_ms = statistics.median(show) * 1000
        print("\ntargets")
        print(
            f"  reader >= {READER_TARGET:.0f}x pip's parse_requirements (best): {ratio:.1f}x  {_verdict(ratio >= READER_TARGET)}"
        )
        print(
            f"  envkit show small file < {START_TARGET_MS:.0f} ms (median wall): {start_ms:.0f} ms"
            f"  {_verdict(start_ms < START_TARGET_MS)}"
        )

        if args.profile:
            profile_reader(big.name, 25)
            profile_start(small, 25)


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
