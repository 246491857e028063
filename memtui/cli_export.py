"""The export and hooks commands (registered into memtui.cli's parser).

`memtui export` renders the curated context with memtui.core.export; `memtui hooks` installs,
removes and reports Claude Code hooks, and `memtui hooks run session-start|session-end` is what
those hooks run (always exit 0: a hook never fails the session; errors go to the hooks log).
"""

from __future__ import annotations

import os
import sys

from memtui.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, _open_db, _Parser, _print_json, _stderr
from memtui.core.constants import EXPORT_FORMATS as FORMATS  # not export.py: building the parser stays light
from memtui.core.constants import TIERS


def _tiers(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if part not in TIERS:
                raise CliError(f"unknown tier {part!r} (choose from {', '.join(TIERS)})", EXIT_USAGE)
            if part not in out:
                out.append(part)
    return tuple(out)


def _format_for(output: str | None) -> str:
    """The format a file name asks for when --format is not given: AGENTS.md, *.mdc, *.json; else claude-md."""
    name = os.path.basename(output or "").lower()
    if name == "agents.md":
        return "agents-md"
    if name.endswith(".mdc"):
        return "cursor-rules"
    if name.endswith(".json"):
        return "json"
    return "claude-md"


def cmd_export(args) -> int:
    from memtui.core.export import ExportError, ExportOptions, render, render_store, write_chunks, write_export

    if args.format is None:
        args.format = _format_for(args.output)
    tiers = _tiers(args.tier)
    if args.budget is not None and args.budget < 0:
        raise CliError("--budget must be 0 or more tokens", EXIT_USAGE)
    scoped = args.project is not None or bool(tiers) or args.budget is not None
    db = _open_db(args)
    options = ExportOptions(
        args.format, args.project if args.project is not None else os.getcwd(), tiers, args.budget
    )
    try:
        if args.format == "json" and not scoped:
            result = render_store(db)  # the whole store, as before: a backup
        else:
            result = render(db, options, with_entries=False)
    except ExportError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    for note in result.notes:
        _stderr(f"memtui: note: {note}")
    if result.left_out:
        _stderr(
            f"memtui: left out {result.left_out} lower-ranked memory(ies) beyond the budget of {args.budget} tokens"
            f" ({result.included} kept)"
        )
    if args.output:
        try:
            action = write_export(args.output, result, options)
        except ExportError as exc:
            raise CliError(str(exc), EXIT_ERROR) from None
        _stderr(f"memtui: {args.output}: {action} ({result.tokens} tokens)")
    if args.copy:
        from memtui.core.clipboard import ClipboardError, copy

        try:
            how = copy(result.text)
        except ClipboardError as exc:
            raise CliError(str(exc), EXIT_ERROR) from None
        _stderr(f"memtui: copied {result.tokens} tokens to the clipboard ({how})")
    if not args.output and not args.copy:
        out = getattr(sys.stdout, "buffer", None)
        if out is not None and (sys.stdout.encoding or "").lower().replace("-", "") == "utf8":
            sys.stdout.flush()
            write_chunks(out, result.chunks)  # the rendered bytes as they are (not decoded and encoded again)
            out.flush()
        else:
            sys.stdout.write(result.text)
    return EXIT_OK


# --- hooks ----------------------------------------------------------------------------------


def _db_for_hooks(args) -> str | None:
    """The database the hook commands should use: given only when not the default one."""
    if args.db:
        return os.path.abspath(os.path.expanduser(args.db))
    env = os.environ.get("MEMTUI_DB")
    return os.path.abspath(os.path.expanduser(env)) if env else None


def _scopes(value: str) -> tuple[str, ...]:
    return ("user", "project") if value == "all" else (value,)


def cmd_hooks_install(args) -> int:
    from memtui.core import hooks

    if args.budget is not None and args.budget < 0:
        raise CliError("--budget must be 0 or more tokens", EXIT_USAGE)
    if args.budget is not None and args.budget * 4 > hooks.CLAUDE_CONTEXT_CHARS:
        _stderr(f"memtui: note: Claude Code shows the model only a preview of hook context over"
                f" {hooks.CLAUDE_CONTEXT_CHARS:,} characters (about {hooks.CLAUDE_CONTEXT_CHARS // 4:,} tokens)")
    try:
        result = hooks.install(args.scope, db=_db_for_hooks(args), budget=args.budget)
    except hooks.HooksError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or 'settings.json'}: {exc.strerror}", EXIT_ERROR) from None
    if args.json:
        _print_json(result.as_dict())
        return EXIT_OK
    if result.action == "unchanged":
        print(f"memtui hooks already installed in {result.path} (no change)")
    else:
        print(f"{result.action} memtui hooks in {result.path}" + (f" (backup: {result.backup})" if result.backup else ""))
        for event, command in result.commands.items():
            print(f"  {event}: {command}")
    return EXIT_OK


def cmd_hooks_uninstall(args) -> int:
    from memtui.core import hooks

    results = []
    for scope in _scopes(args.scope):
        try:
            results.append(hooks.uninstall(scope))
        except hooks.HooksError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        except OSError as exc:
            raise CliError(f"cannot write {exc.filename or 'settings.json'}: {exc.strerror}", EXIT_ERROR) from None
    if args.json:
        _print_json([r.as_dict() for r in results])
        return EXIT_OK
    for r in results:
        if r.action == "removed":
            print(f"removed memtui hooks from {r.path}" + (f" (backup: {r.backup})" if r.backup else ""))
        else:
            print(f"no memtui hooks in {r.path}")
    return EXIT_OK


def cmd_hooks_status(args) -> int:
    from memtui.core import hooks

    found = hooks.status()
    if args.json:
        _print_json({"scopes": [s.as_dict() for s in found], "log": str(hooks.log_path())})
    else:
        for s in found:
            if s.error:
                state = f"error: {s.error}"
            elif s.installed:
                state = "installed"
            elif s.commands:
                state = "partly installed (" + ", ".join(s.commands) + ")"
            else:
                state = "not installed" + ("" if s.exists else " (no file)")
            print(f"{s.scope:<8} {s.path}: {state}")
            for event, commands in s.commands.items():
                for command in commands:
                    print(f"           {event}: {command}")
        print(f"hook errors are logged to {hooks.log_path()}")
    broken = [s for s in found if s.error]
    if broken:
        _stderr(f"memtui: error: {broken[0].error}")
        return EXIT_USAGE
    return EXIT_OK


def _read_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    return data.decode("utf-8", "replace")


def cmd_hooks_run(args) -> int:
    """What the installed hooks run. Always exits 0; errors go to the hooks log, never to the session."""
    from memtui.core import hooks

    try:
        payload = _read_stdin()
        if args.event == "session-start":
            budget = hooks.HOOK_BUDGET if args.budget is None else max(0, args.budget)
            text = hooks.run_session_start(payload, args.db, budget)
            if text:
                sys.stdout.write(text)
                sys.stdout.flush()
        elif args.wait or not hooks.should_detach(hooks.session_end_paths(payload)):  # (a bad input: logged)
            hooks.run_session_end(payload, args.db)
        else:  # a long session: imported by a process of its own, so the session ends at once
            hooks.detach_session_end(payload, args.db)
    except (Exception, KeyboardInterrupt) as exc:  # a hook must never fail the session
        lines = str(exc).strip().splitlines() or [""]
        hooks.log_error(args.event, f"{type(exc).__name__}: {lines[-1]}")
    return EXIT_OK


def cmd_hooks_missing(args) -> int:
    raise CliError("give an action: install, uninstall, status or run (see 'memtui hooks --help')", EXIT_USAGE)


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="export the curated context (approved memories) for the next session",
        description="Approved memories only: the developer tier, the project's tier and its pinned session"
        " memories, pinned first, within an optional token budget (estimated as UTF-8 bytes / 4)."
        " Except: a JSON export (--format json, or -o FILE.json) with no --project, --tier or --budget"
        " writes the whole store (every memory, proposed, rejected and forgotten too), a backup that"
        " 'memtui load' reads back.",
    )
    p.add_argument("--format", choices=FORMATS,
                   help="output format (default: from the -o name -- AGENTS.md, *.mdc, *.json -- else claude-md)")
    p.add_argument("--project", metavar="PATH", help="the project (a root or a path inside it; default: the current directory's)")
    p.add_argument("--tier", action="append", metavar="TIER",
                   help="export these tiers instead of the default scope (developer, project, session; repeat or comma-separate)")
    p.add_argument("--budget", type=int, metavar="TOKENS", help="at most this many tokens (lowest-ranked entries are left out)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE: memtui's block between markers; the rest of an existing file is kept")
    p.add_argument("--copy", action="store_true", help="put the text on the clipboard (OSC 52 and/or a system tool)")
    p.set_defaults(func=cmd_export)

    h = sub.add_parser("hooks", help="Claude Code hooks: import finished sessions, start sessions with the curated context")
    hs = h.add_subparsers(dest="hooks_command", metavar="ACTION", parser_class=_Parser)
    h.set_defaults(func=cmd_hooks_missing)

    q = hs.add_parser("install", help="add memtui's SessionStart and SessionEnd hooks to Claude Code's settings.json")
    q.add_argument("--scope", choices=("user", "project"), default="user",
                   help="user: ~/.claude/settings.json (default); project: ./.claude/settings.json")
    q.add_argument("--budget", type=int, metavar="TOKENS",
                   help="tokens of context the SessionStart hook prints at most (default 2000)")
    q.add_argument("--json", action="store_true", help="print JSON only")
    q.set_defaults(func=cmd_hooks_install)

    q = hs.add_parser("uninstall", help="remove memtui's hooks (only those) from Claude Code's settings.json")
    q.add_argument("--scope", choices=("user", "project", "all"), default="all", help="default: all")
    q.add_argument("--json", action="store_true", help="print JSON only")
    q.set_defaults(func=cmd_hooks_uninstall)

    q = hs.add_parser("status", help="which memtui hooks are installed where")
    q.add_argument("--json", action="store_true", help="print JSON only")
    q.set_defaults(func=cmd_hooks_status)

    q = hs.add_parser("run", help="run a hook (what Claude Code calls; reads the hook's JSON on stdin)")
    q.add_argument("event", choices=("session-start", "session-end"))
    q.add_argument("--budget", type=int, metavar="TOKENS", help="session-start: tokens of context at most")
    q.add_argument("--wait", action="store_true",
                   help="session-end: import before returning even a long transcript (default: over 4 MB, a"
                   " process of its own imports it, so the session ends at once)")
    q.set_defaults(func=cmd_hooks_run)
