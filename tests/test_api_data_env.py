"""The data, remote and environment doors of ``parity.api``: their names, their signatures, and
calls that name no workspace (the current folder's is opened, or none is needed)."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType

import pytest

import parity.env
from parity.api import data, environments, remotes
from parity.core.errors import NotFoundError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Each public function's parameters, in order: the surface the CLI, the server and scripts share.
SURFACE: dict[ModuleType, dict[str, list[str]]] = {
    data: {
        "add": ["path", "progress", "follow_symlinks", "workspace"],
        "status": ["paths", "workspace"],
        "checkout": ["paths", "rev", "force", "progress", "workspace"],
        "history": ["path", "workspace"],
        "gc": ["delete", "workspace"],
        "fsck": ["workspace"],
        "validate": ["path", "schema", "workspace"],
        "validations": ["data_version", "workspace"],
        "paths": ["workspace"],
        "readers": ["data_version", "workspace"],
        "writers": ["data_version", "workspace"],
        "push": ["paths", "versions", "remote", "jobs", "progress", "workspace"],
        "pull": [
            "paths",
            "versions",
            "remote",
            "jobs",
            "progress",
            "verify",
            "checkout",
            "workspace",
        ],
    },
    remotes: {
        "add": ["name", "url", "endpoint_url", "region", "make_default", "workspace"],
        "delete": ["name", "workspace"],
        "list": ["workspace"],
    },
    environments: {
        "capture": ["python", "deep"],
        "diff": ["expected", "actual", "imported"],
        "verify": ["expected", "actual", "python", "threshold", "imported", "exclude"],
        "record": ["python", "deep", "store", "output", "workspace"],
        "get": ["reference", "python", "workspace"],
        "export": [
            "reference",
            "format",
            "hashes",
            "exclude",
            "index_url",
            "extra_index_urls",
            "wheels_dir",
            "python",
            "base_image",
            "workspace",
        ],
        "write_export": ["result", "output"],
        "restore": [
            "reference",
            "venv",
            "python",
            "exclude",
            "index_url",
            "extra_index_urls",
            "wheels_dir",
            "download_python",
            "compile_bytecode",
            "workspace",
        ],
        "check_lock": ["lock", "python", "ignore", "workspace"],
        "audit": ["reference", "advisories", "python", "workspace"],
        "audit_all": ["advisories", "workspace"],
    },
}


def test_capture_diff_verify_are_parity_env_s_own_functions() -> None:
    assert environments.capture is parity.env.capture
    assert environments.diff is parity.env.diff
    assert environments.verify is parity.env.verify


@pytest.mark.parametrize("module", list(SURFACE), ids=lambda m: m.__name__)
def test_every_public_function_is_listed_documented_and_ends_with_workspace(
    module: ModuleType,
) -> None:
    functions = {n for n in module.__all__ if inspect.isfunction(getattr(module, n))}
    assert functions == set(SURFACE[module])
    assert module.__doc__
    assert ">>>" in module.__doc__
    for name, expected in SURFACE[module].items():
        function = getattr(module, name)
        assert function.__doc__, name
        parameters = list(inspect.signature(function).parameters.values())
        assert [p.name for p in parameters] == expected, name
        if expected[-1] == "workspace":
            last = parameters[-1]
            assert last.kind is inspect.Parameter.KEYWORD_ONLY, name
            assert last.default is None, name


def test_calls_without_a_workspace_use_the_current_folder_s(
    workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace_dir)
    (workspace_dir / "data").mkdir()
    (workspace_dir / "data" / "a.txt").write_text("a\n")
    added = data.add("data")
    assert added.pointer == workspace_dir / "data.parity"
    [state] = data.status()
    assert (state.path, state.data_version, state.clean) == ("data", added.data_version, True)
    assert data.fsck().ok

    remotes.add("backup", "../shared")
    assert [(r["name"], r["url"], r["default"]) for r in remotes.list()] == [
        ("backup", "../shared", True)
    ]
    pushed = data.push(versions=[added.data_version])
    assert pushed.versions == (added.data_version,)
    assert pushed.result.ok
    remotes.delete("backup")
    assert remotes.list() == []
    remotes.add("old", "../shared")
    remotes.remove("old")  # the name before the CLI settled its words still works
    assert remotes.list() == []


def test_an_environment_file_needs_no_workspace_but_an_id_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    drifted = environments.get(EXAMPLES / "drifted_environment.json")
    assert drifted.distributions
    with pytest.raises(NotFoundError, match="there is no workspace to look it up in"):
        environments.get("abcdef012345")
