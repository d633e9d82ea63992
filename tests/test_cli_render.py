"""How result rows are printed: booleans as true/false in every format, never Python's True."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mbtkg.cli.render import render
from mbtkg.stores import open_store
from mbtkg.stores.base import Rows


@pytest.fixture(scope="module")
def boolean_rows() -> Rows:
    """Rows of a real query whose answers are xsd:boolean literals."""
    store = open_store("oxigraph:memory")
    try:
        rows = store.select(
            "SELECT ?n ?even WHERE { VALUES ?n { 1 2 } BIND (?n = 2 AS ?even) } ORDER BY ?n"
        )
    finally:
        store.close()
    assert [type(r[1].value) for r in rows.rows if r[1] is not None] == [bool, bool]
    return rows


def test_csv_writes_booleans_as_true_and_false(boolean_rows: Rows) -> None:
    table = list(csv.reader(io.StringIO(render(boolean_rows, "csv"))))
    assert table == [["n", "even"], ["1", "false"], ["2", "true"]]


def test_the_table_writes_booleans_as_true_and_false(boolean_rows: Rows) -> None:
    text = render(boolean_rows, "table")
    assert "True" not in text and "False" not in text
    assert text.splitlines()[2].split() == ["1", "false"]


def test_json_keeps_booleans_as_json_booleans(boolean_rows: Rows) -> None:
    assert json.loads(render(boolean_rows, "json")) == [
        {"n": 1, "even": False},
        {"n": 2, "even": True},
    ]
