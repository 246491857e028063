"""dedupe takes a statement's normalised form from the caller, with the same answers.

The planner gets proposals prepared by the import workers (PreparedProposal.norm) and memories it
normalised when it loaded them; is_duplicate and contradicts take those instead of normalising the
texts again, contradicts reads a statement's content words from its normalised form instead of
running the word regex a second time, and a fingerprint is that of the normalised form. Here each is
compared with the code it replaced, on raw lines of the real corpus (case, punctuation, non-ASCII)
and on made-up statements built to be near one another.
"""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from memtui.core.extract import dedupe
from memtui.core.extract.dedupe import contradicts, fingerprint, fingerprint_of, is_duplicate, normalise

from tests.core.test_dedupe_equivalence import _statements
from tests.core.test_proposals_related import CORPUS, corpus_strings, pairs_of

_ODD = [
    "", "...", "x", "Don't use NPM; use pnpm 8.1", "do NOT use npm, use pnpm v8.2", "Ünïcödé wörds İstanbul ǅ",
    "avoid\tport 8080\nuse 9090", "use port 8080 instead of 9090", "café-au-lait build_v2 src/app.py #3",
    "It's never 3.11.2 — it's 3.12", "rather than tests/run.sh use make test", "no", "NO TESTS were run",
]


def _raw_lines(limit: int = 400) -> list[str]:
    """Raw lines of the corpus's messages (not normalised)."""
    lines: list[str] = []
    for value in corpus_strings() if CORPUS.is_dir() else ():
        lines.extend(line for line in value.splitlines() if 3 <= len(line) <= 400)
        if len(lines) >= limit:
            break
    return lines[:limit]


def _texts() -> list[str]:
    rng = random.Random(11)
    return _raw_lines() + _statements(rng, 400) + _ODD


def _features_reference(text: str) -> tuple[frozenset, bool, frozenset]:
    """dedupe._features as it was: the word regex run again over the lowered text."""
    words = {w for w in dedupe._WORD.findall(text.lower()) if w not in dedupe._STOP and len(w) > 1}
    numbers = set(re.findall(r"\b\d+(?:\.\d+)*\b", text))
    return frozenset(words), bool(dedupe._NEGATION.search(text.lower())), frozenset(numbers)


def test_features_are_those_of_the_word_regex():
    texts = _texts()
    assert len(texts) > 500
    for text in texts:
        assert dedupe._features(text, normalise(text)) == _features_reference(text), text


def test_fingerprint_is_that_of_the_normalised_text():
    for text in _texts():
        want = hashlib.blake2b(normalise(text).encode(), digest_size=10).hexdigest()
        assert fingerprint(text) == fingerprint_of(normalise(text)) == want


def test_the_callers_normalised_forms_give_the_same_answers():
    rng = random.Random(3)
    texts = _texts()
    made = _statements(rng, 300) + _ODD
    pairs = list(pairs_of(rng, texts, made, 25, 20))
    with pytest.MonkeyPatch.context() as mp:  # contradicts as it was (the regex run again)
        mp.setattr(dedupe, "_features", lambda text, norm: _features_reference(text))
        wants = [contradicts(a, b) for a, b in pairs]
    found = {"dup": 0, "contra": 0}
    for (a, b), want in zip(pairs, wants):
        na, nb = normalise(a), normalise(b)
        assert contradicts(a, b) is want and contradicts(a, b, na, nb) is want, (a, b)
        dup = is_duplicate(a, b)
        assert is_duplicate(a, b, None, na, nb) is dup, (a, b)
        found["dup"] += dup
        found["contra"] += want
    assert found["dup"] > 50 and found["contra"] > 50, found
