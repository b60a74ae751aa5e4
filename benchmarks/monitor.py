"""Drift monitoring: Parity's check from a stored profile vs Evidently and a hand-rolled scipy.

One seeded training table (numeric features: normal, log-normal and uniform in turn) and one
production sample drawn the same way with one normal feature shifted by 0.5 of its training
standard deviation. Parity profiles the training table once (``profile_frame``: quantile grid,
fixed PSI bins, calibrated noise floors), stores the profile as a record, and checks the sample
against the loaded profile (``check_drift``: KS and PSI per feature) without the training data.
Users otherwise run Evidently's data drift report (``DataDriftPreset``, with its KS test, its PSI
and its default method) over the raw reference table, or hand-roll ``scipy.stats.ks_2samp`` plus
a PSI whose quantile bins are recomputed from the reference on every check. The three run in
turn, round after round, on the same data (Evidently in its own venv on Parquet copies of it).

    python -m benchmarks monitor     (PARITY_BENCH_ROWS=20000 and PARITY_BENCH_ROUNDS=1 to debug)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._support import clean_env, table, tool_venv

ROWS = int(os.environ.get("PARITY_BENCH_ROWS", "100000"))
SAMPLE_ROWS = int(os.environ.get("PARITY_BENCH_SAMPLE_ROWS", "10000"))
ROUNDS = int(os.environ.get("PARITY_BENCH_ROUNDS", "3"))
REPEAT = 7  # checks per round for the in-process tools (Evidently: one per method per round)
FEATURES = 30
SHIFTED = "f12"  # a normal feature (index divisible by 3)
SHIFT_SIGMAS = 0.5
# What a hand-rolled check (and Evidently by default) flags on: KS p-value and PSI.
P_VALUE = 0.05
PSI_LIMIT = 0.1
EVIDENTLY = ("evidently==0.7.23", "pandas==2.3.3", "pyarrow==26.0.1")  # pandas 3 breaks 0.7.23
EVIDENTLY_SCRIPT = """
import json, statistics, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

reference_path, sample_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
started = time.perf_counter()
reference = pd.read_parquet(reference_path)
read_s = time.perf_counter() - started
sample = pd.read_parquet(sample_path)

def run(method, current, ref):
    report = Report([DataDriftPreset(method=method)], include_tests=True)
    started = time.perf_counter()
    snapshot = report.run(current, ref)
    seconds = time.perf_counter() - started
    flagged = sorted(
        test["metric_config"]["params"]["column"]
        for test in snapshot.dict()["tests"]
        if test["id"] == "drift" and test["status"] == "FAIL"
    )
    return seconds, flagged

out = {"read_reference_s": read_s}
for method in ("ks", "psi", None):
    run(method, sample.iloc[:500], reference.iloc[:2000])  # imports and first-call set-up
    times, flagged = [], []
    for _ in range(repeat):
        seconds, flagged = run(method, sample, reference)
        times.append(seconds)
    out[method or "default"] = {"seconds": statistics.median(times), "flagged": flagged}
print(json.dumps(out))
"""


def make_tables(rows: int, sample_rows: int, seed: int = 20261201) -> tuple[Any, Any]:
    import pandas as pd

    def draw(rng: np.random.Generator, n: int) -> Any:
        columns = {}
        for i in range(FEATURES):
            if i % 3 == 0:
                columns[f"f{i:02d}"] = rng.normal(10.0 * i, 1.0 + i / 10, n)
            elif i % 3 == 1:
                columns[f"f{i:02d}"] = rng.lognormal(0.0, 0.5, n)
            else:
                columns[f"f{i:02d}"] = rng.uniform(0.0, 1.0 + i, n)
        return pd.DataFrame(columns)

    training = draw(np.random.default_rng(seed), rows)
    sample = draw(np.random.default_rng(seed + 1), sample_rows)
    sample[SHIFTED] += SHIFT_SIGMAS * training[SHIFTED].std()
    return training, sample


def parity_check(stored: bytes, columns: tuple[str, ...], rows: list[list[Any]]) -> Any:
    """Load the stored profile and check the logged rows: what `parity monitor drift` does."""
    from parity.core.profile import Profile
    from parity.core.records import StoredRecord
    from parity.monitor.drift import check_drift

    return check_drift(Profile.from_record(StoredRecord.from_bytes(stored)), columns, rows)


def scipy_check(training: Any, sample: Any) -> dict[str, tuple[float, float, float, float]]:
    """Per feature: (milliseconds, KS statistic, KS p-value, PSI) over the raw reference data."""
    from scipy.stats import ks_2samp

    results = {}
    for name in training.columns:
        started = time.perf_counter()
        reference, current = training[name].to_numpy(), sample[name].to_numpy()
        ks = ks_2samp(reference, current)
        edges = np.quantile(reference, np.linspace(0.0, 1.0, 11)[1:-1])
        expected = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=10)
        actual = np.bincount(np.searchsorted(edges, current, side="right"), minlength=10)
        e = np.maximum(expected / len(reference), 1e-4)
        a = np.maximum(actual / len(current), 1e-4)
        index = float(np.sum((a - e) * np.log(a / e)))
        elapsed = (time.perf_counter() - started) * 1000
        results[name] = (elapsed, float(ks.statistic), float(ks.pvalue), index)
    return results


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    from parity.core.profile import Profile
    from parity.core.records import StoredRecord
    from parity.monitor.profile import profile_frame

    evidently_python: Path | None
    try:
        evidently_python = tool_venv("evidently", *EVIDENTLY)
    except subprocess.CalledProcessError as exc:
        print(f"Evidently did not install ({exc}); measuring Parity and scipy only")
        evidently_python = None
    print(f"load before: {load_average()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="parity-bench-monitor-"))
    training, sample = make_tables(ROWS, SAMPLE_ROWS)
    training.to_parquet(work / "training.parquet")
    sample.to_parquet(work / "sample.parquet")
    columns = tuple(str(c) for c in training.columns)
    rows = sample.to_numpy().tolist()  # logged inputs reach the check as rows

    build_s: list[float] = []
    load_s: list[float] = []
    parity_whole: list[float] = []
    parity_feature: dict[str, list[float]] = {name: [] for name in columns}
    scipy_whole: list[float] = []
    scipy_feature: dict[str, list[float]] = {name: [] for name in columns}
    evidently_runs: list[dict[str, Any]] = []
    parity_report: Any = None
    scipy_result: dict[str, tuple[float, float, float, float]] = {}
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        stored = profile_frame(training, seed=round_).to_record().to_bytes()
        build_s.append(time.perf_counter() - started)
        parity_check(stored, columns, rows)  # warm-up
        for _ in range(REPEAT):
            started = time.perf_counter()
            parity_report = parity_check(stored, columns, rows)
            parity_whole.append(time.perf_counter() - started)
            for feature in parity_report.features:
                parity_feature[feature.name].append(feature.milliseconds)
        started = time.perf_counter()
        Profile.from_record(StoredRecord.from_bytes(stored))
        load_s.append(time.perf_counter() - started)

        scipy_check(training, sample)  # warm-up
        for _ in range(REPEAT):
            started = time.perf_counter()
            scipy_result = scipy_check(training, sample)
            scipy_whole.append(time.perf_counter() - started)
            for name, (ms, *_rest) in scipy_result.items():
                scipy_feature[name].append(ms)

        if evidently_python is not None:
            done = subprocess.run(
                [
                    str(evidently_python),
                    "-c",
                    EVIDENTLY_SCRIPT,
                    str(work / "training.parquet"),
                    str(work / "sample.parquet"),
                    "1",
                ],
                capture_output=True,
                text=True,
                env=clean_env(),
            )
            if done.returncode != 0:
                print(f"Evidently failed:\n{done.stderr[-2000:]}")
                evidently_python = None
            else:
                evidently_runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"round {round_ + 1}/{ROUNDS} done; load: {load_average()}", flush=True)

    assert parity_report is not None
    median = statistics.median
    parity_ms = {name: median(values) for name, values in parity_feature.items()}
    scipy_ms = {name: median(values) for name, values in scipy_feature.items()}
    print(
        f"\n{ROWS:,} training rows x {FEATURES} numeric features; {SAMPLE_ROWS:,} sample rows,"
        f" {SHIFTED} shifted by {SHIFT_SIGMAS} sigma; medians over {ROUNDS} rounds"
        f" ({REPEAT} checks each for Parity and scipy, 1 per method for Evidently)\n"
    )
    per_feature_rows = []
    for name in columns:
        feature = next(f for f in parity_report.features if f.name == name)
        _, ks_stat, p_value, scipy_psi = scipy_result[name]
        per_feature_rows.append(
            (
                name,
                f"{parity_ms[name]:.3f}",
                f"{feature.ks:.4f}",
                f"{feature.psi:.4f}",
                "yes" if feature.drifted else "",
                f"{scipy_ms[name]:.2f}",
                f"{ks_stat:.4f}",
                f"{p_value:.3g}",
                f"{scipy_psi:.4f}",
            )
        )
    print(
        table(
            [
                "feature",
                "Parity ms",
                "Parity KS",
                "Parity PSI",
                "Parity flags",
                "scipy ms",
                "scipy KS",
                "KS p",
                "scipy PSI",
            ],
            per_feature_rows,
        )
    )

    def spread(values: list[float]) -> str:
        return f"{min(values):.3f} / {median(values):.3f} / {max(values):.3f}"

    def flagged_scipy(test: str) -> list[str]:
        if test == "ks":
            return [n for n, r in scipy_result.items() if r[2] < P_VALUE]
        return [n for n, r in scipy_result.items() if r[3] > PSI_LIMIT]

    summary = [
        (
            "Parity: profile the training table (once)",
            f"{median(build_s):.2f} s",
            "",
            "",
        ),
        (
            "Parity: load the stored profile",
            f"{median(load_s) * 1000:.1f} ms",
            "",
            "",
        ),
        (
            "Parity: check_drift from the profile (KS + PSI)",
            f"{median(parity_whole) * 1000:.1f} ms",
            spread(list(parity_ms.values())),
            ", ".join(parity_report.drifted) or "none",
        ),
        (
            f"scipy: ks_2samp + PSI over the raw reference (KS p < {P_VALUE})",
            f"{median(scipy_whole) * 1000:.1f} ms",
            spread(list(scipy_ms.values())),
            ", ".join(flagged_scipy("ks")) or "none",
        ),
        (
            f"scipy: the same (PSI > {PSI_LIMIT})",
            "(same pass)",
            "",
            ", ".join(flagged_scipy("psi")) or "none",
        ),
    ]
    if evidently_runs:
        summary.append(
            (
                "Evidently: read the reference Parquet",
                f"{median(r['read_reference_s'] for r in evidently_runs) * 1000:.0f} ms",
                "",
                "",
            )
        )
        for method, label in (
            ("ks", "KS p < 0.05"),
            ("psi", "PSI >= 0.1"),
            ("default", "default: normed Wasserstein >= 0.1"),
        ):
            seconds = median(r[method]["seconds"] for r in evidently_runs)
            summary.append(
                (
                    f"Evidently {EVIDENTLY[0].split('==')[1]}: DataDriftPreset, {label}",
                    f"{seconds * 1000:.0f} ms",
                    f"{seconds * 1000 / FEATURES:.1f} (whole / {FEATURES})",
                    ", ".join(evidently_runs[-1][method]["flagged"]) or "none",
                )
            )
    else:
        summary.append(("Evidently", "not measured (did not install or run)", "", ""))
    print()
    print(table(["what", "whole check", "per feature ms min / median / max", "flags"], summary))
    print(f"\nload after: {load_average()}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
