"""The Memories screen: every memory across tiers, filtered, sorted, searched, selected, acted on.

The list pages from the database (memtui.core.curate: a count and one page at a time); typing in
the search box ranks memories with a fuzzy search (memtui.core.search) in an exclusive thread
worker per keystroke, dropping stale results; a second mode searches the raw transcripts and
jumps to the hit on the Review screen. Bulk actions run the plain memtui.core.memories functions
on the selection, each one journal batch: `u` undoes one in one step (the same journal as the
Review screen and `memtui undo`).

`MemoryListScreen` is the part the Trash screen shares: loading pages, the selection, the queue
of bulk actions, undo and redo.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from typing import Callable, Sequence

from peewee import SqliteDatabase
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Select
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from memtui.core import curate, memories, store
from memtui.core.curate import MemoryQuery
from memtui.core.models import KINDS, STATUSES, TIERS
from memtui.core.records import MemoryRecord
from memtui.ui.screens.confirm import ChoiceScreen
from memtui.ui.text import one_line
from memtui.ui.widgets.memory_detail import MemoryDetail, project_label
from memtui.ui.widgets.memory_list import PAGE, MemoryList, flatten

# What a bulk action does to the database: (changed memory ids, a one-line summary).
BulkFunc = Callable[[SqliteDatabase], tuple[Sequence[int], str]]

SEARCH_LIMIT = 500  # fuzzy hits shown (select all takes every match)
RAW_LIMIT = 50


def shared_bindings(prefix: str) -> list[Binding]:
    """Keys every curate screen has: help and quit (in the help screen, not the footer), undo, redo."""
    return [
        Binding("question_mark", "app.help", "help", id="help", show=False, tooltip="Show every key and its binding id"),
        Binding("q", "app.quit", "quit", id="quit", show=False, tooltip="Quit memtui"),
        Binding("u", "undo", "undo", id=f"{prefix}.undo",
                tooltip="Undo the last action in one step (the same journal as Review and 'memtui undo')"),
        Binding("U", "redo", "redo", id=f"{prefix}.redo", show=False, tooltip="Redo what undo undid"),
    ]


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def memories_word(n: int) -> str:
    return plural(n, "memory", "memories")


ANY = ""  # the "any ..." choice of a filter menu


def _options(pairs: Sequence[tuple[str, str]]) -> list[tuple[Content, str]]:
    return [(Content(label), value) for label, value in pairs]


# --- messages from the workers -------------------------------------------------------------


class ListLoaded(Message):
    """The count of a listing and the page at `offset`."""

    def __init__(self, generation: int, total: int, offset: int, records: tuple[MemoryRecord, ...]) -> None:
        super().__init__()
        self.generation = generation
        self.total = total
        self.offset = offset
        self.records = records


class PageLoaded(Message):
    def __init__(self, generation: int, offset: int, records: tuple[MemoryRecord, ...]) -> None:
        super().__init__()
        self.generation = generation
        self.offset = offset
        self.records = records


class IdsLoaded(Message):
    """Ids to select: every match of the filter/search, or a shift+click range."""

    def __init__(self, generation: int, ids: tuple[int, ...], replace: bool) -> None:
        super().__init__()
        self.generation = generation
        self.ids = ids
        self.replace = replace


class BulkDone(Message):
    def __init__(self, action: str, changed: tuple[int, ...], summary: str, leaves: bool) -> None:
        super().__init__()
        self.action = action
        self.changed = changed
        self.summary = summary
        self.leaves = leaves  # the changed memories leave this listing (forget, restore, purge)


class BulkFailed(Message):
    def __init__(self, action: str, error: str) -> None:
        super().__init__()
        self.action = action
        self.error = error


class ProjectsLoaded(Message):
    def __init__(self, projects: tuple[tuple[int, str], ...]) -> None:
        super().__init__()
        self.projects = projects


class HitsLoaded(Message):
    """Fuzzy search hits for `text` (best first)."""

    def __init__(self, text: str, generation: int, hits: tuple, keep_cursor: bool = False) -> None:
        super().__init__()
        self.text = text
        self.generation = generation
        self.hits = hits
        self.keep_cursor = keep_cursor  # the same search again (the data changed): stay in place


class RawHitsLoaded(Message):
    def __init__(self, text: str, hits: tuple) -> None:
        super().__init__()
        self.text = text
        self.hits = hits


class SearchFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class VersionChecked(Message):
    def __init__(self, version: tuple) -> None:
        super().__init__()
        self.version = version


class OriginLoaded(Message):
    """A memory with its evidence, to jump to where it came from."""

    def __init__(self, memory: MemoryRecord | None) -> None:
        super().__init__()
        self.memory = memory


def _undo_summary(verb: str, result: memories.UndoResult) -> str:
    return f"{verb} {result.action} of {memories_word(len(result.memory_ids))}"


def origin_of(memory: MemoryRecord) -> tuple[int | None, int | None]:
    """(session id, message id) to show for a memory: its first evidence in its own session."""
    evidence = sorted(
        (e for e in memory.evidence if e.message_id is not None and e.session_id is not None),
        key=lambda e: (e.session_id != memory.session_id, e.position if e.position is not None else 1 << 60),
    )
    if evidence:
        return evidence[0].session_id, evidence[0].message_id
    return memory.session_id, None


async def jump_to_review(screen: Screen, session_id: int, message_id: int | None) -> None:
    """Show the Review screen at a session's message (ReviewScreen.show_message)."""
    app = screen.app
    await app.action_show_screen("review")  # type: ignore[attr-defined]
    await app.review.show_message(session_id, message_id)  # type: ignore[attr-defined]


class MemoryListScreen(Screen):
    """A screen around one paged MemoryList: loading, selection, bulk actions, undo/redo."""

    LIST_ID = "memories"
    LEAVING_ACTIONS = frozenset({"forget", "restore", "purge"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._actions: deque[tuple[str, BulkFunc, bool]] = deque()
        self._busy = False
        self._started = False
        self.version: tuple | None = None  # memtui.core.store.data_version when last shown
        self.data_generation = 0  # bumped whenever the data changed since

    # --- to fill in -----------------------------------------------------------------------

    def memory_query(self) -> MemoryQuery:
        raise NotImplementedError

    def set_titles(self) -> None:
        """Show counts in the pane titles."""

    # --- parts ----------------------------------------------------------------------------

    @property
    def memory_list(self) -> MemoryList:
        return self.query_one(f"#{self.LIST_ID}", MemoryList)

    @property
    def detail(self) -> MemoryDetail:
        return self.query_one(MemoryDetail)

    def on_mount(self) -> None:
        self.memory_list.empty_text = "Loading…"
        self._start_when_ready()

    def _start_when_ready(self) -> None:
        if getattr(self.app, "db", None) is None:
            self.set_timer(0.05, self._start_when_ready)
            return
        self._started = True
        self.start()

    def start(self) -> None:
        """The database is open: load, and look for other writers as often as Review does."""
        self._check_version()
        interval = getattr(self.app, "poll_interval", None)
        if interval:
            self.set_interval(interval, self._poll, name="poll")

    def on_screen_resume(self) -> None:
        # Something may have changed on another screen (Review, the CLI) while this was hidden.
        if self._started:
            self._check_version()

    def _poll(self) -> None:
        if self.is_current:
            self._check_version()

    @work(thread=True, exclusive=True, group="version")
    def _check_version(self) -> None:
        with self.app.connection() as db:
            version = store.data_version(db)
        self.post_message(VersionChecked(version))

    def on_version_checked(self, message: VersionChecked) -> None:
        if message.version != self.version:
            self.version = message.version
            self.data_generation += 1
            self.data_changed()

    def data_changed(self) -> None:
        """The database changed (here, on another screen or in another process): show it."""
        self.reload()

    def reload(self, keep_cursor: bool = True) -> None:
        """Read the count and the page at the cursor again (filters or data changed)."""
        if not self._started:
            return
        memory_list = self.memory_list
        generation = memory_list.new_generation()
        page = memory_list.cursor // PAGE if keep_cursor else 0
        if not keep_cursor:
            memory_list.cursor = 0
        self._load_list(self.memory_query(), generation, page * PAGE, keep_cursor)

    @work(thread=True, exclusive=True, group="list")
    def _load_list(self, query: MemoryQuery, generation: int, offset: int, keep_cursor: bool) -> None:
        with self.app.connection() as db:
            total = curate.count_memories(db, query)
            if offset >= total:
                offset = max(0, (total - 1) // PAGE * PAGE)
            records = curate.page_memories(db, query, offset, PAGE) if total else []
        if not get_current_worker().is_cancelled:
            self.post_message(ListLoaded(generation, total, offset, tuple(records)))

    def on_list_loaded(self, message: ListLoaded) -> None:
        self.memory_list.set_page_source(message.total, message.generation, message.offset, message.records)
        self.memory_list.empty_text = self.empty_text()
        self.set_titles()

    def empty_text(self) -> str:
        return "No memories match these filters."

    @on(MemoryList.NeedPage)
    def _need_page(self, message: MemoryList.NeedPage) -> None:
        self._load_page(self.memory_query(), message.generation, message.page * PAGE)

    @work(thread=True, group="pages")
    def _load_page(self, query: MemoryQuery, generation: int, offset: int) -> None:
        with self.app.connection() as db:
            records = curate.page_memories(db, query, offset, PAGE)
        self.post_message(PageLoaded(generation, offset, tuple(records)))

    def on_page_loaded(self, message: PageLoaded) -> None:
        self.memory_list.add_page(message.generation, message.offset, message.records)

    @on(MemoryList.RangeWanted)
    def _range_wanted(self, message: MemoryList.RangeWanted) -> None:
        self._load_range(self.memory_query(), message.generation, message.start, message.end)

    @work(thread=True, group="pages")
    def _load_range(self, query: MemoryQuery, generation: int, start: int, end: int) -> None:
        with self.app.connection() as db:
            records = curate.page_memories(db, query, start, end - start)
        self.post_message(IdsLoaded(generation, tuple(m.id for m in records), replace=False))

    def on_ids_loaded(self, message: IdsLoaded) -> None:
        memory_list = self.memory_list
        if message.generation != memory_list.generation:
            return
        memory_list.select_ids(message.ids, replace=message.replace)
        if message.replace:
            self.notify(f"Selected {memories_word(len(message.ids))}.", timeout=2, markup=False)

    @on(MemoryList.Highlighted)
    def _highlighted(self, message: MemoryList.Highlighted) -> None:
        self.show_detail(message.memory)

    def show_detail(self, memory: MemoryRecord | None) -> None:
        self.detail.show(memory)

    @on(MemoryList.SelectionChanged)
    def _selection_changed(self) -> None:
        self.set_titles()

    # --- selection ------------------------------------------------------------------------

    def action_toggle_select(self) -> None:
        memory_list = self.memory_list
        memory_list.toggle()
        memory_list.cursor += 1

    def action_select_all(self) -> None:
        """Select every memory matching the current filters (and search)."""
        if self._started:
            self._select_all(self.memory_query(), self.memory_list.generation)

    @work(thread=True, exclusive=True, group="select")
    def _select_all(self, query: MemoryQuery, generation: int) -> None:
        with self.app.connection() as db:
            ids = curate.memory_ids(db, query)
        self.post_message(IdsLoaded(generation, tuple(ids), replace=True))

    def action_clear_selection(self) -> None:
        memory_list = self.memory_list
        if memory_list.selected:
            count = len(memory_list.selected)
            memory_list.clear_selection()
            self.notify(f"Cleared the selection ({memories_word(count)}).", timeout=2, markup=False)

    def targets(self) -> list[int]:
        """What a bulk action acts on: the selection, else the memory at the cursor."""
        memory_list = self.memory_list
        if memory_list.selected:
            return sorted(memory_list.selected)
        current = memory_list.current
        return [current.id] if current is not None else []

    # --- bulk actions ---------------------------------------------------------------------

    def submit(self, action: str, func: BulkFunc) -> None:
        """Queue a write: they run one at a time, in order, each in a thread worker."""
        if not self._started:
            return
        self._actions.append((action, func, action in self.LEAVING_ACTIONS))
        self._drain()

    def _drain(self) -> None:
        if self._busy or not self._actions:
            return
        self._busy = True
        action, func, leaves = self._actions.popleft()
        self._run_bulk(action, func, leaves)

    @work(thread=True, group="actions")
    def _run_bulk(self, action: str, func: BulkFunc, leaves: bool) -> None:
        try:
            changed, summary = self.app.write(func, action)
        except memories.MemoryError_ as exc:
            self.post_message(BulkFailed(action, str(exc)))
        except Exception as exc:  # a locked database, a full disk: say so, keep running
            self.post_message(BulkFailed(action, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(BulkDone(action, tuple(changed), summary, leaves))

    def on_bulk_done(self, message: BulkDone) -> None:
        self._busy = False
        if message.leaves:
            self.memory_list.deselect_ids(message.changed)
        self.notify(message.summary, title=message.action, timeout=3, markup=False)
        self._check_version()
        review = getattr(self.app, "review", None)
        if review is not None and getattr(review, "db", None) is not None:
            review.poll()  # the Review screen shows the change when it is back
        self._drain()

    # --- the project menu (the screens that have one) -------------------------------------

    PROJECT_SELECT: str | None = None  # the Select listing the projects, if any
    projects: tuple[tuple[int, str], ...] = ()

    @work(thread=True, exclusive=True, group="projects")
    def _load_projects(self) -> None:
        with self.app.connection() as db:
            projects = curate.list_projects(db)
        self.post_message(ProjectsLoaded(tuple(projects)))

    def on_projects_loaded(self, message: ProjectsLoaded) -> None:
        """Projects by folder name (their full path where two share a name); keeps the choice."""
        if message.projects == self.projects or self.PROJECT_SELECT is None:
            return
        self.projects = message.projects
        select = self.query_one(self.PROJECT_SELECT, Select)
        current = select.value
        names = [project_label(root) for _, root in message.projects]
        options = [("any project", ANY)] + [
            (name if names.count(name) == 1 else one_line(root), root) for name, (_, root) in zip(names, message.projects)
        ]
        with select.prevent(Select.Changed):
            select.set_options(_options(options))
            if current in {value for _, value in options}:
                select.value = current

    def on_bulk_failed(self, message: BulkFailed) -> None:
        self._busy = False
        self.notify(message.error, title=f"{message.action} failed", severity="error", markup=False)
        self._drain()

    def bulk(self, action: str, func: Callable[[SqliteDatabase, list[int]], list[int]], done: str,
             unchanged: str = "Nothing to change.") -> None:
        """Run `func(db, ids)` on the targets; `done` is a verb ("Forgot")."""
        ids = self.targets()
        if not ids:
            self.app.bell()
            self.notify("Nothing selected.", severity="warning", timeout=2)
            return

        def run(db: SqliteDatabase) -> tuple[Sequence[int], str]:
            changed = func(db, ids)
            if not changed:
                return (), unchanged
            return changed, f"{done} {memories_word(len(changed))} · u undoes"

        self.submit(action, run)

    def action_undo(self) -> None:
        def undo(db: SqliteDatabase) -> tuple[Sequence[int], str]:
            result = memories.undo(db)
            return ((), "Nothing to undo.") if result is None else (result.memory_ids, _undo_summary("Undid", result))

        self.submit("undo", undo)

    def action_redo(self) -> None:
        def redo(db: SqliteDatabase) -> tuple[Sequence[int], str]:
            result = memories.redo(db)
            return ((), "Nothing to redo.") if result is None else (result.memory_ids, _undo_summary("Redid", result))

        self.submit("redo", redo)

    def action_forget(self) -> None:
        self.bulk("forget", memories.forget, "Forgot", "Already in the trash.")

    def action_restore(self) -> None:
        self.bulk("restore", memories.restore, "Restored", "Not in the trash: nothing to restore.")

    def action_reload(self) -> None:
        self.version = None
        self._check_version()


# --- the Memories screen -------------------------------------------------------------------

AGES: dict[str, tuple[str, float | None, float | None]] = {
    ANY: ("any age", None, None),
    "old7": ("older 7d", 7, None),
    "old30": ("older 30d", 30, None),
    "old90": ("older 90d", 90, None),
    "unseen30": ("unseen 30d", None, 30),
    "unseen90": ("unseen 90d", None, 90),
}
SORT_LABELS = {"last_seen": "last seen ↓", "created": "created ↓", "confidence": "confidence ↓"}
DATE_FIELD = {"last_seen": "last_seen_at", "created": "created_at", "confidence": "last_seen_at"}


class MemoriesScreen(MemoryListScreen):
    """Browse, search, select and curate every memory."""

    AUTO_FOCUS = "#memories"
    PROJECT_SELECT = "#filter-project"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("slash", "focus_search", "search", id="memories.search", show=False,
                tooltip="Type to search: fuzzy over the memories, or full text over the transcripts (ctrl+t)"),
        Binding("ctrl+t", "toggle_mode", "memories/transcripts", id="memories.mode", show=False,
                tooltip="Switch the search between memories (fuzzy) and the raw transcripts (full text)"),
        Binding("space", "toggle_select", "select", id="memories.toggle",
                tooltip="Select or unselect the memory at the cursor (shift+click or shift+↑↓ extend a range)"),
        Binding("ctrl+a", "select_all", "all", id="memories.select_all",
                tooltip="Select every memory matching the filters and the search"),
        Binding("escape", "escape", "clear", id="memories.clear", show=False,
                tooltip="Clear the selection (from the search box: back to the list)"),
        Binding("f,delete", "forget", "forget", id="memories.forget",
                tooltip="Forget the selected memories (or the one at the cursor): into the trash, undoable"),
        Binding("r", "restore", "restore", id="memories.restore", show=False,
                tooltip="Restore the selected memories from the trash (status filter: in trash)"),
        Binding("p", "pin", "pin", id="memories.pin",
                tooltip="Pin the selected memories (pinned ones export first and are never forgotten as stale)"),
        Binding("P", "unpin", "unpin", id="memories.unpin", show=False, tooltip="Unpin the selected memories"),
        Binding("a", "approve", "approve", id="memories.approve", tooltip="Approve the selected memories"),
        Binding("t", "move_tier", "tier", id="memories.tier",
                tooltip="Move the selected memories to another tier: developer, project or session"),
        Binding("k", "change_kind", "kind", id="memories.kind", tooltip="Change the kind of the selected memories"),
        *shared_bindings("memories"),
        Binding("enter", "origin", "origin", id="memories.origin",
                tooltip="Jump to where the memory came from: its session and evidence on the Review screen"),
        Binding("s", "cycle_sort", "sort", id="memories.sort", show=False,
                tooltip="Sort by last seen, created or confidence (newest or highest first)"),
        Binding("ctrl+r", "reload", "reload", id="memories.reload", show=False, tooltip="Read the memories again"),
    ]

    def __init__(self) -> None:
        super().__init__(id="memories-screen")
        self.search_text = ""
        self.raw_mode = False
        self.hits_shown = 0
        self.raw_hits: tuple = ()
        self._index = None  # (key, MemoryIndex) built in a worker for the current filters and data
        self._index_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Header(id="header")
        with Horizontal(id="memories-search-bar"):
            yield Select(
                _options([("memories", "memories"), ("transcripts", "transcripts")]),
                value="memories", allow_blank=False, compact=True, id="search-mode",
                tooltip="Search the memories (fuzzy) or the raw transcripts (full text): ctrl+t",
            )
            yield Input(placeholder="/ to search memories (fuzzy: typos and word order forgiven)…", compact=True,
                        id="memories-search")
        with Horizontal(id="memories-filters"):
            yield Select(_options([("any tier", ANY)] + [(t, t) for t in TIERS]), value=ANY, allow_blank=False,
                         compact=True, id="filter-tier", tooltip="Tier")
            yield Select(_options([("any project", ANY)]), value=ANY, allow_blank=False, compact=True,
                         id="filter-project", tooltip="Project")
            yield Select(_options([("any kind", ANY)] + [(k.replace("_", " "), k) for k in KINDS]), value=ANY,
                         allow_blank=False, compact=True, id="filter-kind", tooltip="Kind")
            yield Select(_options([("any status", ANY)] + [(s, s) for s in STATUSES] + [("in trash", "forgotten")]),
                         value=ANY, allow_blank=False, compact=True, id="filter-status", tooltip="Status")
            yield Select(_options([("pinned or not", ANY), ("pinned", "yes"), ("not pinned", "no")]), value=ANY,
                         allow_blank=False, compact=True, id="filter-pinned", tooltip="Pinned")
            yield Select(_options([(label, key) for key, (label, _, _) in AGES.items()]), value=ANY,
                         allow_blank=False, compact=True, id="filter-age",
                         tooltip="Age: created more than N days ago, or not seen for N days")
            yield Select(_options([(label, key) for key, label in SORT_LABELS.items()]), value="last_seen",
                         allow_blank=False, compact=True, id="filter-sort", tooltip="Sort order")
        with Vertical(id="memories-pane", classes="pane"):
            yield MemoryList(id="memories")
            yield OptionList(id="raw-hits")
        with Vertical(id="memories-detail-pane", classes="pane detail-pane"):
            yield MemoryDetail(id="memories-detail")
        yield Footer(id="footer", compact=True)

    def on_mount(self) -> None:
        self.query_one("#raw-hits").display = False
        self.sub_title = "Memories"
        super().on_mount()
        self.set_titles()

    # --- the query ------------------------------------------------------------------------

    def _value(self, select_id: str) -> str:
        value = self.query_one(f"#{select_id}", Select).value
        return value if isinstance(value, str) else ANY

    def memory_query(self) -> MemoryQuery:
        tier, kind, status = self._value("filter-tier"), self._value("filter-kind"), self._value("filter-status")
        project, pinned, age = self._value("filter-project"), self._value("filter-pinned"), self._value("filter-age")
        _, older, unseen = AGES.get(age, AGES[ANY])
        return MemoryQuery(
            tiers=(tier,) if tier else (),
            statuses=(status,) if status and status != "forgotten" else (),
            kinds=(kind,) if kind else (),
            project=project or None,
            pinned=None if not pinned else pinned == "yes",
            older_than_days=older,
            unseen_for_days=unseen,
            forgotten=status == "forgotten",
            sort=self._value("filter-sort") or "last_seen",
        )

    @on(Select.Changed, "#memories-filters Select")
    def _filter_changed(self, event: Select.Changed) -> None:
        self.memory_list.date_field = DATE_FIELD.get(self._value("filter-sort"), "last_seen_at")
        if event.select.id != "filter-sort":
            self._drop_selection("the filters changed")
        self.refresh_listing(keep_cursor=False)

    def _drop_selection(self, why: str) -> None:
        """A selection made under other filters or another search would act on memories no longer
        shown: it goes, and the person is told."""
        memory_list = self.memory_list
        if memory_list.selected:
            count = len(memory_list.selected)
            memory_list.clear_selection()
            self.notify(f"Cleared the selection ({memories_word(count)}): {why}.", timeout=3, markup=False)

    def empty_text(self) -> str:
        if self.memory_query() == MemoryQuery(sort=self.memory_query().sort):
            return ("No memories yet.\n\nApprove proposals on the Review screen (1),"
                    " or add one with: memtui add TEXT")
        return "No memories match these filters."

    def refresh_listing(self, keep_cursor: bool = True) -> None:
        """Show the listing again: the search hits when searching, else pages."""
        if self.raw_mode:
            if self.search_text:
                self.run_raw_search(self.search_text)
            return
        if self.search_text:
            self.run_search(self.search_text, self.memory_query(), self.data_generation, keep_cursor)
        else:
            self.reload(keep_cursor=keep_cursor)

    def data_changed(self) -> None:
        self._load_projects()
        self.refresh_listing()

    def action_cycle_sort(self) -> None:
        select = self.query_one("#filter-sort", Select)
        keys = list(SORT_LABELS)
        current = select.value if select.value in keys else keys[0]
        select.value = keys[(keys.index(current) + 1) % len(keys)]

    # --- titles ---------------------------------------------------------------------------

    def set_titles(self) -> None:
        memory_list = self.memory_list
        pane = self.query_one("#memories-pane")
        selected = len(memory_list.selected)
        if self.raw_mode:
            title = "Transcripts · " + (
                plural(len(self.raw_hits), "hit") + (f" for “{one_line(self.search_text)[:40]}”")
                if self.search_text else "type to search the raw logs"
            )
        elif self.search_text:
            more = "+" if self.hits_shown >= SEARCH_LIMIT else ""
            title = f"Memories · {plural(memory_list.total, 'match', 'matches')}{more} for “{one_line(self.search_text)[:40]}”"
        else:
            title = f"Memories · {memories_word(memory_list.total)}"
        if selected and not self.raw_mode:
            title += f" · {selected:,} selected"
        pane.border_title = Content(title)
        if self.raw_mode:
            pane.border_subtitle = Content("enter: show in Review")
        elif self.search_text:
            pane.border_subtitle = Content("best first")
        else:
            pane.border_subtitle = Content(f"by {SORT_LABELS.get(self._value('filter-sort'), '')}")

    # --- search ---------------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one("#memories-search", Input).focus()

    def action_escape(self) -> None:
        """From the search box: back to the results; elsewhere: clear the selection."""
        if isinstance(self.focused, Input):
            self._focus_results()
        else:
            self.action_clear_selection()

    _LIST_ACTIONS = frozenset({
        "toggle_select", "select_all", "forget", "restore", "pin", "unpin", "approve", "move_tier", "change_kind",
        "origin", "cycle_sort",
    })

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Searching the transcripts: the memory keys have nothing to act on (hidden from the footer)."""
        if self.raw_mode and action in self._LIST_ACTIONS:
            return False
        return True

    def _focus_results(self) -> None:
        (self.query_one("#raw-hits") if self.raw_mode else self.memory_list).focus()

    @on(Input.Submitted, "#memories-search")
    def _search_submitted(self) -> None:
        self._focus_results()

    @on(Input.Changed, "#memories-search")
    def _search_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        if text == self.search_text:
            return
        self.search_text = text
        self._drop_selection("the search changed")
        if self.raw_mode:
            if text:
                self.run_raw_search(text)
            else:
                self.raw_hits = ()
                self.query_one("#raw-hits", OptionList).clear_options()
                self.set_titles()
            return
        if text:
            self.run_search(text, self.memory_query(), self.data_generation)
        else:
            self.reload(keep_cursor=False)

    def memory_index(self, query: MemoryQuery, generation: int):  # noqa: ANN201 (memtui.core.search.MemoryIndex)
        """The fuzzy index of the memories matching `query` as of data `generation` (built here,
        in the calling worker, when the filters or the data changed; the old one is closed)."""
        from memtui.core.search import MemoryIndex

        key = (query, generation)
        with self._index_lock:
            if self._index is None or self._index[0] != key:
                with self.app.connection() as db:
                    index = MemoryIndex(db, query)
                old, self._index = self._index, (key, index)
                if old is not None:
                    old[1].close()  # a stale search still using it fails quietly (below)
            return self._index[1]

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """About to type: build the fuzzy index now (in a worker), not on the first keystroke;
        on 100,000 memories that takes over a second. The first search waits for it if need be."""
        if event.widget.id == "memories-search" and self._started and not self.raw_mode and not self.search_text:
            self.prepare_index(self.memory_query(), self.data_generation)

    @work(thread=True, exclusive=True, group="index")
    def prepare_index(self, query: MemoryQuery, generation: int) -> None:
        try:
            self.memory_index(query, generation)
        except sqlite3.Error:
            pass  # the search that needs it builds it again and reports what fails

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, text: str, query: MemoryQuery, generation: int, keep_cursor: bool = False) -> None:
        """Rank the memories matching the filters against `text` (one worker per keystroke)."""
        worker = get_current_worker()
        try:
            index = self.memory_index(query, generation)
            if worker.is_cancelled:
                return
            hits = index.search(text, limit=SEARCH_LIMIT)
        except sqlite3.Error as exc:
            if not worker.is_cancelled:  # (a cancelled one: its index was replaced while it ran)
                self.post_message(SearchFailed(f"{type(exc).__name__}: {exc}"))
            return
        if not worker.is_cancelled:
            self.post_message(HitsLoaded(text, generation, tuple(hits), keep_cursor))

    def on_hits_loaded(self, message: HitsLoaded) -> None:
        if message.text != self.search_text or self.raw_mode:
            return  # typed on since: a newer search is on its way
        self.hits_shown = len(message.hits)
        self.memory_list.set_ranked(
            [h.memory for h in message.hits], [h.spans for h in message.hits], keep_cursor=message.keep_cursor
        )
        self.memory_list.empty_text = f"No memory matches “{one_line(message.text)[:60]}”."
        self.set_titles()

    def action_select_all(self) -> None:
        if self.raw_mode or not self._started:
            return
        if self.search_text:
            self._select_all_matches(self.search_text, self.memory_query(), self.data_generation,
                                     self.memory_list.generation)
        else:
            super().action_select_all()

    @work(thread=True, exclusive=True, group="select")
    def _select_all_matches(self, text: str, query: MemoryQuery, data_generation: int, generation: int) -> None:
        try:
            ids = self.memory_index(query, data_generation).ids(text)
        except sqlite3.Error as exc:
            self.post_message(SearchFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(IdsLoaded(generation, tuple(ids), replace=True))

    def on_search_failed(self, message: SearchFailed) -> None:
        self.notify(message.error, title="search failed", severity="error", markup=False)

    def on_unmount(self) -> None:
        if self._index is not None:
            self._index[1].close()

    # --- raw transcript search ------------------------------------------------------------

    def action_toggle_mode(self) -> None:
        select = self.query_one("#search-mode", Select)
        select.value = "transcripts" if select.value == "memories" else "memories"

    @on(Select.Changed, "#search-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        raw = event.value == "transcripts"
        if raw == self.raw_mode:
            return
        self.raw_mode = raw
        search = self.query_one("#memories-search", Input)
        search.placeholder = (
            "Search the raw transcripts (full text)…" if raw
            else "/ to search memories (fuzzy: typos and word order forgiven)…"
        )
        self.memory_list.display = not raw
        self.query_one("#raw-hits").display = raw
        self.query_one("#memories-filters").disabled = raw
        self.refresh_bindings()
        if raw:
            self.raw_hits = ()
            self.query_one("#raw-hits", OptionList).clear_options()
            self.detail.show(None, "Choose a hit (enter or click) to see it in its session on the Review screen.")
        self.refresh_listing(keep_cursor=False)
        self.set_titles()
        search.focus()

    @work(thread=True, exclusive=True, group="search")
    def run_raw_search(self, text: str) -> None:
        from memtui.core.search import search_raw

        with self.app.connection() as db:
            hits = search_raw(db, text, limit=RAW_LIMIT)
        if not get_current_worker().is_cancelled:
            self.post_message(RawHitsLoaded(text, tuple(hits)))

    def on_raw_hits_loaded(self, message: RawHitsLoaded) -> None:
        if message.text != self.search_text or not self.raw_mode:
            return
        self.raw_hits = message.hits
        options = self.query_one("#raw-hits", OptionList)
        options.set_options([Option(raw_hit_prompt(hit), id=str(i)) for i, hit in enumerate(message.hits)])
        if message.hits:
            options.highlighted = 0
        else:
            self.detail.show(None, f"Nothing in the transcripts matches “{one_line(message.text)[:60]}”.")
        self.set_titles()

    @on(OptionList.OptionHighlighted, "#raw-hits")
    def _raw_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = event.option_index
        if 0 <= index < len(self.raw_hits):
            self.detail.show_content(raw_hit_detail(self.raw_hits[index]))

    @on(OptionList.OptionSelected, "#raw-hits")
    async def _raw_selected(self, event: OptionList.OptionSelected) -> None:
        index = event.option_index
        if 0 <= index < len(self.raw_hits):
            hit = self.raw_hits[index]
            await jump_to_review(self, hit.session_id, hit.message_id)

    # --- bulk actions ---------------------------------------------------------------------

    def action_pin(self) -> None:
        self.bulk("pin", lambda db, ids: memories.pin(db, ids, True), "Pinned", "Already pinned.")

    def action_unpin(self) -> None:
        self.bulk("unpin", lambda db, ids: memories.pin(db, ids, False), "Unpinned", "Not pinned: nothing to unpin.")

    def action_approve(self) -> None:
        self.bulk("approve", memories.approve, "Approved", "Already approved.")

    def action_move_tier(self) -> None:
        ids = self.targets()
        if not ids:
            self.app.bell()
            return
        current = self.memory_list.current
        choices = [(t, f"{t} — {TIER_HELP[t]}") for t in TIERS]

        def chosen(tier: str | None) -> None:
            if tier:
                self.bulk("move tier", lambda db, ids: memories.set_tier(db, ids, tier), f"Moved to the {tier} tier:",
                          f"Already in the {tier} tier.")

        self.app.push_screen(
            ChoiceScreen(f"Move {memories_word(len(ids))} to the tier", choices, current.tier if current else None), chosen
        )

    def action_change_kind(self) -> None:
        ids = self.targets()
        if not ids:
            self.app.bell()
            return
        current = self.memory_list.current

        def chosen(kind: str | None) -> None:
            if kind:
                self.bulk("change kind", lambda db, ids: memories.set_kind(db, ids, kind),
                          f"Made {kind.replace('_', ' ')}:", f"Already {kind.replace('_', ' ')}.")

        self.app.push_screen(
            ChoiceScreen(f"Change the kind of {memories_word(len(ids))}", [(k, k.replace("_", " ")) for k in KINDS],
                         current.kind if current else None),
            chosen,
        )

    # --- jumping to the origin ------------------------------------------------------------

    def action_origin(self) -> None:
        memory = self.memory_list.current
        if memory is None:
            self.app.bell()
            return
        self._load_origin(memory.id)

    @on(MemoryList.Chosen)
    def _chosen(self, message: MemoryList.Chosen) -> None:
        self._load_origin(message.memory.id)

    @work(thread=True, exclusive=True, group="origin")
    def _load_origin(self, memory_id: int) -> None:
        with self.app.connection() as db:
            memory = memories.get_memory(db, memory_id)
        self.post_message(OriginLoaded(memory))

    async def on_origin_loaded(self, message: OriginLoaded) -> None:
        memory = message.memory
        if memory is None:
            return
        session_id, message_id = origin_of(memory)
        if session_id is None:
            self.notify("This memory has no origin session (it was added by hand or loaded).", timeout=3,
                        severity="warning", markup=False)
            return
        await jump_to_review(self, session_id, message_id)


TIER_HELP = {
    "developer": "your own ways, across every project",
    "project": "this repository's decisions and conventions",
    "session": "what happened in one session (goes stale)",
}


def _raw_where(hit) -> str:  # noqa: ANN001 (memtui.core.search.RawHit)
    what = hit.role if hit.kind == "text" else hit.kind.replace("_", " ")
    return f"{what} · message #{hit.position}"


def _raw_snippet(hit) -> Content:  # noqa: ANN001
    snippet, spans = flatten(hit.snippet or "", tuple(hit.spans or ()))
    line = Content(snippet)
    for start, end in spans:
        line = line.stylize("$text-accent bold underline", start, end)
    return line


def raw_hit_prompt(hit) -> Content:  # noqa: ANN001
    """Two rows (each cut to the width): the snippet with the matches highlighted; where it is."""
    title = one_line(hit.session_title or "") or "(untitled)"
    project = project_label(hit.project) if hit.project else "-"
    return Content.assemble(
        _raw_snippet(hit), "\n", ("  ", ""), (f"{project} · {_raw_where(hit)} · ", "dim"), (title[:200], "dim italic")
    )


def raw_hit_detail(hit) -> Content:  # noqa: ANN001
    return Content.assemble(
        _raw_snippet(hit), "\n",
        ("session ", "dim"), (one_line(hit.session_title or "(untitled)")[:300], "bold"), "\n",
        (f"{one_line(hit.project or '-')} · {one_line(hit.tool)} · {_raw_where(hit)}", "dim"), "\n",
        ("enter or click: show it in its session on the Review screen", "dim italic"),
    )
