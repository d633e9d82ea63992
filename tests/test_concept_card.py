"""Concept cards: what the ontology says about a class, and where the example sessions use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.concepts import default_index
from mbtkg.errors import UnknownNameError
from mbtkg.ontology.concept_card import (
    closest_labels,
    concept_card,
    example_usage_store,
    format_card,
)
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session
from mbtkg.stores import Store

ONTO = Path(__file__).resolve().parent / "fixtures" / "ontology"
MINI = ONTO / "mini.ttl"


@pytest.fixture(scope="module")
def usage_store() -> Store:
    return example_usage_store()


def test_card_from_the_fixture_gathers_every_field() -> None:
    card = concept_card("psychic equivalence", ontology=MINI)
    assert card.term.curie == "mbt:PsychicEquivalence"
    assert card.term.label == "psychic equivalence"
    assert card.definitions == (
        "A prementalizing mode in which what is felt is taken to be what is real.",
    )
    assert [str(p) for p in card.parents] == ["prementalizing mode (mbt:PrementalizingMode)"]
    assert card.children == ()
    assert [d.curie for d in card.disjoint] == ["mbt:TeleologicalMode"]
    assert [c.text for c in card.sources] == [
        "Nobody, A. (2026). A fictional source for test fixtures."
    ]
    assert card.examples == ('"I feel stupid, so I am stupid."',)
    assert card.usages == ()
    assert not card.fuzzy and not card.deprecated


def test_card_lists_children_synonyms_and_names_by_any_form() -> None:
    parent = concept_card("mbt:PrementalizingMode", ontology=MINI)
    assert [c.label for c in parent.children] == ["psychic equivalence", "teleological mode"]
    trust = concept_card("Trust in communicated knowledge", ontology=MINI)  # a synonym
    assert trust.term.curie == "mbt:EpistemicTrust"
    assert trust.synonyms == ("trust in communicated knowledge",)


def test_card_shows_fuzzy_deprecated_and_restrictions(tmp_path: Path) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text(
        MINI.read_text(encoding="utf-8")
        + """
mbt:involves a owl:ObjectProperty ; rdfs:label "involves" .
mbt:Person a owl:Class ; rdfs:label "person" .
mbt:WeNess a owl:Class ;
    rdfs:subClassOf mbt:SessionPhenomenon ,
        [ a owl:Restriction ; owl:onProperty mbt:involves ;
          owl:minQualifiedCardinality "2"^^xsd:nonNegativeInteger ; owl:onClass mbt:Person ] ;
    rdfs:label "we-ness" ;
    mbt:fuzzy true ;
    mbt:fuzzyReason "No instrument operationalises it." ;
    owl:deprecated true ;
    obo:IAO_0100001 mbt:EpistemicTrust .
""",
        encoding="utf-8",
    )
    card = concept_card("we-ness", ontology=extra)
    assert card.fuzzy and card.fuzzy_reason == "No instrument operationalises it."
    assert card.deprecated and [r.curie for r in card.replaced_by] == ["mbt:EpistemicTrust"]
    assert card.other_axioms == ("subClassOf (mbt:involves min 2 mbt:Person)",)
    text = format_card(card)
    assert "fuzzy boundary: No instrument operationalises it." in text
    assert "DEPRECATED: use epistemic trust (mbt:EpistemicTrust) instead" in text
    assert "  - subClassOf (mbt:involves min 2 mbt:Person)" in text


def test_card_cites_the_works_on_the_definition_with_their_pages() -> None:
    card = concept_card("mbt:WorkingAllianceInventory")
    cited = {c.iri.rsplit("/", 1)[1]: c.text for c in card.sources}
    assert sorted(cited) == ["Bordin1979", "HorvathGreenberg1989"]
    assert cited["HorvathGreenberg1989"].endswith("36(2), 223-233. [pp. 223-233]")
    assert concept_card("mbt:Turn").sources == ()  # a structural term cites nothing


def _expected_usages(
    concept_iri: str,
) -> set[tuple[str, str, int | None, int | None, str | None]]:
    """Where the example sessions code the concept or a subclass, read from the YAML models."""
    index = default_index()
    found = set()
    for path in example_sessions():
        session = read_session(path, index=index)
        for a in session.annotations:
            if a.concept_iri and (
                a.concept_iri == concept_iri or concept_iri in index.ancestors(a.concept_iri)
            ):
                found.add((session.id, a.id, a.start, a.end, a.annotator))
    return found


@pytest.mark.parametrize("name", ["teleological mode", "rupture", "we-ness"])
def test_usages_match_the_annotations_of_the_example_sessions(
    name: str, usage_store: Store
) -> None:
    card = concept_card(name, usage_store=usage_store)
    expected = _expected_usages(card.term.iri)
    assert expected, f"the example sessions should code {name!r}"
    got = {(u.session, u.start_turn, u.end_turn, u.annotator) for u in card.usages}
    assert got == {(s, start, end, who) for s, _, start, end, who in expected}
    assert len(card.usages) == len(expected)  # one entry per annotation


def test_usages_of_a_subclass_name_the_subclass(usage_store: Store) -> None:
    card = concept_card("rupture", usage_store=usage_store)
    below = {u.concept.curie for u in card.usages}
    assert below <= {"mbt:Rupture", "mbt:WithdrawalRupture", "mbt:ConfrontationRupture"}
    assert "mbt:WithdrawalRupture" in below
    text = format_card(card)
    assert "(as withdrawal rupture)" in text


def test_the_bundled_card_of_teleological_mode() -> None:
    card = concept_card("Teleological Mode")
    assert card.term.iri == vocab.MBT + "TeleologicalMode"
    assert "mbt:PrementalizingMode" in {p.curie for p in card.parents}
    assert {"mbt:PsychicEquivalence", "mbt:PretendMode"} <= {d.curie for d in card.disjoint}
    assert card.definitions and card.examples and card.sources
    assert all(c.text and not c.text.startswith("http") for c in card.sources)


def test_an_unknown_name_suggests_the_closest_labels() -> None:
    with pytest.raises(UnknownNameError) as err:
        concept_card("epistemic trsut")
    assert "epistemic trust" in err.value.suggestions
    with pytest.raises(UnknownNameError) as err:
        concept_card("trust", ontology=MINI)  # too short for a fuzzy match: word match instead
    assert err.value.suggestions == ("epistemic trust",)
    assert closest_labels("qqqq", ["epistemic trust"]) == []


def test_cli_prints_the_card_with_usages() -> None:
    result = CliRunner().invoke(main, ["concept", "teleological mode"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("teleological mode  (mbt:TeleologicalMode)\n")
    assert "parents:\n  - prementalizing mode (mbt:PrementalizingMode)" in result.output
    assert "used in the example sessions (" in result.output


def test_cli_json_output() -> None:
    result = CliRunner().invoke(
        main, ["concept", "psychic equivalence", "--ontology", str(MINI), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["term"] == {"iri": vocab.MBT + "PsychicEquivalence", "label": "psychic equivalence"}
    assert data["disjoint"][0]["label"] == "teleological mode"


def test_cli_unknown_name_exits_2_with_suggestions() -> None:
    result = CliRunner().invoke(main, ["concept", "epistemic trsut"])
    assert result.exit_code == 2
    assert "unknown concept 'epistemic trsut'; did you mean 'epistemic trust'" in result.stderr
