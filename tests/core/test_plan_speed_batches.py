"""Plans made during the import carry their journal batch numbers (proposals.PlanState.next_batch):
the ones memories._new_batch gives when they are written, also after earlier batches and an undo."""

from __future__ import annotations

import pytest

from memtui.core import memories
from tests.core.test_propose_planned import _run, decided  # noqa: F401 (decided: a fixture)


def _journal_before(db):
    memories.add(db, "Always run the tests with pytest -q", tier="developer", kind="preference")
    memories.add(db, "Deploys go through the staging cluster first", tier="developer", kind="fact")
    memories.undo(db)  # (an undone batch: the next ones still come after it)


def test_planned_batches_are_those_written_one_session_at_a_time(tmp_path, eager_workers, decided):  # noqa: F811
    planned, report = _run(tmp_path, "planned.db", workers=1, spy=decided, before=_journal_before)
    assert report.extracted.plan is not None and len(report.extracted.plan.plans) == 18
    assert decided == []  # (the plans were used)
    after, _ = _run(tmp_path, "after.db", workers=1, plan=False, before=_journal_before)
    assert planned == after
    batches = [e[0] for e in planned["event"] if e[2] in ("propose", "reinforce")]
    assert batches and min(batches) > 1 and batches == sorted(batches)  # (after the journal's own)


@pytest.mark.parametrize("commit_every, weight", [(64, 16), (4, 1)])
def test_planned_sessions_written_together_are_seen_by_sessions_decided_after_them(
    tmp_path, eager_workers, decided, monkeypatch, commit_every, weight  # noqa: F811
):
    """propose_sessions writes the planned sessions of a transaction in a few statements
    (proposals.write_plans) before deciding a session that is not planned: here the first six
    sessions again, after all of them, whose proposals then reinforce what they stored the first
    time; all in one transaction, or in transactions of 4 sessions (groups end at commits too)."""
    from memtui.core import propose

    monkeypatch.setattr(propose, "COMMIT_EVERY", commit_every)
    monkeypatch.setattr(propose, "PLANNED_WEIGHT", weight)
    again = lambda ids: sorted(ids) + sorted(ids)[:6]  # noqa: E731
    planned, report = _run(tmp_path, "planned.db", workers=1, spy=decided, order=again)
    assert len(report.extracted.plan.plans) == 18 and len(decided) == 6  # (only the sessions seen again)
    plain, _ = _run(tmp_path, "plain.db", workers=0, order=again)
    assert planned == plain
    once, _ = _run(tmp_path, "once.db", workers=1)
    assert planned["memory"] == once["memory"]  # (nothing stored twice)
    more = planned["event"][len(once["event"]):]
    assert planned["event"][: len(once["event"])] == once["event"]
    assert more and all(e[2] == "reinforce" for e in more)
