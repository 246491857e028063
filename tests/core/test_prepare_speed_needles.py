"""The redactor's gate finds a needle that ends with `_` (hf_, npm_, dop_v1_) wherever it is: its
own regex (_UNDERSCORE_GATE) must agree with a plain search of the lower-cased bytes."""

from __future__ import annotations

import itertools

from memtui.core import redact as R


def _plain_needles(text: str) -> set[str]:
    low = text.encode("utf-8", "surrogatepass").lower()
    return {n for n in R._UNDERSCORE_NEEDLES if n.encode() in low}


def test_underscore_needles_are_the_ones_without_anchor():
    assert set(R._UNDERSCORE_NEEDLES) == {"hf_", "npm_", "dop_v1_"}
    assert not set(R._UNDERSCORE_NEEDLES) & set(R._GATE_PLAIN)


def test_underscore_needles_found_anywhere():
    fillers = ["", "x", "_", "__", "a_b_", "é_", "ſ", "K_", "\n", "hf", "npm", "dop_v1", "HF", "Npm"]
    needles = ["hf_", "HF_", "Hf_", "npm_", "NPM_", "dop_v1_", "DOP_V1_", "hf", "np_", "dop_v_", "f_", "m_"]
    for before, needle, after in itertools.product(fillers, needles, fillers):
        text = f"{before}{needle}{after}".ljust(8, " ")
        for t in (text, "_" * 40 + text, text + "_" * 40, "word_" * 30 + text):
            raw = R._raw(t)
            found = R._find_needles(t, raw, raw.translate(R._GATE_TABLE))
            assert found & set(R._UNDERSCORE_NEEDLES) == _plain_needles(t), t


def test_underscore_tokens_redacted():
    for token in ("hf_" + "a1" * 20, "npm_" + "b2" * 20, "dop_v1_" + "c" * 64):
        for text in (f"x_{token}", f"token_name = {token}_", f"__{token}", f"{token}\n" + "_" * 100):
            assert token not in R.clean(text), text
