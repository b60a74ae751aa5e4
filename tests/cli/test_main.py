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
