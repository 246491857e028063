"""The import pipeline: walk paths, detect formats, parse, redact, and store.

Each file is imported atomically: in a savepoint of its own inside a transaction that holds up to
FILES_PER_COMMIT files (or COMMIT_SECONDS of work), see Importer._commit. A file whose size and
mtime are unchanged since the last import is not opened; an incremental (append-only JSONL) file that grew is read from where
the last import stopped, after checking that the part already read is unchanged. Messages are
upserted by (session, external_id), so re-reading a file from the start never duplicates.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from stat import S_ISLNK
from typing import Callable, Iterable, Iterator, NamedTuple

import orjson
from peewee import SqliteDatabase

from memtui.core.db import index_pending
from memtui.core.extract import ReadyProposals
from memtui.core.importers import FORMATS, detect_format, parser_class, read_head
from memtui.core.importers.base import (
    Item,
    LeafTitle,
    ParseContext,
    ParsedMessage,
    ParseError,
    Rewind,
    SessionInfo,
)
from memtui.core.importers.prefetch import PrefetchGroup, worker_count
from memtui.core.redact import clean, clean_head, clean_tail, clean_utf8

# Stored text is cut to these lengths (head and tail kept); the original length is recorded.
MAX_TOOL_TEXT = 8_000
MAX_TEXT = 64_000
BATCH = 2_000  # rows per executemany ...
BATCH_CHARS = 4_000_000  # ... or fewer when their text adds up to this (bounds memory)
LOOKAHEAD_FILES = 256  # files walked ahead of the one being imported (to hand to the worker)
# New messages join the full-text index in batches: in the transaction of the file that brings the
# text waiting to be indexed to FTS_BATCH_CHARS characters or the files to FTS_BATCH_FILES, and at
# the end of the run. (One FTS5 statement per file writes and merges an index segment per file.)
# With message_fts's hashsize of 16 MiB (db.py) a batch writes one segment; larger batches mean fewer
# segments for automerge to rewrite (a third of the indexing work with 64-file batches: 13 segments
# on the benchmark's 1,000 files, 4 with these). A search during an import sees a file's messages
# once its batch is indexed.
FTS_BATCH_CHARS = 32_000_000
FTS_BATCH_FILES = 256
# With the workers, the walk's end is known ahead (Importer._ahead): once FTS_LAST_FILES files are
# left, what waits (when more files than that) is indexed, so that the end of the run, work for
# one core after the workers are done, indexes these few files only (on the benchmark's 1,000
# files, 0.09-0.12 s of indexing -> 0.03 s, and no more indexing in all).
FTS_LAST_FILES = 32
# Files stored in one transaction, each in a savepoint of its own (one commit per file cost ~0.5 ms,
# 0.4 s of the importing process over 1,000 files); fewer when COMMIT_SECONDS have passed since it
# began, so that readers see the import progress and another writer waits little for the lock.
FILES_PER_COMMIT = 16
COMMIT_SECONDS = 0.25
_SAVEPOINT = "memtui_file"
HASH_BYTES = 4096

SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", "site-packages"}
CANDIDATE_SUFFIXES = (".jsonl", ".json", ".md")
COMPANION_NAMES = {"ui_messages.json", "task_metadata.json"}  # read by the Cline parser


class ExtractedAhead(dict):
    """ImportReport.extracted: session id -> ReadyProposals, and `plan`: the storing of the first
    of them planned during the import (proposals.Planner), or None."""

    plan = None


class UsageError(Exception):
    """Arguments the import cannot work with (exit code 2)."""


@dataclass
class ImportReport:
    files_seen: int = 0
    files_imported: int = 0
    files_unchanged: int = 0
    files_failed: int = 0
    files_skipped: int = 0  # found in a folder, but not a transcript of a known format (or binary)
    sessions_new: int = 0
    messages_new: int = 0
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)
    bad_paths: list[str] = field(default_factory=list)  # missing, unreadable or unknown format
    errors: list[str] = field(default_factory=list)  # files that failed for another reason (a bug)
    touched_sessions: set[int] = field(default_factory=set)
    new_sessions: set[int] = field(default_factory=set)
    # session id -> proposals the workers made ahead (Importer(extractor=...)); see Importer._settle_ahead
    extracted: dict[int, ReadyProposals] = field(default_factory=lambda: ExtractedAhead())

    def as_dict(self) -> dict:
        return {
            "files_seen": self.files_seen,
            "files_imported": self.files_imported,
            "files_unchanged": self.files_unchanged,
            "files_failed": self.files_failed,
            "files_skipped": self.files_skipped,
            "sessions_new": self.sessions_new,
            "messages_new": self.messages_new,
            "bytes_read": self.bytes_read,
            "warnings": len(self.warnings),
        }


def _shorten(text: str, limit: int) -> str:
    head = limit * 3 // 4
    tail = limit - head
    # Both ends are cleaned before the cut (looking a little past it), so a secret that
    # straddles a cut cannot leave a fragment behind that is too short to be recognised.
    return f"{clean_head(text, head)}\n…[{len(text) - limit:,} characters cut]…\n{clean_tail(text, tail)}"


def _shorten_json(text: str, limit: int) -> str:
    """Shorten a tool input, keeping it valid JSON where it was: the long string values are cut
    (an Edit keeps its file_path and the start and end of old_string/new_string)."""
    if text[:1] not in "{[":
        return _shorten(text, limit)
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _shorten(text, limit)
    budget = max(200, limit // 3)

    def cut(value):
        if isinstance(value, str) and len(value) > budget:
            return _shorten(value, budget)
        if isinstance(value, dict):
            return {k: cut(v) for k, v in value.items()}
        if isinstance(value, list):
            return [cut(v) for v in value[:200]]
        return value

    out = orjson.dumps(cut(data)).decode()
    return out if len(out) <= limit * 2 else _shorten(text, limit)


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _edge_hashes(path: Path, end: int) -> tuple[str, str]:
    """The hashes of the first and of the last HASH_BYTES of the file's first `end` bytes, read
    with one open (a positive buffer size: open() then skips its isatty() check); the same bytes
    when `end` is at most HASH_BYTES."""
    with open(path, "rb", buffering=HASH_BYTES) as fh:
        head = _hash(fh.read(min(end, HASH_BYTES)))
        if end <= HASH_BYTES:
            return head, head
        fh.seek(end - HASH_BYTES)
        return head, _hash(fh.read(HASH_BYTES))


# A recorded working directory that can name a repository: POSIX absolute, a Windows drive or a
# UNC path (a transcript may come from another machine). Anything else is relative to a folder
# the transcript does not name.
_ABSOLUTE_CWD = re.compile(r"/|[A-Za-z]:[\\/]|\\\\")


def project_root(cwd: str | None) -> str | None:
    """The project root a recorded working directory stands for: its enclosing git work tree
    when that exists on this machine, else the directory itself. None for no cwd and for one that
    is not an absolute path (`-experiments/worktrees`, `src`, `~/x`): resolved against the
    importing process's folder or the transcript's it would invent a project, so such a session
    has no project (a subagent's still takes its parent's)."""
    if not cwd or not _ABSOLUTE_CWD.match(cwd):
        return None
    return find_git_root(cwd) or cwd.rstrip("/\\") or cwd


def find_git_root(cwd: str) -> str | None:
    """The enclosing git work tree of `cwd` when it exists on this machine."""
    try:
        p = Path(cwd)
        if not p.is_absolute() or not p.exists():
            return None
        for candidate in (p, *p.parents):
            if (candidate / ".git").exists():
                return str(candidate)
    except (OSError, ValueError):
        return None
    return None


def _git_remote(root: str) -> str | None:
    config = Path(root) / ".git" / "config"
    try:
        text = config.read_text(errors="replace")
    except OSError:
        return None
    section = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == '[remote "origin"]' and line.startswith("url"):
            return clean(line.split("=", 1)[1].strip())
    return None


class Importer:
    """Imports files into one database. Use one instance per run (it caches ids)."""

    def __init__(
        self,
        db: SqliteDatabase,
        *,
        format: str | None = None,
        on_warning: Callable[[str], None] | None = None,
        on_file: Callable[[Path, str], None] | None = None,
        workers: int | None = None,
        extractor: str | None = None,
    ) -> None:
        """`workers`: processes that parse ahead while this one stores (0: parse in-process;
        None: one on a machine with two or more cores, two when extracting, see prefetch.py).
        `extractor`: the extractor the caller runs over the touched sessions after the import;
        with "heuristic" the workers extract ahead and `report.extracted` holds what they proposed
        (pass it to propose.propose_sessions). The result is the same."""
        if format is not None and format not in FORMATS:
            raise UsageError(f"unknown format {format!r} (choose from {', '.join(FORMATS)})")
        self.extract_ahead = extractor if extractor in AHEAD_EXTRACTORS else None
        self.db = db
        self.format = format
        self.on_warning = on_warning
        self.on_file = on_file
        self.report = ImportReport()
        self._project_ids: dict[str, int | None] = {}
        self._sources: dict[str, tuple[int, float]] | None = None
        self.workers = worker_count(self.extract_ahead is not None) if workers is None else workers
        self._prefetch: PrefetchGroup | None = None
        self._jobs_ahead: list[tuple] = []  # (job, {session key: id} of the sessions new in its file)
        self._touches: dict[int, int] = {}  # session id -> files of this run that stored messages of it
        self._deferred: list[str] | None = None  # warnings held back while walking ahead
        self._real_dirs: dict[str, Path] = {}  # str(folder) -> folder.resolve()
        # str(path) -> (size, mtime, binary, format) of a file whose head _offer read (import_file's
        # look at the same file: reading each head twice cost this process 0.15-0.37 CPU-s, 5-12%, in
        # tests/perf/bench_import.py); emptied when the run ends
        self._looked: dict[str, tuple[int, float, bool, str | None]] = {}
        self._unindexed = [0, 0]  # characters, files committed since the full-text index caught up
        self._index_early = False  # index what waits at the end of the next file (FTS_LAST_FILES)
        # The open transaction (see _commit) and, for each file stored in it, how to import it again
        # (if the transaction is lost) and what counting it does (run once it is committed).
        self._tx = None
        self._tx_began = 0.0
        self._tx_files: list[tuple[Callable[[], None], Callable[[], None]]] = []
        # The workers' proposals (see _settle_ahead): session id -> what the worker sent, and the
        # result of checking it against the stored session; PRAGMA data_version when the run began.
        self._settled_from: dict[int, tuple] = {}
        self._settled: dict[int, ReadyProposals | None] = {}
        self._data_version: int | None = None
        self._planner = None  # proposals.Planner: see _plan_ahead

    # --- walking --------------------------------------------------------------------------

    def warn(self, text: str) -> None:
        if self._deferred is not None:
            self._deferred.append(text)
            return
        self.report.warnings.append(text)
        if self.on_warning:
            self.on_warning(text)

    def import_paths(self, paths: Iterable[str | os.PathLike]) -> ImportReport:
        # The import makes no reference cycles (the collector ran ~130 times over the benchmark
        # tree and found 19 objects in all: ~4% of this process's time): reference counting frees
        # everything, and the collector is off until the run ends (as in the workers, export.py).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._import_paths(paths)
        finally:
            if collecting:
                gc.enable()

    def _import_paths(self, paths: Iterable[str | os.PathLike]) -> ImportReport:
        self._prefetch = PrefetchGroup(self.workers, self.extract_ahead) if self.workers > 0 else None
        if self.extract_ahead and self._prefetch is not None:
            self._data_version = self._read_data_version()
        try:
            for raw in paths:
                path = Path(raw).expanduser()
                try:
                    if path.is_dir():
                        files = self.walk(path)
                        for file in self._ahead(files) if self._prefetch else files:
                            self.import_file(file, explicit=False)
                    elif path.exists():
                        self.import_file(path, explicit=True)
                    else:
                        self.warn(f"{path}: no such file or directory")
                        self.report.bad_paths.append(str(path))
                except PermissionError:
                    self.warn(f"{path}: permission denied")
                    self.report.bad_paths.append(str(path))
            self._commit()
            self._index_rest()  # (while the workers extract the last files' sessions)
            self._settle_ahead()
        finally:
            # (a run cut short by an exception, Ctrl-C: the files stored before it are kept and counted)
            self._commit()
            if self._prefetch:
                self._prefetch.close()
                self._prefetch = None
            self._index_rest()
            if self._planner:
                self._planner.seal()
            self._looked.clear()  # (files offered and not imported: a run cut short)
        return self.report

    # --- transactions ---------------------------------------------------------------------

    def _begin_file(self):
        """Open a savepoint for one file, in the run's transaction (begun if none is open)."""
        if self._tx is not None and not self.db.connection().in_transaction:
            self._commit()  # (lost: see there)
        if self._tx is None:
            tx = self.db.atomic()
            tx.__enter__()
            self._tx, self._tx_began = tx, time.monotonic()
        conn = self.db.connection()
        conn.execute(f"SAVEPOINT {_SAVEPOINT}")
        return conn

    def _end_file(self, conn, ok: bool, redo: Callable[[], None], count: Callable[[], None]) -> None:
        """Release (ok) or roll back the file's savepoint. A file released is stored for good with
        the transaction: `count` runs once it is committed, `redo` imports it again should the
        transaction be lost before (see _commit)."""
        if ok:
            conn.execute(f"RELEASE {_SAVEPOINT}")
            self._tx_files.append((redo, count))
            if len(self._tx_files) >= FILES_PER_COMMIT or time.monotonic() - self._tx_began >= COMMIT_SECONDS:
                self._commit()
            return
        self._project_ids.clear()  # (projects the file made are gone with it)
        try:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
                conn.execute(f"RELEASE {_SAVEPOINT}")
        except Exception:  # the transaction is unusable: _commit finds out and recovers
            pass
        if not conn.in_transaction:  # SQLite rolled back the whole transaction
            self._commit()

    def _commit(self) -> None:
        """Commit the open transaction, then count its files. Each file is all in it or not at all
        (savepoints), so a commit, a kill or a crash never leaves part of a file; a file counts as
        imported only once committed. Should SQLite have rolled the whole transaction back (an
        error in a later file: a full disk, an I/O error), its files are imported again, each in
        a transaction of its own."""
        tx, files = self._tx, self._tx_files
        if tx is None:
            return
        self._tx, self._tx_files = None, []
        lost = False
        try:
            if self.db.connection().in_transaction:
                tx.__exit__(None, None, None)  # COMMIT (rolled back if it fails)
            else:
                lost = True
                self.db.pop_transaction()
        except Exception:
            lost = True
        if lost:
            self._sources = None  # read the sources again: those of the lost files are not stored
            self._project_ids.clear()
            for redo, _ in files:
                redo()
            self._commit()
            return
        for _, count in files:
            count()
        if self._jobs_ahead:
            self._settle_some()
        if self._settled and self._planner is not False:
            self._plan_ahead()

    def _index_rest(self) -> None:
        """Index the messages of the last files of the run (a run cut short leaves them to the
        next open_database or import, which index whatever is pending)."""
        if not self._unindexed[1]:
            return
        try:
            with self.db.atomic():
                index_pending(self.db.connection())
            self._unindexed = [0, 0]
        except Exception:  # (a run failing on its own error): the rows stay pending, indexed later
            pass

    def _settle_ahead(self) -> None:
        """Keep the workers' proposals for the sessions that hold, at the end of the run, exactly
        the messages the worker extracted from: sessions new to the database that one file of this
        run wrote, whose messages (ids in position order, external ids) are the worker's. Positions
        become message ids. Every other session is extracted in-process by propose_sessions.
        Most sessions were checked as their proposals came in (_settle_some): that holds at the
        end for a session no later file touched, when no other connection wrote meanwhile."""
        if self._prefetch is not None:
            self._prefetch.collect()
        if self._data_version is None or self._data_version != self._read_data_version():
            # another writer committed during the run: check every session now, as it is stored
            self._settled = {sid: self._verify(sid, *result) for sid, result in self._settled_from.items()}
        self._settle_some(final=True)
        for sid, ready in self._settled.items():
            if ready is not None and self._touches.get(sid) == 1:
                self.report.extracted[sid] = ready
        if self._planner:
            self._plan_ahead()  # (the sessions of the last files)
        if self._planner:
            self.report.extracted.plan = self._planner

    def _settle_some(self, final: bool = False) -> None:
        """Check the sessions of the committed files whose proposals the workers have sent (all
        of them when `final`: a proposal that has not come by then will not)."""
        waiting = []
        for job, fresh in self._jobs_ahead:
            if job.extracted is None and not final:
                waiting.append((job, fresh))
                continue
            for skey, result in (job.extracted or {}).items():
                sid = fresh.get(skey)
                if sid is not None:
                    self._settled_from[sid] = result
                    self._settled[sid] = self._verify(sid, *result) if self._touches.get(sid) == 1 else None
        self._jobs_ahead = waiting

    def _verify(self, sid: int, fields, count: int, digest: str, proposals) -> ReadyProposals | None:
        """The worker's proposals for session `sid` with message ids for positions, when the
        session's stored messages are those it extracted from (else None)."""
        conn = self.db.connection()
        # The ids in position order and the external ids, each from an index that holds them
        # (reading external_id from the table means walking past a long text's overflow pages).
        ids = list(map(itemgetter(0), conn.execute(_IDS_BY_POSITION, (sid,)).fetchall()))
        if len(ids) != count:
            return None
        external = dict(conn.execute(_EXTERNAL_IDS, (sid,)).fetchall())
        if len(external) != count or external_digest(list(map(external.get, ids))) != digest:
            return None
        try:
            ready = tuple(_with_ids(pp, tuple(ids[i - 1] for i in pp.proposal.message_ids)) for pp in proposals)
        except (IndexError, TypeError):
            return None
        return ReadyProposals(self.extract_ahead, fields, ready)

    def _plan_ahead(self) -> None:
        """Plan the storing of the proposals of the sessions checked so far, in session id order
        (what propose_sessions over the touched sessions does first, after the import), while the
        workers go on: the work after the import is then mostly writing. It stops at a session
        whose proposals are not (yet) checked; a session touched again, or a touched session
        coming before one planned, makes propose_sessions decide everything again itself."""
        from memtui.core import store
        from memtui.core.extract import heuristic_session_fields
        from memtui.core.proposals import Planner

        planner = self._planner
        if planner is None:
            try:
                planner = self._planner = Planner(self.db, self.extract_ahead)
            except Exception:  # (a database error: propose_sessions decides everything itself)
                self._planner = False
                return
        if planner.broken:
            self._planner = False
            return
        order = sorted(self.report.touched_sessions)
        done = len(planner.plans)
        if [p[0] for p in planner.plans] != order[:done]:
            self._planner = False  # a session before the planned ones was touched
            return
        for sid in order[done:PLAN_MAX_SESSIONS]:
            ready = self._settled.get(sid)
            if ready is None or self._touches.get(sid) != 1:
                return  # (not checked yet, or to be extracted in-process: planning waits or ends here)
            try:
                session = store.get_session(self.db, sid)
            except Exception:  # (a database error: propose_sessions decides everything itself)
                self._planner = False
                return
            if session is None or ready.fields != heuristic_session_fields(session):
                return
            planner.add(session, ready)
            if planner.broken:
                self._planner = False
                return

    def _read_data_version(self) -> int:
        return self.db.connection().execute("PRAGMA data_version").fetchone()[0]

    def _ahead(self, files: Iterable[Path]) -> Iterable[Path]:
        """`files`, walked ahead of the caller so that the worker can parse the next files
        while this process stores the current one. The walk's warnings are held back and given
        in their place, so the order of warnings does not change."""
        prefetch = self._prefetch
        it = iter(files)
        pending: deque = deque()  # Path, or a held-back warning (str)
        exhausted = False
        left = None  # files not yet given, once the walk is over
        while True:
            while not exhausted and len(pending) < LOOKAHEAD_FILES and prefetch.wants_more():
                self._deferred = []
                try:
                    file = next(it, None)
                finally:
                    held, self._deferred = self._deferred, None
                pending.extend(held)
                if file is None:
                    exhausted = True
                    left = sum(not isinstance(item, str) for item in pending)
                else:
                    pending.append(file)
                    self._offer(file)
            if not pending:
                if exhausted:
                    return
                file = next(it, None)  # the worker wants no more: go on without looking ahead
                if file is None:
                    return
                pending.append(file)
            item = pending.popleft()
            if isinstance(item, str):
                self.warn(item)
            else:
                if left is not None:
                    left -= 1
                    if left <= FTS_LAST_FILES:
                        self._index_early, left = True, None  # (once: at the end of this file)
                yield item

    def _offer(self, file: Path) -> None:
        """Hand `file` to the worker when import_file will (most likely) parse it; no side
        effects: what import_file decides later is what counts (see Prefetcher.take)."""
        try:
            path, st = self._resolve(file)
            if st is None:
                st = path.stat()
            key = str(path)
            known = self._known_sources().get(key)
            if (known and known[0] == st.st_size and known[1] == st.st_mtime) or st.st_size == 0:
                return
            if self.format:
                fmt = self.format
            else:
                head = read_head(path)
                binary = b"\x00" in head[:8192]
                fmt = None if binary else detect_format(path, head)
                # (import_file takes these instead of reading the head again, if the file is the same)
                self._looked[key] = (st.st_size, st.st_mtime, binary, fmt)
            if fmt is None:
                return
            parser = parser_class(fmt)()
            # A file never imported starts at 0 (if another process imports it meanwhile, the
            # importer's own look at its source row differs and it parses the file itself).
            start, state = self._resume_point(path, key, st, fmt, parser) if known else (0, {})
        except Exception:  # import_file will meet (and report) the same problem itself
            return
        self._prefetch.offer(key, (fmt, start, state, st.st_size, st.st_mtime), st.st_size - start)

    def _resolve(self, path: Path) -> tuple[Path, os.stat_result | None]:
        """path.resolve(), resolving each folder once: the files of a folder share its real
        path, and only a file that is itself a symlink needs more. With it the file's stat when
        that was read on the way (the lstat of a file that is not a symlink), else None.
        (Cheap Path operations only: in a folder with no symlink on its way, the path is already
        its real path; `real / name` and a Path as a dict key cost ~50,000 instructions.)"""
        name = path.name
        if not path.is_absolute() or name in ("", ".", ".."):
            return path.resolve(), None
        parent = path.parent
        key = str(parent)
        real = self._real_dirs.get(key)
        if real is None:
            real = self._real_dirs[key] = parent.resolve()
        candidate = path if str(real) == key else real / name
        try:
            st = os.lstat(candidate)
        except (OSError, ValueError):  # (the caller's stat meets it)
            return candidate, None
        if not S_ISLNK(st.st_mode):
            return candidate, st
        return path.resolve(), None

    def walk(self, root: Path) -> Iterable[Path]:
        """Transcript candidates below `root`, in a stable order."""
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                self.warn(f"{folder}: cannot list ({exc.strerror})")
                continue
            subdirs = []
            names = {e.name for e in entries}
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in SKIP_DIRS:
                            subdirs.append(Path(entry.path))
                        continue
                    if not entry.is_file():
                        continue
                except OSError:
                    continue
                name = entry.name
                if name.endswith(".zst"):
                    self.warn(f"{entry.path}: compressed transcript skipped (.zst is not supported)")
                    continue
                if name.endswith(".meta.json"):
                    continue
                if name in COMPANION_NAMES and "api_conversation_history.json" in names:
                    continue
                if name.endswith(CANDIDATE_SUFFIXES) or name == ".aider.chat.history.md":
                    yield Path(entry.path)
            stack.extend(reversed(subdirs))

    def _known_sources(self) -> dict[str, tuple[int, float]]:
        if self._sources is None:
            cur = self.db.execute_sql("SELECT path, size, mtime FROM source")
            self._sources = {p: (s, m) for p, s, m in cur.fetchall()}
        return self._sources

    # --- one file -------------------------------------------------------------------------

    def import_file(self, path: Path, *, explicit: bool) -> None:
        """Import one file. Whatever goes wrong is one warning naming the file; the run goes on.
        Only a file named on the command line makes the run's exit code 2 (bad_paths)."""
        report = self.report
        report.files_seen += 1
        try:
            path, st = self._resolve(path)
            if st is None:
                st = path.stat()
        except OSError as exc:
            self._unreadable(path, exc, explicit)
            return
        key = str(path)
        known = self._known_sources().get(key)
        if known and known[0] == st.st_size and known[1] == st.st_mtime:
            report.files_unchanged += 1
            return
        if st.st_size == 0:
            self._record_empty(key, st)
            return
        head = None
        looked = self._looked.pop(key, None)
        if looked is not None and looked[0] == st.st_size and looked[1] == st.st_mtime:
            binary, fmt = looked[2], looked[3]  # (_offer read the head of the same file)
        else:
            try:
                head = read_head(path)
            except OSError as exc:
                self._unreadable(path, exc, explicit)
                return
        try:
            if head is not None:
                binary = b"\x00" in head[:8192]
                fmt = None if binary else self.format or detect_format(path, head)
            if fmt is None:
                if explicit:
                    what = "binary file, not a transcript" if binary else "unknown transcript format (use --format to force one)"
                    self.warn(f"{path}: {what}")
                    report.bad_paths.append(str(path))
                    report.files_failed += 1
                else:  # a folder holds other files too: counted, not warned about one by one
                    report.files_skipped += 1
                return
            if self.on_file:
                self.on_file(path, fmt)
            self._import(path, st, fmt, explicit)
        except ParseError as exc:
            self.warn(f"{path}: {exc}")
            report.files_failed += 1
            if explicit:
                report.bad_paths.append(str(path))
        except OSError as exc:
            self._unreadable(path, exc, explicit)
        except Exception as exc:  # a bug in a parser or the store: this file only (its transaction rolled back)
            lines = str(exc).strip().splitlines() or [""]
            detail = lines[-1] if len(lines) > 1 else f"{type(exc).__name__}: {lines[0]}"
            self.warn(f"{path}: import failed, file skipped ({detail})")
            report.files_failed += 1
            report.errors.append(str(path))

    def _unreadable(self, path: Path, exc: OSError, explicit: bool) -> None:
        self.warn(f"{path}: cannot read ({exc.strerror or exc})")
        self.report.files_failed += 1
        if explicit:
            self.report.bad_paths.append(str(path))

    def _record_empty(self, key: str, st: os.stat_result) -> None:
        conn = self._begin_file()
        ok = False
        try:
            conn.execute(
                "INSERT INTO source (path, format, size, mtime, head_hash, tail_hash, offset, state, imported_at)"
                " VALUES (?, 'empty', 0, ?, '', '', 0, '{}', ?)"
                " ON CONFLICT(path) DO UPDATE SET size=0, mtime=excluded.mtime, offset=0, state='{}',"
                " head_hash='', tail_hash='', imported_at=excluded.imported_at",
                (key, st.st_mtime, time.time()),
            )
            ok = True
        finally:
            self._end_file(conn, ok, lambda: self._record_empty(key, st), self._count_empty)
        self._known_sources()[key] = (0, st.st_mtime)

    def _count_empty(self) -> None:
        self.report.files_unchanged += 1

    def _resume_point(self, path: Path, key: str, st: os.stat_result, fmt: str, parser) -> tuple[int, dict]:
        """Where to start reading `path` and the parser state to start with."""
        row = self.db.execute_sql(
            "SELECT id, format, offset, head_hash, tail_hash, state FROM source WHERE path = ?", (key,)
        ).fetchone()
        start, state = 0, {}
        if row and parser.incremental and row[1] == fmt and 0 < row[2] <= st.st_size:
            offset = row[2]
            if _edge_hashes(path, offset) == (row[3], row[4]):
                start, state = offset, orjson.loads(row[5] or "{}")
        return start, state

    def _import(self, path: Path, st: os.stat_result, fmt: str, explicit: bool) -> None:
        key = str(path)
        parser = parser_class(fmt)()
        start, state = self._resume_point(path, key, st, fmt, parser)
        ctx = ParseContext(path=path, start=start, state=state, on_warning=self.warn)
        job = self._prefetch.take(key, (fmt, start, state, st.st_size, st.st_mtime)) if self._prefetch else None
        conn = self._begin_file()
        ok = False
        try:
            writer = _Writer(self, fmt, parser.tool, fresh=start == 0)
            writer.consume(self._prefetch.events(job, ctx) if job else prepare_items(parser.parse_rows(ctx)))
            writer.finish()
            self._unindexed[0] += writer.chars_written
            self._unindexed[1] += 1
            early, self._index_early = self._index_early and self._unindexed[1] > FTS_LAST_FILES, False
            if self._unindexed[0] >= FTS_BATCH_CHARS or self._unindexed[1] >= FTS_BATCH_FILES or early:
                index_pending(conn)  # this file's messages and those of the files before it
                self._unindexed = [0, 0]
            end = ctx.end or st.st_size
            head_hash, tail_hash = _edge_hashes(path, end)
            # A file that stopped on an incomplete last line is not "unchanged" at its full size:
            # record the size we consumed so the next run looks again.
            size = st.st_size if end >= st.st_size else end
            conn.execute(
                "INSERT INTO source (path, format, size, mtime, head_hash, tail_hash, offset, state, imported_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET format=excluded.format, size=excluded.size,"
                " mtime=excluded.mtime, head_hash=excluded.head_hash, tail_hash=excluded.tail_hash,"
                " offset=excluded.offset, state=excluded.state, imported_at=excluded.imported_at",
                (key, fmt, size, st.st_mtime, head_hash, tail_hash, end, orjson.dumps(ctx.state).decode(), time.time()),
            )
            source_id = conn.execute("SELECT id FROM source WHERE path = ?", (key,)).fetchone()[0]
            if writer.session_ids:
                marks = ",".join("?" * len(writer.session_ids))
                conn.execute(
                    f"UPDATE session SET source_id = ? WHERE source_id IS NULL AND id IN ({marks})",
                    (source_id, *writer.session_ids.values()),
                )
            ok = True
        finally:
            self._end_file(
                conn, ok, lambda: self._redo(path, explicit),
                lambda: self._count_file(writer, job if start == 0 else None, max(0, end - start)),
            )
        self._known_sources()[key] = (size, st.st_mtime)

    def _count_file(self, writer: "_Writer", job, read: int) -> None:
        """What a file stored adds to the report and to the run's state, once committed (`job`:
        the worker's, for a file read from its start)."""
        report = self.report
        report.files_imported += 1
        report.bytes_read += read
        report.sessions_new += len(writer.new_sessions)
        report.new_sessions.update(writer.new_sessions)
        report.messages_new += writer.messages_new
        report.touched_sessions.update(writer.touched)
        for sid in writer.session_ids.values():
            self._touches[sid] = self._touches.get(sid, 0) + 1
        if job is not None and self.extract_ahead:
            # the worker's proposals for this file come later (Prefetcher._attach): sessions new here
            fresh = {k: sid for k, sid in writer.session_ids.items() if writer.count_before.get(sid) == 0}
            if fresh:
                self._jobs_ahead.append((job, fresh))

    def _redo(self, path: Path, explicit: bool) -> None:
        """Import a file again whose transaction was lost (see _commit): it is seen once."""
        self.report.files_seen -= 1
        self.import_file(path, explicit=explicit)

    # --- projects -------------------------------------------------------------------------

    def project_id(self, cwd: str | None, git_remote: str | None) -> int | None:
        """The project of a recorded cwd (see project_root), made when new; None without one."""
        if not cwd:
            return None
        if cwd in self._project_ids:
            pid = self._project_ids[cwd]
            if git_remote and pid is not None:  # a later session may know the remote an earlier one did not
                self.db.execute_sql(
                    "UPDATE project SET git_remote = ? WHERE id = ? AND git_remote IS NULL", (clean(git_remote), pid)
                )
            return pid
        root = project_root(cwd)
        if root is None:
            self._project_ids[cwd] = None
            return None
        remote = clean(git_remote) if git_remote else None
        remote = remote or (_git_remote(root) if root != cwd or Path(root, ".git").exists() else None)
        name = root.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or root
        self.db.execute_sql(
            "INSERT INTO project (root, name, git_remote, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(root) DO UPDATE SET git_remote = COALESCE(project.git_remote, excluded.git_remote)",
            (root, name, remote, time.time()),
        )
        pid = self.db.execute_sql("SELECT id FROM project WHERE root = ?", (root,)).fetchone()[0]
        self._project_ids[cwd] = pid
        return pid


# The writer binds NaN where a message's column is None (NULL): SQLite stores a NaN parameter as
# NULL, and the sqlite3 module binds a float at once, where it first tries to adapt None (a failed
# attribute lookup that formats an AttributeError: ~3,300 instructions per None, 0.2 G over the
# 36,000 messages of the benchmark tree; tool_name, group_id and original_len are mostly None).
_NULL = float("nan")
_NULLS = {None: _NULL}  # _NULLS.get(v, v): v, or NaN for None
_STR = {str}

_INSERT = (
    "INSERT INTO message (session_id, position, role, kind, tool_name, text, timestamp, external_id,"
    " group_id, is_error, original_len) VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?, ?, ?)"
)
_UPSERT = (
    _INSERT + " ON CONFLICT(session_id, external_id) DO UPDATE SET role=excluded.role, kind=excluded.kind,"
    " tool_name=excluded.tool_name, text=excluded.text, timestamp=excluded.timestamp,"
    " group_id=excluded.group_id, is_error=excluded.is_error, original_len=excluded.original_len"
    " WHERE message.text IS NOT excluded.text OR message.kind IS NOT excluded.kind"
    " OR message.is_error IS NOT excluded.is_error"
)


_NAMES: dict[str, str] = {}  # tool name -> clean(name): a few names over and over


def _clean_name(name: str) -> str:
    out = _NAMES.get(name)
    if out is None:
        out = clean(name)
        if len(name) <= 200:
            if len(_NAMES) >= 4096:
                _NAMES.clear()
            _NAMES[name] = out
    return out


def _prepare_message(m: ParsedMessage, sent: list | None = None) -> tuple:
    """What storing a message needs that does not depend on the database: the text shortened
    and cleaned, done here (or in the worker process) before the writer assigns ids.
    (session_key, role, kind, tool_name, text, timestamp, external_id, group_id, is_error,
    original_len column, original length)"""
    return _prepare_row((
        m.session_key, m.role, m.kind, m.text, m.external_id, m.tool_name, m.timestamp, m.group_id, m.is_error,
        m.original_len,
    ), sent)


def _prepare_row(m: tuple, sent: list | None = None) -> tuple:
    """_prepare_message of a message given as the tuple of its ParsedMessage fields in order.
    `sent` (a worker's): the cleaned text as a worker sends it (_utf8_one) is appended to it."""
    key, role, kind, text, external_id, name, timestamp, group_id, is_error, given = m
    original = len(text) if given is None else given
    limit = MAX_TOOL_TEXT if kind in ("tool_result", "tool_use") else MAX_TEXT
    if len(text) > limit:
        text = _shorten_json(text, limit) if kind == "tool_use" else _shorten(text, limit)
    if sent is None:
        text = clean(text)
    else:
        # (the UTF-8 clean_utf8 made, if any, is the one _utf8_one would make)
        text, utf8 = clean_utf8(text)
        sent.append(text if text.isascii() else _utf8_one(text) if utf8 is None else bytearray(utf8))
    return (
        key,
        role,
        kind,
        # (the cleaned name looked up in _NAMES here: no call for a name seen before)
        (_NAMES.get(name) or _clean_name(name)) if name else None,
        text,
        timestamp,
        external_id,
        group_id,
        1 if is_error else 0,
        original if given is not None or original != len(text) else None,
        original,
    )


class MessageRun(NamedTuple):
    """Consecutive prepared messages of one session (see _prepare_message), as an import worker
    sends them: the columns the message rows take from them (role ... original_len column, in
    the _UPSERT order after session_id and position) and the sums the writer keeps, made there,
    so that storing them is one zip here instead of a tuple built per message.
    Timestamps that are not numbers equal to themselves (NaN) stay out of runs: min and max over
    the others give the same result as the writer's comparisons one message at a time."""

    key: str
    cols: tuple  # (roles, kinds, tool names, texts (UTF-8: _utf8), timestamps, external ids, group ids, is_error, original_len)
    count: int
    original: int  # the original lengths added up (session.raw_size)
    first_ts: float | None
    last_ts: float | None
    chars: int  # the stored texts' lengths added up

    @classmethod
    def of(cls, rows: list[tuple], sent: list | None = None) -> "MessageRun":
        """A run of prepared messages of one session key, none with a NaN timestamp (`sent`: their
        texts as _utf8 makes them, if made already: _prepare_row)."""
        cols = tuple(zip(*rows))
        stamps = list(filter(None, cols[5]))
        return cls(
            rows[0][0], (*cols[1:4], _utf8(cols[4]) if sent is None else tuple(sent), *cols[5:10]), len(rows), sum(cols[10]),
            min(stamps) if stamps else None, max(stamps) if stamps else None, sum(map(len, cols[4])),
        )


def _utf8(texts: tuple) -> tuple:
    """A run's texts as the worker sends them: those that are not ASCII as their UTF-8 in a
    bytearray, which the writer binds as it is (the sqlite3 module adapts bytes first) and stores
    as TEXT (the CAST in _UPSERT). The importing process then neither decodes them from the frame
    nor encodes them again to bind them (0.3 G over the benchmark tree; the worker's encoding
    replaces pickle's). An ASCII str costs no more to send and bind than its bytes (its UTF-8 is
    its data), and str.isascii() is a flag. A text UTF-8 cannot hold (a lone surrogate) stays str:
    storing it fails as it did."""
    return tuple(map(_utf8_one, texts))


def _utf8_one(text: str) -> str | bytearray:
    if text.isascii():
        return text
    try:
        return bytearray(text, "utf-8")
    except UnicodeEncodeError:
        return text


def runnable(row: tuple) -> bool:
    """Whether a prepared message may join a MessageRun (its timestamp is not NaN)."""
    t = row[5]
    return t == t


def prepare_items(items: Iterable) -> Iterator:
    """A parser's items (Parser.parse or parse_rows) with each message replaced by its prepared
    tuple."""
    for item in items:
        t = type(item)
        yield _prepare_row(item) if t is tuple else _prepare_message(item) if t is ParsedMessage else item


def prepared_frames(items: Iterable, buf: list, ahead: "AheadSessions | None", max_chars: int, max_items: int) -> Iterator[None]:
    """What an import worker sends of a parser's items (Parser.parse_rows: a message as the object
    or as the tuple of its fields; prefetch.worker_main): prepare_items' items appended to `buf`,
    consecutive messages of one session as one MessageRun (ended by any other item), and given
    to `ahead` (if not None) in the same order. Yields whenever `buf` holds
    a frame (`max_items` items, or messages with `max_chars` characters of text): the caller
    sends it and clears `buf`. The caller's own appends to `buf` (warnings, made while the parser
    runs) go before the run not yet ended."""
    run: list = []
    sent: list = []  # the texts of `run` and of the message being prepared as sent (_prepare_row)
    key = None  # the session key of `run`
    chars = count = 0
    for item in items:
        count += 1
        t = type(item)
        if t is tuple or t is ParsedMessage:
            item = _prepare_row(item, sent) if t is tuple else _prepare_message(item, sent)
            chars += len(item[4])
            ts = item[5]
            if ts == ts:  # (runnable(item), without the call)
                if run and item[0] != key:
                    last = sent.pop()
                    _end_run(run, sent, buf, ahead)
                    run, sent = [], [last]
                key = item[0]
                run.append(item)
                if chars >= max_chars or count >= max_items:
                    _end_run(run, sent, buf, ahead)
                    run = []
                    sent = []
                    yield
                    chars = count = 0
                continue
            sent.pop()  # (not in a run)
        if run:
            _end_run(run, sent, buf, ahead)
            run = []
            sent = []
        if ahead is not None:
            ahead.add(item)
        buf.append(item)
        if chars >= max_chars or count >= max_items:
            yield
            chars = count = 0
    if run:
        _end_run(run, sent, buf, ahead)


def _end_run(rows: list, sent: list, buf: list, ahead: "AheadSessions | None") -> None:
    run = MessageRun.of(rows, sent)
    buf.append(run)
    if ahead is not None:
        ahead.add_run(run, rows)


# (both answered from an index alone: SQLite picks the covering one)
_IDS_BY_POSITION = "SELECT id FROM message WHERE session_id = ? ORDER BY position"
_EXTERNAL_IDS = "SELECT id, external_id FROM message WHERE session_id = ?"


def _with_ids(pp, message_ids: tuple):
    """A worker's prepared proposal with its positions replaced by the stored message ids: what
    dataclasses.replace(pp, proposal=replace(pp.proposal, message_ids=...)) makes, without its
    per-call introspection (both are plain frozen dataclasses: their fields are their __dict__)."""
    proposal = object.__new__(type(pp.proposal))
    proposal.__dict__.update(pp.proposal.__dict__, message_ids=message_ids)
    out = object.__new__(type(pp))
    out.__dict__.update(pp.__dict__, proposal=proposal)
    return out


AHEAD_EXTRACTORS = ("heuristic",)  # extractors the import workers can run ahead
PLAN_MAX_SESSIONS = 10_000  # sessions whose storing is planned during the import (bounds memory)
AHEAD_MAX_CHARS = 24_000_000  # a file with more (stored) message text is extracted in-process (bounds memory)


def external_digest(ids: list[str | None]) -> str:
    """A digest of a session's external ids in order (the worker's and the stored ones compared;
    the stored ones are text: pass others through str first): of their JSON list, made in one
    call; ids JSON cannot hold (lone surrogates) one at a time."""
    try:
        return hashlib.blake2b(orjson.dumps(ids), digest_size=16).hexdigest()
    except TypeError:  # (orjson.JSONEncodeError)
        h = hashlib.blake2b(b"\x02", digest_size=16)
        for e in ids:
            h.update(b"\x00" if e is None else e.encode("utf-8", "surrogatepass") + b"\x01")
        return h.hexdigest()


class _AheadSession:
    __slots__ = ("tool", "cwd", "rows", "external", "ok")

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.cwd: str | None = None
        self.rows: list[tuple] = []
        self.external: set = set()
        self.ok = True


class AheadSessions:
    """The sessions of one file read from its start, as _Writer will store them when the database
    knows none of their messages yet, for extraction in the import worker (prefetch.py).

    It mirrors the writer: a session's tool is the one it is first seen with, its cwd the first one
    given, its project root the one Importer.project_id derives from that cwd; its messages are
    the prepared rows in order, their positions 0, 1, ... A session whose rows the writer would
    not store as they come (a rewind, an external id seen twice: upserts) is left out. The
    extractor gets message ids 1, 2, ... (position + 1: the same order as the real ids, which
    grow with the position within one file); the importer maps them to the real ids once stored
    and checks the rest (Importer._settle_ahead, propose.propose_sessions).
    """

    def __init__(self, tool: str, extractor: str, roots: dict[str, str | None] | None = None) -> None:
        """`roots`: cwd -> project_root(cwd), kept by the caller across the files of one run (as
        Importer.project_id keeps each cwd's project): finding the root stats the cwd and each
        of its parents for a .git, and the sessions of a run share a few cwds."""
        self.tool = tool
        self.extractor = extractor
        self.sessions: dict[str, _AheadSession] = {}
        self.chars = 0
        self.roots = {} if roots is None else roots

    def _get(self, key: str, tool: str) -> _AheadSession:
        s = self.sessions.get(key)
        if s is None:
            s = self.sessions[key] = _AheadSession(tool)
        return s

    def add(self, item) -> None:
        if self.chars > AHEAD_MAX_CHARS:
            return
        if type(item) is tuple:
            s = self.sessions.get(item[0]) or self._get(item[0], self.tool)
            if not s.ok:
                return
            ext = item[6]
            if ext is not None:
                ext = str(ext)
                if ext in s.external:
                    s.ok = False
                    s.rows = []
                    return
                s.external.add(ext)
            s.rows.append(item)
            self.chars += len(item[4])
            if self.chars > AHEAD_MAX_CHARS:
                self.sessions.clear()
        elif isinstance(item, SessionInfo):
            s = self.sessions.get(item.key) or self._get(item.key, item.tool or self.tool)
            if item.cwd and not s.cwd:
                s.cwd = item.cwd
        elif isinstance(item, Rewind):
            s = self._get(item.session_key, self.tool)
            s.ok = False
            s.rows = []

    def add_run(self, run: MessageRun, rows: list) -> None:
        """add() of each of `rows`, the prepared messages of `run`: at once when their external
        ids are new (as they are, but for replayed lines), else one by one."""
        if self.chars > AHEAD_MAX_CHARS:
            return
        s = self.sessions.get(run.key) or self._get(run.key, self.tool)
        if not s.ok:
            return
        ids = run.cols[5]
        if None not in ids:
            new = set(map(str, ids))
            if len(new) == len(ids) and s.external.isdisjoint(new):
                s.external |= new
                s.rows += rows
                # (the characters only grow: over the limit at the end when over it after any row)
                self.chars += run.chars
                if self.chars > AHEAD_MAX_CHARS:
                    self.sessions.clear()
                return
        for row in rows:
            self.add(row)

    def results(self) -> dict[str, tuple]:
        """session key -> (session fields given to the extractor, message count, external_digest
        of the messages, the prepared proposals with positions + 1 for message ids)."""
        from memtui.core.extract import heuristic_session_fields
        from memtui.core.extract.heuristic import extract
        from memtui.core.proposals import prepare_proposals
        from memtui.core.records import SessionRecord, new_message

        out: dict[str, tuple] = {}
        if self.extractor not in AHEAD_EXTRACTORS or self.chars > AHEAD_MAX_CHARS:
            return out
        for key, s in self.sessions.items():
            if not s.ok or not s.rows:
                continue
            cwd = clean(s.cwd) if s.cwd else None
            root = self.roots.get(cwd, False)
            if root is False:
                root = self.roots[cwd] = project_root(cwd)
            session = SessionRecord(
                id=0, tool=s.tool, external_id=clean(key), project_id=None, project_root=root, cwd=cwd, title=None,
                started_at=None, ended_at=None, model=None, git_branch=None, message_count=len(s.rows), raw_size=0,
                review_state="new", parent_id=None, source_path=None,
            )
            # (records.new_message fills the records' slots: half the time of their __init__)
            messages = [
                new_message(i + 1, 0, i, r[1], r[2], r[3], r[4], None if r[5] is None else float(r[5]), r[6], r[7],
                            bool(r[8]), r[9])
                for i, r in enumerate(s.rows)
            ]
            try:
                # what storing them does first, done here (merging, cleaning, quotes: pure)
                prepared = prepare_proposals(extract(session, messages))
            except Exception:  # the importer's own extraction meets (and reports) it
                continue
            out[key] = (
                heuristic_session_fields(session),
                len(s.rows),
                external_digest([r[6] if r[6] is None or type(r[6]) is str else str(r[6]) for r in s.rows]),
                prepared,
            )
        return out


class _Writer:
    """Stores the items of one file's parse inside the caller's transaction."""

    def __init__(self, importer: Importer, fmt: str, tool: str, fresh: bool) -> None:
        self.importer = importer
        self.db = importer.db
        self.conn = importer.db.connection()
        self.fmt = fmt
        self.tool = tool
        self.fresh = fresh  # the file is read from its start (sizes are recomputed, not added)
        self.infos: dict[str, SessionInfo] = {}
        self.session_ids: dict[str, int] = {}
        self.next_pos: dict[int, int] = {}
        self.count_before: dict[int, int] = {}
        self.text_size: dict[int, int] = {}
        self.first_ts: dict[int, float] = {}
        self.last_ts: dict[int, float] = {}
        self.batch: list[tuple] = []
        self.batch_chars = 0
        # The batch's rows go with a plain INSERT (_INSERT) while none of them can be in the
        # database already: SQLite's upsert costs ~19,000 instructions more per row (~7% of the
        # importing process). Per session: the external ids of its rows in this file, while the
        # session had no message before and those ids are distinct strings (then no row of it can
        # meet the upsert's conflict); None once that is not known (its rows are upserted).
        self.plain = True
        self.fresh_ids: dict[int, set | None] = {}
        self.chars_written = 0
        self.titles: list[LeafTitle] = []
        # counted in the report once the file is committed (Importer._count_file)
        self.new_sessions: list[int] = []
        self.messages_new = 0
        self.touched: list[int] = []

    def consume(self, items) -> None:
        """Store `items`: parser items and/or prepared messages (see prepare_items)."""
        for item in items:
            t = type(item)
            if t is MessageRun:
                self.run(item)
            elif t is tuple:
                self.prepared(item)
            elif isinstance(item, ParsedMessage):
                self.prepared(_prepare_message(item))
            elif isinstance(item, SessionInfo):
                self.session(item)
            elif isinstance(item, Rewind):
                self.rewind(item)
            elif isinstance(item, LeafTitle):
                self.titles.append(item)
        self.flush()

    def session(self, info: SessionInfo) -> int:
        old = self.infos.get(info.key)
        if old is None:
            self.infos[info.key] = info
        else:
            if info.cwd and not old.cwd:  # a session belongs where it started ("cd ~" later moves nothing)
                old.cwd = info.cwd
            for name in ("model", "git_branch", "git_remote", "parent_key", "title"):
                value = getattr(info, name)
                if value:
                    setattr(old, name, value)
            if info.started_at and (not old.started_at or info.started_at < old.started_at):
                old.started_at = info.started_at
            if info.ended_at and (not old.ended_at or info.ended_at > old.ended_at):
                old.ended_at = info.ended_at
        if info.key in self.session_ids:
            return self.session_ids[info.key]
        external = clean(info.key)
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO session (tool, external_id, message_count, raw_size, review_state)"
            " VALUES (?, ?, 0, 0, 'new')",
            (info.tool or self.tool, external),
        )
        if cur.rowcount:  # a new session: no message can be in it yet
            sid, pos, count = cur.lastrowid, 0, 0
            self.new_sessions.append(sid)
        else:
            sid = self.conn.execute(
                "SELECT id FROM session WHERE tool = ? AND external_id = ?", (info.tool or self.tool, external)
            ).fetchone()[0]
            pos, count = self.conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1, COUNT(*) FROM message WHERE session_id = ?", (sid,)
            ).fetchone()
        self.session_ids[info.key] = sid
        self.next_pos[sid] = pos
        self.count_before[sid] = count
        # (two keys may clean to one external id: the second finds the first's rows unflushed)
        self.fresh_ids[sid] = set() if count == 0 and sid not in self.fresh_ids else None
        self.text_size[sid] = 0
        return sid

    def message(self, m: ParsedMessage) -> None:
        self.prepared(_prepare_message(m))

    def prepared(self, m: tuple) -> None:
        key, role, kind, tool_name, text, timestamp, external_id, group_id, is_error, original_col, original = m
        sid = self.session_ids.get(key)
        if sid is None:
            sid = self.session(SessionInfo(key=key, tool=self.tool))
        self.text_size[sid] += original
        pos = self.next_pos[sid]
        self.next_pos[sid] = pos + 1
        if timestamp:
            if sid not in self.first_ts or timestamp < self.first_ts[sid]:
                self.first_ts[sid] = timestamp
            if sid not in self.last_ts or timestamp > self.last_ts[sid]:
                self.last_ts[sid] = timestamp
        seen = self.fresh_ids[sid]
        plain = seen is not None and type(external_id) is str and external_id not in seen
        if plain:
            seen.add(external_id)
        elif seen is not None:
            self.fresh_ids[sid] = None
        if plain is not self.plain:
            self.flush()
            self.plain = plain
        self.batch.append((
            sid, pos, role, kind, _NULL if tool_name is None else tool_name, text,
            _NULL if timestamp is None else timestamp, external_id, _NULL if group_id is None else group_id,
            is_error, _NULL if original_col is None else original_col,
        ))
        self.batch_chars += len(text)
        self.chars_written += len(text)
        if len(self.batch) >= BATCH or self.batch_chars >= BATCH_CHARS:
            self.flush()

    def run(self, run: MessageRun) -> None:
        """What prepared() does for each message of the run, for all of them at once."""
        key = run.key
        sid = self.session_ids.get(key)
        if sid is None:
            sid = self.session(SessionInfo(key=key, tool=self.tool))
        self.text_size[sid] += run.original
        n = run.count
        pos = self.next_pos[sid]
        self.next_pos[sid] = pos + n
        first = run.first_ts
        if first is not None:
            if sid not in self.first_ts or first < self.first_ts[sid]:
                self.first_ts[sid] = first
            last = run.last_ts
            if sid not in self.last_ts or last > self.last_ts[sid]:
                self.last_ts[sid] = last
        roles, kinds, tools, texts, stamps, external, groups, errors, original_col = run.cols
        seen = self.fresh_ids[sid]
        plain = False
        if seen is not None:
            before = len(seen)
            seen.update(external)
            plain = len(seen) == before + n and set(map(type, external)) == _STR
            if not plain:
                self.fresh_ids[sid] = None
        if plain is not self.plain:
            self.flush()
            self.plain = plain
        self.batch.extend(zip(
            repeat(sid, n), range(pos, pos + n), roles, kinds, map(_NULLS.get, tools, tools), texts,
            map(_NULLS.get, stamps, stamps), external, map(_NULLS.get, groups, groups), errors,
            map(_NULLS.get, original_col, original_col),
        ))
        self.batch_chars += run.chars
        self.chars_written += run.chars
        if len(self.batch) >= BATCH or self.batch_chars >= BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.conn.executemany(_INSERT if self.plain else _UPSERT, self.batch)
            self.batch.clear()
            self.batch_chars = 0

    def rewind(self, r: Rewind) -> None:
        self.flush()
        sid = self.session_ids.get(r.session_key)
        if sid is None:
            return
        row = self.conn.execute(
            "SELECT position FROM message WHERE session_id = ? AND external_id = ?", (sid, r.external_id)
        ).fetchone()
        if row is None:
            self.conn.execute("DELETE FROM message WHERE session_id = ?", (sid,))
        else:
            self.conn.execute("DELETE FROM message WHERE session_id = ? AND position >= ?", (sid, row[0]))

    def finish(self) -> None:
        self.flush()
        for title in self.titles:
            for sid in self.session_ids.values():
                hit = self.conn.execute(
                    "SELECT 1 FROM message WHERE session_id = ? AND external_id = ?", (sid, title.leaf_id)
                ).fetchone()
                if hit:
                    self.conn.execute("UPDATE session SET title = ? WHERE id = ?", (clean(title.title), sid))
                    break
        for key, sid in self.session_ids.items():
            info = self.infos.get(key) or SessionInfo(key=key, tool=self.tool)
            parent_id = self.session_ids.get(info.parent_key) if info.parent_key else None
            if info.parent_key and parent_id is None:
                row = self.conn.execute(
                    "SELECT id FROM session WHERE tool = ? AND external_id = ?", (info.tool or self.tool, info.parent_key)
                ).fetchone()
                parent_id = row[0] if row else None
            project = self.importer.project_id(clean(info.cwd) if info.cwd else None, info.git_remote)
            if parent_id is not None:
                # A subagent works for its parent's project, even from a worktree elsewhere.
                row = self.conn.execute("SELECT project_id FROM session WHERE id = ?", (parent_id,)).fetchone()
                project = row[0] if row and row[0] else project
            count = self.conn.execute("SELECT COUNT(*) FROM message WHERE session_id = ?", (sid,)).fetchone()[0]
            self.messages_new += max(0, count - self.count_before.get(sid, 0))
            if count:
                self.touched.append(sid)
            started = min(filter(None, (info.started_at, self.first_ts.get(sid))), default=None)
            ended = max(filter(None, (info.ended_at, self.last_ts.get(sid))), default=None)
            size_sql = "raw_size = ?" if self.fresh else "raw_size = raw_size + ?"
            self.conn.execute(
                "UPDATE session SET cwd = COALESCE(cwd, ?), project_id = COALESCE(project_id, ?),"
                " parent_id = COALESCE(?, parent_id), title = COALESCE(?, title),"
                " started_at = MIN(COALESCE(started_at, ?), COALESCE(?, started_at)),"
                " ended_at = MAX(COALESCE(ended_at, ?), COALESCE(?, ended_at)),"
                " model = COALESCE(?, model), git_branch = COALESCE(?, git_branch),"
                f" message_count = ?, {size_sql} WHERE id = ?",
                (
                    clean(info.cwd) if info.cwd else None,
                    project,
                    parent_id,
                    clean(info.title) if info.title else None,
                    started,
                    started,
                    ended,
                    ended,
                    clean(info.model) if info.model else None,
                    clean(info.git_branch) if info.git_branch else None,
                    count,
                    self.text_size.get(sid, 0),
                    sid,
                ),
            )
            if not info.title:
                self._default_title(sid)

    def _default_title(self, sid: int) -> None:
        """Sessions without a title of their own take the first line of the first user text."""
        has = self.conn.execute("SELECT title FROM session WHERE id = ?", (sid,)).fetchone()[0]
        if has:
            return
        rows = self.conn.execute(
            "SELECT text FROM message WHERE session_id = ? AND role = 'user' AND kind = 'text'"
            " ORDER BY position LIMIT 20",
            (sid,),
        ).fetchall()
        title = ""
        for (text,) in rows:
            title = _title_from(text)
            if title:
                break
        if not title and rows:
            title = rows[0][0].strip().splitlines()[0][:100] if rows[0][0].strip() else ""
        if title:
            self.conn.execute("UPDATE session SET title = ? WHERE id = ?", (title, sid))


_TAG_BLOCK = re.compile(r"<([a-z_\-]+)[^>]*>.*?</\1>", re.S)


def _title_from(text: str) -> str:
    """A title from a user prompt: not a slash command, without IDE/harness tag blocks."""
    text = _TAG_BLOCK.sub(" ", text).strip()
    if not text or text.startswith("/") or text.startswith("[image"):
        return ""
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    first = first.lstrip("#> ").strip()
    return first[:100] + ("…" if len(first) > 100 else "")
