"""The styles live outside the package (styles/) and reach a wheel as memtui/styles (hatch
force-include): a plain, non-editable install must find them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from memtui.ui.app import STYLE_FILES, css_paths, styles_dir

ROOT = Path(__file__).resolve().parents[2]


def test_source_tree_finds_its_styles():
    assert styles_dir() in (ROOT / "styles", ROOT / "memtui" / "styles")
    assert [p.name for p in css_paths()] == list(STYLE_FILES)
    assert sorted(p.name for p in (ROOT / "styles").glob("*.tcss")) == sorted(STYLE_FILES)


def test_styles_use_theme_variables_only():
    """All colour comes from the theme: no literal colours in the stylesheets."""
    import re

    for path in (ROOT / "styles").glob("*.tcss"):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        for line in text.splitlines():
            if re.search(r"(color|background|border[a-z-]*)\s*:", line):
                assert not re.search(r"#[0-9a-fA-F]{3,8}\b|\brgb\(|\bhsl\(", line), f"{path.name}: {line.strip()}"


def test_a_wheel_carries_the_styles_and_an_installed_copy_finds_them(tmp_path):
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", str(ROOT), "-w", str(tmp_path / "dist"), "-q"]
    if importlib.util.find_spec("hatchling") is not None:
        build.insert(4, "--no-build-isolation")  # the backend is here already: no download
    subprocess.run(build, check=True, cwd=tmp_path, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("memtui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in STYLE_FILES:
        assert f"memtui/styles/{name}" in names, names
    assert not any(n.startswith("styles/") for n in names)
    # Install it plainly (not editable) somewhere else and ask that copy where its styles are.
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    env = os.environ | {"PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", "import memtui.ui.app as a; print(a.styles_dir()); print(a.MemtuiApp.CSS_PATH)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True, timeout=120,
    ).stdout.splitlines()
    assert Path(out[0]) == target / "memtui" / "styles"
    for name in STYLE_FILES:
        assert str(target / "memtui" / "styles" / name) in out[1]
