"""The names mbtkg uses: namespaces, graph IRIs and the IRI scheme of session data.

Every IRI the library mints is built here, so the scheme documented in
``docs/data-model.md`` has exactly one implementation.
"""

from __future__ import annotations

import re
from urllib.parse import quote

#: The ontology's term namespace (classes and properties): ``mbt:EpistemicTrust``.
MBT = "https://w3id.org/mbtkg/ontology#"
#: The ontology document itself.
ONTOLOGY_IRI = "https://w3id.org/mbtkg/ontology"
#: Where minted session data lives (sessions, turns, annotations, people).
DATA = "https://w3id.org/mbtkg/data/"
#: The named graph that holds the ontology inside a store.
ONTOLOGY_GRAPH = "https://w3id.org/mbtkg/graph/ontology"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
SH = "http://www.w3.org/ns/shacl#"
IAO = "http://purl.obolibrary.org/obo/IAO_"
OBO = "http://purl.obolibrary.org/obo/"
OBO_IN_OWL = "http://www.geneontology.org/formats/oboInOwl#"
#: OBO annotation properties of a term (ontology/README.md, "Annotation properties").
DEFINITION = IAO + "0000115"
EDITOR_NOTE = IAO + "0000116"
CURATION_STATUS = IAO + "0000114"
TERM_EDITOR = IAO + "0000117"
TERM_REPLACED_BY = IAO + "0100001"
IN_SUBSET = OBO_IN_OWL + "inSubset"
SOURCE_LOCATOR = MBT + "sourceLocator"
STRUCTURAL_SUBSET = MBT + "structural_subset"
#: Classes reasoning assigns from other codes: never coded by hand (not codable).
INFERRED_SUBSET = MBT + "inferred_subset"

#: Prefixes understood in CURIEs (``mbt:Rupture``) and written into Turtle output.
PREFIXES: dict[str, str] = {
    "mbt": MBT,
    "mbtd": DATA,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "oa": OA,
}


_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*").fullmatch


def _segment(value: str) -> str:
    """Percent-encode one path segment of a minted IRI (ids are checked elsewhere)."""
    if _UNRESERVED(value):  # nothing to encode: the usual case, and much cheaper than quote()
        return value
    return quote(value, safe="-._~")


def session_iri(session_id: str) -> str:
    """The IRI of a session; it is also the name of the session's named graph.

    >>> session_iri("susan-12")
    'https://w3id.org/mbtkg/data/session/susan-12'
    """
    return f"{DATA}session/{_segment(session_id)}"


def inferred_graph_iri(session_id: str) -> str:
    """The named graph that holds what the OWL 2 RL reasoner inferred about one session.

    >>> inferred_graph_iri("susan-12")
    'https://w3id.org/mbtkg/data/session/susan-12/inferred'
    """
    return f"{session_iri(session_id)}/inferred"


def turn_iri(session_id: str, turn_id: int) -> str:
    """The IRI of a turn of a session.

    >>> turn_iri("susan-12", 5)
    'https://w3id.org/mbtkg/data/session/susan-12/turn/5'
    """
    return f"{session_iri(session_id)}/turn/{turn_id}"


def annotation_iri(session_id: str, annotation_id: str) -> str:
    """The IRI of a W3C Web Annotation of a session."""
    return f"{session_iri(session_id)}/annotation/{_segment(annotation_id)}"


def occurrence_iri(session_id: str, annotation_id: str) -> str:
    """The IRI of the concept occurrence that an annotation's body asserts."""
    return f"{session_iri(session_id)}/occurrence/{_segment(annotation_id)}"


def target_iri(session_id: str, annotation_id: str) -> str:
    """The IRI of an annotation's target (the span of turns it covers)."""
    return f"{annotation_iri(session_id, annotation_id)}/target"


def role_iri(session_id: str, participant_id: str) -> str:
    """The IRI of the role a participant plays in one session."""
    return f"{session_iri(session_id)}/role/{_segment(participant_id)}"


def person_iri(participant_id: str) -> str:
    """The IRI of a pseudonymous participant; the same across sessions.

    >>> person_iri("P-susan")
    'https://w3id.org/mbtkg/data/person/P-susan'
    """
    return f"{DATA}person/{_segment(participant_id)}"


def annotator_iri(annotator_id: str) -> str:
    """The IRI of an annotator (a coder); the same across sessions."""
    return f"{DATA}annotator/{_segment(annotator_id)}"


def suggester_iri(name: str) -> str:
    """The IRI of a program that suggests codings (a prov:SoftwareAgent), by its name.

    >>> suggester_iri("mbtkg-lexical")
    'https://w3id.org/mbtkg/data/agent/mbtkg-lexical'
    """
    return f"{DATA}agent/{_segment(name)}"


def session_id_from_graph(graph_iri: str) -> str | None:
    """The session id a session graph IRI names, or None for any other IRI."""
    prefix = f"{DATA}session/"
    if not graph_iri.startswith(prefix):
        return None
    rest = graph_iri[len(prefix) :]
    if "/" in rest or not rest:
        return None
    from urllib.parse import unquote

    return unquote(rest)


def describe(iri: str) -> str:
    """A short, human description of a minted IRI ("turn 12", "annotation 'a3'"), else the IRI.

    >>> describe("https://w3id.org/mbtkg/data/session/susan-12/turn/7")
    'turn 7'
    >>> describe("https://w3id.org/mbtkg/data/session/susan-12/occurrence/a3")
    "annotation 'a3'"
    """
    from urllib.parse import unquote

    if iri.startswith(f"{DATA}person/"):
        return f"participant {unquote(iri[len(DATA) + 7 :])!r}"
    if iri.startswith(f"{DATA}annotator/"):
        return f"annotator {unquote(iri[len(DATA) + 10 :])!r}"
    if iri.startswith(f"{DATA}session/"):
        parts = iri[len(DATA) + 8 :].split("/")
        if len(parts) == 1:
            return f"session {unquote(parts[0])!r}"
        kind, ident = parts[1], unquote(parts[2]) if len(parts) > 2 else ""
        if kind == "turn":
            return f"turn {ident}"
        if kind in ("annotation", "occurrence"):
            return f"annotation {ident!r}"
        if kind == "role":
            return f"participant {ident!r}"
    return iri
