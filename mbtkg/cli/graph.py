"""``mbtkg graph export``: the graph as GraphML for Gephi, Cytoscape or networkx."""

from __future__ import annotations

import click

from ..analysis import transition_matrices
from ..errors import InputError
from ..graphs import VIEWS, concept_hierarchy, session_graph, transition_graph, write_graphml
from . import handle_errors, loaded_store, store_option
from .analyze import annotator_option, load_option, patient_option, session_option


@click.group()
def graph() -> None:
    """Views of the knowledge graph as networkx graphs, exported as GraphML."""


@graph.command()
@click.argument("view", type=click.Choice(VIEWS))
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The .graphml file."
)
@session_option
@patient_option
@annotator_option
@load_option
@store_option
@handle_errors
def export(
    view: str,
    out: str,
    session: str | None,
    patient: str | None,
    annotator: str | None,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """Write VIEW (hierarchy, session or transitions) as GraphML.

    ``session`` needs --session; ``transitions`` takes --session and/or --patient and, when
    more than one coder coded them, --annotator.
    """
    if view == "session" and session is None:
        raise InputError("the session view needs --session ID")
    with loaded_store(store, load_paths) as target:
        if view == "hierarchy":
            built = concept_hierarchy(target)
        elif view == "session":
            assert session is not None
            built = session_graph(target, session)
        else:
            matrices = transition_matrices(
                target, session=session, patient=patient, annotator=annotator
            )
            if len(matrices) != 1:
                coders = ", ".join(m.annotator for m in matrices) or "none"
                raise InputError(
                    f"the transitions view draws one coder's transitions; choose one with "
                    f"--annotator (coders here: {coders})"
                )
            built = transition_graph(matrices[0])
    written = write_graphml(built, out)
    click.echo(f"wrote {written}: {built.number_of_nodes()} nodes, {built.number_of_edges()} edges")


COMMANDS = [graph]
