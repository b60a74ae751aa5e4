"""Downloading a run's artifacts from its page: the original bytes (not the store's framing),
named after the file, a model's files one by one, and a corrupt object never saved whole."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest

from parity.api import models as models_api
from parity.core.run import Artifact, RunStatus, RunView
from parity.store.objects import blob
from parity.store.objects.store import object_key
from parity.ui.templating import render_text
from parity.workspace import open_workspace
from tests.ui.conftest import ServedUI
from tests.ui.scenario import REPORT, REPORT_PATH


def _get(served: ServedUI, path: str, role: str | None = "reader") -> httpx.Response:
    headers = {"Authorization": f"Bearer {served.tokens[role]}"} if role else {}
    return httpx.get(served.url + path, headers=headers)


def _links(page: str) -> list[str]:
    return [
        link.replace("&amp;", "&") for link in re.findall(r'class="download" href="([^"]+)"', page)
    ]


def test_a_file_artifact_downloads_as_its_original_bytes_under_its_name(served: ServedUI) -> None:
    page = _get(served, f"/runs/{served.scenario.baseline}")
    link = next(link for link in _links(page.text) if quote(REPORT_PATH, safe="") in link)
    assert "/api/v1/objects" not in page.text
    answer = _get(served, link)
    assert answer.status_code == 200, answer.text
    assert answer.content == REPORT  # not the store's framing (PRTY, zstd)
    assert answer.headers["content-length"] == str(len(REPORT))
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith('attachment; filename="summary.txt"')
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_model_artifact_lists_its_files_each_downloadable(served: ServedUI) -> None:
    page = _get(served, f"/runs/{served.scenario.baseline}")
    record = models_api.record("churn/1", workspace=served.context.workspace)
    assert record.files
    links = [link for link in _links(page.text) if "path=model&" in link]
    assert len(links) == len(record.files)
    for file in record.files:
        link = next(link for link in links if link.endswith("file=" + quote(file.path, safe="")))
        answer = _get(served, link)
        assert answer.status_code == 200, answer.text
        assert answer.content == served.context.workspace.objects.get_bytes(file.digest)
        name = file.path.rsplit("/", 1)[-1]
        assert f'filename="{name}"' in answer.headers["content-disposition"]


@pytest.mark.parametrize(
    "query",
    ["path=nope", "path=model", "path=model&file=../../etc/passwd", "path=/etc/passwd"],
)
def test_an_artifact_the_run_did_not_record_is_not_found(served: ServedUI, query: str) -> None:
    answer = _get(served, f"/runs/{served.scenario.baseline}/artifact?{query}")
    assert answer.status_code == 404, answer.text
    assert "root:x:0:0" not in answer.text


def test_downloading_needs_a_session(served: ServedUI) -> None:
    answer = _get(served, f"/runs/{served.scenario.baseline}/artifact?path=x", role=None)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_a_corrupt_object_never_arrives_whole(served: ServedUI) -> None:
    """The stored object holds other bytes than its digest names: the download stops short of
    its length, so a browser reports a failure rather than saving a wrong file."""
    genuine = b"the bytes the run logged\n" * 10
    forged = b"something else entirely!\n" * 10
    with open_workspace(served.scenario.folder) as ws:
        digest = ws.objects.put_bytes(genuine)
        ws.objects.backend.write(object_key(digest), blob.encode(forged))
        ws.runs.add_artifact(
            served.scenario.tuned, Artifact("forged.txt", "file", digest, len(genuine))
        )
    with pytest.raises(httpx.RemoteProtocolError):
        _get(served, f"/runs/{served.scenario.tuned}/artifact?path=forged.txt")


def test_artifact_sizes_read_as_people_read_them(served: ServedUI) -> None:
    page = _get(served, f"/runs/{served.scenario.baseline}").text
    shown = f"{len(REPORT) / 1024:.1f} KB"
    assert f'title="{len(REPORT):,} bytes">{shown}</td>' in page


def test_the_code_section_says_none_for_no_repository_and_lists_untracked_files() -> None:
    run = RunView(
        "0190ab12cd34ef56", "churn", "local", RunStatus.FINISHED, 0, 1000, "ada", "lab", (),
        code={"id": "c" * 64, "commit": "a" * 40, "branch": "main", "dirty": False,
              "repo_url": None, "untracked": ["train.py", "features.py"]},
    )  # fmt: skip
    page = render_text(
        "run.html", viewer=None, can_write=False, csrf="", path=f"/runs/{run.id}", run=run,
        diff=None, chart={"x": "step", "log": False, "smooth": 0.0, "zoom": None}, metric_keys=[],
        single_metrics=[], models=[], env_summary=None, model_files={},
    )  # fmt: skip
    assert '<tr><th>repository</th><td><span class="hint">none</span></td></tr>' in page
    assert '<td class="mono" id="untracked">train.py, features.py</td>' in page
