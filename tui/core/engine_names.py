"""The engines r1tui speaks to, by name: a module with no imports, so that the command line
(`r1tui --version`, `--help`, `--engine`'s choices) and the config check can name them without
loading the HTTP clients (`tui.core.engines` imports httpx, ollama and openai: ~0.3 s)."""

from __future__ import annotations

__all__ = ["AUTO", "ENGINES", "ENGINE_CHOICES", "OPENAI_ENGINES"]

AUTO = "auto"
ENGINES = ("ollama", "vllm", "sglang", "llama.cpp")
OPENAI_ENGINES = ("vllm", "sglang", "llama.cpp", "openai")  # "openai": any other OpenAI-compatible server
ENGINE_CHOICES = (AUTO, *ENGINES, "openai")
