"""The import gives the same database whether a worker process parses ahead or not, and the
full-text index ends up complete (importers/prefetch.py, db.index_pending)."""

from __future__ import annotations

import shutil

import pytest

import memtui.core.importers.prefetch as prefetch
from memtui.core.db import open_database
from memtui.core.importers.pipeline import Importer

TABLES = {
    "project": "root, name, git_remote",
    "source": "path, format, size, mtime, head_hash, tail_hash, offset, state",
    "session": "tool, external_id, source_id, project_id, parent_id, cwd, title, started_at, ended_at, model,"
    " git_branch, message_count, raw_size",
    "message": "session_id, position, role, kind, tool_name, text, timestamp, external_id, group_id, is_error,"
    " original_len",
}


def _dump(db):
    out = {t: db.execute_sql(f"SELECT {cols} FROM {t} ORDER BY id").fetchall() for t, cols in TABLES.items()}
    out["fts"] = db.execute_sql(
        "SELECT rowid FROM message_fts WHERE message_fts MATCH 'the OR import OR error' ORDER BY rowid"
    ).fetchall()
    out["pending"] = db.execute_sql("SELECT COUNT(*) FROM message_fts_pending").fetchone()[0]
    return out


def _import(tmp_path, name, folder, workers):
    db = open_database(tmp_path / f"{name}.db")
    try:
        first = Importer(db, workers=workers).import_paths([folder])
        again = Importer(db, workers=workers).import_paths([folder])
        return first, again, _dump(db)
    finally:
        db.close()


@pytest.fixture
def tree(tmp_path, corpus):
    """The whole corpus (every format) plus a few awkward Claude Code files."""
    folder = tmp_path / "tree"
    shutil.copytree(corpus, folder)
    odd = folder / "odd"
    odd.mkdir()
    lines = sorted((corpus / "claude-code").glob("*JSSoundRecorder*.jsonl"))[0].read_bytes().splitlines(True)
    (odd / "bad_line.jsonl").write_bytes(b"".join(lines[:5]) + b"{not json\n" + b"".join(lines[5:20]))
    (odd / "partial.jsonl").write_bytes(b"".join(lines[:10]) + lines[10][:40])
    (odd / "x.jsonl.zst").write_bytes(b"zz")
    return folder


def test_worker_gives_the_same_database_and_warnings(tmp_path, tree, monkeypatch):
    monkeypatch.setattr(prefetch, "START_AFTER", 0)  # start the worker at once, even for a small tree
    monkeypatch.setattr(prefetch, "WAIT_FOR_START", 0)  # and give it every file
    inline = _import(tmp_path, "inline", tree, workers=0)
    worker = _import(tmp_path, "worker", tree, workers=1)
    for a, b in zip(inline[:2], worker[:2]):
        assert a.as_dict() == b.as_dict()
        assert a.warnings == b.warnings  # same warnings, same order
        assert a.bad_paths == b.bad_paths
    assert inline[2] == worker[2]
    assert worker[2]["pending"] == 0 and worker[2]["fts"]


def test_messages_a_killed_run_left_unindexed_are_indexed_on_open(tmp_path, corpus):
    db_path = tmp_path / "m.db"
    db = open_database(db_path)
    Importer(db, workers=0).import_paths([corpus / "claude-code"])
    expected = db.execute_sql("SELECT rowid FROM message_fts WHERE message_fts MATCH 'the' ORDER BY rowid").fetchall()
    assert expected
    # As if a run had committed files and died before indexing them.
    db.execute_sql("INSERT INTO message_fts(message_fts) VALUES ('delete-all')")
    db.execute_sql("INSERT INTO message_fts_pending(id) SELECT id FROM message")
    db.close()
    db = open_database(db_path)
    try:
        assert db.execute_sql("SELECT COUNT(*) FROM message_fts_pending").fetchone()[0] == 0
        got = db.execute_sql("SELECT rowid FROM message_fts WHERE message_fts MATCH 'the' ORDER BY rowid").fetchall()
        assert got == expected
        assert db.execute_sql("INSERT INTO message_fts(message_fts) VALUES ('integrity-check')").fetchall() == []
    finally:
        db.close()
