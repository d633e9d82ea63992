"""``mbtkg bench``: measure load, validation and queries against their limits."""

from __future__ import annotations

import json

import click

from ..bench import PHASES, format_report, run_bench
from . import handle_errors


@click.command("bench")
@click.option("--sessions", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs per measurement; the median is reported.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the corpus.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for loads and validation (default: one per CPU).")  # fmt: skip
@click.option("--pyshacl-cap", type=click.IntRange(min=1), default=20, show_default=True,
              help="Compare with pySHACL on at most this many sessions (it takes seconds each).")  # fmt: skip
@click.option("--rdflib-cap", type=click.IntRange(min=0), default=100, show_default=True,
              help="Run the queries on rdflib only up to this many sessions.")  # fmt: skip
@click.option("--rdflib-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Give up on an rdflib query after this many seconds.")  # fmt: skip
@click.option("--disk", is_flag=True, help="Load into on-disk stores instead of memory.")
@click.option("--turns", type=click.IntRange(min=12), default=200, show_default=True,
              help="Typical turns per generated session.")  # fmt: skip
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Where the temporary corpus and stores go (default: the system temp dir).")  # fmt: skip
@click.option("--only", "only", type=click.Choice(PHASES), multiple=True,
              help="Measure only these phases (repeatable); `--only load` keeps no session in "
              "memory, for corpora of 10,000 sessions.")  # fmt: skip
@click.option("--cli-runs", type=click.IntRange(min=1), default=None,
              help="Runs of each command timed by the cli phase (default: --repeat).")  # fmt: skip
@click.option("--reader-sizes", default="1000,10000,100000", show_default=True,
              help="Turns of the single big sessions the readers phase reads (comma-separated).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@handle_errors
def bench(
    sessions: int,
    repeat: int,
    seed: int,
    jobs: int | None,
    pyshacl_cap: int,
    rdflib_cap: int,
    rdflib_timeout: float,
    disk: bool,
    turns: int,
    workdir: str | None,
    only: tuple[str, ...],
    cli_runs: int | None,
    reader_sizes: str,
    as_json: bool,
) -> None:
    """Benchmark a generated corpus of SESSIONS sessions; print medians and ratios."""
    result = run_bench(
        sessions,
        repeat=repeat,
        seed=seed,
        jobs=jobs,
        pyshacl_cap=pyshacl_cap,
        rdflib_cap=rdflib_cap,
        rdflib_timeout=rdflib_timeout,
        disk=disk,
        workdir=workdir,
        turns=turns,
        phases=only or PHASES,
        cli_runs=cli_runs,
        reader_sizes=_sizes(reader_sizes),
    )
    click.echo(json.dumps(result, indent=2) if as_json else format_report(result))


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(
            f"found {text!r}; expected whole numbers separated by commas, e.g. 1000,10000",
            param_hint="--reader-sizes",
        ) from None
    if not sizes or min(sizes) < 12:
        raise click.BadParameter(
            f"found {text!r}; expected sizes of at least 12 turns", param_hint="--reader-sizes"
        )
    return sizes


COMMANDS = [bench]
