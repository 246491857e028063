"""Extraction micro-benchmark: the heuristic extractor alone, over sessions already in a database.

    /work/venv/bin/python tests/perf/bench_extract.py DB [--runs 3] [--profile]

Every session of DB (e.g. the database `tests/perf/bench_import.py --keep DIR` leaves in DIR; it is
opened with open_database, which brings an older schema up to date) is read into memory first; then each run extracts all of them once, with the extractor's caches
emptied before the run and the garbage collector off (as in the import workers, see
importers/prefetch.py), and reports the CPU seconds it took (time.process_time, which a busy
machine inflates less than wall time). The best run is what to compare; alternate old and new code
on a shared machine. --profile prints the functions with the most time of one run (cProfile).

Note for comparisons: the benchmark tree replays a few real transcripts many times, so most of its
message texts occur in many sessions; whatever is cached by text across sessions counts for much
more there than on a real tree.
This file is not collected by pytest (tests/perf is in norecursedirs).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _clear_caches() -> None:
    from memtui.core.extract import edits, heuristic, signals, textutil, transcript

    for mod in (textutil, signals, transcript, edits, heuristic):
        for value in vars(mod).values():
            if hasattr(value, "cache_clear"):
                value.cache_clear()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", help="a memtui database holding imported sessions")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="print a cProfile summary of one run")
    args = ap.parse_args(argv)

    from memtui.core.db import open_database
    from memtui.core.extract.heuristic import extract
    from memtui.core.store import list_sessions, session_messages

    db = open_database(args.db)
    try:
        sessions = [(s, session_messages(db, s.id)) for s in sorted(list_sessions(db), key=lambda s: s.id)]
    finally:
        db.close()
    chars = sum(len(m.text or "") for _, msgs in sessions for m in msgs)
    print(f"{len(sessions)} sessions, {sum(len(m) for _, m in sessions)} messages, {chars / 1e6:.1f} MB of text")
    gc.collect()
    gc.freeze()
    gc.disable()
    if args.profile:
        import cProfile
        import pstats

        _clear_caches()
        prof = cProfile.Profile()
        prof.enable()
        for s, msgs in sessions:
            extract(s, msgs)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return 0
    best = None
    for run in range(args.runs):
        _clear_caches()
        t0 = time.process_time()
        for s, msgs in sessions:
            extract(s, msgs)
        cpu = time.process_time() - t0
        best = cpu if best is None else min(best, cpu)
        print(f"run {run + 1}: {cpu:.3f} CPU s ({chars / 1e6 / cpu:.1f} MB of text per CPU second)")
    print(f"best: {best:.3f} CPU s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
