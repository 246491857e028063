"""The help screen: every key, what it does, and the binding id to remap it in the config file."""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from memtui.ui.config import default_config_path, display_path


def binding_sections() -> list[tuple[str, list[Binding]]]:
    """The app's remappable bindings (and a few fixed keys), grouped as the help screen shows them."""
    from memtui.ui.app import MemtuiApp
    from memtui.ui.screens.edit import EditScreen
    from memtui.ui.screens.review import ReviewScreen
    from memtui.ui.widgets.transcript import TranscriptView

    everywhere = [b for b in MemtuiApp.BINDINGS if isinstance(b, Binding)]
    global_ids = {b.id for b in everywhere}

    def shown(cls) -> list[Binding]:
        return [b for b in cls.BINDINGS if isinstance(b, Binding) and (b.id or b.tooltip) and b.id not in global_ids]

    return [
        ("Review", shown(ReviewScreen) + [
            Binding("up,down", "", "Move through the sessions or the proposals (or click one)"),
            Binding("tab", "", "Next pane: sessions, transcript, proposals"),
        ]),
        ("Transcript", shown(TranscriptView) + [
            Binding("up,k,down,j", "", "Move the cursor (the mouse wheel scrolls)"),
            Binding("left,right", "", "Previous or next message"),
            Binding("home,end", "", "First or last row"),
        ]),
        ("Edit dialog", shown(EditScreen) + [Binding("tab", "", "Next field: text, tier, kind, buttons")]),
        ("Everywhere", everywhere + [
            Binding("ctrl+p", "command_palette", "", tooltip="Command palette: every action and screen, and the theme"),
        ]),
    ]


class HelpScreen(ModalScreen[None]):
    """Keys, shown with the keymap applied."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self) -> None:
        super().__init__(id="help")

    def _keys(self, binding: Binding) -> str:
        keymap = getattr(self.app, "_keymap", {}) or {}
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        shown = []
        for key in keys.split(","):
            key = key.strip()
            shown.append(self.app.get_key_display(Binding(key, binding.action)))
        return " ".join(dict.fromkeys(shown))

    def _rows(self, bindings: Iterable[Binding]) -> Iterable[Content]:
        for binding in bindings:
            text = binding.tooltip or binding.description
            yield Content.assemble(
                (f"{self._keys(binding):>14}", "bold $text-accent"),
                "  ",
                (text, ""),
                ("  " + binding.id if binding.id else "", "$text-muted"),
            )

    def compose(self) -> ComposeResult:
        parts: list[Content] = []
        for title, bindings in binding_sections():
            parts.append(Content.styled(title, "bold $text-primary"))
            parts.extend(self._rows(bindings))
            parts.append(Content(""))
        parts.append(
            Content.assemble(
                ("Remap a key in ", "$text-muted"),
                (display_path(getattr(self.app, "config_path", None) or default_config_path()), "$text-secondary"),
                (', e.g. {"keymap": {"approve": "y"}}: the muted word after each action is its id.', "$text-muted"),
            )
        )
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = Content("memtui · keys")
            dialog.border_subtitle = Content("esc close")
            with VerticalScroll(id="help-scroll"):
                yield Static(Content("\n").join(parts), id="help-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
