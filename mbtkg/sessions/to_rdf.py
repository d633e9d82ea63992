"""Turn the session model into RDF quads: one named graph per session.

The shape of the graph is documented in ``docs/data-model.md``. Besides the quads, the writer
returns a source map from each minted node to the line it came from, so SHACL results can be
reported against the file a person wrote. The graph records the source file by its name only
(``recorded_source``), never by a path that would show the user's folders.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from decimal import Decimal

import pyoxigraph as ox

from .. import vocab
from ..input_limits import check_session_sizes
from .model import ROLES, SETTINGS, Session


class SessionGraph:
    """A session as RDF: its graph name, its quads, and where each node came from.

    The quads are held as N-Quads text (``nquads``), which is what stores and worker
    processes take fastest; ``quads`` gives them as ``pyoxigraph.Quad`` objects, parsed on
    first use. Either form may be given.
    """

    __slots__ = (
        "_count",
        "_nquads",
        "_own_graph",
        "_quads",
        "_triples",
        "declared",
        "graph",
        "lines",
        "session_id",
        "source",
    )

    def __init__(
        self,
        session_id: str,
        graph: str,
        source: str,
        quads: Sequence[ox.Quad] | None = None,
        lines: dict[str, int] | None = None,
        declared: dict[str, tuple[str, ...]] | None = None,
        *,
        nquads: bytes | None = None,
        count: int | None = None,
        own_graph: bool = False,
        triples: list[tuple[str, str, str]] | None = None,
    ) -> None:
        if (quads is None) == (nquads is None):
            raise ValueError("give the quads either as quads or as nquads")
        self.session_id = session_id
        self.graph = graph
        self.source = source
        self._quads = None if quads is None else tuple(quads)
        self._nquads = nquads
        #: The writer's triples as N-Triples term strings, kept in memory only (never pickled).
        self._triples = triples
        #: The number of quads, when the writer of ``nquads`` counted them.
        self._count = count
        #: Whether the writer guarantees every quad is in ``graph`` (see ``in_own_graph``).
        self._own_graph = own_graph
        self.lines: dict[str, int] = lines or {}
        #: Declared participant and annotator ids, for suggestions in messages.
        self.declared: dict[str, tuple[str, ...]] = declared or {}

    @property
    def quads(self) -> tuple[ox.Quad, ...]:
        """The quads as Oxigraph objects."""
        if self._quads is None:
            self._quads = tuple(ox.parse(self._nquads or b"", format=ox.RdfFormat.N_QUADS))
        return self._quads

    @property
    def nquads(self) -> bytes:
        """The quads as N-Quads text (UTF-8)."""
        if self._nquads is None:
            self._nquads = ox.serialize(self.quads, format=ox.RdfFormat.N_QUADS) or b""
        return self._nquads

    @property
    def triples(self) -> list[tuple[str, str, str]]:
        """The triples (graph left out) as N-Triples term strings, ``("<s>", "<p>", "<o>")``:
        what inference reads, without parsing when the session writer made the graph."""
        if self._triples is None:
            from ..nquads_text import split_nquads

            self._triples = split_nquads(self.nquads)
        return self._triples

    def with_quads(self, quads: Sequence[ox.Quad]) -> SessionGraph:
        """The same session with other quads (same lines and declared ids)."""
        return SessionGraph(
            self.session_id, self.graph, self.source, quads, self.lines, self.declared
        )

    @property
    def in_own_graph(self) -> bool:
        """True when every quad is known to be in the session's graph without looking: the
        graph came from :func:`session_to_rdf`. False means "not known", not "not so"."""
        return self._own_graph

    def __len__(self) -> int:
        if self._quads is not None:
            return len(self._quads)
        if self._count is None:
            self._count = (self._nquads or b"").count(b"\n")
        return self._count

    def __repr__(self) -> str:
        return f"SessionGraph({self.session_id!r}, {len(self)} quads, from {self.source!r})"

    def __getstate__(self) -> dict[str, object]:
        # Oxigraph objects do not pickle: send the text.
        return {
            "session_id": self.session_id,
            "graph": self.graph,
            "source": self.source,
            "nquads": self.nquads,
            "count": self._count,
            "own_graph": self._own_graph,
            "lines": self.lines,
            "declared": self.declared,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.session_id = str(state["session_id"])
        self.graph = str(state["graph"])
        self.source = str(state["source"])
        self._quads = None
        self._triples = None
        self._nquads = state["nquads"]  # type: ignore[assignment]
        self._count = state.get("count")  # type: ignore[assignment]
        self._own_graph = bool(state.get("own_graph", False))
        self.lines = state["lines"]  # type: ignore[assignment]
        self.declared = state["declared"]  # type: ignore[assignment]


def _escape(text: str) -> str:
    """A string as the body of an N-Quads literal."""
    if '"' in text or "\\" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        )
    return f'"{text}"'


def _iri(value: str) -> str:
    return f"<{value}>"


def _m(local: str) -> str:
    return f"<{vocab.MBT}{local}>"


def _oa(local: str) -> str:
    return f"<{vocab.OA}{local}>"


_A = f"<{vocab.RDF}type>"
_INTEGER = f"^^<{vocab.XSD}integer>"
_DECIMAL = f"^^<{vocab.XSD}decimal>"
_DATE = f"^^<{vocab.XSD}date>"


def _int(value: int) -> str:
    return f'"{value}"{_INTEGER}'


def recorded_source(source: str) -> str:
    """What the graph records of where a session came from: the file's name, never its folders.

    Folder names often carry a client's real name, and the graph travels (exports, the
    endpoint), so ``/home/me/clients/Jane Doe/s1.yaml`` is recorded as ``s1.yaml``. A source
    inside a project keeps its part name: ``/x/study.qdpx [s1.txt]`` gives ``study.qdpx [s1.txt]``.

    >>> recorded_source("/home/me/clients/Jane Doe/s1.yaml")
    's1.yaml'
    >>> recorded_source(r"C:\\Users\\me\\study.qdpx [s1.txt]")
    'study.qdpx [s1.txt]'
    """
    path, bracket, part = source.partition(" [")
    name = re.split(r"[/\\]", path.rstrip("/\\"))[-1]
    return f"{name}{bracket}{part}"


def session_to_rdf(session: Session) -> SessionGraph:
    """Build the named graph of one session.

    >>> from mbtkg.sessions.model import Session
    >>> len(session_to_rdf(Session(id="s1", source="s1.yaml")).quads) > 0
    True
    """
    check_session_sizes(session)
    sid = session.id
    graph_iri = vocab.session_iri(sid)
    g = _iri(graph_iri)
    out: list[tuple[str, str, str]] = []
    lines: dict[str, int] = {}
    add = out.append

    def node(value: str, line: int | None) -> str:
        if line is not None:
            lines[value] = line
        return _iri(value)

    s = node(graph_iri, session.line)
    add((s, _A, _m("Session")))
    add((s, _m("sessionId"), _escape(sid)))
    if session.date is not None:
        add((s, f"<{vocab.DCTERMS}date>", f'"{session.date.isoformat()}"{_DATE}'))
    if session.number is not None:
        add((s, _m("sessionNumber"), _int(session.number)))
    if session.setting is not None:
        add((s, _m("setting"), _m(SETTINGS[session.setting])))
    add((s, f"<{vocab.DCTERMS}source>", _escape(recorded_source(session.source))))

    roles: dict[str, str] = {}
    for p in session.participants:
        role = node(vocab.role_iri(sid, p.id), p.line)
        person = node(vocab.person_iri(p.id), p.line)
        roles[p.id] = role
        add((s, _m("hasRole"), role))
        add((role, _A, _m(ROLES[p.role]) if p.role else _m("ParticipantRole")))
        add((role, _m("roleOf"), person))
        add((role, _m("roleIn"), s))
        add((person, _A, _m("Person")))
        add((person, _m("pseudonym"), _escape(p.id)))

    for a in session.annotators:
        agent = node(vocab.annotator_iri(a.id), a.line)
        add((s, _m("hasAnnotator"), agent))
        add((agent, _A, _m("Annotator")))
        add((agent, _m("pseudonym"), _escape(a.id)))
    # A key for agreement questions (docs/data-model.md): each annotator linked to every other
    # annotator of the session, so that comparing two annotators starts from the sessions that
    # have two instead of reading every session's codes.
    agents = [_iri(vocab.annotator_iri(a.id)) for a in session.annotators]
    for one in agents:
        for other in agents:
            if other != one:
                add((one, _m("coAnnotator"), other))

    turn_base = vocab.turn_iri(sid, 0)[:-1]  # every turn IRI is this plus the turn id
    previous: str | None = None
    for t in session.turns:
        turn = node(f"{turn_base}{t.id}", t.line)
        add((s, _m("hasTurn"), turn))
        add((turn, _A, _m("Turn")))
        add((turn, _m("inSession"), s))
        add((turn, _m("turnIndex"), _int(t.id)))
        if t.speaker is not None:
            add((turn, _m("speaker"), _iri(vocab.person_iri(t.speaker))))
            if t.speaker in roles:
                add((turn, _m("speakerRole"), roles[t.speaker]))
        if t.text is not None:
            add((turn, _m("text"), _escape(t.text)))
        if t.start_time is not None:
            add((turn, _m("startTime"), f'"{_decimal(t.start_time)}"{_DECIMAL}'))
        if t.end_time is not None:
            add((turn, _m("endTime"), f'"{_decimal(t.end_time)}"{_DECIMAL}'))
        if previous is not None:
            add((previous, _m("nextTurn"), turn))
        previous = turn

    turn_ids = sorted({t.id for t in session.turns})
    for an in session.annotations:
        ann = node(vocab.annotation_iri(sid, an.id), an.line)
        occ = node(vocab.occurrence_iri(sid, an.id), an.line)
        target_iri = vocab.target_iri(sid, an.id)
        target = node(target_iri, an.line)
        add((ann, _A, _oa("Annotation")))
        add((ann, _oa("motivatedBy"), _oa("classifying")))
        add((ann, _m("annotationId"), _escape(an.id)))
        add((ann, _oa("hasBody"), occ))
        add((ann, _oa("hasTarget"), target))
        if an.annotator is not None:
            agent = _iri(vocab.annotator_iri(an.annotator))
            add((ann, f"<{vocab.DCTERMS}creator>", agent))
            add((ann, f"<{vocab.PROV}wasAttributedTo>", agent))
            # The same annotator on the occurrence: "codes of one annotator" without the hop.
            add((occ, _m("codedBy"), agent))
        if an.confidence is not None:
            add((ann, _m("confidence"), f'"{_decimal(an.confidence)}"{_DECIMAL}'))
        if an.note is not None:
            add((ann, f"<{vocab.RDFS}comment>", _escape(an.note)))
        if an.suggested is not None:
            # Accepted from a suggestion: the annotation was generated by a suggesting activity
            # of a software agent; the coder who accepted it stays its creator (above).
            activity = _iri(f"{vocab.annotation_iri(sid, an.id)}/suggestion")
            program = _iri(vocab.suggester_iri(an.suggested))
            add((ann, f"<{vocab.PROV}wasGeneratedBy>", activity))
            add((activity, _A, f"<{vocab.PROV}Activity>"))
            add((activity, f"<{vocab.PROV}wasAssociatedWith>", program))
            add((program, _A, f"<{vocab.PROV}SoftwareAgent>"))
            add((program, f"<{vocab.RDFS}label>", _escape(an.suggested)))
        # The body: an occurrence of the concept, placed on the turns it spans.
        if an.concept_iri is not None:
            add((occ, _A, _iri(an.concept_iri)))
        add((occ, _m("inSession"), s))
        if an.start is not None and an.end is not None:
            add((occ, _m("startTurn"), _iri(f"{turn_base}{an.start}")))
            add((occ, _m("endTurn"), _iri(f"{turn_base}{an.end}")))
            add((occ, _m("startIndex"), _int(an.start)))
            add((occ, _m("endIndex"), _int(an.end)))
            # Every turn of the span, so "codes on this turn" is an equality join.
            for turn_id in turn_ids[
                bisect_left(turn_ids, an.start) : bisect_right(turn_ids, an.end)
            ]:
                add((occ, _m("coversTurn"), _iri(f"{turn_base}{turn_id}")))
        for rel in an.relations:
            add((occ, _iri(rel.property_iri), _iri(vocab.occurrence_iri(sid, rel.target))))
        # The target: the session, narrowed to the span of turns and, optionally, a quote.
        add((target, _A, _oa("SpecificResource")))
        add((target, _oa("hasSource"), s))
        if an.start is not None and an.end is not None:
            rng = f"{target_iri}/range"
            add((target, _oa("hasSelector"), _iri(rng)))
            add((_iri(rng), _A, _oa("RangeSelector")))
            for which, turn_id in (("Start", an.start), ("End", an.end)):
                sel = node(f"{rng}/{which.lower()}", an.line)  # located at its annotation
                add((_iri(rng), _oa(f"has{which}Selector"), sel))
                add((sel, _A, _m("TurnSelector")))
                add((sel, _m("selectedTurn"), _iri(f"{turn_base}{turn_id}")))
        if an.quote is not None:
            q = _iri(f"{target_iri}/quote")
            add((target, _oa("hasSelector"), q))
            add((q, _A, _oa("TextQuoteSelector")))
            add((q, _oa("exact"), _escape(an.quote)))
        if an.text_start is not None and an.text_end is not None:
            pos = _iri(f"{target_iri}/position")
            add((target, _oa("hasSelector"), pos))
            add((pos, _A, _oa("TextPositionSelector")))
            add((pos, _oa("start"), _int(an.text_start)))
            add((pos, _oa("end"), _int(an.text_end)))

    return SessionGraph(
        session_id=sid,
        graph=graph_iri,
        source=session.source,
        nquads=_nquads(out, g),
        count=len(out),
        triples=out,
        own_graph=True,
        lines=lines,
        declared={
            "participants": tuple(p.id for p in session.participants),
            "annotators": tuple(a.id for a in session.annotators),
        },
    )


#: Triples written to text at a time by :func:`_nquads`.
_NQUADS_BLOCK = 4096


def _nquads(triples: list[tuple[str, str, str]], graph: str) -> bytes:
    """The triples as N-Quads in ``graph``, built a block of lines at a time: one text of all
    the lines (about 180 MB for a 100,000-turn session) took 1.5-2.5x as long per turn as a
    10,000-turn session's, while blocks keep the time per turn flat (docs/performance.md)."""
    return b"".join(
        "".join([f"{s} {p} {o} {graph} .\n" for s, p, o in triples[i : i + _NQUADS_BLOCK]]).encode()
        for i in range(0, len(triples), _NQUADS_BLOCK)
    )


def _decimal(value: float) -> str:
    """A plain xsd:decimal lexical form (no exponent)."""
    return format(Decimal(str(value)).normalize(), "f")
