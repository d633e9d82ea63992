"""``mbtkg serve`` as a real process, asked by a separate HTTP client (urllib)."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from serve_process import mbtkg_serve

from mbtkg.cli import main
from mbtkg.loading import load
from mbtkg.queries import get_query
from mbtkg.resources import example_sessions
from mbtkg.serve import ServeOptions, is_loopback, make_server
from mbtkg.serve.page import examples
from mbtkg.stores import OxigraphStore, open_store

MAX_ROWS = 200
TIMEOUT = 5


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """A read-only ``mbtkg serve`` on the bundled examples (an empty memory store loads them)."""
    with mbtkg_serve("--max-rows", str(MAX_ROWS), "--timeout", str(TIMEOUT)) as base:
        yield base


def ask(
    url: str,
    *,
    method: str = "GET",
    params: dict[str, str] | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    accept: str = "application/sparql-results+json",
    extra: dict[str, str] | None = None,
) -> tuple[int, str, bytes]:
    """Send one request; return status, media type and body (error statuses too)."""
    target = f"{url}/sparql" + (f"?{urlencode(params)}" if params else "")
    headers = {"Accept": accept, **(extra or {})}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(target, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def plain(doc: dict[str, Any]) -> list[dict[str, str]]:
    """SPARQL JSON bindings as plain {variable: value} dictionaries."""
    return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]


def test_a_competency_query_gets_the_expected_rows(url: str) -> None:
    query = get_query("prementalizing-modes")
    reference = open_store("oxigraph:memory")
    load([p for p in example_sessions() if p.stem == "susan-12"], reference)
    expected = [
        {k: str(v) for k, v in row.items() if v is not None}
        for row in reference.select(query.bind(query.example)).values()
    ]
    assert expected, "the example must have an answer"
    status, media, body = ask(url, params={"query": query.bind(query.example)})
    assert status == 200
    assert media == "application/sparql-results+json"
    doc = json.loads(body)
    assert doc["head"]["vars"] == [
        "session_id",
        "mode",
        "first_turn",
        "last_turn",
        "annotator",
        "quote",
    ]
    assert plain(doc) == expected
    first = doc["results"]["bindings"][0]
    assert first["first_turn"]["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"


COUNT = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s a <https://w3id.org/mbtkg/ontology#Session> } }"


def test_form_post_and_direct_post_both_answer(url: str) -> None:
    sessions = str(len(example_sessions()))
    status, _, body = ask(
        url,
        method="POST",
        body=urlencode({"query": COUNT}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 200 and plain(json.loads(body)) == [{"n": sessions}]
    status, _, body = ask(
        url, method="POST", body=COUNT.encode(), content_type="application/sparql-query"
    )
    assert status == 200 and plain(json.loads(body)) == [{"n": sessions}]


def test_result_formats_follow_the_accept_header(url: str) -> None:
    sessions = str(len(example_sessions()))
    status, media, body = ask(url, params={"query": COUNT}, accept="text/csv")
    assert status == 200 and media == "text/csv"
    assert list(csv.reader(io.StringIO(body.decode()))) == [["n"], [sessions]]
    status, media, body = ask(url, params={"query": COUNT}, accept="text/tab-separated-values")
    assert media == "text/tab-separated-values"
    assert body.decode().splitlines() == [
        "?n",
        f'"{sessions}"^^<http://www.w3.org/2001/XMLSchema#integer>',
    ]
    status, media, body = ask(url, params={"query": COUNT}, accept="application/sparql-results+xml")
    assert media == "application/sparql-results+xml"
    assert (
        f'<binding name="n"><literal datatype="http://www.w3.org/2001/XMLSchema#integer">{sessions}</literal>'
        in body.decode()
    )
    status, media, body = ask(url, params={"query": "ASK { ?s ?p ?o }"})
    assert json.loads(body) == {"head": {}, "boolean": False}  # the default graph is empty


def test_service_is_refused(url: str) -> None:
    query = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    status, _, body = ask(url, params={"query": query})
    assert status == 400
    assert "may not use SERVICE" in body.decode()


@pytest.mark.parametrize("how", ["form", "direct"])
def test_updates_are_refused_when_read_only(url: str, how: str) -> None:
    update = "DROP ALL"
    if how == "form":
        status, _, body = ask(
            url,
            method="POST",
            body=urlencode({"update": update}).encode(),
            content_type="application/x-www-form-urlencoded",
        )
    else:
        status, _, body = ask(
            url, method="POST", body=update.encode(), content_type="application/sparql-update"
        )
    assert status == 403
    assert "read-only" in body.decode() and "--allow-update" in body.decode()
    status, _, body = ask(url, params={"query": COUNT})
    assert plain(json.loads(body)) == [{"n": str(len(example_sessions()))}], "nothing was dropped"


def test_an_over_large_answer_is_refused_not_cut(url: str) -> None:
    everything = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"
    status, _, body = ask(url, params={"query": everything})
    assert status == 400
    assert f"more than {MAX_ROWS} rows" in body.decode()
    status, _, body = ask(url, params={"query": everything + f" LIMIT {MAX_ROWS}"})
    assert status == 200 and len(plain(json.loads(body))) == MAX_ROWS


def test_a_bad_query_gets_a_sentence(url: str) -> None:
    status, _, body = ask(url, params={"query": "SELEKT * WHERE {}"})
    assert status == 400 and "does not parse" in body.decode()
    status, _, body = ask(url, params={})
    assert status == 400 and "no query" in body.decode()


def test_the_page_lists_every_competency_query(url: str) -> None:
    with urllib.request.urlopen(f"{url}/", timeout=30) as answer:
        page = answer.read().decode()
    assert "/static/yasgui/yasgui.min.js" in page and "cdn" not in page.lower()
    for example in examples():
        assert f'data-query="{example["name"]}"' in page
    with urllib.request.urlopen(f"{url}/static/yasgui/yasgui.min.js", timeout=30) as answer:
        assert answer.headers["Content-Type"].startswith("text/javascript")
        assert len(answer.read()) > 500_000


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_serving_a_remote_store_is_refused() -> None:
    result = CliRunner().invoke(main, ["serve", "--store", "sparql+http://127.0.0.1:9/sparql"])
    assert result.exit_code == 2
    assert "already a SPARQL server" in result.output


def test_construct_answers_in_turtle(url: str) -> None:
    query = (
        "CONSTRUCT { ?s a ?c } WHERE { GRAPH <https://w3id.org/mbtkg/data/session/susan-12> "
        "{ ?s a ?c . FILTER (?c = <https://w3id.org/mbtkg/ontology#Session>) } }"
    )
    status, media, body = ask(url, params={"query": query}, accept="text/turtle")
    assert status == 200 and media == "text/turtle"
    text = body.decode()
    assert "<https://w3id.org/mbtkg/data/session/susan-12>" in text
    assert "<https://w3id.org/mbtkg/ontology#Session>" in text


def test_allow_update_accepts_updates_but_never_load_or_service() -> None:
    """An in-process server (real HTTP on a free loopback port) over an empty memory store."""
    store = open_store("oxigraph:memory")
    assert isinstance(store, OxigraphStore)
    server = make_server(store, port=0, options=ServeOptions(allow_update=True, token="s3cret"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:

        def update(text: str, token: str = "s3cret") -> tuple[int, str]:
            status, _, body = ask(
                base,
                method="POST",
                body=text.encode(),
                content_type="application/sparql-update",
                extra={"Authorization": f"Bearer {token}"},
            )
            return status, body.decode()

        status, text = update("INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> 1 } }", "wrong")
        assert status == 401 and "Authorization: Bearer" in text
        assert update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 42 } }")[0] == 204
        status, _, body = ask(base, params={"query": "SELECT ?o { GRAPH <urn:g> { ?s ?p ?o } }"})
        assert plain(json.loads(body)) == [{"o": "42"}]
        status, text = update("LOAD <http://example.org/data.ttl>")
        assert status == 400 and "may not use LOAD" in text
        status, text = update(
            "INSERT { ?s ?p ?o } WHERE { SERVICE <http://x.example/> { ?s ?p ?o } }"
        )
        assert status == 400 and "may not use SERVICE" in text
        assert len(store.graph_names()) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_query_over_the_time_limit_gets_503(url: str) -> None:
    """Last in this module: the runaway query keeps a worker thread busy until the server stops."""
    slow = (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?a { ?s1 ?p1 ?o1 } GRAPH ?b { ?s2 ?p2 ?o2 } "
        "GRAPH ?c { ?s3 ?p3 ?o3 } }"
    )
    status, _, body = ask(url, params={"query": slow})
    assert status == 503
    assert f"time limit of {TIMEOUT} s" in body.decode()
