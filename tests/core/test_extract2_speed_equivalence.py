"""The extractor's cheaper per-line scans answer exactly as the regexes they stand for."""

import random
import re

from memtui.core.extract import textutil

_SAMPLES = [
    "", "a", "aB", "Ab", "camelCase", "CamelCase", "ABC", "abc", "x.toString()", "é É", "éB", "aÉ", "iPhone",
    "the getUserMedia API", "snake_case and kebab-case", "→ Foo", "fooBar baz", "FOO bar", "a\nB", "a B",
    "ǅx", "ﬀA", "Ωmega", "aΩ", "1A", "_A", "mixedUP words", "URL parsing", "resultsByKey",
]


def _random_texts(n: int = 3000) -> list[str]:
    rnd = random.Random(7)
    alphabet = "aAbBzZ _-.`()éÉ→Ω19\n"
    return [''.join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 12))) for _ in range(n)]


def test_camel_need_answers_as_lower_then_upper():
    plain = re.compile(r"[a-z][A-Z]")
    for text in _SAMPLES + _random_texts():
        assert (textutil.CAMEL.search(text) is None) == (plain.search(text) is None), repr(text)


def test_words3_are_the_runs_of_three_lower_case_letters():
    from memtui.core.extract.signals import _words3

    word3 = re.compile(r"[a-z]{3,}")
    extra = ["über straße naïve", "abc\udcffdef", "abcéfgh", "a-bcd_efg.hij", "ÀBC abc", "x" * 40, "ab ab abc"]
    for text in _SAMPLES + extra + _random_texts():
        low = text.lower()
        assert _words3(low) == {w.encode() for w in word3.findall(low)}, repr(text)


def test_pieces_split_as_the_look_behind_form():
    from memtui.core.extract.signals import _PIECES

    plain = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")
    rnd = random.Random(11)
    alphabet = "aB .!?\n\t`Zé。"
    texts = [''.join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 16))) for _ in range(4000)]
    extra = ["Done. Next step", "Why?  `x` is set!\tThen. ok", "a.  b. C", "end.", " . A", "x.\u2003Y", ".\n\nA"]
    for text in _SAMPLES + extra + texts:
        assert _PIECES.split(text) == plain.split(text), repr(text)
