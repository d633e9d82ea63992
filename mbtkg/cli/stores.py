"""``mbtkg sessions`` and ``mbtkg drop``: what a store holds, and removing a session.

Also ``progress_bar``: a stderr progress bar for loads, driven by ``mbtkg.loading.Progress``
calls, silent when stderr is not a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..loading import Progress, drop_session, session_overview
from ..stores import open_store
from . import handle_errors, store_option

_STAGES = {"check": "checking", "read": "reading", "validate": "validating", "write": "writing"}


@contextmanager
def progress_bar(*, enabled: bool | None = None) -> Iterator[Progress]:
    """A Progress hook that draws one line on stderr; a no-op when stderr is not a TTY."""
    show = sys.stderr.isatty() if enabled is None else enabled
    drawn = False

    def report(stage: str, done: int, total: int) -> None:
        nonlocal drawn
        if not show or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        label = _STAGES.get(stage, stage)
        sys.stderr.write(f"\r{label:<10} [{bar}] {done}/{total}")
        sys.stderr.flush()
        drawn = True

    try:
        yield report
    finally:
        if drawn:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


@click.command()
@store_option
@handle_errors
def sessions(store: str | None) -> None:
    """List the sessions a store holds: id, triples, turns, annotations."""
    target = open_store(store)
    try:
        infos = session_overview(target)
    finally:
        target.close()
    if not infos:
        click.echo(f"no sessions in {target.selector}")
        return
    width = max(len("session"), *(len(i.session_id) for i in infos))
    click.echo(f"{'session':<{width}}  {'triples':>8}  {'turns':>6}  {'annotations':>11}")
    for i in infos:
        click.echo(f"{i.session_id:<{width}}  {i.triples:>8}  {i.turns:>6}  {i.annotations:>11}")
    click.echo(
        f"{len(infos)} session(s), {sum(i.triples for i in infos)} triples in {target.selector}"
    )


@click.command()
@click.argument("session_id", metavar="ID")
@store_option
@handle_errors
def drop(session_id: str, store: str | None) -> None:
    """Remove session ID (its whole named graph) from a store."""
    target = open_store(store)
    try:
        drop_session(target, session_id)
    finally:
        target.close()
    click.echo(f"dropped session {session_id} from {target.selector}")


COMMANDS = [sessions, drop]
