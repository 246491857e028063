"""Opening the database: location, pragmas, schema creation and migrations."""

from __future__ import annotations

import os
from pathlib import Path

from peewee import SqliteDatabase

from memtui.core import rank
from memtui.core.models import ALL_MODELS, Memory, Meta, database_proxy

SCHEMA_VERSION = 3  # 2: memory.clean_stamp and the export's indexes; 3: memory_json (see _migrate)

PRAGMAS = {
    "journal_mode": "wal",  # readers (the TUI) keep reading while an import writes
    "busy_timeout": 10_000,  # ms a writer waits for another writer before giving up
    "synchronous": "normal",  # safe with WAL; a crash loses at most the last commit
    "foreign_keys": 1,
    "cache_size": -32_000,  # KiB
    "temp_store": "memory",
    # reads map the file instead of copying each page out of the OS cache: a large export reads
    # 20-70 MB (address space only; SQLite writes with write() as before)
    "mmap_size": 1 << 30,
}

FTS_SQL = [
    # External-content FTS5 index over message text: the text is stored once, in `message`.
    "CREATE VIRTUAL TABLE IF NOT EXISTS message_fts USING fts5("
    "text, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    # Messages not yet in message_fts are those with an id above message_fts_mark.id (one row) and
    # those listed in message_fts_pending. Writers index them with index_pending(): the import does
    # so every few files (pipeline.FTS_BATCH_*) and at the end of its run, and open_database()
    # indexes whatever a run cut short left. Indexing many messages in one statement instead of one
    # trigger call per row matters: FTS5 writes a new index segment at every statement savepoint,
    # so a per-row trigger writes (and then merges) one per message. New messages take ids above
    # the mark (the largest id + 1), so no trigger runs for them at all (memtui used to list each
    # one in message_fts_pending by a trigger: ~4% of the importing process's instructions); the
    # table lists only those a writer inserts below the mark with an id of its own (memtui does not).
    "CREATE TABLE IF NOT EXISTS message_fts_pending (id INTEGER PRIMARY KEY)",
]
# FTS5 holds what a writer indexes in memory up to this many bytes of index data (default 1 MiB)
# before it writes an index segment, which automerge later merges with others (each merge rewrites
# them: a third of the import's indexing work). A larger batch of index_pending then writes one
# segment instead of one per MiB. Memory is bounded by the batch anyway (pipeline.FTS_BATCH_*).
FTS_HASH_BYTES = 16 << 20
# FTS5 merges the segments of a level once it holds `automerge` of them (default 4). An import of
# the benchmark's 1,000 files writes 5 (pipeline.FTS_BATCH_*, FTS_LAST_FILES), which the default
# merges during the import (12% of its indexing work); with 8, a few imports' segments are merged
# at once. Searches on the benchmark's store took the same time either way (9 queries: 117 vs 119 ms).
FTS_AUTOMERGE = 8
MARK_SQL = "CREATE TABLE message_fts_mark (id INTEGER NOT NULL)"
_MARK = "(SELECT id FROM message_fts_mark)"
_TOP = "(SELECT COALESCE(MAX(id), 0) FROM message)"
FTS_TRIGGERS = {
    # a message indexed (at or below the mark, not pending) leaves the index with its row; when the
    # mark is above every id left, it comes down to the largest, so that the ids SQLite gives the
    # next messages (the largest + 1) are above it again
    "message_ad": "CREATE TRIGGER message_ad AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) SELECT 'delete', old.id, old.text"
    f" WHERE old.id <= {_MARK} AND NOT EXISTS (SELECT 1 FROM message_fts_pending WHERE id = old.id); "
    "DELETE FROM message_fts_pending WHERE id = old.id; "
    f"UPDATE message_fts_mark SET id = {_TOP} WHERE id > {_TOP}; END",
    "message_au": "CREATE TRIGGER message_au AFTER UPDATE OF text ON message"
    f" WHEN old.id <= {_MARK} AND NOT EXISTS (SELECT 1 FROM message_fts_pending WHERE id = old.id) BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
}
OLD_FTS_TRIGGERS = ("message_ai",)  # memtui before the mark listed every new message in message_fts_pending


def index_pending(conn) -> None:
    """Add the messages inserted since the last call to the full-text index (call it inside the
    transaction that inserted them, before committing). `conn` is a sqlite3 connection."""
    (mark,) = conn.execute("SELECT id FROM message_fts_mark").fetchone()
    conn.execute("INSERT INTO message_fts(rowid, text) SELECT id, text FROM message WHERE id > ? ORDER BY id", (mark,))
    conn.execute(
        "INSERT INTO message_fts(rowid, text) SELECT m.id, m.text FROM message_fts_pending p JOIN message m"
        " ON m.id = p.id WHERE p.id <= ? ORDER BY p.id", (mark,)
    )
    conn.execute("DELETE FROM message_fts_pending")
    conn.execute(f"UPDATE message_fts_mark SET id = {_TOP} WHERE id < {_TOP}")


def _unindexed(db: SqliteDatabase) -> bool:
    """Whether messages wait for index_pending (left by a writer that committed without it)."""
    return bool(db.execute_sql(
        "SELECT EXISTS (SELECT 1 FROM message_fts_pending) OR EXISTS (SELECT 1 FROM message WHERE id > (SELECT id FROM message_fts_mark))"
    ).fetchone()[0])


def _fts_mark(db: SqliteDatabase, triggers: dict[str, str]) -> None:
    """message_fts_mark, on a new store or one whose writers listed every new message in
    message_fts_pending (a trigger of memtui before the mark): each message is then indexed or
    pending, so the mark starts at the largest id. Should its row be gone, or an older memtui have
    written since (its trigger is back: it indexed messages above the mark itself), what is indexed
    is not known: the index is rebuilt, once."""
    if not db.execute_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_fts_mark'").fetchone():
        db.execute_sql(MARK_SQL)
    elif db.execute_sql("SELECT 1 FROM message_fts_mark").fetchone() and not set(OLD_FTS_TRIGGERS) & set(triggers):
        return
    else:
        db.execute_sql("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
        db.execute_sql("DELETE FROM message_fts_pending")
        db.execute_sql("DELETE FROM message_fts_mark")
    db.execute_sql(f"INSERT INTO message_fts_mark (id) SELECT {_TOP}")


# Whatever writes a memory's text (memtui, an older memtui, raw SQL) makes it unchecked again.
CLEAN_STAMP_TRIGGER = (
    "CREATE TRIGGER memory_text_au AFTER UPDATE OF text ON memory WHEN old.clean_stamp IS NOT NULL BEGIN "
    "UPDATE memory SET clean_stamp = NULL WHERE id = new.id; END"
)


# The approved texts an export has still to check for secrets (few: see core/stamps.py).
UNCHECKED_INDEX = (
    "CREATE INDEX IF NOT EXISTS memory_unchecked ON memory(id)"
    " WHERE status = 'approved' AND forgotten_at IS NULL AND clean_stamp IS NULL"
)


def _clean_stamp(db: SqliteDatabase) -> None:
    """memory.clean_stamp (see core/stamps.py) on a store made before it, the trigger that clears
    it and the index of the unchecked texts."""
    columns = {r[1] for r in db.execute_sql("PRAGMA table_info(memory)").fetchall()}
    if "clean_stamp" not in columns:
        db.execute_sql("ALTER TABLE memory ADD COLUMN clean_stamp INTEGER")
    db.execute_sql(UNCHECKED_INDEX)
    row = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'memory_text_au'").fetchone()
    if not row or row[0] != CLEAN_STAMP_TRIGGER:
        db.execute_sql("DROP TRIGGER IF EXISTS memory_text_au")
        db.execute_sql(CLEAN_STAMP_TRIGGER)


# The JSON form of the exportable memories, one piece per memory, in rank order (rank.py): a JSON
# export of a scope joins the pieces instead of building 100,000 objects (export._whole_json). A
# piece is made by an export and marked by memory.json_ready = 1; whatever changes what it says
# (any column of the memory, its evidence, the external id of a message it quotes, its session's
# id or tool, its project's root) sets json_ready to NULL and lists the memory in
# memory_json_stale (its piece is out of date), by these triggers, whoever writes: memtui, raw
# SQL, a foreign key's ON DELETE. A new row has no piece.
JSON_SQL = [
    "CREATE TABLE IF NOT EXISTS memory_json (grp INTEGER NOT NULL, last_seen_at REAL NOT NULL,"
    " id INTEGER NOT NULL, tier TEXT NOT NULL, pinned INTEGER NOT NULL, project_id INTEGER, piece BLOB NOT NULL,"
    " PRIMARY KEY (grp, last_seen_at DESC, id DESC)) WITHOUT ROWID",
    "CREATE UNIQUE INDEX IF NOT EXISTS memory_json_id ON memory_json(id)",
    # the exportable memories without a piece (few, as memory_unchecked)
    "CREATE INDEX IF NOT EXISTS memory_json_missing ON memory(id)"
    " WHERE status = 'approved' AND forgotten_at IS NULL AND json_ready IS NULL",
    # the memories whose piece went out of date: an export leaves their pieces out and, when it can
    # write, deletes them (deleting 50,000 pieces one by one in the triggers doubled a bulk forget)
    "CREATE TABLE IF NOT EXISTS memory_json_stale (id INTEGER PRIMARY KEY)",
]
_STALE = "UPDATE memory SET json_ready = NULL WHERE json_ready IS NOT NULL AND"
_GONE = "INSERT OR IGNORE INTO memory_json_stale (id) VALUES (old.id);"
_PIECE_COLUMNS = [f.column_name for f in Memory._meta.sorted_fields if f.column_name not in ("clean_stamp", "fingerprint")]
JSON_TRIGGERS = {
    # any column but the two no piece shows (so that stamping a text clean keeps its piece)
    "memory_json_au": f"CREATE TRIGGER memory_json_au AFTER UPDATE OF {', '.join(_PIECE_COLUMNS)} ON memory"
    f" WHEN old.json_ready IS NOT NULL BEGIN {_GONE} {_STALE} id = new.id; END",
    "memory_json_ad": f"CREATE TRIGGER memory_json_ad AFTER DELETE ON memory WHEN old.json_ready IS NOT NULL BEGIN {_GONE} END",
    "evidence_json_ai": "CREATE TRIGGER evidence_json_ai AFTER INSERT ON evidence BEGIN "
    f"{_STALE} id = new.memory_id; END",
    "evidence_json_au": "CREATE TRIGGER evidence_json_au AFTER UPDATE ON evidence BEGIN "
    f"{_STALE} id IN (old.memory_id, new.memory_id); END",
    "evidence_json_ad": "CREATE TRIGGER evidence_json_ad AFTER DELETE ON evidence BEGIN "
    f"{_STALE} id = old.memory_id; END",
    "message_json_au": "CREATE TRIGGER message_json_au AFTER UPDATE OF id, external_id ON message"
    " WHEN old.external_id IS NOT new.external_id OR old.id IS NOT new.id BEGIN "
    f"{_STALE} id IN (SELECT memory_id FROM evidence WHERE message_id IN (old.id, new.id)); END",
    "session_json_au": "CREATE TRIGGER session_json_au AFTER UPDATE OF id, external_id, tool ON session"
    " WHEN old.external_id IS NOT new.external_id OR old.tool IS NOT new.tool OR old.id IS NOT new.id BEGIN "
    f"{_STALE} session_id IN (old.id, new.id); END",
    "project_json_au": "CREATE TRIGGER project_json_au AFTER UPDATE OF id, root ON project"
    " WHEN old.root IS NOT new.root OR old.id IS NOT new.id BEGIN "
    f"{_STALE} project_id IN (old.id, new.id); END",
}


def _json_parts(db: SqliteDatabase) -> None:
    """memory.json_ready, memory_json, their indexes and triggers (schema 3)."""
    columns = {r[1] for r in db.execute_sql("PRAGMA table_info(memory)").fetchall()}
    if "json_ready" not in columns:
        db.execute_sql("ALTER TABLE memory ADD COLUMN json_ready INTEGER")
    for sql in JSON_SQL:
        db.execute_sql(sql)
    triggers = dict(db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    for name, sql in JSON_TRIGGERS.items():
        if triggers.get(name) != sql:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
            db.execute_sql(sql)
            # a piece made while the trigger was missing or different cannot be trusted
            db.execute_sql("DELETE FROM memory_json")
            db.execute_sql("UPDATE memory SET json_ready = NULL WHERE json_ready IS NOT NULL")
            db.execute_sql("DELETE FROM memory_json_stale")


def _rank_index(db: SqliteDatabase) -> None:
    """The export's index (see rank.py): made when missing (0.5 s for 100,000 approved
    memories, once), and any other version of it dropped."""
    names = [r[0] for r in db.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'memory' AND name LIKE 'memory_rank%'"
    ).fetchall()]
    for name in names:
        if name != rank.INDEX_NAME:
            db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    if rank.INDEX_NAME not in names:
        db.execute_sql(rank.INDEX_SQL)


# Indexes memtui no longer makes, dropped from older stores when they are opened. message(session_id):
# every query by session (and the foreign key's cascade) uses message's (session_id, external_id)
# or (session_id, position) index instead, so it only cost its upkeep at each message insert.
# evidence(memory_id): the unique (memory_id, message_id) index serves every query by memory and the
# foreign key's cascade (they sort the few rows of a memory by id themselves); its upkeep was a
# fifth of the cost of an evidence insert (~2,200 instructions a row).
OLD_INDEXES = ("message_session_id", "evidence_memory_id")


def _old_indexes(db: SqliteDatabase) -> bool:
    return bool(db.execute_sql(
        f"SELECT 1 FROM sqlite_master WHERE type = 'index' AND name IN ({','.join('?' * len(OLD_INDEXES))})",
        OLD_INDEXES,
    ).fetchone())


def _fts_config_set(db: SqliteDatabase) -> bool:
    """Whether message_fts has memtui's hashsize and automerge."""
    return dict(db.execute_sql(
        "SELECT k, v FROM message_fts_config WHERE k IN ('hashsize', 'automerge')").fetchall()
    ) == {"hashsize": FTS_HASH_BYTES, "automerge": FTS_AUTOMERGE}


class DatabaseError(Exception):
    """The database cannot be opened or is not a memtui database."""


def default_db_path() -> Path:
    """MEMTUI_DB if set, else memtui.db in the user data directory."""
    env = os.environ.get("MEMTUI_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("memtui", appauthor=False)) / "memtui.db"


def open_database(path: str | os.PathLike | None = None) -> SqliteDatabase:
    """Open (creating if needed) the database at `path` and bind the models to it."""
    db_path = Path(path).expanduser() if path else default_db_path()
    if db_path.exists() and db_path.is_dir():
        raise DatabaseError(f"{db_path} is a directory, not a database file")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create {db_path.parent}: {exc.strerror}") from None
    # lock_type IMMEDIATE: a transaction (db.atomic()) takes the write lock when it begins, so it
    # waits up to busy_timeout for another writer (an import, the TUI, the CLI). A deferred one
    # that reads first and then writes gets "database is locked" at once instead: SQLite cannot
    # wait to upgrade a read transaction to a write one in WAL mode.
    db = SqliteDatabase(str(db_path), pragmas=PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")
    database_proxy.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        _migrate(db)
    except Exception as exc:  # sqlite3.DatabaseError: "file is not a database", locked, ...
        db.close()
        raise DatabaseError(f"cannot open database {db_path}: {exc}") from None
    return db


def _migrate(db: SqliteDatabase) -> None:
    with db.atomic("DEFERRED"):  # usually reads only: no need to wait for a running import
        db.create_tables(ALL_MODELS, safe=True)
        for sql in FTS_SQL:
            db.execute_sql(sql)
        triggers = dict(db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        _fts_mark(db, triggers)
        for name in OLD_FTS_TRIGGERS:
            if name in triggers:
                db.execute_sql(f"DROP TRIGGER {name}")
        for name, sql in FTS_TRIGGERS.items():
            if triggers.get(name) != sql:  # new database, or one made with older triggers
                db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
                db.execute_sql(sql)
        if _unindexed(db):
            index_pending(db.connection())  # left by a writer that committed without indexing
        row = Meta.get_or_none(Meta.key == "schema_version")
        if row is None:  # a new database: its tables were made as the models are now
            row = Meta.create(key="schema_version", value=str(SCHEMA_VERSION))
        elif int(row.value) > SCHEMA_VERSION:
            raise DatabaseError(
                f"database schema {row.value} is newer than this memtui ({SCHEMA_VERSION}); upgrade memtui"
            )
        version = int(row.value)
        ready = version >= SCHEMA_VERSION and _export_parts_ready(db) and not _old_indexes(db) and _fts_config_set(db)
    if not ready:
        # 2: memory.clean_stamp, its trigger and index, and the export's rank index; 3: the JSON
        # pieces; the indexes memtui no longer makes (an older memtui makes them again: they are
        # dropped at each open after it); message_fts's hashsize and automerge. IMMEDIATE: it
        # writes, so it waits (busy_timeout) for a running import instead of failing at once.
        with db.atomic("IMMEDIATE"):
            for name in OLD_INDEXES:
                db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
            db.execute_sql("INSERT INTO message_fts(message_fts, rank) VALUES ('hashsize', ?)", (FTS_HASH_BYTES,))
            db.execute_sql("INSERT INTO message_fts(message_fts, rank) VALUES ('automerge', ?)", (FTS_AUTOMERGE,))
            _clean_stamp(db)
            _rank_index(db)
            _json_parts(db)
            db.execute_sql("UPDATE meta SET value = ? WHERE key = 'schema_version' AND CAST(value AS INTEGER) < ?",
                           (str(SCHEMA_VERSION), SCHEMA_VERSION))
    # Future migrations: `if version < 4: ...` and the schema_version row set to "4".


def _export_parts_ready(db: SqliteDatabase) -> bool:
    """Whether the export's triggers, tables and indexes (schemas 2 and 3) are there as this
    version makes them."""
    names = ("memory_text_au", "memory_unchecked", "memory_json", "memory_json_id", "memory_json_missing",
             "memory_json_stale", *JSON_TRIGGERS)
    found = dict(db.execute_sql(
        f"SELECT name, sql FROM sqlite_master WHERE name IN ({','.join('?' * len(names))})"
        " OR (tbl_name = 'memory' AND name LIKE 'memory_rank%')", (*names, )
    ).fetchall())
    return (found.get("memory_text_au") == CLEAN_STAMP_TRIGGER
            and all(found.get(n) == sql for n, sql in JSON_TRIGGERS.items())
            and set(found) == {*names, rank.INDEX_NAME})
