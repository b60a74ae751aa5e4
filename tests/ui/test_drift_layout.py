"""The drift page's layout (issue 15, items 6 and 7): bars of a column drawn to one scale, and
an over-time table of many features that scrolls inside the page instead of widening it."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from parity.api import monitor as monitor_api
from parity.monitor.drift import DriftReport, FeatureDrift
from parity.ui.templating import render_text
from tests.ui.conftest import ServedUI
from tests.ui.test_browser import sign_in_with_token

DAY = 86_400_000
START = 1_760_000_000_000


def _page(features: tuple[FeatureDrift, ...], windows: int = 7) -> str:
    report = DriftReport(rows=500, min_rows=100, features=features)
    return render_text(
        "drift.html", viewer=None, can_write=False, csrf="", path="/models/churn/drift",
        name="churn", reference="churn/1", since="7d", report=report, error=None, versions=[],
        profiles=[], against=None, window="1d", windows=windows,
        features=[f.name for f in features], baseline_from="", baseline_until="",
        over_time=[
            monitor_api.DriftWindow(START + i * DAY, START + (i + 1) * DAY, report)
            for i in range(windows)
        ],
    )  # fmt: skip


def test_every_row_s_bars_are_drawn_to_one_scale() -> None:
    page = _page((
        FeatureDrift("age", 500, 0.4, 0.3, 0.2, 0.1, True, 1.0),
        FeatureDrift("plan", 500, 0.05, None, 0.2, None, False, 1.0),
    )).split('id="over-time"')[0]  # fmt: skip
    limits = re.findall(r'class="limit" style="left: ([0-9.]+)%"', page)
    fills = re.findall(r'class="fill[^"]*" style="width: ([0-9.]+)%"', page)
    # PSI: the largest (0.4) at 80 %, so both limits of 0.2 at 40 % and 0.05 at 10 %
    assert limits[0] == limits[2] == "40.0"
    assert fills[0] == "80.0"
    assert fills[2] == "10.0"


def test_the_over_time_table_of_thirty_features_scrolls_within_the_page(
    page: Page, served: ServedUI
) -> None:
    features = tuple(
        FeatureDrift(f"feature_{i:02d}", 500, 0.01 * i, 0.1, 0.2, 0.2, False, 1.0)
        for i in range(30)
    )
    sign_in_with_token(page, served, "reader")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_content(_page(features))  # on the server's origin: its stylesheet applies
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
    heights = page.evaluate(
        """() => Array.from(document.querySelectorAll("#over-time td.when"))
                 .map(cell => cell.getBoundingClientRect().height)"""
    )
    line = page.evaluate(
        """() => parseFloat(getComputedStyle(document.querySelector("#over-time td.when"))
                 .lineHeight)"""
    )
    assert heights
    assert max(heights) < 2 * line + 10  # a date on one line, not three
