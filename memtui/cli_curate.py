"""The curate commands: search, forget, restore, purge (registered into memtui.cli's parser)."""

from __future__ import annotations

import argparse
import sys

from memtui.cli import EXIT_OK, EXIT_USAGE, CliError, _ids, _memory_line, _open_db, _print_json, _stderr

PREVIEW_LINES = 10


def _duration(text: str) -> float:
    from memtui.core.curate import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"not a confidence between 0 and 1: {text!r}")
    return value


def _ask(args, question: str, refusal: str) -> bool:
    """y/N on the terminal (the prompt on stderr, so --json keeps stdout JSON); without a
    terminal to ask, refuse unless --yes."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise CliError(f"{refusal} without --yes (no terminal to ask)", EXIT_USAGE)
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def cmd_search(args) -> int:
    from memtui.core import search

    db = _open_db(args)
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1", EXIT_USAGE)
    if args.raw:
        hits = search.search_raw(db, args.query, limit=args.limit or 50)
        if args.json:
            _print_json([{
                "session_id": h.session_id, "message_id": h.message_id, "position": h.position, "role": h.role,
                "kind": h.kind, "session_title": h.session_title, "project": h.project, "tool": h.tool,
                "snippet": h.snippet, "spans": [list(s) for s in h.spans],
            } for h in hits])
            return EXIT_OK
        for h in hits:
            print(f"session {h.session_id:>5} #{h.position:<5} {h.role:<9} {h.snippet}")
        if not hits:
            print("no messages match")
        return EXIT_OK
    mem_hits = search.search_memories(db, args.query, limit=args.limit or 20)
    if args.json:
        _print_json([h.memory.as_dict() | {"score": h.score, "spans": [list(s) for s in h.spans]} for h in mem_hits])
        return EXIT_OK
    for h in mem_hits:
        print(f"{h.score:5.1f} {_memory_line(h.memory)}")
    if not mem_hits:
        print("no memories match")
    return EXIT_OK


def _rules(args):
    from memtui.core import curate
    from memtui.core.models import KINDS, TIERS

    for value, allowed, what in ((args.tier or [], TIERS, "tier"), (args.kind or [], KINDS, "kind")):
        for v in value:
            if v not in allowed:
                raise CliError(f"unknown {what} {v!r} (choose from {', '.join(allowed)})", EXIT_USAGE)
    rules = curate.ForgetRules(
        older_than_days=args.older_than, unseen_for_days=args.unseen_for,
        session_older_than_days=args.session_older_than, below_confidence=args.below_confidence,
        tiers=tuple(args.tier or ()), kinds=tuple(args.kind or ()), project=args.project,
        include_pinned=args.include_pinned,
    )
    if rules.is_empty():
        raise CliError("no rule given: that would forget every memory (see 'memtui forget --help')", EXIT_USAGE)
    return rules


def cmd_forget(args) -> int:
    from memtui.core import curate, memories

    rules = _rules(args)
    db = _open_db(args)
    count, preview = curate.preview_stale(db, rules, limit=PREVIEW_LINES)
    if args.dry_run:
        if args.json:
            _print_json({"dry_run": True, "count": count, "ids": curate.stale_ids(db, rules),
                         "preview": [m.as_dict() for m in preview]})
            return EXIT_OK
        print(f"would forget {count} memory(ies)" + (" (least recently seen first):" if count else ""))
        for m in preview:
            print(_memory_line(m))
        if count > len(preview):
            print(f"... and {count - len(preview)} more")
        return EXIT_OK
    if not args.yes:
        if sys.stdin.isatty():
            for m in preview:
                _stderr(_memory_line(m))
            if count > len(preview):
                _stderr(f"... and {count - len(preview)} more")
        if not _ask(args, f"Forget {count} memory(ies)?", f"not forgetting {count} memory(ies) (--dry-run shows them)"):
            _stderr("memtui: nothing forgotten")
            return EXIT_OK
    forgotten = memories.forget(db, curate.stale_ids(db, rules))
    if args.json:
        _print_json({"forgotten": len(forgotten), "ids": forgotten})
    else:
        print(f"forgot {len(forgotten)} memory(ies) (in the trash: 'memtui restore ID' or 'memtui undo' brings them back)")
    return EXIT_OK


def _trash_ids(db, args) -> list[int]:
    from memtui.core import curate

    if args.all and args.ids:
        raise CliError("give memory ids or --all, not both", EXIT_USAGE)
    if args.all:
        return curate.memory_ids(db, curate.MemoryQuery(forgotten=True))
    if not args.ids:
        raise CliError("give memory ids, or --all for the whole trash", EXIT_USAGE)
    return _ids(args.ids)


def _report(args, verb: str, ids: list[int]) -> int:
    if args.json:
        _print_json({verb: len(ids), "ids": ids})
    else:
        print(f"{verb} {len(ids)} memory(ies)")
    return EXIT_OK


def cmd_restore(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    try:
        restored = memories.restore(db, _trash_ids(db, args))
    except memories.MemoryError_ as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    return _report(args, "restored", restored)


def cmd_purge(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    ids = _trash_ids(db, args)
    try:
        ids = memories._existing(db, ids)
    except memories.MemoryError_ as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    live = [
        r[0] for start in range(0, len(ids), 900)
        for r in db.execute_sql(
            f"SELECT id FROM memory WHERE forgotten_at IS NULL AND id IN ({','.join('?' * len(ids[start:start + 900]))})",
            ids[start : start + 900],
        )
    ]
    if live:
        raise CliError(f"memory {live[0]} is not in the trash: forget it first", EXIT_USAGE)
    if not ids:
        return _report(args, "purged", [])
    if not _ask(args, f"Delete {len(ids)} memory(ies) for good?", f"not purging {len(ids)} memory(ies)"):
        _stderr("memtui: nothing purged")
        return EXIT_OK
    return _report(args, "purged", memories.purge(db, ids))


def register(sub) -> None:
    """Add the curate subcommands to memtui's parser (see memtui.cli.build_parser)."""
    p = sub.add_parser("search", help="fuzzy search memories (--raw: full-text search of the transcripts)")
    p.add_argument("query")
    p.add_argument("--raw", action="store_true", help="search the raw transcripts instead of memories")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N results (default 20; --raw 50)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "forget", help="move stale memories to the trash",
        description="Forget (soft delete) the live memories that any of the age/confidence rules selects, within"
        " the tier/kind/project given; pinned memories stay unless --include-pinned. A tier, kind or project"
        " alone forgets everything in it. Durations: 90d, 12h, 2w, or a number of days.",
    )
    p.add_argument("--older-than", type=_duration, metavar="AGE", help="created more than AGE ago")
    p.add_argument("--unseen-for", type=_duration, metavar="AGE", help="not seen (proposed or reinforced) for AGE")
    p.add_argument("--session-older-than", type=_duration, metavar="AGE", help="session-tier memories older than AGE")
    p.add_argument("--below-confidence", type=_confidence, metavar="X", help="confidence below X (0..1)")
    p.add_argument("--tier", action="append", metavar="T", help="only this tier (repeatable)")
    p.add_argument("--kind", action="append", metavar="K", help="only this kind (repeatable)")
    p.add_argument("--project", metavar="PATH", help="only this project (root path or a path inside it)")
    p.add_argument("--include-pinned", action="store_true", help="forget pinned memories too")
    p.add_argument("--dry-run", action="store_true", help="only count and show what would go")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=cmd_forget)

    for name, func, text in (
        ("restore", cmd_restore, "bring forgotten memories back from the trash"),
        ("purge", cmd_purge, "delete forgotten memories for good"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("ids", nargs="*", metavar="ID")
        p.add_argument("--all", action="store_true", help="the whole trash")
        if name == "purge":
            p.add_argument("--yes", action="store_true", help="do not ask")
        p.add_argument("--json", action="store_true", help="print JSON only")
        p.set_defaults(func=func)
