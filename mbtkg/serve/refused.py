"""What the endpoint answers: a finished answer, or a refusal with an HTTP status and a sentence."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus


class Refused(Exception):
    """A request the endpoint answers with an error status and a sentence."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        self.status = status
        super().__init__(message)

    def __reduce__(self) -> tuple[type[Refused], tuple[HTTPStatus, str]]:
        # sent back from a query worker process through pickle
        return (Refused, (self.status, str(self)))


@dataclass(frozen=True)
class Answer:
    """A finished answer: media type and body."""

    content_type: str
    body: bytes
