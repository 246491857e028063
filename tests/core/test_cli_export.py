"""`memtui export` from the command line: scope flags, budget notes, -o between markers, --copy."""

from __future__ import annotations

import base64
import json
import re
import shutil

import pytest

CAT = shutil.which("cat")  # the fake tools below run with a PATH of their own folder only

from memtui.cli import main
from memtui.core import clipboard
from memtui.core import memories as mem


@pytest.fixture
def project(tmp_path, db):
    root = tmp_path / "shop"
    (root / ".git").mkdir(parents=True)
    (root / "src").mkdir()
    mem.add(db, "Prefers pnpm over npm", tier="developer", kind="preference")
    mem.add(db, "The cart service owns prices", tier="project", kind="decision", project=str(root))
    mem.add(db, "Never touch the legacy billing tables", tier="project", kind="constraint", project=str(root),
            pinned=True)
    mem.add(db, "Run pnpm test before pushing", tier="project", kind="convention", project=str(root))
    proposed = mem.add(db, "A proposal nobody approved", tier="project", kind="fact", project=str(root))
    mem.unreview(db, [proposed])
    return root


def _export(db_path, *args):
    return main(["--db", str(db_path), "export", *args])


def test_default_is_claude_md_for_the_current_directorys_project(project, db_path, capsys, monkeypatch):
    monkeypatch.chdir(project / "src")
    assert _export(db_path) == 0
    out, err = capsys.readouterr()
    assert out.startswith("# Curated context (memtui)")
    for text in ("Prefers pnpm", "cart service", "legacy billing", "pnpm test"):
        assert text in out
    assert "nobody approved" not in out and err == ""
    assert _export(db_path) == 0
    assert capsys.readouterr().out == out  # byte-identical


def test_unknown_project_exports_the_developer_tier_with_a_note(project, db_path, capsys, tmp_path):
    assert _export(db_path, "--project", str(tmp_path / "elsewhere")) == 0
    out, err = capsys.readouterr()
    assert "Prefers pnpm" in out and "cart service" not in out
    assert err.startswith("memtui: note: no project known at") and err.count("\n") == 1


def test_budget_says_how_many_were_left_out(project, db_path, capsys):
    assert _export(db_path, "--project", str(project), "--budget", "45") == 0
    out, err = capsys.readouterr()
    assert "legacy billing" in out  # pinned first
    assert len(out) <= 45 * 4
    m = re.search(r"left out (\d+) lower-ranked memory\(ies\) beyond the budget of 45 tokens", err)
    assert m and int(m.group(1)) == 3


def test_tiers(project, db_path, capsys):
    assert _export(db_path, "--project", str(project), "--tier", "developer", "--format", "markdown") == 0
    out = capsys.readouterr().out
    assert "Prefers pnpm" in out and "cart service" not in out
    assert _export(db_path, "--project", str(project), "--tier", "developer,project") == 0
    assert "cart service" in capsys.readouterr().out
    assert _export(db_path, "--tier", "team") == 2
    assert "unknown tier 'team'" in capsys.readouterr().err
    assert _export(db_path, "--budget", "-3") == 2
    assert _export(db_path, "--format", "yaml") == 2


def test_output_file_keeps_a_hand_written_claude_md(project, db_path, capsys):
    target = project / "CLAUDE.md"
    hand = "# Shop\n\nHand-written: deploy with `make ship`.\n"
    target.write_text(hand)
    assert _export(db_path, "--project", str(project), "-o", str(target)) == 0
    assert capsys.readouterr().err == f"memtui: {target}: inserted block ({_tokens(project, db_path)} tokens)\n"
    first = target.read_text()
    assert first.startswith(hand) and "<!-- memtui:begin -->" in first and "legacy billing" in first
    assert _export(db_path, "--project", str(project), "-o", str(target)) == 0
    assert "replaced block" in capsys.readouterr().err
    assert target.read_text() == first


def _tokens(project, db_path) -> int:
    from memtui.core.db import open_database
    from memtui.core.export import ExportOptions, render

    db = open_database(db_path)
    try:
        return render(db, ExportOptions("claude-md", project=str(project))).tokens
    finally:
        db.close()


@pytest.mark.parametrize("name,start", [
    ("AGENTS.md", "<!-- memtui:begin -->\n# Context for coding agents (memtui)"),
    ("CLAUDE.md", "<!-- memtui:begin -->\n# Curated context (memtui)"),
    ("memtui.mdc", "---\ndescription: "),
    ("curated.json", "{\n  \"memories\": ["),
])
def test_the_format_follows_the_output_name_unless_given(project, db_path, capsys, name, start):
    target = project / name
    assert _export(db_path, "--project", str(project), "-o", str(target)) == 0
    assert target.read_text().startswith(start)
    target.unlink()
    assert _export(db_path, "--project", str(project), "--format", "markdown", "-o", str(target)) == 0
    assert target.read_text().startswith("<!-- memtui:begin -->\n# memtui export")


def test_a_foreign_mdc_is_not_overwritten(project, db_path, capsys):
    rule = project / ".cursor" / "rules" / "style.mdc"
    rule.parent.mkdir(parents=True)
    rule.write_text("---\ndescription: mine\nglobs:\nalwaysApply: false\n---\nTabs.\n")
    assert _export(db_path, "--format", "cursor-rules", "--project", str(project), "-o", str(rule)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not written by memtui" in err
    assert rule.read_text().endswith("Tabs.\n")
    ours = project / ".cursor" / "rules" / "memtui.mdc"
    assert _export(db_path, "--format", "cursor-rules", "--project", str(project), "-o", str(ours)) == 0
    assert _export(db_path, "--format", "cursor-rules", "--project", str(project), "-o", str(ours)) == 0
    assert "replaced file" in capsys.readouterr().err
    assert ours.read_text().startswith("---\ndescription: ")


def test_json_without_scope_flags_is_the_whole_store(project, db, db_path, capsys):
    assert _export(db_path, "--format", "json") == 0
    out = capsys.readouterr().out
    assert json.loads(out) == json.loads(json.dumps(mem.export_store(db)))
    assert "nobody approved" in out  # the backup keeps proposals too


def test_scoped_json_round_trips_through_load(project, db_path, tmp_path, capsys):
    out = tmp_path / "curated.json"
    assert _export(db_path, "--format", "json", "--project", str(project), "-o", str(out)) == 0
    data = json.loads(out.read_text())
    assert len(data["memories"]) == 4 and all(m["status"] == "approved" for m in data["memories"])
    other = tmp_path / "other.db"
    assert main(["--db", str(other), "load", str(out)]) == 0
    assert "loaded 4 memory(ies)" in capsys.readouterr().out
    assert main(["--db", str(other), "export", "--format", "json", "--project", str(project)]) == 0
    back = json.loads(capsys.readouterr().out)
    assert [m["text"] for m in back["memories"]] == [m["text"] for m in data["memories"]]


# --- --copy ---------------------------------------------------------------------------------------


@pytest.fixture
def clip(tmp_path, monkeypatch):
    """A PATH with only an `xclip` that saves what it is given, under an X display, and no terminal."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    saved = tmp_path / "clipboard.txt"
    tool = bin_dir / "xclip"
    tool.write_text(f"#!/bin/sh\n{CAT} > {saved}\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(clipboard, "TTY", str(tmp_path / "no-tty"))
    return saved


def test_copy_with_a_system_tool(project, db_path, capsys, clip):
    assert _export(db_path, "--project", str(project), "--copy") == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert re.fullmatch(r"memtui: copied \d+ tokens to the clipboard \(xclip\)\n", err)
    assert "legacy billing" in clip.read_text()


def test_copy_through_the_terminal_with_osc52(project, db_path, capsys, clip, tmp_path, monkeypatch):
    tty = tmp_path / "tty"
    tty.write_text("")
    monkeypatch.setattr(clipboard, "TTY", str(tty))
    assert _export(db_path, "--project", str(project), "--copy") == 0
    assert "(OSC 52 + xclip)" in capsys.readouterr().err
    seq = tty.read_text()
    m = re.fullmatch(r"\x1b\]52;c;([A-Za-z0-9+/=]+)\x07", seq)
    assert m and base64.b64decode(m.group(1)).decode() == clip.read_text()


def test_nothing_can_copy_is_a_one_line_error(project, db_path, capsys, clip, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert _export(db_path, "--project", str(project), "--copy") == 1
    err = capsys.readouterr().err
    assert err.startswith("memtui: error: nothing can copy here") and err.count("\n") == 1


def test_the_command_line_offers_the_core_formats():
    from memtui import cli_export
    from memtui.core import export

    assert cli_export.FORMATS == export.FORMATS


def test_osc52_sequence():
    assert clipboard.osc52("hi") == "\x1b]52;c;aGk=\x07"


def test_failing_tool_falls_through_to_the_next(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "xclip").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "xsel").write_text(f"#!/bin/sh\n{CAT} > {tmp_path / 'got'}\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    assert clipboard.system_copy("text") == "xsel"
    assert (tmp_path / "got").read_text() == "text"
    monkeypatch.delenv("DISPLAY")
    assert clipboard.system_copy("text") is None  # no display: the X tools are not tried


def test_the_light_constants_match_their_modules():
    from memtui.core import constants, db, export, models
    from memtui.core.extract import EXTRACTORS
    from memtui.core.importers import FORMATS as IMPORT_FORMATS

    assert constants.TIERS == models.TIERS and constants.KINDS == models.KINDS
    assert constants.EXTRACTORS == EXTRACTORS and constants.IMPORT_FORMATS == IMPORT_FORMATS
    assert constants.EXPORT_FORMATS == export.FORMATS and constants.SCHEMA_VERSION == db.SCHEMA_VERSION


def test_the_session_start_command_line_is_read_without_the_parser():
    from memtui.cli import _session_start_args as read

    assert read(["hooks", "run", "session-start"]).db is None
    args = read(["--db", "x.db", "hooks", "run", "session-start", "--budget", "50"])
    assert args.db == "x.db" and args.budget == 50 and args.event == "session-start"
    assert read(["--db=x.db", "hooks", "run", "session-start", "--budget=7"]).budget == 7
    for argv in (["hooks", "run", "session-end"], ["hooks", "run", "session-start", "--budget", "x"],
                 ["hooks", "run", "session-start", "--help"], ["--db", "hooks", "run", "session-start"],
                 ["export"], [], ["--db", "-x", "hooks", "run", "session-start"]):
        assert read(argv) is None, argv
