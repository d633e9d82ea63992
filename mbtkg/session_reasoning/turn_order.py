"""Sequence relations derived from turn order, computed in Python while a session is loaded.

Which occurrence starts shortly after which, and which starts during which, follow from the
turn indices of the occurrences alone. ``queries/rules/turn-order/*.rq`` state the two rules
as SPARQL ``CONSTRUCT`` queries (the documented definition); this module computes the same
triples directly from a session's triples, with no store and no query engine, because a load
derives them for every session. ``tests/test_fast_inference.py`` checks that both give the
same triples on every example session and on generated ones.

Terms are N-Triples strings (``<iri>``, ``"12"^^<...#integer>``), as the session writer emits
them, so nothing is parsed into objects.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable

from .. import vocab
from ..nquads_text import Triple

#: ?later starts shortly after ?earlier when it starts at most this many turns after ?earlier ends.
SHORTLY_AFTER_TURNS = 3

_HAS_BODY = f"<{vocab.OA}hasBody>"
_CREATOR = f"<{vocab.DCTERMS}creator>"
_START = f"<{vocab.MBT}startIndex>"
_END = f"<{vocab.MBT}endIndex>"
_INTEGER = f"^^<{vocab.XSD}integer>"
STARTS_SHORTLY_AFTER = f"<{vocab.MBT}startsShortlyAfter>"
STARTS_DURING = f"<{vocab.MBT}startsDuring>"


def _integer(term: str) -> int | None:
    """The value of an ``xsd:integer`` literal, or None for any other term."""
    if not term.endswith(_INTEGER) or not term.startswith('"'):
        return None
    try:
        return int(term[1 : -len(_INTEGER) - 1])
    except ValueError:
        return None


#: The predicates the rules read.
PREDICATES = (_HAS_BODY, _CREATOR, _START, _END)


def turn_order_triples(triples: Iterable[Triple]) -> set[Triple]:
    """``mbt:startsShortlyAfter`` and ``mbt:startsDuring`` between the occurrences (annotation
    bodies) of one session that the same annotator coded, from their turn indices:

    - ``later startsShortlyAfter earlier`` when later starts on a later turn than earlier
      starts and at most three turns after earlier ends;
    - ``later startsDuring earlier`` (later is not earlier) when earlier's span covers later's
      first turn or the turn just before it.
    """
    groups: dict[str, list[Triple]] = {p: [] for p in PREDICATES}
    for triple in triples:
        group = groups.get(triple[1])
        if group is not None:
            group.append(triple)
    return derive(*(groups[p] for p in PREDICATES))


def derive(
    has_body: Iterable[Triple],
    creator: Iterable[Triple],
    start_index: Iterable[Triple],
    end_index: Iterable[Triple],
) -> set[Triple]:
    """:func:`turn_order_triples` from the session's triples with the predicates the rules
    read, one iterable per predicate (in the order of :data:`PREDICATES`)."""
    bodies: dict[str, list[str]] = defaultdict(list)
    for s, _, o in has_body:
        bodies[s].append(o)
    starts: dict[str, list[int]] = defaultdict(list)
    for s, _, o in start_index:
        value = _integer(o)
        if value is not None:
            starts[s].append(value)
    ends: dict[str, list[int]] = defaultdict(list)
    for s, _, o in end_index:
        value = _integer(o)
        if value is not None:
            ends[s].append(value)
    coded: dict[str, set[str]] = defaultdict(set)  # annotator -> the bodies of its annotations
    for annotation, _, coder in creator:
        coded[coder].update(bodies.get(annotation, ()))
    out: set[Triple] = set()
    for occurrences in coded.values():
        # every (start, body) of the annotator's occurrences, sorted by start turn
        by_start = sorted((start, body) for body in occurrences for start in starts.get(body, ()))
        first = [start for start, _ in by_start]
        for body in occurrences:
            for start in starts.get(body, ()):
                for end in ends.get(body, ()):
                    # shortly after: start < later start <= end + 3
                    lo = bisect_right(first, start)
                    hi = bisect_right(first, end + SHORTLY_AFTER_TURNS)
                    for _, later in by_start[lo:hi]:
                        out.add((later, STARTS_SHORTLY_AFTER, body))
                    # during: start <= later start <= end + 1, another occurrence
                    lo = bisect_left(first, start)
                    hi = bisect_right(first, end + 1)
                    for _, later in by_start[lo:hi]:
                        if later != body:
                            out.add((later, STARTS_DURING, body))
    return out
