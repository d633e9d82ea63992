"""Import an ELAN annotation file (``.eaf``) as one session with timed turns.

Top-level tiers with a ``PARTICIPANT`` are speakers; each of their annotations is a turn, with
start and end in seconds, and turns of all speakers are ordered by start time. Coded tiers are
the child tiers of a participant tier whose linguistic type uses a controlled vocabulary, or the
tiers named with ``code_tiers``; each of their values is a code that maps to a concept through
the mapping file, placed on the parent turn. Other tiers are listed as left out. ELAN files are
parsed with :mod:`mbtkg.safe_xml` (no DTDs or entities).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..concepts import ConceptIndex, default_index
from ..errors import InputError, Location, ReaderProblems
from ..input_limits import check_file_size
from ..mapping import Code, CodeMapping, resolve_codes
from ..safe_xml import parse_xml
from .model import Annotation, Annotator, Participant, Session, Turn
from .read_result import ReadResult
from .speakers import guess_role, slug_id
from .yaml_reader import ID_PATTERN

#: A TIME_VALUE: whole milliseconds, ASCII digits (up to about 30,000 years).
_MILLISECONDS = re.compile(r"\s*[0-9]{1,15}\s*\Z")


class EafProblems(ReaderProblems):
    """An ELAN file has problems; ``problems`` lists each."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = tuple(problems)
        body = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"{len(problems)} problem(s); nothing was imported:\n{body}",
            Location(path),
            problems=problems,
        )


@dataclass(frozen=True)
class EafImport(ReadResult):
    """The session read from an ELAN file, the tiers used and those left out."""

    speaker_tiers: tuple[str, ...]
    code_tiers: tuple[str, ...]
    ignored_tiers: tuple[str, ...]
    unmapped: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def session(self) -> Session:
        """The one session an ELAN file holds."""
        return self.sessions[0]

    def describe(self) -> str:
        """A few lines for people."""
        s = self.session
        lines = [
            f"{s.source}: session {s.id!r}: {len(s.turns)} turn(s) from "
            f"{', '.join(repr(t) for t in self.speaker_tiers)}; {len(s.annotations)} "
            f"annotation(s) from {', '.join(repr(t) for t in self.code_tiers) or 'no coded tier'}"
        ]
        if self.ignored_tiers:
            lines.append(f"tiers not read: {', '.join(repr(t) for t in self.ignored_tiers)}")
        if self.unmapped:
            lines.append(f"left out, no mapping (--skip-unmapped): {', '.join(self.unmapped)}")
        if self.skipped:
            lines.append(f"left out, mapped to null: {', '.join(self.skipped)}")
        return "\n".join(lines)


def read_eaf(
    path: str | Path,
    *,
    mapping: CodeMapping | None = None,
    session_id: str | None = None,
    roles: Mapping[str, str] | None = None,
    code_tiers: Sequence[str] = (),
    annotator: str | None = None,
    skip_unmapped: bool = False,
    index: ConceptIndex | None = None,
) -> EafImport:
    """Read an ELAN file into one session.

    ``roles`` maps participant codes to roles (else guessed from codes like ``T1``/``P001``);
    ``annotator`` names the coder (else the tier's ANNOTATOR becomes ``A-1``, ``A-2`` ...).
    Raises EafProblems, UnmappedCodesError or an InputError for unsafe or broken XML.
    """
    index = index or default_index()
    p = Path(path)
    check_file_size(p)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", Location(str(p))) from None
    root = parse_xml(data, str(p))
    if root.tag != "ANNOTATION_DOCUMENT":
        raise InputError(
            f"not an ELAN file: the root element is <{root.tag}>, expected <ANNOTATION_DOCUMENT>",
            Location(str(p)),
        )
    problems: list[str] = []
    scale = 1000.0
    header = root.find("HEADER")
    unit = "milliseconds" if header is None else header.get("TIME_UNITS", "milliseconds")
    if unit != "milliseconds":
        problems.append(f"TIME_UNITS is {unit!r}; expected 'milliseconds'")
    slots: dict[str, float | None] = {}
    for slot in root.iter("TIME_SLOT"):
        value = slot.get("TIME_VALUE")
        ident = slot.get("TIME_SLOT_ID", "")
        if value is not None and not _MILLISECONDS.match(value):
            problems.append(
                f"time slot {ident!r}: TIME_VALUE {value[:40]!r} is not a whole number of "
                "milliseconds"
            )
            value = None
        slots[ident] = None if value is None else int(value) / scale
    types = {lt.get("LINGUISTIC_TYPE_ID", ""): lt for lt in root.iter("LINGUISTIC_TYPE")}
    tiers = root.findall("TIER")
    speakers = [t for t in tiers if t.get("PARENT_REF") is None and t.get("PARTICIPANT")]
    speaker_ids = {t.get("TIER_ID", ""): t.get("PARTICIPANT", "") for t in speakers}
    if not speakers:
        problems.append(
            "no top-level tier has a PARTICIPANT; expected one tier per speaker "
            f"(tiers: {', '.join(t.get('TIER_ID', '?') for t in tiers)})"
        )
    # Turns: every annotation of a participant tier, ordered by start time.
    raw_turns: list[tuple[float, float, str, str, str]] = []  # start, end, who, text, ann id
    for tier in speakers:
        who = tier.get("PARTICIPANT", "")
        if not ID_PATTERN.match(who):
            problems.append(f"tier {tier.get('TIER_ID')!r}: PARTICIPANT {who!r} is not a usable id")
            continue
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            start, end = (
                slots.get(ann.get("TIME_SLOT_REF1", "")),
                slots.get(ann.get("TIME_SLOT_REF2", "")),
            )
            if start is None or end is None:
                problems.append(
                    f"annotation {ann.get('ANNOTATION_ID')!r} on tier {tier.get('TIER_ID')!r} "
                    "has a time slot without a time; expected aligned utterances"
                )
                continue
            raw_turns.append(
                (
                    start,
                    end,
                    who,
                    ann.findtext("ANNOTATION_VALUE") or "",
                    ann.get("ANNOTATION_ID", ""),
                )
            )
    raw_turns.sort(key=lambda t: (t[0], t[1]))
    turn_of: dict[str, int] = {}
    turns: list[Turn] = []
    for k, (start, end, who, text, ann_id) in enumerate(raw_turns, start=1):
        turn_of[ann_id] = k
        turns.append(Turn(k, who, text.strip() or None, None, start, end))

    chosen = _code_tiers(tiers, types, speaker_ids, code_tiers, problems)
    coders: dict[str, str] = {}
    found: list[tuple[str, int, str, str]] = []  # (value, turn, annotation id, coder)
    ann_index = {
        a.get("ANNOTATION_ID", ""): a
        for t in tiers
        for a in t.iter()
        if a.tag in ("REF_ANNOTATION", "ALIGNABLE_ANNOTATION")
    }
    by_id = {t.get("TIER_ID", ""): t for t in tiers}
    for tier in chosen:
        owner = _root_tier(tier, by_id).get("PARTICIPANT", "")
        mine = _TurnsByTime([(t[0], t[1]) for t in raw_turns], [t[2] == owner for t in raw_turns])
        coder = annotator or coders.setdefault(tier.get("ANNOTATOR", ""), f"A-{len(coders) + 1}")
        for ann in tier.iter():
            if ann.tag not in ("REF_ANNOTATION", "ALIGNABLE_ANNOTATION"):
                continue
            turn = _parent_turn(ann, ann_index, slots, turn_of, mine)
            value = (ann.findtext("ANNOTATION_VALUE") or "").strip()
            if turn is None:
                problems.append(
                    f"annotation {ann.get('ANNOTATION_ID')!r} on tier {tier.get('TIER_ID')!r} "
                    "lies on no turn of a speaker tier"
                )
            elif value:
                found.append((value, turn, ann.get("ANNOTATION_ID", ""), coder))
    if problems:
        raise EafProblems(str(p), problems)
    resolution = resolve_codes(
        [Code(v) for v, _, _, _ in found],
        mapping,
        source=str(p),
        skip_unmapped=skip_unmapped,
        index=index,
    )
    concept = {c.name: iri for c, iri in resolution.concepts.items()}
    annotations = tuple(
        Annotation(ann_id, concept[v], v, turn, turn, coder)
        for v, turn, ann_id, coder in found
        if v in concept
    )
    people = dict.fromkeys(speaker_ids.values())
    session = Session(
        id=session_id or slug_id(p.name),
        source=str(p),
        participants=tuple(Participant(w, (roles or {}).get(w) or guess_role(w)) for w in people),
        annotators=tuple(
            Annotator(a) for a in dict.fromkeys(a.annotator for a in annotations if a.annotator)
        ),
        turns=tuple(turns),
        annotations=annotations,
    )
    used = {t.get("TIER_ID", "") for t in [*speakers, *chosen]}
    return EafImport(
        sessions=(session,),
        speaker_tiers=tuple(t.get("TIER_ID", "") for t in speakers),
        code_tiers=tuple(t.get("TIER_ID", "") for t in chosen),
        ignored_tiers=tuple(
            t.get("TIER_ID", "") for t in tiers if t.get("TIER_ID", "") not in used
        ),
        unmapped=resolution.unmapped,
        skipped=resolution.skipped,
    )


def _root_tier(tier: ET.Element, by_id: dict[str, ET.Element]) -> ET.Element:
    seen = set()
    while tier.get("PARENT_REF") and tier.get("PARENT_REF") in by_id and id(tier) not in seen:
        seen.add(id(tier))
        tier = by_id[tier.get("PARENT_REF", "")]
    return tier


def _code_tiers(
    tiers: list[ET.Element],
    types: dict[str, ET.Element],
    speaker_ids: dict[str, str],
    named: Sequence[str],
    problems: list[str],
) -> list[ET.Element]:
    by_id = {t.get("TIER_ID", ""): t for t in tiers}
    if named:
        out = []
        for name in named:
            if name not in by_id:
                problems.append(f"no tier {name!r}; tiers are {', '.join(map(repr, by_id))}")
            else:
                out.append(by_id[name])
        return out
    out = []
    for tier in tiers:
        if tier.get("PARENT_REF") is None:
            continue
        kind = types.get(tier.get("LINGUISTIC_TYPE_REF", ""))
        if (
            kind is not None
            and kind.get("CONTROLLED_VOCABULARY_REF")
            and _root_tier(tier, by_id).get("TIER_ID", "") in speaker_ids
        ):
            out.append(tier)
    return out


class _TurnsByTime:
    """One speaker's turns (numbered from 1 among all turns, ordered by start), found by time.

    The turn of a time is the first of the speaker's turns that holds it (start <= time < end)
    or starts at it; found by bisection, so coding many annotations stays fast.
    """

    def __init__(self, spans: list[tuple[float, float]], own: list[bool]) -> None:
        self.numbers = [k for k, mine in enumerate(own, start=1) if mine]
        self.starts = [spans[k - 1][0] for k in self.numbers]
        self.ends_so_far: list[float] = []  # the latest end among the first i turns
        latest = float("-inf")
        for k in self.numbers:
            latest = max(latest, spans[k - 1][1])
            self.ends_so_far.append(latest)

    def find(self, time: float) -> int | None:
        started = bisect_right(self.starts, time)  # turns starting at or before the time
        first_holding = bisect_right(self.ends_so_far, time)  # the first ending after it
        first_at = bisect_left(self.starts, time)  # the first starting at it
        found = [i for i in (first_holding, first_at) if i < started]
        return self.numbers[min(found)] if found else None


def _parent_turn(
    ann: ET.Element,
    index: dict[str, ET.Element],
    slots: dict[str, float | None],
    turn_of: dict[str, int],
    turns: _TurnsByTime,
) -> int | None:
    """The turn an annotation of a child tier belongs to: follow references, else by time."""
    current: ET.Element | None = ann
    for _ in range(32):
        if current is None:
            return None
        ident = current.get("ANNOTATION_ID", "")
        if ident in turn_of:
            return turn_of[ident]
        if current.tag == "REF_ANNOTATION":
            current = index.get(current.get("ANNOTATION_REF", ""))
            continue
        start = slots.get(current.get("TIME_SLOT_REF1", ""))
        if start is None:
            return None
        return turns.find(start)
    return None
