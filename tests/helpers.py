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


def replay_claude_corpus(corpus: Path, dest: Path, copies: int) -> list[Path]:
    """Write `copies` Claude Code files per real corpus file, with fresh session ids and uuids."""
    import orjson

    sources = [p for p in sorted((corpus / "claude-code").rglob("*.jsonl")) if p.stat().st_size > 10_000]
    written = []
    for n in range(copies):
        for i, src in enumerate(sources):
            out = dest / f"project-{n % 7}" / f"copy{n}-{i}.jsonl"
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(src, "rb") as fh, open(out, "wb") as wh:
                for line in fh:
                    try:
                        obj = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue
                    if not isinstance(obj, dict):
                        continue
                    for key in ("sessionId", "uuid", "parentUuid", "leafUuid"):
                        if obj.get(key):
                            obj[key] = f"{obj[key]}-{n}"
                    msg = obj.get("message")
                    if isinstance(msg, dict) and msg.get("id"):
                        msg["id"] = f"{msg['id']}-{n}"
                    wh.write(orjson.dumps(obj) + b"\n")
            written.append(out)
    return written


def message_snapshot(db):
    """Every stored message with its session, in order: compare two imports with it."""
    return rows(
        db,
        "SELECT s.external_id, m.external_id, m.role, m.kind, m.tool_name, m.text, m.is_error"
        " FROM message m JOIN session s ON s.id = m.session_id ORDER BY s.external_id, m.position",
    )


def role_kind_counts(db):
    """{(role, kind): number of messages}."""
    return dict(((r, k), n) for r, k, n in rows(db, "SELECT role, kind, COUNT(*) FROM message GROUP BY role, kind"))


def then_another_writer(real, db_path: Path, sql: str, *params):
    """`real`, wrapped: after it runs, another process (a connection of its own) runs `sql` and
    commits, as a writer racing the caller would."""
    import sqlite3

    def wrapped(*args):
        result = real(*args)
        other = sqlite3.connect(db_path)
        other.execute(sql, params)
        other.commit()
        other.close()
        return result

    return wrapped
