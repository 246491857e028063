"""evidence has no index of memory_id alone (db.OLD_INDEXES): each query memtui runs on evidence by
memory still searches the unique (memory_id, message_id) index, and a store made with the old index
loses it when opened, keeping its rows."""

from __future__ import annotations

import sqlite3

import pytest

from memtui.core.db import open_database
from tests.core.test_db_indexes import query_plan, table_indexes

# memtui's queries of evidence by memory (memories, export, the JSON pieces) and the foreign key's cascade
BY_MEMORY = [
    "SELECT message_id, quote FROM evidence WHERE memory_id = ? ORDER BY id",
    "SELECT e.memory_id, e.message_id, e.quote, msg.session_id, msg.position FROM evidence e"
    " LEFT JOIN message msg ON msg.id = e.message_id WHERE e.memory_id IN (?, ?, ?) ORDER BY e.id",
    "SELECT e.memory_id, e.message_id, msg.external_id, e.quote FROM evidence e"
    " LEFT JOIN message msg ON msg.id = e.message_id WHERE e.memory_id IN (?, ?) ORDER BY e.id",
    "SELECT m.id, (SELECT json_group_array(json_array(message_id, quote)) FROM"
    " (SELECT message_id, quote FROM evidence WHERE memory_id = m.id ORDER BY id)) FROM memory m WHERE m.id = ?",
    "DELETE FROM evidence WHERE memory_id = ?",
    "DELETE FROM memory WHERE id = ?",
    "INSERT OR IGNORE INTO evidence (memory_id, message_id, quote) VALUES (?, ?, ?)",
]


def test_a_new_store_has_no_index_of_memory_id_alone(tmp_path):
    db = open_database(tmp_path / "m.db")
    try:
        assert table_indexes(db.connection(), "evidence") == {"evidence_memory_id_message_id", "evidence_message_id"}
    finally:
        db.close()


@pytest.mark.parametrize("sql", BY_MEMORY)
def test_each_query_by_memory_searches_an_index(tmp_path, sql):
    plan = query_plan(tmp_path / "m.db", sql)
    on_evidence = [p for p in plan if " evidence " in f" {p} " or p.startswith("SEARCH e ")]
    if sql.startswith("INSERT"):
        assert not any(p.startswith("SCAN") for p in plan), plan
        return
    assert on_evidence and all(p.startswith(("SEARCH evidence USING", "SEARCH e USING"))
                               and "INDEX evidence_memory_id_message_id" in p for p in on_evidence), plan


def test_an_older_store_loses_the_index_and_keeps_its_evidence(tmp_path):
    path = tmp_path / "old.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute('CREATE INDEX "evidence_memory_id" ON "evidence" ("memory_id")')  # as peewee made it
    conn.execute("INSERT INTO memory (id, tier, kind, text, status, pinned, confidence, extractor, fingerprint,"
                 " created_at, updated_at, last_seen_at) VALUES (1, 'project', 'fact', 'x', 'approved', 0, 1, 'h', 'f',"
                 " 0, 0, 0)")
    conn.execute("INSERT INTO evidence (memory_id, message_id, quote) VALUES (1, NULL, 'q')")
    conn.commit()
    conn.close()

    db = open_database(path)
    try:
        conn = db.connection()
        assert table_indexes(conn, "evidence") == {"evidence_memory_id_message_id", "evidence_message_id"}
        assert conn.execute("SELECT quote FROM evidence WHERE memory_id = 1").fetchall() == [("q",)]
    finally:
        db.close()
    open_database(path).close()  # and the next open finds nothing to do
