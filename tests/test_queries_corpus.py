"""The competency queries beyond the first five: goldens on the whole example corpus, scoping,
bad input, pandas DataFrames, and docs/queries.md kept in step with the query files.

Each golden ``tests/golden/queries/<name>.json`` holds the query's ``# example:`` parameters and
its answer on all bundled example sessions. They were checked by hand against the YAML files
and, for several, against the independent computations below; regenerate with
``MBTKG_UPDATE_GOLDEN=1 pytest tests/test_competency_queries.py`` only when a change is intended,
and read the diff.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.concepts import default_index
from mbtkg.errors import MbtkgError, QueryError, UnknownNameError
from mbtkg.generate import generate_corpus
from mbtkg.loading import load
from mbtkg.queries import get_query, list_queries, run_query
from mbtkg.query_docs import REGENERATE, markdown_table, render_query_docs
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session
from mbtkg.sessions.model import Annotation, Session
from mbtkg.stores import Store
from mbtkg.stores.base import Rows, Term

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "queries"
DOCS = ROOT / "docs" / "queries.md"
NEW_QUERIES = (
    "above-capacity",
    "after-intervention",
    "annotator-disagreements",
    "concept-annotations",
    "prementalizing-share",
    "prementalizing-to-mentalizing",
    "repair-interventions",
    "session-overview",
    "trust-after-validation",
    "unrepaired-ruptures",
    "unused-concepts",
    "we-ness-sessions",
)
INDEX = default_index()


def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return data


def is_a(annotation: Annotation, local: str) -> bool:
    concept = annotation.concept_iri
    target = vocab.MBT + local
    return concept is not None and (concept == target or target in INDEX.ancestors(concept))


@pytest.fixture(scope="module")
def sessions() -> dict[str, Session]:
    return {s.id: s for s in (read_session(p) for p in example_sessions())}


def test_fifteen_or_more_queries_are_bundled() -> None:
    names = {q.name for q in list_queries()}
    assert names >= set(NEW_QUERIES)
    assert len(names) >= 15


@pytest.mark.parametrize("name", NEW_QUERIES)
def test_query_matches_its_golden_on_the_whole_corpus(name: str, example_store: Store) -> None:
    expected = golden(name)
    assert expected["params"] == get_query(name).example
    rows = run_query(example_store, name, expected["params"])
    assert list(rows.columns) == expected["columns"]
    assert rows.values() == expected["rows"]
    assert expected["rows"], f"{name}: an empty golden proves nothing"


@pytest.mark.parametrize("name", NEW_QUERIES)
def test_query_columns_are_readable_not_iris(name: str) -> None:
    for row in golden(name)["rows"]:
        for value in row.values():
            assert not (isinstance(value, str) and value.startswith("http")), (name, value)


def test_every_question_is_listed_by_the_cli() -> None:
    result = CliRunner().invoke(main, ["query", "--list"])
    assert result.exit_code == 0, result.output
    for q in list_queries():
        assert q.name in result.output
        assert q.question in result.output


# ------------------------------------------------- answers checked against the session files


def _share_from_the_file(
    s: Session, patient: str, annotator: str | None
) -> tuple[str, int, int, int, float] | None:
    """(session, coders, patient turns in the coded stretch, covered, share), counted by hand."""
    coded = [
        a
        for a in s.annotations
        if a.start is not None and a.end is not None and annotator in (None, a.annotator)
    ]
    if not coded:
        return None
    first, last = min(a.start for a in coded), max(a.end for a in coded)  # type: ignore[type-var]
    turns = [t.id for t in s.turns if t.speaker == patient and first <= t.id <= last]  # type: ignore[operator]
    if not turns:
        return None
    modes = [a for a in coded if is_a(a, "PrementalizingMode")]
    covered = [t for t in turns if any(a.start <= t <= a.end for a in modes)]  # type: ignore[operator]
    coders = len({a.annotator for a in coded})
    return (s.id, coders, len(turns), len(covered), round(len(covered) / len(turns), 3))


def test_prementalizing_share_matches_a_count_from_the_files(
    example_store: Store, sessions: dict[str, Session]
) -> None:
    for patient in ("P-jonas", "P-susan", "P-omar"):
        for annotator in (None, "A-1", "A-2"):
            params = {"patient": patient} | ({"annotator": annotator} if annotator else {})
            rows = run_query(example_store, "prementalizing-share", params).values()
            ordered = sorted(sessions.values(), key=lambda s: (s.date, s.number))
            expected = [
                row
                for s in ordered
                if (row := _share_from_the_file(s, patient, annotator)) is not None
            ]
            got = [
                (
                    r["session_id"],
                    r["coders"],
                    r["patient_turns"],
                    r["prementalizing_turns"],
                    r["share"],
                )
                for r in rows
            ]
            assert got == expected, (patient, annotator)
    pooled = run_query(example_store, "prementalizing-share", {"patient": "P-susan"}).values()
    assert [r["coders"] for r in pooled] == [2]  # susan-12 has two coders: the row says so


def test_the_query_and_the_trajectory_give_one_prementalizing_share(
    example_store: Store, sessions: dict[str, Session]
) -> None:
    """The same figure from `mbtkg query prementalizing-share` and `mbtkg analyze trajectory`,
    for every patient of the examples and each of their coders."""
    from mbtkg.analysis import trajectory

    patients = sorted(
        {p.id for s in sessions.values() for p in s.participants if p.role == "patient"}
    )
    assert len(patients) >= 6
    compared = 0
    for patient in patients:
        points = trajectory(example_store, patient)
        for coder in sorted({p.annotator for p in points}):
            rows = run_query(
                example_store, "prementalizing-share", {"patient": patient, "annotator": coder}
            ).values()
            from_query = [
                (r["session_id"], r["patient_turns"], r["prementalizing_turns"], r["share"])
                for r in rows
            ]
            from_trajectory = [
                (
                    p.session,
                    p.patient_turns,
                    p.prementalizing_turns,
                    round(p.prementalizing_share, 3),
                )
                for p in points
                if p.annotator == coder
            ]
            assert from_query == from_trajectory, (patient, coder)
            compared += len(from_query)
        single = [p for p in points if sum(q.session == p.session for q in points) == 1]
        pooled = {
            r["session_id"]: (r["patient_turns"], r["share"])
            for r in run_query(example_store, "prementalizing-share", {"patient": patient}).values()
        }
        for p in single:  # one coder: the pooled figure is that coder's
            assert pooled[p.session] == (p.patient_turns, round(p.prementalizing_share, 3))
    assert compared >= 8


def test_unrepaired_ruptures_match_the_files(
    example_store: Store, sessions: dict[str, Session]
) -> None:
    expected = set()
    for s in sessions.values():
        fixed = {r.target for a in s.annotations for r in a.relations if r.name == "repairs"}
        for a in s.annotations:
            if is_a(a, "Rupture") and a.id not in fixed:
                expected.add((s.id, a.start, a.annotator))
    rows = run_query(example_store, "unrepaired-ruptures").values()
    assert {(r["session_id"], r["first_turn"], r["annotator"]) for r in rows} == expected


def test_after_intervention_matches_a_count_from_the_files(
    example_store: Store, sessions: dict[str, Session]
) -> None:
    k = 2
    totals: dict[str, set[tuple[str, str]]] = defaultdict(set)
    followed: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for s in sessions.values():
        for i in (a for a in s.annotations if is_a(a, "Intervention")):
            assert i.start is not None and i.end is not None
            totals[str(i.concept_name)].add((s.id, i.id))
            for f in s.annotations:
                if f.annotator != i.annotator or f.start is None:
                    continue
                if is_a(f, "Intervention") or is_a(f, "TherapistStance"):
                    continue
                if i.start < f.start <= i.end + k:
                    followed[(str(i.concept_name), str(f.concept_name))].add((s.id, i.id))
    expected = {
        (i, len(totals[i]), f, len(hits), round(len(hits) / len(totals[i]), 3))
        for (i, f), hits in followed.items()
    }
    rows = run_query(example_store, "after-intervention", {"k": str(k)}).values()
    got = {
        (r["intervention"], r["interventions"], r["following"], r["followed"], r["share"])
        for r in rows
    }
    assert got == expected


def test_concept_annotations_use_the_hierarchy(example_store: Store) -> None:
    parent = run_query(example_store, "concept-annotations", {"concept": "rupture"}).values()
    child = run_query(
        example_store, "concept-annotations", {"concept": "withdrawal rupture"}
    ).values()
    assert {r["coded_as"] for r in parent} == {"withdrawal rupture", "confrontation rupture"}
    assert child == [r for r in parent if r["coded_as"] == "withdrawal rupture"]


# ------------------------------------------------------------------ parameters and scoping


@pytest.mark.parametrize(
    "name",
    [n for n in NEW_QUERIES if any(p.name == "session" for p in get_query(n).parameters)],
)
def test_the_session_parameter_scopes_the_answer(name: str, example_store: Store) -> None:
    params = dict(get_query(name).example)
    full = run_query(example_store, name, params).values()
    scoped = run_query(example_store, name, {**params, "session": "noor-02"}).values()
    if full and "session_id" in full[0]:
        assert scoped == [r for r in full if r["session_id"] == "noor-02"]
    else:
        assert scoped != full


def test_k_widens_the_window(example_store: Store) -> None:
    narrow = run_query(example_store, "trust-after-validation", {"k": "1"}).values()
    wide = run_query(example_store, "trust-after-validation", {"k": "5"}).values()
    assert len(narrow) < len(wide)
    assert all(isinstance(n := r["turns_after"], int) and n <= 5 for r in wide)
    assert ("susan-12", 35, 40) in {
        (r["session_id"], r["validation_turn"], r["trust_turn"]) for r in wide
    }


def test_the_intervention_parameter_is_a_concept_with_its_subtypes(example_store: Store) -> None:
    rows = run_query(example_store, "above-capacity", {"intervention": "intervention"}).values()
    assert {r["intervention_type"] for r in rows} == {"challenge", "empathic validation"}


def test_a_missing_patient_is_named(example_store: Store) -> None:
    with pytest.raises(QueryError) as info:
        run_query(example_store, "prementalizing-share", {})
    assert "needs parameter 'patient' (participant)" in str(info.value)


def test_a_bad_patient_id_is_refused(example_store: Store) -> None:
    with pytest.raises(QueryError) as info:
        run_query(example_store, "prementalizing-share", {"patient": "P-jonas> } #"})
    assert "'P-jonas> } #'" in str(info.value)


def test_an_unknown_intervention_suggests_the_closest(example_store: Store) -> None:
    with pytest.raises(UnknownNameError) as info:
        run_query(example_store, "above-capacity", {"intervention": "challange"})
    assert "did you mean 'challenge'" in str(info.value)


# ----------------------------------------------------------------------------- DataFrames


def test_rows_become_a_typed_dataframe(example_store: Store) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is the optional 'dataframes' extra")
    from mbtkg.dataframes import query_dataframe

    frame = query_dataframe(example_store, "prementalizing-share", {"patient": "P-jonas"})
    assert list(frame.columns) == golden("prementalizing-share")["columns"]
    assert frame["session_id"].tolist() == ["jonas-03", "jonas-07", "jonas-11"]
    assert frame["patient_turns"].dtype == pd.Int64Dtype()
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["date"].dt.year.tolist() == [2025, 2025, 2025]
    assert frame["share"].is_monotonic_decreasing


def test_an_unbound_cell_stays_missing_and_whole_numbers_stay_whole() -> None:
    pd = pytest.importorskip("pandas", reason="pandas is the optional 'dataframes' extra")
    from mbtkg.dataframes import to_dataframe

    rows = Rows(("turn", "code"), ((Term(3), Term("challenge")), (None, None)))
    frame = to_dataframe(rows)
    assert frame["turn"].dtype == pd.Int64Dtype()
    assert frame["turn"].iloc[0] == 3
    assert frame["turn"].isna().tolist() == [False, True]
    empty = to_dataframe(Rows(("a", "b"), ()))
    assert list(empty.columns) == ["a", "b"] and len(empty) == 0


def test_without_pandas_the_error_is_one_sentence(
    example_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mbtkg.dataframes import MissingExtraError, query_dataframe

    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(MissingExtraError) as info:
        query_dataframe(example_store, "session-overview")
    assert isinstance(info.value, MbtkgError)
    assert str(info.value) == (
        "query results as a DataFrame need pandas, the optional 'dataframes' extra: "
        "pip install 'mbtkg[dataframes]'"
    )


# ------------------------------------------------------------------------ docs/queries.md


def test_markdown_table_escapes_cells() -> None:
    rows = Rows(("a", "b"), ((Term("x|y"), Term(True)), (Term(None), Term("two\nlines"))))
    assert markdown_table(rows) == "| a | b |\n|---|---|\n| x\\|y | true |\n|  | two lines |"
    assert markdown_table(Rows(("a",), ())) == "*(no rows)*"


def test_docs_queries_md_is_up_to_date(example_store: Store) -> None:
    expected = render_query_docs(example_store)
    assert DOCS.is_file(), f"docs/queries.md is missing; run {REGENERATE}"
    assert DOCS.read_text(encoding="utf-8") == expected, (
        f"docs/queries.md is out of date; run {REGENERATE}"
    )
    for q in list_queries():
        assert f"`{q.name}` · **{q.question}**" in expected


# ------------------------------------ prementalizing-to-mentalizing, computed from the files


#: The columns of prementalizing-to-mentalizing, in the order the rows below are compared.
P2M_COLUMNS = (
    "session_id", "speaker", "mode", "mode_turn", "mentalizing_turn",
    "intervention", "intervention_turn", "annotator",
)  # fmt: skip


def _transitions_from_the_files(s: Session, k: int) -> Counter[tuple[Any, ...]]:
    """The rows of prementalizing-to-mentalizing for one session, from its annotations alone:
    a mode ending on a speaker's turn, effective mentalizing as the next mode-or-mentalizing
    code of the same annotator on that speaker's turns (at most k turns later), and the
    intervention(s) of that annotator ending last in between (None when there is none)."""
    speaker = {t.id: t.speaker for t in s.turns}
    rows: Counter[tuple[Any, ...]] = Counter()
    modes = {
        (a.annotator, speaker[a.end], str(a.concept_name), a.end)
        for a in s.annotations
        if is_a(a, "PrementalizingMode") and a.end is not None
    }
    for coder, person, mode, mode_turn in modes:

        def starts(
            local: str, coder: Any = coder, person: Any = person, after: Any = mode_turn
        ) -> list[int]:
            return [
                a.start
                for a in s.annotations
                if is_a(a, local)
                and a.annotator == coder
                and a.start is not None
                and speaker[a.start] == person
                and a.start > after
            ]

        mentalizing, later_modes = starts("EffectiveMentalizing"), starts("PrementalizingMode")
        if not mentalizing:
            continue
        shift = min(mentalizing)
        if (later_modes and shift > min(later_modes)) or shift - mode_turn > k:
            continue
        between = [
            a
            for a in s.annotations
            if is_a(a, "Intervention")
            and a.annotator == coder
            and a.end is not None
            and mode_turn <= a.end < shift
        ]
        last = max((a.end for a in between if a.end is not None), default=None)
        named: list[tuple[str | None, int | None]] = [
            (str(a.concept_name), a.start) for a in between if a.end == last
        ]
        for intervention, turn in named or [(None, None)]:
            rows[(s.id, person, mode, mode_turn, shift, intervention, turn, coder)] += 1
    return rows


def test_prementalizing_to_mentalizing_matches_the_files_of_a_generated_corpus(
    tmp_path: Path, memory_store: Store
) -> None:
    """On generated sessions (many transitions, some with no intervention before the shift,
    other codes of the annotator and other annotators' interventions ending on the same turn
    as the last one), over all sessions and for one."""
    corpus = generate_corpus(tmp_path / "gen", sessions=30, seed=5, turns=300)
    load(corpus.files, memory_store)
    read = [read_session(p) for p in corpus.files]
    k = 6
    expected: Counter[tuple[Any, ...]] = Counter()
    for s in read:
        expected += _transitions_from_the_files(s, k)
    rows = run_query(memory_store, "prementalizing-to-mentalizing", {"k": str(k)}).values()
    assert Counter(tuple(r[c] for c in P2M_COLUMNS) for r in rows) == expected
    # the corpus holds each case: no intervention before the shift, one, and two tied
    assert sum(n for row, n in expected.items() if row[5] is None) > 0
    assert sum(n for row, n in expected.items() if row[5] is not None) > 0
    assert max(Counter(row[:5] + row[7:] for row in expected.elements()).values()) > 1
    one = Counter(row[0] for row in expected.elements()).most_common(1)[0][0]
    rows = run_query(
        memory_store, "prementalizing-to-mentalizing", {"k": str(k), "session": one}
    ).values()
    mine = Counter({row: n for row, n in expected.items() if row[0] == one})
    assert Counter(tuple(r[c] for c in P2M_COLUMNS) for r in rows) == mine


EDGE_SESSION = """\
# Fictional session written for an mbtkg test. Not real patient material.
session: {id: edge-01, date: 2026-01-05, number: 1, setting: individual}
participants:
  - {id: P-edge, role: patient}
  - {id: T-edge, role: therapist}
annotators:
  - {id: A-1}
  - {id: A-2}
turns:
  - {id: 1, speaker: T-edge, text: "Where shall we start today?"}
  - {id: 2, speaker: P-edge, text: "It is obvious, everyone is against me."}
  - {id: 3, speaker: T-edge, text: "Everyone. Can you tell me who you had in mind?"}
  - {id: 4, speaker: P-edge, text: "Maybe I was upset and read too much into it."}
annotations:
  - {id: e1, concept: psychic equivalence, turns: 2, annotator: A-1}
  - {id: e2, concept: clarification, turns: [1, 2], annotator: A-1}
  - {id: e3, concept: effective mentalizing, turns: 4, annotator: A-1}
  - {id: e4, concept: psychic equivalence, turns: 2, annotator: A-2}
  - {id: e5, concept: effective mentalizing, turns: 4, annotator: A-2}
  - {id: e6, concept: challenge, turns: 3, annotator: A-1}
  - {id: e7, concept: empathic validation, turns: 3, annotator: A-1}
  - {id: e8, concept: high arousal, turns: 3, annotator: A-2}
"""


def test_the_intervention_before_the_shift_may_end_on_the_modes_turn(
    tmp_path: Path, memory_store: Store
) -> None:
    """The window of the intervention just before the shift runs from the mode's last turn
    (included) to the shift (excluded): A-1's clarification over turns 1-2 ends on the mode's
    turn, and the two of A-1's interventions that end on turn 3 come after it, so they are
    named; A-2 coded no intervention (its high arousal on turn 3 is not one)."""
    path = tmp_path / "edge-01.yaml"
    path.write_text(EDGE_SESSION, encoding="utf-8")
    load([path], memory_store)
    expected = _transitions_from_the_files(read_session(path), 6)
    assert set(expected) == {
        ("edge-01", "P-edge", "psychic equivalence", 2, 4, "challenge", 3, "A-1"),
        ("edge-01", "P-edge", "psychic equivalence", 2, 4, "empathic validation", 3, "A-1"),
        ("edge-01", "P-edge", "psychic equivalence", 2, 4, None, None, "A-2"),
    }
    rows = run_query(memory_store, "prementalizing-to-mentalizing", {"session": "edge-01"})
    assert Counter(tuple(r[c] for c in P2M_COLUMNS) for r in rows.values()) == expected
    # without A-1's codes on turn 3, the clarification ending on the mode's turn is the last
    path.write_text(
        "\n".join(
            line for line in EDGE_SESSION.splitlines() if "e6," not in line and "e7," not in line
        ),
        encoding="utf-8",
    )
    load([path], memory_store)
    rows = run_query(memory_store, "prementalizing-to-mentalizing", {"session": "edge-01"})
    got = {(r["intervention"], r["intervention_turn"], r["annotator"]) for r in rows.values()}
    assert got == {("clarification", 1, "A-1"), (None, None, "A-2")}
