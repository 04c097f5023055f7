"""Latency beyond the seed: roofline step times per phase, the causal factor and the
FlashAttention switch, and the serving metrics as formulas."""

from __future__ import annotations

import pytest
import sympy

import llmphys as F
from llmphys.units import Q_

from support import for_formula

LLAMA_70B = dict(
    params=70e9,
    active_params=70e9,
    bytes_per_param="bf16",
    layers=80,
    n_heads=64,
    n_kv_heads=8,
    head_dim=128,
    kv_bytes="bf16",
    act_bytes="bf16",
    hidden=8192,
)
A100 = dict(peak_flops=312e12, utilization=0.4, mem_bandwidth=2.039e12, bw_utilization=0.6)


def test_causal_factor_halves_only_the_quadratic_term():
    values = dict(active_params=70e9, layers=80, prompt_len=10000, hidden=8192)
    full = F.prefill_flops(**values, causal_factor=1)
    causal = F.prefill_flops(**values, causal_factor=0.5)
    dense = F.dense_flops(active_params=70e9, tokens=10000)
    attention = F.attention_flops(layers=80, query_tokens=10000, seq_len=10000, hidden=8192)
    assert (full - causal).to("FLOP").magnitude == pytest.approx(
        0.5 * attention.to("FLOP").magnitude, rel=1e-12
    )
    assert (causal - dense).to("FLOP").magnitude == pytest.approx(
        0.5 * attention.to("FLOP").magnitude, rel=1e-12
    )


def test_flash_attention_removes_the_score_traffic_only():
    values = dict(
        weight_bytes=140e9,
        layers=80,
        n_kv_heads=8,
        head_dim=128,
        kv_bytes=2,
        prompt_len=10000,
        batch=2,
        n_heads=64,
        act_bytes=2,
        causal_factor=1,
    )
    standard = F.prefill_bytes(**values, flash_attention=0)
    fused = F.prefill_bytes(**values, flash_attention=1)
    scores = F.attention_score_bytes(
        layers=80, n_heads=64, prompt_len=10000, act_bytes=2, causal_factor=1
    )
    # 4 passes x 80 layers x 64 heads x 10^8 scores x 2 bytes = 4.1 TB per prompt
    assert scores.to("TB").magnitude == pytest.approx(4.096)
    assert (standard - fused).to("B").magnitude == pytest.approx(2 * scores.to("B").magnitude)
    assert fused.to("GB").magnitude == pytest.approx(140 + 2 * 10000 * 327680 / 1e9)


def test_seed_ttft_is_the_compute_bound_batch_one_instance():
    # seed, Formula Summary / TTFT: Prefill_time * 1000 + 80 ms
    values = dict(
        LLAMA_70B,
        **A100,
        prompt_len=10000,
        batch=1,
        causal_factor=1,
        flash_attention=1,
        overhead=0.08,
    )
    t = F.ttft(**values)
    seed = F.prefill_time(**{k: values[k] for k in F.prefill_time.input_names})
    assert t.to("s").magnitude == pytest.approx(seed.to("s").magnitude + 0.08, rel=1e-12)
    memory = F.prefill_memory_time(**{k: values[k] for k in F.prefill_memory_time.input_names})
    assert memory < seed  # a 10K-token prefill is compute-bound


def test_short_prompts_at_batch_one_are_memory_bound():
    values = dict(
        LLAMA_70B, **A100, prompt_len=16, batch=1, causal_factor=0.5, flash_attention=1, overhead=0
    )
    compute = F.prefill_compute_time(**{k: values[k] for k in F.prefill_compute_time.input_names})
    memory = F.prefill_memory_time(**{k: values[k] for k in F.prefill_memory_time.input_names})
    assert memory > compute
    assert F.ttft(**values) == memory


def test_decode_step_is_memory_bound_at_batch_one_and_compute_bound_at_large_batch():
    base = dict(LLAMA_70B, **A100, avg_seq_len=1000)
    one = F.decode_step_time(**for_formula(F.decode_step_time, base), batch=1)
    assert one == F.decode_memory_time(**for_formula(F.decode_memory_time, base), batch=1)
    big = F.decode_step_time(**for_formula(F.decode_step_time, base), batch=4096)
    assert big == F.decode_compute_time(**for_formula(F.decode_compute_time, base), batch=4096)


def test_the_switch_to_compute_bound_is_a_solve_at_the_ridge_point():
    # hardware.md: H100 SXM 989 TFLOPS dense BF16, 3.35 TB/s: ridge 295.2 FLOP/byte
    ridge = F.ridge_point(peak_flops=989e12, mem_bandwidth=3.35e12)
    assert ridge.to("FLOP/B").magnitude == pytest.approx(989 / 3.35)
    arch = dict(
        active_params=70e9,
        bytes_per_param="bf16",
        layers=80,
        n_kv_heads=8,
        head_dim=128,
        kv_bytes="bf16",
        hidden=8192,
        avg_seq_len=1,
    )
    s = F.solve("arithmetic_intensity", "batch", target=ridge, bound="at_least", **arch)
    # at equal utilizations the decode step's compute and memory times cross there
    step = dict(arch, peak_flops=989e12, mem_bandwidth=3.35e12, utilization=1, bw_utilization=1)
    comp = for_formula(F.decode_compute_time, step)
    mem = for_formula(F.decode_memory_time, step)
    below, above = s.value.magnitude - 1, s.value.magnitude
    assert F.decode_compute_time(**comp, batch=below) < F.decode_memory_time(**mem, batch=below)
    assert F.decode_compute_time(**comp, batch=above) >= F.decode_memory_time(**mem, batch=above)


def test_metric_relations_are_formulas():
    # TPOT excludes the first token: solving e2e for TPOT gives (e2e - TTFT) / (n - 1)
    s = F.solve("e2e_latency", "tpot", target=Q_(10.5, "s"), ttft=Q_(0.5, "s"), new_tokens=501)
    assert s.value.to("ms").magnitude == pytest.approx(20.0)
    assert F.tpot(decode_step_time=0.02) == F.inter_token_latency(decode_step_time=0.02)
    per_user = F.tokens_per_second_per_user(decode_step_time=0.025)
    assert per_user.to("token/s").magnitude == pytest.approx(40)
    per_gpu = F.tokens_per_second_per_gpu(decode_step_time=0.025, batch=16)
    assert per_gpu.to("token/s").magnitude == pytest.approx(640)


def test_e2e_with_no_output_tokens_is_the_ttft():
    assert F.e2e_latency(ttft=0.5, tpot=0.02, new_tokens=0) == Q_(0.5, "s")
    assert F.e2e_latency(ttft=0.5, tpot=0.02, new_tokens=1) == Q_(0.5, "s")


def test_ttft_grows_with_the_batch():
    values = dict(
        LLAMA_70B, **A100, prompt_len=2048, causal_factor=0.5, flash_attention=1, overhead=0.08
    )
    one, eight = F.ttft(**values, batch=1), F.ttft(**values, batch=8)
    assert eight > one
    assert (eight - Q_(0.08, "s")) / (one - Q_(0.08, "s")) == pytest.approx(8, rel=1e-12)


def test_step_times_use_max_so_the_solver_takes_the_numeric_path():
    s = F.solve(
        "decode_step_time",
        "batch",
        target=Q_(200, "ms"),
        **for_formula(F.decode_step_time, dict(LLAMA_70B, **A100, avg_seq_len=1000)),
    )
    assert s.method == "numeric" and s.direction == "largest"
    assert s.check <= Q_(200, "ms")
    assert F.decode_step_time.expr.has(sympy.Max)


def test_a_step_time_below_the_weight_read_is_infeasible_and_says_so():
    with pytest.raises(F.InfeasibleError) as info:
        F.solve(
            "decode_step_time",
            "batch",
            target=Q_(50, "ms"),
            **for_formula(F.decode_step_time, dict(LLAMA_70B, **A100, avg_seq_len=1000)),
        )
    assert str(info.value) == (
        "solve decode_step_time for batch: no positive batch gives decode_step_time ≤ 50 ms: "
        "even as batch goes to 0, decode_step_time only reaches 114.4 ms, above the target; "
        "active_weight_bytes (M_w,a) = 140 GB does not change with batch. Lower active_params "
        "or bytes_per_param, or raise the budget"
    )


def test_ridge_point_per_precision_from_the_hardware_preset():
    # hardware.md: H100 SXM dense 989 TFLOPS BF16, 1,979 FP8, 3.35 TB/s
    h100 = F.hardware["h100-sxm"]
    bf16 = F.ridge_point(**h100.inputs_for("ridge_point", precision="bf16"))
    fp8 = F.ridge_point(**h100.inputs_for("ridge_point", precision="fp8"))
    assert bf16.to("FLOP/B").magnitude == pytest.approx(295.2, abs=0.05)
    assert fp8.to("FLOP/B").magnitude == pytest.approx(2 * 295.2, rel=1e-3)


def test_critical_batch_of_llama_70b_on_h100_from_presets():
    model, h100 = F.models["llama-3.1-70b"], F.hardware["h100-sxm"]
    ridge = F.ridge_point(**h100.inputs_for("ridge_point"))
    f = model.formula("arithmetic_intensity")
    s = F.solve(
        f,
        "batch",
        target=ridge,
        bound="at_least",
        **model.inputs_for(f),
        bytes_per_param="bf16",
        kv_bytes="bf16",
        avg_seq_len=1,
    )
    # about one FLOP per byte per sequence at BF16: the critical batch is the ridge point
    assert s.value.magnitude == pytest.approx(ridge.magnitude, rel=0.02)
