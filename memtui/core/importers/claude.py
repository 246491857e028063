"""Claude Code session files: ~/.claude/projects/<cwd-slug>/<session-id>.jsonl (+ subagents).

One JSON event per line; assistant replies are split into one content block per line sharing
`message.id` (kept as `group_id`); lines replayed by compaction or resume keep their `uuid`, so
the pipeline's (session, external_id) upsert drops them. Subagent (sidechain) lines become a
session of their own, keyed `<parent session id>/agent-<agentId>`, linked to the parent.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import orjson

from memtui.core.importers.base import (
    RECORD_ERRORS,
    Item,
    LeafTitle,
    ParseContext,
    ParsedMessage,
    Parser,
    SessionInfo,
    image_placeholder,
    iter_jsonl,
    _parse_utc_ms,
    json_text,
    parse_ts,
    warn_unexpected,
)

_DETECT = re.compile(
    rb'"(?:parentUuid|leafUuid|isSidechain)"\s*:'
    rb'|"type"\s*:\s*"(?:file-history-snapshot|queue-operation|permission-mode|ai-title|last-prompt)"'
)
_COMMAND = re.compile(r"<command-name>(.*?)</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.S)
_SKIP_SYSTEM_SUBTYPES = {"turn_duration", "stop_hook_summary", "informational_hook"}
_KEEP_TOOL_NAMES = 500  # tool_use id -> name pairs carried over to the next incremental run
# the start of what /compact asks its summarising subagent (a "user" line of Claude Code's own words)
_COMPACT_PROMPT = "Your task is to create a detailed summary of the conversation so far"


class ClaudeCodeParser(Parser):
    name = "claude-code"
    tool = "claude-code"
    incremental = True

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        return path.suffix == ".jsonl" and bool(_DETECT.search(head))

    def parse(self, ctx: ParseContext) -> Iterator[Item]:
        for item in self.parse_rows(ctx):
            yield ParsedMessage(*item) if type(item) is tuple else item

    def parse_rows(self, ctx: ParseContext) -> Iterator[Item | tuple]:
        # (a message: the tuple of its ParsedMessage fields, see Parser.parse_rows)
        tool = self.tool
        tool_names: dict[str, str] = dict(ctx.state.get("tool_names", {}))
        announced: dict[str, tuple] = {}  # per session: (cwd, branch, model) as merged so far
        # per session: the signature of a user line that brings nothing new (no model; the cwd and
        # branch merged so far): user and assistant lines alternate these two, so most lines are
        # told to change nothing by one comparison or two
        quiet: dict[str, tuple] = {}
        earliest: dict[str, float] = {}  # per session: the earliest started_at announced
        fallback_key = ctx.state.get("session") or ctx.path.stem
        meta_title: str | None | bool = False  # the subagent's description, read when first needed
        for lineno, obj in iter_jsonl(ctx):
            # A record of an unexpected shape costs that line only (a try costs nothing in the
            # common case; a context manager was three Python calls a line). The messages of a
            # line are made here, in this one generator (a generator per line cost more than
            # the rest of an ordinary line's work).
            try:
                if not isinstance(obj, dict):
                    ctx.warn("not a JSON object, line skipped", lineno)
                    continue
                kind = obj.get("type")
                if kind != "assistant" and kind != "user" and kind != "system":
                    if kind == "summary":
                        if obj.get("leafUuid") and obj.get("summary"):
                            yield LeafTitle(str(obj["leafUuid"]), str(obj["summary"]))
                    elif kind == "ai-title":
                        if obj.get("sessionId") and obj.get("aiTitle"):
                            yield SessionInfo(key=str(obj["sessionId"]), tool=tool, title=str(obj["aiTitle"]))
                    continue  # snapshots, queue operations, progress, attachments, ... are not conversation
                session_id = str(obj.get("sessionId") or fallback_key)
                key = session_id
                parent = None
                agent = obj.get("agentId")
                if obj.get("isSidechain") and agent:
                    key, parent = f"{session_id}/agent-{agent}", session_id
                message = obj.get("message")
                if not isinstance(message, dict):
                    message = {}
                stamp = obj.get("timestamp")
                # (parse_ts's own fast path, without the call in between: one a line)
                ts = _parse_utc_ms(stamp) if type(stamp) is str else None
                if ts is None:
                    ts = parse_ts(stamp)
                if kind == "assistant":
                    model = _text(message.get("model"))
                    if model == "<synthetic>":
                        model = None
                else:
                    model = None
                signature = (obj.get("cwd"), obj.get("gitBranch"), model)
                prev = announced.get(key)
                if prev != signature and (prev is None or any(signature)):
                    if signature == quiet.get(key):  # (it merges into `prev` unchanged)
                        news = ts and (key not in earliest or ts < earliest[key])
                    else:
                        # (each field: the new value if it is one, else what was known; None for "")
                        cwd, branch, was_model = prev or (None, None, None)
                        merged = (signature[0] or cwd, signature[1] or branch, model or was_model)
                        announced[key] = merged
                        quiet[key] = (merged[0], merged[1], None)
                        # Announce again only what changes the session: a new cwd/branch/model value
                        # or an earlier start.
                        news = prev is None or merged != prev or (ts and (key not in earliest or ts < earliest[key]))
                    if news:
                        if ts and (key not in earliest or ts < earliest[key]):
                            earliest[key] = ts
                        if parent and meta_title is False:
                            meta_title = _subagent_description(ctx.path)
                        yield SessionInfo(
                            key=key,
                            tool=tool,
                            cwd=_text(obj.get("cwd")),
                            git_branch=_text(obj.get("gitBranch")),
                            model=model,
                            started_at=ts,
                            parent_key=parent,
                            title=meta_title if parent else None,
                        )
                fallback_key = session_id
                uuid = str(obj.get("uuid") or f"L{lineno}")
                if kind == "system":
                    subtype = obj.get("subtype")
                    content = obj.get("content")
                    if subtype not in _SKIP_SYSTEM_SUBTYPES and isinstance(content, str) and content.strip():
                        mkind = "summary" if subtype == "compact_boundary" else "text"
                        yield (key, "system", mkind, content, uuid, None, ts, None, False, None)
                    continue
                content = message.get("content")
                if kind == "assistant":
                    role, group = "assistant", message.get("id")
                else:
                    role, group = "user", None
                if isinstance(content, str):  # (one text block)
                    if content.strip():
                        yield self._text(role, obj, content, key, uuid, ts, group)
                    continue
                if not isinstance(content, list):
                    continue
                n = 0
                for block in content:
                    if not isinstance(block, dict):
                        continue
                    ext = uuid if n == 0 else f"{uuid}#{n}"
                    btype = block.get("type")
                    if btype == "tool_use":
                        name = str(block.get("name") or "tool")
                        if block.get("id"):
                            tool_names[str(block["id"])] = name
                        msg = (key, "assistant", "tool_use", json_text(block.get("input")), ext, name, ts, group, False, None)
                    elif btype == "tool_result":
                        name = tool_names.get(str(block.get("tool_use_id")), None)
                        text = block.get("content")
                        text, original = (text, None) if isinstance(text, str) else _result_text(text)
                        msg = (key, "tool", "tool_result", text, ext, name, ts, group, bool(block.get("is_error")), original)
                    elif btype == "text":
                        text = block.get("text") or ""
                        if not text.strip():
                            continue
                        msg = self._text(role, obj, text, key, ext, ts, group)
                    elif btype == "thinking":
                        text = block.get("thinking") or ""
                        if not text.strip():
                            continue
                        msg = (key, "assistant", "thinking", text, ext, None, ts, group, False, None)
                    elif btype == "image":
                        source = block.get("source") or {}
                        data = source.get("data") or ""
                        placeholder = image_placeholder(source.get("media_type"), len(data))
                        msg = (key, role, "text", placeholder, ext, None, ts, group, False, len(data))
                    elif btype == "document":
                        msg = (key, role, "text", "[document attached]", ext, None, ts, group, False, None)
                    else:
                        continue
                    n += 1
                    yield msg
            except RECORD_ERRORS as exc:
                warn_unexpected(ctx, lineno, exc)
        ctx.state["session"] = fallback_key
        if tool_names:
            ctx.state["tool_names"] = dict(list(tool_names.items())[-_KEEP_TOOL_NAMES:])

    @staticmethod
    def _text(role, obj, text, key, ext, ts, group) -> tuple:
        if role == "assistant":
            if obj.get("isApiErrorMessage"):  # Claude Code noting a failed API call ("Credit balance is too low")
                return (key, "system", "text", text, ext, None, ts, group, True, None)
            return (key, "assistant", "text", text, ext, None, ts, group, False, None)
        # (a user line: no group)
        if obj.get("isCompactSummary"):
            return (key, "system", "summary", text, ext, None, ts, None, False, None)
        if obj.get("isMeta"):
            return (key, "system", "text", text, ext, None, ts, None, False, None)
        stripped = text.lstrip()
        if stripped.startswith("<command-name>") or stripped.startswith("<command-message>"):
            m = _COMMAND.search(text)
            if m:
                command = m.group(1).strip()
                a = _COMMAND_ARGS.search(text)
                args = a.group(1).strip() if a else ""
                return (key, "user", "text", f"{command} {args}".strip(), ext, None, ts, None, False, None)
        if stripped.startswith(("<local-command-stdout>", "<local-command-stderr>", "<bash-stdout>", "<bash-stderr>")):
            return (key, "system", "text", text, ext, None, ts, None, False, None)
        if stripped.startswith("[Request interrupted by user"):
            return (key, "system", "text", stripped, ext, None, ts, None, False, None)
        if stripped.startswith(_COMPACT_PROMPT):  # what /compact asks its subagent: Claude Code's words
            return (key, "system", "text", text, ext, None, ts, None, False, None)
        return (key, "user", "text", text, ext, None, ts, None, False, None)


def _result_text(content) -> tuple[str, int | None]:
    """Text of a tool_result's content (string or list of blocks); images become placeholders."""
    if isinstance(content, str):
        return content, None
    if not isinstance(content, list):
        return ("" if content is None else json_text(content)), None
    parts = []
    original = None
    for block in content:
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "text":
            parts.append(block.get("text") or "")
        elif btype == "image":
            data = (block.get("source") or {}).get("data") or ""
            parts.append(image_placeholder((block.get("source") or {}).get("media_type"), len(data)))
            original = (original or 0) + len(data)
        elif btype == "tool_reference":
            parts.append(f"[tool {block.get('tool_name')}]")
        else:
            parts.append(json_text(block, 2000))
    text = "\n".join(parts)
    return text, (original + len(text)) if original else None


def _subagent_description(path: Path) -> str | None:
    """The description in `agent-<id>.meta.json` beside a subagent file, if any."""
    meta = path.with_name(path.stem + ".meta.json")
    try:
        data = orjson.loads(meta.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if isinstance(data, dict) and isinstance(data.get("description"), str):
        return data["description"]
    return None


def _text(value) -> str | None:
    """A non-empty string field, or None (a record may carry a number or a list instead)."""
    return value if isinstance(value, str) and value else None
