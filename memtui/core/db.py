"""Opening the database: location, pragmas, schema creation and migrations."""

from __future__ import annotations

import os
from pathlib import Path

from peewee import OperationalError, SqliteDatabase

from memtui.core import rank
from memtui.core.models import ALL_MODELS, Meta, database_proxy

SCHEMA_VERSION = 1

PRAGMAS = {
    "journal_mode": "wal",  # readers (the TUI) keep reading while an import writes
    "busy_timeout": 10_000,  # ms a writer waits for another writer before giving up
    "synchronous": "normal",  # safe with WAL; a crash loses at most the last commit
    "foreign_keys": 1,
    "cache_size": -32_000,  # KiB
    "temp_store": "memory",
}

FTS_SQL = [
    # External-content FTS5 index over message text: the text is stored once, in `message`.
    "CREATE VIRTUAL TABLE IF NOT EXISTS message_fts USING fts5("
    "text, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    # Messages inserted but not yet in message_fts. Writers index them with index_pending(): the
    # import does so every few files (pipeline.FTS_BATCH_*) and at the end of its run, and
    # open_database() indexes whatever a run cut short left. Indexing many messages in one
    # statement instead of one trigger call per row matters: FTS5 writes a new index segment at
    # every statement savepoint, so a per-row trigger writes (and then merges) one per message.
    "CREATE TABLE IF NOT EXISTS message_fts_pending (id INTEGER PRIMARY KEY)",
]
FTS_TRIGGERS = {
    "message_ai": "CREATE TRIGGER message_ai AFTER INSERT ON message BEGIN "
    "INSERT OR IGNORE INTO message_fts_pending(id) VALUES (new.id); END",
    "message_ad": "CREATE TRIGGER message_ad AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) SELECT 'delete', old.id, old.text"
    " WHERE NOT EXISTS (SELECT 1 FROM message_fts_pending WHERE id = old.id); "
    "DELETE FROM message_fts_pending WHERE id = old.id; END",
    "message_au": "CREATE TRIGGER message_au AFTER UPDATE OF text ON message"
    " WHEN NOT EXISTS (SELECT 1 FROM message_fts_pending WHERE id = old.id) BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
}


def index_pending(conn) -> None:
    """Add the messages inserted since the last call to the full-text index (call it inside the
    transaction that inserted them, before committing). `conn` is a sqlite3 connection."""
    conn.execute(
        "INSERT INTO message_fts(rowid, text)"
        " SELECT m.id, m.text FROM message_fts_pending p JOIN message m ON m.id = p.id ORDER BY p.id"
    )
    conn.execute("DELETE FROM message_fts_pending")


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
        try:
            db.execute_sql(rank.INDEX_SQL)
        except OperationalError:  # another process is writing: exports read the table until a later open
            pass


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
        for name, sql in FTS_TRIGGERS.items():
            if triggers.get(name) != sql:  # new database, or one made with the per-row triggers
                db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
                db.execute_sql(sql)
        _rank_index(db)
        if db.execute_sql("SELECT 1 FROM message_fts_pending LIMIT 1").fetchone():
            index_pending(db.connection())  # left by a writer that committed without indexing
        row = Meta.get_or_none(Meta.key == "schema_version")
        if row is None:
            Meta.create(key="schema_version", value=str(SCHEMA_VERSION))
        elif int(row.value) > SCHEMA_VERSION:
            raise DatabaseError(
                f"database schema {row.value} is newer than this memtui ({SCHEMA_VERSION}); upgrade memtui"
            )
        # Future migrations: `if int(row.value) < 2: ...; row.value = "2"; row.save()`.
