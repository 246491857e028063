"""Typed messages: what the thread workers post back to the UI thread.

Workers call plain core functions and carry the frozen dataclasses they return; the UI never
touches the database itself.
"""

from __future__ import annotations

from peewee import SqliteDatabase
from textual.message import Message

from memtui.core.records import MemoryRecord, MessageRecord, ReviewCounts, SessionRecord


class DatabaseReady(Message):
    """The database is open (schema checked): screens may start loading."""

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__()
        self.db = db


class DatabaseFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


DataVersion = tuple  # memtui.core.store.data_version: changes when anything is imported or reviewed


class SessionsLoaded(Message):
    """A page of the session list (offset 0 replaces the list; later pages append)."""

    def __init__(
        self,
        sessions: tuple[SessionRecord, ...],
        counts: ReviewCounts,
        offset: int,
        more: bool,
        version: DataVersion,
        keep: int | None = None,
        keep_order: bool = False,
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.counts = counts
        self.offset = offset
        self.more = more
        self.version = version  # read before the list: an older version only causes one more reload
        self.keep = keep  # session to keep highlighted
        self.keep_order = keep_order  # keep the shown order (a refresh), or sort afresh


class SessionLoaded(Message):
    """One session with its raw messages and its proposals."""

    def __init__(
        self,
        session: SessionRecord,
        messages: tuple[MessageRecord, ...] | None,
        proposals: tuple[MemoryRecord, ...],
    ) -> None:
        super().__init__()
        self.session = session
        self.messages = messages  # None: unchanged since last shown (only the proposals were reloaded)
        self.proposals = proposals


class ActionDone(Message):
    """A review action was written (and journalled); carries the state to show afterwards."""

    def __init__(
        self,
        action: str,
        changed: tuple[int, ...],
        summary: str,
        session: SessionRecord | None,
        proposals: tuple[MemoryRecord, ...],
        counts: ReviewCounts,
        focus: int | None = None,
    ) -> None:
        super().__init__()
        self.action = action
        self.changed = changed
        self.summary = summary
        self.session = session
        self.proposals = proposals
        self.counts = counts
        self.focus = focus  # memory id to highlight afterwards (None: the next pending one)


class ActionFailed(Message):
    def __init__(self, action: str, error: str) -> None:
        super().__init__()
        self.action = action
        self.error = error


class DataChanged(Message):
    """Another process (an import, the CLI) changed the database since we last looked."""

    def __init__(self, version: DataVersion) -> None:
        super().__init__()
        self.version = version
