"""The list of sessions: unreviewed first, paged from the database."""

from __future__ import annotations

import os
from typing import Sequence

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from memtui.core.records import SessionRecord
from memtui.ui.text import one_line, when

PAGE = 200  # sessions per page read from the database


def session_prompt(session: SessionRecord) -> Content:
    """Two rows: pending count and title; project, tool and date. All transcript text is inert."""
    project = session.project_root or session.cwd or ""
    project = os.path.basename(project.rstrip("/")) or project or "-"
    title = one_line(session.title or "") or "(untitled)"
    if session.pending:
        badge = (f"{session.pending:>3} ", "$text-accent bold")
        title_style = "bold"
    else:
        badge = ("  · ", "dim")
        title_style = ""
    return Content.assemble(
        badge,
        (title[:300], title_style),
        "\n    ",
        (f"{when(session.started_at)} · {one_line(project)} · {session.tool}", "dim"),
    )


def _shown(session: SessionRecord) -> tuple:
    """What session_prompt shows of a session."""
    return (session.pending, session.title, session.project_root, session.cwd, session.started_at, session.tool)


class SessionList(OptionList):
    """Sessions as options whose id is the session id (as a string)."""

    class NeedMore(Message):
        """The highlight came near the end of what is loaded: read the next page."""

        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.sessions: list[SessionRecord] = []
        self.more = False
        self._asked_for = -1

    def session_at(self, index: int | None) -> SessionRecord | None:
        if index is None or not 0 <= index < len(self.sessions):
            return None
        return self.sessions[index]

    @property
    def current(self) -> SessionRecord | None:
        return self.session_at(self.highlighted)

    def index_of(self, session_id: int) -> int | None:
        for i, session in enumerate(self.sessions):
            if session.id == session_id:
                return i
        return None

    def set_sessions(
        self, sessions: Sequence[SessionRecord], more: bool, keep: int | None = None, keep_order: bool = False
    ) -> None:
        """Replace the list; keep the highlight on session `keep` if it is still there.

        With `keep_order` (a refresh while someone works through the list), sessions already shown
        keep their places and new ones come in at the top, so a reviewed session does not jump
        away from under the highlight.
        """
        if keep_order and self.sessions:
            fresh = {s.id: s for s in sessions}
            kept = [fresh.pop(s.id) for s in self.sessions if s.id in fresh]
            sessions = [s for s in sessions if s.id in fresh] + kept
        self.sessions = list(sessions)
        self.more = more
        self._asked_for = -1
        self.set_options([Option(session_prompt(s), id=str(s.id)) for s in self.sessions])
        index = self.index_of(keep) if keep is not None else None
        if index is None and self.sessions:
            index = 0
        if index is not None:
            self.highlighted = index

    def add_sessions(self, sessions: Sequence[SessionRecord], more: bool) -> None:
        known = {s.id for s in self.sessions}
        fresh = [s for s in sessions if s.id not in known]
        self.sessions.extend(fresh)
        self.more = more
        self.add_options([Option(session_prompt(s), id=str(s.id)) for s in fresh])

    def update_session(self, session: SessionRecord) -> None:
        """Show new counts for one session, in place (the order changes only on a reload)."""
        index = self.index_of(session.id)
        if index is None:
            return
        old, self.sessions[index] = self.sessions[index], session
        if _shown(old) != _shown(session):  # replacing a prompt re-measures and re-renders every option
            self.replace_option_prompt_at_index(index, session_prompt(session))

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if (
            highlighted is not None
            and self.more
            and highlighted >= len(self.sessions) - 20
            and self._asked_for != len(self.sessions)
        ):
            self._asked_for = len(self.sessions)
            self.post_message(self.NeedMore(len(self.sessions)))
