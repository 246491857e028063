"""The redactor's shortcuts find what the plain way found.

clean() and find_secrets() decide which detectors run with a gate (one regex over a mapped byte
copy, see memtui.core.redact), and clean() sees from that copy whether there is anything to strip.
Here the detectors are run as they were before those shortcuts: the old needles, looked for with
the old per-character regex over the text with its ASCII letters lower-cased (plus `SIA` in the
text), strip_control() before find_secrets(), and text.lower() for the assignment regexes. The
two must agree on the real corpus, on made-up texts that put every secret and every needle at the
edges of a text, in mixed case, next to non-ASCII and next to the four letters that
case-insensitive matching takes for ASCII ones, and on random texts made of needle pieces.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from memtui.core import redact as R
from tests.core.test_redact import secrets

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

# finder -> the needles it ran on before
_OLD_DETECTORS = [
    (("key",), R._find_pem),
    (("k-",), R._find_sk),
    (("gh", "github_pat_"), R._find_github),
    (("kia", "za"), R._find_a),
    *[
        (needles, R._simple(kind, pattern, back))
        for (kind, _, pattern, back), needles in zip(
            R._SIMPLE,
            [("ya29.",), ("px-",), ("xox",), ("xapp-",), ("k_live_", "k_test_"), ("whsec_",), ("f_",), ("pm_",),
             ("glpat-",), ("ypi-",), ("p_v1_",), ("g.",), ("yj",)],
        )
    ],
    (("://",), R._find_url),
    (("bearer",), R._find_bearer),
    (("basic",), R._find_basic),
]
_OLD_ASSIGN = {"pass": 0, "wd": 1, "cret": 2, "ken": 3, "key": 4}


def _old_gate():
    needles = sorted({n for ns, _ in _OLD_DETECTORS for n in ns} | set(_OLD_ASSIGN))
    groups: dict[str, list[str]] = {}
    for n in needles:
        groups.setdefault(n[0], []).append(re.escape(n[1:]))
    pattern = "|".join(
        re.escape(first) + "(?:" + "|".join(sorted(rests, key=len, reverse=True)) + ")" for first, rests in groups.items()
    )
    return re.compile(pattern.encode())


_OLD_GATE = _old_gate()


def old_find_secrets(text: str) -> list[tuple[int, int, str]]:
    if len(text) < 8:
        return []
    found = {n.decode() for n in _OLD_GATE.findall(text.encode("utf-8", "surrogatepass").lower())}
    if "SIA" in text:
        found.add("kia")
    low = text.lower() if text.isascii() else None
    strong = []
    for needles, finder in _OLD_DETECTORS:
        if found.intersection(needles):
            strong.extend(finder(text, low))
    weak = []
    fired = sorted(_OLD_ASSIGN[n] for n in found if n in _OLD_ASSIGN)
    if fired:
        if low is None and len(text.lower()) == len(text):
            low = text.lower()
        table = R._ASSIGN if low is not None else R._ASSIGN_I
        weak.extend(R._find_assignments(text, low if low is not None else text, [table[i] for i in fired]))
        if "--" in text:
            weak.extend(R._find_flags(text))
    return R._merge(strong, weak)


def old_clean(text: str) -> str:
    text = R.strip_control(text)
    out, pos = [], 0
    for start, end, kind in old_find_secrets(text):
        out += [text[pos:start], f"[REDACTED:{kind}]"]
        pos = end
    return "".join(out) + text[pos:]


def _same(text: str) -> None:
    assert R.find_secrets(text) == old_find_secrets(text), repr(text[:300])
    assert R.clean(text) == old_clean(text), repr(text[:300])


# --- made-up texts ------------------------------------------------------------------------

_NEEDLES = sorted({n for ns, _ in _OLD_DETECTORS for n in ns} | set(_OLD_ASSIGN) | {
    n for ns, _ in R._DETECTORS for n in ns
})
_TRAPS = ["\u212a", "\u017f", "\u0131", "\u0130"]  # Kelvin sign, long s, dotless i, dotted I
_AROUND = ["", " ", "x", "é", "日本", "\u212a", "\u017f", "\u0131", "\u0130", "\x1b[31m", "\x85", "\r\n", "--", "=", '"']


def _trap_forms(s: str) -> list[str]:
    """`s` with one ASCII letter swapped for the non-ASCII letter that matches it case-insensitively."""
    swap = {"k": "\u212a", "K": "\u212a", "s": "\u017f", "S": "\u017f", "i": "\u0131", "I": "\u0130"}
    return [s[:i] + swap[c] + s[i + 1 :] for i, c in enumerate(s) if c in swap]


def _cases() -> list[str]:
    out = []
    samples = [s for s, _ in secrets().values()]
    samples += [
        "DB_PASSWORD=hunter2secret", "--password hunter22", "--toKen abcdef123", "--pa\u017fsword abcdef123",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: ba\u017fic dXNlcjpwYXNzd29yZA==",
        "Bearer abcdefghijklmnop1234", "postgres://app:s3cretpw@db/prod", "api_key = 'q8w7e6r5t4y3u2i1'",
        "to\u212aen=abcdef123456", "\u0130 token: abc123def456", "secret: hunter2", "MY_SERVICE_KEY=3f9a8b7c6d5e4f3a2b1c",
        "pwd=hunter22", "passwd: x9y8z7w6", "client-secret=abc123def",
    ]
    for s in samples:
        for form in {s, s.upper(), s.lower(), s.swapcase(), *_trap_forms(s)[:6]}:
            for a in _AROUND:
                out += [form + a, a + form, a + form + a, "x" * 8 + a + form]
                out += [f"basicret {a}{form} --password{a}x9y8z7", f"{a}{form}\n--pa\u017fsword hunter22"]
    for n in _NEEDLES:
        for form in {n, n.upper(), n.title(), n.swapcase(), *_trap_forms(n)}:
            for a in _AROUND:
                for tail in ["", "=abc123def456", ": hunter22", "_" + "Ab1" * 14, "-" + "Ab1" * 14, ".Ab1", " --toKen x1y2z3w4"]:
                    out += [form + tail + a, a + form + tail, "ab " + a + form + tail + " cd"]
    # the old gate's matches did not overlap: what it could not see must stay unseen
    out += ["basicret --to\u212aen abc123def", "xoxapp-1-abcdefghijk12", "keya29.abcdefghijklmnopqrstuvw", "hf_enAb1" * 5]
    return out


def test_made_up_texts_give_what_they_gave():
    for text in _cases():
        _same(text)


def test_random_texts_of_needle_pieces_give_what_they_gave():
    rng = random.Random(20261124)
    pieces = [*_NEEDLES, *(n.upper() for n in _NEEDLES), *_TRAPS, "é", "日", " ", "\n", "=", ":", "--", "_", "-", ".",
              "/", '"', "'", "Ab1c9", "0123456789", "ASIA", "AKIA", "AIza", "SG.", "eyJ", "PRIVATE KEY-----", "-----BEGIN ",
              "-----END ", "\x1b[0m", "\r", "\x9b", "secret", "token", "password", "api", "basi", "Bearer "]
    for _ in range(6000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        _same(text)
        _same(text + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(44)))


def test_the_gate_finds_every_needle_in_every_case():
    # each needle alone, in each case, after each prefix: found exactly when the old gate found it
    for n in [*(n for ns, _ in R._DETECTORS for n in ns), *R._ASSIGN_NEEDLES]:
        for form in (n, n.upper(), n.title()):
            for a in ["", "a", "k", "c", "p", "\x01", "é"]:
                text = a + form + " z"
                raw = R._raw(text)
                found = R._find_needles(text, raw, raw.translate(R._GATE_TABLE))
                assert n in found or n == "ASIA" and form != "ASIA", (text, found)


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    for f in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        raw = f.read_text("utf-8", errors="surrogateescape")
        for line in raw.splitlines():
            try:
                values = [json.loads(line)]
            except ValueError:
                values = [line]
            while values:  # every string in the line's JSON
                v = values.pop()
                if isinstance(v, str):
                    texts.append(v)
                elif isinstance(v, (dict, list)):
                    values.extend(v.values() if isinstance(v, dict) else v)
        texts.append(raw)
    return texts


@pytest.mark.skipif(not CORPUS.exists(), reason="no corpus")
def test_corpus_texts_give_what_they_gave():
    for text in _corpus_texts():
        _same(text)
        if len(text) > 3000:  # the windows clean_head / clean_tail clean
            for n in (200, 1500):
                _same(text[: n + R.CUT_MARGIN])
                _same(text[-n - R.CUT_MARGIN :])


def _plain_needles_as_before(raw: bytes, mapped: bytes) -> set[str]:
    """The needles without an anchor, looked for as before: bytes.find in the mapped copy."""
    found = set()
    for needle in R._GATE_PLAIN:
        nb = needle.encode()
        p = mapped.find(nb)
        while p >= 0 and R._skipped(needle, raw, p):
            p = mapped.find(nb, p + 1)
        if p >= 0:
            found.add(needle)
    return found


def test_the_needles_without_an_anchor_are_found_as_before():
    # the plain needles are looked for in a str decoded from the mapped copy: the same positions,
    # the same needles (cret after basi still skipped, the later cret still seen), whatever the bytes
    rng = random.Random(20261125)
    plain = list(R._GATE_PLAIN)
    pieces = [*plain, *(n.upper() for n in plain), *(n[:-1] for n in plain), *(n[1:] for n in plain), "basi", "BASI",
              *_TRAPS, "é", "日本", "\x85", "\xff", "\udcff", " ", "\n", "=", "-", "Ab1"]
    texts = []
    for _ in range(4000):
        texts.append("".join(rng.choice(pieces) for _ in range(rng.randint(1, 10))))
    for n in plain:
        for form in (n, n.upper(), n.title(), n.swapcase()):
            for a in ["", "basi", "BaSi", "é", "\u212a", "\xff"]:
                texts += [a + form, form + a, a + form + " " + a + form, a + form + a + form]
    seen: set[str] = set()
    for text in texts:
        if len(text) < 8:
            text = text + " " * (8 - len(text))
        raw = R._raw(text)
        mapped = raw.translate(R._GATE_TABLE)
        found = R._find_needles(text, raw, mapped)
        before = _plain_needles_as_before(raw, mapped)
        assert found & set(plain) == before, (text, found, before)
        seen |= before
        _same(text)
    assert seen == set(plain)  # every needle was found at least once


def _needles_by_plain_search(text: str) -> set[str]:
    """Every needle in the text with its ASCII letters lower-cased (cret not right after basi), by find()."""
    low = R._raw(text).lower()
    found = {"ASIA"} if "ASIA" in text else set()
    for needle in {n for ns, _ in R._DETECTORS for n in ns} - {"ASIA"} | set(R._ASSIGN_NEEDLES):
        p = low.find(needle.encode())
        while p >= 0 and R._skipped(needle, low, p):
            p = low.find(needle.encode(), p + 1)
        if p >= 0:
            found.add(needle)
    return found


def test_the_gate_finds_what_find_finds():
    # whichever letters are anchors: texts of needles that overlap, share letters, and sit next to
    # letters that are anchors or were (j of eyJ) and to non-ASCII
    rng = random.Random(20261126)
    needles = sorted(n for n in _NEEDLES if n != "ASIA")
    pieces = [*needles, *(n.upper() for n in needles), *(n[:-1] for n in needles), *(n[1:] for n in needles),
              *"gjkwxyzGJKWXYZey_-.", "eyJ", "keyj", "EYJEYJ", "basi", "ASIA", *_TRAPS, "é", "\xff", " ", "\n"]
    for _ in range(8000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        raw = R._raw(text)
        assert R._find_needles(text, raw, raw.translate(R._GATE_TABLE)) == _needles_by_plain_search(text), text
