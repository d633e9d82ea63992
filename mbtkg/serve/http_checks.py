"""Checks on a request's headers before anything is read from the store.

- ``Host`` must name this server: a loopback name or the bound address, with the bound port. A
  page on another site that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own name
  as Host and is refused.
- ``Origin``, when a browser sends one, must be this server's own origin; ``Sec-Fetch-Site``,
  when sent, must be ``same-origin`` or ``none`` (typed in the address bar). A client that is not
  a browser sends neither and is let through: it could reach the socket directly anyway.
- ``Content-Length`` must be a plain decimal number within the body limit.
"""

from __future__ import annotations

import ipaddress
from http import HTTPStatus

from .refused import Refused

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def allowed_hosts(bound_host: str, port: int) -> frozenset[str]:
    """The Host header values that name this server (lower case, with the port)."""
    names = set(_LOOPBACK_NAMES)
    if bound_host not in ("", "0.0.0.0", "::"):
        try:
            address = ipaddress.ip_address(bound_host)
            names.add(f"[{address}]" if address.version == 6 else str(address))
        except ValueError:
            names.add(bound_host.lower())
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(hosts)


def check_host(value: str | None, allowed: frozenset[str]) -> None:
    """Refuse a request whose Host header does not name this server."""
    if value is None or value.strip().lower().rstrip(".") not in allowed:
        shown = "no Host header" if value is None else f"Host {value[:100]!r}"
        raise Refused(
            HTTPStatus.FORBIDDEN,
            f"{shown} does not name this server; use one of: {', '.join(sorted(allowed))}",
        )


def check_origin(origin: str | None, fetch_site: str | None, allowed: frozenset[str]) -> None:
    """Refuse a browser request sent from another site."""
    if origin is not None:
        scheme, _, host = origin.strip().lower().partition("://")
        if scheme != "http" or host not in allowed:
            raise Refused(
                HTTPStatus.FORBIDDEN,
                f"requests from origin {origin[:100]!r} are refused: only pages of this server "
                "may query it",
            )
    if fetch_site is not None and fetch_site.strip().lower() not in ("same-origin", "none"):
        raise Refused(
            HTTPStatus.FORBIDDEN,
            f"a {fetch_site[:30]!r} request is refused: only pages of this server may query it",
        )


def content_length(value: str | None, limit: int) -> int:
    """The declared body length: a decimal number of at most ``limit`` bytes."""
    if value is None:
        raise Refused(HTTPStatus.LENGTH_REQUIRED, "a POST needs a Content-Length header")
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise Refused(
            HTTPStatus.BAD_REQUEST,
            f"Content-Length {value[:30]!r} is not a length; expected a number of bytes",
        )
    length = int(text)
    if length > limit:
        raise Refused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the request body has {length} bytes, more than the limit of {limit}",
        )
    return length
