"""The ontology's closure compiled into lookup tables for the fast inference engine.

``reasonable`` closes the ontology once per process (:func:`mbtkg.session_reasoning.reference.tbox`). This
module turns that closure into what :mod:`mbtkg.session_reasoning.fast` looks up while it reasons over
a session: for each class, every class its members also belong to; for each property, every
link one link with it brings (super-properties, inverses, mirror images) and the classes its
subject and object then belong to (domains, ranges and ``someValuesFrom owl:Thing``
restrictions, closed); and the restrictions and intersections whose rules join two facts.

Keys and values are N-Triples term strings (``<iri>``, ``_:b0``, ``"8"^^<...#integer>``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from .. import vocab
from ..nquads_text import Triple

if TYPE_CHECKING:
    from .reference import TBox


def _n(iri: str) -> str:
    return f"<{iri}>"


def _owl(local: str) -> str:
    return _n(vocab.OWL + local)


TYPE = _n(vocab.RDF + "type")
THING = _owl("Thing")
RESOURCE = _n(vocab.RDFS + "Resource")
_FIRST, _REST, _NIL = _n(vocab.RDF + "first"), _n(vocab.RDF + "rest"), _n(vocab.RDF + "nil")
_SUBCLASS, _SUBPROPERTY = _n(vocab.RDFS + "subClassOf"), _n(vocab.RDFS + "subPropertyOf")
_DOMAIN, _RANGE = _n(vocab.RDFS + "domain"), _n(vocab.RDFS + "range")

#: Constructs whose OWL 2 RL rules the fast engine does not run: with one of them in the
#: ontology, every session is reasoned by ``reasonable`` (see ``CompiledTBox.unsupported``).
_UNSUPPORTED = frozenset(
    _owl(p) for p in ("propertyChainAxiom", "hasKey", "maxCardinality", "maxQualifiedCardinality")
)


@dataclass
class CompiledTBox:
    """The ontology's closure as lookup tables keyed by N-Triples term strings."""

    #: class -> every class a member of it belongs to (itself included): subClassOf,
    #: equivalentClass, an intersection's components (cls-int2), the unions it is part of
    entailed: dict[str, frozenset[str]] = field(default_factory=dict)
    #: component -> (intersection, its components but owl:Thing) for cls-int1
    intersections: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    super_properties: dict[str, list[str]] = field(default_factory=dict)
    inverses: dict[str, list[str]] = field(default_factory=dict)
    symmetric: set[str] = field(default_factory=set)
    transitive: set[str] = field(default_factory=set)
    functional: set[str] = field(default_factory=set)
    inverse_functional: set[str] = field(default_factory=set)
    domains: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, list[str]] = field(default_factory=dict)
    #: someValuesFrom a class: property -> (restriction, filler); filler -> (restriction, property)
    some_by_property: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    some_by_filler: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: someValuesFrom owl:Thing: property -> restrictions (every link types its subject)
    some_thing: dict[str, list[str]] = field(default_factory=dict)
    #: allValuesFrom: property -> (restriction, filler); restriction -> (property, filler)
    all_by_property: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    all_by_restriction: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: hasValue: (property, value) -> restrictions; restriction -> (property, value)
    value_by_link: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    value_by_restriction: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: the properties of the hasValue restrictions
    value_properties: frozenset[str] = frozenset()
    #: the types the ontology gives its own named individuals (e.g. a session setting)
    individual_types: dict[str, frozenset[str]] = field(default_factory=dict)
    #: property -> every (property, reversed) one link with it brings (itself first)
    link_closure: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    #: property -> the classes the subject / the object of one link with it belongs to
    subject_types: dict[str, frozenset[str]] = field(default_factory=dict)
    object_types: dict[str, frozenset[str]] = field(default_factory=dict)
    #: properties whose links a rule joins with another fact (transitive, restrictions)
    joined: frozenset[str] = frozenset()
    #: properties whose links bring nothing a join needs: handled in one pass, no work list
    direct: frozenset[str] = frozenset()
    #: properties one of whose links brings a link of a joined property
    via_engine: frozenset[str] = frozenset()
    #: fillers of someValuesFrom restrictions
    fillers: frozenset[str] = frozenset()
    #: classes a rule joins with other types of the same node (intersections, allValuesFrom
    #: and hasValue restrictions)
    triggers: frozenset[str] = frozenset()
    #: classes never written to an inferred graph: owl:Thing, rdfs:Resource, blank nodes
    hidden_classes: frozenset[str] = frozenset()
    #: what the ontology uses that the fast engine cannot run (empty: it runs every session)
    unsupported: tuple[str, ...] = ()

    @classmethod
    def from_tbox(cls, box: TBox) -> CompiledTBox:
        """Compile the closure ``reasonable`` computed of an ontology."""
        return cls.from_triples((s.n3(), p.n3(), o.n3()) for s, p, o in box.closure)

    @classmethod
    def from_triples(cls, triples: Iterable[Triple]) -> CompiledTBox:
        """Compile an ontology's closure given as term strings."""
        box = cls()
        facts = list(triples)
        by_subject: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for s, p, o in facts:
            by_subject[s][p].append(o)
        edges: dict[str, set[str]] = defaultdict(set)  # class -> classes its members are in
        unsupported: set[str] = set()
        individuals: dict[str, set[str]] = defaultdict(set)
        for s, p, o in facts:
            if p in _UNSUPPORTED:
                unsupported.add(p)
            elif p == _SUBCLASS:
                edges[s].add(o)
            elif p == _owl("equivalentClass"):
                edges[s].add(o)
                edges[o].add(s)
            elif p == _owl("intersectionOf"):
                parts = _members(by_subject, o)
                edges[s].update(parts)
                needed = tuple(c for c in parts if c != THING)
                for part in needed:
                    box.intersections.setdefault(part, []).append((s, needed))
            elif p == _owl("unionOf"):
                for part in _members(by_subject, o):
                    edges[part].add(s)
            elif p == _SUBPROPERTY:
                box.super_properties.setdefault(s, []).append(o)
            elif p == _owl("equivalentProperty"):
                box.super_properties.setdefault(s, []).append(o)
                box.super_properties.setdefault(o, []).append(s)
            elif p == _owl("inverseOf"):
                box.inverses.setdefault(s, []).append(o)
                box.inverses.setdefault(o, []).append(s)
            elif p == _DOMAIN:
                box.domains.setdefault(s, []).append(o)
            elif p == _RANGE:
                box.ranges.setdefault(s, []).append(o)
            elif p == TYPE:
                kinds = {
                    _owl("SymmetricProperty"): box.symmetric,
                    _owl("TransitiveProperty"): box.transitive,
                    _owl("FunctionalProperty"): box.functional,
                    _owl("InverseFunctionalProperty"): box.inverse_functional,
                }
                if o in kinds:
                    kinds[o].add(s)
                if s.startswith("<"):
                    individuals[s].add(o)
        box._compile_restrictions(by_subject)
        for start in edges:
            reached, todo = {start}, [start]
            while todo:
                for nxt in edges.get(todo.pop(), ()):
                    if nxt not in reached:
                        reached.add(nxt)
                        todo.append(nxt)
            box.entailed[start] = frozenset(reached)
        box.individual_types = {node: box.closed(classes) for node, classes in individuals.items()}
        box.unsupported = tuple(sorted(unsupported))
        box.hidden_classes = frozenset(
            {THING, RESOURCE, *(t for fact in facts for t in fact if t.startswith("_:"))}
        )
        box._close_properties()
        return box

    def closed(self, classes: Iterable[str]) -> frozenset[str]:
        """The classes and every class they entail."""
        return frozenset(c for cls in classes for c in self.entailed.get(cls, (cls,)))

    def _compile_restrictions(self, by_subject: dict[str, dict[str, list[str]]]) -> None:
        for restriction, links in by_subject.items():
            for prop in links.get(_owl("onProperty"), []):
                for filler in links.get(_owl("someValuesFrom"), []):
                    if filler == THING:
                        self.some_thing.setdefault(prop, []).append(restriction)
                    else:
                        self.some_by_property.setdefault(prop, []).append((restriction, filler))
                        self.some_by_filler.setdefault(filler, []).append((restriction, prop))
                for filler in links.get(_owl("allValuesFrom"), []):
                    self.all_by_property.setdefault(prop, []).append((restriction, filler))
                    self.all_by_restriction.setdefault(restriction, []).append((prop, filler))
                for value in links.get(_owl("hasValue"), []):
                    self.value_by_link.setdefault((prop, value), []).append(restriction)
                    self.value_by_restriction.setdefault(restriction, []).append((prop, value))

    def _close_properties(self) -> None:
        """What one link brings at once: every (predicate, reversed) link, and the classes
        its subject and object then belong to."""
        read = {
            *self.super_properties,
            *self.inverses,
            *self.symmetric,
            *self.domains,
            *self.ranges,
            *self.some_thing,
            *self.transitive,
            *self.some_by_property,
            *self.all_by_property,
            *(prop for prop, _ in self.value_by_link),
        }
        self.value_properties = frozenset(prop for prop, _ in self.value_by_link)
        self.joined = frozenset(
            {
                *self.transitive,
                *self.some_by_property,
                *self.all_by_property,
                *(prop for prop, _ in self.value_by_link),
            }
        )
        for prop in read:
            reached = {(prop, False)}
            todo = [(prop, False)]
            while todo:
                p, inverted = todo.pop()
                nxt = [(q, inverted) for q in self.super_properties.get(p, ())]
                nxt += [(q, not inverted) for q in self.inverses.get(p, ())]
                if p in self.symmetric:
                    nxt.append((p, not inverted))
                for state in nxt:
                    if state not in reached:
                        reached.add(state)
                        todo.append(state)
            self.link_closure[prop] = (
                (prop, False),
                *sorted(s for s in reached if s != (prop, False)),
            )
            subject: set[str] = set()
            obj: set[str] = set()
            for p, inverted in reached:
                ends = (obj, subject) if inverted else (subject, obj)
                ends[0].update(self.closed(self.domains.get(p, ())))
                ends[0].update(self.closed(self.some_thing.get(p, ())))  # cls-svf2
                ends[1].update(self.closed(self.ranges.get(p, ())))
            self.subject_types[prop] = frozenset(subject)
            self.object_types[prop] = frozenset(obj)
        self.via_engine = frozenset(
            p for p in read if any(q in self.joined for q, _ in self.link_closure[p])
        )
        self.direct = frozenset(read - self.via_engine)
        self.triggers = frozenset(
            {*self.intersections, *self.all_by_restriction, *self.value_by_restriction}
        )
        self.fillers = frozenset(self.some_by_filler)


def _members(by_subject: dict[str, dict[str, list[str]]], head: str) -> tuple[str, ...]:
    """The members of an RDF list."""
    out: list[str] = []
    seen: set[str] = set()
    while head != _NIL and head not in seen:
        seen.add(head)
        links = by_subject.get(head, {})
        out.extend(links.get(_FIRST, [])[:1])
        rest = links.get(_REST)
        if not rest:
            break
        head = rest[0]
    return tuple(out)


@lru_cache(maxsize=1)
def compiled_tbox() -> CompiledTBox:
    """The bundled ontology's closure, compiled once per process (a load compiles it before
    its worker processes fork, so they inherit it)."""
    from .reference import tbox  # rdflib and the reference engine: only when building

    return CompiledTBox.from_tbox(tbox())
