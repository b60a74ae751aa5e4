"""Short run ids: each id's shortest unique prefix, found in a query or two for a whole listing.

Of all run ids, the two beside an id in sorted order share the longest prefixes with it, so its
short id follows from those two neighbours. A listing mostly shows runs that sit together in
that order (the newest fifty, an experiment's runs), so one range read of the ids between the
first and the last, and the ids just outside, gives every neighbour. Ids scattered over many
other runs (a filter matching a few of thousands) are looked up instead, both neighbours of up
to ``LOOKUP_CHUNK`` ids in one query.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from parity.core.ids import RUN_PREFIX_LENGTH, unique_prefix
from parity.store.meta.tracking_tables import runs

# A range read takes up to this many ids per id shown before lookups are cheaper.
RANGE_FACTOR = 4
# Ids whose neighbours one lookup query finds (two bound values and index lookups each).
LOOKUP_CHUNK = 200


def short_ids(connection: Connection, run_ids: Iterable[str]) -> dict[str, str]:
    """Each of ``run_ids`` with the shortest prefix (at least 8 characters) no other run of
    the store starts with, deleted runs included."""
    wanted = sorted(set(run_ids))
    if not wanted:
        return {}
    neighbours = _by_range(connection, wanted)
    if neighbours is None:
        neighbours = _by_lookup(connection, wanted)
    return {
        run_id: unique_prefix(run_id, [n for n in pair if n is not None], RUN_PREFIX_LENGTH)
        for run_id, pair in neighbours.items()
    }


Neighbours = dict[str, tuple[str | None, str | None]]


def _by_range(connection: Connection, wanted: list[str]) -> Neighbours | None:
    """Neighbours from the ids between the first and last wanted one; None when there are
    too many of those to read."""
    column = runs.c.run_id
    limit = RANGE_FACTOR * len(wanted) + 16
    inside = select(column).where(column.between(wanted[0], wanted[-1]))
    ids = [str(i) for i in connection.execute(inside.order_by(column).limit(limit + 1)).scalars()]
    if len(ids) > limit:
        return None
    outside = select(
        select(func.max(column)).where(column < wanted[0]).scalar_subquery(),
        select(func.min(column)).where(column > wanted[-1]).scalar_subquery(),
    )
    before, after = connection.execute(outside).one()
    every = [str(before)] * (before is not None) + ids + [str(after)] * (after is not None)
    found: Neighbours = {}
    for run_id in wanted:
        at = bisect.bisect_left(every, run_id)
        present = at < len(every) and every[at] == run_id
        following = at + 1 if present else at
        found[run_id] = (
            every[at - 1] if at > 0 else None,
            every[following] if following < len(every) else None,
        )
    return found


def _by_lookup(connection: Connection, wanted: list[str]) -> Neighbours:
    column = runs.c.run_id
    found: Neighbours = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        lookups = []
        for run_id in chunk:
            lookups.append(select(func.max(column)).where(column < run_id))
            lookups.append(select(func.min(column)).where(column > run_id))
        row = connection.execute(select(*(q.scalar_subquery() for q in lookups))).one()
        for index, run_id in enumerate(chunk):
            before, after = row[2 * index], row[2 * index + 1]
            found[run_id] = (
                None if before is None else str(before),
                None if after is None else str(after),
            )
    return found
