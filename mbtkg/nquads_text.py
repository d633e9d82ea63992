"""N-Quads as text: split into term strings and written back, with no RDF objects in between.

Inference reads and writes many thousands of triples per session; building Python objects for
each term costs more than the reasoning itself. Both the session writer and Oxigraph's
serializer write one quad per line, its terms separated by one space and its graph an IRI, so
a line splits into its terms with plain string operations.
"""

from __future__ import annotations

from collections.abc import Iterable

#: A triple as N-Triples term strings: ``("<s>", "<p>", "\\"12\\"^^<...#integer>")``.
Triple = tuple[str, str, str]


def split_nquads(nquads: bytes) -> list[Triple]:
    """The triples of N-Quads text in which every line names a graph, as term strings.

    An object, even a literal with spaces in it, is what lies between the predicate and the
    last `` <`` of the line (the start of the graph's IRI, which holds no space).

    >>> split_nquads(b'<s> <p> "a <b> c" <g> .\\n')
    [('<s>', '<p>', '"a <b> c"')]
    """
    out = []
    for line in nquads.decode("utf-8").split("\n"):
        if line:
            s, p, rest = line.split(" ", 2)
            out.append((s, p, rest[: rest.rindex(" <")]))
    return out


def join_nquads(triples: Iterable[Triple], graph: str) -> bytes:
    """Triples as N-Quads text in the graph named ``graph`` (an IRI, without brackets)."""
    g = f"<{graph}>"
    return "".join([f"{s} {p} {o} {g} .\n" for s, p, o in triples]).encode("utf-8")
