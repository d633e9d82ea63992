"""The OWL 2 RL materialisation agrees with HermiT on every example session.

For each occurrence of each example session, the classes of the ontology that the inferred
graph (plus the asserted graph) gives it must equal the classes HermiT entails for it, when
HermiT reasons over the ontology (with its BFO imports), the asserted session and the relations
derived from turn order (the SPARQL rules' output, which the defined classes build on). The
inferred graph is the one loads write (:mod:`mbtkg.session_reasoning.fast`, which
``tests/test_fast_inference.py`` holds equal to ``reasonable``'s); HermiT is a different
engine over the same axioms, so an agreement is evidence.

Classes outside the comparison, and why (docs/reasoning.md, "Outside OWL 2 RL"):
``mbt:UnrepairedRupture`` is typed by a closed-world SPARQL rule that OWL cannot state.
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox
import pytest

from mbtkg import vocab
from mbtkg.concepts import default_ontology_quads
from mbtkg.ontology.reasoning import find_java, owlready_world, with_imports
from mbtkg.resources import example_sessions
from mbtkg.session_reasoning.fast import infer_graph
from mbtkg.session_reasoning.rules import TURN_ORDER, apply_rules
from mbtkg.sessions import read_session, session_to_rdf

#: Typed by a closed-world rule, so HermiT (open world) never entails it.
OUTSIDE_OWL = {vocab.MBT + "UnrepairedRupture"}


def _occurrence_types(quads: list[ox.Quad]) -> dict[str, set[str]]:
    types: dict[str, set[str]] = defaultdict(set)
    for q in quads:
        s, p, o = q.subject, q.predicate, q.object
        if p.value != vocab.RDF + "type" or not isinstance(o, ox.NamedNode):
            continue
        if not isinstance(s, ox.NamedNode):
            continue
        if (
            "/occurrence/" in s.value
            and o.value.startswith(vocab.MBT)
            and o.value not in OUTSIDE_OWL
        ):
            types[s.value].add(o.value)
    return types


@pytest.fixture(scope="module")
def rl_and_input() -> tuple[dict[str, set[str]], list[ox.Triple]]:
    rl: dict[str, set[str]] = defaultdict(set)
    given: list[ox.Triple] = []
    for path in example_sessions():
        graph = session_to_rdf(read_session(path))
        asserted = list(graph.quads)
        inferred = list(
            ox.parse(
                infer_graph(graph.session_id, graph.triples, graph.nquads),
                format=ox.RdfFormat.N_QUADS,
            )
        )
        for node, classes in _occurrence_types([*asserted, *inferred]).items():
            rl[node] |= classes
        derived = apply_rules(TURN_ORDER, graph.session_id, asserted)
        given.extend(ox.Triple(q.subject, q.predicate, q.object) for q in [*asserted, *derived])
    return rl, given


@pytest.mark.skipif(find_java() is None, reason="HermiT needs Java (CI installs it)")
def test_rl_types_of_every_occurrence_equal_hermit_types(
    rl_and_input: tuple[dict[str, set[str]], list[ox.Triple]],
) -> None:
    import owlready2

    rl, given = rl_and_input
    ontology = [ox.Triple(q.subject, q.predicate, q.object) for q in default_ontology_quads()]
    with owlready_world(with_imports([*ontology, *given])) as world:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        hermit: dict[str, set[str]] = {}
        for node in rl:
            individual = world[node]
            assert individual is not None, node
            classes = {
                ancestor.iri
                for direct in individual.is_a
                if isinstance(direct, owlready2.ThingClass)
                for ancestor in direct.ancestors()
            }
            hermit[node] = {c for c in classes if c.startswith(vocab.MBT)} - OUTSIDE_OWL
    differences = {
        vocab.describe(node): (sorted(rl[node] - hermit[node]), sorted(hermit[node] - rl[node]))
        for node in rl
        if rl[node] != hermit[node]
    }
    assert not differences, "(only RL, only HermiT) per occurrence: " + repr(differences)
    # the defined classes are among the types compared, so the test is about them too
    assert any(vocab.MBT + "RepairedRupture" in c for c in rl.values())
    assert any(vocab.MBT + "ValidatedExploration" in c for c in rl.values())
    assert any(vocab.MBT + "MentalizingAfterIntervention" in c for c in rl.values())
