"""Frozen dataclasses: what the core hands to the front ends (never peewee rows)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    id: int
    root: str
    name: str
    git_remote: str | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    tool: str
    external_id: str
    project_id: int | None
    project_root: str | None
    cwd: str | None
    title: str | None
    started_at: float | None
    ended_at: float | None
    model: str | None
    git_branch: str | None
    message_count: int
    raw_size: int
    review_state: str
    parent_id: int | None
    source_path: str | None
    pending: int = 0  # proposals not yet reviewed

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    session_id: int
    position: int
    role: str
    kind: str
    tool_name: str | None
    text: str
    timestamp: float | None
    external_id: str
    group_id: str | None
    is_error: bool
    original_len: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def slot_setters(cls: type) -> tuple:
    """The __set__ of each field's slot of a frozen slots dataclass, in field order. Code that makes
    many records (an import worker's messages for extraction) fills a bare object.__new__(cls) with
    them: about twice as fast as the frozen __init__, which calls object.__setattr__ per field, and
    the record stays frozen. Only for classes without __post_init__ (it would not run)."""
    if "__slots__" not in vars(cls) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: not a slots dataclass without __post_init__")
    return tuple(vars(cls)[f.name].__set__ for f in fields(cls))


MESSAGE_SETTERS = slot_setters(MessageRecord)


def _message_maker():
    s_id, s_sid, s_pos, s_role, s_kind, s_tool, s_text, s_ts, s_ext, s_group, s_err, s_orig = MESSAGE_SETTERS
    new = object.__new__

    def new_message(id, session_id, position, role, kind, tool_name, text, timestamp, external_id, group_id,
                    is_error, original_len) -> MessageRecord:
        m = new(MessageRecord)
        s_id(m, id)
        s_sid(m, session_id)
        s_pos(m, position)
        s_role(m, role)
        s_kind(m, kind)
        s_tool(m, tool_name)
        s_text(m, text)
        s_ts(m, timestamp)
        s_ext(m, external_id)
        s_group(m, group_id)
        s_err(m, is_error)
        s_orig(m, original_len)
        return m

    return new_message


# MessageRecord(...) with its fields given in order, made by MESSAGE_SETTERS: for code that makes
# thousands (a session read for the TUI, an import worker's messages for extraction)
new_message = _message_maker()


@dataclass(frozen=True, slots=True)
class Stats:
    projects: int
    sources: int
    sessions: int
    messages: int
    memories: int
    memories_by_status: dict
    memories_by_tier: dict
    sessions_by_tool: dict
    db_path: str
    db_bytes: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    sessions: int
    sessions_pending: int  # sessions with at least one proposal not yet reviewed
    proposals_pending: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    message_id: int | None
    quote: str
    session_id: int | None = None
    position: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    id: int
    tier: str
    kind: str
    text: str
    status: str
    pinned: bool
    confidence: float
    project_id: int | None
    project_root: str | None
    session_id: int | None
    session_external_id: str | None
    extractor: str
    created_at: float
    updated_at: float
    last_seen_at: float
    forgotten_at: float | None
    supersedes_id: int | None
    evidence: tuple[EvidenceRecord, ...] = ()

    def as_dict(self) -> dict:
        data = asdict(self)
        data["project"] = data.pop("project_root")
        data["session"] = data.pop("session_external_id")
        data["evidence"] = [{"message_id": e.message_id, "quote": e.quote} for e in self.evidence]
        return data
