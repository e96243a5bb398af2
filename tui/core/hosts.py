"""Named Ollama servers from the config, and the bearer token some of them need.

Why: people with a GPU box in a lab and a laptop switch between servers
(`[hosts.local]`, `[hosts.lab-a100]`), and a server behind an authenticating
reverse proxy needs `Authorization: Bearer …` on every request. The token is a
secret: it is read from the environment (preferred, `token_env`) or the config
file (`token`), handed to the HTTP client as a header, and scrubbed by
`redact()` from anything r1tui writes or shows (history, logs, error messages).

    [hosts.local]
    url = "http://127.0.0.1:11434"

    [hosts.lab-a100]
    url = "https://lab.example.org:443"
    token_env = "LAB_TOKEN"       # or: token = "…" (keep the file 0600)

A host's URL takes any form `OLLAMA_HOST` accepts; it is normalized by the
ollama client's own parser (tui.core.backend.normalize_host).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlparse

from tui.core.backend import is_local_host, normalize_host

__all__ = ["HOST_KEYS", "REDACTED", "HostProfile", "choose_host", "hosts_to_toml", "parse_hosts", "profile_for_url",
           "redact", "secrets", "token_file_warning"]

REDACTED = "[redacted]"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Only the header form: "bearer" alone is an ordinary English word in model output.
_BEARER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?bearer\s+)[^\s'\",}]+")


@dataclass(frozen=True)
class HostProfile:
    """One server r1tui can talk to. `token` never appears in repr, so it cannot leak via a log of this object."""

    name: str
    url: str
    token_env: str = ""
    token: str = field(default="", repr=False)
    engine: str = "auto"  # "auto" (detected), "ollama", "vllm", "sglang", "llama.cpp", "openai"
    gpu_metrics: str = ""  # a DCGM or nvitop exporter's /metrics URL for this host's GPUs (fleet view)

    @property
    def is_local(self) -> bool:
        return is_local_host(self.url)

    def bearer_token(self, environ: Mapping[str, str] | None = None) -> str:
        """The environment variable wins over the file, so a token can be rotated without editing config."""
        environ = os.environ if environ is None else environ
        if self.token_env and environ.get(self.token_env, "").strip():
            return environ[self.token_env].strip()
        return self.token

    def headers(self, environ: Mapping[str, str] | None = None) -> dict[str, str] | None:
        """Extra HTTP headers for OllamaBackend(headers=…); None when the server needs none."""
        token = self.bearer_token(environ)
        return {"Authorization": f"Bearer {token}"} if token else None

    def problems(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """Things worth telling the user before connecting (a missing token, a token sent in clear)."""
        found: list[str] = []
        environ = os.environ if environ is None else environ
        if self.token_env and not environ.get(self.token_env, "").strip() and not self.token:
            found.append(f"host `{self.name}`: ${self.token_env} is not set, so no token is sent")
        if self.bearer_token(environ) and urlparse(self.url).scheme == "http" and not self.is_local:
            found.append(f"host `{self.name}`: the token goes to {self.url} over plain http; use https://")
        return found


# -- validators, in the style of tui.core.config.KEYS: return the value or raise ValueError(what is allowed) --


def _url(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        try:
            url = normalize_host(value.strip())
        except (ValueError, TypeError):
            url = ""
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https") and parsed.hostname:
            return url
    raise ValueError('a server address like "gpu-box", "gpu-box:11434", "http://…" or "https://…"')


def _env_name(value: Any) -> str:
    if isinstance(value, str) and (value == "" or _ENV_NAME.fullmatch(value)):
        return value
    raise ValueError('the name of an environment variable, like "LAB_TOKEN"')


def _token(value: Any) -> str:
    if isinstance(value, str) and not any(c.isspace() or ord(c) < 0x20 for c in value):
        return value
    raise ValueError("the token as a string in quotes, without spaces")


def _engine(value: Any) -> str:
    from tui.core.engine_names import ENGINE_CHOICES

    if isinstance(value, str) and value.strip().lower() in ENGINE_CHOICES:
        return value.strip().lower()
    raise ValueError(" or ".join(f'"{name}"' for name in ENGINE_CHOICES))


def _metrics_url(value: Any) -> str:
    if isinstance(value, str):
        parsed = urlparse(value.strip())
        if value.strip() == "" or (parsed.scheme in ("http", "https") and parsed.hostname):
            return value.strip()
    raise ValueError('a URL like "http://gpu-node:9400/metrics"')


# key inside [hosts.NAME] -> (HostProfile field, validator)
HOST_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "url": ("url", _url),
    "token_env": ("token_env", _env_name),
    "token": ("token", _token),
    "engine": ("engine", _engine),
    "gpu_metrics": ("gpu_metrics", _metrics_url),
}


def _shown(key: str, value: Any) -> str:
    """A rejected value as the problem message shows it: a token is never echoed."""
    return repr(REDACTED) if key == "token" else repr(value)


def parse_hosts(table: Any, path: Path | str) -> tuple[dict[str, HostProfile], list[str]]:
    """The `[hosts.*]` tables of a config file: good hosts, and a message per problem.

    A host whose url is bad is left out (there is nothing to connect to); a bad
    token_env or token only loses that key, as elsewhere in the config.
    """
    hosts: dict[str, HostProfile] = {}
    problems: list[str] = []
    if not isinstance(table, dict):
        return hosts, [f"{path}: `hosts` should be tables like [hosts.local]; ignored"]
    for name, entry in table.items():
        if not _NAME.fullmatch(name):
            problems.append(f"{path}: host name `{name}` is not allowed: use letters, digits, - and _; ignored")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{path}: `hosts.{name}` should be a table with url = \"…\"; ignored")
            continue
        values: dict[str, Any] = {}
        for key, value in entry.items():
            spec = HOST_KEYS.get(key)
            if spec is None:
                problems.append(f"{path}: unknown key `hosts.{name}.{key}`; ignored")
                continue
            attribute, check = spec
            try:
                values[attribute] = check(value)
            except ValueError as allowed:
                problems.append(f"{path}: `hosts.{name}.{key}` = {_shown(key, value)} is not allowed: use {allowed}")
        if "url" not in values:
            problems.append(f"{path}: host `{name}` has no valid url; ignored")
            continue
        hosts[name] = HostProfile(name=name, **values)
    return hosts, problems


def hosts_to_toml(hosts: Mapping[str, HostProfile]) -> dict[str, dict[str, str]]:
    """The `hosts` table for tomli_w, so saving settings keeps the user's hosts (only keys that are set)."""
    data: dict[str, dict[str, str]] = {}
    for name, host in hosts.items():
        entry = {"url": host.url}
        if host.token_env:
            entry["token_env"] = host.token_env
        if host.token:
            entry["token"] = host.token
        if host.engine != "auto":
            entry["engine"] = host.engine
        if host.gpu_metrics:
            entry["gpu_metrics"] = host.gpu_metrics
        data[name] = entry
    return data


def choose_host(spec: str | None, hosts: Mapping[str, HostProfile]) -> HostProfile:
    """The host a `--host`/`server.host`/`OLLAMA_HOST` value means: a configured name, else an address.

    A bare word is a host name when one is configured with it, otherwise an
    address ("gpu-box" → http://gpu-box:11434), exactly as Ollama would read it.
    An address equal to a configured host's URL gets that host (and its token).
    """
    spec = (spec or "").strip()
    if spec in hosts:
        return hosts[spec]
    url = normalize_host(spec or None)
    for host in hosts.values():
        if host.url == url:
            return host
    return HostProfile(name=urlparse(url).netloc or url, url=url)


def token_file_warning(path: Path, hosts: Mapping[str, HostProfile]) -> str:
    """A warning when the config holds a token but others may read the file; "" when fine."""
    if not any(host.token for host in hosts.values()):
        return ""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return ""
    if mode & 0o077:
        return (f"{path} holds a token and is readable by others (mode {mode:04o}): "
                f"run `chmod 600 {path}`, or use token_env instead")
    return ""


def profile_for_url(url: str, hosts: Mapping[str, HostProfile]) -> HostProfile | None:
    """The configured host at this server URL (so a command given `--host lab` sends lab's token)."""
    wanted = normalize_host(url)
    return next((host for host in hosts.values() if normalize_host(host.url) == wanted), None)


# -- redaction -------------------------------------------------------------------------


def secrets(hosts: Iterable[HostProfile], environ: Mapping[str, str] | None = None) -> list[str]:
    """Every token r1tui knows of, for redact(): the hosts' own, and $OLLAMA_API_KEY (which the
    ollama client would send anywhere, and a server may echo)."""
    environ = os.environ if environ is None else environ
    found = {host.bearer_token(environ) for host in hosts} | {host.token for host in hosts}
    found.add(environ.get("OLLAMA_API_KEY", "").strip())
    return sorted((s for s in found if s), key=len, reverse=True)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """The text with every known token, and any `Authorization: Bearer …` value, replaced by [redacted].

    Longest tokens first, so a token that contains another is removed whole.
    """
    for secret in sorted((s for s in known if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
