"""Sessions validated together, in one store and one query run, get exactly what pySHACL gives
each of them alone: nothing leaks from one session to another, and whatever the batch form
cannot follow is checked the general way."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from mbtkg import vocab
from mbtkg.concepts import default_index, default_ontology_quads
from mbtkg.generate import ERROR_KINDS, generate_corpus
from mbtkg.loading import read_graphs
from mbtkg.sessions.to_rdf import SessionGraph
from mbtkg.validation.fast_shacl import FastValidator, compile_shapes, default_compiled
from mbtkg.validation.fast_shacl.batch_compiler import GRAPH_VAR
from mbtkg.validation.fast_shacl.engine import batch_ready
from mbtkg.validation.fast_shacl.ontology_facts import default_facts
from mbtkg.validation.fast_shacl.parallel import validate_graphs_with
from mbtkg.validation.fast_shacl.sparql_scope import (
    graph_local,
    ontology_blind_reason,
    split_select,
)
from mbtkg.validation.violations import (
    Violation,
    ontology_graph,
    quads_to_rdflib,
    shapes_graph,
    validate_with_pyshacl,
    violations_from_results,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "invalid"
SH = rdflib.Namespace(vocab.SH)
MBTSH = rdflib.Namespace("https://w3id.org/mbtkg/shapes#")
MBT = rdflib.Namespace(vocab.MBT)


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """The value of a term that cannot be an RDF-star triple here."""
    assert not isinstance(term, ox.Triple)
    return term.value


def _ordered(violations: list[Violation]) -> list[Violation]:
    return sorted(
        violations,
        key=lambda v: (v.source, v.focus, v.path or "", v.component, v.shape, v.value or ""),
    )


def _pyshacl(graph: SessionGraph, shapes: rdflib.Graph | None = None) -> list[Violation]:
    if shapes is None:
        return validate_with_pyshacl(graph, index=default_index())
    from pyshacl import validate

    _c, results, _t = validate(
        quads_to_rdflib(graph.quads),
        shacl_graph=shapes,
        ont_graph=ontology_graph(),
        inference="none",
        allow_warnings=True,
    )
    return violations_from_results(results, graph, default_index())


def _assert_each_as_alone(
    validator: FastValidator, graphs: list[SessionGraph], shapes: rdflib.Graph | None = None
) -> list[list[Violation]]:
    together = validator.validate_many(graphs)
    assert len(together) == len(graphs)
    for graph, found in zip(graphs, together, strict=True):
        assert {v.source for v in found} <= {graph.source}
        assert _ordered(found) == _ordered(_pyshacl(graph, shapes)), graph.source
    return together


def _read(*paths: Path) -> list[SessionGraph]:
    graphs, errors = read_graphs(list(paths))
    assert errors == []
    return graphs


def _renamed(graph: SessionGraph, old: str, new: str) -> SessionGraph:
    """The graph with every occurrence of one IRI replaced by another (graph names too)."""

    def swap(term: ox.NamedNode) -> ox.NamedNode:
        return ox.NamedNode(new) if term.value == old else term

    return graph.with_quads(
        [
            ox.Quad(swap(q.subject), q.predicate, swap(q.object), swap(q.graph_name))  # type: ignore[arg-type]
            for q in graph.quads
        ]
    )


def test_a_batch_attributes_every_violation_to_its_own_session(tmp_path: Path) -> None:
    corpus = generate_corpus(
        tmp_path, sessions=8, seed=33, inject_errors=len(ERROR_KINDS) + 4, turns=20
    )
    graphs = _read(*corpus.files)
    validator = FastValidator()
    together = _assert_each_as_alone(validator, graphs)
    assert validator.last_run == {"batch": 8, "general": 0}
    assert sum(1 for found in together if found) >= 4  # errors sit in different sessions
    for graph, found in zip(graphs, together, strict=True):
        assert found == validator.validate(graph)
    planted = {(e.file, e.line, shape) for e in corpus.errors for shape, _c in e.expected}
    found_keys = {(Path(v.source).name, v.line, v.shape) for vs in together for v in vs}
    assert found_keys == planted


COMPANION = """\
# Valid: declares the people and annotators the invalid fixtures use without declaring them.
session: {id: companion-shares-people, date: 2025-03-02, number: 4, setting: individual}
participants:
  - {id: P-1, role: patient}
  - {id: P-2, role: patient}
  - {id: T-1, role: therapist}
annotators:
  - {id: A-1}
  - {id: A-2}
turns:
  - {id: 1, speaker: T-1, text: "You went quiet when I mentioned the holiday."}
  - {id: 2, speaker: P-2, text: "It's nothing. Everyone goes away."}
annotations:
  - {id: a1, concept: withdrawal rupture, turns: 2, quote: "It's nothing.", annotator: A-2}
"""


def test_sessions_sharing_people_and_annotators_do_not_cover_for_each_other(
    tmp_path: Path,
) -> None:
    companion = tmp_path / "companion.yaml"
    companion.write_text(COMPANION, encoding="utf-8")
    speaker = FIXTURES / "mbtsh-Turn-speaker.yaml"
    creator = FIXTURES / "mbtsh-Annotation-creator.yaml"
    graphs = _read(companion, speaker, creator)
    # The same person and annotator IRIs are in more than one graph of the batch ...
    p2 = vocab.person_iri("P-2").encode()
    a2 = vocab.annotator_iri("A-2").encode()
    assert p2 in graphs[0].nquads and p2 in graphs[1].nquads
    assert a2 in graphs[0].nquads and a2 in graphs[2].nquads
    validator = FastValidator()
    together = _assert_each_as_alone(validator, graphs)
    assert validator.last_run["batch"] == 3
    # ... and the companion declaring them does not hide that the others do not.
    assert together[0] == []
    assert any(v.shape == "mbtsh:Turn-speaker" and v.value for v in together[1])
    assert any(v.shape == "mbtsh:Annotation-creator" and v.value for v in together[2])


def test_every_invalid_fixture_in_one_batch() -> None:
    graphs, _errors = read_graphs(sorted(FIXTURES.glob("*.yaml")))
    assert len(graphs) >= 10
    together = _assert_each_as_alone(FastValidator(), graphs)
    assert all(together)


def test_a_session_asserting_subclasses_is_checked_the_general_way() -> None:
    fixture = FIXTURES / "mbtsh-Occurrence.yaml"
    graph, other = _read(fixture, FIXTURES / "mbtsh-Turn-text.yaml")
    validator = FastValidator()
    before = validator.validate(graph)
    wrong = {
        v.value
        for v in before
        if v.shape == "mbtsh:Occurrence" and v.component == "sh:ClassConstraintComponent"
    }
    assert wrong, "the fixture codes a concept that is not a session phenomenon"
    # The session makes the class it used a session phenomenon: pySHACL then has nothing to
    # report about it, while the precomputed class hierarchy would still say it is not one.
    types = {
        _value(q.object)
        for q in graph.quads
        if q.predicate.value == vocab.RDF + "type"
        and _value(q.subject).startswith(vocab.DATA)
        and "/occurrence/" in _value(q.subject)
    }
    g = ox.NamedNode(graph.graph)
    extra = [
        ox.Quad(
            ox.NamedNode(t),
            ox.NamedNode(vocab.RDFS + "subClassOf"),
            ox.NamedNode(vocab.MBT + "SessionPhenomenon"),
            g,
        )
        for t in sorted(types)
    ]
    asserting = graph.with_quads([*graph.quads, *extra])
    together = _assert_each_as_alone(validator, [other, asserting])
    assert validator.last_run == {"batch": 1, "general": 1}
    assert not any(v.shape == "mbtsh:Occurrence" for v in together[1])


def test_a_session_with_quads_outside_its_graph_is_checked_the_general_way() -> None:
    graph, other = _read(FIXTURES / "mbtsh-Turn-speaker.yaml", FIXTURES / "mbtsh-Role.yaml")
    elsewhere = graph.with_quads(
        [
            ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode("https://example.org/g"))
            if i % 2
            else q
            for i, q in enumerate(graph.quads)
        ]
    )
    assert not batch_ready(elsewhere) and batch_ready(graph)
    validator = FastValidator()
    _assert_each_as_alone(validator, [elsewhere, other])
    assert validator.last_run == {"batch": 1, "general": 1}
    # Triples in the default graph: the batch cannot tell whose they are.
    default = graph.with_quads([ox.Quad(q.subject, q.predicate, q.object) for q in graph.quads])
    _assert_each_as_alone(validator, [default, other])


def test_the_same_session_twice_in_a_batch() -> None:
    graph = _read(FIXTURES / "mbtsh-Turn-order.yaml")[0]
    validator = FastValidator()
    first, second = _assert_each_as_alone(validator, [graph, graph])
    assert first == second != []
    assert validator.last_run == {"batch": 2, "general": 0}  # in two stores


def test_ontology_triples_about_a_focus_node_send_its_session_the_general_way() -> None:
    # dcterms:creator is a path of mbtsh:Annotation-creator, and the ontology uses it too: for
    # bibliographic references, which pySHACL copies into the data graph (named individuals),
    # and for the ontology itself, which it does not.
    creator = vocab.DCTERMS + "creator"
    copied = {s.value for s, p, _o in default_facts().triples if p.value == creator}
    everywhere = {
        _value(q.subject) for q in default_ontology_quads() if q.predicate.value == creator
    }
    assert vocab.ONTOLOGY_GRAPH not in copied and everywhere - copied
    graph, other = _read(FIXTURES / "mbtsh-Occurrence-span.yaml", FIXTURES / "mbtsh-Role.yaml")
    annotation = next(
        _value(q.subject) for q in graph.quads if q.predicate.value == vocab.OA + "hasBody"
    )
    validator = FastValidator()
    reference = _renamed(graph, annotation, sorted(copied)[0])
    together = _assert_each_as_alone(validator, [reference, other])
    assert validator.last_run == {"batch": 1, "general": 1}
    # pySHACL counts the ontology's creators of that node too: the general way does as well.
    assert any(v.shape == "mbtsh:Annotation-creator" for v in together[0])
    # The ontology's own creator is not in pySHACL's data graph, and not in the batch's.
    ontology = _renamed(graph, annotation, sorted(everywhere - copied)[0])
    _assert_each_as_alone(validator, [ontology, other])
    assert validator.last_run == {"batch": 2, "general": 0}


def _shapes_with(
    *triples: tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node],
) -> rdflib.Graph:
    shapes = rdflib.Graph()
    for triple in shapes_graph():
        shapes.add(triple)
    for triple in triples:
        shapes.add(triple)
    return shapes


def test_shapes_the_batch_form_cannot_follow_block_it_and_still_agree(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path, sessions=2, seed=5, inject_errors=3, turns=16)
    graphs = _read(*corpus.files)
    # A node shape targeting one node: that node is a focus node in every session.
    person = rdflib.URIRef(vocab.person_iri("P-0001"))
    by_node = _shapes_with(
        (MBTSH["PersonNode"], rdflib.RDF.type, SH.NodeShape),
        (MBTSH["PersonNode"], SH.targetNode, person),
        (MBTSH["PersonNode"], SH["class"], MBT["Annotator"]),
        (MBTSH["PersonNode"], SH.message, rdflib.Literal("this person is no annotator")),
    )
    compiled = compile_shapes(by_node)
    assert compiled.batch is None and "sh:targetNode" in (compiled.batch_blocked or "")
    validator = FastValidator(compiled)
    together = _assert_each_as_alone(validator, graphs, by_node)
    assert validator.last_run == {"batch": 0, "general": 2}
    assert all(any(v.shape == "mbtsh:PersonNode" for v in found) for found in together)


def test_a_sparql_constraint_the_ontology_can_answer_blocks_the_batch_form() -> None:
    select = (
        "SELECT $this ?value WHERE { $this <http://purl.org/dc/terms/creator> ?value . "
        "FILTER (!isIRI(?value)) }"
    )
    constraint = rdflib.BNode()
    shapes = _shapes_with(
        (MBTSH["Annotation"], SH.sparql, constraint),
        (constraint, rdflib.RDF.type, SH.SPARQLConstraint),
        (constraint, SH.select, rdflib.Literal(select)),
        (constraint, SH.message, rdflib.Literal("an annotator must be a node")),
    )
    compiled = compile_shapes(shapes)
    assert compiled.batch is None
    assert "dc/terms/creator" in (compiled.batch_blocked or "")
    graphs = _read(FIXTURES / "mbtsh-Annotation-creator.yaml", FIXTURES / "mbtsh-Role.yaml")
    _assert_each_as_alone(FastValidator(compiled), graphs, shapes)


def test_the_parallel_path_validates_batches_per_worker(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path, sessions=9, seed=8, inject_errors=6, turns=16)
    graphs = _read(*corpus.files)
    serial = validate_graphs_with(graphs, jobs=1)
    parallel = validate_graphs_with(graphs, jobs=2)
    assert parallel == serial
    assert len(serial.violations) >= 6


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELECT $this WHERE { $this <http://e/p>* ?x }", "zero or any"),
        ("SELECT $this WHERE { $this !<http://e/p> ?x }", "zero or any"),
        ("SELECT $this WHERE { $this ?p ?x }", "variable predicate"),
        ("SELECT $this WHERE { $this a ?c }", "without a fixed class"),
        (
            "SELECT $this WHERE { $this <http://e/p> ?x FILTER NOT EXISTS "
            "{ ?x <http://e/q> ?y ; <http://purl.org/dc/terms/creator> ?z } }",
            "dc/terms/creator",
        ),
        ("SELECT $this WHERE { $this a <http://www.w3.org/2002/07/owl#Class> }", "types nodes"),
        (
            "SELECT $this (COUNT(?x) AS ?n) WHERE { $this <http://e/p> ?x } GROUP BY $this",
            "Aggregate",
        ),
        ("SELECT $this WHERE { GRAPH ?g { $this <http://e/p> ?x } }", "Graph"),
    ],
)
def test_queries_the_ontology_may_answer_are_recognised(query: str, reason: str) -> None:
    found = ontology_blind_reason(query, default_facts())
    assert found is not None and reason in found


def test_a_query_that_only_reads_session_triples_runs_inside_each_graph() -> None:
    query = (
        "SELECT $this ?value WHERE { $this <http://e/p>/^<http://e/q> ?value ; a <http://e/C> "
        'FILTER (?value != "}") OPTIONAL { ?value <http://e/r>+ ?z } }'
    )
    assert ontology_blind_reason(query, default_facts()) is None
    split = split_select(query)
    assert split is not None and split.variables == ("this", "value")
    group, reason = graph_local(
        query.replace("$this", "?this"), default_facts(), graph_var=GRAPH_VAR, focus="{ }"
    )
    assert reason is None and group is not None and f"GRAPH ?{GRAPH_VAR}" in group
    for refused in (
        "SELECT ?this ?other WHERE { ?this <http://e/p> ?other }",  # projects another variable
        "SELECT ?this WHERE { ?this <http://e/p> ?value }",  # binds ?value, does not project it
        f"SELECT ?this WHERE {{ ?this <http://e/p> ?{GRAPH_VAR} }}",  # uses the engine's variable
        "SELECT ?this WHERE { ?this <http://e/p> ?x } ORDER BY ?x",
    ):
        assert graph_local(refused, default_facts(), graph_var=GRAPH_VAR, focus="{ }")[0] is None


def test_the_bundled_shapes_are_checked_in_batches() -> None:
    compiled = default_compiled()
    assert compiled.batch_blocked is None and compiled.batch is not None
    assert compiled.batch.queries
    reported = {
        k for group in compiled.batch.groups for k, r in group if r not in ("sparql", "general")
    }
    assert reported == set(range(len(compiled.branches)))  # every constraint has its check
    sparql = {k for group in compiled.batch.groups for k, r in group if r == "sparql"}
    assert sparql == set(range(len(compiled.sparql)))


def test_more_count_constraints_on_one_focus_than_one_mask_holds() -> None:
    extra: list[tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]] = []
    for i in range(20):  # 40 count constraints on the turns, in one aggregation per 30
        shape = MBTSH[f"Turn-extra{i}"]
        extra += [
            (MBTSH["Turn"], SH.property, shape),
            (shape, SH.path, MBT[f"extra{i}"] if i % 2 else MBT["text"]),
            (shape, SH.minCount, rdflib.Literal(1)),
            (shape, SH.maxCount, rdflib.Literal(i % 3)),
            (shape, SH.message, rdflib.Literal(f"extra check {i}")),
        ]
    shapes = _shapes_with(*extra)
    compiled = compile_shapes(shapes)
    assert compiled.batch is not None
    graphs = _read(FIXTURES / "mbtsh-Turn-text.yaml", FIXTURES / "mbtsh-Turn-order.yaml")
    together = _assert_each_as_alone(FastValidator(compiled), graphs, shapes)
    assert len({v.shape for v in together[1] if "extra" in v.shape}) >= 12
