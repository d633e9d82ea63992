"""The talk and codes of generated sessions: sentence banks, concept weights, session drafts."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from .. import vocab
from ..concepts import ConceptIndex

_PHENOMENON = vocab.MBT + "SessionPhenomenon"
#: Relative frequencies of codable concepts by local name; concepts not listed get 1.
WEIGHTS: dict[str, float] = {
    "EmpathicValidation": 9,
    "Clarification": 7,
    "NotKnowingStance": 6,
    "AffectElaboration": 5,
    "AffectFocus": 4,
    "RelationalMentalizing": 4,
    "StopRewindExplore": 3,
    "Challenge": 1.5,
    "Mentalizing": 3,
    "EffectiveMentalizing": 4,
    "LossOfMentalizing": 2.5,
    "RecoveryOfMentalizing": 2,
    "PsychicEquivalence": 3,
    "TeleologicalMode": 2.5,
    "PretendMode": 2.5,
    "HighArousal": 3,
    "Arousal": 1,
    "AttachmentActivation": 2.5,
    "UnmentalizedAffect": 2.5,
    "EpistemicTrust": 2,
    "EpistemicMistrust": 1.5,
    "WeNess": 1.5,
    "ReportedSelfHarm": 0.7,
    "ReportedCancelledSession": 0.3,
    "WithdrawalRupture": 1.6,
    "ConfrontationRupture": 1.2,
    "Rupture": 0.3,
    "Repair": 0.0,
}
#: Classes never drawn as a concept (too general to code) unless nothing else is left.
_ABSTRACT = {
    "SessionPhenomenon",
    "RelationalPhenomenon",
    "TherapistStance",
    "EpistemicStance",
    "PrementalizingMode",
    "Intervention",
    "BasicMentalizing",
    "AttachmentRelevantTrigger",
}
_STRUCTURAL = {
    "Session",
    "Turn",
    "Person",
    "Annotator",
    "ParticipantRole",
    "PatientRole",
    "TherapistRole",
    "TurnSelector",
    "SessionSetting",
    "SessionPhenomenon",
}

_PATIENT = [
    "I don't know why I even came today.",
    "It was fine, I suppose.",
    "Everyone at work thinks I'm useless, I can tell.",
    "My sister didn't call back again.",
    "I felt this rush of panic on the train.",
    "Maybe I was just tired.",
    "It's obvious she hates me, she didn't even look up.",
    "I sent him a long message and deleted it.",
    "I keep going over what I said to my mother.",
    "I couldn't sleep until four.",
    "There's no point talking about it.",
    "I think I was angry, actually.",
    "It's like a fog comes down and I can't think.",
    "I did the breathing thing and it helped a bit.",
    "You probably think I'm overreacting.",
    "I wanted to leave the room.",
    "He said it was nothing, but it wasn't nothing.",
    "I ate nothing all day.",
    "Sometimes I wonder what you really think of me.",
    "It hurts when nobody notices.",
    "I was proud of myself for going.",
    "Then I just went numb.",
    "I suppose she might have been busy.",
    "I don't want to talk about that.",
]
_THERAPIST = [
    "Can you say a bit more about that?",
    "What was that like for you?",
    "I'm not sure I understand yet, help me.",
    "Let's slow down for a moment.",
    "It sounds like that was really painful.",
    "What do you imagine was going on for her?",
    "I notice something changed just now.",
    "Can we go back to the moment on the train?",
    "I wonder if I said something that didn't feel right.",
    "That makes a lot of sense to me.",
    "How are you feeling right now, here with me?",
    "What went through your mind then?",
    "I may have got that wrong.",
    "You seem quieter since I asked that.",
    "Is there another way of seeing what he did?",
    "That took courage to say.",
    "Let's stay with that feeling for a moment.",
    "What would you have wanted from him?",
    "I'm curious about the numbness.",
    "We have about ten minutes left.",
]


@dataclass
class Draft:
    """A session being built, as plain values, before it is written as YAML."""

    sid: str
    date: dt.date
    number: int
    patient: str
    therapist: str
    annotators: list[str]
    turns: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    turn_order: list[int] = field(default_factory=list)  # indexes into turns, as written
    patient_role: str = "patient"


class Concepts:
    """Codable concepts with weights, and the classes used for relations and planted errors."""

    def __init__(self, index: ConceptIndex) -> None:
        codable = sorted(
            c
            for c in index.labels
            if _PHENOMENON in index.ancestors(c) and c not in index.deprecated | index.inferred
        )
        local = {c: c[len(vocab.MBT) :] for c in codable}
        drawn = [c for c in codable if local[c] not in _ABSTRACT] or codable
        self.pool = [index.labels[c] for c in drawn if WEIGHTS.get(local[c], 1.0) > 0]
        self.weights = [WEIGHTS.get(local[c], 1.0) for c in drawn if WEIGHTS.get(local[c], 1.0) > 0]
        self.ruptures = {
            index.labels[c]
            for c in codable
            if vocab.MBT + "Rupture" in index.ancestors(c) or local[c] == "Rupture"
        }
        self.interventions = {
            index.labels[c] for c in codable if vocab.MBT + "Intervention" in index.ancestors(c)
        }
        self.therapist_side = {
            index.labels[c]
            for c in codable
            if {vocab.MBT + "Intervention", vocab.MBT + "TherapistStance"} & index.ancestors(c)
        }
        self.repair = index.labels.get(vocab.MBT + "Repair", "repair")
        wrong = sorted(
            index.labels[c]
            for c in index.labels
            if c not in codable and c[len(vocab.MBT) :] not in _STRUCTURAL
        )
        self.wrong_kind = wrong[0] if wrong else "theoretical construct"


def make_drafts(count: int, seed: int, concepts: Concepts, turns: int) -> list[Draft]:
    rng = random.Random(f"mbtkg-corpus:{seed}")
    patients = max(1, count // 6)
    therapists = max(1, count // 25)
    seen: dict[int, int] = {}
    drafts: list[Draft] = []
    for i in range(count):
        p = rng.randrange(patients) if i >= patients else i
        seen[p] = seen.get(p, 0) + 1
        number = seen[p]
        draft = Draft(
            sid=f"p{p + 1:04d}-s{number:02d}",
            date=dt.date(2024, 1, 8) + dt.timedelta(days=7 * (number - 1) + p % 5),
            number=number,
            patient=f"P-{p + 1:04d}",
            therapist=f"T-{p % therapists + 1:02d}",
            annotators=["A-1", "A-2"] if rng.random() < 0.25 else [f"A-{rng.randrange(1, 4)}"],
        )
        fill_draft(draft, random.Random(f"mbtkg-session:{seed}:{i}"), concepts, turns)
        drafts.append(draft)
    return drafts


def fill_draft(d: Draft, rng: random.Random, concepts: Concepts, turns: int) -> None:
    speaker = d.therapist
    for t in range(1, rng.randint(turns * 93 // 100, turns * 107 // 100) + 1):
        bank = _THERAPIST if speaker == d.therapist else _PATIENT
        text = " ".join(rng.sample(bank, rng.choice((1, 1, 2, 2, 3))))
        d.turns.append({"id": t, "speaker": speaker, "text": text})
        if rng.random() < 0.9:
            speaker = d.patient if speaker == d.therapist else d.therapist
    d.turn_order = list(range(len(d.turns)))
    last = len(d.turns)
    for coder_no, coder in enumerate(d.annotators):
        first = 1 if coder_no == 0 else rng.randint(1, last // 2)
        end = last if coder_no == 0 else min(last, first + last // 3)
        target = turns * 19 // 40 if coder_no == 0 else turns // 8
        prefix = "a" if coder_no == 0 else "b"
        made = 0
        while made < target:
            concept = rng.choices(concepts.pool, concepts.weights)[0]
            wanted = d.therapist if concept in concepts.therapist_side else d.patient
            start = rng.randint(first, end)
            for _ in range(4):  # prefer a turn of the speaker the concept belongs to
                if d.turns[start - 1]["speaker"] == wanted:
                    break
                start = rng.randint(first, end)
            stop = min(end, start + rng.choice((0, 0, 0, 1, 2)))
            ann = new_annotation(d, rng, f"{prefix}{made + 1}", concept, start, stop, coder)
            if concept in concepts.interventions and made and rng.random() < 0.3:
                earlier = d.annotations[-1]
                ann["relations"] = {"respondsTo": earlier["id"]}
            elif made and rng.random() < 0.05:
                ann["relations"] = {"triggeredBy": d.annotations[-1]["id"]}
            d.annotations.append(ann)
            made += 1
            if concept in concepts.ruptures and made < target:
                r_start = min(end, stop + rng.randint(0, 4))
                r_stop = min(end, r_start + rng.randint(0, 5))
                repair = new_annotation(
                    d, rng, f"{prefix}{made + 1}", concepts.repair, r_start, r_stop, coder
                )
                repair["relations"] = {"repairs": ann["id"]}
                d.annotations.append(repair)
                made += 1


def new_annotation(
    d: Draft, rng: random.Random, aid: str, concept: str, start: int, stop: int, coder: str
) -> dict[str, Any]:
    ann: dict[str, Any] = {"id": aid, "concept": concept, "turns": [start, stop]}
    if rng.random() < 0.6:
        text = d.turns[start - 1]["text"]
        words = text.split()
        cut = rng.randint(0, max(0, len(words) - 3))
        ann["quote"] = " ".join(words[cut : cut + rng.randint(2, 6)])
    ann["annotator"] = coder
    ann["confidence"] = round(rng.uniform(0.45, 1.0), 2)
    return ann
