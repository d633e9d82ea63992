"""Inter-rater agreement on turn-level codes, with the report a methods section needs.

The unit is one turn of the transcript, taken from the stretch every compared coder covered
(a coder covers the turns from their first coded turn to their last). Two kinds of code are
compared on each unit:

* per **concept**: 1 when the coder annotated that exact concept on a span including the turn,
  else 0 (every concept any of the coders used on those turns is compared);
* per **family** (prementalizing, mentalizing, intervention, rupture ...): the family's concept
  the coder annotated on the turn, ``none`` when none, and concepts of one family coded together
  on a turn joined with ``+`` into one category.

With two coders the coefficient is Cohen's kappa; with more, Krippendorff's alpha (nominal).
Alpha is computed for two coders as well, for comparison.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..stores.base import Store
from .data import FAMILY_NAMES, Occurrence, SessionData
from .reliability import (
    COHEN_SOURCE,
    FEINSTEIN_SOURCE,
    KRIPPENDORFF_SOURCE,
    LANDIS_KOCH_SOURCE,
    alpha_band,
    cohen_kappa,
    kappa_band,
    krippendorff_alpha_nominal,
)
from .scope import check_annotator, sessions_in_scope

KAPPA, ALPHA = "Cohen's kappa", "Krippendorff's alpha (nominal)"
LEVELS = ("concept", "family")


class NotEnoughCoders(InputError):
    """Agreement needs two or more coders whose coded stretches overlap."""


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code (a concept or a family) over the shared units."""

    level: str
    code: str
    units: int
    #: Per coder, how many units they coded as present (concept) or not ``none`` (family).
    coded_units: tuple[int, ...]
    statistic: str
    value: float | None
    observed: float
    expected: float
    band: str
    kappa: float | None
    alpha: float | None


@dataclass(frozen=True)
class AgreementReport:
    """Agreement of coders on one session: the units, one row per code, and the sources."""

    session: str
    coders: tuple[str, ...]
    first_unit: int
    last_unit: int
    units: int
    statistic: str
    codes: tuple[CodeAgreement, ...]

    @property
    def band_source(self) -> str:
        """The reference the interpretation labels come from."""
        return LANDIS_KOCH_SOURCE if self.statistic == KAPPA else KRIPPENDORFF_SOURCE

    def mean(self, level: str) -> float | None:
        """The unweighted mean coefficient over the codes of a level that have one."""
        values = [c.value for c in self.codes if c.level == level and c.value is not None]
        return sum(values) / len(values) if values else None

    def methods_text(self) -> str:
        """A paragraph describing units, codes and statistic, with references, for a methods section."""
        coders = ", ".join(self.coders[:-1]) + f" and {self.coders[-1]}"
        stat = (
            "Cohen's kappa (Cohen, 1960)"
            if self.statistic == KAPPA
            else "Krippendorff's alpha for nominal data (Krippendorff, 2004)"
        )
        bands = (
            "Values are labelled with the benchmarks of Landis and Koch (1977) (below 0 poor, "
            "0-0.20 slight, 0.21-0.40 fair, 0.41-0.60 moderate, 0.61-0.80 substantial, "
            "0.81-1 almost perfect); these labels are conventions, not statistical tests. "
            "Kappa depends on how often a code occurs: rare codes and few units give unstable "
            "values even when raw agreement is high (Feinstein & Cicchetti, 1990)."
            if self.statistic == KAPPA
            else "Following Krippendorff (2004), alpha of at least 0.800 is conventionally taken "
            "as reliable and 0.667 to 0.800 as sufficient only for tentative conclusions."
        )
        refs = (
            [COHEN_SOURCE, FEINSTEIN_SOURCE, LANDIS_KOCH_SOURCE]
            if self.statistic == KAPPA
            else [KRIPPENDORFF_SOURCE]
        )
        n_concepts = sum(1 for c in self.codes if c.level == "concept")
        n_families = sum(1 for c in self.codes if c.level == "family")
        text = (
            f"Coders {coders} annotated session {self.session} independently. The unit of "
            f"analysis was the transcript turn; agreement was computed on the {self.units} turns "
            f"({self.first_unit}-{self.last_unit}) that all coders covered. For each of "
            f"{n_concepts} concepts, a coder's code for a turn was 1 if the coder annotated the "
            "concept on a span including the turn and 0 otherwise. For each of "
            f"{n_families} concept families, the code was the family's concept annotated on the "
            "turn, or 'none'. Agreement is reported as observed agreement, chance-expected "
            f"agreement and {stat}. {bands}"
        )
        return text + "\n\nReferences\n" + "\n".join(f"- {r}" for r in refs)


def _units(data: SessionData, coders: tuple[str, ...]) -> tuple[int, ...]:
    spans = {c: data.coverage(c) for c in coders}
    first = max(s[0] for s in spans.values() if s)
    last = min(s[1] for s in spans.values() if s)
    units = tuple(t.index for t in data.turns if first <= t.index <= last)
    if not units:
        covered = "; ".join(f"{c} covered turns {s[0]}-{s[1]}" for c, s in spans.items() if s)
        raise NotEnoughCoders(
            f"session {data.info.id!r}: the coders' stretches do not overlap ({covered}); "
            "agreement needs turns that every compared coder covered"
        )
    return units


def _coefficient(
    level: str, code: str, table: Sequence[Sequence[Hashable]], absent: Hashable
) -> CodeAgreement:
    """Agreement on one code; ``table[u][c]`` is coder c's code for unit u."""
    n_coders = len(table[0])
    alpha = krippendorff_alpha_nominal(table)
    kappa = cohen_kappa([r[0] for r in table], [r[1] for r in table]) if n_coders == 2 else None
    main = kappa if kappa is not None else alpha
    return CodeAgreement(
        level=level,
        code=code,
        units=len(table),
        coded_units=tuple(sum(1 for r in table if r[c] != absent) for c in range(n_coders)),
        statistic=KAPPA if kappa is not None else ALPHA,
        value=main.value,
        observed=main.observed,
        expected=main.expected,
        band=kappa_band(main.value) if kappa is not None else alpha_band(main.value),
        kappa=kappa.value if kappa is not None else None,
        alpha=alpha.value,
    )


def _family_code(occurrences: list[Occurrence], family: str, unit: int) -> str:
    labels = sorted({o.label for o in occurrences if o.family == family and o.covers(unit)})
    return "+".join(labels) if labels else "none"


def session_agreement(data: SessionData, *, coders: Sequence[str] | None = None) -> AgreementReport:
    """Agreement of the coders of one session's data (all its coders unless named).

    Raises NotEnoughCoders when fewer than two coders coded the session or their stretches
    do not overlap, and UnknownNameError for a coder who coded nothing in the session.
    """
    known = data.annotators
    for c in coders or ():
        check_annotator(c, known, f"session {data.info.id}")
    chosen = tuple(dict.fromkeys(coders)) if coders else known
    if len(chosen) < 2 and coders:
        raise NotEnoughCoders(
            f"agreement compares two or more coders, but only {', '.join(chosen)} was chosen "
            f"(coders of session {data.info.id!r}: {', '.join(known)})"
        )
    if len(chosen) < 2:
        who = f" ({chosen[0]})" if chosen else ""
        raise NotEnoughCoders(
            f"session {data.info.id!r} was coded by {'one annotator' if chosen else 'no annotator'}"
            f"{who} only; inter-rater agreement needs at least two coders who coded the same turns"
        )
    units = _units(data, chosen)
    mine = {c: list(data.by_annotator(c)) for c in chosen}
    on_units = [o for c in chosen for o in mine[c] if o.start <= units[-1] and o.end >= units[0]]
    rows: list[CodeAgreement] = []
    for label in sorted({o.label for o in on_units}):
        table = [
            [int(any(o.label == label and o.covers(u) for o in mine[c])) for c in chosen]
            for u in units
        ]
        rows.append(_coefficient("concept", label, table, 0))
    for family in FAMILY_NAMES:
        if not any(o.family == family for o in on_units):
            continue
        table_f = [[_family_code(mine[c], family, u) for c in chosen] for u in units]
        rows.append(_coefficient("family", family, table_f, "none"))
    return AgreementReport(
        session=data.info.id,
        coders=chosen,
        first_unit=units[0],
        last_unit=units[-1],
        units=len(units),
        statistic=KAPPA if len(chosen) == 2 else ALPHA,
        codes=tuple(rows),
    )


def agreement(
    store: Store, session: str, *, coders: Sequence[str] | None = None
) -> AgreementReport:
    """Inter-rater agreement per concept and per family on one session of a store."""
    data = next(iter(sessions_in_scope(store, session=session)))
    return session_agreement(data, coders=coders)


def unit_codes(
    data: SessionData, concept_label: str, *, coders: Sequence[str]
) -> tuple[tuple[int, ...], list[list[int]]]:
    """The units and each coder's binary code for one concept (for checking by hand)."""
    units = _units(data, tuple(coders))
    table = [
        [
            int(any(o.label == concept_label and o.covers(u) for o in data.by_annotator(c)))
            for c in coders
        ]
        for u in units
    ]
    return units, table
