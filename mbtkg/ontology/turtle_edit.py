"""Surgical edits of hand-written Turtle: change one statement, keep every other byte.

The ontology's sources are laid out one predicate per line inside a subject's statement
(``    obo:IAO_0000115 "..." ;``), as ``ontology/README.md`` describes. The edits here work on
that layout: replace one literal where it is written, rewrite the lines of one predicate of one
subject, or add and drop axiom annotations. Everything not edited stays byte-identical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .migration import code_of, split_statements

_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def unescape(body: str) -> str:
    """The value of a Turtle short string's body (between the quotes)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in ("u", "U"):
                width = 4 if nxt == "u" else 8
                out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
                i += 2 + width
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def quote(value: str) -> str:
    """A Turtle short string literal for ``value``."""
    body = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{body}"'


@dataclass
class TurtleText:
    """The lines of one Turtle file, with edits applied in place."""

    lines: list[str]
    edits: int = field(default=0)

    @classmethod
    def parse(cls, text: str) -> TurtleText:
        return cls(text.split("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def statements(self) -> list[tuple[int, int]]:
        return split_statements(self.lines)

    def subject_statements(self, subject: str) -> list[tuple[int, int]]:
        """(first, last) of each statement whose subject is ``subject`` (a CURIE or <IRI>)."""
        return [(a, b) for a, b in self.statements() if self.lines[a].split(None, 1)[0] == subject]

    def axiom_blocks(self, subject: str, prop: str) -> list[tuple[int, int]]:
        """Axiom annotations (``[] a owl:Axiom``) on a statement of ``subject`` with ``prop``."""
        out = []
        for a, b in self.statements():
            if not self.lines[a].startswith("[] a owl:Axiom"):
                continue
            chunk = self.lines[a : b + 1]
            if any(line.strip() == f"owl:annotatedSource {subject} ;" for line in chunk) and any(
                line.strip() == f"owl:annotatedProperty {prop} ;" for line in chunk
            ):
                out.append((a, b))
        return out

    def replace_literal(self, subject: str, prop: str, old: str, new: str) -> bool:
        """Replace the literal ``old`` of (subject, prop) by ``new`` where it is written, and in
        the ``owl:annotatedTarget`` of axiom annotations on that statement. True if found."""
        found = False
        for a, b in self.subject_statements(subject):
            for i in range(a, b + 1):
                line = self.lines[i]
                head = line if i != a else line[len(subject) :]
                if not re.match(rf"^\s*{re.escape(prop)} ", head):
                    continue
                replaced = self._swap(line, old, new)
                if replaced != line:
                    self.lines[i] = replaced
                    found = True
        if found:
            for a, b in self.axiom_blocks(subject, prop):
                for i in range(a, b + 1):
                    if self.lines[i].strip().startswith("owl:annotatedTarget "):
                        self.lines[i] = self._swap(self.lines[i], old, new)
            self.edits += 1
        return found

    @staticmethod
    def _swap(line: str, old: str, new: str) -> str:
        def one(match: re.Match[str]) -> str:
            return quote(new) if unescape(match.group(1)) == old else match.group(0)

        return _STRING.sub(one, line)

    def set_values(
        self, subject: str, prop: str, values: list[str], *, after: tuple[str, ...] = ()
    ) -> None:
        """Rewrite the lines of ``prop`` in the subject's main statement to hold ``values``
        (Turtle terms, written one per line). New lines go where the old ones were, or after
        the last line of the first predicate in ``after`` the statement has, or at its end.
        Raises ValueError when the values are spread over other statements or lines."""
        spans = self.subject_statements(subject)
        if not spans:
            raise ValueError(f"{subject} has no statement in this file")
        a, b = spans[0]
        for other_a, other_b in spans[1:]:
            for i in range(other_a, other_b + 1):
                if re.match(rf"^(\S+ )?\s*{re.escape(prop)} ", self.lines[i]):
                    raise ValueError(f"{subject} states {prop} in a second statement")
        own = [
            i for i in range(a + 1, b + 1) if re.match(rf"^\s+{re.escape(prop)} ", self.lines[i])
        ]
        for i in own:
            if not re.search(r"[;.]\s*$", self.lines[i]) or "[" in self.lines[i]:
                raise ValueError(f"{subject}: {prop} is written over several lines")
        last_was_end = bool(own) and own[-1] == b
        indent = "    "
        new_lines = [f"{indent}{prop} {v} ;" for v in values]
        if own:
            position = own[0]
            for i in reversed(own):
                del self.lines[i]
            b -= len(own)
        else:
            position = b + 1
            for anchor in after:
                hits = [
                    i
                    for i in range(a + 1, b + 1)
                    if re.match(rf"^\s+{re.escape(anchor)} ", self.lines[i])
                ]
                if hits:
                    position = hits[-1] + 1
                    break
            last_was_end = position == b + 1
        self.lines[position:position] = new_lines
        b += len(new_lines)
        if last_was_end:
            # The statement now ends at its new last line: move the final "." there.
            for i in range(a, b):
                if code_of(self.lines[i]).endswith("."):
                    self.lines[i] = _terminate(self.lines[i], ";")
            self.lines[b] = _terminate(self.lines[b], ".")
        self.edits += 1

    def remove_block(self, a: int, b: int) -> None:
        """Delete lines a..b and one blank line before them."""
        start = a - 1 if a > 0 and not self.lines[a - 1].strip() else a
        del self.lines[start : b + 1]
        self.edits += 1

    def insert_after_statement(self, subject: str, block: list[str]) -> None:
        """Insert a blank line and ``block`` after the subject's main statement."""
        a, b = self.subject_statements(subject)[0]
        self.lines[b + 1 : b + 1] = ["", *block]
        self.edits += 1


def _terminate(line: str, term: str) -> str:
    stripped = line.rstrip()
    if stripped[-1:] in (";", "."):
        stripped = stripped[:-1].rstrip()
    return f"{stripped} {term}"
