"""Inter-rater agreement from a store: units, codes, coefficients, report and errors."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest
from analysis_stores import analysis_store, store_selector
from click.testing import CliRunner

from mbtkg.analysis import (
    AgreementReport,
    CodeAgreement,
    NotEnoughCoders,
    agreement,
    session_data,
)
from mbtkg.analysis.agreement import ALPHA, KAPPA, unit_codes
from mbtkg.cli import main
from mbtkg.errors import UnknownNameError
from mbtkg.stores import Store


@pytest.fixture()
def store() -> Iterator[Store]:
    with analysis_store() as opened:
        yield opened


def _code(report: AgreementReport, level: str, code: str) -> CodeAgreement:
    return next(c for c in report.codes if c.level == level and c.code == code)


def test_susan_units_are_the_turns_both_coders_covered(store: Store) -> None:
    report = agreement(store, "susan-12")
    assert report.coders == ("A-1", "A-2")
    assert (report.first_unit, report.last_unit, report.units) == (16, 35, 20)
    assert report.statistic == KAPPA


def test_susan_withdrawal_rupture_kappa_by_hand(store: Store) -> None:
    # A-1 codes turns 20-22, A-2 turn 20 only: observed 18/20, expected (3*1 + 17*19)/400,
    # kappa = (0.9 - 0.815) / (1 - 0.815) = 17/37.
    row = _code(agreement(store, "susan-12"), "concept", "withdrawal rupture")
    assert row.observed == pytest.approx(0.9)
    assert row.expected == pytest.approx(0.815)
    assert row.value == pytest.approx(float(Fraction(17, 37)))
    assert row.band == "moderate"
    assert row.coded_units == (3, 1)


def test_susan_codes_only_one_coder_used_have_kappa_zero(store: Store) -> None:
    report = agreement(store, "susan-12")
    row = _code(report, "concept", "confrontation rupture")  # A-2 only, on turn 24
    assert row.coded_units == (0, 1)
    assert row.value == pytest.approx(0.0)
    assert {c.code for c in report.codes if c.level == "concept"} >= {
        "psychic equivalence",
        "repair",
        "stop-rewind-explore",
        "affect elaboration",
        "clarification",
    }
    assert _code(report, "concept", "psychic equivalence").value == pytest.approx(1.0)


def test_susan_every_concept_matches_scikit_learn(store: Store) -> None:
    metrics = pytest.importorskip("sklearn.metrics", reason="test extra 'scikit-learn' absent")
    data = session_data(store, "susan-12")
    report = agreement(store, "susan-12")
    for row in (c for c in report.codes if c.level == "concept"):
        _, table = unit_codes(data, row.code, coders=("A-1", "A-2"))
        first, second = [r[0] for r in table], [r[1] for r in table]
        assert row.value == pytest.approx(metrics.cohen_kappa_score(first, second)), row.code


def test_three_coders_use_alpha_by_hand(store: Store) -> None:
    report = agreement(store, "three-coders")
    assert report.statistic == ALPHA
    assert (report.first_unit, report.last_unit, report.units) == (1, 6, 6)
    ev = _code(report, "concept", "empathic validation")
    assert ev.statistic == ALPHA
    assert ev.kappa is None
    assert ev.value == pytest.approx(float(Fraction(43, 77)))
    # Family codes: turn 5 is 'empathic validation' / 'none' / 'clarification+empathic
    # validation'; by hand alpha = 1 - (5/18) / (166/306) = 81/166.
    family = _code(report, "family", "intervention")
    assert family.value == pytest.approx(float(Fraction(81, 166)))
    assert _code(report, "concept", "high arousal").value == pytest.approx(1.0)


def test_three_coders_match_krippendorff_library(store: Store) -> None:
    krippendorff = pytest.importorskip("krippendorff", reason="test extra 'krippendorff' absent")
    data = session_data(store, "three-coders")
    _, table = unit_codes(data, "empathic validation", coders=("K-1", "K-2", "K-3"))
    expected = krippendorff.alpha(
        reliability_data=[list(c) for c in zip(*table, strict=True)],
        level_of_measurement="nominal",
    )
    row = _code(agreement(store, "three-coders"), "concept", "empathic validation")
    assert row.value == pytest.approx(expected)


def test_two_of_three_coders_use_kappa_by_hand(store: Store) -> None:
    report = agreement(store, "three-coders", coders=["K-1", "K-2"])
    assert report.statistic == KAPPA
    assert _code(report, "concept", "empathic validation").value == pytest.approx(2 / 3)


def test_single_coder_session_says_so(store: Store) -> None:
    with pytest.raises(NotEnoughCoders, match=r"'tiny-01' was coded by one annotator \(C-1\) only"):
        agreement(store, "tiny-01")


def test_one_chosen_coder_says_so(store: Store) -> None:
    with pytest.raises(NotEnoughCoders, match="only A-1 was chosen"):
        agreement(store, "susan-12", coders=["A-1"])


def test_unknown_coder_is_named_with_a_suggestion(store: Store) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'A-2'"):
        agreement(store, "susan-12", coders=["A-1", "A-3"])


def test_methods_text_names_units_statistic_and_sources(store: Store) -> None:
    text = agreement(store, "susan-12").methods_text()
    assert "20 turns (16-35)" in text
    assert "Cohen's kappa (Cohen, 1960)" in text
    assert "Landis, J. R., & Koch, G. G. (1977)" in text
    assert "conventions, not statistical tests" in text
    alpha_text = agreement(store, "three-coders").methods_text()
    assert "Krippendorff, K. (2004)" in alpha_text


def test_cli_single_coder_exits_2() -> None:
    result = CliRunner().invoke(
        main, ["analyze", "agreement", "tiny-01", "--store", store_selector()]
    )
    assert result.exit_code == 2
    assert "coded by one annotator (C-1) only" in result.output


def test_cli_agreement_csv_row() -> None:
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "agreement",
            "three-coders",
            "--level",
            "concept",
            "--format",
            "csv",
            "--store",
            store_selector(),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "level,code,units,coded_units,observed,expected,statistic,value,band,alpha"
    assert (
        "concept,empathic validation,6,3 2 2,0.7778,0.4967,Krippendorff's alpha (nominal),"
        "0.5584,below 0.667,0.5584" in lines
    )
