"""Curate benchmark: fuzzy search as you type, raw full-text search, opening the Memories screen,
bulk forget and its undo, on a large database.

    /work/venv/bin/python tests/perf/bench_curate.py [--memories 100000] [--messages 1000000]
                                                     [--keep DIR | --reuse DIR] [--limit 500]

The database is built in a child process (so building does not count in the peak memory) with
bulk SQL inserts: projects, sessions, `--messages` synthetic but realistic transcript messages
(user requests, assistant explanations, tool calls and their outputs: test runs, tracebacks,
diffs, listings; ~0.5 KB of stored text each, what a 2 GB-class set of raw JSONL logs keeps after
import) indexed in `message_fts`, and `--memories` memories of every kind, tier and status with
an evidence row each, created over the last year. `--reuse DIR` uses DIR/bench.db if it is there
(and builds it there if not); `--keep DIR` builds into DIR and leaves it.

Measured in this process, with the core calls the Memories screen makes:
  * open_screen_s: count_memories + page_memories (first page) for the default query; the screen
    builds the fuzzy index on the first keystroke, in a worker: index_build_s is that, and
    open_screen_with_index_s the sum, in case a screen builds it on open; index_again_unchanged_s
    is making it again when the memories it holds did not change (the screen does after actions);
  * search_p95_ms / search_p99_ms: MemoryIndex.search per keystroke, the queries below typed one
    character at a time (typos included), `--limit` hits each (the screen asks for 500);
    baseline_extract_p95_ms: rapidfuzz.process.extract(WRatio) over every memory text for the
    same keystrokes (lower-cased texts, processor=None, the same limit);
  * raw_search_p95_ms: search_raw for each raw query (and each keystroke from 3 letters:
    raw_keystroke_p95_ms);
  * bulk_forget_s: memories.forget of 50,000 ids (one journal batch); undo_s: memories.undo of it;
  * peak_rss_mb: this process's ru_maxrss (the build ran in a child).
Wall times are the targets; *_cpu_* figures (this thread's CPU time) and load_avg_1min are printed
too, because on a machine shared with other work wall time includes waiting for a CPU.
Human-readable lines first; the LAST line is one JSON object. Targets: search p95 < 30 ms and
p99 < 60 ms, raw p95 < 100 ms, open_screen_s < 1, bulk_forget_s < 1, undo_s < 1, peak RSS < 300 MB.
Not collected by pytest (tests/perf is in norecursedirs). Linux/macOS (resource).
"""

from __future__ import annotations

import argparse
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
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUERIES = [
    "redis connection pool", "use pnpm not npm", "databse migraton alembic", "pytest fixtures",
    "auth tokn refresh", "dockr compose up", "typescript strict mode", "retry with backof",
    "eslint config", "postgres index", "react hooks rules", "graphql schema", "ci cache pipeline",
    "environment variables", "rate limit", "webpack alias", "kubernets deploy", "json logging format",
    "mock the http client", "flaky test fix", "port 8080", "invoice service", "prefer functional components",
    "never commit secrets", "payment webhook signature", "pool redis", "celery worker queue",
]
RAW_QUERIES = [
    "webpack alias", "connection refused", "TypeError undefined", "pytest failed", "migration",
    "docker compose", "git rebase", "ModuleNotFoundError", "timeout", "permission denied", "npm install",
    "redis", "segmentation fault", "rate limit exceeded", "index out of range", "deprecated", "CORS",
    "assertion error", "memory leak", "foo-bar \"quoted\" AND *",
]
TARGETS = {"search_p95_ms": 30, "search_p99_ms": 60, "raw_search_p95_ms": 100, "open_screen_s": 1,
           "bulk_forget_s": 1, "undo_s": 1, "peak_rss_mb": 300}
BULK = 50_000

# --- the synthetic data ------------------------------------------------------------------------

LIBS = (
    "redis postgres sqlite kafka rabbitmq elasticsearch react vue svelte django flask fastapi express nextjs "
    "webpack vite rollup esbuild eslint prettier pytest jest vitest mocha docker kubernetes terraform ansible "
    "nginx celery sqlalchemy alembic prisma graphql grpc protobuf pydantic numpy pandas tokio serde axum "
    "tailwind storybook playwright cypress sentry prometheus grafana pnpm npm yarn poetry uv pip cargo "
    "gradle maven typescript mypy ruff black isort httpx requests aiohttp boto3 stripe twilio openapi"
).split()
NOUNS = (
    "auth billing invoice user order cart payment session cache search export import report notification "
    "email webhook scheduler worker queue inventory catalog pricing tenant audit metrics config router "
    "middleware migration schema parser renderer client gateway storage upload media thumbnail profile "
    "settings token permission role account subscription coupon shipping refund ledger analytics feature"
).split()
SUFFIXES = "service module handler controller repository store client utils api views models tasks adapter".split()
EXTS = "py ts tsx js rs go sql yaml toml json md".split()
WORDS = (
    "the a to of and in for with on is that this it be as by from at we should when not but or can all "
    "use run test build fix change update add remove check make sure before after instead because still "
    "error failing works passes returns calls config file function class method value request response "
    "timeout retry limit backoff connection pool index query table column cursor transaction lock thread "
    "async await promise callback import export default module package version dependency lockfile "
    "environment variable secret key token refresh expire header cookie cors origin deploy release branch "
    "commit rebase merge conflict review pipeline cache artifact container image volume network port host"
).split()
STYLES = ("functional components", "small commits", "early returns", "type hints everywhere", "composition over inheritance",
          "explicit imports", "tabs", "spaces", "f-strings", "dataclasses", "async handlers", "short functions")
ERRORS = ("TypeError: cannot read properties of undefined", "ModuleNotFoundError: No module named", "connection refused",
          "IndexError: list index out of range", "permission denied", "deadlock detected", "rate limit exceeded",
          "AssertionError", "KeyError", "segmentation fault", "ECONNRESET", "timeout after 30s", "null pointer")
KINDS = ("decision", "preference", "convention", "constraint", "failed_approach", "bug_fix", "relationship", "fact", "todo")
SYLLABLES = "ka lo mi ren tor vex qua zin pel dor fen gal hub jet nix sol tam wex yor bri cla dru fli gro".split()


class Gen:
    def __init__(self, seed: int = 7) -> None:
        self.r = random.Random(seed)
        r = self.r
        self.idents = [
            "".join(r.choice(SYLLABLES).capitalize() for _ in range(r.randint(2, 3))) + r.choice(("Worker", "Service", "Client", "Store", "View", ""))
            for _ in range(4000)
        ] + [f"{r.choice(NOUNS)}_{r.choice(SUFFIXES)}" for _ in range(800)] + [
            f"{r.choice(('get', 'set', 'load', 'parse', 'sync', 'fetch', 'build'))}_{r.choice(NOUNS)}_{r.choice(NOUNS)}"
            for _ in range(2000)]
        self.files = [f"src/{r.choice(NOUNS)}/{r.choice(self.idents).lower()}.{r.choice(EXTS)}" for _ in range(5000)]
        self.sentences = [self._sentence() for _ in range(30_000)]

    def _sentence(self) -> str:
        r = self.r
        n = r.randint(6, 18)
        words = [r.choice(WORDS) for _ in range(n)]
        for _ in range(r.randint(1, 3)):
            words.insert(r.randrange(len(words)), r.choice((r.choice(LIBS), r.choice(self.idents), r.choice(self.files),
                                                            r.choice(NOUNS), str(r.randint(1, 65535)))))
        return " ".join(words).capitalize() + r.choice((".", ".", ".", "?", ":"))

    def memory(self, kind: str) -> str:
        r = self.r
        lib, lib2, noun, noun2 = r.choice(LIBS), r.choice(LIBS), r.choice(NOUNS), r.choice(NOUNS)
        mod = f"{noun}_{r.choice(SUFFIXES)}"
        f, f2, ident = r.choice(self.files), r.choice(self.files), r.choice(self.idents)
        text = {
            "decision": f"Decided to use {lib} for the {noun} {r.choice(SUFFIXES)} instead of {lib2} because {r.choice(self.sentences).lower()}",
            "preference": r.choice((f"Prefers {r.choice(STYLES)} over {r.choice(STYLES)}", f"Always run {lib} before pushing {noun} changes",
                                    f"Never commit secrets or .env files for {noun}", f"Use {lib}, never {lib2}, in this repository")),
            "convention": f"In {mod} the {r.choice(('handlers', 'tests', 'models', 'fixtures'))} live in {f}; {ident} follows the same pattern",
            "constraint": f"The {mod} must not call {lib} directly; go through {ident} (rate limit {r.randint(10, 500)}/min)",
            "failed_approach": f"Tried {lib} {r.choice(('connection pool', 'retry with backoff', 'caching', 'batching', 'streaming'))} for {noun}; abandoned: {r.choice(ERRORS)}",
            "bug_fix": f"Fixed {r.choice(ERRORS)} in {f}: {r.choice(self.sentences).lower()}",
            "relationship": f"{f} and {f2} change together ({ident} depends on {mod})",
            "fact": r.choice((f"The {noun} service listens on port {r.choice((3000, 5432, 6379, 8000, 8080, 9090, r.randint(1024, 65535)))}",
                              f"Build the {noun} package with `{r.choice(('pnpm', 'npm', 'cargo', 'uv', 'make'))} {r.choice(('build', 'run dev', 'test', 'install'))}`",
                              f"{lib} {r.randint(1, 9)}.{r.randint(0, 30)} is pinned for {mod}")),
            "todo": f"Finish {r.choice(('migrating', 'testing', 'documenting', 'refactoring'))} {mod} in {f}",
        }[kind]
        if r.random() < 0.15:
            text += f" (commit {r.getrandbits(28):07x})"
        return text

    def message(self, role: str, kind: str) -> tuple[str, str | None]:
        r = self.r
        s = self.sentences
        if kind == "tool_use":
            tool = r.choice(("Bash", "Edit", "Read", "Grep", "Write"))
            if tool == "Bash":
                return f'{{"command": "{r.choice(("pytest -q", "pnpm test", "npm install", "cargo build", "docker compose up", "git rebase main", "make lint"))} {r.choice(self.files)}"}}', tool
            return f'{{"file_path": "{r.choice(self.files)}", "old_string": "{r.choice(self.idents)}", "new_string": "{r.choice(self.idents)}"}}', tool
        if kind == "tool_result":
            pick = r.random()
            if pick < 0.3:
                return "\n".join(f"{r.choice(self.files)}::{r.choice(self.idents)} {r.choice(('PASSED', 'PASSED', 'FAILED'))}" for _ in range(r.randint(3, 12))) + f"\n{r.randint(1, 300)} passed in {r.random() * 9:.2f}s", None
            if pick < 0.5:
                return "Traceback (most recent call last):\n" + "\n".join(f'  File "{r.choice(self.files)}", line {r.randint(1, 900)}, in {r.choice(self.idents)}' for _ in range(r.randint(2, 6))) + f"\n{r.choice(ERRORS)}", None
            if pick < 0.7:
                return "\n".join(f"{r.choice('+- ')}{r.choice(s)}" for _ in range(r.randint(3, 10))), None
            return "\n".join(r.choice(self.files) for _ in range(r.randint(2, 15))), None
        return " ".join(r.choice(s) for _ in range(r.randint(1, 2) if role == "user" else r.randint(2, 6))), None


def build(db_path: Path, n_memories: int, n_messages: int) -> None:
    from memtui.core.db import index_pending, open_database
    from memtui.core.extract.dedupe import fingerprint

    gen = Gen()
    r = gen.r
    db = open_database(db_path)
    conn = db.connection()
    now = time.time()
    started = time.perf_counter()
    projects = 50
    with db.atomic():
        conn.executemany("INSERT INTO project (root, name, created_at) VALUES (?, ?, ?)",
                         [(f"/home/dev/src/{NOUNS[i % len(NOUNS)]}-{i}", f"{NOUNS[i % len(NOUNS)]}-{i}", now) for i in range(projects)])
    per_session = 200
    n_sessions = max(1, n_messages // per_session)
    sessions = []
    for i in range(n_sessions):
        start = now - r.random() * 365 * 86400
        sessions.append(("claude-code", f"sess-{i:06d}", 1 + i % projects, f"/home/dev/src/p{i % projects}",
                         r.choice(gen.sentences)[:80], start, start + 3600, "claude-sonnet", per_session, per_session * 2100, "new"))
    with db.atomic():
        conn.executemany(
            "INSERT INTO session (tool, external_id, project_id, cwd, title, started_at, ended_at, model, message_count,"
            " raw_size, review_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sessions)
    cycle = [("user", "text"), ("assistant", "text"), ("assistant", "tool_use"), ("tool", "tool_result"),
             ("assistant", "tool_use"), ("tool", "tool_result"), ("assistant", "text")]
    batch: list[tuple] = []
    text_bytes = 0
    for sid in range(1, n_sessions + 1):
        for pos in range(per_session):
            role, kind = cycle[pos % len(cycle)]
            text, tool = gen.message(role, kind)
            text_bytes += len(text)
            batch.append((sid, pos, role, kind, tool, text, now, f"m{sid}-{pos}"))
        if len(batch) >= 50_000 or sid == n_sessions:
            with db.atomic():
                conn.executemany(
                    "INSERT INTO message (session_id, position, role, kind, tool_name, text, timestamp, external_id, is_error)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", batch)
                index_pending(conn)
            batch = []
            print(f"  built {sid * per_session:,} messages ({text_bytes / 1e6:.0f} MB text) in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    statuses = ("proposed", "approved", "approved", "rejected")
    rows = []
    for i in range(n_memories):
        kind = KINDS[i % len(KINDS)]
        tier = "session" if kind == "todo" else r.choice(("developer", "project", "project", "session"))
        text = gen.memory(kind)
        created = now - r.random() * 365 * 86400
        seen = min(now, created + r.random() * 200 * 86400)
        rows.append((tier, kind, text, r.choice(statuses), 1 if r.random() < 0.03 else 0, round(r.random(), 2),
                     None if tier == "developer" else 1 + i % projects, 1 + i % n_sessions, "heuristic", fingerprint(text),
                     created, created, seen))
    with db.atomic():
        conn.executemany(
            "INSERT INTO memory (tier, kind, text, status, pinned, confidence, project_id, session_id, extractor, fingerprint,"
            " created_at, updated_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("INSERT INTO evidence (memory_id, message_id, quote)"
                     " SELECT id, (id * 7) % ? + 1, substr(text, 1, 60) FROM memory", (n_messages,))
    db.execute_sql("PRAGMA optimize")
    db.close()
    print(f"  built {n_memories:,} memories; database {db_path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.0f}s",
          file=sys.stderr)


# --- the measurements ---------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def keystrokes(queries: list[str], start: int = 1) -> list[str]:
    return [q[:k] for q in queries for k in range(start, len(q) + 1)]


def measure(db_path: Path, limit: int, baseline: bool) -> dict:
    from rapidfuzz import fuzz, process

    from memtui.core import curate, memories
    from memtui.core.db import open_database
    from memtui.core.search import MemoryIndex, search_raw

    out: dict = {}
    db = open_database(db_path)
    q = curate.MemoryQuery()
    t = time.perf_counter()
    total = curate.count_memories(db, q)
    page = curate.page_memories(db, q, 0, 100)
    out["open_screen_s"] = round(time.perf_counter() - t, 3)
    t, c = time.perf_counter(), time.thread_time()
    index = MemoryIndex(db, q)
    out["index_build_s"] = round(time.perf_counter() - t, 3)
    out["index_build_cpu_s"] = round(time.thread_time() - c, 3)
    out["open_screen_with_index_s"] = round(out["open_screen_s"] + out["index_build_s"], 3)
    print(f"open: count {total:,} + first page ({len(page)}) {out['open_screen_s']:.3f}s; index of {len(index):,} "
          f"memories {out['index_build_s']:.3f}s")

    typed = keystrokes(QUERIES)
    times, cpu = [], []
    best = {}
    for text in typed:
        t, c = time.perf_counter(), time.thread_time()
        hits = index.search(text, limit=limit)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        best[text] = hits[0].memory.text if hits else None
    out["search_p50_ms"] = round(pct(times, 50), 2)
    out["search_p95_ms"] = round(pct(times, 95), 2)
    out["search_p99_ms"] = round(pct(times, 99), 2)
    out["search_max_ms"] = round(max(times), 2)
    out["search_cpu_p95_ms"] = round(pct(cpu, 95), 2)
    out["search_cpu_p99_ms"] = round(pct(cpu, 99), 2)
    out["keystrokes"] = len(typed)
    print(f"fuzzy search, {len(typed)} keystrokes of {len(QUERIES)} queries, limit {limit}: p50 {out['search_p50_ms']} ms,"
          f" p95 {out['search_p95_ms']} ms, p99 {out['search_p99_ms']} ms, max {out['search_max_ms']} ms"
          f" (CPU time: p95 {out['search_cpu_p95_ms']} ms, p99 {out['search_cpu_p99_ms']} ms)")
    for query in QUERIES[:8]:
        print(f"  {query!r:32} -> {best[query]!r}")

    if baseline:
        texts = [m[1].lower() for m in db.execute_sql("SELECT id, text FROM memory WHERE forgotten_at IS NULL")]
        sample = typed[::3]  # every third keystroke: the plain scan takes long
        base = []
        for text in sample:
            t = time.perf_counter()
            process.extract(text.lower(), texts, scorer=fuzz.WRatio, processor=None, limit=limit)
            base.append((time.perf_counter() - t) * 1000)
        del texts
        out["baseline_extract_p95_ms"] = round(pct(base, 95), 1)
        out["baseline_extract_p50_ms"] = round(pct(base, 50), 1)
        print(f"baseline rapidfuzz.process.extract(WRatio) over every memory, {len(sample)} of the keystrokes:"
              f" p50 {out['baseline_extract_p50_ms']} ms, p95 {out['baseline_extract_p95_ms']} ms")

    raw_times, raw_cpu = [], []
    for text in RAW_QUERIES:
        search_raw(db, text, limit=50)  # warm: the first query reads the index pages
    for text in RAW_QUERIES:
        t, c = time.perf_counter(), time.thread_time()
        search_raw(db, text, limit=50)
        raw_times.append((time.perf_counter() - t) * 1000)
        raw_cpu.append((time.thread_time() - c) * 1000)
    out["raw_search_p95_ms"] = round(pct(raw_times, 95), 2)
    out["raw_search_cpu_p95_ms"] = round(pct(raw_cpu, 95), 2)
    out["raw_search_max_ms"] = round(max(raw_times), 2)
    raw_keys = []
    for text in keystrokes(RAW_QUERIES, 3):
        t = time.perf_counter()
        search_raw(db, text, limit=50)
        raw_keys.append((time.perf_counter() - t) * 1000)
    out["raw_keystroke_p95_ms"] = round(pct(raw_keys, 95), 2)
    print(f"raw FTS search, {len(RAW_QUERIES)} queries: p95 {out['raw_search_p95_ms']} ms, max {out['raw_search_max_ms']} ms;"
          f" typed from 3 letters ({len(raw_keys)} keystrokes): p95 {out['raw_keystroke_p95_ms']} ms")

    ids = [r[0] for r in db.execute_sql(
        "SELECT id FROM memory WHERE forgotten_at IS NULL ORDER BY last_seen_at LIMIT ?", (BULK,))]
    t, c = time.perf_counter(), time.thread_time()
    changed = memories.forget(db, ids)
    out["bulk_forget_s"] = round(time.perf_counter() - t, 3)
    out["bulk_forget_cpu_s"] = round(time.thread_time() - c, 3)
    t, c = time.perf_counter(), time.thread_time()
    result = memories.undo(db)
    out["undo_s"] = round(time.perf_counter() - t, 3)
    out["undo_cpu_s"] = round(time.thread_time() - c, 3)
    left = db.execute_sql("SELECT COUNT(*) FROM memory WHERE forgotten_at IS NOT NULL").fetchone()[0]
    assert len(changed) == len(ids) and result is not None and left == 0, (len(changed), result, left)
    print(f"bulk forget of {len(ids):,}: {out['bulk_forget_s']}s; undo: {out['undo_s']}s")
    # Leave the journal as it was so a --reuse run measures the same thing.
    db.execute_sql("DELETE FROM event WHERE batch = ?", (result.batch,))
    t = time.perf_counter()
    again = MemoryIndex(db, q)  # what the screen does after a change: the same memories, shared
    out["index_again_unchanged_s"] = round(time.perf_counter() - t, 3)
    assert len(again) == len(index)
    print(f"a new index of the same memories (after forget + undo): {out['index_again_unchanged_s']}s")
    db.close()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["memories"] = total
    return out


def messages_in(db_path: Path) -> int:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM message").fetchone()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--memories", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--limit", type=int, default=500, help="hits per search (the Memories screen asks for 500)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the plain rapidfuzz scan")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--keep", metavar="DIR", help="build into DIR and keep it")
    group.add_argument("--reuse", metavar="DIR", help="use DIR/bench.db, building it if missing")
    ap.add_argument("--build-only", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only:
        build(Path(args.build_only), args.memories, args.messages)
        return 0
    tmp = None
    if args.reuse or args.keep:
        folder = Path(args.reuse or args.keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="memtui-bench-curate-")
        folder = Path(tmp)
    db_path = folder / "bench.db"
    try:
        if not (args.reuse and db_path.exists()):
            db_path.unlink(missing_ok=True)
            print(f"building {db_path} ({args.memories:,} memories, {args.messages:,} messages) ...", file=sys.stderr)
            subprocess.run([sys.executable, __file__, "--build-only", str(db_path), "--memories", str(args.memories),
                            "--messages", str(args.messages)], check=True)
        load_before = os.getloadavg()[0]
        out = measure(db_path, args.limit, not args.no_baseline)
        out["load_avg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]  # before, after (2-core machine)
        out["db_mb"] = round(db_path.stat().st_size / 1e6, 1)
        out["messages"] = messages_in(db_path)
        failed = [k for k, v in TARGETS.items() if out.get(k, 0) >= v]
        out["targets_met"] = not failed
        print("targets: " + ("all met" if not failed else "missed " + ", ".join(failed)))
        print(json.dumps(out))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
