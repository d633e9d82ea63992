"""The SHACL shapes, driven by data: every shape has an invalid fixture that fails exactly as declared.

Each ``tests/fixtures/invalid/*.yaml`` file declares the violations it must produce in leading
comments, one per line: ``# expect: mbtsh:Turn-speaker @ 12``. The test compares the set of
(shape, line) pairs pySHACL reports with that declaration, so an extra or a missing violation
fails. A few shapes cannot be violated from YAML because the reader (or the RDF writer) already
makes the violation impossible; for those, ``QUAD_CASES`` below builds the invalid graph by
editing the quads of a valid fixture, and says why each one needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from mbtkg import vocab
from mbtkg.resources import example_sessions, shape_files
from mbtkg.sessions import SessionGraph, read_session, session_to_rdf
from mbtkg.validation.axiom_checks import axiom_shapes
from mbtkg.validation.validate import ValidationReport, validate_graphs

FIXTURES = Path(__file__).resolve().parent / "fixtures"
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
VALID = sorted((FIXTURES / "valid").glob("*.yaml"))
_EXPECT = re.compile(r"^#\s*expect:\s*(?P<shape>mbtsh:[A-Za-z-]+)\s*@\s*(?P<line>\d+)\s*$")
_SH = rdflib.Namespace(vocab.SH)
_MBTSH = "https://w3id.org/mbtkg/shapes#"

Expectation = set[tuple[str, int]]


def expectations(path: Path) -> Expectation:
    """The (shape, line) pairs a fixture declares in its ``# expect:`` comment lines."""
    found: Expectation = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _EXPECT.match(line)
        if m:
            found.add((m.group("shape"), int(m.group("line"))))
    return found


def graph_of(path: Path) -> SessionGraph:
    return session_to_rdf(read_session(path))


def report_pairs(report: ValidationReport) -> Expectation:
    return {(v.shape, v.line or 0) for v in report.violations}


# ------------------------------------------------------------------ quads edited by hand


def _without(graph: SessionGraph, subject: str, predicate: str) -> SessionGraph:
    """The graph minus every quad with that subject and predicate (which must exist)."""
    kept = tuple(
        q
        for q in graph.quads
        if not (q.subject == ox.NamedNode(subject) and q.predicate.value == predicate)
    )
    assert len(kept) < len(graph.quads), f"nothing to remove: {subject} {predicate}"
    return graph.with_quads(kept)


def _with(graph: SessionGraph, s: str, p: str, o: ox.NamedNode | ox.Literal) -> SessionGraph:
    quad = ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, ox.NamedNode(graph.graph))
    return graph.with_quads((*graph.quads, quad))


_SID = "valid-two-annotators"
_S = vocab.session_iri(_SID)


def _replace_date(g: SessionGraph) -> SessionGraph:
    return _with(
        _without(g, _S, vocab.DCTERMS + "date"), _S, vocab.DCTERMS + "date", ox.Literal("20 Jan")
    )


def _shifted_position(g: SessionGraph, annotation: str) -> SessionGraph:
    """Give an annotation's quote a text position one character off (as a bad import would)."""
    target = vocab.target_iri(_SID, annotation)
    pos = target + "/position"
    g = _with(g, target, vocab.OA + "hasSelector", ox.NamedNode(pos))
    g = _with(g, pos, vocab.RDF + "type", ox.NamedNode(vocab.OA + "TextPositionSelector"))
    quote = "I don't know yet"
    g = _with(g, pos, vocab.OA + "start", ox.Literal(1))
    return _with(g, pos, vocab.OA + "end", ox.Literal(1 + len(quote)))


#: shape -> (why YAML cannot produce it, valid fixture to start from, edit, expected pairs).
#: Lines refer to tests/fixtures/valid/two-annotators.yaml: session 2, P-dee 4, turns 10-12,
#: annotation x1 14.
QUAD_CASES: dict[str, tuple[str, str, Callable[[SessionGraph], SessionGraph], Expectation]] = {
    "mbtsh:Session-sessionId": (
        "the reader refuses a session without an id and the writer always writes one",
        "two-annotators.yaml",
        lambda g: _without(g, _S, vocab.MBT + "sessionId"),
        {("mbtsh:Session-sessionId", 2)},
    ),
    "mbtsh:Session-date": (
        "the reader accepts only calendar dates and writes them as xsd:date",
        "two-annotators.yaml",
        _replace_date,
        {("mbtsh:Session-date", 2)},
    ),
    "mbtsh:Role-roleOf": (
        "the writer links every participant role to exactly one person",
        "two-annotators.yaml",
        lambda g: _without(g, vocab.role_iri(_SID, "P-dee"), vocab.MBT + "roleOf"),
        {("mbtsh:Role-roleOf", 4)},
    ),
    "mbtsh:Turn-turnIndex": (
        "the reader refuses a turn without a whole-number id from 1 up",
        "two-annotators.yaml",
        lambda g: _without(g, vocab.turn_iri(_SID, 3), vocab.MBT + "turnIndex"),
        {("mbtsh:Turn-turnIndex", 12)},
    ),
    "mbtsh:Turn-nextTurn": (
        "the writer links each turn to the turn listed after it",
        "two-annotators.yaml",
        lambda g: _with(g, vocab.turn_iri(_SID, 3), vocab.MBT + "nextTurn", ox.NamedNode(_S)),
        {("mbtsh:Turn-nextTurn", 12)},
    ),
    "mbtsh:Axiom-nextTurn-functional": (
        "the writer links each turn to the one listed after it, once",
        "two-annotators.yaml",
        lambda g: _with(
            g,
            vocab.turn_iri(_SID, 1),
            vocab.MBT + "nextTurn",
            ox.NamedNode(vocab.turn_iri(_SID, 3)),
        ),
        {("mbtsh:Axiom-nextTurn-functional", 10)},
    ),
    "mbtsh:Axiom-selectedTurn-functional": (
        "the writer gives each turn selector one turn (located at its annotation's line)",
        "two-annotators.yaml",
        lambda g: _with(
            g,
            vocab.target_iri(_SID, "x1") + "/range/start",
            vocab.MBT + "selectedTurn",
            ox.NamedNode(vocab.turn_iri(_SID, 3)),
        ),
        {("mbtsh:Axiom-selectedTurn-functional", 14)},
    ),
    "mbtsh:Annotation-suggestion": (
        "the writer gives an accepted suggestion one activity, typed prov:Activity",
        "two-annotators.yaml",
        lambda g: _with(
            g,
            vocab.annotation_iri(_SID, "x1"),
            vocab.PROV + "wasGeneratedBy",
            ox.NamedNode(vocab.annotation_iri(_SID, "x1") + "/untyped"),
        ),
        {("mbtsh:Annotation-suggestion", 14)},
    ),
    "mbtsh:Annotation-body": (
        "the writer gives every annotation exactly one body",
        "two-annotators.yaml",
        lambda g: _without(g, vocab.annotation_iri(_SID, "x1"), vocab.OA + "hasBody"),
        {("mbtsh:Annotation-body", 14)},
    ),
    "mbtsh:Annotation-position": (
        "YAML has no field for text positions; only importers (QDPX) write them",
        "two-annotators.yaml",
        lambda g: _shifted_position(g, "x2"),
        {("mbtsh:Annotation-position", 15)},
    ),
    "mbtsh:Annotation-target": (
        "the writer gives every annotation a target",
        "two-annotators.yaml",
        lambda g: _without(g, vocab.annotation_iri(_SID, "x1"), vocab.OA + "hasTarget"),
        {("mbtsh:Annotation-target", 14)},
    ),
    "mbtsh:Occurrence-coveredTurns": (
        "the writer links each occurrence to exactly the turns of its span",
        "two-annotators.yaml",
        lambda g: _without(g, vocab.occurrence_iri(_SID, "y2"), vocab.MBT + "coversTurn"),
        {("mbtsh:Occurrence-coveredTurns", 17)},
    ),
    "mbtsh:Occurrence-coder": (
        "the writer gives each occurrence the creator of its annotation as its coder",
        "two-annotators.yaml",
        lambda g: _with(
            g,
            vocab.occurrence_iri(_SID, "x1"),
            vocab.MBT + "codedBy",
            ox.NamedNode(vocab.annotator_iri("A-2")),
        ),
        {("mbtsh:Occurrence-coder", 14)},
    ),
    "mbtsh:Session-coAnnotators": (
        "the writer links each annotator of the session to every other one",
        "two-annotators.yaml",
        lambda g: _without(g, vocab.annotator_iri("A-1"), vocab.MBT + "coAnnotator"),
        {("mbtsh:Session-coAnnotators", 2)},
    ),
}


# ------------------------------------------------------------------ which shapes exist

_NOT_CONSTRAINTS = {
    rdflib.RDF.type,
    rdflib.RDFS.label,
    rdflib.RDFS.comment,
    _SH.targetClass,
    _SH.targetNode,
    _SH.targetSubjectsOf,
    _SH.targetObjectsOf,
    _SH.property,
    _SH.sparql,
    _SH.message,
    _SH.name,
    _SH.description,
    _SH.severity,
    _SH.deactivated,
}


def declared_shapes() -> set[str]:
    """Every named check in the shape files, as ``mbtsh:Name``.

    That is each named property shape, each named SPARQL constraint, and each named node shape
    that carries a constraint of its own (not only ``sh:property`` / ``sh:sparql`` links).
    """
    g = rdflib.Graph()
    for path in shape_files():
        g.parse(str(path), format="turtle")
    g += axiom_shapes()  # generated from the ontology's axioms (mbtkg/validation/axiom_checks.py)
    names: set[rdflib.URIRef] = set()
    for kind in (_SH.PropertyShape, _SH.SPARQLConstraint):
        names.update(s for s in g.subjects(rdflib.RDF.type, kind) if isinstance(s, rdflib.URIRef))
    for s in g.subjects(rdflib.RDF.type, _SH.NodeShape):
        if isinstance(s, rdflib.URIRef) and any(p not in _NOT_CONSTRAINTS for p in g.predicates(s)):
            names.add(s)
    return {f"mbtsh:{str(s)[len(_MBTSH) :]}" for s in names if str(s).startswith(_MBTSH)}


def covered_shapes() -> set[str]:
    covered = {shape for path in INVALID for shape, _ in expectations(path)}
    return covered | set(QUAD_CASES)


# ------------------------------------------------------------------ tests


def test_the_shape_inventory_is_what_we_expect() -> None:
    """A sanity check on declared_shapes(): it finds the three kinds of checks."""
    shapes = declared_shapes()
    assert {"mbtsh:Turn-speaker", "mbtsh:Turn-order", "mbtsh:Occurrence", "mbtsh:Role"} <= shapes
    assert "mbtsh:Turn" not in shapes  # only links property shapes and a SPARQL constraint
    assert len(shapes) >= 27


def test_every_shape_has_an_invalid_fixture() -> None:
    missing = declared_shapes() - covered_shapes()
    assert not missing, (
        f"shapes without an invalid fixture: {sorted(missing)}; add "
        "tests/fixtures/invalid/<shape>.yaml with '# expect: <shape> @ <line>' (or a QUAD_CASES entry)"
    )
    stale = covered_shapes() - declared_shapes()
    assert not stale, f"fixtures expect shapes that do not exist: {sorted(stale)}"


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_fails_exactly_as_declared(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} declares no '# expect: mbtsh:Shape @ LINE'"
    assert path.stem == f"mbtsh-{next(iter(expected))[0].removeprefix('mbtsh:')}"
    report = validate_graphs([graph_of(path)])
    assert report_pairs(report) == expected, "\n".join(str(v) for v in report.violations)
    for violation in report.violations:
        assert violation.source == str(path)
        assert str(violation).startswith(f"{path}:{violation.line}: ")
        assert violation.message and violation.message != "does not conform"


@pytest.mark.parametrize("shape", sorted(QUAD_CASES))
def test_shape_not_reachable_from_yaml_fails_on_edited_quads(shape: str) -> None:
    _why, fixture, edit, expected = QUAD_CASES[shape]
    path = FIXTURES / "valid" / fixture
    graph = graph_of(path)
    assert validate_graphs([graph]).conforms
    report = validate_graphs([edit(graph)])
    assert report_pairs(report) == expected, "\n".join(str(v) for v in report.violations)
    (violation,) = report.violations
    assert str(violation).startswith(f"{path}:{violation.line}: ")


@pytest.mark.parametrize("shape", sorted(QUAD_CASES))
def test_fast_engine_reports_edited_quads_as_pyshacl_does(shape: str) -> None:
    """The checks of triples only the writer makes (mbt:coversTurn, mbt:codedBy, ...) are
    SPARQL constraints: the fast engine runs them too and must find the same violations."""
    _why, fixture, edit, _expected = QUAD_CASES[shape]
    edited = edit(graph_of(FIXTURES / "valid" / fixture))
    fast = validate_graphs([edited], engine="fast")
    reference = validate_graphs([edited])
    assert report_pairs(fast) == report_pairs(reference)
    assert sorted(str(v) for v in fast.violations) == sorted(str(v) for v in reference.violations)


@pytest.mark.parametrize("engine", ["pyshacl", "fast"])
def test_covered_turns_are_checked_one_turn_at_a_time(engine: str) -> None:
    """y2 spans turns 2-3: dropping only its link to turn 3 (the first turn stays covered) and
    adding a link to turn 1 (outside the span) are both reported, by both engines."""
    graph = graph_of(FIXTURES / "valid" / "two-annotators.yaml")
    occ = ox.NamedNode(vocab.occurrence_iri(_SID, "y2"))
    covers = ox.NamedNode(vocab.MBT + "coversTurn")
    turn = [ox.NamedNode(vocab.turn_iri(_SID, i)) for i in (1, 2, 3)]
    kept = [q for q in graph.quads if (q.subject, q.predicate, q.object) != (occ, covers, turn[2])]
    assert len(kept) == len(graph.quads) - 1
    gap = graph.with_quads(kept)
    outside = _with(graph, occ.value, covers.value, turn[0])
    for edited, value in ((gap, "turn 3"), (outside, "turn 1")):
        report = validate_graphs([edited], engine=engine)
        assert report_pairs(report) == {("mbtsh:Occurrence-coveredTurns", 17)}
        assert [v.value for v in report.violations] == [value]


@pytest.mark.parametrize("engine", ["pyshacl", "fast"])
def test_co_annotator_links_are_exactly_the_session_annotators(engine: str) -> None:
    """The writer links A-1 and A-2 both ways; a missing direction, a link to an annotator the
    session does not declare and a link of an annotator to itself are each reported, by both
    engines, with the annotator at fault as the value."""
    graph = graph_of(FIXTURES / "valid" / "two-annotators.yaml")
    co = ox.NamedNode(vocab.MBT + "coAnnotator")
    one, two = (ox.NamedNode(vocab.annotator_iri(a)) for a in ("A-1", "A-2"))
    links = {(q.subject, q.object) for q in graph.quads if q.predicate == co}
    assert links == {(one, two), (two, one)}
    stranger = ox.NamedNode(vocab.annotator_iri("A-9"))
    one_way = graph.with_quads([q for q in graph.quads if (q.predicate, q.subject) != (co, two)])
    cases = (
        (one_way, "annotator 'A-1'"),
        (_with(graph, one.value, co.value, stranger), "annotator 'A-9'"),
        (_with(graph, two.value, co.value, two), "annotator 'A-2'"),
    )
    for edited, value in cases:
        report = validate_graphs([edited], engine=engine)
        assert report_pairs(report) == {("mbtsh:Session-coAnnotators", 2)}
        assert [v.value for v in report.violations] == [value]


def test_three_annotators_are_each_linked_to_the_two_others(tmp_path: Path) -> None:
    text = (FIXTURES / "valid" / "two-annotators.yaml").read_text(encoding="utf-8")
    text = text.replace("  - {id: A-2}\n", "  - {id: A-2}\n  - {id: A-3}\n", 1)
    path = tmp_path / "three-annotators.yaml"
    path.write_text(text, encoding="utf-8")
    graph = session_to_rdf(read_session(path))
    co = ox.NamedNode(vocab.MBT + "coAnnotator")
    links = {(q.subject, q.object) for q in graph.quads if q.predicate == co}
    agents = [ox.NamedNode(vocab.annotator_iri(a)) for a in ("A-1", "A-2", "A-3")]
    assert links == {(a, b) for a in agents for b in agents if a != b}
    assert len(links) == 6
    assert validate_graphs([graph]).conforms


def test_a_session_with_one_annotator_has_no_co_annotator_link() -> None:
    graph = graph_of(FIXTURES / "valid" / "one-turn.yaml")
    assert not [q for q in graph.quads if q.predicate.value == vocab.MBT + "coAnnotator"]
    assert validate_graphs([graph]).conforms


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_conforms(path: Path) -> None:
    report = validate_graphs([graph_of(path)])
    assert report.conforms, str(report)
    assert not expectations(path)


def test_the_valid_fixtures_cover_what_they_promise() -> None:
    names = {p.stem for p in VALID}
    assert {"one-turn", "group-three-patients", "two-annotators", "relations"} <= names
    group = read_session(FIXTURES / "valid" / "group-three-patients.yaml")
    assert group.setting == "group"
    assert [p.role for p in group.participants].count("patient") == 3
    pair = read_session(FIXTURES / "valid" / "two-annotators.yaml")
    assert {a.annotator for a in pair.annotations} == {"A-1", "A-2"}
    rel = read_session(FIXTURES / "valid" / "relations.yaml")
    assert {r.name for a in rel.annotations for r in a.relations} == {
        "repairs",
        "respondsTo",
        "triggeredBy",
    }


@pytest.mark.parametrize("path", example_sessions(), ids=[p.stem for p in example_sessions()])
def test_bundled_example_conforms(path: Path) -> None:
    report = validate_graphs([graph_of(path)])
    assert report.conforms, str(report)


def test_undeclared_speaker_message_names_the_closest_participant() -> None:
    path = FIXTURES / "invalid" / "mbtsh-Turn-speaker.yaml"
    report = validate_graphs([graph_of(path)])
    by_line = {v.line: str(v) for v in report.violations}
    assert by_line[12] == (
        f"{path}:12: turn 2: the turn's speaker must be one of the session's declared "
        "participants (found participant 'P-2'); did you mean 'P-1'?"
    )
    assert by_line[13].startswith(f"{path}:13: turn 3: the turn's speaker must be")


def test_missing_relation_target_message_names_the_annotation() -> None:
    path = FIXTURES / "invalid" / "mbtsh-Axiom-repairs-range.yaml"
    (violation,) = validate_graphs([graph_of(path)]).violations
    assert str(violation) == (
        f"{path}:15: annotation 'a2': 'repairs' must name an annotation of a rupture in this "
        "session; repairs links a repair to a rupture (ontology: repairs has range rupture) "
        "(found annotation 'a3')"
    )


def test_span_out_of_range_message() -> None:
    path = FIXTURES / "invalid" / "mbtsh-Occurrence-endTurn.yaml"
    (violation,) = validate_graphs([graph_of(path)]).violations
    assert str(violation) == (
        f"{path}:15: annotation 'a2': the annotation's span must end at a turn of this session "
        "(found turn 9)"
    )


def test_structural_concept_is_reported_once_not_as_a_broken_session() -> None:
    """An occurrence typed mbt:Session must not be validated as if it were a session."""
    path = FIXTURES / "invalid" / "mbtsh-Occurrence.yaml"
    report = validate_graphs([graph_of(path)])
    assert {v.component for v in report.violations} == {"sh:ClassConstraintComponent"}
    assert {v.focus for v in report.violations} == {
        vocab.occurrence_iri("invalid-occurrence", "a1"),
        vocab.occurrence_iri("invalid-occurrence", "a2"),
    }


def test_violations_of_several_files_are_kept_apart() -> None:
    paths = [INVALID[0], VALID[0], INVALID[1]]
    report = validate_graphs([graph_of(p) for p in paths])
    assert report.sessions == 3
    assert report.for_source(str(VALID[0])) == ()
    for p in (INVALID[0], INVALID[1]):
        assert {(v.shape, v.line) for v in report.for_source(str(p))} == expectations(p)


_QUOTE_SPANS = """\
session: {id: quote-spans, date: 2025-03-02, number: 4, setting: individual}
participants:
  - {id: P-1, role: patient}
  - {id: T-1, role: therapist}
annotators:
  - {id: A-1}
turns:
  - {id: 1, speaker: T-1, text: "You went quiet when I mentioned the holiday."}
  - {id: 2, speaker: P-1, text: "It's nothing. Everyone goes away."}
  - {id: 3, speaker: T-1, text: "Everyone goes away. What is that like for you?"}
annotations:
  - {id: a1, concept: withdrawal rupture, turns: [1, 3], quote: "It's nothing.", annotator: A-1}
  - {id: a2, concept: withdrawal rupture, turns: [2, 3], quote: "the holiday", annotator: A-1}
  - {id: a3, concept: clarification, turns: [2, 3], quote: "What is that like", annotator: A-1}
  - {id: a4, concept: clarification, turns: [3, 2], quote: "What is that like", annotator: A-1}
"""


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_quote_is_looked_for_in_every_turn_of_the_span_and_only_there(
    tmp_path: Path, engine: str
) -> None:
    # The quote check looks at the span's first turn by key before it scans the span: a quote
    # in a middle (a1) or last (a3) turn still conforms, one before the span (a2) does not,
    # and a backwards span (a4) covers no turn, whatever its first turn says.
    path = tmp_path / "quote-spans.yaml"
    path.write_text(_QUOTE_SPANS, encoding="utf-8")
    report = validate_graphs([graph_of(path)], engine=engine)
    assert report_pairs(report) == {
        ("mbtsh:Annotation-quote", 13),
        ("mbtsh:Annotation-quote", 15),
        ("mbtsh:Occurrence-span", 15),
    }
