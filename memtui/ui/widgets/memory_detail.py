"""One memory in full under a list: what it says, where it is from, when it was seen."""

from __future__ import annotations

import os

from textual.content import Content
from textual.widgets import Static

from memtui.core.records import MemoryRecord
from memtui.ui.text import inert, one_line, when


def memory_detail(memory: MemoryRecord) -> Content:
    """The text first (inert, never markup), then what it is and where it is from (dim)."""
    parts: list = [
        (inert(memory.text), ""),
        "\n",
        (f"#{memory.id}", "bold"),
        " · ",
        (memory.kind.replace("_", " "), "bold"),
        " · ",
        (f"{memory.tier} tier", "italic"),
        " · ",
        memory.status,
    ]
    if memory.pinned:
        parts += [" · ", ("★ pinned", "$text-warning")]
    parts += [" · ", f"confidence {memory.confidence:.2f}"]
    if memory.project_root and memory.tier != "developer":
        parts += [" · ", (one_line(memory.project_root), "$text-secondary")]
    dates = f"created {when(memory.created_at)} · last seen {when(memory.last_seen_at)}"
    if memory.forgotten_at:
        dates += f" · forgotten {when(memory.forgotten_at)}"
    origin = (
        f"from session {one_line(memory.session_external_id or str(memory.session_id))}"
        if memory.session_id is not None
        else "added by hand" if memory.extractor == "manual" else "no origin session"
    )
    parts += ["\n", (f"{dates} · {origin} · {one_line(memory.extractor)}", "dim")]
    return Content.assemble(*parts)


class MemoryDetail(Static):
    """The memory under the cursor of a MemoryList (or a short note when there is none)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Content(""), id=id, classes=classes, markup=False)
        self.memory: MemoryRecord | None = None

    def show(self, memory: MemoryRecord | None, note: str = "") -> None:
        if memory is not None and memory == self.memory:
            return  # (re-rendering it would lay the screen out again for nothing)
        self.memory = memory
        self.update(memory_detail(memory) if memory is not None else Content.styled(note, "dim"))

    def show_content(self, content: Content) -> None:
        self.memory = None
        self.update(content)


def project_label(root: str) -> str:
    """A project for a menu: its folder name, then the path it lives in."""
    root = root.rstrip("/") or root
    name = os.path.basename(root) or root
    return name
