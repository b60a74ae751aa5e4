"""``make screenshots``: the runs table, a run, a comparison and a model page of the scenario
workspace (tests/ui/scenario.py), as PNGs in a folder (docs/ui/), taken in Debian's chromium.

    python -m tests.ui.screenshots docs/ui
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from parity.server.app import create_app
from parity.server.context import build_context
from parity.server.settings import ServerSettings
from tests.serve.live import live_server
from tests.ui.scenario import build

VIEWPORT = {"width": 1400, "height": 900}


def take(output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("screenshots need Debian's chromium: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as folder:
        scenario = build(Path(folder) / "workspace")
        # No users: local mode, the pages as the workspace's own user (an admin) sees them.
        context = build_context(ServerSettings(workspace=str(scenario.folder), local_user="ada"))
        shots = {
            "runs.png": "/experiments/churn?param=lr&param=max_depth&param=model&metric=loss"
            "&metric=acc&sort=-metrics.acc",
            "run.png": f"/runs/{scenario.baseline}",
            "compare.png": f"/compare?run={scenario.baseline}&run={scenario.tuned}",
            "model.png": "/models/churn",
            "environment-diff.png": f"/environments/diff?a={scenario.env_a}&b={scenario.env_b}",
        }
        written = []
        try:
            with live_server(create_app(context)) as address, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, headless=True)
                page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
                for name, path in shots.items():
                    page.goto(f"http://{address}{path}")
                    if page.locator(".charts").count():
                        page.wait_for_selector("body[data-charts-drawn=true]", timeout=60_000)
                    target = output / name
                    page.screenshot(path=str(target), full_page=name != "run.png")
                    written.append(target)
                browser.close()
        finally:
            context.close()
    return written


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/ui")):
        print(path)
