"""Snapshots of the Memories, Forget stale and Trash screens at 120×36 and 80×24.

Deterministic: tests/ui/curate_data.py gives every memory fixed timestamps (dates shown in UTC,
tests/ui/conftest.py), the rules shown do not depend on the clock (a confidence threshold), the
app does not poll, `run_before` waits for every worker and the messages they post, and no cursor
blinks. Update with: pytest tests/ui/test_curate_snapshots.py --snapshot-update (and look at the SVGs).
"""

from __future__ import annotations

import pytest

from memtui.ui.app import create_app
from tests.ui.conftest import settle, still
from tests.ui.curate_data import build_curate_db

SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]


@pytest.fixture
def app(tmp_path):
    data = build_curate_db(tmp_path / "data")
    return create_app(data.path, config_path=tmp_path / "config" / "config.json", poll_interval=None)


def steps(*keys: str, focus: str | None = None):
    """run_before: wait for the data, press keys (waiting after each), then make it still.
    `focus`: a widget to focus before the keys."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            if key == "@focus":
                pilot.app.screen.query_one(focus).focus()
            else:
                await pilot.press(key)
            await settle(pilot)
        await still(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_memories_with_a_selection(snap_compare, app, size):
    # Two memories selected (space moves on), the cursor on the third.
    assert snap_compare(app, terminal_size=size, run_before=steps("2", "space", "space"))


def test_memories_fuzzy_search(snap_compare, app):
    keys = ["2", "slash", *"redis", "space", *"sesions", "enter"]
    assert snap_compare(app, terminal_size=(120, 36), run_before=steps(*["space" if k == " " else k for k in keys]))


@pytest.mark.parametrize("size", SIZES)
def test_forget_stale_preview(snap_compare, app, size):
    # Confidence below 0.5: two memories would go (the pinned ones stay).
    assert snap_compare(
        app, terminal_size=size, run_before=steps("3", "@focus", "0", "full_stop", "5", focus="#rule-confidence")
    )


@pytest.mark.parametrize("size", SIZES)
def test_trash(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=steps("4", "space"))
