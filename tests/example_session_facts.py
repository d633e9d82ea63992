"""Facts about the bundled example sessions, read straight from their YAML with PyYAML.

The annotate tests compare what the workbench and the measurement report with these, so that
re-coding the examples does not need ids and counts edited by hand in the tests, while the
expected values still come from the files themselves and not from the code under test
(mbtkg.sessions, mbtkg.annotate).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mbtkg.resources import example_sessions


def _document(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text())
    assert isinstance(data, dict), f"{path}: a session file is a mapping"
    return data


def _span(turns: object) -> tuple[int, int]:
    """First and last turn of an annotation's ``turns:`` (a number or a [first, last] pair)."""
    if isinstance(turns, int):
        return turns, turns
    assert isinstance(turns, list) and len(turns) == 2, f"unexpected turns: {turns!r}"
    return int(turns[0]), int(turns[1])


def coded_turns(path: Path) -> int:
    """How many turns of a session lie inside the span of at least one annotation."""
    data = _document(path)
    ids = {int(t["id"]) for t in data["turns"]}
    covered: set[int] = set()
    for annotation in data.get("annotations") or []:
        first, last = _span(annotation["turns"])
        covered |= {i for i in ids if first <= i <= last}
    return len(covered)


def all_coded_turns() -> int:
    """Coded turns over all the bundled example sessions."""
    return sum(coded_turns(Path(p)) for p in example_sessions())


def counts(path: Path) -> tuple[int, int, list[str]]:
    """Turns, annotations and annotator ids of a session."""
    data = _document(path)
    return (
        len(data["turns"]),
        len(data.get("annotations") or []),
        sorted(str(a["id"]) for a in data.get("annotators") or []),
    )


def next_annotation_id(path: Path, annotator: str) -> str:
    """The id a new annotation by ``annotator`` gets: its id letters, one past its highest number."""
    data = _document(path)
    numbers: dict[str, list[int]] = {}
    for annotation in data.get("annotations") or []:
        if annotation.get("annotator") == annotator:
            m = re.fullmatch(r"([A-Za-z]+)(\d+)", str(annotation["id"]))
            assert m, f"{path}: unexpected id {annotation['id']!r}"
            numbers.setdefault(m.group(1), []).append(int(m.group(2)))
    assert len(numbers) == 1, f"{path}: {annotator} uses one id prefix, found {sorted(numbers)}"
    ((prefix, used),) = numbers.items()
    taken = {str(a["id"]) for a in data.get("annotations") or []}
    new = f"{prefix}{max(used) + 1}"
    assert new not in taken
    return new
