"""SERVICE and LOAD in disguise, sent through every path that runs user SPARQL.

Each variant names a real TCP listener on 127.0.0.1; the listener counts the connections it
accepts. A control query run straight on pyoxigraph proves that the engine would connect; every
path of mbtkg must refuse each variant before the engine sees it, so the count stays 0.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.errors import MbtkgError
from mbtkg.queries import run_query
from mbtkg.serve import ServeOptions, make_server
from mbtkg.sparql_guard import UnsafeSparqlError, check_sparql
from mbtkg.stores import OxigraphStore

TOKEN = "test-token"
U = "http://127.0.0.1:{port}/sparql"

#: Queries that reach out with SERVICE, each hidden another way. {u} is the listener's URL,
#: {base} its root; the name says what the variant tries.
QUERIES: dict[str, str] = {
    "plain": "SELECT * WHERE { SERVICE <{u}> { ?s ?p ?o } }",
    "lower case": "select * where { service <{u}> { ?s ?p ?o } }",
    "mixed case": "SeLeCt * WhErE { SeRvIcE <{u}> { ?s ?p ?o } }",
    "glued to a < in FILTER": "SELECT * WHERE { FILTER(1<2)SERVICE<{u}>{?x ?p ?o} }",
    "glued after a variable <": "SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<3)SERVICE<{u}>{?x ?p ?o} }",
    "no spaces": "SELECT*{SERVICE<{u}>{?s?p?o}}",
    "silent": "SELECT * WHERE { SERVICE SILENT <{u}> { ?s ?p ?o } }",
    "silent lower case": "select * { service silent <{u}> { ?s ?p ?o } }",
    "prefixed name": "PREFIX r: <{base}> SELECT * WHERE { SERVICE r:sparql { ?s ?p ?o } }",
    "prefix named service": "PREFIX service: <{base}> SELECT * { SERVICE service:sparql { ?s ?p ?o } }",
    "relative IRI with BASE": "BASE <{base}> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
    "comment between keyword and IRI": "SELECT * WHERE { SERVICE # look away\n <{u}> { ?s ?p ?o } }",
    "comment with quote and <": '# it\'s a "test" <\nSELECT * WHERE { SERVICE <{u}> { ?s ?p ?o } }',
    "single-quoted string before": "SELECT * WHERE { BIND('it\"s' AS ?x) SERVICE <{u}> { ?s ?p ?o } }",
    "string holding < before": 'SELECT * WHERE { BIND("<" AS ?x) SERVICE <{u}> { ?s ?p ?o } }',
    "long string before": 'SELECT * WHERE { BIND("""a "quote" >""" AS ?x) SERVICE <{u}> { ?s ?p ?o } }',
    "tabs and newlines": "SELECT * WHERE {\n\tSERVICE\n\t<{u}>\n\t{ ?s ?p ?o }\n}",
    "in a subquery": "SELECT * WHERE { { SELECT * WHERE { SERVICE <{u}> { ?s ?p ?o } } } }",
    "in OPTIONAL": "SELECT * WHERE { OPTIONAL { SERVICE <{u}> { ?s ?p ?o } } }",
    "in UNION": "SELECT * WHERE { { BIND(1 AS ?x) } UNION { SERVICE <{u}> { ?s ?p ?o } } }",
    "in MINUS": "SELECT * WHERE { BIND(1 AS ?x) MINUS { SERVICE <{u}> { ?x ?p ?o } } }",
    "in FILTER EXISTS": "SELECT * WHERE { BIND(1 AS ?x) FILTER EXISTS { SERVICE <{u}> { ?s ?p ?o } } }",
    "in FILTER NOT EXISTS": "SELECT * WHERE { FILTER NOT EXISTS { SERVICE <{u}> { ?s ?p ?o } } }",
    "in GRAPH": "SELECT * WHERE { GRAPH ?g { SERVICE <{u}> { ?s ?p ?o } } }",
    "deeply nested": (
        "SELECT * WHERE { OPTIONAL { { SELECT * WHERE { FILTER EXISTS { { BIND(1 AS ?y) } "
        "UNION { SERVICE SILENT <{u}> { ?s ?p ?o } } } } } } }"
    ),
    "variable from VALUES": "SELECT * WHERE { VALUES ?svc { <{u}> } SERVICE ?svc { ?s ?p ?o } }",
    "variable from BIND": "SELECT * WHERE { BIND(<{u}> AS ?svc) SERVICE ?svc { ?s ?p ?o } }",
    "glued after VALUES": "SELECT * WHERE { VALUES ?x { 1 }SERVICE<{u}>{ ?s ?p ?o } }",
    "after a triple": "SELECT * WHERE { ?a ?b ?c . SERVICE <{u}> { ?s ?p ?o } }",
    "ASK": "ASK { SERVICE <{u}> { ?s ?p ?o } }",
    "CONSTRUCT": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{u}> { ?s ?p ?o } }",
    "DESCRIBE": "DESCRIBE ?s WHERE { SERVICE <{u}> { ?s ?p ?o } }",
}

#: Text the two parsers read differently (found by running them against each other): refused
#: before parsing, whatever it holds. The first two hid SERVICE from rdflib while Oxigraph ran it.
DISAGREEMENTS: dict[str, str] = {
    "escaped quote ends a string for rdflib only": (
        'SELECT * WHERE { BIND("\\u0022 #" AS ?x) SERVICE <{u}> { ?s ?p ?o } BIND("""\n'
        ' AS ?x) } #"""AS ?y) }'
    ),
    "carriage return ends a comment for Oxigraph only": (
        "SELECT * WHERE { # a comment\r SERVICE <{u}> { ?s ?p ?o }\n }"
    ),
    "unicode escape in IRI": "SELECT * WHERE { SERVICE <{base}\\u0073parql> { ?s ?p ?o } }",
    "unicode escape in keyword": "SELECT * WHERE { \\u0053ERVICE <{u}> { ?s ?p ?o } }",
    "long unicode escape": "SELECT * WHERE { SERVICE <{base}\\U00000073parql> { ?s ?p ?o } }",
    "form feed": "SELECT * WHERE {\x0c SERVICE <{u}> { ?s ?p ?o } }",
}

#: Updates that reach out with LOAD or SERVICE.
UPDATES: dict[str, str] = {
    "LOAD": "LOAD <{u}>",
    "load lower case": "load <{u}>",
    "LOAD SILENT": "LOAD SILENT <{u}>",
    "LOAD INTO GRAPH": "LOAD <{u}> INTO GRAPH <urn:g>",
    "LOAD prefixed name": "PREFIX r: <{base}> LOAD r:sparql",
    "LOAD after a comment": '# a "quote\n LOAD<{u}>',
    "LOAD as second operation": "INSERT DATA { <urn:a> <urn:b> 1 } ; LOAD <{u}>",
    "INSERT WHERE SERVICE": "INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { SERVICE <{u}> { ?s ?p ?o } }",
    "DELETE WHERE SERVICE SILENT": "DELETE { ?s ?p ?o } WHERE { SERVICE SILENT <{u}> { ?s ?p ?o } }",
    "WITH ... OPTIONAL SERVICE": (
        "WITH <urn:g> DELETE { ?s ?p ?o } INSERT { ?s ?p ?o } "
        "WHERE { OPTIONAL { SERVICE <{u}> { ?s ?p ?o } } }"
    ),
    "INSERT glued FILTER SERVICE": "INSERT { ?s ?p ?o } WHERE { FILTER(1<2)SERVICE<{u}>{ ?s ?p ?o } }",
}

_HEADER = "# title: a test query\n# question: does it reach out?\n"


class Listener:
    """A TCP listener on 127.0.0.1 that accepts and counts connections, answering nothing."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def fill(template: str, listener: Listener) -> str:
    base = f"http://127.0.0.1:{listener.port}/"
    return template.replace("{u}", base + "sparql").replace("{base}", base)


@pytest.fixture(scope="module")
def store() -> OxigraphStore:
    store = OxigraphStore()
    store.raw.add(
        ox.Quad(
            ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("1"), ox.NamedNode("urn:g")
        )
    )
    return store


@pytest.fixture(scope="module")
def endpoint(store: OxigraphStore) -> Iterator[str]:
    options = ServeOptions(allow_update=True, token=TOKEN, timeout=20)
    server = make_server(store, port=0, options=options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


def http(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_listener_sees_what_the_bare_engine_does(listener: Listener) -> None:
    """The control: without mbtkg's guard, Oxigraph connects to the listener."""
    before = listener.connections
    query = fill(QUERIES["glued to a < in FILTER"], listener)
    # the listener answers nothing: the engine reports a failed call
    with contextlib.suppress(OSError):
        list(ox.Store().query(query))  # type: ignore[arg-type]
    assert listener.connections > before


def refused_everywhere_as_a_query(
    text: str, store: OxigraphStore, endpoint: str, tmp_path: Path, expected: str
) -> None:
    with pytest.raises(UnsafeSparqlError, match=expected):
        check_sparql(text)
    with pytest.raises(UnsafeSparqlError, match=expected):
        store.query_raw(text)
    query_file = tmp_path / "variant.rq"
    query_file.write_text(_HEADER + text + "\n", encoding="utf-8")
    with pytest.raises(UnsafeSparqlError, match=expected):
        run_query(store, str(query_file))
    result = CliRunner().invoke(main, ["query", str(query_file)])
    assert result.exit_code == 2, result.output
    assert re.search(expected, result.output) and str(query_file) in result.output
    answers = [
        http(f"{endpoint}?{urlencode({'query': text})}"),
        http(
            endpoint,
            data=urlencode({"query": text}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        http(endpoint, data=text.encode(), headers={"Content-Type": "application/sparql-query"}),
    ]
    for status, body in answers:
        assert status == 400 and re.search(expected, body), (status, body)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_service_is_refused_on_every_path(
    name: str, listener: Listener, store: OxigraphStore, endpoint: str, tmp_path: Path
) -> None:
    before = listener.connections
    refused_everywhere_as_a_query(
        fill(QUERIES[name], listener), store, endpoint, tmp_path, "may not use SERVICE"
    )
    assert listener.connections == before


@pytest.mark.parametrize("name", sorted(DISAGREEMENTS))
def test_text_the_parsers_read_differently_is_refused_on_every_path(
    name: str, listener: Listener, store: OxigraphStore, endpoint: str, tmp_path: Path
) -> None:
    before = listener.connections
    # a query file is read with universal newlines: there the lone carriage return is already a
    # line end, the comment ends for both parsers, and SERVICE is seen
    expected = "engines disagree" + ("|may not use SERVICE" if "carriage" in name else "")
    refused_everywhere_as_a_query(
        fill(DISAGREEMENTS[name], listener), store, endpoint, tmp_path, expected
    )
    assert listener.connections == before


def test_the_first_disagreements_did_reach_the_listener_on_the_bare_engine(
    listener: Listener,
) -> None:
    """Control: rdflib parses both texts without seeing a SERVICE, Oxigraph connects."""
    from rdflib.plugins.sparql.parser import parseQuery

    for name in list(DISAGREEMENTS)[:2]:
        text = fill(DISAGREEMENTS[name], listener)
        assert "ServiceGraphPattern" not in repr(parseQuery(text))
        before = listener.connections
        with contextlib.suppress(OSError):
            list(ox.Store().query(text))  # type: ignore[arg-type]
        assert listener.connections > before, name


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_load_and_service_in_updates_are_refused_on_every_path(
    name: str, listener: Listener, store: OxigraphStore, endpoint: str, tmp_path: Path
) -> None:
    before = listener.connections
    text = fill(UPDATES[name], listener)
    keyword = "LOAD" if "LOAD" in name.upper() else "SERVICE"
    with pytest.raises(UnsafeSparqlError, match=f"may not use {keyword}"):
        store.update(text)
    status, body = http(
        endpoint,
        data=text.encode(),
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
    )
    assert status == 400 and f"may not use {keyword}" in body, body
    for status, body in (
        http(f"{endpoint}?{urlencode({'update': text})}"),
        http(
            endpoint,
            data=urlencode({"update": text}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ):
        assert status == 403 and "application/sparql-update" in body
    # and sent where only queries are read, it is refused as an update
    refused_everywhere_as_a_query(text, store, endpoint, tmp_path, "this is an update")
    assert listener.connections == before
    assert [q.object.value for q in store.raw] == ["1"], "the store is unchanged"


def test_the_corpus_is_large_enough() -> None:
    assert len(QUERIES) + len(UPDATES) + len(DISAGREEMENTS) >= 30


def test_text_rdflib_cannot_read_is_refused_even_if_oxigraph_runs_it(
    store: OxigraphStore, endpoint: str
) -> None:
    """Fail closed: RDF-star syntax runs on Oxigraph but is not SPARQL 1.1, so it is refused."""
    star = "SELECT * WHERE { << ?s ?p ?o >> ?q ?r }"
    ox.Store().query(star)  # Oxigraph reads it
    with pytest.raises(UnsafeSparqlError, match="does not parse as SPARQL 1.1"):
        store.query_raw(star)
    status, body = http(f"{endpoint}?{urlencode({'query': star})}")
    assert status == 400 and "does not parse" in body


@pytest.mark.parametrize(
    "text",
    [
        "# SERVICE <http://127.0.0.1:9/> in a comment\nSELECT * WHERE { ?s ?p ?o }",
        'SELECT * WHERE { BIND("SERVICE <http://127.0.0.1:9/> { }" AS ?x) }',
        "SELECT * WHERE { BIND('LOAD <http://127.0.0.1:9/>' AS ?x) }",
        "PREFIX service: <urn:x:> SELECT * WHERE { ?s service:load ?o }",
        "SELECT * WHERE {\r\n  # Windows line ends\r\n  ?s ?p ?o\r\n}",
        "SELECT ?service WHERE { ?service ?p ?o FILTER(1<2) }",
    ],
)
def test_the_words_alone_are_not_refused(text: str, store: OxigraphStore, endpoint: str) -> None:
    check_sparql(text)
    store.query_raw(text)
    status, body = http(
        f"{endpoint}?{urlencode({'query': text})}", headers={"Accept": "application/json"}
    )
    assert status == 200 and "head" in json.loads(body)


def test_ordinary_updates_still_run_through_the_store(tmp_path: Path) -> None:
    target = OxigraphStore()
    target.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 'LOAD <http://x/>' } }")
    assert [q.object.value for q in target.raw] == ["LOAD <http://x/>"]


def test_a_refusal_is_an_mbtkg_error() -> None:
    assert issubclass(UnsafeSparqlError, MbtkgError)


def test_a_served_query_cannot_reach_the_network_even_past_the_check(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: with the parse check switched off, a SERVICE query sent to the endpoint
    reaches the engine, and the engine, in a worker without network, still connects nowhere."""
    from mbtkg.serve.worker import network_sandbox_available

    if not network_sandbox_available():
        pytest.skip("this system allows no network namespace (unshare), as root or unprivileged")
    import mbtkg.stores.oxigraph as oxigraph_module

    monkeypatch.setattr(oxigraph_module, "check_sparql", lambda text, update=False: None)
    store = OxigraphStore()
    server = make_server(store, port=0, options=ServeOptions(timeout=20))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        before = listener.connections
        text = fill(QUERIES["plain"], listener)
        status, body = http(
            f"http://127.0.0.1:{server.server_address[1]}/sparql?{urlencode({'query': text})}"
        )
        assert status == 400 and "unreachable" in body.lower(), body
        assert listener.connections == before
    finally:
        server.shutdown()
        server.server_close()
