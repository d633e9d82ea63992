"""A patient's trajectory across sessions: does prementalizing shrink and mentalizing grow?

For each of the patient's sessions (in order of session number, then date) and each coder,
the measures are taken over the patient's own turns inside the stretch the coder covered
(from the coder's first coded turn to their last):

* ``prementalizing_turns``: the patient's turns covered by an occurrence of any prementalizing
  mode, and its share of the patient's covered turns;
* ``effective_mentalizing_turns``: likewise for ``mbt:EffectiveMentalizing`` (and subclasses);
* ``ruptures``: occurrences of any rupture the coder coded in the session;
* ``trust_markers``: occurrences of ``mbt:EpistemicTrust`` (and subclasses).

A turn covered by two occurrences counts once. The shares are defined as in the competency
query ``prementalizing-share`` (with its ``annotator`` parameter), which gives the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..stores.base import Store
from .data import EFFECTIVE_MENTALIZING, TRUST_MARKER, Occurrence, SessionData
from .scope import check_annotator, describe_scope, sessions_in_scope


@dataclass(frozen=True)
class TrajectoryPoint:
    """One session of a patient's series, as one coder saw it."""

    patient: str
    session: str
    number: int | None
    date: dt.date | None
    annotator: str
    patient_turns: int
    prementalizing_turns: int
    prementalizing_share: float
    effective_mentalizing_turns: int
    effective_mentalizing_share: float
    ruptures: int
    trust_markers: int


def _turns_covered(turns: set[int], occurrences: list[Occurrence]) -> int:
    return sum(1 for t in turns if any(o.covers(t) for o in occurrences))


def _point(data: SessionData, patient: str, coder: str) -> TrajectoryPoint | None:
    span = data.coverage(coder)
    if span is None:
        return None
    mine = list(data.by_annotator(coder))
    turns = {t.index for t in data.turns if t.speaker == patient and span[0] <= t.index <= span[1]}
    pre = _turns_covered(turns, [o for o in mine if o.family == "prementalizing"])
    eff = _turns_covered(turns, [o for o in mine if o.is_a(EFFECTIVE_MENTALIZING)])
    n = len(turns)
    return TrajectoryPoint(
        patient=patient,
        session=data.info.id,
        number=data.info.number,
        date=data.info.date,
        annotator=coder,
        patient_turns=n,
        prementalizing_turns=pre,
        prementalizing_share=pre / n if n else 0.0,
        effective_mentalizing_turns=eff,
        effective_mentalizing_share=eff / n if n else 0.0,
        ruptures=sum(1 for o in mine if o.family == "rupture"),
        trust_markers=sum(1 for o in mine if o.is_a(TRUST_MARKER)),
    )


def trajectory(
    store: Store, patient: str, *, annotator: str | None = None
) -> tuple[TrajectoryPoint, ...]:
    """The patient's sessions in series order, one point per session and coder.

    Raises UnknownNameError for an unknown patient (listing the known ones) or annotator.
    """
    points: list[TrajectoryPoint] = []
    coders: set[str] = set()
    for data in sessions_in_scope(store, patient=patient):
        coders.update(data.annotators)
        for coder in data.annotators:
            if annotator is not None and coder != annotator:
                continue
            point = _point(data, patient, coder)
            if point is not None:
                points.append(point)
    check_annotator(annotator, coders, describe_scope(None, patient))
    return tuple(points)
