"""Sessions: the in-memory model, one reader per source format, and the model-to-RDF writer."""

from __future__ import annotations

from pathlib import Path

from ..concepts import ConceptIndex
from ..errors import InputError, Location
from .model import Annotation, Annotator, Participant, Relation, Session, Turn
from .to_rdf import SessionGraph, session_to_rdf
from .yaml_reader import SessionReadError, parse_yaml_session, read_yaml_session

#: Readers by file suffix. Each returns a Session.
READERS = {".yaml": read_yaml_session, ".yml": read_yaml_session}


def read_session(path: str | Path, *, index: ConceptIndex | None = None) -> Session:
    """Read a session file in any supported format (chosen by its suffix)."""
    p = Path(path)
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise InputError(
            f"cannot read {p.suffix or 'files without a suffix'!r} files as sessions; "
            f"expected one of {', '.join(sorted(READERS))}",
            Location(str(p)),
        )
    return reader(p, index=index)


__all__ = [
    "READERS",
    "Annotation",
    "Annotator",
    "Participant",
    "Relation",
    "Session",
    "SessionGraph",
    "SessionReadError",
    "Turn",
    "parse_yaml_session",
    "read_session",
    "read_yaml_session",
    "session_to_rdf",
]
