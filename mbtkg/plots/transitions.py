"""A transition diagram: the states of a mode-transition matrix as circles, transitions as arrows.

One panel per coder. A circle's area grows with the number of stays in the state; an arrow's
width with the number of transitions, which is also written on it. Prementalizing modes are
drawn in the warm hues of the timeline, forms of mentalizing in green.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import networkx as nx

from ..analysis.transitions import TransitionMatrix, transition_matrices
from ..errors import InputError
from ..graphs import transition_graph
from ..stores.base import Store
from .common import FAMILY_COLOURS, picture_style, pyplot, save


def plot_transitions(
    store: Store,
    out: str | Path,
    *,
    session: str | None = None,
    patient: str | None = None,
    annotator: str | None = None,
) -> Path:
    """Draw the transition diagram of a session or a patient's sessions to PNG or SVG.

    Raises InputError when no coder coded any mode or mentalizing in scope, UnknownNameError
    for an unknown session, patient or annotator, MissingExtraError without matplotlib.
    """
    matrices = transition_matrices(store, session=session, patient=patient, annotator=annotator)
    if not matrices or not matrices[0].states:
        scope = session or patient or "the store"
        raise InputError(
            f"no prementalizing mode or mentalizing is coded in {scope}: nothing to draw"
        )
    plt = pyplot()
    with picture_style():
        figure = _draw(plt, matrices)
        return save(figure, out)


def _draw(plt: Any, matrices: tuple[TransitionMatrix, ...]) -> Any:
    n = len(matrices)
    figure, axes = plt.subplots(1, n, figsize=(max(5.6 * n, 7.0), 5.6), squeeze=False)
    for ax, matrix in zip(axes[0], matrices, strict=True):
        _panel(ax, matrix)
    sessions = sorted({s for m in matrices for s in m.sessions})
    figure.suptitle(
        f"Mode transitions, {matrices[0].scope}"
        + (f" ({len(sessions)} sessions)" if len(sessions) > 1 else ""),
        x=0.02,
        ha="left",
        fontsize=12,
    )
    figure.text(
        0.02,
        0.02,
        "circle size: stays in a state (hollow: none by this coder); arrow label: transitions",
        fontsize=8,
        color="#555555",
    )
    figure.tight_layout(rect=(0.0, 0.04, 1.0, 0.93))
    return figure


def _panel(ax: Any, matrix: TransitionMatrix) -> None:
    graph = transition_graph(matrix)
    positions = nx.circular_layout(graph) if len(graph) > 1 else {s: (0.0, 0.0) for s in graph}
    colour = {
        s: FAMILY_COLOURS.get(f, FAMILY_COLOURS["other"])[0]
        for s, f in zip(
            matrix.states, matrix.families or ("other",) * len(matrix.states), strict=False
        )
    }
    most = max([graph.nodes[s]["visits"] for s in graph] + [1])
    sizes = [600 + 1400 * graph.nodes[s]["visits"] / most for s in graph]
    visited = [graph.nodes[s]["visits"] > 0 for s in graph]
    nx.draw_networkx_nodes(
        graph,
        positions,
        ax=ax,
        node_size=sizes,
        node_color=[colour[s] if v else "white" for s, v in zip(graph, visited, strict=True)],
        edgecolors=[colour[s] for s in graph],
        linewidths=1.5,
        alpha=0.9,
    )
    weights = [graph.edges[e]["weight"] for e in graph.edges]
    nx.draw_networkx_edges(
        graph,
        positions,
        ax=ax,
        node_size=sizes,
        width=[1.2 + 1.5 * w for w in weights],
        arrowsize=16,
        edge_color="#444444",
        connectionstyle="arc3,rad=0.15",
    )
    nx.draw_networkx_edge_labels(
        graph,
        positions,
        ax=ax,
        edge_labels={e: str(graph.edges[e]["weight"]) for e in graph.edges},
        connectionstyle="arc3,rad=0.15",
        font_size=9,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"},
    )
    for state, (x, y) in positions.items():
        ha, dx, dy = "center", 0.0, 0.0
        if x > 0.3:
            ha, dx = "left", 0.34
        elif x < -0.3:
            ha, dx = "right", -0.34
        else:
            dy = 0.42 if y >= 0 else -0.42
        ax.text(x + dx, y + dy, textwrap.fill(state, 14), ha=ha, va="center", fontsize=9)
    total = matrix.total
    ax.set_title(
        f"coder {matrix.annotator}: {total} transition{'s' if total != 1 else ''}",
        fontsize=10,
    )
    if not total:
        ax.text(0, -0.55, "no transitions coded", ha="center", fontsize=9, color="#777777")
    ax.set_xlim(-2.0, 2.0)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
