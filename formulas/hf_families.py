"""Model families as declarations of architectural features, read by one path.

A :class:`Family` says which features a ``model_type`` uses and under which field names:
the attention (heads or MLA; which bias switch and what a true switch means; q/k norms), the
norms (how many hidden-wide vectors per layer, LayerNorm biases), the feed-forward block (gated
or plain, dense or a :class:`Moe` with its field spellings and layer layout), the sliding
window layout (:class:`Window`), the default of ``tie_word_embeddings``, a ``text_config`` for
multimodal checkpoints, and the multi-token-prediction field.  :func:`read_family` reads every
family the same way; what only one family does is a small ``hook``.

Each default a family's ``transformers`` config class applies is named after that class
(``cls``) when it is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from llmphys.errors import ConfigError
from llmphys.hf_reader import (
    _TRANSFORMERS,
    _core,
    _heads,
    _layer_types,
    _pattern,
    _Reader,
    _tie,
    _window,
)

__all__ = ["Family", "Moe", "Window", "read_family"]

Hook = Callable[[_Reader, dict[str, int], list[str]], None]


@dataclass(frozen=True)
class Moe:
    """Where a family keeps its mixture-of-experts fields.

    ``layout``: which layers hold experts: ``"all"``; ``"first_k"`` (DeepSeek: dense layers
    first, ``first_k_dense_replace``, then every ``moe_layer_freq``-th); ``"step"`` (Qwen:
    every ``decoder_sparse_step``-th layer except ``mlp_only_layers``); ``"interleave"``
    (Llama 4: every ``interleave_moe_layer_step``-th, or the ``moe_layers`` list).
    ``shared_width``: a shared expert of its own width (Qwen2-MoE), counted as that many
    expert widths, with a one-output gate of its own.
    ``router_bias``: True (a bias or a score correction per expert), False, or ``None``
    (DeepSeek-V2: only when ``topk_method`` is ``noaux_tc``).
    """

    experts: str = "num_experts"
    per_token: tuple[str, ...] = ("num_experts_per_tok",)
    width: str = "moe_intermediate_size"
    shared: str | None = None
    shared_width: str | None = None
    layout: str = "all"
    router_bias: bool | None = False
    expert_bias: bool = False
    first_k_default: int | None = None


@dataclass(frozen=True)
class Window:
    """How a family lays out its sliding-window layers.

    ``kind``: ``"layer_types"`` (only an explicit ``layer_types`` list); ``"all"`` (every layer
    slides when ``sliding_window`` is set; ``default``: the window when the key is absent);
    ``"qwen"`` (``use_sliding_window`` with ``max_window_layers`` full layers); ``"every"``
    (every ``every``-th layer global; ``field`` may give the period).
    """

    kind: str = "layer_types"
    every: int = 0
    field: str | None = None
    default: int | None = None


@dataclass(frozen=True)
class Family:
    """One ``model_type``: the features it uses and the names of its fields."""

    cls: str
    fields: Mapping[str, str] = field(default_factory=dict)
    mla: bool = False
    derive_kv: bool = True
    derive_head_dim: bool = True
    bias: str | None = "attention_bias"
    bias_default: bool = False
    bias_feature: str = "attention_bias"
    always: tuple[str, ...] = ()
    qk_norm: str | None = None
    norms_per_layer: int = 2
    norm_bias: bool = False
    tie: bool = False
    moe: Moe | None = None
    window: Window = Window()
    text_config: bool = False
    mtp: str | None = None
    mlp_bias: str | None = "mlp_bias"
    hook: Hook | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    @property
    def transformers(self) -> str:
        return _TRANSFORMERS.format(cls=self.cls)


# ----------------------------------------------------------------------------- reading
def read_family(r: _Reader, family: Family) -> tuple[dict[str, int], list[str]]:
    """Every field ``family`` declares, read from ``r``: glossary values and features."""
    if family.text_config:
        r = _text_model(r, family)
    v = _core(r)
    features: list[str] = []
    if family.mla:
        _mla(r, v, features, family)
    else:
        _heads(r, v, family.cls, derive_kv=family.derive_kv,
               derive_head_dim=family.derive_head_dim)  # fmt: skip
        features.append("explicit_heads")
    features += family.always
    if family.qk_norm is not None and r.flag(
        family.qk_norm, False, f"default of {family.transformers}"
    ):
        features.append("qk_norm_full")
    if family.moe is None:
        v["intermediate_size"] = r.size(
            "intermediate_size", "width of the dense feed-forward block"
        )
    else:
        _experts(r, v, family.moe)
        features.append("moe")
    v["norms_per_layer"] = family.norms_per_layer
    if family.norm_bias:
        features.append("norm_bias")
    _tie(r, v, family.tie, family.cls)
    if family.bias is not None and r.flag(
        family.bias, family.bias_default, f"default of {family.transformers}"
    ):
        if family.mla:
            r.refuse(family.bias, True, "biases in MLA projections are not counted")
        features.append(family.bias_feature)
    if family.mlp_bias is not None:
        r.refuse(family.mlp_bias, True, "biases in the feed-forward block are not counted")
    if family.moe is not None:
        _moe_layers(r, v, features, family)
    if family.hook is not None:
        family.hook(r, v, features)
    _windows(r, v, features, family)
    r.notes.extend(family.notes)
    if family.mtp is not None:
        _mtp(r, family.mtp)
    if family.mla:
        r.notes.append(
            "num_key_value_heads is not used: MLA caches a latent, not per-head keys and values"
        )
    return v, features


def _text_model(r: _Reader, family: Family) -> _Reader:
    """The reader of a multimodal checkpoint's language model (its ``text_config``); the
    top level's ``tie_word_embeddings`` applies when the text config does not give it."""
    text = r.config.get("text_config")
    if not isinstance(text, Mapping):
        raise ConfigError(
            f"{r.where}: missing field 'text_config' (the language model's config); it has "
            "no default, so llmphys does not guess it"
        )
    merged = dict(text)
    if "tie_word_embeddings" not in merged and "tie_word_embeddings" in r.config:
        merged["tie_word_embeddings"] = r.config["tie_word_embeddings"]
    inner_type = text.get("model_type")
    name = inner_type if isinstance(inner_type, str) else f"{r.family} text_config"
    r.notes.append("text model only (text_config): the vision tower is not counted")
    return _Reader(merged, name, r.assumptions, r.notes, family.fields)


def _experts(r: _Reader, v: dict[str, int], moe: Moe) -> None:
    per_token = next((k for k in moe.per_token if k in r.config), moe.per_token[0])
    v["n_experts"] = r.size(moe.experts, "routed experts per layer")
    v["experts_per_token"] = r.size(per_token, "experts each token is routed to")
    v["moe_intermediate_size"] = r.size(moe.width, "width of one expert's feed-forward block")
    if v["experts_per_token"] > v["n_experts"]:
        raise ConfigError(
            f"{r.where}: {r.name_of(per_token)} ({v['experts_per_token']}) is more than "
            f"{r.name_of(moe.experts)} ({v['n_experts']})"
        )


def _shared_experts(r: _Reader, v: dict[str, int], moe: Moe, features: list[str]) -> None:
    if moe.shared_width is not None:
        width = r.size(moe.shared_width, "width of the shared expert", 0)
        if width % v["moe_intermediate_size"]:
            raise ConfigError(
                f"{r.where}: {moe.shared_width} {width:,} is not a multiple of "
                f"{moe.width} {v['moe_intermediate_size']:,}; llmphys counts a shared expert "
                "in expert widths"
            )
        v["n_shared_experts"] = width // v["moe_intermediate_size"]
        if width:
            features.append("shared_expert_gate")
            r.notes.append(
                f"shared expert of width {width:,} counted as {v['n_shared_experts']} expert "
                "widths, with its one-output gate (d per layer)"
            )
    elif moe.shared is not None:
        v["n_shared_experts"] = r.size(moe.shared, "shared experts per MoE layer", 0)
    else:
        v["n_shared_experts"] = 0


def _moe_layers(r: _Reader, v: dict[str, int], features: list[str], family: Family) -> None:
    moe = family.moe
    assert moe is not None
    layers = v["layers"]
    if moe.layout == "first_k":
        _shared_experts(r, v, moe, features)
        if moe.first_k_default is None:
            first = r.size("first_k_dense_replace",
                           "leading layers with a dense feed-forward block", 0)  # fmt: skip
        else:
            first = r.size_or(
                "first_k_dense_replace",
                moe.first_k_default,
                f"{moe.first_k_default}, no leading dense layers (default of "
                f"{family.transformers})",
                0,
            )
        freq = r.size_or(
            "moe_layer_freq",
            1,
            f"1, every layer after the dense ones a MoE layer (default of {family.transformers})",
        )
        chosen = [i >= first and i % freq == 0 for i in range(layers)]
    elif moe.layout == "step":
        _shared_experts(r, v, moe, features)
        step = r.size_or(
            "decoder_sparse_step",
            1,
            f"1, every layer a MoE layer (default of {family.transformers})",
        )
        only = r.config.get("mlp_only_layers")
        if only is None:
            r.assumptions.append(
                f"mlp_only_layers not given: [] (no dense-only layers; {family.cls})"
            )
            only = []
        chosen = [i not in only and (i + 1) % step == 0 for i in range(layers)]
    elif moe.layout == "interleave":
        _shared_experts(r, v, moe, features)
        listed = r.config.get("moe_layers")
        if isinstance(listed, list) and listed:
            chosen = [i in listed for i in range(layers)]
        else:
            step = r.size_or(
                "interleave_moe_layer_step",
                1,
                f"1, every layer a MoE layer (default of {family.transformers})",
            )
            chosen = [(i + 1) % step == 0 for i in range(layers)]
    else:
        _shared_experts(r, v, moe, features)
        chosen = [True] * layers
    if moe.router_bias is None:
        method = r.text("topk_method", "greedy", f"default of {family.transformers}")
        if method == "noaux_tc":
            features.append("router_bias")
    elif moe.router_bias:
        features.append("router_bias")
    if moe.expert_bias:
        features.append("expert_bias")
    moe_count = sum(chosen)
    if moe_count == 0:
        raise ConfigError(f"{r.where}: no layer is a mixture-of-experts layer")
    v["moe_layers"] = moe_count
    if moe_count < layers:
        v["dense_layers"] = layers - moe_count
        v["intermediate_size"] = r.size(
            "intermediate_size", "width of the dense feed-forward blocks"
        )
        features.append("dense_layers")


def _mla(r: _Reader, v: dict[str, int], features: list[str], family: Family) -> None:
    features.append("mla")
    q_lora = r.nullable_int("q_lora_rank", "MLA query compression width")
    if q_lora is None:
        features.append("mla_direct_query")
    else:
        v["q_lora_rank"] = q_lora
    v["kv_lora_rank"] = r.size("kv_lora_rank", "MLA key/value latent width")
    v["qk_nope_head_dim"] = r.size("qk_nope_head_dim", "MLA query/key width without rotary")
    v["qk_rope_head_dim"] = r.size("qk_rope_head_dim", "MLA rotary key width")
    v["v_head_dim"] = r.size("v_head_dim", "MLA value width per head")


def _windows(r: _Reader, v: dict[str, int], features: list[str], family: Family) -> None:
    w = family.window
    local = _layer_types(r, v["layers"])
    if local is None:
        if w.kind == "all":
            if "sliding_window" not in r.config:
                if w.default is None:
                    r.assumptions.append(
                        f"sliding_window not given: None, full attention (default of "
                        f"{family.transformers})"
                    )
                else:
                    r.assumptions.append(
                        f"sliding_window not given: {w.default:,} on every layer (default of "
                        f"{family.transformers})"
                    )
                    v.update(
                        sliding_window=w.default, local_layers=v["layers"], global_layers=0
                    )
                    features.append("sliding_window")
                    return
            local = v["layers"] if r.has("sliding_window") else 0
        elif w.kind == "qwen":
            if r.flag("use_sliding_window", False, f"default of {family.transformers}"):
                full = r.size("max_window_layers", "layers below which attention is full", 0)
                local = max(v["layers"] - full, 0)
            else:
                local = 0
        elif w.kind == "every" and w.field is None:
            local = _pattern(r, v["layers"], w.every, family.cls)
        elif w.kind == "every":
            every = r.size_or(
                w.field,
                w.every,
                f"{w.every}, every {w.every}th layer global (default of {family.transformers})",
            )
            local = sum(bool((i + 1) % every) for i in range(v["layers"]))
        else:
            local = 0
    _window(r, v, features, local)


def _mtp(r: _Reader, key: str) -> None:
    count = r.config.get(key) or 0
    if count:
        r.notes.append(
            f"{count} multi-token-prediction layer(s) ({key}) are not part of the main model "
            "and are not counted"
        )


# ----------------------------------------------------------------------------- hooks
def _gpt_oss(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    if "attention_sinks" not in features:
        raise ConfigError(
            f"{r.where}: attention_bias = false is not supported (gpt-oss attention has biases "
            "and sinks)"
        )
    quant = r.config.get("quantization_config") or {}
    if isinstance(quant, Mapping) and quant.get("quant_method") == "mxfp4":
        r.notes.append("experts stored in MXFP4 (4.25 bits per parameter), the rest in BF16")


# ----------------------------------------------------------------------------- declarations
_DEEPSEEK_MOE = Moe(experts="n_routed_experts", shared="n_shared_experts", layout="first_k")
_GEMMA = {"derive_kv": False, "derive_head_dim": False, "norms_per_layer": 4, "tie": True}
_GEMMA3 = Family("Gemma3TextConfig", **_GEMMA, always=("qk_norm",),
                 window=Window("every", every=6, field="sliding_window_pattern"))  # fmt: skip

#: model_type -> its declaration
FAMILIES: Mapping[str, Family] = MappingProxyType({
    "deepseek_v2": Family(
        "DeepseekV2Config", mla=True, mlp_bias=None, mtp="num_nextn_predict_layers",
        moe=Moe(**{**_DEEPSEEK_MOE.__dict__, "router_bias": None}),
    ),
    "deepseek_v3": Family(
        "DeepseekV3Config", mla=True, mlp_bias=None, mtp="num_nextn_predict_layers",
        moe=Moe(**{**_DEEPSEEK_MOE.__dict__, "router_bias": True}),
        notes=("router: one e_score_correction_bias per routed expert (counted)",),
    ),
    "gemma2": Family("Gemma2Config", **_GEMMA, mlp_bias=None, window=Window("every", every=2)),
    "gemma3": Family(**{**_GEMMA3.__dict__, "text_config": True, "mlp_bias": None}),
    "gemma3_text": Family(**{**_GEMMA3.__dict__, "mlp_bias": None}),
    "gpt_oss": Family(
        "GptOssConfig", derive_kv=False, derive_head_dim=False, bias_default=True,
        bias_feature="attention_sinks", mlp_bias=None, window=Window("every", every=2),
        moe=Moe(experts="num_local_experts", per_token=("num_experts_per_tok",
                "experts_per_token"), width="intermediate_size", router_bias=True,
                expert_bias=True),
        hook=_gpt_oss,
    ),
    "llama": Family("LlamaConfig"),
    "mistral": Family("MistralConfig", bias=None, mlp_bias=None,
                      window=Window("all", default=4096)),
    "mixtral": Family("MixtralConfig", bias=None, mlp_bias=None, window=Window("all"),
                      moe=Moe(experts="num_local_experts", width="intermediate_size")),
    "qwen2": Family("Qwen2Config", bias=None, always=("qkv_bias",), mlp_bias=None,
                    window=Window("qwen")),
    "qwen3_moe": Family("Qwen3MoeConfig", derive_kv=False, always=("qk_norm",), mlp_bias=None,
                        moe=Moe(layout="step"), window=Window("qwen")),
})  # fmt: skip
