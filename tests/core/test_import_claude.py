"""Claude Code import on the real corpus files and on small hand-built files."""

from __future__ import annotations

import json
import shutil

import pytest

from memtui.core.importers import detect_format
from tests.helpers import import_paths, rows, write_jsonl, message_snapshot as _snapshot

CC = "claude-code"


def _file(corpus, fragment):
    matches = sorted((corpus / CC).rglob(f"*{fragment}*.jsonl"))
    assert matches, fragment
    return matches[0]


def test_whole_corpus_folder_imports_without_warnings(db, corpus):
    report = import_paths(db, corpus / CC)
    assert report.warnings == []
    assert report.files_failed == 0
    # 13 .jsonl files; the 0-byte one is recorded as empty, the summary-only one holds no session.
    assert report.files_seen == 13
    (sessions,) = rows(db, "SELECT COUNT(*) FROM session")[0]
    # 11 files with conversation, one of them with two session ids, one subagent in its own file.
    assert sessions == 12
    assert rows(db, "SELECT tool FROM session GROUP BY tool") == [("claude-code",)]


def test_reimport_is_a_no_op(db, corpus):
    import_paths(db, corpus / CC)
    before = _snapshot(db)
    report = import_paths(db, corpus / CC)
    assert report.files_imported == 0 and report.files_unchanged == 13
    assert report.messages_new == 0 and report.sessions_new == 0
    assert _snapshot(db) == before


def test_resumed_file_with_two_session_ids_is_two_sessions_of_one_project(db, corpus):
    import_paths(db, _file(corpus, "VibeCodingTracker"))
    sessions = rows(db, "SELECT external_id, project_id, cwd FROM session ORDER BY started_at")
    assert len(sessions) == 2
    assert {s[2] for s in sessions} == {"/home/wei/repo/claude-code"}
    assert sessions[0][1] == sessions[1][1]
    (root,) = rows(db, "SELECT root FROM project")[0]
    assert root == "/home/wei/repo/claude-code"
    # The Traditional-Chinese prompt survives intact.
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%go.mod%' AND role = 'user'")[0][0] >= 1


def test_assistant_fragments_share_their_message_id(db, corpus):
    import_paths(db, _file(corpus, "pomodoro"))
    (assistant,) = rows(db, "SELECT COUNT(*) FROM message WHERE role = 'assistant'")[0]
    (groups,) = rows(db, "SELECT COUNT(DISTINCT group_id) FROM message WHERE role = 'assistant'")[0]
    assert 0 < groups < assistant  # one reply = several one-block lines
    # Tool results carry the name of the call they answer.
    names = {r[0] for r in rows(db, "SELECT DISTINCT tool_name FROM message WHERE kind = 'tool_result'")}
    assert "Write" in names or "Edit" in names
    assert None not in names


def test_tool_calls_keep_their_input_and_errors_are_flagged(db, corpus):
    import_paths(db, corpus / CC)
    edit = rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name IN ('Edit', 'MultiEdit') LIMIT 1")
    assert edit and "file_path" in edit[0][0]
    (errors,) = rows(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_result' AND is_error = 1")[0]
    assert errors >= 1


def test_subagent_file_is_its_own_session_linked_to_the_parent(db, corpus):
    folder = corpus / CC / "claude-code-log__real_projects__experiments-worktrees__v2.1.114"
    import_paths(db, folder)
    sub = rows(db, "SELECT external_id, parent_id, title, project_id FROM session WHERE parent_id IS NOT NULL")
    assert len(sub) == 1
    ext, parent_id, title, project_id = sub[0]
    assert ext.startswith("ef958aa1-0e93-49f0-bb71-150f63befcd1/agent-")
    assert title == "Research Claude Code teammates"  # from agent-*.meta.json
    parent = rows(db, "SELECT external_id, project_id FROM session WHERE id = ?", parent_id)[0]
    assert parent[0] == "ef958aa1-0e93-49f0-bb71-150f63befcd1"
    assert parent[1] == project_id  # the subagent's worktree counts as the parent's project


def test_legacy_sidechain_file(db, corpus):
    import_paths(db, _file(corpus, "agent-668b5ac2"))
    (ext,) = rows(db, "SELECT external_id FROM session")[0]
    assert ext == "741790a4-4fe2-4644-9a51-fb4482074060/agent-668b5ac2"
    first = rows(db, "SELECT role, text FROM message ORDER BY position LIMIT 1")[0]
    assert first[0] == "user" and first[1].startswith("Investigate two issues")


def test_huge_image_line_is_stored_small(db, db_path, corpus):
    path = _file(corpus, "855KB_base64_image")
    assert path.stat().st_size > 800_000
    import_paths(db, path)
    image = rows(db, "SELECT text, original_len FROM message WHERE text LIKE '[image %'")
    assert len(image) == 2  # the one line carries two base64 PNGs
    assert all(text.startswith("[image image/png,") for text, _ in image)
    assert sum(original for _, original in image) > 800_000
    (biggest,) = rows(db, "SELECT MAX(LENGTH(text)) FROM message")[0]
    assert biggest < 20_000


def test_empty_and_summary_only_files(db, corpus):
    report = import_paths(db, _file(corpus, "ODD_empty_0_bytes"), _file(corpus, "ODD_summary_only"))
    assert report.warnings == [] and report.bad_paths == []
    assert rows(db, "SELECT COUNT(*) FROM session")[0][0] == 0
    assert rows(db, "SELECT COUNT(*) FROM source")[0][0] == 2


def test_detection(corpus):
    for path in (corpus / CC).rglob("*.jsonl"):
        if path.stat().st_size:
            assert detect_format(path) == "claude-code", path


def test_incremental_read_of_a_grown_file_matches_a_one_shot_import(tmp_path, corpus):
    from memtui.core.db import open_database

    src = _file(corpus, "JSSoundRecorder")
    data = src.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    growing = tmp_path / "proj" / "7acd37a8.jsonl"
    growing.parent.mkdir()
    growing.write_bytes(data[:cut])

    db1 = open_database(tmp_path / "a.db")
    first = import_paths(db1, growing)
    assert first.bytes_read == cut
    with open(growing, "ab") as fh:
        fh.write(data[cut:])
    second = import_paths(db1, growing)
    assert second.bytes_read == len(data) - cut  # only the appended bytes were read
    assert second.sessions_new == 0 and second.messages_new > 0

    db2 = open_database(tmp_path / "b.db")
    import_paths(db2, growing)
    strip = lambda snap: [r[1:] for r in snap]  # noqa: E731
    assert strip(_snapshot(db1)) == strip(_snapshot(db2))
    positions = rows(db1, "SELECT position FROM message ORDER BY position")
    assert len(positions) == len(set(positions))


def test_rewritten_file_is_reparsed_without_duplicates(tmp_path, db, corpus):
    src = _file(corpus, "f852ad25")
    path = tmp_path / "s.jsonl"
    shutil.copy(src, path)
    import_paths(db, path)
    before = _snapshot(db)
    lines = src.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-5]) + b'{"type":"summary","summary":"x","leafUuid":"nope"}\n')
    import_paths(db, path)  # head unchanged, tail changed: read again from the start
    after = _snapshot(db)
    assert after == before  # upserts by uuid: nothing duplicated, nothing lost


def test_projects_are_keyed_by_full_path_not_folder_name(tmp_path, db):
    def session(sid, cwd):
        return [
            {"type": "user", "sessionId": sid, "uuid": f"{sid}-u", "cwd": cwd, "parentUuid": None,
             "timestamp": "2025-01-01T00:00:00.000Z", "message": {"role": "user", "content": "hello"}},
        ]

    write_jsonl(tmp_path / "a.jsonl", session("s1", "/work/one/api"))
    write_jsonl(tmp_path / "b.jsonl", session("s2", "/work/two/api"))
    import_paths(db, tmp_path)
    assert sorted(r[0] for r in rows(db, "SELECT root FROM project")) == ["/work/one/api", "/work/two/api"]
    assert rows(db, "SELECT COUNT(DISTINCT project_id) FROM session")[0][0] == 2


def test_compaction_summary_and_replayed_lines(tmp_path, db):
    base = {"sessionId": "s", "cwd": "/p", "parentUuid": None, "timestamp": "2025-01-01T00:00:00.000Z"}
    recs = [
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "first question"}},
        base | {"type": "assistant", "uuid": "a1",
                "message": {"id": "msg_1", "role": "assistant", "model": "claude-x",
                            "content": [{"type": "text", "text": "first answer"}]}},
        base | {"type": "system", "subtype": "compact_boundary", "uuid": "c1", "content": "Conversation compacted"},
        base | {"type": "user", "uuid": "cs", "isCompactSummary": True,
                "message": {"role": "user", "content": "This session is being continued from a previous conversation."}},
        # A second /compact can re-append earlier lines with their original uuid.
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "first question"}},
        base | {"type": "assistant", "uuid": "a2",
                "message": {"id": "msg_2", "role": "assistant", "content": [{"type": "thinking", "thinking": ""}]}},
    ]
    write_jsonl(tmp_path / "s.jsonl", recs)
    import_paths(db, tmp_path / "s.jsonl")
    got = rows(db, "SELECT external_id, role, kind FROM message ORDER BY position")
    assert got == [("u1", "user", "text"), ("a1", "assistant", "text"), ("c1", "system", "summary"),
                   ("cs", "system", "summary")]
    assert rows(db, "SELECT model FROM session")[0][0] == "claude-x"


def test_an_api_error_is_a_system_error_not_a_reply(tmp_path, db):
    base = {"sessionId": "s", "cwd": "/p", "parentUuid": None, "timestamp": "2026-07-01T00:00:00.000Z"}
    write_jsonl(tmp_path / "s.jsonl", [
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "write the grant text"}},
        base | {"type": "assistant", "uuid": "a1", "isApiErrorMessage": True, "error": "billing_error",
                "message": {"id": "m1", "role": "assistant", "model": "<synthetic>",
                            "content": [{"type": "text", "text": "Credit balance is too low"}]}},
        base | {"type": "assistant", "uuid": "a2",
                "message": {"id": "m2", "role": "assistant", "model": "claude-x",
                            "content": [{"type": "text", "text": "Here is the grant text."}]}},
    ])
    import_paths(db, tmp_path / "s.jsonl")
    assert rows(db, "SELECT external_id, role, kind, is_error FROM message ORDER BY position") == [
        ("u1", "user", "text", 0), ("a1", "system", "text", 1), ("a2", "assistant", "text", 0)]
    assert rows(db, "SELECT model FROM session") == [("claude-x",)]


@pytest.mark.parametrize("content", [
    "<command-name>/model</command-name>\n<command-message>model</command-message>\n<command-args>opus</command-args>",
])
def test_slash_commands_are_condensed(tmp_path, db, content):
    write_jsonl(tmp_path / "s.jsonl", [
        {"type": "user", "sessionId": "s", "uuid": "u", "cwd": "/p", "parentUuid": None,
         "message": {"role": "user", "content": content}},
    ])
    import_paths(db, tmp_path / "s.jsonl")
    assert rows(db, "SELECT role, text FROM message") == [("user", "/model opus")]


def test_long_tool_input_stays_valid_json(tmp_path, db):
    import orjson

    edit = {"file_path": "/p/big.py", "old_string": "a = 1\n" * 5000, "new_string": "a = 2\n" * 5000}
    write_jsonl(tmp_path / "s.jsonl", [
        {"type": "assistant", "sessionId": "s", "uuid": "a", "cwd": "/p", "parentUuid": None,
         "message": {"id": "m", "role": "assistant",
                     "content": [{"type": "tool_use", "id": "t1", "name": "Edit", "input": edit}]}},
    ])
    import_paths(db, tmp_path / "s.jsonl")
    text, original = rows(db, "SELECT text, original_len FROM message")[0]
    data = orjson.loads(text)  # still parseable after the cut
    assert data["file_path"] == "/p/big.py"
    assert data["old_string"].startswith("a = 1") and "characters cut" in data["old_string"]
    assert original > 50_000 and len(text) < 10_000


@pytest.mark.parametrize("in_two_imports", [False, True])
def test_a_session_belongs_where_it_started(tmp_path, db, in_two_imports):
    """Claude Code files a session under the folder of its first cwd; a `cd ~` later in the session
    (every later line carries the new cwd) does not move the session, nor its project, to the home
    folder: not in one import, nor when the later lines come in the next one."""
    base = {"sessionId": "s", "parentUuid": None, "timestamp": "2025-08-20T04:10:00.000Z"}
    first = [
        base | {"type": "user", "uuid": "u1", "cwd": "/Volumes/dev/claude-parser",
                "message": {"role": "user", "content": "move the test data into the project"}},
        base | {"type": "assistant", "uuid": "a1", "cwd": "/Volumes/dev/claude-parser",
                "message": {"id": "m1", "role": "assistant", "content": [{"type": "text", "text": "Moving it."}]}},
    ]
    later = [
        base | {"type": "user", "uuid": "u2", "cwd": "/Users/ali",
                "message": {"role": "user", "content": "you just deleted my claude-parser?"}},
    ]
    path = tmp_path / "-Volumes-dev-claude-parser" / "s.jsonl"
    if in_two_imports:
        write_jsonl(path, first)
        import_paths(db, path)
        with open(path, "a") as fh:
            fh.write("".join(json.dumps(r) + "\n" for r in later))
    else:
        write_jsonl(path, first + later)
    import_paths(db, path)
    assert rows(db, "SELECT s.cwd, p.root FROM session s JOIN project p ON p.id = s.project_id") == [
        ("/Volumes/dev/claude-parser", "/Volumes/dev/claude-parser")]
    assert rows(db, "SELECT COUNT(*) FROM message") == [(3,)]


def test_the_compaction_prompt_is_claude_codes_not_the_users(tmp_path, db):
    """/compact runs a subagent (agent-acompact-*) whose first 'user' line is Claude Code's prompt."""
    base = {"sessionId": "s", "cwd": "/p", "parentUuid": None, "timestamp": "2026-02-10T00:00:00.000Z",
            "isSidechain": True, "agentId": "acompact-e1f845"}
    prompt = ("Your task is to create a detailed summary of the conversation so far, paying close attention to the "
              "user's explicit requests.\n\nBefore providing your final summary, wrap your analysis in <analysis> tags.")
    write_jsonl(tmp_path / "agent-acompact-e1f845.jsonl", [
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content": prompt}},
        base | {"type": "assistant", "uuid": "a1", "message": {"id": "m1", "role": "assistant",
                                                               "content": [{"type": "text", "text": "<summary>...</summary>"}]}},
    ])
    import_paths(db, tmp_path / "agent-acompact-e1f845.jsonl")
    assert rows(db, "SELECT role, kind FROM message ORDER BY position") == [("system", "text"), ("assistant", "text")]
