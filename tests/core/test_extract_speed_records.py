"""The import workers' message records, filled slot by slot, are the records __init__ makes.

AheadSessions.results builds a MessageRecord per message for the extractor by filling the slots of
a bare object (records.slot_setters) instead of calling the frozen dataclass's __init__. The
records must be equal, hash alike and stay frozen, and the proposals the workers prepare from them
must be the ones made from __init__-built records, on the real Claude Code transcripts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from memtui.core.extract import heuristic_session_fields
from memtui.core.extract import heuristic
from memtui.core.extract.heuristic import extract
from memtui.core.importers import parser_class
from memtui.core.importers.base import ParseContext
from memtui.core.importers.pipeline import AheadSessions, clean, prepared_frames, project_root
from memtui.core.importers.prefetch import FRAME_CHARS, FRAME_ITEMS
from memtui.core.proposals import prepare_proposals
from memtui.core.records import MESSAGE_SETTERS, MessageRecord, SessionRecord, new_message, slot_setters

_VALUES = dict(
    id=7, session_id=0, position=6, role="assistant", kind="tool_use", tool_name="Bash", text="{\"command\": \"ls\"}",
    timestamp=1.5, external_id="toolu_1", group_id="msg_1", is_error=False, original_len=None,
)


def _filled(**values) -> MessageRecord:
    m = object.__new__(MessageRecord)
    for setter, f in zip(MESSAGE_SETTERS, dataclasses.fields(MessageRecord)):
        setter(m, values[f.name])
    return m


@pytest.mark.parametrize("fill", [lambda v: _filled(**v), lambda v: new_message(*v.values())])
def test_filled_records_equal_built_ones_and_stay_frozen(fill):
    built, filled = MessageRecord(**_VALUES), fill(_VALUES)
    assert filled == built and hash(filled) == hash(built) and repr(filled) == repr(built)
    assert filled.as_dict() == built.as_dict()
    assert filled != MessageRecord(**{**_VALUES, "text": "other"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        filled.text = "changed"


def test_slot_setters_refuse_a_class_whose_init_does_more():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self):
            pass

    with pytest.raises(TypeError):
        slot_setters(Checked)


def _plain_results(ahead: AheadSessions) -> tuple[dict, list]:
    """AheadSessions.results with the records made by MessageRecord's __init__, and those records."""
    out, records = {}, []
    for key, s in ahead.sessions.items():
        if not s.ok or not s.rows:
            continue
        cwd = clean(s.cwd) if s.cwd else None
        session = SessionRecord(
            id=0, tool=s.tool, external_id=clean(key), project_id=None, project_root=project_root(cwd), cwd=cwd,
            title=None, started_at=None, ended_at=None, model=None, git_branch=None, message_count=len(s.rows),
            raw_size=0, review_state="new", parent_id=None, source_path=None,
        )
        messages = [
            MessageRecord(
                id=i + 1, session_id=0, position=i, role=r[1], kind=r[2], tool_name=r[3], text=r[4],
                timestamp=None if r[5] is None else float(r[5]), external_id=r[6], group_id=r[7],
                is_error=bool(r[8]), original_len=r[9],
            )
            for i, r in enumerate(s.rows)
        ]
        out[key] = (heuristic_session_fields(session), len(s.rows), prepare_proposals(extract(session, messages)))
        records.append(messages)
    return out, records


def test_worker_proposals_equal_those_from_built_records(corpus: Path, monkeypatch):
    given: list = []  # the records AheadSessions.results hands to the extractor

    def spy(session, messages):
        given.append(list(messages))
        return extract(session, messages)

    monkeypatch.setattr(heuristic, "extract", spy)
    files = sorted((corpus / "claude-code").rglob("*.jsonl"))
    assert files
    proposals = 0
    for path in files:
        parser = parser_class("claude-code")()
        ahead = AheadSessions(parser.tool, "heuristic")
        buf: list = []
        ctx = ParseContext(path=path, start=0, state={}, on_warning=lambda text: None)
        for _ in prepared_frames(parser.parse_rows(ctx), buf, ahead, FRAME_CHARS, FRAME_ITEMS):
            buf.clear()
        given.clear()
        fast = {key: (fields, count, prepared) for key, (fields, count, _digest, prepared) in ahead.results().items()}
        plain, records = _plain_results(ahead)
        assert fast == plain, path.name
        assert [[repr(m) for m in ms] for ms in given] == [[repr(m) for m in ms] for ms in records], path.name
        proposals += sum(len(v[2]) for v in fast.values())
    assert proposals > 20
