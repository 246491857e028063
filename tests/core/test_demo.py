"""The sample sessions shipped for `memtui demo`: present, well-formed, and importing cleanly."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest

import memtui.demo as demo
from memtui.demo import load_demo, sample_paths
from memtui.demo._sessions import FAKE_ANTHROPIC_KEY, render_all
from tests.helpers import rows

SESSIONS_DIR = Path(demo.__file__).with_name("sessions")
CC_TITLES = {
    "Fix invoice rounding: store money as integer cents",
    "Speed up customer invoice list with one tax-rate query",
    "Add GPX export command with hand-written XML escaping",
}


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _snapshot(db):
    return rows(
        db,
        "SELECT s.tool, s.external_id, s.title, s.model, s.project_id, m.position, m.external_id, m.role, m.kind,"
        " m.tool_name, m.text, m.is_error FROM message m JOIN session s ON s.id = m.session_id"
        " ORDER BY s.tool, s.external_id, m.position",
    )


# --- the files ------------------------------------------------------------------------------------


def test_sample_paths_lists_the_shipped_files():
    paths = sample_paths()
    assert len(paths) == 5
    assert all(isinstance(p, Path) and p.is_file() and p.suffix == ".jsonl" for p in paths)
    assert all(SESSIONS_DIR in p.parents for p in paths)
    by_tool = Counter(p.relative_to(SESSIONS_DIR).parts[0] for p in paths)
    assert by_tool == {"claude-code": 3, "codex": 2}
    assert paths == sorted(paths)  # stable order


def test_shipped_files_are_what_the_generator_renders():
    """Edit memtui/demo/_sessions.py and run `python -m memtui.demo._sessions`, never the JSONL by hand."""
    rendered = render_all()
    shipped = {p.relative_to(SESSIONS_DIR).as_posix(): p.read_text(encoding="utf-8") for p in sample_paths()}
    assert shipped.keys() == rendered.keys()
    for rel, text in rendered.items():
        assert shipped[rel] == text, f"{rel} differs from what memtui/demo/_sessions.py renders"


def test_sample_paths_extracts_files_when_the_package_is_zipped(tmp_path, monkeypatch):
    originals = sample_paths()
    archive = tmp_path / "memtui.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in originals:
            zf.write(p, "memtui/demo/sessions/" + p.relative_to(SESSIONS_DIR).as_posix())
    root = zipfile.Path(archive, "memtui/demo/")
    monkeypatch.setattr(demo.resources, "files", lambda package: root)
    monkeypatch.setattr(demo, "_extracted", None)
    extracted = demo.sample_paths()
    assert len(extracted) == 5
    assert all(isinstance(p, Path) and p.is_file() for p in extracted)
    assert all(SESSIONS_DIR not in p.parents for p in extracted)
    assert [p.read_bytes() for p in extracted] == [p.read_bytes() for p in originals]
    assert demo.sample_paths() == extracted  # extracted once per process


def test_claude_code_files_have_the_real_shape():
    for path in [p for p in sample_paths() if "claude-code" in p.parts]:
        records = _records(path)
        assert 40 <= len(records) <= 150, path.name
        conversation = [r for r in records if r["type"] in ("user", "assistant", "system")]
        session_ids = {r["sessionId"] for r in conversation}
        assert session_ids == {path.stem}
        previous = None
        uses, results, message_ids = {}, {}, Counter()
        for r in conversation:
            for key in ("parentUuid", "isSidechain", "userType", "cwd", "sessionId", "version", "gitBranch", "uuid",
                        "timestamp"):
                assert key in r, (path.name, key)
            assert r["parentUuid"] == previous  # one linear chain
            assert r["isSidechain"] is False and r["timestamp"].startswith("2026-")
            previous = r["uuid"]
            if r["type"] == "assistant":
                blocks = r["message"]["content"]
                assert len(blocks) == 1  # one content block per line
                message_ids[r["message"]["id"]] += 1
                if blocks[0]["type"] == "tool_use":
                    uses[blocks[0]["id"]] = blocks[0]
            elif r["type"] == "user" and isinstance(r["message"]["content"], list):
                for block in r["message"]["content"]:
                    if block["type"] == "tool_result":
                        results[block["tool_use_id"]] = block
                        assert "toolUseResult" in r
        assert uses.keys() == results.keys()  # every call has its result
        assert max(message_ids.values()) > 1  # replies really are split across lines
        assert any(b.get("is_error") for b in results.values())
        names = {u["name"] for u in uses.values()}
        assert {"Read", "Edit", "Bash", "TodoWrite"} <= names
        for use in uses.values():
            if use["name"] == "Edit":
                assert {"file_path", "old_string", "new_string"} <= use["input"].keys()
        summaries = [r for r in records if r["type"] == "summary"]
        assert len(summaries) == 1 and summaries[0]["summary"] in CC_TITLES
        assert summaries[0]["leafUuid"] in {r["uuid"] for r in conversation if r["type"] == "assistant"}


def test_codex_rollouts_have_the_real_shape():
    for path in [p for p in sample_paths() if "codex" in p.parts]:
        records = _records(path)
        assert 40 <= len(records) <= 150, path.name
        meta = records[0]
        assert meta["type"] == "session_meta"
        assert meta["payload"]["cwd"].startswith("/home/dev/projects/")
        assert meta["payload"]["git"]["repository_url"]
        assert meta["payload"]["id"] in path.name
        kinds = Counter((r["type"], r["payload"].get("type")) for r in records)
        assert kinds[("turn_context", None)] >= 1
        assert kinds[("event_msg", "token_count")] >= 5
        calls = {r["payload"]["call_id"]: r["payload"] for r in records
                 if r["payload"].get("type") in ("function_call", "custom_tool_call")}
        outputs = {r["payload"]["call_id"] for r in records
                   if r["payload"].get("type") in ("function_call_output", "custom_tool_call_output")}
        assert calls.keys() == outputs
        assert any(c.get("name") == "apply_patch" for c in calls.values())
        # every visible message is written twice: response_item and event_msg
        said = [r["payload"]["content"][0]["text"] for r in records
                if r["payload"].get("type") == "message" and r["payload"].get("role") == "assistant"]
        shown = [r["payload"]["message"] for r in records if r["payload"].get("type") == "agent_message"]
        assert said == shown and said
        typed = [r["payload"]["message"] for r in records if r["payload"].get("type") == "user_message"]
        assert typed and all(any(t == item["payload"]["content"][0]["text"] for item in records
                                 if item["payload"].get("role") == "user") for t in typed)
    shells = [json.loads(r["payload"]["arguments"]) for p in sample_paths() if "codex" in p.parts
              for r in _records(p) if r["payload"].get("name") == "shell"]
    assert shells and all(isinstance(s["command"], list) for s in shells)  # argv arrays


# --- the import -----------------------------------------------------------------------------------


def test_samples_import_with_zero_warnings(db):
    warnings = []
    report = load_demo(db, on_warning=warnings.append)
    assert warnings == [] and report.warnings == []
    assert report.files_imported == 5 and report.files_failed == 0 and report.bad_paths == []
    assert report.sessions_new == 5
    assert dict(rows(db, "SELECT tool, COUNT(*) FROM session GROUP BY tool")) == {"claude-code": 3, "codex": 2}


def test_each_session_has_project_model_and_title(db):
    load_demo(db)
    sessions = rows(
        db,
        "SELECT s.tool, p.root, s.model, s.title, s.started_at, s.git_branch, s.message_count"
        " FROM session s LEFT JOIN project p ON p.id = s.project_id ORDER BY s.started_at",
    )
    assert len(sessions) == 5
    for tool, root, model, title, started, branch, count in sessions:
        assert root in ("/home/dev/projects/invoice-api", "/home/dev/projects/trailmap")
        assert model and title and started and branch
        assert count >= 25
    models = {s[2] for s in sessions}
    assert {"claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "gpt-5.1-codex", "gpt-5.2-codex"} == models
    assert {s[3] for s in sessions if s[0] == "claude-code"} == CC_TITLES
    # two projects, each worked on with both tools
    assert sorted(rows(db, "SELECT p.root, COUNT(DISTINCT s.tool) FROM session s JOIN project p ON p.id = s.project_id"
                           " GROUP BY p.root")) == [("/home/dev/projects/invoice-api", 2), ("/home/dev/projects/trailmap", 2)]


def test_failures_arrive_as_errors(db):
    load_demo(db)
    failing = rows(db, "SELECT s.tool, m.tool_name FROM message m JOIN session s ON s.id = m.session_id"
                       " WHERE m.kind = 'tool_result' AND m.is_error = 1")
    tools = Counter(t for t, _ in failing)
    assert tools["claude-code"] >= 4 and tools["codex"] >= 2
    assert rows(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_result' AND is_error = 1"
                    " AND text LIKE '%DetachedInstanceError%'")[0][0] == 1


def test_the_planted_fake_key_is_redacted(db):
    assert FAKE_ANTHROPIC_KEY in "".join(p.read_text(encoding="utf-8") for p in sample_paths())
    load_demo(db)
    secret_tail = FAKE_ANTHROPIC_KEY[len("sk-ant-"):]
    assert rows(db, "SELECT COUNT(*) FROM message WHERE instr(text, ?) > 0", secret_tail[:24]) == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%sk-ant-api03%'") == [(0,)]
    redacted = rows(db, "SELECT role, kind FROM message WHERE text LIKE '%ANTHROPIC_API_KEY=[REDACTED:%'")
    assert ("user", "text") in redacted  # the pasted key
    assert ("assistant", "tool_use") in redacted  # the Edit that wrote it into .env
    # nothing else anywhere in the database carries it
    for table, column in (("session", "title"), ("project", "root"), ("source", "path")):
        assert rows(db, f"SELECT COUNT(*) FROM {table} WHERE instr({column}, ?) > 0", secret_tail[:24]) == [(0,)]


def test_reimport_is_a_no_op(db):
    load_demo(db)
    before = _snapshot(db)
    report = load_demo(db)
    assert report.files_unchanged == 5 and report.files_imported == 0
    assert report.sessions_new == 0 and report.messages_new == 0 and report.warnings == []
    assert _snapshot(db) == before


def test_projects_record_the_git_remote_from_codex(db):
    load_demo(db)
    assert dict(rows(db, "SELECT root, git_remote FROM project")) == {
        "/home/dev/projects/invoice-api": "git@github.com:dev-example/invoice-api.git",
        "/home/dev/projects/trailmap": "git@github.com:dev-example/trailmap.git",
    }


def test_heuristic_proposals_find_the_planted_signals(db):
    heuristic = pytest.importorskip("memtui.core.extract.heuristic")
    from memtui.core import propose

    report = load_demo(db)
    propose.propose_sessions(db, sorted(report.touched_sessions), heuristic.extract, "heuristic")
    kinds = Counter(kind for (kind,) in rows(db, "SELECT kind FROM memory"))
    assert kinds["bug_fix"] >= 3 and kinds["todo"] >= 3
    assert rows(db, "SELECT COUNT(*) FROM memory WHERE text LIKE '%sk-ant-api03%'") == [(0,)]


def test_demo_command_builds_a_reviewable_database(tmp_path, capsys):
    from memtui.cli import main

    db = tmp_path / "demo.db"
    assert main(["demo", "--no-ui", "--db", str(db)]) == 0
    assert "5 new session(s)" in capsys.readouterr().out
    assert main(["--db", str(db), "memories", "--status", "proposed", "--json"]) == 0
    import json

    proposals = json.loads(capsys.readouterr().out)
    assert len(proposals) >= 10
    assert all(p["evidence"] for p in proposals)
    assert main(["demo", "--no-ui", "--db", str(db)]) == 0  # again: nothing new, nothing duplicated
    assert main(["--db", str(db), "memories", "--status", "proposed", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out.split("\n", 1)[1])) == len(proposals)
