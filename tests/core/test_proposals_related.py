"""Storing proposals scores fewer pairs than rapidfuzz's process.extract, with the same answers.

proposals.CandidateCache.related stands for process.extract(words, candidates,
scorer=fuzz.token_set_ratio, limit=5, score_cutoff=RELATED_SCORE): it keeps the scores of the
pairs seen before and asks rapidfuzz for the score only of the pairs dedupe.token_set_ratio_reaches
does not prove to be under the cutoff. Both are compared here with the plain rapidfuzz calls, on texts of the real corpus and on
made-up ones built to sit near the bounds (shared words, subsets, lengths around the cutoff).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from memtui.core.extract.dedupe import DUPLICATE_SCORE, RELATED_SCORE, normalise, token_set, token_set_ratio_reaches
from memtui.core.proposals import CandidateCache

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
_VOCAB = (
    "use uv pnpm npm pytest tests run the a to of in build docker deploy fix bug error config api db sql"
    " migrate never always not x y z v2 3.11 python node go rust cargo lint ruff mypy type hint src/app.py"
).split()


def corpus_strings():
    """The strings in the corpus's messages, in file order."""

    def walk(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)

    for path in sorted(CORPUS.rglob("*.jsonl")):
        for line in path.read_text(errors="replace").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            yield from walk(value)


def _corpus_texts(limit: int = 300) -> list[str]:
    """Lines of the corpus's messages, as word sets (what the proposals and memories are)."""
    texts: list[str] = []
    seen: set[str] = set()
    for value in corpus_strings():
        for line in value.splitlines():
            words = token_set(normalise(line))
            if 3 <= len(words.split()) <= 60 and words not in seen:
                seen.add(words)
                texts.append(words)
        if len(texts) >= limit:
            break
    return texts


def _made_up(rng: random.Random, n: int) -> list[str]:
    """Word sets of all sizes, many sharing most of their words with another (the close calls)."""
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < 0.5:
            words = set(rng.choice(out).split())
            for _ in range(rng.randint(0, 4)):  # drop, add or lengthen a few words
                op = rng.random()
                if op < 0.4 and len(words) > 1:
                    words.discard(rng.choice(sorted(words)))
                elif op < 0.8:
                    words.add(rng.choice(_VOCAB))
                else:
                    words.add(rng.choice(_VOCAB) + rng.choice(_VOCAB))
        else:
            words = set(rng.sample(_VOCAB, rng.randint(0, 12)))
        out.append(" ".join(sorted(words)))
    return out


def pairs_of(rng: random.Random, texts: list[str], made: list[str], samples: int, neighbours: int):
    """Each of `texts` with `samples` others, and each of `made` with the `neighbours` made before it
    (built from one another: the close calls)."""
    for a in texts:
        for b in rng.sample(texts, samples):
            yield a, b
    for i, a in enumerate(made):
        for b in made[max(0, i - neighbours): i]:
            yield a, b


def _pairs():
    rng = random.Random(7)
    real = _corpus_texts() if CORPUS.is_dir() else []
    made = _made_up(rng, 400)
    return pairs_of(rng, real + made, made, 60, 30)


@pytest.mark.parametrize("cutoff", [RELATED_SCORE, DUPLICATE_SCORE, 1, 50, 75, 99, 100])
def test_token_set_ratio_reaches_says_what_rapidfuzz_says(cutoff):
    decided = {True: 0, False: 0, None: 0}
    for a, b in _pairs():
        verdict = token_set_ratio_reaches(a, b, cutoff, LCSseq.similarity(a, b))
        decided[verdict] += 1
        if verdict is not None:
            assert (fuzz.token_set_ratio(a, b) >= cutoff) is verdict, (a, b)
            assert (fuzz.token_set_ratio(a, b, score_cutoff=cutoff) > 0) is verdict, (a, b)
    assert decided[False] > 1000 and decided[True] > 100  # (it does decide)
    assert decided[None] < decided[False] / 4


def test_related_answers_what_process_extract_answers():
    """Over a run: the candidates grow, the same proposals come back, scores tie (the same words
    under several ids, subsets scoring 100), more than five reach the cutoff."""
    rng = random.Random(11)
    real = _corpus_texts(120) if CORPUS.is_dir() else []
    pool = real + _made_up(rng, 250) + ["", "x"]
    cache = CandidateCache()
    candidates: dict[int, str] = {}
    next_id = 1
    hits = 0
    for step in range(700):
        words = rng.choice(pool)
        if rng.random() < 0.3:  # another group of candidates (another project)
            view = {k: v for k, v in candidates.items() if k % 3 != step % 3}
        else:
            view = candidates
        want = process.extract(words, view, scorer=fuzz.token_set_ratio, limit=5, score_cutoff=RELATED_SCORE)
        assert cache.related(words, view) == want, (step, words)
        hits += len(want)
        for _ in range(rng.randint(0, 2)):
            candidates[next_id] = rng.choice(pool) if rng.random() < 0.7 else words
            next_id += 1
    assert hits > 500


def test_related_starts_again_when_it_holds_too_many_scores(monkeypatch):
    from memtui.core import proposals

    monkeypatch.setattr(proposals, "MAX_SCORED", 10)
    cache = CandidateCache()
    candidates = {i: w for i, w in enumerate(_made_up(random.Random(3), 40))}
    for words in list(candidates.values())[:20]:
        want = process.extract(words, candidates, scorer=fuzz.token_set_ratio, limit=5, score_cutoff=RELATED_SCORE)
        assert cache.related(words, candidates) == want
        assert cache._scored <= 10 + len(candidates)
