"""Python values of RDF literals: what a result Term holds for a number or a boolean."""

from __future__ import annotations

XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = {
    f"{XSD}{t}"
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
    )
}
_FLOAT_TYPES = {f"{XSD}decimal", f"{XSD}double", f"{XSD}float"}


def python_value(lexical: str, datatype: str) -> str | int | float | bool:
    """The Python value of a literal: int, float or bool for numeric and boolean types."""
    try:
        if datatype in _INTEGER_TYPES:
            return int(lexical)
        if datatype in _FLOAT_TYPES:
            return float(lexical)
        if datatype == f"{XSD}boolean":
            return lexical in ("true", "1")
    except ValueError:
        return lexical
    return lexical
