"""The proposed memories of one session: pending first, the reviewed ones dimmed below."""

from __future__ import annotations

from typing import Sequence

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from memtui.core.records import MemoryRecord
from memtui.ui.text import inert

STATUS_MARK = {"proposed": ("●", "$text-accent"), "approved": ("✓", "$text-success"), "rejected": ("✗", "$text-error")}
REVIEWED_HEADER = "reviewed"


def proposal_prompt(memory: MemoryRecord) -> Content:
    """Kind, tier, confidence (and pinned, status) on the first row; the text below, wrapped."""
    mark, mark_style = STATUS_MARK.get(memory.status, ("?", ""))
    reviewed = memory.status != "proposed"
    parts: list = [
        (mark, mark_style),
        " ",
        (memory.kind.replace("_", " "), "bold" if not reviewed else ""),
        " · ",
        (memory.tier, "italic"),
        " · ",
        f"{memory.confidence:.2f}",
    ]
    if memory.pinned:
        parts += ["  ", ("★ pinned", "$text-warning")]
    if reviewed:
        parts += ["  ", (memory.status, mark_style)]
    if memory.supersedes_id:
        parts += ["  ", (f"may supersede #{memory.supersedes_id}", "$text-warning")]
    parts += ["\n", (inert(memory.text), "dim" if reviewed else "")]
    return Content.assemble(*parts)


class ProposalList(OptionList):
    """Proposals as options whose id is the memory id (as a string)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # enter belongs to the screen's "jump" binding (remappable, shown in the footer).
        return False if action == "select" else True

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.memories: list[MemoryRecord] = []

    def set_memories(self, memories: Sequence[MemoryRecord]) -> None:
        pending = [m for m in memories if m.status == "proposed"]
        reviewed = [m for m in memories if m.status != "proposed"]
        self.memories = pending + reviewed
        options: list[Option | None] = [Option(proposal_prompt(m), id=str(m.id)) for m in pending]
        if reviewed:
            options.append(Option(Content.styled(f"── {REVIEWED_HEADER} ──", "dim"), id="-reviewed", disabled=True))
            options += [Option(proposal_prompt(m), id=str(m.id)) for m in reviewed]
        self.set_options(options)

    @property
    def pending(self) -> list[MemoryRecord]:
        return [m for m in self.memories if m.status == "proposed"]

    def memory_at(self, index: int | None) -> MemoryRecord | None:
        if index is None or not 0 <= index < self.option_count:
            return None
        option_id = self.get_option_at_index(index).id
        if not option_id or not option_id.isdigit():
            return None
        memory_id = int(option_id)
        return next((m for m in self.memories if m.id == memory_id), None)

    @property
    def current(self) -> MemoryRecord | None:
        return self.memory_at(self.highlighted)

    def index_of(self, memory_id: int) -> int | None:
        try:
            return self.get_option_index(str(memory_id))
        except Exception:  # OptionDoesNotExist
            return None
