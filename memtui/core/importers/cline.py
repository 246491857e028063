"""Cline / Roo Code task folders: `…/globalStorage/<extension>/tasks/<taskId>/`.

A task folder holds `api_conversation_history.json` (the Anthropic-shaped messages sent to the
model, plus `ts` in newer versions), `ui_messages.json` (what the webview showed) and
`task_metadata.json` (files in context, models used, environment). One folder is one session,
keyed by the taskId folder name; tool "roo" for Roo Code (`rooveterinaryinc.roo-cline` in the
path), else "cline".

Choices made here:
  * The API history is the source of messages when it exists; ui_messages.json then only lends
    timestamps (when the API messages carry no `ts`) and the model. Without an API history the
    UI messages are imported instead (say/ask events; of several events sharing a `ts`, a
    streaming `partial` one gives way to the finished one).
  * Message ids are `a<ts>#<block>` when the API message has a `ts` (unique in the file), else
    `i<index>#<block>`; UI events are `u<ts>` — stable when the file is rewritten with more
    messages at the end.
  * User text: `<environment_details>` is dropped (the cwd is read from it first), `<task>`,
    `<feedback>`, `<answer>` and `<user_message>` are the user's words; files attached by the user
    and `[TASK RESUMPTION]` notices are system text; the "task_progress" reminder is dropped.
    `[tool for 'x'] Result:` texts are tool results (the older XML tool mode) — a `<feedback>`
    inside one is split off as a user message.
  * Assistant text: `<thinking>` becomes kind thinking; XML tool calls (`<read_file><path>…`) become
    tool_use messages with the parameters as JSON. The conversational tools (attempt_completion,
    plan_mode_respond, ask_followup_question) are what the assistant said: assistant text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import orjson

from memtui.core.importers.base import (
    Item,
    ParseContext,
    ParsedMessage,
    ParseError,
    Parser,
    SessionInfo,
    image_placeholder,
    json_text,
    parse_ts,
    read_json_file,
)

API_NAME = "api_conversation_history.json"
UI_NAME = "ui_messages.json"
META_NAME = "task_metadata.json"
ROO_MARK = "rooveterinaryinc.roo-cline"

_ENV = re.compile(r"<environment_details>.*?(?:</environment_details>|\Z)", re.S)
_CWD = re.compile(r"Current (?:Working|Workspace) Directory \(([^)\n]+)\)")
_WRAPPED = re.compile(r"<(task|feedback|answer|user_message)>\s*(.*?)\s*</\1>", re.S)
# (the argument may hold brackets itself: `[execute_command for 'tr '[:upper:]' '[:lower:]''] Result:`)
_TOOL_RESULT = re.compile(r"^\[([\w\-]+)(?: for (.*?))?\] Result:\s*", re.S)
_PARAM = re.compile(r"<([a-z_][\w\-]*)>(.*?)</\1>", re.S)
_ERROR = re.compile(
    r"The tool execution failed|<error>|\[ERROR\]|^Error[: ]|exited with code [1-9]|Exit code: [1-9]", re.M
)
# Cline's reminders to the model about its task list: `# task_progress ...` headings, and the older
# `# TODO LIST UPDATE REQUIRED`, `# TODO LIST RECOMMENDED`, `# Todo List (Optional - Plan Mode)`, ...,
# which all name the task_progress parameter (a user's own "# TODO list" does not)
_TASK_PROGRESS = re.compile(r"^\s*#\s*(?:task_progress\b|(?i:todo list)\b(?=.*?task_progress))", re.S)
# Cline's note to the model after a file was written, below the file's final content
_FINAL_CONTENT_NOTE = re.compile(
    r"\s*IMPORTANT: For any future changes to this file, use the final_file_content shown above as your reference\b[^\n]*"
)

# Tool tags of Cline's and Roo's XML tool mode (the tags the system prompt teaches).
XML_TOOLS = {
    "read_file", "write_to_file", "replace_in_file", "apply_diff", "insert_content", "search_and_replace",
    "execute_command", "search_files", "list_files", "list_code_definition_names", "codebase_search",
    "browser_action", "use_mcp_tool", "access_mcp_resource", "ask_followup_question", "attempt_completion",
    "plan_mode_respond", "new_task", "switch_mode", "fetch_instructions", "load_mcp_documentation",
    "web_fetch", "condense", "summarize_task", "new_rule", "report_bug", "update_todo_list", "act_mode_respond",
}
# Tools whose input is the assistant talking to the user: (tool, parameter holding the words).
TALK_TOOLS = {
    "attempt_completion": "result",
    "plan_mode_respond": "response",
    "act_mode_respond": "response",
    "ask_followup_question": "question",
}
_ASSISTANT_SPLIT = re.compile(
    r"<thinking>\s*(?P<thought>.*?)\s*(?:</thinking>|\Z)"
    r"|<(?P<tool>" + "|".join(sorted(XML_TOOLS)) + r")>(?P<inner>.*?)(?:</(?P=tool)>|\Z)",
    re.S,
)


class ClineParser(Parser):
    name = "cline"
    tool = "cline"
    incremental = False

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        if path.name not in (API_NAME, UI_NAME):
            return False
        body = head.lstrip()
        if not body.startswith(b"["):
            return False
        if path.name == API_NAME:
            return True
        return b'"ts"' in body or body.rstrip() == b"[]"

    def parse(self, ctx: ParseContext) -> Iterator[Item]:
        folder = ctx.path.parent
        key = folder.name
        tool = "roo" if ROO_MARK in str(ctx.path).lower() else "cline"
        api_path = folder / API_NAME
        ui_path = folder / UI_NAME
        if ctx.path.name == UI_NAME and api_path.is_file():
            api = _load(ctx, api_path)  # the task's API history beside it is the better source
        elif ctx.path.name == API_NAME:
            api = read_json_file(ctx)
        else:
            api = None
        if api is not None and not isinstance(api, list):
            raise ParseError("not a Cline/Roo API history (expected a JSON array)")
        ui = None
        if ctx.path.name == UI_NAME and api is None:
            ui = read_json_file(ctx)
            if not isinstance(ui, list):
                raise ParseError("not Cline/Roo UI messages (expected a JSON array)")
        elif ui_path.is_file():
            ui = _load(ctx, ui_path, quiet=True)
            if not isinstance(ui, list):
                ui = None
        meta = _load(ctx, folder / META_NAME, quiet=True)
        meta = meta if isinstance(meta, dict) else {}

        ui_events = _ui_events(ui or [], ctx)
        if api is not None:
            conv = _ApiConversation(key, ctx, ui_events)
            messages = conv.messages(api)
            cwd, model = conv.cwd, conv.model
        else:
            conv_ui = _UiConversation(key, ctx)
            messages = conv_ui.messages(ui_events)
            cwd, model = conv_ui.cwd, None
        model = model or _ui_model(ui_events) or _meta_model(meta)
        cwd = cwd or _meta_cwd(meta)
        if not messages:
            ctx.warn("no conversation in this task folder")
            return
        stamps = [m.timestamp for m in messages if m.timestamp]
        stamps += [t for t in (parse_ts(e.get("ts")) for e in ui_events) if t]
        started = _task_time(key) or (min(stamps) if stamps else None)
        yield SessionInfo(
            key=key,
            tool=tool,
            cwd=cwd,
            model=model,
            started_at=started,
            ended_at=max(stamps) if stamps else None,
        )
        yield from messages


def _load(ctx: ParseContext, path: Path, quiet: bool = False) -> object | None:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        if not quiet or path.exists():
            ctx.warn(f"{path.name} beside it is unreadable ({type(exc).__name__}); ignored")
        return None


def _task_time(key: str) -> float | None:
    return parse_ts(int(key)) if re.fullmatch(r"\d{12,14}", key) else None


def _meta_model(meta: dict) -> str | None:
    usage = meta.get("model_usage")
    if isinstance(usage, list):
        for entry in reversed(usage):
            if isinstance(entry, dict) and entry.get("model_id"):
                return str(entry["model_id"])
    return None


def _meta_cwd(meta: dict) -> str | None:
    for name in ("cwd", "workspace", "workspaceRoot", "cwdOnTaskInitialization"):
        if isinstance(meta.get(name), str) and meta[name].strip():
            return meta[name].strip()
    return None


def _ui_model(events: list[dict]) -> str | None:
    for event in reversed(events):
        info = event.get("modelInfo")
        if isinstance(info, dict) and info.get("modelId"):
            return str(info["modelId"])
    return None


def _ui_events(ui: list, ctx: ParseContext) -> list[dict]:
    """UI events in file order; of events sharing a ts, the last finished one (or the last)."""
    by_ts: dict[object, int] = {}
    out: list[dict] = []
    for n, event in enumerate(ui):
        if not isinstance(event, dict):
            ctx.warn(f"ui_messages.json entry {n} is not an object; skipped")
            continue
        ts = event.get("ts")
        if not isinstance(ts, (int, float, str)) or isinstance(ts, bool):
            ts = None
        if ts is not None and ts in by_ts:
            i = by_ts[ts]
            if event.get("partial") and not out[i].get("partial"):
                continue
            out[i] = event
            continue
        if ts is not None:
            by_ts[ts] = len(out)
        out.append(event)
    return out


def _decode(text: object) -> object:
    """The JSON inside a UI event's text, or the text itself."""
    if isinstance(text, str) and text.lstrip().startswith(("{", "[")):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    return text


# --- the API history --------------------------------------------------------------------------


class _ApiConversation:
    def __init__(self, key: str, ctx: ParseContext, ui_events: list[dict]) -> None:
        self.key = key
        self.ctx = ctx
        self.cwd: str | None = None
        self.model: str | None = None
        self.tool_names: dict[str, str] = {}
        self.out: list[ParsedMessage] = []
        self.requests = [e["ts"] for e in ui_events if e.get("say") == "api_req_started" and e.get("ts")]
        self.replies = self._reply_times(ui_events)

    @staticmethod
    def _reply_times(events: list[dict]) -> list[float | None]:
        """For each API request in the UI log, the ts of the first event that answered it."""
        out: list[float | None] = []
        waiting = False
        for e in events:
            if e.get("say") == "api_req_started":
                if waiting:
                    out.append(None)
                waiting = True
            elif waiting and e.get("ts") and e.get("say") not in ("api_req_retried", "error_retry"):
                out.append(e["ts"])
                waiting = False
        if waiting:
            out.append(None)
        return out

    def messages(self, api: list) -> list[ParsedMessage]:
        seen_ts: set = set()
        users = assistants = 0
        for index, msg in enumerate(api):
            if not isinstance(msg, dict):
                self.ctx.warn(f"API history entry {index} is not an object; skipped")
                continue
            role = msg.get("role")
            ts_raw = msg.get("ts")
            if not isinstance(ts_raw, (int, float, str)) or isinstance(ts_raw, bool):
                ts_raw = None
            if ts_raw is not None and ts_raw not in seen_ts:
                seen_ts.add(ts_raw)
                base = f"a{ts_raw}"
            else:
                base = f"i{index}"
            ts = parse_ts(ts_raw)
            if role == "user":
                if ts is None and users < len(self.requests):
                    ts = parse_ts(self.requests[users])
                users += 1
            elif role == "assistant":
                if ts is None and assistants < len(self.replies):
                    ts = parse_ts(self.replies[assistants] or self.requests[assistants])
                assistants += 1
                info = msg.get("modelInfo")
                if isinstance(info, dict) and info.get("modelId"):
                    self.model = str(info["modelId"])
            else:
                self.ctx.warn(f"API history entry {index} has role {role!r}; skipped")
                continue
            content = msg.get("content")
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            if not isinstance(content, list):
                self.ctx.warn(f"API history entry {index} has no content list; skipped")
                continue
            parts: list[tuple] = []
            try:
                if role == "user":
                    parts = self._user_message([b for b in content if isinstance(b, dict)])
                else:
                    for block in content:
                        if isinstance(block, dict):
                            parts.extend(self._assistant_block(block))
            except (TypeError, ValueError, AttributeError) as exc:
                self.ctx.warn(f"API history entry {index} skipped ({type(exc).__name__}: {exc})")
                continue
            for n, (prole, kind, text, tool_name, is_error) in enumerate(parts):
                ext = base if n == 0 else f"{base}#{n}"
                self.out.append(ParsedMessage(self.key, prole, kind, text, ext, tool_name=tool_name, timestamp=ts, is_error=is_error))
        return self.out

    # user side

    def _user_message(self, blocks: list[dict]) -> list[tuple]:
        """A user message's blocks. In the text tool mode a result is a `[tool] Result:` block
        followed by the blocks holding the output, up to the next result or the environment."""
        parts: list[tuple] = []
        pending: list | None = None  # [name, [texts], is_error, [the user's words in it]]

        def flush() -> None:
            nonlocal pending
            if pending is not None:
                result = "\n".join(t for t in pending[1] if t).strip()
                if "final_file_content>" in result:
                    result = _FINAL_CONTENT_NOTE.sub("", result).strip()
                is_error = pending[2] or bool(_ERROR.search(result[:2000]))
                if result or not pending[3]:
                    parts.append(("tool", "tool_result", result, pending[0], is_error))
                parts.extend(("user", "text", w, None, False) for w in pending[3])
            pending = None

        for block in blocks:
            btype = block.get("type")
            if btype == "text":
                text = block.get("text") or ""
                if self.cwd is None:
                    m = _CWD.search(text)
                    if m:
                        self.cwd = m.group(1).strip()
                stripped = _ENV.sub("", text).strip()
                if not stripped:
                    continue  # environment details only
                m = _TOOL_RESULT.match(stripped)
                if m:
                    flush()
                    result, said = _split_user_words(stripped)
                    pending = [m.group(1), [result], False, said]
                    continue
                if pending is not None and not stripped.startswith(("<task>", "[TASK RESUMPTION]")) and not _TASK_PROGRESS.match(stripped):
                    result, said = _split_user_words(stripped)
                    pending[1].append(result)
                    pending[3].extend(said)
                    continue
                flush()
                parts.extend(self._user_text(stripped))
            elif btype == "tool_result":
                flush()
                name = self.tool_names.get(str(block.get("tool_use_id")))
                result, said = _split_user_words(_content_text(block.get("content")))
                pending = [name, [result], bool(block.get("is_error")), said]
            elif btype == "image":
                source = block.get("source") or {}
                placeholder = image_placeholder(source.get("media_type"), len(source.get("data") or ""))
                if pending is not None:
                    pending[1].append(placeholder)
                else:
                    parts.append(("user", "text", placeholder, None, False))
        flush()
        return parts

    def _user_text(self, text: str) -> list[tuple]:
        if not text or _TASK_PROGRESS.match(text):
            return []
        if text.startswith("Files attached by the user"):
            return [("system", "text", text, None, False)]
        wrapped = _WRAPPED.findall(text)
        if wrapped:
            rest = _WRAPPED.sub("", text).strip()
            resumption = text.startswith("[TASK RESUMPTION]")
            parts = [("system", "text", rest, None, False)] if rest and resumption else []
            parts += [("user", "text", body.strip(), None, False) for _, body in wrapped if body.strip()]
            if rest and not resumption:
                parts.append(("system", "text", rest, None, False))
            return parts
        if text.startswith("[TASK RESUMPTION]"):
            return [("system", "text", text, None, False)]
        return [("user", "text", text, None, False)]

    # assistant side

    def _assistant_block(self, block: dict) -> list[tuple]:
        btype = block.get("type")
        if btype == "text":
            return _assistant_text(block.get("text") or "")
        if btype in ("thinking", "reasoning"):
            text = block.get("thinking") or block.get("text") or ""
            return [("assistant", "thinking", text.strip(), None, False)] if text.strip() else []
        if btype == "tool_use":
            name = str(block.get("name") or "tool")
            if block.get("id"):
                self.tool_names[str(block["id"])] = name
            return _tool_call(name, block.get("input"))
        return []


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return "" if content is None else json_text(content)
    parts = []
    for block in content:
        if isinstance(block, dict):
            if block.get("type") == "text":
                parts.append(block.get("text") or "")
            elif block.get("type") == "image":
                source = block.get("source") or {}
                parts.append(image_placeholder(source.get("media_type"), len(source.get("data") or "")))
            else:
                parts.append(json_text(block, 2000))
        elif isinstance(block, str):
            parts.append(block)
    return "\n".join(parts)


def _split_user_words(text: str) -> tuple[str, list[str]]:
    """A tool result with the user's <feedback>/<answer> taken out (they are user messages)."""
    said = [body.strip() for _, body in _WRAPPED.findall(text) if body.strip()]
    if not said:
        return _ENV.sub("", text).strip(), []
    return _ENV.sub("", _WRAPPED.sub("", text)).strip(), said


def _tool_call(name: str, args: object) -> list[tuple]:
    if name in TALK_TOOLS and isinstance(args, dict):
        words = args.get(TALK_TOOLS[name])
        if isinstance(words, str) and words.strip():
            extra = {k: v for k, v in args.items() if k != TALK_TOOLS[name] and k != "task_progress" and v}
            text = words.strip()
            if extra.get("command"):
                text += f"\n\n$ {extra['command']}"
            if isinstance(extra.get("options"), (list, str)):
                text += f"\n\nOptions: {json_text(extra['options'])}"
            return [("assistant", "text", text, None, False)]
    return [("assistant", "tool_use", json_text(args if args is not None else {}), name, False)]


def _xml_params(inner: str) -> dict:
    """`<path>a</path><content>…</content>` -> {"path": "a", "content": "…"}; Roo's
    `<args><file><path>…` containers nest (repeated names become lists)."""
    params: dict = {}
    for key, value in _PARAM.findall(inner):
        parsed: object = value.strip("\n")
        if key in ("args", "file") and _PARAM.search(value):
            parsed = _xml_params(value)
        if key in params:
            if not isinstance(params[key], list):
                params[key] = [params[key]]
            params[key].append(parsed)
        else:
            params[key] = parsed
    return params


def _assistant_text(text: str) -> list[tuple]:
    """Assistant text with <thinking> and XML tool calls pulled out, in order."""
    parts: list[tuple] = []
    pos = 0
    for m in _ASSISTANT_SPLIT.finditer(text):
        before = text[pos : m.start()].strip()
        if before:
            parts.append(("assistant", "text", before, None, False))
        pos = m.end()
        if m.group("tool") is None:
            if m.group("thought").strip():
                parts.append(("assistant", "thinking", m.group("thought").strip(), None, False))
            continue
        name, inner = m.group("tool"), m.group("inner")
        params = _xml_params(inner)
        parts.extend(_tool_call(name, params if params else inner.strip()))
    rest = text[pos:].strip()
    if rest:
        parts.append(("assistant", "text", rest, None, False))
    return parts


# --- ui_messages.json alone -------------------------------------------------------------------

_UI_SKIP_SAY = {
    "api_req_started", "api_req_finished", "api_req_retried", "api_req_deleted", "deleted_api_reqs",
    "error_retry", "checkpoint_created", "shell_integration_warning", "browser_action_launch", "mcp_server_request_started",
    "load_mcp_documentation", "info", "condense_context", "subtask_result",
}
_UI_SKIP_ASK = {"resume_task", "resume_completed_task", "auto_approval_max_req_reached", "api_req_failed_retry"}


class _UiConversation:
    def __init__(self, key: str, ctx: ParseContext) -> None:
        self.key = key
        self.ctx = ctx
        self.cwd: str | None = None

    def messages(self, events: list[dict]) -> list[ParsedMessage]:
        out: list[ParsedMessage] = []
        started = False
        seen: dict[str, int] = {}
        for event in events:
            kind = event.get("type")
            sub = event.get("say") if kind == "say" else event.get("ask") if kind == "ask" else None
            sub = sub if isinstance(sub, str) else None
            text = event.get("text") if isinstance(event.get("text"), str) else ""
            if sub == "api_req_started":
                started = True
                info = _decode(text)
                if self.cwd is None and isinstance(info, dict) and isinstance(info.get("request"), str):
                    m = _CWD.search(info["request"])
                    if m:
                        self.cwd = m.group(1).strip()
            try:
                parts = self._event(kind, sub, text, event, started)
            except (TypeError, ValueError, AttributeError) as exc:
                self.ctx.warn(f"ui_messages.json event at ts {event.get('ts')!r} skipped ({type(exc).__name__})")
                continue
            ts = event.get("ts") if isinstance(event.get("ts"), (int, float, str)) else None
            base = f"u{ts}" if ts is not None else f"u-{len(out)}"
            if base in seen:
                seen[base] += 1
                base = f"{base}.{seen[base]}"
            else:
                seen[base] = 0
            for n, (role, mkind, body, tool_name, is_error) in enumerate(parts):
                ext = base if n == 0 else f"{base}#{n}"
                out.append(ParsedMessage(self.key, role, mkind, body, ext, tool_name=tool_name, timestamp=parse_ts(ts), is_error=is_error))
        return out

    @staticmethod
    def _event(kind, sub, text: str, event: dict, started: bool) -> list[tuple]:
        images = event.get("images") if isinstance(event.get("images"), list) else []
        if kind == "say":
            if sub in _UI_SKIP_SAY:
                return []
            if sub == "task" or sub == "user_feedback" or (sub == "text" and not started):
                body = text.strip()
                if images:
                    body = f"{body}\n[{len(images)} image(s) attached]".strip()
                return [("user", "text", body, None, False)] if body else []
            if sub == "text" or sub == "completion_result":
                return [("assistant", "text", text.strip(), None, False)] if text.strip() else []
            if sub == "reasoning":
                return [("assistant", "thinking", text.strip(), None, False)] if text.strip() else []
            if sub == "tool":
                info = _decode(text)
                if isinstance(info, dict):
                    name = str(info.get("tool") or "tool")
                    return [("assistant", "tool_use", json_text(info), name, False)]
                return [("assistant", "tool_use", text, "tool", False)] if text.strip() else []
            if sub == "command":
                return [("assistant", "tool_use", text, "execute_command", False)] if text.strip() else []
            if sub in ("command_output", "mcp_server_response", "browser_action_result"):
                return [("tool", "tool_result", text, None, False)] if text.strip() else []
            if sub == "use_mcp_server" or sub == "browser_action":
                return [("assistant", "tool_use", text, sub, False)] if text.strip() else []
            if sub in ("error", "diff_error", "clineignore_error", "mistake_limit_reached"):
                return [("system", "text", text.strip(), None, True)] if text.strip() else []
            if sub == "task_progress":
                return [("assistant", "text", text.strip(), None, False)] if text.strip() else []
            return [("system", "text", text.strip(), None, False)] if text.strip() else []
        if kind == "ask":
            if sub in _UI_SKIP_ASK or not text.strip():
                return []
            info = _decode(text)
            if sub in ("followup", "plan_mode_respond", "act_mode_respond", "completion_result"):
                if isinstance(info, dict):
                    words = info.get("question") or info.get("response") or info.get("result") or ""
                    options = info.get("options")
                    body = str(words).strip()
                    if options:
                        body += f"\n\nOptions: {json_text(options)}"
                    return [("assistant", "text", body, None, False)] if body else []
                return [("assistant", "text", text.strip(), None, False)]
            if sub == "command":
                return [("assistant", "tool_use", text, "execute_command", False)]
            if sub == "command_output":
                return [("tool", "tool_result", text, "execute_command", False)]
            if sub == "tool":
                name = str(info.get("tool") or "tool") if isinstance(info, dict) else "tool"
                return [("assistant", "tool_use", json_text(info), name, False)]
            if sub in ("api_req_failed", "mistake_limit_reached"):
                return [("system", "text", text.strip(), None, True)]
            if sub == "use_mcp_server":
                return [("assistant", "tool_use", text, "use_mcp_server", False)]
            return [("system", "text", text.strip(), None, False)]
        return []
