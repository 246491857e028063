"""Fuzzy search over memories (typos, word order, highlights) and FTS5 search over raw transcripts."""

from __future__ import annotations

import pytest

from memtui.core import memories as mem
from memtui.core import search
from memtui.core.curate import MemoryQuery
from tests.helpers import import_paths, rows, write_jsonl

TEXTS = [
    "The auth module talks to Redis through a connection pool",
    "Prefers functional components in React",
    "Use pnpm, never npm, in this repository",
    "Configuration lives in config/settings.toml",
    "Database migrations run with alembic upgrade head",
    "Tests run with pytest -q from the repository root",
]


@pytest.fixture
def ids(db):
    return [mem.add(db, t, project="/work/shop") for t in TEXTS]


def texts(hits):
    return [h.memory.text for h in hits]


def marked(hit):
    return [hit.memory.text[a:b] for a, b in hit.spans]


def test_exact_words_typos_and_word_order(db, ids):
    index = search.MemoryIndex(db)
    assert len(index) == len(TEXTS)
    assert texts(index.search("redis"))[0] == TEXTS[0]
    assert texts(index.search("rdis conection"))[0] == TEXTS[0]  # two typos
    assert texts(index.search("pool redis"))[0] == TEXTS[0]  # word order
    assert texts(index.search("configuraton"))[0] == TEXTS[3]
    assert texts(index.search("alembc migrat"))[0] == TEXTS[4]  # typo, and a word still being typed
    assert index.search("") == [] and index.search("  ,; ") == []
    assert index.search("zzzzqqq") == []


def test_scores_are_best_first_and_spans_mark_the_matched_words(db, ids):
    index = search.MemoryIndex(db)
    hits = index.search("repository run", limit=10)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 <= h.score <= 100 for h in hits)
    assert texts(hits)[0] == TEXTS[5]  # holds both words
    assert marked(hits[0]) == ["run", "repository"]
    typo = index.search("rdis")[0]
    assert marked(typo) == ["Redis"]  # a typo marks the whole word it matched
    prefix = index.search("conf")[0]
    assert marked(prefix) == ["Conf", "conf"]


def test_limit_and_ids_for_select_all(db, ids):
    index = search.MemoryIndex(db)
    assert len(index.search("r", limit=2)) == 2
    assert set(index.ids("repository")) == {ids[2], ids[5]}
    assert index.ids("") == []


def test_index_over_the_trash_and_changes_since_it_was_built(db, ids):
    mem.forget(db, [ids[0]])
    live = search.MemoryIndex(db)
    trash = search.MemoryIndex(db, MemoryQuery(forgotten=True))
    assert len(trash) == 1 and texts(trash.search("redis")) == [TEXTS[0]]
    assert live.search("redis") == []
    mem.forget(db, [ids[3]])  # forgotten after the live index was built: no longer shown
    assert live.search("configuration") == []
    assert texts(search.search_memories(db, "pnpm", limit=5)) == [TEXTS[2]]


def test_filtered_index(db, ids):
    other = mem.add(db, "Redis is only a cache here", project="/work/api")
    index = search.MemoryIndex(db, MemoryQuery(project="/work/api"))
    assert [h.memory.id for h in index.search("redis")] == [other]


@pytest.fixture
def transcript(db, tmp_path):
    base = {"sessionId": "s1", "cwd": "/work/shop", "parentUuid": None, "timestamp": "2025-03-01T10:00:00.000Z"}
    write_jsonl(tmp_path / "s1.jsonl", [
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "Why does the foo-bar build fail?"}},
        base | {"type": "assistant", "uuid": "a1", "message": {"id": "m1", "role": "assistant",
                "content": [{"type": "text", "text": "The webpack config misses the alias.\nFixing it now."}]}},
        base | {"type": "user", "uuid": "u2", "message": {"role": "user",
                "content": "x " * 200 + "and then the webpack AND rollup question " + "y " * 200}},
    ])
    import_paths(db, tmp_path / "s1.jsonl")
    return rows(db, "SELECT id FROM session")[0][0]


def test_raw_search_finds_the_message_and_its_position(db, transcript):
    hits = search.search_raw(db, "webpack alias")
    assert len(hits) == 1
    hit = hits[0]
    assert (hit.session_id, hit.position, hit.role, hit.project, hit.tool) == (
        transcript, 1, "assistant", "/work/shop", "claude-code")
    assert "\n" not in hit.snippet
    assert [hit.snippet[a:b] for a, b in hit.spans] == ["webpack", "alias"]
    long = search.search_raw(db, "rollup")[0]
    assert len(long.snippet) <= 162 and "rollup" in long.snippet
    assert [long.snippet[a:b] for a, b in long.spans] == ["rollup"]
    assert {h.position for h in search.search_raw(db, "webp")} == {1, 2}  # the last word is a prefix


@pytest.mark.parametrize("text", ['foo-bar', '"', 'AND', '*', 'NEAR(', 'a OR', '"unterminated', "col:umn", "^x", ""])
def test_raw_search_never_raises_on_odd_input(db, transcript, text):
    result = search.search_raw(db, text)
    assert isinstance(result, list)
    if text == "foo-bar":
        assert [h.position for h in result] == [0]
    if text == "AND":
        assert [h.position for h in result] == [2]  # the word, not the operator


def test_raw_search_short_prefixes_and_the_time_budget(db, transcript, monkeypatch):
    assert search.fts_query("webp") == '"webp"*'
    assert search.fts_query("web") == '"web"'  # too short to merge every word starting with it
    assert search.fts_query("webpack ") == '"webpack"'
    assert search.search_raw(db, "web") == []
    monkeypatch.setattr(search, "RAW_TIME_BUDGET", -1.0)  # every query over budget: given up, no error
    monkeypatch.setattr(search, "RAW_CHECK_EVERY", 1)
    assert search.search_raw(db, "webpack") == []
    monkeypatch.undo()
    assert [h.position for h in search.search_raw(db, "webpack alias")] == [1]


def test_when_no_memory_holds_every_word_the_one_holding_most_comes_first(db, ids):
    index = search.MemoryIndex(db)
    hits = index.search("pnpm repository alembic ")
    assert texts(hits)[0] == TEXTS[2]  # two of the three words; the others hold one
    assert set(texts(hits)) == {TEXTS[2], TEXTS[4], TEXTS[5]}
    assert set(index.ids("pnpm repository alembic")) == {ids[2], ids[4], ids[5]}


def test_a_new_index_of_unchanged_memories_shares_the_built_one(db, ids):
    first = search.MemoryIndex(db)
    mem.pin(db, [ids[0]])  # a state changes; which memories, their order and texts do not
    second = search.MemoryIndex(db)
    assert second._conn is first._conn
    assert second.search("redis")[0].memory.pinned  # records are read fresh
    mem.edit(db, ids[3], text="Configuration lives in pyproject.toml")
    third = search.MemoryIndex(db)
    assert third._conn is not first._conn
    assert texts(third.search("pyproject")) == ["Configuration lives in pyproject.toml"]
    mem.forget(db, [ids[0]])
    fourth = search.MemoryIndex(db)
    assert fourth._conn is not third._conn and len(fourth) == len(TEXTS) - 1
    assert first.search("pool") == [] and fourth.search("pool") == []  # forgotten since: dropped
    assert search.MemoryIndex(db, MemoryQuery(forgotten=True))._conn is not fourth._conn


def test_closing_an_index_keeps_the_copy_a_newer_index_shares(db, ids):
    first = search.MemoryIndex(db)
    second = search.MemoryIndex(db)  # nothing changed: shares first's copy
    first.close()
    first.close()  # twice is harmless
    assert texts(second.search("redis")) == [TEXTS[0]]  # still open: second uses it
    third = search.MemoryIndex(db)
    assert third._conn is second._conn
    second.close()
    third.close()
    assert third.search("redis") == [] and third.ids("redis") == []  # the last one: closed, finds nothing
    fourth = search.MemoryIndex(db)  # built again
    assert fourth._conn is not third._conn and texts(fourth.search("redis")) == [TEXTS[0]]
