"""Default locations of every supported tool's transcripts (`memtui import --auto`)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from memtui.core.importers.pipeline import SKIP_DIRS

CLINE_EXTENSIONS = ("saoudrizwan.claude-dev", "rooveterinaryinc.roo-cline")
VSCODE_FLAVOURS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
PROJECT_SCAN_DEPTH = 4


@dataclass(frozen=True)
class Location:
    tool: str
    path: Path


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def tool_locations() -> list[Location]:
    """The per-user folders where the tools write transcripts (existing ones only)."""
    home = _home()
    found: list[Location] = []

    claude_dirs = []
    if os.environ.get("CLAUDE_CONFIG_DIR"):
        claude_dirs += [Path(p).expanduser() for p in os.environ["CLAUDE_CONFIG_DIR"].split(",") if p]
    claude_dirs += [home / ".claude", home / ".config" / "claude"]
    for base in claude_dirs:
        found.append(Location("claude-code", base / "projects"))

    codex_home = Path(os.environ["CODEX_HOME"]).expanduser() if os.environ.get("CODEX_HOME") else home / ".codex"
    found.append(Location("codex", codex_home / "sessions"))
    found.append(Location("codex", codex_home / "archived_sessions"))

    gemini_home = Path(os.environ["GEMINI_CLI_HOME"]).expanduser() if os.environ.get("GEMINI_CLI_HOME") else home
    found.append(Location("gemini", gemini_home / ".gemini" / "tmp"))

    if sys.platform == "darwin":
        user_dirs = [home / "Library" / "Application Support" / f / "User" for f in VSCODE_FLAVOURS]
    else:
        config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        user_dirs = [config / f / "User" for f in VSCODE_FLAVOURS]
        user_dirs += [home / ".vscode-server" / "data" / "User"]
    for user_dir in user_dirs:
        for ext in CLINE_EXTENSIONS:
            found.append(Location("cline", user_dir / "globalStorage" / ext / "tasks"))

    seen: set[Path] = set()
    result = []
    for loc in found:
        if loc.path in seen:
            continue
        seen.add(loc.path)
        if loc.path.is_dir():
            result.append(loc)
    return result


def project_locations(roots: list[Path]) -> list[Location]:
    """Aider history files and SpecStory history folders inside the given project folders."""
    found: list[Location] = []
    for root in roots:
        root = root.expanduser()
        if not root.is_dir():
            continue
        stack = [(root, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_file() and entry.name == ".aider.chat.history.md":
                        found.append(Location("aider", Path(entry.path)))
                    elif entry.is_dir(follow_symlinks=False):
                        if entry.name == ".specstory":
                            history = Path(entry.path) / "history"
                            if history.is_dir():
                                found.append(Location("specstory", history))
                        elif entry.name not in SKIP_DIRS and depth < PROJECT_SCAN_DEPTH and not entry.name.startswith("."):
                            stack.append((Path(entry.path), depth + 1))
                except OSError:
                    continue
    return sorted(set(found), key=lambda loc: str(loc.path))
