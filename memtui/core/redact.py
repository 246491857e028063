"""Secret scrubbing and terminal-control stripping.

Everything that comes from a transcript passes through `clean()` before it is stored, so no
memory, export, clipboard text or API request can carry a secret or a terminal escape.
A secret becomes `[REDACTED:kind]`; for assignments and URLs the name / user part is kept so
the text still reads (`DB_PASSWORD=[REDACTED:assignment]`).
"""

from __future__ import annotations

import re

# --- terminal control -------------------------------------------------------------------

_CONTROL_PRESENT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL = re.compile(
    r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?      # OSC ... BEL / ST (title, hyperlinks, clipboard)
  | \x1b[PX^_][^\x1b]*(?:\x1b\\)?          # DCS / SOS / PM / APC strings
  | \x1b\[[0-?]*[ -/]*[@-~]                # CSI (colours, cursor movement)
  | \x1b[ -/]*[0-~]                        # other two-byte escapes
  | \x9b[0-?]*[ -/]*[@-~]                  # 8-bit CSI
  | \r\n                                   # CRLF -> LF (handled in the callback)
  | [\x00-\x08\x0b-\x1f\x7f-\x9f]          # any other C0/C1 control (keeps \t and \n)
    """,
    re.VERBOSE,
)


def _control_sub(match: re.Match) -> str:
    return "\n" if match.group(0) == "\r\n" else ""


def strip_control(text: str) -> str:
    """Remove ANSI/OSC escapes and control characters; keep tabs and newlines."""
    if not _CONTROL_PRESENT.search(text):
        return text
    return _CONTROL.sub(_control_sub, text)


# --- secrets ----------------------------------------------------------------------------

_SECRET_NAMES = (
    r"[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|PWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CREDENTIALS?|AUTH_KEY|SESSION_KEY|CLIENT_SECRET|DSN|CONN(?:ECTION)?_STRING)[A-Z0-9_]*"
)

# (kind, pattern); a pattern may define groups `keep` (text kept before the secret).
_PATTERNS: list[tuple[str, str]] = [
    (
        "private_key",
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai_key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    ("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("google_oauth", r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}"),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("bearer", r"(?P<keep>\b[Bb]earer\s+)[A-Za-z0-9._~+/\-]{16,}=*"),
    (
        "url_password",
        r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s/:@'\"]{1,64}:)[^\s/@'\"]{1,128}(?=@)",
    ),
    (
        "assignment",
        r"(?P<keep>\b" + _SECRET_NAMES + r"[ \t]*(?::=|=|:)[ \t]*[\"']?)"
        r"(?![\"'$\s]|\[REDACTED|<|\{|os\.|process\.env|getenv|None\b|null\b|true\b|false\b)"
        r"[^\s\"'`,;]{6,}",
    ),
    (
        "assignment",
        r"(?P<keep>[\"'](?i:password|passwd|secret|api_?key|access_?token|auth_?token|client_secret|token)[\"']\s*:\s*[\"'])"
        r"(?!\[REDACTED)[^\"'\s]{6,}(?=[\"'])",
    ),
]

_COMBINED = re.compile(
    "|".join(
        f"(?P<k{i}>{pattern.replace('(?P<keep>', f'(?P<keep{i}>')})" for i, (_, pattern) in enumerate(_PATTERNS)
    )
)
_KINDS = [kind for kind, _ in _PATTERNS]

# Every pattern above needs one of these; a text without any is returned untouched quickly.
_PREFILTER = re.compile(
    r"PRIVATE KEY|sk-|gh[pousr]_|github_pat_|AKIA|ASIA|ABIA|ACCA|xox|hooks\.slack|AIza|ya29\."
    r"|_live_|_test_|hf_|npm_|eyJ|[Bb]earer|://|SECRET|TOKEN|PASSW|PWD|API_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_KEY"
    r"|SESSION_KEY|DSN|CONN|[\"'](?i:password|passwd|secret|api_?key|access_?token|auth_?token|client_secret|token)[\"']"
)

KNOWN_KINDS = tuple(sorted(set(_KINDS)))


def _secret_sub(match: re.Match) -> str:
    index = int(match.lastgroup[1:])  # type: ignore[index]
    keep = match.group(f"keep{index}") if f"(?P<keep{index}>" in _COMBINED.pattern else None
    return f"{keep or ''}[REDACTED:{_KINDS[index]}]"


def redact(text: str) -> str:
    """Replace every secret found in `text` by `[REDACTED:kind]`."""
    if not _PREFILTER.search(text):
        return text
    return _COMBINED.sub(_secret_sub, text)


def clean(text: str) -> str:
    """What every stored text goes through: control stripping, then secret scrubbing."""
    return redact(strip_control(text))
