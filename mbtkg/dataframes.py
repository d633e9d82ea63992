"""Query rows as a pandas DataFrame, for analysis in Python.

pandas is an optional extra (``pip install 'mbtkg[dataframes]'``); without it the functions here
raise :class:`MissingExtraError` with the install command, in one sentence. Columns keep the
query's order and names. Values are the rows' plain Python values, given pandas' nullable
types (``Int64``, ``Float64``, ``boolean``, ``string``) so that an unbound cell is ``<NA>``
instead of turning a column of whole numbers into floats; ``xsd:date`` and ``xsd:dateTime``
columns become datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import MissingExtraError
from .queries import run_query
from .stores.base import Rows, Store

INSTALL_HINT = "pip install 'mbtkg[dataframes]'"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_DATE_TYPES = frozenset({_XSD + "date", _XSD + "dateTime"})


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise MissingExtraError(
            "query results as a DataFrame need pandas, the optional 'dataframes' extra: "
            f"{INSTALL_HINT}"
        ) from None
    return pandas


def _date_columns(rows: Rows) -> list[str]:
    """Columns whose bound cells are all xsd:date or xsd:dateTime literals (and not all empty)."""
    out = []
    for i, column in enumerate(rows.columns):
        cells = (row[i] for row in rows.rows)
        types = {cell.datatype for cell in cells if cell is not None}
        if types and types <= _DATE_TYPES:
            out.append(column)
    return out


def to_dataframe(rows: Rows) -> Any:
    """The rows of a query answer as a ``pandas.DataFrame`` with the query's columns.

    Raises MissingExtraError when pandas is not installed.

    >>> from mbtkg.stores.base import Rows, Term
    >>> to_dataframe(Rows(("turn",), ((Term(3),), (None,)))).dtypes["turn"]
    Int64Dtype()
    """
    pd = _pandas()
    frame = pd.DataFrame.from_records(rows.values(), columns=list(rows.columns))
    frame = frame.convert_dtypes()
    for column in _date_columns(rows):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def query_dataframe(
    store: Store,
    name_or_path: str,
    params: Mapping[str, str] | None = None,
) -> Any:
    """Run a competency query (parameters bound safely) and return its answer as a DataFrame.

    Raises MissingExtraError before running anything when pandas is not installed.
    """
    _pandas()
    return to_dataframe(run_query(store, name_or_path, params))
