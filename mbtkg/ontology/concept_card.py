"""Concept cards: everything the ontology says about one class, and where sessions use it.

A card gathers the label, CURIE, definition, cited works, synonyms, parents, children,
disjoint classes, other axioms, examples, notes and the fuzzy-boundary flag of a class, plus
the annotations of a store's sessions whose occurrences are of that class (or a subclass).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from .. import vocab
from ..concepts import ConceptIndex, compact, default_index, default_ontology_quads
from ..errors import UnknownNameError
from ..stores.base import Store
from .class_expressions import axioms, is_true, rdf_list
from .source import OntologySource, read_ontology
from .term_annotations import definition_sources, definitions, editor_notes

_FUZZY = rdflib.URIRef(vocab.MBT + "fuzzy")
_FUZZY_REASON = rdflib.URIRef(vocab.MBT + "fuzzyReason")


@dataclass(frozen=True)
class TermRef:
    """A named class, by IRI and label."""

    iri: str
    label: str

    @property
    def curie(self) -> str:
        """The IRI as a CURIE where a prefix is known."""
        return compact(self.iri)

    def __str__(self) -> str:
        return f"{self.label} ({self.curie})"


@dataclass(frozen=True)
class Citation:
    """A work a class cites: its IRI and its citation text (or title)."""

    iri: str
    text: str


@dataclass(frozen=True)
class Usage:
    """One annotation of an example session that codes the concept (or a subclass of it)."""

    session: str
    start_turn: int | None
    end_turn: int | None
    annotator: str | None
    concept: TermRef
    annotation: str | None = None  # the annotation's id in its session file

    @property
    def turns(self) -> str:
        """The turn span as text: ``turns 12-15``, ``turn 7`` or ``turns unknown``."""
        if self.start_turn is None:
            return "turns unknown"
        if self.end_turn is None or self.end_turn == self.start_turn:
            return f"turn {self.start_turn}"
        return f"turns {self.start_turn}-{self.end_turn}"


@dataclass(frozen=True)
class ConceptCard:
    """What the ontology says about one class."""

    term: TermRef
    definitions: tuple[str, ...]
    sources: tuple[Citation, ...]
    synonyms: tuple[str, ...]
    parents: tuple[TermRef, ...]
    children: tuple[TermRef, ...]
    disjoint: tuple[TermRef, ...]
    other_axioms: tuple[str, ...]
    examples: tuple[str, ...]
    scope_notes: tuple[str, ...]
    editorial_notes: tuple[str, ...]
    fuzzy: bool
    fuzzy_reason: str | None
    deprecated: bool
    replaced_by: tuple[TermRef, ...]
    usages: tuple[Usage, ...]


def _texts(graph: rdflib.Graph, node: rdflib.URIRef, pred: rdflib.URIRef) -> tuple[str, ...]:
    return tuple(sorted(str(o) for o in graph.objects(node, pred) if isinstance(o, rdflib.Literal)))


def _ref(graph: rdflib.Graph, node: rdflib.term.Node) -> TermRef:
    label = graph.value(node, RDFS.label)
    return TermRef(str(node), str(label) if label is not None else compact(str(node)))


def _refs(graph: rdflib.Graph, nodes: Iterable[rdflib.term.Node]) -> tuple[TermRef, ...]:
    named = (n for n in nodes if isinstance(n, rdflib.URIRef) and n != OWL.Thing)
    return tuple(sorted((_ref(graph, n) for n in named), key=lambda r: (r.label, r.iri)))


def build_card(graph: rdflib.Graph, iri: str, *, usages: tuple[Usage, ...] = ()) -> ConceptCard:
    """The card of the class ``iri`` from an ontology graph (no lookup by name here)."""
    node = rdflib.URIRef(iri)
    disjoint = set(graph.objects(node, OWL.disjointWith)) | set(
        graph.subjects(OWL.disjointWith, node)
    )
    for group in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = _list(graph, graph.value(group, OWL.members))
        if node in members:
            disjoint |= set(members) - {node}
    parents = {p for p in graph.objects(node, RDFS.subClassOf) if isinstance(p, rdflib.URIRef)}
    shown = {f"subClassOf {compact(str(p))}" for p in parents}
    shown |= {f"disjointWith {compact(str(d))}" for d in disjoint if isinstance(d, rdflib.URIRef)}
    other = sorted(a for a in axioms(graph).get(node, set()) if a not in shown)
    citations = []
    for ref in definition_sources(graph, node):
        src = rdflib.URIRef(ref.iri)
        text = (
            graph.value(src, DCTERMS.bibliographicCitation)
            or graph.value(src, DCTERMS.title)
            or graph.value(src, RDFS.label)
        )
        cited = str(text) if text is not None else compact(str(src))
        citations.append(Citation(str(src), f"{cited} [{ref.locator}]" if ref.locator else cited))
    fuzzy = graph.value(node, _FUZZY)
    reason = graph.value(node, _FUZZY_REASON)
    deprecated = graph.value(node, OWL.deprecated)
    return ConceptCard(
        term=_ref(graph, node),
        definitions=definitions(graph, node),
        sources=tuple(citations),
        synonyms=_texts(graph, node, SKOS.altLabel),
        parents=_refs(graph, parents),
        children=_refs(graph, set(graph.subjects(RDFS.subClassOf, node))),
        disjoint=_refs(graph, disjoint),
        other_axioms=tuple(other),
        examples=_texts(graph, node, SKOS.example),
        scope_notes=_texts(graph, node, SKOS.scopeNote),
        editorial_notes=editor_notes(graph, node),
        fuzzy=is_true(fuzzy),
        fuzzy_reason=str(reason) if reason is not None else None,
        deprecated=is_true(deprecated),
        replaced_by=_refs(
            graph,
            set(graph.objects(node, DCTERMS.isReplacedBy))
            | set(graph.objects(node, rdflib.URIRef(vocab.TERM_REPLACED_BY))),
        ),
        usages=usages,
    )


def _list(graph: rdflib.Graph, head: rdflib.term.Node | None) -> list[rdflib.term.Node]:
    return rdf_list(graph, head) if head is not None else []


def find_usages(store: Store, graph: rdflib.Graph, iri: str) -> tuple[Usage, ...]:
    """The annotations in a store's session graphs whose occurrence is of the class or below it."""
    node = rdflib.URIRef(iri)
    classes = sorted({str(c) for c in graph.transitive_subjects(RDFS.subClassOf, node)} | {iri})
    values = " ".join(str(ox.NamedNode(c)) for c in classes)  # IRIs from the ontology, escaped
    rows = store.select(
        f"""
        PREFIX mbt: <{vocab.MBT}>
        PREFIX oa: <{vocab.OA}>
        PREFIX dcterms: <{vocab.DCTERMS}>
        SELECT ?session ?class ?start ?end ?annotator ?id ?annotation WHERE {{
          VALUES ?class {{ {values} }}
          GRAPH ?session {{
            ?annotation oa:hasBody ?occurrence .
            ?occurrence a ?class .
            OPTIONAL {{ ?annotation mbt:annotationId ?id }}
            OPTIONAL {{ ?occurrence mbt:startIndex ?start ; mbt:endIndex ?end }}
            OPTIONAL {{
              ?annotation dcterms:creator ?agent .
              OPTIONAL {{ ?agent mbt:pseudonym ?annotator }}
            }}
          }}
        }}"""
    )
    found: dict[str, Usage] = {}  # one per annotation
    for r in rows.values():
        session = vocab.session_id_from_graph(str(r["session"])) or str(r["session"])
        start, end, who = r["start"], r["end"], r["annotator"]
        found[str(r["annotation"])] = Usage(
            session=session,
            start_turn=start if isinstance(start, int) else None,
            end_turn=end if isinstance(end, int) else None,
            annotator=str(who) if who is not None else None,
            concept=_ref(graph, rdflib.URIRef(str(r["class"]))),
            annotation=str(r["id"]) if r["id"] is not None else None,
        )
    return tuple(
        sorted(
            found.values(),
            key=lambda u: (u.session, u.start_turn or 0, u.end_turn or 0, u.annotation or ""),
        )
    )


def example_usage_store() -> Store:
    """An in-memory store holding the bundled example sessions, read but not SHACL-validated.

    The examples are validated by the test suite and ``mbtkg demo``; skipping validation here
    keeps a concept card quick. Raises InputError if an example does not read.
    """
    from ..loading import LoadInputError, read_graphs
    from ..resources import example_sessions
    from ..stores import open_store

    graphs, errors = read_graphs(example_sessions())
    if errors:
        raise LoadInputError(errors)
    store = open_store("oxigraph:memory")
    store.replace_graphs({g.graph: g.quads for g in graphs})
    return store


def closest_labels(name: str, labels: Iterable[str], n: int = 5) -> list[str]:
    """Labels close to a name: fuzzy matches first, else labels containing one of its words."""
    pool = sorted(set(labels))
    hits = ConceptIndex.suggest(name, pool, n=n)
    if hits:
        return hits
    words = [w for w in name.lower().replace("-", " ").split() if len(w) > 2]
    return [label for label in pool if any(w in label.lower() for w in words)][:n]


def concept_card(
    name: str,
    *,
    ontology: str | Path | None = None,
    usage_store: Store | None = None,
) -> ConceptCard:
    """The card of the class a person names (label, synonym, local name, CURIE or IRI).

    ``ontology`` is a file or directory (default: the bundled ontology). With ``usage_store``,
    the card lists where that store's sessions use the concept. Raises UnknownNameError,
    whose message and ``suggestions`` give the closest labels, when no class has that name.

    >>> concept_card("Epistemic Trust").term.curie
    'mbt:EpistemicTrust'
    """
    if ontology is None:
        source = OntologySource(files=(), triples=tuple(q.triple for q in default_ontology_quads()))
        index = default_index()
    else:
        source = read_ontology(ontology)
        index = ConceptIndex.from_quads(
            ox.Quad(t.subject, t.predicate, t.object) for t in source.triples
        )
    try:
        iri = index.resolve(name)
    except UnknownNameError as exc:
        if exc.suggestions:
            raise
        hits = closest_labels(name, index.labels.values())
        if not hits:
            raise
        raise UnknownNameError(
            f"unknown concept {name!r}; did you mean " + " or ".join(repr(h) for h in hits) + "?",
            suggestions=tuple(hits),
        ) from None
    graph = source.to_rdflib()
    usages = find_usages(usage_store, graph, iri) if usage_store is not None else ()
    return build_card(graph, iri, usages=usages)


def format_card(card: ConceptCard) -> str:
    """The card as text for people."""
    t = card.term
    lines = [f"{t.label}  ({t.curie})", "=" * min(78, len(t.label) + len(t.curie) + 4), t.iri]
    if card.deprecated:
        by = ", ".join(str(r) for r in card.replaced_by)
        lines.append("DEPRECATED" + (f": use {by} instead" if by else ""))
    if card.fuzzy:
        lines.append("fuzzy boundary" + (f": {card.fuzzy_reason}" if card.fuzzy_reason else ""))

    def block(title: str, items: tuple[object, ...] | list[str], *, bullet: str = "- ") -> None:
        if items:
            lines.extend(["", f"{title}:", *(f"  {bullet}{i}" for i in items)])

    block("definition", card.definitions, bullet="")
    block("synonyms", card.synonyms)
    block("parents", card.parents)
    block("children", card.children)
    block("disjoint with", card.disjoint)
    block("other axioms", card.other_axioms)
    block("examples", card.examples)
    block("scope notes", card.scope_notes)
    block("editorial notes", card.editorial_notes)
    block("sources", [c.text for c in card.sources])
    if card.usages:
        uses = [
            f"{u.session}, {u.turns}"
            + (f", annotation {u.annotation}" if u.annotation else "")
            + (f", coded by {u.annotator}" if u.annotator else "")
            + (f" (as {u.concept.label})" if u.concept.iri != t.iri else "")
            for u in card.usages
        ]
        block(f"used in the example sessions ({len(uses)} annotation(s))", uses)
    else:
        lines.extend(["", "used in the example sessions: nowhere"])
    return "\n".join(lines)
