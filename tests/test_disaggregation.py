"""Prefix caching and disaggregated prefill/decode (issue 19): by hand, reduced to the plain
prefill at no cache hit, and through a Scenario."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import llmphys as F

SEED = dict(active_params=70e9, layers=80, prompt_len=10_000, hidden=8192)


@given(st.sampled_from([0.5, 1.0]), st.integers(1, 10**6))
def test_no_cache_hit_is_the_plain_prefill(causal, prompt):
    values = {**SEED, "prompt_len": prompt, "causal_factor": causal}
    cached = F.prefill_flops_prefix_cached(**values, prefix_hit=0)
    assert cached.magnitude == pytest.approx(F.prefill_flops(**values).magnitude, rel=1e-12)


def test_prefix_hit_by_hand():
    # 80 % of a 10K prompt cached: 2,000 new tokens through 70B (2.8e14 FLOP), their queries
    # over all 10,000 keys (80 x 4 x 2,000 x 10,000 x 8,192 = 5.24e13), causally 0.9 of it
    q = F.prefill_flops_prefix_cached(**SEED, causal_factor=0.5, prefix_hit=0.8)
    by_hand = 2 * 70e9 * 2000 + 0.9 * 80 * 4 * 2000 * 10_000 * 8192
    assert q.magnitude == pytest.approx(by_hand, rel=1e-12)
    hits = [F.prefill_flops_prefix_cached(**SEED, causal_factor=0.5, prefix_hit=h).magnitude
            for h in (0, 0.25, 0.5, 0.75, 0.99)]  # fmt: skip
    assert all(a > b for a, b in itertools.pairwise(hits))


def test_pd_ratio_by_hand():
    # 10 requests/s of 4,096 in / 1,024 out; a prefill GPU prefills 12,000 tok/s, a decode
    # GPU decodes 900 tok/s at its batch: 3.41 prefill GPUs, 11.38 decode GPUs, P:D = 1 : 3.33
    p = F.prefill_gpus_needed(
        arrival_rate=10, prompt_len=4096, prefill_tokens_per_second_per_gpu=12000
    ).magnitude
    d = F.decode_gpus_needed(
        arrival_rate=10, new_tokens=1024, tokens_per_second_per_gpu=900
    ).magnitude
    assert p == pytest.approx(10 * 4096 / 12000) and d == pytest.approx(10 * 1024 / 900)
    # the arrival rate cancels: it is not even an input of the ratio
    assert "arrival_rate" not in F.pd_ratio.input_names
    ratio = F.pd_ratio(prompt_len=4096, new_tokens=1024, prefill_tokens_per_second_per_gpu=12000,
                       tokens_per_second_per_gpu=900).magnitude  # fmt: skip
    assert ratio == pytest.approx(d / p) == pytest.approx(1024 * 12000 / (4096 * 900))


def test_kv_transfer_by_hand():
    # Llama 3.1 70B, 4,096 tokens of BF16 KV (327,680 B each) over 450 GB/s plus one hop
    q = F.kv_transfer_time(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16",
                           prompt_len=4096, link_bandwidth=450e9, link_latency=0.6e-6)  # fmt: skip
    assert q.to("s").magnitude == pytest.approx(327_680 * 4096 / 450e9 + 0.6e-6)


def test_a_scenario_sizes_both_pools():
    s = F.Scenario(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4, batch=64)
    s = s.replace(arrival_rate=F.Q_(20, "request/s"))
    prefill = s.evaluate("prefill_tokens_per_second_per_gpu").magnitude
    decode = s.evaluate("tokens_per_second_per_gpu").magnitude
    assert s.evaluate("prefill_gpus_needed").magnitude == pytest.approx(20 * 4096 / prefill)
    assert s.evaluate("decode_gpus_needed").magnitude == pytest.approx(20 * 1024 / decode)
    # the ratio does not depend on the arrival rate
    other = s.replace(arrival_rate=F.Q_(3, "request/s"))
    assert other.evaluate("pd_ratio").magnitude == pytest.approx(s.evaluate("pd_ratio").magnitude)
    assert s.evaluate("kv_transfer_time").to("ms").magnitude > 0


# ----------------------------------------------------------------------------- one question
def _seventy_b():
    return F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", prompt_len=4096,
                      output_len=1024)  # fmt: skip


def test_disaggregate_meets_both_targets_with_the_fewest_gpus():
    s = _seventy_b()
    d = F.disaggregate(s, arrival_rate=10, ttft="1 s", tpot="50 ms")
    p, q = d.prefill, d.decode
    # each pool meets its target, in the chosen layout and batch
    assert p["ttft"] + p["kv_transfer_time"] <= 1.0
    assert 1 / q["tokens_per_second_per_user"] <= 0.05
    # the pools keep up with 10 requests/s: 40,960 prompt and 10,240 output tokens per second
    assert d.prefill_gpus * p["prefill_tokens_per_second_per_gpu"] >= 10 * 4096
    assert d.decode_gpus * q["tokens_per_second_per_gpu"] >= 10 * 1024
    # in whole instances, no more than one instance above what the rates need
    for gpus, need, layout in ((d.prefill_gpus, d.prefill_gpus_needed, p["gpu_count"]),
                               (d.decode_gpus, d.decode_gpus_needed, q["gpu_count"])):  # fmt: skip
        assert gpus % layout == 0 and need <= gpus < need + layout
    # the P:D ratio is the registry's, of the two rates
    by_formula = F.pd_ratio(
        prompt_len=4096, new_tokens=1024, prefill_tokens_per_second_per_gpu=p[
            "prefill_tokens_per_second_per_gpu"], tokens_per_second_per_gpu=q[
            "tokens_per_second_per_gpu"]).magnitude  # fmt: skip
    assert d.pd_ratio == pytest.approx(by_formula, rel=1e-12)
    assert "prefill" in str(d) and "P:D" in str(d)


def test_disaggregate_pools_scale_with_the_arrival_rate():
    s = _seventy_b()
    one, ten = (F.disaggregate(s, arrival_rate=r, ttft=1.0, tpot=0.05) for r in (1, 10))
    assert one.total_gpus < ten.total_gpus
    # the prefill point does not depend on the rate: ten times the requests, ten times the
    # GPUs needed (the decode point may change: fewer requests fill smaller replicas)
    assert one.prefill.equals(ten.prefill)
    assert ten.prefill_gpus_needed == pytest.approx(10 * one.prefill_gpus_needed, rel=1e-12)
    # a looser TPOT lets decode batch more: fewer decode GPUs
    loose = F.disaggregate(s, arrival_rate=10, ttft=1.0, tpot=0.2)
    assert loose.decode_gpus <= ten.decode_gpus


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"ttft": "1 ms", "tpot": "50 ms"}, "TTFT target 0.001 s is below any prefill"),
        ({"ttft": "1 s", "tpot": "1 ms"}, "TPOT target 1 ms is below any decode step"),
        ({"ttft": "1 GB", "tpot": "50 ms"}, "convertible to 'second'"),
        ({"ttft": -1, "tpot": 0.05}, "'ttft' must be positive"),
        ({"ttft": 1, "tpot": 0.05, "arrival_rate": float("nan")}, "arrival_rate"),
    ],
)
def test_disaggregate_refusals_say_why(kwargs, words):
    kwargs = {"arrival_rate": 10, **kwargs}
    with pytest.raises((F.errors.InfeasibleError, F.errors.InputError, F.errors.UnitError),
                       match=words):  # fmt: skip
        F.disaggregate(_seventy_b(), **kwargs)
