"""Drift detection from profiles: flags real shifts, stays quiet on large unshifted samples."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from parity.core.profile import Profile
from parity.monitor.drift import check_drift
from parity.monitor.profile import profile_frame
from parity.monitor.statistics import ks_statistic

COLUMNS = ("age", "income", "score")


def training_frame(rows: int = 50_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 12, rows),
            "income": rng.lognormal(10, 0.5, rows),
            "score": rng.uniform(0, 1, rows),
            "segment": rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2]),
        }
    )


@pytest.fixture(scope="module")
def profile() -> Profile:
    return profile_frame(training_frame())


def serve_rows(rows: int, seed: int, shift_age_sigma: float = 0.0) -> list[list[Any]]:
    fresh = training_frame(rows, seed)
    fresh["age"] += shift_age_sigma * 12
    return fresh[list(COLUMNS)].to_numpy().tolist()


def test_half_sigma_shift_is_flagged_for_that_feature_only(profile: Profile) -> None:
    report = check_drift(profile, COLUMNS, serve_rows(5_000, seed=7, shift_age_sigma=0.5))
    assert report.drifted == ("age",)
    assert not report.ok
    age = report.features[0]
    # The KS statistic of a 0.5 sigma normal shift is 2*Phi(0.25) - 1 = 0.197.
    assert age.ks == pytest.approx(0.197, abs=0.03)


def test_a_hundred_thousand_unshifted_rows_raise_no_alarm(profile: Profile) -> None:
    report = check_drift(profile, COLUMNS, serve_rows(100_000, seed=11))
    assert report.ok, report.to_dict()
    assert all(f.ks is not None and f.ks < 0.02 for f in report.features)


def test_small_unshifted_samples_stay_under_their_calibrated_noise_floor(profile: Profile) -> None:
    checks = [check_drift(profile, COLUMNS, serve_rows(200, seed=s)) for s in range(60)]
    alarms = sum(len(report.drifted) for report in checks)
    # Each statistic's limit is at least its 99th noise percentile: about 2 % per feature check.
    assert alarms / (60 * len(COLUMNS)) <= 0.05


def test_too_few_rows_is_not_a_verdict(profile: Profile) -> None:
    report = check_drift(profile, COLUMNS, serve_rows(20, seed=3, shift_age_sigma=3))
    assert not report.enough_rows
    assert report.ok
    assert "at least 100 are needed" in report.to_markdown("bc@production")


def test_every_feature_check_reports_its_time(profile: Profile) -> None:
    # How long a check takes is measured by benchmarks/monitor.py, never asserted in a test.
    report = check_drift(profile, COLUMNS, serve_rows(1_000, seed=5))
    assert tuple(f.name for f in report.features) == COLUMNS
    assert all(math.isfinite(f.milliseconds) and f.milliseconds >= 0 for f in report.features)
    reported = [f["milliseconds"] for f in report.to_dict()["features"]]
    assert reported == [round(f.milliseconds, 3) for f in report.features]


def test_profile_round_trips_as_a_record(profile: Profile) -> None:
    again = Profile.from_record(profile.to_record())
    assert again == profile
    assert again.to_record().id == profile.to_record().id
    segment = again.column("segment")
    assert segment is not None
    assert sum(segment.frequencies.values()) == pytest.approx(1.0)  # type: ignore[union-attr]


def test_ks_from_the_grid_matches_the_exact_statistic() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=200_000)
    sample = rng.normal(0.3, 1.0, size=3_000)
    grid = np.quantile(reference, np.linspace(0, 1, 1001))
    from scipy.stats import ks_2samp

    exact = ks_2samp(reference, sample).statistic
    assert ks_statistic(grid, sample) == pytest.approx(exact, abs=0.003)


def test_markdown_report_names_the_drifted_feature(profile: Profile) -> None:
    report = check_drift(profile, COLUMNS, serve_rows(2_000, seed=9, shift_age_sigma=1.0))
    text = report.to_markdown("bc@production")
    assert "drift in age" in text
    assert "| age |" in text


def test_ks_reads_both_sides_of_each_grid_point_so_ties_cannot_hide_a_gap() -> None:
    rng = np.random.default_rng(3)
    grid = np.round(np.quantile(rng.normal(size=2_000), np.linspace(0, 1, 101)), 1)
    sample = np.round(rng.normal(loc=0.3, size=3_000), 1)  # many values equal to grid points
    probabilities = np.linspace(0, 1, len(grid))
    direct = max(
        max(abs(np.mean(sample < q) - p), abs(np.mean(sample <= q) - p))
        for q, p in zip(grid, probabilities, strict=True)
    )
    assert ks_statistic(grid, sample) == pytest.approx(direct, abs=1e-12)


def test_rows_that_are_not_the_model_s_input_are_left_out_not_a_crash(profile: Profile) -> None:
    # What a server was sent by some client: rows of another width, text and lists where
    # numbers belong. The check counts only rows of the model's width; odd values are missing.
    good = serve_rows(300, seed=9, shift_age_sigma=0.5)
    odd: list[Any] = [[1.0, 2.0], [1.0, 2.0, 3.0, 4.0], "x", [[1, 2], 3.0, 0.5]]
    good[0][1] = "a lot"
    good[1][2] = None
    report = check_drift(profile, COLUMNS, [*good, *odd])
    assert report.rows == 301  # the 300, and the last odd row: it has the model's width
    assert report.drifted == ("age",)
    # Each column lost one value to a missing one and gained one from the odd row (a list
    # in place of age is missing there too).
    assert [f.rows for f in report.features] == [300, 300, 300]
