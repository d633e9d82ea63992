"""``mbtkg serve`` on a disk store does not lock it (read-only unless --allow-update): another
process runs ``mbtkg query`` on the same store while it is served. Real ``mbtkg serve``
subprocess on loopback, real ``mbtkg query`` subprocesses, real Oxigraph on disk."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from serve_process import mbtkg_serve

from mbtkg.errors import StoreError
from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.stores import open_store

SUSAN = next(p for p in example_sessions() if p.stem == "susan-12")
TURN_INDEX = "https://w3id.org/mbtkg/ontology#turnIndex"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?t mbt:turnIndex ?i } }"


@pytest.fixture()
def store_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "kg"
    store = open_store(f"oxigraph:{directory}")
    try:
        load([SUSAN], store)
    finally:
        store.close()
    return directory


def _turns(directory: Path) -> int:
    """Turns counted through pyoxigraph's index, read-only (no SPARQL, no lock)."""
    raw = ox.Store.read_only(str(directory))
    return sum(1 for _ in raw.quads_for_pattern(None, ox.NamedNode(TURN_INDEX), None))


def _cli_query(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from mbtkg.cli import main; main()", "query", "--sparql", COUNT]
        + ["--format", "json", "--store", f"oxigraph:{directory}"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _endpoint_count(url: str) -> int:
    query = urllib.parse.urlencode({"query": COUNT.replace("mbt:turnIndex", f"<{TURN_INDEX}>")})
    request = urllib.request.Request(
        f"{url}/sparql?{query}", headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        data = json.loads(answer.read())
    return int(data["results"]["bindings"][0]["n"]["value"])


def test_query_runs_on_a_store_while_it_is_served(store_dir: Path) -> None:
    expected = _turns(store_dir)
    assert expected == 50
    with mbtkg_serve("--store", f"oxigraph:{store_dir}") as url:
        assert _endpoint_count(url) == expected
        result = _cli_query(store_dir)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == [{"n": expected}]
        assert _endpoint_count(url) == expected  # the server still answers after it


def test_with_updates_allowed_the_store_stays_locked_and_says_so(store_dir: Path) -> None:
    """--allow-update writes, so the store is opened for writing and holds its lock: a second
    process is told plainly (exit 2), never given a half-written view."""
    with mbtkg_serve("--store", f"oxigraph:{store_dir}", "--allow-update"):
        result = _cli_query(store_dir)
    assert result.returncode == 2
    assert "in use by another process" in result.stderr


def test_with_updates_allowed_the_lock_is_held_again_after_each_update(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server serves the store read-only and opens a writer for each update alone (a query
    worker forked next to a live writer can hang); it hands that writer the store's lock and
    takes it back, so another process is still refused after an update, and the server's next
    answers see the update. Once the server stops, the store opens for writing again."""
    monkeypatch.setenv("MBTKG_SERVE_TOKEN", "lock-test")
    turn = "<https://w3id.org/mbtkg/data/test/extra-turn>"
    insert = f"INSERT DATA {{ GRAPH <urn:test:extra> {{ {turn} <{TURN_INDEX}> 51 }} }}"
    with mbtkg_serve("--store", f"oxigraph:{store_dir}", "--allow-update") as url:
        request = urllib.request.Request(
            f"{url}/sparql",
            data=insert.encode(),
            method="POST",
            headers={
                "Content-Type": "application/sparql-update",
                "Authorization": "Bearer lock-test",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 204
        assert _endpoint_count(url) == 51
        result = _cli_query(store_dir)
        assert result.returncode == 2
        assert "in use by another process" in result.stderr
    result = _cli_query(store_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": 51}]


def test_a_read_only_store_refuses_writes(store_dir: Path) -> None:
    store = open_store(f"oxigraph:{store_dir}", read_only=True)
    try:
        with pytest.raises(StoreError, match="opened read-only; nothing was changed"):
            store.drop_graph("https://w3id.org/mbtkg/data/session/susan-12")
    finally:
        store.close()
    assert _turns(store_dir) == 50
