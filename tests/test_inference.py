"""Inferred graphs: what a load writes next to each session, and how they live and die with it."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from mbtkg import vocab
from mbtkg.errors import ValidationFailed
from mbtkg.loading import drop_session, load
from mbtkg.resources import example_sessions
from mbtkg.stores import Store
from mbtkg.stores.oxigraph import OxigraphStore

SUSAN = next(p for p in example_sessions() if p.stem == "susan-12")
INFERRED = vocab.inferred_graph_iri("susan-12")
OCC = vocab.session_iri("susan-12") + "/occurrence/"


def _types(store: Store, graph: str, cls: str) -> list[str]:
    rows = store.select(
        f"SELECT ?x WHERE {{ GRAPH <{graph}> {{ ?x a <{vocab.MBT}{cls}> }} }} ORDER BY ?x"
    )
    return [str(r[0]).rsplit("/", 1)[-1] for r in rows.rows if r[0] is not None]


@pytest.fixture
def susan_store(tmp_path: Path) -> OxigraphStore:
    store = OxigraphStore(tmp_path / "kg")
    load([SUSAN], store, jobs=1)
    return store


def test_a_load_writes_the_defined_classes_into_the_inferred_graph(
    susan_store: OxigraphStore,
) -> None:
    assert INFERRED in susan_store.graph_names()
    # a13 and b3 are withdrawal ruptures with a repairs link (a15, b5); b7 has none
    assert _types(susan_store, INFERRED, "RepairedRupture") == ["a13", "b3"]
    assert _types(susan_store, INFERRED, "UnrepairedRupture") == ["b7"]
    # a superclass of a coded class: a withdrawal rupture is a rupture
    assert "a13" in _types(susan_store, INFERRED, "Rupture")
    # validations at turns 7 and 17, explorations starting at turns 9 and 19
    assert _types(susan_store, INFERRED, "ValidatedExploration") == ["a12", "a7"]
    susan_store.close()


def test_the_inferred_graph_holds_only_new_triples_about_the_sessions_own_nodes(
    susan_store: OxigraphStore,
) -> None:
    own = vocab.session_iri("susan-12")
    asserted_too = susan_store.select(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} "
        f"GRAPH <{own}> {{ ?s ?p ?o }} }}"
    )
    assert asserted_too.rows[0][0] is not None and asserted_too.rows[0][0].value == 0
    strays = susan_store.select(
        f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} "
        f"FILTER (isBlank(?o) || isLiteral(?o) || ?p = <{vocab.OWL}sameAs> || ?o = <{vocab.OWL}Thing> "
        f'|| (?s != <{own}> && !STRSTARTS(STR(?s), "{own}/"))) }} LIMIT 3'
    )
    # no literal either: the inferred graph never copies session text
    assert strays.rows == ()
    susan_store.close()


def test_mbtkg_load_no_infer(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mbtkg.cli import main

    where = f"oxigraph:{tmp_path / 'kg'}"
    run = CliRunner().invoke(main, ["load", str(SUSAN), "--store", where])
    assert run.exit_code == 0, run.output
    assert "inferred)" in run.output
    run = CliRunner().invoke(main, ["load", str(SUSAN), "--no-infer", "--store", where])
    assert run.exit_code == 0, run.output
    assert "inferred" not in run.output
    store = OxigraphStore(tmp_path / "kg")
    assert INFERRED not in store.graph_names()
    assert vocab.session_iri("susan-12") in store.graph_names()
    store.close()


def test_no_infer_empties_the_inferred_graph_and_a_drop_removes_both(
    susan_store: OxigraphStore,
) -> None:
    load([SUSAN], susan_store, jobs=1, infer=False)
    assert INFERRED not in susan_store.graph_names()
    load([SUSAN], susan_store, jobs=1)
    assert susan_store.graph_size(INFERRED) > 0
    drop_session(susan_store, "susan-12")
    assert not [g for g in susan_store.graph_names() if "susan-12" in g]
    susan_store.close()


def test_a_failed_load_writes_no_inferred_graph(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = SUSAN.read_text(encoding="utf-8").replace("id: susan-12", "id: susan-bad", 1)
    bad.write_text(text.replace("turns: [20, 22]", "turns: [22, 20]", 1), encoding="utf-8")
    store = OxigraphStore(tmp_path / "kg")
    with pytest.raises(ValidationFailed):
        load([SUSAN, bad], store, jobs=1)
    assert store.graph_names() == []
    store.close()


def test_sessions_reasoned_together_get_what_each_gets_alone() -> None:
    """The jonas sessions share their patient and annotators; batching must not mix them."""
    from mbtkg.session_reasoning.reference import infer_session, infer_sessions
    from mbtkg.sessions import read_session, session_to_rdf

    graphs = [session_to_rdf(read_session(p)) for p in example_sessions()]
    together = infer_sessions([(g.session_id, g.quads) for g in graphs])
    for g, batch in zip(graphs, together, strict=True):
        alone = infer_session(g.session_id, g.quads)
        assert set(batch) == set(alone), g.session_id
        assert alone, g.session_id
    # a person is nobody's own node, even though the reasoner saw it once per session
    person = vocab.person_iri("P-jonas")
    assert not [q for batch in together for q in batch if q.subject == ox.NamedNode(person)]
    assert not [q for batch in together for q in batch if "/shared/" in str(q.object)]


def test_a_fact_about_a_shared_person_in_one_session_does_not_reach_another() -> None:
    """With an axiom that types a turn by what is known of its speaker, session A's statement
    about the person must not type session B's turn when they are reasoned together."""
    from mbtkg.session_reasoning.reference import TBox, infer_sessions

    def n(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    flagged, marked = vocab.MBT + "TestFlagged", vocab.MBT + "TestMarked"
    restriction = ox.BlankNode()
    tbox_quads = [
        ox.Quad(n(flagged), n(vocab.OWL + "equivalentClass"), restriction),
        ox.Quad(restriction, n(vocab.RDF + "type"), n(vocab.OWL + "Restriction")),
        ox.Quad(restriction, n(vocab.OWL + "onProperty"), n(vocab.MBT + "speaker")),
        ox.Quad(restriction, n(vocab.OWL + "someValuesFrom"), n(marked)),
    ]
    person = n(vocab.person_iri("P-shared"))

    def turn_of(session_id: str) -> ox.Quad:
        graph = n(vocab.session_iri(session_id))
        return ox.Quad(n(vocab.turn_iri(session_id, 1)), n(vocab.MBT + "speaker"), person, graph)

    a = [turn_of("a"), ox.Quad(person, n(vocab.RDF + "type"), n(marked), n(vocab.session_iri("a")))]
    b = [turn_of("b")]
    box = TBox.from_quads(tbox_quads)
    in_a, in_b = infer_sessions([("a", a), ("b", b)], closure=box)
    typed = ox.Quad(
        n(vocab.turn_iri("a", 1)),
        n(vocab.RDF + "type"),
        n(flagged),
        n(vocab.inferred_graph_iri("a")),
    )
    assert typed in in_a  # the axiom works within a session
    assert not [q for q in in_b if q.object == n(flagged)]  # and does not leak to another


def test_the_cli_load_line_names_the_inferred_triples(tmp_path: Path) -> None:
    """`mbtkg load` says how many triples the inferred graphs hold; with --no-infer it says
    nothing of them (the line lost the figure once when the summary was reworded)."""
    from click.testing import CliRunner

    from mbtkg.cli import main

    susan = next(p for p in example_sessions() if p.stem == "susan-12")
    store = f"oxigraph:{tmp_path / 'kg'}"
    result = CliRunner().invoke(main, ["load", str(susan), "--store", store])
    assert result.exit_code == 0, result.output
    found = re.search(r"\((\d+) triples, \+(\d+) inferred\) into ", result.stdout)
    assert found and int(found.group(2)) > 0, result.stdout
    plain = CliRunner().invoke(
        main, ["load", str(susan), "--no-infer", "--store", f"oxigraph:{tmp_path / 'kg2'}"]
    )
    assert plain.exit_code == 0, plain.output
    assert "inferred" not in plain.stdout
