"""``parity deploy``: export a model as an image and manifests, record and list what runs where."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from parity.api import deploy
from parity.api.deploy import Deployment, Resources
from parity.cli import completion
from parity.cli.output import JSON_OPTION, print_json, print_table, say, warn
from parity.core.errors import CheckFailed

MODEL_ARGUMENT = click.argument(
    "reference", metavar="MODEL_REF", shell_complete=completion.model_references
)


@click.group("deploy")
def deploy_group() -> None:
    """Export a model for Kubernetes, KServe or compose; record and list what runs where."""


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@deploy_group.command("export")
@MODEL_ARGUMENT
@click.option(
    "--target",
    type=click.Choice(deploy.TARGETS),
    default="kubernetes",
    show_default=True,
    help="What the manifests are for.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The folder to write (the image's build context).",
)
@click.option("--image", help="The image the manifests run (default NAME:VERSION).")
@click.option("--replicas", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--max-replicas",
    type=click.IntRange(min=1),
    help="Autoscale on CPU up to this many (a HorizontalPodAutoscaler; KServe's maxReplicas).",
)
@click.option("--cpu", default="250m", show_default=True, help="CPU each server requests.")
@click.option("--memory", default="512Mi", show_default=True, help="Memory each server requests.")
@click.option(
    "--base-image",
    metavar="NAME:TAG[@sha256:DIGEST]",
    help="The Dockerfile's base instead of the recorded Python's; a digest pins it.",
)
@click.option(
    "--wheels",
    "wheels_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A local folder of wheels to hash what the index cannot serve.",
)
@click.option("--exclude", "excluded", multiple=True, help="Leave this package out; repeatable.")
@click.option("--index-url", help="The index the packages came from (default: PyPI).")
@click.option("--no-hashes", is_flag=True, help="Pin versions without looking up hashes.")
@JSON_OPTION
def export(
    reference: str,
    target: str,
    output: Path,
    image: str | None,
    replicas: int,
    max_replicas: int | None,
    cpu: str,
    memory: str,
    base_image: str | None,
    wheels_dir: Path | None,
    excluded: tuple[str, ...],
    index_url: str | None,
    no_hashes: bool,
    json_output: bool,
) -> None:
    """Write MODEL_REF's image context and manifests into a folder, and record them in its
    lineage.

    The Dockerfile installs the model's exact environment, takes the model in at build time
    (hash-verified) and runs 'parity serve' with its start-up gate as an unprivileged user.
    Exits 1 when a package cannot be pinned exactly (the files are still written).

    \b
        parity deploy export churn@production --target kubernetes \\
            -o deploy/churn --image registry.example/churn:3
    """
    if max_replicas is not None and max_replicas < replicas:
        raise click.BadParameter("must be at least --replicas", param_hint="--max-replicas")
    result = deploy.export(
        reference,
        target,
        output,
        image=image,
        resources=Resources(replicas, max_replicas, cpu, memory),
        base_image=base_image,
        wheels_dir=wheels_dir,
        exclude=excluded,
        index_url=index_url,
        hashes=not no_hashes,
    )
    if json_output:
        print_json(result.to_dict())
    else:
        for path in result.files:
            click.echo(f"wrote {path}", err=True)
        done = "exported" if result.ok else "wrote an incomplete export of"
        say(
            f"{done} {result.model} for {result.target} into {result.folder} "
            f"(export {result.export_id[:12]}, image {result.image})"
        )
        if result.ok:
            say(f"build: docker build -t {result.image} {result.folder}")
    for problem in result.problems:
        warn(problem)
    if not result.ok:
        raise CheckFailed(
            f"the image of {result.model} cannot be built exactly as recorded",
            hint="see the warnings above",
        )


def _rows(found: list[Deployment]) -> list[tuple[str, ...]]:
    return [
        (
            d.place,
            d.ref,
            d.image or "-",
            _when(d.recorded_ms),
            d.recorded_by,
            d.source,
        )
        for d in found
    ]


@deploy_group.command("record")
@MODEL_ARGUMENT
@click.option("--where", "place", required=True, help="Where it runs now, e.g. prod-eu.")
@click.option("--image", required=True, metavar="NAME@sha256:DIGEST", help="The image it runs.")
@click.option("--note", help="Anything worth keeping (a rollout id, a ticket).")
@JSON_OPTION
def record(reference: str, place: str, image: str, note: str | None, json_output: bool) -> None:
    """Record that MODEL_REF now runs at a place, in an image pinned by digest (for CI, after
    a rollout)."""
    done = deploy.record(reference, place, image=image, note=note)
    if json_output:
        print_json(done.to_dict())
    else:
        say(f"{done.ref} runs at {done.place} since {_when(done.recorded_ms)} ({done.image})")


@deploy_group.command("list")
@click.argument("model", required=False, shell_complete=completion.model_names)
@click.option("--where", "place", help="Only this place.")
@click.option("--all", "show_all", is_flag=True, help="Every record, oldest first.")
@JSON_OPTION
def list_deployments(
    model: str | None, place: str | None, show_all: bool, json_output: bool
) -> None:
    """What runs where: model version, image, since when and by whom (of MODEL)."""
    found = (deploy.history if show_all else deploy.list)(model, where=place)
    if json_output:
        print_json([d.to_dict() for d in found])
        return
    if not found:
        say("No deployments recorded." + ("" if model is None else f" (of {model})"))
        return
    print_table(["where", "model", "image", "since", "by", "via"], _rows(found))


@deploy_group.command("unpack")
@click.argument("bundle", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--into",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The workspace to take the model into (created if needed).",
)
@click.option("--model-id", required=True, help="The model the folder must hold.")
def unpack(bundle: Path, into: Path, model_id: str) -> None:
    """Take an export's model folder into a workspace, every object hash-verified (the build
    step of the exported Dockerfile)."""
    version = deploy.unpack(bundle, into, model_id=model_id)
    say(f"took {version.ref} (model {version.model_id[:12]}) into {into}")
