"""``mbtkg check``, ``mbtkg concept`` and ``mbtkg ontology diff|export|docs``: the ontology tools."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import BinaryIO

import click

from . import EXIT_FAILED, handle_errors, store_option

#: The formats of `mbtkg ontology export`: the keys of ``ontology_release.FORMATS``, written out
#: so that parsing the command line does not import rdflib (a test keeps both the same).
EXPORT_FORMATS = ("ttl", "owl", "jsonld")

# Each command imports what it uses when it runs: `mbtkg concept NAME` must not pay for the
# reasoner, pyLODE, the quality checks or the SHACL engines.

ontology_option = click.option(
    "--ontology",
    "location",
    default=None,
    metavar="DIR_OR_FILE",
    help="An ontology file (.ttl, .nt, .owl, .jsonld) or a folder of *.ttl files "
    "(default: the bundled ontology).",
)


@click.command()
@ontology_option
@click.option("--no-reasoner", is_flag=True, help="Skip the HermiT consistency check.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "tsv"]),
    default="text",
    show_default=True,
    help="text for people; json or tsv (one finding a row, as ROBOT's report) for machines.",
)
@handle_errors
def check(location: str | None, no_reasoner: bool, fmt: str) -> None:
    """Run the ontology's quality checks: SPARQL checks, three parsers and HermiT.

    Each finding has a level (ERROR, WARN, INFO) as in ROBOT's report profile. Exit status:
    0 when no ERROR-level finding, 1 when there is one, 2 when the ontology
    does not parse. Without a Java runtime HermiT is skipped (said on stderr) and the exit
    status reflects the other checks.
    """
    from ..ontology.qc import check_ontology, format_report, format_report_json, format_report_tsv
    from ..ontology.reasoning import NO_JAVA

    report = check_ontology(location, reasoner=not no_reasoner)
    if report.reasoner is not None and report.reasoner.status == "skipped":
        click.echo(NO_JAVA, err=True)
    if fmt == "json":
        click.echo(format_report_json(report), nl=False)
    elif fmt == "tsv":
        click.echo(format_report_tsv(report), nl=False)
    else:
        click.echo(format_report(report))
    if not report.passed:
        sys.exit(EXIT_FAILED)


def _print_concept_list(family: str | None, fmt: str) -> None:
    """The codable concepts (label, id, family), optionally of one family."""
    from ..analysis import FAMILY_NAMES
    from ..annotate.catalog import codable_concepts
    from ..concepts import ConceptIndex
    from ..errors import UnknownNameError
    from ..stores.base import Rows, Term
    from .render import render

    if family is not None and family not in FAMILY_NAMES:
        hits = ConceptIndex.suggest(family, FAMILY_NAMES, n=1)
        hint = f"; did you mean {hits[0]!r}?" if hits else ""
        raise UnknownNameError(
            f"unknown concept family {family!r}{hint} (families: {', '.join(FAMILY_NAMES)})",
            suggestions=tuple(hits),
        )
    chosen = sorted(
        (c for c in codable_concepts() if family is None or c.family == family),
        key=lambda c: (FAMILY_NAMES.index(c.family), c.label.lower()),
    )
    rows = Rows(
        ("label", "id", "family"),
        tuple((Term(c.label), Term(c.curie.split(":", 1)[-1]), Term(c.family)) for c in chosen),
    )
    click.echo(render(rows, "json" if fmt == "json" else "table"))


@click.command()
@click.argument("name", required=False)
@click.option(
    "--list",
    "list_",
    is_flag=True,
    help="List the codable concepts (label, id, family) instead of one card.",
)
@click.option(
    "--family",
    default=None,
    metavar="NAME",
    help="With --list: only this family (prementalizing, mentalizing, intervention, stance, "
    "rupture, repair, trust, we-ness, other).",
)
@ontology_option
@store_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@handle_errors
def concept(
    name: str | None,
    list_: bool,
    family: str | None,
    location: str | None,
    store: str | None,
    fmt: str,
) -> None:
    """Print the concept card of NAME (a label, synonym, local name or CURIE), or --list the
    codable concepts.

    Where the concept is used is looked up in the bundled example sessions, or in the
    sessions of --store when one is given. A session file's `concept:` takes a concept's label
    or its id.
    """
    if list_:
        if name is not None:
            raise click.UsageError("give a concept NAME or --list, not both")
        if location is not None:
            raise click.UsageError("--list lists the bundled ontology's concepts; drop --ontology")
        _print_concept_list(family, fmt)
        return
    if family is not None:
        raise click.UsageError("--family goes with --list")
    if name is None:
        raise click.UsageError("give a concept NAME, or --list")
    from ..ontology.concept_card import concept_card, example_usage_store, format_card
    from ..stores import open_store

    target = open_store(store) if store else example_usage_store()
    try:
        card = concept_card(name, ontology=location, usage_store=target)
    finally:
        target.close()
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(card), indent=2, ensure_ascii=False))
    else:
        click.echo(format_card(card))


@click.group()
def ontology() -> None:
    """Compare, export and document versions of the ontology."""


@ontology.command()
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option(
    "--exit-code", is_flag=True, help="Exit with status 1 when the versions differ (as git diff)."
)
@handle_errors
def diff(old: str, new: str, exit_code: bool) -> None:
    """List what changed from OLD to NEW (ontology files or folders of *.ttl files)."""
    from ..ontology.diff import diff_ontologies, format_diff

    result = diff_ontologies(old, new)
    click.echo(format_diff(result))
    if exit_code and not result.is_empty:
        sys.exit(EXIT_FAILED)


@ontology.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="ttl",
    show_default=True,
    help="ttl (Turtle), owl (RDF/XML) or jsonld (JSON-LD).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="File to write (default: stdout)."
)
@ontology_option
@handle_errors
def export(fmt: str, out: str | None, location: str | None) -> None:
    """Write the merged ontology as one release file; the same input gives the same bytes."""
    from ..ontology.release import export_ontology

    data = export_ontology(fmt, location=location)
    if out is None:
        stdout: BinaryIO = sys.stdout.buffer
        stdout.write(data)
        stdout.flush()
        return
    Path(out).write_bytes(data)
    click.echo(f"wrote {out} ({len(data)} bytes, {fmt})", err=True)


@ontology.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="docs/ontology",
    show_default=True,
    help="Folder to write index.html, hierarchy.png and hierarchy.svg into.",
)
@ontology_option
@handle_errors
def docs(out: str, location: str | None) -> None:
    """Generate the HTML reference (pyLODE) and a picture of the class hierarchy."""
    from ..ontology.docs import build_docs

    result = build_docs(out, location=location)
    click.echo(
        f"wrote {result.index_html}, {result.hierarchy_png} and {result.hierarchy_svg} "
        f"({result.classes} classes)"
    )


@ontology.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder to write mbt-base.* and mbt-full.* (ttl, owl, jsonld) into.",
)
@ontology_option
@handle_errors
def release(out: str, location: str | None) -> None:
    """Write the release artefacts: base (our axioms only) and full (imports merged).

    Each in Turtle, OWL (RDF/XML) and JSON-LD, byte-for-byte reproducible, with
    skos:definition generated from the IAO:0000115 definitions for SKOS tools.
    """
    from ..ontology.release import write_release

    for path in write_release(out, location=location):
        click.echo(f"wrote {path} ({path.stat().st_size} bytes)")


@ontology.group()
def sheet() -> None:
    """The spreadsheet review loop: export the classes as rows, import the edited sheet."""


@sheet.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="terms.xlsx (Excel, LibreOffice) or terms.csv.",
)
@ontology_option
@handle_errors
def sheet_export(out: str, location: str | None) -> None:
    """Write one row per class: IRI, label, synonyms, parent, definition and its sources, ..."""
    from ..ontology.term_sheet import export_sheet

    rows = export_sheet(out, location=location)
    click.echo(f"wrote {out} ({rows} rows)")


@sheet.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--ontology",
    "folder",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of the Turtle sources to edit (default: the bundled ontology folder).",
)
@click.option("--no-reasoner", is_flag=True, help="Skip HermiT in the checks after the edit.")
@handle_errors
def sheet_import(path: str, folder: str | None, no_reasoner: bool) -> None:
    """Apply an edited sheet to the Turtle sources, touching only changed statements.

    Prints the diff and the checks. Exit status: 0 applied (or nothing to apply), 1 the edited
    ontology fails a check (nothing written), 2 a bad row (FILE:ROW:COLUMN; nothing written).
    """
    from ..ontology.diff import format_diff
    from ..ontology.qc import format_report
    from ..ontology.term_sheet import import_sheet

    result = import_sheet(path, folder, reasoner=not no_reasoner)
    if not result.files:
        click.echo("no changes: the sheet matches the ontology")
    else:
        click.echo(f"rows changed: {', '.join(result.changed_rows)}")
        click.echo(format_diff(result.diff))
        click.echo("")
    click.echo(format_report(result.report))
    if result.files and not result.written:
        click.echo("nothing written: the edited ontology fails the checks above", err=True)
        sys.exit(EXIT_FAILED)
    if result.written:
        click.echo("updated " + ", ".join(str(p) for p in result.files))


@ontology.command("migrate-annotations")
@click.option(
    "--ontology",
    "folder",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of *.ttl source files to migrate (default: the bundled ontology folder).",
)
@click.option(
    "--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file would change."
)
@handle_errors
def migrate_annotations(folder: str | None, check_only: bool) -> None:
    """Bring the Turtle sources to the OBO annotation conventions (idempotent text edits).

    Definitions become IAO:0000115 with their sources as axiom annotations, editor notes
    IAO:0000116; terms get a curation status and term editor; bibliography entries a label;
    dates and years OWL 2 datatypes. Files already in that form are left byte-identical.
    """
    from ..ontology.migration import migrate_directory
    from ..resources import resource_dir

    target = Path(folder) if folder else resource_dir("ontology")
    results = migrate_directory(target, write=not check_only)
    changed = [r for r in results if r.changed]
    for r in changed:
        click.echo(f"{'would change' if check_only else 'changed'} {r.path}")
    if not changed:
        click.echo(f"{len(results)} file(s) already in the target form")
    if check_only and changed:
        sys.exit(EXIT_FAILED)


COMMANDS = [check, concept, ontology]
