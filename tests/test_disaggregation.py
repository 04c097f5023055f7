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
