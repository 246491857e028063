"""Raw search needs message_fts's positions (detail=full, FTS5's default). A typed word is one FTS5
phrase; when it holds a character Python counts as a letter but unicode61 as a separator (here
U+19B0, a New Tai Lue vowel sign: a letter since Unicode 8, a spacing mark in SQLite's tables), the
phrase has several tokens, which must be next to each other. detail=none or column would find the
same rows with the same bm25 ranks for every other query (checked on the bench's 35,914 messages,
10,000 queries), but refuse such a phrase ("phrase queries are not supported (detail!=full)"), so
the search would find nothing. (A Python whose letters match SQLite's finds the one word instead.)"""

from __future__ import annotations

import pytest

from memtui.core import search
from tests.helpers import import_paths, write_jsonl

SIGN = "\u19b0"


@pytest.fixture
def messages(db, tmp_path):
    base = {"sessionId": "s1", "cwd": "/work/shop", "parentUuid": None, "timestamp": "2025-03-01T10:00:00.000Z"}
    texts = [f"zeta{SIGN}kappa here", "kappa zeta reversed", "zeta kappa apart"]
    write_jsonl(tmp_path / "s1.jsonl", [
        base | {"type": "user", "uuid": f"u{i}", "message": {"role": "user", "content": t}} for i, t in enumerate(texts)
    ])
    import_paths(db, tmp_path / "s1.jsonl")


def test_a_word_unicode61_splits_is_searched_as_a_phrase(db, messages):
    found = [h.snippet for h in search.search_raw(db, f"zeta{SIGN}kappa")]
    assert f"zeta{SIGN}kappa here" in found
    assert "kappa zeta reversed" not in found  # the tokens in the order typed, next to each other
