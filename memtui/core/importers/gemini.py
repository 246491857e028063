"""Gemini CLI sessions: ~/.gemini/tmp/<project>/chats/session-<time>-<id8>.json / .jsonl.

Two containers:
  * legacy single JSON object {sessionId, projectHash, startTime, lastUpdated, messages[], ...};
  * JSONL (2026): a metadata line, then message records that are re-appended whenever they change
    (same `id`, the last copy wins), `{"$set": {...}}` metadata updates (`$set.messages` is a full
    checkpoint of the conversation) and `{"$rewindTo": id}` (drop that message and all after it).

The JSONL is replayed as the CLI's own loader does, in two passes: the first finds the final
version of every message (so each message is yielded once, at its first position, already
complete), the second yields messages in order and a `Rewind` wherever the file rewinds. The file
is re-read from the start on every import (incremental = False); the pipeline's upsert by
(session, external id) keeps that idempotent.

A resumed legacy `.json` is migrated by the CLI to `<same name>.jsonl`; when that sibling exists
for the same session the `.json` contributes only its metadata.

The project: Gemini records only projectHash = sha256(project root). The working directory is
taken from `directories`, else from ~/.gemini/projects.json (slug of the session's folder or the
hash), else from the paths the tool calls touched (the directory, or parent, whose sha256 is the
projectHash first); otherwise it stays unknown.

Subagents: a subagent's chat is chats/<parent id>/<id>.jsonl, or (CLI 0.34) a file beside its
parent's with `"kind": "subagent"` and the parent's sessionId, keyed `<parent id>/<file stem>`.
"""

from __future__ import annotations

import hashlib
import ntpath
import os
import posixpath
import re
from collections import Counter, OrderedDict
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterator

import orjson

from memtui.core.importers.base import (
    Item,
    ParseContext,
    ParsedMessage,
    ParseError,
    Parser,
    Rewind,
    SessionInfo,
    image_placeholder,
    iter_jsonl,
    json_text,
    parse_ts,
    read_json_file,
)

_MESSAGE_TYPES = {"user", "gemini", "info", "error", "warning"}
_LEGACY_HEAD = re.compile(rb'\A\s*\{\s*"sessionId"\s*:\s*"')
_LEGACY_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_REFERENCED_FILES = "\n--- Content from referenced files ---"
_LEADING_ESCAPES = re.compile(r"\A(?:\\n|\\r|\s)+")
_SHELL_EXIT = re.compile(r"^Exit Code:\s*(-?\d+)\s*$", re.M)
_ABS_POSIX = re.compile(r"(?<![\w.~])(/[^\s'\"`<>|(),;]+)")
_WIN_ABS = re.compile(r"^[A-Za-z]:[\\/]")
_FILE_ARGS = ("file_path", "absolute_path", "path")
_DIR_ARGS = ("dir_path", "directory")
_DIR_TOOLS = {"list_directory", "glob", "search_file_content", "grep", "ls"}


class GeminiParser(Parser):
    name = "gemini"
    tool = "gemini"
    incremental = False  # JSONL copies and rewinds are resolved by re-reading the whole file

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        if path.name.endswith(".jsonl"):
            return _detect_jsonl(head)
        if path.name.endswith(".json"):
            return _detect_legacy(head)
        return False

    def parse(self, ctx: ParseContext) -> Iterator[Item]:
        if ctx.path.name.endswith(".jsonl"):
            meta, records = self._read_jsonl(ctx)
            superseded = False
        else:
            meta, records = self._read_legacy(ctx)
            superseded = _migrated_sibling(ctx.path, meta.get("sessionId"))
        replay = _Replay(ctx)
        for record in records:
            replay.apply(record)
        meta.update(replay.meta)
        key = meta.get("sessionId") if isinstance(meta.get("sessionId"), str) and meta["sessionId"] else None
        if key is None:
            if not replay.events:
                raise ParseError("not a Gemini CLI session (no sessionId and no messages)")
            key = ctx.path.stem
            ctx.warn("no sessionId in the file, session keyed by the file name")
        live = [life.record for life in replay.live.values()]
        parent_key = _parent_key(ctx.path, meta, key)
        if meta.get("kind") == "subagent" and parent_key is None:
            # a subagent's file beside its parent's in chats/, under the parent's sessionId (CLI 0.34):
            # a session of its own, keyed by its file, linked to the parent
            key, parent_key = f"{key}/{ctx.path.stem}", key
        yield SessionInfo(
            key=key,
            tool=self.tool,
            cwd=_resolve_cwd(ctx.path, meta, live),
            title=meta["summary"].strip() if isinstance(meta.get("summary"), str) and meta["summary"].strip() else None,
            started_at=parse_ts(meta.get("startTime")),
            ended_at=parse_ts(meta.get("lastUpdated")),
            model=_last_model(live),
            parent_key=parent_key,
        )
        if superseded:
            return  # the migrated .jsonl beside this file holds the same messages and what came after
        for event, payload in replay.events:
            if event == "msg":
                try:
                    items = list(_items(key, payload.record, ctx))
                except (TypeError, ValueError, AttributeError, KeyError) as exc:
                    ctx.warn(f"message {payload.id}: unexpected shape ({type(exc).__name__}), skipped")
                    continue
                payload.ext = [m.external_id for m in items]
                yield from items
            else:
                target = next((life.ext[0] for life in payload if life.ext), None)
                if target is not None:
                    yield Rewind(key, target)

    # --- reading -----------------------------------------------------------------------

    def _read_jsonl(self, ctx: ParseContext) -> tuple[dict, list]:
        meta: dict = {}
        records: list = []
        for lineno, obj in iter_jsonl(ctx):
            if not isinstance(obj, dict):
                ctx.warn("not a JSON object, line skipped", lineno)
                continue
            if isinstance(obj.get("id"), str) or "$set" in obj or "$rewindTo" in obj:
                records.append((lineno, obj))
            elif isinstance(obj.get("sessionId"), str):
                for k, v in obj.items():  # metadata line(s) merge
                    meta[k] = v
            else:
                ctx.warn("unknown record, line skipped", lineno)
        return meta, records

    def _read_legacy(self, ctx: ParseContext) -> tuple[dict, list]:
        data = read_json_file(ctx)
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise ParseError("not a Gemini CLI session (no messages list)")
        meta = {k: v for k, v in data.items() if k != "messages"}
        records = []
        for n, msg in enumerate(data["messages"]):
            if isinstance(msg, dict):
                if not isinstance(msg.get("id"), str):
                    msg = {**msg, "id": f"#{n}"}
                records.append((None, msg))
            else:
                ctx.warn(f"message {n} is not an object, skipped")
        return meta, records


class _Life:
    """One message from its first appearance until a rewind or checkpoint drops it."""

    __slots__ = ("id", "record", "ext")

    def __init__(self, mid: str, record: dict) -> None:
        self.id = mid
        self.record = record
        self.ext: list[str] = []


class _Replay:
    """The JSONL reader's semantics: upsert by id, $set merges, $rewindTo truncates."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.meta: dict = {}
        self.live: OrderedDict[str, _Life] = OrderedDict()
        self.events: list[tuple[str, object]] = []  # ("msg", _Life) | ("rewind", [_Life, ...])

    def apply(self, entry: tuple[int | None, dict]) -> None:
        lineno, record = entry
        if "$rewindTo" in record:
            target = record["$rewindTo"]
            if not isinstance(target, str):
                self.ctx.warn("$rewindTo without a message id, line skipped", lineno)
                return
            ids = list(self.live)
            start = ids.index(target) if target in self.live else 0  # unknown id: the CLI clears all
            self._drop(ids[start:])
        elif "$set" in record:
            update = record["$set"]
            if not isinstance(update, dict):
                self.ctx.warn("$set is not an object, line skipped", lineno)
                return
            for k, v in update.items():
                if k != "messages":
                    self.meta[k] = v
            if isinstance(update.get("messages"), list):
                self._checkpoint(update["messages"])
        else:
            self._upsert(record)

    def _upsert(self, record: dict) -> None:
        mid = record["id"]
        life = self.live.get(mid)
        if life is not None:
            life.record = record  # the last copy wins, the first position stays
        else:
            life = _Life(mid, record)
            self.live[mid] = life
            self.events.append(("msg", life))

    def _drop(self, ids: list[str]) -> None:
        removed = [self.live.pop(i) for i in ids]
        if removed:
            self.events.append(("rewind", removed))

    def _checkpoint(self, messages: list) -> None:
        """`$set.messages`: the conversation is exactly this list from here on."""
        wanted = [m for m in messages if isinstance(m, dict) and isinstance(m.get("id"), str)]
        old = list(self.live)
        keep = 0
        while keep < len(old) and keep < len(wanted) and old[keep] == wanted[keep]["id"]:
            keep += 1
        self._drop(old[keep:])
        for m in wanted[:keep]:
            self.live[m["id"]].record = m
        for m in wanted[keep:]:
            self._upsert(m)


# --- detection ---------------------------------------------------------------------------------


def _detect_jsonl(head: bytes) -> bool:
    records = []
    for raw in head.split(b"\n"):
        raw = raw.strip()
        if not raw:
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            if not records:
                return False
            break  # a line cut by the head's end
        if not isinstance(obj, dict):
            return False
        records.append(obj)
        if len(records) >= 50:
            break
    if not records:
        return False
    first = records[0]
    if isinstance(first.get("sessionId"), str) and isinstance(first.get("projectHash"), str):
        return True
    if _is_control(first):
        return True
    return _is_message(first) and any(_is_control(r) for r in records)


def _is_control(obj: dict) -> bool:
    return (set(obj) == {"$set"} and isinstance(obj["$set"], dict)) or (
        set(obj) == {"$rewindTo"} and isinstance(obj["$rewindTo"], str)
    )


def _is_message(obj: dict) -> bool:
    return isinstance(obj.get("id"), str) and obj.get("type") in _MESSAGE_TYPES


def _detect_legacy(head: bytes) -> bool:
    try:
        obj = orjson.loads(head)
    except orjson.JSONDecodeError:
        # larger than the head: the CLI writes sessionId first and messages right after the metadata
        return bool(_LEGACY_HEAD.match(head) and _LEGACY_MESSAGES.search(head))
    return isinstance(obj, dict) and isinstance(obj.get("sessionId"), str) and isinstance(obj.get("messages"), list)


def _migrated_sibling(path: Path, session_id: object) -> bool:
    """True when `<name>.jsonl` beside this legacy file continues the same session."""
    sibling = path.with_name(path.name + "l")
    try:
        with open(sibling, "rb") as fh:
            first = fh.readline(1 << 20)
        obj = orjson.loads(first)
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(obj, dict) and isinstance(session_id, str) and obj.get("sessionId") == session_id


# --- messages ----------------------------------------------------------------------------------


def _parts(value) -> tuple[str, list[tuple[str, int | None]], list[str]]:
    """(text, images, thoughts) of a content value: a string or a list of Gemini Parts."""
    if isinstance(value, str):
        return value, [], []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return "", [], []
    texts: list[str] = []
    images: list[tuple[str, int | None]] = []
    thoughts: list[str] = []
    for part in value:
        if isinstance(part, str):
            texts.append(part)
        elif not isinstance(part, dict):
            continue
        elif isinstance(part.get("text"), str):
            (thoughts if part.get("thought") is True else texts).append(part["text"])
        elif isinstance(part.get("inlineData"), dict):
            data = part["inlineData"].get("data") or ""
            images.append((image_placeholder(part["inlineData"].get("mimeType"), len(data)), len(data)))
        elif isinstance(part.get("fileData"), dict):
            images.append((f"[file {part['fileData'].get('fileUri') or part['fileData'].get('mimeType') or ''}]".replace(" ]", "]"), None))
        # functionCall / functionResponse parts: represented by the toolCalls of the gemini message
    return "".join(texts), images, thoughts


def _items(key: str, rec: dict, ctx: ParseContext) -> Iterator[ParsedMessage]:
    mid = rec["id"]
    ts = parse_ts(rec.get("timestamp"))
    mtype = rec.get("type")
    if mtype == "user":
        yield from _user(key, rec, mid, ts)
    elif mtype == "gemini":
        yield from _gemini(key, rec, mid, ts)
    else:  # info, warning, error (and types added later): what the CLI itself said
        text, images, _ = _parts(rec.get("content"))
        if text.strip():
            yield ParsedMessage(key, "system", "text", text, mid, timestamp=ts, is_error=mtype == "error")
        for n, (placeholder, original) in enumerate(images):
            yield ParsedMessage(key, "system", "text", placeholder, f"{mid}#img{n}", timestamp=ts, original_len=original)


def _user(key: str, rec: dict, mid: str, ts) -> Iterator[ParsedMessage]:
    content, images, _ = _parts(rec.get("content"))
    display_raw = rec.get("displayContent")
    if display_raw is not None:
        display, _, _ = _parts(display_raw)
        if display.strip():
            yield ParsedMessage(key, "user", "text", display, mid, timestamp=ts)
            if content.strip() and " ".join(content.split()) != " ".join(display.split()):
                # what the CLI sent instead (a slash command's prompt, @file contents)
                yield ParsedMessage(key, "system", "text", content, f"{mid}#expanded", timestamp=ts)
        elif content.strip():
            # shown as something other than text (a tool response): generated, not typed
            yield ParsedMessage(key, "system", "text", content, mid, timestamp=ts)
    elif content.strip():
        stripped = content.lstrip()
        cut = content.find(_REFERENCED_FILES)
        if stripped.startswith("<state_snapshot>"):
            yield ParsedMessage(key, "system", "summary", content, mid, timestamp=ts)
        elif cut > 0 and content[:cut].strip():
            yield ParsedMessage(key, "user", "text", content[:cut], mid, timestamp=ts)
            yield ParsedMessage(key, "system", "text", content[cut:].lstrip("\n"), f"{mid}#expanded", timestamp=ts)
        else:
            yield ParsedMessage(key, "user", "text", content, mid, timestamp=ts)
    for n, (placeholder, original) in enumerate(images):
        yield ParsedMessage(key, "user", "text", placeholder, f"{mid}#img{n}", timestamp=ts, original_len=original)


def _gemini(key: str, rec: dict, mid: str, ts) -> Iterator[ParsedMessage]:
    text, images, part_thoughts = _parts(rec.get("content"))
    n = 0
    thoughts = rec.get("thoughts")
    for th in thoughts if isinstance(thoughts, list) else []:
        thought = _thought_text(th)
        if thought:
            yield ParsedMessage(key, "assistant", "thinking", thought, f"{mid}#think{n}",
                                timestamp=parse_ts(th.get("timestamp")) if isinstance(th, dict) else ts)
            n += 1
    for thought in part_thoughts:
        if thought.strip():
            yield ParsedMessage(key, "assistant", "thinking", thought, f"{mid}#think{n}", timestamp=ts)
            n += 1
    if text.strip():
        yield ParsedMessage(key, "assistant", "text", text, mid, timestamp=ts)
    for i, (placeholder, original) in enumerate(images):
        yield ParsedMessage(key, "assistant", "text", placeholder, f"{mid}#img{i}", timestamp=ts, original_len=original)
    calls = rec.get("toolCalls")
    if not isinstance(calls, list):
        return
    for j, call in enumerate(calls):
        if not isinstance(call, dict):
            continue
        cid = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else str(j)
        name = str(call.get("name") or call.get("displayName") or "tool")
        cts = parse_ts(call.get("timestamp")) or ts
        yield ParsedMessage(key, "assistant", "tool_use", _call_text(name, call.get("args")),
                            f"{mid}#call:{cid}", tool_name=name, timestamp=cts)
        result = _result(name, call)
        if result is not None:
            rtext, failed, original = result
            yield ParsedMessage(key, "tool", "tool_result", rtext, f"{mid}#out:{cid}", tool_name=name,
                                timestamp=cts, is_error=failed, original_len=original)


def _thought_text(th) -> str:
    if isinstance(th, str):
        return th.strip()
    if not isinstance(th, dict):
        return ""
    subject = th.get("subject") if isinstance(th.get("subject"), str) else ""
    desc = th.get("description") if isinstance(th.get("description"), str) else ""
    desc = _LEADING_ESCAPES.sub("", desc).strip()
    subject = subject.strip()
    if subject and desc:
        return f"**{subject}**\n\n{desc}"
    return subject or desc


def _call_text(name: str, args) -> str:
    if isinstance(args, dict) and "shell" in name and isinstance(args.get("command"), str):
        return args["command"]
    if args is None:
        return ""
    return json_text(args)


def _result(name: str, call: dict) -> tuple[str, bool, int | None] | None:
    """(text, failed, original length) of a tool call's result, None while it has none."""
    status = call.get("status")
    parts = call.get("result")
    texts: list[str] = []
    failed = status in ("error", "cancelled")
    original = None
    if isinstance(parts, list):
        for part in parts:
            if not isinstance(part, dict):
                continue
            fr = part.get("functionResponse")
            if isinstance(fr, dict):
                response = fr.get("response")
                if isinstance(response, dict):
                    if "error" in response and response["error"]:
                        failed = True
                    out = response.get("output")
                    err = response.get("error")
                    if isinstance(out, str):
                        texts.append(out)
                        if isinstance(err, str) and err.strip() and err.strip() not in out:
                            texts.append(err)  # "[Operation Cancelled] ..." beside what ran until then
                    elif isinstance(err, str):
                        texts.append(err)
                    elif response:
                        texts.append(json_text(response))
                elif response is not None:
                    texts.append(json_text(response))
            elif isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part.get("inlineData"), dict):
                data = part["inlineData"].get("data") or ""
                texts.append(image_placeholder(part["inlineData"].get("mimeType"), len(data)))
                original = (original or 0) + len(data)
    text = "\n".join(t for t in texts if t)
    if not text:
        display = call.get("resultDisplay")
        if isinstance(display, str) and display.strip():
            text = display
        elif isinstance(display, dict) and isinstance(display.get("fileDiff"), str):
            text = display["fileDiff"]
    if not text and status not in ("success", "error", "cancelled"):
        return None  # still running when the record was written
    if not text:
        text = f"[{status}]"
    if "shell" in name:
        m = _SHELL_EXIT.search(text)
        if m and int(m.group(1)) != 0:
            failed = True
    return text, failed, (original + len(text)) if original else None


def _last_model(messages: list[dict]) -> str | None:
    for rec in reversed(messages):
        if rec.get("type") == "gemini" and isinstance(rec.get("model"), str) and rec["model"]:
            return rec["model"]
    return None


def _parent_key(path: Path, meta: dict, key: str) -> str | None:
    """Subagent sessions live in chats/<parent session id>/<session id>.jsonl."""
    if meta.get("kind") != "subagent":
        return None
    parent = path.parent.name
    if path.parent.parent.name == "chats" and parent and parent != key:
        return parent
    return None


# --- the project root ----------------------------------------------------------------------------


def _is_abs(p: str) -> bool:
    return p.startswith("/") or bool(_WIN_ABS.match(p))


def _resolve_cwd(path: Path, meta: dict, messages: list[dict]) -> str | None:
    dirs = meta.get("directories")
    if isinstance(dirs, list):
        for d in dirs:
            if isinstance(d, str) and _is_abs(d):
                return d
    return _from_projects_json(path, meta.get("projectHash")) or _from_tool_paths(messages, meta.get("projectHash"))


def _from_projects_json(path: Path, project_hash: object) -> str | None:
    project_dir = next((p.parent for p in path.parents if p.name == "chats"), None)
    homes: list[Path] = []
    under_tmp = project_dir is not None and project_dir.parent.name == "tmp"
    if under_tmp:
        homes.append(project_dir.parent.parent)
    env = os.environ.get("GEMINI_CLI_HOME")
    if env:
        homes.append(Path(env) / ".gemini")
    homes.append(Path.home() / ".gemini")
    seen = set()
    for home in homes:
        if home in seen:
            continue
        seen.add(home)
        try:
            data = orjson.loads((home / "projects.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        projects = data.get("projects") if isinstance(data, dict) else None
        if not isinstance(projects, dict):
            continue
        for root, slug in projects.items():
            if not isinstance(root, str):
                continue
            if under_tmp and isinstance(slug, str) and slug == project_dir.name:
                return root
            if isinstance(project_hash, str) and hashlib.sha256(root.encode()).hexdigest() == project_hash:
                return root
    return None


def _from_tool_paths(messages: list[dict], project_hash: object = None) -> str | None:
    """The project root as the tool calls show it.

    Best: a directory, among those the calls show and their parents, whose sha256 is the
    session's projectHash. Else a relative path argument whose absolute form appears in the
    call's output (the prefix is the root the CLI resolved it against). Else the longest common
    directory of the absolute file paths and the directories given to tools.
    """
    roots: Counter[str] = Counter()
    dirs: list[str] = []
    for rec in messages:
        calls = rec.get("toolCalls") if rec.get("type") == "gemini" else None
        if not isinstance(calls, list):
            continue
        for call in calls:
            if not isinstance(call, dict) or not isinstance(call.get("args"), dict):
                continue
            args = call["args"]
            name = str(call.get("name") or "")
            for arg in _FILE_ARGS + _DIR_ARGS:
                value = args.get(arg)
                if not isinstance(value, str) or not value.strip():
                    continue
                value = value.strip()
                if _is_abs(value):
                    is_dir = arg in _DIR_ARGS or name in _DIR_TOOLS or "shell" in name
                    dirs.append(value if is_dir else _parent(value))
                elif not value.startswith("~"):
                    root = _root_from_output(value, call)
                    if root:
                        roots[root] += 1
    if isinstance(project_hash, str) and (roots or dirs):
        hashed = _hashed_root(list(roots) + dirs, project_hash)
        if hashed:
            return hashed
    if roots:
        return roots.most_common(1)[0][0]
    return _common_dir(dirs)


def _hashed_root(candidates: list[str], project_hash: str) -> str | None:
    """The first of the candidates, or of their parent directories, whose sha256 is projectHash."""
    seen: set[str] = set()
    for d in candidates:
        while d and d not in seen:
            seen.add(d)
            if hashlib.sha256(d.encode()).hexdigest() == project_hash:
                return d
            up = _parent(d)
            d = up if up != d else ""
    return None


def _parent(p: str) -> str:
    return ntpath.dirname(p) if _WIN_ABS.match(p) else posixpath.dirname(p)


def _root_from_output(rel: str, call: dict) -> str | None:
    rel = rel[2:] if rel.startswith("./") else rel
    rel = rel.rstrip("/")
    if not rel or rel.startswith("../"):
        return None
    texts = []
    for part in call.get("result") or []:
        fr = part.get("functionResponse") if isinstance(part, dict) else None
        response = fr.get("response") if isinstance(fr, dict) else None
        if isinstance(response, dict):
            for v in response.values():
                if isinstance(v, str):
                    texts.append(v[:2000])
    for text in texts:
        for m in _ABS_POSIX.finditer(text):
            candidate = m.group(1).rstrip(".:")
            if candidate.endswith("/" + rel):
                root = candidate[: -len(rel) - 1]
                if len(PurePosixPath(root).parts) >= 2:
                    return root
    return None


def _common_dir(dirs: list[str]) -> str | None:
    if not dirs:
        return None
    windows = [d for d in dirs if _WIN_ABS.match(d)]
    try:
        if windows:
            if len(windows) != len(dirs):
                return None
            common = ntpath.commonpath(windows)
            depth = len(PureWindowsPath(common).parts)
        else:
            common = posixpath.commonpath(dirs)
            depth = len(PurePosixPath(common).parts)
    except ValueError:
        return None
    return common if depth >= 3 else None  # "/" or "/Users" is not a project
