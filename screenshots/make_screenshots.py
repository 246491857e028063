"""Screenshots of the real app on the demo sessions, for the README.

    .venv/bin/python screenshots/make_screenshots.py [--out screenshots] [--no-png]

Builds the demo database with `memtui demo --no-ui` (in a temporary folder, with a temporary HOME
so no real config is read), runs the app headlessly (App.run_test) at 120x36 and 80x24, drives it
with key presses like a person, and writes one SVG per state. PNGs are made from the SVGs with
`rsvg-convert` (librsvg2-bin) when it is installed. Dates are shown in UTC, so the output is the same
on every machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


async def settle(pilot, rounds: int = 60) -> None:
    """Wait until no worker runs and the messages they posted have been handled."""
    from textual.worker import WorkerCancelled, WorkerState

    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive worker replaced by a newer one: wait on for the rest
        await pilot.pause()
        review = app.review
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers) or review._busy or review._actions
        quiet = 0 if busy else quiet + 1
        if quiet >= 2:
            await pilot.pause()
            return
    raise RuntimeError("the app did not settle")


async def still(pilot) -> None:
    for area in pilot.app.screen.query("TextArea"):
        area.cursor_blink = False
    await pilot.pause()


def keys(*presses: str):
    async def drive(pilot) -> None:
        for key in presses:
            await pilot.press(key)
            await settle(pilot)

    return drive


async def expand_tool_result(pilot) -> None:
    """Put the transcript's cursor on a failed command's output and open it (enter)."""
    view = pilot.app.review.transcript
    view.focus()
    view.cursor_row = next(y for y, line in enumerate(view.plain_lines()) if "▸ error" in line)
    await pilot.press("enter")
    await settle(pilot)


def typing(screen_key: str, *presses: str):
    """Open a screen, then press keys; "=text" types the text one character at a time."""

    async def drive(pilot) -> None:
        await pilot.press(screen_key)
        await settle(pilot)
        for press in presses:
            await pilot.press(*(list(press[1:]) if press.startswith("=") else [press]))
            await settle(pilot)
        await pilot.pause(0.3)  # the last search / preview worker's result
        await settle(pilot)

    return drive


# (file name, size, what to do after the data is shown)
SHOTS = [
    ("review", (120, 36), keys("down", "enter", "escape")),  # a proposal selected, its evidence highlighted
    ("tool-result-expanded", (120, 36), expand_tool_result),
    ("edit", (120, 36), keys("down", "e")),
    ("help", (120, 36), keys("question_mark")),
    ("review-80x24", (80, 24), keys("down")),
    ("memories", (120, 36), typing("2", "down", "space", "down", "space")),
    ("memories-search", (120, 36), typing("2", "slash", "=pnmp nevr")),  # a typo, words out of order
    ("forget-stale", (120, 36), typing("3", "tab", "tab", "=0d")),  # session-tier memories older than 0 days
    ("trash", (120, 36), typing("4")),
    ("export", (120, 36), typing("5", "b", "=250")),  # a budget that leaves some out
    ("memories-80x24", (80, 24), typing("2")),
]

CURATE_SHOTS = {"memories", "memories-search", "forget-stale", "trash", "export", "memories-80x24"}

# Some review already done on the demo database, so the curate and export screens have something
# to show: approved, pinned, rejected and forgotten memories.
PREPARE = [
    ("approve", "1", "2", "4", "6", "9", "10", "11", "12", "14", "15", "17", "18", "19", "20", "21"),
    ("pin", "14", "15"),
    ("reject", "3"),
    ("forget", "--yes", "--below-confidence", "0.75", "--tier", "session", "--project", "/home/dev/projects/invoice-api"),
]


async def shoot(db: Path, out: Path, name: str, size: tuple[int, int], drive) -> Path:
    from memtui.ui.app import create_app

    app = create_app(db, poll_interval=None)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await drive(pilot)
        await still(pilot)
        app.save_screenshot(f"{name}.svg", str(out))
    return out / f"{name}.svg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--no-png", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="memtui-shots-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        os.environ.update(
            HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"), TZ="UTC"
        )
        os.environ.pop("MEMTUI_DB", None)
        time.tzset()
        db = Path(tmp) / "demo.db"
        subprocess.run([sys.executable, "-m", "memtui", "demo", "--no-ui", "--db", str(db)], check=True)
        # The review shots show the demo as a newcomer sees it; the curate and export shots a copy
        # with some review done.
        reviewed = Path(tmp) / "reviewed.db"
        shutil.copy(db, reviewed)
        for command in PREPARE:
            subprocess.run([sys.executable, "-m", "memtui", "--db", str(reviewed), *command], check=True,
                           stdout=subprocess.DEVNULL)
        with sqlite3.connect(reviewed) as con:  # the memories' times: their session's end, not today
            con.execute(
                "UPDATE memory SET created_at = t, updated_at = t, last_seen_at = t,"
                " forgotten_at = CASE WHEN forgotten_at IS NULL THEN NULL ELSE t + 86400 END"
                " FROM (SELECT id AS sid, COALESCE(ended_at, started_at) AS t FROM session) WHERE session_id = sid"
            )

        svgs = [
            asyncio.run(shoot(reviewed if name in CURATE_SHOTS else db, args.out, name, size, drive))
            for name, size, drive in SHOTS
        ]

    converter = shutil.which("rsvg-convert")
    for svg in svgs:
        line = f"wrote {svg}"
        if not args.no_png and converter:
            png = svg.with_suffix(".png")
            subprocess.run([converter, "--zoom", "1.0", "-o", str(png), str(svg)], check=True)
            line += f" and {png.name}"
        print(line)
    if not args.no_png and not converter:
        print("no PNGs: rsvg-convert is not installed (apt-get install librsvg2-bin)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
