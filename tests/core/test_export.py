"""memtui.core.export: scope, rank, budget, every format (golden files), and writing between markers.

The golden files in tests/core/golden/ hold the exact output of each format for the small store
below; MEMTUI_UPDATE_GOLDEN=1 rewrites them (then read the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from memtui.core import export as ex
from memtui.core import memories as mem
from memtui.core.db import open_database

GOLDEN = Path(__file__).resolve().parent / "golden"
APP = "/srv/golden/app"
OTHER = "/srv/golden/other"
SUFFIX = {"claude-md": "md", "agents-md": "md", "cursor-rules": "mdc", "markdown": "md", "json": "json"}


def _m(text, tier, kind, seen, *, status="approved", pinned=False, project=APP, forgotten=None, quotes=()):
    return {
        "text": text, "tier": tier, "kind": kind, "status": status, "pinned": pinned,
        "project": None if tier == "developer" else project, "confidence": 0.8, "extractor": "heuristic",
        "created_at": seen - 50, "updated_at": seen - 10, "last_seen_at": seen, "forgotten_at": forgotten,
        "evidence": [{"quote": q} for q in quotes],
    }


STORE = {
    "memtui": 1,
    "memories": [
        _m("Prefers small pure functions over classes", "developer", "preference", 1000),
        _m("Writes commit messages in the imperative mood", "developer", "convention", 900, pinned=True),
        _m("The auth module talks to Redis through the cache client", "project", "decision", 1100,
           quotes=("auth -> redis via cache.Client",)),
        _m("Never commit generated files under build/", "project", "constraint", 1200),
        _m("Run `uv run pytest -q` before every commit", "project", "convention", 1300),
        _m("Tried asyncio in the importer: slower on small files, reverted", "project", "failed_approach", 1400),
        _m("Fixed the flaky login test by freezing time with time-machine", "project", "bug_fix", 1500),
        _m("Next: finish the export screen", "session", "todo", 1600, pinned=True),
        _m("Benchmarks ran on the laptop, not CI", "session", "fact", 1700),  # unpinned session: out by default
        _m("Switch the store to Postgres", "project", "decision", 1800, status="proposed"),
        _m("Use tabs for indentation", "project", "convention", 1900, status="rejected"),
        _m("The old deploy script lives in ops/", "project", "fact", 2000, forgotten=2100.0),
        _m("The other project uses Go modules", "project", "convention", 2200, project=OTHER),
        _m("Works with Ana on the API:\nshe reviews every migration", "developer", "relationship", 800),
        _m("Docs live in docs/; never write <!-- memtui:end --> by hand", "project", "fact", 700),
    ],
}
IN_SCOPE = {0, 1, 2, 3, 4, 5, 6, 7, 13, 14}  # indexes into STORE["memories"] of the default scope for APP


@pytest.fixture
def store(db):
    assert mem.load_store(db, STORE).created == len(STORE["memories"])
    return db


def _texts(result):
    return [e.memory.text for e in result.entries]


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("MEMTUI_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with MEMTUI_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


# --- scope and rank ---------------------------------------------------------------------------


def test_default_scope_is_approved_developer_project_and_pinned_session(store):
    result = ex.render(store, ex.ExportOptions("claude-md", project=APP))
    assert sorted(_texts(result)) == sorted(STORE["memories"][i]["text"] for i in IN_SCOPE)
    assert all(e.memory.status == "approved" and e.memory.forgotten_at is None for e in result.entries)
    assert result.left_out == 0 and result.included == len(IN_SCOPE)
    assert result.project_root == APP and result.notes == ()
    for left in ("Switch the store", "Use tabs", "old deploy script", "Go modules", "Benchmarks ran"):
        assert left not in result.text


def test_rank_is_pinned_then_tier_then_kind_then_recency(store):
    result = ex.render(store, ex.ExportOptions("claude-md", project=APP))
    ranked = _texts(result)
    assert ranked[:2] == ["Writes commit messages in the imperative mood", "Next: finish the export screen"]
    assert ranked[2:5] == [
        "Prefers small pure functions over classes",  # developer preference
        "Works with Ana on the API:\nshe reviews every migration",  # developer relationship
        "Never commit generated files under build/",  # project constraint first among the project tier
    ]
    tiers = [e.memory.tier for e in result.entries if not e.memory.pinned]
    assert tiers == sorted(tiers, key=ex.TIER_ORDER.index)


def test_a_path_inside_the_project_selects_it_and_an_unknown_one_gives_the_developer_tier(store):
    inside = ex.render(store, ex.ExportOptions("claude-md", project=APP + "/src/auth"))
    assert inside.project_root == APP and len(inside.entries) == len(IN_SCOPE)
    # a sibling whose name starts the same is another project
    assert ex.render(store, ex.ExportOptions("claude-md", project=APP + "x")).project_root is None
    unknown = ex.render(store, ex.ExportOptions("claude-md", project="/nowhere/at/all"))
    assert unknown.project_root is None
    assert {e.memory.tier for e in unknown.entries} == {"developer"}
    assert unknown.notes and "developer tier only" in unknown.notes[0]
    none = ex.render(store, ex.ExportOptions("claude-md"))
    assert _texts(none) == _texts(unknown) and none.notes == ()


def test_explicit_tiers(store):
    session = ex.render(store, ex.ExportOptions("markdown", project=APP, tiers=("session",)))
    assert sorted(_texts(session)) == ["Benchmarks ran on the laptop, not CI", "Next: finish the export screen"]
    dev = ex.render(store, ex.ExportOptions("markdown", project=APP, tiers=("developer",)))
    assert {e.memory.tier for e in dev.entries} == {"developer"}
    with pytest.raises(ex.ExportError, match="unknown tier"):
        ex.render(store, ex.ExportOptions("markdown", project=APP, tiers=("team",)))


def test_sections(store):
    result = ex.render(store, ex.ExportOptions("claude-md", project=APP))
    by_text = {e.memory.text: e.section for e in result.entries}
    assert by_text["Prefers small pure functions over classes"] == "Preferences"
    assert by_text["The auth module talks to Redis through the cache client"] == "Architecture and decisions"
    assert by_text["Run `uv run pytest -q` before every commit"] == "Conventions"
    assert by_text["Never commit generated files under build/"] == "Constraints"
    assert by_text["Fixed the flaky login test by freezing time with time-machine"] == "Known pitfalls"
    assert by_text["Next: finish the export screen"] == "Recent work"
    positions = [result.text.index(f"## {s}") for s in ex.SECTIONS]
    assert positions == sorted(positions)


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ex.FORMATS)
def test_golden_output_and_byte_identical_reruns(store, db_path, fmt):
    result = ex.render(store, ex.ExportOptions(fmt, project=APP))
    _golden(f"export.{fmt}.{SUFFIX[fmt]}", result.text)
    assert result.tokens == ex.count_tokens(result.text)
    again = ex.render(store, ex.ExportOptions(fmt, project=APP))
    assert again.text == result.text
    store.close()
    reopened = open_database(db_path)  # a new connection, a new process's view: still the same
    try:
        assert ex.render(reopened, ex.ExportOptions(fmt, project=APP)).text == result.text
        light = ex.render(reopened, ex.ExportOptions(fmt, project=APP), with_entries=False)
        assert light.text == result.text and light.entries == () and light.included == len(IN_SCOPE)
    finally:
        reopened.close()


def test_cursor_rules_is_a_valid_mdc_rule(store):
    text = ex.render(store, ex.ExportOptions("cursor-rules", project=APP)).text
    lines = text.split("\n")
    assert lines[0] == "---"
    end = lines.index("---", 1)
    front = dict(line.split(":", 1) for line in lines[1:end])
    assert set(front) == {"description", "globs", "alwaysApply"}
    assert front["description"].strip() and front["alwaysApply"].strip() == "true"
    assert lines[end + 1] == ex.BEGIN and text.rstrip("\n").endswith(ex.END)


def test_json_round_trips_through_load(store, tmp_path):
    result = ex.render(store, ex.ExportOptions("json", project=APP))
    data = json.loads(result.text)
    assert set(data) == {"memtui", "memories"} and len(data["memories"]) == len(IN_SCOPE)
    assert set(data["memories"][0]) == set(mem.export_store(store)["memories"][0])  # the same schema
    other = open_database(tmp_path / "other.db")
    try:
        assert mem.load_store(other, data).created == len(IN_SCOPE)
        assert mem.load_store(other, data).created == 0
        keys = ("text", "tier", "kind", "status", "pinned", "project", "created_at", "last_seen_at")
        back = json.loads(ex.render(other, ex.ExportOptions("json", project=APP)).text)
        assert [{k: m[k] for k in keys} for m in back["memories"]] == [{k: m[k] for k in keys} for m in data["memories"]]
        assert [e["quote"] for m in back["memories"] for e in m["evidence"]] == ["auth -> redis via cache.Client"]
    finally:
        other.close()


def test_an_empty_store_renders_a_header_only(db):
    for fmt in ex.FORMATS:
        result = ex.render(db, ex.ExportOptions(fmt, project="/srv/none"))
        assert result.entries == () and result.included == 0 and result.left_out == 0
    assert json.loads(ex.render(db, ex.ExportOptions("json")).text) == {"memories": [], "memtui": 1}


def test_unknown_format_and_negative_budget(store):
    with pytest.raises(ex.ExportError, match="unknown export format"):
        ex.render(store, ex.ExportOptions("yaml"))
    with pytest.raises(ex.ExportError, match="negative"):
        ex.render(store, ex.ExportOptions(budget=-1))


# --- budget -------------------------------------------------------------------------------------


def test_count_tokens_is_characters_over_four_rounded_up():
    assert [ex.count_tokens(t) for t in ("", "a", "abcd", "abcde", "x" * 400)] == [0, 1, 1, 2, 100]


@pytest.mark.parametrize("fmt", ex.FORMATS)
@pytest.mark.parametrize("budget", [60, 90, 150, 400])
def test_budget_keeps_a_prefix_of_the_rank_and_stays_within_it(store, fmt, budget):
    full = ex.render(store, ex.ExportOptions(fmt, project=APP))
    result = ex.render(store, ex.ExportOptions(fmt, project=APP, budget=budget))
    included = [e.included for e in result.entries]
    assert included == sorted(included, reverse=True)  # a prefix: no lower-ranked entry slips in
    assert result.left_out == included.count(False) == len(IN_SCOPE) - result.included
    if result.included:
        assert result.tokens <= budget
    assert [e.memory.id for e in result.entries] == [e.memory.id for e in full.entries]
    light = ex.render(store, ex.ExportOptions(fmt, project=APP, budget=budget), with_entries=False)
    assert light.text == result.text and light.left_out == result.left_out


def test_a_budget_large_enough_leaves_nothing_out(store):
    full = ex.render(store, ex.ExportOptions("claude-md", project=APP))
    exact = ex.render(store, ex.ExportOptions("claude-md", project=APP, budget=full.tokens))
    assert exact.text == full.text and exact.left_out == 0
    smaller = ex.render(store, ex.ExportOptions("claude-md", project=APP, budget=full.tokens - 5))
    assert smaller.left_out >= 1 and smaller.tokens <= full.tokens - 5


# --- writing ------------------------------------------------------------------------------------


def test_write_creates_then_replaces_only_the_block(store, tmp_path):
    opts = ex.ExportOptions("claude-md", project=APP)
    result = ex.render(store, opts)
    target = tmp_path / "CLAUDE.md"
    assert ex.write_export(target, result, opts) == "created"
    assert target.read_text() == f"{ex.BEGIN}\n{result.text.rstrip()}\n{ex.END}\n"
    hand = "# My project\n\nHand-written notes.\n\n"
    target.write_text(hand + target.read_text() + "\n## After\n\nmore notes\n")
    mem.add(store, "Brand new decision", tier="project", kind="decision", project=APP)
    newer = ex.render(store, opts)
    assert ex.write_export(target, newer, opts) == "replaced block"
    content = target.read_text()
    assert content.startswith(hand) and content.endswith("\n## After\n\nmore notes\n")
    assert "Brand new decision" in content and content.count(ex.BEGIN) == 1 and content.count(ex.END) == 1
    before = content
    assert ex.write_export(target, newer, opts) == "replaced block"
    assert target.read_text() == before  # re-export of the same store: byte-identical file


def test_a_hand_written_file_without_markers_keeps_its_text(store, tmp_path):
    opts = ex.ExportOptions("agents-md", project=APP)
    result = ex.render(store, opts)
    target = tmp_path / "AGENTS.md"
    hand = "# Agents\n\nBuild with make.\n"
    target.write_text(hand)
    assert ex.write_export(target, result, opts) == "inserted block"
    content = target.read_text()
    assert content.startswith(hand + "\n" + ex.BEGIN) and content.endswith(ex.END + "\n")
    assert ex.write_export(target, result, opts) == "replaced block"
    assert target.read_text() == content


def test_a_marker_in_a_memory_cannot_break_the_block(store, tmp_path):
    opts = ex.ExportOptions("claude-md", project=APP)
    result = ex.render(store, opts)
    assert ex.END not in result.text and "never write" in result.text
    target = tmp_path / "CLAUDE.md"
    ex.write_export(target, result, opts)
    assert ex.write_export(target, result, opts) == "replaced block"


def test_unmatched_markers_are_refused(store, tmp_path):
    opts = ex.ExportOptions("claude-md", project=APP)
    target = tmp_path / "CLAUDE.md"
    target.write_text(f"notes\n{ex.BEGIN}\nhalf a block\n")
    with pytest.raises(ex.ExportError, match="markers"):
        ex.write_export(target, ex.render(store, opts), opts)
    assert target.read_text() == f"notes\n{ex.BEGIN}\nhalf a block\n"


def test_mdc_and_json_files_are_replaced_whole_only_when_memtui_wrote_them(store, tmp_path):
    for fmt, name, foreign in (
        ("cursor-rules", "memtui.mdc", "---\ndescription: mine\nalwaysApply: false\n---\nMy own rule.\n"),
        ("json", "memories.json", '{"my": "data"}\n'),
    ):
        opts = ex.ExportOptions(fmt, project=APP)
        result = ex.render(store, opts)
        target = tmp_path / ".cursor" / "rules" / name  # parent folders are made
        assert ex.write_export(target, result, opts) == "created"
        assert target.read_text() == result.text
        assert ex.write_export(target, result, opts) == "replaced file"
        target.write_text(foreign)
        with pytest.raises(ex.ExportError, match="not"):
            ex.write_export(target, result, opts)
        assert target.read_text() == foreign


def test_write_errors_are_one_line(store, tmp_path):
    opts = ex.ExportOptions("claude-md", project=APP)
    result = ex.render(store, opts)
    with pytest.raises(ex.ExportError, match="is a directory"):
        ex.write_export(tmp_path, result, opts)
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(ex.ExportError, match="UTF-8"):
        ex.write_export(binary, result, opts)
    assert binary.read_bytes() == b"\xff\xfe\x00junk"


def test_export_module_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, memtui.core.export, memtui.core.hooks, memtui.core.clipboard\n"
        "heavy = ('textual', 'rapidfuzz', 'anthropic', 'memtui.core.importers', 'memtui.core.memories')\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("fmt", ex.FORMATS)
def test_the_whole_document_path_lays_out_as_the_general_one(db, fmt):
    """Without a budget or entries, render() reads whole sections from SQLite (_whole_document);
    with entries it lays out row by row: the same text, whatever the texts hold."""
    plain = [m for i, m in enumerate(STORE["memories"]) if i not in (13, 14)]  # no newline, no marker
    spaced = [dict(plain[0], text="  Indented and trailing  "), dict(plain[1], text="Tab\tinside", pinned=False)]
    same_seen = [dict(plain[2], text=f"Seen at once {i}", last_seen_at=1234) for i in range(5)]
    for memories in (plain, plain + spaced + same_seen, STORE["memories"] + spaced):
        db.execute_sql("DELETE FROM evidence")
        db.execute_sql("DELETE FROM memory")
        mem.load_store(db, {"memtui": 1, "memories": memories})
        for tiers in ((), ("developer", "project", "session")):
            options = ex.ExportOptions(fmt, project=APP, tiers=tiers)
            fast, general = ex.render(db, options, with_entries=False), ex.render(db, options, with_entries=True)
            assert fast.text == general.text and fast.included == general.included == len(general.entries)
            assert fast.tokens == general.tokens and fast.left_out == general.left_out == 0


def test_markdown_with_a_kind_it_does_not_list_takes_the_general_path(db):
    """The whole-document path builds markdown's item tails from (pinned, tier, kind); a row with a
    kind outside KIND_ORDER (an older or newer store) or a pinned value other than 0 and 1 gives the
    general path's text."""
    plain = [m for i, m in enumerate(STORE["memories"]) if i not in (13, 14)]
    mem.load_store(db, {"memtui": 1, "memories": plain})
    options = ex.ExportOptions("markdown", project=APP, tiers=("developer", "project", "session"))
    for sql in ("UPDATE memory SET kind = 'odd_note' WHERE id = (SELECT min(id) FROM memory WHERE status = 'approved')",
                "UPDATE memory SET pinned = 2 WHERE id = (SELECT max(id) FROM memory WHERE status = 'approved')"):
        db.execute_sql(sql)
        assert ex._whole_document(db, "markdown", *ex._target(db, options)[:3]) is None
        fast, general = ex.render(db, options, with_entries=False), ex.render(db, options, with_entries=True)
        assert fast.text == general.text and fast.included == general.included
    assert "odd note" in fast.text
