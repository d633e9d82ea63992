"""The fast inference engine writes exactly what the reference engine writes.

Loads compute each session's inferred graph with :mod:`mbtkg.session_reasoning.fast` (OWL 2 RL rules
compiled from the ontology's closure, applied in Python; turn-order relations computed from
the turn indices in Python). The reference is :func:`mbtkg.session_reasoning.reference.infer_sessions`: the
``reasonable`` reasoner over the ontology's closure and the session, and the SPARQL rule files
of ``queries/rules/`` run by Oxigraph. Different engines, different rule texts: equal inferred
graphs on the examples and on generated sessions are evidence that the compiled engine runs
the same rules.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from mbtkg import vocab
from mbtkg.generate import generate_corpus
from mbtkg.nquads_text import split_nquads
from mbtkg.resources import example_sessions
from mbtkg.session_reasoning.compiled_tbox import CompiledTBox
from mbtkg.session_reasoning.fast import (
    Unsupported,
    counted_inferred_graph,
    infer_graph,
    infer_triples,
)
from mbtkg.session_reasoning.reference import TBox, infer_sessions, inferred_nquads
from mbtkg.session_reasoning.rules import TURN_ORDER, apply_rules
from mbtkg.session_reasoning.turn_order import turn_order_triples
from mbtkg.sessions import SessionGraph, read_session, session_to_rdf

MBT, RDF, RDFS, OWL = vocab.MBT, vocab.RDF, vocab.RDFS, vocab.OWL


def _quads(nquads: bytes) -> set[ox.Quad]:
    return set(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))


def _examples() -> list[SessionGraph]:
    return [session_to_rdf(read_session(p)) for p in example_sessions()]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[SessionGraph]:
    """Generated sessions of 60 turns (two seeds), besides the hand-written examples."""
    out: list[SessionGraph] = []
    for seed in (1, 7):
        where = tmp_path_factory.mktemp(f"corpus{seed}")
        corpus = generate_corpus(where, sessions=2, seed=seed, turns=60)
        out.extend(session_to_rdf(read_session(p)) for p in corpus.files)
    return out


def _assert_same_as_reference(graph: SessionGraph) -> set[ox.Quad]:
    text, count = counted_inferred_graph(graph.session_id, graph.triples, graph.nquads)
    fast = _quads(text)
    # the count a load reports is the number of lines, and no line is written twice
    assert count == text.count(b"\n") == len(fast), graph.session_id
    reference = _quads(inferred_nquads([(graph.session_id, graph.nquads)])[0])
    only_fast = sorted(str(q) for q in fast - reference)[:5]
    only_reference = sorted(str(q) for q in reference - fast)[:5]
    assert not only_fast and not only_reference, (graph.session_id, only_fast, only_reference)
    return fast


@pytest.mark.parametrize("path", example_sessions(), ids=lambda p: p.stem)
def test_every_example_gets_the_reference_inferred_graph(path: Path) -> None:
    graph = session_to_rdf(read_session(path))
    fast = _assert_same_as_reference(graph)
    # the comparison covers what the engine is for: defined classes and derived relations
    predicates = {q.predicate.value for q in fast}
    assert {MBT + "startsShortlyAfter", MBT + "followedShortlyBy"} <= predicates
    assert len(fast) > 300


def test_generated_sessions_get_the_reference_inferred_graph(
    generated: list[SessionGraph],
) -> None:
    classes: set[str] = set()
    for graph in generated:
        fast = _assert_same_as_reference(graph)
        classes |= {str(q.object) for q in fast if q.predicate.value == RDF + "type"}
    assert {f"<{MBT}RepairedRupture>", f"<{MBT}ValidatedExploration>"} <= classes


def test_every_example_session_together_holds_every_defined_class() -> None:
    """So that the comparisons above compare the defined classes, not only superclasses."""
    found: set[str] = set()
    for graph in _examples():
        for _, p, o in infer_triples(graph.session_id, graph.triples):
            if p == f"<{RDF}type>":
                found.add(o)
    for name in (
        "RepairedRupture",
        "UnrepairedRupture",
        "ValidatedExploration",
        "MentalizingAfterIntervention",
        "InterventionAboveCapacity",
    ):
        assert f"<{MBT}{name}>" in found, name


def test_turn_order_in_python_equals_the_sparql_rules(generated: list[SessionGraph]) -> None:
    for graph in [*_examples(), *generated]:
        python = turn_order_triples(graph.triples)
        sparql = {
            (str(q.subject), str(q.predicate), str(q.object))
            for q in apply_rules(TURN_ORDER, graph.session_id, graph.quads)
        }
        assert python == sparql, graph.session_id
        assert python, graph.session_id


def test_triples_split_from_nquads_are_the_writers_triples() -> None:
    for graph in _examples():
        assert split_nquads(graph.nquads) == graph.triples


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _ontology(*triples: tuple[str, str, str | ox.BlankNode | ox.Literal]) -> list[ox.Quad]:
    out = []
    for s, p, o in triples:
        obj = _n(o) if isinstance(o, str) else o
        out.append(ox.Quad(_n(s), _n(p), obj, ox.DefaultGraph()))
    return out


def _same_on_a_toy_ontology(
    sid: str, tbox_quads: list[ox.Quad], data: list[ox.Quad]
) -> set[ox.Quad]:
    """The fast engine's inferred graph of ``data`` with an ontology of the test's own, checked
    against the reference's."""
    reference_box = TBox.from_quads(tbox_quads)
    box = CompiledTBox.from_tbox(reference_box)
    nquads = ox.serialize(data, format=ox.RdfFormat.N_QUADS) or b""
    fast = _quads(infer_graph(sid, split_nquads(nquads), nquads, box=box))
    (reference,) = infer_sessions([(sid, data)], closure=reference_box)
    assert fast == set(reference)
    return fast


def test_rules_the_bundled_ontology_does_not_use_agree_with_reasonable() -> None:
    """Transitive, symmetric and equivalent properties, allValuesFrom, hasValue, unions and
    intersections of named classes: rules the MBT ontology does not exercise, checked on a
    small ontology of their own."""
    t, ex = RDF + "type", "https://example.org/t#"
    every, value, inter = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    l1, l2, u1, u2 = ox.BlankNode(), ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    tbox_quads = _ontology(
        (ex + "partOf", t, OWL + "TransitiveProperty"),
        (ex + "near", t, OWL + "SymmetricProperty"),
        (ex + "near", OWL + "equivalentProperty", ex + "close"),
        (ex + "Box", RDFS + "subClassOf", ex + "Thing2"),
        (ex + "Red", OWL + "equivalentClass", ex + "Scarlet"),
    )
    tbox_quads += [
        ox.Quad(every, _n(t), _n(OWL + "Restriction"), ox.DefaultGraph()),
        ox.Quad(every, _n(OWL + "onProperty"), _n(ex + "holds"), ox.DefaultGraph()),
        ox.Quad(every, _n(OWL + "allValuesFrom"), _n(ex + "Red"), ox.DefaultGraph()),
        ox.Quad(_n(ex + "Box"), _n(RDFS + "subClassOf"), every, ox.DefaultGraph()),
        ox.Quad(value, _n(t), _n(OWL + "Restriction"), ox.DefaultGraph()),
        ox.Quad(value, _n(OWL + "onProperty"), _n(ex + "size"), ox.DefaultGraph()),
        ox.Quad(
            value,
            _n(OWL + "hasValue"),
            ox.Literal("3", datatype=_n(vocab.XSD + "integer")),
            ox.DefaultGraph(),
        ),  # fmt: skip
        ox.Quad(_n(ex + "Small"), _n(OWL + "equivalentClass"), value, ox.DefaultGraph()),
        ox.Quad(_n(ex + "RedBox"), _n(OWL + "equivalentClass"), inter, ox.DefaultGraph()),
        ox.Quad(inter, _n(OWL + "intersectionOf"), l1, ox.DefaultGraph()),
        ox.Quad(l1, _n(RDF + "first"), _n(ex + "Box"), ox.DefaultGraph()),
        ox.Quad(l1, _n(RDF + "rest"), l2, ox.DefaultGraph()),
        ox.Quad(l2, _n(RDF + "first"), _n(ex + "Scarlet"), ox.DefaultGraph()),
        ox.Quad(l2, _n(RDF + "rest"), _n(RDF + "nil"), ox.DefaultGraph()),
        ox.Quad(_n(ex + "Either"), _n(OWL + "unionOf"), u1, ox.DefaultGraph()),
        ox.Quad(u1, _n(RDF + "first"), _n(ex + "Small"), ox.DefaultGraph()),
        ox.Quad(u1, _n(RDF + "rest"), u2, ox.DefaultGraph()),
        ox.Quad(u2, _n(RDF + "first"), _n(ex + "Box"), ox.DefaultGraph()),
        ox.Quad(u2, _n(RDF + "rest"), _n(RDF + "nil"), ox.DefaultGraph()),
    ]
    sid = "toy"
    own = vocab.session_iri(sid) + "/"
    g = _n(vocab.session_iri(sid))
    data = [
        ox.Quad(_n(own + "a"), _n(ex + "partOf"), _n(own + "b"), g),
        ox.Quad(_n(own + "b"), _n(ex + "partOf"), _n(own + "c"), g),
        ox.Quad(_n(own + "c"), _n(ex + "partOf"), _n(own + "d"), g),
        ox.Quad(_n(own + "a"), _n(ex + "near"), _n(own + "e"), g),
        ox.Quad(_n(own + "box"), _n(t), _n(ex + "Box"), g),
        ox.Quad(_n(own + "crate"), _n(t), _n(ex + "Box"), g),
        ox.Quad(_n(own + "crate"), _n(t), _n(ex + "Red"), g),
        ox.Quad(_n(own + "box"), _n(ex + "holds"), _n(own + "ball"), g),
        ox.Quad(
            _n(own + "ball"),
            _n(ex + "size"),
            ox.Literal("3", datatype=_n(vocab.XSD + "integer")),
            g,
        ),  # fmt: skip
    ]
    fast = _same_on_a_toy_ontology(sid, tbox_quads, data)
    # and the rules did fire: each of them is visible in what both found
    expected = {
        (own + "a", ex + "partOf", own + "d"),  # prp-trp
        (own + "e", ex + "near", own + "a"),  # prp-symp
        (own + "a", ex + "close", own + "e"),  # prp-eqp
        (own + "ball", t, ex + "Red"),  # cls-avf
        (own + "ball", t, ex + "Small"),  # cls-hv2
        (own + "crate", t, ex + "RedBox"),  # cls-int1 (Scarlet = Red)
        (own + "ball", t, ex + "Either"),  # cls-uni
    }
    found = {(str(q.subject)[1:-1], q.predicate.value, str(q.object)[1:-1]) for q in fast}
    assert expected <= found, expected - found


def test_a_link_a_rule_adds_late_is_joined_with_the_chain_before_it() -> None:
    """A transitive link that a rule adds after the links leading to its subject were
    joined (cls-svf1 types the ball as holding a toy, which brings a hasValue restriction;
    cls-hv1 then adds ``ball partOf f``) must still extend those links: ``a partOf f`` and
    ``b partOf f``."""
    t, ex = RDF + "type", "https://example.org/t#"
    sid = "late"
    own = vocab.session_iri(sid) + "/"
    some, value = ox.BlankNode(), ox.BlankNode()
    tbox_quads = _ontology(
        (ex + "partOf", t, OWL + "TransitiveProperty"),
        (ex + "partOf", t, OWL + "ObjectProperty"),
        (ex + "holds", t, OWL + "ObjectProperty"),
    )
    tbox_quads += [
        ox.Quad(some, _n(t), _n(OWL + "Restriction"), ox.DefaultGraph()),
        ox.Quad(some, _n(OWL + "onProperty"), _n(ex + "holds"), ox.DefaultGraph()),
        ox.Quad(some, _n(OWL + "someValuesFrom"), _n(ex + "Toy"), ox.DefaultGraph()),
        ox.Quad(some, _n(RDFS + "subClassOf"), value, ox.DefaultGraph()),
        ox.Quad(value, _n(t), _n(OWL + "Restriction"), ox.DefaultGraph()),
        ox.Quad(value, _n(OWL + "onProperty"), _n(ex + "partOf"), ox.DefaultGraph()),
        ox.Quad(value, _n(OWL + "hasValue"), _n(own + "f"), ox.DefaultGraph()),
    ]
    g = _n(vocab.session_iri(sid))
    data = [
        ox.Quad(_n(own + "a"), _n(ex + "partOf"), _n(own + "b"), g),
        ox.Quad(_n(own + "b"), _n(ex + "partOf"), _n(own + "ball"), g),
        ox.Quad(_n(own + "toy"), _n(t), _n(ex + "Toy"), g),
        ox.Quad(_n(own + "ball"), _n(ex + "holds"), _n(own + "toy"), g),
    ]
    fast = _same_on_a_toy_ontology(sid, tbox_quads, data)
    found = {(str(q.subject)[1:-1], q.predicate.value, str(q.object)[1:-1]) for q in fast}
    expected = {
        (own + "ball", ex + "partOf", own + "f"),  # cls-svf1, then cls-hv1
        (own + "b", ex + "partOf", own + "f"),  # prp-trp with the late link
        (own + "a", ex + "partOf", own + "f"),
    }
    assert expected <= found, expected - found


def test_a_session_the_engine_cannot_reason_over_goes_to_reasonable() -> None:
    """Two next turns of one turn (nextTurn is functional) would make them the same node in
    OWL 2 RL, a rule the compiled engine does not run: the reference reasons instead."""
    graph = session_to_rdf(read_session(example_sessions()[0]))
    turn = vocab.turn_iri(graph.session_id, 1)
    extra = (f"<{turn}>", f"<{MBT}nextTurn>", f"<{vocab.turn_iri(graph.session_id, 5)}>")
    triples = [*graph.triples, extra]
    with pytest.raises(Unsupported, match="nextTurn"):
        infer_triples(graph.session_id, triples)
    nquads = graph.nquads + f"{' '.join(extra)} <{graph.graph}> .\n".encode()
    fallback = _quads(infer_graph(graph.session_id, triples, nquads))
    assert fallback == _quads(inferred_nquads([(graph.session_id, nquads)])[0])
    assert fallback
