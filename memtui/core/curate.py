"""Curating many memories: filtered, paged listing, forget rules (the trash) and durations.

Listing pages from the database (count + one page at a time, never every row); forget rules
select the stale memories that `memories.forget` then moves to the trash in one journal batch
(one undo step). Bulk actions on a selection are the plain `memories` functions
(forget/restore/purge/pin/approve/set_tier/set_kind), each one batch.

Forget rules: the *reasons* (older than, unseen for, session tier older than, below a
confidence) are alternatives: a memory goes when any of them holds. The *scope* (tiers, kinds,
project) narrows what they look at, and pinned memories stay unless `include_pinned`. A scope
without a reason forgets everything in that scope (`memtui forget --kind todo`); no rule at all
is refused, because it would forget everything.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from peewee import SqliteDatabase

from memtui.core.memories import _COLUMNS, _FROM, _records, project_filter
from memtui.core.models import KINDS, STATUSES, TIERS
from memtui.core.records import MemoryRecord

DAY = 86_400.0
SORTS = ("last_seen", "created", "confidence")  # all descending
_ORDER = {
    "last_seen": "m.last_seen_at DESC, m.id DESC",
    "created": "m.created_at DESC, m.id DESC",
    "confidence": "m.confidence DESC, m.id DESC",
}


@dataclass(frozen=True)
class MemoryQuery:
    tiers: tuple[str, ...] = ()  # empty = every tier
    statuses: tuple[str, ...] = ()  # proposed/approved/rejected; empty = all
    kinds: tuple[str, ...] = ()
    project: str | None = None  # a project root path, or a path inside it (or its name)
    pinned: bool | None = None  # None = either
    older_than_days: float | None = None  # created more than N days ago
    unseen_for_days: float | None = None  # last_seen more than N days ago
    forgotten: bool = False  # True = the trash (forgotten_at set), False = live memories
    sort: str = "last_seen"


def _in(column: str, values: tuple[str, ...], allowed: tuple[str, ...], what: str) -> tuple[str, list]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"unknown {what} {bad[0]!r} (choose from {', '.join(allowed)})")
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


def _scope(query_tiers, kinds, project) -> tuple[list[str], list]:
    where: list[str] = []
    args: list = []
    for column, values, allowed, what in (("m.tier", query_tiers, TIERS, "tier"), ("m.kind", kinds, KINDS, "kind")):
        if values:
            sql, a = _in(column, tuple(values), allowed, what)
            where.append(sql)
            args += a
    if project:
        sql, a = project_filter(project)
        where.append(sql)
        args += a
    return where, args


def _where(query: MemoryQuery, now: float | None = None) -> tuple[str, list]:
    """The WHERE clause (over `memory m LEFT JOIN project p`) for a query."""
    now = time.time() if now is None else now
    where, args = _scope(query.tiers, query.kinds, query.project)
    where.insert(0, "m.forgotten_at IS NOT NULL" if query.forgotten else "m.forgotten_at IS NULL")
    if query.statuses:
        sql, a = _in("m.status", tuple(query.statuses), STATUSES, "status")
        where.append(sql)
        args += a
    if query.pinned is not None:
        where.append("m.pinned = ?")
        args.append(1 if query.pinned else 0)
    ages, ages_args = _age_conditions(query.older_than_days, query.unseen_for_days, now)
    return " AND ".join(where + ages), args + ages_args


def _age_conditions(older_than_days, unseen_for_days, now: float) -> tuple[list[str], list]:
    """Created more than / last seen more than N days before `now`."""
    conditions, args = [], []
    for column, days in (("m.created_at", older_than_days), ("m.last_seen_at", unseen_for_days)):
        if days is not None:
            conditions.append(f"{column} < ?")
            args.append(now - days * DAY)
    return conditions, args


def _needs_project(query_project: str | None) -> str:
    return " LEFT JOIN project p ON p.id = m.project_id" if query_project else ""


def count_memories(db: SqliteDatabase, query: MemoryQuery) -> int:
    where, args = _where(query)
    return db.execute_sql(f"SELECT COUNT(*) FROM memory m{_needs_project(query.project)} WHERE {where}", args).fetchone()[0]


def page_memories(db: SqliteDatabase, query: MemoryQuery, offset: int, limit: int) -> list[MemoryRecord]:
    """One page of matching memories in `query.sort` order (without evidence, for speed)."""
    if query.sort not in _ORDER:
        raise ValueError(f"unknown sort {query.sort!r} (choose from {', '.join(SORTS)})")
    where, args = _where(query)
    # Page the ids first (a narrow scan), then read the rows of that page only.
    rows = db.execute_sql(
        f"SELECT {_COLUMNS}{_FROM} WHERE m.id IN (SELECT m.id FROM memory m{_needs_project(query.project)}"
        f" WHERE {where} ORDER BY {_ORDER[query.sort]} LIMIT ? OFFSET ?) ORDER BY {_ORDER[query.sort]}",
        [*args, max(0, int(limit)), max(0, int(offset))],
    ).fetchall()
    return _records(db, rows, with_evidence=False)


def memory_ids(db: SqliteDatabase, query: MemoryQuery) -> list[int]:
    """Every matching id in `query.sort` order ("select all matching")."""
    where, args = _where(query)
    order = _ORDER.get(query.sort, _ORDER["last_seen"])
    return [r[0] for r in db.execute_sql(
        f"SELECT m.id FROM memory m{_needs_project(query.project)} WHERE {where} ORDER BY {order}", args
    )]


def list_projects(db: SqliteDatabase, forgotten: bool | None = None) -> list[tuple[int, str]]:
    """(project id, root path) of the projects having memories (live, forgotten or either: None)."""
    cond = "" if forgotten is None else (" AND m.forgotten_at IS NOT NULL" if forgotten else " AND m.forgotten_at IS NULL")
    return [tuple(r) for r in db.execute_sql(
        "SELECT p.id, p.root FROM project p WHERE EXISTS"
        f" (SELECT 1 FROM memory m WHERE m.project_id = p.id{cond}) ORDER BY p.root"
    )]


# --- forget rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ForgetRules:
    older_than_days: float | None = None
    unseen_for_days: float | None = None
    session_older_than_days: float | None = None  # only session-tier memories created more than N days ago
    below_confidence: float | None = None
    tiers: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    project: str | None = None
    include_pinned: bool = False

    def reasons(self) -> bool:
        return any(
            v is not None
            for v in (self.older_than_days, self.unseen_for_days, self.session_older_than_days, self.below_confidence)
        )

    def is_empty(self) -> bool:
        """No rule at all: forgetting would take every memory, so it is refused."""
        return not (self.reasons() or self.tiers or self.kinds or self.project)


def _rules_where(rules: ForgetRules, now: float | None = None) -> tuple[str, list]:
    if rules.is_empty():
        raise ValueError("no forget rule given: that would forget every memory")
    now = time.time() if now is None else now
    where, args = _scope(rules.tiers, rules.kinds, rules.project)
    where.insert(0, "m.forgotten_at IS NULL")
    if not rules.include_pinned:
        where.append("m.pinned = 0")
    reasons, reasons_args = _age_conditions(rules.older_than_days, rules.unseen_for_days, now)
    args += reasons_args
    if rules.session_older_than_days is not None:
        reasons.append("(m.tier = 'session' AND m.created_at < ?)")
        args.append(now - rules.session_older_than_days * DAY)
    if rules.below_confidence is not None:
        reasons.append("m.confidence < ?")
        args.append(rules.below_confidence)
    if reasons:
        where.append("(" + " OR ".join(reasons) + ")")
    return " AND ".join(where), args


def stale_ids(db: SqliteDatabase, rules: ForgetRules) -> list[int]:
    """The live memories the rules would forget, least recently seen first."""
    where, args = _rules_where(rules)
    return [r[0] for r in db.execute_sql(
        f"SELECT m.id FROM memory m{_needs_project(rules.project)} WHERE {where} ORDER BY m.last_seen_at, m.id", args
    )]


def preview_stale(db: SqliteDatabase, rules: ForgetRules, limit: int = 50) -> tuple[int, list[MemoryRecord]]:
    """(how many the rules would forget, the first `limit` of them by last_seen ascending)."""
    where, args = _rules_where(rules)
    join = _needs_project(rules.project)
    (count,) = db.execute_sql(f"SELECT COUNT(*) FROM memory m{join} WHERE {where}", args).fetchone()
    rows = db.execute_sql(
        f"SELECT {_COLUMNS}{_FROM} WHERE m.id IN (SELECT m.id FROM memory m{join} WHERE {where}"
        " ORDER BY m.last_seen_at, m.id LIMIT ?) ORDER BY m.last_seen_at, m.id",
        [*args, max(0, int(limit))],
    ).fetchall()
    return count, _records(db, rows, with_evidence=False)


_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)
_UNITS = {"": 1.0, "d": 1.0, "day": 1.0, "days": 1.0, "h": 1 / 24, "hour": 1 / 24, "hours": 1 / 24,
          "w": 7.0, "week": 7.0, "weeks": 7.0}


def parse_duration(text: str) -> float:
    """'90d', '12h', '2w' or a plain number of days -> days. ValueError with a clear message."""
    match = _DURATION.fullmatch(str(text))
    unit = match.group(2).lower() if match else None
    if unit not in _UNITS:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90d, 12h, 2w, or a number of days)")
    return float(match.group(1)) * _UNITS[unit]
