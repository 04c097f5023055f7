"""Parameter counts derived from the architecture: exact checkpoint counts, active counts under a
stated convention, each piece a formula, and the per-component breakdown read off them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

import llmphys as F

CASES = json.loads((Path(__file__).parent / "cases" / "architectures.json").read_text())
MODELS = {c["id"]: c for c in CASES["models"]}
MOE = [c for c in CASES["models"] if "published_active" in c]


def symbols(*names: str) -> list[sympy.Symbol]:
    return [F.glossary.symbol(n) for n in names]


# ----------------------------------------------------------------------------- acceptance
@pytest.mark.parametrize("case", CASES["models"], ids=list(MODELS))
def test_total_within_a_tenth_of_a_percent_of_the_exact_count(case):
    # models.md, "Published parameter counts": exact counts from checkpoint tooling
    derived = F.models[case["id"]].values["params"]
    assert abs(derived - case["exact_params"]) <= 0.001 * case["exact_params"], case["source"]
    assert derived == case["exact_params"]  # in fact exact, to the parameter


@pytest.mark.parametrize("case", MOE, ids=[c["id"] for c in MOE])
def test_active_within_three_percent_of_the_published_figure(case):
    # our convention (active_param_count): the weights a token multiplies with, the output
    # head counted, the input-embedding lookup table not (OpenAI's convention)
    m = F.models[case["id"]]
    active = m.values["active_params"]
    assert abs(active / case["published_active"] - 1) < 0.03, case["source"]


@pytest.mark.parametrize("case", MOE, ids=[c["id"] for c in MOE])
def test_active_under_each_vendors_own_convention(case):
    m = F.models[case["id"]]
    with_embedding = m.evaluate("active_param_count_with_embedding").magnitude
    convention = case["vendor_convention"]
    if convention == "with_embedding":
        value = with_embedding
    elif convention == "without_embedding":
        value = m.values["active_params"]
    else:  # Qwen does not say: both readings are within 3%
        assert abs(with_embedding / case["published_active"] - 1) < 0.03
        value = m.values["active_params"]
    assert abs(value / case["published_active"] - 1) < 0.03, case["source"]


def test_published_active_figures():
    def active(name, with_embedding=False):
        m = F.models[name]
        if with_embedding:
            return m.evaluate("active_param_count_with_embedding").magnitude
        return m.values["active_params"]

    # Mistral: "12.9B used per token" (everything used per token)
    assert round(active("mixtral-8x7b", True) / 1e9, 1) == 12.9
    # OpenAI model card: active 5.13B (unembedding counted, embedding not)
    assert round(active("gpt-oss-120b") / 1e9, 2) == 5.13
    # DeepSeek: 37B; Qwen: 22B
    assert round(active("deepseek-v3") / 1e9) == 37
    assert round(active("qwen3-235b-a22b", True) / 1e9) == 22


def test_dense_model_active_is_all_but_the_input_table():
    m = F.models["llama-3.1-8b"]
    table = m.evaluate("embedding_params").magnitude
    assert m.values["params"] - m.values["active_params"] == table == 128256 * 4096
    tied = F.models["gemma-3-27b"]
    assert tied.values["active_params"] == tied.values["params"]


# ----------------------------------------------------------------------------- formulas
def test_llama_param_count_reads_as_the_layers_sum():
    n_emb, V, d, L, n_h, n_kv, d_h, d_ff, n_norm = symbols(
        "embedding_matrices",
        "vocab_size",
        "hidden",
        "layers",
        "n_heads",
        "n_kv_heads",
        "head_dim",
        "intermediate_size",
        "norms_per_layer",
    )
    expected = (
        n_emb * V * d
        + L * (d * n_h * d_h + 2 * d * n_kv * d_h + n_h * d_h * d + 3 * d * d_ff + n_norm * d)
        + d
    )
    assert sympy.expand(F.param_count.expanded - expected) == 0


def test_attention_kv_projections_produce_the_cached_width():
    # k_proj and v_proj together are hidden x kv_width: what kv_bytes_per_token caches
    d, n_h, d_h = symbols("hidden", "n_heads", "head_dim")
    w_kv = F.kv_width.expanded
    assert sympy.expand(F.attention_params.expanded - (2 * d * n_h * d_h + d * w_kv)) == 0


def test_mla_params_per_layer_of_deepseek_v3():
    # q_a 7168x1536, q_a_norm 1536, q_b 1536x128x192, kv_a 7168x576, kv_a_norm 512,
    # kv_b 512x128x256, o 128x128x7168
    expected = (
        7168 * 1536 + 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 + 512 * 128 * 256
        + 128 * 128 * 7168
    )  # fmt: skip
    m = F.models["deepseek-v3"]
    assert m.evaluate("attention_params").magnitude == expected == 187107328
    assert m.formula("attention_params").name == "mla_attention_params"


def test_gpt_oss_attention_biases_and_sinks():
    m = F.models["gpt-oss-120b"]
    plain = F.attention_params(hidden=2880, n_heads=64, n_kv_heads=8, head_dim=64).magnitude
    biases = 4096 + 512 + 512 + 2880  # q, k, v, o
    sinks = 64
    assert m.evaluate("attention_params").magnitude == plain + biases + sinks
    assert m.formula("attention_params").name == "attention_params_sinks"


def test_moe_active_drops_exactly_the_idle_experts():
    m = F.models["mixtral-8x7b"]
    idle = m.evaluate("idle_expert_params").magnitude
    assert idle == 32 * (8 - 2) * 3 * 4096 * 14336
    lookup = m.evaluate("embedding_lookup_params").magnitude
    assert m.values["params"] - m.values["active_params"] == idle + lookup


def test_deepseek_total_has_first_k_dense_layers_and_router_biases():
    m = F.models["deepseek-v3"]
    stack = m.formula("ffn_stack_params")
    assert stack.name == "mixed_ffn_stack_params"
    expected = 3 * 3 * 7168 * 18432 + 58 * ((256 + 1) * 3 * 7168 * 2048 + 7168 * 256 + 256)
    assert m.evaluate(stack).magnitude == expected


def test_variants_are_not_registered_over_the_base():
    before = F.param_count.expanded
    F.models["deepseek-v3"].formula("param_count")
    assert F.param_count.expanded == before and F.param_count.replacements == {}


# ----------------------------------------------------------------------------- breakdown
@pytest.mark.parametrize("name", list(MODELS))
def test_breakdown_sums_to_the_formulas(name):
    m = F.models[name]
    b = m.params_breakdown()
    assert sum(r.total for r in b.rows) == b.total == m.values["params"]
    assert sum(r.active for r in b.rows) == b.active == m.values["active_params"]


def test_breakdown_counts_are_read_off_the_formula():
    b = F.models["deepseek-v3"].params_breakdown()
    rows = {r.component: r for r in b.rows}
    experts = rows["experts"]
    assert (experts.each, experts.count, experts.active_count) == (44040192, 58 * 257, 58 * 9)
    assert experts.count_text == "L_MoE · (E + E_s)"
    assert experts.active_count_text == "L_MoE · (k + E_s)"
    assert rows["embedding table and output head"].count == 2
    assert rows["embedding table and output head"].active_count == 1
    assert rows["dense feed-forward blocks"].count_text == "L_dense"
    assert rows["final norm"].each == 7168
    assert list(rows) == [
        "embedding table and output head",
        "attention",
        "norms",
        "dense feed-forward blocks",
        "experts",
        "routers",
        "final norm",
    ]


def test_breakdown_prints_a_table():
    text = str(F.models["llama-3.1-8b"].params_breakdown())
    assert text.splitlines()[0] == "Llama-3.1-8B: parameters by component"
    assert "8,030,261,248" in text and "7,504,924,672" in text
    assert "attention" in text and "L = 32" in text
    md = F.models["llama-3.1-8b"].params_breakdown()._repr_markdown_()
    assert md.splitlines()[2] == (
        "| component | each | count | active count | total | active | from config fields |"
    )
    # each number names the config.json fields it came from (issue 18)
    assert "| attention | 41,943,040 | L = 32 | L = 32 | 1,342,177,280 | 1,342,177,280 | " in md
    assert "num_attention_heads, num_key_value_heads, head_dim (default), hidden_size |" in md


def test_mtp_modules_are_counted_apart_and_the_indexer_on_its_own():
    b = F.models["deepseek-v3.2"].params_breakdown()
    rows = {r.component: r for r in b.rows}
    # the indexer split off the attention: HF DeepseekV32Indexer, 13,959,424 per layer
    assert rows["sparse-attention indexer"].each == 13_959_424
    assert rows["attention"].each == F.models["deepseek-v3"].params_breakdown().rows[1].each
    (mtp,) = b.apart
    assert mtp.component == "multi-token prediction (not in the total)"
    assert sum(r.total for r in b.rows) == b.total  # the MTP module stays out of the total
    assert "num_nextn_predict_layers" in mtp.fields
    # DeepSeek-V3 (README: '671B main model + 14B MTP module = 685B on the hub'): one module
    # is an expert layer, a 2d x d projection and 3 more norms, 11.61B, and the checkpoint
    # stores a copy of the embedding and of the head in it (1.85B): 684.49B in all, before the
    # FP8 block scales (one float per 128 x 128 block, about 0.04B)
    v3 = F.models["deepseek-v3"]
    module = v3.evaluate("mtp_params").magnitude
    embedding_and_head = 2 * 129280 * 7168
    hub = v3.values["params"] + module + embedding_and_head
    assert 684.4e9 < hub < 684.5e9 and 684.5e9 < hub + hub / (128 * 128) < 685e9
