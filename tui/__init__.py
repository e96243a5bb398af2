"""r1tui: a terminal UI for the DeepSeek-R1 family on a local Ollama server."""

__version__ = "0.1.0"
