"""What every session reader gives back: the sessions read, and what each format noticed.

The format readers' results (``CsvImport``, ``EafImport``, ``QdpxImport``) are subclasses that
add what their format detected or left out; :func:`mbtkg.sessions.read_sessions` returns one
for any file. Problems are raised, all at once, as one :class:`~mbtkg.errors.ReaderProblems`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Session


@dataclass(frozen=True)
class ReadResult:
    """The sessions a reader read from one input, in file order."""

    sessions: tuple[Session, ...]

    def describe(self) -> str:
        """A line per session for people (never its text)."""
        return "\n".join(
            f"{s.source}: session {s.id!r}: {len(s.turns)} turn(s), "
            f"{len(s.annotations)} annotation(s)"
            for s in self.sessions
        )
