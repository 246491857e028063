"""Export: the curated context, rendered per format within a token budget.

What is exported: approved memories only (never proposed, rejected or forgotten ones). The
default scope is the developer tier, the chosen project's project tier, and that project's
pinned session memories; `ExportOptions.tiers` picks tiers explicitly instead (then the session
tier means every approved session memory of the project, pinned or not).

Rank: pinned first, then tier (developer, project, session), then kind (constraint, preference,
convention, decision, failed_approach, bug_fix, relationship, fact, todo), then recency
(last_seen_at, newest first), then id. The budget keeps a prefix of that rank: the first entry
that does not fit and every entry ranked below it are left out (`ExportResult.left_out`).

Documents (claude-md, agents-md, cursor-rules, markdown) group the kept entries under headings in
a fixed order (`SECTIONS`), in rank order within each heading. The output depends on the store
only: no "now", so the same store gives byte-identical output.

Tokens: `count_tokens` estimates ceil(UTF-8 bytes / 4): for English text and code that is the
usual characters / 4 rule of thumb for Claude's and OpenAI's tokenizers; for text in scripts such
as CJK (three bytes a character) it comes closer than characters / 4, which counts a quarter of
what those tokenizers make of it (they still make more). The budget is enforced on that estimate
of the whole rendered text (headings, markers and frontmatter included), so
`count_tokens(result.text) <= budget` whenever the fixed header fits.

Secrets: every text was redacted when it was stored; what an export writes is checked once more
as a last line of defence (`redact.clean_document`: the same as `redact.clean`, reading only the
lines that could hold a secret), and scrubbed entry by entry if that finds anything. A text that
an earlier check found clean carries a stamp (core/stamps.py) and is not read again: the
whole-document path reads no text at all when every one is stamped. For JSON the check reads the
string values before JSON escaping (keys and numbers are memtui's own; escaping could hide a
secret from the patterns).

This module stays light (no rapidfuzz, importers or textual): the SessionStart hook imports it.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
import os
import re
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import orjson

from memtui.core.rank import KIND_ORDER, TIER_ORDER, exportable_sql, group_of, group_sql, order_sql
from memtui.core.redact import clean, clean_document
from memtui.core import stamps
from memtui.core.stamps import current_stamp, redact_stamp

if TYPE_CHECKING:  # imported when records are made: the SessionStart hook does without
    from memtui.core.records import MemoryRecord

FORMATS = ("claude-md", "agents-md", "cursor-rules", "markdown", "json")
SECTIONS = (
    "Preferences", "Architecture and decisions", "Conventions", "Constraints", "Known pitfalls", "Recent work",
)
_SECTION_OF_KIND = {
    "preference": "Preferences",
    "decision": "Architecture and decisions",
    "relationship": "Architecture and decisions",
    "fact": "Architecture and decisions",
    "convention": "Conventions",
    "constraint": "Constraints",
    "failed_approach": "Known pitfalls",
    "bug_fix": "Known pitfalls",
    "todo": "Recent work",
}
EXPORT_VERSION = 1  # the "memtui" key of the JSON export (same schema as memories.export_store)
BEGIN = "<!-- memtui:begin -->"
END = "<!-- memtui:end -->"
_BEGIN_PREFIX = "<!-- memtui:begin"
_END_PREFIX = "<!-- memtui:end"
BYTES_PER_TOKEN = 4


class ExportError(Exception):
    """An export that cannot be written or rendered as asked: one-line message."""


@dataclass(frozen=True)
class ExportOptions:
    format: str = "claude-md"
    project: str | None = None  # a project root or a path inside it; None = developer tier only
    tiers: tuple[str, ...] = ()  # empty = the default scope (developer + project + pinned session)
    budget: int | None = None  # tokens; None = no limit


class ExportEntry:
    """One candidate: its memory, the heading it goes under, its tokens, and whether it is in the
    text (False = fell outside the budget). The MemoryRecord is made from the row on first use:
    the Export screen looks at a few entries of a large export, not at every one."""

    __slots__ = ("_row", "_memory", "section", "tokens", "included")

    def __init__(self, memory, section: str, tokens: int, included: bool) -> None:
        # `memory`: a MemoryRecord, or a full row of select_rows (made into one when asked for)
        self._row, self._memory = (memory, None) if isinstance(memory, tuple) else (None, memory)
        self.section, self.tokens, self.included = section, tokens, included

    @property
    def memory(self) -> MemoryRecord:
        if self._memory is None:
            self._memory = _record(self._row)
        return self._memory

    def _key(self) -> tuple:
        return (self.memory, self.section, self.tokens, self.included)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExportEntry) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"ExportEntry(memory={self.memory!r}, section={self.section!r}, tokens={self.tokens!r},"
                f" included={self.included!r})")


class ExportResult:
    """A rendered export. `text` and `data` (its UTF-8 bytes) are made from each other when first
    asked for: the whole-document path renders bytes, which the command line writes as they are
    (decoding and encoding 20 MB again would cost more than rendering it)."""

    __slots__ = ("_text", "_data", "_chunks", "tokens", "entries", "left_out", "project_root", "notes", "included")

    def __init__(self, text: str | None, tokens: int, entries: tuple[ExportEntry, ...], left_out: int,
                 project_root: str | None = None, notes: tuple[str, ...] = (), included: int = 0, *,
                 data: bytes | tuple[bytes, ...] | None = None) -> None:
        if text is None and data is None:
            raise ValueError("ExportResult needs text or data")
        self._text = text
        # data may come in pieces (the JSON path's 70 MB): joined only when `data` is asked for
        self._chunks, self._data = (data, None) if isinstance(data, tuple) else (None, data)
        self.tokens = tokens  # estimated tokens of text
        self.entries = entries  # every candidate, in rank order, included or not
        self.left_out = left_out  # how many fell outside the budget
        self.project_root = project_root  # the project the export was made for (None: developer tier only)
        self.notes = notes  # things to tell the person (unknown project, ...), one line each
        self.included = included  # how many entries are in the text

    @property
    def text(self) -> str:
        """The rendered document."""
        if self._text is None:
            self._text = self.data.decode("utf-8")
        return self._text

    @property
    def data(self) -> bytes:
        """The rendered document in UTF-8."""
        if self._data is None:
            self._data = b"".join(self._chunks) if self._chunks is not None else self._text.encode("utf-8")
        return self._data

    @property
    def chunks(self) -> tuple[bytes, ...]:
        """`data` in pieces, to write one after the other (no copy of the whole)."""
        if self._chunks is not None and self._data is None:
            return self._chunks
        return (self.data,)

    @property
    def size(self) -> int:
        """len(data)."""
        return sum(map(len, self.chunks)) if self._text is None else len(self.data)

    def _key(self) -> tuple:
        return (self.text, self.tokens, self.entries, self.left_out, self.project_root, self.notes, self.included)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExportResult) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"ExportResult(tokens={self.tokens}, included={self.included}, left_out={self.left_out},"
                f" project_root={self.project_root!r}, notes={self.notes!r}, {self.size} bytes)")


def count_tokens(text: str) -> int:
    """Estimated tokens: ceil(UTF-8 bytes / 4) (see the module docstring). Used by the CLI, the hook
    and the Export screen."""
    return (_size(text) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


def _size(text: str) -> int:
    """UTF-8 bytes of `text`."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


# --- selecting -----------------------------------------------------------------------------

# The first six columns are all that ranking and the documents need; the rest make MemoryRecords
# (and the last, index 17, says whether the text is stamped clean: see core/stamps.py).
_SLIM = "m.id, m.tier, m.kind, m.text, m.pinned, m.last_seen_at"
_REST = (
    ", m.status, m.confidence, m.project_id, p.root, m.session_id, s.external_id, m.extractor, m.created_at,"
    " m.updated_at, m.forgotten_at, m.supersedes_id, m.clean_stamp"
)
_FROM = " FROM memory m LEFT JOIN project p ON p.id = m.project_id LEFT JOIN session s ON s.id = m.session_id"
# Three more columns, last in every row, hold the rank: rows come from SQLite in id order, newest
# first (the table read backwards: no sort), then two stable sorts on plain numbers (last seen, then
# pinned/tier/kind) finish it; several times as fast as SQLite's ORDER BY or one sort on tuples.
_RANK_COLS = f", {group_sql('m')}, -m.last_seen_at, -m.id"  # see core/rank.py


def _rank_sort(rows: list[tuple]) -> None:
    """Sort rows read in id order, newest first, by rank (see _RANK_COLS)."""
    rows.sort(key=itemgetter(-2))  # -last_seen_at: stable, so ties keep the newest id first
    rows.sort(key=itemgetter(-3))


def _record(r: tuple) -> MemoryRecord:
    from memtui.core.records import MemoryRecord

    return MemoryRecord(r[0], r[1], r[2], r[3], r[6], bool(r[4]), r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                        r[14], r[5], r[15], r[16])


def resolve_project(db, project: str) -> tuple[int, str] | None:
    """(id, root) of the stored project whose root is `project` or contains it (the deepest one);
    else of the one project whose name is exactly `project`; else None."""
    candidates = []
    for path in (os.path.abspath(os.path.expanduser(project)), os.path.realpath(os.path.expanduser(project))):
        path = path.rstrip("/") or "/"
        if path not in candidates:
            candidates.append(path)
    for path in candidates:
        row = db.execute_sql(
            "SELECT id, root FROM project WHERE root = ? OR substr(?, 1, length(root) + 1) = root || '/'"
            " ORDER BY length(root) DESC, id LIMIT 1",
            (path, path),
        ).fetchone()
        if row:
            return row[0], row[1]
    rows = db.execute_sql("SELECT id, root FROM project WHERE name = ? ORDER BY id LIMIT 2", (project,)).fetchall()
    return (rows[0][0], rows[0][1]) if len(rows) == 1 else None


def _scope(tiers: tuple[str, ...], project_id: int | None) -> tuple[str, list]:
    parts: list[str] = []
    args: list = []
    chosen = tiers or TIER_ORDER
    if "developer" in chosen:
        parts.append("m.tier = 'developer'")
    if project_id is not None:
        if "project" in chosen:
            parts.append("(m.tier = 'project' AND m.project_id = ?)")
            args.append(project_id)
        if "session" in chosen:
            parts.append("(m.tier = 'session' AND m.project_id = ?" + ("" if tiers else " AND m.pinned = 1") + ")")
            args.append(project_id)
    return ("(" + " OR ".join(parts) + ")" if parts else "0"), args


def _target(db, options: ExportOptions) -> tuple[str, list, str | None, list[str]]:
    """The SQL condition (on `memory m`) and its arguments that pick the candidates, the project
    root, and notes."""
    bad = [t for t in options.tiers if t not in TIER_ORDER]
    if bad:
        raise ExportError(f"unknown tier {bad[0]!r} (choose from {', '.join(TIER_ORDER)})")
    notes: list[str] = []
    project_id = root = None
    if options.project:
        found = resolve_project(db, options.project)
        if found:
            project_id, root = found
        else:
            notes.append(f"no project known at {options.project}: exporting the developer tier only")
    where, args = _scope(tuple(options.tiers), project_id)
    return where, args, root, notes


def select_rows(db, options: ExportOptions, full: bool = True) -> tuple[list[tuple], str | None, list[str]]:
    """The candidate rows in rank order (id, tier, kind, text, pinned, last_seen_at, and with
    `full` the rest of a MemoryRecord's columns and clean_stamp, then three rank columns), the
    project root, and notes."""
    where, args, root, notes = _target(db, options)
    if full:
        sql = f"SELECT {_SLIM}{_REST}{_RANK_COLS}{_FROM}"
    else:
        sql = f"SELECT {_SLIM}{_RANK_COLS} FROM memory m"
    sql += f" WHERE m.status = 'approved' AND m.forgotten_at IS NULL AND {where} ORDER BY m.id DESC"
    rows = db.execute_sql(sql, args).fetchall()
    _rank_sort(rows)
    return rows, root, notes


def select(db, options: ExportOptions) -> tuple[list[MemoryRecord], str | None, list[str]]:
    """The candidate memories in rank order, the project root, and notes."""
    rows, root, notes = select_rows(db, options)
    return [_record(r) for r in rows], root, notes


def section_for(tier: str, kind: str) -> str:
    """The heading a memory goes under: session memories are recent work; else by kind."""
    if tier == "session":
        return "Recent work"
    return _SECTION_OF_KIND.get(kind, "Architecture and decisions")


_SECTION_MAP = {(t, k): section_for(t, k) for t in TIER_ORDER for k in KIND_ORDER}


def section_of(memory: MemoryRecord) -> str:
    return section_for(memory.tier, memory.kind)


# --- rendering -----------------------------------------------------------------------------
# Rows are (id, tier, kind, text, pinned, last_seen_at, ...): see select_rows.


def _one_text(text: str) -> str:
    """A memory's text as the body of a list item: continuation lines indented, and nothing
    that could pass for memtui's markers."""
    text = text.strip()
    if "<!--" in text and "memtui:" in text:
        text = text.replace("<!--", "&lt;!--")
    if "\n" in text:
        text = "\n  ".join(line.rstrip() for line in text.split("\n"))
    return text


def _item(row: tuple, text: str) -> str:
    return "- " + _one_text(text)


def _item_markdown(row: tuple, text: str) -> str:
    pin = "pinned, " if row[4] else ""
    return f"- {_one_text(text)} _({pin}{row[1]}, {row[2].replace('_', ' ')}, #{row[0]})_"


_ITEMS: dict[str, Callable[[tuple, str], str]] = {
    "claude-md": _item,
    "agents-md": _item,
    "cursor-rules": _item,
    "markdown": _item_markdown,
}


def _project_name(root: str | None) -> str:
    if not root:
        return ""
    name = os.path.basename(root.rstrip("/")) or root
    return re.sub(r"[^\w .+-]", "", name).strip() or "this project"


def _intro(root: str | None) -> str:
    where = f"what holds in {_project_name(root)}" if root else "no project-specific entries"
    return f"Curated by hand with memtui: approved memories only, pinned first ({where}).\n"


def _header(fmt: str, root: str | None) -> str:
    name = _project_name(root)
    if fmt == "claude-md":
        return "# Curated context (memtui)\n\n" + _intro(root)
    if fmt == "agents-md":
        return "# Context for coding agents (memtui)\n\n" + _intro(root)
    if fmt == "cursor-rules":
        about = f" for {name}" if name else ""
        return (
            "---\n"
            f"description: Curated context from memtui{about} - preferences, decisions, conventions,"
            " constraints and known pitfalls\n"
            "globs:\n"
            "alwaysApply: true\n"
            "---\n"
            f"{BEGIN}\n"
            "# Curated context (memtui)\n\n" + _intro(root)
        )
    return "# memtui export\n\n" + (f"Project: {name}\n" if name else "Developer tier only.\n")


def _footer(fmt: str) -> str:
    return f"{END}\n" if fmt == "cursor-rules" else ""


class _Layout:
    """What a renderer produced: the text, which rows were kept, and each kept row's tokens."""

    def __init__(self, text: str | None, kept: int, tokens: list[int], sections: list[str], probe: str | None = None,
                 kept_all: bool = False, data: bytes | None = None) -> None:
        self.text, self.kept, self.tokens, self.sections = text, kept, tokens, sections
        self.data = data  # the text as UTF-8 bytes, when the renderer made bytes (then text is None)
        self.kept_all = kept_all  # True: every row given was kept (the budget did not stop it)
        # what the last redaction pass reads: the text itself, or for JSON its string values
        # unescaped (escaping could hide a secret from the patterns; keys and numbers are ours)
        self.probe = text if probe is None else probe


_BUDGET_CHUNK = 256  # rows fetched at a time when a budget will likely stop the export early


def _render_document(fmt: str, rows: Iterable[tuple], root: str | None, limit: int | None, scrub: bool,
                     all_tokens: bool) -> _Layout:
    plain = _ITEMS[fmt] is _item
    item = _ITEMS[fmt]
    header, footer = _header(fmt, root), _footer(fmt)
    used = _size(header) + _size(footer)
    sections: dict[str, list[str]] = {name: [] for name in SECTIONS}
    kept_tokens: list[int] = []
    kept_sections: list[str] = []
    kept_all = True
    section_map = _SECTION_MAP
    for row in rows:
        text = clean(row[3]) if scrub else row[3]
        if plain and "\n" not in text and "<!--" not in text:
            piece = "- " + text  # the common case, inline: a large export is mostly this loop
        else:
            piece = item(row, text)
        section = section_map.get((row[1], row[2])) or section_for(row[1], row[2])
        items = sections[section]
        cost = _size(piece) + 1  # "piece\n"
        if not items:
            cost += len(section) + 6  # "\n## Section\n\n"
        if limit is not None and used + cost > limit:
            kept_all = False
            break
        used += cost
        items.append(piece)
        if all_tokens:
            kept_tokens.append(count_tokens(piece))
        kept_sections.append(section)
    out = [header]
    for name in SECTIONS:
        items = sections[name]
        if items:
            out.append(f"\n## {name}\n\n")
            out.append("\n".join(items))
            out.append("\n")
    out.append(footer)
    kept = len(kept_sections)
    if all_tokens:
        for row in rows[kept:]:  # a list whenever entries are wanted
            kept_tokens.append(count_tokens(item(row, clean(row[3]) if scrub else row[3])))
            kept_sections.append(section_for(row[1], row[2]))
    return _Layout("".join(out), kept, kept_tokens, kept_sections, kept_all=kept_all)


# The whole document without a budget or entries (`memtui export`): SQLite reads the `memory_rank`
# index (core/rank.py) in rank order and joins each section's texts into one string
# (group_concat over an ordered subquery), so Python handles a handful of strings, not a row per
# memory. Without the index (an older store opened read-only by the hook) SQLite sorts instead.
_EXPORTABLE_M = exportable_sql("m")
_ORDER_M = order_sql("m")
_GROUP_M = group_sql("m")
# the rank groups of each section, in rank order (pinned first); markdown's item tail per group
_SECTION_GROUPS = {
    name: sorted(group_of(p, t, k) for p in (0, 1) for t in TIER_ORDER for k in KIND_ORDER
                 if section_for(t, k) == name)
    for name in SECTIONS
}
_KNOWN_GROUPS = sorted(g for groups in _SECTION_GROUPS.values() for g in groups)
# (low, high): the rank groups between the known ones (a tier or kind this version does not list,
# a pinned other than 0 and 1); a row there sends render to the general path
_GAPS = [(-(10**9), _KNOWN_GROUPS[0])] + [(a, b) for a, b in zip(_KNOWN_GROUPS, _KNOWN_GROUPS[1:]) if b > a + 1] + [
    (_KNOWN_GROUPS[-1], 10**9)]
_MARKDOWN_TAIL = {
    group_of(p, t, k): f" _({'pinned, ' if p else ''}{t}, {k.replace('_', ' ')}, #"
    for p in (0, 1) for t in TIER_ORDER for k in KIND_ORDER
}


# One query per section (markdown: per rank group, whose tail follows each text) over the index, in
# its order: the items of the section joined by SQLite as UTF-8 bytes (CAST ... AS BLOB: no
# decoding into a str, which for 20 MB of text costs as much as the query), and their number.
_SECTION_SQL = (
    "SELECT count(*), CAST(group_concat({item}, {sep}) AS BLOB)"
    " FROM (SELECT {columns} FROM memory m WHERE {exportable} AND {{where}} AND {group} {{groups}}"
    " ORDER BY {order}) m"
)
# (the separators are literals with a newline in them: an expression such as char(10) || '- ' is
# worked out again for every row, ~10% of the query)
_PLAIN_SQL = _SECTION_SQL.format(
    item="m.text", sep="'\n- '", columns="m.text", exportable=_EXPORTABLE_M, group=_GROUP_M, order=_ORDER_M)
_MARKDOWN_SQL = _SECTION_SQL.format(
    item="m.item", sep="')_\n- '", columns="m.text || ? || m.id AS item",
    exportable=_EXPORTABLE_M, group=_GROUP_M, order=_ORDER_M)


def _whole_document(db, fmt: str, where: str, args: list, root: str | None) -> tuple[bytes, int] | None:
    """(UTF-8 text, entries) of the document of every candidate, as _render_document lays it out,
    checked for secrets; None when a row's pinned, tier or kind is not one this version ranks, or a
    text cannot be stamped clean (see core/stamps.py): then render takes the general path, which
    lays out and scrubs entry by entry."""
    header, footer = _header(fmt, root), _footer(fmt)
    if clean(header + footer) != header + footer:  # (the header names the project)
        return None
    stamps.check(db, _EXPORTABLE_M, where, args)  # each text once, ever (core/stamps.py)
    with _snapshot(db):  # what was checked is what is read
        return _read_document(db, fmt, where, args, header, footer)


@contextmanager
def _snapshot(db) -> Iterator[None]:
    """One read transaction: every query in it sees the store as the first one did."""
    if hasattr(db, "atomic"):
        with db.atomic("DEFERRED"):
            yield
        return
    db.execute_sql("BEGIN")  # (the SessionStart hook's own sqlite3 connection)
    try:
        yield
    finally:
        db.execute_sql("COMMIT")


def _read_document(db, fmt: str, where: str, args: list, header: str, footer: str) -> tuple[bytes, int] | None:
    base = f" FROM memory m WHERE {_EXPORTABLE_M} AND {where}"
    for low, high in _GAPS:
        if db.execute_sql(f"SELECT 1{base} AND {_GROUP_M} > ? AND {_GROUP_M} < ? LIMIT 1", [*args, low, high]).fetchone():
            return None
    if db.execute_sql(f"SELECT 1{base} AND {_GROUP_M} IS NULL LIMIT 1", args).fetchone():
        return None
    if not stamps.all_checked(db, _EXPORTABLE_M, where, args):
        return None
    markdown = fmt == "markdown"
    out = [header.encode()]
    total = 0
    for name in SECTIONS:
        groups = _SECTION_GROUPS[name]
        if markdown:  # the tail after each text is its rank group's
            # (BETWEEN: with `= ?` SQLite 3.40 sorts the rows again instead of reading the index in order)
            sql = _MARKDOWN_SQL.format(where=where, groups="BETWEEN ? AND ?")
            runs = [[_MARKDOWN_TAIL[g], *args, g, g] for g in groups]
        else:
            sql = _PLAIN_SQL.format(where=where, groups=f"IN ({','.join('?' * len(groups))})")
            runs = [[*args, *groups]]
        first = True
        for params in runs:
            count, items = db.execute_sql(sql, params).fetchone()
            if not count:
                continue
            out.append(f"\n## {name}\n\n- ".encode() if first else b"\n- ")
            out.append(items)
            if markdown:
                out.append(b")_")
            first = False
            total += count
        if not first:
            out.append(b"\n")
    out.append(footer.encode())
    return b"".join(out), total


# JSON without a budget or entries: the pieces of memory_json (db.JSON_SQL), one per memory as
# _render_json lays it out, read in rank order (the table's key) and handed to the writer one after
# the other with the commas between them: no Python object per memory, and no 70 MB string made
# only to be written out (the command line writes the pieces; `data` joins them when asked). An
# export makes the pieces it lacks (_fill_json) when it can write at once.
_JSON_PIECES_SQL = "SELECT m.piece FROM memory_json m WHERE {where} ORDER BY m.grp, m.last_seen_at DESC, m.id DESC"
_JSON_OPT = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_PEM_MARKS = ("-----BEGIN ", "-----END ")


def _json_piece(obj: dict) -> bytes:
    """One memory's item in the JSON export: a newline, and the object indented by four."""
    return b"\n    " + orjson.dumps(obj, option=_JSON_OPT).replace(b"\n", b"\n    ")


def _whole_json(db, where: str, args: list) -> tuple[tuple[bytes, ...], int] | None:
    """(UTF-8 text in pieces, entries) of the JSON export of every candidate, as _render_json lays it out;
    None when a candidate has no piece that this redactor checked (then render takes the general
    path: a store it cannot write, a string a piece cannot hold)."""
    _fill_json(db, where, args)
    missing = f"SELECT 1 FROM memory m WHERE {_EXPORTABLE_M} AND m.json_ready IS NULL AND {where} LIMIT 1"
    with _snapshot(db):  # what was checked is what is read
        if current_stamp(db) is None or db.execute_sql(missing, args).fetchone():
            return None
        if db.execute_sql("SELECT 1 FROM memory_json_stale LIMIT 1").fetchone():  # (a store it could not write)
            where += " AND m.id NOT IN (SELECT id FROM memory_json_stale)"
        pieces = list(map(itemgetter(0), db.execute_sql(_JSON_PIECES_SQL.format(where=where), args).fetchall()))
    if not pieces:
        return (_JSON_EMPTY.encode(),), 0
    chunks = [b","] * (2 * len(pieces) + 1)  # head, piece, ",", piece, ..., piece, tail
    chunks[1:-1:2] = pieces
    chunks[0], chunks[-1] = _JSON_HEAD.encode(), _JSON_TAIL.encode()
    return tuple(chunks), len(pieces)


def _fill_json(db, where: str, args: list) -> None:
    """Make the pieces the candidates lack, if the store can be written at once (never waits for
    an import). A piece is made only when every string in it is clean (the redactor leaves it as
    it is: each string is checked as the general path checks a whole export, and a text stamped
    clean is not read again) and holds no line of a private key (the redactor reads a key across
    strings): so joining pieces gives what the general path gives, unscrubbed."""
    stamp = redact_stamp()
    base = f"{_FROM} WHERE {_EXPORTABLE_M} AND m.json_ready IS NULL AND {where}"
    if not stamp or (current_stamp(db) == stamp and not db.execute_sql(f"SELECT 1{base} LIMIT 1", args).fetchone()
                     and not db.execute_sql("SELECT 1 FROM memory_json_stale LIMIT 1").fetchone()):
        return  # the usual case: nothing to make (db.py's memory_json_missing index), nothing out of date

    def fill() -> None:
        stamps.make_current(db, stamp)
        # the pieces that went out of date since the last export (db.JSON_SQL)
        db.execute_sql("DELETE FROM memory_json WHERE id IN (SELECT id FROM memory_json_stale)")
        db.execute_sql("DELETE FROM memory_json_stale")
        rows = db.execute_sql(f"SELECT {_SLIM}{_REST}, {_GROUP_M}{base}", args).fetchall()
        evidence, sessions = _evidence(db, rows)
        made: list[tuple] = []
        probes: list[str] = []
        for r in rows:
            obj = _json_object(r, evidence.get(r[0], []), sessions.get(r[10], (None, None)), False)
            strings = [v for v in (obj["project"], obj["session"], obj["extractor"], obj["tool"]) if v]
            strings += [v for e in obj["evidence"] for v in (e["quote"], e["message"]) if v]
            if r[17] != stamp:
                strings.append(r[3])
            if r[-1] is None or r[5] is None or r[1] is None or any(m in v for v in strings for m in _PEM_MARKS):
                continue  # (a rank the table cannot key: the general path sorts it)
            made.append((r[-1], r[5], r[0], r[1], r[4], r[8], _json_piece(obj)))
            probes.append("\n".join(strings))
        probe = "\n".join(probes)
        if clean_document(probe) != probe:  # a secret got past the import: those stay unmade
            made = [m for m, p in zip(made, probes) if clean_document(p) == p]
        made.sort(key=lambda m: (m[0], -m[1], -m[2]))  # in the table's order: appends, not scattered inserts
        conn = db.connection()
        conn.executemany(
            "INSERT OR REPLACE INTO memory_json (grp, last_seen_at, id, tier, pinned, project_id, piece)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", made)
        ids = [m[2] for m in made]
        for start in range(0, len(ids), 50_000):
            chunk = ids[start : start + 50_000]
            conn.execute(f"UPDATE memory SET json_ready = 1 WHERE id IN ({','.join(map(str, chunk))})")

    stamps.at_once(db, fill)


def _evidence(db, rows: list[tuple]) -> tuple[dict[int, list[tuple]], dict[int, tuple]]:
    """Evidence (message id, message external id, quote) per memory, and (tool, external id) per session."""
    evidence: dict[int, list[tuple]] = {}
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for mid, msg_id, ext, quote in db.execute_sql(
            "SELECT e.memory_id, e.message_id, msg.external_id, e.quote FROM evidence e"
            f" LEFT JOIN message msg ON msg.id = e.message_id WHERE e.memory_id IN ({','.join('?' * len(chunk))})"
            " ORDER BY e.id",
            chunk,
        ):
            evidence.setdefault(mid, []).append((msg_id, ext, quote))
    session_ids = sorted({r[10] for r in rows if r[10] is not None})
    sessions: dict[int, tuple] = {}
    for start in range(0, len(session_ids), 900):
        chunk = session_ids[start : start + 900]
        for sid, tool, ext in db.execute_sql(
            f"SELECT id, tool, external_id FROM session WHERE id IN ({','.join('?' * len(chunk))})", chunk
        ):
            sessions[sid] = (tool, ext)
    return evidence, sessions


def _json_object(r: tuple, evidence: list[tuple], session: tuple, scrub: bool) -> dict:
    """One memory (a full row) in the schema of memories.export_store; with `scrub` every string
    in it is cleaned."""
    tool, ext = session
    obj = {
        "confidence": r[7], "created_at": r[13],
        "evidence": [{"message": m_ext, "message_id": m_id, "quote": q} for m_id, m_ext, q in evidence],
        "extractor": r[12], "forgotten_at": r[15], "id": r[0], "kind": r[2], "last_seen_at": r[5],
        "pinned": bool(r[4]), "project": r[9], "session": ext, "status": r[6], "supersedes": r[16],
        "text": r[3], "tier": r[1], "tool": tool, "updated_at": r[14],
    }
    if scrub:
        obj = {k: clean(v) if isinstance(v, str) else v for k, v in obj.items()}
        obj["evidence"] = [{k: clean(v) if isinstance(v, str) else v for k, v in e.items()} for e in obj["evidence"]]
    return obj


_JSON_HEAD = '{\n  "memories": ['
_JSON_TAIL = '\n  ],\n  "memtui": %d\n}\n' % EXPORT_VERSION
_JSON_EMPTY = '{\n  "memories": [],\n  "memtui": %d\n}\n' % EXPORT_VERSION


def _render_json(db, rows: list[tuple], limit: int | None, scrub: bool, all_tokens: bool) -> _Layout:
    """The selected memories in memories.export_store's schema (`memtui load` reads it back);
    laid out like json.dumps(indent=2, sort_keys=True)."""
    evidence, sessions = _evidence(db, rows)
    pieces: list[str] = []
    tokens: list[int] = []
    used = len(_JSON_HEAD) + len(_JSON_TAIL)
    strings: list[str] = []
    if limit is None and not all_tokens and not scrub:  # everything, no sizes wanted: one orjson call
        # the objects' keys are written in sorted order (so no OPT_SORT_KEYS: the same text, sooner)
        none, no_evidence = (None, None), ()
        objs = [
            {
                "confidence": r[7], "created_at": r[13],
                "evidence": [{"message": m_ext, "message_id": m_id, "quote": q}
                             for m_id, m_ext, q in evidence.get(r[0], no_evidence)],
                "extractor": r[12], "forgotten_at": r[15], "id": r[0], "kind": r[2], "last_seen_at": r[5],
                "pinned": bool(r[4]), "project": r[9], "session": r[11], "status": r[6], "supersedes": r[16],
                "text": r[3], "tier": r[1], "tool": sessions.get(r[10], none)[0], "updated_at": r[14],
            }
            for r in rows
        ]
        data = orjson.dumps({"memories": objs, "memtui": EXPORT_VERSION}, option=orjson.OPT_INDENT_2) + b"\n"
        # what the last redaction pass reads: every string value (the same ones repeat: once each),
        # but texts stamped clean by this redactor (core/stamps.py)
        small = {v for i in (9, 11, 12) for v in map(itemgetter(i), rows)} | {t for t, _ in sessions.values()}
        quotes = [v for ev in evidence.values() for e in ev for v in (e[2], e[1])]
        stamp = current_stamp(db)
        texts = (r[3] for r in rows if stamp is None or r[17] != stamp)
        probe = "\n".join(filter(None, chain(texts, small, quotes)))
        return _Layout(None, len(objs), [], [], probe, data=data)
    for r in rows:
        obj = _json_object(r, evidence.get(r[0], []), sessions.get(r[10], (None, None)), scrub)
        strings.extend(v for v in (obj["text"], obj["project"], obj["session"], obj["extractor"], obj["tool"]) if v)
        strings.extend(v for e in obj["evidence"] for v in (e["quote"], e["message"]) if v)
        piece = _json_piece(obj).decode()
        cost = _size(piece) + (1 if pieces else 0)  # the comma between items
        if limit is not None and (used + cost > limit or len(tokens) > len(pieces)):
            if not all_tokens:
                break
            tokens.append(count_tokens(piece))  # left out: counted for the entries only
            continue
        used += cost
        pieces.append(piece)
        tokens.append(count_tokens(piece))
    text = (_JSON_HEAD + ",".join(pieces) + _JSON_TAIL) if pieces else _JSON_EMPTY
    return _Layout(text, len(pieces), tokens, ["memories"] * len(tokens), "\n".join(strings))


def render(db, options: ExportOptions, *, with_entries: bool = True) -> ExportResult:
    """Render the curated context for `options` (see the module docstring).

    `with_entries=False` (the command line and the hook) leaves `entries` empty: building a
    MemoryRecord per candidate is most of the time of a large export. `left_out` is set either way."""
    collecting = gc.isenabled()
    gc.disable()  # a large export makes objects by the hundred thousand and frees none of them
    try:
        return _render(db, options, with_entries)
    finally:
        if collecting:
            gc.enable()


def _render(db, options: ExportOptions, with_entries: bool) -> ExportResult:
    if options.format not in FORMATS:
        raise ExportError(f"unknown export format {options.format!r} (choose from {', '.join(FORMATS)})")
    if options.budget is not None and options.budget < 0:
        raise ExportError("the token budget cannot be negative")
    full = with_entries or options.format == "json"
    limit = None if options.budget is None else options.budget * BYTES_PER_TOKEN
    if not with_entries and limit is None:  # the whole document, straight from SQLite
        where, args, root, notes = _target(db, options)
        if options.format == "json":
            whole = _whole_json(db, where, args)
        else:
            whole = _whole_document(db, options.format, where, args, root)
        if whole is not None:  # (checked for secrets: else the general path, entry by entry)
            data, kept = whole
            size = sum(map(len, data)) if isinstance(data, tuple) else len(data)
            tokens = (size + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN
            return ExportResult(None, tokens, (), 0, root, tuple(notes), kept, data=data)
    with _snapshot(db):  # every query below sees the same store (rows, evidence, the count left out)
        return _render_rows(db, options, with_entries, full, limit)


def _render_rows(db, options: ExportOptions, with_entries: bool, full: bool, limit: int | None) -> ExportResult:
    """render() row by row: with a budget, entries, for JSON, or when the whole-document path
    cannot take the store as it is."""
    if limit is not None and not full:  # a budget: read rows in rank order only until it is full
        where, args, root, notes = _target(db, options)
        count_sql = f"SELECT count(*) FROM memory m WHERE {_EXPORTABLE_M} AND {where}"
        rows_sql = f"SELECT {_SLIM} FROM memory m WHERE {_EXPORTABLE_M} AND {where} ORDER BY {_ORDER_M}"
        total = None

        def run(scrub: bool) -> _Layout:
            cursor = db.execute_sql(rows_sql, args)
            rows = chain.from_iterable(iter(lambda: cursor.fetchmany(_BUDGET_CHUNK), []))
            return _render_document(options.format, rows, clean(root) if scrub and root else root, limit, scrub, False)
    else:
        rows, root, notes = select_rows(db, options, full=full)
        total = len(rows)

        def run(scrub: bool) -> _Layout:
            if options.format == "json":
                return _render_json(db, rows, limit, scrub, with_entries)
            return _render_document(options.format, rows, clean(root) if scrub and root else root, limit, scrub,
                                    with_entries)

    layout = run(False)
    checked = clean_document(layout.probe)  # the last line of defence
    scrubbed = checked != layout.probe
    if scrubbed:  # a secret got past the import's redaction: scrub each entry and lay out again
        layout = run(True)
        root = clean(root) if root else root
        checked = clean_document(layout.probe)
    if layout.data is not None:  # JSON as bytes, its string values checked (else scrubbed: run(True))
        return ExportResult(None, (len(layout.data) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN, (), 0, root,
                            tuple(notes), layout.kept, data=layout.data)
    # JSON: its string values were checked (and scrubbed one by one if need be), not its escaped text
    safe = checked if layout.probe is layout.text else layout.text
    entries: tuple[ExportEntry, ...] = ()
    if with_entries:
        kept, tokens, sections = layout.kept, layout.tokens, layout.sections
        entries = tuple(
            ExportEntry((*row[:3], clean(row[3]), *row[4:]) if scrubbed else row, sections[i], tokens[i], i < kept)
            for i, row in enumerate(rows)
        )
    if total is None:  # the budget path read only what it kept
        total = layout.kept if layout.kept_all else db.execute_sql(count_sql, args).fetchone()[0]
    return ExportResult(safe, count_tokens(safe), entries, total - layout.kept, root, tuple(notes), layout.kept)


def render_store(db) -> ExportResult:
    """The whole store as JSON (`memtui export --format json` without scope flags: every memory,
    proposals, rejected and forgotten ones too; memories.export_store's schema, keys sorted, two
    spaces), for `memtui load`. Checked for secrets as the scoped JSON is: every string value once
    (texts stamped clean skipped), and every string scrubbed when that finds anything."""
    from memtui.core import memories

    store = memories.export_store(db)
    stamp = current_stamp(db)
    stamped = set()
    if stamp is not None:
        stamped = {i for (i,) in db.execute_sql("SELECT id FROM memory WHERE clean_stamp = ?", (stamp,))}
    strings: set[str] = set()
    for m in store["memories"]:
        if m["id"] not in stamped:
            strings.add(m["text"])
        strings.update(v for v in (m["project"], m["session"], m["tool"], m["extractor"]) if isinstance(v, str))
        for e in m["evidence"]:
            strings.update(v for v in (e["quote"], e["message"]) if isinstance(v, str))
    probe = "\n".join(sorted(strings))
    if clean_document(probe) != probe:  # a secret got past the import's redaction: scrub every string
        def scrub(value):
            if isinstance(value, str):
                return clean(value)
            if isinstance(value, list):
                return [scrub(v) for v in value]
            if isinstance(value, dict):
                return {k: scrub(v) for k, v in value.items()}
            return value

        store = scrub(store)
    data = orjson.dumps(store, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    return ExportResult(None, (len(data) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN, (), 0,
                        included=len(store["memories"]), data=data)


def left_out_entries(db, options: ExportOptions, kept: int, limit: int = 500) -> list[ExportEntry]:
    """The first `limit` candidates an export of a document left out, in rank order (included
    False, texts scrubbed): what follows the `kept` (= render(...).included) it kept, since a budget
    keeps a prefix of the rank. For the Export screen, which renders without entries (a large
    store's preview in ~0.1 s instead of seconds) and lists only the first of what fell out."""
    if options.format == "json":
        raise ExportError("left_out_entries is for the documents (json: render with entries)")
    where, args, _, _ = _target(db, options)
    rows = db.execute_sql(
        f"SELECT {_SLIM}{_REST}{_FROM} WHERE {_EXPORTABLE_M} AND {where} ORDER BY {_ORDER_M} LIMIT ? OFFSET ?",
        [*args, max(0, limit), max(0, kept)],
    ).fetchall()
    item = _ITEMS[options.format]
    entries = []
    for row in rows:
        row = (*row[:3], clean(row[3]), *row[4:])
        entries.append(ExportEntry(row, section_for(row[1], row[2]), count_tokens(item(row, row[3])), False))
    return entries


# --- writing -------------------------------------------------------------------------------


def block(text: str | bytes) -> str | bytes:
    """`text` between memtui's markers, as it goes into a hand-written file (UTF-8 bytes in, bytes out)."""
    if isinstance(text, bytes):
        return f"{BEGIN}\n".encode() + text.rstrip(b"\n") + f"\n{END}\n".encode()
    return f"{BEGIN}\n{text.rstrip(chr(10))}\n{END}\n"


def _marker_lines(content: str) -> tuple[list[int], list[int], list[str]]:
    lines = content.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.lstrip().startswith(_BEGIN_PREFIX)]
    ends = [i for i, line in enumerate(lines) if line.lstrip().startswith(_END_PREFIX)]
    return begins, ends, lines


def _umask() -> int:
    """The process's umask, read without changing it where the system says (Linux), else 022."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def write_chunks(fh, chunks: tuple[bytes, ...]) -> None:
    """Write ExportResult.chunks to the binary file `fh`, some thousands joined per write: a write
    per piece (200,000 of them for a large JSON export) costs more than rendering it."""
    for start in range(0, len(chunks), 4096):
        fh.write(b"".join(chunks[start : start + 4096]))


def atomic_write(path: Path, text: str | bytes | tuple[bytes, ...]) -> None:
    """Replace `path` with `text` (str, UTF-8 bytes, or those in pieces) in one step (a temporary
    file renamed over it), keeping its mode."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # a new file: as open() would make it (mkstemp's is 0600)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(text, tuple):
                write_chunks(fh, text)
            else:
                fh.write(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def merge(existing: str | None, result_text: str, fmt: str, name: str = "the file") -> tuple[str, str]:
    """The new content of a file that holds `existing` (None: no file), and what was done.

    claude-md / agents-md / markdown: memtui's block goes between the markers; a file without
    markers keeps all its text and gets the block appended. cursor-rules (.mdc) and json: the
    whole file is memtui's when it carries memtui's mark (the markers / the "memtui" key);
    any other existing file is refused."""
    if fmt == "cursor-rules":
        if existing is None:
            return result_text, "created"
        begins, ends, _ = _marker_lines(existing)
        if begins and ends:
            return result_text, "replaced file"
        raise ExportError(f"{name} exists and was not written by memtui (no memtui markers); not overwriting it")
    if fmt == "json":
        if existing is None:
            return result_text, "created"
        try:
            data = orjson.loads(existing)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and "memtui" in data and isinstance(data.get("memories"), list):
            return result_text, "replaced file"
        raise ExportError(f"{name} exists and is not a memtui JSON export; not overwriting it")
    new_block = block(result_text)
    if existing is None:
        return new_block, "created"
    begins, ends, lines = _marker_lines(existing)
    if not begins and not ends:
        sep = "" if not existing or existing.endswith("\n\n") else "\n" if existing.endswith("\n") else "\n\n"
        return existing + sep + new_block, "inserted block"
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ExportError(f"{name} has unmatched or repeated memtui markers; fix them by hand, then export again")
    before = "".join(lines[: begins[0]])
    after = "".join(lines[ends[0] + 1 :])
    return before + new_block + after, "replaced block"


def write_export(path, result: ExportResult, options: ExportOptions) -> str:
    """Write `result` to `path` without clobbering what memtui did not write (see `merge`).
    Returns "created", "replaced block", "inserted block" or "replaced file"."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ExportError(f"{path} is a directory")
    raw: bytes | None = None
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror}") from None
    if raw is None:  # a new file: the rendered bytes as they are (merge would decode them)
        whole = options.format in ("cursor-rules", "json")
        content, action, existing = (result.chunks if whole else block(result.data)), "created", None
    elif options.format == "json" and _memtui_json_shape(raw):  # (an export of 70 MB: not parsed to see that)
        if len(raw) == result.size and raw == result.data:
            return "replaced file"  # the same bytes: nothing to write
        content, action, existing = result.chunks, "replaced file", None
    else:
        try:
            existing = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ExportError(f"{path} is not UTF-8 text; not touching it") from None
        content, action = merge(existing, result.text, options.format, str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if content != existing:
            atomic_write(path, content)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None
    return action


def _memtui_json_shape(raw: bytes) -> bool:
    """Whether `raw` begins and ends as memtui writes a JSON export or backup (merge parses any
    other JSON file to see whether memtui wrote it)."""
    tail = _JSON_TAIL.encode()
    return raw == _JSON_EMPTY.encode() or (raw.startswith(_JSON_HEAD.encode() + b"\n    {") and raw.endswith(tail))


__all__ = [
    "BEGIN", "END", "ExportEntry", "ExportError", "ExportOptions", "ExportResult", "FORMATS",
    "SECTIONS", "block", "count_tokens", "left_out_entries", "merge", "render", "render_store", "resolve_project",
    "section_of", "select", "write_chunks", "write_export",
]
