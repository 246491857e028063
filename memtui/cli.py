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
    print(text, file=sys.stderr, flush=True)


def _open_db(args):
    from memtui.core.db import DatabaseError, open_database

    try:
        return open_database(args.db)
    except DatabaseError as exc:
        raise CliError(str(exc), EXIT_USAGE if "directory" in str(exc) else EXIT_ERROR) from None


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
        importer = Importer(db, format=args.format, on_warning=on_warning)
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
    if args.json:
        _print_json(summary)
    else:
        print(
            f"imported {report.files_imported} file(s) ({report.bytes_read / 1e6:.1f} MB) in {elapsed:.2f}s:"
            f" {report.sessions_new} new session(s), {report.messages_new} new message(s);"
            f" {report.files_unchanged} unchanged, {report.files_failed} failed, {len(report.warnings)} warning(s)"
        )
    if report.bad_paths and not args.auto:
        return EXIT_USAGE
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


# --- the parser ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from memtui.core.importers import FORMATS

    parser = _Parser(prog="memtui", description="A memory a person can trust, for AI coding sessions.")
    parser.add_argument("--version", action="version", version=f"memtui {__version__}")
    parser.add_argument("--db", metavar="PATH", help="database file (default: $MEMTUI_DB or the user data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("import", help="import transcript files or folders")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (with --auto: project folders to scan for Aider/SpecStory)")
    p.add_argument("--auto", action="store_true", help="scan every supported tool's default locations")
    p.add_argument("--format", choices=FORMATS, help="force a format instead of detecting it")
    p.add_argument("--json", action="store_true", help="print the import report as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("sessions", help="list imported sessions")
    p.add_argument("--project", metavar="PATH", help="only sessions of this project (root path or a parent)")
    p.add_argument("--tool", help="only sessions of this tool (claude-code, codex, ...)")
    p.add_argument("--limit", type=int, default=None, help="at most N sessions")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_sessions)

    p = sub.add_parser("stats", help="counts and sizes")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_OK
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
        _stderr(f"memtui: error: {type(exc).__name__}: {exc}")
        if os.environ.get("MEMTUI_DEBUG"):
            raise
        return EXIT_ERROR
