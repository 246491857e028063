"""The curate commands: search, forget, restore, purge (registered into memtui.cli's parser)."""

from __future__ import annotations


def register(sub) -> None:
    """Add the curate subcommands to memtui's parser (see memtui.cli.build_parser)."""
