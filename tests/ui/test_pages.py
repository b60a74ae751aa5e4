"""The web UI's pages over HTTP, without a browser: who may see and post what, the session
cookie and CSRF token, the static files' names and cache lifetime, the vendored files' hashes."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parity.api import environments as env_api
from parity.api import events as events_api
from parity.api import models as models_api
from parity.api import monitor as monitor_api
from parity.core.environment import Environment
from parity.core.errors import UsageError
from parity.core.events import DRIFT_ALERT
from parity.core.roles import Role
from parity.core.run import Metric, RunStatus
from parity.monitor.drift import DriftReport, FeatureDrift
from parity.server.route_table import PAGE_ROUTES, SERVED
from parity.server.routing import PUBLIC
from parity.ui import assets
from parity.ui.templating import render_text
from parity.workspace import now_ms
from tests.conftest import run_parity
from tests.ui.conftest import PASSWORD, ServedUI, write_advisories

VENDOR = assets.STATIC / "vendor"


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    made: list[httpx.Client] = []
    yield made
    for client in made:
        client.close()


def _client(served: ServedUI, role: str | None, made: list[httpx.Client]) -> httpx.Client:
    """A browser-like client, signed in with a token of ``role`` (through the sign-in page)."""
    client = httpx.Client(base_url=served.url, follow_redirects=False)
    made.append(client)
    if role is not None:
        form = client.get("/login")
        csrf = _csrf(form.text)
        answer = client.post("/login", data={"csrf": csrf, "token": served.tokens[role]})
        assert answer.status_code == 303, answer.text
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_vendored_libraries_are_the_files_their_manifest_names() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
    versions = {p["name"]: p["version"] for p in manifest["packages"]}
    assert versions == {"htmx.org": "2.0.4", "uplot": "1.6.31"}
    for package in manifest["packages"]:
        assert package["tarball"].startswith("https://registry.npmjs.org/")
        assert package["integrity"].startswith("sha512-")
        for name, file in package["files"].items():
            assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == file["sha256"]


def test_static_files_have_content_hashed_names_and_a_year_of_cache(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    url = assets.url("vendor/htmx.min.js")
    digest = hashlib.sha256((VENDOR / "htmx.min.js").read_bytes()).hexdigest()[:12]
    assert url == f"/static/vendor/htmx.min.{digest}.js"
    answer = httpx.get(served.url + url)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert httpx.get(served.url + "/static/vendor/htmx.min.js").status_code == 404
    page = _client(served, "reader", clients).get("/").text
    assert url in page
    assert "cdn" not in page.lower()


def test_every_page_is_a_declared_route_with_a_role() -> None:
    pages = {(r.method, r.path): r for r in PAGE_ROUTES}
    assert all(r.page for r in pages.values())
    assert set(PAGE_ROUTES) <= set(SERVED)
    public = {key for key, r in pages.items() if r.access is PUBLIC}
    assert public == {
        ("GET", "/static/{name:path}"), ("GET", "/favicon.ico"), ("GET", "/login"),
        ("POST", "/login"), ("POST", "/logout"),
    }  # fmt: skip
    writes = {key: r.access for key, r in pages.items() if r.writes and key not in public}
    assert writes == {
        ("POST", "/models/{name}/alias"): Role.WRITER,
        ("POST", "/models/{name}/lock"): Role.WRITER,
    }


def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    answer = httpx.get(f"{served.url}/experiments/churn?filter=x", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fexperiments%2Fchurn%3Ffilter%3Dx"


def test_signing_in_with_a_password_sets_a_strict_http_only_cookie(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, None, clients)
    csrf = _csrf(client.get("/login").text)
    wrong = client.post("/login", data={"csrf": csrf, "user": "ada", "password": "nope"})
    assert wrong.status_code == 401
    assert "wrong user name and password" in wrong.text
    right = client.post(
        "/login",
        data={"csrf": csrf, "user": "ada", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/"  # never off this server
    cookie = right.headers["set-cookie"]
    assert "parity_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS the cookie is Secure
    client.cookies.set("parity_session", client.cookies["parity_session"])
    assert client.get("/models").status_code == 200


def test_a_form_without_its_csrf_token_is_refused(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "writer", clients)
    answer = client.post("/models/churn/alias", data={"alias": "staging", "version": "1"})
    assert answer.status_code == 403
    assert "security token" in answer.text
    forged = client.post(
        "/models/churn/alias", data={"alias": "staging", "version": "1", "csrf": "x" * 43}
    )
    assert forged.status_code == 403
    as_json = client.post("/models/churn/alias", json={"alias": "staging", "version": 1})
    assert as_json.status_code == 415


def test_a_reader_may_not_post_a_write_form(served: ServedUI, clients: list[httpx.Client]) -> None:
    client = _client(served, "reader", clients)
    csrf = _csrf(client.get("/login").text)
    answer = client.post(
        "/models/churn/alias", data={"csrf": csrf, "alias": "staging", "version": "1"}
    )
    assert answer.status_code == 403
    assert "needs the writer role" in answer.text


def test_a_session_reads_the_api_but_cannot_write_through_it(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "writer", clients)
    run = served.scenario.baseline
    assert client.get(f"/api/v1/runs/{run}").status_code == 200
    refused = client.post(f"/api/v1/runs/{run}/tags", json={"tags": {"x": "1"}})
    assert refused.status_code == 401


def test_the_history_endpoint_reads_one_range_of_steps(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    run = served.scenario.baseline
    document = client.get(
        f"/api/v1/runs/{run}/metrics/loss/history",
        params={"buckets": 2000, "min_step": 73_200, "max_step": 73_299},
    ).json()
    assert document["count"] == 100
    assert document["buckets"]["first_steps"] == list(range(73_200, 73_300))
    assert max(document["buckets"]["max"]) == 50.0


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/", "churn"),
        ("/experiments/churn?sort=-metrics.acc&param=lr&metric=acc", "tuned"),
        ("/models", "churn"),
        ("/models/churn", "lineage graph"),
        ("/environments", "packages"),
        ("/data", "file"),
    ],
)
def test_pages_render(served: ServedUI, clients: list[httpx.Client], path: str, text: str) -> None:
    answer = _client(served, "reader", clients).get(path)
    assert answer.status_code == 200
    assert text in answer.text
    assert answer.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in answer.headers["content-security-policy"]


def test_a_missing_run_is_a_page_not_json(served: ServedUI, clients: list[httpx.Client]) -> None:
    answer = _client(served, "reader", clients).get("/runs/ffffffffffffffffffffffffffffffff")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("reference", ["current", "/usr/bin/python3", "../x.json", "churn"])
def test_an_environment_diff_never_captures_or_reads_a_file_of_the_server(
    served: ServedUI, clients: list[httpx.Client], reference: str
) -> None:
    client = _client(served, "reader", clients)
    answer = client.get("/environments/diff", params={"a": reference, "b": "churn@production"})
    assert 400 <= answer.status_code < 500


def test_an_environment_diff_takes_runs_and_model_versions(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    scenario = served.scenario
    # Run ids start with their creation time: a short prefix of one may name runs made in the
    # same instant, so the page is given one long enough to be unique.
    answer = client.get(
        "/environments/diff", params={"a": "churn@production", "b": scenario.tuned[:20]}
    )
    assert answer.status_code == 200, answer.text
    assert 'data-subject="package scikit-learn" data-risk="high"' in answer.text


def test_a_run_s_input_links_to_its_data_version(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    run_page = client.get(f"/runs/{served.scenario.baseline}").text
    assert "packages ·" in run_page  # the environment's summary beside its link
    found = re.search(r'href="(/data/[0-9a-f]{64})"', run_page)
    assert found is not None
    answer = client.get(found.group(1))
    assert answer.status_code == 200
    assert " 1 file " in answer.text
    assert "none recorded" in answer.text  # no validation yet


def test_an_environment_page_lists_its_audit_findings_with_their_severity(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    audited = client.get(f"/environments/{served.scenario.env_a}").text
    section = audited.split('id="audit"')[1].split("</section>")[0]
    assert 'class="risk-high" data-package="scikit-learn" data-severity="high"' in section
    assert "GHSA-2099-test-0001 (CVE-2099-0001)" in section
    assert "not-installed-anywhere" not in section
    clean = client.get(f"/environments/{served.scenario.env_b}").text  # scikit-learn moved on
    section = clean.split('id="audit"')[1].split("</section>")[0]
    assert "no known vulnerability" in section
    assert "data-package" not in section


def test_a_server_s_audit_sees_an_advisory_edited_in_place(
    served: ServedUI, tmp_path: Path
) -> None:
    ws = served.context.workspace
    folder = write_advisories(tmp_path / "osv")
    first = env_api.audit(served.scenario.env_a, folder, workspace=ws)
    assert first.vulnerable_packages == ("scikit-learn",)
    edited = folder / "GHSA-2099-test-0001.json"
    document = json.loads(edited.read_text())
    document["affected"][0]["versions"] = ["0.0.1"]  # no longer the installed version
    edited.write_text(json.dumps(document))
    assert env_api.audit(served.scenario.env_a, folder, workspace=ws).ok


def test_without_advisories_the_environment_page_says_how_to_audit(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    environment = served.context.workspace.records.get(served.scenario.env_a)
    page = render_text(
        "environment.html", viewer=None, can_write=False, csrf="", path="/environments/x",
        env=Environment.from_record(environment), env_id=served.scenario.env_a,
        advisories=None, audit=None, audit_error=None, findings=[], severity_risk={},
    )  # fmt: skip
    assert "start the server with <code>--advisories PATH</code>" in page
    assert "data-severity" not in page


def test_a_versioned_path_shows_its_versions_by_commit_with_verdicts_and_readers(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    listing = client.get("/data").text
    assert 'data-path="train.csv"' in listing
    assert 'href="/data/history?path=train.csv"' in listing
    page = client.get("/data/history", params={"path": "train.csv"})
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr data-commit="([0-9a-f]{40})">(.*?)</tr>', page.text, re.S)
    assert len(rows) == 2
    newest, oldest = rows[0][1], rows[1][1]
    assert "one more row" in newest
    assert "first table" in oldest
    assert newest.count('<td class="num">1</td>') == 1
    assert '<span class="risk high">fail</span>' in newest  # the label 2 is out of range
    assert "fail" not in oldest
    assert "pass" not in oldest
    scenario = served.scenario
    assert f'href="/runs/{scenario.tuned}"' in newest
    assert f'href="/runs/{scenario.baseline}"' in oldest
    assert scenario.tuned not in oldest
    sweep_0, sweep_1 = scenario.others[:2]
    assert f'href="/runs/{sweep_0}"' in oldest.split('class="readers"')[1]  # a second reader
    writers = newest.split('class="writers"')[1].split("</td>")[0]
    assert f'href="/runs/{sweep_1}"' in writers
    assert "href" not in oldest.split('class="writers"')[1].split("</td>")[0]


@pytest.mark.parametrize("path", ["schema.py", "../train.csv", "/etc/passwd", "train"])
def test_the_history_page_takes_only_a_versioned_path(
    served: ServedUI, clients: list[httpx.Client], path: str
) -> None:
    answer = _client(served, "reader", clients).get("/data/history", params={"path": path})
    assert answer.status_code == 404
    assert "is not a versioned path here" in answer.text


def test_a_data_version_lists_the_runs_that_read_it(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    run_page = client.get(f"/runs/{served.scenario.tuned}").text
    found = re.search(r'href="/data/([0-9a-f]{64})"', run_page)
    assert found is not None
    page = client.get(f"/data/{found.group(1)}").text
    readers = page.split('id="readers"')[1].split("</table>")[0]
    assert f'href="/runs/{served.scenario.tuned}"' in readers
    assert served.scenario.baseline not in readers
    assert "tuned" in readers
    writers = page.split('id="writers"')[1].split("</table>")[0]
    assert f'href="/runs/{served.scenario.others[1]}"' in writers
    assert served.scenario.tuned not in writers


def test_a_run_s_output_links_to_the_data_version_that_lists_it_as_writer(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    writer = served.scenario.others[1]
    run_page = client.get(f"/runs/{writer}").text
    outputs = run_page.split("<h3>Outputs</h3>")[1].split("</table>")[0]
    found = re.search(r'href="/data/([0-9a-f]{64})"', outputs)
    assert found is not None
    page = client.get(f"/data/{found.group(1)}").text
    writers = page.split('id="writers"')[1].split("</table>")[0]
    assert f'<tr data-run="{writer}">' in writers
    assert writer not in page.split('id="readers"')[1].split("</table>")[0]


@pytest.mark.parametrize("version", ["0" * 64, "abcd", "../../etc", "%2e%2e%2fetc", "ABCD"])
def test_an_unknown_or_malformed_data_version_is_not_found(
    served: ServedUI, clients: list[httpx.Client], version: str
) -> None:
    answer = _client(served, "reader", clients).get(f"/data/{version}")
    assert answer.status_code in (404, 422), answer.text
    assert "root:" not in answer.text


def test_the_drift_page_of_a_model_never_served_says_so(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    client = _client(served, "reader", clients)
    answer = client.get("/models/churn/drift", params={"version": "@production", "since": "24h"})
    assert answer.status_code == 200
    assert 'role="alert"' in answer.text or "no verdict yet" in answer.text
    refused = client.get("/models/churn/drift", params={"since": "../x"})
    assert refused.status_code == 422


def test_the_drift_page_checks_against_a_chosen_stored_profile(
    served: ServedUI, clients: list[httpx.Client], tmp_path: Path
) -> None:
    ws = served.context.workspace
    names = models_api.record("churn/1", workspace=ws).signature.input_names  # type: ignore[union-attr]
    rng = random.Random(15)
    logged = [[rng.gauss(0, 1) for _ in names] for _ in range(400)]
    ws.monitoring.append_predictions([
        {"time_ms": now_ms(), "model": "churn", "version": 1, "inputs": row, "prediction": 0}
        for row in logged
    ])  # fmt: skip
    profiled = {}
    for label, shift in (("same", 0.0), ("shifted", 3.0)):
        table = tmp_path / f"{label}.csv"
        rows = [[rng.gauss(shift, 1) for _ in names] for _ in range(2_000)]
        table.write_text(
            ",".join(names) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)
        )
        profiled[label] = monitor_api.profile(table, workspace=ws)
    client = _client(served, "reader", clients)
    pages = {
        label: client.get("/models/churn/drift", params={"version": "/1", "against": profile_id})
        for label, profile_id in profiled.items()
    }
    assert f'<option value="{profiled["shifted"]}" selected>' in pages["shifted"].text
    assert "the stored profile" in pages["shifted"].text
    shifted, over_time = pages["shifted"].text.split('id="over-time"')
    assert shifted.count('data-drifted="true"') == len(names)
    assert over_time.count('data-drifted="true"') == len(names)  # all logged in the last day
    assert "no feature drifted" in pages["same"].text
    assert 'data-drifted="true"' not in pages["same"].text
    training = client.get("/models/churn/drift", params={"version": "/1", "against": ""})
    assert "no profiled training data" in training.text  # the default: the model's own
    unknown = client.get("/models/churn/drift", params={"version": "/1", "against": "e" * 64})
    assert "no stored profile eeeeeeeeeeee" in unknown.text
    assert 'data-feature="' not in unknown.text
    refused = client.get("/models/churn/drift", params={"against": "train.csv"})
    assert refused.status_code == 422  # never a file name


def test_the_drift_page_shows_the_drift_of_each_window_over_time(
    served: ServedUI, clients: list[httpx.Client], tmp_path: Path
) -> None:
    ws = served.context.workspace
    names = models_api.record("churn/2", workspace=ws).signature.input_names  # type: ignore[union-attr]
    rng = random.Random(21)
    table = tmp_path / "reference.csv"
    rows = [[rng.gauss(0, 1) for _ in names] for _ in range(2_000)]
    table.write_text(",".join(names) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    profile_id = monitor_api.profile(table, workspace=ws)
    day, now = 86_400_000, now_ms()
    # version 2 served like its reference two and a half days ago, shifted half a day ago
    ws.monitoring.append_predictions([
        {"time_ms": now - int(offset * day), "model": "churn", "version": 2,
         "inputs": [rng.gauss(shift, 1) for _ in names], "prediction": 0}
        for offset, shift in ((2.5, 0.0), (0.5, 3.0)) for _ in range(300)
    ])  # fmt: skip
    windows = monitor_api.drift_windows(
        "churn/2", window="1d", count=3, reference=profile_id, workspace=ws
    )
    assert [w.report.rows for w in windows] == [300, 0, 300]
    assert windows[0].report.ok
    assert windows[2].report.drifted == tuple(names)
    assert windows[0].end_ms == windows[1].start_ms
    assert windows[2].end_ms - windows[0].start_ms == 3 * day
    earlier = monitor_api.drift("churn/2", reference=profile_id, until="1d", workspace=ws)
    assert (earlier.rows, earlier.ok) == (300, True)  # the shifted rows are after it
    client = _client(served, "reader", clients)
    params = {"version": "/2", "against": profile_id, "window": "1d", "windows": "3"}
    alerts = len(events_api.list(DRIFT_ALERT, workspace=ws))
    page = client.get("/models/churn/drift", params={**params, "since": "1d"})
    assert page.status_code == 200, page.text
    assert "drifted: " in page.text.split('id="over-time"')[0]  # the last day's report
    assert len(events_api.list(DRIFT_ALERT, workspace=ws)) == alerts  # looking is no alert
    section = page.text.split('id="over-time"')[1].split("</section>")[0]
    verdicts = re.findall(r'data-rows="(\d+)" data-verdict="(\w+)"', section)
    assert verdicts == [("300", "ok"), ("0", "none"), ("300", "drifted")]
    newest = section.split("<tr data-start=")[-1]
    assert newest.count('data-drifted="true"') == len(names)
    assert 'name="since" value="1d"' in page.text  # the view stays in the form
    assert 'name="window" value="1d"' in page.text
    assert 'name="windows" value="3"' in page.text
    for wrong in ({"window": "../x"}, {"window": "0d"}, {"windows": "31"}, {"windows": "0"}):
        assert client.get("/models/churn/drift", params={**params, **wrong}).status_code == 422


def test_drift_against_an_earlier_serving_window(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    ws = served.context.workspace
    names = models_api.record("churn/2", workspace=ws).signature.input_names  # type: ignore[union-attr]
    rng = random.Random(33)
    day, now = 86_400_000, now_ms()
    # churn/2 served like this eleven days ago, shifted eight and a half days ago
    ws.monitoring.append_predictions([
        {"time_ms": now - int(offset * day), "model": "churn", "version": 2,
         "inputs": [rng.gauss(shift, 1) for _ in names], "prediction": 0}
        for offset, shift in ((11, 0.0), (8.5, 3.0)) for _ in range(500)
    ])  # fmt: skip
    earlier = ("12d", "10d")
    shifted = monitor_api.drift("churn/2", since="9d", until="8d", baseline=earlier, workspace=ws)
    assert (shifted.rows, shifted.drifted) == (500, tuple(names))
    same = monitor_api.drift("churn/2", since="12d", until="10d", baseline=earlier, workspace=ws)
    assert (same.rows, same.ok) == (500, True)  # the baseline against itself
    with pytest.raises(UsageError, match="0 rows of churn/2's inputs"):
        monitor_api.drift("churn/2", baseline=("10d", "9d"), workspace=ws)
    with pytest.raises(UsageError, match="not both"):
        monitor_api.drift("churn/2", reference="abcd", baseline=earlier, workspace=ws)
    with pytest.raises(UsageError, match="ends before it starts"):
        monitor_api.drift("churn/2", baseline=("10d", "12d"), workspace=ws)
    client = _client(served, "reader", clients)
    params = {"version": "/2", "since": "9d", "baseline_from": "12d", "baseline_until": "10d",
              "window": "1d", "windows": "12"}  # fmt: skip
    page = client.get("/models/churn/drift", params=params).text
    main, over_time = page.split('id="over-time"')
    assert "the inputs it was served from 12d ago until 10d ago" in main
    assert main.count('data-drifted="true"') == len(names)
    verdicts = re.findall(r'data-rows="(\d+)" data-verdict="(\w+)"', over_time)
    assert ("500", "ok") in verdicts  # the window the baseline came from
    assert ("500", "drifted") in verdicts
    one_end = client.get("/models/churn/drift", params={**params, "baseline_until": ""}).text
    assert "needs both its start and its end" in one_end
    assert 'data-feature="' not in one_end
    assert (
        client.get("/models/churn/drift", params={**params, "baseline_from": "../"}).status_code
        == 422
    )
    cli = run_parity(
        "monitor", "drift", "churn/2", "--since", "9d", "--until", "8d", "--baseline", "12d..10d",
        "--json", cwd=served.scenario.folder,
    )  # fmt: skip
    assert cli.returncode == 1, cli.stderr
    assert json.loads(cli.stdout)["drifted"] == list(names)
    wrong = run_parity(
        "monitor", "drift", "churn/2", "--baseline", "12d", cwd=served.scenario.folder
    )
    assert wrong.returncode == 2
    assert "FROM..UNTIL" in wrong.stderr


def test_drift_bars_show_each_feature_against_its_limits() -> None:
    report = DriftReport(
        rows=500,
        min_rows=100,
        features=(
            FeatureDrift("age", 500, 0.4, 0.3, 0.2, 0.1, True, 1.0),
            FeatureDrift("plan", 500, 0.05, None, 0.2, None, False, 1.0),
        ),
    )
    page = render_text(
        "drift.html", viewer=None, can_write=False, csrf="", path="/models/churn/drift",
        name="churn", reference="churn/1", since="7d", report=report, error=None, versions=[],
        profiles=[], against=None, window="1d", windows=2, features=["age", "plan"],
        baseline_from="", baseline_until="",
        over_time=[
            monitor_api.DriftWindow(0, 86_400_000, DriftReport(3, 100, ())),
            monitor_api.DriftWindow(86_400_000, 2 * 86_400_000, report),
        ],
    )  # fmt: skip
    main, over_time = page.split('id="over-time"')
    assert 'data-rows="3" data-verdict="none"' in over_time
    assert "too few rows" in over_time
    assert 'data-rows="500" data-verdict="drifted"' in over_time
    assert '<td class="num drifted" data-feature="age" data-drifted="true"' in over_time
    assert '<td class="num" data-feature="plan" data-drifted="false"' in over_time
    assert over_time.count('data-feature="plan"') == 2  # an empty cell where none was checked
    page = main
    assert 'data-feature="age" data-drifted="true"' in page
    assert 'data-feature="plan" data-drifted="false"' in page
    assert 'class="fill over" style="width: 80.0%"' in page  # 0.4 over its 0.2 limit
    assert 'class="limit" style="left: 40.0%"' in page
    assert "drifted: age" in page


def test_a_metric_of_one_value_is_a_number_not_a_chart(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    """Issue 15, item 15: one logged value gets a row (name, value, step), not an empty chart."""
    store = served.context.workspace.runs
    run_id = store.create(experiment="single", name="mixed", user="ada", host="lab", command=[])
    store.log_metrics(
        run_id, [Metric("loss", 1 / (s + 1), s, 1_760_000_000_000 + s) for s in range(5)]
    )
    store.log_metrics(run_id, [Metric("test_acc", 0.8125, 7, 1_760_000_000_100)])
    store.end(run_id, RunStatus.FINISHED, 0)
    page = _client(served, "reader", clients).get(f"/runs/{run_id}").text
    assert re.findall(r'<figure class="chart"[^>]*data-key="([^"]+)"', page) == ["loss"]
    singles = page.split('id="single-metrics"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-key="([^"]+)"><th>[^<]*</th><td class="num">([^<]*)</td>'
                      r'<td class="hint">step (\d+)</td>', singles)  # fmt: skip
    assert rows == [("test_acc", "0.8125", "7")]


def test_the_runs_table_says_how_many_runs_match(
    served: ServedUI, clients: list[httpx.Client]
) -> None:
    """Issue 15, item 17: the experiment's count unfiltered, a filter's when on one page."""
    client = _client(served, "reader", clients)
    held = next(e.runs for e in served.context.workspace.runs.experiments() if e.name == "churn")

    def count(query: str) -> str:
        page = client.get(f"/experiments/churn{query}").text
        return page.split('id="run-count">')[1].split("</span>")[0]

    assert count("") == f"{held} runs"
    assert count("?filter=params.lr+%3D+0.01+and+metrics.acc+%3E+0.9") == "1 run matches"
    assert count("?filter=metrics.acc+%3E%3E+0.9") == "runs"  # a bad filter counts nothing
