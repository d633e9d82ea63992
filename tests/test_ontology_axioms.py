"""MBT's claims as axioms: coding mistakes are inconsistencies, correct codings are accepted.

The negative individuals (tests/fixtures/ontology/individuals/negative.trig) are each one
mistake a coder could make; HermiT, with BFO 2020 merged, must find each of them inconsistent
on its own. The positive ones must be accepted. Every class under mbt:SessionPhenomenon must
take part in a disjointness axiom or carry a restriction of its own.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from mbtkg import vocab
from mbtkg.ontology.reasoning import ReasonerResult, check_consistency_each, find_java
from mbtkg.ontology.source import read_ontology
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session
from mbtkg.sessions.to_rdf import session_to_rdf

ROOT = Path(__file__).resolve().parent.parent
INDIVIDUALS = ROOT / "tests" / "fixtures" / "ontology" / "individuals"
MBT = rdflib.Namespace(vocab.MBT)
needs_java = pytest.mark.skipif(
    find_java() is None, reason="HermiT needs a Java runtime (apt-get install default-jre-headless)"
)


def cases(name: str) -> dict[str, list[ox.Triple]]:
    """The named graphs of a TriG fixture: case name -> its triples."""
    out: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(path=str(INDIVIDUALS / name), format=ox.RdfFormat.TRIG):
        assert isinstance(quad.graph_name, ox.NamedNode), f"{name}: a triple outside a case"
        key = quad.graph_name.value.rsplit("/", 1)[-1]
        out.setdefault(key, []).append(ox.Triple(quad.subject, quad.predicate, quad.object))
    return out


NEGATIVE = cases("negative.trig")
POSITIVE = cases("positive.trig")


@cache
def negative_verdicts() -> dict[str, ReasonerResult]:
    return check_consistency_each(read_ontology().triples, dict(NEGATIVE))


def test_there_are_at_least_20_negative_and_20_positive_cases() -> None:
    assert len(NEGATIVE) >= 20 and len(POSITIVE) >= 20
    assert not set(NEGATIVE) & set(POSITIVE)


@needs_java
@pytest.mark.parametrize("case", sorted(NEGATIVE))
def test_each_coding_mistake_is_inconsistent_on_its_own(case: str) -> None:
    result = negative_verdicts()[case]
    assert result.status == "inconsistent", f"{case}: {result.status} {result.message}"


@needs_java
def test_the_correct_codings_are_consistent_together() -> None:
    union = [t for triples in POSITIVE.values() for t in triples]
    result = check_consistency_each(read_ontology().triples, {"all": union})["all"]
    assert result.status == "consistent", result.message


@needs_java
def test_the_check_tells_consistent_from_inconsistent_cases_in_one_batch() -> None:
    # A batch mixing the two kinds: each case gets its own verdict.
    picked = {
        "neg": NEGATIVE["we-ness-also-rupture"],
        "pos": POSITIVE["repair-of-rupture"],
    }
    verdicts = check_consistency_each(read_ontology().triples, picked)
    assert {k: v.status for k, v in verdicts.items()} == {
        "neg": "inconsistent",
        "pos": "consistent",
    }


@needs_java
def test_a_mistake_that_only_bfo_catches_needs_the_import() -> None:
    # Without BFO an occurrence typed as an annotation record is not a contradiction.
    case = {"x": NEGATIVE["occurrence-also-annotation-record"]}
    without = check_consistency_each(read_ontology().triples, case, imports=())
    assert without["x"].status == "consistent"


@needs_java
def test_the_example_sessions_are_consistent_with_the_ontology() -> None:
    data: list[ox.Triple] = []
    for path in example_sessions():
        graph = session_to_rdf(read_session(path))
        data.extend(ox.Triple(q.subject, q.predicate, q.object) for q in graph.quads)
    result = check_consistency_each(read_ontology().triples, {"examples": data})["examples"]
    assert result.status == "consistent", result.message


def test_a_java_that_fails_is_reported_per_case_not_taken_for_an_answer(tmp_path: Path) -> None:
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\necho 'Error: could not reserve enough space' >&2\nexit 3\n")
    fake.chmod(0o755)
    verdicts = check_consistency_each([], {"a": [], "b": []}, java=str(fake), imports=())
    assert {v.status for v in verdicts.values()} == {"failed"}
    assert all("could not reserve enough space" in v.message for v in verdicts.values())


def test_without_java_each_case_is_skipped(tmp_path: Path) -> None:
    verdicts = check_consistency_each([], {"a": [], "b": []}, java=str(tmp_path / "no-java"))
    assert {v.status for v in verdicts.values()} == {"skipped"}


# ---- Axiom coverage ---------------------------------------------------------------------------


@cache
def ontology_graph() -> rdflib.Graph:
    return read_ontology().to_rdflib()


def own_classes(g: rdflib.Graph) -> set[rdflib.URIRef]:
    return {
        c
        for c in g.subjects(RDF.type, OWL.Class)
        if isinstance(c, rdflib.URIRef)
        and str(c).startswith(vocab.MBT)
        and (c, OWL.deprecated, rdflib.Literal(True)) not in g
    }


def disjoint_classes(g: rdflib.Graph) -> set[rdflib.term.Node]:
    found: set[rdflib.term.Node] = set()
    for a, b in g.subject_objects(OWL.disjointWith):
        found |= {a, b}
    for node in g.subjects(RDF.type, OWL.AllDisjointClasses):
        members = g.value(node, OWL.members)
        assert members is not None
        found |= set(Collection(g, members))
    return found


def with_class_expression(g: rdflib.Graph) -> set[rdflib.term.Node]:
    """Classes with a restriction or other anonymous class expression of their own."""
    found: set[rdflib.term.Node] = set()
    for prop in (RDFS.subClassOf, OWL.equivalentClass):
        for c, expr in g.subject_objects(prop):
            if isinstance(expr, rdflib.BNode):
                found.add(c)
    return found


def session_phenomenon_classes(g: rdflib.Graph) -> set[rdflib.URIRef]:
    top = MBT.SessionPhenomenon
    return {
        c
        for c in own_classes(g)
        if c != top and top in set(g.transitive_objects(c, RDFS.subClassOf))
    }


def test_every_session_phenomenon_class_is_in_a_disjointness_axiom_or_has_a_restriction() -> None:
    g = ontology_graph()
    classes = session_phenomenon_classes(g)
    assert len(classes) >= 70
    covered = disjoint_classes(g) | with_class_expression(g)
    assert sorted(str(c) for c in classes - covered) == []


def test_the_coverage_check_notices_a_bare_class() -> None:
    g = rdflib.Graph()
    g += ontology_graph()
    bare = MBT.BareExampleMove
    g.add((bare, RDF.type, OWL.Class))
    g.add((bare, RDFS.subClassOf, MBT.Intervention))
    assert bare in session_phenomenon_classes(g)
    assert bare not in disjoint_classes(g) | with_class_expression(g)


def share_with_logical_axioms() -> tuple[int, int]:
    """(classes with a logical axiom beyond a named parent, own non-deprecated classes)."""
    g = ontology_graph()
    classes = own_classes(g)
    logical = disjoint_classes(g) | with_class_expression(g)
    return len(classes & logical), len(classes)


def test_docs_state_the_share_of_classes_with_logical_axioms() -> None:
    with_axioms, total = share_with_logical_axioms()
    text = (ROOT / "docs" / "ontology.md").read_text(encoding="utf-8")
    match = re.search(r"(\d+) of (\d+) classes \((\d+) %\) carry a logical axiom", text)
    assert match, "docs/ontology.md does not state the share of classes with logical axioms"
    assert (int(match[1]), int(match[2])) == (with_axioms, total)
    assert int(match[3]) == round(100 * with_axioms / total)


def test_every_class_has_a_bfo_category_among_its_ancestors() -> None:
    g = ontology_graph()
    bfo = "http://purl.obolibrary.org/obo/BFO_"
    unplaced = [
        str(c)
        for c in own_classes(g)
        if not any(
            isinstance(a, rdflib.URIRef) and str(a).startswith(bfo)
            for a in g.transitive_objects(c, RDFS.subClassOf)
        )
    ]
    assert unplaced == []
