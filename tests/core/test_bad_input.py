"""Bad input loses nothing that is good.

A broken JSON line, a truncated last line, a binary file, a 50 MB single line, an unknown format,
an unreadable or missing path: each gets one warning line naming the file (and the line), and
the rest of that file and the other files still import. Exit codes: 0 when the run imported what
it could, 2 for unusable arguments, missing paths or a format that cannot be detected, 1
otherwise; never a traceback.

Most tests run the real command line in a subprocess (as a user would, import worker included);
the ones that need to inject a failure call memtui.cli.main in-process with the worker off.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_jsonl

TS = "2025-03-01T10:00:{:02d}.000Z"


def user(uuid: str, text, session: str = "s-good", n: int = 0, **extra) -> dict:
    record = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/project",
        "sessionId": session,
        "version": "2.0.24",
        "gitBranch": "main",
        "type": "user",
        "message": {"role": "user", "content": text},
        "uuid": uuid,
        "timestamp": TS.format(n % 60),
    }
    record.update(extra)
    return record


def assistant(uuid: str, text: str, session: str = "s-good", n: int = 0) -> dict:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/project",
        "sessionId": session,
        "type": "assistant",
        "message": {
            "id": f"msg_{uuid}",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": [{"type": "text", "text": text}],
        },
        "uuid": uuid,
        "timestamp": TS.format(n % 60),
    }


def session_file(path: Path, session: str, texts: list[str]) -> Path:
    """A small Claude Code transcript: alternating user / assistant lines with the given texts."""
    records = [
        (user if i % 2 == 0 else assistant)(f"{session}-{i}", t, session=session, n=i) for i, t in enumerate(texts)
    ]
    return write_jsonl(path, records)


def cli(db: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "memtui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("memtui: warning:")]


def stored(db: Path) -> list[tuple[str, str]]:
    """(session external id, text) of every stored message."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT s.external_id, m.text FROM message m JOIN session s ON s.id = m.session_id ORDER BY s.id, m.position"
        ).fetchall()
    finally:
        con.close()


def texts(db: Path) -> list[str]:
    return [t for _, t in stored(db)]


def assert_clean_run(proc: subprocess.CompletedProcess, code: int) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


GOOD = ["first good prompt", "first good answer", "second good prompt", "second good answer"]
OTHER = ["other file prompt", "other file answer"]


@pytest.fixture
def other(tmp_path) -> Path:
    return session_file(tmp_path / "other" / "s-other.jsonl", "s-other", OTHER)


# --- inside one file ------------------------------------------------------------------------


def test_broken_json_line_costs_that_line_only(tmp_path, db_path, other):
    path = session_file(tmp_path / "s-good.jsonl", "s-good", GOOD)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(2, '{"type": "user", "message": {"role": "user", "content": "never closed"\n')
    path.write_text("".join(lines))

    proc = cli(db_path, "import", str(path), str(other))

    assert_clean_run(proc, 0)
    assert warning_lines(proc.stderr) == [f"memtui: warning: {path}:3: not valid JSON, line skipped"]
    assert texts(db_path) == GOOD + OTHER


def test_records_of_unexpected_shape_cost_their_line_only(tmp_path, db_path, other):
    records = [
        user("u1", "good before"),
        user("u2", [{"type": "text", "text": 123}]),  # a number where text was expected
        user("u3", [{"type": "image", "source": "not an object"}]),
        {"type": "assistant", "uuid": "u4", "sessionId": "s-good", "message": {"model": 7, "content": [{"type": "thinking", "thinking": 5}]}},
        user("u5", "cwd is a list", cwd=["a", "b"]),
        ["not", "an", "object"],
        user("u6", "good after"),
    ]
    path = write_jsonl(tmp_path / "shapes.jsonl", records)

    proc = cli(db_path, "import", str(path), str(other))

    assert_clean_run(proc, 0)
    warnings = warning_lines(proc.stderr)
    assert [w.split(": ")[2] for w in warnings] == [f"{path}:{n}" for n in (2, 3, 4, 6)]
    assert all(w.startswith(f"memtui: warning: {path}:") for w in warnings)
    assert texts(db_path) == ["good before", "cwd is a list", "good after"] + OTHER


def test_invalid_utf8_and_unpaired_surrogates_keep_the_rest_of_the_line(tmp_path, db_path):
    good = json.dumps(user("u1", "plain line")).encode() + b"\n"
    bad_utf8 = json.dumps(user("u2", "caf\u00e9 XX ok")).encode().replace(b"XX", b"\xff\xfe") + b"\n"
    # a JavaScript writer cut a string inside an emoji: an unpaired surrogate escape
    surrogate = json.dumps(user("u3", "emoji cut \ud83d")).encode() + b"\n"
    path = tmp_path / "enc.jsonl"
    path.write_bytes(good + bad_utf8 + surrogate)

    proc = cli(db_path, "import", str(path))

    assert_clean_run(proc, 0)
    assert [w.split(": ")[2] for w in warning_lines(proc.stderr)] == [f"{path}:2", f"{path}:3"]
    assert texts(db_path) == ["plain line", "café \ufffd\ufffd ok", "emoji cut \ufffd"]


def test_truncated_last_line_is_imported_once_when_completed(tmp_path, db_path):
    path = session_file(tmp_path / "live.jsonl", "s-live", GOOD[:3])
    last = json.dumps(assistant("s-live-3", "the answer that was being written", session="s-live", n=3)) + "\n"
    with open(path, "a") as fh:
        fh.write(last[:70])  # the writer is mid-line

    proc = cli(db_path, "import", str(path))

    assert_clean_run(proc, 0)
    assert warning_lines(proc.stderr) == [f"memtui: warning: {path}:4: incomplete last line left for the next import"]
    assert texts(db_path) == GOOD[:3]

    with open(path, "a") as fh:
        fh.write(last[70:])  # the line is finished
    proc = cli(db_path, "import", str(path))

    assert_clean_run(proc, 0)
    assert warning_lines(proc.stderr) == []
    assert texts(db_path) == GOOD[:3] + ["the answer that was being written"]
    proc = cli(db_path, "import", str(path))  # and again: nothing changes
    assert_clean_run(proc, 0)
    assert texts(db_path) == GOOD[:3] + ["the answer that was being written"]


def test_a_50_mb_line_imports_truncated_and_the_database_stays_small(tmp_path, db_path):
    log_line = "2025-03-01 10:00:00 INFO worker[7]: processed batch 1234 in 12 ms, 0 errors\n"
    huge = log_line * (50_000_000 // len(log_line))
    huge += "export API_TOKEN=abc123secretvalue\nDone.\n"  # the tail is kept: and scrubbed
    records = [
        user("u1", "run the big job"),
        assistant("a1", "running it", n=1),
        user("u2", [{"type": "tool_result", "tool_use_id": "toolu_1", "content": huge}], n=2),
        assistant("a2", "it finished", n=3),
    ]
    path = write_jsonl(tmp_path / "huge.jsonl", records)
    assert path.stat().st_size > 50_000_000

    proc = cli(db_path, "import", str(path))

    assert_clean_run(proc, 0)
    assert warning_lines(proc.stderr) == []
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT kind, text, original_len FROM message ORDER BY position").fetchall()
    con.close()
    assert [r[0] for r in rows] == ["text", "text", "tool_result", "text"]
    _, text, original = rows[2]
    assert original == len(huge)
    assert len(text) < 9_000 and "characters cut" in text
    assert text.startswith(log_line) and text.endswith("export API_TOKEN=[REDACTED:token]\nDone.\n")
    size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))
    assert size < 5_000_000, f"database files take {size} bytes"


def test_a_line_over_the_limit_is_skipped_with_a_warning(tmp_path, db_path, monkeypatch, capsys):
    from memtui import cli as memtui_cli
    from memtui.core.importers import base

    monkeypatch.setenv("MEMTUI_IMPORT_WORKERS", "0")
    monkeypatch.setattr(base, "MAX_LINE_BYTES", 10_000)
    records = [user("u1", "before"), user("u2", "x" * 50_000, n=1), user("u3", "after", n=2)]
    path = write_jsonl(tmp_path / "long.jsonl", records)

    code = memtui_cli.main(["--db", str(db_path), "import", "--extractor", "none", str(path)])

    err = capsys.readouterr().err
    assert code == 0
    assert warning_lines(err) == [f"memtui: warning: {path}:2: line of 0 MB skipped (over 0 MiB)"]
    assert texts(db_path) == ["before", "after"]


def test_images_are_stored_as_a_note_of_their_size(tmp_path, db_path):
    import base64

    data = base64.b64encode(os.urandom(3_000_000)).decode()
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    records = [user("u1", [image, {"type": "text", "text": "what is on this screenshot?"}])]
    path = write_jsonl(tmp_path / "img.jsonl", records)

    proc = cli(db_path, "import", str(path))

    assert_clean_run(proc, 0)
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT text, original_len FROM message ORDER BY position").fetchall()
    con.close()
    assert rows[0] == ("[image image/png, 2.9 MB]", len(data))
    assert rows[1] == ("what is on this screenshot?", None)
    assert sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) < 2_000_000


# --- whole files ----------------------------------------------------------------------------


def test_binary_file_named_explicitly(tmp_path, db_path, other):
    binary = tmp_path / "dump.jsonl"
    binary.write_bytes(bytes(range(256)) * 200)

    proc = cli(db_path, "import", str(binary), str(other))

    assert_clean_run(proc, 2)
    assert warning_lines(proc.stderr) == [f"memtui: warning: {binary}: binary file, not a transcript"]
    assert texts(db_path) == OTHER
    proc = cli(db_path, "import", "--format", "claude-code", str(binary))  # forcing a format does not help
    assert_clean_run(proc, 2)
    assert warning_lines(proc.stderr) == [f"memtui: warning: {binary}: binary file, not a transcript"]


@pytest.mark.parametrize(
    "name, content",
    [
        ("package.json", '{"name": "x", "version": "1.0.0"}'),
        ("README.md", "# A project\n\nNothing to see.\n"),
        ("notes.txt", "just some notes\n"),
        ("events.jsonl", '{"level": "info", "msg": "started"}\n'),
    ],
)
def test_unknown_format_named_explicitly(tmp_path, db_path, other, name, content):
    junk = tmp_path / name
    junk.write_text(content)

    proc = cli(db_path, "import", str(junk), str(other))

    assert_clean_run(proc, 2)
    assert warning_lines(proc.stderr) == [
        f"memtui: warning: {junk}: unknown transcript format (use --format to force one)"
    ]
    assert texts(db_path) == OTHER


def test_missing_path(tmp_path, db_path, other):
    missing = tmp_path / "nowhere" / "gone.jsonl"

    proc = cli(db_path, "import", str(missing), str(other))

    assert_clean_run(proc, 2)
    assert warning_lines(proc.stderr) == [f"memtui: warning: {missing}: no such file or directory"]
    assert texts(db_path) == OTHER


def test_a_folder_without_transcripts_says_so(tmp_path, db_path, other):
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("not a transcript")
    note = "memtui: no transcript files found there (memtui reads .jsonl, .json and .md files)"

    proc = cli(db_path, "import", str(empty), str(notes))
    assert_clean_run(proc, 0)
    assert note in proc.stderr.splitlines() and "imported 0 file(s)" in proc.stdout
    # a folder with transcripts, new or already imported, does not get the note
    for _ in range(2):
        proc = cli(db_path, "import", str(empty), str(other))
        assert_clean_run(proc, 0)
        assert note not in proc.stderr
    assert texts(db_path) == OTHER


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_unreadable_file_for_real(tmp_path, db_path, other):
    locked = session_file(tmp_path / "locked.jsonl", "s-locked", GOOD)
    locked.chmod(0)
    try:
        proc = cli(db_path, "import", str(locked), str(other))
        assert_clean_run(proc, 2)
        assert warning_lines(proc.stderr) == [f"memtui: warning: {locked}: cannot read (Permission denied)"]
        assert texts(db_path) == OTHER
    finally:
        locked.chmod(0o644)


def _deny(monkeypatch, denied: Path) -> None:
    """Make `denied` unreadable for the importer, as chmod 000 would for a normal user (the
    tests may run as root, who reads anything)."""
    from memtui.core.importers import pipeline

    real = pipeline.read_head

    def read_head(path):
        if Path(path) == denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setenv("MEMTUI_IMPORT_WORKERS", "0")
    monkeypatch.setattr(pipeline, "read_head", read_head)


def test_unreadable_file_named_explicitly(tmp_path, db_path, other, monkeypatch, capsys):
    from memtui import cli as memtui_cli

    locked = session_file(tmp_path / "locked.jsonl", "s-locked", GOOD)
    _deny(monkeypatch, locked)

    code = memtui_cli.main(["--db", str(db_path), "import", "--extractor", "none", str(locked), str(other)])

    err = capsys.readouterr().err
    assert code == 2
    assert warning_lines(err) == [f"memtui: warning: {locked}: cannot read (Permission denied)"]
    assert texts(db_path) == OTHER


def test_unreadable_file_inside_a_folder(tmp_path, db_path, monkeypatch, capsys):
    from memtui import cli as memtui_cli

    root = tmp_path / "projects"
    session_file(root / "a" / "s-a.jsonl", "s-a", ["a prompt", "a answer"])
    locked = session_file(root / "b" / "s-b.jsonl", "s-b", ["b prompt", "b answer"])
    session_file(root / "c" / "s-c.jsonl", "s-c", ["c prompt", "c answer"])
    _deny(monkeypatch, locked)

    code = memtui_cli.main(["--db", str(db_path), "import", "--extractor", "none", str(root)])

    err = capsys.readouterr().err
    assert code == 0  # the folder named was usable: what could be imported was
    assert warning_lines(err) == [f"memtui: warning: {locked}: cannot read (Permission denied)"]
    assert texts(db_path) == ["a prompt", "a answer", "c prompt", "c answer"]


def test_a_failing_file_does_not_stop_the_others(tmp_path, db_path, monkeypatch, capsys):
    """A bug in a parser (any exception) costs its file only: one line, exit code 1."""
    from memtui import cli as memtui_cli
    from memtui.core.importers.claude import ClaudeCodeParser

    root = tmp_path / "projects"
    session_file(root / "a" / "s-a.jsonl", "s-a", ["a prompt", "a answer"])
    bad = session_file(root / "b" / "s-b.jsonl", "s-b", ["b prompt", "b answer"])
    session_file(root / "c" / "s-c.jsonl", "s-c", ["c prompt", "c answer"])
    real = ClaudeCodeParser.parse_rows  # (what the importer reads a parser's items with)

    def parse_rows(self, ctx):
        for n, item in enumerate(real(self, ctx)):
            if ctx.path == bad and n == 2:
                raise RuntimeError("parser bug\nwith a second line")
            yield item

    monkeypatch.setenv("MEMTUI_IMPORT_WORKERS", "0")
    monkeypatch.setattr(ClaudeCodeParser, "parse_rows", parse_rows)

    code = memtui_cli.main(["--db", str(db_path), "import", "--extractor", "none", str(root)])

    out, err = capsys.readouterr()
    assert code == 1
    assert warning_lines(err) == [f"memtui: warning: {bad}: import failed, file skipped (with a second line)"]
    assert "Traceback" not in err
    assert texts(db_path) == ["a prompt", "a answer", "c prompt", "c answer"]  # b rolled back whole


def test_folder_with_junk_imports_the_transcripts_silently(tmp_path, db_path):
    root = tmp_path / "projects"
    session_file(root / "-home-dev-a" / "s-a.jsonl", "s-a", ["a prompt", "a answer"])
    session_file(root / "-home-dev-b" / "s-b.jsonl", "s-b", ["b prompt", "b answer"])
    (root / "-home-dev-a" / "settings.json").write_text('{"theme": "dark"}')
    (root / "-home-dev-a" / "NOTES.md").write_text("# notes\n")
    (root / "-home-dev-b" / "broken.json").write_text("{not json at all")
    (root / "-home-dev-b" / "other-tool.jsonl").write_text('{"event": "start"}\n')
    (root / "-home-dev-b" / "core.jsonl").write_bytes(b"\x00\x01\x02" * 1000)
    (root / "-home-dev-b" / "empty.jsonl").write_text("")
    (root / "-home-dev-b" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)

    proc = cli(db_path, "import", str(root))

    assert_clean_run(proc, 0)
    assert warning_lines(proc.stderr) == []
    assert texts(db_path) == ["a prompt", "a answer", "b prompt", "b answer"]
    # ... and the summary counts what it passed over (.json, .jsonl and .md files that are not
    # transcripts: settings, notes, broken, another tool's log, a binary; not the .png)
    assert "; 5 other file(s) skipped: not a transcript of a known format (--format forces one)" in proc.stdout

    # The same junk named explicitly is reported, one line each, and the exit code says so.
    junk = [root / "-home-dev-a" / "settings.json", root / "-home-dev-b" / "broken.json", root / "-home-dev-b" / "core.jsonl"]
    proc = cli(db_path, "import", *map(str, junk))
    assert_clean_run(proc, 2)
    warnings = warning_lines(proc.stderr)
    assert len(warnings) == 3
    assert [w.split(": ")[2] for w in warnings] == [str(p) for p in junk]


def test_control_characters_in_a_file_name_do_not_reach_the_terminal(tmp_path, db_path):
    evil = tmp_path / "evil\x1b]0;pwned\x07\nname.jsonl"
    evil.write_text('{"parentUuid": null, "type": "user"\n{not json\n')

    proc = cli(db_path, "import", str(evil))

    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert len(warning_lines(proc.stderr)) == len(proc.stderr.splitlines()) == 2
    assert all("evil\\x1b]0;pwned\\x07\\nname.jsonl" in w for w in warning_lines(proc.stderr))


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, says",
    [
        (["import", "--format", "nope", "x.jsonl"], "invalid choice: 'nope'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["import", "--no-such-flag", "x.jsonl"], "unrecognized arguments: --no-such-flag"),
        (["import"], "nothing to import"),
    ],
)
def test_wrong_arguments_are_one_line_and_exit_2(db_path, args, says):
    proc = cli(db_path, *args)

    assert_clean_run(proc, 2)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("memtui: error: ") and says in lines[0]
    assert proc.stdout == ""


def test_db_pointing_at_a_directory(tmp_path, other):
    folder = tmp_path / "a-folder"
    folder.mkdir()

    proc = cli(folder, "import", str(other))

    assert_clean_run(proc, 2)
    assert proc.stderr.splitlines() == [f"memtui: error: {folder} is a directory, not a database file"]
    assert list(folder.iterdir()) == []


def test_db_pointing_at_a_file_that_is_not_a_database(tmp_path, other):
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\n\nthese must not be touched\n" * 50)
    before = notes.read_bytes()

    proc = cli(notes, "import", str(other))

    assert_clean_run(proc, 2)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"memtui: error: cannot open database {notes}")
    assert "not a database" in lines[0]
    assert notes.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md", "other"]


def test_db_inside_a_file(tmp_path, other):
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")

    proc = cli(blocker / "memtui.db", "import", str(other))

    assert_clean_run(proc, 2)
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("memtui: error: cannot create")
