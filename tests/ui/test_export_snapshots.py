"""Snapshots of the Export screen at 120×36 and 80×24 (pytest-textual-snapshot).

Deterministic: fixed data (tests/ui/export_data.py), no polling, `run_before` waits for every
worker and the messages they post, and no cursor blinks. The one file written lives in the test's
HOME, so the dialog shows it as ~/notes/CLAUDE.md in every run.
Update with: pytest tests/ui/test_export_snapshots.py --snapshot-update (and look at the SVGs).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Input

from memtui.ui.app import create_app
from tests.ui.conftest import settle, still
from tests.ui.export_data import build_export_db
from tests.ui.test_snapshots import SIZES


@pytest.fixture
def app(tmp_path):
    """The app on the export data, with the default config path (inside the test's HOME)."""
    return create_app(build_export_db(tmp_path / "data").path, poll_interval=None)


def steps(budget: str | None = None, path: str | None = None, keys: tuple[str, ...] = ()):
    """run_before: open the Export screen, fill in the budget and the output path, press keys
    (waiting after each), then make it still."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = pilot.app.screen
        if budget is not None:
            screen.query_one("#export-budget", Input).value = budget
            await settle(pilot)
        if path is not None:
            screen.query_one("#export-path", Input).value = path
        screen.query_one("#export-preview").focus()
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await still(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_export_default_scope_no_budget(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps())


@pytest.mark.parametrize("size", SIZES)
def test_export_with_a_budget_and_memories_left_out(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps(budget="150"))


def test_export_bad_budget_keeps_the_last_preview(snap_compare, app):
    async def run_before(pilot) -> None:
        await steps(budget="150")(pilot)
        box = pilot.app.screen.query_one("#export-budget", Input)
        box.value = "15o"
        box.focus()
        box.cursor_blink = False
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_export_confirm_before_writing_into_an_existing_file(snap_compare, app):
    notes = Path(os.environ["HOME"]) / "notes"
    notes.mkdir(parents=True, exist_ok=True)
    (notes / "CLAUDE.md").write_text("# My own notes\n", encoding="utf-8")
    assert snap_compare(app, terminal_size=(120, 36), run_before=steps(path="~/notes/CLAUDE.md", keys=("w",)))
