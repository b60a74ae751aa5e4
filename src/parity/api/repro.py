"""Reproduce a run: plan it, re-derive it, and say whether it reproduced and why not.

>>> from parity.api import repro
>>> repro.plan("churn@candidate").expectation              # doctest: +SKIP
<Expectation.BITWISE: 'bitwise'>
>>> report = repro.run("churn@candidate", venv=".venv-repro")  # doctest: +SKIP
>>> report.verdict, [c.text for c in report.causes]          # doctest: +SKIP

A run is named by its id (or a unique prefix) or by a model registered from it (``NAME@ALIAS``,
``NAME/VERSION``). Every repro is recorded as a run of its own that ``reproduces`` the original:
``history`` lists them, lineage and ``models show`` show the latest.
"""

from __future__ import annotations

import builtins
import dataclasses
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from packaging.utils import canonicalize_name

from parity.api._repro_facts import make_plan, resolve_run, subject_of
from parity.api._reproduce import Options, reproduce
from parity.api._session import session
from parity.core.canonical import parse_canonical
from parity.core.errors import UsageError
from parity.data.manifest import DATA_KIND
from parity.repro.plan import Expectation, Plan
from parity.repro.report import ReproReport
from parity.repro.store import Reproduction
from parity.repro.verdict import Verdict
from parity.workspace import Workspace

__all__ = [
    "Expectation",
    "Plan",
    "ReproReport",
    "Reproduction",
    "Verdict",
    "history",
    "parse_tolerances",
    "plan",
    "report",
    "run",
]

PathLike = str | os.PathLike[str]


def plan(
    reference: str, *, venv: PathLike | None = None, workspace: Workspace | None = None
) -> Plan:
    """Predict, without running anything, whether ``reference``'s run would reproduce here:
    ``bitwise``, ``close`` or ``not expected``, with the reasons, and what would stop it.

    >>> repro.plan("0190ab12").reasons                      # doctest: +SKIP
    """
    with session(workspace) as ws:
        subject = subject_of(ws, resolve_run(ws, reference))
        return make_plan(ws, subject, None if venv is None else Path(venv))


def run(
    reference: str,
    *,
    venv: PathLike | None = None,
    runs: int = 1,
    tolerances: Mapping[str, float] | None = None,
    strict: bool = False,
    data: Mapping[str, str] | None = None,
    wheels_dir: PathLike | None = None,
    exclude: Iterable[str] = (),
    output: IO[bytes] | None = None,
    workspace: Workspace | None = None,
) -> ReproReport:
    """Re-derive ``reference``'s run and compare: verdict ``identical``, ``within tolerance``,
    ``different`` or ``could not run``, with the likely causes ranked.

    >>> repro.run("churn@candidate", runs=3).noise          # doctest: +SKIP

    The code is checked out at its commit in a temporary git worktree (the recorded diff and
    untracked files applied), the input data versions written there hash-verified, and the
    recorded command run in ``venv``: a venv used as it is when it exists, else restored there
    from the run's environment (default: a venv cached per environment in the workspace).
    ``runs`` re-runs it that many times to measure its noise; ``tolerances`` maps a metric or
    path (``*``: all) to a relative tolerance; ``strict`` passes only ``identical``; ``data``
    maps an input path to another data version, to see what a change of data does;
    ``wheels_dir`` and ``exclude`` are as for ``environments.restore``; ``output`` receives the
    command's output. Nothing is restored from a cache in place of re-running it.
    """
    if runs < 1:
        raise UsageError(f"--runs must be at least 1, not {runs}", hint="e.g. --runs 3")
    options = Options(
        venv=None if venv is None else Path(venv).absolute(),
        runs=runs,
        tolerances=dict(tolerances or {}),
        strict=strict,
        data={},
        wheels_dir=None if wheels_dir is None else Path(wheels_dir).absolute(),
        exclude=frozenset(canonicalize_name(name) for name in exclude),
        output=output,
    )
    with session(workspace) as ws:
        started = time.perf_counter()
        overrides = {p: ws.records.resolve(v, kind=DATA_KIND) for p, v in (data or {}).items()}
        options = dataclasses.replace(options, data=overrides)
        subject = subject_of(ws, resolve_run(ws, reference))
        made = make_plan(ws, subject, options.venv)
        planned = time.perf_counter() - started
        return reproduce(ws, subject, made, reference, options, planned)


def history(reference: str, *, workspace: Workspace | None = None) -> builtins.list[Reproduction]:
    """Every repro of ``reference``'s run (a run id or a model reference), oldest first.

    >>> repro.history("churn@production")[-1].verdict       # doctest: +SKIP
    'identical'
    """
    with session(workspace) as ws:
        return ws.reproductions.of([resolve_run(ws, reference).id])


def report(reproduction: Reproduction, *, workspace: Workspace | None = None) -> dict[str, object]:
    """The stored report of one repro (what ``parity repro --json`` printed), hash-verified."""
    with session(workspace) as ws:
        document = parse_canonical(ws.objects.get_bytes(reproduction.report_digest))
        if not isinstance(document, dict):
            raise UsageError(f"the report {reproduction.report_digest[:12]} is not an object")
        return document


def parse_tolerances(pairs: Iterable[str]) -> dict[str, float]:
    """``["accuracy=0.01", "*=1e-6"]`` → ``{"accuracy": 0.01, "*": 1e-06}``: relative
    tolerances as ``--tolerance`` takes them."""
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not sep or not key or not number >= 0:
            raise UsageError(
                f"--tolerance {pair!r} is not METRIC=REL", hint="e.g. --tolerance accuracy=0.01"
            )
        found[key.strip()] = number
    return found
