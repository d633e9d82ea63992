"""A validation outcome written for machines: a standard SHACL validation report, or JSON.

The Turtle report is what SHACL engines such as pySHACL write (``sh:ValidationReport``,
``sh:conforms``, one ``sh:result`` per violation with its focus node, path, source shape,
constraint component, severity and message), so tools that read SHACL reports read it. Like
every message of mbtkg, neither form quotes session text: a result names the node (turn,
annotation) and the shape's own message, and a found literal is described (its length), never
copied. The JSON form adds what SHACL has no term for: the source file and line of each result,
and the files that could not be read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

import rdflib

from .. import vocab
from ..errors import InputError
from .violations import ValidationReport, Violation, shapes_graph

_SH = rdflib.Namespace(vocab.SH)
_SHAPES = "https://w3id.org/mbtkg/shapes#"


@lru_cache(maxsize=1)
def _shape_facts() -> tuple[dict[str, str], dict[str, str]]:
    """(the node shape holding each named SPARQL constraint, each shape's severity)."""
    shapes = shapes_graph()
    holder = {
        str(c): str(s)
        for s, c in shapes.subject_objects(_SH.sparql)
        if isinstance(s, rdflib.URIRef) and isinstance(c, rdflib.URIRef)
    }
    severity = {
        str(s): str(o)
        for s, o in shapes.subject_objects(_SH.severity)
        if isinstance(s, rdflib.URIRef) and isinstance(o, rdflib.URIRef)
    }
    return holder, severity


def _expand(curie: str) -> str:
    """The IRI of a CURIE written by :func:`mbtkg.concepts.compact` (or ``sh:``, ``mbtsh:``)."""
    prefixes = {**vocab.PREFIXES, "sh": vocab.SH, "mbtsh": _SHAPES}
    prefix, _, local = curie.partition(":")
    return prefixes[prefix] + local if prefix in prefixes and local else curie


def _shape_iri(violation: Violation) -> str | None:
    return _expand(violation.shape) if violation.shape.startswith("mbtsh:") else None


def report_graph(report: ValidationReport) -> rdflib.Graph:
    """The report as an RDF graph in the SHACL validation report vocabulary.

    >>> from mbtkg.validation.violations import ValidationReport
    >>> g = report_graph(ValidationReport(1, ()))
    >>> bool(g.value(next(g.subjects()), rdflib.SH.conforms))
    True
    """
    holder, severity = _shape_facts()
    graph = rdflib.Graph()
    graph.bind("sh", _SH)
    graph.bind("mbtsh", rdflib.Namespace(_SHAPES))
    for prefix, namespace in vocab.PREFIXES.items():
        graph.bind(prefix, rdflib.Namespace(namespace))
    node = rdflib.BNode()
    graph.add((node, rdflib.RDF.type, _SH.ValidationReport))
    graph.add((node, _SH.conforms, rdflib.Literal(report.conforms)))
    for violation in report.violations:
        result = rdflib.BNode()
        graph.add((node, _SH.result, result))
        graph.add((result, rdflib.RDF.type, _SH.ValidationResult))
        graph.add((result, _SH.focusNode, rdflib.URIRef(violation.focus)))
        if violation.path is not None:
            graph.add((result, _SH.resultPath, rdflib.URIRef(_expand(violation.path))))
        graph.add(
            (result, _SH.sourceConstraintComponent, rdflib.URIRef(_expand(violation.component)))
        )
        shape = _shape_iri(violation)
        if shape is not None:
            if shape in holder:  # a named SPARQL constraint: its node shape is the source shape
                graph.add((result, _SH.sourceConstraint, rdflib.URIRef(shape)))
                shape = holder[shape]
            graph.add((result, _SH.sourceShape, rdflib.URIRef(shape)))
        level = severity.get(shape or "", vocab.SH + "Violation")
        graph.add((result, _SH.resultSeverity, rdflib.URIRef(level)))
        graph.add((result, _SH.resultMessage, rdflib.Literal(violation.message)))
    return graph


def report_turtle(report: ValidationReport) -> str:
    """The SHACL validation report in Turtle."""
    return report_graph(report).serialize(format="turtle")


def _violation_json(violation: Violation) -> dict[str, object]:
    return {
        "file": violation.source,
        "line": violation.line,
        "focus": violation.focus,
        "node": vocab.describe(violation.focus),
        "path": violation.path,
        "shape": violation.shape,
        "component": violation.component,
        "message": violation.message,
        "found": violation.value,
        "suggestion": violation.suggestion,
    }


def _error_json(error: InputError) -> dict[str, object]:
    where = error.location
    return {
        "file": where.path if where else None,
        "line": where.line if where else None,
        "column": where.column if where else None,
        "message": error.detail,
    }


def report_json(report: ValidationReport, errors: Sequence[InputError] = ()) -> str:
    """The outcome as JSON: ``conforms`` (false when a file could not be read), the counts,
    one object per violation (file, line, node, path, shape, message) and per unreadable file.

    >>> from mbtkg.validation.violations import ValidationReport
    >>> json.loads(report_json(ValidationReport(2, ())))["conforms"]
    True
    """
    return json.dumps(
        {
            "conforms": report.conforms and not errors,
            "sessions": report.sessions,
            "violations": [_violation_json(v) for v in report.violations],
            "errors": [_error_json(e) for e in errors],
        },
        indent=2,
    )
