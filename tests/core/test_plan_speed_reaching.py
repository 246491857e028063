"""dedupe.reaching keeps the candidates token_set_ratio_reaches does not prove to be under the cutoff,
in rapidfuzz's order: the same test over many candidates in one loop (CandidateCache.related)."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from memtui.core.extract.dedupe import DUPLICATE_SCORE, RELATED_SCORE, reaching, token_set_ratio_reaches
from tests.core.test_proposals_related import _pairs


def _reference(words: str, choices: dict[int, str], cutoff: int) -> dict[int, str]:
    return {
        key: w for w, common, key in process.extract(words, choices, scorer=LCSseq.similarity, limit=None)
        if token_set_ratio_reaches(words, w, cutoff, common) is not False
    }


@pytest.mark.parametrize("cutoff", [RELATED_SCORE, DUPLICATE_SCORE, 1, 50, 75, 99, 100])
def test_reaching_keeps_what_token_set_ratio_reaches_keeps(cutoff):
    groups: dict[str, list[str]] = defaultdict(list)
    for a, b in _pairs():
        groups[a].append(b)
    groups[""] = ["a b", ""]
    sets: dict[str, frozenset[str]] = {}  # (shared by the calls, as CandidateCache keeps it)
    rng = random.Random(cutoff)
    kept = 0
    for words, others in groups.items():
        choices = {rng.randrange(10**6): w for w in others + ["", words]}
        got = reaching(words, choices, cutoff, sets)
        assert list(got.items()) == list(_reference(words, choices, cutoff).items()), words
        kept += len(got)
    assert kept > 500
