"""Read a REFI-QDA archive (``.qdpx``): find its project document and its text sources.

Only what a session needs is read: Users, the code book, and each TextSource with its
PlainTextSelections and their codings. Other sources (PDF, pictures, audio, video) are counted
so the caller can say they were left out. The archive is untrusted: it is opened with
:mod:`mbtkg.safe_archive` and its XML parsed with :mod:`mbtkg.safe_xml`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Location, ReaderProblems
from ..mapping import Code, normalize_guid
from ..safe_archive import ArchiveLimits, SafeArchive
from ..safe_xml import parse_xml

_OTHER_SOURCES = ("PDFSource", "PictureSource", "AudioSource", "VideoSource")


@dataclass(frozen=True)
class Coding:
    """One code applied to a selection, by a user (GUIDs normalised)."""

    code_guid: str
    user_guid: str | None


@dataclass(frozen=True)
class Selection:
    """A PlainTextSelection: a half-open range [start, end) in the source's own units."""

    guid: str
    name: str
    start: int
    end: int
    codings: tuple[Coding, ...]


@dataclass(frozen=True)
class TextSource:
    """A TextSource: its name, its text (bytes, as stored) and its selections."""

    guid: str
    name: str
    member: str | None  # the archive member holding the text, when not inline
    data: bytes
    selections: tuple[Selection, ...]
    whole_source_codings: int = 0  # Codings on the source itself, not on a selection


@dataclass(frozen=True)
class Project:
    """What mbtkg reads from a REFI-QDA project."""

    path: str
    qde: str  # the archive member holding the project document
    name: str
    users: tuple[tuple[str, str], ...]  # (guid, name), in document order
    codes: dict[str, Code]  # normalised GUID -> code
    not_codable: frozenset[str]  # GUIDs of codes marked isCodable="false"
    sources: tuple[TextSource, ...]
    other_sources: int
    default_user: str | None


class QdpxProblems(ReaderProblems):
    """A REFI-QDA archive has problems; ``problems`` lists each with where it was found."""

    def __init__(self, path: str, problems: list[InputError]) -> None:
        self.problems = tuple(problems)
        body = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) in {path}; nothing was imported:\n{body}",
            problems=problems,
            file=path,
        )


def find_project_member(names: list[str], path: str) -> str:
    """The single ``*.qde`` at the archive root (any name, any case); raises InputError."""
    qdes = [n for n in names if "/" not in n.strip("/") and n.lower().endswith(".qde")]
    if len(qdes) == 1:
        return qdes[0]
    if not qdes:
        raise InputError(
            "no project document: expected one *.qde file at the archive root "
            f"(found {', '.join(names[:8]) or 'no files'})",
            Location(path),
        )
    raise InputError(
        f"several project documents at the archive root ({', '.join(qdes)}); expected one",
        Location(path),
    )


def _find_source_member(names: list[str], ref: str) -> str | None:
    """The member for ``internal://NAME``: ``sources/NAME`` with the folder in any case."""
    wanted = ref.lower()
    for name in names:
        folder, _, leaf = name.rpartition("/")
        if folder.lower() == "sources" and leaf.lower() == wanted:
            return name
    return None


def _int(element: ET.Element, attr: str) -> int | None:
    try:
        return int(element.get(attr, ""))
    except ValueError:
        return None


def _codes(root: ET.Element) -> dict[str, Code]:
    out: dict[str, Code] = {}

    def walk(parent: ET.Element, prefix: str) -> None:
        for code in parent.findall("Code"):
            name = code.get("name", "")
            path = f"{prefix}/{name}" if prefix else name
            guid = normalize_guid(code.get("guid", ""))
            out[guid] = Code(name=name, guid=guid, path=path if prefix else None)
            walk(code, path)

    book = root.find("CodeBook/Codes")
    if book is not None:
        walk(book, "")
    return out


def read_project(path: str | Path, *, limits: ArchiveLimits | None = None) -> Project:
    """Open a ``.qdpx`` and read its project, users, codes and text sources.

    Raises InputError (UnsafeArchiveError, UnsafeXmlError) for unsafe or unreadable archives
    and QdpxProblems listing every broken source or selection.
    """
    p = str(path)
    with SafeArchive(path, limits=limits) as archive:
        names = archive.names()
        qde = find_project_member(names, p)
        root = parse_xml(archive.read(qde), f"{p}!{qde}")
        if root.tag != "Project":
            raise InputError(
                f"{qde} is not a REFI-QDA project: its root element is <{root.tag}>, "
                "expected <Project>",
                Location(p),
            )
        problems: list[InputError] = []
        sources: list[TextSource] = []
        for element in root.iter("TextSource"):
            source = _text_source(element, archive, names, p, problems)
            if source is not None:
                sources.append(source)
    users = tuple(
        (normalize_guid(u.get("guid", "")), u.get("name", "")) for u in root.findall("Users/User")
    )
    if problems:
        raise QdpxProblems(p, problems)
    creator = root.get("creatingUserGUID")
    return Project(
        path=p,
        qde=qde,
        name=root.get("name", ""),
        users=users,
        codes=_codes(root),
        not_codable=frozenset(
            normalize_guid(c.get("guid", ""))
            for c in root.iter("Code")
            if c.get("isCodable", "true").lower() == "false"
        ),
        sources=tuple(sources),
        other_sources=sum(len(root.findall(f"Sources/{kind}")) for kind in _OTHER_SOURCES),
        default_user=normalize_guid(creator) if creator else None,
    )


def _text_source(
    element: ET.Element,
    archive: SafeArchive,
    names: list[str],
    path: str,
    problems: list[InputError],
) -> TextSource | None:
    name = element.get("name") or element.get("guid") or "?"
    where = Location(f"{path} [{name}]")
    inline = element.find("PlainTextContent")
    ref = element.get("plainTextPath", "")
    member: str | None = None
    if inline is not None and inline.text is not None:
        data = inline.text.encode("utf-8")
    elif ref.lower().startswith("internal://"):
        member = _find_source_member(names, ref[len("internal://") :])
        if member is None:
            problems.append(
                InputError(
                    f"plainTextPath {ref!r} is not in the archive (expected "
                    f"sources/{ref[len('internal://') :]}, folder name in any case)",
                    where,
                )
            )
            return None
        data = archive.read(member)
    else:
        problems.append(
            InputError(
                f"the text is outside the archive (plainTextPath {ref!r}); export the project "
                "with its sources embedded",
                where,
            )
        )
        return None
    selections = []
    for sel in element.findall("PlainTextSelection"):
        guid = normalize_guid(sel.get("guid", ""))
        start, end = _int(sel, "startPosition"), _int(sel, "endPosition")
        if start is None or end is None:
            problems.append(
                InputError(
                    f"selection {guid}: startPosition/endPosition must be whole numbers, found "
                    f"{sel.get('startPosition')!r}/{sel.get('endPosition')!r}",
                    where,
                )
            )
            continue
        default_user = sel.get("creatingUser")
        codings = []
        for coding in sel.findall("Coding"):
            ref_el = coding.find("CodeRef")
            user = coding.get("creatingUser") or default_user
            if ref_el is None or not ref_el.get("targetGUID"):
                problems.append(InputError(f"selection {guid}: a Coding without CodeRef", where))
                continue
            codings.append(
                Coding(
                    normalize_guid(ref_el.get("targetGUID", "")),
                    normalize_guid(user) if user else None,
                )
            )
        selections.append(Selection(guid, sel.get("name", ""), start, end, tuple(codings)))
    return TextSource(
        guid=normalize_guid(element.get("guid", "")),
        name=name,
        member=member,
        data=data,
        selections=tuple(selections),
        whole_source_codings=len(element.findall("Coding")),
    )


def project_codes(path: str | Path, *, limits: ArchiveLimits | None = None) -> list[Code]:
    """The codable codes of a project's code book, in document order (``--suggest-mapping``)."""
    project = read_project(path, limits=limits)
    return [c for g, c in project.codes.items() if g not in project.not_codable]
