"""spaCy pipelines whose model configs name paraminit initializers (through paraminit.thinc).

The text classifier's model is thinc and spaCy layers written out in the config,
so the pipeline needs no downloaded model and no code beyond the installed packages:
``spacy.load`` finds every name, paraminit's included, through entry points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import paraminit

spacy = pytest.importorskip("spacy", reason="spaCy is not installed: pip install '.[test]'")
from spacy.tokens import DocBin  # noqa: E402
from spacy.training import Example  # noqa: E402
from spacy.training.initialize import init_nlp  # noqa: E402
from spacy.util import load_model_from_config  # noqa: E402
from thinc.api import Config, fix_random_seed  # noqa: E402

from _bad_blocks import BAD_BLOCKS  # noqa: E402

PIPELINE = """
[nlp]
lang = "en"
pipeline = ["textcat"]

[components]

[components.textcat]
factory = "textcat"

[components.textcat.model]
@layers = "chain.v1"

[components.textcat.model.*.features]
@layers = "spacy.FeatureExtractor.v1"
columns = ["ORTH"]

[components.textcat.model.*.embed]
@layers = "with_array.v1"

[components.textcat.model.*.embed.layer]
@layers = "HashEmbed.v1"
nO = 16
nV = 1000
column = 0

[components.textcat.model.*.embed.layer.initializer]
@initializers = "paraminit.uniform_init.v1"
lo = -0.1
hi = 0.1
{embed_seed}

[components.textcat.model.*.ragged]
@layers = "list2ragged.v1"

[components.textcat.model.*.pool]
@layers = "reduce_mean.v1"

[components.textcat.model.*.hidden]
@layers = "Relu.v1"
nO = 8
nI = 16

[components.textcat.model.*.hidden.{hidden_block}

[components.textcat.model.*.output]
@layers = "Softmax.v2"
nI = 8

[components.textcat.model.*.output.init_W]
@initializers = "paraminit.glorot_uniform_init.v1"
"""

HE_NORMAL = 'init_W]\n@initializers = "paraminit.he_normal_init.v1"'

TEXTS = [("a good movie", 1.0), ("a bad film", 0.0), ("great fun", 1.0), ("awful and dull", 0.0)]


def pipeline_config(*, embed_seed: int | None = None, hidden_block: str = HE_NORMAL) -> Config:
    text = PIPELINE.format(
        embed_seed="" if embed_seed is None else f"seed = {embed_seed}",
        hidden_block=hidden_block,
    )
    return Config().from_str(text)


def examples(nlp: Any) -> list[Example]:
    return [
        Example.from_dict(nlp.make_doc(text), {"cats": {"POS": pos, "NEG": 1.0 - pos}})
        for text, pos in TEXTS
    ]


def weights(nlp: Any) -> dict[str, np.ndarray[Any, Any]]:
    model = nlp.get_pipe("textcat").model
    return {
        f"{i}.{node.name}.{name}": np.array(node.get_param(name))
        for i, node in enumerate(model.walk())
        for name in node.param_names
        if node.has_param(name)
    }


def layer(nlp: Any, name: str) -> Any:
    return next(node for node in nlp.get_pipe("textcat").model.walk() if node.name == name)


def test_a_pipeline_initializes_trains_and_survives_to_disk_and_load(tmp_path: Path) -> None:
    nlp = load_model_from_config(pipeline_config(embed_seed=3), auto_fill=True)
    fix_random_seed(0)
    optimizer = nlp.initialize(lambda: examples(nlp))
    E = layer(nlp, "hashembed").get_param("E")
    expected = paraminit.uniform_init(np.empty((1000, 16), "float32"), -0.1, 0.1, seed=3)
    assert np.array_equal(E, expected)
    initial = weights(nlp)
    losses = [nlp.update(examples(nlp), sgd=optimizer)["textcat"] for _ in range(3)]
    assert all(np.isfinite(losses))
    assert any(not np.array_equal(initial[k], v) for k, v in weights(nlp).items())

    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    block = loaded.config["components"]["textcat"]["model"]["*"]["embed"]["layer"]["initializer"]
    assert block == {"@initializers": "paraminit.uniform_init.v1", "lo": -0.1, "hi": 0.1, "seed": 3}
    trained = weights(nlp)
    for name, value in weights(loaded).items():
        assert np.array_equal(value, trained[name]), name
    assert loaded("a good movie").cats == nlp("a good movie").cats


def initialized_weights(seed: int) -> dict[str, np.ndarray[Any, Any]]:
    nlp = load_model_from_config(pipeline_config(), auto_fill=True)
    fix_random_seed(seed)
    nlp.initialize(lambda: examples(nlp))
    return weights(nlp)


def assert_same_seed_same_weights_other_seed_other_weights(
    first: dict[str, Any], again: dict[str, Any], other: dict[str, Any]
) -> None:
    random = [name for name, value in first.items() if value.any()]  # not the zero biases
    assert len(random) == 3  # E of the embedding, W of the hidden and output layers
    for name in first:
        assert np.array_equal(first[name], again[name]), name
    for name in random:
        assert not np.array_equal(first[name], other[name]), name


def test_fix_random_seed_before_initialize_gives_reproducible_seed_dependent_weights() -> None:
    assert_same_seed_same_weights_other_seed_other_weights(
        initialized_weights(11), initialized_weights(11), initialized_weights(12)
    )


def test_the_training_seed_of_the_config_fixes_the_weights(tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    corpus = DocBin(docs=[example.reference for example in examples(nlp)])
    corpus.to_disk(tmp_path / "train.spacy")

    def init_with_seed(seed: int) -> dict[str, np.ndarray[Any, Any]]:
        config = pipeline_config().merge(
            Config().from_str(
                f"""
                [paths]
                train = "{tmp_path / "train.spacy"}"
                dev = "{tmp_path / "train.spacy"}"

                [corpora]

                [corpora.train]
                @readers = "spacy.Corpus.v1"
                path = ${{paths.train}}

                [corpora.dev]
                @readers = "spacy.Corpus.v1"
                path = ${{paths.dev}}

                [training]
                seed = {seed}
                gpu_allocator = null
                """
            )
        )
        return weights(init_nlp(config))

    assert_same_seed_same_weights_other_seed_other_weights(
        init_with_seed(1), init_with_seed(1), init_with_seed(2)
    )


@pytest.mark.parametrize("case", BAD_BLOCKS, ids=list(BAD_BLOCKS))
def test_a_bad_block_fails_once_when_the_pipeline_is_built(case: str) -> None:
    block, expected = BAD_BLOCKS[case]
    # Building the pipeline resolves the component's model: the error comes there,
    # before anything could be initialized or trained.
    with pytest.raises(ValueError) as info:  # ConfigValidationError or catalogue's RegistryError
        load_model_from_config(pipeline_config(hidden_block=block), auto_fill=True)
    for part in expected:
        assert part in str(info.value), (part, str(info.value))
