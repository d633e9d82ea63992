"""Where the bundled resources live, in an installed wheel and in a checkout alike.

``ontology/``, ``shapes/``, ``queries/`` and ``examples/`` exist once, at the top of the
repository. The wheel carries them under ``mbtkg/_resources/``; a checkout (or an editable
install) reads them from the repository root. Nothing here reads anything outside those two.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ResourceError

_NAMES = ("ontology", "shapes", "queries", "examples")
_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The directory of one resource kind: ``ontology``, ``shapes``, ``queries`` or ``examples``.

    Raises ResourceError if neither the installed copy nor the checkout copy exists.

    >>> resource_dir("queries").name
    'queries'
    """
    if name not in _NAMES:
        raise ResourceError(f"unknown resource kind {name!r}; expected one of {', '.join(_NAMES)}")
    for candidate in (_PACKAGE_DIR / "_resources" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise ResourceError(
        f"the {name}/ directory is missing: looked in {_PACKAGE_DIR / '_resources'} "
        f"and {_PACKAGE_DIR.parent}; reinstall mbtkg"
    )


def ontology_files() -> list[Path]:
    """The Turtle files that together make the ontology, in a stable order."""
    files = sorted(resource_dir("ontology").glob("*.ttl"))
    if not files:
        raise ResourceError(f"no ontology files (*.ttl) in {resource_dir('ontology')}")
    return files


def import_files() -> list[Path]:
    """The third-party import modules (``ontology/imports/``, e.g. BFO 2020), in a stable order.

    They are not part of :func:`ontology_files`: our own modules are the ontology that queries,
    checks and diffs read; the reasoner merges these imports with them (see
    :func:`mbtkg.ontology.reasoning.run_hermit`). An installation without the folder has no imports.
    """
    return import_modules_in(resource_dir("ontology"))


def import_modules_in(ontology_folder: Path) -> list[Path]:
    """The import modules of an ontology folder: ``imports/*.ttl`` and ``*.owl``, sorted."""
    folder = ontology_folder / "imports"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".ttl", ".owl"))


def shape_files() -> list[Path]:
    """The SHACL shape files, in a stable order."""
    files = sorted(resource_dir("shapes").glob("*.ttl"))
    if not files:
        raise ResourceError(f"no shape files (*.ttl) in {resource_dir('shapes')}")
    return files


def example_sessions() -> list[Path]:
    """The bundled example sessions (YAML), in a stable order."""
    return sorted((resource_dir("examples") / "sessions").glob("*.yaml"))
