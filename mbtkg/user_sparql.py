"""A user's own SPARQL (``mbtkg query FILE.rq`` without parameters, ``mbtkg query --sparql``):
the usual prefixes predeclared, checked on a parse, run, and its parse errors said in one
located sentence.

The text is judged by :func:`mbtkg.sparql_guard.check_sparql` (SERVICE and LOAD refused, updates
refused) before any engine sees it. Which prefixes the text declares, and which form it has
(SELECT, ASK, CONSTRUCT, DESCRIBE), are read from the same parse, never from a text search.

The prefixes the text does not declare are added on the text's first line, ahead of it, so every
other line keeps its number and an engine's error on a later line points at the user's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from . import vocab
from .errors import QueryError
from .sparql_guard import UnsafeSparqlError, check_sparql
from .stores.base import Rows, Store

#: The prefixes every user query may use without declaring them (docs/queries.md lists them).
PREDECLARED: dict[str, str] = {
    "mbt": vocab.MBT,
    "mbtd": vocab.DATA,
    "rdf": vocab.RDF,
    "rdfs": vocab.RDFS,
    "owl": vocab.OWL,
    "xsd": vocab.XSD,
    "skos": vocab.SKOS,
    "dcterms": vocab.DCTERMS,
    "prov": vocab.PROV,
    "oa": vocab.OA,
    "sh": vocab.SH,
    "obo": vocab.OBO,
}

#: The query forms, as the parser names them, and how they are called in messages.
FORMS = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}


@dataclass(frozen=True)
class PreparedQuery:
    """A user's query, checked: its form and the text an engine runs (prefixes added)."""

    form: str
    text: str
    #: How many characters were added ahead of the user's first line.
    offset: int


@dataclass(frozen=True)
class Answer:
    """What a query answered: rows (SELECT), a boolean (ASK) or Turtle text (CONSTRUCT,
    DESCRIBE); exactly one is set."""

    form: str
    rows: Rows | None = None
    boolean: bool | None = None
    turtle: str | None = None
    triples: int = 0


def check_located(text: str, *, source: str = "the query") -> None:
    """Raise UnsafeSparqlError, naming ``source``, unless the text parses as a SPARQL 1.1 query
    that uses neither SERVICE nor LOAD; a parse failure is one sentence with its line, its
    column, what was found there and what was expected."""
    try:
        check_sparql(text)
    except UnsafeSparqlError as exc:
        raise UnsafeSparqlError(f"{source}: {_parse_message(text, str(exc))}") from None


def prepare(text: str, *, source: str = "the query") -> PreparedQuery:
    """Check a user's query on a parse and add the predeclared prefixes it does not declare.

    ``source`` names the query in messages (a file name, or ``--sparql``). Raises
    UnsafeSparqlError for SERVICE, LOAD, an update, or text that does not parse (one sentence
    with the line, the column and what was expected there).
    """
    check_located(text, source=source)
    from rdflib.plugins.sparql.parser import parseQuery  # checked above: it parses

    tree = parseQuery(text)
    declared = {
        str(decl["prefix"]) if "prefix" in decl else ""
        for decl in tree[0]
        if getattr(decl, "name", "") == "PrefixDecl"
    }
    form = FORMS.get(getattr(tree[1], "name", ""), "SELECT")
    prelude = "".join(
        f"PREFIX {name}: <{iri}> " for name, iri in PREDECLARED.items() if name not in declared
    )
    full = prelude + text
    check_sparql(full)  # the text an engine runs is the text the gate read
    return PreparedQuery(form, full, len(prelude))


def run(store: Store, text: str, *, source: str = "the query") -> Answer:
    """Prepare a user's query and run it on a store: rows, a boolean or Turtle."""
    query = prepare(text, source=source)
    try:
        if query.form == "SELECT":
            return Answer(query.form, rows=store.select(query.text))
        if query.form == "ASK":
            return Answer(query.form, boolean=store.ask(query.text))
        triples = _construct(store, query.text)
    except QueryError as exc:
        raise QueryError(f"{source}: {_engine_message(text, query.offset, str(exc))}") from None
    return Answer(query.form, turtle=_turtle(triples), triples=len(triples))


def _construct(store: Store, text: str) -> list[ox.Triple]:
    """The triples of a CONSTRUCT or DESCRIBE query."""
    return list(store.construct(text))


def _turtle(triples: list[ox.Triple]) -> str:
    prefixes = {name: iri for name, iri in PREDECLARED.items()}
    data: Any = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


# -- messages -----------------------------------------------------------------------------------

_GUARD_PARSE = re.compile(r"line (\d+), column (\d+): (.*?)\); it is checked before it runs")
_EXPECTED = {
    "SelectQuery | ConstructQuery | DescribeQuery | AskQuery": (
        "SELECT, ASK, CONSTRUCT or DESCRIBE (after any PREFIX lines)"
    ),
    "SelectQuery": "a well-formed SELECT query (a triple needs a subject, a predicate and an object)",
    "ConstructQuery": "a well-formed CONSTRUCT query",
    "AskQuery": "a well-formed ASK query",
    "DescribeQuery": "a well-formed DESCRIBE query",
    "end of text": "the end of the query (is there one '}' too many?)",
}


def _near(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return "the end of the query"
    rest = lines[line - 1][column - 1 :].strip()
    if not rest:
        return "the end of the line"
    return repr(rest[:20] + ("…" if len(rest) > 20 else ""))


def _parse_message(text: str, guard_message: str) -> str:
    """The guard's refusal, with a parse failure rewritten as one located sentence."""
    m = _GUARD_PARSE.search(guard_message)
    if m is None:
        return guard_message
    line, column, raw = int(m.group(1)), int(m.group(2)), m.group(3)
    wanted = raw.removeprefix("Expected ").strip()
    wanted = _EXPECTED.get(wanted.strip("{}"), _EXPECTED.get(wanted, _tidy(wanted)))
    return (
        f"line {line}, column {column}: the query does not parse as SPARQL 1.1 near "
        f"{_near(text, line, column)}; expected {wanted}"
    )


_OX_ERROR = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


def _engine_message(text: str, offset: int, message: str) -> str:
    """An engine's refusal of a query the gate accepted, located in the user's text."""
    m = _OX_ERROR.search(message)
    if m is None:
        return message
    line, column, detail = int(m.group(1)), int(m.group(2)), m.group(3)
    if line == 1:
        column = max(1, column - offset)
    if "Prefix not found" in detail:
        before = text.split("\n")[line - 1][: column - 1] if line <= text.count("\n") + 1 else ""
        found = re.search(r"([A-Za-z][\w.-]*)?:\S*\s*$", before)
        name = (found.group(1) or "") if found else ""
        column = found.start() + 1 if found else column
        known = ", ".join(f"{p}:" for p in PREDECLARED)
        return (
            f"line {line}, column {column}: the prefix {name + ':'!r} is not declared; add "
            f"'PREFIX {name}: <IRI>' at the top, or use a predeclared prefix ({known})"
        )
    return (
        f"line {line}, column {column}: the query does not run near {_near(text, line, column)};"
        f" expected {_tidy(detail)}"
    )


def _tidy(expected: str) -> str:
    """A parser's list of expected tokens, shortened to the words a person can use."""
    words = [
        w.strip()
        for w in re.split(r",|\|", re.sub(r"^\s*expected\s+", "", expected).replace("one of", ""))
        if w.strip() and "\\u" not in w and ".." not in w and "[" not in w
    ]
    shown = words[:6]
    return ", ".join(shown) + (" …" if len(words) > 6 else "") if shown else "valid SPARQL"
