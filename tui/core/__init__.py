"""r1tui's core: everything that needs no terminal.

Servers, streams, reasoning, figures, settings, hardware, history and exports
live here, importable without Textual or Rich (tests/core/test_core_imports.py
checks it), so the TUI, the headless commands and the benchmarks share one
implementation. Screens and widgets only render what these modules report.
"""
