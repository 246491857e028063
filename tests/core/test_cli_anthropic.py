"""`--extractor anthropic` from the command line, against the local fake Messages API."""

from __future__ import annotations

import json

import pytest

from memtui.cli import main
from tests.fakes.anthropic_server import FakeAnthropic, error_reply
from tests.helpers import rows, write_jsonl


@pytest.fixture
def imported(db_path, tmp_path, capsys):
    base = {"sessionId": "s1", "cwd": "/work/shop", "parentUuid": None, "timestamp": "2025-03-01T10:00:00.000Z"}
    write_jsonl(tmp_path / "s1.jsonl", [
        base | {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "Use pnpm, never npm."}},
        base | {"type": "assistant", "uuid": "a1", "message": {"id": "m1", "role": "assistant",
                "content": [{"type": "text", "text": "Switching the scripts to pnpm."}]}},
    ])
    assert main(["--db", str(db_path), "import", "--extractor", "none", str(tmp_path / "s1.jsonl")]) == 0
    capsys.readouterr()
    return db_path


@pytest.fixture
def fake(monkeypatch):
    with FakeAnthropic() as server:
        assert server.url.startswith("http://127.0.0.1:")
        monkeypatch.setenv("ANTHROPIC_API_KEY", server.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


def _memories(db_path):
    import sqlite3

    con = sqlite3.connect(db_path)
    try:
        return con.execute("SELECT extractor, status, text FROM memory").fetchall()
    finally:
        con.close()


def test_propose_with_anthropic_stores_proposals(imported, fake, capsys):
    assert main(["--db", str(imported), "propose", "--extractor", "anthropic", "--yes", "--model", "claude-haiku-4-5"]) == 0
    captured = capsys.readouterr()
    assert "input" in captured.err and "claude-haiku-4-5" in captured.err  # the estimate was shown first
    got = _memories(imported)
    assert got and all(e == "anthropic:claude-haiku-4-5" and s == "proposed" for e, s, _ in got)
    assert fake.message_calls  # really went through the SDK to the local server


def test_batch_path(imported, fake, capsys):
    assert main(["--db", str(imported), "propose", "--extractor", "anthropic", "--yes", "--batch", "--batch-poll", "0.01"]) == 0
    assert _memories(imported)
    assert fake.calls("/v1/messages/batches")


def test_no_key_is_one_clear_line(imported, monkeypatch, capsys):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["--db", str(imported), "propose", "--extractor", "anthropic", "--yes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ANTHROPIC_API_KEY" in err[0]
    assert _memories(imported) == []


def test_without_yes_and_no_terminal_nothing_is_sent(imported, fake, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert main(["--db", str(imported), "propose", "--extractor", "anthropic"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert fake.message_calls == [] and _memories(imported) == []


def test_bad_key_stops_and_stores_nothing(imported, fake, monkeypatch, capsys):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "wrong-key")
    assert main(["--db", str(imported), "propose", "--extractor", "anthropic", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "anthropic extractor" in err
    assert _memories(imported) == []


def test_overload_is_reported_and_nothing_stored(imported, fake, capsys):
    fake.default = error_reply(529, "overloaded_error", "Overloaded")
    code = main(["--db", str(imported), "propose", "--extractor", "anthropic", "--yes", "--json"])
    assert code == 1
    assert "overload" in capsys.readouterr().err.lower()
    assert _memories(imported) == []
