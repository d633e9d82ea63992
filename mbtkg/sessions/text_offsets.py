"""Character offsets as QDA tools count them, and a detector for which counting a file used.

REFI-QDA says nothing about the unit of ``startPosition``/``endPosition``. Tools differ: some
count code points, NVivo 12.6 counts UTF-16 code units after the byte-order mark with CRLF as
two; others count CRLF as one. A :class:`Reading` is one such counting. Text is normalised
(BOM removed, CRLF and CR turned into LF) and each reading maps its offsets onto it.
:func:`detect_reading` scores every candidate reading by how many selections start and end on
word boundaries and how many quotes match, and picks the best.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

BOM = "\ufeff"


@dataclass(frozen=True)
class Reading:
    """One way to count offsets: the unit, what CRLF counts, and whether the BOM counts."""

    unit: str  # "code points" or "UTF-16 code units"
    crlf: int  # 1 or 2
    bom_counted: bool = False

    def __str__(self) -> str:
        bom = ", the byte-order mark counted as 1" if self.bom_counted else ""
        return f"{self.unit}, CRLF counted as {self.crlf}{bom}"


@dataclass(frozen=True)
class Source:
    """A decoded transcript: the normalised text and what the raw text had."""

    text: str  # BOM removed, every line break a single "\n"
    raw: str  # BOM removed, line breaks as in the file
    had_bom: bool
    has_crlf: bool
    has_astral: bool


def decode_source(data: bytes) -> Source:
    """Decode UTF-8 bytes (BOM allowed) into a :class:`Source`; raises UnicodeDecodeError."""
    raw = data.decode("utf-8")
    had_bom = raw.startswith(BOM)
    if had_bom:
        raw = raw[1:]
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    return Source(
        text=text,
        raw=raw,
        had_bom=had_bom,
        has_crlf="\r\n" in raw,
        has_astral=bool(raw) and max(raw) > "\uffff",
    )


class OffsetMap:
    """Converts offsets of one reading into indices of the normalised text.

    Most characters count one unit; only a CRLF counted as two and an astral character in
    UTF-16 count two. Only the indices of those "wide" characters are kept (in an array), so
    the map takes memory in proportion to them, not to the text.
    """

    def __init__(self, source: Source, reading: Reading) -> None:
        self.reading = reading
        self.base = 1 if reading.bom_counted and source.had_bom else 0
        utf16 = reading.unit.startswith("UTF-16")
        wide = array("q")
        joined = 0  # CRLF pairs before the current match (each is one character in the text)
        irregular = source.has_crlf or (utf16 and source.has_astral)
        for match in _IRREGULAR.finditer(source.raw) if irregular else ():
            index = match.start() - joined
            if match.group() == "\r\n":
                joined += 1
                if reading.crlf == 2:
                    wide.append(index)
            elif utf16:
                wide.append(index)
        self.wide = wide
        self.length = len(source.raw) - joined  # the length of the normalised text
        self.total = self.base + self.length + len(wide)

    def _start(self, k: int) -> int:
        """The offset at which character ``k`` of the normalised text starts."""
        return self.base + k + bisect_left(self.wide, k)

    def to_index(self, offset: int) -> int | None:
        """The index in the normalised text, or None when the offset splits a character."""
        if offset == self.total:
            return self.length
        k = bisect_left(range(self.length), offset, key=self._start)
        if k < self.length and self._start(k) == offset:
            return k
        return None


#: What can count other than one unit: a CRLF pair, and a character outside the BMP.
_IRREGULAR = re.compile("\r\n|[\U00010000-\U0010ffff]")


def candidate_readings(source: Source) -> list[Reading]:
    """The readings that can differ for this text, simplest first."""
    units = ["code points", "UTF-16 code units"] if source.has_astral else ["code points"]
    crlfs = [1, 2] if source.has_crlf else [1]
    boms = [False, True] if source.had_bom else [False]
    return [Reading(u, c, b) for u in units for c in crlfs for b in boms]


def _boundary(text: str, i: int) -> bool:
    if i <= 0 or i >= len(text):
        return True
    return text[i - 1].isalnum() != text[i].isalnum() or text[i] == "\n" or text[i - 1] == "\n"


@dataclass(frozen=True)
class ReadingChoice:
    """The reading chosen for a source, with its score and how the others fared."""

    reading: Reading
    boundaries: int  # starts and ends on word boundaries under the chosen reading
    quotes: int  # selection names equal to the covered text
    positions: int  # offsets checked (two per selection)
    alternatives: tuple[tuple[Reading, int], ...]  # every candidate with its score
    ambiguous: bool  # True when all candidates give the same text (nothing to tell apart)

    def describe(self) -> str:
        """A sentence for people: which reading was used and why."""
        if self.ambiguous:
            return f"offsets read as {self.reading} (all readings agree on this text)"
        runners = ", ".join(f"{r}: {s}" for r, s in self.alternatives if r != self.reading)
        return (
            f"offsets read as {self.reading}: {self.boundaries} of {self.positions} offsets on "
            f"word boundaries, {self.quotes} quote(s) matched (other readings scored {runners})"
        )


def detect_reading(
    source: Source, selections: Sequence[tuple[int, int, str | None]]
) -> ReadingChoice:
    """Pick the reading under which the selections (start, end, quote-or-None) fit best.

    A selection that falls outside the text or splits a character under a reading scores
    heavily against it. Ties go to the simplest reading (code points, CRLF as one).
    """
    scored: list[tuple[int, int, int, Reading]] = []
    for reading in candidate_readings(source):
        omap = OffsetMap(source, reading)
        score = boundaries = quotes = 0
        for start, end, quote in selections:
            i, j = omap.to_index(start), omap.to_index(end)
            if i is None or j is None or i > j:
                score -= 10
                continue
            for k in (i, j):
                if _boundary(source.text, k):
                    boundaries += 1
            if quote and source.text[i:j] == quote:
                quotes += 1
        score += boundaries + 2 * quotes
        scored.append((score, boundaries, quotes, reading))
    best = max(scored, key=lambda s: s[0])  # max keeps the first (simplest) of equal scores
    return ReadingChoice(
        reading=best[3],
        boundaries=best[1],
        quotes=best[2],
        positions=2 * len(selections),
        alternatives=tuple((r, s) for s, _, _, r in scored),
        ambiguous=len(scored) == 1,
    )
