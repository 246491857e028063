"""A plan's rows hold NaN for NULL (proposals._NULL, cheaper to bind than None): what is stored is NULL
all the same, in the memory and in the journal; the journal's JSON, held as UTF-8 (proposals._json),
is stored as the same TEXT."""

from __future__ import annotations

from memtui.core import proposals
from tests.core.test_memories import P, session  # noqa: F401 (fixture)
from tests.helpers import rows


def _types(db, memory_id):
    return rows(db, "SELECT typeof(project_id), typeof(supersedes_id), typeof(forgotten_at), forgotten_at IS NULL"
                " FROM memory WHERE id = ?", memory_id)[0]


def test_the_columns_a_plan_leaves_empty_are_null(db, session):  # noqa: F811
    sid, mids = session
    first = proposals.propose_session(db, sid, [P("use pnpm, never npm", ids=[mids[0]])], "heuristic").created[0]
    dev = proposals.propose_session(db, sid, [P("I like short answers", tier="developer", ids=[mids[1]])], "h").created[0]
    # contradicts the first: supersedes it (an id, not NULL)
    other = proposals.propose_session(db, sid, [P("use npm, not pnpm", ids=[mids[2]])], "heuristic")
    assert _types(db, first) == ("integer", "null", "null", 1)
    assert _types(db, dev) == ("null", "null", "null", 1)
    if other.superseding:
        assert rows(db, "SELECT typeof(supersedes_id) FROM memory WHERE id = ?", other.created[0]) == [("integer",)]
    events = rows(db, "SELECT action, typeof(before), typeof(after) FROM event ORDER BY id")
    assert {e[1:] for e in events if e[0] == "propose"} == {("null", "text")}
    # no NaN anywhere: a real value would read back as a REAL
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE typeof(supersedes_id) = 'real' OR typeof(forgotten_at) = 'real'"
                " OR typeof(project_id) = 'real'") == [(0,)]



def test_the_journal_json_is_text_as_orjson_writes_it(db, session):  # noqa: F811
    # (the plan holds it as UTF-8: proposals._json; stored as TEXT all the same)
    import orjson

    sid, mids = session
    text = "Use pnpm — never npm ✓ (日本語 😀)"
    created = proposals.propose_session(db, sid, [P(text, ids=[mids[0]])], "heuristic").created[0]
    again = proposals.propose_session(db, sid, [P(text, ids=[mids[1]])], "heuristic")
    assert again.reinforced == (created,)
    events = rows(db, "SELECT action, before, after, typeof(before), typeof(after) FROM event ORDER BY id")
    assert [e[0] for e in events] == ["propose", "reinforce"]
    (_, _, after, *types), (_, before2, after2, *types2) = events
    assert types == ["null", "text"] and types2 == ["text", "text"]
    state = orjson.loads(after)
    assert state["text"] == text == rows(db, "SELECT text FROM memory WHERE id = ?", created)[0][0]
    assert after == orjson.dumps(state).decode()  # (orjson's own text, not re-encoded)
    assert orjson.loads(before2) == {"last_seen_at": state["last_seen_at"]}
    assert set(orjson.loads(after2)) == {"last_seen_at"}
