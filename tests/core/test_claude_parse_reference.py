"""The Claude Code parser gives exactly what it gave before it was made cheaper.

`_ReferenceParser` is ClaudeCodeParser as it was before (16af0e1: a context manager around each
line, a generator per line for the content blocks, parse_ts through its wrapper, the session
signature merged by a generator expression, the subagent description read up front). Both read
the real corpus files, and records of every kind with fields of unexpected shapes (numbers, lists,
empty strings where text was), whole and resumed part way (ctx.end, ctx.state), and must give the
same items, warnings and resume points.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import orjson
import pytest

from memtui.core.importers import base
from memtui.core.importers.base import (
    Item,
    LeafTitle,
    ParseContext,
    ParsedMessage,
    SessionInfo,
    image_placeholder,
    json_text,
    parse_ts,
)
from memtui.core.importers.claude import ClaudeCodeParser, _result_text, _subagent_description, _text  # (unchanged)
from tests.core.test_claude_parse_equivalence import _reference_iter_jsonl

_COMMAND = re.compile(r"<command-name>(.*?)</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.S)
_SKIP_SYSTEM_SUBTYPES = {"turn_duration", "stop_hook_summary", "informational_hook"}
_KEEP_TOOL_NAMES = 500
_RECORD_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError)


class _line_guard:
    def __init__(self, ctx, lineno):
        self.ctx = ctx
        self.lineno = lineno

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, _RECORD_ERRORS):
            self.ctx.warn(f"unexpected record, line skipped ({exc_type.__name__}: {exc})", self.lineno)
            return True
        return False


class _ReferenceParser(ClaudeCodeParser):
    def parse(self, ctx: ParseContext) -> Iterator[Item]:  # noqa: C901
        tool_names: dict[str, str] = dict(ctx.state.get("tool_names", {}))
        announced: dict[str, tuple] = {}
        earliest: dict[str, float] = {}  # per session: the earliest started_at announced
        fallback_key = ctx.state.get("session") or ctx.path.stem
        meta_title = _subagent_description(ctx.path)
        for lineno, obj in _reference_iter_jsonl(ctx, base.MAX_LINE_BYTES):
            with _line_guard(ctx, lineno):
                if not isinstance(obj, dict):
                    ctx.warn("not a JSON object, line skipped", lineno)
                    continue
                kind = obj.get("type")
                if kind == "summary":
                    if obj.get("leafUuid") and obj.get("summary"):
                        yield LeafTitle(str(obj["leafUuid"]), str(obj["summary"]))
                    continue
                if kind == "ai-title":
                    if obj.get("sessionId") and obj.get("aiTitle"):
                        yield SessionInfo(key=str(obj["sessionId"]), tool=self.tool, title=str(obj["aiTitle"]))
                    continue
                if kind not in ("user", "assistant", "system"):
                    continue  # snapshots, queue operations, progress, attachments, ... are not conversation
                session_id = str(obj.get("sessionId") or fallback_key)
                key = session_id
                parent = None
                agent = obj.get("agentId")
                if obj.get("isSidechain") and agent:
                    key, parent = f"{session_id}/agent-{agent}", session_id
                message = obj.get("message") if isinstance(obj.get("message"), dict) else {}
                ts = parse_ts(obj.get("timestamp"))
                model = _text(message.get("model")) if kind == "assistant" else None
                if model == "<synthetic>":
                    model = None
                signature = (obj.get("cwd"), obj.get("gitBranch"), model)
                if announced.get(key) != signature and (key not in announced or any(signature)):
                    prev = announced.get(key)
                    merged = tuple(s or p for s, p in zip(signature, prev or (None, None, None)))
                    announced[key] = merged
                    # Announce again only what changes the session: a new cwd/branch/model value or an
                    # earlier start (user and assistant lines alternate signatures without news).
                    if prev is None or merged != prev or (ts and (key not in earliest or ts < earliest[key])):
                        if ts and (key not in earliest or ts < earliest[key]):
                            earliest[key] = ts
                        yield SessionInfo(
                            key=key,
                            tool=self.tool,
                            cwd=_text(obj.get("cwd")),
                            git_branch=_text(obj.get("gitBranch")),
                            model=model,
                            started_at=ts,
                            parent_key=parent,
                            title=meta_title if parent else None,
                        )
                fallback_key = session_id
                uuid = str(obj.get("uuid") or f"L{lineno}")
                yield from self._blocks(kind, obj, message, key, uuid, ts, tool_names)
        ctx.state["session"] = fallback_key
        if tool_names:
            ctx.state["tool_names"] = dict(list(tool_names.items())[-_KEEP_TOOL_NAMES:])

    def _blocks(self, kind, obj, message, key, uuid, ts, tool_names) -> Iterator[ParsedMessage]:
        if kind == "system":
            subtype = obj.get("subtype")
            content = obj.get("content")
            if subtype in _SKIP_SYSTEM_SUBTYPES or not isinstance(content, str) or not content.strip():
                return
            mkind = "summary" if subtype == "compact_boundary" else "text"
            yield ParsedMessage(key, "system", mkind, content, uuid, timestamp=ts)
            return
        content = message.get("content")
        group = message.get("id") if kind == "assistant" else None
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            return
        role = "assistant" if kind == "assistant" else "user"
        n = 0
        for block in content:
            if not isinstance(block, dict):
                continue
            ext = uuid if n == 0 else f"{uuid}#{n}"
            btype = block.get("type")
            msg = None
            if btype == "text":
                text = block.get("text") or ""
                if not text.strip():
                    continue
                msg = self._text(role, obj, text, key, ext, ts)
            elif btype == "thinking":
                text = block.get("thinking") or ""
                if text.strip():
                    msg = ParsedMessage(key, "assistant", "thinking", text, ext, timestamp=ts)
            elif btype == "tool_use":
                name = str(block.get("name") or "tool")
                if block.get("id"):
                    tool_names[str(block["id"])] = name
                msg = ParsedMessage(key, "assistant", "tool_use", json_text(block.get("input")), ext, tool_name=name, timestamp=ts)
            elif btype == "tool_result":
                name = tool_names.get(str(block.get("tool_use_id")), None)
                text, original = _result_text(block.get("content"))
                msg = ParsedMessage(
                    key, "tool", "tool_result", text, ext, tool_name=name, timestamp=ts,
                    is_error=bool(block.get("is_error")), original_len=original,
                )
            elif btype == "image":
                source = block.get("source") or {}
                data = source.get("data") or ""
                placeholder = image_placeholder(source.get("media_type"), len(data))
                msg = ParsedMessage(key, role, "text", placeholder, ext, timestamp=ts, original_len=len(data))
            elif btype == "document":
                msg = ParsedMessage(key, role, "text", "[document attached]", ext, timestamp=ts)
            if msg is not None:
                msg.group_id = group
                n += 1
                yield msg

    @staticmethod
    def _text(role, obj, text, key, ext, ts) -> ParsedMessage:
        if role == "assistant":
            return ParsedMessage(key, "assistant", "text", text, ext, timestamp=ts)
        if obj.get("isCompactSummary"):
            return ParsedMessage(key, "system", "summary", text, ext, timestamp=ts)
        if obj.get("isMeta"):
            return ParsedMessage(key, "system", "text", text, ext, timestamp=ts)
        stripped = text.lstrip()
        if stripped.startswith("<command-name>") or stripped.startswith("<command-message>"):
            m = _COMMAND.search(text)
            if m:
                command = m.group(1).strip()
                a = _COMMAND_ARGS.search(text)
                args = a.group(1).strip() if a else ""
                return ParsedMessage(key, "user", "text", f"{command} {args}".strip(), ext, timestamp=ts)
        if stripped.startswith(("<local-command-stdout>", "<local-command-stderr>", "<bash-stdout>", "<bash-stderr>")):
            return ParsedMessage(key, "system", "text", text, ext, timestamp=ts)
        if stripped.startswith("[Request interrupted by user"):
            return ParsedMessage(key, "system", "text", stripped, ext, timestamp=ts)
        return ParsedMessage(key, "user", "text", text, ext, timestamp=ts)


# --- the comparison ---------------------------------------------------------------------------

_BASE = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/home/u/p", "sessionId": "s1",
         "version": "2.0.0", "gitBranch": "main", "timestamp": "2025-11-13T11:44:23.432Z"}
_TEMPLATES = [
    {"type": "user", "message": {"role": "user", "content": "hello there"}},
    {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": "  a question?"}]}},
    {"type": "user", "message": {"role": "user", "content": "<command-name>/model</command-name>\n<command-args>opus</command-args>"}},
    {"type": "user", "message": {"role": "user", "content": "<command-message>init</command-message><command-name>/init</command-name>"}},
    {"type": "user", "message": {"role": "user", "content": "<local-command-stdout>done</local-command-stdout>"}},
    {"type": "user", "message": {"role": "user", "content": " [Request interrupted by user for tool use]"}},
    {"type": "user", "isMeta": True, "message": {"role": "user", "content": "Caveat: meta"}},
    {"type": "user", "isCompactSummary": True, "message": {"role": "user", "content": "Summary of before"}},
    {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": "file written", "is_error": False}]}},
    {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t2", "is_error": True, "content": [
            {"type": "text", "text": "out"}, {"type": "image", "source": {"media_type": "image/png", "data": "QUJD" * 50}},
            {"type": "tool_reference", "tool_name": "Grep"}, {"type": "other", "x": [1, 2]}]}]}},
    {"type": "user", "message": {"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QUJD" * 300}},
        {"type": "document", "source": {}}, {"type": "text", "text": "what is this?"}]}},
    {"type": "assistant", "message": {"id": "msg_1", "model": "claude-opus-4", "role": "assistant",
                                      "content": [{"type": "thinking", "thinking": "let me think"}]}},
    {"type": "assistant", "message": {"id": "msg_1", "model": "claude-opus-4", "content": [{"type": "text", "text": "Sure."}]}},
    {"type": "assistant", "message": {"id": "msg_2", "model": "<synthetic>", "content": [
        {"type": "tool_use", "id": "t1", "name": "Write", "input": {"file_path": "/a.py", "content": "x = 1\n"}},
        {"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": "ls"}}, {"type": "text", "text": " "}]}},
    {"type": "assistant", "message": {"id": "msg_3", "model": "claude-sonnet-4", "content": "plain string reply"}},
    {"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted"},
    {"type": "system", "subtype": "turn_duration", "content": "12s"},
    {"type": "system", "subtype": "informational", "content": "Running hook"},
    {"type": "system", "subtype": [1], "content": None},
    {"type": "system", "subtype": {"a": 1}, "content": "  "},
    {"type": "user", "message": {"role": "user", "content": "   "}},
    {"type": "assistant", "message": {"id": "msg_4", "model": "claude-opus-4", "content": ""}},
    {"type": "summary", "summary": "A title", "leafUuid": "u-9"},
    {"type": "ai-title", "sessionId": "s1", "aiTitle": "Fixing the parser"},
    {"type": "file-history-snapshot", "snapshot": {}},
    {"type": "attachment", "attachment": {"type": "x"}},
    {"type": "user", "isSidechain": True, "agentId": "a1b2", "message": {"role": "user", "content": "sub task"}},
    {"type": "assistant", "isSidechain": True, "agentId": "a1b2", "message": {"id": "m9", "model": "claude-haiku",
                                                                              "content": [{"type": "text", "text": "sub reply"}]}},
]
# values that a field of the wrong shape may hold instead
_ODD = [None, 0, 1, 2.5, True, False, "", " ", "x", "<synthetic>", [], [1], {}, {"a": 1}, "user", "assistant", "system",
        "2025-01-01T00:00:00.000Z", "2024-12-31T23:59:59.999Z", "2025-13-01T00:00:00.000Z", "2025-01-01T10:61:00.000Z",
        "2025-01-01 10:01:00", "2025-01-01T10:01:00+02:00", "1700000000", 1700000000, 1.7e12, "nan", "  \n",
        "<command-name>/x</command-name>", [{"type": "text", "text": 5}], [{"type": "image", "source": None}],
        [7, "s", {"type": "weird"}], {"type": "text", "text": "hi"}, "compact_boundary", "s2", "a1b2"]


def _mutate(rng: random.Random, value, depth: int = 0) -> None:
    """Replace one field somewhere inside `value` (a dict or list) with an odd value."""
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    if not keys:
        return
    k = rng.choice(keys)
    if isinstance(value[k], (dict, list)) and depth < 4 and rng.random() < 0.6:
        _mutate(rng, value[k], depth + 1)
    else:
        value[k] = copy.deepcopy(rng.choice(_ODD))


def _records(seed: int, n: int) -> bytes:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        rec = {**_BASE, **copy.deepcopy(rng.choice(_TEMPLATES)), "uuid": f"u-{i}"}
        if rng.random() < 0.3:
            rec["sessionId"] = rng.choice(["s1", "s2", "", None])
        if rng.random() < 0.2:
            rec["timestamp"] = f"2025-11-{rng.randrange(10, 14)}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.{rng.randrange(1000):03d}Z"
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            _mutate(rng, rec)
        if rng.random() < 0.03:
            rec = copy.deepcopy(rng.choice(_ODD))
        lines.append(orjson.dumps(rec))
    return b"\n".join(lines) + b"\n"


def _announce_records(seed: int, n: int) -> bytes:
    """Lines whose session fields (cwd, branch, model, start, session and agent ids) come from small
    pools with empty and odd values: what the parser announces about sessions, and when."""
    rng = random.Random(seed)
    pools = {
        "cwd": ["/a", "/b", "", None, 0, [], 1, 1.0, True],  # (1, 1.0 and True are equal)
        "gitBranch": ["main", "dev", "", None, False],
        "timestamp": ["2025-11-13T11:44:23.432Z", "2025-11-13T10:00:00.000Z", "2025-11-14T09:00:00.000Z",
                      "2025-11-13T11:44", "", None, 1.7e12, "x"],
        "sessionId": ["s1", "s2", "", None],
        "isSidechain": [True, False, None],
        "agentId": ["a1", "a2", "", None],
    }
    models = ["claude-opus-4", "claude-haiku", "<synthetic>", "", None, 3]
    lines = []
    for i in range(n):
        rec = {"type": rng.choice(["user", "assistant", "assistant", "system"]), "uuid": rng.choice([f"u-{i}", "", None])}
        for field, pool in pools.items():
            if rng.random() < 0.9:
                rec[field] = rng.choice(pool)
        rec["message"] = {"model": rng.choice(models), "content": [{"type": "text", "text": f"line {i}"}]}
        rec["content"] = f"system line {i}"
        lines.append(orjson.dumps(rec))
    return b"\n".join(lines) + b"\n"


def _stream(parser, path: Path, start: int = 0, state: dict | None = None):
    ctx = ParseContext(path=path, start=start, state=copy.deepcopy(state or {}))
    items = [(type(item).__name__, asdict(item), ctx.end) for item in parser.parse(ctx)]
    return items, ctx.warnings, ctx.end, ctx.state


def _same(path: Path, rng: random.Random, scratch: Path) -> None:
    """Whole, and in two runs cut at a random byte as an import of a file being written would be
    (that copy is made in the folder `scratch`)."""
    want = _stream(_ReferenceParser(), path)
    got = _stream(ClaudeCodeParser(), path)
    assert repr(got) == repr(want)  # (repr: 1 and 1.0, True and 1 differ too)
    data = path.read_bytes()
    cut = rng.randrange(len(data) + 1)
    part = scratch / path.name
    meta = path.with_name(path.stem + ".meta.json")
    if meta.exists():
        part.with_name(meta.name).write_bytes(meta.read_bytes())
    part.write_bytes(data[:cut])
    first = _stream(_ReferenceParser(), part)
    assert repr(_stream(ClaudeCodeParser(), part)) == repr(first)
    part.write_bytes(data)
    assert repr(_stream(ClaudeCodeParser(), part, first[2], first[3])) == repr(
        _stream(_ReferenceParser(), part, first[2], first[3])
    )


@pytest.mark.parametrize("seed", range(12))
def test_records_of_every_kind_and_odd_shape(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "projects" / "-home-u-p" / f"s{seed}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(_records(seed, 300))
    _same(path, rng, tmp_path)
    # the same lines in a subagent file, with and without the description beside it
    sub = path.parent / "s1" / "subagents" / "agent-a1b2.jsonl"
    sub.parent.mkdir(parents=True)
    sub.write_bytes(path.read_bytes())
    _same(sub, rng, tmp_path)
    meta = sub.with_name("agent-a1b2.meta.json")
    meta.write_bytes(orjson.dumps({"agentType": "Explore", "description": "Look around"} if seed % 3 else {"description": 5}))
    _same(sub, rng, tmp_path)
    meta.write_bytes(b"{not json")
    _same(sub, rng, tmp_path)


@pytest.mark.parametrize("seed", range(40))
def test_session_announcements(tmp_path, seed):
    path = tmp_path / "projects" / "-a" / f"s{seed}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(_announce_records(seed, 60))
    _same(path, random.Random(seed), tmp_path)


def test_the_corpus_files(corpus, tmp_path):
    rng = random.Random(1)
    files = sorted((corpus / "claude-code").rglob("*.jsonl"))
    assert files
    for i, path in enumerate(files):
        scratch = tmp_path / str(i)
        scratch.mkdir()
        _same(path, rng, scratch)
