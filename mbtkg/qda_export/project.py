"""Write sessions as a REFI-QDA project (``.qdpx``): transcripts, the code book, codings.

The archive holds ``project.qde`` and one plain-text file per session under ``sources/``. The
transcript has one paragraph per turn, ``SPEAKER: text``, so the importer reads the same turns
back from the speaker prefixes. The code book is the ontology's (:mod:`.codebook`); each
annotation becomes a ``PlainTextSelection`` with one coding by its annotator (a project User
named by the annotator's pseudonymous id). A selection covers the annotation's turns, or only
its quote when the annotation is on one turn and the quote is found there. Offsets count code
points of the UTF-8 text, which has LF line breaks and no byte-order mark, as QualCoder reads
them. What REFI-QDA cannot hold (relations between annotations, confidence) is counted in the
export's notes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from .. import vocab
from ..concepts import ConceptIndex, default_index
from ..errors import InputError
from ..sessions.model import Annotation, Session
from ..sessions.transcript import DEFAULT_SPEAKER_PATTERN, compile_pattern
from .codebook import CodeNode, code_elements, codebook_tree
from .guids import guid

#: The namespace of a REFI-QDA project document.
PROJECT_NS = "urn:QDA-XML:project:1.0"
_SEPARATOR = "\n\n"
_UNKNOWN_SPEAKER = "unknown"


@dataclass(frozen=True)
class QdpxExport:
    """A written project: the archive's bytes and what a person should know about it."""

    data: bytes
    sessions: tuple[str, ...]
    selections: int
    codes: int
    users: tuple[str, ...]
    speakers: str  # the --speakers option that reads the roles back
    notes: tuple[str, ...]

    def describe(self, target: str) -> str:
        """Several lines for people: what was written, and how to import it back."""
        lines = [
            f"wrote {len(self.sessions)} session(s) ({', '.join(self.sessions)}) as a REFI-QDA "
            f"project to {target}: {self.selections} coded selection(s), {self.codes} code(s), "
            f"{len(self.users)} user(s)"
        ]
        lines.extend(f"  note: {n}" for n in self.notes)
        annotators = ",".join(f"{u}={u}" for u in self.users)
        lines.append(
            f"  to import it back: mbtkg import qdpx {target} --speakers '{self.speakers}'"
            + (f" --annotators '{annotators}'" if annotators else "")
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class _Transcript:
    text: str
    spans: dict[int, tuple[int, int]]  # turn id -> [start, end) of its text


def _transcript(session: Session, notes: list[str]) -> _Transcript:
    pattern = compile_pattern(DEFAULT_SPEAKER_PATTERN)
    parts: list[str] = []
    spans: dict[int, tuple[int, int]] = {}
    pos = 0
    for turn in session.turns:
        label = turn.speaker or _UNKNOWN_SPEAKER
        if turn.speaker is None:
            notes.append(f"{session.id} turn {turn.id}: no speaker; written as {label!r}")
        prefix = f"{label}: "
        if not pattern.match(prefix):
            notes.append(
                f"{session.id}: speaker id {label!r} does not read back as a prefix with the "
                "default --speaker-pattern"
            )
        text = turn.text or ""
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            notes.append(f"{session.id} turn {turn.id}: CR line breaks written as LF")
        if any(pattern.match(line) for line in text.split("\n")[1:]):
            notes.append(
                f"{session.id} turn {turn.id}: a line of its text starts like a speaker prefix; "
                "an import would split the turn there"
            )
        start = pos + len(prefix)
        spans[turn.id] = (start, start + len(text))
        parts.append(prefix + text)
        pos = start + len(text) + len(_SEPARATOR)
    return _Transcript(_SEPARATOR.join(parts) + "\n", spans)


def _selection_range(
    session: Session, an: Annotation, transcript: _Transcript, notes: list[str]
) -> tuple[int, int] | None:
    if an.start is None or an.end is None:
        notes.append(f"{session.id} annotation {an.id}: no turns; not written")
        return None
    first, last = transcript.spans.get(an.start), transcript.spans.get(an.end)
    if first is None or last is None:
        notes.append(f"{session.id} annotation {an.id}: a turn it names is missing; not written")
        return None
    if an.start == an.end and an.quote:
        text = transcript.text[first[0] : first[1]]
        at = an.text_start
        if at is None or text[at : at + len(an.quote)] != an.quote:
            at = text.find(an.quote)
        if at >= 0:
            return first[0] + at, first[0] + at + len(an.quote)
    return first[0], last[1]


def _natural(text: str) -> list[tuple[int, int | str]]:
    """Sort key that puts ``A-2`` before ``A-10``."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.findall(r"\d+|\D+", text)]


def _timestamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_qdpx(
    sessions: Sequence[Session],
    *,
    index: ConceptIndex | None = None,
    created: dt.datetime | None = None,
    origin: str = "mbtkg",
) -> QdpxExport:
    """The sessions as a REFI-QDA project archive (bytes) with the ontology's code book.

    ``created`` stamps every element that has a creation time (default: now), so two exports
    with the same time are byte for byte the same. Raises InputError when no session is given
    or two share an id.
    """
    if not sessions:
        raise InputError("no session to export; name at least one session id")
    ids = [s.id for s in sessions]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InputError(f"session(s) named twice: {', '.join(twice)}")
    index = index or default_index()
    created = created or dt.datetime.now(dt.UTC).replace(microsecond=0)
    when = _timestamp(created)
    notes: list[str] = []
    tree = codebook_tree(index)
    codes = {node.iri: node for top in tree for node in top.walk()}
    users: list[str] = []
    for session in sessions:
        for who in [a.id for a in session.annotators] + [a.annotator for a in session.annotations]:
            if who is not None and who not in users:
                users.append(who)
    users.sort(key=_natural)
    user_guid = {u: guid(vocab.annotator_iri(u)) for u in users}
    root = ET.Element(
        "Project",
        {
            "xmlns": PROJECT_NS,
            "name": f"mbtkg sessions: {', '.join(ids)}",
            "origin": origin,
            "creationDateTime": when,
        },
    )
    if users:
        holder = ET.SubElement(root, "Users")
        for u in users:
            ET.SubElement(holder, "User", {"guid": user_guid[u], "name": u, "id": u})
    extra: list[CodeNode] = []
    sources = ET.Element("Sources")
    texts: dict[str, bytes] = {}
    selections = relations = confidences = 0
    roles: dict[str, str] = {}
    for session in sessions:
        for p in session.participants:
            if p.role is not None:
                roles.setdefault(p.id, p.role)
        transcript = _transcript(session, notes)
        source_guid = guid(vocab.session_iri(session.id))
        member = f"{source_guid}.txt"
        texts[member] = transcript.text.encode("utf-8")
        source = ET.SubElement(
            sources,
            "TextSource",
            {
                "guid": source_guid,
                "name": session.id,
                "plainTextPath": f"internal://{member}",
                "creationDateTime": when,
            },
        )
        who = ", ".join(f"{p.id} ({p.role or 'no role'})" for p in session.participants)
        ET.SubElement(
            source, "Description"
        ).text = f"mbtkg session {session.id}; speakers: {who or 'none declared'}"
        for an in session.annotations:
            relations += len(an.relations)
            confidences += an.confidence is not None
            if an.concept_iri is None:
                notes.append(f"{session.id} annotation {an.id}: no concept; not written")
                continue
            span = _selection_range(session, an, transcript, notes)
            if span is None:
                continue
            if an.concept_iri not in codes:
                node = CodeNode(
                    an.concept_iri, index.label(an.concept_iri), guid(an.concept_iri), None
                )
                codes[an.concept_iri] = node
                extra.append(node)
                notes.append(
                    f"code {node.name!r} is not a codable concept of the ontology (deprecated or "
                    "structural); added at the top of the code book"
                )
            ann_iri = vocab.annotation_iri(session.id, an.id)
            attrs = {
                "guid": guid(ann_iri),
                "name": transcript.text[span[0] : span[1]],
                "startPosition": str(span[0]),
                "endPosition": str(span[1]),
            }
            coding_attrs = {"guid": guid(ann_iri + "/coding")}
            if an.annotator is not None:
                attrs["creatingUser"] = coding_attrs["creatingUser"] = user_guid[an.annotator]
            attrs["creationDateTime"] = coding_attrs["creationDateTime"] = when
            selection = ET.SubElement(source, "PlainTextSelection", attrs)
            if an.note:
                ET.SubElement(selection, "Description").text = an.note
            coding = ET.SubElement(selection, "Coding", coding_attrs)
            ET.SubElement(coding, "CodeRef", {"targetGUID": codes[an.concept_iri].guid})
            selections += 1
    if relations:
        notes.append(
            f"{relations} relation(s) between annotations (repairs, respondsTo ...) have no "
            "place in REFI-QDA and were not written"
        )
    if confidences:
        notes.append(f"{confidences} confidence value(s) have no place in REFI-QDA; not written")
    book = ET.SubElement(root, "CodeBook")
    code_elements(ET.SubElement(book, "Codes"), [*tree, *extra])
    root.append(sources)
    ET.indent(root)
    qde = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    speakers = ",".join(f"{p}={p}:{r}" for p, r in roles.items())
    return QdpxExport(
        data=_zip(qde, texts, created),
        sessions=tuple(ids),
        selections=selections,
        codes=len(codes),
        users=tuple(users),
        speakers=speakers,
        notes=tuple(notes),
    )


def _zip(qde: bytes, texts: dict[str, bytes], created: dt.datetime) -> bytes:
    stamp = max(created.astimezone(dt.UTC).timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("project.qde", qde), *((f"sources/{k}", v) for k, v in texts.items())]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
