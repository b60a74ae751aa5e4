"""Keeping unchanged distributions between captures gives the environment a full capture gives,
and reads again every distribution that changed, was written too recently to trust, or is an
editable install."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from parity.env import probe
from parity.env.capture import capture
from parity.env.kept_distributions import KeptDistributions, capture_here, kept_file

HOUR_AGO_NS = time.time_ns() - 3600 * 10**9


def _dist(site: Path, name: str, version: str, *, pth: bool = False, age_ns: int = 0) -> Path:
    folder = site / f"{name}-{version}.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (folder / "WHEEL").write_text("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    record = f"{name}/__init__.py,sha256=abc,10\n{folder.name}/RECORD,,\n"
    if pth:
        record += f"__editable__.{name}.pth,sha256=def,20\n"
    (folder / "RECORD").write_text(record)
    stamp = age_ns or HOUR_AGO_NS
    for path in [*folder.iterdir(), folder]:
        os.utime(path, ns=(stamp, stamp))
    return folder


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.setattr(probe, "search_path", lambda: [str(folder)])
    return folder


def _versions(cache: Path) -> dict[str, str]:
    memo = KeptDistributions(kept_file(cache))
    found = {str(d["name"]): str(d["version"]) for d in probe.distributions(read=memo.read)}
    memo.save()
    return found


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The entries read from disk from now on (kept ones are not)."""
    read: list[str] = []
    real = probe.read_distribution

    def counting(site: str, entry: str, deep: bool = False) -> dict[str, object] | None:
        read.append(entry)
        return real(site, entry, deep)

    monkeypatch.setattr(probe, "read_distribution", counting)
    return read


def test_unchanged_distributions_are_kept_and_changed_ones_read_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    _dist(site, "alpha", "1.0")
    beta = _dist(site, "beta", "2.0")
    assert _versions(cache) == {"alpha": "1.0", "beta": "2.0"}
    read = _reads(monkeypatch)
    assert _versions(cache) == {"alpha": "1.0", "beta": "2.0"}
    assert read == []  # both kept
    # An upgrade in place: METADATA rewritten (new size and mtime), same folder.
    (beta / "METADATA").write_text("Metadata-Version: 2.1\nName: beta\nVersion: 2.10\n")
    os.utime(beta / "METADATA", ns=(HOUR_AGO_NS + 1, HOUR_AGO_NS + 1))
    assert _versions(cache) == {"alpha": "1.0", "beta": "2.10"}
    assert read == ["beta-2.0.dist-info"]
    # A package installed and one removed.
    _dist(site, "gamma", "0.1")
    for path in sorted(site.glob("alpha-1.0.dist-info/*")):
        path.unlink()
    (site / "alpha-1.0.dist-info").rmdir()
    read.clear()
    assert _versions(cache) == {"beta": "2.10", "gamma": "0.1"}
    assert read == ["gamma-0.1.dist-info"]


def test_recent_and_editable_distributions_are_always_read(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    _dist(site, "fresh", "1.0", age_ns=time.time_ns())
    _dist(site, "editable", "0.3", pth=True)
    _dist(site, "settled", "5.0")
    _versions(cache)
    read = _reads(monkeypatch)
    _versions(cache)
    assert sorted(read) == ["editable-0.3.dist-info", "fresh-1.0.dist-info"]


def test_what_cannot_be_kept_only_means_reading_everything(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dist(site, "alpha", "1.0")
    unreadable = tmp_path / "cache"
    kept_file(unreadable).parent.mkdir(parents=True)
    kept_file(unreadable).write_text("{not json")
    assert _versions(unreadable) == {"alpha": "1.0"}
    assert _versions(unreadable) == {"alpha": "1.0"}  # and the broken file was replaced
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # the cache folder cannot be created under a file
    assert _versions(blocked / "cache") == {"alpha": "1.0"}


def test_a_kept_capture_is_the_capture_of_this_interpreter(tmp_path: Path) -> None:
    first = capture_here(tmp_path)
    assert kept_file(tmp_path).is_file()
    again = capture_here(tmp_path)
    fresh = capture()
    assert again.to_dict() == fresh.to_dict() == first.to_dict()
