"""The curate commands: forget (rules, dry run, confirmation), restore, purge, search; exit codes."""

from __future__ import annotations

import io
import json
import time

import pytest

from memtui.cli import main
from memtui.core import memories as mem
from memtui.core.db import open_database
from tests.helpers import rows


@pytest.fixture
def store(db_path):
    db = open_database(db_path)
    now = time.time()
    ids = []
    for text, tier, age in (("Old API decision", "project", 200), ("Recent fact", "project", 1),
                            ("Session todo", "session", 40), ("Pinned old rule", "project", 300)):
        mid = mem.add(db, text, tier=tier, project="/work/shop", pinned=text.startswith("Pinned"))
        db.execute_sql("UPDATE memory SET created_at = ?, last_seen_at = ? WHERE id = ?",
                       (now - age * 86400, now - age * 86400, mid))
        ids.append(mid)
    db.close()
    return ids


def run(db_path, capsys, *argv):
    code = main(["--db", str(db_path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def live(db_path):
    db = open_database(db_path)
    try:
        return {r[0] for r in rows(db, "SELECT id FROM memory WHERE forgotten_at IS NULL")}
    finally:
        db.close()


def test_forget_dry_run_then_yes(db_path, capsys, store):
    code, out, err = run(db_path, capsys, "forget", "--older-than", "90d", "--dry-run", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert (data["dry_run"], data["count"], data["ids"]) == (True, 1, [store[0]])
    assert live(db_path) == set(store)
    code, out, _ = run(db_path, capsys, "forget", "--older-than", "90d", "--session-older-than", "30d", "--yes", "--json")
    assert code == 0 and json.loads(out)["forgotten"] == 2
    assert live(db_path) == {store[1], store[3]}  # the pinned one stays
    code, out, _ = run(db_path, capsys, "undo")
    assert code == 0 and live(db_path) == set(store)


def test_forget_include_pinned_and_scope(db_path, capsys, store):
    code, _, _ = run(db_path, capsys, "forget", "--older-than", "100", "--include-pinned", "--yes")
    assert code == 0 and live(db_path) == {store[1], store[2]}
    code, _, _ = run(db_path, capsys, "forget", "--tier", "session", "--yes")
    assert code == 0 and live(db_path) == {store[1]}


def test_forget_without_yes_and_without_a_terminal_refuses(db_path, capsys, store, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run(db_path, capsys, "forget", "--older-than", "90d")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--yes" in err
    assert live(db_path) == set(store)


def test_forget_asks_on_a_terminal(db_path, capsys, store, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Tty("n\n"))
    assert run(db_path, capsys, "forget", "--older-than", "90d")[0] == 0
    assert live(db_path) == set(store)
    monkeypatch.setattr("sys.stdin", Tty("y\n"))
    code, out, err = run(db_path, capsys, "forget", "--older-than", "90d")
    assert code == 0 and "Forget 1" in err and "forgot 1" in out
    assert live(db_path) == set(store) - {store[0]}


@pytest.mark.parametrize("argv", [
    ["forget", "--older-than", "banana"],
    ["forget", "--unseen-for", "-3d"],
    ["forget", "--below-confidence", "high"],
    ["forget", "--tier", "global", "--yes"],
    ["forget", "--yes"],  # no rule: would forget everything
    ["restore"],
    ["restore", "1", "--all"],
    ["restore", "abc"],
    ["restore", "999"],
    ["purge", "1", "--yes"],  # not in the trash
    ["search", "x", "--limit", "0"],
])
def test_bad_arguments_are_one_line_and_exit_2(db_path, capsys, store, argv):
    code, out, err = run(db_path, capsys, *argv)
    assert code == 2
    assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("memtui: error:")
    assert live(db_path) == set(store)


def test_restore_and_purge(db_path, capsys, store, monkeypatch):
    run(db_path, capsys, "forget", "--older-than", "30d", "--include-pinned", "--yes")
    code, out, _ = run(db_path, capsys, "restore", str(store[0]), "--json")
    assert code == 0 and json.loads(out) == {"restored": 1, "ids": [store[0]]}
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run(db_path, capsys, "purge", "--all")[0] == 2  # asks, and cannot
    code, out, _ = run(db_path, capsys, "purge", "--all", "--yes", "--json")
    assert code == 0 and json.loads(out)["purged"] == 2
    db = open_database(db_path)
    assert {r[0] for r in rows(db, "SELECT id FROM memory")} == {store[0], store[1]}
    db.close()
    code, out, _ = run(db_path, capsys, "restore", "--all", "--json")
    assert code == 0 and json.loads(out) == {"restored": 0, "ids": []}


def test_search_memories_and_raw(db_path, capsys, store):
    code, out, _ = run(db_path, capsys, "search", "sesion tdo", "--json")
    data = json.loads(out)
    assert code == 0 and data[0]["id"] == store[2] and data[0]["score"] > 0
    assert [data[0]["text"][a:b] for a, b in data[0]["spans"]] == ["Session", "todo"]
    code, out, _ = run(db_path, capsys, "search", "API", "--limit", "1")
    assert code == 0 and "Old API decision" in out
    code, out, _ = run(db_path, capsys, "search", 'foo-"bar AND *', "--raw", "--json")
    assert code == 0 and json.loads(out) == []
