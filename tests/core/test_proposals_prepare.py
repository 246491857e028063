"""prepare_proposals cleans each distinct text of a session once, with the same prepared proposals.

A session's proposals often quote the same message, or are quoted themselves; prepare_proposals
keeps what clean() made of each text for the rest of the session. Here it is compared with the
preparing it replaced (clean() asked for every text and quote), on proposals whose texts and quotes
repeat and carry secrets, control characters and whitespace that clean() and the cuts change.
"""

from __future__ import annotations

import random

from memtui.core.extract import Proposal
from memtui.core.extract.dedupe import fingerprint, normalise, token_set
from memtui.core.memories import MAX_TEXT, QUOTE_LEN
from memtui.core.proposals import PreparedProposal, _merge_within_session, prepare_proposals
from memtui.core.redact import clean

_PIECES = [
    "use pnpm, not npm", "run the tests with uv run pytest -q", "  padded quote  ", "x",
    "token ghp_" + "a1B2c3D4e5" * 4 + " in the config", "AKIAABCDEFGHIJKLMNOP was the key",
    "a bell\x07 and\x1b[31m colours", "password=hunter2hunter2 in .env", "long " * 300,
    "sk-" + "Zz9" * 20 + " then more words", "", "Ünïcödé wörds\u200b here",
]


def _reference(proposals: list[Proposal]) -> tuple[PreparedProposal, ...]:
    """prepare_proposals as it was: clean() for every text and quote."""
    out = []
    for prop in _merge_within_session(proposals):
        text = clean(prop.text).strip()[:MAX_TEXT]
        norm = normalise(text)
        quotes = list(prop.quotes) + [""] * (len(prop.message_ids) - len(prop.quotes))
        own = tuple(clean(q)[:QUOTE_LEN] if q else None for _, q in zip(prop.message_ids, quotes))
        out.append(PreparedProposal(prop, text, norm, token_set(norm), fingerprint(text), own))
    return tuple(out)


def _session(rng: random.Random) -> list[Proposal]:
    props = []
    for _ in range(rng.randint(1, 12)):
        text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 3)))
        ids = tuple(rng.sample(range(1, 30), rng.randint(1, 4)))
        quotes = tuple(rng.choice(_PIECES + [text]) for _ in range(rng.randint(0, len(ids))))
        props.append(Proposal(text, rng.choice(["preference", "command"]), "project", 0.5, ids, quotes))
    return props


def test_prepared_as_with_clean_for_every_text():
    rng = random.Random(2)
    repeated = 0
    for _ in range(300):
        props = _session(rng)
        assert prepare_proposals(props) == _reference(props)
        texts = [q for p in props for q in (p.text, *p.quotes) if q]
        repeated += len(texts) - len(set(texts))
    assert repeated > 500
