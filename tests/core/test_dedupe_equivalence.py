"""dedupe.is_duplicate asks rapidfuzz less, with the same answers.

It skips fuzz.ratio where that cannot reach DUPLICATE_SCORE, decides token_set_ratio with
token_set_ratio_reaches where it can, and takes the score when the caller has it; here it is
compared with the plain rapidfuzz calls it stands for, on lines of the real corpus and on made-up
statements built to be near one another (shared words, subsets, negations, other numbers).
"""

from __future__ import annotations

import random

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from memtui.core.extract.dedupe import (
    DUPLICATE_SCORE, contradicts, fingerprint, is_duplicate, normalise, token_set, token_set_ratio_reaches,
)

from tests.core.test_proposals_related import CORPUS, _corpus_texts, pairs_of

_WORDS = (
    "use uv pnpm npm pytest tests run the build docker deploy fix bug error config api db sql migrate"
    " never always not don't avoid port 8080 9090 v2 3.11 python node ruff mypy src/app.py CI cache"
).split()


def _reference(a: str, b: str) -> bool:
    """is_duplicate as it was: rapidfuzz asked every time."""
    if fingerprint(a) == fingerprint(b):
        return True
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    shorter, longer = sorted((len(na), len(nb)))
    if shorter < 0.6 * longer:
        return fuzz.ratio(na, nb) >= DUPLICATE_SCORE
    return fuzz.token_set_ratio(na, nb) >= DUPLICATE_SCORE and not contradicts(a, b)


def _statements(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < 0.6:  # another wording of one made before
            words = rng.choice(out).split()
            for _ in range(rng.randint(0, 3)):
                op = rng.random()
                if op < 0.3 and len(words) > 1:
                    words.pop(rng.randrange(len(words)))
                elif op < 0.6:
                    words.insert(rng.randrange(len(words) + 1), rng.choice(_WORDS))
                elif op < 0.8:
                    words.append(rng.choice(_WORDS).upper())
                else:
                    rng.shuffle(words)
        else:
            words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 25))]
        out.append(" ".join(words) + rng.choice(["", ".", "!", " (again)"]))
    return out


def _pairs():
    rng = random.Random(5)
    real = [t.replace(" ", rng.choice([" ", "  ", ", "])) for t in _corpus_texts(200)] if CORPUS.is_dir() else []
    made = _statements(rng, 500)
    return pairs_of(rng, real + made + ["", "...", "x"], made, 25, 20)


def test_is_duplicate_answers_what_rapidfuzz_answers():
    same = 0
    for a, b in _pairs():
        want = _reference(a, b)
        assert is_duplicate(a, b) is want, (a, b)
        score = fuzz.token_set_ratio(normalise(a), normalise(b))
        assert is_duplicate(a, b, score) is want, (a, b)
        same += want
    assert same > 100


def test_a_much_shorter_text_never_reaches_the_duplicate_ratio():
    for a, b in _pairs():
        na, nb = normalise(a), normalise(b)
        shorter, longer = sorted((len(na), len(nb)))
        if na and nb and shorter < 0.6 * longer:
            assert fuzz.ratio(na, nb) < 75


def test_token_set_ratio_reaches_computes_the_common_subsequence_it_needs():
    for a, b in _pairs():
        wa, wb = token_set(normalise(a)), token_set(normalise(b))
        for cutoff in (60, DUPLICATE_SCORE):
            assert token_set_ratio_reaches(wa, wb, cutoff) == token_set_ratio_reaches(
                wa, wb, cutoff, LCSseq.similarity(wa, wb)
            )
