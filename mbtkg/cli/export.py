"""``mbtkg export``: stored sessions as JSON-LD, Turtle, YAML or a REFI-QDA project, and the
ontology's code book for QDA tools (``--codebook``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from ..export import FORMATS, export_session, export_sessions_qdpx
from ..loading import session_ids
from ..qda_export import codebook_tree, codebook_xml
from ..stores import open_store
from ..stores.base import Store
from . import handle_errors, store_option

#: The formats of ``--format``: the one-session text formats and the QDA project.
CHOICES = (*FORMATS, "qdpx")


def _check_store(target: Store) -> None:
    """A new process's memory store is empty: say so instead of "no session 'x'"."""
    if target.selector == "oxigraph:memory" and not session_ids(target):
        raise InputError(
            "the default store oxigraph:memory is empty in a new process; name the store you "
            "loaded into, e.g. --store oxigraph:./kg"
        )


def _write(path: str, data: bytes) -> None:
    """Write a file; a folder that does not exist or a refused write is an input error."""
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


@click.command("export")
@click.argument("sessions", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(CHOICES), default="jsonld", show_default=True)
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option(
    "--codebook",
    type=click.Path(dir_okay=False),
    help="Also (or only) write the ontology's codable concepts as a REFI-QDA code book (.qdc).",
)
@store_option
@handle_errors
def export(
    sessions: tuple[str, ...], fmt: str, out: str | None, codebook: str | None, store: str | None
) -> None:
    """Write stored sessions (their ids) as JSON-LD, Turtle, YAML (one session) or a REFI-QDA
    project (--format qdpx, one or more sessions, with --out FILE.qdpx), and the code book."""
    if not sessions and not codebook:
        raise InputError("name a session id to export, or give --codebook FILE.qdc")
    if fmt == "qdpx" and sessions and not out:
        raise InputError("--format qdpx writes a zip archive: give --out FILE.qdpx")
    if fmt != "qdpx" and len(sessions) > 1:
        raise InputError(
            f"--format {fmt} writes one session; give one id, or --format qdpx for several "
            f"(got {len(sessions)})"
        )
    if codebook:
        tree = codebook_tree()
        _write(codebook, codebook_xml(tree))
        count = sum(1 for top in tree for _ in top.walk())
        click.echo(
            f"wrote the code book ({count} codes in {len(tree)} ontology branches) to {codebook}"
        )
    if not sessions:
        return
    target = open_store(store)
    try:
        _check_store(target)
        if fmt == "qdpx":
            assert out is not None
            result = export_sessions_qdpx(target, sessions)
            _write(out, result.data)
            click.echo(result.describe(out))
            return
        text = export_session(target, sessions[0], fmt)
    finally:
        target.close()
    if out:
        _write(out, (text if text.endswith("\n") else text + "\n").encode("utf-8"))
        click.echo(f"wrote session {sessions[0]!r} as {fmt} to {out}")
    else:
        click.echo(text)


COMMANDS = [export]
