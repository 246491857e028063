"""The full-text index holds each message exactly once, with its current text, whatever wrote it
(db.message_fts_mark: messages above the mark are not indexed yet), and a store made before the
mark (every new message listed in message_fts_pending by a trigger) is migrated."""

from __future__ import annotations

import sqlite3

from memtui.core.db import FTS_SQL, index_pending, open_database

# the triggers memtui made before the mark
OLD_TRIGGERS = [
    "CREATE TRIGGER message_ai AFTER INSERT ON message BEGIN "
    "INSERT OR IGNORE INTO message_fts_pending(id) VALUES (new.id); END",
    "CREATE TRIGGER message_ad AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) SELECT 'delete', old.id, old.text"
    " WHERE NOT EXISTS (SELECT 1 FROM message_fts_pending WHERE id = old.id); "
    "DELETE FROM message_fts_pending WHERE id = old.id; END",
    "CREATE TRIGGER message_au AFTER UPDATE OF text ON message"
    " WHEN NOT EXISTS (SELECT 1 FROM message_fts_pending WHERE id = old.id) BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
]
OLD_INDEX_PENDING = [
    "INSERT INTO message_fts(rowid, text)"
    " SELECT m.id, m.text FROM message_fts_pending p JOIN message m ON m.id = p.id ORDER BY p.id",
    "DELETE FROM message_fts_pending",
]


def _instances(conn) -> tuple:
    """Every token the index holds, and its totals (rows, tokens: what ranking reads; a message
    indexed twice counts twice there, though a query finds it once)."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_instances USING fts5vocab(main, message_fts, instance)")
    return (conn.execute("SELECT term, doc, offset FROM temp.fts_instances ORDER BY 1, 2, 3").fetchall(),
            conn.execute("SELECT block FROM message_fts_data WHERE id = 1").fetchone())


def _expected(conn) -> list:
    """What an index built afresh from the messages holds."""
    fresh = sqlite3.connect(":memory:")
    fresh.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    fresh.executemany("INSERT INTO message VALUES (?, ?)", conn.execute("SELECT id, text FROM message").fetchall())
    fresh.execute(FTS_SQL[0])
    fresh.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
    return _instances(fresh)


def _assert_index_complete(path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM message_fts_pending").fetchone()[0] == 0
        assert conn.execute(
            "SELECT COUNT(*) FROM message WHERE id > (SELECT id FROM message_fts_mark)").fetchone()[0] == 0
        assert _instances(conn) == _expected(conn)
    finally:
        conn.close()


def _index_and_check(conn, path) -> None:
    index_pending(conn)
    conn.commit()
    conn.close()
    _assert_index_complete(path)


def _as_older_memtui(conn) -> None:
    """What an older memtui's open_database does to the triggers."""
    for name in ("message_ad", "message_au"):
        conn.execute(f"DROP TRIGGER {name}")
    for sql in OLD_TRIGGERS:
        conn.execute(sql)


def _session(conn) -> int:
    conn.execute("INSERT INTO session (tool, external_id, message_count, raw_size, review_state)"
                 " VALUES ('claude-code', 's', 0, 0, 'new')")
    return conn.execute("SELECT MAX(id) FROM session").fetchone()[0]


def _add(conn, sid: int, words: list[str], start: int = 0, ids: list[int] | None = None) -> None:
    for i, w in enumerate(words):
        conn.execute("INSERT INTO message (id, session_id, position, role, kind, text, external_id, is_error)"
                     " VALUES (?, ?, ?, 'user', 'text', ?, ?, 0)",
                     (ids[i] if ids else None, sid, start + i, f"{w} words here", f"e{start + i}"))


def test_messages_committed_without_indexing_are_indexed_by_the_next_open(tmp_path):
    path = tmp_path / "m.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    _add(conn, _session(conn), ["alpha", "beta", "gamma"])
    conn.commit()  # (a run killed before its index_pending)
    assert conn.execute("SELECT COUNT(*) FROM message WHERE id > (SELECT id FROM message_fts_mark)").fetchone()[0] == 3
    conn.close()
    open_database(path).close()
    _assert_index_complete(path)


def test_deletes_updates_and_reused_ids_keep_the_index_exact(tmp_path):
    path = tmp_path / "m.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    sid = _session(conn)
    _add(conn, sid, ["one", "two", "three", "four", "five"])
    index_pending(conn)
    _add(conn, sid, ["six", "seven"], start=5)  # not indexed yet
    conn.execute("UPDATE message SET text = 'changed text' WHERE position IN (1, 6)")
    # the top rows go, indexed ones among them: the next ids are taken again, below the old mark
    conn.execute("DELETE FROM message WHERE position >= 3")
    assert conn.execute("SELECT id FROM message_fts_mark").fetchone()[0] == 3
    _add(conn, sid, ["eight", "nine"], start=10)
    assert conn.execute("SELECT MIN(id) FROM message WHERE position >= 10").fetchone()[0] == 4
    # a writer that picks an id of its own below the mark lists it as pending
    conn.execute("DELETE FROM message WHERE position = 0")
    _add(conn, sid, ["ten"], start=20, ids=[1])
    conn.execute("INSERT INTO message_fts_pending (id) VALUES (1)")
    _index_and_check(conn, path)


def test_a_store_made_before_the_mark_is_migrated_with_its_pending_messages(tmp_path):
    path = tmp_path / "old.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    # as before the mark: no mark, the per-row trigger, some messages indexed and some pending
    conn.execute("DROP TABLE message_fts_mark")
    _as_older_memtui(conn)
    sid = _session(conn)
    _add(conn, sid, ["red", "green", "blue"])
    for sql in OLD_INDEX_PENDING:
        conn.execute(sql)
    _add(conn, sid, ["cyan", "magenta"], start=3)
    conn.execute("UPDATE message SET text = 'renamed words' WHERE position = 0")
    conn.commit()
    assert conn.execute("SELECT COUNT(*) FROM message_fts_pending").fetchone()[0] == 2
    conn.close()

    db = open_database(path)
    try:
        names = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
        assert "message_ai" not in names and {"message_ad", "message_au"} <= names
        assert db.execute_sql("SELECT id FROM message_fts_mark").fetchall() == [(5,)]
    finally:
        db.close()
    _assert_index_complete(path)
    # and it goes on from there
    conn = sqlite3.connect(path)
    _add(conn, sid, ["yellow"], start=9)
    _index_and_check(conn, path)


def test_a_lost_mark_rebuilds_the_index(tmp_path):
    path = tmp_path / "m.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    _add(conn, _session(conn), ["north", "south"])
    index_pending(conn)
    _add(conn, 1, ["east"], start=2)
    conn.execute("DELETE FROM message_fts_mark")
    conn.commit()
    conn.close()
    open_database(path).close()
    _assert_index_complete(path)


def test_a_store_an_older_memtui_wrote_to_since_is_reindexed(tmp_path):
    path = tmp_path / "m.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    sid = _session(conn)
    _add(conn, sid, ["first", "second"])
    conn.commit()  # (a run killed before its index_pending: above the mark)
    _as_older_memtui(conn)
    _add(conn, sid, ["third", "fourth"], start=2)  # listed as pending, and indexed, by it
    for sql in OLD_INDEX_PENDING:
        conn.execute(sql)
    conn.commit()
    conn.close()
    open_database(path).close()
    _assert_index_complete(path)
