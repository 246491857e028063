"""Extractors: turn one session's messages into proposed memories.

An extractor is a callable `extract(session, messages) -> list[Proposal]` where `session` is a
SessionRecord and `messages` the session's MessageRecords in order. It never touches the
database; `memtui.core.proposals.propose_session` stores what it returns (with dedupe).
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXTRACTORS = ("heuristic", "anthropic", "none")


@dataclass(frozen=True)
class Proposal:
    text: str  # one self-contained statement, under 400 characters
    kind: str  # decision, preference, convention, constraint, failed_approach, bug_fix, relationship, fact, todo
    tier: str  # developer, project, session
    confidence: float  # 0..1
    message_ids: tuple[int, ...] = field(default_factory=tuple)  # MessageRecord.id values it rests on
    quotes: tuple[str, ...] = field(default_factory=tuple)  # short quotes, parallel to message_ids
