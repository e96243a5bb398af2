"""Named hosts from the config, OLLAMA_HOST forms, and the bearer token that must never leak."""

from __future__ import annotations

import json
import os
import tomllib

import pytest
import tomli_w

from tests.conftest import PROXY_TOKEN
from tui.core.backend import BackendError, OllamaBackend
from tui.core.hosts import HostProfile, choose_host, hosts_to_toml, parse_hosts, redact, secrets, token_file_warning

CONFIG = """
[hosts.local]
url = "http://127.0.0.1:11434"

[hosts.lab-a100]
url = "lab:443"
token_env = "LAB_TOKEN"

[hosts.proxy]
url = "https://proxy.example.org"
token = "file-token-123"
"""

TOKEN = PROXY_TOKEN


def load(text: str = CONFIG) -> tuple[dict[str, HostProfile], list[str]]:
    return parse_hosts(tomllib.loads(text).get("hosts"), "/home/u/.config/r1tui/config.toml")


def test_named_hosts_are_read_with_urls_normalized_like_ollama() -> None:
    hosts, problems = load()
    assert problems == []
    assert hosts["local"].url == "http://127.0.0.1:11434" and hosts["local"].is_local
    assert hosts["lab-a100"].url == "http://lab:443" and not hosts["lab-a100"].is_local
    assert hosts["proxy"].url == "https://proxy.example.org:443"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[hosts.gpu]\nurl = ""\n', "`hosts.gpu.url` = '' is not allowed: use a server address"),
        ('[hosts.gpu]\nurl = 42\n', "host `gpu` has no valid url; ignored"),
        ('[hosts.gpu]\nurl = "gpu"\ntoken_env = "1BAD"\n', "`hosts.gpu.token_env` = '1BAD' is not allowed"),
        ('[hosts.gpu]\nurl = "gpu"\nadress = "x"\n', "unknown key `hosts.gpu.adress`"),
        ('[hosts]\ngpu = "http://gpu"\n', "`hosts.gpu` should be a table"),
        ('hosts = "gpu"\n', "`hosts` should be tables like [hosts.local]"),
        ('[hosts."a b"]\nurl = "gpu"\n', "host name `a b` is not allowed"),
    ],
)
def test_bad_host_entries_name_the_file_and_key(text: str, fragment: str) -> None:
    hosts, problems = load(text)
    assert any(fragment in p and "config.toml" in p for p in problems), problems


def test_a_bad_token_key_loses_only_that_key_and_is_not_echoed() -> None:
    hosts, problems = load('[hosts.gpu]\nurl = "gpu"\ntoken = "has a space"\n')
    assert hosts["gpu"].url == "http://gpu:11434" and hosts["gpu"].token == ""
    assert len(problems) == 1 and "has a space" not in problems[0] and "[redacted]" in problems[0]


def test_token_from_environment_wins_over_the_file() -> None:
    host = HostProfile("lab", "https://lab:443", token_env="LAB_TOKEN", token="from-file")
    assert host.headers({"LAB_TOKEN": TOKEN}) == {"Authorization": f"Bearer {TOKEN}"}
    assert host.headers({}) == {"Authorization": "Bearer from-file"}
    assert HostProfile("local", "http://127.0.0.1:11434").headers({}) is None


def test_the_token_never_appears_in_a_hosts_repr() -> None:
    hosts, _ = load()
    assert "file-token-123" not in repr(hosts) and "file-token-123" not in str(hosts["proxy"])


def test_warnings_for_a_missing_token_and_a_token_sent_in_clear() -> None:
    hosts, _ = load()
    assert hosts["lab-a100"].problems({}) == ["host `lab-a100`: $LAB_TOKEN is not set, so no token is sent"]
    assert "over plain http" in hosts["lab-a100"].problems({"LAB_TOKEN": TOKEN})[0]
    assert hosts["proxy"].problems({}) == []


@pytest.mark.parametrize(
    ("spec", "url"),
    [("gpu-box", "http://gpu-box:11434"), ("gpu-box:8080", "http://gpu-box:8080"),
     ("https://gpu-box", "https://gpu-box:443"), ("", "http://127.0.0.1:11434"), (None, "http://127.0.0.1:11434")],
)
def test_any_ollama_host_form_is_an_address(spec: str | None, url: str) -> None:
    hosts, _ = load()
    assert choose_host(spec, hosts).url == url


def test_a_configured_name_or_its_exact_url_selects_that_host_and_its_token() -> None:
    hosts, _ = load()
    assert choose_host("lab-a100", hosts) is hosts["lab-a100"]
    assert choose_host("https://proxy.example.org", hosts).headers({}) == {"Authorization": "Bearer file-token-123"}
    assert choose_host("other-box", hosts).headers({}) is None


def test_saving_keeps_every_host(tmp_path) -> None:
    hosts, _ = load()
    text = tomli_w.dumps({"hosts": hosts_to_toml(hosts)})
    assert load(text) == (hosts, [])


def test_redact_removes_tokens_and_authorization_values_but_not_plain_words() -> None:
    hosts, _ = load()
    known = secrets(hosts.values(), {"LAB_TOKEN": TOKEN})
    text = f"sent {TOKEN} and file-token-123; headers {{'Authorization': 'Bearer abc.def'}}; the bearer of news"
    cleaned = redact(text, known)
    assert TOKEN not in cleaned and "file-token-123" not in cleaned and "abc.def" not in cleaned
    assert cleaned.count("[redacted]") == 3 and "the bearer of news" in cleaned


def test_a_token_in_a_world_readable_config_is_flagged(tmp_path) -> None:
    hosts, _ = load()
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    os.chmod(path, 0o644)
    assert "chmod 600" in token_file_warning(path, hosts)
    os.chmod(path, 0o600)
    assert token_file_warning(path, hosts) == ""
    os.chmod(path, 0o644)
    assert token_file_warning(path, {"local": hosts["local"]}) == ""


# -- over a real socket: the header reaches the server; a refusal never echoes the token ----------------


async def test_the_bearer_token_is_sent_to_the_server(auth_proxy) -> None:
    url, seen = auth_proxy
    host = HostProfile("proxy", url, token_env="LAB_TOKEN")
    backend = OllamaBackend(host.url, headers=host.headers({"LAB_TOKEN": TOKEN}))
    try:
        assert await backend.version() == "0.12.6"
    finally:
        await backend.aclose()
    assert seen == [f"Bearer {TOKEN}"]


async def test_a_refusal_that_echoes_the_token_is_redacted_before_display(auth_proxy) -> None:
    url, _ = auth_proxy
    host = HostProfile("proxy", url, token="wrong-token-xyz")
    backend = OllamaBackend(host.url, headers=host.headers({}))
    try:
        with pytest.raises(BackendError) as caught:
            await backend.version()
    finally:
        await backend.aclose()
    # The proxy echoed the token; the backend never passes on its own credential.
    assert "wrong-token-xyz" not in str(caught.value) and "[redacted]" in str(caught.value)
    assert caught.value.kind == "unauthorized" and "refused r1tui's credentials (401)" in str(caught.value)
    assert "wrong-token-xyz" not in redact(str(caught.value), secrets([host], {}))


def test_a_headless_command_sends_the_named_hosts_token(auth_proxy, monkeypatch, capsys) -> None:
    """`r1tui doctor --host lab` sends lab's token, as the TUI does (it used to send none)."""
    from tui.cli import main
    from tui.core.config import default_config_path

    url, seen = auth_proxy
    config = default_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[hosts.lab]\nurl = "{url}"\ntoken_env = "LAB_TOKEN"\n')
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    main(["doctor", "--host", "lab", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert seen and all(header == f"Bearer {TOKEN}" for header in seen)
    assert report["server"]["version"] == "0.12.6"
    assert TOKEN not in json.dumps(report)


async def test_ollama_api_key_goes_to_no_host_it_was_not_configured_for(auth_proxy, monkeypatch) -> None:
    """The ollama client adds $OLLAMA_API_KEY to every request; r1tui sends it nowhere unasked."""
    url, seen = auth_proxy
    monkeypatch.setenv("OLLAMA_API_KEY", "cloud-key-abcdef")
    backend = OllamaBackend(url)
    try:
        with pytest.raises(BackendError):
            await backend.list_models()  # through the ollama client itself
        with pytest.raises(BackendError):
            await backend.version()
    finally:
        await backend.aclose()
    assert seen == ["", ""]
    assert "cloud-key-abcdef" not in redact("echo: cloud-key-abcdef", secrets([]))
def test_redact_removes_a_token_that_contains_another_whole() -> None:
    """Shortest first would cut "lab-1" out of "lab-1-rotated-9f3e" and leave "-rotated-9f3e" readable."""
    short, long = "lab-1", "lab-1-rotated-9f3e"
    for known in ([short, long], [long, short]):
        cleaned = redact(f"401 for token {long} (was {short})", known)
        assert cleaned == "401 for token [redacted] (was [redacted])"
    hosts = {"a": HostProfile("a", "http://a:11434", token=short), "b": HostProfile("b", "http://b:1", token=long)}
    assert redact(f"echo {long}", secrets(hosts.values(), {})) == "echo [redacted]"


# -- cases the mutation run found unpinned (benchmarks/MUTATION.md) ------------------------------------


def test_redact_order_is_by_length_not_by_spelling() -> None:
    """"abc" sorts after "aabc-zz" alphabetically: removed first, it would leave "a…-zz" of the longer token."""
    known = ["abc", "aabc-zz"]
    assert redact("tokens aabc-zz and abc", known) == "tokens [redacted] and [redacted]"
    hosts = [HostProfile("a", "http://a:1", token="abc"), HostProfile("b", "http://b:1", token="aabc-zz")]
    assert secrets(hosts, {}) == ["aabc-zz", "abc"]
    assert redact("tokens aabc-zz and abc", secrets(hosts, {})) == "tokens [redacted] and [redacted]"


def test_the_process_environment_is_read_when_none_is_given(monkeypatch) -> None:
    host = HostProfile("lab", "http://lab:11434", token_env="LAB_TOKEN")
    monkeypatch.setenv("LAB_TOKEN", "from-env")
    assert host.bearer_token() == "from-env"
    assert host.problems() == ["host `lab`: the token goes to http://lab:11434 over plain http; use https://"]
    monkeypatch.delenv("LAB_TOKEN")
    assert host.bearer_token() == ""
    assert host.problems() == ["host `lab`: $LAB_TOKEN is not set, so no token is sent"]


def test_a_bad_host_does_not_stop_the_ones_after_it() -> None:
    text = """
[hosts."bad name"]
url = "a"
[hosts.notatable]
[hosts.nourl]
token = "t"
[hosts.ftp]
url = "ftp://files.example.org"
[hosts.good]
url = "gpu-box"
token_env = ""
unknown = 1
"""
    table = tomllib.loads(text)["hosts"]
    table["notatable"] = "http://x"
    hosts, problems = parse_hosts(table, "/c.toml")
    assert list(hosts) == ["good"] and hosts["good"].url == "http://gpu-box:11434" and hosts["good"].token_env == ""
    assert "/c.toml: `hosts.ftp.url` = 'ftp://files.example.org' is not allowed: use a server address" in problems[3]
    assert len(problems) == 6


@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("token_env", "'1BAD'", 'use the name of an environment variable, like "LAB_TOKEN"'),
    ("token", '"has space"', "use the token as a string in quotes, without spaces"),
])
def test_bad_host_keys_say_what_is_allowed(key: str, value: str, allowed: str) -> None:
    hosts, problems = load(f'[hosts.gpu]\nurl = "gpu"\n{key} = {value}\n')
    assert list(hosts) == ["gpu"] and len(problems) == 1 and problems[0].endswith(allowed)


def test_an_address_that_is_no_configured_host_is_named_by_its_host_and_port() -> None:
    profile = choose_host("gpu-box", {})
    assert (profile.name, profile.url, profile.token) == ("gpu-box:11434", "http://gpu-box:11434", "")


def test_no_warning_when_the_config_file_cannot_be_read(tmp_path) -> None:
    hosts = {"p": HostProfile("p", "https://p:443", token="secret-1")}
    assert token_file_warning(tmp_path / "missing.toml", hosts) == ""


def test_an_unknown_key_does_not_hide_the_keys_after_it() -> None:
    hosts, problems = load('[hosts.gpu]\nunknown = 1\nurl = "gpu"\ntoken = "t"\n')
    assert list(hosts) == ["gpu"] and hosts["gpu"].token == "t"
    assert problems == ["/home/u/.config/r1tui/config.toml: unknown key `hosts.gpu.unknown`; ignored"]
