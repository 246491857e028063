"""memtui: a terminal memory browser and curator for AI coding sessions."""

__version__ = "0.1.0"
