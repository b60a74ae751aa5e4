"""environment.yml for conda: the Python pin from conda, every package pinned in the pip section.

Conda's pip section cannot require hashes for some lines only, so it carries pins without
hashes; use the requirements.txt export where hash checking matters.
"""

from __future__ import annotations

import json

from parity.env.export_requirements import header
from parity.env.pins import ExportPlan


def render_conda(plan: ExportPlan) -> str:
    environment = plan.environment
    lines = header(plan)
    lines += [
        f"name: parity-{environment.id[:12]}",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={environment.interpreter.version}",
        "  - pip",
        "  - pip:",
        f"      - --index-url {plan.index_url}",
    ]
    lines += [f"      - --extra-index-url {url}" for url in plan.extra_index_urls]
    # JSON strings are valid YAML scalars: quoting keeps "pkg @ git+…" and markers intact.
    lines += [f"      - {json.dumps(p.requirement)}" for p in plan.packages]
    return "\n".join(lines) + "\n"
