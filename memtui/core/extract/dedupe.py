"""Dedupe of proposals: near-duplicates reinforce, contradictions are marked as supersedes.

Pure functions over texts; memories.py applies them against the store.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from rapidfuzz import fuzz

DUPLICATE_SCORE = 88  # token_set_ratio at or above which two statements say the same thing
RELATED_SCORE = 60  # enough shared wording to be about the same subject

_WORD = re.compile(r"[a-z0-9_./+#-]+")
_NEGATION = re.compile(r"\b(?:not|never|no|don't|do not|dont|avoid|stop|without|instead of|rather than)\b")
_STOP = frozenset(
    "a an the to of in on for and or is are be was were it this that with as at by from use uses using"
    " should must always never not no don't do does i we you it's"
    # the extractors' own framing words say nothing about the subject
    " user requirement requirements correction note session sessions unfinished ended when still"
    " failing how work working prefer prefers preference project instead rather".split()
)


@lru_cache(maxsize=65_536)
def normalise(text: str) -> str:
    """Lower-cased words only; cached, because every proposal is compared with every memory of
    its project, session after session."""
    return " ".join(_WORD.findall(text.lower()))


@lru_cache(maxsize=65_536)
def fingerprint(text: str) -> str:
    return hashlib.blake2b(normalise(text).encode(), digest_size=10).hexdigest()


def similarity(a: str, b: str) -> float:
    return fuzz.token_set_ratio(normalise(a), normalise(b))


def is_duplicate(a: str, b: str) -> bool:
    if fingerprint(a) == fingerprint(b):
        return True
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    # token_set_ratio is 100 when one text's words are a subset of the other's; require that the
    # shorter one is a substantial part of the longer, so "use uv" does not swallow a paragraph.
    shorter, longer = sorted((len(na), len(nb)))
    if shorter < 0.6 * longer:
        return fuzz.ratio(na, nb) >= DUPLICATE_SCORE
    return fuzz.token_set_ratio(na, nb) >= DUPLICATE_SCORE and not contradicts(a, b)


def token_set_ratio_may_reach(a: str, b: str, cutoff: float) -> bool:
    """False when fuzz.token_set_ratio(a, b) is below `cutoff` for certain, for `a` and `b` given
    as their sets of words (distinct words, sorted, joined by single spaces; the ratio depends
    only on the sets), from their lengths and those of the words they share: rapidfuzz need not
    be asked then (it splits, sorts and compares the words of the pair each time).

    With I the shared words, A and B the others of each side and |x| the length of words joined
    by spaces (s = |I|), the ratio is 100 when I is not empty and A or B is, else the best of
      100 * (1 - indel(|A|, |B|) / (len(a) + len(b)))   (len(a) = s + (s > 0) + |A|: rapidfuzz's
      200 * s / (s + len(a)),  200 * s / (s + len(b))     denominator), the last two if s > 0.
    The indel distance is at least the difference of the lengths, so the first is at most
    200 * min(len(a), len(b)) / (len(a) + len(b)). A ratio under an integer cutoff is under it by
    at least 100 / (len(a) + len(b)), far more than rapidfuzz's floating point rounding."""
    la, lb = len(a), len(b)
    shorter = min(la, lb)
    if 200 * shorter >= cutoff * (la + lb):
        return True
    words_a, words_b = _words_of(a), _words_of(b)
    shared = words_a & words_b
    if not shared:
        return False
    if len(shared) == len(words_a) or len(shared) == len(words_b):
        return True  # one side's words are all in the other: 100
    s = sum(map(len, shared)) + len(shared) - 1
    return 200 * s >= cutoff * (s + shorter)


@lru_cache(maxsize=65_536)
def _words_of(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\b\d+(?:\.\d+)*\b", text))


@lru_cache(maxsize=65_536)
def _features(text: str) -> tuple[frozenset, bool, frozenset]:
    """What contradicts() reads from one statement (cached: a memory is compared again and again):
    its content words, whether it negates, its numbers."""
    return frozenset(_content_words(text)), bool(_NEGATION.search(text.lower())), frozenset(_numbers(text))


def contradicts(a: str, b: str) -> bool:
    """Two statements about the same subject that disagree: one negates what the other says,
    or they name different versions/numbers for the same thing."""
    wa, neg_a, na = _features(a)
    wb, neg_b, nb = _features(b)
    if not wa or not wb:
        return False
    shared = wa & wb
    overlap = len(shared) / min(len(wa), len(wb))
    if len(shared) < 2 or overlap < 0.5:
        return False
    if neg_a != neg_b:
        return True
    return bool(na and nb and na != nb and overlap >= 0.6)
