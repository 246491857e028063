"""The export's fast path: the rank index, the texts stamped clean, and the bytes it renders.

`memtui export` without a budget reads each section from the `memory_rank` index as one string
(core/rank.py), and reads no text for secrets that an earlier export already found clean
(memory.clean_stamp). These tests pin what makes that safe: whatever writes a text makes it
unchecked again, a changed redactor checks everything again, a store that cannot be written is
checked every time, and the queries really read the index in order (no sort).
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from memtui.core import export as ex
from memtui.core import memories as mem
from memtui.core import rank, stamps
from memtui.core.db import SCHEMA_VERSION, open_database
from tests.helpers import then_another_writer

APP = "/srv/stamps/app"
SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def _m(text, tier="project", kind="decision", seen=1000.0, pinned=False, status="approved"):
    return {"text": text, "tier": tier, "kind": kind, "status": status, "pinned": pinned,
            "project": None if tier == "developer" else APP, "confidence": 0.8, "extractor": "heuristic",
            "created_at": seen, "updated_at": seen, "last_seen_at": seen, "forgotten_at": None, "evidence": []}


@pytest.fixture
def store(db):
    kinds = ("decision", "preference", "convention", "constraint", "failed_approach", "bug_fix", "fact", "todo")
    memories = [
        _m(f"Memory {i}: {'uses' if i % 2 else 'avoids'} `tool-{i}` in src/mod_{i}.py (timeout={i})",
           tier=("developer", "project", "session")[i % 3], kind=kinds[i % len(kinds)], seen=1000.0 + i,
           pinned=i % 7 == 0)
        for i in range(60)
    ]
    assert mem.load_store(db, {"memtui": 1, "memories": memories}).created == 60
    db.execute_sql("UPDATE memory SET clean_stamp = NULL")  # as texts from elsewhere (raw SQL, an older memtui)
    return db


def _options(fmt="claude-md"):
    return ex.ExportOptions(fmt, project=APP, tiers=("developer", "project", "session"))


def _stamps(db) -> dict[int, int | None]:
    return dict(db.execute_sql("SELECT id, clean_stamp FROM memory").fetchall())


def _general(db, fmt="claude-md") -> ex.ExportResult:
    return ex.render(db, _options(fmt), with_entries=True)  # lays out row by row, reads the whole text


def test_an_export_stamps_the_texts_it_checked_and_the_next_reads_none(store):
    assert set(_stamps(store).values()) == {None}
    first = ex.render(store, _options(), with_entries=False)
    assert set(_stamps(store).values()) == {stamps.redact_stamp()}
    meta = store.execute_sql("SELECT value FROM meta WHERE key = 'clean_stamp'").fetchone()
    assert meta == (str(stamps.redact_stamp()),)
    again = ex.render(store, _options(), with_entries=False)
    assert again.text == first.text == _general(store).text
    assert first.included == 60 and first.tokens == ex.count_tokens(first.text)


def test_memtuis_own_writes_stamp_as_they_go(db, monkeypatch):
    """load, add, approve and edit check the texts they write, in their transaction: the export
    after them has nothing to read."""
    loaded = mem.load_store(db, {"memtui": 1, "memories": [_m("Loaded: use `uv sync`", status="proposed"),
                                                         _m("Also loaded: two\nlines")]})
    assert loaded.created == 2
    rows = dict(db.execute_sql("SELECT text, clean_stamp FROM memory").fetchall())
    assert rows == {"Loaded: use `uv sync`": stamps.redact_stamp(), "Also loaded: two\nlines": None}  # (two lines: never)
    added = mem.add(db, "Prefers `ruff format`", tier="developer", kind="preference")
    assert _stamps(db)[added] == stamps.redact_stamp()
    proposed = db.execute_sql("SELECT id FROM memory WHERE status = 'proposed'").fetchone()[0]
    db.execute_sql("UPDATE memory SET clean_stamp = NULL WHERE id = ?", (proposed,))
    mem.approve(db, [proposed])
    assert _stamps(db)[proposed] == stamps.redact_stamp()
    mem.edit(db, proposed, text="Loaded, then edited: use `uv sync --frozen`")
    assert _stamps(db)[proposed] == stamps.redact_stamp()
    calls: list[int] = []
    real = stamps.fits
    monkeypatch.setattr(stamps, "fits", lambda texts: calls.append(len(texts)) or real(texts))
    ex.render(db, _options(), with_entries=False)  # one text in scope is not stamped: the two-line one
    assert calls and set(calls) == {1}  # only that one is read (to stamp it, then in the read transaction)


@pytest.mark.parametrize("fmt", ["claude-md", "markdown", "cursor-rules", "json"])
def test_a_secret_written_by_raw_sql_after_the_stamp_is_caught(store, fmt):
    ex.render(store, _options(fmt), with_entries=False)  # every text stamped clean
    (mid,) = store.execute_sql("SELECT id FROM memory WHERE tier = 'project' LIMIT 1").fetchone()
    store.execute_sql("UPDATE memory SET text = ? WHERE id = ?", (f"The deploy token is {SECRET}", mid))
    assert _stamps(store)[mid] is None  # the trigger: a new text is unchecked
    result = ex.render(store, _options(fmt), with_entries=False)
    assert SECRET not in result.text and "[REDACTED" in result.text
    assert result.text == _general(store, fmt).text
    assert _stamps(store)[mid] is None  # not clean: never stamped


def test_a_text_written_between_the_check_and_the_read_is_caught(store, db_path, monkeypatch):
    """Another process writes a secret just after the export checked and stamped: the export
    reads its text in one read transaction and looks again there, so it does not go out."""
    ex.render(store, _options(), with_entries=False)  # every text stamped
    sql = "UPDATE memory SET text = ? WHERE id = (SELECT min(id) FROM memory WHERE tier = 'project')"
    racing = then_another_writer(stamps.check, db_path, sql, f"deploy with GITHUB_TOKEN={SECRET}")
    monkeypatch.setattr(stamps, "check", racing)
    result = ex.render(store, _options(), with_entries=False)
    assert SECRET not in result.text and "[REDACTED" in result.text


def test_an_inserted_memory_starts_unchecked(store):
    ex.render(store, _options(), with_entries=False)
    store.execute_sql(
        "INSERT INTO memory (tier, kind, text, status, pinned, confidence, extractor, fingerprint, created_at,"
        " updated_at, last_seen_at) VALUES ('developer', 'preference', ?, 'approved', 1, 1, 'raw', '', 1, 1, 9e9)",
        (f"export GITHUB_TOKEN={SECRET}",),
    )
    result = ex.render(store, _options(), with_entries=False)
    assert SECRET not in result.text and result.included == 61


def test_a_changed_redactor_checks_every_text_again(store, monkeypatch):
    ex.render(store, _options(), with_entries=False)
    old = stamps.redact_stamp()
    monkeypatch.setattr(stamps, "_STAMP", [old + 1])
    checked: list[int] = []
    real = stamps.fits
    monkeypatch.setattr(stamps, "fits", lambda texts: checked.append(len(texts)) or real(texts))
    result = ex.render(store, _options(), with_entries=False)
    assert checked == [60] and set(_stamps(store).values()) == {old + 1}
    assert result.text == _general(store).text


class _ReadOnly:
    """As the SessionStart hook reads the store: execute_sql only."""

    def __init__(self, db) -> None:
        self.execute_sql = db.execute_sql


def test_a_store_that_cannot_be_written_is_checked_at_every_export(store, monkeypatch):
    checked: list[int] = []
    real = stamps.fits
    monkeypatch.setattr(stamps, "fits", lambda texts: checked.append(len(texts)) or real(texts))
    for _ in range(2):
        result = ex.render(_ReadOnly(store), _options(), with_entries=False)
        assert result.text == _general(store).text
    assert checked == [60, 60] and set(_stamps(store).values()) == {None}


def test_a_busy_store_is_not_waited_for_nor_stamped(store, db_path):
    other = sqlite3.connect(db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another writer (an import) holds the lock
    try:
        (timeout,) = store.execute_sql("PRAGMA busy_timeout").fetchone()
        result = ex.render(store, _options(), with_entries=False)
        assert result.included == 60 and result.text == _general(store).text
        assert store.execute_sql("PRAGMA busy_timeout").fetchone() == (timeout,)  # put back
    finally:
        other.rollback()
        other.close()
    assert set(_stamps(store).values()) == {None}
    ex.render(store, _options(), with_entries=False)
    assert set(_stamps(store).values()) == {stamps.redact_stamp()}


@pytest.mark.parametrize("text", [
    "Two lines:\nthe second", "  padded  ", "has a <!-- memtui:end --> marker", "-----BEGIN RSA PRIVATE KEY-----",
])
def test_texts_that_cannot_go_in_as_they_are_take_the_general_path_and_stay_unchecked(store, text):
    store.execute_sql("UPDATE memory SET text = ? WHERE id = (SELECT min(id) FROM memory)", (text,))
    for fmt in ("claude-md", "markdown"):
        fast = ex.render(store, _options(fmt), with_entries=False)
        assert fast.text == _general(store, fmt).text
    assert _stamps(store)[min(_stamps(store))] is None


def test_a_private_key_split_over_memories_is_redacted(db):
    """The redactor reads a private key across lines: three memories next to each other in the
    rank make one block in the document. None of them may be stamped, and the key goes."""
    body = "MIIEowIBAAKCAQEA" + "x7Qa9" * 12
    parts = ["-----BEGIN RSA PRIVATE KEY-----", body, "-----END RSA PRIVATE KEY-----"]
    memories = [_m(p, tier="developer", kind="fact", seen=3000.0 - i) for i, p in enumerate(parts)]
    mem.load_store(db, {"memtui": 1, "memories": memories})
    result = ex.render(db, _options(), with_entries=False)
    assert body not in result.text


def test_the_queries_read_the_index_in_order(store):
    where, args, _, _ = ex._target(store, _options())
    plain = ex._PLAIN_SQL.format(where=where, groups="IN (?, ?)")
    markdown = ex._MARKDOWN_SQL.format(where=where, groups="BETWEEN ? AND ?")
    budget = f"SELECT {ex._SLIM} FROM memory m WHERE {ex._EXPORTABLE_M} AND {where} ORDER BY {ex._ORDER_M}"
    left = (f"SELECT {ex._SLIM}{ex._REST}{ex._FROM} WHERE {ex._EXPORTABLE_M} AND {where} ORDER BY {ex._ORDER_M}"
            " LIMIT 5 OFFSET 5")
    for sql, params in ((plain, [*args, 1, 2]), (markdown, ["x", *args, 1, 1]), (budget, args), (left, args)):
        plan = " | ".join(r[3] for r in store.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert rank.INDEX_NAME in plan and "TEMP B-TREE" not in plan, plan
    unchecked = f"SELECT 1 FROM memory m WHERE {ex._EXPORTABLE_M} AND m.clean_stamp IS NULL AND {where} LIMIT 1"
    plan = " | ".join(r[3] for r in store.execute_sql("EXPLAIN QUERY PLAN " + unchecked, args).fetchall())
    assert "memory_unchecked" in plan, plan


def test_an_older_store_gets_the_column_trigger_and_indexes(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TABLE memory (id INTEGER PRIMARY KEY, tier TEXT, kind TEXT, text TEXT, status TEXT, pinned INTEGER,"
        " confidence REAL, project_id INTEGER, session_id INTEGER, extractor TEXT, fingerprint TEXT, supersedes_id"
        " INTEGER, created_at REAL, updated_at REAL, last_seen_at REAL, forgotten_at REAL)"
    )
    conn.execute("CREATE INDEX memory_rank_v1 ON memory(id)")  # an earlier version of the index
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO memory (tier, kind, text, status, pinned, confidence, extractor, fingerprint, created_at,"
                 " updated_at, last_seen_at) VALUES ('developer', 'preference', 'Tabs, not spaces', 'approved', 0, 1,"
                 " 'manual', '', 1, 1, 1)")
    conn.commit()
    conn.close()
    db = open_database(db_path)
    try:
        columns = {r[1] for r in db.execute_sql("PRAGMA table_info(memory)").fetchall()}
        names = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE tbl_name = 'memory'").fetchall()}
        assert "clean_stamp" in columns
        assert {rank.INDEX_NAME, "memory_unchecked", "memory_text_au"} <= names and "memory_rank_v1" not in names
        assert db.execute_sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        result = ex.render(db, ex.ExportOptions("claude-md"), with_entries=False)
        assert "- Tabs, not spaces" in result.text and _stamps(db) == {1: stamps.redact_stamp()}
    finally:
        db.close()


@pytest.mark.parametrize("fmt", ["claude-md", "agents-md", "cursor-rules", "markdown"])
def test_left_out_entries_are_the_general_paths(store, fmt):
    options = ex.ExportOptions(fmt, project=APP, tiers=("developer", "project", "session"), budget=300)
    general = ex.render(store, options)  # an entry per candidate, included or not
    light = ex.render(store, options, with_entries=False)
    expected = [(e.memory.id, e.section, e.tokens) for e in general.entries if not e.included]
    assert light.included == general.included and light.left_out == len(expected) > 10
    got = ex.left_out_entries(store, options, light.included, limit=10)
    assert [(e.memory.id, e.section, e.tokens) for e in got] == expected[:10]
    assert not any(e.included for e in got)
    assert len(ex.left_out_entries(store, options, light.included)) == len(expected)
    with pytest.raises(ex.ExportError):
        ex.left_out_entries(store, ex.ExportOptions("json", project=APP, budget=300), 0)


def test_the_markdown_tails_cannot_complete_a_secret():
    """markdown items are the checked text, then " _(pinned, tier, kind, #id)_": no tail may turn a
    clean text into one the redactor changes (the stamp is for the text alone)."""
    endings = ["password:", "password =", "token:", "api_key=", "Authorization: Bearer", "Basic", "--password",
               "secret", "key: ", "export AWS_SECRET_ACCESS_KEY=", "https://user:", "xoxb-", "pwd"]
    for tail in ex._MARKDOWN_TAIL.values():
        for ending in endings:
            text = f"Set the {ending}"
            if ex.clean(text) != text:
                continue
            line = f"- {text}{tail}123456789)_"
            assert ex.clean(line) == line, line


def test_tokens_are_utf8_bytes_over_four():
    assert [ex.count_tokens(t) for t in ("", "a", "abcd", "abcde", "x" * 400)] == [0, 1, 1, 2, 100]
    assert ex.count_tokens("日本語") == 3 and ex.count_tokens("é") == 1 and ex.count_tokens("ééé") == 2


def test_the_whole_document_is_bytes_and_the_command_line_writes_them(store, tmp_path):
    result = ex.render(store, _options(), with_entries=False)
    assert isinstance(result.data, bytes) and result.data.decode() == result.text
    target = tmp_path / "CLAUDE.md"
    assert ex.write_export(target, result, _options()) == "created"
    assert target.read_bytes() == ex.block(result.data) == ex.block(result.text).encode()


def test_the_whole_store_backup_is_the_json_it_always_was(store):
    """`memtui export --format json` without scope: orjson now, the same bytes as json.dumps(indent=2,
    sort_keys=True) made before, proposals and the trash included; a planted secret is scrubbed."""
    store.execute_sql("UPDATE memory SET status = 'proposed', forgotten_at = 5.5 WHERE id IN (1, 2)")
    store.execute_sql("UPDATE memory SET text = 'Überprüft: naïve “quotes” and 日本語' WHERE id = 3")
    result = ex.render_store(store)
    expected = json.dumps(mem.export_store(store), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert result.data == expected.encode() and result.included == 60
    store.execute_sql("UPDATE memory SET text = ? WHERE id = 4", (f"token {SECRET}",))
    scrubbed = ex.render_store(store).text
    assert SECRET not in scrubbed and json.loads(scrubbed)["memories"][3]["text"].startswith("token [REDACTED")


def test_a_new_file_gets_the_mode_the_umask_gives(store, tmp_path):
    old = os.umask(0o027)
    try:
        target = tmp_path / "CLAUDE.md"
        ex.write_export(target, ex.render(store, _options(), with_entries=False), _options())
        assert target.stat().st_mode & 0o777 == 0o640  # not mkstemp's 0600
        target.chmod(0o604)  # an existing file keeps its own
        ex.write_export(target, ex.render(store, _options("markdown"), with_entries=False), _options("markdown"))
        assert target.stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(old)
