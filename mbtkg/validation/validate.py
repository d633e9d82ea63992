"""Validate session graphs against the SHACL shapes and report violations in words.

pySHACL is the reference engine. Each session is validated on its own graph, with the
ontology mixed in so that ``sh:class`` sees the class hierarchy. Results are mapped back to
the file and line each offending node came from. The result types, the graphs and the
pySHACL run are in :mod:`mbtkg.validation.violations`, shared with :mod:`mbtkg.validation.fast_shacl`; they are
importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..concepts import ConceptIndex, default_index
from ..sessions.to_rdf import SessionGraph
from .violations import (
    ENGINES,
    ValidationReport,
    Violation,
    check_engine,
    literal_description,
    quads_to_rdflib,
    validate_with_pyshacl,
)

__all__ = [
    "ENGINES",
    "ValidationReport",
    "Violation",
    "check_engine",
    "group_by_source",
    "literal_description",
    "quads_to_rdflib",
    "validate_graphs",
    "validate_with_pyshacl",
    "violation_keys",
]


def validate_graphs(
    graphs: Iterable[SessionGraph],
    *,
    index: ConceptIndex | None = None,
    engine: str = "pyshacl",
    jobs: int = 1,
) -> ValidationReport:
    """Validate session graphs one by one; return every violation, located.

    ``engine`` is ``"pyshacl"`` (the reference) or ``"fast"`` (shapes compiled to SPARQL and
    run by Oxigraph; same results). With ``jobs`` above 1 the sessions are validated in that
    many worker processes. Raises InputError for an unknown engine.

    >>> from mbtkg.resources import example_sessions
    >>> from mbtkg.sessions import read_session, session_to_rdf
    >>> g = session_to_rdf(read_session(example_sessions()[0]))
    >>> validate_graphs([g], engine="fast").conforms  # pySHACL (the default) takes seconds
    True
    """
    check_engine(engine)
    if engine != "pyshacl" or jobs != 1:
        from .fast_shacl.parallel import validate_graphs_with

        return validate_graphs_with(graphs, engine=engine, jobs=jobs, index=index)
    index = index or default_index()
    found: list[Violation] = []
    count = 0
    for graph in graphs:
        count += 1
        found.extend(validate_with_pyshacl(graph, index=index))
    return ValidationReport(count, tuple(found))


def violation_keys(report: ValidationReport) -> set[tuple[str, str | None, str, str]]:
    """The set of (focus, path, component, shape) of a report, for comparing engines."""
    return {v.key for v in report.violations}


def group_by_source(
    report: ValidationReport, sources: Sequence[str]
) -> dict[str, tuple[Violation, ...]]:
    """Violations per source file, in the order the sources were given."""
    return {s: report.for_source(s) for s in sources}
