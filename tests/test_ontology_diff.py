"""Ontology diff: terms added, removed and deprecated; changed texts and axioms, on fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import rdflib
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.ontology.class_expressions import axioms, render
from mbtkg.ontology.diff import diff_ontologies, format_diff

DIFF = Path(__file__).resolve().parent / "fixtures" / "ontology" / "diff"
OLD, NEW = DIFF / "old.ttl", DIFF / "new.ttl"
UNPARSEABLE = DIFF.parent / "unparseable.ttl"


def _curies(terms: tuple[object, ...]) -> list[str]:
    return [t.iri.rsplit("#", 1)[1] for t in terms]  # type: ignore[attr-defined]


def test_added_removed_and_deprecated_classes() -> None:
    d = diff_ontologies(OLD, NEW)
    assert _curies(d.added_classes) == ["EpistemicMistrust", "Mentalizing", "Person", "WeNess"]
    assert _curies(d.removed_classes) == ["EpistemicTrust"]
    assert [(str(t), by) for t, by in d.deprecated_classes] == [
        ("prementalizing mode (mbt:PrementalizingMode)", "mbt:Mentalizing")
    ]
    assert _curies(d.added_properties) == ["involves"]
    assert d.removed_properties == ()
    assert d.old_version == "0.0.1 https://w3id.org/mbtkg/ontology/2026-01-15/mbt.ttl"
    assert d.new_version == "0.1.0 https://w3id.org/mbtkg/ontology/2026-02-01/mbt.ttl"


def test_changed_labels_definitions_and_annotations() -> None:
    d = diff_ontologies(OLD, NEW)
    ((label,),) = [(c,) for c in d.label_changes]
    assert (label.term.label, label.removed, label.added) == (
        "psychic equivalence mode",
        ("psychic equivalence",),
        ("psychic equivalence mode",),
    )
    (definition,) = d.definition_changes
    assert definition.term.iri.endswith("#TeleologicalMode")
    assert definition.removed[0].startswith("A prementalizing mode in which only visible")
    assert definition.added[0].startswith("A way of experiencing")
    (example,) = d.annotation_changes
    assert (example.aspect, example.removed, example.added) == (
        "skos:example",
        ("A stretch of talk about a missed appointment.",),
        ("A stretch of talk about a cancelled session.",),
    )


def test_changed_axioms_subclass_and_range() -> None:
    d = diff_ontologies(OLD, NEW)
    got = {(c.term.iri.rsplit("#", 1)[1], c.removed, c.added) for c in d.axiom_changes}
    assert got == {
        (
            "TeleologicalMode",
            ("subClassOf mbt:PrementalizingMode",),
            ("subClassOf mbt:Mentalizing",),
        ),
        ("respondsTo", ("range mbt:SessionPhenomenon",), ("range mbt:PrementalizingMode",)),
    }


def test_same_triples_in_another_layout_and_blank_node_ids_make_no_difference() -> None:
    d = diff_ontologies(OLD, DIFF / "old-as-ntriples.nt")
    assert d.is_empty
    assert "no differences" in format_diff(d)


def test_a_changed_restriction_and_dropped_disjointness_are_axiom_changes(tmp_path: Path) -> None:
    text = NEW.read_text(encoding="utf-8")
    edited = text.replace('"2"^^xsd:nonNegativeInteger', '"3"^^xsd:nonNegativeInteger')
    edited = edited.replace(
        "[] a owl:AllDisjointClasses ;\n    owl:members ( mbt:PsychicEquivalence mbt:TeleologicalMode ) .\n",
        "",
    )
    assert edited.count("AllDisjointClasses") == 0 and '"3"^^' in edited
    newer = tmp_path / "newer.ttl"
    newer.write_text(edited, encoding="utf-8")
    d = diff_ontologies(NEW, newer)
    got = {(c.term.iri.rsplit("#", 1)[1], c.removed, c.added) for c in d.axiom_changes}
    assert got == {
        (
            "WeNess",
            ("subClassOf (mbt:involves min 2 mbt:Person)",),
            ("subClassOf (mbt:involves min 3 mbt:Person)",),
        ),
        ("PsychicEquivalence", ("disjointWith mbt:TeleologicalMode",), ()),
        ("TeleologicalMode", ("disjointWith mbt:PsychicEquivalence",), ()),
    }
    assert not d.added_classes and not d.label_changes


def test_directories_are_compared_as_merged_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(OLD, tmp_path / "a" / "mbt.ttl")
    shutil.copy(NEW, tmp_path / "b" / "mbt.ttl")
    d = diff_ontologies(tmp_path / "a", tmp_path / "b")
    assert _curies(d.removed_classes) == ["EpistemicTrust"]
    assert len(d.old_files) == 1 and d.old_files[0].name == "mbt.ttl"


def test_render_is_canonical_for_unions_whatever_the_order() -> None:
    g = rdflib.Graph().parse(
        data="""@prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix mbt: <https://w3id.org/mbtkg/ontology#> .
        mbt:p owl:a [ owl:unionOf ( mbt:B mbt:A ) ] .
        mbt:q owl:a [ owl:unionOf ( mbt:A mbt:B ) ] .
        mbt:X owl:equivalentClass [ owl:intersectionOf ( mbt:A
            [ owl:onProperty mbt:r ; owl:someValuesFrom [ owl:complementOf mbt:C ] ] ) ] .""",
        format="turtle",
    )
    a = rdflib.URIRef("http://www.w3.org/2002/07/owl#a")
    texts = {render(g, o) for o in g.objects(None, a)}
    assert texts == {"(mbt:A or mbt:B)"}
    x = rdflib.URIRef("https://w3id.org/mbtkg/ontology#X")
    assert axioms(g)[x] == {"equivalentTo (mbt:A and (mbt:r some (not mbt:C)))"}


def test_cli_diff_prints_sections() -> None:
    result = CliRunner().invoke(main, ["ontology", "diff", str(OLD), str(NEW)])
    assert result.exit_code == 0, result.output
    out = result.output
    for line in (
        "added classes (4):",
        "  we-ness (mbt:WeNess)",
        "removed classes (1):",
        "  epistemic trust (mbt:EpistemicTrust)",
        "deprecated classes (1):",
        "  prementalizing mode (mbt:PrementalizingMode); replaced by mbt:Mentalizing",
        "changed axioms (2):",
        "    - subClassOf mbt:PrementalizingMode",
        "    + subClassOf mbt:Mentalizing",
    ):
        assert line in out.splitlines(), line


def test_cli_exit_code_flag() -> None:
    same = CliRunner().invoke(main, ["ontology", "diff", "--exit-code", str(OLD), str(OLD)])
    differ = CliRunner().invoke(main, ["ontology", "diff", "--exit-code", str(OLD), str(NEW)])
    assert (same.exit_code, differ.exit_code) == (0, 1)


def test_cli_diff_on_a_file_that_does_not_parse_names_file_and_line() -> None:
    result = CliRunner().invoke(main, ["ontology", "diff", str(OLD), str(UNPARSEABLE)])
    assert result.exit_code == 2
    assert "unparseable.ttl:8:" in result.stderr
    assert "does not parse" in result.stderr
