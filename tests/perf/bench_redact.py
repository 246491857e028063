"""Redaction speed: what clean() costs per stored text, and clean_document() on a whole export.

    .venv/bin/python tests/perf/bench_redact.py

Reads every file of ../shared/corpus (the real transcripts) as text, cuts it into 2,000-character
chunks (about what one stored message is), and times clean() over them, best of three; the same for
repetitive prose (the common case of assistant text), and clean_document() over the whole corpus as one
document. Last line: one JSON object with corpus_mb_per_s, prose_mb_per_s, document_mb_per_s, mb.
The import budget is 50 MB/s for everything, so clean() should stay several times above it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from memtui.core.redact import clean, clean_document

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def mb_per_s(fn, texts: list[str]) -> float:
    size = sum(len(t) for t in texts)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - started)
    return round(size / 1e6 / best, 1)


def main() -> int:
    if not CORPUS.is_dir():
        print(f"bench_redact: no corpus at {CORPUS}", file=sys.stderr)
        return 2
    text = "".join(p.read_text(errors="replace") for p in sorted(CORPUS.rglob("*")) if p.is_file())
    chunks = [text[i : i + 2000] for i in range(0, len(text), 2000)]
    prose = ("the importer reads each transcript once and keeps what matters for later " * 40 + "\n") * 20
    figures = {
        "corpus_mb_per_s": mb_per_s(clean, chunks),
        "prose_mb_per_s": mb_per_s(clean, [prose] * 50),
        "document_mb_per_s": mb_per_s(clean_document, [text]),
        "mb": round(len(text) / 1e6, 1),
    }
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
