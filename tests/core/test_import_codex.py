"""Codex rollouts: the real corpus files, hand-written fixtures of the older layouts, and
incremental reads of a growing file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memtui.core.importers import detect_format
from memtui.core.importers.claude import ClaudeCodeParser
from memtui.core.importers.codex import CodexParser
from tests.conftest import FIXTURES
from tests.helpers import import_paths, rows, write_jsonl, message_snapshot as _snapshot, role_kind_counts as _counts

CODEX = "codex"
BARE = FIXTURES / "codex" / "rollout-2025-08-20T15-20-47-5a3f3c2e-8a1b-4c7e-9d2f-0e1b2c3d4e5f.jsonl"
COMPACTED = FIXTURES / "codex" / "rollout-2026-02-24T10-40-01-0199f1c2-7d3e-7a10-9b2c-5e6f7a8b9c0d.jsonl"
INJECTED_MARKERS = ("<environment_context>", "# AGENTS.md instructions", "<permissions instructions>",
                    "# Context from my IDE setup", "<user_instructions>", "<collaboration_mode>", "<app-context>")


def _file(corpus, fragment):
    matches = sorted((corpus / CODEX).glob(f"*{fragment}*.jsonl"))
    assert len(matches) == 1, fragment
    return matches[0]


def _session(db):
    (row,) = rows(db, "SELECT external_id, cwd, model, git_branch, title, project_id, message_count FROM session")
    return row


def _count_text(db, text, role=None):
    sql = "SELECT COUNT(*) FROM message WHERE text = ?"
    args = [text]
    if role:
        sql += " AND role = ?"
        args.append(role)
    return rows(db, sql, *args)[0][0]


# --- the real corpus ----------------------------------------------------------------------------


def test_corpus_folder_imports_without_warnings(db, corpus):
    report = import_paths(db, corpus / CODEX)
    assert report.warnings == [] and report.files_failed == 0
    assert report.files_imported == 3 and report.sessions_new == 3
    assert rows(db, "SELECT tool, COUNT(*) FROM session GROUP BY tool") == [("codex", 3)]


def test_detection_picks_codex(corpus):
    for path in sorted((corpus / CODEX).glob("*.jsonl")):
        assert detect_format(path) == "codex", path
        assert not ClaudeCodeParser.detect(path, path.read_bytes()[: 64 * 1024])


def test_reimport_changes_nothing(db, corpus):
    import_paths(db, corpus / CODEX)
    before = _snapshot(db)
    ids = rows(db, "SELECT id, external_id FROM message ORDER BY id")
    report = import_paths(db, corpus / CODEX)
    assert report.files_unchanged == 3 and report.messages_new == 0 and report.sessions_new == 0
    assert _snapshot(db) == before
    assert rows(db, "SELECT id, external_id FROM message ORDER BY id") == ids


def test_vscode_session_with_ide_wrapper(db, corpus):
    path = _file(corpus, "vscode0.39.0_zh")
    import_paths(db, path)
    ext, cwd, model, branch, title, project_id, count = _session(db)
    assert ext == "01996135-afde-7911-97f0-d863511eca56"  # session_meta.id
    assert cwd == "/proj/ds906659/gai/claude-code"
    assert model == "aide-gpt-5"  # from turn_context
    assert branch == "main"
    assert rows(db, "SELECT root, git_remote FROM project WHERE id = ?", project_id) == [
        ("/proj/ds906659/gai/claude-code", "https://github.com/Mai0313/claude-code")]
    # The prompt is written as response_item AND event_msg/user_message, both wrapped in
    # "# Context from my IDE setup: ... ## My request for Codex:": stored once, without the wrapper.
    users = rows(db, "SELECT text FROM message WHERE role = 'user'")
    assert len(users) == 1
    assert users[0][0].startswith("幫我檢查一下 go.mod 裡面 為何 go版本是 1.24?")
    assert users[0][0].rstrip().endswith("最後幫我把 TODO.md 刪除")
    assert title == "幫我檢查一下 go.mod 裡面 為何 go版本是 1.24?"
    # 9 agent messages (each also an event_msg), 18 calls with 18 outputs, 1 environment_context.
    assert _counts(db) == {
        ("system", "text"): 1, ("user", "text"): 1, ("assistant", "text"): 9,
        ("assistant", "tool_use"): 18, ("tool", "tool_result"): 18,
    }
    assert count == 47
    names = {r[0] for r in rows(db, "SELECT DISTINCT tool_name FROM message WHERE kind = 'tool_result'")}
    assert names == {"shell", "update_plan"}  # paired to their calls by call_id
    # shell argv ["bash", "-lc", script] is stored as the script itself
    assert _count_text(db, "ls -la") == 1
    failed = rows(db, "SELECT tool_name, text FROM message WHERE is_error = 1")
    assert failed == [("shell", "patch rejected: empty patch")]
    # the {"output","metadata"} wrapper is unwrapped
    assert rows(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_result' AND text LIKE '{\"output\"%'")[0][0] == 0


def test_cli_session_thinking_and_patches(db, corpus):
    import_paths(db, _file(corpus, "pomodor-timer"))
    ext, cwd, model, branch, title, _, count = _session(db)
    assert ext == "019a085e-04c1-7f81-a09e-9555f6a1fb40"
    assert cwd == "/Users/yoavfarhi/dev/pomodoro/codex" and model == "gpt-5-codex" and branch is None
    # 3 prompts (each twice in the file), 3 agent messages, 20 reasoning summaries (each twice),
    # 7 function calls + 11 custom apply_patch calls with their outputs, 1 environment_context.
    assert _counts(db) == {
        ("system", "text"): 1, ("user", "text"): 3, ("assistant", "text"): 3, ("assistant", "thinking"): 20,
        ("assistant", "tool_use"): 18, ("tool", "tool_result"): 18,
    }
    assert count == 63
    for prompt in ("add smooth transitions between states", "add a Pause/Resume feature"):
        assert _count_text(db, prompt, "user") == 1
    assert rows(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text LIKE 'Build a simple Pomodoro timer%'")[0][0] == 1
    assert _count_text(db, "**Examining repository structure**") == 1
    names = dict(rows(db, "SELECT tool_name, COUNT(*) FROM message WHERE kind = 'tool_use' GROUP BY tool_name"))
    assert names == {"shell": 3, "update_plan": 4, "apply_patch": 11}
    patch = rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name = 'apply_patch' ORDER BY position LIMIT 1")
    assert patch[0][0].startswith("*** Begin Patch\n*** Add File: index.html")
    failed = rows(db, "SELECT tool_name, text FROM message WHERE is_error = 1")
    assert len(failed) == 1 and failed[0][0] == "apply_patch"
    assert failed[0][1].startswith("apply_patch verification failed: Failed to find expected lines")
    assert title == "Build a simple Pomodoro timer web app using HTML, CSS, and JavaScript."


def test_desktop_session_cwd_from_environment_context(db, corpus):
    import_paths(db, _file(corpus, "desktop0.115"))
    ext, cwd, model, branch, _, project_id, count = _session(db)
    assert ext == "019ce50a-d285-7a52-b98a-6a3a66a48547"
    # neither session_meta nor turn_context carry a cwd here: it comes from <environment_context>
    assert cwd == "/Users/mock_user/workspace/history-lab"
    assert model == "gpt-5.4" and branch == "master"
    assert rows(db, "SELECT git_remote FROM project WHERE id = ?", project_id)[0][0] == (
        "https://git.example.invalid/acme/log-query-validator.git")
    # the developer message holds three instruction blocks, the next user-role message AGENTS.md
    # and the environment: all system. Three assistant messages, only one of them also as event_msg.
    assert _counts(db) == {("system", "text"): 5, ("user", "text"): 1, ("assistant", "text"): 3}
    assert count == 9
    (prompt,) = rows(db, "SELECT text FROM message WHERE role = 'user'")[0]
    assert prompt.startswith("为什么会有一些candidate和unlink？")
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '我先对齐当前实现和冻结设计%'")[0][0] == 1


def test_injected_context_is_never_user(db, corpus):
    import_paths(db, corpus / CODEX, BARE, COMPACTED)
    for marker in INJECTED_MARKERS:
        assert rows(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text LIKE ?", f"%{marker}%")[0][0] == 0
    system = [r[0] for r in rows(db, "SELECT text FROM message WHERE role = 'system'")]
    for marker in ("<environment_context>", "# AGENTS.md instructions", "<permissions instructions>",
                   "<user_instructions>", "# Context from my IDE setup"):
        assert any(t.startswith(marker) for t in system), marker


# --- incremental reads ---------------------------------------------------------------------------


def _split_points(data: bytes) -> dict[str, int]:
    lines = data.splitlines(keepends=True)
    offsets, pos = [], 0
    for line in lines:
        pos += len(line)
        offsets.append(pos)
    middle = next(o for o in offsets if o >= len(data) // 2)
    # right after an event_msg copy whose response_item twin comes next
    after_event = next(o for line, o in zip(lines, offsets) if b'"agent_reasoning"' in line)
    return {"middle": middle, "between_twins": after_event}


@pytest.mark.parametrize("where", ["middle", "between_twins"])
def test_grown_rollout_matches_a_one_shot_import(tmp_path, corpus, where):
    from memtui.core.db import open_database

    data = _file(corpus, "pomodor-timer").read_bytes()
    cut = _split_points(data)[where]
    growing = tmp_path / "sessions" / "rollout-2025-10-21T22-02-50-019a085e-04c1-7f81-a09e-9555f6a1fb40.jsonl"
    growing.parent.mkdir()
    growing.write_bytes(data[:cut])

    db1 = open_database(tmp_path / "a.db")
    first = import_paths(db1, growing)
    assert first.bytes_read == cut and first.sessions_new == 1
    with open(growing, "ab") as fh:
        fh.write(data[cut:])
    second = import_paths(db1, growing)
    assert second.bytes_read == len(data) - cut  # only the appended part was read
    assert second.sessions_new == 0 and second.messages_new > 0 and second.warnings == []

    db2 = open_database(tmp_path / "b.db")
    import_paths(db2, growing)
    assert _snapshot(db1) == _snapshot(db2)
    assert rows(db1, "SELECT cwd, model FROM session") == rows(db2, "SELECT cwd, model FROM session")
    assert rows(db1, "SELECT COUNT(*) FROM message WHERE role = 'user'")[0][0] == 3
    positions = rows(db1, "SELECT position FROM message")
    assert len(positions) == len(set(positions))


def test_every_split_point_of_a_rollout_gives_the_one_shot_result(tmp_path):
    """Whatever line the first import stops at, the second import completes the same session."""
    from memtui.core.db import open_database

    data = COMPACTED.read_bytes()
    whole = tmp_path / "whole" / COMPACTED.name
    whole.parent.mkdir()
    whole.write_bytes(data)
    ref_db = open_database(tmp_path / "ref.db")
    import_paths(ref_db, whole)
    reference = _snapshot(ref_db)
    cuts = [i + 1 for i, byte in enumerate(data[:-1]) if byte == 0x0A]
    assert len(cuts) == 31
    for n, cut in enumerate(cuts):
        db = open_database(tmp_path / f"{n}.db")
        path = tmp_path / str(n) / COMPACTED.name
        path.parent.mkdir()
        path.write_bytes(data[:cut])
        import_paths(db, path)
        path.write_bytes(data)
        import_paths(db, path)
        assert _snapshot(db) == reference, f"split after byte {cut}"
        db.close()


def test_rollout_caught_mid_write(tmp_path, db, corpus):
    data = _file(corpus, "vscode0.39.0_zh").read_bytes()
    cut = data.index(b"\n", len(data) // 3) + 1
    partial = data.index(b"\n", cut) - 40  # the next line only half written
    path = tmp_path / "rollout.jsonl"
    path.write_bytes(data[:partial])
    first = import_paths(db, path)
    assert first.bytes_read == cut
    assert any("incomplete last line" in w for w in first.warnings)
    path.write_bytes(data)
    import_paths(db, path)
    from memtui.core.db import open_database

    other = open_database(tmp_path / "other.db")
    import_paths(other, path)
    assert _snapshot(db) == _snapshot(other)


# --- hand-written fixtures -----------------------------------------------------------------------


def test_bare_layout_of_mid_2025(db):
    assert detect_format(BARE) == "codex"
    report = import_paths(db, BARE)
    assert report.warnings == []
    ext, cwd, model, branch, title, project_id, _ = _session(db)
    assert ext == "5a3f3c2e-8a1b-4c7e-9d2f-0e1b2c3d4e5f"  # the header line's id
    assert cwd == "/home/dana/src/ledger"  # only <environment_context> names it
    assert branch == "feature/csv-export" and model is None
    assert rows(db, "SELECT git_remote FROM project WHERE id = ?", project_id)[0][0] == "git@github.com:acme/ledger.git"
    assert title == "Add a --csv flag to `ledger export` and make the tests pass"
    got = rows(db, "SELECT role, kind, tool_name, is_error, substr(text, 1, 30) FROM message ORDER BY position")
    assert got == [
        ("system", "text", None, 0, "<user_instructions>\n\nAlways ru"),
        ("system", "text", None, 0, "<environment_context>\n  <cwd>/"),
        ("user", "text", None, 0, "Add a --csv flag to `ledger ex"),
        ("assistant", "thinking", None, 0, "**Locating the export command*"),
        ("assistant", "tool_use", "shell", 0, 'rg -n "def export" ledger'),
        ("tool", "tool_result", "shell", 0, "ledger/cli.py:42:def export(ar"),
        ("assistant", "tool_use", "shell", 0, "make test"),
        ("tool", "tool_result", "shell", 1, "FAILED tests/test_export.py::t"),  # exit_code 2
        ("assistant", "tool_use", "apply_patch", 0, "*** Begin Patch\n*** Update Fil"),
        ("tool", "tool_result", "apply_patch", 0, "Success. Updated the following"),
        ("assistant", "tool_use", "local_shell", 0, "make test"),
        ("tool", "tool_result", "local_shell", 0, "13 passed in 3.02s\n"),
        ("assistant", "text", None, 0, "Added `--csv` to `ledger expor"),
    ]
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%gAAAA%'")[0][0] == 0  # encrypted reasoning dropped


def test_compacted_rollout(db):
    report = import_paths(db, COMPACTED)
    assert report.warnings == []
    ext, cwd, model, branch, title, _, _ = _session(db)
    assert (ext, cwd, model, branch) == ("0199f1c2-7d3e-7a10-9b2c-5e6f7a8b9c0d", "/home/dana/src/reports", "gpt-5.2-codex", "main")
    assert title == "Why does the weekly report skip Sundays? Fix it and add a test."
    # the compaction summary is kept; its replacement_history (a replay) adds nothing
    summary = rows(db, "SELECT role, text FROM message WHERE kind = 'summary'")
    assert len(summary) == 1 and summary[0][0] == "system"
    assert summary[0][1].startswith("The user asked why the weekly report skipped Sundays.")
    assert _count_text(db, "Why does the weekly report skip Sundays? Fix it and add a test.", "user") == 1
    assert _count_text(db, "Fixed: `weekRange()` now includes Sunday and `pnpm test` passes (31 tests).") == 1
    # the IDE wrapper: the context part is system, the request is the user's text
    ide = rows(db, "SELECT role FROM message WHERE text LIKE '# Context from my IDE setup:%'")
    assert ide == [("system",)]
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%My request for Codex%'")[0][0] == 0
    # shell_command output with an "Exit code: 1" header fails, "Exit code: 0" and
    # "Process exited with code 0" do not
    errors = rows(db, "SELECT tool_name, text FROM message WHERE is_error = 1")
    assert len(errors) == 1 and errors[0][0] == "shell_command" and "covers a full week" in errors[0][1]
    assert _count_text(db, "pnpm test -- build") == 1  # shell_command input = the command
    assert _count_text(db, "sed -n '1,40p' src/report/csv.ts") == 1  # exec_command input = cmd
    # an image sent with a prompt: a placeholder with the original size, once (not also from the event)
    images = rows(db, "SELECT role, text, original_len FROM message WHERE text LIKE '[image %'")
    assert len(images) == 1 and images[0][0] == "user" and images[0][1].startswith("[image image/png,")
    assert images[0][2] > 400
    assert _count_text(db, "Now localise the CSV header like in this screenshot", "user") == 1
    assert _count_text(db, "[turn aborted: interrupted]", "system") == 1
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%ghost_commit%' OR text LIKE '%d8b27b2e0c1f%'")[0][0] == 0
    assert rows(db, "SELECT role FROM message WHERE text LIKE '<permissions instructions>%'") == [("system",)]
    kinds = _counts(db)
    assert kinds[("user", "text")] == 3  # two prompts and the image placeholder
    assert kinds[("assistant", "thinking")] == 1


# --- small synthetic rollouts for the rarer records ----------------------------------------------


def _env(kind, payload, ts="2026-01-05T10:00:00.000Z"):
    return {"timestamp": ts, "type": kind, "payload": payload}


def _user(text):
    return _env("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})


def _user_event(text):
    return _env("event_msg", {"type": "user_message", "message": text, "images": []})


def _assistant(text):
    return _env("response_item", {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]})


def _meta(sid="0199aaaa-0000-7000-8000-000000000001", **extra):
    return _env("session_meta", {"id": sid, "timestamp": "2026-01-05T10:00:00.000Z", "cwd": "/srv/app", **extra})


def test_repeated_prompts_stay_separate_and_twins_pair_up(tmp_path, db):
    path = write_jsonl(tmp_path / "rollout.jsonl", [
        _meta(),
        _user("continue"), _user_event("continue"),
        _env("event_msg", {"type": "agent_message", "message": "Step one done."}),  # event first
        _assistant("Step one done."),
        _user_event("continue"), _user("continue"),  # event first this time
        _assistant("Step two done."),  # no event twin
        _env("event_msg", {"type": "agent_message", "message": "Only the UI saw this."}),  # no response twin
    ])
    import_paths(db, path)
    got = rows(db, "SELECT role, text FROM message ORDER BY position")
    assert got == [("user", "continue"), ("assistant", "Step one done."), ("user", "continue"),
                   ("assistant", "Step two done."), ("assistant", "Only the UI saw this.")]


def test_thread_rollback_drops_the_rolled_back_turns(tmp_path, db):
    records = [
        _meta(),
        _user("add a cache"), _user_event("add a cache"), _assistant("Added an LRU cache."),
        _user("make it redis instead"), _user_event("make it redis instead"), _assistant("Switched to redis."),
        _env("event_msg", {"type": "thread_rolled_back", "num_turns": 1}),
        _user("keep the LRU but add a TTL"), _user_event("keep the LRU but add a TTL"), _assistant("Added a TTL."),
    ]
    path = write_jsonl(tmp_path / "rollout.jsonl", records)
    import_paths(db, path)
    texts = [r[0] for r in rows(db, "SELECT text FROM message ORDER BY position")]
    assert texts == ["add a cache", "Added an LRU cache.", "keep the LRU but add a TTL", "Added a TTL."]
    # the same result when the rollback arrives in a later, incremental read
    from memtui.core.db import open_database

    other = open_database(tmp_path / "other.db")
    path2 = write_jsonl(tmp_path / "grow" / "rollout.jsonl", records[:7])
    import_paths(other, path2)
    with open(path2, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in records[7:]))
    import_paths(other, path2)
    assert [r[0] for r in rows(other, "SELECT text FROM message ORDER BY position")] == texts


def test_failure_reported_by_an_end_event(tmp_path, db):
    call = {"type": "function_call", "name": "exec_command", "arguments": json.dumps({"cmd": "cargo test"}), "call_id": "c1"}
    out = {"type": "function_call_output", "call_id": "c1", "output": "test result: FAILED. 3 passed; 1 failed"}
    end = {"type": "exec_command_end", "call_id": "c1", "exit_code": 101, "stdout": "", "stderr": ""}
    # the end event after the output, and (second file) before it
    a = write_jsonl(tmp_path / "a" / "rollout.jsonl", [_meta("s-a"), _env("response_item", call), _env("response_item", out), _env("event_msg", end)])
    b = write_jsonl(tmp_path / "b" / "rollout.jsonl", [_meta("s-b"), _env("response_item", call), _env("event_msg", end), _env("response_item", out)])
    import_paths(db, a, b)
    got = rows(db, "SELECT s.external_id, m.tool_name, m.is_error FROM message m JOIN session s ON s.id = m.session_id"
                   " WHERE m.kind = 'tool_result' ORDER BY s.external_id")
    assert got == [("s-a", "exec_command", 1), ("s-b", "exec_command", 1)]


def test_forked_rollout_links_its_parent(tmp_path, db):
    parent = write_jsonl(tmp_path / "p" / "rollout-a.jsonl", [_meta("parent-1"), _user("plan the migration")])
    child = write_jsonl(tmp_path / "c" / "rollout-b.jsonl", [
        _meta("child-1", forked_from_id="parent-1"),
        _meta("parent-1"),  # the parent's history replayed in the fork
        _user("now write the down migration"),
    ])
    import_paths(db, parent, child)
    got = rows(db, "SELECT c.external_id, p.external_id FROM session c JOIN session p ON p.id = c.parent_id")
    assert got == [("child-1", "parent-1")]


def test_session_key_falls_back_to_the_file_name_uuid(tmp_path, db):
    path = write_jsonl(tmp_path / "rollout-2026-01-05T10-00-00-0199bbbb-1111-7222-8333-444455556666.jsonl", [
        _env("turn_context", {"cwd": "/srv/other", "model": "gpt-5"}),
        _user("hello"),
    ])
    import_paths(db, path)
    assert rows(db, "SELECT external_id, cwd, model FROM session") == [
        ("0199bbbb-1111-7222-8333-444455556666", "/srv/other", "gpt-5")]


def test_bad_lines_are_reported_and_skipped(tmp_path, db):
    path = tmp_path / "rollout.jsonl"
    good = [json.dumps(r) for r in (_meta(), _user("first"), _assistant("reply"))]
    path.write_text("\n".join([good[0], "{not json", "[1, 2]", good[1],
                               json.dumps(_env("response_item", {"type": "function_call_output", "call_id": None, "output": 5})),
                               json.dumps(_env("response_item", {"type": "message", "role": "user", "content": "plain"})),
                               good[2]]) + "\n")
    report = import_paths(db, path)
    assert report.files_failed == 0
    assert len(report.warnings) == 2 and all(str(path) in w for w in report.warnings)
    texts = [r[0] for r in rows(db, "SELECT text FROM message WHERE role IN ('user', 'assistant') ORDER BY position")]
    assert texts == ["first", "plain", "reply"]


def test_detect_is_specific(tmp_path, corpus):
    def head(p: Path) -> bytes:
        return p.read_bytes()[: 64 * 1024]

    for p in sorted((corpus / "claude-code").rglob("*.jsonl")) + sorted((corpus / "gemini-cli").glob("*")):
        if p.stat().st_size:
            assert not CodexParser.detect(p, head(p)), p
    # a session_meta line longer than the 64 KiB head is still recognised
    big = tmp_path / "rollout.jsonl"
    write_jsonl(big, [_meta(base_instructions={"text": "x" * 100_000}), _user("hi")])
    assert CodexParser.detect(big, head(big))
    copy = tmp_path / "copy.json"
    shutil.copy(BARE, copy)
    assert not CodexParser.detect(copy, head(copy))  # rollouts are .jsonl
