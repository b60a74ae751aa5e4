"""The model server's default limits, importable without loading the server's libraries."""

from __future__ import annotations

# Large enough for thousands of rows of a wide table in JSON; `parity serve --max-body-mib`.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
