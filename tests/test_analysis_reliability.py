"""Cohen's kappa and Krippendorff's alpha: hand-computed values and reference libraries."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mbtkg.analysis.reliability import (
    alpha_band,
    cohen_kappa,
    kappa_band,
    krippendorff_alpha_nominal,
)

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the nominal example:
# 4 coders, 12 units, missing values; published alpha 0.743.
KRIPPENDORFF_EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_kappa_by_hand() -> None:
    # Observed 5/6; marginals 3/6 and 2/6 yes, so expected 1/2; kappa (5/6 - 1/2) / (1/2) = 2/3.
    result = cohen_kappa([1, 0, 1, 0, 1, 0], [1, 0, 1, 0, 0, 0])
    assert result.observed == pytest.approx(5 / 6)
    assert result.expected == pytest.approx(0.5)
    assert result.value == pytest.approx(2 / 3)
    assert result.n == 6


def test_kappa_undefined_without_variation() -> None:
    result = cohen_kappa(["a", "a", "a"], ["a", "a", "a"])
    assert result.value is None
    assert result.observed == 1.0
    assert result.expected == 1.0


def test_kappa_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="a code per unit"):
        cohen_kappa([1, 0], [1])


def test_alpha_by_hand_three_coders() -> None:
    # Coincidences: o11 = 5, o00 = 9, o10 = o01 = 2 (n = 18); alpha = 1 - (4/18)/(154/306) = 43/77.
    units = [[1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 0], [1, 0, 1], [0, 0, 0]]
    result = krippendorff_alpha_nominal(units)
    assert result.value == pytest.approx(float(Fraction(43, 77)))
    assert result.observed == pytest.approx(1 - 4 / 18)
    assert result.expected == pytest.approx(1 - 154 / 306)


def test_alpha_published_example() -> None:
    units = [list(u) for u in zip(*KRIPPENDORFF_EXAMPLE, strict=True)]
    result = krippendorff_alpha_nominal(units)
    assert result.value == pytest.approx(0.743, abs=5e-4)
    assert result.n == 11  # unit 12 has one code only: not pairable


def test_alpha_matches_krippendorff_library() -> None:
    krippendorff = pytest.importorskip("krippendorff", reason="test extra 'krippendorff' absent")
    numpy = pytest.importorskip("numpy")
    data = numpy.array(
        [[numpy.nan if v is None else v for v in row] for row in KRIPPENDORFF_EXAMPLE]
    )
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    units = [list(u) for u in zip(*KRIPPENDORFF_EXAMPLE, strict=True)]
    assert krippendorff_alpha_nominal(units).value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([1, 0, 1, 0, 1, 0], [1, 0, 1, 0, 0, 0]),
        (list("aabbccabca"), list("abbbccacca")),
        ([0] * 17 + [1] * 3, [0] * 18 + [1, 0]),
    ],
)
def test_kappa_matches_scikit_learn(first: list[object], second: list[object]) -> None:
    metrics = pytest.importorskip("sklearn.metrics", reason="test extra 'scikit-learn' absent")
    assert cohen_kappa(first, second).value == pytest.approx(
        metrics.cohen_kappa_score(first, second)
    )


def test_bands_follow_their_sources() -> None:
    assert [kappa_band(v) for v in (-0.1, 0.0, 0.2, 0.21, 0.4, 0.6, 0.8, 0.81, 1.0)] == [
        "poor",
        "slight",
        "slight",
        "fair",
        "fair",
        "moderate",
        "substantial",
        "almost perfect",
        "almost perfect",
    ]
    assert kappa_band(None) == "undefined"
    assert alpha_band(0.8) == "acceptable (at least 0.800)"
    assert alpha_band(0.7) == "tentative (0.667 to 0.800)"
    assert alpha_band(0.5) == "below 0.667"
