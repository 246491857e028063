"""The import workers run below the importing process's priority and write into a pipe of
PIPE_BYTES (importers/prefetch.py), forked (Linux) or started as new interpreters; the importer
keeps its own priority; and a system that refuses either leaves the workers as they were."""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

import pytest

import memtui.core.importers.prefetch as prefetch
from memtui.core.importers.base import ParseContext

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ and /proc are Linux's")


def _started(corpus, monkeypatch, fork: str) -> prefetch.Prefetcher:
    monkeypatch.setenv("MEMTUI_IMPORT_FORK", fork)
    path = sorted((corpus / "claude-code").glob("*.jsonl"))[0]
    worker = prefetch.Prefetcher(start_after=0, extract="heuristic")
    worker.offer(str(path), ("claude-code", 0, {}, path.stat().st_size, path.stat().st_mtime), path.stat().st_size)
    assert worker.proc is not None and worker._poll_ready(wait=True)  # (it lowers its priority before greeting)
    return worker


@pytest.mark.parametrize("fork", ["1", "0"])
def test_workers_run_below_the_importer_and_write_into_a_wide_pipe(corpus, monkeypatch, fork):
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    worker = _started(corpus, monkeypatch, fork)
    try:
        assert isinstance(worker.proc, prefetch._ForkedWorker) == (fork == "1")
        assert os.getpriority(os.PRIO_PROCESS, worker.proc.pid) == min(19, mine + prefetch.WORKER_NICE)
        assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # (the importer's own is untouched)
        assert fcntl.fcntl(worker.proc.stdout.fileno(), fcntl.F_GETPIPE_SZ) == prefetch.PIPE_BYTES
        assert prefetch.PIPE_BYTES > 64 * 1024  # (the default it replaces)
    finally:
        worker.close()


def test_a_refused_pipe_size_leaves_the_pipe_as_it_was(corpus, monkeypatch):
    monkeypatch.setattr(prefetch, "PIPE_BYTES", 1 << 40)  # more than any system allows: EINVAL / EPERM
    worker = _started(corpus, monkeypatch, "1")
    try:
        assert fcntl.fcntl(worker.proc.stdout.fileno(), fcntl.F_GETPIPE_SZ) < 1 << 40
        key, spec = worker.jobs[0].key, worker.jobs[0].spec
        job = worker.take(key, spec)
        ctx = ParseContext(path=Path(key), start=0, state={}, on_warning=lambda text: None)
        assert job is not None and len(list(worker.events(job, ctx))) > 0  # (and the worker works)
    finally:
        worker.close()


def test_a_refused_nice_leaves_the_worker_as_it_was(monkeypatch):
    def refuse(_):
        raise PermissionError("not allowed")

    monkeypatch.setattr(prefetch.os, "nice", refuse)
    prefetch._lower_priority()  # no error
    monkeypatch.delattr(prefetch.os, "nice")  # (a system without nice)
    prefetch._lower_priority()
