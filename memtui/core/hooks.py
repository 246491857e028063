"""Claude Code hooks: import each finished session, and start each session with the curated context.

`install` adds two entries to a Claude Code settings.json (user scope: ~/.claude/settings.json,
or $CLAUDE_CONFIG_DIR/settings.json; project scope: <project>/.claude/settings.json):

    {"hooks": {
      "SessionStart": [{"matcher": "startup|clear|compact",
                        "hooks": [{"type": "command", "command": "<memtui> hooks run session-start", "timeout": 10}]}],
      "SessionEnd":   [{"hooks": [{"type": "command", "command": "<memtui> hooks run session-end", "timeout": 60}]}]}}

SessionStart's stdout is added to the session's context by Claude Code; a resumed session already
has it, so the matcher leaves `resume` out (compaction and /clear drop it, so those get it again).
Every other setting and every other hook is kept; memtui's entries are recognised by their command
(`... memtui ... hooks run session-start|session-end`). Installing twice changes nothing; a file
that changes is first copied to settings.json.bak-<n>. A settings.json that is not valid JSON is
never touched (HooksError).

`run_session_start` and `run_session_end` are what the hook commands run. They stay light: the
start path reads the store read-only with sqlite3 alone (no peewee) and imports only export.py;
the end path imports the database layer and the importer lazily. The command line runs the start
hook without building its parser (`memtui.cli.main`). The command line wraps both so that a hook always exits 0, with errors going to
`log_path()` (a file in the user state directory), never to the session.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SCOPES = ("user", "project")
EVENTS = ("SessionStart", "SessionEnd")
START_MATCHER = "startup|clear|compact"
START_TIMEOUT = 10  # seconds (Claude Code's per-hook timeout)
END_TIMEOUT = 60
HOOK_BUDGET = 2000  # tokens of context the SessionStart hook prints at most (about 8,000 characters)
# Claude Code saves hook context longer than this to a file and shows the model a short preview only
CLAUDE_CONTEXT_CHARS = 10_000
_OURS = re.compile(r"memtui.*\bhooks\s+run\s+session-(start|end)\b")
LOG_MAX_BYTES = 1_000_000


class HooksError(Exception):
    """A settings file memtui cannot work with (not valid JSON, not an object ...): one line."""


@dataclass(frozen=True)
class InstallResult:
    scope: str
    path: str
    action: str  # "installed", "updated", "unchanged", "removed", "not installed"
    backup: str | None = None  # the copy made before the file changed
    commands: dict = field(default_factory=dict)  # event -> command (what is installed now)

    @property
    def changed(self) -> bool:
        return self.action in ("installed", "updated", "removed")

    def as_dict(self) -> dict:
        return {"scope": self.scope, "path": self.path, "action": self.action, "backup": self.backup,
                "commands": dict(self.commands)}


@dataclass(frozen=True)
class ScopeStatus:
    scope: str
    path: str
    exists: bool
    commands: dict  # event -> [memtui commands installed for it]
    error: str | None = None  # the settings file is broken

    @property
    def installed(self) -> bool:
        return all(self.commands.get(e) for e in EVENTS)

    def as_dict(self) -> dict:
        return {"scope": self.scope, "path": self.path, "exists": self.exists, "installed": self.installed,
                "commands": {k: list(v) for k, v in self.commands.items()}, "error": self.error}


# --- where -------------------------------------------------------------------------------------


def settings_path(scope: str, *, home: str | os.PathLike | None = None,
                  project_dir: str | os.PathLike | None = None) -> Path:
    if scope not in SCOPES:
        raise HooksError(f"unknown scope {scope!r} (choose from {', '.join(SCOPES)})")
    if scope == "project":
        return Path(project_dir or os.getcwd()).expanduser().absolute() / ".claude" / "settings.json"
    if home is None and os.environ.get("CLAUDE_CONFIG_DIR"):
        return Path(os.environ["CLAUDE_CONFIG_DIR"]).expanduser().absolute() / "settings.json"
    return Path(home or Path.home()).expanduser().absolute() / ".claude" / "settings.json"


def default_command() -> str:
    """The absolute command that runs this memtui (quoted for a shell)."""
    argv0 = sys.argv[0] if sys.argv else ""
    name = os.path.basename(argv0)
    if name in ("memtui", "memtui.exe") and os.path.isfile(argv0):
        return shlex.quote(os.path.abspath(argv0))
    if name == "__main__.py" and os.path.basename(os.path.dirname(argv0)) == "memtui":
        return f"{shlex.quote(sys.executable)} -m memtui"
    found = shutil.which("memtui")
    if found:
        return shlex.quote(os.path.abspath(found))
    return f"{shlex.quote(sys.executable)} -m memtui"


def hook_commands(command: str | None = None, db: str | os.PathLike | None = None,
                  budget: int | None = None) -> dict[str, str]:
    """event -> the command line memtui installs for it."""
    base = command or default_command()
    if db:
        base += " --db " + shlex.quote(os.path.abspath(os.path.expanduser(str(db))))
    start = f"{base} hooks run session-start"
    if budget is not None:
        start += f" --budget {int(budget)}"
    return {"SessionStart": start, "SessionEnd": f"{base} hooks run session-end"}


def _groups(commands: dict[str, str]) -> dict[str, dict]:
    return {
        "SessionStart": {
            "matcher": START_MATCHER,
            "hooks": [{"type": "command", "command": commands["SessionStart"], "timeout": START_TIMEOUT}],
        },
        "SessionEnd": {
            "hooks": [{"type": "command", "command": commands["SessionEnd"], "timeout": END_TIMEOUT}],
        },
    }


# --- reading and writing settings.json ----------------------------------------------------------


def _load(path: Path) -> tuple[dict, bool]:
    """(settings, existed). Raises HooksError for a file that is not a JSON object."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, False
    except (OSError, UnicodeDecodeError) as exc:
        raise HooksError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not raw.strip():
        return {}, True
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise HooksError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); left it untouched") from None
    if not isinstance(data, dict):
        raise HooksError(f"{path} does not hold a JSON object; left it untouched")
    hooks = data.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise HooksError(f"{path}: \"hooks\" is not an object; left it untouched")
    for event in EVENTS:
        if hooks and event in hooks and not isinstance(hooks[event], list):
            raise HooksError(f"{path}: \"hooks.{event}\" is not a list; left it untouched")
    return data, True


def _backup(path: Path) -> str:
    n = 1
    taken = {p.name for p in path.parent.glob(path.name + ".bak-*")}
    while f"{path.name}.bak-{n}" in taken:
        n += 1
    target = path.with_name(f"{path.name}.bak-{n}")
    shutil.copy2(path, target)
    return str(target)


def _write(path: Path, data: dict, existed: bool) -> str | None:
    """Write `data` (backing up the old file); returns the backup's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = _backup(path) if existed else None
    from memtui.core.export import atomic_write

    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return backup


def is_ours(hook: object) -> bool:
    return isinstance(hook, dict) and isinstance(hook.get("command"), str) and bool(_OURS.search(hook["command"]))


def _ours_in(groups: list) -> list[str]:
    return [
        h["command"]
        for g in groups if isinstance(g, dict) and isinstance(g.get("hooks"), list)
        for h in g["hooks"] if is_ours(h)
    ]


def _strip(groups: list) -> list:
    """`groups` without memtui's hooks (groups left empty by that go too)."""
    out = []
    for g in groups:
        if isinstance(g, dict) and isinstance(g.get("hooks"), list) and any(is_ours(h) for h in g["hooks"]):
            rest = [h for h in g["hooks"] if not is_ours(h)]
            if rest:
                out.append({**g, "hooks": rest})
            continue
        out.append(g)
    return out


# --- install, uninstall, status -----------------------------------------------------------------


def install(scope: str = "user", *, home=None, project_dir=None, command: str | None = None, db=None,
            budget: int | None = None) -> InstallResult:
    """Add memtui's SessionStart and SessionEnd hooks to the scope's settings.json (idempotent)."""
    path = settings_path(scope, home=home, project_dir=project_dir)
    data, existed = _load(path)
    commands = hook_commands(command, db, budget)
    wanted = _groups(commands)
    hooks = dict(data.get("hooks") or {})
    had_any = False
    for event in EVENTS:
        groups = list(hooks.get(event) or [])
        ours = _ours_in(groups)
        had_any = had_any or bool(ours)
        if ours == [commands[event]] and wanted[event] in groups:
            continue  # exactly ours, as we would write it
        hooks[event] = _strip(groups) + [wanted[event]]
    new = {**data, "hooks": hooks}
    if existed and new == data:
        return InstallResult(scope, str(path), "unchanged", None, commands)
    backup = _write(path, new, existed)
    return InstallResult(scope, str(path), "updated" if had_any else "installed", backup, commands)


def uninstall(scope: str = "user", *, home=None, project_dir=None) -> InstallResult:
    """Remove memtui's hooks (only those) from the scope's settings.json."""
    path = settings_path(scope, home=home, project_dir=project_dir)
    data, existed = _load(path)
    hooks = data.get("hooks")
    if not existed or not hooks or not any(_ours_in(hooks.get(e) or []) for e in hooks if isinstance(hooks.get(e), list)):
        return InstallResult(scope, str(path), "not installed")
    new_hooks = {}
    for event, groups in hooks.items():
        if isinstance(groups, list) and _ours_in(groups):
            groups = _strip(groups)
            if not groups:
                continue
        new_hooks[event] = groups
    new = dict(data)
    if new_hooks:
        new["hooks"] = new_hooks
    else:
        new.pop("hooks")
    backup = _write(path, new, existed)
    return InstallResult(scope, str(path), "removed", backup)


def status(*, home=None, project_dir=None, scopes: tuple[str, ...] = SCOPES) -> list[ScopeStatus]:
    """What memtui has installed in each scope's settings.json."""
    out = []
    for scope in scopes:
        path = settings_path(scope, home=home, project_dir=project_dir)
        try:
            data, existed = _load(path)
        except HooksError as exc:
            out.append(ScopeStatus(scope, str(path), True, {}, str(exc)))
            continue
        hooks = data.get("hooks") or {}
        commands = {e: _ours_in(hooks.get(e) or []) for e in hooks if isinstance(hooks.get(e), list)}
        out.append(ScopeStatus(scope, str(path), existed, {e: c for e, c in commands.items() if c}))
    return out


# --- running -----------------------------------------------------------------------------------


def _payload(stdin_json: str) -> dict:
    try:
        data = json.loads(stdin_json) if stdin_json and stdin_json.strip() else {}
    except json.JSONDecodeError as exc:
        raise HooksError(f"hook input is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise HooksError("hook input is not a JSON object")
    return data


def run_session_start(stdin_json: str, db_path, budget: int | None = HOOK_BUDGET) -> str:
    """The curated context for the session's project (`cwd` of the hook input), as Claude Code
    adds it to the session: claude-md within `budget` tokens. Empty when there is nothing."""
    data = _payload(stdin_json)
    path = Path(db_path).expanduser() if db_path else _default_db_path()
    if not path.is_file():
        return ""  # no database yet: nothing curated, and no need to create one
    from memtui.core.export import ExportOptions, render

    cwd = data.get("cwd") if isinstance(data.get("cwd"), str) and data.get("cwd") else os.getcwd()
    db = _ReadOnly.open(path)
    if db is None:  # not readable as it is (an older schema, no -shm file possible ...): open it for real
        from memtui.core.db import open_database

        db = open_database(path)
    try:
        result = render(db, ExportOptions("claude-md", project=cwd, budget=budget), with_entries=False)
    finally:
        db.close()
    return result.text if result.included else ""


def _default_db_path() -> Path:
    """= memtui.core.db.default_db_path(), without importing the database layer (peewee)."""
    env = os.environ.get("MEMTUI_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("memtui", appauthor=False)) / "memtui.db"


class _ReadOnly:
    """The store opened read-only with sqlite3 alone, for the SessionStart hook: peewee and the
    migrations cost more than the read. Offers the one method export.render uses (execute_sql)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: Path) -> _ReadOnly | None:
        """The connection, or None when the file cannot be read this way or its schema is not
        this memtui's (the caller then opens it through the database layer, which migrates)."""
        import sqlite3

        from memtui.core.constants import SCHEMA_VERSION

        conn = None
        try:
            # mode=ro: never creates the file nor writes to it (the WAL the writers use is read as
            # usual); timeout: like busy_timeout, waits for a writer's lock instead of failing
            conn = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True, timeout=10.0)
            conn.execute("PRAGMA query_only = 1")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row and row[0] == str(SCHEMA_VERSION):
                return cls(conn)
        except sqlite3.Error:
            pass
        if conn is not None:
            conn.close()
        return None

    def execute_sql(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


def session_end_paths(stdin_json: str) -> list[Path]:
    """What a SessionEnd hook imports: the transcript (`transcript_path`) and its subagents'
    folder. Raises HooksError when the input has no transcript, or it is not there."""
    data = _payload(stdin_json)
    transcript = data.get("transcript_path")
    if not isinstance(transcript, str) or not transcript:
        raise HooksError("hook input has no transcript_path")
    path = Path(transcript).expanduser()
    if not path.is_file():
        raise HooksError(f"transcript not found: {path}")
    paths = [path]
    subagents = path.with_suffix("") / "subagents"  # <session>/subagents/agent-*.jsonl: its subagents' sessions
    if subagents.is_dir():
        paths.append(subagents)
    return paths


def run_session_end(stdin_json: str, db_path) -> None:
    """Import the finished session's transcript (`transcript_path`, and its subagents' files) and
    propose memories from it with the heuristic extractor. Raises on failure (the caller logs it).
    Importing is incremental and idempotent: a resumed session that ends again adds only what is new."""
    paths = session_end_paths(stdin_json)
    from memtui.core.db import open_database
    from memtui.core.importers.pipeline import Importer

    db = open_database(db_path)
    try:
        warnings: list[str] = []
        report = Importer(db, format="claude-code", workers=0, on_warning=warnings.append).import_paths(paths)
        if report.errors or report.bad_paths:
            raise HooksError(f"import of {paths[0]} failed: {(report.errors or report.bad_paths)[0]}")
        if report.touched_sessions:
            from memtui.core import propose

            propose.propose_sessions(
                db, sorted(report.touched_sessions), propose.get_extractor("heuristic"), "heuristic"
            )
    finally:
        db.close()


# A SessionEnd hook imports in the foreground up to this many bytes of transcript (a second or so:
# the session ends with its memories already proposed); a larger one is imported by a process of
# its own, so closing a long session never waits for it.
DETACH_BYTES = 4 * 1024 * 1024


def should_detach(paths: list[Path]) -> bool:
    """Whether a SessionEnd hook hands the import of `paths` to a process of its own: when they
    are large and the system has POSIX sessions."""
    if os.name != "posix":
        return False
    size = 0
    for path in paths:
        try:
            if path.is_dir():
                size += sum(p.stat().st_size for p in path.glob("*.jsonl"))
            else:
                size += path.stat().st_size
        except OSError:
            continue
    return size > DETACH_BYTES


def detach_session_end(stdin_json: str, db_path) -> int:
    """Start `memtui hooks run session-end --wait` in a process of its own (a new session, no
    terminal, its output discarded) with the hook's input, and return its pid without waiting: the
    session ends at once however long the import takes. The child logs its own errors."""
    import subprocess

    argv = [sys.executable, "-m", "memtui"]
    if db_path:
        argv += ["--db", str(db_path)]
    argv += ["hooks", "run", "session-end", "--wait"]
    child = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True, cwd="/",
    )
    try:
        child.stdin.write(stdin_json.encode("utf-8", "surrogatepass"))
    finally:
        child.stdin.close()
    return child.pid


def log_path() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("memtui", appauthor=False)) / "hooks.log"


def log_error(event: str, message: str) -> None:
    """Append one line to the hooks log (never raises; the line is scrubbed of secrets)."""
    try:
        from memtui.core.redact import clean

        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
        line = " ".join(clean(message).split())
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {event}: {line}\n")
    except Exception:
        pass
