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
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.cli import main
from mbtkg.concepts import default_index
from mbtkg.errors import MbtkgError, QueryError, UnknownNameError
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


def test_prementalizing_share_matches_a_count_from_the_files(
    example_store: Store, sessions: dict[str, Session]
) -> None:
    for patient in ("P-jonas", "P-susan", "P-omar"):
        rows = run_query(example_store, "prementalizing-share", {"patient": patient}).values()
        expected = []
        for s in sorted(sessions.values(), key=lambda s: (s.date, s.number)):
            turns = [t.id for t in s.turns if t.speaker == patient]
            if not turns:
                continue
            modes = [a for a in s.annotations if is_a(a, "PrementalizingMode")]
            covered = [
                t
                for t in turns
                if any(
                    a.start is not None and a.end is not None and a.start <= t <= a.end
                    for a in modes
                )
            ]
            expected.append((s.id, len(turns), len(covered), round(len(covered) / len(turns), 3)))
        got = [
            (r["session_id"], r["patient_turns"], r["prementalizing_turns"], r["share"])
            for r in rows
        ]
        assert got == expected, patient


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
