"""The offline heuristic extractor: behaviour on hand-built sessions, and contracts on the real corpus."""

from __future__ import annotations

import json

import pytest

from memtui.core.extract import Proposal
from memtui.core.extract.heuristic import CAP_RATIO, extract, extract_budget
from memtui.core.records import MessageRecord, SessionRecord
from memtui.core.store import list_sessions, session_messages
from tests.helpers import import_paths

KINDS = {"decision", "preference", "convention", "constraint", "failed_approach", "bug_fix", "relationship", "fact", "todo"}
TIERS = {"developer", "project", "session"}
FORMATS = ("claude-code", "codex", "gemini-cli", "aider", "specstory")


# --- building small sessions by hand -----------------------------------------------------------


class Log:
    """A tiny transcript builder: each call appends one normalised message."""

    def __init__(self, cwd: str = "/home/dev/shop"):
        self.messages: list[MessageRecord] = []
        self.session = SessionRecord(
            id=1, tool="claude-code", external_id="s1", project_id=1, project_root=cwd, cwd=cwd, title=None,
            started_at=None, ended_at=None, model=None, git_branch=None, message_count=0, raw_size=0,
            review_state="new", parent_id=None, source_path=None,
        )

    def _add(self, role, kind, text, tool=None, is_error=False) -> int:
        mid = len(self.messages) + 100
        self.messages.append(MessageRecord(
            id=mid, session_id=1, position=len(self.messages), role=role, kind=kind, tool_name=tool, text=text,
            timestamp=None, external_id=f"e{mid}", group_id=None, is_error=is_error, original_len=None,
        ))
        return mid

    def user(self, text):
        return self._add("user", "text", text)

    def say(self, text):
        return self._add("assistant", "text", text)

    def call(self, tool, args, result="", is_error=False):
        use = self._add("assistant", "tool_use", json.dumps(args) if isinstance(args, dict) else args, tool)
        res = self._add("tool", "tool_result", result, tool, is_error)
        return use, res

    def bash(self, command, output="", is_error=False):
        return self.call("Bash", {"command": command, "description": ""}, output, is_error)

    def edit(self, path, old, new):
        return self.call("Edit", {"file_path": path, "old_string": old, "new_string": new}, f"The file {path} has been updated.")

    def write(self, path, content):
        return self.call("Write", {"file_path": path, "content": content}, f"File created successfully at: {path}")

    def run(self, ratio=CAP_RATIO) -> list[Proposal]:
        return extract_budget(self.session, self.messages, ratio)


def _with(proposals, *words, kind=None):
    out = [p for p in proposals if all(w.lower() in p.text.lower() for w in words) and (kind is None or p.kind == kind)]
    assert out, f"no proposal with {words} ({kind}); got:\n" + "\n".join(f"[{p.kind}] {p.text}" for p in proposals)
    return out[0]


def _padding(log: Log, n: int = 6) -> None:
    """Ordinary chatter so that the session is large enough for its proposals to fit the size budget."""
    for i in range(n):
        log.call("Read", {"file_path": f"/home/dev/shop/docs/page{i}.md"}, "lorem ipsum dolor sit amet " * 40)


# --- signals on hand-built sessions ------------------------------------------------------------


def test_error_then_fix_then_passing_rerun_is_one_bug_fix():
    log = Log()
    log.user("The checkout tests fail, please fix them")
    fail_use, fail_res = log.bash(
        "uv run pytest tests/test_cart.py",
        "Traceback (most recent call last):\n  File \"shop/cart.py\", line 12, in total\n"
        "TypeError: unsupported operand type(s) for +: 'int' and 'str'\n===== 1 failed in 0.12s =====",
        is_error=True,
    )
    edit_use, _ = log.edit("/home/dev/shop/shop/cart.py", "return sum(prices)", "return sum(int(p) for p in prices)")
    ok_use, ok_res = log.bash("uv run pytest tests/test_cart.py", "===== 3 passed in 0.10s =====")
    log.say("Fixed: `total()` in cart.py now converts prices to int before summing.")
    _padding(log)
    fix = _with(log.run(), "uv run pytest", "TypeError", "cart.py", kind="bug_fix")
    assert fix.tier == "project"
    assert {fail_use, fail_res, edit_use, ok_use, ok_res} <= set(fix.message_ids)
    assert "int(p)" in fix.text  # names the change, not just the file


def test_a_failure_that_was_never_fixed_is_not_a_bug_fix_but_stays_open():
    log = Log()
    log.user("run the build")
    log.bash("npm run build", "src/app.ts:3:7 - error TS2322: Type 'string' is not assignable to type 'number'.\nExit code: 2", is_error=True)
    log.say("The build fails on a type error in src/app.ts.")
    _padding(log)
    props = log.run()
    assert not [p for p in props if p.kind == "bug_fix" and "npm run build" in p.text]
    todo = _with(props, "npm run build", kind="todo")
    assert "TS2322" in todo.text


def test_a_failure_passed_by_a_wider_run_later_is_not_left_open():
    # the narrow command failed, the fix went in, then the whole suite passed: nothing is still failing
    log = Log()
    log.user("the elevation test fails, fix it")
    log.bash("pnpm test -- test/lib/elevation.test.ts", "AssertionError: expected 37.2 to be less than 5\nExit code: 1", is_error=True)
    log.edit("/home/dev/shop/src/lib/elevation.ts", "sum / size", "sum / count")
    log.bash("pnpm test", "Test Files  4 passed (4)\n     Tests  16 passed (16)")
    log.say("Fixed: each smoothing window divides by its own sample count.")
    _padding(log)
    assert not [p for p in log.run() if p.text.startswith("Still failing")]
    # a different command passing later does not count as a wider run of the failing one
    log = Log()
    log.user("run the build")
    log.bash("pnpm test -- test/lib/elevation.test.ts", "AssertionError: expected 37.2 to be less than 5\nExit code: 1", is_error=True)
    log.bash("pnpm typecheck", "done")
    _padding(log)
    _with(log.run(), "Still failing", "elevation.test.ts", kind="todo")


def test_rejected_command_with_reason_becomes_a_developer_preference():
    log = Log()
    log.user("set up the dev server")
    log.bash("npm install", "The user doesn't want to proceed with this tool use. The tool use was rejected "
             "(eg. if it was a file edit, the new_string was NOT written to the file). "
             "The user provided the following reason for the rejection:  use pnpm", is_error=True)
    log.bash("pnpm install", "Packages: +11\nDone in 797ms")
    _padding(log)
    pref = _with(log.run(), "pnpm", "npm", kind="preference")
    assert pref.tier == "developer"


def test_correction_about_this_code_is_a_project_tier_constraint():
    log = Log()
    log.user("add caching to the price lookup")
    log.edit("/home/dev/shop/shop/prices.py", "def lookup(sku):", "CACHE = {}\n\ndef lookup(sku):")
    log.say("I added a module-level CACHE dict in prices.py.")
    log.user("No, don't use a global dict in prices.py, use functools.lru_cache on lookup() instead")
    log.edit("/home/dev/shop/shop/prices.py", "CACHE = {}\n\ndef lookup(sku):", "@lru_cache(maxsize=1024)\ndef lookup(sku):")
    _padding(log)
    corr = _with(log.run(), "lru_cache")
    assert corr.kind in ("constraint", "preference")
    assert corr.tier == "project"


def test_user_preference_about_their_way_of_working_is_developer_tier():
    log = Log()
    log.user("write the changelog entry")
    log.write("/home/dev/shop/CHANGELOG.md", "## 1.2\n- faster checkout\n")
    log.say("Added the entry.")
    log.user("Never add emojis to commit messages, and always write commits in English.")
    log.bash("git commit -am 'Add changelog entry'", "[main 1a2b3c4] Add changelog entry")
    _padding(log)
    prefs = [p for p in log.run() if "emojis" in p.text and p.kind in ("preference", "constraint")]
    assert prefs and all(p.tier == "developer" for p in prefs)


def test_file_created_then_deleted_is_a_failed_approach_with_its_reason():
    log = Log()
    log.user("speed up the import")
    log.write("/home/dev/shop/shop/fast_import.py", "def fast_import(rows):\n    return [r for r in rows]\n")
    log.bash("uv run python -m shop.bench", "import: 12.1s")
    log.say("The separate module did not help because the time is spent in the database, not in Python.")
    log.bash("rm shop/fast_import.py", "")
    _padding(log)
    gone = _with(log.run(), "fast_import.py", kind="failed_approach")
    assert "deleted" in gone.text and "database" in gone.text


def test_dropped_idea_after_never_mind_is_a_failed_approach():
    log = Log()
    log.user("Could we move the tokenizer into a web worker without a second JS file?")
    log.say("## Why a worker is awkward here\n- Workers need a separate JS file\n- The model would load twice\n")
    log.user("Never mind! Let's leave it on the main thread.")
    _padding(log)
    dropped = _with(log.run(), "worker", kind="failed_approach")
    assert "never mind" in dropped.text.lower()


def test_successful_test_command_is_how_to_work_here_and_failed_ones_are_not():
    log = Log()
    log.user("check everything still works")
    log.bash("uv run pytest -q", "42 passed in 1.2s")
    log.bash("uv run ruff check .", "All checks passed!")
    log.bash("make docs", "make: *** No rule to make target 'docs'.  Stop.", is_error=True)
    log.say("Tests and lint pass.")
    _padding(log)
    props = log.run()
    how = _with(props, "uv run pytest", kind="convention")
    assert "ruff check" in how.text
    assert "make docs" not in how.text
    assert how.tier == "project"


def test_unfinished_todo_items_become_a_session_todo():
    log = Log()
    log.user("migrate the settings page")
    log.call("TodoWrite", {"todos": [
        {"content": "Port settings form to the new API", "status": "completed", "activeForm": "Porting"},
        {"content": "Add validation for the email field", "status": "in_progress", "activeForm": "Adding"},
        {"content": "Write tests for the settings endpoint", "status": "pending", "activeForm": "Writing"},
    ]}, "Todos have been modified successfully.")
    log.edit("/home/dev/shop/web/settings.tsx", "old form", "new form")
    _padding(log)
    todo = _with(log.run(), "email field", kind="todo")
    assert todo.tier == "session"
    assert "Write tests for the settings endpoint" in todo.text
    assert "Port settings form" not in todo.text


def test_user_requirement_is_a_constraint():
    log = Log()
    log.user("Build a small timer page. Don't use any external frameworks - keep it pure HTML, CSS, and JS.")
    log.write("/home/dev/timer/index.html", "<html></html>")
    _padding(log)
    req = _with(log.run(), "external frameworks", kind="constraint")
    assert req.tier == "project"


def test_edits_are_joined_with_the_request_and_the_reply():
    log = Log()
    log.user("Please make the session counter persist across reloads")
    log.edit("/home/dev/timer/script.js", "let sessions = 0;", "let sessions = Number(localStorage.getItem('sessions') || 0);")
    log.say("Done: `sessions` in script.js is now read from `localStorage` on load and saved after each work period.")
    _padding(log)
    change = _with(log.run(), "localStorage", "persist")
    assert change.kind in ("decision", "fact")


def test_compaction_summary_sections_become_fixes_and_todos():
    log = Log()
    summary = (
        "This session is being continued from a previous conversation that ran out of context. "
        "The conversation is summarized below:\nSummary:\n"
        "1. Primary Request and Intent:\n   - The user asked to make checkout totals correct.\n"
        "2. Errors and fixes:\n   - TypeError in `cart.total()` (int + str): fixed by converting prices with int() in shop/cart.py\n"
        "3. Pending Tasks:\n   - Add tests for the discount codes in tests/test_cart.py\n"
        "4. Current Work:\n   - Was about to run the full test suite.\n"
    )
    sid = log._add("system", "summary", summary)
    log.user("continue")
    _padding(log)
    props = log.run()
    fix = _with(props, "cart.total()", kind="bug_fix")
    todo = _with(props, "discount codes", kind="todo")
    assert sid in fix.message_ids and todo.tier == "session"


def test_harness_noise_alone_gives_nothing():
    log = Log()
    log._add("system", "text", "<system-reminder>Whenever you read a file, consider whether it is malware.</system-reminder>")
    log._add("user", "text", "/clear")
    log._add("system", "text", "<local-command-stdout></local-command-stdout>")
    log._add("system", "text", "Caveat: The messages below were generated by the user while running local commands.")
    assert log.run() == []


def test_empty_session_gives_nothing():
    assert extract(Log().session, []) == []


def test_proposals_cite_only_messages_of_the_session_and_stay_short():
    log = Log()
    log.user("Use pnpm, never npm, in this repo. " * 3)
    log.bash("pnpm test", "12 passed")
    _padding(log)
    ids = {m.id for m in log.messages}
    for p in log.run():
        assert 0 < len(p.text) < 400
        assert p.message_ids and set(p.message_ids) <= ids
        assert len(p.quotes) == len(p.message_ids)


# --- the real corpus -------------------------------------------------------------------------------


@pytest.fixture
def corpus_db(db, corpus):
    for fmt in FORMATS:
        if (corpus / fmt).is_dir():
            import_paths(db, corpus / fmt)
    sessions = list_sessions(db)
    assert sessions
    return db, [(s, session_messages(db, s.id)) for s in sessions]


@pytest.mark.corpus
def test_corpus_proposals_are_deterministic_and_valid(corpus_db):
    _, sessions = corpus_db
    assert len({s.tool for s, _ in sessions}) >= 3
    for session, messages in sessions:
        first = extract(session, messages)
        assert extract(session, list(messages)) == first  # same input, same output
        ids = {m.id for m in messages}
        for p in first:
            assert 0 < len(p.text) < 400, p.text
            assert p.kind in KINDS and p.tier in TIERS
            assert 0.0 <= p.confidence <= 1.0
            assert p.message_ids and set(p.message_ids) <= ids
            assert len(p.quotes) == len(p.message_ids)
            assert "\n" not in p.text


@pytest.mark.corpus
def test_corpus_size_stays_under_the_cap(corpus_db):
    _, sessions = corpus_db
    for session, messages in sessions:
        readable = sum(len(m.text or "") for m in messages)
        for ratio in (None, CAP_RATIO):
            props = extract(session, messages) if ratio is None else extract_budget(session, messages, ratio)
            size = sum(len(p.text) for p in props)
            assert size <= CAP_RATIO * readable, (session.external_id, size, readable)


@pytest.mark.corpus
def test_recall_on_the_hand_written_evaluation_set(corpus):
    from tests.eval.recall import evaluate, pooled

    results = evaluate((0.05, 0.10), corpus)
    scored_05 = [s for s in results[0.05] if not s.skipped]
    assert len({s.tool for s in scored_05}) >= 3
    recall_05, size_05, _ = pooled(results[0.05])
    recall_10, size_10, _ = pooled(results[0.10])
    # measured 0.81 at 5% and 0.84 at 10%, pooled over the 15 expected sessions (5 tools)
    assert recall_05 >= 0.70
    assert recall_10 >= 0.70
    assert size_05 <= 0.05 + 1e-9 or all(s.size <= CAP_RATIO for s in scored_05)
    for s in results[0.10]:
        assert s.skipped or s.size <= CAP_RATIO


def test_odd_input_does_not_break_it():
    log = Log()
    log._add("tool", "tool_result", "orphan result with no call", "Bash", True)
    log._add("assistant", "tool_use", "{not json at all", "Edit")
    log._add("assistant", "tool_use", "", "Bash")
    log._add("assistant", "tool_use", '{"command": ["zsh", "-lc", "pytest -q"]}', "shell")
    log._add("tool", "tool_result", "Exit code: 1\nFAILED tests/test_x.py::test_a - AssertionError", "shell")
    log._add("assistant", "tool_use", "*** Begin Patch\n*** Update File: a.py\n-x = 1\n+x = 2\n*** End Patch", "apply_patch")
    log._add("user", "text", "")
    log._add("user", "text", "??")
    log._add("assistant", "text", "```\nunclosed fence\n" + "x" * 50000)
    log._add("assistant", "thinking", "")
    log._add("system", "summary", "This session is being continued from a previous conversation.")
    log.user("ok 谢谢，不要再改了")
    for ratio in (0.01, 0.05, CAP_RATIO):
        props = log.run(ratio)
        ids = {m.id for m in log.messages}
        assert all(set(p.message_ids) <= ids and len(p.text) < 400 for p in props)


def test_remember_this_is_kept():
    log = Log()
    log.user("Remember that the staging database is read-only on Fridays, deploys go through scripts/deploy.sh.")
    log.say("Noted.")
    _padding(log)
    _with(log.run(), "read-only on Fridays")


@pytest.mark.parametrize("text, expected", [
    # punctuation doubled where clauses were joined is made single
    ("Fixed the import.. Then ran the tests", "Fixed the import. Then ran the tests."),
    ("Files:: api.py, db.py", "Files: api.py, db.py."),
    ("retry twice;; then give up", "retry twice; then give up."),
    # what it does not touch: code, ellipses, ranges, paths
    ("because `opencode -m ...` may open a live session", "because `opencode -m ...` may open a live session."),
    ("run `cd .. && make` first", "run `cd .. && make` first."),
    ("call `Foo::bar` and std::vec::Vec", "call `Foo::bar` and std::vec::Vec."),
    ("pages 1..10 only", "pages 1..10 only."),
    ("it hangs... then times out", "it hangs... then times out."),
    ("diff with `git diff main...HEAD` .", "diff with `git diff main...HEAD`."),
    # the lead-in to a list that was left out ends the statement
    ("Replaced the wide table with 5 narrower tables:", "Replaced the wide table with 5 narrower tables."),
])
def test_finish_makes_doubled_punctuation_single_outside_code_only(text, expected):
    from memtui.core.extract.textutil import finish

    assert finish(text) == expected


def test_a_statement_keeps_the_code_it_quotes_as_written():
    log = Log()
    log.user("Set up the opencode provider for zenmux and check the CLI")
    log.say(
        "I'm checking the CLI invocation shape before launching anything interactive, because "
        "`opencode -m ...` may open a live session and sit waiting for input; `Config::load` reads `opencode.jsonc`."
    )
    log.edit("opencode.jsonc", "{}", '{"provider": {"zenmux": {}}}')
    log.say("Added the zenmux provider to `opencode.jsonc`, read by `Config::load`; `opencode -m ...` starts it.")
    _padding(log)
    texts = [p.text for p in log.run()]
    quoting = [t for t in texts if "opencode -m" in t or "Config:" in t]
    assert quoting, texts
    assert all("`opencode -m ...`" in t for t in quoting if "opencode -m" in t), quoting
    assert all("`Config::load`" in t for t in quoting if "Config:" in t), quoting


def test_the_lead_in_to_a_list_is_not_a_requirement():
    log = Log()
    log.user(
        "Vestige is an on-chain launchpad.\n\nWhat I want you to do:\n\n1. Analyze this repository deeply\n"
        "2. Generate the grant files under grant/\n\nRequirements:\n\n- Never use npm, always use pnpm\n"
        "- I want the output in Markdown, never HTML:\n- Be concise\n\nPlease make sure to follow these:"
    )
    _padding(log)
    req = _with(log.run(), "User requirement", "pnpm")
    assert "never use npm" in req.text.lower() and "output in markdown, never html" in req.text.lower()
    assert "what i want you to do" not in req.text.lower() and "follow these" not in req.text.lower()


def test_a_reply_narrating_its_next_step_is_not_a_memory():
    log = Log()
    log.user("The retry tests fail on CI, fix the client")
    log.say("Let me check the `SessionDB` class in `db.py` to understand why the tests are failing.")
    log.call("Read", {"file_path": "/home/dev/shop/db.py"}, "class SessionDB: ...")
    log.say("I\u2019ll add a `retry()` helper to `client.py` because `fetch()` times out on CI.")
    log.edit("client.py", "def fetch():", "def retry(fn, times=3):\n    ...\n\ndef fetch():")
    log.say("The files are updated. I\u2019m going to test `pytest tests/test_client.py` now; "
            "I'm checking `tox.ini` before running anything else, because `tox -e py311` may rebuild the env.")
    log.bash("pytest tests/test_client.py", "3 passed")
    log.say("Added `retry()` to `client.py`: `fetch()` now retries 3 times, so the CI timeouts are gone.")
    _padding(log)
    texts = [p.text for p in log.run()]
    assert any("retry()" in t and "client.py" in t for t in texts), texts
    for narration in ("Let me check", "SessionDB", "going to test", "checking `tox.ini`"):
        assert not any(narration in t for t in texts), (narration, texts)


@pytest.mark.parametrize("offer, open_item", [
    ("If you want, I can also explain what the actual unit of `_speed` becomes in this script.", None),
    ("Would you like me to walk you through how `MoveChunksForward` works?", None),
    ("Would you like me to add tests for `parse_config()` next?", "tests for `parse_config()`"),
])
def test_an_offer_to_explain_more_is_not_left_open(offer, open_item):
    log = Log()
    log.user("Fix the chunk spawning in `road.gd`")
    log.edit("road.gd", "add_child(chunk)", "get_parent().add_child(chunk)")
    log.say("Fixed: `road.gd` now adds each chunk to the parent, so the three roads spawn. " + offer)
    _padding(log)
    left = [p.text for p in log.run() if p.text.startswith("Left open")]
    if open_item is None:
        assert left == []
    else:
        assert len(left) == 1 and open_item in left[0], left


def _suggested(reply: str, request: str) -> list[str]:
    log = Log()
    log.user("The timer app works now; what else could it do?")
    log.say(reply)
    log.user(request)
    log.edit("app.js", "const theme = 'light';", "const theme = prefersDark() ? 'dark' : 'light';")
    log.say("Added dark mode to `app.js`.")
    _padding(log)
    return [p.text for p in log.run() if p.text.startswith("Suggested but not taken up")]


def test_options_the_user_did_not_take_up_are_kept():
    reply = ("Here are some features you could add:\n\n- **Dark mode**: follow the system theme\n"
             "- **Export to CSV**: download the session history\n- **Keyboard shortcuts**: start and stop with the space bar\n")
    (text,) = _suggested(reply, "add dark mode please")
    assert "(the user chose Dark mode)" in text and "Export to CSV" in text and "Keyboard shortcuts" in text


def test_bullets_that_explain_are_not_options():
    reply = ("The error is not caused by the timer itself; an improvement is optional.\n\n"
             "- You intend to reset the dark theme when the timer stops, on every tick of the loop.\n"
             "- But then you remove the first listener from the list, while the dark one remains a member.\n"
             "- Later, `stop()` frees the timer, but the list still holds a reference to this disposed listener.\n")
    assert _suggested(reply, "add dark mode please") == []


def test_a_specstory_cursor_edit_names_its_file_and_change():
    """SpecStory's Cursor exports write an edit as 'Edit file: <path>' and diff chunks."""
    from memtui.core.extract.transcript import read

    log = Log()
    log.user("the moon icon should be a div, not an i")
    log.call("search_replace", (
        "Edit file: /work/pulse/app/layouts/default.vue\n**Chunk 1**\nLines added: 1, lines removed: 1\n\n"
        "```diff\n@@ -22,5 +22,5 @@\n              title=\"Switch to Dark Mode\"\n"
        "-             <i class=\"i-lucide:moon w-5 h-5\" />\n+             <div class=\"i-lucide:moon w-5 h-5\" />\n```"
    ), "")
    log.say("The moon icon in `default.vue` is now a `<div>`.")
    (edit,) = [a for a in read(log.session, log.messages).actions if a.family == "edit"]
    assert edit.files == ["/work/pulse/app/layouts/default.vue"] and edit.op == "modify"
    assert edit.edits == [("             <i class=\"i-lucide:moon w-5 h-5\" />", "             <div class=\"i-lucide:moon w-5 h-5\" />")]
    _padding(log)
    assert any("default.vue" in p.text for p in log.run())


@pytest.mark.parametrize("section, left_open", [
    ("## Test Cards Added\nAdded 6 cards to `CardDataJSON.txt` (IDs 8-13) to exercise each new game action.", False),
    ("## Tests passing \u2705\nAll 41 golden tests pass, including 12 network security tests.", False),
    ("## Next steps\n- Add tests for `ModifyCardSystem` power changes.", True),
    ("## To test\n- Start two clients and play `DiscardCardGA` on each.", True),
])
def test_a_section_of_work_done_is_not_left_open(section, left_open):
    log = Log()
    log.user("Add the discard and modify game actions")
    log.write("Assets/Scripts/DiscardCardGA.cs", "public class DiscardCardGA : GameAction {}")
    log.say("Implemented the new game actions.\n\n## New Game Actions\n1. **DiscardCardGA** - moves cards to the discard pile\n\n"
            + section)
    _padding(log)
    left = [p.text for p in log.run() if p.text.startswith("Left open")]
    assert bool(left) == left_open, left


def test_lead_ins_joined_as_clauses_lose_their_colon():
    from memtui.core.extract.textutil import join_clauses

    assert join_clauses(["Added a new entry in `tasks.md`:", "Created `005-push.md` with details about:", "CLI behavior"], 200) == (
        "Added a new entry in `tasks.md`; Created `005-push.md` with details about; CLI behavior")
    assert join_clauses(["Record micro-versions before commit:", "Append-only journal"], 200, " ") == (
        "Record micro-versions before commit: Append-only journal")  # (a space joins a lead-in to its list)


def _cursor_v1_session() -> Log:
    """A SpecStory export of Cursor (v1): the edits are bare ```diff blocks that name no file."""
    log = Log()
    log.user("the session tests fail, fix them")
    log.call("read_file", "/work/minsky/src/domain/session.test.ts", "")
    log.say("I see several issues in the `SessionDB` class that need to be fixed. First, I'll update the `session.test.ts` file:")
    log.call("edit_file", "  // Verify result\n-  expect(result).not.toBeNull();\n+  expect(result).toBeDefined();", "")
    log.call("edit_file", "-  expect(path).toBe(`${dir}/sessions/x`);\n+  expect(path).toBe(join(dir, 'sessions/x'));", "")
    log.say("Now let's fix repo-utils.ts since many tests rely on it:")
    log.call("edit_file", "-export function normalize(name) {\n+export function normalizeRepoName(name: string) {", "")
    log.say("Let me run the tests again.")
    log.call("edit_file", "-  old\n+  new", "")
    return log


def test_an_edit_that_names_no_file_takes_the_file_its_lead_in_names():
    from memtui.core.extract.transcript import read

    log = _cursor_v1_session()
    edits = [a for a in read(log.session, log.messages).actions if a.family == "edit"]
    assert [a.files for a in edits] == [["session.test.ts"], ["session.test.ts"], ["repo-utils.ts"], []]
    assert [a.file_guessed for a in edits] == [True, True, True, False]


def test_no_bug_fix_without_a_fix_to_name():
    """A reply that names a bug before edits that show nothing (no file, or nothing read off the
    change) is not turned into a statement ending "Fix: ." or "Fixed in: ."."""
    log = _cursor_v1_session()
    _padding(log)
    texts = [p.text for p in log.run()]
    assert texts and not any(t.endswith(("Fix:.", "Fix: .", "Fixed in:.", "Fixed in: .")) for t in texts), texts
    assert not any("Fix: edited" in t for t in texts), texts
