"""Split a plain-text transcript into turns by speaker prefixes (``T:``, ``[P]`` ...).

A line that starts with a prefix opens a new turn; the lines after it, up to the next prefix,
continue that turn. The prefix pattern is a regular expression with a group named ``speaker``.
A transcript in which no line has a prefix becomes one turn per non-empty line, with no
speaker (the caller then needs a default speaker). Each turn keeps where its text sits in the
transcript, so character selections can be placed on turns.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ..errors import InputError

#: ``T: text``, ``[T] text``, ``[T]: text``, ``Therapist: text`` (label without spaces).
DEFAULT_SPEAKER_PATTERN = r"^[ \t]*\[?(?P<speaker>[A-Za-z][A-Za-z0-9_.-]{0,30})(?:\]:?|:)[ \t]*"


@dataclass(frozen=True)
class TranscriptTurn:
    """A turn of a transcript: its speaker label and where its text is."""

    label: str | None
    region_start: int  # where the turn's first line starts (prefix included)
    start: int  # where its text starts (after the prefix)
    end: int  # where its text ends (trailing white space left out)
    line: int  # 1-based line of the prefix
    text: str


def compile_pattern(pattern: str | None) -> re.Pattern[str]:
    """Compile a speaker pattern; raises InputError unless it has a ``speaker`` group."""
    try:
        compiled = re.compile(pattern or DEFAULT_SPEAKER_PATTERN, re.MULTILINE)
    except re.error as exc:
        raise InputError(f"--speaker-pattern is not a regular expression: {exc}") from None
    if "speaker" not in compiled.groupindex:
        raise InputError(
            "--speaker-pattern needs a group named 'speaker', e.g. "
            r"'^(?P<speaker>[A-Z]+):\s*'"
        )
    return compiled


def split_turns(text: str, pattern: re.Pattern[str]) -> tuple[list[TranscriptTurn], bool]:
    """The turns of a normalised transcript (LF line breaks) and whether prefixes were found."""
    lines: list[tuple[int, int, str]] = []  # (start index, line number, line text)
    pos = 0
    for number, line in enumerate(text.split("\n"), start=1):
        lines.append((pos, number, line))
        pos += len(line) + 1
    heads = []
    for start, number, line in lines:
        m = pattern.match(line)
        if m and m.group("speaker"):
            heads.append((start, number, m.group("speaker"), start + m.end()))
    if not heads:
        turns = []
        for start, number, line in lines:
            if line.strip():
                turns.append(_turn(text, None, start, start, start + len(line), number))
        return turns, False
    turns = []
    first_start = heads[0][0]
    if text[:first_start].strip():
        number = next(n for s, n, line in lines if line.strip())
        turns.append(_turn(text, None, 0, 0, first_start, number))
    for k, (start, number, label, body) in enumerate(heads):
        stop = heads[k + 1][0] if k + 1 < len(heads) else len(text)
        turns.append(_turn(text, label, start, body, stop, number))
    return turns, True


def _turn(
    text: str, label: str | None, region: int, start: int, stop: int, line: int
) -> TranscriptTurn:
    body = text[start:stop]
    lead = len(body) - len(body.lstrip())
    start += lead
    end = start + len(body.strip())
    return TranscriptTurn(label, region, start, end, line, text[start:end])


def turn_at(turns: list[TranscriptTurn], index: int) -> int:
    """The position in ``turns`` of the turn whose region holds a text index (regions are in
    text order; an index before the first region belongs to the first turn)."""
    return max(0, bisect_right(turns, index, key=lambda turn: turn.region_start) - 1)
