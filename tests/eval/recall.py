"""Recall and size of an extractor against the hand-written expected memories in tests/eval/expected/.

Each expected file names one corpus session (corpus file + session external id) and lists the
memories a person wrote after reading the whole transcript, each with an importance (1-3) and a few
key terms (a term may list alternatives: "a|b"). An expected memory counts as FOUND when a single
proposal of that session
  * contains every one of its key terms (case-insensitive substring; "a|b" = either), and
  * says enough of the same thing: at least MIN_OVERLAP of the expected text's content words
    (lower-cased, lightly stemmed, stop words removed) occur in the proposal. This stops a bare
    list of names, or a statement about something else that happens to name the same files, from
    matching. When one side is mostly Chinese/Japanese and the other is not, word overlap cannot be
    measured and the key terms alone decide. (Character-level fuzzy ratios such as rapidfuzz token_set_ratio were tried first: they
    scored a real paraphrase and an unrelated one-line overview of the same session alike, ~47.)
Recall = importance of found memories / importance of all expected memories (per session, and over
all sessions pooled). Size = total characters of the proposals / readable characters of the session
(the sum of the lengths of all its message texts: user and assistant text, tool inputs and outputs).

Usage:  python tests/eval/recall.py [--ratio 0.05] [--ratio 0.10] [--verbose] [--corpus PATH]
The corpus files are imported into a temporary database with the real import pipeline; sessions
whose format has no importer yet are reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"
DEFAULT_CORPUS = HERE.parents[2] / "shared" / "corpus"
MIN_OVERLAP = 0.25
TIMING: dict = {"seconds": 0.0, "readable": 0}  # CPU time of the extractor calls in the last evaluate()
_WORD = re.compile(r"[a-z0-9_#$][a-z0-9_#$.-]*[a-z0-9_#$]|[a-z0-9]|[\u4e00-\u9fff]")
_STOP = set(
    "the a an and or of to in on for with from into by is are was were be been it its this that these those as at "
    "if then than so not no but when while which who what how all any each one two can could should would will "
    "now also only just more most very same other there their they them we you your our his her has have had do "
    "does did get gets got via per up out off over under about after before again still yet".split()
)


@dataclass
class SessionScore:
    name: str
    tool: str
    found: float = 0.0
    total: float = 0.0
    proposal_chars: int = 0
    readable: int = 0
    skipped: str = ""
    misses: list[str] = field(default_factory=list)
    hits: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 0.0

    @property
    def size(self) -> float:
        return self.proposal_chars / self.readable if self.readable else 0.0


def load_expected(directory: Path = EXPECTED) -> list[tuple[str, dict]]:
    return [(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(directory.glob("*.json"))]


def term_present(term: str, text: str) -> bool:
    low = text.lower()
    return any(alt.strip().lower() in low for alt in term.split("|") if alt.strip())


def matches(expected: dict, proposal: str) -> bool:
    if not all(term_present(t, proposal) for t in expected["key_terms"]):
        return False
    if _is_cjk(proposal) != _is_cjk(expected["text"]):
        return True  # different languages: word overlap means nothing, the key terms decide
    return overlap(expected["text"], proposal) >= MIN_OVERLAP


def _is_cjk(text: str) -> bool:
    return len(re.findall(r"[\u3400-\u9fff]", text)) > 0.3 * max(1, len(re.sub(r"\s", "", text)))


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def overlap(expected: str, proposal: str) -> float:
    """Share of the expected statement's content words that the proposal also uses."""
    want = words(expected)
    return len(want & words(proposal)) / len(want) if want else 0.0


def find_session(db, spec: dict, corpus: Path):
    """The imported session an expected file is about (by external id, else by start time / only one)."""
    from memtui.core.store import list_sessions

    source = str((corpus / spec["corpus_file"]).resolve())
    candidates = [s for s in list_sessions(db) if s.source_path and str(Path(s.source_path).resolve()) == source]
    ext = spec.get("session_external_id")
    if ext:
        exact = [s for s in candidates if s.external_id == ext]
        if exact:
            return exact[0]
        loose = [s for s in candidates if ext in s.external_id]
        if len(loose) == 1:
            return loose[0]
    started = spec.get("session_started")
    if started:
        from datetime import datetime

        want = datetime.strptime(started, "%Y-%m-%d %H:%M:%S")
        for s in candidates:
            if s.started_at is None:
                continue
            got = datetime.fromtimestamp(s.started_at)
            utc = datetime.utcfromtimestamp(s.started_at)
            if abs((got - want).total_seconds()) < 120 or abs((utc - want).total_seconds()) < 120:
                return s
        for s in candidates:
            if started in (s.external_id or "") or started in (s.title or ""):
                return s
    if len(candidates) == 1 and not ext:
        return candidates[0]
    return None


def evaluate(ratios=(0.05, 0.10), corpus: Path = DEFAULT_CORPUS, extractor=None, exclude=(), db_path: Path | None = None) -> dict[float, list[SessionScore]]:
    """Import the corpus files named by the expected set (or use an already imported database),
    run the extractor, score it."""
    from memtui.core.db import open_database
    from memtui.core.extract.heuristic import extract_budget
    from memtui.core.importers.pipeline import Importer
    from memtui.core.store import session_messages

    extractor = extractor or extract_budget
    TIMING.update(seconds=0.0, readable=0)
    specs = [(n, s) for n, s in load_expected() if not any(x in n for x in exclude)]
    results: dict[float, list[SessionScore]] = {r: [] for r in ratios}
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(db_path or Path(tmp) / "eval.db")
        try:
            files = [] if db_path else sorted({spec["corpus_file"] for _, spec in specs})
            for f in files:
                path = corpus / f
                if path.exists():
                    try:
                        Importer(db).import_paths([str(path)])
                    except Exception as exc:  # an importer that is not there yet, or fails: skip its sessions
                        print(f"warning: import of {f} failed: {exc}", file=sys.stderr)
            for name, spec in specs:
                session = find_session(db, spec, corpus)
                for r in ratios:
                    score = SessionScore(name=name, tool=spec.get("tool", ""))
                    score.total = sum(m["importance"] for m in spec["memories"])
                    if session is None:
                        score.skipped = "session not imported (no importer for this format yet?)"
                        results[r].append(score)
                        continue
                    messages = session_messages(db, session.id)
                    score.readable = sum(len(m.text or "") for m in messages)
                    t0 = time.process_time()
                    proposals = extractor(session, messages, r)
                    TIMING["seconds"] += time.process_time() - t0
                    TIMING["readable"] += score.readable
                    texts = [p.text for p in proposals]
                    score.proposal_chars = sum(len(t) for t in texts)
                    for mem in spec["memories"]:
                        hit = next((t for t in texts if matches(mem, t)), None)
                        if hit is not None:
                            score.found += mem["importance"]
                            score.hits.append((mem["text"], hit))
                        else:
                            score.misses.append(f"[{mem['importance']}] {mem['text']}")
                    results[r].append(score)
        finally:
            db.close()
    return results


def pooled(scores: list[SessionScore]) -> tuple[float, float, float]:
    """(recall, size, mean per-session size) over the sessions that were scored."""
    done = [s for s in scores if not s.skipped]
    total = sum(s.total for s in done)
    found = sum(s.found for s in done)
    chars = sum(s.proposal_chars for s in done)
    readable = sum(s.readable for s in done)
    mean_size = sum(s.size for s in done) / len(done) if done else 0.0
    return (found / total if total else 0.0, chars / readable if readable else 0.0, mean_size)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ratio", type=float, action="append", help="target size ratio(s); default 0.05 and 0.10")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--exclude", action="append", default=[], help="skip expected files whose name contains this")
    ap.add_argument("--db", type=Path, help="score sessions of this already imported database instead of importing")
    args = ap.parse_args(argv)
    ratios = tuple(args.ratio or (0.05, 0.10))
    t0 = time.perf_counter()
    results = evaluate(ratios, args.corpus, exclude=args.exclude, db_path=args.db)
    for r, scores in results.items():
        print(f"\n== target size {r:.0%} ==")
        print(f"{'session':34} {'tool':12} {'recall':>7} {'size':>7}")
        for s in scores:
            if s.skipped:
                print(f"{s.name:34} {s.tool:12} skipped: {s.skipped}")
                continue
            print(f"{s.name:34} {s.tool:12} {s.recall:7.2f} {s.size:7.3f}")
            if args.verbose:
                for m in s.misses:
                    print(f"    MISS {m}")
                for exp, got in s.hits:
                    print(f"    HIT  {exp[:70]}…\n         <- {got}")
        rec, size, mean = pooled(scores)
        print(f"{'OVERALL (pooled)':34} {'':12} {rec:7.2f} {size:7.3f}   (mean per-session size {mean:.3f})")
    mb = TIMING["readable"] / 1e6
    if TIMING["seconds"] > 0:
        print(f"\nextraction: {TIMING['seconds'] / mb * 1000:.0f} ms CPU per MB of readable text "
              f"({mb / TIMING['seconds']:.1f} MB/s; {mb:.2f} MB over {len(ratios)} runs)")
    print(f"({time.perf_counter() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    raise SystemExit(main())
