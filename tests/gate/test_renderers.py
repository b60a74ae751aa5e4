"""The verdict's renderers: JUnit valid against its schema, Markdown parsed and within 60 KB,
annotations capped and ranked, GitLab code quality fields, and the same bytes every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmlschema

from parity.api import gate
from parity.gate.annotations import PER_LEVEL
from parity.gate.markdown import LIMIT_BYTES
from parity.gate.verdict import CheckResult, Finding, GateVerdict, Severity, Status
from tests.gate.reports import (
    assert_codequality,
    assert_valid_junit,
    junit_schema,
    markdown_tokens,
)

SEVERITIES = list(Severity)


def _verdict(checks: int = 100, findings: int = 30) -> GateVerdict:
    results = []
    for index in range(checks):
        status = [Status.PASSED, Status.FAILED, Status.ERROR][index % 3]
        found = tuple(
            Finding(
                f"finding {n} of check {index}: <tag> & | pipe `tick` " + "x" * 40,
                SEVERITIES[(index + n) % len(SEVERITIES)],
                "data/train.csv" if n % 2 else None,
                n + 1,
            )
            for n in range(findings if status is Status.FAILED else 0)
        )
        results.append(
            CheckResult(f"check {index:03d}", "metric", status, f"summary of {index}", found)
        )
    return GateVerdict.of("release", results)


def test_junit_validates_against_the_schema_and_counts_outcomes() -> None:
    verdict = _verdict()
    text = gate.render_junit(verdict)
    assert_valid_junit(text)
    assert text == gate.render_junit(_verdict())  # deterministic: no times, no host
    assert 'tests="100" failures="33" errors="33"' in text
    assert text.count("<failure ") == 33
    assert text.count("<error ") == 33
    # The validator is real: a suite without its required counts is refused.
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        junit_schema().validate('<testsuites><testsuite name="x"/></testsuites>')


def test_markdown_parses_stays_under_60_kb_for_100_gates_and_fetches_nothing() -> None:
    verdict = _verdict()
    text = gate.render_markdown(verdict)
    assert len(text.encode()) <= LIMIT_BYTES
    tokens = markdown_tokens(text)
    assert [t.type for t in tokens].count("table_open") == 1
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 101  # the header and one row per check
    inline = [child for t in tokens if t.children for child in t.children]
    assert not [c for c in inline if c.type == "image"]
    assert "<tag>" not in text  # text from checks is escaped
    assert "more in the JSON verdict" in text  # the findings that did not fit are counted
    small = gate.render_markdown(_verdict(checks=3, findings=2))
    assert "more in the JSON verdict" not in small
    assert small.startswith("## ❌ Gate release: failed\n")


def test_annotations_keep_ten_per_level_most_important_first() -> None:
    lines = gate.render_annotations(_verdict(), "parity.toml").splitlines()
    levels = [line.split(" ", 1)[0] for line in lines]
    for level in ("::error", "::warning", "::notice"):
        assert levels.count(level) == PER_LEVEL
    errors = [line for line in lines if line.startswith("::error")]
    # Critical findings of the failed checks first, in the policy's order: check 001's are its
    # findings 4, 9, …, 29 (severity cycles with the finding's number), then check 004's.
    numbers = [int(line.split("::finding ")[1].split()[0]) for line in errors[:6]]
    assert all("of check 1:" in line for line in errors[:6])
    assert sorted(numbers) == [4, 9, 14, 19, 24, 29]
    assert "of check 4:" in errors[6]
    assert lines[0].startswith("::error file=")
    assert ",line=" in lines[0]
    assert "title=check 001 (metric)" in lines[0]


def test_gitlab_code_quality_has_its_documented_fields() -> None:
    issues = assert_codequality(gate.render_codequality(_verdict(checks=6, findings=3)))
    assert len(issues) == 2 * 3 + 2  # the failed checks' findings, one per unevaluated check
    assert {i["location"]["path"] for i in issues} == {"data/train.csv", "parity.toml"}
    passed = GateVerdict.of("ok", [CheckResult("a", "metric", Status.PASSED, "fine")])
    assert json.loads(gate.render_codequality(passed)) == []


def test_the_verdict_json_is_ordered_and_has_its_exit_code() -> None:
    verdict = _verdict(checks=3)
    document = verdict.to_dict()
    assert document["status"] == "failed"
    assert document["exit_code"] == 1
    assert [c["name"] for c in document["checks"]] == ["check 000", "check 001", "check 002"]
    severities = [f["severity"] for f in document["checks"][1]["findings"]]
    assert severities == sorted(severities, key=lambda s: Severity(s).rank)
    errored = GateVerdict.of("x", [CheckResult("a", "drift", Status.ERROR, "no rows")])
    assert (errored.status, errored.exit_code) == (Status.ERROR, 2)
    assert GateVerdict.of("x", []).exit_code == 0


def test_write_reports_appends_the_summary_for_github(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    verdict = _verdict(checks=3, findings=1)
    written = gate.write_reports(
        verdict,
        junit=tmp_path / "r" / "gate.xml",
        markdown=tmp_path / "r" / "gate.md",
        codequality=tmp_path / "r" / "quality.json",
        environ={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert [p.name for p in written] == ["gate.xml", "gate.md", "summary.md", "quality.json"]
    assert summary.read_text() == "earlier step\n" + gate.render_markdown(verdict)
    assert_valid_junit((tmp_path / "r" / "gate.xml").read_text())


def test_values_from_data_and_policies_cannot_shape_the_reports() -> None:
    """A value in a table, a policy name or a stderr line: no link, no image, valid XML."""
    hostile = "![x](https://attacker.example/p.png) [approve](https://attacker.example/phish)"
    verdict = GateVerdict.of(
        "release\x01",
        [
            CheckResult(
                "data\x0b",
                "data-validate",
                Status.FAILED,
                hostile,
                (Finding(hostile, Severity.HIGH),),
            )
        ],
    )
    assert_valid_junit(gate.render_junit(verdict))
    markdown = gate.render_markdown(verdict)
    kinds = {token.type for token in markdown_tokens(markdown)}
    children = {
        child.type for token in markdown_tokens(markdown) for child in (token.children or [])
    }
    assert not {"link_open", "image"} & (kinds | children), markdown
