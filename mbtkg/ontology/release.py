"""Release files of the ontology: every ontology file merged into one, byte-for-byte reproducible.

The same input always gives the same bytes, whatever the order of the source files' triples,
the blank-node ids a parser picks, or Python's hash seed: blank nodes get canonical ids
(:func:`canonical_blank_nodes`), triples are added in sorted order, the prefixes are a
fixed table, and the JSON-LD ``@graph`` is sorted by ``@id``. No time stamp is written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from .. import vocab
from .source import OntologySource, read_ontology

#: The release formats: name -> (rdflib serializer, file extension).
FORMATS: dict[str, tuple[str, str]] = {
    "ttl": ("turtle", ".ttl"),
    "owl": ("xml", ".owl"),  # written by pyoxigraph, see _rdfxml
    "jsonld": ("json-ld", ".jsonld"),
}

#: Prefixes written into release files (only those the ontology uses are bound).
RELEASE_PREFIXES: dict[str, str] = {
    "mbt": vocab.MBT,
    "mbtsrc": vocab.ONTOLOGY_IRI + "/source/",
    "dcterms": vocab.DCTERMS,
    "oa": vocab.OA,
    "owl": vocab.OWL,
    "prov": vocab.PROV,
    "rdf": vocab.RDF,
    "rdfs": vocab.RDFS,
    "skos": vocab.SKOS,
    "vann": "http://purl.org/vocab/vann/",
    "xsd": vocab.XSD,
    "obo": "http://purl.obolibrary.org/obo/",
}


Triple = tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]


def canonical_blank_nodes(triples: list[Triple]) -> list[Triple]:
    """The triples with every blank node renamed by a hash of its structure and surroundings.

    Colour refinement: a blank node's label starts from the hash of the triples that touch it
    (other blank nodes left anonymous), then repeatedly takes in its neighbours' labels until
    the partition of blank nodes stops growing. OWL's blank nodes (restrictions, lists,
    disjointness groups) are trees hanging off named terms, so the labels end up distinct;
    nodes that still share a label are interchangeable (swapping them gives the same graph).
    Much faster than ``rdflib.compare.to_canonical_graph`` on ontologies of this shape.
    """
    touching: dict[rdflib.BNode, list[tuple[str, str, rdflib.term.Node]]] = {}
    for s, p, o in triples:
        if isinstance(s, rdflib.BNode):
            touching.setdefault(s, []).append(("out", p.n3(), o))
        if isinstance(o, rdflib.BNode):
            touching.setdefault(o, []).append(("in", p.n3(), s))
    labels = {b: "" for b in touching}

    def show(term: rdflib.term.Node) -> str:
        return "_:" + labels[term] if isinstance(term, rdflib.BNode) else term.n3()

    classes = 0
    for _ in range(len(labels) + 1):
        labels = {
            b: hashlib.sha256(
                "\n".join([labels[b], *sorted(f"{d} {p} {show(x)}" for d, p, x in edges)]).encode()
            ).hexdigest()[:24]
            for b, edges in touching.items()
        }
        count = len(set(labels.values()))
        if count == classes:
            break
        classes = count
    final: dict[rdflib.BNode, rdflib.BNode] = {}
    seen: dict[str, int] = {}
    for b in sorted(labels, key=lambda n: labels[n]):
        n = seen.get(labels[b], 0)
        seen[labels[b]] = n + 1
        final[b] = rdflib.BNode(f"b{labels[b]}" + (f"x{n}" if n else ""))

    def rename(term: rdflib.term.Node) -> rdflib.term.Node:
        return final[term] if isinstance(term, rdflib.BNode) else term

    return [(rename(s), p, rename(o)) for s, p, o in triples]


def release_graph(source: OntologySource) -> rdflib.Graph:
    """The merged ontology with canonical blank nodes, triples inserted in sorted order."""
    canonical = canonical_blank_nodes(list(source.to_rdflib()))
    graph = rdflib.Graph(bind_namespaces="none")
    used = {str(t) for triple in canonical for t in triple if isinstance(t, rdflib.URIRef)}
    for prefix, ns in RELEASE_PREFIXES.items():
        if any(iri.startswith(ns) for iri in used):
            graph.bind(prefix, rdflib.Namespace(ns), override=True, replace=True)
    for triple in sorted(canonical, key=lambda t: tuple(term.n3() for term in t)):
        graph.add(triple)
    return graph


def version_info(graph: rdflib.Graph) -> str:
    """The ontology's owl:versionInfo, or "unversioned"."""
    for ont in sorted(graph.subjects(rdflib.RDF.type, rdflib.OWL.Ontology), key=str):
        info = graph.value(ont, rdflib.OWL.versionInfo)
        if info is not None:
            return str(info)
    return "unversioned"


#: The release artefacts, as ODK names them: base holds our axioms only, full merges imports.
ARTEFACTS = ("base", "full")
_SKOS_DEFINITION = rdflib.URIRef(vocab.SKOS + "definition")
_IMPORTS = rdflib.OWL.imports


def artefact_graph(kind: str, *, location: str | Path | None = None) -> rdflib.Graph:
    """The ``base`` or ``full`` release graph, with SKOS definitions generated for SKOS tools.

    Both drop ``owl:imports`` (base is meant to be combined with other bases; full already
    holds what the imports hold). ``skos:definition`` is generated from each IAO:0000115
    definition, so the sources keep one definition per term.
    """
    if kind not in ARTEFACTS:
        raise ValueError(f"unknown artefact {kind!r}; expected one of {', '.join(ARTEFACTS)}")
    source = read_ontology(location, with_imports=kind == "full")
    graph = release_graph(source)
    for triple in list(graph.triples((None, _IMPORTS, None))):
        graph.remove(triple)
    definition = rdflib.URIRef(vocab.DEFINITION)
    generated = sorted(graph.subject_objects(definition))
    for term, text in generated:
        graph.add((term, _SKOS_DEFINITION, text))
    if generated:
        graph.add((_SKOS_DEFINITION, rdflib.RDF.type, rdflib.OWL.AnnotationProperty))
    return graph


def export_artefact(kind: str, fmt: str, *, location: str | Path | None = None) -> bytes:
    """One release artefact (``base`` or ``full``) in one format (``ttl``, ``owl``, ``jsonld``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    graph = artefact_graph(kind, location=location)
    return _serialize(graph, fmt, banner=f"the {kind} release artefact")


def write_release(out: str | Path, *, location: str | Path | None = None) -> list[Path]:
    """Write ``mbt-base`` and ``mbt-full`` in Turtle, OWL (RDF/XML) and JSON-LD into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind in ARTEFACTS:
        graph = artefact_graph(kind, location=location)
        for fmt, (_, extension) in FORMATS.items():
            path = folder / f"mbt-{kind}{extension}"
            path.write_bytes(_serialize(graph, fmt, banner=f"the {kind} release artefact"))
            written.append(path)
    return written


def export_ontology(fmt: str, *, location: str | Path | None = None) -> bytes:
    """Serialise the merged ontology (the bundled one by default) as ``ttl``, ``owl`` or ``jsonld``.

    ``owl`` is RDF/XML, which OWL tools (Protégé, owlready2, the OWL API) read directly.
    Raises ValueError for an unknown format and OntologyParseError when a file does not parse.

    >>> export_ontology("ttl").startswith(b"# mbtkg ontology ")
    True
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    source = read_ontology(location)
    graph = release_graph(source)
    return _serialize(graph, fmt, banner="one release file merging every ontology file")


def _serialize(graph: rdflib.Graph, fmt: str, *, banner: str) -> bytes:
    serializer, _ = FORMATS[fmt]
    if fmt == "jsonld":
        return _jsonld(graph)
    if fmt == "owl":
        return _rdfxml(graph)
    data = graph.serialize(format=serializer, encoding="utf-8")
    if fmt == "ttl":
        head = (
            f"# mbtkg ontology {version_info(graph)}: {banner}.\n"
            "# Generated by `mbtkg ontology export`; edit the source files, not this one.\n"
        )
        data = head.encode("utf-8") + data
    return data


def _prefixes(graph: rdflib.Graph) -> dict[str, str]:
    """The release prefixes bound in the graph (rdflib may add others of its own)."""
    return {p: str(ns) for p, ns in graph.namespaces() if RELEASE_PREFIXES.get(p) == str(ns)}


def _rdfxml(graph: rdflib.Graph) -> bytes:
    """RDF/XML with one description per subject, subjects in sorted order (named ones first).

    rdflib's own RDF/XML writers order subjects by hash, which changes from run to run.
    """
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    triples = list(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))
    triples.sort(
        key=lambda t: (
            isinstance(t.subject, ox.BlankNode),
            str(t.subject),
            str(t.predicate),
            str(t.object),
        )
    )
    return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_prefixes(graph)) or b""


def _jsonld(graph: rdflib.Graph) -> bytes:
    context = _prefixes(graph)
    text = graph.serialize(format="json-ld", context=context, auto_compact=True)
    doc: Any = _fix_types(json.loads(text))
    if isinstance(doc, dict) and isinstance(doc.get("@graph"), list):
        doc["@graph"] = sorted(doc["@graph"], key=lambda node: json.dumps(node, sort_keys=True))
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _fix_types(node: Any) -> Any:
    """Write ``@type`` values as strings: rdflib emits ``{"@id": "_:b1"}`` for a blank-node type
    (an individual typed with a class expression), which JSON-LD forbids."""
    if isinstance(node, list):
        return [_fix_types(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _fix_types(v) for k, v in node.items()}
    types = out.get("@type")
    if isinstance(types, list):
        out["@type"] = [t["@id"] if isinstance(t, dict) and "@id" in t else t for t in types]
    elif isinstance(types, dict) and "@id" in types:
        out["@type"] = types["@id"]
    return out


def default_file_name(fmt: str) -> str:
    """The conventional name of a release file: ``mbt.ttl``, ``mbt.owl`` or ``mbt.jsonld``."""
    return "mbt" + FORMATS[fmt][1]
