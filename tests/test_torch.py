"""paraminit.torch on one process: init_, initialize by rules, meta-device models, errors."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed")

from confection import ConfigValidationError  # noqa: E402
from torch import nn  # noqa: E402

import paraminit  # noqa: E402
import paraminit.torch as pt  # noqa: E402
from _docs import DOCS, documented_arguments, function_sections, signature_arguments  # noqa: E402
from _torch_models import RULES_CFG, Tiny, expected_rule, expected_values, numpy_params, rules  # noqa: E402
from paraminit import registry  # noqa: E402
from paraminit.build import param_seed  # noqa: E402

# Arguments the initializers cannot do without, and shapes they need (by function name).
REQUIRED_ARGS: dict[str, dict[str, Any]] = {
    "constant_init": {"value": 0.25},
    "sparse_init": {"sparsity": 0.3},
}
SHAPES: dict[str, tuple[int, ...]] = {
    "dirac_init": (6, 4, 3, 3),
    "delta_orthogonal_init": (6, 4, 3, 3),
}
INITIALIZERS = sorted(registry.initializers.get_all())


def configured(name: str) -> tuple[Any, tuple[int, ...]]:
    """The registered initializer ``name`` with its required arguments, and a shape it takes."""
    func = registry.initializers.get(name).func
    base = func.__name__
    init = functools.partial(func, **REQUIRED_ARGS[base]) if base in REQUIRED_ARGS else func
    return init, SHAPES.get(base, (24, 17))


def on_numpy(init: Any, shape: tuple[int, ...], dtype: Any, seed: int) -> Any:
    """``init`` on a numpy array of ``shape`` and ``dtype``, seeded if it takes a seed."""
    kwargs = {"seed": seed} if "seed" in inspect.signature(init).parameters else {}
    return init(np.empty(shape, dtype), inplace=True, **kwargs)


def round_to_bfloat16(values: np.ndarray[Any, Any]) -> torch.Tensor:
    """float32 values rounded to nearest even bfloat16, computed on the bits (no torch cast)."""
    bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.int16)
    return torch.from_numpy(rounded).view(torch.bfloat16)


# --- init_: one tensor


@pytest.mark.parametrize("name", INITIALIZERS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64], ids=str)
def test_init_equals_paraminit_on_numpy(name: str, dtype: torch.dtype) -> None:
    init, shape = configured(name)
    tensor = torch.empty(shape, dtype=dtype)
    assert pt.init_(tensor, init, seed=7) is tensor
    expected = on_numpy(init, shape, tensor.numpy().dtype, seed=7)
    assert np.array_equal(tensor.numpy(), expected)


@pytest.mark.parametrize("name", INITIALIZERS)
def test_bfloat16_is_float32_rounded_to_nearest_even(name: str) -> None:
    init, shape = configured(name)
    tensor = pt.init_(torch.empty(shape, dtype=torch.bfloat16), init, seed=7)
    expected = round_to_bfloat16(on_numpy(init, shape, np.float32, seed=7))
    assert torch.equal(tensor.view(torch.int16), expected.view(torch.int16))


@pytest.mark.parametrize("limit", [1, 5, 17, 100, 10**9])
@pytest.mark.parametrize("init", [paraminit.he_normal_init, paraminit.orthogonal_init])
def test_host_chunks_of_any_size_give_the_same_values(
    monkeypatch: pytest.MonkeyPatch, init: Any, limit: int
) -> None:
    # bfloat16 takes the copying path that non-CPU tensors take, chunk by chunk.
    monkeypatch.setattr(pt, "HOST_CHUNK_ELEMENTS", limit)
    shape = (5, 7, 6)
    tensor = pt.init_(torch.empty(shape, dtype=torch.bfloat16), init, seed=3)
    expected = round_to_bfloat16(on_numpy(init, shape, np.float32, seed=3))
    assert torch.equal(tensor.view(torch.int16), expected.view(torch.int16))


def test_a_non_contiguous_tensor_gets_the_values_of_its_logical_index() -> None:
    base = torch.zeros(10, 16)
    view = base.t()[::2]  # (8, 10), strided both ways
    pt.init_(view, paraminit.uniform_init, seed=1)
    expected = paraminit.uniform_init(np.empty((8, 10), np.float32), seed=1)
    assert np.array_equal(view.numpy(), expected)
    assert torch.count_nonzero(base.t()[1::2]) == 0  # the rows between are untouched


def test_a_parameter_that_requires_grad_is_filled_in_place() -> None:
    weight = nn.Parameter(torch.zeros(6, 4))
    pt.init_(weight, paraminit.he_uniform_init, seed=2)
    assert weight.requires_grad and weight.grad_fn is None
    expected = paraminit.he_uniform_init(np.empty((6, 4), np.float32), seed=2)
    assert np.array_equal(weight.detach().numpy(), expected)


def test_seed_none_draws_from_the_package_stream_as_numpy_does() -> None:
    paraminit.set_seed(11)
    tensor = pt.init_(torch.empty(8, 3, dtype=torch.bfloat16), paraminit.normal_init)
    paraminit.set_seed(11)
    expected = paraminit.normal_init(np.empty((8, 3), np.float32))
    assert torch.equal(tensor, round_to_bfloat16(expected))


def test_a_seed_written_in_the_block_is_used_when_none_is_given() -> None:
    init = registry.resolve(
        paraminit.Config({"i": {"@initializers": "uniform_init.v1", "seed": 5}})
    )["i"]
    tensor = pt.init_(torch.empty(4, 4), init)
    assert np.array_equal(tensor.numpy(), paraminit.uniform_init(np.empty((4, 4), "f4"), seed=5))


@pytest.mark.parametrize("dtype", [torch.int32, torch.bool, torch.complex64, torch.uint8])
def test_init_refuses_a_tensor_that_is_not_floating_point(dtype: torch.dtype) -> None:
    with pytest.raises(TypeError, match=r"init_: 'tensor' must be float16.*got torch\."):
        pt.init_(torch.zeros(3, 3, dtype=dtype), paraminit.uniform_init, seed=0)


def test_init_refuses_a_meta_tensor_and_says_how_to_materialize() -> None:
    with pytest.raises(ValueError, match=r"meta device.*to_empty"):
        pt.init_(torch.empty(3, 3, device="meta"), paraminit.uniform_init, seed=0)


def test_init_refuses_what_is_not_a_tensor_or_an_initializer() -> None:
    with pytest.raises(TypeError, match=r"'tensor' must be a torch\.Tensor, got ndarray"):
        pt.init_(np.zeros((2, 2)), paraminit.uniform_init, seed=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'init' must be an initializer"):
        pt.init_(torch.zeros(2, 2), "uniform_init", seed=0)  # type: ignore[arg-type]


def test_a_refused_shape_leaves_the_tensor_unchanged() -> None:
    tensor = torch.zeros(5)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        pt.init_(tensor, paraminit.he_normal_init, seed=0)
    assert torch.count_nonzero(tensor) == 0


def test_a_whole_tensor_initializer_above_the_limit_is_refused_on_the_copying_path() -> None:
    tensor = torch.zeros(16, 8, dtype=torch.bfloat16)
    with pytest.raises(
        ValueError, match=r"orthogonal_init needs the whole tensor.*whole_limit=100"
    ):
        pt.init_(tensor, paraminit.orthogonal_init, seed=0, whole_limit=100)
    assert torch.count_nonzero(tensor) == 0


# --- initialize: a module by rules


def test_each_parameter_gets_its_documented_initializer_and_seed() -> None:
    model = Tiny()
    report = pt.initialize(model, rules(), seed=3)
    params = numpy_params(model)
    assert set(params) == {r.name for r in report}
    for name, values in params.items():
        assert report[name].rule == expected_rule(name), name
        assert np.array_equal(values, expected_values(name, values.shape, seed=3)), name
        seeded = report[name].initializer not in ("ones_init.v1", "zero_init.v1")
        assert report[name].seed == (param_seed(3, name) if seeded else None)


def test_the_first_matching_rule_wins() -> None:
    report = pt.initialize(Tiny(), rules(), seed=0)
    # out_projections comes before linears, which also matches these.
    assert report["blocks.0.o.weight"].initializer == "truncated_normal_init.v1"
    assert report["blocks.0.q.weight"].initializer == "xavier_uniform_init.v1"


def test_adding_a_layer_does_not_change_the_other_layers() -> None:
    small, large = Tiny(n_layers=2), Tiny(n_layers=3)
    pt.initialize(small, rules(), seed=9)
    pt.initialize(large, rules(), seed=9)
    small_params, large_params = numpy_params(small), numpy_params(large)
    assert set(small_params) < set(large_params)
    for name, values in small_params.items():
        assert np.array_equal(values, large_params[name]), name


def test_a_tied_tensor_is_filled_once_under_its_first_name() -> None:
    model = Tiny()
    report = pt.initialize(model, rules(), seed=0)
    assert model.head.weight is model.tok.weight
    assert report["tok.weight"].aliases == ("head.weight",)
    assert report["head.weight"] is report["tok.weight"]
    assert "head.weight" not in [r.name for r in report]


def test_a_rule_may_match_a_tied_tensor_by_its_other_name() -> None:
    model = Tiny()
    rule = pt.Rule("head", ("head.weight",), paraminit.zero_init)
    report = pt.initialize(model, [rule], seed=0)
    assert report["tok.weight"].rule == "head"
    assert torch.count_nonzero(model.tok.weight) == 0


def test_module_types_match_subclasses_by_name() -> None:
    # MultiheadAttention's out_proj is a NonDynamicallyQuantizableLinear, a Linear.
    attention = nn.MultiheadAttention(8, 2)
    report = pt.initialize(
        attention,
        [{"match": "*weight", "modules": ["Linear"], "init": paraminit.zero_init}],
        seed=0,
    )
    assert [r.name for r in report] == ["out_proj.weight"]
    assert "in_proj_weight" in report.unmatched


def test_a_rule_takes_a_lone_glob_as_one_glob() -> None:
    rule = pt.Rule("norms", "*.weight", paraminit.ones_init, "LayerNorm")  # type: ignore[arg-type]
    assert rule.match == ("*.weight",) and rule.modules == ("LayerNorm",)
    with pytest.raises(TypeError, match=r"Rule 'x': 'match' must be a glob or globs, got \[\]"):
        pt.Rule("x", [], paraminit.ones_init)  # type: ignore[arg-type]


def test_module_types_may_be_classes_in_a_python_rule() -> None:
    model = Tiny(n_layers=1)
    report = pt.initialize(
        model, [pt.Rule("ln", ("*",), paraminit.ones_init, (nn.LayerNorm,))], seed=0
    )
    assert {r.name for r in report} == {
        "blocks.0.ln1.weight", "blocks.0.ln1.bias", "blocks.0.ln2.weight", "blocks.0.ln2.bias",
        "ln_f.weight", "ln_f.bias",
    }  # fmt: skip


def test_unmatched_parameters_are_kept_and_listed() -> None:
    model = Tiny(n_layers=1)
    before = numpy_params(model)
    report = pt.initialize(
        model, [{"match": "*.bias", "init": {"@initializers": "zero_init.v1"}}], seed=0
    )
    after = numpy_params(model)
    assert set(report.unmatched) == {n for n in before if not n.endswith(".bias")}
    for name in report.unmatched:
        assert np.array_equal(before[name], after[name])
    assert "unmatched (kept): tok.weight" in str(report)


def test_unmatched_error_lists_every_unmatched_parameter_and_changes_nothing() -> None:
    model = Tiny(n_layers=1)
    before = numpy_params(model)
    with pytest.raises(ConfigValidationError) as info:
        pt.initialize(
            model, [{"match": "*.bias", "init": paraminit.zero_init}], seed=0, unmatched="error"
        )
    message = str(info.value)
    assert "tok.weight" in message and "blocks.0.fc.weight" in message
    assert "no rule matches this parameter" in message
    assert all(np.array_equal(v, numpy_params(model)[n]) for n, v in before.items())


def test_buffers_are_matched_too() -> None:
    norm = nn.BatchNorm1d(4)
    two = {"@initializers": "constant_init.v1", "value": 2.0}
    report = pt.initialize(norm, [{"match": "running_var", "init": two}], seed=0)
    assert torch.equal(norm.running_var, torch.full((4,), 2.0))
    assert report["running_var"].initializer == "constant_init.v1"
    assert set(report.unmatched) == {"weight", "bias"}  # unmatched buffers are not listed


def test_the_report_prints_as_a_table() -> None:
    report = pt.initialize(Tiny(n_layers=1), rules(), seed=0)
    lines = str(report).splitlines()
    assert lines[0].split() == ["parameter", "shape", "dtype", "rule", "initializer", "seed"]
    assert set(lines[1]) <= {"-", " "}
    row = next(line for line in lines if line.startswith("blocks.0.fc.weight"))
    assert row.split() == [
        "blocks.0.fc.weight", "48x12", "float32", "linears", "xavier_uniform_init.v1",
        str(param_seed(0, "blocks.0.fc.weight")),
    ]  # fmt: skip
    assert any(line.startswith("tok.weight = head.weight") for line in lines)


def test_the_meta_device_flow_gives_the_same_values() -> None:
    with torch.device("meta"):
        model = Tiny()
    assert model.tok.weight.is_meta
    model.to_empty(device="cpu")
    assert model.head.weight is not model.tok.weight  # to_empty unties them
    model.head.weight = model.tok.weight
    pt.initialize(model, rules(), seed=4)
    reference = Tiny()
    pt.initialize(reference, rules(), seed=4)
    for name, values in numpy_params(reference).items():
        assert np.array_equal(numpy_params(model)[name], values), name


def test_a_model_still_on_meta_is_refused_before_anything() -> None:
    with torch.device("meta"):
        model = Tiny(n_layers=1)
    with pytest.raises(ConfigValidationError, match=r"meta device.*to_empty"):
        pt.initialize(model, rules(), seed=0)


def test_rules_as_config_text_and_as_a_list_agree() -> None:
    by_config, by_list = Tiny(n_layers=1), Tiny(n_layers=1)
    pt.initialize(by_config, rules(), seed=1)
    as_list = [{"name": name, **dict(body)} for name, body in rules().items()]
    pt.initialize(by_list, as_list, seed=1)
    for name, values in numpy_params(by_config).items():
        assert np.array_equal(numpy_params(by_list)[name], values), name


# --- bad rules: one error, naming rule and parameter, nothing touched


def bad_rules_error(model: nn.Module, bad: Any) -> str:
    before = {n: t.detach().clone() for n, t in model.state_dict().items()}
    with pytest.raises(ConfigValidationError) as info:
        pt.initialize(model, bad, seed=0)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    return str(info.value)


def test_every_bad_rule_is_reported_in_one_error() -> None:
    block = paraminit.Config().from_str(
        RULES_CFG
        + """
[init.typo]
match = "*.weight"

[init.typo.init]
@initializers = "unifrom_init.v1"

[init.negative]
match = "*.weight"

[init.negative.init]
@initializers = "random_normal_init.v1"
std = -1.0

[init.nothing]
match = "decoder.*"

[init.nothing.init]
@initializers = "zero_init.v1"
"""
    )["init"]
    message = bad_rules_error(Tiny(n_layers=1), block)
    assert "typo -> init" in message and "uniform_init" in message  # a close match
    assert "negative -> init -> std" in message
    assert "nothing\tmatches no parameter or buffer" in message


def test_a_rule_that_fails_for_a_parameter_names_both() -> None:
    bad = [{"name": "all_he", "match": "*", "init": paraminit.he_normal_init}]
    message = bad_rules_error(Tiny(n_layers=1), bad)
    assert "all_he -> blocks.0.fc.bias" in message and "at least 2 dimensions" in message


def test_a_rule_that_matches_an_integer_buffer_is_refused() -> None:
    message = bad_rules_error(
        nn.BatchNorm1d(3), [{"name": "stats", "match": "*", "init": paraminit.zero_init}]
    )
    assert "stats -> num_batches_tracked" in message and "torch.int64" in message


def test_malformed_rules_are_reported_field_by_field() -> None:
    bad = [
        {"name": "a", "mtach": "*", "init": paraminit.zero_init},
        {"name": "b", "match": "*", "modules": "Linear", "init": 3},
        {"name": "c", "match": [1], "init": paraminit.zero_init},
    ]
    message = bad_rules_error(Tiny(n_layers=1), bad)
    assert "a -> mtach\tunknown field" in message
    assert "a -> match\tneeds a glob" in message
    assert "b -> init\tneeds an initializer block, got 3" in message
    assert "c -> match" in message


def test_initialize_checks_its_own_arguments() -> None:
    with pytest.raises(TypeError, match="'rules' must be a config block"):
        pt.initialize(Tiny(), "*.weight", seed=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'unmatched' must be 'keep' or 'error', got 'drop'"):
        pt.initialize(Tiny(), rules(), seed=0, unmatched="drop")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"'module' must be a torch\.nn\.Module"):
        pt.initialize({}, rules(), seed=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"initialize: 'seed' must be in \[0, 2\*\*128\), got -1"):
        pt.initialize(Tiny(), rules(), seed=-1)
    with pytest.raises(TypeError, match=r"initialize: 'seed' must be an int .*, got None"):
        pt.initialize(Tiny(), rules(), seed=None)  # type: ignore[arg-type]


# --- docs/torch.md tells the truth


def docs_blocks(language: str) -> list[str]:
    """The fenced blocks of docs/torch.md in ``language`` (``""``: no language given)."""
    blocks, current, info = [], None, ""
    for line in (DOCS / "torch.md").read_text().splitlines():
        if line.startswith("```") and current is None:
            current, info = [], line[3:].strip()
        elif line.startswith("```"):
            if info == language:
                blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


class GPTBlock(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn, self.mlp = nn.Module(), nn.Module()
        self.attn.c_attn, self.attn.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp.c_fc, self.mlp.c_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)


class SmallGPT(nn.Module):
    """GPT-2's module names and types, small."""

    def __init__(self, d: int = 8) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(29, d), nn.Embedding(6, d)
        self.h = nn.ModuleList(GPTBlock(d) for _ in range(2))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, 29, bias=False)
        self.lm_head.weight = self.wte.weight


def test_the_docs_rule_config_does_what_its_init_weights_did() -> None:
    (config_text,) = docs_blocks("ini")
    model = SmallGPT()
    block = paraminit.Config().from_str(config_text)["init"]
    report = pt.initialize(model, block, seed=0, unmatched="error")
    for record in report:
        name = record.name
        if name.endswith("c_proj.weight"):
            assert record.rule == "residual"
            assert record.initializer == "random_normal_init.v1"
        elif name.startswith(("ln_", "h.0.ln_", "h.1.ln_")):
            assert record.rule == "norms", name
        elif name.endswith(".weight"):
            assert (record.rule, record.initializer) == ("weights", "random_normal_init.v1")
        else:
            assert (record.rule, record.initializer) == ("biases", "zero_init.v1")
    assert block["residual"]["init"]["std"] == pytest.approx(0.02 / np.sqrt(2 * 12))


def test_the_docs_report_shows_real_lines() -> None:
    shown = next(b for b in docs_blocks("") if b.startswith("parameter"))
    report = str(pt.initialize(Tiny(n_layers=1), rules(), seed=0)).splitlines()
    for line in shown.splitlines():
        if not line.startswith(("...", "unmatched")):
            assert line in report


@pytest.mark.parametrize("name", ["init_", "initialize"])
def test_the_docs_argument_tables_list_the_signature_in_order(name: str) -> None:
    section = function_sections("torch.md")[name]
    assert documented_arguments(section) == signature_arguments(getattr(pt, name))
