"""Mode-transition matrices: how a patient moves between prementalizing modes and mentalizing.

The states are the concepts of two families of the ontology: the prementalizing modes
(psychic equivalence, teleological, pretend ...) and the forms of mentalizing (effective
mentalizing, and plain "mentalizing" when a coder used the general class). For each coder, the
occurrences of these states are put in turn order (by first turn, then last turn); repeats of
the same state in a row are merged into one stay; each change from one state to the next is a
transition. Transitions are counted within a session only, never across the gap between two
sessions, and summed over a patient's sessions. Coders are never mixed: one matrix per coder.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..stores.base import Store
from .data import PATIENT, Occurrence, SessionData
from .scope import check_annotator, describe_scope, sessions_in_scope

#: The concept families whose concepts are states of the transition matrix.
STATE_FAMILIES = ("prementalizing", "mentalizing")


@dataclass(frozen=True)
class Transition:
    """One cell of a matrix: how often ``source`` was followed by ``target``."""

    source: str
    target: str
    count: int
    #: ``count`` divided by all transitions out of ``source`` (0.0 when there are none).
    share: float


@dataclass(frozen=True)
class TransitionMatrix:
    """A coder's transitions between states over one session or one patient's sessions.

    ``states`` are concept labels, prementalizing modes first; ``counts[i][j]`` is how often
    state ``i`` was followed by state ``j``; ``visits[i]`` is how many stays state ``i`` had.
    """

    scope: str
    annotator: str
    sessions: tuple[str, ...]
    states: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    visits: tuple[int, ...]
    #: The family of each state: ``prementalizing`` or ``mentalizing``.
    families: tuple[str, ...] = ()

    def count(self, source: str, target: str) -> int:
        """How often ``source`` was followed by ``target`` (0 for unknown states)."""
        if source not in self.states or target not in self.states:
            return 0
        return self.counts[self.states.index(source)][self.states.index(target)]

    @property
    def total(self) -> int:
        """The number of transitions in the matrix."""
        return sum(map(sum, self.counts))

    def transitions(self, *, include_zero: bool = False) -> tuple[Transition, ...]:
        """The cells as records (non-zero cells only unless asked), row by row."""
        out: list[Transition] = []
        for i, source in enumerate(self.states):
            row_total = sum(self.counts[i])
            for j, target in enumerate(self.states):
                n = self.counts[i][j]
                if n or include_zero:
                    out.append(Transition(source, target, n, n / row_total if row_total else 0.0))
        return tuple(out)


def state_sequence(occurrences: tuple[Occurrence, ...]) -> tuple[str, ...]:
    """The states of one coder's occurrences in turn order, with repeats in a row merged.

    >>> state_sequence(())
    ()
    """
    ordered = sorted(
        (o for o in occurrences if o.family in STATE_FAMILIES),
        key=lambda o: (o.start, o.end, o.annotation),
    )
    seq: list[str] = []
    for o in ordered:
        if not seq or seq[-1] != o.label:
            seq.append(o.label)
    return tuple(seq)


def _patient_occurrences(data: SessionData, patient: str | None) -> tuple[Occurrence, ...]:
    """Occurrences on turns of the patient (all patients' turns when ``patient`` is None)."""
    turns = {
        t.index
        for t in data.turns
        if (t.speaker == patient if patient is not None else t.role == PATIENT)
    }
    if not turns:  # a session without roles: keep every occurrence
        return data.occurrences
    return tuple(o for o in data.occurrences if any(o.covers(t) for t in turns))


def transition_matrices(
    store: Store,
    *,
    session: str | None = None,
    patient: str | None = None,
    annotator: str | None = None,
) -> tuple[TransitionMatrix, ...]:
    """One transition matrix per coder, for a session, a patient's sessions, or both.

    Only occurrences that touch the patient's turns count (in a group session the patient
    named by ``patient``; otherwise any patient). Raises UnknownNameError for an unknown
    session, patient or annotator.
    """
    sequences: dict[str, list[tuple[str, ...]]] = {}
    sessions_of: dict[str, list[str]] = {}
    family: dict[str, str] = {}
    for data in sessions_in_scope(store, session=session, patient=patient):
        occurrences = _patient_occurrences(data, patient)
        for coder in sorted({o.annotator for o in occurrences}):
            seq = state_sequence(tuple(o for o in occurrences if o.annotator == coder))
            sequences.setdefault(coder, []).append(seq)
            sessions_of.setdefault(coder, []).append(data.info.id)
        family.update((o.label, o.family) for o in occurrences)
    scope = describe_scope(session, patient)
    if annotator is not None:
        check_annotator(annotator, set(sequences), scope)
        sequences = {annotator: sequences[annotator]}
    seen = {s for seqs in sequences.values() for seq in seqs for s in seq}
    states_order = tuple(
        sorted(seen, key=lambda s: (STATE_FAMILIES.index(family.get(s, "mentalizing")), s))
    )
    result: list[TransitionMatrix] = []
    for coder, seqs in sorted(sequences.items()):
        pairs: Counter[tuple[str, str]] = Counter()
        visits: Counter[str] = Counter()
        for seq in seqs:
            visits.update(seq)
            pairs.update(zip(seq, seq[1:], strict=False))
        result.append(
            TransitionMatrix(
                scope=scope,
                annotator=coder,
                sessions=tuple(sessions_of[coder]),
                states=states_order,
                counts=tuple(tuple(pairs[(a, b)] for b in states_order) for a in states_order),
                visits=tuple(visits[s] for s in states_order),
                families=tuple(family.get(s, "mentalizing") for s in states_order),
            )
        )
    return tuple(result)
