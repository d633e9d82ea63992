"""``mbtkg demo``: load the bundled example sessions and answer every competency query."""

from __future__ import annotations

import click

from ..loading import load
from ..queries import list_queries, run_query
from ..resources import example_sessions
from ..stores import open_store
from . import handle_errors, store_option
from .render import render


@click.command()
@store_option
@handle_errors
def demo(store: str | None) -> None:
    """Load the example sessions, validate them, and print every competency query's answer."""
    target = open_store(store)
    try:
        files = example_sessions()
        summary = load(files, target)
        click.echo(f"mbtkg demo: {summary} into {target.selector}")
        click.echo("every session conforms to the SHACL shapes\n")
        for q in list_queries():
            args = " ".join(f"{k}={v}" for k, v in q.example.items())
            click.echo(f"== {q.title} [{q.name}{' ' + args if args else ''}]")
            click.echo(f"   {q.question}\n")
            click.echo(render(run_query(target, q.name, q.example), "table"))
            click.echo("")
    finally:
        target.close()


COMMANDS = [demo]
