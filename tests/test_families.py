"""Real config.json files of 25+ families (tests/fixtures/hf): each read to the exact parameter
count the model's own code builds, with published figures, KV bytes by hand per attention
variant, and the refusals of configs that cannot be read.

Each fixture names its config's source and how its exact count was made (HF transformers
5.25.0 building the model from that config on the meta device, or a hand count from the
remote code's tensors); ``checkpoint_extra`` gives, with its reason, what the checkpoint
stores beyond that build (DeepSeek-style router score-correction biases are buffers in
transformers but tensors in the checkpoint).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmphys as F
from llmphys.errors import ConfigError
from llmphys.hf_config import SUPPORTED

HF = Path(__file__).parent / "fixtures" / "hf"
FIXTURES = {p.stem: json.loads(p.read_text()) for p in sorted(HF.glob("*.json"))}


def model(name: str) -> F.presets.Model:
    return F.load_hf_config(FIXTURES[name]["config"])


def test_fixtures_cover_at_least_25_families_with_their_sources():
    families = {f["config"]["model_type"] for f in FIXTURES.values()}
    assert len(families) >= 25, sorted(families)
    assert families <= set(SUPPORTED)
    for name, f in FIXTURES.items():
        assert f["config_source"] and f["hf_id"], name
        assert f["count"]["exact"] > 0 and f["count"]["how"], name


@pytest.mark.parametrize("name", FIXTURES)
def test_exact_parameter_count(name):
    f = FIXTURES[name]
    m = model(name)
    extra = f["count"].get("checkpoint_extra", {}).get("params", 0)
    assert m.values["params"] == f["count"]["exact"] + extra, f["count"]["how"]
    assert m.values["active_params"] <= m.values["params"]
    # the breakdown adds up to the total, piece by piece
    breakdown = m.params_breakdown()
    assert sum(r.total for r in breakdown.rows) == m.values["params"]


def _figure(m: F.presets.Model, what: str) -> float:
    v = m.values
    embeddings = v["embedding_matrices"] * v["vocab_size"] * v["hidden"]
    return {
        "total": v["params"],
        "non_embedding": v["params"] - embeddings,
        "active_with_embedding": m.evaluate("active_param_count_with_embedding").magnitude,
    }[what]


@pytest.mark.parametrize(
    ("name", "check"),
    [(n, c) for n, f in FIXTURES.items() for c in f.get("published_checks", [])],
    ids=[f"{n}-{c['what']}" for n, f in FIXTURES.items() for c in f.get("published_checks", [])],
)
def test_published_figures(name, check):
    # each figure as published (fixture 'published' names the page), within its rounding
    got = _figure(model(name), check["what"])
    assert abs(got - check["value"]) <= check["within"], (check["text"], got)


def test_config_variants_of_the_same_checkpoint_agree():
    # THUDM/glm-4-9b-chat ships a remote-code config (chatglm: num_layers, padded_vocab_size,
    # kv_channels, multi_query_group_num, seq_length) and an HF-native one (glm)
    f = FIXTURES["chatglm"]
    remote, native = F.load_hf_config(f["config"]), F.load_hf_config(f["config_hf_native"])
    assert remote.values == native.values
    assert remote.context_limit == native.context_limit == 131072
    assert remote.context_source == "seq_length 131,072"


# ----------------------------------------------------------------------------- KV by hand
@pytest.mark.parametrize(
    ("name", "inputs", "expected", "hand"),
    [
        ("qwen3_8b", {}, 147456, "GQA: 2 x 36 layers x 8 KV heads x 128 x 2 B"),
        ("cohere", {}, 1310720, "MHA: 2 x 40 x 64 heads x 128 x 2 B"),
        ("chatglm", {}, 40960, "multi_query_group_num 2: 2 x 40 x 2 x 128 x 2 B"),
        ("starcoder2", {}, 65536, "GQA 4 KV heads: 2 x 32 x 4 x 128 x 2 B (window aside)"),
        ("kimi_k2", {}, 70272, "MLA: 61 x (512 + 64) x 2 B"),
        (
            "deepseek_v32",
            {"index_kv_bytes": "fp8"},
            78080,
            "MLA + indexer key: 61 x ((512 + 64) x 2 B + 128 x 1 B)",
        ),
        (
            "glm_moe_dsa",
            {"index_kv_bytes": "bf16"},
            78 * (576 * 2 + 128 * 2),
            "MLA + indexer key in bf16: 78 x ((512 + 64) x 2 + 128 x 2)",
        ),
    ],
)
def test_kv_bytes_per_token_by_hand(name, inputs, expected, hand):
    m = model(name)
    q = m.evaluate("kv_bytes_per_token", kv_bytes="bf16", **inputs)
    assert q.to("byte/token").magnitude == expected, hand


@pytest.mark.parametrize(
    ("name", "global_layers", "local_layers", "window"),
    [
        ("cohere2", 8, 24, 4096),  # sliding_window_pattern 4: 3 local then 1 global
        ("llama4_scout", 12, 36, 8192),  # every 4th layer NoPE global, the rest chunked
        ("llama4_maverick", 12, 36, 8192),
    ],
)
def test_local_layers_cache_at_most_their_window(name, global_layers, local_layers, window):
    m = model(name)
    v = m.values
    assert (v["global_layers"], v["local_layers"], v["sliding_window"]) == (
        global_layers,
        local_layers,
        window,
    )
    per_layer = 2 * v["n_kv_heads"] * v["head_dim"] * 2  # bytes per token and layer, bf16
    seq = 100_000
    cache = m.evaluate("kv_cache_bytes", kv_bytes="bf16", seq_len=seq, batch=1)
    by_hand = per_layer * (global_layers * seq + local_layers * window)
    assert cache.to("byte").magnitude == by_hand


# ----------------------------------------------------------------------------- structure
def test_reading_cohere_as_llama_overcounts_it():
    # the trap: a Cohere config relabelled as Llama unties the head (Llama's default)
    # and counts two norms per layer: 13 % too many
    config = dict(FIXTURES["cohere"]["config"], model_type="llama")
    wrong = F.load_hf_config(config).values["params"]
    right = model("cohere").values["params"]
    assert wrong / right == pytest.approx(1.06, abs=0.01)


def test_shared_expert_of_its_own_width_and_its_gate():
    v = model("qwen2_moe").values  # shared_expert_intermediate_size 20480 = 8 x 2560
    assert (v["n_shared_experts"], v["moe_intermediate_size"]) == (8, 2560)
    assert "shared_expert_gate" in model("qwen2_moe").features


def test_llama4_moe_on_alternate_layers_with_a_shared_expert():
    mav, scout = model("llama4_maverick"), model("llama4_scout")
    assert (mav.values["moe_layers"], mav.values["dense_layers"]) == (24, 24)
    assert mav.values["intermediate_size"] == 16384  # intermediate_size_mlp
    assert scout.values["moe_layers"] == 48 and "dense_layers" not in scout.values
    assert scout.values["n_shared_experts"] == mav.values["n_shared_experts"] == 1


def test_dsa_indexer_parameters_per_layer():
    # HF DeepseekV32Indexer: wq_b 8192 x 1536, wk 128 x 7168, k_norm 2 x 128, weights_proj
    # 64 x 7168
    m = model("deepseek_v32")
    assert m.evaluate("indexer_params").magnitude == 13_959_424
    glm = model("glm_moe_dsa")  # 32 heads: 4096 x 2048 + 128 x 6144 + 256 + 32 x 6144
    assert glm.evaluate("indexer_params").magnitude == 9_371_904


def test_dsa_attention_is_bounded_by_top_k_and_the_indexer_reads_everything():
    m = model("deepseek_v32")
    short = m.evaluate("kv_read", kv_bytes="bf16", index_kv_bytes="fp8", avg_seq_len=1000)
    assert short.to("byte/token").magnitude == 1000 * 61 * (576 * 2 + 128)
    long = m.evaluate("kv_read", kv_bytes="bf16", index_kv_bytes="fp8", avg_seq_len=100_000)
    assert long.to("byte/token").magnitude == 61 * (2048 * 576 * 2 + 100_000 * 128)


def test_router_score_correction_bias_is_counted_where_the_checkpoint_stores_it():
    assert "router_bias" in model("kimi_k2").features  # topk_method noaux_tc
    assert "router_bias" not in model("deepseek").features


def test_multi_token_prediction_layers_are_noted_and_not_counted():
    for name in ("deepseek_v32", "glm_moe_dsa", "mimo"):
        m = model(name)
        assert any("multi-token-prediction" in n for n in m.notes), name
    mimo = model("mimo")
    assert mimo.values["params"] == FIXTURES["mimo"]["count"]["exact"]
    # counted apart: MiMo's MTP layer by hand from its remote code (fixture 'mtp')
    assert mimo.evaluate("mtp_params").magnitude == FIXTURES["mimo"]["mtp"]["params_each"]
    assert mimo.params_breakdown().apart[0].total == 210_790_400


# ----------------------------------------------------------------------------- unknown types
def test_unknown_model_type_with_recognisable_fields_is_read_with_its_assumptions():
    config = dict(FIXTURES["granite"]["config"], model_type="granite_next")
    m = F.load_hf_config(config)
    assert m.values["params"] == FIXTURES["granite"]["count"]["exact"]
    assert m.assumptions[0].startswith(
        "model_type 'granite_next' is not a declared family (did you mean 'granite' or "
        "'granitemoe'?): read by its fields as a Llama-style decoder"
    )
    # a misspelled family is read the same way, and the note names the family it resembles
    typo = F.load_hf_config(dict(FIXTURES["granite"]["config"], model_type="graniet"))
    assert "not a declared family (did you mean 'granite'" in typo.assumptions[0]
    moe = dict(FIXTURES["qwen2_moe"]["config"], model_type="qwen9_moe")
    read = F.load_hf_config(moe)
    assert read.is_moe and read.values["n_shared_experts"] == 8
    assert any("mixture of experts read from 'num_experts'" in a for a in read.assumptions)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        (
            "hybrid_override_pattern",
            "M-M*",
            "a hybrid layer pattern (Mamba / attention / MLP blocks)",
        ),
        ("mamba_d_state", 16, "Mamba layers"),
        ("linear_num_value_heads", 32, "linear-attention (Gated DeltaNet) layers"),
        ("index_topk", 2048, "a sparse-attention indexer"),
    ],
)
def test_unknown_model_type_with_layers_a_generic_reading_would_miscount(field, value, says):
    config = dict(FIXTURES["granite"]["config"], model_type="newthing", **{field: value})
    with pytest.raises(ConfigError) as info:
        F.load_hf_config(config)
    assert str(info.value) == (
        f"config: model_type 'newthing' is not a supported family and its field {field!r} "
        f"says it has {says}, which a reading by fields would count wrong"
    )


def test_unreadable_unknown_type_names_what_is_missing():
    with pytest.raises(ConfigError) as info:
        F.load_hf_config({"model_type": "mystery", "hidden_size": 4096})
    assert "unsupported model_type 'mystery'" in str(info.value)
    assert "lacks the fields of a decoder (hidden_size, num_hidden_layers" in str(info.value)


def test_refused_config_names_the_family_and_the_field():
    config = {k: v for k, v in FIXTURES["deepseek_v32"]["config"].items() if k != "index_topk"}
    with pytest.raises(ConfigError) as info:
        F.load_hf_config(config)
    assert str(info.value) == (
        "deepseek_v32 config: missing field 'index_topk' (cached tokens each query attends "
        "to); it has no default, so llmphys does not guess it"
    )
    glm = {k: v for k, v in FIXTURES["chatglm"]["config"].items() if k != "kv_channels"}
    with pytest.raises(ConfigError, match="chatglm config: missing field 'kv_channels'"):
        F.load_hf_config(glm)


# ----------------------------------------------------------------------------- hybrids
def test_mamba2_state_bytes_by_hand():
    # Nemotron-3-Nano: 23 Mamba-2 blocks of 64 heads x 64 x d_state 128 in float32
    # (mamba_ssm_cache_dtype), conv over 4096 + 2 x 8 x 128 = 6144 channels, K - 1 = 3 inputs
    # kept in bf16
    m = model("nemotron_h_nano")
    v = m.values
    assert (v["attention_layers"], v["ssm_layers"], v["moe_layers"]) == (6, 23, 23)
    assert v["ssm_state_bytes"] == 4
    state = m.evaluate("state_bytes_per_sequence", act_bytes="bf16")
    assert state.to("byte/sequence").magnitude == 23 * (64 * 64 * 128 * 4 + 6144 * 3 * 2)


def test_gated_deltanet_state_bytes_by_hand():
    # Qwen3-Next-80B-A3B: 36 DeltaNet layers, 32 value heads of a 128 x 128 state, conv over
    # 2 x 16 x 128 + 32 x 128 = 8192 channels, K = 4; no cache dtype in the config, so the
    # checkpoint's bf16 (reported)
    m = model("qwen3_next")
    assert m.values["ssm_state_bytes"] == 2
    assert any(a.startswith("mamba_ssm_dtype not given") for a in m.assumptions)
    state = m.evaluate("state_bytes_per_sequence", act_bytes="bf16")
    assert state.to("byte/sequence").magnitude == 36 * (32 * 128 * 128 * 2 + 8192 * 3 * 2)
    # Qwen3.5 gives its state dtype (mamba_ssm_dtype float32)
    assert model("qwen3_5_moe").values["ssm_state_bytes"] == 4


def test_jamba_layout_and_mamba1_state():
    m = model("jamba")
    v = m.values
    # attention every 8th layer from 4, experts every 2nd from 1 (attn/expert_layer_period)
    assert (v["attention_layers"], v["ssm_layers"], v["moe_layers"], v["dense_layers"]) == (
        4,
        28,
        16,
        16,
    )
    state = m.evaluate("state_bytes_per_sequence", act_bytes="bf16", ssm_state_bytes="fp32")
    assert state.to("byte/sequence").magnitude == 28 * (8192 * 16 * 4 + 8192 * 3 * 2)


def test_attention_free_state_by_hand():
    # mamba-2.8b: 64 Mamba-1 blocks of d_inner 5120, d_state 16, conv 4; its checkpoint is
    # float32 and names no state dtype, so the state is kept in float32 (reported)
    m = model("mamba")
    assert m.attention == "none" and m.values["ssm_state_bytes"] == 4
    state = m.evaluate("state_bytes_per_sequence", act_bytes="bf16")
    assert state.magnitude == 64 * (5120 * 16 * 4 + 5120 * 3 * 2)
    # Mamba-Codestral-7B: 64 Mamba-2 blocks of 128 heads x 64 x d_state 128, 8 groups
    m2 = model("mamba2")
    state2 = m2.evaluate("state_bytes_per_sequence", act_bytes="bf16")
    assert state2.magnitude == 64 * (128 * 64 * 128 * 2 + (8192 + 2 * 8 * 128) * 3 * 2)
    # no KV cache: the cache is the batch's states, whatever the context
    f = m2.formula("kv_cache_bytes")
    assert f.name == "kv_cache_bytes_ssm" and "seq_len" not in f.input_names
    cache = m2.evaluate("kv_cache_bytes", act_bytes="bf16", batch=8)
    assert cache.magnitude == 8 * state2.magnitude


def test_attention_free_context_has_no_memory_limit():
    s = F.Scenario(model=model("mamba2"), hardware="h100-sxm", batch=8)
    context = s.largest_context()
    assert context.binds == "none" and context.value.magnitude == float("inf")
    assert context.text == "no limit"
    assert "no layer keeps a KV cache" in context.message
    # the batch is what memory bounds: (85.5 GB - 16.3 GB of weights and workspace) / 138 MB
    assert 450 < s.solve("batch").value.magnitude < 550
    # Mamba-2 splits by heads over tensor parallelism: 128 heads, tp up to 128
    from llmphys.sizing.layouts import tensor_parallel_degrees

    assert tensor_parallel_degrees(model("mamba2"), 8) == [1, 2, 4, 8]
    with pytest.raises(F.InputError, match="each tensor-parallel rank holds at least one"):
        model("mamba2").evaluate("params_per_gpu", tp=256, pp=1)


def test_hybrid_cache_is_attention_kv_per_token_plus_state_per_sequence():
    m = model("nemotron_h_nano")
    per_token = m.evaluate("kv_bytes_per_token", kv_bytes="bf16").to("byte/token").magnitude
    assert per_token == 6 * 2 * 2 * 128 * 2  # only the 6 attention blocks cache K and V
    state = m.evaluate("state_bytes_per_sequence", act_bytes="bf16").magnitude
    cache = m.evaluate("kv_cache_bytes", kv_bytes="bf16", act_bytes="bf16", seq_len=8192, batch=4)
    assert cache.to("byte").magnitude == per_token * 8192 * 4 + 4 * state


def test_on_a_hybrid_context_is_nearly_free_and_state_bounds_the_batch():
    hybrid, dense = model("nemotron_h_nano"), model("qwen3_8b")
    kv = {"kv_bytes": "bf16"}
    # a token of context costs a hybrid 24x less than a dense 8B model
    ratio = (
        dense.evaluate("kv_bytes_per_token", **kv) / hybrid.evaluate("kv_bytes_per_token", **kv)
    ).magnitude
    assert ratio == 24
    # at a 4k context each sequence's fixed state weighs more than its KV cache
    state = hybrid.evaluate("state_bytes_per_sequence", act_bytes="bf16").magnitude
    assert state > 4096 * hybrid.evaluate("kv_bytes_per_token", **kv).magnitude
    s = F.Scenario(model=hybrid, hardware="h100-sxm", weights="fp8", batch=1)
    context = s.largest_context()
    assert context.memory.value.magnitude > 1_000_000  # memory would hold a million tokens
    batch = s.solve("batch")  # 4096 in / 1024 out: 80 MB a sequence, half of it state
    assert 500 < batch.value.magnitude < 1000


@pytest.mark.parametrize(
    "name",
    ["nemotron_h_nano", "nemotron_h_8b", "qwen3_next", "jamba", "deepseek_v32", "llama4_scout"],
)
def test_scenario_end_to_end(name):
    # memory, largest context and batch, decode speed: each a number, on one and eight GPUs
    for tp in (1, 8):
        s = F.Scenario(model=model(name), hardware="h200", weights="fp8", tp=tp, batch=16)
        assert s.evaluate("memory_per_gpu").to("GB").magnitude > 0
        assert s.evaluate("tokens_per_second_per_user").magnitude > 0
        assert s.evaluate("ttft").to("s").magnitude > 0
        try:
            context = s.largest_context()
            found = s.solve("batch")
        except F.InfeasibleError:  # the weights alone exceed one GPU
            assert s.evaluate("memory_per_gpu") > s.capacity
            continue
        assert context.value.magnitude >= 1
        fits = s.replace(batch=int(found.value.magnitude))
        assert fits.evaluate("memory_per_gpu") <= s.capacity


@pytest.mark.parametrize("name", FIXTURES)
def test_per_gpu_counts_at_one_gpu_are_the_architectures(name):
    m = model(name)
    for figure, total in (("params_per_gpu", "params"), ("active_params_per_gpu", "active_params")):
        layout = {k: 1 for k in ("tp", "pp", "ep") if k in m.formula(figure).input_names}
        assert m.evaluate(figure, **layout).magnitude == m.values[total]


def test_hybrid_layout_splits_the_state_by_heads():
    m = model("nemotron_h_nano")
    one = F.Scenario(model=m, hardware="h100-sxm", weights="bf16", batch=64, prompt_len=1024)
    four = one.replace(tp=4)
    state = m.evaluate("state_bytes_per_sequence", act_bytes="bf16").magnitude
    kv = m.evaluate("kv_bytes_per_token", kv_bytes="bf16").magnitude  # 2 KV heads: 2 GPUs
    by_hand = 64 * ((1024 + 1024) * kv / 2 + state / 4)
    assert four.evaluate("kv_cache_per_gpu").to("byte").magnitude == pytest.approx(by_hand)


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("nemotron_h_nano", "nemotron_h"),
        ("deepseek_v32", "deepseek_v32"),
        ("llama4_scout", "llama4"),
    ],
)
def test_cli_scenario_reads_a_hybrid_dsa_or_llama4_config(tmp_path, capsys, name, title):
    from llmphys.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps(FIXTURES[name]["config"]))
    code = main(["scenario", "--model", str(path), "--tp", "8", "--batch", "8", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["title"].startswith(f"{title} on 8 x NVIDIA H100")
    s = F.Scenario(model=model(name), hardware="h100-sxm", tp=8, batch=8)
    for figure in ("weights_per_gpu", "kv_cache_per_gpu", "memory_per_gpu"):
        want = s.evaluate(figure).to("GB").magnitude
        assert out["figures"][figure]["value"]["value"] == pytest.approx(want), figure
