"""Write query answers in the standard SPARQL result formats: JSON, XML, CSV and TSV.

The endpoint collects at most ``max_rows + 1`` solutions before writing, so it can refuse an
over-large answer instead of sending part of it; that is why it serialises solutions itself
rather than handing Oxigraph's iterator to ``QuerySolutions.serialize``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

#: Result formats: name -> media type.
SELECT_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_FORMATS = {
    "turtle": "text/turtle",
    "n-triples": "application/n-triples",
}
_ALIASES = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/plain": "n-triples",
    "*/*": "",
}

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def choose_format(accept: str, *, graph: bool) -> str:
    """The result format name to answer with, from an Accept header (first acceptable wins)."""
    table = GRAPH_FORMATS if graph else SELECT_FORMATS
    by_type = {v: k for k, v in table.items()}
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in by_type:
            return by_type[media]
        alias = _ALIASES.get(media)
        if alias and alias in table:
            return alias
    return "turtle" if graph else "json"


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "literal", "value": str(term)}


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value not in (_XSD_STRING, _LANG_STRING):
            return (
                f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
            )
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def write_solutions(
    columns: Sequence[str], rows: Sequence[Sequence[Term | None]], fmt: str
) -> bytes:
    """Serialise SELECT solutions in one of SELECT_FORMATS."""
    if fmt == "json":
        doc: dict[str, Any] = {
            "head": {"vars": list(columns)},
            "results": {
                "bindings": [
                    {c: _json_term(t) for c, t in zip(columns, row, strict=True) if t is not None}
                    for row in rows
                ]
            },
        }
        return json.dumps(doc, ensure_ascii=False).encode()
    if fmt == "xml":
        lines = [
            '<?xml version="1.0"?>',
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
            "<head>" + "".join(f"<variable name={quoteattr(c)}/>" for c in columns) + "</head>",
            "<results>",
        ]
        for row in rows:
            cells = "".join(
                f"<binding name={quoteattr(c)}>{_xml_term(t)}</binding>"
                for c, t in zip(columns, row, strict=True)
                if t is not None
            )
            lines.append(f"<result>{cells}</result>")
        lines += ["</results>", "</sparql>"]
        return "\n".join(lines).encode()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(t) for t in row])
        return buffer.getvalue().encode()
    if fmt == "tsv":
        out = ["\t".join(f"?{c}" for c in columns)]
        out += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
        return ("\n".join(out) + "\n").encode()
    raise ValueError(f"unknown result format {fmt!r}")


def write_boolean(value: bool, fmt: str) -> bytes:
    """Serialise an ASK answer (CSV and TSV carry the bare word)."""
    if fmt == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{'true' if value else 'false'}</boolean></sparql>"
        ).encode()
    if fmt in ("csv", "tsv"):
        return b"true\n" if value else b"false\n"
    return json.dumps({"head": {}, "boolean": value}).encode()


def write_triples(triples: Sequence[ox.Triple], fmt: str) -> bytes:
    """Serialise CONSTRUCT or DESCRIBE triples as Turtle or N-Triples."""
    rdf_format = ox.RdfFormat.N_TRIPLES if fmt == "n-triples" else ox.RdfFormat.TURTLE
    return ox.serialize(list(triples), format=rdf_format) or b""
