"""Attention-free models: state-space models whose every block is a norm and a recurrent
mixer (Mamba, Mamba-2), with no attention and no KV cache.

Each formula replaces its hybrid counterpart (:mod:`llmphys.recurrent`,
:mod:`llmphys.recurrent_state`, :mod:`llmphys.recurrent_layouts`) under the feature
``attention_free``: no attention layer, no feed-forward block (the mixer's gated projections do
that work), a cache that is each sequence's state whatever its length.
"""

from __future__ import annotations

from llmphys import (  # noqa: F401  (the parts used below)
    latency,
    memory,
    parallel,
    param_counts,
    recurrent,
    recurrent_layouts,
    recurrent_state,
)
from llmphys.engine import formula
from llmphys.recurrent import MAMBA1, MAMBA2, VLLM_STATE
from llmphys.recurrent_layouts import TP_MAMBA

__all__ = [
    "active_params_per_gpu_ssm",
    "attention_flops_ssm",
    "kv_cache_bytes_ssm",
    "kv_cache_per_gpu_ssm",
    "kv_traffic_per_gpu_ssm",
    "kv_traffic_ssm",
    "layer_params_per_gpu_ssm",
    "param_count_ssm",
    "params_per_gpu_ssm",
    "prefill_bytes_ssm",
]


# ----------------------------------------------------------------------------- attention-free
@formula(
    unit="parameter",
    latex=r"N_{\mathrm{arch}}^{\mathrm{SSM}}",
    source=f"{MAMBA1}; {MAMBA2} (a block: one norm and one mixer; no attention, no MLP)",
    replaces="param_count_hybrid",
    feature="attention_free",
)
def param_count_ssm(
    embedding_matrices,
    embedding_params,
    ssm_layers,
    ssm_params,
    layers,
    layer_norm_params,
    final_norm_params,
):
    """Total parameters of an attention-free state-space model (Mamba, Mamba-2): embeddings,
    each block's norm and recurrent mixer, and the final norm.

    Notes
    -----
    - Replaces ``param_count_hybrid``: no attention layer, and no feed-forward block (the
      mixer's gated projections do that work).
    - mamba-2.8b: 2,768,345,600 (tied head); Mamba-Codestral-7B: 7,285,403,648.

    Examples
    --------
    >>> q = param_count_ssm(embedding_matrices=2, vocab_size=32768, hidden=4096,
    ...       ssm_layers=64, ssm_inner=8192, ssm_groups=8, ssm_state_size=128, ssm_heads=128,
    ...       conv_kernel=4, layers=64, norms_per_layer=1)
    >>> print(f"{q:,.0f~P}")
    7,285,403,648 param
    """
    return (
        embedding_matrices * embedding_params
        + ssm_layers * ssm_params
        + layers * layer_norm_params
        + final_norm_params
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{state}}^{\mathrm{all}}",
    source=f"{VLLM_STATE}: an attention-free model keeps only its recurrent state",
    replaces="kv_cache_bytes_hybrid",
    feature="attention_free",
)
def kv_cache_bytes_ssm(batch, state_bytes_per_sequence):
    """Cache of an attention-free model: each sequence's recurrent state, whatever its length
    (no token is cached).

    Examples
    --------
    >>> q = kv_cache_bytes_ssm(batch=8, ssm_layers=64, ssm_inner=8192, ssm_state_size=128,
    ...       ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4, act_bytes="bf16")
    >>> print(f"{q.to('GB'):.4g~P}")
    2.179 GB
    """
    return batch * state_bytes_per_sequence


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV}}^{\mathrm{SSM}}",
    source=f"{MAMBA2} (each step reads and updates the whole state)",
    replaces="kv_traffic_hybrid",
    feature="attention_free",
)
def kv_traffic_ssm(state_traffic):
    """Cache bytes moved per decoded token of an attention-free model: its state, read and
    written back, and nothing that grows with the context.

    Examples
    --------
    >>> print(kv_traffic_ssm(state_traffic=137e6).to("MB/token"))
    137.0 MB/tok
    """
    return state_traffic


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{mix}}^{\mathrm{SSM}}",
    source=f"{MAMBA2} (the recurrence replaces attention in every layer)",
    replaces="attention_flops_hybrid",
    feature="attention_free",
)
def attention_flops_ssm(recurrent_flops):
    """Sequence-mixing FLOPs of an attention-free model: the recurrences alone, linear in the
    tokens.

    Examples
    --------
    >>> q = attention_flops_ssm(ssm_layers=64, query_tokens=1, ssm_inner=8192,
    ...                         ssm_state_size=128)
    >>> print(f"{q.to('MFLOP'):.4g~P}")
    268.4 MFLOP
    """
    return recurrent_flops


@formula(
    unit="byte",
    latex=r"D_{\mathrm{prefill}}^{\mathrm{SSM}}",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009); an attention-free model "
    "writes each prompt's state once",
    replaces="prefill_bytes",
    feature="attention_free",
)
def prefill_bytes_ssm(weight_bytes, batch, state_bytes_per_sequence):
    """HBM bytes one prefill step of an attention-free model moves: the weights once and each
    prompt's final state (no KV cache, no attention scores).

    Examples
    --------
    >>> q = prefill_bytes_ssm(params=7.3e9, bytes_per_param="bf16", batch=1, ssm_layers=64,
    ...       ssm_inner=8192, ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8,
    ...       conv_kernel=4, act_bytes="bf16")
    >>> print(f"{q.to('GB'):.4g~P}")
    14.87 GB
    """
    return weight_bytes + batch * state_bytes_per_sequence


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{layers,GPU}}^{\mathrm{SSM}}",
    source=TP_MAMBA,
    replaces="layer_params_per_gpu_hybrid",
    feature="attention_free",
)
def layer_params_per_gpu_ssm(layers_per_stage, ssm_params, tp, layer_norm_params):
    """Mixer and norm weights one GPU holds for its stage's blocks of an attention-free model:
    the mixers split by heads over n_TP, the norms replicated.

    Examples
    --------
    >>> q = layer_params_per_gpu_ssm(layers=64, pp=1, hidden=4096, ssm_inner=8192,
    ...       ssm_groups=8, ssm_state_size=128, ssm_heads=128, conv_kernel=4,
    ...       norms_per_layer=1, tp=2)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    3.509 Gparam
    """
    return layers_per_stage * (ssm_params / tp + layer_norm_params)


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{GPU}}^{\mathrm{SSM}}",
    source=f"{TP_MAMBA}; Megatron-LM (vocabulary-parallel embeddings)",
    replaces="params_per_gpu",
    feature="attention_free",
)
def params_per_gpu_ssm(embedding_params_per_gpu, layer_params_per_gpu_ssm, final_norm_params):
    """Parameters one GPU of an attention-free model holds: its share of the embeddings, its
    stage's blocks, the final norm (no feed-forward blocks).

    Examples
    --------
    >>> q = params_per_gpu_ssm(embedding_matrices=2, vocab_size=32768, hidden=4096,
    ...       layers=64, ssm_inner=8192, ssm_groups=8, ssm_state_size=128, ssm_heads=128,
    ...       conv_kernel=4, norms_per_layer=1, tp=1, pp=1)
    >>> print(f"{q:,.0f~P}")
    7,285,403,648 param
    """
    return embedding_params_per_gpu + layer_params_per_gpu_ssm + final_norm_params


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{a,GPU}}^{\mathrm{SSM}}",
    source=f"{TP_MAMBA}; Megatron-LM (vocabulary-parallel output head)",
    replaces="active_params_per_gpu",
    feature="attention_free",
)
def active_params_per_gpu_ssm(embedding_params, tp, layer_params_per_gpu_ssm, final_norm_params):
    """Parameters one GPU of an attention-free model multiplies with per token: its share of
    the output head, its stage's blocks, the final norm.

    Examples
    --------
    >>> q = active_params_per_gpu_ssm(vocab_size=32768, hidden=4096, layers=64,
    ...       ssm_inner=8192, ssm_groups=8, ssm_state_size=128, ssm_heads=128, conv_kernel=4,
    ...       norms_per_layer=1, tp=1, pp=1)
    >>> print(f"{q:,.0f~P}")
    7,151,185,920 param
    """
    return embedding_params / tp + layer_params_per_gpu_ssm + final_norm_params


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV,GPU}}^{\mathrm{SSM}}",
    source=f"{TP_MAMBA}; {VLLM_STATE}",
    replaces="kv_cache_per_gpu_hybrid",
    feature="attention_free",
)
def kv_cache_per_gpu_ssm(
    batch, attention_groups, state_bytes_per_sequence, tp, layers_per_stage, layers
):
    """Cache bytes one GPU of an attention-free model holds: its share (1 / n_TP, by heads) of
    its sequences' state, for its stage's share of the blocks.

    Examples
    --------
    >>> q = kv_cache_per_gpu_ssm(batch=8, ssm_layers=64, ssm_inner=8192, ssm_state_size=128,
    ...       ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4, act_bytes="bf16", tp=2,
    ...       ep=1, pp=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    1.089 GB
    """
    return batch / attention_groups * state_bytes_per_sequence / tp * layers_per_stage / layers


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,GPU}}^{\mathrm{SSM}}",
    source=f"{TP_MAMBA}; {VLLM_STATE}",
    replaces="kv_traffic_per_gpu_hybrid",
    feature="attention_free",
)
def kv_traffic_per_gpu_ssm(state_traffic, tp, layers_per_stage, layers):
    """Cache bytes one GPU of an attention-free model moves per decoded token of a sequence:
    its share of the state, read and written, for its stage's share of the blocks.

    Examples
    --------
    >>> q = kv_traffic_per_gpu_ssm(ssm_layers=64, ssm_inner=8192, ssm_state_size=128,
    ...       ssm_state_bytes="bf16", ssm_groups=8, conv_kernel=4, act_bytes="bf16", tp=2, pp=1)
    >>> print(f"{q.to('MB/token'):.4g~P}")
    138.1 MB/tok
    """
    return state_traffic / tp * layers_per_stage / layers
