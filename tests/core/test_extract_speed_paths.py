"""The fast paths of `memtui import` with the heuristic extractor give what the plain path gives.

Fast: the import workers extract each new session ahead, over the messages as they are about to be
stored (message positions standing for ids), and propose_sessions stores those proposals (quotes
from memory, several sessions per commit). Plain: import in-process, then extract every touched
session from the database. The memories, their evidence (message ids and quotes) and the journal
must be the same, row for row, on the real corpus and on the demo sessions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from memtui.core import propose
from memtui.core.db import open_database
from memtui.core.extract import Proposal, ReadyProposals
from memtui.core.importers import prefetch
from memtui.core.importers.pipeline import Importer
from memtui.core.proposals import prepare_proposals


def _dump(db) -> dict:
    """Everything propose_sessions writes, without the clock."""
    conn = db.connection()

    def state(js):
        if js is None:
            return None
        d = json.loads(js)
        for k in ("created_at", "updated_at", "last_seen_at"):
            d.pop(k, None)
        return d

    return {
        "memory": conn.execute(
            "SELECT id, tier, kind, text, status, confidence, project_id, session_id, extractor, fingerprint,"
            " supersedes_id FROM memory ORDER BY id"
        ).fetchall(),
        "evidence": conn.execute("SELECT memory_id, message_id, quote FROM evidence ORDER BY memory_id, message_id").fetchall(),
        "event": [
            (b, m, a, state(before), state(after))
            for b, m, a, before, after in conn.execute("SELECT batch, memory, action, before, after FROM event ORDER BY id")
        ],
        "extracted": conn.execute("SELECT id FROM session WHERE extracted_at IS NOT NULL ORDER BY id").fetchall(),
    }


def _run(db_path: Path, paths, *, fast: bool, workers: int) -> tuple[dict, object]:
    db = open_database(db_path)
    try:
        if fast:
            report = Importer(db, workers=workers, extractor="heuristic").import_paths(paths)
            ready = report.extracted
        else:
            report = Importer(db, workers=workers).import_paths(paths)
            ready = None
        propose.propose_sessions(
            db, sorted(report.touched_sessions), propose.get_extractor("heuristic"), "heuristic", ready=ready
        )
        return _dump(db), report
    finally:
        db.close()


def test_workers_extracting_ahead_store_what_the_plain_path_stores_on_the_corpus(tmp_path, corpus, eager_workers):
    plain, _ = _run(tmp_path / "plain.db", [corpus], fast=False, workers=0)
    fast, report = _run(tmp_path / "fast.db", [corpus], fast=True, workers=2)
    assert plain["memory"], "the corpus gives proposals"
    # nearly every session was extracted ahead by a worker (not by the fallback)
    assert len(report.extracted) >= 0.8 * len(report.touched_sessions)
    assert fast == plain


def test_workers_extracting_ahead_store_what_the_plain_path_stores_on_the_demo(tmp_path, eager_workers):
    from memtui.demo import sample_paths

    # their folders, copied (the workers take the files of folders; named files are read in-process)
    folder = tmp_path / "demo"
    for f in sample_paths():
        (folder / f.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(f, folder / f.parent.name / f.name)
    paths = [folder]
    plain, _ = _run(tmp_path / "plain.db", paths, fast=False, workers=0)
    fast, report = _run(tmp_path / "fast.db", paths, fast=True, workers=1)
    assert plain["memory"] and report.extracted
    assert fast == plain


def test_without_workers_everything_is_in_process_and_the_same(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("MEMTUI_IMPORT_WORKERS", "0")
    assert prefetch.worker_count(True) == 0 and prefetch.worker_count() == 0
    db = open_database(tmp_path / "env.db")
    importer = Importer(db, extractor="heuristic")
    assert importer.workers == 0
    db.close()
    tree = corpus / "codex"
    plain, _ = _run(tmp_path / "plain.db", [tree], fast=False, workers=0)
    fast, report = _run(tmp_path / "fast.db", [tree], fast=True, workers=0)
    assert report.extracted == {}
    assert fast == plain


def test_worker_count_with_extraction(monkeypatch):
    monkeypatch.delenv("MEMTUI_IMPORT_WORKERS", raising=False)
    monkeypatch.setattr(prefetch.os, "cpu_count", lambda: 8)
    assert prefetch.worker_count() == 1 and prefetch.worker_count(True) == 2
    monkeypatch.setenv("MEMTUI_IMPORT_WORKERS", "1")
    assert prefetch.worker_count(True) == 1
    monkeypatch.setattr(prefetch.os, "cpu_count", lambda: 1)
    monkeypatch.delenv("MEMTUI_IMPORT_WORKERS")
    assert prefetch.worker_count(True) == 0


def _claude_line(session: str, uuid: str, parent: str | None, role: str, text: str, cwd: str = "/home/dev/shop") -> str:
    content = text if role == "user" else [{"type": "text", "text": text}]
    return json.dumps({
        "type": role, "sessionId": session, "uuid": uuid, "parentUuid": parent, "cwd": cwd,
        "timestamp": "2025-05-01T10:00:00Z", "message": {"role": role, "content": content},
    }) + "\n"


def _session_lines(session: str, prefix: str, n: int) -> list[str]:
    lines, parent = [], None
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        text = (
            f"Please always use pnpm, never npm, in this repository ({prefix} {i})." if role == "user"
            else f"I switched the build to pnpm and fixed `build.ts` for {prefix} step {i} because npm broke the lockfile."
        )
        uid = f"{prefix}-{i:04d}"
        lines.append(_claude_line(session, uid, parent, role, text))
        parent = uid
    return lines


def test_an_appended_session_is_extracted_whole_in_process(tmp_path, eager_workers):
    """A file that grew is read from where the last import stopped: the worker has only the new
    part, so that session is extracted from the database, over all of its messages."""
    tree = tmp_path / "tree"
    (tree / "p").mkdir(parents=True)
    lines = _session_lines("s-grow", "g", 12)
    dumps = {}
    for fast in (False, True):
        f = tree / "p" / "s-grow.jsonl"
        f.write_text("".join(lines[:6]))
        db_path = tmp_path / f"grow-{fast}.db"
        _run(db_path, [tree], fast=fast, workers=1 if fast else 0)
        with f.open("a") as fh:
            fh.write("".join(lines[6:]))
        dumps[fast], report = _run(db_path, [tree], fast=fast, workers=1 if fast else 0)
        assert report.bytes_read > 0 and report.touched_sessions
        if fast:
            assert report.extracted == {}  # not new: extracted in-process
    assert dumps[True] == dumps[False]
    assert dumps[True]["memory"]


def test_a_session_written_by_two_files_of_one_run_is_extracted_in_process(tmp_path, eager_workers):
    tree = tmp_path / "tree"
    (tree / "p").mkdir(parents=True)
    lines = _session_lines("s-split", "t", 10)
    (tree / "p" / "a.jsonl").write_text("".join(lines[:5]))
    (tree / "p" / "b.jsonl").write_text("".join(lines[5:]))
    (tree / "p" / "c.jsonl").write_text("".join(_session_lines("s-alone", "c", 8)))
    plain, _ = _run(tmp_path / "plain.db", [tree], fast=False, workers=0)
    fast, report = _run(tmp_path / "fast.db", [tree], fast=True, workers=1)
    db = open_database(tmp_path / "fast.db")
    ids = dict(db.execute_sql("SELECT external_id, id FROM session").fetchall())
    db.close()
    assert ids["s-split"] not in report.extracted
    assert ids["s-alone"] in report.extracted
    assert fast == plain


def test_ready_proposals_are_used_only_when_the_session_is_what_the_worker_assumed(tmp_path, corpus):
    """propose_sessions takes a worker's proposals only for the same extractor and session fields;
    otherwise it extracts the session itself (here: bogus proposals would show if used)."""
    tree = corpus / "codex"
    plain, _ = _run(tmp_path / "plain.db", [tree], fast=False, workers=0)
    shutil.copy(tmp_path / "plain.db", tmp_path / "copy.db")
    db = open_database(tmp_path / "fresh.db")
    report = Importer(db, workers=0).import_paths([tree])
    bogus = prepare_proposals([Proposal("Bogus proposal that must not be stored", "fact", "project", 0.5, ())])
    ready = {}
    for sid in report.touched_sessions:
        ready[sid] = ReadyProposals("heuristic", ("other-tool", None, None), bogus)
    propose.propose_sessions(db, sorted(report.touched_sessions), propose.get_extractor("heuristic"), "heuristic", ready=ready)
    assert _dump(db) == plain
    db.close()


def test_quotes_from_the_session_messages_equal_quotes_read_back(db):
    """propose_session's evidence quotes: from `texts` when given, else read from the database."""
    from memtui.core import proposals as stored
    from memtui.core.importers.pipeline import Importer as Imp

    root = Path(__file__).resolve().parents[2] / "memtui" / "demo"
    report = Imp(db, workers=0).import_paths([root])
    sid = min(report.touched_sessions)
    rows = db.execute_sql("SELECT id, text FROM message WHERE session_id = ? ORDER BY position", (sid,)).fetchall()
    ids = tuple(r[0] for r in rows[:3])
    prop_a = Proposal("Use pnpm in this repository, never npm", "convention", "project", 0.7, ids, ())
    prop_b = Proposal("The API listens on port 8080 behind the proxy", "fact", "project", 0.6, ids, ("", "own quote", ""))
    with_db = stored._quotes(db, prop_a) + stored._quotes(db, prop_b)
    texts = {mid: text for mid, text in rows}
    with_texts = stored._quotes(db, prop_a, texts) + stored._quotes(db, prop_b, texts)
    assert with_texts == with_db
    assert with_db[4] == (ids[1], "own quote")


def _row(key: str, ext: str | None, text: str, role: str = "user") -> tuple:
    """A prepared message (pipeline._prepare_message's tuple)."""
    return (key, role, "text", None, text, 1.0, ext, None, 0, None, len(text))


def test_ahead_sessions_leave_out_what_the_writer_would_not_store_as_it_comes():
    """A rewind or an external id seen twice (an upsert) makes a session's stored messages differ
    from the rows in order: such sessions are not extracted ahead."""
    from memtui.core.importers.base import Rewind, SessionInfo
    from memtui.core.importers.pipeline import AheadSessions

    ahead = AheadSessions("claude-code", "heuristic")
    ahead.add(SessionInfo(key="plain", tool="claude-code", cwd="/home/dev/shop"))
    ahead.add(SessionInfo(key="dup", tool="claude-code", cwd="/home/dev/shop"))
    ahead.add(SessionInfo(key="rewound", tool="claude-code", cwd="/home/dev/shop"))
    for i in range(4):
        ahead.add(_row("plain", f"p{i}", f"Please always use pnpm, never npm, in the shop repository ({i})."))
        ahead.add(_row("dup", "same" if i in (1, 3) else f"d{i}", f"Always run the tests with pytest -q before committing ({i})."))
        ahead.add(_row("rewound", f"r{i}", f"Never push to main without a review ({i})."))
    ahead.add(Rewind(session_key="rewound", external_id="r1"))
    results = ahead.results()
    assert set(results) == {"plain"}
    fields, count, _digest, prepared = results["plain"]
    assert fields == ("claude-code", "/home/dev/shop", "/home/dev/shop") and count == 4
    # message ids are positions + 1
    assert all(1 <= i <= 4 for pp in prepared for i in pp.proposal.message_ids)


def test_repeated_lines_in_a_transcript_give_the_same_proposals(tmp_path, eager_workers):
    tree = tmp_path / "tree"
    (tree / "p").mkdir(parents=True)
    lines = _session_lines("s-rep", "r", 10)
    (tree / "p" / "s-rep.jsonl").write_text("".join(lines[:6] + lines[2:4] + lines[6:]))
    (tree / "p" / "s-other.jsonl").write_text("".join(_session_lines("s-other", "o", 6)))
    plain, _ = _run(tmp_path / "plain.db", [tree], fast=False, workers=0)
    fast, report = _run(tmp_path / "fast.db", [tree], fast=True, workers=1)
    assert plain["memory"] and report.extracted
    assert fast == plain


def test_the_heuristic_extractor_reads_only_the_session_fields_the_workers_fill(tmp_path, corpus):
    """The workers give the extractor a stand-in session with only HEURISTIC_SESSION_FIELDS filled
    (and propose_sessions checks those): every other field must leave the proposals unchanged."""
    from dataclasses import fields, replace

    from memtui.core import store
    from memtui.core.extract import HEURISTIC_SESSION_FIELDS
    from memtui.core.extract.heuristic import extract

    db = open_database(tmp_path / "fields.db")
    report = Importer(db, workers=0).import_paths([corpus])
    checked = 0
    for sid in sorted(report.touched_sessions):
        session = store.get_session(db, sid)
        messages = store.session_messages(db, sid)
        if not messages:
            continue
        blank = {f.name: None for f in fields(session) if f.name not in HEURISTIC_SESSION_FIELDS}
        blank.update(id=0, external_id="", message_count=0, raw_size=0, review_state="new", pending=0)
        assert extract(replace(session, **blank), messages) == extract(session, messages)
        checked += 1
    db.close()
    assert checked >= 20


def test_memtui_import_with_and_without_workers_stores_the_same(tmp_path, corpus, eager_workers, monkeypatch, capsys):
    from memtui.cli import main

    seen = {}
    real = propose.propose_sessions

    def spy(db, ids, extractor, name, on_session=None, ready=None):
        seen["ready"] = len(ready or {})
        return real(db, ids, extractor, name, on_session, ready)

    monkeypatch.setattr(propose, "propose_sessions", spy)
    dumps, ready = {}, {}
    for workers in ("0", "2"):
        monkeypatch.setenv("MEMTUI_IMPORT_WORKERS", workers)
        db_path = tmp_path / f"cli-{workers}.db"
        assert main(["--db", str(db_path), "import", str(corpus / "claude-code"), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["proposals"]["created"] > 0
        db = open_database(db_path)
        dumps[workers] = _dump(db)
        db.close()
        ready[workers] = seen["ready"]
    assert ready["0"] == 0 and ready["2"] > 0  # the workers extracted ahead
    assert dumps["2"] == dumps["0"]
