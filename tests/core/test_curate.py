"""Curating at scale: filtered paging, forget rules with preview, bulk actions undone in one step."""

from __future__ import annotations

import time

import orjson
import pytest

from memtui.core import curate
from memtui.core import memories as mem
from memtui.core.curate import ForgetRules, MemoryQuery
from tests.helpers import rows

DAY = 86_400


def make(db, text, *, tier="project", kind="fact", project="/work/shop", age=0.0, unseen=0.0, conf=1.0,
         pinned=False, status="approved"):
    """A memory created `age` days ago and last seen `unseen` days ago."""
    mid = mem.add(db, text, tier=tier, kind=kind, project=project, pinned=pinned)
    now = time.time()
    db.execute_sql(
        "UPDATE memory SET created_at = ?, last_seen_at = ?, confidence = ?, status = ? WHERE id = ?",
        (now - age * DAY, now - unseen * DAY, conf, status, mid),
    )
    return mid


@pytest.fixture
def sample(db):
    return {
        "old": make(db, "Old decision about the API", age=200, unseen=150, kind="decision"),
        "fresh": make(db, "Fresh fact about the API", age=1, unseen=1),
        "sess_old": make(db, "Session todo from last month", tier="session", kind="todo", age=40, unseen=35),
        "sess_new": make(db, "Session todo from today", tier="session", kind="todo", age=0.5, unseen=0.1),
        "dev": make(db, "Prefers tabs", tier="developer", kind="preference", age=100, unseen=2, conf=0.3),
        "pinned_old": make(db, "Pinned but ancient", age=300, unseen=300, pinned=True),
        "other": make(db, "Another project's fact", project="/work/api", age=10, unseen=80, status="proposed"),
    }


def test_filters_count_and_page_agree(db, sample):
    q = MemoryQuery(tiers=("session",))
    assert curate.count_memories(db, q) == 2
    assert [m.id for m in curate.page_memories(db, q, 0, 10)] == [sample["sess_new"], sample["sess_old"]]
    assert curate.count_memories(db, MemoryQuery(project="/work/api")) == 1
    assert curate.count_memories(db, MemoryQuery(project="/work/shop/src/app.py")) == 5  # a path inside
    assert curate.count_memories(db, MemoryQuery(statuses=("proposed",))) == 1
    assert curate.count_memories(db, MemoryQuery(kinds=("todo", "decision"))) == 3
    assert curate.count_memories(db, MemoryQuery(pinned=True)) == 1
    assert {m.id for m in curate.page_memories(db, MemoryQuery(older_than_days=90), 0, 50)} == {
        sample["old"], sample["dev"], sample["pinned_old"]}
    assert {m.id for m in curate.page_memories(db, MemoryQuery(unseen_for_days=60), 0, 50)} == {
        sample["old"], sample["pinned_old"], sample["other"]}


def test_sorts_and_paging(db, sample):
    everything = curate.page_memories(db, MemoryQuery(sort="created"), 0, 100)
    assert [m.created_at for m in everything] == sorted((m.created_at for m in everything), reverse=True)
    by_conf = curate.page_memories(db, MemoryQuery(sort="confidence"), 0, 100)
    assert by_conf[-1].id == sample["dev"]
    pages = [m.id for off in range(0, 7, 3) for m in curate.page_memories(db, MemoryQuery(), off, 3)]
    assert pages == curate.memory_ids(db, MemoryQuery()) and len(pages) == 7
    first = curate.page_memories(db, MemoryQuery(), 0, 1)[0]
    assert (first.id, first.project_root, first.tier) == (sample["sess_new"], "/work/shop", "session")
    with pytest.raises(ValueError, match="unknown sort"):
        curate.page_memories(db, MemoryQuery(sort="bogus"), 0, 1)
    with pytest.raises(ValueError, match="unknown tier"):
        curate.count_memories(db, MemoryQuery(tiers=("global",)))


def test_list_projects_has_only_projects_with_memories(db, sample):
    db.execute_sql("INSERT INTO project (root, name, created_at) VALUES ('/empty', 'empty', 0)")
    assert [root for _, root in curate.list_projects(db)] == ["/work/api", "/work/shop"]
    mem.forget(db, [sample["other"]])
    assert [root for _, root in curate.list_projects(db, forgotten=True)] == ["/work/api"]
    assert [root for _, root in curate.list_projects(db, forgotten=False)] == ["/work/shop"]


def test_forget_rules_reasons_are_alternatives_within_the_scope(db, sample):
    # Older than 90 days OR session memories older than 30 days; the pinned one stays.
    ids = curate.stale_ids(db, ForgetRules(older_than_days=90, session_older_than_days=30))
    assert set(ids) == {sample["old"], sample["dev"], sample["sess_old"]}
    assert set(curate.stale_ids(db, ForgetRules(older_than_days=90, include_pinned=True))) == {
        sample["old"], sample["dev"], sample["pinned_old"]}
    assert curate.stale_ids(db, ForgetRules(below_confidence=0.5)) == [sample["dev"]]
    assert curate.stale_ids(db, ForgetRules(unseen_for_days=60, project="/work/api")) == [sample["other"]]
    assert set(curate.stale_ids(db, ForgetRules(kinds=("todo",)))) == {sample["sess_old"], sample["sess_new"]}
    assert curate.stale_ids(db, ForgetRules(older_than_days=30, tiers=("developer",))) == [sample["dev"]]
    assert ForgetRules().is_empty() and ForgetRules(include_pinned=True).is_empty()
    with pytest.raises(ValueError, match="every memory"):
        curate.stale_ids(db, ForgetRules())


def test_preview_counts_and_shows_least_recently_seen_first(db, sample):
    count, first = curate.preview_stale(db, ForgetRules(unseen_for_days=30, include_pinned=True), limit=2)
    assert count == 4
    assert [m.id for m in first] == [sample["pinned_old"], sample["old"]]


def test_forget_moves_to_trash_and_undo_is_one_step(db, sample):
    ids = curate.stale_ids(db, ForgetRules(older_than_days=30))
    assert mem.forget(db, ids) == ids
    assert curate.count_memories(db, MemoryQuery(forgotten=True)) == len(ids)
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE forgotten_at IS NOT NULL")[0][0] == len(ids)
    assert rows(db, "SELECT COUNT(DISTINCT batch) FROM event WHERE action = 'forget'") == [(1,)]
    assert mem.undo(db).action == "forget"
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE forgotten_at IS NOT NULL") == [(0,)]


@pytest.mark.parametrize("action, args, column, value", [
    ("pin", (), "pinned", 1),
    ("approve", (), "status", "approved"),
    ("set_tier", ("developer",), "tier", "developer"),
    ("set_kind", ("constraint",), "kind", "constraint"),
])
def test_bulk_actions_change_every_row_and_undo_in_one_step(db, sample, action, args, column, value):
    ids = curate.memory_ids(db, MemoryQuery())
    before = rows(db, f"SELECT id, {column}, updated_at FROM memory ORDER BY id")
    getattr(mem, action)(db, ids, *args)
    assert {r[0] for r in rows(db, f"SELECT {column} FROM memory")} == {value}
    assert mem.undo(db) is not None
    assert rows(db, f"SELECT id, {column}, updated_at FROM memory ORDER BY id") == before
    assert mem.redo(db) is not None
    assert {r[0] for r in rows(db, f"SELECT {column} FROM memory")} == {value}


def test_restore_and_purge_of_the_trash(db, sample):
    ids = [sample["old"], sample["fresh"]]
    mem.forget(db, ids)
    mem.restore(db, [sample["old"]])
    assert curate.memory_ids(db, MemoryQuery(forgotten=True)) == [sample["fresh"]]
    mem.purge(db, [sample["fresh"]])
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE id = ?", sample["fresh"]) == [(0,)]
    mem.undo(db)  # purge is journalled with the full state
    assert curate.memory_ids(db, MemoryQuery(forgotten=True)) == [sample["fresh"]]


@pytest.mark.parametrize("text, days", [("90d", 90), ("12h", 0.5), ("2w", 14), ("30", 30), ("1.5d", 1.5), (" 3 D ", 3)])
def test_parse_duration(text, days):
    assert curate.parse_duration(text) == pytest.approx(days)


@pytest.mark.parametrize("text", ["banana", "", "-3d", "5y", "d", "1e5"])
def test_parse_duration_refuses_nonsense(text):
    with pytest.raises(ValueError, match="not a duration"):
        curate.parse_duration(text)


def test_bulk_journal_writes_what_the_row_held_exactly(db, sample):
    ids = [sample["old"], sample["fresh"]]
    before = dict(rows(db, "SELECT id, updated_at FROM memory WHERE id IN (?, ?)", *ids))
    mem.forget(db, ids)
    events = rows(db, "SELECT memory, before, after FROM event WHERE action = 'forget' ORDER BY memory")
    assert [(m, orjson.loads(b)) for m, b, _ in events] == [
        (i, {"forgotten_at": None, "updated_at": before[i]}) for i in sorted(ids)]
    assert {orjson.loads(a)["forgotten_at"] for _, _, a in events} == {
        rows(db, "SELECT forgotten_at FROM memory WHERE id = ?", ids[0])[0][0]}


def test_purge_journals_the_full_state_and_undo_brings_it_back(db, sample):
    mid = make(db, 'Text with "quotes", a \\ backslash,\na newline and é')
    db.execute_sql("INSERT INTO evidence (memory_id, message_id, quote) VALUES (?, NULL, 'said \"so\"')", (mid,))
    state = mem._row_state(db, mid, with_evidence=True)
    mem.forget(db, [mid, sample["old"]])
    gone = {i: mem._row_state(db, i, with_evidence=True) for i in (mid, sample["old"])}
    assert mem.purge(db, [mid, sample["old"]]) == [mid, sample["old"]]
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE id IN (?, ?)", mid, sample["old"]) == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM evidence WHERE memory_id = ?", mid) == [(0,)]
    assert mem.undo(db).action == "purge"
    assert {i: mem._row_state(db, i, with_evidence=True) for i in gone} == gone
    assert gone[mid]["text"] == state["text"] and gone[mid]["evidence"] == [[None, 'said "so"']]


def test_a_bulk_action_with_an_unknown_id_changes_nothing(db, sample):
    ids = curate.memory_ids(db, MemoryQuery())
    events = rows(db, "SELECT COUNT(*) FROM event")
    for action in (mem.forget, mem.pin, mem.restore):
        with pytest.raises(mem.MemoryError_, match="no memory with id 999"):
            action(db, [*ids, 999])
    assert rows(db, "SELECT COUNT(*) FROM event") == events
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE forgotten_at IS NOT NULL OR pinned = 1") == [(1,)]
