"""The analyses give the same answers on every backend: they read only through SPARQL.

The embedded Oxigraph store is the reference; a real ``oxigraph serve`` process and a real
Virtuoso 7 process (started on free loopback ports by ``tests/servers.py``) must agree with it.
A server backend skips, with the reason, when its binary is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from analysis_stores import analysis_store, prepared
from servers import oxigraph_server, virtuoso_server, which_oxigraph, which_virtuoso

from mbtkg.analysis import (
    agreement,
    follows,
    rupture_repairs,
    session_data,
    trajectory,
    transition_matrices,
)
from mbtkg.graphs import concept_hierarchy, session_graph
from mbtkg.loading import write
from mbtkg.stores import Store, open_store

ANALYSES: dict[str, Callable[[Store], Any]] = {
    "session data": lambda s: session_data(s, "susan-12"),
    "transitions": lambda s: transition_matrices(s, patient="P-x"),
    "ruptures": lambda s: rupture_repairs(s, session="susan-12"),
    "follows": lambda s: follows(s, session="susan-12", k=3),
    "trajectory": lambda s: trajectory(s, "P-x"),
    "agreement (kappa)": lambda s: agreement(s, "susan-12"),
    "agreement (alpha)": lambda s: agreement(s, "three-coders"),
    "hierarchy": lambda s: sorted(concept_hierarchy(s).edges),
    "session graph": lambda s: sorted(session_graph(s, "tiny-02").nodes(data="label")),
}


@pytest.fixture(scope="module", params=["oxigraph-server", "virtuoso"])
def server_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    if request.param == "oxigraph-server":
        if which_oxigraph() is None:
            pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
        launcher = oxigraph_server
    else:
        if which_virtuoso() is None:
            pytest.skip("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
        launcher = virtuoso_server
    workdir: Path = tmp_path_factory.mktemp(request.param)
    with launcher(workdir) as server:
        store = open_store(server.selector, settings=server.settings)
        write(prepared(), store)
        yield store
        store.close()


@pytest.mark.parametrize("name", list(ANALYSES))
def test_same_answer_as_the_embedded_store(server_store: Store, name: str) -> None:
    with analysis_store() as reference:
        expected = ANALYSES[name](reference)
    assert ANALYSES[name](server_store) == expected
