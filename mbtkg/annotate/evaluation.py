"""How often the suggestions agree with human codes, session by session (leave one out).

For each session scored, every turn that a human coded (with any concept, by any annotator)
is a test case; its gold codes are the concepts annotated on a span that includes the turn.
A ranker agrees at k when one of its k best concepts is a gold code. Concept examples taken
from sessions (the quote, or else the first turn's text, of each annotation) come only from
the *other* sessions, so a session's own codes never help rank its turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..sessions.model import Session
from .catalog import Concept, codable_concepts
from .suggest import Ranker, turn_query

KS = (1, 3, 5)
RankerFactory = Callable[[Sequence[Concept], dict[str, list[str]]], Ranker]


@dataclass(frozen=True)
class Score:
    """Agreement of one ranker with the human codes over some sessions."""

    ranker: str
    examples: str
    turns: int
    hits: dict[int, int]
    seconds_per_turn: float

    def rate(self, k: int) -> float:
        """The share of coded turns with a gold code among the k best concepts."""
        return self.hits[k] / self.turns if self.turns else 0.0


def session_examples(sessions: Sequence[Session]) -> dict[str, list[str]]:
    """Example texts per concept IRI from the annotations of some sessions."""
    out: dict[str, list[str]] = {}
    for s in sessions:
        texts = {t.id: t.text or "" for t in s.turns}
        for an in s.annotations:
            if an.concept_iri is None:
                continue
            text = an.quote or texts.get(an.start or -1, "")
            if text:
                out.setdefault(an.concept_iri, []).append(text)
    return out


def gold_codes(session: Session) -> dict[int, set[str]]:
    """The concepts coded on each turn, by any annotator."""
    out: dict[int, set[str]] = {}
    for an in session.annotations:
        if an.concept_iri is None or an.start is None or an.end is None:
            continue
        for t in session.turns:
            if an.start <= t.id <= an.end:
                out.setdefault(t.id, set()).add(an.concept_iri)
    return out


def score(
    name: str,
    factory: RankerFactory,
    sessions: Sequence[Session],
    *,
    with_session_examples: bool,
) -> Score:
    """Leave-one-session-out agreement of one kind of ranker."""
    concepts = codable_concepts()
    hits = dict.fromkeys(KS, 0)
    turns = 0
    spent = 0.0
    for i, held_out in enumerate(sessions):
        others = [s for j, s in enumerate(sessions) if j != i]
        extra = session_examples(others) if with_session_examples else {}
        ranker = factory(concepts, extra)
        texts = [t.text or "" for t in held_out.turns]
        gold = gold_codes(held_out)
        for position, turn in enumerate(held_out.turns):
            if turn.id not in gold:
                continue
            started = time.perf_counter()
            ranked = [s.concept.iri for s in ranker.rank(turn_query(texts, position), n=max(KS))]
            spent += time.perf_counter() - started
            turns += 1
            for k in KS:
                hits[k] += bool(set(ranked[:k]) & gold[turn.id])
    label = "ontology + other sessions" if with_session_examples else "ontology only"
    return Score(name, label, turns, hits, spent / turns if turns else 0.0)


def chance(sessions: Sequence[Session]) -> dict[int, float]:
    """Agreement at k of a ranker that picks k concepts at random (expected value)."""
    from math import comb

    n = len(codable_concepts())
    out = {}
    for k in KS:
        total = count = 0.0
        for s in sessions:
            for codes in gold_codes(s).values():
                g = len(codes)
                total += 1 - comb(n - g, k) / comb(n, k)
                count += 1
        out[k] = total / count if count else 0.0
    return out


def format_scores(scores: Sequence[Score], base: dict[int, float]) -> str:
    """A Markdown table of the scores."""
    head = "| ranker | concept examples | coded turns | top-1 | top-3 | top-5 | ms per suggestion |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for s in scores:
        rates = " | ".join(f"{s.rate(k):.3f}" for k in KS)
        lines.append(
            f"| {s.ranker} | {s.examples} | {s.turns} | {rates} | {s.seconds_per_turn * 1000:.1f} |"
        )
    rates = " | ".join(f"{base[k]:.3f}" for k in KS)
    turns = scores[0].turns if scores else 0
    lines.append(f"| random (expected) | - | {turns} | {rates} | - |")
    return "\n".join(lines)
