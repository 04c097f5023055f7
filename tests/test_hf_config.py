"""load_hf_config: every supported family from a hand-written fixture config, defaults reported,
and every refusal with its exact message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmphys as F
from llmphys.errors import ConfigError
from llmphys.hf_config import SUPPORTED

from support import config_fixture

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures" / "configs"
# hand counts of the fixtures, with the sums written out (tests/cases/architectures.json)
CASES = {
    c["file"]: c
    for c in json.loads((TESTS / "cases" / "architectures.json").read_text())["fixtures"]
}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def load(name: str, **changes) -> F.presets.Model:
    config = {**fixture(name), **changes}
    return F.load_hf_config({k: v for k, v in config.items() if v is not DROP})


DROP = object()


def test_a_fixture_for_every_supported_family():
    # hand-written fixtures here; real configs of the other families in tests/fixtures/hf
    families = {fixture(p.name)["model_type"] for p in FIXTURES.glob("*.json")}
    for path in (TESTS / "fixtures" / "hf").glob("*.json"):
        held = json.loads(path.read_text())
        for config in (held["config"], held.get("config_hf_native", {})):
            families.add(config.get("model_type"))
            families.add(config.get("text_config", {}).get("model_type"))
    assert set(SUPPORTED) <= families
    assert len(SUPPORTED) >= 30


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_fixture_counts(case):
    # tests/cases/architectures.json: each count summed by hand, layer by layer
    m = F.load_hf_config(FIXTURES / case["file"])
    assert m.values["params"] == case["params"], case["hand_count"]
    assert m.values["active_params"] == case["active"], case["hand_count"]
    assert m.attention == case["attention"]


def test_path_to_a_folder_reads_its_config_json(tmp_path):
    (tmp_path / "config.json").write_text((FIXTURES / "llama.json").read_text())
    assert F.load_hf_config(tmp_path).values == F.load_hf_config(FIXTURES / "llama.json").values
    assert F.load_hf_config(str(tmp_path / "config.json")).values["layers"] == 32


def test_name_comes_from_the_config_or_the_caller():
    m = F.load_hf_config(FIXTURES / "llama.json")
    assert m.name == m.hf_id == "meta-llama/Llama-3.1-8B"
    assert F.load_hf_config(fixture("llama.json"), name="mine").name == "mine"


# ----------------------------------------------------------------------------- family keys
def test_llama_values_and_the_reported_head_dim():
    m = F.load_hf_config(FIXTURES / "llama.json")
    assert dict(m.values) == {
        "hidden": 4096,
        "layers": 32,
        "n_heads": 32,
        "vocab_size": 128256,
        "n_kv_heads": 8,
        "head_dim": 128,
        "intermediate_size": 14336,
        "norms_per_layer": 2,
        "embedding_matrices": 2,
        "params": 8030261248,
        "active_params": 7504924672,
    }
    assert m.assumptions == (
        "head_dim not given: 128 = hidden_size / num_attention_heads = 4,096 / 32 (as HF "
        "transformers LlamaConfig derives it)",
    )
    assert m.notes == ("checkpoint dtype: bfloat16",)
    assert m.family == "llama" and m.features == ("explicit_heads", "output_head")


def test_every_default_applied_is_reported():
    m = F.load_hf_config(
        {
            "model_type": "llama",
            "hidden_size": 2048,
            "intermediate_size": 8192,
            "num_hidden_layers": 16,
            "num_attention_heads": 32,
            "vocab_size": 128256,
        }
    )
    assert m.assumptions == (
        "num_key_value_heads not given: 32 = num_attention_heads, multi-head attention (as HF "
        "transformers LlamaConfig derives it)",
        "head_dim not given: 64 = hidden_size / num_attention_heads = 2,048 / 32 (as HF "
        "transformers LlamaConfig derives it)",
        "tie_word_embeddings not given: False (default of HF transformers LlamaConfig)",
        "attention_bias not given: False (default of HF transformers LlamaConfig)",
        "max_position_embeddings not given: no context limit of the model's own is applied "
        "(memory alone limits the context)",
        "torch_dtype not given: weights taken as stored in bf16",
    )
    assert m.attention == "MHA"


def test_mistral_window_on_every_layer():
    m = F.load_hf_config(FIXTURES / "mistral.json")
    v = m.values
    assert (v["sliding_window"], v["local_layers"], v["global_layers"]) == (4096, 32, 0)
    assert "sliding_window" in m.features


def test_mistral_without_the_key_gets_the_class_default_window_reported():
    m = load("mistral.json", sliding_window=DROP)
    assert m.values["sliding_window"] == 4096
    assert (
        "sliding_window not given: 4,096 on every layer (default of HF transformers MistralConfig)"
    ) in m.assumptions


def test_mistral_with_a_null_window_has_none():
    m = load("mistral.json", sliding_window=None)
    assert not m.has_sliding_window and "sliding_window" not in m.values


def test_mixtral_expert_width_is_its_intermediate_size():
    v = F.load_hf_config(FIXTURES / "mixtral.json").values
    assert (v["n_experts"], v["experts_per_token"], v["moe_intermediate_size"]) == (8, 2, 14336)
    assert (v["n_shared_experts"], v["moe_layers"]) == (0, 32)
    assert "intermediate_size" not in v and "dense_layers" not in v


def test_qwen2_has_qkv_biases_and_an_optional_window():
    m = F.load_hf_config(FIXTURES / "qwen2.json")
    assert "qkv_bias" in m.features and not m.has_sliding_window
    windowed = load("qwen2.json", use_sliding_window=True, max_window_layers=20)
    assert (windowed.values["local_layers"], windowed.values["global_layers"]) == (8, 20)
    assert windowed.values["sliding_window"] == 131072


def test_qwen3_moe_explicit_head_dim_and_qk_norm():
    m = F.load_hf_config(FIXTURES / "qwen3_moe.json")
    v = m.values
    assert v["n_heads"] * v["head_dim"] == 4096 != v["hidden"]
    assert m.features == ("explicit_heads", "qk_norm", "moe", "output_head")


def test_qwen3_moe_dense_only_layers():
    m = load("qwen3_moe.json", mlp_only_layers=[0, 1])
    v = m.values
    assert (v["dense_layers"], v["moe_layers"], v["intermediate_size"]) == (2, 46, 6144)
    assert "dense_layers" in m.features
    sparse = load("qwen3_moe.json", decoder_sparse_step=2)
    assert (sparse.values["dense_layers"], sparse.values["moe_layers"]) == (24, 24)


def test_deepseek_v2_lite_mla_without_query_compression():
    m = F.load_hf_config(FIXTURES / "deepseek_v2.json")
    v = m.values
    assert m.attention == "MLA" and "mla_direct_query" in m.features
    assert "q_lora_rank" not in v and "n_kv_heads" not in v and "head_dim" not in v
    assert (v["dense_layers"], v["moe_layers"], v["n_shared_experts"]) == (1, 26, 2)
    assert "router_bias" not in m.features  # topk_method greedy: no correction bias


def test_deepseek_v3_notes_what_is_not_counted():
    m = F.load_hf_config(FIXTURES / "deepseek_v3.json")
    assert m.notes == (
        "router: one e_score_correction_bias per routed expert (counted: the checkpoint stores it)",
        "1 multi-token-prediction layer(s) (num_nextn_predict_layers) are not part of the main "
        "model and are not counted in it (mtp_params counts them apart)",
        "num_key_value_heads is not used: MLA caches a latent, not per-head keys and values",
    )


def test_gpt_oss_alternating_windows_reported_and_explicit():
    m = F.load_hf_config(FIXTURES / "gpt_oss.json")
    assert (m.values["local_layers"], m.values["global_layers"]) == (12, 12)
    assert m.assumptions == (
        "layer_types not given: every 2nd layer global, the others sliding (12 of 24; "
        "HF transformers GptOssConfig)",
    )
    types = ["sliding_attention", "full_attention"] * 12
    explicit = load("gpt_oss.json", layer_types=types)
    assert explicit.assumptions == () and explicit.values["local_layers"] == 12
    assert "experts stored in MXFP4 (4.25 bits per parameter), the rest in BF16" in m.notes


def test_gpt_oss_takes_either_experts_per_token_key():
    a = load("gpt_oss.json", num_experts_per_tok=DROP)
    b = load("gpt_oss.json", experts_per_token=DROP)
    assert a.values == b.values


def test_gemma2_alternates_local_and_global():
    v = F.load_hf_config(FIXTURES / "gemma2.json").values
    assert (v["local_layers"], v["global_layers"], v["sliding_window"]) == (21, 21, 4096)
    assert v["embedding_matrices"] == 1 and v["norms_per_layer"] == 4


def test_gemma3_five_local_to_one_global():
    m = F.load_hf_config(FIXTURES / "gemma3.json")
    v = m.values
    assert (v["local_layers"], v["global_layers"], v["sliding_window"]) == (52, 10, 1024)
    assert "text model only (text_config): the vision tower is not counted" in m.notes
    small = F.load_hf_config(FIXTURES / "gemma3_text.json")
    assert (small.values["local_layers"], small.values["global_layers"]) == (22, 4)
    assert small.attention == "MQA"


def test_gemma3_pattern_default_is_reported():
    text = {k: v for k, v in fixture("gemma3_text.json").items() if k != "sliding_window_pattern"}
    m = F.load_hf_config(text)
    assert m.assumptions == (
        "attention_bias not given: False (default of HF transformers Gemma3TextConfig)",
        "sliding_window_pattern not given: 6, every 6th layer global (default of HF "
        "transformers Gemma3TextConfig)",
    )


def test_layer_types_overrides_the_pattern():
    types = ["sliding_attention"] * 13 + ["full_attention"] * 13
    m = load("gemma3_text.json", layer_types=types)
    assert (m.values["local_layers"], m.values["global_layers"]) == (13, 13)
    no_window = load("gemma3_text.json", layer_types=["full_attention"] * 26)
    assert not no_window.has_sliding_window


# ----------------------------------------------------------------------------- refusals
def test_missing_num_hidden_layers_is_named():
    with pytest.raises(ConfigError) as info:
        load("llama.json", num_hidden_layers=DROP)
    assert str(info.value) == (
        "llama config: missing field 'num_hidden_layers' (number of transformer layers); it has "
        "no default, so llmphys does not guess it"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_missing_num_hidden_layers_in_every_family(name):
    config = fixture(name)
    holder = config.get("text_config", config)
    del holder["num_hidden_layers"]
    with pytest.raises(ConfigError, match="missing field 'num_hidden_layers'"):
        F.load_hf_config(config)


def test_unknown_model_type_is_named_with_the_supported_ones():
    with pytest.raises(ConfigError) as info:
        F.load_hf_config({"model_type": "falcon", "hidden_size": 4096})
    assert str(info.value) == (
        f"config: unsupported model_type 'falcon' (supported: {', '.join(SUPPORTED)}), and its "
        "config lacks the fields of a decoder (hidden_size, num_hidden_layers, "
        "num_attention_heads, vocab_size) to read it by"
    )


def test_misspelt_model_type_gets_a_suggestion():
    with pytest.raises(ConfigError) as info:
        F.load_hf_config({"model_type": "lama"})
    assert str(info.value).startswith(
        "config: unsupported model_type 'lama'; did you mean 'llama'? (supported: "
    )


def test_missing_model_type():
    with pytest.raises(ConfigError) as info:
        load("llama.json", model_type=DROP)
    assert str(info.value) == (
        f"config: missing field 'model_type' (the architecture family); supported: "
        f"{', '.join(SUPPORTED)}"
    )


@pytest.mark.parametrize(
    ("file", "field", "what"),
    [
        ("llama.json", "hidden_size", "model width"),
        ("llama.json", "vocab_size", "vocabulary size"),
        ("llama.json", "intermediate_size", "width of the dense feed-forward block"),
        ("mixtral.json", "num_local_experts", "routed experts per layer"),
        ("qwen3_moe.json", "num_key_value_heads", "number of key/value heads"),
        ("qwen3_moe.json", "moe_intermediate_size", "width of one expert's feed-forward block"),
        ("deepseek_v3.json", "kv_lora_rank", "MLA key/value latent width"),
        (
            "deepseek_v3.json",
            "first_k_dense_replace",
            "leading layers with a dense feed-forward block",
        ),
        ("gpt_oss.json", "head_dim", "width of one attention head"),
        ("gpt_oss.json", "sliding_window", "attention window of the local layers"),
        ("gemma2.json", "head_dim", "width of one attention head"),
    ],
)
def test_missing_sizes_are_never_guessed(file, field, what):
    with pytest.raises(ConfigError) as info:
        load(file, **{field: DROP})
    family = fixture(file)["model_type"]
    assert str(info.value) == (
        f"{family} config: missing field {field!r} ({what}); it has no default, so llmphys "
        "does not guess it"
    )


def test_q_lora_rank_must_be_present_even_if_null():
    with pytest.raises(ConfigError) as info:
        load("deepseek_v2.json", q_lora_rank=DROP)
    assert str(info.value) == (
        "deepseek_v2 config: missing field 'q_lora_rank' (MLA query compression width; null is "
        "allowed); it has no default, so llmphys does not guess it"
    )


def test_gemma3_without_text_config():
    with pytest.raises(ConfigError) as info:
        load("gemma3.json", text_config=DROP)
    assert str(info.value) == (
        "gemma3 config: missing field 'text_config' (the language model's config); it has no "
        "default, so llmphys does not guess it"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_hidden_layers": 0}, "llama config: field 'num_hidden_layers' must be a positive "
         "whole number; got 0"),
        ({"num_hidden_layers": "32"}, "llama config: field 'num_hidden_layers' must be a "
         "positive whole number; got '32'"),
        ({"num_hidden_layers": True}, "llama config: field 'num_hidden_layers' must be a "
         "positive whole number; got True"),
        ({"hidden_size": 4096.0}, "llama config: field 'hidden_size' must be a positive whole "
         "number; got 4096.0"),
        ({"num_key_value_heads": 5}, "llama config: num_attention_heads 32 is not a multiple of "
         "num_key_value_heads 5 (each KV head serves a whole group of query heads)"),
        ({"tie_word_embeddings": "no"}, "llama config: field 'tie_word_embeddings' must be true "
         "or false; got 'no'"),
        ({"mlp_bias": True}, "llama config: mlp_bias = true is not supported (biases in the "
         "feed-forward block are not counted)"),
        ({"hidden_size": 4000, "num_attention_heads": 48, "num_key_value_heads": 8},
         "llama config: missing field 'head_dim' and hidden_size 4000 is not a multiple of "
         "num_attention_heads 48; give head_dim"),
        ({"layer_types": ["full_attention"] * 3}, "llama config: field 'layer_types' must list "
         "one type per layer (32); got ['full_attention', 'full_attention', 'full_attention']"),
    ],
)  # fmt: skip
def test_bad_values(changes, message):
    with pytest.raises(ConfigError) as info:
        load("llama.json", **changes)
    assert str(info.value) == message


def test_more_experts_per_token_than_experts():
    with pytest.raises(ConfigError) as info:
        load("mixtral.json", num_experts_per_tok=9)
    assert str(info.value) == (
        "mixtral config: num_experts_per_tok (9) is more than num_local_experts (8)"
    )


def test_unknown_layer_type():
    with pytest.raises(ConfigError) as info:
        load("gemma2.json", layer_types=["chunked_attention"] * 42)
    assert str(info.value) == (
        "gemma2 config: field 'layer_types' has unknown type 'chunked_attention'; expected "
        "'sliding_attention' or 'full_attention'"
    )


def test_unreadable_inputs(tmp_path):
    with pytest.raises(ConfigError) as info:
        F.load_hf_config(tmp_path / "nope.json")
    assert str(info.value) == f"no config file at {str(tmp_path / 'nope.json')!r}"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"is not valid JSON \(Expecting property name"):
        F.load_hf_config(bad)
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    with pytest.raises(ConfigError) as info:
        F.load_hf_config(listing)
    assert str(info.value) == f"{str(listing)!r} holds a JSON list, not an object"
    with pytest.raises(ConfigError) as info:
        F.load_hf_config(42)
    assert str(info.value) == "load_hf_config needs a path or a dict, got int"


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model_type": ["llama"]}, "config: field 'model_type' must be text"),
        (
            {"num_hidden_layers": 1_000_000_000},
            "'num_hidden_layers' = 1,000,000,000 is not a plausible size (at most 10,000)",
        ),
        ({"vocab_size": 10**400}, "'vocab_size' = a 401-digit number is not a plausible size"),
    ],
)
def test_configs_that_would_hang_or_overflow_are_refused(change, message):
    # issue 16 (9): raw TypeError / OverflowError, and a loader that loops once per layer
    with pytest.raises(ConfigError) as info:
        F.load_hf_config({**config_fixture("llama"), **change})
    assert message in str(info.value)


def test_unreadable_files_are_config_errors(tmp_path):
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"a": "\\u00e9"}'.replace(b"\\u00e9", "é".encode("latin-1")))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        F.load_hf_config(latin)
    (tmp_path / "folder" / "config.json").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"cannot read .* \(Is a directory\)"):
        F.load_hf_config(tmp_path / "folder")
