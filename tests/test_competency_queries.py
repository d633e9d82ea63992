"""Competency queries: golden answers on the bundled examples, and safe parameter binding.

Each ``tests/golden/queries/<name>.json`` holds the parameters a query is run with and the rows
it must return, as plain values, in order. The goldens pin ``session=susan-12`` so that new
example sessions do not change them. They were read by hand against
``examples/sessions/susan-12.yaml``; regenerate one with ``MBTKG_UPDATE_GOLDEN=1 pytest
tests/test_competency_queries.py`` only when a change of answer is intended, and read the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from mbtkg.errors import QueryError, UnknownNameError
from mbtkg.loading import load
from mbtkg.queries import get_query, list_queries, parse_query_file, run_query
from mbtkg.resources import example_sessions
from mbtkg.stores import Store
from mbtkg.stores.base import Rows

GOLDEN = Path(__file__).resolve().parent / "golden" / "queries"
ORIGINAL_FIVE = (
    "concept-definition",
    "interventions-before-first-trust",
    "prementalizing-modes",
    "rupture-repair-latency",
    "we-ness",
)
GOLDEN_FILES = sorted(GOLDEN.glob("*.json"))


def golden_params(name: str) -> dict[str, str]:
    """The query's ``# example:`` parameters, pinned to the Susan session when it takes one."""
    query = get_query(name)
    params = dict(query.example)
    if any(p.name == "session" for p in query.parameters):
        params["session"] = "susan-12"
    return params


def answer(rows: Rows) -> dict[str, Any]:
    return {"columns": list(rows.columns), "rows": rows.values()}


@pytest.mark.parametrize("name", ORIGINAL_FIVE)
def test_each_original_query_has_a_golden(name: str) -> None:
    assert (GOLDEN / f"{name}.json").is_file()
    assert name in {q.name for q in list_queries()}


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_query_answer_matches_its_golden(path: Path, example_store: Store) -> None:
    golden = json.loads(path.read_text(encoding="utf-8"))
    rows = run_query(example_store, path.stem, golden["params"])
    got = {"params": golden["params"], **answer(rows)}
    if os.environ.get("MBTKG_UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == golden


def test_goldens_use_the_query_examples_pinned_to_susan() -> None:
    for name in ORIGINAL_FIVE:
        golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
        assert golden["params"] == golden_params(name), name


def test_goldens_are_not_empty() -> None:
    """An empty golden proves nothing about the query; each of the five answers something."""
    for name in ORIGINAL_FIVE:
        golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
        assert golden["rows"], name


def test_the_same_answer_from_a_store_with_only_susan(
    memory_store: Store, susan_path: Path
) -> None:
    """The session parameter really scopes: other example sessions add nothing to a golden."""
    load([susan_path], memory_store)
    for name in ORIGINAL_FIVE:
        golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
        assert answer(run_query(memory_store, name, golden["params"]))["rows"] == golden["rows"]


def test_leaving_out_the_session_answers_for_every_session(example_store: Store) -> None:
    rows = run_query(example_store, "rupture-repair-latency").values()
    assert {r["session_id"] for r in rows} >= {"susan-12"}
    golden = json.loads((GOLDEN / "rupture-repair-latency.json").read_text(encoding="utf-8"))
    assert [r for r in rows if r["session_id"] == "susan-12"] == golden["rows"]


def test_k_changes_the_window(example_store: Store) -> None:
    wide = run_query(example_store, "we-ness", {"session": "susan-12", "k": "6"}).values()
    narrow = run_query(example_store, "we-ness", {"session": "susan-12", "k": "2"}).values()
    assert len(wide) > len(narrow) > 0
    assert all(isinstance(r["last_turn"], int) and r["last_turn"] >= 48 - 6 for r in wide)


# ------------------------------------------------------------------ parameters, bound safely


class RecordingStore:
    """A real store that remembers every query text it was asked to run."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen: list[str] = []
        self.selector = store.selector

    def select(self, sparql: str) -> Rows:
        self.seen.append(sparql)
        return self.store.select(sparql)

    def dialect(self) -> str:
        return self.store.dialect()


def _quads(store: Store) -> set[str]:
    rows = store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {" ".join(str(t) for t in row) for row in rows.rows}


def test_unknown_query_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_query("we-nes")
    message = str(info.value)
    assert "unknown query 'we-nes'; did you mean 'we-ness'?" in message
    for name in ORIGINAL_FIVE:
        assert name in message
    assert info.value.suggestions[0] == "we-ness"


def test_missing_required_parameter_is_named(example_store: Store) -> None:
    with pytest.raises(QueryError) as info:
        run_query(example_store, "concept-definition", {})
    assert "needs parameter 'concept' (concept)" in str(info.value)
    assert "--param concept=VALUE" in str(info.value)


def test_unknown_parameter_suggests_the_closest(example_store: Store) -> None:
    with pytest.raises(UnknownNameError) as info:
        run_query(example_store, "prementalizing-modes", {"sesion": "susan-12"})
    assert str(info.value) == (
        "query 'prementalizing-modes' has no parameter 'sesion'; did you mean 'session'? "
        "(it takes: session)"
    )


@pytest.mark.parametrize(
    ("query", "params", "error"),
    [
        ("rupture-repair-latency", {"session": "x> } ; DROP ALL #"}, QueryError),
        ("rupture-repair-latency", {"session": "susan-12> ?p ?o } #"}, QueryError),
        ("rupture-repair-latency", {"session": ""}, QueryError),
        ("we-ness", {"session": "susan-12", "k": "2 } ; DROP ALL #"}, QueryError),
        ("we-ness", {"session": "susan-12", "k": "two"}, QueryError),
        ("concept-definition", {"concept": "EpistemicTrust> } #"}, UnknownNameError),
        ("concept-definition", {"concept": "epistemic trsut"}, UnknownNameError),
    ],
)
def test_bad_values_are_rejected_before_any_sparql_runs(
    example_store: Store, query: str, params: Mapping[str, str], error: type[Exception]
) -> None:
    spy = RecordingStore(example_store)
    before = _quads(example_store)
    with pytest.raises(error) as info:
        run_query(spy, query, params)  # type: ignore[arg-type]
    assert spy.seen == []
    assert _quads(example_store) == before
    bad_value = list(params.values())[-1]
    assert repr(bad_value) in str(info.value)


def test_unknown_concept_value_suggests(example_store: Store) -> None:
    with pytest.raises(UnknownNameError) as info:
        run_query(example_store, "concept-definition", {"concept": "epistemic trsut"})
    assert "did you mean 'epistemic trust'" in str(info.value)


def test_a_valid_value_is_bound_as_an_iri_on_its_values_line(example_store: Store) -> None:
    spy = RecordingStore(example_store)
    run_query(spy, "rupture-repair-latency", {"session": "susan-12"})  # type: ignore[arg-type]
    (text,) = spy.seen
    assert "VALUES ?session { <https://w3id.org/mbtkg/data/session/susan-12> }" in text
    assert "UNDEF" not in text


def _write_query(tmp_path: Path, body: str, header: str) -> Path:
    path = tmp_path / "echo.rq"
    path.write_text(header + body, encoding="utf-8")
    return path


_ECHO_HEADER = """\
# title: Echo
# question: What text was given?
# param: text (string, required): any text
"""


@pytest.mark.parametrize(
    "value",
    [
        'she said "no" } ; DROP ALL #',
        "it's \\ a 'single' quote\nand a new line",
        '"""triple"""',
        "ünïcödé ✓",
    ],
)
def test_a_string_parameter_is_escaped_and_comes_back_unchanged(
    memory_store: Store, tmp_path: Path, value: str
) -> None:
    path = _write_query(
        tmp_path, "SELECT ?text WHERE {\n  VALUES ?text { UNDEF }\n}\n", _ECHO_HEADER
    )
    spy = RecordingStore(memory_store)
    rows = run_query(spy, str(path), {"text": value})  # type: ignore[arg-type]
    assert rows.values() == [{"text": value}]
    (text,) = spy.seen
    assert str(ox.Literal(value)) in text


def test_every_values_line_of_a_parameter_is_bound(memory_store: Store, tmp_path: Path) -> None:
    """A subquery repeats the parameter's line so that it is restricted too; all are bound."""
    body = (
        "SELECT ?text ?inner WHERE {\n  VALUES ?text { UNDEF }\n"
        "  { SELECT ?text (STR(?text) AS ?inner) WHERE {\n    VALUES ?text { UNDEF }\n  } }\n}\n"
    )
    path = _write_query(tmp_path, body, _ECHO_HEADER)
    spy = RecordingStore(memory_store)
    rows = run_query(spy, str(path), {"text": "both"})  # type: ignore[arg-type]
    assert rows.values() == [{"text": "both", "inner": "both"}]
    (text,) = spy.seen
    assert text.count('VALUES ?text { "both" }') == 2
    assert "UNDEF" not in text


def test_repeat_lines_are_bound_for_oxigraph_and_dropped_when_asked(
    memory_store: Store, tmp_path: Path
) -> None:
    """A line marked ``# repeat`` is bound like the others, or left out with repeats=False
    (as run_query does for Virtuoso); the top line still restricts, so the rows are the same."""
    body = (
        "SELECT ?text ?inner WHERE {\n  VALUES ?text { UNDEF }\n"
        "  { SELECT ?text (STR(?text) AS ?inner) WHERE {\n"
        "    VALUES ?text { UNDEF }  # repeat\n"
        '    VALUES ?text { "both" "other" }\n  } }\n}\n'
    )
    query = parse_query_file(_write_query(tmp_path, body, _ECHO_HEADER))
    kept = query.bind({"text": "both"})
    dropped = query.bind({"text": "both"}, repeats=False)
    assert kept.count('VALUES ?text { "both" }') == 2
    assert dropped.count('VALUES ?text { "both" }') == 1
    assert "# repeat" not in dropped and "UNDEF" not in dropped
    expected = [{"text": "both", "inner": "both"}]
    assert memory_store.select(kept).values() == expected
    assert memory_store.select(dropped).values() == expected


def test_an_unbound_optional_parameter_drops_its_values_lines(
    memory_store: Store, tmp_path: Path
) -> None:
    """VALUES ?x { UNDEF } matches anything, so leaving the parameter out drops its lines."""
    header = "# title: Echo\n# question: What text was given?\n# param: text (string): any text\n"
    body = (
        "SELECT ?n WHERE {\n  VALUES ?text { UNDEF }\n"
        '  { SELECT ?text WHERE {\n    VALUES ?text { UNDEF }\n    VALUES ?text { "a" "b" }\n  } }\n'
        "  BIND (STR(?text) AS ?n)\n}\nORDER BY ?n\n"
    )
    path = _write_query(tmp_path, body, header)
    spy = RecordingStore(memory_store)
    rows = run_query(spy, str(path), {})  # type: ignore[arg-type]
    assert rows.values() == [{"n": "a"}, {"n": "b"}]
    (text,) = spy.seen
    assert "VALUES ?text { UNDEF }" not in text
    assert run_query(memory_store, str(path), {"text": "b"}).values() == [{"n": "b"}]


def test_a_bundled_query_is_found_by_name_without_listing_the_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mbtkg.queries as queries_module

    def no_listing() -> list[object]:
        raise AssertionError("get_query listed every query file for a known name")

    monkeypatch.setattr(queries_module, "list_queries", no_listing)
    assert get_query("we-ness").name == "we-ness"


def test_service_in_a_query_file_is_refused(memory_store: Store, tmp_path: Path) -> None:
    body = (
        "SELECT ?s WHERE {\n  VALUES ?text { UNDEF }\n"
        "  SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?text }\n}\n"
    )
    path = _write_query(tmp_path, body, _ECHO_HEADER)
    with pytest.raises(QueryError) as info:
        run_query(memory_store, str(path), {"text": "x"})
    assert "may not use SERVICE" in str(info.value)


def test_service_as_a_word_in_a_string_or_comment_is_allowed(
    memory_store: Store, tmp_path: Path
) -> None:
    body = (
        "# a SERVICE in a comment\n"
        'SELECT ?text WHERE {\n  VALUES ?text { UNDEF }\n  FILTER (?text != "SERVICE")\n}\n'
    )
    path = _write_query(tmp_path, body, _ECHO_HEADER)
    assert run_query(memory_store, str(path), {"text": "ok"}).values() == [{"text": "ok"}]


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (
            "# title: T\n# question: Q\n# param: when (date): a date\n",
            "unknown type 'date'",
        ),
        (
            "# title: T\n# question: Q\n# param: other (string): not in the body\n",
            "has no line 'VALUES ?other { UNDEF }'",
        ),
        ("# title: T\n# question: Q\n# param: broken\n", "cannot read parameter line 'broken'"),
        ("# param: k (integer, min one): a window\n", "'min' takes a whole number, found 'one'"),
    ],
)
def test_a_query_file_with_a_bad_header_is_refused(
    tmp_path: Path, header: str, fragment: str
) -> None:
    path = _write_query(tmp_path, "SELECT * WHERE { VALUES ?text { UNDEF } }\n", header)
    with pytest.raises(QueryError) as info:
        parse_query_file(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_a_header_is_optional_metadata(tmp_path: Path) -> None:
    path = _write_query(tmp_path, "SELECT * WHERE { VALUES ?text { UNDEF } }\n", "")
    query = parse_query_file(path)
    assert (query.title, query.question, query.parameters) == ("echo", "", ())


def test_every_bundled_query_has_a_complete_header() -> None:
    queries = list_queries()
    assert {q.name for q in queries} >= set(ORIGINAL_FIVE)
    for q in queries:
        assert q.title and q.question.endswith("?"), q.name
        assert all(p.help for p in q.parameters), q.name
        assert set(q.example) <= {p.name for p in q.parameters}, q.name


def test_example_sessions_fixture_is_loaded(example_store: Store) -> None:
    """The goldens read the shared example store; it must hold Susan."""
    rows = example_store.select(
        "SELECT ?n WHERE { GRAPH <https://w3id.org/mbtkg/data/session/susan-12> "
        "{ ?s <https://w3id.org/mbtkg/ontology#turnIndex> ?n } }"
    )
    assert len(rows) == 50
    assert len(example_sessions()) >= 1


def test_every_bundled_query_is_a_select_query_that_declares_its_prefixes() -> None:
    """`mbtkg query NAME` runs a vetted bundled query as SELECT without parsing it again
    (CompetencyQuery.vetted); that holds only while every bundled query is a SELECT query."""
    from rdflib.plugins.sparql.parser import parseQuery

    from mbtkg.queries import list_queries

    queries = list_queries()
    assert len(queries) >= 17
    for cq in queries:
        tree = parseQuery(cq.sparql)  # parses: its prefixes are its own
        assert tree[1].name == "SelectQuery", cq.name


def test_bound_texts_are_remembered_per_values_and_store_kind() -> None:
    """A query asked again with the same values reuses its bound text; other values, or the
    Virtuoso form without the ``# repeat`` lines, are bound afresh, and the memo stays bounded
    whatever a caller (a server) sends."""
    from mbtkg.queries import _BOUND_TEXTS_KEPT

    query = get_query("annotator-disagreements")
    one = query.bind({"session": "susan-12"})
    assert query.bind({"session": "susan-12"}) is one
    other = query.bind({"session": "noor-02"})
    assert "noor-02" in other and "susan-12" not in other
    virtuoso = query.bind({"session": "susan-12"}, repeats=False)
    assert one.count("session/susan-12>") > 1 and virtuoso.count("session/susan-12>") == 1
    everywhere = query.bind({})
    assert "VALUES ?session" not in everywhere
    for n in range(3 * _BOUND_TEXTS_KEPT):
        assert f"s-{n}>" in query.bind({"session": f"s-{n}"})
    assert len(query._memo) <= _BOUND_TEXTS_KEPT
    assert query.bind({"session": "susan-12"}) == one


def test_a_refused_value_is_refused_every_time() -> None:
    """Remembering bound texts must not remember a refusal as an answer, nor let a bad value
    through the second time."""
    query = get_query("after-intervention")
    for _ in range(2):
        with pytest.raises(QueryError, match="parameter 'k' must be a whole number from 1"):
            query.bind({"k": "0"})
    assert 'VALUES ?k { "3"^^<http://www.w3.org/2001/XMLSchema#integer> }' in query.bind({"k": "3"})
