"""Write a session as JSON-LD (plain JSON that is also RDF), Turtle or the YAML session format,
or several sessions as a REFI-QDA project for QDA tools (:mod:`mbtkg.qda_export`).

JSON-LD uses the published context (``ontology/context.jsonld``, IRI
:data:`~mbtkg.sessions.jsonld_reader.CONTEXT_IRI`): the document is one named graph, the
session's, with the session node (its roles, annotators and turns nested) and one node per
annotation. The context is written inline so the file is self-contained; importers also accept
the context's IRI in its place. The three formats describe the same graph: reading any of them
back gives isomorphic RDF (the YAML format has no field for text positions, which it drops).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pyoxigraph as ox
import yaml

from . import vocab
from .concepts import ConceptIndex, default_index
from .errors import InputError
from .qda_export import QdpxExport, export_qdpx
from .sessions.jsonld_reader import context, sessions_from_quads
from .sessions.model import ROLES, SETTINGS, Session
from .sessions.to_rdf import _decimal, recorded_source, session_to_rdf
from .stores.base import Store

#: Export formats, also the CLI's ``--format`` choices.
FORMATS = ("jsonld", "ttl", "yaml")


def _curie(iri: str) -> str:
    if iri.startswith(vocab.DATA):
        return "mbtd:" + iri[len(vocab.DATA) :]
    if iri.startswith(vocab.OA):
        return "oa:" + iri[len(vocab.OA) :]
    return iri


def _type(iri: str) -> str:
    return iri[len(vocab.MBT) :] if iri.startswith(vocab.MBT) else iri


def session_to_jsonld(session: Session, *, index: ConceptIndex | None = None) -> dict[str, Any]:
    """The session as a JSON-LD document (a dict) with the context inline."""
    index = index or default_index()
    sid = session.id
    s = vocab.session_iri(sid)
    node: dict[str, Any] = {"id": _curie(s), "type": "Session", "sessionId": sid}
    if session.date is not None:
        node["date"] = session.date.isoformat()
    if session.number is not None:
        node["number"] = session.number
    if session.setting is not None:
        node["setting"] = "mbt:" + SETTINGS[session.setting]
    node["source"] = recorded_source(session.source)
    roles = {}
    node["roles"] = []
    for p in session.participants:
        role = vocab.role_iri(sid, p.id)
        roles[p.id] = role
        node["roles"].append(
            {
                "id": _curie(role),
                "type": ROLES[p.role] if p.role else "ParticipantRole",
                "roleOf": {
                    "id": _curie(vocab.person_iri(p.id)),
                    "type": "Person",
                    "pseudonym": p.id,
                },
                "roleIn": _curie(s),
            }
        )
    agents = [_curie(vocab.annotator_iri(a.id)) for a in session.annotators]
    node["annotators"] = []
    for a, agent in zip(session.annotators, agents, strict=True):
        annotator: dict[str, Any] = {"id": agent, "type": "Annotator", "pseudonym": a.id}
        others = [other for other in agents if other != agent]
        if others:  # the key the writer adds for agreement questions (docs/data-model.md)
            annotator["coAnnotator"] = others
        node["annotators"].append(annotator)
    node["turns"] = []
    for k, t in enumerate(session.turns):
        turn: dict[str, Any] = {
            "id": _curie(vocab.turn_iri(sid, t.id)),
            "type": "Turn",
            "inSession": _curie(s),
            "index": t.id,
        }
        if t.speaker is not None:
            turn["speaker"] = _curie(vocab.person_iri(t.speaker))
            if t.speaker in roles:
                turn["speakerRole"] = _curie(roles[t.speaker])
        if t.text is not None:
            turn["text"] = t.text
        if t.start_time is not None:
            turn["startTime"] = _decimal(t.start_time)
        if t.end_time is not None:
            turn["endTime"] = _decimal(t.end_time)
        if k + 1 < len(session.turns):
            turn["nextTurn"] = _curie(vocab.turn_iri(sid, session.turns[k + 1].id))
        node["turns"].append(turn)
    graph: list[dict[str, Any]] = [node]
    for an in session.annotations:
        graph.append(_annotation(session, an, index))
    return {"@context": context()["@context"], "id": _curie(s), "graph": graph}


def _annotation(session: Session, an: Any, index: ConceptIndex) -> dict[str, Any]:
    sid = session.id
    s = vocab.session_iri(sid)
    target = vocab.target_iri(sid, an.id)
    out: dict[str, Any] = {
        "id": _curie(vocab.annotation_iri(sid, an.id)),
        "type": "oa:Annotation",
        "motivatedBy": "oa:classifying",
        "annotationId": an.id,
    }
    if an.annotator is not None:
        out["creator"] = out["attributedTo"] = _curie(vocab.annotator_iri(an.annotator))
    if an.confidence is not None:
        out["confidence"] = _decimal(an.confidence)
    if an.note is not None:
        out["comment"] = an.note
    body: dict[str, Any] = {"id": _curie(vocab.occurrence_iri(sid, an.id))}
    if an.concept_iri is not None:
        body["type"] = _type(an.concept_iri)
    body["inSession"] = _curie(s)
    if an.annotator is not None:
        body["codedBy"] = out["creator"]
    selectors: list[dict[str, Any]] = []
    if an.start is not None and an.end is not None:
        body["startTurn"] = _curie(vocab.turn_iri(sid, an.start))
        body["endTurn"] = _curie(vocab.turn_iri(sid, an.end))
        body["startIndex"] = an.start
        body["endIndex"] = an.end
        # the keys the writer adds for sequence questions (docs/data-model.md)
        body["coversTurn"] = [
            _curie(vocab.turn_iri(sid, t.id)) for t in session.turns if an.start <= t.id <= an.end
        ]
        rng = f"{target}/range"
        selectors.append(
            {
                "id": _curie(rng),
                "type": "oa:RangeSelector",
                "startSelector": {
                    "id": _curie(f"{rng}/start"),
                    "type": "TurnSelector",
                    "selectedTurn": _curie(vocab.turn_iri(sid, an.start)),
                },
                "endSelector": {
                    "id": _curie(f"{rng}/end"),
                    "type": "TurnSelector",
                    "selectedTurn": _curie(vocab.turn_iri(sid, an.end)),
                },
            }
        )
    for rel in an.relations:
        name = index.relation_labels.get(rel.property_iri, rel.property_iri)
        body.setdefault(name, []).append({"id": _curie(vocab.occurrence_iri(sid, rel.target))})
    if an.quote is not None:
        selectors.append(
            {"id": _curie(f"{target}/quote"), "type": "oa:TextQuoteSelector", "exact": an.quote}
        )
    if an.text_start is not None and an.text_end is not None:
        selectors.append(
            {
                "id": _curie(f"{target}/position"),
                "type": "oa:TextPositionSelector",
                "start": an.text_start,
                "end": an.text_end,
            }
        )
    out["body"] = body
    out["target"] = {
        "id": _curie(target),
        "type": "oa:SpecificResource",
        "hasSource": _curie(s),
        "selectors": selectors,
    }
    return out


def _flow(value: object) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=1_000_000, sort_keys=False
    )
    return text.strip().removesuffix("...").strip()


def session_to_yaml(session: Session, *, index: ConceptIndex | None = None) -> str:
    """The session in the hand-written YAML format (text positions are not part of it)."""
    index = index or default_index()
    head: dict[str, Any] = {"id": session.id}
    if session.date is not None:
        head["date"] = session.date
    if session.number is not None:
        head["number"] = session.number
    if session.setting is not None:
        head["setting"] = session.setting
    lines = [f"# Exported by mbtkg from {session.source}", "session:"]
    lines += [f"  {k}: {_flow(v)}" for k, v in head.items()]
    lines.append("participants:")
    for p in session.participants:
        item: dict[str, Any] = {"id": p.id}
        if p.role is not None:
            item["role"] = p.role
        lines.append(f"  - {_flow(item)}")
    if session.annotators:
        lines.append("annotators:")
        lines += [f"  - {_flow({'id': a.id})}" for a in session.annotators]
    lines.append("turns:")
    for t in session.turns:
        turn: dict[str, Any] = {"id": t.id}
        for key, value in (
            ("speaker", t.speaker),
            ("text", t.text),
            ("start", t.start_time),
            ("end", t.end_time),
        ):
            if value is not None:
                turn[key] = value
        lines.append(f"  - {_flow(turn)}")
    if session.annotations:
        lines.append("annotations:")
    for an in session.annotations:
        item = {"id": an.id}
        if an.concept_iri is not None:
            label = index.label(an.concept_iri)
            same = index.names.get(label.strip().lower()) == an.concept_iri
            item["concept"] = label if same else "mbt:" + _type(an.concept_iri)
        if an.start is not None and an.end is not None:
            item["turns"] = an.start if an.start == an.end else [an.start, an.end]
        for key, value in (
            ("quote", an.quote),
            ("annotator", an.annotator),
            ("confidence", an.confidence),
        ):
            if value is not None:
                item[key] = value
        if an.relations:
            rels: dict[str, Any] = {}
            for rel in an.relations:
                rels.setdefault(rel.name, []).append(rel.target)
            item["relations"] = {k: v[0] if len(v) == 1 else v for k, v in rels.items()}
        if an.note is not None:
            item["note"] = an.note
        if an.suggested is not None:
            item["suggested"] = an.suggested
        lines.append(f"  - {_flow(item)}")
    return "\n".join(lines) + "\n"


def session_to_turtle(session: Session) -> str:
    """The session graph as Turtle with the usual prefixes."""
    graph = session_to_rdf(session)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in graph.quads]
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=dict(vocab.PREFIXES))
    return (data or b"").decode("utf-8")


def store_session_quads(store: Store, session_id: str) -> list[ox.Quad]:
    """The quads of one session graph, read through the store's SELECT interface.

    Raises InputError naming the stored sessions when the session is not there.
    """
    graph = vocab.session_iri(session_id)
    rows = store.select(
        "SELECT ?s ?p ?o (isIRI(?o) AS ?iri) (STR(?o) AS ?lex) (DATATYPE(?o) AS ?dt) "
        f"(LANG(?o) AS ?lang) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    )
    if not rows.rows:
        from .loading import session_ids

        known = session_ids(store)
        hits = ConceptIndex.suggest(session_id, known, n=1)
        hint = f"; did you mean {hits[0]!r}?" if hits else ""
        raise InputError(
            f"no session {session_id!r} in {store.selector}{hint} "
            f"(it holds {len(known)} session(s): {', '.join(known[:10])})"
        )
    g = ox.NamedNode(graph)
    quads = []
    for s, p, _o, iri, lex, dt, lang in rows.rows:
        assert s is not None and p is not None and lex is not None
        obj: ox.NamedNode | ox.Literal
        if iri is not None and iri.value is True:
            obj = ox.NamedNode(str(lex.value))
        elif lang is not None and lang.value:
            obj = ox.Literal(str(lex.value), language=str(lang.value))
        else:
            obj = ox.Literal(str(lex.value), datatype=ox.NamedNode(str(dt.value)) if dt else None)
        quads.append(ox.Quad(ox.NamedNode(str(s.value)), ox.NamedNode(str(p.value)), obj, g))
    return quads


def stored_session(store: Store, session_id: str, *, index: ConceptIndex | None = None) -> Session:
    """One stored session read back into the session model (``source`` as recorded).

    Raises InputError naming the stored sessions when the session is not there.
    """
    quads = store_session_quads(store, session_id)
    session = sessions_from_quads(quads, source=f"{store.selector} {session_id}", index=index)[0]
    source = next(
        (
            q.object.value
            for q in quads
            if q.predicate.value == vocab.DCTERMS + "source" and isinstance(q.object, ox.Literal)
        ),
        None,
    )
    return session if source is None else replace(session, source=source)


def export_session(
    store: Store, session_id: str, fmt: str, *, index: ConceptIndex | None = None
) -> str:
    """One stored session as text in ``fmt`` (``jsonld``, ``ttl`` or ``yaml``).

    Raises InputError for an unknown format or session.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    session = stored_session(store, session_id, index=index)
    if fmt == "jsonld":
        return json.dumps(session_to_jsonld(session, index=index), indent=2, ensure_ascii=False)
    if fmt == "yaml":
        return session_to_yaml(session, index=index)
    return session_to_turtle(session)


def export_sessions_qdpx(
    store: Store,
    session_ids: Sequence[str],
    *,
    index: ConceptIndex | None = None,
    created: datetime.datetime | None = None,
) -> QdpxExport:
    """Stored sessions as one REFI-QDA project (see :mod:`mbtkg.qda_export.project`).

    Raises InputError for an unknown session (nothing is written then).
    """
    sessions = [stored_session(store, sid, index=index) for sid in dict.fromkeys(session_ids)]
    return export_qdpx(sessions, index=index, created=created, origin=f"mbtkg {_version()}")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mbtkg")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
