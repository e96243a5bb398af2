"""The simulated server behind `r1tui --demo` and the tests: real HTTP on 127.0.0.1 in
Ollama's wire format, with knobs for token rate, reasoning style and injected faults.

Tests and benchmarks import it through these names only."""

from tui.demo.simserver import (
    REASONING_STYLES,
    Faults,
    Reply,
    SimModel,
    SimulatedOllama,
    default_models,
    demo_reply,
    pullable_models,
    synthetic_reply,
    tokens,
)

__all__ = ["REASONING_STYLES", "Faults", "Reply", "SimModel", "SimulatedOllama", "default_models", "demo_reply",
           "pullable_models", "synthetic_reply", "tokens"]
