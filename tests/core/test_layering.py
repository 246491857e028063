"""The core must be importable without the TUI (DESIGN: memtui/core never imports textual)."""

import subprocess
import sys


def test_core_does_not_import_textual():
    code = (
        "import sys, pkgutil, importlib, memtui.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'memtui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "import memtui.cli\n"
        "bad = sorted(n for n in sys.modules if n == 'textual' or n.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core pulled in textual: {out.stdout}"
