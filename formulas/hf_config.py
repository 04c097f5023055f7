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
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from llmphys.errors import ConfigError, did_you_mean
from llmphys.presets.model import Model

__all__ = ["SUPPORTED", "load_hf_config", "model_from_config"]

_TRANSFORMERS = "HF transformers {cls}"


@dataclass
class _Reader:
    """Reads one family's keys, checking values and recording the defaults it applies."""

    config: Mapping[str, Any]
    family: str
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.family} config"

    def has(self, key: str) -> bool:
        return self.config.get(key) is not None

    def _check_int(self, key: str, value: Any, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            kind = "a positive whole number" if minimum == 1 else "a whole number >= 0"
            raise ConfigError(f"{self.where}: field {key!r} must be {kind}; got {value!r}")
        return value

    def size(self, key: str, what: str, minimum: int = 1) -> int:
        """A required whole number."""
        if key not in self.config:
            raise ConfigError(
                f"{self.where}: missing field {key!r} ({what}); it has no default, "
                "so llmphys does not guess it"
            )
        return self._check_int(key, self.config[key], minimum)

    def size_or(self, key: str, default: int, how: str, minimum: int = 1) -> int:
        """A whole number, or ``default`` (reported as ``how``) when the config does not give
        it."""
        if self.config.get(key) is None:
            self.assumptions.append(f"{key} not given: {how}")
            return default
        return self._check_int(key, self.config[key], minimum)

    def nullable_int(self, key: str, what: str) -> int | None:
        """A whole number or ``null``; the key itself must be present."""
        if key not in self.config:
            raise ConfigError(
                f"{self.where}: missing field {key!r} ({what}; null is allowed); it has no "
                "default, so llmphys does not guess it"
            )
        value = self.config[key]
        return None if value is None else self._check_int(key, value, 1)

    def flag(self, key: str, default: bool, why: str) -> bool:
        """A boolean, or ``default`` (reported) when the config does not give it."""
        if self.config.get(key) is None:
            self.assumptions.append(f"{key} not given: {default} ({why})")
            return default
        value = self.config[key]
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where}: field {key!r} must be true or false; got {value!r}")
        return value

    def text(self, key: str, default: str, why: str) -> str:
        if self.config.get(key) is None:
            self.assumptions.append(f"{key} not given: {default!r} ({why})")
            return default
        return str(self.config[key])

    def refuse(self, key: str, value: Any, why: str) -> None:
        """A setting llmphys cannot represent: refused rather than counted wrong."""
        if self.config.get(key) == value:
            raise ConfigError(f"{self.where}: {key} = {json.dumps(value)} is not supported ({why})")


# ----------------------------------------------------------------------------- shared pieces
def _core(r: _Reader) -> dict[str, int]:
    """Sizes every family has: width, layers, query heads, vocabulary."""
    return {
        "hidden": r.size("hidden_size", "model width"),
        "layers": r.size("num_hidden_layers", "number of transformer layers"),
        "n_heads": r.size("num_attention_heads", "number of query heads"),
        "vocab_size": r.size("vocab_size", "vocabulary size"),
    }


def _heads(
    r: _Reader, v: dict[str, int], cls: str, *, derive_kv: bool, derive_head_dim: bool
) -> None:
    """KV heads and head width.  ``derive_*``: the family's config class (``cls``) derives a
    missing one (KV heads = query heads, head_dim = hidden / heads); otherwise it is required."""
    n_h = v["n_heads"]
    derives = f"as {_TRANSFORMERS.format(cls=cls)} derives it"
    if derive_kv:
        v["n_kv_heads"] = r.size_or(
            "num_key_value_heads",
            n_h,
            f"{n_h:,} = num_attention_heads, multi-head attention ({derives})",
        )
    else:
        v["n_kv_heads"] = r.size("num_key_value_heads", "number of key/value heads")
    if not derive_head_dim or r.has("head_dim"):
        v["head_dim"] = r.size("head_dim", "width of one attention head")
    elif v["hidden"] % n_h:
        raise ConfigError(
            f"{r.where}: missing field 'head_dim' and hidden_size {v['hidden']} is not a "
            f"multiple of num_attention_heads {n_h}; give head_dim"
        )
    else:
        d = v["hidden"] // n_h
        v["head_dim"] = r.size_or(
            "head_dim",
            d,
            f"{d:,} = hidden_size / num_attention_heads = {v['hidden']:,} / {n_h:,} ({derives})",
        )
    if n_h % v["n_kv_heads"]:
        raise ConfigError(
            f"{r.where}: num_attention_heads {n_h} is not a multiple of num_key_value_heads "
            f"{v['n_kv_heads']} (each KV head serves a whole group of query heads)"
        )


def _tie(r: _Reader, v: dict[str, int], default: bool, cls: str) -> None:
    tied = r.flag("tie_word_embeddings", default, f"default of {_TRANSFORMERS.format(cls=cls)}")
    v["embedding_matrices"] = 1 if tied else 2


def _window(r: _Reader, v: dict[str, int], features: list[str], local: int) -> None:
    """Record ``local`` sliding-window layers (if any) of window ``sliding_window``."""
    if local == 0:
        return
    v["sliding_window"] = r.size("sliding_window", "attention window of the local layers")
    v["local_layers"] = local
    v["global_layers"] = v["layers"] - local
    features.append("sliding_window")


def _layer_types(r: _Reader, layers: int) -> int | None:
    """Local layers counted from an explicit ``layer_types`` list, or ``None`` without one."""
    types = r.config.get("layer_types")
    if types is None:
        return None
    if not isinstance(types, list) or len(types) != layers:
        raise ConfigError(
            f"{r.where}: field 'layer_types' must list one type per layer ({layers}); got {types!r}"
        )
    unknown = sorted({t for t in types if t not in ("sliding_attention", "full_attention")})
    if unknown:
        raise ConfigError(
            f"{r.where}: field 'layer_types' has unknown type {unknown[0]!r}; expected "
            "'sliding_attention' or 'full_attention'"
        )
    return sum(t == "sliding_attention" for t in types)


def _pattern(r: _Reader, layers: int, every: int, cls: str) -> int:
    """Local layers when every ``every``-th layer is global (the rest slide)."""
    local = sum(bool((i + 1) % every) for i in range(layers))
    r.assumptions.append(
        f"layer_types not given: every {every}{'nd' if every == 2 else 'th'} layer global, "
        f"the others sliding ({local:,} of {layers:,}; {_TRANSFORMERS.format(cls=cls)})"
    )
    return local


def _dtype(r: _Reader) -> None:
    dtype = r.config.get("torch_dtype") or r.config.get("dtype")
    if dtype is not None:
        r.notes.append(f"checkpoint dtype: {dtype}")


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
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no config file at {str(path)!r}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{str(path)!r} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{str(path)!r} holds a {type(data).__name__}, not a JSON object")
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
) -> Model:
    """A :class:`Model` from a config dict, with the metadata a preset carries."""
    family = config.get("model_type")
    if family is None:
        raise ConfigError(
            "config: missing field 'model_type' (the architecture family); supported: "
            + ", ".join(SUPPORTED)
        )
    if family not in _FAMILIES:
        raise ConfigError(
            f"config: unsupported model_type {family!r}{did_you_mean(str(family), SUPPORTED)} "
            f"(supported: {', '.join(SUPPORTED)})"
        )
    reader = _Reader(config, family)
    values, features = _FAMILIES[family](reader)
    _dtype(reader)
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
