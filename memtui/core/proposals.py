"""Storing an extractor's proposals: dedupe against known memories, evidence quotes, the journal.

A proposal that says what an existing memory of the same project (or the developer tier) already
says reinforces it; one that contradicts a memory is stored as a possible supersede of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping, Sequence

from peewee import SqliteDatabase
from rapidfuzz import fuzz, process

from memtui.core.extract import Proposal
from memtui.core.extract.dedupe import RELATED_SCORE, contradicts, fingerprint, is_duplicate, normalise
from memtui.core.memories import MAX_TEXT, QUOTE_LEN, Journal, MemoryError_, _check
from memtui.core.redact import clean


@dataclass(frozen=True)
class ProposeResult:
    created: tuple[int, ...]
    reinforced: tuple[int, ...]
    superseding: tuple[tuple[int, int], ...]  # (new proposal, the memory it may supersede)


def _merge_within_session(proposals: Sequence[Proposal]) -> list[Proposal]:
    """Near-duplicates inside one session become one proposal with the union of evidence."""
    merged: list[Proposal] = []
    for prop in proposals:
        for i, kept in enumerate(merged):
            if kept.kind == prop.kind and is_duplicate(kept.text, prop.text):
                ids = list(kept.message_ids)
                quotes = list(kept.quotes)
                for mid, quote in zip(prop.message_ids, prop.quotes or [""] * len(prop.message_ids)):
                    if mid not in ids:
                        ids.append(mid)
                        quotes.append(quote)
                best = kept if len(kept.text) >= len(prop.text) else prop
                merged[i] = Proposal(
                    best.text, kept.kind, kept.tier, max(kept.confidence, prop.confidence), tuple(ids), tuple(quotes)
                )
                break
        else:
            merged.append(prop)
    return merged


def _own_quotes(prop: Proposal) -> tuple[str | None, ...]:
    """A proposal's quotes, one per message id, cleaned and cut; None where it has none (the
    message's own text is quoted then, see _message_quote)."""
    quotes = list(prop.quotes) + [""] * (len(prop.message_ids) - len(prop.quotes))
    return tuple(clean(quote)[:QUOTE_LEN] if quote else None for _, quote in zip(prop.message_ids, quotes))


def _message_quote(db: SqliteDatabase, mid: int, texts: Mapping[int, str] | None) -> str:
    """A message's text as a quote: from `texts` (the session's messages by id, when the caller has
    them), else from the database."""
    text = texts.get(mid) if texts is not None else None
    if text is None:
        row = db.execute_sql("SELECT text FROM message WHERE id = ?", (mid,)).fetchone()
        text = row[0] if row else ""
    return clean(" ".join(text.split()))[:QUOTE_LEN]


def _evidence(db: SqliteDatabase, prop: Proposal, quotes: tuple[str | None, ...], texts: Mapping[int, str] | None) -> list[tuple[int, str]]:
    return [
        (int(mid), quote if quote is not None else _message_quote(db, mid, texts))
        for mid, quote in zip(prop.message_ids, quotes)
    ]


def _quotes(db: SqliteDatabase, prop: Proposal, texts: Mapping[int, str] | None = None) -> list[tuple[int, str]]:
    """(message id, quote) for a proposal's evidence: its own quote, else the message's text."""
    return _evidence(db, prop, _own_quotes(prop), texts)


_EVIDENCE = "INSERT OR IGNORE INTO evidence (memory_id, message_id, quote) VALUES (?, ?, ?)"
# The columns propose_session writes for a new memory (id first).
_MEMORY_COLUMNS = (
    "id", "tier", "kind", "text", "status", "pinned", "confidence", "project_id", "session_id", "extractor",
    "fingerprint", "supersedes_id", "created_at", "updated_at", "last_seen_at", "forgotten_at",
)
_INSERT_MEMORY = f"INSERT INTO memory ({', '.join(_MEMORY_COLUMNS)}) VALUES ({', '.join('?' * len(_MEMORY_COLUMNS))})"
_LAST_SEEN = _MEMORY_COLUMNS.index("last_seen_at")


def _token_set(norm: str) -> str:
    """The distinct words of a normalised text, sorted: token_set_ratio depends only on the sets of
    words of its two texts, so it scores these exactly as it scores the texts (and faster, having
    less to split, sort and deduplicate)."""
    return " ".join(sorted(set(norm.split())))


@dataclass(frozen=True)
class PreparedProposal:
    """A proposal as propose_session stores it, as far as that does not depend on the database:
    merged with its near-duplicates of the same session, its text cleaned, normalised and reduced
    to its set of words, its quotes cleaned. Pure, so the import workers make these too."""

    proposal: Proposal
    text: str  # clean(text).strip()[:MAX_TEXT]; "" is not stored
    norm: str
    words: str  # _token_set(norm)
    fingerprint: str
    quotes: tuple[str | None, ...]  # see _own_quotes


def prepare_proposals(proposals: Sequence[Proposal]) -> tuple[PreparedProposal, ...]:
    out = []
    for prop in _merge_within_session(proposals):
        text = clean(prop.text).strip()[:MAX_TEXT]
        norm = normalise(text)
        out.append(PreparedProposal(prop, text, norm, _token_set(norm), fingerprint(text), _own_quotes(prop)))
    return tuple(out)


class CandidateCache:
    """The memories proposals are compared with, kept across the sessions of one run.

    Reading and normalising every memory of a project again for each of its sessions made
    storing proposals quadratic; this keeps them per project (and the developer tier, shared by
    all projects) and adds what each session creates. Use one per run, from one process.
    """

    def __init__(self) -> None:
        # key -> (id -> normalised text, id -> row, id -> _token_set of the normalised text)
        self._groups: dict[object, tuple[dict[int, str], dict[int, tuple], dict[int, str]]] = {}

    def _load(self, db: SqliteDatabase, key: object, sql: str, args: tuple) -> tuple[dict, dict, dict]:
        if key not in self._groups:
            rows = db.execute_sql(
                "SELECT id, text, kind, tier, status, project_id FROM memory WHERE forgotten_at IS NULL AND " + sql, args
            ).fetchall()
            choices = {r[0]: normalise(r[1]) for r in rows}
            self._groups[key] = (choices, {r[0]: r for r in rows}, {k: _token_set(v) for k, v in choices.items()})
        return self._groups[key]

    def candidates(self, db: SqliteDatabase, project_id: int | None, session_id: int) -> tuple[dict, dict, dict]:
        dev_choices, dev_info, dev_sets = self._load(db, "developer", "tier = 'developer'", ())
        if project_id is None:
            own = db.execute_sql(
                "SELECT id, text, kind, tier, status, project_id FROM memory WHERE forgotten_at IS NULL"
                " AND tier != 'developer' AND project_id IS NULL AND session_id = ?",
                (session_id,),
            ).fetchall()
            proj_choices, proj_info = {r[0]: normalise(r[1]) for r in own}, {r[0]: r for r in own}
            proj_sets = {k: _token_set(v) for k, v in proj_choices.items()}
        else:
            proj_choices, proj_info, proj_sets = self._load(
                db, project_id, "tier != 'developer' AND project_id = ?", (project_id,)
            )
        return {**dev_choices, **proj_choices}, {**dev_info, **proj_info}, {**dev_sets, **proj_sets}

    def add(
        self, memory_id: int, text: str, kind: str, tier: str, project_id: int | None,
        norm: str | None = None, words: str | None = None,
    ) -> None:
        key = "developer" if tier == "developer" else project_id
        if key in self._groups:
            choices, info, sets = self._groups[key]
            choices[memory_id] = norm = normalise(text) if norm is None else norm
            info[memory_id] = (memory_id, text, kind, tier, "proposed", project_id)
            sets[memory_id] = _token_set(norm) if words is None else words


def propose_session(
    db: SqliteDatabase,
    session_id: int,
    proposals: Sequence[Proposal],
    extractor: str,
    cache: CandidateCache | None = None,
    texts: Mapping[int, str] | None = None,
    prepared: Sequence[PreparedProposal] | None = None,
) -> ProposeResult:
    """Store an extractor's proposals for one session, deduplicated against what is known.

    A proposal that says what an existing memory of the same project (or the developer tier)
    already says reinforces it (last_seen_at moves, evidence grows) instead of adding a second
    entry; one that contradicts an existing memory is stored with `supersedes` pointing at it.
    `texts` (message id -> text, optional) saves reading evidence messages back for their quotes;
    `prepared`: prepare_proposals(proposals), made earlier (then `proposals` is not read).
    """
    if prepared is None:
        prepared = prepare_proposals(proposals)
    row = db.execute_sql("SELECT project_id FROM session WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise MemoryError_(f"no session with id {session_id}")
    project_id = row[0]
    now = time.time()
    created: list[int] = []
    reinforced: list[int] = []
    superseding: list[tuple[int, int]] = []
    with db.atomic():
        conn = db.connection()
        choices, info, token_sets = (cache or CandidateCache()).candidates(db, project_id, session_id)
        by_words: dict[str, int] = {}
        for mid, words in choices.items():
            by_words.setdefault(words, mid)
        journal = Journal(db, "propose")
        evidence_rows: list[tuple] = []
        # The new memories are written in one statement at the end, with the ids SQLite would give
        # them one insert at a time (the largest id + 1: the table has no AUTOINCREMENT, and
        # nothing else writes inside this transaction); until then they are in `pending`.
        (next_id,) = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM memory").fetchone()
        pending: dict[int, list] = {}  # memory id -> its row (values in _MEMORY_COLUMNS order)
        for pp in prepared:
            prop = pp.proposal
            _check(prop.tier, prop.kind)
            text = pp.text
            if not text:
                continue
            norm = pp.norm
            match = None
            related = []
            exact = by_words.get(norm)
            if exact is not None and info[exact][2] == prop.kind:
                match = exact  # the same words: no need to compare with everything else
            # (the same scores, and so the same order, as over `choices` themselves: see _token_set)
            near = () if match is not None else process.extract(
                pp.words, token_sets, scorer=fuzz.token_set_ratio, limit=5, score_cutoff=RELATED_SCORE
            )
            for _, score, mid in near:
                if match is None and is_duplicate(text, info[mid][1]):
                    match = mid
                elif contradicts(text, info[mid][1]) and info[mid][4] != "rejected":
                    related.append(mid)
            evidence = _evidence(db, prop, pp.quotes, texts)
            if match is not None:
                row = pending.get(match)
                if row is not None:  # made by this session: not written yet
                    before = {"last_seen_at": row[_LAST_SEEN]}
                    row[_LAST_SEEN] = now
                else:
                    before = {"last_seen_at": conn.execute("SELECT last_seen_at FROM memory WHERE id = ?", (match,)).fetchone()[0]}
                    conn.execute("UPDATE memory SET last_seen_at = ? WHERE id = ?", (now, match))
                evidence_rows.extend((match, mid, quote) for mid, quote in evidence)
                journal.add(match, "reinforce", before, {"last_seen_at": now})
                reinforced.append(match)
                continue
            state = {
                "tier": prop.tier, "kind": prop.kind, "text": text, "status": "proposed", "pinned": 0,
                "confidence": round(float(prop.confidence), 3),
                "project_id": None if prop.tier == "developer" else project_id, "session_id": session_id,
                "extractor": extractor, "fingerprint": pp.fingerprint,
                "supersedes_id": related[0] if related else None,
                "created_at": now, "updated_at": now, "last_seen_at": now, "forgotten_at": None,
            }
            memory_id = next_id
            next_id += 1
            pending[memory_id] = [memory_id, *(state[c] for c in _MEMORY_COLUMNS[1:])]
            evidence_rows.extend((memory_id, mid, quote) for mid, quote in evidence)
            journal.add(memory_id, "propose", None, state | {"evidence": [list(e) for e in evidence]})
            created.append(memory_id)
            if related:
                superseding.append((memory_id, related[0]))
            choices[memory_id] = norm
            token_sets[memory_id] = pp.words
            by_words.setdefault(norm, memory_id)
            info[memory_id] = (memory_id, text, prop.kind, prop.tier, "proposed", state["project_id"])
            if cache is not None:
                cache.add(memory_id, text, prop.kind, prop.tier, state["project_id"], norm, pp.words)
        if pending:  # in id order: a proposal's supersedes_id may name one made before it here
            conn.executemany(_INSERT_MEMORY, list(pending.values()))
        if evidence_rows:  # in the order they came: the same rows (and ids) as one insert at a time
            conn.executemany(_EVIDENCE, evidence_rows)
        conn.execute("UPDATE session SET extracted_at = ? WHERE id = ?", (now, session_id))
        journal.commit()
    return ProposeResult(tuple(created), tuple(reinforced), tuple(superseding))
