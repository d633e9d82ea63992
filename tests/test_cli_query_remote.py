"""``mbtkg query --sparql`` on a remote store (a real ``oxigraph serve`` on loopback): SELECT,
ASK and CONSTRUCT answered by the server, the guard applied before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from servers import oxigraph_server, which_oxigraph

from mbtkg.cli import main
from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.stores import open_store

SUSAN = next(p for p in example_sessions() if p.stem == "susan-12")


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if which_oxigraph() is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    workdir: Path = tmp_path_factory.mktemp("remote-query")
    with oxigraph_server(workdir) as server:
        store = open_store(server.selector, settings=server.settings)
        load([SUSAN], store)
        store.close()
        yield server.selector


def _run(store: str, text: str, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["query", "--sparql", text, *extra, "--store", store])
    return result.exit_code, result.stdout, result.stderr


def test_select_and_ask(remote: str) -> None:
    code, out, err = _run(
        remote,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?t mbt:turnIndex ?i } }",
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out) == [{"n": 50}]
    code, out, _ = _run(remote, "ASK { GRAPH ?g { ?t mbt:turnIndex 50 } }")
    assert (code, out.strip()) == (0, "true")


def test_construct_comes_back_as_turtle(remote: str) -> None:
    code, out, err = _run(
        remote,
        "CONSTRUCT { ?s mbt:sessionId ?id } WHERE { GRAPH ?g { ?s mbt:sessionId ?id } }",
    )
    assert code == 0, err
    triples = list(ox.parse(out.encode(), format=ox.RdfFormat.TURTLE))
    assert [(t.subject.value, t.object.value) for t in triples] == [
        ("https://w3id.org/mbtkg/data/session/susan-12", "susan-12")
    ]


def test_service_is_refused_before_the_server_sees_it(remote: str) -> None:
    code, _, err = _run(remote, "SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")
    assert code == 2
    assert "may not use SERVICE" in err
