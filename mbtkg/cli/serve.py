"""``mbtkg serve``: run a local SPARQL endpoint and web page over the embedded store."""

from __future__ import annotations

import os
import secrets

import click

from ..errors import StoreError
from ..loading import load, session_ids
from ..resources import example_sessions
from ..serve import ServeOptions, is_loopback, make_server
from ..stores import open_store
from ..stores.base import is_servable
from . import handle_errors, store_option


@click.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7878, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--allow-update", is_flag=True, help="Accept SPARQL Update requests (read-only by default)."
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a query may run before the endpoint answers HTTP 503.",
)
@click.option(
    "--max-rows",
    default=10_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest answer (rows or triples); larger answers are refused with HTTP 400.",
)
@click.option(
    "--max-memory",
    default=2048,
    show_default=True,
    type=click.IntRange(min=64),
    help="MiB of memory one query may use beyond the server's own; past it the query is "
    "stopped (HTTP 503).",
)
@click.option(
    "--max-running",
    default=2,
    show_default=True,
    type=click.IntRange(min=1, max=64),
    help="Queries run at once (each in its own process); more wait their turn.",
)
@handle_errors
def serve(
    store: str | None,
    host: str,
    port: int,
    allow_update: bool,
    timeout: float,
    max_rows: int,
    max_memory: int,
    max_running: int,
) -> None:
    """Serve the store as a SPARQL endpoint at /sparql, with a query page at /.

    Updates (with --allow-update) are accepted only as a POST with Content-Type
    application/sparql-update and the header 'Authorization: Bearer TOKEN', where TOKEN is
    printed at start (or taken from MBTKG_SERVE_TOKEN).

    An on-disk store is opened read-only: other commands can read it while it is served, and
    the server answers from the store as it was when it started, or after its own last update.
    With --allow-update the server holds the store's lock, so no other process writes to it.
    """
    # a disk store is served read-only, without its lock, so `mbtkg query` and the other
    # commands can read it while it is served; with --allow-update each update opens a writer
    # of its own (query workers are forked from this process, never next to a live writer)
    target = open_store(store, read_only=True)
    if not is_servable(target):
        target.close()
        raise StoreError(
            f"mbtkg serve works on the embedded store (oxigraph:memory or oxigraph:DIR); "
            f"{target.selector} is already a SPARQL server: query it directly"
        )
    if allow_update:
        try:
            target.keep_other_writers_out()  # the server owns a store it writes to
        except StoreError:
            target.close()
            raise
    if target.path is None and not session_ids(target):
        summary = load(example_sessions(), target)
        click.echo(f"(empty in-memory store: {summary})", err=True)
    if not is_loopback(host):
        click.secho(
            f"WARNING: listening on {host}, not loopback: anyone who can reach this machine can "
            "read every session in the store. Use --host 127.0.0.1 unless you mean it.",
            err=True,
            fg="red",
            bold=True,
        )
    token = (
        (os.environ.get("MBTKG_SERVE_TOKEN") or secrets.token_urlsafe(24)) if allow_update else None
    )
    options = ServeOptions(
        allow_update=allow_update,
        token=token,
        timeout=timeout,
        max_rows=max_rows,
        max_memory=max_memory * 1024 * 1024,
        max_running=max_running,
    )
    try:
        server = make_server(target, host=host, port=port, options=options)
    except OSError as exc:
        target.close()
        raise StoreError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port"
        ) from None
    bound_port = server.server_address[1]
    mode = "read-write" if allow_update else "read-only"
    click.echo(
        f"mbtkg serve: {target.selector} ({mode}) at http://{host}:{bound_port}/ "
        f"(SPARQL endpoint /sparql); Ctrl-C stops",
        err=True,
    )
    if token is not None and not os.environ.get("MBTKG_SERVE_TOKEN"):
        click.echo(
            f"updates: POST application/sparql-update with 'Authorization: Bearer {token}'",
            err=True,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        target.close()


COMMANDS = [serve]
