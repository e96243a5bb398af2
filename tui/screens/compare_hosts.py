"""The compare view's models on other hosts: `host:model` entries beside the current server's own.

Why apart from the screen: which backend runs a column is plumbing the compare
view should not carry; this keeps one backend per host for the visit and closes
them when it ends, so comparing the local 7b with the vLLM node's 32B is one run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.core.host_models import HostModels, models_on_hosts, open_host_backend

if TYPE_CHECKING:
    from tui.core.engines import Backend
    from tui.core.hosts import HostProfile

__all__ = ["OtherHosts"]


class OtherHosts:
    """Other configured hosts' models, as compare entries, and the backend each runs on."""

    def __init__(self) -> None:
        self.groups: list[HostModels] = []
        self._specs: dict[str, tuple["HostProfile", str]] = {}
        self._backends: dict[str, "Backend"] = {}

    async def load(self, hosts: dict[str, "HostProfile"], current_url: str) -> None:
        self.groups = await models_on_hosts(hosts.values(), exclude_url=current_url)
        self._specs = {f"{group.host.name}:{model.name}": (group.host, model.name)
                       for group in self.groups for model in group.models}

    @property
    def specs(self) -> list[str]:
        """Every `host:model` entry, grouped by host in the configured order."""
        return list(self._specs)

    def label(self, spec: str) -> str:
        host, model = self._specs[spec]
        return f"{model} @ {host.name}"

    def unreachable(self) -> list[str]:
        return [f"{group.host.name}: {group.error}" for group in self.groups if group.error]

    def model_name(self, spec: str) -> str:
        """The name the host knows the model by (the spec without its host)."""
        return self._specs[spec][1] if spec in self._specs else spec

    async def backend_for(self, spec: str, default: Any) -> Any:
        """The backend a column runs on: the host's (opened once per visit) or the current one."""
        if spec not in self._specs:
            return default
        host = self._specs[spec][0]
        if host.name not in self._backends:
            self._backends[host.name] = await open_host_backend(host)
        return self._backends[host.name]

    async def aclose(self) -> None:
        backends, self._backends = self._backends, {}
        for backend in backends.values():
            await backend.aclose()
