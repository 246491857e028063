"""Messages sent by the import workers as MessageRuns are stored as the same messages one by one."""

from __future__ import annotations

import pickle

import pytest

from memtui.core.db import open_database
from memtui.core.importers.base import SessionInfo
from memtui.core.importers.pipeline import Importer, MessageRun, _Writer, external_digest, runnable


def _row(key, i, ts, text="x"):
    # (session_key, role, kind, tool_name, text, timestamp, external_id, group_id, is_error, original_len col, original)
    return (key, "user" if i % 2 else "assistant", "text", None, f"{text} {i}", ts, f"{key}-{i}", None, i % 3 == 0,
            None, len(text) + 2 + i)


def _items(as_runs: bool):
    # a NaN among a's stamps, and first among b's (nothing is smaller than it then: it stays)
    stamps = [5.0, None, 3.0, 0.0, float("nan"), 9.0, float("nan"), None, 7.0, 2.0]
    rows = [_row("a" if i < 6 else "b", i, ts) for i, ts in enumerate(stamps)] + [_row("a", 20, 0.5), _row("a", 21, 11.0)]
    items = [SessionInfo(key="a", tool="claude-code", cwd="/w/p")]
    if not as_runs:
        return items + rows
    run = []
    for row in rows:  # as the worker groups them (see prefetch.worker_main)
        if runnable(row) and (not run or run[0][0] == row[0]):
            run.append(row)
            continue
        if run:
            items.append(MessageRun.of(run))
            run = []
        if runnable(row):
            run.append(row)
        else:
            items.append(row)
    if run:
        items.append(MessageRun.of(run))
    return [pickle.loads(pickle.dumps(i)) if isinstance(i, MessageRun) else i for i in items]


def _store(tmp_path, name, as_runs):
    db = open_database(tmp_path / name)
    importer = Importer(db, workers=0)
    with db.atomic():
        writer = _Writer(importer, "claude-code", "claude-code", fresh=True)
        writer.consume(_items(as_runs))
        writer.finish()
    out = (
        db.execute_sql("SELECT session_id, position, role, kind, text, timestamp, external_id, is_error, original_len"
                       " FROM message ORDER BY id").fetchall(),
        db.execute_sql("SELECT external_id, started_at, ended_at, message_count, raw_size FROM session ORDER BY id").fetchall(),
        writer.chars_written,
    )
    db.close()
    return out


def test_runs_store_what_single_messages_store(tmp_path):
    runs = _store(tmp_path, "runs.db", True)
    single = _store(tmp_path, "single.db", False)
    assert repr(runs) == repr(single)  # (repr: NaN is not equal to itself)
    assert len(single[0]) == 12 and single[1][0][3] == 8


def test_a_nan_timestamp_does_not_join_a_run():
    assert runnable(_row("a", 1, 1.0)) and runnable(_row("a", 1, None))
    assert not runnable(_row("a", 1, float("nan")))
    run = MessageRun.of([_row("a", 1, None), _row("a", 2, 4.0), _row("a", 3, 0.0), _row("a", 4, 2.0)])
    assert (run.count, run.first_ts, run.last_ts) == (4, 2.0, 4.0)
    assert run.chars == sum(len(f"x {i}") for i in range(1, 5))


@pytest.mark.parametrize("ids", [["a", "b", None], ["\ud800x", "b"], ["a", "b\x01"]])
def test_external_digest_depends_on_the_ids_in_order(ids):
    assert external_digest(ids) == external_digest(list(ids))
    assert external_digest(ids) != external_digest(list(reversed(ids)))
    assert external_digest(ids) != external_digest(ids[:-1])


@pytest.mark.parametrize("end", [1, 100, 4095, 4096, 4097, 8191, 8192, 8193, 20_000])
def test_edge_hashes_are_those_of_the_first_and_last_4096_bytes(tmp_path, end):
    # (stored in source.head_hash / tail_hash: a store made before must still match them)
    import hashlib

    from memtui.core.importers.pipeline import _edge_hashes

    data = bytes(range(256)) * 100
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)

    def h(b):
        return hashlib.blake2b(b, digest_size=12).hexdigest()

    assert _edge_hashes(path, end) == (h(data[:min(end, 4096)]), h(data[max(0, end - 4096):end]))
