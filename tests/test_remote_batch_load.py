"""Loads into a real ``oxigraph serve`` go in a few requests, replace graphs, and undo a failure.

The server is a real process on a free loopback port; requests are counted by wrapping the
client's ``send`` (every request still reaches the server). Virtuoso, whose Graph Store endpoint
does not take N-Quads, keeps the per-graph way (its probe answers no).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import RunningServer, oxigraph_server, virtuoso_server, which_oxigraph, which_virtuoso

from mbtkg import vocab
from mbtkg.errors import StoreError
from mbtkg.loading import PreparedLoad, load, prepare, write
from mbtkg.resources import example_sessions
from mbtkg.stores import open_store
from mbtkg.stores.quads_upload import quads_text, write_graphs
from mbtkg.stores.sparql_http import STAGING_PREFIX, SparqlHttpStore


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    if which_oxigraph() is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as running:
        yield running


@pytest.fixture(scope="module")
def examples() -> PreparedLoad:
    return prepare(example_sessions())


def _store(server: RunningServer) -> SparqlHttpStore:
    store = open_store(server.selector, settings=server.settings)
    assert isinstance(store, SparqlHttpStore)
    for graph in store.graph_names():
        store.drop_graph(graph)
    return store


def _count_requests(store: SparqlHttpStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    real = store._http.send

    def send(method: str, url: str, **kwargs: Any) -> Any:
        sent.append(f"{method} {url.split('?')[0].rsplit('/', 1)[-1]}")
        return real(method, url, **kwargs)

    monkeypatch.setattr(store._http, "send", send)
    return sent


def test_every_session_goes_in_one_upload_and_a_reload_replaces(
    server: RunningServer, examples: PreparedLoad, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(server)
    assert store.takes_quads()
    sent = _count_requests(store, monkeypatch)
    write(examples, store)
    # one existence query, one POST of N-Quads for every graph, no update (nothing existed)
    assert sent == ["GET query", "POST store"] or sent == ["POST query", "POST store"]
    sizes = {g: store.graph_size(g) for g in examples.graphs}
    assert sizes == {g: len(set(q)) for g, q in examples.graphs.items()}
    assert len(examples.graphs) >= 4
    sent.clear()
    write(examples, store)  # again: every graph exists, one update replaces them all
    assert [s for s in sent if not s.endswith("query")] == ["POST update"]
    assert {g: store.graph_size(g) for g in examples.graphs} == sizes
    assert not [g for g in store.graph_names() if g.startswith(STAGING_PREFIX)]
    session = vocab.session_iri(examples.sessions[0])
    store.replace_graphs({session: list(examples.graphs[session])[:10]})  # replaced, not merged
    assert store.graph_size(session) == 10


def test_load_through_the_server_gives_the_local_counts(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(server)
    store.takes_quads()
    sent = _count_requests(store, monkeypatch)
    paths = example_sessions()
    summary = load(paths, store, jobs=1)
    assert len(summary.sessions) == len(paths)
    assert sent.count("POST store") == 1 and "PUT store" not in sent
    session_triples = sum(store.graph_size(vocab.session_iri(s)) for s in summary.sessions)
    assert session_triples == summary.triples


def test_a_failed_upload_removes_the_graphs_it_created(
    server: RunningServer, examples: PreparedLoad
) -> None:
    store = _store(server)
    graphs = {g: quads_text(g, q) for g, q in examples.graphs.items()}
    broken = "https://w3id.org/mbtkg/data/session/broken"
    graphs[broken] = f"<urn:s> <urn:p> <urn:o broken> <{broken}> .\n".encode()
    with pytest.raises(StoreError, match="nothing was changed"):
        write_graphs(
            graphs,
            set(),
            send=store._post_quads,
            update=store._update_as,
            limit=1,  # one graph per request: the broken one comes after the others were sent
        )
    assert store.graph_names() == []


def test_a_failed_replacement_leaves_the_old_graphs(
    server: RunningServer, examples: PreparedLoad
) -> None:
    store = _store(server)
    write(examples, store)
    before = {g: store.graph_size(g) for g in examples.graphs}
    graphs = {g: quads_text(g, q) for g, q in examples.graphs.items()}
    session = next(g for g in graphs if g != vocab.ONTOLOGY_GRAPH)
    graphs[session] = f'<urn:s> <urn:p> "unterminated <{session}> .\n'.encode()
    fresh = "https://w3id.org/mbtkg/data/session/fresh-one"
    graphs[fresh] = f"<urn:s> <urn:p> <urn:o> <{fresh}> .\n".encode()
    with pytest.raises(StoreError, match="nothing was changed"):
        write_graphs(graphs, set(before), send=store._post_quads, update=store._update_as)
    assert {g: store.graph_size(g) for g in examples.graphs} == before
    assert fresh not in store.graph_names()


def test_virtuoso_keeps_the_per_graph_upload(
    tmp_path: Path, examples: PreparedLoad, monkeypatch: pytest.MonkeyPatch
) -> None:
    if which_virtuoso() is None:
        pytest.skip("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
    with virtuoso_server(tmp_path / "virtuoso") as running:
        store = _store(running)
        assert not store.takes_quads()
        sent = _count_requests(store, monkeypatch)
        write(examples, store)
        assert sent.count("POST store") == 0
        assert {g: store.graph_size(g) for g in examples.graphs} == {
            g: len(set(q)) for g, q in examples.graphs.items()
        }


def test_a_load_that_fails_after_uploads_began_removes_them(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mbtkg.stores.quads_upload as quads_upload

    store = _store(server)
    store.takes_quads()
    monkeypatch.setattr(quads_upload, "BATCH_BYTES", 1)  # every session is sent as it passes
    sent = _count_requests(store, monkeypatch)
    bad = tmp_path / "zz-bad.yaml"
    bad.write_text("session: {id: zz-bad}\nturns: []\n", encoding="utf-8")
    with pytest.raises(Exception, match="zz-bad"):
        load([*example_sessions(), bad], store, jobs=1)
    assert sent.count("POST store") >= 2  # sessions had gone to the server before the failure
    assert store.graph_names() == []
