"""Shell completion: ``parity completion SHELL`` prints the script, and arguments that name runs,
metrics and models complete from the workspace around the current folder.

Click drives completion: the shell calls ``parity`` with ``_PARITY_COMPLETE`` set, and each
argument's ``shell_complete`` function below lists what may come next. A completer never fails
aloud: outside a workspace it offers nothing.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import click
from click.shell_completion import CompletionItem, get_completion_class

from parity.core.errors import ParityError

COMPLETE_VARIABLE = "_PARITY_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
# Newest first; older runs still complete once a prefix narrows them (see run_ids).
_RUNS_OFFERED = 200


def _quietly(find: Callable[[], list[CompletionItem]]) -> list[CompletionItem]:
    try:
        return find()
    except ParityError:  # no workspace here, or an unreadable one: nothing to offer
        return []


def run_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Run ids (full, so any prefix typed so far still matches), with experiment and name."""

    def find() -> list[CompletionItem]:
        from parity.api import runs  # lazy: the store (SQLAlchemy) loads only when a shell asks

        prefix = incomplete.lower()
        if not set(prefix) <= set(string.hexdigits):
            return []
        where = f"attributes.id LIKE '{prefix}%'" if prefix else None
        found = runs.list(filter=where, limit=_RUNS_OFFERED)
        return [
            CompletionItem(run.id, help=" ".join(filter(None, (run.experiment, run.name))))
            for run in found
            if run.id.startswith(prefix)
        ]

    return _quietly(find)


def metric_keys(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The metrics of the run named before (``runs history RUN <TAB>``), else of any run."""

    def find() -> list[CompletionItem]:
        from parity.api import runs  # lazy: the store (SQLAlchemy) loads only when a shell asks

        run = ctx.params.get("run")
        names = sorted(runs.get(run).metrics) if run else runs.keys()["metrics"]
        return [CompletionItem(name) for name in names if name.startswith(incomplete)]

    return _quietly(find)


def model_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Registered model names."""

    def find() -> list[CompletionItem]:
        from parity.api import models  # lazy: the store (SQLAlchemy) loads only when a shell asks

        names = [str(m["name"]) for m in models.list()]
        return [CompletionItem(name) for name in names if name.startswith(incomplete)]

    return _quietly(find)


def model_references(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``NAME``, ``NAME@ALIAS`` and ``NAME/VERSION`` of every registered model."""

    def find() -> list[CompletionItem]:
        from parity.api import models  # lazy: the store (SQLAlchemy) loads only when a shell asks

        offered = []
        for model in models.list():
            name = str(model["name"])
            offered.append(CompletionItem(name, help="its latest version"))
            for alias, version in sorted(model["aliases"].items()):
                offered.append(CompletionItem(f"{name}@{alias}", help=f"version {version}"))
            for version in range(int(model["latest_version"] or 0), 0, -1):
                offered.append(CompletionItem(f"{name}/{version}"))
        return [item for item in offered if str(item.value).startswith(incomplete)]

    return _quietly(find)


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
        eval "$(parity completion bash)"     # in ~/.bashrc
        eval "$(parity completion zsh)"      # in ~/.zshrc
        parity completion fish > ~/.config/fish/completions/parity.fish

    Commands and options complete, and so do run ids, metric names, model names, NAME@ALIAS
    and NAME/VERSION, read from the workspace around the current folder.
    """
    script_class = get_completion_class(shell)
    assert script_class is not None  # click.Choice allows only the shells Click knows
    root = ctx.find_root().command  # the whole command tree, whose commands load lazily
    click.echo(script_class(root, {}, "parity", COMPLETE_VARIABLE).source())
