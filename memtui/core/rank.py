"""How exported memories are ranked, and the index that hands them out in that order.

Rank: pinned first, then tier (TIER_ORDER), then kind (KIND_ORDER), then recency (last_seen_at,
newest first), then id (newest first). The first three are one number, the rank group:
(1 - pinned) * 10000 + 100 * tier + kind, with 99 for a tier or kind this version does not list.

`memory_rank` is a partial index over the approved, unforgotten memories (all an export reads)
in that order, holding every column an export of the documents needs (tier, kind, pinned,
project, text): an export reads it front to back instead of sorting the table, and never visits
the table itself. Its name carries a version: db.py drops any other `memory_rank*` index, so a
change of order here gives a new index on the next open.

Light (no peewee): the SessionStart hook imports it through export.py.
"""

from __future__ import annotations

TIER_ORDER = ("developer", "project", "session")
KIND_ORDER = (
    "constraint", "preference", "convention", "decision", "failed_approach", "bug_fix", "relationship", "fact", "todo",
)
UNKNOWN = 99  # the place of a tier or kind not listed above


def group_sql(alias: str = "m") -> str:
    """The rank group of a row of `memory` (aliased `alias`; "" for none), as SQL. The index is
    made with alias "" and queries use "m": SQLite matches the expressions, not their text."""
    p = f"{alias}." if alias else ""
    tiers = " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(TIER_ORDER))
    kinds = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(KIND_ORDER))
    return (
        f"(1 - {p}pinned) * 10000 + 100 * CASE {p}tier {tiers} ELSE {UNKNOWN} END"
        f" + CASE {p}kind {kinds} ELSE {UNKNOWN} END"
    )


def group_of(pinned: int, tier: str, kind: str) -> int:
    """group_sql's number for these values (pinned 0 or 1)."""
    t = TIER_ORDER.index(tier) if tier in TIER_ORDER else UNKNOWN
    k = KIND_ORDER.index(kind) if kind in KIND_ORDER else UNKNOWN
    return (1 - pinned) * 10000 + 100 * t + k


def exportable_sql(alias: str = "m") -> str:
    """What an export reads (besides its scope): the index's own condition, so that SQLite sees
    that a query with it may use the index."""
    p = f"{alias}." if alias else ""
    return f"{p}status = 'approved' AND {p}forgotten_at IS NULL"


def order_sql(alias: str = "m") -> str:
    """ORDER BY the rank: what the index is in."""
    p = f"{alias}." if alias else ""
    return f"{group_sql(alias)}, {p}last_seen_at DESC, {p}id DESC"


INDEX_NAME = "memory_rank_v3"
INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON memory(({group_sql('')}), last_seen_at DESC, id DESC,"
    f" tier, kind, pinned, project_id, text) WHERE {exportable_sql('')}"
)
