"""A virtual list of memories: one row each, paged from the database, with a multi-selection.

The list knows how many memories match (`total`) and holds only the pages it has been given;
rows it does not have yet show as "…" and it asks for their page with `NeedPage` (the screen reads
it in a thread worker and hands it back with `add_page`). Only a bounded number of pages is kept,
so 100,000 memories cost a scrollbar and a few pages, never 100,000 widgets or records.

A second mode shows a fixed, ranked list (the hits of a fuzzy search), with the matched
characters highlighted.

The selection is a set of memory ids (it survives paging and reloads): space toggles the row at
the cursor, shift+click or shift+up/down extends a range from the last toggled row.
Memory text is inert: it goes out as plain Segments, never markup.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from memtui.core.records import MemoryRecord
from memtui.ui.text import inert, truncate, when, width_of, wrap

PAGE = 100  # memories per page read from the database
KEEP_PAGES = 24  # pages kept in memory (the ones nearest the cursor)

STATUS_MARK = {"proposed": "●", "approved": "✓", "rejected": "✗"}
TIER_SHORT = {"developer": "dev", "project": "proj", "session": "sess"}
Spans = tuple[tuple[int, int], ...]


def flatten(text: str, spans: Spans = ()) -> tuple[str, list[tuple[int, int]]]:
    """`text` on one line and inert (runs of whitespace become one space, controls made visible),
    with `spans` (character ranges in `text`) moved to where they are in the result."""
    out: list[str] = []
    starts: list[int] = []  # where each character of `text` begins in the result
    length = 0
    previous_space = True  # also drops leading whitespace
    for char in text:
        starts.append(length)
        if char.isspace():
            if not previous_space:
                out.append(" ")
                length += 1
            previous_space = True
            continue
        previous_space = False
        piece = inert(char) if not char.isprintable() else char
        out.append(piece)
        length += len(piece)
    starts.append(length)
    flat = "".join(out).rstrip()
    moved = []
    for start, end in spans:
        start, end = max(0, start), min(len(text), end)
        if start < end:
            a, b = starts[start], min(starts[end], len(flat))
            if a < b:
                moved.append((a, b))
    return flat, moved


def project_name(memory: MemoryRecord) -> str:
    if memory.tier == "developer" or not memory.project_root:
        return "—"
    root = memory.project_root.rstrip("/")
    return os.path.basename(root) or root


class MemoryList(ScrollView, can_focus=True):
    """Memories, one per row, paged or ranked, with a selection of ids."""

    COMPONENT_CLASSES = {
        "memory-list--cursor",
        "memory-list--selected",
        "memory-list--check",
        "memory-list--match",
        "memory-list--meta",
        "memory-list--kind",
        "memory-list--pinned",
        "memory-list--proposed",
        "memory-list--approved",
        "memory-list--rejected",
        "memory-list--loading",
    }

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("shift+up", "extend_up", "Extend selection up", show=False),
        Binding("shift+down", "extend_down", "Extend selection down", show=False),
        Binding("pageup", "page_up_cursor", "Page up", show=False),
        Binding("pagedown", "page_down_cursor", "Page down", show=False),
        Binding("home", "cursor_home", "Top", show=False),
        Binding("end", "cursor_end", "Bottom", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class _ListMessage(Message):
        def __init__(self, memory_list: MemoryList) -> None:
            super().__init__()
            self.memory_list = memory_list

        @property
        def control(self) -> MemoryList:
            return self.memory_list

    class NeedPage(_ListMessage):
        """Rows of page `page` (offset page * PAGE) are on screen but not loaded."""

        def __init__(self, memory_list: MemoryList, page: int, generation: int) -> None:
            super().__init__(memory_list)
            self.page = page
            self.generation = generation

    class Highlighted(_ListMessage):
        """The cursor moved onto another memory (None: nothing there, or not loaded yet)."""

        def __init__(self, memory_list: MemoryList, memory: MemoryRecord | None) -> None:
            super().__init__(memory_list)
            self.memory = memory

    class SelectionChanged(_ListMessage):
        def __init__(self, memory_list: MemoryList, count: int) -> None:
            super().__init__(memory_list)
            self.count = count

    class RangeWanted(_ListMessage):
        """Shift+click over rows that are not all loaded: the screen reads their ids."""

        def __init__(self, memory_list: MemoryList, start: int, end: int, generation: int) -> None:
            super().__init__(memory_list)
            self.start = start
            self.end = end  # exclusive
            self.generation = generation

    class Chosen(_ListMessage):
        """A double click on a memory (the screen jumps to its origin)."""

        def __init__(self, memory_list: MemoryList, memory: MemoryRecord) -> None:
            super().__init__(memory_list)
            self.memory = memory

    def __init__(
        self,
        *,
        date_field: str = "last_seen_at",
        selectable: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.selectable = selectable  # False: a read-only list (a preview)
        self.total = 0
        self.generation = 0
        self.ranked = False  # a fixed ranked list (search hits) instead of pages
        self.selected: set[int] = set()
        self.date_field = date_field  # which date the rows show
        self.empty_text = "Loading…"
        self._pages: dict[int, tuple[MemoryRecord, ...]] = {}
        self._spans: list[Spans] = []  # ranked mode: highlight ranges per row
        self._requested: set[int] = set()
        self._anchor: int | None = None
        self._last_highlighted: int | None = -1
        self._strips: LRUCache[int, Strip] = LRUCache(256)
        self._styles: dict[str, Style] = {}

    # --- content ---------------------------------------------------------------------------

    def new_generation(self) -> int:
        """A new listing is coming (filters or data changed): pages of older ones are dropped."""
        self.generation += 1
        return self.generation

    def set_page_source(
        self, total: int, generation: int, offset: int, records: Sequence[MemoryRecord], *, keep_cursor: bool = True
    ) -> None:
        """Show `total` memories, with the page at `offset` already read."""
        if generation != self.generation:
            return
        self.ranked = False
        self.total = total
        self._pages = {}
        self._spans = []
        self._requested = set()
        self._store_page(offset // PAGE, records)
        self._after_reset(keep_cursor)

    def add_page(self, generation: int, offset: int, records: Sequence[MemoryRecord]) -> None:
        if generation != self.generation or self.ranked:
            return
        page = offset // PAGE
        self._requested.discard(page)
        self._store_page(page, records)
        first = page * PAGE
        self._strips.clear()
        self.refresh()
        if first <= self.cursor < first + PAGE:
            self._post_highlight(force=True)

    def set_ranked(
        self, records: Sequence[MemoryRecord], spans: Sequence[Spans] | None = None, *, keep_cursor: bool = False
    ) -> None:
        """Show a fixed list (best first), e.g. search hits with their highlight ranges."""
        self.generation += 1
        self.ranked = True
        self.total = len(records)
        self._pages = {i // PAGE: tuple(records[i : i + PAGE]) for i in range(0, len(records), PAGE)}
        self._spans = list(spans) if spans is not None else [()] * len(records)
        self._requested = set()
        self._after_reset(keep_cursor=keep_cursor)

    def _store_page(self, page: int, records: Sequence[MemoryRecord]) -> None:
        self._pages[page] = tuple(records)
        if len(self._pages) > KEEP_PAGES:
            # Drop the pages farthest from what is on screen (never the cursor's, nor this one).
            here = int(self.scroll_y + self.scrollable_content_region.height / 2) // PAGE
            keep = {page, self.cursor // PAGE}
            far = sorted((p for p in self._pages if p not in keep), key=lambda p: -abs(p - here))
            for p in far[: len(self._pages) - KEEP_PAGES]:
                del self._pages[p]

    def _after_reset(self, keep_cursor: bool) -> None:
        self._strips.clear()
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, self.total)
        cursor = min(self.cursor, max(0, self.total - 1)) if keep_cursor else 0
        self._anchor = None if not keep_cursor else self._anchor
        if not keep_cursor:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.set_reactive(MemoryList.cursor, cursor)
        self._scroll_to_cursor()
        self.refresh()
        self._post_highlight(force=True)

    def memory_at(self, index: int | None) -> MemoryRecord | None:
        if index is None or not 0 <= index < self.total:
            return None
        page = self._pages.get(index // PAGE)
        if page is None:
            return None
        i = index % PAGE
        return page[i] if i < len(page) else None

    @property
    def current(self) -> MemoryRecord | None:
        return self.memory_at(self.cursor)

    def loaded(self) -> list[MemoryRecord]:
        """The memories held now, in list order (for tests and ranges)."""
        return [m for p in sorted(self._pages) for m in self._pages[p]]

    def index_of(self, memory_id: int) -> int | None:
        for page, records in self._pages.items():
            for i, memory in enumerate(records):
                if memory.id == memory_id:
                    return page * PAGE + i
        return None

    def update_memories(self, records: Iterable[MemoryRecord]) -> None:
        """Show new versions of some loaded memories in place."""
        fresh = {m.id: m for m in records}
        for page, rows in list(self._pages.items()):
            if any(m.id in fresh for m in rows):
                self._pages[page] = tuple(fresh.get(m.id, m) for m in rows)
        self._strips.clear()
        self.refresh()
        self._post_highlight(force=True)

    # --- selection -------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        self._strips.clear()
        self.refresh()
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def toggle(self, index: int | None = None) -> None:
        index = self.cursor if index is None else index
        memory = self.memory_at(index)
        if memory is None or not self.selectable:
            return
        if memory.id in self.selected:
            self.selected.discard(memory.id)
        else:
            self.selected.add(memory.id)
        self._anchor = index
        self._selection_changed()

    def select_ids(self, ids: Iterable[int], *, replace: bool = False) -> None:
        if replace:
            self.selected = set(ids)
        else:
            self.selected.update(ids)
        self._selection_changed()

    def deselect_ids(self, ids: Iterable[int]) -> None:
        self.selected.difference_update(ids)
        self._selection_changed()

    def clear_selection(self) -> None:
        self._anchor = None
        if self.selected:
            self.selected = set()
            self._selection_changed()

    def select_range(self, index: int) -> None:
        """Select every row from the anchor (the last toggled row, else the cursor) to `index`."""
        if not self.selectable:
            return
        anchor = self._anchor if self._anchor is not None else self.cursor
        start, end = min(anchor, index), max(anchor, index) + 1
        end = min(end, self.total)
        rows = [self.memory_at(i) for i in range(start, end)]
        if all(m is not None for m in rows):
            self.select_ids(m.id for m in rows)  # type: ignore[union-attr]
        else:
            self.post_message(self.RangeWanted(self, start, end, self.generation))
        self._anchor = anchor

    # --- rendering -------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self.total)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = round(self.scroll_y) + y
        base = self.rich_style
        if not self.total:
            lines = [r for line in self.empty_text.split("\n") for r in wrap(line, max(1, width - 2))]
            if 1 <= y <= len(lines):
                text = truncate(" " + lines[y - 1], width)
                return Strip([Segment(text, base + self._style("memory-list--meta"))]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        if row >= self.total:
            return Strip.blank(width, base)
        memory = self.memory_at(row)
        if memory is None:
            page = row // PAGE
            if page not in self._requested:
                self._requested.add(page)
                self.post_message(self.NeedPage(self, page, self.generation))
            text = truncate("  …", width)
            return Strip([Segment(text, base + self._style("memory-list--loading"))]).extend_cell_length(width, base)
        cursor = row == self.cursor
        if not cursor:
            strip = self._strips.get(row)
            if strip is not None:
                return strip
        strip = self._render_row(row, memory, width, cursor and self.has_focus, cursor)
        if not cursor:
            self._strips[row] = strip
        return strip

    def columns(self, width: int) -> dict[str, int]:
        """Column widths for a view `width` cells wide (0: not shown)."""
        wide = width >= 96
        return {
            "kind": 16 if wide else 13 if width >= 56 else 0,
            "tier": 10 if wide else 5,
            "project": 13 if width >= 110 else 0,
            "confidence": 5 if width >= 64 else 0,
            "date": 11 if width >= 88 else 0,
        }

    def _render_row(self, row: int, memory: MemoryRecord, width: int, focused_cursor: bool, cursor: bool) -> Strip:
        base = self.rich_style
        selected = memory.id in self.selected
        bg = base
        if selected:
            bg = bg + self._style("memory-list--selected")
        if focused_cursor:
            bg = bg + self._style("memory-list--cursor")
        cols = self.columns(width)
        meta = bg + self._style("memory-list--meta")
        segments: list[Segment] = [
            Segment("▌" if cursor else " ", bg + self._style("memory-list--check") if cursor else bg),
            Segment("✔ " if selected else "  ", bg + self._style("memory-list--check")),
            Segment(STATUS_MARK.get(memory.status, "?") + " ", bg + self._style(f"memory-list--{memory.status}")
                    if memory.status in STATUS_MARK else bg),
            Segment("★ " if memory.pinned else "  ", bg + self._style("memory-list--pinned")),
        ]
        used = 7

        def cell(text: str, size: int, style: Style) -> None:
            nonlocal used
            if size <= 0:
                return
            text = truncate(text, size - 1)
            segments.append(Segment(text + " " * (size - width_of(text)), style))
            used += size

        cell(memory.kind.replace("_", " "), cols["kind"], bg + self._style("memory-list--kind"))
        cell(memory.tier if cols["tier"] >= 10 else TIER_SHORT.get(memory.tier, memory.tier), cols["tier"], meta)
        cell(project_name(memory), cols["project"], meta)
        cell(f"{memory.confidence:.2f}", cols["confidence"], meta)
        body = max(1, width - used - cols["date"])
        text, spans = flatten(memory.text, self._spans[row] if self.ranked and row < len(self._spans) else ())
        text = truncate(text, body)
        shown = len(text) - (1 if text.endswith("…") and not memory.text.rstrip().endswith("…") else 0)
        position = 0
        match = bg + self._style("memory-list--match")
        for start, end in sorted(spans):
            start, end = max(start, position), min(end, shown)
            if start >= end:
                continue
            if start > position:
                segments.append(Segment(text[position:start], bg))
            segments.append(Segment(text[start:end], match))
            position = end
        if position < len(text):
            segments.append(Segment(text[position:], bg))
        used += width_of(text)
        if cols["date"]:
            pad = width - used - cols["date"]
            if pad > 0:
                segments.append(Segment(" " * pad, bg))
                used += pad
            stamp = getattr(memory, self.date_field, None)
            segments.append(Segment(f" {when(stamp, '%Y-%m-%d')}"[: cols["date"]], meta))
            used += min(cols["date"], 11)
        if used < width:
            segments.append(Segment(" " * (width - used), bg))
        strip = Strip(segments)
        return strip.crop(0, width) if strip.cell_length > width else strip.extend_cell_length(width, bg)

    def plain_rows(self) -> list[str]:
        """Loaded rows as plain text (what the screen shows), for tests."""
        width = self.scrollable_content_region.width or 100
        return [
            self._render_row(i, m, width, False, False).text.rstrip() if m is not None else "…"
            for i, m in ((i, self.memory_at(i)) for i in range(self.total))
        ]

    # --- cursor, keys and mouse ------------------------------------------------------------

    def _scroll_to_cursor(self) -> None:
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True, force=True)

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, max(0, self.total - 1)))

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self._scroll_to_cursor()
        self._post_highlight()

    def _post_highlight(self, force: bool = False) -> None:
        memory = self.current
        key = memory.id if memory is not None else None
        if force or key != self._last_highlighted:
            self._last_highlighted = key
            self.post_message(self.Highlighted(self, memory))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor_up(self) -> None:
        self._anchor = None  # plain moves: a later shift+↑↓ extends from the new row
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self._anchor = None  # plain moves: a later shift+↑↓ extends from the new row
        self.cursor += 1

    def action_extend_up(self) -> None:
        self._extend(-1)

    def action_extend_down(self) -> None:
        self._extend(+1)

    def _extend(self, step: int) -> None:
        """shift+up/down: select from the anchor (where this began) to the new cursor row."""
        if self._anchor is None:
            self._anchor = self.cursor
        self.cursor += step
        self.select_range(self.cursor)

    def action_page_up_cursor(self) -> None:
        self.cursor -= max(1, self.scrollable_content_region.height - 1)

    def action_page_down_cursor(self) -> None:
        self.cursor += max(1, self.scrollable_content_region.height - 1)

    def action_cursor_home(self) -> None:
        self.cursor = 0

    def action_cursor_end(self) -> None:
        self.cursor = self.total - 1

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = round(self.scroll_y) + offset.y
        if not 0 <= row < self.total:
            return
        event.stop()
        if event.shift:
            self.select_range(row)
            self.cursor = row
            return
        self.cursor = row
        self._anchor = row  # a later shift+click extends from here
        if offset.x <= 2 or event.ctrl:  # the check column, or ctrl+click: toggle
            self.toggle(row)
        elif event.chain >= 2:
            memory = self.memory_at(row)
            if memory is not None:
                self.post_message(self.Chosen(self, memory))
