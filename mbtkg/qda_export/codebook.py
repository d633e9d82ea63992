"""The ontology's codable concepts as a REFI-QDA code tree, and the code book file (``.qdc``).

Every non-deprecated class under ``mbt:SessionPhenomenon`` is a code, named by its label, with
its definition as description and a GUID minted from its IRI (:mod:`.guids`). Codes nest as the
classes do: a concept sits under its codable superclass (the first by label when it has
several), and the direct subclasses of ``mbt:SessionPhenomenon`` are the top-level codes, one
per ontology branch. A code's name resolves back to its concept, so a project coded with this
code book imports without a mapping file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from .. import vocab
from ..concepts import ConceptIndex, default_index, default_ontology_quads
from ..mapping import codable_iris
from .guids import guid

#: The namespace of a REFI-QDA code book document.
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"


@dataclass
class CodeNode:
    """A code of the tree: a concept, its code GUID, its definition and the codes under it."""

    iri: str
    name: str
    guid: str
    description: str | None
    children: list[CodeNode] = field(default_factory=list)

    def walk(self) -> Iterable[CodeNode]:
        """This code and every code under it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


def _definitions(quads: Iterable[ox.Quad]) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    wanted = (vocab.DEFINITION, vocab.SKOS + "definition")
    for q in quads:
        if not isinstance(q.subject, ox.NamedNode) or not isinstance(q.object, ox.Literal):
            continue
        if q.predicate.value in wanted:
            found.setdefault(q.subject.value, []).append(q.object.value)
    return {iri: sorted(texts)[0] for iri, texts in found.items()}


def codebook_tree(
    index: ConceptIndex | None = None, quads: Iterable[ox.Quad] | None = None
) -> list[CodeNode]:
    """The top-level codes (one per ontology branch), each holding its narrower concepts."""
    index = index or default_index()
    definitions = _definitions(default_ontology_quads() if quads is None else quads)
    codable = codable_iris(index)
    nodes = {
        iri: CodeNode(iri, index.labels[iri], guid(iri), definitions.get(iri)) for iri in codable
    }
    top: list[CodeNode] = []
    for iri in sorted(codable, key=lambda i: (index.labels[i].lower(), i)):
        parents = sorted(
            (p for p in index.parents.get(iri, ()) if p in codable),
            key=lambda p: (index.labels[p].lower(), p),
        )
        if parents:
            nodes[parents[0]].children.append(nodes[iri])
        else:
            top.append(nodes[iri])
    return top


def code_elements(parent: ET.Element, codes: Iterable[CodeNode]) -> None:
    """Append ``<Code>`` elements (with descriptions and nested codes) to ``parent``."""
    for node in codes:
        element = ET.SubElement(
            parent, "Code", {"guid": node.guid, "name": node.name, "isCodable": "true"}
        )
        if node.description:
            ET.SubElement(element, "Description").text = node.description
        code_elements(element, node.children)


def codebook_xml(codes: list[CodeNode] | None = None, *, origin: str = "mbtkg") -> bytes:
    """A REFI-QDA code book document (``.qdc``) of the codable concepts, as UTF-8 bytes."""
    root = ET.Element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": origin})
    holder = ET.SubElement(root, "Codes")
    code_elements(holder, codebook_tree() if codes is None else codes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
