"""Import workers forked from the importing process (Linux) or started as new interpreters
(MEMTUI_IMPORT_FORK=0, and every other platform) give the same database and proposals, and a
forked worker is reaped, also when the run stops early (importers/prefetch.py)."""

from __future__ import annotations

import os
import shutil
import signal
import sys

import pytest

import memtui.core.importers.prefetch as prefetch
from tests.core.test_extract_speed_paths import _run

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")


@pytest.mark.parametrize("fast", [False, True])
def test_forked_and_spawned_workers_store_the_same(tmp_path, corpus, eager_workers, monkeypatch, fast):
    """fast: the workers extract ahead; else they only parse (and this process extracts)."""
    folder = tmp_path / "tree"
    shutil.copytree(corpus / "claude-code", folder)
    monkeypatch.setenv("MEMTUI_IMPORT_FORK", "1")
    assert prefetch.use_fork()
    forked, forked_report = _run(tmp_path / "forked.db", [folder], fast=fast, workers=2)
    monkeypatch.setenv("MEMTUI_IMPORT_FORK", "0")
    assert not prefetch.use_fork()
    spawned, spawned_report = _run(tmp_path / "spawned.db", [folder], fast=fast, workers=2)
    assert forked == spawned and forked["memory"]
    assert forked_report.as_dict() == spawned_report.as_dict()
    assert forked_report.warnings == spawned_report.warnings
    assert len(forked_report.extracted) == len(spawned_report.extracted) and (len(forked_report.extracted) > 0) == fast


def _caught(pid: int) -> int:
    """The signals process `pid` catches (SigCgt of /proc/PID/status), as a bit mask."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigCgt")


def test_a_forked_worker_is_reaped_and_keeps_only_its_pipes(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("MEMTUI_IMPORT_FORK", "1")
    files = sorted((corpus / "claude-code").glob("*.jsonl"))
    keep = open(tmp_path / "held", "wb")  # a descriptor of this process the worker must not hold
    previous = signal.signal(signal.SIGUSR1, lambda *_: None)  # a handler of this process's own
    try:
        worker = prefetch.Prefetcher(start_after=0, extract="heuristic")
        for path in files[:3]:
            worker.offer(str(path), ("claude-code", 0, {}, path.stat().st_size, path.stat().st_mtime), path.stat().st_size)
        assert isinstance(worker.proc, prefetch._ForkedWorker)
        pid = worker.proc.pid
        assert worker._poll_ready(wait=True)
        held = {}
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                held[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:  # (closed meanwhile)
                pass
        assert str(tmp_path / "held") not in held.values()
        # beyond stdin/stdout/stderr, at most the transcript it is reading
        assert all(target in {str(p) for p in files[:3]} for fd, target in held.items() if fd > 2), held
        # the worker runs none of this process's signal handlers
        assert _caught(os.getpid()) & (1 << (signal.SIGUSR1 - 1))
        assert not _caught(pid) & (1 << (signal.SIGUSR1 - 1))
        proc = worker.proc
        worker.close()  # files sent and not read: the worker is killed, then reaped
        assert proc.returncode is not None
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    finally:
        keep.close()
        signal.signal(signal.SIGUSR1, previous)
