"""Storing proposals planned during the import (proposals.Planner) stores what deciding after it does."""

from __future__ import annotations

import pytest

from memtui.core import memories, propose, proposals
from memtui.core.db import open_database
from memtui.core.importers.pipeline import Importer
from tests.core.test_extract_speed_paths import _dump, _session_lines


def _tree(tmp_path):
    """Sessions of three projects that say the same things again (reinforcement, supersedes)."""
    tree = tmp_path / "tree"
    for i in range(18):
        folder = tree / f"p{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = _session_lines(f"s{i:02d}", f"x{i % 4}", 6 + i % 5)
        cwd = f"/home/dev/shop{i % 3}"
        (folder / f"s{i:02d}.jsonl").write_text("".join(line.replace("/home/dev/shop", cwd) for line in lines))
    return tree


def _run(tmp_path, name, *, workers, plan=True, between=None, order=sorted, spy=None, before=None, on_session=None):
    db = open_database(tmp_path / name)
    try:
        if before:
            before(db)
        report = Importer(db, workers=workers, extractor="heuristic").import_paths([_tree(tmp_path)])
        if not plan:
            report.extracted.plan = None
        if between:
            between(db)
        if spy is not None:
            spy.clear()
        propose.propose_sessions(db, order(report.touched_sessions), propose.get_extractor("heuristic"), "heuristic",
                                 ready=report.extracted, on_session=on_session)
        return _dump(db), report
    finally:
        db.close()


@pytest.fixture
def decided(monkeypatch):
    """Counts the sessions whose storing is decided (planned) while propose_sessions runs."""
    calls = []
    real = proposals.plan_session

    def spy(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(proposals, "plan_session", spy)
    return calls


def test_plans_made_during_the_import_store_what_deciding_after_it_stores(tmp_path, eager_workers, decided):
    planned, report = _run(tmp_path, "planned.db", workers=1, spy=decided)
    assert report.extracted.plan is not None and len(report.extracted.plan.plans) == 18
    assert decided == []  # nothing was left to decide after the import
    after, _ = _run(tmp_path, "after.db", workers=1, plan=False, spy=decided)
    assert len(decided) == 18
    plain, _ = _run(tmp_path, "plain.db", workers=0)
    assert planned["memory"] and any(e[2] == "reinforce" for e in planned["event"])
    assert planned == after == plain


def test_a_write_after_the_import_makes_the_plans_unused(tmp_path, eager_workers, decided):
    def add(db):
        memories.add(db, "Always use pnpm, never npm, in this repository", tier="developer", kind="preference")

    planned, _ = _run(tmp_path, "planned.db", workers=1, between=add, spy=decided)
    assert len(decided) == 18  # decided again, with the new memory among the candidates
    plain, _ = _run(tmp_path, "plain.db", workers=0, between=add)
    assert planned == plain


def test_plans_are_not_used_for_another_order(tmp_path, eager_workers, decided):
    backwards = lambda ids: sorted(ids, reverse=True)  # noqa: E731
    planned, _ = _run(tmp_path, "planned.db", workers=1, order=backwards, spy=decided)
    assert len(decided) == 18
    plain, _ = _run(tmp_path, "plain.db", workers=0, order=backwards)
    assert planned == plain


def test_an_edit_through_the_same_connection_after_the_import_makes_the_plans_unused(tmp_path, eager_workers, decided):
    """The planned sessions were compared with a memory as it was during the import."""

    def known(db):
        memories.add(db, "Always use pnpm, never npm, in this repository", tier="developer", kind="preference")

    def edit(db):
        db.execute_sql("UPDATE memory SET text = 'Deploy with docker compose on Fridays' WHERE tier = 'developer'")

    planned, _ = _run(tmp_path, "planned.db", workers=1, before=known, between=edit, spy=decided)
    assert len(decided) == 18
    plain, _ = _run(tmp_path, "plain.db", workers=0, before=known, between=edit)
    assert planned == plain
    unedited, _ = _run(tmp_path, "unedited.db", workers=0, before=known)
    assert unedited != plain  # (the edit matters)


def test_on_session_hears_of_every_planned_session(tmp_path, eager_workers, decided):
    heard = []
    planned, report = _run(tmp_path, "planned.db", workers=1, spy=decided,
                           on_session=lambda session, result: heard.append((session.id, session.message_count, result.created)))
    assert decided == [] and [h[0] for h in heard] == sorted(report.touched_sessions)
    plain_heard = []
    plain, _ = _run(tmp_path, "plain.db", workers=0,
                    on_session=lambda session, result: plain_heard.append((session.id, session.message_count, result.created)))
    assert planned == plain and heard == plain_heard
