"""The payloads of the MLflow server's path-traversal advisories, on every path parameter of
every route: each gets a 4xx, and nothing outside the store is created or changed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.core.roles import Role
from parity.server.route_table import ROUTES
from parity.server.routing import Route
from tests.server.live import TeamServer, team_server
from tests.server.probes import MADE_UP, PARAMETER, body_type, parameters, route_id, send_raw

# Path segments as an attacker sends them: raw, percent-encoded, double-encoded.
REFUSED = (
    "..",
    "../..",
    "../../../../etc/passwd",
    "%2e%2e",
    "%2e%2e%2f",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2f..%2fetc%2fpasswd",
    "%252e%252e%252fetc%252fpasswd",
    "..%5c..%5coutside%5cx",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "file:///etc/passwd",
    "file%3a%2f%2f%2fetc%2fpasswd",
    "s3://other-bucket/x",
    "s3%3a%2f%2fother-bucket%2fx",
    "x%00y",
    "%00",
    "evil-link/x",
    "evil-link%2fx",
    "evil-link%2f..%2f..%2foutside%2fx",
)
# A name that is also a symlink in the store's folder: a route may take it as a name, but it
# must not follow it.
SYMLINK_NAME = "evil-link"

PARAMETERIZED = tuple(route for route in ROUTES if parameters(route))


def _target(route: Route, parameter: str, segment: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return segment if match.group(1) == parameter else MADE_UP

    return PARAMETER.sub(fill, route.full_path)


def _headers(server: TeamServer, route: Route) -> dict[str, str]:
    headers = {"Host": "127.0.0.1"}
    if isinstance(route.access, Role):
        headers["Authorization"] = f"Bearer {server.admin}"
    if route.writes:
        headers["Content-Type"] = body_type(route)
    return headers


def _tree(root: Path) -> dict[str, tuple[int, int] | str]:
    """Every file and link under ``root`` but the database's own files (a read may touch
    them): its size and modification time, or where a link points."""
    found: dict[str, tuple[int, int] | str] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.name.startswith("parity.db"):
            continue
        if path.is_symlink():
            found[name] = str(path.readlink())
        elif path.is_file():
            info = path.stat()
            found[name] = (info.st_size, info.st_mtime_ns)
        else:
            found[name] = "folder"
    return found


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "local":
        return {}
    bucket: str = request.getfixturevalue("s3_bucket")
    return {"objects_url": bucket, "s3_endpoint_url": request.getfixturevalue("s3_endpoint")}


@pytest.fixture
def served(tmp_path: Path, backend: dict[str, str]) -> Iterator[tuple[TeamServer, Path]]:
    with team_server(tmp_path / "served", **backend) as server:
        outside = tmp_path / "outside"
        outside.mkdir()
        (tmp_path / "served" / ".parity" / SYMLINK_NAME).symlink_to(outside)
        (tmp_path / "served" / ".parity" / "objects" / SYMLINK_NAME).symlink_to(outside)
        yield server, tmp_path


def _bucket_keys(server: TeamServer, bucket: str) -> list[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=server.settings.s3_endpoint_url, region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_traversal_payloads_on_every_path_parameter_get_4xx_and_touch_nothing(
    served: tuple[TeamServer, Path],
) -> None:
    server, root = served
    assert PARAMETERIZED, "no route takes a path parameter: nothing to check"
    other_bucket = None
    if server.settings.objects_url:
        import boto3

        other_bucket = f"other-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3", endpoint_url=server.settings.s3_endpoint_url, region_name="us-east-1"
        ).create_bucket(Bucket=other_bucket)
        served_bucket = server.settings.objects_url.split("/")[2]
        keys_before = _bucket_keys(server, served_bucket)
    before = _tree(root)
    passwd = Path("/etc/passwd").stat().st_mtime_ns
    wrong = []
    for route in PARAMETERIZED:
        for parameter in parameters(route):
            for segment in (*REFUSED, SYMLINK_NAME):
                status, body = send_raw(
                    server.url,
                    route.method,
                    _target(route, parameter, segment),
                    _headers(server, route),
                    b"{}" if route.writes and not route.raw_body else b"",
                )
                refused = 400 <= status < 500
                if status >= 500 or (segment in REFUSED and not refused):
                    wrong.append(f"{route_id(route)} {parameter}={segment!r}: {status} {body!r}")
    assert wrong == []
    assert _tree(root) == before
    assert not any((root / "outside").iterdir())
    assert Path("/etc/passwd").stat().st_mtime_ns == passwd
    if other_bucket is not None:
        assert _bucket_keys(server, other_bucket) == []
        assert _bucket_keys(server, served_bucket) == keys_before
