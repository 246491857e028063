"""The export and hooks commands (registered into memtui.cli's parser)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from memtui.cli import EXIT_OK, EXIT_USAGE, CliError, _open_db, _stderr


def cmd_export(args) -> int:
    from memtui.core import memories

    db = _open_db(args)
    if args.format != "json":
        raise CliError(f"export format {args.format!r} is not available yet", EXIT_USAGE)
    text = json.dumps(memories.export_store(db), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror}", EXIT_USAGE) from None
        _stderr(f"memtui: wrote {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("export", help="export memories")
    p.add_argument("--format", default="json", choices=("json",))
    p.add_argument("-o", "--output", metavar="FILE")
    p.set_defaults(func=cmd_export)
