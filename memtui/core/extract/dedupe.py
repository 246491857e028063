"""Dedupe of proposals: near-duplicates reinforce, contradictions are marked as supersedes.

Pure functions over texts; memories.py applies them against the store.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Mapping, TypeVar

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

DUPLICATE_SCORE = 88  # token_set_ratio at or above which two statements say the same thing
RELATED_SCORE = 60  # enough shared wording to be about the same subject

K = TypeVar("K")
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
    return fingerprint_of(normalise(text))


@lru_cache(maxsize=65_536)
def fingerprint_of(norm: str) -> str:
    """fingerprint of a text whose normalised form (normalise) is `norm`."""
    return hashlib.blake2b(norm.encode(), digest_size=10).hexdigest()


def similarity(a: str, b: str) -> float:
    return fuzz.token_set_ratio(normalise(a), normalise(b))


def is_duplicate(
    a: str, b: str, score: float | None = None, norm_a: str | None = None, norm_b: str | None = None
) -> bool:
    """Whether `a` and `b` say the same thing; `score`: fuzz.token_set_ratio of their normalised
    texts when the caller has it (it is asked only when they are of similar lengths); `norm_a`,
    `norm_b`: normalise(a), normalise(b) when the caller has them (the planner gets proposals
    prepared in other processes, whose normalise cache it does not share)."""
    na = normalise(a) if norm_a is None else norm_a
    nb = normalise(b) if norm_b is None else norm_b
    if na == nb or fingerprint_of(na) == fingerprint_of(nb):
        return True
    if not na or not nb:
        return False
    # token_set_ratio is 100 when one text's words are a subset of the other's; require that the
    # shorter one is a substantial part of the longer, so "use uv" does not swallow a paragraph.
    shorter, longer = sorted((len(na), len(nb)))
    if shorter < 0.6 * longer:
        # (then fuzz.ratio(na, nb), at most 200 * shorter / (shorter + longer), is under 75: never
        # DUPLICATE_SCORE, so it is not asked)
        return False
    if score is not None:
        same = score >= DUPLICATE_SCORE
    else:
        words_a, words_b = token_set(na), token_set(nb)
        same = token_set_ratio_reaches(words_a, words_b, DUPLICATE_SCORE)
        if same is None:
            same = fuzz.token_set_ratio(words_a, words_b) >= DUPLICATE_SCORE
    return same and not contradicts(a, b, na, nb)


@lru_cache(maxsize=65_536)
def token_set(norm: str) -> str:
    """The distinct words of a normalised text, sorted: token_set_ratio depends only on the sets of
    words of its two texts, so it scores these exactly as it scores the texts (and faster, having
    less to split, sort and deduplicate)."""
    return " ".join(sorted(set(norm.split())))


def token_set_ratio_reaches(a: str, b: str, cutoff: int, common: int | None = None) -> bool | None:
    """Whether fuzz.token_set_ratio(a, b) >= `cutoff` (an integer from 1 to 100), for `a` and `b`
    given as their sets of words (distinct words without whitespace, sorted, joined by single
    spaces: token_set), and `common` the length of their longest common subsequence
    (LCSseq.similarity(a, b); None: computed here if needed): True or False when that decides it,
    None when only computing the ratio does. rapidfuzz compares the words of each pair anew
    (splits, sorts, joins and aligns them); a run of LCSseq over many texts prepares the one it
    compares them with once.

    rapidfuzz's token_set_ratio (fuzz_py.token_set_ratio is its reference), with I the shared words,
    A and B the others of each side, |x| the length of words joined by spaces and s = |I|: 0 when a
    side has no words; 100 when I is not empty and A or B is; else the best of
      100 - 100 * indel(|A|, |B|) / (len(a) + len(b))   (the ratio of the differences; rapidfuzz's
      200 * s / (s + len(a)),  200 * s / (s + len(b))     denominator is len(a) + len(b)), the last
    two if s > 0. Each is a fraction p / q of integers (q <= len(a) + len(b)): when it is under an
    integer cutoff, it is under it by at least 100 / q, far more than rapidfuzz's floating point
    rounding; so comparing the integers decides what rapidfuzz's comparison with the cutoff does.
    indel(x, y) = len(x) + len(y) - 2 * LCS(x, y) is at least the difference of the lengths. Joined
    A is a subsequence of a (the same words in the same order, one space apart), joined B one of
    b, so LCS(|A|, |B|) <= `common`; and when I is empty they are a and b themselves."""
    la, lb = len(a), len(b)
    if not la or not lb:
        return False
    # the ratio of the differences reaches the cutoff when their distance is at most `most`
    most = (100 - cutoff) * (la + lb) // 100
    shared = _words_of(a) & _words_of(b)
    if shared:
        s = sum(map(len, shared)) + len(shared) - 1
        if 200 * s >= cutoff * (s + (la if la < lb else lb)):
            return True  # (so is a side whose words are all in the other: s is its length, the ratio 100)
        differences = la + lb - 2 * (s + 1)  # |A| + |B|
    else:
        differences = la + lb
    if la - lb > most or lb - la > most:
        return False
    if common is None:
        common = LCSseq.similarity(a, b)
    if differences - 2 * common > most:
        return False
    return None if shared else True  # (exact when nothing is shared: the differences are the texts)


def reaching(words: str, choices: Mapping[K, str], cutoff: int, sets: dict[str, frozenset[str]]) -> dict[K, str]:
    """The items of `choices` (key -> a set of words, as token_set) for which
    token_set_ratio_reaches(words, their words, cutoff, common) is not False, `common` given by one
    run of LCSseq over them all (which prepares `words` once); in rapidfuzz's order. The same test
    as token_set_ratio_reaches, in one loop: CandidateCache.related asks it of tens of thousands of
    pairs, and a call and two cache lookups a pair cost more than the test. `sets`: words ->
    _words_of(words), kept by the caller from call to call (filled here; a dict lookup is cheaper
    than the cache's)."""
    la = len(words)
    out: dict[K, str] = {}
    if not la:
        return out
    mine = _words_of(words)
    for w, common, key in process.extract(words, choices, scorer=LCSseq.similarity, limit=None):
        lb = len(w)
        if not lb:
            continue
        theirs = sets.get(w)
        if theirs is None:
            theirs = sets[w] = _words_of(w)
        most = (100 - cutoff) * (la + lb) // 100
        shared = mine & theirs
        if shared:
            s = sum(map(len, shared)) + len(shared) - 1
            if 200 * s >= cutoff * (s + (la if la < lb else lb)):
                out[key] = w
                continue
            differences = la + lb - 2 * (s + 1)
        else:
            differences = la + lb
        if la - lb <= most and lb - la <= most and differences - 2 * common <= most:
            out[key] = w
    return out


@lru_cache(maxsize=65_536)
def _words_of(words: str) -> frozenset[str]:
    return frozenset(words.split())


_NUMBER = re.compile(r"\b\d+(?:\.\d+)*\b")


@lru_cache(maxsize=65_536)
def _features(text: str, norm: str) -> tuple[frozenset, bool, frozenset]:
    """What contradicts() reads from one statement (cached: a memory is compared again and again):
    its content words, whether it negates, its numbers. `norm`: normalise(text), whose words are
    those of _WORD in the lowered text."""
    content = frozenset(w for w in norm.split() if w not in _STOP and len(w) > 1)
    return content, bool(_NEGATION.search(text.lower())), frozenset(_NUMBER.findall(text))


def contradicts(a: str, b: str, norm_a: str | None = None, norm_b: str | None = None) -> bool:
    """Two statements about the same subject that disagree: one negates what the other says,
    or they name different versions/numbers for the same thing. `norm_a`, `norm_b`: as for
    is_duplicate."""
    wa, neg_a, na = _features(a, normalise(a) if norm_a is None else norm_a)
    wb, neg_b, nb = _features(b, normalise(b) if norm_b is None else norm_b)
    if not wa or not wb:
        return False
    shared = wa & wb
    overlap = len(shared) / min(len(wa), len(wb))
    if len(shared) < 2 or overlap < 0.5:
        return False
    if neg_a != neg_b:
        return True
    return bool(na and nb and na != nb and overlap >= 0.6)
