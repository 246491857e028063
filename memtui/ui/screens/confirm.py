"""Small modal dialogs: a yes/no question (y, n, escape) and a choice from a short list."""

from __future__ import annotations

from typing import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something: True for yes (y, enter on Yes), False for no (n, escape)."""

    BINDINGS = [
        Binding("y", "answer(True)", "yes", id="confirm.yes", tooltip="Yes: do it"),
        Binding("n,escape", "answer(False)", "no", id="confirm.no", tooltip="No: leave everything as it is"),
        Binding("left,right", "app.focus_next", "Switch button", show=False),
    ]

    def __init__(self, title: str, question: str | Content, *, yes: str = "Yes", no: str = "No", danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.question = question if isinstance(question, Content) else Content(question)
        self.yes = yes
        self.no = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog") as dialog:
            dialog.border_title = Content(self.title_text)
            dialog.border_subtitle = Content("y yes · n no")
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(Content(self.no), id="confirm-no", variant="default", compact=True)
                yield Button(Content(self.yes), id="confirm-yes", variant="error" if self.danger else "primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no" if self.danger else "#confirm-yes").focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)


class ChoiceScreen(ModalScreen["str | None"]):
    """Pick one value from a short list (a tier, a kind): enter or a click chooses, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel", id="choice.cancel", tooltip="Close without choosing")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)  # (value, label)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-dialog") as dialog:
            dialog.border_title = Content(self.title_text)
            dialog.border_subtitle = Content("enter choose · esc cancel")
            yield OptionList(*[Option(Content(label), id=value) for value, label in self.choices], id="choice-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for value, _ in self.choices]
        if self.current in values:
            options.highlighted = values.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected, "#choice-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
