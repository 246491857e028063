"""A plan's rows hold NaN for NULL (proposals._NULL, cheaper to bind than None): what is stored is NULL
all the same, in the memory and in the journal."""

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

