"""``mbtkg validate`` and ``mbtkg load``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import InputError, Location
from ..loading import DEFAULT_ENGINE, LoadInputError, load
from ..sessions.files import expand_session_paths
from ..stores import open_store
from ..stores.base import Store
from ..validation.cache import ValidationCache, default_cache_dir
from ..validation.fast_shacl import default_compiled
from ..validation.fast_shacl.parallel import validate_paths
from ..validation.validate import ENGINES
from . import EXIT_FAILED, EXIT_INPUT, handle_errors, store_option
from .stores import progress_bar

_PATHS_HELP = (
    "PATHS are session files, folders (the session files directly inside) or glob patterns "
    "such as 'sessions/*.yaml'."
)


@click.command(epilog=_PATHS_HELP)
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_ENGINE,
    show_default=True,
    help="fast (shapes compiled to SPARQL, run by Oxigraph; checked against the reference in "
    "the tests) or pyshacl (the reference; seconds per session).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per CPU).",
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json (conforms, violations with file and line, unreadable files) "
    "on stdout for machines.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="FILE.ttl",
    help="Also write a SHACL validation report (sh:ValidationReport, in Turtle) to this file.",
)
@handle_errors
def validate(
    paths: tuple[str, ...],
    engine: str,
    jobs: int | None,
    cache_dir: str | None,
    no_cache: bool,
    fmt: str,
    report_file: str | None,
) -> None:
    """Check session files against the format and the SHACL shapes.

    Exit status: 0 every session conforms, 1 a session does not, 2 a file cannot be read
    (then no report file is written).
    """
    files = expand_session_paths(paths)
    cache = None
    if not no_cache and (cache_dir is not None or engine == "fast"):
        cache = ValidationCache(cache_dir or default_cache_dir())
    with progress_bar() as progress:
        result = validate_paths(files, engine=engine, jobs=jobs, cache=cache, progress=progress)
    report, errors = result.report, list(result.errors)
    note = f" ({result.from_cache} unchanged, from the cache)" if result.from_cache else ""
    fell_back = default_compiled().fell_back if engine == "fast" else ()
    for shape, reason in fell_back:
        click.echo(f"note: {shape} was checked by pySHACL ({reason})", err=True)
    if report_file is not None:
        if errors:
            click.echo(
                f"note: no report written to {report_file}: {len(errors)} file(s) could not "
                "be read",
                err=True,
            )
        else:
            from ..validation.report import report_turtle  # rdflib: only when a report is asked

            _write_report(Path(report_file), report_turtle(report))
    if fmt == "json":
        from ..validation.report import report_json

        click.echo(report_json(report, errors))
    else:
        for error in errors:
            click.echo(f"error: {error}", err=True)
        if not report.conforms:
            click.echo(str(report) + note, err=True)
        elif not errors:
            click.echo(str(report) + note)
    if errors:
        sys.exit(EXIT_INPUT)
    if not report.conforms:
        sys.exit(EXIT_FAILED)


def _write_report(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot write the report: {exc.strerror or exc}", Location(str(path))
        ) from None


@click.command("load", epilog=_PATHS_HELP)
@click.argument("paths", nargs=-1, required=True)
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
@click.option(
    "--optimize/--no-optimize",
    default=None,
    help="Compact an oxigraph:DIR store after the load, for faster queries (default: when the "
    "load at least doubled the store's graphs, as a first load does; about 25 s for 1,000 "
    "sessions).",
)
@handle_errors
def load_command(
    paths: tuple[str, ...],
    store: str | None,
    skip_invalid: bool,
    engine: str,
    jobs: int | None,
    no_infer: bool,
    optimize: bool | None,
) -> None:
    """Validate session files and load them into a store, all or nothing.

    With --skip-invalid, files that cannot be read or do not conform are left out, each named
    on stderr with why; the others load. Without --store (or MBTKG_STORE) the store is
    oxigraph:memory, which ends with the command: use --store oxigraph:DIR to keep the sessions.
    """
    files = expand_session_paths(paths)
    target = open_store(store)
    recovered = target.recovered
    if recovered:
        click.echo(
            f"note: an earlier load into {target.selector} did not finish; its "
            f"{len(recovered)} graph(s) were dropped when the store was opened",
            err=True,
        )
    graphs_before = _graph_count(target)
    try:
        with progress_bar() as progress:
            summary = load(
                files,
                target,
                skip_invalid=skip_invalid,
                engine=engine,
                progress=progress,
                jobs=jobs,
                infer=not no_infer,
            )
        _optimize_after_load(target, optimize, graphs_before)
    except LoadInputError as exc:
        click.echo(f"error: nothing was loaded:\n{exc}", err=True)
        sys.exit(EXIT_INPUT)
    finally:
        target.close()
    for reason in summary.reasons:
        click.echo(f"skipped {reason}", err=True)
    click.echo(summary.describe(target.selector))
    if target.selector == MEMORY_SELECTOR:
        click.echo(MEMORY_NOTE, err=True)


def _graph_count(store: Store) -> int:
    return len(store.graph_names()) if store.compacts else 0


def _optimize_after_load(store: Store, optimize: bool | None, graphs_before: int) -> None:
    """Compact a disk store after a load when asked, or by default when the load at least
    doubled its graphs: a bulk load leaves its data in files that every lookup searches, and
    compacting costs time in proportion to the whole store, so a load of a few sessions into a
    large store is not followed by it (docs/stores.md, "Compacting a disk store")."""
    asked = optimize
    if optimize is None:
        optimize = store.compacts and len(store.graph_names()) >= 2 * graphs_before
    seconds = store.optimize() if optimize else None
    if seconds is not None:
        click.echo(
            f"compacted {store.selector} for reading in {seconds:.1f} s (--no-optimize skips this)",
            err=True,
        )
    elif asked:
        click.echo(f"note: --optimize: {store.selector} has nothing to compact", err=True)


MEMORY_SELECTOR = "oxigraph:memory"
#: Said after a load into the default in-memory store, which the end of the command discards.
MEMORY_NOTE = (
    "note: nothing was kept: oxigraph:memory (the default store) ends with this command; "
    "to keep the sessions, load them into a folder, e.g. "
    "`mbtkg load --store oxigraph:./kg FILES` (or set MBTKG_STORE=oxigraph:./kg)"
)


COMMANDS = [validate, load_command]
