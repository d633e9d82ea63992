"""``mbtkg concept --list [--family NAME]``: the codable concepts, checked against the ontology
files read independently (rdflib and the Turtle source, not mbtkg's concept index)."""

from __future__ import annotations

import json

import pytest
import rdflib
from click.testing import CliRunner
from rdflib.namespace import OWL, RDFS

from mbtkg.cli import main
from mbtkg.resources import resource_dir

MBT = rdflib.Namespace("https://w3id.org/mbtkg/ontology#")


def _codable_ids() -> set[str]:
    """Every non-deprecated named class strictly below mbt:SessionPhenomenon that reasoning does
    not assign (mbt:inferred_subset: those are derived from other codes, never coded)."""
    graph = rdflib.Graph()
    for path in sorted(resource_dir("ontology").glob("*.ttl")):
        graph.parse(path, format="turtle")
    below = {
        c
        for c in graph.transitive_subjects(RDFS.subClassOf, MBT.SessionPhenomenon)
        if isinstance(c, rdflib.URIRef) and c != MBT.SessionPhenomenon
    }
    deprecated = {s for s in graph.subjects(OWL.deprecated, rdflib.Literal(True))}
    in_subset = rdflib.URIRef("http://www.geneontology.org/formats/oboInOwl#inSubset")
    inferred = set(graph.subjects(in_subset, MBT.inferred_subset))
    assert MBT.RepairedRupture in inferred and MBT.UnrepairedRupture in inferred
    return {
        str(c)[len(str(MBT)) :]
        for c in below - deprecated - inferred
        if str(c).startswith(str(MBT))
    }


@pytest.fixture(scope="module")
def listed() -> list[dict[str, str]]:
    result = CliRunner().invoke(main, ["concept", "--list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, str]] = json.loads(result.stdout)
    return rows


def test_the_list_is_every_codable_concept(listed: list[dict[str, str]]) -> None:
    assert {r["id"] for r in listed} == _codable_ids()
    assert len(listed) == len({r["id"] for r in listed})


def test_each_row_has_its_label_and_family(listed: list[dict[str, str]]) -> None:
    by_id = {r["id"]: r for r in listed}
    assert by_id["PsychicEquivalence"] == {
        "label": "psychic equivalence",
        "id": "PsychicEquivalence",
        "family": "prementalizing",
    }
    assert by_id["EpistemicTrust"]["family"] == "trust"
    assert by_id["EffectiveMentalizing"]["family"] == "mentalizing"


def test_one_family_and_the_table(listed: list[dict[str, str]]) -> None:
    result = CliRunner().invoke(main, ["concept", "--list", "--family", "trust"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["label", "id", "family"]
    body = [line.split()[-2] for line in lines[2:-1]]
    assert body == [r["id"] for r in listed if r["family"] == "trust"]
    assert body and "EpistemicTrust" in body
    assert lines[-1] == f"({len(body)} rows)"


def test_an_unknown_family_names_the_closest(listed: list[dict[str, str]]) -> None:
    result = CliRunner().invoke(main, ["concept", "--list", "--family", "premntalizing"])
    assert result.exit_code == 2
    assert "unknown concept family 'premntalizing'; did you mean 'prementalizing'?" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["concept", "--family", "trust"], "--family goes with --list"),
        (["concept"], "give a concept NAME, or --list"),
        (["concept", "rupture", "--list"], "not both"),
    ],
)
def test_usage_errors(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert fragment in result.output
