"""The graph as networkx graphs, and GraphML files that open in Gephi and Cytoscape.

Three views, each read from a store through SPARQL:

* :func:`concept_hierarchy`: the ontology's classes, an edge from each class to each direct
  superclass (``relation="subClassOf"``);
* :func:`session_graph`: one session's turns (edges ``next`` in transcript order) and concept
  occurrences (edges ``covers`` to every turn of their span, and ``repairs``, ``respondsTo``,
  ``triggeredBy`` between occurrences);
* :func:`transition_graph`: the states of a mode-transition matrix, with one weighted edge per
  observed transition.

Node ids are IRIs (states of a transition graph: their labels). Every attribute is a str,
int, float or bool, the types GraphML declares, so Gephi and Cytoscape read them with their
types; unset values are left out rather than written as empty strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import networkx as nx

from . import vocab
from .analysis.data import run, session_data
from .analysis.transitions import TransitionMatrix
from .concepts import compact
from .errors import InputError
from .stores.base import Store

VIEWS = ("hierarchy", "session", "transitions")
_ALLOWED = (bool, int, float, str)


def concept_hierarchy(store: Store) -> nx.DiGraph:
    """The ontology's classes (``label``, ``curie``, ``definition``) with subclass edges.

    An edge runs from a class to its direct superclass; superclasses outside the ontology
    (``oa:Selector`` ...) are nodes too, with their CURIE as label.
    """
    graph = nx.DiGraph(name="mbtkg concept hierarchy")
    for row in run(store, "hierarchy").values():
        iri = str(row["class"])
        if iri not in graph:
            graph.add_node(iri, **_attrs(curie=compact(iri), label=row["label"] or compact(iri)))
        if row["definition"] is not None and "definition" not in graph.nodes[iri]:
            graph.nodes[iri]["definition"] = str(row["definition"])
        parent = row["parent"]
        if parent is not None:
            parent = str(parent)
            if parent not in graph:
                graph.add_node(parent, curie=compact(parent), label=compact(parent))
            graph.add_edge(iri, parent, relation="subClassOf")
    for node, data in graph.nodes(data=True):
        data["in_mbt"] = node.startswith(vocab.MBT)
    return graph


def session_graph(store: Store, session: str) -> nx.DiGraph:
    """One session's turns and occurrences as a directed graph.

    Turn nodes: ``kind="turn"``, ``index``, ``speaker``, ``role``, ``text``. Occurrence nodes:
    ``kind="occurrence"``, ``annotation``, ``concept`` (CURIE), ``label``, ``family``,
    ``annotator``, ``start``, ``end``. Raises UnknownNameError for an unknown session.
    """
    data = session_data(store, session)
    graph = nx.DiGraph(name=f"mbtkg session {session}", session=session)
    previous: str | None = None
    for t in data.turns:
        node = vocab.turn_iri(session, t.index)
        graph.add_node(
            node,
            **_attrs(
                kind="turn",
                label=f"turn {t.index}",
                index=t.index,
                speaker=t.speaker,
                role=t.role,
                text=t.text,
            ),
        )
        if previous is not None:
            graph.add_edge(previous, node, relation="next")
        previous = node
    for o in data.occurrences:
        node = vocab.occurrence_iri(session, o.annotation)
        graph.add_node(
            node,
            kind="occurrence",
            label=o.label,
            annotation=o.annotation,
            concept=compact(o.concept),
            family=o.family,
            annotator=o.annotator,
            start=o.start,
            end=o.end,
        )
        for index in range(o.start, o.end + 1):
            turn = vocab.turn_iri(session, index)
            if turn in graph:
                graph.add_edge(node, turn, relation="covers")
    for link in data.links:
        source = vocab.occurrence_iri(session, link.source)
        target = vocab.occurrence_iri(session, link.target)
        if source in graph and target in graph:
            graph.add_edge(source, target, relation=link.relation)
    return graph


def transition_graph(matrix: TransitionMatrix) -> nx.DiGraph:
    """The states of a transition matrix as nodes (``visits``) and transitions as edges.

    Each edge has ``weight`` (the count) and ``share`` (of the transitions out of its source).
    """
    graph = nx.DiGraph(
        name=f"mbtkg transitions, {matrix.scope}, coder {matrix.annotator}",
        scope=matrix.scope,
        annotator=matrix.annotator,
        sessions=" ".join(matrix.sessions),
    )
    for state, visits in zip(matrix.states, matrix.visits, strict=True):
        graph.add_node(state, label=state, visits=visits)
    for t in matrix.transitions():
        graph.add_edge(t.source, t.target, weight=t.count, share=t.share)
    return graph


def _attrs(**values: object) -> dict[str, object]:
    """Attributes without unset values."""
    return {k: v for k, v in values.items() if v is not None}


def graphml_safe(graph: nx.DiGraph) -> nx.DiGraph:
    """A copy whose graph, node and edge attributes are all of GraphML's types.

    Unset values are dropped; any other type is written as its string form.
    """
    safe = nx.DiGraph()
    safe.graph.update(_clean(graph.graph))
    for node, data in graph.nodes(data=True):
        safe.add_node(str(node), **_clean(data))
    for u, v, data in graph.edges(data=True):
        safe.add_edge(str(u), str(v), **_clean(data))
    return safe


def _clean(data: Mapping[str, object]) -> dict[str, bool | int | float | str]:
    out: dict[str, bool | int | float | str] = {}
    for key, value in data.items():
        if value is None:
            continue
        out[str(key)] = value if isinstance(value, _ALLOWED) else str(value)
    return out


def write_graphml(graph: nx.DiGraph, path: str | Path) -> Path:
    """Write a graph as GraphML (attribute types declared) and return the path.

    Raises InputError when the file cannot be written.
    """
    target = Path(path)
    try:
        nx.write_graphml(graphml_safe(graph), target, encoding="utf-8", prettyprint=True)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
