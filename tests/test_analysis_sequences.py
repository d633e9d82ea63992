"""Transitions, rupture-to-repair latency and what follows interventions, read from a store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from analysis_stores import analysis_store, store_selector
from click.testing import CliRunner

from mbtkg.analysis import follows, rupture_repairs, transition_matrices, unrepaired
from mbtkg.analysis.transitions import state_sequence
from mbtkg.cli import main
from mbtkg.errors import InputError, UnknownNameError
from mbtkg.stores import Store


@pytest.fixture()
def store() -> Iterator[Store]:
    with analysis_store() as opened:
        yield opened


def test_susan_transitions_per_coder(store: Store) -> None:
    a1, a2 = transition_matrices(store, session="susan-12")
    assert (a1.annotator, a2.annotator) == ("A-1", "A-2")
    # teleological (6-8) -> psychic equivalence (18) -> mentalizing (36) -> effective (38, 42-44).
    assert [(t.source, t.target, t.count) for t in a1.transitions()] == [
        ("psychic equivalence", "mentalizing", 1),
        ("teleological mode", "psychic equivalence", 1),
        ("mentalizing", "effective mentalizing", 1),
    ]
    assert a1.states == (
        "psychic equivalence",
        "teleological mode",
        "effective mentalizing",
        "mentalizing",
    )
    assert a1.families == ("prementalizing", "prementalizing", "mentalizing", "mentalizing")
    assert a1.visits == (1, 1, 1, 1)  # the two effective-mentalizing codes in a row merge
    assert a2.total == 0  # A-2 coded psychic equivalence only


def test_patient_transitions_are_summed_within_sessions_only(store: Store) -> None:
    (matrix,) = transition_matrices(store, patient="P-x")
    assert matrix.sessions == ("tiny-01", "tiny-02")
    # tiny-01: PE -> TM -> EM; tiny-02: PE -> EM. The EM ending tiny-01 does not lead into the PE
    # opening tiny-02.
    assert matrix.count("psychic equivalence", "teleological mode") == 1
    assert matrix.count("teleological mode", "effective mentalizing") == 1
    assert matrix.count("psychic equivalence", "effective mentalizing") == 1
    assert matrix.count("effective mentalizing", "psychic equivalence") == 0
    assert matrix.total == 3
    shares = {(t.source, t.target): t.share for t in matrix.transitions()}
    assert shares[("psychic equivalence", "teleological mode")] == pytest.approx(0.5)


def test_state_sequence_of_nothing_is_empty() -> None:
    assert state_sequence(()) == ()


def test_transitions_unknown_names(store: Store) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'susan-12'"):
        transition_matrices(store, session="susan-21")
    with pytest.raises(UnknownNameError, match="known patients: P-susan, P-x, P-y"):
        transition_matrices(store, patient="P-z")
    with pytest.raises(UnknownNameError, match="annotator 'A-9'"):
        transition_matrices(store, session="susan-12", annotator="A-9")


def test_susan_rupture_latencies(store: Store) -> None:
    found = rupture_repairs(store, session="susan-12")
    assert [
        (r.annotator, r.rupture, r.kind, r.repair, r.turns_to_repair_start, r.turns_to_repair_end)
        for r in found
    ] == [
        ("A-1", "a13", "withdrawal rupture", "a15", 1, 7),
        ("A-2", "b3", "withdrawal rupture", "b5", 1, 5),
        ("A-2", "b7", "confrontation rupture", None, None, None),
    ]
    assert [r.rupture for r in unrepaired(found)] == ["b7"]
    assert [r.rupture for r in rupture_repairs(store, session="susan-12", annotator="A-1")] == [
        "a13"
    ]


def test_patient_rupture_latencies(store: Store) -> None:
    found = rupture_repairs(store, patient="P-x")
    assert [(r.session, r.rupture, r.repaired, r.turns_to_repair_end) for r in found] == [
        ("tiny-01", "t6", False, None),
        ("tiny-02", "u2", True, 3),
    ]


def test_follows_within_k_turns(store: Store) -> None:
    report = follows(store, session="tiny-01", k=2)
    # EV on turn 3 -> TM (4), CL (5); CL on turn 5 -> EM (6); turn 8 is 3 turns after CL.
    assert [(e.intervention, e.follower, e.distance) for e in report.events] == [
        ("t2", "t3", 1),
        ("t2", "t4", 2),
        ("t4", "t5", 1),
    ]
    assert [
        (s.intervention_type, s.follower_concept, s.followed, s.share) for s in report.summary
    ] == [
        ("clarification", "effective mentalizing", 1, 1.0),
        ("empathic validation", "clarification", 1, 1.0),
        ("empathic validation", "teleological mode", 1, 1.0),
    ]
    wider = follows(store, session="tiny-01", k=3, families=("rupture",))
    assert [(e.intervention, e.follower) for e in wider.events] == [("t4", "t6")]


def test_follows_summary_shares_over_a_type(store: Store) -> None:
    report = follows(store, session="susan-12", k=2, annotator="A-1", families=("trust",))
    # Five empathic validations by A-1 (turns 7, 17, 25, 35, 39); only the one on turn 39 has
    # trust (turn 40) within 2 turns.
    assert [(s.intervention_type, s.interventions, s.followed) for s in report.summary] == [
        ("empathic validation", 5, 1)
    ]


def test_follows_rejects_bad_window_and_family(store: Store) -> None:
    with pytest.raises(InputError, match="at least 1, found 0"):
        follows(store, k=0)
    with pytest.raises(InputError, match="unknown concept family 'modes'"):
        follows(store, families=("modes",))


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["analyze", *args, "--store", store_selector()])
    return result.exit_code, result.output


def test_cli_ruptures_unrepaired_csv() -> None:
    code, out = _cli("ruptures", "--session", "susan-12", "--unrepaired", "--format", "csv")
    assert code == 0, out
    assert out.splitlines() == [
        "session,annotator,rupture,kind,rupture_start,rupture_end,repair,repair_start,"
        "repair_end,turns_to_repair_start,turns_to_repair_end",
        "susan-12,A-2,b7,confrontation rupture,24,24,,,,,",
    ]


def test_cli_transitions_matrix_json() -> None:
    import json

    code, out = _cli("transitions", "--patient", "P-x", "--layout", "matrix", "--format", "json")
    assert code == 0, out
    rows = json.loads(out)
    pe = next(r for r in rows if r["from"] == "psychic equivalence")
    assert pe == {
        "annotator": "C-1",
        "from": "psychic equivalence",
        "psychic equivalence": 0,
        "teleological mode": 1,
        "effective mentalizing": 1,
    }


def test_cli_follows_table_and_unknown_session() -> None:
    code, out = _cli("follows", "--session", "tiny-01", "-k", "2")
    assert code == 0, out
    assert "empathic validation  1              teleological mode      1         1.0" in out
    code, out = _cli("follows", "--session", "tiny-1")
    assert code == 2
    assert "no session 'tiny-1' in the store; did you mean" in out
