"""How much each difference between two environments matters: the one table of risk rules.

``diff_environments(expected, actual)`` compares the environment a model was made in (expected)
with the one it would run in (actual) and rates every difference high / medium / low / info
with a one-line reason. The rules are data (``RULES``), documented in docs/environment.md, and
pure: no I/O, so any two records can be compared anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from packaging.version import InvalidVersion, Version

from parity.core.environment import Distribution, Environment
from parity.core.errors import UsageError


class Risk(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @classmethod
    def parse(cls, text: str) -> Risk:
        try:
            return cls[text.upper()]
        except KeyError:
            raise UsageError(
                f"unknown risk level {text!r}", hint="use high, medium, low or info"
            ) from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Difference:
    subject: str  # "python", "package scikit-learn", "blas", "env OMP_NUM_THREADS" …
    rule: str  # the RULES key that rated it
    expected: str | None
    actual: str | None
    risk: Risk
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "rule": self.rule,
            "expected": self.expected,
            "actual": self.actual,
            "risk": str(self.risk),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class EnvDiff:
    expected_id: str
    actual_id: str
    differences: tuple[Difference, ...]

    @property
    def identical(self) -> bool:
        return not self.differences

    def at_or_above(self, threshold: Risk) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.risk >= threshold)

    @property
    def highest(self) -> Risk | None:
        return max((d.risk for d in self.differences), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected_id,
            "actual": self.actual_id,
            "differences": [d.to_dict() for d in self.differences],
        }


# The rules: key -> (risk, reason). Every Difference names the key that rated it.
RULES: Mapping[str, tuple[Risk, str]] = {
    "python.implementation": (Risk.HIGH, "another Python implementation"),
    "python.minor": (
        Risk.HIGH,
        "another Python minor version: compiled extensions and pickles break",
    ),
    "python.patch": (Risk.LOW, "another Python patch release"),
    "platform.system": (Risk.HIGH, "another operating system"),
    "platform.machine": (Risk.HIGH, "another CPU architecture: native code cannot run"),
    "platform.libc_family": (
        Risk.HIGH,
        "another C library (glibc vs musl): wheels are not compatible",
    ),
    "platform.libc_version": (Risk.MEDIUM, "another C library version"),
    "platform.os_release": (Risk.LOW, "another OS release"),
    "platform.kernel": (Risk.INFO, "another kernel"),
    "platform.cpu_flags": (Risk.MEDIUM, "the CPU lacks instruction sets the expected one had"),
    "platform.cpu": (Risk.INFO, "another CPU model or core count"),
    "package.missing": (Risk.HIGH, "a package the environment had is missing"),
    "package.native.major_minor": (
        Risk.HIGH,
        "another major/minor version of a package with native code",
    ),
    "package.native.patch": (Risk.MEDIUM, "another patch version of a package with native code"),
    "package.pure.major": (Risk.HIGH, "another major version"),
    "package.pure.minor": (Risk.MEDIUM, "another minor version of a pure-Python package"),
    "package.pure.patch": (Risk.LOW, "another patch version of a pure-Python package"),
    "package.local_label": (
        Risk.HIGH,
        "same version, another build (local label, e.g. +cu121 vs +cpu)",
    ),
    "package.wheel": (Risk.HIGH, "same version, another binary build (wheel tags differ)"),
    "package.source": (Risk.MEDIUM, "same version, installed from another source or commit"),
    "package.files": (Risk.LOW, "same version, but its list of installed files differs"),
    "package.modified": (Risk.HIGH, "installed files were modified after installation"),
    "package.extra": (Risk.INFO, "a package only the actual environment has"),
    "package.not_imported": (Risk.INFO, "differs, but the code did not import it"),
    "package.excluded": (Risk.INFO, "left out of the export on purpose (--exclude)"),
    "native.blas_vendor": (
        Risk.MEDIUM,
        "another BLAS/OpenMP vendor: results can differ in the last bits",
    ),
    "native.version": (Risk.LOW, "another BLAS/OpenMP library version"),
    "native.threads": (Risk.LOW, "another thread count for BLAS/OpenMP"),
    "cuda.runtime_major": (Risk.HIGH, "another CUDA major version"),
    "cuda.runtime_minor": (Risk.MEDIUM, "another CUDA minor version"),
    "cuda.driver_too_old": (
        Risk.HIGH,
        "the CUDA runtime is newer than the NVIDIA driver supports",
    ),
    "cuda.missing": (Risk.HIGH, "CUDA was available and is not"),
    "cuda.cudnn": (Risk.MEDIUM, "another cuDNN version"),
    "cuda.driver": (Risk.LOW, "another NVIDIA driver version"),
    "cuda.gpus": (Risk.INFO, "other GPU models"),
    "numerics.threads": (Risk.LOW, "another thread-count setting"),
    "numerics.determinism": (Risk.MEDIUM, "another setting that changes numerical determinism"),
    "numerics.locale": (Risk.LOW, "another locale or time zone"),
}

THREAD_VARIABLES = {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}
LOCALE_VARIABLES = {"TZ", "LANG", "LC_ALL"}

# The Linux driver each CUDA release shipped with: the oldest that supports it in full (NVIDIA's
# CUDA release notes, "CUDA Toolkit and Corresponding Driver Versions"). An older driver of the
# same major line may still load the runtime (minor-version compatibility), but without PTX JIT
# kernels built for newer GPUs fail at run time, so it counts as "newer than the driver supports".
CUDA_DRIVER = {
    (10, 0): "410.48",
    (10, 1): "418.39",
    (10, 2): "440.33",
    (11, 0): "450.36.06",
    (11, 1): "455.23",
    (11, 2): "460.27.03",
    (11, 3): "465.19.01",
    (11, 4): "470.42.01",
    (11, 5): "495.29.05",
    (11, 6): "510.39.01",
    (11, 7): "515.43.04",
    (11, 8): "520.61.05",
    (12, 0): "525.60.13",
    (12, 1): "530.30.02",
    (12, 2): "535.54.03",
    (12, 3): "545.23.06",
    (12, 4): "550.54.14",
    (12, 5): "555.42.02",
    (12, 6): "560.28.03",
    (12, 8): "570.26",
    (12, 9): "575.51.03",
    (13, 0): "580.65.06",
}


def minimum_driver(cuda_runtime: str | None) -> Version | None:
    """The oldest driver that fully supports ``cuda_runtime`` ("12.4" -> 550.54.14).

    A release newer than the table needs at least the newest driver listed for its major line.
    """
    runtime = _version(cuda_runtime)
    if runtime is None:
        return None
    wanted = (runtime.major, runtime.minor)
    known = [release for release in CUDA_DRIVER if release <= wanted and release[0] == wanted[0]]
    return _version(CUDA_DRIVER[max(known)]) if known else None


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def _rate(rule: str, subject: str, expected: object, actual: object) -> Difference:
    risk, reason = RULES[rule]
    return Difference(
        subject,
        rule,
        None if expected is None else str(expected),
        None if actual is None else str(actual),
        risk,
        reason,
    )


def _algorithm(digest: str) -> str:
    # Digests made with different algorithms (older records used sha256) cannot be compared.
    return digest.partition(":")[0]


def _package_rule(expected: Distribution, actual: Distribution) -> str | None:
    a, b = _version(expected.version), _version(actual.version)
    native = expected.pure is False or actual.pure is False
    if a is not None and b is not None and a.public != b.public:
        if a.major != b.major:
            return "package.native.major_minor" if native else "package.pure.major"
        if a.minor != b.minor:
            return "package.native.major_minor" if native else "package.pure.minor"
        return "package.native.patch" if native else "package.pure.patch"
    if expected.version != actual.version:
        if a is not None and b is not None and a.local != b.local:
            return "package.local_label"
        return "package.native.major_minor" if native else "package.pure.minor"
    if (
        expected.wheel_tags
        and actual.wheel_tags
        and set(expected.wheel_tags).isdisjoint(actual.wheel_tags)
        and native
    ):
        return "package.wheel"
    same_source = (expected.source.kind, expected.source.commit) == (
        actual.source.kind,
        actual.source.commit,
    )
    if not same_source and "index" not in (expected.source.kind, actual.source.kind):
        return "package.source"
    if expected.source.commit != actual.source.commit:
        return "package.source"
    if (
        expected.record_digest
        and actual.record_digest
        and _algorithm(expected.record_digest) == _algorithm(actual.record_digest)
        and expected.record_digest != actual.record_digest
    ):
        return "package.files"
    return None


def _packages(
    expected: Environment,
    actual: Environment,
    imported: frozenset[str] | None,
    excluded: frozenset[str],
) -> Iterable[Difference]:
    theirs = {d.name: d for d in actual.distributions}
    mine = {d.name: d for d in expected.distributions}

    def rated(rule: str, name: str, old: object, new: object) -> Difference:
        base = _rate(rule, f"package {name}", old, new)
        # The rule that found the difference stays named; these two only lower its risk.
        if name in excluded:
            lowered = "package.excluded"
        elif imported is not None and name not in imported and rule != "package.extra":
            lowered = "package.not_imported"
        else:
            return base
        risk, reason = RULES[lowered]
        return Difference(
            base.subject, base.rule, base.expected, base.actual, risk, f"{base.reason}; {reason}"
        )

    for name, dist in mine.items():
        other = theirs.get(name)
        if other is None:
            yield rated("package.missing", name, dist.version, None)
            continue
        rule = _package_rule(dist, other)
        if rule is not None:
            yield rated(rule, name, dist.version, other.version)
        for side in (other, dist):
            if side.modified_files:
                shown = ", ".join(side.modified_files[:3])
                yield rated("package.modified", name, dist.version, f"modified: {shown}")
                break
    for name in sorted(set(theirs) - set(mine)):
        yield rated("package.extra", name, None, theirs[name].version)


def _interpreter(expected: Environment, actual: Environment) -> Iterable[Difference]:
    a, b = expected.interpreter, actual.interpreter
    if a.implementation != b.implementation:
        yield _rate("python.implementation", "python", a.implementation, b.implementation)
    if a.minor != b.minor:
        yield _rate("python.minor", "python", a.version, b.version)
    elif a.version != b.version:
        yield _rate("python.patch", "python", a.version, b.version)


def _platform(expected: Environment, actual: Environment) -> Iterable[Difference]:
    a, b = expected.platform, actual.platform
    for field, rule in (
        ("system", "platform.system"),
        ("machine", "platform.machine"),
        ("libc_family", "platform.libc_family"),
        ("libc_version", "platform.libc_version"),
        ("os_release", "platform.os_release"),
        ("kernel", "platform.kernel"),
    ):
        if getattr(a, field) != getattr(b, field):
            yield _rate(rule, field.replace("_", " "), getattr(a, field), getattr(b, field))
    lost = sorted(set(a.cpu_flags) - set(b.cpu_flags))
    if lost:
        yield _rate("platform.cpu_flags", "cpu flags", " ".join(lost), "missing")
    if (a.cpu_model, a.cpu_count) != (b.cpu_model, b.cpu_count):
        yield _rate(
            "platform.cpu", "cpu", f"{a.cpu_model} x{a.cpu_count}", f"{b.cpu_model} x{b.cpu_count}"
        )


def _native(expected: Environment, actual: Environment) -> Iterable[Difference]:
    for api in ("blas", "openmp"):
        a = {n.internal_api: n for n in expected.native if n.user_api == api}
        b = {n.internal_api: n for n in actual.native if n.user_api == api}
        if a and set(a) != set(b):
            yield _rate("native.blas_vendor", api, ",".join(sorted(a)), ",".join(sorted(b)) or None)
            continue
        for vendor, lib in a.items():
            other = b.get(vendor)
            if other is None:
                continue
            if lib.version and other.version and lib.version != other.version:
                yield _rate("native.version", f"{api} {vendor}", lib.version, other.version)
            if lib.num_threads and other.num_threads and lib.num_threads != other.num_threads:
                yield _rate(
                    "native.threads", f"{api} {vendor} threads", lib.num_threads, other.num_threads
                )


def _cuda(expected: Environment, actual: Environment) -> Iterable[Difference]:
    a, b = expected.accelerators, actual.accelerators
    if a.cuda_runtime and not b.cuda_runtime:
        yield _rate("cuda.missing", "cuda", a.cuda_runtime, None)
    elif a.cuda_runtime and b.cuda_runtime and a.cuda_runtime != b.cuda_runtime:
        va, vb = _version(a.cuda_runtime), _version(b.cuda_runtime)
        major_differs = va is None or vb is None or va.major != vb.major
        yield _rate(
            "cuda.runtime_major" if major_differs else "cuda.runtime_minor",
            "cuda",
            a.cuda_runtime,
            b.cuda_runtime,
        )
    minimum = minimum_driver(b.cuda_runtime)
    driver = _version(b.nvidia_driver)
    if minimum is not None and driver is not None and driver < minimum:
        yield _rate("cuda.driver_too_old", "nvidia driver", f">= {minimum}", b.nvidia_driver)
    if a.cudnn != b.cudnn and (a.cudnn or b.cudnn):
        yield _rate("cuda.cudnn", "cudnn", a.cudnn, b.cudnn)
    if a.nvidia_driver and b.nvidia_driver and a.nvidia_driver != b.nvidia_driver:
        yield _rate("cuda.driver", "nvidia driver", a.nvidia_driver, b.nvidia_driver)
    if a.gpus != b.gpus and (a.gpus or b.gpus):
        yield _rate("cuda.gpus", "gpus", ", ".join(a.gpus) or None, ", ".join(b.gpus) or None)


def _numerics(expected: Environment, actual: Environment) -> Iterable[Difference]:
    for name in sorted(set(expected.numerics) | set(actual.numerics)):
        old, new = expected.numerics.get(name), actual.numerics.get(name)
        if old == new:
            continue
        if name in THREAD_VARIABLES:
            rule = "numerics.threads"
        elif name in LOCALE_VARIABLES:
            rule = "numerics.locale"
        else:
            rule = "numerics.determinism"
        yield _rate(rule, f"env {name}", old, new)


CHECKS: tuple[Callable[[Environment, Environment], Iterable[Difference]], ...] = (
    _interpreter,
    _platform,
    _native,
    _cuda,
    _numerics,
)


def diff_environments(
    expected: Environment,
    actual: Environment,
    imported: Iterable[str] | None = None,
    excluded: Iterable[str] = (),
) -> EnvDiff:
    """Every difference between ``expected`` and ``actual``, riskiest first.

    ``imported``, when known, names the distributions the code imported: package differences
    outside it drop to info. ``excluded`` names (normalized) distributions an export left out on
    purpose (``--exclude``): whatever became of them drops to info too.
    """
    names = frozenset(imported) if imported is not None else None
    found = [d for check in CHECKS for d in check(expected, actual)]
    found.extend(_packages(expected, actual, names, frozenset(excluded)))
    found.sort(key=lambda d: (-d.risk, d.subject))
    return EnvDiff(expected.id, actual.id, tuple(found))
