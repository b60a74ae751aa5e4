"""The environment record: a precise fingerprint of one Python environment.

Produced by ``parity.env`` (a stdlib-only probe run inside the target interpreter), consumed by
diff/verify, export/restore, lock checks, audit, runs and models. It holds no timestamps and no
secrets, so capturing the same environment twice gives the same record and the same id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parity.core.records import StoredRecord
from parity.core.references import (
    RecordReferences,
    Reference,
    Target,
    as_object,
    list_at,
    referenced,
)

ENV_KIND = "env"
ENV_FORMAT = 1

# The only environment variables whose values a record may hold: they change numerics or
# threading. Every other variable, secrets included, is never read into a record.
NUMERICS_VARIABLES = (
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_CBWR",
    "CUBLAS_WORKSPACE_CONFIG",
    "CUDA_VISIBLE_DEVICES",
    "TF_DETERMINISTIC_OPS",
    "TZ",
    "LANG",
    "LC_ALL",
)


def _fields(record: Any) -> dict[str, Any]:
    """A flat record's fields as a dictionary (tuples stay tuples, as dataclasses.asdict keeps)."""
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


@dataclass(frozen=True)
class Interpreter:
    implementation: str  # "cpython"
    version: str  # "3.11.7"
    abi: str | None  # SOABI, e.g. "cpython-311-x86_64-linux-gnu"
    wheel_tags: tuple[str, ...]  # the most specific supported tags, best first
    prefix: str
    base_prefix: str
    is_venv: bool
    conda_env: str | None = None

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class Platform:
    system: str  # "Linux"
    kernel: str  # platform.release()
    os_release: str | None  # PRETTY_NAME from /etc/os-release
    libc_family: str | None  # "glibc" | "musl" | None
    libc_version: str | None
    machine: str  # "x86_64"
    cpu_model: str | None
    cpu_flags: tuple[str, ...]  # instruction-set flags that matter for native code
    cpu_count: int | None
    cpu_affinity: int | None


@dataclass(frozen=True)
class Source:
    """Where a distribution came from (PEP 610 direct_url.json, or the index when absent)."""

    kind: str  # "index" | "archive" | "vcs" | "editable" | "directory"
    url: str | None = None
    commit: str | None = None  # VCS commit id
    vcs: str | None = None  # "git", …
    archive_hash: str | None = None  # "sha256=…"


@dataclass(frozen=True)
class Distribution:
    name: str  # normalized (PEP 503)
    version: str  # as installed, local label included ("2.3.0+cu121")
    installer: str | None
    requested: bool | None
    source: Source
    wheel_tags: tuple[str, ...]
    pure: bool | None  # Root-Is-Purelib; False means the package ships native code
    record_digest: str | None  # "<algorithm>:<hex>" of the RECORD file ("blake2b-256:…")
    top_level: tuple[str, ...]  # import names it provides
    modified_files: tuple[str, ...] | None = None  # set by a deep capture: files unlike RECORD


@dataclass(frozen=True)
class NativeLibrary:
    """A BLAS or OpenMP runtime, as threadpoolctl reports it or as found bundled in a package."""

    user_api: str  # "blas" | "openmp"
    internal_api: str  # "openblas" | "mkl" | "blis" | "openmp" …
    version: str | None
    num_threads: int | None
    threading_layer: str | None
    architecture: str | None
    filename: str  # the library's file name (not its path)
    package: str | None = None  # the distribution that bundles it


@dataclass(frozen=True)
class Accelerators:
    nvidia_driver: str | None = None
    cuda_runtime: str | None = None  # as a framework was built with it
    cudnn: str | None = None
    gpus: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """A part of the environment the probe could not read, and why ("ImportError: …")."""

    what: str
    error: str


@dataclass(frozen=True)
class Environment:
    interpreter: Interpreter
    platform: Platform
    distributions: tuple[Distribution, ...]
    native: tuple[NativeLibrary, ...] = ()
    accelerators: Accelerators = field(default_factory=Accelerators)
    numerics: Mapping[str, str] = field(default_factory=dict)
    deep: bool = False
    # What the capture could not read (a broken native library, a failing nvidia-smi), so an
    # empty field above is not mistaken for "none there".
    skipped: tuple[Skipped, ...] = ()

    def __post_init__(self) -> None:
        # One canonical order, so the id never depends on the order packages were found in.
        object.__setattr__(
            self, "distributions", tuple(sorted(self.distributions, key=lambda d: d.name))
        )
        object.__setattr__(
            self,
            "native",
            tuple(sorted(self.native, key=lambda n: (n.user_api, n.internal_api, n.filename))),
        )
        object.__setattr__(
            self, "skipped", tuple(sorted(self.skipped, key=lambda s: (s.what, s.error)))
        )

    def distribution(self, name: str) -> Distribution | None:
        for dist in self.distributions:
            if dist.name == name:
                return dist
        return None

    # persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict, which deep-copies every value and was a tenth
        # of a whole `parity env capture`; the records here hold only str/int/bool/None/tuples.
        document = {
            "interpreter": _fields(self.interpreter),
            "platform": _fields(self.platform),
            "distributions": [
                {**_fields(dist), "source": _fields(dist.source)} for dist in self.distributions
            ],
            "native": [_fields(lib) for lib in self.native],
            "accelerators": _fields(self.accelerators),
            "numerics": dict(sorted(self.numerics.items())),
            "deep": self.deep,
        }
        # Only when something was skipped: a complete capture keeps the id it always had, and
        # an older Parity reads the record (format 1) without the field it does not know.
        if self.skipped:
            document["skipped"] = [_fields(skip) for skip in self.skipped]
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Environment:
        interpreter = dict(document["interpreter"])
        interpreter["wheel_tags"] = tuple(interpreter.get("wheel_tags", ()))
        platform = dict(document["platform"])
        platform["cpu_flags"] = tuple(platform.get("cpu_flags", ()))
        distributions = []
        for entry in document.get("distributions", ()):
            dist = dict(entry)
            dist["source"] = Source(**dist["source"])
            dist["wheel_tags"] = tuple(dist.get("wheel_tags", ()))
            dist["top_level"] = tuple(dist.get("top_level", ()))
            if dist.get("modified_files") is not None:
                dist["modified_files"] = tuple(dist["modified_files"])
            distributions.append(Distribution(**dist))
        accel = dict(document.get("accelerators") or {})
        accel["gpus"] = tuple(accel.get("gpus", ()))
        return cls(
            interpreter=Interpreter(**interpreter),
            platform=Platform(**platform),
            distributions=tuple(distributions),
            native=tuple(NativeLibrary(**n) for n in document.get("native", ())),
            accelerators=Accelerators(**accel),
            numerics=dict(document.get("numerics") or {}),
            deep=bool(document.get("deep", False)),
            skipped=tuple(Skipped(**skip) for skip in document.get("skipped", ())),
        )

    def to_record(self) -> StoredRecord:
        return StoredRecord(ENV_KIND, ENV_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> Environment:
        return cls.from_dict(record.body_of(ENV_KIND, ENV_FORMAT, "environment record"))

    @property
    def id(self) -> str:
        return self.to_record().id

    def to_document(self) -> dict[str, Any]:
        """The fingerprint document: the record (kind, format, body) and its id, one shape for
        every file and ``--json`` output that holds an environment."""
        record = self.to_record()
        return {"id": record.id, **record.to_dict()}


def environment_references(body: Mapping[str, Any]) -> list[Reference]:
    """Per distribution: the VCS commit it was installed from, the archive's hash and the digest
    of its RECORD file (digests of files outside Parity's stores, declared all the same)."""
    found: list[Reference] = []
    for index, item in enumerate(list_at(body, "distributions")):
        where = f"distributions[{index}]"
        dist = as_object(item, where)
        source = as_object(dist.get("source") or {}, f"{where}.source")
        found += referenced(Target.COMMIT, source.get("commit"), f"{where}.source.commit")
        found += referenced(
            Target.CONTENT, source.get("archive_hash"), f"{where}.source.archive_hash"
        )
        found += referenced(Target.CONTENT, dist.get("record_digest"), f"{where}.record_digest")
    return found


ENVIRONMENT_REFERENCES = RecordReferences(ENV_KIND, ENV_FORMAT, environment_references)
