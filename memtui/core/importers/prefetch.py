"""Parsing ahead in a second process while the importing process writes to SQLite.

An import spends its time in two halves of similar size: reading, parsing and redacting the
transcripts (Python, one core) and storing them (SQLite inserts, full-text indexing, commits).
With two or more cores the Importer hands the files it is about to import to one worker
process, which parses them with the same parser and the same preparation (shortening,
redaction: `pipeline.prepare_items`) as the in-process path and streams the prepared items
back, in order, while the importer stores the files before them.

The worker's parse is speculative. The importer still makes every decision itself, in file
order (skip or import, where to resume, warnings, one transaction per file) and uses the
worker's result for a file only when it was made from exactly the same inputs (format, resume
offset and state, size and mtime); otherwise it parses the file itself. So the database and the
warnings are the same with or without the worker.

Memory stays bounded: the worker writes at most a few frames ahead (a bounded queue in the
importer, then the pipe), and it blocks when the importer falls behind.

When the import is followed by the heuristic extractor (`memtui import`'s default), the workers
also extract: once a file read from its start is parsed and its items sent, the worker runs the
extractor over each of its sessions as the importer is storing them (`pipeline.AheadSessions`:
positions stand for the message ids, which exist only once stored) and sends the proposals in a
frame of their own before the next file's items, so that the importer never waits for them: it
picks them up when it reads that worker's next file, or at the end of the run (collect).
The importer keeps them only for sessions it verifies to hold exactly those messages (as they come
in, and no later file touched them by the end of the run: Importer._settle_ahead), and plans the
storing of those proposals meanwhile (Importer._plan_ahead); every other session is extracted
in-process as before. The work is split between two workers (PrefetchGroup), files going to the
one with less ahead.

On Linux a worker is forked from the importing process (_ForkedWorker): it starts at once with
the modules this process has loaded, where a new interpreter spends ~0.3 CPU-s importing memtui
and compiling the extractor's patterns (but for the extractor's own modules, which each forked
worker loads itself while the importer goes on: see _ForkedWorker.start). Elsewhere, or with
MEMTUI_IMPORT_FORK=0, it is a new interpreter running worker_main.
"""

from __future__ import annotations

import importlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple

from memtui.core.importers.base import ParseContext, ParseError

AHEAD_JOBS = 48  # files handed to the worker before the importer reaches them
AHEAD_BYTES = 8 * 1024  # job descriptions waiting in the worker's stdin (pipes hold 16-64 KiB)
START_AFTER = 4_000_000  # bytes to parse before starting a worker is worth its start-up ...
START_AFTER_EXTRACTING = 1_000_000  # ... when it also extracts (what is parsed here is extracted after the run)
WAIT_FOR_START = 2_000_000  # a file this large waits for the worker to start rather than being parsed here
QUEUE_FRAMES = 64  # frames read from the worker and not yet used (each <= ~FRAME_CHARS) ...
QUEUE_BYTES = 32 * 2**20  # ... and their size (the worker may run this far ahead, no further)
FRAME_CHARS = 500_000  # characters of message text per frame
FRAME_ITEMS = 2_000
# The pipe a worker writes its frames into (Linux: F_SETPIPE_SZ; 1 MiB is the most an unprivileged
# process may ask for by default). With the default 64 KiB a frame of ~0.5 MB crosses it in eight
# pieces, each a wake-up of the importer's reader thread and a wait of the worker.
PIPE_BYTES = 1 << 20
# The workers run at a lower priority (nice) than the importing process: with two workers and the
# importer on two cores, the importer (the one that must finish last: it stores what they send)
# otherwise gets two thirds of a core, falls behind, and stores the last files alone after the
# workers are done. With both (tests/perf/bench_import.py, 6 runs alternated with the change's
# parent): import + extraction 48.3 -> 56.4 MB/s (medians), the wall time beyond the CPU time / 2
# 0.48 -> 0.29 s, and the CPU time itself 7.4 -> 6.7 s (fewer wake-ups and preemptions of the
# importer); on their own, the nice and the pipe took 0.07 and 0.03 s of the 0.19 s gained.
WORKER_NICE = 5

_HEADER = struct.Struct("<Q")
_READY = b"memtui-import-worker-ready"


class Control(NamedTuple):
    """Stream events that are not items: a warning, the end of a file, a failure, proposals."""

    # "warn" (a: text), "end" (a: ctx.end, b: ctx.state), "fail" (a: kind, b: detail),
    # "extract" (a: the file's key, b: AheadSessions.results(); in a frame of its own after "end")
    kind: str
    a: object = None
    b: object = None


class WorkerError(RuntimeError):
    """The worker process stopped or failed in a way the importer cannot recover from."""


MAX_WORKERS = 2  # with extraction: two workers parse and extract while the importer stores


def worker_count(extracting: bool = False) -> int:
    """Workers to use when the caller does not say: one on a machine with two or more cores (two
    when they also extract). MEMTUI_IMPORT_WORKERS=N caps it; 0 turns the workers off."""
    most = min(MAX_WORKERS, os.cpu_count() or 1) if extracting else 1
    env = os.environ.get("MEMTUI_IMPORT_WORKERS")
    if env is not None and env.strip().isdigit():
        return min(max(most, 1), int(env))
    return most if (os.cpu_count() or 1) >= 2 else 0


def _widen_pipe(fd: int) -> None:
    """Let the pipe `fd` belongs to hold PIPE_BYTES, where the system allows it (else as it was)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # (not Linux, or over the user's pipe quota)
        pass


def _lower_priority() -> None:
    """In a worker: run at WORKER_NICE below the importing process, where the system allows it."""
    try:
        os.nice(WORKER_NICE)
    except (AttributeError, OSError):  # (Windows has no nice)
        pass


def _write_frame(fh, payload: bytes) -> None:
    fh.write(_HEADER.pack(len(payload)))
    fh.write(payload)
    fh.flush()


def _read_exact(fh, n: int) -> bytes | None:
    data = fh.read(n)
    if len(data) < n:
        return None
    return data


def _read_frame(fh) -> bytes | None:
    header = _read_exact(fh, _HEADER.size)
    if header is None:
        return None
    return _read_exact(fh, _HEADER.unpack(header)[0])


@dataclass
class _Job:
    key: str
    spec: tuple
    payload: bytes
    size: int  # bytes to parse
    owner: "Prefetcher | None" = None
    sent: bool = False
    done: bool = False  # its last frame has been read
    extracted: dict | None = None  # the worker's proposals for the file's sessions (Control "extract")


class Prefetcher:
    """The importer's side of the worker: offer files in order, then take them in order."""

    def __init__(self, start_after: int | None = None, extract: str | None = None, queue_bytes: int | None = None) -> None:
        """`extract`: the extractor the worker runs over each file's sessions (only "heuristic"),
        or None."""
        if start_after is None:
            start_after = min(START_AFTER, START_AFTER_EXTRACTING) if extract else START_AFTER
        self.start_after = start_after
        self.extract = extract
        self.queue_bytes_max = QUEUE_BYTES if queue_bytes is None else queue_bytes
        self.jobs: deque[_Job] = deque()  # offered, not yet taken, in file order
        self.jobs_bytes = 0  # their sizes added up (pending_bytes)
        self.sent_payload = 0  # the payloads of those of them sent to the worker, added up (_in_flight)
        self.current: _Job | None = None
        self.offered_bytes = 0
        self.proc: subprocess.Popen | None = None
        self.frames: queue.Queue | None = None
        self.room = threading.Condition()  # the reader waits on it while QUEUE_BYTES are queued
        self.queued_bytes = 0
        self.reader: threading.Thread | None = None
        self.stopping = threading.Event()
        self.ready = False
        self.broken = False  # the worker could not start: everything is parsed in-process
        self.awaiting: _Job | None = None  # a parsed job whose proposals (Control "extract") are still to come

    # --- offering ahead ---------------------------------------------------------------------

    def wants_more(self) -> bool:
        return not self.broken and len(self.jobs) < AHEAD_JOBS

    def offer(self, key: str, spec: tuple, size: int) -> None:
        """The importer will (probably) import `key` with these inputs: spec = (format, start
        offset, parser state, file size, mtime)."""
        if self.broken:
            return
        fmt, start, state = spec[0], spec[1], spec[2]
        payload = pickle.dumps((key, fmt, start, state, self.extract), protocol=pickle.HIGHEST_PROTOCOL)
        self.jobs.append(_Job(key, spec, payload, size, owner=self))
        self.jobs_bytes += size
        self.offered_bytes += size
        if self.proc is None and self.offered_bytes >= self.start_after:
            self._start()
        self._pump()

    def pending_bytes(self) -> int:
        """Bytes offered and not yet taken: the work this worker has ahead of it."""
        return self.jobs_bytes

    def _in_flight(self) -> int:
        n = len(self.current.payload) if self.current and not self.current.done else 0
        return n + self.sent_payload

    def _popleft(self) -> _Job:
        job = self.jobs.popleft()
        self.jobs_bytes -= job.size
        if job.sent:
            self.sent_payload -= len(job.payload)
        return job

    def _pump(self) -> None:
        """Send job descriptions while they surely fit in the pipe (so that writing never blocks
        while the worker is itself blocked writing results we are not reading yet)."""
        if self.proc is None or self.broken or not self._poll_ready():
            return
        sent_ahead = 0
        for job in self.jobs:
            if job.sent:
                sent_ahead += 1
                continue
            if sent_ahead >= AHEAD_JOBS or self._in_flight() + len(job.payload) > AHEAD_BYTES:
                break
            self._send(job)
            if job.sent:
                self.sent_payload += len(job.payload)
            sent_ahead += 1

    def _send(self, job: _Job) -> None:
        try:
            _write_frame(self.proc.stdin, job.payload)
        except (OSError, ValueError):  # the worker is gone (its exit shows up as the end of its frames)
            return
        job.sent = True

    # --- taking in order --------------------------------------------------------------------

    def take(self, key: str, spec: tuple) -> _Job | None:
        """The worker's stream for `key` if it was made from `spec`, else None (parse in-process).
        Jobs offered before `key` were passed by the importer and are dropped. If the worker
        has stopped, this file and the next ones are parsed in-process."""
        try:
            self._finish_current()
            if not any(job.key == key for job in self.jobs):
                return None
            while self.jobs[0].key != key:
                self._drop(self._popleft())
            job = self._popleft()
            # a large file waits for the worker to start rather than being parsed here; with
            # extraction every file does (what is parsed here is extracted after the run, serially)
            if (job.size >= WAIT_FOR_START or self.extract) and not self.ready and self.proc is not None and not self.broken:
                self._poll_ready(wait=True)
            if job.spec != spec or self.proc is None or self.broken or not self._poll_ready():
                self._drop(job)  # (until the worker has started, the importer parses by itself)
                self._pump()
                return None
            if not job.sent:  # larger than what may wait in the pipe: the worker is idle now
                self._send(job)
            self.current = job
            self._pump()
            return job
        except WorkerError:
            return None

    def events(self, job: _Job, ctx: ParseContext) -> Iterator:
        """Replay the worker's stream for `job` as the in-process parse would have produced it:
        items are yielded, warnings go through ctx, ctx.end/state are set, failures raise."""
        while not job.done:
            for event in pickle.loads(self._next_frame()):
                if type(event) is Control:
                    if event.kind == "warn":
                        ctx.warnings.append(event.a)
                        if ctx.on_warning:
                            ctx.on_warning(event.a)
                        continue
                    if event.kind == "extract":
                        self._attach(event)
                        continue
                    job.done = True
                    if event.kind == "end":
                        ctx.end, ctx.state = event.a, event.b
                        self._await(job)
                        return
                    if event.a == "parse":
                        raise ParseError(event.b)
                    if event.a == "os":
                        raise OSError(*event.b)
                    raise WorkerError(f"the import worker failed on {job.key}:\n{event.b}")
                yield event

    def _await(self, job: _Job) -> None:
        """`job` was parsed; with extraction on, its proposals follow in a frame of their own."""
        if self.extract and job.spec[1] == 0:
            self.awaiting = job

    def _attach(self, event: Control) -> None:
        if self.awaiting is not None and self.awaiting.key == event.a:
            self.awaiting.extracted = event.b
        self.awaiting = None

    def collect(self) -> None:
        """Wait for the proposals of the last file parsed (the end of the run: nothing follows)."""
        try:
            while self.awaiting is not None and not self.broken:
                for event in pickle.loads(self._next_frame()):
                    if type(event) is Control and event.kind == "extract":
                        self._attach(event)
                    else:  # (no frame of another job comes first: the worker sends them in order)
                        self.awaiting = None
        except WorkerError:
            self.awaiting = None

    def _finish_current(self) -> None:
        if self.current is not None:
            self._drop(self.current)
            self.current = None

    def _drop(self, job: _Job) -> None:
        """Forget a job, reading (and discarding) whatever the worker sends for it."""
        if self.broken:
            job.done = True
        if job.sent and not job.done:
            while not job.done:
                for event in pickle.loads(self._next_frame()):
                    if type(event) is Control:
                        if event.kind == "extract":
                            self._attach(event)
                        elif event.kind in ("end", "fail"):
                            job.done = True
                            if event.kind == "end":
                                self._await(job)

    def _get(self, block: bool = True) -> bytes | None:
        frame = self.frames.get(block=block)
        if frame:
            with self.room:
                self.queued_bytes -= len(frame)
                self.room.notify()
        return frame

    def _next_frame(self) -> bytes:
        frame = self._get()
        if frame is None:  # the worker is gone: the rest of the run parses in-process
            self._give_up()
            raise WorkerError("the import worker stopped unexpectedly")
        return frame

    def _give_up(self) -> None:
        self.broken = True
        for job in self.jobs:
            job.done = True
        if self.current:
            self.current.done = True

    # --- the process ------------------------------------------------------------------------

    def _start(self) -> None:
        try:
            self.proc = _ForkedWorker.start(self.extract) if use_fork() else _spawn()
        except OSError:
            self.broken = True
            return
        _widen_pipe(self.proc.stdout.fileno())
        self.frames = queue.Queue(QUEUE_FRAMES)
        self.reader = threading.Thread(target=self._read_loop, name=READER_THREAD, daemon=True)
        self.reader.start()

    def _read_loop(self) -> None:
        out = self.proc.stdout
        while not self.stopping.is_set():
            try:
                frame = _read_frame(out)
            except (OSError, ValueError):
                frame = None
            size = len(frame) if frame else 0
            with self.room:
                while self.queued_bytes and self.queued_bytes + size > self.queue_bytes_max and not self.stopping.is_set():
                    self.room.wait(0.2)
                self.queued_bytes += size
            while not self.stopping.is_set():
                try:
                    self.frames.put(frame, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if frame is None:
                return

    def _poll_ready(self, wait: bool = False) -> bool:
        """Whether the worker has greeted us (without waiting, unless `wait`: until it has, the
        importer goes on parsing small files in-process). A worker that cannot start turns
        prefetching off."""
        if self.ready:
            return True
        if self.broken or self.proc is None:
            return False
        try:
            frame = self._get(block=wait)
        except queue.Empty:
            return False
        if frame == _READY:
            self.ready = True
            return True
        self._give_up()
        return False

    def close(self) -> None:
        if self.proc is None:
            return
        self.stopping.set()
        busy = any(j.sent and not j.done for j in [*self.jobs, *filter(None, [self.current])])
        if busy:  # the run stopped early (an error, Ctrl-C): results nobody will read
            self.proc.kill()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.reader is not None:
            while self.reader.is_alive():  # unblock a reader waiting for room in the queue
                try:
                    self.frames.get(timeout=0.05)
                except queue.Empty:
                    pass
            self.reader.join()
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        self.proc = None

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PrefetchGroup:
    """One or more Prefetchers (each with its own worker process) behind the Prefetcher interface
    the importer uses. Each file goes to the member with the fewest bytes ahead of it; the importer
    takes files in order, each from the member that has it."""

    def __init__(self, workers: int = 1, extract: str | None = None, start_after: int | None = None) -> None:
        n = max(1, workers)
        self.members = [Prefetcher(start_after, extract, QUEUE_BYTES // n) for _ in range(n)]
        self.where: dict[str, Prefetcher] = {}

    def wants_more(self) -> bool:
        return any(m.wants_more() for m in self.members)

    def offer(self, key: str, spec: tuple, size: int) -> None:
        open_ = [m for m in self.members if m.wants_more()]
        if not open_:
            return
        member = min(open_, key=Prefetcher.pending_bytes)
        self.where[key] = member
        member.offer(key, spec, size)

    def take(self, key: str, spec: tuple) -> _Job | None:
        member = self.where.pop(key, None)
        return member.take(key, spec) if member is not None else None

    def events(self, job: _Job, ctx: ParseContext) -> Iterator:
        return job.owner.events(job, ctx)

    def collect(self) -> None:
        """The proposals of the files each worker parsed last (see Prefetcher.collect)."""
        for m in self.members:
            m.collect()

    def close(self) -> None:
        for m in self.members:
            m.close()

    def __enter__(self) -> "PrefetchGroup":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


READER_THREAD = "memtui-import-reader"  # the thread that reads a worker's frames (_read_loop)
EXTRACTOR_MODULE = "memtui.core.extract.heuristic"  # what a worker that extracts runs (AheadSessions)


def _only_import_threads() -> bool:
    """Whether the only threads running are the calling one and workers' readers (which import
    nothing)."""
    me = threading.current_thread()
    return all(t is me or t.name == READER_THREAD for t in threading.enumerate())


def use_fork() -> bool:
    """Whether workers are forked from this process (Linux) rather than started as a new
    interpreter. MEMTUI_IMPORT_FORK=0 starts them as new interpreters there too."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and os.environ.get("MEMTUI_IMPORT_FORK", "1") != "0"


def _spawn() -> subprocess.Popen:
    """A worker in a new interpreter. It must run this very code: its package folder goes first
    on sys.path (before the current directory, which may hold another checkout of memtui)."""
    package_root = str(Path(__file__).resolve().parents[3])
    code = (
        f"import sys; sys.path.insert(0, {package_root!r}); "
        "from memtui.core.importers.prefetch import worker_main; worker_main()"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


class _ForkedWorker:
    """A worker forked from the importing process, with the Popen surface the Prefetcher uses
    (stdin, stdout, kill, wait). A new interpreter spends ~0.3 CPU-s importing memtui and
    compiling the extractor's patterns before its first file, each of the two workers; a forked
    one starts with what this process has loaded. The child keeps only its two pipes (the
    database's descriptors and the other workers' pipes are closed), takes its own stdio objects
    and the default signal handlers, never collects the objects it inherited (gc.freeze) and
    leaves with os._exit: no finaliser or atexit handler of this process runs in it."""

    def __init__(self, pid: int, stdin, stdout) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.returncode: int | None = None

    @classmethod
    def start(cls, extract: str | None) -> "_ForkedWorker":
        import gc

        # The extractor's modules (compiling their patterns takes ~60 ms) are loaded by the worker:
        # the workers load them at once, each on its own CPU, while this process goes on (it needs
        # them only for a session no worker extracted). Loading them here first, alone, made the
        # import with extraction ~0.08 s longer. But a module another thread of this process is
        # importing at the moment of the fork stays locked in the child, so when a thread other
        # than this one and the workers' readers runs (the app's, say), they are loaded here.
        if extract:
            if not _only_import_threads():
                importlib.import_module(EXTRACTOR_MODULE)
            # (this process plans the storing of the proposals: it needs this module anyway)
            from memtui.core.proposals import prepare_proposals  # noqa: F401
        job_r, job_w = os.pipe()
        out_r, out_w = os.pipe()
        collecting = gc.isenabled()
        gc.disable()  # (no collection may run between fork and gc.freeze in the child)
        try:
            with warnings.catch_warnings():  # (Python 3.12+ warns about forking with threads running:
                # the child runs only worker_main, which takes no lock another thread could hold)
                warnings.filterwarnings("ignore", r".*multi-threaded.*fork", DeprecationWarning)
                pid = os.fork()
        except OSError:
            if collecting:
                gc.enable()
            for fd in (job_r, job_w, out_r, out_w):
                os.close(fd)
            raise
        if pid == 0:  # the worker
            code = 1
            try:
                gc.freeze()
                os.dup2(job_r, 0)
                os.dup2(out_w, 1)
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 2)
                _close_from(3)
                _default_signals()
                sys.stdout = sys.stderr = open(2, "w", closefd=False)
                if extract:
                    importlib.import_module(EXTRACTOR_MODULE)
                worker_main(open(0, "rb", closefd=False), open(1, "wb", closefd=False))
                code = 0
            finally:
                os._exit(code)
        if collecting:
            gc.enable()
        os.close(job_r)
        os.close(out_w)
        return cls(pid, open(job_w, "wb"), open(out_r, "rb"))

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"import worker {self.pid}", timeout)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return self.returncode


def _default_signals() -> None:
    """In a forked worker: the signal handling a new interpreter has. The handlers this process
    set (a TUI's resize handler, say) would run this process's code in the worker, and its
    signal wakeup descriptor is closed there."""
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for sig in signal.valid_signals():
        try:
            handler = signal.getsignal(sig)
            if sig == signal.SIGINT:
                if handler is not signal.default_int_handler:
                    signal.signal(sig, signal.default_int_handler)
            elif callable(handler):
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass


def _close_from(low: int) -> None:
    """Close every open descriptor >= `low` (the ones /proc lists; else up to the limit)."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except (OSError, ValueError):
        os.closerange(low, os.sysconf("SC_OPEN_MAX"))
        return
    for fd in fds:
        if fd >= low:
            try:
                os.close(fd)
            except OSError:
                pass


GC_EVERY_JOBS = 128  # the worker collects cyclic garbage itself, after this many files


def worker_main(inp=None, out=None) -> None:
    """The worker process: read job descriptions from stdin, write prepared items to stdout
    (`inp`, `out`: binary streams in their place, in a forked worker)."""
    import gc
    import traceback

    from memtui.core.importers import parser_class
    from memtui.core.importers.pipeline import AheadSessions, prepared_frames

    if inp is None:
        inp, out = sys.stdin.buffer, sys.stdout.buffer
        sys.stdout = sys.stderr  # nothing else may write into the frame stream
    # Parsing and extracting make no reference cycles (none at all over the 200 MB benchmark tree):
    # reference counting frees everything, and the collector's passes over the objects of a file
    # in flight cost ~9% of this process's time. It runs every GC_EVERY_JOBS files instead.
    gc.freeze()
    gc.disable()
    _lower_priority()
    _write_frame(out, _READY)
    protocol = pickle.HIGHEST_PROTOCOL
    buf: list = []
    jobs = 0
    roots: dict = {}  # each session cwd's project root, for this run (see AheadSessions)
    while True:
        payload = _read_frame(inp)
        if payload is None:
            return
        jobs += 1
        if jobs % GC_EVERY_JOBS == 0:
            gc.collect()
        key, fmt, start, state, extract = pickle.loads(payload)
        ctx = ParseContext(path=Path(key), start=start, state=state, on_warning=lambda text: buf.append(Control("warn", text)))
        ahead = None
        try:
            parser = parser_class(fmt)()
            # extraction ahead: only for a file read from its start (an appended part is extracted
            # with the session's earlier messages, which only the database has)
            ahead = AheadSessions(parser.tool, extract, roots) if extract and start == 0 else None
            for _ in prepared_frames(parser.parse_rows(ctx), buf, ahead, FRAME_CHARS, FRAME_ITEMS):
                _write_frame(out, pickle.dumps(buf, protocol=protocol))
                buf.clear()
            buf.append(Control("end", ctx.end, ctx.state))
        except ParseError as exc:
            buf.append(Control("fail", "parse", str(exc)))
            ahead = None
        except OSError as exc:
            buf.append(Control("fail", "os", exc.args))
            ahead = None
        except Exception:  # a bug: reported by the importer with this traceback
            buf.append(Control("fail", "crash", traceback.format_exc()))
            ahead = None
        _write_frame(out, pickle.dumps(buf, protocol=protocol))
        buf.clear()
        if ahead is not None:  # the importer stores the file meanwhile
            try:
                results = ahead.results()
            except Exception:  # a bug in extracting: the importer extracts these sessions itself
                results = {}
            _write_frame(out, pickle.dumps([Control("extract", key, results)], protocol=protocol))
