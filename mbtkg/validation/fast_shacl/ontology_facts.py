"""What the compiled queries need to know about the ontology, worked out once per process.

pySHACL validates a session with the ontology mixed into the data graph (``ont_graph``), so
``sh:class`` and ``sh:targetClass`` follow ``rdfs:subClassOf*`` through the ontology and an
ontology IRI may be a typed value. It does not mix in every ontology triple: it copies the
RDFS and OWL axioms, the type of every class and property, and whole named individuals (its
"inoculation"). :func:`pyshacl_ontology_quads` is exactly that part, computed with pySHACL's
own function, and both ways of the fast engine use it as "the ontology".

The ontology is the same for every session, so the batch
engine does not load it with each one: it precomputes the facts below and puts only those
into the store, as a small graph of its own (:data:`FACTS_GRAPH`):

* ``(X, facts:subClassOf, C)`` for every class ``X`` with ``X rdfs:subClassOf* C`` in the
  ontology (``C`` itself included), for each class ``C`` a shape uses;
* ``(x, facts:instanceOf, C)`` for every node the ontology itself types with such an ``X``;
* every ontology triple whose predicate a shape reads (a path, a target, a ``sh:lessThan``),
  which the compiled query matches next to the session's own triples.

The precomputed closure equals the closure over session + ontology only while the session
asserts no ``rdfs:subClassOf`` triple; the engine checks that for every session and validates
such a session the slow, general way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from ... import vocab
from ...concepts import default_ontology_quads

#: The named graph that holds the precomputed facts in a batch store.
FACTS_GRAPH = "urn:x-mbtkg:fast-shacl:ontology-facts"
#: Predicate of ``(X, SUBCLASS_OF, C)``: X is C or one of its subclasses in the ontology.
SUBCLASS_OF = FACTS_GRAPH + "#subClassOf"
#: Predicate of ``(x, INSTANCE_OF, C)``: the ontology types x with C or a subclass of C.
INSTANCE_OF = FACTS_GRAPH + "#instanceOf"

RDF_TYPE = vocab.RDF + "type"
SUBCLASS = vocab.RDFS + "subClassOf"

Node = ox.NamedNode | ox.BlankNode


@dataclass(frozen=True)
class OntologyFacts:
    """Predicates, class hierarchy and typed nodes of an ontology (its triples, graph names dropped)."""

    triples: tuple[tuple[Node, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal], ...]
    predicates: frozenset[str]
    #: class -> its direct subclasses (subjects of ``X rdfs:subClassOf class``)
    direct_subclasses: dict[Node, frozenset[Node]]
    #: class -> the nodes the ontology types with it (``x rdf:type class``)
    direct_instances: dict[Node, frozenset[Node]]

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> OntologyFacts:
        """Index an ontology's quads."""
        triples = []
        subs: dict[Node, set[Node]] = defaultdict(set)
        instances: dict[Node, set[Node]] = defaultdict(set)
        for q in quads:
            s, p, o = q.subject, q.predicate, q.object
            if isinstance(s, ox.Triple) or isinstance(o, ox.Triple):  # pragma: no cover
                continue  # RDF-star terms never occur in the ontology
            triples.append((s, p, o))
            if p.value == SUBCLASS and not isinstance(o, ox.Literal):
                subs[o].add(s)
            elif p.value == RDF_TYPE and not isinstance(o, ox.Literal):
                instances[o].add(s)
        return cls(
            triples=tuple(triples),
            predicates=frozenset(p.value for _s, p, _o in triples),
            direct_subclasses={k: frozenset(v) for k, v in subs.items()},
            direct_instances={k: frozenset(v) for k, v in instances.items()},
        )

    def subclasses(self, cls: str) -> frozenset[Node]:
        """Every X with ``X rdfs:subClassOf* cls`` in the ontology, ``cls`` itself included."""
        start = ox.NamedNode(cls)
        seen: set[Node] = {start}
        todo: list[Node] = [start]
        while todo:
            for sub in self.direct_subclasses.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return frozenset(seen)

    def instances(self, cls: str) -> frozenset[Node]:
        """Every node the ontology types with ``cls`` or one of its subclasses."""
        return frozenset(
            x for sub in self.subclasses(cls) for x in self.direct_instances.get(sub, ())
        )

    def has_triples_with(self, predicate: str) -> bool:
        """Whether any ontology triple has this predicate."""
        return predicate in self.predicates

    def types_anything_as(self, cls: str) -> bool:
        """Whether the ontology has a triple ``x rdf:type cls`` (the class exactly, no subclass)."""
        return bool(self.direct_instances.get(ox.NamedNode(cls)))

    def fact_quads(self, classes: Iterable[str], predicates: Iterable[str]) -> list[ox.Quad]:
        """The quads of :data:`FACTS_GRAPH` for the given classes and read predicates."""
        graph = ox.NamedNode(FACTS_GRAPH)
        sub_of, instance_of = ox.NamedNode(SUBCLASS_OF), ox.NamedNode(INSTANCE_OF)
        out: list[ox.Quad] = []
        for cls in sorted(set(classes)):
            c = ox.NamedNode(cls)
            out += [ox.Quad(x, sub_of, c, graph) for x in self.subclasses(cls)]
            out += [ox.Quad(x, instance_of, c, graph) for x in self.instances(cls)]
        wanted = set(predicates)
        out += [ox.Quad(s, p, o, graph) for s, p, o in self.triples if p.value in wanted]
        return out


@lru_cache(maxsize=1)
def pyshacl_ontology_quads() -> tuple[ox.Quad, ...]:
    """The bundled ontology as pySHACL mixes it into a data graph, in the ontology's graph.

    pySHACL copies RDFS/OWL axioms and named individuals into the data graph (blank nodes as
    fresh copies); with ``PYSHACL_USE_FULL_MIXIN`` set it copies every triple instead.
    """
    import rdflib
    from pyshacl.rdfutil.inoculate import inoculate
    from pyshacl.validator import USE_FULL_MIXIN

    if USE_FULL_MIXIN:
        return default_ontology_quads()
    from ..violations import ontology_graph

    mixed = inoculate(rdflib.Graph(), ontology_graph())  # type: ignore[arg-type]
    text = mixed.serialize(format="nt", encoding="utf-8")
    graph = ox.NamedNode(vocab.ONTOLOGY_GRAPH)
    return tuple(
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
    )


@lru_cache(maxsize=1)
def default_facts() -> OntologyFacts:
    """The facts of the bundled ontology as pySHACL sees it, worked out once per process."""
    return OntologyFacts.from_quads(pyshacl_ontology_quads())
