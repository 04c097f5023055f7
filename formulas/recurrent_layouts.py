"""Hybrid layouts: a hybrid model's weights, cache and cache traffic per GPU under tensor,
pipeline and expert parallelism.

The attention layers split by heads as in :mod:`llmphys.parallel`; the recurrent mixers split
by heads over n_TP too (vLLM ``MambaMixer2`` and ``GatedDeltaNet``), their projections,
convolution and state with them.  At n_TP = n_PP = n_EP = 1 these are the architecture's
counts of :mod:`llmphys.recurrent` and :mod:`llmphys.recurrent_state`, exactly.
"""

from __future__ import annotations

from llmphys import (  # noqa: F401  (the parts used below)
    bandwidth,
    memory,
    parallel,
    parallel_time,
    param_counts,
    recurrent,
    recurrent_state,
)
from llmphys.engine import formula
from llmphys.recurrent import VLLM_STATE

__all__ = [
    "kv_cache_per_gpu_hybrid",
    "kv_traffic_per_gpu_hybrid",
    "layer_params_per_gpu_hybrid",
]

#: the source of the per-GPU split of a recurrent layer
TP_MAMBA = (
    "vLLM MambaMixer2 / GatedDeltaNet under tensor parallelism: projections, convolution and "
    "state split by heads over n_TP"
)


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{layers,GPU}}^{\mathrm{hyb}}",
    source=f"{TP_MAMBA}; Megatron-LM tensor parallelism (attention)",
    replaces="layer_params_per_gpu",
    feature="recurrent_state",
)
def layer_params_per_gpu_hybrid(
    layers_per_stage,
    layers,
    attention_layers,
    attention_params_per_gpu,
    ssm_layers,
    ssm_params,
    tp,
    layer_norm_params,
):
    """Mixer and norm weights one GPU holds for its stage's layers of a hybrid model: its
    share of the attention layers (split by heads) and of the recurrent layers, whose mixers
    are split by heads over n_TP too (their small per-head vectors and norm with them), and
    the norms, replicated.

    Notes
    -----
    - Replaces ``layer_params_per_gpu`` in ``params_per_gpu`` and ``active_params_per_gpu``:
      at n_TP = n_PP = n_EP = 1 they are the architecture's counts, exactly.

    Examples
    --------
    >>> q = layer_params_per_gpu_hybrid(layers=52, attention_layers=6, hidden=2688,
    ...       n_heads=32, n_kv_heads=2, head_dim=128, ssm_layers=23, ssm_inner=4096,
    ...       ssm_groups=8, ssm_state_size=128, ssm_heads=64, conv_kernel=4, norms_per_layer=1,
    ...       tp=2, pp=1)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    0.5159 Gparam
    """
    return (
        layers_per_stage
        / layers
        * (
            attention_layers * attention_params_per_gpu
            + ssm_layers * ssm_params / tp
            + layers * layer_norm_params
        )
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV,GPU}}^{\mathrm{hyb}}",
    source=f"{TP_MAMBA}; {VLLM_STATE}",
    replaces="kv_cache_per_gpu",
    feature="recurrent_state",
)
def kv_cache_per_gpu_hybrid(
    kv_cache_bytes,
    attention_layers,
    kv_heads_per_gpu,
    batch,
    attention_groups,
    state_bytes_per_sequence,
    tp,
    layers_per_stage,
    layers,
):
    """Cache bytes one GPU of a hybrid model holds: the KV of its KV heads in the attention
    layers, and its share (1 / n_TP, by heads) of the recurrent state, for its attention
    group's sequences and its stage's share of the layers.

    Examples
    --------
    >>> q = kv_cache_per_gpu_hybrid(attention_layers=6, n_kv_heads=2, head_dim=128,
    ...       kv_bytes="bf16", seq_len=131072, batch=8, ssm_layers=23, ssm_inner=4096,
    ...       ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4,
    ...       act_bytes="bf16", tp=2, ep=1, pp=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    3.418 GB
    """
    sequences = batch / attention_groups
    return (
        (
            kv_cache_bytes.at(layers=attention_layers, n_kv_heads=kv_heads_per_gpu, batch=sequences)
            + sequences * state_bytes_per_sequence / tp
        )
        * layers_per_stage
        / layers
    )


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,GPU}}^{\mathrm{hyb}}",
    source=f"{TP_MAMBA}; {VLLM_STATE}",
    replaces="kv_traffic_per_gpu",
    feature="recurrent_state",
)
def kv_traffic_per_gpu_hybrid(
    kv_traffic, attention_layers, kv_heads_per_gpu, state_traffic, tp, layers_per_stage, layers
):
    """Cache bytes one GPU of a hybrid model moves per decoded token of a sequence: the KV
    traffic of its KV heads in the attention layers and its share of the recurrent state read
    and written, for its stage's share of the layers.

    Examples
    --------
    >>> q = kv_traffic_per_gpu_hybrid(attention_layers=6, n_kv_heads=2, head_dim=128,
    ...       kv_bytes="bf16", prompt_len=10000, new_tokens=0, ssm_layers=23, ssm_inner=4096,
    ...       ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4,
    ...       act_bytes="bf16", tp=2, pp=1)
    >>> print(f"{q.to('MB/token'):.4g~P}")
    79.81 MB/tok
    """
    return (
        (kv_traffic.at(layers=attention_layers, n_kv_heads=kv_heads_per_gpu) + state_traffic / tp)
        * layers_per_stage
        / layers
    )
