"""mbtkg: a formal ontology and knowledge graph of Mentalization-Based Therapy (MBT).

The public API is small::

    >>> import mbtkg
    >>> store = mbtkg.open_store("oxigraph:memory")
    >>> summary = mbtkg.load(mbtkg.example_sessions(), store)
    >>> rows = mbtkg.query(store, "rupture-repair-latency", {"session": "susan-12"})
    >>> rows.columns[:2]
    ('session_id', 'rupture')
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import InputError, MbtkgError, QueryError, StoreError, ValidationFailed

if TYPE_CHECKING:
    from .loading import LoadSummary, load, validate_files
    from .queries import list_queries
    from .queries import run_query as query
    from .resources import example_sessions
    from .sessions import read_session
    from .stores import open_store
    from .validation.validate import ValidationReport

#: Public names imported on first use (module, name there), so that ``import mbtkg`` (and
#: with it every ``mbtkg`` command) does not pay for engines it does not use.
_LAZY = {
    "LoadSummary": ("loading", "LoadSummary"),
    "load": ("loading", "load"),
    "validate_files": ("loading", "validate_files"),
    "list_queries": ("queries", "list_queries"),
    "query": ("queries", "run_query"),
    "example_sessions": ("resources", "example_sessions"),
    "read_session": ("sessions", "read_session"),
    "open_store": ("stores", "open_store"),
    "ValidationReport": ("validate", "ValidationReport"),
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("mbtkg")
        except PackageNotFoundError:  # pragma: no cover - a bare checkout without metadata
            return "0.0.0"
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mbtkg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "__version__"])


__all__ = [
    "InputError",
    "LoadSummary",
    "MbtkgError",
    "QueryError",
    "StoreError",
    "ValidationFailed",
    "ValidationReport",
    "example_sessions",
    "list_queries",
    "load",
    "open_store",
    "query",
    "read_session",
    "validate_files",
]
