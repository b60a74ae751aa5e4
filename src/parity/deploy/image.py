"""The image context of a model server: a Dockerfile, its entrypoint and a .dockerignore.

The Dockerfile is the model's environment export (the recorded Python or CUDA base, packages
installed from the hashed requirements only, an unprivileged user) with the model added at build
time: ``parity deploy unpack`` takes the model folder of the context into the image's own
workspace, refusing any other model than the one named here and any object that does not match
its digest, and ``parity models verify`` then fails the build when the image's environment
differs from the model's at high risk. The entrypoint runs ``parity serve`` with its start-up gate
(environment verified again, golden rows re-predicted): the server is not ready before both pass.
"""

from __future__ import annotations

import json
import shlex

from parity.deploy.served import PORT, ServedModel

ENTRYPOINT = "entrypoint.sh"
ENTRYPOINT_PATH = "/usr/local/bin/parity-entrypoint"
MODEL_FOLDER = "model"
MOUNTED = f"/mnt/{MODEL_FOLDER}"  # where the build step sees the context's model folder
WORKSPACE = "/home/parity/workspace"
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - inside the container; the platform publishes the port
_BASE_END = 'CMD ["python"]'


def unpack_command(model: ServedModel, bundle: str, workspace: str) -> list[str]:
    """The build step that takes the model in (also what a test runs outside Docker)."""
    return [
        "parity",
        "deploy",
        "unpack",
        bundle,
        "--into",
        workspace,
        "--model-id",
        model.model_id,
    ]


def verify_command(model: ServedModel) -> list[str]:
    return ["parity", "models", "verify", model.ref]


def render_dockerfile(environment_dockerfile: str, model: ServedModel) -> str:
    """The environment's Dockerfile (exported without a model) with the model's layers in place
    of its ``CMD``."""
    lines = environment_dockerfile.rstrip("\n").split("\n")
    if lines[-1] != _BASE_END:
        raise ValueError("the environment's Dockerfile does not end as exported")
    lines.pop()
    unpack = shlex.join(unpack_command(model, MOUNTED, WORKSPACE))
    labels = {
        "org.opencontainers.image.title": model.name,
        "org.opencontainers.image.version": str(model.version),
        "parity-ml.model": model.ref,
        "parity-ml.model-id": model.model_id,
        "parity-ml.environment-id": model.environment_id or "",
        "parity-ml.run-id": model.run_id or "",
        "parity-ml.data-versions": ",".join(model.data_versions),
    }
    lines += [
        "",
        f"# The model {model.ref} (model {model.model_id[:12]}), taken from the context's",
        f"# {MODEL_FOLDER}/ folder: every object checked against its digest, then this image's",
        "# environment verified against the model's (a high-risk difference fails the build).",
        f"ENV PARITY_WORKSPACE={WORKSPACE}",
        f"RUN --mount=type=bind,source={MODEL_FOLDER},target={MOUNTED} \\",
        f"    {unpack} \\",
        f"    && {shlex.join(verify_command(model))}",
        "LABEL " + " \\\n      ".join(f"{k}={json.dumps(v)}" for k, v in labels.items() if v),
        f"COPY {ENTRYPOINT} {ENTRYPOINT_PATH}",
        f"EXPOSE {PORT}",
        f'ENTRYPOINT ["{ENTRYPOINT_PATH}"]',
    ]
    return "\n".join(lines) + "\n"


def render_entrypoint(model: ServedModel) -> str:
    """A POSIX shell script: ``parity serve`` of the model, gate on, on ``$PORT`` (8080)."""
    return "\n".join(
        [
            "#!/bin/sh",
            f"# Exported by Parity: serves {model.ref} (model {model.model_id[:12]}) with its",
            "# start-up gate: this environment verified against the model's and the golden rows",
            "# re-predicted; /v2/health/ready answers 200 only once both passed.",
            "# PORT sets the port. PARITY_DEPLOYMENT_NAME records this server, when it starts, as",
            "# the deployment at that place (its image from PARITY_IMAGE).",
            "set -eu",
            f"set -- serve {shlex.quote(model.ref)} --host {ANY_ADDRESS} \\",
            f'    --port "${{PORT:-{PORT}}}"',
            'if [ -n "${PARITY_DEPLOYMENT_NAME:-}" ]; then',
            '    set -- "$@" --record-deployment "$PARITY_DEPLOYMENT_NAME"',
            "fi",
            'exec parity "$@"',
            "",
        ]
    )


def render_dockerignore(wheels: bool) -> str:
    """Only what the build reads goes into the context: not the manifests, not the rest."""
    keep = ["requirements.txt", ENTRYPOINT, MODEL_FOLDER, *(["wheels"] if wheels else [])]
    return "# The image needs only these; the manifests stay out of the build context.\n*\n" + (
        "".join(f"!{name}\n" for name in keep)
    )
