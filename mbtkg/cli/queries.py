"""``mbtkg query``: run a competency query, or list them."""

from __future__ import annotations

import click

from ..errors import QueryError
from ..queries import get_query, list_queries, run_query
from . import handle_errors, loaded_store, store_option
from .render import FORMATS, render


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise QueryError(f"--param takes NAME=VALUE, found {pair!r}")
        out[key.strip()] = value
    return out


@click.command()
@click.argument("name", required=False)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A query parameter (repeatable).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--list", "list_", is_flag=True, help="List the competency queries and their questions."
)
@click.option(
    "--load",
    "load_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Session files to load first (repeatable).",
)
@store_option
@handle_errors
def query(
    name: str | None,
    params: tuple[str, ...],
    fmt: str,
    list_: bool,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """Run competency query NAME (or a .rq FILE) and print its answer."""
    if list_:
        for q in list_queries():
            click.echo(f"{q.name}\n    {q.question}")
            for p in q.parameters:
                extra = (
                    ", required" if p.required else (f", default {p.default}" if p.default else "")
                )
                click.echo(f"    --param {p.name}=… ({p.type}{extra}): {p.help}")
        return
    if name is None:
        raise click.UsageError("give a query NAME or FILE, or --list")
    get_query(name).check()  # unknown names and refused queries fail before a store is opened
    with loaded_store(store, load_paths, purpose="querying") as target:
        rows = run_query(target, name, _params(params))
    click.echo(render(rows, fmt))


COMMANDS = [query]
