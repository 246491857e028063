"""message_fts's hashsize (db.FTS_HASH_BYTES): set on new and older stores, and a batch of
index_pending with more than FTS5's default 1 MiB of index data writes one segment (automerge would
otherwise merge the several written), indexing the same tokens."""

from __future__ import annotations

import sqlite3

from memtui.core.db import FTS_HASH_BYTES, index_pending, open_database
from tests.core.test_import_fts_mark import _assert_index_complete, _session


def _hashsize(conn) -> list:
    return conn.execute("SELECT v FROM message_fts_config WHERE k = 'hashsize'").fetchall()


def test_new_and_older_stores_get_the_hashsize(tmp_path):
    path = tmp_path / "m.db"
    db = open_database(path)
    assert _hashsize(db.connection()) == [(FTS_HASH_BYTES,)]
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM message_fts_config WHERE k = 'hashsize'")  # as an older memtui made it
    conn.commit()
    conn.close()
    db = open_database(path)
    assert _hashsize(db.connection()) == [(FTS_HASH_BYTES,)]
    db.close()


def test_a_large_batch_writes_one_segment(tmp_path):
    path = tmp_path / "m.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    sid = _session(conn)
    # 100,000 distinct tokens: several MiB of index data (FTS5 counts each with its hash entry)
    conn.executemany(
        "INSERT INTO message (session_id, position, role, kind, text, external_id, is_error)"
        " VALUES (?, ?, 'user', 'text', ?, ?, 0)",
        ((sid, i, " ".join(f"w{i}x{j}" for j in range(100)), f"e{i}") for i in range(1000)),
    )
    index_pending(conn)
    conn.commit()
    assert conn.execute("SELECT COUNT(DISTINCT segid) FROM message_fts_idx").fetchone() == (1,)
    conn.close()
    _assert_index_complete(path)
