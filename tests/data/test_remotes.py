"""``parity remote add | list | remove`` and remote errors, through real subprocesses."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from tests.conftest import run_parity


def _config(root: Path) -> dict:  # type: ignore[type-arg]
    return tomllib.loads((root / ".parity" / "config.toml").read_text())


def test_add_list_remove(workspace_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    added = run_parity("remote", "add", "team", f"file://{folder}", cwd=workspace_dir)
    assert added.returncode == 0, added.stderr
    assert "Added remote team" in added.stdout
    s3 = run_parity(
        "remote",
        "add",
        "cloud",
        "s3://bucket/prefix",
        "--endpoint-url",
        "http://127.0.0.1:9000",
        "--default",
        cwd=workspace_dir,
    )
    assert s3.returncode == 0, s3.stderr

    config = _config(workspace_dir)
    assert config["remote"]["team"] == {"url": f"file://{folder}"}
    assert config["remote"]["cloud"] == {
        "url": "s3://bucket/prefix",
        "endpoint_url": "http://127.0.0.1:9000",
    }
    assert config["core"]["default_remote"] == "cloud"

    listed = run_parity("remote", "list", "--json", cwd=workspace_dir)
    assert listed.returncode == 0, listed.stderr
    remotes = {r["name"]: r for r in json.loads(listed.stdout)}
    assert remotes["cloud"]["default"] is True
    assert remotes["team"]["default"] is False
    assert remotes["cloud"]["endpoint_url"] == "http://127.0.0.1:9000"
    table = run_parity("remote", "list", cwd=workspace_dir)
    assert "cloud" in table.stdout
    assert "team" in table.stdout

    removed = run_parity("remote", "remove", "cloud", cwd=workspace_dir)
    assert removed.returncode == 0, removed.stderr
    config = _config(workspace_dir)
    assert list(config["remote"]) == ["team"]
    assert "default_remote" not in config["core"]


def test_a_folder_path_is_a_remote(workspace_dir: Path) -> None:
    result = run_parity("remote", "add", "here", "../backup", cwd=workspace_dir)
    assert result.returncode == 0, result.stderr
    assert _config(workspace_dir)["remote"]["here"]["url"] == "../backup"
    # the first remote becomes the default
    assert _config(workspace_dir)["core"]["default_remote"] == "here"
    # typed in a subfolder, kept relative to the workspace root
    (workspace_dir / "src").mkdir()
    nested = run_parity("remote", "add", "near", "../../backup", cwd=workspace_dir / "src")
    assert nested.returncode == 0, nested.stderr
    assert _config(workspace_dir)["remote"]["near"]["url"] == "../backup"


def test_a_parity_server_is_a_remote(workspace_dir: Path) -> None:
    result = run_parity("remote", "add", "srv", "https://parity.example.com/", cwd=workspace_dir)
    assert result.returncode == 0, result.stderr
    assert _config(workspace_dir)["remote"]["srv"] == {"url": "https://parity.example.com"}
    nameless = run_parity("remote", "add", "bad", "https:///path", cwd=workspace_dir)
    assert nameless.returncode == 2
    assert nameless.stderr.strip() == (
        "error: 'https:///path' names no server (write https://HOST[:PORT])"
    )
    endpoint = run_parity(
        "remote", "add", "x", "https://h", "--endpoint-url", "http://h", cwd=workspace_dir
    )
    assert endpoint.returncode == 2
    assert "s3:// remotes only" in endpoint.stderr


def test_bad_names_urls_and_duplicates(workspace_dir: Path) -> None:
    assert run_parity("remote", "add", "a b", "/x", cwd=workspace_dir).returncode == 2
    assert run_parity("remote", "add", "x", "ftp://host/x", cwd=workspace_dir).returncode == 2
    assert run_parity("remote", "add", "x", "s3://", cwd=workspace_dir).returncode == 2
    endpoint_on_folder = run_parity(
        "remote", "add", "x", "/x", "--endpoint-url", "http://h", cwd=workspace_dir
    )
    assert endpoint_on_folder.returncode == 2
    assert run_parity("remote", "add", "x", "/x", cwd=workspace_dir).returncode == 0
    again = run_parity("remote", "add", "x", "/y", cwd=workspace_dir)
    assert again.returncode == 4
    assert "remote 'x' already exists" in again.stderr
    assert "parity remote remove x" in again.stderr
    missing = run_parity("remote", "remove", "nope", cwd=workspace_dir)
    assert missing.returncode == 3
    assert missing.stderr.strip() == "error: no remote named 'nope' (see 'parity remote list')"


def test_shell_overrides_are_not_written_to_the_config(workspace_dir: Path, tmp_path: Path) -> None:
    env = {"PARITY_OBJECTS_URL": str(tmp_path / "elsewhere")}
    result = run_parity("remote", "add", "x", "/x", cwd=workspace_dir, env=env)
    assert result.returncode == 0, result.stderr
    assert "objects_url" not in _config(workspace_dir)["core"]


def test_no_remotes_listed(workspace_dir: Path) -> None:
    result = run_parity("remote", "list", cwd=workspace_dir)
    assert result.returncode == 0
    assert "No remotes" in result.stdout
    assert json.loads(run_parity("remote", "list", "--json", cwd=workspace_dir).stdout) == []


def test_credentials_in_a_url_are_never_printed(workspace_dir: Path) -> None:
    added = run_parity(
        "remote", "add", "cloud", "s3://AKIAEXAMPLE:s3cr3t@bucket/prefix", cwd=workspace_dir
    )
    assert added.returncode == 0, added.stderr
    assert "Added remote cloud at s3://AKIAEXAMPLE:***@bucket/prefix" in added.stdout
    assert "AKIAEXAMPLE:s3cr3t" in (workspace_dir / ".parity" / "config.toml").read_text()
    table = run_parity("remote", "list", cwd=workspace_dir)
    listed = json.loads(run_parity("remote", "list", "--json", cwd=workspace_dir).stdout)
    assert listed[0]["url"] == "s3://AKIAEXAMPLE:***@bucket/prefix"
    again = run_parity("remote", "add", "cloud", "s3://other/x", cwd=workspace_dir)
    token = run_parity("remote", "add", "web", "https://ghp_T0KEN@example.com/x", cwd=workspace_dir)
    assert token.returncode == 2
    assert "https://***@example.com/x" in token.stderr
    for shown in (added.stdout, table.stdout, json.dumps(listed), again.stderr, token.stderr):
        assert "s3cr3t" not in shown
        assert "ghp_T0KEN" not in shown
