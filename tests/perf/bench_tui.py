"""Review TUI benchmark: first paint, switching to a long session, and memory, on a large database.

    /work/venv/bin/python tests/perf/bench_tui.py [--sessions 1000] [--messages 200000]
                                                   [--big 5000] [--keep DIR | --reuse DIR]

Builds a database of 1,000 sessions and 200,000 messages with direct SQL inserts (executemany
through memtui.core.db.open_database; the text of each message is 40 to 4,000 characters, as in
real logs, tool results the longest), and proposals for 50 sessions through
memtui.core.proposals.propose_session. The newest session has 200 messages; the next one, which
`n` moves to, has 5,000. Then, in a child process of its own (so building the data does not
count in its memory), the real app (memtui.ui.app.create_app, App.run_test at 120x36) measures:

  * first_paint_s: from creating the app until the Review screen shows the session list, the first
    session's whole transcript and its proposals, and that screen has been rendered;
  * switch_session_ms: from pressing `n` (a Key event posted to the app, as the terminal driver
    does; Pilot.press would add its own waits) until the 5,000-message session is on screen: its
    title, its proposals and its transcript from the top (the first switch; switch_session_ms_runs
    has n / N / n repeated). The app shows a long session from its first messages and reads the
    rest after that paint: switch_complete_ms is until all 5,000 are in the transcript and the
    screen rendered again;
  * peak_rss_mb: the child's resource.getrusage(RUSAGE_SELF).ru_maxrss.

Targets: first paint < 1 s, switch < 150 ms, memory < 300 MB. Human-readable lines first; the
last line is one JSON object. Not collected by pytest (tests/perf is in norecursedirs). Linux/macOS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGETS = {"first_paint_s": 1.0, "switch_session_ms": 150.0, "peak_rss_mb": 300.0}
WORDS = (
    "the a to of and in is it for on with that this test run file error fix add use function class "
    "return import module value config database session message memory cents rounding invoice export "
    "pnpm pytest uv cargo build passed failed assert expected received line column path src lib api "
    "we should because instead the user prefers never always keep small commit branch main review"
).split()


# --- building the database ---------------------------------------------------------------------


def _texts(rng: random.Random, n: int, lo: int, hi: int, lines: bool = False) -> list[str]:
    out = []
    for _ in range(n):
        target = rng.randint(lo, hi)
        parts, size = [], 0
        while size < target:
            w = rng.choice(WORDS)
            parts.append(w)
            size += len(w) + 1
            if lines and rng.random() < 0.08:
                parts.append("\n")
        out.append(" ".join(parts)[:target])
    return out


def build(path: Path, sessions: int, messages: int, big: int, seed: int = 7) -> dict:
    from memtui.core.db import index_pending, open_database
    from memtui.core.extract import Proposal
    from memtui.core.proposals import propose_session

    rng = random.Random(seed)
    started = time.perf_counter()
    pools = {
        "user": _texts(rng, 400, 40, 600),
        "assistant": _texts(rng, 400, 80, 1500),
        "thinking": _texts(rng, 200, 100, 800),
        "tool_use": _texts(rng, 300, 30, 300),
        "tool_result": _texts(rng, 400, 200, 4000, lines=True),
    }
    db = open_database(path)
    conn = db.connection()
    now = time.time()
    first, second = 200, big
    rest = messages - first - second
    others = sessions - 2
    counts = [first, second] + [rest // others + (1 if i < rest % others else 0) for i in range(others)]
    with db.atomic():
        conn.executemany(
            "INSERT INTO project (root, name, git_remote, created_at) VALUES (?, ?, NULL, ?)",
            [(f"/home/dev/projects/p{i:02d}", f"p{i:02d}", now) for i in range(20)],
        )
        project_ids = [r[0] for r in conn.execute("SELECT id FROM project ORDER BY id")]
        session_rows = []
        for i, count in enumerate(counts):
            start = now - 3600 * (i + 1)  # session 0 is the newest
            pid = project_ids[i % len(project_ids)]
            session_rows.append((
                "claude-code", f"bench-{i}", pid, f"/home/dev/projects/p{i % 20:02d}",
                f"Session {i}: " + rng.choice(pools["user"])[:80], start, start + 1800, "claude-sonnet-4-5", "main",
                count, count * 700, "new",
            ))
        conn.executemany(
            "INSERT INTO session (tool, external_id, project_id, cwd, title, started_at, ended_at, model,"
            " git_branch, message_count, raw_size, review_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            session_rows,
        )
        session_ids = [r[0] for r in conn.execute("SELECT id FROM session ORDER BY id")]
        cycle = ["user", "thinking", "assistant", "tool_use", "tool_result", "tool_use", "tool_result", "assistant"]
        batch = []
        for sid, count, row in zip(session_ids, counts, session_rows):
            t0 = row[5]
            for pos in range(count):
                kind = cycle[pos % len(cycle)]
                role = {"user": "user", "tool_result": "user"}.get(kind, "assistant")
                mkind = "text" if kind in ("user", "assistant") else kind
                batch.append((
                    sid, pos, role, mkind, "Bash" if mkind.startswith("tool") else None, rng.choice(pools[kind]),
                    t0 + pos, f"m{pos}", None, mkind == "tool_result" and rng.random() < 0.1, None,
                ))
            if len(batch) >= 20_000:
                conn.executemany(
                    "INSERT INTO message (session_id, position, role, kind, tool_name, text, timestamp, external_id,"
                    " group_id, is_error, original_len) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    batch,
                )
                batch.clear()
        if batch:
            conn.executemany(
                "INSERT INTO message (session_id, position, role, kind, tool_name, text, timestamp, external_id,"
                " group_id, is_error, original_len) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
        # Full-text index them, as an import does before it commits (else the app's first open
        # of the database would, and first_paint_s would measure 4 s of indexing).
        index_pending(conn)
    # Proposals (with evidence) for the two newest sessions and 48 others, through the core.
    kinds = ["decision", "preference", "convention", "bug_fix"]
    tiers = ["project", "developer", "project", "session"]
    for n, sid in enumerate(session_ids[:2] + session_ids[2::20][:48]):
        mids = [r[0] for r in conn.execute("SELECT id FROM message WHERE session_id = ? ORDER BY position", (sid,))]
        props = []
        for k in range(4):
            mid = mids[(k * 997 + 3) % len(mids)]
            words = " ".join(rng.sample(WORDS, 12))
            props.append(Proposal(text=f"Session {n} note {k}: {words}.", kind=kinds[k], tier=tiers[k],
                                  confidence=0.6 + 0.1 * (k % 3), message_ids=(mid,), quotes=(words[:40],)))
        propose_session(db, sid, props, "heuristic")
    total = conn.execute("SELECT COUNT(*), (SELECT COUNT(*) FROM session), (SELECT COUNT(*) FROM memory) FROM message").fetchone()
    db.close()
    return {"build_s": round(time.perf_counter() - started, 2), "messages": total[0], "sessions": total[1],
            "proposals": total[2], "db_mb": round(path.stat().st_size / 1e6, 1), "big_session_id": session_ids[1],
            "first_session_id": session_ids[0], "big": big}


# --- measuring (in the child) -------------------------------------------------------------------


def _render(app) -> list[str]:
    """Render the whole screen, as a terminal update would (what a person sees)."""
    update = app.screen._compositor.render_full_update(simplify=True)
    return ["".join(strip.text for strip in line) for line in update.strips]


async def _until(cond, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.001)


async def measure(db_path: Path, info: dict) -> dict:
    from textual import events

    from memtui.ui.app import create_app

    big_id, first_id = info["big_session_id"], info["first_session_id"]
    t0 = time.perf_counter()
    app = create_app(db_path, poll_interval=None)
    result: dict = {}
    async with app.run_test(size=(120, 36)) as pilot:
        review = app.review

        def shows(session_id: int, count: int | None = None):
            """The session is shown (count: with all its messages in the transcript)."""
            def ready() -> bool:
                s, shown = review.session, review.transcript.messages
                return bool(
                    s is not None and s.id == session_id and shown and shown[0].session_id == session_id
                    and (count is None or len(shown) == count)
                    and review.proposals.memories and len(review.sessions.sessions) > 0
                )
            return ready

        await _until(shows(first_id, 200))
        lines = _render(app)
        result["first_paint_s"] = round(time.perf_counter() - t0, 3)
        screen = "\n".join(lines)
        assert "Sessions 1/" in screen and "Proposals · 4 pending" in screen, screen
        await app.workers.wait_for_complete()
        await pilot.pause()

        runs, complete = [], []
        for key, target, count in (("n", big_id, info["big"]), ("N", first_id, 200), ("n", big_id, info["big"]),
                                   ("N", first_id, 200), ("n", big_id, info["big"])):
            t = time.perf_counter()
            app.post_message(events.Key(key, key))  # what the terminal driver does for a key press
            await _until(shows(target))
            screen = "\n".join(_render(app))
            ms = (time.perf_counter() - t) * 1000
            assert f"Session {0 if target == first_id else 1}: " in screen, screen  # the title of the session shown
            assert "user" in screen.split("Transcript", 1)[1], screen  # and its transcript
            runs.append((key, round(ms, 1)))
            await _until(shows(target, count))
            _render(app)
            if key == "n":
                complete.append(round((time.perf_counter() - t) * 1000, 1))
            await app.workers.wait_for_complete()
            await pilot.pause()
        result["switch_session_ms"] = runs[0][1]
        result["switch_session_ms_runs"] = [ms for key, ms in runs if key == "n"]
        result["switch_back_ms_runs"] = [ms for key, ms in runs if key == "N"]
        result["switch_complete_ms"] = complete[0]
        result["switch_complete_ms_runs"] = complete
        await pilot.press("q")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["peak_rss_mb"] = round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
    return result


def child(db_path: Path, info: dict) -> None:
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    print(json.dumps(asyncio.run(measure(db_path, info))))


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="memtui review TUI benchmark")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--big", type=int, default=5000, help="messages in the session `n` switches to")
    parser.add_argument("--keep", type=Path, help="build into DIR and keep it")
    parser.add_argument("--reuse", type=Path, help="measure a database built earlier with --keep DIR")
    parser.add_argument("--child", nargs=2, metavar=("DB", "INFO_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), json.loads(args.child[1]))
        return 0

    folder = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="memtui-bench-tui-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "bench.db"
    info_path = folder / "bench.json"
    try:
        if args.reuse:
            info = json.loads(info_path.read_text())
        else:
            if db_path.exists():
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            info = build(db_path, args.sessions, args.messages, args.big)
            info_path.write_text(json.dumps(info))
        print(f"database: {info['sessions']:,} sessions, {info['messages']:,} messages, {info['proposals']} proposals,"
              f" {info['db_mb']} MB (built in {info.get('build_s', '?')} s)")

        home = folder / "home"
        env = os.environ | {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                            "XDG_DATA_HOME": str(home / ".local/share")}
        env.pop("MEMTUI_DB", None)
        done = subprocess.run([sys.executable, __file__, "--child", str(db_path), json.dumps(info)],
                              env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            return 1
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if not (args.keep or args.reuse):
            shutil.rmtree(folder, ignore_errors=True)

    ok = {k: figures[k] < limit for k, limit in TARGETS.items()}
    print(f"first paint of the Review screen: {figures['first_paint_s']:.3f} s (target < 1 s)"
          f" {'ok' if ok['first_paint_s'] else 'OVER'}")
    print(f"switch to the {info['big']:,}-message session: {figures['switch_session_ms']:.1f} ms (target < 150 ms)"
          f" {'ok' if ok['switch_session_ms'] else 'OVER'}; repeated: {figures['switch_session_ms_runs']} ms,"
          f" back to the 200-message one: {figures['switch_back_ms_runs']} ms; all 5,000 messages in after"
          f" {figures['switch_complete_ms_runs']} ms")
    print(f"peak RSS of the app process: {figures['peak_rss_mb']:.1f} MB (target < 300 MB)"
          f" {'ok' if ok['peak_rss_mb'] else 'OVER'}")
    print(json.dumps(figures | {"sessions": info["sessions"], "messages": info["messages"], "big_session_messages": info["big"],
                                "db_mb": info["db_mb"], "targets": TARGETS, "ok": all(ok.values())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
