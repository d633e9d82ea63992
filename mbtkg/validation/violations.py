"""What both SHACL engines share, below both: results in words, the graphs, the reference run.

:mod:`mbtkg.validation.validate` (pySHACL, the reference) and :mod:`mbtkg.validation.fast_shacl` (the compiled
engine) report the same :class:`Violation` objects, check against the same shapes and ontology
graphs, and the fast engine falls back to pySHACL for shapes it does not compile. Those pieces
live here, so that neither engine imports the other: ``validate`` dispatches to
``fast_shacl``, and both import this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .. import vocab
from ..concepts import ConceptIndex, compact, default_ontology_quads
from ..errors import InputError
from ..resources import shape_files
from ..sessions.to_rdf import SessionGraph

if TYPE_CHECKING:
    import rdflib

# rdflib and pySHACL are imported where they are used: the fast engine and every command that
# only needs Violation and ValidationReport (a load, `mbtkg validate --engine fast` of a clean
# session) do without them.


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
def shapes_graph() -> rdflib.Graph:
    """The bundled SHACL shapes, parsed once per process, with the checks generated from the
    ontology's domain, range and functional axioms (:mod:`mbtkg.validation.axiom_checks`)."""
    import rdflib

    from .axiom_checks import axiom_shapes

    g = rdflib.Graph()
    for path in shape_files():
        g.parse(str(path), format="turtle")
    g += axiom_shapes()
    return g


@lru_cache(maxsize=1)
def ontology_graph() -> rdflib.Graph:
    """The bundled ontology as an rdflib graph, parsed once per process (what pySHACL mixes in)."""
    return quads_to_rdflib(default_ontology_quads())


def quads_to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    """The triples of some quads as an rdflib graph (graph names dropped)."""
    import rdflib

    data = rdflib.Graph()
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    data.parse(data=text.decode("utf-8"), format="nt")
    return data


def _to_rdflib(graph: SessionGraph) -> rdflib.Graph:
    return quads_to_rdflib(graph.quads)


#: Validation engines: pySHACL (the reference) and the compiled SPARQL engine (mbtkg.validation.fast_shacl).
ENGINES = ("pyshacl", "fast")


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
    from pyshacl import validate as pyshacl_validate

    _conforms, results, _text = pyshacl_validate(
        _to_rdflib(graph),
        shacl_graph=shapes_graph(),
        ont_graph=ontology_graph(),
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
    )
    return violations_from_results(results, graph, index)


def node_text(node: object, index: ConceptIndex) -> str:
    """A result's value as a message shows it: a concept's label, a short name, never text."""
    import rdflib

    if isinstance(node, rdflib.URIRef):
        iri = str(node)
        if iri in index.labels:
            return repr(index.labels[iri])
        described = vocab.describe(iri)
        return described if described != iri else compact(iri)
    if isinstance(node, rdflib.Literal):
        return literal_description(node)
    return "a blank node"


def literal_description(literal: rdflib.Literal) -> str:
    """A literal as a message may show it: never the words of a text (they may be session
    text, which is clinical data), only its length; numbers and dates as written.

    >>> import rdflib
    >>> literal_description(rdflib.Literal("I felt nothing"))
    'a text of 14 characters'
    >>> literal_description(rdflib.Literal(1.5))
    '1.5'
    """
    import rdflib

    lexical = str(literal)
    if (
        literal.datatype in (None, rdflib.XSD.string, rdflib.RDF.langString)
        or len(lexical) > 40
        or any(c.isspace() for c in lexical)
    ):
        return f"a text of {len(lexical)} characters" if lexical else "an empty text"
    return lexical


def violations_from_results(
    results: rdflib.Graph, graph: SessionGraph, index: ConceptIndex
) -> list[Violation]:
    """pySHACL's results graph for one session as violations located at their lines."""
    import rdflib

    out: list[Violation] = []
    _SH = rdflib.Namespace(vocab.SH)
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
        suggestion = declared_suggestion(path, value, graph)
        out.append(
            Violation(
                source=graph.source,
                line=line,
                focus=focus_iri,
                path=compact(str(path)) if isinstance(path, rdflib.URIRef) else None,
                component=compact(str(component)).replace(vocab.SH, "sh:"),
                shape=_shape_name(shape),
                message=str(message) if message is not None else "does not conform",
                value=None if value is None or value == focus else node_text(value, index),
                suggestion=suggestion,
            )
        )
    out.sort(key=lambda v: (v.line or 0, v.shape, v.value or ""))
    return out


def _shape_name(shape: object) -> str:
    text = str(shape)
    prefix = "https://w3id.org/mbtkg/shapes#"
    return f"mbtsh:{text[len(prefix) :]}" if text.startswith(prefix) else "(anonymous shape)"


def declared_suggestion(path: object, value: object, graph: SessionGraph) -> str | None:
    """The closest declared id for an undeclared speaker or annotator."""
    import rdflib

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
