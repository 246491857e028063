"""Queries and writes over the database; results are frozen dataclasses from records.py."""

from __future__ import annotations

import os
from typing import Iterable

from peewee import SqliteDatabase

from memtui.core.records import MessageRecord, ReviewCounts, SessionRecord, Stats, new_message

_PENDING = "m.status = 'proposed' AND m.forgotten_at IS NULL"
_SESSION_COLUMNS = (
    "s.id, s.tool, s.external_id, s.project_id, p.root, s.cwd, s.title, s.started_at, s.ended_at,"
    " s.model, s.git_branch, s.message_count, s.raw_size, s.review_state, s.parent_id, src.path,"
    " (SELECT COUNT(*) FROM memory m WHERE m.session_id = s.id AND m.status = 'proposed'"
    "  AND m.forgotten_at IS NULL)"
)
_SESSION_FROM = (
    " FROM session s LEFT JOIN project p ON p.id = s.project_id LEFT JOIN source src ON src.id = s.source_id"
)


def _session(row) -> SessionRecord:
    return SessionRecord(*row)


def list_sessions(
    db: SqliteDatabase,
    *,
    project: str | None = None,
    tool: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    unreviewed_first: bool = False,
) -> list[SessionRecord]:
    """Sessions, newest first. `project` matches a project root exactly or as a path prefix.

    With `unreviewed_first`, sessions that still have proposals waiting for review come first
    (each group newest first): the order of the TUI's review list.
    """
    where, args = [], []
    if project:
        root = os.path.abspath(os.path.expanduser(project)) if not project.startswith(("/", "\\")) else project
        where.append("(p.root = ? OR p.root LIKE ? ESCAPE '\\')")
        args += [root.rstrip("/"), _like_prefix(root.rstrip("/") + "/")]
    if tool:
        where.append("s.tool = ?")
        args.append(tool)
    sql = f"SELECT {_SESSION_COLUMNS}{_SESSION_FROM}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY "
    if unreviewed_first:
        sql += f"EXISTS (SELECT 1 FROM memory m WHERE m.session_id = s.id AND {_PENDING}) DESC, "
    sql += "COALESCE(s.started_at, 0) DESC, s.id DESC"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        args += [limit, offset]
    return [_session(r) for r in db.execute_sql(sql, args).fetchall()]


def review_counts(db: SqliteDatabase) -> ReviewCounts:
    """How much is waiting for review: for the TUI's title bar."""
    sessions = db.execute_sql("SELECT COUNT(*) FROM session").fetchone()[0]
    waiting, pending = db.execute_sql(
        f"SELECT COUNT(DISTINCT m.session_id), COUNT(*) FROM memory m WHERE {_PENDING}"
    ).fetchone()
    return ReviewCounts(sessions=sessions, sessions_pending=waiting, proposals_pending=pending)


def get_session(db: SqliteDatabase, session_id: int) -> SessionRecord | None:
    row = db.execute_sql(f"SELECT {_SESSION_COLUMNS}{_SESSION_FROM} WHERE s.id = ?", (session_id,)).fetchone()
    return _session(row) if row else None


def find_sessions(db: SqliteDatabase, refs: Iterable[str]) -> list[SessionRecord]:
    """Sessions named by database id, external id, or a unique external-id prefix."""
    found: list[SessionRecord] = []
    for ref in refs:
        rows = []
        if ref.isdigit():
            rows = db.execute_sql(f"SELECT {_SESSION_COLUMNS}{_SESSION_FROM} WHERE s.id = ?", (int(ref),)).fetchall()
        if not rows:
            rows = db.execute_sql(
                f"SELECT {_SESSION_COLUMNS}{_SESSION_FROM} WHERE s.external_id = ? OR s.external_id LIKE ? ESCAPE '\\'",
                (ref, _like_prefix(ref)),
            ).fetchall()
        if len(rows) != 1:
            raise LookupError(f"session {ref!r}: {'no match' if not rows else f'{len(rows)} matches'}")
        found.append(_session(rows[0]))
    return found


def session_messages(
    db: SqliteDatabase, session_id: int, *, offset: int = 0, limit: int | None = None
) -> list[MessageRecord]:
    """A session's messages in order; `offset`/`limit` read a part (the TUI reads the first
    messages of a long session, shows them, then reads the rest)."""
    sql = (
        "SELECT id, session_id, position, role, kind, tool_name, text, timestamp, external_id, group_id,"
        " is_error, original_len FROM message WHERE session_id = ? ORDER BY position"
    )
    args: list = [session_id]
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        args += [-1 if limit is None else limit, offset]  # (LIMIT -1: no limit)
    # A session can have thousands of messages (the TUI reads a whole one on each switch):
    # records.new_message fills the frozen dataclass's slots, about twice as fast as its __init__.
    return [
        new_message(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]), r[11])
        for r in db.execute_sql(sql, args).fetchall()
    ]


def data_version(db: SqliteDatabase) -> tuple[int, ...]:
    """A cheap fingerprint that changes whenever an import or a review action commits.

    (sessions, newest message id, newest journal event id, undone events, memories): a front end
    polls it to notice what another process (an import, the CLI) wrote. Undo and redo add no
    event but flip `undone`, hence the count of undone events.
    """
    return tuple(
        db.execute_sql(
            "SELECT (SELECT COUNT(*) FROM session), (SELECT COALESCE(MAX(id), 0) FROM message),"
            " (SELECT COALESCE(MAX(id), 0) FROM event), (SELECT COUNT(*) FROM event WHERE undone = 1),"
            " (SELECT COUNT(*) FROM memory)"
        ).fetchone()
    )


def stats(db: SqliteDatabase) -> Stats:
    one = lambda sql: db.execute_sql(sql).fetchone()[0]  # noqa: E731
    path = db.database
    size = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    return Stats(
        projects=one("SELECT COUNT(*) FROM project"),
        sources=one("SELECT COUNT(*) FROM source"),
        sessions=one("SELECT COUNT(*) FROM session"),
        messages=one("SELECT COUNT(*) FROM message"),
        memories=one("SELECT COUNT(*) FROM memory WHERE forgotten_at IS NULL"),
        memories_by_status=dict(
            db.execute_sql("SELECT status, COUNT(*) FROM memory WHERE forgotten_at IS NULL GROUP BY status").fetchall()
        ),
        memories_by_tier=dict(
            db.execute_sql("SELECT tier, COUNT(*) FROM memory WHERE forgotten_at IS NULL GROUP BY tier").fetchall()
        ),
        sessions_by_tool=dict(db.execute_sql("SELECT tool, COUNT(*) FROM session GROUP BY tool").fetchall()),
        db_path=path,
        db_bytes=size,
    )


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
