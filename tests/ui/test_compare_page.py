"""The comparison page's data inputs: short ids that open their data version (issue 15,
item 10), not 64 hex digits that widen the page."""

from __future__ import annotations

import httpx

from parity.api import runs as runs_api
from tests.ui.conftest import ServedUI


def test_data_inputs_are_short_linked_ids(served: ServedUI) -> None:
    scenario = served.scenario
    page = httpx.get(
        f"{served.url}/compare?run={scenario.baseline}&run={scenario.tuned}",
        headers={"Authorization": f"Bearer {served.tokens['reader']}"},
    )
    assert page.status_code == 200, page.text
    for run_id in (scenario.baseline, scenario.tuned):
        version = runs_api.get(run_id, workspace=served.context.workspace).inputs[0].data_version
        assert f'href="/data/{version}" title="{version}">{version[:12]}</a>' in page.text
        assert f">{version}<" not in page.text
    assert 'id="unfinished"' not in page.text  # both finished
