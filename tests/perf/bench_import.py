"""Import benchmark: builds a large Claude Code tree from the real corpus and imports it.

    /work/venv/bin/python tests/perf/bench_import.py [--mb 200] [--keep DIR | --reuse DIR]

The tree is made by replaying the lines of the real transcripts in ../shared/corpus/claude-code
(relative to the repository root) with fresh ids (session ids, uuids, message / tool / request
ids, agent ids) so that every file holds sessions of its own, laid out like ~/.claude/projects:
project folders named after the cwd, `<session>.jsonl` files, legacy `agent-<id>.jsonl`
sidechain files and `<session>/subagents/agent-<id>.jsonl` (+ `.meta.json`). Files are whole
replays or prefixes of a real file, so sizes vary and the real mix is kept (large tool
results, thinking, the 855 KB single-line image, summaries, empty files).

Each measurement runs in a child process of its own, so building the tree does not count in
the import's peak memory:
  * json_only: read every line of the same files and orjson.loads it (the floor for the import);
  * import: memtui.core.importers.pipeline.Importer into a fresh database file, as `memtui import`
    does (open_database + import_paths + close); mb_per_s = input bytes / wall seconds;
    peak_rss_mb = that child's ru_maxrss + its parsing worker's (importers/prefetch.py);
    CPU seconds of both and the time the import waited for a CPU held by other processes
    (Linux schedstat) are reported too, since a busy machine inflates wall time;
  * noop re-import: a new Importer over the same, unchanged tree (at least 1,000 files);
  * import + heuristic extraction, as `memtui import` does by default: Importer(extractor=
    "heuristic") (two workers parse and extract ahead, the importer plans the storing of their
    proposals as files are committed) then propose_sessions with report.extracted;
    mb_per_s_with_extraction = input bytes / wall seconds of both, extract_s = the part after the
    import (writing the planned proposals; deciding, and extracting, what was not planned ahead).

Human-readable lines come first; the last line is one JSON object. Targets (2-core machine):
mb_per_s >= 50 and mb_per_s_with_extraction >= 50 (the import issue's 50 MB/s includes extraction),
peak_rss_mb and peak_rss_with_extraction_mb < 300, noop_reimport_s < 1 (for >= 1,000 files);
targets_met says whether all of them hold. The figures depend on the CPU and the Python: both are named.
--big-file-mb N adds one long session file of N MB (memory on huge files).
This file is not collected by pytest (tests/perf is in norecursedirs). Linux/macOS (resource).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "claude-code"

TARGET_MB_PER_S = 50.0
TARGET_PEAK_RSS_MB = 300.0
TARGET_NOOP_S = 1.0
MIN_FILES = 1000

# Ids replaced by fresh ones of the same shape (consistently within one generated unit).
_ID = re.compile(
    rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    rb"|\b(?:msg|toolu|req|srvtoolu)_[0-9A-Za-z]{10,}"
)
_AGENT_ID = re.compile(rb'"agentId":"([0-9a-f]{6,})"')
_CWD = re.compile(rb'"cwd":"(?:[^"\\]|\\.)*"')
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# --- building the tree ------------------------------------------------------------------------


class Template:
    """One real transcript (or a folder of them: a session with its subagents), pre-split into
    literal chunks and ids so that replaying it with a fresh mapping is a join."""

    def __init__(self, root: Path, files: list[Path]) -> None:
        self.root = root
        self.files = []  # (relative path, [line tokens]); tokens alternate literal, id, literal...
        ids: set[bytes] = set()
        for path in files:
            data = path.read_bytes()
            agent_ids = set(_AGENT_ID.findall(data))
            agent_ids.update(re.findall(rb"agent-([0-9a-f]{6,})", path.name.encode()))
            pattern = _ID
            if agent_ids:
                alts = b"|".join(re.escape(a) for a in sorted(agent_ids, key=len, reverse=True))
                pattern = re.compile(_ID.pattern + b"|" + alts)
            lines = []
            for line in data.splitlines(keepends=True):
                line = _CWD.sub(b'"cwd":"\x00CWD\x00"', line)
                tokens = _split(pattern, line)
                ids.update(tokens[1::2])
                lines.append(tokens)
            rel = path.relative_to(root).as_posix().encode()
            self.files.append((_split(pattern, rel), lines))
        self.ids = sorted(ids)
        self.size = sum(len(b"".join(t)) for _, lines in self.files for t in lines)
        self.single = len(self.files) == 1

    def render(self, rng: random.Random, cwd: bytes, fraction: float) -> list[tuple[str, bytes]]:
        mapping = {i: _fresh(i, rng) for i in self.ids}
        out = []
        for rel_tokens, lines in self.files:
            if self.single and len(lines) > 1:
                lines = lines[: max(1, round(len(lines) * fraction))]
            body = b"".join(_join(t, mapping) for t in lines).replace(b"\x00CWD\x00", cwd)
            rel = _join(rel_tokens, mapping).decode()
            out.append((rel, body))
        return out


def _split(pattern: re.Pattern, data: bytes) -> list[bytes]:
    tokens, last = [], 0
    for m in pattern.finditer(data):
        tokens.append(data[last : m.start()])
        tokens.append(m.group(0))
        last = m.end()
    tokens.append(data[last:])
    return tokens


def _join(tokens: list[bytes], mapping: dict[bytes, bytes]) -> bytes:
    if len(tokens) == 1:
        return tokens[0]
    parts = tokens[:]
    parts[1::2] = [mapping[t] for t in tokens[1::2]]
    return b"".join(parts)


def _fresh(old: bytes, rng: random.Random) -> bytes:
    if len(old) == 36 and old[8:9] == b"-":
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}".encode()
    if b"_" in old:
        prefix, _, rest = old.partition(b"_")
        return prefix + b"_" + "".join(rng.choice(_B62) for _ in rest).encode()
    return f"{rng.getrandbits(4 * len(old)):0{len(old)}x}".encode()  # hex agent id


def load_templates(corpus: Path) -> list[Template]:
    templates = []
    for entry in sorted(corpus.iterdir()):
        if entry.is_file() and entry.suffix == ".jsonl":
            templates.append(Template(corpus, [entry]))
        elif entry.is_dir():
            files = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".json"))
            if files:
                templates.append(Template(entry, files))
    return templates


def _out_name(template: Template, rel: str, rng: random.Random, rendered: bytes) -> str:
    """A real-looking name for a single-file template: <sessionId>.jsonl or agent-<id>.jsonl."""
    name = rel.rsplit("/", 1)[-1]
    m = re.search(r"__agent-([0-9a-f]+)__", name)
    if m:
        agent = _AGENT_ID.search(rendered)
        return f"agent-{agent.group(1).decode() if agent else m.group(1)}.jsonl"
    sid = re.search(rb'"sessionId":"([^"]+)"', rendered)
    if sid:
        return sid.group(1).decode() + ".jsonl"
    return _fresh(b"00000000-0000-0000-0000-000000000000", rng).decode() + ".jsonl"


def build_tree(dest: Path, target_bytes: int, min_files: int, seed: int = 1) -> dict:
    templates = load_templates(CORPUS)
    if not templates:
        sys.exit(f"bench_import: no Claude Code transcripts found in {CORPUS}")
    rng = random.Random(seed)
    n_projects = max(4, min(60, target_bytes // 4_000_000))
    projects = [f"/home/bench/work/project-{i:02d}" for i in range(n_projects)]
    total = files = 0
    used: set[str] = set()
    while total < target_bytes or files < min_files:
        filling = total >= target_bytes  # enough bytes: top up the file count with small files
        template = rng.choice(templates)
        if filling and not template.single:
            continue
        fraction = rng.uniform(0.0, 0.05) if filling else rng.uniform(0.1, 1.0)
        cwd = rng.choice(projects)
        folder = dest / re.sub(r"[^A-Za-z0-9]", "-", cwd)
        for rel, body in template.render(rng, cwd.encode(), fraction):
            if template.single:
                rel = _out_name(template, rel, rng, body)
            path = folder / rel
            if str(path) in used:
                continue
            used.add(str(path))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            if path.suffix == ".jsonl":
                total += len(body)
                files += 1
    return {"files": files, "bytes": total, "projects": n_projects, "templates": len(templates)}


def add_big_file(dest: Path, target_bytes: int, seed: int = 2) -> int:
    """One long session file of `target_bytes`: the largest real transcripts replayed one after
    the other with fresh ids but one session id (a session resumed and compacted for weeks)."""
    rng = random.Random(seed)
    templates = [t for t in load_templates(CORPUS) if t.single and t.size > 100_000]
    session = _fresh(b"00000000-0000-0000-0000-000000000000", rng)
    path = dest / "-home-bench-work-big" / f"{session.decode()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    with open(path, "wb") as fh:
        while total < target_bytes:
            body = rng.choice(templates).render(rng, b"/home/bench/work/big", 1.0)[0][1]
            body = re.sub(rb'"sessionId":"[^"]*"', b'"sessionId":"' + session + b'"', body)
            fh.write(body)
            total += len(body)
    return total


def jsonl_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jsonl") if p.is_file())


# --- measurements (each in a child process) ---------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s(who=resource.RUSAGE_SELF) -> float:
    """CPU seconds of this process (or of its finished children). A busy machine inflates wall
    time but hardly CPU time, so both are reported."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _runqueue_wait_s() -> float:
    """Seconds this thread was ready to run but waited for a CPU (Linux schedstat; 0 elsewhere):
    other processes on the machine, not the import, account for that part of the wall time."""
    try:
        with open("/proc/thread-self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def interpreter() -> dict:
    """The Python that runs the benchmark. The figures depend on how it was built: on the 2-core
    machine, Debian's python3.11 (its optimised build, libpython linked into the executable) ran the
    import with extraction on ~15% less CPU time than pyenv's default build of 3.11.7 (configured
    without --enable-optimizations; the executable calls into a shared libpython)."""
    shared = None
    try:  # (Linux) whether this process runs its interpreter from a shared libpython
        with open("/proc/self/maps") as fh:
            shared = "libpython" in fh.read()
    except OSError:
        pass
    return {"python": sys.version.split()[0], "python_executable": sys.executable, "libpython_shared": shared}


def machine() -> dict:
    """The CPU that runs the benchmark: the same code and interpreter took 6.0-8.7 CPU-s for the import
    with extraction on one 2-core machine and 4.1-4.7 CPU-s on another, so a figure is compared only
    with figures from the same CPU."""
    model = None
    try:  # (Linux) the first "model name" line
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu_model": model, "cpus": os.cpu_count()}


def child_json_only(root: Path) -> dict:
    import orjson

    files = jsonl_files(root)
    started = time.perf_counter()
    size = lines = 0
    for path in files:
        with open(path, "rb") as fh:
            for line in fh:
                size += len(line)
                if line.strip():
                    orjson.loads(line)
                    lines += 1
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "bytes": size, "lines": lines, "peak_rss_mb": _rss_mb()}


def child_import(root: Path, db_path: Path) -> dict:
    from memtui.core.db import open_database
    from memtui.core.importers.pipeline import Importer

    rss_before = _rss_mb()
    cpu_before = _cpu_s()
    worker_cpu_before = _cpu_s(resource.RUSAGE_CHILDREN)
    wait_before = _runqueue_wait_s()
    started = time.perf_counter()
    db = open_database(db_path)
    report = Importer(db).import_paths([str(root)])
    db.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_s": _cpu_s() - cpu_before,
        "worker_cpu_s": _cpu_s(resource.RUSAGE_CHILDREN) - worker_cpu_before,
        "runqueue_wait_s": _runqueue_wait_s() - wait_before,
        "report": report.as_dict(),
        "peak_rss_mb": _rss_mb(),
        # the parsing worker process, if the import started one (see importers/prefetch.py)
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "rss_before_mb": rss_before,
    }


def child_import_extract(root: Path, db_path: Path) -> dict:
    """What `memtui import` does by default: import with the heuristic extractor (the import
    workers extract ahead, importers/prefetch.py), then store the proposals of every session."""
    from memtui.core import propose
    from memtui.core.db import open_database
    from memtui.core.importers.pipeline import Importer
    from memtui.core.importers.prefetch import worker_count

    cpu_before = _cpu_s()
    worker_cpu_before = _cpu_s(resource.RUSAGE_CHILDREN)
    wait_before = _runqueue_wait_s()
    started = time.perf_counter()
    db = open_database(db_path)
    report = Importer(db, extractor="heuristic").import_paths([str(root)])
    imported = time.perf_counter()
    summary = propose.propose_sessions(
        db, sorted(report.touched_sessions), propose.get_extractor("heuristic"), "heuristic", ready=report.extracted
    )
    db.close()
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "import_s": imported - started,
        "extract_s": done - imported,
        "sessions": len(report.touched_sessions),
        "extracted_ahead": len(report.extracted),
        "proposals": summary.created,
        "reinforced": summary.reinforced,
        "cpu_s": _cpu_s() - cpu_before,
        "worker_cpu_s": _cpu_s(resource.RUSAGE_CHILDREN) - worker_cpu_before,
        "runqueue_wait_s": _runqueue_wait_s() - wait_before,
        "peak_rss_mb": _rss_mb(),
        # the largest worker's peak (ru_maxrss of the children is a maximum, not a sum) and how many
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "workers": worker_count(True),
    }


def child_counts(db_path: Path) -> dict:
    import sqlite3

    con = sqlite3.connect(db_path)
    out = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("source", "session", "message", "project")}
    con.close()
    return out


def run_child(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"bench_import: child {args[0]} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _db_mb(db_path: Path) -> float:
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=200, help="size of the generated tree in MB (default 200)")
    ap.add_argument("--min-files", type=int, default=MIN_FILES, help="at least this many .jsonl files (default 1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-file-mb", type=float, default=0, help="also write one session file of this many MB")
    ap.add_argument("--keep", metavar="DIR", help="build the tree in DIR and keep it (and the database)")
    ap.add_argument("--reuse", metavar="DIR", help="use a tree built earlier with --keep")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "json_only":
            result = child_json_only(Path(rest[0]))
        elif kind == "import":
            result = child_import(Path(rest[0]), Path(rest[1]))
        elif kind == "import_extract":
            result = child_import_extract(Path(rest[0]), Path(rest[1]))
        elif kind == "counts":
            result = child_counts(Path(rest[0]))
        else:
            raise SystemExit(f"unknown child {kind}")
        print(json.dumps(result))
        return 0

    if not CORPUS.is_dir():
        sys.exit(f"bench_import: the real corpus is needed and was not found at {CORPUS}")

    work = Path(args.reuse or args.keep or tempfile.mkdtemp(prefix="memtui-bench-"))
    tree = work / "projects"
    try:
        if args.reuse:
            if not tree.is_dir():
                sys.exit(f"bench_import: no tree at {tree} (build one with --keep)")
            files = jsonl_files(tree)
            built = {"files": len(files), "bytes": sum(p.stat().st_size for p in files), "seconds": 0.0}
            print(f"reusing {built['files']} files, {built['bytes'] / 1e6:.1f} MB in {tree}")
        else:
            if tree.exists():
                shutil.rmtree(tree)
            t0 = time.perf_counter()
            built = build_tree(tree, int(args.mb * 1e6), args.min_files, args.seed)
            if args.big_file_mb:
                big = add_big_file(tree, int(args.big_file_mb * 1e6))
                built["files"] += 1
                built["bytes"] += big
                print(f"added one session file of {big / 1e6:.1f} MB")
            built["seconds"] = time.perf_counter() - t0
            print(
                f"built {built['files']} files, {built['bytes'] / 1e6:.1f} MB in {built['projects']} project folders"
                f" from {built['templates']} real transcripts in {built['seconds']:.1f}s ({tree})"
            )
        py = interpreter()
        linked = {True: "a shared libpython", False: "libpython linked in", None: "libpython: not known"}[py["libpython_shared"]]
        print(f"python {py['python']} ({py['python_executable']}; {linked})")
        cpu = machine()
        print(f"cpu: {cpu['cpu_model'] or 'model not known'}, {cpu['cpus']} logical CPUs")
        db_path = work / "bench.db"
        for p in work.glob("bench.db*"):
            p.unlink()

        jo = run_child("json_only", str(tree))
        mb = jo["bytes"] / 1e6
        print(f"json only: {jo['lines']} lines, {mb:.1f} MB in {jo['seconds']:.2f}s = {mb / jo['seconds']:.1f} MB/s")

        imp = run_child("import", str(tree), str(db_path))
        rep = imp["report"]
        counts = run_child("counts", str(db_path))
        print(
            f"import: {rep['files_imported']} files imported, {rep['files_unchanged']} unchanged/empty,"
            f" {rep['files_failed']} failed, {rep['warnings']} warnings; {counts['session']} sessions,"
            f" {counts['message']} messages, {counts['project']} projects"
        )
        print(
            f"import: {mb:.1f} MB in {imp['seconds']:.2f}s (CPU: {imp['cpu_s']:.2f} s + worker {imp['worker_cpu_s']:.2f} s) = {mb / imp['seconds']:.1f} MB/s,"
            f" peak RSS {imp['peak_rss_mb']:.0f} MB (interpreter + modules {imp['rss_before_mb']:.0f} MB)"
            f" + worker {imp['worker_peak_rss_mb']:.0f} MB,"
            f" database {_db_mb(db_path):.1f} MB"
        )
        if imp["runqueue_wait_s"] > 0.1 * imp["seconds"]:
            print(
                f"note: the importing process waited {imp['runqueue_wait_s']:.1f}s for a CPU held by other"
                " processes: the machine is busy and the wall-clock figures are pessimistic"
            )

        noop = run_child("import", str(tree), str(db_path))
        nrep = noop["report"]
        print(
            f"no-op re-import: {nrep['files_seen']} files seen, {nrep['files_unchanged']} unchanged,"
            f" {nrep['files_imported']} imported in {noop['seconds']:.3f}s"
        )
        if nrep["files_imported"]:
            print("WARNING: the re-import of an unchanged tree imported files again")

        ext_db = db_path.with_name("extract-" + db_path.name)
        for p in ext_db.parent.glob(ext_db.name + "*"):
            p.unlink()
        ext = run_child("import_extract", str(tree), str(ext_db))
        print(
            f"import + heuristic extraction: {mb:.1f} MB in {ext['seconds']:.2f}s"
            f" (import with extraction ahead in the workers {ext['import_s']:.2f}s, then extraction of the rest"
            f" and storing {ext['extract_s']:.2f}s; {ext['extracted_ahead']} of {ext['sessions']} sessions extracted"
            f" ahead; {ext['proposals']} proposals, {ext['reinforced']} reinforced)"
            f" = {mb / ext['seconds']:.1f} MB/s (CPU: {ext['cpu_s']:.2f} s + workers {ext['worker_cpu_s']:.2f} s),"
            f" peak RSS {ext['peak_rss_mb']:.0f} MB + {ext['workers']} workers of at most {ext['worker_peak_rss_mb']:.0f} MB"
        )

        result = {
            "input_mb": round(mb, 1),
            "mb_per_s_with_extraction": round(mb / ext["seconds"], 1),
            "extract_s": round(ext["extract_s"], 2),
            "import_with_extraction_s": round(ext["seconds"], 2),
            "cpu_s_with_extraction": round(ext["cpu_s"] + ext["worker_cpu_s"], 2),
            "extracted_ahead": ext["extracted_ahead"],
            "runqueue_wait_with_extraction_s": round(ext["runqueue_wait_s"], 2),
            # the importing process and its workers (each at the largest worker's peak: an upper bound)
            "peak_rss_with_extraction_mb": round(ext["peak_rss_mb"] + max(1, ext["workers"]) * ext["worker_peak_rss_mb"], 1),
            "files": built["files"],
            "mb_per_s": round(mb / imp["seconds"], 1),
            "import_s": round(imp["seconds"], 2),
            "import_cpu_s": round(imp["cpu_s"], 2),
            "worker_cpu_s": round(imp["worker_cpu_s"], 2),
            "runqueue_wait_s": round(imp["runqueue_wait_s"], 2),
            # the importing process and its parsing worker together (each one's own peak)
            "peak_rss_mb": round(imp["peak_rss_mb"] + imp["worker_peak_rss_mb"], 1),
            "importer_rss_mb": round(imp["peak_rss_mb"], 1),
            "worker_rss_mb": round(imp["worker_peak_rss_mb"], 1),
            "json_only_mb_per_s": round(mb / jo["seconds"], 1),
            "noop_reimport_s": round(noop["seconds"], 3),
            "noop_files": nrep["files_seen"],
            "db_mb": round(_db_mb(db_path), 1),
            "sessions": counts["session"],
            "messages": counts["message"],
            **py,
            **cpu,
        }
        result["targets_met"] = (
            result["mb_per_s"] >= TARGET_MB_PER_S
            and result["mb_per_s_with_extraction"] >= TARGET_MB_PER_S
            and result["peak_rss_mb"] < TARGET_PEAK_RSS_MB
            and result["peak_rss_with_extraction_mb"] < TARGET_PEAK_RSS_MB
            and result["noop_reimport_s"] < TARGET_NOOP_S
            and nrep["files_seen"] >= MIN_FILES
            and nrep["files_imported"] == 0
        )
        print(json.dumps(result))
        return 0
    finally:
        if not (args.keep or args.reuse):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
