"""How the writer binds a message's columns (pipeline._Writer, _UPSERT) does not change what is
stored: texts a worker sends as UTF-8 (MessageRun, pipeline._utf8) are stored as the same TEXT
as str texts, and None columns bound as NaN are NULL, as None is."""

from __future__ import annotations

import pickle

import pytest

from memtui.core.db import index_pending, open_database
from memtui.core.importers.base import SessionInfo
from memtui.core.importers.pipeline import Importer, MessageRun, _Writer

TEXTS = [
    "",
    "plain ascii words",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9",  # Latin-1
    "\u6f22\u5b57\u3068\u304b\u306a \u2500\u2500 box",  # UCS-2
    "emoji \U0001f600 and \U0001f4a9 end",  # beyond the BMP
    "nul \x00 inside and \x01 control",
    "line\nbreaks\r\nand\ttabs",
]


def _row(i: int, text: str, tool: str | None, group: str | None, original: int | None):
    # (session_key, role, kind, tool_name, text, timestamp, external_id, group_id, is_error, original_len col, original)
    return ("s", "assistant", "tool_use" if tool else "text", tool, text, 1.5 + i if i % 2 else None, f"e{i}", group,
            i % 2, original, len(text) if original is None else original)


def _rows(texts=TEXTS):
    return [_row(i, t, "Bash" if i % 3 == 0 else None, "g1" if i % 2 else None, 99_000 if i == 2 else None)
            for i, t in enumerate(texts)]


def _store(tmp_path, name: str, items: list):
    db = open_database(tmp_path / name)
    importer = Importer(db, workers=0)
    try:
        with db.atomic():
            writer = _Writer(importer, "claude-code", "claude-code", fresh=True)
            writer.consume([SessionInfo(key="s", tool="claude-code"), *items])
            writer.finish()
            index_pending(db.connection())
        return (
            db.execute_sql("SELECT id, session_id, position, role, kind, tool_name, text, timestamp, external_id,"
                           " group_id, is_error, original_len FROM message ORDER BY id").fetchall(),
            db.execute_sql("SELECT typeof(text), typeof(tool_name), typeof(group_id), typeof(original_len),"
                           " typeof(timestamp) FROM message ORDER BY id").fetchall(),
            db.execute_sql("SELECT message_count, raw_size, started_at, ended_at FROM session").fetchall(),
            db.execute_sql("SELECT rowid FROM message_fts WHERE message_fts MATCH 'emoji'").fetchall(),
        )
    finally:
        db.close()


def test_a_run_stores_what_single_messages_store(tmp_path):
    rows = _rows()
    single = _store(tmp_path, "single.db", rows)
    run = _store(tmp_path, "run.db", [pickle.loads(pickle.dumps(MessageRun.of(rows), protocol=5))])
    assert run == single
    stored, types, _, found = single
    assert [r[6] for r in stored] == TEXTS
    assert {t[0] for t in types} == {"text"}
    assert [r[5] for r in stored] == [r[3] for r in rows]  # tool_name: None stays NULL
    assert [r[9] for r in stored] == [r[7] for r in rows]
    assert [r[11] for r in stored] == [r[9] for r in rows]
    assert [r[7] for r in stored] == [r[5] for r in rows]
    assert ("text", "null", "null", "null", "null") in types and len(found) == 1


def test_a_run_sends_its_texts_as_utf8():
    run = MessageRun.of(_rows())
    assert [t if type(t) is str else bytes(t).decode("utf-8") for t in run.cols[3]] == TEXTS
    assert [type(t) for t in run.cols[3]] == [str if t.isascii() else bytearray for t in TEXTS]
    assert run.chars == sum(map(len, TEXTS))  # (characters, not bytes)


def test_a_text_utf8_cannot_hold_fails_as_it_did(tmp_path):
    rows = _rows(["fine", "lone \ud800 surrogate", "fine too \u00e9"])
    run = MessageRun.of(rows)
    assert run.cols[3][1] == "lone \ud800 surrogate" and [type(t) for t in run.cols[3]] == [str, str, bytearray]
    with pytest.raises(UnicodeEncodeError) as single:
        _store(tmp_path, "single.db", rows)
    with pytest.raises(UnicodeEncodeError) as as_run:
        _store(tmp_path, "run.db", [run])
    assert str(as_run.value) == str(single.value)
