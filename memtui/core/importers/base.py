"""The contract between the import pipeline and the per-format parsers.

A parser reads one transcript file and yields, in file order:
  * `SessionInfo` -- announces a session (again, to add fields learned later; fields merge),
  * `ParsedMessage` -- one normalised message of a session already announced,
  * `Rewind` -- drop a message and everything after it (Gemini `$rewindTo`),
  * `LeafTitle` -- a title for whichever session holds the message `leaf_id` (Claude `summary`).
It never touches the database, never redacts (the pipeline does), and reports bad input through
`ctx.warn(...)` instead of raising; only an unusable file as a whole raises `ParseError`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, ClassVar, Iterator, Union

import orjson

# A JSONL line longer than this is skipped with a warning instead of being parsed.
MAX_LINE_BYTES = 64 * 1024 * 1024


class ParseError(Exception):
    """The file as a whole cannot be read as this format (the message is one line)."""


@dataclass
class SessionInfo:
    key: str  # the tool's own session id (unique per tool); the pipeline keys on (tool, key)
    tool: str
    cwd: str | None = None  # full working directory recorded in the transcript
    title: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    model: str | None = None
    git_branch: str | None = None
    git_remote: str | None = None
    parent_key: str | None = None  # subagent sessions: the key of the parent session


@dataclass
class ParsedMessage:
    session_key: str
    role: str  # user, assistant, tool, system
    kind: str  # text, tool_use, tool_result, thinking, summary
    text: str
    external_id: str  # stable across re-imports of the same file (dedupe key within a session)
    tool_name: str | None = None
    timestamp: float | None = None
    group_id: str | None = None  # fragments of one reply (Claude message.id)
    is_error: bool = False
    original_len: int | None = None  # the parser already shortened `text` (images)


@dataclass
class Rewind:
    session_key: str
    external_id: str


@dataclass
class LeafTitle:
    leaf_id: str
    title: str


Item = Union[SessionInfo, ParsedMessage, Rewind, LeafTitle]


@dataclass
class ParseContext:
    path: Path
    start: int = 0  # byte offset to resume from (only for incremental parsers)
    state: dict = field(default_factory=dict)  # parser-owned, persisted between runs
    warnings: list[str] = field(default_factory=list)
    end: int = 0  # set by the parser: bytes consumed (complete records only)
    on_warning: Callable[[str], None] | None = None

    def warn(self, message: str, line: int | None = None) -> None:
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        text = f"{where}: {message}"
        self.warnings.append(text)
        if self.on_warning:
            self.on_warning(text)


class Parser:
    """Base class of a format parser. Subclasses set the class attributes and implement
    `detect` and `parse`."""

    name: ClassVar[str]  # the --format name, e.g. "claude-code"
    tool: ClassVar[str]  # Session.tool, e.g. "claude-code"
    incremental: ClassVar[bool] = False  # can resume at ctx.start (append-only JSONL)

    @classmethod
    def detect(cls, path: Path, head: bytes) -> bool:
        """True when the file looks like this format (head: its first 64 KiB)."""
        raise NotImplementedError

    def parse(self, ctx: ParseContext) -> Iterator[Item]:
        raise NotImplementedError

    def parse_rows(self, ctx: ParseContext) -> Iterator[Item | tuple]:
        """parse() as the import workers take it (pipeline.prepared_frames): a message may come as
        the tuple of its ParsedMessage fields in order, all ten, which costs less to make than
        the object (the Claude parser's parse() makes its objects from these)."""
        return self.parse(ctx)


# --- helpers shared by the parsers ----------------------------------------------------------


def iter_jsonl(ctx: ParseContext) -> Iterator[tuple[int, object]]:
    """Yield (line number, parsed JSON) for each complete line from ctx.start on.

    Streams the file; skips blank lines; warns about (and skips) lines that are not JSON or are
    larger than MAX_LINE_BYTES. A last line with no newline that does not parse is taken to be
    still being written: it is left for the next import (ctx.end stops before it).
    Line numbers continue across incremental runs through ctx.state["lines"].
    """
    lineno = int(ctx.state.get("lines", 0)) if ctx.start else 0
    offset = ctx.start
    ctx.end = offset
    loads = orjson.loads
    limit = MAX_LINE_BYTES
    longest = limit + 1  # (with its newline)
    # The file is read in big blocks and a line inside a block goes to orjson as a memoryview of
    # it: readline() looked for the newline byte by byte past its buffer and copied every line,
    # often twice (a line longer than its buffer is assembled from pieces), then strip() again.
    with open(ctx.path, "rb", buffering=0) as fh:
        fh.seek(offset)
        buf = fh.read(_READ_BYTES)
        view = memoryview(buf)
        pos = 0
        while True:
            nl = buf.find(b"\n", pos) + 1
            if nl:  # the line ends inside this block (nl: just after its newline)
                size = nl - pos
                line = view[pos:nl] if size <= longest else None
                pos = nl
            else:
                line, size, buf, pos = _spanning_line(fh, buf[pos:], limit)
                if not size:
                    break  # the end of the file
                view = memoryview(buf)
            lineno += 1
            if line is None:
                offset += size
                ctx.warn(f"line of {size / 1e6:.0f} MB skipped (over {limit // 2**20} MiB)", lineno)
                ctx.end = offset
                ctx.state["lines"] = lineno
                continue
            # The line goes to orjson as it is: JSON allows the whitespace around it (the newline).
            # Whatever orjson refuses (blank lines too) takes the careful path below, which sees
            # the line stripped as it always did.
            try:
                obj = loads(line)
            except orjson.JSONDecodeError:
                line = bytes(line)
                stripped = line.strip()
                if not stripped:
                    obj = None
                else:
                    try:
                        obj = loads(stripped)  # (a line ending in a form feed or vertical tab)
                    except orjson.JSONDecodeError:
                        obj = _lenient_json(stripped)
                        if obj is None and not line.endswith(b"\n"):
                            ctx.warn("incomplete last line left for the next import", lineno)
                            lineno -= 1
                            break
                        if obj is None:
                            ctx.warn("not valid JSON, line skipped", lineno)
                        else:
                            ctx.warn("invalid UTF-8 or unpaired surrogate replaced", lineno)
            if obj is not None:
                yield lineno, obj
            offset += size
            ctx.end = offset
            ctx.state["lines"] = lineno


_READ_BYTES = 1 << 20  # what iter_jsonl reads at a time


def _spanning_line(fh, head: bytes, limit: int) -> tuple[bytes | None, int, bytes, int]:
    """The line that starts with `head` (the end of a block, with no newline) and goes on in the
    next blocks of `fh`: (its bytes, its size, the block it ends in, where the next line starts
    there). Its bytes are None when it is over `limit` bytes (not counting the newline): such a
    line is counted, never held in memory whole. Size 0: the end of the file."""
    pieces = [head]
    held = len(head)
    while True:
        if held > limit:  # too long: count the rest of it without keeping it
            while True:
                buf = fh.read(_READ_BYTES)
                nl = buf.find(b"\n")
                if nl >= 0 or not buf:
                    break
                held += len(buf)
            return (None, held + nl + 1, buf, nl + 1) if nl >= 0 else (None, held, b"", 0)
        buf = fh.read(_READ_BYTES)
        if not buf:  # the end of the file: a last line has no newline
            return (b"".join(pieces) if held else None), held, b"", 0
        nl = buf.find(b"\n")
        if nl >= 0:
            size = held + nl + 1
            if size > limit + 1:
                return None, size, buf, nl + 1
            pieces.append(buf[: nl + 1])
            return b"".join(pieces), size, buf, nl + 1
        pieces.append(buf)
        held += len(buf)


def _lenient_json(line: bytes) -> object:
    """A line orjson refuses only for its text encoding (invalid UTF-8, or an unpaired surrogate
    such as a JavaScript tool writes when it cuts a string inside an emoji), decoded with the
    bad characters replaced; None when the line is not JSON at all."""
    try:
        obj = json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return _no_surrogates(obj)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: object) -> object:
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    return value


# What a record whose fields have shapes the parser did not expect (a number where text was, a
# string where an object was) raises: the parser catches these around the handling of one
# record and skips that line with `warn_unexpected` instead of failing the whole file.
RECORD_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError)


def warn_unexpected(ctx: ParseContext, lineno: int, exc: BaseException) -> None:
    ctx.warn(f"unexpected record, line skipped ({type(exc).__name__}: {exc})", lineno)


def read_json_file(ctx: ParseContext) -> object:
    """Load a whole (non-JSONL) JSON file; raise ParseError with a one-line reason."""
    try:
        data = ctx.path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}") from None
    ctx.end = len(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc})") from None


def read_text_file(ctx: ParseContext) -> str:
    """Whole file as text (undecodable bytes replaced), CRLF and lone CR normalised."""
    try:
        data = ctx.path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}") from None
    ctx.end = len(data)
    if b"\x00" in data[:8192]:
        raise ParseError("binary file")
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


_fromisoformat = datetime.fromisoformat


def _parse_utc_ms(s: str) -> float | None:
    """A timestamp ending in `Z` with 24 characters (`YYYY-MM-DDTHH:MM:SS.mmmZ`, what Claude Code
    and most tools write) read as parse_ts's general path reads it, less its steps that change
    nothing for it (strip: a string that fromisoformat takes has no white space around it; the
    tzinfo check: "+00:00" sets one). None when it does not read (the caller then takes the
    general path). Two C calls: cheaper than taking the string apart in Python."""
    if len(s) != 24 or s[23] != "Z":
        return None
    try:
        dt = _fromisoformat(s[:23] + "+00:00")
    except ValueError:
        return None
    return dt.timestamp()


def parse_ts(value: object) -> float | None:
    """Epoch seconds from an ISO-8601 string, epoch seconds or epoch milliseconds."""
    if value is None or value == "":
        return None
    if type(value) is str:
        fast = _parse_utc_ms(value)
        if fast is not None:
            return fast
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        return v / 1000.0 if v > 1e11 else v
    if isinstance(value, str):
        return _general_ts(value)
    return None


def _general_ts(value: str) -> float | None:
    """parse_ts of any string: ISO-8601 (UTC when it names no zone) or a number as text."""
    s = value.strip()
    try:
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        dt = datetime.fromisoformat(s)
    except ValueError:
        try:
            return parse_ts(float(s))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def json_text(value: object, limit: int | None = None) -> str:
    """Compact JSON for tool inputs (strings pass through)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value).decode()
        except TypeError:
            text = str(value)
    if limit is not None and len(text) > limit:
        return text[:limit]
    return text


def image_placeholder(media_type: str | None, data_len: int) -> str:
    """What a base64 image becomes: its type and approximate decoded size."""
    size = data_len * 3 // 4
    human = f"{size / 1024:.0f} KB" if size < 2**20 else f"{size / 2**20:.1f} MB"
    return f"[image {media_type or 'unknown'}, {human}]"
