"""Checks of the rendered reports that the gate tests and the command tests share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import xmlschema
from markdown_it import MarkdownIt

JUNIT_XSD = Path(__file__).with_name("junit.xsd")
CODEQUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def assert_valid_junit(text: str) -> None:
    junit_schema().validate(text)


def markdown_tokens(text: str) -> list[Any]:
    """The tokens markdown-it-py parses ``text`` into (GitHub's flavour: tables on)."""
    return MarkdownIt("commonmark").enable("table").parse(text)


def assert_codequality(text: str) -> list[dict[str, Any]]:
    """GitLab's documented fields, with the types it reads; returns the issues."""
    issues = json.loads(text)
    assert isinstance(issues, list)
    for issue in issues:
        assert isinstance(issue["description"], str)
        assert issue["description"]
        assert isinstance(issue["check_name"], str)
        assert isinstance(issue["fingerprint"], str)
        assert issue["severity"] in CODEQUALITY_SEVERITIES
        assert isinstance(issue["location"]["path"], str)
        assert isinstance(issue["location"]["lines"]["begin"], int)
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    return issues
