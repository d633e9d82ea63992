"""Competency queries: SPARQL files with a header, bound to parameters safely and run on a store.

A query file starts with comment lines::

    # title: Prementalizing modes in a session
    # question: Which prementalizing modes occur in a session, and on which turns?
    # param: session (session): the session id, e.g. susan-12; all sessions when left out
    # param: k (integer, default 3): how many turns to look back
    # example: session=susan-12

Each parameter appears in the body as a line ``VALUES ?name { UNDEF }``. Binding replaces
``UNDEF`` on that line by an RDF term built from the user's value (an IRI minted from a checked
id, a class IRI resolved through the ontology, or a typed literal): user text is never pasted
into SPARQL. A query may repeat the line inside its subqueries (a subquery is evaluated before
the values outside it are joined in, so only a line of its own restricts it); binding replaces
every occurrence. The lines of an unbound optional parameter are dropped: ``VALUES ?name
{ UNDEF }`` matches any value, so the query means the same without them, and Virtuoso 7
cannot plan some queries that keep them.

A repeated line may end with the comment ``# repeat``: it only narrows a subquery whose rows
are joined with an earlier line of the same parameter at the top of the query, so the query
means the same without it. Binding keeps such lines for Oxigraph, which then reads one session
instead of all of them, and drops them for Virtuoso (``repeats=False``): Virtuoso 7 plans the
subqueries on its own and, with the line in each, its cost estimate for one session can exceed
``MaxQueryCostEstimationTime`` and the query is refused (docs/stores.md).

A line ``GRAPH ?session {  # graph`` (for a parameter of type ``session``) names the session's
graph itself once the parameter is bound: binding writes ``GRAPH <…/session/ID> {`` there.
Like ``# repeat`` it is a hint for Oxigraph's planner (kept only with ``repeats=True``): given a
variable graph, Oxigraph may start from a class's occurrences in every graph and keep the
session's afterwards, so one session's answer grows with the store; given the graph's name, it
reads that graph alone. The author marks only lines where a bound ``VALUES ?session`` line is
in scope, so the query means the same; a marker on any other line is refused when the file is
read.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from . import vocab
from .concepts import ConceptIndex, default_index
from .errors import QueryError, UnknownNameError
from .resources import resource_dir
from .sessions.yaml_reader import ID_PATTERN
from .sparql_guard import check_sparql
from .stores.base import Rows, Store
from .user_sparql import check_located

PARAM_TYPES = ("session", "concept", "participant", "annotator", "integer", "string")
#: Integer parameters that are windows of turns (a wider window can only add rows).
WINDOW_NAMES = ("k", "window")
_QUERY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_HEADER = re.compile(r"^#\s*(title|question|param|example):\s*(.*)$")
_PARAM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<spec>[^)]*)\)\s*:?\s*(?P<help>.*)$")


@dataclass(frozen=True)
class Parameter:
    """One parameter of a competency query."""

    name: str
    type: str
    required: bool
    default: str | None
    help: str
    #: The smallest and largest value an integer parameter accepts (None: no bound).
    minimum: int | None = None
    maximum: int | None = None

    @property
    def is_window(self) -> bool:
        """Whether this is a window of turns (``k``): a wider one can only add rows."""
        return self.type == "integer" and self.name in WINDOW_NAMES

    def accepted(self) -> str:
        """The values an integer parameter accepts, in words."""
        if self.minimum is not None and self.maximum is not None:
            return f"a whole number from {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"a whole number of at least {self.minimum}"
        if self.maximum is not None:
            return f"a whole number of at most {self.maximum}"
        return "a whole number"


@dataclass(frozen=True)
class CompetencyQuery:
    """A competency query read from a ``.rq`` file."""

    name: str
    title: str
    question: str
    parameters: tuple[Parameter, ...]
    example: dict[str, str]
    sparql: str
    path: Path
    #: Texts already bound, by (values, repeats), and the guard's verdict on the file's text:
    #: a query asked again with the same values costs a dictionary lookup, not a bind. Not part
    #: of the value (the file's text, which the rest is read from, decides equality).
    _memo: dict[object, object] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def check(self) -> None:
        """Raise UnsafeSparqlError (naming the file) unless the query as written parses and
        uses neither SERVICE nor LOAD (see :mod:`mbtkg.sparql_guard`); a parse failure is said
        in one sentence with its line and column.

        A bundled query whose text is exactly one the guard passed when the cache of derived
        rules was built (:func:`_passed_bundled_texts`) is not parsed again: the parser alone
        takes longer to import than the rest of a one-session query.
        """
        if self.vetted():
            return
        check_located(self.sparql, source=str(self.path))

    def vetted(self) -> bool:
        """Whether this is a bundled query whose exact text the guard passed before (all
        bundled queries are SELECT queries that declare their own prefixes). Decided once per
        parsed file (an edited file is parsed into a new object)."""
        verdict = self._memo.get("vetted")
        if verdict is None:
            verdict = self._memo["vetted"] = self.path.parent == Path(_bundled_dir()) and (
                _text_key(self.sparql) in _passed_bundled_texts()
            )
        return bool(verdict)

    def describe(self, values: Mapping[str, str]) -> str:
        """``query 'NAME' with session=susan-12, k=2`` (defaults included), for messages."""
        given = {p.name: values.get(p.name, p.default) for p in self.parameters}
        shown = ", ".join(f"{k}={v}" for k, v in given.items() if v is not None)
        return f"query {self.name!r}" + (f" with {shown}" if shown else " (no parameters)")

    def window(self) -> Parameter | None:
        """The query's window-of-turns parameter, if it has one."""
        return next((p for p in self.parameters if p.is_window), None)

    def bind(
        self,
        values: Mapping[str, str],
        *,
        index: ConceptIndex | None = None,
        repeats: bool = True,
    ) -> str:
        """The query text with each parameter's ``VALUES`` lines bound to a checked RDF term
        (and those of an unbound optional parameter dropped). With ``repeats=False`` the lines
        marked ``# repeat`` are dropped too (for Virtuoso; see the module docstring).

        The text as written is checked on a parse first (:func:`mbtkg.sparql_guard.check_sparql`):
        a query file using SERVICE or LOAD, or one that cannot be read, is refused here."""
        plain = index is None and all(type(v) is str for v in values.values())
        key = (tuple(sorted(values.items())), repeats) if plain else None
        if key is not None and (bound := self._memo.get(key)) is not None:
            return str(bound)
        text = self._bind(values, index=index, repeats=repeats)
        if key is not None:
            if len(self._memo) >= _BOUND_TEXTS_KEPT:  # bounded, whatever the callers send
                self._memo.clear()
            self._memo[key] = text
        return text

    def _bind(self, values: Mapping[str, str], *, index: ConceptIndex | None, repeats: bool) -> str:
        self.check()
        known = {p.name: p for p in self.parameters}
        for name in values:
            if name not in known:
                hits = ConceptIndex.suggest(name, known)
                hint = f"; did you mean {hits[0]!r}?" if hits else ""
                expected = ", ".join(known) if known else "no parameters"
                raise UnknownNameError(
                    f"query {self.name!r} has no parameter {name!r}{hint} (it takes: {expected})",
                    suggestions=tuple(hits),
                )
        text = self.sparql if repeats else _REPEAT_LINE.sub("", self.sparql)
        for p in self.parameters:
            raw = values.get(p.name, p.default)
            if raw is None:
                if p.required:
                    raise QueryError(
                        f"query {self.name!r} needs parameter {p.name!r} ({p.type}): {p.help}; "
                        f"give it as --param {p.name}=VALUE"
                    )
                text = _VALUES_LINE(p.name).sub("", text)
                continue
            term = _term(p, raw, index or default_index(), self.name)
            text = _bind_line(text, p.name, str(term))
            if repeats and p.type == "session":
                text = _name_graphs(text, p.name, str(term))
        return text


#: How many bound texts each parsed query keeps (a server may be asked for any values).
_BOUND_TEXTS_KEPT = 64


def _bind_line(text: str, name: str, term: str) -> str:
    """Replace UNDEF on every ``VALUES ?name { UNDEF }`` line by an already-checked term."""
    return _VALUES_LINE(name).sub(lambda m: m.group(1) + term + m.group(2), text)


def _name_graphs(text: str, name: str, term: str) -> str:
    """Write the session's graph (an already-checked IRI) into each ``GRAPH ?name {  # graph``
    line."""
    return _GRAPH_LINE(name).sub(lambda m: m.group(1) + term + m.group(2), text)


#: A line of code that ends with the comment ``# graph`` (a comment line is not one).
_GRAPH_MARKED = re.compile(r"^[ \t]*[^#\s][^#\n]*#[ \t]*graph[ \t]*$", re.MULTILINE)


def _GRAPH_LINE(name: str) -> re.Pattern[str]:  # noqa: N802 - reads like a constant
    return re.compile(
        r"^([ \t]*GRAPH[ \t]+)\?" + re.escape(name) + r"([ \t]*\{[ \t]*#[ \t]*graph[ \t]*)$",
        re.MULTILINE,
    )


#: A whole ``VALUES ?name { UNDEF }  # repeat`` line, with its end of line.
_REPEAT_LINE = re.compile(
    r"^[ \t]*VALUES\s+\?[A-Za-z_][A-Za-z0-9_]*\s*\{\s*UNDEF\s*\}[ \t]*#[ \t]*repeat[ \t]*\n",
    re.MULTILINE,
)


def repeats_restrictions(store: Store) -> bool:
    """Whether the store should get the ``# repeat`` lines: every store except Virtuoso."""
    return store.dialect() != "virtuoso"


def _VALUES_LINE(name: str) -> re.Pattern[str]:  # noqa: N802 - reads like a constant
    return re.compile(r"(VALUES\s+\?" + re.escape(name) + r"\s*\{\s*)UNDEF(\s*\})")


def _term(p: Parameter, raw: str, index: ConceptIndex, query: str) -> ox.NamedNode | ox.Literal:
    def bad(expected: str) -> QueryError:
        return QueryError(
            f"query {query!r}: parameter {p.name!r} must be {expected}, found {raw!r}"
        )

    if p.type in ("session", "participant", "annotator"):
        if not ID_PATTERN.match(raw):
            raise bad(f"a {p.type} id (letters, digits, '.', '_', '-')")
        mint = {
            "session": vocab.session_iri,
            "participant": vocab.person_iri,
            "annotator": vocab.annotator_iri,
        }
        return ox.NamedNode(mint[p.type](raw))
    if p.type == "concept":
        try:
            return ox.NamedNode(index.resolve(raw))
        except UnknownNameError as exc:
            raise UnknownNameError(
                f"query {query!r}, parameter {p.name!r}: {exc.detail}", suggestions=exc.suggestions
            ) from None
    if p.type == "integer":
        try:
            number = int(raw)
        except ValueError:
            raise bad(p.accepted()) from None
        if (p.minimum is not None and number < p.minimum) or (
            p.maximum is not None and number > p.maximum
        ):
            raise bad(p.accepted())
        return ox.Literal(number)
    return ox.Literal(raw)


def parse_query_file(path: str | Path) -> CompetencyQuery:
    """Read a query file and its header. Raises QueryError when the header is incomplete.

    Parsed files are remembered by path, modification time and size, so running a query many
    times reads its file once; an edited file is read again.
    """
    name = os.fspath(path)
    try:
        found = os.stat(name)
    except OSError as exc:
        raise QueryError(f"{name}: cannot read the query file: {exc.strerror}") from None
    return _parse_cached(name, found.st_mtime_ns, found.st_size)


def _parsed_if_file(name: str) -> CompetencyQuery | None:
    """The parsed query file ``name``, or None when no regular file is there (one ``stat``)."""
    try:
        found = os.stat(name)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return _parse_cached(name, found.st_mtime_ns, found.st_size)


@lru_cache(maxsize=256)
def _parse_cached(name: str, _mtime_ns: int, _size: int) -> CompetencyQuery:
    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise QueryError(f"{path}: the query file is not UTF-8 text") from None
    fields: dict[str, list[str]] = {"title": [], "question": [], "param": [], "example": []}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _HEADER.match(line)
        if m:
            fields[m.group(1)].append(m.group(2).strip())
    params: list[Parameter] = []
    for spec_line in fields["param"]:
        m = _PARAM.match(spec_line)
        if not m:
            raise QueryError(
                f"{path}: cannot read parameter line {spec_line!r}; expected 'name (type[, required][, default V]): help'"
            )
        spec = [s.strip() for s in m.group("spec").split(",")]
        ptype = spec[0]
        if ptype not in PARAM_TYPES:
            raise QueryError(
                f"{path}: parameter {m.group('name')!r} has unknown type {ptype!r}; expected one of {', '.join(PARAM_TYPES)}"
            )
        default = next(
            (s[len("default ") :].strip() for s in spec if s.startswith("default ")), None
        )
        bounds = {}
        for word in ("min", "max"):
            given = next(
                (s[len(word) + 1 :].strip() for s in spec if s.startswith(word + " ")), None
            )
            if given is not None:
                try:
                    bounds[word] = int(given)
                except ValueError:
                    raise QueryError(
                        f"{path}: parameter {m.group('name')!r}: '{word}' takes a whole number, "
                        f"found {given!r}"
                    ) from None
        params.append(
            Parameter(
                m.group("name"),
                ptype,
                "required" in spec,
                default,
                m.group("help").strip(),
                minimum=bounds.get("min"),
                maximum=bounds.get("max"),
            )
        )
        if not _VALUES_LINE(m.group("name")).search(text):
            raise QueryError(
                f"{path}: parameter {m.group('name')!r} has no line 'VALUES ?{m.group('name')} {{ UNDEF }}'"
            )
    _check_graph_markers(path, text, params)
    example: dict[str, str] = {}
    for ex in fields["example"]:
        for pair in ex.split():
            key, _, value = pair.partition("=")
            example[key] = value
    return CompetencyQuery(
        name=path.stem,
        title=fields["title"][0] if fields["title"] else path.stem,
        question=" ".join(fields["question"]),
        parameters=tuple(params),
        example=example,
        sparql=text,
        path=path,
    )


def _check_graph_markers(path: Path, text: str, params: list[Parameter]) -> None:
    """Refuse a ``# graph`` marker on any line but ``GRAPH ?name {`` of a session parameter."""
    sessions = [p.name for p in params if p.type == "session"]
    for m in _GRAPH_MARKED.finditer(text):
        line = m.group(0)
        if not any(_GRAPH_LINE(name).fullmatch(line) for name in sessions):
            number = text.count("\n", 0, m.start()) + 1
            expected = (
                f"'GRAPH ?{sessions[0]} {{  # graph'"
                if sessions
                else "a parameter of type session to name (the query has none)"
            )
            raise QueryError(
                f"{path}, line {number}: the marker '# graph' is on {line.strip()!r}; "
                f"it marks only a line {expected}"
            )


def list_queries() -> list[CompetencyQuery]:
    """The bundled competency queries, sorted by name.

    >>> "concept-definition" in [q.name for q in list_queries()]
    True
    """
    return [parse_query_file(p) for p in sorted(resource_dir("queries").glob("*.rq"))]


@lru_cache(maxsize=1)
def _bundled_dir() -> str:
    """The directory of the bundled queries (looked up once: it does not move)."""
    return str(resource_dir("queries"))


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _passed_bundled_texts() -> frozenset[str]:
    """The SHA-256 of the text of every bundled query that :func:`check_sparql` passes.

    Kept in the cache of derived rules (:mod:`mbtkg.derived_cache`), keyed by the query files,
    the guard's code and the parser's libraries; only hashes are stored, no query text.
    """
    from .derived_cache import fingerprint, load_or_build

    files = sorted(Path(_bundled_dir()).glob("*.rq"))

    def build() -> frozenset[str]:
        passed = set()
        for path in files:
            try:
                text = parse_query_file(path).sparql
                check_sparql(text)
            except QueryError:
                continue  # checked, and refused, again when it is used
            passed.add(_text_key(text))
        return frozenset(passed)

    key = fingerprint(
        files, code=("sparql_guard.py", "queries.py"), libraries=("rdflib", "pyparsing")
    )
    return load_or_build("checked-queries", key, build, frozenset)


def get_query(name_or_path: str) -> CompetencyQuery:
    """A bundled query by name, or a query file by path; an unknown name lists the known ones.

    A bundled query is read from ``<queries>/<name>.rq`` directly (one ``stat`` when it is
    already parsed); only an unknown name lists the directory, to suggest a known one.
    """
    if name_or_path.endswith(".rq"):
        if (query := _parsed_if_file(name_or_path)) is not None:
            return query
    elif _QUERY_NAME.match(name_or_path):
        bundled = os.path.join(_bundled_dir(), name_or_path + ".rq")
        if (query := _parsed_if_file(bundled)) is not None:
            return query
    queries = {q.name: q for q in list_queries()}
    if name_or_path in queries:
        return queries[name_or_path]
    hits = ConceptIndex.suggest(name_or_path, queries)
    hint = f"did you mean {hits[0]!r}? " if hits else ""
    raise UnknownNameError(
        f"unknown query {name_or_path!r}; {hint}known queries: {', '.join(sorted(queries))}",
        suggestions=tuple(hits),
    )


def run_query(
    store: Store,
    name_or_path: str,
    params: Mapping[str, str] | None = None,
    *,
    index: ConceptIndex | None = None,
) -> Rows:
    """Run a competency query with its parameters bound safely; return its rows."""
    query = get_query(name_or_path)
    text = query.bind(params or {}, index=index, repeats=repeats_restrictions(store))
    return store.select(text)


#: What each id-typed parameter names, and the IRI prefix of its ids.
_ID_KINDS = {
    "session": ("session", f"{vocab.DATA}session/"),
    "participant": ("participant", f"{vocab.DATA}person/"),
    "annotator": ("annotator", f"{vocab.DATA}annotator/"),
}


def check_ids(store: Store, query: CompetencyQuery, values: Mapping[str, str]) -> None:
    """Raise UnknownNameError when an id given for a session, participant or annotator parameter
    names nothing in the store, with the closest known ids (as ``mbtkg analyze`` does)."""
    from urllib.parse import unquote

    for p in query.parameters:
        raw = values.get(p.name)
        if raw is None or p.type not in _ID_KINDS or not ID_PATTERN.match(raw):
            continue
        kind, prefix = _ID_KINDS[p.type]
        if p.type == "session":
            if vocab.session_iri(raw) in store.graph_names():
                continue
            known = sorted(
                sid for g in store.graph_names() if (sid := vocab.session_id_from_graph(g))
            )
        else:
            iri = prefix + raw
            if store.ask(f"ASK {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}"):
                continue
            rows = store.select(
                f"SELECT DISTINCT ?x WHERE {{ GRAPH ?g {{ ?x ?p ?o }} "
                f'FILTER (STRSTARTS(STR(?x), "{prefix}")) }}'
            )
            known = sorted(
                unquote(str(r[0].value)[len(prefix) :])
                for r in rows.rows
                if r[0] is not None and "/" not in str(r[0].value)[len(prefix) :]
            )
        if not known:
            raise QueryError(
                f"query {query.name!r}: the store holds no {kind}s, so {p.name}={raw} cannot "
                "match; load session files first (mbtkg load FILE ...)"
            )
        hits = ConceptIndex.suggest(raw, known)
        hint = f"; did you mean {hits[0]!r}?" if hits else ""
        raise UnknownNameError(
            f"query {query.name!r}, parameter {p.name!r}: no {kind} {raw!r} in the store{hint} "
            f"(known {kind}s: {', '.join(known)})",
            suggestions=tuple(hits),
        )


def nearest_window(
    store: Store,
    query: CompetencyQuery,
    values: Mapping[str, str],
    *,
    index: ConceptIndex | None = None,
) -> int | None:
    """For a windowed query that answered nothing: the smallest window (``k``) that would
    answer, up to the parameter's maximum, or None when no window would.

    A wider window only adds rows, so a binary search finds it in a few runs."""
    window = query.window()
    if window is None:
        return None
    given = values.get(window.name, window.default)
    low = int(given) if given is not None else (window.minimum or 1)
    high = window.maximum if window.maximum is not None else 10_000
    repeats = repeats_restrictions(store)

    def answers(k: int) -> bool:
        text = query.bind({**values, window.name: str(k)}, index=index, repeats=repeats)
        return len(store.select(text)) > 0

    if low >= high or not answers(high):
        return None
    while high - low > 1:  # answers(high) holds, answers(low) does not
        middle = (low + high) // 2
        if answers(middle):
            high = middle
        else:
            low = middle
    return high
