"""Bad input gets a clear error naming the formula and the argument, never a number."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmphys as F
from llmphys.errors import InputError, UnitError, UnknownNameError
from llmphys.units import Q_

KV = dict(layers=80, n_kv_heads=8, head_dim=128, kv_bytes=2, seq_len=10000, batch=1)


def kv(**changes):
    return F.kv_cache_bytes(**{**KV, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch": 0}, "formula 'kv_cache_bytes': argument 'batch' must be positive; got 0"),
        ({"batch": -3}, "formula 'kv_cache_bytes': argument 'batch' must be positive; got -3"),
        (
            {"seq_len": math.nan},
            "formula 'kv_cache_bytes': argument 'seq_len' is NaN; give a finite number",
        ),
        (
            {"seq_len": math.inf},
            "formula 'kv_cache_bytes': argument 'seq_len' is infinite (inf); give a finite number",
        ),
        (
            {"batch": 2.5},
            "formula 'kv_cache_bytes': argument 'batch' must be a whole number "
            "(sequences processed together (batch size)); got 2.5",
        ),
        (
            {"kv_bytes": -2},
            "formula 'kv_cache_bytes': argument 'kv_bytes' must be positive; got -2 B/element",
        ),
        (
            {"kv_bytes": "bf61"},
            "formula 'kv_cache_bytes': argument 'kv_bytes' got unknown name "
            "'bf61'; did you mean 'bf16'? (known: fp32, bf16, fp16, fp8_block128, fp8, int8, "
            "mxfp4, int4_g32, int4_g128, int4)",
        ),
        (
            {"batch": True},
            "formula 'kv_cache_bytes': argument 'batch' got a boolean (True); give a number",
        ),
        (
            {"batch": "eight"},
            "formula 'kv_cache_bytes': argument 'batch' got the text 'eight'; "
            "give a number or a quantity in sequence",
        ),
        (
            {"seq_len": np.array([10, 0])},
            "formula 'kv_cache_bytes': argument 'seq_len' must be positive; got 0",
        ),
    ],
)
def test_bad_values(changes, message):
    with pytest.raises(InputError) as info:
        kv(**changes)
    assert str(info.value) == message


def test_wrong_dimension():
    with pytest.raises(UnitError) as info:
        kv(seq_len=Q_(3, "GB"))
    assert str(info.value) == (
        "argument 'seq_len' to formula 'kv_cache_bytes' must be in units convertible to "
        "'token' (dimensionless); got 'GB' ([information])"
    )


def test_missing_input():
    with pytest.raises(InputError) as info:
        F.kv_cache_bytes(layers=80, n_kv_heads=8, head_dim=128, kv_bytes=2, batch=1)
    assert str(info.value) == (
        "formula 'kv_cache_bytes': missing input 'seq_len' (S: context length: tokens held in "
        "the KV cache per sequence, in tok)"
    )


def test_unknown_input_suggests_closest():
    with pytest.raises(UnknownNameError) as info:
        kv(seqlen=10)
    assert str(info.value) == (
        "formula 'kv_cache_bytes': unknown input 'seqlen'; did you mean 'seq_len'? "
        "(inputs: layers, n_kv_heads, head_dim, seq_len, batch, kv_bytes)"
    )


def test_fraction_outside_unit_interval():
    with pytest.raises(InputError) as info:
        F.workspace_bytes(workspace_fraction=1.5, params=1e9, bytes_per_param=2)
    assert str(info.value) == (
        "formula 'workspace_bytes': argument 'workspace_fraction' must be a fraction in [0, 1]; "
        "got 1.5"
    )
    with pytest.raises(InputError, match=r"must be a fraction in \(0, 1\]; got 0$"):
        F.effective_flops(peak_flops=1e12, utilization=0)
    # no workspace is a meaningful lower bound (the `ideal` assumption set): 0 is allowed
    assert F.workspace_bytes(workspace_fraction=0, params=1e9, bytes_per_param=2).magnitude == 0


def test_unused_input_when_a_part_is_given():
    with pytest.raises(InputError) as info:
        F.total_vram(weight_bytes=140e9, kv_cache_bytes=1e9, workspace_fraction=0.12, params=70e9)
    assert str(info.value) == (
        "formula 'total_vram': 'params' is not used when kv_cache_bytes, weight_bytes are given; "
        "drop it"
    )


def test_unknown_formula_suggests_closest():
    with pytest.raises(UnknownNameError) as info:
        F.registry["kv_cache_byte"]
    assert str(info.value) == "unknown formula 'kv_cache_byte'; did you mean 'kv_cache_bytes'?"
    assert isinstance(info.value, KeyError)


def test_quantities_and_named_precisions_are_accepted():
    a = kv(seq_len=Q_(32768, "token"), kv_bytes="BF16")
    assert a.to("GiB").magnitude == pytest.approx(10.0, rel=1e-12)


def test_caller_arrays_are_not_modified():
    seq = np.array([1000.0000000001, 2000.0])
    kv(seq_len=seq)
    assert seq[0] == 1000.0000000001


def test_arrays_broadcast():
    out = kv(seq_len=np.array([1000, 2000]), batch=np.array([[1], [2]]))
    assert out.shape == (2, 2)
    assert out.magnitude[1, 1] == 4 * out.magnitude[0, 0]


def test_errors_subclass_builtins():
    assert issubclass(InputError, ValueError)
    import pint

    assert issubclass(UnitError, pint.DimensionalityError) and issubclass(UnitError, TypeError)


def test_a_tiny_positive_count_is_not_rounded_to_zero():
    # issue 16 (4): 1e-30 passed "positive" and rounded to 0 GPUs, then inf bytes per GPU
    with pytest.raises(InputError) as info:
        F.memory_per_gpu(total_vram=F.Q_(80, "GB"), n_gpus=1e-30)
    assert str(info.value).startswith(
        "formula 'memory_per_gpu': argument 'n_gpus' must be a whole number of at least 1 "
    )
    assert str(info.value).endswith("; got 1e-30")
    with pytest.raises(InputError, match="'layers' must be a whole number of at least 1"):
        F.kv_cache_bytes(layers=1e-10, n_kv_heads=8, head_dim=128, kv_bytes=2, seq_len=10, batch=1)
    with pytest.raises(InputError, match="'batch' must be a whole number of at least 1"):
        F.Scenario(batch=1e-30)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([2, True], "'params' holds a boolean; give numbers"),
        (np.array([True, False]), "'params' holds booleans; give numbers"),
        (np.array([1 + 1j]), "'params' holds complex numbers; give real numbers"),
        ([1e9, 2j], "'params' holds a complex number; give real numbers"),
    ],
)
def test_booleans_and_complex_numbers_inside_arrays_are_refused(value, message):
    # issue 16 (5): numpy would read True as 1 and drop an imaginary part
    with pytest.raises(InputError, match=re.escape(message)):
        F.weight_bytes(params=value, bytes_per_param=2)


def test_a_result_that_is_not_finite_is_an_error_naming_the_inputs():
    # issue 16 (5): 1e300 x 1e300 bytes came back as "inf B" (a precision is now at most
    # FP64's 8 B, so the overflow is 1e308 parameters x 8 B)
    with pytest.raises(InputError) as info:
        F.weight_bytes(params=1e308, bytes_per_param=8)
    assert str(info.value) == (
        "formula 'weight_bytes': the result is not a finite number for params=1e+308, "
        "bytes_per_param=8 (an input too large, or a division by zero); check the inputs"
    )
    with pytest.raises(InputError, match="the result is not a finite number"):
        F.Scenario(params=1e308, bytes_per_param=8).evaluate("weight_bytes")


def test_a_quantity_of_another_registry_and_a_huge_int_are_refused_clearly():
    # issue 16 (7): a bare AssertionError and an OverflowError from deep inside
    import pint

    other = pint.UnitRegistry()
    kv = dict(layers=80, n_kv_heads=8, head_dim=128, kv_bytes=2, batch=1)
    with pytest.raises(InputError, match="a quantity of another pint unit registry"):
        F.kv_cache_bytes(seq_len=other.Quantity(8, "GB"), **kv)
    with pytest.raises(InputError, match=r"too large for a float64 \(above 1\.8e308\)"):
        F.kv_cache_bytes(seq_len=10**400, **kv)
    with pytest.raises(InputError, match=r"too large for a float64"):
        F.kv_cache_bytes(seq_len=[1, 10**400], **kv)


def test_a_huge_name_gets_no_suggestion_without_comparing_it():
    # issue 16 (8): a 1.2 MB name took seconds in "did you mean": no candidate can reach the
    # similarity threshold against a name over 2.33 times its length, so none is compared
    from llmphys.errors import closest

    assert closest("x" * 1_200_000, list(F.registry)) == []
    assert closest("seqlen", list(F.glossary)) == ["seq_len"]  # suggestions still work
    assert closest("70b", ["llama-3.1-70b"]) == ["llama-3.1-70b"]  # and containment


def test_inputs_that_contradict_each_other_give_an_error_not_a_negative_count(scratch):
    # issue 16 (5): idle_expert_params was negative with more experts per token than experts
    with pytest.raises(
        InputError,
        match="experts_per_token=8 exceeds n_experts=4, but a token "
        "is routed to at most every expert: the inputs contradict each other",
    ):
        F.idle_expert_params(
            n_experts=4, experts_per_token=8, moe_layers=10, hidden=10, moe_intermediate_size=10
        )
    # every relation of engine/relations.py is checked, arrays included
    from llmphys.engine.relations import RELATIONS, check_relations

    for rel in RELATIONS:
        values = {rel.smaller: np.array([2.0, 9.0]), rel.larger: np.array([4.0, 8.0])}
        # the first pair that breaks it is named: 9 of the second points, not "an array"
        with pytest.raises(InputError, match=rf"{rel.smaller}=9 exceeds {rel.larger}=8, but"):
            check_relations(values, "here")
        check_relations({rel.smaller: 4.0, rel.larger: 4.0}, "here")  # equal is allowed
    with pytest.raises(InputError, match="pp=100 exceeds layers=80, but each pipeline stage"):
        F.params_per_gpu(
            **{**F.Scenario("llama-3.1-70b", "h100-sxm").values_for("params_per_gpu"), "pp": 100}
        )
    # a formula of your own may be negative (a headroom): only the built-in physics is checked
    headroom = F.define(
        "headroom_test", "gpu_memory - weight_bytes", result="byte", registry=scratch
    )
    assert headroom(gpu_memory=F.Q_(80, "GB"), weight_bytes=F.Q_(140, "GB")).magnitude < 0


FIGURES_CHECKED = ["batch", "params", "utilization", "cache_hit", "overhead",
                   "flash_attention", "prompt_len"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(FIGURES_CHECKED),
    x=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**300), max_value=10**300),
        st.sampled_from([0.0, -0.0, 1.0, 0.5, 1.0000000001, 2.5, 1e-30, 32 * 1000.0000000000001]),
    ),
)
def test_a_plain_number_is_checked_as_an_array_is(name, x):
    """A Python float or int takes a path without numpy (a slider's value, many times a
    second); it accepts, rounds and refuses exactly as the array path does (which an
    np.float64 takes), with the same message."""
    from llmphys.engine.coercion import coerce

    entry = F.glossary[name]

    def outcome(value):
        try:
            return ("value", coerce(entry, value, "test"))
        except InputError as exc:
            return ("refused", str(exc))

    plain, array = outcome(x), outcome(np.float64(x))
    assert plain == array
    if plain[0] == "value":
        assert type(plain[1]) is float


def test_an_int_beyond_float64_is_refused_on_the_plain_path_too():
    from llmphys.engine.coercion import coerce

    with pytest.raises(InputError, match="too large for a float64"):
        coerce(F.glossary["params"], 10**400, "test")
