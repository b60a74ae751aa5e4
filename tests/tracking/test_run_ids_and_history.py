"""How runs are named and read back from the command line: shortest unique id prefixes, a
metric's whole history, hints for filters on keys no run has, and the settled command words."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from parity.api import runs
from parity.core.run import Metric, RunStatus
from parity.tracking.store import RunStore
from parity.workspace import open_workspace
from tests.conftest import run_parity

START_MS = 1_760_000_000_000


def _make_runs(root: Path, starts: list[int]) -> list[str]:
    """Finished runs started at the given milliseconds (a fixed clock each: no waiting)."""
    workspace = open_workspace(root, environ={})
    try:
        made = []
        for start in starts:
            store = RunStore(workspace.meta, lambda start=start: start, workspace.records)
            run_id = store.create(
                experiment="sweep", name=None, user="test", host=None, command=["train"]
            )
            store.log_metrics(
                run_id,
                [Metric.of("loss", 1.0 / (step + 1), step, start + step) for step in range(3)]
                + [Metric.of("accuracy", 0.9, 2, start + 2)],
            )
            store.end(run_id, RunStatus.FINISHED, 0)
            made.append(run_id)
        return made
    finally:
        workspace.close()


def _listed_prefixes(root: Path) -> list[str]:
    table = run_parity("runs", "list", cwd=root)
    assert table.returncode == 0, table.stderr
    return re.findall(r"^│ ([0-9a-f]+) +│", table.stdout, flags=re.MULTILINE)


@pytest.mark.slow
def test_lists_name_runs_by_their_shortest_unique_prefix(workspace_dir: Path) -> None:
    # Three runs of a sweep started within one second, and one started a minute later.
    sweep = _make_runs(workspace_dir, [START_MS, START_MS + 200, START_MS + 400])
    [alone] = _make_runs(workspace_dir, [START_MS + 60_000])
    shown = _listed_prefixes(workspace_dir)
    assert len(shown) == 4
    by_id = {next(r for r in [*sweep, alone] if r.startswith(p)): p for p in shown}
    assert by_id[alone] == alone[:8]  # runs started apart need no more than 8 characters
    for run_id in sweep:
        prefix = by_id[run_id]
        assert len(prefix) > 8
        shown_run = run_parity("runs", "show", prefix, "--json", cwd=workspace_dir)
        assert json.loads(shown_run.stdout)["id"] == run_id
        # one character less is ambiguous, and the error names each match by a prefix of its own
        shorter = run_parity("runs", "show", prefix[:-1], cwd=workspace_dir)
        assert shorter.returncode == 2
        assert "matches" in shorter.stderr
    workspace = open_workspace(workspace_dir, environ={})
    try:
        assert runs.short_ids([alone, *sweep], workspace=workspace) == by_id
    finally:
        workspace.close()


@pytest.mark.slow
def test_the_whole_history_of_a_metric(workspace_dir: Path) -> None:
    [run_id] = _make_runs(workspace_dir, [START_MS])
    short = run_id[:8]
    as_json = run_parity("runs", "history", short, "loss", "--json", cwd=workspace_dir)
    assert as_json.returncode == 0, as_json.stderr
    points = json.loads(as_json.stdout)
    assert [(p["step"], p["value"]) for p in points] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    as_csv = run_parity("runs", "history", short, "loss", "--csv", cwd=workspace_dir)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(int(r["step"]), float(r["value"])) for r in rows] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert int(rows[0]["timestamp_ms"]) == START_MS
    table = run_parity("runs", "history", short, "loss", cwd=workspace_dir)
    assert "0.333333" in table.stdout

    workspace = open_workspace(workspace_dir, environ={})
    try:
        history = runs.history(short, "loss", workspace=workspace)
        assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    finally:
        workspace.close()

    missing = run_parity("runs", "history", short, "los", cwd=workspace_dir)
    assert missing.returncode == 3
    assert f"run {short} has no metric 'los' (its metrics: accuracy, loss)" in missing.stderr
    both = run_parity("runs", "history", short, "loss", "--csv", "--json", cwd=workspace_dir)
    assert both.returncode == 2


def test_a_filter_on_a_key_no_run_has_says_so(workspace_dir: Path) -> None:
    _make_runs(workspace_dir, [START_MS])
    typo = run_parity("runs", "list", "--filter", "metrics.acuracy > 0.5", cwd=workspace_dir)
    assert typo.returncode == 0
    assert typo.stdout.strip() == "No runs match."
    assert "hint: no run has metrics.acuracy; metrics some run has: accuracy, loss" in typo.stderr
    # a key that exists but matches nothing needs no hint
    known = run_parity("runs", "list", "--filter", "metrics.accuracy > 0.95", cwd=workspace_dir)
    assert known.stdout.strip() == "No runs match."
    assert "hint" not in known.stderr


@pytest.mark.slow
def test_undelete_is_the_word_and_the_old_spellings_still_work(workspace_dir: Path) -> None:
    [run_id] = _make_runs(workspace_dir, [START_MS])
    helped = run_parity("runs", "--help", cwd=workspace_dir).stdout
    assert "undelete" in helped
    assert "history" in helped
    assert not re.search(r"^\s+(restore|ls)\s", helped, flags=re.MULTILINE)  # hidden aliases

    deleted = run_parity("runs", "delete", run_id[:8], cwd=workspace_dir)
    assert deleted.stdout.strip() == f"deleted run {run_id[:8]}"
    undeleted = run_parity("runs", "undelete", run_id[:8], cwd=workspace_dir)
    assert undeleted.returncode == 0, undeleted.stderr
    assert undeleted.stdout.strip() == f"undeleted run {run_id[:8]}"
    run_parity("runs", "delete", run_id[:8], cwd=workspace_dir)
    assert run_parity("runs", "restore", run_id[:8], cwd=workspace_dir).returncode == 0
    assert _listed_prefixes(workspace_dir) == [run_id[:8]]
    assert (
        run_parity("runs", "ls", cwd=workspace_dir).stdout
        == run_parity("runs", "list", cwd=workspace_dir).stdout
    )


@pytest.mark.slow
@pytest.mark.parametrize("word", ["list", "show", "history", "undelete"])
def test_parity_run_of_a_runs_word_that_is_no_program_records_nothing(
    workspace_dir: Path, word: str
) -> None:
    typo = run_parity("run", word, cwd=workspace_dir)
    assert typo.returncode == 3
    assert typo.stderr.strip() == (
        f"error: command not found: {word} "
        f"(did you mean 'parity runs {word}'? nothing was recorded)"
    )
    assert json.loads(run_parity("runs", "list", "--json", cwd=workspace_dir).stdout) == []


@pytest.mark.slow
def test_parity_run_of_a_runs_word_that_is_a_program_runs_it_with_a_note(
    workspace_dir: Path,
) -> None:
    # 'ls' exists: parity run wraps any command, so it runs and is recorded, but a note says
    # how to list runs, since that is what 'parity run ls' most often means.
    listed = run_parity("run", "ls", cwd=workspace_dir)
    assert listed.returncode == 0, listed.stderr
    assert "hint: 'ls' runs as a program; for Parity's runs, use 'parity runs ls'" in listed.stderr
    [recorded] = json.loads(run_parity("runs", "list", "--json", cwd=workspace_dir).stdout)
    assert recorded["command"] == ["ls"]
    # any other missing program is refused the same way, with a plain hint
    missing = run_parity("run", "--", "no-such-program-here", cwd=workspace_dir)
    assert missing.returncode == 3
    assert "check its spelling or give its path; no run was recorded" in missing.stderr
