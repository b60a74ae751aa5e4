"""A page's bad address or form gets an HTML page in words, never the API's JSON or a schema's
pattern (issue 15, items 5 and 12)."""

from __future__ import annotations

import httpx
import pytest

from parity.api import runs as runs_api
from tests.ui.conftest import ServedUI


def _get(served: ServedUI, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {served.tokens['reader']}", "Accept": "text/html"}
    return httpx.get(served.url + path, headers=headers)


def _words(answer: httpx.Response) -> str:
    assert answer.headers["content-type"].startswith("text/html"), answer.text
    assert "pattern" not in answer.text, answer.text
    assert "^[" not in answer.text, answer.text
    return answer.text


def test_comparing_too_many_runs_says_how_many_may_be(served: ServedUI) -> None:
    runs = "&".join(f"run={i:08x}" for i in range(11))
    answer = _get(served, f"/compare?{runs}")
    assert answer.status_code == 400
    assert "compare 2 to 10 runs, not 11" in _words(answer)


@pytest.mark.parametrize("value", ["current", "nonsense", "../etc/passwd"])
def test_an_environment_diff_of_what_names_no_environment_is_a_page(
    served: ServedUI, value: str
) -> None:
    answer = _get(served, f"/environments/diff?a={value}&b={served.scenario.env_b}")
    assert answer.status_code in (400, 404)
    text = _words(answer)
    assert "environment" in text


def test_a_drift_window_in_weeks_is_taken(served: ServedUI) -> None:
    answer = _get(served, "/models/churn/drift?since=1w&baseline_from=2w&baseline_until=1w")
    assert answer.status_code == 200, answer.text
    assert 'value="1w"' in answer.text


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/runs/zzzz", 404, "no such page: /runs/zzzz"),
        ("/runs/{baseline}?x=epoch", 422, "&#39;epoch&#39; is not a valid &#39;x&#39; here"),
        ("/runs/{baseline}?smooth=2", 422, "less than 1"),
        ("/models/churn/drift?windows=99", 422, "windows"),
        ("/runs/{baseline}?xmin=abc&xmax=5", 422, "&#39;xmin&#39; &#39;abc&#39;"),
        ("/runs/{baseline}?xmin=0&xmax=inf", 422, "&#39;xmax&#39; &#39;inf&#39;"),
        ("/runs/{baseline}?xmin=nan&xmax=5", 422, "&#39;xmin&#39; &#39;nan&#39;"),
        ("/runs/{baseline}?xmin=9&xmax=3", 400, "a zoomed range needs xmin below xmax"),
        ("/runs/{baseline}?xmin=3", 400, "a zoomed range needs xmin below xmax"),
    ],
)
def test_an_invalid_address_is_a_page_in_words(
    served: ServedUI, path: str, status: int, words: str
) -> None:
    answer = _get(served, path.format(baseline=served.scenario.baseline))
    assert answer.status_code == status, answer.text
    assert words in _words(answer)


def test_a_zoomed_address_opens_the_charts_zoomed(served: ServedUI) -> None:
    """Issue 15, item 15: the zoom a drag put into the address reaches the page's charts."""
    answer = _get(served, f"/runs/{served.scenario.baseline}?xmin=10&xmax=20.5")
    assert answer.status_code == 200, answer.text
    assert 'data-chart-xmin="10.0" data-chart-xmax="20.5"' in answer.text
    assert '<input type="hidden" name="xmax" value="20.5">' in answer.text  # kept by the options
    plain = _get(served, f"/runs/{served.scenario.baseline}").text
    assert "data-chart-xmin" not in plain
    compared = _get(
        served, f"/compare?run={served.scenario.baseline}&run={served.scenario.tuned}&xmin=1&xmax=2"
    )
    assert 'data-chart-xmin="1.0" data-chart-xmax="2.0"' in compared.text


def test_the_api_still_answers_in_json(served: ServedUI) -> None:
    answer = _get(served, "/api/v1/runs/zzzz")
    assert answer.status_code in (404, 422)
    assert answer.headers["content-type"].startswith("application/json")


def test_an_unknown_experiment_is_not_found(served: ServedUI) -> None:
    answer = _get(served, "/experiments/nope")
    assert answer.status_code == 404
    assert "no experiment &#39;nope&#39;" in _words(answer)
    assert _get(served, "/experiments/churn").status_code == 200


def test_an_unknown_environment_id_is_named_as_such(served: ServedUI) -> None:
    answer = _get(served, "/environments/deadbeef")
    assert answer.status_code == 404
    assert "no environment or run has an id starting with deadbeef" in _words(answer)


def test_a_data_version_of_one_file_says_one_file(served: ServedUI) -> None:
    run = runs_api.get(served.scenario.baseline, workspace=served.context.workspace)
    page = _get(served, f"/data/{run.inputs[0].data_version}").text
    assert " · 1 file · " in page
    assert "1 files" not in page


def test_a_bad_filter_shows_its_error_alone_and_the_example_uses_real_keys(
    served: ServedUI,
) -> None:
    page = _get(served, "/experiments/churn?filter=metrics.acc+%3E%3E+1").text
    assert "filter-error" in page
    assert "No runs match." not in page
    page = _get(served, "/experiments/churn").text
    assert 'placeholder="metrics.acc &gt; 0.5 and params.lr = &#39;…&#39;"' in page
    assert '<span class="col-kind">param</span>' in page
    assert '<span class="col-kind">metric</span>' in page


def test_a_data_version_names_the_path_its_runs_recorded(served: ServedUI) -> None:
    run = runs_api.get(served.scenario.baseline, workspace=served.context.workspace)
    page = _get(served, f"/data/{run.inputs[0].data_version}").text
    heading = page.split("<h1>")[1].split("</h1>")[0]
    assert '<a class="mono" href="/data/history?path=train.csv">train.csv</a>' in heading
