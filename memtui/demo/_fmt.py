"""Writers for the two transcript formats the demo sessions ship in (Claude Code, Codex CLI).

Used only by `memtui.demo._sessions` to (re)generate the files under `sessions/`; the app never
imports this module. Everything is deterministic: ids are derived from a seed and a counter,
timestamps from a fixed start and explicit waits, so regenerating gives identical bytes.

The record shapes follow what the tools really write (see docs/transcript-formats.md §1 and §2):
Claude Code splits one API response into one line per content block sharing `message.id`, tool
results come back as `user` lines with a `toolUseResult` sidecar; Codex writes every visible
message twice (`response_item` and `event_msg`) and a `token_count` after each model call.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def b62(seed: str, n: int) -> str:
    value = int.from_bytes(_digest(seed) * 2, "big")
    out = []
    for _ in range(n):
        value, r = divmod(value, 62)
        out.append(_B62[r])
    return "".join(out)


def uuid4_from(seed: str) -> str:
    return str(uuid.UUID(bytes=_digest(seed)[:16], version=4))


def uuid7_from(seed: str, when: datetime) -> str:
    ms = int(when.timestamp() * 1000)
    raw = bytearray(ms.to_bytes(6, "big") + _digest(seed)[:10])
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(raw)))


def iso(t: datetime) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def dumps(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def numbered(text: str, start: int = 1) -> str:
    """The Read tool's rendering: right-aligned line numbers, an arrow, the line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "\n".join(f"{i:>6}\u2192{line}" for i, line in enumerate(lines, start))


def structured_patch(old: str, new: str) -> list[dict]:
    a, b = old.split("\n"), new.split("\n")
    hunks = []
    for group in difflib.SequenceMatcher(None, a, b).get_grouped_opcodes(4):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        lines = []
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                lines += [" " + ln for ln in a[a1:a2]]
            else:
                lines += ["-" + ln for ln in a[a1:a2]]
                lines += ["+" + ln for ln in b[b1:b2]]
        hunks.append({"oldStart": i1 + 1, "oldLines": i2 - i1, "newStart": j1 + 1, "newLines": j2 - j1, "lines": lines})
    return hunks


REJECTED = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, "
    "the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how "
    "to proceed."
)
TODO_OK = (
    "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. "
    "Please proceed with the current tasks if applicable"
)


class ClaudeSession:
    """One ~/.claude/projects/<slug>/<session-id>.jsonl file."""

    def __init__(self, *, seed: str, cwd: str, branch: str, version: str, model: str, start: str,
                 files: dict[str, str]) -> None:
        self.seed = seed
        self.session_id = uuid4_from(f"{seed}:session")
        self.cwd = cwd
        self.branch = branch
        self.version = version
        self.model = model
        self.t = parse_iso(start)
        self.fs = dict(files)  # path relative to cwd -> current content
        self.lines: list[dict] = []
        self.head: list[dict] = []  # lines written before the conversation (summary titles)
        self.parent: str | None = None
        self.n = 0
        self.todos: list[dict] = []
        self.tokens = 11_800  # grows like a real context window

    # --- plumbing -------------------------------------------------------------------------

    def _id(self, kind: str) -> str:
        self.n += 1
        return f"{self.seed}:{kind}:{self.n}"

    def wait(self, seconds: float) -> str:
        self.t += timedelta(seconds=seconds)
        return iso(self.t)

    def path(self, rel: str) -> str:
        return f"{self.cwd}/{rel}"

    def _envelope(self, type_: str) -> dict:
        return {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": self.branch,
            "type": type_,
        }

    def _append(self, line: dict, wait: float) -> str:
        u = uuid4_from(self._id("uuid"))
        line["uuid"] = u
        line["timestamp"] = self.wait(wait)
        self.lines.append(line)
        self.parent = u
        return u

    def snapshot(self) -> None:
        """A file-history-snapshot line (Claude Code writes one before each prompt; memtui skips them)."""
        mid = uuid4_from(self._id("snap"))
        self.lines.append({
            "type": "file-history-snapshot",
            "messageId": mid,
            "snapshot": {"messageId": mid, "trackedFileBackups": {}, "timestamp": iso(self.t)},
            "isSnapshotUpdate": False,
        })

    # --- user side ------------------------------------------------------------------------

    def user(self, text: str, wait: float = 40) -> str:
        self.snapshot()
        line = self._envelope("user")
        line["message"] = {"role": "user", "content": text}
        return self._append(line, wait)

    def interrupted(self) -> str:
        line = self._envelope("user")
        line["message"] = {"role": "user", "content": [{"type": "text", "text": "[Request interrupted by user for tool use]"}]}
        return self._append(line, 0.4)

    def _result(self, tool_id: str, content: str, sidecar, *, is_error: bool = False, wait: float = 1.2) -> str:
        line = self._envelope("user")
        block: dict = {"tool_use_id": tool_id, "type": "tool_result", "content": content}
        if is_error:
            block["is_error"] = True
        line["message"] = {"role": "user", "content": [block]}
        u = self._append(line, wait)
        line["toolUseResult"] = sidecar
        return u

    # --- assistant side -------------------------------------------------------------------

    def _reply(self, blocks: list[dict], wait: float) -> list[str]:
        """One API response written as one line per content block, sharing message.id."""
        mid = "msg_01" + b62(self._id("msg"), 22)
        rid = "req_011C" + b62(self._id("req"), 20)
        out_tokens = max(8, sum(len(json.dumps(b)) for b in blocks) // 4)
        usage = {
            "input_tokens": 6 + len(self.lines) % 7,
            "cache_creation_input_tokens": 180 + (len(self.lines) * 37) % 900,
            "cache_read_input_tokens": self.tokens,
            "cache_creation": {"ephemeral_5m_input_tokens": 180 + (len(self.lines) * 37) % 900, "ephemeral_1h_input_tokens": 0},
            "output_tokens": out_tokens,
            "service_tier": "standard",
        }
        self.tokens += out_tokens + 240
        uuids = []
        for i, block in enumerate(blocks):
            line = self._envelope("assistant")
            line["message"] = {
                "model": self.model,
                "id": mid,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage,
            }
            line["requestId"] = rid
            # move "type" after requestId like the real files (JSON key order is cosmetic)
            line["type"] = line.pop("type")
            uuids.append(self._append(line, wait if i == 0 else 0.6 + (len(json.dumps(block)) % 40) / 10))
        return uuids

    def _blocks(self, thinking: str | None, text: str | None) -> list[dict]:
        blocks = []
        if thinking:
            sig = base64.b64encode(_digest(self._id("sig"), thinking) * 9).decode()
            blocks.append({"type": "thinking", "thinking": thinking, "signature": "Eu" + sig[:330]})
        if text:
            blocks.append({"type": "text", "text": text})
        return blocks

    def say(self, text: str, *, thinking: str | None = None, wait: float = 6) -> str:
        return self._reply(self._blocks(thinking, text), wait)[-1]

    def _tool(self, name: str, input_: dict, thinking, text, wait) -> str:
        tool_id = "toolu_01" + b62(self._id("toolu"), 22)
        blocks = self._blocks(thinking, text) + [{"type": "tool_use", "id": tool_id, "name": name, "input": input_}]
        self._reply(blocks, wait)
        return tool_id

    # --- tools (each: one assistant response ending in the call, then its result) ----------

    def read(self, rel: str, *, thinking: str | None = None, text: str | None = None, wait: float = 4) -> None:
        path = self.path(rel)
        tid = self._tool("Read", {"file_path": path}, thinking, text, wait)
        content = self.fs[rel]
        total = content.count("\n") + (0 if content.endswith("\n") else 1)
        self._result(tid, numbered(content), {
            "type": "text",
            "file": {"filePath": path, "content": content, "numLines": total, "startLine": 1, "totalLines": total},
        })

    def edit(self, rel: str, old: str, new: str, *, thinking: str | None = None, text: str | None = None,
             reject: bool = False, wait: float = 5) -> None:
        path = self.path(rel)
        before = self.fs[rel]
        if before.count(old) != 1:
            raise ValueError(f"{rel}: old_string must occur exactly once ({before.count(old)} times)")
        tid = self._tool("Edit", {"file_path": path, "old_string": old, "new_string": new}, thinking, text, wait)
        if reject:
            self._result(tid, REJECTED, "Error: " + REJECTED, is_error=True, wait=9)
            return
        after = before.replace(old, new)
        self.fs[rel] = after
        start = after[: after.index(new)].count("\n") + 1
        lines = after.split("\n")
        lo, hi = max(1, start - 3), min(len(lines), start + new.count("\n") + 3)
        snippet = "\n".join(f"{i:>6}\u2192{lines[i - 1]}" for i in range(lo, hi + 1))
        self._result(tid, f"The file {path} has been updated. Here's the result of running `cat -n` on a snippet "
                          f"of the edited file:\n{snippet}", {
            "filePath": path,
            "oldString": old,
            "newString": new,
            "originalFile": before,
            "structuredPatch": structured_patch(before, after),
            "userModified": False,
            "replaceAll": False,
        })

    def write(self, rel: str, content: str, *, thinking: str | None = None, text: str | None = None,
              wait: float = 8) -> None:
        path = self.path(rel)
        tid = self._tool("Write", {"file_path": path, "content": content}, thinking, text, wait)
        before = self.fs.get(rel)
        self.fs[rel] = content
        if before is None:
            self._result(tid, f"File created successfully at: {path}",
                         {"type": "create", "filePath": path, "content": content, "structuredPatch": []})
        else:
            self._result(tid, f"The file {path} has been updated. Here's the result of running `cat -n` on a "
                              f"snippet of the edited file:\n{numbered(content)}",
                         {"type": "update", "filePath": path, "content": content,
                          "structuredPatch": structured_patch(before, content)})

    def bash(self, command: str, description: str, output: str, *, exit_code: int = 0, stderr: str = "",
             thinking: str | None = None, text: str | None = None, reject: bool = False, wait: float = 4,
             runtime: float = 2.0) -> None:
        tid = self._tool("Bash", {"command": command, "description": description}, thinking, text, wait)
        if reject:
            self._result(tid, REJECTED, "Error: " + REJECTED, is_error=True, wait=7)
            return
        combined = output + (("\n" if output and stderr else "") + stderr if stderr else "")
        if exit_code:
            body = f"Exit code {exit_code}\n{combined}".rstrip("\n")
            self._result(tid, body, "Error: " + body, is_error=True, wait=runtime)
        else:
            self._result(tid, combined.rstrip("\n"),
                         {"stdout": output.rstrip("\n"), "stderr": stderr.rstrip("\n"), "interrupted": False,
                          "isImage": False}, wait=runtime)

    def todo(self, items: list[tuple[str, str, str]], *, thinking: str | None = None, text: str | None = None,
             wait: float = 4) -> None:
        """items: (content, status, activeForm)."""
        new = [{"content": c, "status": s, "activeForm": a} for c, s, a in items]
        tid = self._tool("TodoWrite", {"todos": new}, thinking, text, wait)
        self._result(tid, TODO_OK, {"oldTodos": self.todos, "newTodos": new}, wait=0.3)
        self.todos = new

    def turn_duration(self, ms: int, count: int) -> None:
        line = self._envelope("system")
        line.update({"subtype": "turn_duration", "durationMs": ms, "messageCount": count, "isMeta": False})
        self._append(line, 0.1)

    def summary(self, title: str) -> None:
        """A title line for the session's last message (written at the top, as resumed sessions have them)."""
        self.head.append({"type": "summary", "summary": title, "leafUuid": self.parent})

    def render(self) -> str:
        return "".join(dumps(obj) + "\n" for obj in self.head + self.lines)


class CodexRollout:
    """One $CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl file.

    style "2025" (cli 0.5x): `shell` calls with an argv array and JSON-wrapped outputs carrying
    metadata.exit_code; style "2026" (cli 0.9x): `shell_command` with a string, plain-text
    outputs that begin with "Exit code: N", turn ids, message phases, task_started/complete.
    """

    def __init__(self, *, seed: str, cwd: str, cli_version: str, model: str, start: str, git: dict,
                 style: str, shell: str = "bash", timezone_name: str = "Europe/Berlin",
                 instructions: str | None = None) -> None:
        self.seed = seed
        self.cwd = cwd
        self.cli_version = cli_version
        self.model = model
        self.style = style
        self.shell_name = shell
        self.tz = timezone_name
        self.instructions = instructions
        self.t = parse_iso(start)
        self.id = uuid7_from(f"{seed}:id", self.t)
        self.git = git
        self.lines: list[dict] = []
        self.n = 0
        self.turn_id: str | None = None
        self.total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_output_tokens": 0,
                      "total_tokens": 0}
        self.context = 9_400
        self.last_message = ""
        local = self.t + timedelta(hours=1)  # the file name uses local time (CET in the demo)
        self.filename = f"rollout-{local:%Y-%m-%dT%H-%M-%S}-{self.id}.jsonl"

    def _n(self, kind: str) -> str:
        self.n += 1
        return f"{self.seed}:{kind}:{self.n}"

    def wait(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)

    def _emit(self, type_: str, payload: dict, wait: float = 0.0) -> None:
        self.wait(wait)
        self.lines.append({"timestamp": iso(self.t), "type": type_, "payload": payload})

    # --- session start ----------------------------------------------------------------------

    def meta(self) -> None:
        payload = {
            "id": self.id,
            "timestamp": iso(self.t - timedelta(milliseconds=14)),
            "cwd": self.cwd,
            "originator": "codex_cli_rs",
            "cli_version": self.cli_version,
            "instructions": None,
            "source": "cli",
            "model_provider": "openai",
            "git": self.git,
        }
        self._emit("session_meta", payload)
        if self.style == "2026":
            self._emit("response_item", {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": (
                "<permissions instructions>\nFilesystem sandboxing defines which files can be read or written. "
                "`sandbox_mode` is `workspace-write`: The sandbox permits reading files, and editing files in `cwd` "
                "and `writable_roots`. Editing files in other directories requires approval. Network access is "
                "restricted.\n</permissions instructions>")}]}, 0.002)
        if self.instructions:
            if self.style == "2026":
                text = f"# AGENTS.md instructions for {self.cwd}\n\n<INSTRUCTIONS>\n{self.instructions}\n</INSTRUCTIONS>"
            else:
                text = f"<user_instructions>\n\n{self.instructions}\n\n</user_instructions>"
            self._emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}, 0.002)
        env = (f"<environment_context>\n  <cwd>{self.cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n"
               f"  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
               f"  <shell>{self.shell_name}</shell>\n")
        if self.style == "2026":
            env += f"  <current_date>{self.t:%Y-%m-%d}</current_date>\n  <timezone>{self.tz}</timezone>\n"
        env += "</environment_context>"
        self._emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": env}]}, 0.004)

    def _turn_context(self) -> None:
        payload: dict = {}
        if self.style == "2026":
            payload["turn_id"] = self.turn_id
            payload["current_date"] = f"{self.t:%Y-%m-%d}"
            payload["timezone"] = self.tz
        payload["cwd"] = self.cwd
        payload["approval_policy"] = "on-request"
        if self.style == "2026":
            payload["sandbox_policy"] = {"type": "workspace-write", "writable_roots": [self.cwd], "network_access": False,
                                         "exclude_tmpdir_env_var": False, "exclude_slash_tmp": False}
        else:
            payload["sandbox_policy"] = {"mode": "workspace-write", "network_access": False}
        payload["model"] = self.model
        payload["effort"] = "medium"
        payload["summary"] = "auto"
        self._emit("turn_context", payload)

    # --- conversation -----------------------------------------------------------------------

    def user(self, text: str, wait: float = 30) -> None:
        if self.style == "2026":
            self.wait(wait)
            self.turn_id = uuid7_from(self._n("turn"), self.t)
            self._emit("event_msg", {"type": "task_started", "turn_id": self.turn_id, "model_context_window": 258400,
                                     "collaboration_mode_kind": "default"})
            wait = 0.001
        self._emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}, wait)
        event = {"type": "user_message", "message": text, "images": []}
        if self.style == "2026":
            event.update({"local_images": [], "text_elements": []})
        else:
            event["kind"] = "plain"
        self._emit("event_msg", event)
        self._turn_context()
        self._tokens(None)

    def _tokens(self, out: int | None) -> None:
        if out is None:
            info = None
        else:
            last = {"input_tokens": self.context, "cached_input_tokens": max(0, self.context - 900 - out % 300),
                    "output_tokens": out, "reasoning_output_tokens": out // 3 // 64 * 64,
                    "total_tokens": self.context + out}
            for k in self.total:
                self.total[k] += last[k]
            info = {"total_token_usage": dict(self.total), "last_token_usage": last, "model_context_window": 272000}
            self.context += out + 420
        limits = {"primary": {"used_percent": round(min(90.0, len(self.lines) / 9), 1), "window_minutes": 299,
                              "resets_in_seconds": 15_000 - len(self.lines) * 11},
                  "secondary": {"used_percent": 21.0, "window_minutes": 10079, "resets_in_seconds": 402_000}}
        self._emit("event_msg", {"type": "token_count", "info": info, "rate_limits": limits}, 0.6 if out else 0.9)

    def reason(self, summary: str, wait: float = 3) -> None:
        self._emit("event_msg", {"type": "agent_reasoning", "text": summary}, wait)
        enc = "gAAAAAB" + base64.urlsafe_b64encode(_digest(self._n("enc"), summary) * 12).decode()[:520]
        self._emit("response_item", {"type": "reasoning", "summary": [{"type": "summary_text", "text": summary}],
                                     "content": None, "encrypted_content": enc}, 0.8)

    def say(self, text: str, *, final: bool = False, wait: float = 4) -> None:
        phase = "final_answer" if final else "commentary"
        event = {"type": "agent_message", "message": text}
        item = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
        if self.style == "2026":
            event["phase"] = phase
            item["phase"] = phase
        self._emit("event_msg", event, wait)
        self._emit("response_item", item, 0.02)
        self.last_message = text
        if final:
            self._tokens(len(text) // 3)
            if self.style == "2026":
                self._emit("event_msg", {"type": "task_complete", "turn_id": self.turn_id, "last_agent_message": text}, 0.01)

    def shell(self, command: str, output: str, *, exit_code: int = 0, seconds: float = 0.3, wait: float = 3,
              reason: str | None = None) -> None:
        if reason:
            self.reason(reason, wait)
            wait = 0.01
        call_id = "call_" + b62(self._n("call"), 24)
        if self.style == "2026":
            args = {"command": command, "workdir": self.cwd, "timeout_ms": 120000}
            self._emit("response_item", {"type": "function_call", "name": "shell_command",
                                         "arguments": json.dumps(args, ensure_ascii=False), "call_id": call_id}, wait)
            shown = f"{seconds:.1f}".rstrip("0").rstrip(".") if seconds >= 1 else "0"
            text = f"Exit code: {exit_code}\nWall time: {shown} seconds\nOutput:\n{output}"
        else:
            args = {"command": [self.shell_name, "-lc", command], "workdir": self.cwd, "timeout_ms": 120000}
            self._emit("response_item", {"type": "function_call", "name": "shell",
                                         "arguments": json.dumps(args, ensure_ascii=False), "call_id": call_id}, wait)
            text = json.dumps({"output": output, "metadata": {"exit_code": exit_code, "duration_seconds": round(seconds, 1)}},
                              ensure_ascii=False, separators=(",", ":"))
        self._emit("response_item", {"type": "function_call_output", "call_id": call_id, "output": text}, seconds)
        if self.style == "2025":
            self._turn_context()
        self._tokens(60 + len(command) // 2)

    def patch(self, patch: str, *, wait: float = 6, reason: str | None = None) -> None:
        if reason:
            self.reason(reason, wait)
            wait = 0.01
        call_id = "call_" + b62(self._n("call"), 24)
        self._emit("response_item", {"type": "custom_tool_call", "status": "completed", "call_id": call_id,
                                     "name": "apply_patch", "input": patch}, wait)
        changed = []
        for line in patch.split("\n"):
            for marker, letter in (("*** Add File: ", "A"), ("*** Update File: ", "M"), ("*** Delete File: ", "D")):
                if line.startswith(marker):
                    changed.append(f"{letter} {line[len(marker):]}")
        out = {"output": "Success. Updated the following files:\n" + "\n".join(changed) + "\n",
               "metadata": {"exit_code": 0, "duration_seconds": 0.0}}
        self._emit("response_item", {"type": "custom_tool_call_output", "call_id": call_id,
                                     "output": json.dumps(out, ensure_ascii=False, separators=(",", ":"))}, 0.05)
        if self.style == "2025":
            self._turn_context()
        self._tokens(40 + len(patch) // 4)

    def plan(self, steps: list[tuple[str, str]], explanation: str | None = None, wait: float = 3) -> None:
        call_id = "call_" + b62(self._n("call"), 24)
        args: dict = {}
        if explanation:
            args["explanation"] = explanation
        args["plan"] = [{"status": status, "step": step} for step, status in steps]
        self._emit("response_item", {"type": "function_call", "name": "update_plan",
                                     "arguments": json.dumps(args, ensure_ascii=False), "call_id": call_id}, wait)
        self._emit("response_item", {"type": "function_call_output", "call_id": call_id, "output": "Plan updated"}, 0.001)
        if self.style == "2025":
            self._turn_context()
        self._tokens(90)

    def render(self) -> str:
        return "".join(dumps(obj) + "\n" for obj in self.lines)
