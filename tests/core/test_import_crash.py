"""Imports are transactional per file and readable while they run (real processes, real kills)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.helpers import replay_claude_corpus

pytestmark = pytest.mark.slow


def _start_import(db_path, folder):
    return subprocess.Popen(
        [sys.executable, "-m", "memtui", "--db", str(db_path), "import", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _count(db_path, sql):
    if not db_path.exists():
        return 0
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        con.close()


def _per_session(db_path):
    con = sqlite3.connect(db_path)
    try:
        return dict(
            con.execute(
                "SELECT s.external_id, COUNT(m.id) FROM session s LEFT JOIN message m ON m.session_id = s.id"
                " GROUP BY s.id"
            ).fetchall()
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory, request):
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    folder = tmp_path_factory.mktemp("big")
    files = replay_claude_corpus(CORPUS, folder, copies=12)
    return folder, files


def test_killed_import_leaves_a_consistent_db_and_a_rerun_finishes_without_duplicates(tmp_path, big_tree):
    folder, files = big_tree
    db_path = tmp_path / "killed.db"
    proc = _start_import(db_path, folder)
    deadline = time.time() + 60
    while time.time() < deadline and _count(db_path, "SELECT COUNT(*) FROM source") < 5:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    committed = _count(db_path, "SELECT COUNT(*) FROM source")
    assert 0 < committed < len(files), "the kill must land in the middle of the import"

    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every session written so far belongs to a committed source file, and no message is orphaned.
    assert con.execute("SELECT COUNT(*) FROM session WHERE source_id IS NULL").fetchone()[0] == 0
    assert con.execute(
        "SELECT COUNT(*) FROM message m LEFT JOIN session s ON s.id = m.session_id WHERE s.id IS NULL"
    ).fetchone()[0] == 0
    con.close()

    rerun = subprocess.run(
        [sys.executable, "-m", "memtui", "--db", str(db_path), "import", str(folder)],
        capture_output=True, text=True, timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr

    clean_db = tmp_path / "clean.db"
    done = subprocess.run(
        [sys.executable, "-m", "memtui", "--db", str(clean_db), "import", str(folder)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert _per_session(db_path) == _per_session(clean_db)
    assert _count(db_path, "SELECT COUNT(*) FROM source") == len(files)


def test_a_reader_is_never_blocked_by_a_running_import(tmp_path, big_tree):
    folder, files = big_tree
    db_path = tmp_path / "shared.db"
    proc = _start_import(db_path, folder)
    seen = []
    errors = []
    while proc.poll() is None:
        try:
            seen.append(_count(db_path, "SELECT COUNT(*) FROM message"))
        except sqlite3.OperationalError as exc:  # "database is locked" would land here
            errors.append(str(exc))
        time.sleep(0.005)
    assert proc.returncode == 0, proc.stderr.read().decode()
    final = _count(db_path, "SELECT COUNT(*) FROM message")
    assert errors == []
    assert seen == sorted(seen), "a reader only ever sees committed, growing states"
    assert any(0 < n < final for n in seen), "some reads happened while the import was writing"
