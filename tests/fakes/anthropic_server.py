"""A fake Anthropic API on 127.0.0.1 for the real `anthropic` SDK (point its base_url here).

Speaks just enough of the API:
  POST /v1/messages                          scripted replies (see `FakeAnthropic.script` / `.default`)
  POST /v1/messages/count_tokens             {"input_tokens": N}, N = ceil(len(json of system+tools+messages)/4)
  POST /v1/messages/batches                  creates a batch; each request is answered like /v1/messages
  GET  /v1/messages/batches/{id}             in_progress for `batch_polls` polls, then ended with results_url
  GET  /v1/messages/batches/{id}/results     JSONL, one {"custom_id", "result"} per request
Every request is recorded (`requests`) with its method, path, headers and JSON body. A wrong or missing key
(x-api-key, or `Authorization: Bearer`, which SDK 2.x sends) gets 401 authentication_error. Error replies carry `retry-after-ms: 1` so the SDK's retries
take no time.

Usage:
    with FakeAnthropic() as fake:
        fake.script.append(error_reply(429, "rate_limit_error", "slow down"))   # first answer
        client = anthropic.Anthropic(api_key=fake.api_key, base_url=fake.url)
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union

REF = re.compile(r"\[(m\d+)\]")


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Answer = Union[Reply, Callable[[dict], Reply]]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def message_body(content: list[dict], *, model: str = "claude-haiku-5-5", stop_reason: str = "tool_use", **extra) -> dict:
    body = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 50, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }
    body.update(extra)
    return body


def tool_reply(tool_input: Any, *, stop_reason: str = "tool_use", name: str = "record_memories") -> Reply:
    """A successful answer calling `name` with `tool_input` (anything JSON, valid or not)."""
    return Reply(200, message_body([{"type": "tool_use", "id": "toolu_fake", "name": name, "input": tool_input}], stop_reason=stop_reason))


def memories_reply(*memories: dict) -> Reply:
    return tool_reply({"memories": list(memories)})


def text_reply(text: str) -> Reply:
    return Reply(200, message_body([{"type": "text", "text": text}], stop_reason="end_turn"))


def refusal_reply() -> Reply:
    return Reply(200, message_body([], stop_reason="refusal",
                                   stop_details={"type": "refusal", "category": "cyber", "explanation": "declined"}))


def error_reply(status: int, etype: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    base = {"retry-after-ms": "1", "retry-after": "0"}
    if status == 401:
        base = {"x-should-retry": "false"}
    return Reply(status, {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_fake"},
                 {**base, **(headers or {})})


def user_text(body: dict) -> str:
    """All text of the user messages of a Messages request body."""
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(block.get("text", "") for block in content or [] if isinstance(block, dict))
    return "\n".join(parts)


def good_answer(body: dict) -> Reply:
    """One valid memory per request, citing the first message id of the transcript it was sent."""
    refs = REF.findall(user_text(body))
    if not refs:
        return memories_reply()
    ref = refs[0]
    return memories_reply({
        "text": f"Run the test suite with `pytest -q` from the repository root (first seen at {ref}).",
        "kind": "fact",
        "tier": "project",
        "confidence": 0.8,
        "evidence": refs[:2],
    })


class FakeAnthropic:
    def __init__(self, api_key: str = "test-key"):
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self.script: list[Answer] = []  # consumed in order by /v1/messages (and batch requests)
        self.default: Answer = good_answer  # once the script is used up
        self.count_tokens_status = 200  # e.g. 404 to pretend the endpoint is missing
        self.counted: list[int] = []  # every input_tokens answered by count_tokens
        self.batch_polls = 1  # GET /v1/messages/batches/{id} answers in_progress this many times
        self.batches: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeAnthropic":
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeAnthropic":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- queries for tests
    def calls(self, path: str, method: str = "POST") -> list[Recorded]:
        return [r for r in self.requests if r.path == path and r.method == method]

    @property
    def message_calls(self) -> list[Recorded]:
        return self.calls("/v1/messages")

    # -- behaviour
    def _answer(self, body: dict) -> Reply:
        with self._lock:
            answer = self.script.pop(0) if self.script else self.default
        reply = answer(body) if callable(answer) else answer
        if reply.status == 200 and isinstance(reply.body, dict) and reply.body.get("type") == "message":
            reply = Reply(reply.status, {**reply.body, "model": body.get("model", reply.body["model"])}, reply.headers)
        return reply

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        with self._lock:
            self.requests.append(Recorded(method, path, headers, body))
        sent = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if sent != self.api_key:
            return error_reply(401, "authentication_error", "invalid x-api-key")
        if method == "POST" and path == "/v1/messages":
            return self._answer(body)
        if method == "POST" and path == "/v1/messages/count_tokens":
            if self.count_tokens_status != 200:
                return error_reply(self.count_tokens_status, "not_found_error", "Not Found", {"x-should-retry": "false"})
            size = len(json.dumps([body.get("system"), body.get("tools"), body.get("messages")]))
            tokens = math.ceil(size / 4)
            with self._lock:
                self.counted.append(tokens)
            return Reply(200, {"input_tokens": tokens})
        if method == "POST" and path == "/v1/messages/batches":
            return self._create_batch(body)
        m = re.fullmatch(r"/v1/messages/batches/([\w-]+)(/results)?", path)
        if method == "GET" and m:
            batch = self.batches.get(m.group(1))
            if batch is None:
                return error_reply(404, "not_found_error", "no such batch", {"x-should-retry": "false"})
            return self._batch_results(batch) if m.group(2) else self._poll_batch(batch)
        return error_reply(404, "not_found_error", f"{method} {path} is not faked", {"x-should-retry": "false"})

    def _create_batch(self, body: dict) -> Reply:
        with self._lock:
            batch_id = f"msgbatch_fake{len(self.batches) + 1}"
        rows = []
        for request in body.get("requests", []):
            reply = self._answer(request["params"])
            if reply.status == 200:
                result = {"type": "succeeded", "message": reply.body}
            else:
                result = {"type": "errored", "error": reply.body}
            rows.append({"custom_id": request["custom_id"], "result": result})
        batch = {"id": batch_id, "rows": rows, "polls": 0, "created": datetime.now(timezone.utc)}
        self.batches[batch_id] = batch
        return Reply(200, self._batch_json(batch, ended=False))

    def _batch_json(self, batch: dict, *, ended: bool) -> dict:
        rows = batch["rows"]
        ok = sum(1 for r in rows if r["result"]["type"] == "succeeded")
        created = batch["created"]
        return {
            "id": batch["id"],
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {
                "processing": 0 if ended else len(rows),
                "succeeded": ok if ended else 0,
                "errored": len(rows) - ok if ended else 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": created.isoformat(),
            "expires_at": (created + timedelta(days=1)).isoformat(),
            "ended_at": datetime.now(timezone.utc).isoformat() if ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{batch['id']}/results" if ended else None,
        }

    def _poll_batch(self, batch: dict) -> Reply:
        batch["polls"] += 1
        return Reply(200, self._batch_json(batch, ended=batch["polls"] > self.batch_polls))

    def _batch_results(self, batch: dict) -> Reply:
        if batch["polls"] <= self.batch_polls:
            return error_reply(400, "invalid_request_error", "batch still in progress", {"x-should-retry": "false"})
        lines = "".join(json.dumps(row) + "\n" for row in batch["rows"])
        return Reply(200, lines, {"content-type": "application/binary"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_fake: FakeAnthropic

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path.split("?", 1)[0]
        try:
            reply = self.server_fake.handle(method, path, headers, body)
        except Exception as exc:  # a bug in a test's script: answer 500 rather than hang
            reply = Reply(500, {"type": "error", "error": {"type": "api_error", "message": repr(exc)}},
                          {"x-should-retry": "false"})
        data = reply.body if isinstance(reply.body, (bytes, str)) else json.dumps(reply.body)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        self.send_response(reply.status)
        out_headers = {"content-type": "application/json", "request-id": "req_fake", **reply.headers}
        for key, value in out_headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        self._serve("POST")

    def do_GET(self):
        self._serve("GET")
