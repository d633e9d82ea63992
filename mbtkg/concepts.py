"""Names of ontology terms: resolve what people write (a label, a local name, a CURIE) to IRIs.

The index is built once from the bundled ontology. Matching ignores case and surrounding
white space; an unknown name raises :class:`UnknownNameError` with the closest labels.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from . import vocab
from .errors import ResourceError, UnknownNameError
from .resources import ontology_files

_RDF_TYPE = vocab.RDF + "type"
_LABEL = vocab.RDFS + "label"
_ALT = vocab.SKOS + "altLabel"
_SUBCLASS = vocab.RDFS + "subClassOf"
_SUBPROPERTY = vocab.RDFS + "subPropertyOf"
_CLASS = vocab.OWL + "Class"
_DEPRECATED = vocab.OWL + "deprecated"
_IN_SUBSET = vocab.IN_SUBSET
_INFERRED = vocab.INFERRED_SUBSET


def load_ontology_quads(files: Iterable[Path] | None = None) -> list[ox.Quad]:
    """Parse the ontology files into quads of the ontology graph.

    Raises ResourceError naming the file and line when a file does not parse.
    """
    graph = ox.NamedNode(vocab.ONTOLOGY_GRAPH)
    quads: list[ox.Quad] = []
    for path in files if files is not None else ontology_files():
        try:
            for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
                quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
        except SyntaxError as exc:
            raise ResourceError(f"{path}: the ontology does not parse: {exc}") from exc
    return quads


@dataclass(frozen=True)
class ConceptIndex:
    """Labels, synonyms and hierarchy of the ontology's classes and occurrence relations."""

    labels: dict[str, str]  # class IRI -> label
    parents: dict[str, frozenset[str]]  # class IRI -> direct named superclasses
    names: dict[str, str]  # lower-case name (label, synonym, local name, CURIE) -> IRI
    relations: dict[str, str]  # lower-case relation name -> property IRI
    relation_labels: dict[str, str]  # property IRI -> local name as written in the format
    deprecated: frozenset[str]
    #: Classes reasoning assigns from other codes (``mbt:inferred_subset``): not coded by hand.
    inferred: frozenset[str] = frozenset()

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> ConceptIndex:
        """Build the index from ontology quads (any graph)."""
        classes: set[str] = set()
        labels: dict[str, str] = {}
        alts: dict[str, list[str]] = {}
        parents: dict[str, set[str]] = {}
        subprops: dict[str, set[str]] = {}
        deprecated: set[str] = set()
        inferred: set[str] = set()
        for q in quads:
            s, p, o = q.subject, q.predicate.value, q.object
            if not isinstance(s, ox.NamedNode):
                continue
            if p == _RDF_TYPE and isinstance(o, ox.NamedNode) and o.value == _CLASS:
                classes.add(s.value)
            elif p == _LABEL and isinstance(o, ox.Literal):
                labels.setdefault(s.value, o.value)
            elif p == _ALT and isinstance(o, ox.Literal):
                alts.setdefault(s.value, []).append(o.value)
            elif p == _SUBCLASS and isinstance(o, ox.NamedNode):
                parents.setdefault(s.value, set()).add(o.value)
            elif p == _SUBPROPERTY and isinstance(o, ox.NamedNode):
                subprops.setdefault(s.value, set()).add(o.value)
            elif p == _DEPRECATED and isinstance(o, ox.Literal) and o.value == "true":
                deprecated.add(s.value)
            elif p == _IN_SUBSET and isinstance(o, ox.NamedNode) and o.value == _INFERRED:
                inferred.add(s.value)
        own = sorted(c for c in classes if c.startswith(vocab.MBT))
        names: dict[str, str] = {}
        synonyms: dict[str, set[str]] = {}
        for iri in own:
            local = iri[len(vocab.MBT) :]
            for key in (labels.get(iri, ""), local, f"mbt:{local}", iri):
                if key:
                    names[key.strip().lower()] = iri
            for alt in alts.get(iri, []):
                synonyms.setdefault(alt.strip().lower(), set()).add(iri)
        for alt, iris in synonyms.items():  # a synonym shared by two classes names neither
            if len(iris) == 1 and alt not in names:
                names[alt] = next(iter(iris))
        top = vocab.MBT + "occurrenceRelation"
        relations: dict[str, str] = {}
        relation_labels: dict[str, str] = {}
        for prop, supers in subprops.items():
            if top in supers and prop.startswith(vocab.MBT):
                local = prop[len(vocab.MBT) :]
                relation_labels[prop] = local
                for key in (local, f"mbt:{local}", prop, labels.get(prop, "")):
                    if key:
                        relations[key.strip().lower()] = prop
        return cls(
            labels={c: labels.get(c, c[len(vocab.MBT) :]) for c in own},
            parents={c: frozenset(parents.get(c, set())) for c in own},
            names=names,
            relations=relations,
            relation_labels=relation_labels,
            deprecated=frozenset(deprecated),
            inferred=frozenset(inferred),
        )

    def resolve(self, name: str) -> str:
        """The IRI of the class a person named by label, synonym, local name, CURIE or IRI.

        >>> default_index().resolve("Epistemic Trust")
        'https://w3id.org/mbtkg/ontology#EpistemicTrust'
        """
        iri = self.names.get(name.strip().lower())
        if iri is None:
            raise UnknownNameError(
                f"unknown concept {name!r}{self._did_you_mean(name, self.labels.values())}",
                suggestions=tuple(self.suggest(name, self.labels.values())),
            )
        return iri

    def resolve_relation(self, name: str) -> str:
        """The IRI of an occurrence relation (``repairs``, ``respondsTo``, ``triggeredBy`` ...)."""
        iri = self.relations.get(name.strip().lower())
        if iri is None:
            known = sorted(self.relation_labels.values())
            raise UnknownNameError(
                f"unknown relation {name!r}{self._did_you_mean(name, known)}; "
                f"known relations: {', '.join(known)}",
                suggestions=tuple(self.suggest(name, known)),
            )
        return iri

    def label(self, iri: str) -> str:
        """The label of a class, or its CURIE when it has none."""
        if iri in self.labels:
            return self.labels[iri]
        return compact(iri)

    def ancestors(self, iri: str) -> set[str]:
        """All named superclasses of a class (not including itself)."""
        seen: set[str] = set()
        todo = list(self.parents.get(iri, ()))
        while todo:
            nxt = todo.pop()
            if nxt not in seen:
                seen.add(nxt)
                todo.extend(self.parents.get(nxt, ()))
        return seen

    @staticmethod
    def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
        """The closest candidates to a misspelt name, best first."""
        pool = list(candidates)
        lowered = {c.lower(): c for c in pool}
        hits = difflib.get_close_matches(name.strip().lower(), list(lowered), n=n, cutoff=0.6)
        return [lowered[h] for h in hits]

    def _did_you_mean(self, name: str, candidates: Iterable[str]) -> str:
        hits = self.suggest(name, candidates)
        if not hits:
            return ""
        return "; did you mean " + " or ".join(repr(h) for h in hits) + "?"


def compact(iri: str) -> str:
    """A CURIE for an IRI in a known namespace, else the IRI itself.

    >>> compact("https://w3id.org/mbtkg/ontology#Repair")
    'mbt:Repair'
    """
    for prefix, ns in vocab.PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


@lru_cache(maxsize=1)
def default_ontology_quads() -> tuple[ox.Quad, ...]:
    """The bundled ontology, parsed once per process."""
    return tuple(load_ontology_quads())


@lru_cache(maxsize=1)
def default_ontology_nquads() -> bytes:
    """The bundled ontology as N-Quads of the ontology graph, ready for a store to load: read
    from the cache of derived rules (:mod:`mbtkg.derived_cache`), else serialized from the
    parse and stored there. A load writes these bytes as they are; parsing the Turtle files
    into Python quads and handing those to the store cost a tenth of a ten-session load."""
    from .derived_cache import fingerprint, load_or_build

    files = ontology_files()
    key = fingerprint(files, code=("concepts.py", "vocab.py"), libraries=("pyoxigraph",))
    return load_or_build(
        "ontology-nquads",
        key,
        lambda: ox.serialize(load_ontology_quads(files), format=ox.RdfFormat.N_QUADS) or b"",
        bytes,
    )


@lru_cache(maxsize=1)
def default_index() -> ConceptIndex:
    """The concept index of the bundled ontology, once per process: read from the cache of
    derived rules (:mod:`mbtkg.derived_cache`), or built from the ontology and stored there."""
    from .derived_cache import fingerprint, load_or_build

    files = ontology_files()
    key = fingerprint(files, code=("concepts.py", "vocab.py"), libraries=("pyoxigraph",))
    return load_or_build(
        "concept-index",
        key,
        lambda: ConceptIndex.from_quads(load_ontology_quads(files)),
        ConceptIndex,
    )
