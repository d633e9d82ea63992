"""Sessions: the in-memory model, one reader per source format, and the model-to-RDF writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..concepts import ConceptIndex
from ..errors import InputError, Location
from .model import Annotation, Annotator, Participant, Relation, Session, Turn
from .to_rdf import SessionGraph, session_to_rdf
from .yaml_reader import SessionReadError, parse_yaml_session, read_yaml_session


def _one(path: Path, sessions: Sequence[Session], how: str) -> Session:
    if len(sessions) != 1:
        raise InputError(
            f"the file holds {len(sessions)} sessions; read it with {how} to get them all",
            Location(str(path)),
        )
    return sessions[0]


def read_csv_session(path: str | Path, *, index: ConceptIndex | None = None) -> Session:
    """Read a turns sheet holding one session (code columns named after concepts)."""
    from .csv_reader import read_csv_sessions

    return _one(Path(path), read_csv_sessions(path, index=index).sessions, "`mbtkg import csv`")


def read_eaf_session(path: str | Path, *, index: ConceptIndex | None = None) -> Session:
    """Read an ELAN file whose coded values are concept names (no mapping file)."""
    from .eaf_reader import read_eaf

    return read_eaf(path, index=index).session


def read_qdpx_session(path: str | Path, *, index: ConceptIndex | None = None) -> Session:
    """Read a REFI-QDA project with one transcript, codes named after concepts."""
    from .qdpx_reader import read_qdpx

    result = read_qdpx(path, mapping=None, index=index)
    return _one(Path(path), result.sessions, "`mbtkg import qdpx`")


def read_rdf_session(path: str | Path, *, index: ConceptIndex | None = None) -> Session:
    """Read a session exported as JSON-LD or Turtle."""
    from .jsonld_reader import read_rdf_sessions

    return _one(Path(path), read_rdf_sessions(path, index=index), "`mbtkg import jsonld`")


Reader = Callable[..., Session]

#: Readers by file suffix. Each returns a Session. Formats that need options (a mapping file,
#: speakers) have fuller readers used by ``mbtkg import``.
READERS: dict[str, Reader] = {
    ".yaml": read_yaml_session,
    ".yml": read_yaml_session,
    ".csv": read_csv_session,
    ".eaf": read_eaf_session,
    ".qdpx": read_qdpx_session,
    ".jsonld": read_rdf_session,
    ".ttl": read_rdf_session,
}


def read_session(path: str | Path, *, index: ConceptIndex | None = None) -> Session:
    """Read a session file in any supported format (chosen by its suffix)."""
    p = Path(path)
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise InputError(
            (
                f"cannot read {p.suffix!r} files as sessions"
                if p.suffix
                else "cannot tell the format of a file without a suffix"
            )
            + f"; expected one of {', '.join(sorted(READERS))}",
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
    "read_csv_session",
    "read_eaf_session",
    "read_qdpx_session",
    "read_rdf_session",
    "read_session",
    "read_yaml_session",
    "session_to_rdf",
]
