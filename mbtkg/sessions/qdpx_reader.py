"""Import a REFI-QDA project (``.qdpx``) as sessions: one per transcript (TextSource).

Turns and speakers come from speaker prefixes in the transcript text; the project's Users
become annotators (``A-1``, ``A-2`` ... in document order unless named otherwise); each coding
of a PlainTextSelection becomes an annotation on the turns the selection covers, with the
covered text as quote and its position in the first turn. The offset unit of the file is
detected per source and reported. Any problem fails the whole import. For a project file
``project.qdpx``::

    result = read_qdpx("project.qdpx", mapping=None)
    print(result.describe())
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..concepts import ConceptIndex, default_index
from ..errors import InputError, Location
from ..mapping import Code, CodeMapping, resolve_codes
from ..safe_archive import ArchiveLimits
from .model import Annotation, Annotator, Participant, Session, Turn
from .qdpx_project import Project, QdpxProblems, TextSource, read_project
from .read_result import ReadResult
from .speakers import Speaker, guess_role, parse_speakers, slug_id
from .text_offsets import OffsetMap, decode_source, detect_reading
from .transcript import compile_pattern, split_turns, turn_at


@dataclass(frozen=True)
class SourceReport:
    """What became of one transcript: its session, the offset reading used, and notes."""

    source: str
    session_id: str
    reading: str
    turns: int
    annotations: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class QdpxImport(ReadResult):
    """The sessions read from a project, with what was detected, left out or renamed."""

    path: str
    sessions: tuple[Session, ...]
    reports: tuple[SourceReport, ...]
    annotators: dict[str, str]  # user name -> annotator id
    unmapped: tuple[str, ...]
    skipped: tuple[str, ...]
    other_sources: int
    #: Codable codes of the code book that no text selection applies (nothing to import).
    unused: tuple[str, ...] = ()

    def describe(self) -> str:
        """Several lines for people: sessions, readings, annotators and what was left out."""
        lines = [f"{self.path}: {len(self.sessions)} session(s) from text sources"]
        for r in self.reports:
            lines.append(
                f"  {r.source} -> session {r.session_id!r}: {r.turns} turn(s), "
                f"{r.annotations} annotation(s); {r.reading}"
            )
            lines.extend(f"    note: {n}" for n in r.notes)
        for name, ident in self.annotators.items():
            lines.append(f"  user {name!r} -> annotator {ident!r}")
        if self.unmapped:
            lines.append(f"  left out, no mapping (--skip-unmapped): {', '.join(self.unmapped)}")
        if self.skipped:
            lines.append(f"  left out, mapped to null: {', '.join(self.skipped)}")
        if self.unused:
            lines.append(
                f"  {len(self.unused)} code(s) of the code book never applied to a text "
                f"selection, so nothing to import: {', '.join(self.unused)}"
            )
        if self.other_sources:
            lines.append(
                f"  {self.other_sources} non-text source(s) (PDF, picture, audio, video) not read"
            )
        return "\n".join(lines)


def read_qdpx(
    path: str | Path,
    *,
    mapping: CodeMapping | None,
    speakers: str | Mapping[str, Speaker] | None = None,
    speaker_pattern: str | None = None,
    default_speaker: str | None = None,
    annotator_ids: Mapping[str, str] | None = None,
    skip_unmapped: bool = False,
    limits: ArchiveLimits | None = None,
    index: ConceptIndex | None = None,
) -> QdpxImport:
    """Read every TextSource of a ``.qdpx`` into a session.

    ``speakers`` maps prefix labels to participants (``"T=T-1:therapist,P=P-2:patient"``);
    a prefix not in it is an error. ``default_speaker`` (a label or id) takes the turns of a
    transcript that has no prefixes. ``annotator_ids`` maps user names or GUIDs to ids.
    Raises QdpxProblems listing every problem, UnmappedCodesError, or an unsafe-input error.
    """
    index = index or default_index()
    table = parse_speakers(speakers) if isinstance(speakers, str | None) else dict(speakers)
    pattern = compile_pattern(speaker_pattern)
    project = read_project(path, limits=limits)
    annotators = _annotator_ids(project, annotator_ids or {})
    used = [
        project.codes.get(c.code_guid, Code(name=c.code_guid, guid=c.code_guid))
        for s in project.sources
        for sel in s.selections
        for c in sel.codings
    ]
    resolution = resolve_codes(
        used, mapping, source=project.path, skip_unmapped=skip_unmapped, index=index
    )
    applied = {c.guid for c in used}
    unused = tuple(
        code.label
        for guid, code in project.codes.items()
        if guid not in applied and guid not in project.not_codable
    )
    builder = _Builder(project, table, pattern, default_speaker, annotators, resolution.concepts)
    sessions, reports = [], []
    taken: set[str] = set()
    for source in project.sources:
        built = builder.session(source, taken)
        if built is not None:
            sessions.append(built[0])
            reports.append(built[1])
            taken.add(built[0].id)
    if builder.problems:
        raise QdpxProblems(project.path, builder.problems)
    users = {name or guid: annotators[guid] for guid, name in project.users}
    return QdpxImport(
        path=project.path,
        sessions=tuple(sessions),
        reports=tuple(reports),
        annotators=users,
        unmapped=resolution.unmapped,
        skipped=resolution.skipped,
        other_sources=project.other_sources,
        unused=unused,
    )


def _annotator_ids(project: Project, given: Mapping[str, str]) -> dict[str, str]:
    """User GUID -> annotator id: the id given for the user's name or GUID, else ``A-k`` by
    document order, skipping ids given to other users (two users never share an id)."""
    chosen = {guid: given.get(name) or given.get(guid) for guid, name in project.users}
    taken = {ident for ident in chosen.values() if ident}
    out: dict[str, str] = {}
    k = 0
    for guid, _name in project.users:
        ident = chosen[guid]
        if not ident:
            k += 1
            while f"A-{k}" in taken:
                k += 1
            ident = f"A-{k}"
        out[guid] = ident
    return out


class _Builder:
    def __init__(
        self,
        project: Project,
        table: dict[str, Speaker],
        pattern: re.Pattern[str],
        default_speaker: str | None,
        annotators: dict[str, str],
        concepts: dict[Code, str],
    ) -> None:
        self.project = project
        self.table = table
        self.pattern = pattern
        self.default_speaker = default_speaker
        self.annotators = annotators
        self.concepts = {c.guid: iri for c, iri in concepts.items()}
        self.problems: list[InputError] = []

    def problem(self, source: TextSource, message: str, line: int | None = None) -> None:
        self.problems.append(InputError(message, Location(self.where(source), line)))

    def where(self, source: TextSource) -> str:
        return f"{self.project.path} [{source.name}]"

    def speaker(self, source: TextSource, label: str | None, line: int) -> Speaker | None:
        if label is None:
            label = self.default_speaker
            if label is None:
                self.problem(
                    source,
                    "the line has no speaker prefix (expected 'T: ...' or '[P] ...'); give "
                    "--default-speaker LABEL to give such lines to one speaker, or "
                    "--speaker-pattern for other prefixes",
                    line,
                )
                return None
        if self.table:
            hit = self.table.get(label) or next(
                (s for s in self.table.values() if s.id == label), None
            )
            if hit is None:
                hints = ConceptIndex.suggest(label, list(self.table), n=1)
                hint = f"; did you mean {hints[0]!r}?" if hints else ""
                self.problem(
                    source,
                    f"unknown speaker prefix {label!r}{hint} (expected one of "
                    f"{', '.join(self.table)}, as given by --speakers)",
                    line,
                )
                return None
            return hit
        return Speaker(label, slug_id(label), guess_role(label))

    def session(self, source: TextSource, taken: set[str]) -> tuple[Session, SourceReport] | None:
        before = len(self.problems)
        try:
            text = decode_source(source.data)
        except UnicodeDecodeError as exc:
            self.problem(source, f"the text is not UTF-8 (byte {exc.start}); expected UTF-8")
            return None
        choice = detect_reading(text, [(s.start, s.end, s.name or None) for s in source.selections])
        omap = OffsetMap(text, choice.reading)
        pieces, prefixed = split_turns(text.text, self.pattern)
        notes: list[str] = []
        if source.whole_source_codings:
            notes.append(
                f"{source.whole_source_codings} coding(s) of the whole source (not of a "
                "selection) were not imported: a session annotation needs turns"
            )
        if not prefixed and pieces:
            notes.append(
                f"no speaker prefixes: {len(pieces)} line(s) became turns of the default speaker"
            )
        turns: list[Turn] = []
        speakers: dict[str, Speaker] = {}
        for k, piece in enumerate(pieces, start=1):
            who = self.speaker(source, piece.label, piece.line)
            if who is not None:
                speakers.setdefault(who.id, who)
            turns.append(Turn(k, who.id if who else None, piece.text, piece.line))
        if not pieces:
            self.problem(source, "the transcript is empty; expected at least one turn")
        annotations: list[Annotation] = []
        for sel in source.selections:
            i, j = omap.to_index(sel.start), omap.to_index(sel.end)
            if sel.start < 0 or sel.end < sel.start or i is None or j is None:
                self.problem(
                    source,
                    f"selection {sel.guid}: [{sel.start}, {sel.end}) "
                    + (
                        "ends before it starts"
                        if sel.end < sel.start
                        else f"is outside the text or splits a character (the text has "
                        f"{omap.total} units when read as {choice.reading})"
                    )
                    + f"; expected 0 <= start <= end <= {omap.total}",
                )
                continue
            if not pieces:
                continue
            first, last = turn_at(pieces, i), turn_at(pieces, max(i, j - 1))
            head = pieces[first]
            qs, qe = max(i, head.start), min(j, head.end)
            quote = text.text[qs:qe] if qe > qs else None
            if i == j:
                notes.append(f"selection {sel.guid} has zero length; kept on turn {first + 1}")
            elif last > first:
                notes.append(
                    f"selection {sel.guid} spans turns {first + 1}-{last + 1}; its quote is the "
                    f"part in turn {first + 1}"
                )
            codings = [c for c in sel.codings if c.code_guid in self.concepts]
            for n, coding in enumerate(codings, start=1):
                user = coding.user_guid or self.project.default_user
                if user is not None and user not in self.annotators:
                    self.problem(
                        source,
                        f"selection {sel.guid}: coded by user {user}, who is not in the "
                        "project's Users",
                    )
                    continue
                annotations.append(
                    Annotation(
                        id=sel.guid if len(codings) == 1 else f"{sel.guid}-{n}",
                        concept_iri=self.concepts[coding.code_guid],
                        concept_name=self.project.codes[coding.code_guid].name
                        if coding.code_guid in self.project.codes
                        else None,
                        start=first + 1,
                        end=last + 1,
                        annotator=self.annotators.get(user) if user else None,
                        quote=quote,
                        text_start=None if quote is None else qs - head.start,
                        text_end=None if quote is None else qe - head.start,
                    )
                )
        if len(self.problems) > before:
            return None
        for s in self.table.values():
            speakers.setdefault(s.id, s)
        session_id = slug_id(source.name)
        while session_id in taken:
            session_id = f"{session_id}-{source.guid[:8]}"
        session = Session(
            id=session_id,
            source=self.where(source),
            participants=tuple(Participant(s.id, s.role) for s in speakers.values()),
            annotators=tuple(Annotator(a) for a in dict.fromkeys(self.annotators.values())),
            turns=tuple(turns),
            annotations=tuple(annotations),
        )
        report = SourceReport(
            source=source.name,
            session_id=session_id,
            reading=choice.describe(),
            turns=len(turns),
            annotations=len(annotations),
            notes=tuple(notes),
        )
        return session, report
