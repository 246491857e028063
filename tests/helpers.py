"""Small helpers shared by tests."""

from __future__ import annotations

import json
from pathlib import Path

from memtui.core.importers.pipeline import Importer


def import_paths(db, *paths, format=None):
    """Run the real import pipeline and return its report."""
    importer = Importer(db, format=format)
    return importer.import_paths([str(p) for p in paths])


def rows(db, sql, *args):
    return db.execute_sql(sql, args).fetchall()


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path
