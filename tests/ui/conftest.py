"""A served scenario workspace (tests/ui/scenario.py) with users of each role, and Chromium.

The browser is Debian's ``chromium`` package (installed by .ci/run), driven headless by
Playwright: no browser download, nothing but loopback."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from parity.accounts.secrets import hash_password
from parity.core.roles import Role
from parity.server.app import create_app
from parity.server.context import ServerContext, build_context
from parity.server.settings import ServerSettings
from tests.serve.live import live_server
from tests.ui.scenario import Scenario, build

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class ServedUI:
    url: str
    scenario: Scenario
    tokens: dict[str, str]  # "reader", "writer", "admin" -> a token of user ada (admin) or bob
    context: ServerContext


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build(tmp_path_factory.mktemp("ui") / "workspace")


def write_advisories(folder: Path) -> Path:
    """OSV advisories naming the installed scikit-learn at its version (severity high), so
    the scenario's first environment has a finding and its second (scikit-learn one minor
    version on) has none; and one for a package nobody installs."""
    folder.mkdir(parents=True, exist_ok=True)
    installed = importlib.metadata.version("scikit-learn")
    for identifier, package, versions in (
        ("GHSA-2099-test-0001", "scikit-learn", [installed]),
        ("PYSEC-2099-0002", "not-installed-anywhere", ["1.0"]),
    ):
        document = {
            "schema_version": "1.6.0", "id": identifier, "aliases": ["CVE-2099-0001"],
            "summary": f"a test advisory for {package}",
            "database_specific": {"severity": "HIGH"},
            "affected": [{"package": {"ecosystem": "PyPI", "name": package}, "versions": versions}],
        }  # fmt: skip
        (folder / f"{identifier}.json").write_text(json.dumps(document))
    return folder


@pytest.fixture(scope="session")
def served(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedUI]:
    """The scenario behind a server with users: ada (admin, with a password) and bob; its
    environment pages audit against ``write_advisories``."""
    advisories = write_advisories(tmp_path_factory.mktemp("osv"))
    settings = ServerSettings(workspace=str(scenario.folder), advisories=str(advisories))
    context = build_context(settings)
    accounts = context.accounts
    accounts.create_user("ada", admin=True, password_hash=hash_password(PASSWORD))
    accounts.create_user("bob", admin=False)
    tokens = {
        "admin": accounts.create_token("ada", Role.ADMIN)[0],
        "writer": accounts.create_token("bob", Role.WRITER)[0],
        "reader": accounts.create_token("bob", Role.READER)[0],
    }
    try:
        with live_server(create_app(context)) as address:
            yield ServedUI(f"http://{address}", scenario, tokens, context)
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright's launch options: the system's Chromium, headless."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("the browser tests need Debian's chromium: apt-get install -y chromium")
    return {"executable_path": executable, "headless": True}


@pytest.fixture(scope="session")
def base_url() -> None:
    """No base URL: every test names its server's (this replaces pytest-base-url's fixture,
    which pytest deprecates as written)."""
