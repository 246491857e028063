"""The command line. Every command is a thin call into memtui.core; errors are one line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from memtui import __version__

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
MAX_SHOWN_WARNINGS = 50


class CliError(Exception):
    """A failure to report in one line with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + error
        raise CliError(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


def _stderr(text: str) -> None:
    """One line on stderr. Control characters (a file name may hold an escape sequence or a
    newline) are shown escaped: the terminal is not the input's to control."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    print(text, file=sys.stderr, flush=True)


def _open_db(args):
    from memtui.core.db import DatabaseError, open_database

    try:
        return open_database(args.db)
    except DatabaseError as exc:
        unusable = any(s in str(exc) for s in ("directory", "not a database", "cannot create"))
        raise CliError(str(exc), EXIT_USAGE if unusable else EXIT_ERROR) from None


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


# --- commands ------------------------------------------------------------------------------


def cmd_import(args) -> int:
    from memtui.core.importers.discover import project_locations, tool_locations
    from memtui.core.importers.pipeline import Importer, UsageError

    if not args.paths and not args.auto:
        raise CliError("nothing to import: give files or folders, or --auto", EXIT_USAGE)
    db = _open_db(args)
    shown = 0

    def on_warning(text: str) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_SHOWN_WARNINGS:
            _stderr(f"memtui: warning: {text}")

    try:
        # with the heuristic extractor the import workers extract ahead (report.extracted)
        importer = Importer(db, format=args.format, on_warning=on_warning, extractor=args.extractor)
    except UsageError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    targets: list[str] = []
    if args.auto:
        roots = [Path(p) for p in args.paths] or [Path.cwd()]
        locations = tool_locations() + project_locations(roots)
        if not args.json:
            for loc in locations:
                _stderr(f"memtui: scanning {loc.tool}: {loc.path}")
            if not locations:
                _stderr("memtui: no transcript folders found in the default locations")
        targets = [str(loc.path) for loc in locations]
    else:
        targets = list(args.paths)
    started = time.perf_counter()
    report = importer.import_paths(targets)
    elapsed = time.perf_counter() - started
    if shown > MAX_SHOWN_WARNINGS:
        _stderr(f"memtui: warning: ... and {shown - MAX_SHOWN_WARNINGS} more warnings")
    summary = report.as_dict() | {"seconds": round(elapsed, 3)}
    if args.extractor != "none" and report.touched_sessions:
        proposed = _propose(db, args, sorted(report.touched_sessions), ready=report.extracted)
        summary["proposals"] = proposed
    if args.json:
        _print_json(summary)
    else:
        print(
            f"imported {report.files_imported} file(s) ({report.bytes_read / 1e6:.1f} MB) in {elapsed:.2f}s:"
            f" {report.sessions_new} new session(s), {report.messages_new} new message(s);"
            f" {report.files_unchanged} unchanged, {report.files_failed} failed, {len(report.warnings)} warning(s)"
            + (f"; {report.files_skipped} other file(s) skipped: not a transcript of a known format"
               " (--format forces one)" if report.files_skipped else "")
        )
        if "proposals" in summary:
            p = summary["proposals"]
            print(f"proposed {p['created']} memory(ies) from {p['sessions']} session(s) ({args.extractor});"
                  f" {p['reinforced']} reinforced existing ones")
        if not report.files_seen and not report.bad_paths and not args.auto:
            from memtui.core.importers.pipeline import CANDIDATE_SUFFIXES

            kinds = ", ".join(CANDIDATE_SUFFIXES[:-1]) + " and " + CANDIDATE_SUFFIXES[-1]
            _stderr(f"memtui: no transcript files found there (memtui reads {kinds} files)")
    if report.bad_paths and not args.auto:
        return EXIT_USAGE
    if report.errors:  # files that failed for a reason other than the input (reported above)
        return EXIT_ERROR
    return EXIT_OK


def cmd_sessions(args) -> int:
    from memtui.core import store

    db = _open_db(args)
    sessions = store.list_sessions(db, project=args.project, tool=args.tool, limit=args.limit)
    if args.json:
        _print_json([s.as_dict() for s in sessions])
        return EXIT_OK
    if not sessions:
        print("no sessions (import some with 'memtui import --auto')")
        return EXIT_OK
    for s in sessions:
        title = (s.title or "").replace("\n", " ")[:60]
        print(
            f"{s.id:>6}  {_when(s.started_at)}  {s.tool:<11}  {s.message_count:>6} msgs  "
            f"{(s.project_root or s.cwd or '-')[-40:]:<40}  {title}"
        )
    return EXIT_OK


def cmd_stats(args) -> int:
    from memtui.core import store

    db = _open_db(args)
    st = store.stats(db)
    if args.json:
        _print_json(st.as_dict())
        return EXIT_OK
    print(f"database   {st.db_path} ({st.db_bytes / 1e6:.1f} MB)")
    print(f"projects   {st.projects}")
    print(f"sources    {st.sources} transcript file(s)")
    tools = ", ".join(f"{k} {v}" for k, v in sorted(st.sessions_by_tool.items())) or "-"
    print(f"sessions   {st.sessions} ({tools})")
    print(f"messages   {st.messages}")
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(st.memories_by_status.items())) or "-"
    print(f"memories   {st.memories} ({statuses})")
    return EXIT_OK


def _propose(db, args, session_ids: list[int], ready=None) -> dict:
    """Run the chosen extractor over sessions; returns the summary as a dict. `ready`: proposals
    the import workers made ahead (ImportReport.extracted), used where they are still valid."""
    from memtui.core import propose

    if args.extractor == "anthropic":
        from memtui.core.extract.anthropic import AnthropicExtractorError

        try:
            summary = propose.run_anthropic(
                db, session_ids, model=args.model, batch=args.batch, confirm=lambda text: _confirm(args, text),
                poll_interval=args.batch_poll,
                on_progress=None if getattr(args, "json", False) else lambda t: _stderr(f"memtui: {t}"),
            )
        except AnthropicExtractorError as exc:
            raise CliError(f"anthropic extractor: {exc}", EXIT_USAGE if exc.kind == "missing_key" else EXIT_ERROR) from None
    else:
        extractor = propose.get_extractor(args.extractor)
        summary = propose.propose_sessions(db, session_ids, extractor, args.extractor, ready=ready)
    for failure in summary.failed:
        _stderr(f"memtui: warning: {failure}")
    if summary.cancelled:
        _stderr("memtui: cancelled: nothing was sent")
    return {"sessions": summary.sessions, "created": summary.created, "reinforced": summary.reinforced,
            "superseding": summary.superseding, "failed": len(summary.failed)}


def _confirm(args, description: str) -> bool:
    """Show the estimated cost; ask unless --yes. Without a terminal to ask, refuse."""
    _stderr(f"memtui: {description}")
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise CliError("not sending anything without --yes (no terminal to ask)", EXIT_USAGE)
    try:
        answer = input("Send these sessions to the Anthropic API? [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def cmd_propose(args) -> int:
    from memtui.core import store

    db = _open_db(args)
    try:
        sessions = store.find_sessions(db, args.sessions) if args.sessions else store.list_sessions(db)
    except LookupError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    ids = [s.id for s in sessions]
    if args.extractor == "none":
        raise CliError("--extractor none proposes nothing", EXIT_USAGE)
    result = _propose(db, args, ids)
    if args.json:
        _print_json(result)
    else:
        print(f"proposed {result['created']} new memory(ies) from {result['sessions']} session(s)"
              f" ({args.extractor}); {result['reinforced']} reinforced, {result['superseding']} may supersede")
    return EXIT_OK if not result["failed"] else EXIT_ERROR


def _memory_line(m) -> str:
    pin = "*" if m.pinned else " "
    text = " ".join(m.text.split())
    return f"{m.id:>6}{pin} {m.status:<8} {m.tier:<9} {m.kind:<15} {m.confidence:4.2f}  {text}"


def cmd_memories(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    try:
        memories._check(args.tier, args.kind, args.status)
    except memories.MemoryError_ as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    found = memories.list_memories(
        db, tier=args.tier, status=args.status, project=args.project, kind=args.kind,
        pinned=True if args.pinned else None, forgotten=args.trash, limit=args.limit,
        session_id=args.session,
    )
    if args.json:
        _print_json([m.as_dict() for m in found])
        return EXIT_OK
    if not found:
        print("no memories match")
    for m in found:
        print(_memory_line(m))
    return EXIT_OK


def _ids(values: list[str]) -> list[int]:
    out = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise CliError(f"not a memory id: {part!r}", EXIT_USAGE)
            out.append(int(part))
    if not out:
        raise CliError("give at least one memory id", EXIT_USAGE)
    return out


def _memory_action(args, func, verb: str) -> int:
    from memtui.core import memories

    db = _open_db(args)
    try:
        changed = func(db, _ids(args.ids))
    except memories.MemoryError_ as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.json:
        _print_json({"changed": changed})
    else:
        print(f"{verb} {len(changed)} memory(ies)" + (f": {', '.join(map(str, changed))}" if changed else " (no change)"))
    return EXIT_OK


def cmd_approve(args) -> int:
    from memtui.core import memories

    return _memory_action(args, memories.approve, "approved")


def cmd_reject(args) -> int:
    from memtui.core import memories

    return _memory_action(args, memories.reject, "rejected")


def cmd_pin(args) -> int:
    from memtui.core import memories

    return _memory_action(args, memories.pin, "pinned")


def cmd_unpin(args) -> int:
    from memtui.core import memories

    return _memory_action(args, lambda db, ids: memories.pin(db, ids, False), "unpinned")


def cmd_edit(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    try:
        changed = memories.edit(db, _ids([args.id])[0], text=args.text, tier=args.tier, kind=args.kind)
    except memories.MemoryError_ as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    print(f"edited memory {args.id}" if changed else f"memory {args.id} already says that")
    return EXIT_OK


def cmd_add(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    try:
        memory_id = memories.add(db, args.text, tier=args.tier, kind=args.kind, project=args.project, pinned=args.pin)
    except memories.MemoryError_ as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.json:
        _print_json(memories.get_memory(db, memory_id).as_dict())
    else:
        print(f"remembered {memory_id}")
    return EXIT_OK


def cmd_undo(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    result = memories.redo(db) if args.command == "redo" else memories.undo(db)
    if result is None:
        print(f"nothing to {args.command}")
        return EXIT_OK
    verb = "redid" if args.command == "redo" else "undid"
    print(f"{verb} {result.action} of {len(result.memory_ids)} memory(ies): {', '.join(map(str, result.memory_ids[:20]))}")
    return EXIT_OK


def cmd_load(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"{args.file}: no such file", EXIT_USAGE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{args.file}: cannot read ({exc})", EXIT_USAGE) from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.file}: not valid JSON (line {exc.lineno}: {exc.msg})", EXIT_USAGE) from None
    try:
        result = memories.load_store(db, data)
    except memories.MemoryError_ as exc:
        raise CliError(f"{args.file}: {exc}", EXIT_USAGE) from None
    print(f"loaded {result.created} memory(ies); {result.skipped} already present")
    return EXIT_OK


def cmd_app(args) -> int:
    """No subcommand: open the TUI (built by the one factory the tests use too)."""
    db = _open_db(args)  # a broken path or database is a one-line error before the screen changes
    db.close()
    from memtui.ui.app import create_app

    app = create_app(db.database)
    app.run()
    return app.return_code or EXIT_OK


def cmd_demo(args) -> int:
    """The app on the sample sessions shipped in the package, in a temporary database unless --db."""
    import tempfile

    from memtui.core import propose
    from memtui.demo import load_demo

    db_arg = args.demo_db or args.db
    tmp = None if db_arg else tempfile.TemporaryDirectory(prefix="memtui-demo-")
    try:
        args.db = db_arg or str(Path(tmp.name) / "demo.db")
        db = _open_db(args)
        report = load_demo(db, on_warning=lambda t: _stderr(f"memtui: warning: {t}"))
        new = sorted(report.new_sessions)
        if new:
            propose.propose_sessions(db, new, propose.get_extractor("heuristic"), "heuristic")
        db.close()
        if args.no_ui:
            print(f"demo database {args.db}: {report.sessions_new} new session(s), {report.messages_new} message(s)")
            return EXIT_OK
        from memtui.ui.app import create_app

        app = create_app(args.db)
        app.run()
        return app.return_code or EXIT_OK
    finally:
        if tmp is not None:
            tmp.cleanup()


# --- the parser ----------------------------------------------------------------------------


def _anthropic_flags(p) -> None:
    p.add_argument("--model", help="anthropic extractor: the Claude model (default: a current Haiku)")
    p.add_argument("--yes", action="store_true", help="anthropic extractor: do not ask before spending tokens")
    p.add_argument("--batch", action="store_true", help="anthropic extractor: use the Message Batches API")
    p.add_argument("--batch-poll", type=float, default=30.0, metavar="SECONDS",
                   help="anthropic extractor: seconds between batch status checks (default 30)")


def build_parser() -> argparse.ArgumentParser:
    # the choices only: importing the modules that define them (peewee, the extractors, the
    # importers) would slow every command down, the SessionStart hook included
    from memtui.core.constants import EXTRACTORS, KINDS, TIERS
    from memtui.core.constants import IMPORT_FORMATS as FORMATS

    parser = _Parser(prog="memtui", description="A memory a person can trust, for AI coding sessions.")
    parser.add_argument("--version", action="version", version=f"memtui {__version__}")
    parser.add_argument("--db", metavar="PATH", help="database file (default: $MEMTUI_DB or the user data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("import", help="import transcript files or folders")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (with --auto: project folders to scan for Aider/SpecStory)")
    p.add_argument("--auto", action="store_true", help="scan every supported tool's default locations")
    p.add_argument("--format", choices=FORMATS, help="force a format instead of detecting it")
    p.add_argument("--json", action="store_true", help="print the import report as JSON")
    p.add_argument("--extractor", choices=EXTRACTORS, default="heuristic", help="propose memories with this extractor (default: heuristic)")
    _anthropic_flags(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("sessions", help="list imported sessions")
    p.add_argument("--project", metavar="PATH", help="only sessions of this project (root path or a parent)")
    p.add_argument("--tool", help="only sessions of this tool (claude-code, codex, ...)")
    p.add_argument("--limit", type=int, default=None, help="at most N sessions")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_sessions)

    p = sub.add_parser("propose", help="(re)run an extractor on imported sessions")
    p.add_argument("sessions", nargs="*", metavar="SESSION", help="session ids (default: all sessions)")
    p.add_argument("--extractor", choices=EXTRACTORS, default="heuristic")
    _anthropic_flags(p)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_propose)

    p = sub.add_parser("memories", help="list memories")
    p.add_argument("--tier", help="developer, project or session")
    p.add_argument("--status", help="proposed, approved or rejected")
    p.add_argument("--project", metavar="PATH", help="a project root (or a path inside it)")
    p.add_argument("--kind", help="decision, preference, convention, ...")
    p.add_argument("--session", type=int, metavar="ID", help="only proposals of this session")
    p.add_argument("--pinned", action="store_true", help="only pinned memories")
    p.add_argument("--trash", action="store_true", help="list forgotten memories instead")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_memories)

    for name, func, text in (
        ("approve", cmd_approve, "approve memories"),
        ("reject", cmd_reject, "reject memories"),
        ("pin", cmd_pin, "pin memories (always exported first)"),
        ("unpin", cmd_unpin, "unpin memories"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("ids", nargs="+", metavar="ID")
        p.add_argument("--json", action="store_true", help="print JSON only")
        p.set_defaults(func=func)

    p = sub.add_parser("edit", help="change a memory's text, tier or kind")
    p.add_argument("id", metavar="ID")
    p.add_argument("--text")
    p.add_argument("--tier", choices=TIERS)
    p.add_argument("--kind", choices=KINDS)
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("add", help="remember something by hand (approved at once)")
    p.add_argument("text")
    p.add_argument("--tier", choices=TIERS, default="project")
    p.add_argument("--kind", choices=KINDS, default="fact")
    p.add_argument("--project", metavar="PATH", help="the project (default: the current directory's)")
    p.add_argument("--pin", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_add)

    for name, text in (("undo", "undo the last change to memories"), ("redo", "redo what undo undid")):
        p = sub.add_parser(name, help=text)
        p.set_defaults(func=cmd_undo)

    p = sub.add_parser("demo", help="open the app on sample sessions (a temporary database unless --db)")
    p.add_argument("--db", dest="demo_db", metavar="PATH", help="keep the demo in this database")
    p.add_argument("--no-ui", action="store_true", help="only build the demo database")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("load", help="load a JSON export")
    p.add_argument("file", metavar="FILE.json")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("stats", help="counts and sizes")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_stats)

    from memtui import cli_curate, cli_export

    cli_curate.register(sub)  # search, forget, restore, purge
    cli_export.register(sub)  # export, hooks
    return parser


def _session_start_args(argv: Sequence[str]):
    """The arguments of `[--db PATH] hooks run session-start [--budget N]` (what the installed
    SessionStart hook runs at the start of every session), read without building the parser; None
    for any other command line (the parser reads it, and reports what is wrong)."""
    argv = list(argv)
    db = None
    if argv[:1] == ["--db"] and len(argv) > 1 and not argv[1].startswith("-"):
        db, argv = argv[1], argv[2:]
    elif argv and argv[0].startswith("--db=") and len(argv[0]) > 5:
        db, argv = argv[0][5:], argv[1:]
    if argv[:3] != ["hooks", "run", "session-start"]:
        return None
    rest = argv[3:]
    if rest and rest[0].startswith("--budget="):
        rest = ["--budget", rest[0][9:], *rest[1:]]
    budget = None
    if rest:
        if len(rest) != 2 or rest[0] != "--budget":
            return None
        try:
            budget = int(rest[1])  # as argparse's type=int reads it
        except ValueError:
            return None
    from types import SimpleNamespace

    return SimpleNamespace(db=db, command="hooks", hooks_command="run", event="session-start", budget=budget)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        fast = _session_start_args(sys.argv[1:] if argv is None else argv)
        if fast is not None:  # every session starts with this: no parser, no peewee
            from memtui.cli_export import cmd_hooks_run

            return cmd_hooks_run(fast)
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            return cmd_app(args)
        func: Callable = args.func
        return func(args)
    except CliError as exc:
        _stderr(f"memtui: error: {exc}")
        return exc.code
    except KeyboardInterrupt:
        _stderr("memtui: interrupted")
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:  # never a bare traceback
        lines = str(exc).strip().splitlines() or [""]  # a worker's traceback: its last line says what
        _stderr(f"memtui: error: {type(exc).__name__}: {lines[0]}" + (f" ... {lines[-1]}" if len(lines) > 1 else ""))
        if os.environ.get("MEMTUI_DEBUG"):
            raise
        return EXIT_ERROR
