"""The catalog as this server has it: installed tags with the server's own figures (architecture,
file size) in place of the catalog's, and installed tags the catalog does not know, estimated from
what `/api/show` says. The model library (F3) and `r1tui recommend` both read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.core import catalog
from tui.core.backend import BackendError, InstalledModel, ModelDetails, OllamaBackend
from tui.core.catalog import CatalogEntry

__all__ = ["InstalledCatalog", "entry_for_installed", "installed_catalog"]


@dataclass
class InstalledCatalog:
    installed: dict[str, InstalledModel] = field(default_factory=dict)  # by normalised tag
    entries: list[CatalogEntry] = field(default_factory=list)  # the catalog, then installed tags it lacks
    unestimated: list[InstalledModel] = field(default_factory=list)  # installed, no architecture known

    @property
    def catalog_entries(self) -> list[CatalogEntry]:
        known = {entry.tag for entry in catalog.CATALOG}
        return [entry for entry in self.entries if entry.tag in known]


def entry_for_installed(model: InstalledModel, details: ModelDetails | None) -> CatalogEntry | None:
    """An installed tag the catalog doesn't know (a custom build, another family), estimated from the server.

    None when `/api/show` gives no architecture: better no estimate than one made from zeros.
    """
    architecture = catalog.architecture_from_model_info(details.model_info) if details is not None else None
    if architecture is None:
        return None
    parameters = details.model_info.get("general.parameter_count") if details else None
    return CatalogEntry(
        tag=model.name, size=model.parameter_size, base_model=details.family if details else model.family,
        quantization=model.quantization, download_bytes=model.size,
        parameter_count=int(parameters) if isinstance(parameters, (int, float)) else 0,
        architecture=architecture, quality=None, default=False)


async def installed_catalog(backend: OllamaBackend, models: list[InstalledModel]) -> InstalledCatalog:
    """`models` (from `list_models`) merged with the catalog; a model whose details fail keeps the catalog's."""

    async def details_of(name: str) -> ModelDetails | None:
        try:
            return await backend.show(name)
        except BackendError:
            return None

    result = InstalledCatalog(installed={catalog.normalize_tag(m.name): m for m in models})
    known = {entry.tag for entry in catalog.CATALOG}
    for entry in catalog.CATALOG:
        model = result.installed.get(entry.tag)
        if model is None:
            result.entries.append(entry)
            continue
        details = await details_of(entry.tag)
        result.entries.append(catalog.with_server_figures(entry, details.model_info if details else None, model.size))
    by_size = sorted(result.installed.items(), key=lambda item: catalog.tag_sort_key(item[0], item[1].parameter_size))
    for tag, model in by_size:
        if tag in known:
            continue
        extra = entry_for_installed(model, await details_of(model.name))
        if extra is None:
            result.unestimated.append(model)
        else:
            result.entries.append(extra)
    return result
