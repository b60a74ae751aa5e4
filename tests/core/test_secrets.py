"""Secret-looking values in infrastructure files are replaced before storing, named, never shown."""

from __future__ import annotations

import pytest

from parity.core.secrets import REDACTED, screen

TERRAFORM = """\
variable "db_password" {
  type    = string
  default = "s3cr3t-default"
}

resource "aws_db_instance" "main" {
  username          = "app"
  password          = "hunter2"
  password_length   = 16
  master_password   = var.db_password
  iam_token         = ""
}
"""


def test_a_terraform_password_is_replaced_and_named_by_line() -> None:
    screened = screen("infra/main.tf", TERRAFORM)
    assert "hunter2" not in screened.text
    assert "s3cr3t-default" not in screened.text
    assert 'password          = "' + REDACTED + '"' in screened.text
    assert [(f.line, f.name) for f in screened.findings] == [(3, "db_password"), (8, "password")]
    # Names and references are not secrets: they stay as they were.
    assert "password_length   = 16" in screened.text
    assert "master_password   = var.db_password" in screened.text
    assert 'username          = "app"' in screened.text


@pytest.mark.parametrize(
    ("path", "text", "secret", "name"),
    [
        (
            "deploy/app.yaml",
            "env:\n- name: DB_PASSWORD\n  value: hunter2\n",
            "hunter2",
            "DB_PASSWORD",
        ),
        ("Dockerfile", "ENV API_TOKEN=abc123def OTHER=1\n", "abc123def", "API_TOKEN"),
        ("config.json", '{"apiKey": "k-123456", "secretName": "tls"}', "k-123456", "apiKey"),
        (
            ".env",
            "DATABASE_URL=postgres://app:pa55word@db:5432/app\n",
            "pa55word",
            "a password in a URL",
        ),
        ("ci.yaml", "run: echo ghp_" + "a" * 36 + "\n", "ghp_" + "a" * 36, "a GitHub token"),
        (
            "aws.tf",
            'provider "aws" { access_key = "AKIAABCDEFGHIJKLMNOP" }\n',
            "AKIAABCDEFGHIJKLMNOP",
            "access_key",
        ),
        (
            "deploy/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  anything: aGVsbG8=\n",
            "aGVsbG8=",
            "anything",
        ),
    ],
)
def test_secret_looking_values_are_replaced(path: str, text: str, secret: str, name: str) -> None:
    screened = screen(path, text)
    assert secret not in screened.text
    assert REDACTED in screened.text
    assert name in [f.name for f in screened.findings]
    assert all(secret not in f.name for f in screened.findings)


def test_what_only_points_at_a_secret_is_kept() -> None:
    text = (
        "env:\n- name: API_TOKEN\n  valueFrom:\n    secretKeyRef: {name: api, key: token}\n"
        "secretName: tls-cert\npassword: ${DB_PASSWORD}\ntoken: '{{ .Values.token }}'\n"
        "password_file: /run/secrets/db\n"
    )
    screened = screen("deploy/app.yaml", text)
    assert screened.text == text
    assert screened.findings == ()


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("infra/terraform.tfstate", "{}"),
        ("keys/deploy.pem", "x"),
        (
            "notes.txt",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
        ),
    ],
)
def test_files_that_are_secrets_as_a_whole_are_refused(path: str, text: str) -> None:
    screened = screen(path, text)
    assert screened.refused
    assert screened.text == ""
