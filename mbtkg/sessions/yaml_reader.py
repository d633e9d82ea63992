"""Read a hand-written YAML session file into the session model, keeping line numbers.

What this reader checks is what it must know to mint IRIs and name things: YAML syntax, the
shape of each field, unique ids, known concept and relation names. Everything the format
promises beyond that (declared speakers, span bounds, turn order, confidence range, relation
targets ...) is checked by the SHACL shapes, and reported against the lines kept here.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from ..concepts import ConceptIndex, default_index
from ..cycle_collector import collector_paused
from ..errors import InputError, LimitExceededError, Location, ReaderProblems, UnknownNameError
from ..input_limits import MAX_DEPTH, MAX_YAML_NODES, check_file_size
from .found_values import found
from .model import ROLES, SETTINGS, Annotation, Annotator, Participant, Relation, Session, Turn
from .yaml_subset import LineMap, LineSeq, OutsideSubset, read_subset

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # \Z: "$" would let a final newline in
_TOP_KEYS = ("session", "participants", "annotators", "turns", "annotations")
_SESSION_KEYS = ("id", "date", "number", "setting")
_PARTICIPANT_KEYS = ("id", "role")
_ANNOTATOR_KEYS = ("id",)
_TURN_KEYS = ("id", "speaker", "text", "start", "end")
#: The fields of an annotation, in the order the format documents them.
ANNOTATION_KEYS = (
    "id",
    "concept",
    "turns",
    "quote",
    "annotator",
    "confidence",
    "relations",
    "note",
    "suggested",
)


class SessionReadError(ReaderProblems):
    """A session file has one or more problems; ``problems`` lists each with its line."""

    def __init__(self, path: str, problems: list[InputError]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"{count} in {path}:\n{lines}" if len(problems) > 1 else str(problems[0]),
            problems=problems,
            file=path,
        )
        self.location = Location(path)  # the file; each problem carries its own line


#: The mappings and lists a document becomes, with their lines (both readers build them).
_Map = LineMap
_Seq = LineSeq


#: libyaml's parser when PyYAML was built with it (about 6x faster), else the pure-Python one;
#: both are safe loaders and give the same nodes, marks and messages' line numbers.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: Tags already resolved for short scalars (keys, ids, numbers): (value, implicit) -> tag.
_RESOLVED: dict[tuple[str, tuple[bool, bool]], str] = {}
_RESOLVED_MAX = 50_000


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A safe loader whose mappings and sequences carry line numbers and refuse duplicate keys."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        """PyYAML's tag resolution, remembered for short scalars (the same keys and small
        values recur thousands of times per file; the answer depends only on these two)."""
        if kind is not yaml.ScalarNode or len(value) > 32:
            return str(super().resolve(kind, value, implicit))
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            if len(_RESOLVED) >= _RESOLVED_MAX:
                _RESOLVED.clear()
            tag = _RESOLVED[key] = str(super().resolve(kind, value, implicit))
        return tag


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {found(key)} (first given on line {result.key_lines[key]})",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> object:
    """A date or time as PyYAML reads it, or the text itself when it is no real date.

    PyYAML raises ValueError for ``2025-13-01``; keeping the text lets the reader report it
    against its line like any other bad value.
    """
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)

_STR = "tag:yaml.org,2002:str"
_MAPPING = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
_SEQUENCE = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
_BUILDING = object()


class _YamlLimit(Exception):
    """A document past one of the limits of :mod:`mbtkg.input_limits`, with where it was."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _Builder:
    """Turns composed YAML nodes into values, as ``_LineLoader`` would, with less overhead.

    PyYAML's constructor keeps generator state per node to allow recursive structures; a
    session file has none, and the common nodes (plain mappings, lists and strings) are built
    here directly. Every other node goes to the loader's own constructors, so values, tags and
    errors stay PyYAML's. A recursive alias is refused.
    """

    def __init__(self, loader: _LineLoader) -> None:
        self.loader = loader
        self.built: dict[int, object] = {}
        #: Nodes of each node's subtree, counting what its aliases stand for.
        self.sizes: dict[int, int] = {}
        self.nodes = 0  # nodes built so far, aliases expanded
        self.depth = 0

    def _count(self, amount: int, node: yaml.Node) -> None:
        self.nodes += amount
        if self.nodes > MAX_YAML_NODES:
            raise _YamlLimit(
                f"the document expands to more than {MAX_YAML_NODES} values (aliases '*name' "
                "each repeat what their anchor holds); a session file needs no such size",
                node.start_mark,
            )

    def build(self, node: yaml.Node) -> object:
        tag = node.tag
        if tag == _STR and isinstance(node, yaml.ScalarNode):
            self._count(1, node)
            return node.value
        key = id(node)
        if key in self.built:
            value = self.built[key]
            if value is _BUILDING:
                raise yaml.constructor.ConstructorError(
                    None, None, "found a recursive alias (an anchor used inside itself)",
                    node.start_mark,
                )  # fmt: skip
            self._count(self.sizes.get(key, 1), node)
            return value
        before = self.nodes
        self._count(1, node)
        if tag == _MAPPING and isinstance(node, yaml.MappingNode):
            self.built[key] = _BUILDING
            value = self._nested(node, self._mapping)
        elif tag == _SEQUENCE and isinstance(node, yaml.SequenceNode):
            self.built[key] = _BUILDING
            value = self._nested(node, self._sequence)
        else:
            value = self._other(node)
        self.built[key] = value
        self.sizes[key] = self.nodes - before
        return value

    def _nested(self, node: Any, make: Any) -> object:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _YamlLimit(
                f"mappings and lists nest more than {MAX_DEPTH} levels deep here; a session "
                "file needs fewer than 10",
                node.start_mark,
            )
        try:
            return make(node)
        finally:
            self.depth -= 1

    def _measure(self, node: yaml.Node, depth: int) -> int:
        """Nodes under ``node`` with aliases expanded, refused past the limits (no building)."""
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        if depth > MAX_DEPTH:
            raise _YamlLimit(
                f"mappings and lists nest more than {MAX_DEPTH} levels deep here; a session "
                "file needs fewer than 10",
                node.start_mark,
            )
        self.sizes[key] = 1  # a recursive alias is counted once; PyYAML refuses it later
        size = 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        for child in children:
            size += self._measure(child, depth + 1)
            if size > MAX_YAML_NODES:
                self._count(size, node)
        self.sizes[key] = size
        return size

    def _other(self, node: yaml.Node) -> object:
        """A node with another tag (numbers, dates, ``!!set`` ...), built by PyYAML."""
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self._count(self._measure(node, self.depth) - 1, node)
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError):
            # PyYAML's constructors trust the tag: ``!!int x`` or ``!!map [1]`` end in Python
            # errors. Say that the value does not fit its tag, where it is.
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a value tagged {node.tag} is not of that type; remove the tag or fix the value",
                node.start_mark,
            ) from None

    def _mapping(self, node: yaml.MappingNode) -> _Map:
        self.loader.flatten_mapping(node)
        result = _Map()
        result.line = node.start_mark.line + 1
        key_lines: dict[Any, int] = {}
        result.key_lines = key_lines
        for key_node, value_node in node.value:
            key = self.build(key_node)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found unhashable key", key_node.start_mark,
                ) from None  # fmt: skip
            if key in result:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {found(key)} (first given on line {key_lines[key]})",
                    key_node.start_mark,
                )
            result[key] = self.build(value_node)
            key_lines[key] = key_node.start_mark.line + 1
        return result

    def _sequence(self, node: yaml.SequenceNode) -> _Seq:
        result = _Seq(self.build(child) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


def _load_yaml(text: str) -> object:
    """The document in ``text``, with line numbers kept (None for an empty document).

    The plain YAML session files are written in is read by :mod:`.yaml_subset`; anything
    else, and every file with a mistake, by PyYAML (which also words the messages).
    """
    try:
        return read_subset(text)
    except OutsideSubset:
        return read_with_pyyaml(text)


def read_with_pyyaml(text: str) -> object:
    """The document in ``text`` as PyYAML reads it, with line numbers kept: any YAML, and the
    errors PyYAML reports (also the reference :mod:`.yaml_subset` is tested against)."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _Builder(loader).build(node)
    finally:
        loader.dispose()


def read_yaml_session(path: str | Path, *, index: ConceptIndex | None = None) -> Session:
    """Read one YAML session file.

    Raises SessionReadError (an InputError) listing every problem found, each with its line.

    >>> from mbtkg.resources import example_sessions
    >>> read_yaml_session(example_sessions()[0]).id  # the first, by file name
    'jonas-03'
    """
    path = Path(path)
    check_file_size(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError("no such file", Location(str(path))) from None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not UTF-8 text (byte {exc.start}, {raw[exc.start : exc.start + 1]!r}); "
            "save the file as UTF-8",
            Location(str(path), line),
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", Location(str(path))) from None
    return parse_yaml_session(text, str(path), index=index)


def _tab_near(text: str, line: int, column: int) -> tuple[int, int] | None:
    """(line, column), 1-based, of a tab where a YAML error points or in that line's
    indentation (or the previous line's, where libyaml sometimes points after it), else None.

    >>> _tab_near("a:\\n\\tb: 1\\n", 1, 0)
    (2, 1)
    """
    lines = text.splitlines()
    for number in (line, line - 1):
        if not 0 <= number < len(lines):
            continue
        current = lines[number]
        if number == line and column < len(current) and current[column] == "\t":
            return number + 1, column + 1
        indent = current[: len(current) - len(current.lstrip(" \t"))]
        if "\t" in indent:
            return number + 1, indent.index("\t") + 1
    return None


def parse_yaml_session(text: str, source: str, *, index: ConceptIndex | None = None) -> Session:
    """Parse the text of a YAML session file; ``source`` names it in messages."""
    with collector_paused():  # keeps the time per turn constant as files grow
        return _parse_yaml_session(text, source, index)


def _parse_yaml_session(text: str, source: str, index: ConceptIndex | None) -> Session:
    try:
        data = _load_yaml(text)
    except _YamlLimit as exc:
        mark = exc.mark
        loc = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        raise LimitExceededError(exc.message, loc) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "malformed YAML"
        if exc.context:
            where = exc.context_mark
            if where is not None and mark is not None and where.line != mark.line:
                # Say where the unfinished thing began: that is where the mistake usually is.
                problem = f"{exc.context} (from line {where.line + 1}, column {where.column + 1}), {problem}"
            else:
                problem = f"{exc.context}, {problem}"
        loc = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        tab = _tab_near(text, mark.line, mark.column) if mark else None
        if tab is not None:
            raise InputError(
                f"malformed YAML: a tab character at line {tab[0]}, column {tab[1]}; YAML "
                "indents with spaces only: replace the tab with spaces",
                Location(source, tab[0], tab[1]),
            ) from None
        raise InputError(f"malformed YAML: {problem}", loc) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", Location(source)) from None
    return _Reader(source, index or default_index()).read(data)


class _Reader:
    def __init__(self, source: str, index: ConceptIndex) -> None:
        self.source = source
        self.index = index
        self.problems: list[InputError] = []

    def problem(self, message: str, line: int | None, *, suggestions: tuple[str, ...] = ()) -> None:
        loc = Location(self.source, line)
        if suggestions:
            self.problems.append(UnknownNameError(message, loc, suggestions=suggestions))
        else:
            self.problems.append(InputError(message, loc))

    # -- helpers ---------------------------------------------------------------------------
    def _keys(self, m: _Map, allowed: tuple[str, ...], what: str) -> None:
        for key in m:
            if key not in allowed:
                hits = ConceptIndex.suggest(str(key), allowed)
                hint = f"; did you mean {hits[0]!r}?" if hits else ""
                self.problem(
                    f"unknown field {found(key)} in {what}{hint} (expected one of {', '.join(allowed)})",
                    m.key_lines.get(key, m.line),
                    suggestions=tuple(hits),
                )

    def _line(self, m: _Map, key: str) -> int:
        return m.key_lines.get(key, m.line)

    def _id(self, m: _Map, what: str) -> str | None:
        value = m.get("id")
        if value is None:
            self.problem(f"{what} has no 'id'", m.line)
            return None
        if isinstance(value, bool):
            self.problem(
                f"{what} id must be text, found {found(value)}: YAML reads yes, no, on, off, "
                'true and false unquoted as yes/no; put the id in quotes (id: "yes")',
                self._line(m, "id"),
            )
            return None
        if not isinstance(value, str | int):
            self.problem(f"{what} id must be text, found {found(value)}", self._line(m, "id"))
            return None
        text = str(value)
        if not ID_PATTERN.match(text):
            control = any(not c.isprintable() for c in text)
            self.problem(
                f"{what} id ({found(text)}) "
                + ("holds a newline or another control character; an id " if control else "")
                + "may use only letters, digits, '.', '_' and '-' and must start with a letter "
                "or digit (the pattern [A-Za-z0-9][A-Za-z0-9._-]*)",
                self._line(m, "id"),
            )
            return None
        return text

    def _list(self, data: _Map, key: str, *, required: bool) -> list[tuple[_Map, int]]:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(f"the file has no '{key}' list", data.line)
            return []
        if not isinstance(value, _Seq):
            self.problem(f"'{key}' must be a list, found {found(value)}", data.key_lines[key])
            return []
        items: list[tuple[_Map, int]] = []
        for item, line in zip(value, value.item_lines, strict=True):
            if isinstance(item, _Map):
                items.append((item, line))
            else:
                self.problem(f"each item of '{key}' must be a mapping, found {found(item)}", line)
        return items

    # -- sections --------------------------------------------------------------------------
    def read(self, data: object) -> Session:
        if not isinstance(data, _Map):
            raise InputError(
                "a session file must be a YAML mapping with 'session', 'participants', "
                "'turns' and 'annotations'",
                Location(self.source, 1),
            )
        self._keys(data, _TOP_KEYS, "the file")
        head = data.get("session")
        if not isinstance(head, _Map):
            self.problem("the file has no 'session' mapping (with id, date, number, setting)", 1)
            raise SessionReadError(self.source, self.problems)
        self._keys(head, _SESSION_KEYS, "'session'")
        session_id = self._id(head, "the session")
        date = self._date(head)
        number = head.get("number")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
            self.problem(
                f"session number must be a whole number, found {found(number)}",
                self._line(head, "number"),
            )
            number = None
        setting = head.get("setting")
        if setting is not None and (not isinstance(setting, str) or setting not in SETTINGS):
            hits = ConceptIndex.suggest(str(setting), SETTINGS)
            hint = f"; did you mean {hits[0]!r}?" if hits else ""
            self.problem(
                f"unknown setting {found(setting)}{hint} (expected one of {', '.join(SETTINGS)})",
                self._line(head, "setting"),
                suggestions=tuple(hits),
            )
            setting = None
        participants = self._participants(data)
        annotators = self._annotators(data)
        turns = self._turns(data)
        annotations = self._annotations(data)
        if self.problems or session_id is None:
            raise SessionReadError(self.source, self.problems)
        return Session(
            id=session_id,
            source=self.source,
            date=date,
            number=number,
            setting=setting,
            participants=participants,
            annotators=annotators,
            turns=turns,
            annotations=annotations,
            line=head.line,
        )

    def _date(self, head: _Map) -> dt.date | None:
        value = head.get("date")
        if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(
            f"session date must be a calendar date like 2024-10-14, found {found(value)}",
            self._line(head, "date"),
        )
        return None

    def _unique(self, seen: dict[str, int], key: str, line: int, what: str) -> bool:
        if key in seen:
            self.problem(f"duplicate {what} id {key!r} (first given on line {seen[key]})", line)
            return False
        seen[key] = line
        return True

    def _participants(self, data: _Map) -> tuple[Participant, ...]:
        out: list[Participant] = []
        seen: dict[str, int] = {}
        for item, line in self._list(data, "participants", required=True):
            self._keys(item, _PARTICIPANT_KEYS, "a participant")
            pid = self._id(item, "a participant")
            role = item.get("role")
            if role is not None and (not isinstance(role, str) or role not in ROLES):
                hits = ConceptIndex.suggest(str(role), ROLES)
                hint = f"; did you mean {hits[0]!r}?" if hits else ""
                self.problem(
                    f"unknown role {found(role)}{hint} (expected one of {', '.join(ROLES)})",
                    self._line(item, "role"),
                    suggestions=tuple(hits),
                )
                role = None
            if pid is not None and self._unique(seen, pid, line, "participant"):
                out.append(Participant(pid, role, line))
        return tuple(out)

    def _annotators(self, data: _Map) -> tuple[Annotator, ...]:
        out: list[Annotator] = []
        seen: dict[str, int] = {}
        for item, line in self._list(data, "annotators", required=False):
            self._keys(item, _ANNOTATOR_KEYS, "an annotator")
            aid = self._id(item, "an annotator")
            if aid is not None and self._unique(seen, aid, line, "annotator"):
                out.append(Annotator(aid, line))
        return tuple(out)

    def _turns(self, data: _Map) -> tuple[Turn, ...]:
        out: list[Turn] = []
        seen: dict[str, int] = {}
        for item, line in self._list(data, "turns", required=True):
            self._keys(item, _TURN_KEYS, "a turn")
            tid = item.get("id")
            if isinstance(tid, bool) or not isinstance(tid, int) or tid < 1:
                self.problem(
                    f"a turn id must be a whole number from 1 up, found {found(tid)}",
                    self._line(item, "id"),
                )
                continue
            if not self._unique(seen, str(tid), line, "turn"):
                continue
            speaker = item.get("speaker")
            text = item.get("text")
            if isinstance(text, dict | list):
                self.problem(
                    f"turn {tid} text must be text, found {found(text)}", self._line(item, "text")
                )
                text = None
            elif text is not None and not isinstance(text, str):
                text = str(text)
            times = [item.get("start"), item.get("end")]
            for key, value in zip(("start", "end"), times, strict=True):
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int | float)
                ):
                    self.problem(
                        f"turn {key} time must be seconds, found {found(value)}",
                        self._line(item, key),
                    )
            start = times[0] if isinstance(times[0], int | float) else None
            end = times[1] if isinstance(times[1], int | float) else None
            out.append(Turn(tid, None if speaker is None else str(speaker), text, line, start, end))
        return tuple(out)

    def _span(self, item: _Map) -> tuple[int | None, int | None]:
        value = item.get("turns")
        line = self._line(item, "turns")
        if value is None:
            return None, None  # SHACL reports the missing span
        if isinstance(value, int) and not isinstance(value, bool):
            return value, value
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            return value[0], value[1]
        self.problem(
            f"'turns' must be one turn id or [first, last], found {found(value)}",
            line,
        )
        return None, None

    def _annotations(self, data: _Map) -> tuple[Annotation, ...]:
        out: list[Annotation] = []
        seen: dict[str, int] = {}
        for item, line in self._list(data, "annotations", required=False):
            self._keys(item, ANNOTATION_KEYS, "an annotation")
            aid = self._id(item, "an annotation")
            concept_name = item.get("concept")
            concept_iri = None
            if "concept" in item and (concept_name is None or concept_name == ""):
                at = self._line(item, "concept")
                self.problem(
                    f"concept is empty at line {at}; expected a concept name such as "
                    "'clarification' or 'psychic equivalence' (`mbtkg concept NAME` shows one)",
                    at,
                )
                concept_name = None
            elif concept_name is not None and not isinstance(concept_name, str | int | float):
                self.problem(
                    f"concept must be a concept name such as 'clarification', found "
                    f"{found(concept_name)}",
                    self._line(item, "concept"),
                )
                concept_name = None
            if concept_name is not None:
                try:
                    concept_iri = self.index.resolve(str(concept_name))
                except UnknownNameError as exc:
                    # Words that are not a concept name may be session text: not shown.
                    shown = found(str(concept_name), words=4, length=40)
                    self.problem(
                        exc.detail.replace(repr(str(concept_name)), shown, 1),
                        self._line(item, "concept"),
                        suggestions=exc.suggestions,
                    )
            start, end = self._span(item)
            confidence = item.get("confidence")
            if confidence is not None and (
                isinstance(confidence, bool) or not isinstance(confidence, int | float)
            ):
                self.problem(
                    f"confidence must be a number from 0 to 1, found {found(confidence)}",
                    self._line(item, "confidence"),
                )
                confidence = None
            quote = item.get("quote")
            relations = self._relations(item)
            annotator = item.get("annotator")
            suggested = item.get("suggested")
            if suggested is not None and (
                not isinstance(suggested, str) or not ID_PATTERN.match(suggested)
            ):
                self.problem(
                    "'suggested' must name the software that suggested the coding, like "
                    f"mbtkg-lexical (letters, digits, '.', '_', '-'), found {suggested!r}",
                    self._line(item, "suggested"),
                )
                suggested = None
            if aid is None or not self._unique(seen, aid, line, "annotation"):
                continue
            out.append(
                Annotation(
                    id=aid,
                    concept_iri=concept_iri,
                    concept_name=None if concept_name is None else str(concept_name),
                    start=start,
                    end=end,
                    annotator=None if annotator is None else str(annotator),
                    quote=None if quote is None else str(quote),
                    confidence=None if confidence is None else float(confidence),
                    note=None if item.get("note") is None else str(item.get("note")),
                    relations=relations,
                    line=line,
                    suggested=suggested,
                )
            )
        return tuple(out)

    def _relations(self, item: _Map) -> tuple[Relation, ...]:
        value = item.get("relations")
        if value is None:
            return ()
        if not isinstance(value, _Map):
            self.problem(
                "'relations' must be a mapping like {repairs: a1}", self._line(item, "relations")
            )
            return ()
        out: list[Relation] = []
        for name, targets in value.items():
            line = value.key_lines[name]
            try:
                prop = self.index.resolve_relation(str(name))
            except UnknownNameError as exc:
                self.problem(exc.detail, line, suggestions=exc.suggestions)
                continue
            for target in targets if isinstance(targets, list) else [targets]:
                out.append(Relation(prop, str(name), str(target), line))
        return tuple(out)
