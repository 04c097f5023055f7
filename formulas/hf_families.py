"""Model families as declarations of architectural features, read by one path.

A :class:`Family` says which features a ``model_type`` uses and under which field names:
the attention (heads or MLA; which bias switch and what a true switch means; q/k norms), the
norms (how many hidden-wide vectors per layer, LayerNorm biases), the feed-forward block (gated
or plain, dense or a :class:`Moe` with its field spellings and layer layout), the sliding
window layout (:class:`Window`), the default of ``tie_word_embeddings``, a ``text_config`` for
multimodal checkpoints, and the multi-token-prediction field.  :func:`read_family`
(:mod:`llmphys.hf_family_reader`) reads every family the same way; what only one family does is
a small ``hook`` (:mod:`llmphys.hf_hooks`).  This module holds the declarations
(:data:`FAMILIES`) and the reading of a ``model_type`` none declares (:func:`infer_family`).

Each default a family's ``transformers`` config class applies is named after that class
(``cls``) when it is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from llmphys.errors import ConfigError, did_you_mean
from llmphys.hf_family_reader import Moe, Window, read_family
from llmphys.hf_hooks import (
    _CORRECTION,
    _chatglm,
    _deltanet,
    _gpt_oss,
    _indexer,
    _jamba,
    _mamba,
    _mamba2,
    _nemotron_h,
    _no_head_bias,
    _stablelm,
)
from llmphys.hf_reader import _TRANSFORMERS, _Reader

__all__ = ["FAMILIES", "Family", "Moe", "Window", "infer_family", "read_family"]

Hook = Callable[[_Reader, dict[str, int], list[str]], None]


@dataclass(frozen=True)
class Family:
    """One ``model_type``: the features it uses and the names of its fields."""

    cls: str
    fields: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    mla: bool = False
    derive_kv: bool = True
    derive_head_dim: bool = True
    bias: str | None = "attention_bias"
    bias_default: bool = False
    bias_feature: str | tuple[str, ...] = "attention_bias"
    always: tuple[str, ...] = ()
    qk_norm: str | None = None
    #: what a true ``qk_norm`` switch means: norms over the whole projection, or per head
    qk_norm_feature: str = "qk_norm_full"
    norms_per_layer: int = 2
    norm_bias: bool = False
    tie: bool = False
    moe: Moe | None = None
    window: Window = Window()  # noqa: RUF009  (frozen: one shared default, as before)
    text_config: bool = False
    mtp: str | None = None
    #: the MTP modules follow DeepSeek-V3's layout (one block, a 2d x d projection, 3 norms)
    mtp_counted: bool = False
    mlp_bias: str | None = "mlp_bias"
    hook: Hook | None = None
    notes: tuple[str, ...] = ()
    #: who sets the defaults when not HF transformers' ``cls`` (a model's remote code)
    defaults: str = ""
    #: no attention at all (Mamba): no heads to read, no feed-forward block
    attention_free: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    @property
    def transformers(self) -> str:
        return self.defaults or _TRANSFORMERS.format(cls=self.cls)

    def summary(self) -> dict[str, str]:
        """The declaration in words, one entry per feature group (the docs' table of
        supported architectures)."""
        attention = "MLA" if self.mla else "heads (MHA / GQA / MQA)"
        if self.hook is _indexer:
            attention = "MLA + lightning indexer (DSA)"
        biases = ", ".join((self.bias_feature,) if isinstance(self.bias_feature, str) else
                           self.bias_feature)  # fmt: skip
        extras = [f for f in self.always if f != "plain_mlp"]
        if self.bias is not None and self.mla:
            extras.append(f"{self.bias} = true refused")
        elif self.bias is not None:
            extras.append(f"{biases} if {self.bias}" + (" (default)" if self.bias_default else ""))
        if self.qk_norm is not None:
            extras.append(f"q/k norms if {self.qk_norm}")
        norms = f"{self.norms_per_layer} per layer" + (" (LayerNorm with bias)" if self.norm_bias
                                                        else "")  # fmt: skip
        ffn = "plain" if "plain_mlp" in self.always else "gated"
        if self.moe is not None:
            m = self.moe
            ffn += f" MoE ({m.experts}, {m.layout} layers"
            if m.shared or m.shared_width or m.shared_fixed:
                ffn += ", shared experts"
            ffn += ")"
        windows = {"layer_types": "layer_types", "all": "every layer when sliding_window is set",
                   "qwen": "use_sliding_window / max_window_layers",
                   "every": f"1 global in {self.window.every}", "chunked": "chunked (NoPE global)",
                   "none": "none"}[self.window.kind]  # fmt: skip
        hybrid = {_nemotron_h: "Mamba-2 blocks by pattern", _deltanet: "Gated DeltaNet",
                  _jamba: "Mamba-1 (Jamba)", _mamba: "Mamba-1, every block",
                  _mamba2: "Mamba-2, every block"}.get(self.hook, "")  # fmt: skip
        if self.attention_free:
            attention, ffn = "none", "none (the mixer's gated projections)"
        return {
            "config class": self.cls + (" (remote code)" if self.defaults else ""),
            "attention": attention + (f"; {'; '.join(extras)}" if extras else ""),
            "norms": norms,
            "feed-forward": ffn,
            "windows": windows,
            "recurrent layers": hybrid or "none",
            "text_config": "yes" if self.text_config else "",
            "tied by default": "yes" if self.tie else "no",
            "MTP field": self.mtp or "",
        }


# ----------------------------------------------------------------------------- declarations
def _remote(cls: str) -> dict[str, str]:
    """A family whose config class ships with the checkpoint (``trust_remote_code``)."""
    return {"cls": cls, "defaults": f"the model's remote code ({cls})"}


#: multi-token-prediction modules laid out as DeepSeek-V3's (counted apart by mtp_params)
_MTP = {"mtp": "num_nextn_predict_layers", "mtp_counted": True}
_DEEPSEEK_MOE = Moe(experts="n_routed_experts", shared="n_shared_experts", layout="first_k")
#: DeepSeek-V3's experts, with a score-correction bias per routed expert
_SCORED_MOE = Moe(**{**_DEEPSEEK_MOE.__dict__, "router_bias": True})
#: DeepSeek Sparse Attention models (DeepSeek-V3.2, GLM-5): MLA with an indexer, V3's experts
_DSA = {"mla": True, "mlp_bias": None, **_MTP, "moe": _SCORED_MOE, "hook": _indexer,
        "notes": (_CORRECTION,)}  # fmt: skip
_LLAMA4 = Family(
    "Llama4TextConfig",
    derive_kv=False,
    derive_head_dim=False,
    mlp_bias=None,
    window=Window("chunked", every=4),
    moe=Moe(
        experts="num_local_experts",
        width="intermediate_size",
        layout="interleave",
        shared_fixed=1,
        dense_width="intermediate_size_mlp",
    ),
    notes=("q/k norms (use_qk_norm) are L2 norms without weights: nothing to count",),
)
_QWEN_NEXT = Family(
    "Qwen3NextConfig",
    derive_kv=False,
    derive_head_dim=False,
    bias=None,
    mlp_bias=None,
    always=("gated_attention",),
    window=Window("none"),
    hook=_deltanet,
    mtp="num_nextn_predict_layers",
    moe=Moe(layout="step", shared_width="shared_expert_intermediate_size"),
)
_QWEN35 = Family(**{**_QWEN_NEXT.__dict__, "cls": "Qwen3_5MoeTextConfig",
                    "mtp": "mtp_num_hidden_layers"})  # fmt: skip
_GEMMA = {"derive_kv": False, "derive_head_dim": False, "norms_per_layer": 4, "tie": True}
_GEMMA3 = Family("Gemma3TextConfig", **_GEMMA, always=("qk_norm",),
                 window=Window("every", every=6, field="sliding_window_pattern"))  # fmt: skip

#: model_type -> its declaration
FAMILIES: Mapping[str, Family] = MappingProxyType({
    "baichuan": Family(**_remote("BaichuanConfig"), bias=None, mlp_bias=None),
    "chatglm": Family(
        **_remote("ChatGLMConfig"), bias="add_qkv_bias", bias_feature="qkv_bias",
        mlp_bias="add_bias_linear", derive_kv=False, derive_head_dim=False, hook=_chatglm,
        fields={"num_hidden_layers": "num_layers", "vocab_size": "padded_vocab_size",
                "intermediate_size": "ffn_hidden_size", "head_dim": "kv_channels",
                "num_key_value_heads": "multi_query_group_num",
                "max_position_embeddings": "seq_length"},
    ),
    "cohere": Family("CohereConfig", norms_per_layer=1, tie=True, qk_norm="use_qk_norm",
                     mlp_bias=None),
    "cohere2": Family("Cohere2Config", norms_per_layer=1, tie=True, mlp_bias=None,
                      window=Window("every", every=4, field="sliding_window_pattern")),
    "deepseek": Family(
        **_remote("DeepseekConfig"), mlp_bias=None,
        moe=Moe(experts="n_routed_experts", shared="n_shared_experts", layout="first_k"),
    ),
    "deepseek_v2": Family(
        "DeepseekV2Config", mla=True, mlp_bias=None, mtp="num_nextn_predict_layers",
        moe=Moe(**{**_DEEPSEEK_MOE.__dict__, "router_bias": None}),
    ),
    "deepseek_v3": Family(
        "DeepseekV3Config", mla=True, mlp_bias=None, **_MTP,
        moe=_SCORED_MOE,
        notes=(_CORRECTION,),
    ),
    "deepseek_v32": Family("DeepseekV32Config", **_DSA),
    "gemma2": Family("Gemma2Config", **_GEMMA, mlp_bias=None, window=Window("every", every=2)),
    "gemma3": Family(**{**_GEMMA3.__dict__, "text_config": True, "mlp_bias": None}),
    "gemma3_text": Family(**{**_GEMMA3.__dict__, "mlp_bias": None}),
    "glm": Family("GlmConfig", derive_kv=False, derive_head_dim=False, bias_default=True,
                  bias_feature="qkv_bias", mlp_bias=None),
    "glm4": Family("Glm4Config", derive_kv=False, derive_head_dim=False, bias_default=True,
                   bias_feature="qkv_bias", norms_per_layer=4, mlp_bias=None),
    "glm4_moe": Family(
        "Glm4MoeConfig", derive_kv=False, derive_head_dim=False, bias_feature="qkv_bias",
        qk_norm="use_qk_norm", qk_norm_feature="qk_norm", mlp_bias=None, **_MTP,
        moe=_SCORED_MOE,
        notes=(_CORRECTION,),
    ),
    "glm_moe_dsa": Family("GlmMoeDsaConfig", **_DSA),
    "gpt_oss": Family(
        "GptOssConfig", derive_kv=False, derive_head_dim=False, bias_default=True,
        bias_feature="attention_sinks", mlp_bias=None, window=Window("every", every=2),
        moe=Moe(experts="num_local_experts", per_token=("num_experts_per_tok",
                "experts_per_token"), width="intermediate_size", router_bias=True,
                expert_bias=True),
        hook=_gpt_oss,
    ),
    "granite": Family("GraniteConfig"),
    "granitemoe": Family("GraniteMoeConfig", mlp_bias=None,
                         moe=Moe(experts="num_local_experts", width="intermediate_size")),
    "internlm2": Family(**_remote("InternLM2Config"), bias="bias", mlp_bias=None),
    "internlm3": Family("InternLM3Config", derive_head_dim=False, bias="qkv_bias",
                        bias_feature="qkv_bias", mlp_bias="bias"),
    "jamba": Family(
        "JambaConfig", derive_kv=False, bias=None, mlp_bias=None, window=Window("none"),
        moe=Moe(width="intermediate_size", layout="period"), hook=_jamba,
    ),
    "kimi_k2": Family(
        **_remote("DeepseekV3Config"), mla=True, mlp_bias=None, **_MTP,
        moe=Moe(**{**_DEEPSEEK_MOE.__dict__, "router_bias": None}),
    ),
    "llama": Family("LlamaConfig"),
    "llama4": Family(**{**_LLAMA4.__dict__, "text_config": True}),
    "llama4_text": _LLAMA4,
    "mimo": Family(**_remote("MiMoConfig"), bias=None, always=("qkv_bias",), mlp_bias=None,
                   window=Window("qwen"), **_MTP),
    "minimax_m2": Family(
        "MiniMaxM2Config", derive_kv=False, derive_head_dim=False, bias=None, mlp_bias=None,
        qk_norm="use_qk_norm", mtp="num_mtp_modules",
        moe=Moe(experts="num_local_experts", width="intermediate_size", router_bias=True),
        notes=("router: one e_score_correction_bias per routed expert (use_routing_bias; "
               "counted: the checkpoint stores it)",),
    ),
    "mamba": Family("MambaConfig", attention_free=True, norms_per_layer=1, tie=True,
                    fields={"num_hidden_layers": ("num_hidden_layers", "n_layer")},
                    hook=_mamba),
    "mamba2": Family("Mamba2Config", attention_free=True, norms_per_layer=1, hook=_mamba2,
                     fields={"ssm_state_size": "state_size"}),
    "mistral": Family("MistralConfig", bias=None, mlp_bias=None,
                      window=Window("all", default=4096)),
    "mixtral": Family("MixtralConfig", bias=None, mlp_bias=None, window=Window("all"),
                      moe=Moe(experts="num_local_experts", width="intermediate_size")),
    "nemotron_h": Family(
        "NemotronHConfig", derive_kv=False, derive_head_dim=False, norms_per_layer=1,
        fields={"head_dim": ("head_dim", "attention_head_dim")},
        always=("plain_mlp",), window=Window("none"), hook=_nemotron_h,
        notes=("feed-forward blocks are plain (up, down; squared ReLU), experts too",),
    ),
    "olmo2": Family("Olmo2Config", always=("qk_norm_full",), mlp_bias=None),
    "olmoe": Family("OlmoeConfig", always=("qk_norm_full",), mlp_bias=None,
                    moe=Moe(width="intermediate_size")),
    "phi3": Family("Phi3Config", bias=None, mlp_bias=None, window=Window("all"),
                   hook=_no_head_bias),
    "phimoe": Family("PhimoeConfig", norms_per_layer=4, norm_bias=True, mlp_bias=None,
                     window=Window("all"), hook=_no_head_bias,
                     moe=Moe(experts="num_local_experts", width="intermediate_size")),
    "qwen2": Family("Qwen2Config", bias=None, always=("qkv_bias",), mlp_bias=None,
                    window=Window("qwen")),
    "qwen2_moe": Family(
        "Qwen2MoeConfig", bias=None, always=("qkv_bias",), mlp_bias=None, window=Window("qwen"),
        moe=Moe(layout="step", shared_width="shared_expert_intermediate_size"),
    ),
    "qwen3": Family("Qwen3Config", derive_head_dim=False, always=("qk_norm",), mlp_bias=None,
                    window=Window("qwen")),
    "qwen3_5": Family(**{**_QWEN35.__dict__, "moe": None, "text_config": True}),
    "qwen3_5_moe": Family(**{**_QWEN35.__dict__, "text_config": True}),
    "qwen3_5_moe_text": _QWEN35,
    "qwen3_5_text": Family(**{**_QWEN35.__dict__, "moe": None}),
    "qwen3_moe": Family("Qwen3MoeConfig", derive_kv=False, always=("qk_norm",), mlp_bias=None,
                        moe=Moe(layout="step"), window=Window("qwen")),
    "qwen3_next": _QWEN_NEXT,
    "stablelm": Family("StableLmConfig", derive_kv=False, bias="use_qkv_bias",
                       bias_feature="qkv_bias", norms_per_layer=4, norm_bias=True,
                       mlp_bias=None, hook=_stablelm),
    "starcoder2": Family("Starcoder2Config", derive_kv=False, bias="use_bias",
                         bias_default=True, bias_feature=("attention_bias", "mlp_bias"),
                         always=("plain_mlp",), norms_per_layer=4, norm_bias=True, tie=True,
                         mlp_bias=None, window=Window("all")),
})  # fmt: skip


# ----------------------------------------------------------------------------- unknown types
#: fields that mark layers a Llama-style reading would count wrong (state-space, linear
#: attention, hybrid layer patterns, cross-layer KV sharing)
_FOREIGN_LAYERS = (
    ("hybrid_override_pattern", "a hybrid layer pattern (Mamba / attention / MLP blocks)"),
    ("layers_block_type", "a hybrid layer list (Mamba and attention blocks)"),
    ("attn_layer_period", "Mamba layers between the attention layers"),
    ("mamba_d_state", "Mamba layers"),
    ("ssm_state_size", "state-space (Mamba) layers"),
    ("state_size", "state-space (Mamba) layers"),
    ("linear_num_value_heads", "linear-attention (Gated DeltaNet) layers"),
    ("linear_conv_kernel_dim", "linear-attention layers"),
    ("num_kv_shared_layers", "layers that share another layer's KV cache"),
    ("index_topk", "a sparse-attention indexer"),
)

#: fields that name the routed experts, in the spellings families use
_EXPERT_FIELDS = ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts")


def infer_family(config: Mapping[str, Any], model_type: str) -> tuple[Family, list[str]] | None:
    """A declaration for a ``model_type`` llmphys does not know, from the fields its config
    has, and the assumptions that reading makes; ``None`` when the config lacks the fields of
    a decoder (width, layers, heads, vocabulary) so nothing can be read."""
    text = config.get("text_config")
    body = text if isinstance(text, Mapping) and "hidden_size" not in config else config
    core = ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
    if not all(k in body for k in core):
        return None
    for key, what in _FOREIGN_LAYERS:
        if body.get(key) is not None:
            raise ConfigError(
                f"config: model_type {model_type!r} is not a supported family and its field "
                f"{key!r} says it has {what}, which a reading by fields would count wrong"
            )
    types = body.get("layer_types")
    if isinstance(types, list):
        odd = sorted({t for t in types if t not in ("sliding_attention", "full_attention")})
        if odd:
            raise ConfigError(
                f"config: model_type {model_type!r} is not a supported family and its "
                f"layer_types has {str(odd[0])!r} layers, which a reading by fields would "
                "count wrong"
            )
    typo = did_you_mean(model_type, FAMILIES).removeprefix("; ")  # "llamma": did you mean
    made = [
        f"model_type {model_type!r} is not a declared family{f' ({typo})' if typo else ''}: "
        "read by its fields as a "
        "Llama-style decoder (q, k, v, o projections; gated feed-forward blocks; 2 RMSNorms "
        "per layer without biases; no q/k norms); check the counts against the model's "
        "modeling code"
    ]
    experts = next((k for k in _EXPERT_FIELDS if body.get(k) is not None), None)
    moe = None
    if experts is not None:
        layout = "all"
        if "first_k_dense_replace" in body:
            layout = "first_k"
        elif "decoder_sparse_step" in body or "mlp_only_layers" in body:
            layout = "step"
        elif "interleave_moe_layer_step" in body:
            layout = "interleave"
        width = (
            "moe_intermediate_size" if "moe_intermediate_size" in body else ("intermediate_size")
        )
        shared = next((k for k in ("n_shared_experts", "num_shared_experts") if k in body), None)
        moe = Moe(
            experts=experts,
            width=width,
            shared=shared,
            shared_width="shared_expert_intermediate_size"
            if body.get("shared_expert_intermediate_size")
            else None,
            layout=layout,
            router_bias=body.get("topk_method") == "noaux_tc",
        )
        made.append(
            f"mixture of experts read from {experts!r}, {width!r} and the {layout!r} layer "
            "layout; experts are gated blocks without biases"
            + ("; a per-expert router bias (topk_method noaux_tc)" if moe.router_bias else "")
        )
    family = Family(
        model_type,
        defaults="the Llama convention (LlamaConfig)",
        mla="kv_lora_rank" in body,
        derive_head_dim="head_dim" not in body,
        qk_norm="use_qk_norm" if "use_qk_norm" in body else None,
        moe=moe,
        text_config=body is not config,
        mtp="num_nextn_predict_layers",
    )
    return family, made
