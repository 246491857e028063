"""Run an extractor over imported sessions and store its proposals (with dedupe)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from peewee import SqliteDatabase

from memtui.core import proposals as stored_proposals
from memtui.core import store
from memtui.core.extract import EXTRACTORS, Proposal, ReadyProposals, heuristic_session_fields
from memtui.core.records import MessageRecord, SessionRecord

Extractor = Callable[[SessionRecord, list[MessageRecord]], list[Proposal]]


@dataclass
class ProposeSummary:
    sessions: int = 0
    created: int = 0
    reinforced: int = 0
    superseding: int = 0
    failed: list[str] = field(default_factory=list)
    cancelled: bool = False


def heuristic_extractor() -> Extractor:
    """The heuristic extractor, imported on its first call: when the import workers made every
    session's proposals ahead, this process never compiles its patterns."""

    def extract(session: SessionRecord, messages: list[MessageRecord]) -> list[Proposal]:
        from memtui.core.extract.heuristic import extract as run

        return run(session, messages)

    return extract


def get_extractor(name: str) -> Extractor | None:
    if name not in EXTRACTORS:
        raise ValueError(f"unknown extractor {name!r} (choose from {', '.join(EXTRACTORS)})")
    if name == "none":
        return None
    if name == "heuristic":
        return heuristic_extractor()
    raise ValueError("the anthropic extractor is run through run_anthropic (it needs a cost check first)")


COMMIT_EVERY = 64  # sessions stored in a row per transaction (extracting in-process commits first) ...
PLANNED_WEIGHT = 16  # ... or this many times as many written from the import's plans (write_plans,
# ~0.1 ms a session: a commit costs about what writing 16 of them does)


def propose_sessions(
    db: SqliteDatabase,
    session_ids: Iterable[int],
    extractor: Extractor,
    extractor_name: str,
    on_session: Callable[[SessionRecord, stored_proposals.ProposeResult], None] | None = None,
    ready: Mapping[int, ReadyProposals] | None = None,
) -> ProposeSummary:
    """Run `extractor` over sessions (in the order given) and store the proposals.

    `ready`: proposals made ahead by the import workers (Importer(extractor=...), report.extracted)
    for sessions whose messages were verified to be exactly those the worker saw; they are used
    when they come from the same extractor and the session's fields are the ones the worker
    assumed, and the session is extracted here otherwise. The result is the same either way.
    Sessions stored in a row share a transaction (committed every COMMIT_EVERY sessions, or
    PLANNED_WEIGHT times as many planned ones, and before any in-process extraction):
    `on_session` may run before its session is committed.
    The import may also have planned the storing of the first sessions (`ready.plan`, see
    proposals.Planner): those plans are written as they are when they hold (Planner.take).
    """
    summary = ProposeSummary()
    cache = stored_proposals.CandidateCache()
    if getattr(ready, "plan", None) is not None and not isinstance(session_ids, (list, tuple)):
        session_ids = list(session_ids)
    planned, sessions = _plans(db, session_ids, ready, extractor_name, reread=on_session is not None)
    if planned:
        cache = ready.plan.cache  # (holds the planned sessions' memories)
    tx = None  # one transaction for the sessions stored in a row: COMMIT_EVERY, or more when planned (`stored`)
    stored = 0  # what the transaction holds: PLANNED_WEIGHT for a session decided here, 1 for a planned one

    group: list[tuple[SessionRecord, stored_proposals.SessionPlan]] = []  # planned sessions not yet written

    def count(session: SessionRecord, result: stored_proposals.ProposeResult) -> None:
        summary.sessions += 1
        summary.created += len(result.created)
        summary.reinforced += len(result.reinforced)
        summary.superseding += len(result.superseding)
        if on_session:
            on_session(session, result)

    def write_group() -> None:
        # (the planned sessions stored in a row: their rows in a few statements, see write_plans)
        if group:
            for (session, _), result in zip(group, stored_proposals.write_plans(db, [plan for _, plan in group])):
                count(session, result)
            group.clear()

    def commit() -> None:
        nonlocal tx, stored
        if tx is not None:
            write_group()
            tx.__exit__(None, None, None)
            tx, stored = None, 0

    try:
        for sid in session_ids:
            plan = planned.pop(sid, None)
            if plan is not None:
                session = sessions[sid]
            else:
                session = store.get_session(db, sid)
                if session is None:
                    continue
                pre = ready.get(sid) if ready else None
                if pre is not None and pre.extractor == extractor_name and pre.fields == heuristic_session_fields(session):
                    proposals, texts, prepared = (), None, pre.prepared
                else:
                    commit()  # no write transaction is held while extracting
                    messages = store.session_messages(db, sid)
                    if not messages:
                        continue
                    proposals, prepared = extractor(session, messages), None
                    texts = {m.id: m.text for m in messages}
            if tx is None:
                tx = db.atomic()
                tx.__enter__()
            # (each session is one batch of the journal)
            if plan is not None:  # (planned ahead: it carries its journal batch, PlanState)
                group.append((session, plan))
                result = None
            else:
                write_group()
                result = stored_proposals.propose_session(db, sid, proposals, extractor_name, cache, texts, prepared)
            stored += 1 if result is None else PLANNED_WEIGHT
            if stored >= COMMIT_EVERY * PLANNED_WEIGHT:
                commit()
            if result is not None:
                count(session, result)
    except BaseException as exc:
        if tx is not None:
            tx.__exit__(type(exc), exc, exc.__traceback__)  # rolls back the sessions not yet committed
            tx = None
        raise
    commit()
    return summary


def _plans(db: SqliteDatabase, session_ids, ready, extractor_name: str, reread: bool) -> tuple[dict, dict]:
    """The plans the import made for the first of `session_ids` (session id -> SessionPlan) and
    their sessions, when they hold (see proposals.Planner.take); else nothing. The sessions are
    those read when planning (what the plans rest on cannot have changed since: take), or read
    again when `reread` (for on_session)."""
    planner = getattr(ready, "plan", None)
    if planner is None:
        return {}, {}
    plans = planner.take(db, session_ids, ready, extractor_name)
    if not plans:
        return {}, {}
    sessions = {}
    for sid, pre, session, _ in plans:
        if reread:
            session = store.get_session(db, sid)
        if session is None or pre.extractor != extractor_name or pre.fields != heuristic_session_fields(session):
            return {}, {}
        sessions[sid] = session
    return {sid: plan for sid, _, _, plan in plans}, sessions


def store_results(
    db: SqliteDatabase, results: dict[int, list[Proposal] | Exception], extractor_name: str
) -> ProposeSummary:
    """Store per-session results of a remote extractor; failed sessions are reported, not stored."""
    summary = ProposeSummary()
    for sid, result in results.items():
        if isinstance(result, Exception):
            summary.failed.append(f"session {sid}: {result}")
            continue
        stored = stored_proposals.propose_session(db, sid, result, extractor_name)
        summary.sessions += 1
        summary.created += len(stored.created)
        summary.reinforced += len(stored.reinforced)
        summary.superseding += len(stored.superseding)
    return summary


def run_anthropic(
    db: SqliteDatabase,
    session_ids: Iterable[int],
    *,
    model: str | None = None,
    batch: bool = False,
    confirm: Callable[[str], bool],
    on_progress: Callable[[str], None] | None = None,
    config=None,
    poll_interval: float = 30.0,
) -> ProposeSummary:
    """The anthropic extractor over sessions: estimate the cost, ask `confirm(description)`, run.

    Sessions that fail are listed in `summary.failed` and nothing of theirs is stored; an error that
    would fail every session the same way (no key, bad key, ...) stops the run by raising
    AnthropicExtractorError. Returns an empty summary when `confirm` says no.
    """
    from memtui.core.extract import anthropic as ax

    items = []
    for sid in session_ids:
        session = store.get_session(db, sid)
        messages = store.session_messages(db, sid) if session else []
        if session and messages:
            items.append((session, messages))
    summary = ProposeSummary()
    if not items:
        return summary
    config = config or ax.AnthropicConfig.from_env(model=model)
    if not config.api_key:
        raise ax.AnthropicExtractorError(
            "ANTHROPIC_API_KEY is not set: export it, or use --extractor heuristic", kind="missing_key"
        )
    estimate = ax.estimate(items, config, batch=batch)
    if not confirm(estimate.describe()):
        summary.cancelled = True
        return summary
    name = f"anthropic:{config.model}"
    if batch:
        def progress(b) -> None:
            if on_progress:
                counts = getattr(b, "request_counts", None)
                on_progress(f"batch {getattr(b, 'id', '?')}: {counts}")

        results = ax.extract_batch(items, config, on_progress=progress, poll_interval=poll_interval)
        return store_results(db, results, name)
    extractor = ax.make_extractor(config)
    for session, messages in items:
        try:
            proposals = extractor(session, messages)
        except ax.AnthropicExtractorError as exc:
            if exc.fatal:
                raise
            summary.failed.append(f"session {session.id}: {exc}")
            continue
        stored = stored_proposals.propose_session(db, session.id, proposals, name)
        summary.sessions += 1
        summary.created += len(stored.created)
        summary.reinforced += len(stored.reinforced)
        summary.superseding += len(stored.superseding)
        if on_progress:
            on_progress(f"session {session.id}: {len(stored.created)} new proposal(s)")
    return summary

