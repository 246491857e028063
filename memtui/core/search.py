"""Search: fuzzy search over memories (as you type) and full-text search over the raw transcripts.

Memories: `MemoryIndex` copies the memories of a query, most recently seen first, into a private
in-memory SQLite FTS5 table (prefix indexes for 1-3 letters) and keeps their lower-cased texts;
the copy is shared by later indexes of the same query while its memories, their order and texts
are unchanged. A search splits the typed text into words: the one still being typed is a prefix,
the others whole words; from 3 letters on, each also stands for the vocabulary words a typo or two
away (`tokn` -> `token`, `conection` -> `connection`: words sharing its first or second letter,
by rapidfuzz Indel distance on their prefixes, at most 64), except a short word (4 letters or
less) found as it is. FTS5 finds the memories holding every word, newest first, stopping a
little past the number asked for: as typed first, then with typos; when no memory holds every
word, those holding any. Only those are scored: 100 a word held as typed, else rapidfuzz
`partial_ratio`; the mean, plus a bonus for the phrase in order. Word order does not matter,
typos cost a little, ties go to the most recently seen. A word's expansion is cached, so a
keystroke redoes only the word being typed.

Raw transcripts: SQLite FTS5 (`message_fts`, external content over `message`). The typed words are
quoted (so `foo-bar`, `"`, `AND`, `*` are plain text), the last one a prefix from 4 letters; the
newest 200 matches are ranked by bm25; a query running past 2 s is given up.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import time
from array import array
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from operator import itemgetter

import orjson
from peewee import SqliteDatabase
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from memtui.core.curate import MemoryQuery, _needs_project, _where
from memtui.core.memories import _COLUMNS, _FROM, _records
from memtui.core.records import MemoryRecord

_WORD = re.compile(r"[^\W_]+")
EXTRA_CANDIDATES = 150  # memories scored beyond `limit` (the most recently seen matches)
RECORD_CACHE = 4_000  # records kept between keystrokes (the hits of a growing query overlap)
TYPO_WORDS = 64  # vocabulary words a typed word may stand for, at most
SHORT_WORD = 4  # a word this short that is in the vocabulary gets no typo alternatives
_TOKEN_CACHE = 64


@dataclass(frozen=True)
class MemoryHit:
    memory: MemoryRecord
    score: float  # 0..100, best first
    spans: tuple[tuple[int, int], ...]  # [start, end) character ranges of memory.text to highlight


def _tokens(text: str) -> list[str]:
    return list(dict.fromkeys(_WORD.findall(text.lower())))


def _typing(text: str) -> bool:
    """Whether the last word is still being typed (a prefix), not ended by a space or a sign."""
    return text[-1:].isalnum()


def _allowed_edits(length: int) -> int:
    """Indel edits (a substitution is two) a typed word of this length may be off by."""
    if length < 3:
        return 0
    if length == 3:
        return 1  # a letter missing or too many (whole words only)
    return 2 if length <= 5 else 3 if length <= 8 else 4


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


@dataclass
class _Built:
    """The searchable copy of a query's memories, shared by the MemoryIndexes made while the
    memories it holds (ids, order, texts) stay the same: a pin or an approval does not rebuild it."""

    conn: sqlite3.Connection  # private, in memory: the FTS5 table `idx` (rowid = position)
    lock: threading.Lock
    cache: OrderedDict  # (word, prefix) -> FTS5 expressions and typo words
    ids: array  # memory ids by position, most recently seen first
    texts: tuple[str, ...]  # lower case, `_` as a space (FTS5 splits words there too)
    vocab: tuple[str, ...]  # every word in the index, sorted
    users: int = 0  # MemoryIndexes using it and not closed


_BUILT: OrderedDict[tuple[str, MemoryQuery], tuple[bytes, _Built]] = OrderedDict()
_BUILT_LOCK = threading.Lock()
_BUILT_KEEP = 2  # e.g. the live memories and the trash


def _built(path: str, query: MemoryQuery) -> _Built:
    """The index of `query`'s memories: the last one built if they have not changed since."""
    where, args = _where(query)
    source = f" FROM src.memory m{_needs_project(query.project)} WHERE {where} ORDER BY m.last_seen_at DESC, m.id DESC"
    # What the index depends on: which memories, their order, their texts (fingerprint and length).
    shape = "m.id, m.last_seen_at, m.fingerprint, length(m.text)"
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("ATTACH DATABASE ? AS src", (path,))
    conn.execute("PRAGMA src.cache_size = -16000")  # KiB: records of hits are read from there per keystroke
    with _BUILT_LOCK:
        known = _BUILT.get((path, query))
    conn.execute("BEGIN")  # one snapshot for the check and the build
    try:
        if known is None:  # nothing to compare with: read everything at once
            rows = conn.execute(f"SELECT {shape}, m.text{source}", args).fetchall()
            signature = hashlib.blake2b(orjson.dumps([r[:4] for r in rows])).digest()
        else:
            signature = hashlib.blake2b(orjson.dumps(conn.execute(f"SELECT {shape}{source}", args).fetchall())).digest()
            rows = None if known[0] == signature else conn.execute(f"SELECT {shape}, m.text{source}", args).fetchall()
    finally:
        conn.execute("COMMIT")
    if rows is None:
        conn.close()
        with _BUILT_LOCK:
            if known[1].users > 0:  # not closed meanwhile
                known[1].users += 1
                return known[1]
        return _built(path, query)
    conn.execute(
        "CREATE VIRTUAL TABLE idx USING fts5(text, content='', detail=none, columnsize=0, prefix='1 2 3',"
        " tokenize='unicode61 remove_diacritics 2')"
    )
    # An array and tuples of strings: the garbage collector need not walk 100k items on each pass.
    ids = array("q", [r[0] for r in rows])
    texts = tuple([r[4].lower().replace("_", " ") for r in rows])
    del rows
    with conn:  # rowid = position, newest first
        conn.executemany("INSERT INTO idx(rowid, text) VALUES (?, ?)", enumerate(texts))
    conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, idx, row)")
    vocab = tuple([r[0] for r in conn.execute("SELECT term FROM temp.vocab")])  # sorted
    conn.execute("DROP TABLE temp.vocab")
    built = _Built(conn, threading.Lock(), OrderedDict(), ids, texts, vocab, users=1)
    with _BUILT_LOCK:
        _BUILT[(path, query)] = (signature, built)
        _BUILT.move_to_end((path, query))
        while len(_BUILT) > _BUILT_KEEP:
            _BUILT.popitem(last=False)
    return built


class MemoryIndex:
    """Built once (in a worker) from the live or forgotten memories; searched per keystroke from one thread.

    A snapshot: make a new one after memories change. That is cheap when the memories it matches,
    their order and texts are unchanged (a pin, an approval): the searchable copy is shared then,
    and only the records (read fresh for each index) change. Hits of memories forgotten or restored
    since are dropped."""

    def __init__(self, db: SqliteDatabase, query: MemoryQuery | None = None) -> None:
        self.query = query or MemoryQuery()
        self._records: dict[int, MemoryRecord] = {}  # read fresh for each index: states change
        self._closed = False
        path = db.database if db.database == ":memory:" else os.path.abspath(db.database)
        self._built = built = _built(path, self.query)
        self._conn, self._lock, self._cache = built.conn, built.lock, built.cache
        self._ids, self._texts, self._vocab = built.ids, built.texts, built.vocab

    def __len__(self) -> int:
        return len(self._ids)

    def close(self) -> None:
        """Done with this index: its SQLite connection is closed once no other index made since of
        the same, unchanged memories shares it (a closed index finds nothing)."""
        built = self._built
        with _BUILT_LOCK:
            if self._closed:
                return
            self._closed = True
            built.users -= 1
            if built.users > 0:
                return
            for key, (_, known) in list(_BUILT.items()):
                if known is built:
                    del _BUILT[key]
        with built.lock:
            built.conn.close()

    # --- typed words -> FTS5 expressions ------------------------------------------------------

    def _typos(self, token: str, prefix: bool) -> tuple[str, ...]:
        """Vocabulary words (not starting with `token`) within the allowed edits of it or of a prefix
        of it. None for a short word (4 letters or less) found as it is: `the` is not a typo of `then`."""
        n = len(token)
        edits = _allowed_edits(n)
        vocab = self._vocab
        if not edits:
            return ()
        if n <= SHORT_WORD:
            at = bisect_left(vocab, token)
            if at < len(vocab) and (vocab[at] == token or (prefix and vocab[at].startswith(token))):
                return ()
        found: dict[str, float] = {}
        for first in dict.fromkeys(token[:2]):  # a typo rarely hits the first two letters both
            words = vocab[bisect_left(vocab, first) : bisect_left(vocab, first + "\U0010ffff")]
            words = [w for w in words if not w.startswith(token) and len(w) >= n - edits // 2]
            if not words:
                continue
            lengths = (0,) if n == 3 else (n - 1, n, n + 1)  # 0: whole words
            for k in lengths:
                choices = words if k == 0 else [w[:k] for w in words]
                for _, dist, i in process.extract(
                    token, choices, scorer=Indel.distance, processor=None, limit=None, score_cutoff=edits
                ):
                    w = words[i]
                    if dist < found.get(w, edits + 1):
                        found[w] = dist
        best = sorted(found, key=lambda w: (found[w], len(w), w))[:TYPO_WORDS]
        return tuple(best)

    def _expand(self, token: str, prefix: bool) -> tuple[str, str, tuple[str, ...]]:
        """(FTS5 expression for the word itself, for the word or its typos, the typo words). A word
        still being typed is a prefix; a finished one a whole word."""
        key = (token, prefix)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        exact = _quote(token) + ("*" if prefix else "")
        typos = self._typos(token, prefix)
        hit = (exact, "(" + " OR ".join([exact, *map(_quote, typos)]) + ")" if typos else exact, typos)
        self._cache[key] = hit
        if len(self._cache) > _TOKEN_CACHE:
            self._cache.popitem(last=False)
        return hit

    def _match(self, expr: str, limit: int | None) -> list[int]:
        sql = "SELECT rowid FROM idx WHERE idx MATCH ? ORDER BY rowid" + (" LIMIT ?" if limit is not None else "")
        try:
            return [r[0] for r in self._conn.execute(sql, (expr, limit) if limit is not None else (expr,))]
        except sqlite3.Error:  # a word FTS5 splits into a phrase (detail=none has no phrases)
            return []

    def _expansions(self, tokens: list[str], typing: bool) -> list[tuple[str, str, tuple[str, ...]]]:
        return [self._expand(t, typing and k == len(tokens) - 1) for k, t in enumerate(tokens)]

    def _candidates(self, expanded: list, limit: int | None) -> tuple[list[int], set[int], bool]:
        """(matching positions, newest first; those matching every word exactly; whether every
        position holds every word, as typed or as a typo)."""
        exact = self._match(" AND ".join(e for e, _, _ in expanded), limit)
        if (limit is not None and len(exact) >= limit) or not any(typos for _, _, typos in expanded):
            found = exact
        else:
            found = self._match(" AND ".join(f for _, f, _ in expanded), limit)
        if not found and len(expanded) > 1:  # nothing holds every word: those holding any
            return self._match(" OR ".join(f for _, f, _ in expanded), limit), set(), False
        return found, set(exact), True

    # --- searching --------------------------------------------------------------------------

    def ids(self, text: str) -> list[int]:
        """Every matching memory id, most recently seen first (for "select all matching")."""
        tokens = _tokens(text)
        if not tokens:
            return []
        with self._lock:
            found, _, _ = self._candidates(self._expansions(tokens, _typing(text)), None)
        return [self._ids[i] for i in found]

    def _scored(self, tokens: list[str], expanded: list, limit: int) -> list[tuple[int, float]]:
        """(position, score) of the best `limit`, best first; ties: the most recently seen first."""
        found, exact, every_word = self._candidates(expanded, limit + EXTRA_CANDIDATES)
        if not found:
            return []
        texts = self._texts
        phrase = " ".join(tokens)
        if len(exact) == len(found):  # every word as typed (100 each): the phrase in order first
            if len(tokens) == 1:
                return [(i, 100.0) for i in found[:limit]]
            ordered = [i for i in found if phrase in texts[i]]
            first = set(ordered)
            return [(i, 100.0) for i in ordered[:limit]] + [(i, 85.0) for i in found if i not in first][: limit - len(ordered)]
        total = dict.fromkeys(found, 100.0 * len(tokens))  # an exact match scores 100 for each word
        fuzzy = {i: texts[i] for i in found if i not in exact}
        for i in fuzzy:
            total[i] = 0.0
        for token, (_, _, typos) in zip(tokens, expanded):
            if every_word and not typos:  # every candidate holds the word itself
                for i in fuzzy:
                    total[i] += 100.0
                continue
            for _, score, i in process.extract(token, fuzzy, scorer=fuzz.partial_ratio, processor=None, limit=None):
                total[i] += score
        if len(tokens) > 1:  # word order is free; the phrase as typed earns a bonus
            scored = [(i, round(0.85 * total[i] / len(tokens) + (15.0 if phrase in texts[i] else 0.0), 2)) for i in found]
        else:
            scored = [(i, round(score, 2)) for i, score in total.items()]
        scored.sort(key=itemgetter(1), reverse=True)  # stable: ties stay newest first
        return scored[:limit]

    def search(self, text: str, limit: int = 100) -> list[MemoryHit]:
        """The best `limit` memories for `text`, best first, with the ranges to highlight."""
        tokens = _tokens(text)
        if not tokens or limit <= 0:
            return []
        with self._lock:
            expanded = self._expansions(tokens, _typing(text))
            scored = self._scored(tokens, expanded, limit)
            if not scored:
                return []
            records = self._fetch([self._ids[i] for i, _ in scored])
        finditer = _highlighter(tokens, _typing(text), [w for _, _, typos in expanded for w in typos]).finditer
        hits = []
        texts, ids, forgotten = self._texts, self._ids, self.query.forgotten
        for i, score in scored:
            memory = records.get(ids[i])
            if memory is None or (memory.forgotten_at is None) == forgotten:
                continue  # changed since the index was built
            lowered = texts[i] if len(texts[i]) == len(memory.text) else memory.text.lower()
            hits.append(MemoryHit(memory, score, tuple([m.span() for m in finditer(lowered)])))
        return hits

    def _fetch(self, ids: list[int]) -> dict[int, MemoryRecord]:
        """Records by id, read once per index (the hits of one keystroke are mostly the last one's)."""
        cache = self._records
        missing = [i for i in ids if i not in cache]
        if len(cache) + len(missing) > RECORD_CACHE:
            cache.clear()
            missing = ids
        for start in range(0, len(missing), 900):
            chunk = missing[start : start + 900]
            rows = self._conn.execute(
                f"SELECT {_COLUMNS}{_FROM} WHERE m.id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            cache.update((r.id, r) for r in _records(None, rows, with_evidence=False))
        return cache


def _highlighter(tokens: list[str], typing: bool, typos: list[str]) -> re.Pattern:
    """Finds, in a lower-cased text with `_` as a space, the typed words (the one being typed at the
    start of a word, the others whole) and the typo words they stand for."""
    def alternatives(words: list[str]) -> str:
        return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))

    whole = tokens[:-1] + typos if typing else tokens + typos
    parts = [rf"\b(?:{alternatives(whole)})\b"] if whole else []
    if typing:
        parts.append(rf"\b{re.escape(tokens[-1])}")
    return re.compile("|".join(parts))


def search_memories(db: SqliteDatabase, text: str, limit: int = 20, query: MemoryQuery | None = None) -> list[MemoryHit]:
    """One-off fuzzy search (builds an index; keep a MemoryIndex to search as you type)."""
    index = MemoryIndex(db, query)
    try:
        return index.search(text, limit)
    finally:
        index.close()


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
RAW_WINDOW = 200  # newest matches ranked by bm25 (bm25 costs ~0.1 ms a row on a large index)
RAW_MIN_PREFIX = 4
RAW_CHECK_EVERY = 20_000  # SQLite VM steps between looks at the clock
RAW_TIME_BUDGET = 2.0  # seconds: a query running longer is given up (no hits) rather than hold the worker


def fts_query(text: str) -> str | None:
    """An FTS5 query for typed text: every word quoted (plain text), the last one a prefix if it is
    still being typed and has 4 letters or more (FTS5 merges every word a prefix matches, and
    message_fts has no prefix index: on 1M messages a 3-letter one takes ~0.5 s)."""
    words = _WORD.findall(text)
    if not words:
        return None
    quoted = [_quote(w) for w in words]
    if text[-1:].isalnum() and len(words[-1]) >= RAW_MIN_PREFIX:
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
    conn = db.connection()
    deadline = time.monotonic() + RAW_TIME_BUDGET
    conn.set_progress_handler(lambda: time.monotonic() > deadline, RAW_CHECK_EVERY)
    try:
        rows = conn.execute(
            "SELECT rowid, rank FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            (match, max(RAW_WINDOW, limit)),
        ).fetchall()
    except sqlite3.Error:  # not a query FTS5 can run, or interrupted
        return []
    finally:
        conn.set_progress_handler(None, 0)
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
