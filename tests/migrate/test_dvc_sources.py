"""Reading DVC's files, config and objects as DVC lays them out, without DVC: fast checks of the
formats (DVC 3 and DVC 2), the md5 check, a remote on moto's S3, and the import in process.

The real DVC builds the repositories of ``test_dvc_import.py``; these write the same layout by
hand so each rule can be made to fail on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from parity.api import data, migrate
from parity.api import workspace as workspaces
from parity.cli.main import cli
from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.migrate.dvc.config import read_config
from parity.migrate.dvc.files import read_dvc_file, read_lock_file
from parity.migrate.dvc.objects import DvcObjects
from tests.migrate._handmade import git, handmade_project, md5, put_object


# --- files --------------------------------------------------------------------------------------
def test_a_dvc_file_names_its_outputs_from_its_folder() -> None:
    text = (
        b"wdir: ..\nouts:\n- md5: 7be3d5c8f6ac68289984118ee3b36a1f.dir\n  size: 10\n"
        b"  nfiles: 2\n  hash: md5\n  path: data/images\n"
        b"- md5: f69f5b72bc79a92dc70c63c9aa142e36\n  path: notes.txt\n"
        b"- path: plain.txt\n  cache: false\n  md5: f69f5b72bc79a92dc70c63c9aa142e36\n"
    )
    images, notes = read_dvc_file(text, "sub/images.dvc")
    assert (images.path, images.md5, images.is_dir, images.files) == (
        "data/images",
        "7be3d5c8f6ac68289984118ee3b36a1f",
        True,
        2,
    )
    assert not images.legacy
    assert (notes.path, notes.is_dir, notes.legacy) == ("notes.txt", False, True)


def test_a_dvc_file_naming_a_path_outside_the_repository_is_refused() -> None:
    with pytest.raises(UsageError, match=r"names \.\./\.\./x, outside the repository"):
        read_dvc_file(b"outs:\n- md5: f69f5b72bc79a92dc70c63c9aa142e36\n  path: ../../x\n", "a.dvc")
    with pytest.raises(UsageError, match=r"cannot read a\.dvc"):
        read_dvc_file(b"outs: [\n", "a.dvc")


def test_a_lock_file_gives_stages_with_commands_params_deps_and_outs() -> None:
    text = b"""schema: '2.0'
stages:
  prepare:
    cmd:
    - python prep.py
    - touch done
    deps:
    - path: raw
      md5: 11111111111111111111111111111111.dir
    - path: https://example.org/x.csv
    outs:
    - path: prepared.csv
      hash: md5
      md5: 22222222222222222222222222222222
    - path: counts.csv
      md5: 3e5a0b61c1e7a1a2b6a2bd3c44bb2ba7
  train:
    cmd: python train.py --lr 0.1
    params:
      params.yaml:
        lr: 0.1
"""
    prepare, train = read_lock_file(text, "pipe/dvc.lock")
    assert prepare.command == ("python prep.py", "touch done")
    assert [(d.path, d.md5, d.is_dir) for d in prepare.deps] == [
        ("pipe/raw", "11111111111111111111111111111111", True),
        ("https://example.org/x.csv", None, False),
    ]
    # An md5 of digits only is a number to YAML: read back as DVC wrote it.
    assert [(o.path, o.md5) for o in prepare.outs] == [
        ("pipe/prepared.csv", "22222222222222222222222222222222"),
        ("pipe/counts.csv", "3e5a0b61c1e7a1a2b6a2bd3c44bb2ba7"),
    ]
    assert train.params == {"params.yaml": {"lr": 0.1}}
    # DVC 1's lock files were the stage mapping itself.
    (old,) = read_lock_file(b"train:\n  cmd: python train.py\n", "dvc.lock")
    assert old.name == "train"


# --- config -------------------------------------------------------------------------------------
def test_config_local_wins_and_paths_are_relative_to_the_dvc_folder(tmp_path: Path) -> None:
    dvc_dir = tmp_path / ".dvc"
    dvc_dir.mkdir()
    (dvc_dir / "config").write_text(
        "[core]\n    remote = shared\n['remote \"shared\"']\n    url = ../../shared\n"
        "['remote \"mine\"']\n    url = s3://bucket/dvc\n    endpointurl = http://127.0.0.1:9\n"
    )
    config = read_config(dvc_dir)
    assert config.cache_dir == dvc_dir / "cache"
    assert config.remote is not None
    assert config.remote.url == str((tmp_path.parent / "shared").resolve())
    (dvc_dir / "config.local").write_text("[core]\nremote = mine\n[cache]\ndir = ../big-cache\n")
    config = read_config(dvc_dir)
    assert config.cache_dir == (tmp_path / "big-cache").resolve()
    assert config.remote is not None
    assert config.remote.is_s3
    assert config.remote.options == {"endpointurl": "http://127.0.0.1:9"}


def test_a_default_remote_without_url_is_named(tmp_path: Path) -> None:
    dvc_dir = tmp_path / ".dvc"
    dvc_dir.mkdir()
    (dvc_dir / "config").write_text("[core]\n    remote = gone\n")
    with pytest.raises(UsageError, match="DVC's default remote 'gone' has no url"):
        read_config(dvc_dir)


# --- objects ------------------------------------------------------------------------------------
def _objects(tmp_path: Path) -> tuple[DvcObjects, Path, Path]:
    dvc_dir = tmp_path / ".dvc"
    dvc_dir.mkdir()
    remote = tmp_path / "remote"
    (dvc_dir / "config").write_text(f"[core]\nremote = r\n['remote \"r\"']\nurl = {remote}\n")
    return DvcObjects(read_config(dvc_dir), tmp_path), dvc_dir / "cache", remote


def test_objects_come_from_either_layout_in_cache_then_remote(tmp_path: Path) -> None:
    objects, cache, remote = _objects(tmp_path)
    new = put_object(cache, b"dvc 3\n")
    old = put_object(cache, b"dvc 2\n", legacy=True)
    far = put_object(remote, b"pushed\n")
    for digest, content in ((new, b"dvc 3\n"), (old, b"dvc 2\n"), (far, b"pushed\n")):
        out = tmp_path / "out"
        assert objects.copy_to(digest, False, out) == len(content)
        assert out.read_bytes() == content


def test_dvc2_md5_of_a_text_file_reads_crlf_as_lf(tmp_path: Path) -> None:
    objects, cache, _ = _objects(tmp_path)
    content = b"a,b\r\n1,2\r\n" * 50_000  # blocks split between \r and \n
    lf_md5 = md5(content.replace(b"\r\n", b"\n"))
    path = cache / lf_md5[:2] / lf_md5[2:]
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    objects.copy_to(lf_md5, True, tmp_path / "legacy")
    assert (tmp_path / "legacy").read_bytes() == content
    with pytest.raises(CorruptObject):  # DVC 3's md5 is of the bytes as they are
        objects.copy_to(lf_md5, False, tmp_path / "plain")
    assert not (tmp_path / "plain").exists()


def test_an_object_whose_md5_differs_is_refused(tmp_path: Path) -> None:
    objects, cache, _ = _objects(tmp_path)
    digest = put_object(cache, b"good\n")
    (cache / "files" / "md5" / digest[:2] / digest[2:]).write_bytes(b"evil\n")
    with pytest.raises(CorruptObject) as raised:
        objects.copy_to(digest, False, tmp_path / "out")
    assert raised.value.message == (
        f"object {digest} is corrupt: DVC recorded md5 {digest}, "
        f"{cache / 'files' / 'md5' / digest[:2] / digest[2:]} has {md5(b'evil' + bytes([10]))}"
    )
    with pytest.raises(NotFoundError, match="is in neither DVC's cache nor its remote"):
        objects.copy_to(md5(b"never stored"), False, tmp_path / "out")


# --- the import, in process ---------------------------------------------------------------------
def test_import_in_process_links_commits_and_checks_out_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, commits = handmade_project(tmp_path)
    monkeypatch.chdir(root)
    with workspaces.open(root) as ws:
        report = migrate.import_dvc(all_commits=True, workspace=ws)
        assert (report.versions_added, report.commits_linked, report.pointers_written) == (4, 4, 2)
        assert [c.commit for c in data.history("images", workspace=ws)] == commits[::-1]
        data.checkout(rev=commits[0], workspace=ws)
        assert sorted(p.name for p in (root / "images").rglob("*") if p.is_file()) == [
            "a.txt",
            "c.txt",
        ]
        assert (root / "train.csv").read_bytes() == b"x\n1\n"
        assert (root / "images" / "a.txt").read_bytes() == b"A\n"
        with pytest.raises(NotFoundError, match="is not in git revision"):
            data.checkout(["images"], rev="main~5", workspace=ws)


def test_the_cli_prints_counts_per_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _, _ = handmade_project(tmp_path)
    monkeypatch.chdir(root)
    dry = CliRunner().invoke(cli, ["import", "dvc", "--all-commits", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "data versions: 4 would add, 0 already here" in dry.output
    done = CliRunner().invoke(cli, ["import", "dvc", "images"])
    assert done.exit_code == 0, done.output
    assert "data versions: 1 added, 0 already here (5 B read from DVC)" in done.output
    assert "commit links: 1 added (1 commits read)" in done.output
    assert "pointers: 1 written" in done.output
    assert "runs: 0 added, 0 already here" in done.output


def test_objects_are_read_from_an_s3_remote(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    bucket, _, prefix = s3_bucket.removeprefix("s3://").partition("/")
    root, store, commits = handmade_project(tmp_path, remote_url=s3_bucket)
    with (root / ".dvc" / "config").open("a") as config:
        config.write(f"    endpointurl = {s3_endpoint}\n")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for path in store.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(store).as_posix()}")
    monkeypatch.chdir(root)
    with workspaces.open(root) as ws:
        report = migrate.import_dvc(all_commits=True, workspace=ws)
        assert report.versions_added == 4
        assert report.bytes_read == len(b"x\n1\n") + len(b"x\n2\n") + 2 + 2 + 3 + 2
        data.checkout(rev=commits[1], workspace=ws)
    assert (root / "images" / "d.txt").read_bytes() == b"D\n"


def test_history_joins_recorded_commits_and_committed_pointers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, commits = handmade_project(tmp_path)
    monkeypatch.chdir(root)
    with workspaces.open(root) as ws:
        migrate.import_dvc(all_commits=True, workspace=ws)
        git(root, "add", "train.csv.parity", "images.parity")
        git(root, "commit", "-q", "-m", "parity pointers")
        pointed = git(root, "rev-parse", "HEAD")
        listed = data.history("train.csv", workspace=ws)
        assert [c.commit for c in listed] == [pointed, *commits[::-1]]
        assert [c.subject for c in listed] == ["parity pointers", "v2", "v1"]
        assert listed[0].pointer == listed[1].pointer  # the pointer committed what v2 held
        assert all(c.author == "Ada" for c in listed)
        # The pointer in git wins where there is one; the recorded one serves the rest.
        data.checkout(["train.csv"], rev=commits[0], workspace=ws)
        assert (root / "train.csv").read_bytes() == b"x\n1\n"
        data.checkout(["train.csv"], rev=pointed, workspace=ws)
        assert (root / "train.csv").read_bytes() == b"x\n2\n"


def test_staging_leaves_dvcs_files_as_they_were(tmp_path: Path) -> None:
    objects, cache, _ = _objects(tmp_path)
    script = put_object(cache, b"#!/bin/sh\necho hi\n")
    plain = put_object(cache, b"rows\n")
    stored = [cache / "files" / "md5" / d[:2] / d[2:] for d in (script, plain)]
    for path in stored:
        path.chmod(0o444)  # as DVC leaves its cache
    objects.copy_to(script, False, tmp_path / "run.sh", executable=True)
    objects.copy_to(plain, False, tmp_path / "rows.txt")
    assert (tmp_path / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "rows.txt").read_bytes() == b"rows\n"
    assert [p.stat().st_mode & 0o777 for p in stored] == [0o444, 0o444]
    (tmp_path / "rows.txt").unlink()
    assert [p.stat().st_nlink for p in stored] == [1, 1]
    assert stored[1].read_bytes() == b"rows\n"
