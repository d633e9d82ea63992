"""Import sessions kept in spreadsheets saved as CSV: one row per turn, codes wide or long.

The turns sheet has the columns ``session, turn, speaker, text`` and optionally ``role``,
``start`` and ``end`` (seconds). Any other column is a *code column* (the wide layout): a
non-empty cell other than ``0``/``no``/``false`` codes that turn with the column's code. An
annotations sheet (the long layout) has ``session, id, concept, first_turn, last_turn`` and
optionally ``annotator, quote, confidence, note``. Codes and concepts go through the same
mapping file as REFI-QDA codes. Problems are reported as "FILE row N, column 'C': ...",
counting the header as row 1 as a spreadsheet does. Any problem fails the whole import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..concepts import ConceptIndex, default_index
from ..cycle_collector import collector_paused
from ..errors import InputError, LimitExceededError, Location, MbtkgError, ReaderProblems
from ..input_limits import MAX_ROWS, MAX_VALUE_CHARS, check_file_size
from ..mapping import Code, CodeMapping, resolve_codes
from .found_values import found
from .model import ROLES, Annotation, Annotator, Participant, Session, Turn
from .read_result import ReadResult
from .speakers import guess_role
from .yaml_reader import ID_PATTERN

TURN_COLUMNS = ("session", "turn", "speaker", "text")
OPTIONAL_TURN_COLUMNS = ("role", "start", "end")
ANNOTATION_COLUMNS = ("session", "id", "concept", "first_turn", "last_turn")
OPTIONAL_ANNOTATION_COLUMNS = ("annotator", "quote", "confidence", "note")
#: How much of the header line the delimiter sniffer looks at (it is slow on long lines).
_SNIFF_CHARS = 4096
_FALSE = {"", "0", "no", "false", "n", "-"}


class RowError(InputError):
    """A problem in one cell of a sheet: "FILE row N, column 'C': message"."""

    def __init__(self, path: str, row: int, column: str | None, message: str) -> None:
        self.location = Location(path, row)
        self.detail = message
        self.field = column
        where = f"{path} row {row}" + (f", column {column!r}" if column else "")
        MbtkgError.__init__(self, f"{where}: {message}")


class CsvProblems(ReaderProblems):
    """A spreadsheet import has problems; ``problems`` lists each with its row and column."""

    def __init__(self, problems: list[InputError]) -> None:
        self.problems = tuple(problems)
        body = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"{len(problems)} problem(s); nothing was imported:\n{body}", problems=problems
        )


@dataclass(frozen=True)
class CsvImport(ReadResult):
    """Sessions read from sheets, with the code columns found and what was left out."""

    sessions: tuple[Session, ...]
    code_columns: tuple[str, ...]
    unmapped: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """A few lines for people."""
        lines = [
            f"{s.source}: session {s.id!r}: {len(s.turns)} turn(s), "
            f"{len(s.annotations)} annotation(s), {len(s.annotators)} annotator(s)"
            for s in self.sessions
        ]
        if self.code_columns:
            lines.append(f"code columns: {', '.join(self.code_columns)}")
        if self.unmapped:
            lines.append(f"left out, no mapping (--skip-unmapped): {', '.join(self.unmapped)}")
        if self.skipped:
            lines.append(f"left out, mapped to null: {', '.join(self.skipped)}")
        return "\n".join(lines)


def _rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    check_file_size(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", Location(str(path))) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}); save the sheet as CSV UTF-8", Location(str(path))
        ) from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0][:_SNIFF_CHARS], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    previous_limit = csv.field_size_limit(MAX_VALUE_CHARS)
    try:
        return _records(path, reader)
    except csv.Error as exc:
        row = max(reader.line_num, 1)
        if "field larger than field limit" in str(exc):
            raise LimitExceededError(
                f"a cell has more than {MAX_VALUE_CHARS} characters, the limit for one cell; "
                "split the text over several turns",
                Location(str(path), row),
            ) from None
        raise InputError(f"not readable as CSV: {exc}", Location(str(path), row)) from None
    finally:
        csv.field_size_limit(previous_limit)


def _records(
    path: Path, reader: Iterator[list[str]]
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("the sheet is empty; expected a header row", Location(str(path))) from None
    keys = [h.lower() for h in header]
    rows = []
    for number, record in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise LimitExceededError(
                f"the sheet has more than {MAX_ROWS} rows, the limit for one sheet; split it "
                "into several files",
                Location(str(path), number),
            )
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(keys):
            raise RowError(
                str(path), number, None, f"{len(record)} cells, but the header has {len(keys)}"
            )
        rows.append(
            (number, {k: record[i].strip() if i < len(record) else "" for i, k in enumerate(keys)})
        )
    return header, rows


def _need(path: Path, header: list[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in [h.lower() for h in header]]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the header has {', '.join(header)} "
            f"and needs {', '.join(required)}",
            Location(str(path), 1),
        )


@collector_paused()  # keeps the time per row constant as sheets grow
def read_csv_sessions(
    turns_path: str | Path,
    *,
    annotations_path: str | Path | None = None,
    mapping: CodeMapping | None = None,
    roles: Mapping[str, str] | None = None,
    annotator: str = "A-1",
    skip_unmapped: bool = False,
    index: ConceptIndex | None = None,
) -> CsvImport:
    """Read a turns sheet (and optionally an annotations sheet) into sessions.

    ``roles`` maps participant ids to roles when the sheet has no ``role`` column;
    ``annotator`` is the coder of the wide code columns. Raises CsvProblems listing every
    problem with its row and column, or UnmappedCodesError.
    """
    index = index or default_index()
    tpath = Path(turns_path)
    header, rows = _rows(tpath)
    _need(tpath, header, TURN_COLUMNS)
    known = set(TURN_COLUMNS) | set(OPTIONAL_TURN_COLUMNS)
    code_columns = [h for h in header if h.lower() not in known and h]
    problems: list[InputError] = []
    src = str(tpath)

    order: list[str] = []
    turns: dict[str, list[Turn]] = {}
    people: dict[str, dict[str, str | None]] = {}
    role_rows: dict[tuple[str, str], tuple[str, int]] = {}
    wide: list[tuple[str, int, str, int]] = []  # (session, turn, column, row)
    turn_keys: set[tuple[str, int]] = set()  # (session, turn) already read
    for number, row in rows:
        sid = row["session"]
        if not ID_PATTERN.match(sid):
            problems.append(RowError(src, number, "session", _bad_id("a session id", sid)))
            continue
        try:
            tid = int(row["turn"])
            if tid < 1:
                raise ValueError
        except ValueError:
            problems.append(
                RowError(
                    src,
                    number,
                    "turn",
                    f"found {found(row['turn'])}; expected a whole number from 1 up",
                )
            )
            continue
        speaker = row["speaker"]
        if not ID_PATTERN.match(speaker):
            problems.append(RowError(src, number, "speaker", _bad_id("a speaker id", speaker)))
            continue
        if sid not in turns:
            order.append(sid)
            turns[sid] = []
            people[sid] = {}
        if (sid, tid) in turn_keys:
            problems.append(
                RowError(src, number, "turn", f"turn {tid} of session {sid!r} is given twice")
            )
            continue
        turn_keys.add((sid, tid))
        role = (row.get("role") or "").lower() or None
        if role is not None and role not in ROLES:
            problems.append(
                RowError(src, number, "role", f"found {found(role)}; expected {' or '.join(ROLES)}")
            )
            role = None
        if role is not None:
            seen = role_rows.get((sid, speaker))
            if seen and seen[0] != role:
                problems.append(
                    RowError(
                        src,
                        number,
                        "role",
                        f"{found(speaker)} is {role!r} here but {seen[0]!r} in row {seen[1]}",
                    )
                )
            role_rows.setdefault((sid, speaker), (role, number))
        chosen = role or (roles or {}).get(speaker) or people[sid].get(speaker)
        people[sid][speaker] = chosen or guess_role(speaker)
        times: list[float | None] = []
        for key in ("start", "end"):
            value = row.get(key, "")
            try:
                times.append(float(value) if value else None)
            except ValueError:
                problems.append(
                    RowError(src, number, key, f"found {found(value)}; expected seconds")
                )
                times.append(None)
        turns[sid].append(Turn(tid, speaker, row["text"] or None, number, times[0], times[1]))
        for column in code_columns:
            if row.get(column.lower(), "").lower() not in _FALSE:
                wide.append((sid, tid, column, number))

    long_rows: list[tuple[int, dict[str, str]]] = []
    apath = Path(annotations_path) if annotations_path is not None else None
    if apath is not None:
        aheader, long_rows = _rows(apath)
        _need(apath, aheader, ANNOTATION_COLUMNS)

    codes = [Code(c) for _, _, c, _ in wide] + [Code(r["concept"]) for _, r in long_rows]
    resolution = resolve_codes(codes, mapping, source=src, skip_unmapped=skip_unmapped, index=index)
    concept_of = {c.name: iri for c, iri in resolution.concepts.items()}

    notes: dict[str, list[Annotation]] = {sid: [] for sid in order}
    for sid, tid, column, number in wide:
        if column in concept_of:
            notes[sid].append(
                Annotation(
                    id=f"{_slug(column)}-t{tid}",
                    concept_iri=concept_of[column],
                    concept_name=column,
                    start=tid,
                    end=tid,
                    annotator=annotator,
                    line=number,
                )
            )
    if apath is not None:
        _long(str(apath), long_rows, turns, concept_of, notes, problems)
    if problems:
        raise CsvProblems(problems)
    sessions = []
    for sid in order:
        anns = tuple(notes[sid])
        coders = dict.fromkeys(a.annotator for a in anns if a.annotator)
        sessions.append(
            Session(
                id=sid,
                source=src,
                participants=tuple(Participant(p, r) for p, r in people[sid].items()),
                annotators=tuple(Annotator(c) for c in coders),
                turns=tuple(turns[sid]),
                annotations=anns,
            )
        )
    return CsvImport(
        sessions=tuple(sessions),
        code_columns=tuple(code_columns),
        unmapped=resolution.unmapped,
        skipped=resolution.skipped,
    )


def _long(
    src: str,
    rows: list[tuple[int, dict[str, str]]],
    turns: dict[str, list[Turn]],
    concept_of: dict[str, str],
    out: dict[str, list[Annotation]],
    problems: list[InputError],
) -> None:
    texts_of: dict[str, dict[int, str]] = {}
    ids_of: dict[str, set[str]] = {sid: {a.id for a in anns} for sid, anns in out.items()}
    for number, row in rows:
        sid = row["session"]
        if sid not in turns:
            hits = ConceptIndex.suggest(sid, list(turns), n=1)
            hint = f"; did you mean {hits[0]!r}?" if hits else ""
            problems.append(
                RowError(src, number, "session", f"no session {sid!r} in the turns sheet{hint}")
            )
            continue
        if row["concept"] not in concept_of:
            continue  # unmapped or mapped to null: listed in the result
        if not ID_PATTERN.match(row["id"]):
            problems.append(RowError(src, number, "id", _bad_id("an annotation id", row["id"])))
            continue
        if row["id"] in ids_of.setdefault(sid, set()):
            problems.append(
                RowError(src, number, "id", f"annotation {row['id']!r} of {sid!r} is given twice")
            )
            continue
        span: list[int] = []
        for key in ("first_turn", "last_turn"):
            value = row[key] or (row["first_turn"] if key == "last_turn" else "")
            try:
                span.append(int(value))
            except ValueError:
                problems.append(
                    RowError(src, number, key, f"found {found(value)}; expected a turn number")
                )
        if len(span) != 2:
            continue
        texts = texts_of.get(sid)
        if texts is None:
            texts = texts_of[sid] = {t.id: t.text or "" for t in turns[sid]}
        for key, turn_id in zip(("first_turn", "last_turn"), span, strict=True):
            if turn_id not in texts:
                problems.append(
                    RowError(
                        src,
                        number,
                        key,
                        f"session {sid!r} has no turn {turn_id} (turns {min(texts)}-{max(texts)})",
                    )
                )
        quote = row.get("quote") or None
        start = end = None
        if quote is not None and span[0] in texts:
            ids = range(span[0], span[1] + 1) if span[1] - span[0] < len(texts) else texts
            covered = [texts[t] for t in ids if t in texts and span[0] <= t <= span[1]]
            if not any(quote in text for text in covered):
                problems.append(
                    RowError(
                        src,
                        number,
                        "quote",
                        f"the quote ({len(quote)} characters) is not in the text of turns "
                        f"{span[0]}-{span[1]}; expected "
                        "words copied exactly from one of those turns",
                    )
                )
                continue
            at = texts[span[0]].find(quote)
            if at >= 0:
                start, end = at, at + len(quote)
        confidence = None
        if row.get("confidence"):
            try:
                confidence = float(row["confidence"])
            except ValueError:
                problems.append(
                    RowError(
                        src,
                        number,
                        "confidence",
                        f"found {found(row['confidence'])}; expected a number from 0 to 1",
                    )
                )
        ids_of[sid].add(row["id"])
        out[sid].append(
            Annotation(
                id=row["id"],
                concept_iri=concept_of[row["concept"]],
                concept_name=row["concept"],
                start=span[0],
                end=span[1],
                annotator=row.get("annotator") or None,
                quote=quote,
                confidence=confidence,
                note=row.get("note") or None,
                line=number,
                text_start=start,
                text_end=end,
            )
        )


def _bad_id(what: str, value: str) -> str:
    return (
        f"found {found(value)}; expected {what} of letters, digits, '.', '_' and '-' "
        "starting with a letter or digit"
    )


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return "-".join(p for p in out.split("-") if p) or "code"
