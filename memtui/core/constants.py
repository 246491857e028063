"""Names the command line offers as choices, without importing the modules that define them.

Building the parser (every `memtui` command, the SessionStart hook included) must not import
peewee, the extractors or the importers just to list choices. Each tuple here equals the one of
the module named next to it; tests/core/test_cli_export.py checks that they stay equal.
"""

TIERS = ("developer", "project", "session")  # = memtui.core.models.TIERS
KINDS = (  # = memtui.core.models.KINDS
    "decision", "preference", "convention", "constraint", "failed_approach", "bug_fix", "relationship", "fact", "todo",
)
EXTRACTORS = ("heuristic", "anthropic", "none")  # = memtui.core.extract.EXTRACTORS
IMPORT_FORMATS = ("claude-code", "codex", "gemini", "cline", "aider", "specstory")  # = memtui.core.importers.FORMATS
EXPORT_FORMATS = ("claude-md", "agents-md", "cursor-rules", "markdown", "json")  # = memtui.core.export.FORMATS
SCHEMA_VERSION = 3  # = memtui.core.db.SCHEMA_VERSION (the SessionStart hook reads without peewee)
