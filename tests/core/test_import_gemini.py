"""Gemini CLI sessions: the real corpus files (legacy JSON and the 2026 JSONL) and hand-written
fixtures of a ~/.gemini tree (rewinds, re-appended messages, a migrated legacy file)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from memtui.core.importers import detect_format
from memtui.core.importers.claude import ClaudeCodeParser
from memtui.core.importers.codex import CodexParser
from memtui.core.importers.gemini import GeminiParser
from tests.conftest import FIXTURES
from tests.helpers import import_paths, rows, write_jsonl, message_snapshot as _snapshot, role_kind_counts as _counts

GEMINI = "gemini-cli"
HOME = FIXTURES / "gemini" / "home" / ".gemini"
LEDGER_DIR = HOME / "tmp" / "ledger"
LEDGER = LEDGER_DIR / "chats" / "session-2026-04-23T12-52-0ab84937.jsonl"
VIBE_HASH = hashlib.sha256(b"/home/dana/src/vibe-stats").hexdigest()
VIBE_CHATS = HOME / "tmp" / VIBE_HASH / "chats"
VIBE_JSON = VIBE_CHATS / "session-2026-03-27T10-19-8a20078e.json"
VIBE_JSONL = VIBE_CHATS / "session-2026-03-27T10-19-8a20078e.jsonl"


def _file(corpus, fragment):
    matches = sorted((corpus / GEMINI).glob(f"*{fragment}*"))
    assert len(matches) == 1, fragment
    return matches[0]


def _head(path: Path) -> bytes:
    return path.read_bytes()[: 64 * 1024]


def _session(db, ext=None):
    sql = "SELECT external_id, cwd, model, title, project_id, message_count, parent_id FROM session"
    if ext:
        return rows(db, sql + " WHERE external_id = ?", ext)[0]
    (row,) = rows(db, sql)
    return row


# --- the real corpus ----------------------------------------------------------------------------


def test_corpus_folder_imports_without_warnings(db, corpus):
    report = import_paths(db, corpus / GEMINI)
    assert report.warnings == [] and report.files_failed == 0
    assert report.files_imported == 3 and report.sessions_new == 3
    assert rows(db, "SELECT tool, COUNT(*) FROM session GROUP BY tool") == [("gemini", 3)]


def test_detection_picks_gemini(corpus):
    for path in sorted((corpus / GEMINI).glob("*")):
        assert detect_format(path) == "gemini", path
        assert not CodexParser.detect(path, _head(path)) and not ClaudeCodeParser.detect(path, _head(path))
    for path in sorted((corpus / "codex").glob("*")) + sorted((corpus / "claude-code").rglob("*.json*")):
        if path.stat().st_size:
            assert not GeminiParser.detect(path, _head(path)), path


def test_reimport_changes_nothing(db, corpus):
    import_paths(db, corpus / GEMINI)
    before = _snapshot(db)
    ids = rows(db, "SELECT id, external_id FROM message ORDER BY id")
    report = import_paths(db, corpus / GEMINI)
    assert report.files_unchanged == 3 and report.messages_new == 0
    assert _snapshot(db) == before
    # a forced re-read (the JSONL is never read incrementally) upserts the same rows
    for path in sorted((corpus / GEMINI).glob("*")):
        db.execute_sql("UPDATE source SET mtime = 0 WHERE path = ?", (str(path.resolve()),))
    report = import_paths(db, corpus / GEMINI)
    assert report.files_imported == 3 and report.messages_new == 0
    assert _snapshot(db) == before
    assert rows(db, "SELECT id, external_id FROM message ORDER BY id") == ids


def test_legacy_json_pomodoro(db, corpus):
    import_paths(db, _file(corpus, "pomodoro-timer"))
    ext, cwd, model, title, _, count, _ = _session(db)
    assert ext == "0b23371a-ce2e-4b1c-81a0-44af5d94d9ce"
    # no projects.json: the common directory of the absolute write_file/replace paths
    assert cwd == "/Users/yoavfarhi/dev/pomodoro/gemini"
    assert model == "gemini-2.5-pro"
    assert title == "Build a simple Pomodoro timer web app using HTML, CSS, and JavaScript."
    # 5 user, 14 gemini messages with 22 thoughts and 11 tool calls (3 write_file, 8 replace)
    assert _counts(db) == {
        ("user", "text"): 5, ("assistant", "text"): 14, ("assistant", "thinking"): 22,
        ("assistant", "tool_use"): 11, ("tool", "tool_result"): 11,
    }
    assert count == 63
    assert rows(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text = 'add a Pause/Resume feature'")[0][0] == 1
    names = dict(rows(db, "SELECT tool_name, COUNT(*) FROM message WHERE kind = 'tool_result' GROUP BY tool_name"))
    assert names == {"write_file": 3, "replace": 8}
    # status "error" with response.error: the failed replace
    failed = rows(db, "SELECT tool_name, text FROM message WHERE is_error = 1")
    assert len(failed) == 1 and failed[0][0] == "replace"
    assert failed[0][1].startswith("A secondary check by an LLM determined that no changes were necessary")
    # thought descriptions start with literal "\n\n" escapes in the file: stripped
    first_thought = rows(db, "SELECT text FROM message WHERE kind = 'thinking' ORDER BY position LIMIT 1")[0][0]
    assert first_thought.startswith("**Beginning the Build**\n\nI'm starting the Pomodoro timer project")


def test_legacy_json_2026_with_part_lists(db, corpus):
    import_paths(db, _file(corpus, "legacy_json_2026-03"))
    ext, cwd, model, _, project_id, count, _ = _session(db)
    assert ext == "8a20078e-2d5e-4f81-a640-9b879bbb7e6d"
    # file paths are relative ("README.md"); the write_file outputs name the absolute path
    assert cwd == "/home/wei/repo/VibeCodingTracker"
    assert rows(db, "SELECT root FROM project WHERE id = ?", project_id)[0][0] == "/home/wei/repo/VibeCodingTracker"
    assert model == "gemini-3.1-pro-preview-customtools"
    assert _counts(db) == {
        ("user", "text"): 1, ("assistant", "text"): 1, ("assistant", "thinking"): 39,
        ("assistant", "tool_use"): 7, ("tool", "tool_result"): 7,
    }
    assert count == 55
    (prompt,) = rows(db, "SELECT text FROM message WHERE role = 'user'")[0]
    assert prompt.startswith("請幫我依照專案實際狀況更新 README.md README.zh-CN.md README.zh-TW.md")
    assert {r[0] for r in rows(db, "SELECT DISTINCT tool_name FROM message WHERE kind = 'tool_use'")} == {"read_file", "write_file"}
    assert rows(db, "SELECT COUNT(*) FROM message WHERE is_error = 1")[0][0] == 0


def test_jsonl_2026_upserts_and_display_content(db, corpus):
    import_paths(db, _file(corpus, "jsonl_2026-04"))
    ext, cwd, model, title, _, count, _ = _session(db)
    assert ext == "0ab84937-9fe7-4284-986a-33c832af0b6a"
    assert cwd == "/home/wei/repo/discordbot"  # "GEMINI.md" resolved by the write_file output
    assert model == "gemini-3.1-pro-preview"  # the last gemini message's model
    # 11 distinct message ids in 16 message records: each id once, the last copy (with toolCalls)
    assert rows(db, "SELECT COUNT(DISTINCT substr(external_id, 1, 36)) FROM message")[0][0] == 11
    assert _counts(db) == {
        ("system", "text"): 4, ("user", "text"): 2, ("assistant", "text"): 2, ("assistant", "thinking"): 7,
        ("assistant", "tool_use"): 12, ("tool", "tool_result"): 12,
    }
    assert count == 39
    # displayContent "/init" is what the user typed; the expanded prompt is system
    users = [r[0] for r in rows(db, "SELECT text FROM message WHERE role = 'user' ORDER BY position")]
    assert users == ["/init", "幫我做一個小修改 請幫我將上面確保執行時要透過 uv run 來執行 避免環境有問題"]
    expanded = rows(db, "SELECT role FROM message WHERE text LIKE '%You are an AI agent that brings the power of Gemini%'")
    assert expanded == [("system",)]
    # "System: Please continue." is shown as a function response, never typed: system
    assert rows(db, "SELECT role FROM message WHERE text = 'System: Please continue.'") == [("system",)]
    assert rows(db, "SELECT role FROM message WHERE text = 'Request cancelled.'") == [("system",)]
    names = dict(rows(db, "SELECT tool_name, COUNT(*) FROM message WHERE kind = 'tool_use' GROUP BY tool_name"))
    assert names == {"update_topic": 3, "read_file": 7, "write_file": 1, "replace": 1}
    assert title == "幫我做一個小修改 請幫我將上面確保執行時要透過 uv run 來執行 避免環境有問題"  # "/init" is no title


# --- the fixture tree: projects.json, rewinds, re-appended ids --------------------------------------


def test_rewind_and_duplicate_ids(db):
    assert detect_format(LEDGER) == "gemini"
    report = import_paths(db, LEDGER)
    assert report.warnings == []
    ext, cwd, model, title, _, _, _ = _session(db)
    assert ext == "0ab84937-9fe7-4284-986a-33c832af0b6a"
    assert cwd == "/home/dana/src/ledger"  # projects.json: the session's folder is the slug "ledger"
    assert model == "gemini-3.1-pro-preview"
    assert title == "Generate GEMINI.md and fix money rounding"  # $set.summary
    got = rows(db, "SELECT role, kind, tool_name, is_error, substr(text, 1, 40) FROM message ORDER BY position")
    assert got == [
        ("system", "text", None, 0, "Empty GEMINI.md created. Now analyzing t"),
        ("user", "text", None, 0, "/init"),
        ("system", "text", None, 0, "\nYou are an AI agent that brings the pow"),
        # the message written twice: once, at its first position, with the tool calls of its last copy
        ("assistant", "thinking", None, 0, "**Surveying the project**\n\nI'll read the"),
        ("assistant", "tool_use", "read_file", 0, '{"file_path":"Makefile"}'),
        ("tool", "tool_result", "read_file", 0, "test:\n\tuv run pytest -q\n"),
        ("assistant", "tool_use", "run_shell_command", 0, "uv run pytest -q"),
        ("tool", "tool_result", "run_shell_command", 1, "Command: uv run pytest -q\nDirectory: (ro"),  # Exit Code: 1
        ("assistant", "tool_use", "write_file", 0, '{"file_path":"GEMINI.md","content":"# GE'),
        ("tool", "tool_result", "write_file", 0, "Successfully created and wrote to new fi"),
        ("assistant", "tool_use", "replace", 0, '{"file_path":"README.md","old_string":"p'),
        ("tool", "tool_result", "replace", 1, "Failed to edit, 0 occurrences found for "),  # status error
        ("assistant", "text", None, 0, "I wrote `GEMINI.md`. One test fails on f"),
        # "delete the failing test" and its answer were rewound ($rewindTo) and are gone
        ("user", "text", None, 0, "no, fix the rounding with Decimal instea"),
        ("assistant", "text", None, 0, "Switched `round_money()` to `Decimal.qua"),
        ("system", "text", None, 1, "[API Error: 429 RESOURCE_EXHAUSTED] Quot"),
    ]
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%delete the failing test%'")[0][0] == 0


def test_growing_jsonl_keeps_rows_and_matches_a_one_shot_import(tmp_path, db):
    from memtui.core.db import open_database

    chats = tmp_path / ".gemini" / "tmp" / "ledger" / "chats"
    chats.mkdir(parents=True)
    lines = LEDGER.read_bytes().splitlines(keepends=True)
    rewind_at = next(i for i, line in enumerate(lines) if b"$rewindTo" in line)
    path = chats / LEDGER.name
    path.write_bytes(b"".join(lines[:rewind_at]))  # before the rewind: the bad turn is still there
    import_paths(db, path)
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text = 'delete the failing test'")[0][0] == 1
    kept = dict(rows(db, "SELECT external_id, id FROM message"))

    path.write_bytes(b"".join(lines))
    report = import_paths(db, path)
    assert report.warnings == []
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text = 'delete the failing test'")[0][0] == 0
    after = dict(rows(db, "SELECT external_id, id FROM message"))
    survivors = {k: v for k, v in kept.items() if k in after}
    assert survivors and all(after[k] == v for k, v in survivors.items())  # no row was re-created

    other = open_database(tmp_path / "other.db")
    import_paths(other, path)
    assert _snapshot(db) == _snapshot(other)


def test_migrated_json_and_jsonl_side_by_side(db):
    report = import_paths(db, VIBE_CHATS)
    assert report.files_imported == 2 and report.warnings == []
    ext, cwd, model, title, _, count, _ = _session(db)
    assert ext == "8a20078e-2d5e-4f81-a640-9b879bbb7e6d"  # one session for both files
    assert cwd == "/home/dana/src/vibe-stats"  # projects.json: sha256(path) == projectHash
    assert model == "gemini-3.1-pro-preview"
    assert title == "Move the developer notes out of README.md into CONTRIBUTING.md"
    users = [r[0] for r in rows(db, "SELECT text FROM message WHERE role = 'user' ORDER BY position")]
    assert users == ["Move the developer notes out of README.md into CONTRIBUTING.md",
                     "also link CONTRIBUTING.md from the README"]
    assert count == 9
    ext_ids = [r[0] for r in rows(db, "SELECT external_id FROM message")]
    assert len(ext_ids) == len(set(ext_ids))


def test_legacy_json_then_its_migration(tmp_path, db):
    """The .json imported before the CLI migrated it; the .jsonl appears later."""
    chats = tmp_path / "chats"
    chats.mkdir()
    shutil.copy(VIBE_JSON, chats / VIBE_JSON.name)
    import_paths(db, chats)
    before = dict(rows(db, "SELECT external_id, id FROM message"))
    assert len(before) == 5
    shutil.copy(VIBE_JSONL, chats / VIBE_JSONL.name)
    report = import_paths(db, chats)
    assert report.files_unchanged == 1 and report.files_imported == 1
    after = dict(rows(db, "SELECT external_id, id FROM message"))
    assert len(after) == 9 and all(after[k] == v for k, v in before.items())
    assert rows(db, "SELECT COUNT(*) FROM session")[0][0] == 1


def test_files_beside_the_sessions_are_not_sessions(db):
    for path in (LEDGER_DIR / "logs.json", LEDGER_DIR / "checkpoint-before-rounding.json",
                 HOME / "settings.json", HOME / "projects.json"):
        head = _head(path)
        assert not GeminiParser.detect(path, head), path
        assert not CodexParser.detect(path, head) and not ClaudeCodeParser.detect(path, head), path
    for path in (LEDGER, VIBE_JSON, VIBE_JSONL):
        assert GeminiParser.detect(path, _head(path)), path


def test_cwd_without_projects_json(tmp_path, db):
    # the legacy file alone, outside any ~/.gemini: absolute paths in the tool args
    alone = tmp_path / "a" / VIBE_JSON.name
    alone.parent.mkdir()
    shutil.copy(VIBE_JSON, alone)
    # the ledger session moved out of its tree: relative paths resolved by the tool output
    moved = tmp_path / "b" / LEDGER.name
    moved.parent.mkdir()
    shutil.copy(LEDGER, moved)
    # nothing that names a directory at all: unknown
    bare = write_jsonl(tmp_path / "c" / "session-x.jsonl", [
        {"sessionId": "s-none", "projectHash": "0" * 64, "startTime": "2026-04-01T00:00:00Z"},
        {"id": "m1", "timestamp": "2026-04-01T00:00:01Z", "type": "user", "content": [{"text": "hello"}]},
    ])
    import_paths(db, alone, moved, bare)
    got = dict(rows(db, "SELECT external_id, cwd FROM session"))
    assert got == {
        "8a20078e-2d5e-4f81-a640-9b879bbb7e6d": "/home/dana/src/vibe-stats",
        "0ab84937-9fe7-4284-986a-33c832af0b6a": "/home/dana/src/ledger",
        "s-none": None,
    }


def test_projects_json_hash_match(tmp_path, db):
    home = tmp_path / ".gemini"
    (home / "tmp" / "whatever" / "chats").mkdir(parents=True)
    (home / "projects.json").write_text(json.dumps({"projects": {"/srv/billing": "billing"}}))
    path = write_jsonl(home / "tmp" / "whatever" / "chats" / "session-1.jsonl", [
        {"sessionId": "s-hash", "projectHash": hashlib.sha256(b"/srv/billing").hexdigest(), "startTime": "2026-04-01T00:00:00Z"},
        {"id": "m1", "timestamp": "2026-04-01T00:00:01Z", "type": "user", "content": "hello"},
    ])
    import_paths(db, path)
    assert rows(db, "SELECT cwd FROM session") == [("/srv/billing",)]


def test_set_messages_checkpoint(tmp_path, db):
    meta = {"sessionId": "s-ckpt", "projectHash": "1" * 64, "startTime": "2026-04-01T00:00:00Z"}
    a = {"id": "a", "type": "user", "content": [{"text": "first question"}]}
    b = {"id": "b", "type": "gemini", "content": "first answer with a very long tool output"}
    c = {"id": "c", "type": "user", "content": [{"text": "second question"}]}
    b_masked = {"id": "b", "type": "gemini", "content": "first answer (output masked)"}
    d = {"id": "d", "type": "gemini", "content": "answer after the checkpoint"}
    path = write_jsonl(tmp_path / "session.jsonl", [meta, a, b, c, {"$set": {"messages": [a, b_masked]}}, d])
    import_paths(db, path)
    assert rows(db, "SELECT external_id, text FROM message ORDER BY position") == [
        ("a", "first question"), ("b", "first answer (output masked)"), ("d", "answer after the checkpoint")]


def test_rewind_to_an_unknown_id_clears_the_session(tmp_path, db):
    meta = {"sessionId": "s-clear", "projectHash": "2" * 64}
    path = write_jsonl(tmp_path / "session.jsonl", [
        meta, {"id": "a", "type": "user", "content": "old"}, {"$rewindTo": "no-such-id"},
        {"id": "b", "type": "user", "content": "new"},
    ])
    import_paths(db, path)
    assert rows(db, "SELECT text FROM message") == [("new",)]


def test_subagent_session(tmp_path, db):
    chats = tmp_path / ".gemini" / "tmp" / "proj" / "chats"
    parent = write_jsonl(chats / "session-2026-04-01T00-00-aaaa1111.jsonl", [
        {"sessionId": "aaaa1111-0000-4000-8000-000000000000", "projectHash": "3" * 64, "kind": "main"},
        {"id": "p1", "type": "user", "content": "investigate the flaky test"},
    ])
    child = write_jsonl(chats / "aaaa1111-0000-4000-8000-000000000000" / "bbbb2222-0000-4000-8000-000000000000.jsonl", [
        {"sessionId": "bbbb2222-0000-4000-8000-000000000000", "projectHash": "3" * 64, "kind": "subagent",
         "directories": ["/srv/flaky"]},
        {"id": "c1", "type": "user", "content": "find why test_retry is flaky"},
    ])
    import_paths(db, parent, child)
    sub = _session(db, "bbbb2222-0000-4000-8000-000000000000")
    assert sub[1] == "/srv/flaky"  # from `directories`
    parent_row = rows(db, "SELECT external_id FROM session WHERE id = ?", sub[6])
    assert parent_row == [("aaaa1111-0000-4000-8000-000000000000",)]


def test_bad_input_is_reported_not_raised(tmp_path, db):
    jsonl = tmp_path / "session.jsonl"
    jsonl.write_text(
        json.dumps({"sessionId": "s-bad", "projectHash": "4" * 64}) + "\n"
        + "{broken\n"
        + json.dumps({"id": "m1", "type": "gemini", "content": "ok", "thoughts": "not a list", "toolCalls": [5, {"name": "x"}]}) + "\n"
        + json.dumps({"$rewindTo": 7}) + "\n"
        + json.dumps({"id": "m2", "type": "user", "content": [{"inlineData": {"mimeType": "image/png", "data": "A" * 4000}}]}) + "\n"
    )
    broken_json = tmp_path / "session-broken.json"
    broken_json.write_text('{"sessionId": "s-x", "messages": [')
    report = import_paths(db, jsonl, broken_json)
    assert report.files_failed == 1 and str(broken_json) in report.bad_paths[0]
    assert any("not valid JSON" in w for w in report.warnings)
    assert any("$rewindTo" in w for w in report.warnings)
    got = rows(db, "SELECT role, kind, substr(text, 1, 20), original_len FROM message ORDER BY position")
    assert got == [("assistant", "text", "ok", None), ("assistant", "tool_use", "", None),
                   ("user", "text", "[image image/png, 3 ", 4000)]


@pytest.mark.parametrize("name, body", [
    ("logs.json", [{"sessionId": "s", "messageId": 0, "type": "user", "message": "/init"}]),
    ("checkpoint-x.json", [{"role": "user", "parts": [{"text": "hi"}]}]),
    ("other.json", {"sessionId": "s", "projectHash": "x"}),  # no messages list
    ("notes.jsonl", None),
])
def test_detect_rejects_near_misses(tmp_path, name, body):
    path = tmp_path / name
    if body is None:
        path.write_text(json.dumps({"sessionId": "s", "cwd": "/x", "type": "user"}) + "\n")  # a Claude-like line
    else:
        path.write_text(json.dumps(body, indent=2))
    assert not GeminiParser.detect(path, _head(path))


def _legacy(path: Path, session_id: str, project_hash: str, messages: list, kind: str = "main") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sessionId": session_id, "projectHash": project_hash, "startTime": "2026-03-18T01:58:00Z",
                                "lastUpdated": "2026-03-18T02:03:00Z", "kind": kind, "messages": messages}, indent=2))
    return path


def _call(name: str, args: dict, response: dict) -> dict:
    return {"id": f"{name}-1", "name": name, "args": args, "status": "success" if "error" not in response else "cancelled",
            "result": [{"functionResponse": {"id": f"{name}-1", "name": name, "response": response}}]}


@pytest.mark.parametrize("subagent_first", [False, True])
def test_a_subagent_file_beside_its_parent_under_the_same_session_id(tmp_path, db, subagent_first):
    """Gemini CLI 0.34 writes a subagent's chat as session-<time>-<id8>.json beside its parent's, under
    the parent's sessionId: it is a session of its own, linked to the parent, and whichever file is
    imported first, the prompt the main agent wrote for it is not in the person's session."""
    chats = tmp_path / ".gemini" / "tmp" / "aim" / "chats"
    sid = "b26e4930-a5eb-4800-bed1-3d8b7929eddf"
    main = _legacy(chats / "session-2026-03-18T01-58-b26e4930.json", sid, "5" * 64, [
        {"id": "u1", "timestamp": "2026-03-18T01:58:10Z", "type": "user", "content": "report the input token count"},
        {"id": "g1", "timestamp": "2026-03-18T01:58:20Z", "type": "gemini", "content": "I'll ask the help agent."},
    ])
    sub = _legacy(chats / "session-2026-03-18T02-01-b26e4930.json", sid, "5" * 64, [
        {"id": "s1", "timestamp": "2026-03-18T02:01:53Z", "type": "user",
         "content": "Your task is to answer the following question about Gemini CLI: ..."},
        {"id": "s2", "timestamp": "2026-03-18T02:02:00Z", "type": "gemini", "content": "Use /stats."},
    ], kind="subagent")
    import_paths(db, *((sub, main) if subagent_first else (main, sub)))
    parent = _session(db, sid)
    child = _session(db, f"{sid}/session-2026-03-18T02-01-b26e4930")
    assert parent[3] == "report the input token count" and parent[5] == 2 and parent[6] is None
    assert child[5] == 2
    if not subagent_first:  # (a subagent imported before its parent is not linked to it: it had none to link to)
        assert rows(db, "SELECT external_id FROM session WHERE id = ?", child[6]) == [(sid,)]
    texts = [t for (t,) in rows(db, "SELECT m.text FROM message m JOIN session s ON s.id = m.session_id"
                                    " WHERE s.external_id = ? ORDER BY m.position", sid)]
    assert texts == ["report the input token count", "I'll ask the help agent."]


def test_the_project_root_from_a_relative_directory_and_the_project_hash(tmp_path, db):
    """A relative dir_path whose listing names the absolute directory gives the root; among the
    directories the calls show and their parents, the one whose sha256 is projectHash wins."""
    chats = tmp_path / ".gemini" / "tmp" / "aim" / "chats"
    listing = _call("list_directory", {"dir_path": "continuity/"},
                    {"output": "Directory listing for /home/kingb/aim/continuity:\n2026-03-17_2022.md"})
    a = _legacy(chats / "session-2026-03-18T01-58-aaaa0001.json", "aaaa0001", "0" * 64, [
        {"id": "u1", "type": "user", "content": "list the handoffs"},
        {"id": "g1", "type": "gemini", "content": "", "toolCalls": [listing]}])
    reads = [_call("read_file", {"file_path": f"/home/kingb/aim/src/app/{f}"}, {"output": "..."}) for f in ("a.py", "b.py")]
    b = _legacy(chats / "session-2026-03-18T01-59-aaaa0002.json", "aaaa0002",
                hashlib.sha256(b"/home/kingb/aim").hexdigest(), [
                    {"id": "u1", "type": "user", "content": "read the app"},
                    {"id": "g1", "type": "gemini", "content": "", "toolCalls": reads}])
    import_paths(db, a, b)
    assert _session(db, "aaaa0001")[1] == "/home/kingb/aim"  # the listing's prefix
    assert _session(db, "aaaa0002")[1] == "/home/kingb/aim"  # not /home/kingb/aim/src/app, the files' common dir


def test_a_cancelled_call_keeps_its_output_and_its_error(tmp_path, db):
    call = _call("run_shell_command", {"command": "gemini /chat debug"},
                 {"output": "Command was cancelled by user before it could complete. Output so far:\n ~/aim  main",
                  "error": "[Operation Cancelled] User cancelled tool execution."})
    path = _legacy(tmp_path / "chats" / "session-2026-03-18T01-56-3afe7bdc.json", "3afe7bdc", "6" * 64, [
        {"id": "u1", "type": "user", "content": "run the debug command"},
        {"id": "g1", "type": "gemini", "content": "", "toolCalls": [call]}])
    import_paths(db, path)
    ((text, is_error),) = rows(db, "SELECT text, is_error FROM message WHERE kind = 'tool_result'")
    assert text.startswith("Command was cancelled by user") and text.endswith("[Operation Cancelled] User cancelled tool execution.")
    assert is_error == 1
