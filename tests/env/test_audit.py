"""audit: offline OSV advisories matched against real environments."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from parity.env.advisories import load_advisories
from tests.conftest import run_parity


def _advisory(identifier: str, package: str, **affected: Any) -> dict[str, Any]:
    return {
        "schema_version": "1.6.0",
        "id": identifier,
        "aliases": [f"CVE-2099-{identifier[-4:]}"],
        "summary": f"a test advisory for {package}",
        "affected": [{"package": {"ecosystem": "PyPI", "name": package}, **affected}],
    }


def _ranges(*events: dict[str, str]) -> dict[str, Any]:
    return {"ranges": [{"type": "ECOSYSTEM", "events": list(events)}]}


def _write(folder: Path, *advisories: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for advisory in advisories:
        (folder / f"{advisory['id']}.json").write_text(json.dumps(advisory))
    return folder


SIX_AFFECTED = _advisory(
    "PYSEC-2099-0001", "six", **_ranges({"introduced": "0"}, {"fixed": "1.17.0"})
)
OTHER = _advisory("GHSA-0000-0000-0002", "not-installed", versions=["1.0"])


def test_a_vulnerable_installed_package_is_listed(venv_drifted: Path, tmp_path: Path) -> None:
    advisories = _write(tmp_path / "osv", SIX_AFFECTED, OTHER)
    result = run_parity(
        "env",
        "audit",
        "--python",
        str(venv_drifted),
        "--advisories",
        str(advisories),
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [
        (f["package"], f["version"], f["advisory"], f["fixed"]) for f in report["findings"]
    ] == [("six", "1.16.0", "PYSEC-2099-0001", ["1.17.0"])]
    assert "vulnerable packages: six" in result.stderr


def test_a_fixed_version_is_not_listed(venv_locked: Path, tmp_path: Path) -> None:
    advisories = _write(tmp_path / "osv", SIX_AFFECTED, OTHER)
    result = run_parity(
        "env", "audit", "--python", str(venv_locked), "--advisories", str(advisories), cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout
    assert "no known vulnerability" in result.stdout


def test_the_osv_all_zip_layout_is_read(venv_drifted: Path, tmp_path: Path) -> None:
    archive = tmp_path / "osv" / "PyPI" / "all.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        for advisory in (SIX_AFFECTED, OTHER):
            bundle.writestr(f"{advisory['id']}.json", json.dumps(advisory))
    for where in (archive, tmp_path / "osv"):
        result = run_parity(
            "env", "audit", "--python", str(venv_drifted), "--advisories", str(where), cwd=tmp_path
        )
        assert result.returncode == 1
        assert "PYSEC-2099-0001" in result.stdout


@pytest.mark.parametrize(
    ("events", "affected", "safe"),
    [
        ([{"introduced": "0"}, {"fixed": "2.0"}], ["0.1", "1.9.9"], ["2.0", "2.1"]),
        ([{"introduced": "1.2"}, {"last_affected": "1.4"}], ["1.2", "1.4"], ["1.1", "1.4.1"]),
        (
            [{"introduced": "1.0"}, {"fixed": "1.1"}, {"introduced": "2.0"}, {"fixed": "2.2"}],
            ["1.0.5", "2.1"],
            ["0.9", "1.5", "2.2"],
        ),
        ([{"introduced": "3.0"}], ["3.0", "9.9"], ["2.9"]),
    ],
)
def test_ecosystem_ranges(
    events: list[dict[str, str]], affected: list[str], safe: list[str], tmp_path: Path
) -> None:
    # Written in reverse: the events are ordered by version when read, as OSV requires.
    advisory = _advisory("PYSEC-2099-0009", "pkg", **_ranges(*reversed(events)))
    found = load_advisories(_write(tmp_path / "osv", advisory))
    assert [v for v in affected if found.affecting("pkg", v)] == affected
    assert [v for v in safe if found.affecting("pkg", v)] == []


def test_listed_versions_and_withdrawn_advisories(tmp_path: Path) -> None:
    withdrawn = {
        **_advisory("GHSA-0000-0000-0003", "six", versions=["1.16.0"]),
        "withdrawn": "2099-01-01T00:00:00Z",
    }
    listed = _advisory("GHSA-0000-0000-0004", "Six", versions=["1.16.0"])
    advisories = load_advisories(_write(tmp_path / "osv", withdrawn, listed))
    assert [a.advisory.id for a in advisories.affecting("six", "1.16.0")] == ["GHSA-0000-0000-0004"]
    assert advisories.affecting("six", "1.17.0") == []


def test_a_broken_advisory_file_is_bad_input(tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "broken.json").write_text("{not json")
    result = run_parity("env", "audit", "--advisories", str(folder), cwd=tmp_path)
    assert result.returncode == 2
    assert "is not an OSV JSON document" in result.stderr


def test_audit_all_names_the_models_aliases_and_runs_of_a_vulnerable_environment(
    served_workspace: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import parity
    from parity.env.records import load_environment
    from parity.registry.loading import read_model_record

    monkeypatch.chdir(tmp_path)  # no git repository: the run records no code state
    with parity.start_run(experiment="audit", workspace=served_workspace) as run:
        run_id = run.id
    version = served_workspace.registry.resolve("bc@production")

    record = read_model_record(served_workspace.records, version.model_id)
    environment = load_environment(served_workspace.records, record.environment_id)
    numpy = environment.distribution("numpy")
    assert numpy is not None
    advisory = _advisory("PYSEC-2099-0005", "numpy", versions=[numpy.version])
    advisories = _write(tmp_path / "osv", advisory)
    root = served_workspace.root
    result = run_parity("env", "audit", "--all", "--advisories", str(advisories), cwd=root)
    assert result.returncode == 1
    used_by = f"(used by bc/1 @production, run {run_id[:8]})"  # its shortest unique prefix
    assert f"environment {environment.id[:12]} {used_by}" in result.stdout
    assert "PYSEC-2099-0005" in result.stdout
    report = json.loads(
        run_parity(
            "env", "audit", "--all", "--advisories", str(advisories), "--json", cwd=root
        ).stdout
    )
    assert report["vulnerable"][0]["used_by"] == [
        {"kind": "model", "ref": "bc/1", "environment": environment.id, "aliases": ["production"]},
        {"kind": "run", "ref": run_id, "environment": environment.id, "aliases": []},
    ]
    clean = _write(tmp_path / "clean", OTHER)
    assert run_parity("env", "audit", "--all", "--advisories", str(clean), cwd=root).returncode == 0


def test_help_and_a_missing_file_say_where_the_advisories_come_from(tmp_path: Path) -> None:
    url = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
    shown = run_parity("env", "audit", "--help", cwd=tmp_path)
    assert url in shown.stdout
    assert "To refresh it, download that file again" in " ".join(shown.stdout.split())
    missing = run_parity("env", "audit", "--advisories", "osv/all.zip", cwd=tmp_path)
    assert missing.returncode == 3  # not found, as the README says: not click's exit 2
    assert f"no advisory set at osv/all.zip (download {url}" in missing.stderr
