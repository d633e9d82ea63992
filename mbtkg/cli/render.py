"""Render query rows for people (a text table) and for programs (CSV, JSON)."""

from __future__ import annotations

import csv
import io
import json

from ..concepts import compact
from ..stores.base import Rows, Term

FORMATS = ("table", "csv", "json")
_WIDTH = 60


def _cell(term: Term | None, *, full: bool) -> str:
    if term is None or term.value is None:
        return ""
    if isinstance(term.value, bool):  # as SPARQL and JSON write them, not Python's True/False
        return "true" if term.value else "false"
    text = compact(str(term.value)) if term.is_iri else str(term.value)
    if not full and len(text) > _WIDTH:
        text = text[: _WIDTH - 1] + "…"
    return text.replace("\n", " ")


def render(rows: Rows, fmt: str) -> str:
    """The rows in one of FORMATS."""
    if fmt == "json":
        return json.dumps(
            [
                {
                    c: (t.value if t is not None else None)
                    for c, t in zip(rows.columns, row, strict=True)
                }
                for row in rows.rows
            ],
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(rows.columns)
        for row in rows.rows:
            writer.writerow([_cell(t, full=True) for t in row])
        return buf.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    cells = [[_cell(t, full=False) for t in row] for row in rows.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(rows.columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(rows.columns, widths, strict=True)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    footer = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join([line, rule, *body, footer])
