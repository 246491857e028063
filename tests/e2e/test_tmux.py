"""End to end: the real `memtui` in a real terminal (tmux), driven by key presses as a person would.

The app runs as a separate process (`python -m memtui`) in a detached tmux session of 120x36 with its
own HOME, XDG dirs and a demo database built by `memtui demo --no-ui`. Keys go in with
`tmux send-keys`; what a person sees comes back from `tmux capture-pane -p`, polled until the
expected text shows (or a timeout fails the test with the screen in the message). After `q` the
database is read back through `memtui memories --json` and sqlite3.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed: the end-to-end terminal tests need it")

WIDTH, HEIGHT = 120, 36
TIMEOUT = 8.0  # seconds to wait for any one screen


class Terminal:
    """One tmux server (its own socket) with one session running a command."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=10
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, command: list[str], status_file: Path) -> None:
        """Run `command` in a new 120x36 session; its exit status is written to `status_file`
        (tmux's own #{pane_dead_status} is not reliable for a process that ends on a key)."""
        self.status_file = status_file
        line = " ".join(_quote(c) for c in command) + f"; echo $? > {_quote(str(status_file))}"
        self.tmux(
            "-f", "/dev/null",  # not the user's tmux.conf
            "new-session", "-d", "-s", "e2e", "-x", str(WIDTH), "-y", str(HEIGHT), line,
            # In the same command, so it holds even if the app exits at once: keep the pane when
            # the app exits, so its last screen can be read.
            ";", "set-option", "-t", "e2e", "remain-on-exit", "on",
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "e2e", *keys)

    def wait_for(self, predicate, what: str, timeout: float = TIMEOUT) -> str:
        """Poll the screen until `predicate(screen)` holds; fail showing the last screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; the screen was:\n{screen}")

    def wait_text(self, text: str, timeout: float = TIMEOUT) -> str:
        return self.wait_for(lambda s: text in s, repr(text), timeout)

    def wait_exit(self, timeout: float = TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status_file.is_file() and self.status_file.read_text().strip():
                return int(self.status_file.read_text())
            time.sleep(0.05)
        raise AssertionError(f"the program did not exit within {timeout}s; the screen was:\n{self.screen()}")

    def kill(self) -> None:
        self.tmux("kill-server", check=False)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "TZ")}
    return keep | {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "TMUX_TMPDIR": str(tmp_path),  # the socket lives in the test's own folder
        "TEXTUAL_ANIMATIONS": "none",
    }


@pytest.fixture
def demo_db(tmp_path, env) -> Path:
    path = tmp_path / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "memtui", "demo", "--no-ui", "--db", str(path)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "5 new session(s)" in done.stdout
    return path


@pytest.fixture
def terminal(env):
    term = Terminal(f"memtui-e2e-{uuid.uuid4().hex[:8]}", env)
    try:
        yield term
    finally:
        term.kill()


def memories_json(db: Path, env) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "memtui", "--db", str(db), "memories", "--json"],
        env=env, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def sessions_json(db: Path, env) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "memtui", "--db", str(db), "sessions", "--json"],
        env=env, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def proposals_title(screen: str) -> str:
    match = re.search(r"Proposals · [^─]*", screen)
    return match.group(0).strip() if match else ""


def test_review_in_a_real_terminal(tmp_path, env, demo_db, terminal):
    before = {m["id"]: m for m in memories_json(demo_db, env)}
    assert before and all(m["status"] == "proposed" and not m["pinned"] for m in before.values())
    total = len(before)

    terminal.start([sys.executable, "-m", "memtui", "--db", str(demo_db)], tmp_path / "exit-status")

    # --- it opens on the Review screen: counts in the title, the sessions, a transcript ---------
    # The first session (unreviewed first, newest first, as `memtui sessions` lists them) and its
    # proposals, shown in id order.
    first_session = sessions_json(demo_db, env)[0]["id"]
    ids = sorted(i for i, m in before.items() if m["session_id"] == first_session)
    n = len(ids)
    screen = terminal.wait_for(
        lambda s: f"{total} proposals to review in 5 of 5 sessions" in s and "Sessions 1/5" in s
        and "Transcript · `trailmap stats`" in s and proposals_title(s) == f"Proposals · {n} pending",
        "the review screen with its counts, the first session's transcript and proposals",
    )
    for title in ("trailmap stats", "Add GPX export command", "The accounting CSV export",
                  "Speed up customer invoice list", "Fix invoice rounding"):
        assert title in screen, f"session {title!r} not in the list:\n{screen}"
    assert before[ids[0]]["text"][:40] in screen  # the first proposal's text
    assert "? help" in screen and "a approve" in screen  # the footer says what the keys do

    approved_id, pinned_id, rejected_id = ids[0], ids[1], ids[2]

    # --- a: approve the highlighted (first) proposal; the highlight moves on -------------------
    terminal.send("a")
    screen = terminal.wait_for(
        lambda s: f"{total - 1} proposals to review" in s and proposals_title(s) == f"Proposals · {n - 1} pending · 1 reviewed",
        "the counts after approving",
    )
    assert "── reviewed ──" in screen

    # --- p: pin the proposal now highlighted (the next one) ------------------------------------
    terminal.send("p")
    screen = terminal.wait_text("★ pinned")
    pinned_text = before[pinned_id]["text"]
    assert pinned_text[:30] in screen.split("★ pinned", 1)[1][:400], f"the pin mark is not on #{pinned_id}:\n{screen}"

    # --- down, x: reject another one -----------------------------------------------------------
    terminal.send("Down", "x")  # keys are handled in order, as typed
    screen = terminal.wait_for(
        lambda s: f"{total - 2} proposals to review" in s and proposals_title(s) == f"Proposals · {n - 2} pending · 2 reviewed",
        "the counts after rejecting",
    )

    # --- u: undo the reject --------------------------------------------------------------------
    terminal.send("u")
    screen = terminal.wait_for(
        lambda s: f"{total - 1} proposals to review" in s and proposals_title(s) == f"Proposals · {n - 1} pending · 1 reviewed",
        "the counts after undo",
    )
    terminal.wait_text("Undid reject")  # the notification says what was undone

    # --- n: the next session -------------------------------------------------------------------
    terminal.send("n")
    screen = terminal.wait_for(
        lambda s: "Sessions 2/5" in s and "Transcript · Add GPX export command" in s, "the second session"
    )

    # --- q: quit; the process ends cleanly ------------------------------------------------------
    terminal.send("q")
    status = terminal.wait_exit()
    assert status == 0, f"memtui exited with {status}:\n{terminal.screen()}"

    # --- the database holds exactly those effects ----------------------------------------------
    after = {m["id"]: m for m in memories_json(demo_db, env)}
    assert after.keys() == before.keys()
    assert after[approved_id]["status"] == "approved" and not after[approved_id]["pinned"]
    assert after[pinned_id]["status"] == "proposed" and after[pinned_id]["pinned"] is True
    assert after[rejected_id]["status"] == "proposed" and not after[rejected_id]["pinned"]  # rejected, then undone
    untouched = set(before) - {approved_id, pinned_id}
    for i in untouched:
        assert (after[i]["status"], after[i]["pinned"], after[i]["text"]) == (
            before[i]["status"], before[i]["pinned"], before[i]["text"]
        ), f"memory {i} changed"

    with sqlite3.connect(demo_db) as con:
        statuses = dict(con.execute("SELECT status, COUNT(*) FROM memory GROUP BY status").fetchall())
        pinned = [r[0] for r in con.execute("SELECT id FROM memory WHERE pinned").fetchall()]
    assert statuses == {"approved": 1, "proposed": total - 1}
    assert pinned == [pinned_id]


def test_curate_and_export_in_a_real_terminal(tmp_path, env, demo_db, terminal):
    """Memories (fuzzy search with a typo, approve, forget), Trash (restore) and Export (write into
    a hand-written CLAUDE.md) in the real program, then the database and the file are checked."""
    work = tmp_path / "work"
    work.mkdir()
    claude_md = work / "CLAUDE.md"
    claude_md.write_text("# House rules\n\nWritten by hand; keep this.\n", encoding="utf-8")
    before = {m["id"]: m for m in memories_json(demo_db, env)}
    never_npm = next(i for i, m in before.items() if m["text"] == "User requirement: Use pnpm, never npm.")
    pnpm_rather = next(i for i, m in before.items() if m["text"].startswith("Use pnpm rather than npm"))

    terminal.start(["sh", "-c", f"cd {_quote(str(work))} && exec {_quote(sys.executable)} -m memtui --db {_quote(str(demo_db))}"],
                   tmp_path / "exit-status")
    terminal.wait_text("Sessions 1/5")

    # --- 2: the Memories screen; / and a query with a typo and the words out of order ----------
    terminal.send("2")
    terminal.wait_for(lambda s: "Memories · " in s and f"{len(before)} memories" in s, "the Memories screen")
    terminal.wait_text("space select")  # the footer shows the list's keys: it has the focus
    terminal.send("/")
    terminal.wait_for(lambda s: "space select" not in s, "the search box focused (the list's keys leave the footer)")
    terminal.send("-l", "nevr pnpm")
    screen = terminal.wait_text("2 matches for “nevr pnpm”")
    rows = [line for line in screen.splitlines() if "pnpm" in line and "│" in line]
    assert "Use pnpm, never npm." in rows[0] and "Use pnpm rather than npm" in rows[1], screen

    # --- escape leaves the search box; a approves the first hit, then down, f forgets the next --
    terminal.send("Escape")  # (a key right after ESC would read as alt+key: wait for the list's keys)
    terminal.wait_text("space select")
    terminal.send("a")
    terminal.wait_for(lambda s: "✓   preference" in s, "the approved mark on the first hit")
    terminal.send("Down", "f")
    terminal.wait_text("Forgot 1 memory")
    terminal.wait_text("1 match for “nevr pnpm”")

    # --- 4: the Trash holds it; r restores it ----------------------------------------------------
    terminal.send("4")
    screen = terminal.wait_text("Trash · 1 memory")
    assert "Use pnpm rather than npm" in screen
    terminal.send("r")
    terminal.wait_text("The trash is empty.")

    # --- 5: Export; w writes into the hand-written CLAUDE.md after asking ------------------------
    terminal.send("5")
    screen = terminal.wait_for(lambda s: "Preview · CLAUDE.md" in s and "Use pnpm, never npm." in s, "the export preview")
    assert "Use pnpm rather than npm" not in screen  # still a proposal: never exported
    terminal.send("w")
    terminal.wait_for(lambda s: "rest of the file is kept" in s, "the question before writing into an existing file")
    terminal.send("y")
    terminal.wait_for(lambda s: "CLAUDE.md" in s and "memtui:begin" in claude_md.read_text(encoding="utf-8"), "the file written")

    terminal.send("q")
    assert terminal.wait_exit() == 0

    text = claude_md.read_text(encoding="utf-8")
    assert text.startswith("# House rules\n\nWritten by hand; keep this.\n")
    block = text.split("<!-- memtui:begin -->", 1)[1].split("<!-- memtui:end -->", 1)[0]
    assert "- User requirement: Use pnpm, never npm." in block
    assert "rather than npm" not in block
    after = {m["id"]: m for m in memories_json(demo_db, env)}
    assert after[never_npm]["status"] == "approved"
    assert after[pnpm_rather]["status"] == "proposed"  # forgotten, then restored from the trash
    with sqlite3.connect(demo_db) as con:
        assert con.execute("SELECT COUNT(*) FROM memory WHERE forgotten_at IS NOT NULL").fetchone()[0] == 0
        assert dict(con.execute("SELECT status, COUNT(*) FROM memory GROUP BY status").fetchall()) == {
            "approved": 1, "proposed": len(before) - 1}
