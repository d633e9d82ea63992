"""A fast reader for the plain part of YAML that session files are written in.

Session files use little of YAML: block mappings and lists, flow mappings and lists on one
line (``- {id: 1, speaker: T-1, text: "..."}``), plain, single- and double-quoted scalars on
one line, and comments. :func:`read_subset` reads exactly that, line by line, about three
times faster than PyYAML composes and builds its nodes (with their marks) for the same text
(3.3 ms against 9.4 ms for a generated 200-turn session), and gives the same values, types and
line numbers.

Everything else raises :class:`OutsideSubset`, and the caller reads the text with PyYAML
instead: anchors and aliases, tags, block scalars (``|``, ``>``), a scalar or flow collection
over several lines, merge keys, duplicate keys, tabs, directives and document markers, and every
syntax error. So the subset decides only how fast a file is read, never what it means or which
message a mistake gets; ``tests/test_yaml_subset.py`` compares the two readers on every session
file in the repository and on thousands of edited ones.

Plain scalars are resolved by PyYAML's own resolver and constructors (YAML 1.1: ``yes`` is
true, ``2024-01-08`` a date, ``1_000`` an int), so a value's type cannot differ either.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..input_limits import MAX_YAML_NODES


class LineMap(dict[Any, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class LineSeq(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int = 0
    item_lines: list[int]


class OutsideSubset(Exception):
    """The text uses YAML this reader leaves to PyYAML (or is no valid YAML at all)."""


#: Deeper nesting is left to PyYAML, which refuses past :data:`~mbtkg.input_limits.MAX_DEPTH`.
_MAX_DEPTH = 30
#: Lines the subset reads at most: it keeps each line's text while it parses, so a file of
#: millions of tiny lines is left to PyYAML and its limits (a 100,000-turn session has about
#: 100,000 lines in the flow style, 500,000 in the block style).
MAX_LINES = 2_000_000
#: PyYAML's longest simple key (a key on one line without ``?``).
_MAX_KEY_CHARS = 1024

#: Characters libyaml accepts in a stream, less tab, carriage return, byte-order mark and the
#: line breaks YAML 1.1 knows beyond ``\n`` (NEL, LS, PS): text with any other goes to PyYAML.
_OUTSIDE_CHARS = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
#: A plain scalar's first character: no indicator, no space; "-" only before a letter or digit.
_PLAIN_START = r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|-(?=[0-9A-Za-z.]))"
#: A plain scalar on one line in a block (may hold commas) and in a flow collection (may not).
#: Neither may hold ":" or "#" or brackets here, although YAML allows some of them: such
#: scalars are left to PyYAML rather than reasoned about.
_BLOCK_PLAIN = re.compile(_PLAIN_START + r"[^:#\[\]{}]*")
_FLOW_PLAIN = re.compile(_PLAIN_START + r"[^:#,\[\]{}]*")
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
#: A flow plain scalar as words: no space at either end (the subset's common case).
_FLOW_WORDS = _PLAIN_START + r"[^:#,\[\]{} ]*(?: +[^:#,\[\]{} ]+)*"
#: One entry of a flow mapping with a plain key and a scalar value, and what follows it, matched
#: at once: key, double-quoted body, single-quoted body, plain value, "," or "}". Anything else
#: (a space before ":", a nested collection) takes the general path.
_FLOW_ENTRY = re.compile(
    f"({_FLOW_WORDS}): +"
    r'(?:"([^"\\]*(?:\\.[^"\\]*)*)"'
    r"|'((?:[^']|'')*)'"
    f"|({_FLOW_WORDS}))"
    r" *(?:(,) *|(}))"
)
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
#: YAML 1.1's one-character escapes in double-quoted scalars, as libyaml reads them.
_ESCAPES = {
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "\\": "\\", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}  # fmt: skip

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BUILT_BY_PYYAML = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    _TIMESTAMP,
}
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
#: Plain scalars already resolved and built: text -> value. The same ids, numbers and names
#: recur thousands of times in a corpus; every value kept is immutable.
_PLAIN: dict[str, object] = {}
_PLAIN_MAX = 50_000
_PLAIN_MAX_CHARS = 40


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 1:
        if code not in _ESCAPES:
            raise OutsideSubset
        return _ESCAPES[code]
    value = int(code[1:], 16)
    if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
        raise OutsideSubset
    return chr(value)


def _plain_value(text: str) -> object:
    """The value PyYAML gives the plain scalar ``text`` (resolved by its rules, built by it)."""
    if len(text) <= _PLAIN_MAX_CHARS:
        value = _PLAIN.get(text, _PLAIN)
        if value is not _PLAIN:
            return value
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR:
        value = text
    elif tag in _BUILT_BY_PYYAML:
        build = _CONSTRUCTOR.yaml_constructors[tag]
        try:
            value = build(_CONSTRUCTOR, yaml.ScalarNode(tag, text))
        except ValueError:
            if tag != _TIMESTAMP:
                raise OutsideSubset from None
            value = text  # no real date (2025-13-01): the session reader reports the text
        except (TypeError, KeyError, ArithmeticError):
            raise OutsideSubset from None
    else:
        raise OutsideSubset  # a merge key "<<", "=" ...
    if len(text) <= _PLAIN_MAX_CHARS:
        if len(_PLAIN) >= _PLAIN_MAX:
            _PLAIN.clear()
        _PLAIN[text] = value
    return value


class _Lines:
    """The parser: the document's content lines as (line number, indent, text), and where it is."""

    def __init__(self, lines: list[tuple[int, int, str]]) -> None:
        self.lines = lines
        self.pos = 0
        self.nodes = 0

    def _count(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise OutsideSubset  # PyYAML refuses it with the limit's message

    # -- blocks ----------------------------------------------------------------------------
    def block(self, indent: int, depth: int) -> object:
        """The block collection whose first line is the current one, at ``indent``."""
        if depth > _MAX_DEPTH:
            raise OutsideSubset
        content = self.lines[self.pos][2]
        if content == "-" or content.startswith("- "):
            return self.sequence(indent, depth)
        return self.mapping(indent, depth)

    def sequence(self, indent: int, depth: int) -> LineSeq:
        lines = self.lines
        self._count()
        result = LineSeq()
        result.line = lines[self.pos][0]
        item_lines: list[int] = []
        result.item_lines = item_lines
        while self.pos < len(lines):
            number, at, content = lines[self.pos]
            if at < indent:
                break
            if at > indent:
                raise OutsideSubset
            if content != "-" and not content.startswith("- "):
                break
            rest = content[1:].lstrip(" ")
            if not rest or rest[0] == "#":  # the item is on the lines below
                self.pos += 1
                if self.pos >= len(lines) or lines[self.pos][1] <= indent:
                    raise OutsideSubset  # an empty item
                item_lines.append(lines[self.pos][0])
                result.append(self.block(lines[self.pos][1], depth + 1))
                continue
            if _is_key_line(rest):  # "- id: 1": a mapping whose first key is on this line
                column = indent + len(content) - len(rest)
                lines[self.pos] = (number, column, rest)
                item_lines.append(number)
                result.append(self.mapping(column, depth + 1))
                continue
            if rest[0] in "-?:" and (len(rest) == 1 or rest[1] == " "):
                raise OutsideSubset  # "- - a", "- ? a"
            value, end = self.inline(rest, 0, number, False, depth + 1)
            _end_of_line(rest, end)
            item_lines.append(number)
            result.append(value)
            self.pos += 1
        return result

    def mapping(self, indent: int, depth: int) -> LineMap:
        lines = self.lines
        self._count()
        result = LineMap()
        result.line = lines[self.pos][0]
        key_lines: dict[Any, int] = {}
        result.key_lines = key_lines
        while self.pos < len(lines):
            number, at, content = lines[self.pos]
            if at < indent:
                break
            if at > indent or content == "-" or content.startswith("- "):
                raise OutsideSubset
            key, end = self.key(content, number)
            if key in result:
                raise OutsideSubset  # PyYAML says where the key was first given
            rest = content[end:].lstrip(" ")
            self.pos += 1
            if not rest or rest[0] == "#":  # the value is on the lines below, or empty
                following = lines[self.pos] if self.pos < len(lines) else None
                if following is not None and following[1] > indent:
                    value = self.block(following[1], depth + 1)
                elif (
                    following is not None
                    and following[1] == indent
                    and (following[2] == "-" or following[2].startswith("- "))
                ):
                    value = self.sequence(indent, depth + 1)  # "key:" then "- item" below it
                else:
                    self._count()
                    value = None
            else:
                value, end = self.inline(rest, 0, number, False, depth + 1)
                _end_of_line(rest, end)
            result[key] = value
            key_lines[key] = number
        return result

    def key(self, content: str, number: int) -> tuple[object, int]:
        """A block mapping's key at the start of ``content``, and where its ":" ends."""
        if content[0] in "\"'":
            key, end = self.quoted(content, 0)
            if content[end : end + 1] != ":" or content[end + 1 : end + 2] not in ("", " "):
                raise OutsideSubset
            return key, end + 1
        end = content.find(": ")
        if end < 0:
            if not content.endswith(":"):
                raise OutsideSubset
            end = len(content) - 1
        text = content[:end].rstrip(" ")
        if len(text) > _MAX_KEY_CHARS or not _BLOCK_PLAIN.fullmatch(text):
            raise OutsideSubset
        self._count()
        return _plain_value(text), end + 1

    # -- on one line -----------------------------------------------------------------------
    def inline(self, text: str, at: int, number: int, flow: bool, depth: int) -> tuple[object, int]:
        """The value that starts at ``text[at]`` (a scalar or a flow collection), and its end."""
        if depth > _MAX_DEPTH:
            raise OutsideSubset
        first = text[at]
        if first == "{":
            return self.flow_mapping(text, at, number, depth)
        if first == "[":
            return self.flow_sequence(text, at, number, depth)
        if first in "\"'":
            self._count()
            return self.quoted(text, at)
        match = (_FLOW_PLAIN if flow else _BLOCK_PLAIN).match(text, at)
        if match is None:
            raise OutsideSubset
        plain = match.group().rstrip(" ")
        self._count()
        return _plain_value(plain), at + len(plain)

    @staticmethod
    def quoted(text: str, at: int) -> tuple[str, int]:
        if text[at] == '"':
            match = _DOUBLE_QUOTED.match(text, at)
            if match is None:
                raise OutsideSubset  # continues on the next line, or never ends
            body = match.group(1)
            if "\\" in body:
                body = _ESCAPE.sub(_unescape, body)
            return body, match.end()
        match = _SINGLE_QUOTED.match(text, at)
        if match is None:
            raise OutsideSubset
        return match.group(1).replace("''", "'"), match.end()

    def flow_mapping(self, text: str, at: int, number: int, depth: int) -> tuple[LineMap, int]:
        self._count()
        result = LineMap()
        result.line = number
        key_lines: dict[Any, int] = {}
        result.key_lines = key_lines
        at = _skip_spaces(text, at + 1)
        if text[at : at + 1] == "}":
            return result, at + 1
        while True:
            entry = _FLOW_ENTRY.match(text, at)
            if entry is not None:  # the common case, at once
                key_text, double, single, plain, _comma, close = entry.groups()
                key = _plain_value(key_text)
                if plain is not None:
                    value: object = _plain_value(plain)
                elif double is not None:
                    value = _ESCAPE.sub(_unescape, double) if "\\" in double else double
                else:
                    value = single.replace("''", "'")
                self.nodes += 2
                at = entry.end()
                separator = "}" if close else ","
            else:
                if at >= len(text) or text[at] in "{[":
                    raise OutsideSubset
                key, at = self.inline(text, at, number, True, depth + 1)  # a scalar
                if text[at : at + 2] != ": ":
                    raise OutsideSubset
                at = _skip_spaces(text, at + 2)
                if at >= len(text) or text[at] in ",}]":
                    raise OutsideSubset  # an empty value
                value, at = self.inline(text, at, number, True, depth + 1)
                at = _skip_spaces(text, at)
                separator = text[at : at + 1]
                at = _skip_spaces(text, at + 1)
            if key in result:
                raise OutsideSubset
            result[key] = value
            key_lines[key] = number
            if separator == "}":
                if self.nodes > MAX_YAML_NODES:
                    raise OutsideSubset
                return result, at
            if separator != "," or text[at : at + 1] in ("}", ""):
                raise OutsideSubset  # a trailing comma, or the mapping goes on below

    def flow_sequence(self, text: str, at: int, number: int, depth: int) -> tuple[LineSeq, int]:
        self._count()
        result = LineSeq()
        result.line = number
        result.item_lines = []
        at = _skip_spaces(text, at + 1)
        if text[at : at + 1] == "]":
            return result, at + 1
        while True:
            if at >= len(text):
                raise OutsideSubset
            value, at = self.inline(text, at, number, True, depth + 1)
            result.append(value)
            result.item_lines.append(number)
            at = _skip_spaces(text, at)
            separator = text[at : at + 1]
            if separator == "]":
                return result, at + 1
            if separator != ",":
                raise OutsideSubset  # also "[a: 1]", a mapping inside the list
            at = _skip_spaces(text, at + 1)
            if text[at : at + 1] in ("]", ""):
                raise OutsideSubset


def _skip_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at] == " ":
        at += 1
    return at


def _end_of_line(text: str, end: int) -> None:
    """Only spaces and a comment may follow a value on its line."""
    rest = text[end:]
    if rest and not (rest[0] == " " and rest.lstrip(" ").startswith("#")):
        raise OutsideSubset


def _is_key_line(text: str) -> bool:
    """Whether ``text`` (after a sequence's "- ") starts a block mapping's first key."""
    first = text[0]
    if first in "{[":
        return False
    if first in "\"'":
        try:
            _, end = _Lines.quoted(text, 0)
        except OutsideSubset:
            return False
        return text[end : end + 1] == ":" and text[end + 1 : end + 2] in ("", " ")
    return ": " in text or text.endswith(":")


def read_subset(text: str) -> object:
    """The document in ``text`` as :class:`LineMap`, :class:`LineSeq` and scalars, or
    :class:`OutsideSubset` when PyYAML must read it.

    >>> doc = read_subset("session:\\n  id: s-1\\n  number: 3\\nturns:\\n  - {id: 1, text: 'Hi.'}\\n")
    >>> doc["session"], doc["turns"][0]["text"], doc["turns"].item_lines
    ({'id': 's-1', 'number': 3}, 'Hi.', [5])
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # a carriage return left alone is refused below
    if text.count("\n") >= MAX_LINES or _OUTSIDE_CHARS.search(text):
        raise OutsideSubset
    lines: list[tuple[int, int, str]] = []
    for number, line in enumerate(text.split("\n"), 1):
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        if line.startswith(("---", "...")):
            raise OutsideSubset  # a document marker
        lines.append((number, len(line) - len(content), content.rstrip(" ")))
    if not lines:
        raise OutsideSubset  # an empty document: PyYAML says what it is
    parser = _Lines(lines)
    value = parser.block(lines[0][1], 0)
    if parser.pos != len(lines):
        raise OutsideSubset
    return value
