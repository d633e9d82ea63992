"""The errors mbtkg raises. The library never prints or exits; the CLI maps these to messages.

Every message is written for a person: it names the file, the line or field, what was found,
what was expected and, where one exists, the closest valid value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class MbtkgError(Exception):
    """Root of every error mbtkg raises on purpose."""


@dataclass(frozen=True)
class Location:
    """Where in a source file something was found (1-based line and column)."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.path
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


class InputError(MbtkgError):
    """A source file cannot be read as what it claims to be (syntax, ids, names).

    ``location`` says where; the message already includes it. Where the raiser knows them,
    ``field`` (a column, key or attribute), ``found`` (never session text), ``expected`` and
    ``closest`` (the nearest valid value) say the same in parts, for reports.
    """

    field: str | None = None
    found: str | None = None
    expected: str | None = None
    closest: str | None = None

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location
        self.detail = message
        super().__init__(f"{location}: {message}" if location else message)


class UnknownNameError(InputError):
    """A name (concept, relation, query, parameter) that is not known; carries suggestions."""

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        *,
        suggestions: tuple[str, ...] = (),
    ) -> None:
        self.suggestions = suggestions
        self.closest = suggestions[0] if suggestions else None
        super().__init__(message, location)


@dataclass(frozen=True)
class LocatedProblem:
    """One problem a reader found: the file, line and field, and what was found, expected and
    closest where known; ``message`` is the problem as people read it."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None
    found: str | None = None
    expected: str | None = None
    closest: str | None = None

    @classmethod
    def of(cls, problem: InputError | str, file: str) -> LocatedProblem:
        """A problem from a reader's error (its location wins over ``file``) or its text."""
        if isinstance(problem, str):
            return cls(file, problem)
        where = problem.location
        return cls(
            file=where.path if where is not None else file,
            message=str(problem),
            line=where.line if where is not None else None,
            field=problem.field,
            found=problem.found,
            expected=problem.expected,
            closest=problem.closest,
        )

    def __str__(self) -> str:
        return self.message


class ReaderProblems(InputError):
    """Every problem a session reader found in one input; nothing was read.

    The one aggregate error of the readers (YAML, CSV, ELAN, REFI-QDA; each format's subclass
    keeps its own message). ``located`` lists each problem as a :class:`LocatedProblem`.
    """

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        *,
        problems: Sequence[InputError | str] = (),
        file: str | None = None,
    ) -> None:
        super().__init__(message, location)
        default = file or (location.path if location is not None else "")
        self.located = tuple(LocatedProblem.of(p, default) for p in problems)


class ValidationFailed(MbtkgError):
    """One or more sessions did not conform to the shapes; ``report`` holds the violations."""

    def __init__(self, message: str, report: object) -> None:
        self.report = report
        super().__init__(message)


class StoreError(MbtkgError):
    """A store cannot be opened, read or written; nothing was changed."""


class QueryError(MbtkgError):
    """A competency query or its parameters are wrong, or the engine refused the query."""


class ResourceError(MbtkgError):
    """A bundled resource (ontology, shapes, queries, examples) is missing or broken."""


class MissingExtraError(MbtkgError):
    """An optional dependency (an "extra", such as ``plots`` or ``docs``) is not installed.

    The message names the extra and the pip command that installs it.
    """


class SheetError(InputError):
    """A term sheet cannot be applied; ``problems`` lists each as ``FILE:ROW:COLUMN: ...``."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = tuple(problems or ())
        super().__init__("\n".join([message, *self.problems]))


class LimitExceededError(InputError):
    """An input is larger or deeper than mbtkg reads (see :mod:`mbtkg.input_limits`).

    The message names the limit, the value found and how to get under it (split the file).
    """
