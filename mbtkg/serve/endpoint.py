"""A local SPARQL 1.1 Protocol endpoint over the embedded store, with a YASGUI page at ``/``.

Safety by default: it binds to loopback, it is read-only (updates get HTTP 403 unless the server
was started with ``allow_update``), queries naming ``SERVICE`` get HTTP 400, each query has a
time limit (HTTP 503 when exceeded) and a result-size limit (HTTP 400 when the answer has more
rows than allowed: the answer is refused, never cut short silently).

The time limit stops waiting, not the engine: Oxigraph cannot cancel a running query, so the
query's worker thread runs on in the background; at most ``max_running`` queries run at once
and further requests get HTTP 503 until one finishes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox

from ..errors import MbtkgError, QueryError
from ..stores.oxigraph import OxigraphStore
from .page import render_page
from .results import (
    GRAPH_FORMATS,
    SELECT_FORMATS,
    choose_format,
    write_boolean,
    write_solutions,
    write_triples,
)

_STATIC = {
    "/static/yasgui/yasgui.min.js": ("yasgui.min.js", "text/javascript; charset=utf-8"),
    "/static/yasgui/yasgui.min.css": ("yasgui.min.css", "text/css; charset=utf-8"),
    "/static/yasgui/LICENSE": ("LICENSE", "text/plain; charset=utf-8"),
}
_MAX_BODY = 1_000_000


@dataclass(frozen=True)
class ServeOptions:
    """How the endpoint behaves: limits, and whether updates are allowed."""

    allow_update: bool = False
    timeout: float = 30.0
    max_rows: int = 10_000
    max_running: int = 4


class Refused(Exception):
    """A request the endpoint answers with an error status and a sentence."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Answer:
    """A finished answer: media type and body."""

    content_type: str
    body: bytes


class QueryRunner:
    """Runs queries on the store with a time limit and a result-size limit."""

    def __init__(self, store: OxigraphStore, options: ServeOptions) -> None:
        self.store = store
        self.options = options
        self._slots = threading.BoundedSemaphore(options.max_running)

    def run(self, sparql: str, accept: str) -> Answer:
        """Answer one query, or raise Refused."""
        if not self._slots.acquire(blocking=False):
            raise Refused(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"{self.options.max_running} queries are already running; try again shortly",
            )
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["answer"] = self._evaluate(sparql, accept)
            except BaseException as exc:  # handed to the request thread
                box["error"] = exc
            finally:
                self._slots.release()
                done.set()

        threading.Thread(target=work, daemon=True, name="mbtkg-query").start()
        if not done.wait(self.options.timeout):
            raise Refused(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"the query ran longer than the time limit of {self.options.timeout:g} s; "
                "narrow it (bind a session, add LIMIT) or start the server with a longer --timeout",
            )
        if "error" in box:
            raise box["error"]
        answer: Answer = box["answer"]
        return answer

    def _evaluate(self, sparql: str, accept: str) -> Answer:
        try:
            result = self.store.query_raw(sparql)
        except QueryError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from None
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

    def update(self, sparql: str) -> None:
        """Run an update, or raise Refused when updates are not allowed."""
        if not self.options.allow_update:
            raise Refused(
                HTTPStatus.FORBIDDEN,
                "this endpoint is read-only: updates are refused; load sessions with "
                "`mbtkg load`, or start `mbtkg serve --allow-update`",
            )
        try:
            self.store.update(sparql)
        except MbtkgError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from None


def _read_request(handler: BaseHTTPRequestHandler) -> tuple[str | None, str | None]:
    """The query and update texts a request carries (GET parameters or a POST body)."""
    params = parse_qs(urlsplit(handler.path).query)
    query = params.get("query", [None])[0]
    update = params.get("update", [None])[0]
    if handler.command == "POST":
        length = int(handler.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the request body is too large")
        body = handler.rfile.read(length).decode("utf-8", "replace")
        media = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media == "application/sparql-query":
            query = body
        elif media == "application/sparql-update":
            update = body
        elif media == "application/x-www-form-urlencoded":
            form = parse_qs(body)
            query = form.get("query", [query])[0]
            update = form.get("update", [update])[0]
        else:
            raise Refused(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"cannot read a {media or 'body without a media type'}; send "
                "application/x-www-form-urlencoded, application/sparql-query or "
                "application/sparql-update",
            )
    return query, update


def make_handler(runner: QueryRunner, page: bytes) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to one runner and one rendered page."""
    static_dir = files("mbtkg.serve") / "static" / "yasgui"

    class Handler(BaseHTTPRequestHandler):
        server_version = "mbtkg-serve"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Quiet: no access log on stderr."""

        def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._send(status, "text/plain; charset=utf-8", (message + "\n").encode())

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", page)
            elif path in _STATIC:
                name, media = _STATIC[path]
                self._send(HTTPStatus.OK, media, (static_dir / name).read_bytes())
            elif path in ("/sparql", "/query"):
                self._sparql()
            else:
                self._error(HTTPStatus.NOT_FOUND, f"nothing at {path}; the endpoint is /sparql")

        do_HEAD = do_GET

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            if urlsplit(self.path).path in ("/sparql", "/query", "/update"):
                self._sparql()
            else:
                self._error(HTTPStatus.NOT_FOUND, "POST queries and updates to /sparql")

        def _sparql(self) -> None:
            try:
                query, update = _read_request(self)
                if update is not None:
                    runner.update(update)
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

    return Handler


def make_server(
    store: OxigraphStore, *, host: str = "127.0.0.1", port: int = 7878, options: ServeOptions
) -> ThreadingHTTPServer:
    """A ready (not yet serving) HTTP server for the store; call ``serve_forever()`` on it."""
    runner = QueryRunner(store, options)
    server = ThreadingHTTPServer(
        (host, port), make_handler(runner, render_page(allow_update=options.allow_update))
    )
    server.daemon_threads = True
    return server
