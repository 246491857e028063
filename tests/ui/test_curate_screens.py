"""Pilot tests of the Memories, Forget stale and Trash screens, with every effect checked in the
database (tests/ui/curate_data.py: 13 live memories, 3 in the trash, fixed timestamps)."""

from __future__ import annotations

import time

import pytest

from memtui.ui.screens.confirm import ChoiceScreen, ConfirmScreen
from memtui.ui.screens.forget import ForgetScreen
from memtui.ui.screens.memories import MemoriesScreen
from memtui.ui.screens.review import ReviewScreen
from memtui.ui.screens.trash import TrashScreen
from memtui.ui.widgets import memory_list as memory_list_module
from memtui.ui.widgets.memory_list import PAGE
from tests.ui.conftest import settle
from tests.ui.curate_data import DAY, CurateData, build_curate_db

pytestmark = pytest.mark.anyio

SIZE = (120, 36)


@pytest.fixture
def data(tmp_path) -> CurateData:
    return build_curate_db(tmp_path / "data")


async def show(pilot, key: str):
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    return pilot.app.screen


def listed(screen) -> list[int]:
    memory_list = screen.memory_list
    return [memory_list.memory_at(i).id for i in range(memory_list.total)]


def live_ids(data: CurateData, where: str = "1", order: str = "last_seen_at DESC, id DESC") -> list[int]:
    return [r[0] for r in data.rows(f"SELECT id FROM memory WHERE forgotten_at IS NULL AND {where} ORDER BY {order}")]


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


async def set_value(pilot, screen, selector: str, value) -> None:
    screen.query_one(selector).value = value
    await settle(pilot)


# --- listing, filters, sort ----------------------------------------------------------------


FILTERS = [
    ("#filter-tier", "developer", "tier = 'developer'"),
    ("#filter-tier", "session", "tier = 'session'"),
    ("#filter-kind", "constraint", "kind = 'constraint'"),
    ("#filter-status", "proposed", "status = 'proposed'"),
    ("#filter-status", "rejected", "status = 'rejected'"),
    ("#filter-pinned", "yes", "pinned = 1"),
    ("#filter-pinned", "no", "pinned = 0"),
    ("#filter-project", "/work/api", "project_id = (SELECT id FROM project WHERE root = '/work/api')"),
]


async def test_listing_each_filter_and_sort(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        assert isinstance(screen, MemoriesScreen)
        assert app.focused is screen.memory_list
        assert listed(screen) == live_ids(data) and len(listed(screen)) == 13
        assert str(screen.query_one("#memories-pane").border_title) == "Memories · 13 memories"
        # The detail pane shows the memory at the cursor.
        assert screen.detail.memory.id == listed(screen)[0]
        await pilot.press("down")
        assert screen.detail.memory.id == listed(screen)[1]
        await pilot.press("up")
        for select, value, where in FILTERS:
            await set_value(pilot, screen, select, value)
            expected = live_ids(data, where)
            assert expected and listed(screen) == expected, (select, value)
            assert f"· {len(expected)} memor" in str(screen.query_one("#memories-pane").border_title)
            await set_value(pilot, screen, select, "")
        assert listed(screen) == live_ids(data)
        # Two filters at once.
        await set_value(pilot, screen, "#filter-tier", "project")
        await set_value(pilot, screen, "#filter-status", "approved")
        assert listed(screen) == live_ids(data, "tier = 'project' AND status = 'approved'")
        await set_value(pilot, screen, "#filter-tier", "")
        await set_value(pilot, screen, "#filter-status", "")
        # Sorts: by the Select, and s cycles them (last seen -> created -> confidence).
        for sort, order in (("created", "created_at DESC, id DESC"), ("confidence", "confidence DESC, id DESC")):
            await set_value(pilot, screen, "#filter-sort", sort)
            assert listed(screen) == live_ids(data, order=order), sort
        await pilot.press("s")
        await settle(pilot)
        assert screen.memory_query().sort == "last_seen" and listed(screen) == live_ids(data)
        await pilot.press("s")
        await settle(pilot)
        assert screen.memory_query().sort == "created"
        assert listed(screen) == live_ids(data, order="created_at DESC, id DESC")
        # The status filter "in trash" lists forgotten ones, and r restores from there.
        await set_value(pilot, screen, "#filter-status", "forgotten")
        assert sorted(listed(screen)) == sorted(data.ids[n] for n in ("old-todo", "old-fact", "old-pref"))
        first = listed(screen)[0]
        await pilot.press("r")
        await settle(pilot)
        assert data.memory(first)["forgotten"] is False
        assert first not in listed(screen)


async def test_the_list_pages_from_the_database_and_age_filters(data, make_app, monkeypatch):
    """250 more memories: the list holds the count and the pages it was asked for, not every row."""
    from memtui.core import memories

    db = data.db()
    with db.atomic():
        added = [memories.add(db, f"Bulk memory number {i}", tier="project", kind="fact", project="/work/shop")
                 for i in range(250)]
    db.close()
    # Ages (the 13 others are from 2025): one created 100 days ago but seen 5 days ago, one created
    # and last seen 40 days ago.
    data.age(added[0], 100, 5)
    data.age(added[1], 40)
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        memory_list = screen.memory_list
        assert memory_list.total == 263
        assert len(memory_list.loaded()) == 100  # one page
        await pilot.press("end")
        await settle(pilot)
        assert memory_list.current is not None
        assert memory_list.current.id == live_ids(data)[-1]
        assert len(memory_list.loaded()) <= 200
        assert "263 memories" in str(screen.query_one("#memories-pane").border_title)
        # Scrolled with the mouse far from the cursor, keeping few pages: what is on screen stays
        # loaded (and the cursor's page), the rest is dropped.
        monkeypatch.setattr(memory_list_module, "KEEP_PAGES", 2)
        await pilot.press("home")
        await settle(pilot)
        memory_list.scroll_to(y=150, animate=False, immediate=True)
        await settle(pilot)
        memory_list.scroll_end(animate=False, immediate=True)
        await settle(pilot)
        assert memory_list.memory_at(0) is not None and memory_list.memory_at(memory_list.total - 1) is not None
        assert len(memory_list.loaded()) <= 2 * PAGE
        # The age filters: created more than N days ago, or not seen for N days.
        now = time.time()
        for age, where in (
            ("old30", f"created_at < {now - 30 * DAY}"),
            ("old90", f"created_at < {now - 90 * DAY}"),
            ("unseen30", f"last_seen_at < {now - 30 * DAY}"),
        ):
            await set_value(pilot, screen, "#filter-age", age)
            assert listed(screen) == live_ids(data, where), age
        await set_value(pilot, screen, "#filter-age", "old30")
        assert {added[0], added[1]} <= set(listed(screen))
        await set_value(pilot, screen, "#filter-age", "unseen30")
        assert added[1] in listed(screen) and added[0] not in listed(screen)


# --- search ----------------------------------------------------------------------------------


async def test_fuzzy_search_as_you_type_forgives_typos_and_word_order(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        assert screen._index is None
        await pilot.press("slash")
        assert app.focused.id == "memories-search"
        await settle(pilot)
        # Focusing the box built the fuzzy index (in a worker), before the first keystroke.
        assert screen._index is not None and screen._index[0] == (screen.memory_query(), screen.data_generation)
        await type_text(pilot, "sesions redsi")  # typos, and not in the text's order; no waiting
        await settle(pilot)
        memory_list = screen.memory_list
        assert memory_list.ranked
        assert listed(screen)[0] == data.ids["redis"]
        # Matched characters are highlighted (ranges in the memory's text).
        text = memory_list.memory_at(0).text
        assert any(text[a:b].lower().startswith("red") for a, b in memory_list._spans[0])
        assert "match" in str(screen.query_one("#memories-pane").border_title)
        # More letters: the list follows the last keystroke.
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await type_text(pilot, "integer cents")
        await settle(pilot)
        cents = data.review.memories["shop"][1]
        assert listed(screen)[0] == cents
        # Acting on a hit: the search stays, without what left.
        await pilot.press("enter", "f")
        await settle(pilot)
        assert data.memory(cents)["forgotten"] and memory_list.ranked and cents not in listed(screen)
        await pilot.press("u")
        await settle(pilot)
        assert listed(screen)[0] == cents
        # Clearing the box pages the whole list again.
        screen.query_one("#memories-search").value = ""
        await settle(pilot)
        assert not memory_list.ranked and listed(screen) == live_ids(data)

        # The search keeps to the filters; ctrl+a selects every match.
        await set_value(pilot, screen, "#filter-tier", "project")
        await pilot.press("slash")
        await type_text(pilot, "the")
        await settle(pilot)
        found = listed(screen)
        tiers = {r[0] for r in data.rows(f"SELECT DISTINCT tier FROM memory WHERE id IN ({','.join(map(str, found))})")}
        assert found and tiers == {"project"}
        await pilot.press("enter")  # back to the list
        assert app.focused is screen.memory_list
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert screen.memory_list.selected == set(found)


async def test_raw_search_and_origin_jump_to_review(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert screen.raw_mode and app.focused.id == "memories-search"
        await type_text(pilot, "listens 8080")
        await settle(pilot)
        hits = screen.raw_hits
        assert hits and all(h.session_id == data.review.sessions["shop"] for h in hits)
        target = hits[0]
        assert "8080" in target.snippet
        await pilot.press("enter")  # from the box to the hits
        assert app.focused.id == "raw-hits"
        await pilot.press("enter")  # choose the first hit
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        review = app.review
        assert review.session.id == data.review.sessions["shop"]
        view = review.transcript
        assert view.message_at(view.cursor_row).id == target.message_id

        # From a memory, enter jumps to its evidence (a memory added by hand has none: it says so).
        cents = data.review.memories["shop"][1]
        evidence = data.rows("SELECT message_id FROM evidence WHERE memory_id = ?", cents)[0][0]
        screen = await show(pilot, "2")
        screen.query_one("#memories-search").value = ""
        await pilot.press("ctrl+t")  # back to the memories
        await settle(pilot)
        assert not screen.memory_list.ranked
        screen.memory_list.focus()
        screen.memory_list.cursor = 0
        assert screen.memory_list.current.session_id is None
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        screen.memory_list.cursor = listed(screen).index(cents)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.review.session.id == data.review.sessions["shop"]
        assert view.message_at(view.cursor_row).id == evidence


# --- selection -------------------------------------------------------------------------------


async def test_selection_space_ctrl_a_escape_shift_click(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        ids = listed(screen)
        memory_list = screen.memory_list
        await pilot.press("space", "space")  # selects and moves down
        assert memory_list.selected == {ids[0], ids[1]}
        await pilot.press("up", "space")  # toggles the second off again
        assert memory_list.selected == {ids[0]}
        assert "1 selected" in str(screen.query_one("#memories-pane").border_title)
        await set_value(pilot, screen, "#filter-status", "approved")
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert memory_list.selected == set(live_ids(data, "status = 'approved'"))
        await pilot.press("escape")
        assert memory_list.selected == set()
        # Shift+click and shift+↓ extend a range.
        await set_value(pilot, screen, "#filter-status", "")
        ids = listed(screen)
        await pilot.click("#memories", offset=(1, 1))  # the check column of row 1: toggles it
        assert memory_list.selected == {ids[1]}
        await pilot.click("#memories", offset=(30, 4), shift=True)
        assert memory_list.selected == set(ids[1:5])
        await pilot.click("#memories", offset=(30, 6))  # a plain click moves the cursor only
        assert memory_list.cursor == 6 and memory_list.selected == set(ids[1:5])
        await pilot.press("escape", "shift+down", "shift+down")
        assert memory_list.selected == set(ids[6:9])


async def test_a_selection_goes_when_the_filters_or_the_search_change(data, make_app):
    """A selection made under other filters would act on memories no longer shown: it is cleared,
    with a notice; changing only the sort keeps it (the same memories)."""
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        memory_list = screen.memory_list
        await pilot.press("space", "space")
        assert len(memory_list.selected) == 2
        await set_value(pilot, screen, "#filter-sort", "confidence")
        assert len(memory_list.selected) == 2
        await set_value(pilot, screen, "#filter-tier", "project")
        assert memory_list.selected == set()
        assert any("Cleared the selection (2 memories): the filters changed" in n.message for n in app._notifications)
        await pilot.press("space")
        assert len(memory_list.selected) == 1
        await pilot.press("slash")
        await type_text(pilot, "te")
        await settle(pilot)
        assert memory_list.selected == set()
        assert any("the search changed" in n.message for n in app._notifications)


# --- bulk actions ------------------------------------------------------------------------------


async def select(pilot, screen, ids: list[int]) -> None:
    screen.memory_list.select_ids(ids, replace=True)
    await pilot.pause()


BULK = [
    ("f", ("tabs", "redis"), lambda m: m["forgotten"]),
    ("p", ("tabs", "redis"), lambda m: m["pinned"]),
    ("P", ("functional", "decided"), lambda m: not m["pinned"]),
    ("a", ("migrations", "orm"), lambda m: m["status"] == "approved"),
]


async def test_every_bulk_action_is_one_undo_step(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        # t: move the selection to another tier (a choice dialog); u undoes, U redoes.
        # (First: redo after undo, before other actions undone in this test.)
        ids = [data.ids["tabs"], data.ids["redis"], data.ids["next"]]
        await select(pilot, screen, ids)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        app.screen.query_one("#choice-list").highlighted = 2  # session
        await pilot.press("enter")
        await settle(pilot)
        assert [data.memory(i)["tier"] for i in ids] == ["session"] * 3
        await pilot.press("u")
        await settle(pilot)
        assert [data.memory(i)["tier"] for i in ids] == ["developer", "project", "session"]
        await pilot.press("U")
        await settle(pilot)
        assert [data.memory(i)["tier"] for i in ids] == ["session"] * 3

        screen.memory_list.clear_selection()
        for key, names, check in BULK:
            ids = [data.ids[n] for n in names]
            await select(pilot, screen, ids)
            before = {i: data.memory(i) for i in live_ids(data)}
            batch = data.rows("SELECT COALESCE(MAX(batch), 0) FROM event")[0][0]
            await pilot.press(key)
            await settle(pilot)
            assert all(check(data.memory(i)) for i in ids), key
            assert all(data.memory(i) == before[i] for i in before if i not in ids), key  # nothing else changed
            # One journal batch for the whole selection: one undo step.
            assert data.rows("SELECT DISTINCT batch FROM event WHERE batch > ?", batch) == [(batch + 1,)], key
            await pilot.press("u")
            await settle(pilot)
            assert all(data.memory(i) == before[i] for i in ids), key
            screen.memory_list.clear_selection()

        # k: change the kind; escape in the dialog changes nothing.
        ids = [data.ids["tabs"], data.ids["orm"]]
        await select(pilot, screen, ids)
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("home", "enter")  # the first kind: decision
        await settle(pilot)
        assert [data.memory(i)["kind"] for i in ids] == ["decision", "decision"]
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert [data.memory(i)["kind"] for i in ids] == ["decision", "decision"]
        await pilot.press("u")
        await settle(pilot)
        assert [data.memory(i)["kind"] for i in ids] == ["constraint", "failed_approach"]

        # With nothing selected, an action takes the memory at the cursor.
        screen.memory_list.clear_selection()
        screen.memory_list.cursor = 0
        first = listed(screen)[0]
        await pilot.press("f")
        await settle(pilot)
        assert data.memory(first)["forgotten"]
        assert first not in listed(screen) and screen.memory_list.total == 12
        await pilot.press("u")
        await settle(pilot)

        # Select all, forget all, one undo brings all back.
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert len(screen.memory_list.selected) == 13
        await pilot.press("f")
        await settle(pilot)
        assert live_ids(data) == [] and screen.memory_list.total == 0
        assert screen.memory_list.selected == set()
        await pilot.press("u")
        await settle(pilot)
        assert len(live_ids(data)) == 13 and screen.memory_list.total == 13


# --- forget stale ------------------------------------------------------------------------------


async def test_forget_stale_previews_live_and_confirms(data, make_app):
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "3")
        assert isinstance(screen, ForgetScreen)
        assert screen.memory_list.total == 0 and screen.rules.is_empty()
        screen.query_one("#rule-confidence").focus()
        await type_text(pilot, "0.5")
        await settle(pilot)
        # Below 0.5 and not pinned: the orm (0.4) and staging summary (0.3) memories.
        expected = live_ids(data, "confidence < 0.5 AND pinned = 0", order="last_seen_at, id")
        assert expected == [data.ids["orm"], data.ids["staging"]]
        assert screen.count == 2 and listed(screen) == expected
        assert "2 memories" in str(screen.query_one("#forget-preview-pane").border_title)
        # A narrower scope: only the session tier.
        await set_value(pilot, screen, "#rule-tier", "session")
        assert screen.count == 1 and listed(screen) == [data.ids["staging"]]
        await set_value(pilot, screen, "#rule-tier", "")
        # Confirm: a y/n modal; n leaves everything as it is.
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert not any(data.memory(i)["forgotten"] for i in expected)
        await pilot.press("ctrl+f")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert all(data.memory(i)["forgotten"] for i in expected)
        assert screen.count == 0  # the preview is read again
        # One undo step brings them all back (escape: from the rule fields to the preview).
        await pilot.press("escape")
        assert app.focused is screen.memory_list
        await pilot.press("u")
        await settle(pilot)
        assert not any(data.memory(i)["forgotten"] for i in expected)
        assert screen.count == 2


async def test_forget_stale_include_pinned_and_duration_rules(data, make_app):
    now = time.time()
    db = data.db()
    db.execute_sql("UPDATE memory SET created_at = ?, last_seen_at = ?", (now - DAY, now - DAY))
    db.close()
    data.age("functional", 100)  # pinned
    data.age("redis", 100, 2)
    data.age("next", 20)  # session tier
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "3")
        await type_text(pilot, "90d")  # older than (focused first)
        await settle(pilot)
        assert listed(screen) == [data.ids["redis"]]
        await pilot.click("#rule-pinned")
        await settle(pilot)
        assert sorted(listed(screen)) == sorted([data.ids["redis"], data.ids["functional"]])
        screen.query_one("#rule-older").value = ""
        screen.query_one("#rule-session").value = "2w"
        await settle(pilot)
        assert listed(screen) == [data.ids["next"]]
        screen.query_one("#rule-session").value = "soon"
        await settle(pilot)
        assert screen.rules is None and screen.query_one("#rule-session").has_class("-invalid")
        assert screen.memory_list.total == 0
        # A scope alone (every todo), confirmed with the mouse.
        screen.query_one("#rule-session").value = ""
        screen.query_one("#rule-kind").value = "todo"
        await settle(pilot)
        assert screen.count == 1
        await pilot.click("#forget-go")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm-yes")
        await settle(pilot)
        assert data.memory(data.ids["next"])["forgotten"]


# --- trash ------------------------------------------------------------------------------------


async def test_trash_restores_and_purge_asks_twice(data, make_app):
    trashed = [data.ids[n] for n in ("old-todo", "old-fact", "old-pref")]
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "4")
        assert isinstance(screen, TrashScreen)
        assert sorted(listed(screen)) == sorted(trashed)
        assert str(screen.query_one("#trash-pane").border_title) == "Trash · 3 memories"
        await pilot.press("space", "space")
        picked = listed(screen)[:2]
        await pilot.press("r")
        await settle(pilot)
        assert [data.memory(i)["forgotten"] for i in picked] == [False, False]
        assert listed(screen) == [i for i in trashed if i not in picked]
        await pilot.press("u")
        await settle(pilot)
        assert all(data.memory(i)["forgotten"] for i in picked)

        # Purge asks twice.
        screen.memory_list.clear_selection()
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert screen.memory_list.selected == set(trashed)
        # No at the second question: nothing is purged.
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and all(data.memory(i) for i in trashed)
        # Yes twice: gone from the database.
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert data.rows("SELECT COUNT(*) FROM memory WHERE forgotten_at IS NOT NULL") == [(0,)]
        assert screen.memory_list.total == 0
        # Even a purge is one journal batch: u brings them back.
        await pilot.press("u")
        await settle(pilot)
        assert sorted(listed(screen)) == sorted(trashed)


async def test_forgetting_on_memories_shows_in_the_trash_and_text_stays_text(data, make_app):
    pnpm = data.review.memories["shop"][0]
    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        # Markup-like text in a memory is shown as it is, never parsed.
        screen.memory_list.cursor = listed(screen).index(pnpm)
        await settle(pilot)
        assert "[bold red]not markup[/]" in str(screen.detail.render())
        assert "[bold red]n" in screen.memory_list.plain_rows()[listed(screen).index(pnpm)]
        screen.memory_list.cursor = 0
        first = listed(screen)[0]
        await pilot.press("f")
        await settle(pilot)
        trash = await show(pilot, "4")
        assert first in listed(trash)
        await show(pilot, "1")
        assert isinstance(app.screen, ReviewScreen)
        memories_again = await show(pilot, "2")
        assert memories_again is screen and first not in listed(screen)


async def test_the_command_palette_offers_the_screens_actions(data, make_app):
    """ctrl+p on the Memories screen lists its actions; choosing one runs it on the selection."""
    from memtui.ui.commands import MemtuiCommands

    app = make_app(data.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show(pilot, "2")
        names = [hit.text async for hit in MemtuiCommands(screen).discover()]
        for expected in ("Memories: forget", "Memories: pin", "Memories: approve", "Memories: tier", "Show Trash screen"):
            assert expected in names, names
        await select(pilot, screen, [data.ids["tabs"], data.ids["redis"]])
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "Memories: pin")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        pinned = {r[0] for r in data.rows("SELECT id FROM memory WHERE pinned = 1")}
        assert {data.ids["tabs"], data.ids["redis"]} <= pinned
