"""Search: fuzzy search over memories (as you type) and full-text search over the raw transcripts.

Memories: `MemoryIndex` keeps the normalised text of every memory in a query (lower case, words
only) and an inverted index word -> memories. A search splits the typed text into tokens; each
token is matched against the vocabulary (exact prefix for 1-2 letters, typo-tolerant with
rapidfuzz `partial_ratio` from 3 letters on, so `confg` finds `configuration`); the candidates are
the memories holding a match for every token (all but one when none holds all), and only those
are scored: the mean of each token's best `partial_ratio` in the memory plus a bonus for the
phrase in order. Word order does not matter and typos cost a little. Results for a token are
cached, so typing one more letter re-reads only the token being typed.

Raw transcripts: SQLite FTS5 (`message_fts`, external content over `message`). The typed words are
quoted (so `foo-bar`, `"`, `AND`, `*` are plain text), the last one as a prefix; the newest
matches are ranked by bm25.
"""

from __future__ import annotations

import re
import sqlite3
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from peewee import SqliteDatabase
from rapidfuzz import fuzz, process

from memtui.core.curate import MemoryQuery, _needs_project, _where
from memtui.core.memories import _COLUMNS, _FROM, _records
from memtui.core.records import MemoryRecord

_WORD = re.compile(r"[^\W_]+")
CANDIDATE_CAP = 1500  # memories scored per keystroke at most (the most recently seen ones first)
_TOKEN_CACHE = 64


@dataclass(frozen=True)
class MemoryHit:
    memory: MemoryRecord
    score: float  # 0..100, best first
    spans: tuple[tuple[int, int], ...]  # [start, end) character ranges of memory.text to highlight


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _allowed_edits(length: int) -> int:
    """Indel edits (a substitution is two) a token of this length may be off by."""
    if length <= 3:
        return 1  # a letter missing or too many (whole words only)
    if length <= 7:
        return 2
    return 3 if length <= 10 else 4


@dataclass
class _TokenMatch:
    words: frozenset[str]  # vocabulary words the token matches
    docs: frozenset[int]  # memories (index positions) holding one of them


class MemoryIndex:
    """Built once (in a worker) from the live or forgotten memories; searched per keystroke from one thread."""

    def __init__(self, db: SqliteDatabase, query: MemoryQuery | None = None) -> None:
        self.db = db
        self.query = query or MemoryQuery()
        where, args = _where(self.query)
        rows = db.execute_sql(
            f"SELECT m.id, m.text FROM memory m{_needs_project(self.query.project)} WHERE {where}"
            " ORDER BY m.last_seen_at DESC, m.id DESC",
            args,
        ).fetchall()
        self._ids = [r[0] for r in rows]
        norms: list[str] = []
        postings: defaultdict[str, list[int]] = defaultdict(list)
        findall = _WORD.findall
        for i, (_, text) in enumerate(rows):
            words = findall(text.lower())
            norms.append(" " + " ".join(words))
            for w in set(words):
                postings[w].append(i)
        self._norms = norms
        self._postings = dict(postings)
        self._vocab = sorted(self._postings)
        by_len: defaultdict[int, list[str]] = defaultdict(list)
        for w in self._vocab:
            by_len[len(w)].append(w)
        self._by_len = dict(by_len)
        self._longer: dict[int, list[str]] = {}  # words at least this long (built on demand)
        self._cache: OrderedDict[str, _TokenMatch] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    # --- matching tokens against the vocabulary --------------------------------------------

    def _words_at_least(self, length: int) -> list[str]:
        words = self._longer.get(length)
        if words is None:
            words = [w for n, ws in self._by_len.items() if n >= length for w in ws]
            self._longer[length] = words
        return words

    def _match_token(self, token: str) -> _TokenMatch:
        hit = self._cache.get(token)
        if hit is not None:
            self._cache.move_to_end(token)
            return hit
        n = len(token)
        if n <= 2:  # a prefix: every word starting with it
            start = bisect_left(self._vocab, token)
            end = bisect_left(self._vocab, token + "\U0010ffff")
            words = self._vocab[start:end]
        else:
            edits = _allowed_edits(n)  # cutoffs are 0.5 lower: process.extract drops a score just at one
            # Inside a word (a prefix while typing, or part of a longer name), within `edits`...
            words = [w for w, _, _ in process.extract(
                token, self._words_at_least(n), scorer=fuzz.partial_ratio, processor=None, limit=None,
                score_cutoff=100.0 * (1 - edits / (2 * n)) - 0.5,
            )]
            # ... or a whole word a letter or two shorter or longer (a letter missing or too many).
            for length in range(max(1, n - edits), n + edits + 1):
                if length != n and length in self._by_len:
                    words += [w for w, _, _ in process.extract(
                        token, self._by_len[length], scorer=fuzz.ratio, processor=None, limit=None,
                        score_cutoff=100.0 * (1 - edits / (n + length)) - 0.5,
                    )]
        postings = self._postings
        docs = frozenset().union(*(postings[w] for w in words)) if words else frozenset()
        hit = _TokenMatch(frozenset(words), docs)
        self._cache[token] = hit
        if len(self._cache) > _TOKEN_CACHE:
            self._cache.popitem(last=False)
        return hit

    def _candidates(self, tokens: list[str]) -> set[int] | frozenset[int]:
        """Memories holding a match for every token; if none, for all tokens but one."""
        matches = [self._match_token(t) for t in tokens]
        sets = sorted((m.docs for m in matches), key=len)
        found = sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]
        if found or len(sets) < 3:
            return found
        out: set[int] = set()
        for skip in range(len(sets)):
            rest = [s for i, s in enumerate(sets) if i != skip]
            out |= rest[0].intersection(*rest[1:])
        return out

    # --- searching --------------------------------------------------------------------------

    def ids(self, text: str) -> list[int]:
        """Every matching memory id, most recently seen first (for "select all matching")."""
        tokens = _tokens(text)
        if not tokens:
            return []
        return [self._ids[i] for i in sorted(self._candidates(tokens))]

    def _scored(self, text: str, limit: int) -> list[tuple[int, float]]:
        tokens = _tokens(text)
        if not tokens or limit <= 0:
            return []
        found = sorted(self._candidates(tokens))[:CANDIDATE_CAP]
        if not found:
            return []
        norms = self._norms
        choices = {i: norms[i] for i in found}
        total = dict.fromkeys(found, 0.0)
        for token in dict.fromkeys(tokens):
            for _, score, i in process.extract(
                token, choices, scorer=fuzz.partial_ratio, processor=None, limit=None
            ):
                total[i] += score
        unique = len(dict.fromkeys(tokens))
        if unique > 1:  # word order is free; the phrase in order earns a bonus
            phrase = {i: s for _, s, i in process.extract(
                " ".join(tokens), choices, scorer=fuzz.partial_ratio, processor=None, limit=None
            )}
            scored = [(i, 0.85 * total[i] / unique + 0.15 * phrase[i]) for i in found]
        else:
            scored = list(total.items())
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:limit]

    def search(self, text: str, limit: int = 100) -> list[MemoryHit]:
        """The best `limit` memories for `text`, best first, with the ranges to highlight."""
        scored = self._scored(text, limit)
        if not scored:
            return []
        matches = {t: self._match_token(t).words for t in dict.fromkeys(_tokens(text))}
        ids = [self._ids[i] for i, _ in scored]
        records = _fetch(self.db, ids)
        hits = []
        for (_, score), memory_id in zip(scored, ids):
            memory = records.get(memory_id)
            if memory is None or (memory.forgotten_at is not None) != self.query.forgotten:
                continue  # changed since the index was built
            hits.append(MemoryHit(memory, round(min(100.0, score), 2), highlight(memory.text, matches)))
        return hits


def _fetch(db: SqliteDatabase, ids: list[int]) -> dict[int, MemoryRecord]:
    out: dict[int, MemoryRecord] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        rows = db.execute_sql(f"SELECT {_COLUMNS}{_FROM} WHERE m.id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        out.update((r.id, r) for r in _records(db, rows, with_evidence=False))
    return out


def highlight(text: str, matches: dict[str, frozenset[str]]) -> tuple[tuple[int, int], ...]:
    """[start, end) ranges of `text` to highlight: for each token, the words it matched (`matches`:
    token -> vocabulary words): the token itself where the word contains it, else the whole word."""
    spans: list[tuple[int, int]] = []
    for m in _WORD.finditer(text):
        word = m.group().lower()
        if len(word) != len(m.group()):  # lower() changed the length: offsets would not line up
            word = m.group()
        for token, words in matches.items():
            if word in words:
                at = word.find(token)
                spans.append((m.start() + at, m.start() + at + len(token)) if at >= 0 else m.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def search_memories(db: SqliteDatabase, text: str, limit: int = 20, query: MemoryQuery | None = None) -> list[MemoryHit]:
    """One-off fuzzy search (builds an index; keep a MemoryIndex to search as you type)."""
    return MemoryIndex(db, query).search(text, limit)


# --- raw transcripts (FTS5) ----------------------------------------------------------------------


@dataclass(frozen=True)
class RawHit:
    session_id: int
    message_id: int
    position: int  # the message's position in its session (the transcript row the UI jumps to)
    role: str
    kind: str
    session_title: str
    project: str | None
    tool: str
    snippet: str  # plain text around the match, one line, <= ~160 chars
    spans: tuple[tuple[int, int], ...]  # match ranges inside snippet


SNIPPET = 160
RAW_WINDOW = 500  # newest matches ranked by bm25


def fts_query(text: str) -> str | None:
    """An FTS5 query for typed text: every word quoted (plain text), the last one a prefix."""
    words = _WORD.findall(text)
    if not words:
        return None
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    if not text.rstrip() or text[-1:].isalnum():  # still typing the last word
        quoted[-1] += "*"
    return " ".join(quoted)


def _snippet(text: str, words: list[str], prefix_last: bool) -> tuple[str, tuple[tuple[int, int], ...]]:
    flat = " ".join(text.split())
    parts = [re.escape(w) + (r"\w*" if prefix_last and i == len(words) - 1 else r"\b") for i, w in enumerate(words)]
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + ")", re.IGNORECASE)
    first = pattern.search(flat)
    start = 0
    if first and len(flat) > SNIPPET:
        start = max(0, min(first.start() - SNIPPET // 3, len(flat) - SNIPPET))
    snippet = flat[start : start + SNIPPET]
    lead = "…" if start > 0 else ""
    tail = "…" if start + SNIPPET < len(flat) else ""
    out = lead + snippet + tail
    off = len(lead)
    spans = tuple((m.start() + off, m.end() + off) for m in pattern.finditer(snippet))
    return out, spans


def search_raw(db: SqliteDatabase, text: str, limit: int = 50) -> list[RawHit]:
    """Messages matching `text` (all its words; the last may be a prefix), best of the newest first.
    A query FTS5 cannot run gives [] rather than an error."""
    match = fts_query(text)
    if match is None or limit <= 0:
        return []
    try:
        rows = db.execute_sql(
            "SELECT rowid, rank FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            (match, max(RAW_WINDOW, limit)),
        ).fetchall()
    except sqlite3.Error:
        return []
    rows.sort(key=lambda r: (r[1], -r[0]))
    ids = [r[0] for r in rows[:limit]]
    if not ids:
        return []
    found = {
        r[0]: r
        for r in db.execute_sql(
            "SELECT msg.id, msg.session_id, msg.position, msg.role, msg.kind, msg.text, s.title, p.root, s.tool"
            " FROM message msg JOIN session s ON s.id = msg.session_id LEFT JOIN project p ON p.id = s.project_id"
            f" WHERE msg.id IN ({','.join('?' * len(ids))})",
            ids,
        )
    }
    words = _WORD.findall(text)
    prefix_last = match.endswith("*")
    hits = []
    for message_id in ids:
        row = found.get(message_id)
        if row is None:
            continue
        _, session_id, position, role, kind, body, title, root, tool = row
        snippet, spans = _snippet(body, words, prefix_last)
        hits.append(RawHit(session_id, message_id, position, role, kind, title or "", root, tool, snippet, spans))
    return hits
