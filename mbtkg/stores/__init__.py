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


def open_store(selector: str | None = None, *, settings: RemoteSettings | None = None) -> Store:
    """Open the store a selector names.

    ``settings`` configure a remote server (endpoints, credentials); by default they are read
    from the ``MBTKG_SPARQL_*`` environment variables. Raises StoreError for an unknown scheme
    (listing the known ones) or a store that cannot be opened.

    >>> open_store("oxigraph:memory").selector
    'oxigraph:memory'
    """
    chosen = selector or os.environ.get(ENV_VAR) or DEFAULT_SELECTOR
    scheme, _, rest = chosen.partition(":")
    if scheme == "oxigraph" and rest:
        return OxigraphStore(None if rest == "memory" else rest, selector=chosen)
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
