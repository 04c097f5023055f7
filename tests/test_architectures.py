"""Attention variants: KV widths of MHA, GQA, MQA and MLA (DeepSeek-V2 report, Table 1),
sliding-window layers capped at their window, attention FLOPs over the real head width, and the
variants swapped into composite formulas by a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy

import llmphys as F
from llmphys.units import Q_

CASES = json.loads((Path(__file__).parent / "cases" / "architectures.json").read_text())


def symbols(*names: str) -> list[sympy.Symbol]:
    return [F.glossary.symbol(n) for n in names]


L, n_h, n_kv, d_h, d, d_c, d_r, b_kv = symbols(
    "layers",
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "hidden",
    "kv_lora_rank",
    "qk_rope_head_dim",
    "kv_bytes",
)


# ------------------------------------------------------------ Table 1 of the DeepSeek-V2 report
def test_gqa_mqa_mha_rows_are_the_seed_formula():
    # GQA: 2 n_g d_h l; MQA is n_g = 1; MHA is n_g = n_h
    e = F.kv_elements_per_token.expanded
    assert e == 2 * n_kv * d_h * L
    assert e.subs(n_kv, 1) == 2 * d_h * L
    assert e.subs(n_kv, n_h) == 2 * n_h * d_h * L


def test_mla_row():
    mla = F.kv_elements_per_token.with_parts(kv_bytes_per_token=F.kv_bytes_per_token_mla)
    assert sympy.expand(mla.expanded - (d_c + d_r) * L) == 0
    assert F.kv_width.with_parts(kv_bytes_per_token=F.kv_bytes_per_token_mla).expanded == d_c + d_r


def test_seed_mha_instance_is_layers_hidden_2_bytes():
    # seed, Memory Hierarchy / KV Cache: layers * hidden * 2 * precision_bytes
    assert F.kv_bytes_per_token_mha.expanded == 2 * L * d * b_kv
    assert F.kv_bytes_per_token_mha.input_names == ("layers", "hidden", "kv_bytes")


@pytest.mark.parametrize("case", CASES["kv"], ids=[c["id"] for c in CASES["kv"]])
def test_kv_golden(case):
    m = F.models[case["model"]]
    q = m.evaluate(case["formula"], **case["inputs"])
    assert q.to(case["unit"]).magnitude == pytest.approx(case["exact"], rel=1e-12), case["source"]


def test_deepseek_v3_kv_per_token():
    m = F.models["deepseek-v3"]
    assert m.evaluate("kv_elements_per_token") == Q_(35136, "element/token")
    assert m.evaluate("kv_width") == Q_(576, "element/token")
    assert m.evaluate("kv_bytes_per_token", kv_bytes="bf16") == Q_(70272, "byte/token")


def test_llama_70b_32k_bf16_is_exactly_10_gib():
    m = F.models["llama-3.1-70b"]
    f = F.kv_cache_bytes  # the seed formula: GQA needs no variant, only n_kv and d_h
    q = f(**m.inputs_for(f), kv_bytes="bf16", seq_len=32768, batch=1)
    assert q.to("GiB").magnitude == 10
    assert q.to("byte").magnitude == 10 * 2**30


def test_kv_width_by_attention_kind():
    width = {name: F.models[name].evaluate("kv_width").magnitude for name in F.models}
    assert width["llama-3.1-70b"] == 2 * 8 * 128  # GQA
    assert width["qwen3-235b-a22b"] == 2 * 4 * 128  # head_dim explicit, not hidden / heads
    assert width["gpt-oss-120b"] == 2 * 8 * 64
    assert width["deepseek-v3"] == 512 + 64  # MLA
    assert width["deepseek-v3.2"] == 512 + 64 + 128  # MLA and the indexer key (DSA)
    assert width["nemotron-3-nano-30b-a3b"] == 2 * 2 * 128  # one of its 6 attention blocks
    mqa = F.load_hf_config(Path(__file__).parent / "fixtures" / "configs" / "gemma3_text.json")
    assert mqa.attention == "MQA" and mqa.evaluate("kv_width").magnitude == 2 * 256


# ----------------------------------------------------------------------------- sliding windows
def test_window_caps_the_cached_length():
    q = F.windowed_seq_len(seq_len=np.array([100, 1024, 5000, 131072]), sliding_window=1024)
    assert q.magnitude.tolist() == [100, 1024, 1024, 1024]


def test_gemma_3_27b_local_layers_capped_at_1024_tokens():
    m = F.models["gemma-3-27b"]
    f = m.formula("kv_cache_bytes")
    assert f.name == "kv_cache_bytes_windowed"
    per_layer_token = 2 * 16 * 128 * 2  # K and V of 16 heads of 128, BF16
    for seq_len in (512, 1024, 4096, 131072):
        q = f(**m.inputs_for(f), kv_bytes="bf16", seq_len=seq_len, batch=1)
        expected = per_layer_token * (10 * seq_len + 52 * min(seq_len, 1024))
        assert q.to("byte").magnitude == expected
    # beyond the window only the 10 global layers grow
    at = {
        s: m.evaluate("kv_cache_bytes", kv_bytes=2, seq_len=s, batch=1).magnitude
        for s in (2048, 4096)
    }
    assert at[4096] - at[2048] == per_layer_token * 10 * 2048


def test_gemma_window_ignored_overestimates_about_six_fold_at_128k():
    m = F.models["gemma-3-27b"]
    windowed = m.evaluate("kv_cache_bytes", kv_bytes="bf16", seq_len=131072, batch=1)
    ignored = F.kv_cache_bytes(
        **m.inputs_for(F.kv_cache_bytes), kv_bytes="bf16", seq_len=131072, batch=1
    )
    assert windowed.to("GiB").magnitude == pytest.approx(10.40625)
    assert ignored.to("GiB").magnitude == pytest.approx(62)
    assert 5.9 < (ignored / windowed).to("").magnitude < 6.0


def test_gpt_oss_alternating_128_token_windows():
    m = F.models["gpt-oss-120b"]
    v = m.values
    assert (v["local_layers"], v["global_layers"], v["sliding_window"]) == (18, 18, 128)
    q = m.evaluate("kv_cache_bytes", kv_bytes="bf16", seq_len=8192, batch=1).to("byte").magnitude
    assert q == 2 * 8 * 64 * 2 * (18 * 8192 + 18 * 128)


def test_windowed_per_token_tends_to_the_global_layers_share():
    m = F.models["gemma-3-27b"]
    short = m.evaluate("kv_bytes_per_token_windowed", kv_bytes=2, seq_len=512).magnitude
    long = m.evaluate("kv_bytes_per_token_windowed", kv_bytes=2, seq_len=10**7).magnitude
    assert short == 62 * 2 * 16 * 128 * 2  # every layer stores every token below the window
    assert long == pytest.approx(10 * 2 * 16 * 128 * 2, rel=1e-3)


def test_windowed_kv_read_caps_the_average_context():
    m = F.models["gemma-3-27b"]
    q = m.evaluate("kv_read", kv_bytes=2, prompt_len=9000, new_tokens=2000)
    assert q.to("byte/token").magnitude == 2 * 16 * 128 * 2 * (10 * 10000 + 52 * 1024)


def test_windowed_attention_flops():
    m = F.models["gemma-3-27b"]
    f = m.formula("attention_flops")
    assert f.name == "attention_flops_windowed"
    q = m.evaluate(f, query_tokens=1, seq_len=32768)
    width = 32 * 128  # n_h d_h, not hidden (5,376)
    assert q.to("FLOP").magnitude == 4 * width * (10 * 32768 + 52 * 1024)


# ----------------------------------------------------------------------------- precisions
def test_kv_precision_independent_of_weight_precision():
    m = F.models["llama-3.1-70b"]
    base = dict(seq_len=32768, batch=1, workspace_fraction=0.12)
    bf16 = m.evaluate("total_vram", bytes_per_param="bf16", kv_bytes="bf16", **base)
    fp8_kv = m.evaluate("total_vram", bytes_per_param="bf16", kv_bytes="fp8", **base)
    kv_bf16 = m.evaluate("kv_cache_bytes", kv_bytes="bf16", seq_len=32768, batch=1)
    assert (bf16 - fp8_kv).to("GiB").magnitude == pytest.approx(5)
    assert (bf16 - fp8_kv) == kv_bf16 / 2


# ----------------------------------------------------------------------------- attention FLOPs
def test_attention_flops_over_the_real_head_width():
    qwen = F.models["qwen3-235b-a22b"]
    seed = F.qk_flops(query_tokens=1, seq_len=10000, hidden=4096)
    real = qwen.evaluate("qk_flops", query_tokens=1, seq_len=10000)
    assert (real / seed).to("").magnitude == 2  # 64 x 128 = 8,192 on a 4,096-wide model
    ds = F.models["deepseek-v3"]
    assert ds.formula("qk_flops").name == "qk_flops_mla"
    qk = ds.evaluate("qk_flops", query_tokens=1, seq_len=1).to("FLOP").magnitude
    av = ds.evaluate("av_flops", query_tokens=1, seq_len=1).to("FLOP").magnitude
    assert (qk, av) == (2 * 128 * 192, 2 * 128 * 128)


def test_llama_attention_width_equals_hidden_so_seed_flops_hold():
    m = F.models["llama-3.1-70b"]
    real = m.evaluate("decode_flops", avg_seq_len=10000)
    seed = F.decode_flops(active_params=m.values["active_params"], layers=80, hidden=8192,
                          avg_seq_len=10000)  # fmt: skip
    assert real == seed


# ----------------------------------------------------------------------------- with_parts
def test_model_formula_is_with_parts_of_the_registry_formula():
    ds = F.models["deepseek-v3"]
    f = ds.formula("total_vram")
    manual = F.total_vram.with_parts(kv_bytes_per_token=F.kv_bytes_per_token_mla)
    values = dict(ds.inputs_for(f), seq_len=10000, batch=4, kv_bytes="bf16",
                  bytes_per_param="fp8", workspace_fraction=0.1)  # fmt: skip
    assert f(**values) == manual(**{k: v for k, v in values.items() if k in manual.input_names})
    assert f.replacements["kv_bytes_per_token"] == "kv_bytes_per_token_mla"
    assert ds.formula("total_vram") is f  # built once per model


def test_variants_compose_inside_variants():
    # Gemma: the windowed attention contains attention_flops, whose QK and AV parts are the
    # head-width variants; decode_flops gets both
    g = F.models["gemma-3-27b"].formula("decode_flops")
    names = {f.name for f, _ in g.chain()}
    assert {"attention_flops_windowed", "qk_flops_heads", "av_flops_heads"} <= names
    assert "hidden" not in g.input_names


def test_derivation_of_a_variant_names_the_mla_width():
    ds = F.models["deepseek-v3"]
    f = ds.formula("kv_cache_bytes")
    text = str(f.derive(**ds.inputs_for(f), kv_bytes="bf16", seq_len=1000, batch=1))
    assert "w_MLA" in text and "d_c + d_h^R" in text


def test_formulas_without_architecture_parts_come_back_unchanged():
    m = F.models["gemma-3-27b"]
    assert m.formula("effective_flops") is F.effective_flops
    assert m.formula(F.weight_bytes) is F.weight_bytes


def test_a_formula_pinned_to_the_seed_instance_keeps_it():
    # kv_bytes_per_token_mha uses kv_bytes_per_token at n_kv = n_h: MLA does not take n_kv
    ds = F.models["deepseek-v3"]
    assert ds.formula("kv_bytes_per_token_mha") is F.kv_bytes_per_token_mha


def test_a_swapped_part_is_still_given_by_its_registry_name():
    # engine: Part.name of a part used as is is its name in the composite's expression, so
    # after with_parts the part is given (and kept, and derived) under the registry name
    v = F.total_vram.with_parts(kv_cache_bytes=F.kv_cache_bytes_windowed)
    assert "kv_cache_bytes" in v.overridable_parts()
    assert "kv_cache_bytes_windowed" not in v.overridable_parts()
    q = v(kv_cache_bytes=Q_(1, "GB"), params=1e9, bytes_per_param=2, workspace_fraction=0.1)
    assert q == Q_(3.2e9, "B")
    assert "M_total = 2 GB + 1 GB + 200 MB = 3.2 GB" in str(
        v.derive(kv_cache_bytes=Q_(1, "GB"), params=1e9, bytes_per_param=2, workspace_fraction=0.1)
    )
