"""A session timeline: turns along the x-axis, one lane per speaker and per kind of code.

Lanes, top to bottom: each speaker (a mark on every turn they spoke), then prementalizing
modes, mentalizing, interventions and therapist stance, rupture and repair, epistemic trust
and mistrust, we-ness and other codes (arousal, triggers ...). Inside a lane every coder has
rows of their own, labelled with the coder's id, so two coders' codes are never mixed; codes
that overlap in time are stacked on extra rows. A curved arrow joins each repair to the
rupture it repairs. Each bar carries a short code of its concept ("EV"), explained in the
legend.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..analysis.data import Occurrence, SessionData, session_data
from ..errors import InputError
from ..stores.base import Store
from .common import ROLE_COLOURS, concept_colours, picture_style, pyplot, save

#: (lane title, families shown in it), top to bottom after the speaker lanes.
LANES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prementalizing modes", ("prementalizing",)),
    ("mentalizing", ("mentalizing",)),
    ("interventions, stance", ("intervention", "stance")),
    ("rupture / repair", ("rupture", "repair")),
    ("epistemic trust / mistrust", ("trust",)),
    ("we-ness", ("we-ness",)),
    ("other codes", ("other",)),
)


@dataclass(frozen=True)
class Row:
    """One horizontal row of the picture."""

    lane: str
    annotator: str | None
    occurrences: tuple[Occurrence, ...]


def _pack(occurrences: list[Occurrence]) -> list[list[Occurrence]]:
    """Place intervals on as few rows as possible so that none overlap (greedy by start)."""
    rows: list[list[Occurrence]] = []
    for o in sorted(occurrences, key=lambda o: (o.start, o.end, o.annotation)):
        for row in rows:
            if row[-1].end < o.start:
                row.append(o)
                break
        else:
            rows.append([o])
    return rows


def abbreviations(labels: list[str]) -> dict[str, str]:
    """A short, unique code per concept label, from the initials of its words ("EV").

    >>> abbreviations(["empathic validation", "stop-rewind-explore"])
    {'empathic validation': 'EV', 'stop-rewind-explore': 'SRE'}
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for label in sorted(set(labels)):
        words = [w for w in label.replace("-", " ").replace("/", " ").split() if w]
        code = "".join(w[0] for w in words).upper() or label[:2].upper()
        if code in taken:  # lengthen with the last word's next letters until unique
            tail = words[-1][1:] if words else label
            for extra in range(1, len(tail) + 1):
                if code + tail[:extra].lower() not in taken:
                    code = code + tail[:extra].lower()
                    break
        n = 2
        base = code
        while code in taken:
            code, n = f"{base}{n}", n + 1
        taken.add(code)
        out[label] = code
    return out


def timeline_rows(data: SessionData) -> list[Row]:
    """The code rows of a timeline (speaker lanes excluded), top to bottom; empty lanes dropped."""
    rows: list[Row] = []
    for lane, families in LANES:
        for coder in data.annotators:
            mine = [o for o in data.by_annotator(coder) if o.family in families]
            rows.extend(Row(lane, coder, tuple(packed)) for packed in _pack(mine))
    return rows


def plot_timeline(
    store: Store,
    session: str,
    out: str | Path,
    *,
    turns: tuple[int, int] | None = None,
    title: str | None = None,
) -> Path:
    """Draw a session's timeline to a PNG or SVG file (chosen by the file name).

    ``turns=(first, last)`` draws only that stretch (codes reaching into it are cut at its
    edges), which keeps long sessions readable. Raises InputError for a stretch outside the
    session, UnknownNameError for an unknown session, MissingExtraError without matplotlib.
    """
    data = session_data(store, session)
    if turns is not None:
        data = window(data, *turns)
    plt = pyplot()
    with picture_style():
        figure = _draw(plt, data, title)
        return save(figure, out)


def window(data: SessionData, first: int, last: int) -> SessionData:
    """The part of a session's data on turns ``first``..``last``; codes are cut at the edges."""
    indices = [t.index for t in data.turns]
    if first > last or not indices or last < min(indices) or first > max(indices):
        span = f"{min(indices)}-{max(indices)}" if indices else "none"
        raise InputError(
            f"turns {first}-{last} are not a stretch of session {data.info.id!r} "
            f"(its turns: {span}); give FIRST-LAST with FIRST <= LAST"
        )
    return replace(
        data,
        turns=tuple(t for t in data.turns if first <= t.index <= last),
        occurrences=tuple(
            replace(o, start=max(o.start, first), end=min(o.end, last))
            for o in data.occurrences
            if o.end >= first and o.start <= last
        ),
    )


def _draw(plt: Any, data: SessionData, title: str | None) -> Any:
    from matplotlib.patches import Patch

    turns = [t.index for t in data.turns] or [1]
    first, last = min(turns), max(turns)
    speakers = list(dict.fromkeys(t.speaker for t in data.turns if t.speaker))
    roles = {t.speaker: t.role for t in data.turns}
    rows = timeline_rows(data)
    n_rows = len(speakers) + len(rows)
    colours = concept_colours(
        {f: [o.label for o in data.occurrences if o.family == f] for _, fs in LANES for f in fs}
    )
    codes = abbreviations(list(colours))
    span = last - first + 1
    width = min(max(10.0, 0.24 * span + 3.5), 40.0)
    legend_rows = (len(colours) + 2 + 3) // 4
    legend_height = 0.2 * legend_rows + 0.3
    height = 1.2 + 0.34 * n_rows + legend_height
    figure, ax = plt.subplots(figsize=(width, height))
    points_per_turn = (width - 3.5) * 72 / (span + 1.6)

    y = n_rows - 1  # rows are drawn top to bottom
    labels: list[tuple[float, str]] = []
    for speaker in speakers:
        spoken = [t.index for t in data.turns if t.speaker == speaker]
        colour = ROLE_COLOURS.get(roles.get(speaker), ROLE_COLOURS[None])
        ax.broken_barh([(t - 0.45, 0.9) for t in spoken], (y - 0.3, 0.6), color=colour)
        role = roles.get(speaker)
        labels.append((y, f"{speaker} ({role})" if role else speaker))
        y -= 1
    ax.axhline(y + 0.5, color="#333333", linewidth=0.8)

    lane_of_row: list[tuple[str, str | None, float]] = []
    for row in rows:
        for o in row.occurrences:
            ax.broken_barh(
                [(o.start - 0.45, o.end - o.start + 0.9)],
                (y - 0.35, 0.7),
                facecolor=colours[o.label],
                edgecolor="white",
                linewidth=0.5,
            )
            # Shrink the code to fit its bar; leave it out when it would be unreadably small.
            bar_points = (o.end - o.start + 0.9) * points_per_turn
            size = min(6.5, bar_points / (0.75 * len(codes[o.label])))
            if size >= 3.5:
                ax.text(
                    (o.start + o.end) / 2,
                    y,
                    codes[o.label],
                    ha="center",
                    va="center",
                    fontsize=size,
                    color=_text_colour(colours[o.label]),
                )
        lane_of_row.append((row.lane, row.annotator, y))
        y -= 1

    # One label per (lane, coder) group, centred on its rows; a rule between lanes.
    seen: dict[tuple[str, str | None], list[float]] = {}
    for lane, coder, ypos in lane_of_row:
        seen.setdefault((lane, coder), []).append(ypos)
    previous_lane: str | None = None
    for (lane, coder), ys in seen.items():
        labels.append((sum(ys) / len(ys), f"{lane} · {coder}"))
        if previous_lane is not None and lane != previous_lane:
            ax.axhline(max(ys) + 0.5, color="#BBBBBB", linewidth=0.6)
        previous_lane = lane

    _repair_arrows(ax, data, rows, n_rows - len(speakers) - 1)

    ax.set_yticks([p for p, _ in labels], [text for _, text in labels])
    ax.set_ylim(-0.7, n_rows - 0.3)
    ax.set_xlim(first - 0.8, last + 0.8)
    step = 5 if last - first > 20 else 1
    ax.set_xticks([t for t in range(first, last + 1) if t % step == 0 or t == first])
    ax.set_xlabel("turn")
    ax.grid(axis="x", color="#EEEEEE", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    info = data.info
    details = ", ".join(
        part
        for part in (
            f"session {info.number}" if info.number is not None else "",
            info.date.isoformat() if info.date else "",
            info.setting or "",
        )
        if part
    )
    ax.set_title(title or f"Session {info.id}" + (f" ({details})" if details else ""), loc="left")

    handles = [Patch(color=ROLE_COLOURS[r], label=f"{r} turn") for r in ("patient", "therapist")]
    handles += [Patch(color=c, label=f"{codes[label]}  {label}") for label, c in colours.items()]
    figure.legend(handles=handles, loc="lower left", ncol=4, frameon=False, fontsize=8)
    figure.tight_layout(rect=(0.0, legend_height / height, 1.0, 1.0))
    return figure


def _text_colour(background: str) -> str:
    """Black or white, whichever reads better on a background colour ("#RRGGBB")."""
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "white"


def _repair_arrows(ax: Any, data: SessionData, rows: list[Row], top: int) -> None:
    """Curved arrows from each repair to the rupture it repairs (same coder only)."""
    where: dict[str, tuple[float, float]] = {}
    for offset, row in enumerate(rows):
        for o in row.occurrences:
            where[o.annotation] = ((o.start + o.end) / 2, top - offset)
    for link in data.links:
        if link.relation != "repairs" or link.source not in where or link.target not in where:
            continue
        (x0, y0), (x1, y1) = where[link.source], where[link.target]
        same_row = y0 == y1
        ax.annotate(
            "",
            xy=(x1, y1 + 0.35 if same_row or y1 < y0 else y1 - 0.35),
            xytext=(x0, y0 + 0.35 if same_row or y1 > y0 else y0 - 0.35),
            arrowprops={
                "arrowstyle": "->",
                "color": "#333333",
                "linewidth": 0.9,
                "connectionstyle": f"arc3,rad={0.5 if same_row else 0.25}",
            },
        )
