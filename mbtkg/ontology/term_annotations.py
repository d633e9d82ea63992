"""Read a term's OBO annotations from an ontology graph: definition, its sources, editor notes.

The ontology follows the OBO conventions (see ``ontology/README.md``): a definition is
``obo:IAO_0000115`` and the works it rests on are ``dcterms:source`` values of an axiom
annotation on that definition, with an optional ``mbt:sourceLocator`` ("mbtsrc:X pp. 1-9").
Older files (``skos:definition``, ``dcterms:source`` on the term) are still read, so a draft in
the old form works with every tool.
"""

from __future__ import annotations

from dataclasses import dataclass

import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

from .. import vocab

#: The bibliography namespace (``mbtsrc:``), used in source locators.
SOURCES = vocab.ONTOLOGY_IRI + "/source/"

DEFINITION = rdflib.URIRef(vocab.DEFINITION)
EDITOR_NOTE = rdflib.URIRef(vocab.EDITOR_NOTE)
SOURCE_LOCATOR = rdflib.URIRef(vocab.SOURCE_LOCATOR)
_DEFINITION_PROPERTIES = (DEFINITION, SKOS.definition)


@dataclass(frozen=True)
class DefinitionSource:
    """A work a definition rests on, and where in it (page or chapter), when known."""

    iri: str
    locator: str | None = None


def _texts(graph: rdflib.Graph, node: rdflib.term.Node, pred: rdflib.URIRef) -> list[str]:
    return sorted(str(o) for o in graph.objects(node, pred) if isinstance(o, rdflib.Literal))


def definitions(graph: rdflib.Graph, node: rdflib.term.Node) -> tuple[str, ...]:
    """The term's definitions (IAO:0000115; ``skos:definition`` in older files)."""
    return tuple(_texts(graph, node, DEFINITION) or _texts(graph, node, SKOS.definition))


def editor_notes(graph: rdflib.Graph, node: rdflib.term.Node) -> tuple[str, ...]:
    """The term's editor notes (IAO:0000116; ``skos:editorialNote`` in older files)."""
    return tuple(
        sorted({*_texts(graph, node, EDITOR_NOTE), *_texts(graph, node, SKOS.editorialNote)})
    )


def definition_sources(graph: rdflib.Graph, node: rdflib.term.Node) -> tuple[DefinitionSource, ...]:
    """The works the term's definition rests on, in IRI order, each with its locator."""
    found: dict[str, str | None] = {}
    for axiom in graph.subjects(OWL.annotatedSource, node):
        if (axiom, RDF.type, OWL.Axiom) not in graph:
            continue
        if graph.value(axiom, OWL.annotatedProperty) not in _DEFINITION_PROPERTIES:
            continue
        locators: dict[str, str] = {}
        for value in graph.objects(axiom, SOURCE_LOCATOR):
            curie, _, where = str(value).partition(" ")
            if where:
                locators[expand_source(curie)] = where.strip()
        for src in graph.objects(axiom, DCTERMS.source):
            found[str(src)] = locators.get(str(src)) or found.get(str(src))
    for src in graph.objects(node, DCTERMS.source):  # the older form
        found.setdefault(str(src), None)
    return tuple(DefinitionSource(iri, found[iri]) for iri in sorted(found))


def expand_source(name: str) -> str:
    """The IRI of a bibliography entry written ``mbtsrc:X`` (other names are returned as given)."""
    return SOURCES + name[len("mbtsrc:") :] if name.startswith("mbtsrc:") else name


def compact_source(iri: str) -> str:
    """``mbtsrc:X`` for a bibliography IRI (other IRIs are returned as given)."""
    return "mbtsrc:" + iri[len(SOURCES) :] if iri.startswith(SOURCES) else iri
