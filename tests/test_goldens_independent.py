"""The query goldens, checked by something other than the engine that wrote them.

``tests/golden/queries/*.json`` were written by running each query on Oxigraph. Here they are
checked again by rdflib's SPARQL engine on the same quads (another engine: a different parser,
algebra and evaluator), and, where rdflib cannot serve as a reference, by the query's meaning
computed in Python straight from the example session files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rdflib_reference import RdflibReference

from mbtkg import vocab
from mbtkg.concepts import default_index
from mbtkg.generate import generate_corpus
from mbtkg.loading import load, prepare
from mbtkg.queries import get_query, run_query
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session
from mbtkg.stores import open_store

GOLDEN = Path(__file__).resolve().parent / "golden" / "queries"
# rdflib's SPARQL engine still calls its own deprecated Dataset methods
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
_CONCAT = re.compile(r"SEPARATOR\s*=\s*\"([^\"]*)\"\s*\)\s*AS\s+\?(\w+)", re.IGNORECASE)

#: Goldens rdflib cannot check, and why; each is checked another way or named as unchecked.
NOT_BY_RDFLIB = {
    # rdflib drops the outer ?mode_turn inside FILTER (?pmStart > ?mode_turn) of an OPTIONAL
    # group (a LeftJoin condition in SPARQL's algebra) and then misses the intervention join:
    # it answers 9 rows without interventions. Checked in Python below.
    "prementalizing-to-mentalizing": "rdflib evaluates a FILTER inside OPTIONAL wrongly",
    # rdflib takes minutes (nested subqueries over every pair of codes). Checked in Python below.
    "annotator-disagreements": "rdflib takes minutes on it",
    # rdflib ran for more than 20 minutes on it (three graph patterns over inferred graphs).
    # Checked in Python below.
    "mentalizing-after-intervention": "rdflib takes more than 20 minutes on it",
}
RDFLIB_GOLDENS = sorted(p.stem for p in GOLDEN.glob("*.json") if p.stem not in NOT_BY_RDFLIB)


@pytest.fixture(scope="module")
def rdflib_reference() -> RdflibReference:
    return RdflibReference(prepare(example_sessions()).graphs)


def _golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _comparable(rows: list[dict[str, Any]], sparql: str) -> list[list[Any]]:
    """Rows in order; GROUP_CONCAT parts (whose order SPARQL leaves open) as sorted lists."""
    separators = {col: sep for sep, col in _CONCAT.findall(sparql)}
    out = []
    for row in rows:
        cells: list[Any] = []
        for column, value in row.items():
            if column in separators and isinstance(value, str):
                value = sorted(value.split(separators[column]))
            cells.append((column, type(value).__name__, value))
        out.append(cells)
    return out


@pytest.mark.parametrize("name", RDFLIB_GOLDENS)
def test_rdflib_gives_the_golden_answer(name: str, rdflib_reference: RdflibReference) -> None:
    golden = _golden(name)
    query = get_query(name)
    rows = rdflib_reference.select(query.bind(golden["params"])).values()
    assert golden["rows"], f"{name}: an empty golden checks nothing"
    ours, theirs = _comparable(rows, query.sparql), _comparable(golden["rows"], query.sparql)
    # ties under ORDER BY may come in any order: compare the order of the sort keys and the set
    assert sorted(ours, key=repr) == sorted(theirs, key=repr)
    assert len(ours) == len(theirs)


@dataclass(frozen=True)
class Code:
    """One annotation of an example session, as the query sees it."""

    coder: str
    concept: str
    start: int
    end: int
    start_speaker: str | None
    end_speaker: str | None


def _codes(path: Path) -> tuple[str, list[Code]]:
    session = read_session(path)
    speaker = {t.id: t.speaker for t in session.turns}
    codes = [
        Code(a.annotator, a.concept_iri, a.start, a.end, speaker[a.start], speaker[a.end])
        for a in session.annotations
        if a.annotator and a.concept_iri and a.start is not None and a.end is not None
    ]
    return session.id, codes


def test_prementalizing_to_mentalizing_from_the_session_files() -> None:
    """The query's meaning (see its comments), computed from the session model directly."""
    golden = _golden("prementalizing-to-mentalizing")
    k = int(golden["params"]["k"])
    index = default_index()

    def is_a(code: Code, family: str) -> bool:
        iri = vocab.MBT + family
        return code.concept == iri or iri in index.ancestors(code.concept)

    expected: list[dict[str, Any]] = []
    for path in example_sessions():
        session_id, codes = _codes(path)
        modes = {
            (c.coder, c.end_speaker, c.concept, c.end)
            for c in codes
            if is_a(c, "PrementalizingMode")
        }
        for coder, person, mode, mode_turn in modes:
            mine = [c for c in codes if c.coder == coder and c.start_speaker == person]
            shifts = [
                c.start for c in mine if is_a(c, "EffectiveMentalizing") and c.start > mode_turn
            ]
            next_modes = [
                c.start for c in mine if is_a(c, "PrementalizingMode") and c.start > mode_turn
            ]
            if not shifts:
                continue
            shift = min(shifts)
            if (next_modes and shift > min(next_modes)) or shift - mode_turn > k:
                continue
            before = [
                c
                for c in codes
                if c.coder == coder and is_a(c, "Intervention") and mode_turn <= c.end < shift
            ]
            last = max((c.end for c in before), default=None)
            just_before: set[tuple[str | None, int | None]] = {
                (index.label(c.concept), c.start) for c in before if c.end == last
            }
            for label, turn in just_before or {(None, None)}:
                expected.append(
                    {
                        "session_id": session_id,
                        "speaker": person,
                        "mode": index.label(mode),
                        "mode_turn": mode_turn,
                        "mentalizing_turn": shift,
                        "intervention": label,
                        "intervention_turn": turn,
                        "annotator": coder,
                    }
                )
    assert sorted(map(repr, expected)) == sorted(map(repr, golden["rows"]))
    assert len(expected) == 8 and all(r["intervention"] for r in expected)


def test_mentalizing_after_intervention_from_the_session_files() -> None:
    """The defined class's meaning (docs/reasoning.md), computed from the session model: an
    effective-mentalizing code that starts shortly after an intervention that itself starts
    shortly after a prementalizing mode, all by one coder; "shortly after" is a later start at
    most three turns after the earlier code ends (queries/rules/turn-order)."""
    golden = _golden("mentalizing-after-intervention")
    wanted = golden["params"]["session"]
    index = default_index()

    def is_a(code: Code, family: str) -> bool:
        iri = vocab.MBT + family
        return code.concept == iri or iri in index.ancestors(code.concept)

    def shortly_after(later: Code, earlier: Code) -> bool:
        assert later.start is not None and earlier.start is not None and earlier.end is not None
        return earlier.start < later.start <= earlier.end + 3

    expected: list[dict[str, Any]] = []
    for path in example_sessions():
        session_id, codes = _codes(path)
        if session_id != wanted:
            continue
        for m in (c for c in codes if is_a(c, "EffectiveMentalizing")):
            mine = [c for c in codes if c.coder == m.coder]
            for i in (c for c in mine if is_a(c, "Intervention") and shortly_after(m, c)):
                for p in (c for c in mine if is_a(c, "PrementalizingMode") and shortly_after(i, c)):
                    expected.append(
                        {
                            "session_id": session_id,
                            "mode": index.label(p.concept),
                            "mode_turn": p.start,
                            "intervention": index.label(i.concept),
                            "intervention_turn": i.start,
                            "mentalizing_turn": m.start,
                            "annotator": m.coder,
                        }
                    )
    assert sorted(map(repr, expected)) == sorted(map(repr, golden["rows"]))
    assert expected


def _disagreements(paths: list[Path]) -> list[tuple[Any, ...]]:
    """annotator-disagreements' meaning (see its comments), computed from session files: one row
    (session, turn, family, annotator 1, code 1, annotator 2, code 2) per code that only one of
    two annotators used on a turn while the other used a different code of the same family,
    each such row once."""
    index = default_index()
    roots = {
        "mentalizing": (vocab.MBT + "Mentalizing", vocab.MBT + "PrementalizingMode"),
        "intervention": (vocab.MBT + "Intervention",),
        "rupture": (vocab.MBT + "Rupture",),
    }

    def families(code: Code) -> set[str]:
        lineage = {code.concept} | index.ancestors(code.concept)
        return {f for f, rs in roots.items() if lineage & set(rs)}

    expected: list[tuple[Any, ...]] = []
    listed: set[tuple[Any, ...]] = set()  # a code given twice on a turn is one disagreement
    for path in paths:
        session_id, codes = _codes(path)
        coders = sorted({c.coder for c in codes})
        turns = sorted({t for c in codes for t in range(c.start, c.end + 1)})
        for family in roots:
            mine = [c for c in codes if family in families(c)]
            for a in coders:
                for b in (b for b in coders if a < b):
                    for turn in turns:
                        on_a = [c for c in mine if c.coder == a and c.start <= turn <= c.end]
                        on_b = [c for c in mine if c.coder == b and c.start <= turn <= c.end]
                        only_a = [c for c in on_a if c.concept not in {x.concept for x in on_b}]
                        only_b = [c for c in on_b if c.concept not in {x.concept for x in on_a}]
                        for x in only_a:
                            for y in only_b:
                                row = (session_id, turn, family, a, index.label(x.concept), b)
                                full = (*row, index.label(y.concept))
                                if full not in listed:
                                    listed.add(full)
                                    expected.append(full)
    return expected


def _two_annotator_session(session_id: str, turns: list[str], annotations: list[str]) -> str:
    """A fictional session file (written for these tests) with annotators A-1 and A-2."""
    return "\n".join(
        [
            "# Fictional session written for mbtkg's tests. Not real patient material.",
            f"session: {{id: {session_id}, date: 2025-03-03, number: 1, setting: individual}}",
            "participants:",
            "  - {id: P-1, role: patient}",
            "  - {id: T-1, role: therapist}",
            "annotators:",
            "  - {id: A-1}",
            "  - {id: A-2}",
            "turns:",
            *(f"  - {turn}" for turn in turns),
            "annotations:",
            *(f"  - {a}" for a in annotations),
            "",
        ]
    )


def _assert_disagreements(tmp_path: Path, session_id: str, text: str, rows: list[Any]) -> None:
    """The query, over all sessions and for this one, and the meaning computed from the file
    both give exactly ``rows``."""
    path = tmp_path / f"{session_id}.yaml"
    path.write_text(text, encoding="utf-8")
    store = open_store("oxigraph:memory")
    load([path], store)
    assert _disagreements([path]) == rows
    for params in ({}, {"session": session_id}):
        answer = run_query(store, "annotator-disagreements", params).values()
        assert [tuple(r.values()) for r in answer] == rows


def test_a_code_given_twice_on_a_turn_is_one_disagreement(tmp_path: Path) -> None:
    """One annotator codes a mode twice on turn 2 (two annotations), the other a different
    mode: that is one disagreement on the turn, listed once, not once per annotation."""
    text = _two_annotator_session(
        "twice-01",
        [
            '{id: 1, speaker: T-1, text: "How was the week?"}',
            '{id: 2, speaker: P-1, text: "Bad. Everyone was against me, I just know it."}',
            '{id: 3, speaker: T-1, text: "Everyone?"}',
        ],
        [
            "{id: a1, concept: psychic equivalence, turns: 2, annotator: A-1}",
            "{id: a2, concept: psychic equivalence, turns: [2, 3], annotator: A-1}",
            "{id: a3, concept: teleological mode, turns: 2, annotator: A-2}",
        ],
    )
    row = ("twice-01", 2, "mentalizing", "A-1", "psychic equivalence", "A-2", "teleological mode")
    _assert_disagreements(tmp_path, "twice-01", text, [row])


def test_a_code_both_annotators_gave_is_no_disagreement(tmp_path: Path) -> None:
    """On turn 2 the second annotator gives the first one's code and one more, on turn 3 the
    first does: neither turn holds a code that only one used while the other used a different
    one, so only turn 4 disagrees. A form that forgot either "the other did not use it" check
    listed (psychic equivalence, teleological mode) on turn 2 or (teleological mode, pretend
    mode) on turn 3; the generated corpus only showed the second."""
    text = _two_annotator_session(
        "shared-01",
        [
            '{id: 1, speaker: T-1, text: "Where would you like to start today?"}',
            '{id: 2, speaker: P-1, text: "He ignored my message, so he has stopped caring."}',
            '{id: 3, speaker: P-1, text: "I told everyone it was fine and laughed about it."}',
            '{id: 4, speaker: P-1, text: "If he had cared he would have come round at once."}',
        ],
        [
            "{id: a1, concept: psychic equivalence, turns: 2, annotator: A-1}",
            "{id: a2, concept: psychic equivalence, turns: 2, annotator: A-2}",
            "{id: a3, concept: teleological mode, turns: 2, annotator: A-2}",
            "{id: a4, concept: pretend mode, turns: 3, annotator: A-1}",
            "{id: a5, concept: teleological mode, turns: 3, annotator: A-1}",
            "{id: a6, concept: pretend mode, turns: 3, annotator: A-2}",
            "{id: a7, concept: teleological mode, turns: 4, annotator: A-1}",
            "{id: a8, concept: psychic equivalence, turns: 4, annotator: A-2}",
        ],
    )
    row = ("shared-01", 4, "mentalizing", "A-1", "teleological mode", "A-2", "psychic equivalence")
    _assert_disagreements(tmp_path, "shared-01", text, [row])


def test_annotator_disagreements_from_the_session_files() -> None:
    """The golden against the query's meaning, computed from the session model directly."""
    golden = _golden("annotator-disagreements")
    assert golden["params"] == {}
    expected = _disagreements(list(example_sessions()))
    columns = golden["columns"]
    assert sorted(expected) == sorted(tuple(r[c] for c in columns) for r in golden["rows"])
    assert len(expected) == 8


def test_annotator_disagreements_on_generated_sessions(tmp_path: Path) -> None:
    """On generated sessions (a second coder on about a quarter of them, overlapping the first
    on a third of the turns), the query answers exactly what the session files mean. The
    examples alone never have two annotators agree on one code of a turn and differ on another,
    so a code the other annotator also used, wrongly counted as a disagreement, shows only here.
    """
    corpus = generate_corpus(tmp_path / "gen", sessions=24, seed=3, turns=80)
    store = open_store("oxigraph:memory")
    load(corpus.files, store)
    expected = _disagreements(list(corpus.files))
    answer = run_query(store, "annotator-disagreements").values()
    got = [tuple(row.values()) for row in answer]
    assert len(expected) >= 10, "the corpus should hold disagreements to compare"
    assert sorted(got) == sorted(expected)
    one = expected[0][0]
    by_one = run_query(store, "annotator-disagreements", {"session": one}).values()
    assert sorted(tuple(r.values()) for r in by_one) == sorted(e for e in expected if e[0] == one)
