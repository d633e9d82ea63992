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

from importlib.metadata import PackageNotFoundError, version

from .errors import InputError, MbtkgError, QueryError, StoreError, ValidationFailed
from .loading import LoadSummary, load, validate_files
from .queries import list_queries
from .queries import run_query as query
from .resources import example_sessions
from .sessions import read_session
from .stores import open_store
from .validate import ValidationReport

try:
    __version__ = version("mbtkg")
except PackageNotFoundError:  # pragma: no cover - a bare checkout without metadata
    __version__ = "0.0.0"

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
