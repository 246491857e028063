"""The Anthropic extractor, run through the real `anthropic` SDK against a fake API on 127.0.0.1."""

from __future__ import annotations

import json
import socket

import pytest

from memtui.core.extract import Proposal
from memtui.core.extract import anthropic as ax
from memtui.core.records import MessageRecord, SessionRecord
from tests.fakes.anthropic_server import (
    FakeAnthropic,
    error_reply,
    memories_reply,
    refusal_reply,
    text_reply,
    tool_reply,
    user_text,
)

# ------------------------------------------------------------------------------------------- fixtures

_LOCAL = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def blocked(monkeypatch):
    """Every connection and name lookup must stay on the loopback interface; the rest is refused."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOCAL:
            attempts.append(address)
            raise OSError(f"test tried to connect to {address!r}")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and host not in _LOCAL:
            attempts.append(host)
            raise socket.gaierror(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert attempts == [], f"a test tried to use the network: {attempts}"


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        assert server.url.startswith("http://127.0.0.1:")
        yield server


def config(fake: FakeAnthropic, **kw) -> ax.AnthropicConfig:
    values = dict(api_key=fake.api_key, base_url=fake.url, max_retries=2, timeout=10.0)
    values.update(kw)
    cfg = ax.AnthropicConfig(**values)
    assert cfg.resolved_base_url().startswith("http://127.0.0.1:")
    return cfg


SESSION = SessionRecord(
    id=7, tool="claude-code", external_id="sess-7", project_id=1, project_root="/home/dev/shop", cwd="/home/dev/shop",
    title="Fix the checkout tests", started_at=1_700_000_000.0, ended_at=1_700_000_900.0, model="claude-sonnet-4-5",
    git_branch="main", message_count=0, raw_size=0, review_state="new", parent_id=None, source_path=None,
)


def msg(mid: int, position: int, role: str, kind: str, text: str, *, tool: str | None = None,
        is_error: bool = False, session_id: int = 7) -> MessageRecord:
    return MessageRecord(
        id=mid, session_id=session_id, position=position, role=role, kind=kind, tool_name=tool, text=text,
        timestamp=1_700_000_000.0 + position, external_id=f"ext-{mid}", group_id=None, is_error=is_error,
        original_len=None,
    )


def sample_messages(session_id: int = 7, base: int = 500) -> list[MessageRecord]:
    """A short session with the usual noise: a system reminder, an image, thinking, tool calls and output."""
    rows = [
        ("user", "text", "Please fix the failing checkout tests. Always run them with `pytest -q tests/checkout`."
         "\n<system-reminder>The TodoWrite tool hasn't been used recently.</system-reminder>", None, False),
        ("system", "text", "<local-command-stdout>ok</local-command-stdout>", None, False),
        ("user", "text", "[image image/png, 120 KB]", None, False),
        ("assistant", "thinking", "The user wants the tests fixed. " * 40, None, False),
        ("assistant", "tool_use", json.dumps({"command": "pytest -q tests/checkout", "description": "run tests"}), "Bash", False),
        ("tool", "tool_result", "Traceback (most recent call last):\n" + "  frame\n" * 400
         + "KeyError: 'currency'", "Bash", True),
        ("assistant", "tool_use", json.dumps({"file_path": "shop/checkout.py", "old_string": "total = cart['amount']",
                                              "new_string": "total = cart.get('amount', 0)"}), "Edit", False),
        ("tool", "tool_result", "The file shop/checkout.py has been updated.", "Edit", False),
        ("user", "text", "No, don't use .get there; never hide missing keys. Raise a clear error instead.", None, False),
        ("assistant", "text", "Understood: I'll raise CheckoutError when 'amount' is missing.", None, False),
    ]
    return [
        msg(base + i, i, role, kind, text, tool=tool, is_error=err, session_id=session_id)
        for i, (role, kind, text, tool, err) in enumerate(rows)
    ]


def long_messages(n: int, session_id: int = 7, base: int = 1000) -> list[MessageRecord]:
    out = []
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        out.append(msg(base + i, i, role, "text", f"Message {i}: " + "we discuss the payment retry policy. " * 12,
                       session_id=session_id))
    return out


# ------------------------------------------------------------------------------------------- happy path


def test_happy_path_yields_valid_proposals_with_real_message_ids(fake):
    messages = sample_messages()
    fake.script.append(memories_reply(
        {"text": "Run the checkout tests with `pytest -q tests/checkout`; the user asked for exactly this command.",
         "kind": "fact", "tier": "project", "confidence": 0.9, "evidence": ["m1", "m3"]},
        {"text": "Never hide missing keys with dict.get in shop/checkout.py; raise CheckoutError instead.",
         "kind": "preference", "tier": "developer", "confidence": 0.85, "evidence": ["m7", "m5"]},
    ))
    proposals = ax.extract(SESSION, messages, config(fake))

    assert all(isinstance(p, Proposal) for p in proposals)
    assert [p.kind for p in proposals] == ["fact", "preference"]
    ids = {m.id for m in messages}
    for p in proposals:
        assert p.message_ids and set(p.message_ids) <= ids
        assert len(p.quotes) == len(p.message_ids)
        assert all(0 < len(q) <= ax.MAX_QUOTE + 3 for q in p.quotes)
        assert len(p.text) < 400 and 0 <= p.confidence <= 1
    # m1 is the first user message; m3 the Bash call (the local-command line and the image were dropped)
    by_id = {m.id: m for m in messages}
    first = proposals[0]
    assert by_id[first.message_ids[0]].text.startswith("Please fix the failing checkout tests")
    assert by_id[first.message_ids[1]].tool_name == "Bash"
    assert "system-reminder" not in first.quotes[0] and "TodoWrite" not in first.quotes[0]
    second = proposals[1]
    assert by_id[second.message_ids[0]].text.startswith("No, don't use .get")
    assert by_id[second.message_ids[1]].tool_name == "Edit" and by_id[second.message_ids[1]].kind == "tool_use"
    assert "shop/checkout.py" in second.quotes[1]


def test_request_body_has_cached_instructions_model_and_strict_tool(fake):
    ax.extract(SESSION, sample_messages(), config(fake, model="claude-haiku-5-5"))
    (call,) = fake.message_calls
    body = call.body
    assert body["model"] == "claude-haiku-5-5"
    assert body["max_tokens"] == ax.DEFAULT_MAX_TOKENS
    (system,) = body["system"]
    assert system["cache_control"] == {"type": "ephemeral"}
    assert system["text"] == ax.SYSTEM_PROMPT
    (tool,) = body["tools"]
    assert tool["name"] == "record_memories" and tool["strict"] is True
    assert tool["input_schema"] == ax.MEMORY_SCHEMA
    item = tool["input_schema"]["properties"]["memories"]["items"]
    assert item["properties"]["kind"]["enum"] == list(ax.KINDS)
    assert item["properties"]["tier"]["enum"] == list(ax.TIERS)
    assert body["tool_choice"]["type"] == "tool" and body["tool_choice"]["name"] == "record_memories"
    assert body["thinking"] == {"type": "disabled"}  # forced tool use on a model that thinks by default
    assert call.headers["authorization"] == f"Bearer {fake.api_key}" or call.headers.get("x-api-key") == fake.api_key

    (message,) = body["messages"]
    assert message["role"] == "user"
    text = user_text(body)
    assert text.startswith("Session: Fix the checkout tests | project: /home/dev/shop | tool: claude-code | branch: main")
    assert "[m1] user: Please fix the failing checkout tests" in text
    assert "system-reminder" not in text and "TodoWrite" not in text  # harness noise stripped
    assert "local-command-stdout" not in text and "[image" not in text
    assert "KeyError: 'currency'" in text  # the end of the error output survives the cut
    assert text.count("  frame") < 100  # ... but the traceback was cut
    assert "[m2] assistant (thinking):" in text and len(text.split("[m2]")[1].split("[m3]")[0]) < 400
    assert "assistant -> Edit shop/checkout.py\n- total = cart['amount']\n+ total = cart.get('amount', 0)" in text
    assert "[m3] assistant -> Bash: pytest -q tests/checkout  # run tests" in text


def test_older_haiku_gets_no_thinking_field(fake):
    ax.extract(SESSION, sample_messages(), config(fake, model="claude-haiku-4-5"))
    body = fake.message_calls[0].body
    assert body["model"] == "claude-haiku-4-5" and "thinking" not in body
    assert body["tool_choice"]["type"] == "tool"


def test_config_from_env(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    cfg = ax.AnthropicConfig.from_env(model=None, chunk_tokens=1234)
    assert cfg.api_key == "k-env" and cfg.base_url == "http://127.0.0.1:9"
    assert cfg.model == ax.DEFAULT_MODEL and "haiku" in cfg.model and cfg.chunk_tokens == 1234
    assert ax.AnthropicConfig.from_env(model="claude-sonnet-4-5").model == "claude-sonnet-4-5"


def test_make_extractor_has_the_plain_contract(fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    extractor = ax.make_extractor(ax.AnthropicConfig.from_env(max_retries=0))
    proposals = extractor(SESSION, sample_messages())
    assert len(proposals) == 1 and proposals[0].message_ids


def test_session_with_nothing_to_send_makes_no_request(fake):
    noise = [msg(1, 0, "system", "text", "<local-command-stdout>x</local-command-stdout>")]
    assert ax.extract(SESSION, noise, config(fake)) == []
    assert ax.extract(SESSION, [], config(fake)) == []
    assert fake.requests == []


# ------------------------------------------------------------------------------------------- chunking


def test_long_session_is_split_into_several_requests(fake):
    messages = long_messages(40)
    cfg = config(fake, chunk_tokens=600)
    chunks = ax.chunk_session(SESSION, messages, cfg)
    assert len(chunks) >= 4
    proposals = ax.extract(SESSION, messages, cfg)

    calls = fake.message_calls
    assert len(calls) == len(chunks)
    seen_refs: list[str] = []
    for i, call in enumerate(calls):
        text = user_text(call.body)
        assert f"part {i + 1} of {len(chunks)}" in text
        refs = [line.split("]")[0][1:] for line in text.splitlines() if line.startswith("[m")]
        seen_refs += refs
        assert ax._estimate_tokens("\n".join(l for l in text.splitlines() if l.startswith("[m"))) <= 600 + len(refs)
        assert call.body["system"][0]["cache_control"] == {"type": "ephemeral"}  # same cached prefix each time
    assert seen_refs == [f"m{i + 1}" for i in range(40)]  # every message sent exactly once, in order

    # the fake cites the first two messages of each chunk: evidence maps back to that chunk's messages
    assert len(proposals) == len(chunks)
    for proposal, chunk in zip(proposals, chunks):
        assert set(proposal.message_ids) <= set(chunk.refs.values())
        assert proposal.message_ids[0] == chunk.refs[min(chunk.refs, key=lambda r: int(r[1:]))]


def test_oversized_single_message_is_cut_to_fit():
    huge = [msg(1, 0, "user", "text", "x" * 50_000)]
    chunks = ax.chunk_session(SESSION, huge, ax.AnthropicConfig(chunk_tokens=1000))
    assert len(chunks) == 1 and len(chunks[0].text) < 1000 * ax.CHARS_PER_TOKEN + 500


# ------------------------------------------------------------------------------------------- estimate


def test_estimate_uses_count_tokens(fake):
    items = [(SESSION, sample_messages()), (SESSION, long_messages(30))]
    cfg = config(fake, chunk_tokens=600)
    expected_chunks = sum(len(ax.chunk_session(s, m, cfg)) for s, m in items)
    est = ax.estimate(items, cfg)

    assert est.method == "count_tokens"
    assert len(fake.calls("/v1/messages/count_tokens")) == expected_chunks
    assert est.input_tokens == sum(fake.counted)
    assert est.requests == expected_chunks and est.sessions == 2
    assert est.output_tokens_estimate > 0 and est.usd > 0
    assert fake.message_calls == []  # estimating never runs the model
    body = fake.calls("/v1/messages/count_tokens")[0].body
    assert body["model"] == cfg.model and body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "max_tokens" not in body
    line = est.describe()
    assert "count_tokens" in line and cfg.model in line and "$" in line and "\n" not in line

    half = ax.estimate(items, cfg, batch=True)
    assert half.usd == pytest.approx(est.usd / 2, rel=0.01) and "Batches" in half.describe()


def test_estimate_counts_a_sample_and_extrapolates(fake):
    cfg = config(fake, chunk_tokens=600, count_limit=2)
    est = ax.estimate([long_messages(40)], cfg)  # plain message lists are accepted too
    assert len(fake.counted) == 2 and est.method == "mixed"
    assert est.requests > 2 and est.input_tokens > sum(fake.counted)


def test_estimate_falls_back_to_characters(fake):
    no_key = ax.AnthropicConfig(base_url=fake.url)
    est = ax.estimate([(SESSION, sample_messages())], no_key)
    assert est.method == "chars" and est.input_tokens > 0 and est.usd > 0
    assert fake.requests == []  # no key: not even count_tokens

    fake.count_tokens_status = 404
    est = ax.estimate([(SESSION, sample_messages())], config(fake))
    assert est.method == "chars" and "count_tokens unavailable" in est.describe()


def test_price_table_by_family():
    haiku = ax.estimate([long_messages(10)], ax.AnthropicConfig(model="claude-haiku-4-5"))
    opus = ax.estimate([long_messages(10)], ax.AnthropicConfig(model="claude-opus-4-1"))
    assert opus.input_tokens == haiku.input_tokens and opus.usd > 10 * haiku.usd


# ------------------------------------------------------------------------------------------- failures


def test_missing_key_is_a_clear_error_and_sends_nothing(fake):
    cfg = ax.AnthropicConfig(base_url=fake.url)
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), cfg)
    err = info.value
    assert err.kind == "missing_key" and err.fatal
    assert "ANTHROPIC_API_KEY" in str(err) and "\n" not in str(err)
    with pytest.raises(ax.AnthropicExtractorError, match="ANTHROPIC_API_KEY"):
        ax.extract_batch([(SESSION, sample_messages())], cfg, poll_interval=0)
    assert fake.requests == []


def test_rate_limit_is_retried_then_succeeds(fake):
    fake.script += [error_reply(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit")] * 2
    proposals = ax.extract(SESSION, sample_messages(), config(fake, max_retries=2))
    assert len(proposals) == 1
    calls = fake.message_calls
    assert len(calls) == 3
    assert [c.headers.get("x-stainless-retry-count") for c in calls] == ["0", "1", "2"]


def test_rate_limit_after_retries_is_a_clear_error(fake):
    fake.default = error_reply(429, "rate_limit_error", "slow down")
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), config(fake, max_retries=1))
    assert info.value.kind == "rate_limit" and "429" in str(info.value) and "after 1 retry" in str(info.value)
    assert len(fake.message_calls) == 2


def test_persistent_overload_is_a_clear_error(fake):
    fake.default = error_reply(529, "overloaded_error", "Overloaded")
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), config(fake, max_retries=2))
    err = info.value
    assert err.kind == "overloaded" and err.fatal and err.session_id == SESSION.id
    assert "overloaded" in str(err) and "529" in str(err) and "\n" not in str(err)
    assert len(fake.message_calls) == 3  # first try + 2 retries


def test_bad_key_is_an_authentication_error_without_retries(fake):
    cfg = config(fake, api_key="wrong-key")
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), cfg)
    assert info.value.kind == "auth" and "ANTHROPIC_API_KEY" in str(info.value) and "401" in str(info.value)
    assert len(fake.message_calls) == 1


def test_unknown_model_is_a_clear_error(fake):
    fake.default = error_reply(404, "not_found_error", "model: claude-nope", {"x-should-retry": "false"})
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), config(fake, model="claude-nope"))
    assert info.value.kind == "model" and "'claude-nope'" in str(info.value) and "--model" in str(info.value)
    assert fake.message_calls[0].body["model"] == "claude-nope"


def test_importing_the_module_does_not_load_the_sdk():
    import subprocess
    import sys

    code = "import sys, memtui.core.extract.anthropic; print('anthropic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # the SDK takes seconds to import; only a run pays for it


def test_unreachable_server_is_a_connection_error():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    cfg = ax.AnthropicConfig(api_key="k", base_url=f"http://127.0.0.1:{port}", max_retries=0, timeout=5)
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), cfg)
    assert info.value.kind == "connection" and f"127.0.0.1:{port}" in str(info.value)


def test_default_base_url_would_leave_the_machine_and_is_blocked(blocked):
    """The guard works: without a base_url the SDK would call api.anthropic.com, and that is refused."""
    cfg = ax.AnthropicConfig(api_key="k", max_retries=0, timeout=5)
    assert cfg.resolved_base_url() is None
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), cfg)
    assert info.value.kind == "connection" and "api.anthropic.com" in str(info.value)
    assert blocked == ["api.anthropic.com"]
    blocked.clear()  # expected here, and only here


def test_refusal_is_a_clear_error_without_retry(fake):
    fake.default = refusal_reply()
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), config(fake))
    err = info.value
    assert err.kind == "refusal" and not err.fatal and err.session_id == SESSION.id
    assert "declined" in str(err) and "refusal" in str(err)
    assert len(fake.message_calls) == 1


def test_malformed_output_is_retried_with_feedback(fake):
    fake.script.append(memories_reply(
        {"text": "x" * 500, "kind": "opinion", "tier": "project", "confidence": 2, "evidence": ["m99"]},
    ))
    proposals = ax.extract(SESSION, sample_messages(), config(fake))
    assert len(proposals) == 1
    first, second = fake.message_calls
    assert "rejected" not in user_text(first.body)
    feedback = user_text(second.body)
    assert "previous answer was rejected" in feedback
    assert "'opinion'" in feedback and "500 characters" in feedback and "confidence" in feedback
    assert second.body["system"] == first.body["system"]  # the cached prefix is unchanged


@pytest.mark.parametrize(
    "bad",
    [
        tool_reply({"items": []}),  # wrong shape
        tool_reply(["not", "an", "object"]),
        text_reply("Here are the memories: ..."),  # no tool call
        memories_reply({"text": "ok", "kind": "fact", "tier": "project", "confidence": 0.5}),  # no evidence
        tool_reply({"memories": []}, stop_reason="max_tokens"),  # cut off
    ],
)
def test_malformed_output_twice_is_a_clear_error(fake, bad):
    fake.default = bad
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, sample_messages(), config(fake))
    err = info.value
    assert err.kind == "malformed" and not err.fatal and "after a retry" in str(err) and "\n" not in str(err)
    assert len(fake.message_calls) == 2


def test_failure_in_a_later_chunk_returns_nothing_for_the_session(fake):
    messages = long_messages(40)
    cfg = config(fake, chunk_tokens=600, max_retries=0)
    fake.script.append(memories_reply())  # chunk 1 fine (empty)
    fake.script.append(refusal_reply())  # chunk 2 refused
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract(SESSION, messages, cfg)
    assert info.value.kind == "refusal" and "part 2/" in str(info.value)
    assert len(fake.message_calls) == 2  # stopped at the failure


def test_empty_answer_is_valid(fake):
    fake.default = memories_reply()
    assert ax.extract(SESSION, sample_messages(), config(fake)) == []


# ------------------------------------------------------------------------------------------- batches


def test_batch_end_to_end(fake):
    other = SessionRecord(**{**SESSION.as_dict(), "id": 8, "external_id": "sess-8", "title": "Payments"})
    third = SessionRecord(**{**SESSION.as_dict(), "id": 9, "external_id": "sess-9", "title": "Refused"})
    empty = SessionRecord(**{**SESSION.as_dict(), "id": 10, "external_id": "sess-10", "title": "Nothing"})
    cfg = config(fake, chunk_tokens=600)

    def answer(body):
        text = user_text(body)
        if text.startswith("Session: Refused"):
            return refusal_reply()
        from tests.fakes.anthropic_server import good_answer
        return good_answer(body)

    fake.default = answer
    fake.batch_polls = 2
    progress = []
    items = [
        (SESSION, sample_messages()),
        (other, long_messages(40, session_id=8, base=2000)),
        (third, sample_messages(session_id=9, base=3000)),
        (empty, []),
    ]
    results = ax.extract_batch(items, cfg, poll_interval=0.01, on_progress=progress.append)

    assert list(results) == [7, 8, 9, 10]
    assert [p.message_ids[0] for p in results[7]] == [500]
    chunks = ax.chunk_session(other, items[1][1], cfg)
    assert len(results[8]) == len(chunks) > 1
    assert all(2000 <= i < 2040 for p in results[8] for i in p.message_ids)
    assert isinstance(results[9], ax.AnthropicExtractorError) and results[9].kind == "refusal"
    assert results[9].session_id == 9
    assert results[10] == []

    (create,) = fake.calls("/v1/messages/batches")
    requests = create.body["requests"]
    assert [r["custom_id"] for r in requests] == (
        ["s7-c0"] + [f"s8-c{i}" for i in range(len(chunks))] + ["s9-c0"]
    )
    for r in requests:
        assert r["params"]["model"] == cfg.model
        assert r["params"]["system"][0]["cache_control"] == {"type": "ephemeral"}
        assert r["params"]["tools"][0]["name"] == "record_memories"
    assert fake.message_calls == []  # everything went through the batch
    assert progress and progress[-1].processing_status == "ended"
    assert len(fake.calls("/v1/messages/batches/msgbatch_fake1", "GET")) >= 3


def test_batch_malformed_result_gets_one_synchronous_retry(fake):
    cfg = config(fake)
    fake.script.append(memories_reply({"text": "t", "kind": "nope", "tier": "project", "confidence": 0.5,
                                       "evidence": ["m1"]}))
    results = ax.extract_batch([(SESSION, sample_messages())], cfg, poll_interval=0)
    assert len(results[7]) == 1
    (retry,) = fake.message_calls
    assert "previous answer was rejected" in user_text(retry.body)


def test_batch_errored_request_fails_only_its_session(fake):
    other = SessionRecord(**{**SESSION.as_dict(), "id": 8, "external_id": "sess-8"})
    fake.script.append(error_reply(529, "overloaded_error", "Overloaded"))
    results = ax.extract_batch(
        [(SESSION, sample_messages()), (other, sample_messages(8, 800))], config(fake), poll_interval=0
    )
    assert isinstance(results[7], ax.AnthropicExtractorError) and results[7].kind == "overloaded"
    assert "overloaded_error" in str(results[7])
    assert isinstance(results[8], list) and len(results[8]) == 1


def test_batch_splits_into_several_batches_under_the_limits(fake):
    cfg = config(fake, chunk_tokens=600, batch_max_requests=3)
    messages = long_messages(40)
    n = len(ax.chunk_session(SESSION, messages, cfg))
    results = ax.extract_batch([(SESSION, messages)], cfg, poll_interval=0)
    creates = fake.calls("/v1/messages/batches")
    assert len(creates) == -(-n // 3) and all(len(c.body["requests"]) <= 3 for c in creates)
    assert len(results[7]) == n


def test_batch_max_wait_stops_polling_with_the_batch_id(fake):
    fake.batch_polls = 10_000
    with pytest.raises(ax.AnthropicExtractorError) as info:
        ax.extract_batch([(SESSION, sample_messages())], config(fake), poll_interval=0.01, max_wait=0.05)
    assert info.value.kind == "batch" and "msgbatch_fake1" in str(info.value)
