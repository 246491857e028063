"""SpecStory export import: the real corpus files and small hand-written exports."""

from __future__ import annotations

import os
import shutil

from memtui.core.importers import detect_format
from memtui.core.importers.base import parse_ts
from memtui.core.importers.pipeline import find_git_root
from tests.conftest import FIXTURES
from tests.helpers import import_paths, rows

SS = FIXTURES / "specstory"
MINSKY_001 = "edobry-minsky__2025-04-28_16-54-task-001-progress-check__cursor_v1.md"
MINSKY_LARGE = "edobry-minsky__2025-05-01_16-39-continuing-task-022-progress__cursor_v1_LARGE.md"
CURSOR = "specstoryai-getspecstory__2025-06-30_12-46-48Z-fix-unknown-field-error__cursor-ide_v2.1.0.md"
CLAUDE = "specstoryai-getspecstory__2026-01-29_16-21-35Z-explain-this-commit-to__claude-code_v2.1.0.md"
CODEX = "specstoryai-getspecstory__2026-02-20_16-33-05Z-start-with-docs-git__codex-cli_v2.1.0.md"
GEMINI = "specstoryai-getspecstory__2026-06-18_15-52-09Z-read-docs-git-provenance__gemini-cli_v2.1.0.md"


def _snapshot(db):
    return rows(
        db,
        "SELECT s.external_id, m.position, m.external_id, m.role, m.kind, m.tool_name, m.text, m.is_error"
        " FROM message m JOIN session s ON s.id = m.session_id ORDER BY s.external_id, m.position",
    )


def _count(db, sql, *args):
    return rows(db, sql, *args)[0][0]


def _session(db):
    ((row),) = rows(db, "SELECT id, external_id, tool, title, model, cwd, started_at, message_count FROM session")
    return dict(zip(("id", "key", "tool", "title", "model", "cwd", "started_at", "count"), row))


def _turns(db):
    """Distinct turn numbers (message ids are `<turn>.<part>`)."""
    return {int(e.split(".")[0]) for (e,) in rows(db, "SELECT external_id FROM message")}


# --- the corpus -------------------------------------------------------------------------------


def test_every_corpus_export_is_detected(corpus):
    for path in sorted((corpus / "specstory").glob("*.md")):
        assert detect_format(path) == "specstory", path.name


def test_whole_folder_imports_cleanly_and_reimport_changes_nothing(db, corpus):
    report = import_paths(db, corpus / "specstory")
    assert report.warnings == [] and report.files_failed == 0
    assert report.files_imported == 6 and report.sessions_new == 6
    assert rows(db, "SELECT DISTINCT tool FROM session") == [("specstory",)]
    # No role marker leaked into a message: every marker line started a turn.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE text LIKE '_**User%' OR text LIKE '_**Agent%' OR text LIKE '_**Assistant%'") == 0
    before = _snapshot(db)
    again = import_paths(db, corpus / "specstory")
    assert again.files_unchanged == 6 and again.messages_new == 0
    assert _snapshot(db) == before


def test_v1_cursor_export(db, corpus):
    import_paths(db, corpus / "specstory" / MINSKY_001)
    s = _session(db)
    assert s["key"] == MINSKY_001  # no session id in a v1 export: the file name
    assert s["title"] == "Task #001 Progress Check"
    assert s["model"] is None and s["cwd"] is None
    # The file name time (UTC in practice), not the local title time (12:54:52, UTC-4).
    assert s["started_at"] == parse_ts("2025-04-28T16:54:00")
    # 13 _**User**_ + 13 _**Assistant**_ lines; the last reply is empty (the export ends there).
    assert _turns(db) == set(range(25))
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user'") == 13
    (first,) = rows(db, "SELECT text FROM message WHERE role = 'user' ORDER BY position LIMIT 1")[0]
    assert first == "continue working on #001, check the current state of the task first"
    reads = [t for (t,) in rows(db, "SELECT text FROM message WHERE tool_name = 'read_file'")]
    assert "process/tasks/001-update-session-start-task-id.md" in reads
    searches = rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name = 'codebase_search'")
    assert ('Searched codebase "001" • 10 results',) in searches
    commands = [t for (t,) in rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name = 'run_terminal_cmd'")]
    assert "cd /Users/edobry/Projects/minsky && bun src/cli.ts tasks status set '#001' DONE" in commands
    assert _count(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_use' AND tool_name = 'edit_file'") >= 10
    # No HTML of the rendering is left in tool results.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%<summary>%'") == 0
    # A rule the agent fetched ('### Rule: name' + its text) is a tool call and its result, not the reply's words.
    (call, result) = rows(db, "SELECT role, kind, text FROM message WHERE tool_name = 'fetch_rules' ORDER BY position")
    assert call == ("assistant", "tool_use", "derived-cursor-rules") and result[:2] == ("tool", "tool_result")
    assert result[2].startswith("**AI rules derived by SpecStory from the project AI interaction history**")
    assert _count(db, "SELECT COUNT(*) FROM message WHERE kind = 'text' AND text LIKE '%### Rule:%'") == 0


def test_large_v1_export(db, corpus):
    import_paths(db, corpus / "specstory" / MINSKY_LARGE)
    s = _session(db)
    assert s["title"] == "Continuing Task 022 Progress"
    assert len(_turns(db)) == 34
    users = [t for (t,) in rows(db, "SELECT text FROM message WHERE role = 'user' ORDER BY position")]
    assert len(users) == 17
    assert users[0] == "continue working on task 022"
    assert users.count("continue") == 4
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'system' AND text = 'Cancelled'") == 4
    assert _count(db, "SELECT COUNT(*) FROM message WHERE is_error = 1 AND text LIKE 'Model provided invalid arguments%'") >= 3


def test_v2_claude_code_export(db, corpus):
    import_paths(db, corpus / "specstory" / CLAUDE)
    s = _session(db)
    assert s["key"] == "fa6ea856-ac09-4701-8cd0-5f266e44839f"
    assert s["model"] == "claude-opus-4-5-20251101"
    assert s["title"].startswith("Explain this commit to me 0381a524") and s["title"].endswith("(Claude Code)")
    assert s["started_at"] == parse_ts("2026-01-29T16:21:35Z")
    assert len(_turns(db)) == 8
    thinking = [t for (t,) in rows(db, "SELECT text FROM message WHERE kind = 'thinking' ORDER BY position")]
    assert thinking[0].startswith("The user wants me to explain a specific commit.")
    assert len(thinking) == 3 and not any("<details>" in t or "Thought Process" in t for t in thinking)
    calls = rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name = 'Bash' ORDER BY position")
    assert len(calls) == 3
    assert "`git show 0381a524da4c363a02ecd2ee720d8b641b187af9 --stat`" in calls[0][0]
    results = rows(db, "SELECT text, is_error FROM message WHERE kind = 'tool_result' ORDER BY position")
    assert [r[1] for r in results] == [0, 1, 0]
    assert results[1][0] == "Exit code 128\nfatal: unrecognized argument: --no-stat"
    # Per-turn UTC times.
    (ts,) = rows(db, "SELECT timestamp FROM message WHERE text LIKE 'This commit enables session resume%'")[0]
    assert ts == parse_ts("2026-01-29T16:22:44Z")


def test_v2_codex_export_with_nested_fences(db, corpus):
    import_paths(db, corpus / "specstory" / CODEX)
    s = _session(db)
    assert s["key"] == "019c7be4-e46e-7930-a7cb-7c6dfc4882c2"
    assert s["model"] == "gpt-5.3-codex"
    assert s["title"].endswith("(Codex CLI)")
    assert len(_turns(db)) == 45
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user'") == 2
    assert _count(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_use' AND tool_name = 'exec_command'") == 13
    assert _count(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_result'") == 13
    (first,) = rows(db, "SELECT text FROM message WHERE kind = 'tool_use' ORDER BY position LIMIT 1")[0]
    assert first == "`rg --files docs/git-provenance -g '*.md' | sort`"


def test_v2_gemini_export_resumed_from_codex(db, corpus):
    import_paths(db, corpus / "specstory" / GEMINI)
    s = _session(db)
    assert s["key"] == "e1cce4a2-849a-41cf-9418-893cca3a7401"
    assert s["model"] is None  # agent turns name no model
    assert s["title"].startswith("Read docs/git-provenance/RESEARCH-TASK.md") and s["title"].endswith("(Gemini CLI)")
    assert len(_turns(db)) == 98
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user'") == 4
    (note,) = rows(db, "SELECT role, text FROM message ORDER BY position LIMIT 1")
    assert note == ("system", "Resumed from a Codex CLI session via SpecStory.")
    # Plain "Tool use: **exec_command** `…`" lines and "**Update: `file`**" diffs are tool calls.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_use' AND tool_name = 'exec_command'") == 29
    edits = [t for (t,) in rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name = 'edit'")]
    assert edits and all(t.startswith("docs/git-provenance/STANDARD-SUMMARY.md\n") for t in edits)
    # A tool output whose nested fences SpecStory did not escape stays one tool result.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'assistant' AND kind = 'text' AND text LIKE '## Challenge 1%'") == 0


def test_v2_cursor_export(db, corpus):
    import_paths(db, corpus / "specstory" / CURSOR)
    s = _session(db)
    assert s["key"] == "7648a3a8-cec0-45cc-a87c-6ad5a39677a2"
    assert s["model"] == "claude-4-sonnet"
    assert s["title"] == "For the code present, we get this error: (Cursor IDE)"
    ((edit,),) = rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name = 'search_replace'")
    assert edit.startswith("Edit file: pkg/cloud/sync.go")
    assert 'AgentName     string `json:"agentName"`' in edit  # HTML entities (&#96;) decoded
    # The empty duplicate <tool-use> blocks are not messages of their own.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE kind = 'tool_use'") == 2


# --- hand-written exports ---------------------------------------------------------------------


def test_v1_export_inside_a_project_gets_its_cwd(db):
    path = SS / "shop-api" / ".specstory" / "history" / "2025-03-02_14-15-add-retry-to-payment-client.md"
    report = import_paths(db, path)
    assert report.warnings == []
    s = _session(db)
    project = SS / "shop-api"
    assert s["cwd"] == str(project.resolve())
    (root,) = rows(db, "SELECT root FROM project")[0]
    assert root == (find_git_root(s["cwd"]) or s["cwd"])
    assert s["title"] == "Add retry to payment client"
    assert s["started_at"] == parse_ts("2025-03-02T14:15:00")
    kinds = rows(db, "SELECT role, kind, tool_name FROM message ORDER BY position")
    assert kinds == [
        ("user", "text", None),
        ("assistant", "text", None),
        ("assistant", "tool_use", "codebase_search"),
        ("tool", "tool_result", "codebase_search"),
        ("assistant", "tool_use", "read_file"),
        ("assistant", "text", None),
        ("assistant", "tool_use", "edit_file"),
        ("assistant", "text", None),
        ("assistant", "tool_use", "run_terminal_cmd"),
        ("tool", "tool_result", "run_terminal_cmd"),
        ("system", "text", None),
        ("user", "text", None),
        ("assistant", "text", None),
        ("assistant", "tool_use", "edit_file"),
        ("system", "text", None),
        ("assistant", "text", None),
    ]
    (output,) = rows(db, "SELECT text FROM message WHERE kind = 'tool_result' AND tool_name = 'run_terminal_cmd'")[0]
    assert "Test Files  1 passed (1)" in output
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text LIKE 'don''t retry POSTs%'") == 1


def test_claude_code_cli_layout_with_compaction_summary(db):
    path = SS / "cli" / "2025-07-19_22-41-03Z-fix-the-flaky-date-test.md"
    import_paths(db, path)
    s = _session(db)
    assert s["key"] == "4a573c80-9d1e-4f6b-8a21-3c0e5d7b9f12"
    assert s["model"] == "claude-opus-4-20250514"
    assert s["started_at"] == parse_ts("2025-07-19T22:41:03Z")
    # The compaction summary is not the user's prompt (nor the title).
    (summary,) = rows(db, "SELECT role, kind FROM message WHERE text LIKE 'This session is being continued%'")
    assert summary == ("system", "summary")
    assert s["title"] == "use freezegun instead of patching by hand (Claude Code)"
    calls = rows(db, "SELECT tool_name, text FROM message WHERE kind = 'tool_use' ORDER BY position")
    assert [c[0] for c in calls] == ["Edit", "Bash"]
    assert '"file_path": "/home/sam/proj/tests/test_dates.py"' in calls[0][1]
    results = rows(db, "SELECT tool_name, is_error, text FROM message WHERE kind = 'tool_result' ORDER BY position")
    assert [(r[0], r[1]) for r in results] == [("Edit", 0), ("Bash", 1)]
    assert results[1][2].startswith("Exit code 1")
    assert _count(db, "SELECT COUNT(*) FROM message WHERE text LIKE '**Agent task list:**%'") == 1


def test_quoted_markers_inside_a_code_block_do_not_split(db):
    path = SS / "v2" / "2026-01-10_10-00-00Z-why-does-the-importer.md"
    import_paths(db, path)
    assert len(_turns(db)) == 5
    (prompt,) = rows(db, "SELECT text FROM message WHERE role = 'user'")[0]
    assert "_**User**_\n\nhello" in prompt and "hi there\n```" in prompt
    assert rows(db, "SELECT role, kind, tool_name, is_error FROM message ORDER BY position") == [
        ("user", "text", None, 0),
        ("assistant", "thinking", None, 0),
        ("assistant", "tool_use", "Bash", 0),
        ("tool", "tool_result", "Bash", 1),
        ("assistant", "tool_use", "Edit", 0),
        ("assistant", "text", None, 0),
    ]
    (edit,) = rows(db, "SELECT text FROM message WHERE tool_name = 'Edit'")[0]
    assert edit.startswith("Edit file: splitter.py") and "+    if MARKER.fullmatch(line) and not in_fence:" in edit


def test_one_session_exported_twice_is_one_session(db):
    short, long = SS / "dup" / "2026-02-01_08-30-00Z.md", SS / "dup" / "2026-02-01_08-30-00Z-rename-load-cfg-to.md"
    report = import_paths(db, SS / "dup")
    assert report.files_imported == 2 and report.sessions_new == 1
    s = _session(db)
    assert s["key"] == "019c0a11-2b3c-7d4e-8f90-a1b2c3d4e5f6"
    assert s["count"] == 6  # the longer export's messages, none twice
    assert _count(db, "SELECT COUNT(DISTINCT text) FROM message") == 6
    texts = [t for (t,) in rows(db, "SELECT text FROM message ORDER BY position")]
    assert texts[0] == "rename load_cfg to load_config across the repo"
    assert texts[-1] == "Updated docs/configuration.md to use `load_config`."
    # The other order gives the same session.
    db.execute_sql("DELETE FROM message")
    db.execute_sql("DELETE FROM session")
    db.execute_sql("DELETE FROM source")
    import_paths(db, long)
    import_paths(db, short)
    assert _session(db)["count"] == 6


def test_forced_reparse_changes_nothing(db, tmp_path):
    path = tmp_path / "2026-01-10_10-00-00Z-why-does-the-importer.md"
    shutil.copyfile(SS / "v2" / path.name, path)
    import_paths(db, path)
    before = _snapshot(db)
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 10))
    report = import_paths(db, path)
    assert report.files_imported == 1 and report.messages_new == 0
    assert _snapshot(db) == before


def test_export_without_turns_warns_and_goes_on(db, tmp_path):
    path = tmp_path / "empty.md"
    path.write_text("<!-- Generated by SpecStory -->\n\n# Nothing yet (2025-01-01 10:00:00)\n")
    other = SS / "cli" / "2025-07-19_22-41-03Z-fix-the-flaky-date-test.md"
    report = import_paths(db, path, other)
    assert report.files_failed == 0 and len(report.warnings) == 1 and "no _**User**_" in report.warnings[0]
    assert _count(db, "SELECT COUNT(*) FROM session") == 1


def test_plain_markdown_is_not_specstory(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n\n_**User**_\n\nnot an export\n")
    assert detect_format(path) is None
    history = tmp_path / "proj" / ".specstory" / "history" / "2025-01-01_10-00-hello.md"
    history.parent.mkdir(parents=True)
    history.write_text("# Hello (2025-01-01 10:00:00)\n\n_**User**_\n\nhello\n\n---\n\n_**Assistant**_\n\nhi\n")
    assert detect_format(history) == "specstory"  # no header comment, but in a SpecStory folder


def test_a_cursor_agent_turn_names_its_model_without_the_mode(db, tmp_path):
    """Cursor's v2.1 exports write `_**Agent (model <name>, mode <mode>)**_`."""
    path = tmp_path / ".specstory" / "history" / "2025-12-12_19-19Z-unocss-iconify-preset.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "<!-- Generated by SpecStory, Markdown v2.1.0 -->\n\n"
        "<!-- cursor Session bd66bed1-17dc-4eda-88e1-e926ac1cc9f5 (2025-12-12 19:19Z) -->\n\n"
        "# UnoCSS Iconify preset (2025-12-12 19:19Z)\n\n"
        "_**User (2025-12-12 16:42Z)**_\n\nadd the unocss iconify preset\n\n---\n\n"
        "_**Agent (model claude-4-sonnet, mode Agent)**_\n\nAdded `presetIcons` to uno.config.ts.\n\n---\n"
    )
    import_paths(db, path)
    assert _session(db)["model"] == "claude-4-sonnet"
    assert rows(db, "SELECT role, text FROM message ORDER BY position") == [
        ("user", "add the unocss iconify preset"), ("assistant", "Added `presetIcons` to uno.config.ts.")]


def test_a_cursor_shell_call_keeps_its_output_apart_from_the_command(db, tmp_path):
    """Cursor's v2.1 exports put the command in a ```bash fence and its output in the next fence."""
    path = tmp_path / ".specstory" / "history" / "2025-12-12_19-19Z-add-the-preset.md"
    path.parent.mkdir(parents=True)
    tool = (
        '<tool-use data-tool-type="shell" data-tool-name="run_terminal_cmd">\n'
        "<details><summary>Tool use: **run_terminal_cmd** • Run command: cd /work/pulse && {shown}</summary>\n\n"
        "```bash\ncd /work/pulse && ni @unocss/preset-icons\n```\n\n"
        "```\nProgress: resolved 1107, reused 909, downloaded 1, added 1, done\n\nDone in 6.2s using pnpm v10.25.0\n\n```\n"
        "</details>\n</tool-use>\n"
    )
    path.write_text(
        "<!-- Generated by SpecStory, Markdown v2.1.0 -->\n\n"
        "<!-- cursor Session bd66bed1-17dc-4eda-88e1-e926ac1cc9f5 (2025-12-12 19:19Z) -->\n\n"
        "# Add the preset (2025-12-12 19:19Z)\n\n"
        "_**User (2025-12-12 16:42Z)**_\n\nadd the icons preset\n\n---\n\n"
        "_**Agent (model default, mode Agent)**_\n\n" + tool.format(shown="ni @unocss/preset-icons")
        + "\n" + tool.format(shown="ni (the summary cut short)") + "\nInstalled it.\n\n---\n"
    )
    import_paths(db, path)
    got = rows(db, "SELECT kind, text FROM message WHERE kind IN ('tool_use', 'tool_result') ORDER BY position")
    output = "Progress: resolved 1107, reused 909, downloaded 1, added 1, done\n\nDone in 6.2s using pnpm v10.25.0"
    assert got == [
        ("tool_use", "Run command: cd /work/pulse && ni @unocss/preset-icons"),
        ("tool_result", output),
        # (a command the summary does not show whole is kept with the call)
        ("tool_use", "Run command: cd /work/pulse && ni (the summary cut short)\ncd /work/pulse && ni @unocss/preset-icons"),
        ("tool_result", output),
    ]
