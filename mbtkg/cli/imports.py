"""``mbtkg import qdpx|csv|eaf|jsonld``: read other formats, validate, load all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from ..concepts import default_index
from ..loading import prepare_sessions, write
from ..mapping import Code, CodeMapping, load_mapping, suggest_mapping
from ..safe_archive import MAX_RATIO, MAX_TOTAL_BYTES, ArchiveLimits
from ..sessions import Session
from ..sessions.csv_reader import read_csv_sessions
from ..sessions.eaf_reader import read_eaf
from ..sessions.jsonld_reader import read_rdf_sessions
from ..sessions.qdpx_project import project_codes
from ..sessions.qdpx_reader import read_qdpx
from ..sessions.speakers import parse_roles
from ..stores import open_store
from . import handle_errors, store_option


def load_sessions(sessions: Sequence[Session], store: str | None, *, dry_run: bool) -> str:
    """Validate imported sessions and write them with the ontology in one operation.

    Raises ValidationFailed (exit 1) when a session does not conform; nothing is written then.
    """
    prepared = prepare_sessions(sessions)
    if dry_run:
        return (
            f"{len(prepared.sessions)} session(s) conform to the shapes; nothing loaded (--dry-run)"
        )
    target = open_store(store)
    try:
        summary = write(prepared, target)
    finally:
        target.close()
    return f"{summary} into {target.selector}"


def _mapping(path: str | None) -> CodeMapping | None:
    return load_mapping(path) if path else None


def _pairs(spec: str | None) -> dict[str, str]:
    out = {}
    for entry in (spec or "").split(","):
        if "=" in entry:
            key, _, value = entry.partition("=")
            out[key.strip()] = value.strip()
    return out


def _write_suggestion(path: str, codes: Sequence[Code], *, what: str) -> str:
    """Write a starting mapping for ``codes`` and say what it holds."""
    text = suggest_mapping(codes, index=default_index())
    Path(path).write_text(text, encoding="utf-8")
    matched = text.count("# exact match") + text.count("# close match")
    return (
        f"wrote a starting mapping for {len(codes)} {what} to {path}: "
        f"{matched} matched, {len(codes) - matched} left for you to fill in"
    )


def _suggest_unmapped(path: str, unmapped: Sequence[str]) -> str:
    if not unmapped:
        return (
            "every code is a concept name or in the mapping already; no mapping file written "
            f"to {path}"
        )
    return _write_suggestion(
        path, [Code(name) for name in unmapped], what="code(s) without a concept"
    )


suggest_option = click.option(
    "--suggest-mapping",
    "suggest",
    type=click.Path(dir_okay=False),
    help="Write a starting mapping file here for the codes that need one, and stop.",
)
mapping_option = click.option(
    "--mapping", type=click.Path(dir_okay=False), help="The code-to-concept mapping file (YAML)."
)
skip_option = click.option(
    "--skip-unmapped", is_flag=True, help="Leave out codes without a concept (still listed)."
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Read and validate only; load nothing."
)


@click.group("import")
def import_group() -> None:
    """Import sessions from QDA projects, spreadsheets, ELAN files or JSON-LD/Turtle."""


@import_group.command("qdpx")
@click.argument("project", type=click.Path(dir_okay=False))
@mapping_option
@click.option("--speakers", help="Prefix labels to participants: 'T=T-1:therapist,P=P-2:patient'.")
@click.option("--speaker-pattern", help="Regex with a group 'speaker' for turn prefixes.")
@click.option("--default-speaker", help="Label or id that speaks lines without a prefix.")
@click.option("--annotators", help="User names or GUIDs to annotator ids: 'Jane Doe=A-jd'.")
@suggest_option
@click.option(
    "--max-bytes",
    type=int,
    default=MAX_TOTAL_BYTES,
    show_default=True,
    help="Refuse archives that expand past this many bytes.",
)
@click.option(
    "--max-ratio",
    type=float,
    default=MAX_RATIO,
    show_default=True,
    help="Refuse members compressed more than this ratio.",
)
@skip_option
@dry_run_option
@store_option
@handle_errors
def qdpx(
    project: str,
    mapping: str | None,
    speakers: str | None,
    speaker_pattern: str | None,
    default_speaker: str | None,
    annotators: str | None,
    suggest: str | None,
    max_bytes: int,
    max_ratio: float,
    skip_unmapped: bool,
    dry_run: bool,
    store: str | None,
) -> None:
    """Import a REFI-QDA project (.qdpx from ATLAS.ti, NVivo, MAXQDA, QualCoder ...)."""
    limits = ArchiveLimits(
        max_total_bytes=max_bytes, max_member_bytes=max_bytes, max_ratio=max_ratio
    )
    if suggest:
        codes = project_codes(project, limits=limits)
        click.echo(_write_suggestion(suggest, codes, what="code(s)"))
        return
    result = read_qdpx(
        project,
        mapping=_mapping(mapping),
        speakers=speakers,
        speaker_pattern=speaker_pattern,
        default_speaker=default_speaker,
        annotator_ids=_pairs(annotators),
        skip_unmapped=skip_unmapped,
        limits=limits,
    )
    click.echo(result.describe())
    click.echo(load_sessions(result.sessions, store, dry_run=dry_run))


@import_group.command("csv")
@click.argument("turns", type=click.Path(dir_okay=False))
@click.option("--annotations", type=click.Path(dir_okay=False), help="A long annotations sheet.")
@mapping_option
@click.option(
    "--roles", help="Participant roles when there is no role column: 'P1=patient,T1=therapist'."
)
@click.option("--annotator", default="A-1", show_default=True, help="Coder of the code columns.")
@suggest_option
@skip_option
@dry_run_option
@store_option
@handle_errors
def csv_command(
    turns: str,
    annotations: str | None,
    mapping: str | None,
    roles: str | None,
    annotator: str,
    suggest: str | None,
    skip_unmapped: bool,
    dry_run: bool,
    store: str | None,
) -> None:
    """Import turns (and codes) kept in a spreadsheet saved as CSV."""
    result = read_csv_sessions(
        turns,
        annotations_path=annotations,
        mapping=_mapping(mapping),
        roles=parse_roles(roles),
        annotator=annotator,
        skip_unmapped=skip_unmapped or bool(suggest),
    )
    if suggest:
        click.echo(_suggest_unmapped(suggest, result.unmapped))
        return
    click.echo(result.describe())
    click.echo(load_sessions(result.sessions, store, dry_run=dry_run))


@import_group.command("eaf")
@click.argument("path", type=click.Path(dir_okay=False))
@mapping_option
@click.option("--session-id", help="The session id (default: from the file name).")
@click.option("--roles", help="Participant roles: 'P001=patient,T01=therapist'.")
@click.option("--code-tier", "code_tiers", multiple=True, help="A tier whose values are codes.")
@click.option("--annotator", help="The coder's id (default: A-1, A-2 ... per tier annotator).")
@suggest_option
@skip_option
@dry_run_option
@store_option
@handle_errors
def eaf(
    path: str,
    mapping: str | None,
    session_id: str | None,
    roles: str | None,
    code_tiers: tuple[str, ...],
    annotator: str | None,
    suggest: str | None,
    skip_unmapped: bool,
    dry_run: bool,
    store: str | None,
) -> None:
    """Import an ELAN file: speaker tiers become timed turns, coded tiers annotations."""
    result = read_eaf(
        path,
        mapping=_mapping(mapping),
        session_id=session_id,
        roles=parse_roles(roles),
        code_tiers=code_tiers,
        annotator=annotator,
        skip_unmapped=skip_unmapped or bool(suggest),
    )
    if suggest:
        click.echo(_suggest_unmapped(suggest, result.unmapped))
        return
    click.echo(result.describe())
    click.echo(load_sessions([result.session], store, dry_run=dry_run))


@import_group.command("jsonld")
@click.argument("path", type=click.Path(dir_okay=False))
@dry_run_option
@store_option
@handle_errors
def jsonld(path: str, dry_run: bool, store: str | None) -> None:
    """Import sessions written as JSON-LD (or Turtle) by `mbtkg export`."""
    sessions = read_rdf_sessions(path)
    click.echo(f"{path}: {len(sessions)} session(s): {', '.join(s.id for s in sessions)}")
    click.echo(load_sessions(sessions, store, dry_run=dry_run))


COMMANDS = [import_group]
