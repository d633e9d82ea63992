"""``mbtkg validate`` and ``mbtkg load``."""

from __future__ import annotations

import sys

import click

from ..fast_shacl import default_compiled
from ..fast_shacl.parallel import validate_paths
from ..loading import DEFAULT_ENGINE, LoadInputError, load, validate_files
from ..stores import open_store
from ..validate import ENGINES
from ..validation_cache import ValidationCache, default_cache_dir
from . import EXIT_FAILED, EXIT_INPUT, handle_errors, store_option
from .stores import progress_bar


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="pyshacl",
    show_default=True,
    help="pyshacl (the reference) or fast (shapes compiled to SPARQL, run by Oxigraph; same results).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per CPU; pyshacl alone runs in one process).",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Remember results here and skip files unchanged since (default with --engine fast: "
    "the user cache directory).",
)
@click.option("--no-cache", is_flag=True, help="Validate every file, remember nothing.")
@handle_errors
def validate(
    paths: tuple[str, ...], engine: str, jobs: int | None, cache_dir: str | None, no_cache: bool
) -> None:
    """Check session files against the format and the SHACL shapes."""
    if engine == "pyshacl" and jobs is None and cache_dir is None:
        report, errors = validate_files(paths)
        note = ""
    else:
        cache = None
        if not no_cache and (cache_dir is not None or engine == "fast"):
            cache = ValidationCache(cache_dir or default_cache_dir())
        result = validate_paths(paths, engine=engine, jobs=jobs, cache=cache)
        report, errors = result.report, list(result.errors)
        note = f" ({result.from_cache} unchanged, from the cache)" if result.from_cache else ""
        fell_back = default_compiled().fell_back if engine == "fast" else ()
        for shape, reason in fell_back:
            click.echo(f"note: {shape} was checked by pySHACL ({reason})", err=True)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if not report.conforms:
        click.echo(str(report) + note, err=True)
    if errors:
        sys.exit(EXIT_INPUT)
    if not report.conforms:
        sys.exit(EXIT_FAILED)
    click.echo(str(report) + note)


@click.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@store_option
@click.option("--skip-invalid", is_flag=True, help="Load the valid files and skip the others.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_ENGINE,
    show_default=True,
    help="SHACL engine: fast (compiled to SPARQL; checked against the reference in the tests) "
    "or pyshacl (the reference).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes that read and validate files (default: one per CPU).",
)
@click.option(
    "--no-infer",
    is_flag=True,
    help="Skip the OWL 2 RL inferred graphs (docs/reasoning.md); queries of asserted data work.",
)
@handle_errors
def load_command(
    paths: tuple[str, ...],
    store: str | None,
    skip_invalid: bool,
    engine: str,
    jobs: int | None,
    no_infer: bool,
) -> None:
    """Validate session files and load them into a store, all or nothing."""
    target = open_store(store)
    recovered = target.recovered
    if recovered:
        click.echo(
            f"note: an earlier load into {target.selector} did not finish; its "
            f"{len(recovered)} graph(s) were dropped when the store was opened",
            err=True,
        )
    try:
        with progress_bar() as progress:
            summary = load(
                paths,
                target,
                skip_invalid=skip_invalid,
                engine=engine,
                progress=progress,
                jobs=jobs,
                infer=not no_infer,
            )
    except LoadInputError as exc:
        click.echo(f"error: nothing was loaded:\n{exc}", err=True)
        sys.exit(EXIT_INPUT)
    finally:
        target.close()
    for reason in summary.reasons:
        click.echo(f"skipped {reason}", err=True)
    click.echo(f"{summary} into {target.selector}")


COMMANDS = [validate, load_command]
