"""The command palette (ctrl+p): every review action and every screen, searchable by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable, Iterator

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from memtui.ui.screens.registry import OTHER_SCREENS

SCREEN_HELP = {
    "memories": "Every memory: filters, fuzzy search, multi-select and bulk actions",
    "forget": "Rules for stale memories, a live preview, then move them to the trash",
    "trash": "Forgotten memories: restore or purge",
    "export": "Format, scope and token budget, with a live preview; write or copy",
}

if TYPE_CHECKING:
    from memtui.ui.app import MemtuiApp

# (name in the palette, help line, action on the review screen)
REVIEW_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Approve proposal", "Approve the selected proposal (a)", "approve"),
    ("Reject proposal", "Reject the selected proposal (x)", "reject"),
    ("Edit proposal", "Edit the text, tier and kind of the selected proposal (e)", "edit"),
    ("Pin or unpin proposal", "Pinned memories are exported first (p)", "pin"),
    ("Cycle tier", "developer → project → session (t)", "cycle_tier"),
    ("Approve all remaining", "Approve every pending proposal of this session (A)", "approve_all"),
    ("Undo", "Undo the last review action: the same journal as 'memtui undo' (u)", "undo"),
    ("Redo", "Redo what undo undid (U)", "redo"),
    ("Next session", "Show the next session (n)", "next_session"),
    ("Previous session", "Show the previous session (N)", "previous_session"),
    ("Jump to evidence", "Put the transcript cursor on the selected proposal's evidence (enter)", "jump"),
    ("Reload sessions", "Read the sessions again from the database (ctrl+r)", "reload"),
    ("Focus sessions", "Move the focus to the session list", "focus_sessions"),
    ("Focus transcript", "Move the focus to the raw transcript", "focus_transcript"),
    ("Focus proposals", "Move the focus to the proposals", "focus_proposals"),
)


class MemtuiCommands(Provider):
    """memtui's own commands; Textual's system commands (theme, quit, ...) are offered beside them."""

    def _commands(self) -> Iterator[tuple[str, str, Callable]]:
        app: MemtuiApp = self.app  # type: ignore[assignment]
        yield "Show Review screen", "Sessions, transcript and proposals (1)", app.action_show_review
        for key, (name, (_, _, title)) in enumerate(OTHER_SCREENS.items(), start=2):
            yield f"Show {title} screen", SCREEN_HELP[name] + f" ({key})", partial(app.action_show_screen, name)
        yield "Show Help screen", "Every key and its binding id (?)", app.action_help
        yield "Change theme", "Pick a theme; the choice is saved", app.action_change_theme
        for name, help_text, action in REVIEW_COMMANDS:
            yield name, help_text, partial(app.run_review_action, action)
        yield from self._screen_commands()

    def _screen_commands(self) -> Iterator[tuple[str, str, Callable]]:
        """The actions of the screen the palette was opened on, when it is one of the other
        screens (Memories, Forget stale, Trash, Export): each binding with an id and a tooltip."""
        screen = self.screen
        titles = {cls_name: title for _, cls_name, title in OTHER_SCREENS.values()}
        title = titles.get(type(screen).__name__)
        if title is None:
            return
        seen: set[str] = set()
        own = [b for cls in type(screen).__mro__ for b in vars(cls).get("BINDINGS", ())]
        for binding in own:
            if not isinstance(binding, Binding) or not (binding.id and binding.tooltip) or binding.id in seen:
                continue
            seen.add(binding.id)
            if binding.action.startswith("app."):
                continue  # help, quit, the screens: offered above
            key = binding.key_display or binding.key.split(",")[0]
            yield (f"{title}: {binding.description}", f"{binding.tooltip} ({key})",
                   partial(screen.run_action, binding.action))

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
