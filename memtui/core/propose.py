"""Run an extractor over imported sessions and store its proposals (with dedupe)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from peewee import SqliteDatabase

from memtui.core import memories, store
from memtui.core.extract import EXTRACTORS, Proposal
from memtui.core.records import MessageRecord, SessionRecord

Extractor = Callable[[SessionRecord, list[MessageRecord]], list[Proposal]]


@dataclass
class ProposeSummary:
    sessions: int = 0
    created: int = 0
    reinforced: int = 0
    superseding: int = 0
    failed: list[str] = field(default_factory=list)


def heuristic_extractor() -> Extractor:
    from memtui.core.extract.heuristic import extract

    return extract


def get_extractor(name: str) -> Extractor | None:
    if name not in EXTRACTORS:
        raise ValueError(f"unknown extractor {name!r} (choose from {', '.join(EXTRACTORS)})")
    if name == "none":
        return None
    if name == "heuristic":
        return heuristic_extractor()
    raise ValueError("the anthropic extractor is run through run_anthropic (it needs a cost check first)")


def propose_sessions(
    db: SqliteDatabase,
    session_ids: Iterable[int],
    extractor: Extractor,
    extractor_name: str,
    on_session: Callable[[SessionRecord, memories.ProposeResult], None] | None = None,
) -> ProposeSummary:
    summary = ProposeSummary()
    for sid in session_ids:
        session = store.get_session(db, sid)
        if session is None:
            continue
        messages = store.session_messages(db, sid)
        if not messages:
            continue
        proposals = extractor(session, messages)
        result = memories.propose_session(db, sid, proposals, extractor_name)
        summary.sessions += 1
        summary.created += len(result.created)
        summary.reinforced += len(result.reinforced)
        summary.superseding += len(result.superseding)
        if on_session:
            on_session(session, result)
    return summary


def store_results(
    db: SqliteDatabase, results: dict[int, list[Proposal] | Exception], extractor_name: str
) -> ProposeSummary:
    """Store per-session results of a remote extractor; failed sessions are reported, not stored."""
    summary = ProposeSummary()
    for sid, result in results.items():
        if isinstance(result, Exception):
            summary.failed.append(f"session {sid}: {result}")
            continue
        stored = memories.propose_session(db, sid, result, extractor_name)
        summary.sessions += 1
        summary.created += len(stored.created)
        summary.reinforced += len(stored.reinforced)
        summary.superseding += len(stored.superseding)
    return summary
