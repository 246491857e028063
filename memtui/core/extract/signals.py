"""Candidate memories synthesised from a Transcript, one generator per signal.

Each generator returns `Candidate`s: a finished statement with kind, tier, confidence, the ids of the
messages it rests on, and a `score` used to choose within the size budget. Statements are built by
joining structured facts (what the user asked or corrected, which tool call was rejected, which file
changed and how, which command failed with which error and what made it pass) rather than by copying
sentences from the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from memtui.core.records import MessageRecord

from .edits import base, defs_in, dependency_changes, describe, is_config, is_doc, short_path, small_change
from .textutil import CAMEL, Alternation, AnyOf, Gate, clip, defluff, finish, human_list, join_clauses, lines_of, lower_of, one_line, quote, sentences
from .transcript import Action, Transcript, Turn, error_line


@dataclass
class Candidate:
    text: str
    kind: str
    tier: str
    confidence: float
    score: float
    ids: list[int]
    quotes: list[str] = field(default_factory=list)
    pos: int = 0  # message position of the main evidence, for a stable order
    key: str = ""  # candidates with the same key are alternatives: keep the best
    core: str = ""  # the part that says something new (for near-duplicate detection); default: text
    # the messages quoted, one quote per id: quoted() makes them, for the chosen candidates only
    sources: list = field(default_factory=list)

    def quoted(self, memo: dict[int, str] | None = None) -> list[str]:
        """`memo`: id(message) -> quote, filled as it goes (for the messages of one extraction)."""
        if not self.sources:
            return self.quotes
        if memo is None:
            return [_q(m) for m in self.sources]
        out = []
        for m in self.sources:
            q = memo.get(id(m))
            if q is None:
                q = memo[id(m)] = _q(m)
            out.append(q)
        return out


# --- cue words ------------------------------------------------------------------------------------

_PUSHBACK_START = re.compile(
    r"^\s*(?:no\b|nope\b|nah\b|not\b|don'?t\b|do not\b|stop\b|wrong\b|actually\b|instead\b|rather\b|wait\b|hmm+\b|"
    r"hold on\b|never\b|please don'?t\b|that'?s not\b|that is not\b|this is not\b|it'?s not\b|why did(?:n'?t| not)? you\b|"
    r"why are(?:n'?t| not)? you\b|why (?:would|do) you\b|i did(?:n'?t| not) (?:ask|want|say|mean)\b|"
    r"you (?:should|shouldn'?t|didn'?t|forgot|missed|can just|don'?t need)\b|"
    r"不對|不对|不是|不要|不用|別|别|错了|錯了)",
    re.I,
)
_PUSHBACK_ANY = re.compile(
    r"\b(?:instead of|rather than|I (?:don'?t|do not) think (?:we|you|it|that)|I (?:would |'d )?prefer|always\b|never\b|"
    r"don'?t (?:use|add|do|change|make|create|touch|write|run|need|want|put|include|remove|delete|modify)|no need|"
    r"you can (?:just )?(?:use|set|call)|use \S+ instead|should(?:n'?t| not)? (?:be|use|have)|is wrong|isn'?t right|"
    r"not what I)"
    r"|不用|不要|不需要|改用|而不是|應該|应该|別用|别用",
    re.I,
)
_ABANDON = re.compile(
    r"^\s*(?:never ?mind|nvm\b|forget (?:it|that|about)|scrap (?:it|that)|let'?s not\b|don'?t bother|skip (?:it|that)|"
    r"revert (?:it|that|this|the|those|these|everything|all)|undo (?:it|that|this|the)|go back to|roll ?back|算了)",
    re.I,
)
_DIRECTIVE = re.compile(
    r"\b(?:always|never|don'?t|do not|must(?:n'?t)?|only use|avoid|without (?:using|any|external|a |adding)|"
    r"keep (?:it|the|them|everything|this)|no external|no (?:build|compilation|dependencies|frameworks?|libraries)|"
    r"prefer|instead of|rather than|make sure|ensure|cross[- ]platform|dependency[- ]free|compilation[- ]free|"
    r"pure (?:html|css|js|javascript|python)|vanilla|do NOT|should(?:n'?t| not)|I (?:don'?t|do not) want|I want|"
    r"I'?d like (?:to|it)|I like|I hate|compatible with|at least|no more than|backwards? compatible|remember|keep in mind|"
    r"from now on|going forward|in the future|for future reference|note that|fyi)\b"
    r"|不要|不用|一定要|必須|必须|永遠|永远|總是|总是|只用|避免|应该|應該|确保|確保|允许|允許|不能|不应|不應|務必|务必|禁止|統一|统一|記住|记住|以後|以后",
    re.I,
)


class _AsciiGate:
    """A case-insensitive regex behind cheap substring tests, for ASCII text only (lower() and re.I
    agree there); other text goes straight to the regex. Every match contains one of `anchors`.
    `split`: whether the regex matches is asked of AnyOf (search then says True / None)."""

    __slots__ = ("rx", "anchors", "any_of", "needless")

    def __init__(self, rx: re.Pattern, anchors: tuple[str, ...], split: bool = False):
        self.rx = rx
        self.anchors = anchors
        self.any_of = AnyOf(rx) if split else None
        self.needless = self.any_of is not None and self.any_of.implies(anchors, ascii_only=True)

    def search(self, text: str):
        if text.isascii():
            low = text.lower()
            if not self.needless and not any(map(low.__contains__, self.anchors)):
                return None
        else:
            low = None
        if self.any_of is None:
            return self.rx.search(text)
        return True if self.any_of.found(text, low) else None

    def search_each(self, texts: list[str]) -> list[bool]:
        """[bool(self.search(t)) for t in texts]. The sentences of one request hold few of the anchors
        and literals: each is looked for once in all the ASCII ones (joined by newlines, which none
        holds), and each sentence only for those found."""
        out = [False] * len(texts)
        asc: list[tuple[int, str, str]] = []
        for i, t in enumerate(texts):
            if t.isascii():
                asc.append((i, t, t.lower()))
            else:
                out[i] = self.search(t) is not None
        if not asc:
            return out
        joined = "\n".join(low for _, _, low in asc)
        anchors = [a for a in self.anchors if a in joined]
        if not anchors and not self.needless:
            return out
        if self.any_of is None:
            for i, t, low in asc:
                out[i] = any(map(low.__contains__, anchors)) and self.rx.search(t) is not None
            return out
        literals = [lit for lit in self.any_of.ascii_literals if lit in joined]
        for i, t, low in asc:
            if self.needless or any(map(low.__contains__, anchors)):
                out[i] = self.any_of.found_among(t, low, literals)
        return out


class _Cues:
    """A case-insensitive alternation of cue words: search says whether it matches (True / None)."""

    __slots__ = ("any_of",)

    def __init__(self, rx: re.Pattern):
        self.any_of = AnyOf(rx)

    def search(self, text: str):
        return True if self.any_of.found(text) else None


_PUSHBACK_ANY = _Cues(_PUSHBACK_ANY)


_DIRECTIVE = _AsciiGate(_DIRECTIVE, (
    "always", "never", "don", "do not", "must", "only use", "avoid", "without ", "keep ", "no external", "no build",
    "no compilation", "no dependencies", "no framework", "no librar", "prefer", "instead of", "rather than", "make sure",
    "ensure", "platform", "dependency", "compilation", "pure ", "vanilla", "should", "i want", "d like ", "i like",
    "i hate", "compatible", "at least", "no more than", "remember", "from now on", "going forward", "in the future",
    "for future reference", "note that", "fyi",
), split=True)
_STRONG_DIRECTIVE = re.compile(
    r"\b(?:always|never|don'?t|do not|must(?:n'?t)?|only use|avoid|no external|without|keep it|prefer|"
    r"dependency[- ]free|compilation[- ]free|cross[- ]platform|pure|vanilla|do NOT|I (?:don'?t|do not) want|remember|"
    r"keep in mind|from now on|going forward|for future reference)\b"
    r"|不要|一定要|必須|必须|永遠|永远|總是|总是|只用|应该|應該|确保|確保|不能|務必|务必|禁止",
    re.I,
)
_DEV_TOPIC = re.compile(
    r"\b(?:pnpm|npm|yarn|bun|pip|pipx|uv|poetry|conda|brew|git|commits?|branch(?:es)?|pull requests?|PRs?|tabs?|spaces|"
    r"indent\w*|TDD|type hints?|docstrings?|comments?|emojis?|English|explain\w*|verbose|concise|ask me|confirm|"
    r"env(?:ironment)?s?|assumptions?|cross[- ]platform|vim|vscode|zsh|bash|macOS|linux|windows|docker|"
    r"tests? first|British|American|spelling|lint\w*|format\w*)\b",
    re.I,
)
_DEV_TOPIC = _Cues(_DEV_TOPIC)
_FIRST_PERSON_PREF = re.compile(
    r"\bI (?:always|never|prefer|like|hate|usually|don'?t like|don'?t want|want you to|would rather)\b|\bmy (?:preference|style|setup)\b",
    re.I,
)
_FIRST_PERSON_PREF = _Cues(_FIRST_PERSON_PREF)
_BUG_REPORT = re.compile(
    r"\b(?:bug|broken|doesn'?t work|does not work|not working|isn'?t working|fails?|failing|crash\w*|error|exception|"
    r"not (?:displaying|showing|loading|rendering|updating|working|saving|visible)|wrong|incorrect|issue|regression|"
    r"debug|fix|glitch|stuck|hangs?|freez\w*|blank|missing|mismatch|doesn'?t (?:show|display|load|render|match|appear))\b"
    r"|壞|坏|錯誤|错误|報錯|报错|失敗|失败|修復|修复|不能用|不工作",
    re.I,
)
_BUG_REPORT = _AsciiGate(_BUG_REPORT, (
    "bug", "broken", "doesn", "does not work", "not working", "isn", "fail", "crash", "error", "exception",
    "not displaying", "not showing", "not loading", "not rendering", "not updating", "not saving", "not visible",
    "wrong", "incorrect", "issue", "regression", "fix", "glitch", "stuck", "hang", "freez", "blank", "missing", "mismatch",
), split=True)
_BUG_FOUND = Gate(
    r"\b(?:bug|mismatch|the (?:issue|problem|cause) (?:is|was)|root cause|is (?:wrong|incorrect|flawed|broken|missing)|"
    r"was (?:wrong|incorrect|flawed|broken|missing)|caused by|because (?:the|it|of)|isn'?t (?:working|defined|set)|"
    r"doesn'?t (?:work|exist|match)|fixed|fixes|fixing|is setting|are setting|overrid\w+)\b",
    ("bug", "mismatch", "the issue", "the problem", "the cause", "root cause", "wrong", "incorrect", "flawed", "broken",
     "missing", "caused", "because", "isn", "doesn", "fix", "setting", "overrid"),
)
_CHANGE_VERB = Gate(
    r"\b(?:now|instead|replac\w+|chang\w+|updat\w+|add\w*|remov\w+|switch\w*|migrat\w+|fix\w*|uses?|using|moved?|"
    r"renam\w+|convert\w*|introduc\w+|extract\w*|merg\w+|combin\w+|split|creat\w+|implement\w*|refactor\w*|"
    r"support\w*|validat\w+|handl\w+|toggl\w+|prevent\w*|avoid\w*)\b|→|->",
    ("now", "instead", "replac", "chang", "updat", "add", "remov", "switch", "migrat", "fix", "use", "using", "mov",
     "renam", "convert", "introduc", "extract", "merg", "combin", "split", "creat", "implement", "refactor",
     "support", "validat", "handl", "toggl", "prevent", "avoid", "→", "->"),
    split=True,
)
_CAUSE = Gate(
    r"\b(?:because|so that|so the|to avoid|to prevent|since|which (?:means|lets|makes|avoids)|in order to|otherwise|due to)\b",
    ("because", "so that", "so the", "to avoid", "to prevent", "since", "which ", "in order to", "otherwise", "due to"),
    split=True,
)
_GENERIC = Gate(
    r"\b(?:better (?:performance|user experience|ux|error handling)|cleaner|more efficient|future[- ]proof|modern|"
    r"maintainab\w+|responsive|readab\w+|robust|comprehensive|professional|polished|user[- ]friendly|seamless|helpful|essential)\b",
    ("better", "cleaner", "efficient", "future", "modern", "maintainab", "responsive", "readab", "robust",
     "comprehensive", "professional", "polished", "friendly", "seamless", "helpful", "essential"),
    split=True,
)
_SKIP_START = re.compile(
    r"^(?:summary|changes made|what (?:i|was) (?:changed|done|did)|here'?s (?:what|a summary)|key (?:benefits|points|changes|features)|"
    r"files? (?:created|updated|modified|changed)|features? implemented|benefits|overview|test it|how to (?:test|use)|"
    r"usage|next steps?|done|complete|result|results)\b[^.]{0,30}:?$"
    r"|^(?:here (?:is|are) the|to (?:create|implement|fix|update|add|make|address|debug|write)\b.{0,120}\bI (?:will|'ll) "
    r"(?:provide|modify|update|create|make|add)|I (?:will|'ll) (?:now )?provide the)",
    re.I,
)
_SKIP_ANY = Gate(
    r"\b(?:let me know|would you like|do you want|feel free|happy to|hope this|enjoy|you can now|you're ready|"
    r"ready to go|all set|should now|should work|please confirm|if you would like to proceed|if you want|if you'?d like|"
    r"i can also|i can now)\b",
    ("let me know", "would you like", "do you want", "feel free", "happy to", "hope this", "enjoy", "you can now", "ready",
     "all set", "should now", "should work", "please confirm", "if you want", "if you'd like", "i can also", "i can now"),
    split=True,
)


class _Skip:
    @staticmethod
    def search(line: str):
        return _SKIP_START.match(line) or _SKIP_ANY.search(line)


_SKIP_LINE = _Skip()
_CODE_EXT = r"(?:py|js|ts|tsx|jsx|css|html|md|json|toml|yaml|yml|go|rs|rb|java|kt|c|h|cpp|sh|sql|vue|svelte)\b"
_DOT_EXT = re.compile(r"\." + _CODE_EXT)  # the end of every file name below
# Code-looking tokens (backticks, file names, camelCase, snake_case, calls): a prose line holds few of
# the characters they need, so re usually tries one alternative or none at each position
_CODEISH = Alternation((
    (r"`[^`]+`", "`"),
    (r"\b[\w-]+\." + _CODE_EXT, _DOT_EXT),
    (r"\b[a-z]+[A-Z]\w+\b", CAMEL),
    (r"\b\w+_\w+\b", "_"),
    (r"\b\w+\(\)", "()"),
))
_CODEISH_RX = _CODEISH.full
_OPTION = re.compile(r"\*\*\s*Option\s*\d+\s*[:.)-]\s*([^*\n]{2,60})\*\*|^#+\s*Option\s*\d+\s*[:.)-]\s*(.{2,60})$|^\s*(?:\d+[.)]|[-*])\s+\*\*([^*\n]{2,50})\*\*", re.M | re.I)
_CHOICE = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|fine|sure|yes|yeah|yep|alright|great|cool|good|perfect)[,.! ]*)*"
    r"(?:let'?s (?:go with|use|do|try|pick)|go with|let'?s|use|do|pick|choose|i'?ll (?:take|go with)|option)\s+(.{1,60}?)[.!]?\s*$",
    re.I,
)
_NEXT = Gate(
    r"\b(?:next steps?|still (?:need|needs|uses|has|fails|failing|missing|to)|not yet|remaining|TODO|left to|"
    r"would you like me to|want me to|I can (?:also|now|next)|you (?:may|might|will) (?:need|want) to|needs? (?:to be )?test\w*|"
    r"(?:should|need to) (?:be )?(?:test|verif|check)\w*|haven'?t|wasn'?t able|could not|couldn'?t|known (?:issues?|limitations?)|"
    r"follow[- ]up|separate,? larger task|test checklist|verify|manually)\b",
    ("next step", "still ", "not yet", "remaining", "todo", "left to", "would you like", "want me", "i can ", "you may",
     "you might", "you will", "need", "should", "haven", "wasn", "could not", "couldn", "known", "follow", "separate",
     "checklist", "verify", "manually"),
    split=True,
)

_TRIVIAL_CMD = re.compile(
    r"^(?:ls|ll|la|cat|head|tail|less|more|grep|rg|ag|find|fd|echo|printf|cd|pwd|which|where|type|whoami|date|sleep|wc|"
    r"tree|file|stat|du|df|ps|kill|pkill|killall|lsof|top|env|export|set|true|false|clear|history|man|sed -n|awk|cut|"
    r"sort|uniq|diff|cmp|mkdir|touch|cp|mv|chmod|chown|ln|open -a|code|git (?:status|log|diff|show|branch|remote|"
    r"fetch|stash list|rev-parse|ls-files|blame|config --get)|gh (?:pr|issue) (?:view|list)|curl -s?I|xxd|od|jq|"
    r"python3? -c|node -e|npx tsc --version|\w+ --version|\w+ -v|\w+ version)\b",
    re.I,
)
_CMD_KIND = (
    ("test", re.compile(
        r"\b(?:pytest|py\.test|unittest|nose2?|tox|nox|jest|vitest|mocha|ava|karma|playwright test|cypress run|"
        r"go test|cargo test|cargo nextest|rspec|phpunit|ctest|dotnet test|mvn test|gradle test|swift test|deno test|"
        r"bun test|mix test|(?:npm|pnpm|yarn|bun) (?:run )?test\w*|make test\w*|just test\w*)\b")),
    ("check", re.compile(
        r"\b(?:ruff|flake8|pylint|mypy|pyright|ty check|black|isort|eslint|prettier|biome|tsc|stylelint|clippy|"
        r"cargo (?:check|fmt|clippy)|gofmt|go vet|golangci-lint|rubocop|shellcheck|pre-commit|"
        r"(?:npm|pnpm|yarn|bun) (?:run )?(?:lint|format|typecheck|check|fmt)\w*|make (?:lint|check|fmt|format))\b")),
    ("build", re.compile(
        r"\b(?:cargo build|go build|make\b(?! (?:test|lint|check|run|dev))|cmake|ninja|gradle(?:w)? build|mvn (?:package|install)|"
        r"(?:npm|pnpm|yarn|bun) (?:run )?build|vite build|webpack|tsc -b|docker build|docker compose build|"
        r"python -m build|uv build|poetry build|hatch build|dotnet build|swift build|just build)\b")),
    ("install", re.compile(
        r"\b(?:(?:npm|pnpm|yarn|bun) (?:install|i|add|ci)\b|pip3? install|uv (?:sync|add|pip install)|poetry (?:install|add)|"
        r"pipenv install|conda install|cargo add|go (?:get|mod tidy)|bundle install|composer install|brew install|"
        r"apt(?:-get)? install)")),
    ("run", re.compile(
        r"\b(?:(?:npm|pnpm|yarn|bun) (?:run )?(?:dev|start|serve|preview)|vite\b|uvicorn|gunicorn|flask run|"
        r"manage\.py runserver|python3? -m http\.server|http-server|npx serve|serve -|rails s|cargo run|go run|"
        r"docker compose up|docker-compose up|docker run|node \S+\.m?js|python3? \S+\.py|uv run \S+\.py|"
        r"deno run|bun run|open \S+\.html|streamlit run|jupyter|make run|just run)\b")),
)
_LOCALHOST = re.compile(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0):\d{2,5}/?")
_HOOK_OK = re.compile(r"^(\w[\w:]*)\s*(?:\[[^\]]*\]\s*)?\[([^\]\n]{3,120})\] completed successfully", re.M)


# --- small helpers --------------------------------------------------------------------------------


def _turn_gist(t: Turn, limit: int) -> str:
    """The first sentence of a turn's request, minus politeness (worked out once per turn)."""
    text = t.memo.get("gist")
    if text is None:
        text = t.memo["gist"] = _gist_text(t.request)
    return clip(text, limit) if text else ""


_AT_NAME = re.compile(r"@(?:[\w.-]+/)*([\w.-]+\.\w+)")
_POLITE = re.compile(
    r"^(?:hey|hi|hello)?\s*(?:claude|codex|gemini)?[,!]?\s*"
    r"(?:(?:can|could|would) you (?:please )?|please |i'?d like (?:you )?to |i want (?:you )?to |let'?s (?:also )?|"
    r"i'?d like your help (?:with |to )?|help me (?:to |with )?|i need you to |i would like (?:you )?to |"
    r"now |ok(?:ay)?,? |so,? |also,? |and )*",
    re.I,
)
_LEAD_WORD = re.compile(r"^(?:but|and|so|ok(?:ay)?|also)[, ]+(?:i'?d like (?:to ask )?(?:you )?to |please |can you |let'?s )?", re.I)


def _gist_text(request: str) -> str:
    """The first sentence of a user request, minus politeness, capitalised (not clipped)."""
    lines = [ln.strip() for ln in request.split("\n") if ln.strip()]
    first_line = lines[0] if lines else ""
    if first_line.endswith(":") and len(lines) > 1 and len(first_line) < 40:
        first_line = lines[1]
    text = one_line(first_line if len(first_line) >= 15 else request)
    if "@" in text:
        text = _AT_NAME.sub(r"\1", text)
    text = _POLITE.sub("", text)
    sents = sentences(text)
    while len(sents) > 1 and (len(sents[0]) < 18 and not _CODEISH.found(sents[0]) or _ABANDON.match(sents[0])):
        sents = sents[1:]
    text = sents[0] if sents else text
    text = _LEAD_WORD.sub("", text)
    text = text.rstrip("?.!")
    return text[:1].upper() + text[1:] if text else ""


def _project_file_tokens(tr: Transcript) -> set[str]:
    """The names (and stems) of the files the session's calls touched, worked out once, when first asked for."""
    out = tr.memo.get("file_tokens")
    if out is None:
        out = tr.memo["file_tokens"] = set()
        for a in tr.actions:
            for f in a.files:
                b = base(f)
                out.add(b.lower())
                stem = b.rsplit(".", 1)[0].lower()
                if len(stem) > 3:
                    out.add(stem)
    return out


def _mentions_project(text: str, tr: Transcript) -> bool:
    files = _project_file_tokens(tr)
    low = text.lower()
    if any(f in low for f in files if len(f) > 3):
        return True
    return bool(re.search(r"`[^`]+`|\b[a-z]+[A-Z]\w+\b|\b\w+_\w+\b|\b\w+\.(?:py|js|ts|css|html|go|rs|json|toml)\b|\w+\(\)", text))


def _tier_for(text: str, tr: Transcript) -> str:
    if _FIRST_PERSON_PREF.search(text) and not _mentions_project(text, tr):
        return "developer"
    if _DEV_TOPIC.search(text) and not _mentions_project(text, tr):
        return "developer"
    return "project"


def _action_gist(a: Action, root: str | None, short: bool = False) -> str:
    if a.family == "edit":
        if short:
            old = "\n".join(e[0] for e in a.edits)
            new = "\n".join(e[1] for e in a.edits)
            sc = small_change(old, new, 40) if len(a.edits) == 1 and old else ""
            if sc:
                return f"{base(a.files[0]) if a.files else 'a file'}: {sc}"
            defs = defs_in(old + "\n" + new, 2)
            verb = "creating" if a.op in ("write", "create") and not old else "an edit to"
            return f"{verb} {base(a.files[0]) if a.files else 'a file'}" + (f" ({', '.join(d + '()' for d in defs)})" if defs else "")
        return describe(a, root)
    if a.family == "shell":
        return f"`{clip(one_line(a.command), 90)}`"
    if a.family == "plan" and a.name.lower() == "exitplanmode":
        plan = str(a.args.get("plan") or "")
        heads = [t for k, t in lines_of(plan) if k == "heading"]
        return "the plan" + (f" '{clip(heads[0], 70)}'" if heads else "")
    if a.family == "agent":
        return f"a {a.name} subagent"
    return f"the {a.name} call"


_CODE_NAME = re.compile(r"`([^`]{2,60})`|\b([\w-]+\.(?:py|js|ts|tsx|jsx|css|html|md|json|toml|yaml|yml|go|rs|rb|java|sh|sql|vue))\b")


_IRREGULAR = {"write": "wrote", "make": "made", "build": "built", "set": "set", "run": "ran", "put": "put", "split": "split",
              "keep": "kept", "rewrite": "rewrote", "add": "added", "fix": "fixed"}
# what a reply says it will do next and has not done by saying it ('I'll check ...', 'let me see ...')
_LOOK_VERBS = frozenset(("know", "see", "check", "look", "read", "start", "begin", "provide", "verify", "test", "help",
                         "explain", "summarize", "go", "examine", "inspect", "investigate", "explore", "review",
                         "analyze", "analyse", "understand", "find", "search"))
# 'I'm checking ...', 'I'm now running ...': the reply narrating its next step
_DOING = re.compile(r"^(?:now,?\s+)?I(?:['’]m| am) (?:now |also |just )?(?:checking|looking|running|testing|trying|verifying|inspecting|reading|examining|investigating|exploring|reviewing|analy[sz]ing|searching)\b", re.I)
_INTENT = re.compile(r"^(?:(?:now|next|then|first|finally|so|okay|ok),?\s+)?(?:I(?:['’]ll| will| am going to|['’]m going to)|let me|let['’]s)\s+(?:also\s+|now\s+|quickly\s+|then\s+|first\s+|just\s+)*([a-z]+)\b\s*", re.I)


def _past(verb: str) -> str:
    v = verb.lower()
    if v in _IRREGULAR:
        return _IRREGULAR[v]
    if v.endswith("e"):
        return v + "d"
    if v.endswith("y") and len(v) > 2 and v[-2] not in "aeiou":
        return v[:-1] + "ied"
    return v + "ed"


def _as_done(sentence: str, intent: re.Match) -> str:
    """'I'll also implement a counter' -> 'implemented a counter' (the edits that follow did it);
    `intent`: _INTENT's match of the sentence, its verb not one of _LOOK_VERBS."""
    return _past(intent.group(1)) + " " + sentence[intent.end():]


# r"(?<=[.!?])\s+(?=[A-Z`])" with the look-behind after a first \s: the same matches, but re enters a
# match only at whitespace (its charset prefix), not at every position of the line
_PIECES = re.compile(r"\s(?<=[.!?]\s)\s*(?=[A-Z`])")
_FROMTO = re.compile(r"\b(?:from|was)\b.*\b(?:to|now)\b|→|->|instead of")
_DIGIT = re.compile(r"\d")
_I_START = re.compile(r"^(?:I(?:'ve| have| am|'m)?|Let me|Now|First|Next|Then|Finally|Okay|OK)\b")
_IMPERATIVE = re.compile(r"^(?:Update|Add|Modify|Create|Change|Remove|Implement|Refactor|Fix|Move|Rename|Replace|Extract|Convert)\b")
# bytes.translate table: every byte but a-z becomes a space
_AZ_ONLY = bytes(c if 97 <= c <= 122 else 32 for c in range(256))


def _words3(low: str) -> set[bytes]:
    """set(re.findall(r"[a-z]{3,}", low)), as ASCII bytes: a character that is not ASCII becomes '?', then
    a space, and ends a run of a-z there as it does for the regex. Two C passes over the line instead of
    re's matching, which costs far more per position (this runs on every scored line)."""
    return {w for w in low.encode("ascii", "replace").translate(_AZ_ONLY).split() if len(w) > 2}


def _scored_items(texts: list[tuple[str, float]], request: str = "") -> list[tuple[float, int, str]]:
    """(score, order, line) for the informative lines of assistant replies: changes with code names,
    causes, numbers; no fluff. Prose is scored sentence by sentence; a line under a heading that names
    code gets that name as a prefix when it does not repeat it ('converter.py: Used `seen_request_ids`
    to avoid double-counting'); announced intentions ('I'll add X') read as done ('added X')."""
    scored: list[tuple[float, int, str]] = []
    order = 0
    asked = _words3(request.lower())
    for text, bonus in texts:
        ctx = ""
        pre = bonus < 0
        lines = lines_of(text)
        if pre and len(lines) > 6:  # an announcement before an edit: its first lines say what and why
            lines = lines[:6]
        elif len(lines) > 90:  # a long report: its head and its conclusion
            lines = lines[:45] + lines[-45:]
        for kind, raw in lines:
            raw = defluff(raw)
            if kind == "heading" or (kind in ("bullet", "text") and raw.endswith(":") and len(raw) < 90):
                names = [a or b for a, b in _CODE_NAME.findall(raw)][:1] if ("`" in raw or "." in raw) else []
                ctx = " / ".join(names)
                continue
            pieces = [x.strip() for x in _PIECES.split(raw)] if kind == "text" and len(raw) > 60 else [raw]
            for line in pieces:
                order += 1
                if len(line) < 12 or line.endswith("?"):
                    continue
                if line is not raw:  # (defluff(defluff(x)) == defluff(x): a whole line is done)
                    line = defluff(line)
                if len(line) < 12 or _SKIP_LINE.search(line):
                    continue
                intent = _INTENT.match(line)
                if _DOING.match(line) or (intent and intent.group(1).lower() in _LOOK_VERBS):
                    continue  # the reply narrating its next step (checking, testing): what it finds follows
                if pre and intent:
                    line = _as_done(line, intent)
                low = lower_of(line)
                s = bonus
                codes = len(_CODEISH.findall(line))
                digit = _DIGIT.search(line) is not None
                s += 1.5 * min(3, codes)
                s += 2.0 if _CHANGE_VERB.search(line) else 0.0
                s += 1.5 if _CAUSE.search(line) else 0.0
                if ("from" in low or "was" in low or "→" in line or "->" in line or "instead of" in low) and _FROMTO.search(line):
                    s += 1.0
                s += 1.0 if digit else 0.0
                if codes <= 1 and _GENERIC.search(line):
                    s -= 2.5 if not codes else 1.5
                if "fully integrated" in low or "is now complete" in low or "is complete" in low or "working correctly" in low:
                    s -= 3.0
                if kind == "subbullet":
                    s -= 0.3
                if len(line) > 220:
                    s -= 1.0
                if len(line) < 40 and not digit:
                    s -= 1.0
                if not codes and _I_START.match(line):
                    s -= 1.5
                if "successfully" in low:
                    s -= 1.0
                if line.endswith(":"):
                    s -= 1.5
                if asked:
                    lw = _words3(low)
                    if lw and len(lw & asked) > 0.6 * len(lw):
                        s -= 3.0  # says back what the user asked for
                if pre and _IMPERATIVE.match(line):
                    first = line.split(" ", 1)[0]
                    line = _past(first) + line[len(first):]
                if ctx and kind in ("bullet", "subbullet", "text") and not any(c.lower() in low for c in ctx.split(" / ")):
                    line = f"{ctx}: {line}"
                scored.append((s, order, clip(line, 150)))
    return scored


def _chunks(scored: list[tuple[float, int, str]], limit: int, count: int, min_score: float = 2.0) -> list[list[str]]:
    """The best lines (up to `count` groups' worth), kept in reply order and cut into groups of about
    `limit` characters, so that related lines (one section of a summary) stay together."""
    pool = sorted((x for x in scored if x[0] >= min_score), key=lambda x: (-x[0], x[1]))
    picked: list[tuple[int, str, float]] = []
    used: set[str] = set()
    total = 0
    for sc, order, line in pool:
        key = line[:40].lower()
        if key in used:
            continue
        if total + len(line) > limit * count:
            continue
        used.add(key)
        picked.append((order, line, sc))
        total += len(line) + 2
    picked.sort()
    out: list[list[str]] = []
    cur: list[str] = []
    size = 0
    for _, line, sc in picked:
        if cur and size + len(line) > limit:
            out.append(cur)
            cur, size = [], 0
        cur.append(line)
        size += len(line) + 2
    if cur:
        out.append(cur)
    return out[:count]


def _line_score(scored: list[tuple[float, int, str]], lines: list[str]) -> float:
    by_line = {line: sc for sc, _, line in scored}
    vals = [by_line.get(line, 3.0) for line in lines]
    return sum(vals) / len(vals) if vals else 0.0


def _summary_items(texts: list[str], limit: int, min_score: float = 2.0) -> list[str]:
    groups = _chunks(_scored_items([(t, 0.0) for t in texts]), limit, 1, min_score)
    return groups[0] if groups else []


def _first_ok_after(actions: list[Action], family: str | None = None) -> Action | None:
    for a in actions:
        if a.status in ("ok", "unknown") and a.family in ("edit", "shell") and (family is None or a.family == family):
            return a
    return None


def _ids(*groups) -> list[int]:
    out: list[int] = []
    for g in groups:
        for i in g:
            if i is not None and i not in out:
                out.append(i)
    return out


def _q(m: MessageRecord | None, limit: int = 100) -> str:
    return quote(m.text, limit) if m is not None else ""


def _cand(text, kind, tier, conf, score, msgs: list[MessageRecord], pos: int, key: str = "") -> Candidate:
    seen: list[MessageRecord] = []
    ids: list[int] = []
    for m in msgs:
        if m is not None and m.id not in ids:
            ids.append(m.id)
            seen.append(m)
    return Candidate(
        text=finish(text), kind=kind, tier=tier, confidence=round(conf, 2), score=score,
        ids=ids, sources=seen, pos=pos, key=key,
    )


def _root(tr: Transcript, session) -> str | None:
    return (getattr(session, "cwd", None) or getattr(session, "project_root", None)) if session is not None else None


# --- generators --------------------------------------------------------------------------------------


def _is_correction(tr: Transcript, t: Turn) -> bool:
    v = t.memo.get("corr")
    if v is None:
        v = t.memo["corr"] = _correction_turn(t)
    return v


def _correction_turn(t: Turn) -> bool:
    if not t.user or t.slash or t.index == 0 or _ABANDON.search(t.request) or len(t.request) > 700:
        return False
    req = t.request
    first = (sentences(req) or [req])[0]
    pushback = bool(_PUSHBACK_START.search(req) or (len(req) < 400 and _PUSHBACK_ANY.search(first)))
    return bool(t.rejected_before) or pushback


def _task_turn(tr: Transcript, t: Turn) -> Turn:
    """The turn that set the task a run of corrections is about."""
    k = t.index
    while k > 0 and _is_correction(tr, tr.turns[k]):
        k -= 1
    return tr.turns[k]


def corrections(tr: Transcript, session) -> list[Candidate]:
    """User pushback after (or instead of) what the assistant did: preference, constraint or failed
    approach. Consecutive corrections of one task (the same file) become one statement."""
    out: list[Candidate] = []
    root = _root(tr, session)
    groups: list[list[Turn]] = []
    for t in tr.turns:
        if not _is_correction(tr, t):
            continue
        rej = t.rejected_before[-1] if t.rejected_before else None
        if groups and groups[-1][-1].index == t.index - 1:
            prev = groups[-1][-1]
            prej = prev.rejected_before[-1] if prev.rejected_before else None
            same = (rej is not None and prej is not None and rej.files and prej.files and base(rej.files[0]) == base(prej.files[0]))
            if same and sum(len(x.request) for x in groups[-1]) + len(t.request) < 260:
                groups[-1].append(t)
                continue
        groups.append([t])
    for g in groups:
        last = g[-1]
        rej = g[0].rejected_before[-1] if g[0].rejected_before else None
        nxt = _first_ok_after(last.actions)
        if len(g) == 1:
            text = _correction_text(clip(one_line(g[0].request), 170), rej, nxt, root)
        else:
            said = "; ".join(f"\"{clip(one_line(t.request), 110)}\"" for t in g)
            what = _action_gist(rej, root, short=True) if rej is not None else "the assistant's change"
            text = f"User corrections after rejecting {what}: {said}"
            if nxt is not None:
                text += f"; then {_action_gist(nxt, root, short=True)}"
        req = " ".join(t.request for t in g)
        tier = _tier_for(req + " " + (rej.command if rej else ""), tr)
        kind = "preference"
        if re.search(r"\b(?:never|must|don'?t|do not|only|without|no)\b|不要|不用|不需要", req, re.I):
            kind = "constraint" if tier == "project" else "preference"
        if rej is not None and rej.family == "edit" and re.search(
            r"\b(?:because|since|it'?s|there'?s no|doesn'?t|won'?t|can'?t|less work|don'?t (?:think|need)|no need|already)\b",
            req, re.I,
        ):
            kind = "failed_approach"
        conf = 0.8 if rej is not None else 0.6
        msgs: list = [m for t in g for m in t.user]
        if rej is not None:
            msgs += [rej.use] + ([rej.result] if rej.result else [])
        if nxt is not None:
            msgs.append(nxt.use)
        score = (0.92 if rej is not None else 0.8) + 0.03 * (len(g) - 1)
        out.append(_cand(text, kind, tier, conf, score, msgs, g[0].user[0].position, key=f"turn{g[0].index}:corr"))
    # rejections that carry their reason inline (Claude Code: "The user provided the following reason ...")
    for i, a in enumerate(tr.actions):
        if a.status != "rejected" or not a.reason:
            continue
        later = [b for b in tr.actions[i + 1:] if b.turn == a.turn]
        nxt = _first_ok_after(later, a.family if a.family in ("edit", "shell") else None)
        text = _correction_text(clip(a.reason, 170), a, nxt, root)
        tier = _tier_for(a.reason + " " + a.command, tr)
        msgs = [a.result, a.use] + ([nxt.use] if nxt else [])
        out.append(_cand(text, "preference", tier, 0.85, 0.95, msgs, a.use.position, key=f"rej{a.use.id}"))
    return out


def _correction_text(words: str, rej: Action | None, nxt: Action | None, root: str | None) -> str:
    said = f"\"{words}\""
    if rej is not None and nxt is not None and rej.family == "shell" and nxt.family == "shell":
        r0, n0 = rej.command.split()[:1], nxt.command.split()[:1]
        if r0 and n0 and r0 != n0:
            return (f"Use {n0[0]} rather than {r0[0]}: the user rejected `{clip(one_line(rej.command), 60)}` ({said}) "
                    f"and `{clip(one_line(nxt.command), 60)}` was run instead")
    if rej is not None and nxt is not None and rej.family == "edit" and nxt.family == "edit" and rej.files and nxt.files \
            and base(rej.files[0]) == base(nxt.files[0]):
        f = short_path(rej.files[0], root)
        r_old = "\n".join(e[0] for e in rej.edits)
        r_new = "\n".join(e[1] for e in rej.edits)
        n_old = "\n".join(e[0] for e in nxt.edits)
        n_new = "\n".join(e[1] for e in nxt.edits)
        sc_r, sc_n = small_change(r_old, r_new, 50), small_change(n_old, n_new, 50)
        if one_line(r_old) == one_line(n_old) and len(one_line(r_new)) <= 60 and len(one_line(n_new)) <= 60 and len(one_line(n_old)) <= 60:
            was = f" (was `{one_line(n_old)}`)" if n_old.strip() else ""
            return f"{f}: after the user's correction {said} it became `{one_line(n_new)}` instead of `{one_line(r_new)}`{was}"
        if sc_r and sc_n:
            return f"{f}: user correction {said}; instead of {sc_r}, the change made was {sc_n}"
        return f"User correction on {f}: {said}; the edit was then redone ({_action_gist(nxt, root, short=True)})"
    if rej is not None:
        text = f"User correction after rejecting {_action_gist(rej, root, short=True)}: {said}"
    else:
        text = f"User correction: {said}"
    if nxt is not None:
        text += f"; then {_action_gist(nxt, root, short=True)}"
    return text


def requirements(tr: Transcript, session) -> list[Candidate]:
    """Standing instructions in user requests: 'don't use external frameworks', 'keep it 3 files', 'I prefer ...'."""
    out: list[Candidate] = []
    for t in tr.turns:
        if not t.user or t.slash or _ABANDON.search(t.request):
            continue
        picked: list[str] = []
        strength = 0
        directive_sents: list[str] = []
        sents = [s for s in sentences(t.request) if len(s) >= 8]
        for sent, directive in zip(sents, _DIRECTIVE.search_each(sents)):
            if not directive:
                continue
            if (sent.rstrip().endswith("?") and not is_cjk(sent) and not re.search(r"\b(?:don'?t|never|always|must)\b", sent, re.I)
                    and not re.match(r"^(?:(?:hey|hi|ok|so)\W+)*(?:can|could|would|will) you\b|^please\b", sent, re.I)):
                continue  # a question ("could we ...?") is not an instruction; a request ("can you ...?") is
            clauses = _directive_clauses(sent)
            if clauses:
                directive_sents.append(sent)
            for c in clauses:
                if c not in picked:
                    picked.append(c)
                    strength += 2 if _STRONG_DIRECTIVE.search(c) else 1
        if not picked or strength < 2:
            continue
        subject = _subject_files(" ".join(directive_sents))
        body = join_clauses(picked, 260, "; ")
        text = (f"User requirement for {subject}: " if subject else "User requirement: ") + body
        tier = _tier_for(body, tr)
        kind = "preference" if tier == "developer" or re.search(r"\bprefer|\blike\b", body, re.I) else "constraint"
        score = 0.7 + min(0.2, 0.05 * strength)
        out.append(_cand(text, kind, tier, 0.7, score, list(t.user), t.user[0].position, key=f"turn{t.index}:req"))
    return out


_CLAUSE_SPLIT = re.compile(
    r"\s*(?:[;:—–]|,\s+(?:but|so|then|while|see|also)\b|,?\s+and\s+(?=while\b|then\b|see\b|also\b|propose\b)|"
    r"\s+(?=while\b)|,\s+(?=[a-z]+ing\b)|\s+-\s+|\bbut\b|\bso\b(?= I))\s*",
    re.I,
)


_CJK = re.compile(r"[\u3400-\u9fff]")


def is_cjk(text: str) -> bool:
    if text.isascii():
        return False
    return len(_CJK.findall(text)) > 0.3 * max(1, len(re.sub(r"\s", "", text)))


# the clause-level tests of _directive_clauses (compiled once: a request may have many clauses)
_FOR_NOW_CJK = re.compile(r"\b(?:yet|for now)\b|先|暫時|暂时")
_FOR_NOW = re.compile(r"\b(?:yet|for now|right now|this time|at the moment|first|today)\b", re.I)
_CAN_YOU = re.compile(r"^(?:can|could|would) you\b", re.I)
_LEAD_JOIN = re.compile(r"^(?:and|also|so|while|please|then)\s+", re.I)
_LEAD_IN = re.compile(
    r"^(?:what|here(?:'s| is| are)|this is what|these are|the following|below)\b"
    r"|\b(?:to do|the following|as follows|like this|this|these|them|below)$",
    re.I,
)


def _directive_clauses(sentence: str) -> list[str]:
    if is_cjk(sentence):
        # Chinese/Japanese: clauses are comma-separated; a cue clause keeps the clauses that follow it
        parts = [p.strip() for p in re.split(r"[，,；;]", sentence) if p.strip()]
        out: list[str] = []
        i = 0
        while i < len(parts):
            if _DIRECTIVE.search(parts[i]) and not _FOR_NOW_CJK.search(parts[i]):
                span = [parts[i]]
                j = i + 1
                while j < len(parts) and len("，".join(span + [parts[j]])) <= 170:
                    span.append(parts[j])
                    j += 1
                out.append("，".join(span))
                i = j
            else:
                i += 1
        return out
    out = []
    clauses = _CLAUSE_SPLIT.split(sentence)
    # the lead-in to what follows a colon ("What I want you to do:", then a list) says nothing alone
    if sentence.rstrip().endswith(":"):
        while clauses and not clauses[-1].strip(" ,."):
            clauses.pop()
        if clauses and _LEAD_IN.search(clauses[-1].strip(" ,.")):
            clauses.pop()
    for c in clauses:
        c = c.strip(" ,.")
        if len(c) < 6 or not _DIRECTIVE.search(c):
            continue
        if _FOR_NOW.search(c):
            continue
        if _CAN_YOU.match(c) and not _STRONG_DIRECTIVE.search(c):
            continue
        c = _LEAD_JOIN.sub("", c)
        out.append(clip(c, 160))
    return out


_AT_FILE = re.compile(r"@([\w./-]+\.\w+)|`([\w./-]+\.\w{1,6})`|\b([\w-]+(?:/[\w.-]+)+\.\w{1,6})\b")


def _subject_files(text: str) -> str:
    names: list[str] = []
    for m in _AT_FILE.finditer(text):
        name = next(g for g in m.groups() if g)
        if name not in names:
            names.append(name)
    if not names:
        return ""
    return human_list(names, 3)


# every match holds NAME followed by [:=]: texts without one are skipped by this cheap scan
_CONST_VALUE_HINT = re.compile(r"[A-Z][A-Z0-9_]{2,}\s*[:=]")
# Matched against "\n" + text, so that every match starts with a literal newline (re jumps from
# newline to newline instead of trying every position): the same matches and groups as the r"^\s*..."
# (re.M) form over the text itself (the "\n" stands for the line start; a match never ends at a line
# start that a next one could begin at without that newline, as its \s* would take it)
_CONST_VALUE = re.compile(r"\n\s*(?:export\s+)?(?:const|let|var|final|static)?\s*([A-Z][A-Z0-9_]{2,})\s*[:=]\s*([^;\n,{}\[\]()]{1,24}?|\[[^\]\n]{1,24}\]|\([^)\n]{1,24}\))\s*[;,]?\s*(?:(?://|#).*)?$", re.M)
_RM = re.compile(r"^\s*(?:git rm|rm|del|Remove-Item)(?:\s+-\w+)*\s+(.+)$")


def _turn_commits(tr: Transcript, t: Turn) -> list[tuple[str, str]]:
    if not tr.commits:  # most sessions show no commit
        return []
    ids = [m.id for m in t.items if isinstance(m, MessageRecord)] + [a.result.id for a in t.actions if a.result is not None]
    return [c for i in ids for c in tr.commits.get(i, [])]


def _turn_facts(t: Turn, root: str | None) -> tuple[list[str], list[str], list[Action]]:
    """Files changed in a turn (incl. shell deletions), constants defined, and the edit actions."""
    files: list[str] = []
    edits = t.edits
    for a in edits:
        for f in a.files:
            sp = short_path(f, root)
            if sp not in files:
                files.append(sp)
    consts: list[str] = []
    for a in edits[:12]:
        for _, new in a.edits:
            head = new[:6000]
            if _CONST_VALUE_HINT.search(head) is None:
                continue
            for m in _CONST_VALUE.finditer("\n" + head):
                c = f"{m.group(1)} = {m.group(2).strip()}"
                if m.group(2).strip() and c not in consts and len(consts) < 4:
                    consts.append(c)
    return files, consts, edits


def _deleted_in(t: Turn) -> list[Action]:
    out = []
    for a in t.actions:
        if a.family == "shell" and a.status in ("ok", "unknown") and _RM.match(one_line(a.command)):
            out.append(a)
    return out


# whether a word starts with one of these (r"\b(?:instead|...)\w*" matches wherever this does)
_CHANGE_CUE = _Cues(re.compile(
    r"\b(?:instead|switch|migrat|replac|refactor|use|move|convert|upgrad|drop|remov|merg|combin|simplif|rewrite)", re.I))


def _shows_change(described: str) -> bool:
    """Whether describe() read something off an edit: not "" (no file) nor "edited <file>"."""
    return bool(described) and not described.startswith("edited ")


def turn_changes(tr: Transcript, session) -> list[Candidate]:
    """For each request that led to edits: what changed, where and why (the user's ask + the replies'
    own account of the change + what the edits themselves show: new names, constants, deletions)."""
    out: list[Candidate] = []
    root = _root(tr, session)
    for t in tr.turns:
        files, consts, edits = _turn_facts(t, root)
        deletions = _deleted_in(t)
        if not edits and not deletions:
            continue
        last_pos = max([a.use.position for a in edits + deletions])
        texts: list[tuple[str, float]] = []
        for m in t.texts:
            texts.append((m.text, 0.8 if m.position > last_pos else -0.5))
        commits = _turn_commits(tr, t)
        scored = _scored_items(texts, t.request)
        strong = bool(scored) and max(x[0] for x in scored) >= 4.5
        for i, (h, msg) in enumerate(commits[-4:]):
            scored.append((3.0, 10_000 + i, f"{msg} ({h[:7]})"))
        task = _task_turn(tr, t) if t.user else t
        gist = _turn_gist(task, 90) if task.user else ""
        spec = _request_spec(t.request, _turn_gist(task, 1000)) if t.user and task is t and not strong else []
        if spec:
            scored.extend((3.0 + (1.0 if _DIGIT.search(line) else 0.0) + (0.5 if _CODEISH.found(line) else 0.0), -100 + i, line)
                          for i, line in enumerate(spec))
        groups = _chunks(scored, 228, 5)
        asked_change = None
        extras: list[str] = []
        new_names: list[str] = []
        for a in edits[:8]:
            for n in _added_names(a):
                if n not in new_names:
                    new_names.append(n)
        if consts:
            extras.append("constants " + ", ".join(consts))
        for d in deletions:
            m = _RM.match(one_line(d.command))
            if m:
                extras.append("deleted " + ", ".join(base(x) for x in m.group(1).split() if not x.startswith("-")))
        if not groups:
            gists = []
            for a in edits:
                g = describe(a, root)
                if _shows_change(g) and g not in gists:
                    gists.append(g)
            groups = [gists[i: i + 3] for i in range(0, min(len(gists), 6), 3)] if gists else []
        if not groups and extras:
            groups = [[]]
        for k, items in enumerate(groups):
            head = clip(gist, 70)
            body = join_clauses(items, 300 - len(head))
            if k == 0:
                more = [e for e in extras if e not in body]
                if new_names:
                    fresh = [n for n in new_names if n not in body][:4]
                    if fresh:
                        more.append("new names " + ", ".join(f"`{n}`" for n in fresh))
                for e in more:
                    if len(body) + len(e) + len(gist) < 320:
                        body = (body + "; " + e) if body else e
            mentioned = sum(1 for f in files if base(f) in body)
            files_note = ""
            if k == 0 and files and mentioned < min(2, len(files)):
                files_note = f" (files: {human_list([base(f) for f in files], 4)})"
            text = (f"{head}: " if head else "Changes: ") + body + files_note
            # (a cue word in request + " " + body is one in either part: none holds a space)
            if asked_change is None:
                asked_change = _CHANGE_CUE.search(t.request) is not None
            kind = "decision" if asked_change or _CHANGE_CUE.search(body) else "fact"
            quality = _line_score(scored, items) if items else 3.0
            score = 0.52 + 0.03 * min(5, len(edits)) + 0.03 * min(8.0, quality) + (0.05 if k == 0 else 0.0)
            msgs = list(t.user) + [a.use for a in (edits + deletions)[:4]]
            if t.texts:
                msgs.append(t.texts[-1])
            cand = _cand(text, kind, "project", 0.6, score, msgs, (t.user[0].position if t.user else last_pos) + k, key=f"turn{t.index}:chg{k}")
            cand.core = body
            out.append(cand)
    return out


_WORD3_ANY = re.compile(r"\w{3,}")
_CAPS = re.compile(r"\b[A-Z]{2,}\b")


def _request_spec(request: str, gist: str) -> list[str]:
    """The concrete lines of a detailed request (numbers, names, files): the spec the edits implement."""
    out: list[str] = []
    gist_words = None
    for kind, line in lines_of(request):
        line = line.strip(" -•\t")
        if len(line) < 8 or line.rstrip("?.!:") in gist or gist.startswith(line[:40]):
            continue
        if not (_CODEISH.found(line) or _DIGIT.search(line) or _CAPS.search(line)):
            continue
        lw = set(_WORD3_ANY.findall(line.lower()))
        if lw:
            if gist_words is None:
                gist_words = set(_WORD3_ANY.findall(gist.lower()))
            if len(lw & gist_words) > 0.6 * len(lw):
                continue
        out.append(clip(line, 100))
        if len(out) == 8:
            break  # (the lines after these are not given back)
    return out


_FINDING = Gate(
    r"\b(?:I(?:'ve| have)? (?:confirmed|found|located|verified|identified|traced)|turns out|the (?:root )?cause|"
    r"is (?:decided|determined|computed|set|defined|handled|generated|built|configured) (?:in|by)|is caused by|"
    r"the reason (?:is|was)|(?:currently|right now) (?:it|the|this)\b)"
    r"|确认|確認|定位到|原因是|原因在|实际上|實際上|目前被|现在也|現在也|发现|發現",
    ("confirmed", "found", "located", "verified", "identified", "traced", "turns out", "cause", "decided", "determined",
     "computed", " set ", "defined", "handled", "generated", "built", "configured", "reason", "currently", "right now",
     "确认", "確認", "定位到", "原因", "实际上", "實際上", "目前被", "现在也", "現在也", "发现", "發現"),
)
_OBSERVATION = _Cues(re.compile(
    r"\bI (?:noticed|see|saw|found|realized)\b|\bit (?:seems|looks like)\b|\bthere'?s a bug\b|注意到|发现|發現|看到|为什么会|為什麼會",
    re.I,
))


def findings(tr: Transcript, session) -> list[Candidate]:
    """What the assistant established while investigating: where something is decided, what causes it."""
    out: list[Candidate] = []
    for t in tr.turns:
        for m in t.texts:
            sents = [s for s in sentences(m.text) if len(s) >= 30 and not s.endswith("?")]
            for sent, gate_open in zip(sents, _FINDING.open_each(sents)):
                # (_FINDING.search(sent): the gate, then the regex)
                if not gate_open or not _FINDING.rx.search(sent) or not _CODEISH.found(sent):
                    continue
                if re.search(r"\b(?:found|there are|there were) \d+ (?:\w+ )?(?:files?|matches|results|occurrences|markdown|reports?|documents?)", sent, re.I):
                    continue
                text = f"Finding: {defluff(clip(sent, 300))}"
                out.append(_cand(text, "fact", "project", 0.5, 0.6, [m], m.position, key=f"find{m.id}:{sent[:20]}"))
    return out


_REPORT_LABEL = re.compile(
    r"^(?:root cause|cause|causes|finding|findings|diagnosis|conclusion|summary|problem|the problem|issue|what'?s happening|"
    r"why|explanation|where (?:the )?data is lost|impact|result|recommendation|recommended fix|solution|fix|proposed fix|"
    r"potential solution(?: approach(?:es)?)?|next steps?|key (?:finding|insight)s?|bottom line|tl;?dr)\b",
    re.I,
)


def reports(tr: Transcript, session) -> list[Candidate]:
    """Long replies that report an investigation: the lines under 'Root cause', 'Findings', 'Solution'...
    labels, prefixed with the section they belong to ('Issue 1: "Lines 0" in titles')."""
    out: list[Candidate] = []
    for t in tr.turns:
        for m in t.texts:
            if len(m.text) < 1200:
                continue
            section = ""
            label = ""
            taken: list[str] = []
            n = 0

            def flush() -> None:
                nonlocal taken, n
                if label and taken:
                    head = f"{section} — {label}" if section and section.lower() != label.lower() else label
                    text = f"{clip(head, 80)}: {join_clauses(taken, 230, ' ')}"
                    kind = "todo" if re.search(r"solution|fix|recommend|next", label, re.I) and not t.edits else "fact"
                    tier = "session" if kind == "todo" else "project"
                    out.append(_cand(text, kind, tier, 0.55, 0.64 - 0.01 * n, [m], m.position + n, key=f"rep{m.id}:{n}"))
                    n += 1
                taken = []

            for kind, line in lines_of(m.text):
                bare = line.rstrip(":").strip()
                is_label = bool(_REPORT_LABEL.match(bare)) and len(bare) < 40 and (line.endswith(":") or kind == "heading")
                if kind == "heading" or is_label:
                    flush()
                    if is_label:
                        label = bare
                    else:
                        section, label = clip(line, 60), ""
                    continue
                if label and len(taken) < 3 and sum(len(x) for x in taken) < 220 and len(line) > 15:
                    taken.append(clip(line, 160))
            flush()
    return out


_COMPACT_SECTION = re.compile(r"^(?:\d+\.\s*)?([A-Z][\w /&'-]{2,50}):\s*$")
_COMPACT_KIND = (
    (re.compile(r"error|fix|bug|problem", re.I), "bug_fix", "project"),
    (re.compile(r"pending|next step|todo|remaining|unfinished", re.I), "todo", "session"),
    (re.compile(r"decision|technical concept|key concept|constraint|convention", re.I), "fact", "project"),
    (re.compile(r"current work", re.I), "todo", "session"),
)


def compaction(tr: Transcript, session) -> list[Candidate]:
    """Compaction summaries ('This session is being continued ...'): their 'Errors and fixes', 'Pending
    tasks', 'Key technical concepts' sections are the assistant's own recap of what matters."""
    out: list[Candidate] = []
    for m in tr.messages:
        text = m.text or ""
        if not (m.kind == "summary" or text.lstrip().startswith("This session is being continued")) or len(text) < 300:
            continue
        section: tuple | None = None
        name = ""
        count = 0
        for kind, line in lines_of(text):
            head = _COMPACT_SECTION.match(line)
            if head or kind == "heading":
                title = (head.group(1) if head else line).strip()
                section = next((x for x in _COMPACT_KIND if x[0].search(title)), None)
                name, count = title, 0
                continue
            if section is None or count >= 3 or len(line) < 20:
                continue
            _, kind_, tier = section
            text_ = f"{name} (from the session's compaction summary): {clip(defluff(line), 260)}"
            out.append(_cand(text_, kind_, tier, 0.6, 0.7 - 0.03 * count, [m], m.position + count, key=f"cmp{m.id}:{name}:{count}"))
            count += 1
    return out


def observations(tr: Transcript, session) -> list[Candidate]:
    """Problems the user pointed out in a turn that changed nothing: still open at the end of it."""
    out: list[Candidate] = []
    for t in tr.turns:
        if not t.user or t.slash or t.edits or len(t.request) > 700:
            continue
        for sent in sentences(t.request):
            clauses = re.split(r"[，,；;]", sent) if is_cjk(sent) else [sent]
            for i, c in enumerate(clauses):
                if _OBSERVATION.search(c):
                    span = "，".join(clauses[i: i + 3]) if is_cjk(sent) else c
                    text = f"User-reported problem (not fixed in this session): {clip(span.strip(), 200)}"
                    out.append(_cand(text, "todo", "session", 0.5, 0.62, list(t.user), t.user[0].position, key=f"obs{t.index}:{i}:{sent[:10]}"))
                    break
    return out[:3]


_DOC_META = re.compile(r"^_?(?:last updated|updated|date|author|status)\b", re.I)
_DOC_SUMMARY = re.compile(
    r"\b(?:executive|summary|recommend\w*|conclusion|decision|tl;?dr|overview|final|verdict|key findings?|implementation (?:guidance|plan)|phases?|roadmap)\b",
    re.I,
)


def doc_summaries(tr: Transcript, session) -> list[Candidate]:
    """The conclusion of a Markdown document the session wrote (executive summary, recommendation...)."""
    out: list[Candidate] = []
    root = _root(tr, session)
    for a in tr.actions:
        if a.family != "edit" or a.status not in ("ok", "unknown") or not a.files or not a.files[0].lower().endswith((".md", ".markdown", ".rst", ".txt")):
            continue
        new = "\n".join(e[1] for e in a.edits)
        if len(new) < 400:
            continue
        found = 0
        heading = ""
        grab = False
        taken: list[str] = []
        for kind, line in lines_of(new) + [("heading", "")]:
            if kind == "heading":
                if grab and taken:
                    body = join_clauses(taken, 260, " ")
                    kind_ = "decision" if re.search(r"recommend|decision|conclusion", heading, re.I) else "fact"
                    text = f"{short_path(a.files[0], root)} ({clip(heading, 40)}): {body}"
                    out.append(_cand(text, kind_, "project", 0.6, 0.68 - 0.04 * found, [a.use], a.use.position + found, key=f"docsum{a.use.id}:{found}"))
                    found += 1
                heading = line
                grab = found < 3 and _DOC_SUMMARY.search(line) is not None
                taken = []
                continue
            if grab and kind in ("text", "bullet") and len(line) > 20 and sum(len(x) for x in taken) < 240 \
                    and not _DOC_META.match(line):
                taken.append(clip(line, 200))
    return out


_HTML_ID = re.compile(r'\bid="([\w-]+)"')


def _added_names(a: Action) -> list[str]:
    """Definitions and element ids an edit introduces (functions, classes, constants, HTML ids)."""
    old = "\n".join(e[0] for e in a.edits)
    new = "\n".join(e[1] for e in a.edits)[:6000]
    names = [n for n in defs_in(new, 8) if n not in old]  # a name already in the old text is not new
    if 'id="' in new:
        names += [f"#{n}" for n in _HTML_ID.findall(new) if f'id="{n}"' not in old]
    return names[:5] if a.op == "modify" else names[:3]


_EDIT_REASON = _AsciiGate(re.compile(
    r"\b(?:fix(?:es|ed)?|to match|so that|because|instead of|avoid|prevent|warning|error|bug|mismatch|deprecated|globally|"
    r"accessible|compatib\w*|broken|wrong)\b",
    re.I,
), ("fix", "to match", "so that", "because", "instead of", "avoid", "prevent", "warning", "error", "bug", "mismatch",
    "deprecated", "globally", "accessible", "compatib", "broken", "wrong"), split=True)
_READING = re.compile(r"^(?:Read|Let me (?:read|check|look)|Looking)\b")
_LET_ME = re.compile(r"^(?:now |so )?(?:let me|i'?ll|i will|i need to|we need to)\s+", re.I)


def edit_reasons(tr: Transcript, session) -> list[Candidate]:
    """A small edit joined with the sentence that announced it ('make removeModel global because ...')."""
    out: list[Candidate] = []
    root = _root(tr, session)
    for t in tr.turns:
        for idx, item in enumerate(t.items):
            if not isinstance(item, Action) or item.family != "edit" or item.status not in ("ok", "unknown") or len(item.edits) != 1:
                continue
            old, new = item.edits[0]
            if not old or not new:
                continue
            sc = small_change(old, new, 80)
            if not sc:
                continue
            why = ""
            source = None
            for prev in reversed(t.items[max(0, idx - 3): idx]):
                if isinstance(prev, MessageRecord) and prev.role == "assistant" and prev.kind in ("text", "thinking"):
                    source = prev
                    for sent in sentences(prev.text):
                        if len(sent) > 20 and _EDIT_REASON.search(sent) and not _READING.match(sent):
                            why = clip(defluff(sent), 150)
                            break
                if why:
                    break
            if not why:
                continue
            why = _LET_ME.sub("", why)
            why = why[:1].upper() + why[1:]
            text = f"{short_path(item.files[0], root)}: {sc} — {why.rstrip(':.')}"
            out.append(_cand(text, "fact", "project", 0.55, 0.58, [item.use, source], item.use.position, key=f"er{item.use.id}"))
    return out


def bug_fixes(tr: Transcript, session) -> list[Candidate]:
    out: list[Candidate] = []
    root = _root(tr, session)
    acts = tr.actions
    # 1. a failing command, edits, the same command passing
    used: set[int] = set()
    for i, a in enumerate(acts):
        if a.family != "shell" or a.status != "fail" or a.use.id in used:
            continue
        key = _cmd_key(a.command)
        if not key:
            continue
        fix_edits: list[Action] = []
        passed = None
        for b in acts[i + 1:]:
            if b.family == "edit" and b.status not in ("rejected", "misuse", "fail"):
                fix_edits.append(b)
            elif b.family == "shell" and _cmd_key(b.command) == key:
                if b.status == "ok":
                    passed = b
                    break
                used.add(b.use.id)
                a_last = b  # keep the latest failure as the one fixed
                a = a_last
        if passed is None or not fix_edits:
            continue
        gists = []
        for e in fix_edits[-3:]:
            g = describe(e, root)
            if g and g not in gists:
                gists.append(g)
        err = clip(a.reason or error_line(a.output), 110)
        text = f"`{clip(one_line(a.command), 70)}` failed with `{err}`; fixed by {join_clauses(gists, 160, '; ')} — the re-run passed"
        msgs = [a.use, a.result, fix_edits[-1].use, passed.use, passed.result]
        out.append(_cand(text, "bug_fix", "project", 0.85, 0.9, msgs, a.use.position, key=f"fix{a.use.id}"))
    # 2. the user reports a problem and the turn edits code
    for t in tr.turns:
        if not t.user or not t.edits or not _BUG_REPORT.search(t.request):
            continue
        after = [m for m in t.texts if m.position > t.edits[-1].use.position] or t.texts[-1:]
        items = _summary_items([m.text for m in after], 160)
        commits = _turn_commits(tr, t)
        if commits:
            items = [f"{msg} ({h[:7]})" for h, msg in commits[-2:]] + items[:1]
        if not items:  # what the edits show, past what "Fixed in <files>" says
            items = [d for d in (describe(e, root) for e in t.edits[:2]) if _shows_change(d)]
        files = human_list(list(dict.fromkeys(base(f) for e in t.edits for f in e.files)), 3)
        fix = join_clauses(items, 200)
        if not files and not fix:
            continue  # nothing to say about the fix
        text = f"Problem: {_turn_gist(t, 110)}. Fixed" + (f" in {files}" if files else "") + (f": {fix}" if fix else "")
        msgs = list(t.user) + [t.edits[-1].use] + after[-1:]
        out.append(_cand(text, "bug_fix", "project", 0.6, 0.78, msgs, t.user[0].position, key=f"turn{t.index}:bug"))
    # 3. the assistant names a bug / cause and then edits
    for t in tr.turns:
        for idx, item in enumerate(t.items):
            if not (isinstance(item, MessageRecord) and item.role == "assistant" and item.kind == "text"):
                continue
            later_edits = [x for x in t.items[idx + 1: idx + 8] if isinstance(x, Action) and x.family == "edit"
                           and x.status not in ("rejected", "misuse", "fail")]
            if not later_edits:
                continue
            sents = [s for s in sentences(item.text) if not s.endswith("?") and len(s) > 25]
            # (_BUG_FOUND.search(s): the gate, then the regex)
            hits = [s for s, gate_open in zip(sents, _BUG_FOUND.open_each(sents)) if gate_open and _BUG_FOUND.rx.search(s)
                    and (_CODEISH.found(s) or _HEX_COLOR.search(s))]
            if not hits:
                continue
            e = later_edits[0]
            fix = describe(e, root)
            if not _shows_change(fix):
                continue  # nothing to say what the fix was
            why = join_clauses([defluff(h) for h in hits[:2]], 190, " ")
            text = f"{why} Fix: {fix}"
            out.append(_cand(text, "bug_fix", "project", 0.6, 0.74, [item, e.use], item.position, key=f"bugfound{item.id}"))
    return out


_HEX_COLOR = re.compile(r"#[0-9a-f]{3,6}\b")


@lru_cache(maxsize=4096)
def _cmd_key(cmd: str) -> str:
    c = one_line(cmd)
    c = re.sub(r"^(?:cd \S+\s*&&\s*)+", "", c)
    c = re.sub(r"\s*(?:2>&1|\|\s*(?:head|tail|tee|grep|less|cat)\b.*)$", "", c)
    c = re.sub(r"\s+", " ", c).strip()
    return c[:200]


def _covers(later: str, key: str) -> bool:
    """Whether the command `later` runs at least what `key` runs: the same command, or `key` with
    its trailing arguments (files, filters) left out."""
    return later == key or (key.startswith(later) and key[len(later)] == " " and _cmd_kind(later) == _cmd_kind(key))


def abandoned(tr: Transcript, session) -> list[Candidate]:
    out: list[Candidate] = []
    root = _root(tr, session)
    acts = tr.actions
    created: dict[str, Action] = {}
    for a in acts:
        if a.family == "edit" and a.op in ("write", "create") and a.status == "ok":
            for f in a.files:
                created.setdefault(base(f), a)
    # 1. created then deleted
    for a in acts:
        gone: list[str] = []
        if a.family == "edit" and a.op == "delete" and a.status == "ok":
            gone = [base(f) for f in a.files]
        elif a.family == "shell" and a.status in ("ok", "unknown"):
            m = _GIT_RM.match(one_line(a.command))
            if m:
                gone = [base(p) for p in m.group(1).split() if not p.startswith("-")]
        for g in gone:
            c = created.get(g)
            if c is None or c.use.position >= a.use.position:
                continue
            reason = _reason_near(tr, a)
            text = f"{g} was created in this session and later deleted" + (f": {reason}" if reason else "")
            out.append(_cand(text, "failed_approach", "project", 0.6, 0.72, [c.use, a.use], a.use.position, key=f"del{g}"))
    # 2. an edit reverted by a later one
    edits = [a for a in acts if a.family == "edit" and a.status in ("ok", "unknown") and a.edits and a.files
             and a.edits[0][0].strip() and a.edits[0][1].strip()]
    # an edit B undoes an earlier A when B's (old, new) is A's (new, old): look it up instead of comparing all pairs
    seen: dict[tuple[str, str, str], Action] = {}
    for b in edits:
        key_b = (base(b.files[0]), b.edits[0][1].strip(), b.edits[0][0].strip())
        a = seen.get(key_b)
        seen.setdefault((base(b.files[0]), b.edits[0][0].strip(), b.edits[0][1].strip()), b)
        if a is not None:
            ao, an = one_line(a.edits[0][0][:2000]), one_line(a.edits[0][1][:2000])
            reason = _reason_near(tr, b)
            text = f"Reverted in {short_path(a.files[0], root)}: {small_change(ao, an) or describe(a, root)} was undone" + (f" ({reason})" if reason else "")
            out.append(_cand(text, "failed_approach", "project", 0.65, 0.75, [a.use, b.use], b.use.position, key=f"rev{a.use.id}"))
    # 3. dependencies removed (added earlier in the session or not)
    added_deps: set[str] = set()
    for a in acts:
        if a.family == "edit" and a.status in ("ok", "unknown"):
            d = dependency_changes(a)
            if not d:  # (not a manifest, or nothing added or removed)
                continue
            for m in _ADDS.finditer(d):
                added_deps.update(x.split()[0].lower() for x in m.group(1).split(", ") if x)
            m = _REMOVES.search(d)
            if m:
                names = [x.strip() for x in m.group(1).split(",")]
                was_added = [n for n in names if n.lower() in added_deps]
                reason = _reason_near(tr, a)
                text = f"Dependency {', '.join(names)} removed from {base(a.files[0])}" + (" after being added earlier in the session" if was_added else "") + (f": {reason}" if reason else "")
                out.append(_cand(text, "failed_approach" if was_added else "decision", "project", 0.6, 0.7, [a.use], a.use.position, key=f"dep{a.use.id}"))
        if a.family == "shell" and a.status in ("ok", "unknown"):
            cmd = one_line(a.command)
            m = _UNINSTALL.match(cmd)
            if m:
                reason = _reason_near(tr, a)
                text = f"Removed dependency {m.group(1)} with `{cmd}`" + (f": {reason}" if reason else "")
                out.append(_cand(text, "failed_approach", "project", 0.6, 0.7, [a.use], a.use.position, key=f"dep{a.use.id}"))
            if _ROLLBACK.match(cmd):
                reason = _reason_near(tr, a)
                text = f"Changes were rolled back with `{clip(cmd, 80)}`" + (f": {reason}" if reason else "")
                out.append(_cand(text, "failed_approach", "project", 0.55, 0.62, [a.use], a.use.position, key=f"git{a.use.id}"))
    # 4. the user drops an idea ("never mind", "revert that")
    for t in tr.turns:
        if not t.user or not _ABANDON.search(t.request) or t.index == 0:
            continue
        prev = tr.turns[t.index - 1]
        topic = _turn_gist(prev, 120) if prev.user else ""
        reasons = _plan_reasons(prev) or _plan_reasons(t)
        said = clip(one_line(sentences(t.request)[0] if sentences(t.request) else t.request), 60)
        text = f"Dropped idea: {topic or 'the previous proposal'} — the user said \"{said}\""
        if reasons:
            text += f"; the trade-offs noted: {join_clauses(reasons, 150, '; ')}"
        msgs = list(t.user) + list(prev.user) + [a.use for a in prev.actions if a.status == "rejected"][:1]
        out.append(_cand(text, "failed_approach", "project", 0.65, 0.8, msgs, t.user[0].position, key=f"turn{t.index}:drop"))
    # 5. the assistant gives up on something after a failure
    for t in tr.turns:
        last_fail: Action | None = None
        for item in t.items:
            if isinstance(item, Action):
                if item.status == "fail" and item.family in ("shell", "edit"):
                    last_fail = item
                continue
            if last_fail is None or not (isinstance(item, MessageRecord) and item.role == "assistant" and item.kind == "text"):
                continue
            for s in sentences(item.text):
                if re.search(r"\b(?:(?:didn'?t|doesn'?t|won'?t|does not|did not) work|(?:try|use) (?:a )?(?:different|another|alternative) (?:approach|way|method)|"
                             r"instead,? (?:I'?ll|let'?s|we)|fall(?:ing)? back to|switch(?:ing)? to)\b", s, re.I):
                    what = _action_gist(last_fail, root)
                    err = clip(last_fail.reason, 90)
                    text = f"Tried {what}" + (f" (failed: `{err}`)" if err else " (failed)") + f"; {defluff(clip(s, 170))}"
                    out.append(_cand(text, "failed_approach", "project", 0.6, 0.72, [last_fail.use, last_fail.result, item], item.position, key=f"giveup{item.id}"))
                    last_fail = None
                    break
    # 6. commits that remove or revert something (aider and friends)
    by_id = {m.id: m for m in tr.messages if m.id in tr.commits}
    for mid, found in tr.commits.items():
        m = by_id[mid]
        for h, msg in found:
            if re.search(r"\b(?:revert|remove|drop|replace|undo)\b", msg, re.I) and re.search(r"\b(?:dependency|library|lib|package|approach|instead|\.js|\.py)\b", msg, re.I):
                out.append(_cand(f"Commit {h[:7]}: {msg}", "failed_approach", "project", 0.55, 0.66, [m], m.position, key=f"commit{h[:7]}"))
    return out


# abandoned's tests of each command and manifest change (compiled once: a session runs many commands)
_GIT_RM = re.compile(r"^\s*(?:git rm|rm)(?:\s+-\w+)*\s+(.+)$")
_UNINSTALL = re.compile(r"^\s*(?:npm|pnpm|yarn|bun|pip3?|uv|poetry|cargo)\s+(?:uninstall|remove|rm)\s+(.+)$")
_ROLLBACK = re.compile(r"^\s*git (?:revert|reset --hard|checkout -- |restore )")
_ADDS = re.compile(r"adds ([^;]+)")
_REMOVES = re.compile(r"removes ([^;]+)")


def _reason_near(tr: Transcript, a: Action) -> str:
    """A reason given near an action: the assistant's sentence with a cause word, or the user's request."""
    t = tr.turns[a.turn] if a.turn < len(tr.turns) else None
    if t is None:
        return ""
    for m in [x for x in t.items if isinstance(x, MessageRecord) and x.role == "assistant" and x.kind == "text"]:
        if abs(m.position - a.use.position) > 6:
            continue
        for s in sentences(m.text):
            if _CAUSE.search(s) or re.search(r"\b(?:no longer|not needed|unnecessary|unused|instead|obsolete|replaced)\b", s, re.I):
                return clip(defluff(s), 140)
    return ""


def _plan_reasons(t: Turn) -> list[str]:
    """Bullet points under a 'why / challenges / cons' heading of a proposed plan or reply."""
    out: list[str] = []
    texts = [str(a.args.get("plan") or "") for a in t.actions if a.family == "plan"] + [m.text for m in t.texts]
    for text in texts:
        grab = False
        for kind, line in lines_of(text):
            if kind == "heading":
                grab = bool(re.search(r"\b(?:why|challenge|complex|problem|cons|drawback|limitation|issue|trade-?off|risk)", line, re.I))
                continue
            if grab and kind in ("bullet", "text") and len(line) > 10:
                out.append(clip(line, 90))
            if len(out) >= 3:
                return out
    return out


def commands(tr: Transcript, session) -> list[Candidate]:
    """How to work here: build/test/lint/run/install commands that succeeded, hooks, documented commands."""
    found: dict[str, list[tuple[str, Action | MessageRecord, str]]] = {}
    order: list[str] = []
    urls: dict[str, str] = {}

    def add(kind: str, cmd: str, ev, origin: str) -> None:
        cmd = _cmd_key(cmd)
        if not cmd or len(cmd) > 120:
            return
        lst = found.setdefault(kind, [])
        if any(c == cmd for c, _, _ in lst):
            return
        lst.append((cmd, ev, origin))
        if kind not in order:
            order.append(kind)

    for a in tr.actions:
        if a.family != "shell" or a.status not in ("ok",) or not a.command.strip():
            continue
        cmd = _cmd_key(a.command)
        if "\n" in a.command.strip() and len(a.command) > 200:
            continue
        if _TRIVIAL_CMD.match(cmd):
            continue
        kind = _cmd_kind(cmd)
        if kind:
            add(kind, cmd, a, "ran")
            u = _LOCALHOST.search((a.output or "")[:5000])
            if u and kind == "run":
                urls[cmd] = u.group(0).rstrip("/")
    # BashOutput-style follow-ups carry the server URL
    for a in tr.actions:
        if a.result is not None and a.name.lower() in ("bashoutput", "read_output"):
            u = _LOCALHOST.search(a.result.text[:5000])
            if u and found.get("run"):
                urls.setdefault(found["run"][-1][0], u.group(0).rstrip("/"))
    hooks: list[tuple[str, MessageRecord]] = []
    for m in tr.system:
        if "] completed successfully" not in (m.text or ""):  # (in every match)
            continue
        for hm in _HOOK_OK.finditer(m.text):
            cmd = _cmd_key(hm.group(2))
            if cmd and all(cmd != h for h, _ in hooks):
                hooks.append((cmd, m))
    documented: list[tuple[str, Action]] = []
    for a in tr.actions:
        if a.family == "edit" and a.status in ("ok", "unknown") and a.files and is_doc(a.files[0]):
            for new in (e[1] for e in a.edits):
                for block in re.findall(r"```(?:bash|sh|shell|console|zsh)?\n(.*?)```", new, re.S):
                    for ln in block.split("\n"):
                        ln = ln.strip().lstrip("$ ").strip()
                        if ln and not ln.startswith("#") and _cmd_kind(ln) and all(ln != d for d, _ in documented):
                            documented.append((ln, a))
    scripts = _package_scripts(tr)
    out: list[Candidate] = []
    labels = {"install": "install", "run": "run", "build": "build", "test": "test", "check": "lint/type-check"}
    parts: list[str] = []
    evidence: list[MessageRecord] = []
    for kind in ("install", "run", "build", "test", "check"):
        if kind not in found:
            continue
        cmds = []
        for cmd, ev, _ in found[kind][:3]:
            s = f"`{clip(cmd, 70)}`"
            notes = []
            sm = re.match(r"^(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?([\w:-]+)\s*$", cmd)
            if sm and sm.group(1) in scripts and scripts[sm.group(1)] not in cmd:
                notes.append(f"runs {scripts[sm.group(1)]}")
            if cmd in urls:
                notes.append(urls[cmd])
            if notes:
                s += f" ({', '.join(notes)})"
            cmds.append(s)
            if isinstance(ev, Action):
                evidence += [ev.use] + ([ev.result] if ev.result else [])
        parts.append(f"{labels[kind]} with {', '.join(cmds)}")
    pm = _package_manager([c for v in found.values() for c, _, _ in v] + [h for h, _ in hooks])
    who = tr.project or "this project"
    if parts:
        text = f"How to work on {who}: " + "; ".join(parts) + " (these succeeded in the session)"
        if pm and pm not in text:
            text = f"{who} uses {pm}. " + text
        out.append(_cand(text, "convention", "project", 0.75, 0.86, evidence[:6], evidence[0].position if evidence else 0, key="cmds"))
    if hooks:
        text = f"{who} has hooks that run " + ", ".join(f"`{clip(h, 50)}`" for h, _ in hooks[:6]) + " (all completed successfully)"
        msgs = [m for _, m in hooks[:4]]
        out.append(_cand(text, "convention", "project", 0.7, 0.8, msgs, msgs[0].position, key="hooks"))
    if documented:
        text = f"Documented commands for {who}: " + ", ".join(f"`{clip(c, 60)}`" for c, _ in documented[:6])
        msgs = [a.use for _, a in documented[:2]]
        out.append(_cand(text, "convention", "project", 0.55, 0.6, msgs, msgs[0].position, key="doccmds"))
    return out


def _package_scripts(tr: Transcript) -> dict[str, str]:
    """package.json scripts written or edited in the session: name -> command."""
    out: dict[str, str] = {}
    for a in tr.actions:
        if a.family == "edit" and a.files and base(a.files[0]) == "package.json":
            for _, new in a.edits:
                block = re.search(r'"scripts"\s*:\s*\{([^}]*)\}', new)
                for m in re.finditer(r'"([\w:-]+)"\s*:\s*"([^"]{1,80})"', block.group(1) if block else ""):
                    out[m.group(1)] = m.group(2)
    return out


def _cmd_kind(cmd: str) -> str:
    for kind, rx in _CMD_KIND:
        if rx.search(cmd):
            return kind
    return ""


_PM_RX = {pm: re.compile(rf"^(?:\w+=\S+\s+)*{pm}\b") for pm in (
    "pnpm", "yarn", "bun", "npm", "uv", "poetry", "pipenv", "pip", "cargo", "go", "bundle", "composer")}


def _package_manager(cmds: list[str]) -> str:
    for pm in ("pnpm", "yarn", "bun", "npm", "uv", "poetry", "pipenv", "pip", "cargo", "go", "bundle", "composer"):
        if any(map(_PM_RX[pm].match, cmds)):
            return pm
    return ""


# a section of work done ('Test Cards Added', 'Tests passing ✅'), though it names tests
_DONE_HEADING = re.compile(r"\b(?:added|implemented|created|completed|done|fixed|achieved|accomplished|pass(?:ing|ed|es))\b|✅", re.I)
_EXPLAIN_OFFER = re.compile(
    r"\b(?:I can|I could|want me to|like me to)\s+(?:also\s+|further\s+|now\s+)?"
    r"(?:explain|describe|walk you through|clarify|elaborate|go over|show you how|tell you more)\b",
    re.I,
)
_TODO_LISTS = ("todowrite", "update_plan", "write_todos", "todo_write", "update_todo_list")


def plans(tr: Transcript, session) -> list[Candidate]:
    """What was left open: unfinished todo items at the end, next steps in the last reply, failing commands."""
    out: list[Candidate] = []
    state: dict[str, str] = {}
    task_ids: dict[str, str] = {}
    last_plan: Action | None = None
    plan_acts = [a for a in tr.actions if a.family == "plan"]
    # a todo list replaces the state: only the last one with items counts (the others' are never read)
    last_list = -1
    for k in range(len(plan_acts) - 1, -1, -1):
        a = plan_acts[k]
        if a.name.lower() in _TODO_LISTS and a.todos:
            last_list = k
            break
    for k, a in enumerate(plan_acts):
        n = a.name.lower()
        if n in _TODO_LISTS:
            if k != last_list:
                continue
            state = {item: status for item, status in a.todos}
            last_plan = a
        elif n == "taskcreate":
            subject = one_line(str(a.args.get("subject") or a.args.get("description") or ""))
            if subject:
                m = re.search(r"#(\d+)", a.output)
                tid = m.group(1) if m else str(len(task_ids) + 1)
                task_ids[tid] = subject
                state[subject] = "pending"
                last_plan = a
        elif n == "taskupdate":
            tid = str(a.args.get("taskId") or a.args.get("id") or "")
            if tid in task_ids and a.args.get("status"):
                state[task_ids[tid]] = str(a.args["status"]).lower()
                last_plan = a
    open_items = [i for i, s in state.items() if s not in ("completed", "complete", "done", "cancelled", "canceled", "deleted")]
    if open_items and last_plan is not None:
        text = "Unfinished when the session ended: " + join_clauses(open_items, 300, "; ")
        out.append(_cand(text, "todo", "session", 0.7, 0.8, [last_plan.use], last_plan.use.position, key="todos"))
    # next steps in the final reply
    final = None
    for t in reversed(tr.turns):
        if t.texts:
            final = t.texts[-1]
            break
    if final is not None:
        items: list[str] = []
        grab = False
        for kind, line in lines_of(final.text):
            if kind == "heading":
                grab = bool(re.search(r"\b(?:next|todo|to do|remaining|follow|known|limitation|test|verify|what'?s left|open)\b", line, re.I)
                            and not _DONE_HEADING.search(line))
                continue
            if _EXPLAIN_OFFER.search(line):
                continue  # an offer to explain more leaves no work open
            if grab and len(line) > 8:
                items.append(clip(defluff(line), 110))
            elif len(line) > 15 and _NEXT.search(line):
                items.append(clip(defluff(line), 160))
        if items:
            text = "Left open at the end of the session: " + join_clauses(items, 290, "; ")
            out.append(_cand(text, "todo", "session", 0.5, 0.62, [final], final.position, key="next"))
    # a command that failed and never passed afterwards
    acts = tr.actions
    for i, a in enumerate(acts):
        if a.family == "shell" and a.status == "fail" and _cmd_kind(_cmd_key(a.command)) in ("test", "build", "check"):
            key = _cmd_key(a.command)
            if any(b.family == "shell" and b.status == "ok" and _covers(_cmd_key(b.command), key) for b in acts[i + 1:]):
                continue  # passed later: the same command, or a wider run of it (`pnpm test` after `pnpm test -- x.ts`)
            if any(b.family == "shell" and _cmd_key(b.command) == key for b in acts[i + 1:]):
                continue
            text = f"Still failing at the end of the session: `{clip(one_line(a.command), 80)}` ({clip(a.reason, 120)})"
            out.append(_cand(text, "todo", "session", 0.6, 0.7, [a.use, a.result], a.use.position, key=f"stillfail{key[:40]}"))
    return out


_QMARKS = frozenset("?？嗎吗")  # what r"[?？]\s*$|[嗎吗]\s*$" finds: one of these, then only white space


_QA_WORD = re.compile(r"[\w.-]{4,}|[\u4e00-\u9fff]{2}")
_ANNOUNCE = re.compile(r"^(?:I'?ll|I will|Let me|Now|Let's)\b")
_NEED_MORE = re.compile(r"\bI (?:would|will|'d) need\b|\bto better answer\b", re.I)


def decisions(tr: Transcript, session) -> list[Candidate]:
    """Choices between offered options, and answers to the user's direct questions."""
    out: list[Candidate] = []
    root = _root(tr, session)
    for t in tr.turns:
        if not t.user or t.slash or t.index == 0:
            continue
        if len(t.request) > 80:
            continue
        m = _CHOICE.match(one_line(t.request))
        if not m:
            continue
        prev = tr.turns[t.index - 1]
        offered: list[str] = []  # the options of the previous reply (looked for only after a choice)
        for msg in prev.texts[-2:]:
            for om in _OPTION.finditer(msg.text):
                label = one_line(next(g for g in om.groups() if g)).strip(" :")
                if label and label not in offered:
                    offered.append(clip(label, 40))
        if len(offered) < 2:
            continue
        choice = re.sub(r"^(?:also|then|just|with|the)\s+", "", m.group(1).strip(), flags=re.I)
        rest = [o for o in offered if choice.lower() not in o.lower()]
        did = [describe(a, root) for a in t.edits[:3]]
        topic = ""
        for msg in prev.texts[-2:]:
            long_enough = [x for x in sentences(msg.text) if len(defluff(x)) > 25]
            if long_enough:
                topic = clip(defluff(long_enough[0]), 120)
                break
        text = f"Chose {choice} (\"{clip(one_line(t.request), 50)}\")" + (f" over {human_list(rest, 3)}" if rest else "")
        if topic:
            text += f" — context: {topic}"
        if did:
            text += f"; then {join_clauses(did, 150, '; ')}"
        msgs = list(t.user) + prev.texts[-1:] + [a.use for a in t.edits[:2]]
        out.append(_cand(text, "decision", "project", 0.7, 0.84, msgs, t.user[0].position, key=f"turn{t.index}:choice"))
    # questions the user asked, with the assistant's answer
    for t in tr.turns:
        if not t.user or t.slash:
            continue
        qs = [s for s in sentences(t.request) if s.rstrip()[-1:] in _QMARKS and len(s) > 12
              and not re.match(r"^(?:can|could|would|will) you\b|^(?:do you think|would there be|is there)\b.*\b(?:way|solution)\b", s, re.I)]
        if not qs or not t.texts:
            continue
        # per answer sentence: its words, and (once asked for) the bonus for a cause / a code name
        answer: list[list] = [[s, {w.lower() for w in _QA_WORD.findall(s)}, None] for m in t.texts for s in sentences(m.text)]
        for q in qs[:2]:
            words = {w.lower() for w in _QA_WORD.findall(q)}
            best, best_score = "", 0.0
            for item in answer:
                s, sw, bonus = item
                overlap = len(words & sw)
                if not overlap:
                    continue
                if bonus is None:
                    bonus = item[2] = (1.0 if _CAUSE.search(s) else 0) + (0.5 if _CODEISH.found(s) else 0)
                sc = overlap + bonus
                if (sc > best_score and len(s) > 20 and not s.endswith(("?", ":")) and not _ANNOUNCE.match(s)
                        and not _NEED_MORE.search(s)):
                    best, best_score = s, sc
            if best and best_score >= 2:
                text = f"Q: {clip(one_line(q), 120)} A: {clip(defluff(best), 200)}"
                out.append(_cand(text, "fact", "project", 0.5, 0.58, list(t.user) + t.texts[-1:], t.user[0].position, key=f"qa{t.index}:{q[:20]}"))
    return out


def doc_facts(tr: Transcript, session) -> list[Candidate]:
    """Bullets the session wrote into CLAUDE.md / AGENTS.md / README under constraint-like headings,
    as they stand at the end (a bullet a later edit replaced is dropped), two to a statement."""
    out: list[Candidate] = []
    docs = [a for a in tr.actions if a.family == "edit" and a.status in ("ok", "unknown") and a.files and is_doc(a.files[0])]
    sections: dict[tuple[str, str], tuple[list[str], Action]] = {}
    for i, a in enumerate(docs):
        later_old = " ".join(ln for b in docs[i + 1:] if base(b.files[0]) == base(a.files[0]) for e in b.edits for _, ln in lines_of(e[0]))
        later_new = " ".join(ln for b in docs[i + 1:] if base(b.files[0]) == base(a.files[0]) for e in b.edits for _, ln in lines_of(e[1]))
        for new in (e[1] for e in a.edits):
            heading = ""
            grab = False
            for kind, line in lines_of(new):
                if kind == "heading":
                    heading = line
                    grab = bool(re.search(r"\b(?:constraint|convention|architecture|important|rule|guideline|gotcha|pattern|note|caveat|requirement|key|command|development|setup)", line, re.I))
                    continue
                if not grab or kind not in ("bullet", "text") or not _CODEISH.found(line) or len(line) < 25:
                    continue
                probe = line[:40]
                if probe in later_old and probe not in later_new:
                    continue  # replaced later in the session
                key = (base(a.files[0]), heading)
                lst, _ = sections.setdefault(key, ([], a))
                if all(probe != x[:40] for x in lst):
                    lst.append(clip(line, 140))
    per_doc: dict[str, int] = {}
    for (doc, heading), (bullets, a) in sections.items():
        for j in range(0, min(len(bullets), 6), 2):
            per_doc[doc] = per_doc.get(doc, 0) + 1
            if per_doc[doc] > 4:
                break
            pair = bullets[j: j + 2]
            text = f"{doc} ({clip(heading, 40)}): " + "; ".join(pair)
            out.append(_cand(text, "convention" if re.search(r"convention|rule|guideline|command", heading, re.I) else "fact",
                             "project", 0.5, 0.52 - 0.02 * j, [a.use], a.use.position, key=f"doc{doc}{heading}{j}"))
    return out


_OPTION_NAME = re.compile(r"[:—–-]\s")
_SUGGEST = _AsciiGate(re.compile(
    r"\b(?:suggest\w*|ideas?|could (?:also )?add|enhance\w*|improvements?|features? (?:you|we) could|would you like|options?|consider adding)\b",
    re.I,
), ("suggest", "idea", "could ", "enhance", "improvement", "feature", "would you like", "option", "consider adding"), split=True)


def suggestions(tr: Transcript, session) -> list[Candidate]:
    """Ideas the assistant listed that the user did not take up in the next request: open options."""
    out: list[Candidate] = []
    for t in tr.turns[:-1]:
        if t.edits or not t.texts:
            continue
        reply = t.texts[-1].text
        # an option is named in a few words, then described ("Dark mode: a toggle in ..."); bullets
        # that are sentences, or steps without a description, explain
        named = [_OPTION_NAME.split(line, maxsplit=1) for kind, line in lines_of(reply) if kind == "bullet" and len(line) > 8]
        heads = [parts[0] for parts in named if len(parts) == 2 and len(parts[0].split()) <= 8]
        if len(heads) < 3 or not _SUGGEST.search(reply):
            continue
        nxt = tr.turns[t.index + 1]
        if not nxt.user or len(nxt.request) > 300:
            continue
        ask = nxt.request.lower()
        taken, left = [], []
        for head in heads:
            words = [w for w in re.findall(r"[a-z]{4,}", head.lower()) if w not in ("with", "that", "this", "from", "your", "their", "simple", "each")]
            (taken if words and any(w in ask for w in words) else left).append(clip(head, 60))
        if not taken or not left:
            continue
        text = f"Suggested but not taken up (the user chose {human_list(taken, 3)}): {human_list(left, 5)}"
        out.append(_cand(text, "todo", "session", 0.45, 0.55, [t.texts[-1]] + list(nxt.user), t.texts[-1].position, key=f"sugg{t.index}"))
    return out


_VERIFIED = _AsciiGate(re.compile(
    r"\b(?:no (?:automated )?tests?(?: (?:were|was))? (?:run|exist|available)|(?:not|wasn'?t|weren'?t|couldn'?t be|cannot be|can'?t be) "
    r"(?:run|tested|verified)|untested|open `?[\w./-]+\.html`? (?:directly )?in (?:a|your) (?:web )?browser|manual(?:ly)? (?:test|check|verif)\w*|"
    r"there (?:is|are) no (?:test|tests|test suite))",
    re.I,
), ("test", "run", "verified", "browser", "manual"), split=True)


def verification(tr: Transcript, session) -> list[Candidate]:
    """How the work was (or was not) verified: 'no automated tests; open index.html in a browser'."""
    out: list[Candidate] = []
    rx = _VERIFIED
    for t in tr.turns:
        for m in t.texts[-1:]:
            for sent in sentences(m.text):
                if len(sent) < 300 and rx.search(sent):
                    text = f"Verification in {tr.project or 'this project'}: {defluff(clip(sent, 220))}"
                    out.append(_cand(text, "fact", "project", 0.5, 0.56, [m], m.position, key="verify"))
                    return out
    return out


def config_changes(tr: Transcript, session) -> list[Candidate]:
    """Small edits to manifests and version files, shown exactly: these are the facts people look up later."""
    out: list[Candidate] = []
    root = _root(tr, session)
    for a in tr.actions:
        if a.family != "edit" or a.status not in ("ok", "unknown") or not a.files or not is_config(a.files[0]):
            continue
        g = describe(a, root)
        if not g or g.startswith(("edited ", "created ")):
            continue
        t = tr.turns[a.turn] if a.turn < len(tr.turns) else None
        why = ""
        if t is not None and t.user:
            task = _task_turn(tr, t)
            why = _clause_naming(base(a.files[0]), t.request) or _clause_naming(base(a.files[0]), task.request) or _turn_gist(task, 90)
        text = g + (f" (asked: {clip(why, 110)})" if why else "")
        out.append(_cand(text, "decision", "project", 0.65, 0.7, [a.use] + (list(t.user[:1]) if t is not None else []), a.use.position, key=f"cfg{a.use.id}"))
    return out


def _clause_naming(name: str, text: str) -> str:
    """The clause of `text` that mentions `name` (a file), or ''."""
    if not name or name not in text:
        return ""
    for part in re.split(r"(?<=[.!?])\s+|(?<=[。！？\n])|[，,；;]", text):
        if name in part and len(part.strip()) > len(name) + 3:
            return one_line(part)
    return ""


def overview(tr: Transcript, session) -> list[Candidate]:
    first = next((t for t in tr.turns if t.user), None)
    if first is None:
        return []
    files: list[str] = []
    for a in tr.actions:
        if a.family == "edit" and a.status in ("ok", "unknown"):
            for f in a.files:
                if base(f) not in files:
                    files.append(base(f))
    asks: list[str] = []  # the gists of the first three requests (the others' are not worked out)
    for t in tr.turns:
        if t.user and not t.slash and len(t.request) > 15:
            asks.append(_turn_gist(t, 60))
            if len(asks) == 3:
                break
    if not asks or (not files and len(asks) < 2):
        return []
    text = f"Session on {tr.project or 'this project'}: " + "; then ".join(a for a in asks if a)
    if files:
        text += f" (edited {human_list(files, 5)})"
    return [_cand(text, "fact", "session", 0.5, 0.4, list(first.user), first.user[0].position, key="overview")]


GENERATORS = (
    corrections, requirements, turn_changes, edit_reasons, bug_fixes, abandoned, commands, plans, decisions,
    config_changes, doc_facts, doc_summaries, suggestions, verification, findings, reports, compaction, observations,
    overview,
)
