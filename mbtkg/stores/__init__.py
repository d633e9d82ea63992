"""Stores chosen by a selector string: ``oxigraph:memory`` (default) or ``oxigraph:DIR``.

The selector comes from the ``--store`` option, the ``MBTKG_STORE`` environment variable or an
API argument, in that order of precedence.
"""

from __future__ import annotations

import os

from ..errors import StoreError
from .base import Cell, Rows, Store, Term
from .oxigraph import OxigraphStore

ENV_VAR = "MBTKG_STORE"
DEFAULT_SELECTOR = "oxigraph:memory"
#: Known selector schemes and what they open.
SCHEMES = {
    "oxigraph:memory": "an in-memory Oxigraph store (gone when the process ends)",
    "oxigraph:DIR": "an Oxigraph store on disk in directory DIR (survives restarts)",
}


def open_store(selector: str | None = None) -> Store:
    """Open the store a selector names.

    >>> open_store("oxigraph:memory").selector
    'oxigraph:memory'
    """
    chosen = selector or os.environ.get(ENV_VAR) or DEFAULT_SELECTOR
    scheme, _, rest = chosen.partition(":")
    if scheme == "oxigraph" and rest:
        return OxigraphStore(None if rest == "memory" else rest, selector=chosen)
    known = "; ".join(f"{k} ({v})" for k, v in SCHEMES.items())
    raise StoreError(f"unknown store {chosen!r}; known stores: {known}")


__all__ = [
    "DEFAULT_SELECTOR",
    "ENV_VAR",
    "SCHEMES",
    "Cell",
    "OxigraphStore",
    "Rows",
    "Store",
    "Term",
    "open_store",
]
