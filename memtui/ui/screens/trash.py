"""The Trash screen: forgotten memories (paged), restored or purged, one or a selection at a time.

Purging asks twice (two yes/no dialogs). Like every change it is journalled, so `u` straight
after still brings the purged memories back; after that they are gone from every list and export.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer, Header

from memtui.core import memories
from memtui.core.curate import MemoryQuery
from memtui.ui.screens.confirm import ConfirmScreen
from memtui.ui.screens.memories import MemoryListScreen, memories_word, shared_bindings
from memtui.ui.widgets.memory_detail import MemoryDetail
from memtui.ui.widgets.memory_list import MemoryList


class TrashScreen(MemoryListScreen):
    """Forgotten memories: restore them, or purge them for good."""

    LIST_ID = "trash"
    AUTO_FOCUS = "#trash"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("space", "toggle_select", "select", id="trash.toggle",
                tooltip="Select or unselect the memory at the cursor (shift+click or shift+↑↓ extend a range)"),
        Binding("ctrl+a", "select_all", "all", id="trash.select_all", tooltip="Select everything in the trash"),
        Binding("escape", "clear_selection", "clear", id="trash.clear", show=False, tooltip="Clear the selection"),
        Binding("r", "restore", "restore", id="trash.restore",
                tooltip="Restore the selected memories (or the one at the cursor) to where they were"),
        Binding("X,delete", "purge", "purge", id="trash.purge",
                tooltip="Purge the selected memories for good (asks twice)"),
        Binding("ctrl+r", "reload", "reload", id="trash.reload", show=False, tooltip="Read the trash again"),
        *shared_bindings("trash"),
    ]

    def __init__(self) -> None:
        super().__init__(id="trash-screen")

    def compose(self) -> ComposeResult:
        yield Header(id="header")
        with Vertical(id="trash-pane", classes="pane"):
            yield MemoryList(id="trash", date_field="forgotten_at")
        with Vertical(id="trash-detail-pane", classes="pane detail-pane"):
            yield MemoryDetail(id="trash-detail")
        yield Footer(id="footer", compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Trash"
        super().on_mount()
        self.set_titles()

    def on_resize(self) -> None:
        self.set_titles()

    def memory_query(self) -> MemoryQuery:
        return MemoryQuery(forgotten=True)

    def empty_text(self) -> str:
        return "The trash is empty.\n\nForget memories on the Memories screen (f) or the Forget stale screen (3)."

    def set_titles(self) -> None:
        memory_list = self.memory_list
        pane = self.query_one("#trash-pane")
        title = f"Trash · {memories_word(memory_list.total)}"
        if memory_list.selected:
            title += f" · {len(memory_list.selected):,} selected"
        pane.border_title = Content(title)
        wide = memory_list.columns(memory_list.scrollable_content_region.width)["date"]
        pane.border_subtitle = Content("by last seen ↓" + (" · dates: when forgotten" if wide else ""))

    def action_purge(self) -> None:
        ids = self.targets()
        if not ids:
            self.app.bell()
            self.notify("Nothing selected.", severity="warning", timeout=2)
            return
        what = memories_word(len(ids))

        def second(answer: bool | None) -> None:
            if answer:
                self.bulk("purge", memories.purge, "Purged", "Nothing to purge.")

        def first(answer: bool | None) -> None:
            if answer:
                self.app.push_screen(
                    ConfirmScreen(
                        "Purge for good",
                        f"Are you sure? {what} will be deleted from the database: gone from every list and"
                        f" export. Only u, straight after, brings {'it' if len(ids) == 1 else 'them'} back.",
                        yes="Purge", no="Keep", danger=True,
                    ),
                    second,
                )

        self.app.push_screen(
            ConfirmScreen("Purge", f"Purge {what} from the trash?", yes="Purge", no="Cancel", danger=True), first
        )
