"""Headless subcommands (`r1tui doctor`, `recommend`, ...): one module each, found by `tui.cli`."""
