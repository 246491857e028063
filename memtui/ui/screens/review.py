"""The Review screen: sessions, the raw transcript, and the proposals to approve, edit, pin or reject.

Every read and every write runs in a thread worker that calls a memtui.core function and posts a
typed message back (memtui.ui.messages). Review actions run one at a time, in the order they
were pressed, each written and journalled at once by the same core functions the CLI uses, so
`memtui undo` and the app's undo walk the same journal.
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from typing import Callable

from peewee import SqliteDatabase
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList
from textual.worker import WorkerCancelled, WorkerFailed, get_current_worker

from memtui.core import memories, store
from memtui.core.models import TIERS
from memtui.core.records import MemoryRecord, MessageRecord, ReviewCounts, SessionRecord
from memtui.ui.messages import (
    ActionDone,
    ActionFailed,
    DataChanged,
    SessionLoaded,
    SessionsLoaded,
)
from memtui.ui.screens.edit import EditResult, EditScreen
from memtui.ui.text import one_line
from memtui.ui.widgets.proposal_list import ProposalList
from memtui.ui.widgets.session_list import PAGE, SessionList
from memtui.ui.widgets.transcript import TranscriptView

# (changed memory ids, a one-line summary) from one action on the database.
ActionFunc = Callable[[SqliteDatabase], tuple[tuple[int, ...], str]]

UNDO_GROUP = Binding.Group("undo/redo", compact=True)
SESSION_GROUP = Binding.Group("session", compact=True)

# A session is shown from its first HEAD messages (or up to the first proposal's evidence and
# HEAD more), read with its proposals; the rest is read once that is on screen and added to the
# transcript. A 5,000-message session then switches in the time of 250 (reading all of them and
# laying them out took 60-110 ms of the 120-170 ms a switch took).
HEAD = 250
TAIL_PART = 2000


class TranscriptTail(Message):
    """A part of the rest of a session's messages: those from `offset` on (the last part: `complete`)."""

    def __init__(
        self, session_id: int, start: int, offset: int, messages: tuple[MessageRecord, ...], complete: bool
    ) -> None:
        super().__init__()
        self.session_id = session_id
        self.start = start  # the messages shown first, after which the rest was read
        self.offset = offset
        self.messages = messages
        self.complete = complete


class SessionMissing(Message):
    """A session to show is no longer in the database (deleted since it was listed)."""

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id


def head_size(proposals: tuple[MemoryRecord, ...], session_id: int) -> int:
    """How many first messages to read so the first proposal's evidence (shown at once) is among them."""
    first = next((m for m in proposals if m.status == "proposed"), proposals[0] if proposals else None)
    positions = [e.position for e in first.evidence if e.session_id == session_id and e.position is not None] if first else []
    return HEAD + (min(positions) + 1 if positions else 0)


class ReviewScreen(Screen):
    """Review the proposals of each session against its raw log."""

    AUTO_FOCUS = "#proposals"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # -narrow: slimmer sessions, no palette key

    BINDINGS = [
        Binding("question_mark", "app.help", "help", id="help", tooltip="Show every key and its binding id"),
        Binding("a", "approve", "approve", id="approve", tooltip="Approve the selected proposal"),
        Binding("x", "reject", "reject", id="reject", tooltip="Reject the selected proposal"),
        Binding("e", "edit", "edit", id="edit", tooltip="Edit the text, tier and kind of the selected proposal"),
        Binding("p", "pin", "pin", id="pin", tooltip="Pin or unpin the selected proposal (pinned memories export first)"),
        Binding("t", "cycle_tier", "tier", id="cycle_tier", tooltip="Cycle the tier: developer → project → session"),
        Binding("A", "approve_all", "all", id="approve_all", tooltip="Approve every proposal of this session still pending"),
        Binding("u", "undo", "undo", id="undo", tooltip="Undo the last review action (the same journal as 'memtui undo')", group=UNDO_GROUP),
        Binding("U", "redo", "redo", id="redo", tooltip="Redo what undo undid", group=UNDO_GROUP),
        Binding("n", "next_session", "next", id="next_session", tooltip="Next session", group=SESSION_GROUP),
        Binding("N", "previous_session", "previous", id="previous_session", tooltip="Previous session", group=SESSION_GROUP),
        Binding("enter", "jump", "evidence", id="jump", tooltip="Jump to the selected proposal's evidence in the transcript"),
        Binding("q", "app.quit", "quit", id="quit", tooltip="Quit memtui"),
        Binding("ctrl+r", "reload", "reload", id="reload", show=False, tooltip="Read the sessions again from the database"),
        Binding("escape", "focus_proposals", "proposals", show=False, tooltip="Back to the proposals"),
    ]

    def __init__(self) -> None:
        super().__init__(id="review")
        self.db: SqliteDatabase | None = None
        self.session: SessionRecord | None = None
        self.counts: ReviewCounts | None = None
        self.version: tuple | None = None
        self._actions: deque[tuple[str, ActionFunc, int | None]] = deque()
        self._busy = False
        self._loading_session: int | None = None
        self._focus_after_load: int | None = None
        self._bindings_state: tuple[bool, bool] | None = None
        self._gc_frozen = False
        # show_message: the message to put the cursor on once its session is shown, and who waits.
        self._jump_target: tuple[int, int | None] | None = None
        self._jump_waiters: list[asyncio.Future[None]] = []
        self._tail_for: tuple[int, int] | None = None  # (session, messages shown) while the rest is read
        self._titles: dict[str, str] = {}  # the panes' border titles as last set (as markup)

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(id="header")
        with Horizontal(id="review-body"):
            with Vertical(id="sessions-pane", classes="pane"):
                yield SessionList(id="sessions")
            with Vertical(id="main-pane"):
                with Vertical(id="transcript-pane", classes="pane"):
                    yield TranscriptView(id="transcript")
                with Vertical(id="proposals-pane", classes="pane"):
                    yield ProposalList(id="proposals")
        yield Footer(id="footer", compact=True)

    @property
    def sessions(self) -> SessionList:
        return self.query_one(SessionList)

    @property
    def proposals(self) -> ProposalList:
        return self.query_one(ProposalList)

    @property
    def transcript(self) -> TranscriptView:
        return self.query_one(TranscriptView)

    def on_mount(self) -> None:
        self.sub_title = "opening the database…"
        self.transcript.empty_text = "Loading…"
        self._set_titles()

    def _set_titles(self) -> None:
        sessions = self.sessions
        count = len(sessions.sessions)
        position = (sessions.highlighted or 0) + 1 if count else 0
        more = "+" if sessions.more else ""
        self._set_border_title("#sessions-pane", Content(f"Sessions {position}/{count}{more}"))
        session = self.session
        if session is None:
            self._set_border_title("#transcript-pane", Content("Transcript"))
        else:
            title = one_line(session.title or "") or "(untitled)"
            self._set_border_title("#transcript-pane", Content.assemble(
                "Transcript · ", (title[:200], "bold"), f" · {session.message_count:,} messages"
            ))
        pending = len(self.proposals.pending)
        total = len(self.proposals.memories)
        self._set_border_title("#proposals-pane", Content(
            f"Proposals · {pending} pending" + (f" · {total - pending} reviewed" if total > pending else "")
        ))
        if self.counts is not None:
            c = self.counts
            sessions = f"{c.sessions} session{'s' if c.sessions != 1 else ''}"
            if not c.sessions:
                self.sub_title = "no sessions yet"
            elif not c.proposals_pending:
                self.sub_title = f"nothing to review · {sessions}"
            else:
                self.sub_title = (
                    f"{c.proposals_pending} proposal{'s' if c.proposals_pending != 1 else ''} to review"
                    f" in {c.sessions_pending} of {sessions}"
                )

    def _set_border_title(self, selector: str, title: Content) -> None:
        """Set a pane's title only when it changes: each set repaints the whole pane."""
        key = title.markup  # (Content's == compares the text only, not its styles)
        if self._titles.get(selector) != key:
            self._titles[selector] = key
            self.query_one(selector).border_title = title

    # --- loading ---------------------------------------------------------------------------

    def start(self, db: SqliteDatabase) -> None:
        """The database is open: read the sessions."""
        self.db = db
        self.transcript.empty_text = "No session selected."
        self.load_sessions()

    def action_reload(self) -> None:
        """Read the session list again, sorted afresh (unreviewed first)."""
        self._reload(keep_order=False)

    def _reload(self, keep_order: bool) -> None:
        if self.db is not None:
            self.load_sessions(
                limit=max(PAGE, len(self.sessions.sessions)),
                keep=self.session.id if self.session else None,
                keep_order=keep_order,
            )

    @work(thread=True, exclusive=True, group="sessions")
    def load_sessions(self, offset: int = 0, limit: int = PAGE, keep: int | None = None, keep_order: bool = False) -> None:
        with self.app.connection() as db:
            # The version first: if a writer commits while the list is read, the version is the
            # older one, and the next poll reads the list again.
            version = store.data_version(db)
            found = store.list_sessions(db, unreviewed_first=True, limit=limit + 1, offset=offset)
            counts = store.review_counts(db)
        if get_current_worker().is_cancelled:
            return
        self.post_message(
            SessionsLoaded(tuple(found[:limit]), counts, offset, len(found) > limit, version, keep=keep, keep_order=keep_order)
        )

    def on_sessions_loaded(self, message: SessionsLoaded) -> None:
        self.counts = message.counts
        session_list = self.sessions
        if message.offset == 0:
            self.version = message.version
            # Keep the highlight where it is now (keys may have moved it since the reload began).
            keep = session_list.current.id if session_list.current is not None else message.keep
            session_list.set_sessions(message.sessions, message.more, keep=keep, keep_order=message.keep_order)
            if not message.sessions:
                self.transcript.empty_text = "No sessions yet.\n\nImport some with\n  memtui import --auto"
                self.transcript.refresh()
            current = session_list.current
            if current is not None and (self.session is None or current.id != self.session.id):
                self.show_session(current.id)
            elif current is not None and self.session is not None and self._loading_session is None:
                # Same session: refresh its proposals (and its messages if it grew).
                self.load_session(current.id, with_messages=current.message_count != self.session.message_count)
        else:
            session_list.add_sessions(message.sessions, message.more)
        self._set_titles()

    @on(SessionList.NeedMore)
    def _more_sessions(self, message: SessionList.NeedMore) -> None:
        self.load_sessions(offset=message.offset)

    @on(OptionList.OptionHighlighted, "#sessions")
    def _session_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        session = self.sessions.session_at(event.option_index)
        if session is not None and (self.session is None or session.id != self.session.id):
            self.show_session(session.id)
        elif session is not None:
            self._back_on_shown_session()
        self._set_titles()

    def _back_on_shown_session(self) -> None:
        """The highlight came back to the session shown before another one was read: the other one
        is not wanted any more, and the rest of this one's messages is read again if it was cut short."""
        self._loading_session = None
        view = self.transcript
        if self.session is not None and not view.complete and self._tail_for is None:
            self._tail_for = (self.session.id, len(view.messages))
            self._load_tail(self.session.id, len(view.messages))

    @on(OptionList.OptionSelected, "#sessions")
    def _session_selected(self, event: OptionList.OptionSelected) -> None:
        self.proposals.focus()

    def show_session(self, session_id: int, focus: int | None = None) -> None:
        if self.db is None or self._loading_session == session_id:
            return
        self._loading_session = session_id
        self._focus_after_load = focus
        # The rest of the session shown before is no longer wanted: its worker stops after the
        # part it is reading (not cancelled: a cancelled worker makes App.workers.wait_for_complete,
        # which tests wait on, raise).
        self._tail_for = None
        self.load_session(session_id)

    @work(thread=True, exclusive=True, group="session")
    def load_session(self, session_id: int, with_messages: bool = True) -> None:
        """The session, its proposals and its first messages (the rest: _load_tail, once shown)."""
        worker = get_current_worker()
        with self.app.connection() as db:
            session = store.get_session(db, session_id)
            if session is None:
                self.post_message(SessionMissing(session_id))
                return
            if worker.is_cancelled:
                return
            proposals = tuple(memories.list_memories(db, session_id=session_id, order="id"))
            if worker.is_cancelled:
                return
            messages = None
            if with_messages:
                messages = tuple(store.session_messages(db, session_id, limit=head_size(proposals, session_id)))
        if not worker.is_cancelled:
            self.post_message(SessionLoaded(session, messages, proposals))

    @work(thread=True, group="transcript-tail")
    def _load_tail(self, session_id: int, offset: int) -> None:
        if self._tail_for != (session_id, offset):
            return  # another session (or a reload) came in before this started
        worker = get_current_worker()
        read = offset
        with self.app.connection() as db:
            # In parts: a switch to another session stops this soon, and the screen lays out
            # (and stays responsive between) a part at a time.
            while True:
                part = tuple(store.session_messages(db, session_id, offset=read, limit=TAIL_PART))
                if worker.is_cancelled or self._tail_for != (session_id, offset):
                    return
                complete = len(part) < TAIL_PART
                self.post_message(TranscriptTail(session_id, offset, read, part, complete))
                read += len(part)
                if complete:
                    return

    def on_transcript_tail(self, message: TranscriptTail) -> None:
        view = self.transcript
        if self._tail_for != (message.session_id, message.start) or len(view.messages) != message.offset:
            return  # the transcript shows something else by now
        if message.complete:
            self._tail_for = None
        view.extend_messages(message.messages, complete=message.complete)
        self._finish_jump(message.session_id)

    def on_session_missing(self, message: SessionMissing) -> None:
        if self._loading_session == message.session_id:
            self._loading_session = None
        if self._jump_target is not None and self._jump_target[0] == message.session_id:
            self._jump_target = None
            self.notify(f"There is no session {message.session_id}.", severity="warning", timeout=3, markup=False)
            self._finish_jump(message.session_id)

    @on(TranscriptView.JumpMissed)
    def _jump_missed(self, message: TranscriptView.JumpMissed) -> None:
        self.notify("This message is not in this session's log.", severity="warning", timeout=3)

    def on_session_loaded(self, message: SessionLoaded) -> None:
        current = self.sessions.current
        if current is not None and current.id != message.session.id:
            # The highlight moved on while this was read (so a later highlight reads it again).
            if self._loading_session == message.session.id:
                self._loading_session = None
            if self._jump_target is not None and self._jump_target[0] == message.session.id:
                self._finish_jump(message.session.id, give_up=True)
            return
        self._loading_session = None
        same = self.session is not None and self.session.id == message.session.id
        keep = self.proposals.current.id if same and self.proposals.current else None
        self.session = message.session
        self.sessions.update_session(message.session)
        if message.messages is not None:
            # Fewer than HEAD: the whole session; else the rest is read once this is on screen.
            complete = len(message.messages) < HEAD
            self.transcript.set_messages(message.messages, complete=complete)
            self._tail_for = None if complete else (message.session.id, len(message.messages))
            if not complete:
                self.call_after_refresh(self._load_tail, message.session.id, len(message.messages))
        self._show_proposals(message.proposals, focus=self._focus_after_load or keep)
        self._focus_after_load = None
        if message.messages is not None:
            self._finish_jump(message.session.id)
        if not self._gc_frozen:
            # Once the first session is on screen, move what is alive (Textual, the widgets) out of
            # the collector's generations: a full collection, which the thousands of records a long
            # session brings in trigger, then scans only what came later (60 ms less on a switch).
            self._gc_frozen = True
            self.call_after_refresh(gc.freeze)

    # --- showing one message (from other screens) -------------------------------------------

    async def show_message(self, session_id: int, message_id: int | None = None) -> None:
        """Select a session, show its transcript and put the cursor on one of its messages.

        The session is looked up in a worker and added to the session list if it is not in the
        pages loaded so far (the pages up to it are read, so the list keeps its order). Returns
        once the transcript shows it, with the cursor on `message_id` (None: the top) scrolled
        into view and the transcript focused. Await it from another screen or the app (the
        Memories screen's jump from a search hit or a memory's evidence); awaited from inside
        one of this screen's own handlers it would wait for itself.
        """
        if self.db is None:
            return
        sessions = self.sessions
        if sessions.index_of(session_id) is None:
            try:
                found, more, session = await self._read_sessions_until(session_id, len(sessions.sessions)).wait()
            except (WorkerCancelled, WorkerFailed) as exc:
                self.notify(f"Could not read session {session_id}: {exc}", severity="error", markup=False)
                return
            if session is None:
                self.notify(f"There is no session {session_id}.", severity="warning", timeout=3, markup=False)
                return
            if sessions.index_of(session_id) is None:  # (a reload may have brought it in meanwhile)
                sessions.add_sessions(found, more if found else sessions.more)
                if sessions.index_of(session_id) is None:
                    sessions.add_sessions([session], sessions.more)
        index = sessions.index_of(session_id)
        if index is None:
            return
        for waiter in self._jump_waiters:  # an earlier jump is overtaken by this one
            if not waiter.done():
                waiter.set_result(None)
        waiter = asyncio.get_running_loop().create_future()
        self._jump_waiters = [waiter]
        self._jump_target = (session_id, message_id)
        if sessions.highlighted != index:
            sessions.highlighted = index
            sessions.scroll_to_highlight()
        self._set_titles()
        if self.session is not None and self.session.id == session_id and self._loading_session is None:
            self._finish_jump(session_id)
        else:
            self.show_session(session_id)
        await waiter

    @work(thread=True, exclusive=True, group="find-session", exit_on_error=False)
    def _read_sessions_until(
        self, session_id: int, offset: int
    ) -> tuple[list[SessionRecord], bool, SessionRecord | None]:
        """(the list's pages from `offset` up to the one holding the session, more after them?, the session)."""
        found: list[SessionRecord] = []
        with self.app.connection() as db:
            session = store.get_session(db, session_id)
            if session is None:
                return [], False, None
            more = True
            while more and not get_current_worker().is_cancelled:
                page = store.list_sessions(db, unreviewed_first=True, limit=PAGE + 1, offset=offset + len(found))
                more = len(page) > PAGE
                found.extend(page[:PAGE])
                if any(s.id == session_id for s in page[:PAGE]):
                    break
        return found, more, session

    def _finish_jump(self, session_id: int, give_up: bool = False) -> None:
        """The session is shown: put the cursor where show_message asked, and wake who waits."""
        target, self._jump_target = self._jump_target, None
        if target is not None and target[0] == session_id and not give_up:
            view = self.transcript
            message_id = target[1]
            if message_id is not None and view.index_of(message_id) is None and not view.complete:
                self._jump_target = target  # further down: wait for the rest of the session
                return
            if message_id is None or not view.jump_to(message_id):
                if message_id is not None:
                    self.notify(f"Message {message_id} is not in this session's log.", severity="warning",
                                timeout=3, markup=False)
                view.cursor_row = 0
                view.scroll_to(y=0, animate=False, immediate=True)
            view.focus()
        # (another session shown instead: the highlight moved on since, so the jump is given up)
        waiters, self._jump_waiters = self._jump_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _show_proposals(self, proposals: tuple[MemoryRecord, ...], focus: int | None = None, pending_index: int | None = None) -> None:
        plist = self.proposals
        plist.set_memories(proposals)
        index = plist.index_of(focus) if focus is not None else None
        if index is None and pending_index is not None and plist.pending:
            index = plist.index_of(plist.pending[min(pending_index, len(plist.pending) - 1)].id)
        if index is None and plist.memories:
            index = plist.index_of(plist.memories[0].id)
        if index is not None:
            plist.highlighted = index
        self._show_evidence()
        self._set_titles()
        state = (plist.current is not None, bool(plist.pending))
        if state != self._bindings_state:  # the footer dims what has nothing to act on
            self._bindings_state = state
            self.refresh_bindings()

    @on(OptionList.OptionHighlighted, "#proposals")
    def _proposal_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_evidence()

    def _show_evidence(self) -> None:
        memory = self.proposals.current
        ids = [e.message_id for e in memory.evidence if e.message_id is not None] if memory else []
        self.transcript.highlight(ids)

    @on(OptionList.OptionSelected, "#proposals")
    def _proposal_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_jump()  # a click on a proposal's option, or enter when it is focused

    _NEEDS_PROPOSAL = frozenset({"approve", "reject", "edit", "pin", "cycle_tier", "jump"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Actions with nothing to act on are shown dimmed in the footer (None)."""
        if action in self._NEEDS_PROPOSAL and self.is_mounted and self.proposals.current is None:
            return None
        if action == "approve_all" and self.is_mounted and not self.proposals.pending:
            return None
        return True

    # --- polling for other writers ---------------------------------------------------------

    def poll(self) -> None:
        """Look (in a worker) whether another process changed the database."""
        if self.db is not None:
            self._check_version()

    @work(thread=True, exclusive=True, group="poll")
    def _check_version(self) -> None:
        with self.app.connection() as db:
            version = store.data_version(db)
        if version != self.version:
            self.post_message(DataChanged(version))

    def on_data_changed(self, message: DataChanged) -> None:
        if message.version != self.version:
            # Keep the order the person is working through; new sessions come in at the top.
            self._reload(keep_order=True)

    # --- actions ---------------------------------------------------------------------------

    def _need_proposal(self) -> MemoryRecord | None:
        memory = self.proposals.current
        if memory is None:
            self.app.bell()
            self.notify("No proposal selected.", severity="warning", timeout=2)
        return memory

    def _next_pending_after(self, memory: MemoryRecord) -> int | None:
        """The pending proposal to land on once `memory` leaves the pending list."""
        pending = self.proposals.pending
        ids = [m.id for m in pending]
        if memory.id not in ids:
            return memory.id
        i = ids.index(memory.id)
        rest = ids[i + 1 :] or ids[:i][-1:]
        return rest[0] if rest else memory.id

    def submit(self, action: str, func: ActionFunc, focus: int | None = None) -> None:
        """Queue an action: actions run one at a time, in order, each in a thread worker."""
        if self.db is None:
            return
        self._actions.append((action, func, focus))
        self._drain()

    def _drain(self) -> None:
        if self._busy or not self._actions:
            return
        self._busy = True
        action, func, focus = self._actions.popleft()
        self._run_action(action, func, self.session.id if self.session else None, focus)

    @work(thread=True, group="actions")
    def _run_action(self, action: str, func: ActionFunc, session_id: int | None, focus: int | None) -> None:
        def work(db):
            changed, summary = func(db)
            session = store.get_session(db, session_id) if session_id is not None else None
            proposals = tuple(memories.list_memories(db, session_id=session_id, order="id")) if session_id else ()
            return changed, summary, session, proposals, store.review_counts(db)

        try:
            changed, summary, session, proposals, counts = self.app.write(work, action)
        except memories.MemoryError_ as exc:
            self.post_message(ActionFailed(action, str(exc)))
        except Exception as exc:  # a locked database, a full disk: say so, keep running
            self.post_message(ActionFailed(action, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(ActionDone(action, tuple(changed), summary, session, proposals, counts, focus))

    def on_action_done(self, message: ActionDone) -> None:
        self._busy = False
        self.counts = message.counts
        if message.session is not None:
            self.sessions.update_session(message.session)
            if self.session is not None and message.session.id == self.session.id:
                self.session = message.session
                focus = message.focus
                if message.action in ("undo", "redo"):
                    # Land on what was undone, when it belongs to this session.
                    mine = {m.id for m in message.proposals}
                    focus = next((i for i in message.changed if i in mine), focus)
                self._show_proposals(message.proposals, focus=focus)
        self._set_titles()
        if message.action in ("undo", "redo"):
            self.notify(message.summary, title=message.action, timeout=3, markup=False)
        self._drain()

    def on_action_failed(self, message: ActionFailed) -> None:
        self._busy = False
        self.notify(message.error, title=f"{message.action} failed", severity="error", markup=False)
        self._drain()

    def _optimistic_advance(self, memory: MemoryRecord) -> int | None:
        """Move the highlight on at once, so a quick second key press acts on the next proposal."""
        target = self._next_pending_after(memory)
        if target is not None and target != memory.id:
            index = self.proposals.index_of(target)
            if index is not None:
                self.proposals.highlighted = index
        return target

    def action_approve(self) -> None:
        memory = self._need_proposal()
        if memory is None:
            return
        focus = self._optimistic_advance(memory)
        self.submit("approve", lambda db: (tuple(memories.approve(db, [memory.id])), f"approved {memory.id}"), focus)

    def action_reject(self) -> None:
        memory = self._need_proposal()
        if memory is None:
            return
        focus = self._optimistic_advance(memory)
        self.submit("reject", lambda db: (tuple(memories.reject(db, [memory.id])), f"rejected {memory.id}"), focus)

    def action_pin(self) -> None:
        memory = self._need_proposal()
        if memory is None:
            return
        pinned = not memory.pinned
        self.submit(
            "pin" if pinned else "unpin",
            lambda db: (tuple(memories.pin(db, [memory.id], pinned)), f"{'pinned' if pinned else 'unpinned'} {memory.id}"),
            memory.id,
        )

    def action_cycle_tier(self) -> None:
        memory = self._need_proposal()
        if memory is None:
            return
        tier = TIERS[(TIERS.index(memory.tier) + 1) % len(TIERS)] if memory.tier in TIERS else TIERS[0]
        self.submit("tier", lambda db: (tuple(memories.set_tier(db, [memory.id], tier)), f"tier {tier}"), memory.id)

    def action_approve_all(self) -> None:
        ids = [m.id for m in self.proposals.pending]
        if not ids:
            self.notify("Nothing pending in this session.", timeout=2)
            return
        self.submit("approve all", lambda db: (tuple(memories.approve(db, ids)), f"approved {len(ids)}"), ids[-1])

    def action_undo(self) -> None:
        def undo(db: SqliteDatabase) -> tuple[tuple[int, ...], str]:
            result = memories.undo(db)
            if result is None:
                return (), "Nothing to undo."
            return result.memory_ids, _undo_summary("Undid", result)

        self.submit("undo", undo, self._focus_for_undo())

    def action_redo(self) -> None:
        def redo(db: SqliteDatabase) -> tuple[tuple[int, ...], str]:
            result = memories.redo(db)
            if result is None:
                return (), "Nothing to redo."
            return result.memory_ids, _undo_summary("Redid", result)

        self.submit("redo", redo, self._focus_for_undo())

    def _focus_for_undo(self) -> int | None:
        memory = self.proposals.current
        return memory.id if memory else None

    def action_edit(self) -> None:
        memory = self._need_proposal()
        if memory is None:
            return

        def done(result: EditResult | None) -> None:
            if result is None:
                return
            text = result.text if result.text.strip() != memory.text else None
            tier = result.tier if result.tier != memory.tier else None
            kind = result.kind if result.kind != memory.kind else None
            if text is None and tier is None and kind is None:
                return
            self.submit(
                "edit",
                lambda db: (tuple(memories.edit(db, memory.id, text=text, tier=tier, kind=kind)), f"edited {memory.id}"),
                memory.id,
            )

        self.app.push_screen(EditScreen(memory), done)

    def action_next_session(self) -> None:
        self._move_session(+1)

    def action_previous_session(self) -> None:
        self._move_session(-1)

    def _move_session(self, step: int) -> None:
        sessions = self.sessions
        if not sessions.sessions:
            return
        current = sessions.highlighted if sessions.highlighted is not None else -1
        target = current + step
        if 0 <= target < len(sessions.sessions):
            sessions.highlighted = target
        else:
            self.app.bell()

    def action_jump(self) -> None:
        """Put the transcript's cursor on the selected proposal's evidence."""
        memory = self.proposals.current
        if memory is None:
            return
        evidence = sorted(
            (e for e in memory.evidence if e.message_id is not None),
            key=lambda e: (e.session_id != memory.session_id, e.position if e.position is not None else 1 << 60),
        )
        for item in evidence:
            if self.transcript.jump_to(item.message_id):
                self.transcript.focus()
                return
        self.notify("This proposal's evidence is not in this session's log.", severity="warning", timeout=3)

    def action_focus_proposals(self) -> None:
        self.proposals.focus()

    def action_focus_sessions(self) -> None:
        self.sessions.focus()

    def action_focus_transcript(self) -> None:
        self.transcript.focus()


def _undo_summary(verb: str, result: memories.UndoResult) -> str:
    ids = ", ".join(map(str, result.memory_ids[:10])) + ("…" if len(result.memory_ids) > 10 else "")
    n = len(result.memory_ids)
    return f"{verb} {result.action} of {n} memor{'y' if n == 1 else 'ies'} ({ids})"
