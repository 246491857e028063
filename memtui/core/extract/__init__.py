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


# The only SessionRecord fields the heuristic extractor reads (transcript.read, signals._root): a
# session whose proposals were made before it was stored (in an import worker, see
# importers/prefetch.py) is extracted again in-process unless these are what the worker assumed.
HEURISTIC_SESSION_FIELDS = ("tool", "cwd", "project_root")


def heuristic_session_fields(session) -> tuple:
    return tuple(getattr(session, name, None) for name in HEURISTIC_SESSION_FIELDS)


@dataclass(frozen=True)
class ReadyProposals:
    """An extractor's proposals for one session, made ahead (by an import worker) from exactly the
    messages the session holds now and prepared for storing (proposals.prepare_proposals); `fields`
    are the session fields the extractor was given."""

    extractor: str
    fields: tuple
    prepared: tuple  # of proposals.PreparedProposal
