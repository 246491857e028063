"""Secret scrubbing and terminal-control stripping.

Everything that comes from a transcript passes through `clean()` before it is stored, so no
memory, export, clipboard text or API request can carry a secret or a terminal escape.

A secret becomes `[REDACTED:kind]`. For assignments, headers and URLs only the value goes: the
name, the separator and the user part stay so the text still reads
(`DB_PASSWORD=[REDACTED:password]`, `postgres://app:[REDACTED:url_password]@db/prod`).

What is found
  * provider tokens by their shape: Anthropic, OpenAI, GitHub, GitLab, AWS access key ids,
    Slack tokens and webhooks, Google API keys / OAuth tokens / client secrets, Stripe,
    Hugging Face, npm, PyPI, DigitalOcean, SendGrid, Discord webhooks, JWTs;
  * `Bearer <token>` and `Authorization: Basic <base64>`;
  * passwords in URLs (`scheme://user:password@host`);
  * PEM private key blocks (RSA, EC, OPENSSH, ENCRYPTED, PGP ...), with or without their END line;
  * values assigned to secret-looking names: `.env` lines (`export X=...`, quoted or not), shell
    and CLI (`--password x`), JSON (`"password": "..."`), YAML (`password: ...`), INI, code
    (`api_key = "..."`).

What is left alone (code in transcripts must survive): references and expressions
(`token = get_token()`, `API_KEY=os.environ["API_KEY"]`, `${TOKEN}`, `$TOKEN`,
`settings.SECRET_KEY`), type annotations (`password: str`), plain variable names
(`password=password`), counts (`max_tokens=4096`, `input_tokens`), names that only look alike
(`tokenizer`, `keyboard`, `secretary`, `token_url`, `secret_name`), git SHAs, uuids, base64 data
that is not a token, Rich-markup-like `[bold]text[/]` (stored as it is; the UI shows it as text).

Speed: `clean()` runs on every stored text. One bytes.translate makes a lower-cased byte copy in
which the rarest letters the needles have (the anchors: `k` of token and sk-, `w` of pwd, ...)
are all one byte; one regex that starts with that byte finds in that copy the short needles the
detectors cannot match without (`ken` for token, `sk-`, `ghp_`, ...), the engine jumping from anchor
to anchor in C; the few needles without a rare letter (`cret`, `pass`, `://`) are looked for
with `in`. The same copy shows whether there is a control character to strip. A text without
a needle (most texts) is done after that pass; else only the detectors whose needles were seen
run, each a regex that starts with a literal.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Callable, Iterator, NamedTuple

# --- terminal control -------------------------------------------------------------------

# Bytes an ASCII text may hold without needing the slow path (everything but C0 controls other
# than \t and \n, and DEL).
_ASCII_PLAIN = bytes([9, 10, *range(0x20, 0x7F)])
_CONTROL_PRESENT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL = re.compile(
    r"""
    (?:\x1b\]|\x9d)[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?   # OSC ... BEL/ST: title, OSC 8 links, OSC 52 clipboard
  | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f])                       # DCS / SOS / PM / APC strings (sixel, tmux passthrough)
    (?:[^\x1b\x9c]*(?:\x1b\\|\x9c)|[^\x1b\x9c\n]*)              #   up to ST; never terminated: up to the end of the line
  | (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                        # CSI: colours, cursor movement, erase
  | \x1b[!-/]*[0-~]?                                         # other escapes (charset, keypad, RIS, lone ESC)
  | [\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+                   # any other C0/C1 control (keeps \t and \n)
    """,
    re.VERBOSE,
)


def strip_control(text: str) -> str:
    """Remove ANSI/OSC/DCS escapes and control characters; keep tabs and newlines.

    A carriage return becomes a newline, so text that a terminal would overwrite stays visible.
    """
    if text.isascii():
        if not text.encode("ascii").translate(None, _ASCII_PLAIN):
            return text
    elif not _CONTROL_PRESENT.search(text):
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if text.isascii() and not text.encode("ascii").translate(None, _ASCII_PLAIN):
            return text
    return _CONTROL.sub("", text)


# --- secrets ----------------------------------------------------------------------------

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


class _Span(NamedTuple):
    start: int
    end: int
    kind: str


def _word_start(text: str, start: int) -> bool:
    """True when no letter or digit touches `start` from the left."""
    return start == 0 or text[start - 1] not in _ALNUM


# --- provider tokens (all regexes start with a literal: the engine jumps between candidates)

_SK = re.compile(
    r"sk-(?:(?P<anthropic_key>ant-[A-Za-z0-9_\-]{20,})"
    r"|(?P<openai_key>(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9]{32,}(?![A-Za-z0-9_\-])))"
)
_GITHUB = re.compile(r"g(?:h[pousr]_[A-Za-z0-9]{30,}|ithub_pat_[A-Za-z0-9_]{22,})")
_A = re.compile(
    r"A(?:(?P<aws_access_key>(?:KIA|SIA)[A-Z0-9]{16})(?![A-Za-z0-9])"
    r"|(?P<google_api_key>Iza[0-9A-Za-z_\-]{35})(?![A-Za-z0-9_\-]))"
)
_SIMPLE: list[tuple[str, tuple[str, ...], re.Pattern, int]] = [
    # (kind, needles (see _DETECTORS), pattern, letters before the match that belong to it)
    ("google_oauth", ("ya29.",), re.compile(r"ya29\.[0-9A-Za-z_\-]{20,}"), 0),
    ("google_oauth", ("gocspx-",), re.compile(r"GOCSPX-[A-Za-z0-9_\-]{20,}"), 0),
    ("slack_token", ("xox",), re.compile(r"xox[abposre]-[A-Za-z0-9\-]{10,}"), 0),
    ("slack_token", ("xapp-",), re.compile(r"xapp-\d-[A-Za-z0-9\-]{10,}"), 0),
    ("stripe_key", ("k_live_", "k_test_"), re.compile(r"k_(?:live|test)_[0-9A-Za-z]{16,}"), 1),
    ("stripe_key", ("whsec_",), re.compile(r"whsec_[A-Za-z0-9+/=]{24,}"), 0),
    ("huggingface_token", ("hf_",), re.compile(r"hf_[A-Za-z0-9]{30,}"), 0),
    ("npm_token", ("npm_",), re.compile(r"npm_[A-Za-z0-9]{36,}"), 0),
    ("gitlab_token", ("glpat-",), re.compile(r"glpat-[A-Za-z0-9_\-]{20,}"), 0),
    ("pypi_token", ("pypi-age",), re.compile(r"pypi-AgE[A-Za-z0-9_\-]{50,}"), 0),
    ("digitalocean_token", ("dop_v1_",), re.compile(r"dop_v1_[a-f0-9]{64}"), 0),
    ("sendgrid_key", ("sg.",), re.compile(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"), 0),
    ("jwt", ("eyj",), re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), 0),
]


def _find_sk(text: str, low) -> Iterator[_Span]:
    for m in _SK.finditer(text):
        if _word_start(text, m.start()):
            yield _Span(m.start(), m.end(), m.lastgroup or "openai_key")


def _find_github(text: str, low) -> Iterator[_Span]:
    for m in _GITHUB.finditer(text):
        if _word_start(text, m.start()):
            yield _Span(m.start(), m.end(), "github_token")


def _find_a(text: str, low) -> Iterator[_Span]:
    for m in _A.finditer(text):
        if _word_start(text, m.start()):
            yield _Span(m.start(), m.end(), m.lastgroup or "aws_access_key")


def _simple(kind: str, pattern: re.Pattern, back: int) -> Callable[[str, object], Iterator[_Span]]:
    def find(text: str, low) -> Iterator[_Span]:
        for m in pattern.finditer(text):
            start = m.start() - back
            if start < 0 or (back and text[start] not in "sr"):  # stripe: sk_live_ / rk_live_
                continue
            if _word_start(text, start):
                yield _Span(start, m.end(), kind)

    return find


# --- private keys -----------------------------------------------------------------------

_PEM_HEAD = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_PEM = re.compile(
    _PEM_HEAD + r"(?P<body>(?:[^-]|-(?!----)){0,40000}?)(?P<end>-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"
    r"|" + _PEM_HEAD
)
# Without its END line (cut off, or still being pasted) a key runs as far as lines of base64 and
# `Header: value` lines go; newlines may be real or JSON-escaped (tool inputs are stored as JSON).
_PEM_BODY = re.compile(
    r"[A-Za-z0-9+/=]*"
    r"(?:(?:[ \t]|\r?\n|\\r\\n|\\n)+(?:[A-Za-z0-9+/=]{4,}(?=[ \t]*(?:\r?\n|\\[rn]|[\"'`]|$))|[A-Z][A-Za-z-]{0,30}: [^\r\n\\\"'`]{0,200}))*"
)
_B64_RUN = re.compile(r"[A-Za-z0-9+/=]{20,}")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_LINE = re.compile(r"[ \t]*(?:[A-Za-z0-9+/=]*|[A-Z][A-Za-z-]{0,30}: [^\r\n]{0,200})[ \t]*")
_NEWLINES = re.compile(r"(\r?\n|\\r\\n|\\n)")
_B64_TAIL = re.compile(r"[A-Za-z0-9+/=]*\Z")


def _pem_start_before(text: str, end: int, floor: int) -> int:
    """Where the lines of a key that ends at `end` (its BEGIN line cut off) start."""
    pos = start = end
    for piece in reversed(_NEWLINES.split(text[max(floor, end - 20000) : end])):
        if _NEWLINES.fullmatch(piece):
            pos -= len(piece)
        elif _PEM_LINE.fullmatch(piece):
            pos -= len(piece)
            start = pos
        else:
            tail = len(_B64_TAIL.search(piece).group())  # the text was cut inside this line
            return pos - tail if tail else start
    return start


def _find_pem(text: str, low) -> Iterator[_Span]:
    spans = []
    for m in _PEM.finditer(text):
        if m.group("end"):
            if _B64_RUN.search(m.group("body")):  # a key, not two header strings in code
                spans.append(_Span(m.start(), m.end(), "private_key"))
            continue
        body = _PEM_BODY.match(text, m.end())
        end = body.end() if body else m.end()
        if _B64_RUN.search(text, m.end(), end):
            spans.append(_Span(m.start(), end, "private_key"))
    if "-----END" in text:  # the END of a key whose start was cut off (a shortened text)
        orphans = []
        floor, i = 0, 0
        for m in _PEM_END.finditer(text):
            while i < len(spans) and spans[i].end <= m.start():
                floor = max(floor, spans[i].end)
                i += 1
            if i < len(spans) and spans[i].start <= m.start():
                continue  # the END of a key found above
            start = _pem_start_before(text, m.start(), floor)
            if _B64_RUN.search(text, start, m.start()):
                orphans.append(_Span(start, m.end(), "private_key"))
            floor = m.end()
        spans.extend(orphans)
    return iter(spans)


# --- URLs, Authorization headers, webhooks ----------------------------------------------

_URL = re.compile(
    r"://(?:"
    r"(?P<hook>hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{8,}"
    r"|(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]{20,})"
    r"|[^\s/:@'\"`\\<>]{0,128}:(?P<pw>[^\s/'\"`\\<>]{1,256})@(?=[A-Za-z0-9\[])"
    r")"
)
_PLACEHOLDER_START = ("$", "{", "<", "%", "*", "[REDACTED")


def _find_url(text: str, low) -> Iterator[_Span]:
    for m in _URL.finditer(text):
        if m.group("hook"):
            kind = "slack_webhook" if m.group("hook").startswith("hooks.") else "discord_webhook"
            yield _Span(m.start("hook"), m.end("hook"), kind)
            continue
        pw = m.group("pw")
        if not pw.startswith(_PLACEHOLDER_START):
            yield _Span(m.start("pw"), m.end("pw"), "url_password")


_BEARER = re.compile(r"earer[ \t]+([A-Za-z0-9._~+/\-]{16,}=*)")
_BASIC = r"authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?basic[ \t]+([a-z0-9+/]{8,}={0,2})"
_BASIC_LOW = re.compile(_BASIC)
_BASIC_I = re.compile(_BASIC, re.I)


def _find_bearer(text: str, low) -> Iterator[_Span]:
    for m in _BEARER.finditer(text):
        if m.start() > 0 and text[m.start() - 1] in "Bb" and _word_start(text, m.start() - 1):
            if not m.group(1).startswith("[REDACTED"):
                yield _Span(m.start(1), m.end(1), "bearer")


def _find_basic(text: str, low) -> Iterator[_Span]:
    for m in (_BASIC_LOW.finditer(low) if low is not None else _BASIC_I.finditer(text)):
        yield _Span(m.start(1), m.end(1), "basic_auth")


# --- assignments to secret-looking names ------------------------------------------------

# Values that are types, literals or field names, not secrets (compared in lower case).
_NOT_SECRET = frozenset(
    "none null nil true false undefined nan yes no on off empty default required optional str string int integer"
    " bool boolean bytes any object number text char varchar secretstr secret password passwd token key value"
    " redacted hidden masked unknown string[] list dict map".split()
)
# Words after the keyword that make the name something other than the secret itself.
_SUFFIX_WORDS = frozenset(
    "type types url uri urls endpoint endpoints file files path paths dir name names id ids len length count"
    " counts size limit limits max min budget usage used ttl timeout expiry expires expiration exp at in header"
    " headers prefix env var vars field fields policy regex pattern format kind mode provider providers store"
    " manager helper index version validator label hint placeholder location source sources ref arn rotation"
    " scope scopes method methods strategy reset required enabled disabled min_length".split()
)
# Words before the keyword that make it a count or a setting (max_tokens, input_token).
_PREFIX_WORDS = frozenset(
    "max min num total input output prompt completion reasoning cache cached context thinking budget next page"
    " show hide forgot reset confirm new old verify check has is use".split()
)
# `key` alone is too common (dict keys, sort keys): it counts with one of these in front.
_KEY_QUALIFIERS = re.compile(
    r"(?:api|access|private|secret|auth|session|signing|encryption|master|client|app|consumer|service|account"
    r"|license|openai|anthropic|claude|gemini|google|gcp|azure|stripe|aws|github|gitlab|slack|sendgrid|mailgun"
    r"|twilio|mapbox|algolia|pusher|firebase|supabase|deepseek|groq|mistral|cohere|together|replicate|hf"
    r"|huggingface|openrouter|pinecone|datadog|sentry|webhook|jwt|hmac|signature|x-api)[_.\-]?$"
)
_SPLIT_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_DOTTED = re.compile(r"[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][A-Za-z_$]*)+\Z")

_VALUE = (
    r"(?:(?P<ann>[a-z_][a-z0-9_\[\]., |]{0,40}?[ \t]*=[ \t]*)(?=\\{0,3}[\"'`]))?"  # `password: str = "..."`
    r"(?:(?P<q>\\{0,3}[\"'`])(?P<qv>(?:[^\"'`\\\r\n]|\\\\){1,4096})"
    r"|(?P<bv>(?:[^\s\"'`,;&\\]|\\\\){1,4096}))"
)
_NAME_TAIL = r"(?P<suffix>[a-z0-9_\-]{0,40}+)(?P<cq>\\{0,3}[\"'])?[ \t]*(?P<sep>=>|:=|=(?![=~>])|:(?![:/\\]))[ \t]*"

# (gate substring, kind, pattern on the lower-cased text)
_ASSIGN_KEYWORDS = [
    ("pass", "password", r"pass(?:word|wd|phrase)?"),
    ("pwd", "password", r"pwd"),
    ("secret", "secret", r"secret"),
    ("token", "token", r"token"),
    ("key", "secret", r"key"),
]
_ASSIGN = [(gate, kind, re.compile(kw + _NAME_TAIL + _VALUE)) for gate, kind, kw in _ASSIGN_KEYWORDS]
_ASSIGN_I = [(gate, kind, re.compile(kw + _NAME_TAIL + _VALUE, re.I)) for gate, kind, kw in _ASSIGN_KEYWORDS]
_FLAG = re.compile(
    r"--(?:[a-z0-9]+-)*(?P<kw>password|passwd|pass|token|secret|api-key|apikey|access-key|secret-key|client-secret)"
    r"(?:=|[ \t]+)(?:(?P<q>[\"'])(?P<qv>[^\"'\r\n]{1,4096})|(?P<bv>[^\s\"'`,;&\\]{1,4096}))",
    re.I,
)


def _name_start(text: str, start: int) -> int:
    i = start
    while i > 0 and start - i < 80 and text[i - 1] in _NAME_CHARS:
        i -= 1
    return i


def _words(name: str) -> list[str]:
    return [w.lower() for w in _SPLIT_WORDS.findall(name)]


def _name_ok(text: str, m: re.Match, gate: str) -> tuple[bool, str]:
    """Is the name around the keyword one of a secret? Returns (ok, the name)."""
    kw_start, kw_end = m.start(), m.end("suffix") - len(m.group("suffix"))
    kw = text[kw_start:kw_end]
    suffix = text[kw_end : m.end("suffix")]
    start = _name_start(text, kw_start)
    name = text[start : m.end("suffix")].lstrip("-.")
    prefix = text[start:kw_start]
    # the keyword must end a word: tokenizer, keyboard, passenger, secretary are other words
    if suffix and suffix[0].isalpha():
        if suffix[0] in "sS" and (len(suffix) == 1 or not suffix[1].islower() or not kw[-1].islower()):
            return False, name  # plural: tokens, SECRETS, apiKeys
        if not (kw[-1].islower() and suffix[0].isupper()):
            return False, name
    if suffix and any(w in _SUFFIX_WORDS for w in _words(suffix)):
        return False, name
    pwords = _words(prefix)
    if pwords and pwords[-1] in _PREFIX_WORDS:
        return False, name
    if gate in ("pass", "pwd"):
        # a word of its own: DB_PASS, pass:, --pass; not bypass, compass, OLDPWD, $PWD
        if prefix and prefix[-1].isalpha() and not (prefix[-1].islower() and kw[0].isupper()):
            if gate == "pwd" or kw.lower() == "pass":
                return False, name
        if name.upper() in ("PWD", "OLDPWD"):
            return False, name
    if gate == "key" and not _KEY_QUALIFIERS.search(prefix.lower()):
        return False, name  # decided later: a random-looking value under an ENV_STYLE_KEY name
    return True, name


def _line_rest(text: str, end: int) -> str:
    nl = text.find("\n", end, end + 200)
    return text[end : nl if nl >= 0 else end + 200]


def _value(m: re.Match) -> tuple[str, int, int, bool]:
    """The assigned value of an assignment match: (value, start, end, quoted)."""
    group = "qv" if m.group("q") is not None else "bv"
    return m.group(group), m.start(group), m.end(group), group == "qv"


def _value_ok(text: str, m: re.Match, name: str, env_style: bool) -> tuple[bool, int]:
    """Is the assigned value a secret (not code, a type or a placeholder)? Returns (ok, end)."""
    sep = m.group("sep")
    value, start, end, quoted = _value(m)
    value = text[start:end]  # the match may come from the lower-cased copy
    if quoted:
        if m.group("ann") and ":" not in sep:
            return False, end
        if len(value.strip()) < 3 or value.startswith(_PLACEHOLDER_START) or "://" in value:
            return False, end
        if value.lower() in _NOT_SECRET or not value.strip("*x•.·-_ ").strip():
            return False, end
        return True, end
    stripped = value.rstrip(")]}>.")  # f(token=abc123) keeps its parenthesis
    end -= len(value) - len(stripped)
    value = stripped
    if len(value) < 3 or value.startswith(_PLACEHOLDER_START + ("(", "[", "!", "&", "@", "-")) or "://" in value:
        return False, end
    if "(" in value or "[" in value or value.lower() in _NOT_SECRET or not value.strip("*x•.·-_"):
        return False, end
    if _DOTTED.match(value):
        return False, end  # settings.SECRET_KEY, os.environ, self.token
    if _IDENT.match(value) and not any(c.isdigit() for c in value):
        # A bare word: in code a variable or a type, in .env / YAML / INI a literal.
        if env_style:
            return not ("_" in value and value.isupper()), end  # not API_KEY = OTHER_CONSTANT
        if ":" in sep and "-" in name.strip("-"):
            return True, end  # an HTTP header: X-Api-Key: ..., X-Auth-Token: ...
        if ":" in sep:
            # YAML `password: hunter`, not `token: Token` (a type) nor `f(password: str, ...)`
            return (_line_rest(text, end).strip() == "" and not value[0].isupper()), end
        tight = text[m.start("sep") - 1] not in " \t" and m.end("sep") == start
        if sep == "=" and tight and text[end : end + 1] not in (",", ")"):
            return "_" not in value, end  # INI / query `password=hunter`; not f(password=user_password)
        return False, end
    return True, end


def _random_looking(value: str) -> bool:
    return len(value) >= 16 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _find_assignments(text: str, low: str, patterns: list[tuple[str, str, re.Pattern]]) -> Iterator[_Span]:
    for gate, kind, pattern in patterns:
        for m in pattern.finditer(low):
            ok, name = _name_ok(text, m, gate)
            env_style = not any(c.islower() for c in name)
            if not ok:
                # MY_SERVICE_KEY=3f9a...: a generic *_KEY name counts when its value looks random
                if gate != "key" or not env_style or name.upper().endswith(("KEYS", "KEY_ID")):
                    continue
                _, vstart, vend, _ = _value(m)
                if not _random_looking(text[vstart:vend]):
                    continue
            ok, end = _value_ok(text, m, name, env_style)
            if not ok:
                continue
            lname = name.lower()
            if "secret_access_key" in lname or ("aws" in lname and "secret" in lname):
                k = "aws_secret_key"
            elif gate == "key" and "api" in lname:
                k = "api_key"
            else:
                k = kind
            yield _Span(_value(m)[1], end, k)


def _find_flags(text: str) -> Iterator[_Span]:
    for m in _FLAG.finditer(text):
        quoted = m.group("q") is not None
        value = m.group("qv") if quoted else m.group("bv")
        if len(value) < 3 or value.startswith(_PLACEHOLDER_START + ("-",)) or value.lower() in _NOT_SECRET:
            continue
        if not quoted and ("(" in value or _DOTTED.match(value)):
            continue
        kw = m.group("kw").lower()
        kind = "password" if kw.startswith("pass") else "token" if kw == "token" else "secret"
        group = "qv" if quoted else "bv"
        yield _Span(m.start(group), m.end(group), kind)


# --- the detector table -------------------------------------------------------------------

# (needles, finder(text, lowered text or None)). A needle is a lower-case string that the finder
# cannot match without: some of it is a literal that its regex needs (`sk-`, `ghp_`, `sg.`; the
# provider patterns are case-sensitive, so the needle is in the text once ASCII letters are
# lower-cased). The assignment and Basic needles are short (`ken`, `wd`) because those finders
# match case-insensitively: see _find_needles.
_DETECTORS: list[tuple[tuple[str, ...], Callable]] = [
    (("private key",), _find_pem),  # -----BEGIN ... PRIVATE KEY-----, -----END ... PRIVATE KEY-----
    (("sk-",), _find_sk),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), _find_github),
    (("akia", "aiza", "ASIA"), _find_a),  # ASIA: looked for in the text itself (case-sensitive)
    *[(needles, _simple(kind, pattern, back)) for kind, needles, pattern, back in _SIMPLE],
    (("://",), _find_url),
    (("bearer",), _find_bearer),
    (("basic",), _find_basic),
]
_ASSIGN_NEEDLES = {"pass": 0, "wd": 1, "cret": 2, "ken": 3, "key": 4}  # index into _ASSIGN
_FLAG_NEEDLE = "--"

# The gate: which needles are in a text, found in one pass of one regex over a byte copy of it.
# bytes.translate maps the upper-case letters to lower case and every character of _ANCHORS (in
# either case) to \x01, so every needle, written in the same mapping, has a \x01 in it, and the
# gate regex starts with that one byte: the engine jumps from \x01 to \x01 in C (a set of first
# characters would cost a call per character). The anchors are the rarest letters the needles
# have (`k` for ken, key and sk-; `w` for wd; ...), so there are few \x01 to look behind. Each
# \x01 costs the engine a few hundred instructions, so the needles whose rarest letter is still
# common (`cret`, `pass`, `basic`, `://` ...: c p b f :) are looked for with `in` instead (a needle
# without an anchor is itself in the copy): fewest instructions over the import's texts. (`j`,
# the rarest letter of eyJ, is no anchor: its `y` is one for ya29. anyway, and every `j` would be
# one more \x01 to try. Nor are `_` and `b`, for hf_, npm_, dop_v1_, basic and bearer: with them
# more bytes stand for any anchor, and each \x01 followed by a needle's rest (`_d` as wd, `box` as
# xox) is a candidate checked in Python: 2-6 % more instructions over the import's texts. The
# needles that end with `_` are looked for by a regex of their own instead: _UNDERSCORE_GATE.)
# The mapping also turns the control characters strip_control removes into \x02, and \xc2 (the
# first byte of a C1 control in UTF-8) into \x03, so that clean() sees from the same copy whether
# there is anything to strip.
# After a \x01 the regex tries each needle's rest; one that precedes its anchor is checked by a
# look-behind. A \x01 stands for any anchor, so a match is a candidate only: the needle is taken
# when the original bytes there, lower-cased, are the needle. A needle whose pattern could match
# at the same \x01 as one tried before it is checked there too (the regex reports one match per
# position). So the gate finds exactly the needles that are in the text with its ASCII letters
# lower-cased, as the old per-character gate did; one quirk of that gate is kept (_SKIPPED).
_ANCHORS = "gkwxyz"
# `cret` right after `basi` was never seen: the old gate's matches did not overlap, and `basic`
# took the `c`. It decides whether --flags are looked for (see find_secrets), so it stays unseen.
_SKIPPED = {"cret": b"basi"}


def _build_gate():
    table = bytearray(range(256))
    for c in range(65, 91):  # A-Z
        table[c] = c + 32
    for ch in _ANCHORS:
        table[ord(ch)] = table[ord(ch.upper())] = 1
    for c in [*range(0, 9), *range(11, 32), 127]:  # what strip_control removes (keeps \t and \n)
        table[c] = 2
    table[0xC2] = 3
    table = bytes(table)
    by_needle: dict[str, list[int]] = {}
    for i, (needles, _) in enumerate(_DETECTORS):
        for needle in needles:
            by_needle.setdefault(needle, []).append(i)
    needles = [n for n in [*by_needle, *_ASSIGN_NEEDLES] if n != "ASIA"]
    alts = []  # (needle, its bytes, mapped bytes before the anchor, mapped bytes after it)
    plain = tuple(n.encode() for n in needles if 1 not in n.encode().translate(table))
    for needle in needles:
        mapped = needle.encode().translate(table)
        if mapped in plain:
            continue
        i = mapped.index(1)
        # a rest to tell it by, which does not start with an anchor (see the branches below)
        assert mapped[i + 1 : i + 2] not in (b"", b"\x01"), needle
        alts.append((needle, needle.encode(), mapped[:i], mapped[i + 1 :]))

    def may_share(a, b) -> bool:  # can both patterns match at one \x01?
        pre_a, pre_b, rest_a, rest_b = a[2], b[2], a[3], b[3]
        n = min(len(pre_a), len(pre_b))
        m = min(len(rest_a), len(rest_b))
        return (n == 0 or pre_a[-n:] == pre_b[-n:]) and rest_a[:m] == rest_b[:m]

    # One branch per first byte after the anchor (the engine then tries few per \x01); in each,
    # the needles in the order above. The empty group after each tells which one matched. The
    # branch takes its first byte (only the rest is a look-ahead: the engine enters one only after
    # that byte matched); that byte is no anchor, so the next match is still looked for from the
    # next anchor on.
    branches: dict[int, list[bytes]] = {}
    checks: list[tuple] = [()]
    for k, (needle, nb, pre, rest) in enumerate(sorted(alts, key=lambda a: a[3][0])):
        look = b"(?<=" + re.escape(pre + b"\x01" + rest) + b")" if pre else b""
        branches.setdefault(rest[0], []).append(re.escape(rest[1:]) + look + b"()")
        later = alts[alts.index((needle, nb, pre, rest)) + 1 :]
        checks.append(tuple((n, len(p), b) for n, b, p, r in [(needle, nb, pre, rest), *(x for x in later if may_share((needle, nb, pre, rest), x))]))
    gate = re.compile(
        b"\x01(?:" + b"|".join(re.escape(bytes([c])) + b"(?=" + b"|".join(parts) + b")" for c, parts in branches.items()) + b")"
    )
    return table, gate, checks, tuple(nb.decode() for nb in plain), by_needle


_GATE_TABLE, _GATE, _GATE_CHECKS, _GATE_PLAIN, _BY_NEEDLE = _build_gate()
# The needles without an anchor that end with `_` (hf_, npm_, dop_v1_): one regex finds them,
# trying only at each `_` (a rare character); see _find_needles.
_UNDERSCORE_NEEDLES = tuple(n for n in _GATE_PLAIN if n.endswith("_") and n not in _SKIPPED)
_UNDERSCORE_GATE = re.compile("_(?:" + "|".join(f"(?<={re.escape(n)})" for n in _UNDERSCORE_NEEDLES) + ")")
_GATE_PLAIN = tuple(n for n in _GATE_PLAIN if n not in _UNDERSCORE_NEEDLES)
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")

KNOWN_KINDS = tuple(
    sorted(
        {
            "private_key", "anthropic_key", "openai_key", "github_token", "aws_access_key", "aws_secret_key",
            "google_api_key", "slack_webhook", "discord_webhook", "url_password", "bearer", "basic_auth",
            "password", "secret", "token", "api_key",
            *(kind for kind, _, _, _ in _SIMPLE),
        }
    )
)


def _raw(text: str) -> bytes:
    return text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")


def _find_needles(text: str, raw: bytes, mapped: bytes) -> set[str]:
    """The needles in `text` (`raw` its bytes, `mapped` those through _GATE_TABLE).

    Needles are looked for in the bytes with ASCII letters lower-cased, as ever: a non-ASCII
    letter that case-insensitive matching takes for an ASCII one (K ſ ı İ) does not make a needle,
    and the assignment finders, which match case-insensitively, run only when one was seen.
    """
    found: set[str] = set()
    m = _GATE.search(mapped)
    if m:
        for m in _GATE.finditer(mapped, m.start()):
            p = m.start()
            for needle, back, nb in _GATE_CHECKS[m.lastindex]:
                if needle not in found and raw[p - back : p - back + len(nb)].lower() == nb:
                    if not _skipped(needle, raw, p - back):
                        found.add(needle)
    # In a str of `mapped` (one character per byte: the same positions): `in` on a str is a
    # cheaper call than bytes.find (which parses its arguments) or `in` on bytes (which first tries
    # the needle as an int), and most texts have none of these needles.
    plain = mapped.decode("latin-1")
    # The needles that end with `_`: one regex that looks behind each `_` costs less than a scan
    # per needle, and only runs where there is a `_` (`in` of one character: memchr).
    if "_" in plain and _UNDERSCORE_GATE.search(plain):
        found.update(n for n in _UNDERSCORE_NEEDLES if n in plain)
    for needle in _GATE_PLAIN:
        if needle in plain:
            p = plain.find(needle)
            while p >= 0 and _skipped(needle, raw, p):
                p = plain.find(needle, p + 1)
            if p >= 0:
                found.add(needle)
    if "ASIA" in text:
        found.add("ASIA")
    return found


def _skipped(needle: str, raw: bytes, p: int) -> bool:
    skipped = _SKIPPED.get(needle)
    return skipped is not None and raw[max(0, p - len(skipped)) : p].lower() == skipped


def _ascii_lower(text: str, raw: bytes) -> str | None:
    """`text` with its ASCII letters lower-cased, for regexes written in lower case: the same
    matches as on text.lower() (their other characters only matter as whitespace or not, which
    lower() keeps), or None when lower() differs in a way that matters (K lower-cases to k; İ to two
    characters: the old way then)."""
    if text.isascii():
        return text.lower()
    if "\u212a" in text or "\u0130" in text:
        return None
    return raw.lower().decode("utf-8", "surrogatepass")


def find_secrets(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every secret in `text`, in order, not overlapping."""
    if len(text) < 8:
        return []
    raw = _raw(text)
    found = _find_needles(text, raw, raw.translate(_GATE_TABLE))
    return _find_secrets(text, raw, found) if found else []


def _find_secrets(text: str, raw: bytes, found: set[str]) -> list[tuple[int, int, str]]:
    """find_secrets of a text (`raw` its bytes) in which the needles `found` are."""
    ascii_text = text.isascii()
    low: str | None = None
    strong: list[_Span] = []
    run: set[int] = set()
    for needle in found:
        run.update(_BY_NEEDLE.get(needle, ()))
    for i in sorted(run):
        finder = _DETECTORS[i][1]
        if finder is _find_basic and ascii_text and low is None:
            low = text.lower()
        strong.extend(finder(text, low if ascii_text else None))
    weak: list[_Span] = []
    fired = sorted(_ASSIGN_NEEDLES[n] for n in found if n in _ASSIGN_NEEDLES)
    if fired:
        if low is None:
            low = _ascii_lower(text, raw)
            if low is None:
                lowered = text.lower()
                if len(lowered) == len(text):  # same offsets: match on the lower-cased copy
                    low = lowered
        table = _ASSIGN if low is not None else _ASSIGN_I
        weak.extend(_find_assignments(text, low if low is not None else text, [table[i] for i in fired]))
        if _FLAG_NEEDLE in text:
            weak.extend(_find_flags(text))
    return _merge(strong, weak)


def _merge(strong: list[_Span], weak: list[_Span]) -> list[tuple[int, int, str]]:
    """The spans of the provider tokens (`strong`) and of the assignments, in order, not overlapping."""
    if not strong and not weak:
        return []
    result: list[_Span] = []
    for span in sorted(strong):  # provider tokens first; overlapping ones merge
        if result and span.start < result[-1].end:
            if span.end > result[-1].end:
                result[-1] = _Span(result[-1].start, span.end, result[-1].kind)
            continue
        result.append(span)
    if weak:
        # assignments fill the gaps between the provider tokens
        starts = [s.start for s in result]
        kept: list[_Span] = []
        for span in sorted(weak):
            if kept and span.start < kept[-1].end:
                continue
            i = bisect_right(starts, span.start)
            if i and result[i - 1].end > span.start or i < len(result) and result[i].start < span.end:
                continue
            kept.append(span)
        result = sorted(result + kept)
    return [(s.start, s.end, s.kind) for s in result]


def _redacted(text: str, spans: list[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    out = []
    pos = 0
    for start, end, kind in spans:
        out.append(text[pos:start])
        out.append(f"[REDACTED:{kind}]")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str) -> str:
    """Replace every secret found in `text` by `[REDACTED:kind]`."""
    return _redacted(text, find_secrets(text))


def clean(text: str) -> str:
    """What every stored text goes through: control stripping, then secret scrubbing."""
    if len(text) < 8:
        return strip_control(text)  # (too short for a secret)
    return _clean(text, _raw(text))


def _clean(text: str, raw: bytes) -> str:
    """clean() of a text of 8 characters or more, `raw` its bytes (_raw)."""
    mapped = raw.translate(_GATE_TABLE)
    if 2 in mapped or 3 in mapped and _C1_UTF8.search(raw):
        return redact(strip_control(text))  # something to strip (rare): the long way
    found = _find_needles(text, raw, mapped)
    return _redacted(text, _find_secrets(text, raw, found)) if found else text  # (most have none)


def clean_utf8(text: str) -> tuple[str, bytes | None]:
    """clean(text), and its UTF-8 when clean() encoded a text that is not ASCII to look at it and
    left it as it was (most), else None: the import worker sends such a text as its UTF-8
    (pipeline._utf8_one) without encoding it a second time."""
    if len(text) < 8:
        return strip_control(text), None
    if text.isascii():
        return _clean(text, text.encode("ascii")), None
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: _raw's bytes are no UTF-8
        return clean(text), None
    out = _clean(text, raw)
    return out, (raw if out is text else None)


# --- cleaning a text that will be cut -------------------------------------------------------

# How far past a cut a window reaches, so that a token across the cut is still seen whole. A
# private key may be longer: its BEGIN line without END, or its END line without BEGIN, is
# enough for _find_pem to take the base64 lines next to it.
CUT_MARGIN = 1024
_SPACE = re.compile(r"\s")


def clean_head(text: str, n: int) -> str:
    """The first `n` characters of clean(text), cleaning only a window a little past the cut.

    The window ends at whitespace after `n + CUT_MARGIN` characters, so no token is cut in two
    (a piece of a token may be too short to be recognised, and must not be kept either). A
    `[REDACTED:kind]` marker across the cut is kept whole."""
    end = n + CUT_MARGIN
    if end < len(text):
        m = _SPACE.search(text, end, end + CUT_MARGIN)
        end = m.start() if m else end
    out = clean(text[:end])
    if n < len(out):
        i = out.rfind("[", max(0, n - 40), n)
        if i >= 0 and out.startswith("[REDACTED:", i) and out.find("]", i) >= n:
            n = out.find("]", i) + 1
    return out[:n]


def clean_tail(text: str, n: int) -> str:
    """The last `n` characters of clean(text), cleaning only a window a little before the cut."""
    if n <= 0:
        return ""
    start = len(text) - n - CUT_MARGIN
    if start > 0:
        lo = max(0, start - CUT_MARGIN)
        cut = max(text.rfind(c, lo, start) for c in " \n\t")
        start = cut + 1 if cut >= 0 else start
    else:
        start = 0
    out = clean(text[start:])
    first = len(out) - n
    if first > 0:
        i = out.rfind("[", max(0, first - 40), first)
        if i >= 0 and out.startswith("[REDACTED:", i) and out.find("]", i) >= first:
            first = i
    return out[max(0, first) :]


# --- cleaning a long document ---------------------------------------------------------------
#
# `clean_document(text)` returns exactly `clean(text)`, faster on a long text (an export of many
# memories) in which few lines could hold a secret. Every detector above but the private key
# one matches within one line: its regex matches no newline, and what it looks at around a match
# (the name before an assignment, the rest of the line after it, a word boundary) stops at one.
# So `clean` of the lines that could hold a secret, joined, gives those lines as `clean` of the
# whole text does, and the other lines are left as they are by both.
#
# Which lines could: two passes of one regex each over a byte copy of the text, mapped with
# bytes.translate so that every pattern starts with the same byte (\x01): the regex engine then
# jumps between candidates in C instead of trying a set of characters at every position.
#   forward: - _ . : = I b B become \x01 (and letters lower case); after one, a run of 16 token
#     characters (every provider token has one: AKIA.. and AIza.. after their I, sk-.., ghp_..,
#     ya29..., eyJ...eyJ, SG...), `//` (a URL password, a webhook), `earer` (Bearer), `asic`
#     (Basic), `-` and a flag name (--password ...), Slack's xox?- and xapp- (a look back);
#   backward (the text reversed, = and : become \x01): a separator, then a secret-looking name
#     (pass, pwd, secret, token, key and up to 48 name characters) before it.
# Each pattern accepts at least what its detector does (bounds on characters that may be non-ASCII
# are four times the detector's, in UTF-8 bytes), so a line that no pass flags is one that `clean`
# leaves as it is. The whole text goes through `clean` at once instead when it holds something that
# is not line by line: a control character (C0, C1), a private key's BEGIN/END line, or one of the four
# non-ASCII letters that case-insensitive matching takes for an ASCII one (K ſ ı İ).

_DOC_MIN = 4096  # shorter texts: clean() directly
_CASE_TRAPS = ("\u212a", "\u017f", "\u0131", "\u0130")  # Kelvin sign, long s, dotless i, dotted I


def _doc_tables() -> tuple[bytes, bytes]:
    forward = bytearray(range(256))
    backward = bytearray(range(256))
    for c in range(65, 91):  # A-Z
        forward[c] = backward[c] = c + 32
    for c in b"-_.:=IbB":
        forward[c] = 1
    for c in b":=":
        backward[c] = 1
    for c in [*range(0, 9), *range(11, 32), 127]:  # control characters (keeps \t and \n)
        forward[c] = 2
    return bytes(forward), bytes(backward)


_DOC_FORWARD, _DOC_BACKWARD = _doc_tables()
# Every branch starts with one byte or one set of bytes, so the engine skips a branch that cannot
# match after looking at one byte. T: a token character after the mapping.
_T = rb"[a-z0-9\x01+/]"
_DOC_FLAGS = re.compile(
    rb"\x01(?:"
    rb"\x01\x01\x01\x01(?P<pem>\x01eg\x01n|end)"  # -----BEGIN / -----END: the whole text at once
    rb"|" + _T + _T + rb"{15}"  # a token run after - _ . : = I b x
    rb"|//(?:[^\s/@'\"`\\<>]{0,512}\x01[^\s/'\"`\\<>]{1,1024}@|hooks\x01slack|[a-z\x01]{0,7}discord)"
    rb"|earer[ \t]+" + _T + rb"{16}"  # Bearer
    rb"|as[i\x01]c[ \t]+" + _T + rb"{8}"  # Basic
    rb"|\x01[a-z0-9\x01]*(?:pass|token|secret|key)"  # --flag
    rb"|[a-z0-9\x01](?<=xox[a-z\x01]\x01.)[a-z0-9\x01]{9}"  # Slack: xox?- and 10
    rb"|[^\s](?<=xapp\x01.)[^\s]{0,3}\x01[a-z0-9\x01]{10}"  # Slack: xapp-1- and 10
    rb")"
)
_DOC_NAMES = re.compile(rb"\x01[ \t]*(?:[\"']\\{0,3})?[a-z0-9_\-]{0,48}(?:ssap|dwp|terces|nekot|yek)")
_PEM_MARKS = (b"-----BEGIN ", b"-----END ")
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")


def _doc_lines(raw: bytes) -> list[tuple[int, int]] | None:
    """(start, end) of each line of `raw` that could hold a secret, in order; None when the text
    must go through clean() whole."""
    n = len(raw)
    forward = raw.translate(_DOC_FORWARD)
    if 2 in forward:
        return None
    spans: set[tuple[int, int]] = set()
    search = _DOC_FLAGS.search
    m = search(forward)
    while m:
        pos = m.start()
        start = raw.rfind(b"\n", 0, pos) + 1
        end = raw.find(b"\n", pos)
        end = n if end < 0 else end
        if m.lastgroup == "pem" or any(raw.find(mark, pos, end) >= 0 for mark in _PEM_MARKS):  # (not searched)
            return None
        spans.add((start, end))
        m = search(forward, end + 1)
    # the backward pass reads from the last separator back to the line of the first one
    first = min((i for i in (raw.find(b"="), raw.find(b":")) if i >= 0), default=-1)
    if first < 0:
        return sorted(spans)
    low = raw.rfind(b"\n", 0, first) + 1
    high = max(raw.rfind(b"="), raw.rfind(b":")) + 1
    backward = raw[low:high].translate(_DOC_BACKWARD)[::-1]
    search = _DOC_NAMES.search
    m = search(backward)
    while m:
        pos = high - 1 - m.start()  # the separator, in `raw`
        start = raw.rfind(b"\n", 0, pos) + 1
        end = raw.find(b"\n", pos)
        end = n if end < 0 else end
        spans.add((start, end))
        m = search(backward, high - start)
    return sorted(spans)


def clean_document(text: str) -> str:
    """clean(text), cleaning only the lines that could hold a secret (see above): for the long
    texts an export renders."""
    if len(text) < _DOC_MIN:
        return clean(text)
    ascii_only = text.isascii()
    if not ascii_only and any(c in text for c in _CASE_TRAPS):
        return clean(text)
    raw = text.encode("utf-8", "surrogatepass")
    if not ascii_only and _C1_UTF8.search(raw):  # C1 control characters (ASCII ones: see _doc_lines)
        return clean(text)
    spans = _doc_lines(raw)
    if spans is None:
        return clean(text)
    if not spans:
        return text
    lines = [raw[s:e].decode("utf-8", "surrogatepass") for s, e in spans]
    joined = "\n".join(lines)
    cleaned = clean(joined)
    if cleaned == joined:
        return text
    out_lines = cleaned.split("\n")
    if len(out_lines) != len(lines):  # cannot happen (see above); if it did, the slow way
        return clean(text)
    out: list[bytes] = []
    pos = 0
    for (s, e), old, new in zip(spans, lines, out_lines):
        if new != old:
            out.append(raw[pos:s])
            out.append(new.encode("utf-8", "surrogatepass"))
            pos = e
    out.append(raw[pos:])
    return b"".join(out).decode("utf-8", "surrogatepass")
