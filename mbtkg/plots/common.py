"""What every picture shares: importing matplotlib (an optional extra), colours, saving files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InputError, MissingExtraError

FORMATS = ("png", "svg")

#: One colour family per concept family, so a picture reads at a glance (colour-blind-safe
#: hues after Okabe & Ito; the shades tell concepts of one family apart).
FAMILY_COLOURS: dict[str, tuple[str, ...]] = {
    "prementalizing": ("#D55E00", "#E69F00", "#B8860B", "#F4A582"),
    "mentalizing": ("#009E73", "#66C2A5", "#1B7837"),
    "intervention": ("#0072B2", "#56B4E9", "#2166AC", "#6BAED6", "#08519C", "#9ECAE1", "#3182BD"),
    "stance": ("#4D4D9F", "#8C8CD9"),
    "rupture": ("#CC0033", "#E7298A"),
    "repair": ("#33A02C", "#B2DF8A"),
    "trust": ("#C9A100", "#8C6D00"),
    "we-ness": ("#17BECF",),
    "other": ("#7F7F7F", "#A6A6A6", "#525252", "#BDBDBD", "#969696", "#636363"),
}
ROLE_COLOURS = {"patient": "#CC79A7", "therapist": "#555555", None: "#AAAAAA"}


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed).

    Raises MissingExtraError with the install command when matplotlib is absent.
    """
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError(
            "drawing pictures needs matplotlib, which is not installed; "
            "install it with: pip install 'mbtkg[plots]'"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def output_format(path: str | Path) -> str:
    """The picture format a file name asks for (``.png`` or ``.svg``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InputError(
            f"cannot tell the picture format of {str(path)!r}: the name must end in "
            f"{' or '.join('.' + f for f in FORMATS)}, found {('.' + suffix) if suffix else 'no suffix'}"
        )
    return suffix


@contextmanager
def picture_style() -> Iterator[None]:
    """Settings for every picture: text kept as text in SVG, reproducible SVG ids."""
    plt = pyplot()
    with plt.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "mbtkg",
            "font.size": 9,
            "axes.titlesize": 11,
        }
    ):
        yield


def save(figure: Any, path: str | Path) -> Path:
    """Save a figure as PNG or SVG (chosen by the file name) and close it."""
    fmt = output_format(path)
    target = Path(path)
    plt = pyplot()
    try:
        figure.savefig(
            target,
            format=fmt,
            dpi=150,
            bbox_inches="tight",
            metadata={"Date": None} if fmt == "svg" else None,
        )
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    return target


def concept_colours(labels_by_family: dict[str, list[str]]) -> dict[str, str]:
    """A colour per concept label: the family's hues in turn, by label order."""
    out: dict[str, str] = {}
    for family, labels in labels_by_family.items():
        hues = FAMILY_COLOURS.get(family, FAMILY_COLOURS["other"])
        for i, label in enumerate(sorted(set(labels))):
            out.setdefault(label, hues[i % len(hues)])
    return out
