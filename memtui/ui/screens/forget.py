"""The Forget stale screen: rules on the left, a live count and preview of what would go on the right.

Every change to a rule reads the preview again in an exclusive thread worker
(memtui.core.curate.preview_stale); confirming (a yes/no dialog) moves everything the rules
select to the trash in one journal batch, so `u` undoes it in one step and the Trash screen
restores any of it.
"""

from __future__ import annotations

from typing import Sequence

from peewee import SqliteDatabase
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Select, Static
from textual.worker import get_current_worker

from memtui.core import curate, memories
from memtui.core.curate import ForgetRules, MemoryQuery, parse_duration
from memtui.core.models import KINDS, TIERS
from memtui.core.records import MemoryRecord
from memtui.ui.screens.confirm import ConfirmScreen
from memtui.ui.screens.memories import (
    ANY,
    MemoryListScreen,
    _options,
    memories_word,
    shared_bindings,
)
from memtui.ui.text import one_line
from memtui.ui.widgets.memory_detail import MemoryDetail
from memtui.ui.widgets.memory_list import MemoryList

PREVIEW = 50  # memories shown in the preview (the count covers all)
DURATIONS = {"rule-older": "older_than_days", "rule-unseen": "unseen_for_days", "rule-session": "session_older_than_days"}


class PreviewLoaded(Message):
    def __init__(self, rules: ForgetRules, count: int, records: tuple[MemoryRecord, ...]) -> None:
        super().__init__()
        self.rules = rules
        self.count = count
        self.records = records


class ForgetScreen(MemoryListScreen):
    """Forget stale memories by rules: preview first, confirm, undoable."""

    LIST_ID = "forget-preview"
    AUTO_FOCUS = "#rule-older"
    PROJECT_SELECT = "#rule-project"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("ctrl+f", "forget_stale", "forget these", id="forget.confirm",
                tooltip="Move every memory the rules select to the trash (asks first; undoable)"),
        Binding("ctrl+l", "clear_rules", "clear rules", id="forget.clear", show=False,
                tooltip="Clear every rule"),
        Binding("escape", "focus_preview", "preview", id="forget.preview", show=False,
                tooltip="From a rule field to the preview (where u and U undo and redo)"),
        *shared_bindings("forget"),
    ]

    def __init__(self) -> None:
        super().__init__(id="forget-screen")
        self.rules: ForgetRules | None = None  # None: a rule field does not parse
        self.count = 0
        self.errors: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header(id="header")
        with Horizontal(id="forget-body"):
            with Vertical(id="forget-left"):
                with Vertical(id="forget-rules-pane", classes="pane"):
                    yield from self._rules()
                with Vertical(id="forget-detail-pane", classes="pane detail-pane"):
                    yield MemoryDetail(id="forget-detail")
            with Vertical(id="forget-preview-pane", classes="pane"):
                yield MemoryList(id="forget-preview", selectable=False)
        yield Footer(id="footer", compact=True)

    def _rules(self) -> ComposeResult:
        for field_id, label, placeholder in (
            ("rule-older", "older than", "e.g. 90d, 2w"),
            ("rule-unseen", "not seen for", "e.g. 60d"),
            ("rule-session", "session tier >", "e.g. 14d"),
            ("rule-confidence", "confidence <", "e.g. 0.5"),
        ):
            with Horizontal(classes="rule-row"):
                yield Label(label, classes="rule-label")
                yield Input(placeholder=placeholder, compact=True, id=field_id)
        for select_id, label, options in (
            ("rule-tier", "only tier", [("any tier", ANY)] + [(t, t) for t in TIERS]),
            ("rule-kind", "only kind", [("any kind", ANY)] + [(k.replace("_", " "), k) for k in KINDS]),
            ("rule-project", "only project", [("any project", ANY)]),
        ):
            with Horizontal(classes="rule-row"):
                yield Label(label, classes="rule-label")
                yield Select(_options(options), value=ANY, allow_blank=False, compact=True, id=select_id)
        yield Checkbox("include pinned", False, compact=True, id="rule-pinned")
        yield Static(Content(""), id="forget-hint")
        yield Button(Content("Forget these…"), id="forget-go", variant="error", compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Forget stale"
        self.query_one("#forget-rules-pane").border_title = Content("Rules")
        self.read_rules()
        super().on_mount()
        self.memory_list.empty_text = "Set a rule to see what would go."
        self.set_titles()

    def data_changed(self) -> None:
        self._load_projects()
        self.update_preview()

    def reload(self, keep_cursor: bool = True) -> None:
        self.update_preview()

    # --- rules ----------------------------------------------------------------------------

    def read_rules(self) -> ForgetRules | None:
        """The rules from the fields; marks fields that do not parse (and returns None then)."""
        values: dict = {}
        self.errors = []
        for field_id, name in DURATIONS.items():
            field = self.query_one(f"#{field_id}", Input)
            text = field.value.strip()
            ok = True
            if text:
                try:
                    values[name] = parse_duration(text)
                except ValueError:
                    ok = False
                    self.errors.append(f"“{one_line(text)[:20]}” is not a duration (90d, 2w, 12h)")
            field.set_class(not ok, "-invalid")
        field = self.query_one("#rule-confidence", Input)
        text = field.value.strip()
        ok = True
        if text:
            try:
                values["below_confidence"] = float(text)
                ok = 0 <= values["below_confidence"] <= 1
            except ValueError:
                ok = False
            if not ok:
                self.errors.append(f"“{one_line(text)[:20]}” is not a confidence between 0 and 1")
        field.set_class(not ok, "-invalid")
        tier = self.query_one("#rule-tier", Select).value
        kind = self.query_one("#rule-kind", Select).value
        project = self.query_one("#rule-project", Select).value
        rules = ForgetRules(
            tiers=(tier,) if isinstance(tier, str) and tier else (),
            kinds=(kind,) if isinstance(kind, str) and kind else (),
            project=project if isinstance(project, str) and project else None,
            include_pinned=self.query_one("#rule-pinned", Checkbox).value,
            **values,
        )
        self.rules = None if self.errors else rules
        return self.rules

    @on(Input.Changed, "#forget-rules-pane Input")
    @on(Select.Changed, "#forget-rules-pane Select")
    @on(Checkbox.Changed, "#rule-pinned")
    def _rules_changed(self) -> None:
        self.read_rules()
        self.update_preview()

    @on(Input.Submitted, "#forget-rules-pane Input")
    def _next_field(self) -> None:
        self.focus_next()

    def action_focus_preview(self) -> None:
        self.memory_list.focus()

    def action_clear_rules(self) -> None:
        for field_id in (*DURATIONS, "rule-confidence"):
            self.query_one(f"#{field_id}", Input).value = ""
        for select_id in ("rule-tier", "rule-kind", "rule-project"):
            self.query_one(f"#{select_id}", Select).value = ANY
        self.query_one("#rule-pinned", Checkbox).value = False

    # --- preview --------------------------------------------------------------------------

    def update_preview(self) -> None:
        rules = self.rules
        if rules is None or rules.is_empty():
            self.count = 0
            self.memory_list.empty_text = (
                "Fix the rule marked in red." if rules is None else "Set a rule to see what would go."
            )
            self.memory_list.set_ranked([])
            self.set_titles()
            return
        if self._started:
            self._preview(rules)

    @work(thread=True, exclusive=True, group="preview")
    def _preview(self, rules: ForgetRules) -> None:
        with self.app.connection() as db:
            count, records = curate.preview_stale(db, rules, limit=PREVIEW)
        if not get_current_worker().is_cancelled:
            self.post_message(PreviewLoaded(rules, count, tuple(records)))

    def on_preview_loaded(self, message: PreviewLoaded) -> None:
        if message.rules != self.rules:
            return  # the rules changed since: a newer preview is coming
        self.count = message.count
        self.memory_list.empty_text = "Nothing matches these rules: nothing would go."
        self.memory_list.set_ranked(message.records)
        self.set_titles()

    def set_titles(self) -> None:
        pane = self.query_one("#forget-preview-pane")
        rules = self.rules
        if rules is None or rules.is_empty():
            title = "Would go to the trash · set a rule"
        else:
            title = f"Would go to the trash · {memories_word(self.count)}"
        pane.border_title = Content(title)
        shown = self.memory_list.total
        pane.border_subtitle = Content(
            f"the {shown} least recently seen" if self.count > shown else "least recently seen first"
        )
        hint = self.query_one("#forget-hint", Static)
        hint.set_class(not self.errors, "-quiet")
        if self.errors:
            hint.update(Content.styled("\n".join(self.errors), "$text-error"))
        else:
            hint.update(Content.styled(
                "A memory goes when any of the first four rules holds; tier, kind and project narrow that"
                " down. Pinned memories stay unless included.", "dim"))
        button = self.query_one("#forget-go", Button)
        button.label = Content(f"Forget {memories_word(self.count)}…" if self.count else "Forget these…")
        button.disabled = not self.count

    # --- forgetting -----------------------------------------------------------------------

    def memory_query(self) -> MemoryQuery:  # (not paged here)
        return MemoryQuery()

    @on(Button.Pressed, "#forget-go")
    def _go(self) -> None:
        self.action_forget_stale()

    def action_forget_stale(self) -> None:
        rules = self.rules
        if rules is None or rules.is_empty() or not self.count:
            self.app.bell()
            self.notify("No memory matches these rules." if rules and not rules.is_empty() else "Set a rule first.",
                        severity="warning", timeout=2)
            return
        count = self.count

        def answered(yes: bool | None) -> None:
            if yes:
                self.submit("forget stale", lambda db: _forget_stale(db, rules))

        self.app.push_screen(
            ConfirmScreen(
                "Forget stale memories",
                f"Move {memories_word(count)} to the trash? u undoes it; the Trash screen (4) restores any of them.",
                yes="Forget", no="Cancel",
            ),
            answered,
        )


def _forget_stale(db: SqliteDatabase, rules: ForgetRules) -> tuple[Sequence[int], str]:
    with db.atomic():
        changed = memories.forget(db, curate.stale_ids(db, rules))
    if not changed:
        return (), "Nothing matched the rules any more."
    return changed, f"Moved {memories_word(len(changed))} to the trash · u undoes"

