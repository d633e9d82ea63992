"""Read sessions back from RDF (JSON-LD, Turtle, N-Triples ...) into the session model.

This is the inverse of :func:`mbtkg.sessions.to_rdf.session_to_rdf`. It lets a session
exported as JSON-LD or Turtle be imported again through the usual path (model -> RDF ->
validation -> store). Nothing is dropped in silence: every triple of the input must be one
the model would write again, otherwise the triples not understood are reported. JSON-LD files
may name the published context by its IRI; it is then read from the bundled copy, never
fetched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote

import pyoxigraph as ox

from .. import vocab
from ..concepts import ConceptIndex, default_index
from ..errors import InputError, LimitExceededError, Location
from ..input_limits import MAX_DEPTH, MAX_VALUE_CHARS, check_file_size
from ..resources import resource_dir
from .found_values import found
from .model import ROLES, SETTINGS, Annotation, Annotator, Participant, Relation, Session, Turn
from .to_rdf import session_to_rdf

_N = TypeVar("_N", int, float)

#: The IRI under which the JSON-LD context is published.
CONTEXT_IRI = "https://w3id.org/mbtkg/context.jsonld"
_TYPE = vocab.RDF + "type"
_SOURCE = vocab.DCTERMS + "source"


def context() -> dict[str, object]:
    """The bundled JSON-LD context document (``ontology/context.jsonld``)."""
    data: dict[str, object] = json.loads(
        (resource_dir("ontology") / "context.jsonld").read_text(encoding="utf-8")
    )
    return data


def _inline_context(document: object) -> object:
    """Replace references to the published context IRI by the bundled context."""
    ctx = context()["@context"]
    if isinstance(document, dict):
        out = {}
        for key, value in document.items():
            if key == "@context":
                if value == CONTEXT_IRI:
                    value = ctx
                elif isinstance(value, list):
                    value = [ctx if v == CONTEXT_IRI else v for v in value]
            out[key] = _inline_context(value)
        return out
    if isinstance(document, list):
        return [_inline_context(v) for v in document]
    return document


def _too_deep(document: object) -> bool:
    """Whether JSON arrays and objects nest more than :data:`MAX_DEPTH` levels."""
    level: list[object] = [document]
    for _ in range(MAX_DEPTH + 1):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def parse_rdf_file(path: str | Path) -> list[ox.Quad]:
    """Parse a JSON-LD, Turtle, TriG, N-Triples or N-Quads file into quads."""
    p = Path(path)
    where = Location(str(p))
    suffix = p.suffix.lower()
    formats = {
        ".jsonld": ox.RdfFormat.JSON_LD,
        ".json": ox.RdfFormat.JSON_LD,
        ".ttl": ox.RdfFormat.TURTLE,
        ".trig": ox.RdfFormat.TRIG,
        ".nt": ox.RdfFormat.N_TRIPLES,
        ".nq": ox.RdfFormat.N_QUADS,
    }
    if suffix not in formats:
        raise InputError(
            f"cannot tell the RDF format from {suffix or 'no suffix'!r}; expected one of "
            f"{', '.join(formats)}",
            where,
        )
    check_file_size(p)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", where) from None
    if formats[suffix] == ox.RdfFormat.JSON_LD:
        try:
            document = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"not JSON: {exc}", where) from None
        except RecursionError:
            document = None  # nested past what Python's parser takes: refused just below
        if document is None or _too_deep(document):
            raise LimitExceededError(
                f"arrays and objects nest more than {MAX_DEPTH} levels deep, the limit mbtkg "
                "reads; a session needs fewer than 10",
                where,
            )
        raw = json.dumps(_inline_context(document)).encode("utf-8")
    try:
        return list(ox.parse(raw, format=formats[suffix]))
    except MemoryError:  # Oxigraph's parser refuses a single token over 16 MiB
        raise LimitExceededError(
            f"one value or line is longer than the RDF parser takes (16 MiB); a session value "
            f"may have at most {MAX_VALUE_CHARS} characters",
            where,
        ) from None
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"the RDF does not parse: {exc}", where) from None


class _Graph:
    def __init__(self, quads: Iterable[ox.Quad]) -> None:
        self.out: dict[str, list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]]] = {}
        for q in quads:
            s = q.subject
            if isinstance(s, ox.NamedNode) and isinstance(
                q.object, ox.NamedNode | ox.Literal | ox.BlankNode
            ):
                self.out.setdefault(s.value, []).append((q.predicate.value, q.object))

    def values(self, s: str, p: str) -> list[ox.NamedNode | ox.Literal | ox.BlankNode]:
        return [o for pred, o in self.out.get(s, []) if pred == p]

    def one(self, s: str, p: str) -> ox.NamedNode | ox.Literal | ox.BlankNode | None:
        found = self.values(s, p)
        return found[0] if found else None

    def text(self, s: str, p: str) -> str | None:
        o = self.one(s, p)
        return o.value if o is not None else None

    def iris(self, s: str, p: str) -> list[str]:
        return [o.value for o in self.values(s, p) if isinstance(o, ox.NamedNode)]


def _tail(iri: str, kind: str) -> str:
    return unquote(iri.rsplit(f"/{kind}/", 1)[-1])


def sessions_from_quads(
    quads: Iterable[ox.Quad], *, source: str, index: ConceptIndex | None = None
) -> list[Session]:
    """The sessions described by some quads (graph names ignored).

    Raises InputError when a triple is not one the session model writes, or when the data
    has no mbt:Session.
    """
    index = index or default_index()
    quads = list(quads)
    g = _Graph(quads)
    heads = [s for s, pos in g.out.items() if (_TYPE, ox.NamedNode(vocab.MBT + "Session")) in pos]
    if not heads:
        raise InputError("no mbt:Session in the data; expected one session graph", Location(source))
    sessions = [_session(g, head, source, index) for head in sorted(heads)]
    written: set[tuple[str, str, str]] = set()
    for session in sessions:
        for q in session_to_rdf(session).quads:
            written.add((str(q.subject), str(q.predicate), str(q.object)))
    strange = [
        q
        for q in quads
        if (str(q.subject), str(q.predicate), str(q.object)) not in written
        and q.predicate.value != _SOURCE
    ]
    if strange:
        shown = "\n".join(
            f"  {q.subject} {q.predicate} "
            + (found(q.object.value) if isinstance(q.object, ox.Literal) else str(q.object))
            for q in strange[:5]
        )
        more = f"\n  ... and {len(strange) - 5} more" if len(strange) > 5 else ""
        raise InputError(
            f"{len(strange)} triple(s) are not part of the session format and would be lost:\n"
            f"{shown}{more}",
            Location(source),
        )
    return sessions


def _session(g: _Graph, head: str, source: str, index: ConceptIndex) -> Session:
    sid = g.text(head, vocab.MBT + "sessionId") or _tail(head, "session")
    date = g.text(head, vocab.DCTERMS + "date")
    number = g.one(head, vocab.MBT + "sessionNumber")
    setting_iri = g.text(head, vocab.MBT + "setting")
    settings = {vocab.MBT + v: k for k, v in SETTINGS.items()}
    roles = {vocab.MBT + v: k for k, v in ROLES.items()}
    participants = []
    for role in g.iris(head, vocab.MBT + "hasRole"):
        person = g.text(role, vocab.MBT + "roleOf")
        kinds = [roles[t] for t in g.iris(role, _TYPE) if t in roles]
        if person is not None:
            pid = g.text(person, vocab.MBT + "pseudonym") or _tail(person, "person")
            participants.append(Participant(pid, kinds[0] if kinds else None))
    annotators = [
        Annotator(g.text(a, vocab.MBT + "pseudonym") or _tail(a, "annotator"))
        for a in g.iris(head, vocab.MBT + "hasAnnotator")
    ]
    turns = []
    for t in g.iris(head, vocab.MBT + "hasTurn"):
        idx = g.one(t, vocab.MBT + "turnIndex")
        speaker = g.text(t, vocab.MBT + "speaker")
        start, end = g.text(t, vocab.MBT + "startTime"), g.text(t, vocab.MBT + "endTime")
        turns.append(
            Turn(
                _number(int, idx.value, "mbt:turnIndex", source) if idx is not None else 0,
                _tail(speaker, "person") if speaker else None,
                g.text(t, vocab.MBT + "text"),
                None,
                _number(float, start, "mbt:startTime", source) if start is not None else None,
                _number(float, end, "mbt:endTime", source) if end is not None else None,
            )
        )
    turns.sort(key=lambda t: t.id)
    annotations = []
    for node, pos in g.out.items():
        if (_TYPE, ox.NamedNode(vocab.OA + "Annotation")) not in pos:
            continue
        body = g.text(node, vocab.OA + "hasBody")
        if body is None or g.text(body, vocab.MBT + "inSession") != head:
            continue
        annotations.append(_annotation(g, node, body, index, source))
    annotations.sort(key=lambda a: _natural(a.id))
    return Session(
        id=sid,
        source=source,
        date=_date(date, source) if date else None,
        number=_number(int, number.value, "mbt:sessionNumber", source)
        if number is not None
        else None,
        setting=settings.get(setting_iri or ""),
        participants=tuple(participants),
        annotators=tuple(annotators),
        turns=tuple(turns),
        annotations=tuple(annotations),
    )


def _annotation(g: _Graph, node: str, body: str, index: ConceptIndex, source: str) -> Annotation:
    aid = g.text(node, vocab.MBT + "annotationId") or _tail(node, "annotation")
    types = g.iris(body, _TYPE)
    start, end = g.one(body, vocab.MBT + "startIndex"), g.one(body, vocab.MBT + "endIndex")
    creator = g.text(node, vocab.DCTERMS + "creator")
    confidence = g.text(node, vocab.MBT + "confidence")
    quote = position = None
    target = g.text(node, vocab.OA + "hasTarget") or ""
    for sel in g.iris(target, vocab.OA + "hasSelector"):
        kinds = g.iris(sel, _TYPE)
        if vocab.OA + "TextQuoteSelector" in kinds:
            quote = g.text(sel, vocab.OA + "exact")
        if vocab.OA + "TextPositionSelector" in kinds:
            s, e = g.text(sel, vocab.OA + "start"), g.text(sel, vocab.OA + "end")
            if s is not None and e is not None:
                position = (
                    _number(int, s, "oa:start", source),
                    _number(int, e, "oa:end", source),
                )
    relations = []
    for pred, obj in g.out.get(body, []):
        if pred in index.relation_labels and isinstance(obj, ox.NamedNode):
            relations.append(
                Relation(pred, index.relation_labels[pred], _tail(obj.value, "occurrence"))
            )
    suggested = None
    for activity in g.iris(node, vocab.PROV + "wasGeneratedBy"):
        for program in g.iris(activity, vocab.PROV + "wasAssociatedWith"):
            suggested = g.text(program, vocab.RDFS + "label") or suggested
    return Annotation(
        id=aid,
        concept_iri=types[0] if types else None,
        concept_name=index.label(types[0]) if types else None,
        start=_number(int, start.value, "mbt:startIndex", source) if start is not None else None,
        end=_number(int, end.value, "mbt:endIndex", source) if end is not None else None,
        annotator=_tail(creator, "annotator") if creator else None,
        quote=quote,
        confidence=(
            _number(float, confidence, "mbt:confidence", source) if confidence is not None else None
        ),
        note=g.text(node, vocab.RDFS + "comment"),
        relations=tuple(sorted(relations, key=lambda r: (r.name, r.target))),
        text_start=position[0] if position else None,
        text_end=position[1] if position else None,
        suggested=suggested,
    )


def _number(kind: type[_N], value: str, what: str, source: str) -> _N:
    """``value`` read as ``kind`` (int or float); InputError naming the property if it is not."""
    try:
        if len(value) > 40:
            raise ValueError
        return kind(value)
    except (ValueError, OverflowError):
        raise InputError(
            f"a value of {what} is not a {'whole number' if kind is int else 'number'} "
            f"({len(value)} characters); expected what `mbtkg export` writes",
            Location(source),
        ) from None


def _date(value: str, source: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            "the value of dcterms:date is not a calendar date; expected one like 2024-10-14",
            Location(source),
        ) from None


def _natural(text: str) -> tuple[object, ...]:
    import re

    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def read_rdf_sessions(path: str | Path, *, index: ConceptIndex | None = None) -> list[Session]:
    """Read the sessions of a JSON-LD or Turtle file (as written by ``mbtkg export``)."""
    return sessions_from_quads(parse_rdf_file(path), source=str(path), index=index)
