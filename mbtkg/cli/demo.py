"""``mbtkg demo``: load the bundled example sessions and answer every competency query."""

from __future__ import annotations

import click

from ..errors import StoreError
from ..loading import load, session_ids
from ..queries import list_queries, run_query
from ..resources import example_sessions
from ..stores import open_store
from . import handle_errors, store_option
from .render import render


@click.command()
@store_option
@click.option(
    "--force",
    "--yes",
    "force",
    is_flag=True,
    help="Add the fictional examples even to a store that holds other sessions.",
)
@handle_errors
def demo(store: str | None, force: bool) -> None:
    """Load the example sessions, validate them, and print every competency query's answer.

    A store that already holds sessions other than the examples is left alone unless --force:
    the examples are fiction and would be mixed into its answers.
    """
    target = open_store(store)
    try:
        files = example_sessions()
        # every example file is named after the id of the session it holds
        others = sorted(set(session_ids(target)) - {p.stem for p in files})
        if others and not force:
            shown = ", ".join(others[:5]) + (
                f" and {len(others) - 5} more" if len(others) > 5 else ""
            )
            raise StoreError(
                f"{target.selector} holds {len(others)} session(s) that are not the examples "
                f"({shown}); the demo would mix its fictional sessions into them. Run the demo on "
                "an empty store (the default, oxigraph:memory, or a new folder), or add --force"
            )
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
