"""A structured reading of one session for the heuristic extractor.

The normalised messages are grouped into *turns* (a real user message and everything the assistant
did until the next one), and every tool call is paired with its result and classified into an
*action*: an edit (file, before/after text), a shell command (command, outcome, exit code), a plan
update (todo items with status), or something else. Tool names differ between assistants (Claude
Code, Codex, Gemini CLI, Cline, Aider, SpecStory renderings); the families below cover them.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import orjson

from memtui.core.records import MessageRecord

from .textutil import lower_ascii, normalize, one_line, strip_wrappers

# --- tool families ----------------------------------------------------------------------------

_EDIT_TOOLS = {
    "edit", "multiedit", "write", "notebookedit", "write_file", "replace", "edit_file", "apply_patch",
    "write_to_file", "replace_in_file", "create_file", "str_replace_editor", "str_replace_based_edit_tool",
    "search_replace", "insert_edit_into_file", "editfile", "writefile", "create", "str_replace",
    "multi_edit", "patch", "update_file", "delete_file", "applypatch",
}
_SHELL_TOOLS = {
    "bash", "shell", "shell_command", "exec_command", "run_shell_command", "execute_command", "local_shell_call",
    "run_terminal_cmd", "run_command", "terminal", "container.exec", "exec", "powershell", "cmd",
    "run_in_terminal", "command",
}
_PLAN_TOOLS = {"todowrite", "update_plan", "write_todos", "todo_write", "exitplanmode", "taskcreate", "taskupdate",
               "update_todo_list", "plan", "focus_chain"}
_AGENT_TOOLS = {"task", "agent", "use_subagents", "new_task", "dispatch_agent"}
_READ_TOOLS = {"read", "read_file", "grep", "glob", "ls", "list_directory", "search_file_content", "read_many_files",
               "view", "cat", "list_files", "search_files", "codebase_search", "file_search", "toolsearch",
               "bashoutput", "killshell", "webfetch", "websearch", "web_fetch", "google_web_search", "web_search"}

_PATH_KEYS = ("file_path", "path", "filePath", "target_file", "filename", "file", "notebook_path", "absolute_path")

_REJECTED = re.compile(
    r"(?:doesn't|does not|didn't) want to (?:proceed|take this action)|tool use was rejected|user (?:denied|rejected|declined)"
    r"|permission (?:denied by|was denied)|User refused|(?:was )?cancell?ed by (?:the )?user",
    re.I,
)
_REJECT_REASON = re.compile(r"reason for the rejection:\s*(.+)", re.I | re.S)
_TOOL_MISUSE = re.compile(
    r"<tool_use_error>|String to replace not found|File has not been read yet|old_string (?:not found|is not unique)"
    r"|Found \d+ matches of the string|verification failed|Failed to find expected lines|no changes were necessary"
    r"|is not running, so cannot be killed|InputValidationError|No such tool available|must read the file"
    r"|Failed to edit, could not find|could not find the string|Invalid tool parameters",
    re.I,
)
_EXIT = re.compile(
    r"(?:Exit code|exit_code|exited with code|Exit Code|exit status|returned non-zero exit status)[\"':\s]*(-?\d+)", re.I
)
# Failure lines in a command's output (Traceback, pytest's 'E   ...', 'FAILED', 'npm ERR!', 'error[E0425]:',
# 'file.ts:1:2: error', 'SomeError: ', 'panic: ' ...): the alternatives of one regex, each tried only
# when the literal text every match of it contains is there (any one matching = the regex matching).
# The ones anchored at a line start are searched for in "\n" + text with a newline for the '^' (re.M):
# re then jumps from newline to newline instead of trying every position, with the same yes/no answer.
_FAIL_PARTS = (
    # (literal texts, at a line start only?, the alternative: None when it is the literal itself)
    (("Traceback (most recent call last)",), False, None),
    (("E",), True, re.compile(r"\nE\s{2,}\S")),
    (("= ",), False, re.compile(r"=+ .*\b\d+ (?:failed|errors?)\b.*=+", re.M)),
    (("FAIL",), True, re.compile(r"\nFAILED\b|\nFAIL\b")),
    (("npm ERR!",), False, re.compile(r"\bnpm ERR!")),
    (("ERR_PNPM_",), False, None),
    ((": command not found",), False, None),
    (("error",), False, re.compile(r"\nerror(?:\[E\d+\])?:|\berror TS\d+")),
    ((": error",), False, re.compile(r"\n\S+\.\w+:\d+:\d+: error")),
    ((" failed",), False, re.compile(r"Tests?:\s+\d+ failed")),
    (("Error: ", "Exception: "), False, re.compile(r"\n(?:\w+\.)*\w*(?:Error|Exception): ")),
    (("panic: ",), True, re.compile(r"\npanic: ")),
    (("BUILD FAILED",), False, re.compile(r"\bBUILD FAILED\b")),
    (("make: ***",), True, re.compile(r"\nmake: \*\*\*")),
)


def _fail_text(text: str) -> bool:
    """Whether one of _FAIL_PARTS matches."""
    nl = "\n" + text  # (a match never holds that newline but as a line start)
    for needles, at_start, rx in _FAIL_PARTS:
        for n in needles:
            if (nl.find("\n" + n) >= 0) if at_start else n in text:
                if rx is None or rx.search(nl):
                    return True
                break
    return False


_ERROR_LINE = re.compile(
    r"(?:Error|Exception|error|failed|FAILED|FAIL|not found|cannot|Cannot|undefined|refused|denied|panic|fatal|"
    r"Traceback|assert)",
)


@dataclass
class Action:
    use: MessageRecord
    result: MessageRecord | None
    family: str  # edit, shell, plan, agent, read, other
    name: str
    # the call's arguments: parsed on first use (`args`) unless given (most calls' are never read)
    given_args: dict | None = None
    files: list[str] = field(default_factory=list)
    edits: list[tuple[str, str]] = field(default_factory=list)  # (old, new); writes have old == ""
    op: str = ""  # edit: create, modify, delete, write
    command: str = ""
    status: str = "unknown"  # ok, fail, rejected, misuse, unknown
    exit_code: int | None = None
    reason: str = ""  # rejection reason or the telling error line
    turn: int = 0
    file_guessed: bool = False  # files named by the words before the call, not by the call itself
    _todos: list[tuple[str, str]] | None = None

    @property
    def args(self) -> dict:
        if self.given_args is None:
            self.given_args = _loads(self.use.text or "")
        return self.given_args

    @property
    def todos(self) -> list[tuple[str, str]]:
        """plan: (item, status), read from the arguments on first use."""
        if self._todos is None:
            self._todos = []
            if self.family == "plan":
                _todos_of(self)
        return self._todos

    @property
    def ids(self) -> list[int]:
        return [self.use.id] + ([self.result.id] if self.result else [])

    @property
    def output(self) -> str:
        return self.result.text if self.result else ""


@dataclass
class Turn:
    index: int
    user: list[MessageRecord]  # the user messages that opened the turn (empty for a preamble)
    request: str  # what the user wrote, cleaned
    items: list = field(default_factory=list)  # MessageRecord (assistant text/thinking, system) or Action, in order
    rejected_before: list[Action] = field(default_factory=list)  # rejected actions right before this turn
    slash: bool = False  # opened by a slash command (/init ...), not by words
    memo: dict = field(default_factory=dict, repr=False)  # values the generators derive from the turn, kept

    # derived views, computed once the turn is complete (read() only asks for them at that point)
    @cached_property
    def actions(self) -> list[Action]:
        return [i for i in self.items if isinstance(i, Action)]

    @cached_property
    def texts(self) -> list[MessageRecord]:
        return [i for i in self.items if isinstance(i, MessageRecord) and i.role == "assistant" and i.kind == "text"]

    @cached_property
    def thinking(self) -> list[MessageRecord]:
        return [i for i in self.items if isinstance(i, MessageRecord) and i.kind == "thinking"]

    @cached_property
    def edits(self) -> list[Action]:
        return [a for a in self.actions if a.family == "edit" and a.status not in ("rejected", "misuse", "fail")]

    @property
    def user_ids(self) -> list[int]:
        return [m.id for m in self.user]


_COMMIT_LINE = re.compile(r"^(?:>\s*)?Commit ([0-9a-f]{7,40}) (.+)$", re.M)


@dataclass
class Transcript:
    session_tool: str
    messages: list[MessageRecord]
    turns: list[Turn]
    actions: list[Action]
    readable: int
    project: str  # a short name for the project (last path part of the root / cwd)
    system: list[MessageRecord]
    commits: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # message id -> (hash, subject)
    memo: dict = field(default_factory=dict, repr=False)  # values the generators derive from the session, kept

    def by_id(self) -> dict[int, MessageRecord]:
        return {m.id: m for m in self.messages}


# --- user text ----------------------------------------------------------------------------------

_SLASH = re.compile(r"^/[\w:-]+(?:\s+\S.*)?$", re.S)
_CODEX_IDE = re.compile(r"## My request for Codex:\s*(.*)", re.S)
_BASH_INPUT = re.compile(r"<bash-input>(.*?)</bash-input>", re.S)
_INJECTED_PREFIX = (
    "<environment_context", "<user_instructions", "# AGENTS.md", "<permissions", "<INSTRUCTIONS>", "Caveat:",
    "This session is being continued", "<user-prompt-submit-hook>", "[Request interrupted", "<local-command",
    "<bash-stdout", "<bash-stderr", "<task-notification", "<system-reminder",
)


def clean_user_text(text: str) -> str:
    m = _CODEX_IDE.search(text)
    if m:
        text = m.group(1)
    text = normalize(strip_wrappers(text))
    text = re.sub(r"\[(?:Image|image)[^\]]{0,40}\]", " ", text)
    text = text.replace("\\\n", "\n")
    return text.strip()


def is_slash_command(m: MessageRecord) -> bool:
    if m.role != "user" or m.kind != "text":
        return False
    t = m.text.strip()
    return bool(_SLASH.match(t)) and len(t) < 200 and "\n" not in t


def is_real_user(m: MessageRecord) -> bool:
    return bool(_real_user_text(m))


def _real_user_text(m: MessageRecord) -> str:
    """What the person typed, cleaned; '' when the message is not words typed by the user."""
    if m.role != "user" or m.kind != "text":
        return ""
    t = m.text.lstrip()
    if not t or t.startswith(_INJECTED_PREFIX) or t.startswith("[image ") or t.startswith("[document"):
        return ""
    if "<bash-input>" in t:
        return ""
    cleaned = clean_user_text(t)
    if not cleaned:
        return ""
    if _SLASH.match(cleaned) and len(cleaned) < 200 and "\n" not in cleaned:
        return ""
    return cleaned


# --- actions -------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _family(name: str) -> str:
    n = name.lower()
    n = n.split("__")[-1] if n.startswith("mcp__") else n
    if n in _EDIT_TOOLS:
        return "edit"
    if n in _SHELL_TOOLS:
        return "shell"
    if n in _PLAN_TOOLS:
        return "plan"
    if n in _AGENT_TOOLS:
        return "agent"
    if n in _READ_TOOLS:
        return "read"
    return "other"


def _has_float(v) -> bool:
    if type(v) is dict:
        for x in v.values():
            if type(x) is float or ((type(x) is dict or type(x) is list) and _has_float(x)):
                return True
        return False
    if type(v) is list:
        for x in v:
            if type(x) is float or ((type(x) is dict or type(x) is list) and _has_float(x)):
                return True
        return False
    return type(v) is float


def _loads(text: str) -> dict:
    t = text.strip()
    if t.startswith("{"):
        # orjson is much faster; it reads integers beyond 64 bits as floats (json keeps them exact), so
        # a value holding any float is read again by json, as is whatever orjson refuses (NaN, lone surrogates)
        try:
            v = orjson.loads(t)
            if _has_float(v):
                raise ValueError
        except ValueError:
            try:
                v = json.loads(t)
            except ValueError:
                return {"raw": text}
        return v if isinstance(v, dict) else {"value": v}
    return {"raw": text}


def _path_of(args: dict) -> str:
    for key in _PATH_KEYS:
        v = args.get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


_PATCH_FILE = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$", re.M)
# SpecStory renders a Codex apply_patch as '**Add: `path`**' followed by a ```diff block
_MD_PATCH_FILE = re.compile(r"^\*\*(Add|Update|Delete|Edit|Modify|Create|Write)\w*:?\s*`([^`\n]+)`\*\*", re.M)
# SpecStory renders a Cursor edit as 'Edit file: <path>' followed by the change as diff chunks
_TEXT_EDIT_FILE = re.compile(r"(Edit|Create|Write|Delete|Update) file:[ \t]*([^\n]*?\S)[ \t]*(?:\n|$)")
_UDIFF_FILE = re.compile(r"^\+\+\+ (?:b/)?(\S+)", re.M)


def _diff_sides(lines: list[str]) -> tuple[str, str]:
    """(removed, added) text of a diff's lines (its ---/+++ file lines left out)."""
    return (
        "\n".join(ln[1:] for ln in lines if ln.startswith("-") and not ln.startswith("---")),
        "\n".join(ln[1:] for ln in lines if ln.startswith("+") and not ln.startswith("+++")),
    )


def _parse_patch(text: str, action: Action) -> None:
    """Codex apply_patch ('*** Begin Patch') or a unified diff: files, ops and (removed, added) text."""
    parts = list(_PATCH_FILE.finditer(text))
    if parts:
        ops = []
        for i, m in enumerate(parts):
            body = text[m.end(): parts[i + 1].start() if i + 1 < len(parts) else len(text)]
            removed = "\n".join(ln[1:] for ln in body.split("\n") if ln.startswith("-"))
            added = "\n".join(ln[1:] for ln in body.split("\n") if ln.startswith("+"))
            path = m.group(2).strip()
            action.files.append(path)
            action.edits.append((removed, added))
            ops.append({"Add": "create", "Update": "modify", "Delete": "delete"}[m.group(1)])
        action.op = ops[0] if len(set(ops)) == 1 else "modify"
        return
    md = list(_MD_PATCH_FILE.finditer(text))
    if md:
        ops = []
        for i, m in enumerate(md):
            body = text[m.end(): md[i + 1].start() if i + 1 < len(md) else len(text)]
            action.files.append(m.group(2).strip())
            action.edits.append(_diff_sides(body.split("\n")))
            ops.append({"add": "create", "create": "create", "write": "write", "delete": "delete"}.get(m.group(1).lower(), "modify"))
        action.op = ops[0] if len(set(ops)) == 1 else "modify"
        return
    files = _UDIFF_FILE.findall(text)
    if files:
        action.files.extend(files)
        removed = "\n".join(ln[1:] for ln in text.split("\n") if ln.startswith("-") and not ln.startswith("---"))
        added = "\n".join(ln[1:] for ln in text.split("\n") if ln.startswith("+") and not ln.startswith("+++"))
        action.edits.append((removed, added))
        action.op = "modify"


def _parse_edit(action: Action) -> None:
    args = action.args
    raw = args.get("raw") or args.get("input") or args.get("patch") or ""
    if isinstance(raw, str) and ("*** Begin Patch" in raw or "\n+++ " in raw or raw.startswith("--- ") or _MD_PATCH_FILE.search(raw)):
        _parse_patch(raw, action)
        return
    m = _TEXT_EDIT_FILE.match(raw) if isinstance(raw, str) else None
    if m:
        action.files.append(m.group(2))
        action.edits.append(_diff_sides(raw.split("\n")[1:]))
        action.op = {"create": "create", "write": "write", "delete": "delete"}.get(m.group(1).lower(), "modify")
        return
    path = _path_of(args)
    name = action.name.lower()
    if path:
        action.files.append(path)
    if isinstance(args.get("edits"), list):  # MultiEdit
        for e in args["edits"]:
            if isinstance(e, dict):
                action.edits.append((str(e.get("old_string") or e.get("old_str") or ""), str(e.get("new_string") or e.get("new_str") or "")))
        action.op = "modify"
    elif "old_string" in args or "new_string" in args or "old_str" in args or "new_str" in args:
        action.edits.append((str(args.get("old_string") or args.get("old_str") or ""), str(args.get("new_string") or args.get("new_str") or "")))
        action.op = "modify"
    elif "diff" in args and isinstance(args["diff"], str):
        removed = "\n".join(ln[1:] for ln in args["diff"].split("\n") if ln.startswith("-"))
        added = "\n".join(ln[1:] for ln in args["diff"].split("\n") if ln.startswith("+"))
        action.edits.append((removed, added))
        action.op = "modify"
    elif "content" in args or "contents" in args or "file_text" in args or "text" in args:
        content = args.get("content") or args.get("contents") or args.get("file_text") or args.get("text") or ""
        action.edits.append(("", str(content)))
        action.op = "write"
    if "delete" in name:
        action.op = "delete"
    if not action.op:
        action.op = "modify"


def _command_of(args: dict) -> str:
    cmd = args.get("command", args.get("cmd", args.get("raw", "")))
    if isinstance(cmd, list):
        parts = [str(c) for c in cmd]
        if len(parts) >= 3 and parts[0] in ("bash", "zsh", "sh", "/bin/bash", "/bin/zsh", "/bin/sh", "pwsh", "powershell") \
                and parts[1] in ("-lc", "-c", "-l", "-Command"):
            return parts[-1]
        return " ".join(parts)
    if isinstance(cmd, dict):
        cmd = cmd.get("command", "")
    return str(cmd or "")


def _todos_of(action: Action) -> None:
    args = action.args
    items = args.get("todos") or args.get("plan") or args.get("items") or args.get("tasks")
    if isinstance(items, list):
        for it in items:
            if isinstance(it, dict):
                text = it.get("content") or it.get("step") or it.get("description") or it.get("text") or it.get("title") or ""
                status = str(it.get("status") or "pending").lower()
                if text:
                    action._todos.append((one_line(str(text)), status))
            elif isinstance(it, str):
                action._todos.append((one_line(it), "pending"))


# words one of which every match of the regex behind holds, looked for in lower_ascii(text) (so: ASCII, no '?')
_REJECT_HINTS = ("want to proceed", "want to take this action", "was rejected", "user denied", "user rejected",
                 "user declined", "denied by", "was denied", "user refused", "cancelled by", "canceled by")
_MISUSE_HINTS = ("tool_use_error", "not found", "not been read", "old_string", "matches of", "verification", "failed to",
                 "no changes", "cannot be killed", "validation", "no such tool", "must read", "could not find", "invalid tool")
_FAIL_HINTS = ("traceback", " failed", "failed ", "fail:", "\nfail", "npm err", "err_pnpm", "command not found", "error:",
               "error[", "error ts", "error: ", "exception: ", "panic:", "build failed", "make: ***", "\ne  ")


def _grouped(hints: tuple[str, ...], keys: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The hints under the first key each holds (a hint that holds none is its own key): a text without
    a key holds none of its hints, so most texts are looked through once per key, not once per hint."""
    groups: dict[str, list[str]] = {}
    for h in hints:
        groups.setdefault(next((k for k in keys if k in h), h), []).append(h)
    return tuple((k, tuple(g)) for k, g in groups.items())


_REJECT_GROUPS = _grouped(_REJECT_HINTS, ("want to ", "rejected", "denied", "cancel", "user "))
_MISUSE_GROUPS = _grouped(_MISUSE_HINTS, ("not ", "tool", "ation"))
_FAIL_GROUPS = _grouped(_FAIL_HINTS, ("fail", "err"))


def _has_any(text: str, groups) -> bool:
    """Whether `text` holds one of the hints of `groups` (see _grouped)."""
    for key, hints in groups:
        if key in text and (len(hints) == 1 or any(map(text.__contains__, hints))):
            return True
    return False


def _has_exit(text: str) -> bool:
    low = lower_ascii(text)
    return "exit code" in low or "exit_code" in low or "exited with" in low or "exit status" in low


def _classify_result(action: Action) -> None:
    """ok / fail / rejected / misuse, reading only the head and tail of the output (outputs are big).
    Cheap substring checks gate every regex: this runs on every tool output of every import."""
    res = action.result
    if res is None:
        return
    text = res.text or ""
    head = text[:1500]
    # (the hints are ASCII words without '?': lower_ascii finds them where str.lower() would)
    low = lower_ascii(head)
    if _has_any(low, _REJECT_GROUPS) and _REJECTED.search(head):
        action.status = "rejected"
        m = _REJECT_REASON.search(head)
        if m:
            action.reason = one_line(m.group(1)[:400])[:300]
        return
    low600 = low[:600]
    if _has_any(low600, _MISUSE_GROUPS) and _TOOL_MISUSE.search(head[:600]):
        action.status = "misuse"
        return
    code = None
    if action.family == "shell" or res.is_error:
        first, last = text[:800], text[-800:] if len(text) > 800 else ""
        m = _EXIT.search(first) if _has_exit(first) else None
        if m is None and last and _has_exit(last):
            m = _EXIT.search(last)
        code = int(m.group(1)) if m else None
    action.exit_code = code
    failed = bool(res.is_error) or (code is not None and code != 0)
    if action.family == "shell" and not failed and code is None:
        tail = text[-3000:]
        tl = lower_ascii(tail)
        if _has_any(tl, _FAIL_GROUPS) and _fail_text(tail):
            failed = True
    action.status = "fail" if failed else "ok"
    if failed:
        action.reason = error_line(text)


_EXC_LINE = re.compile(r"(?:Error|Exception|Failure)\b:?\s|\berror(?:\[\w+\])?:|\berror TS\d+|^E\s+\S|panic:|fatal:|ERR!", re.M)
_SUMMARY_LINE = re.compile(r"^=+ .*=+$|^(?:FAILED|PASSED|ERROR) \S+::|\b\d+ (?:failed|passed|errors?)\b")
_BORING = ("Exit code", "Wall time", "Chunk ID", "Process exited")
_EXC_HINTS = ("error", "exception", "failure", "e ", "panic:", "fatal:", "err!")
_ERROR_HINTS = ("error", "exception", "fail", "not found", "cannot", "undefined", "refused", "denied", "panic", "fatal",
                "traceback", "assert")


def _may_name_exception(ln: str) -> bool:
    """False when _EXC_LINE cannot match the line (one line: no newline in it): none of the
    literal parts of its alternatives is there."""
    return ("rror" in ln or "Exception" in ln or "Failure" in ln or ln.startswith("E") or "panic:" in ln
            or "fatal:" in ln or "ERR!" in ln)


def error_line(text: str) -> str:
    """The line of a failing output that best names the error: the last exception / 'error:' line,
    else the last line that mentions a failure, else the last line."""
    lines = [ln.strip() for ln in text[-4000:].split("\n") if ln.strip()][-60:]
    lows = [ln.lower() for ln in lines]
    for ln, low in zip(reversed(lines), reversed(lows)):
        if any(h in low for h in _EXC_HINTS) and _may_name_exception(ln) and _EXC_LINE.search(ln) \
                and not _SUMMARY_LINE.search(ln) and not ln.startswith(_BORING):
            return one_line(ln)[:160]
    for ln, low in zip(reversed(lines), reversed(lows)):
        if len(ln) > 6 and any(h in low for h in _ERROR_HINTS) and not ln.startswith(_BORING):
            return one_line(ln)[:160]
    return one_line(lines[-1])[:160] if lines else ""


# a file name in an assistant's words: `session.test.ts`, src/app.py (not `config.debug`, `foo.bar()`)
_NAMED_FILE = re.compile(
    r"(?<![\w/.-])(`?)((?:[\w.-]+/)*[\w-][\w.-]*\.(?:py|pyi|ipynb|js|mjs|cjs|jsx|ts|mts|tsx|vue|svelte|astro|html?|css"
    r"|scss|sass|less|json|jsonc|ya?ml|toml|ini|cfg|conf|env|md|mdx|mdc|rst|txt|csv|xml|sql|sh|bash|zsh|ps1|go|rs|rb"
    r"|java|kt|kts|gradle|swift|c|h|cc|cpp|hpp|cs|php|dart|lua|ex|exs|scala|hs|tf|proto|graphql|gql|lock))`?(?![\w/(-]|\.\w)"
)
# capitalised names of libraries, not files: "Node.js", "Next.js"
_NOT_FILE = re.compile(r"[A-Z][a-z]*\.js\Z")


def _file_from_lead_in(act: Action, items: list) -> None:
    """An edit that names no file (Cursor's diff blocks in a SpecStory export): the file that the
    assistant's words just before it name last ("First, I'll update the `session.test.ts` file:"),
    a name in backticks first; the edits in between that named no file are to that file too."""
    for item in reversed(items):
        if isinstance(item, Action):
            if item.family != "edit" or (item.files and not item.file_guessed):
                return  # another call, or an edit that names its own file, came in between
            if item.files:  # the edit before this one took its file from the same words
                act.files.append(item.files[0])
                act.file_guessed = True
                return
            continue
        if item.role == "assistant" and item.kind == "text":
            found = [(tick, n) for tick, n in _NAMED_FILE.findall((item.text or "")[-400:])
                     if not n[0].isdigit() and ".." not in n and (tick or not _NOT_FILE.match(n))]
            if found:
                ticked = [n for tick, n in found if tick]
                act.files.append((ticked or [n for _, n in found])[-1])
                act.file_guessed = True
            return


def _make_action(use: MessageRecord) -> Action:
    name = use.tool_name or "tool"
    fam = _family(name)
    args = None  # read, agent, other and plan calls: parsed if ever asked for (Action.args)
    if fam in ("shell", "other") and "*** Begin Patch" in (use.text or ""):
        args = _loads(use.text or "")
        raw = args.get("raw") if isinstance(args.get("raw"), str) else ""
        fam = "edit"
        if raw == "" and isinstance(args.get("command"), list):
            args = {"raw": "\n".join(str(c) for c in args["command"])}
    elif fam == "edit" or fam == "shell":
        args = _loads(use.text or "")
    act = Action(use=use, result=None, family=fam, name=name, given_args=args)
    if fam == "edit":
        _parse_edit(act)
    elif fam == "shell":
        act.command = _command_of(args)
    return act


# --- turns -----------------------------------------------------------------------------------------


def read(session, messages: list[MessageRecord]) -> Transcript:
    actions: list[Action] = []
    turns: list[Turn] = []
    system: list[MessageRecord] = []
    # calls still waiting for their result, in order and by tool name (a call leaves both when it
    # gets its result: the first waiting one of the result's tool name, or the first of all when the
    # result names no tool; one that has its result is skipped wherever it is still listed)
    pending: deque[Action] = deque()
    pending_by_name: dict[str, deque[Action]] = {}
    current = Turn(index=0, user=[], request="")
    readable = 0
    last_user_pos = -10

    for pos, m in enumerate(messages):
        readable += len(m.text or "")
        if m.kind == "tool_use":
            act = _make_action(m)
            act.turn = current.index
            if act.family == "edit" and not act.files:
                _file_from_lead_in(act, current.items)
            actions.append(act)
            pending.append(act)
            waiting = pending_by_name.get(act.name)
            if waiting is None:
                waiting = pending_by_name[act.name] = deque()
            waiting.append(act)
            current.items.append(act)
            continue
        if m.kind == "tool_result":
            match = None
            waiting = pending_by_name.get(m.tool_name) if m.tool_name else pending
            while waiting:
                cand = waiting.popleft()
                if cand.result is None:
                    match = cand
                    break
            if match is not None:
                match.result = m
                _classify_result(match)
            continue
        if m.role == "user" and "<bash-input>" in (m.text or ""):
            # a command the user ran themselves (Claude Code's ! prefix)
            cmd = _BASH_INPUT.search(m.text)
            if cmd:
                act = Action(use=m, result=None, family="shell", name="user-shell", given_args={}, command=cmd.group(1).strip())
                act.status = "ok"
                act.turn = current.index
                actions.append(act)
                current.items.append(act)
            continue
        words = _real_user_text(m) if m.role == "user" else ""
        if words:
            if current.slash:
                last_user_pos = -10  # words after a slash command open their own turn
            if current.user and last_user_pos == pos - 1 and not current.items:
                current.user.append(m)
                current.request = (current.request + "\n" + words).strip()
            elif current.user and all(isinstance(i, MessageRecord) and i.role != "assistant" for i in current.items) and last_user_pos >= pos - 3:
                current.user.append(m)
                current.request = (current.request + "\n" + words).strip()
            else:
                rejected = [a for a in current.actions[-6:] if a.status == "rejected"]
                if current.user or current.items:
                    turns.append(current)
                current = Turn(index=len(turns), user=[m], request=words, rejected_before=rejected)
            last_user_pos = pos
            continue
        if is_slash_command(m) and not (current.user and not current.items):
            # a slash command (/init, /review ...) opens a turn of its own: what follows answers it
            rejected = [a for a in current.actions[-6:] if a.status == "rejected"]
            if current.user or current.items:
                turns.append(current)
            current = Turn(index=len(turns), user=[m], request=m.text.strip(), rejected_before=rejected)
            current.slash = True
            last_user_pos = pos
            continue
        if m.role == "user" and m.kind == "text" and m.text.lstrip().startswith("[image"):
            last_user_pos = pos
            continue
        if m.role == "system":
            system.append(m)
        current.items.append(m)
    if current.user or current.items:
        turns.append(current)
    for t in turns:
        for a in t.actions:
            a.turn = t.index

    commits: dict[int, list[tuple[str, str]]] = {}
    for m in messages:
        if m.role in ("system", "tool") and m.text and m.text.find("Commit ", 0, 3000) >= 0:
            found = _COMMIT_LINE.findall(m.text[:3000])
            if found:
                commits[m.id] = found
    root = ((session.project_root or session.cwd) if session is not None else None) or ""
    project = re.split(r"[\\/]", root.rstrip("/\\"))[-1] if root else ""
    return Transcript(
        session_tool=getattr(session, "tool", "") or "",
        messages=messages,
        turns=turns,
        actions=actions,
        readable=readable,
        project=project,
        system=system,
        commits=commits,
    )
