"""A forked import worker that extracts loads the extractor's modules itself, so the importing
process does not compile their patterns first, alone, before the workers start; unless another
thread runs in the importing process, which might hold the lock of a module it is importing at
the moment of the fork: then the modules are loaded before the fork (importers/prefetch.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")

ROOT = Path(__file__).resolve().parents[2]

# Run in a new interpreter: this one has loaded the extractor already (other tests).
SCRIPT = """
import json, sys, threading
from memtui.core.db import open_database
from memtui.core.importers import prefetch
from memtui.core.importers.pipeline import Importer

prefetch.START_AFTER = prefetch.START_AFTER_EXTRACTING = prefetch.WAIT_FOR_START = 0
folder, db_path, other_thread = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
stop = threading.Event()
if other_thread:  # (a thread of the application's, say)
    threading.Thread(target=stop.wait, name="other", daemon=True).start()
loaded_before = prefetch.EXTRACTOR_MODULE in sys.modules
db = open_database(db_path)
report = Importer(db, workers=2, extractor="heuristic").import_paths([folder])
db.close()
stop.set()
print(json.dumps({
    "loaded_before": loaded_before,
    "loaded": prefetch.EXTRACTOR_MODULE in sys.modules,
    "extracted": len(report.extracted),
    "sessions": len(report.touched_sessions),
}))
"""


def _import(tmp_path: Path, folder: Path, other_thread: bool) -> dict:
    db = tmp_path / f"store-{int(other_thread)}.db"
    env = dict(os.environ, MEMTUI_IMPORT_FORK="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), str(db), "1" if other_thread else "0"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def tree(tmp_path, corpus) -> Path:
    folder = tmp_path / "tree"
    shutil.copytree(corpus / "claude-code", folder)
    return folder


def test_the_workers_load_the_extractor_and_the_importer_never_does(tmp_path, tree):
    out = _import(tmp_path, tree, other_thread=False)
    assert not out["loaded_before"]
    # the workers extracted every session ahead (so they had the extractor), and this process,
    # with nothing left to extract itself, never loaded it
    assert out["sessions"] > 0 and out["extracted"] == out["sessions"], out
    assert not out["loaded"], out


def test_with_another_thread_running_the_extractor_is_loaded_before_the_fork(tmp_path, tree):
    out = _import(tmp_path, tree, other_thread=True)
    assert not out["loaded_before"]
    assert out["loaded"], out
    assert out["sessions"] > 0 and out["extracted"] == out["sessions"], out
