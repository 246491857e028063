"""With the workers, the import indexes what waits once FTS_LAST_FILES files are left, so that
the end of the run (work for one core) indexes only those (pipeline.Importer._ahead)."""

from __future__ import annotations

import pytest

from memtui.core.db import open_database
from memtui.core.importers import pipeline
from tests.core.test_import_fts_mark import _assert_index_complete
from tests.core.test_propose_planned import _tree


def _import(tmp_path, monkeypatch, *, last, workers=1, extractor="heuristic"):
    monkeypatch.setattr(pipeline, "FTS_LAST_FILES", last)
    seen = []  # at each indexing: the files stored before it (in the run, the one it ends is not counted yet)
    real = pipeline.index_pending

    def spy(conn):
        seen.append(conn.execute("SELECT COUNT(*) FROM source").fetchone()[0])
        real(conn)

    monkeypatch.setattr(pipeline, "index_pending", spy)
    path = tmp_path / "m.db"
    db = open_database(path)
    try:
        report = pipeline.Importer(db, workers=workers, extractor=extractor).import_paths([_tree(tmp_path)])
        assert report.files_imported == 18
    finally:
        db.close()
    _assert_index_complete(path)
    return seen


@pytest.mark.parametrize("extractor", ["heuristic", None])
def test_what_waits_is_indexed_when_the_last_files_are_left(tmp_path, monkeypatch, eager_workers, extractor):
    # (at the end of the 13th file, 5 left; then the end of the run)
    assert _import(tmp_path, monkeypatch, last=5, extractor=extractor) == [12, 18]


def test_no_early_indexing_when_no_more_files_wait_than_are_left(tmp_path, monkeypatch, eager_workers):
    assert _import(tmp_path, monkeypatch, last=18) == [18]


def test_without_workers_the_index_waits_for_the_end(tmp_path, monkeypatch):
    assert _import(tmp_path, monkeypatch, last=5, workers=0) == [18]
