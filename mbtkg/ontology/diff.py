"""Compare two versions of the ontology: what theorists need to know changed between them.

Terms are compared by IRI. Per term, labels and definitions are compared as sets of texts, and
logical axioms (subclass, equivalence, disjointness, domain, range, sub-property, inverse,
characteristics) as sets of canonical lines from :func:`mbtkg.ontology.class_expressions.axioms`, in
which blank-node structures are written out in full. Two versions that differ only in blank
node ids, file layout or triple order therefore have no differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from .. import vocab
from ..concepts import compact
from .class_expressions import axioms, curie_namer, is_true
from .source import read_ontology
from .term_annotations import compact_source, definition_sources, definitions

_PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
_LOGICAL = {
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    RDFS.domain,
    RDFS.range,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    OWL.disjointWith,
    OWL.inverseOf,
    OWL.propertyDisjointWith,
    OWL.disjointUnionOf,
    OWL.propertyChainAxiom,
    RDF.type,
}
_DEFINITION = rdflib.URIRef(vocab.DEFINITION)
_REPLACED_BY = rdflib.URIRef(vocab.TERM_REPLACED_BY)
_SHOWN_APART = {
    RDFS.label,
    SKOS.definition,
    _DEFINITION,
    OWL.deprecated,
    rdflib.DCTERMS.isReplacedBy,
    rdflib.DCTERMS.source,  # compared as "definition sources"
    _REPLACED_BY,
}


@dataclass(frozen=True)
class Term:
    """A class or property named by IRI, with its label (in the version it is listed from)."""

    iri: str
    label: str | None

    def __str__(self) -> str:
        curie = compact(self.iri)
        return f"{self.label} ({curie})" if self.label else curie


@dataclass(frozen=True)
class Change:
    """What changed about one term in one respect: the values removed and the values added."""

    term: Term
    aspect: str  # "label", "definition", "axioms", or an annotation property's CURIE
    removed: tuple[str, ...]
    added: tuple[str, ...]


@dataclass(frozen=True)
class OntologyDiff:
    """Every difference between an OLD and a NEW version of the ontology."""

    old_files: tuple[Path, ...]
    new_files: tuple[Path, ...]
    old_version: str | None
    new_version: str | None
    added_classes: tuple[Term, ...]
    removed_classes: tuple[Term, ...]
    deprecated_classes: tuple[tuple[Term, str | None], ...]  # (term, replaced by)
    added_properties: tuple[Term, ...]
    removed_properties: tuple[Term, ...]
    label_changes: tuple[Change, ...]
    definition_changes: tuple[Change, ...]
    axiom_changes: tuple[Change, ...]
    annotation_changes: tuple[Change, ...]

    @property
    def is_empty(self) -> bool:
        """True when the two versions hold the same terms, texts and axioms."""
        return not any(
            (
                self.added_classes,
                self.removed_classes,
                self.deprecated_classes,
                self.added_properties,
                self.removed_properties,
                self.label_changes,
                self.definition_changes,
                self.axiom_changes,
                self.annotation_changes,
            )
        )


def _typed(graph: rdflib.Graph, *types: rdflib.URIRef) -> set[str]:
    return {
        str(s) for t in types for s in graph.subjects(RDF.type, t) if isinstance(s, rdflib.URIRef)
    }


def _labels(graph: rdflib.Graph) -> dict[str, str]:
    out: dict[str, str] = {}
    for s, o in sorted(graph.subject_objects(RDFS.label)):
        out.setdefault(str(s), str(o))
    return out


def _texts(graph: rdflib.Graph, iri: str, pred: rdflib.URIRef) -> set[str]:
    return {
        str(o) if isinstance(o, rdflib.Literal) else curie_namer(o)
        for o in graph.objects(rdflib.URIRef(iri), pred)
        if not isinstance(o, rdflib.BNode)
    }


def _deprecated(graph: rdflib.Graph) -> set[str]:
    return {str(s) for s, o in graph.subject_objects(OWL.deprecated) if is_true(o)}


def _version(graph: rdflib.Graph) -> str | None:
    for ont in graph.subjects(RDF.type, OWL.Ontology):
        info = graph.value(ont, OWL.versionInfo)
        iri = graph.value(ont, OWL.versionIRI)
        if info is not None or iri is not None:
            return " ".join(str(x) for x in (info, iri) if x is not None)
    return None


def diff_graphs(
    old: rdflib.Graph,
    new: rdflib.Graph,
    *,
    old_files: tuple[Path, ...] = (),
    new_files: tuple[Path, ...] = (),
) -> OntologyDiff:
    """Compare two ontology graphs (see the module docstring for what counts as a change)."""
    old_labels, new_labels = _labels(old), _labels(new)

    def term(iri: str, *, prefer_old: bool = False) -> Term:
        first, second = (old_labels, new_labels) if prefer_old else (new_labels, old_labels)
        return Term(iri, first.get(iri) or second.get(iri))

    old_classes, new_classes = _typed(old, OWL.Class), _typed(new, OWL.Class)
    old_props, new_props = _typed(old, *_PROPERTY_TYPES), _typed(new, *_PROPERTY_TYPES)
    newly_deprecated = sorted((_deprecated(new) - _deprecated(old)) & new_classes)
    replaced = {
        iri: compact(str(r))
        for iri in newly_deprecated
        if (
            r := new.value(rdflib.URIRef(iri), _REPLACED_BY)
            or new.value(rdflib.URIRef(iri), rdflib.DCTERMS.isReplacedBy)
        )
        is not None
    }
    common = sorted((old_classes & new_classes) | (old_props & new_props))
    label_changes: list[Change] = []
    definition_changes: list[Change] = []
    annotation_changes: list[Change] = []
    for iri in common:
        change = _compare(
            term(iri), "label", _texts(old, iri, RDFS.label), _texts(new, iri, RDFS.label)
        )
        if change:
            label_changes.append(change)
        node = rdflib.URIRef(iri)
        change = _compare(
            term(iri), "definition", set(definitions(old, node)), set(definitions(new, node))
        )
        if change:
            definition_changes.append(change)
        change = _compare(term(iri), "definition sources", _sources(old, node), _sources(new, node))
        if change:
            annotation_changes.append(change)
        preds = {
            p
            for g in (old, new)
            for p in g.predicates(rdflib.URIRef(iri))
            if isinstance(p, rdflib.URIRef)
        }
        for pred in sorted(preds - _LOGICAL - _SHOWN_APART, key=str):
            change = _compare(
                term(iri), compact(str(pred)), _texts(old, iri, pred), _texts(new, iri, pred)
            )
            if change:
                annotation_changes.append(change)
    old_axioms, new_axioms = axioms(old), axioms(new)
    axiom_changes = [
        change
        for iri in common
        if (
            change := _compare(
                term(iri),
                "axioms",
                old_axioms.get(rdflib.URIRef(iri), set()),
                new_axioms.get(rdflib.URIRef(iri), set()),
            )
        )
    ]
    return OntologyDiff(
        old_files=old_files,
        new_files=new_files,
        old_version=_version(old),
        new_version=_version(new),
        added_classes=tuple(term(i) for i in sorted(new_classes - old_classes)),
        removed_classes=tuple(term(i, prefer_old=True) for i in sorted(old_classes - new_classes)),
        deprecated_classes=tuple((term(i), replaced.get(i)) for i in newly_deprecated),
        added_properties=tuple(term(i) for i in sorted(new_props - old_props)),
        removed_properties=tuple(term(i, prefer_old=True) for i in sorted(old_props - new_props)),
        label_changes=tuple(label_changes),
        definition_changes=tuple(definition_changes),
        axiom_changes=tuple(axiom_changes),
        annotation_changes=tuple(annotation_changes),
    )


def _sources(graph: rdflib.Graph, node: rdflib.URIRef) -> set[str]:
    return {
        compact_source(compact(s.iri)) + (f" {s.locator}" if s.locator else "")
        for s in definition_sources(graph, node)
    }


def _compare(term: Term, aspect: str, old: set[str], new: set[str]) -> Change | None:
    if old == new:
        return None
    return Change(term, aspect, tuple(sorted(old - new)), tuple(sorted(new - old)))


def diff_ontologies(old: str | Path, new: str | Path) -> OntologyDiff:
    """Compare two versions given as files or directories of ``*.ttl`` files.

    Raises OntologyParseError naming the file and line when either does not parse.
    """
    old_source, new_source = read_ontology(old), read_ontology(new)
    return diff_graphs(
        old_source.to_rdflib(),
        new_source.to_rdflib(),
        old_files=old_source.files,
        new_files=new_source.files,
    )


def format_diff(diff: OntologyDiff) -> str:
    """The diff as text for people: one section per kind of change, ``-`` removed, ``+`` added."""
    lines = [
        f"old: {', '.join(str(p) for p in diff.old_files)}"
        + (f"  [{diff.old_version}]" if diff.old_version else ""),
        f"new: {', '.join(str(p) for p in diff.new_files)}"
        + (f"  [{diff.new_version}]" if diff.new_version else ""),
    ]
    if diff.is_empty:
        return "\n".join([*lines, "", "no differences in classes, properties, texts or axioms"])

    def section(title: str, terms: tuple[Term, ...]) -> None:
        if terms:
            lines.extend(["", f"{title} ({len(terms)}):", *(f"  {t}" for t in terms)])

    section("added classes", diff.added_classes)
    section("removed classes", diff.removed_classes)
    if diff.deprecated_classes:
        lines.extend(["", f"deprecated classes ({len(diff.deprecated_classes)}):"])
        for t, by in diff.deprecated_classes:
            lines.append(f"  {t}" + (f"; replaced by {by}" if by else ""))
    section("added properties", diff.added_properties)
    section("removed properties", diff.removed_properties)
    for title, changes in (
        ("changed labels", diff.label_changes),
        ("changed definitions", diff.definition_changes),
        ("changed axioms", diff.axiom_changes),
        ("changed annotations", diff.annotation_changes),
    ):
        if not changes:
            continue
        lines.extend(["", f"{title} ({len(changes)}):"])
        for c in changes:
            head = f"  {c.term}" + (
                f" {c.aspect}" if c.aspect not in ("label", "definition", "axioms") else ""
            )
            lines.append(head + ":")
            lines.extend(f"    - {v}" for v in c.removed)
            lines.extend(f"    + {v}" for v in c.added)
    return "\n".join(lines)
