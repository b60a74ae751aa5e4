"""restore: a new venv with exactly the recorded packages, verified against the record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from parity.core.env_rules import Risk
from parity.core.environment import Environment
from parity.env.capture import capture
from parity.env.restore import restore_environment
from parity.env.verification import verify_environment
from tests.conftest import run_parity
from tests.env.conftest import build_venv

pytestmark = pytest.mark.usefixtures("private_cache")  # never the user's ~/.cache


@pytest.fixture(scope="module")
def recorded(venv_big: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Environment, Path]:
    environment = capture(venv_big)
    path = tmp_path_factory.mktemp("record") / "big.json"
    path.write_text(json.dumps(environment.to_record().to_dict()))
    return environment, path


@pytest.mark.slow
def test_restore_then_verify_against_the_original_exits_0(
    recorded: tuple[Environment, Path], workspace_dir: Path
) -> None:
    environment, fingerprint = recorded
    venv = workspace_dir / "restored"
    result = run_parity("env", "restore", str(fingerprint), "--venv", str(venv), cwd=workspace_dir)
    assert result.returncode == 0, result.stderr
    assert f"restored {len(environment.distributions)} packages" in result.stdout
    assert "verified" in result.stdout
    python = venv / "bin" / "python"
    verify = run_parity(
        "env", "verify", str(fingerprint), "--python", str(python), cwd=workspace_dir
    )
    assert verify.returncode == 0, verify.stdout
    # Even at the lowest threshold: the installer's rewritten #! lines are not a difference.
    strict = run_parity(
        "env", "verify", str(fingerprint), "--python", str(python), "--strict", cwd=workspace_dir
    )
    assert strict.returncode == 0, strict.stdout
    restored = capture(python)
    assert {d.name: d.version for d in restored.distributions} == {
        d.name: d.version for d in environment.distributions
    }
    # The second restore of the same record takes its lock from the workspace's cache.
    again = run_parity(
        "env", "restore", str(fingerprint), "--venv", str(venv), "--json", cwd=workspace_dir
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["cached"] is True
    assert report["verify"]["ok"] is True
    assert list((workspace_dir / ".parity" / "cache" / "locks").glob("*.pylock.toml"))


@pytest.mark.slow
def test_what_cannot_be_restored_is_reported(
    recorded: tuple[Environment, Path], tmp_path: Path
) -> None:
    environment, _ = recorded
    edited = _attrs_installed_editable(environment)
    result = restore_environment(edited, tmp_path / "venv", cache_dir=tmp_path / "cache")
    assert not result.ok
    assert [p.name for p in result.plan.not_reproducible] == ["attrs"]
    assert "package attrs" in [d.subject for d in result.verify.blocking]


def test_restore_refuses_a_folder_that_is_not_a_venv(
    recorded: tuple[Environment, Path], tmp_path: Path
) -> None:
    _, fingerprint = recorded
    target = tmp_path / "documents"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = run_parity("env", "restore", str(fingerprint), "--venv", str(target), cwd=tmp_path)
    assert result.returncode == 2
    assert "is not a virtual environment" in result.stderr
    assert (target / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
def test_a_record_from_another_os_restores_its_versions_and_says_what_differs(
    recorded: tuple[Environment, Path], tmp_path: Path
) -> None:
    import dataclasses

    environment, _ = recorded
    mac = dataclasses.replace(
        environment,
        platform=dataclasses.replace(
            environment.platform,
            system="Darwin",
            machine="arm64",
            libc_family=None,
            libc_version=None,
            os_release="macOS 15.1",
        ),
    )
    result = restore_environment(mac, tmp_path / "venv", cache_dir=tmp_path / "cache")
    restored = capture(result.python)
    assert {d.name: d.version for d in restored.distributions} == {
        d.name: d.version for d in environment.distributions
    }
    assert not result.ok
    assert {d.rule for d in result.verify.blocking} >= {"platform.system", "platform.machine"}


@pytest.mark.slow
def test_strict_verify_passes_after_restoring_what_pip_installed(tmp_path: Path) -> None:
    """pip records the bytecode it compiles and writes its own INSTALLER and script launchers;
    uv, restoring the record, does neither: the same files all the same."""
    python = build_venv(tmp_path / "by-pip", "pip")
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "six==1.17.0", "wheel==0.45.1"], check=True)
    made_by_pip = capture(python)
    wheel = made_by_pip.distribution("wheel")
    assert wheel is not None
    assert wheel.installer == "pip"
    result = restore_environment(made_by_pip, tmp_path / "restored", cache_dir=tmp_path / "cache")
    assert result.ok
    strict = verify_environment(made_by_pip, capture(result.python), Risk.LOW)
    assert strict.ok, [d.to_dict() for d in strict.blocking]
    # A real change to an installed file still blocks, at high risk (--deep re-hashes them).
    module = next((result.venv / "lib").glob("python*/site-packages/six.py"))
    module.unlink()  # uv links files from its cache: replace, never edit in place
    module.write_text("raise SystemExit('tampered')\n")
    tampered = verify_environment(made_by_pip, capture(result.python, deep=True), Risk.LOW)
    assert [(d.subject, d.rule, d.risk) for d in tampered.blocking] == [
        ("package six", "package.modified", Risk.HIGH)
    ]


@pytest.mark.slow
def test_a_package_left_out_on_purpose_is_restored_without_and_verified_with_exclude(
    recorded: tuple[Environment, Path], tmp_path: Path
) -> None:
    environment, _ = recorded
    # Your own project, installed editable where the model was made.
    edited = _attrs_installed_editable(environment)
    fingerprint = tmp_path / "edited.json"
    fingerprint.write_text(json.dumps(edited.to_document()))
    refused = run_parity(
        "env", "restore", str(fingerprint), "--venv", str(tmp_path / "one"), cwd=tmp_path
    )
    assert refused.returncode == 1
    error = refused.stderr.splitlines()[-1]
    assert "differs: attrs (not reproducible) (--exclude attrs leaves them out" in error
    assert "package attrs" not in error  # named once, not as "attrs, package attrs"

    venv = tmp_path / "two"
    restored = run_parity(
        "env", "restore", str(fingerprint), "--venv", str(venv), "--exclude", "Attrs", cwd=tmp_path
    )
    assert restored.returncode == 0, restored.stderr
    assert "left out on request (--exclude): attrs==" in restored.stderr
    python = str(venv / "bin" / "python")
    plain = run_parity("env", "verify", str(fingerprint), "--python", python, cwd=tmp_path)
    assert plain.returncode == 1
    assert "package attrs" in plain.stderr
    same = run_parity(
        "env",
        "verify",
        str(fingerprint),
        "--python",
        python,
        "--exclude",
        "attrs",
        "--json",
        cwd=tmp_path,
    )
    assert same.returncode == 0, same.stdout
    attrs = [d for d in json.loads(same.stdout)["differences"] if d["subject"] == "package attrs"]
    assert [(d["rule"], d["risk"]) for d in attrs] == [("package.missing", "info")]
    assert attrs[0]["reason"].endswith("left out of the export on purpose (--exclude)")


@pytest.fixture
def pyenv_machine(tmp_path: Path) -> tuple[dict[str, str], str]:
    """A machine where the recorded Python is installed only in pyenv's versions folder, and
    PATH holds pyenv's shims, which exit 127 for a version that is not selected (uv takes
    those); returns the environment variables for `parity` and that Python's version."""
    from parity.env.interpreters import query

    base = query(Path(getattr(sys, "_base_executable", sys.executable)))
    assert base is not None
    minor = ".".join(base.version.split(".")[:2])
    shims = tmp_path / "shims"
    shims.mkdir()
    for name in (f"python{minor}", "python3", "python"):
        shim = shims / name
        shim.write_text(f"#!/bin/sh\necho 'pyenv: {name}: command not found' >&2\nexit 127\n")
        shim.chmod(0o755)
    installed = tmp_path / "pyenv" / "versions" / base.version / "bin"
    installed.mkdir(parents=True)
    (installed / f"python{minor}").symlink_to(base.path.resolve())
    return {
        "PATH": str(shims),
        "PYENV_ROOT": str(tmp_path / "pyenv"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "no-managed-pythons"),
        "UV_PYTHON_DOWNLOADS": "automatic",  # what uv does unless told: restore must not ask
    }, base.version


def test_restore_finds_the_recorded_python_where_uv_does_not_look(
    venv_locked: Path, pyenv_machine: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    environ, version = pyenv_machine
    recorded = capture(venv_locked)
    assert recorded.interpreter.version == version
    fingerprint = tmp_path / "tiny.json"
    fingerprint.write_text(json.dumps(recorded.to_document()))
    venv = tmp_path / "restored"
    result = run_parity(
        "env", "restore", str(fingerprint), "--venv", str(venv), cwd=tmp_path, env=environ
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert capture(venv / "bin" / "python").interpreter.version == version


def test_without_the_recorded_python_restore_says_which_and_downloads_nothing(
    venv_locked: Path, pyenv_machine: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    import dataclasses

    environ, _ = pyenv_machine
    recorded = capture(venv_locked)
    future = dataclasses.replace(
        recorded, interpreter=dataclasses.replace(recorded.interpreter, version="3.99.1")
    )
    fingerprint = tmp_path / "future.json"
    fingerprint.write_text(json.dumps(future.to_document()))
    venv = tmp_path / "restored"
    result = run_parity(
        "env", "restore", str(fingerprint), "--venv", str(venv), cwd=tmp_path, env=environ
    )
    assert result.returncode == 3
    assert "error: needs CPython 3.99.1: pass --python PATH" in result.stderr
    assert "--download-python lets uv download it" in result.stderr
    assert not venv.exists()
    assert not (tmp_path / "no-managed-pythons").exists()


def test_verbose_keeps_uvs_whole_message(
    recorded: tuple[Environment, Path], tmp_path: Path
) -> None:
    _, fingerprint = recorded
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'first complaint' >&2\necho 'the real reason' >&2\nexit 1\n")
    broken.chmod(0o755)
    command = ("env", "restore", str(fingerprint), "--venv", str(tmp_path / "v"))
    quiet = run_parity(*command, "--python", str(broken), cwd=tmp_path)
    assert quiet.returncode == 5
    (line,) = quiet.stderr.strip().splitlines()
    assert line.startswith("error: uv venv failed: ")
    assert line.endswith("(--verbose shows uv's whole message)")
    loud = run_parity(*command, "--python", str(broken), "--verbose", cwd=tmp_path)
    assert loud.returncode == 5
    assert "the real reason" in loud.stderr
    assert loud.stderr.strip().splitlines()[-1] == line


def _attrs_installed_editable(environment: Environment) -> Environment:
    """``environment`` as if attrs were your own project, installed editable where it was made."""
    import dataclasses

    from parity.core.environment import Source

    return dataclasses.replace(
        environment,
        distributions=tuple(
            dataclasses.replace(d, source=Source("editable", url="file:///home/me/attrs"))
            if d.name == "attrs"
            else d
            for d in environment.distributions
        ),
    )


@pytest.mark.slow
def test_bytecode_is_compiled_at_restore_only_when_asked(
    venv_locked: Path, workspace_dir: Path
) -> None:
    # Compiling a scikit-learn venv costs ~10 s, 20x a warm restore: it is a choice, for venvs
    # that will run with PYTHONDONTWRITEBYTECODE=1.
    fingerprint = workspace_dir / "locked.json"
    fingerprint.write_text(json.dumps(capture(venv_locked).to_record().to_dict()))

    def compiled(venv: Path) -> set[str]:
        site = next(venv.glob("lib/python*/site-packages"))
        return {path.parent.parent.name for path in site.glob("*/__pycache__/*.pyc")}

    for flag, expected in (([], set()), (["--compile-bytecode"], {"idna"})):
        venv = workspace_dir / f"restored{len(flag)}"
        result = run_parity(
            "env", "restore", str(fingerprint), "--venv", str(venv), *flag, cwd=workspace_dir
        )
        assert result.returncode == 0, result.stderr
        assert "verified" in result.stdout
        assert compiled(venv) == expected
