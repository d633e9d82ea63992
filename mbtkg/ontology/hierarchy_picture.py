"""A picture of the class hierarchy: an indented tree, one row per class, in a few columns.

Every class has a row of its own, so labels never overlap however many classes there are.
A class with several parents is drawn under the first (by label) and names the others in
grey. Long trees are cut into columns; a column that starts inside a subtree repeats the
subtree's ancestors in grey as "(cont.)" rows. The ten largest top-level branches have a colour
each (single classes stay dark grey); italic
labels mark classes with a fuzzy boundary (``mbt:fuzzy true``).

Needs matplotlib (the ``docs`` extra); networkx holds the hierarchy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from .. import vocab
from ..concepts import compact
from .class_expressions import is_true

ROWS_PER_COLUMN = 60
_FUZZY = rdflib.URIRef(vocab.MBT + "fuzzy")
_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)


@dataclass(frozen=True)
class Row:
    """One row of the picture: a class at a depth, or a grey "(cont.)" repeat of an ancestor."""

    iri: str
    label: str
    depth: int
    branch: int  # index of its top-level branch (for the colour)
    other_parents: tuple[str, ...] = ()
    fuzzy: bool = False
    deprecated: bool = False
    continued: bool = False


def hierarchy_graph(graph: rdflib.Graph) -> nx.DiGraph:
    """Named classes as nodes (with ``label``, ``fuzzy``, ``deprecated``), parent -> child edges."""
    tree: nx.DiGraph = nx.DiGraph()
    for cls in graph.subjects(RDF.type, OWL.Class):
        if not isinstance(cls, rdflib.URIRef) or cls in (OWL.Thing, OWL.Nothing):
            continue
        label = graph.value(cls, RDFS.label)
        fuzzy = graph.value(cls, _FUZZY)
        deprecated = graph.value(cls, OWL.deprecated)
        tree.add_node(
            str(cls),
            label=str(label) if label is not None else compact(str(cls)),
            fuzzy=is_true(fuzzy),
            deprecated=is_true(deprecated),
        )
    for child, parent in graph.subject_objects(RDFS.subClassOf):
        if str(child) in tree and str(parent) in tree and child != parent:
            tree.add_edge(str(parent), str(child))
    return tree


def hierarchy_rows(tree: nx.DiGraph) -> list[Row]:
    """The classes in depth-first order (siblings by label), each under its first parent."""

    def key(iri: str) -> tuple[str, str]:
        return (str(tree.nodes[iri]["label"]).lower(), iri)

    primary = {n: min(tree.predecessors(n), key=key) for n in tree if tree.in_degree(n)}
    roots = sorted((n for n in tree if n not in primary), key=key)
    # Nodes only on a cycle have no root above them: start from their first member.
    rows: list[Row] = []
    seen: set[str] = set()

    def visit(node: str, depth: int, branch: int) -> None:
        if node in seen:
            return
        seen.add(node)
        data = tree.nodes[node]
        others = sorted((p for p in tree.predecessors(node) if p != primary.get(node)), key=key)
        rows.append(
            Row(
                iri=node,
                label=str(data["label"]),
                depth=depth,
                branch=branch,
                other_parents=tuple(str(tree.nodes[p]["label"]) for p in others),
                fuzzy=bool(data["fuzzy"]),
                deprecated=bool(data["deprecated"]),
            )
        )
        for child in sorted(tree.successors(node), key=key):
            if primary.get(child) == node:
                visit(child, depth + 1, branch)

    for i, root in enumerate(roots):
        visit(root, 0, i)
    for node in sorted((n for n in tree if n not in seen), key=key):
        visit(node, 0, len(roots))
    return rows


def columns(rows: list[Row], *, per_column: int = ROWS_PER_COLUMN) -> list[list[Row]]:
    """Cut the rows into columns of about equal length, repeating ancestors at a column's top."""
    if not rows:
        return [[]]
    count = max(1, math.ceil(len(rows) / per_column))
    size = math.ceil(len(rows) / count)
    out: list[list[Row]] = []
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        ancestors: list[Row] = []
        depth = chunk[0].depth
        for prev in reversed(rows[:start]):
            if prev.depth < depth:
                ancestors.insert(0, prev)
                depth = prev.depth
            if depth == 0:
                break
        repeats = [
            Row(a.iri, a.label, a.depth, a.branch, continued=True, fuzzy=a.fuzzy) for a in ancestors
        ]
        out.append(repeats + chunk)
    return out


def draw_hierarchy(
    graph: rdflib.Graph, png: Path, svg: Path, *, title: str, per_column: int = ROWS_PER_COLUMN
) -> int:
    """Draw the hierarchy of ``graph`` to a PNG and an SVG file; return the number of classes.

    Raises ImportError when matplotlib is not installed (callers turn that into a sentence).
    """
    import matplotlib
    from matplotlib.figure import Figure

    tree = hierarchy_graph(graph)
    rows = hierarchy_rows(tree)
    cols = columns(rows, per_column=per_column)
    row_h, indent = 0.24, 0.28  # inches
    measure = _Measure()
    sizes: dict[int, int] = {}
    for r in rows:
        sizes[r.branch] = sizes.get(r.branch, 0) + 1
    ranked = sorted((b for b in sizes if sizes[b] > 1), key=lambda b: (-sizes[b], b))
    colours = {b: _PALETTE[i] for i, b in enumerate(ranked[: len(_PALETTE)])}
    widths = [
        max((_row_width(r, indent, measure) for r in column), default=2.0) + 0.4 for column in cols
    ]
    longest = max(len(c) for c in cols)
    width = max(8.0, 0.5 + sum(widths))
    height = 1.3 + row_h * (longest + 1)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mbtkg"}):
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        ax.text(0.25, 0.4, title, fontsize=14, fontweight="bold", va="center")
        ax.text(
            0.25,
            0.8,
            f"{len(tree)} classes, each drawn under its first parent; grey '(also: …)' names "
            "its other parents;\nitalic: fuzzy boundary; grey '(cont.)': an ancestor repeated "
            "at the top of a column",
            fontsize=8.5,
            color="#555555",
            va="center",
            linespacing=1.5,
        )
        x0 = 0.25
        for column, column_width in zip(cols, widths, strict=True):
            _draw_column(
                ax,
                column,
                x0=x0,
                y0=1.3,
                row_h=row_h,
                indent=indent,
                measure=measure,
                colours=colours,
            )
            x0 += column_width
        fig.savefig(png, dpi=110, facecolor="white")
        fig.savefig(svg, facecolor="white", metadata={"Date": None})
    return len(tree)


_LABEL_SIZE, _ALSO_SIZE, _ALSO_MAX = 8.5, 7.0, 48  # points, points, characters


class _Measure:
    """Text widths in inches, measured with matplotlib's Agg renderer (the fonts it draws with)."""

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import RendererAgg

        self._renderer = RendererAgg(10, 10, 720)  # fine resolution: little hinting

    def __call__(
        self, text: str, *, size: float, italic: bool = False, bold: bool = False
    ) -> float:
        from matplotlib.font_manager import FontProperties

        prop = FontProperties(
            size=size, style="italic" if italic else "normal", weight="bold" if bold else "normal"
        )
        width, _, _ = self._renderer.get_text_width_height_descent(text, prop, ismath=False)
        return float(width) / 720.0


def _label(row: Row) -> str:
    text = row.label + ("  (cont.)" if row.continued else "")
    return text + ("  (deprecated)" if row.deprecated else "")


def _also(row: Row) -> str:
    text = "(also: " + ", ".join(row.other_parents) + ")"
    return text if len(text) <= _ALSO_MAX else text[: _ALSO_MAX - 2] + "…)"


def _label_width(row: Row, measure: _Measure) -> float:
    return measure(
        _label(row), size=_LABEL_SIZE, italic=row.fuzzy, bold=row.depth == 0 and not row.continued
    )


def _row_width(row: Row, indent: float, measure: _Measure) -> float:
    """How wide a row is drawn, in inches."""
    width = row.depth * indent + 0.1 + _label_width(row, measure)
    if row.other_parents:
        width += 0.1 + measure(_also(row), size=_ALSO_SIZE)
    return width


def _draw_column(
    ax: Any,
    column: list[Row],
    *,
    x0: float,
    y0: float,
    row_h: float,
    indent: float,
    measure: _Measure,
    colours: dict[int, str],
) -> None:
    last_at_depth: dict[int, float] = {}
    for i, row in enumerate(column):
        y = y0 + i * row_h
        x = x0 + row.depth * indent
        colour = (
            "#9a9a9a" if row.continued or row.deprecated else colours.get(row.branch, "#555555")
        )
        if row.depth > 0 and (row.depth - 1) in last_at_depth:
            parent_y = last_at_depth[row.depth - 1]
            px = x - indent + 0.06
            ax.plot([px, px, x - 0.02], [parent_y + 0.07, y, y], color="#b0b0b0", lw=0.8)
        last_at_depth[row.depth] = y
        for deeper in [d for d in last_at_depth if d > row.depth]:
            del last_at_depth[deeper]
        ax.plot([x + 0.03], [y], marker="o", ms=3.2, color=colour)
        ax.text(
            x + 0.1,
            y,
            _label(row),
            fontsize=_LABEL_SIZE,
            va="center",
            color=colour if row.continued or row.deprecated else "#111111",
            fontstyle="italic" if row.fuzzy else "normal",
            fontweight="bold" if row.depth == 0 and not row.continued else "normal",
        )
        if row.other_parents:
            ax.text(
                x + 0.16 + _label_width(row, measure),
                y,
                _also(row),
                fontsize=_ALSO_SIZE,
                va="center",
                color="#8a8a8a",
            )
