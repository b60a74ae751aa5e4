"""The verdict as GitHub Actions workflow commands: annotations on the run and its files.

GitHub shows at most 10 annotations of each level (error, warning, notice) per step, so each
level gets its 10 most important: failed checks before unevaluated ones, then by severity. A
finding at high or critical severity is an error, medium a warning, low and info a notice; a
check that could not be evaluated is a warning. Messages and properties are escaped as the
workflow command syntax requires.
"""

from __future__ import annotations

from parity.gate.verdict import GateVerdict, Severity, Status

PER_LEVEL = 10
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def _message(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _message(text).replace(":", "%3A").replace(",", "%2C")


def render_annotations(verdict: GateVerdict, default_path: str | None = None) -> str:
    """One ``::error …::message`` line per annotation, at most ``PER_LEVEL`` per level."""
    found: list[tuple[int, int, int, str, str]] = []  # (status, severity, order, level, line)
    for order, check in enumerate(verdict.checks):
        if check.status is Status.PASSED:
            continue
        status_rank = 0 if check.status is Status.FAILED else 1
        items = [(f.severity, f.message, f.path, f.line) for f in check.findings]
        if not items:
            items = [(Severity.HIGH, check.summary, None, 1)]
        for severity, message, path, line in items:
            level = _LEVEL[severity] if check.status is Status.FAILED else "warning"
            where = path or default_path
            properties = [f"title={_property(f'{check.name} ({check.kind})')}"]
            if where:
                properties[:0] = [f"file={_property(where)}", f"line={line}"]
            text = f"::{level} {','.join(properties)}::{_message(message)}"
            found.append((status_rank, severity.rank, order, level, text))
    found.sort(key=lambda item: item[:3])
    shown: dict[str, int] = {}
    lines = []
    for *_, level, text in found:
        if shown.get(level, 0) < PER_LEVEL:
            shown[level] = shown.get(level, 0) + 1
            lines.append(text)
    return "".join(f"{line}\n" for line in lines)
