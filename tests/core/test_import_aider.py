"""Aider chat history import: the real corpus files and small hand-written histories."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from memtui.core.importers import detect_format, read_head
from memtui.core.importers.aider import AiderParser
from memtui.core.importers.base import parse_ts
from memtui.core.importers.pipeline import find_git_root
from tests.conftest import FIXTURES
from tests.helpers import import_paths, rows

ABDUL = "AbdulAlkawasmeh-metadata-aider__aider.chat.history.md"
INPUT = "AbdulAlkawasmeh-metadata-aider__aider.input.history"
THINK = "AlexShchuka-mozgoslav__aider.chat.history__thinking_tags_local_models.md"
SEARCH = "Aquaticat-Monochromatic__aider.chat.history__search_replace.md"
BASIC = FIXTURES / "aider" / "basic" / ".aider.chat.history.md"
CRLF = FIXTURES / "aider" / "crlf" / ".aider.chat.history.md"


def _snapshot(db):
    return rows(
        db,
        "SELECT s.external_id, m.position, m.external_id, m.role, m.kind, m.tool_name, m.text, m.is_error"
        " FROM message m JOIN session s ON s.id = m.session_id ORDER BY s.external_id, m.position",
    )


def _edits(db):
    """The edit tool calls as dicts (a very long one is stored cut, so only its file is read)."""
    out = []
    for (text,) in rows(db, "SELECT text FROM message WHERE kind = 'tool_use' AND tool_name = 'edit' ORDER BY id"):
        try:
            out.append(json.loads(text))
        except ValueError:
            assert "characters cut]" in text
            out.append({"file_path": re.match(r'\{"file_path":"((?:[^"\\]|\\.)*)"', text).group(1), "cut": text})
    return out


def _count(db, sql, *args):
    return rows(db, sql, *args)[0][0]


# --- the corpus -------------------------------------------------------------------------------


def test_detection_picks_aider_and_rejects_the_input_history(corpus):
    folder = corpus / "aider"
    for name in (ABDUL, THINK, SEARCH):
        assert detect_format(folder / name) == "aider"
    assert detect_format(folder / INPUT) is None
    assert not AiderParser.detect(folder / INPUT, read_head(folder / INPUT))


def test_single_session_file(db, corpus):
    path = corpus / "aider" / ABDUL
    report = import_paths(db, path)
    assert report.warnings == [] and report.files_failed == 0
    ((key, model, cwd, started, title),) = rows(db, "SELECT external_id, model, cwd, started_at, title FROM session")
    assert key == f"{path.resolve()}#2025-12-03 14:43:45#0"
    assert model == "openrouter/openai/gpt-4o-mini"
    assert cwd == str(path.resolve().parent)  # the folder that holds the history (the git root)
    assert started == parse_ts("2025-12-03T14:43:45")
    assert title.startswith("Please create an .aidar.json file")
    # 12 prompts, each stored once; the multi-line one is joined, its tab-indented lines intact.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user'") == 12
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text LIKE 'Please create a clean project structure%'") == 1
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text LIKE '%' || char(10) || char(9) || '-dataset.py%'") == 1
    edits = _edits(db)
    assert len(edits) == 24
    first = edits[0]
    assert first["file_path"] == ".aidar.json" and first["old_string"] == "" and '"tracked_files"' in first["new_string"]
    assert {"src/dataset.py", "src/model.py", "src/train.py", "scripts/generate_data.py", "frontend/ui.ts", "README.md"} <= {
        e["file_path"] for e in edits
    }
    system = [t for (t,) in rows(db, "SELECT text FROM message WHERE role = 'system' ORDER BY position")]
    assert "Applied edit to .aidar.json" in system
    assert "Commit 1b2614a feat: create .aidar.json file to track project directory and files" in system
    assert sum(t.startswith("Commit ") for t in system) == 14  # the "> Commit <hash>" lines
    # Telemetry and harness noise stay out.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%Tokens:%' OR text LIKE '%You can use /undo%'") == 0


def test_many_runs_become_sessions_and_empty_runs_none(db, corpus):
    import_paths(db, corpus / "aider" / SEARCH)
    # 19 runs; 6 hold only startup output (a pip prompt, warnings, ^C) and make no session.
    starts = [r[0].split("#")[1] for r in rows(db, "SELECT external_id FROM session ORDER BY started_at")]
    assert len(starts) == 13
    assert starts[0] == "2025-06-02 11:49:34" and starts[-1] == "2025-06-02 14:29:21"
    for empty in ("2025-06-02 11:47:49", "2025-06-02 11:54:05", "2025-06-02 11:58:11", "2025-06-02 13:08:08", "2025-06-02 14:12:58"):
        assert empty not in starts
    models = dict(rows(db, "SELECT substr(external_id, instr(external_id, '#') + 1, 19), model FROM session"))
    assert models["2025-06-02 11:49:34"] == "qwen3-235b-a22b"
    assert models["2025-06-02 13:32:13"] == "gemini/gemini-2.5-pro-preview-05-06"  # from "Main model:"
    edits = _edits(db)
    assert len(edits) == 42
    assert any(e["file_path"] == "packages/module/es/src/CONVENTIONS.md" and "airbnb" in e["old_string"] for e in edits)
    # The "SEARCH/REPLACE block failed to match" reports: tool results of the edit tool, flagged.
    failed = rows(db, "SELECT text, is_error, role FROM message WHERE kind = 'tool_result'")
    assert len(failed) == 7
    assert all(r[1] == 1 and r[2] == "tool" and r[0].startswith("# 1 SEARCH/REPLACE block failed to match!") for r in failed)
    # ... and the SEARCH block quoted inside the report is not taken for a new edit.
    assert all("SearchReplaceNoExactMatch" not in json.dumps(e) for e in edits)
    # litellm errors are kept and flagged; confirmation answers are not prompts.
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'system' AND is_error = 1 AND text LIKE 'litellm.%'") == 6
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text LIKE '%(Y)es/(N)o%'") == 0
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text = '/undo'") == 1
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'system' AND text = 'Applied edit to CONVENTIONS.md'") == 5


def test_thinking_blocks_are_separated(db, corpus):
    import_paths(db, corpus / "aider" / THINK)
    assert _count(db, "SELECT COUNT(*) FROM session") == 3
    assert rows(db, "SELECT DISTINCT model FROM session") == [("lm_studio/qwen3.6-35b-a3b-uncensored-hauhaucs-aggressive",)]
    assert _count(db, "SELECT COUNT(*) FROM message WHERE kind = 'thinking'") == 16
    assert _count(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%thinking-content-%'") == 0
    # The reasoning is not repeated in the answer that follows it.
    (answer,) = rows(db, "SELECT text FROM message WHERE role = 'assistant' AND kind = 'text' AND text LIKE 'Привет!%'")[0]
    assert "Here's a thinking process" not in answer
    assert _count(db, "SELECT COUNT(*) FROM message WHERE role = 'user' AND text = 'Ты зациклился. Удалось понять причину бага?'") == 1
    # The "whole" edit format: a file name line, then the whole file in a fence.
    files = {e["file_path"] for e in _edits(db)}
    assert "./analyzer-report-dictation-hotkey.md" in files


def test_reimport_changes_nothing(db, corpus):
    folder = corpus / "aider"
    first = import_paths(db, folder)
    assert first.files_failed == 0 and first.warnings == []
    # The walker takes only the .md histories; the input history is not a candidate.
    assert first.files_seen == 3
    before = _snapshot(db)
    again = import_paths(db, folder)
    assert again.files_unchanged == 3 and again.messages_new == 0 and again.sessions_new == 0
    assert _snapshot(db) == before


def test_forced_reparse_of_the_same_bytes_changes_nothing(db, corpus, tmp_path):
    path = tmp_path / ".aider.chat.history.md"
    shutil.copyfile(corpus / "aider" / SEARCH, path)
    import_paths(db, path)
    before = _snapshot(db)
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 10))  # same bytes, new mtime: parsed again
    report = import_paths(db, path)
    assert report.files_imported == 1 and report.messages_new == 0 and report.sessions_new == 0
    assert _snapshot(db) == before


def test_input_history_forced_as_aider_fails_cleanly(db, corpus):
    report = import_paths(db, corpus / "aider" / INPUT, format="aider")
    assert report.files_failed == 1
    assert "input history" in report.warnings[0]
    assert _count(db, "SELECT COUNT(*) FROM session") == 0


# --- small histories --------------------------------------------------------------------------


def test_fixture_prompts_replies_edits_and_harness(db):
    report = import_paths(db, BASIC)
    assert report.warnings == []
    sessions = rows(db, "SELECT external_id, model FROM session ORDER BY started_at")
    assert [s[0].split("#", 1)[1] for s in sessions] == ["2025-03-14 09:05:40#0", "2025-03-15 17:40:02#0"]
    assert [s[1] for s in sessions] == ["claude-3-7-sonnet-20250219", "ollama_chat/qwen2.5-coder:14b"]
    users = [t for (t,) in rows(db, "SELECT text FROM message WHERE role = 'user' ORDER BY session_id, position")]
    assert users == [
        "Add a retry with exponential backoff to fetch_rates in rates/client.py.\nUse at most 3 attempts.",
        'Document it in the README under a "Retries" heading',
        "/run pytest -q",
        "create a .editorconfig with 4-space indents for python",
    ]
    # A Markdown quote in the reply stays in the reply; a "#### " heading inside an edit stays in the edit.
    (reply,) = rows(db, "SELECT text FROM message WHERE text LIKE 'I''ll wrap the HTTP call%'")[0]
    assert "> **Note:** the sleep is skipped" in reply
    edits = _edits(db)
    assert [e["file_path"] for e in edits] == ["rates/client.py", "README.md", "README.md", ".editorconfig"]
    assert "#### Retries" in edits[1]["new_string"]
    assert edits[0]["old_string"].startswith("def fetch_rates(base):") and "time.sleep(2 ** attempt)" in edits[0]["new_string"]
    assert edits[3] == {"file_path": ".editorconfig", "content": "root = true\n\n[*.py]\nindent_style = space\nindent_size = 4"}
    (thought,) = rows(db, "SELECT text FROM message WHERE kind = 'thinking'")[0]
    assert thought == "The request loop is in fetch_rates; wrap the call and sleep 2**attempt seconds."
    (failed,) = rows(db, "SELECT text, is_error, tool_name FROM message WHERE kind = 'tool_result'")
    assert failed[1] == 1 and failed[2] == "edit" and failed[0].endswith("docstrings, etc")
    system = [t for (t,) in rows(db, "SELECT text FROM message WHERE role = 'system' ORDER BY session_id, position")]
    assert "Commit 3f9c2ab feat: retry fetch_rates with exponential backoff" in system
    assert "Applied edit to .editorconfig" in system
    assert "Add file to the chat? (Y)es/(N)o/(A)ll/(S)kip all/(D)on't ask again [Yes]: all" in system


def test_crlf_history(db):
    assert b"\r\n" in CRLF.read_bytes()  # the fixture keeps its Windows line ends
    assert detect_format(CRLF) == "aider"
    report = import_paths(db, CRLF)
    assert report.warnings == []
    assert _count(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%' || char(13) || '%'") == 0
    ((model,),) = rows(db, "SELECT model FROM session")
    assert model == "gemini/gemini-2.5-pro-preview-05-06"
    (prompt,) = rows(db, "SELECT text FROM message WHERE role = 'user'")[0]
    assert prompt == "Rename the `--out` option to `--output` in src\\cli.ts"
    edits = _edits(db)
    assert edits[0] == {
        "file_path": "src/cli.ts",  # diff-fenced: the file name inside the fence
        "old_string": "  .option('--out <dir>', 'where to write')",
        "new_string": "  .option('--output <dir>', 'where to write')",
    }
    assert edits[1]["file_path"] == "test/cli.test.ts" and "+  run(['--output', 'dist'])" in edits[1]["diff"]
    system = [t for (t,) in rows(db, "SELECT text FROM message WHERE role = 'system' ORDER BY position")]
    assert system == [
        "Committing src\\cli.ts before applying edits.",
        "Commit 54d022e chore: snapshot before rename",
        "Applied edit to src\\cli.ts",
        "Commit a99e014 refactor: rename --out to --output",
    ]
    ((cwd, root),) = rows(db, "SELECT s.cwd, p.root FROM session s JOIN project p ON p.id = s.project_id")
    assert cwd == str(CRLF.resolve().parent)
    assert root == (find_git_root(cwd) or cwd)  # the enclosing work tree when there is one


def test_fixture_input_history_is_not_a_transcript(db):
    path = BASIC.with_name(".aider.input.history")
    assert detect_format(path) is None
    report = import_paths(db, path)
    assert report.files_failed == 1 and "unknown transcript format" in report.warnings[0]
    # Walking the folder takes the chat history only.
    report = import_paths(db, BASIC.parent)
    assert report.files_seen == 1 and report.files_imported == 1


def test_history_that_grew_reimports_without_duplicates(db, tmp_path):
    path = tmp_path / ".aider.chat.history.md"
    shutil.copyfile(BASIC, path)
    import_paths(db, path)
    before = _snapshot(db)
    assert len({r[0] for r in before}) == 2
    with open(path, "ab") as fh:  # the last run goes on, then a new run starts
        fh.write(
            b"\n#### make the indent 2 for yaml too  \n\n"
            b".editorconfig\n```\nroot = true\n\n[*.py]\nindent_style = space\nindent_size = 4\n\n[*.yaml]\nindent_size = 2\n```\n\n"
            b"> Tokens: 1.3k sent, 50 received.  \n> Applied edit to .editorconfig  \n"
            b"> Commit 7c01d2e chore: yaml indent  \n"
            b"\n# aider chat started at 2025-03-16 08:00:00\n\n> Aider v0.82.1  \n"
            b"> Model: claude-3-7-sonnet-20250219 with diff edit format  \n\n"
            b"#### what does fetch_rates return?  \n\nThe parsed JSON body of the rates endpoint.\n\n"
            b"> Tokens: 3.0k sent, 20 received. Cost: $0.01 message, $0.01 session.  \n"
        )
    report = import_paths(db, path)
    assert report.warnings == []
    assert report.sessions_new == 1
    after = _snapshot(db)
    # Everything imported before is still there, unchanged, at the same positions.
    assert set(before) <= set(after)
    new = [r for r in after if r not in before]
    assert [(r[3], r[4]) for r in new] == [
        ("user", "text"),
        ("assistant", "tool_use"),
        ("system", "text"),
        ("system", "text"),
        ("user", "text"),
        ("assistant", "text"),
    ]
    assert _count(db, "SELECT COUNT(*) FROM message WHERE text = 'make the indent 2 for yaml too'") == 1
    assert _count(db, "SELECT COUNT(*) FROM session") == 3
    # Same bytes again: nothing new.
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + 10))
    again = import_paths(db, path)
    assert again.messages_new == 0 and _snapshot(db) == after


def test_run_header_time_with_two_runs_in_the_same_second(db, tmp_path):
    path = tmp_path / ".aider.chat.history.md"
    run = "\n# aider chat started at 2025-01-01 10:00:00\n\n#### {}  \n\nok\n"
    path.write_text(run.format("first") + run.format("second"))
    import_paths(db, path)
    keys = sorted(k for (k,) in rows(db, "SELECT external_id FROM session"))
    assert [k.rsplit("#", 1)[1] for k in keys] == ["0", "1"]


@pytest.mark.parametrize(
    "content",
    [b"# just a markdown file\n\nnothing here\n", b"\xff\xfe\x00\x00garbage" * 10],
)
def test_unusable_file_named_like_a_history_fails_without_a_traceback(db, tmp_path, content):
    path = tmp_path / ".aider.chat.history.md"
    path.write_bytes(content)
    report = import_paths(db, path, format="aider")
    assert report.files_failed == 1 and len(report.warnings) == 1
    assert _count(db, "SELECT COUNT(*) FROM session") == 0


def _messages(db) -> list[tuple[str, str]]:
    return rows(db, "SELECT role, text FROM message ORDER BY position")


def test_a_multi_line_shell_command_aider_asks_to_run_is_one_harness_message(db, tmp_path):
    """Aider prefixes only the first line of a command group with '> ' (each line ends with two spaces)."""
    path = tmp_path / ".aider.chat.history.md"
    path.write_text(
        "\n# aider chat started at 2025-05-10 15:17:26\n\n#### restart it  \n\n"
        "Run:\n```bash\ncd /root/media-stack\nsudo docker compose restart qbittorrent\n```\n\n"
        "> Tokens: 1k sent, 10 received.  \n"
        "> cd /root/media-stack                       \n"
        "    sudo docker compose restart qbittorrent  \n"
        "> Run shell commands? (Y)es/(N)o/(S)kip all/(D)on't ask again [Yes]: n  \n"
        "\nThe restart is yours to run, then.\n"
    )
    import_paths(db, path)
    got = _messages(db)
    assert [role for role, _ in got] == ["user", "assistant", "system", "assistant"], got
    harness = got[2][1]
    assert harness.startswith("cd /root/media-stack") and "sudo docker compose restart qbittorrent" in harness
    assert "Run shell commands?" in harness
    assert got[3] == ("assistant", "The restart is yours to run, then.")


def test_a_request_made_with_a_mode_command_is_one_request(db, tmp_path):
    """Aider writes '/ask X' as typed, then 'X': one user request, and a note of the command."""
    path = tmp_path / ".aider.chat.history.md"
    path.write_text(
        "\n# aider chat started at 2026-06-24 00:29:34\n\n#### /ask what does delta mean?  \n\n"
        "#### what does delta mean?  \n\nTime since the last frame.\n\n"
        "#### /ask is this about frames?  \n\nYes.\n"  # (typed once only: stays as typed)
    )
    import_paths(db, path)
    assert _messages(db) == [
        ("system", "/ask"), ("user", "what does delta mean?"), ("assistant", "Time since the last frame."),
        ("user", "/ask is this about frames?"), ("assistant", "Yes."),
    ]
