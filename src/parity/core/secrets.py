"""Secret-looking values in infrastructure files: found, and replaced before anything is stored.

Infrastructure files (Terraform, Kubernetes manifests, Dockerfiles, compose files, .env files)
too often hold a password or a token written in as a literal. A run stores such files with its
lineage, so before a byte reaches the object store every value that looks like a secret is
replaced by ``REDACTED``, and the file is refused outright when it is a secret as a whole (a
private key, Terraform state). The rules look at one line at a time and never at what a value
is worth: a value that is a reference (``var.db_password``, ``${TOKEN}``, ``{{ .Values.x }}``)
is left alone, everything else assigned to a secret-looking name is replaced. Pure: text in,
text and findings out. A finding names where and what, never the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

REDACTED = "REDACTED-BY-PARITY"

# A name is secret-looking when one of its words is one of these (db_password, AWS_SECRET_KEY,
# apiKey, "client-secret", github_token) …
_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|"
    r"private[-_]?key|credentials?|auth[-_]?key|signing[-_]?key|encryption[-_]?key|"
    r"connection[-_]?string|dsn"
)
# … unless its last word says it only names or points at one (secret_name, token_url,
# password_file, secretRef, key_id): those are not secrets themselves.
_POINTER_WORDS = re.compile(
    r"(?:^|[-_.])(?:name|names|ref|file|path|url|uri|arn|id|ids|length|ttl|type|policy|"
    r"version|rotation|enabled|required|count|key_?ref)$|(?:Name|Ref|File|Path|Url|Uri|Arn|Id)$"
)
_ASSIGNMENT = re.compile(
    r"""(?P<key>["']?(?P<name>[A-Za-z0-9_.\-]*(?:""" + _WORDS + r""")[A-Za-z0-9_.\-]*)["']?)"""
    r"""(?P<sep>\s*(?::|=|:=)\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"',#}\]]+)""",
    re.IGNORECASE,
)
# Values that name where a secret comes from instead of holding one.
_REFERENCE = re.compile(
    r"""^["']?(?:\$\{|\$\(|\$[A-Za-z_]|\{\{|<|%\(|(?:var|local|data|module|each|"""
    r"""aws_[a-z_]+|azurerm_[a-z_]+|google_[a-z_]+|random_[a-z_]+)\.|!|ref\+|secretRef|"""
    r"""valueFrom|\[|\{)""",
    re.IGNORECASE,
)
_NOT_SECRETS = {"", "true", "false", "null", "none", "~", "yes", "no", "required", "optional"}
# Tokens whose shape gives them away wherever they stand.
_TOKENS = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a GitHub token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[\w-]{8,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
)
# user:password@ in a URL (a database or broker URL in a .env file or a manifest).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@\"']+:)(?P<pw>[^\s@/\"']+)@")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_SECRET_KIND = re.compile(r"^kind:\s*[\"']?Secret[\"']?\s*$", re.MULTILINE)
_DATA_BLOCK = re.compile(r"^(?P<indent>\s*)(?:data|stringData):\s*$")
# A value given on the line after the name it belongs to: ``- name: DB_PASSWORD`` then
# ``value: …`` (a container's env), or ``variable "db_password" {`` then ``default = …`` (HCL).
_NAMED = re.compile(r"""^\s*(?:-\s*)?name:\s*["']?(?P<name>[A-Za-z0-9_.\-]+)["']?\s*$""")
_NAMED_VALUE = re.compile(r"""^(?P<head>\s*(?:value|default)\s*[:=]\s*)(?P<value>\S.*?)\s*$""")
_HCL_VARIABLE = re.compile(r"""^\s*variable\s+"(?P<name>[^"]+)"\s*\{""")
_YAML_ENTRY = re.compile(r"^(?P<indent>\s+)(?P<key>[^\s:#][^:#]*):(?P<sep>\s+)(?P<value>\S.*)$")
# Whole files that are secrets, by name: their content is not looked at.
_SECRET_FILES = (
    (re.compile(r"\.tfstate(?:\.backup)?$"), "Terraform state holds every secret in plain text"),
    (re.compile(r"(?:^|/)id_(?:rsa|dsa|ecdsa|ed25519)$"), "an SSH private key"),
    (re.compile(r"\.(?:pem|key|p12|pfx|jks|keystore)$"), "a key or certificate store"),
)


@dataclass(frozen=True)
class SecretFinding:
    """One replaced value: its line (1-based) and what it was (the name it was assigned to,
    or the kind of token). Never the value."""

    line: int
    name: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "name": self.name}


@dataclass(frozen=True)
class Screened:
    """A file's text with every secret-looking value replaced, what was replaced, or why the
    whole file is refused (then ``text`` is empty and nothing of it may be stored)."""

    text: str
    findings: tuple[SecretFinding, ...] = ()
    refused: str | None = None


def _is_pointer(name: str) -> bool:
    return _POINTER_WORDS.search(name) is not None


def _is_literal(value: str) -> bool:
    bare = value.strip("\"'").strip()
    if bare.lower() in _NOT_SECRETS or bare == REDACTED:
        return False
    return not _REFERENCE.match(value)


def _is_secret_name(name: str) -> bool:
    return re.search(_WORDS, name, re.IGNORECASE) is not None and not _is_pointer(name)


def _replaced(value: str) -> str:
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{quote}{REDACTED}{quote}"


def _screen_line(line: str, number: int, findings: list[SecretFinding]) -> str:
    def assignment(match: re.Match[str]) -> str:
        name, value = match["name"], match["value"]
        if _is_pointer(name) or not _is_literal(value):
            return match[0]
        findings.append(SecretFinding(number, name))
        return f"{match['key']}{match['sep']}{_replaced(value)}"

    line = _ASSIGNMENT.sub(assignment, line)
    for what, pattern in _TOKENS:
        if pattern.search(line):
            findings.append(SecretFinding(number, what))
            line = pattern.sub(REDACTED, line)
    if _URL_PASSWORD.search(line):
        findings.append(SecretFinding(number, "a password in a URL"))
        line = _URL_PASSWORD.sub(lambda m: f"{m['head']}{REDACTED}@", line)
    return line


def _screen_secret_manifest(lines: list[str], findings: list[SecretFinding]) -> list[str]:
    """Every value under ``data:`` and ``stringData:`` of a Kubernetes Secret, whatever its key."""
    out: list[str] = []
    block: int | None = None  # the indent of the data: line while inside its block
    for number, line in enumerate(lines, start=1):
        if block is not None:
            entry = _YAML_ENTRY.match(line)
            if entry and len(entry["indent"]) > block:
                value = entry["value"].strip()
                if value not in ("|", ">", "|-", ">-") and _is_literal(value):
                    findings.append(SecretFinding(number, entry["key"].strip().strip("\"'")))
                    line = f"{entry['indent']}{entry['key']}:{entry['sep']}{_replaced(value)}"
                out.append(line)
                continue
            if line.strip() and (len(line) - len(line.lstrip())) <= block:
                block = None
            elif line.strip():  # a multi-line value inside the block: never kept
                findings.append(SecretFinding(number, "a multi-line Secret value"))
                out.append(line[: len(line) - len(line.lstrip())] + REDACTED)
                continue
        opened = _DATA_BLOCK.match(line)
        if opened:
            block = len(opened["indent"])
        out.append(line)
    return out


def screen(path: str, text: str) -> Screened:
    """``text`` (the file at ``path``, a relative POSIX path) ready to store, or refused."""
    for pattern, reason in _SECRET_FILES:
        if pattern.search(PurePosixPath(path).as_posix()):
            return Screened("", refused=reason)
    if _PRIVATE_KEY.search(text):
        return Screened("", refused="it holds a private key")
    findings: list[SecretFinding] = []
    lines = text.split("\n")
    if _SECRET_KIND.search(text):
        lines = _screen_secret_manifest(lines, findings)
    screened = []
    named: str | None = None  # a secret-looking name whose value may follow on a later line
    for number, line in enumerate(lines, start=1):
        value = _NAMED_VALUE.match(line)
        if named is not None and value is not None and _is_literal(value["value"]):
            findings.append(SecretFinding(number, named))
            line = value["head"] + _replaced(value["value"])
        opened = _NAMED.match(line) or _HCL_VARIABLE.match(line)
        if opened is not None:
            named = opened["name"] if _is_secret_name(opened["name"]) else None
        elif line.startswith("}") or (value is not None and named is not None):
            named = None
        screened.append(_screen_line(line, number, findings))
    ordered = tuple(sorted(set(findings), key=lambda f: (f.line, f.name)))
    return Screened("\n".join(screened), ordered)
