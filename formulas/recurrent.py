"""Hybrid models: recurrent layers (Mamba, Gated DeltaNet) beside attention layers, and their
weights.

A recurrent layer (a Mamba / state-space layer, or a Gated DeltaNet linear-attention layer)
carries a fixed-size *state* per sequence from token to token instead of a KV cache: its size
does not depend on the context.  Only the attention layers of a hybrid model keep a KV cache.
What changes, by formula:

* parameters: each recurrent layer's mixer (Mamba-2 by default; Mamba-1 and Gated DeltaNet are
  variants), attention only in the attention layers (``param_count_hybrid``, here);
* memory: the KV cache of the attention layers plus the state of every recurrent layer for
  each sequence (``kv_cache_bytes_hybrid``); the context becomes nearly free, the batch is
  what the state bounds;
* bandwidth: each decoded token reads and writes its sequence's whole state
  (``state_traffic``);
* compute: the projections are in the active parameters (2 FLOP each); the recurrence itself
  updates and reads the state once per token (``recurrent_flops``).

The state, its traffic and the recurrence's FLOPs are in :mod:`llmphys.recurrent_state`; a
hybrid model's per-GPU memory and traffic under a parallel layout in
:mod:`llmphys.recurrent_layouts`; models with no attention at all (Mamba, Mamba-2) in
:mod:`llmphys.attention_free`.

State shapes follow the engines that serve these models (vLLM ``MambaStateShapeCalculator``):
the convolution keeps the last K - 1 inputs of its channels; Mamba-1 and Mamba-2 keep d_in x N
state values (Mamba-2: heads x head_dim x N); Gated DeltaNet keeps one d_k x d_v matrix per
value head.  HF transformers allocates the convolution state K wide, one column more.

Sources: Mamba (Gu & Dao, arXiv:2312.00752), Mamba-2 / SSD (Dao & Gu, arXiv:2405.21060),
Gated DeltaNet (Yang et al., arXiv:2412.06464); tensor shapes of HF transformers 5.25
``MambaMixer``, ``Mamba2Mixer``, ``NemotronHMamba2Mixer``, ``Qwen3NextGatedDeltaNet``,
``JambaMambaMixer``.
"""

from __future__ import annotations

from llmphys import param_counts  # noqa: F401  (the parts used below)
from llmphys.engine import formula

__all__ = [
    "attention_params_gated",
    "ffn_stack_params_blocks",
    "param_count_hybrid",
    "ssm_params",
    "ssm_params_deltanet",
    "ssm_params_mamba1",
    "ssm_params_mamba1_normed",
]

#: sources, shared by the recurrent modules
MAMBA2 = "Mamba-2 (arXiv:2405.21060); HF transformers Mamba2Mixer / NemotronHMamba2Mixer"
MAMBA1 = "Mamba (arXiv:2312.00752); HF transformers MambaMixer"
GATED_DELTANET = "Gated DeltaNet (arXiv:2412.06464); HF transformers Qwen3NextGatedDeltaNet"
VLLM_STATE = "vLLM MambaStateShapeCalculator (conv state K - 1 wide)"


# ----------------------------------------------------------------------------- parameters
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}",
    source=f"{MAMBA2} (in_proj, conv1d with bias, dt_bias, A_log, D, gated norm, out_proj)",
)
def ssm_params(hidden, ssm_inner, ssm_groups, ssm_state_size, ssm_heads, conv_kernel):
    """Weights of one Mamba-2 mixer.

    Notes
    -----
    - in_proj: d x (2 d_in + 2 G N + H_s): the gate z, the input x, B and C, one time step per
      head.
    - conv1d over the d_in + 2 G N channels of x, B and C: K weights and a bias each.
    - Per head: a time-step bias, a decay (A_log) and a skip (D); a gated RMSNorm of d_in;
      out_proj: d_in x d.
    - Mamba-Codestral-7B: 109,635,968 per layer.

    Examples
    --------
    >>> q = ssm_params(hidden=4096, ssm_inner=8192, ssm_groups=8, ssm_state_size=128,
    ...                ssm_heads=128, conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    109,635,968 param
    """
    channels = ssm_inner + 2 * ssm_groups * ssm_state_size
    return (
        hidden * (ssm_inner + channels + ssm_heads)
        + channels * (conv_kernel + 1)
        + 3 * ssm_heads
        + ssm_inner
        + ssm_inner * hidden
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}^{\mathrm{M1}}",
    source=f"{MAMBA1} (in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj)",
    replaces="ssm_params",
    feature="mamba1",
)
def ssm_params_mamba1(hidden, ssm_inner, ssm_state_size, dt_rank, conv_kernel):
    """Weights of one Mamba-1 mixer.

    Notes
    -----
    - in_proj: d x 2 d_in (input and gate); conv1d: K weights and a bias per channel.
    - x_proj: d_in x (R + 2 N) (time step rank, B, C); dt_proj: R x d_in with a bias.
    - A_log: d_in x N; D: d_in; out_proj: d_in x d.
    - mamba-2.8b: 41,241,600 per layer.

    Examples
    --------
    >>> q = ssm_params_mamba1(hidden=2560, ssm_inner=5120, ssm_state_size=16, dt_rank=160,
    ...                       conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    41,241,600 param
    """
    return (
        2 * hidden * ssm_inner
        + ssm_inner * (conv_kernel + 1)
        + ssm_inner * (dt_rank + 2 * ssm_state_size)
        + dt_rank * ssm_inner
        + ssm_inner
        + ssm_inner * ssm_state_size
        + ssm_inner
        + ssm_inner * hidden
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}^{\mathrm{M1,n}}",
    source="HF transformers JambaMambaMixer (dt_layernorm, b_layernorm, c_layernorm)",
    replaces="ssm_params_mamba1",
    feature="mamba_inner_norms",
)
def ssm_params_mamba1_normed(ssm_params_mamba1, dt_rank, ssm_state_size):
    """Weights of one Jamba Mamba mixer: Mamba-1 plus RMSNorms on the time step (R), B and C
    (N each).

    Examples
    --------
    >>> q = ssm_params_mamba1_normed(hidden=4096, ssm_inner=8192, ssm_state_size=16,
    ...                              dt_rank=256, conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    105,308,448 param
    """
    return ssm_params_mamba1 + dt_rank + 2 * ssm_state_size


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}^{\mathrm{GDN}}",
    source=f"{GATED_DELTANET} (in_proj_qkvz, in_proj_ba, conv1d, dt_bias, A_log, norm, out_proj)",
    replaces="ssm_params",
    feature="gated_deltanet",
)
def ssm_params_deltanet(
    hidden,
    linear_key_heads,
    linear_key_head_dim,
    linear_value_heads,
    linear_value_head_dim,
    conv_kernel,
):
    """Weights of one Gated DeltaNet (linear-attention) mixer.

    Notes
    -----
    - Projections from d: queries and keys (H_k d_k each), values and the output gate
      (H_v d_v each), and per value head a write strength (beta) and a decay (a).
    - A bias-free conv1d over the queries, keys and values (K weights per channel).
    - Per value head a time-step bias and a decay (A_log); a gated RMSNorm of d_v;
      out_proj: H_v d_v x d.
    - Qwen3-Next-80B-A3B: 33,718,464 per layer.

    Examples
    --------
    >>> q = ssm_params_deltanet(hidden=2048, linear_key_heads=16, linear_key_head_dim=128,
    ...       linear_value_heads=32, linear_value_head_dim=128, conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    33,718,464 param
    """
    keys = linear_key_heads * linear_key_head_dim
    values = linear_value_heads * linear_value_head_dim
    return (
        hidden * (2 * keys + 2 * values + 2 * linear_value_heads)
        + (2 * keys + values) * conv_kernel
        + 2 * linear_value_heads
        + linear_value_head_dim
        + values * hidden
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}^{\mathrm{gate}}",
    source="HF transformers Qwen3NextAttention (q_proj 2 n_h d_h wide: queries and an output "
    "gate; q_norm and k_norm of head_dim)",
    replaces="attention_params",
    feature="gated_attention",
)
def attention_params_gated(attention_params, hidden, n_heads, head_dim):
    """Attention weights of one gated attention layer (Qwen3-Next, Qwen3.5): the q projection
    also produces a sigmoid gate on the output (n_h d_h more), and q and k are normalized per
    head (d_h each).

    Examples
    --------
    >>> q = attention_params_gated(hidden=2048, n_heads=16, n_kv_heads=2, head_dim=256)
    >>> print(f"{q:,.0f~P}")
    27,263,488 param
    """
    return attention_params + hidden * n_heads * head_dim + 2 * head_dim


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN,all}}^{\mathrm{blocks}}",
    source="HF transformers NemotronHBlock (a block is one of Mamba, attention, MLP or MoE: "
    "hybrid_override_pattern M, *, -, E)",
    replaces="ffn_stack_params",
    feature="mlp_blocks",
)
def ffn_stack_params_blocks(dense_layers, ffn_params):
    """Feed-forward weights of a model whose blocks hold one mixer each: only the MLP blocks
    (L_dense of them) have a feed-forward block.

    Examples
    --------
    >>> q = ffn_stack_params_blocks(dense_layers=24, hidden=4096, intermediate_size=21504)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    6.342 Gparam
    """
    return dense_layers * ffn_params


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{arch}}^{\mathrm{hyb}}",
    source="hybrid layouts of HF transformers NemotronH, Qwen3Next, Jamba: attention in "
    "L_attn layers, a recurrent mixer in L_rec, norms and feed-forward blocks as the family "
    "places them",
    replaces="param_count",
    feature="recurrent_state",
)
def param_count_hybrid(
    embedding_matrices,
    embedding_params,
    attention_layers,
    attention_params,
    ssm_layers,
    ssm_params,
    layers,
    layer_norm_params,
    ffn_stack_params,
    final_norm_params,
):
    """Total parameters of a hybrid model: embeddings, attention in the attention layers, a
    recurrent mixer in the recurrent layers, every layer's norms, the feed-forward blocks and
    the final norm.

    Notes
    -----
    - Replaces ``param_count``.  In Nemotron-H a "layer" is a block with one mixer (Mamba,
      attention, MLP or MoE) and one norm; in Qwen3-Next and Jamba each layer has a mixer
      (attention or recurrent) and a feed-forward block.

    Examples
    --------
    >>> q = param_count_hybrid(embedding_matrices=2, vocab_size=65536, hidden=4096,
    ...       attention_layers=4, n_heads=32, n_kv_heads=8, head_dim=128, ssm_layers=28,
    ...       ssm_inner=8192, ssm_groups=1, ssm_state_size=16, ssm_heads=128, conv_kernel=4,
    ...       layers=32, norms_per_layer=2, intermediate_size=14336)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    9.18 Gparam
    """
    return (
        embedding_matrices * embedding_params
        + attention_layers * attention_params
        + ssm_layers * ssm_params
        + layers * layer_norm_params
        + ffn_stack_params
        + final_norm_params
    )
