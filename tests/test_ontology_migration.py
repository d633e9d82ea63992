"""The migration to the OBO annotation conventions: what it writes, and that it is idempotent."""

from __future__ import annotations

from pathlib import Path

import rdflib
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.ontology.migration import migrate_directory, migrate_text
from mbtkg.resources import resource_dir

OLD_FORM = """\
@prefix mbt:     <https://w3id.org/mbtkg/ontology#> .
@prefix mbtsrc:  <https://w3id.org/mbtkg/ontology/source/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .

skos:definition a owl:AnnotationProperty .
skos:editorialNote a owl:AnnotationProperty .

mbtsrc:KarterudEtAl2013 a owl:NamedIndividual , dcterms:BibliographicResource ;
    dcterms:creator "Karterud, S.; Pedersen, G.; Engen, M." ;
    dcterms:issued "2013"^^xsd:gYear ;
    dcterms:title "The MBT Adherence and Competence Scale" .

# A comment that stays where it is.
mbt:Fidelity a owl:Class ;
    rdfs:label "fidelity" ;
    skos:definition "How closely a \\"session\\" follows the model." ;
    skos:editorialNote "Wording to be checked." ;
    dcterms:source mbtsrc:KarterudEtAl2013 .

mbt:Turn a owl:Class ;
    rdfs:label "turn" ;
    skos:definition "A stretch of talk by one speaker." ;
    dcterms:source mbtsrc:KarterudEtAl2013 ;
    skos:example "Therapist: 'Go on.'" .
"""


def test_old_form_is_converted_to_iao_definitions_with_sources_on_the_definition() -> None:
    new = migrate_text(OLD_FORM)
    assert "@prefix obo:     <http://purl.obolibrary.org/obo/> ." in new
    assert "# A comment that stays where it is.\nmbt:Fidelity a owl:Class ;" in new
    assert 'obo:IAO_0000115 "How closely a \\"session\\" follows the model." ;' in new
    assert 'obo:IAO_0000116 "Wording to be checked." .' in new  # the "." moved up a line
    assert "skos:definition" not in new.replace("skos:definition a", "")
    graph = rdflib.Graph().parse(data=new, format="turtle")
    obo = rdflib.Namespace("http://purl.obolibrary.org/obo/")
    mbt = rdflib.Namespace("https://w3id.org/mbtkg/ontology#")
    src = rdflib.Namespace("https://w3id.org/mbtkg/ontology/source/")
    (axiom,) = graph.subjects(rdflib.OWL.annotatedSource, mbt.Fidelity)
    assert graph.value(axiom, rdflib.OWL.annotatedProperty) == obo.IAO_0000115
    assert str(graph.value(axiom, rdflib.OWL.annotatedTarget)).startswith("How closely")
    assert graph.value(axiom, rdflib.DCTERMS.source) == src.KarterudEtAl2013
    assert str(graph.value(axiom, rdflib.URIRef(mbt + "sourceLocator"))) == (
        "mbtsrc:KarterudEtAl2013 pp. 705-717"
    )
    assert graph.value(mbt.Fidelity, rdflib.DCTERMS.source) is None
    assert graph.value(mbt.Fidelity, obo.IAO_0000114) == obo.IAO_0000122
    # A structural term loses its decorative citation and joins the structural subset.
    assert not list(graph.subjects(rdflib.OWL.annotatedSource, mbt.Turn))
    in_subset = rdflib.URIRef("http://www.geneontology.org/formats/oboInOwl#inSubset")
    assert graph.value(mbt.Turn, in_subset) == mbt.structural_subset
    # The bibliography entry is labelled and its year is an OWL 2 datatype.
    assert str(graph.value(src.KarterudEtAl2013, rdflib.RDFS.label)) == (
        "Karterud et al. 2013: The MBT Adherence and Competence Scale"
    )
    year = graph.value(src.KarterudEtAl2013, rdflib.DCTERMS.issued)
    assert isinstance(year, rdflib.Literal) and year.datatype == rdflib.XSD.integer


def test_the_migration_is_idempotent() -> None:
    once = migrate_text(OLD_FORM)
    assert migrate_text(once) == once


def test_the_bundled_sources_are_in_the_target_form() -> None:
    # Fails when terms in the older form were merged: run 'mbtkg ontology migrate-annotations'.
    results = migrate_directory(resource_dir("ontology"))
    assert [r.path.name for r in results if r.changed] == []


def test_migrate_check_exits_1_on_old_form_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "old.ttl").write_text(OLD_FORM, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["ontology", "migrate-annotations", "--ontology", str(tmp_path), "--check"]
    )
    assert result.exit_code == 1
    assert "would change" in result.output
    assert (tmp_path / "old.ttl").read_text(encoding="utf-8") == OLD_FORM
    result = CliRunner().invoke(
        main, ["ontology", "migrate-annotations", "--ontology", str(tmp_path)]
    )
    assert result.exit_code == 0
    assert (tmp_path / "old.ttl").read_text(encoding="utf-8") == migrate_text(OLD_FORM)
