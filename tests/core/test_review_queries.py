"""The queries the review screen relies on: unreviewed-first order, counts, the data version."""

from __future__ import annotations

from memtui.core import memories as mem
from memtui.core import proposals
from memtui.core import store
from memtui.core.extract import Proposal
from tests.helpers import import_paths, rows, write_jsonl


def _session(path, sid, day):
    base = {"sessionId": sid, "cwd": "/work/shop", "parentUuid": None, "timestamp": f"2025-03-0{day}T10:00:00.000Z"}
    return write_jsonl(path, [
        base | {"type": "user", "uuid": f"{sid}-u1", "message": {"role": "user", "content": f"Session {sid}: use pnpm."}},
    ])


def test_unreviewed_first_counts_and_version(db, tmp_path):
    for sid, day in (("old", 1), ("mid", 2), ("new", 3)):
        import_paths(db, _session(tmp_path / f"{sid}.jsonl", sid, day))
    ids = {ext: i for i, ext in rows(db, "SELECT id, external_id FROM session")}
    assert [s.external_id for s in store.list_sessions(db)] == ["new", "mid", "old"]
    v0 = store.data_version(db)
    created = proposals.propose_session(db, ids["old"], [Proposal("Use pnpm in the shop repo", "convention", "project", 0.8)], "test").created
    v1 = store.data_version(db)
    assert v1 != v0
    assert [s.external_id for s in store.list_sessions(db, unreviewed_first=True)] == ["old", "new", "mid"]
    assert [s.pending for s in store.list_sessions(db, unreviewed_first=True)] == [1, 0, 0]
    assert store.review_counts(db).as_dict() == {"sessions": 3, "sessions_pending": 1, "proposals_pending": 1}
    mem.approve(db, created)
    v2 = store.data_version(db)
    assert v2 != v1
    mem.undo(db)  # no new event, but a change all the same
    assert store.data_version(db) != v2
    mem.redo(db)
    assert store.data_version(db) == v2
    assert [s.external_id for s in store.list_sessions(db, unreviewed_first=True)] == ["new", "mid", "old"]
    assert store.review_counts(db).proposals_pending == 0
    assert [s.external_id for s in store.list_sessions(db, unreviewed_first=True, limit=1, offset=1)] == ["mid"]


def test_session_messages_in_parts(db, tmp_path):
    """The review screen reads a long session's first messages, then the rest from an offset."""
    base = {"sessionId": "long", "cwd": "/work/shop", "parentUuid": None, "timestamp": "2025-03-01T10:00:00.000Z"}
    import_paths(db, write_jsonl(tmp_path / "long.jsonl", [
        base | {"type": "user", "uuid": f"u{i}", "message": {"role": "user", "content": f"message {i}"}} for i in range(12)
    ]))
    (sid,) = rows(db, "SELECT id FROM session")[0]
    whole = store.session_messages(db, sid)
    assert len(whole) == 12 and [m.position for m in whole] == sorted(m.position for m in whole)
    head = store.session_messages(db, sid, limit=5)
    rest = store.session_messages(db, sid, offset=5)
    assert head + rest == whole
    assert store.session_messages(db, sid, offset=5, limit=3) == whole[5:8]
    assert store.session_messages(db, sid, offset=12) == []
