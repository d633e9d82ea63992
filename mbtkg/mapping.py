"""The code-to-concept mapping file: from a QDA project's codes to ontology concepts.

A mapping file is YAML with one entry per code, keyed by the code's name, its path in the
code book (``Parent/Child``) or its GUID (braces and case do not matter)::

    codes:
      Not knowing: not-knowing stance     # a concept label, local name or CURIE
      "{2F9C...}": mbt:Repair
      Admin: null                         # deliberately left out (listed as skipped)

Every importer (REFI-QDA, CSV, ELAN) resolves its codes through :func:`resolve_codes`; a code
that the file does not mention is *unmapped*, and unmapped codes are always listed, never
dropped in silence. A code the mapping does not mention still resolves when its name is
itself a concept name (so a code book written in the ontology's terms needs no mapping).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import vocab
from .concepts import ConceptIndex, default_index
from .errors import InputError, Location, UnknownNameError

#: The class every codable concept falls under.
CODABLE_ROOT = vocab.MBT + "SessionPhenomenon"
#: How close a concept name must be to a code name to be suggested (0 to 1).
CLOSE_ENOUGH = 0.6
#: How much a part of a code name (a qualifier removed or alone) counts against the whole.
_PART_WEIGHT = 0.9
#: How much of a code name is read for suggestions (code names are short; this bounds the work).
_NAME_CHARS = 200
_MAX_VARIANTS = 8
_WORD = re.compile(r"[^\W_]+")
_QUALIFIER = re.compile(r"\s*[(\[{][^)\]}]*[)\]}]\s*")
_SEPARATORS = re.compile(r"\s+[-\u2013\u2014:/|]\s+|\s*[:/|]\s*")


@dataclass(frozen=True)
class Code:
    """A code as the source tool knows it: its name, and where available its GUID and path."""

    name: str
    guid: str | None = None
    path: str | None = None

    @property
    def label(self) -> str:
        """How the code is named in messages: its path when it has one, else its name."""
        return self.path or self.name


def normalize_guid(value: str) -> str:
    """A GUID without braces, in lower case: ``{AB-..}`` and ``ab-..`` are the same GUID.

    >>> normalize_guid("{2F9C-AB}")
    '2f9c-ab'
    """
    return value.strip().strip("{}").strip().lower()


@dataclass(frozen=True)
class CodeMapping:
    """A loaded mapping file: lower-case key -> concept IRI, or None for "leave out"."""

    source: str
    entries: dict[str, str | None] = field(default_factory=dict)

    def lookup(self, code: Code) -> tuple[bool, str | None]:
        """(found, concept IRI) for a code, trying its GUID, then its path, then its name."""
        keys = [normalize_guid(code.guid)] if code.guid else []
        keys += [k.strip().lower() for k in (code.path, code.name) if k]
        for key in keys:
            if key in self.entries:
                return True, self.entries[key]
        return False, None


class MappingError(InputError):
    """A mapping file has problems; ``problems`` lists each with its line."""

    def __init__(self, source: str, problems: Sequence[InputError]) -> None:
        self.problems = tuple(problems)
        body = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the mapping file {source}:\n{body}")


#: The importer command of each file type whose codes go through a mapping file.
IMPORT_COMMANDS = {".qdpx": "qdpx", ".csv": "csv", ".eaf": "eaf"}


class UnmappedCodesError(InputError):
    """Codes that the mapping does not mention; nothing was imported.

    The advice names the import command of the file's type, which is where the mapping
    options are (``mbtkg validate`` and ``mbtkg load`` read such files without a mapping).
    """

    def __init__(self, source: str, unmapped: Sequence[str], hints: dict[str, str]) -> None:
        self.unmapped = tuple(unmapped)
        lines = []
        for name in unmapped:
            hint = f" (closest concept: {hints[name]!r})" if name in hints else ""
            lines.append(f"  {name}{hint}")
        kind = IMPORT_COMMANDS.get(Path(source).suffix.lower())
        command = f"mbtkg import {kind}" if kind else "mbtkg import qdpx|csv|eaf"
        super().__init__(
            f"{len(unmapped)} code(s) used in {source} have no concept in the mapping:\n"
            + "\n".join(lines)
            + f"\nmap them with a mapping file: `{command} FILE --suggest-mapping MAP.yaml` "
            "writes a starting one; check it (map a code to null to leave it out) and import "
            f"with `{command} FILE --mapping MAP.yaml`, or pass --skip-unmapped to "
            f"`{command}` to leave them out"
        )


def load_mapping(path: str | Path, *, index: ConceptIndex | None = None) -> CodeMapping:
    """Read a mapping file; every concept name is resolved now, so typos fail early.

    Raises InputError when the file is missing or not YAML, MappingError listing unknown
    concepts (with their line and the closest label).
    """
    index = index or default_index()
    p = Path(path)
    where = Location(str(p))
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such mapping file", where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the mapping file: {exc}", where) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", where) from None
    if isinstance(root, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == "codes" for k, _ in root.value
    ):
        root = next(v for k, v in root.value if k.value == "codes")
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
        return CodeMapping(str(p))
    if not isinstance(root, yaml.MappingNode):
        raise InputError(
            "a mapping file is a YAML mapping 'codes: {code name or GUID: concept}'", where
        )
    entries: dict[str, str | None] = {}
    problems: list[InputError] = []
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(value_node, yaml.ScalarNode):
            problems.append(
                InputError("each entry must be 'code: concept'", Location(str(p), line))
            )
            continue
        key = key_node.value.strip()
        key = normalize_guid(key) if key.startswith("{") else key.lower()
        value = value_node.value.strip()
        if value_node.tag.endswith(":null") or value in ("", "~", "null"):
            entries[key] = None
            continue
        try:
            entries[key] = index.resolve(value)
        except UnknownNameError as exc:
            problems.append(
                UnknownNameError(
                    f"code {key_node.value!r}: {exc.detail}",
                    Location(str(p), value_node.start_mark.line + 1),
                    suggestions=exc.suggestions,
                )
            )
    if problems:
        raise MappingError(str(p), problems)
    return CodeMapping(str(p), entries)


@dataclass(frozen=True)
class CodeResolution:
    """How the codes of one import resolved: concept per code, and what was left out."""

    concepts: dict[Code, str]
    unmapped: tuple[str, ...]
    skipped: tuple[str, ...]


def resolve_codes(
    codes: Iterable[Code],
    mapping: CodeMapping | None,
    *,
    source: str,
    skip_unmapped: bool = False,
    index: ConceptIndex | None = None,
) -> CodeResolution:
    """Resolve the codes an import uses to concept IRIs.

    A code the mapping does not mention (or every code, without a mapping) resolves when its
    name is itself a concept name (label, synonym, local name). Raises
    UnmappedCodesError naming every unmapped code unless ``skip_unmapped``; the result still
    lists them.
    """
    index = index or default_index()
    concepts: dict[Code, str] = {}
    unmapped: list[str] = []
    skipped: list[str] = []
    for code in dict.fromkeys(codes):
        found, iri = mapping.lookup(code) if mapping is not None else (False, None)
        if found and iri is None:
            skipped.append(code.label)
            continue
        if not found:
            found, iri = _direct(code, index)
        if iri is None:
            unmapped.append(code.label)
        else:
            concepts[code] = iri
    if unmapped and not skip_unmapped:
        hints = {}
        for name in unmapped:
            hits = closest_concepts(name.rsplit("/", 1)[-1], index=index, n=1)
            if hits:
                hints[name] = hits[0]
        raise UnmappedCodesError(source, unmapped, hints)
    return CodeResolution(concepts, tuple(unmapped), tuple(skipped))


def codable_iris(index: ConceptIndex | None = None) -> frozenset[str]:
    """The IRIs of the concepts a session may be coded with (not deprecated).

    >>> "https://w3id.org/mbtkg/ontology#Repair" in codable_iris()
    True
    """
    index = index or default_index()
    return frozenset(
        iri
        for iri in index.labels
        if iri not in index.deprecated | index.inferred and CODABLE_ROOT in index.ancestors(iri)
    )


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _variants(name: str) -> dict[str, float]:
    """Readings of a code name with their weight: the whole name (1), and, a little less
    trusted, the name without its qualifiers ("(rupture)", "[T]"), each qualifier alone and
    each part around a separator (" - ", ":", "/"). Only the start of a long name is read."""
    name = name[:_NAME_CHARS]
    parts = [_QUALIFIER.sub(" ", name)]
    parts += re.findall(r"[(\[{]([^)\]}]*)[)\]}]", name)
    parts += _SEPARATORS.split(_QUALIFIER.sub(" ", name))
    out = {" ".join(_words(name)): 1.0}
    for part in parts[:_MAX_VARIANTS]:
        out.setdefault(" ".join(_words(part)), _PART_WEIGHT)
    out.pop("", None)
    return out


@dataclass(frozen=True)
class _Candidate:
    """A name of a codable concept, in the forms the matcher compares."""

    iri: str
    words: frozenset[str]
    plain: str  # its words joined by single spaces
    ordered: str  # its words sorted and joined


_CANDIDATES: dict[int, tuple[ConceptIndex, tuple[_Candidate, ...]]] = {}


def _candidates(index: ConceptIndex) -> tuple[_Candidate, ...]:
    """The names (labels, synonyms, local names) of codable concepts, built once per index."""
    cached = _CANDIDATES.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    codable = codable_iris(index)
    out = []
    for key, iri in index.names.items():
        if iri in codable and ":" not in key:
            words = _words(key)
            out.append(_Candidate(iri, frozenset(words), " ".join(words), " ".join(sorted(words))))
    if len(_CANDIDATES) > 3:
        _CANDIDATES.clear()
    _CANDIDATES[id(index)] = (index, tuple(out))
    return tuple(out)


def _ratio(matcher: difflib.SequenceMatcher[str], text: str, need: float) -> float:
    """The similarity of ``text`` to the matcher's second sequence, or 0 when its cheap upper
    bounds already show it cannot reach ``need``."""
    matcher.set_seq1(text)
    if matcher.real_quick_ratio() < need or matcher.quick_ratio() < need:
        return 0.0
    return matcher.ratio()


def closest_concepts(name: str, *, index: ConceptIndex | None = None, n: int = 3) -> list[str]:
    """Labels of the codable concepts closest to a code name, best first.

    Word order, case, punctuation and a qualifier in brackets do not count against a match,
    so a code named after a concept plus a note still finds the concept. A reading scores the
    best of: the same words (1), the share of words in common, and the spelling similarity of
    the words as written and sorted; a reading that is only part of the name counts 0.9 of it.

    >>> closest_concepts("Rupture (withdrawal)")[0]
    'withdrawal rupture'
    """
    index = index or default_index()
    best: dict[str, float] = {}
    candidates = _candidates(index)
    for variant, weight in _variants(name).items():
        words = variant.split()
        word_set, ordered = frozenset(words), " ".join(sorted(words))
        plain_matcher = difflib.SequenceMatcher(None, "", variant, autojunk=False)
        ordered_matcher = difflib.SequenceMatcher(None, "", ordered, autojunk=False)
        for c in candidates:
            need = max(CLOSE_ENOUGH, best.get(c.iri, 0.0)) / weight
            if need > 1.0:
                continue
            if c.ordered == ordered:
                score = 1.0
            else:
                shared = len(word_set & c.words) / len(word_set | c.words)
                bar = max(need, shared)  # spelling only matters where it beats both
                score = max(
                    shared,
                    _ratio(plain_matcher, c.plain, bar),
                    _ratio(ordered_matcher, c.ordered, bar),
                )
            score *= weight
            if score >= CLOSE_ENOUGH and score > best.get(c.iri, 0.0):
                best[c.iri] = score
    ranked = sorted(best, key=lambda iri: (-best[iri], index.labels[iri]))
    return [index.labels[iri] for iri in ranked[:n]]


def _direct(code: Code, index: ConceptIndex) -> tuple[bool, str | None]:
    try:
        return True, index.resolve(code.name)
    except UnknownNameError:
        return False, None


def suggest_mapping(codes: Iterable[Code], *, index: ConceptIndex | None = None) -> str:
    """A starting mapping file (YAML text) from exact and close label matches.

    Exact matches (label, synonym or local name, any case) are filled in; close matches are
    filled in with a comment asking for a check; codes without a match map to null.

    >>> print(suggest_mapping([Code("Repair")]).splitlines()[-1])
      Repair: repair  # exact match
    """
    index = index or default_index()
    lines = [
        "# Mapping from the project's codes to mbtkg concepts (written by --suggest-mapping).",
        "# Check every line. Keys are code names (or GUIDs); values are concept labels.",
        "# null leaves a code out on purpose; it is then listed as skipped.",
        "codes:",
    ]
    for code in dict.fromkeys(codes):
        key = yaml.safe_dump(code.path or code.name, default_flow_style=True, width=1000)
        key = key.strip().removesuffix("...").strip()
        found, iri = _direct(code, index)
        if found and iri is not None:
            lines.append(f"  {key}: {index.label(iri)}  # exact match")
            continue
        hits = closest_concepts(code.name, index=index, n=1)
        guid = f" (GUID {code.guid})" if code.guid else ""
        if hits:
            lines.append(f"  {key}: {hits[0]}  # close match, check it{guid}")
        else:
            lines.append(f"  # {key}: ?  # no match found{guid}; map it or set it to null")
    return "\n".join(lines) + "\n"
