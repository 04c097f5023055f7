"""seed_vs_real: the seed's numbers (reproduced exactly) beside the real architecture's, with the
assumption that differs named on each row."""

from __future__ import annotations

import pytest

import llmphys as F
from llmphys.compare import QUANTITIES, seed_formula
from llmphys.errors import UnknownNameError
from llmphys.units import Q_


@pytest.fixture(scope="module")
def llama():
    return F.seed_vs_real("llama-3.1-70b", seq_len=10000)


def test_rows_in_order(llama):
    assert [r.formula for r in llama] == [name for _, name, _ in QUANTITIES]
    assert len(llama) == 7
    assert llama.model == "Llama-3.1-70B"
    assert llama.conditions == "context 10,000 tokens, batch 1, weights bf16, KV bf16"


def test_llama_70b_kv_is_the_seeds_26_gb_beside_the_real_3_3_gb(llama):
    # seed, Memory Hierarchy / KV Cache: 1 * 10000 * 80 * 8192 * 2 * 2 = 26.2 GB
    # DESIGN.md: "its 10K-token KV cache is 3.3 GB, not 26 GB"
    row = llama["kv_cache_bytes"]
    assert row.seed == Q_(10000 * 80 * 8192 * 2 * 2, "B")
    assert row.real == Q_(10000 * 80 * 8 * 128 * 2 * 2, "B")
    assert round(row.seed.to("GB").magnitude, 1) == 26.2
    assert round(row.real.to("GB").magnitude, 2) == 3.28
    assert row.ratio == 8
    assert row.seed_assumption == "MHA: K and V 8,192 wide (= hidden) in all 80 layers"
    assert row.real_assumption == "GQA, 8 KV heads x 128 (64 query heads)"


def test_seed_column_reproduces_the_seed_formula_exactly(llama):
    # the seed's own KV formula (layers * hidden * 2 * bytes), not adjusted
    per_token = llama["kv_bytes_per_token"]
    assert per_token.seed_formula is F.kv_bytes_per_token_mha
    assert per_token.seed == Q_(80 * 8192 * 2 * 2, "B/token")
    # total VRAM differs by the KV cache only
    vram = llama["total_vram"]
    assert vram.seed - vram.real == llama["kv_cache_bytes"].seed - llama["kv_cache_bytes"].real


def test_real_column_is_the_models_variant():
    ds = F.seed_vs_real("deepseek-v3", seq_len=32768, batch=2, kv_precision="fp8")
    row = ds["kv_cache_bytes"]
    assert row.real_formula is F.models["deepseek-v3"].formula("kv_cache_bytes")
    assert row.real == Q_(61 * 576 * 1 * 32768 * 2, "B")  # MLA latent, FP8, 2 sequences
    assert row.seed == Q_(61 * 2 * 7168 * 1 * 32768 * 2, "B")
    assert row.real_assumption == "MLA, latent 512 + rotary key 64 per layer (128 heads)"
    assert ds.conditions == "context 32,768 tokens, batch 2, weights bf16, KV fp8"


def test_moe_total_used_as_active_is_named():
    row = F.seed_vs_real("deepseek-v3")["weight_read"]
    assert row.seed_assumption == "all 671,026,419,200 parameters active"
    assert row.real_assumption == (
        "36,625,618,432 active (k of E experts, embedding lookup excluded)"
    )
    assert row.ratio == pytest.approx(671026419200 / 36625618432)


def test_sliding_window_named_on_gemma():
    c = F.seed_vs_real("gemma-3-27b", seq_len=131072)
    row = c["kv_cache_bytes"]
    assert row.seed_assumption.endswith("in all 62 layers, no window")
    assert "52 of 62 layers slide over 1,024 tokens" in row.real_assumption
    per_layer_token = 2 * 16 * 128 * 2
    assert row.real == Q_(per_layer_token * (10 * 131072 + 52 * 1024), "B")
    assert row.seed == Q_(2 * 5376 * 2 * 62 * 131072, "B")
    per_token = c["kv_bytes_per_token"]
    assert per_token.real_formula.name == "kv_bytes_per_token_windowed"
    assert per_token.real * Q_(131072, "token") == row.real
    # tied embeddings, dense: every weight is active, the row says so
    assert not c["weight_read"].differs


def test_attention_width_named_where_heads_do_not_tile_hidden():
    row = F.seed_vs_real("qwen3-235b-a22b")["decode_flops"]
    assert row.seed_assumption.endswith("attention 4,096 wide (= hidden) over the whole context")
    assert row.real_assumption.endswith("attention 64 heads x 128 = 8,192")


def test_table_and_markdown(llama):
    text = str(llama)
    lines = text.splitlines()
    assert lines[0] == (
        "Llama-3.1-70B, context 10,000 tokens, batch 1, weights bf16, KV bf16: the seed's "
        "simplifications vs the model"
    )
    assert lines[1].split() == ["quantity", "seed", "real", "seed/real", "what", "differs"]
    assert "26.21 GB" in text and "3.277 GB" in text and "8x" in text
    md = llama._repr_markdown_()
    assert md.splitlines()[2] == "| quantity | seed | real | seed/real | what differs |"
    assert md.count("\n| ") == 8


def test_unknown_row():
    with pytest.raises(UnknownNameError) as info:
        F.seed_vs_real("llama-3.1-8b")["kv_cache"]
    assert str(info.value) == (
        "no row for 'kv_cache'; did you mean 'kv_cache_bytes'? (rows: kv_bytes_per_token, "
        "kv_cache_bytes, total_vram, weight_read, bytes_per_token, decode_flops, prefill_flops)"
    )


def test_a_loaded_config_compares_too(tmp_path):
    m = F.load_hf_config(
        {
            "model_type": "mistral",
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "vocab_size": 32000,
            "sliding_window": 4096,
        }
    )
    c = F.seed_vs_real(m, seq_len=32768)
    assert c["kv_cache_bytes"].ratio == pytest.approx(4 * 32768 / 4096)


def test_seed_formula_swaps_only_the_kv_width():
    assert seed_formula("kv_bytes_per_token") is F.kv_bytes_per_token_mha
    assert seed_formula("decode_flops") is F.decode_flops
    assert seed_formula("kv_cache_bytes").replacements == {
        "kv_bytes_per_token": "kv_bytes_per_token_mha"
    }
