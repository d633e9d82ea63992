"""A reference SPARQL engine independent of the system under test: rdflib's, on the same quads.

The store contract compares every backend's answers with this reference. Oxigraph (in memory
or on disk) cannot be its own reference: the same engine running the same query text would
agree with itself whatever the query returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import pyoxigraph as ox
import rdflib
import rdflib.query

from mbtkg import vocab
from mbtkg.stores.base import Rows, Term
from mbtkg.stores.literal_values import python_value

_STRING = vocab.XSD + "string"
_LANG_STRING = vocab.RDF + "langString"


def _rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError("RDF-star triples are not used by mbtkg")


def _term(node: rdflib.term.Node | None) -> Term | None:
    if node is None:
        return None
    if isinstance(node, rdflib.URIRef):
        return Term(str(node), is_iri=True)
    if isinstance(node, rdflib.Literal):
        if node.language:
            datatype = _LANG_STRING
        else:
            datatype = str(node.datatype) if node.datatype is not None else _STRING
        return Term(python_value(str(node), datatype), datatype=datatype)
    return Term(f"_:{node}")


class RdflibReference:
    """The given named graphs in an rdflib Dataset; ``select`` answers like a Store."""

    def __init__(self, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        self.dataset = rdflib.Dataset()
        for name, quads in graphs.items():
            graph = self.dataset.graph(rdflib.URIRef(name))
            for q in quads:
                graph.add((_rdflib(q.subject), _rdflib(q.predicate), _rdflib(q.object)))
        self.select = lru_cache(maxsize=None)(self._select)

    def _select(self, sparql: str) -> Rows:
        result = self.dataset.query(sparql)
        columns = tuple(str(v) for v in result.vars or ())
        rows = []
        for row in result:
            assert isinstance(row, rdflib.query.ResultRow)  # a SELECT answer
            rows.append(tuple(_term(row[i]) for i in range(len(columns))))
        return Rows(columns, tuple(rows))
