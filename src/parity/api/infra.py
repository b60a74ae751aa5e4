"""Infrastructure files in lineage: what a run stored, and how two runs' files differ.

>>> parity.api.infra.show("0190ab12").files            # doctest: +SKIP
>>> print(parity.api.infra.diff("0190ab12", "0190ab13").changed[0].diff)  # doctest: +SKIP

A run stores the files ``[lineage] infra`` globs in ``.parity/config.toml`` match (and
``parity run --infra GLOB``, ``parity.start_run(infra=[...])``): Dockerfiles, Kubernetes
manifests, Helm values, Terraform. Secret-looking values are replaced before anything is stored
(a warning names each one), and a file that is a secret as a whole is refused.
"""

from __future__ import annotations

from parity.api._infra import run_infra
from parity.api._session import session
from parity.core.errors import NotFoundError
from parity.core.infra import InfraChange, InfraFile, InfraSnapshot, RefusedFile
from parity.deploy.infra_diff import FileDiff, InfraDiff, file_diffs
from parity.workspace import Workspace

__all__ = [
    "FileDiff",
    "InfraChange",
    "InfraDiff",
    "InfraFile",
    "InfraSnapshot",
    "RefusedFile",
    "diff",
    "show",
]


def show(run: str, *, workspace: Workspace | None = None) -> InfraSnapshot:
    """The infrastructure files ``run`` stored (NotFoundError when it stored none).

    >>> [f.path for f in parity.api.infra.show("0190ab12").files]   # doctest: +SKIP
    ['Dockerfile', 'deploy/app.yaml', 'infra/main.tf']
    """
    with session(workspace) as ws:
        view = ws.runs.find(run)
        found = run_infra(ws, view)
        if found is None:
            short = ws.runs.short_ids([view.id])[view.id]
            raise NotFoundError(
                f"run {short} stored no infrastructure files",
                hint='list them in .parity/config.toml: [lineage] infra = ["Dockerfile", …]',
            )
        return found[1]


def diff(run_a: str, run_b: str, *, workspace: Workspace | None = None) -> InfraDiff:
    """The infrastructure files of two runs, path by path, each changed one with a unified diff
    of what was stored (redacted values read the same on both sides).

    >>> parity.api.infra.diff("0190ab12", "0190ab13").identical   # doctest: +SKIP
    False
    """
    with session(workspace) as ws:
        a, b = ws.runs.find(run_a), ws.runs.find(run_b)
        found_a, found_b = run_infra(ws, a), run_infra(ws, b)
        files = file_diffs(
            ws.objects,
            found_a[1] if found_a else None,
            found_b[1] if found_b else None,
        )
        return InfraDiff(
            a.id,
            b.id,
            found_a[0] if found_a else None,
            found_b[0] if found_b else None,
            files,
        )
