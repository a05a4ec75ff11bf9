"""How fast is ``envkit snapshot``? Whole processes against pip and uv, and in-process capture.

    python benchmarks/snapshot.py [--repeat N] [--packages N] [--rebuild]

Builds once (cached in ``<tmp>/envkit-bench-snapshot``) a virtualenv holding at least 150
distributions: tiny wheels written here and installed offline by the venv's own pip, so
nothing is downloaded. envkit runs inside that venv the way an installed console script
does (a ``.pth`` file points at this checkout; ``click`` and ``packaging`` are linked
beside it, without metadata, so they add no distribution).

Then, in the same run, with the commands interleaved round by round and medians taken:

- ``envkit snapshot --json`` (output to /dev/null), as shipped;
- ``pip freeze``, ``pip list --format json`` and ``uv pip freeze`` on the same venv;
- the click-free fast path (``envkit._probe.cli_json``), as it imports today
  (``envkit/__init__`` pulls in ``envkit.model`` and so ``packaging``) and with a lazy
  package ``__init__`` (simulated: the package module made without running it);
- the probe script alone (``python -I _probe.py``), and ``python -c pass``: the floor of
  any Python command here, which bounds how far below ``pip freeze`` one can get;
- in-process: ``envkit.snapshot.capture()`` and ``snapshot()`` inside the venv.

Goals: ``envkit snapshot`` at most 2x ``uv pip freeze`` and at least 20x faster than
``pip freeze``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "envkit-bench-snapshot"
RECIPE = "4"  # bump when the venv's recipe changes


def _wheel(folder: Path, name: str, version: str) -> Path:
    import base64
    import hashlib

    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: benchmark filler\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: envkit-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    target = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return target


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PYTHONDONTWRITEBYTECODE"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _site_packages(venv: Path) -> Path:
    return next(venv.glob("lib/python*/site-packages"))


def _console_script(venv: Path) -> None:
    """``venv/bin/envkit`` exactly as pip writes a console script for ``envkit.cli:main``."""
    script = venv / "bin" / "envkit"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom envkit.cli import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )
    script.chmod(0o755)


def build(count: int, rebuild: bool) -> Path:
    """The cached benchmark venv (built when missing, stale or asked)."""
    venv = CACHE / "venv"
    stamp = CACHE / "stamp"
    want = f"{RECIPE} {count} {sys.executable} {ROOT}"
    if not rebuild and stamp.exists() and stamp.read_text() == want and (venv / "bin" / "envkit").exists():
        _console_script(venv)  # always today's: it costs nothing
        return venv
    shutil.rmtree(CACHE, ignore_errors=True)
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True)
    names = [f"bench-pkg-{i:03d}" for i in range(count)]
    for i, name in enumerate(names):
        _wheel(wheels, name, f"{1 + i % 7}.{i % 13}.{i % 5}")
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", "--no-periodic-update", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels), *names],
        check=True,
        env=env,
    )
    # envkit as an installed console script would run it: importable through a .pth file,
    # with its two import-time dependencies linked beside it (no metadata: no extra dists).
    src = CACHE / "envkit-src"
    src.mkdir()
    (src / "envkit").symlink_to(ROOT / "envkit")
    import click
    import packaging

    (src / "click").symlink_to(Path(click.__file__).parent)
    (src / "packaging").symlink_to(Path(packaging.__file__).parent)
    (_site_packages(venv) / "_envkit_bench.pth").write_text(f"{src}\n")
    _console_script(venv)
    stamp.write_text(want)
    return venv


def _uv() -> str | None:
    return shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")


def commands(venv: Path, work: Path) -> dict[str, list[str]]:
    python = str(venv / "bin" / "python")
    lazy_init = (  # what a lazy envkit/__init__ (PEP 562) would cost: the package without its imports
        "import sys, types; pkg = types.ModuleType('envkit'); pkg.__path__ = [sys.argv[1]]; "
        "sys.modules['envkit'] = pkg; from envkit._probe import cli_json; sys.exit(cli_json(sys.argv[2:], '0'))"
    )
    cmds = {
        "envkit snapshot --json": [str(venv / "bin" / "envkit"), "snapshot", "--json", "--project", str(work)],
        "pip freeze": [python, "-m", "pip", "freeze"],
        "pip list --format json": [python, "-m", "pip", "list", "--format", "json"],
        "fast path, envkit/__init__ as today": [
            python,
            "-c",
            "import sys; from envkit._probe import cli_json; sys.exit(cli_json(sys.argv[1:], '0'))",
            "--json",
            "--project",
            str(work),
        ],
        "fast path, envkit/__init__ lazy": [
            python,
            "-c",
            lazy_init,
            str(ROOT / "envkit"),
            "--json",
            "--project",
            str(work),
        ],
        "probe script alone": [python, "-I", str(ROOT / "envkit" / "_probe.py"), "--project", str(work)],
        "python -c pass (start-up alone)": [python, "-c", "pass"],
    }
    uv = _uv()
    if uv:
        cmds["uv pip freeze"] = [uv, "pip", "freeze", "--python", python]
    return cmds


def time_commands(cmds: dict[str, list[str]], repeat: int, work: Path) -> dict[str, tuple[float, float]]:
    """Median wall and CPU (user + system, this process's children) milliseconds per command.

    CPU time is shown because it barely moves with the machine's load; wall time does."""
    env = _clean_env()
    for cmd in cmds.values():  # warm up: page cache, bytecode files
        for _ in range(2):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env, cwd=work)
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeat):  # interleaved, so drift in machine load hits every command alike
        for name, cmd in cmds.items():
            start = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env, cwd=work)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            samples[name].append(time.perf_counter() - start)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {name: (statistics.median(samples[name]) * 1000, statistics.median(cpu[name]) * 1000) for name in cmds}


IN_PROCESS = """
import json, statistics, sys, time
from envkit import _probe
import envkit.snapshot as s

def median(fn, n):
    xs = []
    for _ in range(n):
        t = time.perf_counter(); fn(); xs.append(time.perf_counter() - t)
    return statistics.median(xs) * 1000

n = int(sys.argv[1])
data = s.capture(project=sys.argv[2])
print(json.dumps({
    "packages": len(data["packages"]),
    "probe": median(_probe.capture, n),
    "capture": median(lambda: s.capture(project=sys.argv[2]), n),
    "snapshot": median(lambda: s.snapshot(project=sys.argv[2]), n),
}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=25, help="rounds of timed runs (default 25)")
    parser.add_argument("--packages", type=int, default=160, help="tiny distributions to install (default 160)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached venv")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    venv = build(args.packages, args.rebuild)
    built = time.perf_counter() - started
    work = CACHE / "work"
    work.mkdir(exist_ok=True)
    dists = len(list(_site_packages(venv).glob("*.dist-info")))
    print(f"venv: {venv}  ({dists} distributions; ready in {built:.1f} s)")
    print(
        f"python: {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, {args.repeat} rounds\n"
    )
    if dists < 150:
        raise SystemExit(f"only {dists} distributions: the benchmark needs at least 150")

    times = time_commands(commands(venv, work), args.repeat, work)
    ours_wall, ours_cpu = times["envkit snapshot --json"]
    width = max(map(len, times))
    print(f"{'command':<{width}}  {'wall':>9}  {'cpu':>9}  {'wall vs envkit':>14}  {'cpu vs envkit':>13}")
    for name, (wall, cpu) in times.items():
        print(f"{name:<{width}}  {wall:6.1f} ms  {cpu:6.1f} ms  {wall / ours_wall:13.2f}x  {cpu / ours_cpu:12.2f}x")

    env = _clean_env()
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", IN_PROCESS, str(args.repeat), str(work)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=work,
    ).stdout
    inproc = json.loads(out)
    print(
        f"\nin-process, {inproc['packages']} packages: probe {inproc['probe']:.1f} ms, "
        f"capture (probe + redact + fingerprint) {inproc['capture']:.1f} ms, "
        f"snapshot() (capture + validated objects) {inproc['snapshot']:.1f} ms"
    )

    print("\ngoals (wall; cpu in brackets):")
    freeze = times["pip freeze"]
    for name in ("envkit snapshot --json", "fast path, envkit/__init__ as today", "fast path, envkit/__init__ lazy"):
        wall, cpu = (freeze[i] / times[name][i] for i in (0, 1))
        print(f"  pip freeze / {name} = {wall:.1f}x [{cpu:.1f}x]  (goal >= 20x: {'met' if wall >= 20 else 'NOT met'})")
    if "uv pip freeze" in times:
        uv = times["uv pip freeze"]
        for name in (
            "envkit snapshot --json",
            "fast path, envkit/__init__ as today",
            "fast path, envkit/__init__ lazy",
        ):
            wall, cpu = (times[name][i] / uv[i] for i in (0, 1))
            print(
                f"  {name} / uv pip freeze = {wall:.2f}x [{cpu:.2f}x]  (goal <= 2x: {'met' if wall <= 2 else 'NOT met'})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
