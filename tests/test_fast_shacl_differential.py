"""The fast engine must report exactly what pySHACL reports, and never skip a shape."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate as pyshacl_validate

from mbtkg import vocab
from mbtkg.generate import ERROR_KINDS, generate_corpus
from mbtkg.loading import read_graphs
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session, session_to_rdf
from mbtkg.sessions.to_rdf import SessionGraph
from mbtkg.validation.cache import ValidationCache
from mbtkg.validation.fast_shacl import FastValidator, compile_shapes, default_compiled
from mbtkg.validation.fast_shacl.compiler import without_not_exists
from mbtkg.validation.fast_shacl.parallel import validate_paths
from mbtkg.validation.validate import validate_graphs
from mbtkg.validation.violations import (
    Violation,
    ontology_graph,
    quads_to_rdflib,
    shapes_graph,
    violations_from_results,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "invalid"
INVALID = sorted(FIXTURES.glob("*.yaml"))
SH = rdflib.Namespace(vocab.SH)
MBTSH = rdflib.Namespace("https://w3id.org/mbtkg/shapes#")


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """The value of a term that cannot be an RDF-star triple here."""
    assert not isinstance(term, ox.Triple)
    return term.value


def _ordered(violations: tuple[Violation, ...] | list[Violation]) -> list[Violation]:
    # a node shape's violation has no path: sort it as "" (None and str do not compare)
    return sorted(
        violations,
        key=lambda v: (v.source, v.focus, v.path or "", v.component, v.shape, v.value or ""),
    )


def _assert_same(graphs: list[SessionGraph]) -> tuple[Violation, ...]:
    reference = validate_graphs(graphs)
    fast = validate_graphs(graphs, engine="fast")
    assert {v.key for v in fast.violations} == {v.key for v in reference.violations}
    # Not only the keys: lines, values, messages and suggestions are the same too.
    assert _ordered(fast.violations) == _ordered(reference.violations)
    return reference.violations


def test_every_bundled_shape_is_compiled_or_named_as_a_fallback() -> None:
    compiled = default_compiled()
    covered = {b.shape for b in compiled.branches} | {c.branch.shape for c in compiled.sparql}
    covered |= {shape for shape, _reason in compiled.fell_back}
    g = shapes_graph()
    constrained = {
        s for s in set(g.subjects(SH.path, None)) | set(g.subjects(SH["class"], None))
        if isinstance(s, rdflib.URIRef)
    }  # fmt: skip
    names = {f"mbtsh:{str(s).split('#')[1]}" for s in constrained}
    assert names <= covered
    assert compiled.fell_back == ()  # the shapes today use only what the compiler handles


@pytest.mark.skipif(not INVALID, reason="no invalid fixtures (tests/fixtures/invalid/*.yaml) yet")
@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_both_engines_agree_on_an_invalid_fixture(path: Path) -> None:
    graphs, errors = read_graphs([path])
    if errors:
        pytest.skip(f"{path.name} is refused by the reader, before SHACL: {errors[0]}")
    violations = _assert_same(graphs)
    assert violations, f"{path.name} is meant to be invalid"


def test_both_engines_agree_on_an_example() -> None:
    example = next(p for p in example_sessions() if p.stem == "susan-12")
    graphs = [session_to_rdf(read_session(example))]
    assert _assert_same(graphs) == ()


def test_both_engines_agree_on_a_generated_corpus_with_planted_errors(tmp_path: Path) -> None:
    corpus = generate_corpus(
        tmp_path, sessions=5, seed=21, inject_errors=len(ERROR_KINDS), turns=20
    )
    assert {e.kind for e in corpus.errors} == set(ERROR_KINDS)
    graphs, errors = read_graphs(corpus.files)
    assert errors == []
    violations = _assert_same(graphs)
    expected = {
        (e.file, e.line, e.focus, shape, component)
        for e in corpus.errors
        for shape, component in e.expected
    }
    found = {(Path(v.source).name, v.line, v.focus, v.shape, v.component) for v in violations}
    assert found == expected


def _with_ill_typed_literals(graph: SessionGraph) -> SessionGraph:
    integer = ox.NamedNode(vocab.XSD + "integer")
    date = ox.NamedNode(vocab.XSD + "date")
    quads = []
    for q in graph.quads:
        if q.predicate.value == vocab.MBT + "sessionNumber":
            q = ox.Quad(
                q.subject, q.predicate, ox.Literal("twelve", datatype=integer), q.graph_name
            )
        elif q.predicate.value == vocab.DCTERMS + "date":
            q = ox.Quad(
                q.subject, q.predicate, ox.Literal("2024-13-45", datatype=date), q.graph_name
            )
        quads.append(q)
    return graph.with_quads(tuple(quads))


def test_ill_typed_literals_are_datatype_violations_in_both_engines() -> None:
    graph = _with_ill_typed_literals(session_to_rdf(read_session(example_sessions()[0])))
    violations = _assert_same([graph])
    components = {(v.shape, v.component) for v in violations}
    assert ("mbtsh:Session-date", "sh:DatatypeConstraintComponent") in components
    assert ("mbtsh:Session-number", "sh:DatatypeConstraintComponent") in components


def _pyshacl_with(shapes: rdflib.Graph, graph: SessionGraph) -> list[Violation]:
    from mbtkg.concepts import default_index

    _c, results, _t = pyshacl_validate(
        quads_to_rdflib(graph.quads),
        shacl_graph=shapes,
        ont_graph=ontology_graph(),
        inference="none",
        allow_warnings=True,
    )
    return violations_from_results(results, graph, default_index())


def test_unsupported_features_fall_back_to_pyshacl_for_that_shape_only(tmp_path: Path) -> None:
    shapes = rdflib.Graph()
    for triple in shapes_graph():
        shapes.add(triple)
    shapes.add((MBTSH["Turn-text"], SH.pattern, rdflib.Literal("^[A-Z]")))  # property shape
    shapes.add((MBTSH["Turn"], SH.nodeKind, SH.IRI))  # node shape: its properties stay compiled
    compiled = compile_shapes(shapes)
    assert {s for s, _ in compiled.fell_back} == {"mbtsh:Turn-text", "mbtsh:Turn"}
    assert any(b.shape == "mbtsh:Turn-speaker" for b in compiled.branches)
    corpus = generate_corpus(tmp_path, sessions=1, seed=4, inject_errors=3, turns=20)
    graph = session_to_rdf(read_session(corpus.files[0]))
    text = vocab.MBT + "text"
    lowered = tuple(
        ox.Quad(q.subject, q.predicate, ox.Literal("lower case start"), q.graph_name)
        if q.predicate.value == text and _value(q.subject).endswith("/turn/3")
        else q
        for q in graph.quads
    )
    graph = graph.with_quads(lowered)
    fast = FastValidator(compiled).validate(graph)
    reference = _pyshacl_with(shapes, graph)
    assert _ordered(fast) == _ordered(reference)
    assert any(v.component == "sh:PatternConstraintComponent" for v in fast)


def test_not_exists_rewrite_keeps_the_answers() -> None:
    store = ox.Store()
    store.load(
        b"<a> <p> 1 . <b> <p> 2 . <a> <q> <x> . <x> <r> 1 . <b> <q> <y> . <y> <r> 5 .",
        format=ox.RdfFormat.TURTLE,
        base_iri="http://e/",
    )
    query = (
        "SELECT ?s WHERE { ?s <http://e/p> ?n "
        "FILTER NOT EXISTS { ?s <http://e/q> ?o . ?o <http://e/r> ?m FILTER (?m = ?n) } }"
    )
    rewritten = without_not_exists(query)
    assert "NOT EXISTS" not in rewritten

    def answer(q: str) -> list[str]:
        return sorted(str(s["s"]) for s in store.query(q))  # type: ignore[union-attr]

    assert answer(rewritten) == answer(query) == ["<http://e/b>"]
    nested = "SELECT ?s WHERE { ?s ?p ?o FILTER NOT EXISTS { { ?s ?p ?x } } }"
    assert without_not_exists(nested) == nested


def test_parallel_and_cached_runs_give_the_same_report(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path / "c", sessions=4, seed=9, inject_errors=4, turns=20)
    cache = ValidationCache(tmp_path / "cache")
    first = validate_paths(corpus.files, engine="fast", jobs=2, cache=cache)
    assert (first.validated, first.from_cache) == (4, 0)
    again = validate_paths(corpus.files, engine="fast", jobs=1, cache=cache)
    assert (again.validated, again.from_cache) == (0, 4)
    assert again.report == first.report
    serial = validate_paths(corpus.files, engine="fast", jobs=1)
    assert serial.report == first.report
    changed = corpus.files[0]
    changed.write_text(changed.read_text().replace("number: ", "number: 9"), encoding="utf-8")
    third = validate_paths(corpus.files, engine="fast", jobs=1, cache=cache)
    assert (third.validated, third.from_cache) == (1, 3)


def test_cli_validate_fast_reports_like_pyshacl_and_uses_the_cache(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mbtkg.cli import main

    corpus = generate_corpus(tmp_path / "c", sessions=2, seed=2, inject_errors=2, turns=16)
    files = [str(p) for p in corpus.files]
    cache = str(tmp_path / "cache")
    runner = CliRunner()
    reference = runner.invoke(main, ["validate", *files])
    fast = runner.invoke(main, ["validate", "--engine", "fast", "--cache", cache, *files])
    assert (reference.exit_code, fast.exit_code) == (1, 1)
    assert fast.output.splitlines()[:-1] == reference.output.splitlines()[:-1]
    again = runner.invoke(main, ["validate", "--engine", "fast", "--cache", cache, *files])
    assert again.exit_code == 1
    assert "(2 unchanged, from the cache)" in again.output
    wrong = runner.invoke(main, ["validate", "--engine", "fastest", *files])
    assert wrong.exit_code == 2


BOUNDARY = """\
session: {{id: b1, date: 2025-03-01, number: {number}, setting: individual}}
participants:
  - {{id: P-1, role: patient}}
  - {{id: T-1, role: therapist}}
annotators:
  - {{id: A-1}}
turns:
  - {{id: 1, speaker: T-1, text: {text}}}
  - {{id: 2, speaker: P-1, text: "Fine."}}
annotations:
  - {{id: a1, concept: epistemic trust, turns: 2, annotator: A-1, confidence: {confidence}}}
"""


@pytest.mark.parametrize(
    ("text", "number", "confidence", "expected"),
    [
        ('"?"', 1, 0, set()),  # every value exactly at its bound conforms
        ('"?"', 1, 1, set()),
        ('""', 1, 1, {("mbtsh:Turn-text", "sh:MinLengthConstraintComponent")}),
        ('"?"', 0, 1, {("mbtsh:Session-number", "sh:MinInclusiveConstraintComponent")}),
        ('"?"', 1, 1.5, {("mbtsh:Annotation-confidence", "sh:MaxInclusiveConstraintComponent")}),
        ('"?"', 1, -0.5, {("mbtsh:Annotation-confidence", "sh:MinInclusiveConstraintComponent")}),
    ],
)
def test_values_at_their_bounds(text: str, number: int, confidence: float, expected: set) -> None:
    """A one-character turn ("?") is valid: sh:minLength 1 means at least one character."""
    from mbtkg.sessions import parse_yaml_session

    session = parse_yaml_session(
        BOUNDARY.format(text=text, number=number, confidence=confidence), "b1.yaml"
    )
    graph = session_to_rdf(session)
    for engine in ("fast", "pyshacl"):
        report = validate_graphs([graph], engine=engine)
        assert {(v.shape, v.component) for v in report.violations} == expected, engine
