"""The screens besides Review, found by name (the app, the command palette and the help screen share it)."""

from __future__ import annotations

import importlib

from textual.screen import Screen

# The screens besides Review: name -> (module, class, title). Each is imported the first time it
# is shown, installed (so it keeps its state when the user goes back to Review) and pushed above
# Review; at most one of them is on the stack at a time.
OTHER_SCREENS: dict[str, tuple[str, str, str]] = {
    "memories": ("memtui.ui.screens.memories", "MemoriesScreen", "Memories"),
    "forget": ("memtui.ui.screens.forget", "ForgetScreen", "Forget stale"),
    "trash": ("memtui.ui.screens.trash", "TrashScreen", "Trash"),
    "export": ("memtui.ui.screens.export", "ExportScreen", "Export"),
}


def screen_class(name: str) -> type[Screen] | None:
    """The class of one of OTHER_SCREENS, or None when that screen is not built."""
    module_name, class_name, _ = OTHER_SCREENS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    return getattr(module, class_name)
