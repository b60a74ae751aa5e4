"""requirements.txt: ``==`` pins with a ``--hash`` for every file, for ``pip --require-hashes``."""

from __future__ import annotations

from parity.env.pins import ExportPlan


def header(plan: ExportPlan) -> list[str]:
    lines = [f"# Exported by Parity from environment {plan.environment.id}"]
    lines += [
        f"# NOT REPRODUCIBLE, left out: {p.name}=={p.version} ({p.reason})"
        for p in plan.not_reproducible
    ]
    lines += [
        f"# left out on request (--exclude): {pin} (verify with --exclude {pin.split('==')[0]})"
        for pin in plan.excluded
    ]
    lines += [f"# no hash: {pin}" for pin in plan.unhashed]
    return lines


def render_requirements(plan: ExportPlan, hashes: bool = True) -> str:
    lines = header(plan)
    if plan.index_url:
        lines.append(f"--index-url {plan.index_url}")
    lines += [f"--extra-index-url {url}" for url in plan.extra_index_urls]
    for package in plan.packages:
        line = package.requirement
        digests = package.hashes if hashes else ()
        if digests:
            line += " \\\n" + " \\\n".join(f"    --hash=sha256:{d}" for d in digests)
        lines.append(line)
    return "\n".join(lines) + "\n"
