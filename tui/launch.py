"""Start the TUI from parsed command-line arguments: settings, host, runtime, optional demo server."""

from __future__ import annotations

import argparse
import os

from tui.core.config import load_settings


# Young objects allocated before Python's cycle collector runs: every frame allocates thousands
# (strips, segments, styles), and at the default 700 the collector ran many times per frame.
GC_YOUNG_THRESHOLD = 20_000


def collect_garbage_for_frames() -> None:
    """Tune the cycle collector for a long-running TUI (see benchmarks/PROFILE.md).

    What exists at start-up (modules, classes, CSS, widgets) lives as long as the
    app: frozen, the collector no longer walks it in every full collection. Young
    collections run after more allocations: they cost in proportion to the objects
    still alive, not to how often they run, so fewer of them cost less.
    """
    import gc

    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def resolve_host(cli_host: str | None, config_host: str) -> str:
    """--host, then the config file, then OLLAMA_HOST, then Ollama's default (via the client)."""
    return cli_host or config_host or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"


def run_tui(args: argparse.Namespace) -> int:
    loaded = load_settings(args.config)
    settings = loaded.settings
    problems = list(loaded.problems)
    demo_servers: list = []
    runtime = None
    headers = None
    engine = getattr(args, "engine", None) or "auto"
    extra_hosts = {}
    if args.demo:
        from tui.core.hosts import HostProfile
        from tui.demo import SimulatedOllama
        from tui.demo.engines import SimulatedEngine

        from tui.demo.answers import AnswerMode

        # Answer mode: the built-in and generated sets' questions get boxed answers the compare
        # view can grade (the 1.5b gets some wrong, as the small distills do).
        answers = AnswerMode(error_rates={"deepseek-r1:1.5b": 0.3})
        demo_ollama = SimulatedOllama(rate=60.0, load_seconds=0.8)
        demo_ollama.answer_mode = answers
        demo_ollama.start()
        demo_vllm = SimulatedEngine("vllm", rate=90.0)
        demo_vllm.answer_mode = answers
        demo_vllm.start()
        demo_servers = [demo_ollama, demo_vllm]
        host, engine = demo_ollama.url, "ollama"
        # Two hosts side by side (Ctrl+O lists both); never written to the user's config.
        extra_hosts = {"demo-ollama": HostProfile("demo-ollama", demo_ollama.url, engine="ollama"),
                       "demo-vllm": HostProfile("demo-vllm", demo_vllm.url, engine="vllm")}
    else:
        from tui.core.hosts import choose_host
        from tui.core.runtime import ManagedRuntime, RuntimeConfig

        profile = choose_host(resolve_host(args.host, settings.host), settings.hosts)
        host, headers = profile.url, profile.headers()
        if engine == "auto":
            engine = profile.engine
        problems.extend(profile.problems())
        runtime = ManagedRuntime(host, RuntimeConfig.from_settings(settings), headers=headers)

    from tui.app import R1App
    from tui.core.engines import make_backend

    # "auto" starts on the Ollama backend; the app detects the engine when it connects.
    backend = make_backend(host, "ollama" if engine == "auto" else engine, stall_timeout=settings.stall_timeout,
                           headers=headers)
    history_path = None
    if args.demo:
        from tui.core.config import data_dir

        # Demo chats are kept apart from the real ones (F5 in a demo shows only demo chats).
        history_path = data_dir() / "demo-history.db"
    app = R1App(backend, settings, engine=engine, extra_hosts=extra_hosts, requested_model=args.model, demo=args.demo,
                startup_messages=problems, runtime=runtime, config_path=loaded.path, history_path=history_path)
    collect_garbage_for_frames()
    try:
        app.run()
    finally:
        for managed in app.runtimes:
            managed.stop()  # a no-op unless r1tui started that server
        for server in demo_servers:
            server.stop()
    return app.return_code or 0
