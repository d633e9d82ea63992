"""A remote store facing a hostile SPARQL server: a real socket server on 127.0.0.1, written here.

The server sends endless or dripping answers, broken and deeply nested JSON, redirects to
another port, escape sequences in error bodies and 401s. The client must end every request with
a StoreError (or QueryError) that names no secret, within its limits, and never follow the
request elsewhere.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from mbtkg.cli import main
from mbtkg.errors import QueryError, StoreError
from mbtkg.stores import open_store
from mbtkg.stores.http_client import HttpClient
from mbtkg.stores.remote_url import redact
from mbtkg.stores.settings import RemoteSettings, settings_from_env

ASK_TRUE = b'{"boolean": true}'
EMPTY_SELECT = b'{"head": {"vars": ["s"]}, "results": {"bindings": []}}'
#: Answers that are JSON, or nearly, but not SPARQL results.
BAD_JSON = {
    "deep-list": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "a-list": b"[1, 2, 3]",
    "a-string": b'"results"',
    "results-number": b'{"head": {"vars": ["s"]}, "results": 1}',
    "bindings-string": b'{"head": {"vars": ["s"]}, "results": {"bindings": "x"}}',
    "binding-number": b'{"head": {"vars": ["s"]}, "results": {"bindings": [1]}}',
    "value-number": b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": 7}]}}',
    "value-list": b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": {"value": []}}]}}',
    "vars-objects": b'{"head": {"vars": [{}]}, "results": {"bindings": []}}',
    "head-list": b'{"head": [], "results": {"bindings": []}}',
    "datatype-number": (
        b'{"head": {"vars": ["s"]}, "results": {"bindings": '
        b'[{"s": {"type": "literal", "value": "1", "datatype": 5}}]}}'
    ),
    "not-utf8": b'{"head": {"vars": ["s"]}, "results": {"bindings": [\xff\xfe]}}',
    "truncated": b'{"head": {"vars": ["s"]}, "results": {"bindi',
    "nothing": b"",
    "html": b"<html><body>hello</body></html>",
    "no-members": b"{}",
}
#: Escape sequences and formatting characters a server could try to put on the terminal.
HOSTILE_TEXT = "\x1b[2J\x1b]0;owned\x07 boom \u202eevil\u202c \x00\x9b31m tail"


@dataclass
class Hostile:
    """What the server saw, and a switch that ends its slow answers."""

    port: int = 0
    requests: list[str] = field(default_factory=list)
    #: (method, path) of each request, in order.
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: How each drip ended: "complete" (all sent) or "cut" (the client hung up first).
    drips: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def _read_head(sock: object) -> str:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = sock.recv(4096)  # type: ignore[attr-defined]
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def _handler(state: Hostile, other: Hostile | None) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock = self.request
            head = _read_head(sock)
            line = head.split("\r\n", 1)[0]
            authorized = "\r\nauthorization: digest " in head.lower()
            target = line.split(" ")[1] if line.count(" ") >= 2 else "/"
            state.requests.append(target)
            state.calls.append((line.split(" ")[0], urlsplit(target).path))
            path = urlsplit(target).path
            query = parse_qs(urlsplit(target).query).get("query", [""])[0]
            with contextlib.suppress(OSError):
                has_body = "\r\ncontent-length: 0\r\n" not in head.lower() + "\r\n" and (
                    "\r\ncontent-length:" in head.lower()
                )
                if path == "/digest-upload":
                    self._digest_upload(sock, authorized, has_body)
                elif path == "/refuse-upload":
                    self._refuse(sock, has_body)
                else:
                    self._answer(sock, path, query)

        def _digest_upload(self, sock: socket.socket, authorized: bool, has_body: bool) -> None:
            """Like Virtuoso under load: an upload without credentials gets a 401 challenge
            and a closed connection before its body is read."""
            if not authorized:
                state.drips.append("challenged")
                challenge = 'WWW-Authenticate: Digest realm="r", nonce="n1", qop="auth"'
                self._send(sock, "401 Unauthorized", b"", challenge)
                if has_body:  # hang up without reading it
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                return
            state.drips.append("authorized")
            sock.settimeout(0.5)  # read the body (its start may have come with the head)
            with contextlib.suppress(OSError):
                while sock.recv(65536):
                    pass
            self._send(sock, "204 No Content", b"")

        def _refuse(self, sock: socket.socket, has_body: bool) -> None:
            """A server that refuses every request (no or wrong credentials) with 401 and hangs
            up on an upload before reading its body, however often it is sent."""
            state.drips.append("refused")
            self._send(sock, "401 Unauthorized", b"", 'WWW-Authenticate: Basic realm="r"')
            if has_body:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()

        def _send(self, sock: object, status: str, body: bytes, *headers: str) -> None:
            head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
            head += list(headers)
            raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
            sock.sendall(raw)  # type: ignore[attr-defined]

        def _answer(self, sock: object, path: str, query: str) -> None:
            json_type = "Content-Type: application/sparql-results+json"
            if path == "/ok":
                body = ASK_TRUE if query.lstrip().upper().startswith("ASK") else EMPTY_SELECT
                self._send(sock, "200 OK", body, json_type)
            elif path.startswith("/json/"):
                self._send(sock, "200 OK", BAD_JSON[path[len("/json/") :]], json_type)
            elif path == "/endless":
                sock.sendall(  # type: ignore[attr-defined]
                    f"HTTP/1.1 200 OK\r\n{json_type}\r\nConnection: close\r\n\r\n[".encode()
                )
                piece = b"0," * 32768
                while not state.stop.is_set():
                    sock.sendall(piece)  # type: ignore[attr-defined]
            elif path == "/liar":
                sock.sendall(  # type: ignore[attr-defined]
                    f"HTTP/1.1 200 OK\r\n{json_type}\r\nContent-Length: 1000000000000\r\n\r\n[".encode()
                )
                state.stop.wait(30)
            elif path in ("/drip", "/drip-headers"):
                text = f"HTTP/1.1 200 OK\r\n{json_type}\r\n\r\n".encode()
                if path == "/drip":
                    sock.sendall(text)  # type: ignore[attr-defined]
                    text = EMPTY_SELECT  # complete after 11 s: a client without a deadline wins
                try:
                    for i in range(len(text)):
                        if state.stop.wait(0.2):
                            return
                        sock.sendall(text[i : i + 1])  # type: ignore[attr-defined]
                except OSError:
                    state.drips.append("cut")
                    raise
                state.drips.append("complete")
            elif path == "/away":
                assert other is not None
                self._send(sock, "302 Found", b"", f"Location: http://127.0.0.1:{other.port}/ok")
            elif path == "/home":
                self._send(sock, "302 Found", b"", "Location: /ok")
            elif path == "/ctrl":
                self._send(sock, "500 Oops", HOSTILE_TEXT.encode(), "Content-Type: text/plain")
            elif path == "/auth":
                self._send(sock, "401 Unauthorized", b"no", 'WWW-Authenticate: Basic realm="x"')
            elif path == "/drop-always" or (
                path == "/drop-first" and state.requests.count("/drop-first") == 1
            ):
                # Close with a reset before answering, as a server does that refuses a body.
                assert isinstance(sock, socket.socket)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            elif path == "/drop-first":
                self._send(sock, "204 No Content", b"")
            elif path == "/garbage":
                sock.sendall(b"NOT HTTP AT ALL \x1b[31m\r\n\r\n")  # type: ignore[attr-defined]
            else:
                self._send(sock, "404 Not Found", b"")

    return Handler


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Hostile, Hostile]]:
    """The hostile server and a second one on another port that redirects point to."""
    other = Hostile()
    main_state = Hostile()
    running = []
    for state, peer in ((other, None), (main_state, other)):
        server = _Server(("127.0.0.1", 0), _handler(state, peer))
        state.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running.append(server)
    try:
        yield main_state, other
    finally:
        for state in (main_state, other):
            state.stop.set()
        for server in running:
            server.shutdown()
            server.server_close()


def _store(hostile: Hostile, path: str, **settings: object) -> object:
    chosen = RemoteSettings(dialect="standard", **settings)  # type: ignore[arg-type]
    return open_store(f"sparql+http://127.0.0.1:{hostile.port}{path}", settings=chosen)


def _no_control_characters(text: str) -> bool:
    return not any(unicodedata.category(c).startswith("C") for c in text)


# -- size and time -----------------------------------------------------------------------------


def test_an_endless_answer_is_cut_at_the_size_cap(servers: tuple[Hostile, Hostile]) -> None:
    store = _store(servers[0], "/endless", max_response_bytes=2**20, timeout=30)
    with pytest.raises(StoreError, match=r"larger than 1 MiB; raise MBTKG_SPARQL_MAX_RESPONSE_MB"):
        store.select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]


def test_a_declared_huge_answer_is_refused_before_reading(
    servers: tuple[Hostile, Hostile],
) -> None:
    store = _store(servers[0], "/liar", max_response_bytes=2**20, timeout=20)
    with pytest.raises(StoreError, match="larger than 1 MiB"):
        store.select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_dripping_server_meets_the_deadline(servers: tuple[Hostile, Hostile], path: str) -> None:
    # Each byte comes well within the socket timeout (0.2 s a byte); only a deadline for the
    # whole request ends this before the drip completes a valid answer.
    hostile = servers[0]
    before = len(hostile.drips)
    store = _store(hostile, path, timeout=1.5)
    with pytest.raises(StoreError, match=r"no complete answer within 1.5 s.*MBTKG_SPARQL_TIMEOUT"):
        store.select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]
    # The client hung up at the deadline: the server's next byte failed, the drip never ended.
    for _ in range(100):
        if len(hostile.drips) > before:
            break
        hostile.stop.wait(0.1)
    assert hostile.drips[before:] == ["cut"]


def test_size_and_time_limits_come_from_the_environment() -> None:
    s = settings_from_env({"MBTKG_SPARQL_MAX_RESPONSE_MB": "2", "MBTKG_SPARQL_TIMEOUT": "7"})
    assert (s.max_response_bytes, s.timeout) == (2 * 2**20, 7.0)
    for env in ({"MBTKG_SPARQL_MAX_RESPONSE_MB": "lots"}, {"MBTKG_SPARQL_TIMEOUT": "inf"}):
        with pytest.raises(StoreError, match="must be a number"):
            settings_from_env(env)


# -- what the server sends ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_JSON))
def test_unexpected_json_is_a_store_error(servers: tuple[Hostile, Hostile], name: str) -> None:
    store = _store(servers[0], f"/json/{name}")
    with pytest.raises(StoreError, match="is the --store URL its query endpoint"):
        store.select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]
    # An answer with results read as an ASK is a SELECT answer: QueryError says so.
    with pytest.raises((StoreError, QueryError), match="query endpoint|expected an ASK query"):
        store.ask("ASK { ?s ?p ?o }")  # type: ignore[attr-defined]


def test_a_select_answer_to_an_ask_is_a_query_error(servers: tuple[Hostile, Hostile]) -> None:
    store = _store(servers[0], "/ok")
    with pytest.raises(QueryError, match="expected an ASK query"):
        store.ask("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]


def test_a_broken_status_line_is_a_store_error(servers: tuple[Hostile, Hostile]) -> None:
    store = _store(servers[0], "/garbage")
    with pytest.raises(StoreError, match="broken HTTP answer") as info:
        store.select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]
    assert _no_control_characters(str(info.value))


def test_control_characters_from_the_server_never_reach_the_message(
    servers: tuple[Hostile, Hostile],
) -> None:
    store = _store(servers[0], "/ctrl")
    with pytest.raises(StoreError, match=r"failed \(HTTP 500: .*boom") as info:
        store.select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]
    message = str(info.value)
    assert _no_control_characters(message), repr(message)
    assert "owned" in message and "\x1b" not in message and "\u202e" not in message


# -- redirects ---------------------------------------------------------------------------------


def test_a_redirect_to_another_port_is_refused_and_not_followed(
    servers: tuple[Hostile, Hostile],
) -> None:
    hostile, other = servers
    before = len(other.requests)
    store = _store(hostile, "/away")
    with pytest.raises(
        StoreError, match=r"redirected to another server \(http://127.0.0.1:\d+/ok\)"
    ):
        store.select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]
    assert len(other.requests) == before


def test_a_redirect_within_the_server_is_followed(servers: tuple[Hostile, Hostile]) -> None:
    rows = _store(servers[0], "/home").select("SELECT * { ?s ?p ?o }")  # type: ignore[attr-defined]
    assert rows.columns == ("s",) and rows.rows == ()


# -- secrets -----------------------------------------------------------------------------------


def test_a_key_in_the_url_is_used_but_never_shown(servers: tuple[Hostile, Hostile]) -> None:
    hostile = servers[0]
    secret = "k3y-s3cret-0815"
    store = open_store(
        f"sparql+http://127.0.0.1:{hostile.port}/ok?apikey={secret}",
        settings=RemoteSettings(dialect="standard"),
    )
    assert secret not in store.selector and secret not in repr(store)
    assert store.selector.endswith("/ok?apikey=***")
    assert store.ask("ASK {}") is True
    assert any(f"apikey={secret}" in r for r in hostile.requests)
    refused = open_store(
        f"sparql+http://127.0.0.1:{hostile.port}/auth?apikey={secret}",
        settings=RemoteSettings(dialect="standard"),
    )
    with pytest.raises(StoreError, match="HTTP 401.*wants credentials") as info:
        refused.ask("ASK {}")
    assert secret not in str(info.value)


def test_the_cli_never_prints_a_key_from_the_url(
    servers: tuple[Hostile, Hostile], tmp_path: object
) -> None:
    hostile = servers[0]
    secret = "k3y-s3cret-4711"
    env = {"MBTKG_SPARQL_DIALECT": "standard", "NETRC": "/nonexistent-netrc"}
    runner = CliRunner()
    listed = runner.invoke(
        main,
        ["sessions", "--store", f"sparql+http://127.0.0.1:{hostile.port}/ok?key={secret}"],
        env=env,
    )
    assert listed.exit_code == 0, listed.output
    assert "?key=***" in listed.output and secret not in listed.output
    failed = runner.invoke(
        main,
        ["sessions", "--store", f"sparql+http://127.0.0.1:{hostile.port}/auth?key={secret}"],
        env=env,
    )
    assert failed.exit_code == 2 and "HTTP 401" in failed.output
    assert secret not in failed.output
    typo = runner.invoke(main, ["sessions", "--store", f"sparql+htp://h/q?key={secret}"], env=env)
    assert typo.exit_code == 2 and "unknown store" in typo.output
    assert secret not in typo.output


def test_a_password_in_the_url_is_refused_with_a_clear_message() -> None:
    password = "pa55-w0rd-in-url"
    with pytest.raises(StoreError) as info:
        open_store(f"sparql+http://alice:{password}@127.0.0.1:9/query")
    message = str(info.value)
    assert "carries credentials" in message and "MBTKG_SPARQL_PASSWORD" in message
    assert password not in message and "Name or service" not in message
    result = CliRunner().invoke(
        main, ["sessions", "--store", f"sparql+http://alice:{password}@127.0.0.1:9/query"]
    )
    assert result.exit_code == 2 and password not in result.output


def test_a_password_in_an_endpoint_setting_is_refused() -> None:
    with pytest.raises(StoreError, match="MBTKG_SPARQL_UPDATE_URL carries credentials"):
        open_store(
            "sparql+http://127.0.0.1:9/query",
            settings=RemoteSettings(update_url="http://u:secret@127.0.0.1:9/update"),
        )


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/q",
        "http://127.0.0.1:99999/q",
        "http://127.0.0.1:x/q",
        "http://h/a b",
        "http:///q",
    ],
)
def test_a_malformed_store_url_is_a_store_error(url: str) -> None:
    with pytest.raises(StoreError, match="the --store URL"):
        open_store(f"sparql+{url}")


def test_redact_hides_every_secret_part() -> None:
    shown = redact("https://bob:pw@example.org:8890/sparql?apikey=s3&token=t0k#frag")
    assert shown == "https://example.org:8890/sparql?apikey=***&token=***"
    assert redact("http://[::1]:80/q") == "http://[::1]:80/q"


def test_an_idempotent_request_is_sent_again_once_when_the_server_drops_it(
    servers: tuple[Hostile, Hostile],
) -> None:
    """Regression: Virtuoso may close the connection of a digest-auth upload before the 401
    is read; the PUT of a graph is idempotent, so the client sends it once more."""
    hostile = servers[0]
    client = HttpClient(RemoteSettings(dialect="standard"), ())
    url = f"http://127.0.0.1:{hostile.port}/drop-first"
    answer = client.send("PUT", url, data=b"<a> <b> <c> .\n" * 1000, what="the upload of graph G")
    assert answer.status == 204
    assert hostile.requests.count("/drop-first") == 2


def test_a_dropped_request_that_is_not_idempotent_is_not_sent_again(
    servers: tuple[Hostile, Hostile],
) -> None:
    hostile = servers[0]
    client = HttpClient(RemoteSettings(dialect="standard"), ())
    before = hostile.requests.count("/drop-always")
    with pytest.raises(StoreError, match="could not reach the SPARQL server"):
        client.send(
            "POST", f"http://127.0.0.1:{hostile.port}/drop-always", data=b"x", what="the update"
        )
    assert hostile.requests.count("/drop-always") == before + 1
    puts = hostile.calls.count(("PUT", "/drop-always"))
    with pytest.raises(StoreError, match="could not reach the SPARQL server"):
        client.send("PUT", f"http://127.0.0.1:{hostile.port}/drop-always", data=b"x", what="G")
    # once more, and only once; then a bodiless HEAD asks whether it was a refusal (it was not)
    assert hostile.calls.count(("PUT", "/drop-always")) == puts + 2
    assert hostile.calls[-1] == ("HEAD", "/drop-always")


@pytest.mark.parametrize(
    ("user", "said"),
    [(None, "the server wants credentials"), ("dba", "the server refused the credentials")],
)
def test_an_upload_refused_before_its_body_is_read_says_why(
    servers: tuple[Hostile, Hostile], user: str | None, said: str
) -> None:
    """Regression: a server that answers 401 and hangs up before reading the body (Virtuoso
    under load) broke the pipe twice, and the message said the server could not be reached;
    a bodiless probe now finds the 401 and says what to do about the credentials."""
    hostile = servers[0]
    url = f"http://127.0.0.1:{hostile.port}/refuse-upload"
    chosen = RemoteSettings(
        dialect="standard", user=user, password=None if user is None else "wrong", auth="basic"
    )
    client = HttpClient(chosen, (url,))
    body = b"<urn:a> <urn:b> <urn:c> .\n" * 200_000  # far more than a socket buffer
    with pytest.raises(StoreError, match=f"was refused \\(HTTP 401\\): {said}") as caught:
        client.send("PUT", url, data=body, what="the upload of graph G")
    assert "could not reach" not in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_a_digest_upload_is_not_lost_to_a_server_that_closes_on_its_challenge(
    servers: tuple[Hostile, Hostile],
) -> None:
    """Regression: Virtuoso answered an unauthenticated upload with 401 and closed the
    connection before the body was through (broken pipe on CI). The client learns the
    challenge with a bodiless request and sends the upload with its answer."""
    hostile = servers[0]
    hostile.drips.clear()
    url = f"http://127.0.0.1:{hostile.port}/digest-upload"
    chosen = RemoteSettings(dialect="standard", user="dba", password="secret", auth="digest")
    client = HttpClient(chosen, (url,))
    body = b"<urn:a> <urn:b> <urn:c> .\n" * 200_000  # far more than a socket buffer
    assert client.send("PUT", url, data=body, what="the upload of graph G").status == 204
    # Later uploads answer the known challenge in advance: no 401 in between.
    hostile.drips.clear()
    assert client.send("PUT", url, data=body, what="the upload of graph G").status == 204
    assert hostile.drips == ["authorized"]
