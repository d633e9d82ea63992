"""The embedded store: Oxigraph in memory (the default) or on disk.

Writes are one SPARQL Update request, which Oxigraph runs as a single transaction: either every
graph is replaced or none is. Queries never leave the machine: ``SERVICE`` is refused before the
engine sees the query (Oxigraph would otherwise fetch any URL a query names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from ..errors import QueryError, StoreError
from .base import Rows, Term

_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)
_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = {
    f"{_XSD}{t}"
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
    )
}
_FLOAT_TYPES = {f"{_XSD}decimal", f"{_XSD}double", f"{_XSD}float"}


def refuse_service(sparql: str) -> None:
    """Raise QueryError if a query names SERVICE (a federated call to another endpoint)."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|<[^>\s]*>|#[^\n]*', " ", sparql)
    if _SERVICE.search(stripped):
        raise QueryError(
            "queries may not use SERVICE: mbtkg never sends session data or queries to "
            "another endpoint; remove the SERVICE clause"
        )


def to_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> Term | None:
    """Convert an Oxigraph term to a result Term with a plain Python value."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return Term(term.value, is_iri=True)
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        value: str | int | float | bool = term.value
        try:
            if dt in _INTEGER_TYPES:
                value = int(term.value)
            elif dt in _FLOAT_TYPES:
                value = float(term.value)
            elif dt == f"{_XSD}boolean":
                value = term.value in ("true", "1")
        except ValueError:
            value = term.value
        return Term(value, datatype=dt)
    return Term(str(term))


class OxigraphStore:
    """An Oxigraph store in memory (``path=None``) or in a directory on disk."""

    def __init__(self, path: str | Path | None = None, *, selector: str | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.selector = selector or ("oxigraph:memory" if path is None else f"oxigraph:{path}")
        try:
            self._store = ox.Store() if self.path is None else ox.Store(str(self.path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"the store at {self.path} is in use by another process (it holds the lock); "
                    "stop that process or choose another directory"
                ) from None
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from None

    def replace_graphs(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        if not graphs:
            return
        parts = [f"DROP SILENT GRAPH <{g}>" for g in graphs]
        body: list[str] = []
        for g, quads in graphs.items():
            if quads:
                triples = " .\n".join(f"{q.subject} {q.predicate} {q.object}" for q in quads)
                body.append(f"GRAPH <{g}> {{\n{triples} .\n}}")
        if body:
            parts.append("INSERT DATA {\n" + "\n".join(body) + "\n}")
        try:
            self._store.update(" ;\n".join(parts))
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(f"the store refused the write, nothing was changed: {exc}") from None
        if self.path is not None:
            self._store.flush()

    def drop_graph(self, graph: str) -> bool:
        node = ox.NamedNode(graph)
        existed = self._store.contains_named_graph(node)
        if existed:
            self._store.update(f"DROP GRAPH <{graph}>")
            if self.path is not None:
                self._store.flush()
        return existed

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def graph_size(self, graph: str) -> int:
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def select(self, sparql: str) -> Rows:
        refuse_service(sparql)
        try:
            result = self._store.query(sparql)
        except SyntaxError as exc:
            raise QueryError(f"the query does not parse: {exc}") from None
        except OSError as exc:
            raise QueryError(f"the query failed: {exc}") from None
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        columns = tuple(v.value for v in result.variables)
        rows = tuple(tuple(to_term(sol[c]) for c in columns) for sol in result)
        return Rows(columns, rows)

    def ask(self, sparql: str) -> bool:
        refuse_service(sparql)
        try:
            result = self._store.query(sparql)
        except SyntaxError as exc:
            raise QueryError(f"the query does not parse: {exc}") from None
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def close(self) -> None:
        if self.path is not None:
            self._store.flush()
        del self._store
