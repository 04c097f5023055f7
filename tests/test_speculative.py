"""Speculative decoding, chunked prefill and prefix caching in a deployment (issue 19): the
verification step's roofline, MTP modules as a draft, the mixed step of a chunked prefill,
and a scenario whose TTFT follows its prefix-cache hits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmphys as F
from llmphys.errors import InputError


# ----------------------------------------------------------------------------- speculation
def test_mtp_draft_of_deepseek_v3_gives_the_reported_speed_up():
    # DeepSeek-V3 technical report (arXiv:2412.19437), section 5.4.3: one MTP module, the
    # second token accepted 85-90 % of the time, "1.8 times TPS".  The module's cost ratio is
    # one block of 37B/61 active weights and the 129,280 x 7,168 head over 37B: about 0.04.
    s = F.Scenario("deepseek-v3", "h200", tp=8, batch=1, speculative="mtp")
    c = s.value("draft_cost_ratio")
    assert 0.035 < c < 0.045
    assert s.value("draft_tokens") == 1
    assert s.source("draft_cost_ratio").startswith("mtp_draft_cost_ratio")
    low, high = (
        F.spec_speedup(acceptance_rate=a, draft_tokens=1, draft_cost_ratio=c).magnitude
        for a in (0.85, 0.90)
    )
    assert low < 1.8 < high


def test_memory_bound_verification_gives_the_leviathan_speed_up():
    # batch 1: verifying gamma + 1 tokens costs one decode step, so TPOT falls by exactly the
    # speed-up of Theorem 3.8 (alpha 0.8, gamma 4, c 0.05: 2.8013)
    plain = F.Scenario(batch=1)
    spec = plain.replace(speculative="draft")
    assert spec.spec_verify_step_time.magnitude == pytest.approx(
        plain.decode_step_time.magnitude, rel=1e-12
    )
    ratio = plain.tpot.magnitude / spec.tpot.magnitude
    assert ratio == pytest.approx(2.8013333333, rel=1e-9)
    assert spec.tokens_per_second_per_user.magnitude == pytest.approx(
        ratio * plain.tokens_per_second_per_user.magnitude, rel=1e-12
    )


def test_speculation_stops_paying_at_large_batches():
    # the verification's B (gamma + 1) tokens turn the step compute-bound: the gain shrinks
    # with the batch and turns into a loss (short requests in FP8 on 4 GPUs: every batch fits)
    gains = []
    for batch in (1, 64, 256, 1024):
        plain = F.Scenario(tp=4, batch=batch, prompt_len=512, output_len=128, weights="fp8")
        assert plain.memory_per_gpu < plain.capacity
        spec = plain.replace(speculative="draft")
        gains.append(plain.tpot.magnitude / spec.tpot.magnitude)
    assert gains == sorted(gains, reverse=True)
    assert gains[0] > 2.8 and gains[-1] < 1


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 0.99), st.integers(1, 8), st.floats(0, 0.5), st.sampled_from([1, 8, 128]))
def test_speculative_itl_is_never_below_the_memory_bound_speed_up(alpha, gamma, c, batch):
    s = F.Scenario(batch=batch, speculative="draft", acceptance_rate=alpha, draft_tokens=gamma,
                   draft_cost_ratio=c)  # fmt: skip
    bound = s.decode_step_time.magnitude / s.spec_speedup.magnitude
    assert s.inter_token_latency.magnitude >= bound * (1 - 1e-12)


def test_verification_step_and_kv_by_hand():
    # 64 sequences x 5 tokens x 0.83 ms = 265.6 ms > 21 ms decode step; 64 x 4 drafted tokens
    # of 320 KiB: 80 MiB
    t = F.spec_verify_step_time(decode_step_time=0.021, token_compute_time=0.83e-3, batch=64,
                                draft_tokens=4)  # fmt: skip
    assert t.magnitude == pytest.approx(64 * 5 * 0.83e-3)
    kv = F.spec_kv_extra_bytes(batch=64, draft_tokens=4, kv_bytes_per_token=327_680)
    assert kv.to("MiB").magnitude == pytest.approx(80)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"model": "llama-3.1-70b", "speculative": "mtp"}, "has none"),
        ({"speculative": "mpt"}, "did you mean 'mtp'"),
    ],
)
def test_speculation_refusals(kwargs, words):
    with pytest.raises(InputError, match=words):
        F.Scenario(**kwargs)


# ----------------------------------------------------------------------------- chunked prefill
def test_mixed_step_by_hand():
    # 2,048 chunk tokens + 32 decode tokens at 0.104 ms: 216.32 ms, above the 21 ms decode step
    q = F.mixed_step_time(decode_step_time=0.021, token_compute_time=0.104e-3, chunk_tokens=2048,
                          batch=32)  # fmt: skip
    assert q.to("ms").magnitude == pytest.approx(216.32)
    # a small chunk rides on the memory-bound decode step for free (SARATHI's piggybacking)
    free = F.mixed_step_time(decode_step_time=0.021, token_compute_time=0.104e-3,
                             chunk_tokens=100, batch=32)  # fmt: skip
    assert free.magnitude == pytest.approx(0.021)
    # ceil(10,000 / 2,048) = 5 steps: (10,000 + 5 x 32) x 0.104 ms = 1.0566 s of compute
    # against 5 x 21 ms of memory floor, and 80 ms
    t = F.ttft_chunked(decode_step_time=0.021, token_compute_time=0.104e-3, prompt_len=10_000,
                       chunk_tokens=2048, batch=32, overhead=0.08)  # fmt: skip
    assert t.magnitude == pytest.approx(10_160 * 0.104e-3 + 0.08)
    # small chunks on fast compute: the steps' weight reads set the time, 40 x 21 ms
    t = F.ttft_chunked(decode_step_time=0.021, token_compute_time=0.02e-3, prompt_len=10_000,
                       chunk_tokens=250, batch=32, overhead=0.08)  # fmt: skip
    assert t.magnitude == pytest.approx(40 * 0.021 + 0.08)


@pytest.mark.parametrize("tp", [1, 4])
def test_chunking_trades_first_token_time_for_a_bounded_stall(tp):
    s = F.Scenario(tp=tp, batch=32, prompt_len=10_000, weights="fp8")
    alone = s.replace(batch=1).ttft.magnitude
    for chunk in (256, 1024, 4096):
        c = s.replace(chunk_tokens=chunk)
        # no chunk schedule is faster than the prompt's own prefill; each is an ITL far
        # below the whole-prompt stall of an unchunked engine
        # (typical prices the chunks' tokens at the batch's prefill per token, whose FLOP
        # utilization saturates higher than a chunk's: within 2 %; exact on the roofline)
        assert c.ttft_chunked.magnitude >= alone * 0.98
        bound = c.bound()
        assert bound.ttft_chunked.magnitude >= bound.replace(batch=1).ttft.magnitude * (
            1 - 1e-12
        )
        assert c.decode_step_time <= c.mixed_step_time < c.itl_stall_unchunked
    small, large = (s.replace(chunk_tokens=n) for n in (256, 4096))
    assert small.mixed_step_time < large.mixed_step_time
    assert small.ttft_chunked > large.ttft_chunked


def test_largest_free_chunk_is_a_solve():
    # the largest chunk that leaves the step memory-bound: solve mixed_step_time for C at the
    # decode step's time
    s = F.Scenario(tp=4, batch=32, prompt_len=10_000)
    answer = s.solve("chunk_tokens", target=s.decode_step_time * (1 + 1e-9),
                     of="mixed_step_time")  # fmt: skip
    c = answer.value
    assert 0 < c < 1000
    assert s.replace(chunk_tokens=c).mixed_step_time.magnitude == pytest.approx(
        s.decode_step_time.magnitude, rel=1e-6
    )


# ----------------------------------------------------------------------------- prefix cache
def test_prefix_hits_shorten_the_first_token_not_the_cache():
    s = F.Scenario(prompt_len=10_000)
    hit = s.replace(prefix_hit=0.8)
    assert hit.kv_cache_bytes == s.kv_cache_bytes
    assert hit.memory_per_gpu == s.memory_per_gpu
    assert hit.ttft < s.ttft / 4
    assert s.replace(prefix_hit=0).ttft == s.ttft  # no hit: the plain prefill, exactly


def test_prefix_cache_stacks_on_the_last_logit_head():
    # the model computes logits at the last position only (prefill_flops_last_logit builds on
    # prefill_flops); a prefix cache replaces prefill_flops outright: the head wraps the
    # cached prefill, counted once
    s = F.Scenario(prompt_len=10_000, prefix_hit=0.5)
    m = s.model.values
    embedding = m["hidden"] * m["vocab_size"]
    body = F.prefill_flops_prefix_cached(
        active_params=m["active_params"] - embedding, layers=m["layers"], prompt_len=10_000,
        hidden=m["n_heads"] * m["head_dim"], causal_factor=s.value("causal_factor"),
        prefix_hit=0.5,
    ).magnitude  # fmt: skip
    assert s.prefill_flops.magnitude == pytest.approx(body + 2 * embedding, rel=1e-12)


def test_prefix_hit_follows_with_values_and_sweeps():
    s = F.Scenario(prompt_len=10_000)
    assert s.with_values(prefix_hit=0.5).ttft == s.replace(prefix_hit=0.5).ttft
    swept = s.sweep("ttft", prefix_hit=[0, 0.5, 0.9]).ttft.values
    assert swept[0] == pytest.approx(s.ttft.magnitude)
    assert swept[0] > swept[1] > swept[2]


@pytest.mark.parametrize("assumptions", ["typical", "ideal"])
def test_each_pass_pays_its_fixed_cost_once(assumptions):
    # one chunk holding the whole prompt is the prompt's own prefill (and the decode tokens'
    # compute); an unchunked stall is a decode step and a prefill step: each pass's fixed cost
    # of the efficiency model counted once
    s = F.Scenario("llama-3.1-8b", "h100-sxm", prompt_len=1024, assumptions=assumptions)
    whole = s.replace(chunk_tokens=2048)
    one_token = s.token_compute_time * F.Q_(1, "token")
    assert whole.ttft_chunked.magnitude == pytest.approx((s.ttft + one_token).magnitude)
    assert s.itl_stall_unchunked.magnitude == pytest.approx(
        (s.decode_step_time + s.prefill_step_time).magnitude
    )
