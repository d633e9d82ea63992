"""The bundled example corpus: it validates, and it holds every situation the queries ask about.

These checks read the session files through the session model only (no SPARQL), so they are an
independent witness for the competency-query goldens in tests/test_queries_corpus.py.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from mbtkg import vocab
from mbtkg.concepts import default_index
from mbtkg.loading import session_ids
from mbtkg.resources import example_sessions
from mbtkg.sessions import read_session
from mbtkg.sessions.model import Annotation, Session
from mbtkg.stores import Store

EXPECTED = {"susan-12", "jonas-03", "jonas-07", "jonas-11", "mbtg-04", "noor-02"}
INDEX = default_index()


def iri(local: str) -> str:
    return vocab.MBT + local


def is_a(annotation: Annotation, local: str) -> bool:
    """Whether the annotation's concept is the class ``mbt:local`` or below it."""
    concept = annotation.concept_iri
    return concept is not None and (concept == iri(local) or iri(local) in INDEX.ancestors(concept))


def covers(annotation: Annotation, turn: int) -> bool:
    assert annotation.start is not None and annotation.end is not None
    return annotation.start <= turn <= annotation.end


def repaired(session: Session) -> set[str]:
    return {r.target for a in session.annotations for r in a.relations if r.name == "repairs"}


@pytest.fixture(scope="module")
def sessions() -> dict[str, Session]:
    return {s.id: s for s in (read_session(p) for p in example_sessions())}


def test_the_corpus_has_the_six_sessions(sessions: dict[str, Session]) -> None:
    assert len(example_sessions()) == len(EXPECTED)
    assert set(sessions) == EXPECTED


def test_every_example_session_reads_and_conforms(example_store: Store) -> None:
    """The shared store was filled by ``load``, which validates and refuses any bad file."""
    assert set(session_ids(example_store)) == EXPECTED


@pytest.mark.parametrize("path", example_sessions(), ids=lambda p: p.stem)
def test_each_file_is_marked_as_fiction_and_is_session_sized(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith(
        "# Fictional session written for mbtkg. Not real patient material."
    )
    session = read_session(path)
    assert session.id == path.stem
    assert 25 <= len(session.turns) <= 50
    assert all(p.id.startswith(("P-", "T-")) for p in session.participants)


def test_a_group_session_with_several_patients_and_two_therapists(
    sessions: dict[str, Session],
) -> None:
    groups = [s for s in sessions.values() if s.setting == "group"]
    assert [s.id for s in groups] == ["mbtg-04"]
    roles = defaultdict(set)
    for p in groups[0].participants:
        roles[p.role].add(p.id)
    assert roles["patient"] == {"P-dana", "P-omar", "P-lena"}
    assert roles["therapist"] == {"T-3", "T-4"}
    speakers = {t.speaker for t in groups[0].turns}
    assert speakers == roles["patient"] | roles["therapist"]


def test_one_session_coded_twice_independently_with_partial_disagreement(
    sessions: dict[str, Session],
) -> None:
    noor = sessions["noor-02"]
    by_coder: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for a in noor.annotations:
        if is_a(a, "Intervention"):
            assert a.annotator is not None and a.start is not None and a.end is not None
            for turn in range(a.start, a.end + 1):
                by_coder[a.annotator][turn].add(str(a.concept_name))
    assert set(by_coder) == {"A-3", "A-4"}
    both = set(by_coder["A-3"]) & set(by_coder["A-4"])
    agree = {t for t in both if by_coder["A-3"][t] == by_coder["A-4"][t]}
    disagree = both - agree
    # Each coder covered the whole session, and they agree on some turns but not on others.
    assert min(by_coder["A-3"]) <= 5 and max(by_coder["A-3"]) >= 23
    assert min(by_coder["A-4"]) <= 5 and max(by_coder["A-4"]) >= 23
    assert agree == {3, 7, 15, 19, 21}
    assert disagree == {5, 9, 11, 23}


def _prementalizing_share(session: Session, patient: str) -> float:
    turns = [t.id for t in session.turns if t.speaker == patient]
    modes = [a for a in session.annotations if is_a(a, "PrementalizingMode")]
    covered = {t for t in turns if any(covers(a, t) for a in modes)}
    return len(covered) / len(turns)


def test_a_patient_series_of_three_sessions_with_falling_prementalizing_share(
    sessions: dict[str, Session],
) -> None:
    series = sorted(
        (s for s in sessions.values() if any(p.id == "P-jonas" for p in s.participants)),
        key=lambda s: (s.date, s.number),
    )
    assert [s.id for s in series] == ["jonas-03", "jonas-07", "jonas-11"]
    shares = [_prementalizing_share(s, "P-jonas") for s in series]
    assert shares == [5 / 15, 3 / 15, 1 / 15]


def test_ruptures_of_both_kinds_repaired_and_one_never_repaired(
    sessions: dict[str, Session],
) -> None:
    kinds_repaired: set[str] = set()
    never: list[tuple[str, str]] = []
    for s in sessions.values():
        fixed = repaired(s)
        for a in s.annotations:
            if is_a(a, "Rupture"):
                if a.id in fixed:
                    kinds_repaired.add(str(a.concept_name))
                else:
                    never.append((s.id, a.id))
    assert kinds_repaired == {"withdrawal rupture", "confrontation rupture"}
    assert sorted(never) == [("mbtg-04", "g17"), ("susan-12", "b7")]


def test_a_challenge_during_high_arousal_followed_by_loss_of_mentalizing(
    sessions: dict[str, Session],
) -> None:
    found = []
    for s in sessions.values():
        for c in (a for a in s.annotations if is_a(a, "Challenge")):
            assert c.start is not None and c.end is not None
            aroused = any(
                is_a(a, "HighArousal") and a.annotator == c.annotator and covers(a, c.start - 1)
                for a in s.annotations
            )
            lost = any(
                is_a(a, "LossOfMentalizing")
                and a.annotator == c.annotator
                and a.start is not None
                and c.end < a.start <= c.end + 3
                for a in s.annotations
            )
            if aroused and lost:
                found.append((s.id, c.start))
    assert found == [("jonas-03", 11), ("mbtg-04", 13)]


def test_trust_after_validation_and_we_ness_in_some_sessions_only(
    sessions: dict[str, Session],
) -> None:
    with_trust_after_validation = set()
    with_we_ness = set()
    for s in sessions.values():
        for v in (a for a in s.annotations if is_a(a, "EmpathicValidation")):
            assert v.start is not None and v.end is not None
            if any(
                is_a(t, "EpistemicTrust")
                and t.annotator == v.annotator
                and t.start is not None
                and v.start < t.start <= v.end + 2
                for t in s.annotations
            ):
                with_trust_after_validation.add(s.id)
        if any(is_a(a, "WeNess") for a in s.annotations):
            with_we_ness.add(s.id)
    assert with_trust_after_validation == {"susan-12", "jonas-07", "jonas-11", "noor-02"}
    assert with_we_ness == {"susan-12", "jonas-11", "noor-02"}
    assert with_we_ness < set(sessions)
