"""Peewee models: the schema of the memtui database.

The rest of the program does not pass these rows around: store.py turns them into the
frozen dataclasses of records.py.
"""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()

TIERS = ("developer", "project", "session")
KINDS = (
    "decision",
    "preference",
    "convention",
    "constraint",
    "failed_approach",
    "bug_fix",
    "relationship",
    "fact",
    "todo",
)
STATUSES = ("proposed", "approved", "rejected")
ROLES = ("user", "assistant", "tool", "system")
MESSAGE_KINDS = ("text", "tool_use", "tool_result", "thinking", "summary")


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Meta(BaseModel):
    """Key/value facts about the database itself (schema version)."""

    key = CharField(primary_key=True)
    value = TextField()


class Project(BaseModel):
    root = TextField(unique=True)  # full path of the project root, never a bare folder name
    name = TextField()  # last path component, for display only
    git_remote = TextField(null=True)
    created_at = FloatField()


class Source(BaseModel):
    path = TextField(unique=True)
    format = CharField()
    size = IntegerField(default=0)
    mtime = FloatField(default=0)
    head_hash = CharField(default="")  # hash of the first bytes: detects a replaced file
    tail_hash = CharField(default="")  # hash of the bytes just before `offset`
    offset = IntegerField(default=0)  # bytes already imported (append-only formats)
    state = TextField(default="{}")  # parser state carried between incremental runs (JSON)
    imported_at = FloatField(default=0)


class Session(BaseModel):
    tool = CharField()
    external_id = TextField()
    source = ForeignKeyField(Source, null=True, on_delete="SET NULL")
    project = ForeignKeyField(Project, null=True, on_delete="SET NULL")
    parent = ForeignKeyField("self", null=True, on_delete="SET NULL")
    cwd = TextField(null=True)
    title = TextField(null=True)
    started_at = FloatField(null=True)
    ended_at = FloatField(null=True)
    model = TextField(null=True)
    git_branch = TextField(null=True)
    message_count = IntegerField(default=0)
    raw_size = IntegerField(default=0)  # bytes of transcript read for this session
    review_state = CharField(default="new")  # new, reviewed
    extracted_at = FloatField(null=True)

    class Meta:
        indexes = ((("tool", "external_id"), True),)


class Message(BaseModel):
    # no index of its own: the two below start with session_id, and every query by session (and
    # the foreign key's cascade) uses one of them (db.OLD_INDEXES drops the one older stores have)
    session = ForeignKeyField(Session, on_delete="CASCADE", index=False)
    position = IntegerField()
    role = CharField()
    kind = CharField()
    tool_name = TextField(null=True)
    text = TextField()  # already redacted and stripped of terminal control sequences
    timestamp = FloatField(null=True)
    external_id = TextField()
    group_id = TextField(null=True)  # e.g. Claude Code message.id shared by split fragments
    is_error = BooleanField(default=False)
    original_len = IntegerField(null=True)  # set when `text` was truncated

    class Meta:
        indexes = (
            (("session", "external_id"), True),
            (("session", "position"), False),
        )


class Memory(BaseModel):
    tier = CharField()
    kind = CharField()
    text = TextField()
    status = CharField(default="proposed")
    pinned = BooleanField(default=False)
    confidence = FloatField(default=0.5)
    project = ForeignKeyField(Project, null=True, on_delete="SET NULL")
    session = ForeignKeyField(Session, null=True, on_delete="SET NULL")
    extractor = CharField(default="manual")
    fingerprint = CharField(default="", index=True)  # normalised text hash, for dedupe
    supersedes = ForeignKeyField("self", null=True, on_delete="SET NULL")
    created_at = FloatField()
    updated_at = FloatField()
    last_seen_at = FloatField()
    forgotten_at = FloatField(null=True)
    # stamps.redact_stamp() of the redactor that found `text` clean (None: not checked since it
    # was written; a trigger clears it whenever `text` changes): exports check only the rest
    clean_stamp = IntegerField(null=True)
    # 1 when memory_json holds this memory's JSON form as an export writes it, made by the
    # redactor of meta "clean_stamp" (None: not made, or out of date: see db.JSON_SQL)
    json_ready = IntegerField(null=True)


class Evidence(BaseModel):
    # no index of its own: the unique index below starts with memory_id (db.OLD_INDEXES drops the
    # one older stores have)
    memory = ForeignKeyField(Memory, on_delete="CASCADE", backref="evidence", index=False)
    message = ForeignKeyField(Message, null=True, on_delete="SET NULL")
    quote = TextField(default="")

    class Meta:
        indexes = ((("memory", "message"), True),)


class Event(BaseModel):
    """Append-only journal of memory changes; undo/redo read it."""

    batch = IntegerField(index=True)  # one user action = one batch (bulk edits undo in one step)
    memory = IntegerField(index=True)
    action = CharField()
    before = TextField(null=True)  # JSON of the memory before (null: it did not exist)
    after = TextField(null=True)  # JSON of the memory after (null: purged)
    at = FloatField()
    undone = BooleanField(default=False)


ALL_MODELS = (Meta, Project, Source, Session, Message, Memory, Evidence, Event)
