"""The edit modal: a memory's text in a text area, its tier and kind in selectors."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select, TextArea

from memtui.core.models import KINDS, TIERS
from memtui.core.records import MemoryRecord


@dataclass(frozen=True)
class EditResult:
    text: str
    tier: str
    kind: str


class EditScreen(ModalScreen[EditResult | None]):
    """Edit one memory; ctrl+s saves, escape cancels. Returns an EditResult or None."""

    BINDINGS = [
        Binding("ctrl+s", "save", "save", id="edit.save", priority=True, tooltip="Save the memory"),
        Binding("escape", "cancel", "cancel", id="edit.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, memory: MemoryRecord) -> None:
        super().__init__(id="edit")
        self.memory = memory

    def compose(self) -> ComposeResult:
        memory = self.memory
        with Vertical(id="edit-dialog") as dialog:
            dialog.border_title = Content(f"Edit memory #{memory.id}")
            dialog.border_subtitle = Content("ctrl+s save · esc cancel")
            yield TextArea(memory.text, id="edit-text", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
            with Horizontal(id="edit-fields"):
                with Vertical(classes="edit-field"):
                    yield Label("Tier", classes="edit-label")
                    yield Select([(t, t) for t in TIERS], value=memory.tier, allow_blank=False, id="edit-tier")
                with Vertical(classes="edit-field"):
                    yield Label("Kind", classes="edit-label")
                    yield Select(
                        [(k.replace("_", " "), k) for k in KINDS],
                        value=memory.kind if memory.kind in KINDS else KINDS[0],
                        allow_blank=False,
                        id="edit-kind",
                    )
            with Horizontal(id="edit-buttons"):
                yield Button("Save", variant="primary", id="edit-save")
                yield Button("Cancel", id="edit-cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def result(self) -> EditResult:
        return EditResult(
            text=self.query_one(TextArea).text,
            tier=str(self.query_one("#edit-tier", Select).value),
            kind=str(self.query_one("#edit-kind", Select).value),
        )

    def action_save(self) -> None:
        result = self.result()
        if not result.text.strip():
            self.notify("A memory needs some text.", severity="warning", timeout=3)
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "edit-save":
            self.action_save()
        else:
            self.action_cancel()
