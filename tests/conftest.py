"""Shared fixtures. The user's own config, HOME and database are kept out of every test."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolate_user(tmp_path_factory, monkeypatch):
    """No test reads or writes the real HOME, config or database."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    for var in ("MEMTUI_DB", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real transcripts; tests that need it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (a clone outside the workplace)")
    return CORPUS


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "memtui.db"


@pytest.fixture
def db(db_path):
    from memtui.core.db import open_database

    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture
def eager_workers(monkeypatch):
    """Start the import workers at once and give them every file, even for a small tree."""
    from memtui.core.importers import prefetch

    monkeypatch.setattr(prefetch, "START_AFTER", 0)
    monkeypatch.setattr(prefetch, "START_AFTER_EXTRACTING", 0)
    monkeypatch.setattr(prefetch, "WAIT_FOR_START", 0)
