"""Each risk rule, on small hand-made environments."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from parity.core.env_rules import RULES, Risk, diff_environments
from parity.core.environment import (
    Accelerators,
    Distribution,
    Environment,
    Interpreter,
    NativeLibrary,
    Platform,
    Source,
)


def dist(name: str, version: str, pure: bool = True, **changes: object) -> Distribution:
    base = Distribution(
        name,
        version,
        "pip",
        True,
        Source("index"),
        ("py3-none-any",) if pure else ("cp311-cp311-manylinux_2_17_x86_64",),
        pure,
        "sha256:aa",
        (name.replace("-", "_"),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


BASE = Environment(
    interpreter=Interpreter("cpython", "3.11.7", "cpython-311", (), "/v", "/usr", True),
    platform=Platform(
        "Linux", "6.1", "Debian 12", "glibc", "2.36", "x86_64", "Xeon", ("avx2", "avx512f"), 8, 8
    ),
    distributions=(dist("numpy", "2.1.0", pure=False), dist("requests", "2.32.3")),
    native=(
        NativeLibrary("blas", "openblas", "0.3.27", 8, "pthreads", "Haswell", "libopenblas.so"),
    ),
    accelerators=Accelerators("550.54.14", "12.4", "9.1", ("A100",)),
    numerics={"OMP_NUM_THREADS": "8"},
)


def changed(**fields: object) -> Environment:
    return dataclasses.replace(BASE, **fields)  # type: ignore[arg-type]


def with_dists(*dists: Distribution) -> Environment:
    return changed(distributions=dists)


CASES = [
    (changed(interpreter=dataclasses.replace(BASE.interpreter, version="3.12.1")), "python.minor"),
    (changed(interpreter=dataclasses.replace(BASE.interpreter, version="3.11.9")), "python.patch"),
    (changed(platform=dataclasses.replace(BASE.platform, machine="aarch64")), "platform.machine"),
    (
        changed(platform=dataclasses.replace(BASE.platform, libc_family="musl")),
        "platform.libc_family",
    ),
    (
        changed(platform=dataclasses.replace(BASE.platform, cpu_flags=("avx2",))),
        "platform.cpu_flags",
    ),
    (with_dists(dist("requests", "2.32.3")), "package.missing"),
    (
        with_dists(dist("numpy", "2.2.0", pure=False), dist("requests", "2.32.3")),
        "package.native.major_minor",
    ),
    (
        with_dists(dist("numpy", "2.1.1", pure=False), dist("requests", "2.32.3")),
        "package.native.patch",
    ),
    (
        with_dists(dist("numpy", "2.1.0", pure=False), dist("requests", "3.0.0")),
        "package.pure.major",
    ),
    (
        with_dists(dist("numpy", "2.1.0", pure=False), dist("requests", "2.33.0")),
        "package.pure.minor",
    ),
    (
        with_dists(dist("numpy", "2.1.0", pure=False), dist("requests", "2.32.4")),
        "package.pure.patch",
    ),
    (
        with_dists(dist("numpy", "2.1.0+cu121", pure=False), dist("requests", "2.32.3")),
        "package.local_label",
    ),
    (
        with_dists(
            dist("numpy", "2.1.0", pure=False, wheel_tags=("cp311-cp311-win_amd64",)),
            dist("requests", "2.32.3"),
        ),
        "package.wheel",
    ),
    (
        with_dists(
            dist("numpy", "2.1.0", pure=False),
            dist("requests", "2.32.3", source=Source("vcs", "https://g/r.git", "abc", "git")),
        ),
        "package.source",
    ),
    (
        with_dists(
            dist("numpy", "2.1.0", pure=False),
            dist("requests", "2.32.3", record_digest="sha256:bb"),
        ),
        "package.files",
    ),
    (
        with_dists(
            dist("numpy", "2.1.0", pure=False, modified_files=("numpy/x.py",)),
            dist("requests", "2.32.3"),
        ),
        "package.modified",
    ),
    (with_dists(*BASE.distributions, dist("extra", "1.0")), "package.extra"),
    (
        changed(native=(NativeLibrary("blas", "mkl", "2024.1", 8, "intel", None, "libmkl_rt.so"),)),
        "native.blas_vendor",
    ),
    (changed(native=(dataclasses.replace(BASE.native[0], num_threads=2),)), "native.threads"),
    (
        changed(accelerators=Accelerators("550.54.14", "11.8", "9.1", ("A100",))),
        "cuda.runtime_major",
    ),
    (
        changed(accelerators=Accelerators("470.82.01", "12.4", "9.1", ("A100",))),
        "cuda.driver_too_old",
    ),
    (changed(accelerators=Accelerators(None, None, None, ())), "cuda.missing"),
    (changed(numerics={"OMP_NUM_THREADS": "1"}), "numerics.threads"),
    (changed(numerics={"OMP_NUM_THREADS": "8", "PYTHONHASHSEED": "0"}), "numerics.determinism"),
]


@pytest.mark.parametrize(("actual", "rule"), CASES, ids=[rule for _, rule in CASES])
def test_each_rule_rates_its_difference(actual: Environment, rule: str) -> None:
    result = diff_environments(BASE, actual)
    rules = {d.rule: d for d in result.differences}
    assert rule in rules, [d.rule for d in result.differences]
    assert rules[rule].risk == RULES[rule][0]
    assert rules[rule].reason == RULES[rule][1]


def test_identical_environments_have_no_differences() -> None:
    assert diff_environments(BASE, BASE).identical


def test_riskiest_first() -> None:
    actual = with_dists(dist("numpy", "2.2.0", pure=False), dist("requests", "2.32.4"))
    risks = [d.risk for d in diff_environments(BASE, actual).differences]
    assert risks == sorted(risks, reverse=True)
    assert risks[0] == Risk.HIGH


def test_packages_the_code_did_not_import_drop_to_info() -> None:
    actual = with_dists(dist("numpy", "2.1.0", pure=False))  # requests missing
    narrowed = diff_environments(BASE, actual, imported={"numpy"})
    (missing,) = [d for d in narrowed.differences if d.subject == "package requests"]
    assert missing.risk == Risk.INFO
    assert "did not import" in missing.reason


def test_every_rule_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "environment.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", docs, re.M))
    assert documented == set(RULES)
