"""Run an ``sh:sparql`` constraint inside each session's named graph, when that is exact.

pySHACL runs a SPARQL constraint over session + ontology. The batch engine holds many
sessions in one store and wants each constraint evaluated once, inside ``GRAPH ?g { ... }``,
with ``?g`` telling whose session a result belongs to. That gives the same answers exactly
when no triple pattern of the query can match an ontology triple: then the ontology adds
nothing to any solution, and one session's graph is all the query ever sees.

:func:`graph_local` decides that from the query's algebra (rdflib's SPARQL parser): every
triple pattern, also inside ``OPTIONAL``, ``MINUS`` and ``(NOT) EXISTS``, must have a fixed
predicate the ontology never uses, or be ``?x rdf:type C`` with a class ``C`` the ontology
types nothing with; property paths may not match zero steps (``*``, ``?``) or negate
(``!p``), since those reach ontology nodes too. Queries with ``GRAPH``, ``SERVICE``, subqueries,
aggregates, ``ORDER BY``, ``LIMIT`` or ``OFFSET`` are left alone, as are queries that project
anything but ``$this`` and ``?value``. When any of that fails, the batch engine is not used for
those shapes (see :mod:`mbtkg.validation.fast_shacl.compiler`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import rdflib
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from .ontology_facts import RDF_TYPE, OntologyFacts

#: Algebra and parse-tree nodes whose meaning changes when the query runs per graph.
_REFUSED = {
    "Graph", "GraphGraphPattern", "ServiceGraphPattern", "Service", "SubSelect", "Group",
    "AggregateJoin", "Slice", "OrderBy", "OrderCondition", "Load", "DescribeQuery",
}  # fmt: skip
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_HEAD = re.compile(
    r"^\s*SELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?((?:[?$][A-Za-z_][A-Za-z0-9_]*\s*)+)(?:WHERE\s*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SplitQuery:
    """A ``SELECT vars WHERE { body }`` query taken apart."""

    variables: tuple[str, ...]  # projected, without ? or $
    body: str  # the text between the outer braces


def split_select(text: str) -> SplitQuery | None:
    """The projection and the outer group of a plain SELECT query, or None for anything else.

    >>> split_select('SELECT $this ?value WHERE { $this <p> "}" ; <q> ?value }').body
    ' $this <p> "}" ; <q> ?value '
    >>> split_select("SELECT ?x WHERE { ?x ?p ?o } LIMIT 1") is None
    True
    """
    opening = closing = None
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "<":
            m = _IRI.match(text, i)
            if m:
                i = m.end()
                continue
        elif c in "\"'":
            end = _string_end(text, i)
            if end is None:
                return None
            i = end
            continue
        elif c == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        elif c == "{":
            if depth == 0:
                if opening is not None:
                    return None
                opening = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                closing = i
        i += 1
    if opening is None or closing is None or depth != 0 or text[closing + 1 :].strip():
        return None
    head = _HEAD.match(text[:opening])
    if head is None:
        return None
    variables = tuple(v[1:] for v in head.group(1).split())
    return SplitQuery(variables, text[opening + 1 : closing])


def _string_end(text: str, start: int) -> int | None:
    """The index after the string literal that starts at ``start``."""
    quote = text[start]
    long = text.startswith(quote * 3, start)
    delimiter = quote * 3 if long else quote
    i = start + len(delimiter)
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(delimiter, i):
            return i + len(delimiter)
        if not long and text[i] in "\r\n":
            return None
        i += 1
    return None


def _nodes(node: object) -> Iterator[object]:
    """Every node of an rdflib SPARQL algebra / parse tree, depth first."""
    yield node
    if isinstance(node, dict):  # CompValue is a dict
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _nodes(value)


def _path_iris(path: object) -> Iterator[str] | None:
    """The IRIs a property path steps along, or None when it can match without a triple."""
    out: list[str] = []

    def walk(p: object) -> bool:
        if isinstance(p, rdflib.URIRef):
            out.append(str(p))
            return True
        if isinstance(p, MulPath):
            return p.mod == "+" and walk(p.path)
        if isinstance(p, InvPath):
            return walk(p.arg)
        if isinstance(p, SequencePath | AlternativePath):
            return all(walk(a) for a in p.args)
        return False  # NegatedPath, variables, anything unknown

    return iter(out) if walk(path) else None


def ontology_blind_reason(text: str, facts: OntologyFacts) -> str | None:
    """Why the ontology might take part in this query's answers; None when it cannot."""
    try:
        query = prepareQuery(text)
    except Exception as exc:  # noqa: BLE001 - any parse failure means: do not rewrite
        return f"rdflib cannot parse it ({type(exc).__name__})"
    algebra = query.algebra
    if algebra.get("datasetClause"):
        return "it names its dataset (FROM)"
    for node in _nodes(algebra):
        if isinstance(node, CompValue):
            if node.name in _REFUSED or node.name.startswith("Aggregate"):
                return f"it uses {node.name}"
            triples = node.get("triples")
            if triples is None or node.name not in ("BGP", "TriplesBlock"):
                continue
            for triple in _expanded(triples):
                reason = _triple_reason(triple, facts)
                if reason:
                    return reason
        elif isinstance(node, NegatedPath):  # pragma: no cover - found through its triple
            return "it uses a negated property path"
    return None


def _expanded(triples: object) -> Iterator[object]:
    """Triples one by one; a parse tree holds ``s p o ; p2 o2`` as one flat list of 3n terms."""
    for item in triples if isinstance(triples, list | tuple) else [triples]:
        if isinstance(item, list | tuple) and len(item) > 3 and len(item) % 3 == 0:
            for i in range(0, len(item), 3):
                yield tuple(item[i : i + 3])
        else:
            yield item


def _triple_reason(triple: object, facts: OntologyFacts) -> str | None:
    if not isinstance(triple, list | tuple) or len(triple) != 3:
        return "a triple pattern rdflib did not expand"
    _s, p, o = triple
    if isinstance(p, Path):
        iris = _path_iris(p)
        if iris is None:
            return f"a property path that can match zero or any triples ({p})"
        used = [iri for iri in iris if facts.has_triples_with(iri)]
        return f"the ontology has triples with {used[0]}" if used else None
    if not isinstance(p, rdflib.URIRef):
        return "a triple pattern with a variable predicate"
    if str(p) == RDF_TYPE:
        if not isinstance(o, rdflib.URIRef):
            return "an rdf:type pattern without a fixed class"
        return f"the ontology types nodes with {o}" if facts.types_anything_as(str(o)) else None
    return f"the ontology has triples with {p}" if facts.has_triples_with(str(p)) else None


def graph_local(
    text: str, facts: OntologyFacts, *, graph_var: str, focus: str
) -> tuple[str | None, str | None]:
    """(group, None) evaluating the constraint inside ``GRAPH ?graph_var``, or (None, reason).

    The group joins the constraint's solutions with ``focus`` (a pattern binding
    ``?graph_var`` and ``?this``) and binds ``?this`` and, when projected, ``?value``.
    """
    split = split_select(text)
    if split is None:
        return None, "not a plain SELECT ... WHERE { ... } query"
    if "this" not in split.variables or not set(split.variables) <= {"this", "value"}:
        return None, "it projects variables other than $this and ?value"
    if "value" not in split.variables and re.search(r"[?$]value\b", split.body):
        return None, "it binds ?value without projecting it"
    if re.search(rf"[?$]{graph_var}\b", text):
        return None, f"it uses the variable ?{graph_var}"
    reason = ontology_blind_reason(text, facts)
    if reason:
        return None, reason
    # The constraint as a subquery: Oxigraph then evaluates it once for all graphs and joins
    # the focus nodes by hash, instead of once per focus node.
    variables = " ".join(f"?{v}" for v in split.variables)
    solutions = (
        f"{{ SELECT ?{graph_var} {variables} WHERE {{ GRAPH ?{graph_var} {{ {split.body} }} }} }}"
    )
    return f"{focus} {solutions}", None
