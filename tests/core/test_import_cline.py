"""Cline / Roo Code task folder import (hand-written task folders: the corpus holds none)."""

from __future__ import annotations

import json
import os
import shutil

from memtui.core.importers import detect_format
from memtui.core.importers.base import parse_ts
from tests.conftest import FIXTURES
from tests.helpers import import_paths, rows

CL = FIXTURES / "cline"
XML_TASK = CL / "1718003640000"  # older Cline: XML tool mode, pretty-printed, no ts in the API file
NATIVE_TASK = CL / "1767644899093"  # newer Cline: native tool calls, minified, ts on every message
UI_ONLY_TASK = CL / "1719912000000"  # the API history is missing
ROO_TASK = CL / "rooveterinaryinc.roo-cline" / "tasks" / "0f6c2a51-3d7e-4b8a-9c1d-5e2f7a9b3c40"
API = "api_conversation_history.json"
UI = "ui_messages.json"


def _snapshot(db):
    return rows(
        db,
        "SELECT s.tool, s.external_id, m.position, m.external_id, m.role, m.kind, m.tool_name, m.text, m.is_error, m.timestamp"
        " FROM message m JOIN session s ON s.id = m.session_id ORDER BY s.external_id, m.position",
    )


def _messages(db, key):
    return rows(
        db,
        "SELECT m.role, m.kind, m.tool_name, m.text, m.is_error, m.timestamp FROM message m"
        " JOIN session s ON s.id = m.session_id WHERE s.external_id = ? ORDER BY m.position",
        key,
    )


def _session(db, key):
    row = rows(db, "SELECT tool, cwd, model, started_at, ended_at, title, project_id FROM session WHERE external_id = ?", key)
    return dict(zip(("tool", "cwd", "model", "started_at", "ended_at", "title", "project_id"), row[0]))


def test_detection():
    assert detect_format(XML_TASK / API) == "cline"  # pretty-printed
    assert detect_format(NATIVE_TASK / API) == "cline"  # minified
    assert detect_format(UI_ONLY_TASK / UI) == "cline"
    assert detect_format(XML_TASK / "task_metadata.json") is None


def test_walking_the_tasks_folder(db):
    report = import_paths(db, CL)
    assert report.warnings == [] and report.files_failed == 0
    # ui_messages.json / task_metadata.json beside an API history are not walked; the lone one is.
    assert report.files_seen == 4
    sessions = rows(db, "SELECT tool, external_id FROM session ORDER BY external_id")
    assert sessions == [
        ("roo", "0f6c2a51-3d7e-4b8a-9c1d-5e2f7a9b3c40"),
        ("cline", "1718003640000"),
        ("cline", "1719912000000"),
        ("cline", "1767644899093"),
    ]
    # Nothing of the environment block the harness appends to every user turn is stored.
    assert rows(db, "SELECT COUNT(*) FROM message WHERE text LIKE '%environment_details%' OR text LIKE '%# Current Mode%'") == [(0,)]


def test_xml_tool_mode_task(db):
    import_paths(db, XML_TASK / API)
    s = _session(db, "1718003640000")
    assert s["cwd"] == "c:/Users/dana/projects/weather-cli"
    assert s["model"] == "claude-3-5-sonnet-20240620"  # from task_metadata.json
    assert s["started_at"] == 1718003640.0  # the taskId is the creation time in ms
    assert s["ended_at"] == 1718003705.4
    assert s["title"] == "Add a --verbose flag to the CLI in src\\cli.py that prints the request URL before fetching."
    (root,) = rows(db, "SELECT root FROM project WHERE id = ?", s["project_id"])[0]
    assert root == "c:/Users/dana/projects/weather-cli"
    msgs = _messages(db, "1718003640000")
    assert [(m[0], m[1], m[2]) for m in msgs] == [
        ("user", "text", None),
        ("assistant", "thinking", None),
        ("assistant", "tool_use", "read_file"),
        ("tool", "tool_result", "read_file"),
        ("assistant", "text", None),
        ("assistant", "tool_use", "replace_in_file"),
        ("tool", "tool_result", "replace_in_file"),
        ("assistant", "tool_use", "execute_command"),
        ("tool", "tool_result", "execute_command"),
        ("assistant", "thinking", None),
        ("assistant", "tool_use", "replace_in_file"),
        ("tool", "tool_result", "replace_in_file"),
        ("assistant", "text", None),  # attempt_completion: what the assistant said
        ("tool", "tool_result", "attempt_completion"),
        ("user", "text", None),  # the <feedback> follow-up
        ("assistant", "tool_use", "write_to_file"),
    ]
    assert json.loads(msgs[2][3]) == {"path": "src/cli.py"}
    # The output block after "[read_file for 'src/cli.py'] Result:" belongs to the result.
    assert msgs[3][3].startswith("[read_file for 'src/cli.py'] Result:\nimport argparse")
    edit = json.loads(msgs[5][3])
    assert edit["path"] == "src/cli.py" and '+    parser.add_argument("--verbose", action="store_true")' not in edit["diff"]
    assert 'parser.add_argument("--verbose", action="store_true")' in edit["diff"]
    assert json.loads(msgs[7][3])["command"] == "python -m pytest tests\\test_cli.py -q"
    assert msgs[12][3].startswith("Added a --verbose flag to src/cli.py") and "$ python -m weather Berlin --verbose" in msgs[12][3]
    assert msgs[14][3] == "Please also document the flag in README.md, and never print the API key in verbose mode."
    # No ts in the API file: times come from ui_messages.json (the API request of each turn).
    assert msgs[0][5] == parse_ts(1718003640600)
    assert msgs[14][5] == parse_ts(1718003702100)
    assert all(m[5] for m in msgs)


def test_native_tool_calls_minified(db):
    import_paths(db, NATIVE_TASK / API)
    s = _session(db, "1767644899093")
    assert s["cwd"] == "c:/Users/omar/src/flutter_notes"
    assert s["model"] == "x-ai/grok-code-fast-1"  # modelInfo on the assistant messages
    msgs = _messages(db, "1767644899093")
    assert [(m[0], m[1], m[2], m[4]) for m in msgs] == [
        ("user", "text", None, 0),
        ("assistant", "thinking", None, 0),
        ("assistant", "tool_use", "read_file", 0),
        ("tool", "tool_result", "read_file", 0),
        ("assistant", "text", None, 0),
        ("assistant", "tool_use", "replace_in_file", 0),
        ("tool", "tool_result", "replace_in_file", 0),
        ("assistant", "tool_use", "execute_command", 0),
        ("tool", "tool_result", "execute_command", 1),
        ("assistant", "text", None, 0),  # ask_followup_question
        ("user", "text", None, 0),  # its <answer>
    ]
    assert json.loads(msgs[2][3]) == {"path": "lib\\main.dart"}  # the escaped backslash decoded once
    assert msgs[9][3].startswith("shared_preferences is not in pubspec.yaml.") and '"Yes"' in msgs[9][3]
    assert msgs[10][3] == "Yes, and pin it to ^2.2.0"
    assert [m[5] for m in msgs[:3]] == [parse_ts(1767644912730), parse_ts(1767644915690), parse_ts(1767644915690)]
    ids = [e for (e,) in rows(db, "SELECT external_id FROM message ORDER BY position")]
    assert ids[:3] == ["a1767644912730", "a1767644915690", "a1767644915690#1"]


def test_ui_messages_alone(db):
    report = import_paths(db, UI_ONLY_TASK / UI)
    assert report.warnings == []
    s = _session(db, "1719912000000")
    assert s["tool"] == "cline" and s["cwd"] == "/home/lee/code/inventory"
    msgs = _messages(db, "1719912000000")
    assert [(m[0], m[1]) for m in msgs] == [
        ("user", "text"),
        ("assistant", "text"),
        ("assistant", "tool_use"),
        ("assistant", "tool_use"),
        ("system", "text"),
        ("user", "text"),
        ("assistant", "text"),
    ]
    texts = [m[3] for m in msgs]
    # The streaming fragment gave way to the finished message of the same ts.
    assert "I'll search for imports of `utils` first." in texts
    assert "I'll search for imports of" not in texts
    # A fragment never finished (the task was interrupted) is still what was said.
    assert texts[-1].startswith("Added src/utils/__init__.py")
    assert texts[5] == "Keep a `utils` shim that re-exports helpers for one release."
    assert msgs[4][4] == 1  # the error event
    assert json.loads(texts[2])["tool"] == "searchFiles"


def test_roo_code_task(db):
    import_paths(db, ROO_TASK / API)
    s = _session(db, "0f6c2a51-3d7e-4b8a-9c1d-5e2f7a9b3c40")
    assert s["tool"] == "roo"
    assert s["cwd"] == "/home/kim/work/ledger"  # "Current Workspace Directory"
    assert s["model"] == "claude-sonnet-4-20250514"
    msgs = _messages(db, "0f6c2a51-3d7e-4b8a-9c1d-5e2f7a9b3c40")
    assert json.loads(msgs[2][3]) == {"args": {"file": {"path": "app/models.py"}}}
    (diff,) = [json.loads(m[3]) for m in msgs if m[2] == "apply_diff" and m[1] == "tool_use"]
    assert diff["path"] == "app/models.py" and "created_at = Column(DateTime" in diff["diff"]
    assert msgs[-1][:2] == ("assistant", "text") and msgs[-1][3].startswith("Added `created_at`")


def test_reimport_and_forced_reparse_change_nothing(db, tmp_path):
    task = tmp_path / "tasks" / NATIVE_TASK.name
    shutil.copytree(NATIVE_TASK, task)
    import_paths(db, tmp_path)
    before = _snapshot(db)
    assert import_paths(db, tmp_path).files_unchanged == 1
    st = (task / API).stat()
    os.utime(task / API, (st.st_atime, st.st_mtime + 10))
    report = import_paths(db, tmp_path)
    assert report.files_imported == 1 and report.messages_new == 0
    assert _snapshot(db) == before


def test_ui_messages_given_explicitly_beside_an_api_history_adds_nothing(db):
    import_paths(db, XML_TASK / API)
    before = _snapshot(db)
    report = import_paths(db, XML_TASK / UI)
    assert report.files_failed == 0 and report.sessions_new == 0 and report.messages_new == 0
    assert _snapshot(db) == before


def test_history_that_grew(db, tmp_path):
    task = tmp_path / NATIVE_TASK.name
    task.mkdir()
    full = json.loads((NATIVE_TASK / API).read_bytes())
    (task / API).write_text(json.dumps(full[:5], separators=(",", ":")))
    import_paths(db, task / API)
    before = _snapshot(db)
    (task / API).write_text(json.dumps(full, separators=(",", ":")))
    report = import_paths(db, task / API)
    assert len(before) == 7 and report.messages_new == 4
    after = _snapshot(db)
    assert set(before) <= set(after) and len(after) == 11


def test_bad_files_fail_cleanly(db, tmp_path):
    broken = tmp_path / "111" / API
    broken.parent.mkdir()
    broken.write_text('[{"role":"user","content":[{"type":"text","text":"<task>\\nhi')  # cut mid-write
    not_a_list = tmp_path / "222" / API
    not_a_list.parent.mkdir()
    not_a_list.write_text('{"role": "user"}')
    odd = tmp_path / "333" / API
    odd.parent.mkdir()
    odd.write_text(json.dumps([
        "not a message",
        {"role": "user", "content": "<task>\nfix the build\n</task>"},
        {"role": "assistant", "content": None},
        {"role": "tool", "content": []},
    ]))
    report = import_paths(db, broken, not_a_list, odd, format="cline")
    assert report.files_failed == 2 and report.files_imported == 1
    assert any("not valid JSON" in w for w in report.warnings)
    assert any("expected a JSON array" in w for w in report.warnings)
    assert sum("skipped" in w for w in report.warnings) == 3
    assert rows(db, "SELECT role, text FROM message") == [("user", "fix the build")]


def test_a_result_whose_command_holds_brackets_and_the_task_list_reminder(db, tmp_path):
    """`[execute_command for '... '[:upper:]' ...'] Result:` is a tool result, and Cline's
    '# TODO LIST UPDATE REQUIRED' reminder to the model is neither output nor a user message."""
    task = tmp_path / "1700000000000"
    task.mkdir()
    reminder = ("\n\n\t\t\t\t# TODO LIST UPDATE REQUIRED - You MUST include the task_progress parameter in your NEXT"
                " tool call.\n\n\t\t\t\t**Current Progress: 0/2 items completed (0%)**\n\n\t\t\t\t- [ ] Lowercase")
    command = "echo AB | tr '[:upper:]' '[:lower:]'"
    (task / "api_conversation_history.json").write_text(json.dumps([
        {"role": "user", "content": [{"type": "text", "text": "<task>\nlowercase the names\n</task>"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Running it."},
            {"type": "tool_use", "id": "t1", "name": "execute_command", "input": {"command": command}}]},
        {"role": "user", "content": [
            {"type": "text", "text": f"[execute_command for '{command}'] Result:\nCommand executed.\nOutput:\nab"},
            {"type": "text", "text": reminder},
            {"type": "text", "text": "<environment_details>\n# Current Working Directory (/work/names) Files\n</environment_details>"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Done."}]},
    ]))
    import_paths(db, task)
    got = [(role, kind, name, text) for role, kind, name, text, *_ in _messages(db, "1700000000000")]
    assert got == [
        ("user", "text", None, "lowercase the names"),
        ("assistant", "text", None, "Running it."),
        ("assistant", "tool_use", "execute_command", json.dumps({"command": command}, separators=(",", ":"))),
        ("tool", "tool_result", "execute_command", f"[execute_command for '{command}'] Result:\nCommand executed.\nOutput:\nab"),
        ("assistant", "text", None, "Done."),
    ]


def test_older_task_list_reminders_and_the_final_file_content_note_are_not_stored(db, tmp_path):
    """Older Cline's '# TODO LIST RECOMMENDED' block (it names the task_progress parameter) is not a user
    message, nor is the 'IMPORTANT: ... final_file_content ...' note below a written file part of its
    result; a user's own '# TODO list' message stays."""
    task = tmp_path / "1700000000001"
    task.mkdir()
    recommended = ("\n\n# TODO LIST RECOMMENDED\nWhen starting a new task, it is recommended to create a todo list.\n\n"
                   "1. Include the task_progress parameter in your next tool call")
    note = ("IMPORTANT: For any future changes to this file, use the final_file_content shown above as your reference."
            " This content reflects the current state of the file. Always base your SEARCH/REPLACE operations on"
            " this final version to ensure accuracy.")
    saved = ("[write_to_file for 'app.py'] Result:\nThe content was successfully saved to app.py.\n\n"
             "Here is the full, updated content of the file that was saved:\n\n"
             '<final_file_content path="app.py">\nprint("hi")\n</final_file_content>\n\n')
    mine = "# TODO list\n- rename app.py to main.py"
    (task / "api_conversation_history.json").write_text(json.dumps([
        {"role": "user", "content": [
            {"type": "text", "text": "<task>\nwrite app.py\n</task>"}, {"type": "text", "text": recommended}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": '<write_to_file>\n<path>app.py</path>\n<content>print("hi")</content>\n</write_to_file>'}]},
        {"role": "user", "content": [
            {"type": "text", "text": saved + note + "\n\nNew problems detected: none."},
            {"type": "text", "text": recommended},
            {"type": "text", "text": "<environment_details>\n# Current Working Directory (/work/app) Files\n</environment_details>"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Saved."}]},
        {"role": "user", "content": [{"type": "text", "text": mine}]},
    ]))
    import_paths(db, task)
    got = [(role, kind, text) for role, kind, _name, text, *_ in _messages(db, "1700000000001")]
    assert ("user", "text", "write app.py") in got and ("user", "text", mine) in got
    assert [text for role, _kind, text in got if role == "user"] == ["write app.py", mine]
    (result,) = [text for role, _kind, text in got if role == "tool"]
    assert result == saved + "New problems detected: none."
    assert not any("task_progress" in text or "IMPORTANT" in text for _role, _kind, text in got)
