"""HTML reference documentation of the ontology (pyLODE) and a picture of its class hierarchy.

Both need the optional ``docs`` extra (``pip install 'mbtkg[docs]'``: pyLODE and matplotlib).
When it is missing, :class:`MissingExtraError` says so in one sentence. The HTML is made from
the merged release Turtle (:mod:`mbtkg.ontology.release`), so it documents exactly what
``mbtkg ontology export`` ships.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MbtkgError, MissingExtraError
from .hierarchy_picture import draw_hierarchy
from .release import export_artefact, release_graph, version_info
from .source import read_ontology

INSTALL_HINT = "pip install 'mbtkg[docs]'"


@dataclass(frozen=True)
class DocsResult:
    """The files written and how many classes the picture shows."""

    index_html: Path
    hierarchy_png: Path
    hierarchy_svg: Path
    classes: int


def load_ontpub() -> Any:
    """pyLODE's OntPub class, imported without letting pyLODE reconfigure logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from pylode import OntPub
    except ImportError:
        raise MissingExtraError(
            f"the HTML reference needs pyLODE, part of the optional 'docs' extra: {INSTALL_HINT}"
        ) from None
    except FileNotFoundError:  # pyLODE 3.4.1 looks for its pyproject.toml (RDFLib/pyLODE#260)
        raise MissingExtraError(
            "the installed pyLODE cannot be imported (a packaging bug of pyLODE 3.4.1); "
            "install another version: pip install 'pylode>=3.0,!=3.4.1'"
        ) from None
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return OntPub


def build_html(out_dir: Path, *, location: str | Path | None = None) -> Path:
    """Write ``index.html``, pyLODE's reference page of the ontology, into ``out_dir``."""
    ontpub = load_ontpub()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mbtkg-docs-") as tmp:
        merged = Path(tmp) / "mbt.ttl"
        # The base artefact: our terms, with skos:definition generated for pyLODE.
        merged.write_bytes(export_artefact("base", "ttl", location=location))
        target = out_dir / "index.html"
        try:
            ontpub(ontology=str(merged)).make_html(destination=target)
        except Exception as exc:  # pyLODE raises its own error types and plain ones
            raise MbtkgError(f"pyLODE could not document the ontology: {exc}") from None
    return target


def build_hierarchy_picture(
    out_dir: Path, *, location: str | Path | None = None
) -> tuple[Path, Path, int]:
    """Write ``hierarchy.png`` and ``hierarchy.svg`` into ``out_dir``; return them and the count."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingExtraError(
            "the hierarchy picture needs matplotlib, part of the optional 'docs' extra: "
            f"{INSTALL_HINT}"
        ) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    graph = release_graph(read_ontology(location))
    png, svg = out_dir / "hierarchy.png", out_dir / "hierarchy.svg"
    title = f"mbtkg ontology {version_info(graph)}: class hierarchy"
    count = draw_hierarchy(graph, png, svg, title=title)
    return png, svg, count


def build_docs(out_dir: str | Path, *, location: str | Path | None = None) -> DocsResult:
    """Write the HTML reference and the hierarchy picture of an ontology into ``out_dir``.

    Raises MissingExtraError when the ``docs`` extra is not installed and OntologyParseError
    when an ontology file does not parse.
    """
    out = Path(out_dir)
    html = build_html(out, location=location)
    png, svg, count = build_hierarchy_picture(out, location=location)
    return DocsResult(index_html=html, hierarchy_png=png, hierarchy_svg=svg, classes=count)
