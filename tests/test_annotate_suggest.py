"""The lexical suggester and the leave-one-session-out measurement of docs/suggestions.md."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from example_session_facts import all_coded_turns

from mbtkg.annotate.catalog import Concept, codable_concepts
from mbtkg.annotate.evaluation import KS, chance, gold_codes, score, session_examples
from mbtkg.annotate.suggest import LexicalRanker, turn_query, words
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session

DOC = Path(__file__).resolve().parent.parent / "docs" / "suggestions.md"


@pytest.fixture(scope="module")
def sessions() -> list:
    return [read_session(p) for p in example_sessions()]


def test_words_drop_function_words_and_fold_endings() -> None:
    assert words("The patient was feeling it, and she felt SCARED") == [
        "patient",
        "feel",
        "felt",
        "scar",
    ]


def test_the_catalog_holds_the_codable_concepts_only() -> None:
    labels = {c.label for c in codable_concepts()}
    assert {"mentalizing", "repair", "withdrawal rupture", "not-knowing stance"} <= labels
    assert "annotator" not in labels and "turn" not in labels and "session" not in labels
    assert all(c.definitions for c in codable_concepts())


@pytest.mark.parametrize(
    "label", ["stop-rewind-explore", "withdrawal rupture", "psychic equivalence"]
)
def test_a_concepts_own_definition_ranks_it_first(label: str) -> None:
    concept = next(c for c in codable_concepts() if c.label == label)
    ranker = LexicalRanker(codable_concepts())
    top = ranker.rank([(concept.definitions[0], 1.0)], n=3)
    assert top[0].concept.label == label
    assert top[0].score > top[1].score


def test_session_examples_move_a_concept_up() -> None:
    concepts = codable_concepts()
    target = next(c for c in concepts if c.label == "we-ness")
    query = [("zebra crossing umbrella", 1.0)]
    assert LexicalRanker(concepts).rank(query, n=1)[0].score == 0
    boosted = LexicalRanker(concepts, {target.iri: ["a zebra crossing with an umbrella"]})
    assert boosted.rank(query, n=1)[0].concept is target


def test_the_query_weights_the_turn_over_its_neighbours() -> None:
    assert turn_query(["a", "b", "c", "d"], 0) == [("a", 1.0), ("b", 0.5)]
    assert turn_query(["a", "b", "c", "d"], 2) == [("c", 1.0), ("b", 0.5), ("d", 0.5)]


def test_a_scored_session_never_lends_its_own_codes(sessions: list) -> None:
    """The ranker built to score a session has examples from the other sessions only."""
    seen: list[set[str]] = []

    def spy(concepts: Sequence[Concept], extra: dict[str, list[str]]) -> LexicalRanker:
        seen.append({t for texts in extra.values() for t in texts})
        return LexicalRanker(concepts, extra)

    score("spy", spy, sessions, with_session_examples=True)
    assert len(seen) == len(sessions)
    for texts, held_out in zip(seen, sessions, strict=True):
        own = {t for ts in session_examples([held_out]).values() for t in ts}
        rest = [s for s in sessions if s is not held_out]
        assert texts == {t for ts in session_examples(rest).values() for t in ts}
        assert own and not own & texts


def test_gold_codes_cover_every_turn_of_a_span(sessions: list) -> None:
    susan = next(s for s in sessions if s.id == "susan-12")
    gold = gold_codes(susan)
    repair = next(c.iri for c in codable_concepts() if c.label == "repair")
    assert all(repair in gold[t] for t in range(21, 28))  # a15 spans 21-27
    assert 28 not in gold or repair not in gold[28]


def documented(ranker: str, examples: str) -> tuple[int, list[float]]:
    """The coded turns and top-1/3/5 figures docs/suggestions.md gives for a ranker."""
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith(ranker) and cells[1] == examples:
            return int(cells[2]), [float(x) for x in cells[3:6]]
    raise AssertionError(f"docs/suggestions.md has no row for {ranker} / {examples}")


@pytest.mark.parametrize("examples", [False, True])
def test_the_documented_baseline_figures_are_the_measured_ones(
    sessions: list, examples: bool
) -> None:
    result = score(
        "lexical", lambda c, e: LexicalRanker(c, e), sessions, with_session_examples=examples
    )
    turns, figures = documented("mbtkg-lexical", result.examples)
    assert turns == result.turns == all_coded_turns()
    assert figures == [round(result.rate(k), 3) for k in KS]
    assert result.rate(5) > chance(sessions)[5]


def test_the_documented_chance_figures_are_right(sessions: list) -> None:
    row = next(line for line in DOC.read_text().splitlines() if line.startswith("| random"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert [float(x) for x in cells[3:6]] == [round(chance(sessions)[k], 3) for k in KS]
    assert re.search(r"model (beats|does not beat) the baseline", DOC.read_text())


def test_the_documented_sample_is_the_bundled_one() -> None:
    """The prose of docs/suggestions.md names the coded turns and the codable concepts."""
    text = " ".join(DOC.read_text().split())
    assert f"{all_coded_turns()} turns that at least one coder coded" in text
    assert f"{len(codable_concepts())} concepts can be suggested" in text
    assert set(re.findall(r"(\d+) turns", text)) == {str(all_coded_turns())}


def test_the_documented_verdict_follows_the_baseline_rows(sessions: list) -> None:
    """The plain statement agrees with the model rows against the measured baseline rows."""
    text = DOC.read_text()
    verdict = re.search(r"model (beats|does not beat) the baseline", text)
    assert verdict
    wins = []
    for examples in (False, True):
        result = score(
            "lexical", lambda c, e: LexicalRanker(c, e), sessions, with_session_examples=examples
        )
        _, model = documented("mbtkg-minilm", result.examples)
        wins.append(model[2] > round(result.rate(5), 3))
    assert (verdict.group(1) == "beats") == all(wins)


def test_the_picker_groups_concepts_by_their_ontology_branch() -> None:
    from mbtkg.annotate.catalog import codable_concepts

    group = {c.label: c.group for c in codable_concepts()}
    assert group["psychic equivalence"] == "non-mentalizing"
    assert group["hypermentalizing"] == "non-mentalizing"
    assert group["empathic validation"] == "intervention"
    assert group["withdrawal rupture"] == "relational phenomenon"
    assert group["epistemic trust"] == "epistemic stance"
    assert group["reported self-harm"] == "report of an event in talk"
    # Every concept sits in a branch of the ontology; none is left in a catch-all group.
    assert "other" not in group.values()
    # Groups come in order, so the picker shows each group's heading once.
    order = [c.group for c in codable_concepts()]
    assert order == sorted(order)
