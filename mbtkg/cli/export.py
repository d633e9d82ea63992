"""``mbtkg export``: write one stored session as JSON-LD, Turtle or YAML."""

from __future__ import annotations

from pathlib import Path

import click

from ..export import FORMATS, export_session
from ..stores import open_store
from . import handle_errors, store_option


@click.command("export")
@click.argument("session")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonld", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@store_option
@handle_errors
def export(session: str, fmt: str, out: str | None, store: str | None) -> None:
    """Write the session SESSION (its id) from a store as JSON-LD, Turtle or YAML."""
    target = open_store(store)
    try:
        text = export_session(target, session, fmt)
    finally:
        target.close()
    if out:
        Path(out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"wrote session {session!r} as {fmt} to {out}")
    else:
        click.echo(text)


COMMANDS = [export]
