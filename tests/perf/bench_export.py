"""Export and hook benchmark.

    /work/venv/bin/python tests/perf/bench_export.py [--memories 100000] [--hook-memories 10000] [--runs 30]

* hook_session_start_ms: p50 / p95 wall time of the real `memtui hooks run session-start` command
  (a new process each time, as Claude Code runs it) with SessionStart JSON on stdin, on a store of
  --hook-memories memories over 20 projects; target p50 < 300 ms.
* export_100k_ms: in-process export of --memories approved memories, per format, as
  `memtui export` does it (render(..., with_entries=False)); median of 3 runs; target < 200 ms.
  The texts are real: the heuristic extractor's proposals for ../shared/corpus (made-up ones of
  the same shape without it), numbered. These runs come after the first export, which checked
  every text for secrets and stamped it clean (memory.clean_stamp): a later export reads only the
  `memory_rank` index, in order, and checks only what was written since; JSON joins the pieces
  the first JSON export made (memory_json: json_first_export_ms is that first one).
  export_100k_with_entries_ms is the same with an ExportEntry (and MemoryRecord) per memory, as
  the Export screen asks for (it lays out and checks the whole text: no target).
* export_100k_unchecked: claude-md before any text was checked (the store is made with raw SQL):
  unchecked_ms on a store that cannot be written (as the read-only hook sees it: every export
  checks every text), first_export_ms when the store can be written (checks every text and stamps
  it, once); then as memtui gets there: approve_all_s, every memory approved in one bulk action
  (memories.approve, which checks and stamps the texts), and export_after_approve_ms.
* CPU time is given next to wall time: on a machine shared with other work it is the steadier figure.
* floor_ms: reading the texts from SQLite into Python, one redaction pass over the rendered text
  (clean, and clean_document as the general path runs it), and python_loop_10m_s, to compare
  machines.
* cli_export_100k: the `memtui export ... -o FILE` command on that store (claude-md and json), wall
  time and the peak RSS of those commands (RUSAGE_CHILDREN: also covers the hook runs before them).
* peak_rss_mb: this process's peak resident memory (the in-process exports, entries included).

Human-readable lines come first; the last line is one JSON object. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from memtui.core import export as ex  # noqa: E402
from memtui.core import memories as mem  # noqa: E402
from memtui.core.db import open_database  # noqa: E402
from memtui.core.models import KINDS, TIERS  # noqa: E402
from memtui.core.redact import clean, clean_document  # noqa: E402

WORDS = (
    "auth cache redis migration pytest ruff uv pnpm docker compose schema index query handler route "
    "component state reducer hook token budget export import session project module service worker "
    "queue retry timeout config env build release deploy lint format type check api client server"
).split()
PROJECTS = 20


CORPUS = ROOT.parent / "shared" / "corpus"
_TEXTS: list[str] = []


def real_texts() -> list[str]:
    """What memories say: the heuristic extractor's proposals for the real corpus (`memtui import`
    into a scratch store), one line each; without the corpus, made-up sentences of the same shape
    (a colon, backticks, paths, an `=` now and then). Realistic text matters: the export's check for
    secrets reads far more of a line with `:` or `=` in it than of plain words."""
    if _TEXTS:
        return _TEXTS
    if CORPUS.is_dir():
        with tempfile.TemporaryDirectory(prefix="memtui-bench-texts-") as tmp:
            exe = Path(sys.executable).with_name("memtui")
            argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "memtui"]
            subprocess.run([*argv, "--db", f"{tmp}/t.db", "import", str(CORPUS)], capture_output=True, check=True,
                           env={**os.environ, "HOME": tmp})
            db = open_database(f"{tmp}/t.db")
            _TEXTS.extend(" ".join(t.split()) for (t,) in db.execute_sql("SELECT text FROM memory ORDER BY id"))
            db.close()
    if not _TEXTS:
        rng = random.Random(3)
        for _ in range(300):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            _TEXTS.append(f"Decided: use `{rng.choice(WORDS)}` in src/{rng.choice(WORDS)}.py because {words}"
                          + (f" (timeout={rng.randint(1, 90)})" if rng.random() < 0.1 else ""))
    return _TEXTS


def _text(rng: random.Random, i: int) -> str:
    return f"{rng.choice(real_texts())} (#{i})"


def build(path: Path, count: int, seed: int = 7) -> str:
    """A store of `count` memories (90% approved); returns the root of the project hooks start in."""
    rng = random.Random(seed)
    db = open_database(path)
    roots = [f"/home/dev/src/project-{p}" for p in range(PROJECTS)]
    with db.atomic():
        db.connection().executemany(
            "INSERT INTO project (root, name, created_at) VALUES (?, ?, 0)", [(r, os.path.basename(r)) for r in roots]
        )
        rows = []
        for i in range(count):
            tier = rng.choice(TIERS)
            status = "approved" if rng.random() < 0.9 else rng.choice(("proposed", "rejected"))
            rows.append((
                tier, rng.choice(KINDS), _text(rng, i), status, 1 if rng.random() < 0.02 else 0, 0.7,
                None if tier == "developer" else rng.randint(1, PROJECTS), "heuristic", "", 1e9 + i, 1e9 + i,
                1e9 + rng.random() * 1e6,
            ))
        db.connection().executemany(
            "INSERT INTO memory (tier, kind, text, status, pinned, confidence, project_id, extractor, fingerprint,"
            " created_at, updated_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.close()
    return roots[0]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_hook(tmp: Path, count: int, runs: int) -> dict:
    db_path = tmp / "hook.db"
    root = build(db_path, count)
    payload = json.dumps({"session_id": "bench", "transcript_path": "/dev/null", "cwd": root + "/src",
                          "hook_event_name": "SessionStart", "source": "startup"})
    exe = Path(sys.executable).with_name("memtui")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "memtui"]
    argv += ["--db", str(db_path), "hooks", "run", "session-start"]
    env = {**os.environ, "HOME": str(tmp)}
    times, cpu = [], []
    out = ""
    for i in range(runs + 2):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(argv, input=payload, capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i >= 2:  # the first runs warm the page cache
            times.append(elapsed)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        out = done.stdout
    assert out.startswith("# Curated context"), out[:200]
    result = {"p50": _ms(statistics.median(times)), "p95": _ms(_pct(times, 0.95)),
              "cpu_p50": _ms(statistics.median(cpu)), "cpu_p95": _ms(_pct(cpu, 0.95)), "runs": runs,
              "memories": count, "output_tokens": ex.count_tokens(out), "argv0": argv[0]}
    print(f"hook session-start ({count:,} memories, {runs} runs): p50 {result['p50']} ms, p95 {result['p95']} ms"
          f" (CPU time p50 {result['cpu_p50']} ms, p95 {result['cpu_p95']} ms), {result['output_tokens']} tokens printed")
    return result


def bench_export(tmp: Path, count: int) -> tuple[dict, dict, dict]:
    db_path = tmp / "export.db"
    build(db_path, count)
    db = open_database(db_path)
    # every approved memory in scope: developer, project and session tiers of project-0 ... all projects
    db.execute_sql("UPDATE memory SET project_id = 1 WHERE project_id IS NOT NULL")
    db.execute_sql("UPDATE memory SET status = 'approved'")
    options = {fmt: ex.ExportOptions(fmt, project="/home/dev/src/project-0", tiers=TIERS) for fmt in ex.FORMATS}
    plain, entries, cpu = {}, {}, {}
    first = {}
    # No text has been checked for secrets yet (clean_stamp): the first export checks every one;
    # a store that cannot be written (or is busy) checks them at every export.
    unstamped = _ReadOnlyDb(db)
    started = time.perf_counter()
    ex.render(unstamped, options["claude-md"], with_entries=False)
    first["unchecked_ms"] = _ms(time.perf_counter() - started)
    started = time.perf_counter()
    ex.render(db, options["claude-md"], with_entries=False)  # checks them all, and stamps them
    first["first_export_ms"] = _ms(time.perf_counter() - started)
    stamped = db.execute_sql("SELECT count(*) FROM memory WHERE clean_stamp IS NOT NULL").fetchone()[0]
    assert stamped == count, (stamped, count)
    # as memtui itself gets there: the memories proposed, then approved in one bulk action, which
    # checks their texts as it goes (core/stamps.py); the export after it has nothing to check
    db.execute_sql("UPDATE memory SET status = 'proposed', clean_stamp = NULL")
    ids = [i for (i,) in db.execute_sql("SELECT id FROM memory")]
    started = time.perf_counter()
    mem.approve(db, ids)
    first["approve_all_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    ex.render(db, options["claude-md"], with_entries=False)
    first["export_after_approve_ms"] = _ms(time.perf_counter() - started)
    print(f"export claude-md, no text checked yet: {first['unchecked_ms']} ms where the store cannot be written"
          f" (every export checks every text), {first['first_export_ms']} ms the first time (checks and stamps them);"
          f" approving all {count:,} in one action {first['approve_all_s']} s (checks them), the export after it"
          f" {first['export_after_approve_ms']} ms")
    # JSON: the first export makes each memory's piece (memory_json); the runs below join them
    started = time.perf_counter()
    ex.render(db, options["json"], with_entries=False)
    first["json_first_export_ms"] = _ms(time.perf_counter() - started)
    pieces = db.execute_sql("SELECT count(*) FROM memory_json").fetchone()[0]
    assert pieces == count, (pieces, count)
    print(f"export json, first time: {first['json_first_export_ms']} ms (makes the {count:,} pieces; later"
          " exports join them)")
    for fmt in ex.FORMATS:
        for with_entries, out in ((False, plain), (True, entries)):
            times, cpus = [], []
            for _ in range(3):
                started, started_cpu = time.perf_counter(), time.process_time()
                result = ex.render(db, options[fmt], with_entries=with_entries)
                times.append(time.perf_counter() - started)
                cpus.append(time.process_time() - started_cpu)
            assert result.included == count, (result.included, count)
            out[fmt] = _ms(statistics.median(times))
            if not with_entries:
                cpu[fmt] = _ms(statistics.median(cpus))
        print(f"export {fmt:<13} {count:,} memories: {plain[fmt]:>8} ms (CPU {cpu[fmt]} ms; {entries[fmt]} ms with"
              f" entries; {result.tokens:,} tokens, {result.size / 1e6:.1f} MB)")
    cli = bench_cli(db_path, tmp)
    started = time.perf_counter()
    rows = db.execute_sql("SELECT id, text FROM memory").fetchall()
    select_ms = _ms(time.perf_counter() - started)
    text = ex.render(db, options["claude-md"], with_entries=False).text
    started = time.perf_counter()
    clean(text)
    clean_ms = _ms(time.perf_counter() - started)
    started = time.perf_counter()
    clean_document(text)  # what render() runs: the lines that could hold a secret only
    document_ms = _ms(time.perf_counter() - started)
    started = time.perf_counter()
    x = 0
    for i in range(10_000_000):
        x += i
    loop_s = round(time.perf_counter() - started, 2)
    floor = {"select_id_text_ms": select_ms, "redaction_pass_ms": clean_ms, "redaction_document_ms": document_ms,
             "python_loop_10m_s": loop_s}
    print(f"floor: SELECT id, text of {len(rows):,} rows {select_ms} ms; one redaction pass over the claude-md text"
          f" {clean_ms} ms (clean_document, as render runs it: {document_ms} ms); a 10M-step Python loop {loop_s} s")
    db.close()
    return plain, entries, floor, cpu, cli, first


class _ReadOnlyDb:
    """The store as the SessionStart hook reads it: execute_sql only, nothing can be stamped."""

    def __init__(self, db) -> None:
        self.execute_sql = db.execute_sql


def bench_cli(db_path: Path, tmp: Path) -> dict:
    """`memtui export` of the whole 100k store to a file, as a command: wall time and peak RSS."""
    exe = Path(sys.executable).with_name("memtui")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "memtui"]
    out = {}
    for fmt in ("claude-md", "json"):
        target = tmp / f"cli-export.{fmt}"
        times = []
        for _ in range(3):
            if target.exists():
                target.unlink()
            started = time.perf_counter()
            done = subprocess.run(
                [*argv, "--db", str(db_path), "export", "--format", fmt, "--project", "/home/dev/src/project-0",
                 "--tier", "developer,project,session", "-o", str(target)],
                capture_output=True, text=True, env={**os.environ, "HOME": str(tmp)},
            )
            times.append(time.perf_counter() - started)
            assert done.returncode == 0, done.stderr
        out[fmt] = _ms(statistics.median(times))
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out["peak_rss_mb"] = round(rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1)
    print(f"memtui export command, 100k memories to a file: claude-md {out['claude-md']} ms, json {out['json']} ms,"
          f" peak RSS of a child {out['peak_rss_mb']} MB")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--hook-memories", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="memtui-bench-export-") as tmp:
        hook = bench_hook(Path(tmp), args.hook_memories, args.runs)
        plain, entries, floor, cpu, cli, first = bench_export(Path(tmp), args.memories)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_rss_mb = round(rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1)
    print(f"peak RSS {peak_rss_mb} MB")
    print(json.dumps({
        "hook_session_start_ms": hook,
        "export_100k_ms": plain,
        "export_100k_cpu_ms": cpu,
        "export_100k_unchecked": first,
        "cli_export_100k": cli,
        "export_100k_with_entries_ms": entries,
        "memories": args.memories,
        "floor_ms": floor,
        "peak_rss_mb": peak_rss_mb,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
