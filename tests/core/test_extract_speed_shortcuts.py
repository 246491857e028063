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
