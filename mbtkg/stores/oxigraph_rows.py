"""The rows of an Oxigraph SELECT answer as :class:`~mbtkg.stores.base.Term` rows.

Oxigraph hands each solution to Python as objects, one per cell; turning those into Terms
cost about 2.5 µs a row, a tenth of a large store-wide answer (docs/performance.md). Instead the
answer is serialized by Oxigraph itself as SPARQL TSV (one line per row, cells separated by
tabs, each term in N-Triples form, tabs and line ends inside literals escaped) and the text is
read here, each distinct cell once per answer.

Numbers and booleans come bare in that form (``7``, ``1.5``, ``true``); their datatype is
told by their shape, as the TSV format defines. A cell this reader does not know (a quoted
triple) or a line of the wrong width makes :func:`rows_from_tsv` return None, and the caller
reads the answer as objects instead (:func:`converted_rows`), so both ways give the same
Terms; ``tests/test_oxigraph_rows.py`` compares them.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from .base import Term
from .literal_values import XSD, python_value

_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_STRING = f"{XSD}string"
#: Rows split into cells at a time.
_BLOCK = 4096
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


class _Unread(Exception):
    """A cell this reader does not read: the answer is read as objects instead."""


def _unescaped(text: str) -> str:
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        short, long, char = m.groups()
        if char is not None:
            if char not in _ECHAR:
                raise _Unread
            return _ECHAR[char]
        code = int(short or long, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _Unread
        return chr(code)

    return _ESCAPE.sub(one, text)


def _term(cell: str) -> Term:
    """One TSV cell (not empty) as a Term, as :func:`to_term` gives for the same term."""
    first = cell[0]
    if first == '"':
        end = cell.rfind('"')
        if end == 0:
            raise _Unread
        rest = cell[end + 1 :]
        if not rest:
            datatype = _STRING
        elif rest[0] == "@":
            datatype = _RDF_LANG_STRING
        elif rest.startswith("^^<") and rest.endswith(">"):
            datatype = rest[3:-1]
        else:
            raise _Unread
        return Term(python_value(_unescaped(cell[1:end]), datatype), datatype=datatype)
    if first == "<":
        if cell.startswith("<<") or not cell.endswith(">"):
            raise _Unread  # a quoted triple
        return Term(cell[1:-1], is_iri=True)
    if first == "_":
        return Term(cell)
    if cell in ("true", "false"):
        datatype = f"{XSD}boolean"
    elif "e" in cell or "E" in cell:
        datatype = f"{XSD}double"
    elif "." in cell:
        datatype = f"{XSD}decimal"
    else:
        datatype = f"{XSD}integer"
    value = python_value(cell, datatype)
    if isinstance(value, str):
        raise _Unread  # not a number after all
    return Term(value, datatype=datatype)


def rows_from_tsv(text: bytes, width: int) -> tuple[tuple[Term | None, ...], ...] | None:
    """The rows of an answer serialized as SPARQL TSV; None when a cell is not read here."""
    if width == 0:
        return None  # rows of no column are empty lines: their number is all there is
    # a header line first, and every line ends with "\n" (one in a literal is written "\n")
    lines = text.decode("utf-8").split("\n")
    end = len(lines) - 1
    terms: dict[str, Term | None] = {"": None}
    term = terms.__getitem__
    rows: list[tuple[Term | None, ...]] = []
    # a block of rows at a time, so that the cells split apart are never all held at once;
    # each distinct cell is read once, and the rows are then looked up in C
    for start in range(1, end, _BLOCK):
        block = [line.split("\t") for line in lines[start : min(start + _BLOCK, end)]]
        if any(len(cells) != width for cells in block):
            return None
        try:
            terms.update({cell: _term(cell) for cell in set().union(*block) - terms.keys()})
        except _Unread:
            return None
        rows.extend(tuple(map(term, cells)) for cells in block)
    return tuple(rows)


def to_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> Term | None:
    """Convert an Oxigraph term to a result Term with a plain Python value."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return Term(term.value, is_iri=True)
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        return Term(python_value(term.value, dt), datatype=dt)
    return Term(str(term))


def converted_rows(result: ox.QuerySolutions, width: int) -> tuple[tuple[Term | None, ...], ...]:
    """Every solution as a row of Terms, from the solution objects. Answers repeat values
    (session ids, labels, names), so each distinct term is converted once per answer."""
    seen: dict[object, Term | None] = {}
    positions = range(width)
    rows = []
    for solution in result:
        row = []
        for i in positions:
            value = solution[i]
            term = seen.get(value)
            if term is None and value is not None:
                term = seen[value] = to_term(value)
            row.append(term)
        rows.append(tuple(row))
    return tuple(rows)
