"""Storing an extractor's proposals: dedupe against known memories, evidence quotes, the journal.

A proposal that says what an existing memory of the same project (or the developer tier) already
says reinforces it; one that contradicts a memory is stored as a possible supersede of it.
"""

from __future__ import annotations

import time
from itertools import chain
from dataclasses import dataclass
from typing import Mapping, Sequence

import orjson
from peewee import SqliteDatabase
from rapidfuzz import fuzz, process

from memtui.core.extract import Proposal
from memtui.core.extract.dedupe import (
    RELATED_SCORE, contradicts, fingerprint_of, is_duplicate, normalise, reaching, token_set,
)
from memtui.core.memories import MAX_TEXT, QUOTE_LEN, MemoryError_, _check, _new_batch
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


def _own_quotes(prop: Proposal, cleaned: dict[str, str] | None = None) -> tuple[str | None, ...]:
    """A proposal's quotes, one per message id, cleaned and cut; None where it has none (the
    message's own text is quoted then, see _message_quote). `cleaned`: see _clean."""
    quotes = list(prop.quotes) + [""] * (len(prop.message_ids) - len(prop.quotes))
    if cleaned is None:
        cleaned = {}
    return tuple(_clean(quote, cleaned)[:QUOTE_LEN] if quote else None for _, quote in zip(prop.message_ids, quotes))


def _clean(text: str, cleaned: dict[str, str]) -> str:
    """clean(text), kept in `cleaned` (text -> clean(text)): a session's proposals often quote the
    same message, or are quoted themselves, and clean is the costly part of preparing them."""
    out = cleaned.get(text)
    if out is None:
        out = cleaned[text] = clean(text)
    return out


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
# The rows of a plan (SessionPlan.memories, .events) hold NaN where a column is NULL (a memory's
# forgotten_at, mostly its supersedes_id, a proposal's journal `before`): SQLite stores a NaN
# parameter as NULL, and the sqlite3 module binds a float at once, where it first tries to adapt
# None (a failed attribute lookup that formats an AttributeError: ~3,300 instructions per None, as
# for the import's messages, see importers.pipeline._NULL).
_NULL = float("nan")


@dataclass(frozen=True)
class PreparedProposal:
    """A proposal as propose_session stores it, as far as that does not depend on the database:
    merged with its near-duplicates of the same session, its text cleaned, normalised and reduced
    to its set of words, its quotes cleaned. Pure, so the import workers make these too."""

    proposal: Proposal
    text: str  # clean(text).strip()[:MAX_TEXT]; "" is not stored
    norm: str
    words: str  # token_set(norm)
    fingerprint: str
    quotes: tuple[str | None, ...]  # see _own_quotes


def prepare_proposals(proposals: Sequence[Proposal]) -> tuple[PreparedProposal, ...]:
    out = []
    cleaned: dict[str, str] = {}
    for prop in _merge_within_session(proposals):
        text = _clean(prop.text, cleaned).strip()[:MAX_TEXT]
        norm = normalise(text)
        quotes = _own_quotes(prop, cleaned)
        out.append(PreparedProposal(prop, text, norm, token_set(norm), fingerprint_of(norm), quotes))
    return tuple(out)


MAX_SCORED = 500_000  # pairs whose scores CandidateCache.related keeps (some 25 MB)


def _best_first(hit: tuple[float, int, int]) -> tuple[float, int]:
    return -hit[0], hit[1]


class CandidateCache:
    """The memories proposals are compared with, kept across the sessions of one run.

    Reading and normalising every memory of a project again for each of its sessions made
    storing proposals quadratic; this keeps them per project (and the developer tier, shared by
    all projects) and adds what each session creates. Use one per run, from one process.
    """

    def __init__(self) -> None:
        # key -> (id -> normalised text, id -> row, id -> token_set of the normalised text)
        self._groups: dict[object, tuple[dict[int, str], dict[int, tuple], dict[int, str]]] = {}
        # proposal's token_set -> candidate's token_set -> its score (0.0: below RELATED_SCORE),
        # see related; `_scored` counts the pairs held
        self._scores: dict[str, dict[str, float]] = {}
        self._scored = 0
        self._sets: dict[str, frozenset[str]] = {}  # a candidate's token_set -> its words (see reaching)

    def _load(self, db: SqliteDatabase, key: object, sql: str, args: tuple) -> tuple[dict, dict, dict]:
        if key not in self._groups:
            rows = db.execute_sql(
                "SELECT id, text, kind, tier, status, project_id FROM memory WHERE forgotten_at IS NULL AND " + sql, args
            ).fetchall()
            choices = {r[0]: normalise(r[1]) for r in rows}
            self._groups[key] = (choices, {r[0]: r for r in rows}, {k: token_set(v) for k, v in choices.items()})
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
            proj_sets = {k: token_set(v) for k, v in proj_choices.items()}
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
            sets[memory_id] = token_set(norm) if words is None else words

    def related(self, words: str, token_sets: Mapping[int, str]) -> list[tuple[str, float, int]]:
        """What process.extract(words, token_sets, scorer=fuzz.token_set_ratio, limit=5,
        score_cutoff=RELATED_SCORE) returns: (words of the candidate, score, its id), the best
        first. A score depends only on the two sets of words and the same proposals come back
        session after session (half the pairs of an import were scored before), so each pair is
        scored once per run; the order is rapidfuzz's: the higher score first, then the earlier
        in `token_sets`."""
        known = self._scores.get(words)
        if known is None:
            if self._scored > MAX_SCORED:  # (bounds memory on huge runs: start again)
                self._scores.clear()
                self._sets.clear()
                self._scored = 0
            known = self._scores[words] = {}
        new = {}
        for mid, w in token_sets.items():
            if w not in known:
                known[w] = 0.0
                new[mid] = w
        if new:
            # (the pairs token_set_ratio_reaches does not prove to be under the cutoff)
            reach = reaching(words, new, RELATED_SCORE, self._sets)
            if reach:
                for w, score, _ in process.extract(
                    words, reach, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=RELATED_SCORE
                ):
                    known[w] = score
            self._scored += len(new)
        found = [(score, i, mid) for i, (mid, w) in enumerate(token_sets.items()) if (score := known[w])]
        if not found:
            return []
        found.sort(key=_best_first)
        return [(token_sets[mid], score, mid) for score, _, mid in found[:5]]


@dataclass
class SessionPlan:
    """What storing one session's proposals writes, decided (see plan_session) and not yet written."""

    session_id: int
    now: float
    memories: list  # new memory rows, values in _MEMORY_COLUMNS order (_NULL for None), in id order
    evidence: list  # (memory id, message id, quote), in order
    events: list  # (memory id, action, before JSON, after JSON: see _json), the journal's order (_NULL: no JSON)
    seen: list  # (last_seen_at, memory id) of memories stored before, reinforced
    result: ProposeResult
    batch: int | None = None  # the journal batch of `events` when planned ahead (PlanState), else read when written


class PlanState:
    """What planning a session reads from the database, for sessions planned ahead of writing:
    the next memory id, the next journal batch (what memories._new_batch gives a system action:
    the largest + 1) and the last_seen_at of memories planned (made or reinforced) and not
    written yet. None of it is used when each plan is written before the next is made."""

    def __init__(self, next_id: int, next_batch: int) -> None:
        self.next_id = next_id
        self.next_batch = next_batch
        self.last_seen: dict[int, float] = {}


def plan_session(
    db: SqliteDatabase,
    session_id: int,
    project_id: int | None,
    prepared: Sequence[PreparedProposal],
    extractor: str,
    cache: CandidateCache | None,
    texts: Mapping[int, str] | None,
    state: PlanState | None = None,
) -> SessionPlan:
    """Decide what storing `prepared` for one session writes (dedupe against the candidates, ids,
    evidence, journal), reading but not writing the database; `cache` takes the new memories."""
    now = time.time()
    created: list[int] = []
    reinforced: list[int] = []
    superseding: list[tuple[int, int]] = []
    if cache is None:
        cache = CandidateCache()  # (for this session only)
    choices, info, token_sets = cache.candidates(db, project_id, session_id)
    by_words: dict[str, int] = {}
    for mid, words in choices.items():
        by_words.setdefault(words, mid)
    events: list[tuple] = []
    evidence_rows: list[tuple] = []
    seen: list[tuple] = []
    seen_here: dict[int, float] = {}  # memories stored before, reinforced by this session
    # The new memories are written in one statement, with the ids SQLite would give them one insert
    # at a time (the largest id + 1: the table has no AUTOINCREMENT, and nothing else writes inside
    # the transaction); until then they are in `pending`.
    if state is None:
        (next_id,) = db.execute_sql("SELECT COALESCE(MAX(id), 0) + 1 FROM memory").fetchone()
    else:
        next_id = state.next_id
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
        # (the same scores, and so the same order, as over `choices` themselves: see token_set)
        near = () if match is not None else cache.related(pp.words, token_sets)
        for _, score, mid in near:
            # (`score` is token_set_ratio of their normalised texts: see token_set; the texts'
            # normalised forms are at hand, pp.norm and choices, made when they were prepared)
            other, other_norm = info[mid][1], choices[mid]
            if match is None and is_duplicate(text, other, score, norm, other_norm):
                match = mid
            elif mid not in pending and contradicts(text, other, norm, other_norm) and info[mid][4] != "rejected":
                # (not one this session proposes too: statements of one session share its words, a
                # request's say, and both go to review side by side anyway)
                related.append(mid)
        evidence = _evidence(db, prop, pp.quotes, texts)
        if match is not None:
            row = pending.get(match)
            if row is not None:  # made by this session: not written yet
                before = {"last_seen_at": row[_LAST_SEEN]}
                row[_LAST_SEEN] = now
            else:
                last = seen_here.get(match)
                if last is None and state is not None:
                    last = state.last_seen.get(match)
                if last is None:
                    last = db.execute_sql("SELECT last_seen_at FROM memory WHERE id = ?", (match,)).fetchone()[0]
                before = {"last_seen_at": last}
                seen.append((now, match))
                seen_here[match] = now
                if state is not None:
                    state.last_seen[match] = now
            evidence_rows.extend((match, mid, quote) for mid, quote in evidence)
            events.append((match, "reinforce", _json(before), _json({"last_seen_at": now})))
            reinforced.append(match)
            continue
        state_ = {
            "tier": prop.tier, "kind": prop.kind, "text": text, "status": "proposed", "pinned": 0,
            "confidence": round(float(prop.confidence), 3),
            "project_id": None if prop.tier == "developer" else project_id, "session_id": session_id,
            "extractor": extractor, "fingerprint": pp.fingerprint,
            "supersedes_id": related[0] if related else None,
            "created_at": now, "updated_at": now, "last_seen_at": now, "forgotten_at": None,
        }
        memory_id = next_id
        next_id += 1
        pending[memory_id] = [memory_id, *(_NULL if (v := state_[c]) is None else v for c in _MEMORY_COLUMNS[1:])]
        evidence_rows.extend((memory_id, mid, quote) for mid, quote in evidence)
        events.append((memory_id, "propose", _NULL,
                       _json(state_ | {"evidence": evidence})))
        created.append(memory_id)
        if related:
            superseding.append((memory_id, related[0]))
        choices[memory_id] = norm
        token_sets[memory_id] = pp.words
        by_words.setdefault(norm, memory_id)
        info[memory_id] = (memory_id, text, prop.kind, prop.tier, "proposed", state_["project_id"])
        cache.add(memory_id, text, prop.kind, prop.tier, state_["project_id"], norm, pp.words)
    batch = None
    if state is not None:
        state.next_id = next_id
        if events:
            batch = state.next_batch
            state.next_batch += 1
        for row in pending.values():
            state.last_seen[row[0]] = row[_LAST_SEEN]
    return SessionPlan(
        session_id, now, list(pending.values()), evidence_rows, events, seen,
        ProposeResult(tuple(created), tuple(reinforced), tuple(superseding)), batch,
    )


# (the journal's JSON comes as UTF-8, see _json)
_EVENT = (
    "INSERT INTO event (batch, memory, action, before, after, at, undone)"
    " VALUES (?, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT), ?, 0)"
)


def _json(value) -> bytearray:
    """A journal state as JSON text in UTF-8, as orjson writes it: _EVENT stores it as TEXT (a CAST),
    the same text as the str it decodes to, without decoding it here and encoding it again to bind
    it (a bytearray is bound at once, where bytes would first be offered to the sqlite3 module's
    adapters, as None is: see _NULL)."""
    return bytearray(orjson.dumps(value))


def write_plan(db: SqliteDatabase, plan: SessionPlan) -> ProposeResult:
    """Write a session's plan, inside the caller's transaction."""
    if plan.events and plan.batch is None:  # (a plan not made ahead: its journal batch is the next one now)
        plan.batch = _new_batch(db, user=False)
    return write_plans(db, [plan])[0]


def write_plans(db: SqliteDatabase, plans: Sequence[SessionPlan]) -> list[ProposeResult]:
    """Write `plans` (each with its journal batch, if it has events), in order, inside the caller's
    transaction, in a few statements for all of them: the same rows and ids as one plan after
    another. The memories of all come first (in id order, as they were planned: a supersedes_id
    may name one made before it), then their evidence, the reinforcements, the sessions and the
    journal, each in the plans' order: a plan reinforces only memories stored before it or made by
    a plan before it, and the evidence's triggers only mark memories whose JSON is to be made
    again, whatever the order."""
    conn = db.connection()
    memories = [row for plan in plans for row in plan.memories]
    if memories:
        _insert(conn, _INSERT_MEMORY, memories)
    evidence = [row for plan in plans for row in plan.evidence]
    if evidence:
        _insert(conn, _EVIDENCE, evidence)
    seen = [row for plan in plans for row in plan.seen]
    if seen:
        conn.executemany("UPDATE memory SET last_seen_at = ? WHERE id = ?", seen)
    conn.executemany("UPDATE session SET extracted_at = ? WHERE id = ?", [(plan.now, plan.session_id) for plan in plans])
    events = [(plan.batch, m, a, b, af, plan.now) for plan in plans for m, a, b, af in plan.events]
    if events:
        _insert(conn, _EVENT, events)
    return [plan.result for plan in plans]


_CHUNKS = (64, 32, 16, 8, 4, 2, 1)  # rows per statement of _insert
# SQLite before 3.32 takes at most 999 parameters per statement (a memory row has 17)
_MAX_PARAMS = 999
_MANY_ROWS: dict[tuple[str, int], str] = {}  # (one row's INSERT, rows) -> the statement


def _insert(conn, sql: str, rows: Sequence[tuple]) -> None:
    """`sql` (an INSERT of one row: "... VALUES (?, ...)") for each of `rows`, in order, in a few
    statements of several rows each: the same rows, ids and trigger runs as one statement a row,
    but SQLite sets up each statement (its statement journal, the pages it saves there) once. The
    statements have a few sizes only (_CHUNKS), so that their compiled forms stay cached."""
    i, n = 0, len(rows)
    most = _MAX_PARAMS // sql.count("?")
    for size in _CHUNKS:
        if size > most:
            continue
        while n - i >= size:
            key = (sql, size)
            many = _MANY_ROWS.get(key)
            if many is None:
                head, _, one = sql.partition(" VALUES ")
                many = _MANY_ROWS[key] = f"{head} VALUES {', '.join([one] * size)}"
            conn.execute(many, list(chain.from_iterable(rows[i:i + size])))
            i += size


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
    with db.atomic():
        return write_plan(db, plan_session(db, session_id, row[0], prepared, extractor, cache, texts))


class Planner:
    """Plans the storing of sessions' proposals made ahead by the import workers, in session id
    order, while the import is still running (see importers.pipeline.Importer._plan_ahead): the
    serial work after the import is then writing the plans. propose_sessions writes them when
    they are exactly what it would decide itself (see take); else it decides again."""

    def __init__(self, db: SqliteDatabase, extractor: str) -> None:
        self.db = db
        self.extractor = extractor
        self.cache = CandidateCache()
        # (session id, its ReadyProposals, its SessionRecord when planned, the plan)
        self.plans: list[tuple[int, object, object, SessionPlan]] = []
        self.state: PlanState | None = None
        self.first_id = 0
        self.first_batch = 0
        self.version = _data_version(db)
        self.changes: int | None = None  # the connection's total_changes when the import ended (seal)
        self.broken = False

    def seal(self) -> None:
        """The import is over: from now on nothing may write before the plans are taken."""
        self.changes = self.db.connection().total_changes

    def add(self, session, ready) -> None:
        """Plan `session` (a SessionRecord, the next in id order) with its ReadyProposals."""
        try:
            if self.state is None:
                self.first_id, self.first_batch = _next_ids(self.db)
                self.state = PlanState(self.first_id, self.first_batch)
            plan = plan_session(
                self.db, session.id, session.project_id, ready.prepared, self.extractor, self.cache, None, self.state
            )
        except Exception:  # (propose_sessions meets it again, in its place)
            self.broken = True
            return
        self.plans.append((session.id, ready, session, plan))

    def take(self, db: SqliteDatabase, session_ids: Sequence[int], ready: Mapping, extractor: str) -> list | None:
        """The plans, when they hold for the first of `session_ids`: the same sessions in the same
        order with the same proposals (`ready`, checked by identity), the same extractor, and no
        other connection has written since planning began (PRAGMA data_version) nor this one since
        the import ended (total_changes): the memories, the journal and the sessions are what the
        plans were made from. Else None."""
        plans = self.plans
        if not plans or self.broken or extractor != self.extractor or len(plans) > len(session_ids):
            return None
        if db is not self.db or self.changes is None or db.connection().total_changes != self.changes:
            return None
        if _data_version(db) != self.version:
            return None
        for (sid, pre, _, _), want in zip(plans, session_ids):
            if sid != want or ready.get(sid) is not pre:
                return None
        if _next_ids(db) != (self.first_id, self.first_batch):
            return None
        return plans


def _next_ids(db: SqliteDatabase) -> tuple[int, int]:
    """The id of the next memory and the next journal batch (see PlanState)."""
    return db.execute_sql(
        "SELECT (SELECT COALESCE(MAX(id), 0) + 1 FROM memory), (SELECT COALESCE(MAX(batch), 0) + 1 FROM event)"
    ).fetchone()


def _data_version(db: SqliteDatabase) -> int:
    return db.connection().execute("PRAGMA data_version").fetchone()[0]
