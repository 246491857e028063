"""A review action waits for another process's write transaction instead of failing at once."""

from __future__ import annotations

import subprocess
import sys
import time

from memtui.core import memories as mem
from memtui.core.db import open_database


def test_actions_wait_for_the_write_lock_held_elsewhere(db_path):
    db = open_database(db_path)
    mid = mem.add(db, "Prefers small commits", tier="developer")
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(1.0)\n"
            "c.execute('COMMIT')\n"
        ), str(db_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        assert mem.pin(db, [mid]) == [mid]  # read, then write: waits for the lock, then commits
        assert time.monotonic() - started > 0.5
        assert mem.get_memory(db, mid).pinned
        assert mem.undo(db).action == "pin"
    finally:
        holder.wait(timeout=10)
        db.close()
