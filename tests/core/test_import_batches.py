"""Files share a transaction (a savepoint each): each is stored whole or not at all, and a file
counts as imported only once committed, whatever stops the run."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from memtui.core.db import open_database
from memtui.core.importers import pipeline
from memtui.core.importers.pipeline import Importer
from tests.helpers import replay_claude_corpus, rows, write_jsonl


def _tree(tmp_path, n=10, lines=6):
    folder = tmp_path / "tree"
    for i in range(n):
        records = []
        for j in range(lines):
            records.append({
                "type": "user" if j % 2 == 0 else "assistant", "sessionId": f"s{i:02d}", "uuid": f"u{i}-{j}",
                "cwd": "/work/p", "parentUuid": None, "timestamp": f"2025-01-01T00:00:{j:02d}.000Z",
                "message": {"role": "user" if j % 2 == 0 else "assistant", "id": f"m{i}-{j}",
                            "content": [{"type": "text", "text": f"line {j} of file {i}"}]},
            })
        write_jsonl(folder / f"f{i:02d}.jsonl", records)
    return folder


def _stored(db):
    return {
        r[0]: r[1]
        for r in rows(db, "SELECT s.external_id, COUNT(m.id) FROM session s LEFT JOIN message m ON m.session_id = s.id"
                          " GROUP BY s.id")
    }


@pytest.fixture
def many_per_commit(monkeypatch):
    """All the files of a small tree in one transaction (unless something commits it)."""
    monkeypatch.setattr(pipeline, "FILES_PER_COMMIT", 1000)
    monkeypatch.setattr(pipeline, "COMMIT_SECONDS", 1000.0)


def _fail_in(monkeypatch, session: str, exc: BaseException, before=None):
    """Make storing the file of `session` raise `exc` at its end (after its messages were written)."""
    finish = pipeline._Writer.finish

    def failing(self):
        finish(self)
        if any(k == session for k in self.session_ids):
            if before:
                before(self)
            raise exc

    monkeypatch.setattr(pipeline._Writer, "finish", failing)


def test_files_before_an_interrupt_are_kept_and_counted(tmp_path, many_per_commit, monkeypatch):
    folder = _tree(tmp_path)
    _fail_in(monkeypatch, "s05", KeyboardInterrupt())
    db = open_database(tmp_path / "a.db")
    importer = Importer(db, workers=0)
    with pytest.raises(KeyboardInterrupt):
        importer.import_paths([folder])
    db.close()
    db = open_database(tmp_path / "a.db")
    assert _stored(db) == {f"s{i:02d}": 6 for i in range(5)}  # s05 rolled back whole, s00-s04 committed
    assert importer.report.files_imported == 5 == rows(db, "SELECT COUNT(*) FROM source")[0][0]
    assert importer.report.messages_new == 30 and importer.report.sessions_new == 5


def test_a_failing_file_in_a_transaction_leaves_nothing_and_the_others_stay(tmp_path, many_per_commit, monkeypatch):
    folder = _tree(tmp_path)
    _fail_in(monkeypatch, "s03", RuntimeError("a bug"))
    db = open_database(tmp_path / "a.db")
    report = Importer(db, workers=0).import_paths([folder])
    assert _stored(db) == {f"s{i:02d}": 6 for i in range(10) if i != 3}
    assert report.files_imported == 9 and report.files_failed == 1 and report.files_seen == 10
    assert report.sessions_new == 9 and report.messages_new == 54
    assert str(folder / "f03.jsonl") not in {r[0] for r in rows(db, "SELECT path FROM source")}
    # the failed file is imported by the next run
    monkeypatch.undo()
    again = Importer(db, workers=0).import_paths([folder])
    assert again.files_imported == 1 and _stored(db) == {f"s{i:02d}": 6 for i in range(10)}


def test_files_of_a_transaction_sqlite_rolled_back_are_imported_again(tmp_path, many_per_commit, monkeypatch):
    """An error that makes SQLite roll back the whole transaction (a full disk, say) in one file
    must not lose the files stored before it in that transaction."""
    folder = _tree(tmp_path)
    _fail_in(monkeypatch, "s06", sqlite3.OperationalError("database or disk is full"),
             before=lambda writer: writer.conn.execute("ROLLBACK"))
    db = open_database(tmp_path / "a.db")
    report = Importer(db, workers=0).import_paths([folder])
    assert _stored(db) == {f"s{i:02d}": 6 for i in range(10) if i != 6}
    assert report.files_seen == 10 and report.files_imported == 9 and report.files_failed == 1
    assert report.sessions_new == 9 and report.messages_new == 54
    assert rows(db, "SELECT COUNT(*) FROM source")[0][0] == 9
    assert rows(db, "SELECT COUNT(*) FROM project") == [(1,)]


def test_files_are_committed_in_batches(tmp_path, monkeypatch):
    folder = _tree(tmp_path, n=40, lines=2)
    monkeypatch.setattr(pipeline, "COMMIT_SECONDS", 1000.0)
    db = open_database(tmp_path / "a.db")
    commits = []
    conn = db.connection()
    conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
    report = Importer(db, workers=0).import_paths([folder])
    conn.set_trace_callback(None)
    assert report.files_imported == 40 and len(_stored(db)) == 40
    assert 3 <= len(commits) <= 5  # 16 + 16 + 8 files (and the full-text index at the end)


@pytest.mark.slow
def test_a_killed_import_leaves_whole_files_only(tmp_path):
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    folder = tmp_path / "big"
    files = replay_claude_corpus(CORPUS, folder, copies=6)
    clean_db = tmp_path / "clean.db"
    done = subprocess.run([sys.executable, "-m", "memtui", "--db", str(clean_db), "import", "--extractor", "none",
                           str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    killed_db = tmp_path / "killed.db"
    proc = subprocess.Popen([sys.executable, "-m", "memtui", "--db", str(killed_db), "import", "--extractor", "none",
                             str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    committed = 0
    while time.time() < deadline and committed < 3:
        time.sleep(0.005)
        try:
            con = sqlite3.connect(f"file:{killed_db}?mode=ro", uri=True, timeout=10)
            committed = con.execute("SELECT COUNT(*) FROM source").fetchone()[0]
            con.close()
        except sqlite3.OperationalError:
            pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(killed_db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n = con.execute("SELECT COUNT(*) FROM source").fetchone()[0]
    assert 0 < n < len(files), "the kill must land in the middle of the import"
    per_source = (
        "SELECT src.path, s.external_id, COUNT(m.id) FROM source src JOIN session s ON s.source_id = src.id"
        " LEFT JOIN message m ON m.session_id = s.id GROUP BY s.id"
    )
    killed = con.execute(per_source).fetchall()
    con.close()
    con = sqlite3.connect(clean_db)
    whole = {(p, e): c for p, e, c in con.execute(per_source).fetchall()}
    con.close()
    assert killed and all(whole[(p, e)] == c for p, e, c in killed)  # every stored file is whole


def test_proposals_checked_early_are_checked_again_when_another_writer_wrote(tmp_path, monkeypatch):
    """The workers' proposals for a session are checked against the stored session when its file
    is committed; if another connection writes during the run, they are all checked again at its
    end (a session changed meanwhile is then extracted in-process)."""
    from memtui.core import propose
    from memtui.core.importers import prefetch

    monkeypatch.setattr(prefetch, "START_AFTER", 0)
    monkeypatch.setattr(prefetch, "START_AFTER_EXTRACTING", 0)
    monkeypatch.setattr(prefetch, "WAIT_FOR_START", 0)
    monkeypatch.setattr(pipeline, "FILES_PER_COMMIT", 1)  # (the other writer needs the lock between files)
    folder = _tree(tmp_path, n=24, lines=8)
    db_path = tmp_path / "a.db"
    seen = []

    def on_file(path, fmt):
        seen.append(path.name)
        if path.name == "f23.jsonl":  # long after s00 was stored and its proposals checked
            con = sqlite3.connect(db_path)
            con.execute("DELETE FROM message WHERE id = (SELECT MAX(m.id) FROM message m JOIN session s"
                        " ON s.id = m.session_id WHERE s.external_id = 's00')")
            con.commit()
            con.close()

    db = open_database(db_path)
    report = Importer(db, workers=1, extractor="heuristic", on_file=on_file).import_paths([folder])
    (s00,) = rows(db, "SELECT id FROM session WHERE external_id = 's00'")[0]
    assert len(seen) == 24 and len(report.extracted) >= 20
    assert s00 not in report.extracted  # its stored messages are no longer the ones the worker saw
    db.close()
