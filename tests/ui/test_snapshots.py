"""Snapshots of each Review state at 120×36 and 80×24 (pytest-textual-snapshot).

Deterministic: the data has fixed timestamps and dates are shown in UTC (tests/ui/conftest.py),
the app has no clock and does not poll here, `run_before` waits for every worker and the
messages they post, and the text area's cursor does not blink.
Update with: pytest tests/ui/test_snapshots.py --snapshot-update (and look at the SVGs).
"""

from __future__ import annotations

import pytest

from memtui.ui.app import create_app
from tests.ui.conftest import settle, still
from tests.ui.data import build_review_db

SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def app(tmp_path):
    data = build_review_db(tmp_path / "data")
    # The default config path, inside the HOME that conftest.py made for this test: the help
    # screen shows it as ~/.config/memtui/config.json, the same in every run.
    return create_app(data.path, poll_interval=None)


def steps(*keys: str):
    """run_before: wait for the data, press keys (waiting after each), then make it still."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await still(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_review_with_a_session_selected(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps())


@pytest.mark.parametrize("size", SIZES)
def test_proposal_selected_with_its_evidence_highlighted(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps("down", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_enter_jumps_to_the_evidence(snap_compare, app, size):
    # The cents proposal: enter puts the transcript's cursor on its evidence.
    assert snap_compare(app, terminal_size=size, run_before=steps("down", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_a_tool_result_expanded(snap_compare, app, size):
    async def run_before(pilot) -> None:
        await settle(pilot)
        view = pilot.app.review.transcript
        view.focus()
        view.cursor_row = next(y for y, line in enumerate(view.plain_lines()) if "▸ error" in line)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_reviewed_proposals_dimmed_below(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps("a", "p", "x"))


@pytest.mark.parametrize("size", SIZES)
def test_edit_modal(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps("down", "e"))


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps("question_mark"))
