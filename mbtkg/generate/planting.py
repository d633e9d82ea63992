"""Planting errors of known kinds at known places in session drafts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .. import vocab
from .talk import Concepts, Draft


@dataclass(frozen=True)
class PlantedError:
    """One error put into the corpus on purpose, and what validation must say about it."""

    file: str
    line: int
    kind: str
    focus: str
    expected: tuple[tuple[str, str], ...]  # (shape, constraint component) pairs

    def as_json(self) -> dict[str, Any]:
        """The manifest entry."""
        return {
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
            "focus": self.focus,
            "expected": [{"shape": s, "component": c} for s, c in self.expected],
        }


#: kind -> (what is mutated, expected (shape, component) pairs)
ERROR_KINDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "undeclared-speaker": ("turn", (("mbtsh:Turn-speaker", "sh:ClassConstraintComponent"),)),
    "empty-text": ("turn", (("mbtsh:Turn-text", "sh:MinLengthConstraintComponent"),)),
    "turn-order": ("turn", (("mbtsh:Turn-order", "sh:SPARQLConstraintComponent"),)),
    "span-out-of-range": (
        "annotation",
        (
            ("mbtsh:Occurrence-startTurn", "sh:ClassConstraintComponent"),
            ("mbtsh:Occurrence-endTurn", "sh:ClassConstraintComponent"),
        ),
    ),
    "span-reversed": (
        "annotation",
        (("mbtsh:Occurrence-span", "sh:LessThanOrEqualsConstraintComponent"),),
    ),
    "confidence-above-one": (
        "annotation",
        (("mbtsh:Annotation-confidence", "sh:MaxInclusiveConstraintComponent"),),
    ),
    "undeclared-annotator": (
        "annotation",
        (("mbtsh:Annotation-creator", "sh:ClassConstraintComponent"),),
    ),
    "wrong-kind-concept": ("annotation", (("mbtsh:Occurrence", "sh:ClassConstraintComponent"),)),
    "quote-mismatch": ("annotation", (("mbtsh:Annotation-quote", "sh:SPARQLConstraintComponent"),)),
    "repair-of-non-rupture": (
        "annotation",
        (("mbtsh:Axiom-repairs-range", "sh:ClassConstraintComponent"),),
    ),
    "no-patient": (
        "session",
        (("mbtsh:Session-patient", "sh:QualifiedMinCountConstraintComponent"),),
    ),
    "session-number-zero": (
        "session",
        (("mbtsh:Session-number", "sh:MinInclusiveConstraintComponent"),),
    ),
}


def plan_errors(
    drafts: list[Draft], count: int, seed: int
) -> dict[int, list[tuple[str, random.Random]]]:
    plan: dict[int, list[tuple[str, random.Random]]] = {}
    if not drafts:
        return plan
    rng = random.Random(f"mbtkg-errors:{seed}")
    order = list(range(len(drafts)))
    rng.shuffle(order)
    kinds = list(ERROR_KINDS)
    offset = rng.randrange(len(kinds))
    for n in range(count):
        session = order[n % len(order)]
        kind = kinds[(n + offset) % len(kinds)]
        if ERROR_KINDS[kind][0] == "session" and any(k == kind for k, _ in plan.get(session, [])):
            kind = "quote-mismatch"
        plan.setdefault(session, []).append((kind, random.Random(f"mbtkg-error:{seed}:{n}")))
    return plan


def free_annotation(d: Draft, rng: random.Random, *, quoted: bool | None = None) -> int:
    """An annotation no relation points to or from, not yet touched by another planted error."""
    referenced = {t for a in d.annotations for t in a.get("relations", {}).values()}
    candidates = [
        i
        for i, a in enumerate(d.annotations)
        if "relations" not in a
        and a["id"] not in referenced
        and not a.get("_planted")
        and (quoted is None or ("quote" in a) == quoted)
    ]
    i = rng.choice(candidates)
    d.annotations[i]["_planted"] = True
    return i


def mutate(d: Draft, kind: str, rng: random.Random, c: Concepts) -> tuple[str, int, str]:
    """Plant one error; return (kind, position key for the line, focus IRI)."""
    if kind in ("undeclared-speaker", "empty-text", "turn-order"):
        used = {
            t
            for a in d.annotations
            for t in range(a["turns"][0], a["turns"][1] + 1)
            if "quote" in a
        }
        used |= {i for i, t in enumerate(d.turns) if t.get("_planted")}
        choices = [
            i
            for i in range(1, len(d.turns) - 2)
            if i + 1 not in used
            and i + 2 not in used
            and not d.turns[i].get("_planted")
            and not d.turns[i + 1].get("_planted")
        ]
        i = rng.choice(choices)
        turn = d.turns[i]
        turn["_planted"] = True
        if kind == "undeclared-speaker":
            turn["speaker"] = d.patient.replace("P-", "P-x")
        elif kind == "empty-text":
            turn["text"] = ""
        else:  # write turn i+1 before turn i
            d.turns[i + 1]["_planted"] = True
            a, b = d.turn_order.index(i), d.turn_order.index(i + 1)
            d.turn_order[a], d.turn_order[b] = d.turn_order[b], d.turn_order[a]
            turn = d.turns[i + 1]
        return kind, turn["id"], vocab.turn_iri(d.sid, turn["id"])
    if kind in ("no-patient", "session-number-zero"):
        if kind == "no-patient":
            d.patient_role = "therapist"
        else:
            d.number = 0
        return kind, 0, vocab.session_iri(d.sid)
    repairs = [
        i
        for i, a in enumerate(d.annotations)
        if "repairs" in a.get("relations", {}) and not a.get("_planted")
    ]
    if kind == "repair-of-non-rupture":
        if repairs:
            i = rng.choice(repairs)
        else:  # no repair to redirect: turn an unrelated annotation into one
            i = free_annotation(d, rng)
            d.annotations[i]["concept"] = c.repair
        ann = d.annotations[i]
        ann["_planted"] = True
        non_rupture = next(
            a["id"]
            for a in d.annotations
            if a["concept"] not in c.ruptures and a["concept"] != c.repair
        )
        ann["relations"] = {"repairs": non_rupture}
        return kind, i, vocab.occurrence_iri(d.sid, ann["id"])
    i = free_annotation(d, rng, quoted=True if kind == "quote-mismatch" else None)
    ann = d.annotations[i]
    focus = vocab.annotation_iri(d.sid, ann["id"])
    if kind == "span-out-of-range":
        ann["turns"] = [len(d.turns) + 3, len(d.turns) + 4]
        ann.pop("quote", None)
        focus = vocab.occurrence_iri(d.sid, ann["id"])
    elif kind == "span-reversed":
        start = max(2, ann["turns"][0])
        ann["turns"] = [start, start - 1]
        ann.pop("quote", None)
        focus = vocab.occurrence_iri(d.sid, ann["id"])
    elif kind == "confidence-above-one":
        ann["confidence"] = round(1 + rng.uniform(0.05, 1.5), 2)
    elif kind == "undeclared-annotator":
        ann["annotator"] = "A-9x"
    elif kind == "wrong-kind-concept":
        ann["concept"] = c.wrong_kind
        focus = vocab.occurrence_iri(d.sid, ann["id"])
    else:  # quote-mismatch
        ann["quote"] = "words nobody said in this session"
    return kind, i, focus
