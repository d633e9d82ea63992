"""The ``mbtkg`` command line: parsing options, printing and exit codes, no domain logic.

Exit codes: 0 ok, 1 a check failed (validation, quality checks), 2 usage or input error,
3 internal error (an exception that is not one of mbtkg's errors: a bug to report).

Commands are loaded lazily: :data:`COMMAND_MODULES` names the module of each command and its
one-line help, so ``mbtkg --help`` imports no command module and ``mbtkg concept NAME``
imports only the module that defines ``concept``. A module of this package that lists
``COMMANDS`` but is missing from the table is still registered (imported eagerly), and a
test fails until the table names it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import MbtkgError, ValidationFailed

if TYPE_CHECKING:
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
    from importlib.metadata import PackageNotFoundError, version

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


#: Every command: its name -> (the module of this package that defines it, its one-line help).
#: The help is what ``mbtkg --help`` lists without importing the module; a test checks that
#: both still match the command itself.
COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "analyze": ("analyze", "Session analytics: transitions, ruptures, what follows interventions, "
                "trajectories, agreement."),
    "annotate": ("annotate", "Code the session files of FOLDER in the browser (loopback only; "
                 "needs the printed URL)."),
    "suggestions": ("annotate", "Concept suggestions for coding: how well they agree with human "
                    "codes."),
    "bench": ("bench", "Benchmark a generated corpus of SESSIONS sessions; print medians and "
              "ratios."),
    "demo": ("demo", "Load the example sessions, validate them, and print every competency "
             "query's answer."),
    "export": ("export", "Write stored sessions (their ids) as JSON-LD, Turtle, YAML (one "
               "session) or a REFI-QDA project (--format qdpx, one or more sessions, with --out "
               "FILE.qdpx), and the code book."),
    "generate": ("generate", "Write synthetic YAML sessions (about 200 turns and 100 "
                 "annotations each)."),
    "graph": ("graph", "Views of the knowledge graph as networkx graphs, exported as GraphML."),
    "import": ("imports", "Import sessions from QDA projects, spreadsheets, ELAN files or "
               "JSON-LD/Turtle."),
    "check": ("ontology", "Run the ontology's quality checks: SPARQL checks, three parsers and "
              "HermiT."),
    "concept": ("ontology", "Print the concept card of NAME (a label, synonym, local name or "
                "CURIE), or --list the codable concepts."),
    "ontology": ("ontology", "Compare, export and document versions of the ontology."),
    "plot": ("plot", "Draw a session timeline or a mode-transition diagram (PNG or SVG)."),
    "query": ("queries", "Run competency query NAME, a SPARQL FILE (.rq), or --sparql TEXT, and "
              "print its answer."),
    "serve": ("serve", "Serve the store as a SPARQL endpoint at /sparql, with a query page at /."),
    "validate": ("sessions", "Check session files against the format and the SHACL shapes."),
    "load": ("sessions", "Validate session files and load them into a store, all or nothing."),
    "sessions": ("stores", "List the sessions a store holds: id, triples, turns, annotations."),
    "drop": ("stores", "Remove session ID (its whole named graph) from a store."),
}  # fmt: skip


class _Main(click.Group):
    """The command group: commands imported on first use; an exception no command expected
    becomes exit code 3, never 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            _add_module(COMMAND_MODULES[cmd_name][0])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their one-line help, importing none of their modules."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # A command not imported yet is shown by a stand-in carrying its one-line help.
            command = self.commands.get(name) or click.Command(name, help=COMMAND_MODULES[name][1])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"mbtkg, version {_version()}")
        ctx.exit()


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")  # fmt: skip
def main() -> None:
    """mbtkg: the Mentalization-Based Therapy ontology and knowledge graph."""


def _add_module(name: str) -> None:
    """Import one command module of this package and register every command it lists."""
    import importlib

    module = importlib.import_module(f"{__name__}.{name}")
    for command in getattr(module, "COMMANDS", ()):
        if command.name not in main.commands:
            main.add_command(command)


def _register() -> None:
    """Register, eagerly, the command modules :data:`COMMAND_MODULES` does not name."""
    import pkgutil

    known = {module for module, _help in COMMAND_MODULES.values()}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name not in known and info.name not in _HELPERS:
            _add_module(info.name)


#: Modules of this package that define no command.
_HELPERS = frozenset({"render", "__main__"})

_register()
