"""The command table: every command loads lazily and ``parity --help`` describes it truly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from parity.cli.main import COMMANDS, cli, load_command, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_listed_command_loads_under_its_name_with_the_help_the_table_shows(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.get_short_help_str(limit=200) == COMMANDS[name][2]


def test_an_unknown_command_is_a_usage_error_not_an_import() -> None:
    with pytest.raises(click.UsageError, match="No such command"):
        cli.main(["no-such-command"], standalone_mode=False, prog_name="parity")


def test_top_level_help_imports_no_command_module(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from parity.cli.main import main\n"
        "main(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('parity.cli.') and "
        "m not in ('parity.cli.main',)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_file_system_error_no_command_foresaw_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # A command whose OSError nothing translates (tests/cli/_raw_os_error.py): the one handler
    # still prints one line with the path, never a traceback.
    monkeypatch.setitem(COMMANDS, "raw", ("tests.cli._raw_os_error", "raw", "Open a path."))
    missing = tmp_path / "gone" / "file.bin"
    assert main(["raw", str(missing)]) == 3
    assert capfd.readouterr().err.strip() == f"error: {missing} does not exist (check the path)"
    (tmp_path / "folder").mkdir()
    assert main(["raw", str(tmp_path / "folder")]) == 2
    assert "it is a folder (give a file)" in capfd.readouterr().err


@pytest.mark.slow
def test_a_usage_error_is_one_line_in_parity_s_words(tmp_path: Path) -> None:
    from tests.conftest import run_parity

    typo = run_parity("runs", "list", "--jsn", cwd=tmp_path)
    assert typo.returncode == 2
    assert typo.stderr == (
        "error: no such option '--jsn'; did you mean '--json'? (see 'parity runs list --help')\n"
    )
    unknown = run_parity("rns", cwd=tmp_path)
    assert unknown.stderr == "error: no such command 'rns' (see 'parity --help')\n"
    # a group named alone still shows its commands
    alone = run_parity("runs", cwd=tmp_path)
    assert "Commands:" in alone.stderr + alone.stdout


@pytest.mark.slow
def test_with_json_an_error_is_json_on_stderr(workspace_dir: Path) -> None:
    import json

    from tests.conftest import run_parity

    missing = run_parity("runs", "show", "abcd1234", "--json", cwd=workspace_dir)
    assert missing.returncode == 3
    assert missing.stdout == ""
    assert json.loads(missing.stderr) == {
        "error": "no run has an id starting with abcd1234",
        "code": 3,
        "hint": "list runs: parity runs list",
    }
    usage = run_parity("runs", "list", "--json", "--limit", "many", cwd=workspace_dir)
    assert usage.returncode == 2
    error = json.loads(usage.stderr)
    assert error["code"] == 2
    assert error["hint"] == "see 'parity runs list --help'"
    # --json after '--' belongs to the command that parity run wraps, not to Parity
    wrapped = run_parity("run", "--", "no-such-program", "--json", cwd=workspace_dir)
    assert wrapped.stderr.startswith("error: command not found: no-such-program")


@pytest.mark.parametrize(
    "args",
    [
        ("object", "put", "nope.bin"),
        ("data", "add", "nope.bin"),
        ("data", "validate", "nope.bin", "--schema", "nope.yaml"),
        ("run", "--input", "nope.bin", "--", "true"),
    ],
)
def test_a_missing_path_is_not_found_exit_3(workspace_dir: Path, args: tuple[str, ...]) -> None:
    from tests.conftest import run_parity

    done = run_parity(*args, cwd=workspace_dir)
    assert done.returncode == 3, done.stderr
    assert "nope." in done.stderr
    assert done.stderr.startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_each_meaning_has_one_word_and_old_spellings_are_hidden_aliases(
    workspace_dir: Path,
) -> None:
    from tests.conftest import run_parity

    words = {
        "object": ("fsck", ["verify"]),
        "remote": ("delete", ["remove", "rm"]),
        "runs": ("undelete", ["restore"]),
        "data": ("history", ["log"]),
    }
    for group, (word, aliases) in words.items():
        helped = run_parity(group, "--help", cwd=workspace_dir).stdout
        listed = [line.split()[0] for line in helped.split("Commands:")[1].splitlines() if line]
        assert word in listed
        for alias in aliases:
            assert alias not in listed
            assert run_parity(group, alias, "--help", cwd=workspace_dir).returncode == 0
    assert run_parity("remote", "add", "nas", "/mnt/nas", cwd=workspace_dir).returncode == 0
    removed = run_parity("remote", "rm", "nas", cwd=workspace_dir)
    assert removed.stdout == "Deleted remote nas\n"
