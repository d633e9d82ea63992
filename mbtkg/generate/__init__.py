"""Generate a synthetic corpus of YAML sessions, optionally with errors planted at known places.

The corpus is for benchmarks and tests, not for research: the talk is stitched from a small
bank of fictional sentences. What is realistic is the shape: about 200 turns and 100
annotations per session, concepts drawn from the ontology's codable classes (the subclasses of
``mbt:SessionPhenomenon``) with plausible frequencies, ruptures followed by repairs that name
them, a second coder on some sessions, and patients seen over several sessions.

The output depends only on the arguments and the ontology: the same seed gives byte-identical
files. Each planted error is listed in ``manifest.json`` with its file, line, kind and the
(shape, constraint component) it must produce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..concepts import ConceptIndex, default_index
from .planting import ERROR_KINDS, PlantedError, mutate, plan_errors
from .render import render
from .talk import WEIGHTS, Concepts, make_drafts

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Corpus:
    """What :func:`generate_corpus` wrote."""

    directory: Path
    files: tuple[Path, ...]
    errors: tuple[PlantedError, ...]
    manifest: Path


def generate_corpus(
    out: str | Path,
    *,
    sessions: int,
    seed: int = 0,
    inject_errors: int = 0,
    turns: int = 200,
    index: ConceptIndex | None = None,
) -> Corpus:
    """Write ``sessions`` YAML files and ``manifest.json`` into ``out``; return what was written.

    Errors are planted in distinct sessions while there are enough, at positions drawn from the
    seed. ``turns`` sets the typical session length (annotations scale with it; tests use
    short sessions). Raises ValueError for a negative count or fewer than 12 turns.
    """
    if sessions < 0 or inject_errors < 0:
        raise ValueError("the numbers of sessions and errors cannot be negative")
    if turns < 12:
        raise ValueError(f"sessions need at least 12 turns, not {turns}")
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    concepts = Concepts(index or default_index())
    drafts = make_drafts(sessions, seed, concepts, turns)
    plan = plan_errors(drafts, inject_errors, seed)
    files: list[Path] = []
    errors: list[PlantedError] = []
    for i, draft in enumerate(drafts):
        targets: list[tuple[str, int, str]] = []
        for kind, rng in plan.get(i, []):
            targets.append(mutate(draft, kind, rng, concepts))
        for item in (*draft.turns, *draft.annotations):
            item.pop("_planted", None)
        name = f"{draft.sid}.yaml"
        text, lines = render(draft)
        path = directory / name
        path.write_bytes(text.encode("utf-8"))
        files.append(path)
        for kind, position, focus in targets:
            what = ERROR_KINDS[kind][0]
            line = lines[(what, position)]
            errors.append(PlantedError(name, line, kind, focus, ERROR_KINDS[kind][1]))
    manifest = directory / MANIFEST
    body = {"sessions": sessions, "seed": seed, "errors": [e.as_json() for e in errors]}
    manifest.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return Corpus(directory, tuple(files), tuple(errors), manifest)


__all__ = ["ERROR_KINDS", "MANIFEST", "WEIGHTS", "Corpus", "PlantedError", "generate_corpus"]
