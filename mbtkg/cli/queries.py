"""``mbtkg query``: run a competency query, any SPARQL file or text, or list the queries."""

from __future__ import annotations

import os

import click

from ..errors import QueryError
from ..queries import (
    CompetencyQuery,
    check_ids,
    get_query,
    list_queries,
    nearest_window,
    repeats_restrictions,
)
from ..stores.base import Rows, Store
from ..user_sparql import Answer, check_located, run
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


def _list() -> None:
    for q in list_queries():
        click.echo(f"{q.name}\n    {q.question}")
        for p in q.parameters:
            extra = ", required" if p.required else (f", default {p.default}" if p.default else "")
            if p.minimum is not None or p.maximum is not None:
                extra += f", {p.accepted()}"
            click.echo(f"    --param {p.name}=… ({p.type}{extra}): {p.help}")


def _empty_sentence(store: Store, query: CompetencyQuery, values: dict[str, str]) -> str:
    """Why an answer has no rows, naming the query, its parameters and, for a window, the
    nearest window that would answer."""
    said = f"no rows: {query.describe(values)} matched nothing in {store.selector}"
    window = query.window()
    if window is None:
        return said
    k = values.get(window.name, window.default)
    nearest = nearest_window(store, query, values)
    if nearest is None:
        widest = window.maximum if window.maximum is not None else "any"
        return (
            f"{said}; no match within {window.name}={k} turns, nor within any window up to "
            f"{window.name}={widest}"
        )
    return (
        f"{said}; no match within {window.name}={k} turns; the nearest is {nearest} turns away"
        f" — try --param {window.name}={nearest}"
    )


def _print_rows(rows: Rows, fmt: str, empty: str) -> None:
    if rows.rows or fmt != "table":
        click.echo(render(rows, fmt))
    if not rows.rows:
        click.echo(empty, err=fmt != "table")


def _print_answer(answer: Answer, fmt: str, empty: str) -> None:
    if answer.rows is not None:
        _print_rows(answer.rows, fmt, empty)
    elif answer.boolean is not None:
        click.echo("true" if answer.boolean else "false")
    else:
        click.echo((answer.turtle or "").rstrip("\n"))
        if not answer.triples:
            click.echo(empty.replace("no rows", "no triples"), err=True)


@click.command()
@click.argument("name", required=False)
@click.option(
    "--sparql",
    "sparql_text",
    default=None,
    metavar="TEXT",
    help="Run this SPARQL query text (SELECT, ASK, CONSTRUCT or DESCRIBE) instead of NAME.",
)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A query parameter (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="For SELECT answers; ASK prints true or false, CONSTRUCT and DESCRIBE print Turtle.",
)
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
    sparql_text: str | None,
    params: tuple[str, ...],
    fmt: str,
    list_: bool,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """Run competency query NAME, a SPARQL FILE (.rq), or --sparql TEXT, and print its answer.

    Any SELECT, ASK, CONSTRUCT or DESCRIBE query runs; the usual prefixes (mbt:, rdf:, rdfs:,
    owl:, xsd:, skos:, dcterms:, prov:, oa: ...) are declared for you. A '# title:' /
    '# question:' header is optional; '# param:' lines make --param values safe to bind.
    """
    if list_:
        _list()
        return
    values = _params(params)
    if sparql_text is not None:
        if name is not None:
            raise click.UsageError("give a query NAME or FILE, or --sparql TEXT, not both")
        if values:
            raise QueryError(
                "--param binds the '# param:' lines of a query file; --sparql text has none: "
                "write the values into the text, or save it as a .rq file with a header"
            )
        check_located(sparql_text, source="--sparql")  # refused before a store is opened
        with loaded_store(store, load_paths, purpose="querying") as target:
            answer = run(target, sparql_text, source="--sparql")
            empty = f"no rows: the --sparql query matched nothing in {target.selector}"
        _print_answer(answer, fmt, empty)
        return
    if name is None:
        raise click.UsageError("give a query NAME or FILE, --sparql TEXT, or --list")
    if name.endswith(".rq") and not os.path.isfile(name):
        raise QueryError(f"{name}: no such query file")
    if not name.endswith(".rq") and os.path.isfile(name):
        raise QueryError(
            f"{name}: a query file's name ends in .rq; rename it, or pass its text with --sparql"
        )
    cq = get_query(name)
    cq.check()  # unknown names and refused queries fail before a store is opened
    source = str(cq.path) if name.endswith(".rq") else f"query {cq.name!r}"
    with loaded_store(store, load_paths, purpose="querying") as target:
        check_ids(target, cq, values)
        text = cq.bind(values, repeats=repeats_restrictions(target))
        answer = run(target, text, source=source)
        empty = f"no rows: {cq.describe(values)} matched nothing in {target.selector}"
        if answer.rows is not None and not answer.rows.rows:
            empty = _empty_sentence(target, cq, values)
    _print_answer(answer, fmt, empty)


COMMANDS = [query]
