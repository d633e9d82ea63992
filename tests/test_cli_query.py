"""``mbtkg query`` on any SPARQL (files, --sparql text), its messages, parameter checks and
empty answers, through the real CLI on a real on-disk Oxigraph store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.stores import open_store

ROOT = Path(__file__).resolve().parent.parent
MBT = "https://w3id.org/mbtkg/ontology#"


@pytest.fixture(scope="module")
def examples_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An on-disk store holding the six bundled example sessions."""
    selector = f"oxigraph:{tmp_path_factory.mktemp('query') / 'db'}"
    store = open_store(selector)
    try:
        load(example_sessions(), store)
    finally:
        store.close()
    return selector


def _run(store: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["query", *args, "--store", store])
    return result.exit_code, result.stdout, result.stderr


def _turns(store: str) -> int:
    """The number of turns, counted without SPARQL (pyoxigraph's pattern index)."""
    target = open_store(store)
    try:
        raw = target.raw  # type: ignore[attr-defined]
        return sum(1 for _ in raw.quads_for_pattern(None, ox.NamedNode(MBT + "turnIndex"), None))
    finally:
        target.close()


def test_sparql_text_select_uses_predeclared_prefixes(examples_store: str) -> None:
    code, out, err = _run(
        examples_store,
        "--sparql",
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?t mbt:turnIndex ?i } }",
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out) == [{"n": _turns(examples_store)}]


@pytest.mark.parametrize(("index", "expected"), [(1, "true"), (99_999, "false")])
def test_ask_prints_true_or_false_and_exits_0(
    examples_store: str, index: int, expected: str
) -> None:
    code, out, err = _run(
        examples_store, "--sparql", f"ASK {{ GRAPH ?g {{ ?t mbt:turnIndex {index} }} }}"
    )
    assert code == 0, err
    assert out.strip() == expected


def test_construct_prints_turtle(examples_store: str) -> None:
    code, out, err = _run(
        examples_store,
        "--sparql",
        "CONSTRUCT { ?s rdfs:label ?l } WHERE { GRAPH <https://w3id.org/mbtkg/graph/ontology> "
        "{ ?s rdfs:label ?l . FILTER (?s = mbt:PsychicEquivalence) } }",
    )
    assert code == 0, err
    triples = list(ox.parse(out.encode(), format=ox.RdfFormat.TURTLE))
    assert [(t.subject.value, t.predicate.value) for t in triples] == [
        (MBT + "PsychicEquivalence", "http://www.w3.org/2000/01/rdf-schema#label")
    ]
    assert triples[0].object.value == "psychic equivalence"


def test_describe_prints_turtle(examples_store: str) -> None:
    code, out, err = _run(examples_store, "--sparql", "DESCRIBE mbt:PsychicEquivalence")
    assert code == 0, err
    # Oxigraph describes from the default graph, which is empty here: an empty Turtle answer,
    # said on stderr, still exit 0
    assert "no triples" in err


def test_the_data_model_example_runs_as_written(examples_store: str) -> None:
    doc = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sparql\n(.*?)```", doc, re.DOTALL)
    assert blocks, "docs/data-model.md has no sparql block"
    for block in blocks:
        assert "PREFIX" not in block.upper().split("SELECT")[0]  # it relies on predeclaration
        code, out, err = _run(examples_store, "--sparql", block, "--format", "json")
        assert code == 0, err
        rows = json.loads(out)
        modes = {r["mode"] for r in rows}
        assert "psychic equivalence" in modes
        assert {r["session_id"] for r in rows} >= {"susan-12", "jonas-07"}


def test_a_file_without_header_runs(examples_store: str, tmp_path: Path) -> None:
    path = tmp_path / "plain.rq"
    path.write_text(
        "SELECT ?id WHERE { GRAPH ?g { ?s mbt:sessionId ?id } } ORDER BY ?id\n", encoding="utf-8"
    )
    code, out, err = _run(examples_store, str(path), "--format", "csv")
    assert code == 0, err
    assert out.split() == [
        "id",
        "jonas-03",
        "jonas-07",
        "jonas-11",
        "mbtg-04",
        "noor-02",
        "susan-12",
    ]


def test_a_file_declaring_its_own_prefix_keeps_it(examples_store: str, tmp_path: Path) -> None:
    path = tmp_path / "own.rq"
    path.write_text(
        "# title: mine\nPREFIX mbt: <http://example.org/other#>\n"
        "ASK { GRAPH ?g { ?t mbt:turnIndex ?i } }\n",
        encoding="utf-8",
    )
    code, out, err = _run(examples_store, str(path))
    assert code == 0, err
    assert out.strip() == "false"  # the file's mbt: wins over the predeclared one


@pytest.mark.parametrize(
    ("text", "line", "column", "near"),
    [
        ("SELECT ?x WHERE { ?x ?p }", 1, 19, "?x ?p }"),
        ("SELECT ?x WHERE {\n  ?x ?p ?o }}", 2, 13, "}"),
        ("SELEC ?x WHERE { ?x ?p ?o }", 1, 1, "SELEC ?x"),
    ],
)
def test_a_parse_error_is_one_located_sentence(
    examples_store: str, text: str, line: int, column: int, near: str
) -> None:
    code, out, err = _run(examples_store, "--sparql", text)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: --sparql: line {line}, column {column}: ")
    assert f"near {near!r}" in lines[0] or f"near '{near}" in lines[0]
    assert "expected " in lines[0]
    assert "Expected {" not in err and "Traceback" not in err


def test_a_parse_error_in_a_file_names_the_file_and_its_line(
    examples_store: str, tmp_path: Path
) -> None:
    path = tmp_path / "broken.rq"
    path.write_text("# title: x\n# question: y\nSELECT ?x WHERE { ?x ?p }\n", encoding="utf-8")
    code, _, err = _run(examples_store, str(path))
    assert code == 2
    assert err.startswith(f"error: {path}: line 3, column 19: the query does not parse")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("SELECT ?x WHERE {\n  ?x foo:bar ?y }", "line 2, column 6"),
        ("SELECT ?x WHERE { ?x foo:bar ?y }", "line 1, column 22"),  # the prefixes added ahead
    ],
)
def test_an_undeclared_prefix_is_named(examples_store: str, text: str, where: str) -> None:
    code, _, err = _run(examples_store, "--sparql", text)
    assert code == 2
    assert f"{where}: the prefix 'foo:' is not declared" in err
    assert "mbt:" in err  # the predeclared prefixes are listed


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
        "select * where { optional { service silent ?x { ?s ?p ?o } } }",
        "INSERT DATA { <http://a> <http://b> <http://c> }",
        "LOAD <http://127.0.0.1:1/x.ttl>",
    ],
)
def test_the_guard_refuses_remote_and_update_text(examples_store: str, text: str) -> None:
    code, out, err = _run(examples_store, "--sparql", text)
    assert code == 2
    assert out == ""
    assert re.search(r"SERVICE|LOAD|update", err), err


def test_the_guard_refuses_a_service_file(examples_store: str, tmp_path: Path) -> None:
    path = tmp_path / "remote.rq"
    path.write_text("SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }\n")
    code, _, err = _run(examples_store, str(path))
    assert code == 2
    assert "may not use SERVICE" in err


def test_named_queries_with_parameters_still_work(examples_store: str) -> None:
    code, out, err = _run(
        examples_store, "we-ness", "-p", "session=susan-12", "-p", "k=2", "--format", "json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert rows and {r["session_id"] for r in rows} == {"susan-12"}


def test_sparql_and_a_name_together_is_a_usage_error(examples_store: str) -> None:
    code, _, err = _run(examples_store, "we-ness", "--sparql", "ASK {}")
    assert code == 2
    assert "not both" in err


def test_a_missing_rq_file_is_said(examples_store: str, tmp_path: Path) -> None:
    code, _, err = _run(examples_store, str(tmp_path / "nope.rq"))
    assert code == 2
    assert f"{tmp_path / 'nope.rq'}: no such query file" in err


# -- parameters: ids and windows ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["we-ness", "-p", "session=susan-13"],
            ["no session 'susan-13' in the store", "did you mean 'susan-12'?"],
        ),
        (
            ["prementalizing-share", "-p", "patient=P-susn"],
            ["no participant 'P-susn' in the store", "did you mean 'P-susan'?"],
        ),
        (["we-ness", "-p", "k=-1"], ["'k' must be a whole number from 1 to 10000, found '-1'"]),
        (["we-ness", "-p", "k=two"], ["'k' must be a whole number from 1 to 10000, found 'two'"]),
        (["we-ness", "-p", "k=0"], ["from 1 to 10000, found '0'"]),
    ],
)
def test_parameter_values_are_checked(
    examples_store: str, args: list[str], fragments: list[str]
) -> None:
    code, out, err = _run(examples_store, *args)
    assert code == 2, err
    assert out == ""
    for fragment in fragments:
        assert fragment in err


def test_an_empty_window_says_how_far_the_nearest_match_is(examples_store: str) -> None:
    args = ["prementalizing-to-mentalizing", "-p", "session=noor-02"]
    code, out, err = _run(examples_store, *args, "-p", "k=1")
    assert code == 0, err
    assert "(0 rows)" not in out
    assert out.strip() == (
        f"no rows: query 'prementalizing-to-mentalizing' with session=noor-02, k=1 matched "
        f"nothing in {examples_store}; no match within k=1 turns; the nearest is 2 turns away "
        "— try --param k=2"
    )
    code, out, _ = _run(examples_store, *args, "-p", "k=2", "--format", "json")
    assert code == 0
    assert json.loads(out)  # the suggested window does answer


def test_an_empty_window_with_no_match_at_any_width_says_so(examples_store: str) -> None:
    code, out, err = _run(examples_store, "we-ness", "-p", "session=jonas-03", "-p", "k=1")
    assert code == 0, err
    assert "no match within k=1 turns, nor within any window up to k=10000" in out


def test_an_empty_answer_in_csv_keeps_stdout_machine_readable(examples_store: str) -> None:
    code, out, err = _run(examples_store, "we-ness", "-p", "session=jonas-03", "--format", "csv")
    assert code == 0
    assert out.strip().splitlines()[0].startswith("session_id")
    assert len(out.strip().splitlines()) == 1
    assert "no rows: query 'we-ness' with session=jonas-03, k=2" in err


def test_an_empty_answer_without_a_window_names_the_query(examples_store: str) -> None:
    code, out, err = _run(
        examples_store, "concept-annotations", "-p", "concept=Challenge", "-p", "session=susan-12"
    )
    assert code == 0, err
    assert "(0 rows)" not in out
    assert out.strip().startswith(
        "no rows: query 'concept-annotations' with concept=Challenge, session=susan-12 matched "
        "nothing"
    )
