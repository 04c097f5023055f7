"""Physics real engines do (issue 17): logits only at the last prompt position, the experts a
batch reaches, the model's own context limit.  Hand arithmetic from config.json fields
(HF configs and model cards) against the formulas, the Scenario, the CLI and the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmphys as F
from llmphys.cli import main

from support import config_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "configs"

# Llama-3.1-8B (models.md): 7,504,924,672 active parameters (8,030,261,248 less the
# 525,336,576-parameter input embedding), an untied 128,256 x 4,096 output head
LLAMA8_ACTIVE, LLAMA8_HEAD = 7_504_924_672, 128_256 * 4_096


def llama8_attention(prompt: int, causal: float) -> float:
    """QK^T and AV of every layer: 2 x 2 S^2 n_h d_h FLOPs per layer, times the causal factor
    (32 layers, 32 heads of 128)."""
    return causal * 32 * 4 * prompt**2 * 32 * 128


# ----------------------------------------------------------------------------- logits
def test_prefill_counts_the_output_head_at_the_last_position_only():
    s = F.Scenario("llama-3.1-8b", "h100-sxm", prompt_len=2048, assumptions="ideal")
    assert s.value("causal_factor") == 0.5 and s.value("prompt_logprobs") == 0
    hand = 2 * (LLAMA8_ACTIVE - LLAMA8_HEAD) * 2048 + 2 * LLAMA8_HEAD + llama8_attention(2048, 0.5)
    assert hand - llama8_attention(2048, 0.5) == 2 * 6_979_588_096 * 2048 + 2 * 525_336_576
    got = s.evaluate("prefill_flops").to("FLOP").magnitude
    assert got == pytest.approx(hand, rel=1e-3)
    assert s.formula("prefill_flops").name == "prefill_flops_last_logit"


def test_prompt_logprobs_count_the_head_at_every_prompt_token():
    s = F.Scenario("llama-3.1-8b", "h100-sxm", prompt_len=2048, assumptions="ideal",
                   prompt_logprobs=1)  # fmt: skip
    hand = 2 * LLAMA8_ACTIVE * 2048 + llama8_attention(2048, 0.5)  # the seed's 2 N S_p form
    assert s.evaluate("prefill_flops").to("FLOP").magnitude == pytest.approx(hand, rel=1e-12)
    last = s.replace(prompt_logprobs=0).evaluate("prefill_flops").to("FLOP").magnitude
    extra = 2 * LLAMA8_HEAD * 2047  # the head at the other 2,047 positions
    assert hand - last == pytest.approx(extra, rel=1e-9)
    assert extra / last == pytest.approx(0.0724, abs=1e-4)  # the seed's form: +7.2 %


def test_the_seed_set_keeps_the_seeds_prefill_and_ttft():
    s = F.Scenario("llama-3.1-70b", "a100-80gb", assumptions="seed", prompt_len=10000,
                   active_params=70e9, effective_flops=200e12)  # fmt: skip
    assert s.value("prompt_logprobs") == 1
    # seed, Total Prefill FLOPs: 2 * 70e9 * 10000 + 4 * 80 * 10000^2 * 8192 = 1.66e15 FLOP
    assert s.evaluate("prefill_flops").to("PFLOP").magnitude == pytest.approx(1.6621, rel=1e-4)
    assert round(s.evaluate("ttft").to("s").magnitude, 2) == 8.39


def test_a_tied_head_is_counted_once_where_logits_are_computed():
    # Gemma-3-27B ties its 262,144 x 5,376 head to the embedding (models.md)
    s = F.Scenario("gemma-3-27b", "h100-sxm", prompt_len=1000, assumptions="ideal")
    head = 262_144 * 5_376
    all_rows = s.replace(prompt_logprobs=1).evaluate("prefill_flops").to("FLOP").magnitude
    last = s.evaluate("prefill_flops").to("FLOP").magnitude
    assert all_rows - last == pytest.approx(2 * head * 999, rel=1e-9)


# ----------------------------------------------------------------------------- experts
@pytest.mark.parametrize(("batch", "touched"), [(1, 2), (8, 7.199), (32, 7.9992)])
def test_experts_a_mixtral_batch_reaches(batch, touched):
    m = F.models["mixtral-8x7b"]
    got = m.evaluate("experts_touched", batch=batch).magnitude
    assert got == pytest.approx(touched, abs=1e-3)
    assert got == pytest.approx(8 * (1 - (1 - 2 / 8) ** batch), rel=1e-12)


def test_a_mixtral_decode_step_at_batch_8_reads_the_experts_it_reaches():
    m = F.models["mixtral-8x7b"]
    s = F.Scenario(m, "h100-sxm", batch=8, prompt_len=128, output_len=128, assumptions="ideal")
    expert = 3 * 4096 * 14336  # one expert: gate, up and down projections (models.md)
    touched = 8 * (1 - 0.75**8)
    weights = (m.values["active_params"] + 32 * (touched - 2) * expert) * 2  # BF16
    kv_per_token = 2 * 32 * 8 * 128 * 2
    kv = 8 * kv_per_token * (128 + 128 / 2 + 1)  # read the average context, write one token
    bandwidth = 3.35e12  # H100 SXM (hardware.md)
    hand = (weights + kv) / bandwidth
    assert s.evaluate("decode_memory_time").to("s").magnitude == pytest.approx(hand, rel=1e-9)
    assert weights > 0.85 * m.values["params"] * 2  # 90 % of the weights, not 25 %
    # on two GPUs (tensor parallel) each reads its active share, half of the experts the batch
    # reaches beyond one token's, and half of the KV heads
    two = s.replace(tp=2)
    share = two.evaluate("active_params_per_gpu").to("param").magnitude * 2
    hand_two = (share + 32 * (touched - 2) * expert * 2 / 2 + kv / 2) / bandwidth
    got = two.evaluate("stage_decode_memory_time").to("s").magnitude
    assert got == pytest.approx(hand_two, rel=1e-9)


def test_one_token_reaches_no_other_expert():
    m = F.models["deepseek-v3"]
    assert m.evaluate("extra_expert_read", batch=1, bytes_per_param="fp8").magnitude == 0
    one = m.evaluate("moe_weight_read", batch=1, bytes_per_param="fp8")
    assert one == m.evaluate("active_weight_bytes", bytes_per_param="fp8")


# ----------------------------------------------------------------------------- context limit
def qwen25() -> F.Model:
    # Qwen/Qwen2.5-7B: 28 layers, 28 query / 4 KV heads, untied, 128K context (Qwen2.5 blog
    # table, QwenLM/qwenlm.github.io content/blog/qwen2.5 at 1f89f8c); max_position_embeddings
    # 131072 as its config.json gives it
    return F.load_hf_config(FIXTURES / "qwen2_5_7b.json")


def test_the_models_context_limit_binds_for_a_small_model_on_a_large_gpu():
    m = qwen25()
    assert m.context_limit == 131072 and "max_position_embeddings 131,072" in m.context_source
    answer = F.Scenario(m, "h200").largest_context()
    assert answer.value.magnitude == 131072 and answer.binds == "model"
    assert answer.memory.value.magnitude > 131072  # memory alone would hold far more
    assert "the model's limit binds" in str(answer)


def test_memory_binds_when_it_holds_less_than_the_model_takes():
    answer = F.Scenario("llama-3.1-70b", "h100-sxm", tp=2).largest_context()
    assert answer.binds == "memory" and answer.value == answer.memory.value
    assert answer.value.magnitude < 131072 and "up to 131,072" in answer.message


def test_a_config_without_max_position_embeddings_says_so():
    m = F.load_hf_config(config_fixture("llama") | {"max_position_embeddings": None})
    assert m.context_limit is None
    assert any("max_position_embeddings not given" in a for a in m.assumptions)
    answer = F.Scenario(m, "h200").largest_context()
    assert answer.binds == "memory" and "not known" in answer.message


def test_rope_scaling_and_text_config_are_read():
    m = F.models["llama-3.1-8b"]
    assert m.context_limit == 131072
    assert "rope_scaling llama3 x8 from an original 8,192" in m.context_source
    assert F.models["gemma-3-27b"].context_limit == 131072  # from its text_config


@pytest.mark.parametrize("bad", [0, -5, "long", 1.5, True])
def test_a_bad_context_limit_is_a_config_error(bad):
    with pytest.raises(F.ConfigError, match="max_position_embeddings"):
        F.load_hf_config(config_fixture("llama") | {"max_position_embeddings": bad})


def test_the_cli_caps_the_context_at_the_models_limit(capsys):
    code = main(["scenario", "--model", str(FIXTURES / "qwen2_5_7b.json"), "--hardware", "h200"])
    out = capsys.readouterr().out
    assert code == 0
    assert "131,072 tok" in out and "the model's limit binds" in out


def test_the_app_caps_the_context_at_the_models_limit():
    from llmphys.app import SizingApp

    app = SizingApp()
    app.models["qwen2.5-7b"] = qwen25()
    app.model.options = [*app.model.options, ("Qwen2.5-7B", "qwen2.5-7b")]
    app.model.value = "qwen2.5-7b"
    app.hardware.value = "h200"
    view = app.views["largest_context"]
    assert view.number == 131072
    assert "the model" in view.value.value and "limit binds" in view.value.value


# ----------------------------------------------------------------------------- small
def test_a_workspace_fraction_of_zero_means_weights_and_kv_only():
    s = F.Scenario("llama-3.1-8b", "h100-sxm", workspace_fraction=0)
    assert s.evaluate("workspace_bytes").magnitude == 0
    assert s.evaluate("total_vram") == s.evaluate("weight_bytes") + s.evaluate("kv_cache_bytes")
    assert json.loads(json.dumps(s.to_dict()))  # and it reports


# ----------------------------------------------------------------------------- precisions
def gpt_oss_20b() -> F.Model:
    # openai/gpt-oss-20b config.json (tests/fixtures/configs/gpt_oss.json): 24 layers of 32
    # experts, each a gate/up projection 2,880 x 5,760 and a down projection 2,880 x 2,880
    # with biases; quantization_config mxfp4
    return F.load_hf_config(FIXTURES / "gpt_oss.json")


def test_gpt_oss_20b_weights_at_its_released_precision():
    m = gpt_oss_20b()
    assert dict(m.precisions) == {
        "bytes_per_param": "bf16", "expert_bytes": "mxfp4", "embedding_bytes": "bf16"
    }  # fmt: skip
    experts = 24 * 32 * (3 * 2880 * 2880 + 3 * 2880)
    hand = experts * 4.25 / 8 + (m.values["params"] - experts) * 2  # bytes
    s = F.Scenario(m, "h100-sxm")
    assert "mixed_weights" in s.features
    got = s.evaluate("weight_bytes").to("B").magnitude
    assert got == pytest.approx(hand, rel=0.01)
    # its checkpoint: three safetensors files of 4.79, 4.8 and 4.17 GB on the model's hub
    # page (13.76e9 B = 12.81 GiB; the model card quotes 12.8 GiB)
    assert got / 2**30 == pytest.approx(12.8, rel=0.01)
    # and every weight in BF16 when the user says so: the seed's one precision
    for uniform in (F.Scenario(m, "h100-sxm", weights="bf16"),
                    F.Scenario(m, "h100-sxm", bytes_per_param="bf16")):  # fmt: skip
        assert "mixed_weights" not in uniform.features
        assert uniform.evaluate("weight_bytes").to("B").magnitude == m.values["params"] * 2


def test_gpt_oss_decode_reads_its_experts_at_their_precision():
    m = gpt_oss_20b()
    s = F.Scenario(m, "h100-sxm", batch=1, assumptions="ideal")
    expert = 3 * 2880 * 2880 + 3 * 2880
    active_experts = 24 * 4 * expert
    hand = active_experts * 4.25 / 8 + (m.values["active_params"] - active_experts) * 2
    assert s.evaluate("active_weight_bytes").to("B").magnitude == pytest.approx(hand, rel=1e-12)
    eight = s.replace(batch=8)
    touched = 32 * (1 - (1 - 4 / 32) ** 8)
    extra = 24 * (touched - 4) * expert * 4.25 / 8
    assert eight.evaluate("moe_weight_read").to("B").magnitude == pytest.approx(hand + extra)


def test_deepseek_v3_ships_fp8_with_block_scales():
    m = F.models["deepseek-v3"]
    assert m.precisions["bytes_per_param"] == m.precisions["expert_bytes"] == "fp8_block128"
    assert m.precisions["embedding_bytes"] == "bf16" and "README_WEIGHTS" in m.precision_source
    # one float32 scale per 128 x 128 block (README_WEIGHTS.md): 1 + 4 / 16,384 bytes per weight
    assert F.PRECISIONS["fp8_block128"] == 1 + 4 / (128 * 128)
    tables = 2 * 129_280 * 7_168  # untied embedding and head (models.md)
    hand = (m.values["params"] - tables) * (1 + 4 / 16384) + tables * 2
    s = F.Scenario(m, "h200", tp=8)
    assert s.evaluate("weight_bytes").to("B").magnitude == pytest.approx(hand, rel=1e-12)
    assert "fp8_block128" in s.summary().title


def test_an_awq_int4_checkpoint_with_groups_of_128():
    # AutoAWQ GEMM, zero point, group size 128 (hugging-quants Meta-Llama-3.1 AWQ-INT4 cards):
    # per group of 128 weights an fp16 scale and a packed 4-bit zero point
    awq = {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True,
           "version": "gemm", "modules_to_not_convert": None}  # fmt: skip
    m = F.load_hf_config(config_fixture("llama") | {"quantization_config": awq,
                                                    "torch_dtype": "float16"})  # fmt: skip
    assert dict(m.precisions) == {
        "bytes_per_param": "int4_g128", "expert_bytes": "int4_g128", "embedding_bytes": "fp16"
    }  # fmt: skip
    assert F.PRECISIONS["int4_g128"] == 0.5 + 2.5 / 128
    tables = 2 * LLAMA8_HEAD
    hand = (8_030_261_248 - tables) * (0.5 + 2.5 / 128) + tables * 2
    s = F.Scenario(m, "l4") if "l4" in F.hardware else F.Scenario(m, "a100-80gb")
    assert s.evaluate("weight_bytes").to("B").magnitude == pytest.approx(hand, rel=1e-12)
    assert s.evaluate("weight_bytes").to("GB").magnitude == pytest.approx(5.727, abs=1e-3)


def test_each_class_of_weights_takes_its_own_precision():
    s = F.Scenario("mixtral-8x7b", "h100-sxm", weights={"experts": "int4_g128", "body": "fp8"})
    assert s.source("expert_bytes").startswith("precision int4_g128 (experts)")
    assert s.source("embedding_bytes").startswith("released precision: bf16")
    m = F.models["mixtral-8x7b"]
    experts = 32 * 8 * 3 * 4096 * 14336
    tables = 2 * 32000 * 4096
    hand = (
        experts * F.PRECISIONS["int4_g128"]
        + tables * 2
        + (m.values["params"] - experts - tables) * 1
    )
    assert s.evaluate("weight_bytes").to("B").magnitude == pytest.approx(hand, rel=1e-12)
    with pytest.raises(F.InputError, match="no class 'expert'"):
        F.Scenario("mixtral-8x7b", "h100-sxm", weights={"expert": "fp8"})


def test_mixed_weights_on_one_gpu_equal_the_layout_formulas_at_tp_1():
    s = F.Scenario("gpt-oss-120b", "h100-sxm", batch=4)
    swept = s.sweep("weight_bytes", "memory_per_gpu", "tpot", tp=[1])
    for name in ("weight_bytes", "memory_per_gpu", "tpot"):
        assert float(swept[name][0]) == pytest.approx(s.evaluate(name).magnitude, rel=1e-12)
    two = s.replace(tp=2)
    # two GPUs hold the weights between them, the replicated norms and sinks twice
    per_gpu = two.evaluate("weights_per_gpu").to("B").magnitude
    assert s.evaluate("weight_bytes").to("B").magnitude / 2 < per_gpu
    assert per_gpu < 1.001 * s.evaluate("weight_bytes").to("B").magnitude / 2


@pytest.mark.parametrize(
    ("quant", "message"),
    [
        ("mxfp4", "must be an object"),
        ({"quant_method": "gptq", "bits": 3, "group_size": 128}, "bits = 3 is not supported"),
        ({"quant_method": "mxfp4", "modules_to_not_convert": "lm_head"}, "must be a list"),
    ],
)
def test_a_malformed_quantization_config_is_a_config_error(quant, message):
    with pytest.raises(F.ConfigError, match=message):
        F.load_hf_config(config_fixture("llama") | {"quantization_config": quant})


def test_an_unknown_quantization_is_reported_not_guessed():
    m = F.load_hf_config(config_fixture("llama") | {"quantization_config": {"quant_method": "hqq"}})
    assert any('quant_method "hqq" is not read' in a for a in m.assumptions)
    assert m.precisions["bytes_per_param"] == "bf16"


def test_validation_mixtral_rows_read_the_experts_a_batch_of_8_reaches():
    from llmphys import validation as V

    rows = {r.measurement.id: r for r in V.validation_table()}
    h200 = rows["vllm-ci/mixtral-8x7b/tp2-h200"]
    s = V.scenario(h200.measurement)
    assert s.formula("weight_read").name == "weight_read_moe"
    assert s.evaluate("experts_touched").magnitude == pytest.approx(7.199, abs=1e-3)
    # the bound the issue computed by hand: about 1,124 ms, against 1,920 ms measured
    assert h200.predicted.to("ms").magnitude == pytest.approx(1124, rel=1e-3)
    assert h200.holds and h200.implied_utilization == pytest.approx(0.585, abs=0.005)
    # a step read only one token's experts (the dense rule) would promise 3x more
    step = s.evaluate("moe_weight_read") / s.evaluate("active_weight_bytes")
    assert step.to("").magnitude > 3
    assert all(r.holds for r in rows.values())  # no published run beats an ideal bound


def test_rope_scalings_original_length_is_kept():
    # Llama 3.1: rope_scaling llama3 x8 from the original 8,192 (llama-models apply_scaling)
    m = F.models["llama-3.1-8b"]
    assert (m.context_limit, m.context_original) == (131072, 8192)
    assert F.models["mixtral-8x7b"].context_original is None  # no rope scaling


def test_modules_kept_unquantized_that_llmphys_cannot_split_are_reported():
    awq = {"quant_method": "awq", "bits": 4, "group_size": 128,
           "modules_to_not_convert": ["self_attn", "lm_head"]}  # fmt: skip
    m = F.load_hf_config(config_fixture("llama") | {"quantization_config": awq})
    assert any("modules_to_not_convert self_attn" in a for a in m.assumptions)
    assert m.precisions["embedding_bytes"] == "bf16"  # lm_head kept: the embeddings' class
    # a router is no class of its own but negligible; a dense gate_proj kept is reported
    router = {**awq, "modules_to_not_convert": ["model.layers.*.mlp.gate", "lm_head"]}
    m = F.load_hf_config(config_fixture("llama") | {"quantization_config": router})
    assert not any("modules_to_not_convert" in a for a in m.assumptions)
    dense = {**awq, "modules_to_not_convert": ["model.layers.3.mlp.gate_proj"]}
    m = F.load_hf_config(config_fixture("llama") | {"quantization_config": dense})
    assert any("modules_to_not_convert model.layers.3.mlp.gate_proj" in a for a in m.assumptions)
