"""DVC pipeline stages as Parity runs: each stage ``dvc.lock`` recorded (its command, params,
dependencies and outputs as they were) becomes one finished run in experiment ``dvc``.

A stage unchanged across commits ran once, so it is one run, tagged with the first commit whose
``dvc.lock`` recorded it. The run carries the stage's key (a digest of what the lock recorded),
which is how a second import knows it is there and adds nothing.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from parity.core.ids import digest_bytes
from parity.core.run import DataLink, RunStatus
from parity.migrate.dvc.files import DIR_SUFFIX, DvcOutput, DvcStage
from parity.tracking.repository import RunRepository

EXPERIMENT = "dvc"
KEY_TAG = "dvc.stage_key"
STAGE_TAG = "dvc.stage"
COMMIT_TAG = "dvc.commit"
LOCK_TAG = "dvc.lock"
UNVERSIONED_TAG = "dvc.deps_not_imported"  # JSON {path: md5} of dependencies git keeps


def origin_of(md5: str, is_dir: bool) -> str:
    """How a data version's DVC origin is written in commit pointers: ``dvc:md5:<md5>[.dir]``."""
    return f"dvc:md5:{md5}{DIR_SUFFIX if is_dir else ''}"


def output_origin(output: DvcOutput) -> str:
    return origin_of(output.md5, output.is_dir)


def stage_key(stage: DvcStage) -> str:
    """A digest of everything the lock recorded for the stage (not of where it was found)."""
    document = {
        "lock": stage.lock,
        "name": stage.name,
        "command": list(stage.command),
        "deps": [[d.path, d.md5, d.is_dir] for d in stage.deps],
        "outs": [[o.path, o.md5, o.is_dir] for o in stage.outs],
        "params": stage.params,
    }
    return digest_bytes(json.dumps(document, sort_keys=True, default=str).encode())


def command_of(stage: DvcStage) -> tuple[str, ...]:
    """The stage's command as an argument list (a list of commands runs in one shell)."""
    if len(stage.command) == 1:
        try:
            return tuple(shlex.split(stage.command[0])) or ("true",)
        except ValueError:  # unbalanced quotes: leave it to the shell, as DVC did
            pass
    return ("sh", "-c", " && ".join(stage.command))


def params_of(stage: DvcStage) -> dict[str, object]:
    """``params.yaml``'s keys as they are; another file's as ``FILE:KEY``."""
    params: dict[str, object] = {}
    for file, values in stage.params.items():
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            params[str(key) if file == "params.yaml" else f"{file}:{key}"] = value
    return params


def imported_stage_keys(runs: RunRepository) -> set[str]:
    """The stage keys of every run an import recorded before."""
    return {
        view.tags[KEY_TAG] for view in runs.search(experiment=EXPERIMENT) if KEY_TAG in view.tags
    }


@dataclass(frozen=True)
class StageRun:
    stage: DvcStage
    commit: str | None  # the first commit that recorded it (None: only the work tree's lock)


def record_stage(
    runs: RunRepository, found: StageRun, versions: Mapping[tuple[str, str], str], user: str
) -> str:
    """Record ``found`` as a finished run; ``versions`` maps (path, origin) to the data versions
    the import made. Returns the run id."""
    stage = found.stage
    inputs, unversioned = [], {}
    for dep in stage.deps:
        version = versions.get((dep.path, origin_of(dep.md5, dep.is_dir))) if dep.md5 else None
        if version is not None:
            inputs.append(DataLink(dep.path, version))
        else:
            unversioned[dep.path] = dep.md5
    outputs = [
        DataLink(out.path, versions[(out.path, output_origin(out))])
        for out in stage.outs
        if (out.path, output_origin(out)) in versions
    ]
    run_id = runs.create(
        experiment=EXPERIMENT, name=stage.name, user=user, host=None, command=command_of(stage)
    )
    params = params_of(stage)
    if params:
        runs.log_params(run_id, params)
    tags: dict[str, object] = {KEY_TAG: stage_key(stage), STAGE_TAG: stage.name}
    tags[LOCK_TAG] = stage.lock
    if found.commit is not None:
        tags[COMMIT_TAG] = found.commit
    if unversioned:
        tags[UNVERSIONED_TAG] = json.dumps(unversioned, sort_keys=True)
    runs.set_tags(run_id, tags)
    runs.add_data(run_id, "input", inputs)
    runs.add_data(run_id, "output", outputs)
    runs.end(run_id, RunStatus.FINISHED, 0)
    return run_id
