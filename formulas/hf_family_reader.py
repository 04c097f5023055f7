"""Reading a family's declaration: :func:`read_family` reads every field a :class:`Family`
declares from a Hugging Face config, the same way for every family.

The core sizes, the attention heads or MLA's widths, the q/k norms, the dense or
mixture-of-experts feed-forward blocks (:class:`Moe`: the field spellings and the layer
layout), the norms, tied embeddings, biases, the sliding-window or chunked layout
(:class:`Window`) and the multi-token-prediction modules; then the family's ``hook`` for what
only it does (:mod:`llmphys.hf_hooks`).  The declarations are in :mod:`llmphys.hf_families`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmphys.errors import ConfigError
from llmphys.hf_reader import (
    _core,
    _heads,
    _layer_types,
    _pattern,
    _Reader,
    _tie,
    _window,
)

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.hf_families import Family

__all__ = ["Moe", "Window", "read_family"]


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
