"""`make bench`: run every benchmark in this folder, each side by side with the tool users pick."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    wanted = set(sys.argv[1:])
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"\n### benchmarks/{name}", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()
    if not names:
        print("no benchmarks yet")


if __name__ == "__main__":
    main()
