"""A worker sends a text that is not ASCII as the UTF-8 clean_utf8 made while cleaning it
(prepared_frames): the frames must be those made by encoding each cleaned text afresh."""

from __future__ import annotations

import itertools
import random

import pytest

from memtui.core import redact as R
from memtui.core.importers.pipeline import MessageRun, prepare_items, prepared_frames, runnable

_TEXTS = [
    "plain ascii text here",
    "café au lait, \u6f22\u5b57 and more",
    "emoji \U0001f600 in a longer line",
    "naïve password=hunter2secret and more",  # cleaned: the text changes
    "clé sk-ant-api03-" + "A1b2" * 20,
    "contrôle \x1b[31mred\x1b[0m text",  # control characters stripped
    "lone \ud800 surrogate text",  # no UTF-8: stays str
    "K\u212aelvin token: abcdefgh12345678",
    "short é",
    "é" * 70_000,  # shortened (MAX_TEXT)
    '{"a": "' + "ü" * 9000 + '"}',
]


@pytest.mark.parametrize("text", _TEXTS)
def test_clean_utf8(text):
    out, utf8 = R.clean_utf8(text)
    assert out == R.clean(text)
    if utf8 is not None:
        assert not out.isascii() and utf8 == out.encode("utf-8")


def _rows(seed: int):
    rows = list(itertools.product(_TEXTS, ["text", "tool_use", "tool_result"], [1.0, float("nan"), None]))
    random.Random(seed).shuffle(rows)
    for i, (text, kind, ts) in enumerate(rows):
        yield (f"s{i // 7}", "user", kind, text, f"u{i}", None, ts, None, False, None)


def _reference(items):
    out, run = [], []
    for item in prepare_items(items):
        if type(item) is tuple and runnable(item) and (not run or run[0][0] == item[0]):
            run.append(item)
            continue
        if run:
            out.append(MessageRun.of(run))
        run = [item] if type(item) is tuple and runnable(item) else []
        if not run:
            out.append(item)
    if run:
        out.append(MessageRun.of(run))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_frames_send_the_same_bytes(seed):
    buf: list = []
    for _ in prepared_frames(_rows(seed), buf, None, 10**9, 10**9):
        pass
    want = _reference(_rows(seed))
    assert repr(buf) == repr(want)
    sent = [t for run in buf if type(run) is MessageRun for t in run.cols[3]]
    assert any(type(t) is bytearray for t in sent) and any(type(t) is str and not t.isascii() for t in sent)

