"""Per-server settings of a remote SPARQL store: endpoints, upload format and credentials.

Settings come from the environment (or an API argument), never from the command line, so a
password never shows in a shell history or a process list. Credentials come from
``MBTKG_SPARQL_USER`` / ``MBTKG_SPARQL_PASSWORD`` or, failing that, from the netrc file
(``NETRC`` or ``~/.netrc``) entry of the server's host. The password is kept out of every
``repr`` and message.
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import StoreError

AUTH_SCHEMES = ("none", "basic", "digest")
#: Server dialects: "standard" sends queries as written; "virtuoso" adds the pragma that makes
#: Virtuoso join in the written order (see docs/stores.md). Default: detected from the server.
DIALECTS = ("standard", "virtuoso")
#: Upload formats: name -> (pyoxigraph format name, media type sent to the server).
UPLOAD_FORMATS = {
    "turtle": ("TURTLE", "text/turtle"),
    "n-triples": ("N_TRIPLES", "application/n-triples"),
    "rdf-xml": ("RDF_XML", "application/rdf+xml"),
    "json-ld": ("JSON_LD", "application/ld+json"),
}

ENV = {
    "update_url": "MBTKG_SPARQL_UPDATE_URL",
    "gsp_url": "MBTKG_SPARQL_GSP_URL",
    "auth": "MBTKG_SPARQL_AUTH",
    "user": "MBTKG_SPARQL_USER",
    "password": "MBTKG_SPARQL_PASSWORD",
    "upload_format": "MBTKG_SPARQL_UPLOAD_FORMAT",
    "timeout": "MBTKG_SPARQL_TIMEOUT",
    "dialect": "MBTKG_SPARQL_DIALECT",
    "max_response_mb": "MBTKG_SPARQL_MAX_RESPONSE_MB",
}
#: The largest answer read from a server unless MBTKG_SPARQL_MAX_RESPONSE_MB says otherwise.
DEFAULT_MAX_RESPONSE_BYTES = 512 * 2**20


@dataclass(frozen=True)
class RemoteSettings:
    """How to reach one SPARQL 1.1 server beyond its query URL.

    ``update_url``: the SPARQL Update endpoint (default: the query URL with a final ``/query``
    replaced by ``/update``, else the query URL itself). ``gsp_url``: the Graph Store Protocol
    endpoint (default: a final ``/query`` replaced by ``/store``, else none, and loads are sent
    as SPARQL Update). ``auth``: ``none``, ``basic`` or ``digest`` (default: ``basic`` when a user
    is set). ``timeout``: seconds one HTTP request may take in all (connecting, sending, and
    receiving the whole answer). ``max_response_bytes``: the largest answer accepted. ``dialect``: ``standard`` or ``virtuoso``
    (default: detected from the server's ``Server`` header on the first query).
    """

    update_url: str | None = None
    gsp_url: str | None = None
    auth: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    upload_format: str = "turtle"
    timeout: float = 300.0
    dialect: str | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        if not 0 < self.timeout <= 86400:
            raise StoreError(
                f"{ENV['timeout']} must be a number of seconds above 0 and at most 86400, "
                f"found {self.timeout!r}"
            )
        if self.max_response_bytes < 1:
            raise StoreError(f"{ENV['max_response_mb']} must be a positive number of MiB")
        if self.dialect is not None and self.dialect not in DIALECTS:
            raise StoreError(
                f"unknown server dialect {self.dialect!r} ({ENV['dialect']}); "
                f"expected one of {', '.join(DIALECTS)}"
            )
        if self.auth is not None and self.auth not in AUTH_SCHEMES:
            raise StoreError(
                f"unknown authentication scheme {self.auth!r} ({ENV['auth']}); "
                f"expected one of {', '.join(AUTH_SCHEMES)}"
            )
        if self.upload_format not in UPLOAD_FORMATS:
            raise StoreError(
                f"unknown upload format {self.upload_format!r} ({ENV['upload_format']}); "
                f"expected one of {', '.join(UPLOAD_FORMATS)}"
            )

    def resolved(self, query_url: str) -> RemoteSettings:
        """These settings with the endpoint defaults and netrc credentials filled in."""
        base = query_url[: -len("/query")] if query_url.endswith("/query") else None
        update = self.update_url or (f"{base}/update" if base else query_url)
        gsp = self.gsp_url or (f"{base}/store" if base else None)
        user, password = self.user, self.password
        if user is None:
            user, password = netrc_credentials(update)
        auth = self.auth or ("basic" if user else "none")
        return replace(
            self, update_url=update, gsp_url=gsp, auth=auth, user=user, password=password
        )


def settings_from_env(environ: Mapping[str, str] | None = None) -> RemoteSettings:
    """Read RemoteSettings from the ``MBTKG_SPARQL_*`` environment variables."""
    env = os.environ if environ is None else environ
    timeout_text = env.get(ENV["timeout"])
    try:
        timeout = float(timeout_text) if timeout_text else 300.0
    except (ValueError, OverflowError):
        raise StoreError(
            f"{ENV['timeout']} must be a number of seconds, found {timeout_text!r}"
        ) from None
    size_text = env.get(ENV["max_response_mb"])
    try:
        max_bytes = int(float(size_text) * 2**20) if size_text else DEFAULT_MAX_RESPONSE_BYTES
    except (ValueError, OverflowError):
        raise StoreError(
            f"{ENV['max_response_mb']} must be a number of MiB, found {size_text!r}"
        ) from None
    return RemoteSettings(
        update_url=env.get(ENV["update_url"]) or None,
        gsp_url=env.get(ENV["gsp_url"]) or None,
        auth=(env.get(ENV["auth"]) or None),
        user=env.get(ENV["user"]) or None,
        password=env.get(ENV["password"]) or None,
        upload_format=env.get(ENV["upload_format"]) or "turtle",
        timeout=timeout,
        dialect=env.get(ENV["dialect"]) or None,
        max_response_bytes=max_bytes,
    )


def netrc_credentials(url: str) -> tuple[str | None, str | None]:
    """The login and password the netrc file holds for the URL's host, or (None, None)."""
    path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    if not Path(path).is_file():
        return None, None
    try:
        entry = netrc.netrc(path).authenticators(urlsplit(url).hostname or "")
    except (netrc.NetrcParseError, OSError) as exc:
        raise StoreError(
            f"cannot read the netrc file {path}: {getattr(exc, 'msg', exc)}; fix it or set "
            f"{ENV['user']} and {ENV['password']}"
        ) from None
    if entry is None:
        return None, None
    return entry[0] or None, entry[2] or None
