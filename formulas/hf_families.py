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
from typing import Any

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

__all__ = ["FAMILIES", "Family", "Moe", "Window", "infer_family", "read_family"]

Hook = Callable[[_Reader, dict[str, int], list[str]], None]


@dataclass(frozen=True)
class Moe:
    """Where a family keeps its mixture-of-experts fields.

    ``layout``: which layers hold experts: ``"all"``; ``"first_k"`` (DeepSeek: dense layers
    first, ``first_k_dense_replace``, then every ``moe_layer_freq``-th); ``"step"`` (Qwen:
    every ``decoder_sparse_step``-th layer except ``mlp_only_layers``); ``"interleave"``
    (Llama 4: every ``interleave_moe_layer_step``-th, or the ``moe_layers`` list).
    ``shared_width``: a shared expert of its own width (Qwen2-MoE), counted as that many
    expert widths, with a one-output gate of its own (``shared_gate``; Nemotron-H has none).
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
    shared_gate: bool = True
    #: shared experts every MoE layer has when no field counts them (Llama 4: 1)
    shared_fixed: int | None = None
    #: the field of the dense blocks' width (Llama 4: ``intermediate_size_mlp``)
    dense_width: str = "intermediate_size"


@dataclass(frozen=True)
class Window:
    """How a family lays out its sliding-window layers.

    ``kind``: ``"layer_types"`` (only an explicit ``layer_types`` list); ``"all"`` (every layer
    slides when ``sliding_window`` is set; ``default``: the window when the key is absent);
    ``"qwen"`` (``use_sliding_window`` with ``max_window_layers`` full layers); ``"every"``
    (every ``every``-th layer global; ``field`` may give the period); ``"chunked"`` (Llama 4:
    the layers with rotary embeddings attend within chunks of ``attention_chunk_size``, every
    ``every``-th layer is global without them, or as ``no_rope_layers`` lists).
    """

    kind: str = "layer_types"
    every: int = 0
    field: str | None = None
    default: int | None = None


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
    window: Window = Window()
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


# ----------------------------------------------------------------------------- reading
def read_family(r: _Reader, family: Family) -> tuple[dict[str, int], list[str]]:
    """Every field ``family`` declares, read from ``r``: glossary values and features."""
    if family.text_config:
        r = _text_model(r, family)
    features: list[str] = []
    if family.attention_free:
        v = _core(r, heads=False)
        v["norms_per_layer"] = family.norms_per_layer
        _tie(r, v, family.tie, family.transformers)
        if family.hook is not None:
            family.hook(r, v, features)
        return v, features
    v = _core(r)
    if family.mla:
        _mla(r, v, features, family)
    else:
        _heads(r, v, family.transformers, derive_kv=family.derive_kv,
               derive_head_dim=family.derive_head_dim)  # fmt: skip
        features.append("explicit_heads")
    features += family.always
    if family.qk_norm is not None and r.flag(
        family.qk_norm, False, f"default of {family.transformers}"
    ):
        features.append(family.qk_norm_feature)
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
    _tie(r, v, family.tie, family.transformers)
    if family.bias is not None and r.flag(
        family.bias, family.bias_default, f"default of {family.transformers}"
    ):
        if family.mla:
            r.refuse(family.bias, True, "biases in MLA projections are not counted")
        bias = family.bias_feature
        features += (bias,) if isinstance(bias, str) else bias
    if family.mlp_bias is not None:
        r.refuse(family.mlp_bias, True, "biases in the feed-forward block are not counted")
    if family.moe is not None:
        _moe_layers(r, v, features, family)
    if family.hook is not None:
        family.hook(r, v, features)
    _windows(r, v, features, family)
    r.notes.extend(family.notes)
    if family.mtp is not None:
        _mtp(r, v, family.mtp, family.mtp_counted)
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
        if width and moe.shared_gate:
            features.append("shared_expert_gate")
            r.notes.append(
                f"shared expert of width {width:,} counted as {v['n_shared_experts']} expert "
                "widths, with its one-output gate (d per layer)"
            )
    elif moe.shared is not None:
        v["n_shared_experts"] = r.size(moe.shared, "shared experts per MoE layer", 0)
    elif moe.shared_fixed is not None:
        v["n_shared_experts"] = moe.shared_fixed
    else:
        v["n_shared_experts"] = 0


def _moe_layers(r: _Reader, v: dict[str, int], features: list[str], family: Family) -> None:
    moe = family.moe
    assert moe is not None
    layers = v["layers"]
    _shared_experts(r, v, moe, features)
    if moe.layout == "first_k":
        first = r.size("first_k_dense_replace",
                       "leading layers with a dense feed-forward block", 0)  # fmt: skip
        freq = r.size_or(
            "moe_layer_freq",
            1,
            f"1, every layer after the dense ones a MoE layer (default of {family.transformers})",
        )
        chosen = [i >= first and i % freq == 0 for i in range(layers)]
    elif moe.layout == "step":
        step = r.size_or(
            "decoder_sparse_step",
            1,
            f"1, every layer a MoE layer (default of {family.transformers})",
        )
        only = r.config.get("mlp_only_layers")
        if only is None:
            r.assumptions.append(
                f"mlp_only_layers not given: [] (no dense-only layers; {family.transformers})"
            )
            only = []
        chosen = [i not in only and (i + 1) % step == 0 for i in range(layers)]
    elif moe.layout == "period":
        period = r.size_or("expert_layer_period", 2, f"2 (default of {family.transformers})")
        offset = r.size_or(
            "expert_layer_offset", 1, f"1 (default of {family.transformers})", minimum=0
        )
        chosen = [i % period == offset for i in range(layers)]
    elif moe.layout == "interleave":
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
    layout = list(r.read) or [f"the {moe.layout!r} layout"]
    v["moe_layers"] = moe_count
    if moe_count < layers:
        r.read.extend(layout)
        v["dense_layers"] = layers - moe_count
        v["intermediate_size"] = r.size(moe.dense_width, "width of the dense feed-forward blocks")
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
    if w.kind == "none":
        return
    if w.kind == "chunked":
        _chunks(r, v, features, family)
        return
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
                    v.update(sliding_window=w.default, local_layers=v["layers"], global_layers=0)
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
            local = _pattern(r, v["layers"], w.every, family.transformers)
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


def _chunks(r: _Reader, v: dict[str, int], features: list[str], family: Family) -> None:
    """Llama 4's chunked local attention: a layer with rotary embeddings attends only within
    its chunk of ``attention_chunk_size`` tokens, so it keeps at most one chunk of keys and
    values (counted as a window of that size); the NoPE layers attend globally."""
    layers = v["layers"]
    listed = r.config.get("no_rope_layers")
    types = r.config.get("layer_types")
    if isinstance(types, list):
        local = _layer_types(r, layers, local_types=("chunked_attention",))
    elif isinstance(listed, list) and listed:
        if len(listed) != layers or any(x not in (0, 1) for x in listed):
            raise ConfigError(
                f"{r.where}: field 'no_rope_layers' must list 0 or 1 for each of the "
                f"{layers} layers; got {str(listed)[:80]}"
            )
        local = sum(listed)
    else:
        every = r.size_or(
            "no_rope_layer_interval",
            family.window.every,
            f"{family.window.every}, every {family.window.every}th layer global without rotary "
            f"embeddings, the others chunked (default of {family.transformers})",
        )
        local = sum(bool((i + 1) % every) for i in range(layers))
    if local and r.config.get("attention_chunk_size") is None:
        r.assumptions.append(
            "attention_chunk_size not given: full attention on every layer (default of "
            f"{family.transformers})"
        )
        local = 0
    if local:
        chunk = r.size("attention_chunk_size", "tokens per chunk of the local layers")
        r.notes.append(
            f"chunked attention on {local:,} of {layers:,} layers: each attends within its "
            f"chunk of {chunk:,} tokens, so it keeps at most one chunk (counted as a window "
            f"of {chunk:,})"
        )
    _window(r, v, features, local, key="attention_chunk_size")


def _mtp(r: _Reader, v: dict[str, int], key: str, counted: bool) -> None:
    """Multi-token-prediction modules: outside the main model's count; their own count
    (``mtp_params``) where their layout is DeepSeek's."""
    count = r.size_or(key, 0, "0, no multi-token-prediction module", minimum=0)
    if r.assumptions and r.assumptions[-1].startswith(f"{key} not given"):
        r.assumptions.pop()  # no module is the usual case: nothing to report
    if not count:
        return
    r.notes.append(
        f"{count} multi-token-prediction layer(s) ({key}) are not part of the main model "
        "and are not counted" + (" in it (mtp_params counts them apart)" if counted else "")
    )
    if counted:
        v["mtp_layers"] = count


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


def _indexer(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    """DeepSeek Sparse Attention: the lightning indexer's heads, width and top-k."""
    if "q_lora_rank" not in v:
        raise ConfigError(
            f"{r.where}: the indexer reads MLA's compressed query, so q_lora_rank must be a "
            "number, not null"
        )
    v["index_n_heads"] = r.size("index_n_heads", "heads of the lightning indexer")
    v["index_head_dim"] = r.size("index_head_dim", "width of an indexer head and its cached key")
    v["index_topk"] = r.size("index_topk", "cached tokens each query attends to")
    features.append("sparse_indexer")
    r.notes.append(
        f"sparse attention: each query attends to the top {v['index_topk']:,} tokens an indexer "
        f"of {v['index_n_heads']} x {v['index_head_dim']} picks; the indexer caches one "
        f"{v['index_head_dim']}-wide key per token and layer (index_kv_bytes)"
    )


def _chatglm(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    if not r.flag(
        "multi_query_attention", False, "default of the model's remote code (ChatGLMConfig)"
    ):
        v["n_kv_heads"] = v["n_heads"]
    r.refuse("rmsnorm", False, "LayerNorm with biases in place of RMSNorm is not counted")
    r.refuse("post_layer_norm", False, "a model without its final norm is not counted")


def _no_head_bias(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    r.refuse("lm_head_bias", True, "a bias on the output head is not counted")


def _stablelm(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    r.refuse("qk_layernorm", True, "per-head LayerNorms on q and k are not counted")
    r.refuse("use_parallel_residual", True, "one shared norm per layer is not counted")


# ----------------------------------------------------------------------------- hybrids
#: torch dtypes of a recurrent state as precision names
_STATE_DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}


def _state_precision(r: _Reader, v: dict[str, int], *keys: str) -> None:
    """The recurrent state's bytes per element from the config's cache dtype field (or the
    checkpoint's dtype, which is what vLLM keeps without one)."""
    from llmphys.precisions import PRECISIONS

    for key in keys:
        given = r.config.get(key)
        if given is None:
            continue
        name = _STATE_DTYPES.get(str(given))
        if name is None:
            raise ConfigError(
                f"{r.where}: field {key!r} must be float32, bfloat16 or float16; got "
                f"{str(given)[:40]!r}"
            )
        r.read.append(key)
        v["ssm_state_bytes"] = PRECISIONS[name]
        r.notes.append(f"recurrent state kept in {given} ({key})")
        return
    dtype = r.config.get("torch_dtype") or r.config.get("dtype") or "bfloat16"
    name = _STATE_DTYPES.get(str(dtype), "bf16")
    r.read.append("torch_dtype (no state dtype given)")
    v["ssm_state_bytes"] = PRECISIONS[name]
    r.assumptions.append(
        f"{keys[0]} not given: recurrent state kept at the checkpoint's precision ({name}), "
        "as vLLM does without it"
    )


def _recurrent(
    r: _Reader, v: dict[str, int], features: list[str], attention: int, rec: int
) -> None:
    if attention + rec > v["layers"]:
        raise ConfigError(
            f"{r.where}: {attention} attention and {rec} recurrent layers are more than "
            f"num_hidden_layers {v['layers']}"
        )
    if rec == 0:
        raise ConfigError(f"{r.where}: no layer is a recurrent (Mamba / linear-attention) layer")
    layout = list(r.read)
    v["attention_layers"] = attention
    r.read.extend(layout)
    v["ssm_layers"] = rec
    features.append("recurrent_state")


def _dt_rank(r: _Reader, v: dict[str, int], key: str) -> None:
    """A Mamba-1 layer's time-step rank: the field, or ceil(hidden / 16) for ``"auto"`` (as
    HF transformers derives it), reported."""
    rank = r.config.get(r.name_of(key), "auto")
    if rank == "auto":
        rank = -(-v["hidden"] // 16)
        r.assumptions.append(f"{key} 'auto': ceil(hidden_size / 16) = {rank}")
    v["dt_rank"] = r._check_int(key, rank, 1)


def _mamba_biases(r: _Reader, projections: str, convolution: str) -> None:
    """Refuse what a Mamba mixer's count leaves out: biases on its projections, a convolution
    without bias."""
    r.refuse(projections, True, "biases on the Mamba projections are not counted")
    r.refuse(convolution, False, "a convolution without bias is not counted")


def _mamba2_fields(r: _Reader, v: dict[str, int], heads: str, head_dim: str) -> None:
    v["ssm_heads"] = r.size(heads, "heads of a Mamba-2 layer")
    r.read.append(heads)
    v["ssm_inner"] = v["ssm_heads"] * r.size(head_dim, "width of a Mamba-2 head")
    v["ssm_groups"] = r.size("n_groups", "groups of a Mamba-2 layer's B and C")
    v["ssm_state_size"] = r.size("ssm_state_size", "state size per channel (d_state)")
    v["conv_kernel"] = r.size("conv_kernel", "width of the causal convolution")
    _mamba_biases(r, "mamba_proj_bias", "use_conv_bias")


#: Nemotron-H's expert fields: a shared expert of its own width, without a gate
_NEMOTRON_MOE = Moe(experts="n_routed_experts", shared_width="moe_shared_expert_intermediate_size",
                    shared_gate=False)  # fmt: skip


def _nemotron_h(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    """Nemotron-H: blocks of one mixer each, laid out by ``hybrid_override_pattern`` (M Mamba-2,
    * attention, - MLP, E MoE) or ``layers_block_type``."""
    pattern = r.config.get("hybrid_override_pattern")
    listed = r.config.get("layers_block_type") or r.config.get("layer_types")
    kinds = {"mamba": "M", "attention": "*", "full_attention": "*", "mlp": "-", "moe": "E"}
    if isinstance(pattern, str):
        blocks = pattern
        where = "hybrid_override_pattern"
    elif isinstance(listed, list) and all(isinstance(k, str) for k in listed):
        blocks = "".join(kinds.get(k, "?") for k in listed)
        where = "layers_block_type"
    else:
        raise ConfigError(
            f"{r.where}: missing field 'hybrid_override_pattern' (the block layout: M Mamba, "
            "* attention, - MLP, E MoE); it has no default, so llmphys does not guess it"
        )
    r.read.append(where)
    odd = sorted(set(blocks) - set("M*-E"))
    if odd or len(blocks) != v["layers"]:
        raise ConfigError(
            f"{r.where}: field {where!r} must give one of M, *, -, E for each of the "
            f"{v['layers']} blocks; got {str(pattern or listed)[:80]!r}"
        )
    _recurrent(r, v, features, blocks.count("*"), blocks.count("M"))
    _mamba2_fields(r, v, "mamba_num_heads", "mamba_head_dim")
    _state_precision(r, v, "mamba_ssm_cache_dtype")
    mlp, moe = blocks.count("-"), blocks.count("E")
    if moe:
        _experts(r, v, _NEMOTRON_MOE)
        _shared_experts(r, v, _NEMOTRON_MOE, features)
        r.read.append(where)
        v["moe_layers"] = moe
        features += ["moe", "router_bias"]
        r.notes.append(_CORRECTION)
        if mlp:
            r.read.append(where)
            v["dense_layers"] = mlp
            features.append("dense_layers")
        else:
            v.pop("intermediate_size", None)
    elif mlp:
        r.read.append(where)
        v["dense_layers"] = mlp
        features.append("mlp_blocks")
    else:
        v.pop("intermediate_size", None)
    r.notes.append(
        f"blocks ({where}): {blocks.count('M')} Mamba-2, {blocks.count('*')} attention, "
        f"{mlp} MLP, {moe} MoE; one norm each"
    )


def _deltanet(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    """Qwen3-Next / Qwen3.5: Gated DeltaNet layers, every ``full_attention_interval``-th layer
    gated full attention (or as ``layer_types`` lists)."""
    types = r.config.get("layer_types")
    layers = v["layers"]
    if isinstance(types, list):
        r.read.append("layer_types")
        if len(types) != layers or set(types) - {"linear_attention", "full_attention"}:
            raise ConfigError(
                f"{r.where}: field 'layer_types' must list 'linear_attention' or "
                f"'full_attention' for each of the {layers} layers; got {str(types)[:80]}"
            )
        full = types.count("full_attention")
    else:
        every = r.size_or(
            "full_attention_interval",
            4,
            "4, every 4th layer full attention (default of HF transformers Qwen3NextConfig)",
        )
        full = sum(not (i + 1) % every for i in range(layers))
    _recurrent(r, v, features, full, layers - full)
    v["linear_key_heads"] = r.size("linear_num_key_heads", "query/key heads of a DeltaNet layer")
    v["linear_value_heads"] = r.size("linear_num_value_heads", "value heads of a DeltaNet layer")
    v["linear_key_head_dim"] = r.size("linear_key_head_dim", "query/key width of a DeltaNet head")
    v["linear_value_head_dim"] = r.size("linear_value_head_dim", "value width of a DeltaNet head")
    v["conv_kernel"] = r.size("linear_conv_kernel_dim", "width of the causal convolution")
    features.append("gated_deltanet")
    _state_precision(r, v, "mamba_ssm_dtype", "mamba_ssm_cache_dtype")
    r.notes.append(
        f"{layers - full} Gated DeltaNet layers, {full} gated full-attention layers (output gate, "
        "q/k norms)"
    )


def _jamba(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    """Jamba: Mamba-1 layers, attention every ``attn_layer_period``-th (from its offset)."""
    period = r.size_or("attn_layer_period", 8, "8 (default of HF transformers JambaConfig)")
    offset = r.size_or(
        "attn_layer_offset", 4, "4 (default of HF transformers JambaConfig)", minimum=0
    )
    attention = sum(i % period == offset for i in range(v["layers"]))
    r.read.clear()
    r.read += ["attn_layer_period", "attn_layer_offset"]
    _recurrent(r, v, features, attention, v["layers"] - attention)
    v["ssm_state_size"] = r.size("mamba_d_state", "state size per channel (d_state)")
    v["conv_kernel"] = r.size("mamba_d_conv", "width of the causal convolution")
    v["ssm_inner"] = r.size("mamba_expand", "inner width over hidden_size") * v["hidden"]
    _dt_rank(r, v, "mamba_dt_rank")
    _mamba_biases(r, "mamba_proj_bias", "mamba_conv_bias")
    features += ["mamba1", "mamba_inner_norms"]
    _state_precision(r, v, "mamba_ssm_cache_dtype")


def _mamba(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    """Mamba (Mamba-1): every block a norm and a selective-scan mixer."""
    v["ssm_inner"] = r.size("intermediate_size", "inner width of a Mamba layer (d_inner)")
    v["ssm_state_size"] = r.size("state_size", "state size per channel (d_state)")
    v["conv_kernel"] = r.size("conv_kernel", "width of the causal convolution")
    _dt_rank(r, v, "time_step_rank")
    _mamba_biases(r, "use_bias", "use_conv_bias")
    features += ["mamba1"]
    _attention_free(r, v, features)


def _mamba2(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    """Mamba-2: every block a norm and an SSD mixer of num_heads x head_dim."""
    _mamba2_fields(r, v, "num_heads", "head_dim")
    r.refuse("use_bias", True, "biases on the Mamba projections are not counted")
    expand = r.config.get("expand")
    if (
        isinstance(expand, int)
        and not isinstance(expand, bool)
        and (expand * v["hidden"] != v["ssm_inner"])
    ):
        raise ConfigError(
            f"{r.where}: num_heads x head_dim = {v['ssm_inner']:,} is not expand x hidden_size "
            f"= {expand * v['hidden']:,}"
        )
    _attention_free(r, v, features)


def _attention_free(r: _Reader, v: dict[str, int], features: list[str]) -> None:
    r.read.append(r.name_of("num_hidden_layers"))
    v["attention_layers"] = 0
    r.read.append(r.name_of("num_hidden_layers"))
    v["ssm_layers"] = v["layers"]
    features += ["recurrent_state", "attention_free"]
    _state_precision(r, v, "mamba_ssm_cache_dtype")
    r.notes.append(
        f"attention-free: {v['layers']} blocks of one norm and one recurrent mixer; no KV "
        "cache, no feed-forward block"
    )


# ----------------------------------------------------------------------------- declarations
def _remote(cls: str) -> dict[str, str]:
    """A family whose config class ships with the checkpoint (``trust_remote_code``)."""
    return {"cls": cls, "defaults": f"the model's remote code ({cls})"}


#: multi-token-prediction modules laid out as DeepSeek-V3's (counted apart by mtp_params)
_MTP = {"mtp": "num_nextn_predict_layers", "mtp_counted": True}
_DEEPSEEK_MOE = Moe(experts="n_routed_experts", shared="n_shared_experts", layout="first_k")
#: DeepSeek-V3's experts, with a score-correction bias per routed expert
_SCORED_MOE = Moe(**{**_DEEPSEEK_MOE.__dict__, "router_bias": True})
_CORRECTION = (
    "router: one e_score_correction_bias per routed expert (counted: the checkpoint stores it)"
)
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
    made = [
        f"model_type {model_type!r} is not a declared family: read by its fields as a "
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
