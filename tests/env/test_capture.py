"""Capture from a target interpreter that does not have Parity installed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from parity.core.environment import NUMERICS_VARIABLES
from parity.core.errors import UsageError
from parity.env import capture, probe
from parity.env.capture import PROBE_PATH
from tests.conftest import run_parity
from tests.env.conftest import SKLEARN_A, build_venv


def test_target_has_no_parity(venv_a: Path) -> None:
    result = subprocess.run(
        [str(venv_a), "-c", "import parity"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "No module named 'parity'" in result.stderr


def test_capture_reads_packages_sources_and_builds(venv_a: Path) -> None:
    environment = capture(venv_a)
    sklearn = environment.distribution("scikit-learn")
    assert sklearn is not None
    assert sklearn.version == SKLEARN_A
    assert sklearn.pure is False
    assert "sklearn" in sklearn.top_level
    assert sklearn.installer == "uv"
    assert sklearn.requested is True
    assert sklearn.source.kind == "index"
    assert any(tag.startswith("cp311-cp311-manylinux") for tag in sklearn.wheel_tags)
    assert sklearn.record_digest is not None
    assert sklearn.record_digest.startswith("files-blake2b-256:")
    numpy = environment.distribution("numpy")
    assert numpy is not None
    assert isinstance(numpy.requested, bool)  # uv marks every package it installs as requested
    assert environment.distribution("parity-ml") is None
    assert environment.interpreter.is_venv
    assert environment.interpreter.prefix == str(venv_a.parent.parent)
    assert environment.interpreter.version == ".".join(map(str, sys.version_info[:3]))
    assert environment.platform.machine
    assert any(lib.internal_api == "openblas" for lib in environment.native)


def test_capturing_the_same_venv_twice_gives_the_same_id(venv_a: Path) -> None:
    assert capture(venv_a).id == capture(venv_a).id


def test_current_interpreter_in_process_matches_a_subprocess_capture() -> None:
    from parity.core.environment import Environment
    from parity.env.capture import run_probe

    in_process = capture()
    assert capture(Path(sys.executable)).id == in_process.id  # recognised: no subprocess
    subprocess_capture = Environment.from_dict(run_probe(Path(sys.executable), deep=False))
    assert in_process.id == subprocess_capture.id


def test_direct_url_sources_are_recorded(tmp_path: Path) -> None:
    project = tmp_path / "localpkg"
    (project / "localpkg").mkdir(parents=True)
    (project / "localpkg" / "__init__.py").write_text("VALUE = 1\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "localpkg"\nversion = "0.3.0"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    python = build_venv(tmp_path / "venv", "-e", str(project))
    dist = capture(python).distribution("localpkg")
    assert dist is not None
    assert dist.source.kind == "editable"
    assert dist.source.url == project.as_uri()
    assert dist.top_level == ("localpkg",)


def test_a_missing_interpreter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no interpreter at"):
        capture(tmp_path / "nope" / "python")


def test_probe_output_is_json_with_the_record_fields(venv_a: Path) -> None:
    output = subprocess.run(
        [str(venv_a), str(PROBE_PATH)], capture_output=True, text=True, check=True
    ).stdout
    document = json.loads(output)
    assert set(document) == {
        "interpreter",
        "platform",
        "distributions",
        "native",
        "accelerators",
        "numerics",
        "deep",
    }


def site_packages(python: Path) -> Path:
    return next((python.parent.parent / "lib").glob("python*/site-packages"))


def test_interpreter_and_platform_facts_match_the_machine(venv_a: Path) -> None:
    environment = capture(venv_a)
    interpreter, platform = environment.interpreter, environment.platform
    assert interpreter.abi == sysconfig.get_config_var("SOABI")
    assert interpreter.implementation == sys.implementation.name
    version = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    family, libc_version = os.confstr("CS_GNU_LIBC_VERSION").split()  # type: ignore[union-attr]
    assert (platform.libc_family, platform.libc_version) == (family, libc_version)
    major, minor = libc_version.split(".")[:2]
    machine = os.uname().machine
    assert interpreter.wheel_tags[0] == f"{version}-{version}-manylinux_{major}_{minor}_{machine}"
    assert interpreter.wheel_tags[-1] == "py3-none-any"
    assert (platform.system, platform.kernel, platform.machine) == (
        os.uname().sysname,
        os.uname().release,
        machine,
    )
    assert platform.cpu_count == os.cpu_count()
    assert platform.cpu_affinity == len(os.sched_getaffinity(0))
    cpuinfo = Path("/proc/cpuinfo").read_text()
    flags = set(next(line for line in cpuinfo.splitlines() if line.startswith("flags")).split())
    assert platform.cpu_flags
    assert set(platform.cpu_flags) <= flags
    assert platform.cpu_model is not None
    assert platform.cpu_model in cpuinfo


def test_a_relative_python_path_is_taken_from_the_current_folder(
    venv_a: Path, tmp_path: Path
) -> None:
    relative = os.path.relpath(venv_a, tmp_path)
    result = run_parity("env", "capture", "--python", relative, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == capture(venv_a).id


def test_the_record_digest_leaves_out_what_installers_write_their_own_way() -> None:
    """uv's RECORD and pip's for one wheel: another order, installer files, bytecode, and
    scripts whose #! line names each venv's python. The digest is the same for both."""
    by_uv = (
        "six.py,sha256=AAAA,100\n"
        "six-1.0.dist-info/INSTALLER,sha256=uvuv,2\n"
        "six-1.0.dist-info/RECORD,,\n"
        "six-1.0.dist-info/uv_cache.json,sha256=TIME,127\n"
        "../../../bin/six,sha256=SHEBANG1,50\n"
        "../../../share/six/data.json,sha256=DATA,5\n"
        "six-1.0.dist-info/METADATA,sha256=META,10\n"
    )
    by_pip = (
        "../../../bin/six,sha256=SHEBANG2,61\r\n"
        "../../../share/six/data.json,sha256=DATA,5\r\n"
        "__pycache__/six.cpython-311.pyc,,\r\n"
        "six-1.0.dist-info/INSTALLER,sha256=pippip,4\r\n"
        "six-1.0.dist-info/METADATA,sha256=META,10\r\n"
        "six-1.0.dist-info/RECORD,,\r\n"
        "six-1.0.dist-info/REQUESTED,sha256=EMPTY,0\r\n"
        "six-1.0.dist-info/direct_url.json,sha256=URL,80\r\n"
        "six.py,sha256=AAAA,100\r\n"
    )
    digest = probe._record_digest(by_uv, "six-1.0.dist-info")
    assert digest.startswith("files-blake2b-256:")
    assert probe._record_digest(by_pip, "six-1.0.dist-info") == digest
    # What the wheel itself installed still counts: a module, a data file, the metadata.
    for real in ("sha256=AAAA", "sha256=DATA", "sha256=META", "../../../bin/six,"):
        changed = by_uv.replace(real, real.replace("A", "B").replace("bin/six", "bin/sox"))
        assert changed != by_uv
        assert probe._record_digest(changed, "six-1.0.dist-info") != digest, real


def test_the_written_fingerprint_is_the_document_json_prints(venv_a: Path, tmp_path: Path) -> None:
    result = run_parity(
        "env", "capture", "--python", str(venv_a), "--json", "-o", "fp.json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    written = json.loads((tmp_path / "fp.json").read_text())
    assert written == printed
    assert set(written) == {"id", "kind", "format", "body"}
    assert written["id"] == capture(venv_a).id
    shown = run_parity("env", "show", "fp.json", "--json", cwd=tmp_path)
    assert json.loads(shown.stdout) == printed
    # The id is the content's: a body edited after capture is read as what it now says.
    written["body"]["distributions"][0]["version"] = "0.0.0"
    (tmp_path / "edited.json").write_text(json.dumps(written))
    edited = run_parity("env", "show", "edited.json", "--json", cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["id"] != printed["id"]


@pytest.mark.slow
def test_deep_capture_reports_threadpoolctl_libraries(venv_a: Path) -> None:
    environment = capture(venv_a, deep=True)
    blas = [lib for lib in environment.native if lib.user_api == "blas"]
    assert blas
    assert all(lib.num_threads is not None and lib.version for lib in blas)
    assert any(lib.user_api == "openmp" for lib in environment.native)
    sklearn = environment.distribution("scikit-learn")
    assert sklearn is not None
    assert sklearn.modified_files == ()
    # The bundled-library scan does not count a .libs folder as an import name.
    assert sklearn.top_level == ("sklearn",)


@pytest.fixture(scope="module")
def localpkg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A one-module project in a git repository, and its wheel."""
    root = tmp_path_factory.mktemp("localpkg")
    project = root / "project"
    (project / "localpkg").mkdir(parents=True)
    (project / "localpkg" / "__init__.py").write_text("VALUE = 1\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "localpkg"\nversion = "0.3.0"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "localpkg 0.3.0"], check=True)
    from uv import find_uv_bin

    dist = root / "dist"
    subprocess.run(
        [find_uv_bin(), "build", "-q", "--wheel", "--out-dir", str(dist), str(project)], check=True
    )
    return project, next(dist.glob("*.whl"))


def test_a_vcs_install_records_its_commit(localpkg: tuple[Path, Path], tmp_path: Path) -> None:
    project, _ = localpkg
    commit = subprocess.run(
        ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    python = build_venv(tmp_path / "venv", f"localpkg @ git+{project.as_uri()}")
    dist = capture(python).distribution("localpkg")
    assert dist is not None
    assert (dist.source.kind, dist.source.vcs, dist.source.commit) == ("vcs", "git", commit)
    assert dist.source.url == project.as_uri()


def test_an_archive_install_records_its_hash_from_uv_and_from_pip(
    localpkg: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = localpkg
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    by_uv = build_venv(tmp_path / "uv", f"localpkg @ {wheel.as_uri()}#sha256={digest}")
    by_pip = build_venv(tmp_path / "pip")
    pip = [sys.executable, "-m", "pip", "--python", str(by_pip), "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--no-index", "--no-deps", str(wheel)], check=True)
    for python, installer in ((by_uv, "uv"), (by_pip, "pip")):
        dist = capture(python).distribution("localpkg")
        assert dist is not None
        assert dist.installer == installer
        assert dist.source.kind == "archive"
        assert dist.source.archive_hash == f"sha256={digest}"
        assert dist.pure is True
        assert dist.wheel_tags == ("py2-none-any", "py3-none-any")
        assert dist.top_level == ("localpkg",)


def fake_dist_info(site: Path, name: str, version: str, metadata: str, **files: str) -> Path:
    folder = site / f"{name}-{version}.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(metadata)
    for filename, text in files.items():
        (folder / filename).write_text(text)
    return folder


def test_hand_written_metadata_edge_cases(tmp_path: Path) -> None:
    python = build_venv(tmp_path / "venv")
    site = site_packages(python)
    # The first 1024 bytes end in "Version: 1.": a short read must not take that for the version.
    long_summary = "Metadata-Version: 2.1\nName: Long_Summary\nSummary: " + "x" * 962 + "\n"
    fake_dist_info(site, "long_summary", "1.26.4", long_summary + "Version: 1.26.4\n\nbody\n")
    # Credentials in a PEP 610 URL never reach the record.
    fake_dist_info(
        site,
        "private",
        "2.0",
        "Metadata-Version: 2.1\nName: private\nVersion: 2.0\n",
        **{
            "direct_url.json": json.dumps(
                {
                    "url": "https://deploy:s3cr3t-t0ken@git.example.org/private.git",
                    "vcs_info": {"vcs": "git", "commit_id": "0123abcd"},
                }
            )
        },
    )
    environment = capture(python)
    long = environment.distribution("long-summary")
    assert long is not None
    assert long.version == "1.26.4"
    private = environment.distribution("private")
    assert private is not None
    assert private.source.url == "https://git.example.org/private.git"
    assert "s3cr3t" not in json.dumps(environment.to_dict())


def test_cuda_and_cudnn_are_read_as_text_without_importing(tmp_path: Path) -> None:
    python = build_venv(tmp_path / "venv")
    site = site_packages(python)
    # No __init__.py: importing "torch" would fail, so the versions can only come from the text.
    (site / "torch").mkdir()
    (site / "torch" / "version.py").write_text(
        "from typing import Optional\n__version__ = '2.3.0+cu121'\n"
        "cuda: Optional[str] = '12.1'\nhip: Optional[str] = None\n"
    )
    fake_dist_info(
        site, "nvidia_cudnn_cu12", "9.1.0.70", "Name: nvidia-cudnn-cu12\nVersion: 9.1.0.70\n"
    )
    accelerators = capture(python).accelerators
    assert (accelerators.cuda_runtime, accelerators.cudnn) == ("12.1", "9.1.0.70")
    # This machine has no NVIDIA driver: no driver, so nvidia-smi is not asked for GPUs.
    assert accelerators.nvidia_driver is None
    assert accelerators.gpus == ()


def test_driver_cuda_and_gpu_texts_are_parsed() -> None:
    assert probe.driver_version("550.54.14\n", None) == "550.54.14"
    proprietary = (
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\n"
        "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
    )
    assert probe.driver_version(None, proprietary) == "550.54.14"
    open_module = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  535.104.05  Release"
    assert probe.driver_version("", open_module) == "535.104.05"
    assert probe.driver_version(None, None) is None
    assert probe.torch_cuda("cuda: Optional[str] = None\n") is None
    build_info = (
        "build_info = {'cuda_version': '12.3', 'cudnn_version': '8', 'is_cuda_build': True}"
    )
    assert probe.tensorflow_cuda(build_info) == ("12.3", "8")
    assert probe.gpu_names("NVIDIA A100-SXM4-80GB\nNVIDIA A100-SXM4-80GB\n\n") == [
        "NVIDIA A100-SXM4-80GB",
        "NVIDIA A100-SXM4-80GB",
    ]


def test_the_probe_allow_list_is_the_record_allow_list() -> None:
    # The probe cannot import parity.core: the two lists are kept equal by this test.
    assert probe.NUMERICS_VARIABLES == NUMERICS_VARIABLES


def test_version_names_paritys_own_environment(tmp_path: Path) -> None:
    result = run_parity("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"parity 0.1.0 (environment {capture().id[:12]})"


def test_the_probe_writes_the_json_that_json_dumps_writes(venv_a: Path) -> None:
    """The probe encodes its own output (importing json costs a target 6 ms)."""
    tricky = [
        "",
        'a"b\\c',
        "\n\t\r\b\f\x00\x1f\x7f",
        "é",
        "𝔘",
        "\udcff",
        "".join(map(chr, range(300))),
    ]
    for text in tricky:
        assert probe.dumps(text) == json.dumps(text)
    document = {"b": [1, True, None, False, ("x", -3)], "a": {"z": tricky}}
    assert probe.dumps(document) == json.dumps(document, sort_keys=True, separators=(",", ":"))
    collected = probe.collect()
    assert json.loads(probe.dumps(collected)) == json.loads(json.dumps(collected))
    with pytest.raises(TypeError):
        probe.dumps({"x": 1.5})
    output = subprocess.run([str(venv_a), str(PROBE_PATH)], capture_output=True, check=True).stdout
    assert output.isascii()


@pytest.mark.parametrize(
    "filename",
    [
        "libscipy_openblas64_-56d6093b.so",
        "libopenblas64_p-r0-0cf96a72.3.23.dev.so",
        "libgomp-a34b3233.so.1.0.0",
        "libomp.dylib",
        "libiomp5.so",
        "libmkl_rt.so.2",
        "libOpenBLAS-1.2.3.dll",
        "libgfortran-040039e1.so.5.0.0",
        "x12.34.56.7y.so",
    ],
)
def test_library_names_are_read_as_the_regular_expressions_would(filename: str) -> None:
    import re

    api = re.search(
        r"openblas|mkl_rt|mkl_core|blis|flexiblas|accelerate|gomp|iomp5|libomp|omp", filename, re.I
    )
    library = probe._library(filename, "numpy")
    assert (library is None) == (api is None)
    if library is not None and api is not None:
        version = re.search(r"\d+\.\d+\.\d+", re.split(r"\.(?:so|dylib|dll)", filename)[0])
        assert library["version"] == (version.group(0) if version else None)
        internal = {"mkl_rt": "mkl", "gomp": "openmp", "iomp5": "openmp", "libomp": "openmp"}
        assert library["internal_api"] == internal.get(api.group(0).lower(), api.group(0).lower())


@pytest.mark.parametrize("name", ["Foo_Bar", "a..b--c__d", "X.Y-Z", "ruamel.yaml.clib", "-_x_-"])
def test_names_are_normalized_as_pep_503_says(name: str) -> None:
    import re

    assert probe.normalize(name) == re.sub(r"[-_.]+", "-", name).lower()


def test_the_probe_imports_neither_json_nor_re_in_a_plain_target(venv_a: Path) -> None:
    from parity.env.capture import BOOTSTRAP

    imported = subprocess.run(
        [str(venv_a), "-X", "importtime", "-c", BOOTSTRAP, str(PROBE_PATH.parent)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    modules = {line.rsplit("|", 1)[1].strip() for line in imported.splitlines() if "|" in line}
    assert "probe" in modules
    assert not modules & {"json", "re", "hashlib", "platform", "subprocess"}


def test_a_deep_capture_names_the_native_library_that_would_not_load(tmp_path: Path) -> None:
    # numpy installed, its bundled OpenBLAS gone (a broken copy, a stripped image): numpy cannot
    # import, so threadpoolctl sees no BLAS. The record says so instead of an empty list.
    python = build_venv(tmp_path / "venv", "numpy", "threadpoolctl", copy=True)
    (blas,) = (site_packages(python) / "numpy.libs").glob("libscipy_openblas*")
    blas.unlink()

    environment = capture(python, deep=True)

    assert [(s.what, s.error) for s in environment.skipped] == [
        (
            "importing numpy for its native libraries",
            f"ImportError: {blas.name}: cannot open shared object file: No such file or directory",
        )
    ]
    assert not any(lib.user_api == "blas" for lib in environment.native)
    written = run_parity(
        "env", "capture", "--python", str(python), "--deep", "-o", "fp.json", cwd=tmp_path
    )
    assert written.returncode == 0, written.stderr
    shown = run_parity("env", "show", "fp.json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"skipped  importing numpy for its native libraries: ImportError: {blas.name}" in (
        shown.stdout
    )
    # A plain capture imports nothing, so it skips nothing and keeps its usual form.
    assert capture(python).skipped == ()


def test_a_failing_nvidia_smi_is_recorded_as_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A driver whose user-space library does not match the kernel module: nvidia-smi exits 9.
    tools = tmp_path / "bin"
    tools.mkdir()
    smi = tools / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\necho \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA"
        ' driver. Make sure that the latest NVIDIA driver is installed and running."\nexit 9\n'
    )
    smi.chmod(0o755)
    (tmp_path / "version").write_text("550.54.14\n")
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    skipped: list[dict[str, str]] = []

    found = probe.accelerators([], (str(tmp_path / "version"), "/nonexistent"), skipped)

    assert (found["nvidia_driver"], found["gpus"]) == ("550.54.14", [])
    assert skipped == [
        {
            "what": "GPU names (nvidia-smi)",
            "error": "exit 9: NVIDIA-SMI has failed because it couldn't communicate with the "
            "NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
        }
    ]
