"""What an edit did, in a few words: the file, the definitions it touched, a small before/after."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from .textutil import clip, one_line
from .transcript import Action

# Definitions at line starts: 'def f', 'export async function f', 'const f = (...) =>', 'x.f = function',
# 'f(...) {'. Matched against "\n" + text so that every match starts with a literal newline (the
# regex engine then jumps from newline to newline instead of trying every position); the leading
# whitespace and the names are possessive (what follows them can never be whitespace / a name
# character, so giving some back could not help). Same matches and groups as the plain
# `^\s*(?:...)|^\s*...|^[ \t]{0,12}...` (re.M) form over the text itself.
_DEF = re.compile(
    r"\n(?:\s*+(?:"
    r"(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:def|class|function\*?|fn|func|interface|type|struct|enum|trait|impl)\s+"
    r"(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)"
    r"|(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*+)\s*=\s*(?:async\s*)?(?:function\b|\([^)]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)"
    r"|(?:window\.)?([A-Za-z_$][\w$.]*+)\s*=\s*(?:async\s+)?function\b)"
    r"|[ \t]{0,12}+(?:(?:public|private|protected|static|async)[ \t]+)*([A-Za-z_$][\w$]*+)[ \t]*\([^)\n]*\)[ \t]*\{[ \t]*$)",
    re.M,
)
# (matched against "\n" + text, like _DEF: the same matches and groups as r"^\s*..." (re.M) over the text)
_CONST = re.compile(r"\n\s*(?:export\s+)?(?:const|let|var|final|static)?\s*([A-Z][A-Z0-9_]{2,})\s*[:=]", re.M)
_IDENT = re.compile(r"[A-Za-z_$#.][\w$-]*[\w$]|[A-Za-z_]\w*")
_KEYWORDS = set(
    """
    and or not the a an to of in on for with from into by is are be this that it as at if else elif then return def class
    function const let var new true false null none undefined self import export default async await try catch except
    finally raise throw while for do break continue pass yield lambda public private protected static void int str bool
    float string number boolean any object type interface extends implements super print console log document window
    div span px em rem important auto none solid inherit color background margin padding border width height display
    flex grid block inline center left right top bottom position relative absolute transition transform opacity ease
    font size weight family style class id href src div p li ul h1 h2 h3 button input label form section main
    get set has add remove length push map filter foreach forEach reduce call apply bind then catch
    array object number boolean promise math json date map error self this none true false getelementbyid
    queryselector queryselectorall addeventlistener classlist textcontent innerhtml appendchild createelement
    """.split()
)
_CONFIG_FILES = re.compile(
    r"(?:^|/)(?:package\.json|pyproject\.toml|requirements[\w.-]*\.txt|setup\.cfg|setup\.py|Cargo\.toml|go\.mod|"
    r"\.python-version|\.nvmrc|\.node-version|\.tool-versions|tsconfig[\w.-]*\.json|Dockerfile|docker-compose[\w.-]*\.ya?ml|"
    r"compose\.ya?ml|Makefile|justfile|\.gitignore|\.env\.example|vite\.config\.\w+|webpack\.config\.\w+|"
    r"[\w.-]+\.(?:toml|ini|cfg|ya?ml))$"
)
_DOC_FILES = re.compile(r"(?:^|/)(?:CLAUDE|AGENTS|GEMINI|CONVENTIONS|README|CONTRIBUTING|DEVELOPMENT|HACKING)[\w.-]*\.md$", re.I)
_COMMENT_LINE = re.compile(r"^\s*(?://|#|/\*|\*|<!--|--|;)|^\s*[{}()\[\];,]*\s*$")


def short_path(path: str, root: str | None = None) -> str:
    p = path.replace("\\", "/")
    if root:
        r = root.replace("\\", "/").rstrip("/") + "/"
        if p.startswith(r):
            p = p[len(r):]
    parts = [x for x in p.split("/") if x]
    if len(parts) > 3:
        parts = parts[-3:]
    return "/".join(parts) if parts else path


def base(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").split("/")[-1]


# (a session asks about the same few paths again and again, for each of its edits)
@lru_cache(maxsize=1024)
def is_config(path: str) -> bool:
    return bool(_CONFIG_FILES.search(path.replace("\\", "/")))


@lru_cache(maxsize=1024)
def is_doc(path: str) -> bool:
    return bool(_DOC_FILES.search(path.replace("\\", "/")))


def defs_in(text: str, limit: int = 6) -> list[str]:
    out: list[str] = []
    for m in _DEF.finditer("\n" + text[:6000]):
        name = next((g for g in m.groups() if g), None)
        if not name or name.lower() in _KEYWORDS or name in ("if", "for", "while", "switch", "catch", "function"):
            continue
        if name not in out:
            out.append(name)
        if len(out) >= limit:
            break
    return out


def consts_in(text: str, limit: int = 4) -> list[str]:
    out: list[str] = []
    for m in _CONST.finditer("\n" + text[:20000]):
        if m.group(1) not in out:
            out.append(m.group(1))
        if len(out) >= limit:
            break
    return out


def identifiers(text: str) -> list[str]:
    seen: dict[str, None] = {}
    # each distinct token once, in order of first appearance (the same result, fewer checks)
    for tok in dict.fromkeys(_IDENT.findall(text[:20000])):
        tok = tok.strip(".-")
        if len(tok) < 3 or tok.lower() in _KEYWORDS or tok.isdigit():
            continue
        seen.setdefault(tok, None)
    return list(seen)


_CODE_LOOKING = re.compile(r"[a-z][A-Z]|_|\.|\d|^[#.]|-")


def added_identifiers(old: str, new: str, limit: int = 6) -> list[str]:
    before = set(identifiers(old))
    out = []
    for tok in identifiers(new):
        if tok in before:
            continue
        # prefer code-looking names: camelCase, snake_case, dotted, with digits, CSS classes/ids
        if not (_CODE_LOOKING.search(tok) or tok[0].isupper()):
            continue
        out.append(tok)
        if len(out) >= limit:
            break
    return out


def removed_identifiers(old: str, new: str, limit: int = 4) -> list[str]:
    return added_identifiers(new, old, limit)


def _common_prefix(a: str, b: str, most: int) -> int:
    """Length of the common prefix of a and b, at most `most` (slice comparisons, bisected)."""
    if most <= 0 or a[0] != b[0]:
        return 0
    if a[:most] == b[:most]:
        return most
    lo, hi = 1, most  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: str, b: str, most: int) -> int:
    """Length of the common suffix of a and b, at most `most`."""
    if most <= 0 or a[-1] != b[-1]:
        return 0
    la, lb = len(a), len(b)
    if a[la - most:] == b[lb - most:]:
        return most
    lo, hi = 1, most
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[la - mid:] == b[lb - mid:]:
            lo = mid
        else:
            hi = mid
    return lo


def small_change(old: str, new: str, limit: int = 70) -> str:
    """'`old` → `new`' for a small edit (whole sides when short, else the changed middle)."""
    o, n = one_line(old), one_line(new)
    if o == n:
        return ""
    if len(o) <= limit and len(n) <= limit:
        return f"`{o}` → `{n}`" if o else f"added `{n}`"
    # strip the common prefix/suffix, widened to token boundaries
    i = _common_prefix(o, n, min(len(o), len(n)))
    j = _common_suffix(o, n, min(len(o), len(n)) - i)
    while i > 0 and (o[i - 1].isalnum() or o[i - 1] in "_#$.-"):
        i -= 1
    while j > 0 and (o[len(o) - j].isalnum() or o[len(o) - j] in "_$"):
        j -= 1
    om, nm = o[i: len(o) - j].strip(), n[i: len(n) - j].strip()
    if len(om) <= limit and len(nm) <= limit and (om or nm):
        if not om:
            return f"added `{nm}`"
        if not nm:
            return f"removed `{om}`"
        return f"`{om}` → `{nm}`"
    return ""


def first_added_line(old: str, new: str) -> str:
    before = {ln.strip() for ln in old.split("\n")}
    for ln in new.split("\n"):
        s = ln.strip()
        if s and s not in before and not _COMMENT_LINE.match(s) and len(s) > 3:
            return clip(s, 70)
    return ""


def describe(action: Action, root: str | None = None, detail: bool = True) -> str:
    """A short phrase for one edit action, e.g. 'created js/noise-worklet.js (NoiseWorkletProcessor)'."""
    if not action.files:
        return ""
    path = short_path(action.files[0], root)
    if len(action.files) > 1:
        others = [base(f) for f in action.files[1:4]]
        path = path + " (+ " + ", ".join(others) + ")"
    old = "\n".join(e[0] for e in action.edits)
    new = "\n".join(e[1] for e in action.edits)
    if action.op == "delete":
        return f"deleted {path}"
    if action.op in ("write", "create") and not old:
        if not detail:
            return f"created {path}"
        names = defs_in(new, 3) or consts_in(new, 2)
        deps = dependency_changes(action)
        if deps:
            return f"wrote {path} ({deps})"
        return f"created {path}" + (f" ({', '.join(names)})" if names else "")
    if not detail:
        return f"edited {path}"
    if len(action.edits) == 1:
        sc = small_change(old, new)
        if sc:
            return f"{path}: {sc}"
    deps = dependency_changes(action)
    if deps:
        return f"{path}: {deps}"
    touched = defs_in(old + "\n" + new, 3)
    added = [a for a in added_identifiers(old, new, 5) if a not in touched][:3]
    bits = []
    if touched:
        bits.append(", ".join(f"{t}()" if not t[0].isupper() else t for t in touched))
    if added:
        bits.append("adds " + ", ".join(f"`{a}`" for a in added))
    if not bits:
        fl = first_added_line(old, new)
        if fl:
            bits.append(f"`{fl}`")
    return f"{path}: " + "; ".join(bits) if bits else f"edited {path}"


_DEP_JSON = re.compile(r'"([@\w./-]+)"\s*:\s*"([\^~><=]*\d[\w.+-]*)"')
_DEP_REQ = re.compile(r"^\s*([A-Za-z][\w.-]*)\s*(?:\[[\w,]+\])?\s*([<>=!~]=?\s*[\w.*+-]+)?\s*$", re.M)
_DEP_TOML = re.compile(r'^\s*"?([A-Za-z][\w.-]*)"?\s*(?:=\s*"([^"]+)"|([<>=!~]=?[\w.*+-]+))', re.M)


def dependency_changes(action: Action) -> str:
    """'adds vite ^5.4.11; removes chart.js' for edits to dependency manifests."""
    if not action.files:
        return ""
    name = base(action.files[0]).lower()
    if not (name == "package.json" or name.startswith("requirements") or name == "pyproject.toml" or name == "cargo.toml"):
        return ""  # not a dependency manifest (before joining the texts of the edits: they can be whole files)
    old = "\n".join(e[0] for e in action.edits)
    new = "\n".join(e[1] for e in action.edits)
    if name == "package.json":
        def deps(text: str) -> dict[str, str]:
            out: dict[str, str] = {}
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict):
                for key in ("dependencies", "devDependencies", "peerDependencies"):
                    if isinstance(data.get(key), dict):
                        out.update({k: str(v) for k, v in data[key].items()})
                scripts = data.get("scripts")
                if isinstance(scripts, dict):
                    out.update({f"script:{k}": str(v) for k, v in scripts.items()})
                return out
            for m in _DEP_JSON.finditer(text):
                if m.group(1) not in ("version", "node", "npm"):
                    out[m.group(1)] = m.group(2)
            return out
    elif name.startswith("requirements") or name == "pyproject.toml" or name == "cargo.toml":
        def deps(text: str) -> dict[str, str]:
            out: dict[str, str] = {}
            rx = _DEP_REQ if name.startswith("requirements") else _DEP_TOML
            for m in rx.finditer(text):
                if m.group(1).lower() in ("name", "version", "description", "readme", "license", "edition", "authors"):
                    continue
                out[m.group(1)] = (m.group(2) or (m.group(3) if m.lastindex and m.lastindex >= 3 else "") or "").strip()
            return out
    else:
        return ""
    before, after = deps(old), deps(new)
    added = [f"{k} {v}".strip() for k, v in after.items() if k not in before and not k.startswith("script:")]
    removed = [k for k in before if k not in after and not k.startswith("script:")]
    scripts = [f"{k[7:]}: {v}" for k, v in after.items() if k.startswith("script:") and before.get(k) != v]
    bits = []
    if added:
        bits.append("adds " + ", ".join(added[:4]))
    if removed:
        bits.append("removes " + ", ".join(removed[:4]))
    if scripts:
        bits.append("scripts " + ", ".join(scripts[:4]))
    return "; ".join(bits)
