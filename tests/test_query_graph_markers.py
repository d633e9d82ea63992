"""The ``# graph`` marker of a query file: once the session parameter is bound, a marked
``GRAPH ?session {`` line names the session's graph itself (so that Oxigraph reads that graph
alone, instead of a class's occurrences in every graph). Binding must keep the meaning: every
marked bundled query answers each example session exactly as it does without the markers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mbtkg.errors import QueryError
from mbtkg.queries import get_query, list_queries, parse_query_file
from mbtkg.stores import Store

SESSION_IRI = "https://w3id.org/mbtkg/data/session/"

_HEADER = """\
# title: Turns of a session
# question: Which turns does a session have?
# param: session (session): the session id, e.g. susan-12; every session when left out
"""

_BODY = """\
PREFIX mbt: <https://w3id.org/mbtkg/ontology#>
SELECT ?session ?turn WHERE {
  VALUES ?session { UNDEF }
  GRAPH ?session {  # graph
    ?turn mbt:turnIndex ?i .
  }
  GRAPH ?session {
    ?turn mbt:turnIndex ?j .
  }
}
"""

#: The bundled queries that mark a line.
MARKED = sorted(q.name for q in list_queries() if re.search(r"\{\s*#\s*graph\s*$", q.sparql, re.M))


def _write(tmp_path: Path, body: str, header: str = _HEADER) -> Path:
    path = tmp_path / "marked.rq"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_a_marked_line_names_the_session_graph_once_the_session_is_bound(tmp_path: Path) -> None:
    query = parse_query_file(_write(tmp_path, _BODY))
    bound = query.bind({"session": "susan-12"})
    assert f"  GRAPH <{SESSION_IRI}susan-12> {{  # graph\n" in bound
    assert bound.count("GRAPH ?session {") == 1, "an unmarked line keeps its variable"
    assert f"VALUES ?session {{ <{SESSION_IRI}susan-12> }}" in bound


def test_a_marked_line_keeps_its_variable_without_a_session_or_for_virtuoso(
    tmp_path: Path,
) -> None:
    query = parse_query_file(_write(tmp_path, _BODY))
    assert query.bind({}).count("GRAPH ?session {") == 2
    virtuoso = query.bind({"session": "susan-12"}, repeats=False)
    assert virtuoso.count("GRAPH ?session {") == 2
    assert f"GRAPH <{SESSION_IRI}" not in virtuoso


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("  FILTER (?i > 0)  # graph\n", _HEADER),
        ("  GRAPH ?turn {  # graph\n  }\n", _HEADER),
        ("  GRAPH ?session {  # graph\n  }\n", _HEADER.replace("(session)", "(string)")),
        ("  GRAPH ?session { ?turn mbt:turnIndex ?i }  # graph\n", _HEADER),
    ],
)
def test_a_marker_on_any_other_line_is_refused_with_its_line(
    tmp_path: Path, line: str, header: str
) -> None:
    body = _BODY.replace("  GRAPH ?session {\n", line + "  GRAPH ?session {\n", 1)
    path = _write(tmp_path, body, header)
    number = (header + body).split("\n").index(line.split("\n")[0]) + 1
    with pytest.raises(QueryError) as info:
        parse_query_file(path)
    message = str(info.value)
    assert f"{path}, line {number}" in message
    assert line.split("\n")[0].strip() in message
    assert "# graph" in message


def test_several_bundled_queries_are_marked() -> None:
    assert {"concept-annotations", "above-capacity", "prementalizing-to-mentalizing"} <= set(MARKED)


def _sessions(store: Store) -> list[str]:
    rows = store.select(
        "SELECT DISTINCT ?id WHERE { GRAPH ?g { ?g <https://w3id.org/mbtkg/ontology#sessionId> "
        "?id } } ORDER BY ?id"
    ).values()
    return [str(r["id"]) for r in rows]


@pytest.mark.parametrize("name", MARKED)
def test_a_marked_query_answers_each_session_as_without_its_markers(
    name: str, example_store: Store
) -> None:
    """The marked text against the same query with every marker taken out (the variable kept),
    for every example session: the rows are the same, in the same order."""
    query = get_query(name)
    sessions = _sessions(example_store)
    assert len(sessions) >= 4
    answered = 0
    for session in sessions:
        params = {**query.example, "session": session}
        marked = query.bind(params)
        iri = f"<{SESSION_IRI}{session}>"
        assert f"GRAPH {iri} {{  # graph" in marked
        plain = marked.replace(f"GRAPH {iri} {{  # graph", "GRAPH ?session {")
        assert "# graph" not in plain
        rows = example_store.select(marked).values()
        assert rows == example_store.select(plain).values(), session
        answered += bool(rows)
    assert answered >= 1, f"{name} answered no example session: the comparison proves nothing"
