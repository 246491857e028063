"""No secret reaches an export, the clipboard or a hook's output.

Every kind of secret the redactor knows (memtui.core.redact.KNOWN_KINDS, with the planted examples
of tests/core/test_redact.py) goes into memories four ways: `memtui add`, `memtui load` of a JSON
file, an imported Claude Code transcript (proposals then approved), and rows written straight
into the database past every cleaning (the export's own last line of defence). Then every output
is checked: each format (stdout and -o files), the whole-store JSON, the --copy payload (system
tool and OSC 52), and the SessionStart hook's output (in-process and as the real command).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from memtui.cli import main
from memtui.core import clipboard, hooks
from memtui.core import export as ex
from memtui.core.db import open_database
from memtui.core.redact import KNOWN_KINDS, redact
from tests.core.test_redact import ALNUM, UPPER, URLSAFE, _pem, _tok
from tests.core.test_redact import secrets as provider_secrets
from tests.helpers import write_jsonl

CAT = shutil.which("cat")


def planted() -> list[tuple[str, str, str]]:
    """(kind, a sentence carrying the secret, the secret itself): every provider token shape of
    test_redact plus one example of each other kind."""
    out = [(kind, f"Deploy with {secret} when pushing", secret) for secret, kind in provider_secrets().values()]
    pem = _pem("RSA PRIVATE KEY", 600)
    pw = _tok(ALNUM, 16)
    basic = base64.b64encode(b"deploy:" + _tok(ALNUM, 16).encode()).decode()
    out += [
        ("private_key", f"The deploy key:\n{pem}", pem.split("\n")[2]),
        ("aws_secret_key", "AWS_SECRET_ACCESS_KEY=" + (v := _tok(ALNUM + "/+", 40)), v),
        ("slack_webhook", "curl -X POST " + (v := "https://hooks.slack.com/services/T" + _tok(UPPER, 8) + "/B"
                                             + _tok(UPPER, 10) + "/" + _tok(ALNUM, 24)), v.rsplit("/", 1)[1]),
        ("discord_webhook", "post to " + (v := "https://discord.com/api/webhooks/" + _tok("0123456789", 18) + "/"
                                          + _tok(URLSAFE, 68)), v.rsplit("/", 1)[1]),
        ("url_password", f"the database is postgres://app:{pw}@db.internal:5432/prod", pw),
        ("bearer", f'curl -H "Authorization: Bearer {(v := _tok(URLSAFE, 48))}" https://api.example.com', v),
        ("basic_auth", f"Authorization: Basic {basic}", basic),
        ("password", f"DB_PASSWORD={(v := _tok(ALNUM, 14))}", v),
        ("secret", f"export SECRET_KEY={(v := _tok(ALNUM, 20))}", v),
        ("token", f"API_TOKEN='{(v := _tok(ALNUM, 18))}'", v),
        ("api_key", f"OPENAI_API_KEY={(v := _tok(ALNUM, 20))}", v),
        ("digitalocean_token", f"doctl auth init -t {(v := 'dop' + '_v1_' + _tok('0123456789abcdef', 64))}", v),
    ]
    return out


PLANTED = planted()
SECRETS = [secret for _, _, secret in PLANTED]


def test_the_plants_cover_every_kind_the_redactor_knows():
    assert {kind for kind, _, _ in PLANTED} == set(KNOWN_KINDS)
    for kind, text, secret in PLANTED:
        out = redact(text)
        assert f"[REDACTED:{kind}]" in out and secret not in out, kind


def _assert_clean(text: str, where: str) -> None:
    leaked = [s[:12] + "..." for s in SECRETS if s in text or s[4:20] in text]
    assert not leaked, f"{where} carries secrets: {leaked}"


@pytest.fixture
def poisoned(tmp_path, db_path, capsys):
    """A store with every planted secret in approved memories, by every way in."""
    project = tmp_path / "vault"
    (project / ".git").mkdir(parents=True)
    base = ["--db", str(db_path)]
    # 1. memtui add (developer and project tiers, some pinned)
    for i, (_, text, _) in enumerate(PLANTED):
        tier = "developer" if i % 3 == 0 else "project"
        args = [*base, "add", f"add {i}: {text}", "--tier", tier, "--kind", "fact", "--project", str(project)]
        assert main(args + (["--pin"] if i % 5 == 0 else [])) == 0
    # 2. memtui load of a JSON file (texts and evidence quotes)
    data = {"memtui": 1, "memories": [
        {"text": f"load {i}: {text}", "tier": "project", "kind": "decision", "status": "approved",
         "project": str(project), "pinned": i % 4 == 0, "last_seen_at": 1000.0 + i, "created_at": 900.0,
         "evidence": [{"quote": text[:150]}]}
        for i, (_, text, _) in enumerate(PLANTED)
    ]}
    (tmp_path / "in.json").write_text(json.dumps(data))
    assert main([*base, "load", str(tmp_path / "in.json")]) == 0
    # 3. an imported Claude Code transcript, its proposals approved
    lines = []
    sid = "poisoned-session"
    head = {"sessionId": sid, "cwd": str(project), "timestamp": "2026-03-01T10:00:00.000Z", "version": "2.0.0"}
    for i, (_, text, _) in enumerate(PLANTED):
        lines.append(head | {"type": "user", "uuid": f"u{i}", "parentUuid": f"a{i - 1}" if i else None,
                             "message": {"role": "user", "content": f"Always use this from now on: {text}"}})
        lines.append(head | {"type": "assistant", "uuid": f"a{i}", "parentUuid": f"u{i}", "message": {
            "id": f"m{i}", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {"command": f"echo '{text}'"}}]}})
        lines.append(head | {"type": "user", "uuid": f"r{i}", "parentUuid": f"a{i}", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"t{i}", "content": f"ok {text}"}]}})
    write_jsonl(tmp_path / "t" / f"{sid}.jsonl", lines)
    assert main([*base, "import", str(tmp_path / "t" / f"{sid}.jsonl")]) == 0
    db = open_database(db_path)
    try:
        proposed = [r[0] for r in db.execute_sql("SELECT id FROM memory WHERE status = 'proposed'").fetchall()]
        assert proposed, "the transcript gave no proposals"
        from memtui.core import memories as mem

        mem.approve(db, proposed)
        mem.pin(db, proposed[:2])
        # 4. straight into the database, past every cleaning: the export must still scrub them
        (project_id,) = db.execute_sql("SELECT id FROM project WHERE root = ?", (str(project),)).fetchone()
        now = time.time()
        with db.atomic():
            for i, (_, text, _) in enumerate(PLANTED):
                db.execute_sql(
                    "INSERT INTO memory (tier, kind, text, status, pinned, confidence, project_id, extractor,"
                    " fingerprint, created_at, updated_at, last_seen_at) VALUES (?, ?, ?, 'approved', ?, 1, ?, 'raw', '', ?, ?, ?)",
                    ("project" if i % 2 else "developer", "constraint", f"raw {i}: {text}", i % 6 == 0,
                     project_id, now, now, now + i),
                )
        (raw,) = db.execute_sql("SELECT COUNT(*) FROM memory WHERE extractor = 'raw'").fetchone()
        assert raw == len(PLANTED)
    finally:
        db.close()
    capsys.readouterr()
    return project


def test_every_format_is_clean(poisoned, db_path):
    db = open_database(db_path)
    try:
        for fmt in ex.FORMATS:
            for budget in (None, 500):
                for with_entries in (True, False):
                    result = ex.render(db, ex.ExportOptions(fmt, project=str(poisoned), budget=budget),
                                       with_entries=with_entries)
                    _assert_clean(result.text, f"{fmt} budget={budget}")
                    assert "[REDACTED:" in result.text
                    for e in result.entries:
                        _assert_clean(e.memory.text, f"{fmt} entry")
            everything = ex.render(db, ex.ExportOptions(fmt, project=str(poisoned), tiers=("developer", "project", "session")))
            _assert_clean(everything.text, f"{fmt} all tiers")
            assert any(e.memory.extractor == "raw" and e.included for e in everything.entries)
    finally:
        db.close()


def test_cli_outputs_are_clean(poisoned, db_path, tmp_path, capsys):
    base = ["--db", str(db_path), "export", "--project", str(poisoned)]
    for fmt in ex.FORMATS:
        assert main([*base, "--format", fmt]) == 0
        _assert_clean(capsys.readouterr().out, f"stdout {fmt}")
        target = tmp_path / f"out.{fmt}"
        assert main([*base, "--format", fmt, "-o", str(target)]) == 0
        _assert_clean(target.read_text(), f"file {fmt}")
    assert main(["--db", str(db_path), "export", "--format", "json"]) == 0  # the whole store
    out, err = capsys.readouterr()
    _assert_clean(out, "whole-store json")
    _assert_clean(err, "stderr")


def test_the_clipboard_is_clean(poisoned, db_path, tmp_path, capsys, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    saved = tmp_path / "clip.txt"
    (bin_dir / "xclip").write_text(f"#!/bin/sh\n{CAT} > {saved}\n")
    (bin_dir / "xclip").chmod(0o755)
    tty = tmp_path / "tty"
    tty.write_text("")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(clipboard, "TTY", str(tty))
    for fmt in ex.FORMATS:
        tty.write_text("")
        assert main(["--db", str(db_path), "export", "--project", str(poisoned), "--format", fmt, "--copy"]) == 0
        assert "(OSC 52 + xclip)" in capsys.readouterr().err
        _assert_clean(saved.read_text(), f"xclip {fmt}")
        (payload,) = re.fullmatch(r"\x1b\]52;c;([A-Za-z0-9+/=]+)\x07", tty.read_text()).groups()
        _assert_clean(base64.b64decode(payload).decode(), f"OSC 52 {fmt}")
    # copy() itself scrubs what it is given, whoever calls it
    tty.write_text("")
    clipboard.copy("\n".join(text for _, text, _ in PLANTED))
    _assert_clean(saved.read_text(), "copy() of raw text")
    _assert_clean(base64.b64decode(tty.read_text()[7:-1]).decode(), "osc52 of raw text")


def test_the_session_start_hook_is_clean(poisoned, db_path, _isolate_user, tmp_path):
    payload = json.dumps({"session_id": "s", "transcript_path": "/x.jsonl", "cwd": str(poisoned),
                          "hook_event_name": "SessionStart", "source": "startup"})
    for budget in (None, hooks.HOOK_BUDGET, 100):
        text = hooks.run_session_start(payload, db_path, budget)
        assert "[REDACTED:" in text
        _assert_clean(text, f"session-start budget={budget}")
    done = subprocess.run(
        [sys.executable, "-m", "memtui", "--db", str(db_path), "hooks", "run", "session-start"],
        input=payload, capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0 and "Curated context" in done.stdout
    _assert_clean(done.stdout + done.stderr, "session-start command")
