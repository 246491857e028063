"""Print a session from a memtui database as readable text (for writing expected memories by hand).

usage: python tests/eval/dump.py DB SESSION_ID [--max N]   (N = max chars per message, default 1500)
"""

from __future__ import annotations

import sys

from memtui.core.db import open_database
from memtui.core.store import get_session, session_messages


def main(argv: list[str]) -> int:
    db = open_database(argv[0])
    sid = int(argv[1])
    limit = int(argv[argv.index("--max") + 1]) if "--max" in argv else 1500
    session = get_session(db, sid)
    print(f"# session {sid} {session.tool} {session.external_id} {session.source_path} cwd={session.cwd}")
    total = 0
    for m in session_messages(db, sid):
        total += len(m.text)
        text = m.text if len(m.text) <= limit else m.text[:limit] + f" …[+{len(m.text) - limit}]"
        err = " ERROR" if m.is_error else ""
        print(f"--- [{m.id}] {m.role}/{m.kind} {m.tool_name or ''}{err}")
        print(text)
    print(f"# readable chars: {total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
