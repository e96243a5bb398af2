"""The app's redaction, which every error shown or saved goes through, hides the configured tokens."""

from __future__ import annotations

from tui.app import R1App
from tui.core.backend import OllamaBackend
from tui.core.config import Settings
from tui.core.hosts import HostProfile


def test_app_redacts_every_configured_token_and_bearer_values(monkeypatch) -> None:
    monkeypatch.setenv("LAB_TOKEN", "env-token-77")
    hosts = {
        "lab": HostProfile("lab", "http://lab:11434", token_env="LAB_TOKEN"),
        "proxy": HostProfile("proxy", "https://proxy.example.org:443", token="file-tok"),
        "proxy2": HostProfile("proxy2", "https://proxy2.example.org:443", token="file-tok-longer-42"),
    }
    app = R1App(OllamaBackend("http://127.0.0.1:9"), Settings(hosts=hosts), history=False)
    text = ("401: bad token env-token-77; tried file-tok-longer-42 and file-tok; "
            "header Authorization: Bearer zz.top")
    assert app.redact(text) == ("401: bad token [redacted]; tried [redacted] and [redacted]; "
                                "header Authorization: Bearer [redacted]")
    assert app.redact("nothing secret here") == "nothing secret here"
