"""Read an ontology from a file or a directory of files, with errors that name the file and line.

This is the common input of the ontology tools (quality checks, diff, export, docs): the bundled
``ontology/*.ttl`` by default, or any ontology file or directory a theorist points them at.
pyoxigraph is the reference parser; :func:`check_rdflib_parses` parses the same files with
rdflib, and :mod:`mbtkg.ontology.reasoning` with owlready2, so that all three are known to agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from ..errors import InputError, Location
from ..resources import import_files, import_modules_in, ontology_files

#: The folder, next to the ontology files, that holds imported modules (as ODK projects keep it).

#: File extensions read as ontology files, and the RDF syntax each one is parsed as.
SYNTAXES: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".owl": ox.RdfFormat.RDF_XML,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}
_RDFLIB_SYNTAXES = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".owl": "xml",
    ".rdf": "xml",
    ".jsonld": "json-ld",
}


class OntologyParseError(InputError):
    """An ontology file does not parse; ``parser`` names the parser that refused it."""

    def __init__(self, message: str, location: Location | None = None, *, parser: str) -> None:
        self.parser = parser
        super().__init__(message, location)


@dataclass(frozen=True)
class OntologySource:
    """The triples of an ontology and the files they were read from (in reading order)."""

    files: tuple[Path, ...]
    triples: tuple[ox.Triple, ...]

    def __len__(self) -> int:
        return len(self.triples)

    def store(self) -> ox.Store:
        """A fresh in-memory pyoxigraph store holding the triples in its default graph."""
        store = ox.Store()
        store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.triples)
        return store

    def to_rdflib(self) -> rdflib.Graph:
        """The same triples as an rdflib graph (via N-Triples, so every term survives)."""
        return triples_to_rdflib(self.triples)


def ontology_paths(location: str | Path | None = None) -> tuple[Path, ...]:
    """The files that make an ontology: the bundled ones, one file, or a directory's ``*.ttl``.

    Raises InputError when the location does not exist, a file has an unknown extension, or
    a directory holds no Turtle file.
    """
    if location is None:
        return tuple(ontology_files())
    path = Path(location)
    if path.is_dir():
        files = tuple(sorted(path.glob("*.ttl")))
        if not files:
            raise InputError(f"{path}: no ontology files (*.ttl) in this directory")
        return files
    if not path.is_file():
        raise InputError(f"{path}: no such file or directory; expected an ontology file or folder")
    if path.suffix.lower() not in SYNTAXES:
        raise InputError(
            f"{path}: unknown ontology file type {path.suffix!r}; "
            f"expected one of {', '.join(sorted(SYNTAXES))}"
        )
    return (path,)


def import_paths(location: str | Path | None = None) -> tuple[Path, ...]:
    """The imported modules of an ontology: ``imports/*.ttl`` and ``*.owl`` next to its files.

    The bundled ontology's imports live in ``ontology/imports/``; a folder given as location
    has its own ``imports/``; a single file has none. No import is fetched from the network.
    """
    if location is None:
        return tuple(import_files())
    path = Path(location)
    return tuple(import_modules_in(path)) if path.is_dir() else ()


def parse_file(path: Path) -> list[ox.Triple]:
    """Parse one ontology file with pyoxigraph; raise OntologyParseError naming file and line."""
    syntax = SYNTAXES.get(path.suffix.lower(), ox.RdfFormat.TURTLE)
    try:
        return list(ox.parse(path=str(path), format=syntax))
    except SyntaxError as exc:
        detail = str(exc.args[0]) if exc.args else str(exc)
        if exc.lineno:
            where = Location(str(path), exc.lineno, exc.offset)
        else:  # pyoxigraph's RDF/XML errors carry no position: ask rdflib where it is
            where = Location(str(path), _rdflib_error_line(path))
        raise OntologyParseError(
            f"the ontology does not parse (pyoxigraph, {syntax.name}): {detail}",
            where,
            parser="pyoxigraph",
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None


def read_ontology(
    location: str | Path | None = None, *, with_imports: bool = False
) -> OntologySource:
    """Read an ontology (see :func:`ontology_paths`) with pyoxigraph; its imports merged if asked.

    >>> source = read_ontology()
    >>> len(source) > 100
    True
    """
    files = ontology_paths(location)
    if with_imports:
        files = files + tuple(p for p in import_paths(location) if p not in files)
    triples: list[ox.Triple] = []
    for path in files:
        triples.extend(parse_file(path))
    return OntologySource(files=files, triples=tuple(triples))


def check_rdflib_parses(files: Iterable[Path]) -> int:
    """Parse every file with rdflib too; return the number of triples it read.

    Raises OntologyParseError naming the file and line when rdflib refuses a file.
    """
    total = 0
    for path in files:
        graph = rdflib.Graph()
        try:
            graph.parse(str(path), format=_RDFLIB_SYNTAXES.get(path.suffix.lower(), "turtle"))
        except Exception as exc:  # rdflib raises many unrelated types for bad syntax
            raise OntologyParseError(
                f"the ontology does not parse (rdflib): {_rdflib_message(exc)}",
                Location(str(path), _rdflib_line(exc)),
                parser="rdflib",
            ) from None
        total += len(graph)
    return total


def _rdflib_error_line(path: Path) -> int | None:
    """The line rdflib reports for a file it cannot parse, or None."""
    try:
        check_rdflib_parses([path])
    except OntologyParseError as exc:
        return exc.location.line if exc.location else None
    return None


def _rdflib_line(exc: Exception) -> int | None:
    """The 1-based line rdflib reports for a syntax error, when it reports one."""
    lines = getattr(exc, "lines", None)  # notation3.BadSyntax: 0-based line count
    if isinstance(lines, int):
        return lines + 1
    get_line = getattr(exc, "getLineNumber", None)  # xml.sax.SAXParseException
    if callable(get_line):
        line = get_line()
        return line if isinstance(line, int) else None
    return None


def _rdflib_message(exc: Exception) -> str:
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) and message else str(exc)
    return " ".join(text.split())[:300] or type(exc).__name__


def triples_to_rdflib(triples: Sequence[ox.Triple] | Iterable[ox.Triple]) -> rdflib.Graph:
    """Convert pyoxigraph triples to an rdflib graph."""
    graph = rdflib.Graph()
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph
