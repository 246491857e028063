"""Turning transcript text into inert, measured terminal text.

Nothing a transcript says may style or control the terminal: control characters (ESC of ANSI
and OSC sequences, BEL, backspace, carriage return, C1 controls) become visible control
pictures, bidirectional overrides are shown as their code points, tabs become spaces. The
result goes into Segments/Content as plain text, never parsed as markup.
"""

from __future__ import annotations

import re
import time

from rich.cells import cell_len, get_character_cell_size

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TAB = "    "


def _picture(match: re.Match) -> str:
    char = match.group(0)
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␛, ␇, ␈, ␍ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def inert(text: str) -> str:
    """Text safe to put on a terminal: controls made visible, tabs expanded. Keeps newlines."""
    if "\t" in text:
        text = text.replace("\t", TAB)
    if _CONTROL.search(text):
        text = _CONTROL.sub(_picture, text)
    return text


def needs_inert(text: str) -> bool:
    """Whether `inert` would change `text` (a tab or a control character in it)."""
    return "\t" in text or _CONTROL.search(text) is not None


def one_line(text: str) -> str:
    """Inert text on one line: runs of whitespace (newlines too) become one space."""
    return inert(" ".join(text.split()))


def truncate(text: str, width: int) -> str:
    """Cut `text` to at most `width` cells, with an ellipsis when cut."""
    if width <= 0:
        return ""
    if text.isascii():
        return text if len(text) <= width else text[: width - 1] + "…"
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        size = get_character_cell_size(char)
        if used + size > width - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


def wrap(line: str, width: int) -> list[str]:
    """Wrap one line (no newlines) to `width` cells, at spaces where it can, else anywhere.

    Wide characters (CJK, emoji) count two cells and are never split across rows.
    """
    if width <= 1:
        return [line]
    if line.isascii():
        if len(line) <= width:
            return [line]
        rows = []
        while len(line) > width:
            cut = line.rfind(" ", 0, width + 1)
            if cut <= 0:
                rows.append(line[:width])
                line = line[width:]
            else:
                rows.append(line[:cut])
                line = line[cut + 1 :]
        rows.append(line)
        return rows
    if cell_len(line) <= width:
        return [line]
    rows: list[str] = []
    start = used = 0
    last_space = -1
    index, length = 0, len(line)
    while index < length:
        char = line[index]
        size = get_character_cell_size(char)
        if used + size <= width:
            if char == " ":
                last_space = index
            used += size
            index += 1
        elif char == " ":  # the row is full exactly at a space: break there, drop the space
            rows.append(line[start:index])
            start = index = index + 1
            used, last_space = 0, -1
        elif last_space > start:  # break at the last space on the row
            rows.append(line[start:last_space])
            start = last_space + 1
            used, last_space = cell_len(line[start:index]), -1
        else:  # no good space: break before this character
            rows.append(line[start:index])
            start, used, last_space = index, 0, -1
    rows.append(line[start:])
    return rows


def when(ts: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp from the data, in local time (the UI has no clock of its own)."""
    return time.strftime(fmt, time.localtime(ts)) if ts else "-"


def width_of(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)
