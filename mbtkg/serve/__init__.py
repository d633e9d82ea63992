"""``mbtkg serve``: a local SPARQL 1.1 endpoint over the embedded store, with a YASGUI page.

Loopback and read-only by default; SERVICE refused; time and result-size limits. See
``endpoint`` for the protocol and the limits, ``page`` for the web page, ``results`` for the
result formats.
"""

from __future__ import annotations

import ipaddress

from .endpoint import ServeOptions, make_server


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["ServeOptions", "is_loopback", "make_server"]
