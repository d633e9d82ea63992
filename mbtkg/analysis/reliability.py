"""Chance-corrected agreement statistics for nominal codes: Cohen's kappa and Krippendorff's alpha.

Small, dependency-free implementations written to be read next to their definitions:

* Cohen's kappa (Cohen 1960) for two coders who coded the same units:
  ``kappa = (p_o - p_e) / (1 - p_e)``, with ``p_o`` the share of units coded alike and ``p_e``
  the agreement expected from each coder's own category frequencies.
* Krippendorff's alpha for nominal data (Krippendorff 2004, ch. 11), any number of coders,
  missing values allowed: ``alpha = 1 - D_o / D_e`` from the coincidence matrix of values that
  were paired within units.

Both return None for the statistic when it is undefined (every code identical, so no variation
to agree about), and always return the observed and expected agreement.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Coefficient:
    """A chance-corrected agreement value with the parts it is made of.

    ``observed`` and ``expected`` are agreement proportions (for alpha: ``1 - D_o`` and
    ``1 - D_e``); ``value`` is None when the coefficient is undefined; ``n`` is the number of
    units that entered the computation.
    """

    value: float | None
    observed: float
    expected: float
    n: int


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> Coefficient:
    """Cohen's kappa of two coders' codes for the same units (in the same order).

    >>> cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]).value
    0.5
    """
    if len(first) != len(second):
        raise ValueError(f"both coders need a code per unit: {len(first)} vs {len(second)} codes")
    n = len(first)
    if n == 0:
        raise ValueError("no units to compare")
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    count_a, count_b = Counter(first), Counter(second)
    expected = sum(count_a[c] * count_b[c] for c in count_a) / (n * n)
    value = None if expected == 1 else (observed - expected) / (1 - expected)
    return Coefficient(value, observed, expected, n)


def krippendorff_alpha_nominal(units: Sequence[Sequence[Hashable | None]]) -> Coefficient:
    """Krippendorff's alpha for nominal codes; ``units[u]`` holds each coder's code or None.

    Units with fewer than two codes are not pairable and are left out.

    >>> round(krippendorff_alpha_nominal([[1, 1], [0, 0], [1, 0], [0, 0]]).value, 4)
    0.5333
    """
    coincidence: defaultdict[tuple[Hashable, Hashable], float] = defaultdict(float)
    pairable = 0
    for unit in units:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        pairable += 1
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    coincidence[(c, k)] += 1 / (m - 1)
    if not pairable:
        raise ValueError("no unit has codes from two or more coders")
    marginal: defaultdict[Hashable, float] = defaultdict(float)
    for (c, _), weight in coincidence.items():
        marginal[c] += weight
    total = sum(marginal.values())
    disagree_observed = sum(w for (c, k), w in coincidence.items() if c != k) / total
    disagree_expected = sum(
        marginal[c] * marginal[k] for c in marginal for k in marginal if c != k
    ) / (total * (total - 1))
    value = None if disagree_expected == 0 else 1 - disagree_observed / disagree_expected
    return Coefficient(value, 1 - disagree_observed, 1 - disagree_expected, pairable)


#: Landis & Koch (1977) proposed labels for ranges of kappa; upper bounds inclusive.
LANDIS_KOCH: tuple[tuple[float, str], ...] = (
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
)
LANDIS_KOCH_SOURCE = (
    "Landis, J. R., & Koch, G. G. (1977). The measurement of observer agreement for "
    "categorical data. Biometrics, 33(1), 159-174."
)
KRIPPENDORFF_SOURCE = (
    "Krippendorff, K. (2004). Content analysis: An introduction to its methodology (2nd ed.). Sage."
)
COHEN_SOURCE = (
    "Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and "
    "Psychological Measurement, 20(1), 37-46."
)
FEINSTEIN_SOURCE = (
    "Feinstein, A. R., & Cicchetti, D. V. (1990). High agreement but low kappa: I. The "
    "problems of two paradoxes. Journal of Clinical Epidemiology, 43(6), 543-549."
)


def kappa_band(value: float | None) -> str:
    """The Landis & Koch (1977) label for a kappa value (a convention, not a test).

    >>> kappa_band(0.46)
    'moderate'
    """
    if value is None:
        return "undefined"
    if value < 0:
        return "poor"
    return next(label for bound, label in LANDIS_KOCH[1:] if value <= bound + 1e-12)


def alpha_band(value: float | None) -> str:
    """Krippendorff's (2004) conventional reading of alpha: 0.800 and 0.667 as cut-offs.

    >>> alpha_band(0.7)
    'tentative (0.667 to 0.800)'
    """
    if value is None:
        return "undefined"
    if value >= 0.800:
        return "acceptable (at least 0.800)"
    if value >= 0.667:
        return "tentative (0.667 to 0.800)"
    return "below 0.667"
