"""OpenAI Codex rollouts: $CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl.

Two layouts share the importer:
  * enveloped (Sept 2025 on): every line is `{timestamp, type, payload}` with type session_meta,
    response_item, event_msg, turn_context or compacted;
  * bare (earlier): line 1 is a header `{id, timestamp, instructions, git}`, then `{"record_type":
    "state"}` markers and response items written without an envelope.

Every visible message is written twice: as a `response_item` (what the model saw) and as an
`event_msg` (user_message / agent_message / agent_reasoning, what the UI showed). The two copies
are paired by role and text (whitespace ignored) and share one external id: the response item
wins when both exist, the event copy is kept when it is the only one. Injected context
(environment, AGENTS.md, permissions, IDE wrapper, developer messages) is stored as `system`.

Rollouts are append-only, so the parser is incremental: what it must remember between runs (the
session key, call_id -> tool name, copies still waiting for their twin, ...) lives in ctx.state.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from pathlib import Path
from typing import Iterator

import orjson

from memtui.core.importers.base import (
    Item,
    ParseContext,
    ParsedMessage,
    Parser,
    Rewind,
    SessionInfo,
    image_placeholder,
    iter_jsonl,
    json_text,
    parse_ts,
)

_ENVELOPE_TYPES = {"session_meta", "response_item", "event_msg", "turn_context", "compacted"}
_DETECT_ENVELOPE = re.compile(
    rb'"type"\s*:\s*"(?:session_meta|response_item|event_msg|turn_context|compacted)"\s*,\s*"payload"\s*:'
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_WS = re.compile(r"\s+")
_ENV_CWD = re.compile(r"<cwd>\s*(.*?)\s*</cwd>", re.S)

IDE_CONTEXT = "# Context from my IDE setup:"
IDE_REQUEST = "## My request for Codex:"
# Text items of a user-role message that the harness injects (never typed by the user).
_INJECTED = re.compile(
    r"(?:# AGENTS\.md instructions for "
    r"|<(?:environment_context|user_instructions|permissions instructions|collaboration_mode|app-context"
    r"|apps_instructions|skills_instructions|plugins_instructions|skill|user_shell_command|turn_aborted"
    r"|INSTRUCTIONS|developer_instructions|personality_spec|model_switch|subagent_notification)>"
    r"|<[A-Za-z][\w -]*(?:instructions|context|_mode)>)"
)
_SUMMARY_TAG = "<compacted-summary>"
_IMAGE_TAG = re.compile(r"</?image\b[^>]*>")
# Exit status written in front of a tool's output by newer Codex versions.
_EXIT_LINE = re.compile(r"^(?:Exit code:|Process exited with code)\s*(-?\d+)\s*$", re.M)
# Failures reported by the Codex harness itself as the whole output of a call.
_HARNESS_FAILURE = re.compile(
    r"(?:apply_patch verification failed|patch rejected|failed to parse function arguments|unsupported call"
    r"|execution error|exec command rejected|aborted by user|command timed out)",
    re.I,
)
_SHELLS = {"bash", "sh", "zsh", "fish", "dash", "ksh"}

# Bounds on what is carried between runs. Every bound is applied the same way whether the file
# is read in one go or in pieces, so an incremental import ends exactly like a one-shot import.
PAIR_WINDOW = 1000  # lines: how far apart the two copies of one message may be
_KEEP_NAMES = 500  # call_id -> tool name
_KEEP_TURNS = 200  # user turns that thread_rolled_back can undo
_KEEP_ERRORS = 200  # failures announced by an *_end event before the call's output

# cwd sources, weakest first
_CWD_ENV, _CWD_TURN, _CWD_META = 1, 2, 3


class CodexParser(Parser):
    name = "codex"
    tool = "codex"
    incremental = True

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        if not path.name.endswith(".jsonl"):
            return False
        first = head.lstrip().split(b"\n", 1)[0].strip()
        if not first.startswith(b"{"):
            return False
        try:
            obj = orjson.loads(first)
        except orjson.JSONDecodeError:
            # a first line longer than the head (session_meta carries the whole system prompt)
            return bool(_DETECT_ENVELOPE.search(first[:4096]))
        return isinstance(obj, dict) and _is_codex_record(obj)

    def parse(self, ctx: ParseContext) -> Iterator[Item]:
        run = _Run(ctx, self.tool)
        for lineno, obj in iter_jsonl(ctx):
            if not isinstance(obj, dict):
                ctx.warn("not a JSON object, line skipped", lineno)
                continue
            try:
                yield from run.line(lineno, obj)
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                ctx.warn(f"unexpected record shape ({type(exc).__name__}), line skipped", lineno)
        run.finish()


def _is_codex_record(obj: dict) -> bool:
    if obj.get("type") in _ENVELOPE_TYPES and isinstance(obj.get("payload"), dict):
        return True
    if obj.get("record_type") == "state":
        return True
    # bare layout header
    return (
        isinstance(obj.get("id"), str)
        and "timestamp" in obj
        and "type" not in obj
        and "sessionId" not in obj
        and any(k in obj for k in ("instructions", "git", "originator", "cli_version"))
    )


class _Run:
    """One pass over a rollout (or over what was appended to it since the last import)."""

    def __init__(self, ctx: ParseContext, tool: str) -> None:
        self.ctx = ctx
        self.tool = tool
        st = ctx.state
        self.key: str | None = st.get("session")
        self.meta_seen: bool = bool(st.get("meta"))
        self.names: dict[str, str] = dict(st.get("names", {}))
        self.pending: dict[str, list[list]] = {k: [list(e) for e in v] for k, v in st.get("pending", {}).items()}
        self.turns: list[str] = list(st.get("turns", []))
        self.errors: dict[str, bool] = dict(st.get("errors", {}))
        self.cwd_rank: int = int(st.get("cwd_rank", 0))
        self.model: str | None = st.get("model")
        self.announced = False
        self.outputs: dict[str, ParsedMessage] = {}  # call_id -> output yielded in this run
        self.lineno = int(st.get("lines", 0)) if ctx.start else 0

    # --- session -----------------------------------------------------------------------

    def _fallback_key(self) -> str:
        m = _UUID.search(self.ctx.path.name)
        return m.group(0).lower() if m else self.ctx.path.stem

    def _announce(self, **fields) -> Iterator[Item]:
        if self.key is None:
            self.key = self._fallback_key()
        if fields or not self.announced:
            self.announced = True
            yield SessionInfo(key=self.key, tool=self.tool, **fields)

    def _cwd(self, cwd: object, rank: int) -> Iterator[Item]:
        if isinstance(cwd, str) and cwd.strip() and rank > self.cwd_rank:
            self.cwd_rank = rank
            yield from self._announce(cwd=cwd.strip())

    def _session_meta(self, p: dict, ts: float | None) -> Iterator[Item]:
        sid = p.get("id") or p.get("session_id")
        if self.meta_seen:
            # a second session_meta (a forked or subagent rollout replaying its parent): keep ours
            return
        self.meta_seen = True
        if self.key is None and isinstance(sid, str) and sid:
            self.key = sid
        git = p.get("git") if isinstance(p.get("git"), dict) else {}
        parent = p.get("forked_from_id") or p.get("parent_thread_id")
        source = p.get("source")
        if not parent and isinstance(source, dict):
            spawn = (source.get("subagent") or {}).get("thread_spawn") if isinstance(source.get("subagent"), dict) else None
            if isinstance(spawn, dict):
                parent = spawn.get("parent_thread_id")
        fields: dict = {"started_at": parse_ts(p.get("timestamp")) or ts}
        if isinstance(git.get("branch"), str) and git["branch"]:
            fields["git_branch"] = git["branch"]
        if isinstance(git.get("repository_url"), str) and git["repository_url"]:
            fields["git_remote"] = git["repository_url"]
        if isinstance(parent, str) and parent and parent != self.key:
            fields["parent_key"] = parent
        cwd = p.get("cwd")
        if isinstance(cwd, str) and cwd.strip() and self.cwd_rank < _CWD_META:
            self.cwd_rank = _CWD_META
            fields["cwd"] = cwd.strip()
        yield from self._announce(**fields)

    # --- dispatch ----------------------------------------------------------------------

    def line(self, lineno: int, obj: dict) -> Iterator[Item]:
        self.lineno = lineno
        kind = obj.get("type")
        payload = obj.get("payload")
        if kind in _ENVELOPE_TYPES and isinstance(payload, dict):
            ts = parse_ts(obj.get("timestamp"))
            if kind == "session_meta":
                yield from self._session_meta(payload, ts)
            elif kind == "response_item":
                yield from self._response_item(payload, ts)
            elif kind == "event_msg":
                yield from self._event(payload, ts)
            elif kind == "turn_context":
                yield from self._turn_context(payload)
            elif kind == "compacted":
                text = payload.get("message")
                if isinstance(text, str) and text.strip():
                    yield from self._announce()
                    yield ParsedMessage(self.key, "system", "summary", text, f"L{lineno}", timestamp=ts)
                # replacement_history replays earlier messages: already imported, ignored
            return
        if obj.get("record_type"):
            return  # bare layout state marker
        if "type" not in obj and isinstance(obj.get("id"), str) and "timestamp" in obj:
            yield from self._session_meta(obj, parse_ts(obj.get("timestamp")))  # bare header
            return
        if isinstance(kind, str):
            yield from self._response_item(obj, parse_ts(obj.get("timestamp")))  # bare item
        # anything else (world_state, unknown envelopes, ...) is not conversation

    def _turn_context(self, p: dict) -> Iterator[Item]:
        yield from self._cwd(p.get("cwd"), _CWD_TURN)
        model = p.get("model")
        if isinstance(model, str) and model and model != self.model:
            self.model = model
            yield from self._announce(model=model)

    # --- pairing of the two copies of a message -----------------------------------------

    def _pair(self, key: str, stream: str) -> tuple[str, bool]:
        """External id for one copy of a message and whether to yield it.

        The first copy of a pair creates the id (from its line number); the twin from the other
        stream reuses it. A response copy is always yielded (it replaces an earlier event copy);
        an event copy whose response twin was already yielded is dropped.
        """
        lineno = self.lineno
        entries = [e for e in self.pending.get(key, ()) if lineno - e[2] <= PAIR_WINDOW]
        other = "event" if stream == "resp" else "resp"
        for i, entry in enumerate(entries):
            if entry[0] == other:
                del entries[i]
                self._set_pending(key, entries)
                return entry[1], stream == "resp"
        ext = f"{key}@{lineno}"
        entries.append([stream, ext, lineno])
        self._set_pending(key, entries)
        return ext, True

    def _set_pending(self, key: str, entries: list) -> None:
        if entries:
            self.pending[key] = entries
        else:
            self.pending.pop(key, None)

    # --- response items ----------------------------------------------------------------

    def _response_item(self, p: dict, ts: float | None) -> Iterator[Item]:
        kind = p.get("type")
        if kind == "message":
            role = p.get("role")
            parts = _content_parts(p.get("content"))
            if role == "user":
                yield from self._user(parts, ts, "resp")
            elif role == "assistant":
                for n, (pkind, text, original) in enumerate(parts):
                    if pkind == "image":
                        yield from self._announce()
                        yield ParsedMessage(self.key, "assistant", "text", text, f"L{self.lineno}#img{n}",
                                            timestamp=ts, original_len=original)
                    elif text.strip():
                        yield from self._paired("a", "assistant", "text", text, ts, "resp")
            else:  # developer / system: instructions, never typed by the user
                for n, (pkind, text, original) in enumerate(parts):
                    if text.strip():
                        yield from self._announce()
                        ext = f"L{self.lineno}" if n == 0 else f"L{self.lineno}#{n}"
                        yield ParsedMessage(self.key, "system", "text", text, ext, timestamp=ts,
                                            original_len=original)
        elif kind == "reasoning":
            for text in _reasoning_texts(p):
                yield from self._paired("r", "assistant", "thinking", text, ts, "resp")
        elif kind in ("function_call", "custom_tool_call", "local_shell_call"):
            yield from self._call(p, ts)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            yield from self._output(p, ts)
        elif kind == "web_search_call":
            action = p.get("action") if isinstance(p.get("action"), dict) else {}
            text = action.get("query") or action.get("url") or (json_text(action) if action else "")
            if action.get("queries") and isinstance(action["queries"], list):
                text = "\n".join(str(q) for q in action["queries"]) or text
            if text:
                yield from self._announce()
                yield ParsedMessage(self.key, "assistant", "tool_use", str(text), f"L{self.lineno}",
                                    tool_name="web_search", timestamp=ts)
        # ghost_snapshot, compaction (encrypted), other: not conversation

    def _paired(self, prefix: str, role: str, kind: str, text: str, ts, stream: str) -> Iterator[Item]:
        ext, emit = self._pair(f"{prefix}:{_digest(text)}", stream)
        if emit:
            yield from self._announce()
            yield ParsedMessage(self.key, role, kind, text, ext, timestamp=ts)

    def _user(self, parts: list[tuple[str, str, int | None]], ts, stream: str) -> Iterator[Item]:
        """A user-role message: injected context becomes system, the rest is what the user typed."""
        typed: list[str] = []
        images: list[tuple[str, int | None]] = []
        context: list[tuple[str, str]] = []  # (kind, text)
        for pkind, text, original in parts:
            if pkind == "image":
                images.append((text, original))
                continue
            for role_kind, piece in _split_user_text(text):
                if role_kind == "user":
                    typed.append(piece)
                else:
                    context.append((role_kind, piece))
                    if piece.startswith("<environment_context>"):
                        m = _ENV_CWD.search(piece)
                        if m:
                            yield from self._cwd(m.group(1), _CWD_ENV)
        request = "\n".join(t for t in typed if t.strip()).strip()
        if not request and not images:
            # only injected context: keyed by line (the event stream never carries it)
            for n, (ckind, text) in enumerate(context):
                yield from self._announce()
                ext = f"L{self.lineno}" if n == 0 else f"L{self.lineno}#{n}"
                yield ParsedMessage(self.key, "system", ckind, text, ext, timestamp=ts)
            return
        ext, emit = self._pair(f"u:{_digest(request)}", stream)
        if not emit:
            return
        yield from self._announce()
        new_turn = ext.endswith(f"@{self.lineno}")
        for n, (ckind, text) in enumerate(context):
            yield ParsedMessage(self.key, "system", ckind, text, f"{ext}#ctx{n}", timestamp=ts)
        if request:
            yield ParsedMessage(self.key, "user", "text", request, ext, timestamp=ts)
        for n, (text, original) in enumerate(images):
            img_ext = f"{ext}#img{n}" if request or n else ext
            yield ParsedMessage(self.key, "user", "text", text, img_ext, timestamp=ts, original_len=original)
        if new_turn:
            self.turns.append(ext)
            del self.turns[:-_KEEP_TURNS]

    def _call(self, p: dict, ts) -> Iterator[Item]:
        kind = p.get("type")
        call_id = p.get("call_id") or p.get("id")
        if kind == "local_shell_call":
            name = "local_shell"
            action = p.get("action") if isinstance(p.get("action"), dict) else {}
            command = action.get("command")
            text = _argv_text(command) if isinstance(command, list) else json_text(action)
        elif kind == "custom_tool_call":
            name = str(p.get("name") or "tool")
            raw = p.get("input")
            text = raw if isinstance(raw, str) else json_text(raw)
        else:
            name = str(p.get("name") or "tool")
            if p.get("namespace"):
                name = f"{p['namespace']}.{name}"
            text = _call_text(name, p.get("arguments"))
        if call_id:
            self.names[str(call_id)] = name
            if len(self.names) > _KEEP_NAMES:
                self.names.pop(next(iter(self.names)))
        yield from self._announce()
        ext = f"call:{call_id}" if call_id else f"L{self.lineno}"
        yield ParsedMessage(self.key, "assistant", "tool_use", text, ext, tool_name=name, timestamp=ts)

    def _output(self, p: dict, ts) -> Iterator[Item]:
        call_id = p.get("call_id")
        text, failed, original = _output_text(p.get("output"))
        if call_id and self.errors.pop(str(call_id), False):
            failed = True
        name = self.names.get(str(call_id)) if call_id else None
        yield from self._announce()
        ext = f"out:{call_id}" if call_id else f"L{self.lineno}"
        msg = ParsedMessage(self.key, "tool", "tool_result", text, ext, tool_name=name, timestamp=ts,
                            is_error=failed, original_len=original)
        if call_id:
            # kept for an *_end event that reports the failure after the output (this run only)
            self.outputs[str(call_id)] = msg
            if len(self.outputs) > 50:
                self.outputs.pop(next(iter(self.outputs)))
        yield msg

    # --- events --------------------------------------------------------------------------

    def _event(self, p: dict, ts) -> Iterator[Item]:
        kind = p.get("type")
        if kind == "user_message":
            message = p.get("message")
            parts: list[tuple[str, str, int | None]] = []
            if isinstance(message, str):
                parts.append(("text", message, None))
            for url in p.get("images") or []:
                if isinstance(url, str):
                    parts.append(("image", *_image(url)))
            for local in p.get("local_images") or []:
                parts.append(("image", f"[image {local if isinstance(local, str) else 'attached'}]", None))
            yield from self._user(parts, ts, "event")
        elif kind == "agent_message":
            text = p.get("message")
            if isinstance(text, str) and text.strip():
                yield from self._paired("a", "assistant", "text", text, ts, "event")
        elif kind in ("agent_reasoning", "agent_reasoning_raw_content"):
            text = p.get("text")
            if isinstance(text, str) and text.strip():
                yield from self._paired("r", "assistant", "thinking", text, ts, "event")
        elif kind in ("exec_command_end", "patch_apply_end", "mcp_tool_call_end"):
            yield from self._end_event(kind, p)
        elif kind == "turn_aborted":
            reason = p.get("reason") or "aborted"
            yield from self._announce()
            yield ParsedMessage(self.key, "system", "text", f"[turn aborted: {reason}]", f"L{self.lineno}", timestamp=ts)
        elif kind == "thread_rolled_back":
            n = p.get("num_turns")
            if isinstance(n, int) and 0 < n <= len(self.turns):
                target = self.turns[-n]
                del self.turns[-n:]
                yield from self._announce()
                yield Rewind(self.key, target)
        # token_count, task_started/complete, context_compacted, item_* ...: not conversation

    def _end_event(self, kind: str, p: dict) -> Iterator[Item]:
        call_id = p.get("call_id")
        if not call_id:
            return
        failed = False
        if kind == "exec_command_end":
            code = p.get("exit_code")
            failed = isinstance(code, int) and code != 0
        elif kind == "patch_apply_end":
            failed = p.get("success") is False
        else:
            result = p.get("result")
            if isinstance(result, dict):
                ok = result.get("Ok")
                failed = "Err" in result or (isinstance(ok, dict) and bool(ok.get("isError") or ok.get("is_error")))
        if not failed:
            return
        earlier = self.outputs.get(str(call_id))
        if earlier is not None:
            if not earlier.is_error:
                earlier.is_error = True
                yield earlier  # same external id: the pipeline updates is_error in place
        else:
            self.errors[str(call_id)] = True
            if len(self.errors) > _KEEP_ERRORS:
                self.errors.pop(next(iter(self.errors)))

    # --- end of run ----------------------------------------------------------------------

    def finish(self) -> None:
        st = self.ctx.state
        if self.key is not None:
            st["session"] = self.key
        st["meta"] = self.meta_seen
        st["names"] = self.names
        last = self.lineno
        pending = {}
        for key, entries in self.pending.items():
            live = [e for e in entries if last - e[2] <= PAIR_WINDOW]  # older ones can never pair again
            if live:
                pending[key] = live
        st["pending"] = pending
        st["turns"] = self.turns[-_KEEP_TURNS:]
        st["errors"] = self.errors
        st["cwd_rank"] = self.cwd_rank
        if self.model:
            st["model"] = self.model


# --- helpers ---------------------------------------------------------------------------------


def _digest(text: str) -> str:
    """Identity of a message's text for pairing its two copies (all whitespace ignored)."""
    return hashlib.blake2b(_WS.sub("", text).encode("utf-8", "replace"), digest_size=8).hexdigest()


def _image(url: str) -> tuple[str, int | None]:
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media = header[5:].split(";", 1)[0] or None
        return image_placeholder(media, len(data)), len(url)
    return f"[image {url[:200]}]", None


def _content_parts(content) -> list[tuple[str, str, int | None]]:
    """(kind, text, original length) for each content item of a message."""
    if isinstance(content, str):
        return [("text", content, None)]
    out: list[tuple[str, str, int | None]] = []
    if not isinstance(content, list):
        return out
    for item in content:
        if not isinstance(item, dict):
            continue
        ctype = item.get("type")
        if ctype in ("input_text", "output_text", "text") and isinstance(item.get("text"), str):
            out.append(("text", item["text"], None))
        elif ctype == "input_image":
            url = item.get("image_url")
            out.append(("image", *_image(url)) if isinstance(url, str) else ("image", "[image]", None))
        elif ctype == "refusal" and isinstance(item.get("refusal"), str):
            out.append(("text", item["refusal"], None))
    return out


def _split_user_text(text: str) -> list[tuple[str, str]]:
    """Split one user-role text item into ("user"|"text"|"summary", text) pieces.

    "text" pieces are injected context (stored as system text), "summary" a compaction summary.
    """
    s = text.strip()
    if not s:
        return []
    if s.startswith(IDE_CONTEXT):
        i = s.find(IDE_REQUEST)
        if i < 0:
            return [("text", s)]
        context = s[:i].strip()
        request = s[i + len(IDE_REQUEST):].strip()
        pieces = []
        if context and context != IDE_CONTEXT:
            pieces.append(("text", context))
        if request:
            pieces.append(("user", request))
        return pieces
    if s.startswith(_SUMMARY_TAG):
        return [("summary", s)]
    if _INJECTED.match(s):
        return [("text", s)]
    if _IMAGE_TAG.fullmatch(s):
        return []  # the <image name=...> wrapper around an attached image
    return [("user", text)]


def _reasoning_texts(p: dict) -> list[str]:
    out = []
    for key in ("summary", "content"):
        items = p.get(key)
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip():
                out.append(item["text"])
    return out


def _argv_text(argv: list) -> str:
    args = [str(a) for a in argv]
    if len(args) >= 3 and Path(args[0]).name in _SHELLS and args[1] in ("-lc", "-c", "-ic", "-l"):
        return args[-1]
    try:
        return shlex.join(args)
    except TypeError:
        return " ".join(args)


def _call_text(name: str, arguments) -> str:
    """The input of a function call: the command or patch when there is one, else the JSON."""
    args = arguments
    if isinstance(arguments, str):
        try:
            args = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return arguments
    if isinstance(args, dict):
        short = name.rsplit(".", 1)[-1]
        value = None
        if short in ("shell", "container.exec", "local_shell"):
            value = args.get("command")
        elif short == "shell_command":
            value = args.get("command")
        elif short == "exec_command":
            value = args.get("cmd") or args.get("command")
        elif short == "apply_patch":
            value = args.get("input") or args.get("patch")
        if isinstance(value, list) and value:
            return _argv_text(value)
        if isinstance(value, str) and value:
            return value
        return json_text(args)
    return arguments if isinstance(arguments, str) else json_text(args)


def _output_text(output) -> tuple[str, bool, int | None]:
    """(text, failed, original length) of a call output in any of its shapes."""
    original = None
    if isinstance(output, list):  # content items (text and images)
        parts = []
        for item in output:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("text"), str):
                parts.append(item["text"])
            elif item.get("type") == "input_image" and isinstance(item.get("image_url"), str):
                placeholder, length = _image(item["image_url"])
                parts.append(placeholder)
                original = (original or 0) + (length or 0)
        text = "\n".join(parts)
        return text, False, (original + len(text)) if original else None
    if isinstance(output, dict):
        text = output.get("content") if isinstance(output.get("content"), str) else json_text(output)
        return text, output.get("success") is False, None
    if output is None:
        return "", False, None
    text = output if isinstance(output, str) else json_text(output)
    failed = False
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            wrapped = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            wrapped = None
        if isinstance(wrapped, dict) and "output" in wrapped:
            meta = wrapped.get("metadata") if isinstance(wrapped.get("metadata"), dict) else {}
            code = meta.get("exit_code")
            inner = wrapped["output"]
            text = inner if isinstance(inner, str) else json_text(inner)
            if isinstance(code, int):
                return text, code != 0, None
    head = text[:400]
    cut = head.find("\nOutput:")
    m = _EXIT_LINE.search(head if cut < 0 else head[:cut])
    if m:
        failed = int(m.group(1)) != 0
    elif _HARNESS_FAILURE.match(text.lstrip()):
        failed = True
    return text, failed, None
