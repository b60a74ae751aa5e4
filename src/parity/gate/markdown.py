"""The verdict as Markdown, for a GitHub step summary or a merge-request note.

A headline, one table row per check, then the findings of each check that did not pass in a
folded section, highest severity first. Never more than ``LIMIT_BYTES`` (60 KB; GitHub takes 1
MiB per step summary, shared by every step): when the findings do not fit, each check shows
fewer of them and says how many more the JSON verdict holds. Text from checks is escaped, and
there are no images or links to fetch.
"""

from __future__ import annotations

import re

from parity.gate.verdict import CheckResult, GateVerdict, Status

LIMIT_BYTES = 60_000
_MARK = {Status.PASSED: "✅", Status.FAILED: "❌", Status.ERROR: "⚠️"}
_WORD = {Status.PASSED: "passed", Status.FAILED: "failed", Status.ERROR: "could not be evaluated"}
# How many findings each check shows, tried in turn until the summary fits.
_FINDINGS_SHOWN = (None, 50, 10, 3, 0)
_CELL_CHARS = 300


_LINKISH = re.compile(r"[\\\[\]()!]")


def _cell(text: str) -> str:
    if len(text) > _CELL_CHARS:
        text = text[: _CELL_CHARS - 1] + "…"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Values come from data, names and stderr: a backslash before each of Markdown's link and
    # image characters keeps "![x](https://…)" text, so the summary fetches and links nothing.
    escaped = _LINKISH.sub(r"\\\g<0>", escaped)
    return escaped.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _details(check: CheckResult, shown: int | None) -> list[str]:
    findings = check.findings if shown is None else check.findings[:shown]
    lines = [
        "<details>",
        f"<summary>{_MARK[check.status]} {_cell(check.name)}: {_cell(check.summary)}</summary>",
        "",
    ]
    lines += [f"- **{f.severity}** {_cell(f.message)}" for f in findings]
    hidden = len(check.findings) - len(findings)
    if hidden:
        lines.append(f"- … and {hidden} more in the JSON verdict (parity gate --json)")
    lines += ["", "</details>", ""]
    return lines


def _render(verdict: GateVerdict, shown: int | None, rows: int | None) -> str:
    counts = verdict.counts()
    lines = [
        f"## {_MARK[verdict.status]} Gate {_cell(verdict.name)}: {_WORD[verdict.status]}",
        "",
        f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['error']} could not be evaluated.",
        "",
        "| | check | kind | result |",
        "|---|---|---|---|",
    ]
    checks = verdict.checks if rows is None else verdict.checks[:rows]
    lines += [
        f"| {_MARK[c.status]} | {_cell(c.name)} | {_cell(c.kind)} | {_cell(c.summary)} |"
        for c in checks
    ]
    if len(checks) < len(verdict.checks):
        lines.append(f"| | … {len(verdict.checks) - len(checks)} more checks | | |")
    lines.append("")
    for check in checks:
        if check.status is not Status.PASSED:
            lines += _details(check, shown)
    return "\n".join(lines) + "\n"


def render_markdown(verdict: GateVerdict) -> str:
    """The summary of ``verdict``, at most ``LIMIT_BYTES`` of UTF-8."""
    for shown in _FINDINGS_SHOWN:
        text = _render(verdict, shown, None)
        if len(text.encode()) <= LIMIT_BYTES:
            return text
    rows = len(verdict.checks)
    while rows > 0:
        rows //= 2
        text = _render(verdict, 0, rows)
        if len(text.encode()) <= LIMIT_BYTES:
            return text
    return _render(verdict, 0, 0)
