"""``mbtkg analyze``: session analytics as tables, CSV or JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import click

from ..analysis import (
    FAMILY_NAMES,
    CodeAgreement,
    FollowEvent,
    FollowSummary,
    RuptureRepair,
    TrajectoryPoint,
    agreement,
    follows,
    rupture_repairs,
    trajectory,
    transition_matrices,
    unrepaired,
)
from ..analysis.agreement import LEVELS
from ..stores.base import Rows, Term
from . import handle_errors, loaded_store, store_option
from .render import FORMATS, render

load_option = click.option(
    "--load",
    "load_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Session files to load first (repeatable); default: the bundled examples.",
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
session_option = click.option("--session", default=None, help="One session id.")
patient_option = click.option("--patient", default=None, help="One patient's sessions.")
annotator_option = click.option("--annotator", default=None, help="One coder only.")


def _plain(value: object) -> str | int | float | bool | None:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def to_rows(records: Sequence[Any], kind: type, columns: Sequence[str] | None = None) -> Rows:
    """Dataclass records of one ``kind`` as result rows (floats to 4 places, dates as ISO text).

    The columns come from the dataclass, so an empty answer still has its header.
    """
    names = (
        tuple(columns) if columns is not None else tuple(f.name for f in dataclasses.fields(kind))
    )
    return Rows(
        names,
        tuple(
            tuple(None if (v := _plain(getattr(r, c))) is None else Term(v) for c in names)
            for r in records
        ),
    )


def _scope(session: str | None, patient: str | None, annotator: str | None) -> str:
    """``in session susan-12, coded by A-1`` for the filters given (empty when none)."""
    parts = []
    if session:
        parts.append(f"in session {session}")
    if patient:
        parts.append(f"for patient {patient}")
    if annotator:
        parts.append(f"coded by {annotator}")
    return (" " + ", ".join(parts)) if parts else ""


def _echo(rows: Rows, fmt: str, nothing: str) -> None:
    """Print an analysis table; an empty one is said in a sentence, never as "(0 rows)" (for
    csv and json the empty table still goes to stdout and the sentence to stderr)."""
    if rows.rows:
        click.echo(render(rows, fmt))
    elif fmt == "table":
        click.echo(nothing)
    else:
        click.echo(render(rows, fmt))
        click.echo(nothing, err=True)


@click.group()
def analyze() -> None:
    """Session analytics: transitions, ruptures, what follows interventions, trajectories, agreement."""


@analyze.command()
@session_option
@patient_option
@annotator_option
@click.option(
    "--layout",
    type=click.Choice(["long", "matrix"]),
    default="long",
    show_default=True,
    help="One row per transition, or one row per source state with a column per target.",
)
@format_option
@load_option
@store_option
@handle_errors
def transitions(
    session: str | None,
    patient: str | None,
    annotator: str | None,
    layout: str,
    fmt: str,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """Transitions between prementalizing modes and mentalizing, per coder."""
    with loaded_store(store, load_paths) as target:
        matrices = transition_matrices(
            target, session=session, patient=patient, annotator=annotator
        )
        nothing = (
            "no transitions: no coded prementalizing mode or mentalizing"
            f"{_scope(session, patient, annotator)} in {target.selector}"
        )
    if layout == "matrix":
        states = matrices[0].states if matrices else ()
        columns = ("annotator", "from", *states)
        rows = tuple(
            (Term(m.annotator), Term(source), *(Term(n) for n in m.counts[i]))
            for m in matrices
            for i, source in enumerate(m.states)
        )
        _echo(Rows(columns, rows), fmt, nothing)
        return
    records = [
        {
            "annotator": m.annotator,
            "from": t.source,
            "to": t.target,
            "count": t.count,
            "share": t.share,
        }
        for m in matrices
        for t in m.transitions()
    ]
    columns = ("annotator", "from", "to", "count", "share")
    _echo(
        Rows(columns, tuple(tuple(Term(_plain(r[c])) for c in columns) for r in records)),
        fmt,
        nothing,
    )


@analyze.command()
@session_option
@patient_option
@annotator_option
@click.option("--unrepaired", "only_unrepaired", is_flag=True, help="Only ruptures never repaired.")
@format_option
@load_option
@store_option
@handle_errors
def ruptures(
    session: str | None,
    patient: str | None,
    annotator: str | None,
    only_unrepaired: bool,
    fmt: str,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """Each rupture, its repair and the turns it took (empty when never repaired)."""
    with loaded_store(store, load_paths) as target:
        found = rupture_repairs(target, session=session, patient=patient, annotator=annotator)
        kind = "unrepaired ruptures" if only_unrepaired else "ruptures"
        nothing = f"no {kind} coded{_scope(session, patient, annotator)} in {target.selector}"
    _echo(to_rows(unrepaired(found) if only_unrepaired else found, RuptureRepair), fmt, nothing)


@analyze.command("follows")
@session_option
@patient_option
@annotator_option
@click.option("-k", "k", type=int, default=3, show_default=True, help="Window in turns.")
@click.option(
    "--followers",
    "families",
    multiple=True,
    type=click.Choice(FAMILY_NAMES),
    help="Count followers of these concept families only (repeatable).",
)
@click.option("--events", is_flag=True, help="List every follow event instead of the summary.")
@format_option
@load_option
@store_option
@handle_errors
def follows_command(
    session: str | None,
    patient: str | None,
    annotator: str | None,
    k: int,
    families: tuple[str, ...],
    events: bool,
    fmt: str,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """What each intervention type was followed by within k turns."""
    with loaded_store(store, load_paths) as target:
        report = follows(
            target,
            k=k,
            session=session,
            patient=patient,
            annotator=annotator,
            families=families or None,
        )
        nothing = (
            f"no intervention followed by a code within {k} turns"
            f"{_scope(session, patient, annotator)} in {target.selector}"
        )
    _echo(
        to_rows(report.events, FollowEvent) if events else to_rows(report.summary, FollowSummary),
        fmt,
        nothing,
    )


@analyze.command("trajectory")
@click.argument("patient")
@annotator_option
@format_option
@load_option
@store_option
@handle_errors
def trajectory_command(
    patient: str, annotator: str | None, fmt: str, load_paths: tuple[str, ...], store: str | None
) -> None:
    """A patient's sessions in order: prementalizing, effective mentalizing, ruptures, trust."""
    with loaded_store(store, load_paths) as target:
        points = trajectory(target, patient, annotator=annotator)
        nothing = f"no coded sessions for patient {patient}{_scope(None, None, annotator)} in {target.selector}"
    _echo(to_rows(points, TrajectoryPoint), fmt, nothing)


@analyze.command("agreement")
@click.argument("session")
@click.option("--coder", "coders", multiple=True, help="A coder to compare (repeat; default all).")
@click.option(
    "--level",
    type=click.Choice([*LEVELS, "all"]),
    default="all",
    show_default=True,
    help="Codes per concept, per concept family, or both.",
)
@click.option("--methods", is_flag=True, help="Also print a paragraph for a methods section.")
@format_option
@load_option
@store_option
@handle_errors
def agreement_command(
    session: str,
    coders: tuple[str, ...],
    level: str,
    methods: bool,
    fmt: str,
    load_paths: tuple[str, ...],
    store: str | None,
) -> None:
    """Inter-rater agreement per concept and family (Cohen's kappa; Krippendorff's alpha for 3+)."""
    with loaded_store(store, load_paths) as target:
        report = agreement(target, session, coders=coders or None)
    codes = [c for c in report.codes if level in ("all", c.level)]
    columns = (
        "level",
        "code",
        "units",
        "coded_units",
        "observed",
        "expected",
        "statistic",
        "value",
        "band",
        "alpha",
    )
    if fmt == "json":
        body = {
            "session": report.session,
            "coders": list(report.coders),
            "units": {"first": report.first_unit, "last": report.last_unit, "n": report.units},
            "statistic": report.statistic,
            "band_source": report.band_source,
            "codes": json.loads(render(to_rows(codes, CodeAgreement, columns), "json")),
            "methods": report.methods_text(),
        }
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    click.echo(render(to_rows(codes, CodeAgreement, columns), fmt))
    if fmt == "table":
        click.echo(
            f"\ncoders {', '.join(report.coders)} on session {report.session}: "
            f"{report.units} turns ({report.first_unit}-{report.last_unit}) covered by all; "
            f"bands: {report.band_source}"
        )
        if methods:
            click.echo("\n" + report.methods_text())


COMMANDS = [analyze]
