"""MemtuiApp and `create_app`, the one factory the CLI, `memtui demo` and the tests share."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from peewee import SqliteDatabase
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.theme import Theme

from memtui.ui.commands import MemtuiCommands
from memtui.ui.config import Config, load_config, save_config
from memtui.ui.messages import DatabaseFailed, DatabaseReady
from memtui.ui.screens.help import HelpScreen
from memtui.ui.screens.registry import OTHER_SCREENS, screen_class
from memtui.ui.screens.review import ReviewScreen

T = TypeVar("T")
WRITE_WAIT_S = 300.0  # how long a change waits for another writer, at most (beyond the busy timeout)
WRITE_RETRY_S = 0.5

STYLE_FILES = ("memtui.tcss", "review.tcss", "transcript.tcss", "dialogs.tcss", "curate.tcss", "export.tcss")
POLL_SECONDS = 2.0


def styles_dir() -> Path:
    """Where the .tcss files are: memtui/styles in an installed wheel (hatch force-include),
    styles/ at the repository root in a source tree or an editable install."""
    package = Path(__file__).resolve().parents[1]  # memtui/
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / STYLE_FILES[0]).is_file():
            return candidate
    raise FileNotFoundError(f"memtui's styles are missing (looked in {package / 'styles'} and {package.parent / 'styles'})")


def css_paths() -> list[Path]:
    folder = styles_dir()
    return [folder / name for name in STYLE_FILES if (folder / name).is_file()]


class MemtuiApp(App[None]):
    """Curate memories from AI coding sessions."""

    TITLE = "memtui"
    CSS_PATH = css_paths()
    COMMANDS = App.COMMANDS | {MemtuiCommands}
    BINDINGS = [
        Binding("q", "quit", "quit", id="quit", tooltip="Quit memtui"),
        Binding("question_mark", "help", "help", id="help", tooltip="Show every key and its binding id"),
        Binding("1", "show_screen('review')", "review", id="show_review", show=False, tooltip="Show the Review screen"),
        Binding("2", "show_screen('memories')", "memories", id="show_memories", show=False,
                tooltip="Show the Memories screen: browse, search, select, bulk actions"),
        Binding("3", "show_screen('forget')", "forget", id="show_forget", show=False,
                tooltip="Show the Forget stale screen: rules, preview, move to the trash"),
        Binding("4", "show_screen('trash')", "trash", id="show_trash", show=False,
                tooltip="Show the Trash screen: restore or purge forgotten memories"),
        Binding("5", "show_screen('export')", "export", id="show_export", show=False,
                tooltip="Show the Export screen: format, scope, budget, preview, write or copy"),
    ]

    def __init__(
        self,
        db_path: str | os.PathLike | None,
        config: Config,
        *,
        poll_interval: float | None = POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.config = config
        self.config_path = config.path
        self.poll_interval = poll_interval
        self.db: SqliteDatabase | None = None
        self.review = ReviewScreen()
        self._keymap = self._normalize_keymap(config.keymap)

    # --- start and stop --------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        elif self.config.theme:
            self.config.warnings.append(f"unknown theme {self.config.theme!r}; using {self.theme}")
        self.push_screen(self.review)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for warning in self.config.warnings:
            self.notify(warning, title="config", severity="warning", markup=False)
        self.open_database()

    @work(thread=True, exclusive=True, group="database")
    def open_database(self) -> None:
        from memtui.core.db import DatabaseError, open_database

        try:
            db = open_database(self.db_path)
        except DatabaseError as exc:
            self.post_message(DatabaseFailed(str(exc)))
            return
        db.close()  # this thread's connection; every worker opens (and closes) its own
        self.post_message(DatabaseReady(db))

    def on_database_ready(self, message: DatabaseReady) -> None:
        self.db = message.db
        self.review.start(message.db)
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.review.poll, name="poll")

    def on_database_failed(self, message: DatabaseFailed) -> None:
        self.exit(return_code=1, message=f"memtui: error: {message.error}")

    @contextmanager
    def connection(self) -> Iterator[SqliteDatabase]:
        """The database, for one worker's work: peewee keeps one connection per thread, opened
        on first use (with the pragmas: WAL, busy timeout); it is closed when the work is done."""
        if self.db is None:
            raise RuntimeError("the database is not open yet")
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("database work belongs in a worker thread, not the UI thread")
        try:
            yield self.db
        finally:
            if not self.db.in_transaction():
                self.db.close()

    def write(self, work: Callable[[SqliteDatabase], T], action: str) -> T:
        """Run `work` (a write in its own transaction) with the database, from a worker thread. When
        another process holds the write lock past the busy timeout (an import storing a long
        session), the person is told once that `action` waits, and the work is tried again, for up
        to WRITE_WAIT_S: a transaction that could not start wrote nothing, so trying again is safe."""
        started = time.monotonic()
        told = False
        while True:
            try:
                with self.connection() as db:
                    return work(db)
            except Exception as exc:
                message = str(exc).lower()
                if not ("locked" in message or "busy" in message) or time.monotonic() - started > WRITE_WAIT_S:
                    raise
            if not told:
                self.call_from_thread(
                    self.notify, "Another process (an import?) is writing; this goes through as soon as it is done.",
                    title=f"{action}: waiting", timeout=5, markup=False)
                told = True
            time.sleep(WRITE_RETRY_S)

    # --- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_show_review(self) -> None:
        await self._back_to_review()

    async def action_show_screen(self, name: str) -> None:
        """Show Review, or one of OTHER_SCREENS above it (replacing any other one there)."""
        if name == "review":
            await self._back_to_review()
            return
        if name not in OTHER_SCREENS:
            self.notify(f"no screen called {name!r}", severity="error", markup=False)
            return
        if self.is_screen_installed(name) and self.screen is self.get_screen(name):
            return
        if not self.is_screen_installed(name):
            cls = screen_class(name)
            if cls is None:
                self.notify(f"the {OTHER_SCREENS[name][2]} screen is not available yet", severity="warning", markup=False)
                return
            self.install_screen(cls(), name)
        await self._back_to_review()
        await self.push_screen(name)

    async def _back_to_review(self) -> None:
        while self.screen is not self.review and len(self.screen_stack) > 1:
            await self.pop_screen()

    async def run_review_action(self, action: str) -> None:
        """Run a review action from anywhere (the command palette): back to the review screen first."""
        await self._back_to_review()
        await self.review.run_action(action)

    def handle_bindings_clash(self, clashed_bindings, node) -> None:  # noqa: ANN001 (Textual's signature)
        keys = ", ".join(sorted({b.key for b in clashed_bindings}))
        self.log.warning(f"keymap: {keys} bound twice in {node!r}")

    # --- theme -----------------------------------------------------------------------------

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name != self.config.theme:
            self.config.theme = theme.name
            self.save_settings()

    @work(thread=True, exclusive=True, group="config")
    def save_settings(self) -> None:
        try:
            save_config(self.config, self.config_path)
        except OSError as exc:
            self.call_from_thread(
                self.notify, f"cannot save the settings: {exc.strerror}", severity="warning", markup=False
            )


def create_app(
    db_path: str | os.PathLike | None = None,
    config: Config | None = None,
    *,
    config_path: str | os.PathLike | None = None,
    poll_interval: float | None = POLL_SECONDS,
) -> MemtuiApp:
    """Build the app. `db_path` None means the default database ($MEMTUI_DB or the user data
    dir); `config` None reads the config file (`config_path`, else the user config dir).
    `poll_interval` is how often (seconds) it looks for what other processes wrote; None: never."""
    if config is None:
        config = load_config(config_path)
    elif config_path is not None:
        config.path = Path(config_path)
    return MemtuiApp(db_path, config, poll_interval=poll_interval)
