"""A Dockerfile that rebuilds the recorded environment from the hashed requirements.txt.

The base image is pinned to the recorded Python patch release (``python:X.Y.Z-slim``), or to the
CUDA runtime the record has (``nvidia/cuda:X.Y.Z-runtime-…``) with the same Python installed by
uv (a standalone build: the CUDA images carry no Python of their own). Packages come only from
``pip install --require-hashes``; the image runs as an unprivileged user and holds no secret.
"""

from __future__ import annotations

from parity.env.pins import ExportPlan
from parity.env.uv_binary import uv_version

REQUIREMENTS_NAME = "requirements.txt"
USER = "parity"
USER_ID = 10001

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


def cuda_image(runtime: str) -> str:
    minor = ".".join(runtime.split(".")[:2])
    tag = CUDA_IMAGES.get(minor, f"{minor}.0-runtime-ubuntu22.04")
    return f"nvidia/cuda:{tag}"


def render_dockerfile(
    plan: ExportPlan, requirements: str = REQUIREMENTS_NAME, require_hashes: bool = True
) -> str:
    environment = plan.environment
    python = environment.interpreter.version
    cuda = environment.accelerators.cuda_runtime
    lines = ["# syntax=docker/dockerfile:1"]
    lines += [f"# Exported by Parity from environment {environment.id}"]
    lines += [f"# NOT REPRODUCIBLE, left out: {p.name}=={p.version}" for p in plan.not_reproducible]
    lines += [
        f"# left out on request (--exclude): {pin} (verify with --exclude {pin.split('==')[0]})"
        for pin in plan.excluded
    ]
    checked = " --require-hashes" if require_hashes else ""
    install = f"pip install --no-cache-dir{checked} -r /tmp/{requirements}"
    if cuda:
        lines += [
            f"FROM ghcr.io/astral-sh/uv:{uv_version() or 'latest'} AS uv",
            "",
            f"FROM {cuda_image(cuda)}",
            "COPY --from=uv /uv /usr/local/bin/uv",
            "ENV UV_PYTHON_INSTALL_DIR=/opt/python \\",
            "    PATH=/opt/venv/bin:$PATH",
            f"RUN uv python install {python} \\",
            f"    && uv venv --seed --python {python} /opt/venv",
        ]
    else:
        lines += ["", f"FROM python:{python}-slim"]
    lines += [
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1",
        f"COPY {requirements} /tmp/{requirements}",
        f"RUN {install} \\",
        f"    && useradd --create-home --uid {USER_ID} {USER}",
        f"USER {USER_ID}",  # numeric: the host resolves it without our /etc/passwd
        f"WORKDIR /home/{USER}",
        'CMD ["python"]',
    ]
    return "\n".join(lines) + "\n"
