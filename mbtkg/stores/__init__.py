"""Stores chosen by a selector string: ``oxigraph:memory`` (default), ``oxigraph:DIR`` or
``sparql+http(s)://HOST/PATH`` (any SPARQL 1.1 server; settings in ``mbtkg.stores.settings``).

The selector comes from the ``--store`` option, the ``MBTKG_STORE`` environment variable or an
API argument, in that order of precedence. A store's ``selector`` attribute is safe to print:
a remote store shows its URL without credentials or query values.
"""

from __future__ import annotations

import os

from ..errors import StoreError
from .base import Cell, Rows, Store, Term
from .disk_location import require_existing_store
from .oxigraph import OxigraphStore
from .remote_url import redact_selector
from .settings import RemoteSettings
from .sparql_http import SparqlHttpStore

ENV_VAR = "MBTKG_STORE"
DEFAULT_SELECTOR = "oxigraph:memory"
#: Known selector schemes and what they open.
SCHEMES = {
    "oxigraph:memory": "an in-memory Oxigraph store (gone when the process ends)",
    "oxigraph:DIR": "an Oxigraph store on disk in directory DIR (survives restarts)",
    "sparql+http(s)://HOST/PATH": "any SPARQL 1.1 server, by its query endpoint URL",
}


def resolve_selector(selector: str | None = None) -> str:
    """The selector in force: the one given, else ``MBTKG_STORE``, else ``oxigraph:memory``."""
    return selector or os.environ.get(ENV_VAR) or DEFAULT_SELECTOR


def disk_path(selector: str | None = None) -> str | None:
    """The directory an ``oxigraph:DIR`` selector names, or None for any other store."""
    scheme, _, rest = resolve_selector(selector).partition(":")
    return rest if scheme == "oxigraph" and rest and rest != "memory" else None


def open_store(
    selector: str | None = None,
    *,
    settings: RemoteSettings | None = None,
    create: bool = True,
    read_only: bool = False,
) -> Store:
    """Open the store a selector names.

    With ``create=False`` an ``oxigraph:DIR`` whose folder holds no store is an error (naming
    the closest existing folder) instead of a new, empty store. With ``read_only=True`` an
    ``oxigraph:DIR`` store is opened without its lock (other processes may open it too) and
    refuses writes; other stores ignore it.

    ``settings`` configure a remote server (endpoints, credentials); by default they are read
    from the ``MBTKG_SPARQL_*`` environment variables. Raises StoreError for an unknown scheme
    (listing the known ones) or a store that cannot be opened.

    >>> open_store("oxigraph:memory").selector
    'oxigraph:memory'
    """
    chosen = resolve_selector(selector)
    scheme, _, rest = chosen.partition(":")
    directory = disk_path(chosen)
    if directory is not None and not create:
        require_existing_store(directory, chosen)
    if scheme == "oxigraph" and rest:
        return OxigraphStore(
            None if rest == "memory" else rest, selector=chosen, read_only=read_only
        )
    if chosen.startswith(("sparql+http://", "sparql+https://")) and len(chosen) > 15:
        return SparqlHttpStore(chosen, settings=settings)
    known = "; ".join(f"{k} ({v})" for k, v in SCHEMES.items())
    raise StoreError(f"unknown store {redact_selector(chosen)!r}; known stores: {known}")


__all__ = [
    "DEFAULT_SELECTOR",
    "ENV_VAR",
    "SCHEMES",
    "Cell",
    "OxigraphStore",
    "RemoteSettings",
    "Rows",
    "SparqlHttpStore",
    "Store",
    "Term",
    "open_store",
]
