"""Every item of the minimum MBT concept inventory (domain notes, part B.15) has its class."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
import pytest

from mbtkg import vocab
from mbtkg.concepts import default_index, default_ontology_quads

# (inventory item as the notes name it, the name a user would type)
INVENTORY = [
    ("mentalizing", "mentalizing"),
    ("reflective functioning", "reflective functioning"),
    ("automatic pole", "automatic mentalizing"),
    ("controlled pole", "controlled mentalizing"),
    ("self pole", "self-oriented mentalizing"),
    ("other pole", "other-oriented mentalizing"),
    ("internal pole", "internally based mentalizing"),
    ("external pole", "externally based mentalizing"),
    ("cognitive pole", "cognitive mentalizing"),
    ("affective pole", "affective mentalizing"),
    ("imbalance toward a pole", "mentalizing imbalance"),
    ("hypermentalizing", "hypermentalizing"),
    ("hypomentalizing", "hypomentalizing"),
    ("pseudomentalizing", "pseudomentalizing"),
    ("psychic equivalence", "psychic equivalence"),
    ("teleological mode", "teleological mode"),
    ("pretend mode", "pretend mode"),
    ("non-mentalizing", "non-mentalizing"),
    ("not mentalizing", "not mentalizing"),
    ("marked mirroring", "marked mirroring"),
    ("alien self", "alien self"),
    ("externalisation of the alien self", "externalization of the alien self"),
    ("arousal", "arousal"),
    ("attachment activation", "attachment activation"),
    ("switch point", "switch point"),
    ("epistemic trust", "epistemic trust"),
    ("epistemic mistrust", "epistemic mistrust"),
    ("epistemic hypervigilance", "epistemic hypervigilance"),
    ("epistemic petrification", "epistemic petrification"),
    ("epistemic credulity", "epistemic credulity"),
    ("ostensive cue", "ostensive cue"),
    ("we-mode", "we-mode"),
    ("we-ness", "we-ness"),
    ("therapeutic alliance", "therapeutic alliance"),
    ("alliance: goals", "agreement on goals"),
    ("alliance: tasks", "agreement on tasks"),
    ("alliance: bond", "alliance bond"),
    ("rupture", "rupture"),
    ("withdrawal rupture", "withdrawal rupture"),
    ("confrontation rupture", "confrontation rupture"),
    ("repair", "repair"),
    ("loss of mentalizing", "loss of mentalizing"),
    ("recovery of mentalizing", "recovery of mentalizing"),
    ("communication system 1", "communication system 1"),
    ("communication system 2", "communication system 2"),
    ("communication system 3", "communication system 3"),
    ("zone of proximal development (bridging)", "zone of proximal development"),
    ("not-knowing stance", "not-knowing stance"),
    ("empathic validation", "empathic validation"),
    ("clarification", "clarification"),
    ("affect elaboration", "affect elaboration"),
    ("basic mentalizing", "basic mentalizing"),
    ("stop-rewind-explore", "stop-rewind-explore"),
    ("challenge", "challenge"),
    ("contrary move", "contrary move"),
    ("affect focus", "affect focus"),
    ("relational mentalizing", "relational mentalizing"),
    ("MBT-I", "MBT-I"),
    ("formulation", "formulation"),
    ("crisis plan", "crisis plan"),
    ("MBT-G", "MBT-G"),
    ("MBT-A", "MBT-A"),
    ("MBT-F", "MBT-F"),
    ("RF scale", "RF scale"),
    ("in-session RF", "in-session RF"),
    ("PACS", "PACS"),
    ("MMS", "MMS"),
    ("MIS", "MIS"),
    ("CRF", "CRF"),
    ("RFQ-8", "RFQ-8"),
    ("RFQY", "RFQY"),
    ("ETMCQ", "ETMCQ"),
    ("ETMCQ-R", "ETMCQ-R"),
    ("MBT-ACS", "MBT-ACS"),
    ("MBT-AQS", "MBT-AQS"),
    ("MBT-G-AQS", "MBT-G-AQS"),
    ("MBT-RACS", "MBT-RACS"),
    ("3RS", "3RS"),
    ("WAI", "WAI"),
    ("BRFI", "BRFI"),
    ("MBI", "MBI"),
]

#: Stands for "the definition's sources" (an axiom annotation, not a plain triple).
_SOURCE = "definition sources"

_REQUIRED = {
    "label": vocab.RDFS + "label",
    "definition": vocab.DEFINITION,
    "source": _SOURCE,
    "example": vocab.SKOS + "example",
}


_Object = ox.NamedNode | ox.BlankNode | ox.Literal


def _objects(quads: Iterable[ox.Quad]) -> list[_Object]:
    out: list[_Object] = []
    for q in quads:
        assert not isinstance(q.object, ox.Triple)  # the ontology has no RDF-star
        out.append(q.object)
    return out


def _definition_sources(subject: str) -> list[_Object]:
    """The dcterms:source values of the axiom annotations on the subject's definition."""
    quads = default_ontology_quads()
    axioms = {
        q.subject
        for q in quads
        if q.predicate.value == vocab.OWL + "annotatedSource" and q.object == ox.NamedNode(subject)
    }
    on_definition = {
        q.subject
        for q in quads
        if q.subject in axioms
        and q.predicate.value == vocab.OWL + "annotatedProperty"
        and q.object == ox.NamedNode(vocab.DEFINITION)
    }
    return _objects(
        [
            q
            for q in quads
            if q.subject in on_definition and q.predicate.value == vocab.DCTERMS + "source"
        ]
    )


def _structural(subject: str) -> bool:
    return ox.NamedNode(vocab.STRUCTURAL_SUBSET) in _values(subject, vocab.IN_SUBSET, raw=True)


def _values(subject: str, predicate: str, *, raw: bool = False) -> list[_Object]:
    if predicate == _SOURCE and not raw:
        return _definition_sources(subject) or (
            [ox.Literal("structural")] if _structural(subject) else []
        )
    return _objects(
        [
            q
            for q in default_ontology_quads()
            if q.subject == ox.NamedNode(subject) and q.predicate.value == predicate
        ]
    )


@pytest.mark.parametrize(("item", "name"), INVENTORY, ids=[i for i, _ in INVENTORY])
def test_inventory_item_has_a_documented_class(item: str, name: str) -> None:
    iri = default_index().resolve(name)
    assert iri.startswith(vocab.MBT), f"{item} resolves outside our namespace: {iri}"
    for what, predicate in _REQUIRED.items():
        assert _values(iri, predicate), f"{item} ({iri}) has no {what}"


def test_inventory_items_are_distinct_classes() -> None:
    resolved = {name: default_index().resolve(name) for _, name in INVENTORY}
    synonyms = {"epistemic hypervigilance": "epistemic mistrust"}  # one concept, two names
    for name, iri in resolved.items():
        for other, other_iri in resolved.items():
            if name != other and iri == other_iri:
                assert synonyms.get(name) == other or synonyms.get(other) == name, (name, other)


def test_at_least_120_own_classes_each_fully_documented() -> None:
    classes = default_index().labels
    assert len(classes) >= 120
    undocumented = [
        (iri, what)
        for iri in classes
        for what, predicate in _REQUIRED.items()
        if not _values(iri, predicate)
    ]
    assert undocumented == []


def test_zone_of_proximal_development_says_where_its_mapping_comes_from() -> None:
    iri = default_index().resolve("zone of proximal development")
    notes = " ".join(str(v.value) for v in _values(iri, vocab.EDITOR_NOTE))
    assert "Vygotsky" in notes
    sources = {v.value for v in _definition_sources(iri)}
    assert "https://w3id.org/mbtkg/ontology/source/MakingVisibleMBT" in sources
