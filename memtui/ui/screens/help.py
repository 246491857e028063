"""The help screen: every key, what it does, and the binding id to remap it in the config file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.geometry import Size
from textual.widget import Widget

from memtui.ui.config import default_config_path, display_path
from memtui.ui.text import width_of, wrap


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
        *[(title, shown(cls)) for title, cls in other_screens()],
        ("Everywhere", everywhere + [
            Binding("ctrl+p", "command_palette", "", tooltip="Command palette: every action and screen, and the theme"),
        ]),
    ]


def other_screens() -> list[tuple[str, type]]:
    """(title, class) of each screen besides Review that is built."""
    from memtui.ui.screens.registry import OTHER_SCREENS, screen_class

    found = [(title, screen_class(name)) for name, (_, _, title) in OTHER_SCREENS.items()]
    return [(title, cls) for title, cls in found if cls is not None]


class KeyTable(Widget):
    """Keys, what they do and their binding ids, in columns that wrap to the width given."""

    KEY_WIDTH = 12

    def __init__(self, sections: list[tuple[str, list[tuple[str, str, str]]]], footer: Content, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sections = sections  # (title, [(keys, what it does, binding id)])
        self.footer = footer
        self._cache: tuple[int, list[Content]] | None = None

    def lines(self, width: int) -> list[Content]:
        if self._cache is not None and self._cache[0] == width:
            return self._cache[1]
        ids = [binding_id for _, rows in self.sections for _, _, binding_id in rows]
        id_width = max(map(len, ids), default=0) + 2
        inline_ids = width - self.KEY_WIDTH - 2 - id_width >= 30
        text_width = max(10, width - self.KEY_WIDTH - 2 - (id_width if inline_ids else 0))
        indent = " " * (self.KEY_WIDTH + 2)
        out: list[Content] = []
        for title, rows in self.sections:
            out.append(Content.styled(title, "bold $text-primary"))
            for keys, text, binding_id in rows:
                wrapped = wrap(text, text_width) or [""]
                for i, row in enumerate(wrapped):
                    key_cell = f"{keys:>{self.KEY_WIDTH}}" if i == 0 else " " * self.KEY_WIDTH
                    parts: list = [(key_cell, "bold $text-accent"), "  ", row]
                    if inline_ids and i == 0 and binding_id:
                        parts += [" " * (text_width - width_of(row)), ("  " + binding_id, "dim")]
                    out.append(Content.assemble(*parts))
                if binding_id and not inline_ids:
                    out.append(Content.assemble(indent, (binding_id, "dim")))
            out.append(Content(""))
        out.extend(self.footer.wrap(width))
        self._cache = (width, out)
        return out

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Content:
        return Content("\n").join(self.lines(self.content_region.width or 80))

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines(self.content_region.width or 80))


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

    def compose(self) -> ComposeResult:
        sections = [
            (title, [(self._keys(b), b.tooltip or b.description, b.id or "") for b in bindings])
            for title, bindings in binding_sections()
        ]
        footer = Content.assemble(
            ("Remap a key by its id in ", "dim"),
            (display_path(getattr(self.app, "config_path", None) or default_config_path()), "$text-secondary"),
            (', e.g. {"keymap": {"approve": "y"}}', "dim"),
        )
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = Content("memtui · keys")
            dialog.border_subtitle = Content("esc close")
            with VerticalScroll(id="help-scroll"):
                yield KeyTable(sections, footer, id="help-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
