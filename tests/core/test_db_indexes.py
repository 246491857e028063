"""message has no index of session_id alone (db.OLD_INDEXES): each query memtui runs on messages by
session still searches an index, and a store made with the old index loses it when opened."""

from __future__ import annotations

import sqlite3

import pytest

from memtui.core.db import OLD_INDEXES, open_database
from tests.core.test_import_fts_mark import _add, _session

# memtui's queries of messages by session (pipeline, store, memories) and the foreign key's cascade
BY_SESSION = [
    "SELECT id FROM message WHERE session_id = ? ORDER BY position",
    "SELECT id, external_id FROM message WHERE session_id = ?",
    "SELECT COALESCE(MAX(position), -1) + 1, COUNT(*) FROM message WHERE session_id = ?",
    "SELECT position FROM message WHERE session_id = ? AND external_id = ?",
    "SELECT 1 FROM message WHERE session_id = ? AND external_id = ?",
    "SELECT COUNT(*) FROM message WHERE session_id = ?",
    "SELECT text FROM message WHERE session_id = ? AND role = 'user' AND kind = 'text' ORDER BY position LIMIT 1",
    "SELECT id, position, text FROM message WHERE session_id = ? ORDER BY position LIMIT 10 OFFSET 5",
    "DELETE FROM message WHERE session_id = ?",
    "DELETE FROM message WHERE session_id = ? AND position >= ?",
    "DELETE FROM session WHERE id = ?",
]


def table_indexes(conn, table: str) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,))}


def query_plan(path, sql: str) -> list[str]:
    """EXPLAIN QUERY PLAN of `sql` (its parameters all 1) on a new store at `path`."""
    db = open_database(path)
    try:
        return [r[3] for r in db.connection().execute("EXPLAIN QUERY PLAN " + sql, (1,) * sql.count("?"))]
    finally:
        db.close()


def test_a_new_store_has_no_index_of_session_id_alone(tmp_path):
    db = open_database(tmp_path / "m.db")
    try:
        assert table_indexes(db.connection(), "message") == {"message_session_id_external_id", "message_session_id_position"}
    finally:
        db.close()


@pytest.mark.parametrize("sql", BY_SESSION)
def test_each_query_by_session_searches_an_index(tmp_path, sql):
    plan = query_plan(tmp_path / "m.db", sql)
    on_message = [p for p in plan if " message " in f" {p} "]
    assert on_message and all(p.startswith("SEARCH message USING") and "INDEX message_session_id_" in p
                              for p in on_message), plan


def test_an_older_store_loses_the_index_and_keeps_its_messages(tmp_path):
    path = tmp_path / "old.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute('CREATE INDEX "message_session_id" ON "message" ("session_id")')  # as peewee made it
    _add(conn, _session(conn), ["kept"])
    conn.commit()
    conn.close()

    db = open_database(path)
    try:
        conn = db.connection()
        assert not table_indexes(conn, "message") & set(OLD_INDEXES)
        assert conn.execute("SELECT COUNT(*) FROM message WHERE session_id = 1").fetchone() == (1,)
        assert conn.execute("SELECT rowid FROM message_fts WHERE message_fts MATCH 'kept'").fetchall() == [(1,)]
    finally:
        db.close()
    open_database(path).close()  # and the next open finds nothing to do
