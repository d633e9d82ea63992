"""HermiT through owlready2: consistency, unsatisfiable classes, and running without Java."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from mbtkg import vocab
from mbtkg.ontology.reasoning import (
    NO_JAVA,
    find_java,
    owl_ntriples,
    owlready_class_count,
    run_hermit,
)
from mbtkg.ontology.source import read_ontology

ONTO = Path(__file__).resolve().parent / "fixtures" / "ontology"
needs_java = pytest.mark.skipif(
    find_java() is None, reason="HermiT needs a Java runtime (apt-get install default-jre-headless)"
)


def test_dates_become_plain_strings_for_hermit_and_other_literals_stay() -> None:
    s, p = ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p")
    date = ox.Literal("2026-01-15", datatype=ox.NamedNode(vocab.XSD + "date"))
    year = ox.Literal("2016", datatype=ox.NamedNode(vocab.XSD + "gYear"))
    count = ox.Literal("2", datatype=ox.NamedNode(vocab.XSD + "nonNegativeInteger"))
    text = owl_ntriples([ox.Triple(s, p, date), ox.Triple(s, p, year), ox.Triple(s, p, count)])
    lines = set(text.decode().splitlines())
    assert lines == {
        '<http://e/s> <http://e/p> "2026-01-15" .',
        '<http://e/s> <http://e/p> "2016" .',
        '<http://e/s> <http://e/p> "2"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .',
    }


def test_owlready2_reads_the_fixture_and_sees_its_classes() -> None:
    assert owlready_class_count(read_ontology(ONTO / "mini.ttl").triples) == 5


def test_without_java_the_reasoner_is_skipped_with_a_plain_message(tmp_path: Path) -> None:
    result = run_hermit(read_ontology(ONTO / "mini.ttl").triples, java=str(tmp_path / "no-java"))
    assert result.status == "skipped"
    assert result.message == NO_JAVA
    assert result.passed and not result.ran


@needs_java
def test_hermit_finds_the_miniature_consistent() -> None:
    result = run_hermit(read_ontology(ONTO / "mini.ttl").triples)
    assert result.status == "consistent"
    assert result.unsatisfiable == ()


@needs_java
def test_hermit_names_the_class_under_two_disjoint_parents() -> None:
    triples = read_ontology(ONTO / "broken" / "reasoner--unsatisfiable.ttl").triples
    result = run_hermit(triples)
    assert result.status == "unsatisfiable"
    assert result.unsatisfiable == (vocab.MBT + "ConfusedMode",)
    assert not result.passed


@needs_java
def test_hermit_reports_an_inconsistent_ontology() -> None:
    result = run_hermit(read_ontology(ONTO / "broken" / "reasoner--inconsistent.ttl").triples)
    assert result.status == "inconsistent"
    assert "inconsistent" in result.message


@needs_java
def test_the_bundled_ontology_is_consistent_with_no_unsatisfiable_class() -> None:
    result = run_hermit(read_ontology().triples)
    assert (result.status, result.unsatisfiable) == ("consistent", ())


def test_a_java_that_fails_is_reported_not_raised(tmp_path: Path) -> None:
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\necho 'Error: could not reserve enough space' >&2\nexit 3\n")
    fake.chmod(0o755)
    result = run_hermit(read_ontology(ONTO / "mini.ttl").triples, java=str(fake))
    assert result.status == "failed"
    assert "could not reserve enough space" in result.message
    assert not result.passed


def test_the_bfo_import_module_is_bundled_and_not_one_of_our_modules() -> None:
    from mbtkg.ontology.reasoning import import_triples
    from mbtkg.resources import import_files, ontology_files

    assert [p.name for p in import_files()] == ["bfo-core.ttl"]
    assert not set(import_files()) & set(ontology_files())
    process = ox.NamedNode("http://purl.obolibrary.org/obo/BFO_0000015")
    label = ox.NamedNode(vocab.RDFS + "label")
    process_label = (process, label, ox.Literal("process", language="en"))
    assert process_label in {(t.subject, t.predicate, t.object) for t in import_triples()}


BFO_CLASH = """
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
<http://e/o> a owl:Ontology .
<http://e/ProcessAndObject> a owl:Class ;
    rdfs:subClassOf obo:BFO_0000015 , obo:BFO_0000030 .
"""


@needs_java
def test_hermit_merges_bfo_so_a_class_under_two_disjoint_bfo_categories_is_unsatisfiable() -> None:
    triples = list(ox.parse(BFO_CLASH.encode(), format=ox.RdfFormat.TURTLE))
    merged = run_hermit(triples)
    assert (merged.status, merged.unsatisfiable) == (
        "unsatisfiable",
        ("http://e/ProcessAndObject",),
    )
    assert "import triples merged" in merged.message
    alone = run_hermit(triples, imports=())
    assert alone.status == "consistent"
