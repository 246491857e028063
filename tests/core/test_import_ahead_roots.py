"""The import workers find each session cwd's project root once per run (AheadSessions' `roots`,
shared by worker_main across its files), and the proposals are those a fresh look at each cwd
gives: sessions in a git work tree get the tree's root, others their cwd."""

from __future__ import annotations

import gc
import io
import pickle
import subprocess

import pytest

import memtui.core.importers.pipeline as pipeline
import memtui.core.importers.prefetch as prefetch
from memtui.core.importers.base import SessionInfo
from memtui.core.importers.pipeline import AheadSessions
from tests.core.test_extract_speed_paths import _row, _session_lines


@pytest.fixture
def looked(monkeypatch) -> list:
    """The cwds pipeline.project_root is asked about, in order."""
    asked: list = []
    real = pipeline.project_root
    monkeypatch.setattr(pipeline, "project_root", lambda cwd: asked.append(cwd) or real(cwd))
    return asked


def _file(n: int, cwds: list[str], roots: dict | None) -> AheadSessions:
    """One file's sessions, one per cwd."""
    ahead = AheadSessions("claude-code", "heuristic", roots)
    for i, cwd in enumerate(cwds):
        key = f"f{n}-s{i}"
        ahead.add(SessionInfo(key=key, tool="claude-code", cwd=cwd))
        for j in range(3):
            ahead.add(_row(key, f"{key}-{j}", f"Please always use pnpm, never npm, in this repository ({j})."))
    return ahead


def test_each_cwd_is_looked_at_once_per_run_with_the_same_results(tmp_path, looked):
    repo = tmp_path / "shop"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    plain = tmp_path / "notes"
    plain.mkdir()
    cwds = [str(repo / "src"), str(plain), str(repo / "src"), "/nowhere/at/all", str(repo)]
    roots: dict = {}
    shared = [_file(n, cwds, roots).results() for n in range(3)]
    assert sorted(looked) == sorted(set(cwds))  # (once each, for all three files)
    looked.clear()
    fresh = [_file(n, cwds, None).results() for n in range(3)]
    assert len(looked) == 3 * len(set(cwds))  # (without a shared dict: each file looks again)
    assert shared == fresh
    fields = {key: result[0] for results in shared for key, result in results.items()}
    assert fields["f0-s0"] == ("claude-code", str(repo / "src"), str(repo))  # (tool, cwd, project root)
    assert fields["f1-s1"] == ("claude-code", str(plain), str(plain))
    assert fields["f2-s3"] == ("claude-code", "/nowhere/at/all", "/nowhere/at/all")


def test_a_worker_looks_at_each_cwd_once_across_its_files(tmp_path, monkeypatch, looked):
    """worker_main (run here on in-memory streams) keeps one `roots` for all the files it extracts."""
    monkeypatch.setattr(prefetch, "_lower_priority", lambda: None)  # (this is the test process)
    jobs = io.BytesIO()
    for n in range(4):
        path = tmp_path / f"s{n}.jsonl"
        path.write_text("".join(_session_lines(f"s{n}", f"p{n}", 6)))  # (all in /home/dev/shop)
        prefetch._write_frame(jobs, pickle.dumps((str(path), "claude-code", 0, {}, "heuristic")))
    jobs.seek(0)
    out = io.BytesIO()
    collecting = gc.isenabled()
    try:
        prefetch.worker_main(jobs, out)
    finally:  # (it freezes and turns off this process's collector, as a worker's own)
        gc.unfreeze()
        if collecting:
            gc.enable()
    out.seek(0)
    frames = []
    while (frame := prefetch._read_frame(out)) is not None:
        frames.append(frame)
    extracted = [e for f in frames[1:] for e in pickle.loads(f) if isinstance(e, prefetch.Control) and e.kind == "extract"]
    assert len(extracted) == 4 and all(e.b for e in extracted)  # (each file's session was extracted)
    assert looked == ["/home/dev/shop"]
