"""The N-Quads text the writer gives each session graph, which loads and inference read."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from mbtkg.generate import generate_corpus
from mbtkg.sessions import read_session, session_to_rdf


def test_a_long_session_has_one_line_per_triple_across_blocks(tmp_path: Path) -> None:
    """The text is built a block of 4,096 lines at a time: a session of about 12,000 triples
    spans three blocks, and each triple is written once, in order, in the session's graph."""
    corpus = generate_corpus(tmp_path, sessions=1, seed=2, turns=600)
    graph = session_to_rdf(read_session(corpus.files[0]))
    assert len(graph.triples) > 2 * 4096 + 1
    lines = graph.nquads.decode("utf-8").splitlines()
    assert len(lines) == len(graph.triples) == len(graph)
    name = f"<{graph.graph}>"
    assert lines == [f"{s} {p} {o} {name} ." for s, p, o in graph.triples]
    quads = list(ox.parse(graph.nquads, format=ox.RdfFormat.N_QUADS))
    assert len(set(quads)) == len(quads) == len(lines)
    assert {q.graph_name for q in quads} == {ox.NamedNode(graph.graph)}
