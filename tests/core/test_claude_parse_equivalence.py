"""The fast JSONL reading and Claude Code parsing give exactly what the plain versions gave.

`_reference_iter_jsonl` is iter_jsonl as it was before it read the file in blocks (readline, a
stripped copy of every line): every shortcut must keep its lines, numbers, warnings, resume
points (ctx.end, ctx.state) and what it makes of broken input, block boundaries included.
"""

from __future__ import annotations

import random

import orjson
import pytest

from memtui.core.importers import base
from memtui.core.importers.base import ParseContext, _lenient_json, iter_jsonl


def _reference_iter_jsonl(ctx: ParseContext, limit: int):
    lineno = int(ctx.state.get("lines", 0)) if ctx.start else 0
    offset = ctx.start
    ctx.end = offset
    with open(ctx.path, "rb", buffering=1 << 16) as fh:
        fh.seek(offset)
        while True:
            line = fh.readline(limit + 1)
            if not line:
                break
            if len(line) > limit and not line.endswith(b"\n"):
                lineno += 1
                skipped = len(line)
                while line and not line.endswith(b"\n"):
                    line = fh.readline(limit)
                    skipped += len(line)
                offset += skipped
                ctx.warn(f"line of {skipped / 1e6:.0f} MB skipped (over {limit // 2**20} MiB)", lineno)
                ctx.end = offset
                ctx.state["lines"] = lineno
                continue
            complete = line.endswith(b"\n")
            lineno += 1
            stripped = line.strip()
            if stripped:
                try:
                    obj = orjson.loads(stripped)
                except orjson.JSONDecodeError:
                    obj = _lenient_json(stripped)
                    if obj is None and not complete:
                        ctx.warn("incomplete last line left for the next import", lineno)
                        lineno -= 1
                        break
                    if obj is None:
                        ctx.warn("not valid JSON, line skipped", lineno)
                    else:
                        ctx.warn("invalid UTF-8 or unpaired surrogate replaced", lineno)
                if obj is not None:
                    yield lineno, obj
            offset += len(line)
            ctx.end = offset
            ctx.state["lines"] = lineno


# Lines of every kind iter_jsonl must tell apart; some are longer than the small limits below.
_PIECES = [
    b'{"type":"user","n":1}\n',
    b'  {"a": [1, 2, {"b": "c"}]}  \r\n',
    b"\n",
    b"   \t \n",
    b"\r\n",
    b'{"x":1}\x0c\n',  # a form feed: ASCII whitespace for strip(), not JSON whitespace
    b'\x0b{"x":2}\n',
    b"not json\n",
    b'{"broken": \n',
    b'{"bad utf8": "\xff\xfe"}\n',
    b'{"surrogate": "\\ud83d"}\n',
    b"[1, 2, 3]\n",
    b'"just a string"\n',
    b"null\n",
    b'{"long": "' + b"y" * 300 + b'"}\n',
    b'{"long": "' + b"z" * 1000 + b'"}\n',
    b'{"emoji": "\xf0\x9f\x98\x80 caf\xc3\xa9"}\n',
]


def _run(fn, path, start=0, state=None):
    ctx = ParseContext(path=path, start=start, state=dict(state or {}))
    seen = [(lineno, obj, ctx.end, dict(ctx.state)) for lineno, obj in fn(ctx)]
    return seen, ctx.warnings, ctx.end, ctx.state


def _check(path, limit, monkeypatch, start=0, state=None):
    monkeypatch.setattr(base, "MAX_LINE_BYTES", limit)
    want = _run(lambda c: _reference_iter_jsonl(c, limit), path, start, state)
    assert _run(iter_jsonl, path, start, state) == want
    return want


@pytest.mark.parametrize("block", [1, 7, 64, 300, 4096, 1 << 20])
def test_random_files_read_in_blocks_match_readline(tmp_path, monkeypatch, block):
    monkeypatch.setattr(base, "_READ_BYTES", block)
    rng = random.Random(block)
    path = tmp_path / "t.jsonl"
    for case in range(60):
        data = b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(0, 25)))
        if rng.random() < 0.5:
            data = data[: rng.randrange(0, len(data) + 1)]  # a last line still being written
        path.write_bytes(data)
        for limit in (64, 299, 300, 301, 302, 1024, 10_000):
            _, _, end, state = _check(path, limit, monkeypatch)
            # resuming where a run stopped, as the next incremental import does
            path.write_bytes(data + b"".join(rng.choice(_PIECES) for _ in range(3)))
            _check(path, limit, monkeypatch, end, state)
            path.write_bytes(data)


@pytest.mark.parametrize("block", [3, 50, 1 << 20])
def test_lines_at_the_size_limit(tmp_path, monkeypatch, block):
    """A line of exactly the limit, one byte over, with and without its newline, at the end."""
    monkeypatch.setattr(base, "_READ_BYTES", block)
    path = tmp_path / "t.jsonl"
    limit = 100
    for size in range(limit - 3, limit + 4):
        body = b'"' + b"x" * (size - 2) + b'"'
        assert len(body) == size
        for data in (
            body + b"\n",
            body,
            b"{}\n" + body + b"\n" + b"[]\n",
            b"{}\n" + body,
            body + b"\r\n{}\n",
            b" " * size + b"\n{}\n",
        ):
            path.write_bytes(data)
            _check(path, limit, monkeypatch)


def test_empty_file(tmp_path, monkeypatch):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"")
    assert _check(path, 100, monkeypatch) == ([], [], 0, {})


def test_timestamps_read_by_the_fast_path_as_by_the_general_one():
    rng = random.Random(3)
    alphabet = "0123456789-:T.Z+ ,x\n\u0663"
    stamps = ["2025-11-13T11:44:23.432Z", "2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "0001-01-01T00:00:00.000Z",
              "9999-12-31T23:59:59.999Z", "2023-02-29T10:00:00.000Z", "2025-11-13T11:44:60.000Z", "2025-11-13T24:00:00.000Z"]
    for stamp in list(stamps):
        for _ in range(2500):  # one to three characters changed, added or taken away
            s = list(stamp)
            for _ in range(rng.choice([1, 1, 2, 3])):
                i = rng.randrange(len(s))
                op = rng.random()
                if op < 0.7:
                    s[i] = rng.choice(alphabet)
                elif op < 0.85:
                    s.insert(i, rng.choice(alphabet))
                else:
                    del s[i]
            stamps.append("".join(s))
    assert sum(base._parse_utc_ms(s) is not None for s in stamps) > 1000  # (the rest: the general path)
    for s in stamps:
        assert repr(base.parse_ts(s)) == repr(base._general_ts(s)), s
