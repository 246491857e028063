"""A deterministic database for the Memories, Forget stale and Trash tests: the review database
(tests/ui/data.py: three imported sessions, four proposals with evidence) plus memories added by
hand across tiers, kinds, projects and statuses, with fixed timestamps (so snapshots show the
same dates in every run). `age` moves some of them to a time relative to now, for the age rules."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from memtui.core import memories
from memtui.core.db import open_database
from tests.ui.data import ReviewData, build_review_db

DAY = 86_400.0
T0 = 1_741_000_000.0  # 2025-03-03 11:06:40 UTC: every fixed timestamp is T0 + some days

# name -> (text, tier, kind, project, status, pinned, confidence, created day, last seen day)
EXTRA: dict[str, tuple] = {
    "functional": ("Prefers small pure functions over classes with state.", "developer", "preference", None,
                   "approved", True, 0.95, 1, 9),
    "tabs": ("Never reformat whole files: keep diffs minimal and reviewable.", "developer", "constraint", None,
             "approved", False, 0.9, 2, 8),
    "redis": ("The auth module talks to Redis for sessions; tokens expire after 12 hours.", "project",
              "relationship", "/work/api", "approved", False, 0.75, 3, 7),
    "migrations": ("Database migrations run with alembic upgrade head before the tests.", "project",
                   "convention", "/work/api", "proposed", False, 0.65, 4, 4),
    "orm": ("Tried SQLAlchemy async sessions; abandoned because of the greenlet errors.", "project",
            "failed_approach", "/work/api", "rejected", False, 0.4, 5, 5),
    "checkout": ("Fixed the checkout crash: a None coupon code was passed to the discount lookup.", "project",
                 "bug_fix", "/work/shop", "approved", False, 0.85, 6, 10),
    "next": ("Next: finish the refund flow and add tests for partial refunds.", "session", "todo", "/work/shop",
             "proposed", False, 0.5, 7, 7),
    "staging": ("Session summary: moved the staging deploy to the new cluster.", "session", "fact", "/work/api",
                "approved", False, 0.3, 8, 8),
    "decided": ("Decided to keep the monolith until the team grows past ten people.", "project", "decision",
                "/work/shop", "approved", True, 0.8, 9, 11),
}
# Already in the trash: name -> (text, tier, kind, project, forgotten day)
TRASHED: dict[str, tuple] = {
    "old-todo": ("Old todo: bump the node version in CI.", "session", "todo", "/work/shop", 12),
    "old-fact": ("The docs site used to build with Jekyll.", "project", "fact", "/work/notes", 13),
    "old-pref": ("Liked two-space indentation once.", "developer", "preference", None, 14),
}


@dataclass
class CurateData:
    path: Path
    review: ReviewData
    ids: dict[str, int] = field(default_factory=dict)  # name -> memory id (extra and trashed ones)
    _reader: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def proposals(self) -> list[int]:
        """The four imported proposals (shop: pnpm, cents, port; api: staging)."""
        return self.review.memories["shop"] + self.review.memories["api"]

    def db(self):
        return open_database(self.path)

    def rows(self, sql: str, *args) -> list[tuple]:
        """Read what the app wrote (one plain sqlite3 connection, autocommit: sees each commit)."""
        if self._reader is None:
            self._reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        return self._reader.execute(sql, args).fetchall()

    def memory(self, memory_id: int) -> dict:
        row = self.rows(
            "SELECT status, pinned, tier, kind, forgotten_at IS NOT NULL FROM memory WHERE id = ?", memory_id)
        if not row:
            return {}
        status, pinned, tier, kind, forgotten = row[0]
        return {"status": status, "pinned": bool(pinned), "tier": tier, "kind": kind, "forgotten": bool(forgotten)}

    def age(self, name_or_id: str | int, created_days_ago: float, seen_days_ago: float | None = None) -> None:
        """Make a memory created (and last seen) some days before now."""
        memory_id = self.ids[name_or_id] if isinstance(name_or_id, str) else name_or_id
        now = time.time()
        seen = created_days_ago if seen_days_ago is None else seen_days_ago
        db = self.db()
        try:
            db.execute_sql("UPDATE memory SET created_at = ?, last_seen_at = ? WHERE id = ?",
                           (now - created_days_ago * DAY, now - seen * DAY, memory_id))
        finally:
            db.close()


def build_curate_db(tmp: Path) -> CurateData:
    review = build_review_db(tmp)
    data = CurateData(review.path, review)
    db = open_database(data.path)
    try:
        with db.atomic():
            # The imported proposals: fixed dates too (shop's on day 0, api's on day 1).
            for n, memory_id in enumerate(data.proposals):
                day = 0 if n < 3 else 1
                db.execute_sql("UPDATE memory SET created_at = ?, updated_at = ?, last_seen_at = ? WHERE id = ?",
                               (T0 + day * DAY + n, T0 + day * DAY + n, T0 + day * DAY + n, memory_id))
            for name, (text, tier, kind, project, status, pinned, conf, created, seen) in EXTRA.items():
                memory_id = memories.add(db, text, tier=tier, kind=kind, project=project or "/work/shop", pinned=pinned)
                db.execute_sql(
                    "UPDATE memory SET status = ?, confidence = ?, created_at = ?, updated_at = ?, last_seen_at = ?,"
                    " extractor = 'heuristic' WHERE id = ?",
                    (status, conf, T0 + created * DAY, T0 + created * DAY, T0 + seen * DAY, memory_id),
                )
                data.ids[name] = memory_id
            for name, (text, tier, kind, project, day) in TRASHED.items():
                memory_id = memories.add(db, text, tier=tier, kind=kind, project=project or "/work/shop")
                db.execute_sql(
                    "UPDATE memory SET confidence = 0.5, created_at = ?, updated_at = ?, last_seen_at = ?,"
                    " forgotten_at = ? WHERE id = ?",
                    (T0, T0, T0 + DAY, T0 + day * DAY, memory_id),
                )
                data.ids[name] = memory_id
            # The adds above are not the test's actions: nothing for undo to find.
            db.execute_sql("DELETE FROM event WHERE action = 'add'")
    finally:
        db.close()
    return data
