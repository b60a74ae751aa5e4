"""Command groups that still answer to the spellings their commands had before, unlisted.

docs/cli.md settles one word per meaning (``runs undelete``, ``data history``, ``remote delete``,
``object fsck``); the words they replaced keep working as hidden aliases, so scripts and habits
(``runs restore``, ``data log``, ``remote remove``, ``object verify``, ``ls``) do not break and
``--help`` shows one word for one thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click


class AliasedGroup(click.Group):
    """A group whose ``aliases`` (old or short spelling → command name) run the command they
    name without appearing in ``--help`` or in shell completion."""

    def __init__(self, *args: Any, aliases: Mapping[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.aliases = dict(aliases or {})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def words(self, ctx: click.Context) -> set[str]:
        """Every word that names one of its commands: names and aliases."""
        return set(self.list_commands(ctx)) | set(self.aliases)
