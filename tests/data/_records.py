"""One example record of every kind Parity stores, every field filled the way Parity fills it.

The reference tests read ids out of these, so a field left empty here could hide an undeclared
id: ``test_record_references`` checks that every field of every record type is filled somewhere.
"""

from __future__ import annotations

from typing import Any

from parity.core.deployment import DeployExport, ExportedFile
from parity.core.environment import (
    Accelerators,
    Distribution,
    Environment,
    Interpreter,
    NativeLibrary,
    Platform,
    Skipped,
    Source,
)
from parity.core.ids import digest_bytes
from parity.core.infra import InfraFile, InfraSnapshot, RefusedFile
from parity.core.model import (
    ArtifactFile,
    ColumnSpec,
    DeclaredEnvironment,
    ModelRecord,
    Signature,
)
from parity.core.profile import CategoricalProfile, NoiseFloor, NumericProfile, Profile
from parity.core.records import StoredRecord
from parity.core.run import CodeState, UntrackedFile
from parity.data.commit_pointers import CommitPointer
from parity.data.manifest import Chunk, FileEntry, make_version
from parity.data.pointer import Pointer
from parity.data.validate import FailedCheck, Validation


def digest(label: str) -> str:
    """A realistic id: the BLAKE3 of ``label``."""
    return digest_bytes(label.encode())


def _environment() -> Environment:
    return Environment(
        interpreter=Interpreter(
            "cpython",
            "3.11.7",
            "cpython-311-x86_64-linux-gnu",
            ("cp311-cp311-manylinux_2_36_x86_64",),
            "/project/.venv",
            "/usr",
            True,
            "base",
        ),
        platform=Platform(
            "Linux",
            "6.1.0",
            "Debian GNU/Linux 12",
            "glibc",
            "2.36",
            "x86_64",
            "EPYC",
            ("avx2",),
            2,
            2,
        ),
        distributions=(
            Distribution(
                "numpy",
                "2.3.0",
                "uv",
                True,
                Source(
                    "archive",
                    "file:///wheels/numpy-2.3.0.whl",
                    None,
                    None,
                    "sha256=" + digest("numpy wheel"),
                ),
                ("cp311-cp311-manylinux",),
                False,
                "blake2b-256:" + digest("numpy RECORD"),
                ("numpy",),
                ("numpy/core/x.py",),
            ),
            # A repository in SHA-256 object format: its commits are 64 hex characters.
            Distribution(
                "tool",
                "0.1",
                "pip",
                False,
                Source("vcs", "https://example.org/tool.git", digest("tool commit"), "git"),
                ("py3-none-any",),
                True,
                "sha256:" + digest("tool RECORD"),
                ("tool",),
            ),
        ),
        native=(
            NativeLibrary(
                "blas", "openblas", "0.3.27", 2, "pthreads", "Haswell", "libopenblas.so", "numpy"
            ),
        ),
        accelerators=Accelerators("550.54", "12.1", "8.9", ("NVIDIA A100",)),
        numerics={"OMP_NUM_THREADS": "1"},
        deep=True,
        skipped=(Skipped("threadpoolctl", "ImportError: No module named 'threadpoolctl'"),),
    )


def _model() -> ModelRecord:
    return ModelRecord(
        flavor="sklearn",
        loader={"file": "model.pkl", "format": "pickle"},
        files=(
            ArtifactFile("model.pkl", digest("weights"), 1234),
            ArtifactFile("golden.json", digest("golden rows"), 56),
        ),
        signature=Signature((ColumnSpec("age", "int64"),), (ColumnSpec("churn", "bool"),)),
        environment_id=digest("model environment"),
        requirements={"scikit-learn": "1.5.0"},
        golden_inputs="golden.json",
        golden_predictions="golden.json",
        declared_environment=DeclaredEnvironment(
            "mlflow", ("requirements.txt",), "3.11.7", {"scikit-learn": "1.5.0"}
        ),
    )


def _profile(data_version: str) -> Profile:
    return Profile(
        rows=100,
        numeric=(
            NumericProfile(
                "age",
                100,
                1,
                40.5,
                9.2,
                (18.0, 40.0, 90.0),
                (30.0, 50.0),
                (0.3, 0.4, 0.3),
                (NoiseFloor(10, 0.05, 0.1),),
            ),
        ),
        categorical=(CategoricalProfile("plan", 100, 0, {"basic": 0.7, "__other__": 0.3}),),
        data_version=data_version,
    )


def _data_version() -> Any:
    pack = digest("pack")
    # The second chunk is a delta against a chunk stored whole by an earlier version.
    base = Chunk(digest("chunk 0"), digest("earlier pack"), 0, 4, 5)
    chunks = (
        Chunk(digest("chunk 1"), pack, 0, 10, 20),
        Chunk(digest("chunk 2"), pack, 10, 3, 5, base),
    )
    return make_version(
        "folder",
        [FileEntry("table.csv", 25, 0o644, digest("table.csv content"), chunks)],
        ["empty"],
    )


def example_records(data_version: str) -> dict[str, Any]:
    """kind → a record value (with ``to_record``), each naming ``data_version`` where it can."""
    return {
        "code": CodeState(
            "https://example.org/repo.git",
            digest("commit"),
            "main",
            True,
            digest("diff"),
            ("notes.txt", "helper.py"),
            True,
            (UntrackedFile("helper.py", digest("helper"), 12),),
        ),
        "data": _data_version(),
        "data_commit": CommitPointer(
            "data/train.csv",
            digest("commit"),
            Pointer(data_version, 182, 1, "file"),
            "dvc:md5:f69f5b72bc79a92dc70c63c9aa142e36",
        ),
        "deploy_export": DeployExport(
            "churn",
            3,
            digest("model"),
            "kubernetes",
            "registry.example/churn:3",
            (ExportedFile("Dockerfile", digest("Dockerfile"), 900),),
            digest("model environment"),
            "0190ab12" * 4,
            (data_version,),
        ),
        "env": _environment(),
        "model": _model(),
        "infra": InfraSnapshot(
            ("infra/**/*.tf",),
            (InfraFile("infra/main.tf", digest("main.tf redacted"), 120, ("password",)),),
            (RefusedFile("infra/terraform.tfstate", "Terraform state holds every secret"),),
        ),
        "profile": _profile(data_version),
        "validation": Validation(
            data_version,
            digest("schema"),
            100,
            (
                FailedCheck("age", "greater_than(0)", 2, ("row 3: -1",)),
                FailedCheck(None, "column_in_dataframe", 1, ()),
            ),
        ),
    }


def example_record(kind: str, data_version: str) -> StoredRecord:
    record: StoredRecord = example_records(data_version)[kind].to_record()
    return record
