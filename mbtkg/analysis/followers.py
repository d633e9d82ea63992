"""What follows each intervention: the concepts a coder saw within k turns after it.

An occurrence *follows* an intervention when the same coder coded it in the same session and
its first turn lies 1 to ``k`` turns after the intervention's last turn. Interventions are the
occurrences of any subclass of ``mbt:Intervention`` (the family can be widened with
``of=("intervention", "stance")`` to count the not-knowing stance too). The summary gives, per
intervention type and following concept, how many of the interventions of that type were
followed by the concept at least once, so shares do not double-count long codes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..errors import InputError
from ..stores.base import Store
from .data import FAMILY_NAMES, Occurrence
from .scope import check_annotator, describe_scope, of_coder, sessions_in_scope


@dataclass(frozen=True)
class FollowEvent:
    """An occurrence that followed an intervention within k turns."""

    session: str
    annotator: str
    intervention: str
    intervention_type: str
    intervention_end: int
    follower: str
    follower_concept: str
    follower_family: str
    follower_start: int
    distance: int


@dataclass(frozen=True)
class FollowSummary:
    """How many interventions of one type were followed by one concept within k turns."""

    intervention_type: str
    interventions: int
    follower_concept: str
    followed: int
    share: float


@dataclass(frozen=True)
class FollowReport:
    """The events and their summary, with the window and the interventions counted."""

    k: int
    events: tuple[FollowEvent, ...]
    summary: tuple[FollowSummary, ...]
    interventions: tuple[Occurrence, ...]


def _check(k: int, of: tuple[str, ...], families: tuple[str, ...] | None) -> None:
    if k < 1:
        raise InputError(f"k must be a whole number of turns of at least 1, found {k}")
    for name in (*of, *(families or ())):
        if name not in FAMILY_NAMES:
            raise InputError(
                f"unknown concept family {name!r}; expected one of {', '.join(FAMILY_NAMES)}"
            )


def follows(
    store: Store,
    *,
    k: int = 3,
    session: str | None = None,
    patient: str | None = None,
    annotator: str | None = None,
    of: tuple[str, ...] = ("intervention",),
    families: tuple[str, ...] | None = None,
) -> FollowReport:
    """What followed each intervention within ``k`` turns (followers of ``families`` only, if given).

    Raises InputError for k < 1 or an unknown family, UnknownNameError for an unknown session,
    patient or annotator.
    """
    _check(k, of, families)
    events: list[FollowEvent] = []
    interventions: list[Occurrence] = []
    coders: set[str] = set()
    for data in sessions_in_scope(store, session=session, patient=patient):
        coders.update(data.annotators)
        mine = of_coder(data.occurrences, annotator)
        for iv in (o for o in mine if o.family in of):
            interventions.append(iv)
            for other in mine:
                if other.annotator != iv.annotator or other.annotation == iv.annotation:
                    continue
                if families is not None and other.family not in families:
                    continue
                distance = other.start - iv.end
                if 1 <= distance <= k:
                    events.append(
                        FollowEvent(
                            session=data.info.id,
                            annotator=iv.annotator,
                            intervention=iv.annotation,
                            intervention_type=iv.label,
                            intervention_end=iv.end,
                            follower=other.annotation,
                            follower_concept=other.label,
                            follower_family=other.family,
                            follower_start=other.start,
                            distance=distance,
                        )
                    )
    check_annotator(annotator, coders, describe_scope(session, patient))
    return FollowReport(k, tuple(events), summarize(events, interventions), tuple(interventions))


def summarize(
    events: list[FollowEvent] | tuple[FollowEvent, ...],
    interventions: list[Occurrence] | tuple[Occurrence, ...],
) -> tuple[FollowSummary, ...]:
    """Per intervention type and follower concept: interventions followed at least once."""
    per_type: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for iv in interventions:
        per_type[iv.label].add((iv.session, iv.annotation))
    followed: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for e in events:
        followed[(e.intervention_type, e.follower_concept)].add((e.session, e.intervention))
    rows = [
        FollowSummary(
            intervention_type=itype,
            interventions=len(per_type[itype]),
            follower_concept=concept,
            followed=len(ids),
            share=len(ids) / len(per_type[itype]),
        )
        for (itype, concept), ids in followed.items()
    ]
    rows.sort(key=lambda r: (r.intervention_type, -r.followed, r.follower_concept))
    return tuple(rows)
