"""What a flavor does: save a framework's model into files, and load it back from them.

Loading happens only after every file was verified against its digest (see registry.loading).
That proves the bytes are the registered ones, not that their author is harmless: pickles load
restricted to what this loader allows (flavors.pickle_policy), or plain only when the loading
side passes ``allow_unrestricted_pickle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol


class Flavor(Protocol):
    name: str

    def accepts(self, model: object) -> bool:
        """Whether this flavor knows how to save ``model``."""
        ...

    def save(
        self, model: object, directory: Path, *, allow_unrestricted_pickle: bool = False
    ) -> dict[str, Any]:
        """Write the model's files into ``directory``; return the loader settings to record.

        A flavor that would have to fall back to a pickle any code may hide in does so only
        with ``allow_unrestricted_pickle`` (and says so in the loader settings).
        """
        ...

    def load(
        self, directory: Path, loader: Mapping[str, Any], *, allow_unrestricted_pickle: bool = False
    ) -> Any:
        """Rebuild the model from verified files in ``directory``.

        Files saved as an unrestricted fallback pickle load only with ``allow_unrestricted_pickle``.
        """
        ...

    def referenced_modules(self, directory: Path, loader: Mapping[str, Any]) -> set[str]:
        """Python modules (dotted names) the saved model needs in order to load."""
        ...


def top_level(module: str) -> str:
    return module.split(".", 1)[0]
