"""Pilot tests of the Export screen: the real app on a real SQLite file; every preview is checked
against `memtui.core.export.render` for the same options."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Select, Static, TextArea

from memtui.core import export, memories
from memtui.core.db import open_database
from memtui.ui.screens.confirm import ConfirmScreen
from memtui.ui.screens.export import ExportScreen, PreviewRendered
from memtui.ui.screens.review import ReviewScreen
from tests.ui.conftest import screen_lines, settle
from tests.ui.export_data import API, HIDDEN_MARKERS, MARKUP, SHOP, build_export_db

pytestmark = pytest.mark.anyio


@pytest.fixture
def data(tmp_path):
    return build_export_db(tmp_path / "data")


def render(data, **kwargs) -> export.ExportResult:
    db = open_database(data.path)
    try:
        return export.render(db, export.ExportOptions(**kwargs))
    finally:
        db.close()


async def opened(pilot) -> ExportScreen:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    return screen


def add_memory(data, text: str, project: str = SHOP) -> None:
    """Approve a memory by hand, as another process would."""
    db = open_database(data.path)
    try:
        memories.add(db, text, tier="project", kind="fact", project=project)
    finally:
        db.close()


def preview(screen) -> str:
    return screen.query_one("#export-preview", TextArea).text


def status(screen) -> str:
    return str(screen.query_one("#export-status", Static).render())


def path_box(screen) -> Input:
    return screen.query_one("#export-path", Input)


async def press_key(pilot, key: str) -> None:
    """Press a screen key with the preview focused (in a text box it would be typed), then wait."""
    pilot.app.screen.preview.focus()
    await pilot.press(key)
    await settle(pilot)


async def press_write(pilot, path: Path | str | None = None) -> None:
    """Put `path` in the output box (None: leave it), then press w."""
    if path is not None:
        path_box(pilot.app.screen).value = str(path)
    await press_key(pilot, "w")


async def choose(pilot, select_id: str, value) -> None:
    pilot.app.screen.query_one(select_id, Select).value = value
    await settle(pilot)


async def type_budget(pilot, text: str, *, at_once: bool = False) -> None:
    """Type a budget key by key (each key re-renders), or put it in at once."""
    box = pilot.app.screen.query_one("#export-budget", Input)
    box.focus()
    if at_once:
        box.value = text
    else:
        box.value = ""
        if text:
            await pilot.press(*text)
    await settle(pilot)


def assert_shows(screen, result: export.ExportResult, budget: int | None = None) -> None:
    assert preview(screen) == result.text
    included = sum(e.included for e in result.entries)
    tokens = f"{result.tokens:,}" + (f" / {budget:,}" if budget is not None else "")
    line = status(screen)
    assert line.startswith(f"{tokens} tokens · {included} memor")
    if result.left_out:
        assert f"{result.left_out} left out" in line
    else:
        assert "left out" not in line


# --- opening -------------------------------------------------------------------------------


async def test_opens_on_the_project_with_most_memories_in_the_default_scope(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        result = render(data, format="claude-md", project=SHOP)
        assert_shows(screen, result)
        assert result.left_out == 0 and "11 memories" in status(screen)
        assert path_box(screen).value == f"{SHOP}/CLAUDE.md"
        projects = [value for _, value in screen.query_one("#export-project", Select)._options]
        assert projects == [SHOP, API, ""]  # most approved memories first, then the developer tier alone
        # Brackets and markup-like text are shown as they are.
        assert MARKUP in preview(screen)
        assert any("[bold red]not markup[/]" in line for line in screen_lines(app))
        # A render for options no longer wanted is dropped.
        shown = preview(screen)
        old = export.ExportOptions(format="json", project=API)
        screen.post_message(PreviewRendered(old, render(data, format="json", project=API), []))
        await settle(pilot)
        assert preview(screen) == shown


# --- options -------------------------------------------------------------------------------


async def test_f_cycles_the_formats_and_each_preview_matches_render(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        formats = list(export.FORMATS)
        for fmt in formats[1:] + formats[:1]:
            await pilot.press("f")
            await settle(pilot)
            assert screen.query_one("#export-format", Select).value == fmt
            assert_shows(screen, render(data, format=fmt, project=SHOP))
        # The output path followed the format each time.
        assert path_box(screen).value == f"{SHOP}/CLAUDE.md"
        await pilot.press("f")
        await settle(pilot)
        assert path_box(screen).value == f"{SHOP}/AGENTS.md"
        await choose(pilot, "#export-format", "cursor-rules")
        assert path_box(screen).value == f"{SHOP}/.cursor/rules/memtui.mdc"
        await choose(pilot, "#export-format", "json")
        assert path_box(screen).value == f"{SHOP}/memtui.json"
        # A path typed by hand stays when the format changes.
        path_box(screen).value = "docs/context.md"
        await pilot.press("f")
        await settle(pilot)
        assert path_box(screen).value == "docs/context.md"


async def test_project_and_tiers_change_the_preview_and_only_approved_memories_show(data, make_app):
    # Never a proposed, rejected or forgotten memory: every scope and format, as render() makes
    # them (the preview is render()'s text, checked below)...
    for project in (SHOP, API, None):
        for fmt in export.FORMATS:
            for tiers in [(), ("developer", "project", "session")]:
                text = render(data, format=fmt, project=project, tiers=tiers).text
                assert not any(marker in text for marker in HIDDEN_MARKERS), (project, fmt, tiers)
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        await choose(pilot, "#export-project", API)
        assert_shows(screen, render(data, project=API))
        assert "staging cluster" in preview(screen) and "pnpm" not in preview(screen)
        assert path_box(screen).value == f"{API}/CLAUDE.md"
        await choose(pilot, "#export-project", "")
        assert_shows(screen, render(data, project=None))
        assert "four spaces" in preview(screen) and "staging" not in preview(screen)
        assert path_box(screen).value == "CLAUDE.md"
        await choose(pilot, "#export-project", SHOP)
        for tiers in [("developer",), ("developer", "project", "session"), ("session",), ()]:
            await choose(pilot, "#export-tiers", tiers)
            assert_shows(screen, render(data, project=SHOP, tiers=tiers))
        await choose(pilot, "#export-tiers", ("developer", "project", "session"))
        assert "halfway through renaming" in preview(screen)  # an unpinned session memory
        await choose(pilot, "#export-tiers", ())
        assert "halfway through renaming" not in preview(screen)
        # ...and on screen, for the widest scope.
        await choose(pilot, "#export-tiers", ("developer", "project", "session"))
        for project, fmt in [(SHOP, "markdown"), ("", "json"), (SHOP, "json")]:
            await choose(pilot, "#export-project", project)
            await choose(pilot, "#export-format", fmt)
            text = preview(screen)
            assert text == render(data, format=fmt, project=project or None, tiers=("developer", "project", "session")).text
            assert not any(marker in text for marker in HIDDEN_MARKERS), (project, fmt)


# --- the budget ----------------------------------------------------------------------------


async def test_a_small_budget_lists_what_was_left_out_and_a_bad_one_keeps_the_preview(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        await type_budget(pilot, "150")
        result = render(data, project=SHOP, budget=150)
        assert 0 < result.left_out < len(result.entries)
        assert_shows(screen, result, budget=150)
        assert result.tokens <= 150
        left = screen.query_one("#export-left-out", OptionList)
        assert [left.get_option_at_index(i).id for i in range(left.option_count)] == [
            str(e.memory.id) for e in result.entries if not e.included]
        assert screen.query_one("#export-left-out-pane").border_title == f"Left out · {result.left_out}"
        for entry in result.entries:
            assert (entry.memory.text in preview(screen)) == entry.included
        # Thousands separators and a k suffix are understood.
        await type_budget(pilot, "1k")
        assert_shows(screen, render(data, project=SHOP, budget=1000), budget=1000)
        # Empty: no limit.
        await type_budget(pilot, "")
        assert_shows(screen, render(data, project=SHOP))
        # A bad budget: an error under the box, the last preview kept, no crash.
        await type_budget(pilot, "150")
        before = preview(screen)
        error = screen.query_one("#export-budget-error", Static)
        for bad in ["abc", "0", "-5", "1.5", "12x", "k"]:
            await type_budget(pilot, bad, at_once=True)
            assert error.display and "whole number" in str(error.render()), bad
            assert screen.query_one("#export-budget", Input).has_class("-invalid")
            assert preview(screen) == before
            assert "bad budget, preview kept" in status(screen)
        # Writing is refused while the budget is bad.
        await press_write(pilot)
        assert not Path(f"{SHOP}/CLAUDE.md").exists()
        await type_budget(pilot, "2000")
        assert not error.display
        assert_shows(screen, render(data, project=SHOP, budget=2000), budget=2000)


# --- write ---------------------------------------------------------------------------------


async def test_w_writes_a_new_file_and_refuses_one_memtui_did_not_write(data, make_app, tmp_path):
    root = tmp_path / "checkout"  # a project whose root exists on disk
    root.mkdir()
    add_memory(data, "The checkout builds with make.", project=str(root))
    app = make_app(data.path)
    target = tmp_path / "repo" / "CLAUDE.md"
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        # An absolute path, in a folder that does not exist yet.
        await press_write(pilot, target)
        assert app.screen is screen  # a new file: no question
        assert target.read_text(encoding="utf-8") == export.block(render(data, project=SHOP).text)
        assert any("Created" in n.message and "CLAUDE.md" in n.message for n in app._notifications)
        # A relative path is under the project's root; enter in the path box writes.
        path_box(screen).value = ""  # emptied: the default comes back with the next change
        await choose(pilot, "#export-project", str(root))
        await choose(pilot, "#export-format", "cursor-rules")
        assert path_box(screen).value == f"{root}/.cursor/rules/memtui.mdc"
        path_box(screen).value = "rules/memtui.mdc"
        path_box(screen).focus()
        await pilot.press("enter")
        await settle(pilot)
        written = (root / "rules" / "memtui.mdc").read_text(encoding="utf-8")
        assert written == render(data, format="cursor-rules", project=str(root)).text
        assert "The checkout builds with make." in written
        # A file memtui did not write, in a format that owns its whole file: refused, not asked.
        mine = tmp_path / "data.json"
        mine.write_text('{"mine": true}\n', encoding="utf-8")
        await choose(pilot, "#export-format", "json")
        await press_write(pilot, mine)
        assert app.screen is screen
        assert mine.read_text(encoding="utf-8") == '{"mine": true}\n'
        assert any(n.severity == "error" and "not a memtui JSON export" in n.message for n in app._notifications)


async def test_w_into_a_hand_written_file_asks_then_inserts_the_block(data, make_app, tmp_path):
    app = make_app(data.path)
    target = tmp_path / "CLAUDE.md"
    hand = "# My own notes\n\nKeep this line exactly as it is.\n"
    target.write_text(hand, encoding="utf-8")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        # n: nothing is written.
        await press_write(pilot, target)
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "insert" in question and "rest of the file is kept" in question
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        assert target.read_text(encoding="utf-8") == hand
        # y: the block goes in, the hand-written text stays.
        await press_write(pilot)
        await pilot.press("y")
        await settle(pilot)
        result = render(data, project=SHOP)
        written = target.read_text(encoding="utf-8")
        assert written.startswith(hand)
        assert export.block(result.text) in written
        assert any("Inserted memtui's block" in n.message for n in app._notifications)
        # Again, with a budget: the block is replaced, the hand-written text still there.
        await type_budget(pilot, "150")
        await press_write(pilot)
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "replace" in question
        await pilot.press("y")
        await settle(pilot)
        written = target.read_text(encoding="utf-8")
        assert written.startswith(hand)
        assert written.count(export.BEGIN) == 1
        assert export.block(render(data, project=SHOP, budget=150).text) in written


# --- copy ----------------------------------------------------------------------------------


async def test_c_copies_through_the_terminal_and_the_system_clipboard(data, make_app, monkeypatch):
    from memtui.core import clipboard

    system: list[str] = []
    tool = ["xclip"]
    monkeypatch.setattr(clipboard, "system_copy", lambda text: system.append(text) or tool[0])
    app = make_app(data.path)
    terminal: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", terminal.append)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await type_budget(pilot, "150")
        await press_key(pilot, "c")
        expected = render(data, project=SHOP, budget=150).text
        assert terminal == [expected]
        assert system == [expected]
        assert any("xclip" in n.message for n in app._notifications)
        # No system clipboard tool: the terminal's copy still happens, and the person is told.
        tool[0] = None
        await press_key(pilot, "c")
        assert terminal == [expected, expected]
        assert any("OSC 52" in n.message and n.severity == "warning" for n in app._notifications)


# --- leaving and coming back ----------------------------------------------------------------


async def test_escape_goes_back_and_coming_back_shows_new_memories(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        await type_budget(pilot, "1k")
        await press_key(pilot, "escape")
        assert isinstance(app.screen, ReviewScreen)
        add_memory(data, "Newly approved: the shop never deploys on Fridays.")
        await pilot.press("5")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#export-budget", Input).value == "1k"  # the screen kept its state
        assert "Newly approved" in preview(screen)
        assert_shows(screen, render(data, project=SHOP, budget=1000), budget=1000)
        approved = render(data, project=SHOP, tiers=("developer", "project", "session"))
        shop = sum(1 for e in approved.entries if e.memory.tier != "developer")
        assert f"({shop})" in " ".join(screen_lines(app))  # the project's count in the box is the new one
        # ctrl+r reads again what was approved elsewhere while the screen is shown.
        add_memory(data, "Approved meanwhile: the shop's CI runs on every push.")
        await press_key(pilot, "ctrl+r")
        assert "Approved meanwhile" in preview(screen)
        assert_shows(screen, render(data, project=SHOP, budget=1000), budget=1000)


async def test_the_left_out_list_shows_the_first_of_many(data, make_app, monkeypatch):
    """A large store with a small budget leaves out thousands: the pane lists the first ones (the
    rest is a count), read from the store for the budget's cut, not from an entry per memory."""
    from memtui.ui.screens import export as export_screen

    monkeypatch.setattr(export_screen, "LEFT_OUT_SHOWN", 2)
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        await type_budget(pilot, "150")
        result = render(data, project=SHOP, budget=150)
        left_out = [e for e in result.entries if not e.included]
        assert result.left_out == len(left_out) > 2
        listing = screen.query_one("#export-left-out", OptionList)
        ids = [listing.get_option_at_index(i).id for i in range(listing.option_count)]
        assert ids[:2] == [str(e.memory.id) for e in left_out[:2]] and len(ids) == 3
        more = listing.get_option_at_index(2)
        assert more.disabled and f"and {result.left_out - 2} more" in str(more.prompt)
        assert screen.query_one("#export-left-out-pane").border_title == f"Left out · {result.left_out}"
        assert_shows(screen, result, budget=150)


async def test_a_long_document_is_previewed_in_part_and_written_whole(data, make_app, monkeypatch, tmp_path):
    from memtui.ui.screens import export as export_screen

    monkeypatch.setattr(export_screen, "PREVIEW_LINES", 6)
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        whole = render(data, project=SHOP).text
        lines = whole.splitlines(keepends=True)
        assert len(lines) > 6
        shown = preview(screen)
        assert shown.startswith("".join(lines[:6]))
        assert f"… {len(lines) - 6} more lines not shown here" in shown and lines[6] not in shown[len("".join(lines[:6])):]
        target = tmp_path / "out" / "CLAUDE.md"
        await press_write(pilot, target)
        assert target.read_text() == export.block(whole)


def test_preview_text_cuts_at_a_line():
    from memtui.ui.screens.export import preview_text

    assert preview_text("a\nb\nc\n", 3) == "a\nb\nc\n" and preview_text("a\nb\nc", 3) == "a\nb\nc"
    assert preview_text("a\nb\nc\nd\n", 2) == "a\nb\n\n… 2 more lines not shown here: w writes and c copies the whole text\n"
    assert preview_text("a\nb\nc", 2).startswith("a\nb\n\n… 1 more line not")


async def test_while_shown_it_follows_what_is_approved_elsewhere(data, make_app):
    """The screen looks for other writers as Review does (here by hand: tests do not poll on a
    timer): a memory approved by another process shows in the preview without ctrl+r."""
    app = make_app(data.path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await opened(pilot)
        before = screen.result
        screen.poll()
        await settle(pilot)
        assert screen.result is before  # nothing changed: the preview was not made again
        add_memory(data, "Approved in another window: the shop's staging runs on port 8081.")
        screen.poll()
        await settle(pilot)
        assert "staging runs on port 8081" in preview(screen)
        assert_shows(screen, render(data, project=SHOP))
        await press_key(pilot, "escape")
        add_memory(data, "Approved while the screen was hidden.")
        screen.poll()  # hidden: not read (coming back reads it)
        await settle(pilot)
        assert "while the screen was hidden" not in preview(screen)


async def test_the_help_screen_lists_the_export_keys():
    from memtui.ui.screens.help import binding_sections

    sections = dict(binding_sections())
    ids = {b.id for b in sections["Export"]}
    assert {"export.write", "export.copy", "export.cycle_format", "export.back"} <= ids
    assert all(b.tooltip for b in sections["Export"])


async def test_works_at_80x24(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        assert screen.has_class("-narrow")
        assert not screen.query_one("#export-left-out-pane").display
        assert screen.preview.size.height >= 8
        await type_budget(pilot, "150")
        assert "left out" in status(screen)
        # A scope with nothing in it says where memories come from.
        await choose(pilot, "#export-project", API)
        await choose(pilot, "#export-tiers", ("session",))
        assert "0 memories" in status(screen) and "nothing approved in this scope" in status(screen)
