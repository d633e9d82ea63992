"""The concepts a coder may pick: every class under ``mbt:SessionPhenomenon``, with its card.

Built from the bundled ontology, so terms added to the ontology appear without code changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .. import vocab
from ..analysis.data import family_of
from ..concepts import compact, default_index, default_ontology_quads
from ..ontology.concept_card import build_card
from ..validation.validate import quads_to_rdflib

CODABLE_ROOT = vocab.MBT + "SessionPhenomenon"
#: A branch so broad that the picker groups by its children instead (most codable concepts are
#: mental-state occurrences).
_WIDE_BRANCHES = frozenset({vocab.MBT + "MentalStateOccurrence"})


@dataclass(frozen=True)
class Concept:
    """One codable concept: what the picker shows and what the suggesters read."""

    iri: str
    curie: str
    label: str
    family: str  # the analysis family (colours, as in the timeline)
    group: str  # the ontology branch the picker lists it under
    synonyms: tuple[str, ...]
    definitions: tuple[str, ...]
    examples: tuple[str, ...]
    sources: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        """The concept as the page receives it."""
        return {
            "iri": self.iri,
            "curie": self.curie,
            "label": self.label,
            "family": self.family,
            "group": self.group,
            "synonyms": list(self.synonyms),
            "definitions": list(self.definitions),
            "examples": list(self.examples),
            "sources": list(self.sources),
        }


@lru_cache(maxsize=1)
def codable_concepts() -> tuple[Concept, ...]:
    """Every codable, non-deprecated concept of the bundled ontology, by family then label."""
    index = default_index()
    graph = quads_to_rdflib(default_ontology_quads())
    out: list[Concept] = []
    for iri, label in index.labels.items():
        ancestors = index.ancestors(iri)
        if iri in index.deprecated or iri in index.inferred or CODABLE_ROOT not in ancestors:
            continue
        card = build_card(graph, iri)
        out.append(
            Concept(
                iri=iri,
                curie=compact(iri),
                label=label,
                family=family_of(frozenset(ancestors | {iri})),
                group=_group(iri),
                synonyms=card.synonyms,
                definitions=card.definitions,
                examples=card.examples,
                sources=tuple(c.text for c in card.sources),
            )
        )
    return tuple(sorted(out, key=lambda c: (c.group, c.label.lower())))


def _branch(iri: str, root: str) -> str:
    """The child of ``root`` that ``iri`` falls under (itself, if it is one); by label on a tie."""
    index = default_index()
    lineage = index.ancestors(iri) | {iri}
    children = [a for a in lineage if root in index.parents.get(a, ())]
    return min(children, key=lambda a: index.labels.get(a, a)) if children else root


def _group(iri: str) -> str:
    """The picker's group of a concept: its branch under SessionPhenomenon, one level deeper
    where that branch is very wide (mental-state occurrences) and the concept is not a lone leaf
    there, named by the branch's label."""
    index = default_index()
    branch = _branch(iri, CODABLE_ROOT)
    if branch in _WIDE_BRANCHES and branch != iri:
        narrower = _branch(iri, branch)
        # A leaf directly under the wide branch would head a group of its own: keep it there.
        if narrower != iri or any(iri in parents for parents in index.parents.values()):
            branch = narrower
    return index.labels.get(branch, compact(branch))


def concept_by_name(name: str) -> Concept | None:
    """The codable concept a session file names (label, synonym, CURIE ...), or None."""
    index = default_index()
    iri = index.names.get(name.strip().lower())
    return next((c for c in codable_concepts() if c.iri == iri), None)
