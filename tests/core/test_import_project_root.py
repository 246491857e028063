"""The project a session belongs to comes only from an absolute recorded cwd."""

from __future__ import annotations

import pytest

from memtui.core import propose
from memtui.core.importers.pipeline import Importer, project_root
from tests.helpers import import_paths, rows, write_jsonl


def _session(sid: str, cwd: str) -> list[dict]:
    return [
        {"type": "user", "sessionId": sid, "uuid": f"{sid}-u", "cwd": cwd, "parentUuid": None,
         "timestamp": "2025-01-01T00:00:00.000Z",
         "message": {"role": "user", "content": "Always run the tests with uv run pytest, never plain pytest."}},
        {"type": "assistant", "sessionId": sid, "uuid": f"{sid}-a", "cwd": cwd, "parentUuid": f"{sid}-u",
         "timestamp": "2025-01-01T00:00:01.000Z",
         "message": {"role": "assistant", "id": f"{sid}-m", "content": [{"type": "text", "text": "Done."}]}},
    ]


@pytest.mark.parametrize("cwd", ["-experiments/worktrees", "src/app", "worktrees", "./here", "../there", "~/proj", " /x"])
def test_a_relative_cwd_is_no_project_root(cwd):
    assert project_root(cwd) is None


@pytest.mark.parametrize(
    "cwd, root",
    [("/work/api", "/work/api"), ("/work/api/", "/work/api"), ("C:\\Users\\me\\api", "C:\\Users\\me\\api"),
     ("D:/code/api", "D:/code/api"), ("\\\\server\\share\\api", "\\\\server\\share\\api"), ("/", "/")],
)
def test_an_absolute_cwd_is_the_project_root(cwd, root):
    assert project_root(cwd) == root


def test_a_session_with_a_relative_cwd_has_no_project_but_keeps_its_cwd(tmp_path, db):
    write_jsonl(tmp_path / "rel.jsonl", _session("s1", "-experiments/worktrees"))
    write_jsonl(tmp_path / "abs.jsonl", _session("s2", "/work/one/api"))
    import_paths(db, tmp_path)
    assert rows(db, "SELECT root, name FROM project") == [("/work/one/api", "api")]
    got = dict(rows(db, "SELECT cwd, project_id IS NULL FROM session"))
    assert got == {"-experiments/worktrees": 1, "/work/one/api": 0}


def test_the_corpus_worktree_sessions_have_no_relative_project(db, corpus):
    folder = corpus / "claude-code" / "claude-code-log__real_projects__experiments-worktrees__v2.1.114"
    import_paths(db, folder)
    assert not [r for r in rows(db, "SELECT root FROM project") if not r[0].startswith("/")]
    assert rows(db, "SELECT COUNT(*) FROM session WHERE cwd LIKE '-experiments/%' AND project_id IS NOT NULL") == [(0,)]


def test_proposals_made_ahead_agree_about_a_relative_cwd(tmp_path, db):
    """The import workers derive the project root the same way (else their proposals are dropped)."""
    for i in range(3):
        write_jsonl(tmp_path / f"rel{i}.jsonl", _session(f"s{i}", "-experiments/worktrees"))
    importer = Importer(db, extractor="heuristic", workers=0)
    report = importer.import_paths([str(tmp_path)])
    summary = propose.propose_sessions(
        db, sorted(report.touched_sessions), propose.get_extractor("heuristic"), "heuristic", ready=report.extracted
    )
    assert summary.sessions == 3
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE tier != 'developer' AND project_id IS NOT NULL") == [(0,)]
