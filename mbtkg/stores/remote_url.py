"""Endpoint URLs of a remote SPARQL store: checked before use and redacted before display.

A store URL may carry a secret in its query string (``?apikey=...``); every message, summary
and ``repr`` shows the URL through ``redact``, which keeps the scheme, host, port and path and
hides every query value. A password in the URL itself (``user:pw@host``) is refused: it would
sit in shell histories and process lists, and settings.py has a safer place for it.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl, urlsplit

from ..errors import StoreError
from .settings import ENV

HIDDEN = "***"


def check_endpoint(url: str, *, what: str) -> str:
    """Return ``url`` if it is a usable http(s) endpoint; raise StoreError saying why not.

    ``what`` names where the URL came from ("the --store URL", "MBTKG_SPARQL_UPDATE_URL").
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise StoreError(
            f"{what} is not a valid URL ({redact(url)}); expected http(s)://HOST[:PORT]/PATH"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(
            f"{what} must be an http:// or https:// URL with a host, found {redact(url)}"
        )
    if parts.username is not None or parts.password is not None:
        raise StoreError(
            f"{what} carries credentials (user:password@ before the host), which would show in "
            "shell histories and process lists; remove them from the URL and set "
            f"{ENV['user']} and {ENV['password']} or a ~/.netrc entry for the host instead"
        )
    if port == 0:
        raise StoreError(f"{what} names port 0 ({redact(url)}); expected a port from 1 to 65535")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise StoreError(f"{what} contains spaces or control characters; encode them as %XX")
    return url


def redact(url: str) -> str:
    """The URL fit to print: no user info, no fragment, every query value replaced by ***.

    >>> redact("https://bob:pw@example.org:8890/sparql?apikey=s3cret&x=1#top")
    'https://example.org:8890/sparql?apikey=***&x=***'
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an unreadable URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else f"{host}{parts.path}"
    if parts.query:
        names = [name for name, _value in parse_qsl(parts.query, keep_blank_values=True)]
        shown += "?" + "&".join(f"{name}={HIDDEN}" for name in names) if names else f"?{HIDDEN}"
    return printable(shown)


def redact_selector(selector: str) -> str:
    """A store selector fit to print: the URL part of ``sparql+http(s)://`` redacted."""
    scheme, sep, rest = selector.partition("://")
    if not sep:
        return printable(selector)
    head, plus, inner = scheme.rpartition("+")
    return f"{head}{plus}{redact(f'{inner}://{rest}')}"


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def printable(text: str) -> str:
    """``text`` with control and formatting characters (escapes, bidi overrides) removed."""
    return "".join(
        " " if c in "\t\n\r" else c
        for c in text
        if c in "\t\n\r" or not unicodedata.category(c).startswith("C")
    )
