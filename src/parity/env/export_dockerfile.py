"""A Dockerfile that rebuilds the recorded environment from the hashed requirements.txt.

The base image is the recorded Python patch release (``python:X.Y.Z-slim``), or the CUDA runtime
the record has (``nvidia/cuda:X.Y.Z-runtime-…``) with the same Python installed by uv (a
standalone build: the CUDA images carry no Python of their own). Parity asks no registry, so it
pins by digest only when it is given one (``--base-image NAME:TAG@sha256:…``); otherwise a
comment says the image is pinned by tag only and how to pin it. Packages come only from ``pip
install --require-hashes`` (wheels hashed from a local folder are copied beside the Dockerfile);
the image runs as an unprivileged user, holds no secret, and, exported for a model, serves it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from parity.core.errors import UsageError
from parity.env.pins import ExportPlan
from parity.env.uv_binary import uv_version

REQUIREMENTS_NAME = "requirements.txt"
WHEELS_FOLDER = "wheels"  # beside the Dockerfile: local wheels the requirements pin by hash
USER = "parity"
USER_ID = 10001
WORKSPACE = "/workspace"  # where the served model's Parity workspace is mounted
PORT = 8080
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - inside the container; the host publishes the port

# The newest runtime image of each CUDA minor release on Docker Hub (nvidia/cuda).
CUDA_IMAGES = {
    "11.8": "11.8.0-runtime-ubuntu22.04",
    "12.0": "12.0.1-runtime-ubuntu22.04",
    "12.1": "12.1.1-runtime-ubuntu22.04",
    "12.2": "12.2.2-runtime-ubuntu22.04",
    "12.3": "12.3.2-runtime-ubuntu22.04",
    "12.4": "12.4.1-runtime-ubuntu22.04",
    "12.5": "12.5.1-runtime-ubuntu22.04",
    "12.6": "12.6.3-runtime-ubuntu22.04",
    "12.8": "12.8.1-runtime-ubuntu22.04",
    "12.9": "12.9.1-runtime-ubuntu22.04",
    "13.0": "13.0.0-runtime-ubuntu24.04",
}

# Docker's reference grammar, kept to what a FROM line takes: a lower-case repository path with
# an optional registry host (and port), an optional tag, an optional sha256 digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"^(?P<name>(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@dataclass(frozen=True)
class BaseImage:
    name: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> BaseImage:
        match = _IMAGE.match(text.strip())
        if match is None or not (match["tag"] or match["digest"]):
            raise UsageError(
                f"cannot use {text!r} as a base image",
                hint="give NAME:TAG, or NAME:TAG@sha256:<64 hex digits> to pin it by digest",
            )
        return cls(match["name"], match["tag"], match["digest"])

    @property
    def by_tag(self) -> str:
        return f"{self.name}:{self.tag}" if self.tag else self.name

    def __str__(self) -> str:
        return self.by_tag + (f"@{self.digest}" if self.digest else "")


# What a record's Python and CUDA versions may look like before they are written into a
# Dockerfile: a record is data anyone with write access stored, so a "version" holding a newline
# and a RUN line would run at `docker build`.
_RELEASE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4}){1,2}([a-z]{1,3}[0-9]{0,3})?\+?")


def release(version: str, what: str) -> str:
    """``version`` if it reads as a release number; a UsageError otherwise."""
    if not _RELEASE.fullmatch(version):
        raise UsageError(
            f"the environment record names {what} {version[:40]!r}, which is not a release "
            "number: refusing to write it into a Dockerfile",
            hint="export from an environment captured by Parity, or pass --base-image",
        )
    return version


def cuda_image(runtime: str) -> str:
    minor = ".".join(runtime.split(".")[:2])
    tag = CUDA_IMAGES.get(minor, f"{minor}.0-runtime-ubuntu22.04")
    return f"nvidia/cuda:{tag}"


def default_base(plan: ExportPlan) -> BaseImage:
    """The image the record calls for: its Python release, or its CUDA runtime."""
    cuda = plan.environment.accelerators.cuda_runtime
    if cuda:
        return BaseImage.parse(cuda_image(release(cuda, "CUDA runtime")))
    return BaseImage("python", f"{release(plan.environment.interpreter.version, 'Python')}-slim")


def _pinning(base: BaseImage) -> list[str]:
    if base.digest:
        return [f"# base image pinned by digest: {base}"]
    return [
        f"# base image pinned by tag only: {base.by_tag} (Parity asks no registry for digests).",
        f"# To pin it: docker buildx imagetools inspect {base.by_tag}, then export again with",
        f"# --base-image {base.by_tag}@sha256:<digest>",
    ]


def local_wheels(plan: ExportPlan) -> dict[str, str]:
    """File name -> local path of each pinned file hashed from a local folder (``--wheels``)."""
    return {
        file.filename: unquote(urlparse(file.url).path)
        for package in plan.packages
        for file in package.files
        if file.url.startswith("file:")
    }


def render_dockerfile(
    plan: ExportPlan,
    requirements: str = REQUIREMENTS_NAME,
    require_hashes: bool = True,
    base: BaseImage | None = None,
    serve: str | None = None,
) -> str:
    """The Dockerfile; ``serve`` names the model whose server the image runs (``parity serve``)."""
    environment = plan.environment
    python = release(environment.interpreter.version, "Python")
    cuda = environment.accelerators.cuda_runtime
    base = base or default_base(plan)
    lines = ["# syntax=docker/dockerfile:1"]
    lines += [f"# Exported by Parity from environment {environment.id}"]
    lines += [f"# NOT REPRODUCIBLE, left out: {p.name}=={p.version}" for p in plan.not_reproducible]
    lines += [
        f"# left out on request (--exclude): {pin} (verify with --exclude {pin.split('==')[0]})"
        for pin in plan.excluded
    ]
    lines += _pinning(base)
    checked = " --require-hashes" if require_hashes else ""
    wheels = local_wheels(plan)
    found = f" --find-links /tmp/{WHEELS_FOLDER}" if wheels else ""
    # --compile (pip's default, said out loud): the image sets PYTHONDONTWRITEBYTECODE, so bytecode
    # not compiled at install would be compiled again by every process the container starts.
    install = f"pip install --no-cache-dir --compile{checked}{found} -r /tmp/{requirements}"
    if cuda:
        uv_image = f"ghcr.io/astral-sh/uv:{uv_version() or 'latest'}"
        lines += [
            f"# the uv stage is pinned by tag only: {uv_image}",
            f"FROM {uv_image} AS uv",
            "",
            f"FROM {base}",
            "COPY --from=uv /uv /usr/local/bin/uv",
            "ENV UV_PYTHON_INSTALL_DIR=/opt/python \\",
            "    UV_COMPILE_BYTECODE=1 \\",  # what uv installs in the image, compiled too
            "    PATH=/opt/venv/bin:$PATH",
            f"RUN uv python install {python} \\",
            f"    && uv venv --seed --python {python} /opt/venv",
        ]
    else:
        lines += ["", f"FROM {base}"]
    lines += [
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1",
        f"COPY {requirements} /tmp/{requirements}",
    ]
    if wheels:
        lines.append(f"COPY {WHEELS_FOLDER}/ /tmp/{WHEELS_FOLDER}/")
    lines += [
        f"RUN {install} \\",
        f"    && useradd --create-home --uid {USER_ID} {USER}",
        f"USER {USER_ID}",  # numeric: the host resolves it without our /etc/passwd
        f"WORKDIR /home/{USER}",
    ]
    if serve is None:
        lines.append('CMD ["python"]')
    else:
        lines += [
            f"# serves {serve} from the Parity workspace mounted at {WORKSPACE}, e.g.",
            f'# docker run -p {PORT}:{PORT} -v "$PWD:{WORKSPACE}" IMAGE',
            f"ENV PARITY_WORKSPACE={WORKSPACE}",
            f"EXPOSE {PORT}",
            # Every interface of the container: its port is published only by `docker run -p`.
            "CMD "
            + json.dumps(["parity", "serve", serve, "--host", ANY_ADDRESS, "--port", str(PORT)]),
        ]
    return "\n".join(lines) + "\n"
