"""The transcript view's layout: the cheap row count must agree with the rows it renders."""

from __future__ import annotations

import asyncio
import itertools

from textual.app import App

from memtui.core.records import MessageRecord
from memtui.ui.text import inert, wrap
from memtui.ui.widgets.transcript import FULL, OPEN, TranscriptView, tool_input_text, tool_summary

TEXTS = [
    "",
    "short",
    "a line\twith a tab and \x1b[31man escape\x1b[0m",
    "word " * 300,
    "\n".join(f"line {i}" for i in range(100)),
    "日本語のテキスト " * 40,
    "mixed 日本 and ascii\n" * 50,
    "x" * 5000,
    "trailing blank lines\n\n\n\n",
    "\u202eright-to-left override and \u200f marks\n" * 3,
    "\n".join("y" * (i * 7) for i in range(60)),
]
KINDS = [("user", "text"), ("assistant", "text"), ("assistant", "thinking"), ("system", "summary"),
         ("assistant", "tool_use"), ("tool", "tool_result")]


def messages() -> list[MessageRecord]:
    out = []
    for i, (text, (role, kind)) in enumerate(itertools.product(TEXTS, KINDS)):
        if kind == "tool_use":
            text = '{"command": %s}' % __import__("json").dumps(text)
        out.append(MessageRecord(i, 1, i, role, kind, "Bash" if kind.startswith("tool") else None, text, None,
                                 f"m{i}", None, i % 7 == 0, 99_999 if i % 11 == 0 else None))
    return out


def test_measured_heights_match_the_rendered_rows():
    class Host(App):
        def compose(self):
            yield TranscriptView()

    async def run():
        for width in (40, 80, 132):
            app = Host()
            async with app.run_test(size=(width, 30)) as pilot:
                view = app.query_one(TranscriptView)
                view.set_messages(messages())
                await pilot.pause()
                for index in range(len(view.messages)):
                    for state in (OPEN, FULL):
                        view._state[index] = state
                        view._body_cache.clear()
                        measured = view._measure(index, state)
                        rows, notice = view._body(index, state)
                        assert measured == (len(rows), notice is not None), (width, index, state)
                        assert all("\x1b" not in row and "\t" not in row for row in rows)
                view._state.clear()
                view._relayout(force=True)
                # Every block's rows render at the view's width, whatever they hold.
                lines = view.plain_lines()
                assert len(lines) == view.line_count
                assert all(len(line) <= view.scrollable_content_region.width for line in lines)

    asyncio.run(run())


def test_text_helpers():
    assert inert("a\x1b[1mb\x07\tc\r") == "a␛[1mb␇    c␍"
    assert wrap("hello world again", 11) == ["hello world", "again"]
    assert tool_summary('{"command": "pnpm test", "description": "run"}') == "pnpm test"
    assert tool_summary('{"file_path": "src/a.py", "old_string": "x"}') == "src/a.py"
    assert tool_summary("not json [bold]") == "not json [bold]"
    assert tool_input_text('{"old_string": "a\\nb", "n": 1}') == "old_string:\n  a\n  b\nn: 1"


def test_a_session_shown_from_its_first_messages_then_the_rest_is_the_same_as_all_at_once():
    """set_messages(first, complete=False) + extend_messages(rest): the same rows; a jump or an
    evidence scroll to a message not read yet waits for it; JumpMissed when it never comes."""
    all_messages = messages()
    missed = []

    class Host(App):
        def compose(self):
            yield TranscriptView()

        def on_transcript_view_jump_missed(self, message):
            missed.append(message.message_id)

    async def run():
        app = Host()
        async with app.run_test(size=(100, 30)) as pilot:
            view = app.query_one(TranscriptView)
            for _ in range(2):  # (the second time at the width left by the scroll bar the first brought)
                view.set_messages(all_messages)
                await pilot.pause()
            whole = view.plain_lines()

            # The rest appended: the same rows as the whole session set at once.
            view.set_messages(all_messages[:20], complete=False)
            assert not view.complete and len(view.messages) == 20
            view.extend_messages(all_messages[20:])
            assert view.complete and view.plain_lines() == whole

            # An evidence scroll to a message further down waits for it, then scrolls.
            far = next(m for m in all_messages[40:] if m.kind == "text")
            view.set_messages(all_messages[:20], complete=False)
            view.highlight([far.id])
            await pilot.pause()
            assert view.scroll_y == 0
            view.extend_messages(all_messages[20:40], complete=False)
            assert view.scroll_y == 0
            view.extend_messages(all_messages[40:])
            await pilot.pause()
            start = view.block_start(view.index_of(far.id))
            top = round(view.scroll_y)
            assert top > 0 and top <= start < top + view.scrollable_content_region.height

            # A jump to a folded tool result further down: opened, cursor on it, once it comes.
            result = next(m for m in all_messages[45:] if m.kind == "tool_result")
            view.set_messages(all_messages[:20], complete=False)
            assert view.jump_to(result.id)
            view.extend_messages(all_messages[20:])
            await pilot.pause()
            assert view.message_at(view.cursor_row).id == result.id
            assert "▾" in view.plain_lines(view.cursor_row, view.cursor_row + 1)[0]
            top = round(view.scroll_y)
            assert top <= view.cursor_row < top + view.scrollable_content_region.height

            # Moving the cursor meanwhile drops the waiting jump; one that never comes is reported.
            view.set_messages(all_messages[:20], complete=False)
            assert view.jump_to(result.id)
            view.cursor_row = 3
            view.extend_messages(all_messages[20:])
            assert view.cursor_row == 3
            view.set_messages(all_messages[:20], complete=False)
            assert view.jump_to(10**9)
            view.extend_messages(all_messages[20:])
            await pilot.pause()
            assert missed == [10**9]
            assert not view.jump_to(10**9)  # complete: no waiting

    asyncio.run(run())
