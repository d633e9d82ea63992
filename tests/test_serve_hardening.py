"""``mbtkg serve`` as a hardened local service: Host and Origin, updates, malformed requests,
runaway queries stopped, and many clients at once. Real sockets on loopback throughout."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from serve_process import mbtkg_serve_process

from mbtkg.errors import StoreError
from mbtkg.loading import load
from mbtkg.resources import example_sessions
from mbtkg.serve import ServeOptions, make_server
from mbtkg.serve.http_checks import allowed_hosts
from mbtkg.stores import OxigraphStore

TOKEN = "hardening-token"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
#: A cartesian product of every triple with itself, three times over: runs for hours.
RUNAWAY_COUNT = (
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?a { ?s1 ?p1 ?o1 } GRAPH ?b { ?s2 ?p2 ?o2 } "
    "GRAPH ?c { ?s3 ?p3 ?o3 } }"
)
RUNAWAY_SORT = (
    "SELECT * WHERE { GRAPH ?a { ?s1 ?p1 ?o1 } GRAPH ?b { ?s2 ?p2 ?o2 } GRAPH ?c { ?s3 ?p3 ?o3 } } "
    "ORDER BY ?o1 ?o2 ?o3 LIMIT 1"
)


class Server:
    """An in-process endpoint on a free loopback port over a memory store of the examples."""

    def __init__(self, options: ServeOptions) -> None:
        self.store = OxigraphStore()
        load(example_sessions(), self.store)
        self.server = make_server(self.store, port=0, options=options)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def quads(self) -> int:
        return len(self.store.raw)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def served() -> Iterator[Server]:
    options = ServeOptions(
        allow_update=True, token=TOKEN, timeout=20, socket_timeout=1.0, max_body=10_000
    )
    server = Server(options)
    yield server
    server.close()


def raw(port: int, request: bytes, *, timeout: float = 30) -> tuple[int, str]:
    """Send bytes as they are; the status (0 when the server closed without answering) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        chunks = []
        while True:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    answer = b"".join(chunks).decode("utf-8", "replace")
    if not answer:
        return 0, ""
    head, _, body = answer.partition("\r\n\r\n")
    return int(head.split()[1]), body


def request(
    port: int,
    method: str,
    target: str,
    *,
    host: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, str]:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None and "Content-Length" not in (headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))


def query_target(text: str) -> str:
    return "/sparql?" + urlencode({"query": text})


# -- Host -------------------------------------------------------------------------------------


def test_the_allowed_hosts_are_loopback_names_with_the_bound_port() -> None:
    hosts = allowed_hosts("127.0.0.1", 7878)
    assert hosts == {"localhost:7878", "127.0.0.1:7878", "[::1]:7878"}
    assert "192.168.1.4:7878" in allowed_hosts("192.168.1.4", 7878)
    assert "evil.example:7878" not in allowed_hosts("0.0.0.0", 7878)


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_loopback_hosts_are_answered(served: Server, host: str) -> None:
    status, body = request(
        served.port, "GET", query_target(COUNT_ALL), host=host.format(port=served.port)
    )
    assert status == 200 and json.loads(body)["results"]["bindings"]


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("evil.example:{port}", "/sparql?query=ASK%7B%7D"),
        ("evil.example", "/"),
        ("127.0.0.1:1", "/sparql?query=ASK%7B%7D"),
        ("127.0.0.1.evil.example:{port}", "/static/yasgui/yasgui.min.js"),
    ],
)
def test_a_foreign_host_is_refused(served: Server, host: str, path: str) -> None:
    """DNS rebinding: the attacker's page talks to 127.0.0.1 under its own name."""
    status, body = request(served.port, "GET", path, host=host.format(port=served.port))
    assert status == 403 and "does not name this server" in body


def test_a_request_without_host_is_refused(served: Server) -> None:
    status, _ = raw(served.port, b"GET /sparql?query=ASK%7B%7D HTTP/1.0\r\n\r\n")
    assert status == 403


# -- Origin -----------------------------------------------------------------------------------


def test_a_same_origin_browser_request_is_answered(served: Server) -> None:
    origin = f"http://127.0.0.1:{served.port}"
    status, _ = request(
        served.port,
        "POST",
        "/sparql",
        headers={
            "Origin": origin,
            "Sec-Fetch-Site": "same-origin",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=urlencode({"query": COUNT_ALL}).encode(),
    )
    assert status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://127.0.0.1:{port}"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
@pytest.mark.parametrize("how", ["GET", "form", "direct"])
def test_a_cross_site_browser_request_is_refused(
    served: Server, headers: dict[str, str], how: str
) -> None:
    sent = {k: v.format(port=served.port) for k, v in headers.items()}
    if how == "GET":
        status, body = request(served.port, "GET", query_target(COUNT_ALL), headers=sent)
    elif how == "form":
        sent["Content-Type"] = "application/x-www-form-urlencoded"
        status, body = request(
            served.port,
            "POST",
            "/sparql",
            headers=sent,
            body=urlencode({"query": COUNT_ALL}).encode(),
        )
    else:
        sent["Content-Type"] = "application/sparql-query"
        status, body = request(
            served.port, "POST", "/sparql", headers=sent, body=COUNT_ALL.encode()
        )
    assert status == 403 and "refused" in body


# -- updates ----------------------------------------------------------------------------------

DROP = "DROP ALL"


def test_updates_other_than_a_token_bearing_sparql_update_post_change_nothing(
    served: Server,
) -> None:
    before = served.quads()
    assert before > 0
    auth = {"Authorization": f"Bearer {TOKEN}"}
    form = {"Content-Type": "application/x-www-form-urlencoded", **auth}
    attempts = {
        "GET ?update=": request(
            served.port, "GET", "/sparql?" + urlencode({"update": DROP}), headers=auth
        ),
        "GET /update": request(
            served.port, "GET", "/update?" + urlencode({"update": DROP}), headers=auth
        ),
        "form post": request(
            served.port, "POST", "/sparql", headers=form, body=urlencode({"update": DROP}).encode()
        ),
        "form post to /update": request(
            served.port, "POST", "/update", headers=form, body=urlencode({"update": DROP}).encode()
        ),
        "cross-site form post": request(
            served.port,
            "POST",
            "/sparql",
            headers={**form, "Origin": "http://evil.example"},
            body=urlencode({"update": DROP}).encode(),
        ),
        "text/plain post": request(
            served.port,
            "POST",
            "/sparql",
            headers={"Content-Type": "text/plain", **auth},
            body=DROP.encode(),
        ),
        "no token": request(
            served.port,
            "POST",
            "/sparql",
            headers={"Content-Type": "application/sparql-update"},
            body=DROP.encode(),
        ),
        "wrong token": request(
            served.port,
            "POST",
            "/sparql",
            headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer guess"},
            body=DROP.encode(),
        ),
        "token, foreign Origin": request(
            served.port,
            "POST",
            "/sparql",
            headers={
                "Content-Type": "application/sparql-update",
                "Origin": "http://evil.example",
                **auth,
            },
            body=DROP.encode(),
        ),
    }
    statuses = {name: status for name, (status, _) in attempts.items()}
    assert statuses == {
        "GET ?update=": 403,
        "GET /update": 403,
        "form post": 403,
        "form post to /update": 403,
        "cross-site form post": 403,
        "text/plain post": 415,
        "no token": 401,
        "wrong token": 401,
        "token, foreign Origin": 403,
    }
    assert served.quads() == before, "nothing changed in the store"


def test_a_token_bearing_sparql_update_post_does_change_the_store(served: Server) -> None:
    before = served.quads()
    status, _ = request(
        served.port,
        "POST",
        "/sparql",
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
        body=b"INSERT DATA { GRAPH <urn:test:extra> { <urn:a> <urn:b> 1 } }",
    )
    assert status == 204 and served.quads() == before + 1
    served.store.drop_graph("urn:test:extra")


def test_a_read_only_server_refuses_updates_even_with_a_token() -> None:
    server = Server(ServeOptions(token=TOKEN))
    try:
        before = server.quads()
        status, body = request(
            server.port,
            "POST",
            "/sparql",
            headers={
                "Content-Type": "application/sparql-update",
                "Authorization": f"Bearer {TOKEN}",
            },
            body=DROP.encode(),
        )
        assert status == 403 and "read-only" in body
        assert server.quads() == before
    finally:
        server.close()


# -- malformed and slow requests --------------------------------------------------------------


def post_head(port: int, length: str, content_type: str = "application/sparql-query") -> bytes:
    return (
        f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "+5", " ", "99999999999999999999999"])
def test_a_malformed_content_length_gets_400(served: Server, length: str) -> None:
    status, body = raw(served.port, post_head(served.port, length) + b"ASK {}")
    assert status == 400 and "Content-Length" in body


def test_a_body_over_the_limit_gets_413_unread(served: Server) -> None:
    status, body = raw(served.port, post_head(served.port, "10001"))
    assert status == 413 and "limit of 10000" in body


def test_a_post_without_a_length_gets_411(served: Server) -> None:
    head = f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nContent-Type: application/sparql-query\r\n\r\n"
    status, _ = raw(served.port, head.encode())
    assert status == 411


def test_a_body_shorter_than_announced_gets_408(served: Server) -> None:
    """The client announces 100 bytes, sends 6 and waits: the socket timeout ends the wait."""
    status, body = raw(served.port, post_head(served.port, "100") + b"ASK {}")
    assert status == 408 and "did not arrive" in body


def test_an_idle_connection_is_closed_by_the_server(served: Server) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as conn:
        assert conn.recv(1024) == b""  # closed by the server, not by our 30 s timeout


def test_too_many_headers_are_refused(served: Server) -> None:
    head = f"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n" + "".join(
        f"X-H{i}: v\r\n" for i in range(150)
    )
    status, _ = raw(served.port, (head + "\r\n").encode())
    assert status == 431


def test_the_page_still_loads(served: Server) -> None:
    status, body = request(served.port, "GET", "/")
    assert status == 200 and "/static/yasgui/yasgui.min.js" in body


# -- many clients -----------------------------------------------------------------------------


def test_twenty_clients_at_once_all_get_an_answer(served: Server) -> None:
    """20 clients, each sending a mix of good, bad and refused requests, all at once: no
    connection error, and every request answered with one of the documented statuses."""
    statuses: Counter[int] = Counter()
    malformed: Counter[int] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(20)
    port = served.port

    def client(i: int) -> None:
        mix = [
            lambda: request(port, "GET", query_target(COUNT_ALL)),
            lambda: request(port, "GET", query_target("SELEKT nothing")),
            lambda: raw(port, post_head(port, "abc")),
            lambda: request(
                port,
                "POST",
                "/sparql",
                headers={"Content-Type": "application/sparql-query"},
                body=COUNT_ALL.encode(),
            ),
            lambda: request(
                port,
                "GET",
                query_target(f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT {i + 1}"),
            ),
        ]
        start.wait()
        for k, send in enumerate(mix):
            try:
                status, _ = send()
            except OSError as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            with lock:
                statuses[status] += 1
                if k == 2:
                    malformed[status] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(statuses.values()) == 100
    assert set(statuses) <= {200, 400, 408, 413, 429, 503}, statuses
    assert malformed == {400: 20}, "a malformed request is answered 400 without a query slot"
    assert statuses[200] > 0


# -- runaway queries --------------------------------------------------------------------------


def children(pid: int) -> set[int]:
    """The child processes of ``pid``, read from each of its threads' ``children`` file; a
    thread that ends between the listing and the read is passed over (a CI run once failed
    with FileNotFoundError on such a thread)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "children").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found |= {int(p) for p in text.split()}
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    ("query", "limits", "message"),
    [
        (RUNAWAY_COUNT, ["--timeout", "3"], "time limit of 3 s"),
        (RUNAWAY_SORT, ["--timeout", "60", "--max-memory", "200"], "memory limit of 200 MiB"),
    ],
    ids=["time", "memory"],
)
def test_a_runaway_query_is_stopped_and_its_worker_is_gone(
    query: str, limits: list[str], message: str
) -> None:
    with mbtkg_serve_process(*limits) as (url, process):
        port = urlsplit(url).port
        assert port is not None
        box: dict[str, tuple[int, str]] = {}
        sender = threading.Thread(
            target=lambda: box.setdefault("answer", request(port, "GET", query_target(query)))
        )
        sender.start()
        workers: set[int] = set()
        while sender.is_alive() and not workers:
            workers = children(process.pid)
            sender.join(0.005)
        sender.join()
        status, body = box["answer"]
        assert status == 503 and message in body, body
        assert len(workers) == 1, "the query ran in one worker process"
        (worker,) = workers
        assert not alive(worker), "the worker was killed and reaped"
        assert children(process.pid) == set()
        status, body = request(port, "GET", query_target(COUNT_ALL))
        assert status == 200 and int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0


def test_a_runaway_update_is_stopped_and_changes_nothing() -> None:
    """On a memory store an update is rehearsed in a worker first: a cartesian INSERT runs into
    the time limit there, is killed, and never reaches the store."""
    server = Server(ServeOptions(allow_update=True, token=TOKEN, timeout=2))
    try:
        before = server.quads()
        mine = children(os.getpid())
        status, body = request(
            server.port,
            "POST",
            "/sparql",
            headers={
                "Content-Type": "application/sparql-update",
                "Authorization": f"Bearer {TOKEN}",
            },
            body=(
                b"INSERT { GRAPH <urn:test:big> { ?s1 <urn:p> ?o3 } } WHERE { GRAPH ?a { ?s1 ?p1 ?o1 } "
                b"GRAPH ?b { ?s2 ?p2 ?o2 } GRAPH ?c { ?s3 ?p3 ?o3 } }"
            ),
        )
        assert status == 503 and "time limit of 2 s" in body
        assert server.quads() == before
        assert children(os.getpid()) == mine, "no worker left behind"
        status, _ = request(server.port, "GET", query_target(COUNT_ALL))
        assert status == 200
    finally:
        server.close()


def test_a_disk_store_is_queried_through_the_workers(tmp_path: Path) -> None:
    writer = OxigraphStore(tmp_path / "store")
    load([p for p in example_sessions() if p.stem == "susan-12"], writer)
    quads = len(writer.raw)
    writer.close()
    del writer
    store = OxigraphStore(tmp_path / "store", read_only=True)
    server = make_server(store, port=0, options=ServeOptions(timeout=20))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        for _ in range(3):
            status, body = request(port, "GET", query_target(COUNT_ALL))
            assert status == 200, body
            assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) == quads > 0
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def test_a_disk_store_open_for_writing_is_not_served(tmp_path: Path) -> None:
    """Workers are forked from the server; forked next to a writer's background threads, one
    can wait forever for a lock such a thread held (see the test below). So the endpoint
    serves a disk store only from a read-only handle, and says so."""
    store = OxigraphStore(tmp_path / "store")
    try:
        with pytest.raises(StoreError, match=r"open for writing.*served read-only.*read_only=True"):
            make_server(store, port=0, options=ServeOptions(timeout=20))
    finally:
        store.close()


#: Updates sent while two clients query without pause. Before the fix, a worker forked while
#: the server's writer was flushing or compacting hung until the time limit about once in
#: every five updates (16 queries of 1,026 in a 90 s run with 83 updates).
UPDATES_WHILE_QUERIED = 40


def test_updates_to_a_served_disk_store_never_leave_a_query_worker_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: with --allow-update on a disk store, the server kept the store open for
    writing, and a worker forked while a RocksDB background thread (a flush, a compaction)
    held the engine's lock waited for it until the time limit: 503. Now each update opens a
    writer of its own and closes it, its background work done, before any worker is forked."""
    monkeypatch.setenv("MBTKG_SERVE_TOKEN", TOKEN)
    OxigraphStore(tmp_path / "store").close()  # `mbtkg serve` serves a store, never creates one
    selector = f"oxigraph:{tmp_path / 'store'}"
    with mbtkg_serve_process("--store", selector, "--allow-update", "--timeout", "5") as (url, _):
        port = urlsplit(url).port
        assert port is not None
        done = threading.Event()
        statuses: Counter[int] = Counter()
        refusals: list[str] = []

        def query_until_done() -> None:
            while not done.is_set():
                status, body = request(port, "GET", query_target(COUNT_ALL))
                statuses[status] += 1
                if status != 200:
                    refusals.append(body)

        clients = [threading.Thread(target=query_until_done) for _ in range(2)]
        for client in clients:
            client.start()
        headers = {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"}
        try:
            for i in range(UPDATES_WHILE_QUERIED):
                triples = " ".join(f"<urn:s{i}-{k}> <urn:p> {k} ." for k in range(20))
                update = f"INSERT DATA {{ GRAPH <urn:test:u{i}> {{ {triples} }} }}".encode()
                status, body = request(port, "POST", "/sparql", headers=headers, body=update)
                assert status == 204, body
        finally:
            done.set()
            for client in clients:
                client.join()
        assert refusals == []
        assert statuses[200] >= UPDATES_WHILE_QUERIED
        status, body = request(port, "GET", query_target(COUNT_ALL))
        assert status == 200, body
        count = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
        assert count == 20 * UPDATES_WHILE_QUERIED


def test_the_command_takes_its_update_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MBTKG_SERVE_TOKEN", "from-the-environment")
    with mbtkg_serve_process("--allow-update") as (url, _):
        port = urlsplit(url).port
        assert port is not None
        insert = b"INSERT DATA { GRAPH <urn:test:env> { <urn:a> <urn:b> 1 } }"
        ask_graph = query_target("ASK { GRAPH <urn:test:env> { ?s ?p ?o } }")
        update = {"Content-Type": "application/sparql-update"}
        status, _ = request(port, "POST", "/sparql", headers=update, body=insert)
        assert status == 401
        assert json.loads(request(port, "GET", ask_graph)[1])["boolean"] is False
        auth = {**update, "Authorization": "Bearer from-the-environment"}
        status, _ = request(port, "POST", "/sparql", headers=auth, body=insert)
        assert status == 204
        assert json.loads(request(port, "GET", ask_graph)[1])["boolean"] is True


def test_a_worker_dies_with_its_server() -> None:
    """SIGKILL to the server (no clean-up runs) still ends the worker: Linux kills it too."""
    with mbtkg_serve_process("--timeout", "120") as (url, process):
        port = urlsplit(url).port
        assert port is not None
        sender = threading.Thread(
            target=lambda: request(port, "GET", query_target(RUNAWAY_COUNT)), daemon=True
        )
        sender.start()
        workers: set[int] = set()
        while sender.is_alive() and not workers:
            workers = children(process.pid)
            sender.join(0.005)
        assert len(workers) == 1, "the query ran in one worker process"
        (worker,) = workers
        process.kill()
        process.wait(timeout=30)
        for _ in range(2000):  # the kernel delivers the signal at once; allow a busy machine
            if not alive(worker):
                break
            threading.Event().wait(0.01)
        assert not alive(worker)
