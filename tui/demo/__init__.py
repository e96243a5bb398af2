"""The simulated server behind `r1tui --demo` and the tests: real HTTP on 127.0.0.1 in
Ollama's wire format, with knobs for token rate, reasoning style and injected faults.

Tests and benchmarks import it through these names only."""

from tui.demo.simserver import (
    HOSTILE_NAME,
    REASONING_STYLES,
    Faults,
    Reply,
    SimModel,
    SimulatedOllama,
    default_models,
    demo_reply,
    hostile_models,
    pullable_models,
    synthetic_reply,
    tokens,
)

__all__ = ["HOSTILE_NAME", "REASONING_STYLES", "Faults", "Reply", "SimModel", "SimulatedOllama", "default_models",
           "demo_reply", "hostile_models", "pullable_models", "synthetic_reply", "tokens"]
