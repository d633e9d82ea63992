"""The one decision on user SPARQL: parse it, then refuse SERVICE, LOAD and (where only reading
is allowed) any update, before any engine sees the text.

A query is judged on its parse tree, never on its text: rdflib's SPARQL 1.1 parser reads it and
the tree is walked for the grammar rules ``ServiceGraphPattern`` (``SERVICE``, ``SERVICE
SILENT``, with an IRI, a prefixed name or a variable, at any depth: subqueries, ``OPTIONAL``,
``UNION``, ``MINUS``, ``EXISTS``, the ``WHERE`` of an update) and ``Load`` (``LOAD``, ``LOAD
SILENT``). Case, comments, escapes and IRIs glued to operators are the parser's business, so they
cannot hide anything.

Fail closed: text this parser cannot read is refused even when Oxigraph could run it (Oxigraph
reads a little more than SPARQL 1.1, for example RDF-star's ``<< >>``). The parser is the gate;
nothing is run on a text the gate did not understand.

The gate and the engine must read the same characters the same way. Testing the two parsers
against each other found two places where they do not, and text that uses them is refused before
parsing (each is in the test corpus):

- codepoint escapes (``\u0022``, ``\U0001f600``): rdflib expands them in the whole text before
  parsing, as SPARQL 1.1 says, while Oxigraph reads them only inside strings and IRIs; an escaped
  quote could thus end a string for one parser and not for the other, and hide a clause;
- a carriage return not followed by a line feed: Oxigraph ends a ``#`` comment there, rdflib does
  not, so what follows would be code for one and comment for the other. Other control
  characters (except tab and line feed) are refused too: no query needs them.

The verdict is remembered per text, so a competency query run again and again is parsed once.
Competency queries are checked as written (their ``VALUES ?x { UNDEF }`` lines included); binding
a parameter then only replaces an ``UNDEF`` by an RDF term that Oxigraph has validated and
escaped (see :meth:`mbtkg.queries.CompetencyQuery.bind`), which cannot add a clause.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from .errors import QueryError

#: Grammar rules that reach outside this machine.
_REMOTE_RULES = {
    "ServiceGraphPattern": (
        "may not use SERVICE: mbtkg never sends session data or queries to another endpoint; "
        "remove the SERVICE clause"
    ),
    "Load": (
        "may not use LOAD: mbtkg never fetches data from other addresses; load session files "
        "with `mbtkg load` instead"
    ),
}


class UnsafeSparqlError(QueryError):
    """User SPARQL that was refused before it ran: it reaches outside the machine (SERVICE,
    LOAD), changes the store where only reading is allowed, or cannot be checked."""


def check_sparql(text: str, *, update: bool = False) -> None:
    """Raise UnsafeSparqlError unless ``text`` parses as a SPARQL 1.1 query (or, with
    ``update=True``, as an update) that uses neither SERVICE nor LOAD."""
    reason = _verdict(text, update)
    if reason is not None:
        raise UnsafeSparqlError(reason)


@lru_cache(maxsize=1024)
def _verdict(text: str, update: bool) -> str | None:
    from pyparsing import ParseBaseException  # imported here: rdflib takes a while to import
    from rdflib.plugins.sparql.parser import expandUnicodeEscapes_re, parseQuery, parseUpdate

    what = "update" if update else "query"
    escape = expandUnicodeEscapes_re.search(text)
    if escape is not None:
        return (
            f"the {what} uses the codepoint escape {escape.group(0)!r} (at {_where(text, escape.start())}); "
            "SPARQL engines disagree on where such escapes apply, so they are refused: write the "
            "character itself"
        )
    control = _CONTROL.search(text)
    if control is not None:
        return (
            f"the {what} holds the control character {control.group(0)!r} (at "
            f"{_where(text, control.start())}); SPARQL engines disagree on how to read it (a lone "
            "carriage return ends a comment for some and not for others): use line feeds for "
            "line ends"
        )
    try:
        tree = parseUpdate(text) if update else parseQuery(text)
    except ParseBaseException as exc:
        if not update and _is_update(text):
            return (
                "this is an update, and only queries are accepted here (read-only): "
                "send SELECT, ASK, CONSTRUCT or DESCRIBE"
            )
        return (
            f"the {what} does not parse as SPARQL 1.1 (line {exc.lineno}, column {exc.col}: "
            f"{exc.msg}); it is checked before it runs and is refused when it cannot be read"
        )
    except (RecursionError, MemoryError):
        return f"the {what} is nested too deeply to be checked; it is refused"
    except Exception as exc:  # noqa: BLE001 - the parser's own failures: fail closed
        return f"the {what} could not be checked ({type(exc).__name__}); it is refused"
    try:
        for rule in _rules(tree):
            if rule in _REMOTE_RULES:
                return f"{'updates' if update else 'queries'} {_REMOTE_RULES[rule]}"
    except RecursionError:
        return f"the {what} is nested too deeply to be checked; it is refused"
    return None


#: Control characters other than tab and line feed, and a carriage return without a line feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _is_update(text: str) -> bool:
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parseUpdate(text)
    except Exception:  # noqa: BLE001 - any failure means "not an update"
        return False
    return True


def _rules(node: object) -> Iterator[str]:
    """The name of every grammar rule in a parse tree, at any depth."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item.name
            stack.extend(item.values())
        elif isinstance(item, (ParseResults, list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
