"""The importing process's own shortcuts (importers/pipeline.py: Importer): they change how
much work it does, never what it stores."""

from __future__ import annotations

import gc

from memtui.core.db import open_database
from memtui.core.importers.pipeline import Importer


def test_the_collector_is_off_during_an_import_and_restored_after(tmp_path, corpus):
    seen = []
    db = open_database(tmp_path / "a.db")
    try:
        assert gc.isenabled()
        Importer(db, workers=0, on_file=lambda path, fmt: seen.append(gc.isenabled())).import_paths([corpus])
        assert seen and not any(seen)
        assert gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        try:
            Importer(db, workers=0).import_paths([corpus])
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        db.close()


def test_paths_are_stored_resolved_through_symlinked_folders_and_files(tmp_path, corpus, monkeypatch):
    """Importer._resolve (each folder resolved once, a file's lstat taken for its stat) gives
    what Path.resolve() gives: for a folder reached through a symlink, a file that is a symlink
    (into another folder), a relative path and one with '..' after a symlinked folder."""
    files = sorted((corpus / "claude-code").glob("*.jsonl"))[:3]
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    for i, f in enumerate(files):
        (real / ("sub" if i else "") / f.name).write_bytes(f.read_bytes())
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "via").symlink_to(real / "sub", target_is_directory=True)  # a symlinked folder
    (tree / "link.jsonl").symlink_to(real / files[0].name)  # a symlinked file
    (tree / "dangling.jsonl").symlink_to(tmp_path / "missing.jsonl")  # (not a file: the walk passes it)
    (tree / "plain.jsonl").write_bytes(files[0].read_bytes())
    monkeypatch.chdir(tmp_path)
    warnings: list[str] = []
    named = [tree, real, "tree/plain.jsonl", tree / "via" / ".." / "sub" / files[2].name, tree / "via" / files[1].name]
    db = open_database(tmp_path / "a.db")
    try:
        report = Importer(db, workers=0, on_warning=warnings.append).import_paths(named)
        stored = {r[0] for r in db.execute_sql("SELECT path FROM source").fetchall()}
    finally:
        db.close()
    expected = {
        str((real / files[0].name).resolve()),
        str((real / "sub" / files[1].name).resolve()),
        str((real / "sub" / files[2].name).resolve()),
        str((tree / "plain.jsonl").resolve()),
    }
    assert stored == expected
    assert warnings == [] and not report.bad_paths
    assert report.files_imported == 4 and report.files_unchanged == 4  # (seen again under other names)


# --- plain INSERTs for rows that cannot meet the upsert's conflict (_Writer.fresh_ids) -----------

KEY_A = "sk-ant-api03-" + "a" * 90  # two session keys that clean() makes one external id
KEY_B = "sk-ant-api03-" + "b" * 90


def _msg(key, ext, text="x"):
    # (session_key, role, kind, tool_name, text, timestamp, external_id, group_id, is_error, original_len col, original)
    return (key, "user", "text", None, f"{text} {ext}", 1.0, ext, None, 0, None, 10)


def _files():
    """Items of three files, as the writer gets them one by one and as runs."""
    from memtui.core.importers.base import Rewind, SessionInfo

    first = [
        SessionInfo(key="s", tool="claude-code"),
        *[_msg("s", f"s{i}") for i in range(5)],
        _msg("s", "s2", "changed"),  # the same id again: the upsert updates s2
        _msg("s", "s5"),
        _msg("s", "s1"),  # again, same text: nothing changes
        _msg("n", 1), _msg("n", "1"), _msg("n", 2.0), _msg("n", "2.0"),  # ids that are not strings
        _msg("r", "r0"), _msg("r", "r1"), _msg("r", "r2"),
        Rewind("r", "r1"),
        _msg("r", "r1", "again"), _msg("r", "r2", "again"), _msg("r", "r3"),
        _msg(KEY_A, "k0"), _msg(KEY_A, "k1"), _msg(KEY_B, "k1", "other"), _msg(KEY_B, "k2"),
    ]
    second = [_msg("s", "s4", "changed"), _msg("s", "s6"), _msg("t", "t0"), _msg("t", "t0", "changed")]
    third = [_msg("u", f"u{i}") for i in range(3)] + [_msg("u", "u1", "changed")] + [_msg("u", f"u{i}") for i in range(3, 6)]
    return [first, second, third]


def _as_runs(items):
    from memtui.core.importers.pipeline import MessageRun

    out, run = [], []
    for item in items:
        if type(item) is tuple and (not run or run[0][0] == item[0]):
            run.append(item)
            continue
        if run:
            out.append(MessageRun.of(run))
            run = []
        if type(item) is tuple:
            run.append(item)
        else:
            out.append(item)
    if run:
        out.append(MessageRun.of(run))
    return out


def _store(tmp_path, name, as_runs):
    from memtui.core.importers.pipeline import _Writer

    db = open_database(tmp_path / name)
    importer = Importer(db, workers=0)
    for items in _files():
        with db.atomic():
            writer = _Writer(importer, "claude-code", "claude-code", fresh=True)
            writer.consume(_as_runs(items) if as_runs else items)
            writer.finish()
    out = (
        db.execute_sql("SELECT id, session_id, position, text, external_id FROM message ORDER BY id").fetchall(),
        db.execute_sql("SELECT id, external_id, message_count FROM session ORDER BY id").fetchall(),
    )
    db.close()
    return out


def test_plain_inserts_store_what_upserts_store(tmp_path, monkeypatch):
    """Duplicate external ids in a file (one by one, within a run, across runs), ids that are not
    strings (1 and '1' are one id in the database), a rewind, a session of an earlier file, two
    session keys that clean() makes one: the same rows and ids as with every row upserted."""
    import memtui.core.importers.pipeline as pipeline

    got = [_store(tmp_path, f"{name}.db", as_runs) for name, as_runs in (("single", False), ("runs", True))]
    monkeypatch.setattr(pipeline, "_INSERT", pipeline._UPSERT)
    want = [_store(tmp_path, f"{name}-upsert.db", as_runs) for name, as_runs in (("single", False), ("runs", True))]
    assert got == want
    messages = want[0][0]
    assert len(messages) == 23 and {m[3] for m in messages if m[4] == "s2"} == {"changed s2"}


def test_plain_inserts_import_the_corpus_as_upserts_do(tmp_path, corpus, monkeypatch):
    """The whole corpus, then again with a file grown, another one rewritten and a copy of a
    session in a second file (its rows meet the first file's): plain INSERTs where they are
    safe store what upserts alone store, in-process and with a worker."""
    import shutil

    import memtui.core.importers.pipeline as pipeline
    import memtui.core.importers.prefetch as prefetch

    monkeypatch.setattr(prefetch, "START_AFTER", 0)
    monkeypatch.setattr(prefetch, "WAIT_FOR_START", 0)

    def run(name, workers):
        tree = tmp_path / "tree"  # (one path for all: paths are stored)
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(corpus, tree)
        files = sorted((tree / "claude-code").glob("*.jsonl"), key=lambda p: p.stat().st_size)
        lines = files[-1].read_bytes().splitlines(True)
        files[-1].write_bytes(b"".join(lines[: len(lines) // 2]))
        db = open_database(tmp_path / f"{name}.db")
        try:
            Importer(db, workers=workers).import_paths([tree])
            files[-1].write_bytes(b"".join(lines))  # grown: read from where the first run stopped
            (tree / "claude-code" / "copy.jsonl").write_bytes(b"".join(lines[: len(lines) * 3 // 4]))
            (tree / "claude-code" / "dup.jsonl").write_bytes(b"".join(lines[:10] + lines[5:20]))
            Importer(db, workers=workers).import_paths([tree])
            return [
                db.execute_sql(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in ("message", "session")
            ]
        finally:
            db.close()

    plain = [run("plain0", 0), run("plain1", 1)]
    monkeypatch.setattr(pipeline, "_INSERT", pipeline._UPSERT)
    upsert = [run("upsert0", 0), run("upsert1", 1)]
    assert plain[0] == upsert[0]
    assert plain[1] == upsert[1]
