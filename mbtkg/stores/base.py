"""The narrow interface every store implements, and the result types it returns.

Validation, queries and exports talk to a store only through this interface, so the same code
runs on an in-memory store, an on-disk store and a remote SPARQL server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class Store(Protocol):
    """Where session graphs and the ontology live; every write is atomic."""

    selector: str

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

    def close(self) -> None:
        """Release the store (flush and unlock an on-disk store)."""
