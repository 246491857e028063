"""Writing a session's plan in statements of several rows stores what one statement a row stores."""

from __future__ import annotations

import random
import sqlite3

import pytest

from memtui.core.proposals import _insert

_SCHEMA = """
CREATE TABLE item (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT, c REAL);
CREATE UNIQUE INDEX item_ab ON item (a, b);
CREATE TABLE seen (n INTEGER PRIMARY KEY AUTOINCREMENT, item INTEGER, a INTEGER);
CREATE TRIGGER item_ai AFTER INSERT ON item BEGIN INSERT INTO seen (item, a) VALUES (new.id, new.a); END;
"""
_ONE = "INSERT OR IGNORE INTO item (a, b, c) VALUES (?, ?, ?)"


def _store(rows, write):
    conn = sqlite3.connect(":memory:")
    conn.executescript(_SCHEMA)
    with conn:
        write(conn, rows)
    return conn.execute("SELECT * FROM item").fetchall(), conn.execute("SELECT * FROM seen").fetchall()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 7, 8, 63, 64, 65, 127, 128, 130, 200])
def test_rows_in_chunks_are_the_rows_one_at_a_time(n):
    rng = random.Random(n)
    # duplicates of (a, b) are ignored, wherever they fall: inside a chunk or across chunks
    rows = [(rng.randint(0, n // 2 + 1), rng.choice(["x", "y", None, "é ✓", ""]), rng.choice([0.1, 1e300, None, 2]))
            for _ in range(n)]
    plain = _store(rows, lambda conn, rows: conn.executemany(_ONE, rows))
    assert _store(rows, lambda conn, rows: _insert(conn, _ONE, rows)) == plain
    assert len(plain[1]) == len(plain[0])  # (the trigger ran once a stored row)


def test_no_statement_takes_more_parameters_than_an_older_sqlite_allows():
    # SQLite before 3.32 refuses statements of more than 999 parameters; a memory row has 17
    from memtui.core.proposals import _INSERT_MEMORY, _MEMORY_COLUMNS

    conn = sqlite3.connect(":memory:")
    if not hasattr(conn, "setlimit"):
        pytest.skip("Connection.setlimit needs Python 3.11")
    conn.execute(f"CREATE TABLE memory ({', '.join(_MEMORY_COLUMNS)})")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    rows = [tuple(range(i, i + len(_MEMORY_COLUMNS))) for i in range(200)]
    with conn:
        _insert(conn, _INSERT_MEMORY, rows)
    assert conn.execute("SELECT id FROM memory").fetchall() == [(r[0],) for r in rows]
