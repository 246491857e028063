"""What an import worker sends (pipeline.prepared_frames) and extracts from (AheadSessions) is what
the loop it replaced made: prepared items one by one (messages as objects or as the tuples of
their fields, Parser.parse_rows), each given to AheadSessions.add, runs of
consecutive messages of one session cut by any other item, a NaN timestamp or a full frame.

`_reference_frames` is that loop (prefetch.worker_main at e564b51). Random streams of messages
(external ids new, repeated, None or not text; NaN timestamps; texts that are not ASCII), session
announcements, rewinds, titles and warnings given while the parser runs are framed by both with
small frame and extraction limits, and must give the same frames and the same sessions to extract.
"""

from __future__ import annotations

import random

import pytest

from memtui.core.importers import pipeline
from memtui.core.importers.base import LeafTitle, ParsedMessage, Rewind, SessionInfo
from memtui.core.importers.pipeline import AheadSessions, MessageRun, prepare_items, prepared_frames, runnable
from memtui.core.redact import clean


def _reference_prepare(m: ParsedMessage) -> tuple:
    text = m.text
    original = m.original_len if m.original_len is not None else len(text)
    limit = pipeline.MAX_TOOL_TEXT if m.kind in ("tool_result", "tool_use") else pipeline.MAX_TEXT
    if len(text) > limit:
        text = pipeline._shorten_json(text, limit) if m.kind == "tool_use" else pipeline._shorten(text, limit)
    text = clean(text)
    return (
        m.session_key,
        m.role,
        m.kind,
        clean(m.tool_name) if m.tool_name else None,
        text,
        m.timestamp,
        m.external_id,
        m.group_id,
        1 if m.is_error else 0,
        original if original != len(text) or m.original_len is not None else None,
        original,
    )


def _reference_run(rows: list[tuple]) -> MessageRun:
    cols = tuple(zip(*rows))
    stamps = [t for t in cols[5] if t]
    return MessageRun(
        rows[0][0], (*cols[1:4], pipeline._utf8(cols[4]), *cols[5:10]), len(rows), sum(cols[10]),
        min(stamps) if stamps else None, max(stamps) if stamps else None, sum(map(len, cols[4])),
    )


def _reference_frames(items, buf: list, ahead, max_chars: int, max_items: int, frames: list) -> None:
    chars = 0
    run: list = []
    n = 0
    for item in items:
        if type(item) is ParsedMessage:
            item = _reference_prepare(item)
        if ahead is not None:
            ahead.add(item)
        if type(item) is tuple and runnable(item):
            if run and run[0][0] != item[0]:
                buf.append(_reference_run(run))
                run = []
            run.append(item)
            chars += len(item[4])
        else:
            if run:
                buf.append(_reference_run(run))
                run = []
            buf.append(item)
            if type(item) is tuple:
                chars += len(item[4])
        n += 1
        if chars >= max_chars or n >= max_items:
            if run:
                buf.append(_reference_run(run))
                run = []
            frames.append(repr(buf))
            buf.clear()
            chars = n = 0
    if run:
        buf.append(_reference_run(run))
    frames.append(repr(buf))


def _frames(items, buf: list, ahead, max_chars: int, max_items: int, frames: list) -> None:
    for _ in prepared_frames(items, buf, ahead, max_chars, max_items):
        frames.append(repr(buf))
        buf.clear()
    frames.append(repr(buf))


_TEXTS = ["hello", "", "a longer text of some words " * 3, "caf\u00e9 \u6f22\u5b57", "emoji \U0001f600", "x" * 40,
          "key sk-ant-api03-" + "A1b2" * 20, "\x00 control \x07", "y" * 8100 + " [json]", '{"a": "' + "z" * 9000 + '"}']


def _items(seed: int, buf: list, rows: bool = False):
    """A random item stream; warnings go into `buf` while it runs, as ctx.warn's do in a worker.
    `rows`: every other message as the tuple of its fields (Parser.parse_rows)."""
    rng = random.Random(seed)
    keys = ["s1", "s2", "s1/agent-a"][: rng.randrange(1, 4)]
    for i in range(rng.randrange(0, 120)):
        r = rng.random()
        key = rng.choice(keys)
        if r < 0.7:
            ts = rng.choice([None, 0.0, 1.7e9 + i, 1.7e9 - i, float("nan"), 5])
            ext = rng.choice([f"u{i}", f"u{i}", f"u{i}", f"u{rng.randrange(i + 1)}", None, i, f"u{i}#1"])
            kind = rng.choice(["text", "tool_use", "tool_result", "thinking", "summary"])
            fields = (key, "assistant", kind, rng.choice(_TEXTS), ext, rng.choice([None, "Bash", "Read", "", "mcp__x\x00"]), ts,
                      rng.choice([None, "g1"]), rng.choice([False, False, True, 0, 1, "yes"]), rng.choice([None, None, 500, 0]))
            yield fields if rows and i % 2 else ParsedMessage(*fields)
        elif r < 0.8:
            yield SessionInfo(key=key, tool=rng.choice(["claude-code", "other", None]), cwd=rng.choice([None, "", "/a", "/b"]))
        elif r < 0.84:
            yield Rewind(key, f"u{rng.randrange(i + 1)}")
        elif r < 0.88:
            yield LeafTitle(f"u{i}", "a title")
        else:
            buf.append(("warn", i))


def _ahead_state(ahead: AheadSessions):
    return (ahead.chars > pipeline.AHEAD_MAX_CHARS, {
        key: (s.tool, s.cwd, repr(s.rows), sorted(s.external, key=repr), s.ok) for key, s in ahead.sessions.items()
    })


@pytest.mark.parametrize("seed", range(300))
def test_frames_and_sessions_to_extract_as_before(monkeypatch, seed):
    rng = random.Random(-seed)
    monkeypatch.setattr(pipeline, "AHEAD_MAX_CHARS", rng.choice([10**9, 40, 200, 800]))
    max_chars, max_items = rng.choice([1, 30, 100, 10**6]), rng.choice([1, 2, 5, 2000])
    got, want = [], []
    ahead_got, ahead_want = AheadSessions("claude-code", "heuristic"), AheadSessions("claude-code", "heuristic")
    buf: list = []
    _frames(_items(seed, buf, rows=True), buf, ahead_got, max_chars, max_items, got)
    buf = []
    _reference_frames(_items(seed, buf), buf, ahead_want, max_chars, max_items, want)
    assert got == want
    assert _ahead_state(ahead_got) == _ahead_state(ahead_want)
    # and without extraction
    got, want = [], []
    buf = []
    _frames(_items(seed, buf, rows=True), buf, None, max_chars, max_items, got)
    buf = []
    _reference_frames(_items(seed, buf), buf, None, max_chars, max_items, want)
    assert got == want


@pytest.mark.parametrize("seed", range(20))
def test_prepare_items_takes_messages_as_objects_or_tuples(seed):
    buf: list = []
    want = [_reference_prepare(i) if type(i) is ParsedMessage else i for i in _items(seed, buf)]
    assert repr(list(prepare_items(_items(seed, buf, rows=True)))) == repr(want)
