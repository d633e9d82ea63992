"""Checks generated from the ontology's domain and range axioms (mbtkg/validation/axiom_checks.py)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from mbtkg import vocab
from mbtkg.concepts import default_index, default_ontology_quads
from mbtkg.resources import example_sessions, shape_files
from mbtkg.sessions import read_session, session_to_rdf
from mbtkg.validation.axiom_checks import axiom_shapes, axiom_shapes_from
from mbtkg.validation.validate import validate_graphs

SH = rdflib.Namespace(vocab.SH)
SUSAN = next(p for p in example_sessions() if p.stem == "susan-12")


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_a_repair_of_a_psychic_equivalence_names_file_line_and_axiom(
    tmp_path: Path, engine: str
) -> None:
    text = SUSAN.read_text(encoding="utf-8")
    # a15 (line 80) repairs a13; make it repair a11, coded as psychic equivalence
    bad = tmp_path / "s.yaml"
    bad.write_text(text.replace("relations: {repairs: a13}", "relations: {repairs: a11}"))
    report = validate_graphs([session_to_rdf(read_session(bad))], engine=engine)
    assert [str(v) for v in report.violations] == [
        f"{bad}:80: annotation 'a15': 'repairs' must name an annotation of a rupture in this "
        "session; repairs links a repair to a rupture (ontology: repairs has range rupture) "
        "(found annotation 'a11')"
    ]
    assert report.violations[0].shape == "mbtsh:Axiom-repairs-range"


def test_a_non_repair_that_repairs_is_refused_with_the_domain_axiom(tmp_path: Path) -> None:
    text = SUSAN.read_text(encoding="utf-8")
    # a14 (line 79, relational mentalizing) is made to repair a13
    bad = tmp_path / "s.yaml"
    bad.write_text(
        text.replace(
            'turns: 21, quote: "I think I rushed ahead of you there", annotator: A-1, '
            "confidence: 0.9}",
            'turns: 21, quote: "I think I rushed ahead of you there", annotator: A-1, '
            "confidence: 0.9, relations: {repairs: a13}}",
        )
    )
    report = validate_graphs([session_to_rdf(read_session(bad))], engine="fast")
    assert [(v.line, v.shape, v.message) for v in report.violations] == [
        (
            79,
            "mbtsh:Axiom-repairs-domain",
            "only a repair can use 'repairs'; this annotation's concept is not a repair "
            "(ontology: repairs has domain repair)",
        )
    ]


def test_the_checks_follow_the_ontology() -> None:
    """Change the axiom and the check changes: the ontology is the one source."""
    quads = [
        ox.Quad(q.subject, q.predicate, ox.NamedNode(vocab.MBT + "WeNess"), q.graph_name)
        if q.subject == ox.NamedNode(vocab.MBT + "repairs")
        and q.predicate.value == vocab.RDFS + "range"
        else q
        for q in default_ontology_quads()
    ]
    shapes = axiom_shapes_from(quads, default_index())
    check = rdflib.URIRef("https://w3id.org/mbtkg/shapes#Axiom-repairs-range")
    assert shapes.value(check, SH["class"]) == rdflib.URIRef(vocab.MBT + "WeNess")
    assert "has range we-ness" in str(shapes.value(check, SH.message))


def test_every_occurrence_relation_has_its_range_check() -> None:
    shapes = axiom_shapes()
    paths = {str(o) for s, o in shapes.subject_objects(SH.path) if str(s).endswith("-range")}
    assert paths == set(default_index().relation_labels)


def test_functional_properties_of_the_session_frame_have_a_check() -> None:
    shapes = axiom_shapes()
    functional = {
        str(shapes.value(s, SH.path))
        for s in shapes.subjects(SH.maxCount, rdflib.Literal(1))
        if str(s).endswith("-functional")
    }
    # poleOf, scaleValue and itemNumber are functional too, but describe ontology terms that
    # no session writes (their domains are not structural classes)
    assert functional == {vocab.MBT + "nextTurn", vocab.MBT + "selectedTurn"}


def test_no_hand_written_shape_duplicates_a_generated_one() -> None:
    hand = rdflib.Graph()
    for path in shape_files():
        hand.parse(str(path), format="turtle")
    generated = axiom_shapes()
    for check in generated.subjects(SH["class"], None):
        cls = generated.value(check, SH["class"])
        prop = generated.value(check, SH.path) or generated.value(check, SH.targetSubjectsOf)
        for shape in hand.subjects(SH["class"], cls):
            assert prop not in (
                hand.value(shape, SH.path),
                hand.value(shape, SH.targetSubjectsOf),
            ), f"{shape} repeats the generated check {check}"
