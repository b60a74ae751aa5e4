"""The end-to-end demo behind `make demo`: what Parity can do so far, on the embedded default.

It works in a fresh folder (build/demo) and drives the real `parity` command, as a user would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "build" / "demo"


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def parity(*args: str, expect: int = 0) -> str:
    print(f"$ parity {' '.join(args)}", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    result = subprocess.run(
        [sys.executable, "-m", "parity", *args],
        cwd=DEMO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != expect:
        sys.exit(f"demo failed: 'parity {' '.join(args)}' exited {result.returncode}")
    return result.stdout


def write_dataset(path: Path) -> None:
    """The bundled dataset: scikit-learn's breast-cancer table, shipped inside the package."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def main() -> None:
    if DEMO.exists():
        shutil.rmtree(DEMO)
    DEMO.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(DEMO)], check=True)

    step("Create a workspace")
    parity("init")
    parity("init")

    step("Store the bundled dataset, content-addressed")
    dataset = DEMO / "data" / "breast_cancer.csv"
    write_dataset(dataset)
    digest = parity("object", "put", str(dataset)).strip()
    parity("object", "verify", digest)

    step("What the workspace holds")
    parity("status")
    print("\nDemo finished: the foundation works end to end.")


if __name__ == "__main__":
    main()
