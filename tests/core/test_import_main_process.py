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
