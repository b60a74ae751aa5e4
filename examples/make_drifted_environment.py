"""Write examples/drifted_environment.json: this environment with another scikit-learn minor.

The demo verifies the current environment against it, as a model trained elsewhere would be
verified here: one high-risk difference, in scikit-learn. Rerun after the lock file changes:

    .venv/bin/python examples/make_drifted_environment.py
"""

from __future__ import annotations

import json
from pathlib import Path

from packaging.version import Version

from parity.env import capture

OUTPUT = Path(__file__).resolve().parent / "drifted_environment.json"


def main() -> None:
    document = capture().to_record().to_dict()
    for distribution in document["body"]["distributions"]:
        if distribution["name"] == "scikit-learn":
            current = Version(distribution["version"])
            distribution["version"] = f"{current.major}.{max(current.minor - 1, 0)}.0"
    OUTPUT.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
