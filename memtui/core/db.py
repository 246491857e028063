"""Opening the database: location, pragmas, schema creation and migrations."""

from __future__ import annotations

import os
from pathlib import Path

from peewee import SqliteDatabase

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
    "CREATE TRIGGER IF NOT EXISTS message_ai AFTER INSERT ON message BEGIN "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS message_ad AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS message_au AFTER UPDATE OF text ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
]


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
    db = SqliteDatabase(str(db_path), pragmas=PRAGMAS, check_same_thread=False)
    database_proxy.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        _migrate(db)
    except Exception as exc:  # sqlite3.DatabaseError: "file is not a database", locked, ...
        db.close()
        raise DatabaseError(f"cannot open database {db_path}: {exc}") from None
    return db


def _migrate(db: SqliteDatabase) -> None:
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)
        for sql in FTS_SQL:
            db.execute_sql(sql)
        row = Meta.get_or_none(Meta.key == "schema_version")
        if row is None:
            Meta.create(key="schema_version", value=str(SCHEMA_VERSION))
        elif int(row.value) > SCHEMA_VERSION:
            raise DatabaseError(
                f"database schema {row.value} is newer than this memtui ({SCHEMA_VERSION}); upgrade memtui"
            )
        # Future migrations: `if int(row.value) < 2: ...; row.value = "2"; row.save()`.
