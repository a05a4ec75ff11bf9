"""`envkit lock`, `envkit verify --depth resolve` and `envkit bootstrap --manager venv`
against the native tools on the same input, in one run, against the local package index.

    python benchmarks/environments.py [--runs 5]

Goals (issue 4): lock within 1.2x of `uv pip compile`; verify --depth resolve over venv,
pipenv and poetry no slower than 1.2x the slowest single native lock; bootstrap --manager
venv within 1.2x of `uv venv && uv pip install -r`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import BIN, clean_env, machine, median_ms, run_times

from tests.pkgindex import IndexServer, build_index

BODY = "mlflow\njupyter\nscikit-learn\npandas\nseaborn\nhyperopt\nxgboost\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envkit-bench-env-"))
    env = clean_env(PYTHONPYCACHEPREFIX=str(work / "pycache"), UV_CACHE_DIR=str(work / "uv-cache"))
    try:
        root = build_index(work / "index")
        with IndexServer(root) as server:
            project = work / "project"
            project.mkdir()
            req = project / "requirements.txt"
            req.write_text(f"--index-url {server.simple_url}\n{BODY}", encoding="utf-8")
            uv = str(BIN / "uv")
            print(machine())

            # lock
            # all from the project folder, as envkit runs uv there. uv's own interpreter
            # discovery depends on the folder (a .venv above it is found at once; else PATH
            # is searched, slowly through pyenv's shims); envkit names its interpreter
            # (--python), so uv is also timed that way, and the ratio is against the faster
            envkit_lock = run_times([str(BIN / "envkit"), "lock", str(req)], args.runs, cwd=project, env=env)
            compile_cmd = [uv, "pip", "compile", str(req), "--format", "pylock.toml", "-q"]
            uv_found = run_times(compile_cmd, args.runs, cwd=project, env=env)
            uv_named = run_times([*compile_cmd, "--python", sys.executable], args.runs, cwd=project, env=env)
            uv_best = min(median_ms(uv_found), median_ms(uv_named))
            print(
                f"lock:      envkit lock {median_ms(envkit_lock):7.0f} ms | uv pip compile {median_ms(uv_found):7.0f} ms"
                f" (its own discovery), {median_ms(uv_named):.0f} ms (--python named)"
                f" | ratio {median_ms(envkit_lock) / uv_best:.2f}x the faster (goal <= 1.2x)"
            )
            pip_compile = BIN / "pip-compile"
            if pip_compile.exists():
                times = run_times([str(pip_compile), "-q", "-o", "-", str(req)], args.runs, env=env)
                print(f"           pip-compile {median_ms(times):7.0f} ms")
            else:
                print("           pip-compile: not installed (pip install pip-tools to compare)")

            # verify --depth resolve against the three native locks one after another
            def fresh(name: str) -> Path:
                folder = work / "natives" / name
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                return folder

            natives: dict[str, float] = {}
            for manager, target, cmd in (
                ("pipenv", "pipenv", [str(BIN / "pipenv"), "lock"]),
                ("poetry", "poetry", [str(BIN / "poetry"), "lock"]),
                ("venv", "venv", [uv, "pip", "compile", "requirements.txt", "-q"]),
            ):

                def setup(manager: str = manager, target: str = target) -> None:
                    folder = fresh(manager)
                    subprocess.run(
                        [
                            str(BIN / "envkit"),
                            "convert",
                            str(req),
                            "--to",
                            target,
                            "-o",
                            str(
                                folder
                                / {"pipenv": "Pipfile", "poetry": "pyproject.toml", "venv": "requirements.txt"}[manager]
                            ),
                        ],
                        env=env,
                        check=True,
                        capture_output=True,
                    )

                extra = {"PIPENV_VENV_IN_PROJECT": "1", "PIPENV_YES": "1", "POETRY_VIRTUALENVS_IN_PROJECT": "true"}
                times = run_times(
                    cmd, max(1, args.runs // 2), cwd=work / "natives" / manager, env={**env, **extra}, setup=setup
                )
                natives[manager] = median_ms(times)
            slowest = max(natives.values())
            verify = run_times(
                [
                    str(BIN / "envkit"),
                    "verify",
                    str(req),
                    "--depth",
                    "resolve",
                    "--managers",
                    "venv,pipenv,poetry",
                    "--workdir",
                    str(work / "verify"),
                ],
                max(1, args.runs // 2),
                env=env,
                setup=lambda: shutil.rmtree(work / "verify", ignore_errors=True),
            )
            sequential = sum(natives.values())
            print(
                f"verify:    envkit verify --depth resolve {median_ms(verify):7.0f} ms | natives one after another {sequential:7.0f} ms"
                f" ({', '.join(f'{k} {v:.0f}' for k, v in natives.items())}) | ratio to the slowest {median_ms(verify) / slowest:.2f}x (goal <= 1.2x)"
            )

            # bootstrap
            def clear() -> None:
                for name in ("b1", "b2", "b3"):
                    shutil.rmtree(work / name, ignore_errors=True)

            boot = run_times(
                [str(BIN / "envkit"), "bootstrap", str(req), "--manager", "venv", "--path", str(work / "b1")],
                args.runs,
                env=env,
                setup=clear,
            )
            uv_way = run_times(
                [
                    "sh",
                    "-c",
                    f"{uv} venv -q {work / 'b2'} && {uv} pip install -q --python {work / 'b2'}/bin/python -r {req}",
                ],
                args.runs,
                env=env,
                setup=clear,
            )
            pip_way = run_times(
                ["sh", "-c", f"{sys.executable} -m venv {work / 'b3'} && {work / 'b3'}/bin/pip install -q -r {req}"],
                max(1, args.runs // 2),
                env=env,
                setup=clear,
            )
            print(
                f"bootstrap: envkit {median_ms(boot):7.0f} ms | uv venv + uv pip install {median_ms(uv_way):7.0f} ms | venv + pip install {median_ms(pip_way):7.0f} ms"
                f" | ratio to uv {median_ms(boot) / median_ms(uv_way):.2f}x (goal <= 1.2x)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
