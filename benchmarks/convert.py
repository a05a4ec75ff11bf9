"""`envkit generate` on a 500-requirement file, whole process, against a bare interpreter.

    python benchmarks/convert.py [--runs 15]

Goal: under 300 ms whole process for the four seed targets (venv, conda, pipenv, poetry),
including reading each written file back for the static check.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, clean_env, machine, median_ms, run_times

NAMES = [
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "matplotlib",
    "seaborn",
    "requests",
    "flask",
    "django",
    "mlflow",
    "xgboost",
    "hyperopt",
    "jupyter",
    "torch",
    "tensorflow",
    "pyyaml",
    "click",
    "rich",
    "attrs",
]


def make_file(folder: Path, count: int = 500) -> Path:
    rng = random.Random(7)
    lines = ["--extra-index-url https://download.pytorch.org/whl/cpu"]
    for i in range(count):
        name = f"{rng.choice(NAMES)}-{i}" if i >= len(NAMES) else NAMES[i]
        kind = i % 6
        if kind == 0:
            lines.append(f"{name}=={rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}")
        elif kind == 1:
            lines.append(f"{name}>={rng.randint(1, 5)}.0,<{rng.randint(6, 9)}")
        elif kind == 2:
            lines.append(f"{name}[extra]~={rng.randint(1, 5)}.{rng.randint(0, 9)}")
        elif kind == 3:
            lines.append(f'{name} ; python_version >= "3.{rng.randint(8, 12)}"')
        elif kind == 4:
            lines.append(f"{name}!=1.0.{rng.randint(0, 9)},>=0.5")
        else:
            lines.append(name)
    path = folder / "requirements.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envkit-bench-convert-"))
    try:
        source = make_file(work)
        out = work / "out"
        env = clean_env(PYTHONPYCACHEPREFIX=str(work / "pycache"))

        def reset() -> None:
            shutil.rmtree(out, ignore_errors=True)

        bare = run_times([sys.executable, "-c", "pass"], args.runs, env=env)
        generate = run_times(
            [str(BIN / "envkit"), "generate", str(source), "--dir", str(out)], args.runs, env=env, setup=reset
        )
        print(machine())
        print(f"python -c pass:                     {median_ms(bare):7.1f} ms")
        print(
            f"envkit generate (500 reqs, 4 files): {median_ms(generate):7.1f} ms   ({median_ms(generate) / median_ms(bare):.1f}x a bare start)"
        )
        print(f"goal < 300 ms: {'met' if median_ms(generate) < 300 else 'NOT met'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
