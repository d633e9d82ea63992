"""``mbtkg generate``: write a synthetic corpus of sessions for benchmarks and tests."""

from __future__ import annotations

import click

from ..generate import generate_corpus
from . import handle_errors


@click.command("generate")
@click.option("--sessions", type=click.IntRange(min=0), required=True, help="How many sessions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same files.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Directory to write the YAML files and manifest.json into (created if missing).",
)
@click.option(
    "--inject-errors",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Plant this many errors of known kinds; manifest.json lists each with its line.",
)
@click.option(
    "--turns",
    type=click.IntRange(min=12),
    default=200,
    show_default=True,
    help="Typical turns per session; annotations scale with it.",
)
@handle_errors
def generate(sessions: int, seed: int, out: str, inject_errors: int, turns: int) -> None:
    """Write synthetic YAML sessions (about 200 turns and 100 annotations each).

    The talk is stitched from fictional sentences; the structure is realistic: concepts drawn
    from the ontology, ruptures followed by repairs, a second coder on some sessions.
    """
    corpus = generate_corpus(
        out, sessions=sessions, seed=seed, inject_errors=inject_errors, turns=turns
    )
    click.echo(
        f"wrote {len(corpus.files)} session(s) to {corpus.directory} "
        f"with {len(corpus.errors)} planted error(s); see {corpus.manifest}"
    )


COMMANDS = [generate]
