"""The named sizing questions: thin calls of solve, each with a worked, tested example."""

from __future__ import annotations

import doctest

import pytest

import llmphys as F
from llmphys.errors import InfeasibleError
from llmphys.units import Q_

LLAMA_70B_GQA = dict(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16")


def test_docstring_examples():
    result = doctest.testmod(F.sizing, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 10


def test_every_question_is_documented_with_an_example():
    for name in F.sizing.__all__:
        doc = getattr(F.sizing, name).__doc__
        assert ">>>" in doc, name


def test_largest_context_int4_real_gqa():
    s = F.sizing.largest_context(
        Q_(80, "GB"),
        params=70e9,
        bytes_per_param="int4",
        batch=1,
        workspace_fraction=0.12,
        **LLAMA_70B_GQA,
    )
    assert s.value.magnitude == int((80e9 - 35e9 * 1.12) / 327680)


def test_largest_context_bf16_on_one_a100_is_infeasible():
    with pytest.raises(InfeasibleError, match="already exceed 80 GB"):
        F.sizing.largest_context(
            Q_(80, "GB"),
            params=70e9,
            bytes_per_param="bf16",
            batch=1,
            workspace_fraction=0.12,
            **LLAMA_70B_GQA,
        )


def test_largest_batch_on_two_a100():
    # 2 x 80 GiB, 8K context: (171.8 GB - 156.8 GB) / (327,680 B x 8192) = 5.59 -> 5
    s = F.sizing.largest_batch(
        Q_(160, "GiB"),
        params=70e9,
        bytes_per_param="bf16",
        seq_len=8192,
        workspace_fraction=0.12,
        **LLAMA_70B_GQA,
    )
    assert s.value.magnitude == 5 and s.rounding == "floor"


def test_fewest_gpus_for_the_seed_total():
    # seed, Total VRAM: 183 GB "fits on 3x A100 80GB"
    s = F.sizing.fewest_gpus(
        Q_(80, "GB"),
        params=70e9,
        bytes_per_param="bf16",
        seq_len=10000,
        batch=1,
        workspace_fraction=0.12,
        **{**LLAMA_70B_GQA, "n_kv_heads": 64},
    )
    assert s.value.magnitude == 3


def test_most_throughput_is_the_seed_reality_check():
    # seed, Total Bandwidth: "A100 has 2 TB/s -> could do ~12 tok/s"
    s = F.sizing.most_throughput(
        Q_(2039, "GB/s"),
        active_params=70e9,
        bytes_per_param="bf16",
        batch=1,
        avg_seq_len=10000,
        **{**LLAMA_70B_GQA, "n_kv_heads": 64},
    )
    assert round(s.value.magnitude) == 12


def test_least_bandwidth_round_trips_with_most_throughput():
    values = dict(
        active_params=70e9, bytes_per_param="bf16", batch=1, avg_seq_len=10000, **LLAMA_70B_GQA
    )
    need = F.sizing.least_bandwidth(Q_(25, "token/s"), bw_utilization=0.6, **values)
    back = F.sizing.most_throughput(need.value * 0.6, **values)
    assert back.value.to("token/s").magnitude == pytest.approx(25, rel=1e-9)


def test_weight_precision_that_fits():
    s, names = F.sizing.weight_precision_that_fits(
        Q_(160, "GB"), params=70e9, seq_len=10000, batch=1, workspace_fraction=0.12, **LLAMA_70B_GQA
    )
    # the widest that fits: FP8 with its block scales (1.0002 B), then plain FP8 and INT8
    assert names[:3] == ["fp8_block128", "fp8", "int8"] and "bf16" not in names
    assert s.value.magnitude == pytest.approx((160e9 - 3.2768e9) / (70e9 * 1.12), rel=1e-12)


def test_kv_equals_weights_context():
    s = F.sizing.kv_equals_weights_context(
        params=70e9, bytes_per_param="bf16", batch=1, **LLAMA_70B_GQA
    )
    assert s.exact.magnitude == pytest.approx(140e9 / 327680, rel=1e-12)
