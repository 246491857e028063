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
