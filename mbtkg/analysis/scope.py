"""Choosing what an analysis covers: sessions by id or patient, and one coder or all."""

from __future__ import annotations

from collections.abc import Iterator

from ..concepts import ConceptIndex
from ..errors import UnknownNameError
from ..stores.base import Store
from .data import Occurrence, SessionData, list_sessions, ontology_classes, session_data


def sessions_in_scope(
    store: Store, *, session: str | None = None, patient: str | None = None
) -> Iterator[SessionData]:
    """The data of each session in scope, in series order (number, date, id)."""
    infos = list_sessions(store, session=session, patient=patient)
    classes = ontology_classes(store)
    for info in infos:
        yield session_data(store, info.id, classes=classes)


def check_annotator(annotator: str | None, known: set[str] | tuple[str, ...], where: str) -> None:
    """Raise UnknownNameError when a requested coder has no codes in scope."""
    if annotator is None or annotator in known:
        return
    names = sorted(known)
    hits = ConceptIndex.suggest(annotator, names)
    hint = f"; did you mean {hits[0]!r}?" if hits else ""
    raise UnknownNameError(
        f"annotator {annotator!r} coded nothing in {where}{hint} "
        f"(coders: {', '.join(names) or 'none'})",
        suggestions=tuple(hits),
    )


def of_coder(occurrences: tuple[Occurrence, ...], annotator: str | None) -> tuple[Occurrence, ...]:
    """The occurrences of one coder, or all when ``annotator`` is None."""
    if annotator is None:
        return occurrences
    return tuple(o for o in occurrences if o.annotator == annotator)


def describe_scope(session: str | None, patient: str | None) -> str:
    """A short phrase for messages: ``session susan-12``, ``patient P-susan`` ..."""
    parts = [f"session {session}" if session else "", f"patient {patient}" if patient else ""]
    return " ".join(p for p in parts if p) or "all sessions"
