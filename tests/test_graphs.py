"""networkx views of the graph and their GraphML export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from analysis_stores import analysis_store, store_selector
from click.testing import CliRunner

from mbtkg import vocab
from mbtkg.analysis import transition_matrices
from mbtkg.cli import main
from mbtkg.graphs import (
    concept_hierarchy,
    graphml_safe,
    session_graph,
    transition_graph,
    write_graphml,
)
from mbtkg.stores import Store

M = vocab.MBT


@pytest.fixture()
def store() -> Iterator[Store]:
    with analysis_store() as opened:
        yield opened


def _roundtrip(graph: nx.DiGraph, path: Path) -> nx.DiGraph:
    write_graphml(graph, path)
    reloaded = nx.read_graphml(path)
    assert isinstance(reloaded, nx.DiGraph)
    assert reloaded.number_of_nodes() == graph.number_of_nodes()
    assert reloaded.number_of_edges() == graph.number_of_edges()
    safe = graphml_safe(graph)
    for node, data in safe.nodes(data=True):
        assert reloaded.nodes[node] == data, node
    for u, v, data in safe.edges(data=True):
        assert reloaded.edges[u, v] == data, (u, v)
    return reloaded


def test_hierarchy_has_the_subclass_edges(store: Store, tmp_path: Path) -> None:
    graph = concept_hierarchy(store)
    assert graph.has_edge(M + "EffectiveMentalizing", M + "Mentalizing")
    assert graph.has_edge(M + "WithdrawalRupture", M + "Rupture")
    assert graph.edges[M + "PsychicEquivalence", M + "PrementalizingMode"]["relation"] == (
        "subClassOf"
    )
    node = graph.nodes[M + "EpistemicTrust"]
    assert node["label"] == "epistemic trust"
    assert node["curie"] == "mbt:EpistemicTrust"
    assert node["in_mbt"] is True
    assert node["definition"]
    reloaded = _roundtrip(graph, tmp_path / "hierarchy.graphml")
    assert reloaded.nodes[M + "EpistemicTrust"]["in_mbt"] is True


def test_session_graph_turns_occurrences_and_links(store: Store, tmp_path: Path) -> None:
    graph = session_graph(store, "susan-12")
    turns = [n for n, d in graph.nodes(data=True) if d["kind"] == "turn"]
    occurrences = [n for n, d in graph.nodes(data=True) if d["kind"] == "occurrence"]
    assert (len(turns), len(occurrences)) == (50, 47)  # 43 + a33-a36 (ZPD theme, ostensive cue)
    first = vocab.turn_iri("susan-12", 1)
    assert graph.edges[first, vocab.turn_iri("susan-12", 2)]["relation"] == "next"
    repair = vocab.occurrence_iri("susan-12", "a15")
    assert graph.edges[repair, vocab.occurrence_iri("susan-12", "a13")]["relation"] == "repairs"
    covered = [v for _, v, d in graph.out_edges(repair, data=True) if d["relation"] == "covers"]
    assert len(covered) == 7  # turns 21-27
    assert graph.nodes[repair]["annotator"] == "A-1"
    assert graph.nodes[repair]["start"] == 21
    reloaded = _roundtrip(graph, tmp_path / "session.graphml")
    assert reloaded.nodes[first]["index"] == 1  # integers stay integers
    assert reloaded.nodes[first]["role"] == "therapist"


def test_transition_graph_weights(store: Store, tmp_path: Path) -> None:
    (matrix,) = transition_matrices(store, patient="P-x")
    graph = transition_graph(matrix)
    assert set(graph.nodes) == {"psychic equivalence", "teleological mode", "effective mentalizing"}
    assert graph.edges["psychic equivalence", "teleological mode"]["weight"] == 1
    assert graph.edges["psychic equivalence", "teleological mode"]["share"] == pytest.approx(0.5)
    assert graph.nodes["psychic equivalence"]["visits"] == 2
    reloaded = _roundtrip(graph, tmp_path / "transitions.graphml")
    assert reloaded.graph["annotator"] == "C-1"


def test_graphml_safe_drops_none_and_stringifies_other_types() -> None:
    graph = nx.DiGraph()
    graph.add_node("a", keep=1, gone=None, listed=[1, 2])
    safe = graphml_safe(graph)
    assert safe.nodes["a"] == {"keep": 1, "listed": "[1, 2]"}


def test_cli_export_and_errors(tmp_path: Path) -> None:
    out = tmp_path / "s.graphml"
    result = CliRunner().invoke(
        main,
        [
            "graph",
            "export",
            "session",
            "--session",
            "tiny-02",
            "--out",
            str(out),
            "--store",
            store_selector(),
        ],
    )
    assert result.exit_code == 0, result.output
    reloaded = nx.read_graphml(out)
    # 6 turns + 6 occurrences; 5 next + 10 covers (1+1+1+3+3+1 turns) + 1 repairs edges.
    assert (reloaded.number_of_nodes(), reloaded.number_of_edges()) == (12, 16)
    assert f"{reloaded.number_of_nodes()} nodes, {reloaded.number_of_edges()} edges" in (
        result.output
    )
    missing = CliRunner().invoke(
        main, ["graph", "export", "session", "--out", str(out), "--store", store_selector()]
    )
    assert missing.exit_code == 2
    assert "needs --session" in missing.output
    two = CliRunner().invoke(
        main,
        [
            "graph",
            "export",
            "transitions",
            "--session",
            "susan-12",
            "--out",
            str(out),
            "--store",
            store_selector(),
        ],
    )
    assert two.exit_code == 2
    assert "choose one with --annotator (coders here: A-1, A-2)" in two.output
