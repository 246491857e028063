"""Plans made during the import carry their journal batch numbers (proposals.PlanState.next_batch):
the ones memories._new_batch gives when they are written, also after earlier batches and an undo."""

from __future__ import annotations

from memtui.core import memories
from tests.core.test_propose_planned import _run, decided, eager_workers  # noqa: F401 (fixtures)


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
