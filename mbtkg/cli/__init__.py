"""The ``mbtkg`` command line: parsing options, printing and exit codes, no domain logic.

Exit codes: 0 ok, 1 a check failed (validation, quality checks), 2 usage or input error,
3 internal error (an exception that is not one of mbtkg's errors: a bug to report).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import click

from ..errors import MbtkgError, ValidationFailed
from ..stores.base import Store

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def internal_error_message(exc: BaseException) -> str:
    """One line for an unexpected exception: its type and the innermost mbtkg frame.

    The exception's own text is left out: it may quote session text (clinical data).
    """
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "mbtkg" in f.filename.replace("\\", "/").split("/")]
    where = ""
    if ours or frames:
        frame = (ours or frames)[-1]
        name = frame.filename.replace("\\", "/")
        short = name[name.rindex("mbtkg/") :] if "mbtkg/" in name else name.rsplit("/", 1)[-1]
        where = f" in {short}:{frame.lineno}"
    return (
        f"internal error: {type(exc).__name__}{where}; this is a bug in mbtkg, please report it "
        "with the command you ran (exit code 3)"
    )


def _version() -> str:
    try:
        return version("mbtkg")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def handle_errors(func: F) -> F:
    """Turn library errors into a message on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_FAILED)
        except MbtkgError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_INPUT)

    return wrapper  # type: ignore[return-value]


#: The commands that may create a store; every other command only reads one, and an
#: ``oxigraph:DIR`` naming no store is an error for it (exit 2), not a new, empty store.
CREATING_COMMANDS = frozenset({"load", "import", "demo"})


def _check_store(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Refuse a disk store that does not exist unless the command creates stores."""
    from ..stores import disk_path, resolve_selector
    from ..stores.disk_location import require_existing_store

    top = ctx
    while top.parent is not None and top.parent.parent is not None:
        top = top.parent
    directory = disk_path(value)
    if directory is not None and top.info_name not in CREATING_COMMANDS:
        require_existing_store(directory, resolve_selector(value))
    return value


store_option = click.option(
    "--store",
    "store",
    default=None,
    callback=_check_store,
    metavar="SELECTOR",
    help="Where the graph lives: oxigraph:memory (default), oxigraph:DIR, or "
    "sparql+http(s)://HOST/PATH (server settings from MBTKG_SPARQL_* variables; see "
    "docs/stores.md). Also read from the MBTKG_STORE environment variable. Only load, import "
    "and demo create a store; other commands refuse a folder that holds none.",
)


@contextmanager
def loaded_store(
    selector: str | None, load_paths: Sequence[str], *, purpose: str = "analysing"
) -> Iterator[Store]:
    """Open a store and load files into it first if asked; an empty memory store gets the examples.

    A command run on the default in-memory store would otherwise always answer from nothing.
    """
    from ..loading import load, session_ids
    from ..resources import example_sessions
    from ..stores import open_store

    target = open_store(selector)
    try:
        if load_paths:
            load(load_paths, target)
        elif target.selector == "oxigraph:memory" and not session_ids(target):
            click.echo(
                f"(the in-memory store is empty: {purpose} the bundled example sessions)", err=True
            )
            load(example_sessions(), target)
        yield target
    finally:
        target.close()


class _Main(click.Group):
    """The command group; an exception no command expected becomes exit code 3, never 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except ValidationFailed as exc:
            click.echo(str(exc), err=True)
            ctx.exit(EXIT_FAILED)
        except MbtkgError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_INPUT)
        except Exception as exc:
            click.echo(internal_error_message(exc), err=True)
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="mbtkg")
def main() -> None:
    """mbtkg: the Mentalization-Based Therapy ontology and knowledge graph."""


def _register() -> None:
    """Add the commands of every module of this package that lists them in ``COMMANDS``."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register()
