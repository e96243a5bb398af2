"""The core runs without a terminal library: every module under tui/core/ imports with Textual and
Rich unimportable, and none names them in an import anywhere (not even inside a function)."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import tui.core

CORE_DIR = Path(tui.core.__file__).parent
CORE_MODULES = sorted(f"tui.core.{info.name}" for info in pkgutil.iter_modules([str(CORE_DIR)]))

BLOCKED_IMPORT = """
import importlib, sys
for name in ("textual", "rich"):
    sys.modules[name] = None  # `import textual` now raises ImportError
for module in sys.argv[1:]:
    importlib.import_module(module)
print("imported", len(sys.argv) - 1)
"""


def test_the_core_has_its_modules() -> None:
    assert {"tui.core.backend", "tui.core.session", "tui.core.store", "tui.core.transport"} <= set(CORE_MODULES)


def test_every_core_module_imports_without_textual_or_rich() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT, *CORE_MODULES],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {len(CORE_MODULES)}"


def test_the_import_check_would_catch_a_terminal_library() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT, "tui.widgets.turn"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "import of textual halted" in result.stderr


def test_no_core_module_imports_a_terminal_library_even_lazily() -> None:
    offenders = []
    for path in sorted(CORE_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names
                          if name.split(".")[0] in ("textual", "rich") or name.startswith(("tui.widgets", "tui.screens", "tui.app"))]
    assert offenders == []


def test_every_core_module_says_what_it_offers() -> None:
    """A curated `__all__` in each core module, naming only what the module really has."""
    import importlib

    for name in CORE_MODULES:
        module = importlib.import_module(name)
        offered = getattr(module, "__all__", None)
        assert offered, f"{name} has no __all__"
        assert [item for item in offered if not hasattr(module, item)] == [], name
