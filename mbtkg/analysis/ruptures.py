"""Rupture-to-repair latency: how many turns each alliance rupture took to be repaired.

A rupture is an occurrence of any subclass of ``mbt:Rupture``; it counts as repaired when
an occurrence of the same coder is linked to it by ``mbt:repairs``. Two latencies are given,
both in turns counted from the rupture's first turn: until the repair *began*
(``turns_to_repair_start``) and until it *ended* (``turns_to_repair_end``, the measure the
``rupture-repair-latency`` competency query reports). Ruptures nobody repaired are listed
with empty latencies.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..stores.base import Store
from .scope import check_annotator, describe_scope, of_coder, sessions_in_scope


@dataclass(frozen=True)
class RuptureRepair:
    """One rupture and, when it was repaired, its repair and the latencies in turns."""

    session: str
    annotator: str
    rupture: str
    kind: str
    rupture_start: int
    rupture_end: int
    repair: str | None
    repair_start: int | None
    repair_end: int | None
    turns_to_repair_start: int | None
    turns_to_repair_end: int | None

    @property
    def repaired(self) -> bool:
        """Whether a repair is linked to this rupture."""
        return self.repair is not None


def rupture_repairs(
    store: Store,
    *,
    session: str | None = None,
    patient: str | None = None,
    annotator: str | None = None,
) -> tuple[RuptureRepair, ...]:
    """Every rupture in scope with its repair (the earliest, if several) and latencies."""
    out: list[RuptureRepair] = []
    coders: set[str] = set()
    for data in sessions_in_scope(store, session=session, patient=patient):
        coders.update(data.annotators)
        by_id = {o.annotation: o for o in data.occurrences}
        repairs_of: dict[str, list[str]] = {}
        for link in data.links:
            if link.relation == "repairs":
                repairs_of.setdefault(link.target, []).append(link.source)
        for rup in of_coder(data.occurrences, annotator):
            if rup.family != "rupture":
                continue
            candidates = sorted(
                (
                    by_id[r]
                    for r in repairs_of.get(rup.annotation, [])
                    if r in by_id and by_id[r].annotator == rup.annotator
                ),
                key=lambda o: (o.start, o.end, o.annotation),
            )
            rep = candidates[0] if candidates else None
            out.append(
                RuptureRepair(
                    session=data.info.id,
                    annotator=rup.annotator,
                    rupture=rup.annotation,
                    kind=rup.label,
                    rupture_start=rup.start,
                    rupture_end=rup.end,
                    repair=rep.annotation if rep else None,
                    repair_start=rep.start if rep else None,
                    repair_end=rep.end if rep else None,
                    turns_to_repair_start=rep.start - rup.start if rep else None,
                    turns_to_repair_end=rep.end - rup.start if rep else None,
                )
            )
    check_annotator(annotator, coders, describe_scope(session, patient))
    out.sort(key=lambda r: (r.session, r.rupture_start, r.annotator, r.rupture))
    return tuple(out)


def unrepaired(ruptures: tuple[RuptureRepair, ...]) -> tuple[RuptureRepair, ...]:
    """The ruptures no repair is linked to."""
    return tuple(r for r in ruptures if not r.repaired)
