"""Transcript importers: one module per format, the registry, detection and discovery."""

from __future__ import annotations

import importlib
from pathlib import Path

from memtui.core.importers.base import Parser

# --format name -> "module:class"; modules are imported on first use.
REGISTRY: dict[str, str] = {
    "claude-code": "memtui.core.importers.claude:ClaudeCodeParser",
    "codex": "memtui.core.importers.codex:CodexParser",
    "gemini": "memtui.core.importers.gemini:GeminiParser",
    "cline": "memtui.core.importers.cline:ClineParser",
    "aider": "memtui.core.importers.aider:AiderParser",
    "specstory": "memtui.core.importers.specstory:SpecStoryParser",
}
FORMATS = tuple(REGISTRY)
HEAD_BYTES = 64 * 1024

_loaded: dict[str, type[Parser]] = {}


def parser_class(name: str) -> type[Parser]:
    if name not in _loaded:
        module_name, _, cls_name = REGISTRY[name].partition(":")
        _loaded[name] = getattr(importlib.import_module(module_name), cls_name)
    return _loaded[name]


def read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def detect_format(path: Path, head: bytes | None = None) -> str | None:
    """The format name of `path`, or None when no parser recognises it."""
    if head is None:
        head = read_head(path)
    if b"\x00" in head[:8192]:
        return None
    for name in REGISTRY:
        if parser_class(name).detect(path, head):
            return name
    return None
