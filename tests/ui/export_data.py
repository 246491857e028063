"""A small, deterministic database for the Export screen tests: approved memories of the developer
tier and of two projects, pinned and unpinned session memories, and memories that must never be
exported (proposed, rejected, forgotten). Made with the core's own `memories.add`, then given fixed
timestamps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from memtui.core import memories
from memtui.core.db import open_database

SHOP = "/work/shop"
API = "/work/api"
MARKUP = "[bold red]not markup[/] [link=https://x.test]link[/link] :smile:"
BASE_TIME = 1_741_000_000.0  # 2025-03-03


# (key, text, tier, kind, project, pinned)
APPROVED = [
    ("dev-tabs", "Indent with four spaces, never tabs.", "developer", "preference", None, True),
    ("dev-commits", "Write commit messages in the imperative mood, under 72 characters.", "developer", "convention", None, False),
    ("dev-markup", "Quote literally: " + MARKUP, "developer", "preference", None, False),
    ("shop-pnpm", "Use pnpm, never npm, in this repository.", "project", "constraint", SHOP, True),
    ("shop-cents", "Store money as integer cents, never floats; the cart and the invoices both rely on it.",
     "project", "convention", SHOP, False),
    ("shop-port", "The API server listens on port 8080.", "project", "fact", SHOP, False),
    ("shop-tests", "Run the tests with `pnpm test -- --run`; the watch mode hangs in CI.", "project", "fact", SHOP, False),
    ("shop-redis", "The session store talks to Redis through src/lib/cache.ts, never directly.",
     "project", "relationship", SHOP, False),
    ("shop-orm", "Tried Prisma for the order tables and gave it up: the migrations fought the existing schema.",
     "project", "failed_approach", SHOP, False),
    ("shop-tz", "Dates are stored in UTC and shown in the shop's own time zone.", "project", "decision", SHOP, False),
    ("shop-next", "Next: finish the refund flow in src/refunds.ts and add its tests.", "session", "todo", SHOP, True),
    ("shop-old-session", "Was halfway through renaming price to priceCents.", "session", "todo", SHOP, False),
    ("api-staging", "Deploys go through the staging cluster first, always.", "project", "constraint", API, False),
    ("api-go", "The API is written in Go 1.22; run it with `make run`.", "project", "fact", API, True),
]

# Never exported: (key, text, tier, project, what happens to it)
HIDDEN = [
    ("shop-proposed", "PROPOSED-ONLY: the cart uses floats.", "project", SHOP, "proposed"),
    ("shop-rejected", "REJECTED-ONLY: switch the shop to yarn.", "project", SHOP, "rejected"),
    ("shop-forgotten", "FORGOTTEN-ONLY: the shop ran on port 3000.", "project", SHOP, "forgotten"),
    ("dev-proposed", "PROPOSED-ONLY: prefers tabs.", "developer", None, "proposed"),
    ("dev-forgotten", "FORGOTTEN-ONLY: prefers light themes.", "developer", None, "forgotten"),
]
HIDDEN_MARKERS = ("PROPOSED-ONLY", "REJECTED-ONLY", "FORGOTTEN-ONLY")


@dataclass
class ExportData:
    path: Path
    memories: dict[str, int] = field(default_factory=dict)  # key -> memory id


def build_export_db(tmp: Path) -> ExportData:
    tmp.mkdir(parents=True, exist_ok=True)
    data = ExportData(tmp / "memtui.db")
    db = open_database(data.path)
    try:
        for key, text, tier, kind, project, pinned in APPROVED:
            data.memories[key] = memories.add(db, text, tier=tier, kind=kind, project=project or SHOP, pinned=pinned)
        for key, text, tier, project, fate in HIDDEN:
            memory_id = memories.add(db, text, tier=tier, kind="fact", project=project or SHOP)
            data.memories[key] = memory_id
            if fate == "proposed":
                memories.unreview(db, [memory_id])
            elif fate == "rejected":
                memories.reject(db, [memory_id])
            else:
                memories.forget(db, [memory_id])
        # Fixed times: one minute apart, in the order above.
        for n, memory_id in enumerate(data.memories.values()):
            t = BASE_TIME + 60 * n
            db.execute_sql(
                "UPDATE memory SET created_at = ?, updated_at = ?, last_seen_at = ?,"
                " forgotten_at = CASE WHEN forgotten_at IS NULL THEN NULL ELSE ? END WHERE id = ?",
                (t, t, t, t + 30, memory_id),
            )
        db.execute_sql("UPDATE project SET created_at = ?", (BASE_TIME,))
    finally:
        db.close()
    return data
