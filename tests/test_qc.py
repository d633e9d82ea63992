"""Quality checks: the SPARQL checks on broken fixtures, the CLI, and the acceptance tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from mbtkg.cli import main
from mbtkg.errors import QueryError
from mbtkg.ontology.qc import check_ontology, list_checks, parse_check_file
from mbtkg.ontology.reasoning import NO_JAVA, find_java
from mbtkg.resources import import_files, ontology_files, resource_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures"

ONTO = FIXTURES / "ontology"
BROKEN = sorted((ONTO / "broken").glob("*.ttl"))
MBT = rdflib.Namespace("https://w3id.org/mbtkg/ontology#")
IAO_DEFINITION = rdflib.URIRef("http://purl.obolibrary.org/obo/IAO_0000115")
needs_java = pytest.mark.skipif(
    find_java() is None, reason="HermiT needs a Java runtime (apt-get install default-jre-headless)"
)


def _expected(path: Path) -> str:
    """The IRI or CURIE a broken fixture names on its '# expect:' line."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path} has no '# expect:' line")


def _also(path: Path) -> set[str]:
    """Checks a broken fixture necessarily fails as well ('# also: NAME (why)' lines)."""
    return {
        line.split(":", 1)[1].split()[0]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# also:")
    }


def test_every_check_file_has_a_header_and_a_broken_fixture() -> None:
    checks = list_checks()
    names = {c.name for c in checks}
    assert len(checks) == 34
    for c in checks:
        assert c.title and c.checks and c.fix, c.path
        assert c.path.name == f"{c.name}-violation.rq"
    covered = {p.stem.split("--")[0] for p in BROKEN}
    assert names | {"reasoner"} == covered


def test_every_error_and_warn_check_of_robots_default_profile_has_an_equivalent() -> None:
    # ROBOT's default report profile, ERROR and WARN levels (docs: robot.obolibrary.org/report).
    robot_error_and_warn = {
        "annotation_whitespace", "deprecated_boolean_datatype", "deprecated_class_reference",
        "deprecated_property_reference", "duplicate_definition", "duplicate_exact_synonym",
        "duplicate_label_synonym", "duplicate_label", "duplicate_scoped_synonym",
        "equivalent_pair", "illegal_use_of_built_in_vocabulary", "invalid_entity_uri",
        "invalid_xref", "label_formatting", "label_whitespace", "missing_definition",
        "missing_label", "missing_obsolete_label", "missing_ontology_description",
        "missing_ontology_license", "missing_ontology_title", "missing_subset_declaration",
        "missing_synonymtype_declaration", "misused_obsolete_label", "misused_replaced_by",
        "multiple_asserted_superclasses", "multiple_definitions",
        "multiple_equivalent_class_definitions", "multiple_equivalent_classes", "multiple_labels",
    }  # fmt: skip
    covered = {r for c in list_checks() for r in c.robot}
    assert robot_error_and_warn - covered == set()
    assert {c.level for c in list_checks()} == {"ERROR", "WARN", "INFO"}
    assert len([c for c in list_checks() if c.name.startswith("dl-")]) == 4


def test_a_check_file_with_an_unknown_level_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x-violation.rq"
    bad.write_text("# title: X\n# checks: y\n# fix: z\n# level: FATAL\nSELECT * {}\n")
    with pytest.raises(QueryError, match=r"level: FATAL'; expected one of ERROR, WARN, INFO"):
        parse_check_file(bad)


def test_a_check_file_without_a_fix_line_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x-violation.rq"
    bad.write_text("# title: X\n# checks: nothing\nSELECT ?entity WHERE { ?entity ?p ?o }\n")
    with pytest.raises(QueryError, match=r"x-violation\.rq: the header lacks # fix:"):
        parse_check_file(bad)


def test_the_clean_miniature_passes_every_check() -> None:
    report = check_ontology(ONTO / "mini.ttl", reasoner=find_java() is not None)
    assert report.violations == ()
    assert report.counts.own_classes == 5
    assert report.counts.object_properties == 1
    assert report.parsers == ("pyoxigraph", "rdflib", "owlready2")


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_each_broken_fixture_fails_exactly_its_own_check(path: Path) -> None:
    check = path.stem.split("--")[0]
    if check == "reasoner" and find_java() is None:
        pytest.skip("HermiT needs a Java runtime (apt-get install default-jre-headless)")
    report = check_ontology(path, reasoner=check == "reasoner")
    assert {v.check for v in report.violations} == {check, *_also(path)}
    own = {c.name: c.level for c in list_checks()}.get(check, "ERROR")
    assert report.passed == (own != "ERROR")
    expected = _expected(path)
    assert expected in {v.curie for v in report.violations} | {v.entity for v in report.violations}
    for v in report.violations:
        assert v.fix and v.detail
        assert v.curie in str(v) and f"[{v.check}]" in str(v)


def test_violations_name_the_label_and_the_fix() -> None:
    report = check_ontology(ONTO / "broken" / "missing-definition.ttl", reasoner=False)
    (v,) = report.violations
    assert v.label == "teleological mode"
    assert v.curie == "mbt:TeleologicalMode"
    assert v.detail == "no definition (obo:IAO_0000115)"
    assert "obo:IAO_0000115" in v.fix
    assert v.level == "ERROR"


# ---- the command line ----------------------------------------------------------------------


def _bundled_counts() -> tuple[int, int]:
    graph = rdflib.Graph()
    for path in [*ontology_files(), *import_files()]:  # check merges the imports
        graph.parse(path, format="turtle")
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, rdflib.URIRef)}
    return len(classes), len(graph)


def test_check_passes_on_the_bundled_ontology_and_prints_its_counts() -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    classes, triples = _bundled_counts()
    assert f"classes: {classes} (" in result.output
    assert f": {triples} triples" in result.output
    assert "checks run: " in result.output
    assert "findings: 0 ERROR" in result.output
    assert "OWL 2 DL profile: 0 violation(s) (4 profile checks)" in result.output
    assert "PASSED" in result.output


def test_check_json_and_tsv_list_every_finding_with_its_level() -> None:
    broken = str(ONTO / "broken" / "multiple-superclasses.ttl")
    as_json = CliRunner().invoke(
        main, ["check", "--ontology", broken, "--no-reasoner", "--format", "json"]
    )
    assert as_json.exit_code == 0, as_json.output  # a WARN finding does not fail the check
    doc = json.loads(as_json.stdout)
    assert doc["counts"] == {"ERROR": 0, "WARN": 1, "INFO": 0}
    assert doc["dl_profile_violations"] == 0
    (finding,) = doc["findings"]
    assert finding["level"] == "WARN" and finding["check"] == "multiple-superclasses"
    assert finding["entity"] == str(MBT.TeleologicalMode)
    broken = str(ONTO / "broken" / "missing-label.ttl")
    as_tsv = CliRunner().invoke(
        main, ["check", "--ontology", broken, "--no-reasoner", "--format", "tsv"]
    )
    assert as_tsv.exit_code == 1
    header, *rows = as_tsv.stdout.splitlines()
    assert header == "level\tcheck\tentity\tlabel\tdetail\tfix"
    assert [r.split("\t")[:2] for r in rows] == [["ERROR", "missing-label"]]


def test_check_without_java_says_so_and_still_passes(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["check", "--ontology", str(ONTO / "mini.ttl")], env={"PATH": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert NO_JAVA in result.stderr
    assert "checks run: 34 (34 SPARQL checks)" in result.stdout


def test_check_without_java_still_fails_on_other_checks(tmp_path: Path) -> None:
    broken = ONTO / "broken" / "missing-label.ttl"
    result = CliRunner().invoke(
        main, ["check", "--ontology", str(broken)], env={"PATH": str(tmp_path)}
    )
    assert result.exit_code == 1
    assert NO_JAVA in result.stderr


def test_check_on_a_file_that_does_not_parse_exits_2_naming_file_and_line() -> None:
    result = CliRunner().invoke(main, ["check", "--ontology", str(ONTO / "unparseable.ttl")])
    assert result.exit_code == 2
    assert "unparseable.ttl:8:" in result.stderr
    assert "does not parse" in result.stderr


def test_check_on_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--ontology", str(tmp_path / "nope.ttl")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


# ---- acceptance: a temporary copy of the bundled ontology, broken three ways ----------------


def _copy_ontology(tmp_path: Path) -> Path:
    target = tmp_path / "ontology"
    shutil.copytree(resource_dir("ontology"), target)
    return target


def _edit(folder: Path, subject: rdflib.URIRef, edit: object) -> None:
    """Apply ``edit(graph)`` to the Turtle file of the folder that describes ``subject``."""
    for path in sorted(folder.glob("*.ttl")):
        graph = rdflib.Graph().parse(path, format="turtle")
        if (subject, RDF.type, OWL.Class) in graph:
            edit(graph)  # type: ignore[operator]
            graph.serialize(path, format="turtle")
            return
    raise AssertionError(f"no file declares {subject}")


def test_acceptance_a_removed_definition_fails_naming_the_class(tmp_path: Path) -> None:
    folder = _copy_ontology(tmp_path)
    _edit(
        folder, MBT.EpistemicTrust, lambda g: g.remove((MBT.EpistemicTrust, IAO_DEFINITION, None))
    )
    result = CliRunner().invoke(main, ["check", "--ontology", str(folder), "--no-reasoner"])
    assert result.exit_code == 1, result.output
    assert (
        "[missing-definition] 'epistemic trust' (mbt:EpistemicTrust): no definition "
        "(obo:IAO_0000115)" in result.output
    )


def test_acceptance_a_duplicate_label_fails_naming_the_class(tmp_path: Path) -> None:
    folder = _copy_ontology(tmp_path)

    def relabel(g: rdflib.Graph) -> None:
        g.set((MBT.TeleologicalMode, RDFS.label, rdflib.Literal("psychic equivalence")))

    _edit(folder, MBT.TeleologicalMode, relabel)
    result = CliRunner().invoke(main, ["check", "--ontology", str(folder), "--no-reasoner"])
    assert result.exit_code == 1, result.output
    assert "[duplicate-label] 'psychic equivalence' (mbt:TeleologicalMode)" in result.output
    assert "[duplicate-label] 'psychic equivalence' (mbt:PsychicEquivalence)" in result.output


@needs_java
def test_acceptance_a_class_under_two_disjoint_parents_is_unsatisfiable(tmp_path: Path) -> None:
    folder = _copy_ontology(tmp_path)
    new = MBT.AcceptanceTestMode

    def add_class(g: rdflib.Graph) -> None:
        source = rdflib.URIRef("https://w3id.org/mbtkg/ontology/source/BatemanFonagy2016")
        g.add((new, RDF.type, OWL.Class))
        g.add((new, RDFS.subClassOf, MBT.PsychicEquivalence))
        g.add((new, RDFS.subClassOf, MBT.TeleologicalMode))
        g.add((new, RDFS.label, rdflib.Literal("acceptance test mode")))
        definition = rdflib.Literal("A mode under two disjoint modes.")
        g.add((new, IAO_DEFINITION, definition))
        axiom = rdflib.BNode()
        g.add((axiom, RDF.type, OWL.Axiom))
        g.add((axiom, OWL.annotatedSource, new))
        g.add((axiom, OWL.annotatedProperty, IAO_DEFINITION))
        g.add((axiom, OWL.annotatedTarget, definition))
        g.add((axiom, DCTERMS.source, source))
        g.add((new, SKOS.example, rdflib.Literal("None can exist.")))

    _edit(folder, MBT.PsychicEquivalence, add_class)
    result = CliRunner().invoke(main, ["check", "--ontology", str(folder)])
    assert result.exit_code == 1, result.output
    assert "[reasoner] 'acceptance test mode' (mbt:AcceptanceTestMode): HermiT finds" in (
        result.output
    )
    assert "FAILED: 1 ERROR finding(s) in 1 check(s): reasoner" in result.output


def test_rdflib_and_pyoxigraph_both_name_the_line_of_a_syntax_error(tmp_path: Path) -> None:
    from mbtkg.ontology.source import OntologyParseError, check_rdflib_parses, read_ontology

    with pytest.raises(OntologyParseError) as ox_err:
        read_ontology(ONTO / "unparseable.ttl")
    assert (ox_err.value.parser, ox_err.value.location.line) == ("pyoxigraph", 8)  # type: ignore[union-attr]
    with pytest.raises(OntologyParseError) as rdflib_err:
        check_rdflib_parses([ONTO / "unparseable.ttl"])
    assert (rdflib_err.value.parser, rdflib_err.value.location.line) == ("rdflib", 8)  # type: ignore[union-attr]
    xml = tmp_path / "broken.owl"
    xml.write_text(
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="http://e/a">\n  </rdf:Descr>\n</rdf:RDF>\n'
    )
    with pytest.raises(OntologyParseError, match=r"broken\.owl:4"):
        read_ontology(xml)
    with pytest.raises(OntologyParseError, match=r"broken\.owl:4"):
        check_rdflib_parses([xml])


def test_check_refuses_an_unknown_file_type(tmp_path: Path) -> None:
    odd = tmp_path / "ontology.txt"
    odd.write_text("not rdf")
    result = CliRunner().invoke(main, ["check", "--ontology", str(odd)])
    assert result.exit_code == 2
    assert "unknown ontology file type '.txt'" in result.stderr


@pytest.mark.parametrize(
    ("label", "check"),
    [
        ("epistemic trust", None),
        ("MBT-I", None),
        ("RFQ-8 uncertainty subscale", None),
        ("Bordin's working alliance", None),
        ("Epistemic trust", "label-case"),
        ("Teleological Mode", "label-case"),
        (" epistemic trust", "label-whitespace"),
        ("epistemic\ttrust", "label-whitespace"),
        ("epistemic trust ", "label-whitespace"),
    ],
)
def test_label_rules(label: str, check: str | None, tmp_path: Path) -> None:
    from mbtkg.ontology.qc import run_checks
    from mbtkg.ontology.source import read_ontology

    text = (ONTO / "mini.ttl").read_text(encoding="utf-8")
    escaped = label.replace("\t", "\\t")
    path = tmp_path / "o.ttl"
    path.write_text(text.replace('rdfs:label "epistemic trust"', f'rdfs:label "{escaped}"'))
    selected = [c for c in list_checks() if c.name in ("label-case", "label-whitespace")]
    found = {(v.check, v.curie) for v in run_checks(read_ontology(path), selected)}
    assert found == ({(check, "mbt:EpistemicTrust")} if check else set())


def test_an_imported_module_is_merged_and_its_own_header_is_not_ours(tmp_path: Path) -> None:
    # An ODK-style imports/ folder: its ontology header is not held to our header rules, and
    # our axioms may use its classes without an undeclared-entity finding.
    folder = tmp_path / "onto"
    (folder / "imports").mkdir(parents=True)
    text = (ONTO / "mini.ttl").read_text(encoding="utf-8")
    text = text.replace(
        "mbt:SessionPhenomenon a owl:Class ;",
        "mbt:SessionPhenomenon a owl:Class ;\n    rdfs:subClassOf <http://example.org/upper#Process> ;",
    )
    (folder / "mini.ttl").write_text(text, encoding="utf-8")
    (folder / "imports" / "upper.ttl").write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<http://example.org/upper> a owl:Ontology .\n"
        "<http://example.org/upper#Process> a owl:Class .\n",
        encoding="utf-8",
    )
    report = check_ontology(folder, reasoner=False)
    assert report.violations == ()
    (folder / "imports" / "upper.ttl").unlink()
    report = check_ontology(folder, reasoner=False)
    assert {(v.check, v.entity) for v in report.violations} == {
        ("dl-undeclared-entity", "http://example.org/upper#Process")
    }
