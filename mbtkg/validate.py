"""Validate session graphs against the SHACL shapes and report violations in words.

pySHACL is the reference engine. Each session is validated on its own graph, with the
ontology mixed in so that ``sh:class`` sees the class hierarchy. Results are mapped back to
the file and line each offending node came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
import rdflib
from pyshacl import validate as pyshacl_validate

from . import vocab
from .concepts import ConceptIndex, compact, default_index, default_ontology_quads
from .errors import InputError
from .resources import shape_files
from .sessions.to_rdf import SessionGraph

_SH = rdflib.Namespace(vocab.SH)


@dataclass(frozen=True)
class Violation:
    """One way a session fails the shapes, located in its source file."""

    source: str
    line: int | None
    focus: str
    path: str | None
    component: str
    shape: str
    message: str
    value: str | None = None
    suggestion: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str, str]:
        """(focus node, path, constraint component, source shape): what engines must agree on."""
        return (self.focus, self.path, self.component, self.shape)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        text = f"{where}: {vocab.describe(self.focus)}: {self.message}"
        if self.value is not None:
            text += f" (found {self.value})"
        if self.suggestion:
            text += f"; did you mean {self.suggestion!r}?"
        return text


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one or more sessions."""

    sessions: int
    violations: tuple[Violation, ...]

    @property
    def conforms(self) -> bool:
        """True when no session has a violation."""
        return not self.violations

    def for_source(self, source: str) -> tuple[Violation, ...]:
        """The violations found in one source file."""
        return tuple(v for v in self.violations if v.source == source)

    def __str__(self) -> str:
        if self.conforms:
            return f"{self.sessions} session(s) conform to the shapes"
        lines = [str(v) for v in self.violations]
        lines.append(f"{len(self.violations)} violation(s) in {self.sessions} session(s)")
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _shapes_graph() -> rdflib.Graph:
    from .axiom_checks import axiom_shapes

    g = rdflib.Graph()
    for path in shape_files():
        g.parse(str(path), format="turtle")
    g += axiom_shapes()  # the checks generated from the ontology's domain and range axioms
    return g


@lru_cache(maxsize=1)
def _ontology_graph() -> rdflib.Graph:
    return quads_to_rdflib(default_ontology_quads())


def quads_to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    """The triples of some quads as an rdflib graph (graph names dropped)."""
    data = rdflib.Graph()
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    data.parse(data=text.decode("utf-8"), format="nt")
    return data


def _to_rdflib(graph: SessionGraph) -> rdflib.Graph:
    return quads_to_rdflib(graph.quads)


#: Validation engines: pySHACL (the reference) and the compiled SPARQL engine (mbtkg.fast_shacl).
ENGINES = ("pyshacl", "fast")


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


def check_engine(engine: str) -> None:
    """Raise InputError unless ``engine`` names a validation engine."""
    if engine not in ENGINES:
        hits = ConceptIndex.suggest(engine, ENGINES, n=1)
        hint = f"; did you mean {hits[0]!r}?" if hits else ""
        raise InputError(
            f"unknown validation engine {engine!r}{hint} (expected one of {', '.join(ENGINES)})"
        )


def validate_with_pyshacl(graph: SessionGraph, *, index: ConceptIndex) -> list[Violation]:
    """The violations pySHACL finds in one session graph."""
    _conforms, results, _text = pyshacl_validate(
        _to_rdflib(graph),
        shacl_graph=_shapes_graph(),
        ont_graph=_ontology_graph(),
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
    )
    return _violations(results, graph, index)


def _text(node: object, index: ConceptIndex) -> str:
    if isinstance(node, rdflib.URIRef):
        iri = str(node)
        if iri in index.labels:
            return repr(index.labels[iri])
        described = vocab.describe(iri)
        return described if described != iri else compact(iri)
    if isinstance(node, rdflib.Literal):
        return literal_description(node)
    return "a blank node"


_TEXT_TYPES = (None, rdflib.XSD.string, rdflib.RDF.langString)


def literal_description(literal: rdflib.Literal) -> str:
    """A literal as a message may show it: never the words of a text (they may be session
    text, which is clinical data), only its length; numbers and dates as written.

    >>> literal_description(rdflib.Literal("I felt nothing"))
    'a text of 14 characters'
    >>> literal_description(rdflib.Literal(1.5))
    '1.5'
    """
    lexical = str(literal)
    if literal.datatype in _TEXT_TYPES or len(lexical) > 40 or any(c.isspace() for c in lexical):
        return f"a text of {len(lexical)} characters" if lexical else "an empty text"
    return lexical


def _violations(results: rdflib.Graph, graph: SessionGraph, index: ConceptIndex) -> list[Violation]:
    out: list[Violation] = []
    for result in results.subjects(rdflib.RDF.type, _SH.ValidationResult):
        focus = results.value(result, _SH.focusNode)
        path = results.value(result, _SH.resultPath)
        value = results.value(result, _SH.value)
        component = results.value(result, _SH.sourceConstraintComponent)
        # A named SPARQL constraint (mbtsh:Turn-order) is the check that failed; its node
        # shape (mbtsh:Turn) only carries it.
        constraint = results.value(result, _SH.sourceConstraint)
        shape = (
            constraint
            if isinstance(constraint, rdflib.URIRef)
            else results.value(result, _SH.sourceShape)
        )
        message = results.value(result, _SH.resultMessage)
        focus_iri = str(focus)
        line = graph.lines.get(focus_iri)
        suggestion = _suggest(path, value, graph)
        out.append(
            Violation(
                source=graph.source,
                line=line,
                focus=focus_iri,
                path=compact(str(path)) if isinstance(path, rdflib.URIRef) else None,
                component=compact(str(component)).replace(vocab.SH, "sh:"),
                shape=_shape_name(shape),
                message=str(message) if message is not None else "does not conform",
                value=None if value is None or value == focus else _text(value, index),
                suggestion=suggestion,
            )
        )
    out.sort(key=lambda v: (v.line or 0, v.shape, v.value or ""))
    return out


def _shape_name(shape: object) -> str:
    text = str(shape)
    prefix = "https://w3id.org/mbtkg/shapes#"
    return f"mbtsh:{text[len(prefix) :]}" if text.startswith(prefix) else "(anonymous shape)"


def _suggest(path: object, value: object, graph: SessionGraph) -> str | None:
    """The closest declared id for an undeclared speaker or annotator."""
    if not isinstance(value, rdflib.URIRef):
        return None
    iri = str(value)
    for kind, prefix in (
        ("participants", f"{vocab.DATA}person/"),
        ("annotators", f"{vocab.DATA}annotator/"),
    ):
        if iri.startswith(prefix):
            from urllib.parse import unquote

            hits = ConceptIndex.suggest(
                unquote(iri[len(prefix) :]), graph.declared.get(kind, ()), n=1
            )
            return hits[0] if hits else None
    return None


def violation_keys(report: ValidationReport) -> set[tuple[str, str | None, str, str]]:
    """The set of (focus, path, component, shape) of a report, for comparing engines."""
    return {v.key for v in report.violations}


def group_by_source(
    report: ValidationReport, sources: Sequence[str]
) -> dict[str, tuple[Violation, ...]]:
    """Violations per source file, in the order the sources were given."""
    return {s: report.for_source(s) for s in sources}
