"""Copying text to the clipboard: OSC 52 through the terminal, and the system's clipboard tools.

`copy` writes an OSC 52 sequence to the controlling terminal (/dev/tty) when there is one -- it
works over SSH and in most terminals (kitty, WezTerm, iTerm2, foot, Alacritty, Windows Terminal,
xterm with allowWindowOps, tmux with `set-clipboard on`) -- and also hands the text to the first
system tool found (wl-copy under Wayland, xclip or xsel under X11, pbcopy, clip.exe under WSL),
because a terminal may ignore OSC 52 without saying so. It returns how the text went, e.g.
"OSC 52", "xclip" or "OSC 52 + xclip", and raises ClipboardError when nothing could copy.

The text is scrubbed (`redact.clean`) before it goes anywhere: no secret reaches the clipboard.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess

from memtui.core.redact import clean

TTY = "/dev/tty"
TOOL_TIMEOUT = 5.0  # seconds a clipboard tool may take
OSC52_MAX = 1_000_000  # bytes of sequence at most: terminals drop (or choke on) longer ones


class ClipboardError(Exception):
    """Nothing could put the text on the clipboard: one-line message."""


def osc52(text: str) -> str:
    """The OSC 52 escape sequence that sets the clipboard ("c") to `text`."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"\x1b]52;c;{payload}\x07"


def _tools() -> list[tuple[str, list[str]]]:
    """(name, argv) of the clipboard tools that may work here, in order of preference."""
    out: list[tuple[str, list[str]]] = []
    if os.environ.get("WAYLAND_DISPLAY"):
        out.append(("wl-copy", ["wl-copy"]))
    if os.environ.get("DISPLAY"):
        out.append(("xclip", ["xclip", "-selection", "clipboard", "-in"]))
        out.append(("xsel", ["xsel", "--clipboard", "--input"]))
    out.append(("pbcopy", ["pbcopy"]))
    out.append(("clip.exe", ["clip.exe"]))
    return out


def system_copy(text: str) -> str | None:
    """Copy `text` with the first system clipboard tool that exists and succeeds; its name, or
    None when there is none (or all failed)."""
    return _system_copy(clean(text))


def _system_copy(text: str) -> str | None:
    data = text.encode("utf-8")
    for name, argv in _tools():
        exe = shutil.which(argv[0])
        if not exe:
            continue
        try:
            done = subprocess.run(
                [exe, *argv[1:]], input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=TOOL_TIMEOUT, check=False, start_new_session=True,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return name
    return None


def tty_copy(text: str, tty: str | None = None) -> bool:
    """Write the OSC 52 sequence for `text` to the controlling terminal; False when there is none
    (or the text is too long for one)."""
    return _tty_copy(clean(text), tty)


def _tty_copy(text: str, tty: str | None = None) -> bool:
    data = osc52(text).encode("ascii")
    if len(data) > OSC52_MAX:
        return False
    try:
        fd = os.open(tty or TTY, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        while data:
            data = data[os.write(fd, data):]
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def copy(text: str) -> str:
    """Put `text` on the clipboard (OSC 52 and a system tool); returns how, or raises ClipboardError."""
    text = clean(text)
    ways = []
    if _tty_copy(text):
        ways.append("OSC 52")
    tool = _system_copy(text)
    if tool:
        ways.append(tool)
    if not ways:
        raise ClipboardError(
            "nothing can copy here: no terminal for OSC 52 and no clipboard tool"
            " (wl-copy, xclip, xsel, pbcopy, clip.exe)"
        )
    return " + ".join(ways)
