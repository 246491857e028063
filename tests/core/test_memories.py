"""Memories: review actions, the journal with undo/redo, proposals with dedupe, JSON round trip."""

from __future__ import annotations

import json

import orjson
import pytest

from memtui.cli import main
from memtui.core import memories as mem
from memtui.core import proposals
from memtui.core.extract import Proposal
from tests.helpers import import_paths, rows, write_jsonl


@pytest.fixture
def session(db, tmp_path):
    """One imported Claude Code session with a few messages; returns (session id, message ids)."""
    base = {"sessionId": "s1", "cwd": "/work/shop", "parentUuid": None, "timestamp": "2025-03-01T10:00:00.000Z"}
    write_jsonl(tmp_path / "s1.jsonl", [
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "Use pnpm, never npm, in this repo."}},
        base | {"type": "assistant", "uuid": "a1", "message": {"id": "m1", "role": "assistant",
                "content": [{"type": "text", "text": "Understood: pnpm from now on."}]}},
        base | {"type": "user", "uuid": "u2", "message": {"role": "user", "content": "The API server listens on port 8080."}},
    ])
    import_paths(db, tmp_path / "s1.jsonl")
    sid = rows(db, "SELECT id FROM session")[0][0]
    mids = [r[0] for r in rows(db, "SELECT id FROM message ORDER BY position")]
    return sid, mids


def P(text, kind="preference", tier="project", ids=(), conf=0.7):
    return Proposal(text, kind, tier, conf, tuple(ids), ())


def test_add_is_approved_and_journalled(db, tmp_path):
    mid = mem.add(db, "Prefers small commits", tier="developer", kind="preference")
    m = mem.get_memory(db, mid)
    assert (m.status, m.tier, m.project_id, m.extractor) == ("approved", "developer", None, "manual")
    assert rows(db, "SELECT action, before, after IS NOT NULL FROM event") == [("add", None, 1)]


def test_project_memory_is_tied_to_the_full_path(db, tmp_path):
    mid = mem.add(db, "Uses Postgres 16", project=str(tmp_path / "api"))
    assert mem.get_memory(db, mid).project_root == str(tmp_path / "api")


def test_actions_change_the_db_and_undo_redo_walk_the_journal(db, session):
    sid, mids = session
    res = proposals.propose_session(db, sid, [P("Use pnpm, never npm", ids=[mids[0]]), P("API listens on 8080", "fact", ids=[mids[2]])], "heuristic")
    a, b = res.created
    mem.approve(db, [a])
    mem.pin(db, [a])
    mem.edit(db, b, text="The API server listens on port 8080", tier="project", kind="constraint")
    mem.reject(db, [b])
    assert [(m.id, m.status, m.pinned, m.kind) for m in mem.list_memories(db, order="id")] == [
        (a, "approved", True, "preference"), (b, "rejected", False, "constraint")]
    # Each journal event has the changed fields before and after.
    ev = rows(db, "SELECT action, before, after FROM event WHERE action = 'edit'")[0]
    assert orjson.loads(ev[1])["text"] == "API listens on 8080"
    assert orjson.loads(ev[2])["text"] == "The API server listens on port 8080"

    assert mem.undo(db).action == "reject"
    assert mem.undo(db).action == "edit"
    m = mem.get_memory(db, b)
    assert (m.status, m.kind, m.text) == ("proposed", "fact", "API listens on 8080")
    assert mem.redo(db).action == "edit"
    assert mem.get_memory(db, b).kind == "constraint"
    # A new action after an undo ends the redo chain.
    mem.undo(db)
    mem.pin(db, [b])
    assert mem.redo(db) is None
    # Undo never reverts what the extractor did: it stops at user actions.
    for _ in range(5):
        mem.undo(db)
    assert mem.undo(db) is None
    assert {m.id for m in mem.list_memories(db)} == {a, b}
    assert all(m.status == "proposed" and not m.pinned for m in mem.list_memories(db))


def test_redo_brings_back_the_last_undone_action_never_one_a_later_action_replaced(db, session):
    """Undo A, do B, undo B: redo re-applies B. A was given up when B was taken."""
    sid, mids = session
    a, b = proposals.propose_session(
        db, sid, [P("Use pnpm, never npm", ids=[mids[0]]), P("API listens on 8080", "fact", ids=[mids[2]])], "heuristic"
    ).created
    mem.approve(db, [a])
    assert mem.undo(db).action == "approve"
    mem.pin(db, [b])
    assert mem.undo(db).action == "pin"
    redone = mem.redo(db)
    assert (redone.action, redone.memory_ids) == ("pin", (b,))
    assert mem.get_memory(db, b).pinned and mem.get_memory(db, a).status == "proposed"
    assert mem.redo(db) is None
    # Undone twice in a row, redo walks forward in order; proposals stored meanwhile change nothing.
    mem.reject(db, [a])
    mem.set_tier(db, [b], "session")
    assert [mem.undo(db).action for _ in range(2)] == ["edit", "reject"]
    proposals.propose_session(db, sid, [P("Tests run with pytest -q", "convention", ids=[mids[1]])], "heuristic")
    assert [mem.redo(db).action for _ in range(2)] == ["reject", "edit"]
    assert mem.get_memory(db, a).status == "rejected" and mem.get_memory(db, b).tier == "session"
    assert mem.redo(db) is None


def test_forget_restore_purge_and_undo_of_purge(db, session):
    sid, mids = session
    (a,) = proposals.propose_session(db, sid, [P("Use pnpm, never npm", ids=[mids[0]])], "heuristic").created
    mem.forget(db, [a])
    assert mem.list_memories(db) == [] and [m.id for m in mem.list_memories(db, forgotten=True)] == [a]
    assert mem.forget(db, [a]) == []  # already in the trash: no change, no event
    mem.restore(db, [a])
    assert [m.id for m in mem.list_memories(db)] == [a]
    mem.purge(db, [a])
    assert mem.get_memory(db, a) is None and rows(db, "SELECT COUNT(*) FROM evidence")[0][0] == 0
    mem.undo(db)
    back = mem.get_memory(db, a)
    assert back.text == "Use pnpm, never npm" and back.evidence[0].message_id == mids[0]


def test_unknown_ids_and_bad_values_are_refused(db):
    with pytest.raises(mem.MemoryError_, match="no memory with id 42"):
        mem.approve(db, [42])
    mid = mem.add(db, "x is y", tier="developer")
    with pytest.raises(mem.MemoryError_, match="unknown tier"):
        mem.edit(db, mid, tier="global")
    with pytest.raises(mem.MemoryError_, match="needs some text"):
        mem.edit(db, mid, text="   ")


def test_duplicates_reinforce_instead_of_adding(db, session):
    sid, mids = session
    first = proposals.propose_session(db, sid, [P("Use pnpm, never npm, in this repository", ids=[mids[0]])], "heuristic")
    before = mem.get_memory(db, first.created[0])
    again = proposals.propose_session(db, sid, [P("Use pnpm, never npm, in this repository.", ids=[mids[1]])], "heuristic")
    assert again.created == () and again.reinforced == first.created
    after = mem.get_memory(db, first.created[0])
    assert after.last_seen_at >= before.last_seen_at
    assert {e.message_id for e in after.evidence} == {mids[0], mids[1]}
    assert rows(db, "SELECT COUNT(*) FROM memory")[0][0] == 1


def test_near_duplicates_within_a_session_merge(db, session):
    sid, mids = session
    res = proposals.propose_session(db, sid, [
        P("Use pnpm instead of npm for every install", ids=[mids[0]]),
        P("Use pnpm instead of npm for every install.", ids=[mids[1]]),
        P("The API server listens on port 8080", "fact", ids=[mids[2]]),
    ], "heuristic")
    assert len(res.created) == 2
    merged = mem.get_memory(db, res.created[0])
    assert {e.message_id for e in merged.evidence} == {mids[0], mids[1]}


def test_contradiction_is_marked_as_possible_supersede(db, session):
    sid, mids = session
    old = mem.add(db, "The API server listens on port 8080", project="/work/shop")
    res = proposals.propose_session(db, sid, [P("The API server listens on port 9090", "fact", ids=[mids[2]])], "heuristic")
    assert res.superseding == ((res.created[0], old),)
    assert mem.get_memory(db, res.created[0]).supersedes_id == old


def test_statements_of_one_session_do_not_supersede_each_other(db, session):
    """Proposals of one session share its words (a request's, prefixed to several): they go to
    review side by side, none marked as superseding another."""
    sid, mids = session
    res = proposals.propose_session(db, sid, [
        P("Fix the API server: it listens on port 8080", "fact", ids=[mids[0]]),
        P("Fix the API server: it listens on port 9090", "fact", ids=[mids[2]]),
    ], "heuristic")
    assert len(res.created) == 2 and res.superseding == ()
    assert [mem.get_memory(db, m).supersedes_id for m in res.created] == [None, None]
    # once they are stored, a later proposal (another run, another session) still may supersede them
    later = proposals.propose_session(db, sid, [P("Fix the API server: it listens on port 7070", "fact", ids=[mids[1]])], "heuristic")
    assert later.superseding and later.superseding[0][1] in res.created


def test_evidence_quotes_come_from_the_raw_log(db, session):
    sid, mids = session
    (a,) = proposals.propose_session(db, sid, [P("pnpm only", ids=[mids[0]])], "heuristic").created
    ev = mem.get_memory(db, a).evidence
    assert ev[0].quote == "Use pnpm, never npm, in this repo."
    assert ev[0].session_id == sid and ev[0].position == 0


def test_json_export_and_load_round_trip(db, session, tmp_path):
    from memtui.core.db import open_database

    sid, mids = session
    a, b = proposals.propose_session(db, sid, [P("Use pnpm, never npm", ids=[mids[0]]),
                                         P("Port 8080 for the API", "fact", ids=[mids[2]])], "heuristic").created
    mem.approve(db, [a]); mem.pin(db, [a]); mem.reject(db, [b])
    dev = mem.add(db, "Prefers tabs", tier="developer", kind="preference")
    mem.forget(db, [dev])
    exported = mem.export_store(db)

    other = open_database(tmp_path / "other.db")
    import_paths(other, tmp_path / "s1.jsonl")  # same session imported on the other machine
    assert mem.load_store(other, exported).created == 3
    assert mem.load_store(other, exported).created == 0  # loading twice adds nothing
    again = mem.export_store(other)
    keys = ("tier", "kind", "text", "status", "pinned", "project", "session", "forgotten_at")
    assert [{k: m[k] for k in keys} for m in again["memories"]] == [{k: m[k] for k in keys} for m in exported["memories"]]
    assert [[e["quote"] for e in m["evidence"]] for m in again["memories"]] == [
        [e["quote"] for e in m["evidence"]] for m in exported["memories"]]
    # Evidence points at the same raw message on the other machine.
    loaded = [m for m in mem.list_memories(other) if m.text == "Use pnpm, never npm"][0]
    assert rows(other, "SELECT external_id FROM message WHERE id = ?", loaded.evidence[0].message_id) == [("u1",)]


def test_cli_review_commands(db_path, capsys, session):
    sid, mids = session
    db_arg = ["--db", str(db_path)]
    assert main([*db_arg, "add", "Always run ruff before committing", "--tier", "developer", "--kind", "convention", "--pin", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["pinned"] and added["status"] == "approved" and added["tier"] == "developer"
    mid = added["id"]
    assert main([*db_arg, "reject", str(mid)]) == 0
    assert capsys.readouterr().out == f"rejected 1 memory(ies): {mid}\n"
    assert main([*db_arg, "memories", "--status", "rejected", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in listed] == [mid]
    assert set(listed[0]) >= {"id", "tier", "kind", "text", "status", "pinned", "project", "session", "confidence",
                              "created_at", "last_seen_at", "evidence"}
    assert main([*db_arg, "undo"]) == 0
    assert "undid reject" in capsys.readouterr().out
    assert main([*db_arg, "memories", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "approved"
    assert main([*db_arg, "edit", str(mid), "--tier", "nope"]) == 2
    assert main([*db_arg, "approve", "12345"]) == 2
    assert "no memory with id 12345" in capsys.readouterr().err
    assert main([*db_arg, "approve", "abc"]) == 2
    assert main([*db_arg, "memories", "--tier", "galaxy"]) == 2
    out = tmp = db_path.parent / "export.json"
    assert main([*db_arg, "export", "--format", "json", "-o", str(out)]) == 0
    assert main(["--db", str(db_path.parent / "fresh.db"), "load", str(tmp)]) == 0
    assert "loaded 1 memory" in capsys.readouterr().out
    (db_path.parent / "bad.json").write_text("{not json")
    assert main([*db_arg, "load", str(db_path.parent / "bad.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_framing_words_do_not_make_a_contradiction():
    from memtui.core.extract.dedupe import contradicts

    assert not contradicts("User requirement: Use pnpm, never npm.",
                           "User requirement: keep it internal, I prefer a small CLI surface.")
    assert contradicts("The API server listens on port 8080", "The API server listens on port 9090")
    assert contradicts("Use pnpm for installs in trailmap", "Never use pnpm for installs in trailmap")
