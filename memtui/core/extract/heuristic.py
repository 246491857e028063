"""The offline heuristic extractor: proposals synthesised from one session, within a size budget.

`extract(session, messages)` reads the session into turns (a user request and everything done
until the next one) with every tool call paired to its result and classified (edit with file and
before/after text, shell command with outcome and exit code, plan update, ...) by
`transcript.read`. The generators in `signals` then join those facts into statements:
corrections (a rejected call + what the user said + what was done instead), standing requirements
in requests, per-request changes (the ask + the reply's own account + names/constants the edits
introduce), error -> fix (a failing command, the edits, the same command passing), abandoned
approaches (created then deleted, reverted, dropped ideas, removed dependencies), the commands
that built/ran/tested the project, unfinished plan items and open next steps, choices between
offered options, config/manifest edits shown exactly, notes written into CLAUDE.md-like files,
the conclusions of documents and investigation reports, findings, and a one-line overview.
Near-duplicates are dropped and the highest-scoring candidates are kept until their total length
reaches TARGET_RATIO of the session's readable text (the sum of its message texts), never more
than CAP_RATIO. Pure and deterministic: no database, no network, no clock.
"""

from __future__ import annotations

import re

from memtui.core.extract import Proposal
from memtui.core.records import MessageRecord, SessionRecord

from . import signals
from .textutil import CAMEL, Alternation
from .transcript import read

TARGET_RATIO = 0.05  # aim: proposals total ~5% of the readable text
CAP_RATIO = 0.10  # hard cap
_TOKEN = re.compile(r"[\w.#/-]+|[\u4e00-\u9fff]")
# the tokens of over two characters of ASCII text: a run shorter than that fails at its start and at
# each of its (shorter) tails, so these are exactly the runs _TOKEN finds that are kept (re.ASCII:
# the same \w for ASCII text, looked up in a table instead of the Unicode database)
_TOKEN3 = re.compile(r"[\w.#/-]{3,}", re.ASCII)
# names and values in a statement: r"`([^`]{2,80})`|(#[0-9a-fA-F]{3,8}\b|\b[\w-]+\.[A-Za-z]{1,5}\b|\b[a-z]+[A-Z]\w*|\b\w+_\w+\b)"
# with a group of its own for each alternative, each tried only when the text holds what it needs
_DOT_LETTER = re.compile(r"\.[A-Za-z]")
_CODE_TOKEN = Alternation((
    (r"`([^`]{2,80})`", "`"),
    (r"(#[0-9a-fA-F]{3,8}\b)", "#"),
    (r"(\b[\w-]+\.[A-Za-z]{1,5}\b)", _DOT_LETTER),
    (r"(\b[a-z]+[A-Z]\w*)", CAMEL),
    (r"(\b\w+_\w+\b)", "_"),
))


def extract(session: SessionRecord, messages: list[MessageRecord]) -> list[Proposal]:
    return extract_budget(session, messages, TARGET_RATIO)


def extract_budget(session: SessionRecord | None, messages: list[MessageRecord], ratio: float = TARGET_RATIO) -> list[Proposal]:
    """Like `extract`, with another target size (a fraction of the readable text, at most CAP_RATIO)."""
    if not messages:
        return []
    tr = read(session, list(messages))
    if tr.readable <= 0:
        return []
    cands: list[signals.Candidate] = []
    for gen in signals.GENERATORS:
        cands.extend(c for c in gen(tr, session) if c.text and c.ids)
    valid = {m.id for m in messages}
    for c in cands:
        c.ids = [i for i in c.ids if i in valid]
    cands = [c for c in cands if c.ids]
    chosen = _select(cands, tr.readable, min(ratio, CAP_RATIO))
    chosen.sort(key=lambda c: (c.pos, -c.score, c.text))
    quoted: dict[int, str] = {}  # id(message) -> its quote (a message is often evidence for several)
    return [_proposal(c, quoted) for c in chosen]


def _proposal(c: signals.Candidate, quoted: dict[int, str]) -> Proposal:
    quotes = c.quoted(quoted)
    return Proposal(
        text=c.text,
        kind=c.kind,
        tier=c.tier,
        confidence=c.confidence,
        message_ids=tuple(c.ids),
        quotes=tuple(quotes[: len(c.ids)]) if len(quotes) >= len(c.ids) else tuple(quotes) + ("",) * (len(c.ids) - len(quotes)),
    )


# what the statements themselves add to ASCII text (clip's ellipsis, dashes, small_change's arrow):
# none is a token character nor CJK, so as a space each splits the tokens as it did
_PUNCTUATION = ("\u2026", "\u2014", "\u2192", "\u2013")


def _tokens(text: str) -> set[str]:
    if not text.isascii():
        for c in _PUNCTUATION:
            if c in text:
                text = text.replace(c, " ")
    if text.isascii():  # lower-casing ASCII keeps every character's class: lower once, then split
        return set(_TOKEN3.findall(text.lower()))
    return {t.lower() for t in _TOKEN.findall(text) if len(t) > 2 or "\u4e00" <= t <= "\u9fff"}


def _similar(new: set[str], old: set[str]) -> float:
    """How much of `new` is already said by `old` (1.0: nothing new)."""
    if not new or not old:
        return 0.0
    return len(new & old) / len(new)


def _code_tokens(text: str) -> set[str]:
    return {m.group(m.lastindex).lower().strip("`") for m in _CODE_TOKEN.finditer(text)}


def _select(cands: list[signals.Candidate], readable: int, ratio: float) -> list[signals.Candidate]:
    budget = ratio * readable
    cap = CAP_RATIO * readable
    # value per character matters when the budget is tight: long statements pay a little for their size
    order = sorted(cands, key=lambda c: (-(c.score - 0.12 * len(c.text) / 380), c.pos, len(c.text), c.text))
    chosen: list[signals.Candidate] = []
    chosen_tokens: list[set[str]] = []
    # the code tokens of a chosen candidate, worked out only when a later one is similar enough to
    # need them (None until then): most candidates resemble none of the chosen ones
    chosen_code: list[set[str] | None] = []
    keys: set[str] = set()
    used = 0
    for c in order:
        if c.key and c.key in keys:
            continue
        size = len(c.text)
        if used + size > budget and (chosen or size > cap):
            continue  # does not fit (the first proposal of a small session may use the hard cap)
        toks = _tokens(c.core or c.text)
        sims = [_similar(toks, t) for t in chosen_tokens]
        limit = 0.6 if c.kind in ("constraint", "preference") else 0.8
        if any(s > (limit if c.kind == o.kind else 0.8) for s, o in zip(sims, chosen)):
            continue
        # the same concrete things (names, values) said again in other words
        near = [i for i, s in enumerate(sims) if s > 0.3]
        code = None
        if near:
            code = _code_tokens(c.core or c.text)
            if len(code) >= 2 and any(code <= _chosen_code(chosen, chosen_code, i) for i in near):
                continue
        chosen.append(c)
        chosen_tokens.append(toks)
        chosen_code.append(code)
        if c.key:
            keys.add(c.key)
        used += size
    return chosen


def _chosen_code(chosen: list[signals.Candidate], codes: list[set[str] | None], i: int) -> set[str]:
    """The code tokens of chosen[i], worked out on first use."""
    code = codes[i]
    if code is None:
        c = chosen[i]
        code = codes[i] = _code_tokens(c.core or c.text)
    return code
