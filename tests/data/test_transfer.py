"""The transfer engine over real stores: a local folder and S3 on a moto server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from parity.core.ids import digest_bytes
from parity.data.manifest import REGULAR, Chunk, FileEntry, make_version
from parity.data.pointer import Pointer, read_pointer, write_pointer
from parity.data.reachable import objects_of_version
from parity.data.transfer import HELD_BACK, STREAM_AT, TransferResult, transfer
from parity.store.objects import ObjectStore, open_object_store
from parity.store.objects.blob import HEADER_SIZE
from parity.store.objects.store import object_key
from parity.workspace import Workspace
from tests.conftest import run_parity


def _local(path: Path) -> ObjectStore:
    return open_object_store(str(path))


def _s3(request: pytest.FixtureRequest) -> ObjectStore:
    return open_object_store(
        request.getfixturevalue("s3_bucket"), endpoint_url=request.getfixturevalue("s3_endpoint")
    )


def _fill(store: ObjectStore, count: int, size: int = 200) -> set[str]:
    return {store.put_bytes(os.urandom(size) + f"{i}".encode()) for i in range(count)}


class _Progress:
    def __init__(self) -> None:
        self.plan: tuple[int, int] | None = None
        self.seen: list[str] = []

    def planned(self, objects: int, skipped: int) -> None:
        self.plan = (objects, skipped)

    def copied(self, digest: str, size: int) -> None:
        self.seen.append(digest)


@pytest.fixture(params=["file", "s3"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return _local(tmp_path / "remote") if request.param == "file" else _s3(request)


def test_copies_only_what_the_target_lacks(tmp_path: Path, target: ObjectStore) -> None:
    source = _local(tmp_path / "objects")
    digests = _fill(source, 40)
    already = sorted(digests)[:10]
    for digest in already:
        target.put_bytes(source.get_bytes(digest))

    progress = _Progress()
    result = transfer(source, target, [digests], jobs=4, progress=progress)

    assert result.ok
    assert set(result.done) == digests - set(already)
    assert set(result.skipped) == set(already)
    assert progress.plan == (30, 10)
    assert sorted(progress.seen) == sorted(result.done)
    assert result.bytes_copied > 30 * 200
    assert target.missing(digests) == set()
    for digest in digests:
        assert target.get_bytes(digest) == source.get_bytes(digest)

    again = transfer(source, target, [digests])
    assert again.done == ()
    assert len(again.skipped) == 40


def test_large_objects_stream_both_ways(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    local = _local(tmp_path / "objects")
    remote = _s3(request)
    big = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    big.write_bytes(block * (STREAM_AT // len(block)) + b"tail")
    digest = local.put_file(big)
    small = local.put_bytes(b"small" * 100)

    pushed = transfer(local, remote, [{digest, small}])
    assert pushed.ok
    assert set(pushed.done) == {digest, small}
    # the local object survives the upload (the engine hands the remote a link, not the object)
    local.verify(digest)

    fresh = _local(tmp_path / "fresh")
    pulled = transfer(remote, fresh, [{digest, small}])
    assert pulled.ok
    fresh.verify(digest)
    out = tmp_path / "out.bin"
    fresh.get_to_file(digest, out)
    assert digest_bytes(out.read_bytes()) == digest_bytes(big.read_bytes())
    assert list((tmp_path / "fresh" / "tmp").iterdir()) == []


def test_local_to_local_copies_are_not_links(tmp_path: Path) -> None:
    source = _local(tmp_path / "objects")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(STREAM_AT + 10))
    digest = source.put_file(big)
    target = _local(tmp_path / "remote")
    assert transfer(source, target, [{digest}]).ok
    a = tmp_path / "objects" / object_key(digest)
    b = tmp_path / "remote" / object_key(digest)
    assert a.stat().st_ino != b.stat().st_ino
    target.verify(digest)


def test_a_corrupt_object_fails_alone_and_never_reaches_the_target(
    tmp_path: Path, target: ObjectStore
) -> None:
    source = _local(tmp_path / "objects")
    digests = _fill(source, 12, size=4096)
    bad = sorted(digests)[3]
    path = tmp_path / "objects" / object_key(bad)
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + 7] ^= 0x01
    path.write_bytes(bytes(data))

    result = transfer(source, target, [digests], jobs=3)

    assert not result.ok
    assert list(result.failed) == [bad]
    assert "is corrupt" in result.failed[bad]
    assert set(result.done) == digests - {bad}
    assert target.missing(digests) == {bad}


def test_records_wait_for_the_content_they_name(tmp_path: Path, target: ObjectStore) -> None:
    source = _local(tmp_path / "objects")
    content = _fill(source, 8)
    manifest = source.put_bytes(b"manifest naming the content")
    absent = digest_bytes(b"never stored")

    result = transfer(source, target, [content | {absent}, {manifest}])

    assert result.failed[manifest] == HELD_BACK
    assert "is not in" in result.failed[absent]
    assert target.missing({manifest}) == {manifest}
    assert target.missing(content) == set()

    # once the content is complete, the record follows
    source.put_bytes(b"never stored")
    rerun = transfer(source, target, [content | {absent}, {manifest}])
    assert rerun.ok
    assert set(rerun.done) == {absent, manifest}


def test_a_target_that_keeps_failing_is_given_up_on(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str
) -> None:
    from parity.data.transfer import GAVE_UP, GIVE_UP_AFTER

    source = _local(tmp_path / "objects")
    digests = _fill(source, 15)  # 16 with the record: asked about by HEAD, not a listing
    bucket = s3_bucket[len("s3://") :].split("/")[0]
    target = open_object_store(f"s3://{bucket}-absent/x", endpoint_url=s3_endpoint)

    record = source.put_bytes(b"record")
    result = transfer(source, target, [digests, {record}], jobs=1)

    assert result.done == ()
    assert len(result.failed) == 16
    assert result.failed[record] == HELD_BACK
    tried = [d for d, reason in result.failed.items() if "does not exist" in reason]
    assert GIVE_UP_AFTER <= len(tried) <= GIVE_UP_AFTER + 1  # one may have started already
    assert list(result.failed.values()).count(GAVE_UP) == 15 - len(tried)
    assert result.first_error is not None
    assert result.first_error.hint == "create the bucket, or fix the URL with 'parity remote add'"


def test_an_object_named_in_two_waves_goes_with_the_first(tmp_path: Path) -> None:
    source = _local(tmp_path / "objects")
    shared = source.put_bytes(b"shared")
    target = _local(tmp_path / "remote")
    result = transfer(source, target, [{shared}, {shared}])
    assert result.done == (shared,)


def test_result_merges_and_serialises() -> None:
    a = TransferResult(done=("a",), skipped=("b",), bytes_copied=3)
    b = TransferResult(failed={"c": "boom"}, bytes_copied=4)
    merged = a.merged(b)
    assert merged.to_dict() == {
        "ok": False,
        "done": 1,
        "skipped": 1,
        "failed": {"c": "boom"},
        "bytes_copied": 7,
    }


# push and pull of data versions (api) ------------------------------------------------------------
def _version(workspace: Workspace, name: str, packs: int, files_per_pack: int) -> str:
    """A data version whose files live in ``packs`` pack objects, built without ``data add``."""
    files = []
    for p in range(packs):
        entries = [os.urandom(64) for _ in range(files_per_pack)]
        pack = workspace.objects.put_bytes(b"".join(entries))
        for f, entry in enumerate(entries):
            chunk = Chunk(digest_bytes(entry), pack, f * 64, 64, 64)
            files.append(FileEntry(f"{p}/{f}.bin", 64, REGULAR, chunk.digest, (chunk,)))
    version_id = workspace.records.put(make_version("folder", files).to_record(), 0, label=name)
    write_pointer(
        workspace.root / f"{name}.parity", Pointer(version_id, 64 * len(files), len(files))
    )
    return version_id


def _workspace(root: Path) -> Workspace:
    from parity.workspace import init_workspace

    root.mkdir(parents=True, exist_ok=True)
    workspace, _ = init_workspace(root, environ={})
    return workspace


class _Requests:
    """Records the method of every HTTP request boto3 sends (retries included)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, request: Any, **kwargs: Any) -> None:
        self.sent.append(str(request.method))


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> _Requests:
    import boto3
    import boto3.session

    counter = _Requests()
    session = boto3.session.Session()
    session.events.register("before-send.s3", counter)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return counter


def test_push_then_pull_a_version_through_s3(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str, requests: _Requests
) -> None:
    from parity.api import data as data_api
    from parity.api import remotes

    here = _workspace(tmp_path / "here")
    version = _version(here, "images", packs=2, files_per_pack=1500)
    remotes.add("origin", s3_bucket, endpoint_url=s3_endpoint, workspace=here)
    needed = objects_of_version(here.objects, version)

    pushed = data_api.push(workspace=here)
    assert pushed.result.ok
    assert set(pushed.result.done) == needed
    assert pushed.versions == (version,)
    # 3,000 files, 3 objects: one existence question each, then one upload each
    assert requests.sent.count("PUT") == len(needed)
    assert len(requests.sent) <= 2 * len(needed) + 2, requests.sent

    there = _workspace(tmp_path / "there")
    shutil.copy(here.root / "images.parity", there.root / "images.parity")
    remotes.add("origin", s3_bucket, endpoint_url=s3_endpoint, workspace=there)
    requests.sent.clear()
    pulled = data_api.pull(workspace=there, checkout=False)  # _version's packs are not real
    assert pulled.result.ok
    assert set(pulled.result.done) == needed
    assert requests.sent.count("GET") == len(needed) + 1  # the manifest is read first
    assert len(requests.sent) <= 2 * len(needed) + 3, requests.sent
    for digest in needed:
        there.objects.verify(digest)
    assert there.meta.record_kind(version) == "data"  # indexed: usable here now

    again = data_api.pull(workspace=there, checkout=False)
    assert again.result.done == ()
    assert set(again.result.skipped) == needed
    here.close()
    there.close()


def test_push_and_pull_through_a_folder_remote(tmp_path: Path) -> None:
    from parity.api import data as data_api
    from parity.api import remotes

    here = _workspace(tmp_path / "here")
    one = _version(here, "one", packs=1, files_per_pack=10)
    two = _version(here, "two", packs=3, files_per_pack=2)
    remotes.add("backup", f"file://{tmp_path / 'remote'}", workspace=here)
    assert data_api.push([here.root / "one"], workspace=here).versions == (one,)
    assert data_api.push(workspace=here).result.ok
    remote = open_object_store(str(tmp_path / "remote"))
    assert remote.missing(objects_of_version(here.objects, one)) == set()
    assert remote.missing(objects_of_version(here.objects, two)) == set()

    there = _workspace(tmp_path / "there")
    shutil.copy(here.root / "two.parity", there.root / "two.parity")
    remotes.add("backup", str(tmp_path / "remote"), workspace=there)
    pulled = data_api.pull([there.root / "two.parity"], checkout=False, workspace=there)
    assert pulled.result.ok
    assert there.objects.missing(objects_of_version(remote, two)) == set()

    # by data version id, as a run's inputs are named: no pointer needed
    third = _workspace(tmp_path / "third")
    remotes.add("backup", str(tmp_path / "remote"), workspace=third)
    assert data_api.pull(versions=[one, one], workspace=third).versions == (one,)
    assert third.objects.missing(objects_of_version(remote, one)) == set()
    assert third.meta.record_kind(one) == "data"
    for workspace in (here, there, third):
        workspace.close()


def test_a_version_missing_on_either_side_is_not_found(tmp_path: Path) -> None:
    from parity.api import data as data_api
    from parity.api import remotes
    from parity.core.errors import NotFoundError

    here = _workspace(tmp_path / "here")
    _version(here, "one", packs=1, files_per_pack=1)
    remotes.add("backup", str(tmp_path / "remote"), workspace=here)
    with pytest.raises(NotFoundError, match=r"data version \w{12} is not in remote backup") as info:
        data_api.pull(workspace=here)
    assert info.value.hint == (
        "push it from the workspace that added it, or pick another remote with -r"
    )
    there = _workspace(tmp_path / "there")
    shutil.copy(here.root / "one.parity", there.root / "one.parity")
    remotes.add("backup", str(tmp_path / "remote"), workspace=there)
    with pytest.raises(NotFoundError, match=r"\w{12} is not in this workspace") as info:
        data_api.push(workspace=there)
    assert info.value.hint == "pull it here first with 'parity data pull'"
    here.close()
    there.close()


# the command line --------------------------------------------------------------------------------
_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _remote_keys(bucket_url: str, endpoint: str) -> list[str]:
    import boto3

    bucket, _, prefix = bucket_url[len("s3://") :].partition("/")
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def _settled_digests(remote: ObjectStore) -> set[str]:
    # The server may still finish uploads that were in flight when the client died, so the remote
    # is read only once two listings a moment apart agree.
    previous = set(remote.digests())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.3)
        current = set(remote.digests())
        if current == previous:
            return current
        previous = current
    raise AssertionError("the remote kept changing for 30 s after the push was killed")


@pytest.mark.slow
def test_a_killed_push_resumes_and_the_remote_stays_consistent(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str
) -> None:
    workspace = _workspace(tmp_path / "project")
    version = _version(workspace, "many", packs=1000, files_per_pack=1)
    needed = objects_of_version(workspace.objects, version)
    workspace.close()
    root = tmp_path / "project"
    added = run_parity(
        "remote", "add", "origin", s3_bucket, "--endpoint-url", s3_endpoint, cwd=root
    )
    assert added.returncode == 0, added.stderr

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "data", "push", "--jobs", "4"],
        cwd=root,
        env={**env, **_AWS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if len(_remote_keys(s3_bucket, s3_endpoint)) >= 50:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the push finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    remote = open_object_store(s3_bucket, endpoint_url=s3_endpoint)
    there = _settled_digests(remote)
    assert 0 < len(there) < len(needed)
    assert version not in there  # the manifest waits for its packs

    rerun = run_parity("data", "push", "--json", cwd=root, env=_AWS)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["ok"] is True
    assert report["done"] == len(needed - there)
    assert report["skipped"] == len(there)
    assert remote.missing(needed) == set()
    stored = list(remote.digests())
    assert set(stored) == needed
    for digest in stored:
        remote.verify(digest)


@pytest.mark.slow
def test_remote_errors_exit_5_with_a_hint(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    workspace = _workspace(tmp_path / "project")
    _version(workspace, "one", packs=1, files_per_pack=1)
    workspace.close()
    root = tmp_path / "project"
    bucket = s3_bucket[len("s3://") :].split("/")[0]
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    for name, url, endpoint in (
        ("down", s3_bucket, nowhere),
        ("nobucket", f"s3://{bucket}-absent/x", s3_endpoint),
    ):
        added = run_parity("remote", "add", name, url, "--endpoint-url", endpoint, cwd=root)
        assert added.returncode == 0, added.stderr

    down = run_parity("data", "push", "-r", "down", cwd=root, env=_AWS)
    assert down.returncode == 5, down.stderr
    [line] = down.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot look up {s3_bucket}/")
    assert line.endswith(
        f"{nowhere} does not answer (check the endpoint URL and that the server is up)"
    )

    absent = run_parity("data", "pull", "-r", "nobucket", cwd=root, env=_AWS)
    assert absent.returncode == 5, absent.stderr
    [line] = absent.stderr.strip().splitlines()
    assert f"bucket '{bucket}-absent' does not exist" in line
    assert line.endswith("(create the bucket, or fix the URL with 'parity remote add')")

    # a push finds out object by object (a HEAD cannot tell a missing bucket from a missing key)
    pushed = run_parity("data", "push", "-r", "nobucket", cwd=root, env=_AWS)
    assert pushed.returncode == 5, pushed.stderr
    [line] = pushed.stderr.strip().splitlines()
    assert line.startswith("error: 2 objects could not be copied: cannot write")
    assert line.endswith(
        f"bucket '{bucket}-absent' does not exist (create the bucket, or fix the URL with "
        "'parity remote add'; then run 'parity data push' again: it resumes)"
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# end to end: add, push, lose the local objects, pull, checkout ---------------------------------
def _make_tree(root: Path, small_files: int) -> None:
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "empty folder").mkdir()
    (root / "empty.txt").write_bytes(b"")
    (root / "nested" / "données – ünïcode.csv").write_text("a,b\n1,2\n")
    script = root / "nested" / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    (root / "nested" / "deeper" / "large.bin").write_bytes(os.urandom(5 << 20))
    for i in range(small_files):
        (root / "nested" / "deeper" / f"part-{i:05d}.txt").write_bytes(os.urandom(200 + i % 300))


def _fingerprint(root: Path) -> dict[str, tuple[str, bool]]:
    found: dict[str, tuple[str, bool]] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_dir():
            found[key] = ("folder", False)
        else:
            found[key] = (digest_bytes(path.read_bytes()), os.access(path, os.X_OK))
    return found


def _lose_local_objects(root: Path) -> None:
    objects = root / ".parity" / "objects"
    for shard in objects.iterdir():
        if len(shard.name) == 2:
            shutil.rmtree(shard)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["s3", "file"])
def test_add_push_lose_pull_checkout_is_identical(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    root = tmp_path / "project"
    _workspace(root).close()
    _make_tree(root / "data", small_files=300)
    original = _fingerprint(root / "data")
    env: dict[str, str] = {}
    if kind == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        remote_args = [bucket, "--endpoint-url", endpoint]
        env = _AWS
    else:
        remote_args = [f"file://{tmp_path / 'shared'}"]

    assert run_parity("data", "add", "data", cwd=root).returncode == 0
    assert run_parity("remote", "add", "origin", *remote_args, cwd=root).returncode == 0
    pushed = run_parity("data", "push", "--json", cwd=root, env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["done"] >= 2  # a pack or more, and the manifest

    _lose_local_objects(root)
    shutil.rmtree(root / "data")
    pulled = run_parity("data", "pull", "--json", cwd=root, env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["done"] == json.loads(pushed.stdout)["done"]
    checkout = run_parity("data", "checkout", "data", cwd=root, env=env)
    assert checkout.returncode == 0, checkout.stderr
    assert _fingerprint(root / "data") == original
    fsck = run_parity("data", "fsck", cwd=root)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_thousands_of_files_are_a_bounded_number_of_requests(
    tmp_path: Path, s3_bucket: str, s3_endpoint: str, requests: _Requests
) -> None:
    from parity.api import data as data_api
    from parity.api import remotes

    root = tmp_path / "project"
    workspace = _workspace(root)
    folder = root / "many"
    folder.mkdir()
    for i in range(3000):
        (folder / f"{i:05d}.json").write_bytes(os.urandom(100 + i % 900))
    added = data_api.add(folder, workspace=workspace)
    remotes.add("origin", s3_bucket, endpoint_url=s3_endpoint, workspace=workspace)
    objects = objects_of_version(workspace.objects, added.data_version)

    requests.sent.clear()
    assert data_api.push(workspace=workspace).result.ok
    pushed = list(requests.sent)
    _lose_local_objects(root)
    requests.sent.clear()
    assert data_api.pull(workspace=workspace).result.ok
    pulled = list(requests.sent)

    assert len(objects) <= 3  # packed: 3,000 files are a pack and a manifest
    assert pushed.count("PUT") == len(objects)
    assert len(pushed) <= 2 * len(objects) + 2, pushed
    assert len(pulled) <= 2 * len(objects) + 3, pulled
    workspace.close()


@pytest.mark.slow
def test_pull_verify_replaces_a_corrupt_local_copy(tmp_path: Path) -> None:
    root = tmp_path / "project"
    _workspace(root).close()
    _make_tree(root / "data", small_files=20)
    original = _fingerprint(root / "data")
    assert run_parity("data", "add", "data", cwd=root).returncode == 0
    assert run_parity("remote", "add", "origin", str(tmp_path / "shared"), cwd=root).returncode == 0
    assert run_parity("data", "push", cwd=root).returncode == 0
    store = open_object_store(str(root / ".parity" / "objects"))
    version = read_pointer(root / "data.parity").data_version
    pack = sorted(objects_of_version(store, version) - {version})[0]
    path = root / ".parity" / "objects" / object_key(pack)
    damaged = bytearray(path.read_bytes())
    damaged[HEADER_SIZE + 100] ^= 0x01
    path.write_bytes(bytes(damaged))

    plain = run_parity("data", "pull", "--json", cwd=root)
    assert json.loads(plain.stdout)["done"] == 0  # a plain pull trusts what is here
    repaired = run_parity("data", "pull", "--verify", "--json", cwd=root)
    assert repaired.returncode == 0, repaired.stderr
    assert json.loads(repaired.stdout)["done"] == 1
    store.verify(pack)
    shutil.rmtree(root / "data")
    assert run_parity("data", "checkout", "data", cwd=root).returncode == 0
    assert _fingerprint(root / "data") == original


def test_a_terminal_gets_a_progress_bar(tmp_path: Path) -> None:
    import pty

    root = tmp_path / "project"
    workspace = _workspace(root)
    _version(workspace, "one", packs=3, files_per_pack=1)
    workspace.close()
    assert run_parity("remote", "add", "r", str(tmp_path / "remote"), cwd=root).returncode == 0
    main, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "data", "push"],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0
    text = output.decode(errors="replace")
    assert "push (0 already there)" in text
    assert "Pushed 4 objects" in text
