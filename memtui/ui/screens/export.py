"""The Export screen: choose format, scope and token budget, watch a live preview, then write or copy.

Every change re-renders in an exclusive thread worker that calls `memtui.core.export.render` (the
same function `memtui export` uses) and posts the result back; a result for options that are no
longer the wanted ones is dropped. The preview is a read-only text area: the exported text is shown
literally, never parsed as markup. Writing and copying run in workers too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from memtui.core import clipboard, export
from memtui.ui.config import display_path
from memtui.ui.messages import DataChanged
from memtui.ui.screens.confirm import ConfirmScreen
from memtui.ui.text import one_line
from memtui.ui.widgets.memory_detail import project_label

LEFT_OUT_SHOWN = 500  # entries listed in the Left out pane (the title gives how many there are)
# Lines of the document the preview shows: a TextArea wraps every line it holds when it is given
# them, on the UI thread (~9 s for the 67,000 lines of a 100,000-memory store here).
PREVIEW_LINES = 3000


def preview_text(text: str, lines: int | None = None) -> str:
    """`text`, or its first `lines` lines (default PREVIEW_LINES) and a line that says how many
    follow: what w writes and c copies is always the whole text."""
    lines = PREVIEW_LINES if lines is None else lines
    end = -1
    for _ in range(lines):
        end = text.find("\n", end + 1)
        if end < 0:
            return text
    if end + 1 >= len(text):
        return text
    rest = text.count("\n", end + 1) + (0 if text.endswith("\n") else 1)
    return (f"{text[: end + 1]}\n… {rest:,} more line{'s' if rest != 1 else ''} not shown here: w writes and c copies"
            " the whole text\n")

# Where each format goes by default, under the chosen project's root.
DEFAULT_FILES: dict[str, str] = {
    "claude-md": "CLAUDE.md",
    "agents-md": "AGENTS.md",
    "cursor-rules": ".cursor/rules/memtui.mdc",
    "markdown": "memtui.md",
    "json": "memtui.json",
}
FORMAT_LABELS: dict[str, str] = {
    "claude-md": "CLAUDE.md",
    "agents-md": "AGENTS.md",
    "cursor-rules": "Cursor rules",
    "markdown": "Markdown",
    "json": "JSON",
}
DEVELOPER_ONLY = ""  # the project select's value for "no project: the developer tier only"

# The tier select: (label, tiers). () is the default scope of `memtui export`.
TIER_SCOPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dev + project + pinned session", ()),
    ("dev + project", ("developer", "project")),
    ("dev + project + all session", ("developer", "project", "session")),
    ("developer only", ("developer",)),
    ("project only", ("project",)),
    ("session only", ("session",)),
)

BUDGET_HELP = "A whole number above 0 (2000, 2,000, 2k), or empty: no limit."


def parse_budget(text: str) -> int | None:
    """The budget typed: None for no limit; ValueError for anything but a whole number above 0."""
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    if not cleaned:
        return None
    factor = 1
    if cleaned[-1] in "kK":
        cleaned, factor = cleaned[:-1], 1000
    if not cleaned.isdigit():  # no sign, no decimals, no letters
        raise ValueError(BUDGET_HELP)
    value = int(cleaned) * factor
    if value <= 0:
        raise ValueError(BUDGET_HELP)
    return value


class BudgetValidator(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            parse_budget(value)
        except ValueError as exc:
            return self.failure(str(exc), value)
        return self.success()


def default_path(format: str, project: str | None) -> str:
    """The default output file: the format's usual file under the project's root (else relative)."""
    name = DEFAULT_FILES.get(format, "memtui.md")
    return display_path(os.path.join(project, name)) if project else name


def resolve_path(text: str, project: str | None) -> Path:
    """The file a path typed in the output box names: ~ expanded; relative to the project's root."""
    path = Path(os.path.expanduser(text.strip()))
    if not path.is_absolute():
        path = Path(project or os.getcwd()) / path
    return path


@dataclass(frozen=True)
class ProjectChoice:
    root: str
    approved: int  # approved memories of this project (not forgotten)


# --- messages from the workers ------------------------------------------------------------------


class ProjectsLoaded(Message):
    def __init__(self, projects: tuple[ProjectChoice, ...], here: str | None, version: tuple) -> None:
        super().__init__()
        self.projects = projects
        self.here = here  # the project the current directory is in, if any
        self.version = version


class PreviewRendered(Message):
    def __init__(self, options: export.ExportOptions, result: export.ExportResult,
                 left: list[export.ExportEntry]) -> None:
        super().__init__()
        self.options = options
        self.result = result
        self.left = left  # the first LEFT_OUT_SHOWN entries left out, in rank order
        # made here, in the worker that posts this: the text decoded (20 MB for a large store) and
        # cut to what the preview holds, so the UI thread only loads it
        self.shown = preview_text(result.text)


class PreviewFailed(Message):
    def __init__(self, options: export.ExportOptions, error: str) -> None:
        super().__init__()
        self.options = options
        self.error = error


class WriteNeedsConfirm(Message):
    """The output file exists: ask before writing into it."""

    def __init__(self, path: Path, options: export.ExportOptions, action: str) -> None:
        super().__init__()
        self.path = path
        self.options = options
        self.action = action  # what writing will do: "inserted block", "replaced block", "replaced file"


class WriteDone(Message):
    def __init__(self, path: Path, outcome: str, result: export.ExportResult) -> None:
        super().__init__()
        self.path = path
        self.outcome = outcome  # "created", "replaced block", "inserted block"
        self.result = result


class WriteFailed(Message):
    def __init__(self, path: Path, error: str) -> None:
        super().__init__()
        self.path = path
        self.error = error


class SystemCopied(Message):
    def __init__(self, tokens: int, tool: str | None, error: str | None = None) -> None:
        super().__init__()
        self.tokens = tokens
        self.tool = tool  # the system clipboard tool used; None when there is none
        self.error = error


# --- the screen -----------------------------------------------------------------------------------


class ExportScreen(Screen):
    """Curated context for the next session: format, scope, budget, a live preview; write or copy."""

    AUTO_FOCUS = "#export-format"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # -narrow: stacked, no left-out pane
    DB_WAIT_SECONDS = 0.1

    BINDINGS = [
        Binding("w", "write", "write", id="export.write",
                tooltip="Write the export to the output file (memtui's block only, when the file exists)"),
        Binding("c", "copy", "copy", id="export.copy",
                tooltip="Copy the export to the clipboard (the terminal's, OSC 52, and the system's)"),
        Binding("f", "cycle_format", "format", id="export.cycle_format",
                tooltip="Next format: CLAUDE.md, AGENTS.md, Cursor rules, Markdown, JSON"),
        Binding("b", "focus_budget", "budget", id="export.budget", show=False, tooltip="Type the token budget"),
        Binding("o", "focus_output", "output", id="export.output", show=False, tooltip="Type the output file"),
        Binding("ctrl+r", "reload", "reload", id="export.reload", show=False,
                tooltip="Read the memories again (what was approved elsewhere since)"),
        Binding("escape", "app.show_screen('review')", "review", id="export.back", tooltip="Back to the Review screen"),
    ]

    def __init__(self) -> None:
        super().__init__(id="export")
        self.result: export.ExportResult | None = None
        self.left: list[export.ExportEntry] = []  # the first of what the budget left out of `result`
        self.shown_options: export.ExportOptions | None = None  # the options `result` was made with
        self.wanted: export.ExportOptions | None = None  # the options of the latest render asked for
        self.projects: tuple[ProjectChoice, ...] = ()
        self.version: tuple | None = None
        self._auto_path: str | None = None  # the output path last filled in by default
        self._waiting_for_db = None
        self._polling = None
        self._projects_known = False

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(id="header")
        with Horizontal(id="export-body"):
            with Vertical(id="export-side"):
                with Vertical(id="export-options", classes="pane") as options:
                    options.border_title = Content("Export")
                    with Horizontal(classes="export-row"):
                        yield Label("Format", classes="export-label")
                        yield Select(
                            [(Content(FORMAT_LABELS[f]), f) for f in export.FORMATS],
                            value=export.FORMATS[0], allow_blank=False, compact=True, id="export-format",
                        )
                    with Horizontal(classes="export-row"):
                        yield Label("Project", classes="export-label")
                        yield Select(
                            [(Content("developer tier only"), DEVELOPER_ONLY)],
                            value=DEVELOPER_ONLY, allow_blank=False, compact=True, id="export-project",
                        )
                    with Horizontal(classes="export-row"):
                        yield Label("Tiers", classes="export-label")
                        yield Select(
                            [(Content(label), tiers) for label, tiers in TIER_SCOPES],
                            value=(), allow_blank=False, compact=True, id="export-tiers",
                            tooltip="Which tiers: by default the developer tier, the project's tier and the"
                            " project's pinned session memories",
                        )
                    with Horizontal(classes="export-row"):
                        yield Label("Budget", classes="export-label")
                        yield Input(
                            placeholder="tokens (empty: no limit)", compact=True, id="export-budget",
                            validators=[BudgetValidator()], validate_on=["changed", "submitted"],
                            tooltip="Token budget: a whole number above 0, or empty for no limit",
                        )
                    yield Static("", id="export-budget-error", markup=False)
                    with Horizontal(classes="export-row"):
                        yield Label("Write to", classes="export-label")
                        yield Input(
                            compact=True, id="export-path",
                            tooltip="The output file; a relative path is under the project's root"
                            " (developer tier only: the current directory); enter writes",
                        )
                    with Horizontal(id="export-actions"):
                        yield Button("Write", compact=True, variant="primary", id="export-write",
                                     tooltip="Write the export to the file (w)")
                        yield Button("Copy", compact=True, id="export-copy", tooltip="Copy the export (c)")
                with Vertical(id="export-left-out-pane", classes="pane"):
                    yield OptionList(id="export-left-out")
            with Vertical(id="export-preview-pane", classes="pane"):
                yield TextArea(
                    "", read_only=True, soft_wrap=True, show_line_numbers=False, highlight_cursor_line=False,
                    id="export-preview",
                )
        yield Static("", id="export-status", markup=False)
        yield Footer(id="footer", compact=True)

    @property
    def preview(self) -> TextArea:
        return self.query_one("#export-preview", TextArea)

    def on_mount(self) -> None:
        self.sub_title = "Export"
        self.query_one("#export-budget-error").display = False
        self._set_path_default()
        self._show_titles()
        self._show_status()
        self._show_left_out()

    # --- starting, and coming back -----------------------------------------------------------

    def on_screen_resume(self) -> None:
        self._start()

    def _start(self) -> None:
        if self.app.db is None:  # shown before the database is open: look again shortly
            if self._waiting_for_db is None:
                self._waiting_for_db = self.set_interval(self.DB_WAIT_SECONDS, self._start)
            return
        if self._waiting_for_db is not None:
            self._waiting_for_db.stop()
            self._waiting_for_db = None
        interval = getattr(self.app, "poll_interval", None)
        if interval and self._polling is None:  # as often as Review looks for other writers
            self._polling = self.set_interval(interval, self.poll, name="export-poll")
        self.load_projects()

    def poll(self) -> None:
        """While shown: look (in a worker) whether anything was approved, edited or forgotten
        elsewhere (another screen, the CLI, an import) and if so make the preview again."""
        if self.is_current and self.version is not None:
            self._check_version()

    @work(thread=True, exclusive=True, group="export-version")
    def _check_version(self) -> None:
        from memtui.core import store

        with self.app.connection() as db:
            version = store.data_version(db)
        if version != self.version and not get_current_worker().is_cancelled:
            self.post_message(DataChanged(version))

    def on_data_changed(self, message: DataChanged) -> None:
        if message.version != self.version:
            self.load_projects()  # (reads the version again, and makes the preview when it changed)

    @work(thread=True, exclusive=True, group="export-projects")
    def load_projects(self) -> None:
        from memtui.core import store

        with self.app.connection() as db:
            version = store.data_version(db)
            rows = db.execute_sql(
                "SELECT p.root, COUNT(*) FROM project p JOIN memory m ON m.project_id = p.id"
                " WHERE m.status = 'approved' AND m.forgotten_at IS NULL"
                " GROUP BY p.id, p.root ORDER BY COUNT(*) DESC, p.root"
            ).fetchall()
        projects = tuple(ProjectChoice(root, count) for root, count in rows)
        cwd = os.getcwd()
        inside = [p.root for p in projects if cwd == p.root or cwd.startswith(p.root.rstrip("/") + "/")]
        here = max(inside, key=len) if inside else None
        if not get_current_worker().is_cancelled:
            self.post_message(ProjectsLoaded(projects, here, version))

    def action_reload(self) -> None:
        self.version = None  # so the preview is made again even if nothing changed
        self._start()

    def on_projects_loaded(self, message: ProjectsLoaded) -> None:
        changed = message.version != self.version
        self.version = message.version
        select = self.query_one("#export-project", Select)
        current = select.value
        if message.projects != self.projects:
            self.projects = message.projects
            roots = [p.root for p in message.projects]
            if not self._projects_known:
                # First time: the project of the current directory, else the one with most memories.
                keep = message.here or (roots[0] if roots else DEVELOPER_ONLY)
            else:
                keep = current if current in roots or current == DEVELOPER_ONLY else (roots[0] if roots else DEVELOPER_ONLY)
            # the folder name and count (the box is narrow; the title shows the whole path), the path
            # instead of the name where two projects share one
            names = [project_label(p.root) for p in message.projects]
            options = [(Content(f"{name if names.count(name) == 1 else display_path(p.root)} ({p.approved})"), p.root)
                       for name, p in zip(names, message.projects)]
            options.append((Content("developer tier only"), DEVELOPER_ONLY))
            with self.prevent(Select.Changed):
                select.set_options(options)
                if select.value == keep:  # Select shows a label again only when its value changes:
                    select.value = next((v for _, v in options if v != keep), keep)  # (the new count)
                select.value = keep
            self._set_path_default()
        self._projects_known = True
        self._schedule(force=changed)

    # --- the options -----------------------------------------------------------------------

    def _project(self) -> str | None:
        value = self.query_one("#export-project", Select).value
        return value if isinstance(value, str) and value != DEVELOPER_ONLY else None

    def _format(self) -> str:
        value = self.query_one("#export-format", Select).value
        return value if isinstance(value, str) else export.FORMATS[0]

    def options(self) -> export.ExportOptions | None:
        """The options the widgets say, or None while the budget is not a valid number."""
        tiers = self.query_one("#export-tiers", Select).value
        try:
            budget = parse_budget(self.query_one("#export-budget", Input).value)
        except ValueError:
            return None
        return export.ExportOptions(
            format=self._format(),
            project=self._project(),
            tiers=tiers if isinstance(tiers, tuple) else (),
            budget=budget,
        )

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("export-format", "export-project"):
            self._set_path_default()
            self._show_titles()
        self._schedule()

    @on(Input.Changed, "#export-budget")
    def _budget_changed(self, event: Input.Changed) -> None:
        error = self.query_one("#export-budget-error", Static)
        valid = event.validation_result is None or event.validation_result.is_valid
        error.update("" if valid else BUDGET_HELP)
        error.display = not valid
        self._schedule()
        self._show_status()

    @on(Input.Submitted, "#export-budget")
    def _budget_submitted(self, event: Input.Submitted) -> None:
        if self.options() is not None:
            self.preview.focus()

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        self.action_write()

    @on(Button.Pressed, "#export-write")
    def _write_pressed(self, event: Button.Pressed) -> None:
        self.action_write()

    @on(Button.Pressed, "#export-copy")
    def _copy_pressed(self, event: Button.Pressed) -> None:
        self.action_copy()

    def _set_path_default(self) -> None:
        """Fill in the format's usual file, unless the person typed a path of their own."""
        path_input = self.query_one("#export-path", Input)
        new = default_path(self._format(), self._project())
        if path_input.value in ("", self._auto_path) and path_input.value != new:
            path_input.value = new
            path_input.cursor_position = len(new)
        self._auto_path = new

    # --- rendering -------------------------------------------------------------------------

    def _schedule(self, force: bool = False) -> None:
        """Render the preview for the options shown, unless that is what is (being) shown."""
        if self.app.db is None or not self._projects_known:
            return
        options = self.options()
        if options is None:
            return  # a bad budget: the error says so, the last preview stays
        if not force and options == self.wanted:
            return
        self.wanted = options
        self._show_status()
        self.render_preview(options)

    @work(thread=True, exclusive=True, group="export-render")
    def render_preview(self, options: export.ExportOptions) -> None:
        worker = get_current_worker()
        try:
            with self.app.connection() as db:
                if options.format == "json":  # (json has no whole-document path: entries cost little more)
                    result = export.render(db, options)
                    left = [e for e in result.entries if not e.included][:LEFT_OUT_SHOWN]
                else:  # no entry per memory: a store of 100,000 shows in ~0.1 s, not seconds
                    result = export.render(db, options, with_entries=False)
                    left = (export.left_out_entries(db, options, result.included, LEFT_OUT_SHOWN)
                            if result.left_out else [])
        except Exception as exc:  # a locked database, a bug in a renderer: say so, keep running
            if not worker.is_cancelled:
                self.post_message(PreviewFailed(options, f"{type(exc).__name__}: {exc}"))
            return
        if not worker.is_cancelled:
            self.post_message(PreviewRendered(options, result, left))

    def on_preview_rendered(self, message: PreviewRendered) -> None:
        if message.options != self.wanted:
            return  # stale: the options changed while it rendered
        self.result = message.result
        self.left = message.left
        self.shown_options = message.options
        area = self.preview
        shown = message.shown
        if area.text != shown:
            scroll = area.scroll_offset
            area.load_text(shown)
            area.scroll_to(scroll.x, scroll.y, animate=False, immediate=True)
        self._show_titles()
        self._show_status()
        self._show_left_out()

    def on_preview_failed(self, message: PreviewFailed) -> None:
        if message.options != self.wanted:
            return
        self.wanted = None  # so the same options are tried again on the next change
        self._show_status()
        self.notify(message.error, title="export preview failed", severity="error", markup=False)

    def _show_titles(self) -> None:
        fmt = self._format()
        options = self.shown_options
        title = Content.assemble("Preview · ", (FORMAT_LABELS.get(fmt, fmt), "bold"))
        if options is not None and options.format != fmt:
            title = Content.assemble(title, " (updating…)")
        self.query_one("#export-preview-pane").border_title = title
        project = self._project()
        self.sub_title = f"Export · {display_path(project)}" if project else "Export · developer tier only"

    def _show_status(self) -> None:
        """'1,234 / 2,000 tokens · 37 memories · 5 left out'."""
        status = self.query_one("#export-status", Static)
        result = self.result
        if result is None:
            status.update(Content("Rendering the preview…" if self.app.db is not None else "Opening the database…"))
            return
        options = self.shown_options
        included = result.included
        tokens = f"{result.tokens:,}"
        if options is not None and options.budget is not None:
            tokens += f" / {options.budget:,}"
        parts: list = [(f"{tokens} tokens", "bold"), f" · {included:,} memor{'y' if included == 1 else 'ies'}"]
        if result.left_out:
            parts += [" · ", (f"{result.left_out:,} left out", "$text-warning")]
        for note in result.notes[:1]:
            parts += [" · ", (one_line(note), "$text-warning")]
        if not result.included and not result.left_out:
            parts += [" · ", ("nothing approved in this scope yet: approve proposals on Review (1)", "$text-warning")]
        if self.wanted is not None and self.wanted != options:
            parts.append((" · updating…", "dim"))
        elif self.options() is None:
            parts += [" · ", ("bad budget, preview kept", "$text-error")]
        status.update(Content.assemble(*parts))

    def _show_left_out(self) -> None:
        result = self.result
        left = self.left if result is not None else []
        pane = self.query_one("#export-left-out-pane")
        pane.border_title = Content(f"Left out · {result.left_out:,}" if left else "Left out")
        pane.border_subtitle = Content("tokens · memory, in rank order" if left else "")
        listing = self.query_one("#export-left-out", OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        if not left:
            budget = self.shown_options.budget if self.shown_options is not None else None
            note = "" if result is None else "Everything fits the budget." if budget else "No budget: nothing is left out."
            listing.add_option(Option(Content.styled(note, "italic"), disabled=True))
            return
        listing.add_options(
            Option(Content.assemble((f"{e.tokens:>4,} ", "dim"), one_line(e.memory.text)), id=str(e.memory.id))
            for e in left
        )
        if result.left_out > len(left):
            more = result.left_out - len(left)
            listing.add_option(Option(Content.styled(f"… and {more:,} more", "italic"), disabled=True))
        if highlighted is not None and listing.option_count:
            listing.highlighted = min(highlighted, listing.option_count - 1)

    # --- actions ---------------------------------------------------------------------------

    def action_cycle_format(self) -> None:
        select = self.query_one("#export-format", Select)
        formats = list(export.FORMATS)
        current = select.value if select.value in formats else formats[-1]
        select.value = formats[(formats.index(current) + 1) % len(formats)]

    def action_focus_budget(self) -> None:
        self.query_one("#export-budget", Input).focus()

    def action_focus_output(self) -> None:
        self.query_one("#export-path", Input).focus()

    def _ready_options(self, doing: str) -> export.ExportOptions | None:
        options = self.options()
        if options is None:
            self.app.bell()
            self.notify(f"Fix the budget before you {doing}: {BUDGET_HELP}", severity="warning", timeout=4, markup=False)
        elif self.app.db is None or not self._projects_known:
            self.notify("Still opening the database.", severity="warning", timeout=2)
            return None
        return options

    def action_copy(self) -> None:
        options = self._ready_options("copy")
        if options is None:
            return
        result = self.result
        if result is None or self.shown_options != options:
            self.notify("The preview is still being made; copy again in a moment.", severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(result.text)  # the terminal's clipboard (OSC 52)
        self.copy_to_system(result.text, result.tokens)

    @work(thread=True, exclusive=True, group="export-copy")
    def copy_to_system(self, text: str, tokens: int) -> None:
        try:
            tool = clipboard.system_copy(text)
        except Exception as exc:  # a clipboard tool that failed: the terminal's copy may still have worked
            self.post_message(SystemCopied(tokens, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SystemCopied(tokens, tool))

    def on_system_copied(self, message: SystemCopied) -> None:
        what = f"Copied {message.tokens:,} tokens"
        if message.tool:
            self.notify(f"{what} to the clipboard (terminal and {message.tool}).", title="copy", timeout=4, markup=False)
        elif message.error:
            self.notify(f"{what} through the terminal (OSC 52); the system clipboard failed: {message.error}",
                        title="copy", severity="warning", timeout=6, markup=False)
        else:
            self.notify(f"{what} through the terminal (OSC 52); no system clipboard tool was found, "
                        "so it works only where the terminal supports OSC 52.",
                        title="copy", severity="warning", timeout=6, markup=False)

    def action_write(self) -> None:
        options = self._ready_options("write")
        if options is None:
            return
        text = self.query_one("#export-path", Input).value
        if not text.strip():
            self.app.bell()
            self.notify("Type the file to write to.", severity="warning", timeout=3)
            self.action_focus_output()
            return
        self.check_output(resolve_path(text, options.project), options)

    @work(thread=True, exclusive=True, group="export-write")
    def check_output(self, path: Path, options: export.ExportOptions) -> None:
        """A new file is written at once; an existing one is read first, to say what will happen
        to it (or why memtui will not touch it) before asking."""
        try:
            existing = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._write(path, options)
            return
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            self.post_message(WriteFailed(path, f"cannot read it: {reason}"))
            return
        try:
            with self.app.connection() as db:
                result = export.render(db, options)
            _, action = export.merge(existing, result.text, options.format, display_path(path))
        except export.ExportError as exc:
            self.post_message(WriteFailed(path, str(exc)))
            return
        except Exception as exc:
            self.post_message(WriteFailed(path, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(WriteNeedsConfirm(path, options, action))

    def on_write_needs_confirm(self, message: WriteNeedsConfirm) -> None:
        shown = (display_path(message.path), "bold")
        if message.action == "inserted block":
            question = Content.assemble(
                shown, " exists and has no memtui block.\n\n",
                "memtui will insert its block at the end, between its markers; the rest of the file is kept as it is.",
            )
        elif message.action == "replaced block":
            question = Content.assemble(
                shown, " exists and holds memtui's block.\n\n",
                "memtui will replace that block, between its markers; the rest of the file is kept as it is.",
            )
        else:
            question = Content.assemble(shown, " was written by memtui.\n\nIt will be replaced by this export.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.write_output(message.path, message.options)

        self.app.push_screen(ConfirmScreen("Write into an existing file?", question, yes="Write", no="Cancel"), answered)

    @work(thread=True, exclusive=True, group="export-write")
    def write_output(self, path: Path, options: export.ExportOptions) -> None:
        self._write(path, options)

    def _write(self, path: Path, options: export.ExportOptions) -> None:
        """(In a worker.) Render afresh for these options (what the preview shows for them) and
        write: memtui's block only, in a file that holds text of the person's own."""
        try:
            with self.app.connection() as db:
                result = export.render(db, options)
            outcome = export.write_export(path, result, options)
        except export.ExportError as exc:
            self.post_message(WriteFailed(path, str(exc)))
        except Exception as exc:
            self.post_message(WriteFailed(path, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(WriteDone(path, outcome, result))

    def on_write_done(self, message: WriteDone) -> None:
        outcome = {"created": "created", "replaced block": "replaced memtui's block in",
                   "inserted block": "inserted memtui's block into", "replaced file": "replaced"}.get(
            message.outcome, message.outcome)
        self.notify(
            f"{outcome[0].upper()}{outcome[1:]} {display_path(message.path)} ({message.result.tokens:,} tokens).",
            title="write", timeout=5, markup=False,
        )

    def on_write_failed(self, message: WriteFailed) -> None:
        self.notify(f"{display_path(message.path)}: {message.error}", title="write failed", severity="error", markup=False)
