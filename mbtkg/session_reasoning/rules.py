"""The rules of the inferred graphs that OWL cannot state: SPARQL CONSTRUCT files in
``queries/rules/``.

Relations computed from numbers (which occurrence starts within three turns after which) are
not OWL, and OWL reasons under the open world, so "a rupture that nothing repairs" is not an
OWL class expression either. Each such rule is one documented ``CONSTRUCT`` query (the only
copy; ``docs/reasoning.md`` lists them), in one of two phases:

- ``queries/rules/turn-order/``: relations derived from turn order, run on the asserted
  session before the OWL 2 RL reasoner, so that defined classes can use them;
- ``queries/rules/closed-world/``: rules that read the asserted session and what the reasoner
  inferred, run after it.

The rules see one session, in the default graph of a private in-memory store. A phase runs its
rules in file-name order, repeatedly, until nothing new comes (a rule may use another's
output); what they construct about the session's own nodes, and is not there yet, is added to
the session's inferred graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from .. import vocab
from ..errors import MbtkgError
from ..resources import resource_dir

#: More rounds than this means two rules feed each other without end: a bug in the rules.
_MAX_ROUNDS = 10


class RuleError(MbtkgError):
    """A rule file is not a CONSTRUCT query, or the rules never settle."""


#: The two phases, in the order they run around the reasoner.
TURN_ORDER = "turn-order"
CLOSED_WORLD = "closed-world"


def rules_dir() -> Path:
    """Where the rule files live (one folder per phase)."""
    return resource_dir("queries") / "rules"


@lru_cache(maxsize=2)
def rules(phase: str) -> tuple[tuple[str, str], ...]:
    """Every rule of a phase as (file name, query text), in file-name order."""
    out = []
    for path in sorted((rules_dir() / phase).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        if "CONSTRUCT" not in text.upper():
            raise RuleError(f"{path.name}: a rule must be a SPARQL CONSTRUCT query")
        out.append((path.name, text))
    return tuple(out)


def apply_rules(
    phase: str, session_id: str, asserted: Sequence[ox.Quad], inferred: Sequence[ox.Quad] = ()
) -> list[ox.Quad]:
    """The new quads of the session's inferred graph that the rules of a phase construct."""
    graph = ox.NamedNode(vocab.inferred_graph_iri(session_id))
    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in asserted)
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in inferred)
    iri = vocab.session_iri(session_id)
    out: list[ox.Quad] = []
    for _ in range(_MAX_ROUNDS):
        new = []
        for name, text in rules(phase):
            try:
                found = list(store.query(text))  # type: ignore[arg-type]
            except SyntaxError as exc:
                raise RuleError(f"{name}: {exc}") from None
            for t in found:
                if not isinstance(t, ox.Triple) or not isinstance(t.subject, ox.NamedNode):
                    continue
                if t.subject.value != iri and not t.subject.value.startswith(iri + "/"):
                    continue
                quad = ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                if quad not in store:
                    store.add(quad)
                    new.append(ox.Quad(t.subject, t.predicate, t.object, graph))
        if not new:
            return out
        out.extend(new)
    raise RuleError(f"the rules in rules/{phase}/ did not settle on session {session_id!r}")
