"""A local SPARQL 1.1 Protocol endpoint over the embedded store, with a YASGUI page at ``/``.

Safe by default (docs/security.md, "The endpoint"):

- it binds to loopback; every request must name this server in ``Host`` (DNS rebinding), and a
  browser request to ``/sparql`` from another site (``Origin``, ``Sec-Fetch-Site``) gets 403;
- it is read-only: updates get 403 unless the server was started with ``allow_update``, and even
  then only a POST with ``Content-Type: application/sparql-update`` carrying the server's token
  (``Authorization: Bearer TOKEN``) is accepted: never a GET, never a form post. On a memory
  store an update is first rehearsed in a worker under the time and memory limits and applied
  only if the rehearsal finished; on a disk store (served from a read-only handle) it runs in
  the server without a time limit, through a writer opened for that update alone (a worker
  cannot write to the store's files, and a worker forked next to a live writer could hang);
- user SPARQL is judged on a parse (:mod:`mbtkg.sparql_guard`): SERVICE and LOAD are refused;
- each query runs in a forked worker process killed at the time limit (503) and capped in memory
  (:mod:`mbtkg.serve.worker`); answers with more rows than allowed are refused (400), never cut;
- at most ``max_running`` queries run at once, ``max_waiting`` more wait for a turn (503 when
  the wait runs out), further ones get 429; at most ``max_connections`` connections are served
  at once, each with a socket timeout (408 for a body that does not arrive);
- request bodies are bounded (413) and need a well-formed ``Content-Length`` (400, 411).
"""

from __future__ import annotations

import hmac
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox

from ..errors import MbtkgError, QueryError, StoreError
from ..sparql_guard import check_sparql
from ..stores.base import ServableStore
from .http_checks import allowed_hosts, check_host, check_origin, content_length
from .page import render_page
from .refused import Answer, Refused
from .results import (
    GRAPH_FORMATS,
    SELECT_FORMATS,
    choose_format,
    write_boolean,
    write_solutions,
    write_triples,
)
from .worker import WorkerLimits, run_in_worker

__all__ = ["Answer", "QueryRunner", "Refused", "ServeOptions", "make_server"]

_STATIC = {
    "/static/yasgui/yasgui.min.js": ("yasgui.min.js", "text/javascript; charset=utf-8"),
    "/static/yasgui/yasgui.min.css": ("yasgui.min.css", "text/css; charset=utf-8"),
    "/static/yasgui/LICENSE": ("LICENSE", "text/plain; charset=utf-8"),
}
_UPDATE_MEDIA = "application/sparql-update"


@dataclass(frozen=True)
class ServeOptions:
    """How the endpoint behaves: limits, and whether (and with which token) updates are allowed."""

    allow_update: bool = False
    token: str | None = None
    timeout: float = 30.0
    max_rows: int = 10_000
    max_running: int = 2
    max_waiting: int = 16
    max_connections: int = 64
    max_memory: int | None = 2 * 1024 * 1024 * 1024
    max_body: int = 1_000_000
    socket_timeout: float = 10.0


class Slots:
    """At most ``running`` holders at once; up to ``waiting`` more wait ``wait`` seconds."""

    def __init__(self, running: int, waiting: int, wait: float) -> None:
        self.running, self.waiting, self.wait = running, waiting, wait
        self._busy = 0
        self._queued = 0
        self._turn = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._turn:
            if self._busy >= self.running:
                if self._queued >= self.waiting:
                    raise Refused(
                        HTTPStatus.TOO_MANY_REQUESTS,
                        f"{self.running} queries are running and {self.waiting} are waiting; "
                        "try again shortly",
                    )
                self._queued += 1
                try:
                    free = self._turn.wait_for(lambda: self._busy < self.running, self.wait)
                finally:
                    self._queued -= 1
                if not free:
                    raise Refused(
                        HTTPStatus.SERVICE_UNAVAILABLE,
                        f"no query slot came free within {self.wait:g} s; try again shortly",
                    )
            self._busy += 1
        try:
            yield
        finally:
            with self._turn:
                self._busy -= 1
                self._turn.notify()


class QueryRunner:
    """Runs queries in killable worker processes, and updates (when allowed) in this process."""

    def __init__(self, store: ServableStore, options: ServeOptions) -> None:
        self.store = store
        self.options = options
        self.slots = Slots(options.max_running, options.max_waiting, options.timeout)
        self.limits = WorkerLimits(options.timeout, options.max_memory)
        #: Held while forking a worker and while writing: a worker never starts mid-write.
        self.store_lock = threading.RLock()
        #: Descriptors a worker closes first (the listening socket, set by the server).
        self.close_in_child: tuple[int, ...] = ()

    def run(self, sparql: str, accept: str) -> Answer:
        """Answer one query, or raise Refused."""
        with self.slots.slot():
            return run_in_worker(
                lambda: self._evaluate(sparql, accept),
                self.limits,
                fork_lock=self.store_lock,
                close_in_child=self.close_in_child,
            )

    def _evaluate(self, sparql: str, accept: str) -> Answer:
        """Runs in the worker: check, query, and serialise at most ``max_rows`` rows."""
        try:
            result = self.store.query_raw(sparql)
            return self._serialise(result, accept)
        except QueryError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from None
        except OSError as exc:  # raised while the engine produces solutions
            raise Refused(HTTPStatus.BAD_REQUEST, f"the query failed: {exc}") from None

    def _serialise(
        self, result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, accept: str
    ) -> Answer:
        limit = self.options.max_rows
        if isinstance(result, ox.QueryBoolean):
            fmt = choose_format(accept, graph=False)
            return Answer(SELECT_FORMATS[fmt], write_boolean(bool(result), fmt))
        if isinstance(result, ox.QuerySolutions):
            columns = [v.value for v in result.variables]
            rows = []
            for solution in result:
                rows.append([solution[c] for c in columns])
                if len(rows) > limit:
                    raise self._too_large(limit, "rows")
            fmt = choose_format(accept, graph=False)
            return Answer(SELECT_FORMATS[fmt], write_solutions(columns, rows, fmt))
        triples = []
        for triple in result:
            triples.append(triple)
            if len(triples) > limit:
                raise self._too_large(limit, "triples")
        fmt = choose_format(accept, graph=True)
        return Answer(GRAPH_FORMATS[fmt], write_triples(triples, fmt))

    @staticmethod
    def _too_large(limit: int, what: str) -> Refused:
        return Refused(
            HTTPStatus.BAD_REQUEST,
            f"the answer has more than {limit} {what}, the result-size limit; add LIMIT to the "
            "query or start the server with a larger --max-rows",
        )

    def refuse_unless_writable(self) -> None:
        if not self.options.allow_update:
            raise Refused(
                HTTPStatus.FORBIDDEN,
                "this endpoint is read-only: updates are refused; load sessions with "
                "`mbtkg load`, or start `mbtkg serve --allow-update`",
            )

    def update(self, sparql: str, authorization: str | None) -> None:
        """Run an update sent with the server's token, or raise Refused."""
        self.refuse_unless_writable()
        token = self.options.token
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            raise Refused(
                HTTPStatus.UNAUTHORIZED,
                "updates need the token printed when the server started, sent as the header "
                "'Authorization: Bearer TOKEN'",
            )
        try:
            check_sparql(sparql, update=True)
        except MbtkgError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from None
        with self.slots.slot(), self.store_lock:
            if self.store.path is None:
                # a rehearsal on the worker's copy of the memory store, under the time and memory
                # limits; only an update that finished there is applied here
                run_in_worker(
                    lambda: self._rehearse(sparql),
                    self.limits,
                    fork_lock=self.store_lock,
                    close_in_child=self.close_in_child,
                )
            try:
                # on disk: a writer opened for this update alone and closed (its background
                # work done) before the lock is released, so no worker forks next to it
                self.store.update_through_a_brief_writer(sparql)
            except StoreError as exc:
                raise Refused(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None
            except MbtkgError as exc:
                raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from None

    def _rehearse(self, sparql: str) -> Answer:
        """Runs in the worker: apply the update to the worker's own copy of a memory store."""
        self.store.update(sparql)
        return Answer("text/plain", b"")


def _read_body(handler: BaseHTTPRequestHandler, limit: int) -> str:
    length = content_length(handler.headers.get("Content-Length"), limit)
    if handler.headers.get("Transfer-Encoding"):
        raise Refused(HTTPStatus.BAD_REQUEST, "chunked request bodies are not read; send a length")
    try:
        body = handler.rfile.read(length)
    except TimeoutError:
        raise Refused(
            HTTPStatus.REQUEST_TIMEOUT, "the request body did not arrive in time"
        ) from None
    if len(body) < length:
        raise Refused(HTTPStatus.BAD_REQUEST, "the request body is shorter than its Content-Length")
    return body.decode("utf-8", "replace")


def _form_refusal(runner: QueryRunner) -> Refused:
    runner.refuse_unless_writable()
    return Refused(
        HTTPStatus.FORBIDDEN,
        "updates are accepted only as a POST with Content-Type application/sparql-update "
        "(never in a URL or a form, which any web page could send)",
    )


def _read_request(
    handler: BaseHTTPRequestHandler, runner: QueryRunner
) -> tuple[str | None, str | None]:
    """The query and the update a request carries (an update only from a direct POST)."""
    params = parse_qs(urlsplit(handler.path).query)
    if "update" in params:
        raise _form_refusal(runner)
    query = params.get("query", [None])[0]
    if handler.command != "POST":
        return query, None
    media = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if media not in (
        "application/sparql-query",
        _UPDATE_MEDIA,
        "application/x-www-form-urlencoded",
    ):
        raise Refused(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"cannot read a {media or 'body without a media type'}; send "
            "application/x-www-form-urlencoded, application/sparql-query or "
            "application/sparql-update",
        )
    if media == _UPDATE_MEDIA:
        runner.refuse_unless_writable()
    body = _read_body(handler, runner.options.max_body)
    if media == "application/sparql-query":
        return body, None
    if media == _UPDATE_MEDIA:
        return None, body
    form = parse_qs(body)
    if "update" in form:
        raise _form_refusal(runner)
    return form.get("query", [query])[0], None


def make_handler(
    runner: QueryRunner, page: bytes, hosts: frozenset[str]
) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to one runner, one rendered page and its Host names."""
    static_dir = files("mbtkg.serve") / "static" / "yasgui"

    class Handler(BaseHTTPRequestHandler):
        server_version = "mbtkg-serve"
        timeout = runner.options.socket_timeout

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Quiet: no access log on stderr."""

        def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self.close_connection = True
            self._send(status, "text/plain; charset=utf-8", (message + "\n").encode())

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            try:
                check_host(self.headers.get("Host"), hosts)
            except Refused as exc:
                self._error(exc.status, str(exc))
                return
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", page)
            elif path in _STATIC:
                name, media = _STATIC[path]
                self._send(HTTPStatus.OK, media, (static_dir / name).read_bytes())
            elif path in ("/sparql", "/query", "/update"):
                self._sparql()
            else:
                self._error(
                    HTTPStatus.NOT_FOUND, f"nothing at {path[:100]}; the endpoint is /sparql"
                )

        do_HEAD = do_GET

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            if urlsplit(self.path).path in ("/sparql", "/query", "/update"):
                self._sparql()
            else:
                self._error(HTTPStatus.NOT_FOUND, "POST queries and updates to /sparql")

        def _sparql(self) -> None:
            try:
                check_host(self.headers.get("Host"), hosts)
                check_origin(self.headers.get("Origin"), self.headers.get("Sec-Fetch-Site"), hosts)
                query, update = _read_request(self, runner)
                if update is not None:
                    runner.update(update, self.headers.get("Authorization"))
                    self._send(HTTPStatus.NO_CONTENT, "text/plain", b"")
                    return
                if not query:
                    raise Refused(
                        HTTPStatus.BAD_REQUEST, "no query: send it as the 'query' parameter"
                    )
                answer = runner.run(query, self.headers.get("Accept") or "")
                self._send(HTTPStatus.OK, answer.content_type, answer.body)
            except Refused as exc:
                self._error(exc.status, str(exc))
            except MbtkgError as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
            except Exception:
                # a bug: the client gets a plain 500, the server's stderr the traceback
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error in mbtkg serve")
                raise

    return Handler


class EndpointServer(ThreadingHTTPServer):
    """A threading HTTP server with a long listen backlog and a bound on open connections."""

    request_queue_size = 128
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        runner: QueryRunner,
        page: bytes,
    ) -> None:
        self.runner = runner
        self._open = 0
        self._open_lock = threading.Lock()
        super().__init__(address, BaseHTTPRequestHandler, bind_and_activate=True)
        self.hosts = allowed_hosts(address[0], self.server_address[1])
        self.RequestHandlerClass = make_handler(runner, page, self.hosts)
        runner.close_in_child = (self.socket.fileno(),)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            full = self._open >= self.runner.options.max_connections
            if not full:
                self._open += 1
        if full:
            _answer_busy(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open -= 1


def _answer_busy(request: socket.socket) -> None:
    body = b"the server has too many open connections; try again shortly\n"
    head = (
        "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        request.settimeout(1.0)
        request.sendall(head + body)
    except OSError:
        pass


def make_server(
    store: ServableStore, *, host: str = "127.0.0.1", port: int = 7878, options: ServeOptions
) -> EndpointServer:
    """A ready (not yet serving) HTTP server for the store; call ``serve_forever()`` on it.

    A store on disk must be opened read-only (``open_store(selector, read_only=True)``); with
    ``allow_update`` each update opens a writer of its own. Raises StoreError otherwise: queries
    run in workers forked from this process, and a fork next to a writer's background threads
    can leave a worker waiting forever for a lock one of them held."""
    if store.path is not None and not store.read_only:
        raise StoreError(
            f"{store.selector} is open for writing; a store on disk is served read-only "
            "(open it with read_only=True; with allow_update each update opens its own writer)"
        )
    check_sparql("ASK {}")  # loads the SPARQL parser here, before any worker is forked
    runner = QueryRunner(store, options)
    return EndpointServer((host, port), runner, render_page(allow_update=options.allow_update))
