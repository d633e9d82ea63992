"""What every analysis reads: sessions, turns and concept occurrences, fetched from a store by SPARQL.

The analyses never read YAML: they ask the store (any backend behind the Store interface) with
the queries in ``queries/analysis/`` and get back the small frozen records defined here. Each
occurrence carries the *family* its concept belongs to in the ontology's hierarchy (a
prementalizing mode, a form of mentalizing, an intervention, a rupture ...), looked up through
the subclass links of the store's ontology graph, so classes added to the ontology later fall
into their family without code changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .. import vocab
from ..concepts import ConceptIndex
from ..errors import InputError, UnknownNameError
from ..queries import CompetencyQuery, parse_query_file
from ..resources import resource_dir
from ..stores.base import Cell, Rows, Store

#: Concept families, in priority order: a class under two roots belongs to the first.
#: ``other`` holds every class under none of these roots (arousal, triggers, self-harm ...).
FAMILIES: tuple[tuple[str, str], ...] = (
    ("prementalizing", vocab.MBT + "PrementalizingMode"),
    ("mentalizing", vocab.MBT + "Mentalizing"),
    ("intervention", vocab.MBT + "Intervention"),
    ("stance", vocab.MBT + "TherapistStance"),
    ("rupture", vocab.MBT + "Rupture"),
    ("repair", vocab.MBT + "Repair"),
    ("trust", vocab.MBT + "EpistemicStance"),
    ("we-ness", vocab.MBT + "WeNess"),
)
FAMILY_NAMES: tuple[str, ...] = (*(name for name, _ in FAMILIES), "other")
#: The classes whose occurrences count as epistemic-trust markers.
TRUST_MARKER = vocab.MBT + "EpistemicTrust"
#: The class whose occurrences count as effective mentalizing.
EFFECTIVE_MENTALIZING = vocab.MBT + "EffectiveMentalizing"

PATIENT, THERAPIST = "patient", "therapist"


@dataclass(frozen=True)
class SessionInfo:
    """A session's id, number, date, setting and the pseudonyms of its patients."""

    id: str
    number: int | None
    date: dt.date | None
    setting: str | None
    patients: tuple[str, ...]


@dataclass(frozen=True)
class TurnInfo:
    """One turn: its index, who spoke and in which role (``patient``, ``therapist`` or None)."""

    index: int
    speaker: str | None
    role: str | None
    text: str | None = None


@dataclass(frozen=True)
class Occurrence:
    """One coded concept occurrence on a span of turns ``start``..``end`` (inclusive)."""

    session: str
    annotation: str
    annotator: str
    concept: str
    label: str
    family: str
    start: int
    end: int
    #: The ontology classes this concept is a subclass of (itself included).
    ancestors: frozenset[str] = frozenset()

    def covers(self, turn: int) -> bool:
        """Whether the occurrence's span includes a turn."""
        return self.start <= turn <= self.end

    def is_a(self, class_iri: str) -> bool:
        """Whether the concept is the class or one of its subclasses."""
        return class_iri in self.ancestors


@dataclass(frozen=True)
class Link:
    """A relation from one occurrence to another, by annotation id (``repairs`` ...)."""

    source: str
    relation: str
    target: str


@dataclass(frozen=True)
class SessionData:
    """Everything an analysis needs about one session."""

    info: SessionInfo
    turns: tuple[TurnInfo, ...]
    occurrences: tuple[Occurrence, ...]
    links: tuple[Link, ...]

    @property
    def annotators(self) -> tuple[str, ...]:
        """The coders with at least one occurrence in the session, sorted."""
        return tuple(sorted({o.annotator for o in self.occurrences}))

    def by_annotator(self, annotator: str) -> tuple[Occurrence, ...]:
        """One coder's occurrences, in turn order."""
        return tuple(o for o in self.occurrences if o.annotator == annotator)

    def coverage(self, annotator: str) -> tuple[int, int] | None:
        """The turns a coder covered: from their first coded turn to their last, or None.

        The session format has no field for the stretch a coder was asked to code, so coverage
        is read from the codes themselves.
        """
        mine = self.by_annotator(annotator)
        if not mine:
            return None
        return min(o.start for o in mine), max(o.end for o in mine)

    def speaker_of(self, turn: int) -> str | None:
        """The pseudonym of a turn's speaker, or None for an unknown turn."""
        return next((t.speaker for t in self.turns if t.index == turn), None)


@dataclass(frozen=True)
class ClassInfo:
    """An ontology class: label, ancestors (itself included) and family."""

    iri: str
    label: str
    ancestors: frozenset[str]
    family: str


def analysis_query(name: str) -> CompetencyQuery:
    """One of the SPARQL files in ``queries/analysis/`` (read once per process)."""
    return _analysis_query(str(resource_dir("queries") / "analysis" / f"{name}.rq"))


@cache
def _analysis_query(path: str) -> CompetencyQuery:
    return parse_query_file(Path(path))


def run(store: Store, name: str, params: Mapping[str, str] | None = None) -> Rows:
    """Run an analysis query with its parameters bound safely."""
    return store.select(analysis_query(name).bind(params or {}))


def family_of(ancestors: frozenset[str]) -> str:
    """The family of a class given its ancestors: the first root of FAMILIES it falls under."""
    return next((name for name, root in FAMILIES if root in ancestors), "other")


def ontology_classes(store: Store) -> dict[str, ClassInfo]:
    """Every class of the store's ontology graph with its label, ancestors and family.

    The ancestors are the transitive closure of the direct ``rdfs:subClassOf`` links, computed
    here rather than with a ``rdfs:subClassOf*`` path that has no bound end, which some servers
    (Virtuoso 7) cannot evaluate.
    """
    labels: dict[str, str] = {}
    parents: dict[str, set[str]] = {}
    for row in run(store, "hierarchy").values():
        iri = str(row["class"])
        parents.setdefault(iri, set())
        if row["parent"] is not None:
            parents[iri].add(str(row["parent"]))
        if row["label"] is not None and iri not in labels:
            labels[iri] = str(row["label"])

    def closure(iri: str) -> frozenset[str]:
        seen = {iri}
        todo = [iri]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return frozenset(seen)

    out: dict[str, ClassInfo] = {}
    for iri in parents:
        ancestors = closure(iri)
        out[iri] = ClassInfo(
            iri, labels.get(iri, iri.rsplit("#", 1)[-1]), ancestors, family_of(ancestors)
        )
    return out


def list_sessions(
    store: Store, *, session: str | None = None, patient: str | None = None
) -> tuple[SessionInfo, ...]:
    """The sessions a store holds (optionally one session, or one patient's), in series order.

    Sessions are ordered by number, then date, then id. Raises UnknownNameError, listing the
    known ids, when the session or patient is not in the store.
    """
    params = {k: v for k, v in (("session", session), ("patient", patient)) if v is not None}
    found: dict[str, SessionInfo] = {}
    for row in run(store, "sessions", params).values():
        sid = str(row["session_id"])
        old = found.get(sid)
        patients = (old.patients if old else ()) + (
            (str(row["patient_id"]),) if row["patient_id"] is not None else ()
        )
        found[sid] = SessionInfo(
            sid,
            int(row["number"]) if isinstance(row["number"], int) else None,
            _date(row["date"]),
            _setting(row["setting"]),
            tuple(sorted(set(patients))),
        )
    if not found:
        _raise_unknown(store, session=session, patient=patient)
    return tuple(
        sorted(found.values(), key=lambda s: (s.number is None, s.number or 0, str(s.date), s.id))
    )


def _raise_unknown(store: Store, *, session: str | None, patient: str | None) -> None:
    everything = list_sessions(store) if (session or patient) else ()
    if not everything:
        raise InputError(
            "the store holds no sessions; load session files first (mbtkg load FILE ...)"
        )
    if session is not None and session not in {s.id for s in everything}:
        known = sorted(s.id for s in everything)
        hits = ConceptIndex.suggest(session, known)
        hint = f"; did you mean {hits[0]!r}?" if hits else ""
        raise UnknownNameError(
            f"no session {session!r} in the store{hint} (known sessions: {', '.join(known)})",
            suggestions=tuple(hits),
        )
    known = sorted({p for s in everything for p in s.patients})
    hits = ConceptIndex.suggest(patient or "", known)
    hint = f"; did you mean {hits[0]!r}?" if hits else ""
    where = f" in session {session!r}" if session else ""
    raise UnknownNameError(
        f"no patient {patient!r}{where} in the store{hint} (known patients: {', '.join(known)})",
        suggestions=tuple(hits),
    )


def _date(value: object) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _setting(value: object) -> str | None:
    if value is None:
        return None
    local = str(value).rsplit("#", 1)[-1]
    return local.removesuffix("Setting").lower() or None


def session_data(
    store: Store, session: str, *, classes: Mapping[str, ClassInfo] | None = None
) -> SessionData:
    """Fetch one session's turns, occurrences and links from a store.

    When an occurrence is typed with several classes, the most specific ones are kept (a
    class that is an ancestor of another of its classes is dropped).
    """
    info = list_sessions(store, session=session)[0]
    classes = classes if classes is not None else ontology_classes(store)
    params = {"session": session}
    turns = tuple(
        TurnInfo(int(str(r["turn"])), _str(r["speaker_id"]), _role(r["role"]), _str(r["text"]))
        for r in run(store, "turns", params).values()
    )
    typed: dict[str, list[dict[str, Cell]]] = {}
    for r in run(store, "occurrences", params).values():
        typed.setdefault(str(r["annotation_id"]), []).append(r)
    occurrences: list[Occurrence] = []
    for annotation, rows in typed.items():
        concepts = {str(r["concept"]) for r in rows}
        specific = [
            c
            for c in concepts
            if not any(c != other and c in _anc(classes, other) for other in concepts)
        ]
        for concept in sorted(specific):
            row = rows[0]
            cls = classes.get(concept)
            occurrences.append(
                Occurrence(
                    session=session,
                    annotation=annotation,
                    annotator=str(row["annotator_id"]),
                    concept=concept,
                    label=cls.label if cls else concept.rsplit("#", 1)[-1],
                    family=cls.family if cls else "other",
                    start=int(str(row["start"])),
                    end=int(str(row["end"])),
                    ancestors=cls.ancestors if cls else frozenset({concept}),
                )
            )
    occurrences.sort(key=lambda o: (o.start, o.end, o.annotator, o.annotation))
    links = tuple(
        Link(str(r["source_id"]), str(r["relation"]).rsplit("#", 1)[-1], str(r["target_id"]))
        for r in run(store, "links", params).values()
    )
    return SessionData(info, turns, tuple(occurrences), links)


def _anc(classes: Mapping[str, ClassInfo], iri: str) -> frozenset[str]:
    cls = classes.get(iri)
    return cls.ancestors if cls else frozenset({iri})


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _role(value: object) -> str | None:
    if value == vocab.MBT + "PatientRole":
        return PATIENT
    if value == vocab.MBT + "TherapistRole":
        return THERAPIST
    return None
