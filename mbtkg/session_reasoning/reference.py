"""What the ontology's axioms entail about one session: its inferred graph, by the reference
engine.

This module is the reference: ``reasonable`` over the ontology's closure and the session, with
the SPARQL rules of ``queries/rules/``. Loads use :mod:`mbtkg.session_reasoning.fast`, the same rules
compiled from the closure :func:`tbox` computes here, which a test holds to the same answer
(and which hands a session back to this module when it needs a rule it does not run).

A session graph is asserted data: the coders' classes and links. Together with the ontology, the
OWL 2 RL rules entail more (every superclass of a coded class, the domain and range of every
link, defined classes such as ``mbt:RepairedRupture``). :func:`infer_session` materialises those
entailments with ``reasonable`` (an OWL 2 RL reasoner written in Rust) and keeps only what is
new and about the session's own nodes, so the result can be stored in a named graph of its own
(:func:`mbtkg.vocab.inferred_graph_iri`) next to the session graph and replaced and dropped
with it. What is left out:

- everything asserted (it is in the session graph already) and everything about the ontology
  (the TBox closure is the ontology's business, not the session's);
- boilerplate: ``x owl:sameAs x``, ``x a owl:Thing``, and any triple that names a blank node
  (the anonymous restriction classes of the ontology mean nothing in another graph);
- triples about shared nodes (people, annotators): they are not the session's own.

Relations derived from turn order are added by SPARQL rules before the reasoner runs (defined
classes use them), and what OWL cannot state under the open world (``mbt:UnrepairedRupture``)
by rules after it (:mod:`mbtkg.session_reasoning.rules`).

The ontology's own closure is computed once per process (:func:`tbox`). The sessions of a load
are reasoned a batch at a time over that closure (:func:`infer_sessions`), with the nodes they
share (people, annotators) renamed per session, so no session's entailments depend on
another's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
import rdflib

from .. import vocab
from ..concepts import default_ontology_quads
from ..errors import MbtkgError

_TYPE = vocab.RDF + "type"
_SAME_AS = vocab.OWL + "sameAs"
_THING = vocab.OWL + "Thing"
_RESOURCE = vocab.RDFS + "Resource"
#: Predicates of the RDF, RDFS and OWL vocabularies that carry no logic: left out of the TBox.
_NOT_LOGIC = frozenset(
    {
        vocab.RDFS + "label",
        vocab.RDFS + "comment",
        vocab.RDFS + "seeAlso",
        vocab.RDFS + "isDefinedBy",
        vocab.OWL + "annotatedSource",
        vocab.OWL + "annotatedProperty",
        vocab.OWL + "annotatedTarget",
        vocab.OWL + "versionInfo",
        vocab.OWL + "versionIRI",
        vocab.OWL + "imports",
        vocab.OWL + "deprecated",
    }
)
_LOGIC_NAMESPACES = (vocab.RDF, vocab.RDFS, vocab.OWL)

_Term = rdflib.URIRef | rdflib.BNode | rdflib.Literal
_Triple = tuple[_Term, _Term, _Term]


class InferenceError(MbtkgError):
    """The reasoner failed on a session (an internal error: valid sessions always reason)."""


def _to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> _Term:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language is not None:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise InferenceError(f"an RDF-star triple term cannot be reasoned over: {term}")


def _to_oxigraph(term: _Term) -> ox.NamedNode | ox.Literal:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise InferenceError(f"a blank node cannot leave the reasoner: {term}")


def logical_axioms(quads: Iterable[ox.Quad]) -> list[_Triple]:
    """The ontology's triples that carry logic: RDF, RDFS and OWL vocabulary only, without
    labels, comments and axiom annotations (which entail nothing about sessions)."""
    triples = [(q.subject, q.predicate, q.object) for q in quads]
    annotations = {
        s
        for s, p, o in triples
        if p.value == _TYPE and isinstance(o, ox.NamedNode) and o.value == vocab.OWL + "Axiom"
    }
    return [
        (_to_rdflib(s), _to_rdflib(p), _to_rdflib(o))
        for s, p, o in triples
        if p.value.startswith(_LOGIC_NAMESPACES) and p.value not in _NOT_LOGIC
        if s not in annotations
    ]


@dataclass(frozen=True)
class TBox:
    """The ontology's logical axioms closed under the OWL 2 RL rules, computed once."""

    closure: tuple[_Triple, ...]

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> TBox:
        import reasonable

        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(logical_axioms(quads))
        return cls(tuple(reasoner.reason()))


@lru_cache(maxsize=1)
def tbox() -> TBox:
    """The closure of the bundled ontology, computed once per process."""
    return TBox.from_quads(default_ontology_quads())


def _own(session_id: str) -> tuple[str, str]:
    iri = vocab.session_iri(session_id)
    return iri, iri + "/"


#: Nodes several sessions share (people, annotators): renamed per session while reasoning.
_SHARED = (f"{vocab.DATA}person/", f"{vocab.DATA}annotator/")


def _aliased(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, own: str) -> _Term:
    """A term of one session, with shared nodes renamed into the session's own space, so that
    sessions reasoned together share no node and none can change another's entailments."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(_SHARED):
        return rdflib.URIRef(f"{own}shared/{term.value[len(vocab.DATA) :]}")
    return _to_rdflib(term)


def _unaliased(term: _Term, own: str) -> _Term:
    text = str(term)
    if isinstance(term, rdflib.URIRef) and text.startswith(f"{own}shared/"):
        return rdflib.URIRef(vocab.DATA + text[len(own) + len("shared/") :])
    return term


def infer_session(
    session_id: str, quads: Sequence[ox.Quad], *, closure: TBox | None = None
) -> list[ox.Quad]:
    """The new triples the OWL 2 RL rules and the SPARQL rules entail about one session's
    own nodes, as quads of its inferred graph (see the module's doc for what is left out)."""
    return infer_sessions([(session_id, quads)], closure=closure)[0]


def infer_sessions(
    sessions: Sequence[tuple[str, Sequence[ox.Quad]]], *, closure: TBox | None = None
) -> list[list[ox.Quad]]:
    """``infer_session`` for several sessions with one run of the reasoner (its fixed cost,
    the ontology's closure, is paid once). The sessions share no node while reasoning (people
    and annotators are renamed per session), so each answer is what it would be alone."""
    import reasonable

    from .rules import CLOSED_WORLD, TURN_ORDER, apply_rules

    box = closure or tbox()
    derived: list[list[ox.Quad]] = []
    given: set[_Triple] = set()
    owner: dict[str, int] = {}
    for i, (session_id, quads) in enumerate(sessions):
        own = vocab.session_iri(session_id) + "/"
        owner[vocab.session_iri(session_id)] = i
        derived.append(apply_rules(TURN_ORDER, session_id, quads))
        for q in [*quads, *derived[-1]]:
            given.add((_aliased(q.subject, own), _to_rdflib(q.predicate), _aliased(q.object, own)))
    reasoner = reasonable.PyReasoner()
    reasoner.from_graph([*box.closure, *given])
    try:
        entailed = reasoner.reason()
    except Exception as exc:  # the Rust side raises plain exceptions
        names = ", ".join(repr(sid) for sid, _ in sessions)
        raise InferenceError(f"the OWL 2 RL reasoner failed on session(s) {names}: {exc}") from exc
    found: list[dict[tuple[str, str, str], ox.Quad]] = [{} for _ in sessions]
    prefix = f"{vocab.DATA}session/"
    for s, p, o in entailed:
        if (s, p, o) in given or not isinstance(s, rdflib.URIRef):
            continue
        if isinstance(o, rdflib.BNode) or isinstance(p, rdflib.BNode):
            continue
        subject = str(s)
        if not subject.startswith(prefix):
            continue
        at = owner.get(prefix + subject[len(prefix) :].split("/", 1)[0])
        if at is None or "/shared/" in subject:
            continue  # not a session's own node (or a person seen from a session)
        if str(p) == _SAME_AS or (str(p) == _TYPE and str(o) in (_THING, _RESOURCE)):
            continue
        session_id = sessions[at][0]
        obj = _unaliased(o, vocab.session_iri(session_id) + "/")
        graph = ox.NamedNode(vocab.inferred_graph_iri(session_id))
        found[at][(s.n3(), p.n3(), obj.n3())] = ox.Quad(
            ox.NamedNode(subject), ox.NamedNode(str(p)), _to_oxigraph(obj), graph
        )
    out = []
    for i, (session_id, quads) in enumerate(sessions):
        rl = [*derived[i], *found[i].values()]
        out.append(rl + apply_rules(CLOSED_WORLD, session_id, quads, rl))
    return out


def inferred_nquads(
    sessions: Sequence[tuple[str, bytes]], *, closure: TBox | None = None
) -> list[bytes]:
    """``infer_sessions`` from and to N-Quads text (what the load's writer takes)."""
    parsed = [(sid, list(ox.parse(data, format=ox.RdfFormat.N_QUADS))) for sid, data in sessions]
    return [
        ox.serialize(inferred, format=ox.RdfFormat.N_QUADS) or b""
        for inferred in infer_sessions(parsed, closure=closure)
    ]
