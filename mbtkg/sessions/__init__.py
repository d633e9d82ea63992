"""Sessions: the in-memory model, one reader per source format, and the model-to-RDF writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..concepts import ConceptIndex
from ..errors import InputError, Location, ReaderProblems
from .model import Annotation, Annotator, Participant, Relation, Session, Turn
from .read_result import ReadResult
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


def _rdf_sessions(path: str | Path, *, index: ConceptIndex | None = None) -> ReadResult:
    from .jsonld_reader import read_rdf_sessions

    return ReadResult(tuple(read_rdf_sessions(path, index=index)))


def _yaml_sessions(path: str | Path, *, index: ConceptIndex | None = None) -> ReadResult:
    return ReadResult((read_yaml_session(path, index=index),))


def _csv_sessions(path: str | Path, *, index: ConceptIndex | None = None) -> ReadResult:
    from .csv_reader import read_csv_sessions

    return read_csv_sessions(path, index=index)


def _eaf_sessions(path: str | Path, *, index: ConceptIndex | None = None) -> ReadResult:
    from .eaf_reader import read_eaf

    return read_eaf(path, index=index)


def _qdpx_sessions(path: str | Path, *, index: ConceptIndex | None = None) -> ReadResult:
    from .qdpx_reader import read_qdpx

    return read_qdpx(path, mapping=None, index=index)


#: The readers behind :func:`read_sessions`, by suffix; each returns a ReadResult.
RESULT_READERS: dict[str, Callable[..., ReadResult]] = {
    ".yaml": _yaml_sessions,
    ".yml": _yaml_sessions,
    ".csv": _csv_sessions,
    ".eaf": _eaf_sessions,
    ".qdpx": _qdpx_sessions,
    ".jsonld": _rdf_sessions,
    ".ttl": _rdf_sessions,
}


def read_sessions(path: str | Path, *, index: ConceptIndex | None = None) -> ReadResult:
    """Read every session of a file in any supported format, as one result type.

    Whatever the format, problems come as one :class:`~mbtkg.errors.ReaderProblems` listing
    each, located (a lone problem is listed alone; the message is the reader's own).

    >>> from mbtkg.resources import example_sessions
    >>> susan = next(p for p in example_sessions() if p.stem == "susan-12")
    >>> [s.id for s in read_sessions(susan).sessions]
    ['susan-12']
    """
    p = Path(path)
    reader = RESULT_READERS.get(p.suffix.lower())
    try:
        if reader is None:  # a format only READERS knows, or none (read_session says so)
            return ReadResult((read_session(p, index=index),))
        return reader(p, index=index)
    except ReaderProblems:
        raise
    except InputError as exc:
        problems = ReaderProblems(str(exc), problems=[exc], file=str(p))
        problems.location = exc.location
        raise problems from exc


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
    "RESULT_READERS",
    "Annotation",
    "Annotator",
    "Participant",
    "ReadResult",
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
    "read_sessions",
    "read_yaml_session",
    "session_to_rdf",
]
