"""Claude Code hooks: install / uninstall / status on real settings.json files in a temporary
HOME, and the hook commands run as Claude Code runs them (a shell, the hook JSON on stdin)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from memtui.cli import main
from memtui.core import hooks
from memtui.core import memories as mem
from tests.helpers import rows, write_jsonl

OTHER_SETTINGS = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm run test:*)"], "deny": []},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo pre"}]}],
        "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "cat ~/notes.md"}]}],
    },
}
COMMAND = "/opt/memtui/bin/memtui"


def _settings(home: Path) -> Path:
    return home / ".claude" / "settings.json"


def _write_settings(home: Path, data) -> Path:
    path = _settings(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4) + "\n")
    return path


def _start_payload(cwd: str, transcript: str = "/tmp/none.jsonl") -> str:
    return json.dumps({"session_id": "abc", "transcript_path": transcript, "cwd": cwd,
                       "hook_event_name": "SessionStart", "source": "startup"})


def _end_payload(cwd: str, transcript: str) -> str:
    return json.dumps({"session_id": "abc", "transcript_path": transcript, "cwd": cwd,
                       "hook_event_name": "SessionEnd", "reason": "exit"})


def _run(args, stdin: str, env_home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(env_home), "XDG_STATE_HOME": str(env_home / ".local" / "state")}
    env.pop("MEMTUI_DB", None)
    return subprocess.run(args, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


# --- install / uninstall / status -----------------------------------------------------------------


def test_install_keeps_every_other_setting_and_hook_and_backs_up(_isolate_user):
    home = _isolate_user
    path = _write_settings(home, OTHER_SETTINGS)
    original = path.read_text()
    result = hooks.install("user", command=COMMAND)
    assert result.action == "installed" and result.path == str(path)
    assert result.backup == str(path) + ".bak-1" and Path(result.backup).read_text() == original
    data = json.loads(path.read_text())
    assert data["model"] == "opus" and data["permissions"] == OTHER_SETTINGS["permissions"]
    assert data["hooks"]["PreToolUse"] == OTHER_SETTINGS["hooks"]["PreToolUse"]
    start = data["hooks"]["SessionStart"]
    assert start[0] == OTHER_SETTINGS["hooks"]["SessionStart"][0]  # the other tool's hook is first, untouched
    assert start[1] == {"matcher": "startup|clear|compact", "hooks": [
        {"type": "command", "command": f"{COMMAND} hooks run session-start", "timeout": 10}]}
    assert data["hooks"]["SessionEnd"] == [{"hooks": [
        {"type": "command", "command": f"{COMMAND} hooks run session-end", "timeout": 60}]}]


def test_installing_twice_changes_nothing(_isolate_user):
    path = _write_settings(_isolate_user, OTHER_SETTINGS)
    hooks.install("user", command=COMMAND)
    after_first = path.read_bytes()
    again = hooks.install("user", command=COMMAND)
    assert again.action == "unchanged" and again.backup is None and not again.changed
    assert path.read_bytes() == after_first
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json", "settings.json.bak-1"]


def test_a_new_command_replaces_memtuis_entries_instead_of_adding(_isolate_user):
    path = _write_settings(_isolate_user, OTHER_SETTINGS)
    hooks.install("user", command=COMMAND)
    moved = hooks.install("user", command="/usr/local/bin/memtui", db="/data/m.db")
    assert moved.action == "updated" and moved.backup.endswith(".bak-2")
    data = json.loads(path.read_text())
    commands = [h["command"] for g in data["hooks"]["SessionStart"] for h in g["hooks"]]
    assert commands == ["cat ~/notes.md", "/usr/local/bin/memtui --db /data/m.db hooks run session-start"]
    assert len(data["hooks"]["SessionEnd"]) == 1


def test_install_without_a_settings_file_creates_it_without_backup(_isolate_user):
    result = hooks.install("user", command=COMMAND)
    assert result.action == "installed" and result.backup is None
    data = json.loads(_settings(_isolate_user).read_text())
    assert set(data["hooks"]) == {"SessionStart", "SessionEnd"}


def test_project_scope(tmp_path):
    project = tmp_path / "repo"
    project.mkdir()
    result = hooks.install("project", project_dir=project, command=COMMAND)
    assert result.path == str(project / ".claude" / "settings.json")
    assert hooks.status(project_dir=project)[1].installed
    assert not hooks.status(project_dir=project)[0].installed


def test_uninstall_removes_only_memtuis_entries(_isolate_user):
    path = _write_settings(_isolate_user, OTHER_SETTINGS)
    hooks.install("user", command=COMMAND)
    result = hooks.uninstall("user")
    assert result.action == "removed" and result.backup.endswith(".bak-2")
    assert json.loads(path.read_text()) == OTHER_SETTINGS
    assert hooks.uninstall("user").action == "not installed"
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json", "settings.json.bak-1", "settings.json.bak-2"]


def test_uninstall_drops_the_hooks_key_memtui_made(_isolate_user):
    path = _write_settings(_isolate_user, {"model": "sonnet"})
    hooks.install("user", command=COMMAND)
    hooks.uninstall("user")
    assert json.loads(path.read_text()) == {"model": "sonnet"}


@pytest.mark.parametrize("broken", ['{"model": "opus",', "[1, 2]", '{"hooks": []}', '{"hooks": {"SessionStart": {}}}'])
def test_a_broken_settings_file_is_left_untouched(_isolate_user, capsys, broken):
    path = _settings(_isolate_user)
    path.parent.mkdir(parents=True)
    path.write_text(broken)
    with pytest.raises(hooks.HooksError):
        hooks.install("user", command=COMMAND)
    assert main(["hooks", "install"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "memtui: error:" in err and str(path) in err and "Traceback" not in err
    assert main(["hooks", "uninstall", "--scope", "user"]) == 2
    assert main(["hooks", "status"]) == 2
    assert path.read_text() == broken
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_cli_install_status_uninstall(_isolate_user, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db_file = tmp_path / "custom.db"
    assert main(["--db", str(db_file), "hooks", "install", "--json"]) == 0
    installed = json.loads(capsys.readouterr().out)
    assert installed["action"] == "installed" and installed["scope"] == "user"
    start = installed["commands"]["SessionStart"]
    assert start.endswith(f"--db {shlex.quote(str(db_file))} hooks run session-start")
    assert "memtui" in start and os.path.isabs(shlex.split(start)[0])
    assert main(["hooks", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    by_scope = {s["scope"]: s for s in status["scopes"]}
    assert by_scope["user"]["installed"] and not by_scope["project"]["installed"]
    assert by_scope["user"]["commands"]["SessionStart"] == [start]
    assert main(["hooks", "status"]) == 0
    text = capsys.readouterr().out
    assert "user" in text and "installed" in text and "not installed (no file)" in text
    assert main(["hooks", "uninstall"]) == 0
    assert "removed memtui hooks" in capsys.readouterr().out
    assert main(["hooks"]) == 2


# --- running the hooks ------------------------------------------------------------------------------


@pytest.fixture
def curated(db, db_path, tmp_path):
    project = tmp_path / "shop"
    (project / ".git").mkdir(parents=True)
    mem.add(db, "Prefers pnpm over npm", tier="developer", kind="preference")
    mem.add(db, "The cart service owns prices", tier="project", kind="decision", project=str(project))
    mem.add(db, "Never touch the legacy billing tables", tier="project", kind="constraint", project=str(project),
            pinned=True)
    return project


def test_session_start_prints_the_projects_curated_context(curated, db_path):
    text = hooks.run_session_start(_start_payload(str(curated / "src")), db_path)
    assert "Never touch the legacy billing tables" in text and "The cart service owns prices" in text
    assert "Prefers pnpm over npm" in text and text.startswith("# Curated context (memtui)")
    elsewhere = hooks.run_session_start(_start_payload("/somewhere/else"), db_path)
    assert "Prefers pnpm over npm" in elsewhere and "cart service" not in elsewhere
    small = hooks.run_session_start(_start_payload(str(curated)), db_path, budget=45)
    assert "Never touch" in small and "cart service" not in small  # pinned first within the budget


def test_session_start_without_a_database_prints_nothing_and_creates_nothing(tmp_path):
    missing = tmp_path / "no.db"
    assert hooks.run_session_start(_start_payload(str(tmp_path)), missing) == ""
    assert not missing.exists()


def test_installed_commands_run_as_claude_code_runs_them(curated, db_path, _isolate_user, tmp_path):
    """Install, read the command back from settings.json, and run it through a shell with the
    hook JSON on stdin, the way Claude Code does."""
    command = f"{shlex.quote(sys.executable)} -m memtui"
    hooks.install("user", command=command, db=db_path)
    data = json.loads(_settings(_isolate_user).read_text())
    start_cmd = data["hooks"]["SessionStart"][0]["hooks"][0]["command"]
    end_cmd = data["hooks"]["SessionEnd"][0]["hooks"][0]["command"]

    started = _run(["sh", "-c", start_cmd], _start_payload(str(curated)), _isolate_user, cwd=tmp_path)
    assert started.returncode == 0 and started.stderr == ""
    assert "Never touch the legacy billing tables" in started.stdout

    transcript = write_jsonl(tmp_path / "t" / "abc.jsonl", _transcript(str(curated)))
    ended = _run(["sh", "-c", end_cmd], _end_payload(str(curated), str(transcript)), _isolate_user, cwd=tmp_path)
    assert ended.returncode == 0 and ended.stdout == "" and ended.stderr == ""
    assert rows_of(db_path, "SELECT external_id, tool FROM session") == [("abc", "claude-code")]  # (short: at once)
    messages = rows_of(db_path, "SELECT COUNT(*) FROM message")[0][0]
    assert messages == len(_transcript(str(curated)))
    proposed = rows_of(db_path, "SELECT text FROM memory WHERE status = 'proposed'")
    assert any("pnpm" in text for (text,) in proposed)
    # the same session ending again (resumed, then closed) adds nothing twice
    again = _run(["sh", "-c", end_cmd], _end_payload(str(curated), str(transcript)), _isolate_user, cwd=tmp_path)
    assert again.returncode == 0
    assert rows_of(db_path, "SELECT COUNT(*) FROM message")[0][0] == messages
    assert rows_of(db_path, "SELECT text FROM memory WHERE status = 'proposed'") == proposed


def _detached(db_path) -> list[int]:
    """Pids of `memtui ... hooks run session-end --wait` processes for this database (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"session-end" in argv and b"--wait" in argv and str(db_path).encode() in argv:
                found.append(int(entry.name))
    return found


def _wait_for_detached(db_path, seconds: float = 60) -> None:
    import time

    deadline = time.monotonic() + seconds
    while _detached(db_path):
        assert time.monotonic() < deadline, "the detached session-end import did not finish"
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc to find the detached process")
def test_session_end_hands_the_import_to_a_process_of_its_own(_isolate_user, tmp_path, db_path):
    """A long transcript (over DETACH_BYTES): the hook returns before the import is done; the import
    is another process, in a session of its own (it survives Claude Code closing the terminal), and
    it writes what --wait writes. A short one is imported before the hook returns."""
    base = _transcript("/srv/app")
    big = _padding(dict(base[0], type="user"), n=int(hooks.DETACH_BYTES / 40_000) + 8)
    for record in big:  # large tool outputs, as a long session has
        if record["type"] == "user":
            record["message"]["content"][0]["content"] = "build log line with details " * 1500
    transcript = write_jsonl(tmp_path / "t" / "abc.jsonl", [*base[:-1], *big, base[-1]])
    assert transcript.stat().st_size > hooks.DETACH_BYTES
    payload = _end_payload("/srv/app", str(transcript))
    argv = [sys.executable, "-m", "memtui", "--db", str(db_path), "hooks", "run", "session-end"]
    env = {**os.environ, "HOME": str(_isolate_user), "XDG_STATE_HOME": str(_isolate_user / ".local" / "state")}
    env.pop("MEMTUI_HOOK_WAIT", None)
    hook = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    out, err = hook.communicate(payload.encode(), timeout=60)
    assert hook.returncode == 0 and out == b"" and err == b""
    sessions = []
    for pid in _detached(db_path):  # still importing (it usually is: a new Python starts): its own session
        try:
            sessions.append((pid, os.getsid(pid)))
        except ProcessLookupError:
            pass
    _wait_for_detached(db_path)
    assert rows_of(db_path, "SELECT external_id FROM session") == [("abc",)]
    waited = tmp_path / "waited.db"
    done = _run([sys.executable, "-m", "memtui", "--db", str(waited), "hooks", "run", "session-end", "--wait"],
                payload, _isolate_user, cwd=tmp_path)
    assert done.returncode == 0
    query = "SELECT text FROM memory ORDER BY text"
    assert rows_of(db_path, query) == rows_of(waited, query) and rows_of(waited, query)
    assert sessions and all(pid == sid for pid, sid in sessions), sessions
    small = write_jsonl(tmp_path / "s" / "small.jsonl", [dict(r, sessionId="small") for r in base])
    done = _run(argv, _end_payload("/srv/app", str(small)), _isolate_user, cwd=tmp_path)
    assert done.returncode == 0 and not _detached(db_path)
    assert ("small",) in rows_of(db_path, "SELECT external_id FROM session")  # imported before it returned


def rows_of(db_path, sql):
    import sqlite3

    con = sqlite3.connect(db_path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _transcript(cwd: str) -> list[dict]:
    base = {"sessionId": "abc", "cwd": cwd, "parentUuid": None, "timestamp": "2026-03-01T10:00:00.000Z",
            "version": "2.0.0", "gitBranch": "main"}
    return [
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content":
                "Always use pnpm in this repo, never npm. Run the tests with pnpm test."}},
        base | {"type": "assistant", "uuid": "a1", "parentUuid": "u1", "message": {
            "id": "m1", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "pnpm test"}}]}},
        base | {"type": "user", "uuid": "u2", "parentUuid": "a1", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "12 passed", "is_error": False}]}},
        *_padding(base),
        base | {"type": "assistant", "uuid": "a2", "parentUuid": "r5", "message": {
            "id": "m2", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Decided to keep pnpm; all 12 tests pass."}]}},
    ]


def _padding(base: dict, n: int = 6) -> list[dict]:
    """Ordinary reading, so that the session is large enough for the heuristic extractor's proposals."""
    out = []
    for i in range(n):
        out.append(base | {"type": "assistant", "uuid": f"p{i}", "message": {
            "id": f"mp{i}", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": f"tp{i}", "name": "Read", "input": {"file_path": f"/docs/page{i}.md"}}]}})
        out.append(base | {"type": "user", "uuid": f"r{i}", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"tp{i}", "content": "lorem ipsum dolor sit amet " * 40}]}})
    return out


@pytest.mark.parametrize("event,payload", [
    ("session-start", "{not json"),
    ("session-start", "[1, 2]"),
    ("session-end", "{not json"),
    ("session-end", json.dumps({"hook_event_name": "SessionEnd", "reason": "exit"})),  # no transcript_path
    ("session-end", _end_payload("/x", "/no/such/transcript.jsonl")),
])
def test_a_failing_hook_exits_0_quietly_and_logs(_isolate_user, tmp_path, db_path, event, payload):
    done = _run([sys.executable, "-m", "memtui", "--db", str(db_path), "hooks", "run", event], payload,
                _isolate_user, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    log = _isolate_user / ".local" / "state" / "memtui" / "hooks.log"
    lines = log.read_text().splitlines()
    assert len(lines) == 1 and f" {event}: " in lines[0]


def test_session_end_with_a_real_corpus_transcript(corpus, db, db_path):
    source = sorted((corpus / "claude-code").glob("*pomodoro*.jsonl"))[0]
    first = json.loads(source.open().readline())
    hooks.run_session_end(_end_payload(first.get("cwd", "/x"), str(source)), db_path)
    assert rows(db, "SELECT COUNT(*) FROM session")[0][0] >= 1
    assert rows(db, "SELECT COUNT(*) FROM message")[0][0] > 10


def test_session_end_imports_the_subagents_of_the_session_too(corpus, db, db_path):
    folder = corpus / "claude-code" / "claude-code-log__real_projects__experiments-worktrees__v2.1.114"
    main_file = folder / "ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl"
    hooks.run_session_end(_end_payload("/x", str(main_file)), db_path)
    sessions = rows(db, "SELECT external_id, parent_id FROM session ORDER BY id")
    assert any(ext.startswith("ef958aa1-0e93-49f0-bb71-150f63befcd1/agent-") and parent for ext, parent in sessions)


def test_the_session_start_path_stays_light(curated, db_path, _isolate_user, tmp_path):
    code = (
        "import sys, io\n"
        "from memtui.cli import main\n"
        f"sys.stdin = io.TextIOWrapper(io.BytesIO({_start_payload(str(curated))!r}.encode()))\n"
        f"rc = main(['--db', {str(db_path)!r}, 'hooks', 'run', 'session-start'])\n"
        "heavy = ('textual', 'rapidfuzz', 'anthropic', 'memtui.core.importers.pipeline', 'memtui.core.importers.claude',"
        " 'memtui.core.memories', 'memtui.core.extract.heuristic', 'peewee', 'memtui.core.db', 'memtui.core.models',"
        " 'memtui.core.importers', 'memtui.core.extract')\n"
        "print('HEAVY:' + ','.join(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
    )
    done = _run([sys.executable, "-c", code], "", _isolate_user, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Never touch" in done.stdout and done.stdout.rstrip().endswith("HEAVY:")
