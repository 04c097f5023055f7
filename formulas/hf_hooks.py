"""Family hooks: what only one family reads, after :func:`~llmphys.hf_family_reader.read_family`
has read what every family declares.

A hook takes the reader, the values read so far and the features, and adds to them or refuses
what the count would leave out: gpt-oss's sinks, DeepSeek Sparse Attention's indexer, ChatGLM,
Phi-3 and StableLM; and the hybrid and attention-free families, whose recurrent layers
(Mamba-1, Mamba-2, Gated DeltaNet) and their layout the declaration cannot say: Nemotron-H,
Qwen3-Next and Qwen3.5, Jamba, Mamba and Mamba-2.
"""

from __future__ import annotations

from collections.abc import Mapping

from llmphys.errors import ConfigError
from llmphys.hf_family_reader import Moe, _experts, _shared_experts
from llmphys.hf_reader import _Reader


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


#: a note for the families whose router stores a score-correction bias per expert
_CORRECTION = (
    "router: one e_score_correction_bias per routed expert (counted: the checkpoint stores it)"
)

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
        # beside MoE blocks the MLP blocks are the dense layers; without them, the only MLPs
        features.append("dense_layers" if moe else "mlp_blocks")
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
