"""Small, fast text helpers for the heuristic extractor: cleaning, sentence splitting, clipping.

Everything here is pure and deterministic; regexes are compiled once at import.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_MEMORY = 380  # hard length of one proposal (the contract says under 400)

# Harness wrappers that are not what a person typed or said.
_WRAPPERS = re.compile(
    r"<(system-reminder|ide_opened_file|ide_selection|environment_context|user_instructions|"
    r"environment_details|command-message|command-name|command-args|local-command-stdout|"
    r"local-command-stderr|permissions instructions|app-context|collaboration_mode)[^>]*>.*?</\1>",
    re.S,
)
_LINK = re.compile(r"\[([^\]\n]{1,120})\]\((?:[^)\s]{1,300})\)")
_FILE_LINE = re.compile(r"(\b[\w./-]+\.[A-Za-z]{1,6}):\d+(?:-\d+)?(?::\d+)?\b")
_COLON_DIGIT = re.compile(r":\d")  # in every match of _FILE_LINE (a quick scan: ':' is a literal prefix)
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200d\u2190-\u21FF\u2300-\u23FF]"
)
_MD_DECOR = re.compile(r"(\*\*|__|~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_BULLET = re.compile(r"^\s*(?:[-*+•▪◦]|\d{1,2}[.)])\s+")
_SENT_SPLIT = re.compile(r"(?<=[.!?。！？])\s+(?=[\"'`(\[A-Z0-9\u4e00-\u9fff])|(?<=[。！？])")
_IMAGE_REF = re.compile(r"\[(?:Image|image)[^\]]{0,40}\]")
_FENCE = re.compile(r"```.*?(?:```|$)", re.S)

FLUFF = re.compile(
    r"^(?:perfect|great|excellent|good|done|awesome|nice|okay|ok|sure|alright|got it|you're (?:absolutely )?right|"
    r"absolutely|certainly|of course|good point|fair point|great (?:question|idea|point)|good (?:catch|idea)|"
    r"my apologies|sorry|thank you[^.!]*|thanks[^.!]*)[!.,:]*\s+",
    re.I,
)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalize(text: str) -> str:
    """Typographic quotes to ASCII, so cue words like don't match however they were typed."""
    if text.isascii():
        return text
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u00a0", " ")):
        if a in text:
            text = text.replace(a, b)
    return text


# --- whether a case-insensitive alternation of cue words matches, cheaply -------------------------------
#
# A regex such as r"\b(?:always|never|don'?t|...)\b|不要|..." matches a text if and only if one of its
# alternatives does (r"\b(?:always)\b", r"\b(?:never)\b", ...). Each alternative is kept with the longest
# run of literal characters every match of it contains ("always", "don", ...); only the alternatives
# whose literal is in the lower-cased text are tried, each a tiny regex. Python's re tries every
# alternative at every position of the text, so this is several times faster for a yes/no answer.
# Lower-casing finds every literal a case-insensitive match can contain, except around the three
# characters re folds to ASCII letters differently from str.lower(): text with one of them is given to
# the whole regex.

_FOLDS_ODDLY = ("\u0131", "\u017f", "\u0130")  # dotless i, long s, capital I with dot


def _class_end(p: str, i: int) -> int:
    """Index just past the character class that starts at p[i] == '['."""
    j = i + 1
    if p[j:j + 1] == "^":
        j += 1
    if p[j:j + 1] == "]":
        j += 1
    while p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1


def _after_quantifier(p: str, i: int) -> int:
    """Index past the quantifier (and its lazy / possessive mark) at p[i], or i when there is none."""
    if p[i:i + 1] == "{":
        i = p.index("}", i) + 1
    elif p[i:i + 1] in ("?", "*", "+"):
        i += 1
    else:
        return i
    return i + 1 if p[i:i + 1] in ("?", "+") else i


def _split_top(p: str) -> list[str]:
    """The top-level alternatives of a pattern string."""
    parts, depth, i, start = [], 0, 0, 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(p, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced pattern: {p!r}")
        elif c == "|" and depth == 0:
            parts.append(p[start:i])
            start = i + 1
        i += 1
    if depth:
        raise ValueError(f"unbalanced pattern: {p!r}")
    parts.append(p[start:])
    return parts


def _alternatives(p: str) -> list[tuple[str, str]]:
    """(pattern, the part that holds its literals) for each alternative of `p`; a top-level
    r"\b(?:a|b)\b" gives r"\b(?:a)\b" and r"\b(?:b)\b" (r"\b(?:a|b)": r"\b(?:a)" and r"\b(?:b)")."""
    out = []
    for part in _split_top(p):
        if part.startswith("\\b(?:") and part.endswith((")", ")\\b")):
            end = ")\\b" if part.endswith(")\\b") else ")"
            try:
                inner = _split_top(part[5:-len(end)])
            except ValueError:  # the group does not run to the end
                inner = None
            if inner is not None:
                out.extend((f"\\b(?:{a}{end}", a) for a in inner)
                continue
        out.append((part, part))
    return out


_ESCAPE_TAIL = {"x": 2, "u": 4, "U": 8}  # characters after \x, \u, \U


def _longest_literal(p: str) -> str:
    """The longest run of literal characters that every match of `p` (no top-level '|') contains:
    characters outside groups and classes, not repeated or optional; '' if there is none."""
    runs, cur, depth, i = [], "", 0, 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            e = p[i + 1]
            end = i + 2 + _ESCAPE_TAIL.get(e, 0)
            if e == "N":  # \N{NAME}
                end = p.index("}", i) + 1
            j = _after_quantifier(p, end)
            if depth == 0 and not e.isalnum() and j == i + 2:
                cur += e  # an escaped punctuation mark: itself
            else:
                runs.append(cur)
                cur = ""
            i = j
        elif c == "[":
            runs.append(cur)
            cur = ""
            i = _after_quantifier(p, _class_end(p, i))
        elif c == "(":
            depth += 1
            runs.append(cur)
            cur = ""
            i += 1
        elif c == ")":
            depth -= 1
            i = _after_quantifier(p, i + 1)
        elif depth > 0:
            i += 1
        elif c in ".^$?*+{":
            runs.append(cur)
            cur = ""
            i += 1
        else:
            j = _after_quantifier(p, i + 1)
            if j != i + 1:  # this character is optional or repeated
                runs.append(cur)
                cur = ""
            else:
                cur += c
            i = j
    runs.append(cur)
    return max(runs, key=len)


class AnyOf:
    """bool(rx.search(text)) for a case-insensitive regex `rx`, one alternative at a time (see above)."""

    __slots__ = ("rx", "literals", "ascii_literals", "by_literal")

    def __init__(self, rx: re.Pattern):
        if not rx.flags & re.I:
            raise ValueError("AnyOf is for case-insensitive patterns")
        self.rx = rx
        by: dict[str, list[re.Pattern]] = {}
        for pattern, core in _alternatives(rx.pattern):
            by.setdefault(_longest_literal(core).lower(), []).append(re.compile(pattern, rx.flags))
        self.by_literal = by
        self.literals = tuple(by)
        if any("\n" in lit for lit in self.literals):
            raise ValueError("a literal holds a newline")  # (callers look for them in texts joined by newlines)
        # the literals an ASCII text can hold (a CJK cue word cannot be in one)
        self.ascii_literals = tuple(lit for lit in by if lit.isascii())

    def implies(self, anchors, ascii_only: bool = False) -> bool:
        """Whether every match holds one of `anchors` (each literal holds one; `ascii_only`: for ASCII
        text, where a literal with other characters cannot be)."""
        return all(any(a in lit for a in anchors) for lit in self.literals if not ascii_only or lit.isascii())

    def found(self, text: str, low: str | None = None) -> bool:
        """`low`: text.lower() when the caller has it."""
        if text.isascii():
            literals = self.ascii_literals
        elif any(map(text.__contains__, _FOLDS_ODDLY)):
            return self.rx.search(text) is not None
        else:
            literals = self.literals
        if low is None:
            low = text.lower()
        return self.found_among(text, low, literals)

    def found_among(self, text: str, low: str, literals) -> bool:
        """found(text) when `literals` holds every literal of self.literals that is in `low` (text.lower())."""
        for lit in filter(low.__contains__, literals):
            for rx in self.by_literal[lit]:
                if rx.search(text):
                    return True
        return False


# A lower-case ASCII letter followed by an upper-case one (camelCase), as a need of Alternation: the
# same answer to search() as r"[a-z][A-Z]", but re enters a match only at an upper-case letter (its
# charset prefix), not at every lower-case letter of a line (re's per-position entry dominates there)
CAMEL = re.compile(r"[A-Z](?<=[a-z][A-Z])")


class Alternation:
    """A regex made of top-level alternatives, each tried only when the text holds what it needs.

    `parts` are (alternative, need) pairs, the need true of a text whenever the alternative can
    match somewhere in it: a string (that literal is in the text), a compiled regex (it matches
    somewhere in the text) or a function of the text. An alternative that cannot match at any
    position never decides a match, so the regex of the others finds exactly the same matches (same
    spans, same order) while re tries fewer alternatives at each position. Groups are numbered within
    the regex of the alternatives kept: give each alternative at most one and read it as
    m.group(m.lastindex). The regexes of the combinations met are compiled on first use."""

    __slots__ = ("parts", "flags", "full", "_by_key", "_each", "_literal", "_search")

    def __init__(self, parts, flags: int = 0):
        self.parts = tuple(parts)
        self.flags = flags
        self.full = re.compile("|".join(p for p, _ in self.parts), flags)  # the regex it answers for
        self._by_key: dict[int, re.Pattern] = {}
        # per need: the literal, or the function that says whether the text holds what it needs (a
        # literal is looked for without a call of Python code: this runs on every line of every reply)
        self._literal = tuple(need if isinstance(need, str) else None for _, need in self.parts)
        self._search = tuple(need.search if isinstance(need, re.Pattern) else need for _, need in self.parts)
        self._each = tuple(zip((re.compile(p, flags) for p, _ in self.parts), self._literal, self._search))

    def found(self, text: str) -> bool:
        """Whether the regex matches somewhere in `text` (it does when one of its alternatives does):
        each alternative tried on its own when the text holds what it needs, until one matches."""
        for rx, lit, search in self._each:
            if ((lit in text) if lit is not None else search(text)) and rx.search(text) is not None:
                return True
        return False

    def pattern_for(self, text: str) -> re.Pattern | None:
        """The regex of the alternatives `text` may hold (None: no match is possible)."""
        key = 0
        bit = 1
        for lit, search in zip(self._literal, self._search):
            if (lit in text) if lit is not None else search(text):
                key |= bit
            bit <<= 1
        if not key:
            return None
        rx = self._by_key.get(key)
        if rx is None:
            rx = self._by_key[key] = re.compile(
                "|".join(p for i, (p, _) in enumerate(self.parts) if key >> i & 1), self.flags)
        return rx

    def search(self, text: str):
        rx = self.pattern_for(text)
        return rx.search(text) if rx is not None else None

    def findall(self, text: str) -> list:
        rx = self.pattern_for(text)
        return rx.findall(text) if rx is not None else []

    def finditer(self, text: str):
        rx = self.pattern_for(text)
        return rx.finditer(text) if rx is not None else iter(())


def lower_ascii(text: str) -> str:
    """text.lower() as far as ASCII words without '?' go: "word" in lower_ascii(text) exactly when
    "word" in text.lower(), and the two have the same length (unless text holds 'İ').

    Once a text holds one non-ASCII character, str.lower() looks every character up in the Unicode
    tables, several times slower (tool outputs often hold a few: Claude Code numbers the lines of a
    file it read with '\u2192'). Here each non-ASCII character becomes '?' and only ASCII letters are
    lowered: the runs of ASCII characters, where such a word can be, are those of text.lower(). The two
    characters whose lower case holds an ASCII letter send the text through str.lower()."""
    if text.isascii() or "\u0130" in text or "\u212a" in text:  # İ -> 'i' + a dot, Kelvin sign -> 'k'
        return text.lower()
    return text.encode("ascii", "replace").lower().decode("ascii")


_LOWER: list = [None, ""]  # (last text a Gate tested, its lower())


def lower_of(text: str) -> str:
    """text.lower(), shared with the gates that test the same text next (or tested it last)."""
    if text is not _LOWER[0]:
        _LOWER[0] = text
        _LOWER[1] = text.lower()
    return _LOWER[1]


class Gate:
    """A case-insensitive regex behind cheap substring tests.

    Python's `re` tries an alternation of words at every position of the text; over thousands of
    reply lines that dominates the extractor's time. Every match of `pattern` must contain one of
    `anchors` (lower case), so a line without any of them is rejected by a few C-speed `in` tests.
    """

    __slots__ = ("rx", "anchors", "ascii_anchors", "any_of", "needless")

    def __init__(self, pattern: str, anchors: tuple[str, ...] | list[str], flags: int = re.I, split: bool = False):
        """`split`: past the gate, ask AnyOf whether the regex matches (search then says True / None)."""
        self.rx = re.compile(pattern, flags)
        self.anchors = tuple(anchors)
        if any("\n" in a for a in self.anchors):
            raise ValueError("an anchor holds a newline")  # (open_each joins texts with newlines)
        # the anchors an ASCII text can hold (its lower case is ASCII too: a CJK or arrow anchor is not there)
        self.ascii_anchors = tuple(a for a in self.anchors if a.isascii())
        self.any_of = AnyOf(self.rx) if split else None
        # the gate adds nothing when each alternative's literal holds an anchor (it opens whenever one is there)
        self.needless = self.any_of is not None and self.any_of.implies(self.anchors)

    def _open(self, text: str) -> bool:
        # several gates usually test the same line in a row: its lower-case form is kept
        return any(map(lower_of(text).__contains__, self.ascii_anchors if text.isascii() else self.anchors))

    def open_each(self, texts: list[str]) -> list[bool]:
        """[whether the gate lets t through for t in texts]: the sentences of one reply hold few of the
        anchors, so each anchor is looked for once in all of them (joined by newlines, which no anchor
        holds) and each text only for those found."""
        lows = [t.lower() for t in texts]
        joined = "\n".join(lows)
        present = [a for a in self.anchors if a in joined]
        if not present:
            return [False] * len(lows)
        return [any(map(low.__contains__, present)) for low in lows]

    def search(self, text: str):
        # (text with a character re folds unlike str.lower() keeps the gate: its answer is the gate's)
        if self.needless and (text.isascii() or not any(map(text.__contains__, _FOLDS_ODDLY))):
            return True if self.any_of.found(text, lower_of(text)) else None
        if not self._open(text):
            return None
        if self.any_of is None:
            return self.rx.search(text)
        return True if self.any_of.found(text, _LOWER[1]) else None

    def findall(self, text: str) -> list:
        return self.rx.findall(text) if self._open(text) else []

    def sub(self, repl, text: str) -> str:
        return self.rx.sub(repl, text) if self._open(text) else text


def strip_wrappers(text: str) -> str:
    """Remove harness-injected XML-ish blocks (system reminders, IDE notices, env context)."""
    if "<" not in text:
        return text
    return _WRAPPERS.sub(" ", text)


def clean_inline(text: str) -> str:
    """Markdown to plain inline text: links -> their label, file:line -> file, no emphasis or emoji.
    Each substitution is gated by a cheap substring test (this runs on every line of every reply)."""
    ascii_only = text.isascii()
    if not ascii_only:
        text = normalize(text)
    if "](" in text:
        text = _LINK.sub(r"\1", text)
    if ":" in text and _COLON_DIGIT.search(text):
        text = _FILE_LINE.sub(r"\1", text)
    if not ascii_only:
        text = _EMOJI.sub("", text)
    if "**" in text or "__" in text or "~~" in text:
        text = _MD_DECOR.sub("", text)
    if "[Image" in text or "[image" in text:
        text = _IMAGE_REF.sub("", text)
    return " ".join(text.split())


def one_line(text: str) -> str:
    return " ".join(text.split())


def _fence(m: re.Match) -> str:
    """A code block becomes nothing, unless it is one to three short lines: then inline code."""
    body = m.group(0)
    lines = [ln.strip() for ln in body.strip("`").split("\n")[1:] if ln.strip() and not ln.strip().startswith("```")]
    if 0 < len(lines) <= 3 and all(len(ln) <= 90 for ln in lines):
        return "\n`" + "; ".join(lines) + "`\n"
    return "\n"


def drop_fences(text: str) -> str:
    if "```" not in text:
        return text
    return _FENCE.sub(_fence, text)


MAX_PROSE = 24000  # longer replies are read up to here (they are summaries, not dumps)


def lines_of(text: str) -> list[tuple[str, str]]:
    """(kind, text) for each non-empty line of a Markdown-ish reply: kind is heading, bullet or text."""
    return list(_lines_of(text[:MAX_PROSE]))


_BULLET_START = frozenset("-*+•▪◦0123456789")


@lru_cache(maxsize=2048)
def _lines_of(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for raw in drop_fences(text).split("\n"):
        st = raw.lstrip()
        if not st:
            continue
        c = st[0]
        if c == "#" and _HEADING.match(raw):
            line, kind = _HEADING.sub("", raw, count=1), "heading"
        elif c in _BULLET_START and _BULLET.match(raw):
            depth = len(raw) - len(st)
            line, kind = _BULLET.sub("", raw, count=1), ("bullet" if depth < 2 else "subbullet")
        else:
            line, kind = raw, "text"
        line = clean_inline(line)
        if line:
            out.append((kind, line))
    return tuple(out)


def sentences(text: str) -> list[str]:
    """Split prose into sentences (also on line breaks); code fences are dropped."""
    return list(_sentences(text[:MAX_PROSE]))


@lru_cache(maxsize=2048)
def _sentences(text: str) -> tuple[str, ...]:
    out = []
    for kind, line in lines_of(text):
        if kind != "text":
            out.append(line)
            continue
        for part in _SENT_SPLIT.split(line):
            part = part.strip()
            if part:
                out.append(part)
    return tuple(out)


_FLUFF_FIRST = frozenset(
    "perfect great excellent good done awesome nice okay ok sure alright got you're youre absolutely certainly of "
    "fair my sorry thank thanks".split()
)


def defluff(text: str) -> str:
    prev = None
    while prev != text:
        first = text.split(" ", 1)[0].lower().strip("!.,:")
        if first not in _FLUFF_FIRST:
            return text
        prev = text
        text = FLUFF.sub("", text).strip()
    return text


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters at a word boundary, marking the cut with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-—(") + "…"


def quote(text: str, limit: int = 120) -> str:
    return clip(one_line(text[: limit * 4]), limit)


def join_clauses(parts: list[str], limit: int, sep: str = "; ") -> str:
    """Join as many parts as fit in `limit`; the first part that does not fit is clipped into the
    remaining room when there is enough of it to say something (40 characters)."""
    out: list[str] = []
    size = 0
    for part in parts:
        part = part.strip().rstrip(".;")
        if sep.strip() and part.endswith(":") and not part.endswith("::"):  # a lead-in whose list was left out
            part = part[:-1].rstrip()
        if not part:
            continue
        extra = len(part) + (len(sep) if out else 0)
        if out and size + extra > limit:
            room = limit - size - len(sep)
            if room >= 40:
                out.append(clip(part, room))
            break
        if not out and extra > limit:
            return clip(part, limit)
        out.append(part)
        size += extra
    return sep.join(out)


def human_list(items: list[str], limit: int = 5) -> str:
    items = [i for i in items if i]
    if len(items) > limit:
        items = items[:limit] + [f"{len(items) - limit} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_SPACE_PUNCT = re.compile(r"\s+([,.;:])(?=\s|$)")
# punctuation doubled where clauses were joined ("done.. Then", "Files:: a"): before a space or the
# end; not an ellipsis ("..."), a range ("1..10") or a path ("Foo::bar"), nor anything in code
_DOUBLE_PUNCT = re.compile(r"(?<![.;:])([.;:])\1+(?=\s|$)")
_CODE_SPAN = re.compile(r"(`[^`\n]*`)")


def _single(m: re.Match) -> str:
    run = m.group(0)
    return run if run[0] == "." and len(run) >= 3 else run[0]


def _outside_code(rx: re.Pattern, repl, text: str) -> str:
    """rx.sub(repl, text) in the parts of `text` outside `inline code` (`cd ..`, `opencode -m ...`)."""
    if "`" not in text:
        return rx.sub(repl, text)
    parts = _CODE_SPAN.split(text)
    parts[::2] = [rx.sub(repl, part) for part in parts[::2]]
    return "".join(parts)


def finish(text: str) -> str:
    """Final form of a memory: one line, no doubled punctuation, under MAX_MEMORY characters."""
    text = one_line(text)
    # after one_line the only whitespace is single spaces: the substitutions need ' ,' / '..' etc.
    if " ," in text or " ." in text or " ;" in text or " :" in text:
        text = _outside_code(_SPACE_PUNCT, r"\1", text)
    if ".." in text or ";;" in text or "::" in text:
        text = _outside_code(_DOUBLE_PUNCT, _single, text)
    text = clip(text, MAX_MEMORY)
    if text.endswith(":") and not text.endswith("::"):  # a lead-in whose list was left out
        text = text[:-1].rstrip()
    if text and text[-1] not in ".!?…)\"'`":
        text += "."
    return text
