"""``mbtkg annotate DIR``: the coding workbench in the browser; ``mbtkg suggestions measure``."""

from __future__ import annotations

import click

from . import handle_errors


@click.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free port).",
)
@click.option(
    "--suggester",
    type=click.Choice(["mbtkg-lexical", "mbtkg-minilm"]),
    default="mbtkg-lexical",
    show_default=True,
    help="Which ranking the page suggests with first (mbtkg-minilm needs the [suggest] extra).",
)
@handle_errors
def annotate(folder: str, port: int, suggester: str) -> None:
    """Code the session files of FOLDER in the browser (loopback only; needs the printed URL)."""
    from ..annotate.server import App, make_server, url_of
    from ..annotate.workspace import Workspace
    from ..errors import InputError

    try:
        import ruamel.yaml  # noqa: F401 - the writer's library, checked before the page opens
    except ImportError:
        raise InputError(
            "mbtkg annotate writes with ruamel.yaml: pip install 'mbtkg[annotate]'"
        ) from None
    app = App(Workspace(folder), suggester=suggester)
    try:
        server = make_server(app, port=port)
    except OSError as exc:
        raise InputError(
            f"cannot listen on port {port} ({exc.strerror or exc}); choose another --port"
        ) from None
    click.echo(
        f"mbtkg annotate: {len(app.workspace.files())} session file(s) in {folder}", err=True
    )
    click.echo(f"open {url_of(app)}  (Ctrl-C stops)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.group()
def suggestions() -> None:
    """Concept suggestions for coding: how well they agree with human codes."""


@suggestions.command("measure")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--model/--no-model",
    default=False,
    help="Also measure the sentence-embedding model ([suggest] extra).",
)
@handle_errors
def measure(paths: tuple[str, ...], model: bool) -> None:
    """Top-1/3/5 agreement of the suggesters with the human codes, leaving each session out.

    PATHS are session files (default: the bundled example sessions).
    """
    from ..annotate.evaluation import chance, format_scores, score
    from ..annotate.suggest import LexicalRanker, ModelRanker, load_model
    from ..resources import example_sessions
    from ..sessions import read_session

    sessions = [read_session(p) for p in (paths or example_sessions())]
    results = [
        score(
            "mbtkg-lexical (BM25)",
            lambda c, e: LexicalRanker(c, e),
            sessions,
            with_session_examples=ex,
        )
        for ex in (False, True)
    ]
    if model:
        loaded = load_model()
        results += [
            score(
                "mbtkg-minilm (all-MiniLM-L6-v2)",
                lambda c, e: ModelRanker(c, e, model=loaded),
                sessions,
                with_session_examples=ex,
            )
            for ex in (False, True)
        ]
    click.echo(f"{len(sessions)} sessions, leave-one-session-out")
    click.echo(format_scores(results, chance(sessions)))


COMMANDS = [annotate, suggestions]
