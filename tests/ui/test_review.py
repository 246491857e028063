"""Pilot tests of the Review screen: every key, with its effect checked in the database."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from memtui.core import memories as mem
from memtui.core.db import open_database
from memtui.ui.screens.edit import EditScreen
from memtui.ui.screens.help import HelpScreen
from memtui.ui.screens.review import ReviewScreen
from tests.helpers import rows, write_jsonl
from tests.ui.conftest import screen_lines, settle
from tests.ui.data import CJK, _records

pytestmark = pytest.mark.anyio


def db_rows(data, sql, *args):
    db = open_database(data.path)
    try:
        return rows(db, sql, *args)
    finally:
        db.close()


def status(data, memory_id):
    return db_rows(data, "SELECT status, pinned, tier, kind, text FROM memory WHERE id = ?", memory_id)[0]


def current(app):
    return app.review.proposals.current


async def started(pilot):
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReviewScreen)
    return pilot.app.review


# --- opening -------------------------------------------------------------------------------


async def test_opens_on_review_with_unreviewed_sessions_first(review_data, make_app):
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        assert [s.id for s in review.sessions.sessions] == [
            review_data.sessions["shop"], review_data.sessions["api"], review_data.sessions["notes"]]
        assert [s.pending for s in review.sessions.sessions] == [3, 1, 0]
        assert review.session.id == review_data.sessions["shop"]
        assert [m.id for m in review.proposals.memories] == review_data.memories["shop"]
        assert current(app).id == review_data.memories["shop"][0]
        assert app.focused is review.proposals
        assert review.sub_title == "4 proposals to review in 2 of 3 sessions"
        # The first proposal's evidence is highlighted in the transcript.
        assert review.transcript.highlighted == {review_data.messages["shop"][0]}


# --- the review keys -----------------------------------------------------------------------


async def test_a_approves_and_moves_to_the_next_proposal(review_data, make_app):
    app = make_app(review_data)
    first, second, _ = review_data.memories["shop"]
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert status(review_data, first)[0] == "approved"
        assert db_rows(review_data, "SELECT action FROM event WHERE memory = ? ORDER BY id DESC LIMIT 1", first) == [("approve",)]
        assert current(app).id == second
        assert [m.id for m in review.proposals.pending] == review_data.memories["shop"][1:]
        assert review.sessions.current.pending == 2
        assert review.sub_title.startswith("3 proposals to review")


async def test_quick_presses_act_on_successive_proposals(review_data, make_app):
    app = make_app(review_data)
    first, second, third = review_data.memories["shop"]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("a", "x")  # no waiting in between
        await settle(pilot)
        assert [status(review_data, i)[0] for i in (first, second, third)] == ["approved", "rejected", "proposed"]


async def test_x_rejects(review_data, make_app):
    app = make_app(review_data)
    first = review_data.memories["shop"][0]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert status(review_data, first)[0] == "rejected"
        # The reviewed proposal stays visible, dimmed below the pending ones.
        assert app.review.proposals.memories[-1].id == first


async def test_p_pins_and_unpins(review_data, make_app):
    app = make_app(review_data)
    first = review_data.memories["shop"][0]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert status(review_data, first)[:2] == ("proposed", 1)
        assert current(app).id == first and current(app).pinned
        await pilot.press("p")
        await settle(pilot)
        assert status(review_data, first)[1] == 0
        assert [a for (a,) in db_rows(review_data, "SELECT action FROM event WHERE memory = ? ORDER BY id", first)] == [
            "propose", "pin", "unpin"]


async def test_t_cycles_the_tier(review_data, make_app):
    app = make_app(review_data)
    first = review_data.memories["shop"][0]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        seen = []
        for _ in range(3):
            await pilot.press("t")
            await settle(pilot)
            seen.append(status(review_data, first)[2])
        assert seen == ["session", "developer", "project"]


async def test_e_edits_text_tier_and_kind_in_a_modal(review_data, make_app):
    app = make_app(review_data)
    second = review_data.memories["shop"][1]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("down", "e")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, EditScreen) and modal.memory.id == second
        area = modal.query_one("#edit-text")
        assert area.text == "Store money as integer cents, never floats."
        await pilot.press("end", *" (in the cart)")
        await pilot.press("tab")  # to the tier selector
        await pilot.press("enter", "down", "enter")  # open it, project -> session
        modal.query_one("#edit-kind").value = "constraint"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert status(review_data, second)[2:] == ("session", "constraint", "Store money as integer cents, never floats. (in the cart)")
        assert db_rows(review_data, "SELECT COUNT(*) FROM event WHERE action = 'edit'") == [(1,)]
        assert current(app).id == second


async def test_escape_leaves_the_edit_modal_without_a_change(review_data, make_app):
    app = make_app(review_data)
    first = review_data.memories["shop"][0]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"changed", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert status(review_data, first)[4].startswith("Use pnpm, never npm")
        assert db_rows(review_data, "SELECT COUNT(*) FROM event WHERE action = 'edit'") == [(0,)]


async def test_A_approves_all_remaining_in_one_undoable_step(review_data, make_app):
    app = make_app(review_data)
    shop = review_data.memories["shop"]
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        await pilot.press("x")  # the first is rejected; "all remaining" are the other two
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert [status(review_data, i)[0] for i in shop] == ["rejected", "approved", "approved"]
        assert status(review_data, review_data.memories["api"][0])[0] == "proposed"  # other sessions untouched
        assert review.proposals.pending == []
        assert review.sessions.current.pending == 0
        await pilot.press("u")
        await settle(pilot)
        assert [status(review_data, i)[0] for i in shop] == ["rejected", "proposed", "proposed"]


def memtui_cli(*args) -> str:
    """Run the real command line in another process, as a person would next to the app."""
    import subprocess

    out = subprocess.run([sys.executable, "-m", "memtui", *args], capture_output=True, text=True, timeout=60,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_u_and_U_walk_the_same_journal_as_the_cli(review_data, make_app):
    app = make_app(review_data)
    first, second, _ = review_data.memories["shop"]
    path = str(review_data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        await pilot.press("a", "x")
        await settle(pilot)
        assert (status(review_data, first)[0], status(review_data, second)[0]) == ("approved", "rejected")
        await pilot.press("u")  # the app undoes the reject ...
        await settle(pilot)
        assert (status(review_data, first)[0], status(review_data, second)[0]) == ("approved", "proposed")
        assert "undid approve" in memtui_cli("--db", path, "undo")  # ... the command line undoes the approve
        assert status(review_data, first)[0] == "proposed"
        review.poll()  # the app notices what the CLI wrote
        await settle(pilot)
        assert [m.id for m in review.proposals.pending] == review_data.memories["shop"]
        await pilot.press("U")  # redo: the approve the CLI undid comes back first
        await settle(pilot)
        assert status(review_data, first)[0] == "approved"
        assert "redid reject" in memtui_cli("--db", path, "redo")  # then the reject, from the CLI
        assert status(review_data, second)[0] == "rejected"
        await pilot.press("U")
        await settle(pilot)
        assert "Nothing to redo" in " ".join(str(n.message) for n in app._notifications)
        # The journal agrees: the core's undo now reverts the reject, then the approve.
        db = open_database(review_data.path)
        try:
            assert mem.undo(db).action == "reject"
            assert mem.undo(db).action == "approve"
        finally:
            db.close()


async def test_n_and_N_switch_sessions(review_data, make_app):
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert review.session.id == review_data.sessions["api"]
        assert [m.id for m in review.transcript.messages] == review_data.messages["api"]
        assert [m.id for m in review.proposals.memories] == review_data.memories["api"]
        await pilot.press("n")
        await settle(pilot)
        assert review.session.id == review_data.sessions["notes"]
        assert review.proposals.memories == [] and review.proposals.current is None
        await pilot.press("a")  # nothing to approve: no change, no crash
        await pilot.press("N", "N")
        await settle(pilot)
        assert review.session.id == review_data.sessions["shop"]
        assert current(app).id == review_data.memories["shop"][0]
        assert db_rows(review_data, "SELECT COUNT(*) FROM event WHERE action = 'approve'") == [(0,)]


async def test_moving_through_proposals_scrolls_to_their_evidence_and_enter_jumps(review_data, make_app):
    app = make_app(review_data)
    port_memory = review_data.memories["shop"][2]
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        view = review.transcript
        assert view.scroll_y == 0
        await pilot.press("down", "down")
        await pilot.pause()
        assert current(app).id == port_memory
        evidence = current(app).evidence[0].message_id
        assert view.highlighted == {evidence}
        start = view.block_start(view.messages.index(next(m for m in view.messages if m.id == evidence)))
        top = round(view.scroll_y)
        assert top > 0 and top <= start < top + view.scrollable_content_region.height
        assert view.plain_lines(start, start + 1)[0].startswith("▌user")  # the evidence bar
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is view
        assert view.message_at(view.cursor_row).id == evidence
        assert "The API server listens on port 8080" in view.plain_lines(view.cursor_row, view.cursor_row + 1)[0]
        assert any("The API server listens on port 8080" in line for line in screen_lines(app))
        await pilot.press("escape")
        assert app.focused is review.proposals


async def test_question_mark_opens_help_with_every_key(review_data, make_app):
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text").plain
        for needle in ("Approve the selected proposal", "Reject", "Undo", "Redo", "Next session", "approve_all",
                       "Jump to the selected proposal's evidence", "Quit memtui", "palette"):
            assert needle in text, needle
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)


async def test_command_palette_runs_an_action(review_data, make_app):
    app = make_app(review_data)
    first = review_data.memories["shop"][0]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Approve proposal")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert status(review_data, first)[0] == "approved"


async def test_command_palette_offers_every_action_and_screen(review_data, make_app):
    from memtui.ui.commands import MemtuiCommands, REVIEW_COMMANDS

    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        provider = MemtuiCommands(review)
        names = [hit.text async for hit in provider.discover()]
        assert {"Show Review screen", "Show Help screen", "Change theme"} <= set(names)
        for name, _, action in REVIEW_COMMANDS:
            assert name in names
            assert hasattr(review, f"action_{action}"), action
        for binding in ReviewScreen.BINDINGS:
            if binding.show:
                assert binding.action.removeprefix("app.") in {a for _, _, a in REVIEW_COMMANDS} | {"help", "quit"}
        hits = [hit async for hit in provider.search("help screen")]
        assert hits and "Help" in str(hits[0].text)
        result = hits[0].command()
        if result is not None:
            await result
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # An action chosen while the help screen is open runs on the review screen.
        await app.run_review_action("next_session")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and review.session.id == review_data.sessions["api"]


async def test_q_quits(review_data, make_app):
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0
        assert not app.is_running


# --- the mouse -----------------------------------------------------------------------------


async def test_clicks_select_sessions_and_proposals_and_expand_tool_rows(review_data, make_app):
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        await pilot.click("#sessions", offset=(5, 2))  # each session is two rows: the second one
        await settle(pilot)
        assert review.session.id == review_data.sessions["api"]
        await pilot.click("#sessions", offset=(5, 0))
        await settle(pilot)
        assert review.session.id == review_data.sessions["shop"]
        lines = screen_lines(app)
        row = next(y for y, line in enumerate(lines) if "● convention · project" in line)
        await pilot.click(offset=(lines[row].index("convention"), row))  # the second proposal
        await pilot.pause()
        assert current(app).id == review_data.memories["shop"][1]
        view = review.transcript
        view.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        lines = view.plain_lines(0, 12)
        tool_row = next(i for i, line in enumerate(lines) if "▸ Bash" in line)
        before = view.line_count
        await pilot.click("#transcript", offset=(3, tool_row))
        await pilot.pause()
        assert "▾ Bash" in view.plain_lines(tool_row, tool_row + 1)[0]
        assert view.line_count > before


# --- what transcripts must not do ----------------------------------------------------------


async def test_transcript_text_is_shown_literally(review_data, make_app):
    shop = review_data.sessions["shop"]
    # Text written by something other than the importer (which strips escapes) still shows inert.
    db = open_database(review_data.path)
    try:
        db.execute_sql(
            "INSERT INTO message (session_id, position, role, kind, text, external_id, is_error)"
            " VALUES (?, 9999, 'assistant', 'text', ?, 'raw-escapes', 0)",
            (shop, "colour \x1b[31mRED\x1b[0m title \x1b]0;pwned\x07 bell\x07 back\x08 cr\rend \u202eevil"),
        )
    finally:
        db.close()
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        view = review.transcript
        lines = view.plain_lines()
        text = "\n".join(lines)
        assert "[bold red]not markup[/]" in text and "[link=https://x.test]link[/link] :smile:" in text  # literally
        assert any(CJK[:10] in line for line in lines)
        assert "colour ␛[31mRED␛[0m title ␛]0;pwned␇ bell␇ back␈ cr␍end" in text and "<U+202E>evil" in text
        # Every row fits the view, wide characters included, and no row carries a control character.
        width = view.scrollable_content_region.width
        from rich.cells import cell_len

        for y in range(view.line_count):
            strip = view._render_row(y)
            assert strip.cell_length == width
            for segment in strip:
                assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in segment.text), repr(segment.text)
            assert cell_len(strip.text) == width
        # The very long line is wrapped and folded, not one endless row.
        long_rows = [line for line in lines if "xxxxxxxxxx" in line]
        assert 1 < len(long_rows) <= 40
        assert any("more line" in line for line in lines)
        # The proposal text with markup shows literally in the proposals list too.
        screen = "\n".join(screen_lines(app))
        assert "[bold red]not markup[/]" in screen


async def test_tool_calls_fold_and_expand_from_the_keyboard(review_data, make_app):
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        view = review.transcript
        view.focus()
        view.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        lines = view.plain_lines()
        result_row = next(i for i, line in enumerate(lines) if "▸ error" in line)
        assert "120 lines · ✓ test case 1 passed" in lines[result_row]
        view.cursor_row = result_row
        await pilot.press("enter")
        await pilot.pause()
        opened = view.plain_lines()
        assert "▾ error" in opened[result_row]
        assert "✓ test case 1 passed" in opened[result_row + 1]
        assert any("… 70 more lines, " in line and "(enter to expand)" in line for line in opened)
        await pilot.press("enter")  # open -> full
        await pilot.pause()
        assert any("FAIL src/cart.test.ts" in line for line in view.plain_lines())
        await pilot.press("enter")  # full -> folded to one row again
        await pilot.pause()
        assert view.plain_lines() == lines
        # Thinking is shown, dimmed (its own style), never hidden.
        thinking = next(i for i, line in enumerate(lines) if line.startswith(" thinking"))
        styles = {seg.style for seg in view._render_row(thinking) if seg.text.strip()}
        assert any(s.dim or s.italic for s in styles)


# --- the database never blocks the UI ------------------------------------------------------


def _big_transcript(path: Path, messages: int) -> Path:
    turns = []
    for i in range(messages // 2):
        turns.append(("user", f"Question {i}: " + "lorem ipsum dolor sit amet " * 8))
        turns.append(("assistant", f"Answer {i}: " + "consectetur adipiscing elit " * 8))
    return write_jsonl(path, _records("big-session", "/work/big", 4, turns))


def send_key(app, key: str) -> None:
    """A key press, as the terminal sends it, without waiting for the app to go idle."""
    from textual import events

    app.post_message(events.Key(key, key if len(key) == 1 else None))


async def key_latency(pilot, key: str, done, timeout: float = 15.0) -> float:
    """Seconds from a key press until `done()` holds, without Pilot's wait-for-idle in between."""
    started_at = time.monotonic()
    send_key(pilot.app, key)
    while not done():
        if time.monotonic() - started_at > timeout:
            raise AssertionError(f"{key!r} had no effect within {timeout}s")
        await pilot.pause(0.01)
    return time.monotonic() - started_at


async def test_stays_responsive_while_another_process_imports(review_data, make_app, tmp_path):
    import subprocess

    big = _big_transcript(tmp_path / "incoming" / "big.jsonl", 60_000)
    app = make_app(review_data, poll_interval=0.2)
    first = review_data.memories["shop"][0]
    wal = Path(str(review_data.path) + "-wal")

    def wal_size() -> int:
        try:
            return wal.stat().st_size
        except FileNotFoundError:
            return 0

    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        proc = subprocess.Popen(
            [sys.executable, "-m", "memtui", "--db", str(review_data.path), "import", "--extractor", "none", str(big)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(Path(__file__).resolve().parents[2]),
        )
        try:
            # A thread notes when the import's writes land (its WAL grows) ...
            growth: list[float] = []
            stop = threading.Event()

            def watch() -> None:
                last = wal_size()
                while not stop.is_set():
                    size = wal_size()
                    if size > last:
                        growth.append(time.monotonic())
                    last = size
                    time.sleep(0.005)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            # ... while, from the start of the import to its end (parsing, then writing), the app is
            # used: sessions switched back and forth, and an approve on the way.
            presses: list[tuple[float, float]] = []
            approved = False
            def switched(before: int):
                # The next (or previous) session is shown. New sessions may join the list meanwhile.
                return lambda: review.session.id != before and review.session.id == review.sessions.current.id

            while proc.poll() is None:
                for key in ("n", "N"):
                    began = time.monotonic()
                    await key_latency(pilot, key, switched(review.session.id))
                    presses.append((began, time.monotonic()))
                # (the approve goes to the proposal shown: wait until that is `first` again, since the
                # session list may have grown and moved meanwhile)
                shown = current(app)
                if not approved and len(presses) >= 6 and shown is not None and shown.id == first:
                    send_key(app, "a")
                    approved = True
            out, err = proc.communicate(timeout=180)
            stop.set()
            watcher.join(5)
            assert proc.returncode == 0, err.decode()
        finally:
            if proc.poll() is None:
                proc.kill()
        assert len(presses) >= 10, "the import was over too soon to test anything"
        assert approved, "the first proposal was never shown again while the import ran"
        assert growth, "the import never wrote?"
        writing = (growth[0], growth[-1])
        overlapping = [p for p in presses if p[0] <= writing[1] and p[1] >= writing[0]]
        assert overlapping, f"no key press while the import wrote ({writing}, presses {presses[-4:]})"
        # Every press took effect (key_latency fails on one that does not) while the other process
        # wrote; how long each took is bench_tui's business, not an assertion here.
        # A worker refresh (the poll) picks up the new session; the approve landed.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            await pilot.pause(0.2)
            if any(s.external_id == "big-session" for s in review.sessions.sessions):
                break
        await settle(pilot)
        big_session = next(s for s in review.sessions.sessions if s.external_id == "big-session")
        assert big_session.message_count == 60_000
        assert review.counts.sessions == 4 and review.sub_title.endswith("of 4 sessions")
        assert status(review_data, first)[0] == "approved"
        # The refresh kept the order being worked through; the new session came in at the top.
        assert [s.external_id for s in review.sessions.sessions] == ["big-session", "shop-session", "api-session", "notes-session"]


def _hold_write_lock(path):
    """Another process that takes the write lock, says "locked", and keeps it until told (a line on
    its stdin: _release), however long the app under test takes to start on a busy machine."""
    import subprocess

    return subprocess.Popen(
        [sys.executable, "-c", (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('COMMIT')\n"
        ), str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )


def _release(holder) -> None:
    holder.stdin.write("release\n")
    holder.stdin.close()
    holder.wait(timeout=30)


async def test_a_write_lock_held_elsewhere_does_not_freeze_the_ui(review_data, make_app):
    """Another process holds the write lock: the approve waits in its worker, the keys do not."""
    holder = _hold_write_lock(review_data.path)
    app = make_app(review_data)
    first = review_data.memories["shop"][0]
    api, shop = review_data.sessions["api"], review_data.sessions["shop"]
    try:
        assert holder.stdout.readline().strip() == "locked"
        async with app.run_test(size=(120, 36)) as pilot:
            review = await started(pilot)  # reading works under a writer's lock (WAL)
            send_key(app, "a")
            await pilot.pause(0.2)
            assert review._busy  # the approve's worker waits for the lock ...
            latency = await key_latency(pilot, "n", lambda: review.session.id == api)
            latency = max(latency, await key_latency(pilot, "N", lambda: review.session.id == shop))
            assert latency < 1.5, latency  # ... and the UI does not
            assert holder.poll() is None and status(review_data, first)[0] == "proposed"
            _release(holder)
            await settle(pilot)
            assert status(review_data, first)[0] == "approved"
    finally:
        if holder.poll() is None:
            holder.kill()


async def test_a_change_waits_for_a_writer_that_holds_the_lock_past_the_busy_timeout(review_data, make_app,
                                                                                     monkeypatch):
    """An import storing a long session can hold the write lock longer than the busy timeout: the
    approve says it waits, tries again, and lands when the lock is free (it used to fail)."""
    from memtui.core import db as dbmod

    monkeypatch.setitem(dbmod.PRAGMAS, "busy_timeout", 200)  # (10 s in use: a shorter wait, same path)
    holder = _hold_write_lock(review_data.path)
    app = make_app(review_data)
    first = review_data.memories["shop"][0]
    try:
        assert holder.stdout.readline().strip() == "locked"
        async with app.run_test(size=(120, 36)) as pilot:
            await started(pilot)
            send_key(app, "a")
            deadline = time.monotonic() + 10
            while not any("waiting" in (n.title or "") for n in app._notifications):
                assert time.monotonic() < deadline, "no word that the approve waits"
                await pilot.pause(0.05)
            assert holder.poll() is None and status(review_data, first)[0] == "proposed"
            _release(holder)
            deadline = time.monotonic() + 10
            while status(review_data, first)[0] != "approved":
                assert time.monotonic() < deadline, "the approve never landed"
                await pilot.pause(0.1)
            await settle(pilot)
            assert not any("failed" in (n.title or "") for n in app._notifications)
    finally:
        if holder.poll() is None:
            holder.kill()


def test_workers_use_their_own_connection_per_thread(review_data, make_app):
    """peewee keeps one connection per thread; the app closes a worker's when its work is done,
    and refuses database work on the UI thread."""
    import asyncio

    app = make_app(review_data)
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            with pytest.raises(RuntimeError, match="worker thread"):
                with app.connection():
                    pass
            barrier = threading.Barrier(2)

            def work(name):
                with app.connection() as db:
                    db.execute_sql("SELECT 1")
                    seen[name] = id(db.connection())
                    barrier.wait(timeout=5)
                    seen[name + "-open"] = not db.is_closed()
                seen[name + "-closed"] = db.is_closed()

            threads = [threading.Thread(target=work, args=(n,)) for n in ("one", "two")]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)

    asyncio.run(run())
    assert seen["one"] != seen["two"]
    assert seen["one-open"] and seen["two-open"] and seen["one-closed"] and seen["two-closed"]


# --- settings ------------------------------------------------------------------------------


async def test_keymap_from_the_config_file_changes_a_binding(review_data, make_app, tmp_path):
    config = tmp_path / "mine" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"keymap": {"approve": "y", "reject": ["d", "delete"]}}))
    app = make_app(review_data, config_path=config)
    first, second, _ = review_data.memories["shop"]
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("a")  # no longer bound
        await settle(pilot)
        assert status(review_data, first)[0] == "proposed"
        await pilot.press("y")
        await settle(pilot)
        assert status(review_data, first)[0] == "approved"
        await pilot.press("delete")
        await settle(pilot)
        assert status(review_data, second)[0] == "rejected"
        # The footer and the help screen show the new keys.
        assert any("y approve" in line for line in screen_lines(app))
        await pilot.press("question_mark")
        await pilot.pause()
        assert any("y  Approve the selected proposal" in line for line in screen_lines(app))


async def test_theme_choice_persists_to_the_config_file(review_data, make_app, tmp_path):
    config = tmp_path / "config" / "config.json"
    app = make_app(review_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert not config.exists()  # nothing is written until something changes
        app.theme = "nord"
        await settle(pilot)
    assert json.loads(config.read_text())["theme"] == "nord"
    again = make_app(review_data)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


async def test_a_broken_config_file_is_reported_not_fatal(review_data, make_app, tmp_path):
    config = tmp_path / "config" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text("{not json")
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        assert any("not valid JSON" in str(n.message) for n in app._notifications)


# --- empty and large -----------------------------------------------------------------------


async def test_an_empty_database_says_how_to_start(tmp_path, make_app):
    app = make_app(tmp_path / "empty.db")
    async with app.run_test(size=(80, 24)) as pilot:
        review = await started(pilot)
        assert review.sessions.sessions == []
        assert any("memtui import --auto" in line for line in screen_lines(app))
        await pilot.press("a", "x", "e", "p", "t", "A", "n", "N", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)


async def test_the_session_list_pages_from_the_database(review_data, make_app):
    db = open_database(review_data.path)
    try:
        with db.atomic():
            for i in range(450):
                db.execute_sql(
                    "INSERT INTO session (tool, external_id, title, started_at, message_count, raw_size, review_state)"
                    " VALUES ('claude-code', ?, ?, ?, 0, 0, 'new')",
                    (f"bulk-{i}", f"bulk session {i}", 1_700_000_000 + i),
                )
    finally:
        db.close()
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        assert len(review.sessions.sessions) == 200 and review.sessions.more
        review.sessions.focus()
        await pilot.press("end")
        await settle(pilot)
        assert len(review.sessions.sessions) == 400
        await pilot.press("end")
        await settle(pilot)
        assert len(review.sessions.sessions) == 453 and not review.sessions.more
        assert len({s.id for s in review.sessions.sessions}) == 453


def test_a_5000_message_session_is_laid_out_as_rows_and_renders_any_part():
    """A huge session goes onto the transcript as rows (Line API), and any part of it renders on
    demand. How fast that is, is tests/perf/bench_tui.py's business, not a test's."""
    import asyncio

    from textual.app import App

    from memtui.core.records import MessageRecord
    from memtui.ui.widgets.transcript import TranscriptView

    def make(i):
        kind = ("text", "tool_use", "tool_result", "text", "thinking")[i % 5]
        role = {"text": "user" if i % 10 == 0 else "assistant", "tool_use": "assistant", "tool_result": "tool",
                "thinking": "assistant"}[kind]
        text = ("word " * (40 + i % 200)) + "\n" + "\n".join(f"line {j}" for j in range(i % 80))
        if kind == "tool_use":
            text = json.dumps({"command": f"pytest -k test_{i}", "description": "run"})
        return MessageRecord(i, 1, i, role, kind, "Bash" if kind.startswith("tool") else None, text, None, f"m{i}", None, False, None)

    messages = [make(i) for i in range(5000)]

    class Host(App):
        def compose(self):
            yield TranscriptView()

    seen = {}

    async def run():
        app = Host()
        async with app.run_test(size=(120, 36)) as pilot:
            view = app.query_one(TranscriptView)
            await pilot.pause()
            view.set_messages(messages)
            await pilot.pause()
            seen["lines"] = view.line_count
            rendered = []
            for start in range(0, view.line_count, view.line_count // 20):
                view.scroll_to(y=start, animate=False, immediate=True)
                rendered.append("".join(seg.text for seg in view.render_line(0)))
            seen["rendered"] = rendered
            seen["last"] = view.plain_lines()[-1]

    asyncio.run(run())
    assert seen["lines"] > 5000
    assert all(line.strip() for line in seen["rendered"]), seen["rendered"]
    assert len(set(seen["rendered"])) > 10  # different parts of the session, not one row repeated
    assert seen["last"].strip()


# --- show_message: the way other screens jump to a message ---------------------------------


def _add_far_session(data, sessions: int = 450, messages: int = 400, name: str = "far-away") -> tuple[int, list[int]]:
    """Many sessions, then the oldest (last in the list, beyond the first page) with a long log."""
    db = open_database(data.path)
    try:
        with db.atomic():
            for i in range(sessions):
                db.execute_sql(
                    "INSERT INTO session (tool, external_id, title, started_at, message_count, raw_size, review_state)"
                    " VALUES ('claude-code', ?, ?, ?, 0, 0, 'new')",
                    (f"bulk-{i}", f"bulk session {i}", 1_700_000_000 + i),
                )
            far = db.execute_sql(
                "INSERT INTO session (tool, external_id, title, started_at, message_count, raw_size, review_state)"
                " VALUES ('claude-code', ?, 'the far session', 1000000, ?, 0, 'new')",
                (name, messages),
            ).lastrowid
            for pos in range(messages):
                role, kind = [("user", "text"), ("assistant", "text"), ("tool", "tool_result")][pos % 3]
                text = f"far message {pos}" + ("\nmore output" * 30 if kind == "tool_result" else "")
                db.execute_sql(
                    "INSERT INTO message (session_id, position, role, kind, tool_name, text, timestamp, external_id,"
                    " group_id, is_error, original_len) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, 0, NULL)",
                    (far, pos, role, kind, "Bash" if kind == "tool_result" else None, text, f"{name}-{pos}"),
                )
            ids = [r[0] for r in db.execute_sql("SELECT id FROM message WHERE session_id = ? ORDER BY position", (far,))]
    finally:
        db.close()
    return far, ids


async def test_show_message_selects_a_session_beyond_the_loaded_pages_and_a_message_far_down(review_data, make_app):
    far, ids = _add_far_session(review_data)
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        assert review.sessions.index_of(far) is None and len(review.sessions.sessions) == 200
        # As the Memories screen does it: from another screen, back to Review, then the jump.
        from textual.screen import Screen

        await app.push_screen(Screen())
        await pilot.pause()
        assert not isinstance(app.screen, ReviewScreen)
        await app.action_show_screen("review")
        await review.show_message(far, ids[352])  # a folded tool result, far down the log
        assert isinstance(app.screen, ReviewScreen)
        assert review.session.id == far and review.sessions.current.id == far
        listed = [s.id for s in review.sessions.sessions]
        assert listed[-1] == far and len(set(listed)) == len(listed) == 454  # the pages up to it, in order
        view = review.transcript
        assert app.focused is view
        assert view.message_at(view.cursor_row).id == ids[352]
        top = round(view.scroll_y)
        assert top > 0 and top <= view.cursor_row < top + view.scrollable_content_region.height
        await pilot.pause()
        assert any("far message 352" in line for line in screen_lines(app))
        # The rest of the list still pages in after it.
        await settle(pilot)
        assert review.session.id == far
        # None: the top of another session (one on the first page).
        api = review_data.sessions["api"]
        await review.show_message(api)
        assert review.session.id == api and review.sessions.current.id == api
        assert [m.id for m in view.messages] == review_data.messages["api"]
        assert view.cursor_row == 0 and view.scroll_y == 0 and app.focused is view
        # The shown session again, another message: no reload needed.
        await review.show_message(api, review_data.messages["api"][-1])
        assert view.message_at(view.cursor_row).id == review_data.messages["api"][-1]
        # A message of another session, or no such session: a warning, no crash.
        await review.show_message(api, ids[0])
        assert view.cursor_row == 0
        await review.show_message(10**9, 1)
        assert review.session.id == api
        await settle(pilot)
        # A listed session deleted since (by another process): a warning, the wait ends.
        notes = review_data.sessions["notes"]
        db = open_database(review_data.path)
        try:
            with db.atomic():
                db.execute_sql("DELETE FROM message WHERE session_id = ?", (notes,))
                db.execute_sql("DELETE FROM session WHERE id = ?", (notes,))
        finally:
            db.close()
        await review.show_message(notes)
        assert review.session.id == api
        await settle(pilot)


async def test_a_long_session_is_shown_from_its_first_messages_and_the_rest_follows(review_data, make_app, monkeypatch):
    """A session longer than HEAD: read up to its first proposal's evidence and shown, then the rest
    read and added in parts; evidence further down and a jump to it work once it is there."""
    from memtui.core.extract import Proposal
    from memtui.core.proposals import propose_session
    from memtui.ui.screens import review as review_module
    from memtui.ui.screens.review import HEAD

    monkeypatch.setattr(review_module, "TAIL_PART", 200)

    far, ids = _add_far_session(review_data, sessions=0, messages=1200)
    db = open_database(review_data.path)
    try:
        propose_session(db, far, [
            Proposal("The first note rests on message 300.", "fact", "project", 0.9, (ids[300],), ("far",)),
            Proposal("The second note rests on message 1100.", "fact", "project", 0.9, (ids[1100],), ("far",)),
        ], "heuristic")
    finally:
        db.close()
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        view = review.transcript
        extended = []  # how many messages were shown when the rest came
        extend = view.extend_messages
        view.extend_messages = lambda rest, **kw: (extended.append(len(view.messages)), extend(rest, **kw))
        review.sessions.highlighted = review.sessions.index_of(far)
        await settle(pilot)
        assert extended == [HEAD + 301 + 200 * i for i in range(4)]  # 551, then parts of 200
        assert review.session.id == far and view.complete
        assert [m.id for m in view.messages] == ids  # all of it, once, in order
        assert 300 + HEAD < 1200
        # The first proposal's evidence is in view.
        start = view.block_start(view.index_of(ids[300]))
        top = round(view.scroll_y)
        assert top <= start < top + view.scrollable_content_region.height
        # The second's, from the part read after the first paint.
        await pilot.press("down")
        await pilot.pause()
        assert view.highlighted == {ids[1100]}
        start = view.block_start(view.index_of(ids[1100]))
        top = round(view.scroll_y)
        assert top <= start < top + view.scrollable_content_region.height
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is view and view.message_at(view.cursor_row).id == ids[1100]
        # The same rows as a transcript given the whole session at once.
        rows = view.plain_lines()
        view.set_messages(list(view.messages))
        view.highlight([ids[1100]])
        view.jump_to(ids[1100])
        assert view.plain_lines() == rows


async def test_quick_switches_between_long_sessions_end_on_the_right_messages(review_data, make_app, monkeypatch):
    """Switching on while a session's rest is still read: no part of it lands in another's transcript."""
    from memtui.ui.screens import review as review_module

    monkeypatch.setattr(review_module, "TAIL_PART", 100)
    one, one_ids = _add_far_session(review_data, sessions=0, messages=700, name="one")
    two, two_ids = _add_far_session(review_data, sessions=0, messages=650, name="two")
    app = make_app(review_data)
    async with app.run_test(size=(120, 36)) as pilot:
        review = await started(pilot)
        sessions = review.sessions
        for target in (one, two, one, two, one, two):
            sessions.highlighted = sessions.index_of(target)
            await pilot.pause(0.01 if target == one else 0)
        await settle(pilot)
        view = review.transcript
        assert review.session.id == two and view.complete
        assert [m.id for m in view.messages] == two_ids
        await pilot.press("n")  # (the same start time: two is listed first, the higher id)
        await settle(pilot)
        assert review.session.id == one and [m.id for m in view.messages] == one_ids
        # Back on the shown session while another is read: its rest, cut short, is read again.
        sessions.highlighted = sessions.index_of(two)
        await pilot.pause(0)
        sessions.highlighted = sessions.index_of(one)
        await settle(pilot)
        assert review.session.id == one and view.complete and [m.id for m in view.messages] == one_ids
