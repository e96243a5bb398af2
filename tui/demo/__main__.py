"""`python -m tui.demo [--port N] [--rate R] [--style S]`: serve the simulated Ollama until interrupted."""

from tui.demo.simserver import main

main()
