"""Turn the session model into RDF quads: one named graph per session.

The shape of the graph is documented in ``docs/data-model.md``. Besides the quads, the writer
returns a source map from each minted node to the line it came from, so SHACL results can be
reported against the file a person wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pyoxigraph as ox

from .. import vocab
from .model import ROLES, SETTINGS, Session

_XSD_DATE = ox.NamedNode(vocab.XSD + "date")
_XSD_DECIMAL = ox.NamedNode(vocab.XSD + "decimal")
_A = ox.NamedNode(vocab.RDF + "type")


def _m(local: str) -> ox.NamedNode:
    return ox.NamedNode(vocab.MBT + local)


def _oa(local: str) -> ox.NamedNode:
    return ox.NamedNode(vocab.OA + local)


@dataclass(frozen=True)
class SessionGraph:
    """A session as RDF: its graph name, its quads, and where each node came from."""

    session_id: str
    graph: str
    source: str
    quads: tuple[ox.Quad, ...]
    lines: dict[str, int] = field(default_factory=dict)
    #: Declared participant and annotator ids, for suggestions in messages.
    declared: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.quads)


def session_to_rdf(session: Session) -> SessionGraph:
    """Build the named graph of one session.

    >>> from mbtkg.sessions.model import Session
    >>> len(session_to_rdf(Session(id="s1", source="s1.yaml")).quads) > 0
    True
    """
    sid = session.id
    g = ox.NamedNode(vocab.session_iri(sid))
    quads: list[ox.Quad] = []
    lines: dict[str, int] = {}

    def add(
        s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode, o: ox.NamedNode | ox.BlankNode | ox.Literal
    ) -> None:
        quads.append(ox.Quad(s, p, o, g))

    def note_line(node: ox.NamedNode, line: int | None) -> None:
        if line is not None:
            lines[node.value] = line

    s = g
    note_line(s, session.line)
    add(s, _A, _m("Session"))
    add(s, _m("sessionId"), ox.Literal(sid))
    if session.date is not None:
        add(
            s,
            ox.NamedNode(vocab.DCTERMS + "date"),
            ox.Literal(session.date.isoformat(), datatype=_XSD_DATE),
        )
    if session.number is not None:
        add(s, _m("sessionNumber"), ox.Literal(session.number))
    if session.setting is not None:
        add(s, _m("setting"), _m(SETTINGS[session.setting]))
    add(s, ox.NamedNode(vocab.DCTERMS + "source"), ox.Literal(session.source))

    roles: dict[str, ox.NamedNode] = {}
    for p in session.participants:
        role = ox.NamedNode(vocab.role_iri(sid, p.id))
        person = ox.NamedNode(vocab.person_iri(p.id))
        roles[p.id] = role
        note_line(role, p.line)
        note_line(person, p.line)
        add(s, _m("hasRole"), role)
        add(role, _A, _m(ROLES[p.role]) if p.role else _m("ParticipantRole"))
        add(role, _m("roleOf"), person)
        add(role, _m("roleIn"), s)
        add(person, _A, _m("Person"))
        add(person, _m("pseudonym"), ox.Literal(p.id))

    for a in session.annotators:
        agent = ox.NamedNode(vocab.annotator_iri(a.id))
        note_line(agent, a.line)
        add(s, _m("hasAnnotator"), agent)
        add(agent, _A, _m("Annotator"))
        add(agent, _m("pseudonym"), ox.Literal(a.id))

    turn_nodes: dict[int, ox.NamedNode] = {}
    previous: ox.NamedNode | None = None
    for t in session.turns:
        node = ox.NamedNode(vocab.turn_iri(sid, t.id))
        turn_nodes[t.id] = node
        note_line(node, t.line)
        add(s, _m("hasTurn"), node)
        add(node, _A, _m("Turn"))
        add(node, _m("inSession"), s)
        add(node, _m("turnIndex"), ox.Literal(t.id))
        if t.speaker is not None:
            add(node, _m("speaker"), ox.NamedNode(vocab.person_iri(t.speaker)))
            if t.speaker in roles:
                add(node, _m("speakerRole"), roles[t.speaker])
        if t.text is not None:
            add(node, _m("text"), ox.Literal(t.text))
        if t.start_time is not None:
            add(node, _m("startTime"), ox.Literal(_decimal(t.start_time), datatype=_XSD_DECIMAL))
        if t.end_time is not None:
            add(node, _m("endTime"), ox.Literal(_decimal(t.end_time), datatype=_XSD_DECIMAL))
        if previous is not None:
            add(previous, _m("nextTurn"), node)
        previous = node

    for an in session.annotations:
        ann = ox.NamedNode(vocab.annotation_iri(sid, an.id))
        occ = ox.NamedNode(vocab.occurrence_iri(sid, an.id))
        target = ox.NamedNode(vocab.target_iri(sid, an.id))
        for node in (ann, occ, target):
            note_line(node, an.line)
        add(ann, _A, _oa("Annotation"))
        add(ann, _oa("motivatedBy"), _oa("classifying"))
        add(ann, _m("annotationId"), ox.Literal(an.id))
        add(ann, _oa("hasBody"), occ)
        add(ann, _oa("hasTarget"), target)
        if an.annotator is not None:
            agent = ox.NamedNode(vocab.annotator_iri(an.annotator))
            add(ann, ox.NamedNode(vocab.DCTERMS + "creator"), agent)
            add(ann, ox.NamedNode(vocab.PROV + "wasAttributedTo"), agent)
        if an.confidence is not None:
            add(ann, _m("confidence"), ox.Literal(_decimal(an.confidence), datatype=_XSD_DECIMAL))
        if an.note is not None:
            add(ann, ox.NamedNode(vocab.RDFS + "comment"), ox.Literal(an.note))
        # The body: an occurrence of the concept, placed on the turns it spans.
        if an.concept_iri is not None:
            add(occ, _A, ox.NamedNode(an.concept_iri))
        add(occ, _m("inSession"), s)
        if an.start is not None and an.end is not None:
            add(occ, _m("startTurn"), ox.NamedNode(vocab.turn_iri(sid, an.start)))
            add(occ, _m("endTurn"), ox.NamedNode(vocab.turn_iri(sid, an.end)))
            add(occ, _m("startIndex"), ox.Literal(an.start))
            add(occ, _m("endIndex"), ox.Literal(an.end))
        for rel in an.relations:
            add(
                occ,
                ox.NamedNode(rel.property_iri),
                ox.NamedNode(vocab.occurrence_iri(sid, rel.target)),
            )
        # The target: the session, narrowed to the span of turns and, optionally, a quote.
        add(target, _A, _oa("SpecificResource"))
        add(target, _oa("hasSource"), s)
        if an.start is not None and an.end is not None:
            rng = ox.NamedNode(f"{target.value}/range")
            add(target, _oa("hasSelector"), rng)
            add(rng, _A, _oa("RangeSelector"))
            for which, turn in (("Start", an.start), ("End", an.end)):
                sel = ox.NamedNode(f"{rng.value}/{which.lower()}")
                add(rng, _oa(f"has{which}Selector"), sel)
                add(sel, _A, _m("TurnSelector"))
                add(sel, _m("selectedTurn"), ox.NamedNode(vocab.turn_iri(sid, turn)))
        if an.quote is not None:
            q = ox.NamedNode(f"{target.value}/quote")
            add(target, _oa("hasSelector"), q)
            add(q, _A, _oa("TextQuoteSelector"))
            add(q, _oa("exact"), ox.Literal(an.quote))
        if an.text_start is not None and an.text_end is not None:
            pos = ox.NamedNode(f"{target.value}/position")
            add(target, _oa("hasSelector"), pos)
            add(pos, _A, _oa("TextPositionSelector"))
            add(pos, _oa("start"), ox.Literal(an.text_start))
            add(pos, _oa("end"), ox.Literal(an.text_end))

    return SessionGraph(
        session_id=sid,
        graph=g.value,
        source=session.source,
        quads=tuple(quads),
        lines=lines,
        declared={
            "participants": tuple(p.id for p in session.participants),
            "annotators": tuple(a.id for a in session.annotators),
        },
    )


def _decimal(value: float) -> str:
    """A plain xsd:decimal lexical form (no exponent)."""
    return format(Decimal(str(value)).normalize(), "f")
