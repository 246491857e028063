"""message_fts's hashsize (db.FTS_HASH_BYTES) and automerge (db.FTS_AUTOMERGE): set on new and
older stores, and a batch of index_pending with more than FTS5's default 1 MiB of index data writes
one segment (automerge would otherwise merge the several written), indexing the same tokens."""

from __future__ import annotations

import sqlite3

import pytest

from memtui.core.db import FTS_AUTOMERGE, FTS_HASH_BYTES, index_pending, open_database
from tests.core.test_import_fts_mark import _assert_index_complete, _session


def _hashsize(conn) -> list:
    return conn.execute("SELECT v FROM message_fts_config WHERE k = 'hashsize'").fetchall()


def _automerge(conn) -> list:
    return conn.execute("SELECT v FROM message_fts_config WHERE k = 'automerge'").fetchall()


@pytest.mark.parametrize("older", ["hashsize", "automerge"])
def test_new_and_older_stores_get_the_hashsize_and_automerge(tmp_path, older):
    path = tmp_path / "m.db"
    db = open_database(path)
    assert _hashsize(db.connection()) == [(FTS_HASH_BYTES,)] and _automerge(db.connection()) == [(FTS_AUTOMERGE,)]
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM message_fts_config WHERE k = ?", (older,))  # as an older memtui made it
    conn.commit()
    conn.close()
    db = open_database(path)
    assert _hashsize(db.connection()) == [(FTS_HASH_BYTES,)] and _automerge(db.connection()) == [(FTS_AUTOMERGE,)]
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


def _segments_after_each_batch(path, automerge=None) -> list[int]:
    open_database(path).close()
    conn = sqlite3.connect(path)
    if automerge is not None:
        conn.execute("INSERT INTO message_fts(message_fts, rank) VALUES ('automerge', ?)", (automerge,))
        conn.commit()
    sid = _session(conn)
    out = []
    for batch in range(FTS_AUTOMERGE - 1):
        conn.executemany(
            "INSERT INTO message (session_id, position, role, kind, text, external_id, is_error)"
            " VALUES (?, ?, 'user', 'text', ?, ?, 0)",
            ((sid, batch * 1000 + i, f"word{batch} other{i} shared " + " ".join(f"t{j}" for j in range(i % 50)),
              f"e{batch}-{i}") for i in range(1000)),
        )
        index_pending(conn)
        conn.commit()
        out.append(conn.execute("SELECT COUNT(DISTINCT segid) FROM message_fts_idx").fetchone()[0])
    assert conn.execute("SELECT COUNT(*) FROM message_fts WHERE message_fts MATCH 'shared'").fetchone() == (
        1000 * (FTS_AUTOMERGE - 1),)
    conn.close()
    _assert_index_complete(path)
    return out


def test_batches_of_index_pending_are_not_merged_before_the_automerge_many(tmp_path):
    """Each batch writes a segment; up to FTS_AUTOMERGE - 1 of them nothing is merged (FTS5's
    default of 4 starts merging at the 4th: another segment appears, the merge's)."""
    assert _segments_after_each_batch(tmp_path / "m.db") == list(range(1, FTS_AUTOMERGE))
    assert _segments_after_each_batch(tmp_path / "default.db", automerge=4) != list(range(1, FTS_AUTOMERGE))
