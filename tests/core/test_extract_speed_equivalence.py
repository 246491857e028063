"""The heuristic extractor's shortcuts answer what the plain regexes answered.

Several tests in the extractor were replaced by cheaper ones that must give the same answer: a
regex's alternatives tried one by one behind the literal text each needs, a substring test in front
of a regex, a check of the last character instead of an end-anchored regex. Each is compared here
with the original pattern over the real corpus (tool outputs, replies, requests) and made-up cases.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from memtui.core.extract import signals, textutil, transcript
from memtui.core.extract.textutil import sentences

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

# the patterns as they were before the shortcuts
_FAIL_TEXT = re.compile(
    r"Traceback \(most recent call last\)|^E\s{2,}\S|=+ .*\b\d+ (?:failed|errors?)\b.*=+|^FAILED\b|^FAIL\b|\bnpm ERR!|ERR_PNPM_"
    r"|: command not found|^error(?:\[E\d+\])?:|^\S+\.\w+:\d+:\d+: error|\berror TS\d+|Tests?:\s+\d+ failed"
    r"|^(?:\w+\.)*\w*(?:Error|Exception): |^panic: |\bBUILD FAILED\b|^make: \*\*\*",
    re.M,
)
_QUESTION = re.compile(r"[?？]\s*$|[嗎吗]\s*$")


_MADE_UP = [
    "", "E", "E  x", "x\nE  y", "E\n\n z", "E\tx", "ok\nFAILED tests/a.py::t", "FAIL", "xFAIL", "==== 2 failed in 1s ====",
    "== 1 error ==", "npm ERR! code 1", "xnpm ERR!", "ERR_PNPM_NO_LOCK", "sh: foo: command not found", "error: bad",
    "error[E0425]: x", "src/a.ts:1:2: error TS2304", "x error TS2304", "Tests: 3 failed", "Test:\n 2 failed",
    "ValueError: x", "a.b.KeyError: y", "  Exception: z", "panic: oops", "x\npanic: y", "BUILD FAILED", "make: *** [all]",
    "Traceback (most recent call last):", "nothing to see", "errors: none", "Error:x", "\nE", "E  ", "FAILED",
]


_CACHE: dict = {}


def _texts(kind: str) -> list[str]:
    """Texts of the corpus sessions (every format): tool outputs ("tool_result"), tool inputs ("tool_use")
    or replies/requests ("text"). The sessions themselves are kept in _CACHE["sessions"]."""
    if not CORPUS.exists():
        _CACHE.setdefault("sessions", [])
        return []
    if "messages" not in _CACHE:
        import tempfile

        from memtui.core.db import open_database
        from memtui.core.importers.pipeline import Importer
        from memtui.core.store import list_sessions, session_messages

        sessions = []
        with tempfile.TemporaryDirectory() as tmp:
            db = open_database(Path(tmp) / "eq.db")
            try:
                for sub in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
                    for f in sorted(p for p in sub.rglob("*") if p.is_file()):
                        Importer(db, extractor="none").import_paths([str(f)])
                for s in sorted(list_sessions(db), key=lambda s: s.id):
                    sessions.append((s, session_messages(db, s.id)))
            finally:
                db.close()
        _CACHE["sessions"] = sessions
        _CACHE["messages"] = [m for _, msgs in sessions for m in msgs]
    want = kind if kind in ("tool_result", "tool_use") else "text"
    return [m.text for m in _CACHE["messages"] if m.kind == want and m.text]


def test_fail_text_parts_match_the_regex():
    outputs = _texts("tool_result")
    cases = _MADE_UP + [o[-3000:] for o in outputs] + [o[:3000] for o in outputs]
    for text in cases:
        assert transcript._fail_text(text) == bool(_FAIL_TEXT.search(text)), text[:200]


def test_exception_line_prefilter_never_hides_a_match():
    lines = {t for t in _MADE_UP if "\n" not in t}  # error_line tests one line at a time
    for o in _texts("tool_result"):
        lines.update(ln.strip() for ln in o[-4000:].split("\n") if ln.strip())
    for ln in lines:
        if transcript._EXC_LINE.search(ln):
            assert transcript._may_name_exception(ln), ln


def test_question_marks():
    sents = {"Why?", "why ?  ", "好吗", "是嗎 ", "no", "end.", "a.b", "x()", "snake_case", "camelCase", "`x`", "file.py."}
    for t in _texts("text"):
        sents.update(sentences(t))
    for s in sents:
        assert (s.rstrip()[-1:] in signals._QMARKS) == bool(_QUESTION.search(s)), s


@pytest.mark.parametrize("text", ["see a.py:12 and b.js:3:4", "time: 12:30", "no colon", "x:y", "a.md:1-2"])
def test_file_line_gate(text):
    assert (textutil._FILE_LINE.sub(r"\1", text) != text) <= bool(textutil._COLON_DIGIT.search(text))
    assert textutil.clean_inline(text) == " ".join(textutil._FILE_LINE.sub(r"\1", text).split())


_ODD = ["DON'T use it", "don\u2019t", "\u0131 always", "alwa\u017fs", "\u0130nstead of", "ALWAY\u017f", "\u212aeep it",
        "不要这样", "我发现了", "NEVER", "I noticed", "there's a bug", "keep  it", "no-build", "cross-platform", "x->y", "a \u2192 b",
        "because", "so that\nthe", "it seems", "\u0130 don't know", ""]


def _cue_objects():
    out = []
    for name, value in vars(signals).items():
        any_of = getattr(value, "any_of", None)
        if isinstance(any_of, textutil.AnyOf):
            out.append((name, value, any_of))
    return out


def test_cue_word_alternatives_answer_like_the_regex():
    texts = set(_ODD)
    for t in _texts("text"):
        texts.add(t[:3000])
        texts.update(sentences(t))
    objects = _cue_objects()
    assert len(objects) >= 8
    for name, _, any_of in objects:  # each alternative stands alone, behind a literal of its own
        assert "" not in any_of.literals, name
    for name, _, any_of in objects:
        for t in texts:
            assert any_of.found(t) == bool(any_of.rx.search(t)), (name, t[:200])


def test_gates_in_front_of_the_alternatives_keep_their_answers():
    texts = set(_ODD)
    for t in _texts("text"):
        texts.update(sentences(t))
    for name, obj, any_of in _cue_objects():
        for t in texts:
            if isinstance(obj, textutil.Gate):
                want = bool(obj._open(t) and obj.rx.search(t))
            elif isinstance(obj, signals._AsciiGate):
                want = bool(obj.rx.search(t)) if not t.isascii() else bool(
                    any(a in t.lower() for a in obj.anchors) and obj.rx.search(t))
            else:
                want = bool(any_of.rx.search(t))
            assert bool(obj.search(t)) == want, (name, t[:200])


@pytest.mark.parametrize("pattern, literal", [
    (r"always", "always"), (r"don'?t", "don"), (r"must(?:n'?t)?", "must"), (r"I'?d like (?:to|it)", "d like "),
    (r"backwards? compatible", " compatible"), (r"cross[- ]platform", "platform"), (r"\w+\.py", ".py"), (r"a{2}b", "b"),
    (r"x\.y", "x.y"), (r"[a-z]+", ""), (r"ab\u4e00cd", "ab"), (r"\x41bc", "bc"), (r"q\N{BULLET}rs", "rs"),
])
def test_longest_literal(pattern, literal):
    assert textutil._longest_literal(pattern) == literal


# --- regexes cut down to the alternatives a text can match (textutil.Alternation) -------------------------

_CODEISH_OLD = re.compile(
    r"`[^`]+`|\b[\w-]+\.(?:py|js|ts|tsx|jsx|css|html|md|json|toml|yaml|yml|go|rs|rb|java|kt|c|h|cpp|sh|sql|vue|svelte)\b"
    r"|\b[a-z]+[A-Z]\w+\b|\b\w+_\w+\b|\b\w+\(\)"
)
_CODE_TOKEN_OLD = re.compile(r"`([^`]{2,80})`|(#[0-9a-fA-F]{3,8}\b|\b[\w-]+\.[A-Za-z]{1,5}\b|\b[a-z]+[A-Z]\w*|\b\w+_\w+\b)")
_CODE_MADE_UP = ["", "x", "a.py", "see a.py.", "`x`", "``", "`a` and `b`", "fooBar", "FooBar", "foo_bar", "_x", "x_", "f()",
                 "#fff", "#12345678", "#abcdefg1", "a-b.tsx:", "é.py", "naïveCase", "snake_é_case", "x.Py", "v1.2.3", "e.g. this",
                 "`unclosed", "call() and a_b and cC and d.md", "a.b.c.json", "日本.md", "__init__", "x.pyc"]


def _code_texts() -> set[str]:
    texts = set(_CODE_MADE_UP)
    for t in _texts("text"):
        texts.add(t[:2000])
        texts.update(sentences(t))
        texts.update(line for _, line in textutil.lines_of(t))
    return texts


def test_alternations_find_what_the_whole_regex_finds():
    from memtui.core.extract import heuristic

    assert signals._CODEISH.full.pattern == _CODEISH_OLD.pattern
    for t in _code_texts():
        assert signals._CODEISH.findall(t) == _CODEISH_OLD.findall(t), t[:200]
        assert [m.span() for m in signals._CODEISH.finditer(t)] == [m.span() for m in _CODEISH_OLD.finditer(t)], t[:200]
        assert bool(signals._CODEISH.search(t)) == bool(_CODEISH_OLD.search(t)), t[:200]
        assert heuristic._code_tokens(t) == {(a or b).lower().strip("`") for a, b in _CODE_TOKEN_OLD.findall(t)}, t[:200]
        assert signals._CODEISH.found(t) == bool(_CODEISH_OLD.search(t)), t[:200]
        assert heuristic._CODE_TOKEN.found(t) == bool(_CODE_TOKEN_OLD.search(t)), t[:200]
        # each alternative's test is true wherever the alternative alone matches
        for alternation in (signals._CODEISH, heuristic._CODE_TOKEN):
            for pattern, need in alternation.parts:
                if re.search(pattern, t, alternation.flags):
                    assert _holds(need, t), (pattern, t[:200])


def _holds(need, text: str) -> bool:
    """An Alternation need: a literal, a regex or a function of the text."""
    if isinstance(need, str):
        return need in text
    if isinstance(need, re.Pattern):
        return need.search(text) is not None
    return bool(need(text))


def test_change_cue_needs_no_trailing_word_characters():
    old = re.compile(r"\b(?:instead|switch|migrat|replac|refactor|use|move|convert|upgrad|drop|remov|merg|combin|simplif|rewrite)\w*", re.I)
    for t in _code_texts() | set(_ODD) | {"reuse", "Use", "USED", "\u0130nstead", "\u017fwitch"}:
        assert bool(signals._CHANGE_CUE.search(t)) == bool(old.search(t)), t[:200]


# --- ASCII words in a lower-cased text (textutil.lower_ascii) ----------------------------------------------

_LOWER_MADE_UP = ["", "ABC", "Exit Code 1", "a\u2192b", "\u0130stanbul ERROR:", "\u212aelvin", "long \u017f", "dotless \u0131",
                  "caf\u00e9 Traceback", "\ud800 lone surrogate", "x?y", "\u00c9RROR: \u00e9", "USER DENIED \u2192 x", "\u00df"]


def test_lower_ascii_holds_the_ascii_words_of_lower():
    hints = [h for hs in (transcript._REJECT_HINTS, transcript._MISUSE_HINTS, transcript._FAIL_HINTS) for h in hs]
    hints += ["exit code", "exit_code", "exited with", "exit status"]
    assert all(h.isascii() and "?" not in h for h in hints)
    texts = set(_LOWER_MADE_UP)
    for o in _texts("tool_result"):
        texts.update((o[:1500], o[-3000:], o[:800]))
    for t in texts:
        low, fast = t.lower(), textutil.lower_ascii(t)
        if "\u0130" not in t:
            assert len(fast) == len(low)
        for h in hints:
            assert (h in fast) == (h in low), (h, t[:200])
            assert (h in fast[:600]) == (h in low[:600]), (h, t[:200])  # _classify_result's low[:600]


def test_grouped_hints_answer_like_the_hints():
    sets = ((transcript._REJECT_HINTS, transcript._REJECT_GROUPS), (transcript._MISUSE_HINTS, transcript._MISUSE_GROUPS),
            (transcript._FAIL_HINTS, transcript._FAIL_GROUPS))
    for hints, groups in sets:
        assert sorted(h for _, g in groups for h in g) == sorted(hints)
        assert all(key in h for key, g in groups for h in g)
    texts = set(_LOWER_MADE_UP) | {"tool_use_error", "x not found", "no such tool", "build failed", "\nfail", "err_pnpm"}
    for o in _texts("tool_result"):
        texts.update((o[:1500], o[-3000:]))
    for t in texts:
        low = textutil.lower_ascii(t)
        for hints, groups in sets:
            assert transcript._has_any(low, groups) == any(h in low for h in hints), t[:200]


# --- gates and cue words answered for all the sentences of a reply or request at once -----------------------


def test_gates_answer_for_a_list_of_sentences_as_for_each():
    groups = [list(_ODD)]
    for t in _texts("text"):
        groups.append(sentences(t))
        groups.append([line for _, line in textutil.lines_of(t)])
    gates = [(n, g) for n, g in vars(signals).items() if isinstance(g, textutil.Gate)]
    ascii_gates = [(n, g) for n, g in vars(signals).items() if isinstance(g, signals._AsciiGate)]
    assert gates and ascii_gates
    for texts in groups:
        for name, g in gates:
            assert g.open_each(texts) == [g._open(t) for t in texts], name
        for name, g in ascii_gates:
            assert g.search_each(texts) == [g.search(t) is not None for t in texts], name


# --- a regex anchored at line starts, run from newline to newline ----------------------------------------

_CONST_VALUE_OLD = re.compile(
    r"^\s*(?:export\s+)?(?:const|let|var|final|static)?\s*([A-Z][A-Z0-9_]{2,})\s*[:=]\s*([^;\n,{}\[\]()]{1,24}?|\[[^\]\n]{1,24}\]"
    r"|\([^)\n]{1,24}\))\s*[;,]?\s*(?:(?://|#).*)?$", re.M)
_CONST_OLD = re.compile(r"^\s*(?:export\s+)?(?:const|let|var|final|static)?\s*([A-Z][A-Z0-9_]{2,})\s*[:=]", re.M)
_CONST_MADE_UP = ["", "FOO = 1", "FOO = 1\nBAR = 2", "FOO = 1\n\nBAR = 2", "FOO = 1\n\n\n  BAR: 'x'\n", "\n\nMAX_N=3;",
                  "const API_URL = 'x'; // c\nexport let LIMIT = 10,", "X = 1\nAB = 2\n\t\nABC = [1, 2]\n", "FOO = 1  \n\nBAR = 2",
                  "x\nFOO = (1, 2) # n\n", "  \n  \nTOP = 5\n  \n", "FOO = 1\r\nBAR = 2\r\n"]


def test_const_regexes_from_newline_to_newline():
    from memtui.core.extract import edits

    texts = list(_CONST_MADE_UP)
    for t in _texts("text") + _texts("tool_use"):
        texts.append(t[:6000])
    for t in texts:
        assert [m.groups() for m in signals._CONST_VALUE.finditer("\n" + t)] == [m.groups() for m in _CONST_VALUE_OLD.finditer(t)], t[:200]
        assert [m.groups() for m in edits._CONST.finditer("\n" + t)] == [m.groups() for m in _CONST_OLD.finditer(t)], t[:200]


# --- the selection within the budget -------------------------------------------------------------------------


def _select_old(cands, readable, ratio):
    """heuristic._select as it was: every candidate's code tokens, similarities worked out twice."""
    from memtui.core.extract import heuristic

    budget = ratio * readable
    cap = heuristic.CAP_RATIO * readable
    order = sorted(cands, key=lambda c: (-(c.score - 0.12 * len(c.text) / 380), c.pos, len(c.text), c.text))
    chosen, chosen_tokens, chosen_code, keys, used = [], [], [], set(), 0
    for c in order:
        if c.key and c.key in keys:
            continue
        size = len(c.text)
        if used + size > budget and (chosen or size > cap):
            continue
        toks = {t.lower() for t in heuristic._TOKEN.findall(c.core or c.text) if len(t) > 2 or "\u4e00" <= t <= "\u9fff"}
        if any(heuristic._similar(toks, t) > (0.6 if c.kind == o.kind and c.kind in ("constraint", "preference") else 0.8)
               for t, o in zip(chosen_tokens, chosen)):
            continue
        code = {(a or b).lower().strip("`") for a, b in _CODE_TOKEN_OLD.findall(c.core or c.text)}
        if len(code) >= 2 and any(code <= k and heuristic._similar(toks, t) > 0.3 for t, k in zip(chosen_tokens, chosen_code)):
            continue
        chosen.append(c)
        chosen_tokens.append(toks)
        chosen_code.append(code)
        if c.key:
            keys.add(c.key)
        used += size
    return chosen


def test_selection_keeps_what_it_kept(monkeypatch):
    from memtui.core.extract import heuristic

    _texts("text")  # imports the corpus
    sessions = _CACHE["sessions"]
    assert sessions
    for ratio in (0.05, 0.02, 0.10):
        new = [heuristic.extract_budget(s, m, ratio) for s, m in sessions]
        with monkeypatch.context() as mp:
            mp.setattr(heuristic, "_select", _select_old)
            old = [heuristic.extract_budget(s, m, ratio) for s, m in sessions]
        assert new == old


def test_tokens_of_ascii_text():
    from memtui.core.extract import heuristic

    for t in _code_texts() | {"a ab abc abcd a.b.c x-y-z #1 //x", "  ...  --- ab/cd ##"}:
        if t.isascii():
            assert heuristic._tokens(t) == {x for x in heuristic._TOKEN.findall(t.lower()) if len(x) > 2}, t[:200]


def test_defluff_is_idempotent():
    lines = {"ok ok great. done", "Great! Perfect, thanks for that. x", "Sure: sure: fine", "thank you so much! yes", "okay"}
    for t in _texts("text"):
        lines.update(line for _, line in textutil.lines_of(t))
    for line in lines:
        once = textutil.defluff(line)
        assert textutil.defluff(once) == once, line
