"""``mbtkg validate`` and ``mbtkg load``."""

from __future__ import annotations

import sys

import click

from ..loading import LoadInputError, load, validate_files
from ..stores import open_store
from . import EXIT_FAILED, EXIT_INPUT, handle_errors, store_option


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@handle_errors
def validate(paths: tuple[str, ...]) -> None:
    """Check session files against the format and the SHACL shapes."""
    report, errors = validate_files(paths)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if not report.conforms:
        click.echo(str(report), err=True)
    if errors:
        sys.exit(EXIT_INPUT)
    if not report.conforms:
        sys.exit(EXIT_FAILED)
    click.echo(str(report))


@click.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@store_option
@click.option("--skip-invalid", is_flag=True, help="Load the valid files and skip the others.")
@handle_errors
def load_command(paths: tuple[str, ...], store: str | None, skip_invalid: bool) -> None:
    """Validate session files and load them into a store, all or nothing."""
    target = open_store(store)
    try:
        summary = load(paths, target, skip_invalid=skip_invalid)
    except LoadInputError as exc:
        click.echo(f"error: nothing was loaded:\n{exc}", err=True)
        sys.exit(EXIT_INPUT)
    finally:
        target.close()
    click.echo(f"{summary} into {target.selector}")


COMMANDS = [validate, load_command]
