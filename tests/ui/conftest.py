"""UI test fixtures: a review database, the app from the one factory, and a way to wait for it."""

from __future__ import annotations

import os
import time

import pytest
from textual.worker import WorkerCancelled, WorkerState

from tests.ui.data import ReviewData, build_review_db


@pytest.fixture
def anyio_backend():
    """Async tests (marked anyio) run on asyncio, Textual's loop."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    """Dates on screen come from the data, shown in local time: make local time UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def review_data(tmp_path) -> ReviewData:
    return build_review_db(tmp_path / "data")


@pytest.fixture
def make_app(tmp_path):
    """create_app with the test's own config file and no polling (tests poll by hand)."""
    from memtui.ui.app import create_app

    def make(data: ReviewData | os.PathLike, **kwargs):
        kwargs.setdefault("poll_interval", None)
        kwargs.setdefault("config_path", tmp_path / "config" / "config.json")
        path = data.path if isinstance(data, ReviewData) else data
        return create_app(path, **kwargs)

    return make


def _busy(app) -> bool:
    if any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
        return True
    review = getattr(app, "review", None)
    return bool(review is not None and (review._busy or review._actions))


async def settle(pilot, rounds: int = 50) -> None:
    """Wait until no worker runs and every message they posted has been handled."""
    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive worker replaced by a newer one (quick switches): wait on for the rest
        await pilot.pause()
        if _busy(app):
            quiet = 0
            continue
        quiet += 1
        if quiet >= 2:
            await pilot.pause()
            return
    raise AssertionError("the app did not settle")


async def still(pilot) -> None:
    """Make the screen still for a snapshot: no blinking cursor in inputs and text areas."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()


def screen_lines(app) -> list[str]:
    """The whole screen as plain text rows (what a person sees)."""
    update = app.screen._compositor.render_full_update(simplify=True)
    return ["".join(strip.text for strip in line) for line in update.strips]
