"""Hold a re-run against the original: metrics by final value, then every file it produced.

Artifacts (logs left out: they hold times and ids) and data outputs are matched by path: the same
digest is identical; otherwise models are compared by predictions and files by what they hold
(``parity.repro.files``). Metrics compare by their last value within the tolerance of their
key (``--tolerance KEY=REL``; ``*`` for every key), else the default.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from parity.core.infra import INFRA_KIND
from parity.core.model import MODEL_KIND
from parity.core.run import Artifact, RunView
from parity.data.manifest import FileEntry
from parity.data.statcache import StatCache
from parity.data.versions import load_version
from parity.repro.files import compare_files
from parity.repro.inputs import materialise
from parity.repro.models import compare_models
from parity.repro.outcome import DEFAULT_TOLERANCE, Comparison, Outcome, judge, relative_error
from parity.store.records import RecordStore

# stdout/stderr tails (times and ids differ by nature), the repro's own report, and the
# infrastructure files: where a model runs, checked out with the run's code, not a result of it.
NOT_COMPARED = ("log", "report", INFRA_KIND)


def tolerance_for(key: str, tolerances: Mapping[str, float]) -> float:
    return tolerances.get(key, tolerances.get("*", DEFAULT_TOLERANCE))


def compare_metrics(
    original: RunView, reproduced: RunView, tolerances: Mapping[str, float]
) -> list[Comparison]:
    found = []
    for key in sorted(set(original.metrics) | set(reproduced.metrics)):
        a, b = original.metrics.get(key, "missing"), reproduced.metrics.get(key, "missing")
        if a == b:
            found.append(Comparison("metric", key, Outcome.IDENTICAL, "same value", 0, 0, a, b))
        elif not isinstance(a, float) or not isinstance(b, float):
            detail = "logged by one run only" if "missing" in (a, b) else "NaN on one side"
            found.append(Comparison("metric", key, Outcome.DIFFERENT, detail, None, None, a, b))
        else:
            errors = (abs(a - b), relative_error(a, b))
            outcome = judge(errors, tolerance_for(key, tolerances))
            found.append(Comparison("metric", key, outcome, f"{a!r} → {b!r}", *errors, a, b))
    return found


def _artifacts(view: RunView) -> dict[str, Artifact]:
    return {a.path: a for a in view.artifacts if a.kind not in NOT_COMPARED}


def compare_artifacts(
    records: RecordStore, original: RunView, reproduced: RunView, tolerances: Mapping[str, float]
) -> list[Comparison]:
    before, after = _artifacts(original), _artifacts(reproduced)
    found = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path), after.get(path)
        tolerance = tolerance_for(path, tolerances)
        if a is None or b is None:
            detail = "only the original has it" if b is None else "only the re-run has it"
            found.append(Comparison("artifact", path, Outcome.DIFFERENT, detail))
        elif a.digest == b.digest:
            found.append(Comparison(_kind(a), path, Outcome.IDENTICAL, "same bytes"))
        elif a.kind == MODEL_KIND and b.kind == MODEL_KIND:
            found.append(compare_models(records, path, a.digest, b.digest, tolerance))
        else:
            found.append(_blobs(records, path, a.digest, b.digest, tolerance))
    return found


def _kind(artifact: Artifact) -> str:
    return "model" if artifact.kind == MODEL_KIND else "artifact"


def _blobs(records: RecordStore, path: str, a: str, b: str, tolerance: float) -> Comparison:
    with tempfile.TemporaryDirectory(prefix="parity-compare-") as scratch:
        name = Path(path).name
        left, right = Path(scratch) / "a" / name, Path(scratch) / "b" / name
        records.objects.get_to_file(a, left)
        records.objects.get_to_file(b, right)
        return compare_files("artifact", path, left, right, tolerance)


def compare_outputs(
    records: RecordStore, original: RunView, reproduced: RunView, tolerances: Mapping[str, float]
) -> list[Comparison]:
    """Data outputs (``parity run --output``) by path: the same version, else file by file."""
    before = {link.path: link.data_version for link in original.outputs}
    after = {link.path: link.data_version for link in reproduced.outputs}
    found = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path), after.get(path)
        if a is None or b is None:
            detail = "only the original wrote it" if b is None else "only the re-run wrote it"
            found.append(Comparison("output", path, Outcome.DIFFERENT, detail))
        elif a == b:
            found.append(Comparison("output", path, Outcome.IDENTICAL, "same data version"))
        else:
            found.append(_versions(records, path, a, b, tolerance_for(path, tolerances)))
    return found


def _versions(records: RecordStore, path: str, a: str, b: str, tolerance: float) -> Comparison:
    objects = records.objects
    left_files = {f.path: f for f in load_version(objects, a).files}
    right_files = {f.path: f for f in load_version(objects, b).files}
    if sorted(left_files) != sorted(right_files):
        return Comparison("output", path, Outcome.DIFFERENT, "other files")
    changed = [name for name in sorted(left_files) if _differs(left_files, right_files, name)]
    with tempfile.TemporaryDirectory(prefix="parity-compare-") as scratch:
        root, name = Path(scratch), Path(path).name
        cache = StatCache(root / "stat.db")
        try:
            materialise(objects, cache, a, root / "a" / name, root)
            materialise(objects, cache, b, root / "b" / name, root)
        finally:
            cache.close()
        folder = (root / "a" / name).is_dir()
        results = [
            compare_files(
                "output",
                f"{path}/{file}" if folder else path,
                root / "a" / name / file if folder else root / "a" / name,
                root / "b" / name / file if folder else root / "b" / name,
                tolerance,
            )
            for file in changed
        ]
    worst = max(results, key=_rank, default=None)
    if worst is None:
        return Comparison("output", path, Outcome.IDENTICAL, "same files")
    return Comparison(
        "output",
        path,
        worst.outcome,
        f"{len(changed)} of {len(left_files)} files differ; {worst.subject}: {worst.detail}",
        worst.max_abs_error,
        worst.max_rel_error,
    )


def _differs(left: Mapping[str, FileEntry], right: Mapping[str, FileEntry], name: str) -> bool:
    return left[name].digest != right[name].digest


def _rank(comparison: Comparison) -> int:
    return [Outcome.IDENTICAL, Outcome.CLOSE, Outcome.DIFFERENT].index(comparison.outcome)


def compare_runs(
    records: RecordStore, original: RunView, reproduced: RunView, tolerances: Mapping[str, float]
) -> list[Comparison]:
    """Every comparison of ``reproduced`` with ``original``: metrics, artifacts, outputs."""
    return [
        *compare_metrics(original, reproduced, tolerances),
        *compare_artifacts(records, original, reproduced, tolerances),
        *compare_outputs(records, original, reproduced, tolerances),
    ]
