"""``mbtkg plot``: pictures of sessions as PNG or SVG (needs the ``plots`` extra)."""

from __future__ import annotations

import click

from ..errors import InputError
from ..plots import plot_timeline, plot_transitions
from . import handle_errors, loaded_store, store_option
from .analyze import annotator_option, load_option, patient_option, session_option

out_option = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The picture file; its name ends in .png or .svg.",
)


@click.group()
def plot() -> None:
    """Draw a session timeline or a mode-transition diagram (PNG or SVG)."""


def _stretch(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    first, sep, last = text.partition("-")
    if not sep or not first.strip().isdigit() or not last.strip().isdigit():
        raise InputError(f"--turns takes FIRST-LAST, for example 20-60; found {text!r}")
    return int(first), int(last)


@plot.command()
@click.argument("session")
@out_option
@click.option("--turns", default=None, metavar="FIRST-LAST", help="Draw only these turns.")
@load_option
@store_option
@handle_errors
def timeline(
    session: str, out: str, turns: str | None, load_paths: tuple[str, ...], store: str | None
) -> None:
    """A session's turns with lanes for speakers, modes, interventions, ruptures and trust."""
    stretch = _stretch(turns)
    with loaded_store(store, load_paths) as target:
        written = plot_timeline(target, session, out, turns=stretch)
    click.echo(f"wrote {written}")


@plot.command("transitions")
@session_option
@patient_option
@annotator_option
@out_option
@load_option
@store_option
@handle_errors
def transitions_command(
    session: str | None,
    patient: str | None,
    annotator: str | None,
    out: str,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """The transitions between prementalizing modes and mentalizing, one panel per coder."""
    with loaded_store(store, load_paths) as target:
        written = plot_transitions(
            target, out, session=session, patient=patient, annotator=annotator
        )
    click.echo(f"wrote {written}")


COMMANDS = [plot]
