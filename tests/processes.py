"""Helpers for tests that start real processes (the stand-in `ollama` binary, managed servers)."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil

FAKE_DIR = Path(__file__).resolve().parent / "fake_ollama"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
