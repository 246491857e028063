"""The raw transcript of one session: a Line-API scroll view that renders only what is visible.

Each message is a *block* of rows. Row counts are computed for every block when a session is
shown (cheap: a collapsed tool call or result is one row without reading its text; a long text
stops being wrapped at the fold), rows are produced only for blocks on screen, and the Strips of
visible rows are cached. So a session of tens of thousands of messages switches and scrolls fast.
A long session can also be given in parts (set_messages(first, complete=False), then
extend_messages): the Review screen shows the first messages while the rest is read.

A row is a one-cell mark (the evidence bar), a label column (role, tool name) and the body.
Tool calls and results are folded to one row and expand on enter or click; thinking is dimmed;
long texts show their first rows and "… N more lines". Everything from the transcript passes
through `memtui.ui.text.inert` and goes out as plain Segments: never markup, never escapes.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import Iterable, Sequence

import orjson
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

from memtui.core.records import MessageRecord
from memtui.ui.text import inert, needs_inert, one_line, truncate, width_of, wrap

LABEL_WIDTH = 11  # label column, including one space after the label ...
WIDE_LABEL_WIDTH = 14  # ... and where there is room: tool names such as apply_patch fit
WIDE_FROM = 72  # view width from which the wide label column is used
MARK = "▌"
TOOL_KINDS = ("tool_use", "tool_result")

# Folding: a block longer than FOLD_AT rows shows FOLD_HEAD rows and a "… N more lines" row.
FOLD_AT = {"text": 40, "summary": 40, "thinking": 8, "tool": 60}
FOLD_HEAD = {"text": 30, "summary": 30, "thinking": 6, "tool": 50}

# Block states (per message index): how much of it is shown.
COLLAPSED, OPEN, FULL = 0, 1, 2

_SUMMARY_KEYS = ("command", "file_path", "path", "pattern", "url", "query", "description", "prompt", "notebook_path")


def _ascii_rows(line: str, width: int) -> int:
    """len(wrap(line, width)) for an ASCII line without a newline, counted without making the rows."""
    rows, start, end = 1, 0, len(line)
    rfind = line.rfind
    while end - start > width:
        cut = rfind(" ", start, start + width + 1)
        start = start + width if cut <= start else cut + 1
        rows += 1
    return rows


def tool_summary(text: str) -> str:
    """One line saying what a tool call did: its command, file or query, else its input."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return one_line(text[:2000])
    if isinstance(data, dict):
        for key in _SUMMARY_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return one_line(value[:2000])
        parts = [f"{k}={v if isinstance(v, str) else orjson.dumps(v).decode()}" for k, v in list(data.items())[:4]]
        return one_line(" ".join(parts)[:2000])
    return one_line(text[:2000])


def tool_input_text(text: str) -> str:
    """A tool call's input for reading: one `key: value` per line, multi-line values indented."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    if not isinstance(data, dict):
        return text
    lines = []
    for key, value in data.items():
        if isinstance(value, str):
            if "\n" in value:
                lines.append(f"{key}:")
                lines.extend("  " + line for line in value.split("\n"))
            else:
                lines.append(f"{key}: {value}")
        else:
            lines.append(f"{key}: {orjson.dumps(value).decode()}")
    return "\n".join(lines)


class TranscriptView(ScrollView, can_focus=True):
    """The raw log of one session, with evidence highlighted."""

    COMPONENT_CLASSES = {
        "transcript--user",
        "transcript--assistant",
        "transcript--system",
        "transcript--tool",
        "transcript--error",
        "transcript--thinking",
        "transcript--label-user",
        "transcript--label-assistant",
        "transcript--label-system",
        "transcript--label-tool",
        "transcript--label-error",
        "transcript--label-thinking",
        "transcript--fold",
        "transcript--meta",
        "transcript--evidence",
        "transcript--mark",
        "transcript--cursor",
    }

    BINDINGS = [
        Binding("enter,space", "toggle", "expand", id="transcript.toggle", tooltip="Expand or fold the message at the cursor"),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up_cursor", "Page up", show=False),
        Binding("pagedown", "page_down_cursor", "Page down", show=False),
        Binding("home,g", "cursor_home", "Top", show=False),
        Binding("end,G", "cursor_end", "Bottom", show=False),
        Binding("left,bracketleft", "previous_message", "Previous message", show=False),
        Binding("right,bracketright", "next_message", "Next message", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    class JumpMissed(Message):
        """A jump waited for the rest of the session (still being read), and the message was not in it."""

        def __init__(self, message_id: int) -> None:
            super().__init__()
            self.message_id = message_id

    class Toggled(Message):
        """A block was expanded or folded."""

        def __init__(self, message_id: int, state: int) -> None:
            super().__init__()
            self.message_id = message_id
            self.state = state

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._messages: list[MessageRecord] = []
        self._index_by_id: dict[int, int] = {}
        self._state: dict[int, int] = {}
        self._highlight: frozenset[int] = frozenset()
        self._heights: list[int] = []
        self._starts: list[int] = [0]  # first row of each block; the last entry is the row count
        self._width = 0
        self._body_cache: LRUCache[tuple[int, int, int], tuple[list[str], str | None]] = LRUCache(512)
        self._strip_cache: LRUCache[int, Strip] = LRUCache(1024)
        self._component_style_cache: dict[str, Style] = {}
        self._pending_scroll: int | None = None
        # A session can be shown from its first messages while the rest is still read
        # (extend_messages adds it): a jump or an evidence scroll to a message not here yet waits.
        self._complete = True
        self._pending_jump: int | None = None
        self._pending_evidence_scroll = False
        self.empty_text = "No session selected."

    # --- public API ------------------------------------------------------------------------

    @property
    def messages(self) -> Sequence[MessageRecord]:
        return self._messages

    @property
    def line_count(self) -> int:
        return self._starts[-1]

    @property
    def complete(self) -> bool:
        """False while only the first messages of the session are here (see extend_messages)."""
        return self._complete

    def set_messages(self, messages: Sequence[MessageRecord], *, complete: bool = True) -> None:
        """Show a session's messages (replacing what was shown), scrolled to the top.

        `complete=False`: these are the session's first messages; the rest comes through
        extend_messages, and jumps to messages not here yet wait for it.
        """
        self._messages = list(messages)
        self._index_by_id = {m.id: i for i, m in enumerate(self._messages)}
        self._state = {}
        self._highlight = frozenset()
        self._complete = complete
        self._pending_jump = None
        self._pending_evidence_scroll = False
        self._body_cache.clear()
        self._width = 0
        self._relayout()
        self.set_reactive(TranscriptView.cursor_row, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def extend_messages(self, messages: Sequence[MessageRecord], *, complete: bool = True) -> None:
        """Add the next messages of the session shown (read after its first ones were shown).

        The rows already shown, the scroll position and the cursor stay as they are; a jump or an
        evidence scroll that waited for a message among these is done now.
        """
        start = len(self._messages)
        self._messages.extend(messages)
        index_by_id = self._index_by_id
        for i, m in enumerate(messages, start):
            index_by_id[m.id] = i
        self._complete = complete
        if self._width:
            self._heights.extend(self._all_heights(start))
            self._starts = list(accumulate(self._heights, initial=0))
            self.virtual_size = Size(self._width, self._starts[-1])
        else:
            self._heights.extend([0] * len(messages))
            self._starts = [0] * (len(self._messages) + 1)
        self.refresh()
        if self._pending_jump is not None and (complete or self._pending_jump in index_by_id):
            message_id, self._pending_jump = self._pending_jump, None
            if not self.jump_to(message_id):
                self.post_message(self.JumpMissed(message_id))
        elif self._pending_evidence_scroll and self._scroll_to_evidence() or complete:
            self._pending_evidence_scroll = False

    def highlight(self, message_ids: Iterable[int], *, scroll: bool = True) -> None:
        """Mark these messages as evidence and (optionally) bring the first one into view."""
        ids = frozenset(i for i in message_ids if i is not None)
        if ids != self._highlight:
            self._highlight = ids
            self._strip_cache.clear()
            self.refresh()
        if scroll:
            self._pending_evidence_scroll = False
            if not self._scroll_to_evidence() and not self._complete:
                self._pending_evidence_scroll = True  # it may be in the part still being read

    def _scroll_to_evidence(self) -> bool:
        indexes = sorted(self._index_by_id[i] for i in self._highlight if i in self._index_by_id)
        if indexes:
            self.scroll_to_block(indexes[0])
        return bool(indexes)

    @property
    def highlighted(self) -> frozenset[int]:
        return self._highlight

    def scroll_to_block(self, index: int, *, top: bool = False) -> None:
        """Scroll so block `index` is in view, a few rows below the top edge."""
        if not self._width:
            self._pending_scroll = index
            return
        start = self.block_start(index)
        height = self.scrollable_content_region.height or 1
        end = self._starts[index + 1]
        current = round(self.scroll_y)
        if not top and current <= start and end <= current + height:
            return  # already fully in view
        target = max(0, start - (1 if top else min(3, height // 4)))
        self.scroll_to(y=target, animate=False, immediate=True)

    def jump_to(self, message_id: int) -> bool:
        """Show a message: open it if it is folded, put the cursor on it, scroll it to the top.

        False if the session has no such message. While the rest of the session is still read,
        a message not here yet is jumped to when it comes (JumpMissed if it does not).
        """
        index = self._index_by_id.get(message_id)
        if index is None:
            if self._complete:
                return False
            self._pending_jump = message_id
            self._pending_evidence_scroll = False
            return True
        self._pending_jump = None
        self._pending_evidence_scroll = False
        message = self._messages[index]
        if message.kind in TOOL_KINDS and self._state_of(index) == COLLAPSED:
            self._set_state(index, OPEN)
        self.cursor_row = self.block_start(index)
        self.scroll_to_block(index, top=True)
        return True

    def index_of(self, message_id: int) -> int | None:
        """The block of a message, if it is here."""
        return self._index_by_id.get(message_id)

    def block_start(self, index: int) -> int:
        """First row of block `index` (after its separator row, if any)."""
        return self._starts[index] + (1 if self._has_separator(index) else 0)

    def index_at(self, row: int) -> int | None:
        if not self._messages or row < 0 or row >= self._starts[-1]:
            return None
        return bisect_right(self._starts, row) - 1

    def message_at(self, row: int) -> MessageRecord | None:
        index = self.index_at(row)
        return None if index is None else self._messages[index]

    def toggle(self, index: int) -> None:
        """Expand or fold block `index` (tool calls: collapsed → open → full when long → collapsed)."""
        message = self._messages[index]
        state = self._state_of(index)
        if message.kind in TOOL_KINDS:
            if state == COLLAPSED:
                new = OPEN
            elif state == OPEN and self._body(index, OPEN)[1] is not None:
                new = FULL
            else:
                new = COLLAPSED
        else:
            if state == OPEN and self._body(index, OPEN)[1] is not None:
                new = FULL
            elif state == FULL:
                new = OPEN
            else:
                return
        self._set_state(index, new)
        self.post_message(self.Toggled(message.id, new))

    def plain_lines(self, start: int = 0, end: int | None = None) -> list[str]:
        """The rows as plain text (what the screen shows), for tests and copying."""
        end = self.line_count if end is None else min(end, self.line_count)
        return [self._render_row(y).text for y in range(start, end)]

    # --- layout ----------------------------------------------------------------------------

    def _state_of(self, index: int) -> int:
        default = COLLAPSED if self._messages[index].kind in TOOL_KINDS else OPEN
        return self._state.get(index, default)

    def _set_state(self, index: int, state: int) -> None:
        """Show block `index` in another state; the top row and the cursor stay on what they showed."""

        def anchor(row: int) -> tuple[int, int] | None:
            block = self.index_at(row)
            return None if block is None else (block, row - self._starts[block])

        top, cursor = anchor(round(self.scroll_y)), anchor(self.cursor_row)
        self._state[index] = state
        if self._width:
            self._heights[index] = self._block_height(index)
            self._starts = list(accumulate(self._heights, initial=0))
            self.virtual_size = Size(self._width, self._starts[-1])
            self._strip_cache.clear()

        def row_of(place: tuple[int, int]) -> int:
            block, offset = place
            return self._starts[block] + min(offset, max(0, self._heights[block] - 1))

        if cursor is not None:
            self.set_reactive(TranscriptView.cursor_row, row_of(cursor))
        if top is not None:
            self.scroll_to(y=row_of(top), animate=False, immediate=True)
        self.refresh()

    def _has_separator(self, index: int) -> bool:
        if index == 0:
            return False
        message = self._messages[index]
        return message.role == "user" and message.kind == "text"

    @property
    def _label_width(self) -> int:
        return WIDE_LABEL_WIDTH if self._width >= WIDE_FROM else LABEL_WIDTH

    def _layout_width(self) -> int:
        return self.scrollable_content_region.width

    def _relayout(self, force: bool = False) -> None:
        width = self._layout_width()
        if width <= LABEL_WIDTH + 4:
            self._width = 0
            self._heights = [0] * len(self._messages)
            self._starts = [0] * (len(self._messages) + 1)
            self.virtual_size = Size(0, 0)
            return
        if width == self._width and not force:
            return
        if width != self._width:
            self._body_cache.clear()
        self._width = width
        self._strip_cache.clear()
        self._heights = self._all_heights()
        self._starts = list(accumulate(self._heights, initial=0))
        self.virtual_size = Size(width, self._starts[-1])
        if self._pending_scroll is not None:
            index, self._pending_scroll = self._pending_scroll, None
            self.call_after_refresh(self.scroll_to_block, index)

    def _all_heights(self, start: int = 0) -> list[int]:
        """`_block_height` of every block from `start`, in one loop (a session can have tens of thousands).

        Folded tool rows, and texts on one line of printable ASCII (most of them), are counted
        here; anything else goes through `_block_height`, which this must agree with.
        """
        width = max(1, self._width - 1 - self._label_width)
        state_of = self._state.get
        block_height = self._block_height
        heights: list[int] = []
        append = heights.append
        for index, message in enumerate(self._messages[start:] if start else self._messages, start):
            kind = message.kind
            if kind in TOOL_KINDS:
                append(1 if state_of(index, COLLAPSED) == COLLAPSED else block_height(index))
                continue
            text = message.text
            # Printable ASCII without a newline: no inert() change, one logical line.
            if state_of(index, OPEN) != OPEN or "\n" in text or not text.isascii() or not text.isprintable():
                append(block_height(index))
                continue
            text = text.rstrip()
            rows = 1 if len(text) <= width else _ascii_rows(text, width)
            fold_kind = kind if kind in FOLD_AT else "text"
            folded = rows > FOLD_AT[fold_kind]
            if folded:
                rows = FOLD_HEAD[fold_kind]
            sep = 1 if index and message.role == "user" and kind == "text" else 0
            append(sep + max(1, rows) + folded + (message.original_len is not None))
        return heights

    def _block_height(self, index: int) -> int:
        message = self._messages[index]
        state = self._state_of(index)
        sep = 1 if self._has_separator(index) else 0
        if message.kind in TOOL_KINDS:
            if state == COLLAPSED:
                return 1
            rows, folded = self._measure(index, state)
            return 1 + rows + folded + (message.original_len is not None)
        rows, folded = self._measure(index, state)
        return sep + max(1, rows) + folded + (message.original_len is not None)

    def _source(self, index: int, state: int) -> tuple[str, int | None, str]:
        """(text to show, the row limit before folding or None, fold kind) of a block."""
        message = self._messages[index]
        text = tool_input_text(message.text) if message.kind == "tool_use" else message.text
        fold_kind = "tool" if message.kind in TOOL_KINDS else message.kind if message.kind in FOLD_AT else "text"
        limit = None if state == FULL else FOLD_AT[fold_kind]
        return text.rstrip(), limit, fold_kind  # trailing blank lines say nothing

    def _measure(self, index: int, state: int) -> tuple[int, bool]:
        """(body rows, folded?) of a block without making its rows: the cheap half of `_body`,
        which must agree with it (the layout is built from this, the screen from that)."""
        cached = self._body_cache.get((index, state, self._width))
        if cached is not None:
            return len(cached[0]), cached[1] is not None
        width = max(1, self._width - 1 - self._label_width)
        text, limit, fold_kind = self._source(index, state)
        pieces = text.split("\n") if limit is None else text.split("\n", limit + 1)
        considered = pieces if limit is None else pieces[: limit + 1]
        head = text if limit is None else "\n".join(considered)
        if needs_inert(head):
            considered = inert(head).split("\n")
        lengths = list(map(len, considered))
        if head.isascii():
            total = len(considered)
            if max(lengths) > width:
                total += sum(_ascii_rows(considered[i], width) - 1 for i, n in enumerate(lengths) if n > width)
        else:
            total = sum(1 if n <= width // 2 else len(wrap(line, width)) for line, n in zip(considered, lengths))
        folded = limit is not None and (total > limit or len(pieces) > len(considered))
        return (FOLD_HEAD[fold_kind] if folded else total), folded

    def _body(self, index: int, state: int) -> tuple[list[str], str | None]:
        """The wrapped body rows of a block and its fold notice ("… N more lines") if folded."""
        key = (index, state, self._width)
        cached = self._body_cache.get(key)
        if cached is not None:
            return cached
        width = max(1, self._width - 1 - self._label_width)
        text, limit, fold_kind = self._source(index, state)
        text = inert(text)
        pieces = text.split("\n") if limit is None else text.split("\n", limit + 1)
        considered = pieces if limit is None else pieces[: limit + 1]
        if text.isascii() and max(map(len, considered)) <= width:
            # The common case, at C speed: one row per line.
            rows = considered
            ends = range(1, len(rows) + 1)
        else:
            rows = []
            ends = []  # rows after each logical line
            for line in considered:
                if len(line) <= width and line.isascii():
                    rows.append(line)
                else:
                    rows.extend(wrap(line, width))
                ends.append(len(rows))
                if limit is not None and len(rows) > limit:
                    break
        notice = None
        if limit is not None and (len(rows) > limit or len(ends) < len(pieces)):
            head = FOLD_HEAD[fold_kind]
            shown_lines = sum(1 for end in ends if end <= head)
            hidden = text.count("\n") + 1 - shown_lines
            rows = rows[:head]
            hidden_chars = max(0, len(text) - sum(map(len, rows)) - shown_lines)
            notice = (
                f"… {hidden:,} more line{'s' if hidden != 1 else ''}, {hidden_chars:,} characters (enter to expand)"
            )
        result = (rows, notice)
        self._body_cache[key] = result
        return result

    # --- rendering -------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        style = self._component_style_cache.get(name)
        if style is None:
            style = self._component_style_cache[name] = self.get_component_rich_style(name, partial=True)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._component_style_cache.clear()
        self._strip_cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        if self._layout_width() != self._width:
            anchor = self.index_at(round(self.scroll_y))
            self._relayout()
            if anchor is not None:
                self.scroll_to(y=self._starts[anchor], animate=False, immediate=True)

    def on_mount(self) -> None:
        self._relayout()

    def render_line(self, y: int) -> Strip:
        row = round(self.scroll_y) + y
        width = self.scrollable_content_region.width
        if not self._messages or not self._width:
            lines = [row for line in self.empty_text.split("\n") for row in wrap(line, max(1, width - 2))]
            lines = lines if not self._messages else []
            if 1 <= y <= len(lines):  # a short message, from row 1, wrapped
                text = truncate(" " + lines[y - 1], width)
                style = self.rich_style + self._style("transcript--meta")
                return Strip([Segment(text, style)], width_of(text)).extend_cell_length(width, self.rich_style)
            return Strip.blank(width, self.rich_style)
        if row >= self.line_count:
            return Strip.blank(width, self.rich_style)
        if row == self.cursor_row and self.has_focus:
            return self._render_row(row, cursor=True)
        strip = self._strip_cache.get(row)
        if strip is None:
            strip = self._strip_cache[row] = self._render_row(row)
        return strip

    def _render_row(self, row: int, cursor: bool = False) -> Strip:
        index = self.index_at(row)
        width = self._width
        base = self.rich_style
        if index is None:
            return Strip.blank(width, base)
        message = self._messages[index]
        offset = row - self._starts[index]
        if self._has_separator(index):
            if offset == 0:
                return Strip.blank(width, base)
            offset -= 1
        evidence = message.id in self._highlight
        bg = base
        if evidence:
            bg = bg + self._style("transcript--evidence")
        if cursor:
            bg = bg + self._style("transcript--cursor")
        label, label_style, body, body_style = self._row_parts(index, message, offset)
        mark_style = bg + self._style("transcript--mark") if evidence else bg
        label_width = self._label_width
        label = truncate(label, label_width - 1)
        label = label + " " * (label_width - width_of(label))
        body_width = width - 1 - label_width
        body = truncate(body, body_width)
        segments = [
            Segment(MARK if evidence else " ", mark_style),
            Segment(label, bg + self._style(label_style) if label_style else bg),
            Segment(body, bg + self._style(body_style) if body_style else bg),
        ]
        used = 1 + label_width + width_of(body)
        if used < width:
            segments.append(Segment(" " * (width - used), bg))
        return Strip(segments, width)

    def _row_parts(self, index: int, message: MessageRecord, offset: int) -> tuple[str, str, str, str]:
        """(label, label style, body, body style) of row `offset` of a block (separator excluded)."""
        state = self._state_of(index)
        kind, role = message.kind, message.role
        if kind in TOOL_KINDS:
            if offset == 0:
                return self._tool_header(message, state)
            rows, notice = self._body(index, state)
            offset -= 1
            body_style = "transcript--error" if message.is_error else "transcript--tool"
        else:
            rows, notice = self._body(index, state)
            body_style = {
                "thinking": "transcript--thinking",
                "summary": "transcript--system",
            }.get(kind, f"transcript--{role}" if role in ("user", "assistant", "system") else "transcript--tool")
            if offset == 0:
                label, label_style = self._text_label(message)
                return label, label_style, rows[0] if rows else "", body_style
        if offset < len(rows):
            return "", "", rows[offset], body_style
        offset -= len(rows)
        if notice is not None:
            if offset == 0:
                return "", "", notice, "transcript--fold"
            offset -= 1
        return "", "", f"(stored truncated: the original had {message.original_len:,} characters)", "transcript--meta"

    @staticmethod
    def _text_label(message: MessageRecord) -> tuple[str, str]:
        if message.kind == "thinking":
            return "thinking", "transcript--label-thinking"
        if message.kind == "summary":
            return "summary", "transcript--label-system"
        role = message.role if message.role in ("user", "assistant", "system") else "tool"
        return role, f"transcript--label-{role}"

    def _tool_header(self, message: MessageRecord, state: int) -> tuple[str, str, str, str]:
        arrow = "▸" if state == COLLAPSED else "▾"
        name = one_line(message.tool_name or "tool")
        if message.kind == "tool_use":
            return f"{arrow} {name}", "transcript--label-tool", tool_summary(message.text), "transcript--tool"
        lines = message.text.count("\n") + 1 if message.text else 0
        first = one_line(message.text.lstrip()[:2000].split("\n", 1)[0]) if message.text else "(empty)"
        label = f"{arrow} error" if message.is_error else f"{arrow} result"
        size = f"{lines} line{'s' if lines != 1 else ''}"
        style = "transcript--label-error" if message.is_error else "transcript--label-tool"
        return label, style, f"{size} · {first}", "transcript--error" if message.is_error else "transcript--meta"

    # --- cursor and mouse ------------------------------------------------------------------

    def watch_cursor_row(self, old: int, new: int) -> None:
        # The person moved on: what waited for the rest of the session is dropped.
        self._pending_jump = None
        self._pending_evidence_scroll = False
        clamped = max(0, min(new, max(0, self.line_count - 1)))
        if clamped != new:
            self.set_reactive(TranscriptView.cursor_row, clamped)
            new = clamped
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, immediate=True, force=True)

    def on_focus(self) -> None:
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        if not top <= self.cursor_row < top + height:
            self.set_reactive(TranscriptView.cursor_row, top)
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up_cursor(self) -> None:
        self.cursor_row -= max(1, self.scrollable_content_region.height - 1)

    def action_page_down_cursor(self) -> None:
        self.cursor_row += max(1, self.scrollable_content_region.height - 1)

    def action_cursor_home(self) -> None:
        self.cursor_row = 0

    def action_cursor_end(self) -> None:
        self.cursor_row = self.line_count - 1

    def action_next_message(self) -> None:
        index = self.index_at(self.cursor_row)
        if index is not None and index + 1 < len(self._messages):
            self.cursor_row = self.block_start(index + 1)

    def action_previous_message(self) -> None:
        index = self.index_at(self.cursor_row)
        if index is None:
            return
        start = self.block_start(index)
        if self.cursor_row > start or index == 0:
            self.cursor_row = start
        else:
            self.cursor_row = self.block_start(index - 1)

    def action_toggle(self) -> None:
        index = self.index_at(self.cursor_row)
        if index is not None:
            self.toggle(index)
            self.cursor_row = min(self.cursor_row, self.line_count - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = round(self.scroll_y) + offset.y
        index = self.index_at(row)
        if index is None:
            return
        self.cursor_row = row
        message = self._messages[index]
        # A click on a tool row's header or on a fold notice expands or folds it.
        if message.kind in TOOL_KINDS and row == self.block_start(index):
            self.toggle(index)
        elif self._row_parts(index, message, row - self.block_start(index))[3] == "transcript--fold":
            self.toggle(index)
