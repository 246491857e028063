"""The app's own settings: a small dataclass, loaded once, saved when something changes.

The file is JSON in the user config directory (platformdirs), e.g. ~/.config/memtui/config.json:

    {
      "theme": "nord",
      "keymap": {"approve": "y", "reject": "d,delete"}
    }

`keymap` maps a binding id (see the help screen, `?`) to one key or several, comma-separated, in
Textual's key names ("ctrl+s", "question_mark", "A"). Unknown keys in the file are kept as they
are when the file is saved again, so a newer memtui's settings survive an older one.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

DEFAULT_THEME = "textual-dark"
CONFIG_NAME = "config.json"


def default_config_path() -> Path:
    """MEMTUI_CONFIG if set, else config.json in the user config directory."""
    env = os.environ.get("MEMTUI_CONFIG")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("memtui", appauthor=False)) / CONFIG_NAME


def display_path(path: str | os.PathLike) -> str:
    """A path as a person would write it: the home directory as ~."""
    text = str(path)
    home = os.path.expanduser("~")
    if home and home != "/" and (text == home or text.startswith(home.rstrip("/") + "/")):
        return "~" + text[len(home.rstrip("/")):]
    return text


@dataclass
class Config:
    theme: str = DEFAULT_THEME
    keymap: dict[str, str] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False, repr=False)  # where it was read from
    warnings: list[str] = field(default_factory=list, compare=False, repr=False)
    extra: dict = field(default_factory=dict, compare=False, repr=False)  # keys this version does not know

    def as_dict(self) -> dict:
        return self.extra | {"theme": self.theme, "keymap": dict(self.keymap)}


def _keys(value) -> str | None:
    if isinstance(value, str) and value.strip():
        return ",".join(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return ",".join(v.strip() for v in value)
    return None


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the config file; a missing file gives the defaults, a broken one too (with a warning)."""
    config_path = Path(path).expanduser() if path else default_config_path()
    config = Config(path=config_path)
    try:
        raw = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return config
    except OSError as exc:
        config.warnings.append(f"cannot read {config_path}: {exc.strerror}")
        return config
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        config.warnings.append(f"{config_path}: not valid JSON (line {exc.lineno}: {exc.msg}); using the defaults")
        return config
    if not isinstance(data, dict):
        config.warnings.append(f"{config_path}: expected a JSON object; using the defaults")
        return config
    theme = data.pop("theme", None)
    if isinstance(theme, str) and theme:
        config.theme = theme
    keymap = data.pop("keymap", None)
    if isinstance(keymap, dict):
        for binding_id, value in keymap.items():
            keys = _keys(value)
            if keys is None:
                config.warnings.append(f"{config_path}: keymap {binding_id!r}: expected a key or a list of keys")
            else:
                config.keymap[str(binding_id)] = keys
    elif keymap is not None:
        config.warnings.append(f"{config_path}: 'keymap' should be an object of binding id -> keys")
    config.extra = data
    return config


def save_config(config: Config, path: str | os.PathLike | None = None) -> Path:
    """Write the config atomically (a temporary file renamed over the old one)."""
    config_path = Path(path).expanduser() if path else (config.path or default_config_path())
    config_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = config_path.with_name(config_path.name + ".tmp")
    tmp.write_text(json.dumps(config.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, config_path)
    return config_path


@contextmanager
def update_config(config: Config) -> Iterator[Config]:
    """Change the config in a with-block; it is saved when the block ends without an error."""
    yield config
    save_config(config)
