"""Read a Hugging Face ``config.json`` into a :class:`~llmphys.presets.Model`.

Supported families (dispatch on ``model_type``, each with its own key names): Llama, Mistral,
Mixtral, Qwen2, Qwen3-MoE, DeepSeek-V2/V3, gpt-oss, Gemma 2 and Gemma 3 (``gemma3`` with a
``text_config``, or ``gemma3_text``).

Nothing is guessed silently:

* a size that defines the model (hidden width, layers, heads, vocabulary, FFN and expert widths,
  expert counts, MLA ranks, windows) must be in the config, or :class:`~llmphys.ConfigError`
  names the missing field;
* a field the family's ``transformers`` config class derives or defaults (``head_dim`` =
  hidden / heads for Llama, ``num_key_value_heads`` = heads, ``tie_word_embeddings``, bias
  switches, window patterns) gets that default, and the default is *reported* in
  ``model.assumptions``;
* every value is checked (positive whole numbers, heads divisible into KV groups, no more
  experts per token than experts).

>>> import llmphys as F
>>> m = F.load_hf_config({"model_type": "llama", "hidden_size": 4096,
...     "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
...     "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": False,
...     "attention_bias": False})
>>> print(f"{m.values['params']:,}")
8,030,261,248
>>> m.assumptions[0][:70]
'head_dim not given: 128 = hidden_size / num_attention_heads = 4,096 / '

"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from llmphys.errors import ConfigError, did_you_mean
from llmphys.features import OUTPUT_HEAD
from llmphys.hf_reader import (
    _TRANSFORMERS,
    _context,
    _core,
    _heads,
    _layer_types,
    _pattern,
    _Reader,
    _released,
    _tie,
    _window,
)
from llmphys.presets.model import Model

__all__ = ["SUPPORTED", "load_hf_config", "model_from_config"]


# ----------------------------------------------------------------------------- families
def _llama_like(r: _Reader, cls: str) -> tuple[dict[str, int], list[str]]:
    v = _core(r)
    _heads(r, v, cls, derive_kv=True, derive_head_dim=True)
    v["intermediate_size"] = r.size("intermediate_size", "width of the dense feed-forward block")
    v["norms_per_layer"] = 2
    _tie(r, v, False, cls)
    features = ["explicit_heads"]
    if r.flag("attention_bias", False, f"default of {_TRANSFORMERS.format(cls=cls)}"):
        features.append("attention_bias")
    r.refuse("mlp_bias", True, "biases in the feed-forward block are not counted")
    return v, features


def _llama(r: _Reader) -> tuple[dict[str, int], list[str]]:
    v, features = _llama_like(r, "LlamaConfig")
    _window(r, v, features, _layer_types(r, v["layers"]) or 0)
    return v, features


def _mistral(r: _Reader) -> tuple[dict[str, int], list[str]]:
    v = _core(r)
    _heads(r, v, "MistralConfig", derive_kv=True, derive_head_dim=True)
    v["intermediate_size"] = r.size("intermediate_size", "width of the dense feed-forward block")
    v["norms_per_layer"] = 2
    _tie(r, v, False, "MistralConfig")
    features = ["explicit_heads"]
    local = _layer_types(r, v["layers"])
    if local is None:
        if "sliding_window" not in r.config:
            r.assumptions.append(
                "sliding_window not given: 4,096 on every layer (default of HF transformers "
                "MistralConfig)"
            )
            v.update(sliding_window=4096, local_layers=v["layers"], global_layers=0)
            features.append("sliding_window")
            return v, features
        local = v["layers"] if r.has("sliding_window") else 0
    _window(r, v, features, local)
    return v, features


def _experts(r: _Reader, v: dict[str, int], *, experts: str, per_token: str, width: str) -> None:
    v["n_experts"] = r.size(experts, "routed experts per layer")
    v["experts_per_token"] = r.size(per_token, "experts each token is routed to")
    v["moe_intermediate_size"] = r.size(width, "width of one expert's feed-forward block")
    if v["experts_per_token"] > v["n_experts"]:
        raise ConfigError(
            f"{r.where}: {per_token} ({v['experts_per_token']}) is more than {experts} "
            f"({v['n_experts']})"
        )


def _mixtral(r: _Reader) -> tuple[dict[str, int], list[str]]:
    v = _core(r)
    _heads(r, v, "MixtralConfig", derive_kv=True, derive_head_dim=True)
    _experts(r, v, experts="num_local_experts", per_token="num_experts_per_tok",
             width="intermediate_size")  # fmt: skip
    v.update(n_shared_experts=0, moe_layers=v["layers"], norms_per_layer=2)
    _tie(r, v, False, "MixtralConfig")
    features = ["explicit_heads", "moe"]
    local = _layer_types(r, v["layers"])
    if local is None:
        if "sliding_window" not in r.config:
            r.assumptions.append(
                "sliding_window not given: None, full attention (default of HF transformers "
                "MixtralConfig)"
            )
        local = v["layers"] if r.has("sliding_window") else 0
    _window(r, v, features, local)
    return v, features


def _qwen_window(r: _Reader, v: dict[str, int], features: list[str], cls: str) -> None:
    local = _layer_types(r, v["layers"])
    if local is None:
        if r.flag("use_sliding_window", False, f"default of {_TRANSFORMERS.format(cls=cls)}"):
            full = r.size("max_window_layers", "layers below which attention is full", 0)
            local = max(v["layers"] - full, 0)
        else:
            local = 0
    _window(r, v, features, local)


def _qwen2(r: _Reader) -> tuple[dict[str, int], list[str]]:
    v = _core(r)
    _heads(r, v, "Qwen2Config", derive_kv=True, derive_head_dim=True)
    v["intermediate_size"] = r.size("intermediate_size", "width of the dense feed-forward block")
    v["norms_per_layer"] = 2
    _tie(r, v, False, "Qwen2Config")
    features = ["explicit_heads", "qkv_bias"]
    _qwen_window(r, v, features, "Qwen2Config")
    return v, features


def _qwen3_moe(r: _Reader) -> tuple[dict[str, int], list[str]]:
    v = _core(r)
    _heads(r, v, "Qwen3MoeConfig", derive_kv=False, derive_head_dim=True)
    _experts(r, v, experts="num_experts", per_token="num_experts_per_tok",
             width="moe_intermediate_size")  # fmt: skip
    v.update(n_shared_experts=0, norms_per_layer=2)
    _tie(r, v, False, "Qwen3MoeConfig")
    step = r.size_or(
        "decoder_sparse_step",
        1,
        "1, every layer a MoE layer (default of HF transformers Qwen3MoeConfig)",
    )
    only = r.config.get("mlp_only_layers")
    if only is None:
        r.assumptions.append("mlp_only_layers not given: [] (no dense-only layers; Qwen3MoeConfig)")
        only = []
    moe = sum(1 for i in range(v["layers"]) if i not in only and (i + 1) % step == 0)
    features = ["explicit_heads", "qk_norm", "moe"]
    if r.flag("attention_bias", False, f"default of {_TRANSFORMERS.format(cls='Qwen3MoeConfig')}"):
        features.append("attention_bias")
    _set_moe_layers(r, v, features, moe)
    _qwen_window(r, v, features, "Qwen3MoeConfig")
    return v, features


def _set_moe_layers(r: _Reader, v: dict[str, int], features: list[str], moe: int) -> None:
    if moe == 0:
        raise ConfigError(f"{r.where}: no layer is a mixture-of-experts layer")
    v["moe_layers"] = moe
    if moe < v["layers"]:
        v["dense_layers"] = v["layers"] - moe
        v["intermediate_size"] = r.size(
            "intermediate_size", "width of the dense feed-forward blocks"
        )
        features.append("dense_layers")


def _deepseek(r: _Reader, version: int) -> tuple[dict[str, int], list[str]]:
    cls = f"DeepseekV{version}Config"
    v = _core(r)
    _experts(r, v, experts="n_routed_experts", per_token="num_experts_per_tok",
             width="moe_intermediate_size")  # fmt: skip
    v["n_shared_experts"] = r.size("n_shared_experts", "shared experts per MoE layer", 0)
    first = r.size("first_k_dense_replace", "leading layers with a dense feed-forward block", 0)
    freq = r.size_or(
        "moe_layer_freq",
        1,
        f"1, every layer after the dense ones a MoE layer (default of "
        f"{_TRANSFORMERS.format(cls=cls)})",
    )
    moe = sum(1 for i in range(v["layers"]) if i >= first and i % freq == 0)
    features = ["mla", "moe"]
    q_lora = r.nullable_int("q_lora_rank", "MLA query compression width")
    if q_lora is None:
        features.append("mla_direct_query")
    else:
        v["q_lora_rank"] = q_lora
    v["kv_lora_rank"] = r.size("kv_lora_rank", "MLA key/value latent width")
    v["qk_nope_head_dim"] = r.size("qk_nope_head_dim", "MLA query/key width without rotary")
    v["qk_rope_head_dim"] = r.size("qk_rope_head_dim", "MLA rotary key width")
    v["v_head_dim"] = r.size("v_head_dim", "MLA value width per head")
    v["norms_per_layer"] = 2
    _tie(r, v, False, cls)
    r.flag("attention_bias", False, f"default of {_TRANSFORMERS.format(cls=cls)}")
    r.refuse("attention_bias", True, "biases in MLA projections are not counted")
    if version == 3:
        features.append("router_bias")
        r.notes.append("router: one e_score_correction_bias per routed expert (counted)")
    else:
        method = r.text("topk_method", "greedy", f"default of {_TRANSFORMERS.format(cls=cls)}")
        if method == "noaux_tc":
            features.append("router_bias")
    _set_moe_layers(r, v, features, moe)
    mtp = r.config.get("num_nextn_predict_layers") or 0
    if mtp:
        r.notes.append(
            f"{mtp} multi-token-prediction layer(s) (num_nextn_predict_layers) are not part "
            "of the main model and are not counted"
        )
    r.notes.append(
        "num_key_value_heads is not used: MLA caches a latent, not per-head keys and values"
    )
    return v, features


def _gpt_oss(r: _Reader) -> tuple[dict[str, int], list[str]]:
    v = _core(r)
    _heads(r, v, "GptOssConfig", derive_kv=False, derive_head_dim=False)
    per_token = "num_experts_per_tok" if "num_experts_per_tok" in r.config else "experts_per_token"
    _experts(r, v, experts="num_local_experts", per_token=per_token, width="intermediate_size")
    v.update(n_shared_experts=0, moe_layers=v["layers"], norms_per_layer=2)
    _tie(r, v, False, "GptOssConfig")
    if not r.flag("attention_bias", True, f"default of {_TRANSFORMERS.format(cls='GptOssConfig')}"):
        raise ConfigError(
            f"{r.where}: attention_bias = false is not supported (gpt-oss attention has biases "
            "and sinks)"
        )
    features = ["explicit_heads", "attention_sinks", "moe", "expert_bias", "router_bias"]
    local = _layer_types(r, v["layers"])
    if local is None:
        local = _pattern(r, v["layers"], 2, "GptOssConfig")
    _window(r, v, features, local)
    quant = r.config.get("quantization_config") or {}
    if quant.get("quant_method") == "mxfp4":
        r.notes.append("experts stored in MXFP4 (4.25 bits per parameter), the rest in BF16")
    return v, features


def _gemma(r: _Reader, version: int) -> tuple[dict[str, int], list[str]]:
    cls = "Gemma2Config" if version == 2 else "Gemma3TextConfig"
    v = _core(r)
    _heads(r, v, cls, derive_kv=False, derive_head_dim=False)
    v["intermediate_size"] = r.size("intermediate_size", "width of the dense feed-forward block")
    v["norms_per_layer"] = 4
    _tie(r, v, True, cls)
    features = ["explicit_heads"]
    if version == 3:
        features.append("qk_norm")
    if r.flag("attention_bias", False, f"default of {_TRANSFORMERS.format(cls=cls)}"):
        features.append("attention_bias")
    local = _layer_types(r, v["layers"])
    if local is None:
        if version == 2:
            local = _pattern(r, v["layers"], 2, cls)
        else:
            every = r.size_or(
                "sliding_window_pattern",
                6,
                f"6, every 6th layer global (default of {_TRANSFORMERS.format(cls=cls)})",
            )
            local = sum(bool((i + 1) % every) for i in range(v["layers"]))
    _window(r, v, features, local)
    return v, features


def _gemma3(r: _Reader) -> tuple[dict[str, int], list[str]]:
    text = r.config.get("text_config")
    if not isinstance(text, Mapping):
        raise ConfigError(
            f"{r.where}: missing field 'text_config' (the language model's config); it has "
            "no default, so llmphys does not guess it"
        )
    merged = dict(text)
    if "tie_word_embeddings" not in merged and "tie_word_embeddings" in r.config:
        merged["tie_word_embeddings"] = r.config["tie_word_embeddings"]
    inner = _Reader(merged, "gemma3_text", r.assumptions, r.notes)
    r.notes.append("text model only (text_config): the vision tower is not counted")
    return _gemma(inner, 3)


#: model_type -> reader of that family's keys
_FAMILIES: dict[str, Callable[[_Reader], tuple[dict[str, int], list[str]]]] = {
    "deepseek_v2": lambda r: _deepseek(r, 2),
    "deepseek_v3": lambda r: _deepseek(r, 3),
    "gemma2": lambda r: _gemma(r, 2),
    "gemma3": _gemma3,
    "gemma3_text": lambda r: _gemma(r, 3),
    "gpt_oss": _gpt_oss,
    "llama": _llama,
    "mistral": _mistral,
    "mixtral": _mixtral,
    "qwen2": _qwen2,
    "qwen3_moe": _qwen3_moe,
}

#: the supported ``model_type`` values
SUPPORTED: tuple[str, ...] = tuple(sorted(_FAMILIES))


def _read(path_or_dict: str | PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(path_or_dict, Mapping):
        return dict(path_or_dict)
    if not isinstance(path_or_dict, (str, PathLike)):
        raise ConfigError(
            f"load_hf_config needs a path or a dict, got {type(path_or_dict).__name__}"
        )
    path = Path(path_or_dict)
    if path.is_dir():
        path = path / "config.json"
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"no config file at {str(path)!r}") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"cannot read {str(path)!r} ({exc.strerror})") from None
    return parse_config(str(path), content)


#: The largest config.json read (real ones are a few kB).
MAX_CONFIG_BYTES = 1_000_000


def parse_config(name: str, content: bytes) -> dict[str, Any]:
    """The JSON object of a ``config.json`` (its file ``name`` and bytes, from disk or an
    upload): parsed with :func:`json.loads`, never evaluated.  Anything else raises
    :class:`~llmphys.ConfigError` saying what is wrong with the file."""
    if len(content) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{name!r} is {len(content):,} bytes: too large for a config.json "
            f"(at most {MAX_CONFIG_BYTES:,})"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name!r} is not UTF-8 text ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name!r} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{name!r} is nested too deeply to be a config.json") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name!r} holds a JSON {type(data).__name__}, not an object")
    return data


def model_from_config(
    config: Mapping[str, Any],
    *,
    name: str = "",
    display_name: str = "",
    source: str = "",
    as_of: str = "",
    hf_id: str = "",
    published: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
    context_note: str = "",
    precision_note: str = "",
) -> Model:
    """A :class:`Model` from a config dict, with the metadata a preset carries
    (``context_note``, ``precision_note``: where the preset's context limit and released
    precision are documented)."""
    family = config.get("model_type")
    if family is None:
        raise ConfigError(
            "config: missing field 'model_type' (the architecture family); supported: "
            + ", ".join(SUPPORTED)
        )
    if not isinstance(family, str):
        raise ConfigError(
            f"config: field 'model_type' must be text (the architecture family); got "
            f"{json.dumps(family)[:80]}"
        )
    if family not in _FAMILIES:
        raise ConfigError(
            f"config: unsupported model_type {family!r}{did_you_mean(str(family), SUPPORTED)} "
            f"(supported: {', '.join(SUPPORTED)})"
        )
    reader = _Reader(config, family)
    try:
        values, features = _FAMILIES[family](reader)
        features.append(OUTPUT_HEAD)  # the vocabulary is known: logits only where needed
        context_limit, context_source, context_original = _context(reader)
        if context_note and context_limit is not None:
            context_source += f" ({context_note})"
        precisions, precision_source = _released(reader)
        if precision_note:
            precision_source += f"; {precision_note}"
    except ConfigError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        # a field of an unexpected type deep in a family's reader: still the config's fault
        raise ConfigError(
            f"{reader.where}: a field has a value of the wrong kind ({type(exc).__name__}: "
            f"{exc}); check the fields against the model's published config.json"
        ) from None
    hf_id = hf_id or str(config.get("_name_or_path") or "")
    return Model(
        name=name or hf_id,
        family=family,
        values=values,
        features=features,
        display_name=display_name or name or hf_id or family,
        source=source,
        as_of=as_of,
        hf_id=hf_id,
        assumptions=reader.assumptions,
        notes=(*reader.notes, *notes),
        published=published,
        context_limit=context_limit,
        context_source=context_source,
        context_original=context_original,
        precisions=precisions,
        precision_source=precision_source,
    )


def load_hf_config(path_or_dict: str | PathLike[str] | Mapping[str, Any], name: str = "") -> Model:
    """A :class:`~llmphys.presets.Model` from a Hugging Face ``config.json`` (a path to it, to
    its folder, or the parsed dict).

    Dispatches on ``model_type`` (:data:`SUPPORTED`); an unknown type, a missing size or a bad
    value raises :class:`~llmphys.ConfigError` naming it.  Defaults that are applied are listed
    in ``model.assumptions``.  The model's ``params`` and ``active_params`` are derived from the
    architecture (see :mod:`llmphys.param_counts` for the conventions).
    """
    return model_from_config(_read(path_or_dict), name=name)
