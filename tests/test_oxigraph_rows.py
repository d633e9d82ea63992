"""The embedded store reads SELECT answers from Oxigraph's TSV text: the same Terms as from
the solution objects, for every kind of term, and the object path when the text has a cell
the reader does not take."""

from __future__ import annotations

import math

import pyoxigraph as ox
import pytest

from mbtkg.queries import list_queries
from mbtkg.stores.base import Store, Term
from mbtkg.stores.oxigraph import OxigraphStore
from mbtkg.stores.oxigraph_rows import converted_rows, rows_from_tsv

X = "http://www.w3.org/2001/XMLSchema#"
S, P = ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p")


def _typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(X + datatype))


#: Objects whose TSV forms differ: bare numbers and booleans, escapes, languages, odd lexical
#: forms Oxigraph keeps or makes canonical, control characters, non-ASCII text and IRIs.
OBJECTS: list[ox.NamedNode | ox.BlankNode | ox.Literal] = [
    ox.Literal('tab\there, line\nend, "quoted", back\\slash, é, 𝄞'),
    ox.Literal("carriage\rreturn \u0001 \u007f \u2028 \x0b\x0c\x1c"),
    ox.Literal(""),
    ox.Literal("\\u0041 is not an escape in the value"),
    ox.Literal("hej", language="sv"),
    ox.Literal("x", language="en-GB"),
    _typed("1", "integer"),
    _typed("-7", "integer"),
    _typed("007", "integer"),
    _typed("+3", "integer"),
    _typed("99999999999999999999999", "integer"),
    _typed("abc", "integer"),
    _typed("1.5", "decimal"),
    _typed(".5", "decimal"),
    _typed("-0.0", "decimal"),
    _typed("2.5e0", "double"),
    _typed("1E3", "double"),
    _typed("NaN", "double"),
    _typed("INF", "double"),
    _typed("-INF", "float"),
    _typed("true", "boolean"),
    _typed("0", "boolean"),
    _typed("12", "int"),
    _typed("2024-01-08", "date"),
    _typed("P1D", "duration"),
    ox.Literal("x", datatype=ox.NamedNode("https://example.org/dt#odd")),
    ox.NamedNode("https://example.org/é/a%20b?q=1#f"),
    ox.BlankNode("b1"),
]


def _same(a: tuple[tuple[Term | None, ...], ...], b: tuple[tuple[Term | None, ...], ...]) -> None:
    """Equal rows, NaN equal to NaN."""
    assert len(a) == len(b)
    for row_a, row_b in zip(a, b, strict=True):
        for x, y in zip(row_a, row_b, strict=True):
            if x is not None and isinstance(x.value, float) and math.isnan(x.value):
                assert y is not None and isinstance(y.value, float) and math.isnan(y.value)
                assert x.datatype == y.datatype
            else:
                assert x == y, (x, y)


def _both(store: ox.Store, sparql: str) -> tuple[tuple[tuple[Term | None, ...], ...], ...]:
    result = store.query(sparql)
    assert isinstance(result, ox.QuerySolutions)
    width = len(result.variables)
    text = result.serialize(format=ox.QueryResultsFormat.TSV) or b""
    from_text = rows_from_tsv(text, width)
    result = store.query(sparql)
    assert isinstance(result, ox.QuerySolutions)
    from_objects = converted_rows(result, width)
    assert from_text is not None, text[:500]
    return from_text, from_objects


def test_every_kind_of_term_reads_as_from_the_objects() -> None:
    store = ox.Store()
    for obj in OBJECTS:
        store.add(ox.Quad(S, P, obj))
    # an unbound column, a column of one kind, and a row whose cells are all unbound
    from_text, from_objects = _both(
        store, "SELECT ?o ?none ?s WHERE { { ?s ?p ?o } UNION { BIND(1 AS ?x) } }"
    )
    _same(from_text, from_objects)
    assert len(from_text) == len(OBJECTS) + 1
    assert (None, None, None) in from_text
    values = {t.value for row in from_text for t in row[:1] if t is not None}
    assert 'tab\there, line\nend, "quoted", back\\slash, é, 𝄞' in values
    assert "\\u0041 is not an escape in the value" in values
    assert 99999999999999999999999 in values


def test_a_one_column_answer_with_unbound_rows_keeps_them() -> None:
    """With one column, an unbound cell is an empty line of the TSV text."""
    store = ox.Store()
    from_text, from_objects = _both(store, "SELECT ?x WHERE { VALUES ?x { UNDEF 1 UNDEF } }")
    assert from_text == from_objects == ((None,), (Term(1, datatype=X + "integer"),), (None,))


def test_an_answer_with_no_row_or_no_column() -> None:
    store = ox.Store()
    assert _both(store, "SELECT ?x WHERE { ?x ?p ?o }") == ((), ())
    rows = OxigraphStore().select("SELECT * WHERE { }")
    assert rows.columns == () and len(rows) == 1


def test_a_quoted_triple_goes_the_object_way() -> None:
    store = OxigraphStore()
    store.raw.add(ox.Quad(S, P, ox.Triple(S, P, ox.Literal("inner"))))
    text = store.raw.query("SELECT ?o WHERE { ?s ?p ?o }")
    assert isinstance(text, ox.QuerySolutions)
    assert rows_from_tsv(text.serialize(format=ox.QueryResultsFormat.TSV) or b"", 1) is None
    rows = store.select("SELECT ?o WHERE { ?s ?p ?o }")
    assert rows.rows == ((Term(str(ox.Triple(S, P, ox.Literal("inner")))),),)


@pytest.mark.parametrize(
    "text",
    [
        b'?x\n"unterminated\n',
        b'?x\n"x"junk\n',
        b'?x\n"bad \\q escape"\n',
        b'?x\n"\\uD800"\n',
        b"?x\nnot-a-number\n",
        b"?x\t?y\nonly-one-cell\n",
    ],
)
def test_a_cell_the_reader_does_not_take_gives_none(text: bytes) -> None:
    assert rows_from_tsv(text, text.split(b"\n")[0].count(b"\t") + 1) is None


def test_every_competency_query_reads_the_same_both_ways(example_store: Store) -> None:
    assert isinstance(example_store, OxigraphStore)
    checked = 0
    for query in list_queries():
        sparql = query.bind(dict(query.example))
        from_text, from_objects = _both(example_store.raw, sparql)
        _same(from_text, from_objects)
        checked += len(from_text)
    assert checked > 100


def test_an_answer_longer_than_a_block_reads_every_row() -> None:
    """Rows are split a block at a time: cells met in an earlier block, new cells in a later
    one, and the last partial block all come back in order."""
    from mbtkg.stores import oxigraph_rows

    store = ox.Store()
    count = oxigraph_rows._BLOCK * 2 + 17
    for i in range(count):
        label = ox.Literal(f"row {i % 5}") if i < oxigraph_rows._BLOCK else ox.Literal(f"new {i}")
        store.add(ox.Quad(ox.NamedNode(f"https://example.org/r{i}"), P, label))
    from_text, from_objects = _both(store, "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s")
    assert from_text == from_objects
    assert len(from_text) == count
