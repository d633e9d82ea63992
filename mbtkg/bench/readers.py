"""The ``readers`` phase of ``mbtkg bench``: time per turn of the CSV and YAML readers by size.

One session of about 1,000, 10,000 and 100,000 turns is written in each format (YAML by
:func:`mbtkg.generate.generate_corpus`, CSV by :func:`write_csv_session`: a turns sheet with
two code columns and an annotations sheet with a quote on every other turn), then each is

- **read** (the reader alone: file to session model), and
- **checked** (session model to N-Quads, then fast validation with shapes compiled beforehand,
  so that the one-off compile does not count against the small sizes).

The figure is microseconds per turn; a reader is linear when its largest per-turn time is
within :data:`READER_RATIO_MAX` of its smallest.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..concepts import default_index
from ..generate import generate_corpus
from ..sessions import Session, read_session, session_to_rdf
from ..sessions.csv_reader import read_csv_sessions
from ..validation.fast_shacl.engine import FastValidator

SIZES = (1_000, 10_000, 100_000)
#: Largest per-turn time over the smallest, from 1,000 to 100,000 turns (issue 16).
READER_RATIO_MAX = 1.5
_WORDS = ("the weekend", "my sister", "the bus", "work", "the holiday", "sleep", "the letter")


def write_csv_session(directory: Path, turns: int) -> tuple[Path, Path]:
    """A turns sheet of one session of ``turns`` turns and its annotations sheet; fiction."""
    directory.mkdir(parents=True, exist_ok=True)
    sheet = ["session,turn,speaker,role,text,teleological mode,not-knowing stance"]
    notes = ["session,id,concept,first_turn,last_turn,annotator,quote,confidence"]
    for t in range(1, turns + 1):
        speaker, role = ("T-1", "therapist") if t % 2 else ("P-1", "patient")
        topic = _WORDS[t % len(_WORDS)]
        text = f"Turn {t}: something about {topic} and what it was like."
        sheet.append(
            f"big-csv,{t},{speaker},{role},{text},{'x' if t % 7 == 0 else ''},"
            f"{'x' if t % 11 == 0 else ''}"
        )
        if t % 2 == 0:
            last = min(t + 1, turns)
            notes.append(f"big-csv,n{t},withdrawal rupture,{t},{last},A-2,about {topic},0.8")
    turns_path, notes_path = directory / "turns.csv", directory / "annotations.csv"
    turns_path.write_text("\n".join(sheet) + "\n", encoding="utf-8")
    notes_path.write_text("\n".join(notes) + "\n", encoding="utf-8")
    return turns_path, notes_path


def size_row(
    turns: int, annotations: int, read_s: float, check_s: float, conforms: bool
) -> dict[str, Any]:
    """One size's figures. Seconds keep microseconds: a small file is read in well under a
    millisecond, and its time per turn is computed from the unrounded time.

    >>> size_row(21, 5, 0.00075, 0.002, True)["read_s"]
    0.00075
    """
    return {
        "turns": turns,
        "annotations": annotations,
        "read_s": round(read_s, 6),
        "check_s": round(check_s, 6),
        "read_us_per_turn": round(read_s / turns * 1e6, 1),
        "check_us_per_turn": round(check_s / turns * 1e6, 1),
        "conforms": conforms,
    }


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure_readers(
    workdir: Path, *, sizes: Sequence[int] = SIZES, repeat: int = 1
) -> dict[str, Any]:
    """Per-turn read and check times of each format at each size, their ratios and ``met``."""
    index = default_index()
    validator = FastValidator()
    out: dict[str, Any] = {"sizes": list(sizes), "formats": {}}
    readers: dict[str, Callable[[int], Callable[[], Session]]] = {}

    def csv_reader(n: int) -> Callable[[], Session]:
        turns, notes = write_csv_session(workdir / f"csv-{n}", n)
        return lambda: read_csv_sessions(turns, annotations_path=notes, index=index).sessions[0]

    def yaml_reader(n: int) -> Callable[[], Session]:
        corpus = generate_corpus(workdir / f"yaml-{n}", sessions=1, turns=n, index=index)
        path = corpus.files[0]
        return lambda: read_session(path, index=index)

    readers["csv"], readers["yaml"] = csv_reader, yaml_reader
    met = True
    for name, make in readers.items():
        rows: list[dict[str, Any]] = []
        for n in sizes:
            read = make(n)
            read_s, session = _timed(read, repeat)

            def check(session: Session = session) -> bool:
                graph = session_to_rdf(session)
                return not validator.validate_many([graph], index=index)[0]

            check_s, conforms = _timed(check, repeat)
            rows.append(
                size_row(len(session.turns), len(session.annotations), read_s, check_s, conforms)
            )
        ratios = {
            key: round(max(r[key] for r in rows) / min(r[key] for r in rows), 3)
            for key in ("read_us_per_turn", "check_us_per_turn")
        }
        ok = all(v <= READER_RATIO_MAX for v in ratios.values()) and all(
            r["conforms"] for r in rows
        )
        met = met and ok
        out["formats"][name] = {"sizes": rows, "ratios": ratios, "met": ok}
    out["met"] = met
    return out
