"""A small, deterministic review database for the UI tests: real imports of hand-written Claude
Code transcripts, proposals made by hand (not by an extractor)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from memtui.core import proposals
from memtui.core.db import open_database
from memtui.core.extract import Proposal
from tests.helpers import import_paths, rows, write_jsonl

MARKUP = "[bold red]not markup[/] [link=https://x.test]link[/link] :smile:"
CJK = "日本語のテキストと中文字符和한국어가 섞인 아주 긴 문장입니다"
LONG_LINE = "x" * 3000


def _records(sid: str, cwd: str, day: int, turns: list) -> list[dict]:
    out = []
    for n, (kind, payload) in enumerate(turns):
        ts = f"2025-03-{day:02d}T10:{n // 60:02d}:{n % 60:02d}.000Z"
        base = {"sessionId": sid, "cwd": cwd, "parentUuid": None, "timestamp": ts, "uuid": f"{sid}-{n}"}
        if kind == "user":
            out.append(base | {"type": "user", "message": {"role": "user", "content": payload}})
        elif kind == "assistant":
            out.append(base | {"type": "assistant", "message": {"id": f"{sid}-m{n}", "role": "assistant",
                                                                  "content": [{"type": "text", "text": payload}]}})
        elif kind == "thinking":
            out.append(base | {"type": "assistant", "message": {"id": f"{sid}-m{n}", "role": "assistant",
                                                                  "content": [{"type": "thinking", "thinking": payload}]}})
        elif kind == "tool":
            name, args, result, error = payload
            out.append(base | {"type": "assistant", "message": {"id": f"{sid}-m{n}", "role": "assistant", "content": [
                {"type": "tool_use", "id": f"{sid}-t{n}", "name": name, "input": args}]}})
            out.append(base | {"uuid": f"{sid}-{n}r", "type": "user", "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": f"{sid}-t{n}", "content": result, "is_error": error}]}})
    return out


@dataclass
class ReviewData:
    path: Path
    sessions: dict[str, int] = field(default_factory=dict)  # name -> session id
    messages: dict[str, list[int]] = field(default_factory=dict)  # name -> message ids in order
    memories: dict[str, list[int]] = field(default_factory=dict)  # name -> memory ids (proposal order)


def shop_turns() -> list:
    """A session long enough that its late evidence is off screen at first."""
    turns: list = [
        ("user", "Use pnpm, never npm, in this repo. " + MARKUP),
        ("thinking", "The user wants pnpm. I should check the lockfile first and then run the tests."),
        ("assistant", "Understood: pnpm from now on. Let me run the test suite."),
        ("tool", ("Bash", {"command": "pnpm test", "description": "run the tests"},
                  "\n".join(f"✓ test case {i} passed" for i in range(1, 120)) + "\nFAIL src/cart.test.ts", True)),
        ("user", "The cart test fails because prices are floats. Store money as integer cents."),
        ("assistant", "I will change the cart to integer cents.\n" + "\n".join(f"- step {i}" for i in range(1, 60))),
        ("tool", ("Edit", {"file_path": "src/cart.ts", "old_string": "price: number", "new_string": "priceCents: number"},
                  "The file src/cart.ts has been updated.", False)),
    ]
    for i in range(30):
        turns.append(("assistant", f"Progress note {i}: still working through the cart module."))
    turns += [
        ("user", "CJK check: " + CJK),
        ("user", "A very long line follows.\n" + LONG_LINE),
        ("user", "The API server listens on port 8080; keep it that way."),
        ("assistant", "Noted: the API stays on port 8080."),
    ]
    return turns


def build_review_db(tmp: Path) -> ReviewData:
    """Three sessions: shop (3 proposals), api (1 proposal), notes (none)."""
    tmp.mkdir(parents=True, exist_ok=True)
    data = ReviewData(tmp / "memtui.db")
    db = open_database(data.path)
    try:
        files = [
            write_jsonl(tmp / "shop.jsonl", _records("shop-session", "/work/shop", 3, shop_turns())),
            write_jsonl(tmp / "api.jsonl", _records("api-session", "/work/api", 2, [
                ("user", "Deploys go through the staging cluster first, always."),
                ("assistant", "Understood, staging first."),
            ])),
            write_jsonl(tmp / "notes.jsonl", _records("notes-session", "/work/notes", 1, [
                ("user", "Just a question about sorting."),
                ("assistant", "Use sorted() with a key function."),
            ])),
        ]
        import_paths(db, *files)
        for sid, ext in rows(db, "SELECT id, external_id FROM session"):
            name = ext.split("-")[0]
            data.sessions[name] = sid
            data.messages[name] = [r[0] for r in rows(db, "SELECT id FROM message WHERE session_id = ? ORDER BY position", sid)]
        shop = data.messages["shop"]
        texts = {r[0]: r[1] for r in rows(db, "SELECT id, text FROM message WHERE session_id = ?", data.sessions["shop"])}
        port = next(i for i in shop if texts[i].startswith("The API server listens"))
        cents = next(i for i in shop if texts[i].startswith("The cart test fails"))
        data.memories["shop"] = list(proposals.propose_session(db, data.sessions["shop"], [
            Proposal("Use pnpm, never npm, in this repository. " + MARKUP, "preference", "project", 0.9, (shop[0],)),
            Proposal("Store money as integer cents, never floats.", "convention", "project", 0.8, (cents,)),
            Proposal("The API server listens on port 8080.", "fact", "project", 0.6, (port,)),
        ], "test").created)
        data.memories["api"] = list(proposals.propose_session(db, data.sessions["api"], [
            Proposal("Deploy through the staging cluster first.", "constraint", "project", 0.7, (data.messages["api"][0],)),
        ], "test").created)
    finally:
        db.close()
    return data
