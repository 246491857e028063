"""The importing process's own shortcuts (importers/pipeline.py: Importer): they change how
much work it does, never what it stores."""

from __future__ import annotations

import gc

from memtui.core.db import open_database
from memtui.core.importers.pipeline import Importer


def test_the_collector_is_off_during_an_import_and_restored_after(tmp_path, corpus):
    seen = []
    db = open_database(tmp_path / "a.db")
    try:
        assert gc.isenabled()
        Importer(db, workers=0, on_file=lambda path, fmt: seen.append(gc.isenabled())).import_paths([corpus])
        assert seen and not any(seen)
        assert gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        try:
            Importer(db, workers=0).import_paths([corpus])
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        db.close()


def test_paths_are_stored_resolved_through_symlinked_folders_and_files(tmp_path, corpus, monkeypatch):
    """Importer._resolve (each folder resolved once, a file's lstat taken for its stat) gives
    what Path.resolve() gives: for a folder reached through a symlink, a file that is a symlink
    (into another folder), a relative path and one with '..' after a symlinked folder."""
    files = sorted((corpus / "claude-code").glob("*.jsonl"))[:3]
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    for i, f in enumerate(files):
        (real / ("sub" if i else "") / f.name).write_bytes(f.read_bytes())
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "via").symlink_to(real / "sub", target_is_directory=True)  # a symlinked folder
    (tree / "link.jsonl").symlink_to(real / files[0].name)  # a symlinked file
    (tree / "dangling.jsonl").symlink_to(tmp_path / "missing.jsonl")  # (not a file: the walk passes it)
    (tree / "plain.jsonl").write_bytes(files[0].read_bytes())
    monkeypatch.chdir(tmp_path)
    warnings: list[str] = []
    named = [tree, real, "tree/plain.jsonl", tree / "via" / ".." / "sub" / files[2].name, tree / "via" / files[1].name]
    db = open_database(tmp_path / "a.db")
    try:
        report = Importer(db, workers=0, on_warning=warnings.append).import_paths(named)
        stored = {r[0] for r in db.execute_sql("SELECT path FROM source").fetchall()}
    finally:
        db.close()
    expected = {
        str((real / files[0].name).resolve()),
        str((real / "sub" / files[1].name).resolve()),
        str((real / "sub" / files[2].name).resolve()),
        str((tree / "plain.jsonl").resolve()),
    }
    assert stored == expected
    assert warnings == [] and not report.bad_paths
    assert report.files_imported == 4 and report.files_unchanged == 4  # (seen again under other names)
