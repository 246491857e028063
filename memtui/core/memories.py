"""Memories: review actions, the journal (undo/redo), JSON export and load.

Every change to a memory is written to the `event` journal as one batch per user action, with
the changed fields before and after, so `undo` and `redo` (from the CLI or the TUI) replay it
either way. Creating proposals and reinforcing them are journalled too, but are not user actions:
undo steps over them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

import orjson
from peewee import SqliteDatabase

from memtui.core.extract.dedupe import fingerprint
from memtui.core.models import KINDS, STATUSES, TIERS
from memtui.core.records import EvidenceRecord, MemoryRecord
from memtui.core.redact import clean
from memtui.core.stamps import stamp_memories

MAX_TEXT = 2000
QUOTE_LEN = 200
USER_ACTIONS = (
    "add", "approve", "reject", "unreview", "pin", "unpin", "edit", "forget", "restore", "purge", "load",
)
SYSTEM_ACTIONS = ("propose", "reinforce")
_FIELDS = (
    "tier", "kind", "text", "status", "pinned", "confidence", "project_id", "session_id", "extractor",
    "fingerprint", "supersedes_id", "created_at", "updated_at", "last_seen_at", "forgotten_at",
)
_COLUMNS = (
    "m.id, m.tier, m.kind, m.text, m.status, m.pinned, m.confidence, m.project_id, p.root, m.session_id,"
    " s.external_id, m.extractor, m.created_at, m.updated_at, m.last_seen_at, m.forgotten_at, m.supersedes_id"
)
_FROM = " FROM memory m LEFT JOIN project p ON p.id = m.project_id LEFT JOIN session s ON s.id = m.session_id"


class MemoryError_(ValueError):
    """A request the store cannot carry out (unknown id, bad tier, ...): one-line message."""


# --- reading -------------------------------------------------------------------------------


def _evidence_for(db: SqliteDatabase, ids: Sequence[int]) -> dict[int, list[EvidenceRecord]]:
    out: dict[int, list[EvidenceRecord]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for mid, msg_id, quote, sid, pos in db.execute_sql(
            "SELECT e.memory_id, e.message_id, e.quote, msg.session_id, msg.position FROM evidence e"
            f" LEFT JOIN message msg ON msg.id = e.message_id WHERE e.memory_id IN ({marks}) ORDER BY e.id",
            chunk,
        ):
            out.setdefault(mid, []).append(EvidenceRecord(msg_id, quote, sid, pos))
    return out


def _records(db: SqliteDatabase, rows: list, with_evidence: bool = True) -> list[MemoryRecord]:
    evidence = _evidence_for(db, [r[0] for r in rows]) if with_evidence and rows else {}
    return [
        MemoryRecord(
            r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
            r[15], r[16], tuple(evidence.get(r[0], ())),
        )
        for r in rows
    ]


def get_memory(db: SqliteDatabase, memory_id: int) -> MemoryRecord | None:
    rows = db.execute_sql(f"SELECT {_COLUMNS}{_FROM} WHERE m.id = ?", (memory_id,)).fetchall()
    return _records(db, rows)[0] if rows else None


def project_filter(project: str) -> tuple[str, list]:
    """SQL matching a project given as its root path (or a path inside it) or its exact name."""
    path = os.path.abspath(os.path.expanduser(project))
    return (
        "(p.root = ? OR p.root = ? OR ? LIKE p.root || '/%' OR p.name = ?)",
        [project.rstrip("/"), path, path, project],
    )


def list_memories(
    db: SqliteDatabase,
    *,
    tier: str | None = None,
    status: str | None = None,
    project: str | None = None,
    kind: str | None = None,
    pinned: bool | None = None,
    session_id: int | None = None,
    forgotten: bool = False,
    limit: int | None = None,
    offset: int = 0,
    order: str = "recent",
    with_evidence: bool = True,
) -> list[MemoryRecord]:
    where = ["m.forgotten_at IS NOT NULL" if forgotten else "m.forgotten_at IS NULL"]
    args: list = []
    if tier:
        where.append("m.tier = ?")
        args.append(tier)
    if status:
        where.append("m.status = ?")
        args.append(status)
    if kind:
        where.append("m.kind = ?")
        args.append(kind)
    if pinned is not None:
        where.append("m.pinned = ?")
        args.append(1 if pinned else 0)
    if session_id is not None:
        where.append("m.session_id = ?")
        args.append(session_id)
    if project:
        sql, pargs = project_filter(project)
        where.append(sql)
        args += pargs
    orders = {
        "recent": "m.last_seen_at DESC, m.id DESC",
        "created": "m.created_at DESC, m.id DESC",
        "confidence": "m.confidence DESC, m.id",
        "id": "m.id",
        "session": "m.id",
    }
    sql = f"SELECT {_COLUMNS}{_FROM} WHERE {' AND '.join(where)} ORDER BY {orders.get(order, orders['recent'])}"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        args += [limit, offset]
    return _records(db, db.execute_sql(sql, args).fetchall(), with_evidence)


# --- the journal ---------------------------------------------------------------------------


def _row_state(db: SqliteDatabase, memory_id: int, with_evidence: bool = False) -> dict | None:
    row = db.execute_sql(f"SELECT {', '.join(_FIELDS)} FROM memory WHERE id = ?", (memory_id,)).fetchone()
    if row is None:
        return None
    state = dict(zip(_FIELDS, row))
    if with_evidence:
        state["evidence"] = [
            [m, q] for m, q in db.execute_sql(
                "SELECT message_id, quote FROM evidence WHERE memory_id = ? ORDER BY id", (memory_id,)
            )
        ]
    return state


REDO_DROPPED = 2  # event.undone: undone, then a new action was taken, so it can no longer be redone


def _new_batch(db: SqliteDatabase, *, user: bool) -> int:
    """The next journal batch number. A new user action ends what redo could bring back (as in
    any editor: undo A, do B, undo B, redo brings back B, never A); system actions (propose,
    reinforce) do not, so an import between an undo and its redo changes nothing."""
    if user:
        db.execute_sql("UPDATE event SET undone = ? WHERE undone = 1", (REDO_DROPPED,))
    (batch,) = db.execute_sql("SELECT COALESCE(MAX(batch), 0) + 1 FROM event").fetchone()
    return batch


class Journal:
    """Collects the events of one action; written in one go by `commit`."""

    def __init__(self, db: SqliteDatabase, action_default: str) -> None:
        self.db = db
        self.action = action_default
        self.events: list[tuple] = []
        self.now = time.time()

    def add(self, memory_id: int, action: str, before: dict | None, after: dict | None) -> None:
        self.events.append(
            (
                memory_id,
                action,
                None if before is None else orjson.dumps(before).decode(),
                None if after is None else orjson.dumps(after).decode(),
            )
        )

    def commit(self) -> int | None:
        if not self.events:
            return None
        batch = _new_batch(self.db, user=any(e[1] in USER_ACTIONS for e in self.events))
        self.db.connection().executemany(
            "INSERT INTO event (batch, memory, action, before, after, at, undone) VALUES (?, ?, ?, ?, ?, ?, 0)",
            [(batch, m, a, b, af, self.now) for m, a, b, af in self.events],
        )
        return batch


def _apply(db: SqliteDatabase, memory_id: int, state: dict | None, full: bool) -> None:
    """Put a memory into `state`: None deletes it; a full state (re)creates it; else update fields."""
    if state is None:
        db.execute_sql("DELETE FROM memory WHERE id = ?", (memory_id,))
        return
    fields = {k: v for k, v in state.items() if k != "evidence"}
    exists = db.execute_sql("SELECT 1 FROM memory WHERE id = ?", (memory_id,)).fetchone()
    if full and not exists:
        cols = ["id", *fields]
        db.execute_sql(
            f"INSERT INTO memory ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [memory_id, *fields.values()],
        )
    elif fields:
        db.execute_sql(
            f"UPDATE memory SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?", [*fields.values(), memory_id]
        )
    if "evidence" in state:
        db.execute_sql("DELETE FROM evidence WHERE memory_id = ?", (memory_id,))
        for message_id, quote in state["evidence"]:
            if message_id is not None and not db.execute_sql(
                "SELECT 1 FROM message WHERE id = ?", (message_id,)
            ).fetchone():
                message_id = None
            db.execute_sql(
                "INSERT OR IGNORE INTO evidence (memory_id, message_id, quote) VALUES (?, ?, ?)",
                (memory_id, message_id, quote),
            )


@dataclass(frozen=True)
class UndoResult:
    batch: int
    action: str
    memory_ids: tuple[int, ...]


def _user_action_sql() -> str:
    return "(" + ",".join(f"'{a}'" for a in USER_ACTIONS) + ")"


def undo(db: SqliteDatabase) -> UndoResult | None:
    """Revert the newest user action that is not undone yet."""
    with db.atomic():
        row = db.execute_sql(
            f"SELECT MAX(batch) FROM event WHERE undone = 0 AND action IN {_user_action_sql()}"
        ).fetchone()
        if not row or row[0] is None:
            return None
        return _replay(db, row[0], undoing=True)


def redo(db: SqliteDatabase) -> UndoResult | None:
    """Re-apply the action undone last, unless a new action has been taken since."""
    with db.atomic():
        (active,) = db.execute_sql(
            f"SELECT COALESCE(MAX(batch), 0) FROM event WHERE undone = 0 AND action IN {_user_action_sql()}"
        ).fetchone()
        row = db.execute_sql(
            f"SELECT MIN(batch) FROM event WHERE undone = 1 AND batch > ? AND action IN {_user_action_sql()}",
            (active,),
        ).fetchone()
        if not row or row[0] is None:
            return None
        return _replay(db, row[0], undoing=False)


def _replay(db: SqliteDatabase, batch: int, undoing: bool) -> UndoResult:
    target, other = ("before", "after") if undoing else ("after", "before")
    events = db.execute_sql(
        f"SELECT memory, action, {target}, {other} IS NULL FROM event WHERE batch = ? ORDER BY id "
        + ("DESC" if undoing else "ASC"),
        (batch,),
    ).fetchall()
    run: tuple = ()  # the fields of the run of field updates collected in `params`, written by executemany
    params: list[list] = []
    loads = orjson.loads
    for memory_id, _, state_json, created in events:
        state = loads(state_json) if state_json else None
        partial = state is not None and not created and "evidence" not in state
        if params and (not partial or tuple(state) != run):
            _update_many(db, run, params)
            params = []
        if partial:
            run = tuple(state)
            params.append([*state.values(), memory_id])
        else:  # a create/purge carries the full state on one side and None on the other
            _apply(db, memory_id, state, full=bool(created))
    if params:
        _update_many(db, run, params)
    db.execute_sql("UPDATE event SET undone = ? WHERE batch = ?", (1 if undoing else 0, batch))
    return UndoResult(batch, events[0][1], tuple(sorted({e[0] for e in events})))


def _update_many(db: SqliteDatabase, fields: tuple, params: list[list]) -> None:
    if fields:
        db.connection().executemany(f"UPDATE memory SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?", params)


# --- user actions --------------------------------------------------------------------------


def _id_list(ids: Sequence[int]) -> str:
    """Ids as a JSON array: `id IN (SELECT value FROM json_each(?))` takes any number of them."""
    return orjson.dumps(list(ids)).decode()


def _existing(db: SqliteDatabase, ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    (found,) = db.execute_sql(
        "SELECT COUNT(*) FROM memory WHERE id IN (SELECT value FROM json_each(?))", (_id_list(ids),)
    ).fetchone()
    if found != len(ids):
        present = {
            r[0] for r in db.execute_sql("SELECT id FROM memory WHERE id IN (SELECT value FROM json_each(?))", (_id_list(ids),))
        }
        missing = [i for i in ids if i not in present]
        raise MemoryError_(f"no memory with id {', '.join(map(str, missing[:10]))}")
    return ids


_REAL_FIELDS = frozenset({"confidence", "created_at", "updated_at", "last_seen_at", "forgotten_at"})


def _json_sql(fields: Sequence[str], extra: str = "") -> str:
    """SQL building the JSON object of `fields` of memory `m`, as orjson would write it (floats with
    17 significant digits, so they read back exactly; json_object writes 15), and `extra` members
    (SQL giving `"name":value`)."""
    parts = []
    for f in fields:
        value = (
            f"CASE WHEN m.{f} IS NULL THEN 'null' ELSE printf('%!.17g', m.{f}) END" if f in _REAL_FIELDS
            else f"json_quote(m.{f})"
        )
        parts.append(f"'\"{f}\":' || {value}")
    if extra:
        parts.append(extra)
    return "'{' || " + " || ',' || ".join(parts) + " || '}'"


def _change_many(
    db: SqliteDatabase, ids: list[int], action: str, field: str, value, condition: str | None = None
) -> list[int]:
    """`_change` of one field, set-based: the journal rows (whose RETURNING says
    which memories change) and the update are one statement each. `condition` (SQL on memory `m`)
    picks the memories to change; by default those where the field differs."""
    now = time.time()
    where = f"m.id IN (SELECT value FROM json_each(?)) AND ({condition or f'm.{field} IS NOT ?'})"
    args = (_id_list(ids),) if condition else (_id_list(ids), value)
    with db.atomic():
        batch = _new_batch(db, user=True)
        after = orjson.dumps({field: value, "updated_at": now}).decode()
        changed = {r[0] for r in db.execute_sql(
            "INSERT INTO event (batch, memory, action, before, after, at, undone)"
            f" SELECT ?, m.id, ?, {_json_sql((field, 'updated_at'))}, ?, ?, 0 FROM memory m WHERE {where} ORDER BY m.id"
            " RETURNING memory",
            (batch, action, after, now, *args),
        )}
        unchanged = [i for i in ids if i not in changed]
        if unchanged:
            _existing(db, unchanged)  # an unknown id: refused, and the transaction rolled back
        if changed:
            db.execute_sql(
                f"UPDATE memory SET {field} = ?, updated_at = ? WHERE id IN (SELECT memory FROM event WHERE batch = ?)",
                (value, now, batch),
            )
    return [i for i in ids if i in changed]


def _change(db: SqliteDatabase, ids: Iterable[int], action: str, changes: dict) -> list[int]:
    """Set `changes` on each memory where it differs, journalled as one batch; returns changed ids."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    if len(changes) == 1 and len(ids) > 1:
        ((field, value),) = changes.items()
        return _change_many(db, ids, action, field, value)
    ids = _existing(db, ids)
    fields = list(changes)
    now = time.time()
    journal = Journal(db, action)
    by_keys: dict[tuple, list[list]] = {}  # rows grouped by which fields changed, for executemany
    with db.atomic():
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            rows = db.execute_sql(
                f"SELECT id, updated_at, {', '.join(fields)} FROM memory WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                current = dict(zip(fields, row[2:]))
                diff = {k: v for k, v in changes.items() if current[k] != v}
                if not diff:
                    continue
                journal.add(row[0], action, {k: current[k] for k in diff} | {"updated_at": row[1]}, diff | {"updated_at": now})
                by_keys.setdefault(tuple(diff), []).append([*diff.values(), now, row[0]])
        for keys, params in by_keys.items():
            sets = ", ".join(f"{k} = ?" for k in (*keys, "updated_at"))
            db.connection().executemany(f"UPDATE memory SET {sets} WHERE id = ?", params)
        journal.commit()
    return [event[0] for event in journal.events]


def approve(db: SqliteDatabase, ids: Iterable[int]) -> list[int]:
    with db.atomic():
        changed = _change(db, ids, "approve", {"status": "approved"})
        stamp_memories(db, changed)  # checked for secrets now, so an export need not (core/stamps.py)
    return changed


def reject(db: SqliteDatabase, ids: Iterable[int]) -> list[int]:
    return _change(db, ids, "reject", {"status": "rejected"})


def unreview(db: SqliteDatabase, ids: Iterable[int]) -> list[int]:
    return _change(db, ids, "unreview", {"status": "proposed"})


def pin(db: SqliteDatabase, ids: Iterable[int], pinned: bool = True) -> list[int]:
    return _change(db, ids, "pin" if pinned else "unpin", {"pinned": 1 if pinned else 0})


def forget(db: SqliteDatabase, ids: Iterable[int]) -> list[int]:
    """Soft delete: into the trash, restorable until purged. Already forgotten ones stay as they are."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    return _change_many(db, ids, "forget", "forgotten_at", time.time(), "m.forgotten_at IS NULL")


def restore(db: SqliteDatabase, ids: Iterable[int]) -> list[int]:
    return _change(db, ids, "restore", {"forgotten_at": None})


def purge(db: SqliteDatabase, ids: Iterable[int]) -> list[int]:
    """Delete memories for good (journalled with their full state, so even this can be undone)."""
    ids = _existing(db, ids)
    id_list = _id_list(ids)
    state = _json_sql(_FIELDS, extra=(
        "'\"evidence\":' || (SELECT json_group_array(json_array(message_id, quote)) FROM"
        " (SELECT message_id, quote FROM evidence WHERE memory_id = m.id ORDER BY id))"
    ))
    with db.atomic():
        batch = _new_batch(db, user=True)
        db.execute_sql(
            "INSERT INTO event (batch, memory, action, before, after, at, undone)"
            f" SELECT ?, m.id, 'purge', {state}, NULL, ?, 0 FROM memory m"
            " WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id",
            (batch, time.time(), id_list),
        )
        db.execute_sql("DELETE FROM memory WHERE id IN (SELECT value FROM json_each(?))", (id_list,))
    return ids


def _check(tier: str | None, kind: str | None, status: str | None = None) -> None:
    if tier is not None and tier not in TIERS:
        raise MemoryError_(f"unknown tier {tier!r} (choose from {', '.join(TIERS)})")
    if kind is not None and kind not in KINDS:
        raise MemoryError_(f"unknown kind {kind!r} (choose from {', '.join(KINDS)})")
    if status is not None and status not in STATUSES:
        raise MemoryError_(f"unknown status {status!r} (choose from {', '.join(STATUSES)})")


def _clean_text(text: str) -> str:
    text = clean(text).strip()
    if not text:
        raise MemoryError_("a memory needs some text")
    if len(text) > MAX_TEXT:
        raise MemoryError_(f"a memory is at most {MAX_TEXT} characters (this one has {len(text)})")
    return text


def edit(
    db: SqliteDatabase,
    memory_id: int,
    *,
    text: str | None = None,
    tier: str | None = None,
    kind: str | None = None,
) -> list[int]:
    _check(tier, kind)
    changes: dict = {}
    if text is not None:
        changes["text"] = _clean_text(text)
        changes["fingerprint"] = fingerprint(changes["text"])
    if tier is not None:
        changes["tier"] = tier
    if kind is not None:
        changes["kind"] = kind
    if not changes:
        raise MemoryError_("nothing to change: give --text, --tier or --kind")
    with db.atomic():
        changed = _change(db, [memory_id], "edit", changes)
        if text is not None:
            stamp_memories(db, changed)  # the new text (the trigger cleared the old one's stamp)
    return changed


def set_tier(db: SqliteDatabase, ids: Iterable[int], tier: str) -> list[int]:
    _check(tier, None)
    return _change(db, ids, "edit", {"tier": tier})


def set_kind(db: SqliteDatabase, ids: Iterable[int], kind: str) -> list[int]:
    _check(None, kind)
    return _change(db, ids, "edit", {"kind": kind})


def project_id_for(db: SqliteDatabase, path: str, create: bool = True) -> int | None:
    """The project whose root is `path` or contains it; created (keyed by full path) if missing."""
    from memtui.core.importers.pipeline import find_git_root

    absolute = os.path.abspath(os.path.expanduser(path))
    row = db.execute_sql(
        "SELECT id FROM project WHERE root = ? OR ? LIKE root || '/%' ORDER BY LENGTH(root) DESC LIMIT 1",
        (absolute, absolute),
    ).fetchone()
    if row:
        return row[0]
    if not create:
        return None
    root = find_git_root(absolute) or absolute
    db.execute_sql(
        "INSERT OR IGNORE INTO project (root, name, created_at) VALUES (?, ?, ?)",
        (root, os.path.basename(root.rstrip("/")) or root, time.time()),
    )
    return db.execute_sql("SELECT id FROM project WHERE root = ?", (root,)).fetchone()[0]


def add(
    db: SqliteDatabase,
    text: str,
    *,
    tier: str = "project",
    kind: str = "fact",
    project: str | None = None,
    pinned: bool = False,
) -> int:
    """Remember something by hand: approved at once, because the person wrote it."""
    _check(tier, kind)
    text = _clean_text(text)
    now = time.time()
    with db.atomic():
        project_id = None
        if tier != "developer":
            project_id = project_id_for(db, project or os.getcwd())
        state = {
            "tier": tier, "kind": kind, "text": text, "status": "approved", "pinned": 1 if pinned else 0,
            "confidence": 1.0, "project_id": project_id, "session_id": None, "extractor": "manual",
            "fingerprint": fingerprint(text), "supersedes_id": None, "created_at": now, "updated_at": now,
            "last_seen_at": now, "forgotten_at": None,
        }
        cols = list(state)
        cur = db.execute_sql(
            f"INSERT INTO memory ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(state.values())
        )
        memory_id = cur.lastrowid
        journal = Journal(db, "add")
        journal.add(memory_id, "add", None, state | {"evidence": []})
        journal.commit()
        stamp_memories(db, [memory_id])
    return memory_id


# --- JSON export and load (the whole store, round trip) ------------------------------------

EXPORT_VERSION = 1


def export_store(db: SqliteDatabase, *, include_forgotten: bool = True) -> dict:
    """Every memory with its tier, status, pin, project, session and evidence quotes."""
    records = list_memories(db, order="id") + (list_memories(db, order="id", forgotten=True) if include_forgotten else [])
    records.sort(key=lambda r: r.id)
    sessions = {
        sid: (tool, ext)
        for sid, tool, ext in db.execute_sql("SELECT id, tool, external_id FROM session WHERE id IN "
                                             "(SELECT DISTINCT session_id FROM memory WHERE session_id IS NOT NULL)")
    }
    msg_ext = {}
    ids = [e.message_id for r in records for e in r.evidence if e.message_id is not None]
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for mid, ext in db.execute_sql(f"SELECT id, external_id FROM message WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            msg_ext[mid] = ext
    out = []
    for r in records:
        tool, ext = sessions.get(r.session_id, (None, None))
        out.append(
            {
                "id": r.id, "tier": r.tier, "kind": r.kind, "text": r.text, "status": r.status, "pinned": r.pinned,
                "confidence": r.confidence, "project": r.project_root, "session": ext, "tool": tool,
                "extractor": r.extractor, "created_at": r.created_at, "updated_at": r.updated_at,
                "last_seen_at": r.last_seen_at, "forgotten_at": r.forgotten_at, "supersedes": r.supersedes_id,
                "evidence": [
                    {"message_id": e.message_id, "message": msg_ext.get(e.message_id), "quote": e.quote} for e in r.evidence
                ],
            }
        )
    return {"memtui": EXPORT_VERSION, "memories": out}


@dataclass(frozen=True)
class LoadResult:
    created: int
    skipped: int


def load_store(db: SqliteDatabase, data: object) -> LoadResult:
    """Load a JSON export: recreate memories (idempotent: ones already present are skipped)."""
    if not isinstance(data, dict) or not isinstance(data.get("memories"), list):
        raise MemoryError_("not a memtui JSON export (no 'memories' list)")
    created = skipped = 0
    loaded: list[int] = []
    id_map: dict[int, int] = {}
    pending_supersedes: list[tuple[int, int]] = []
    with db.atomic():
        journal = Journal(db, "load")
        for i, item in enumerate(data["memories"]):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise MemoryError_(f"memory #{i + 1} in the file has no text")
            tier, kind, status = item.get("tier", "project"), item.get("kind", "fact"), item.get("status", "proposed")
            _check(tier, kind, status)
            text = _clean_text(item["text"])
            project_id = None
            if item.get("project"):
                project_id = project_id_for(db, item["project"])
            dup = db.execute_sql(
                "SELECT id FROM memory WHERE fingerprint = ? AND tier = ? AND project_id IS ?",
                (fingerprint(text), tier, project_id),
            ).fetchone()
            if dup:
                skipped += 1
                if isinstance(item.get("id"), int):
                    id_map[item["id"]] = dup[0]
                continue
            session_id = None
            if item.get("session"):
                row = db.execute_sql(
                    "SELECT id FROM session WHERE external_id = ? AND (tool = ? OR ? IS NULL)",
                    (item["session"], item.get("tool"), item.get("tool")),
                ).fetchone()
                session_id = row[0] if row else None
            now = time.time()
            state = {
                "tier": tier, "kind": kind, "text": text, "status": status, "pinned": 1 if item.get("pinned") else 0,
                "confidence": float(item.get("confidence") or 0.5), "project_id": project_id, "session_id": session_id,
                "extractor": str(item.get("extractor") or "load"), "fingerprint": fingerprint(text),
                "supersedes_id": None, "created_at": float(item.get("created_at") or now),
                "updated_at": float(item.get("updated_at") or now), "last_seen_at": float(item.get("last_seen_at") or now),
                "forgotten_at": float(item["forgotten_at"]) if item.get("forgotten_at") else None,
            }
            cols = list(state)
            memory_id = db.execute_sql(
                f"INSERT INTO memory ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(state.values())
            ).lastrowid
            evidence = []
            for ev in item.get("evidence") or []:
                if not isinstance(ev, dict):
                    continue
                message_id = None
                if session_id is not None and ev.get("message"):
                    row = db.execute_sql(
                        "SELECT id FROM message WHERE session_id = ? AND external_id = ?", (session_id, ev["message"])
                    ).fetchone()
                    message_id = row[0] if row else None
                quote = clean(str(ev.get("quote") or ""))[:QUOTE_LEN]
                db.execute_sql(
                    "INSERT OR IGNORE INTO evidence (memory_id, message_id, quote) VALUES (?, ?, ?)",
                    (memory_id, message_id, quote),
                )
                evidence.append([message_id, quote])
            if isinstance(item.get("id"), int):
                id_map[item["id"]] = memory_id
                if isinstance(item.get("supersedes"), int):
                    pending_supersedes.append((memory_id, item["supersedes"]))
            journal.add(memory_id, "load", None, state | {"evidence": evidence})
            loaded.append(memory_id)
            created += 1
        for memory_id, old in pending_supersedes:
            if old in id_map:
                db.execute_sql("UPDATE memory SET supersedes_id = ? WHERE id = ?", (id_map[old], memory_id))
        journal.commit()
        stamp_memories(db, loaded)
    return LoadResult(created, skipped)
