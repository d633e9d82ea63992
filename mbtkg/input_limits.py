"""How large and how deep an untrusted session file may be, and the checks that say so.

Every reader bounds what it reads so that no file, however made, can take unbounded time or
memory: a file is refused before it is read when it is too large, and while it is read when
it expands (YAML aliases), nests or repeats past one of these limits. Each limit is far above
what a real session needs (the largest bundled example is 14 kB); the message names the file,
the line where known, the limit and what to do. ``docs/security.md`` lists them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LimitExceededError, Location

if TYPE_CHECKING:
    from .sessions.model import Session

#: Size of one session file read whole (YAML, CSV, ELAN, JSON-LD, Turtle), in bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Characters in one text value: a turn's text, a quote, a note, a spreadsheet cell. The
#: store's N-Quads parser refuses a line over 16 MiB; escaped text can take six bytes a
#: character, so one million characters always fits.
MAX_VALUE_CHARS = 1_000_000
#: Characters in one id (of a session, participant, annotator, annotation or relation target).
MAX_ID_CHARS = 1_000
#: Rows of one spreadsheet (turns or annotations sheet).
MAX_ROWS = 1_000_000
#: YAML nodes after every alias is expanded (a 10,000-turn session has about 100,000).
MAX_YAML_NODES = 1_000_000
#: How deep mappings, lists or XML elements may nest (a session file needs fewer than 10).
MAX_DEPTH = 100


def check_file_size(path: str | Path, *, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse a file larger than ``limit`` bytes before reading it (a missing file passes)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return  # the reader says "no such file" or why it cannot be read
    if size > limit:
        raise LimitExceededError(
            f"the file has {size} bytes, more than the limit of {limit} bytes for one session "
            "file; split it into several files",
            Location(str(path)),
        )


def check_session_sizes(session: Session) -> None:
    """Refuse a session with an id longer than :data:`MAX_ID_CHARS` characters or a text
    value longer than :data:`MAX_VALUE_CHARS`: every quad then fits the store's parser."""
    ids: list[tuple[str, int | None, str | None]] = [("session id", session.line, session.id)]
    ids += [("participant id", p.line, p.id) for p in session.participants]
    ids += [("annotator id", a.line, a.id) for a in session.annotators]
    ids += [(f"turn {t.id} speaker", t.line, t.speaker) for t in session.turns]
    for ann in session.annotations:
        ids += [("annotation id", ann.line, ann.id), ("annotator", ann.line, ann.annotator)]
        ids += [("relation target", r.line or ann.line, r.target) for r in ann.relations]
    for what, line, text in ids:
        if text is not None and len(text) > MAX_ID_CHARS:
            raise LimitExceededError(
                f"a {what} has {len(text)} characters, more than the limit of {MAX_ID_CHARS}",
                Location(session.source, line),
            )
    values: list[tuple[str, int | None, str | None]] = []
    for turn in session.turns:
        values.append((f"turn {turn.id} text", turn.line, turn.text))
    for ann in session.annotations:
        values.append((f"annotation {ann.id!r} quote", ann.line, ann.quote))
        values.append((f"annotation {ann.id!r} note", ann.line, ann.note))
    for what, line, text in values:
        if text is not None and len(text) > MAX_VALUE_CHARS:
            raise LimitExceededError(
                f"the {what} has {len(text)} characters, more than the limit of "
                f"{MAX_VALUE_CHARS}; split it into several turns",
                Location(session.source, line),
            )
