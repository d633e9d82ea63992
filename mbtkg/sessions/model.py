"""The in-memory session model every reader produces and the RDF writer consumes.

A reader (YAML today; CSV, REFI-QDA and ELAN later) turns a file into a :class:`Session`.
The model keeps what the file said, with the line each part came from, so a violation found
later in the RDF can be reported against the file a person wrote. Values the reader could not
make sense of stay ``None`` and are left for SHACL validation to report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

#: Participant roles the format knows, mapped to ontology class local names.
ROLES: dict[str, str] = {"patient": "PatientRole", "therapist": "TherapistRole"}
#: Session settings the format knows, mapped to ontology individual local names.
SETTINGS: dict[str, str] = {
    "individual": "IndividualSetting",
    "group": "GroupSetting",
    "family": "FamilySetting",
}


@dataclass(frozen=True)
class Participant:
    """A pseudonymous participant and the role they play in this session."""

    id: str
    role: str | None
    line: int | None = None


@dataclass(frozen=True)
class Annotator:
    """A coder who annotated (part of) the session."""

    id: str
    line: int | None = None


@dataclass(frozen=True)
class Turn:
    """One contribution of one speaker; ``id`` is its number in the transcript."""

    id: int
    speaker: str | None
    text: str | None
    line: int | None = None
    start_time: float | None = None
    end_time: float | None = None


@dataclass(frozen=True)
class Relation:
    """A link from one annotation's occurrence to another's (``repairs``, ``respondsTo`` ...)."""

    property_iri: str
    name: str
    target: str
    line: int | None = None


@dataclass(frozen=True)
class Annotation:
    """One coding: a concept observed on a span of turns, by one annotator."""

    id: str
    concept_iri: str | None
    concept_name: str | None
    start: int | None
    end: int | None
    annotator: str | None
    quote: str | None = None
    confidence: float | None = None
    note: str | None = None
    relations: tuple[Relation, ...] = ()
    line: int | None = None
    #: Where the quote sits in the text of the span's first turn: [text_start, text_end) in
    #: characters (code points). Written as an oa:TextPositionSelector beside the quote, so a
    #: mismatch between the two can be detected.
    text_start: int | None = None
    text_end: int | None = None
    #: The software that suggested this coding, when a coder accepted a suggestion (for example
    #: ``mbtkg-lexical``); None for a coding a person made unaided. Written as PROV.
    suggested: str | None = None


@dataclass(frozen=True)
class Session:
    """A whole session as read from one source file."""

    id: str
    source: str
    date: dt.date | None = None
    number: int | None = None
    setting: str | None = None
    participants: tuple[Participant, ...] = ()
    annotators: tuple[Annotator, ...] = ()
    turns: tuple[Turn, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    line: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
