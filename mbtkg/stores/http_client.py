"""A small HTTP client for SPARQL servers that trusts nothing the server sends.

Standard library only (``urllib`` with ``HTTPBasicAuthHandler`` or ``HTTPDigestAuthHandler``).
What the server cannot do to the client:

- send more than ``max_response_bytes`` (the answer is read in pieces and refused past it);
- take longer than ``timeout`` seconds for the whole request: a watchdog shuts the request's
  sockets at the deadline, so a server that sends a byte a second is cut off too;
- redirect the request to another scheme, host or port (same-origin redirects are followed);
- put escape sequences on the user's terminal: text echoed from the server is stripped of
  control and formatting characters and shortened.

Credentials are handed to the auth handler and never appear in a message or a ``repr``; URLs
in messages go through ``remote_url.redact``.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from ..errors import StoreError
from .remote_url import origin, printable, redact
from .settings import ENV, RemoteSettings

#: How much of an error body is read to quote in a message.
ERROR_BODY_LIMIT = 64 * 1024
_CHUNK = 64 * 1024
#: Methods that may be sent again when the server dropped the connection (RFC 9110, 9.2.2).
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: How a dropped connection shows (http.client.RemoteDisconnected is a ConnectionResetError).
_DROPPED = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _ConnectionDropped(Exception):
    """The server closed the connection before it answered; ``reason`` is the socket error."""

    def __init__(self, reason: BaseException) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, media type and body."""

    status: int
    content_type: str
    body: bytes
    server: str = ""


class _Watchdog:
    """Shuts every socket of one request when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watched(base: type[http.client.HTTPConnection], watchdog: _Watchdog) -> Any:
    """A connection class whose sockets (plain and TLS) the watchdog can shut."""

    class Watched(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            create: Callable[..., socket.socket] = self._create_connection  # type: ignore[has-type]

            def create_and_watch(*a: Any, **k: Any) -> socket.socket:
                sock = create(*a, **k)
                watchdog.watch(sock)
                return sock

            self._create_connection = create_and_watch

        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    return Watched


class _CrossOriginRedirect(Exception):
    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme, host and port."""

    max_redirections = 5

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if origin(newurl) != origin(req.full_url):
            fp.close()
            raise _CrossOriginRedirect(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _PreemptiveDigestAuthHandler(urllib.request.HTTPDigestAuthHandler):
    """Digest auth that answers the last challenge it saw in advance on later requests.

    urllib sends each request without credentials first and answers the server's 401. With a
    body, a server may answer 401 and close the connection before the body is through (Virtuoso
    does, under load), so the 401 is never read. Once a challenge is known, its answer goes with
    the request (the nonce count goes up each time), and the body meets no 401.
    """

    def __init__(self, manager: urllib.request.HTTPPasswordMgr) -> None:
        super().__init__(manager)
        self._challenge: dict[str, str] | None = None

    @property
    def knows_challenge(self) -> bool:
        return self._challenge is not None

    def retry_http_digest_auth(self, req: urllib.request.Request, auth: str) -> Any:
        _token, challenge = auth.split(" ", 1)
        self._challenge = urllib.request.parse_keqv_list(
            [part for part in urllib.request.parse_http_list(challenge) if part]
        )
        return super().retry_http_digest_auth(req, auth)

    def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
        if self._challenge is not None and not req.has_header("Authorization"):
            answer = self.get_authorization(req, self._challenge)
            if answer:
                req.add_unredirected_header("Authorization", f"Digest {answer}")
        return req

    https_request = http_request


class _TooLarge(Exception):
    pass


class HttpClient:
    """Sends requests to one server with the configured authentication and limits."""

    def __init__(self, settings: RemoteSettings, urls: tuple[str, ...]) -> None:
        self._timeout = settings.timeout
        self._max_bytes = settings.max_response_bytes
        self._auth: urllib.request.BaseHandler | None = None
        if settings.user is not None and settings.auth in ("basic", "digest"):
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for url in urls:
                parts = urlsplit(url)
                manager.add_password(
                    None,
                    f"{parts.scheme}://{parts.netloc}/",
                    settings.user,
                    settings.password or "",
                )
            if settings.auth == "digest":
                self._auth = _PreemptiveDigestAuthHandler(manager)
            else:
                self._auth = urllib.request.HTTPBasicAuthHandler(manager)
        self._has_credentials = settings.user is not None

    def __repr__(self) -> str:
        return "HttpClient(<credentials hidden>)"

    def _opener(self, watchdog: _Watchdog) -> urllib.request.OpenerDirector:
        class Http(urllib.request.HTTPHandler):
            def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
                return self.do_open(_watched(http.client.HTTPConnection, watchdog), req)

        class Https(urllib.request.HTTPSHandler):
            def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
                return self.do_open(
                    _watched(http.client.HTTPSConnection, watchdog),
                    req,
                    context=self._context,  # type: ignore[attr-defined]
                )

        handlers: list[urllib.request.BaseHandler] = [Http(), Https(), _SameOriginRedirects()]
        if self._auth is not None:
            handlers.append(self._auth)
        return urllib.request.build_opener(*handlers)

    def send(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        what: str,
    ) -> Response:
        """Send one request; raise StoreError with a sentence for people on any failure.

        ``what`` names the action for the message ("the query", "the upload of graph G").
        An idempotent request (GET, HEAD, PUT, DELETE) whose connection the server dropped is
        sent once more: a server that answers an unauthenticated upload with 401 may close the
        connection before the body is through (Virtuoso with digest auth does, under load).
        When that one drops too, a bodiless probe asks whether the server refuses the
        credentials, so that the message says so instead of "could not reach".
        """
        try:
            return self._send_once(method, url, data=data, headers=headers, what=what)
        except _ConnectionDropped as dropped:
            if method.upper() not in _IDEMPOTENT:
                raise StoreError(self._unreachable(url, dropped.reason, what)) from None
        if isinstance(self._auth, _PreemptiveDigestAuthHandler) and not self._auth.knows_challenge:
            self._learn_challenge(url)
        try:
            return self._send_once(method, url, data=data, headers=headers, what=what)
        except _ConnectionDropped as dropped:
            refusal = self._refusal(url, what) if data else None
            raise StoreError(refusal or self._unreachable(url, dropped.reason, what)) from None

    def _refusal(self, url: str, what: str) -> str | None:
        """Why a server that hung up on an upload refuses it, when a bodiless HEAD with the
        same credentials is answered with 401 or 403: a server may answer an upload so and
        close the connection before the body is through, and the client then sees only the
        broken connection. None when the probe is not refused so."""
        with _Watchdog(self._timeout) as watchdog:
            try:
                probe = urllib.request.Request(url, method="HEAD")
                self._opener(watchdog).open(probe, timeout=self._timeout).close()
            except urllib.error.HTTPError as exc:
                if exc.code in (401, 403):
                    return self._http_message(exc, url, what)
            except Exception:  # noqa: BLE001 - only a clear refusal changes the message
                return None
        return None

    def _learn_challenge(self, url: str) -> None:
        """A bodiless HEAD, so that the digest handler learns the server's challenge."""
        with _Watchdog(self._timeout) as watchdog, contextlib.suppress(Exception):
            probe = urllib.request.Request(url, method="HEAD")
            self._opener(watchdog).open(probe, timeout=self._timeout).close()

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None,
        headers: dict[str, str] | None,
        what: str,
    ) -> Response:
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        with _Watchdog(self._timeout) as watchdog:
            try:
                with self._opener(watchdog).open(request, timeout=self._timeout) as answer:
                    body = self._read(answer, url, what)
                    if watchdog.expired:
                        raise TimeoutError
                    return Response(
                        answer.status,
                        printable(answer.headers.get("Content-Type", ""))[:200],
                        body,
                        printable(answer.headers.get("Server", ""))[:200],
                    )
            except _TooLarge:
                raise StoreError(
                    f"{what} at {_where(url)} was refused: the answer is larger than "
                    f"{_mib(self._max_bytes)}; raise {ENV['max_response_mb']} if it should be "
                    "that large, or ask for less"
                ) from None
            except urllib.error.HTTPError as exc:
                if watchdog.expired:
                    raise StoreError(self._late(url, what)) from None
                raise StoreError(self._http_message(exc, url, what)) from None
            except _CrossOriginRedirect as exc:
                raise StoreError(
                    f"{what} at {_where(url)} was redirected to another server "
                    f"({_where(exc.target)}); mbtkg follows redirects only to the same scheme, "
                    "host and port: use the final URL in --store"
                ) from None
            except urllib.error.URLError as exc:
                if watchdog.expired or isinstance(exc.reason, TimeoutError):
                    raise StoreError(self._late(url, what)) from None
                if isinstance(exc.reason, _DROPPED):
                    raise _ConnectionDropped(exc.reason) from None
                raise StoreError(self._unreachable(url, exc.reason, what)) from None
            except (http.client.HTTPException, OSError) as exc:
                if watchdog.expired or isinstance(exc, TimeoutError):
                    raise StoreError(self._late(url, what)) from None
                if isinstance(exc, _DROPPED):
                    raise _ConnectionDropped(exc) from None
                raise StoreError(self._broken(url, exc, what)) from None
            except ValueError as exc:
                raise StoreError(self._broken(url, exc, what)) from None

    def _read(self, answer: Any, url: str, what: str) -> bytes:
        """The whole body, read in pieces, refused past the size cap."""
        declared = str(answer.headers.get("Content-Length", "")).strip()
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = answer.read1(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > self._max_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _late(self, url: str, what: str) -> str:
        return (
            f"{what} at {_where(url)} got no complete answer within {self._timeout:g} s; "
            f"check the server, or raise {ENV['timeout']}"
        )

    def _http_message(self, exc: urllib.error.HTTPError, url: str, what: str) -> str:
        detail = _short(_error_body(exc))
        where = _where(url)
        if exc.code in (401, 403):
            if self._has_credentials:
                hint = (
                    "the server refused the credentials; check "
                    f"{ENV['user']}/{ENV['password']} or the netrc entry, and "
                    f"{ENV['auth']} (basic or digest)"
                )
            else:
                hint = (
                    "the server wants credentials; set "
                    f"{ENV['user']} and {ENV['password']} (or add the host to ~/.netrc) and "
                    f"{ENV['auth']}=basic or digest"
                )
            return f"{what} at {where} was refused (HTTP {exc.code}): {hint}"
        if exc.code == 404:
            return (
                f"{what} at {where} found no endpoint there (HTTP 404); check the --store "
                f"URL and {ENV['update_url']} / {ENV['gsp_url']}"
            )
        if exc.code in (406, 415):
            return (
                f"{what} at {where} was refused: the server does not accept the format "
                f"(HTTP {exc.code}{': ' + detail if detail else ''}); set "
                f"{ENV['upload_format']}=turtle or n-triples"
            )
        return f"{what} at {where} failed (HTTP {exc.code}{': ' + detail if detail else ''})"

    @staticmethod
    def _unreachable(url: str, reason: object, what: str) -> str:
        return (
            f"{what} could not reach the SPARQL server at {_where(url)} "
            f"({_short(str(reason).encode(), 200)}); check that the server runs and that the "
            "--store URL is right"
        )

    @staticmethod
    def _broken(url: str, exc: Exception, what: str) -> str:
        return (
            f"{what} at {_where(url)} got a broken HTTP answer "
            f"({type(exc).__name__}: {_short(str(exc).encode(), 200)}); is the --store URL a "
            "SPARQL endpoint?"
        )


def _error_body(exc: urllib.error.HTTPError) -> bytes:
    """At most ERROR_BODY_LIMIT bytes of an error answer's body."""
    fp = exc.fp
    if fp is None:
        return b""
    chunks: list[bytes] = []
    total = 0
    try:
        while total < ERROR_BODY_LIMIT:
            chunk = (fp.read1 if hasattr(fp, "read1") else fp.read)(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except (OSError, http.client.HTTPException, ValueError):
        pass
    return b"".join(chunks)[:ERROR_BODY_LIMIT]


def _where(url: str) -> str:
    """Where a request went, fit to print: no user info and no query string at all."""
    return redact(url).partition("?")[0]


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB"


def _short(body: bytes, limit: int = 300) -> str:
    """Server text fit to echo: decoded, control characters removed, spaces folded, shortened."""
    text = " ".join(printable(body.decode("utf-8", "replace")).split())
    return text if len(text) <= limit else text[:limit] + "…"
