"""A small HTTP client for SPARQL servers: one opener with the server's credentials, and errors
turned into one sentence that says what to do next.

Standard library only (``urllib`` with ``HTTPBasicAuthHandler`` or ``HTTPDigestAuthHandler``).
Credentials are handed to the auth handler and never appear in a message or a ``repr``.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import StoreError
from .settings import ENV, RemoteSettings


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, media type and body."""

    status: int
    content_type: str
    body: bytes
    server: str = ""


class HttpClient:
    """Sends requests to one server with the configured authentication."""

    def __init__(self, settings: RemoteSettings, urls: tuple[str, ...]) -> None:
        self._timeout = settings.timeout
        handlers: list[urllib.request.BaseHandler] = []
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
                handlers.append(urllib.request.HTTPDigestAuthHandler(manager))
            else:
                handlers.append(urllib.request.HTTPBasicAuthHandler(manager))
        self._opener = urllib.request.build_opener(*handlers)
        self._has_credentials = settings.user is not None

    def __repr__(self) -> str:
        return "HttpClient(<credentials hidden>)"

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
        """
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self._opener.open(request, timeout=self._timeout) as answer:
                return Response(
                    answer.status,
                    answer.headers.get("Content-Type", ""),
                    answer.read(),
                    answer.headers.get("Server", ""),
                )
        except urllib.error.HTTPError as exc:
            raise StoreError(self._http_message(exc, url, what)) from None
        except urllib.error.URLError as exc:
            raise StoreError(self._unreachable(url, exc.reason, what)) from None
        except TimeoutError:
            raise StoreError(
                f"{what} at {_where(url)} got no answer within {self._timeout:g} s; "
                f"check the server, or raise {ENV['timeout']}"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise StoreError(self._unreachable(url, exc, what)) from None

    def _http_message(self, exc: urllib.error.HTTPError, url: str, what: str) -> str:
        detail = _short(exc.read())
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
            return f"{what} at {_where(url)} was refused (HTTP {exc.code}): {hint}"
        if exc.code == 404:
            return (
                f"{what} at {_where(url)} found no endpoint there (HTTP 404); check the --store "
                f"URL and {ENV['update_url']} / {ENV['gsp_url']}"
            )
        if exc.code in (406, 415):
            return (
                f"{what} at {_where(url)} was refused: the server does not accept the format "
                f"(HTTP {exc.code}{': ' + detail if detail else ''}); set "
                f"{ENV['upload_format']}=turtle or n-triples"
            )
        return f"{what} at {_where(url)} failed (HTTP {exc.code}{': ' + detail if detail else ''})"

    @staticmethod
    def _unreachable(url: str, reason: object, what: str) -> str:
        return (
            f"{what} could not reach the SPARQL server at {_where(url)} ({reason}); check that "
            "the server runs and that the --store URL is right"
        )


def _where(url: str) -> str:
    """The URL without its query string or any user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _short(body: bytes, limit: int = 300) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[:limit] + "…"
