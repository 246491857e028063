"""More of the heuristic extractor's shortcuts, each compared with the plain way it replaced.

Over the real corpus's texts and made-up ones that put the characters a shortcut relies on at the
edges, next to CJK and other non-ASCII text (see test_extract_speed_equivalence.py for the others).
"""

from __future__ import annotations

from memtui.core.extract import heuristic
from tests.core.test_extract_speed_equivalence import _code_texts

_TYPOGRAPHIC = ("\u2026", "\u2014", "\u2192", "\u2013")
_MADE_UP = [
    "a…b", "abc…", "…abc", "foo—bar baz", "x → y", "`old` → `new`", "a–b–c", "one…two…three—four→five–six",
    "café → bar", "改用 pnpm → npm…", "İstanbul → x", "K\u212a → kelvin…", "a.b…c.d", "#fff→#000", "__init__…py",
    "…", "→", "", "ab…", "x—y—z—", "\u00a0abc → def",
]


def _plain_tokens(text: str) -> set[str]:
    return {t.lower() for t in heuristic._TOKEN.findall(text) if len(t) > 2 or "\u4e00" <= t <= "\u9fff"}


def test_tokens_of_text_with_typographic_punctuation():
    texts = set(_MADE_UP)
    for t in _code_texts():
        texts.add(t)
        texts.add(t.replace(" ", " \u2026 ", 3).replace(".", "\u2192", 2) + "\u2014" + t[:40] + "\u2013")
    for t in texts:
        assert heuristic._tokens(t) == _plain_tokens(t), t[:200]


def _request_spec_plain(request: str, gist: str) -> list[str]:
    """signals._request_spec as it was: every line looked at, the overlap with the gist first."""
    from memtui.core.extract import signals
    from memtui.core.extract.textutil import clip, lines_of

    out: list[str] = []
    for _, line in lines_of(request):
        line = line.strip(" -•\t")
        if len(line) < 8 or line.rstrip("?.!:") in gist or gist.startswith(line[:40]):
            continue
        lw = set(signals._WORD3_ANY.findall(line.lower()))
        if lw and len(lw & set(signals._WORD3_ANY.findall(gist.lower()))) > 0.6 * len(lw):
            continue
        if signals._CODEISH.found(line) or signals._DIGIT.search(line) or signals._CAPS.search(line):
            out.append(clip(line, 100))
    return out[:8]


def test_request_spec_gives_what_it_gave():
    from memtui.core.extract import signals

    from tests.core.test_extract_speed_equivalence import _texts

    lines = [f"- set MAX_{i} = {i} in `config_{i}.py`" for i in range(12)]
    requests = set(_texts("text")) | {
        "\n".join(lines), "\n".join(lines[:7]), "\n".join(lines[:8]), "\n".join(lines[:9]),
        "Fix the parser\n- set MAX_1 = 1 in `config_1.py`\nfix the parser please now", "",
    }
    for request in requests:
        gist = signals._gist_text(request)
        for g in (gist, "", request[:60], "set MAX in config py files"):
            assert signals._request_spec(request, g) == _request_spec_plain(request, g), (request[:200], g)
