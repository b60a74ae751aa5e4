"""The acceptance of the web UI, in Chromium: filter runs, open a run and find the planted loss
spike in its chart's data, compare two runs, move an alias and see it in the history, a reader
without write controls, and an environment diff that rates a scikit-learn minor change high."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from parity.core.run import Metric, RunStatus
from tests.ui.conftest import PASSWORD, ServedUI
from tests.ui.scenario import SPIKE_STEP, SPIKE_VALUE, STEPS


def sign_in_with_token(page: Page, served: ServedUI, role: str) -> None:
    page.goto(f"{served.url}/")
    expect(page).to_have_url(f"{served.url}/login?next=%2F")
    page.fill("input[name=token]", served.tokens[role])
    page.click("button[type=submit]")
    expect(page.locator("header .user")).to_contain_text(role)


def sign_in_with_password(page: Page, served: ServedUI, path: str) -> None:
    page.goto(f"{served.url}{path}")
    page.fill("input[name=user]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .user")).to_contain_text("ada")


def test_filter_runs_with_an_expression(page: Page, served: ServedUI) -> None:
    sign_in_with_token(page, served, "reader")
    page.click("text=churn")
    expect(page.locator("table.runs tbody tr")).to_have_count(5)
    page.fill("input[name=filter]", "params.lr = 0.01 and metrics.acc > 0.9")
    page.press("input[name=filter]", "Enter")
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    expect(page.locator("table.runs tbody tr")).to_contain_text("tuned")
    assert "filter=params.lr" in page.url  # the view is in the address
    page.fill("input[name=filter]", "metrics.acc >> 0.9")
    page.press("input[name=filter]", "Enter")
    error = page.locator(".filter-error")
    expect(error).to_contain_text("at character 14")
    expect(error.locator("mark")).to_have_text(">")


def test_a_run_s_loss_chart_keeps_a_one_step_spike(page: Page, served: ServedUI) -> None:
    sign_in_with_password(page, served, "/experiments/churn")
    page.click("table.runs >> text=baseline")
    expect(page.locator("h1")).to_contain_text("baseline")
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    data: dict[str, Any] = page.evaluate("window.parityCharts.loss.data")
    assert sum(1 for _ in data["max"]) <= 2000
    holding = [
        i
        for i, (first, last) in enumerate(zip(data["first_steps"], data["last_steps"], strict=True))
        if first <= SPIKE_STEP <= last
    ]
    assert len(holding) == 1
    assert data["max"][holding[0]] == SPIKE_VALUE
    assert data["last_steps"][-1] == STEPS - 1
    drawn = page.evaluate("window.parityCharts.loss.plot.data[3]")  # the max series, plotted
    assert SPIKE_VALUE in drawn
    # Zooming on the spike asks for those steps again: few enough to come back whole.
    box = page.locator("figure[data-key=loss] .u-over").bounding_box()
    assert box is not None
    x = box["x"] + box["width"] * SPIKE_STEP / STEPS
    page.mouse.move(x - 2, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(x + 2, box["y"] + 40)
    page.mouse.up()
    charts = page.locator("figure.chart").count()  # all of them zoom, the loss chart among them
    page.wait_for_function(f"() => window.parityCharts.zoomed >= {charts}")
    zoomed: dict[str, Any] = page.evaluate("window.parityCharts.loss.data")
    assert zoomed["first_steps"] == zoomed["last_steps"]  # one bucket per step
    assert SPIKE_STEP in zoomed["first_steps"]
    assert zoomed["max"][zoomed["first_steps"].index(SPIKE_STEP)] == SPIKE_VALUE


def test_compare_two_runs_shows_only_the_differing_params(page: Page, served: ServedUI) -> None:
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/experiments/churn")
    page.check(f"input[value='{served.scenario.baseline}']")
    page.check(f"input[value='{served.scenario.tuned}']")
    page.click("text=Compare")
    params = page.locator("table.params tbody tr")
    expect(params).to_have_count(1)
    expect(params.first).to_have_attribute("data-key", "lr")
    # The overlaid loss chart keeps the baseline's spike (its buckets' maxima, drawn faintly).
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    baseline_max = page.evaluate(
        """baseline => {
            const chart = Object.entries(window.parityCharts)
                .find(([key]) => key.startsWith("loss@"))[1];
            return chart.plot.data[2 + 2 * chart.runs.indexOf(baseline)];
        }""",
        served.scenario.baseline,
    )
    assert SPIKE_VALUE in baseline_max
    page.click("text=show all")
    expect(page.locator("table.params tbody tr")).to_have_count(4)
    expect(page.locator("table.envdiff")).to_contain_text("scikit-learn")


def test_move_an_alias_from_the_models_page(page: Page, served: ServedUI) -> None:
    sign_in_with_token(page, served, "writer")
    page.goto(f"{served.url}/models/churn")
    form = page.locator("form.alias-form")
    form.locator("input[name=alias]").fill("production")
    form.locator("select[name=version]").select_option("2")
    form.locator("input[name=reason]").fill("better recall")
    form.locator("button[type=submit]").click()
    expect(page.locator("tr[data-version='2']")).to_contain_text("production")
    latest = page.locator("ol.timeline li").first
    expect(latest).to_contain_text("bob")
    expect(latest).to_contain_text("alias version 2")
    expect(latest).to_contain_text("better recall")
    expect(latest.locator(".before")).to_have_text("alias production · version 1")  # before


def test_a_reader_sees_no_alias_form(page: Page, served: ServedUI) -> None:
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/models/churn")
    expect(page.locator("table.versions")).to_be_visible()
    expect(page.locator("form.alias-form")).to_have_count(0)
    expect(page.locator("form.lock-form")).to_have_count(0)


def test_the_environment_diff_rates_a_scikit_learn_minor_change_high(
    page: Page, served: ServedUI
) -> None:
    sign_in_with_token(page, served, "reader")
    scenario = served.scenario
    page.goto(f"{served.url}/environments/diff?a={scenario.env_a}&b={scenario.env_b}")
    row = page.locator("tr[data-subject='package scikit-learn']")
    expect(row).to_have_attribute("data-risk", "high")
    expect(row.locator(".risk")).to_have_css("background-color", "rgb(185, 28, 28)")


def test_signing_out_revokes_the_session(page: Page, served: ServedUI) -> None:
    sign_in_with_token(page, served, "reader")
    cookie = next(c for c in page.context.cookies() if c["name"] == "parity_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    page.click("text=Sign out")
    expect(page).to_have_url(f"{served.url}/login")
    assert served.context.accounts.authenticate(cookie["value"]) is None


def test_follow_a_data_path_through_its_versions_to_the_run_that_read_one(
    page: Page, served: ServedUI
) -> None:
    sign_in_with_token(page, served, "reader")
    page.click("header >> text=Data")
    page.click("#paths >> text=train.csv")
    expect(page.locator("h1")).to_contain_text("train.csv")
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("one more row")
    expect(rows.nth(0).locator(".risk.high")).to_have_text("fail")
    rows.nth(1).locator(f"td.readers a[href='/runs/{served.scenario.baseline}']").click()
    expect(page.locator("h1")).to_contain_text("baseline")
    assert page.url.endswith(f"/runs/{served.scenario.baseline}")


def test_from_a_run_to_its_data_version_to_another_run_that_read_it(
    page: Page, served: ServedUI
) -> None:
    baseline, sweep_0, sweep_1 = served.scenario.baseline, *served.scenario.others[:2]
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/runs/{baseline}")
    page.click("#inputs a[href^='/data/']")
    expect(page.locator("h1")).to_contain_text("Data version")
    expect(page.locator("#readers tr[data-run]")).to_have_count(2)
    expect(page.locator("#writers tr[data-run]")).to_have_count(0)
    page.click(f"#readers tr[data-run='{sweep_0}'] a.mono")
    expect(page.locator("h1")).to_contain_text("sweep-0")
    assert page.url.endswith(f"/runs/{sweep_0}")
    # and back from the other reader: the same version, which the baseline read too
    page.click("#inputs a[href^='/data/']")
    page.click(f"#readers tr[data-run='{baseline}'] a.mono")
    expect(page.locator("h1")).to_contain_text("baseline")
    # a run's output leads to the version it wrote, which names it as its writer
    page.goto(f"{served.url}/runs/{sweep_1}")
    page.click("#outputs a[href^='/data/']")
    page.click(f"#writers tr[data-run='{sweep_1}'] a.mono")
    assert page.url.endswith(f"/runs/{sweep_1}")


def test_filtering_from_a_url_with_a_query_keeps_each_value_once(
    page: Page, served: ServedUI
) -> None:
    """The filter form replaces the address's query, never appends to it (issue 15, item 2)."""
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/experiments/churn?sort=-metrics.acc&param=lr&metric=acc")
    for expression in ("params.lr = 0.01", "metrics.acc > 0.5"):
        page.fill("input[name=filter]", expression)
        page.press("input[name=filter]", "Enter")
        expect(page.locator("form.filter input[name=filter]")).to_have_value(expression)
        page.wait_for_url(
            lambda url, e=expression: parse_qs(urlsplit(url).query).get("filter", [""])[-1] == e
        )
        query = parse_qs(urlsplit(page.url).query)
        assert query == {"filter": [expression], "sort": ["-metrics.acc"], "param": ["lr"],
                         "metric": ["acc"]}  # fmt: skip
        expect(page.locator("table.runs thead th.param")).to_have_count(1)
    page.click("#runs-view form.filter >> text=clear")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"sort": ["-metrics.acc"], "param": ["lr"], "metric": ["acc"]}


def test_compare_draws_a_failed_run_s_one_point_and_says_it_failed(
    page: Page, served: ServedUI
) -> None:
    """Issue 15, item 9: a series of one point has no line to draw, so its point is drawn."""
    store = served.context.workspace.runs
    made = []
    for name, points, status in (
        ("long", 40, RunStatus.FINISHED),
        ("crashed", 1, RunStatus.FAILED),
    ):
        run_id = store.create(experiment="crashes", name=name, user="ada", host="lab", command=[])
        store.log_metrics(
            run_id, [Metric("loss", 1.0 / (s + 1), s, 1_760_000_000_000 + s) for s in range(points)]
        )
        store.end(run_id, status, 1 if status is RunStatus.FAILED else 0)
        made.append(run_id)
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/compare?run={made[0]}&run={made[1]}")
    expect(page.locator("#unfinished")).to_contain_text("crashed failed")
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    shown = page.evaluate(
        """() => {
            const chart = Object.entries(window.parityCharts)
                .find(([key]) => key.startsWith("loss@"))[1];
            const series = chart.config.series;
            return [series[1].points.show === true, series[3].points.show === true,
                    chart.plot.data[3].filter(v => v !== null && v !== undefined).length];
        }"""
    )
    assert shown == [False, True, 1]  # the long run's line as before; the crashed run's point


def test_a_one_point_chart_on_time_spans_minutes_not_years(page: Page, served: ServedUI) -> None:
    """Issue 15, item 8: a single time has no span; the axis is a minute either side of it.
    (Two steps logged at one moment: a metric of one point is a number, not a chart.)"""
    store = served.context.workspace.runs
    run_id = store.create(experiment="single", name="one", user="ada", host="lab", command=[])
    moment_ms = 1_760_000_017_888
    store.log_metrics(run_id, [Metric("acc", 0.5, 0, moment_ms), Metric("acc", 0.6, 1, moment_ms)])
    store.end(run_id, RunStatus.FINISHED, 0)
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/runs/{run_id}?x=time")
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    low, high = page.evaluate(
        "() => [window.parityCharts.acc.plot.scales.x.min,"
        " window.parityCharts.acc.plot.scales.x.max]"
    )
    assert low < moment_ms / 1000 < high, (low, high)
    assert high - low == 120
    labels = page.locator("figure[data-key=acc] .u-axis").first.inner_text()
    assert "2029" not in labels
    assert "2027" not in labels


def test_a_chart_legend_has_one_entry_per_run(page: Page, served: ServedUI) -> None:
    """Issue 15, item 16: min and max are part of a run's entry, not entries of their own."""
    scenario = served.scenario
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/runs/{scenario.baseline}")
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    legend = page.locator("figure[data-key=loss] .u-legend tr.u-series:visible")
    expect(legend).to_have_count(2)  # the x axis and the run
    expect(legend.nth(1)).to_contain_text("baseline")
    page.goto(f"{served.url}/compare?run={scenario.baseline}&run={scenario.tuned}")
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    legend = page.locator("figure[data-key=loss] .u-legend tr.u-series:visible")
    expect(legend).to_have_count(3)  # the x axis and the two runs
    assert not any("max" in text for text in legend.all_inner_texts())


def test_a_drag_zoom_is_in_the_address_and_reopens_zoomed(page: Page, served: ServedUI) -> None:
    """Issue 15, item 15: a zoom is part of the view, so reloading its address shows it again."""
    sign_in_with_token(page, served, "reader")
    page.goto(f"{served.url}/runs/{served.scenario.baseline}")
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    charts = page.locator("figure.chart").count()
    box = page.locator("figure[data-key=loss] .u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + 40)
    page.mouse.up()
    page.wait_for_function(f"() => window.parityCharts.zoomed >= {charts}")
    query = parse_qs(urlsplit(page.url).query)
    low, high = float(query["xmin"][0]), float(query["xmax"][0])
    assert 0.15 * STEPS < low < high < 0.45 * STEPS, (low, high)
    script = """() => Object.fromEntries(Object.entries(window.parityCharts)
        .filter(([, chart]) => chart && chart.plot)
        .map(([key, chart]) => [key, [chart.data.first_steps[0], chart.data.last_steps.at(-1),
                                      chart.plot.scales.x.min, chart.plot.scales.x.max]]))"""
    zoomed: dict[str, list[float]] = page.evaluate(script)
    assert zoomed["loss"][0] > 0
    assert zoomed["loss"][1] < STEPS - 1
    assert len(zoomed) == charts  # the reload below compares the range of every chart
    page.reload()
    page.wait_for_selector("body[data-charts-drawn=true]", timeout=30_000)
    assert page.evaluate(script) == zoomed
    # a double-click returns to the whole series and takes the zoom out of the address
    page.locator("figure[data-key=loss] .u-over").dblclick()
    page.wait_for_url(lambda url: "xmin" not in url)
    page.wait_for_function(f"() => window.parityCharts.loss.data.last_steps.at(-1) === {STEPS - 1}")
