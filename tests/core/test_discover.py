"""`memtui import --auto` finds every tool's transcripts in their default locations."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from memtui.cli import main
from memtui.core.importers.discover import project_locations, tool_locations


def _lay_out_home(home, corpus, project):
    cc = home / ".claude" / "projects" / "-home-dev-shop"
    cc.mkdir(parents=True)
    shutil.copy(next((corpus / "claude-code").glob("*pomodoro*.jsonl")), cc / "a.jsonl")
    codex = home / ".codex" / "sessions" / "2025" / "10" / "21"
    codex.mkdir(parents=True)
    shutil.copy(next((corpus / "codex").glob("*pomodor*.jsonl")), codex / "rollout-2025-10-21T20-00-00-x.jsonl")
    archived = home / ".codex" / "archived_sessions"
    archived.mkdir(parents=True)
    shutil.copy(next((corpus / "codex").glob("VibeCodingTracker*.jsonl")), archived / "rollout-2025-09-19T09-02-12-y.jsonl")
    gem = home / ".gemini" / "tmp" / "2d33ff9193c3" / "chats"
    gem.mkdir(parents=True)
    shutil.copy(next((corpus / "gemini-cli").glob("*pomodoro*.json")), gem / "session-2025-10-21T20-04-0b23371a.json")
    (home / ".gemini" / "tmp" / "2d33ff9193c3" / "logs.json").write_text('[{"sessionId":"x","messageId":0,"type":"user","message":"/init","timestamp":"2025-10-21T20:04:20.819Z"}]')
    config = home / ".config" if sys.platform != "darwin" else home / "Library" / "Application Support"
    task = config / "Code" / "User" / "globalStorage" / "saoudrizwan.claude-dev" / "tasks" / "1767644899093"
    task.mkdir(parents=True)
    (task / "api_conversation_history.json").write_text(json.dumps([
        {"role": "user", "content": [{"type": "text", "text": "<task>\nAdd a dark mode toggle\n</task>"}], "ts": 1767644899093},
        {"role": "assistant", "content": [{"type": "text", "text": "I'll add a toggle to the settings page."}], "ts": 1767644912730},
    ]))
    shutil.copy(next((corpus / "aider").glob("AbdulAlkawasmeh*.md")), project / ".aider.chat.history.md")
    spec = project / "web" / ".specstory" / "history"
    spec.mkdir(parents=True)
    shutil.copy(next((corpus / "specstory").glob("*fix-unknown-field*.md")), spec / "2025-06-30_12-46-48Z-fix.md")


def test_auto_finds_every_tool(tmp_path, corpus, _isolate_user, capsys):
    home = _isolate_user
    project = tmp_path / "work" / "shop"
    project.mkdir(parents=True)
    _lay_out_home(home, corpus, project)

    tools = {loc.tool for loc in tool_locations()}
    assert tools == {"claude-code", "codex", "gemini", "cline"}
    assert {loc.tool for loc in project_locations([tmp_path / "work"])} == {"aider", "specstory"}

    db = tmp_path / "auto.db"
    assert main(["--db", str(db), "import", "--auto", "--extractor", "none", str(tmp_path / "work")]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert main(["--db", str(db), "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert set(stats["sessions_by_tool"]) >= {"claude-code", "codex", "gemini", "cline", "aider", "specstory"}

    # A second run looks only at sizes and times.
    assert main(["--db", str(db), "import", "--auto", "--extractor", "none", "--json", str(tmp_path / "work")]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["files_imported"] == 0 and again["messages_new"] == 0


def test_auto_with_nothing_installed_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--db", str(tmp_path / "x.db"), "import", "--auto"]) == 0
    assert "no transcript folders found" in capsys.readouterr().err


def test_environment_overrides(tmp_path, monkeypatch):
    codex_home = tmp_path / "codexhome"
    (codex_home / "sessions").mkdir(parents=True)
    claude = tmp_path / "claudecfg"
    (claude / "projects").mkdir(parents=True)
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    paths = {str(loc.path) for loc in tool_locations()}
    assert str(codex_home / "sessions") in paths and str(claude / "projects") in paths
