"""The core of memtui: storage, import, extraction, search and export.

Nothing under this package may import textual (tests/core/test_layering.py checks it).
"""
