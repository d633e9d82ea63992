"""A patient's trajectory across sessions, read from a store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from analysis_stores import analysis_store, store_selector
from click.testing import CliRunner

from mbtkg.analysis import trajectory
from mbtkg.cli import main
from mbtkg.errors import UnknownNameError
from mbtkg.stores import Store


@pytest.fixture()
def store() -> Iterator[Store]:
    with analysis_store() as opened:
        yield opened


def test_series_in_session_order(store: Store) -> None:
    first, second = trajectory(store, "P-x")
    assert (first.session, first.number, first.date) == ("tiny-01", 1, dt.date(2025, 1, 6))
    # tiny-01, coded turns 2-8: patient turns 2, 4, 6, 8; PE on 2 and TM on 4; EM on 6.
    assert (first.patient_turns, first.prementalizing_turns, first.effective_mentalizing_turns) == (
        4,
        2,
        1,
    )
    assert first.prementalizing_share == pytest.approx(0.5)
    assert first.effective_mentalizing_share == pytest.approx(0.25)
    assert (first.ruptures, first.trust_markers) == (1, 0)
    # tiny-02, coded turns 2-6: patient turns 2, 4, 6; PE on 2; EM on 4-6; trust on 6.
    assert second.session == "tiny-02"
    assert second.prementalizing_share == pytest.approx(1 / 3)
    assert second.effective_mentalizing_share == pytest.approx(2 / 3)
    assert (second.ruptures, second.trust_markers) == (1, 1)


def test_each_coder_counts_over_their_own_stretch(store: Store) -> None:
    a1, a2 = trajectory(store, "P-susan")
    assert (a1.annotator, a1.patient_turns, a1.prementalizing_turns, a1.trust_markers) == (
        "A-1",
        24,
        3,
        2,
    )
    # A-2 coded turns 16-35: ten patient turns, psychic equivalence on 18, two ruptures.
    assert (a2.annotator, a2.patient_turns, a2.prementalizing_turns, a2.ruptures) == (
        "A-2",
        10,
        1,
        2,
    )
    assert [p.annotator for p in trajectory(store, "P-susan", annotator="A-2")] == ["A-2"]


def test_unknown_patient_lists_the_known(store: Store) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'P-x'"):
        trajectory(store, "P-xx")


def test_cli_trajectory_csv() -> None:
    result = CliRunner().invoke(
        main, ["analyze", "trajectory", "P-x", "--format", "csv", "--store", store_selector()]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "P-x,tiny-01,1,2025-01-06,C-1,4,2,0.5,1,0.25,1,0",
        "P-x,tiny-02,2,2025-01-13,C-1,3,1,0.3333,2,0.6667,1,1",
    ]
