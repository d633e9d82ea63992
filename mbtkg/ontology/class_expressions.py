"""Write OWL class expressions (restrictions, unions, lists: blank-node structures) as text.

The text is a compact Manchester-like syntax (``(mbt:involves min 2 mbt:Person)``). It is
canonical: it depends only on the structure, never on blank-node ids, and the members of
commutative constructs (``and``, ``or``, ``one of``, disjointness groups) are sorted. That makes
it the key :mod:`mbtkg.ontology.diff` compares axioms by, and readable on a concept card.
"""

from __future__ import annotations

from collections.abc import Callable

import rdflib
from rdflib.namespace import OWL, RDF

from ..concepts import compact

Namer = Callable[[rdflib.term.Node], str]

_CARDINALITY = {
    OWL.minCardinality: "min",
    OWL.maxCardinality: "max",
    OWL.cardinality: "exactly",
    OWL.minQualifiedCardinality: "min",
    OWL.maxQualifiedCardinality: "max",
    OWL.qualifiedCardinality: "exactly",
}
_BOOLEAN = {OWL.intersectionOf: "and", OWL.unionOf: "or"}


def is_true(node: rdflib.term.Node | None) -> bool:
    """Whether a node is the literal ``true`` (as in ``owl:deprecated true``)."""
    return isinstance(node, rdflib.Literal) and node.toPython() is True


def curie_namer(node: rdflib.term.Node) -> str:
    """Name an IRI by its CURIE and a literal by its quoted text."""
    if isinstance(node, rdflib.URIRef):
        return compact(str(node))
    if isinstance(node, rdflib.Literal):
        return f'"{node}"'
    return "_"


def rdf_list(graph: rdflib.Graph, head: rdflib.term.Node) -> list[rdflib.term.Node]:
    """The members of an RDF list (empty for rdf:nil or a malformed list)."""
    items: list[rdflib.term.Node] = []
    seen: set[rdflib.term.Node] = set()
    node: rdflib.term.Node | None = head
    while node is not None and node != RDF.nil and node not in seen:
        seen.add(node)
        first = graph.value(node, RDF.first)
        if first is None:
            break
        items.append(first)
        node = graph.value(node, RDF.rest)
    return items


def _named_first(text: str) -> tuple[bool, str]:
    """Sort key: named classes before nested expressions, then alphabetically."""
    return (text.startswith(("(", "{", "[")), text)


def render(
    graph: rdflib.Graph, node: rdflib.term.Node, *, name: Namer = curie_namer, depth: int = 0
) -> str:
    """The canonical text of a class expression (a named class is just its name).

    >>> g = rdflib.Graph()
    >>> _ = g.parse(data='''@prefix owl: <http://www.w3.org/2002/07/owl#> .
    ... @prefix mbt: <https://w3id.org/mbtkg/ontology#> .
    ... mbt:WeNess owl:equivalentClass [ a owl:Restriction ; owl:onProperty mbt:involves ;
    ...   owl:minQualifiedCardinality 2 ; owl:onClass mbt:Person ] .''', format="turtle")
    >>> render(g, next(g.objects(predicate=OWL.equivalentClass)))
    '(mbt:involves min 2 mbt:Person)'
    """
    if not isinstance(node, rdflib.BNode):
        return name(node)
    if depth > 20:  # a cyclic structure; never valid OWL, but do not loop
        return "…"

    def sub(n: rdflib.term.Node) -> str:
        return render(graph, n, name=name, depth=depth + 1)

    prop = graph.value(node, OWL.onProperty)
    if prop is not None:
        p = sub(prop)
        for pred, word in ((OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only")):
            filler = graph.value(node, pred)
            if filler is not None:
                return f"({p} {word} {sub(filler)})"
        value = graph.value(node, OWL.hasValue)
        if value is not None:
            return f"({p} value {sub(value)})"
        if graph.value(node, OWL.hasSelf) is not None:
            return f"({p} Self)"
        for pred, word in _CARDINALITY.items():
            n = graph.value(node, pred)
            if n is not None:
                on = graph.value(node, OWL.onClass) or graph.value(node, OWL.onDataRange)
                return f"({p} {word} {n}{' ' + sub(on) if on is not None else ''})"
    for pred, word in _BOOLEAN.items():
        head = graph.value(node, pred)
        if head is not None:
            members = sorted((sub(m) for m in rdf_list(graph, head)), key=_named_first)
            return "(" + f" {word} ".join(members) + ")"
    complement = graph.value(node, OWL.complementOf)
    if complement is not None:
        return f"(not {sub(complement)})"
    one_of = graph.value(node, OWL.oneOf)
    if one_of is not None:
        return "{" + ", ".join(sorted(sub(m) for m in rdf_list(graph, one_of))) + "}"
    if graph.value(node, RDF.first) is not None:
        return "(" + " ".join(sub(m) for m in rdf_list(graph, node)) + ")"
    # Anything else: its statements, sorted, so that the text is still canonical.
    parts = sorted(
        f"{name(p)} {sub(o)}"
        for p, o in graph.predicate_objects(node)
        if not (p == RDF.type and o in (OWL.Restriction, OWL.Class))
    )
    return "[" + "; ".join(parts) + "]"


_CLASS_AXIOMS = {
    rdflib.RDFS.subClassOf: "subClassOf",
    OWL.equivalentClass: "equivalentTo",
    OWL.disjointWith: "disjointWith",
}
_PROPERTY_AXIOMS = {
    rdflib.RDFS.domain: "domain",
    rdflib.RDFS.range: "range",
    rdflib.RDFS.subPropertyOf: "subPropertyOf",
    OWL.inverseOf: "inverseOf",
    OWL.equivalentProperty: "equivalentTo",
    OWL.propertyDisjointWith: "disjointWith",
}
_CHARACTERISTICS = {
    OWL[c]
    for c in [
        "FunctionalProperty",
        "InverseFunctionalProperty",
        "TransitiveProperty",
        "SymmetricProperty",
        "AsymmetricProperty",
        "ReflexiveProperty",
        "IrreflexiveProperty",
    ]
}
_SYMMETRIC = {OWL.equivalentClass, OWL.disjointWith, OWL.equivalentProperty, OWL.inverseOf}


def axioms(graph: rdflib.Graph, *, name: Namer = curie_namer) -> dict[rdflib.URIRef, set[str]]:
    """The logical axioms about each named class and property, one canonical line each.

    A line reads ``subClassOf (mbt:involves some mbt:Person)`` or ``domain mbt:Turn``.
    Symmetric axioms (equivalence, disjointness, inverse) are listed on both terms, and an
    ``owl:AllDisjointClasses`` group becomes ``disjointWith`` lines on each member.
    """
    out: dict[rdflib.URIRef, set[str]] = {}

    def add(entity: rdflib.term.Node, line: str) -> None:
        if isinstance(entity, rdflib.URIRef):
            out.setdefault(entity, set()).add(line)

    for table in (_CLASS_AXIOMS, _PROPERTY_AXIOMS):
        for pred, word in table.items():
            for s, o in graph.subject_objects(pred):
                add(s, f"{word} {render(graph, o, name=name)}")
                if pred in _SYMMETRIC:
                    add(o, f"{word} {render(graph, s, name=name)}")
    for s, o in graph.subject_objects(OWL.disjointUnionOf):
        add(s, f"disjointUnionOf {render(graph, o, name=name)}")
    for s, o in graph.subject_objects(OWL.propertyChainAxiom):
        add(s, f"propertyChain {render(graph, o, name=name)}")
    for s, o in graph.subject_objects(RDF.type):
        if o in _CHARACTERISTICS:
            add(s, f"characteristic {name(o)}")
    for group in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = rdf_list(graph, graph.value(group, OWL.members) or RDF.nil)
        for m in members:
            for other in members:
                if other != m:
                    add(m, f"disjointWith {render(graph, other, name=name)}")
    return out
