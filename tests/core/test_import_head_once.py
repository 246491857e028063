"""With import workers, the importer reads the head of each file it walks once: _offer detects the
format to hand the file to a worker, and import_file takes that answer when the file is still the
one _offer looked at (same size and mtime). A file that changed in between is read again."""

from __future__ import annotations

from collections import Counter

import pytest

import memtui.core.importers.pipeline as pipeline
from memtui.core.db import open_database
from memtui.core.importers.pipeline import Importer
from tests.core.test_extract_speed_paths import _session_lines
from tests.core.test_import_prefetch import _dump


@pytest.fixture
def heads(monkeypatch) -> Counter:
    """How many times read_head read each file (by name)."""
    counts: Counter = Counter()
    real = pipeline.read_head
    monkeypatch.setattr(pipeline, "read_head", lambda path: counts.update([path.name]) or real(path))
    return counts


@pytest.fixture
def tree(tmp_path):
    """Three Claude Code transcripts, a binary file and a .jsonl of no known format."""
    folder = tmp_path / "tree" / "p"
    folder.mkdir(parents=True)
    for name in ("a", "b", "c"):
        (folder / f"{name}.jsonl").write_text("".join(_session_lines(f"s-{name}", name, 6)))
    (folder / "blob.jsonl").write_bytes(b"\x00\x01binary" * 100)
    (folder / "notes.jsonl").write_text('{"hello": "world"}\n')
    return tmp_path / "tree"


def _import(db_path, tree, workers: int):
    db = open_database(db_path)
    try:
        report = Importer(db, workers=workers).import_paths([tree])
        return report, _dump(db)
    finally:
        db.close()


def test_each_file_is_read_once_and_the_import_is_the_same(tmp_path, tree, heads, eager_workers):
    report, stored = _import(tmp_path / "w.db", tree, workers=1)
    assert heads == {name: 1 for name in ("a.jsonl", "b.jsonl", "c.jsonl", "blob.jsonl", "notes.jsonl")}
    assert (report.files_imported, report.files_skipped, report.files_failed) == (3, 2, 0)
    heads.clear()
    plain_report, plain = _import(tmp_path / "plain.db", tree, workers=0)
    assert stored == plain and stored["message"]
    assert report.as_dict() == plain_report.as_dict()


@pytest.mark.parametrize("change", ["to_binary", "to_transcript"])
def test_a_file_that_changed_after_it_was_offered_is_read_again(tmp_path, tree, heads, eager_workers, monkeypatch, change):
    folder = tree / "p"
    target = folder / ("b.jsonl" if change == "to_binary" else "notes.jsonl")
    real_offer = Importer._offer

    def offer(self, file):
        real_offer(self, file)
        if file.name == target.name:  # changed between the worker's hand-over and the import
            if change == "to_binary":
                target.write_bytes(b"\x00binary now" * 50)
            else:
                target.write_text("".join(_session_lines("s-notes", "n", 4)))

    monkeypatch.setattr(Importer, "_offer", offer)
    report, stored = _import(tmp_path / "w.db", tree, workers=1)
    assert heads[target.name] == 2
    sessions = {row[1] for row in stored["session"]}
    if change == "to_binary":
        assert "s-b" not in sessions and {"s-a", "s-c"} <= sessions
        assert (report.files_imported, report.files_skipped) == (2, 3)
    else:
        assert "s-notes" in sessions
        assert (report.files_imported, report.files_skipped) == (4, 1)
