"""The narrow interface every store implements, and the result types it returns.

Validation, queries and exports talk to a store only through this interface, so the same code
runs on an in-memory store, an on-disk store and a remote SPARQL server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeGuard, runtime_checkable

import pyoxigraph as ox

#: One cell of a query result: an IRI (str), a literal's Python value, or None when unbound.
Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Term:
    """An RDF term of a result row, with its Python value and, for IRIs, ``is_iri``."""

    value: Cell
    is_iri: bool = False
    datatype: str | None = None

    def __str__(self) -> str:
        return "" if self.value is None else str(self.value)


@dataclass(frozen=True)
class Rows:
    """The answer of a SELECT query: column names and rows of terms (None when unbound)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Term | None, ...], ...]

    def __len__(self) -> int:
        return len(self.rows)

    def values(self) -> list[dict[str, Cell]]:
        """Rows as dictionaries of plain Python values."""
        return [
            {
                c: (t.value if t is not None else None)
                for c, t in zip(self.columns, row, strict=True)
            }
            for row in self.rows
        ]


#: SPARQL dialects a store may speak: ``standard`` SPARQL 1.1, or ``virtuoso`` (which gets its
#: own optimiser pragma and no repeated ``VALUES`` restrictions in subqueries).
DIALECTS = ("standard", "virtuoso")

#: What a store declares it can do, beyond the common interface; every store class names each.
CAPABILITIES = (
    "can_bulk_load",
    "servable",
    "compacts",
    "recovered",
    "dialect",
    "bulk_load",
    "optimize",
)


class GraphLoad(Protocol):
    """A load of many graphs: ``add`` them one by one, then ``commit`` them all or ``abort``."""

    def add(self, graph: str, nquads: bytes) -> None: ...
    def commit(self, extra: Mapping[str, Sequence[ox.Quad]] | None = None) -> None: ...
    def abort(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    """Where session graphs and the ontology live; every write is atomic.

    Besides reading and writing graphs, a store declares what it can do (see
    :data:`CAPABILITIES`), so that callers ask it instead of testing its class.
    """

    selector: str
    #: Whether :meth:`bulk_load` offers a load path of its own; when False, a load collects
    #: its graphs and writes them with one :meth:`replace_graphs`.
    can_bulk_load: bool
    #: Whether ``mbtkg serve`` can serve it: the store lives in this process (embedded
    #: Oxigraph), so query workers can fork from it; it is then a :class:`ServableStore`.
    servable: bool
    #: Whether :meth:`optimize` can compact the store (embedded Oxigraph, on disk); a server
    #: keeps its own storage.
    compacts: bool
    #: Graphs of an interrupted load that were dropped when the store was opened.
    recovered: tuple[str, ...]

    def dialect(self) -> str:
        """The SPARQL dialect the store speaks: one of :data:`DIALECTS`."""

    def bulk_load(self) -> GraphLoad:
        """Start a load of many graphs; raises StoreError unless :attr:`can_bulk_load`."""

    def optimize(self) -> float | None:
        """Compact the store for reading; the seconds it took, or None when there is nothing
        to compact (in memory, or a server)."""

    def replace_graphs(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        """Replace each named graph by the given quads, all in one atomic operation."""

    def drop_graph(self, graph: str) -> bool:
        """Remove a named graph; return whether it existed."""

    def graph_names(self) -> list[str]:
        """The names of the named graphs the store holds."""

    def graph_size(self, graph: str) -> int:
        """The number of triples in one named graph."""

    def select(self, sparql: str) -> Rows:
        """Run a SELECT query (SPARQL 1.1) and return its rows."""

    def ask(self, sparql: str) -> bool:
        """Run an ASK query."""

    def construct(self, sparql: str) -> list[ox.Triple]:
        """Run a CONSTRUCT or DESCRIBE query and return its triples."""

    def close(self) -> None:
        """Release the store (flush and unlock an on-disk store)."""


class ServableStore(Store, Protocol):
    """A store ``mbtkg serve`` can serve: embedded, with raw queries and updates."""

    path: Path | None
    read_only: bool

    def query_raw(self, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run any query and return pyoxigraph's own result."""

    def update(self, sparql: str) -> None:
        """Run a SPARQL update."""

    def update_through_a_brief_writer(self, sparql: str) -> None:
        """Run a SPARQL update; a disk store opened read-only opens a writer for it alone."""

    def keep_other_writers_out(self) -> None:
        """Hold the writer lock of a disk store opened read-only (no-op for others)."""


def is_servable(store: Store) -> TypeGuard[ServableStore]:
    """Whether ``mbtkg serve`` can serve the store (it says so with ``servable``)."""
    return store.servable
