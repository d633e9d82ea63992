"""Session analytics for researchers: transitions, ruptures, what follows interventions,
trajectories across sessions, and inter-rater agreement.

Every analysis reads from a store through SPARQL (the queries in ``queries/analysis/``), so
it runs on any backend, and returns small frozen dataclasses::

    >>> import mbtkg
    >>> from mbtkg.analysis import rupture_repairs
    >>> store = mbtkg.open_store("oxigraph:memory")
    >>> _ = mbtkg.load([p for p in mbtkg.example_sessions() if p.stem == "susan-12"], store)
    >>> [(r.rupture, r.turns_to_repair_end) for r in rupture_repairs(store, session="susan-12")]
    [('a13', 7), ('b3', 5), ('b7', None)]
"""

from __future__ import annotations

from .agreement import AgreementReport, CodeAgreement, NotEnoughCoders, agreement
from .data import FAMILIES, FAMILY_NAMES, Occurrence, SessionData, SessionInfo, session_data
from .followers import FollowEvent, FollowReport, FollowSummary, follows
from .reliability import Coefficient, cohen_kappa, krippendorff_alpha_nominal
from .ruptures import RuptureRepair, rupture_repairs, unrepaired
from .trajectory import TrajectoryPoint, trajectory
from .transitions import Transition, TransitionMatrix, transition_matrices

__all__ = [
    "FAMILIES",
    "FAMILY_NAMES",
    "AgreementReport",
    "CodeAgreement",
    "Coefficient",
    "FollowEvent",
    "FollowReport",
    "FollowSummary",
    "NotEnoughCoders",
    "Occurrence",
    "RuptureRepair",
    "SessionData",
    "SessionInfo",
    "TrajectoryPoint",
    "Transition",
    "TransitionMatrix",
    "agreement",
    "cohen_kappa",
    "follows",
    "krippendorff_alpha_nominal",
    "rupture_repairs",
    "session_data",
    "trajectory",
    "transition_matrices",
    "unrepaired",
]
