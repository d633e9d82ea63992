"""Validation checks generated from the ontology's axioms, so each rule is written once.

A coder writes links between annotations (``repairs``, ``respondsTo``, ...): the occurrence
relations of the ontology. The ontology says what each link joins (``rdfs:domain``,
``rdfs:range``). Instead of repeating that in hand-written shapes, this module turns those
axioms into SHACL shapes, added to ``shapes/`` when a session is validated, so both engines
(pySHACL and the fast one) check them, and the message says the axiom in words:

    s.yaml:15: annotation 'a2': 'repairs' must name an annotation of a rupture in this session;
    repairs links a repair to a rupture (ontology: repairs has range rupture) (found
    annotation 'a3')

For each occurrence relation P (a sub-property of ``mbt:occurrenceRelation``):

- ``mbtsh:Axiom-P-domain``: every annotation that uses P is coded with P's domain (or a
  subclass), unless the domain is ``mbt:SessionPhenomenon``, which ``mbtsh:Occurrence`` checks
  for every annotation already;
- ``mbtsh:Axiom-P-range``: every annotation P names is one of this session's annotations coded
  with P's range (or a subclass).

For each functional property whose domain is a structural class (the frame the session writer
emits, such as turns and turn selectors): ``mbtsh:Axiom-P-functional``, at most one value.

Under the closed world of a session file these are stricter than the open-world axioms (OWL
would infer the type instead), and that is the point: a coding that contradicts the theory is
reported, not silently retyped. Disjointness needs no check of its own here: each annotation
has one concept, so two disjoint types can only meet through a domain or range, which these
checks already refuse. See docs/reasoning.md, "What is checked".
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pyoxigraph as ox
import rdflib

from .. import vocab
from ..concepts import ConceptIndex, default_index, default_ontology_quads

SHAPES = "https://w3id.org/mbtkg/shapes#"
_SH = rdflib.Namespace(vocab.SH)
_PHENOMENON = vocab.MBT + "SessionPhenomenon"


def _article(label: str) -> str:
    return "an" if label[:1].lower() in "aeiou" else "a"


def _declared(quads: Iterable[ox.Quad], predicate: str) -> dict[str, str]:
    """Each property's own declared domain or range (one per property in this ontology)."""
    out: dict[str, str] = {}
    for q in quads:
        s, o = q.subject, q.object
        named = isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode)
        if named and q.predicate.value == predicate:
            out.setdefault(s.value, o.value)  # type: ignore[union-attr]
    return out


def axiom_shapes_from(quads: Iterable[ox.Quad], index: ConceptIndex) -> rdflib.Graph:
    """The generated shapes for an ontology given as quads."""
    quads = list(quads)
    domains = _declared(quads, vocab.RDFS + "domain")
    ranges = _declared(quads, vocab.RDFS + "range")
    labels = {**_property_labels(quads), **index.labels}
    g = rdflib.Graph()
    for prop, name in sorted(index.relation_labels.items()):
        said = labels.get(prop, name)
        node = rdflib.URIRef(f"{SHAPES}Axiom-{name}")
        g.add((node, rdflib.RDF.type, _SH.NodeShape))
        g.add((node, rdflib.RDFS.label, rdflib.Literal("annotation")))
        g.add((node, _SH.targetSubjectsOf, rdflib.URIRef(prop)))
        domain = domains.get(prop)
        if domain and domain != _PHENOMENON:
            d = labels.get(domain, domain)
            check = rdflib.URIRef(f"{SHAPES}Axiom-{name}-domain")
            g.add((check, rdflib.RDF.type, _SH.NodeShape))
            g.add((check, rdflib.RDFS.label, rdflib.Literal("annotation")))
            g.add((check, _SH.targetSubjectsOf, rdflib.URIRef(prop)))
            g.add((check, _SH["class"], rdflib.URIRef(domain)))
            g.add(
                (
                    check,
                    _SH.message,
                    rdflib.Literal(
                        f"only {_article(d)} {d} can use '{name}'; this annotation's concept is "
                        f"not {_article(d)} {d} (ontology: {said} has domain {d})"
                    ),
                )
            )
        target = ranges.get(prop)
        if target:
            r = labels.get(target, target)
            d = labels.get(domain or _PHENOMENON, "session phenomenon")
            check = rdflib.URIRef(f"{SHAPES}Axiom-{name}-range")
            g.add((node, _SH.property, check))
            g.add((check, rdflib.RDF.type, _SH.PropertyShape))
            g.add((check, _SH.path, rdflib.URIRef(prop)))
            g.add((check, _SH["class"], rdflib.URIRef(target)))
            g.add(
                (
                    check,
                    _SH.message,
                    rdflib.Literal(
                        f"'{name}' must name an annotation of {_article(r)} {r} in this session; "
                        f"{said} links {_article(d)} {d} to {_article(r)} {r} "
                        f"(ontology: {said} has range {r})"
                    ),
                )
            )
    _functional_shapes(g, quads, domains, labels)
    return g


def _functional_shapes(
    g: rdflib.Graph, quads: list[ox.Quad], domains: dict[str, str], labels: dict[str, str]
) -> None:
    """``mbtsh:Axiom-P-functional``: at most one value of each functional property whose domain
    is a structural class (the frame the session writer emits: turns, selectors)."""
    structural = {
        q.subject.value
        for q in quads
        if q.predicate.value == vocab.IN_SUBSET
        and isinstance(q.subject, ox.NamedNode)
        and q.object == ox.NamedNode(vocab.STRUCTURAL_SUBSET)
    }
    functional = sorted(
        q.subject.value
        for q in quads
        if q.predicate.value == vocab.RDF + "type"
        and isinstance(q.subject, ox.NamedNode)
        and q.object == ox.NamedNode(vocab.OWL + "FunctionalProperty")
    )
    for prop in functional:
        domain = domains.get(prop)
        if domain not in structural or not prop.startswith(vocab.MBT):
            continue
        name = prop[len(vocab.MBT) :]
        said = labels.get(prop, name)
        d = labels.get(str(domain), str(domain))
        node = rdflib.URIRef(f"{SHAPES}Axiom-{name}")
        check = rdflib.URIRef(f"{SHAPES}Axiom-{name}-functional")
        g.add((node, rdflib.RDF.type, _SH.NodeShape))
        g.add((node, rdflib.RDFS.label, rdflib.Literal(d)))
        g.add((node, _SH.targetSubjectsOf, rdflib.URIRef(prop)))
        g.add((node, _SH.property, check))
        g.add((check, rdflib.RDF.type, _SH.PropertyShape))
        g.add((check, _SH.path, rdflib.URIRef(prop)))
        g.add((check, _SH.maxCount, rdflib.Literal(1)))
        g.add(
            (
                check,
                _SH.message,
                rdflib.Literal(
                    f"{_article(d)} {d} has at most one '{name}' (ontology: {said} is functional)"
                ),
            )
        )


def _property_labels(quads: Iterable[ox.Quad]) -> dict[str, str]:
    return {
        q.subject.value: q.object.value
        for q in quads
        if q.predicate.value == vocab.RDFS + "label"
        and isinstance(q.subject, ox.NamedNode)
        and isinstance(q.object, ox.Literal)
    }


@lru_cache(maxsize=1)
def axiom_shapes() -> rdflib.Graph:
    """The generated shapes of the bundled ontology, built once per process."""
    return axiom_shapes_from(default_ontology_quads(), default_index())
