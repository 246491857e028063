"""The JSON export's fast path: memory_json holds each exportable memory's piece of the export.

`memtui export --format json` without a budget joins stored pieces (export._whole_json) instead
of building an object per memory. These tests pin what makes that safe: whatever changes what a
piece says (the memory, its evidence, a message it quotes, its session, its project), by any
writer, drops the piece, so the fast path gives byte for byte what the general path builds from
the rows; a piece with a secret is never made; a store that cannot be written, a busy one, or a
changed redactor never reads a piece it cannot trust.
"""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from memtui.core import export as ex
from memtui.core import memories as mem
from memtui.core import stamps
from memtui.core.db import JSON_TRIGGERS, SCHEMA_VERSION, open_database
from tests.helpers import then_another_writer

APP = "/srv/pieces/app"
SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def _m(i: int, status: str = "approved") -> dict:
    tier = ("developer", "project", "session")[i % 3]
    return {"text": f"Memory {i}: keeps `cache-{i}` in src/part_{i}.py (limit={i})", "tier": tier,
            "kind": ("decision", "preference", "bug_fix", "todo")[i % 4], "status": status, "pinned": i % 5 == 0,
            "project": None if tier == "developer" else APP, "confidence": 0.5 + i / 1000, "extractor": "heuristic",
            "created_at": 1_700_000_000.123456 + i, "updated_at": 1_700_000_000.5 + i,
            "last_seen_at": 1_700_000_100.987654 - i % 7, "forgotten_at": None, "evidence": []}


@pytest.fixture
def store(db):
    """30 approved memories of one project and the developer tier, each quoting a message of a
    real session (raw SQL, as an import stores them)."""
    assert mem.load_store(db, {"memtui": 1, "memories": [_m(i) for i in range(30)]}).created == 30
    (pid,) = db.execute_sql("SELECT id FROM project WHERE root = ?", (APP,)).fetchone()
    db.execute_sql("INSERT INTO session (tool, external_id, project_id, message_count, raw_size, review_state)"
                   " VALUES ('claude-code', 'sess-1', ?, 0, 0, 'new')", (pid,))
    (sid,) = db.execute_sql("SELECT id FROM session").fetchone()
    for i in range(30):
        db.execute_sql("INSERT INTO message (session_id, position, role, kind, text, external_id, is_error)"
                       " VALUES (?, ?, 'user', 'text', ?, ?, 0)", (sid, i, f"message {i}", f"uuid-{i}"))
    db.execute_sql("UPDATE memory SET session_id = ?", (sid,))
    db.execute_sql("INSERT INTO evidence (memory_id, message_id, quote) SELECT m.id, msg.id, 'said ' || msg.text"
                   " FROM memory m JOIN message msg ON msg.position = m.id - 1")
    return db


def _options(**kw) -> ex.ExportOptions:
    return ex.ExportOptions("json", project=APP, tiers=("developer", "project", "session"), **kw)


def _ready(db) -> int:
    return db.execute_sql("SELECT count(*) FROM memory WHERE json_ready IS NOT NULL").fetchone()[0]


def _pieces(db) -> int:
    return db.execute_sql("SELECT count(*) FROM memory_json").fetchone()[0]


class _Spy:
    """Records whether render() joined stored pieces (True) or took the general path (False)."""

    def __init__(self, monkeypatch) -> None:
        self.paths: list[bool] = []
        real = ex._whole_json

        def spy(*args):
            result = real(*args)
            self.paths.append(result is not None)
            return result

        monkeypatch.setattr(ex, "_whole_json", spy)


def _fast_and_general(db, spy: _Spy | None = None) -> tuple[bytes, bytes]:
    fast = ex.render(db, _options(), with_entries=False)
    general = ex.render(db, _options(), with_entries=True)  # row by row, an object per memory
    assert fast.tokens == general.tokens and fast.included == general.included
    return b"".join(fast.chunks), general.data


def test_the_first_export_makes_the_pieces_and_the_next_joins_them(store, monkeypatch):
    spy = _Spy(monkeypatch)
    assert _ready(store) == 0
    first, general = _fast_and_general(store)
    assert first == general and _ready(store) == _pieces(store) == 30
    again, _ = _fast_and_general(store)
    assert again == general and spy.paths == [True, True]
    data = orjson.loads(again)
    assert [m["id"] for m in data["memories"]] == [m["id"] for m in orjson.loads(general)["memories"]]
    assert data["memories"][0]["evidence"][0]["message"].startswith("uuid-")
    assert data["memories"][0]["created_at"] == 1_700_000_000.123456 + data["memories"][0]["id"] - 1  # exact floats


def _id(db, n: int = 0) -> int:
    return db.execute_sql("SELECT id FROM memory ORDER BY id LIMIT 1 OFFSET ?", (n,)).fetchone()[0]


# Every way a piece's content can change: memtui's own actions and other writers (raw SQL, the
# foreign keys' ON DELETE). The piece of what changed must be dropped, or the export is stale.
CHANGES = {
    "edit text": lambda db: mem.edit(db, _id(db), text="Memory 0 now says something else"),
    "pin": lambda db: mem.pin(db, [_id(db, 1)]),
    "unpin": lambda db: mem.pin(db, [_id(db)], pinned=False),
    "move tier": lambda db: mem.set_tier(db, [_id(db, 1)], "developer"),
    "change kind": lambda db: mem.set_kind(db, [_id(db, 2)], "constraint"),
    "reject": lambda db: mem.reject(db, [_id(db, 3)]),
    "forget": lambda db: mem.forget(db, [_id(db, 4)]),
    "forget and restore": lambda db: (mem.forget(db, [_id(db, 4)]), mem.restore(db, [_id(db, 4)])),
    "undo an edit": lambda db: (mem.edit(db, _id(db), text="edited"), mem.undo(db)),
    "purge": lambda db: (mem.forget(db, [_id(db, 5)]), mem.purge(db, [_id(db, 5)])),
    "add": lambda db: mem.add(db, "Prefers `uv run pytest`", tier="project", kind="preference", project=APP),
    "raw confidence": lambda db: db.execute_sql("UPDATE memory SET confidence = 0.01 WHERE id = ?", (_id(db, 6),)),
    "raw last seen": lambda db: db.execute_sql("UPDATE memory SET last_seen_at = 9e9 WHERE id = ?", (_id(db, 7),)),
    "raw supersedes": lambda db: db.execute_sql("UPDATE memory SET supersedes_id = ? WHERE id = ?",
                                                (_id(db), _id(db, 8))),
    "raw fingerprint": lambda db: db.execute_sql("UPDATE memory SET fingerprint = 'x' WHERE id = ?", (_id(db, 8),)),
    "raw insert": lambda db: db.execute_sql(
        "INSERT INTO memory (tier, kind, text, status, pinned, confidence, extractor, fingerprint, created_at,"
        " updated_at, last_seen_at) VALUES ('developer', 'fact', 'Raw', 'approved', 0, 1, 'raw', '', 1, 1, 5)"),
    "raw delete": lambda db: db.execute_sql("DELETE FROM memory WHERE id = ?", (_id(db, 9),)),
    "evidence added": lambda db: db.execute_sql(
        "INSERT INTO evidence (memory_id, message_id, quote) VALUES (?, (SELECT max(id) FROM message), 'more')",
        (_id(db, 10),)),
    "evidence quote": lambda db: db.execute_sql("UPDATE evidence SET quote = 'requoted' WHERE memory_id = ?",
                                                (_id(db, 11),)),
    "evidence moved": lambda db: db.execute_sql("UPDATE evidence SET memory_id = ? WHERE memory_id = ?",
                                                (_id(db, 12), _id(db, 13))),
    "evidence deleted": lambda db: db.execute_sql("DELETE FROM evidence WHERE memory_id = ?", (_id(db, 14),)),
    "message external id": lambda db: db.execute_sql("UPDATE message SET external_id = 'renamed' WHERE position = 15"),
    "message deleted": lambda db: db.execute_sql("DELETE FROM message WHERE position = 16"),  # evidence: SET NULL
    "session external id": lambda db: db.execute_sql("UPDATE session SET external_id = 'sess-2'"),
    "session tool": lambda db: db.execute_sql("UPDATE session SET tool = 'codex'"),
    "session deleted": lambda db: db.execute_sql("DELETE FROM session"),  # memory.session_id: SET NULL
    "project root": lambda db: db.execute_sql("UPDATE project SET root = '/srv/pieces/app2'"),
}


UNCHANGED = {"raw fingerprint", "undo an edit"}  # (undo puts every field back)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_drops_the_pieces_it_touches_and_the_export_stays_exact(store, monkeypatch, change):
    spy = _Spy(monkeypatch)
    before, _ = _fast_and_general(store)
    assert _ready(store) == 30
    CHANGES[change](store)
    fast, general = _fast_and_general(store)
    assert spy.paths[-2] is True  # (the general render asks for entries: not the fast path)
    assert fast == general
    assert (fast == before) == (change in UNCHANGED)
    assert _ready(store) == _pieces(store)
    assert store.execute_sql(
        "SELECT count(*) FROM memory_json j LEFT JOIN memory m ON m.id = j.id WHERE m.id IS NULL"
        " OR m.status != 'approved' OR m.forgotten_at IS NOT NULL").fetchone() == (0,)


def test_a_stale_piece_would_show_without_the_triggers(store, monkeypatch):
    """The test above can fail: with the evidence trigger gone, an export joins a stale piece."""
    _fast_and_general(store)
    store.execute_sql("DROP TRIGGER evidence_json_au")
    CHANGES["evidence quote"](store)
    fast = ex.render(store, _options(), with_entries=False).data
    general = ex.render(store, _options(), with_entries=True).data
    assert fast != general and b"requoted" in general and b"requoted" not in fast


def test_a_secret_never_gets_a_piece(store):
    _fast_and_general(store)
    store.execute_sql("UPDATE evidence SET quote = ? WHERE memory_id = ?", (f"export GITHUB_TOKEN={SECRET}", _id(store)))
    fast, general = _fast_and_general(store)
    assert SECRET.encode() not in fast and b"[REDACTED" in fast and fast == general
    assert store.execute_sql("SELECT json_ready FROM memory WHERE id = ?", (_id(store),)).fetchone() == (None,)
    assert _ready(store) == 29  # the others keep theirs


def test_a_private_key_across_memories_takes_the_general_path(store, monkeypatch):
    spy = _Spy(monkeypatch)
    body = "MIIEowIBAAKCAQEA" + "x7Qa9" * 12
    for n, part in enumerate(("-----BEGIN RSA PRIVATE KEY-----", body, "-----END RSA PRIVATE KEY-----")):
        store.execute_sql("UPDATE memory SET text = ?, tier = 'developer', kind = 'fact', pinned = 0,"
                          " last_seen_at = ? WHERE id = ?", (part, 3e9 - n, _id(store, n)))  # next to each other
    fast, general = _fast_and_general(store)
    assert fast == general and spy.paths[0] is False
    assert _ready(store) == 28  # a piece never holds a line of a key (the redactor reads keys across strings)
    ready = dict(store.execute_sql("SELECT id, json_ready FROM memory").fetchall())
    assert ready[_id(store)] is None and ready[_id(store, 2)] is None


def test_a_text_written_between_making_and_reading_is_caught(store, db_path, monkeypatch):
    """Another process writes a secret just after the pieces were made: the read transaction
    finds a memory without a piece and the export takes the general path, which scrubs it."""
    sql = "UPDATE memory SET text = ? WHERE id = (SELECT min(id) FROM memory WHERE tier = 'project')"
    racing = then_another_writer(ex._fill_json, db_path, sql, f"deploy with GITHUB_TOKEN={SECRET}")
    monkeypatch.setattr(ex, "_fill_json", racing)
    result = ex.render(store, _options(), with_entries=False)
    assert SECRET.encode() not in result.data and b"[REDACTED" in result.data


class _ReadOnly:
    """As the SessionStart hook reads the store: execute_sql only."""

    def __init__(self, db) -> None:
        self.execute_sql = db.execute_sql


def test_a_store_that_cannot_be_written_makes_no_pieces_but_reads_good_ones(store, monkeypatch):
    spy = _Spy(monkeypatch)
    general = ex.render(store, _options(), with_entries=True).data
    assert ex.render(_ReadOnly(store), _options(), with_entries=False).data == general
    assert _ready(store) == 0 and spy.paths == [False]
    ex.render(store, _options(), with_entries=False)
    assert ex.render(_ReadOnly(store), _options(), with_entries=False).data == general
    assert spy.paths == [False, True, True]


def test_a_busy_store_is_not_waited_for(store, db_path):
    other = sqlite3.connect(db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another writer (an import) holds the lock
    try:
        result = ex.render(store, _options(), with_entries=False)
        assert result.data == ex.render(store, _options(), with_entries=True).data
    finally:
        other.rollback()
        other.close()
    assert _ready(store) == 0


def test_a_changed_redactor_trusts_no_piece(store, monkeypatch):
    spy = _Spy(monkeypatch)
    general = ex.render(store, _options(), with_entries=True).data
    ex.render(store, _options(), with_entries=False)
    assert _ready(store) == 30
    monkeypatch.setattr(stamps, "_STAMP", [stamps.redact_stamp() + 1])
    assert ex.render(_ReadOnly(store), _options(), with_entries=False).data == general
    assert spy.paths[-1] is False  # pieces of another redactor: not read
    assert ex.render(store, _options(), with_entries=False).data == general  # a writer makes them again
    meta = store.execute_sql("SELECT value FROM meta WHERE key = 'clean_stamp'").fetchone()
    assert meta == (str(stamps.redact_stamp()),) and _ready(store) == 30 and spy.paths[-1] is True


def test_budgets_scopes_and_empty_exports_are_the_general_paths(store):
    ex.render(store, _options(), with_entries=False)
    empty = ex.ExportOptions("json", project="/nowhere", tiers=("project",))
    assert ex.render(store, empty, with_entries=False).data == ex.render(store, empty, with_entries=True).data
    assert orjson.loads(ex.render(store, empty, with_entries=False).data) == {"memories": [], "memtui": 1}
    developer = ex.ExportOptions("json", tiers=("developer",))
    fast = ex.render(store, developer, with_entries=False)
    assert fast.data == ex.render(store, developer, with_entries=True).data and fast.included == 10
    budget = ex.render(store, _options(budget=500), with_entries=False)
    assert budget.data == ex.render(store, _options(budget=500), with_entries=True).data


def test_the_pieces_are_read_in_key_order_without_a_sort(store):
    where, args, _, _ = ex._target(store, _options())
    for sql in (ex._JSON_PIECES_SQL.format(where=where),
                f"SELECT 1 FROM memory m WHERE {ex._EXPORTABLE_M} AND m.json_ready IS NULL AND {where} LIMIT 1"):
        plan = " | ".join(r[3] for r in store.execute_sql("EXPLAIN QUERY PLAN " + sql, args).fetchall())
        assert "TEMP B-TREE" not in plan and ("memory_json_missing" in plan or "SCAN m" in plan), plan


def test_the_command_line_writes_the_pieces(store, tmp_path):
    out = tmp_path / "context.json"
    result = ex.render(store, _options(), with_entries=False)
    assert len(result.chunks) == 2 * 30 + 1 and result.size == len(result.data)  # head, pieces and commas, tail
    assert ex.write_export(out, ex.render(store, _options(), with_entries=False), _options()) == "created"
    assert out.read_bytes() == ex.render(store, _options(), with_entries=True).data


def test_an_older_store_gets_the_json_parts(db_path):
    conn = sqlite3.connect(db_path)
    conn.close()
    db = open_database(db_path)
    db.execute_sql("DROP TRIGGER evidence_json_ai")
    db.execute_sql("DROP TABLE memory_json")
    db.execute_sql("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.close()
    db = open_database(db_path)
    try:
        names = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master").fetchall()}
        assert {"memory_json", "memory_json_id", "memory_json_missing", *JSON_TRIGGERS} <= names
        assert db.execute_sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    finally:
        db.close()


def test_stamping_a_text_clean_keeps_its_piece(store):
    """A document export that checks and stamps texts (core/stamps.py) changes no piece."""
    ex.render(store, _options(), with_entries=False)
    store.execute_sql("UPDATE memory SET clean_stamp = NULL, fingerprint = 'other'")
    assert _ready(store) == 30
    ex.render(store, ex.ExportOptions("claude-md", project=APP, tiers=("developer", "project", "session")),
              with_entries=False)
    assert store.execute_sql("SELECT count(*) FROM memory WHERE clean_stamp IS NULL").fetchone() == (0,)
    assert _ready(store) == _pieces(store) == 30


def test_a_json_export_memtui_wrote_is_replaced_without_parsing_it(store, tmp_path, monkeypatch):
    out = tmp_path / "context.json"
    ex.write_export(out, ex.render(store, _options(), with_entries=False), _options())
    mem.edit(store, _id(store), text="Memory 0 says something new")
    monkeypatch.setattr(ex, "merge", lambda *a, **k: pytest.fail("a memtui export is known by its shape"))
    assert ex.write_export(out, ex.render(store, _options(), with_entries=False), _options()) == "replaced file"
    assert out.read_bytes() == ex.render(store, _options(), with_entries=True).data
    before = out.stat().st_mtime_ns
    assert ex.write_export(out, ex.render(store, _options(), with_entries=False), _options()) == "replaced file"
    assert out.stat().st_mtime_ns == before  # the same bytes: not written again
    monkeypatch.undo()
    other = tmp_path / "other.json"
    other.write_text('{"memories": [], "note": "mine"}\n')
    with pytest.raises(ex.ExportError, match="not a memtui JSON export"):
        ex.write_export(other, ex.render(store, _options(), with_entries=False), _options())
    assert other.read_text() == '{"memories": [], "note": "mine"}\n'
    backup = tmp_path / "backup.json"
    backup.write_bytes(ex.render_store(store).data)  # the whole-store backup has the same shape
    assert ex.write_export(backup, ex.render(store, _options(), with_entries=False), _options()) == "replaced file"


def test_an_out_of_date_piece_is_left_out_and_deleted_by_the_next_writer(store, monkeypatch):
    """A change lists the memory in memory_json_stale (deleting its piece at once made a bulk
    forget twice as slow); a store that cannot be written leaves such pieces out; the next export
    that can write deletes them."""
    spy = _Spy(monkeypatch)
    ex.render(store, _options(), with_entries=False)
    forgotten = [_id(store, n) for n in range(10)]
    mem.forget(store, forgotten)
    assert {i for (i,) in store.execute_sql("SELECT id FROM memory_json_stale")} == set(forgotten)
    assert _pieces(store) == 30  # still there, out of date
    general = ex.render(store, _options(), with_entries=True).data
    assert ex.render(_ReadOnly(store), _options(), with_entries=False).data == general
    assert spy.paths == [True, True] and _pieces(store) == 30
    assert ex.render(store, _options(), with_entries=False).data == general
    assert _pieces(store) == _ready(store) == 20
    assert store.execute_sql("SELECT count(*) FROM memory_json_stale").fetchone() == (0,)
